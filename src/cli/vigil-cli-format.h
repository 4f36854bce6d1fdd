/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-json.h"

G_BEGIN_DECLS

typedef enum {
	VIGIL_CLI_ALIGN_LEFT,
	VIGIL_CLI_ALIGN_RIGHT,
} VigilCliAlign;

/* a text table: columns sized to their widest cell, two spaces apart, no trailing blanks */
typedef struct _VigilCliTable VigilCliTable;

VigilCliTable *
vigil_cli_table_new(void);
void
vigil_cli_table_free(VigilCliTable *self);
void
vigil_cli_table_add_column(VigilCliTable *self,
			   const gchar *title,
			   VigilCliAlign align,
			   guint shrink_min);
void
vigil_cli_table_add_cell(VigilCliTable *self, const gchar *text);
void
vigil_cli_table_take_cell(VigilCliTable *self, gchar *text);
void
vigil_cli_table_add_line(VigilCliTable *self, const gchar *text);
void
vigil_cli_table_set_indent(VigilCliTable *self, guint indent);
void
vigil_cli_table_set_show_header(VigilCliTable *self, gboolean show_header);
void
vigil_cli_table_set_optional(VigilCliTable *self, guint column);
void
vigil_cli_table_set_min_width(VigilCliTable *self, guint column, guint width);
guint
vigil_cli_table_get_width(VigilCliTable *self, guint column);
guint
vigil_cli_table_get_n_columns(VigilCliTable *self);
guint
vigil_cli_table_get_n_rows(VigilCliTable *self);
gchar *
vigil_cli_table_render(VigilCliTable *self, guint max_width);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCliTable, vigil_cli_table_free)

/* human units */
gchar *
vigil_cli_format_bytes(guint64 bytes);
gchar *
vigil_cli_format_rate(gdouble bytes_per_second);
gchar *
vigil_cli_format_duration(gint64 seconds);
gchar *
vigil_cli_format_timestamp(gint64 unix_seconds);
gchar *
vigil_cli_format_iso8601(const gchar *iso8601);
gchar *
vigil_cli_format_endpoint(const gchar *address, const gchar *host, gint port);
gchar *
vigil_cli_format_app(GVariant *dict);
gchar *
vigil_cli_format_sanitized(const gchar *text);
guint
vigil_cli_format_get_display_width(const gchar *text);
gchar *
vigil_cli_format_truncated(const gchar *text, guint width);
void
vigil_cli_format_error(GError *error);

/* a{sv} lookups that accept any integer type and return FALSE when missing or mistyped */
const gchar *
vigil_cli_dict_get_string(GVariant *dict, const gchar *key);
gboolean
vigil_cli_dict_get_int64(GVariant *dict, const gchar *key, gint64 *value);
gboolean
vigil_cli_dict_get_uint64(GVariant *dict, const gchar *key, guint64 *value);
gboolean
vigil_cli_dict_get_double(GVariant *dict, const gchar *key, gdouble *value);
gboolean
vigil_cli_dict_get_boolean(GVariant *dict, const gchar *key, gboolean *value);

/* JSON, byte-compatible with the daemon's event lines: compact, keys in a fixed order */
void
vigil_cli_json_append_variant(GString *str, GVariant *value);
void
vigil_cli_json_append_dict(GString *str,
			   GVariant *dict,
			   const gchar *const *keys,
			   gboolean fill_null,
			   gboolean extra_keys);
void
vigil_cli_json_append_dicts(GString *str, GVariant *dicts, const gchar *const *keys);
gchar *
vigil_cli_format_event_json(GVariant *event);
gchar *
vigil_cli_format_connection_json(GVariant *connection);

G_END_DECLS
