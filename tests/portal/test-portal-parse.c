/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-error.h"
#include "vigil-portal-parse.h"

static VigilHttpParse
parse_str(const gchar *text, gboolean eof, VigilHttpResponse **response, GError **error)
{
	return vigil_http_response_parse((const guint8 *)text, strlen(text), eof, response, error);
}

static void
assert_http_error(const gchar *text, gboolean eof, const gchar *words)
{
	g_autoptr(VigilHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(parse_str(text, eof, &response, &error), ==, VIGIL_HTTP_PARSE_ERROR);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_null(response);
	if (strstr(error->message, words) == NULL)
		g_error("'%s' does not say '%s'", error->message, words);
}

static void
test_http_parse(void)
{
	const gchar *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n"
			  "\r\nhelloEXTRA";
	g_autoptr(VigilHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(parse_str(ok, FALSE, &response, &error), ==, VIGIL_HTTP_PARSE_DONE);
	g_assert_no_error(error);
	g_assert_cmpuint(response->status, ==, 200);
	g_assert_cmpstr(response->content_type, ==, "text/plain");
	g_assert_null(response->location);
	g_assert_cmpmem(g_bytes_get_data(response->body, NULL),
			g_bytes_get_size(response->body),
			"hello",
			5);
	g_clear_pointer(&response, vigil_http_response_free);

	/* every prefix is either "more" or a clean error, never a crash or a wrong answer */
	for (gsize i = 0; i < strlen(ok); i++) {
		g_autoptr(GError) error_local = NULL;
		VigilHttpParse ret = vigil_http_response_parse((const guint8 *)ok,
							       i,
							       FALSE,
							       &response,
							       &error_local);
		g_assert_cmpint(ret, ==, i < strlen(ok) - 5 ? VIGIL_HTTP_PARSE_MORE : ret);
		g_clear_pointer(&response, vigil_http_response_free);
	}

	/* bare newlines, no length: the body ends with the connection */
	g_assert_cmpint(
	    parse_str("HTTP/1.0 302 Found\nLocation: /login\n\nbody", FALSE, &response, NULL),
	    ==,
	    VIGIL_HTTP_PARSE_MORE);
	g_assert_cmpint(
	    parse_str("HTTP/1.0 302 Found\nLocation: /login\n\nbody", TRUE, &response, NULL),
	    ==,
	    VIGIL_HTTP_PARSE_DONE);
	g_assert_cmpuint(response->status, ==, 302);
	g_assert_cmpstr(response->location, ==, "/login");
	g_assert_cmpuint(g_bytes_get_size(response->body), ==, 4);
	g_clear_pointer(&response, vigil_http_response_free);

	/* no body by definition */
	g_assert_cmpint(parse_str("HTTP/1.1 204 No Content\r\n\r\n", FALSE, &response, NULL),
			==,
			VIGIL_HTTP_PARSE_DONE);
	g_assert_cmpuint(g_bytes_get_size(response->body), ==, 0);
	g_clear_pointer(&response, vigil_http_response_free);

	/* chunked */
	g_assert_cmpint(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "5\r\nvigil\r\n7;ext=1\r\n online\r\n0\r\n\r\n",
				  FALSE,
				  &response,
				  &error),
			==,
			VIGIL_HTTP_PARSE_DONE);
	g_assert_no_error(error);
	g_assert_cmpmem(g_bytes_get_data(response->body, NULL),
			g_bytes_get_size(response->body),
			"vigil online",
			12);
	g_clear_pointer(&response, vigil_http_response_free);
	g_assert_cmpint(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nvi",
				  FALSE,
				  &response,
				  NULL),
			==,
			VIGIL_HTTP_PARSE_MORE);
}

