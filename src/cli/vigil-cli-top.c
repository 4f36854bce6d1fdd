/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilCliTop"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "vigil-cli-format.h"
#include "vigil-cli-private.h"
#include "vigil-cli-top.h"

/* per app, at most this many of its busiest connections when the screen is short */
#define VIGIL_CLI_TOP_CONNECTIONS_PER_APP 3
#define VIGIL_CLI_TOP_INTERVAL_MS	  1000

typedef struct {
	guint64 bytes_in;
	guint64 bytes_out;
} VigilCliTopSample;

typedef struct {
	gchar *label;
	guint64 bytes_in;
	guint64 bytes_out;
	gdouble rate_in; /* bytes per second, NAN when unknown */
	gdouble rate_out;
} VigilCliTopConnection;

typedef struct {
	gchar *key;
	gchar *name;
	gchar *user;
	guint live;
	gboolean has_total;
	guint64 total;
	gboolean has_bytes;
	guint64 bytes_in;
	guint64 bytes_out;
	gdouble rate_in;
	gdouble rate_out;
	GPtrArray *connections; /* of VigilCliTopConnection */
} VigilCliTopApp;

struct _VigilCliTop {
	GObject parent_instance;
	VigilDBusDaemon1 *proxy;
	gboolean all;

	/* the previous poll, for rates */
	GHashTable *app_samples;	/* app key -> VigilCliTopSample */
	GHashTable *connection_samples; /* "id" -> VigilCliTopSample */
	gint64 sample_time;		/* monotonic, 0 before the first poll */
	GPtrArray *model;		/* of VigilCliTopApp, sorted */
	gchar *problem;			/* why the last poll failed */

	/* the live view */
	GMainLoop *loop;
	GCancellable *cancellable;
	struct termios terminal;
	gboolean terminal_saved;
	gboolean screen_active;
	guint pending;
	GVariant *poll_apps;
	GVariant *poll_connections;
	GError *poll_error;
	guint timeout_id;
	guint stdin_id;
	guint sigint_id;
	guint sigterm_id;
	guint sigwinch_id;
};

G_DEFINE_FINAL_TYPE(VigilCliTop, vigil_cli_top, G_TYPE_OBJECT)

static void
vigil_cli_top_connection_free(VigilCliTopConnection *connection)
{
	g_free(connection->label);
	g_free(connection);
}

static void
vigil_cli_top_app_free(VigilCliTopApp *app)
{
	g_free(app->key);
	g_free(app->name);
	g_free(app->user);
	g_ptr_array_unref(app->connections);
	g_free(app);
}

static VigilCliTopSample *
vigil_cli_top_sample_new(guint64 bytes_in, guint64 bytes_out)
{
	VigilCliTopSample *sample = g_new0(VigilCliTopSample, 1);
	sample->bytes_in = bytes_in;
	sample->bytes_out = bytes_out;
	return sample;
}

/* the app a process belongs to: its user, and its app id, else executable, else unit */
static gchar *
vigil_cli_top_get_key(GVariant *dict)
{
	const gchar *app_id = vigil_cli_dict_get_string(dict, "app-id");
	const gchar *exe = vigil_cli_dict_get_string(dict, "exe");
	const gchar *unit = vigil_cli_dict_get_string(dict, "unit");
	g_autofree gchar *uid = NULL;
	guint64 value = 0;

	if (vigil_cli_dict_get_uint64(dict, "uid", &value))
		uid = g_strdup_printf("%" G_GUINT64_FORMAT, value);
	else
		uid = g_strdup("?");
	if (app_id != NULL && app_id[0] != '\0')
		return g_strdup_printf("%s app %s", uid, app_id);
	if (exe != NULL && exe[0] != '\0')
		return g_strdup_printf("%s exe %s", uid, exe);
	if (unit != NULL && unit[0] != '\0')
		return g_strdup_printf("%s unit %s", uid, unit);
	return g_strdup_printf("%s unknown", uid);
}

