/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-dns-cache.h"
#include "vigil-enums.h"
#include "vigil-packet.h"

G_BEGIN_DECLS

/* default bound on connections, live and recently closed; closed ones are evicted first */
#define VIGIL_CONNECTION_TABLE_MAX 65536
/* bound on per-app totals; apps without live connections, least recently seen, go first */
#define VIGIL_CONNECTION_TABLE_APPS_MAX 4096
/* attributions waiting for their conntrack entry: bound and lifetime */
#define VIGIL_CONNECTION_TABLE_PENDING_MAX 16384
/* closed connections kept for clients to show: this many, this long at most */
#define VIGIL_CONNECTION_TABLE_CLOSED_MAX      4096
#define VIGIL_CONNECTION_TABLE_CLOSED_SECONDS  300
#define VIGIL_CONNECTION_TABLE_PENDING_SECONDS 30
#define VIGIL_CONNECTION_UID_UNKNOWN	       G_MAXUINT32

typedef enum {
	VIGIL_CONNTRACK_EVENT_NEW,
	VIGIL_CONNTRACK_EVENT_UPDATE,
	VIGIL_CONNTRACK_EVENT_DESTROY,
	VIGIL_CONNTRACK_EVENT_DUMP, /* a dump reply: like an update, and marks it as seen */
} VigilConntrackEventType;

/*
 * One direction of a conntrack entry. Addresses are in network order (IPv4 in the first 4
 * bytes, the rest zero), ports and the ICMP id in host order; the ICMP fields are set for
 * ICMP and ICMPv6 only, the ports for the other protocols. Unused fields are zero, so that
 * the same flow always compares equal.
 */
typedef struct {
	guint8 family; /* 4 or 6 */
	guint8 protocol;
	guint8 src[16];
	guint8 dst[16];
	guint16 sport;
	guint16 dport;
	guint8 icmp_type;
	guint8 icmp_code;
	guint16 icmp_id;
} VigilConntrackTuple;

/* what one ctnetlink message says about a conntrack entry */
typedef struct {
	VigilConntrackEventType type;
	guint32 id;
	VigilConntrackTuple orig;
	VigilConntrackTuple reply;
	guint32 status; /* IPS_* bits */
	guint32 mark;
	guint32 timeout;
	guint16 zone;
	guint8 tcp_state; /* TCP_CONNTRACK_*; TCP_CONNTRACK_NONE when absent */
	gboolean has_reply;
	gboolean has_counters;
	guint64 packets_orig;
	guint64 bytes_orig;
	guint64 packets_reply;
	guint64 bytes_reply;
	guint64 start_ns; /* CTA_TIMESTAMP: wall clock nanoseconds, 0 when absent */
	guint64 stop_ns;
} VigilConntrackEntry;

/*
 * What the daemon knows about the process behind a connection. Strings are copied; NULL,
 * 0, VIGIL_DIRECTION_ANY and VIGIL_ACTION_NONE mean unknown. Start from
 * VIGIL_CONNECTION_ATTRIBUTION_INIT so that the uid is unknown rather than root.
 */
typedef struct {
	gint pid;
	guint32 uid;
	VigilDirection direction;
	VigilAction verdict;
	const gchar *exe;
	const gchar *cmdline;
	const gchar *app_id;
	const gchar *unit;
	const gchar *user;
	const gchar *hostname;
	const gchar *rule_id;
	const gchar *iface;
} VigilConnectionAttribution;

#define VIGIL_CONNECTION_ATTRIBUTION_INIT                                                          \
	{                                                                                          \
		.uid = VIGIL_CONNECTION_UID_UNKNOWN                                                \
	}

/*
 * One connection of the table. Read-only outside the table, and only valid on the main
 * loop: the table updates it in place, and a reference keeps the memory, not the values.
 * Strings are NULL when unknown. @started and @ended are wall clock microseconds.
 */