static void
test_http_hostile(void)
{
	g_autofree gchar *long_header = NULL;
	g_autoptr(GString) str = g_string_new("HTTP/1.1 200 OK\r\n");

	assert_http_error("SSH-2.0-OpenSSH_9.2\r\n", FALSE, "not HTTP");
	assert_http_error("\xff\x01garbage", FALSE, "not HTTP");
	assert_http_error("HTTP/2 200\r\n\r\n", FALSE, "not HTTP");
	assert_http_error("HTTP/1.1 20 OK\r\n\r\n", FALSE, "not HTTP");
	assert_http_error("HTTP/1.1 2000 OK\r\n\r\n", FALSE, "not HTTP");
	assert_http_error("HTTP/1.1 999 Odd\r\n\r\n", FALSE, "impossible status");
	assert_http_error("", TRUE, "without an answer");
	/* an empty line first: no status line at all (found by fuzz-portal) */
	assert_http_error("\r\n\r\n", FALSE, "not HTTP");
	assert_http_error("\n\nbody", TRUE, "not HTTP");
	assert_http_error("HTTP/1.1 200 OK\r\nServer: x", TRUE, "middle of the headers");
	assert_http_error("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", FALSE, "malformed header");
	assert_http_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", FALSE, "Content-Length");
	assert_http_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
			  FALSE,
			  "Content-Length");
	assert_http_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
			  FALSE,
			  "Content-Length");
	/* a lying length: the connection ends first */
	assert_http_error("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
			  TRUE,
			  "closed after 5");
	assert_http_error("HTTP/1.1 302 Found\r\nLocation: http://a/\x01\r\n\r\n",
			  FALSE,
			  "Location");
	assert_http_error("HTTP/1.1 302 Found\r\nLocation: a\r\nLocation: b\r\n\r\n",
			  FALSE,
			  "Location");
	assert_http_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
			  FALSE,
			  "transfer coding");
	assert_http_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
			  FALSE,
			  "chunk header");
	assert_http_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n",
			  FALSE,
			  "absurd chunk size");
	assert_http_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef",
			  FALSE,
			  "longer than it said");
	assert_http_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
			  TRUE,
			  "chunked body");

	/* a Content-Type that is not clean text is dropped, the answer is still read */
	{
		g_autoptr(VigilHttpResponse) response = NULL;
		g_assert_cmpint(parse_str("HTTP/1.1 204 No Content\r\n"
					  "Content-Type: text/\xff\x1b[2J\r\n\r\n",
					  FALSE,
					  &response,
					  NULL),
				==,
				VIGIL_HTTP_PARSE_DONE);
		g_assert_null(response->content_type);
	}

	/* endless headers */
	while (str->len < VIGIL_HTTP_HEADERS_MAX + 10)
		g_string_append(str, "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	long_header = g_strdup(str->str);
	assert_http_error(long_header, FALSE, "longer than 8192");

	/* random bytes after a valid status line never crash */
	for (guint i = 0; i < 2000; i++) {
		g_autoptr(GByteArray) data = g_byte_array_new();
		g_autoptr(VigilHttpResponse) response = NULL;
		g_autoptr(GError) error = NULL;
		guint n = g_test_rand_int_range(0, 300);

		g_byte_array_append(data, (const guint8 *)"HTTP/1.1 200 OK\r\n", 17);
		for (guint j = 0; j < n; j++) {
			guint8 byte =
			    g_test_rand_int_range(0, 8) == 0 ? '\n' : g_test_rand_int_range(0, 256);
			g_byte_array_append(data, &byte, 1);
		}
		if (vigil_http_response_parse(data->data,
					      data->len,
					      g_test_rand_bit(),
					      &response,
					      &error) == VIGIL_HTTP_PARSE_ERROR)
			g_assert_nonnull(error);
	}
}

static VigilHttpResponse *
response_new(guint status, const gchar *location, const gchar *body)
{
	VigilHttpResponse *response = g_new0(VigilHttpResponse, 1);

	response->status = status;
	response->location = g_strdup(location);
	response->body = g_bytes_new(body, strlen(body));
	return response;
}

static VigilProbe
judge(guint status, const gchar *location, const gchar *body, gchar **portal_url)
{
	g_autoptr(VigilHttpResponse) response = response_new(status, location, body);
	g_autofree gchar *detail = NULL;
	VigilProbe ret = vigil_portal_judge_http(response,
						 200,
						 "vigil online",
						 "http://probe.test/check",
						 portal_url,
						 &detail);

	g_assert_nonnull(detail);
	return ret;
}

