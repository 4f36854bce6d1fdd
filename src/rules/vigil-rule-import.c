/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilRuleImport"

#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "vigil-error.h"
#include "vigil-rule-import.h"
#include "vigil-rule-store.h"

/*
 * OpenSnitch rules (one JSON object per file in /etc/opensnitchd/rules) hold a tree of
 * operators: {"type": "simple|regexp|network|range|list|lists", "operand": "process.path|
 * dest.host|...", "sensitive": bool, "data": "...", "list": [operators]}; a list is the AND
 * of its operators. A rule is imported only when it maps exactly: a rule that lost one
 * condition would allow (or deny) more than the user ever said, so anything else skips the
 * whole rule with a reason. Choices:
 *
 * - "sensitive": false is OpenSnitch's default on every rule. Host names, addresses, ports,
 *   uids and protocols have no case (Vigil compares host names in lower case), so it changes
 *   nothing there. For process.path it would also match case variants of the same path; we
 *   import the path as written. An explicit (?i) in a process.path regexp is refused.
 * - Regexps map when they are anchored (^...$) and made of literals: escaped literal ->
 *   that value, ^(.*\.)?example\.com$ (or (|.*\.)) -> *.example.com, .* -> any, and an
 *   alternation of those -> one rule per alternative (several alternations: every
 *   combination, at most 256 rules).
 * - OpenSnitch filters outbound connections, so the rules are outbound only.
 * - protocol tcp6/udp6/udplite6/icmp6 -> tcp/udp/udplite/icmpv6: OpenSnitch names the
 *   family in the protocol, Vigil rules cover both families unless they name an address.
 * - precedence and nolog have no Vigil equivalent and are ignored: Vigil decides by
 *   specificity, and deny wins a tie.
 */

#define VIGIL_IMPORT_MAX_RULES	      256
#define VIGIL_IMPORT_MAX_ALTERNATIVES 64
#define VIGIL_IMPORT_MAX_DEPTH	      8

typedef enum {
	VIGIL_IMPORT_FIELD_EXE,
	VIGIL_IMPORT_FIELD_USER,
	VIGIL_IMPORT_FIELD_HOST,
	VIGIL_IMPORT_FIELD_CIDR,
	VIGIL_IMPORT_FIELD_PORT,
	VIGIL_IMPORT_FIELD_PROTOCOL,
	VIGIL_IMPORT_FIELD_LAST
} VigilImportField;

typedef struct {
	GPtrArray *values[VIGIL_IMPORT_FIELD_LAST]; /* of gchar*; NULL: any value */
	gchar *operands[VIGIL_IMPORT_FIELD_LAST];   /* what set each field, for messages */
} VigilImportConditions;

static void
vigil_import_conditions_clear(VigilImportConditions *conditions)
{
	for (guint i = 0; i < VIGIL_IMPORT_FIELD_LAST; i++) {
		g_clear_pointer(&conditions->values[i], g_ptr_array_unref);
		g_clear_pointer(&conditions->operands[i], g_free);
	}
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilImportConditions, vigil_import_conditions_clear)

static const struct {
	const gchar *operand;
	const gchar *why;
} unmappable_operands[] = {
    {"process.command", "Vigil matches executables, not command lines"},
    {"process.id", "a process id means nothing once that process is gone"},
    {"process.hash.md5", "Vigil pins executables by sha256 only"},
    {"process.hash.sha1", "Vigil pins executables by sha256 only"},
    {"source.ip", "Vigil rules match the remote end of a connection"},
    {"source.port", "Vigil rules match the remote end of a connection"},
    {"source.network", "Vigil rules match the remote end of a connection"},
    {"iface.in", "Vigil rules do not match network interfaces"},
    {"iface.out", "Vigil rules do not match network interfaces"},
};

static const gchar *domain_prefixes[] = {
    "(.*\\.)?",
    "(|.*\\.)",
    "(.*\\.|)",
    "(?:.*\\.)?",
    "(?:|.*\\.)",
    "(?:.*\\.|)",
};

/* the index of the ')' that closes the '(' at @open, or -1 */
static gssize
vigil_import_regexp_group_end(const gchar *str, gsize len, gsize open)
{
	guint depth = 0;
	gboolean in_class = FALSE;

	for (gsize i = open; i < len; i++) {
		gchar c = str[i];
		if (c == '\\') {
			i++;
		} else if (in_class) {
			if (c == ']')
				in_class = FALSE;
		} else if (c == '[') {
			in_class = TRUE;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (depth == 0)
				return -1;
			if (--depth == 0)
				return (gssize)i;
		}
	}
	return -1;
}

/* "(a|b)" or "(?:a|b)" as a whole: the inside, else %NULL */
static gchar *
vigil_import_regexp_unwrap(const gchar *str)
{
	gsize len = strlen(str);

	if (len < 2 || str[0] != '(' ||
	    vigil_import_regexp_group_end(str, len, 0) != (gssize)len - 1)
		return NULL;
	if (g_str_has_prefix(str, "(?:"))
		return g_strndup(str + 3, len - 4);
	if (str[1] == '?')
		return NULL;
	return g_strndup(str + 1, len - 2);
}

