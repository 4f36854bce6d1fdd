/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "vigil-interface-rank.h"

/* an eligible uplink: up, carrier, address and default route with @metric */
static VigilRankEntry
uplink(guint ifindex, const gchar *name, guint32 metric)
{
	VigilRankEntry entry = {0};

	entry.ifindex = ifindex;
	entry.name = name;
	entry.up = TRUE;
	entry.carrier = TRUE;
	entry.has_address = TRUE;
	entry.has_default_route = TRUE;
	entry.metric = metric;
	entry.preferred_index = -1;
	entry.rtt_usec = -1;
	return entry;
}

static gboolean
has_reason(const VigilRankEntry *entry, const gchar *reason)
{
	for (guint i = 0; i < entry->reasons->len; i++) {
		if (g_strcmp0(g_ptr_array_index(entry->reasons, i), reason) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
assert_reason(const VigilRankEntry *entry, const gchar *reason)
{
	if (has_reason(entry, reason))
		return;
	for (guint i = 0; i < entry->reasons->len; i++)
		g_printerr("%s: %s\n",
			   entry->name,
			   (const gchar *)g_ptr_array_index(entry->reasons, i));
	g_error("%s lacks the reason '%s'", entry->name, reason);
}

static void
clear_entries(VigilRankEntry *entries, guint n)
{
	for (guint i = 0; i < n; i++)
		vigil_rank_entry_clear(&entries[i]);
}

static void
test_rank_eligibility_func(void)
{
	VigilRankEntry entries[6];

	entries[0] = uplink(1, "lo", 0);
	entries[0].loopback = TRUE;
	entries[1] = uplink(2, "eth0", 100);
	entries[1].up = FALSE;
	entries[1].carrier = FALSE;
	entries[2] = uplink(3, "eth1", 100);
	entries[2].carrier = FALSE;
	entries[3] = uplink(4, "eth2", 100);
	entries[3].has_address = FALSE;
	entries[4] = uplink(5, "eth3", 100);
	entries[4].has_default_route = FALSE;
	entries[5] = uplink(6, "eth4", 600);
	vigil_interface_rank(6, entries, G_N_ELEMENTS(entries));

	g_assert_cmpint(entries[0].rank, ==, -1);
	assert_reason(&entries[0], "loopback, never carries default traffic");
	g_assert_cmpuint(entries[0].reasons->len, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, -1);
	assert_reason(&entries[1], "down");
	g_assert_false(has_reason(&entries[1], "no carrier"));
	g_assert_cmpint(entries[2].rank, ==, -1);
	assert_reason(&entries[2], "no carrier");
	g_assert_cmpint(entries[3].rank, ==, -1);
	assert_reason(&entries[3], "no IPv6 address");
	g_assert_cmpint(entries[4].rank, ==, -1);
	assert_reason(&entries[4], "no default IPv6 route");
	/* the only eligible one carries the traffic, even with the highest metric */
	g_assert_cmpint(entries[5].rank, ==, 0);
	assert_reason(&entries[5],
		      "carries default IPv6 traffic (lowest metric; the route lookup named no "
		      "eligible interface)");
	assert_reason(&entries[5], "default route metric 600");
	clear_entries(entries, G_N_ELEMENTS(entries));
}

static void
test_rank_nothing_eligible_func(void)
{
	VigilRankEntry entries[1];

	entries[0] = uplink(2, "eth0", 100);
	entries[0].has_address = FALSE;
	entries[0].carries_default = TRUE;
	vigil_interface_rank(4, entries, 1);
	g_assert_cmpint(entries[0].rank, ==, -1);
	assert_reason(&entries[0], "no IPv4 address");
	clear_entries(entries, 1);
	/* no entries at all is fine too */
	vigil_interface_rank(4, entries, 0);
}

static void
test_rank_lookup_beats_metric_func(void)
{
	VigilRankEntry entries[2];

	/* a fib rule sends default traffic through the higher metric */
	entries[0] = uplink(2, "eth0", 100);
	entries[1] = uplink(3, "wg0", 500);
	entries[1].carries_default = TRUE;
	vigil_interface_rank(4, entries, 2);
	g_assert_cmpint(entries[1].rank, ==, 0);
	g_assert_cmpint(entries[0].rank, ==, 1);
	assert_reason(&entries[1], "carries default IPv4 traffic");
	assert_reason(&entries[0], "next to take over from wg0");
	clear_entries(entries, 2);

	/* the lookup named an interface that is not eligible: the lowest metric wins */
	entries[0] = uplink(2, "eth0", 300);
	entries[1] = uplink(3, "wlan0", 200);
	entries[0].carries_default = TRUE;
	entries[0].has_address = FALSE;
	vigil_interface_rank(4, entries, 2);
	g_assert_cmpint(entries[0].rank, ==, -1);
	g_assert_cmpint(entries[1].rank, ==, 0);
	clear_entries(entries, 2);
}

static void
test_rank_policy_func(void)
{
	VigilRankEntry entries[4];

	entries[0] = uplink(2, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(3, "wlan0", 600);
	entries[2] = uplink(4, "wwan0", 700);
	entries[2].preferred_index = 1;
	entries[3] = uplink(5, "usb0", 800);
	entries[3].preferred_index = 0;
	vigil_interface_rank(4, entries, 4);
	/* preferred first in glob order, whatever the metric; then the unmatched */
	g_assert_cmpint(entries[0].rank, ==, 0);
	g_assert_cmpint(entries[3].rank, ==, 1);
	g_assert_cmpint(entries[2].rank, ==, 2);
	g_assert_cmpint(entries[1].rank, ==, 3);
	assert_reason(&entries[3], "would take over: preferred over wwan0");
	assert_reason(&entries[3], "preferred (PreferredInterfaces pattern 1)");
	assert_reason(&entries[2], "would take over: preferred over wlan0");
	clear_entries(entries, 4);
}

static void
test_rank_metric_func(void)
{
	VigilRankEntry entries[3];

	entries[0] = uplink(2, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(3, "wlan0", 600);
	entries[2] = uplink(4, "eth1", 200);
	vigil_interface_rank(4, entries, 3);
	g_assert_cmpint(entries[2].rank, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, 2);
	assert_reason(&entries[2], "would take over: lower metric than wlan0");
	/* no word about connectivity before the checker said something */
	for (guint i = 0; i < entries[2].reasons->len; i++)
		g_assert_null(strstr(g_ptr_array_index(entries[2].reasons, i), "connectivity"));
	assert_reason(&entries[2], "next to take over from eth0");
	assert_reason(&entries[1], "default route metric 600");
	clear_entries(entries, 3);

	/* the metric only settles what the checks leave equal: a successor with internet goes
	 * before one with a lower metric and none */
	entries[0] = uplink(2, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(3, "wlan0", 600);
	entries[1].connectivity = VIGIL_CONNECTIVITY_FULL;
	entries[2] = uplink(4, "eth1", 200);
	entries[2].connectivity = VIGIL_CONNECTIVITY_NO_INTERNET;
	vigil_interface_rank(4, entries, 3);
	g_assert_cmpint(entries[1].rank, ==, 1);
	g_assert_cmpint(entries[2].rank, ==, 2);
	assert_reason(&entries[1], "would take over: better connectivity than eth1");
	clear_entries(entries, 3);
}

static void
test_rank_validation_func(void)
{
	const VigilConnectivity order[] = {VIGIL_CONNECTIVITY_FULL,
					   VIGIL_CONNECTIVITY_LIMITED,
					   VIGIL_CONNECTIVITY_PORTAL,
					   VIGIL_CONNECTIVITY_UNKNOWN,
					   VIGIL_CONNECTIVITY_DNS_BROKEN,
					   VIGIL_CONNECTIVITY_NO_INTERNET};
	VigilRankEntry entries[7];

	/* the same metric everywhere: connectivity decides, given in reverse order */
	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[0].connectivity = VIGIL_CONNECTIVITY_PORTAL;
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		entries[i + 1] =
		    uplink(10 - i, g_intern_string(vigil_connectivity_to_string(order[i])), 500);
		entries[i + 1].connectivity = order[i];
	}
	vigil_interface_rank(4, entries, G_N_ELEMENTS(entries));
	for (guint i = 0; i < G_N_ELEMENTS(order); i++)
		g_assert_cmpint(entries[i + 1].rank, ==, (gint)i + 1);
	assert_reason(&entries[1], "would take over: better connectivity than limited");
	assert_reason(&entries[1], "connectivity: full");
	/* rank 0 is behind a portal while another one has full connectivity */
	g_assert_cmpint(entries[0].rank, ==, 0);
	assert_reason(&entries[0], "full has full connectivity, this one is behind a portal");
	clear_entries(entries, G_N_ELEMENTS(entries));

	/* checking counts as unknown: the index decides between them */
	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(3, "a", 500);
	entries[1].connectivity = VIGIL_CONNECTIVITY_CHECKING;
	entries[2] = uplink(2, "b", 500);
	vigil_interface_rank(4, entries, 3);
	g_assert_cmpint(entries[2].rank, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, 2);
	assert_reason(&entries[2], "would take over: older interface than a");
	/* no successor is better: no advisory on rank 0 */
	for (guint i = 0; i < entries[0].reasons->len; i++)
		g_assert_null(strstr(g_ptr_array_index(entries[0].reasons, i), "this one"));
	clear_entries(entries, 3);
}

static void
test_rank_advisory_func(void)
{
	VigilRankEntry entries[3];

	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(2, "wlan0", 600);
	entries[1].advisory = TRUE;
	entries[2] = uplink(3, "wlan1", 600);
	vigil_interface_rank(4, entries, 3);
	g_assert_cmpint(entries[2].rank, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, 2);
	assert_reason(&entries[2], "would take over: no uplink advisory, unlike wlan0");
	assert_reason(&entries[1], "uplink advisory: probes fail while the link is up");
	clear_entries(entries, 3);
}

static void
test_rank_cost_func(void)
{
	VigilRankEntry entries[3];

	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(2, "wwan0", 600);
	entries[1].metered = TRUE;
	entries[1].rtt_usec = 1000;
	entries[2] = uplink(3, "wlan0", 600);
	entries[2].rtt_usec = 90000;
	vigil_interface_rank(4, entries, 3);
	/* metered loses even with the better round trip */
	g_assert_cmpint(entries[2].rank, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, 2);
	assert_reason(&entries[2], "would take over: not metered, unlike wwan0");
	assert_reason(&entries[1], "metered");
	assert_reason(&entries[1], "connectivity: unknown (probe 1.0 ms)");
	clear_entries(entries, 3);
}

static void
test_rank_quality_func(void)
{
	VigilRankEntry entries[4];

	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[1] = uplink(2, "slow", 600);
	entries[1].rtt_usec = 80000;
	entries[2] = uplink(3, "fast", 600);
	entries[2].rtt_usec = 12000;
	entries[3] = uplink(4, "unprobed", 600);
	vigil_interface_rank(4, entries, 4);
	g_assert_cmpint(entries[2].rank, ==, 1);
	g_assert_cmpint(entries[1].rank, ==, 2);
	g_assert_cmpint(entries[3].rank, ==, 3);
	assert_reason(&entries[2], "would take over: lower probe round trip than slow");
	assert_reason(&entries[1], "would take over: lower probe round trip than unprobed");
	assert_reason(&entries[2], "connectivity: unknown (probe 12 ms)");
	clear_entries(entries, 4);

	/* under a millisecond is not "0 ms" */
	entries[0] = uplink(1, "eth0", 100);
	entries[0].carries_default = TRUE;
	entries[0].rtt_usec = 300;
	vigil_interface_rank(4, entries, 1);
	assert_reason(&entries[0], "connectivity: unknown (probe 0.3 ms)");
	clear_entries(entries, 1);
}

static void
test_rank_fallback_metric_func(void)
{
	VigilRankEntry entries[3];

	/* no lookup answer: the lowest metric, then the lower index */
	entries[0] = uplink(5, "eth0", 300);
	entries[1] = uplink(4, "eth1", 200);
	entries[2] = uplink(3, "eth2", 200);
	vigil_interface_rank(4, entries, 3);
	g_assert_cmpint(entries[2].rank, ==, 0);
	g_assert_cmpint(entries[1].rank, ==, 1);
	g_assert_cmpint(entries[0].rank, ==, 2);
	clear_entries(entries, 3);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/interface-rank/eligibility", test_rank_eligibility_func);
	g_test_add_func("/vigil/daemon/interface-rank/nothing-eligible",
			test_rank_nothing_eligible_func);
	g_test_add_func("/vigil/daemon/interface-rank/lookup-beats-metric",
			test_rank_lookup_beats_metric_func);
	g_test_add_func("/vigil/daemon/interface-rank/fallback-metric",
			test_rank_fallback_metric_func);
	g_test_add_func("/vigil/daemon/interface-rank/policy", test_rank_policy_func);
	g_test_add_func("/vigil/daemon/interface-rank/metric", test_rank_metric_func);
	g_test_add_func("/vigil/daemon/interface-rank/validation", test_rank_validation_func);
	g_test_add_func("/vigil/daemon/interface-rank/advisory", test_rank_advisory_func);
	g_test_add_func("/vigil/daemon/interface-rank/cost", test_rank_cost_func);
	g_test_add_func("/vigil/daemon/interface-rank/quality", test_rank_quality_func);
	return g_test_run();
}
