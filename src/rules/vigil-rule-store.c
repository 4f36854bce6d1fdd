/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilRuleStore"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-error.h"
#include "vigil-names.h"
#include "vigil-rule-store.h"

/* deeper values are refused: json-glib 1.6 (which reads OpenSnitch files) has no limit and
 * overflows its stack. Our documents need 3 levels and OpenSnitch lists a handful */
#define VIGIL_JSON_MAX_DEPTH 64

/* documents larger than this are read in two halves at once (about 4,000 rules) */
#define VIGIL_RULE_STORE_SPLIT_SIZE (1024 * 1024)

/* a rules file larger than this is refused rather than read into memory */
#define VIGIL_RULE_STORE_MAX_FILE_SIZE (256 * 1024 * 1024)

/* VIGIL_TEST_SAVE_CRASH_AT=write|fsync|rename|dirsync makes save _exit(1) at that step */
#define VIGIL_TEST_SAVE_CRASH_ENV "VIGIL_TEST_SAVE_CRASH_AT"

typedef int VigilFd;

static void
vigil_fd_clear(VigilFd *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilFd, vigil_fd_clear)

struct _VigilRuleStore {
	GObject parent_instance;
	gchar *rules_path;
	gchar *dropin_dir;
	guint n_errors; /* problems of the rules file at the last load */
};

G_DEFINE_FINAL_TYPE(VigilRuleStore, vigil_rule_store, G_TYPE_OBJECT)

typedef enum {
	VIGIL_PARSE_MODE_DOCUMENT, /* keep every field as written (export, import) */
	VIGIL_PARSE_MODE_RULES,	   /* the rules file: managed rules do not belong here */
	VIGIL_PARSE_MODE_DROPIN,   /* a drop-in: everything becomes managed */
} VigilParseMode;

static gint
vigil_json_flaw_compare(gconstpointer a, gconstpointer b)
{
	const VigilJsonFlaw *flaw_a = a;
	const VigilJsonFlaw *flaw_b = b;
	if (flaw_a->line != flaw_b->line)
		return flaw_a->line < flaw_b->line ? -1 : 1;
	return 0;
}

/* where to cut the rules array of a large document in two, to parse the halves at once */
typedef struct {
	gsize target; /* the first ',' between two elements from here on */
	gsize offset; /* where it is, or 0 */
	guint line;   /* and its line */
	guint n_arrays;
} VigilJsonSplit;

static gchar *
vigil_json_scan(const gchar *data, gsize len, GArray *flaws, VigilJsonSplit *split);

/**
 * vigil_rule_store_sanitize_json:
 * @data: JSON text
 * @len: its length in bytes
 * @flaws: (element-type VigilJsonFlaw): receives what was wrong, by line
 *
 * Makes untrusted JSON safe to give to json-glib 1.6, which refuses a whole document for
 * one invalid UTF-8 byte, crashes on deep nesting, wraps integers that do not fit in 64
 * bits, makes 1e400 infinite and cuts strings at `\u0000`. Each such flaw is added to
 * @flaws with its line; invalid bytes become `?` and too deep values become `0` (padded
 * with spaces, keeping every newline), so that the lines of everything else stay right and
 * the caller can skip just the rules that contain a flaw.
 *
 * Returns: (transfer full) (nullable): a fixed, NUL-terminated copy of @len bytes, or
 * %NULL when @data needs no change
 */
gchar *
vigil_rule_store_sanitize_json(const gchar *data, gsize len, GArray *flaws)
{
	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(flaws != NULL, NULL);
	return vigil_json_scan(data, len, flaws, NULL);
}

/**
 * vigil_rule_store_check_json:
 * @data: JSON text
 * @len: its length in bytes
 * @flaw: (out caller-allocates): the first flaw, when there is one
 *
 * Whether untrusted JSON can go to json-glib as it is: the check of
 * vigil_rule_store_sanitize_json() for a caller that refuses a flawed text as a whole
 * rather than reading around its flaws.
 *
 * Returns: %TRUE when @data has none of the flaws json-glib mishandles
 */
gboolean
vigil_rule_store_check_json(const gchar *data, gsize len, VigilJsonFlaw *flaw)
{
	g_autoptr(GArray) flaws = g_array_new(FALSE, FALSE, sizeof(VigilJsonFlaw));

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(flaw != NULL, FALSE);

	g_free(vigil_json_scan(data, len, flaws, NULL));
	if (flaws->len == 0)
		return TRUE;
	*flaw = g_array_index(flaws, VigilJsonFlaw, 0);
	return FALSE;
}

/* see vigil_rule_store_sanitize_json(); also finds where @split asks for */
static gchar *
vigil_json_scan(const gchar *data, gsize len, GArray *flaws, VigilJsonSplit *split)
{
	g_autofree gchar *fixed = NULL;
	const gchar *buf = data;
	const gchar *end = NULL;
	gsize pos = 0;
	guint line = 1;
	guint depth = 0;
	gboolean root_object = FALSE;
	gboolean member_array = FALSE;

	/* invalid UTF-8 and NUL bytes; newlines are counted lazily, flaws are rare. Without
	 * @flaws only the structure is followed, for @split */
	while (flaws != NULL && !g_utf8_validate(buf + pos, (gssize)(len - pos), &end)) {
		gsize bad = (gsize)(end - buf);
		VigilJsonFlaw flaw = {0};
		if (fixed == NULL) {
			fixed = g_malloc(len + 1);
			memcpy(fixed, data, len);
			fixed[len] = '\0';
			buf = fixed;
		}
		for (; pos < bad; pos++) {
			if (buf[pos] == '\n')
				line++;
		}
		flaw.line = line;
		flaw.reason = fixed[bad] == '\0' ? "NUL byte" : "invalid UTF-8";
		if (flaws->len == 0 ||
		    g_array_index(flaws, VigilJsonFlaw, flaws->len - 1).line != line ||
		    g_strcmp0(g_array_index(flaws, VigilJsonFlaw, flaws->len - 1).reason,
			      flaw.reason) != 0)
			g_array_append_val(flaws, flaw);
		fixed[bad] = '?';
		pos = bad + 1;
	}

	/* the structure: strings, numbers, nesting */
	line = 1;
	pos = 0;
	while (pos < len) {
		gchar c = buf[pos];
		if (c == '\n') {
			line++;
			pos++;
		} else if (c == '"') {
			pos++;
			while (pos < len && buf[pos] != '"') {
				if (buf[pos] == '\n') {
					line++;
				} else if (buf[pos] == '\\' && pos + 1 < len) {
					pos++;
					if (buf[pos] == 'u' && pos + 4 < len && flaws != NULL &&
					    memcmp(buf + pos + 1, "0000", 4) == 0) {
						VigilJsonFlaw flaw = {line, "\\u0000 in a string"};
						g_array_append_val(flaws, flaw);
					} else if (buf[pos] == '\n') {
						line++;
					}
				}
				pos++;
			}
			pos++;
		} else if (c == '[' || c == '{') {
			gsize start = pos;
			guint start_line = line;
			guint inner = 0;
			gboolean in_string = FALSE;
			VigilJsonFlaw flaw = {0};

			if (depth == 0 && c == '{')
				root_object = TRUE;
			if (depth == 1 && c == '[' && root_object && split != NULL) {
				split->n_arrays++;
				member_array = TRUE;
			}
			if (++depth <= VIGIL_JSON_MAX_DEPTH || flaws == NULL) {
				pos++;
				continue;
			}

			/* blank the whole value out, keeping the newlines */
			depth--;
			for (; pos < len; pos++) {
				gchar d = buf[pos];
				if (d == '\n') {
					line++;
					continue;
				}
				if (in_string) {
					if (d == '\\' && pos + 1 < len && buf[pos + 1] != '\n')
						pos++;
					else if (d == '"')
						in_string = FALSE;
					continue;
				}
				if (d == '"') {
					in_string = TRUE;
				} else if (d == '[' || d == '{') {
					inner++;
				} else if (d == ']' || d == '}') {
					if (--inner == 0)
						break;
				}
			}
			if (pos < len)
				pos++;
			if (fixed == NULL) {
				fixed = g_malloc(len + 1);
				memcpy(fixed, data, len);
				fixed[len] = '\0';
				buf = fixed;
			}
			for (gsize i = start; i < pos && i < len; i++) {
				if (fixed[i] != '\n')
					fixed[i] = ' ';
			}
			fixed[start] = '0';
			flaw.line = start_line;
			flaw.reason = "nested too deeply";
			g_array_append_val(flaws, flaw);
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
			if (depth == 1)
				member_array = FALSE;
			pos++;
		} else if (c == ',') {
			if (member_array && depth == 2 && split->offset == 0 &&
			    pos >= split->target && split->target > 0) {
				split->offset = pos;
				split->line = line;
			}
			pos++;
		} else if (c == '-' || g_ascii_isdigit(c)) {
			gsize start = pos;
			gsize digits = 0;
			gboolean is_float = FALSE;
			while (pos < len) {
				gchar d = buf[pos];
				if (g_ascii_isdigit(d))
					digits++;
				else if (d == '.' || d == 'e' || d == 'E')
					is_float = TRUE;
				else if (d != '-' && d != '+')
					break;
				pos++;
			}
			if ((is_float || digits >= 19) && flaws != NULL) {
				gchar token[64] = {0};
				gboolean bad = pos - start >= sizeof(token);
				if (!bad) {
					memcpy(token, buf + start, pos - start);
					errno = 0;
					if (is_float) {
						gdouble value = g_ascii_strtod(token, NULL);
						bad = isinf(value) || isnan(value);
					} else {
						g_ascii_strtoll(token, NULL, 10);
						bad = errno == ERANGE;
					}
				}
				if (bad) {
					VigilJsonFlaw flaw = {line, "number out of range"};
					g_array_append_val(flaws, flaw);
				}
			}
		} else {
			pos++;
		}
	}

	/* each pass adds in line order; g_array_sort() is stable */
	if (flaws != NULL && flaws->len > 1)
		g_array_sort(flaws, vigil_json_flaw_compare);
	return g_steal_pointer(&fixed);
}

