/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilPortalParse"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "vigil-error.h"
#include "vigil-portal-parse.h"
#include "vigil-rule-store.h"

#define ND_ROUTER_ADVERT_TYPE 134
#define RA_HEADER_LEN	      16
#define RA_OPTION_CAPTIVE     37
#define RESOLV_CONF_MAX	      3

void
vigil_http_response_free(VigilHttpResponse *response)
{
	if (response == NULL)
		return;
	g_free(response->location);
	g_free(response->content_type);
	if (response->body != NULL)
		g_bytes_unref(response->body);
	g_free(response);
}

static const guint8 *
find_headers_end(const guint8 *data, gsize len, gsize *body_offset)
{
	for (gsize i = 0; i + 1 < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n') {
			*body_offset = i + 2;
			return data + i;
		}
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n') {
			*body_offset = i + 3;
			return data + i;
		}
	}
	return NULL;
}

/* visible ASCII and tabs only: header values end up in logs and on D-Bus */
static gboolean
text_is_clean(const gchar *str)
{
	for (const gchar *p = str; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 && *p != '\t')
			return FALSE;
		if ((guchar)*p >= 0x7f)
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_status_line(const gchar *line, guint *status, GError **error)
{
	/* "HTTP/1.1 200 OK": the version, one space, three digits, then space or the end; an
	 * answer that starts with its empty line has none (NULL) */
	if (line == NULL || !g_str_has_prefix(line, "HTTP/1.") || !g_ascii_isdigit(line[7]) ||
	    line[8] != ' ' || !g_ascii_isdigit(line[9]) || !g_ascii_isdigit(line[10]) ||
	    !g_ascii_isdigit(line[11]) || (line[12] != ' ' && line[12] != '\0')) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the answer is not HTTP (bad status line)");
		return FALSE;
	}
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (*status < 100 || *status > 599) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "the answer has an impossible status %u",
			    *status);
		return FALSE;
	}
	return TRUE;
}

/* chunked transfer coding; MORE while the last chunk has not arrived */
static VigilHttpParse
decode_chunked(const guint8 *data, gsize len, gboolean eof, GByteArray *out, GError **error)
{
	gsize pos = 0;

	for (;;) {
		guint64 size = 0;
		guint digits = 0;
		gsize line_end;

		for (line_end = pos; line_end < len && data[line_end] != '\n'; line_end++)
			;
		if (line_end >= len)
			break;
		for (gsize i = pos; i < line_end && g_ascii_isxdigit(data[i]); i++) {
			if (++digits > 8) {
				g_set_error_literal(error,
						    VIGIL_ERROR,
						    VIGIL_ERROR_INVALID_ARGUMENT,
						    "the answer has an absurd chunk size");
				return VIGIL_HTTP_PARSE_ERROR;
			}
			size = size * 16 + g_ascii_xdigit_value(data[i]);
		}
		if (digits == 0) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "the answer has a malformed chunk header");
			return VIGIL_HTTP_PARSE_ERROR;
		}
		pos = line_end + 1;
		if (size == 0)
			return VIGIL_HTTP_PARSE_DONE;
		if (size > len - pos)
			break;
		g_byte_array_append(out, data + pos, size);
		pos += size;
		/* the CRLF after the chunk data */
		if (pos < len && data[pos] == '\r')
			pos++;
		if (pos < len && data[pos] == '\n')
			pos++;
		else if (pos < len) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "the answer has a chunk longer than it said");
			return VIGIL_HTTP_PARSE_ERROR;
		}
	}
	if (eof) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the connection closed in the middle of the chunked body");
		return VIGIL_HTTP_PARSE_ERROR;
	}
	return VIGIL_HTTP_PARSE_MORE;
}

/*
 * Parses what has arrived of an HTTP/1.x answer. MORE: read on (the caller bounds how much);
 * DONE: @response is set; ERROR: the answer is broken, and @error says how. @eof says the
 * server closed the connection, so nothing more will come.
 */
