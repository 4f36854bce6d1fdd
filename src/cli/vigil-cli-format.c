/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilCli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "vigil-cli-format.h"
#include "vigil-error.h"
#include "vigil-json.h"

/* the design's event JSON, in its order, then the event's number; "app_id" is "app-id" in
 * the a{sv} */
static const gchar *const event_keys[] = {
    "time",  "verdict", "reason", "rule", "direction", "proto", "family", "src",
    "sport", "dst",	"dport",  "host", "iface",     "pid",	"exe",	  "cmdline",
    "uid",   "user",	"app_id", "unit", "seq",       NULL};

/* GetConnections() keys in the order the XML documents them */
static const gchar *const connection_keys[] = {
    "id",	  "proto",	 "family",    "src",	 "sport", "dst",      "dport",
    "host",	  "state",	 "direction", "verdict", "rule",  "pid",      "exe",
    "cmdline",	  "uid",	 "user",      "app_id",	 "unit",  "bytes-in", "bytes-out",
    "packets-in", "packets-out", "started",   "iface",	 NULL};

typedef struct {
	gboolean is_line; /* a free text line instead of cells */
	GPtrArray *cells; /* of gchar* */
	gchar *line;
} VigilCliTableRow;

typedef struct {
	gchar *title;
	VigilCliAlign align;
	guint shrink_min; /* 0: never shrink */
	guint min_width;
	gboolean optional; /* may be left out when the terminal is too narrow */
	gboolean hidden;
	guint width; /* after rendering */
} VigilCliTableColumn;

struct _VigilCliTable {
	GPtrArray *columns; /* of VigilCliTableColumn */
	GPtrArray *rows;    /* of VigilCliTableRow */
	guint indent;
	gboolean show_header;
};

static void
vigil_cli_table_row_free(VigilCliTableRow *row)
{
	if (row->cells != NULL)
		g_ptr_array_unref(row->cells);
	g_free(row->line);
	g_free(row);
}

static void
vigil_cli_table_column_free(VigilCliTableColumn *column)
{
	g_free(column->title);
	g_free(column);
}

VigilCliTable *
vigil_cli_table_new(void)
{
	VigilCliTable *self = g_new0(VigilCliTable, 1);
	self->columns = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_cli_table_column_free);
	self->rows = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_cli_table_row_free);
	self->show_header = TRUE;
	return self;
}

void
vigil_cli_table_free(VigilCliTable *self)
{
	if (self == NULL)
		return;
	g_ptr_array_unref(self->columns);
	g_ptr_array_unref(self->rows);
	g_free(self);
}

/* shrink_min: the narrowest this column may become to fit the terminal; 0 keeps it whole */
void
vigil_cli_table_add_column(VigilCliTable *self,
			   const gchar *title,
			   VigilCliAlign align,
			   guint shrink_min)
{
	VigilCliTableColumn *column = g_new0(VigilCliTableColumn, 1);

	g_return_if_fail(self != NULL);
	g_return_if_fail(self->rows->len == 0);

	column->title = g_strdup(title);
	column->align = align;
	column->shrink_min = shrink_min;
	g_ptr_array_add(self->columns, column);
}

void
vigil_cli_table_take_cell(VigilCliTable *self, gchar *text)
{
	VigilCliTableRow *row = NULL;

	g_return_if_fail(self != NULL);
	g_return_if_fail(self->columns->len > 0);

	if (self->rows->len > 0)
		row = g_ptr_array_index(self->rows, self->rows->len - 1);
	if (row == NULL || row->is_line || row->cells->len == self->columns->len) {
		row = g_new0(VigilCliTableRow, 1);
		row->cells = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(self->rows, row);
	}
	g_ptr_array_add(row->cells,
			text != NULL ? vigil_cli_format_sanitized(text) : g_strdup("-"));
	g_free(text);
}

/* NULL is shown as "-" */
void
vigil_cli_table_add_cell(VigilCliTable *self, const gchar *text)
{
	vigil_cli_table_take_cell(self, g_strdup(text));
}