static VigilCliTopApp *
vigil_cli_top_app_new(GVariant *dict, gchar *key)
{
	VigilCliTopApp *app = g_new0(VigilCliTopApp, 1);
	const gchar *user = vigil_cli_dict_get_string(dict, "user");
	guint64 uid = 0;

	app->key = key;
	app->name = vigil_cli_format_app(dict);
	if (app->name == NULL)
		app->name = g_strdup(_("unknown"));
	if (user != NULL)
		app->user = g_strdup(user);
	else if (vigil_cli_dict_get_uint64(dict, "uid", &uid))
		app->user = g_strdup_printf("%" G_GUINT64_FORMAT, uid);
	app->rate_in = NAN;
	app->rate_out = NAN;
	app->connections =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_cli_top_connection_free);
	return app;
}

static gdouble
vigil_cli_top_rate(guint64 now, guint64 before, gdouble seconds)
{
	/* a counter that went back belongs to something new: no rate yet */
	if (now < before)
		return NAN;
	return (gdouble)(now - before) / seconds;
}

static gdouble
vigil_cli_top_rate_or_zero(gdouble rate)
{
	return isnan(rate) ? 0 : rate;
}

static gint
vigil_cli_top_compare_apps_cb(gconstpointer a, gconstpointer b)
{
	const VigilCliTopApp *app_a = *(VigilCliTopApp *const *)a;
	const VigilCliTopApp *app_b = *(VigilCliTopApp *const *)b;
	gdouble rate_a = vigil_cli_top_rate_or_zero(app_a->rate_in) +
			 vigil_cli_top_rate_or_zero(app_a->rate_out);
	gdouble rate_b = vigil_cli_top_rate_or_zero(app_b->rate_in) +
			 vigil_cli_top_rate_or_zero(app_b->rate_out);
	guint64 bytes_a = app_a->bytes_in + app_a->bytes_out;
	guint64 bytes_b = app_b->bytes_in + app_b->bytes_out;

	if (rate_a != rate_b)
		return rate_a > rate_b ? -1 : 1;
	if (app_a->live != app_b->live)
		return app_a->live > app_b->live ? -1 : 1;
	if (bytes_a != bytes_b)
		return bytes_a > bytes_b ? -1 : 1;
	return g_strcmp0(app_a->name, app_b->name);
}

static gint
vigil_cli_top_compare_connections_cb(gconstpointer a, gconstpointer b)
{
	const VigilCliTopConnection *conn_a = *(VigilCliTopConnection *const *)a;
	const VigilCliTopConnection *conn_b = *(VigilCliTopConnection *const *)b;
	gdouble rate_a = vigil_cli_top_rate_or_zero(conn_a->rate_in) +
			 vigil_cli_top_rate_or_zero(conn_a->rate_out);
	gdouble rate_b = vigil_cli_top_rate_or_zero(conn_b->rate_in) +
			 vigil_cli_top_rate_or_zero(conn_b->rate_out);
	guint64 bytes_a = conn_a->bytes_in + conn_a->bytes_out;
	guint64 bytes_b = conn_b->bytes_in + conn_b->bytes_out;

	if (rate_a != rate_b)
		return rate_a > rate_b ? -1 : 1;
	if (bytes_a != bytes_b)
		return bytes_a > bytes_b ? -1 : 1;
	return g_strcmp0(conn_a->label, conn_b->label);
}

static gchar *
vigil_cli_top_format_connection(GVariant *dict)
{
	const gchar *proto = vigil_cli_dict_get_string(dict, "proto");
	const gchar *host = vigil_cli_dict_get_string(dict, "host");
	gboolean inbound = g_strcmp0(vigil_cli_dict_get_string(dict, "direction"), "in") == 0;
	const gchar *address = vigil_cli_dict_get_string(dict, inbound ? "src" : "dst");
	g_autofree gchar *endpoint = NULL;
	guint64 port = 0;

	if (vigil_cli_dict_get_uint64(dict, inbound ? "sport" : "dport", &port) && port <= 65535)
		endpoint = vigil_cli_format_endpoint(address, host, (gint)port);
	else
		endpoint = vigil_cli_format_endpoint(address, host, -1);
	return g_strdup_printf("  %s %s %s",
			       inbound ? "<-" : "->",
			       proto != NULL ? proto : "?",
			       endpoint != NULL ? endpoint : "?");
}

