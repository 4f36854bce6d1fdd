/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilCli"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vigil-cli-format.h"
#include "vigil-cli-private.h"
#include "vigil-cli-top.h"
#include "vigil-enums.h"
#include "vigil-error.h"
#include "vigil-names.h"

G_DEFINE_FINAL_TYPE(VigilCli, vigil_cli, G_TYPE_OBJECT)

/* the range of SetPromptTimeout(), in seconds */
#define VIGIL_CLI_PROMPT_TIMEOUT_MIN 1
#define VIGIL_CLI_PROMPT_TIMEOUT_MAX 3600
/* how long check-connectivity waits for the probes: a few timeouts of each kind at most */
#define VIGIL_CLI_CHECK_TIMEOUT_S 120

/* which options a command takes, on top of the bus options */
typedef enum {
	VIGIL_CLI_OPTION_JSON = 1 << 0,
	VIGIL_CLI_OPTION_ALL = 1 << 1,
	VIGIL_CLI_OPTION_APP = 1 << 2,
	VIGIL_CLI_OPTION_FOLLOW = 1 << 3,
	VIGIL_CLI_OPTION_COUNT = 1 << 4,
	VIGIL_CLI_OPTION_ORIGIN = 1 << 5,
	VIGIL_CLI_OPTION_RULE = 1 << 6,
	VIGIL_CLI_OPTION_FORMAT = 1 << 7,
	VIGIL_CLI_OPTION_INCLUDE_MANAGED = 1 << 8,
	VIGIL_CLI_OPTION_FORCE = 1 << 9,
} VigilCliOptions;

typedef gboolean (*VigilCliCommandFunc)(VigilCli *self, gchar **args, GError **error);

typedef struct {
	const gchar *name; /* one word, or "rules <verb>" */
	const gchar *parameters;
	const gchar *summary;
	const gchar *what;	     /* what failed, for the error message */
	const gchar *what_with_args; /* the same when the command is given arguments */
	VigilCliOptions options;
	VigilCliCommandFunc func;
} VigilCliCommand;

static const gchar *const stats_keys[] = {"queued",
					  "allowed",
					  "denied",
					  "rejected",
					  "prompts",
					  "prompt-timeouts",
					  "queue-overruns",
					  "malformed-packets",
					  "connections",
					  "rules",
					  "started",
					  "queue-backend",
					  NULL};

static const gchar *const interface_keys[] = {"name",
					      "index",
					      "kind",
					      "carrier",
					      "addresses",
					      "default-route-v4",
					      "default-route-v6",
					      "metric-v4",
					      "metric-v6",
					      "rank-v4",
					      "rank-v6",
					      "metered",
					      "rx-bytes",
					      "tx-bytes",
					      "rx-rate",
					      "tx-rate",
					      "reasons",
					      "up",
					      "operstate",
					      "mtu",
					      "gateway-v4",
					      "gateway-v6",
					      "reasons-v4",
					      "reasons-v6",
					      NULL};

static const gchar *const connectivity_keys[] = {"interface",
						 "family",
						 "state",
						 "portal-url",
						 "venue-url",
						 "seconds-remaining",
						 "bytes-remaining",
						 "can-extend",
						 "checked",
						 "detail",
						 NULL};

gboolean
_vigil_cli_usage_error(GError **error, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
	return FALSE;
}

/* raw bytes, no charset conversion: JSON must stay UTF-8 whatever the locale */
void
_vigil_cli_print(const gchar *text)
{
	fputs(text, stdout);
	fflush(stdout);
}

void
_vigil_cli_fixup_error(GError **error, const gchar *what)
{
	if (error == NULL || *error == NULL)
		return;
	vigil_cli_format_error(*error);
	g_prefix_error(error, "%s: ", what);
}

/* writes may ask the user for a password through their polkit agent */
GVariant *
_vigil_cli_call_write(VigilCli *self, const gchar *method, GVariant *parameters, GError **error)
{
	return g_dbus_proxy_call_sync(G_DBUS_PROXY(self->proxy),
				      method,
				      parameters,
				      G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
				      VIGIL_CLI_AUTH_TIMEOUT_MS,
				      NULL,
				      error);
}

/* 0 when stdout is not a terminal: then nothing is truncated */
guint
_vigil_cli_get_terminal_width(void)
{
	struct winsize size = {0};

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0)
		return 80;
	return size.ws_col;
}

static GVariant *
vigil_cli_get_property(VigilCli *self, const gchar *name)
{
	return g_dbus_proxy_get_cached_property(G_DBUS_PROXY(self->proxy), name);
}

static void
vigil_cli_append_status_json(VigilCli *self, GString *str)
{
	const gchar *names[] = {"Version", "Mode", "DefaultAction", "PromptTimeout"};
	const gchar *keys[] = {"version", "mode", "default-action", "prompt-timeout"};
	g_autoptr(GVariant) stats = vigil_cli_get_property(self, "Stats");
	g_autoptr(GVariant) interfaces = vigil_cli_get_property(self, "Interfaces");
	g_autoptr(GVariant) connectivity = vigil_cli_get_property(self, "Connectivity");

	g_string_append_c(str, '{');
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GVariant) value = vigil_cli_get_property(self, names[i]);
		if (i > 0)
			g_string_append_c(str, ',');
		vigil_json_append_string(str, keys[i]);
		g_string_append_c(str, ':');
		vigil_cli_json_append_variant(str, value);
	}
	g_string_append(str, ",\"stats\":");
	if (stats != NULL)
		vigil_cli_json_append_dict(str, stats, stats_keys, TRUE, TRUE);
	else
		g_string_append(str, "null");

	g_string_append(str, ",\"interfaces\":");
	vigil_cli_json_append_dicts(str, interfaces, interface_keys);
	g_string_append(str, ",\"connectivity\":");
	vigil_cli_json_append_dicts(str, connectivity, connectivity_keys);
	g_string_append(str, "}\n");
}

static void
vigil_cli_add_field(VigilCliTable *table, const gchar *label, gchar *value)
{
	vigil_cli_table_take_cell(table, g_strdup_printf("%s:", label));
	vigil_cli_table_take_cell(table, value);
}

static gchar *
vigil_cli_format_stat(GVariant *stats, const gchar *key)
{
	guint64 value = 0;

	if (!vigil_cli_dict_get_uint64(stats, key, &value))
		return NULL;
	return g_strdup_printf("%" G_GUINT64_FORMAT, value);
}

static void
vigil_cli_add_stats(VigilCliTable *table, GVariant *stats)
{
	struct {
		const gchar *key;
		const gchar *label;
	} counters[] = {
	    {"queued", N_("Queued")},
	    {"allowed", N_("Allowed")},
	    {"denied", N_("Denied")},
	    {"rejected", N_("Rejected")},
	    {"prompts", N_("Prompts")},
	    {"prompt-timeouts", N_("Prompt timeouts")},
	    {"queue-overruns", N_("Queue overruns")},
	    {"malformed-packets", N_("Malformed packets")},
	};
	const gchar *backend = vigil_cli_dict_get_string(stats, "queue-backend");
	gint64 started = 0;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	if (backend != NULL && g_str_equal(backend, "queue")) {
		vigil_cli_add_field(table,
				    _("Queue backend"),
				    g_strdup(_("queue (the native nft queue expression)")));
	} else if (backend != NULL && g_str_equal(backend, "xt-nfqueue")) {
		vigil_cli_add_field(table,
				    _("Queue backend"),
				    g_strdup(_("xt-nfqueue (the xtables NFQUEUE target through nft "
					       "compat)")));
	} else {
		vigil_cli_add_field(table, _("Queue backend"), g_strdup(backend));
	}
	if (vigil_cli_dict_get_int64(stats, "started", &started) && started > 0) {
		gint64 now = g_get_real_time() / G_USEC_PER_SEC;
		g_autofree gchar *when = vigil_cli_format_timestamp(started);
		g_autofree gchar *uptime = vigil_cli_format_duration(now - started);
		vigil_cli_add_field(table,
				    _("Running since"),
				    /* TRANSLATORS: a date and time, then how long ago that was */
				    g_strdup_printf(_("%s (up %s)"), when, uptime));
	} else {
		vigil_cli_add_field(table, _("Running since"), NULL);
	}
	vigil_cli_add_field(table,
			    _("Live connections"),
			    vigil_cli_format_stat(stats, "connections"));
	vigil_cli_add_field(table, _("Rules"), vigil_cli_format_stat(stats, "rules"));
	for (guint i = 0; i < G_N_ELEMENTS(counters); i++)
		vigil_cli_add_field(table,
				    _(counters[i].label),
				    vigil_cli_format_stat(stats, counters[i].key));

	/* counters a newer daemon adds still show, under their key */
	if (stats == NULL)
		return;
	g_variant_iter_init(&iter, stats);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (!g_strv_contains(stats_keys, key)) {
			if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
				vigil_cli_add_field(table, key, g_variant_dup_string(value, NULL));
			else
				vigil_cli_add_field(table, key, g_variant_print(value, FALSE));
		}
		g_variant_unref(value);
	}
}