/*
 * Reading documents. json-glib 1.6 parses a 100,000-rule file (24 MiB) in 0.6 to 1 s on the
 * 2-core build machines, about twice what building the same JsonObjects costs, and it
 * keeps no positions, overflows its stack on deep nesting, wraps integers beyond 64 bits,
 * cuts strings at \u0000 and refuses a whole file for one bad byte. So documents are read
 * here, strictly by RFC 8259, into the JsonObjects that vigil_rule_new_from_json_object()
 * takes: every rule starts at a known line, a flaw inside a rule (a bad byte, a number out
 * of range, nesting deeper than 64, a duplicate key) skips just that rule, and a syntax
 * error keeps the rules before it. Each rule is made as soon as it is read.
 */
typedef struct {
	const gchar *filename;
	VigilParseMode mode;
	const guchar *p;
	const guchar *end;
	guint line;
	gchar *error; /* the first syntax error, "FILE:LINE: syntax error: ..." */
	gchar *flaw;  /* the first flaw in the value being read */
	guint flaw_line;
	GString *value;	 /* scratch for string values */
	GPtrArray *keys; /* of GString, scratch for member names, one per depth */
	gboolean version_ok;
	gboolean have_rules;
	guint n_elements;
	GPtrArray *rules;    /* of VigilRule */
	GArray *lines;	     /* of guint, where each of @rules starts */
	GPtrArray *problems; /* of gchar*, in the order of the text */
} VigilReader;

static void
vigil_reader_clear(VigilReader *r)
{
	g_clear_pointer(&r->error, g_free);
	g_clear_pointer(&r->flaw, g_free);
	if (r->value != NULL)
		g_string_free(g_steal_pointer(&r->value), TRUE);
	g_clear_pointer(&r->keys, g_ptr_array_unref);
	g_clear_pointer(&r->rules, g_ptr_array_unref);
	g_clear_pointer(&r->lines, g_array_unref);
	g_clear_pointer(&r->problems, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilReader, vigil_reader_clear)

static void
vigil_reader_string_free(gpointer data)
{
	g_string_free(data, TRUE);
}

static void
vigil_reader_init(VigilReader *r,
		  const gchar *data,
		  gsize len,
		  const gchar *filename,
		  VigilParseMode mode,
		  guint first_line)
{
	r->filename = filename;
	r->mode = mode;
	r->p = (const guchar *)data;
	r->end = r->p + len;
	r->line = first_line;
	r->value = g_string_sized_new(256);
	r->keys = g_ptr_array_new_with_free_func(vigil_reader_string_free);
	r->rules = g_ptr_array_new_with_free_func(g_object_unref);
	r->lines = g_array_new(FALSE, FALSE, sizeof(guint));
	r->problems = g_ptr_array_new_with_free_func(g_free);
}

static void G_GNUC_PRINTF(2, 3) vigil_reader_fail(VigilReader *r, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	if (r->error != NULL)
		return;
	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	r->error = g_strdup_printf("%s:%u: syntax error: %s", r->filename, r->line, message);
}

static void
vigil_reader_flaw(VigilReader *r, gchar *flaw)
{
	if (r->flaw != NULL) {
		g_free(flaw);
		return;
	}
	r->flaw = flaw;
	r->flaw_line = r->line;
}

/* what is at the current position, for messages */
static const gchar *
vigil_reader_what(VigilReader *r, gchar *buf, gsize size)
{
	if (r->p >= r->end)
		return "end of file";
	if (*r->p >= 0x20 && *r->p < 0x7f)
		g_snprintf(buf, size, "'%c'", *r->p);
	else
		g_snprintf(buf, size, "byte 0x%02x", *r->p);
	return buf;
}

static void
vigil_reader_unexpected(VigilReader *r, const gchar *expected)
{
	gchar buf[16];
	vigil_reader_fail(r,
			  "unexpected %s, expected %s",
			  vigil_reader_what(r, buf, sizeof(buf)),
			  expected);
}

static inline void
vigil_reader_skip_space(VigilReader *r)
{
	while (r->p < r->end) {
		switch (*r->p) {
		case '\n':
			r->line++;
			r->p++;
			break;
		case ' ':
		case '\t':
		case '\r':
			r->p++;
			break;
		default:
			return;
		}
	}
}

static inline gboolean
vigil_reader_accept(VigilReader *r, guchar c)
{
	vigil_reader_skip_space(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return TRUE;
	}
	return FALSE;
}

static gboolean
vigil_reader_hex4(const guchar *p, const guchar *end, gunichar *value)
{
	*value = 0;
	if (end - p < 4)
		return FALSE;
	for (guint i = 0; i < 4; i++) {
		gint digit = g_ascii_xdigit_value(p[i]);
		if (digit < 0)
			return FALSE;
		*value = *value * 16 + (gunichar)digit;
	}
	return TRUE;
}

/* a string at the current '"' into @out; a bad character is a flaw, not the end */
static gboolean
vigil_reader_string(VigilReader *r, GString *out)
{
	const guchar *p = r->p + 1;
	const guchar *start = p;
	guchar high = 0;

	g_string_truncate(out, 0);
	for (;;) {
		gunichar c;

		while (p < r->end && *p != '"' && *p != '\\' && *p >= 0x20)
			high |= *p++;
		if (p >= r->end) {
			r->p = p;
			vigil_reader_fail(r, "unexpected end of file in a string");
			return FALSE;
		}
		g_string_append_len(out, (const gchar *)start, p - start);
		if (*p == '"') {
			r->p = p + 1;
			break;
		}
		if (*p < 0x20) {
			vigil_reader_flaw(r, g_strdup("control character in a string"));
			if (*p == '\n')
				r->line++;
			start = ++p;
			continue;
		}

		/* an escape */
		if (++p >= r->end) {
			r->p = p;
			vigil_reader_fail(r, "unexpected end of file in a string");
			return FALSE;
		}
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			g_string_append_c(out, (gchar)*p);
			break;
		case 'b':
			g_string_append_c(out, '\b');
			break;
		case 'f':
			g_string_append_c(out, '\f');
			break;
		case 'n':
			g_string_append_c(out, '\n');
			break;
		case 'r':
			g_string_append_c(out, '\r');
			break;
		case 't':
			g_string_append_c(out, '\t');
			break;
		case 'u':
			if (!vigil_reader_hex4(p + 1, r->end, &c)) {
				r->p = p;
				vigil_reader_fail(r, "invalid \\u escape");
				return FALSE;
			}
			p += 4;
			if (c >= 0xd800 && c <= 0xdbff) {
				gunichar low = 0;
				if (r->end - p >= 7 && p[1] == '\\' && p[2] == 'u' &&
				    vigil_reader_hex4(p + 3, r->end, &low) && low >= 0xdc00 &&
				    low <= 0xdfff) {
					c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
					p += 6;
				} else {
					c = 0xdc00;
				}
			}
			if (c >= 0xdc00 && c <= 0xdfff)
				vigil_reader_flaw(r,
						  g_strdup("unpaired surrogate in a \\u escape"));
			else if (c == 0)
				vigil_reader_flaw(r, g_strdup("\\u0000 in a string"));
			else
				g_string_append_unichar(out, c);
			break;
		default:
			r->p = p;
			vigil_reader_fail(r, "invalid escape in a string");
			return FALSE;
		}
		start = ++p;
	}
	if ((high & 0x80) != 0 && !g_utf8_validate_len(out->str, out->len, NULL))
		vigil_reader_flaw(r, g_strdup("invalid UTF-8"));
	return TRUE;
}