/* turns one poll into the sorted model, with rates against the previous poll */
static void
vigil_cli_top_update(VigilCliTop *self, GVariant *apps, GVariant *connections, gint64 now)
{
	g_autoptr(GHashTable) by_key = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) from_connections = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTable *app_samples = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTable *connection_samples =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GPtrArray *model = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_cli_top_app_free);
	gdouble seconds =
	    self->sample_time > 0 ? (gdouble)(now - self->sample_time) / G_USEC_PER_SEC : 0;
	GVariantIter iter;
	GVariant *child;

	if (apps != NULL) {
		g_variant_iter_init(&iter, apps);
		while ((child = g_variant_iter_next_value(&iter)) != NULL) {
			VigilCliTopApp *app =
			    vigil_cli_top_app_new(child, vigil_cli_top_get_key(child));
			VigilCliTopSample *sample;
			guint64 live = 0;

			if (vigil_cli_dict_get_uint64(child, "connections", &live))
				app->live = (guint)MIN(live, G_MAXUINT);
			app->has_total =
			    vigil_cli_dict_get_uint64(child, "total-connections", &app->total);
			app->has_bytes =
			    vigil_cli_dict_get_uint64(child, "bytes-in", &app->bytes_in) &&
			    vigil_cli_dict_get_uint64(child, "bytes-out", &app->bytes_out);
			sample = g_hash_table_lookup(self->app_samples, app->key);
			if (app->has_bytes && sample != NULL && seconds > 0) {
				app->rate_in =
				    vigil_cli_top_rate(app->bytes_in, sample->bytes_in, seconds);
				app->rate_out =
				    vigil_cli_top_rate(app->bytes_out, sample->bytes_out, seconds);
			} else {
				/* the first view: the daemon's own rate */
				vigil_cli_dict_get_double(child, "rate-in", &app->rate_in);
				vigil_cli_dict_get_double(child, "rate-out", &app->rate_out);
			}
			if (app->has_bytes)
				g_hash_table_insert(
				    app_samples,
				    g_strdup(app->key),
				    vigil_cli_top_sample_new(app->bytes_in, app->bytes_out));
			if (!g_hash_table_contains(by_key, app->key)) {
				g_hash_table_insert(by_key, app->key, app);
				g_ptr_array_add(model, app);
			} else {
				vigil_cli_top_app_free(app);
			}
			g_variant_unref(child);
		}
	}

	g_variant_iter_init(&iter, connections);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree gchar *key = vigil_cli_top_get_key(child);
		VigilCliTopApp *app = g_hash_table_lookup(by_key, key);
		VigilCliTopConnection *conn = g_new0(VigilCliTopConnection, 1);
		VigilCliTopSample *sample = NULL;
		guint64 id = 0;
		g_autofree gchar *id_key = NULL;

		/* a connection whose app GetApps() did not list still shows, under its own app */
		if (app == NULL) {
			app = vigil_cli_top_app_new(child, g_steal_pointer(&key));
			app->has_bytes = TRUE;
			g_hash_table_insert(by_key, app->key, app);
			g_hash_table_add(from_connections, app);
			g_ptr_array_add(model, app);
		}
		conn->label = vigil_cli_top_format_connection(child);
		vigil_cli_dict_get_uint64(child, "bytes-in", &conn->bytes_in);
		vigil_cli_dict_get_uint64(child, "bytes-out", &conn->bytes_out);
		conn->rate_in = NAN;
		conn->rate_out = NAN;
		if (vigil_cli_dict_get_uint64(child, "id", &id)) {
			id_key = g_strdup_printf("%" G_GUINT64_FORMAT, id);
			sample = g_hash_table_lookup(self->connection_samples, id_key);
			g_hash_table_insert(
			    connection_samples,
			    g_steal_pointer(&id_key),
			    vigil_cli_top_sample_new(conn->bytes_in, conn->bytes_out));
		}
		if (sample != NULL && seconds > 0) {
			conn->rate_in =
			    vigil_cli_top_rate(conn->bytes_in, sample->bytes_in, seconds);
			conn->rate_out =
			    vigil_cli_top_rate(conn->bytes_out, sample->bytes_out, seconds);
		}
		if (g_hash_table_contains(from_connections, app)) {
			app->live++;
			app->bytes_in += conn->bytes_in;
			app->bytes_out += conn->bytes_out;
			if (!isnan(conn->rate_in))
				app->rate_in =
				    vigil_cli_top_rate_or_zero(app->rate_in) + conn->rate_in;
			if (!isnan(conn->rate_out))
				app->rate_out =
				    vigil_cli_top_rate_or_zero(app->rate_out) + conn->rate_out;
		}
		g_ptr_array_add(app->connections, conn);
		g_variant_unref(child);
	}

	for (guint i = 0; i < model->len; i++) {
		VigilCliTopApp *app = g_ptr_array_index(model, i);
		g_ptr_array_sort(app->connections, vigil_cli_top_compare_connections_cb);
		/* an app with live connections that GetApps() counted as none */
		if (app->live < app->connections->len)
			app->live = app->connections->len;
	}
	g_ptr_array_sort(model, vigil_cli_top_compare_apps_cb);

	g_hash_table_unref(self->app_samples);
	self->app_samples = app_samples;
	g_hash_table_unref(self->connection_samples);
	self->connection_samples = connection_samples;
	self->sample_time = now;
	g_clear_pointer(&self->model, g_ptr_array_unref);
	self->model = model;
}