/* splits on the '|' that are not inside a group or a class */
static GPtrArray *
vigil_import_regexp_split(const gchar *str)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
	gboolean in_class = FALSE;
	guint depth = 0;
	gsize start = 0;
	gsize i;

	for (i = 0; str[i] != '\0'; i++) {
		gchar c = str[i];
		if (c == '\\' && str[i + 1] != '\0') {
			i++;
		} else if (in_class) {
			if (c == ']')
				in_class = FALSE;
		} else if (c == '[') {
			in_class = TRUE;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (depth > 0)
				depth--;
		} else if (c == '|' && depth == 0) {
			g_ptr_array_add(parts, g_strndup(str + start, i - start));
			start = i + 1;
		}
	}
	g_ptr_array_add(parts, g_strndup(str + start, i - start));
	return parts;
}

/* an escaped literal such as "example\.com" -> "example.com" */
static gchar *
vigil_import_regexp_literal(const gchar *str, gchar **reason)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (const gchar *p = str; *p != '\0'; p++) {
		gchar c = *p;
		if (c == '\\') {
			c = *++p;
			if (c == '\0') {
				*reason = g_strdup("it ends in a backslash");
				return NULL;
			}
			if (g_ascii_isalnum(c) || (guchar)c >= 0x80) {
				*reason = g_strdup_printf("'\\%c' is not a literal character", c);
				return NULL;
			}
		} else if (c == '.') {
			*reason = g_strdup("an unescaped '.' matches any character");
			return NULL;
		} else if (strchr("+*?()|[]{}^$", c) != NULL) {
			*reason = g_strdup_printf("'%c' is not a literal character", c);
			return NULL;
		}
		g_string_append_c(out, c);
	}
	if (out->len == 0) {
		*reason = g_strdup("it has an empty alternative");
		return NULL;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
vigil_import_regexp_is_any(const gchar *str)
{
	return g_str_equal(str, ".*") || g_str_equal(str, "(.*)") || g_str_equal(str, "(?:.*)");
}

/* adds the values @body (a regexp without anchors) matches; sets @any when it matches all */
static gboolean
vigil_import_regexp_expand(const gchar *body,
			   gboolean host,
			   guint depth,
			   GPtrArray *values,
			   gboolean *any,
			   gchar **reason)
{
	g_autoptr(GPtrArray) parts = vigil_import_regexp_split(body);
	g_autofree gchar *inner = NULL;

	if (depth > 3) {
		*reason = g_strdup("its groups are nested too deeply");
		return FALSE;
	}
	inner = parts->len == 1 ? vigil_import_regexp_unwrap(body) : NULL;
	if (inner != NULL)
		return vigil_import_regexp_expand(inner, host, depth + 1, values, any, reason);

	for (guint i = 0; i < parts->len; i++) {
		const gchar *part = g_ptr_array_index(parts, i);
		const gchar *prefix = "";
		g_autofree gchar *group = NULL;
		g_autoptr(GPtrArray) literals = NULL;

		if (vigil_import_regexp_is_any(part)) {
			*any = TRUE;
			continue;
		}
		if (host && (g_str_has_prefix(part, ".*\\.") || g_str_has_prefix(part, ".+\\."))) {
			*reason = g_strdup("it matches subdomains only, and a Vigil *.domain also "
					   "matches the domain itself");
			return FALSE;
		}
		for (guint j = 0; host && j < G_N_ELEMENTS(domain_prefixes); j++) {
			if (g_str_has_prefix(part, domain_prefixes[j])) {
				prefix = "*.";
				part += strlen(domain_prefixes[j]);
				break;
			}
		}
		group = vigil_import_regexp_unwrap(part);
		literals = vigil_import_regexp_split(group != NULL ? group : part);
		if (group == NULL && literals->len > 1) {
			*reason = g_strdup("it is not a list of literal alternatives");
			return FALSE;
		}
		for (guint j = 0; j < literals->len; j++) {
			g_autofree gchar *literal =
			    vigil_import_regexp_literal(g_ptr_array_index(literals, j), reason);
			if (literal == NULL)
				return FALSE;
			g_ptr_array_add(values, g_strconcat(prefix, literal, NULL));
		}
		if (values->len > VIGIL_IMPORT_MAX_ALTERNATIVES) {
			*reason = g_strdup_printf("it has more than %u alternatives",
						  (guint)VIGIL_IMPORT_MAX_ALTERNATIVES);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
vigil_import_regexp_is_anchored(const gchar *pattern)
{
	gsize len = strlen(pattern);
	gsize backslashes = 0;

	while (backslashes + 1 < len && pattern[len - 2 - backslashes] == '\\')
		backslashes++;
	return len >= 3 && pattern[0] == '^' && pattern[len - 1] == '$' && backslashes % 2 == 0;
}

/* the exact values an OpenSnitch regexp matches: an empty @values and @any for anything */
static gboolean
vigil_import_regexp(const gchar *pattern,
		    gboolean host,
		    GPtrArray *values,
		    gboolean *any,
		    gchar **reason)
{
	g_autoptr(GPtrArray) parts = NULL;

	*any = FALSE;
	if (pattern[0] == '\0' || g_str_equal(pattern, "^") || g_str_equal(pattern, ".*") ||
	    g_str_equal(pattern, "^.*") || g_str_equal(pattern, ".*$") ||
	    g_str_equal(pattern, "^.*$")) {
		*any = TRUE;
		return TRUE;
	}

	/* ^(a|b)$ is one part; ^a$|^b$ two, each anchored on its own */
	parts = vigil_import_regexp_split(pattern);
	for (guint i = 0; i < parts->len; i++) {
		const gchar *part = g_ptr_array_index(parts, i);
		g_autofree gchar *body = NULL;
		if (!vigil_import_regexp_is_anchored(part)) {
			*reason = g_strdup("it is not anchored with ^ and $, so it also matches "
					   "values that only contain a match");
			return FALSE;
		}
		body = g_strndup(part + 1, strlen(part) - 2);
		if (!vigil_import_regexp_expand(body, host, 0, values, any, reason))
			return FALSE;
	}
	if (*any)
		g_ptr_array_set_size(values, 0);
	return TRUE;
}

static gboolean
vigil_import_parse_uint(const gchar *str, guint64 max, guint64 *value)
{
	gsize len = strlen(str);

	if (len == 0 || len > 10 || strspn(str, "0123456789") != len)
		return FALSE;
	*value = g_ascii_strtoull(str, NULL, 10);
	return *value <= max;
}

/* checks one value and writes it the way Vigil does, so that equal values compare equal */
static gchar *
vigil_import_normalize(VigilImportField field,
		       const gchar *operand,
		       const gchar *type,
		       const gchar *value,
		       gchar **reason)
{
	guint64 num = 0;
	guint8 address[16];

	switch (field) {
	case VIGIL_IMPORT_FIELD_EXE:
		if (!g_path_is_absolute(value)) {
			*reason =
			    g_strdup_printf("process.path '%s' is not an absolute path", value);
			return NULL;
		}
		return g_strdup(value);
	case VIGIL_IMPORT_FIELD_USER:
		if (!vigil_import_parse_uint(value, G_MAXUINT32 - 1, &num)) {
			*reason = g_strdup_printf("user.id '%s' is not a uid", value);
			return NULL;
		}
		return g_strdup_printf("%" G_GUINT64_FORMAT, num);
	case VIGIL_IMPORT_FIELD_HOST:
		if (!g_str_equal(type, "regexp") && strchr(value, '*') != NULL) {
			*reason = g_strdup_printf("dest.host '%s' is compared literally, '*' "
						  "included, which no host name matches",
						  value);
			return NULL;
		}
		return g_ascii_strdown(value, -1);
	case VIGIL_IMPORT_FIELD_CIDR:
		if (g_str_equal(operand, "dest.ip") && !g_str_equal(type, "network") &&
		    inet_pton(AF_INET, value, address) != 1 &&
		    inet_pton(AF_INET6, value, address) != 1) {
			*reason = g_strdup_printf("dest.ip '%s' is not an address", value);
			return NULL;
		}
		return g_strdup(value);
	case VIGIL_IMPORT_FIELD_PORT:
		if (g_str_equal(type, "range")) {
			g_auto(GStrv) ends = g_strsplit(value, "-", 3);
			guint64 high = 0;
			if (g_strv_length(ends) == 2 &&
			    vigil_import_parse_uint(ends[0], 65535, &num) &&
			    vigil_import_parse_uint(ends[1], 65535, &high) && num <= high)
				return g_strdup_printf("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
						       num,
						       high);
		} else if (vigil_import_parse_uint(value, 65535, &num)) {
			return g_strdup_printf("%" G_GUINT64_FORMAT, num);
		}
		*reason = g_strdup_printf("dest.port '%s' is not a port", value);
		return NULL;
	case VIGIL_IMPORT_FIELD_PROTOCOL: {
		static const struct {
			const gchar *opensnitch;
			const gchar *vigil;
		} protocols[] = {
		    {"tcp", "tcp"},
		    {"tcp6", "tcp"},
		    {"udp", "udp"},
		    {"udp6", "udp"},
		    {"udplite", "udplite"},
		    {"udplite6", "udplite"},
		    {"sctp", "sctp"},
		    {"sctp6", "sctp"},
		    {"icmp", "icmp"},
		    {"icmp6", "icmpv6"},
		    {"icmpv6", "icmpv6"},
		};
		for (guint i = 0; i < G_N_ELEMENTS(protocols); i++) {
			if (g_ascii_strcasecmp(value, protocols[i].opensnitch) == 0)
				return g_strdup(protocols[i].vigil);
		}
		*reason = g_strdup_printf("protocol '%s' is not one Vigil knows", value);
		return NULL;
	}
	case VIGIL_IMPORT_FIELD_LAST:
	default:
		g_assert_not_reached();
	}
	return NULL;
}

static gboolean
vigil_import_same_values(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return FALSE;
	for (guint i = 0; i < a->len; i++) {
		if (!g_ptr_array_find_with_equal_func(b,
						      g_ptr_array_index(a, i),
						      g_str_equal,
						      NULL))
			return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_import_get_string(JsonObject *obj, const gchar *key, const gchar **value, gchar **reason)
{
	JsonNode *node = json_object_get_member(obj, key);

	*value = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		*reason = g_strdup_printf("'%s' must be a string", key);
		return FALSE;
	}
	*value = json_node_get_string(node);
	return TRUE;
}

static gboolean
vigil_import_get_boolean(JsonObject *obj, const gchar *key, gboolean *value, gchar **reason)
{
	JsonNode *node = json_object_get_member(obj, key);

	*value = FALSE;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
		*reason = g_strdup_printf("'%s' must be true or false", key);
		return FALSE;
	}
	*value = json_node_get_boolean(node);
	return TRUE;
}

static gboolean
vigil_import_apply_operator(VigilImportConditions *conditions,
			    JsonObject *op,
			    guint depth,
			    gchar **reason);

/* a list operator: the AND of its operators, from "list" or, failing that, "data" */
static gboolean
vigil_import_apply_list(VigilImportConditions *conditions,
			JsonObject *op,
			const gchar *data,
			guint depth,
			gchar **reason)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *list = json_object_get_member(op, "list");
	JsonArray *array = NULL;

	if (depth >= VIGIL_IMPORT_MAX_DEPTH) {
		*reason = g_strdup("its lists are nested too deeply");
		return FALSE;
	}
	if (list != NULL && JSON_NODE_HOLDS_ARRAY(list) &&
	    json_array_get_length(json_node_get_array(list)) > 0) {
		array = json_node_get_array(list);
	} else if (data != NULL && data[0] != '\0') {
		VigilJsonFlaw flaw;
		JsonNode *root;
		parser = json_parser_new();
		if (!vigil_rule_store_check_json(data, strlen(data), &flaw) ||
		    !json_parser_load_from_data(parser, data, -1, NULL) ||
		    (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_ARRAY(root)) {
			*reason = g_strdup("its list operator has neither \"list\" nor a JSON list "
					   "in \"data\"");
			return FALSE;
		}
		array = json_node_get_array(root);
	} else if (list != NULL && !JSON_NODE_HOLDS_NULL(list) && !JSON_NODE_HOLDS_ARRAY(list)) {
		*reason = g_strdup("'list' must be a list of operators");
		return FALSE;
	}
	if (array == NULL || json_array_get_length(array) == 0) {
		*reason = g_strdup("its list of operators is empty");
		return FALSE;
	}
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		if (!JSON_NODE_HOLDS_OBJECT(element)) {
			*reason = g_strdup("its list holds something that is not an operator");
			return FALSE;
		}
		if (!vigil_import_apply_operator(conditions,
						 json_node_get_object(element),
						 depth + 1,
						 reason))
			return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_import_apply_operator(VigilImportConditions *conditions,
			    JsonObject *op,
			    guint depth,
			    gchar **reason)
{
	g_autoptr(GPtrArray) raw = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
	const gchar *type = NULL;
	const gchar *operand = NULL;
	const gchar *data = NULL;
	gboolean sensitive = FALSE;
	VigilImportField field;

	if (!vigil_import_get_string(op, "type", &type, reason) ||
	    !vigil_import_get_string(op, "operand", &operand, reason) ||
	    !vigil_import_get_string(op, "data", &data, reason) ||
	    !vigil_import_get_boolean(op, "sensitive", &sensitive, reason))
		return FALSE;
	if (type == NULL)
		type = "simple";
	if (operand == NULL)
		operand = "";
	if (data == NULL)
		data = "";

	if (g_str_equal(type, "list") || g_str_equal(operand, "list"))
		return vigil_import_apply_list(conditions, op, data, depth, reason);
	if (g_str_equal(type, "lists") || g_str_has_prefix(operand, "lists.")) {
		*reason = g_strdup_printf("cannot map operand '%s' (lists of domains or addresses "
					  "kept in files; a Vigil rule names one host or network)",
					  operand);
		return FALSE;
	}
	if (g_str_equal(operand, "true"))
		return TRUE;
	if (g_str_equal(operand, "process.path")) {
		field = VIGIL_IMPORT_FIELD_EXE;
	} else if (g_str_equal(operand, "user.id")) {
		field = VIGIL_IMPORT_FIELD_USER;
	} else if (g_str_equal(operand, "dest.host")) {
		field = VIGIL_IMPORT_FIELD_HOST;
	} else if (g_str_equal(operand, "dest.ip") || g_str_equal(operand, "dest.network")) {
		field = VIGIL_IMPORT_FIELD_CIDR;
	} else if (g_str_equal(operand, "dest.port")) {
		field = VIGIL_IMPORT_FIELD_PORT;
	} else if (g_str_equal(operand, "protocol")) {
		field = VIGIL_IMPORT_FIELD_PROTOCOL;
	} else {
		for (guint i = 0; i < G_N_ELEMENTS(unmappable_operands); i++) {
			if (g_str_equal(operand, unmappable_operands[i].operand)) {
				*reason = g_strdup_printf("cannot map operand '%s' (%s)",
							  operand,
							  unmappable_operands[i].why);
				return FALSE;
			}
		}
		if (g_str_has_prefix(operand, "process.env.")) {
			*reason = g_strdup_printf("cannot map operand '%s' (Vigil does not match "
						  "environment variables)",
						  operand);
			return FALSE;
		}
		*reason = g_strdup_printf("cannot map operand '%s'", operand);
		return FALSE;
	}

	if (g_str_equal(type, "simple")) {
		g_ptr_array_add(raw, g_strdup(data));
	} else if (g_str_equal(type, "regexp")) {
		g_autofree gchar *why = NULL;
		const gchar *pattern = data;
		gboolean any = FALSE;
		if (g_str_has_prefix(pattern, "(?i)")) {
			if (field == VIGIL_IMPORT_FIELD_EXE) {
				*reason = g_strdup_printf("cannot map regexp '%s' on %s: it is "
							  "case-insensitive, paths are not",
							  data,
							  operand);
				return FALSE;
			}
			pattern += 4;
		}
		if (!vigil_import_regexp(pattern,
					 field == VIGIL_IMPORT_FIELD_HOST,
					 raw,
					 &any,
					 &why)) {
			*reason =
			    g_strdup_printf("cannot map regexp '%s' on %s: %s", data, operand, why);
			return FALSE;
		}
		if (any)
			return TRUE;
	} else if (g_str_equal(type, "network") && field == VIGIL_IMPORT_FIELD_CIDR) {
		g_ptr_array_add(raw, g_strdup(data));
	} else if (g_str_equal(type, "range") && field == VIGIL_IMPORT_FIELD_PORT) {
		g_ptr_array_add(raw, g_strdup(data));
	} else {
		*reason = g_strdup_printf("cannot map operator type '%s' on %s", type, operand);
		return FALSE;
	}

	for (guint i = 0; i < raw->len; i++) {
		gchar *value =
		    vigil_import_normalize(field, operand, type, g_ptr_array_index(raw, i), reason);
		if (value == NULL)
			return FALSE;
		if (!g_ptr_array_find_with_equal_func(values, value, g_str_equal, NULL))
			g_ptr_array_add(values, value);
		else
			g_free(value);
	}

	/* AND of two conditions on one field: fine only when they say the same */
	if (conditions->values[field] != NULL) {
		if (!vigil_import_same_values(conditions->values[field], values)) {
			*reason = g_strdup_printf("cannot map two different conditions on %s",
						  conditions->operands[field]);
			return FALSE;
		}
		return TRUE;
	}
	conditions->values[field] = g_steal_pointer(&values);
	conditions->operands[field] = g_strdup(operand);
	return TRUE;
}

static gboolean
vigil_import_set_field(VigilRule *rule,
		       VigilImportField field,
		       const gchar *value,
		       const gchar *operand,
		       gchar **reason)
{
	g_autoptr(GError) error_local = NULL;
	gboolean ok = TRUE;

	switch (field) {
	case VIGIL_IMPORT_FIELD_EXE:
		vigil_rule_set_exe(rule, value);
		break;
	case VIGIL_IMPORT_FIELD_USER:
		vigil_rule_set_user(rule, (guint32)g_ascii_strtoull(value, NULL, 10));
		break;
	case VIGIL_IMPORT_FIELD_HOST:
		ok = vigil_rule_set_host(rule, value, &error_local);
		break;
	case VIGIL_IMPORT_FIELD_CIDR:
		ok = vigil_rule_set_cidr(rule, value, &error_local);
		break;
	case VIGIL_IMPORT_FIELD_PORT:
		ok = vigil_rule_set_port_from_string(rule, value, &error_local);
		break;
	case VIGIL_IMPORT_FIELD_PROTOCOL:
		vigil_rule_set_protocol(rule, (guint8)vigil_protocol_from_string(value));
		break;
	case VIGIL_IMPORT_FIELD_LAST:
	default:
		g_assert_not_reached();
	}
	if (!ok) {
		*reason = g_strdup_printf("cannot map %s: %s", operand, error_local->message);
		return FALSE;
	}
	return TRUE;
}

/* one rule per combination of alternatives */
static gboolean
vigil_import_expand(VigilImportConditions *conditions,
		    VigilRule *template,
		    GPtrArray *rules,
		    gchar **reason)
{
	g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func(g_object_unref);
	guint total = 1;

	if (conditions->values[VIGIL_IMPORT_FIELD_HOST] != NULL &&
	    conditions->values[VIGIL_IMPORT_FIELD_CIDR] != NULL) {
		*reason = g_strdup_printf("cannot map dest.host together with %s (a Vigil rule "
					  "names a host or an address, not both)",
					  conditions->operands[VIGIL_IMPORT_FIELD_CIDR]);
		return FALSE;
	}
	for (guint f = 0; f < VIGIL_IMPORT_FIELD_LAST; f++) {
		if (conditions->values[f] == NULL)
			continue;
		total *= conditions->values[f]->len;
		if (total > VIGIL_IMPORT_MAX_RULES) {
			*reason = g_strdup_printf("its alternatives make more than %u rules",
						  (guint)VIGIL_IMPORT_MAX_RULES);
			return FALSE;
		}
	}
	for (guint n = 0; n < total; n++) {
		g_autoptr(VigilRule) rule = vigil_rule_copy(template);
		g_autoptr(GError) error_local = NULL;
		guint rest = n;

		for (guint f = 0; f < VIGIL_IMPORT_FIELD_LAST; f++) {
			GPtrArray *values = conditions->values[f];
			if (values == NULL)
				continue;
			if (!vigil_import_set_field(rule,
						    f,
						    g_ptr_array_index(values, rest % values->len),
						    conditions->operands[f],
						    reason))
				return FALSE;
			rest /= values->len;
		}
		if (!vigil_rule_validate(rule, &error_local)) {
			*reason = g_strdup_printf("cannot map it: %s", error_local->message);
			return FALSE;
		}
		g_ptr_array_add(expanded, g_steal_pointer(&rule));
	}
	g_ptr_array_extend_and_steal(rules, g_steal_pointer(&expanded));
	return TRUE;
}

/* Go's time.ParseDuration, for the units OpenSnitch offers: "30s", "5m", "1h30m", "500ms" */
static gboolean
vigil_import_parse_duration(const gchar *str, gint64 *seconds)
{
	gdouble total = 0;
	const gchar *p = str;

	if (*p == '\0')
		return FALSE;
	while (*p != '\0') {
		gsize digits = strspn(p, "0123456789.");
		g_autofree gchar *number = NULL;
		gdouble unit;
		if (digits == 0 || digits > 12)
			return FALSE;
		number = g_strndup(p, digits);
		p += digits;
		if (g_str_has_prefix(p, "ms")) {
			unit = 0.001;
			p += 2;
		} else if (*p == 'h') {
			unit = 3600;
			p++;
		} else if (*p == 'm') {
			unit = 60;
			p++;
		} else if (*p == 's') {
			unit = 1;
			p++;
		} else {
			return FALSE;
		}
		if (strchr(number, '.') != strrchr(number, '.') || g_str_equal(number, "."))
			return FALSE;
		total += g_ascii_strtod(number, NULL) * unit;
	}
	if (total <= 0 || total > 100.0 * 365 * 24 * 3600)
		return FALSE;
	/* rounded up: a rule never ends before its time */
	*seconds = (gint64)total;
	if ((gdouble)*seconds < total)
		(*seconds)++;
	return TRUE;
}

static gboolean
vigil_import_opensnitch_rule(JsonObject *obj, const gchar *name, GPtrArray *rules, gchar **reason)
{
	g_auto(VigilImportConditions) conditions = {0};
	g_autoptr(VigilRule) template = vigil_rule_new();
	g_autofree gchar *note = NULL;
	const gchar *action = NULL;
	const gchar *duration = NULL;
	const gchar *created = NULL;
	JsonNode *op;
	gboolean enabled = FALSE;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 seconds = 0;

	if (!vigil_import_get_string(obj, "action", &action, reason) ||
	    !vigil_import_get_string(obj, "duration", &duration, reason) ||
	    !vigil_import_get_string(obj, "created", &created, reason) ||
	    !vigil_import_get_boolean(obj, "enabled", &enabled, reason))
		return FALSE;

	if (g_strcmp0(action, "allow") == 0) {
		vigil_rule_set_action(template, VIGIL_ACTION_ALLOW);
	} else if (g_strcmp0(action, "deny") == 0) {
		vigil_rule_set_action(template, VIGIL_ACTION_DENY);
	} else if (g_strcmp0(action, "reject") == 0) {
		vigil_rule_set_action(template, VIGIL_ACTION_REJECT);
	} else {
		*reason = action == NULL ? g_strdup("it has no action")
					 : g_strdup_printf("unknown action '%s'", action);
		return FALSE;
	}

	if (g_strcmp0(duration, "always") == 0) {
		vigil_rule_set_lifetime(template, VIGIL_LIFETIME_FOREVER);
	} else if (g_strcmp0(duration, "until restart") == 0) {
		vigil_rule_set_lifetime(template, VIGIL_LIFETIME_REBOOT);
	} else if (g_strcmp0(duration, "once") == 0) {
		*reason = g_strdup("duration 'once' was for one connection, which is over");
		return FALSE;
	} else if (duration != NULL && vigil_import_parse_duration(duration, &seconds)) {
		vigil_rule_set_lifetime(template, VIGIL_LIFETIME_UNTIL);
		vigil_rule_set_expires(template, now + seconds);
	} else {
		*reason = duration == NULL ? g_strdup("it has no duration")
					   : g_strdup_printf("unknown duration '%s'", duration);
		return FALSE;
	}

	/* Go writes its zero time, year 1, for "never set" */
	vigil_rule_set_created(template, now);
	if (created != NULL) {
		g_autoptr(GDateTime) datetime = g_date_time_new_from_iso8601(created, NULL);
		if (datetime != NULL && g_date_time_to_unix(datetime) > 0)
			vigil_rule_set_created(template, g_date_time_to_unix(datetime));
	}
	vigil_rule_set_enabled(template, enabled);
	vigil_rule_set_direction(template, VIGIL_DIRECTION_OUT);
	vigil_rule_set_origin(template, VIGIL_ORIGIN_IMPORTED);
	note = g_strdup_printf("opensnitch: %s", name);
	vigil_rule_set_note(template, note);

	op = json_object_get_member(obj, "operator");
	if (op == NULL || !JSON_NODE_HOLDS_OBJECT(op)) {
		*reason = g_strdup("it has no operator");
		return FALSE;
	}
	if (!vigil_import_apply_operator(&conditions, json_node_get_object(op), 0, reason))
		return FALSE;
	return vigil_import_expand(&conditions, template, rules, reason);
}

static void
vigil_import_opensnitch_object(JsonNode *node,
			       guint index,
			       const gchar *filename,
			       GPtrArray *rules,
			       GPtrArray *problems)
{
	g_autofree gchar *reason = NULL;
	g_autofree gchar *label = NULL;
	const gchar *name = NULL;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_ptr_array_add(
		    problems,
		    g_strdup_printf("%s: rule #%u: not a rule object", filename, index));
		return;
	}
	if (!vigil_import_get_string(json_node_get_object(node), "name", &name, &reason))
		name = NULL;
	label = name != NULL ? g_strdup_printf("'%s'", name) : g_strdup_printf("#%u", index);
	if (reason == NULL && vigil_import_opensnitch_rule(json_node_get_object(node),
							   name != NULL ? name : label,
							   rules,
							   &reason))
		return;
	g_ptr_array_add(problems, g_strdup_printf("%s: rule %s: %s", filename, label, reason));
}

/* as the rule store says it: "FILE:LINE: syntax error: what json-glib said" */
static gchar *
vigil_import_format_syntax_error(const gchar *filename, const GError *error)
{
	const gchar *message = error->message;
	guint line = 0;
	guint column = 0;
	gint consumed = 0;

	if (g_str_has_prefix(message, "<data>:") &&
	    sscanf(message + 7, "%u:%u: %n", &line, &column, &consumed) == 2 && consumed > 0) {
		message += 7 + consumed;
		if (g_str_has_prefix(message, "Parse error: "))
			message += strlen("Parse error: ");
		return g_strdup_printf("%s:%u: syntax error: %s", filename, line, message);
	}
	return g_strdup_printf("%s: syntax error: %s", filename, message);
}

/**
 * vigil_rule_import_opensnitch:
 * @data: one OpenSnitch rule as JSON, or a JSON array of them
 * @len: the length of @data, or -1 when it is NUL-terminated
 * @filename: (nullable): the name used in messages
 * @problems: (element-type utf8) (nullable): receives one line per rule that is skipped,
 *            `FILE: rule 'NAME': reason`; must free its elements with g_free()
 * @error: a #GError
 *
 * Maps OpenSnitch rules to Vigil rules, origin %VIGIL_ORIGIN_IMPORTED, outbound, with the
 * note "opensnitch: NAME", created when the OpenSnitch rule was. A rule maps only when it
 * maps exactly; otherwise it is skipped as a whole and the reason added to @problems. An
 * alternation in a regexp becomes one rule per alternative. The rules have no id yet.
 *
 * Returns: (transfer container) (element-type VigilRule): the rules, or %NULL when @data
 * is not JSON or not OpenSnitch rules at all
 */
GPtrArray *
vigil_rule_import_opensnitch(const gchar *data,
			     gssize len,
			     const gchar *filename,
			     GPtrArray *problems,
			     GError **error)
{
	g_autoptr(GPtrArray) problems_local = NULL;
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error_local = NULL;
	VigilJsonFlaw flaw;
	JsonNode *root;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (problems == NULL)
		problems = problems_local = g_ptr_array_new_with_free_func(g_free);
	if (filename == NULL)
		filename = "<data>";
	if (len < 0)
		len = (gssize)strlen(data);

	/* an invalid byte would otherwise end up in a path or a host name */
	if (!vigil_rule_store_check_json(data, (gsize)len, &flaw)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "%s:%u: %s",
			    filename,
			    flaw.line,
			    flaw.reason);
		return NULL;
	}
	if (!json_parser_load_from_data(parser, data, len, &error_local)) {
		g_autofree gchar *message = vigil_import_format_syntax_error(filename, error_local);
		g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE, message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root != NULL && JSON_NODE_HOLDS_OBJECT(root) &&
	    json_object_has_member(json_node_get_object(root), "version") &&
	    json_object_has_member(json_node_get_object(root), "rules")) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "%s: a Vigil rules document, not OpenSnitch rules",
			    filename);
		return NULL;
	}
	if (root != NULL && JSON_NODE_HOLDS_OBJECT(root)) {
		vigil_import_opensnitch_object(root, 1, filename, rules, problems);
	} else if (root != NULL && JSON_NODE_HOLDS_ARRAY(root)) {
		JsonArray *array = json_node_get_array(root);
		for (guint i = 0; i < json_array_get_length(array); i++)
			vigil_import_opensnitch_object(json_array_get_element(array, i),
						       i + 1,
						       filename,
						       rules,
						       problems);
	} else {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "%s: not OpenSnitch rules: expected a rule object or a list of them",
			    filename);
		return NULL;
	}
	return g_steal_pointer(&rules);
}

