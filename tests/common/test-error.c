/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "vigil-error.h"

static void
test_error_dbus_roundtrip(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) remote = NULL;
	g_autofree gchar *name = NULL;

	/* a VIGIL_ERROR crossing the bus comes back as the same domain and code */
	error = g_error_new_literal(VIGIL_ERROR, VIGIL_ERROR_NOT_AUTHORIZED, "polkit said no");
	name = g_dbus_error_encode_gerror(error);
	g_assert_cmpstr(name, ==, "io.github.vigilfw.Error.NotAuthorized");
	remote = g_dbus_error_new_for_dbus_error(name, "polkit said no");
	g_assert_error(remote, VIGIL_ERROR, VIGIL_ERROR_NOT_AUTHORIZED);
	g_assert_true(g_dbus_error_is_remote_error(remote));
	g_dbus_error_strip_remote_error(remote);
	g_assert_cmpstr(remote->message, ==, "polkit said no");
}

static void
test_error_names(void)
{
	for (guint i = 0; i < VIGIL_ERROR_LAST; i++) {
		const gchar *name = vigil_error_to_string(i);
		g_assert_nonnull(name);
		g_assert_true(g_str_has_prefix(name, "io.github.vigilfw.Error."));
	}
	g_assert_null(vigil_error_to_string(VIGIL_ERROR_LAST));
}

static void
test_error_convert(void)
{
	struct {
		GQuark domain;
		gint code;
		VigilError expected;
	} cases[] = {
	    {G_IO_ERROR, G_IO_ERROR_NOT_FOUND, VIGIL_ERROR_NOT_FOUND},
	    {G_FILE_ERROR, G_FILE_ERROR_ACCES, VIGIL_ERROR_NOT_AUTHORIZED},
	    {G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, VIGIL_ERROR_NOT_SUPPORTED},
	    {G_IO_ERROR, G_IO_ERROR_TIMED_OUT, VIGIL_ERROR_TIMED_OUT},
	    {G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, VIGIL_ERROR_INVALID_ARGUMENT},
	    {G_IO_ERROR, G_IO_ERROR_INVALID_DATA, VIGIL_ERROR_INVALID_FILE},
	    {G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, VIGIL_ERROR_FAILED},
	};
	g_autoptr(GError) none = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = g_error_new(cases[i].domain, cases[i].code, "case %u", i);
		g_autofree gchar *message = g_strdup_printf("case %u", i);
		vigil_error_convert(&error);
		g_assert_error(error, VIGIL_ERROR, (gint)cases[i].expected);
		g_assert_cmpstr(error->message, ==, message);
	}

	/* NULL and VIGIL_ERROR pass through untouched */
	vigil_error_convert(NULL);
	vigil_error_convert(&none);
	g_assert_null(none);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/common/error/dbus-roundtrip", test_error_dbus_roundtrip);
	g_test_add_func("/vigil/common/error/names", test_error_names);
	g_test_add_func("/vigil/common/error/convert", test_error_convert);
	return g_test_run();
}