static JsonNode *
vigil_reader_number(VigilReader *r)
{
	const guchar *start = r->p;
	gboolean is_integer = TRUE;
	gchar token[64];
	gsize len;

	if (*r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0') {
		r->p++;
	} else if (r->p < r->end && *r->p >= '1' && *r->p <= '9') {
		while (r->p < r->end && g_ascii_isdigit(*r->p))
			r->p++;
	} else {
		vigil_reader_unexpected(r, "a digit");
		return NULL;
	}
	if (r->p < r->end && *r->p == '.') {
		is_integer = FALSE;
		r->p++;
		if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
			vigil_reader_unexpected(r, "a digit");
			return NULL;
		}
		while (r->p < r->end && g_ascii_isdigit(*r->p))
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		is_integer = FALSE;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
			vigil_reader_unexpected(r, "a digit");
			return NULL;
		}
		while (r->p < r->end && g_ascii_isdigit(*r->p))
			r->p++;
	}

	len = (gsize)(r->p - start);
	if (len < sizeof(token)) {
		memcpy(token, start, len);
		token[len] = '\0';
		errno = 0;
		if (is_integer) {
			gint64 value = g_ascii_strtoll(token, NULL, 10);
			if (errno != ERANGE)
				return json_node_init_int(json_node_alloc(), value);
		} else {
			gdouble value = g_ascii_strtod(token, NULL);
			if (!isinf(value) && !isnan(value))
				return json_node_init_double(json_node_alloc(), value);
		}
	}
	vigil_reader_flaw(r, g_strdup("number out of range"));
	return json_node_init_null(json_node_alloc());
}

/* a value nested too deeply, passed over without recursion */
static gboolean
vigil_reader_skip_deep(VigilReader *r)
{
	guint nesting = 0;

	vigil_reader_flaw(r, g_strdup("nested too deeply"));
	while (r->p < r->end) {
		guchar c = *r->p++;
		if (c == '\n') {
			r->line++;
		} else if (c == '"') {
			while (r->p < r->end && *r->p != '"') {
				if (*r->p == '\n')
					r->line++;
				else if (*r->p == '\\' && r->end - r->p > 1 && r->p[1] != '\n')
					r->p++;
				r->p++;
			}
			if (r->p < r->end)
				r->p++;
		} else if (c == '[' || c == '{') {
			nesting++;
		} else if (c == ']' || c == '}') {
			if (--nesting == 0)
				return TRUE;
		}
	}
	vigil_reader_fail(r, "unexpected end of file");
	return FALSE;
}

static JsonNode *
vigil_reader_value(VigilReader *r, guint depth);

static JsonNode *
vigil_reader_object(VigilReader *r, guint depth)
{
	g_autoptr(JsonObject) object = json_object_new();
	GString *key;

	while (r->keys->len <= depth)
		g_ptr_array_add(r->keys, g_string_new(NULL));
	key = g_ptr_array_index(r->keys, depth);

	r->p++;
	if (vigil_reader_accept(r, '}'))
		return json_node_init_object(json_node_alloc(), object);
	for (;;) {
		JsonNode *member;

		vigil_reader_skip_space(r);
		if (r->p >= r->end || *r->p != '"') {
			vigil_reader_unexpected(r, "a member name in quotes");
			return NULL;
		}
		if (!vigil_reader_string(r, key))
			return NULL;
		if (!vigil_reader_accept(r, ':')) {
			vigil_reader_unexpected(r, "':'");
			return NULL;
		}
		member = vigil_reader_value(r, depth + 1);
		if (member == NULL)
			return NULL;

		/* json-glib would keep the last one; for a rule neither is safe to pick */
		if (json_object_has_member(object, key->str)) {
			g_autofree gchar *escaped = g_strescape(key->str, NULL);
			vigil_reader_flaw(r, g_strdup_printf("duplicate key '%s'", escaped));
			json_node_unref(member);
		} else {
			json_object_set_member(object, key->str, member);
		}
		if (vigil_reader_accept(r, ','))
			continue;
		if (vigil_reader_accept(r, '}'))
			return json_node_init_object(json_node_alloc(), object);
		vigil_reader_unexpected(r, "',' or '}'");
		return NULL;
	}
}

static JsonNode *
vigil_reader_array(VigilReader *r, guint depth)
{
	g_autoptr(JsonArray) array = json_array_new();

	r->p++;
	if (vigil_reader_accept(r, ']'))
		return json_node_init_array(json_node_alloc(), array);
	for (;;) {
		JsonNode *element = vigil_reader_value(r, depth + 1);
		if (element == NULL)
			return NULL;
		json_array_add_element(array, element);
		if (vigil_reader_accept(r, ','))
			continue;
		if (vigil_reader_accept(r, ']'))
			return json_node_init_array(json_node_alloc(), array);
		vigil_reader_unexpected(r, "',' or ']'");
		return NULL;
	}
}