/* a line of free text after the current row, not counted in the column widths */
void
vigil_cli_table_add_line(VigilCliTable *self, const gchar *text)
{
	VigilCliTableRow *row = g_new0(VigilCliTableRow, 1);

	g_return_if_fail(self != NULL);

	row->is_line = TRUE;
	row->line = vigil_cli_format_sanitized(text);
	g_ptr_array_add(self->rows, row);
}

void
vigil_cli_table_set_indent(VigilCliTable *self, guint indent)
{
	g_return_if_fail(self != NULL);
	self->indent = indent;
}

void
vigil_cli_table_set_show_header(VigilCliTable *self, gboolean show_header)
{
	g_return_if_fail(self != NULL);
	self->show_header = show_header;
}

void
vigil_cli_table_set_min_width(VigilCliTable *self, guint column, guint width)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(column < self->columns->len);
	((VigilCliTableColumn *)g_ptr_array_index(self->columns, column))->min_width = width;
}

/* a column to leave out, rightmost first, when shrinking names is not enough */
void
vigil_cli_table_set_optional(VigilCliTable *self, guint column)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(column < self->columns->len);
	((VigilCliTableColumn *)g_ptr_array_index(self->columns, column))->optional = TRUE;
}

/* the width a column had in the last vigil_cli_table_render(); 0 when it was left out */
guint
vigil_cli_table_get_width(VigilCliTable *self, guint column)
{
	g_return_val_if_fail(self != NULL, 0);
	g_return_val_if_fail(column < self->columns->len, 0);
	return ((VigilCliTableColumn *)g_ptr_array_index(self->columns, column))->width;
}

guint
vigil_cli_table_get_n_columns(VigilCliTable *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->columns->len;
}

guint
vigil_cli_table_get_n_rows(VigilCliTable *self)
{
	guint n = 0;

	g_return_val_if_fail(self != NULL, 0);

	for (guint i = 0; i < self->rows->len; i++) {
		VigilCliTableRow *row = g_ptr_array_index(self->rows, i);
		if (!row->is_line)
			n++;
	}
	return n;
}

static guint
vigil_cli_table_get_total_width(VigilCliTable *self)
{
	guint total = self->indent;
	gboolean first = TRUE;

	for (guint i = 0; i < self->columns->len; i++) {
		VigilCliTableColumn *column = g_ptr_array_index(self->columns, i);
		if (column->hidden)
			continue;
		total += column->width + (first ? 0 : 2);
		first = FALSE;
	}
	return total;
}

static void
vigil_cli_table_append_cell(VigilCliTable *self,
			    GString *str,
			    guint idx,
			    gboolean first,
			    const gchar *text)
{
	VigilCliTableColumn *column = g_ptr_array_index(self->columns, idx);
	gboolean last = TRUE;
	g_autofree gchar *shown = vigil_cli_format_truncated(text, column->width);
	guint width = vigil_cli_format_get_display_width(shown);
	guint pad = column->width > width ? column->width - width : 0;

	for (guint i = idx + 1; i < self->columns->len; i++) {
		if (!((VigilCliTableColumn *)g_ptr_array_index(self->columns, i))->hidden)
			last = FALSE;
	}
	if (!first)
		g_string_append(str, "  ");
	if (column->align == VIGIL_CLI_ALIGN_RIGHT) {
		for (guint i = 0; i < pad; i++)
			g_string_append_c(str, ' ');
		g_string_append(str, shown);
		return;
	}
	g_string_append(str, shown);
	if (!last) {
		for (guint i = 0; i < pad; i++)
			g_string_append_c(str, ' ');
	}
}

static void
vigil_cli_table_finish_line(GString *str, gsize start, guint max_width)
{
	g_autofree gchar *line = NULL;

	/* trailing blanks come from empty last cells; a line never exceeds the terminal */
	while (str->len > start && str->str[str->len - 1] == ' ')
		g_string_truncate(str, str->len - 1);
	if (max_width > 0 && vigil_cli_format_get_display_width(str->str + start) > max_width) {
		line = vigil_cli_format_truncated(str->str + start, max_width);
		g_string_truncate(str, start);
		g_string_append(str, line);
	}
	g_string_append_c(str, '\n');
}