static void
vigil_cli_top_add_rates(VigilCliTable *table, gdouble rate_in, gdouble rate_out)
{
	vigil_cli_table_take_cell(table, isnan(rate_in) ? NULL : vigil_cli_format_rate(rate_in));
	vigil_cli_table_take_cell(table, isnan(rate_out) ? NULL : vigil_cli_format_rate(rate_out));
}

/* height 0: every app and every connection, as for a pipe */
static gchar *
vigil_cli_top_render(VigilCliTop *self, guint width, guint height, gboolean interactive)
{
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	g_autofree gchar *header = NULL;
	g_autofree gchar *apps_text = NULL;
	g_autofree gchar *connections_text = NULL;
	g_autofree gchar *rate_in = NULL;
	g_autofree gchar *rate_out = NULL;
	g_autofree gchar *rendered = NULL;
	g_autofree gchar *table_text = NULL;
	const gchar *version = vigil_dbus_daemon1_get_version(self->proxy);
	const gchar *mode = vigil_dbus_daemon1_get_mode(self->proxy);
	GString *str = g_string_new(NULL);
	gdouble total_in = NAN;
	gdouble total_out = NAN;
	guint n_connections = 0;
	guint n_apps;
	guint budget = G_MAXUINT;
	guint n_apps_shown;
	guint extra;

	for (guint i = 0; self->model != NULL && i < self->model->len; i++) {
		VigilCliTopApp *app = g_ptr_array_index(self->model, i);
		n_connections += app->live;
		if (!isnan(app->rate_in))
			total_in = vigil_cli_top_rate_or_zero(total_in) + app->rate_in;
		if (!isnan(app->rate_out))
			total_out = vigil_cli_top_rate_or_zero(total_out) + app->rate_out;
	}
	rate_in = vigil_cli_format_rate(total_in);
	rate_out = vigil_cli_format_rate(total_out);
	n_apps = self->model != NULL ? self->model->len : 0;
	apps_text =
	    g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u app", "%u apps", n_apps), n_apps);
	connections_text = g_strdup_printf(
	    g_dngettext(GETTEXT_PACKAGE, "%u connection", "%u connections", n_connections),
	    n_connections);
	/* TRANSLATORS: the daemon's version and mode, "3 apps", "5 connections", two rates, and
	 * maybe "  (q to quit)" */
	header = g_strdup_printf(_("vigild %s, mode %s: %s, %s, in %s, out %s%s"),
				 version != NULL ? version : "?",
				 mode != NULL ? mode : "?",
				 apps_text,
				 connections_text,
				 rate_in,
				 rate_out,
				 interactive ? _("  (q to quit)") : "");
	rendered = width > 0 ? vigil_cli_format_truncated(header, width) : g_strdup(header);
	g_string_append_printf(str, "%s\n", rendered);
	if (self->problem != NULL) {
		g_autofree gchar *line = g_strdup_printf("vigilctl: %s", self->problem);
		g_autofree gchar *shown =
		    width > 0 ? vigil_cli_format_truncated(line, width) : g_strdup(line);
		g_string_append_printf(str, "%s\n", shown);
	}
	if (self->model == NULL || self->model->len == 0) {
		g_string_append_printf(str, "\n%s", _("no live connections\n"));
		return g_string_free(str, FALSE);
	}
	g_string_append_c(str, '\n');

	vigil_cli_table_add_column(table, _("APP"), VIGIL_CLI_ALIGN_LEFT, 10);
	vigil_cli_table_add_column(table, _("USER"), VIGIL_CLI_ALIGN_LEFT, 4);
	/* TRANSLATORS: live connections, short */
	vigil_cli_table_add_column(table, _("CONNS"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("TOTAL"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("RATE IN"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("RATE OUT"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("BYTES IN"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("BYTES OUT"), VIGIL_CLI_ALIGN_RIGHT, 0);
	/* on a narrow terminal the live columns matter most */
	vigil_cli_table_set_optional(table, 3);
	vigil_cli_table_set_optional(table, 6);
	vigil_cli_table_set_optional(table, 7);

	/* below the header lines and the column titles; the last line ends without a newline,
	 * so the screen never scrolls */
	if (height > 0) {
		guint used = 3 + (self->problem != NULL ? 1 : 0);
		budget = height > used + 1 ? height - used : 2;
	}
	n_apps_shown = self->model->len;
	if (n_apps_shown > budget)
		n_apps_shown = budget - 1; /* and a line that says how many more */
	extra = budget - n_apps_shown - (n_apps_shown < self->model->len ? 1 : 0);
	for (guint i = 0; i < n_apps_shown; i++) {
		VigilCliTopApp *app = g_ptr_array_index(self->model, i);
		guint n_shown = app->connections->len;

		vigil_cli_table_add_cell(table, app->name);
		vigil_cli_table_add_cell(table, app->user);
		vigil_cli_table_take_cell(table, g_strdup_printf("%u", app->live));
		vigil_cli_table_take_cell(
		    table,
		    app->has_total ? g_strdup_printf("%" G_GUINT64_FORMAT, app->total) : NULL);
		vigil_cli_top_add_rates(table, app->rate_in, app->rate_out);
		vigil_cli_table_take_cell(table,
					  app->has_bytes ? vigil_cli_format_bytes(app->bytes_in)
							 : NULL);
		vigil_cli_table_take_cell(table,
					  app->has_bytes ? vigil_cli_format_bytes(app->bytes_out)
							 : NULL);
		if (height > 0) {
			n_shown = MIN(n_shown, MIN(extra, VIGIL_CLI_TOP_CONNECTIONS_PER_APP));
			extra -= n_shown;
		}
		for (guint j = 0; j < n_shown; j++) {
			VigilCliTopConnection *conn = g_ptr_array_index(app->connections, j);
			vigil_cli_table_add_cell(table, conn->label);
			vigil_cli_table_add_cell(table, "");
			vigil_cli_table_add_cell(table, "");
			vigil_cli_table_add_cell(table, "");
			vigil_cli_top_add_rates(table, conn->rate_in, conn->rate_out);
			vigil_cli_table_take_cell(table, vigil_cli_format_bytes(conn->bytes_in));
			vigil_cli_table_take_cell(table, vigil_cli_format_bytes(conn->bytes_out));
		}
	}
	if (n_apps_shown < self->model->len) {
		g_autofree gchar *more =
		    g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						"… %u more app",
						"… %u more apps",
						self->model->len - n_apps_shown),
				    self->model->len - n_apps_shown);
		vigil_cli_table_add_line(table, more);
	}
	table_text = vigil_cli_table_render(table, width);
	g_string_append(str, table_text);
	return g_string_free(str, FALSE);
}

static void
vigil_cli_top_get_size(guint *width, guint *height)
{
	struct winsize size = {0};

	*width = 80;
	*height = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
		*width = size.ws_col;
		*height = size.ws_row;
	}
}

static void
vigil_cli_top_draw(VigilCliTop *self)
{
	g_autofree gchar *frame = NULL;
	GString *str = g_string_new("\033[H\033[2J");
	guint width;
	guint height;

	vigil_cli_top_get_size(&width, &height);
	frame = vigil_cli_top_render(self, width, height, TRUE);
	/* no newline after the last line: the screen must not scroll */
	g_strchomp(frame);
	g_string_append(str, frame);
	fputs(str->str, stdout);
	fflush(stdout);
	g_string_free(str, TRUE);
}

static void
vigil_cli_top_poll_done(VigilCliTop *self)
{
	g_clear_pointer(&self->problem, g_free);
	if (self->poll_error != NULL) {
		vigil_cli_format_error(self->poll_error);
		self->problem =
		    g_strdup_printf(_("failed to list connections: %s"), self->poll_error->message);
		g_clear_error(&self->poll_error);
	} else {
		vigil_cli_top_update(self,
				     self->poll_apps,
				     self->poll_connections,
				     g_get_monotonic_time());
	}
	g_clear_pointer(&self->poll_apps, g_variant_unref);
	g_clear_pointer(&self->poll_connections, g_variant_unref);
	vigil_cli_top_draw(self);
}

static void
vigil_cli_top_get_apps_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilCliTop) self = VIGIL_CLI_TOP(user_data);
	g_autoptr(GError) error = NULL;

	/* without GetApps() the view is built from the connections alone */
	if (!vigil_dbus_daemon1_call_get_apps_finish(VIGIL_DBUS_DAEMON1(source),
						     &self->poll_apps,
						     res,
						     &error))
		g_debug("no per-app totals from the daemon: %s", error->message);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (--self->pending == 0)
		vigil_cli_top_poll_done(self);
}