static JsonNode *
vigil_reader_value(VigilReader *r, guint depth)
{
	vigil_reader_skip_space(r);
	if (r->p >= r->end) {
		vigil_reader_fail(r, "unexpected end of file, expected a value");
		return NULL;
	}
	switch (*r->p) {
	case '{':
	case '[':
		if (depth > VIGIL_JSON_MAX_DEPTH) {
			if (!vigil_reader_skip_deep(r))
				return NULL;
			return json_node_init_null(json_node_alloc());
		}
		return *r->p == '{' ? vigil_reader_object(r, depth) : vigil_reader_array(r, depth);
	case '"':
		if (!vigil_reader_string(r, r->value))
			return NULL;
		return json_node_init_string(json_node_alloc(), r->value->str);
	case 't':
		if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
			r->p += 4;
			return json_node_init_boolean(json_node_alloc(), TRUE);
		}
		break;
	case 'f':
		if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
			r->p += 5;
			return json_node_init_boolean(json_node_alloc(), FALSE);
		}
		break;
	case 'n':
		if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
			r->p += 4;
			return json_node_init_null(json_node_alloc());
		}
		break;
	default:
		if (*r->p == '-' || g_ascii_isdigit(*r->p))
			return vigil_reader_number(r);
		break;
	}
	vigil_reader_unexpected(r, "a value");
	return NULL;
}

static const gchar *
vigil_json_node_describe(JsonNode *node)
{
	GType type;

	if (JSON_NODE_HOLDS_OBJECT(node))
		return "an object";
	if (JSON_NODE_HOLDS_ARRAY(node))
		return "an array";
	if (JSON_NODE_HOLDS_NULL(node))
		return "null";
	type = json_node_get_value_type(node);
	if (type == G_TYPE_STRING)
		return "a string";
	if (type == G_TYPE_BOOLEAN)
		return "a boolean";
	return "a number";
}

/* "10-site.json", element 3 -> "10-site:3" */
static gchar *
vigil_parse_dropin_id(const gchar *filename, guint n)
{
	g_autofree gchar *basename = g_path_get_basename(filename);
	GString *id = g_string_new(NULL);

	if (g_str_has_suffix(basename, ".json"))
		basename[strlen(basename) - strlen(".json")] = '\0';
	for (const gchar *p = basename; *p != '\0' && id->len < 100; p++)
		g_string_append_c(id, g_ascii_isalnum(*p) || strchr("-_.", *p) != NULL ? *p : '_');
	g_string_append_printf(id, ":%u", n);
	return g_string_free(id, FALSE);
}

/* one element of "rules", starting at @start */
static void
vigil_reader_add_element(VigilReader *r, JsonNode *node, guint start)
{
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error_local = NULL;

	r->n_elements++;
	if (r->flaw != NULL) {
		g_ptr_array_add(r->problems,
				g_strdup_printf("%s:%u: %s", r->filename, r->flaw_line, r->flaw));
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_ptr_array_add(r->problems,
				g_strdup_printf("%s:%u: a rule must be an object, not %s",
						r->filename,
						start,
						vigil_json_node_describe(node)));
		return;
	}
	rule = vigil_rule_new_from_json_object(json_node_get_object(node), &error_local);
	if (rule == NULL) {
		g_ptr_array_add(
		    r->problems,
		    g_strdup_printf("%s:%u: %s", r->filename, start, error_local->message));
		return;
	}
	switch (r->mode) {
	case VIGIL_PARSE_MODE_DOCUMENT:
		break;
	case VIGIL_PARSE_MODE_RULES:
		/* it would become read-only and then vanish on the next save */
		if (vigil_rule_get_origin(rule) == VIGIL_ORIGIN_MANAGED) {
			g_ptr_array_add(r->problems,
					g_strdup_printf("%s:%u: rule '%s' has origin 'managed', "
							"which only drop-ins have",
							r->filename,
							start,
							vigil_rule_get_id(rule)));
			return;
		}
		break;
	case VIGIL_PARSE_MODE_DROPIN:
		vigil_rule_set_origin(rule, VIGIL_ORIGIN_MANAGED);
		vigil_rule_set_source(rule, r->filename);
		/* hand-written rules may have no id: give one that stays the same on reload */
		if (vigil_rule_get_id(rule) == NULL) {
			g_autofree gchar *id = vigil_parse_dropin_id(r->filename, r->n_elements);
			vigil_rule_set_id(rule, id);
		}
		break;
	default:
		g_assert_not_reached();
	}
	g_ptr_array_add(r->rules, g_steal_pointer(&rule));
	g_array_append_val(r->lines, start);
}

/* the "rules" array, at its '[': each element becomes a rule as soon as it is read */
static gboolean
vigil_reader_rules(VigilReader *r)
{
	r->have_rules = TRUE;
	r->p++;
	if (vigil_reader_accept(r, ']'))
		return TRUE;
	for (;;) {
		JsonNode *node;
		guint start;

		vigil_reader_skip_space(r);
		start = r->line;
		g_clear_pointer(&r->flaw, g_free);
		node = vigil_reader_value(r, 3);
		if (node == NULL)
			return FALSE;
		vigil_reader_add_element(r, node, start);
		json_node_unref(node);
		if (vigil_reader_accept(r, ','))
			continue;
		if (vigil_reader_accept(r, ']'))
			return TRUE;
		vigil_reader_unexpected(r, "',' or ']'");
		return FALSE;
	}
}

/* the version a document declares; %NULL when it is fine, else why it is not */
static gchar *
vigil_parse_check_version(const gchar *filename, JsonNode *node)
{
	gint64 version;

	if (node == NULL)
		return g_strdup_printf("%s: no \"version\": not a Vigil rules document", filename);
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64)
		return g_strdup_printf("%s: \"version\" must be a whole number, not %s",
				       filename,
				       vigil_json_node_describe(node));
	version = json_node_get_int(node);
	if (version < 1)
		return g_strdup_printf("%s: invalid schema version %" G_GINT64_FORMAT,
				       filename,
				       version);
	if (version > VIGIL_RULES_SCHEMA_VERSION)
		return g_strdup_printf("%s: schema version %" G_GINT64_FORMAT
				       " is newer than this vigild understands (%d)",
				       filename,
				       version,
				       VIGIL_RULES_SCHEMA_VERSION);
	return NULL;
}

/* a member of the root object other than the rules array, at its value */
static gboolean
vigil_reader_member(VigilReader *r, const gchar *name, guint line, gchar **fatal)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *escaped = NULL;

	g_clear_pointer(&r->flaw, g_free);
	node = vigil_reader_value(r, 2);
	if (node == NULL)
		return FALSE;
	if (r->flaw != NULL)
		g_ptr_array_add(r->problems,
				g_strdup_printf("%s:%u: %s", r->filename, r->flaw_line, r->flaw));
	if (g_str_equal(name, "version")) {
		*fatal = vigil_parse_check_version(r->filename, node);
		r->version_ok = *fatal == NULL;
		return r->version_ok;
	}
	if (g_str_equal(name, "rules")) {
		*fatal = g_strdup_printf("%s: \"rules\" must be an array", r->filename);
		return FALSE;
	}
	if (g_str_equal(name, "generator")) {
		if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
			g_ptr_array_add(r->problems,
					g_strdup_printf("%s:%u: \"generator\" must be a string",
							r->filename,
							line));
		return TRUE;
	}
	escaped = g_strescape(name, NULL);
	g_ptr_array_add(
	    r->problems,
	    g_strdup_printf("%s:%u: unknown key '%s' ignored", r->filename, line, escaped));
	return TRUE;
}

/* FALSE with @fatal set when the document cannot be used, or with r->error at a syntax
 * error, which may come after good rules */