VigilHttpParse
vigil_http_response_parse(const guint8 *data,
			  gsize len,
			  gboolean eof,
			  VigilHttpResponse **response,
			  GError **error)
{
	g_autoptr(VigilHttpResponse) result = g_new0(VigilHttpResponse, 1);
	g_autofree gchar *head = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GByteArray) body = NULL;
	const guint8 *end;
	gsize body_offset = 0;
	gboolean chunked = FALSE;
	gboolean have_length = FALSE;
	guint64 content_length = 0;

	/* say "not HTTP" as soon as the first bytes show it, before reading any more */
	if (len >= 5 && memcmp(data, "HTTP/", 5) != 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the answer is not HTTP (bad status line)");
		return VIGIL_HTTP_PARSE_ERROR;
	}
	end = find_headers_end(data, MIN(len, VIGIL_HTTP_HEADERS_MAX), &body_offset);
	if (end == NULL) {
		if (len >= VIGIL_HTTP_HEADERS_MAX) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the answer's headers are longer than %u bytes",
				    (guint)VIGIL_HTTP_HEADERS_MAX);
			return VIGIL_HTTP_PARSE_ERROR;
		}
		if (eof) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    len == 0 ? "the server closed the connection without "
						       "an answer"
						     : "the connection closed in the middle of "
						       "the headers");
			return VIGIL_HTTP_PARSE_ERROR;
		}
		return VIGIL_HTTP_PARSE_MORE;
	}
	head = g_strndup((const gchar *)data, end - data);
	if (strlen(head) != (gsize)(end - data)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the answer has a NUL byte in its headers");
		return VIGIL_HTTP_PARSE_ERROR;
	}
	lines = g_strsplit(head, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gsize n = strlen(lines[i]);
		if (n > 0 && lines[i][n - 1] == '\r')
			lines[i][n - 1] = '\0';
	}
	if (!parse_status_line(lines[0], &result->status, error))
		return VIGIL_HTTP_PARSE_ERROR;
	for (guint i = 1; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		gchar *value;

		if (colon == NULL || colon == lines[i]) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "the answer has a malformed header line");
			return VIGIL_HTTP_PARSE_ERROR;
		}
		*colon = '\0';
		value = g_strstrip(colon + 1);
		if (g_ascii_strcasecmp(lines[i], "Location") == 0) {
			if (result->location != NULL || !text_is_clean(value)) {
				g_set_error_literal(error,
						    VIGIL_ERROR,
						    VIGIL_ERROR_INVALID_ARGUMENT,
						    "the answer has a malformed Location header");
				return VIGIL_HTTP_PARSE_ERROR;
			}
			result->location = g_strdup(value);
		} else if (g_ascii_strcasecmp(lines[i], "Content-Type") == 0) {
			/* kept only as clean text, like every value that may reach a log */
			g_free(result->content_type);
			result->content_type = text_is_clean(value) ? g_strdup(value) : NULL;
		} else if (g_ascii_strcasecmp(lines[i], "Content-Length") == 0) {
			guint64 tmp = 0;
			if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT32, &tmp, NULL) ||
			    (have_length && tmp != content_length)) {
				g_set_error_literal(error,
						    VIGIL_ERROR,
						    VIGIL_ERROR_INVALID_ARGUMENT,
						    "the answer has a malformed Content-Length");
				return VIGIL_HTTP_PARSE_ERROR;
			}
			content_length = tmp;
			have_length = TRUE;
		} else if (g_ascii_strcasecmp(lines[i], "Transfer-Encoding") == 0) {
			chunked = g_ascii_strcasecmp(value, "chunked") == 0;
			if (!chunked) {
				g_set_error(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "the answer uses an unknown transfer coding");
				return VIGIL_HTTP_PARSE_ERROR;
			}
		}
	}

	body = g_byte_array_new();
	if (result->status == 204 || result->status == 304 || result->status < 200) {
		/* no body by definition */
	} else if (chunked) {
		VigilHttpParse ret =
		    decode_chunked(data + body_offset, len - body_offset, eof, body, error);
		if (ret != VIGIL_HTTP_PARSE_DONE)
			return ret;
	} else if (have_length) {
		if (len - body_offset < content_length) {
			if (eof) {
				g_set_error(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "the connection closed after %" G_GSIZE_FORMAT
					    " of the %" G_GUINT64_FORMAT " bytes announced",
					    len - body_offset,
					    content_length);
				return VIGIL_HTTP_PARSE_ERROR;
			}
			return VIGIL_HTTP_PARSE_MORE;
		}
		g_byte_array_append(body, data + body_offset, content_length);
	} else {
		if (!eof)
			return VIGIL_HTTP_PARSE_MORE;
		g_byte_array_append(body, data + body_offset, len - body_offset);
	}
	result->body = g_byte_array_free_to_bytes(g_steal_pointer(&body));
	*response = g_steal_pointer(&result);
	return VIGIL_HTTP_PARSE_DONE;
}

