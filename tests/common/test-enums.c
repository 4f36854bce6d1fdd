/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "vigil-enums.h"

static void
test_enums_roundtrip(void)
{
	for (guint i = 0; i < VIGIL_ACTION_LAST; i++)
		g_assert_cmpint(vigil_action_from_string(vigil_action_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_DIRECTION_LAST; i++)
		g_assert_cmpint(vigil_direction_from_string(vigil_direction_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_LIFETIME_LAST; i++)
		g_assert_cmpint(vigil_lifetime_from_string(vigil_lifetime_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_ORIGIN_LAST; i++)
		g_assert_cmpint(vigil_origin_from_string(vigil_origin_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_MODE_LAST; i++)
		g_assert_cmpint(vigil_mode_from_string(vigil_mode_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_REASON_LAST; i++)
		g_assert_cmpint(vigil_reason_from_string(vigil_reason_to_string(i)), ==, i);
	for (guint i = 0; i < VIGIL_CONNECTIVITY_LAST; i++)
		g_assert_cmpint(vigil_connectivity_from_string(vigil_connectivity_to_string(i)),
				==,
				i);
}

static void
test_enums_unknown(void)
{
	g_assert_cmpint(vigil_action_from_string("permit"), ==, VIGIL_ACTION_LAST);
	g_assert_cmpint(vigil_action_from_string(NULL), ==, VIGIL_ACTION_LAST);
	g_assert_cmpint(vigil_mode_from_string("Ask"), ==, VIGIL_MODE_LAST);
	g_assert_cmpint(vigil_mode_from_string("block-all"), ==, VIGIL_MODE_BLOCK_ALL);
	g_assert_null(vigil_action_to_string(VIGIL_ACTION_LAST));
	g_assert_null(vigil_mode_to_string(42));
	g_assert_cmpint(vigil_connectivity_from_string("dns-broken"),
			==,
			VIGIL_CONNECTIVITY_DNS_BROKEN);
	g_assert_cmpint(vigil_connectivity_from_string("online"), ==, VIGIL_CONNECTIVITY_LAST);
}

static void
test_enums_protocol(void)
{
	g_assert_cmpint(vigil_protocol_from_string("tcp"), ==, 6);
	g_assert_cmpint(vigil_protocol_from_string("UDP"), ==, 17);
	g_assert_cmpint(vigil_protocol_from_string("icmpv6"), ==, 58);
	g_assert_cmpint(vigil_protocol_from_string("any"), ==, 0);
	g_assert_cmpint(vigil_protocol_from_string("gre"), ==, -1);
	g_assert_cmpint(vigil_protocol_from_string(NULL), ==, -1);
	g_assert_cmpstr(vigil_protocol_to_string(17), ==, "udp");
	g_assert_null(vigil_protocol_to_string(47));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/common/enums/roundtrip", test_enums_roundtrip);
	g_test_add_func("/vigil/common/enums/unknown", test_enums_unknown);
	g_test_add_func("/vigil/common/enums/protocol", test_enums_protocol);
	return g_test_run();
}