static gboolean
vigil_reader_document(VigilReader *r, gchar **fatal)
{
	GString *key;

	vigil_reader_skip_space(r);
	if (r->p >= r->end) {
		*fatal = g_strdup_printf("%s: the file is empty", r->filename);
		return FALSE;
	}
	if (*r->p != '{') {
		const gchar *found = NULL;
		if (*r->p == '[')
			found = "an array";
		else if (*r->p == '"')
			found = "a string";
		else if (*r->p == '-' || g_ascii_isdigit(*r->p))
			found = "a number";
		else if (*r->p == 't' || *r->p == 'f')
			found = "a boolean";
		else if (*r->p == 'n')
			found = "null";
		if (found == NULL) {
			vigil_reader_unexpected(r, "'{'");
			return FALSE;
		}
		*fatal = g_strdup_printf("%s:%u: not a Vigil rules document: expected an object "
					 "with \"version\" and \"rules\", found %s",
					 r->filename,
					 r->line,
					 found);
		return FALSE;
	}
	r->p++;
	g_ptr_array_add(r->keys, g_string_new(NULL));
	key = g_ptr_array_index(r->keys, 0);
	if (!vigil_reader_accept(r, '}')) {
		for (;;) {
			guint line;
			vigil_reader_skip_space(r);
			line = r->line;
			if (r->p >= r->end || *r->p != '"') {
				vigil_reader_unexpected(r, "a member name in quotes");
				return FALSE;
			}
			if (!vigil_reader_string(r, key))
				return FALSE;
			if (!vigil_reader_accept(r, ':')) {
				vigil_reader_unexpected(r, "':'");
				return FALSE;
			}
			vigil_reader_skip_space(r);
			if (g_str_equal(key->str, "rules") && r->p < r->end && *r->p == '[') {
				if (r->have_rules)
					g_ptr_array_add(r->problems,
							g_strdup_printf("%s:%u: \"rules\" twice",
									r->filename,
									line));
				if (!vigil_reader_rules(r))
					return FALSE;
			} else {
				g_autofree gchar *name = g_strdup(key->str);
				if (!vigil_reader_member(r, name, line, fatal))
					return FALSE;
			}
			if (vigil_reader_accept(r, ','))
				continue;
			if (vigil_reader_accept(r, '}'))
				break;
			vigil_reader_unexpected(r, "',' or '}'");
			return FALSE;
		}
	}
	vigil_reader_skip_space(r);
	if (r->p < r->end) {
		vigil_reader_unexpected(r, "nothing after the end of the document");
		return FALSE;
	}
	if (!r->version_ok) {
		*fatal =
		    g_strdup_printf("%s: no \"version\": not a Vigil rules document", r->filename);
		return FALSE;
	}
	if (!r->have_rules) {
		*fatal = g_strdup_printf("%s: no \"rules\" array", r->filename);
		return FALSE;
	}
	return TRUE;
}

/* with @strict, a syntax error is fatal even after good rules (a half of a split) */
static GPtrArray *
vigil_rule_store_read(const gchar *data,
		      gsize len,
		      const gchar *filename,
		      VigilParseMode mode,
		      guint first_line,
		      gboolean strict,
		      GArray **lines,
		      GPtrArray *problems,
		      GError **error)
{
	g_auto(VigilReader) r = {0};
	g_autofree gchar *fatal = NULL;

	vigil_reader_init(&r, data, len, filename, mode, first_line);
	if (!vigil_reader_document(&r, &fatal) && fatal == NULL) {
		/* keep the good rules before the cut, when the document got that far */
		if (strict || !r.version_ok || !r.have_rules ||
		    (r.rules->len == 0 && r.problems->len == 0))
			fatal = g_steal_pointer(&r.error);
		else
			g_ptr_array_add(r.problems, g_steal_pointer(&r.error));
	}
	if (fatal != NULL) {
		g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE, fatal);
		return NULL;
	}
	g_ptr_array_extend_and_steal(problems, g_steal_pointer(&r.problems));
	if (lines != NULL)
		*lines = g_steal_pointer(&r.lines);
	return g_steal_pointer(&r.rules);
}

/* our files start with {"version": N: the second half of a split needs N */
static gboolean
vigil_parse_peek_version(const gchar *data, gsize len, gint64 *version)
{
	const gchar *key = "\"version\"";
	gchar number[24] = {0};
	gsize i = 0;
	gsize n = 0;

	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (i >= len || data[i++] != '{')
		return FALSE;
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (len - i < strlen(key) || memcmp(data + i, key, strlen(key)) != 0)
		return FALSE;
	i += strlen(key);
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (i >= len || data[i++] != ':')
		return FALSE;
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	while (i < len && g_ascii_isdigit(data[i]) && n < 9)
		number[n++] = data[i++];
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (n == 0 || i >= len || data[i] != ',')
		return FALSE;
	*version = g_ascii_strtoll(number, NULL, 10);
	return *version >= 1 && *version <= VIGIL_RULES_SCHEMA_VERSION;
}

typedef struct {
	gchar *text;
	gsize len;
	const gchar *filename;
	VigilParseMode mode;
	guint first_line;
	GPtrArray *rules;
	GArray *lines;
	GPtrArray *problems;
} VigilParseHalf;

