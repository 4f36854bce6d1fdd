/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilJson"

#include "config.h"

#include "vigil-json.h"

/**
 * vigil_json_append_string:
 * @str: where to append
 * @value: (nullable): a string, or %NULL for JSON null
 *
 * Appends @value as a JSON string. Bytes that are not UTF-8 (a command line may hold
 * anything) are replaced, so every line vigild and vigilctl print stays valid JSON, and
 * both print the same bytes for the same event.
 */
void
vigil_json_append_string(GString *str, const gchar *value)
{
	g_autofree gchar *valid = NULL;

	if (value == NULL) {
		g_string_append(str, "null");
		return;
	}
	if (!g_utf8_validate(value, -1, NULL)) {
		valid = g_utf8_make_valid(value, -1);
		value = valid;
	}
	g_string_append_c(str, '"');
	for (const guchar *p = (const guchar *)value; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(str, "\\\"");
			break;
		case '\\':
			g_string_append(str, "\\\\");
			break;
		case '\n':
			g_string_append(str, "\\n");
			break;
		case '\r':
			g_string_append(str, "\\r");
			break;
		case '\t':
			g_string_append(str, "\\t");
			break;
		default:
			if (*p < 0x20)
				g_string_append_printf(str, "\\u%04x", *p);
			else
				g_string_append_c(str, (gchar)*p);
			break;
		}
	}
	g_string_append_c(str, '"');
}