static gint
vigil_import_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/**
 * vigil_rule_import_opensnitch_dir:
 * @path: an OpenSnitch rules directory, usually `/etc/opensnitchd/rules`
 * @problems: (element-type utf8) (nullable): receives one line per skipped rule or file
 * @error: a #GError
 *
 * Imports every `*.json` in @path, in name order, as vigil_rule_import_opensnitch() does.
 * A file that cannot be read or parsed is a problem, not an error.
 *
 * Returns: (transfer container) (element-type VigilRule): the rules, or %NULL when @path
 * cannot be read
 */
GPtrArray *
vigil_rule_import_opensnitch_dir(const gchar *path, GPtrArray *problems, GError **error)
{
	g_autoptr(GPtrArray) problems_local = NULL;
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	g_return_val_if_fail(path != NULL, NULL);

	if (problems == NULL)
		problems = problems_local = g_ptr_array_new_with_free_func(g_free);
	dir = g_dir_open(path, 0, error);
	if (dir == NULL) {
		g_prefix_error(error, "cannot import OpenSnitch rules: ");
		return NULL;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".json"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, vigil_import_compare_names);
	for (guint i = 0; i < names->len; i++) {
		g_autofree gchar *filename = g_build_filename(path, names->pdata[i], NULL);
		g_autofree gchar *data = NULL;
		g_autoptr(GPtrArray) imported = NULL;
		g_autoptr(GError) error_local = NULL;
		gsize len = 0;

		if (!g_file_test(filename, G_FILE_TEST_IS_REGULAR)) {
			g_ptr_array_add(problems,
					g_strdup_printf("%s: not a regular file", filename));
			continue;
		}
		if (!g_file_get_contents(filename, &data, &len, &error_local)) {
			g_ptr_array_add(problems,
					g_strdup_printf("%s: %s", filename, error_local->message));
			continue;
		}
		imported = vigil_rule_import_opensnitch(data,
							(gssize)len,
							filename,
							problems,
							&error_local);
		if (imported == NULL) {
			g_ptr_array_add(problems, g_strdup(error_local->message));
			continue;
		}
		g_ptr_array_extend_and_steal(rules, g_steal_pointer(&imported));
	}
	return g_steal_pointer(&rules);
}