static void
vigil_cli_top_get_connections_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilCliTop) self = VIGIL_CLI_TOP(user_data);
	g_autoptr(GError) error = NULL;

	if (!vigil_dbus_daemon1_call_get_connections_finish(VIGIL_DBUS_DAEMON1(source),
							    &self->poll_connections,
							    res,
							    &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_clear_error(&self->poll_error);
		self->poll_error = g_steal_pointer(&error);
	}
	if (--self->pending == 0)
		vigil_cli_top_poll_done(self);
}

static GVariant *
vigil_cli_top_get_options(VigilCliTop *self)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (self->all)
		g_variant_builder_add(&builder, "{sv}", "all", g_variant_new_boolean(TRUE));
	return g_variant_builder_end(&builder);
}

static gboolean
vigil_cli_top_poll_cb(gpointer user_data)
{
	VigilCliTop *self = VIGIL_CLI_TOP(user_data);

	/* a slow daemon gets no second request on top of the first */
	if (self->pending > 0)
		return G_SOURCE_CONTINUE;
	self->pending = 2;
	vigil_dbus_daemon1_call_get_apps(self->proxy,
					 self->cancellable,
					 vigil_cli_top_get_apps_cb,
					 g_object_ref(self));
	vigil_dbus_daemon1_call_get_connections(self->proxy,
						vigil_cli_top_get_options(self),
						self->cancellable,
						vigil_cli_top_get_connections_cb,
						g_object_ref(self));
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_cli_top_quit_cb(gpointer user_data)
{
	VigilCliTop *self = VIGIL_CLI_TOP(user_data);
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_cli_top_resize_cb(gpointer user_data)
{
	VigilCliTop *self = VIGIL_CLI_TOP(user_data);
	vigil_cli_top_draw(self);
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_cli_top_stdin_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilCliTop *self = VIGIL_CLI_TOP(user_data);
	gchar buf[64];
	gssize len = read(fd, buf, sizeof(buf));

	if (len <= 0) {
		self->stdin_id = 0;
		return G_SOURCE_REMOVE;
	}
	for (gssize i = 0; i < len; i++) {
		if (buf[i] == 'q' || buf[i] == 'Q')
			g_main_loop_quit(self->loop);
	}
	return G_SOURCE_CONTINUE;
}

static void
vigil_cli_top_restore_terminal(VigilCliTop *self)
{
	if (self->screen_active) {
		/* show the cursor, leave the alternate screen */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		self->screen_active = FALSE;
	}
	if (self->terminal_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &self->terminal);
		self->terminal_saved = FALSE;
	}
}

/* cbreak: keys arrive one at a time without echo; Ctrl-C still raises SIGINT */
static void
vigil_cli_top_setup_terminal(VigilCliTop *self)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &self->terminal) == 0) {
		struct termios cbreak = self->terminal;
		cbreak.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		cbreak.c_cc[VMIN] = 1;
		cbreak.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &cbreak) == 0) {
			self->terminal_saved = TRUE;
			self->stdin_id =
			    g_unix_fd_add(STDIN_FILENO, G_IO_IN, vigil_cli_top_stdin_cb, self);
		}
	}
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
	self->screen_active = TRUE;
}