static void
vigil_parse_half_clear(VigilParseHalf *half)
{
	g_clear_pointer(&half->text, g_free);
	g_clear_pointer(&half->rules, g_ptr_array_unref);
	g_clear_pointer(&half->lines, g_array_unref);
	g_clear_pointer(&half->problems, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilParseHalf, vigil_parse_half_clear)

static gpointer
vigil_parse_half_thread(gpointer user_data)
{
	VigilParseHalf *half = user_data;

	half->rules = vigil_rule_store_read(half->text,
					    half->len,
					    half->filename,
					    half->mode,
					    half->first_line,
					    TRUE,
					    &half->lines,
					    half->problems,
					    NULL);
	return NULL;
}

/*
 * A large document is cut at a ',' between two rules near its middle into two documents,
 * which two threads read at once:
 *   {"version": 1, "generator": "vigil", "rules": [ R1, ..., Rk   + ]}
 *   {"version":1,"rules":[  + Rk+1, ..., Rn ] }
 * The second starts on the line of the cut. If either half fails, %NULL: the caller reads
 * the whole document, which gives the right messages.
 */
static GPtrArray *
vigil_rule_store_read_split(const gchar *data,
			    gsize len,
			    const gchar *filename,
			    VigilParseMode mode,
			    gint64 version,
			    const VigilJsonSplit *split,
			    GArray **lines,
			    GPtrArray *problems)
{
	g_auto(VigilParseHalf) first = {0};
	g_auto(VigilParseHalf) second = {0};
	g_autofree gchar *prefix = NULL;
	GThread *thread;

	first.text = g_malloc(split->offset + 3);
	memcpy(first.text, data, split->offset);
	memcpy(first.text + split->offset, "]}", 3);
	first.len = split->offset + 2;
	first.first_line = 1;
	prefix = g_strdup_printf("{\"version\":%" G_GINT64_FORMAT ",\"rules\":[", version);
	second.len = strlen(prefix) + len - split->offset - 1;
	second.text = g_malloc(second.len + 1);
	memcpy(second.text, prefix, strlen(prefix));
	memcpy(second.text + strlen(prefix), data + split->offset + 1, len - split->offset - 1);
	second.text[second.len] = '\0';
	second.first_line = split->line;
	for (guint i = 0; i < 2; i++) {
		VigilParseHalf *half = i == 0 ? &first : &second;
		half->filename = filename;
		half->mode = mode;
		half->problems = g_ptr_array_new_with_free_func(g_free);
	}

	g_debug("reading %s in two halves, the second from line %u", filename, split->line);
	/* g_thread_new() would abort when no thread can be made */
	thread = g_thread_try_new("vigil-rules-read", vigil_parse_half_thread, &second, NULL);
	vigil_parse_half_thread(&first);
	if (thread != NULL)
		g_thread_join(thread);
	else
		vigil_parse_half_thread(&second);
	if (first.rules == NULL || second.rules == NULL) {
		g_debug("a half of %s failed, reading it whole", filename);
		return NULL;
	}

	g_ptr_array_extend_and_steal(problems, g_steal_pointer(&first.problems));
	g_ptr_array_extend_and_steal(problems, g_steal_pointer(&second.problems));
	g_array_append_vals(first.lines, second.lines->data, second.lines->len);
	g_ptr_array_extend_and_steal(first.rules, g_steal_pointer(&second.rules));
	if (lines != NULL)
		*lines = g_steal_pointer(&first.lines);
	return g_steal_pointer(&first.rules);
}

static GPtrArray *
vigil_rule_store_parse_full(const gchar *data,
			    gsize len,
			    const gchar *filename,
			    VigilParseMode mode,
			    GArray **lines,
			    GPtrArray *problems,
			    GError **error)
{
	gint64 version = 0;

	/* two cores read a large clean document in about half the time */
	if (len >= VIGIL_RULE_STORE_SPLIT_SIZE && vigil_parse_peek_version(data, len, &version)) {
		VigilJsonSplit split = {.target = len / 2};
		vigil_json_scan(data, len, NULL, &split);
		if (split.offset > 0 && split.n_arrays == 1) {
			GPtrArray *rules = vigil_rule_store_read_split(data,
								       len,
								       filename,
								       mode,
								       version,
								       &split,
								       lines,
								       problems);
			if (rules != NULL)
				return rules;
		}
	}
	return vigil_rule_store_read(data, len, filename, mode, 1, FALSE, lines, problems, error);
}

/**
 * vigil_rule_store_parse:
 * @data: a rules document (see #VigilRuleStore)
 * @len: the length of @data, or -1 when it is NUL-terminated
 * @filename: (nullable): the name used in messages
 * @problems: (element-type utf8) (nullable): receives one line per bad rule, as
 *            `FILE:LINE: reason`; must free its elements with g_free()
 * @error: a #GError
 *
 * Parses a document as written by vigil_rule_store_export(), keeping every field,
 * origin included. Bad rules are skipped and reported in @problems; of rules with the same
 * id only the first is kept.
 *
 * Returns: (transfer container) (element-type VigilRule): the good rules, or %NULL when
 * the document cannot be used at all (not JSON, not a rules document, a newer version)
 */
GPtrArray *
vigil_rule_store_parse(const gchar *data,
		       gssize len,
		       const gchar *filename,
		       GPtrArray *problems,
		       GError **error)
{
	g_autoptr(GPtrArray) problems_local = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) unique = g_ptr_array_new_with_free_func(g_object_unref);

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (problems == NULL)
		problems = problems_local = g_ptr_array_new_with_free_func(g_free);
	if (filename == NULL)
		filename = "<data>";
	if (len < 0)
		len = (gssize)strlen(data);
	rules = vigil_rule_store_parse_full(data,
					    (gsize)len,
					    filename,
					    VIGIL_PARSE_MODE_DOCUMENT,
					    &lines,
					    problems,
					    error);
	if (rules == NULL)
		return NULL;
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		const gchar *id = vigil_rule_get_id(rule);
		if (id != NULL && !g_hash_table_add(ids, (gpointer)id)) {
			g_ptr_array_add(problems,
					g_strdup_printf("%s:%u: duplicate rule id '%s' "
							"(the first one is kept)",
							filename,
							g_array_index(lines, guint, i),
							id));
			continue;
		}
		g_ptr_array_add(unique, g_object_ref(rule));
	}
	return g_steal_pointer(&unique);
}

/* json-glib 1.6 writes some control characters in strings as they are (U+001F, say),
 * which is not JSON: a note or a path holding one would make the saved file refuse that
 * rule on the next load. Every control character inside a string becomes a \u escape. */
static void
vigil_rule_store_escape_controls(GString *str)
{
	g_autoptr(GString) out = NULL;
	gboolean in_string = FALSE;
	gsize copied = 0;

	/* one pass, and a copy only when there is something to escape */
	for (gsize i = 0; i < str->len; i++) {
		guchar c = (guchar)str->str[i];
		if (in_string && c == '\\') {
			i++;
		} else if (c == '"') {
			in_string = !in_string;
		} else if (in_string && c < 0x20) {
			if (out == NULL)
				out = g_string_sized_new(str->len + 64);
			g_string_append_len(out, str->str + copied, (gssize)(i - copied));
			g_string_append_printf(out, "\\u%04x", c);
			copied = i + 1;
		}
	}
	if (out == NULL)
		return;
	g_string_append_len(out, str->str + copied, (gssize)(str->len - copied));
	g_string_assign(str, out->str);
}

static gchar *
vigil_rule_store_to_data(GPtrArray *rules, gsize *len)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	GString *str = g_string_new(NULL);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "version");
	json_builder_add_int_value(builder, VIGIL_RULES_SCHEMA_VERSION);
	json_builder_set_member_name(builder, "generator");
	json_builder_add_string_value(builder, "vigil");
	json_builder_set_member_name(builder, "rules");
	json_builder_begin_array(builder);
	for (guint i = 0; i < rules->len; i++)
		vigil_rule_add_to_json_builder(g_ptr_array_index(rules, i), builder);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);

	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	json_generator_set_root(generator, root);
	json_generator_to_gstring(generator, str);
	vigil_rule_store_escape_controls(str);
	g_string_append_c(str, '\n');
	if (len != NULL)
		*len = str->len;
	return g_string_free(str, FALSE);
}

/**
 * vigil_rule_store_export:
 * @rules: (element-type VigilRule): the rules to export, in this order
 *
 * Writes @rules as a rules document with `"generator": "vigil"`, pretty printed. Every
 * field is kept, so vigil_rule_store_parse() gives back equal rules.
 *
 * Returns: (transfer full): the document, NUL-terminated
 */
gchar *
vigil_rule_store_export(GPtrArray *rules)
{
	g_return_val_if_fail(rules != NULL, NULL);
	return vigil_rule_store_to_data(rules, NULL);
}

static gboolean
vigil_rule_store_read_file(const gchar *path, gchar **data, gsize *len, GError **error)
{
	g_auto(VigilFd) fd = -1;
	g_autofree gchar *buf = NULL;
	struct stat st = {0};
	gsize size = 0;
	gsize allocated;

	/* O_NONBLOCK: a FIFO in rules.d must not hang the daemon */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "%s: cannot read: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (S_ISDIR(st.st_mode)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_IS_DIRECTORY,
			    "%s: cannot read: %s",
			    path,
			    g_strerror(EISDIR));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_NOT_REGULAR_FILE,
			    "%s: cannot read: not a regular file",
			    path);
		return FALSE;
	}
	if (st.st_size > VIGIL_RULE_STORE_MAX_FILE_SIZE) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_NO_SPACE,
			    "%s: cannot read: larger than %u MiB",
			    path,
			    (guint)(VIGIL_RULE_STORE_MAX_FILE_SIZE / (1024 * 1024)));
		return FALSE;
	}

	allocated = (gsize)st.st_size + 1;
	buf = g_malloc(allocated + 1);
	for (;;) {
		gssize n;
		if (size == allocated) {
			if (allocated > VIGIL_RULE_STORE_MAX_FILE_SIZE) {
				g_set_error(
				    error,
				    G_IO_ERROR,
				    G_IO_ERROR_NO_SPACE,
				    "%s: cannot read: larger than %u MiB",
				    path,
				    (guint)(VIGIL_RULE_STORE_MAX_FILE_SIZE / (1024 * 1024)));
				return FALSE;
			}
			allocated *= 2;
			buf = g_realloc(buf, allocated + 1);
		}
		n = read(fd, buf + size, allocated - size);
		if (n < 0) {
			int errsv = errno;
			if (errsv == EINTR)
				continue;
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errsv),
				    "%s: cannot read: %s",
				    path,
				    g_strerror(errsv));
			return FALSE;
		}
		if (n == 0)
			break;
		size += (gsize)n;
	}
	buf[size] = '\0';
	*data = g_steal_pointer(&buf);
	*len = size;
	return TRUE;
}

