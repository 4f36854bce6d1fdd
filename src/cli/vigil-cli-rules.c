/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilCli"

#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "vigil-cli-format.h"
#include "vigil-cli-private.h"
#include "vigil-error.h"
#include "vigil-rule-store.h"
#include "vigil-rule.h"

/* the rule keys in the order of the rule model, for rules list --json */
static const gchar *const rule_keys[] = {
    "id",      "enabled",   "action",	 "exe",	    "app-id", "unit",	 "sha256",
    "user",    "direction", "protocol",	 "host",    "cidr",   "port",	 "lifetime",
    "expires", "pid",	    "pid-start", "boot-id", "origin", "created", "last-used",
    "hits",    "note",	    "read-only", NULL};

static gboolean
vigil_cli_rules_check_ids(gchar **args, const gchar *command, GError **error)
{
	if (args[0] == NULL)
		return _vigil_cli_usage_error(error, _("'rules %s' needs a rule id"), command);
	for (guint i = 0; args[i] != NULL; i++) {
		if (!g_utf8_validate(args[i], -1, NULL) || args[i][0] == '\0')
			return _vigil_cli_usage_error(error, _("'%s' is not a rule id"), args[i]);
	}
	return TRUE;
}

/* a rule the model cannot read (a newer daemon's key) is still listed */
static gchar *
vigil_cli_rules_describe(GVariant *dict)
{
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error_local = NULL;
	const gchar *action = vigil_cli_dict_get_string(dict, "action");

	rule = vigil_rule_new_from_variant(dict, &error_local);
	if (rule != NULL)
		return vigil_rule_to_string(rule);
	/* TRANSLATORS: a rule action, then why the rule cannot be shown */
	return g_strdup_printf(_("%s (cannot show: %s)"),
			       action != NULL ? action : "?",
			       error_local->message);
}