/* max_width: the terminal width to fit, shrinking the shrinkable columns; 0 for no limit */
gchar *
vigil_cli_table_render(VigilCliTable *self, guint max_width)
{
	GString *str = g_string_new(NULL);

	g_return_val_if_fail(self != NULL, NULL);

	for (guint c = 0; c < self->columns->len; c++) {
		VigilCliTableColumn *column = g_ptr_array_index(self->columns, c);
		column->hidden = FALSE;
		column->width =
		    MAX(column->min_width,
			self->show_header ? vigil_cli_format_get_display_width(column->title) : 0);
		for (guint r = 0; r < self->rows->len; r++) {
			VigilCliTableRow *row = g_ptr_array_index(self->rows, r);
			if (row->is_line || c >= row->cells->len)
				continue;
			column->width = MAX(
			    column->width,
			    vigil_cli_format_get_display_width(g_ptr_array_index(row->cells, c)));
		}
	}

	/* names matter more than the optional columns: leave those out before cutting names */
	for (guint c = self->columns->len; max_width > 0 && c > 0; c--) {
		VigilCliTableColumn *column = g_ptr_array_index(self->columns, c - 1);
		if (vigil_cli_table_get_total_width(self) <= max_width)
			break;
		if (column->optional) {
			column->hidden = TRUE;
			column->width = 0;
		}
	}

	/* take one column at a time from the widest shrinkable one */
	while (max_width > 0 && vigil_cli_table_get_total_width(self) > max_width) {
		VigilCliTableColumn *widest = NULL;
		for (guint c = 0; c < self->columns->len; c++) {
			VigilCliTableColumn *column = g_ptr_array_index(self->columns, c);
			if (column->shrink_min == 0 || column->width <= column->shrink_min)
				continue;
			if (widest == NULL || column->width > widest->width)
				widest = column;
		}
		if (widest == NULL)
			break;
		widest->width--;
	}

	if (self->show_header) {
		gsize start = str->len;
		gboolean first = TRUE;
		for (guint i = 0; i < self->indent; i++)
			g_string_append_c(str, ' ');
		for (guint c = 0; c < self->columns->len; c++) {
			VigilCliTableColumn *column = g_ptr_array_index(self->columns, c);
			if (column->hidden)
				continue;
			vigil_cli_table_append_cell(self, str, c, first, column->title);
			first = FALSE;
		}
		vigil_cli_table_finish_line(str, start, max_width);
	}
	for (guint r = 0; r < self->rows->len; r++) {
		VigilCliTableRow *row = g_ptr_array_index(self->rows, r);
		gsize start = str->len;
		for (guint i = 0; i < self->indent; i++)
			g_string_append_c(str, ' ');
		if (row->is_line) {
			g_string_append(str, row->line);
		} else {
			gboolean first = TRUE;
			for (guint c = 0; c < self->columns->len; c++) {
				VigilCliTableColumn *column = g_ptr_array_index(self->columns, c);
				const gchar *text =
				    c < row->cells->len ? g_ptr_array_index(row->cells, c) : "";
				if (column->hidden)
					continue;
				vigil_cli_table_append_cell(self, str, c, first, text);
				first = FALSE;
			}
		}
		vigil_cli_table_finish_line(str, start, max_width);
	}
	return g_string_free(str, FALSE);
}

static gboolean
vigil_cli_format_is_utf8_locale(void)
{
	return g_get_charset(NULL);
}

guint
vigil_cli_format_get_display_width(const gchar *text)
{
	guint width = 0;

	for (const gchar *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if (g_unichar_iszerowidth(ch))
			continue;
		width += g_unichar_iswide(ch) ? 2 : 1;
	}
	return width;
}

/* at most @width columns, ending in an ellipsis when cut */
gchar *
vigil_cli_format_truncated(const gchar *text, guint width)
{
	const gchar *ellipsis = vigil_cli_format_is_utf8_locale() ? "…" : "~";
	GString *str;
	guint used = 0;

	if (vigil_cli_format_get_display_width(text) <= width)
		return g_strdup(text);
	str = g_string_new(NULL);
	if (width == 0)
		return g_string_free(str, FALSE);
	for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		guint w = g_unichar_iszerowidth(ch) ? 0 : (g_unichar_iswide(ch) ? 2 : 1);
		if (used + w > width - 1)
			break;
		g_string_append_unichar(str, ch);
		used += w;
	}
	g_string_append(str, ellipsis);
	return g_string_free(str, FALSE);
}