static gboolean
vigil_rule_store_is_blank(const gchar *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isspace(data[i]))
			return FALSE;
	}
	return TRUE;
}

/* loads one file into @set; FALSE only when @set failed in a way no rule explains */
static gboolean
vigil_rule_store_load_file(const gchar *path,
			   VigilParseMode mode,
			   VigilRuleSet *set,
			   GPtrArray *problems,
			   guint *n_errors,
			   GError **error)
{
	g_autofree gchar *data = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GError) error_local = NULL;
	guint n_problems = problems->len;
	gsize len = 0;

	if (!vigil_rule_store_read_file(path, &data, &len, &error_local)) {
		/* no rules file yet is the normal first start */
		if (mode == VIGIL_PARSE_MODE_RULES &&
		    g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			return TRUE;
		g_ptr_array_add(problems, g_strdup(error_local->message));
		(*n_errors)++;
		return TRUE;
	}
	if (vigil_rule_store_is_blank(data, len)) {
		/* nothing to lose by overwriting it, so not an error */
		g_ptr_array_add(problems, g_strdup_printf("%s: the file is empty", path));
		return TRUE;
	}
	rules = vigil_rule_store_parse_full(data, len, path, mode, &lines, problems, &error_local);
	if (rules == NULL)
		g_ptr_array_add(problems, g_strdup(error_local->message));
	*n_errors += problems->len - n_problems;
	if (rules == NULL)
		return TRUE;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		guint line = g_array_index(lines, guint, i);
		g_autoptr(GError) error_add = NULL;

		if (vigil_rule_set_add(set, rule, &error_add))
			continue;
		if (g_error_matches(error_add, VIGIL_ERROR, VIGIL_ERROR_EXISTS)) {
			g_ptr_array_add(problems,
					g_strdup_printf("%s:%u: duplicate rule id '%s' "
							"(the first one is kept)",
							path,
							line,
							vigil_rule_get_id(rule)));
		} else if (g_error_matches(error_add, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE) ||
			   g_error_matches(error_add, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT)) {
			g_ptr_array_add(
			    problems,
			    g_strdup_printf("%s:%u: %s", path, line, error_add->message));
		} else {
			g_propagate_prefixed_error(error,
						   g_steal_pointer(&error_add),
						   "failed to load %s: ",
						   path);
			return FALSE;
		}
		(*n_errors)++;
	}
	return TRUE;
}

static gint
vigil_rule_store_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/**
 * vigil_rule_store_load:
 * @self: a #VigilRuleStore
 * @set: where the rules go
 * @problems: (element-type utf8) (nullable): receives one line per bad rule or file,
 *            `FILE:LINE: reason` or `FILE: reason`; must free its elements with g_free()
 * @error: a #GError
 *
 * Loads the rules file (a missing one holds no rules) and then every `*.json` in the
 * drop-in directory, in name order. A bad rule is skipped, a bad file skipped as a whole;
 * every good rule is added to @set. Of rules with the same id the first one loaded stays.
 * When the rules file had problems the store is broken (see vigil_rule_store_save()).
 *
 * Returns: %FALSE only when @set refused a rule for a reason that is not the rule's
 */
gboolean
vigil_rule_store_load(VigilRuleStore *self, VigilRuleSet *set, GPtrArray *problems, GError **error)
{
	g_autoptr(GPtrArray) problems_local = NULL;
	guint n_errors = 0;

	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_RULE_SET(set), FALSE);

	if (problems == NULL)
		problems = problems_local = g_ptr_array_new_with_free_func(g_free);

	self->n_errors = 0;
	if (self->rules_path != NULL) {
		if (!vigil_rule_store_load_file(self->rules_path,
						VIGIL_PARSE_MODE_RULES,
						set,
						problems,
						&n_errors,
						error))
			return FALSE;
		self->n_errors = n_errors;
	}

	if (self->dropin_dir != NULL) {
		g_autoptr(GDir) dir = NULL;
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error_local = NULL;
		const gchar *name;

		dir = g_dir_open(self->dropin_dir, 0, &error_local);
		if (dir == NULL) {
			if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				g_ptr_array_add(problems,
						g_strdup_printf("%s: cannot read: %s",
								self->dropin_dir,
								error_local->message));
			return TRUE;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (name[0] != '.' && g_str_has_suffix(name, ".json"))
				g_ptr_array_add(names, g_strdup(name));
		}
		g_ptr_array_sort(names, vigil_rule_store_compare_names);
		for (guint i = 0; i < names->len; i++) {
			g_autofree gchar *path =
			    g_build_filename(self->dropin_dir, g_ptr_array_index(names, i), NULL);
			guint n_dropin_errors = 0;
			if (!vigil_rule_store_load_file(path,
							VIGIL_PARSE_MODE_DROPIN,
							set,
							problems,
							&n_dropin_errors,
							error))
				return FALSE;
		}
	}
	return TRUE;
}

/**
 * vigil_rule_store_is_broken:
 * @self: a #VigilRuleStore
 *
 * Returns: whether the rules file had problems at the last load, so that saving would drop
 * rules the user has not seen
 */
gboolean
vigil_rule_store_is_broken(VigilRuleStore *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), FALSE);
	return self->n_errors > 0;
}

/**
 * vigil_rule_store_get_n_errors:
 * @self: a #VigilRuleStore
 *
 * Returns: how many problems the rules file (not the drop-ins) had at the last load
 */
guint
vigil_rule_store_get_n_errors(VigilRuleStore *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), 0);
	return self->n_errors;
}

static void
vigil_rule_store_test_crash(const gchar *step)
{
	const gchar *crash_at = g_getenv(VIGIL_TEST_SAVE_CRASH_ENV);
	if (crash_at != NULL && g_str_equal(crash_at, step))
		_exit(1);
}