static void
test_http_judge(void)
{
	g_autofree gchar *url = NULL;

	g_assert_cmpint(judge(200, NULL, "vigil online\r\n", &url), ==, VIGIL_PROBE_PASS);
	g_assert_null(url);
	g_assert_cmpint(judge(302, "/login?x=1", "", &url), ==, VIGIL_PROBE_PORTAL);
	g_assert_cmpstr(url, ==, "http://probe.test/login?x=1");
	g_clear_pointer(&url, g_free);
	g_assert_cmpint(judge(307, "https://portal.example/", "", &url), ==, VIGIL_PROBE_PORTAL);
	g_assert_cmpstr(url, ==, "https://portal.example/");
	g_clear_pointer(&url, g_free);
	/* a redirect to nowhere usable is no sign-in page */
	g_assert_cmpint(judge(302, NULL, "", &url), ==, VIGIL_PROBE_FAIL);
	g_assert_cmpint(judge(302, "javascript:alert(1)", "", &url), ==, VIGIL_PROBE_FAIL);
	g_assert_null(url);
	/* no host, and a path that resolves to "//...": GLib would refuse to write it out with
	 * a critical (found by fuzz-portal) */
	g_assert_cmpint(judge(302, "httsp:/..//orte/x", "", &url), ==, VIGIL_PROBE_FAIL);
	g_assert_cmpint(judge(302, "/..//orte/x", "", &url), ==, VIGIL_PROBE_PORTAL);
	g_assert_cmpstr(url, ==, "http://probe.test//orte/x");
	g_clear_pointer(&url, g_free);
	g_assert_cmpint(judge(511, NULL, "sign in", &url), ==, VIGIL_PROBE_PORTAL);
	g_assert_cmpstr(url, ==, "http://probe.test/check");
	g_clear_pointer(&url, g_free);
	g_assert_cmpint(judge(200, NULL, "<html>hotel</html>", &url), ==, VIGIL_PROBE_PORTAL);
	g_assert_cmpstr(url, ==, "http://probe.test/check");
	g_clear_pointer(&url, g_free);
	g_assert_cmpint(judge(404, NULL, "vigil online", &url), ==, VIGIL_PROBE_FAIL);
	g_assert_cmpint(judge(500, NULL, "", &url), ==, VIGIL_PROBE_FAIL);
	g_assert_null(url);
}

static gboolean
parse_json(const gchar *json, VigilCaptiveInfo *info, gchar **message)
{
	g_autoptr(GError) error = NULL;
	gboolean ret = vigil_portal_parse_captive_json(json, strlen(json), info, &error);

	if (!ret) {
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
		*message = g_strdup(error->message);
	}
	return ret;
}

static void
assert_json_error(const gchar *json, const gchar *words)
{
	VigilCaptiveInfo info = {0};
	g_autofree gchar *message = NULL;

	g_assert_false(parse_json(json, &info, &message));
	if (strstr(message, words) == NULL)
		g_error("'%s' does not say '%s'", message, words);
	g_assert_null(info.user_portal_url);
	g_assert_null(info.venue_info_url);
}