gboolean
_vigil_cli_rules_list(VigilCli *self, gchar **args, GError **error)
{
	GVariantBuilder builder;
	g_autoptr(GVariant) rules = NULL;
	g_autoptr(VigilCliTable) table = vigil_cli_table_new();
	g_autofree gchar *text = NULL;
	GVariantIter iter;
	GVariant *child;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'rules list' takes no arguments"));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (self->opt_origin != NULL)
		g_variant_builder_add(&builder,
				      "{sv}",
				      "origin",
				      g_variant_new_string(self->opt_origin));
	if (self->opt_app != NULL)
		g_variant_builder_add(&builder, "{sv}", "app", g_variant_new_string(self->opt_app));
	if (!vigil_dbus_daemon1_call_get_rules_sync(self->proxy,
						    g_variant_builder_end(&builder),
						    &rules,
						    NULL,
						    error)) {
		_vigil_cli_fixup_error(error, _("failed to list rules"));
		return FALSE;
	}

	if (self->opt_json) {
		GString *str = g_string_new("[");
		gboolean first = TRUE;
		g_variant_iter_init(&iter, rules);
		while ((child = g_variant_iter_next_value(&iter)) != NULL) {
			g_string_append(str, first ? "\n" : ",\n");
			vigil_cli_json_append_dict(str, child, rule_keys, FALSE, TRUE);
			g_variant_unref(child);
			first = FALSE;
		}
		g_string_append(str, first ? "]\n" : "\n]\n");
		text = g_string_free(str, FALSE);
		_vigil_cli_print(text);
		return TRUE;
	}

	if (g_variant_n_children(rules) == 0) {
		_vigil_cli_print(_("no rules\n"));
		return TRUE;
	}
	vigil_cli_table_add_column(table, _("ID"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("ENABLED"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("ORIGIN"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("HITS"), VIGIL_CLI_ALIGN_RIGHT, 0);
	vigil_cli_table_add_column(table, _("LAST USED"), VIGIL_CLI_ALIGN_LEFT, 0);
	vigil_cli_table_add_column(table, _("RULE"), VIGIL_CLI_ALIGN_LEFT, 20);
	vigil_cli_table_add_column(table, _("NOTE"), VIGIL_CLI_ALIGN_LEFT, 8);
	g_variant_iter_init(&iter, rules);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		gboolean enabled = TRUE;
		gboolean read_only = FALSE;
		const gchar *origin = vigil_cli_dict_get_string(child, "origin");
		guint64 hits = 0;
		gint64 last_used = 0;

		vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(child, "id"));
		vigil_cli_dict_get_boolean(child, "enabled", &enabled);
		vigil_cli_table_add_cell(table, enabled ? _("yes") : _("no"));
		vigil_cli_dict_get_boolean(child, "read-only", &read_only);
		if (read_only && g_strcmp0(origin, "managed") != 0)
			vigil_cli_table_take_cell(
			    table,
			    /* TRANSLATORS: a rule origin, e.g. "user" */
			    g_strdup_printf(_("%s, read-only"), origin != NULL ? origin : "-"));
		else
			vigil_cli_table_add_cell(table, origin);
		vigil_cli_dict_get_uint64(child, "hits", &hits);
		vigil_cli_table_take_cell(table, g_strdup_printf("%" G_GUINT64_FORMAT, hits));
		if (vigil_cli_dict_get_int64(child, "last-used", &last_used) && last_used > 0)
			vigil_cli_table_take_cell(table, vigil_cli_format_timestamp(last_used));
		else
			vigil_cli_table_add_cell(table, _("never"));
		vigil_cli_table_take_cell(table, vigil_cli_rules_describe(child));
		vigil_cli_table_add_cell(table, vigil_cli_dict_get_string(child, "note"));
		g_variant_unref(child);
	}
	text = vigil_cli_table_render(table, _vigil_cli_get_terminal_width());
	_vigil_cli_print(text);
	return TRUE;
}

/* "90", "90s", "30m", "2h", "1d", "1w", or sums such as "1h30m" */
static gboolean
vigil_cli_rules_parse_duration(const gchar *text, gint64 *seconds, GError **error)
{
	const gchar *p = text;
	gint64 total = 0;

	if (text == NULL || text[0] == '\0')
		return _vigil_cli_usage_error(error, _("--for needs a duration such as 30m or 2h"));
	while (*p != '\0') {
		gchar *end = NULL;
		guint64 value;
		gint64 unit = 1;

		if (!g_ascii_isdigit(*p))
			return _vigil_cli_usage_error(error,
						      _("'%s' is not a duration such as 30m or 2h"),
						      text);
		value = g_ascii_strtoull(p, &end, 10);
		p = end;
		switch (*p) {
		case 's':
			p++;
			break;
		case 'm':
			unit = 60;
			p++;
			break;
		case 'h':
			unit = 3600;
			p++;
			break;
		case 'd':
			unit = 86400;
			p++;
			break;
		case 'w':
			unit = 7 * 86400;
			p++;
			break;
		case '\0':
			break;
		default:
			return _vigil_cli_usage_error(error,
						      _("'%s' is not a duration such as 30m or 2h"),
						      text);
		}
		if (value > (guint64)(G_MAXINT32 / unit) || total > G_MAXINT32)
			return _vigil_cli_usage_error(error, _("duration '%s' is too long"), text);
		total += (gint64)value * unit;
	}
	if (total <= 0)
		return _vigil_cli_usage_error(error, _("--for needs a duration longer than zero"));
	*seconds = total;
	return TRUE;
}

/* ISO 8601 with or without a zone (local time), "T" or a space, seconds optional, or a date */
static gboolean
vigil_cli_rules_parse_time(const gchar *text, gint64 *unix_seconds, GError **error)
{
	g_autoptr(GTimeZone) local = g_time_zone_new_local();
	g_autoptr(GDateTime) dt = NULL;
	g_autofree gchar *normal = g_strdup(text);

	g_strstrip(normal);
	if (strlen(normal) == 10) {
		g_autofree gchar *date = g_steal_pointer(&normal);
		normal = g_strdup_printf("%sT00:00:00", date);
	} else if (strlen(normal) > 10 && normal[10] == ' ') {
		normal[10] = 'T';
	}
	dt = g_date_time_new_from_iso8601(normal, local);
	if (dt == NULL && strlen(normal) == 16) {
		g_autofree gchar *with_seconds = g_strdup_printf("%s:00", normal);
		dt = g_date_time_new_from_iso8601(with_seconds, local);
	}
	if (dt == NULL)
		return _vigil_cli_usage_error(error,
					      _("'%s' is not a time such as 2026-12-01T18:00 or "
						"2026-12-01T18:00:00Z"),
					      text);
	*unix_seconds = g_date_time_to_unix(dt);
	return TRUE;
}

static gboolean
vigil_cli_rules_parse_user(const gchar *text, guint32 *uid, GError **error)
{
	struct passwd *pw;
	gchar *end = NULL;
	guint64 value;

	if (text[0] != '\0' && g_ascii_isdigit(text[0])) {
		value = g_ascii_strtoull(text, &end, 10);
		if (*end != '\0' || value >= G_MAXUINT32)
			return _vigil_cli_usage_error(error, _("'%s' is not a uid"), text);
		*uid = (guint32)value;
		return TRUE;
	}
	pw = getpwnam(text);
	if (pw == NULL)
		return _vigil_cli_usage_error(error, _("no user '%s'"), text);
	*uid = pw->pw_uid;
	return TRUE;
}

static void
vigil_cli_rules_add_string(GVariantBuilder *builder, const gchar *key, const gchar *value)
{
	if (value != NULL)
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

/* the a{sv} of AddRule() from the command line; NULL with a usage error */
static GVariant *
vigil_cli_rules_build(VigilCli *self, const gchar *action, GError **error)
{
	GVariantBuilder builder;
	const gchar *lifetime = self->opt_lifetime;
	gint64 expires = 0;

	if (g_strcmp0(action, "allow") != 0 && g_strcmp0(action, "deny") != 0 &&
	    g_strcmp0(action, "reject") != 0) {
		_vigil_cli_usage_error(error,
				       _("unknown action '%s': use allow, deny or reject"),
				       action);
		return NULL;
	}
	if (self->opt_until != NULL && self->opt_for != NULL) {
		_vigil_cli_usage_error(error, _("--until and --for exclude each other"));
		return NULL;
	}
	if (self->opt_until != NULL || self->opt_for != NULL) {
		if (lifetime != NULL && g_strcmp0(lifetime, "until") != 0) {
			_vigil_cli_usage_error(error,
					       _("--until and --for need --lifetime until, or no "
						 "--lifetime"));
			return NULL;
		}
		lifetime = "until";
		if (self->opt_for != NULL) {
			gint64 seconds = 0;
			if (!vigil_cli_rules_parse_duration(self->opt_for, &seconds, error))
				return NULL;
			expires = g_get_real_time() / G_USEC_PER_SEC + seconds;
		} else {
			if (!vigil_cli_rules_parse_time(self->opt_until, &expires, error))
				return NULL;
			if (expires <= g_get_real_time() / G_USEC_PER_SEC) {
				_vigil_cli_usage_error(error,
						       _("--until %s is in the past"),
						       self->opt_until);
				return NULL;
			}
		}
	} else if (g_strcmp0(lifetime, "until") == 0) {
		_vigil_cli_usage_error(error, _("--lifetime until needs --until or --for"));
		return NULL;
	}

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	vigil_cli_rules_add_string(&builder, "action", action);
	if (self->opt_disabled)
		g_variant_builder_add(&builder, "{sv}", "enabled", g_variant_new_boolean(FALSE));
	vigil_cli_rules_add_string(&builder, "exe", self->opt_exe);
	vigil_cli_rules_add_string(&builder, "app-id", self->opt_app_id);
	vigil_cli_rules_add_string(&builder, "unit", self->opt_unit);
	vigil_cli_rules_add_string(&builder, "sha256", self->opt_sha256);
	if (self->opt_user != NULL) {
		guint32 uid = 0;
		if (!vigil_cli_rules_parse_user(self->opt_user, &uid, error)) {
			g_variant_builder_clear(&builder);
			return NULL;
		}
		g_variant_builder_add(&builder, "{sv}", "user", g_variant_new_uint32(uid));
	}
	vigil_cli_rules_add_string(&builder, "direction", self->opt_direction);
	vigil_cli_rules_add_string(&builder, "protocol", self->opt_proto);
	vigil_cli_rules_add_string(&builder, "host", self->opt_host);
	vigil_cli_rules_add_string(&builder, "cidr", self->opt_cidr);
	vigil_cli_rules_add_string(&builder, "port", self->opt_port);
	vigil_cli_rules_add_string(&builder, "lifetime", lifetime);
	if (expires != 0)
		g_variant_builder_add(&builder, "{sv}", "expires", g_variant_new_int64(expires));
	vigil_cli_rules_add_string(&builder, "note", self->opt_note);
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

gboolean
_vigil_cli_rules_add(VigilCli *self, gchar **args, GError **error)
{
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *text = NULL;
	const gchar *id = NULL;

	if (args[0] == NULL)
		return _vigil_cli_usage_error(
		    error,
		    _("'rules add' needs an action: allow, deny or reject"));
	if (args[1] != NULL)
		return _vigil_cli_usage_error(error,
					      _("'rules add' takes one action; give the rest as "
						"options"));
	dict = vigil_cli_rules_build(self, args[0], error);
	if (dict == NULL)
		return FALSE;

	/* the daemon checks again; checking here saves a password prompt for a typo */
	rule = vigil_rule_new_from_variant(dict, &error_local);
	if (rule == NULL)
		return _vigil_cli_usage_error(error, _("invalid rule: %s"), error_local->message);

	reply = _vigil_cli_call_write(self, "AddRule", g_variant_new("(@a{sv})", dict), error);
	if (reply == NULL) {
		_vigil_cli_fixup_error(error, _("failed to add rule"));
		return FALSE;
	}
	g_variant_get(reply, "(&s)", &id);
	text = g_strdup_printf("%s\n", id);
	_vigil_cli_print(text);
	return TRUE;
}

gboolean
_vigil_cli_rules_remove(VigilCli *self, gchar **args, GError **error)
{
	if (!vigil_cli_rules_check_ids(args, "remove", error))
		return FALSE;
	for (guint i = 0; args[i] != NULL; i++) {
		g_autoptr(GVariant) reply = NULL;
		reply =
		    _vigil_cli_call_write(self, "RemoveRule", g_variant_new("(s)", args[i]), error);
		if (reply == NULL) {
			g_autofree gchar *what =
			    g_strdup_printf(_("failed to remove rule %s"), args[i]);
			_vigil_cli_fixup_error(error, what);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
vigil_cli_rules_set_enabled(VigilCli *self, gchar **args, gboolean enabled, GError **error)
{
	if (!vigil_cli_rules_check_ids(args, enabled ? "enable" : "disable", error))
		return FALSE;
	for (guint i = 0; args[i] != NULL; i++) {
		GVariantBuilder builder;
		g_autoptr(GVariant) reply = NULL;

		g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&builder, "{sv}", "enabled", g_variant_new_boolean(enabled));
		reply = _vigil_cli_call_write(self,
					      "UpdateRule",
					      g_variant_new("(sa{sv})", args[i], &builder),
					      error);
		if (reply == NULL) {
			g_autofree gchar *what =
			    g_strdup_printf(enabled ? _("failed to enable rule %s")
						    : _("failed to disable rule %s"),
					    args[i]);
			_vigil_cli_fixup_error(error, what);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
_vigil_cli_rules_enable(VigilCli *self, gchar **args, GError **error)
{
	return vigil_cli_rules_set_enabled(self, args, TRUE, error);
}

gboolean
_vigil_cli_rules_disable(VigilCli *self, gchar **args, GError **error)
{
	return vigil_cli_rules_set_enabled(self, args, FALSE, error);
}

/* OpenSnitch rules have an "operator"; anything else goes to the daemon as our format,
 * which reports what is wrong with it */
static const gchar *
vigil_cli_rules_guess_format(const gchar *contents)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	VigilJsonFlaw flaw;
	JsonNode *root;
	JsonObject *obj = NULL;

	/* json-glib would recurse into a deeply nested file until the stack ends; the daemon
	 * reports such a file by line */
	if (!vigil_rule_store_check_json(contents, strlen(contents), &flaw) ||
	    !json_parser_load_from_data(parser, contents, -1, NULL))
		return "vigil";
	root = json_parser_get_root(parser);
	if (root == NULL)
		return "vigil";
	if (JSON_NODE_HOLDS_OBJECT(root)) {
		obj = json_node_get_object(root);
	} else if (JSON_NODE_HOLDS_ARRAY(root)) {
		JsonArray *array = json_node_get_array(root);
		if (json_array_get_length(array) > 0) {
			JsonNode *first = json_array_get_element(array, 0);
			if (JSON_NODE_HOLDS_OBJECT(first))
				obj = json_node_get_object(first);
		}
	}
	if (obj != NULL && json_object_has_member(obj, "operator"))
		return "opensnitch";
	return "vigil";
}

static gboolean
vigil_cli_rules_read_file(const gchar *path, gchar **contents, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gsize len = 0;

	if (g_str_equal(path, "-")) {
		g_autoptr(GInputStream) stream = g_unix_input_stream_new(0, FALSE);
		g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable();
		if (g_output_stream_splice(memory,
					   stream,
					   G_OUTPUT_STREAM_SPLICE_NONE,
					   NULL,
					   error) < 0)
			return FALSE;
		/* a terminating NUL for the string */
		if (!g_output_stream_write_all(memory, "", 1, NULL, NULL, error) ||
		    !g_output_stream_close(memory, NULL, error))
			return FALSE;
		len = g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(memory)) - 1;
		*contents = g_memory_output_stream_steal_data(G_MEMORY_OUTPUT_STREAM(memory));
	} else if (!g_file_get_contents(path, contents, &len, &error_local)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, error_local->message);
		return FALSE;
	}
	if (!g_utf8_validate(*contents, (gssize)len, NULL)) {
		g_clear_pointer(contents, g_free);
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    _("not UTF-8 text (or it holds a NUL byte)"));
		return FALSE;
	}
	return TRUE;
}

gboolean
_vigil_cli_rules_import(VigilCli *self, gchar **args, GError **error)
{
	guint n_problems = 0;
	guint n_failed = 0;
	guint n_files = 0;

	if (args[0] == NULL)
		return _vigil_cli_usage_error(error, _("'rules import' needs a file"));
	if (self->opt_format != NULL && g_strcmp0(self->opt_format, "vigil") != 0 &&
	    g_strcmp0(self->opt_format, "opensnitch") != 0)
		return _vigil_cli_usage_error(error,
					      _("unknown format '%s': use vigil or opensnitch"),
					      self->opt_format);

	/* one file failing does not stop the others; the exit code tells */
	for (guint i = 0; args[i] != NULL; i++) {
		g_autofree gchar *contents = NULL;
		g_autoptr(GError) error_local = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autofree const gchar **ids = NULL;
		g_autofree const gchar **problems = NULL;
		const gchar *path = args[i];
		const gchar *format = self->opt_format;
		GString *out;

		n_files++;
		if (!vigil_cli_rules_read_file(path, &contents, &error_local)) {
			g_printerr(_("vigilctl: failed to read %s: %s\n"),
				   g_str_equal(path, "-") ? "stdin" : path,
				   error_local->message);
			n_failed++;
			continue;
		}
		if (format == NULL)
			format = vigil_cli_rules_guess_format(contents);
		reply = _vigil_cli_call_write(self,
					      "ImportRules",
					      g_variant_new("(ss)", format, contents),
					      &error_local);
		if (reply == NULL) {
			vigil_cli_format_error(error_local);
			g_printerr(_("vigilctl: failed to import %s: %s\n"),
				   g_str_equal(path, "-") ? "stdin" : path,
				   error_local->message);
			n_failed++;
			/* the next file would be refused the same way */
			if (g_error_matches(error_local, VIGIL_ERROR, VIGIL_ERROR_NOT_AUTHORIZED) ||
			    g_error_matches(error_local,
					    G_DBUS_ERROR,
					    G_DBUS_ERROR_SERVICE_UNKNOWN))
				break;
			continue;
		}
		g_variant_get(reply, "(^a&s^a&s)", &ids, &problems);
		out = g_string_new(NULL);
		for (guint j = 0; ids[j] != NULL; j++)
			g_string_append_printf(out, "%s\n", ids[j]);
		_vigil_cli_print(out->str);
		g_string_free(out, TRUE);
		for (guint j = 0; problems[j] != NULL; j++) {
			g_autofree gchar *problem = vigil_cli_format_sanitized(problems[j]);
			g_printerr("vigilctl: %s: %s\n",
				   g_str_equal(path, "-") ? "stdin" : path,
				   problem);
			n_problems++;
		}
	}
	if (n_failed > 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_FAILED,
			    _("failed to import %u of %u files"),
			    n_failed,
			    n_files);
		return FALSE;
	}
	if (n_problems > 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    g_dngettext(GETTEXT_PACKAGE,
					"%u rule could not be imported",
					"%u rules could not be imported",
					n_problems),
			    n_problems);
		return FALSE;
	}
	return TRUE;
}

gboolean
_vigil_cli_rules_export(VigilCli *self, gchar **args, GError **error)
{
	GVariantBuilder builder;
	g_autofree gchar *contents = NULL;

	if (args[0] != NULL && args[1] != NULL)
		return _vigil_cli_usage_error(error, _("'rules export' takes at most one file"));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (self->opt_include_managed)
		g_variant_builder_add(&builder,
				      "{sv}",
				      "include-managed",
				      g_variant_new_boolean(TRUE));
	if (!vigil_dbus_daemon1_call_export_rules_sync(self->proxy,
						       g_variant_builder_end(&builder),
						       &contents,
						       NULL,
						       error)) {
		_vigil_cli_fixup_error(error, _("failed to export rules"));
		return FALSE;
	}
	if (args[0] == NULL || g_str_equal(args[0], "-")) {
		_vigil_cli_print(contents);
		return TRUE;
	}
	if (!g_file_set_contents(args[0], contents, -1, error)) {
		g_prefix_error_literal(error, _("failed to write the rules: "));
		return FALSE;
	}
	return TRUE;
}

gboolean
_vigil_cli_rules_save(VigilCli *self, gchar **args, GError **error)
{
	GVariantBuilder builder;
	g_autoptr(GVariant) reply = NULL;

	if (args[0] != NULL)
		return _vigil_cli_usage_error(error, _("'rules save' takes no arguments"));
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (self->opt_force)
		g_variant_builder_add(&builder, "{sv}", "force", g_variant_new_boolean(TRUE));
	reply = _vigil_cli_call_write(self, "SaveRules", g_variant_new("(a{sv})", &builder), error);
	if (reply == NULL) {
		_vigil_cli_fixup_error(error, _("failed to save rules"));
		return FALSE;
	}
	return TRUE;
}