/* what a process calls itself must never drive the terminal: control characters become '?' */
gchar *
vigil_cli_format_sanitized(const gchar *text)
{
	g_autofree gchar *valid = NULL;
	GString *str;

	if (text == NULL)
		return NULL;
	valid = g_utf8_make_valid(text, -1);
	str = g_string_sized_new(strlen(valid));
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if (g_unichar_iscntrl(ch))
			g_string_append_c(str, '?');
		else
			g_string_append_unichar(str, ch);
	}
	return g_string_free(str, FALSE);
}

gchar *
vigil_cli_format_bytes(guint64 bytes)
{
	const gchar *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	gdouble value = (gdouble)bytes;
	guint unit = 0;

	if (bytes < 1024)
		return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
	value /= 1024.0;
	while (value >= 1024.0 && unit + 1 < G_N_ELEMENTS(units)) {
		value /= 1024.0;
		unit++;
	}
	/* 9.95 would print as "10.0": switch precision on the rounded value */
	if (value < 9.95)
		return g_strdup_printf("%.1f %s", value, units[unit]);
	return g_strdup_printf("%.0f %s", value, units[unit]);
}

gchar *
vigil_cli_format_rate(gdouble bytes_per_second)
{
	g_autofree gchar *bytes = NULL;

	if (isnan(bytes_per_second) || bytes_per_second < 0)
		return g_strdup("-");
	bytes = vigil_cli_format_bytes((guint64)(bytes_per_second + 0.5));
	return g_strdup_printf("%s/s", bytes);
}

/* "45s", "3m12s", "2h05m", "3d04h" */
gchar *
vigil_cli_format_duration(gint64 seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 60)
		return g_strdup_printf("%" G_GINT64_FORMAT "s", seconds);
	if (seconds < 3600) {
		return g_strdup_printf("%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s",
				       seconds / 60,
				       seconds % 60);
	}
	if (seconds < 86400) {
		return g_strdup_printf("%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m",
				       seconds / 3600,
				       (seconds % 3600) / 60);
	}
	return g_strdup_printf("%" G_GINT64_FORMAT "d%02" G_GINT64_FORMAT "h",
			       seconds / 86400,
			       (seconds % 86400) / 3600);
}

/* local time, to the second */
gchar *
vigil_cli_format_timestamp(gint64 unix_seconds)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(unix_seconds);

	if (dt == NULL)
		return g_strdup("-");
	return g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
}

/* the event "time" in local time, or as given when it does not parse */
gchar *
vigil_cli_format_iso8601(const gchar *iso8601)
{
	g_autoptr(GDateTime) dt = NULL;
	g_autoptr(GDateTime) local = NULL;

	if (iso8601 == NULL)
		return NULL;
	dt = g_date_time_new_from_iso8601(iso8601, NULL);
	if (dt == NULL)
		return g_strdup(iso8601);
	local = g_date_time_to_local(dt);
	return g_date_time_format(local, "%Y-%m-%d %H:%M:%S");
}

/* "example.org:443", "198.18.0.2:53", "[fd00::2]:443"; the host name wins over the address */
gchar *
vigil_cli_format_endpoint(const gchar *address, const gchar *host, gint port)
{
	const gchar *name = host != NULL && host[0] != '\0' ? host : address;

	if (name == NULL)
		return NULL;
	if (port < 0)
		return g_strdup(name);
	if (strchr(name, ':') != NULL)
		return g_strdup_printf("[%s]:%d", name, port);
	return g_strdup_printf("%s:%d", name, port);
}

/* the Flatpak app id, else the executable's name, else the systemd unit */
gchar *
vigil_cli_format_app(GVariant *dict)
{
	const gchar *app_id = vigil_cli_dict_get_string(dict, "app-id");
	const gchar *exe = vigil_cli_dict_get_string(dict, "exe");
	const gchar *unit = vigil_cli_dict_get_string(dict, "unit");

	if (app_id != NULL && app_id[0] != '\0')
		return g_strdup(app_id);
	if (exe != NULL && exe[0] != '\0')
		return g_path_get_basename(exe);
	if (unit != NULL && unit[0] != '\0')
		return g_strdup(unit);
	return NULL;
}