static void
test_captive_json(void)
{
	VigilCaptiveInfo info = {0};
	g_autofree gchar *message = NULL;
	const gchar bad_utf8[] = "{\"captive\": true, \"x\": \"\xff\xfe\"}";

	g_assert_true(parse_json("{\"captive\": true, \"user-portal-url\": \"https://p.example/\","
				 " \"venue-info-url\": \"https://v.example/i\","
				 " \"seconds-remaining\": 326, \"bytes-remaining\": 65536,"
				 " \"can-extend-session\": true, \"unknown-key\": [1, 2]}",
				 &info,
				 &message));
	g_assert_true(info.captive);
	g_assert_cmpstr(info.user_portal_url, ==, "https://p.example/");
	g_assert_cmpstr(info.venue_info_url, ==, "https://v.example/i");
	g_assert_cmpint(info.seconds_remaining, ==, 326);
	g_assert_cmpint(info.bytes_remaining, ==, 65536);
	g_assert_true(info.can_extend_session);
	vigil_captive_info_clear(&info);

	g_assert_true(parse_json("{\"captive\": false}", &info, &message));
	g_assert_false(info.captive);
	g_assert_cmpint(info.seconds_remaining, ==, -1);
	g_assert_cmpint(info.bytes_remaining, ==, -1);
	vigil_captive_info_clear(&info);

	assert_json_error("", "not a JSON object");
	assert_json_error("{\"captive\": true", "not JSON");
	assert_json_error("[true]", "not a JSON object");
	assert_json_error("null", "not a JSON object");
	assert_json_error("{}", "\"captive\" is missing");
	assert_json_error("{\"captive\": \"yes\"}", "\"captive\" is missing or not true/false");
	assert_json_error("{\"captive\": 1}", "\"captive\"");
	assert_json_error("{\"captive\": true, \"seconds-remaining\": -5}", "seconds-remaining");
	assert_json_error("{\"captive\": true, \"seconds-remaining\": 1.5}", "seconds-remaining");
	assert_json_error("{\"captive\": true, \"bytes-remaining\": \"10\"}", "bytes-remaining");
	assert_json_error("{\"captive\": true, \"user-portal-url\": \"http://p.example/\"}",
			  "not an https URL");
	assert_json_error("{\"captive\": true, \"venue-info-url\": 7}", "not a string");
	assert_json_error("{\"captive\": true, \"can-extend-session\": \"no\"}",
			  "can-extend-session");
	assert_json_error(bad_utf8, "not UTF-8");

	/* the whole 64 KiB a portal may send, nested: json-glib would recurse 65,536 deep,
	 * within a few hundred KiB of the end of an 8 MiB stack; refused before it parses */
	{
		g_autofree gchar *deep = g_malloc(65536 + 1);
		memset(deep, '[', 65536);
		deep[65536] = '\0';
		assert_json_error(deep, "nested too deeply");
		memset(deep, '{', 1);
		for (gsize i = 1; i + 11 < 65536; i += 11)
			memcpy(deep + i, "\"captive\":{", 11);
		assert_json_error(deep, "line 1: nested too deeply");
	}
}

