/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-dns-cache.h"

G_BEGIN_DECLS

/* EDNS payloads of 4096 bytes plus room for the link, IP and TCP headers */
#define VIGIL_DNS_CAPTURE_SNAPLEN 4352
#define VIGIL_DNS_CAPTURE_FILTER  "port 53"

/*
 * The query a captured response answers, seen from the client: the client is the process
 * (or the local stub resolver) that asked, the server the resolver that answered.
 * Addresses are in network order (IPv4 in the first 4 bytes), ports in host order.
 */
typedef struct {
	guint8 family; /* 4 or 6 */
	guint8 protocol;
	guint8 client[16];
	guint8 server[16];
	guint16 client_port;
	guint16 server_port;
} VigilDnsFlow;

/* a question seen going out: answers are only taken for the flow, id and name of one */
typedef struct {
	guint16 id;
	gchar *name;
} VigilDnsQuery;

/* what one captured packet carries: queries, answers, or neither (a bare TCP segment) */
typedef struct {
	VigilDnsFlow flow;
	GPtrArray *queries; /* of VigilDnsQuery, or NULL */
	GPtrArray *answers; /* of VigilDnsAnswer, or NULL */
} VigilDnsPacket;

typedef struct {
	guint64 packets;
	guint64 queries;
	guint64 responses;
	guint64 answers;
	guint64 unsolicited; /* responses with answers to no question seen asked */
	guint64 malformed;
} VigilDnsCaptureStats;

/* how many questions wait for their answer, and how long */
#define VIGIL_DNS_CAPTURE_PENDING_MAX	  4096
#define VIGIL_DNS_CAPTURE_PENDING_SECONDS 30

/* the pid of the process owning the client socket of @flow, or 0 when not known */
typedef gint (*VigilDnsCapturePidFunc)(const VigilDnsFlow *flow, gpointer user_data);

#define VIGIL_TYPE_DNS_CAPTURE (vigil_dns_capture_get_type())
G_DECLARE_FINAL_TYPE(VigilDnsCapture, vigil_dns_capture, VIGIL, DNS_CAPTURE, GObject)

VigilDnsCapture *
vigil_dns_capture_new(VigilDnsCache *cache);
void
vigil_dns_capture_set_interface(VigilDnsCapture *self, const gchar *interface);
void
vigil_dns_capture_set_pid_func(VigilDnsCapture *self,
			       VigilDnsCapturePidFunc func,
			       gpointer user_data,
			       GDestroyNotify destroy);
gboolean
vigil_dns_capture_start(VigilDnsCapture *self, GError **error);
void
vigil_dns_capture_stop(VigilDnsCapture *self);
gboolean
vigil_dns_capture_is_running(VigilDnsCapture *self);
gboolean
vigil_dns_capture_handle_packet(VigilDnsCapture *self,
				gint linktype,
				const guint8 *data,
				gsize len,
				GError **error);
void
vigil_dns_capture_get_stats(VigilDnsCapture *self, VigilDnsCaptureStats *stats);

void
vigil_dns_query_free(VigilDnsQuery *query);
void
vigil_dns_packet_clear(VigilDnsPacket *packet);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilDnsPacket, vigil_dns_packet_clear)

gboolean
vigil_dns_capture_parse_packet(gint linktype,
			       const guint8 *data,
			       gsize len,
			       VigilDnsPacket *packet,
			       GError **error);

G_END_DECLS