/* replaces the message of a D-Bus error with words a user can act on */
void
vigil_cli_format_error(GError *error)
{
	const gchar *what = NULL;
	gboolean keep_message = TRUE;
	g_autofree gchar *message = NULL;

	g_return_if_fail(error != NULL);

	if (g_dbus_error_is_remote_error(error))
		g_dbus_error_strip_remote_error(error);
	if (error->domain == VIGIL_ERROR) {
		switch (error->code) {
		case VIGIL_ERROR_NOT_AUTHORIZED:
			what = _("not authorized: ask an administrator, or run as root");
			keep_message = FALSE;
			break;
		case VIGIL_ERROR_INVALID_RULE:
			what = _("invalid rule");
			break;
		case VIGIL_ERROR_NOT_FOUND:
			what = _("not found");
			break;
		case VIGIL_ERROR_READ_ONLY:
			what = _("read-only (a managed drop-in)");
			break;
		case VIGIL_ERROR_INVALID_FILE:
			what = _("invalid file");
			break;
		case VIGIL_ERROR_NOT_SUPPORTED:
			what = _("not supported");
			break;
		case VIGIL_ERROR_EXISTS:
			what = _("already exists");
			break;
		case VIGIL_ERROR_BROKEN_FILE:
			what = _("the rules file on disk has errors");
			break;
		case VIGIL_ERROR_TIMED_OUT:
			what = _("timed out");
			break;
		case VIGIL_ERROR_INVALID_ARGUMENT:
			what = _("invalid argument");
			break;
		case VIGIL_ERROR_BUSY:
			what = _("vigild is busy, try again");
			break;
		case VIGIL_ERROR_FAILED:
		default:
			break;
		}
	} else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
		what = _("vigild is not running");
		keep_message = FALSE;
	} else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED)) {
		what = _("not authorized: ask an administrator, or run as root");
		keep_message = FALSE;
	} else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
		   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		what = _("vigild did not answer in time");
		keep_message = FALSE;
	} else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY)) {
		what = _("this vigild does not support it");
	}
	if (what == NULL)
		return;
	if (keep_message && error->message != NULL && error->message[0] != '\0')
		message = g_strdup_printf("%s: %s", what, error->message);
	else
		message = g_strdup(what);
	g_free(error->message);
	error->message = g_steal_pointer(&message);
}

const gchar *
vigil_cli_dict_get_string(GVariant *dict, const gchar *key)
{
	const gchar *value = NULL;

	if (dict == NULL || !g_variant_lookup(dict, key, "&s", &value))
		return NULL;
	return value;
}

gboolean
vigil_cli_dict_get_int64(GVariant *dict, const gchar *key, gint64 *value)
{
	guint64 unsigned_value = 0;
	g_autoptr(GVariant) child = NULL;

	if (dict == NULL)
		return FALSE;
	child = g_variant_lookup_value(dict, key, NULL);
	if (child == NULL)
		return FALSE;
	switch (g_variant_classify(child)) {
	case G_VARIANT_CLASS_INT16:
		*value = g_variant_get_int16(child);
		return TRUE;
	case G_VARIANT_CLASS_INT32:
		*value = g_variant_get_int32(child);
		return TRUE;
	case G_VARIANT_CLASS_INT64:
		*value = g_variant_get_int64(child);
		return TRUE;
	default:
		break;
	}
	if (!vigil_cli_dict_get_uint64(dict, key, &unsigned_value))
		return FALSE;
	*value = (gint64)MIN(unsigned_value, (guint64)G_MAXINT64);
	return TRUE;
}

