/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes the parsers of the connectivity checker, whose input comes from whatever network
 * the machine joined: HTTP answers (whole and as they arrive, a piece at a time), the
 * RFC 8908 API's JSON, router advertisements, and the lease and resolv.conf files. The
 * first byte of an input picks the parser, the rest is its input. Besides not crashing:
 *
 *  - every error has a message;
 *  - what reaches logs and D-Bus (header values, URLs, details) is valid UTF-8, and a URL
 *    that is kept is one vigil_portal_url_is_acceptable() accepts;
 *  - an answer read a piece at a time gives what it gives read at once.
 *
 * With gcc this is linked with the standalone driver in fuzz-main.c and runs as the meson
 * test `fuzz-portal` (suites unit and fuzz) for a few seconds; with clang meson also builds
 * `fuzz-portal-libfuzzer` (see tests/fuzz/fuzz-packet.c), seeds in tests/fuzz/corpus/portal.
 */

#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "vigil-error.h"
#include "vigil-portal-parse.h"

#define FUZZ_PROBE_URL "http://probe.example/check"

enum {
	FUZZ_PARSER_HTTP,
	FUZZ_PARSER_CAPTIVE_JSON,
	FUZZ_PARSER_RA,
	FUZZ_PARSER_FILES,
	FUZZ_PARSER_LAST,
};

static void
fuzz_check_url(const gchar *url, gboolean https_only)
{
	if (url == NULL)
		return;
	g_assert_true(g_utf8_validate(url, -1, NULL));
	g_assert_true(vigil_portal_url_is_acceptable(url, https_only));
}

static VigilHttpParse
fuzz_http_parse(const guint8 *data, gsize len, gboolean eof, VigilHttpResponse **response)
{
	g_autoptr(GError) error = NULL;
	VigilHttpParse ret = vigil_http_response_parse(data, len, eof, response, &error);

	if (ret == VIGIL_HTTP_PARSE_ERROR) {
		fuzz_assert_error(error);
		g_assert_null(*response);
	} else if (ret == VIGIL_HTTP_PARSE_DONE) {
		g_assert_nonnull(*response);
	}
	return ret;
}

static void
fuzz_http(const guint8 *data, gsize len)
{
	g_autoptr(VigilHttpResponse) whole = NULL;
	g_autoptr(VigilHttpResponse) response = NULL;
	g_autofree gchar *portal_url = NULL;
	g_autofree gchar *detail = NULL;
	VigilHttpParse ret;
	VigilProbe probe;

	/* as the checker reads: what has arrived so far, then the end of the connection. An
	 * answer complete before the end is the answer, whatever follows it */
	for (gsize n = 0; n < len; n += 1 + n / 4) {
		g_autoptr(VigilHttpResponse) part = NULL;
		ret = fuzz_http_parse(data, n, FALSE, &part);
		if (ret == VIGIL_HTTP_PARSE_DONE) {
			g_autoptr(VigilHttpResponse) rest = NULL;
			g_assert_cmpint(fuzz_http_parse(data, len, TRUE, &rest),
					==,
					VIGIL_HTTP_PARSE_DONE);
			g_assert_cmpuint(rest->status, ==, part->status);
			g_assert_true(g_bytes_equal(rest->body, part->body));
		}
		if (ret != VIGIL_HTTP_PARSE_MORE)
			break;
	}
	ret = fuzz_http_parse(data, len, TRUE, &whole);
	if (ret != VIGIL_HTTP_PARSE_DONE)
		return;

	/* what reaches logs and D-Bus */
	g_assert_cmpuint(whole->status, >=, 100);
	g_assert_cmpuint(whole->status, <=, 599);
	if (whole->location != NULL)
		g_assert_true(g_utf8_validate(whole->location, -1, NULL));
	if (whole->content_type != NULL)
		g_assert_true(g_utf8_validate(whole->content_type, -1, NULL));
	g_assert_nonnull(whole->body);

	/* the same bytes with the end of the connection give the same answer again */
	g_assert_cmpint(fuzz_http_parse(data, len, TRUE, &response), ==, VIGIL_HTTP_PARSE_DONE);
	g_assert_cmpuint(response->status, ==, whole->status);
	g_assert_cmpstr(response->location, ==, whole->location);
	g_assert_true(g_bytes_equal(response->body, whole->body));

	probe = vigil_portal_judge_http(whole, 204, "", FUZZ_PROBE_URL, &portal_url, &detail);
	g_assert_nonnull(detail);
	g_assert_true(g_utf8_validate(detail, -1, NULL));
	if (probe == VIGIL_PROBE_PORTAL) {
		g_assert_nonnull(portal_url);
		fuzz_check_url(portal_url, FALSE);
	} else {
		g_assert_null(portal_url);
	}
}

static void
fuzz_captive_json(const guint8 *data, gsize len)
{
	VigilCaptiveInfo info = {0};
	g_autoptr(GError) error = NULL;

	if (!vigil_portal_parse_captive_json((const gchar *)data, len, &info, &error)) {
		fuzz_assert_error(error);
		g_assert_null(info.user_portal_url);
		g_assert_null(info.venue_info_url);
		return;
	}
	fuzz_check_url(info.user_portal_url, TRUE);
	fuzz_check_url(info.venue_info_url, TRUE);
	g_assert_true(info.seconds_remaining >= -1);
	g_assert_true(info.bytes_remaining >= -1);
	vigil_captive_info_clear(&info);
}

static void
fuzz_ra(const guint8 *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;

	if (!vigil_portal_parse_ra(data, len, &url, &error)) {
		fuzz_assert_error(error);
		g_assert_null(url);
		return;
	}
	if (url != NULL) {
		g_assert_true(url[0] != '\0');
		g_assert_true(g_utf8_validate(url, -1, NULL));
	}
}

/* both files are text the daemon reads as a string */
static void
fuzz_files(const guint8 *data, gsize len)
{
	g_autofree gchar *text = g_strndup((const gchar *)data, len);
	g_autofree gchar *url = vigil_portal_parse_lease(text);
	g_autoptr(GPtrArray) servers = vigil_portal_parse_resolv_conf(text);

	if (url != NULL) {
		g_assert_true(url[0] != '\0');
		g_assert_true(g_utf8_validate(url, -1, NULL));
	}
	g_assert_nonnull(servers);
	g_assert_cmpuint(servers->len, <=, 3);
	for (guint i = 0; i < servers->len; i++)
		g_assert_true(G_IS_INET_ADDRESS(g_ptr_array_index(servers, i)));
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	if (size == 0)
		return 0;
	switch (data[0] % FUZZ_PARSER_LAST) {
	case FUZZ_PARSER_HTTP:
		fuzz_http(data + 1, size - 1);
		break;
	case FUZZ_PARSER_CAPTIVE_JSON:
		fuzz_captive_json(data + 1, size - 1);
		break;
	case FUZZ_PARSER_RA:
		fuzz_ra(data + 1, size - 1);
		break;
	case FUZZ_PARSER_FILES:
		fuzz_files(data + 1, size - 1);
		break;
	default:
		g_assert_not_reached();
	}
	return 0;
}