static gboolean
vigil_rule_store_write_all(gint fd, const gchar *path, const gchar *data, gsize len, GError **error)
{
	while (len > 0) {
		gssize n = write(fd, data, MIN(len, (gsize)G_MAXSSIZE));
		if (n < 0) {
			int errsv = errno;
			if (errsv == EINTR)
				continue;
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errsv),
				    "cannot write %s: %s",
				    path,
				    g_strerror(errsv));
			return FALSE;
		}
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* writes, syncs and closes the temporary file */
static gboolean
vigil_rule_store_write_temp(VigilFd *fd,
			    const gchar *tmp,
			    const gchar *data,
			    gsize len,
			    gboolean test_hooks,
			    GError **error)
{
	gint raw;

	if (!vigil_rule_store_write_all(*fd, tmp, data, len / 2, error))
		return FALSE;
	if (test_hooks)
		vigil_rule_store_test_crash("write");
	if (!vigil_rule_store_write_all(*fd, tmp, data + len / 2, len - len / 2, error))
		return FALSE;
	if (test_hooks)
		vigil_rule_store_test_crash("fsync");
	if (fsync(*fd) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot sync %s: %s",
			    tmp,
			    g_strerror(errsv));
		return FALSE;
	}
	raw = g_steal_fd(fd);
	if (close(raw) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot close %s: %s",
			    tmp,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

/* temp file in the same directory, write, fsync, close, rename over, fsync the directory:
 * after a crash at any point @path is either the old file or the new one */
static gboolean
vigil_rule_store_write_atomically(const gchar *path,
				  const gchar *data,
				  gsize len,
				  gboolean test_hooks,
				  GError **error)
{
	g_autofree gchar *dirname = g_path_get_dirname(path);
	g_autofree gchar *basename = g_path_get_basename(path);
	g_autofree gchar *tmp = g_strdup_printf("%s/.%s.XXXXXX", dirname, basename);
	g_auto(VigilFd) fd = -1;
	g_auto(VigilFd) dir_fd = -1;

	if (g_mkdir_with_parents(dirname, 0755) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot create %s: %s",
			    dirname,
			    g_strerror(errsv));
		return FALSE;
	}
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot create a temporary file in %s: %s",
			    dirname,
			    g_strerror(errsv));
		return FALSE;
	}
	if (!vigil_rule_store_write_temp(&fd, tmp, data, len, test_hooks, error)) {
		(void)unlink(tmp);
		return FALSE;
	}
	if (test_hooks)
		vigil_rule_store_test_crash("rename");
	if (rename(tmp, path) < 0) {
		int errsv = errno;
		(void)unlink(tmp);
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot rename %s to %s: %s",
			    tmp,
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (test_hooks)
		vigil_rule_store_test_crash("dirsync");
	dir_fd = open(dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || fsync(dir_fd) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot sync directory %s: %s",
			    dirname,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

/* rules.json -> rules.json.broken-<unix time>, as a hard link so that the old bytes stay
 * whatever happens next; a copy where the file system has no hard links */
static gboolean
vigil_rule_store_keep_broken(const gchar *path, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	for (guint i = 0; i < 100; i++) {
		g_autofree gchar *copy =
		    i == 0 ? g_strdup_printf("%s.broken-%" G_GINT64_FORMAT, path, now)
			   : g_strdup_printf("%s.broken-%" G_GINT64_FORMAT "-%u", path, now, i);
		g_autofree gchar *data = NULL;
		gsize len = 0;
		int errsv;

		if (link(path, copy) == 0)
			return TRUE;
		errsv = errno;
		if (errsv == ENOENT)
			return TRUE;
		if (errsv == EEXIST)
			continue;
		if (!vigil_rule_store_read_file(path, &data, &len, error)) {
			g_prefix_error(error, "cannot keep a copy of the broken file: ");
			return FALSE;
		}
		if (!vigil_rule_store_write_atomically(copy, data, len, FALSE, error)) {
			g_prefix_error(error, "cannot keep a copy of the broken file: ");
			return FALSE;
		}
		return TRUE;
	}
	g_set_error(error,
		    G_IO_ERROR,
		    G_IO_ERROR_EXISTS,
		    "cannot keep a copy of the broken file: %s.broken-%" G_GINT64_FORMAT
		    " and 99 more exist",
		    path,
		    now);
	return FALSE;
}

static gint
vigil_rule_store_compare_ids(gconstpointer a, gconstpointer b)
{
	VigilRule *rule_a = *(VigilRule *const *)a;
	VigilRule *rule_b = *(VigilRule *const *)b;
	return g_strcmp0(vigil_rule_get_id(rule_a), vigil_rule_get_id(rule_b));
}

/**
 * vigil_rule_store_save:
 * @self: a #VigilRuleStore
 * @set: the rules
 * @flags: #VigilRuleStoreSaveFlags
 * @error: a #GError
 *
 * Writes the rules of @set that belong in the rules file (all but managed and once-lifetime
 * rules), sorted by id, atomically. When the file had problems at the last load this fails
 * with %VIGIL_ERROR_BROKEN_FILE, unless @flags has %VIGIL_RULE_STORE_SAVE_FORCE; then the
 * old file is kept as `rules.json.broken-<unix time>` first.
 *
 * The file is written to a temporary file in the same directory (created 0755 when
 * missing), which is synced, closed and renamed over the old one before the directory is
 * synced: after a crash at any point the file is the old one or the new one. For tests,
 * `VIGIL_TEST_SAVE_CRASH_AT=write|fsync|rename|dirsync` in the environment makes the
 * process _exit(1) at that step (half the data written, before fsync, before rename,
 * before the directory sync).
 *
 * Returns: %TRUE on success
 */
gboolean
vigil_rule_store_save(VigilRuleStore *self,
		      VigilRuleSet *set,
		      VigilRuleStoreSaveFlags flags,
		      GError **error)
{
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_autofree gchar *data = NULL;
	gsize len = 0;

	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_RULE_SET(set), FALSE);
	g_return_val_if_fail(self->rules_path != NULL, FALSE);

	if (self->n_errors > 0 && (flags & VIGIL_RULE_STORE_SAVE_FORCE) == 0) {
		g_autofree gchar *basename = g_path_get_basename(self->rules_path);
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_BROKEN_FILE,
			    "%s had %u %s when loaded; saving would drop those rules: "
			    "fix the file or save with force",
			    basename,
			    self->n_errors,
			    self->n_errors == 1 ? "error" : "errors");
		return FALSE;
	}

	all = vigil_rule_set_get_rules(set);
	for (guint i = 0; i < all->len; i++) {
		VigilRule *rule = g_ptr_array_index(all, i);
		if (vigil_rule_get_origin(rule) == VIGIL_ORIGIN_MANAGED ||
		    vigil_rule_get_lifetime(rule) == VIGIL_LIFETIME_ONCE)
			continue;
		g_ptr_array_add(rules, g_object_ref(rule));
	}
	g_ptr_array_sort(rules, vigil_rule_store_compare_ids);
	data = vigil_rule_store_to_data(rules, &len);

	if (self->n_errors > 0 && !vigil_rule_store_keep_broken(self->rules_path, error))
		return FALSE;
	if (!vigil_rule_store_write_atomically(self->rules_path, data, len, TRUE, error))
		return FALSE;
	self->n_errors = 0;
	return TRUE;
}

const gchar *
vigil_rule_store_get_rules_path(VigilRuleStore *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), NULL);
	return self->rules_path;
}

const gchar *
vigil_rule_store_get_dropin_dir(VigilRuleStore *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_STORE(self), NULL);
	return self->dropin_dir;
}

static void
vigil_rule_store_finalize(GObject *object)
{
	VigilRuleStore *self = VIGIL_RULE_STORE(object);

	g_free(self->rules_path);
	g_free(self->dropin_dir);
	G_OBJECT_CLASS(vigil_rule_store_parent_class)->finalize(object);
}

static void
vigil_rule_store_class_init(VigilRuleStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = vigil_rule_store_finalize;
}

static void
vigil_rule_store_init(VigilRuleStore *self)
{
}

/**
 * vigil_rule_store_new:
 * @rules_path: (nullable): the rules file, usually `/var/lib/vigil/rules.json`
 * @dropin_dir: (nullable): the drop-in directory, usually `/etc/vigil/rules.d`
 *
 * Nothing is read until vigil_rule_store_load().
 *
 * Returns: (transfer full): a new #VigilRuleStore
 */
VigilRuleStore *
vigil_rule_store_new(const gchar *rules_path, const gchar *dropin_dir)
{
	VigilRuleStore *self = g_object_new(VIGIL_TYPE_RULE_STORE, NULL);
	self->rules_path = g_strdup(rules_path);
	self->dropin_dir = g_strdup(dropin_dir);
	return self;
}