gboolean
vigil_cli_dict_get_uint64(GVariant *dict, const gchar *key, guint64 *value)
{
	g_autoptr(GVariant) child = NULL;
	gint64 signed_value;

	if (dict == NULL)
		return FALSE;
	child = g_variant_lookup_value(dict, key, NULL);
	if (child == NULL)
		return FALSE;
	switch (g_variant_classify(child)) {
	case G_VARIANT_CLASS_BYTE:
		*value = g_variant_get_byte(child);
		return TRUE;
	case G_VARIANT_CLASS_UINT16:
		*value = g_variant_get_uint16(child);
		return TRUE;
	case G_VARIANT_CLASS_UINT32:
		*value = g_variant_get_uint32(child);
		return TRUE;
	case G_VARIANT_CLASS_UINT64:
		*value = g_variant_get_uint64(child);
		return TRUE;
	case G_VARIANT_CLASS_INT16:
		signed_value = g_variant_get_int16(child);
		break;
	case G_VARIANT_CLASS_INT32:
		signed_value = g_variant_get_int32(child);
		break;
	case G_VARIANT_CLASS_INT64:
		signed_value = g_variant_get_int64(child);
		break;
	default:
		return FALSE;
	}
	if (signed_value < 0)
		return FALSE;
	*value = (guint64)signed_value;
	return TRUE;
}

gboolean
vigil_cli_dict_get_double(GVariant *dict, const gchar *key, gdouble *value)
{
	gint64 integer;

	if (dict != NULL && g_variant_lookup(dict, key, "d", value))
		return TRUE;
	if (!vigil_cli_dict_get_int64(dict, key, &integer))
		return FALSE;
	*value = (gdouble)integer;
	return TRUE;
}

gboolean
vigil_cli_dict_get_boolean(GVariant *dict, const gchar *key, gboolean *value)
{
	return dict != NULL && g_variant_lookup(dict, key, "b", value);
}

static void
vigil_cli_json_append_double(GString *str, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value) || isinf(value)) {
		g_string_append(str, "null");
		return;
	}
	/* the shortest form that reads back as the same number */
	for (gint precision = 15; precision <= 17; precision++) {
		g_autofree gchar *format = g_strdup_printf("%%.%dg", precision);
		g_ascii_formatd(buf, sizeof(buf), format, value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	g_string_append(str, buf);
}

void
vigil_cli_json_append_variant(GString *str, GVariant *value)
{
	GVariantIter iter;
	GVariant *child;
	gboolean first = TRUE;

	if (value == NULL) {
		g_string_append(str, "null");
		return;
	}
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		vigil_cli_json_append_variant(str, inner);
		return;
	}
	case G_VARIANT_CLASS_BOOLEAN:
		g_string_append(str, g_variant_get_boolean(value) ? "true" : "false");
		return;
	case G_VARIANT_CLASS_BYTE:
		g_string_append_printf(str, "%u", g_variant_get_byte(value));
		return;
	case G_VARIANT_CLASS_INT16:
		g_string_append_printf(str, "%d", g_variant_get_int16(value));
		return;
	case G_VARIANT_CLASS_UINT16:
		g_string_append_printf(str, "%u", g_variant_get_uint16(value));
		return;
	case G_VARIANT_CLASS_INT32:
	case G_VARIANT_CLASS_HANDLE:
		g_string_append_printf(str, "%d", g_variant_get_int32(value));
		return;
	case G_VARIANT_CLASS_UINT32:
		g_string_append_printf(str, "%u", g_variant_get_uint32(value));
		return;
	case G_VARIANT_CLASS_INT64:
		g_string_append_printf(str, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
		return;
	case G_VARIANT_CLASS_UINT64:
		g_string_append_printf(str, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
		return;
	case G_VARIANT_CLASS_DOUBLE:
		vigil_cli_json_append_double(str, g_variant_get_double(value));
		return;
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		vigil_json_append_string(str, g_variant_get_string(value, NULL));
		return;
	case G_VARIANT_CLASS_MAYBE: {
		g_autoptr(GVariant) inner = g_variant_get_maybe(value);
		vigil_cli_json_append_variant(str, inner);
		return;
	}
	case G_VARIANT_CLASS_ARRAY:
		if (g_variant_is_of_type(value, G_VARIANT_TYPE("a{s*}"))) {
			vigil_cli_json_append_dict(str, value, NULL, FALSE, TRUE);
			return;
		}
		break;
	case G_VARIANT_CLASS_TUPLE:
	case G_VARIANT_CLASS_DICT_ENTRY:
	default:
		break;
	}
	g_string_append_c(str, '[');
	g_variant_iter_init(&iter, value);
	while ((child = g_variant_iter_next_value(&iter)) != NULL) {
		if (!first)
			g_string_append_c(str, ',');
		vigil_cli_json_append_variant(str, child);
		g_variant_unref(child);
		first = FALSE;
	}
	g_string_append_c(str, ']');
}

/* the event JSON spells "app-id" as "app_id"; every other key is the a{sv} key */
static const gchar *
vigil_cli_json_key_to_dict_key(const gchar *key)
{
	if (g_str_equal(key, "app_id"))
		return "app-id";
	return key;
}

static gint
vigil_cli_json_compare_keys_cb(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/*
 * @keys: JSON names in output order, or %NULL for the dictionary's own order
 * @fill_null: write null for a listed key the dictionary lacks
 * @extra_keys: append keys not listed, sorted, after the listed ones
 */
void
vigil_cli_json_append_dict(GString *str,
			   GVariant *dict,
			   const gchar *const *keys,
			   gboolean fill_null,
			   gboolean extra_keys)
{
	g_autoptr(GPtrArray) extras = g_ptr_array_new();
	gboolean first = TRUE;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_string_append_c(str, '{');
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autoptr(GVariant) child = NULL;
		child = g_variant_lookup_value(dict, vigil_cli_json_key_to_dict_key(keys[i]), NULL);
		if (child == NULL && !fill_null)
			continue;
		if (!first)
			g_string_append_c(str, ',');
		vigil_json_append_string(str, keys[i]);
		g_string_append_c(str, ':');
		vigil_cli_json_append_variant(str, child);
		first = FALSE;
	}
	if (keys == NULL || extra_keys) {
		g_variant_iter_init(&iter, dict);
		while (g_variant_iter_next(&iter, "{&s@*}", &key, &value)) {
			gboolean listed = FALSE;
			for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
				if (g_str_equal(vigil_cli_json_key_to_dict_key(keys[i]), key))
					listed = TRUE;
			}
			if (!listed)
				g_ptr_array_add(extras, (gpointer)key);
			g_variant_unref(value);
		}
		if (keys != NULL)
			g_ptr_array_sort(extras, vigil_cli_json_compare_keys_cb);
	}
	for (guint i = 0; i < extras->len; i++) {
		const gchar *name = g_ptr_array_index(extras, i);
		g_autoptr(GVariant) child = g_variant_lookup_value(dict, name, NULL);
		if (!first)
			g_string_append_c(str, ',');
		vigil_json_append_string(str, name);
		g_string_append_c(str, ':');
		vigil_cli_json_append_variant(str, child);
		first = FALSE;
	}
	g_string_append_c(str, '}');
}