/* "text\r\n" and "text" are the same answer: servers differ in the final newline */
static gboolean
body_matches(GBytes *body, const gchar *expected)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(body, &len);
	gsize expected_len = strlen(expected);

	while (len > 0 && g_ascii_isspace(data[len - 1]))
		len--;
	while (expected_len > 0 && g_ascii_isspace(expected[expected_len - 1]))
		expected_len--;
	return len == expected_len && (len == 0 || memcmp(data, expected, len) == 0);
}

gboolean
vigil_portal_url_is_acceptable(const gchar *url, gboolean https_only)
{
	g_autoptr(GUri) uri = NULL;
	const gchar *scheme;

	if (url == NULL || strlen(url) > VIGIL_PORTAL_URL_MAX || !text_is_clean(url))
		return FALSE;
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0')
		return FALSE;
	scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "https") == 0)
		return TRUE;
	return !https_only && g_ascii_strcasecmp(scheme, "http") == 0;
}

/*
 * The HTTP probe: the expected status and body pass; a redirect with a Location, a 511
 * (network authentication required) or a 200 with another body mean a portal answered in
 * the real server's place; anything else fails. @portal_url is set for a portal: the
 * Location (made absolute), else the probe URL.
 */
VigilProbe
vigil_portal_judge_http(const VigilHttpResponse *response,
			guint expected_status,
			const gchar *expected_body,
			const gchar *probe_url,
			gchar **portal_url,
			gchar **detail)
{
	g_autofree gchar *location = NULL;
	gboolean body_ok = body_matches(response->body, expected_body);

	if (response->location != NULL) {
		g_autoptr(GUri) base = g_uri_parse(probe_url, G_URI_FLAGS_NONE, NULL);
		g_autoptr(GUri) uri = NULL;

		/* a URL without a host is no portal's; GLib also refuses to write one out whose
		 * path starts with "//" ("x:/..//y"), with a critical, so it is not asked to */
		if (base != NULL)
			uri =
			    g_uri_parse_relative(base, response->location, G_URI_FLAGS_NONE, NULL);
		if (uri != NULL && g_uri_get_host(uri) != NULL && g_uri_get_host(uri)[0] != '\0')
			location = g_uri_to_string(uri);
	}
	if (location != NULL && !vigil_portal_url_is_acceptable(location, FALSE))
		g_clear_pointer(&location, g_free);

	if (response->status == expected_status && body_ok) {
		*detail = g_strdup_printf("the expected answer (%u)", response->status);
		return VIGIL_PROBE_PASS;
	}
	if (response->status >= 300 && response->status < 400 && location != NULL) {
		*detail = g_strdup_printf("redirected (%u) to %s", response->status, location);
		*portal_url = g_steal_pointer(&location);
		return VIGIL_PROBE_PORTAL;
	}
	if (response->status == 511) {
		*detail = g_strdup("511 network authentication required");
		*portal_url = location != NULL ? g_steal_pointer(&location) : g_strdup(probe_url);
		return VIGIL_PROBE_PORTAL;
	}
	if (response->status == 200) {
		*detail = g_strdup_printf("200 with another page than expected (%" G_GSIZE_FORMAT
					  " bytes)",
					  g_bytes_get_size(response->body));
		*portal_url = g_strdup(probe_url);
		return VIGIL_PROBE_PORTAL;
	}
	if (response->status == expected_status)
		*detail = g_strdup_printf("%u with another body than expected", response->status);
	else if (response->status >= 300 && response->status < 400)
		*detail =
		    g_strdup_printf("redirected (%u) without a usable Location", response->status);
	else
		*detail =
		    g_strdup_printf("answered %u instead of %u", response->status, expected_status);
	return VIGIL_PROBE_FAIL;
}

void
vigil_captive_info_clear(VigilCaptiveInfo *info)
{
	g_clear_pointer(&info->user_portal_url, g_free);
	g_clear_pointer(&info->venue_info_url, g_free);
	info->captive = FALSE;
	info->seconds_remaining = -1;
	info->bytes_remaining = -1;
	info->can_extend_session = FALSE;
}

static gboolean
json_get_count(JsonObject *object, const gchar *key, gint64 *value, GError **error)
{
	JsonNode *node = json_object_get_member(object, key);
	gint64 tmp;

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    (tmp = json_node_get_int(node)) < 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "\"%s\" is not a whole number of 0 or more",
			    key);
		return FALSE;
	}
	*value = tmp;
	return TRUE;
}