static void
test_router_advertisement(void)
{
	const gchar *uri = "https://api.example/capport";
	g_autoptr(GByteArray) ra = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;
	guint8 header[16] = {134, 0, 0, 0, 64, 0, 0, 0};
	guint8 mtu[8] = {5, 1, 0, 0, 0, 0, 0x05, 0xdc};
	guint8 opt[2] = {37, 4};
	guint8 pad[32] = {0};

	/* an MTU option, then option 37 padded with NULs to 8-byte units (4 * 8 = 32) */
	g_byte_array_append(ra, header, sizeof(header));
	g_byte_array_append(ra, mtu, sizeof(mtu));
	g_byte_array_append(ra, opt, sizeof(opt));
	g_byte_array_append(ra, (const guint8 *)uri, strlen(uri));
	g_byte_array_append(ra, pad, 30 - strlen(uri));
	g_assert_true(vigil_portal_parse_ra(ra->data, ra->len, &url, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(url, ==, uri);
	g_clear_pointer(&url, g_free);

	/* without option 37 */
	g_assert_true(vigil_portal_parse_ra(ra->data, 24, &url, &error));
	g_assert_null(url);

	/* every truncation is a well-formed RA, or an error, never a read past the end */
	for (guint i = 0; i < ra->len; i++) {
		g_autoptr(GError) error_local = NULL;
		g_autofree gchar *tmp = NULL;
		gboolean ok = vigil_portal_parse_ra(ra->data, i, &tmp, &error_local);
		g_assert_true(ok == (i == 16 || i == 24));
		g_assert_null(tmp);
	}

	/* an option of length 0 would loop forever */
	ra->data[17] = 0;
	g_assert_false(vigil_portal_parse_ra(ra->data, ra->len, &url, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	ra->data[17] = 1;

	/* option 37 longer than the packet */
	ra->data[25] = 200;
	g_assert_false(vigil_portal_parse_ra(ra->data, ra->len, &url, &error));
	g_assert_null(url);
	g_clear_error(&error);
	ra->data[25] = 4;

	/* a control character in the URI: the RA stands, the URI is dropped */
	ra->data[30] = '\n';
	g_assert_true(vigil_portal_parse_ra(ra->data, ra->len, &url, &error));
	g_assert_null(url);

	/* not an RA */
	ra->data[0] = 135;
	g_assert_false(vigil_portal_parse_ra(ra->data, ra->len, &url, &error));
	g_clear_error(&error);
	g_assert_false(vigil_portal_parse_ra(header, 8, &url, &error));
}

static void
test_resolv_conf_and_lease(void)
{
	g_autoptr(GPtrArray) servers = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *first = NULL;

	servers = vigil_portal_parse_resolv_conf("# comment nameserver 9.9.9.9\n"
						 "search example\n"
						 "nameserver\n"
						 "nameserver not-an-address\n"
						 "nameserver  198.18.0.53 # trailing\n"
						 "nameserver\tfe80::1%eth0\n"
						 "nameservers 1.1.1.1\n"
						 "nameserver fd00::53\n"
						 "nameserver 198.18.0.54\n");
	g_assert_cmpuint(servers->len, ==, 3);
	first = g_inet_address_to_string(g_ptr_array_index(servers, 0));
	g_assert_cmpstr(first, ==, "198.18.0.53");
	g_clear_pointer(&servers, g_ptr_array_unref);
	servers = vigil_portal_parse_resolv_conf("");
	g_assert_cmpuint(servers->len, ==, 0);

	url =
	    vigil_portal_parse_lease("ADDRESS=198.18.0.9\nCAPTIVE_PORTAL=https://c.example/api\n");
	g_assert_cmpstr(url, ==, "https://c.example/api");
	g_clear_pointer(&url, g_free);
	url = vigil_portal_parse_lease("CAPTIVE_PORTAL=\"https://c.example/q\"\n");
	g_assert_cmpstr(url, ==, "https://c.example/q");
	g_clear_pointer(&url, g_free);
	g_assert_null(vigil_portal_parse_lease("ADDRESS=198.18.0.9\n"));
	g_assert_null(vigil_portal_parse_lease("CAPTIVE_PORTAL=\n"));
}

static void
test_dns_query(void)
{
	g_autoptr(GBytes) query = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *long_label = g_strnfill(64, 'a');
	const guint8 expected[] = {0x12, 0x34, 0x01, 0x00, 0, 1,   0,	0,   0,	  0, 0, 0,  5, 'p',
				   'r',	 'o',  'b',  'e',  4, 't', 'e', 's', 't', 0, 0, 28, 0, 1};

	query = vigil_portal_build_dns_query("probe.test.", 28, 0x1234, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(g_bytes_get_data(query, NULL),
			g_bytes_get_size(query),
			expected,
			sizeof(expected));
	g_assert_null(vigil_portal_build_dns_query("", 1, 1, &error));
	g_clear_error(&error);
	g_assert_null(vigil_portal_build_dns_query("a..b", 1, 1, &error));
	g_clear_error(&error);
	g_assert_null(vigil_portal_build_dns_query(long_label, 1, 1, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
}

static void
test_decide(void)
{
	struct {
		VigilPortalOutcome outcome;
		VigilConnectivity state;
	} cases[] = {
	    /* api, dns, fallback, http, https */
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_PASS},
	     VIGIL_CONNECTIVITY_FULL},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_FULL},
	    {{VIGIL_PROBE_PORTAL,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_PORTAL},
	    {{VIGIL_PROBE_PASS,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PORTAL,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_PORTAL},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_FAIL},
	     VIGIL_CONNECTIVITY_LIMITED},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_PASS},
	     VIGIL_CONNECTIVITY_LIMITED},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_FAIL},
	     VIGIL_CONNECTIVITY_NO_INTERNET},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_PASS,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_DNS_BROKEN},
	    {{VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_NO_INTERNET},
	    {{VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_FAIL,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN,
	      VIGIL_PROBE_NOT_RUN},
	     VIGIL_CONNECTIVITY_NO_INTERNET},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(vigil_portal_decide(&cases[i].outcome), ==, cases[i].state);
}

static void
assert_config_error(const gchar *lines, const gchar *words)
{
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(g_get_tmp_dir(), "vigild.conf", NULL);
	g_autofree gchar *contents = g_strdup_printf("[connectivity]\n%s\n", lines);

	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
	g_assert_false(vigil_config_load(config, path, TRUE, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
	if (strstr(error->message, words) == NULL)
		g_error("'%s' does not say '%s'", error->message, words);
}

static void
test_config(void)
{
	g_autoptr(VigilConfig) shipped = vigil_config_new();
	g_autoptr(VigilConfig) config = vigil_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path =
	    g_build_filename(g_getenv("VIGIL_SOURCE_ROOT"), "data", "vigild.conf", NULL);
	g_autofree gchar *tmp = g_build_filename(g_get_tmp_dir(), "vigild.conf", NULL);

	/* the shipped file says what the defaults are */
	g_assert_true(vigil_config_load(shipped, path, TRUE, &error));
	g_assert_no_error(error);
	g_assert_true(shipped->connectivity_enabled);
	g_assert_cmpstr(shipped->http_url, ==, config->http_url);
	g_assert_cmpstr(shipped->http_body, ==, config->http_body);
	g_assert_cmpstr(shipped->https_url, ==, config->https_url);
	g_assert_cmpuint(shipped->http_status, ==, config->http_status);
	g_assert_cmpuint(shipped->probe_timeout, ==, config->probe_timeout);
	g_assert_null(shipped->ca_file);
	g_assert_null(shipped->fallback4);
	g_assert_null(shipped->resolv_conf);
	g_assert_cmpstr(shipped->lease_dir, ==, config->lease_dir);

	g_assert_true(g_file_set_contents(tmp,
					  "[connectivity]\nEnabled=false\nHttpsUrl=\n"
					  "FallbackAddresses=fd00::1; 198.18.0.1\nTimeout=3\n",
					  -1,
					  NULL));
	g_assert_true(vigil_config_load(config, tmp, TRUE, &error));
	g_assert_no_error(error);
	g_assert_false(config->connectivity_enabled);
	g_assert_cmpstr(config->https_url, ==, "");
	g_assert_cmpstr(config->fallback4, ==, "198.18.0.1");
	g_assert_cmpstr(config->fallback6, ==, "fd00::1");
	g_assert_cmpuint(config->probe_timeout, ==, 3);

	assert_config_error("Enabled=maybe", "key Enabled in [connectivity]");
	assert_config_error("Timeout=0", "key Timeout in [connectivity]");
	assert_config_error("Timeout=1000", "key Timeout in [connectivity]");
	assert_config_error("HttpUrl=ftp://x/", "key HttpUrl in [connectivity]");
	assert_config_error("HttpUrl=https://x/", "key HttpUrl in [connectivity]");
	assert_config_error("HttpsUrl=http://x/", "key HttpsUrl in [connectivity]");
	assert_config_error("HttpStatus=99", "key HttpStatus in [connectivity]");
	assert_config_error("FallbackAddresses=example.org", "key FallbackAddresses");
	assert_config_error("FallbackAddresses=198.18.0.1;198.18.0.2", "more than one");
	assert_config_error("CaFile=relative.pem", "key CaFile in [connectivity]");
	assert_config_error("LeaseDirectory=leases", "key LeaseDirectory in [connectivity]");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/portal/http-parse", test_http_parse);
	g_test_add_func("/vigil/daemon/portal/http-hostile", test_http_hostile);
	g_test_add_func("/vigil/daemon/portal/http-judge", test_http_judge);
	g_test_add_func("/vigil/daemon/portal/captive-json", test_captive_json);
	g_test_add_func("/vigil/daemon/portal/router-advertisement", test_router_advertisement);
	g_test_add_func("/vigil/daemon/portal/resolv-conf-and-lease", test_resolv_conf_and_lease);
	g_test_add_func("/vigil/daemon/portal/dns-query", test_dns_query);
	g_test_add_func("/vigil/daemon/portal/decide", test_decide);
	g_test_add_func("/vigil/daemon/portal/config", test_config);
	return g_test_run();
}