static gboolean
vigil_cli_top_snapshot(VigilCliTop *self, GError **error)
{
	g_autoptr(GVariant) apps = NULL;
	g_autoptr(GVariant) connections = NULL;
	g_autoptr(GError) error_apps = NULL;
	g_autofree gchar *text = NULL;

	if (!vigil_dbus_daemon1_call_get_connections_sync(self->proxy,
							  vigil_cli_top_get_options(self),
							  &connections,
							  NULL,
							  error)) {
		_vigil_cli_fixup_error(error, _("failed to list connections"));
		return FALSE;
	}
	if (!vigil_dbus_daemon1_call_get_apps_sync(self->proxy, &apps, NULL, &error_apps))
		g_debug("no per-app totals from the daemon: %s", error_apps->message);
	vigil_cli_top_update(self, apps, connections, g_get_monotonic_time());
	text = vigil_cli_top_render(self, 0, 0, FALSE);
	_vigil_cli_print(text);
	return TRUE;
}

/* a live view on a terminal, else one snapshot so that pipes and tests get text */
gboolean
vigil_cli_top_run(VigilCliTop *self, GError **error)
{
	g_return_val_if_fail(VIGIL_IS_CLI_TOP(self), FALSE);

	if (!isatty(STDOUT_FILENO))
		return vigil_cli_top_snapshot(self, error);

	self->loop = g_main_loop_new(NULL, FALSE);
	self->cancellable = g_cancellable_new();
	self->sigint_id = g_unix_signal_add(SIGINT, vigil_cli_top_quit_cb, self);
	self->sigterm_id = g_unix_signal_add(SIGTERM, vigil_cli_top_quit_cb, self);
	self->sigwinch_id = g_unix_signal_add(SIGWINCH, vigil_cli_top_resize_cb, self);
	vigil_cli_top_setup_terminal(self);
	vigil_cli_top_draw(self);
	vigil_cli_top_poll_cb(self);
	self->timeout_id = g_timeout_add(VIGIL_CLI_TOP_INTERVAL_MS, vigil_cli_top_poll_cb, self);
	g_main_loop_run(self->loop);

	g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	g_clear_handle_id(&self->stdin_id, g_source_remove);
	g_clear_handle_id(&self->sigint_id, g_source_remove);
	g_clear_handle_id(&self->sigterm_id, g_source_remove);
	g_clear_handle_id(&self->sigwinch_id, g_source_remove);
	vigil_cli_top_restore_terminal(self);
	return TRUE;
}