typedef struct {
	guint32 id; /* CTA_ID */
	VigilConntrackTuple orig;
	VigilConntrackTuple reply;
	guint32 status;
	guint32 mark;
	guint8 tcp_state;
	gboolean closed;
	gint64 started;
	gint64 ended;
	guint64 packets_orig;
	guint64 bytes_orig;
	guint64 packets_reply;
	guint64 bytes_reply;
	gboolean attributed;
	gint pid;
	guint32 uid;
	VigilDirection direction;
	VigilAction verdict;
	gchar *exe;
	gchar *cmdline;
	gchar *app_id;
	gchar *unit;
	gchar *user;
	gchar *hostname;
	gchar *rule_id;
	gchar *iface;
} VigilConnection;

/* per-app totals; an app is its Flatpak app id, else its exe, with the uid */
typedef struct {
	gchar *exe;
	gchar *app_id;
	gchar *unit;
	gchar *user;
	guint32 uid;
	guint live;
	guint64 total;
	guint64 bytes_in;
	guint64 bytes_out;
	guint64 packets_in;
	guint64 packets_out;
	gdouble rate_in; /* bytes per second */
	gdouble rate_out;
	gint64 last_seen; /* wall clock microseconds */
} VigilAppTotals;

#define VIGIL_TYPE_CONNECTION (vigil_connection_get_type())
GType
vigil_connection_get_type(void);
VigilConnection *
vigil_connection_ref(VigilConnection *connection);
void
vigil_connection_unref(VigilConnection *connection);
const gchar *
vigil_connection_get_state(const VigilConnection *connection);
void
vigil_connection_get_counters(const VigilConnection *connection,
			      guint64 *bytes_in,
			      guint64 *bytes_out,
			      guint64 *packets_in,
			      guint64 *packets_out);
GVariant *
vigil_connection_to_variant(const VigilConnection *connection);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilConnection, vigil_connection_unref)

void
vigil_app_totals_free(VigilAppTotals *totals);
GVariant *
vigil_app_totals_to_variant(const VigilAppTotals *totals);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAppTotals, vigil_app_totals_free)

void
vigil_conntrack_tuple_init_from_packet(VigilConntrackTuple *tuple, const VigilPacket *packet);
gboolean
vigil_conntrack_tuple_equal(const VigilConntrackTuple *a, const VigilConntrackTuple *b);
guint
vigil_conntrack_tuple_hash(const VigilConntrackTuple *tuple);
gchar *
vigil_conntrack_tuple_to_string(const VigilConntrackTuple *tuple);

#define VIGIL_TYPE_CONNECTION_TABLE (vigil_connection_table_get_type())
G_DECLARE_FINAL_TYPE(VigilConnectionTable, vigil_connection_table, VIGIL, CONNECTION_TABLE, GObject)

VigilConnectionTable *
vigil_connection_table_new(guint max_connections);
void
vigil_connection_table_set_closed_retention(VigilConnectionTable *self,
					    guint max_closed,
					    guint seconds);
void
vigil_connection_table_set_dns_cache(VigilConnectionTable *self, VigilDnsCache *cache);
void
vigil_connection_table_apply_entry(VigilConnectionTable *self, const VigilConntrackEntry *entry);
void
vigil_connection_table_begin_resync(VigilConnectionTable *self);
void
vigil_connection_table_end_resync(VigilConnectionTable *self, gboolean complete);
void
vigil_connection_table_set_attribution(VigilConnectionTable *self,
				       const VigilConntrackTuple *orig,
				       const VigilConnectionAttribution *attribution);
VigilConnection *
vigil_connection_table_lookup_by_id(VigilConnectionTable *self, guint32 id);
VigilConnection *
vigil_connection_table_lookup_by_tuple(VigilConnectionTable *self, const VigilConntrackTuple *orig);
guint
vigil_connection_table_get_size(VigilConnectionTable *self);
guint
vigil_connection_table_get_n_live(VigilConnectionTable *self);
guint
vigil_connection_table_get_n_pending(VigilConnectionTable *self);
guint64
vigil_connection_table_get_n_evicted(VigilConnectionTable *self);
GPtrArray *
vigil_connection_table_get_snapshot(VigilConnectionTable *self, gboolean include_closed);
gboolean
vigil_connection_table_drain_changes(VigilConnectionTable *self,
				     GPtrArray **updated,
				     GArray **removed);
GPtrArray *
vigil_connection_table_get_apps(VigilConnectionTable *self);

G_END_DECLS