static gboolean
json_get_url(JsonObject *object, const gchar *key, gchar **value, GError **error)
{
	JsonNode *node = json_object_get_member(object, key);
	const gchar *str;

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "\"%s\" is not a string",
			    key);
		return FALSE;
	}
	str = json_node_get_string(node);
	/* RFC 8908: the portal pages must be reached over TLS */
	if (!vigil_portal_url_is_acceptable(str, TRUE)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "\"%s\" is not an https URL",
			    key);
		return FALSE;
	}
	*value = g_strdup(str);
	return TRUE;
}

/* RFC 8908 section 5: "captive" is required, the rest optional */
gboolean
vigil_portal_parse_captive_json(const gchar *data,
				gsize len,
				VigilCaptiveInfo *info,
				GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error_local = NULL;
	VigilJsonFlaw flaw;
	JsonObject *object;
	JsonNode *node;
	JsonNode *root;

	vigil_captive_info_clear(info);
	if (len > G_MAXSSIZE || !g_utf8_validate(data, len, NULL)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "the answer is not UTF-8 text");
		return FALSE;
	}
	/* json-glib recurses once per level: 64 KiB of '[' would come close to the end of the
	 * stack, so nesting (and the rest json-glib mishandles) is refused before it parses */
	if (!vigil_rule_store_check_json(data, len, &flaw)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "the answer is not usable JSON: line %u: %s",
			    flaw.line,
			    flaw.reason);
		return FALSE;
	}
	if (!json_parser_load_from_data(parser, data, len, &error_local)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "the answer is not JSON: %s",
			    error_local->message);
		return FALSE;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "the answer is not a JSON object");
		return FALSE;
	}
	object = json_node_get_object(root);
	node = json_object_get_member(object, "captive");
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "\"captive\" is missing or not true/false");
		return FALSE;
	}
	info->captive = json_node_get_boolean(node);
	node = json_object_get_member(object, "can-extend-session");
	if (node != NULL) {
		if (!JSON_NODE_HOLDS_VALUE(node) ||
		    json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_FILE,
					    "\"can-extend-session\" is not true/false");
			vigil_captive_info_clear(info);
			return FALSE;
		}
		info->can_extend_session = json_node_get_boolean(node);
	}
	if (!json_get_url(object, "user-portal-url", &info->user_portal_url, error) ||
	    !json_get_url(object, "venue-info-url", &info->venue_info_url, error) ||
	    !json_get_count(object, "seconds-remaining", &info->seconds_remaining, error) ||
	    !json_get_count(object, "bytes-remaining", &info->bytes_remaining, error)) {
		vigil_captive_info_clear(info);
		return FALSE;
	}
	return TRUE;
}

/*
 * An ICMPv6 Router Advertisement (RFC 4861 4.2) as a raw socket delivers it, from the
 * ICMPv6 header on. TRUE for a well-formed RA; @captive_url is its RFC 8910 option 37, or
 * NULL without one.
 */
gboolean
vigil_portal_parse_ra(const guint8 *data, gsize len, gchar **captive_url, GError **error)
{
	gsize offset = RA_HEADER_LEN;

	*captive_url = NULL;
	if (len < RA_HEADER_LEN || data[0] != ND_ROUTER_ADVERT_TYPE || data[1] != 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "not a router advertisement");
		return FALSE;
	}
	while (offset < len) {
		gsize option_len;

		if (len - offset < 2 || data[offset + 1] == 0) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "router advertisement with a malformed option");
			g_clear_pointer(captive_url, g_free);
			return FALSE;
		}
		option_len = (gsize)data[offset + 1] * 8;
		if (option_len > len - offset) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_ARGUMENT,
					    "router advertisement with an option past its end");
			g_clear_pointer(captive_url, g_free);
			return FALSE;
		}
		/* RFC 8910: at most one; a second one is ignored */
		if (data[offset] == RA_OPTION_CAPTIVE && *captive_url == NULL) {
			const gchar *uri = (const gchar *)data + offset + 2;
			gsize uri_len = option_len - 2;
			g_autofree gchar *str = NULL;

			while (uri_len > 0 && uri[uri_len - 1] == '\0')
				uri_len--;
			str = g_strndup(uri, uri_len);
			if (uri_len > 0 && strlen(str) == uri_len && text_is_clean(str))
				*captive_url = g_steal_pointer(&str);
		}
		offset += option_len;
	}
	return TRUE;
}

/* systemd-networkd's lease files (/run/systemd/netif/leases/<ifindex>) are KEY=VALUE lines;
 * DHCPv4 option 114 is CAPTIVE_PORTAL= */