static void
vigil_cli_top_dispose(GObject *object)
{
	VigilCliTop *self = VIGIL_CLI_TOP(object);

	vigil_cli_top_restore_terminal(self);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	g_clear_handle_id(&self->stdin_id, g_source_remove);
	g_clear_handle_id(&self->sigint_id, g_source_remove);
	g_clear_handle_id(&self->sigterm_id, g_source_remove);
	g_clear_handle_id(&self->sigwinch_id, g_source_remove);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->proxy);
	g_clear_pointer(&self->loop, g_main_loop_unref);

	G_OBJECT_CLASS(vigil_cli_top_parent_class)->dispose(object);
}

static void
vigil_cli_top_finalize(GObject *object)
{
	VigilCliTop *self = VIGIL_CLI_TOP(object);

	g_hash_table_unref(self->app_samples);
	g_hash_table_unref(self->connection_samples);
	g_clear_pointer(&self->model, g_ptr_array_unref);
	g_clear_pointer(&self->poll_apps, g_variant_unref);
	g_clear_pointer(&self->poll_connections, g_variant_unref);
	g_clear_error(&self->poll_error);
	g_free(self->problem);

	G_OBJECT_CLASS(vigil_cli_top_parent_class)->finalize(object);
}

static void
vigil_cli_top_class_init(VigilCliTopClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_cli_top_dispose;
	object_class->finalize = vigil_cli_top_finalize;
}

static void
vigil_cli_top_init(VigilCliTop *self)
{
	self->app_samples = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->connection_samples = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

VigilCliTop *
vigil_cli_top_new(VigilDBusDaemon1 *proxy, gboolean all)
{
	VigilCliTop *self;

	g_return_val_if_fail(VIGIL_DBUS_IS_DAEMON1(proxy), NULL);

	self = g_object_new(VIGIL_TYPE_CLI_TOP, NULL);
	self->proxy = g_object_ref(proxy);
	self->all = all;
	return self;
}