/**
 * vigil_rule_import_vigil:
 * @data: a rules document, as vigil_rule_store_export() writes
 * @len: the length of @data, or -1 when it is NUL-terminated
 * @filename: (nullable): the name used in messages
 * @problems: (element-type utf8) (nullable): receives one line per skipped rule,
 *            `FILE:LINE: reason`
 * @error: a #GError
 *
 * Reads our own export losslessly: every field as exported, ids included (on a collision
 * with a rule that exists, the caller picks a new id), except that managed rules become
 * imported: drop-ins are the administrator's files and cannot be created by an import.
 *
 * Returns: (transfer container) (element-type VigilRule): the rules, or %NULL when @data
 * is not a rules document
 */
GPtrArray *
vigil_rule_import_vigil(const gchar *data,
			gssize len,
			const gchar *filename,
			GPtrArray *problems,
			GError **error)
{
	g_autoptr(GPtrArray) rules = vigil_rule_store_parse(data, len, filename, problems, error);

	if (rules == NULL)
		return NULL;
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		if (vigil_rule_get_origin(rule) == VIGIL_ORIGIN_MANAGED)
			vigil_rule_set_origin(rule, VIGIL_ORIGIN_IMPORTED);
		vigil_rule_set_source(rule, NULL);
	}
	return g_steal_pointer(&rules);
}
