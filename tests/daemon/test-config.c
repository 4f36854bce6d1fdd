/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-error.h"

static gchar *
write_config(const gchar *contents)
{
	g_autoptr(GError) error = NULL;
	gchar *path = g_build_filename(g_get_tmp_dir(), "vigild.conf", NULL);

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
	return path;
}

static void
test_config_network_defaults_func(void)
{
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autoptr(VigilConfig) shipped = vigil_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "vigild.conf", NULL);
	gboolean ret;

	g_assert_cmpuint(g_strv_length(config->preferred_interfaces), ==, 0);
	g_assert_cmpuint(g_strv_length(config->metered_interfaces), ==, 1);
	g_assert_cmpstr(config->metered_interfaces[0], ==, "wwan*");

	/* the commented file we ship says the defaults */
	ret = vigil_config_load(shipped, path, TRUE, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(g_strv_equal((const gchar *const *)shipped->preferred_interfaces,
				   (const gchar *const *)config->preferred_interfaces));
	g_assert_true(g_strv_equal((const gchar *const *)shipped->metered_interfaces,
				   (const gchar *const *)config->metered_interfaces));
}

static void
test_config_network_func(void)
{
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = write_config("[daemon]\nMode=allow\n"
					      "[network]\n"
					      "PreferredInterfaces= eth* ;wlan[01];;\n"
					      "MeteredInterfaces=\n");
	gboolean ret;

	ret = vigil_config_load(config, path, TRUE, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(config->mode, ==, VIGIL_MODE_ALLOW);
	g_assert_cmpuint(g_strv_length(config->preferred_interfaces), ==, 2);
	g_assert_cmpstr(config->preferred_interfaces[0], ==, "eth*");
	g_assert_cmpstr(config->preferred_interfaces[1], ==, "wlan[01]");
	/* an empty list says: nothing but kind wwan is metered */
	g_assert_cmpuint(g_strv_length(config->metered_interfaces), ==, 0);
	g_unlink(path);
}

static void
test_config_network_invalid_func(void)
{
	const struct {
		const gchar *contents;
		const gchar *key;
	} cases[] = {
	    {"[network]\nPreferredInterfaces=eth0;wl an0\n", "key PreferredInterfaces"},
	    {"[network]\nMeteredInterfaces=usb/0\n", "key MeteredInterfaces"},
	    {"[network]\nMeteredInterfaces=eth0:1\n", "key MeteredInterfaces"},
	    {"[network]\nPreferredInterfaces=eth0\\twlan0\n", "key PreferredInterfaces"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(VigilConfig) config = vigil_config_new();
		g_autoptr(GError) error = NULL;
		g_autofree gchar *path = write_config(cases[i].contents);
		gboolean ret = vigil_config_load(config, path, TRUE, &error);

		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
		g_assert_false(ret);
		g_assert_nonnull(strstr(error->message, cases[i].key));
		g_unlink(path);
	}
}

/* the queue's busy polling and the connect hook: defaults as shipped, values, bounds */
static void
test_config_speed_func(void)
{
	g_autoptr(VigilConfig) defaults = vigil_config_new();
	g_autoptr(VigilConfig) shipped = vigil_config_new();
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autoptr(VigilConfig) bad = vigil_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dist = g_test_build_filename(G_TEST_DIST, "vigild.conf", NULL);
	g_autofree gchar *path = write_config("[daemon]\nBusyPoll=0\nConnectHook=false\n");
	g_autofree gchar *too_long = NULL;

	g_assert_cmpuint(defaults->busy_poll_us, ==, VIGIL_CONFIG_BUSY_POLL_DEFAULT);
	g_assert_true(defaults->connect_hook);
	g_assert_true(vigil_config_load(shipped, dist, TRUE, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(shipped->busy_poll_us, ==, defaults->busy_poll_us);
	g_assert_cmpint(shipped->connect_hook, ==, defaults->connect_hook);

	g_assert_true(vigil_config_load(config, path, TRUE, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(config->busy_poll_us, ==, 0);
	g_assert_false(config->connect_hook);

	/* (the same file name, written again) */
	too_long = write_config("[daemon]\nBusyPoll=1001\n");
	g_assert_false(vigil_config_load(bad, too_long, TRUE, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
	g_assert_nonnull(strstr(error->message, "BusyPoll"));
	g_unlink(too_long);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/config/network-defaults", test_config_network_defaults_func);
	g_test_add_func("/vigil/daemon/config/network", test_config_network_func);
	g_test_add_func("/vigil/daemon/config/network-invalid", test_config_network_invalid_func);
	g_test_add_func("/vigil/daemon/config/speed", test_config_speed_func);
	return g_test_run();
}