/**
 * vigil_cli_json_append_dicts:
 * @dicts: an aa{sv}, or %NULL for an empty list
 * @keys: as for vigil_cli_json_append_dict(), with null for a listed key that is missing
 *
 * Appends a JSON array of the dictionaries, on one line.
 */
void
vigil_cli_json_append_dicts(GString *str, GVariant *dicts, const gchar *const *keys)
{
	GVariantIter iter;
	GVariant *child;
	gboolean first = TRUE;

	g_string_append_c(str, '[');
	if (dicts != NULL) {
		g_variant_iter_init(&iter, dicts);
		while ((child = g_variant_iter_next_value(&iter)) != NULL) {
			if (!first)
				g_string_append_c(str, ',');
			vigil_cli_json_append_dict(str, child, keys, TRUE, TRUE);
			g_variant_unref(child);
			first = FALSE;
		}
	}
	g_string_append_c(str, ']');
}

/* one line of design.md's event JSON: every key, in order, null when unknown */
gchar *
vigil_cli_format_event_json(GVariant *event)
{
	GString *str = g_string_sized_new(512);
	vigil_cli_json_append_dict(str, event, event_keys, TRUE, FALSE);
	return g_string_free(str, FALSE);
}

/* every documented key in the XML's order, null when unknown, then any newer keys sorted */
gchar *
vigil_cli_format_connection_json(GVariant *connection)
{
	GString *str = g_string_sized_new(512);
	vigil_cli_json_append_dict(str, connection, connection_keys, TRUE, TRUE);
	return g_string_free(str, FALSE);
}