gchar *
vigil_portal_parse_lease(const gchar *contents)
{
	g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *value;
		gsize n;

		if (!g_str_has_prefix(lines[i], "CAPTIVE_PORTAL="))
			continue;
		value = g_strstrip(lines[i] + strlen("CAPTIVE_PORTAL="));
		n = strlen(value);
		if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
			value[n - 1] = '\0';
			value++;
		}
		if (value[0] == '\0' || !text_is_clean(value))
			return NULL;
		return g_strdup(value);
	}
	return NULL;
}

/* the "nameserver" lines of resolv.conf, at most three as in glibc, as GInetAddress */
GPtrArray *
vigil_portal_parse_resolv_conf(const gchar *contents)
{
	g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func(g_object_unref);
	g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);

	for (guint i = 0; lines[i] != NULL && servers->len < RESOLV_CONF_MAX; i++) {
		g_auto(GStrv) words = NULL;
		gchar *percent;
		GInetAddress *address;

		if (!g_str_has_prefix(lines[i], "nameserver"))
			continue;
		words = g_strsplit_set(lines[i], " \t\r", -1);
		if (!g_str_equal(words[0], "nameserver"))
			continue;
		for (guint j = 1; words[j] != NULL; j++) {
			if (words[j][0] == '\0')
				continue;
			/* a scope id (fe80::1%eth0) names the interface; the address is enough */
			percent = strchr(words[j], '%');
			if (percent != NULL)
				*percent = '\0';
			address = g_inet_address_new_from_string(words[j]);
			if (address != NULL)
				g_ptr_array_add(servers, address);
			break;
		}
	}
	return g_steal_pointer(&servers);
}

/* a recursive query for one name, as a stub resolver sends it */
GBytes *
vigil_portal_build_dns_query(const gchar *name, guint16 qtype, guint16 id, GError **error)
{
	g_autoptr(GByteArray) msg = g_byte_array_new();
	g_auto(GStrv) labels = NULL;
	guint8 header[12] = {id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	guint8 tail[5] = {0, qtype >> 8, qtype & 0xff, 0, 1};
	gsize name_len = strlen(name);

	if (name_len > 0 && name[name_len - 1] == '.')
		name_len--;
	if (name_len == 0 || name_len > 253) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "'%s' is not a host name",
			    name);
		return NULL;
	}
	g_byte_array_append(msg, header, sizeof(header));
	labels = g_strsplit(name, ".", -1);
	for (guint i = 0; labels[i] != NULL; i++) {
		gsize n = strlen(labels[i]);
		guint8 len8 = n;
		if (n == 0 && labels[i + 1] == NULL && i > 0)
			break;
		if (n == 0 || n > 63) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "'%s' is not a host name",
				    name);
			return NULL;
		}
		g_byte_array_append(msg, &len8, 1);
		g_byte_array_append(msg, (const guint8 *)labels[i], n);
	}
	g_byte_array_append(msg, tail, sizeof(tail));
	return g_byte_array_free_to_bytes(g_steal_pointer(&msg));
}

/*
 * The decision, in this order:
 * 1. any sign of a portal (the RFC 8908 API says captive, or the HTTP probe saw a
 *    redirect, a 511 or an unexpected 200 page) -> portal;
 * 2. the probe host did not resolve: the configured address answering HTTP directly ->
 *    dns-broken, else no-internet;
 * 3. HTTP and HTTPS both pass (or HTTPS is not configured) -> full;
 * 4. one of HTTP and HTTPS passes -> limited;
 * 5. nothing answers -> no-internet.
 */
VigilConnectivity
vigil_portal_decide(const VigilPortalOutcome *outcome)
{
	gboolean http_ok = outcome->http == VIGIL_PROBE_PASS;
	gboolean https_ok = outcome->https == VIGIL_PROBE_PASS;

	if (outcome->api == VIGIL_PROBE_PORTAL || outcome->http == VIGIL_PROBE_PORTAL)
		return VIGIL_CONNECTIVITY_PORTAL;
	if (outcome->dns != VIGIL_PROBE_PASS) {
		if (outcome->fallback == VIGIL_PROBE_PASS)
			return VIGIL_CONNECTIVITY_DNS_BROKEN;
		return VIGIL_CONNECTIVITY_NO_INTERNET;
	}
	if (http_ok && (https_ok || outcome->https == VIGIL_PROBE_NOT_RUN))
		return VIGIL_CONNECTIVITY_FULL;
	if (http_ok || https_ok)
		return VIGIL_CONNECTIVITY_LIMITED;
	return VIGIL_CONNECTIVITY_NO_INTERNET;
}