static gchar *
vigil_cli_format_rank(GVariant *interface, const gchar *key)
{
	gint64 rank = -1;

	if (!vigil_cli_dict_get_int64(interface, key, &rank) || rank < 0 || rank > G_MAXUINT)
		return NULL;
	if (rank == 0)
		/* TRANSLATORS: the interface that carries the default traffic */
		return g_strdup(_("default"));
	/* TRANSLATORS: the interface that takes over next when this number is 1 */
	return g_strdup_printf(_("backup %u"), (guint)rank);
}

static gchar *
vigil_cli_format_connectivity_summary(GVariant *connectivity, const gchar *name)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	GVariantIter iter;
	GVariant *child;

	if (connectivity == NULL)
		return NULL;
	g_variant_iter_init(&iter, connectivity);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		const gchar *ifname = vigil_cli_dict_get_string(child, "interface");
		const gchar *state = vigil_cli_dict_get_string(child, "state");
		guint64 family = 0;
		if (g_strcmp0(ifname, name) == 0 && state != NULL) {
			if (vigil_cli_dict_get_uint64(child, "family", &family))
				g_ptr_array_add(
				    parts,
				    g_strdup_printf("v%" G_GUINT64_FORMAT " %s", family, state));
			else
				g_ptr_array_add(parts, g_strdup(state));
		}
		g_variant_unref(child);
	}
	if (parts->len == 0)
		return NULL;
	g_ptr_array_add(parts, NULL);
	return g_strjoinv(", ", (gchar **)parts->pdata);
}

static void
vigil_cli_add_connectivity_lines(VigilCliTable *table, GVariant *connectivity, const gchar *name)
{
	GVariantIter iter;
	GVariant *child;

	if (connectivity == NULL)
		return;
	g_variant_iter_init(&iter, connectivity);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		const gchar *ifname = vigil_cli_dict_get_string(child, "interface");
		const gchar *state = vigil_cli_dict_get_string(child, "state");
		const gchar *portal = vigil_cli_dict_get_string(child, "portal-url");
		const gchar *venue = vigil_cli_dict_get_string(child, "venue-url");
		const gchar *detail = vigil_cli_dict_get_string(child, "detail");
		g_autofree gchar *family_str = NULL;
		guint64 family = 0;
		gint64 seconds = -1;
		gint64 bytes = -1;

		if (g_strcmp0(ifname, name) != 0) {
			g_variant_unref(child);
			continue;
		}
		if (vigil_cli_dict_get_uint64(child, "family", &family))
			family_str = g_strdup_printf("v%" G_GUINT64_FORMAT, family);
		else
			family_str = g_strdup("?");
		/* "full" needs no words; anything else says what the probes saw */
		if (g_strcmp0(state, "full") != 0) {
			g_autofree gchar *line = NULL;
			if (detail != NULL && detail[0] != '\0')
				line = g_strdup_printf("    %s %s: %s",
						       family_str,
						       state != NULL ? state : "unknown",
						       detail);
			else
				line = g_strdup_printf("    %s %s",
						       family_str,
						       state != NULL ? state : "unknown");
			vigil_cli_table_add_line(table, line);
		}
		if (portal != NULL && portal[0] != '\0') {
			g_autofree gchar *line =
			    /* TRANSLATORS: the first %s is the IP family, "v4" or "v6" */
			    g_strdup_printf(_("    %s sign-in page: %s"), family_str, portal);
			vigil_cli_table_add_line(table, line);
		}
		if (venue != NULL && venue[0] != '\0') {
			g_autofree gchar *line =
			    g_strdup_printf(_("    %s venue page: %s"), family_str, venue);
			vigil_cli_table_add_line(table, line);
		}
		vigil_cli_dict_get_int64(child, "seconds-remaining", &seconds);
		vigil_cli_dict_get_int64(child, "bytes-remaining", &bytes);
		if (seconds >= 0 || bytes >= 0) {
			g_autofree gchar *time_left =
			    seconds >= 0 ? vigil_cli_format_duration(seconds) : g_strdup("?");
			g_autofree gchar *data_left =
			    bytes >= 0 ? vigil_cli_format_bytes((guint64)bytes) : g_strdup("?");
			g_autofree gchar *line = g_strdup_printf(_("    %s remaining: %s, %s"),
								 family_str,
								 time_left,
								 data_left);
			vigil_cli_table_add_line(table, line);
		}
		g_variant_unref(child);
	}
}

