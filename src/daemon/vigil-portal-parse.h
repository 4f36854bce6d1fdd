/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/* the pure parts of the connectivity checker: every input here may come from a hostile
 * network, so each parser bounds what it reads and reports malformed input as an error */

/* the longest header block of an HTTP answer we read, and the longest URL we keep */
#define VIGIL_HTTP_HEADERS_MAX 8192
#define VIGIL_PORTAL_URL_MAX   2048
/* RFC 8910 says this URI means "no captive portal here" */
#define VIGIL_CAPPORT_UNRESTRICTED "urn:ietf:params:capport:unrestricted"

typedef struct {
	guint status;
	gchar *location;     /* NULL when absent */
	gchar *content_type; /* NULL when absent */
	GBytes *body;
} VigilHttpResponse;

void
vigil_http_response_free(VigilHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHttpResponse, vigil_http_response_free)

typedef enum {
	VIGIL_HTTP_PARSE_ERROR,
	VIGIL_HTTP_PARSE_MORE,
	VIGIL_HTTP_PARSE_DONE,
} VigilHttpParse;

VigilHttpParse
vigil_http_response_parse(const guint8 *data,
			  gsize len,
			  gboolean eof,
			  VigilHttpResponse **response,
			  GError **error);

/* what one HTTP probe says about the network */
typedef enum {
	VIGIL_PROBE_NOT_RUN,
	VIGIL_PROBE_PASS,
	VIGIL_PROBE_PORTAL,
	VIGIL_PROBE_FAIL,
} VigilProbe;

VigilProbe
vigil_portal_judge_http(const VigilHttpResponse *response,
			guint expected_status,
			const gchar *expected_body,
			const gchar *probe_url,
			gchar **portal_url,
			gchar **detail);

/* the RFC 8908 API's answer; -1 means not given */
typedef struct {
	gboolean captive;
	gchar *user_portal_url;
	gchar *venue_info_url;
	gint64 seconds_remaining;
	gint64 bytes_remaining;
	gboolean can_extend_session;
} VigilCaptiveInfo;

void
vigil_captive_info_clear(VigilCaptiveInfo *info);
gboolean
vigil_portal_parse_captive_json(const gchar *data,
				gsize len,
				VigilCaptiveInfo *info,
				GError **error);

gboolean
vigil_portal_parse_ra(const guint8 *data, gsize len, gchar **captive_url, GError **error);
gchar *
vigil_portal_parse_lease(const gchar *contents);
GPtrArray *
vigil_portal_parse_resolv_conf(const gchar *contents);
GBytes *
vigil_portal_build_dns_query(const gchar *name, guint16 qtype, guint16 id, GError **error);
gboolean
vigil_portal_url_is_acceptable(const gchar *url, gboolean https_only);

/* what every probe of one check said; the decision is vigil_portal_decide() */
typedef struct {
	VigilProbe api;	     /* RFC 8908: PORTAL captive, PASS not captive, FAIL unusable */
	VigilProbe dns;	     /* the probe host resolved */
	VigilProbe fallback; /* HTTP to the configured address, only when DNS failed */
	VigilProbe http;
	VigilProbe https;
} VigilPortalOutcome;

VigilConnectivity
vigil_portal_decide(const VigilPortalOutcome *outcome);

G_END_DECLS
