/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Vigild"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "vigil-daemon.h"
#include "vigil-dbus-service.h"
#include "vigil-error.h"
#include "vigil-names.h"
#include "vigil-nft-fake.h"
#include "vigil-nft-mnl.h"

static gint verbose = 0;

/* GLib 2.74 cannot show info without debug, so the levels are chosen here: -v shows info,
 * -vv debug too. Verdict summaries (info, field VIGIL_VERDICT) go to the journal even
 * without -v when LogVerdicts is on, because the journal is where an administrator audits
 * the firewall */
static GLogWriterOutput
log_writer_cb(GLogLevelFlags log_level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	gboolean journal = g_log_writer_is_journald(fileno(stderr));
	gboolean show = FALSE;

	if ((log_level & G_LOG_LEVEL_DEBUG) != 0) {
		show = verbose > 1;
	} else if ((log_level & G_LOG_LEVEL_INFO) != 0) {
		/* vigild only logs verdicts when they are wanted, see main() */
		show = verbose > 0;
		for (gsize i = 0; !show && i < n_fields; i++)
			show = g_str_equal(fields[i].key, "VIGIL_VERDICT");
	} else {
		return g_log_writer_default(log_level, fields, n_fields, user_data);
	}
	if (!show)
		return G_LOG_WRITER_HANDLED;
	if (journal &&
	    g_log_writer_journald(log_level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	return g_log_writer_standard_streams(log_level, fields, n_fields, NULL);
}

static gboolean
verbose_cb(const gchar *option_name, const gchar *value, gpointer data, GError **error)
{
	verbose++;
	return TRUE;
}

static gboolean
quit_cb(gpointer user_data)
{
	GMainLoop *loop = user_data;
	g_message("stopping");
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
reload_cb(gpointer user_data)
{
	VigilDaemon *daemon = VIGIL_DAEMON(user_data);
	g_autoptr(GError) error = NULL;

	g_message("reloading rules");
	if (!vigil_daemon_reload_rules(daemon, &error))
		g_warning("failed to reload rules, keeping the old ones: %s", error->message);
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(VigilDaemon) daemon = NULL;
	g_autoptr(VigilDBusService) service = NULL;
	g_autofree gchar *bus_address = NULL;
	gboolean replace = FALSE;
	gboolean no_dbus = FALSE;
	gboolean no_probes = FALSE;
	g_autoptr(VigilNftBackend) backend = NULL;
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autofree gchar *config_path = NULL;
	g_autofree gchar *backend_name = NULL;
	g_autofree gchar *mode = NULL;
	gint queue_num = -1;
	gboolean print_events = FALSE;
	gboolean version = FALSE;
	const GOptionEntry options[] = {
	    {"verbose",
	     'v',
	     G_OPTION_FLAG_NO_ARG,
	     G_OPTION_ARG_CALLBACK,
	     (GOptionArgFunc)verbose_cb,
	     "Show more messages (repeat for debug messages)",
	     NULL},
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "PATH"},
	    {"queue-num", 'q', 0, G_OPTION_ARG_INT, &queue_num, "Netfilter queue number", "N"},
	    {"mode",
	     'm',
	     0,
	     G_OPTION_ARG_STRING,
	     &mode,
	     "Mode: ask, allow, deny, block-all or monitor",
	     "MODE"},
	    {"backend",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &backend_name,
	     "Kernel backend: mnl (default) or fake (tests, touches no kernel state)",
	     "NAME"},
	    {"print-events",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &print_events,
	     "Print every verdict as a JSON line on standard output",
	     NULL},
	    {"bus",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &bus_address,
	     "Serve D-Bus on this bus address instead of the system bus (tests)",
	     "ADDRESS"},
	    {"replace",
	     'r',
	     0,
	     G_OPTION_ARG_NONE,
	     &replace,
	     "Replace a running vigild on the bus",
	     NULL},
	    {"no-dbus", 0, 0, G_OPTION_ARG_NONE, &no_dbus, "Do not serve D-Bus at all", NULL},
	    {"no-probes",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &no_probes,
	     "Send no connectivity probes (Enabled=false in [connectivity])",
	     NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL},
	    {NULL}};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context, "Vigil firewall daemon");
	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("vigild: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (version) {
		g_print("vigild %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (verbose > 1)
		g_log_set_debug_enabled(TRUE);
	/* standard output carries --print-events; every message goes to standard error */
	g_log_writer_default_set_use_stderr(TRUE);
	g_log_set_writer_func(log_writer_cb, NULL, NULL);

	/* the configuration, then command-line overrides */
	if (!vigil_config_load(config,
			       config_path != NULL ? config_path : VIGIL_CONFIG_FILE,
			       config_path != NULL,
			       &error)) {
		g_printerr("vigild: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (mode != NULL) {
		config->mode = vigil_mode_from_string(mode);
		if (config->mode == VIGIL_MODE_LAST) {
			g_printerr("vigild: --mode: '%s' is not one of ask, allow, deny, "
				   "block-all, monitor\n",
				   mode);
			return EXIT_FAILURE;
		}
	}
	if (queue_num >= 0) {
		if (queue_num > G_MAXUINT16) {
			g_printerr("vigild: --queue-num: %d is not in 0..65535\n", queue_num);
			return EXIT_FAILURE;
		}
		config->queue_num = queue_num;
	}
	if (no_probes)
		config->connectivity_enabled = FALSE;
	/* formatting a summary nobody reads costs time on every new connection */
	config->log_verdicts =
	    config->log_verdicts && (verbose > 0 || g_log_writer_is_journald(fileno(stderr)));

	if (backend_name == NULL || g_str_equal(backend_name, "mnl")) {
		backend = vigil_nft_mnl_new();
	} else if (g_str_equal(backend_name, "fake")) {
		backend = vigil_nft_fake_new();
	} else {
		g_printerr("vigild: --backend: '%s' is not mnl or fake\n", backend_name);
		return EXIT_FAILURE;
	}

	loop = g_main_loop_new(NULL, FALSE);
	daemon = vigil_daemon_new(g_steal_pointer(&config), backend);
	if (print_events)
		vigil_daemon_set_print_events_fd(daemon, STDOUT_FILENO);
	/* D-Bus first, so that agents can register before the first packet; without a bus
	 * vigild still filters, with the default action where it would have asked */
	if (!no_dbus) {
		service = vigil_dbus_service_new(daemon);
		if (!vigil_dbus_service_start(service, bus_address, replace, &error)) {
			g_warning("running without D-Bus: %s", error->message);
			g_clear_error(&error);
			g_clear_object(&service);
		}
	}
	if (!vigil_daemon_start(daemon, &error)) {
		g_printerr("vigild: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (service != NULL)
		vigil_dbus_service_watch_connections(service);
	g_unix_signal_add(SIGTERM, quit_cb, loop);
	g_unix_signal_add(SIGINT, quit_cb, loop);
	g_unix_signal_add(SIGHUP, reload_cb, daemon);
	g_main_loop_run(loop);
	vigil_daemon_stop(daemon);
	return EXIT_SUCCESS;
}