static gchar *
vigil_cli_format_interfaces(GVariant *interfaces, GVariant *connectivity, guint max_width)
{
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	GVariantIter iter;
	GVariant *child;
	guint n = 0;

	vigil_cli_table_set_indent(table, 2);
	vigil_cli_table_add_column(table, "#", VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("NAME"), VIGIL_CLI_ALIGN_LEFT, 6);
	vigil_cli_table_add_column(table, _("KIND"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("CARRIER"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("IPV4"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("IPV6"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("RX"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("TX"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("CONNECTIVITY"), VIGIL_CLI_ALIGN_LEFT, 12);
	vigil_cli_table_add_column(table, _("ADDRESSES"), VIGIL_CLI_ALIGN_LEFT, 12);

	g_variant_iter_init(&iter, interfaces);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		const gchar *name = vigil_cli_dict_get_string(child, "name");
		const gchar *kind = vigil_cli_dict_get_string(child, "kind");
		g_autofree const gchar **addresses = NULL;
		g_autofree const gchar **reasons = NULL;
		gboolean carrier = FALSE;
		gboolean up = TRUE;
		gboolean metered = FALSE;
		guint64 bytes = 0;

		vigil_cli_table_take_cell(table, g_strdup_printf("%u", ++n));
		vigil_cli_table_add_cell(table, name);
		vigil_cli_dict_get_boolean(child, "metered", &metered);
		if (kind != NULL && metered)
			/* TRANSLATORS: an interface kind, e.g. "wwan" */
			vigil_cli_table_take_cell(table, g_strdup_printf(_("%s, metered"), kind));
		else
			vigil_cli_table_add_cell(table, kind);
		/* a link switched off has no carrier either: say which it is */
		if (vigil_cli_dict_get_boolean(child, "up", &up) && !up)
			/* TRANSLATORS: the interface is administratively down */
			vigil_cli_table_add_cell(table, _("off"));
		else if (vigil_cli_dict_get_boolean(child, "carrier", &carrier))
			vigil_cli_table_add_cell(table, carrier ? _("up") : _("down"));
		else
			vigil_cli_table_add_cell(table, NULL);
		vigil_cli_table_take_cell(table, vigil_cli_format_rank(child, "rank-v4"));
		vigil_cli_table_take_cell(table, vigil_cli_format_rank(child, "rank-v6"));
		/* totals: a one-off client sees no rates, they are only sampled for subscribers */
		vigil_cli_table_take_cell(table,
					  vigil_cli_dict_get_uint64(child, "rx-bytes", &bytes)
					      ? vigil_cli_format_bytes(bytes)
					      : NULL);
		vigil_cli_table_take_cell(table,
					  vigil_cli_dict_get_uint64(child, "tx-bytes", &bytes)
					      ? vigil_cli_format_bytes(bytes)
					      : NULL);
		vigil_cli_table_take_cell(
		    table,
		    vigil_cli_format_connectivity_summary(connectivity, name));
		if (g_variant_lookup(child, "addresses", "^a&s", &addresses) &&
		    addresses[0] != NULL)
			vigil_cli_table_take_cell(table, g_strjoinv(", ", (gchar **)addresses));
		else
			vigil_cli_table_add_cell(table, NULL);
		if (g_variant_lookup(child, "reasons", "^a&s", &reasons)) {
			for (guint i = 0; reasons[i] != NULL; i++) {
				g_autofree gchar *line = g_strdup_printf("    - %s", reasons[i]);
				vigil_cli_table_add_line(table, line);
			}
		}
		vigil_cli_add_connectivity_lines(table, connectivity, name);
		g_variant_unref(child);
	}
	if (n == 0)
		return NULL;
	return vigil_cli_table_render(table, max_width);
}

/* does an entry of the array of dictionaries @entries have @value (NULL: any) under @key
 * and @value2 under @key2 (NULL: no second condition)? */
static gboolean
vigil_cli_any_entry(GVariant *entries,
		    const gchar *key,
		    const gchar *value,
		    const gchar *key2,
		    const gchar *value2)
{
	GVariantIter iter;
	GVariant *child;
	gboolean found = FALSE;

	if (entries == NULL)
		return FALSE;
	g_variant_iter_init(&iter, entries);
	while (!found && (child = g_variant_iter_next_value(&iter)) != NULL) {
		found = (value == NULL ||
			 g_strcmp0(vigil_cli_dict_get_string(child, key), value) == 0) &&
			(key2 == NULL ||
			 g_strcmp0(vigil_cli_dict_get_string(child, key2), value2) == 0);
		g_variant_unref(child);
	}
	return found;
}

static gboolean
vigil_cli_interfaces_contain(GVariant *interfaces, const gchar *name)
{
	return vigil_cli_any_entry(interfaces, "name", name, NULL, NULL);
}

/* the Connectivity entries of @ifname, or with NULL those of every interface that
 * @interfaces does not already show; each with what the probes saw */
static gchar *
vigil_cli_format_connectivity(GVariant *connectivity,
			      GVariant *interfaces,
			      const gchar *ifname,
			      gboolean always_detail,
			      guint max_width)
{
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	GVariantIter iter;
	GVariant *child;
	guint n = 0;

	if (connectivity == NULL)
		return NULL;
	vigil_cli_table_set_indent(table, 2);
	vigil_cli_table_add_column(table, _("INTERFACE"), VIGIL_CLI_ALIGN_LEFT, 6);
	vigil_cli_table_add_column(table, _("FAMILY"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("STATE"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("RTT"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("CHECKED"), VIGIL_CLI_ALIGN_LEFT, 0);
	g_variant_iter_init(&iter, connectivity);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		const gchar *name = vigil_cli_dict_get_string(child, "interface");
		const gchar *state = vigil_cli_dict_get_string(child, "state");
		const gchar *detail = vigil_cli_dict_get_string(child, "detail");
		const gchar *portal = vigil_cli_dict_get_string(child, "portal-url");
		const gchar *venue = vigil_cli_dict_get_string(child, "venue-url");
		guint64 family = 0;
		gint64 rtt = -1;
		gint64 checked = 0;
		gint64 seconds = -1;
		gint64 bytes = -1;

		if (ifname != NULL ? g_strcmp0(name, ifname) != 0
				   : vigil_cli_interfaces_contain(interfaces, name)) {
			g_variant_unref(child);
			continue;
		}
		n++;
		vigil_cli_table_add_cell(table, name);
		vigil_cli_table_take_cell(table,
					  vigil_cli_dict_get_uint64(child, "family", &family)
					      ? g_strdup_printf("IPv%" G_GUINT64_FORMAT, family)
					      : NULL);
		vigil_cli_table_add_cell(table, state);
		vigil_cli_dict_get_int64(child, "rtt-usec", &rtt);
		vigil_cli_table_take_cell(table,
					  rtt >= 0 ? g_strdup_printf(_("%.1f ms"), rtt / 1000.0)
						   : NULL);
		vigil_cli_dict_get_int64(child, "checked", &checked);
		vigil_cli_table_take_cell(table,
					  checked > 0 ? vigil_cli_format_timestamp(checked)
						      : g_strdup(_("never")));
		if (detail != NULL && detail[0] != '\0' &&
		    (always_detail || g_strcmp0(state, "full") != 0)) {
			g_autofree gchar *line = g_strdup_printf("    %s", detail);
			vigil_cli_table_add_line(table, line);
		}
		if (portal != NULL && portal[0] != '\0') {
			g_autofree gchar *line = g_strdup_printf(_("    sign-in page: %s"), portal);
			vigil_cli_table_add_line(table, line);
		}
		if (venue != NULL && venue[0] != '\0') {
			g_autofree gchar *line = g_strdup_printf(_("    venue page: %s"), venue);
			vigil_cli_table_add_line(table, line);
		}
		vigil_cli_dict_get_int64(child, "seconds-remaining", &seconds);
		vigil_cli_dict_get_int64(child, "bytes-remaining", &bytes);
		if (seconds >= 0 || bytes >= 0) {
			g_autofree gchar *time_left =
			    seconds >= 0 ? vigil_cli_format_duration(seconds) : g_strdup("?");
			g_autofree gchar *data_left =
			    bytes >= 0 ? vigil_cli_format_bytes((guint64)bytes) : g_strdup("?");
			g_autofree gchar *line =
			    g_strdup_printf(_("    remaining: %s, %s"), time_left, data_left);
			vigil_cli_table_add_line(table, line);
		}
		g_variant_unref(child);
	}
	if (n == 0)
		return NULL;
	return vigil_cli_table_render(table, max_width);
}

static gboolean
vigil_cli_cmd_status(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	g_autoptr(GVariant) timeout = vigil_cli_get_property(self, "PromptTimeout");
	g_autoptr(GVariant) stats = vigil_cli_get_property(self, "Stats");
	g_autoptr(GVariant) interfaces = vigil_cli_get_property(self, "Interfaces");
	g_autoptr(GVariant) connectivity = vigil_cli_get_property(self, "Connectivity");
	g_autofree gchar *text = NULL;
	g_autofree gchar *interfaces_text = NULL;
	g_autofree gchar *connectivity_text = NULL;
	GString *str;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'status' takes no arguments"));
	if (self->opt_json) {
		str = g_string_new(NULL);
		vigil_cli_append_status_json(self, str);
		text = g_string_free(str, FALSE);
		_vigil_cli_print(text);
		return TRUE;
	}

	vigil_cli_table_set_show_header(table, FALSE);
	vigil_cli_table_add_column(table, "FIELD", VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, "VALUE", VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_add_field(table,
			    _("Version"),
			    g_strdup(vigil_dbus_daemon1_get_version(self->proxy)));
	vigil_cli_add_field(table, _("Mode"), g_strdup(vigil_dbus_daemon1_get_mode(self->proxy)));
	vigil_cli_add_field(table,
			    _("Default action"),
			    g_strdup(vigil_dbus_daemon1_get_default_action(self->proxy)));
	if (timeout != NULL && g_variant_is_of_type(timeout, G_VARIANT_TYPE_UINT32))
		vigil_cli_add_field(table,
				    _("Prompt timeout"),
				    g_strdup_printf(_("%u s"), g_variant_get_uint32(timeout)));
	else
		vigil_cli_add_field(table, _("Prompt timeout"), NULL);
	vigil_cli_add_stats(table, stats);
	text = vigil_cli_table_render(table, 0);
	_vigil_cli_print(text);

	if (interfaces != NULL)
		interfaces_text = vigil_cli_format_interfaces(interfaces,
							      connectivity,
							      _vigil_cli_get_terminal_width());
	if (interfaces_text != NULL) {
		_vigil_cli_print(_("\nInterfaces, best first:\n"));
		_vigil_cli_print(interfaces_text);
	}
	connectivity_text = vigil_cli_format_connectivity(connectivity,
							  interfaces,
							  NULL,
							  FALSE,
							  _vigil_cli_get_terminal_width());
	if (connectivity_text != NULL) {
		_vigil_cli_print(_("\nConnectivity:\n"));
		_vigil_cli_print(connectivity_text);
	}
	return TRUE;
}

static gboolean
vigil_cli_cmd_interfaces(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) interfaces = vigil_cli_get_property(self, "Interfaces");
	g_autoptr(GVariant) connectivity = vigil_cli_get_property(self, "Connectivity");
	g_autofree gchar *text = NULL;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'interfaces' takes no arguments"));
	if (self->opt_json) {
		GString *str = g_string_new(NULL);

		vigil_cli_json_append_dicts(str, interfaces, interface_keys);
		g_string_append_c(str, '\n');
		text = g_string_free(str, FALSE);
		_vigil_cli_print(text);
		return TRUE;
	}
	if (interfaces != NULL)
		text = vigil_cli_format_interfaces(interfaces,
						   connectivity,
						   _vigil_cli_get_terminal_width());
	if (text == NULL) {
		_vigil_cli_print(_("No network interfaces known yet.\n"));
		return TRUE;
	}
	_vigil_cli_print(text);
	return TRUE;
}

static gint
vigil_cli_compare_connections_cb(gconstpointer a, gconstpointer b)
{
	GVariant *conn_a = *(GVariant *const *)a;
	GVariant *conn_b = *(GVariant *const *)b;
	g_autofree gchar *app_a = vigil_cli_format_app(conn_a);
	g_autofree gchar *app_b = vigil_cli_format_app(conn_b);
	guint64 pid_a = 0, pid_b = 0, id_a = 0, id_b = 0;
	gint64 started_a = 0, started_b = 0;
	gint rc;

	/* unknown apps last */
	if (app_a == NULL || app_b == NULL) {
		if (app_a != app_b)
			return app_a == NULL ? 1 : -1;
	} else {
		rc = g_ascii_strcasecmp(app_a, app_b);
		if (rc != 0)
			return rc;
		rc = g_strcmp0(app_a, app_b);
		if (rc != 0)
			return rc;
	}
	vigil_cli_dict_get_uint64(conn_a, "pid", &pid_a);
	vigil_cli_dict_get_uint64(conn_b, "pid", &pid_b);
	if (pid_a != pid_b)
		return pid_a < pid_b ? -1 : 1;
	vigil_cli_dict_get_int64(conn_a, "started", &started_a);
	vigil_cli_dict_get_int64(conn_b, "started", &started_b);
	if (started_a != started_b)
		return started_a < started_b ? -1 : 1;
	vigil_cli_dict_get_uint64(conn_a, "id", &id_a);
	vigil_cli_dict_get_uint64(conn_b, "id", &id_b);
	if (id_a != id_b)
		return id_a < id_b ? -1 : 1;
	return 0;
}

static gint
vigil_cli_dict_get_port(GVariant *dict, const gchar *key)
{
	guint64 port = 0;

	if (!vigil_cli_dict_get_uint64(dict, key, &port) || port > G_MAXUINT16)
		return -1;
	return (gint)port;
}

static gchar *
vigil_cli_format_user(GVariant *dict)
{
	const gchar *user = vigil_cli_dict_get_string(dict, "user");
	guint64 uid = 0;

	if (user != NULL && user[0] != '\0')
		return g_strdup(user);
	if (vigil_cli_dict_get_uint64(dict, "uid", &uid))
		return g_strdup_printf("%" G_GUINT64_FORMAT, uid);
	return NULL;
}

static gchar *
vigil_cli_format_pid(GVariant *dict)
{
	guint64 pid = 0;

	if (!vigil_cli_dict_get_uint64(dict, "pid", &pid) || pid == 0)
		return NULL;
	return g_strdup_printf("%" G_GUINT64_FORMAT, pid);
}

static gboolean
vigil_cli_is_inbound(GVariant *dict)
{
	return g_strcmp0(vigil_cli_dict_get_string(dict, "direction"), "in") == 0;
}

static gchar *
vigil_cli_format_bytes_key(GVariant *dict, const gchar *key)
{
	guint64 bytes = 0;

	if (!vigil_cli_dict_get_uint64(dict, key, &bytes))
		return NULL;
	return vigil_cli_format_bytes(bytes);
}

static gboolean
vigil_cli_cmd_connections(VigilCli *self, gchar **args, GError **error)
{
	GVariantBuilder builder;
	g_autoptr(GVariant) connections = NULL;
	g_autoptr(GPtrArray) sorted =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	g_autofree gchar *text = NULL;
	gint64 now = g_get_real_time();
	GVariantIter iter;
	GVariant *child;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'connections' takes no arguments"));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (self->opt_all)
		g_variant_builder_add(&builder, "{sv}", "all", g_variant_new_boolean(TRUE));
	if (self->opt_app != NULL)
		g_variant_builder_add(&builder, "{sv}", "app", g_variant_new_string(self->opt_app));
	if (!vigil_dbus_daemon1_call_get_connections_sync(self->proxy,
							  g_variant_builder_end(&builder),
							  &connections,
							  NULL,
							  error)) {
		_vigil_cli_fixup_error(error, _("failed to list connections"));
		return FALSE;
	}

	if (self->opt_json) {
		GString *str = g_string_new("[");
		gboolean first = TRUE;
		g_variant_iter_init(&iter, connections);
		while ((child = g_variant_iter_next_value(&iter)) != NULL) {
			g_autofree gchar *json = vigil_cli_format_connection_json(child);
			g_string_append(str, first ? "\n" : ",\n");
			g_string_append(str, json);
			g_variant_unref(child);
			first = FALSE;
		}
		g_string_append(str, first ? "]\n" : "\n]\n");
		text = g_string_free(str, FALSE);
		_vigil_cli_print(text);
		return TRUE;
	}

	g_variant_iter_init(&iter, connections);
	while ((child = g_variant_iter_next_value(&iter)) != NULL)
		g_ptr_array_add(sorted, child);
	if (sorted->len == 0) {
		_vigil_cli_print(_("no live connections\n"));
		return TRUE;
	}
	g_ptr_array_sort(sorted, vigil_cli_compare_connections_cb);

	vigil_cli_table_add_column(table, _("APP"), VIGIL_CLI_ALIGN_LEFT, 8);
	vigil_cli_table_add_column(table, _("PID"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("USER"), VIGIL_CLI_ALIGN_LEFT, 6);
	vigil_cli_table_add_column(table, _("PROTO"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("LOCAL"), VIGIL_CLI_ALIGN_LEFT, 12);
	vigil_cli_table_add_column(table, "", VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("REMOTE"), VIGIL_CLI_ALIGN_LEFT, 16);
	vigil_cli_table_add_column(table, _("STATE"), VIGIL_CLI_ALIGN_LEFT, 0);
	/* TRANSLATORS: bytes received */
	vigil_cli_table_add_column(table, _("IN"), VIGIL_CLI_ALIGN_RIGHT, 0);
	/* TRANSLATORS: bytes sent */
	vigil_cli_table_add_column(table, _("OUT"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("AGE"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_set_optional(table, 1);
	vigil_cli_table_set_optional(table, 7);
	vigil_cli_table_set_optional(table, 10);
	for (guint i = 0; i < sorted->len; i++) {
		GVariant *conn = g_ptr_array_index(sorted, i);
		const gchar *src = vigil_cli_dict_get_string(conn, "src");
		const gchar *dst = vigil_cli_dict_get_string(conn, "dst");
		const gchar *host = vigil_cli_dict_get_string(conn, "host");
		gint sport = vigil_cli_dict_get_port(conn, "sport");
		gint dport = vigil_cli_dict_get_port(conn, "dport");
		gint64 started = 0;

		vigil_cli_table_take_cell(table, vigil_cli_format_app(conn));
		vigil_cli_table_take_cell(table, vigil_cli_format_pid(conn));
		vigil_cli_table_take_cell(table, vigil_cli_format_user(conn));
		vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(conn, "proto"));
		/* conntrack's src is whoever opened the connection */
		if (vigil_cli_is_inbound(conn)) {
			vigil_cli_table_take_cell(table,
						  vigil_cli_format_endpoint(dst, NULL, dport));
			vigil_cli_table_add_cell(table, "<-");
			vigil_cli_table_take_cell(table,
						  vigil_cli_format_endpoint(src, host, sport));
		} else {
			vigil_cli_table_take_cell(table,
						  vigil_cli_format_endpoint(src, NULL, sport));
			vigil_cli_table_add_cell(table, "->");
			vigil_cli_table_take_cell(table,
						  vigil_cli_format_endpoint(dst, host, dport));
		}
		vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(conn, "state"));
		vigil_cli_table_take_cell(table, vigil_cli_format_bytes_key(conn, "bytes-in"));
		vigil_cli_table_take_cell(table, vigil_cli_format_bytes_key(conn, "bytes-out"));
		if (vigil_cli_dict_get_int64(conn, "started", &started) && started > 0)
			vigil_cli_table_take_cell(
			    table,
			    vigil_cli_format_duration((now - started) / G_USEC_PER_SEC));
		else
			vigil_cli_table_add_cell(table, NULL);
	}
	text = vigil_cli_table_render(table, _vigil_cli_get_terminal_width());
	_vigil_cli_print(text);
	return TRUE;
}

static VigilCliTable *
vigil_cli_new_events_table(VigilCli *self)
{
	/* room for typical values, so that a followed stream rarely has to widen a column */
	const guint follow_widths[] = {19, 7, 7, 3, 5, 20, 7, 8, 28, 0};
	VigilCliTable *table = vigil_cli_table_new();

	vigil_cli_table_add_column(table, _("TIME"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("VERDICT"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("REASON"), VIGIL_CLI_ALIGN_LEFT, 0);
	/* TRANSLATORS: the direction of a connection, short */
	vigil_cli_table_add_column(table, _("DIR"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("PROTO"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("APP"), VIGIL_CLI_ALIGN_LEFT, 8);
	vigil_cli_table_add_column(table, _("PID"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("USER"), VIGIL_CLI_ALIGN_LEFT, 6);
	vigil_cli_table_add_column(table, _("REMOTE"), VIGIL_CLI_ALIGN_LEFT, 16);
	vigil_cli_table_add_column(table, _("RULE"), VIGIL_CLI_ALIGN_LEFT, 0);
	for (guint i = 0; self->opt_follow && i < G_N_ELEMENTS(follow_widths); i++)
		vigil_cli_table_set_min_width(table, i, follow_widths[i]);
	for (guint i = 0; i < self->event_widths->len; i++)
		vigil_cli_table_set_min_width(table,
					      i,
					      g_array_index(self->event_widths, guint, i));
	vigil_cli_table_set_show_header(table, !self->header_done);
	return table;
}

static void
vigil_cli_add_event_row(VigilCliTable *table, GVariant *event)
{
	const gchar *src = vigil_cli_dict_get_string(event, "src");
	const gchar *dst = vigil_cli_dict_get_string(event, "dst");
	const gchar *host = vigil_cli_dict_get_string(event, "host");
	gint sport = vigil_cli_dict_get_port(event, "sport");
	gint dport = vigil_cli_dict_get_port(event, "dport");

	vigil_cli_table_take_cell(
	    table,
	    vigil_cli_format_iso8601(vigil_cli_dict_get_string(event, "time")));
	vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(event, "verdict"));
	vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(event, "reason"));
	vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(event, "direction"));
	vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(event, "proto"));
	vigil_cli_table_take_cell(table, vigil_cli_format_app(event));
	vigil_cli_table_take_cell(table, vigil_cli_format_pid(event));
	vigil_cli_table_take_cell(table, vigil_cli_format_user(event));
	if (vigil_cli_is_inbound(event)) {
		g_autofree gchar *peer = vigil_cli_format_endpoint(src, host, sport);
		if (dport >= 0)
			vigil_cli_table_take_cell(
			    table,
			    g_strdup_printf("%s -> :%d", peer != NULL ? peer : "-", dport));
		else
			vigil_cli_table_add_cell(table, peer);
	} else {
		vigil_cli_table_take_cell(table, vigil_cli_format_endpoint(dst, host, dport));
	}
	vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(event, "rule"));
}

static void
vigil_cli_print_events(VigilCli *self, GVariant *events)
{
	g_autoptr(VigilCliTable) table = NULL;
	g_autofree gchar *text = NULL;
	GVariantIter iter;
	GVariant *child;

	if (self->opt_json) {
		GString *str = g_string_new(NULL);
		g_variant_iter_init(&iter, events);
		while ((child = g_variant_iter_next_value(&iter)) != NULL) {
			g_autofree gchar *json = vigil_cli_format_event_json(child);
			g_string_append(str, json);
			g_string_append_c(str, '\n');
			g_variant_unref(child);
		}
		text = g_string_free(str, FALSE);
		_vigil_cli_print(text);
		return;
	}
	if (g_variant_n_children(events) == 0)
		return;
	table = vigil_cli_new_events_table(self);
	g_variant_iter_init(&iter, events);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		vigil_cli_add_event_row(table, child);
		g_variant_unref(child);
	}
	text = vigil_cli_table_render(table, _vigil_cli_get_terminal_width());
	_vigil_cli_print(text);
	self->header_done = TRUE;

	/* the next batch keeps these columns, so a followed stream stays aligned */
	g_array_set_size(self->event_widths, vigil_cli_table_get_n_columns(table));
	for (guint i = 0; i < self->event_widths->len; i++)
		g_array_index(self->event_widths, guint, i) = vigil_cli_table_get_width(table, i);
}

/* the events of a batch not shown yet: those numbered above the newest shown, and those of an
 * older vigild that numbers none unless @numbered_only */
static GVariant *
vigil_cli_take_new_events(VigilCli *self, GVariant *events, gboolean numbered_only)
{
	GVariantBuilder builder;
	GVariantIter iter;
	GVariant *child;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	g_variant_iter_init(&iter, events);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		guint64 seq = 0;
		if (vigil_cli_dict_get_uint64(child, "seq", &seq)) {
			if (seq > self->last_seq) {
				self->last_seq = seq;
				g_variant_builder_add_value(&builder, child);
			}
		} else if (!numbered_only) {
			g_variant_builder_add_value(&builder, child);
		}
		g_variant_unref(child);
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

static void
vigil_cli_events_cb(VigilDBusDaemon1 *proxy, GVariant *events, gpointer user_data)
{
	VigilCli *self = VIGIL_CLI(user_data);
	g_autoptr(GVariant) fresh = NULL;

	/* until the backlog is shown, batches wait: their events may be in it */
	if (!self->recent_done) {
		g_ptr_array_add(self->pending, g_variant_ref(events));
		return;
	}
	fresh = vigil_cli_take_new_events(self, events, FALSE);
	vigil_cli_print_events(self, fresh);
}

static void
vigil_cli_show_pending(VigilCli *self)
{
	self->recent_done = TRUE;
	for (guint i = 0; i < self->pending->len; i++) {
		/* an unnumbered batch sent before the backlog was sent is in it */
		g_autoptr(GVariant) fresh =
		    vigil_cli_take_new_events(self, g_ptr_array_index(self->pending, i), TRUE);
		vigil_cli_print_events(self, fresh);
	}
	g_ptr_array_set_size(self->pending, 0);
}

static void
vigil_cli_get_recent_events_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilCli *self = VIGIL_CLI(user_data);
	g_autoptr(GVariant) events = NULL;
	g_autoptr(GVariant) fresh = NULL;
	g_autoptr(GError) error = NULL;

	if (!vigil_dbus_daemon1_call_get_recent_events_finish(VIGIL_DBUS_DAEMON1(source),
							      &events,
							      res,
							      &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		_vigil_cli_fixup_error(&error, _("failed to get the recent events"));
		g_propagate_error(&self->loop_error, g_steal_pointer(&error));
		g_main_loop_quit(self->loop);
		return;
	}
	fresh = vigil_cli_take_new_events(self, events, FALSE);
	vigil_cli_print_events(self, fresh);
	vigil_cli_show_pending(self);
}

static gboolean
vigil_cli_quit_cb(gpointer user_data)
{
	VigilCli *self = VIGIL_CLI(user_data);
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static void
vigil_cli_subscribe_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilCli *self = VIGIL_CLI(user_data);
	g_autoptr(GError) error = NULL;

	/* without a subscription vigild sends no events: following would show nothing */
	if (!vigil_dbus_daemon1_call_subscribe_finish(VIGIL_DBUS_DAEMON1(source), res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		if (self->loop_error == NULL)
			self->loop_error = g_steal_pointer(&error);
		g_main_loop_quit(self->loop);
		return;
	}

	/* subscribed first, so every event after the backlog comes as a signal: no gap */
	if (self->follow_recent) {
		vigil_dbus_daemon1_call_get_recent_events(self->proxy,
							  self->follow_max,
							  self->cancellable,
							  vigil_cli_get_recent_events_cb,
							  self);
		return;
	}
	/* no backlog asked for: what came before the subscription is not news */
	g_ptr_array_set_size(self->pending, 0);
	self->recent_done = TRUE;
}

static void
vigil_cli_follow_start(VigilCli *self)
{
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	self->recent_done = FALSE;
	self->last_seq = 0;
	g_ptr_array_set_size(self->pending, 0);
	vigil_dbus_daemon1_call_subscribe(self->proxy,
					  g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0),
					  self->cancellable,
					  vigil_cli_subscribe_cb,
					  self);
}

static void
vigil_cli_name_owner_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	VigilCli *self = VIGIL_CLI(user_data);
	g_autofree gchar *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(object));

	if (owner == NULL) {
		g_printerr("vigilctl: %s\n", _("vigild stopped; waiting for it to come back"));
		return;
	}
	g_printerr("vigilctl: %s\n", _("vigild is back"));

	/* a new vigild numbers its events from 1 and knows nothing of our subscription; all it
	 * has seen is new to us */
	self->follow_recent = TRUE;
	self->follow_max = 0;
	vigil_cli_follow_start(self);
}

static gboolean
vigil_cli_follow_events(VigilCli *self, guint max, GError **error)
{
	guint sigint_id;
	guint sigterm_id;

	self->loop = g_main_loop_new(NULL, FALSE);
	self->follow_recent = max > 0;
	self->follow_max = max;
	g_signal_connect(self->proxy, "events", G_CALLBACK(vigil_cli_events_cb), self);
	g_signal_connect(self->proxy,
			 "notify::g-name-owner",
			 G_CALLBACK(vigil_cli_name_owner_cb),
			 self);
	vigil_cli_follow_start(self);
	sigint_id = g_unix_signal_add(SIGINT, vigil_cli_quit_cb, self);
	sigterm_id = g_unix_signal_add(SIGTERM, vigil_cli_quit_cb, self);
	g_main_loop_run(self->loop);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	g_cancellable_cancel(self->cancellable);
	g_signal_handlers_disconnect_by_data(self->proxy, self);

	if (self->loop_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&self->loop_error));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_cli_cmd_events(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) events = NULL;
	guint max = self->opt_count > 0 ? (guint)self->opt_count : 0;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'events' takes no arguments"));
	if (self->opt_count < -1)
		return _vigil_cli_usage_error(error, _("-n needs a number of events, 0 or more"));

	/* like tail: the ten newest before following, unless -n says otherwise */
	if (self->opt_follow) {
		if (self->opt_count < 0)
			max = 10;
		return vigil_cli_follow_events(self, max, error);
	}
	if (self->opt_count == 0)
		return TRUE;
	if (!vigil_dbus_daemon1_call_get_recent_events_sync(self->proxy,
							    max,
							    &events,
							    NULL,
							    error)) {
		_vigil_cli_fixup_error(error, _("failed to get the recent events"));
		return FALSE;
	}
	if (!self->opt_json && g_variant_n_children(events) == 0) {
		_vigil_cli_print(_("no events\n"));
		return TRUE;
	}
	vigil_cli_print_events(self, events);
	return TRUE;
}

static gboolean
vigil_cli_cmd_mode(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *text = NULL;
	const gchar *mode;

	if (args[0] == NULL) {
		mode = vigil_dbus_daemon1_get_mode(self->proxy);
		if (mode == NULL) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_FAILED,
					    _("failed to get the mode: vigild did not say"));
			return FALSE;
		}
		text = g_strdup_printf("%s\n", mode);
		_vigil_cli_print(text);
		return TRUE;
	}
	if (args[1] != NULL)
		return _vigil_cli_usage_error(error, _("'mode' takes at most one argument"));
	if (vigil_mode_from_string(args[0]) == VIGIL_MODE_LAST) {
		return _vigil_cli_usage_error(
		    error,
		    _("unknown mode '%s': use ask, allow, deny, block-all "
		      "or monitor"),
		    args[0]);
	}
	reply = _vigil_cli_call_write(self, "SetMode", g_variant_new("(s)", args[0]), error);
	if (reply == NULL) {
		_vigil_cli_fixup_error(error, _("failed to set the mode"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_cli_cmd_default_action(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *text = NULL;
	const gchar *action;
	VigilAction value;

	if (args[0] == NULL) {
		action = vigil_dbus_daemon1_get_default_action(self->proxy);
		if (action == NULL) {
			g_set_error_literal(
			    error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_FAILED,
			    _("failed to get the default action: vigild did not say"));
			return FALSE;
		}
		text = g_strdup_printf("%s\n", action);
		_vigil_cli_print(text);
		return TRUE;
	}
	if (args[1] != NULL)
		return _vigil_cli_usage_error(error,
					      _("'default-action' takes at most one argument"));
	value = vigil_action_from_string(args[0]);
	if (value == VIGIL_ACTION_NONE || value == VIGIL_ACTION_LAST) {
		return _vigil_cli_usage_error(error,
					      _("unknown action '%s': use allow, deny or reject"),
					      args[0]);
	}
	reply =
	    _vigil_cli_call_write(self, "SetDefaultAction", g_variant_new("(s)", args[0]), error);
	if (reply == NULL) {
		_vigil_cli_fixup_error(error, _("failed to set the default action"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_cli_cmd_prompt_timeout(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *text = NULL;
	guint64 seconds = 0;

	if (args[0] == NULL) {
		value = vigil_cli_get_property(self, "PromptTimeout");
		if (value == NULL || !g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
			g_set_error_literal(
			    error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_FAILED,
			    _("failed to get the prompt timeout: vigild did not say"));
			return FALSE;
		}
		text = g_strdup_printf("%u\n", g_variant_get_uint32(value));
		_vigil_cli_print(text);
		return TRUE;
	}
	if (args[1] != NULL)
		return _vigil_cli_usage_error(error,
					      _("'prompt-timeout' takes at most one argument"));
	if (!g_ascii_string_to_unsigned(args[0],
					10,
					VIGIL_CLI_PROMPT_TIMEOUT_MIN,
					VIGIL_CLI_PROMPT_TIMEOUT_MAX,
					&seconds,
					NULL)) {
		return _vigil_cli_usage_error(
		    error,
		    _("'%s' is not a prompt timeout: use %u to %u seconds"),
		    args[0],
		    (guint)VIGIL_CLI_PROMPT_TIMEOUT_MIN,
		    (guint)VIGIL_CLI_PROMPT_TIMEOUT_MAX);
	}
	reply = _vigil_cli_call_write(self,
				      "SetPromptTimeout",
				      g_variant_new("(u)", (guint32)seconds),
				      error);
	if (reply == NULL) {
		_vigil_cli_fixup_error(error, _("failed to set the prompt timeout"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_cli_connectivity_pending(GVariant *connectivity, const gchar *ifname)
{
	return vigil_cli_any_entry(connectivity, "interface", ifname, "state", "checking");
}

static void
vigil_cli_connectivity_changed_cb(VigilDBusDaemon1 *proxy,
				  GVariant *connectivity,
				  gpointer user_data)
{
	GVariant **latest = user_data;

	g_clear_pointer(latest, g_variant_unref);
	*latest = g_variant_ref(connectivity);
}

static gboolean
vigil_cli_wake_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* vigild sends ConnectivityChanged ("checking") before its reply, so the signals that follow
 * the call say when the check is over; a check it declined (one ran moments ago) leaves
 * the last result standing */
static gboolean
vigil_cli_cmd_check_connectivity(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) latest = NULL;
	g_autoptr(GVariant) current = NULL;
	g_autofree gchar *text = NULL;
	const gchar *ifname = args[0];
	gint64 deadline = g_get_monotonic_time() + VIGIL_CLI_CHECK_TIMEOUT_S * G_USEC_PER_SEC;
	gulong handler;
	guint wake_id;

	if (ifname != NULL && args[1] != NULL)
		return _vigil_cli_usage_error(
		    error,
		    _("'check-connectivity' takes at most one interface"));
	handler = g_signal_connect(self->proxy,
				   "connectivity-changed",
				   G_CALLBACK(vigil_cli_connectivity_changed_cb),
				   &latest);
	reply = g_dbus_proxy_call_sync(G_DBUS_PROXY(self->proxy),
				       "CheckConnectivity",
				       g_variant_new("(s)", ifname != NULL ? ifname : ""),
				       G_DBUS_CALL_FLAGS_NONE,
				       -1,
				       NULL,
				       error);
	if (reply == NULL) {
		g_signal_handler_disconnect(self->proxy, handler);
		_vigil_cli_fixup_error(error, _("failed to check connectivity"));
		return FALSE;
	}
	wake_id = g_timeout_add_seconds(1, vigil_cli_wake_cb, NULL);
	for (;;) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_clear_pointer(&current, g_variant_unref);
		current = latest != NULL ? g_variant_ref(latest)
					 : vigil_cli_get_property(self, "Connectivity");
		if (!vigil_cli_connectivity_pending(current, ifname))
			break;
		if (g_get_monotonic_time() > deadline) {
			g_source_remove(wake_id);
			g_signal_handler_disconnect(self->proxy, handler);
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_TIMED_OUT,
				    _("failed to check connectivity: no result in %u seconds"),
				    (guint)VIGIL_CLI_CHECK_TIMEOUT_S);
			return FALSE;
		}
		g_main_context_iteration(NULL, TRUE);
	}
	g_source_remove(wake_id);
	g_signal_handler_disconnect(self->proxy, handler);
	text = vigil_cli_format_connectivity(current,
					     NULL,
					     ifname,
					     TRUE,
					     _vigil_cli_get_terminal_width());
	if (text == NULL) {
		_vigil_cli_print(_("No interface to check: none is up with an address.\n"));
		return TRUE;
	}
	_vigil_cli_print(text);
	return TRUE;
}

static gboolean
vigil_cli_cmd_top(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(VigilCliTop) top = NULL;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'top' takes no arguments"));
	top = vigil_cli_top_new(self->proxy, self->opt_all);
	return vigil_cli_top_run(top, error);
}

static const VigilCliCommand commands[] = {
    {"status",
     "",
     N_("Show the daemon's mode, counters and network interfaces"),
     N_("failed to get the status"),
     NULL,
     VIGIL_CLI_OPTION_JSON,
     vigil_cli_cmd_status},
    {"interfaces",
     "",
     N_("List the network interfaces, best first, with the reasons for their rank"),
     N_("failed to get the interfaces"),
     NULL,
     VIGIL_CLI_OPTION_JSON,
     vigil_cli_cmd_interfaces},
    {"connections",
     "",
     N_("List live connections"),
     N_("failed to list connections"),
     NULL,
     VIGIL_CLI_OPTION_JSON | VIGIL_CLI_OPTION_ALL | VIGIL_CLI_OPTION_APP,
     vigil_cli_cmd_connections},
    {"events",
     "",
     N_("Show recent verdicts, and with --follow new ones as they happen"),
     N_("failed to get the recent events"),
     NULL,
     VIGIL_CLI_OPTION_JSON | VIGIL_CLI_OPTION_FOLLOW | VIGIL_CLI_OPTION_COUNT,
     vigil_cli_cmd_events},
    {"rules list",
     "",
     N_("List the rules"),
     N_("failed to list rules"),
     NULL,
     VIGIL_CLI_OPTION_JSON | VIGIL_CLI_OPTION_ORIGIN | VIGIL_CLI_OPTION_APP,
     _vigil_cli_rules_list},
    {"rules add",
     N_("ACTION"),
     N_("Add a rule (ACTION is allow, deny or reject) and print its id"),
     N_("failed to add rule"),
     NULL,
     VIGIL_CLI_OPTION_RULE,
     _vigil_cli_rules_add},
    {"rules remove",
     N_("ID…"),
     N_("Remove rules"),
     N_("failed to remove rule"),
     NULL,
     0,
     _vigil_cli_rules_remove},
    {"rules enable",
     N_("ID…"),
     N_("Enable rules"),
     N_("failed to enable rule"),
     NULL,
     0,
     _vigil_cli_rules_enable},
    {"rules disable",
     N_("ID…"),
     N_("Disable rules"),
     N_("failed to disable rule"),
     NULL,
     0,
     _vigil_cli_rules_disable},
    {"rules import",
     N_("FILE…"),
     N_("Import rules from our export or OpenSnitch files (- for stdin) and print their ids"),
     N_("failed to import rules"),
     NULL,
     VIGIL_CLI_OPTION_FORMAT,
     _vigil_cli_rules_import},
    {"rules export",
     N_("[FILE]"),
     N_("Write the rules to FILE, or to stdout"),
     N_("failed to export rules"),
     NULL,
     VIGIL_CLI_OPTION_INCLUDE_MANAGED,
     _vigil_cli_rules_export},
    {"rules save",
     "",
     N_("Write the rules to disk now; --force replaces a rules file that had errors "
	"(the old one is kept beside it)"),
     N_("failed to save rules"),
     NULL,
     VIGIL_CLI_OPTION_FORCE,
     _vigil_cli_rules_save},
    {"mode",
     N_("[MODE]"),
     N_("Show the mode, or set it: ask, allow, deny, block-all or monitor"),
     N_("failed to get the mode"),
     N_("failed to set the mode"),
     0,
     vigil_cli_cmd_mode},
    {"default-action",
     N_("[ACTION]"),
     N_("Show the default action of ask mode, or set it: allow, deny or reject"),
     N_("failed to get the default action"),
     N_("failed to set the default action"),
     0,
     vigil_cli_cmd_default_action},
    {"prompt-timeout",
     N_("[SECONDS]"),
     N_("Show how many seconds an agent has to answer a prompt, or set it: 1 to 3600"),
     N_("failed to get the prompt timeout"),
     N_("failed to set the prompt timeout"),
     0,
     vigil_cli_cmd_prompt_timeout},
    {"check-connectivity",
     N_("[INTERFACE]"),
     N_("Check for a captive portal and internet access now, on one interface or all, "
	"and show the result"),
     N_("failed to check connectivity"),
     NULL,
     0,
     vigil_cli_cmd_check_connectivity},
    {"top",
     "",
     N_("Live view of connections by app, with rates (one snapshot when not on a terminal)"),
     N_("failed to get connections"),
     NULL,
     VIGIL_CLI_OPTION_ALL,
     vigil_cli_cmd_top},
};

/* "rules add ACTION": the words stay English, the placeholder is translated */
static gchar *
vigil_cli_format_command(const VigilCliCommand *command)
{
	if (command->parameters[0] == '\0')
		return g_strdup(command->name);
	return g_strdup_printf("%s %s", command->name, _(command->parameters));
}

static void
vigil_cli_add_global_entries(VigilCli *self, GOptionContext *context)
{
	const GOptionEntry entries[] = {
	    {"system",
	     '\0',
	     G_OPTION_FLAG_NONE,
	     G_OPTION_ARG_NONE,
	     &self->opt_system,
	     N_("Talk to vigild on the system bus (the default)"),
	     NULL},
	    {"session",
	     '\0',
	     G_OPTION_FLAG_NONE,
	     G_OPTION_ARG_NONE,
	     &self->opt_session,
	     N_("Talk to vigild on the session bus"),
	     NULL},
	    {"address",
	     '\0',
	     G_OPTION_FLAG_NONE,
	     G_OPTION_ARG_STRING,
	     &self->opt_address,
	     N_("Talk to vigild on the bus at this D-Bus address"),
	     N_("ADDRESS")},
	    {NULL},
	};
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
}

static void
vigil_cli_add_command_entries(VigilCli *self, GOptionContext *context, VigilCliOptions options)
{
	struct {
		VigilCliOptions option;
		GOptionEntry entry;
	} entries[] = {
	    {VIGIL_CLI_OPTION_JSON,
	     {"json",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_json,
	      N_("Print JSON for programs"),
	      NULL}},
	    {VIGIL_CLI_OPTION_ALL,
	     {"all",
	      'a',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_all,
	      N_("Every user's connections, not only your own (needs authorization)"),
	      NULL}},
	    {VIGIL_CLI_OPTION_APP,
	     {"app",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_app,
	      N_("Only this executable or app id"),
	      N_("APP")}},
	    {VIGIL_CLI_OPTION_FOLLOW,
	     {"follow",
	      'f',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_follow,
	      N_("Keep printing new events until interrupted"),
	      NULL}},
	    {VIGIL_CLI_OPTION_COUNT,
	     {"lines",
	      'n',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_INT,
	      &self->opt_count,
	      N_("Show the N newest recent events (default all, 10 with --follow)"),
	      N_("N")}},
	    {VIGIL_CLI_OPTION_ORIGIN,
	     {"origin",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_origin,
	      N_("Only rules of this origin: user, prompt, imported or managed"),
	      N_("ORIGIN")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"exe",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_exe,
	      N_("For this executable (an absolute path)"),
	      N_("PATH")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"app-id",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_app_id,
	      N_("For this Flatpak app id"),
	      N_("ID")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"unit",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_unit,
	      N_("For this systemd unit"),
	      N_("UNIT")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"sha256",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_sha256,
	      "Only while the executable has this SHA-256 digest",
	      "HEX"}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"user",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_user,
	      N_("Only for processes of this user (a uid or a user name)"),
	      N_("UID")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"host",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_host,
	      N_("Remote host name, or *.domain for a domain and its subdomains"),
	      N_("HOST")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"cidr",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_cidr,
	      N_("Remote address or prefix"),
	      N_("CIDR")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"port",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_port,
	      N_("Remote port or range, e.g. 443 or 8000-8100"),
	      N_("PORT")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"proto",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_proto,
	      N_("Protocol: any, tcp, udp, icmp, icmpv6, sctp or udplite"),
	      N_("PROTO")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"direction",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_direction,
	      N_("Direction: any, out or in"),
	      N_("DIRECTION")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"lifetime",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_lifetime,
	      N_("Lifetime: once, reboot or forever (the default)"),
	      N_("LIFETIME")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"until",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_until,
	      N_("Expire at this time, e.g. 2026-12-01T18:00 (local time unless a zone is given)"),
	      N_("ISO8601")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"for",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_for,
	      N_("Expire after this long, e.g. 90s, 30m, 2h, 1d or 1h30m"),
	      N_("DURATION")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"note",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_note,
	      N_("A note to remember why"),
	      N_("TEXT")}},
	    {VIGIL_CLI_OPTION_RULE,
	     {"disabled",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_disabled,
	      N_("Add the rule disabled"),
	      NULL}},
	    {VIGIL_CLI_OPTION_FORMAT,
	     {"format",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_STRING,
	      &self->opt_format,
	      N_("vigil or opensnitch (default: guessed from the contents)"),
	      N_("FORMAT")}},
	    {VIGIL_CLI_OPTION_FORCE,
	     {"force",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_force,
	      N_("Replace a rules file that had errors when it was loaded"),
	      NULL}},
	    {VIGIL_CLI_OPTION_INCLUDE_MANAGED,
	     {"include-managed",
	      '\0',
	      G_OPTION_FLAG_NONE,
	      G_OPTION_ARG_NONE,
	      &self->opt_include_managed,
	      N_("Include the administrator's managed drop-in rules"),
	      NULL}},
	};
	g_autoptr(GArray) selected = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));

	for (guint i = 0; i < G_N_ELEMENTS(entries); i++) {
		if ((entries[i].option & options) != 0)
			g_array_append_val(selected, entries[i].entry);
	}
	if (selected->len > 0)
		g_option_context_add_main_entries(context,
						  (const GOptionEntry *)selected->data,
						  GETTEXT_PACKAGE);
}

static gchar *
vigil_cli_get_commands_help(void)
{
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	g_autofree gchar *text = NULL;

	vigil_cli_table_set_show_header(table, FALSE);
	vigil_cli_table_set_indent(table, 2);
	vigil_cli_table_add_column(table, "COMMAND", VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, "SUMMARY", VIGIL_CLI_ALIGN_LEFT, 0);
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		vigil_cli_table_take_cell(table, vigil_cli_format_command(&commands[i]));
		vigil_cli_table_add_cell(table, _(commands[i].summary));
	}
	text = vigil_cli_table_render(table, 0);
	return g_strdup_printf(_("Commands:\n%s\nRun 'vigilctl COMMAND --help' for a command's "
				 "options."),
			       text);
}

/* the command words are the first one or two arguments that are not options */
static guint
vigil_cli_find_words(gchar **argv, guint *words, guint max_words)
{
	guint n = 0;

	for (guint i = 1; argv[i] != NULL && n < max_words; i++) {
		if (g_str_equal(argv[i], "--")) {
			for (i++; argv[i] != NULL && n < max_words; i++)
				words[n++] = i;
			break;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			/* the only option taking a separate value before the command */
			if (g_str_equal(argv[i], "--address") && argv[i + 1] != NULL)
				i++;
			continue;
		}
		words[n++] = i;
		if (n == 1 && !g_str_equal(argv[i], "rules"))
			break;
	}
	return n;
}

static const VigilCliCommand *
vigil_cli_find_command(gchar **argv, guint *n_words, GError **error)
{
	g_autofree gchar *name = NULL;
	guint words[2] = {0};

	*n_words = vigil_cli_find_words(argv, words, 2);
	if (*n_words == 0)
		return NULL;
	if (g_str_equal(argv[words[0]], "rules")) {
		if (*n_words < 2) {
			_vigil_cli_usage_error(
			    error,
			    _("'rules' needs a command: list, add, remove, enable, "
			      "disable, import or export"));
			return NULL;
		}
		name = g_strdup_printf("rules %s", argv[words[1]]);
	} else {
		name = g_strdup(argv[words[0]]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	}
	_vigil_cli_usage_error(error, _("unknown command '%s'; see 'vigilctl --help'"), name);
	return NULL;
}

static gboolean
vigil_cli_connect(VigilCli *self, const gchar *what, GError **error)
{
	g_autofree gchar *owner = NULL;

	if (self->opt_address != NULL) {
		self->connection = g_dbus_connection_new_for_address_sync(
		    self->opt_address,
		    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		    NULL,
		    NULL,
		    error);
		if (self->connection == NULL) {
			g_prefix_error(error, _("failed to connect to %s: "), self->opt_address);
			return FALSE;
		}
	} else {
		GBusType bus_type = self->opt_session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;
		self->connection = g_bus_get_sync(bus_type, NULL, error);
		if (self->connection == NULL) {
			if (self->opt_session)
				g_prefix_error_literal(error,
						       _("failed to connect to the session bus: "));
			else
				g_prefix_error_literal(error,
						       _("failed to connect to the system bus: "));
			return FALSE;
		}
	}

	self->proxy = vigil_dbus_daemon1_proxy_new_sync(self->connection,
							G_DBUS_PROXY_FLAGS_NONE,
							VIGIL_DBUS_NAME,
							VIGIL_DBUS_PATH,
							NULL,
							error);
	if (self->proxy == NULL) {
		_vigil_cli_fixup_error(error, what);
		return FALSE;
	}
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(self->proxy), VIGIL_CLI_CALL_TIMEOUT_MS);

	/* the proxy tried to activate it already */
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(self->proxy));
	if (owner == NULL) {
		g_set_error(error,
			    G_DBUS_ERROR,
			    G_DBUS_ERROR_SERVICE_UNKNOWN,
			    _("%s: vigild is not running"),
			    what);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_cli_run_internal(VigilCli *self, gint argc, gchar **argv, GError **error)
{
	const VigilCliCommand *command;
	g_autoptr(GOptionContext) context = NULL;
	g_auto(GStrv) args = g_new0(gchar *, argc + 1);
	g_autofree gchar *parameters = NULL;
	guint n_words = 0;
	guint n_bus = 0;

	for (gint i = 0; i < argc; i++)
		args[i] = g_strdup(argv[i]);

	command = vigil_cli_find_command(args, &n_words, error);
	if (command == NULL && n_words > 0)
		return FALSE;
	if (command == NULL) {
		const GOptionEntry version_entries[] = {
		    {"version",
		     '\0',
		     G_OPTION_FLAG_NONE,
		     G_OPTION_ARG_NONE,
		     &self->opt_version,
		     N_("Show the version of vigilctl"),
		     NULL},
		    {NULL},
		};
		g_autofree gchar *description = vigil_cli_get_commands_help();
		context = g_option_context_new(N_("COMMAND [ARGUMENT…]"));
		g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
		g_option_context_set_summary(context,
					     N_("Control the Vigil application firewall."));
		g_option_context_set_description(context, description);
		vigil_cli_add_global_entries(self, context);
		g_option_context_add_main_entries(context, version_entries, GETTEXT_PACKAGE);
		if (!g_option_context_parse_strv(context, &args, error))
			return FALSE;
		if (self->opt_version) {
			_vigil_cli_print("vigilctl " PACKAGE_VERSION "\n");
			return TRUE;
		}
		return _vigil_cli_usage_error(error, _("no command given; see 'vigilctl --help'"));
	}

	parameters = vigil_cli_format_command(command);
	context = g_option_context_new(parameters);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, command->summary);
	vigil_cli_add_command_entries(self, context, command->options);
	vigil_cli_add_global_entries(self, context);
	if (!g_option_context_parse_strv(context, &args, error))
		return FALSE;
	if (self->opt_system)
		n_bus++;
	if (self->opt_session)
		n_bus++;
	if (self->opt_address != NULL)
		n_bus++;
	if (n_bus > 1)
		return _vigil_cli_usage_error(error,
					      _("--system, --session and --address exclude each "
						"other"));

	/* args is now the program name, the command words, then the command's arguments */
	if (g_strv_length(args) < 1 + n_words)
		return _vigil_cli_usage_error(error, _("bad command line"));
	if (!vigil_cli_connect(self,
			       args[1 + n_words] != NULL && command->what_with_args != NULL
				   ? _(command->what_with_args)
				   : _(command->what),
			       error))
		return FALSE;
	return command->func(self, args + 1 + n_words, error);
}

/* runs one command line; prints what went wrong and returns the exit code */
gint
vigil_cli_run(VigilCli *self, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;

	g_return_val_if_fail(VIGIL_IS_CLI(self), VIGIL_CLI_EXIT_FAILURE);

	/* D-Bus errors arrive as VIGIL_ERROR codes only once the domain is registered */
	vigil_error_quark();

	if (vigil_cli_run_internal(self, argc, argv, &error))
		return EXIT_SUCCESS;
	g_printerr("vigilctl: %s\n", error->message);
	if (error->domain == G_OPTION_ERROR)
		return VIGIL_CLI_EXIT_USAGE;
	return VIGIL_CLI_EXIT_FAILURE;
}

static void
vigil_cli_dispose(GObject *object)
{
	VigilCli *self = VIGIL_CLI(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->proxy);
	g_clear_object(&self->connection);
	g_clear_pointer(&self->loop, g_main_loop_unref);

	G_OBJECT_CLASS(vigil_cli_parent_class)->dispose(object);
}

static void
vigil_cli_finalize(GObject *object)
{
	VigilCli *self = VIGIL_CLI(object);

	g_free(self->opt_address);
	g_free(self->opt_app);
	g_free(self->opt_origin);
	g_free(self->opt_exe);
	g_free(self->opt_app_id);
	g_free(self->opt_unit);
	g_free(self->opt_sha256);
	g_free(self->opt_user);
	g_free(self->opt_host);
	g_free(self->opt_cidr);
	g_free(self->opt_port);
	g_free(self->opt_proto);
	g_free(self->opt_direction);
	g_free(self->opt_lifetime);
	g_free(self->opt_until);
	g_free(self->opt_for);
	g_free(self->opt_note);
	g_free(self->opt_format);
	g_clear_error(&self->loop_error);
	g_array_unref(self->event_widths);
	g_ptr_array_unref(self->pending);

	G_OBJECT_CLASS(vigil_cli_parent_class)->finalize(object);
}

static void
vigil_cli_class_init(VigilCliClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_cli_dispose;
	object_class->finalize = vigil_cli_finalize;
}

static void
vigil_cli_init(VigilCli *self)
{
	self->opt_count = -1;
	self->event_widths = g_array_new(FALSE, TRUE, sizeof(guint));
	self->pending = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
}

VigilCli *
vigil_cli_new(void)
{
	return g_object_new(VIGIL_TYPE_CLI, NULL);
}
