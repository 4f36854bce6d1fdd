/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilConnectionTable"

#include "config.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <string.h>

#include "vigil-connection-table.h"

/*
 * The live connection table: conntrack entries by id (and by original tuple, for the
 * daemon's join with the verdict of the first packet), the attribution the daemon gives
 * them, and per-app totals kept up to date incrementally from counter deltas.
 *
 * Everything runs on the main loop. Memory is bounded: at most max_connections entries
 * (closed ones evicted first, then the oldest live one), VIGIL_CONNECTION_TABLE_APPS_MAX
 * apps, VIGIL_CONNECTION_TABLE_PENDING_MAX pending attributions, and a change set no larger
 * than the table. Strings are interned reference-counted strings: the thousand connections
 * of one browser share one exe, cmdline and user.
 *
 * Closed connections stay a while, for clients to show what just happened: the newest
 * VIGIL_CONNECTION_TABLE_CLOSED_MAX of them, for VIGIL_CONNECTION_TABLE_CLOSED_SECONDS.
 * After a flood of short connections the table shrinks back to the live ones, and the
 * memory goes back to the system. The timer that forgets them only runs while there are
 * closed connections to forget: an idle table sets none.
 */

/* forgetting this many at once leaves enough free memory to hand it back */
#define VIGIL_CONNECTION_TABLE_TRIM_AFTER 1024

typedef struct _AppTotals AppTotals;

typedef struct {
	VigilConnection public; /* first: the public pointer is the private one */
	gint ref_count;
	GList link; /* in the live or the closed queue */
	gboolean in_table;
	guint64 generation;
	AppTotals *app;
	guint64 accounted_bytes_in;
	guint64 accounted_bytes_out;
	guint64 accounted_packets_in;
	guint64 accounted_packets_out;
	gint64 closed_at; /* monotonic */
} Connection;

struct _AppTotals {
	VigilAppTotals public;
	gint ref_count;
	gchar *key;
	gint64 sample_time; /* monotonic */
	guint64 sample_in;
	guint64 sample_out;
};

typedef struct {
	VigilConntrackTuple tuple;
	GList link;
	gint64 expiry;				/* monotonic */
	VigilConnectionAttribution attribution; /* strings owned, interned */
} Pending;

struct _VigilConnectionTable {
	GObject parent_instance;
	GHashTable *by_id;    /* id -> Connection, owning one reference */
	GHashTable *by_tuple; /* VigilConntrackTuple inside the Connection -> Connection */
	GQueue live;	      /* of Connection, oldest first */
	GQueue closed;	      /* of Connection, first closed first */
	GHashTable *apps;     /* key -> AppTotals */
	GHashTable *pending;  /* VigilConntrackTuple inside the Pending -> Pending */
	GQueue pending_order; /* of Pending, oldest first */
	GHashTable *dirty;    /* Connection set, holding references */
	GArray *removed;      /* of guint64 ids */
	gboolean change_signalled;
	guint max_connections;
	guint64 generation;
	gboolean resyncing;
	guint64 n_evicted;
	VigilDnsCache *dns_cache;
	guint closed_max;
	guint closed_seconds;
	guint forget_id;
};

enum { SIGNAL_CHANGED, SIGNAL_LAST };

static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_FINAL_TYPE(VigilConnectionTable, vigil_connection_table, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE(VigilConnection, vigil_connection, vigil_connection_ref, vigil_connection_unref)

static gchar *
ref_string_new(const gchar *str)
{
	return str != NULL ? g_ref_string_new_intern(str) : NULL;
}

static void
ref_string_set(gchar **slot, const gchar *str)
{
	gchar *old = *slot;

	*slot = ref_string_new(str);
	if (old != NULL)
		g_ref_string_release(old);
}

static void
ref_string_clear(gchar **slot)
{
	g_clear_pointer(slot, g_ref_string_release);
}

/* tuples */

gboolean
vigil_conntrack_tuple_equal(const VigilConntrackTuple *a, const VigilConntrackTuple *b)
{
	return a->family == b->family && a->protocol == b->protocol && a->sport == b->sport &&
	       a->dport == b->dport && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code && a->icmp_id == b->icmp_id &&
	       memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
	       memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

guint
vigil_conntrack_tuple_hash(const VigilConntrackTuple *tuple)
{
	guint hash = 2166136261u;
	guint8 fields[8];

	fields[0] = tuple->family;
	fields[1] = tuple->protocol;
	fields[2] = (guint8)(tuple->sport >> 8);
	fields[3] = (guint8)tuple->sport;
	fields[4] = (guint8)(tuple->dport >> 8);
	fields[5] = (guint8)tuple->dport;
	fields[6] = (guint8)(tuple->icmp_type ^ tuple->icmp_code);
	fields[7] = (guint8)(tuple->icmp_id ^ (tuple->icmp_id >> 8));
	for (guint i = 0; i < sizeof(fields); i++)
		hash = (hash ^ fields[i]) * 16777619u;
	for (guint i = 0; i < sizeof(tuple->src); i++)
		hash = (hash ^ tuple->src[i]) * 16777619u;
	for (guint i = 0; i < sizeof(tuple->dst); i++)
		hash = (hash ^ tuple->dst[i]) * 16777619u;
	return hash;
}

static guint
tuple_hash_cb(gconstpointer data)
{
	return vigil_conntrack_tuple_hash(data);
}

static gboolean
tuple_equal_cb(gconstpointer a, gconstpointer b)
{
	return vigil_conntrack_tuple_equal(a, b);
}

static gboolean
protocol_is_icmp(guint protocol)
{
	return protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6;
}

static gboolean
protocol_has_ports(guint protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE ||
	       protocol == IPPROTO_SCTP || protocol == IPPROTO_DCCP;
}

void
vigil_conntrack_tuple_init_from_packet(VigilConntrackTuple *tuple, const VigilPacket *packet)
{
	gsize address_len;

	g_return_if_fail(tuple != NULL);
	g_return_if_fail(packet != NULL);

	memset(tuple, 0, sizeof(*tuple));
	address_len = packet->family == 4 ? 4 : 16;
	tuple->family = packet->family;
	tuple->protocol = packet->protocol;
	memcpy(tuple->src, packet->src, address_len);
	memcpy(tuple->dst, packet->dst, address_len);
	if (protocol_is_icmp(packet->protocol)) {
		tuple->icmp_type = packet->icmp_type;
		tuple->icmp_code = packet->icmp_code;
		tuple->icmp_id = packet->icmp_id;
	} else if (protocol_has_ports(packet->protocol)) {
		tuple->sport = packet->sport;
		tuple->dport = packet->dport;
	}
}

static const gchar *
format_address(guint family, const guint8 *address, gchar *buf, gsize len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, address, buf, (socklen_t)len) == NULL)
		return "?";
	return buf;
}

gchar *
vigil_conntrack_tuple_to_string(const VigilConntrackTuple *tuple)
{
	gchar src[INET6_ADDRSTRLEN];
	gchar dst[INET6_ADDRSTRLEN];
	const gchar *protocol = vigil_protocol_to_string(tuple->protocol);
	g_autofree gchar *protocol_number = NULL;

	g_return_val_if_fail(tuple != NULL, NULL);

	if (protocol == NULL)
		protocol = protocol_number = g_strdup_printf("%u", tuple->protocol);
	format_address(tuple->family, tuple->src, src, sizeof(src));
	format_address(tuple->family, tuple->dst, dst, sizeof(dst));
	if (protocol_is_icmp(tuple->protocol)) {
		return g_strdup_printf("%s %s -> %s type %u code %u id %u",
				       protocol,
				       src,
				       dst,
				       tuple->icmp_type,
				       tuple->icmp_code,
				       tuple->icmp_id);
	}
	if (tuple->family == 6)
		return g_strdup_printf("%s [%s]:%u -> [%s]:%u",
				       protocol,
				       src,
				       tuple->sport,
				       dst,
				       tuple->dport);
	return g_strdup_printf("%s %s:%u -> %s:%u", protocol, src, tuple->sport, dst, tuple->dport);
}

/* connections */

static Connection *
connection_from_public(VigilConnection *connection)
{
	return (Connection *)connection;
}

static void
app_totals_unref(AppTotals *app);

VigilConnection *
vigil_connection_ref(VigilConnection *connection)
{
	g_return_val_if_fail(connection != NULL, NULL);
	g_atomic_int_inc(&connection_from_public(connection)->ref_count);
	return connection;
}

void
vigil_connection_unref(VigilConnection *connection)
{
	Connection *priv;

	g_return_if_fail(connection != NULL);
	priv = connection_from_public(connection);
	if (!g_atomic_int_dec_and_test(&priv->ref_count))
		return;
	ref_string_clear(&connection->exe);
	ref_string_clear(&connection->cmdline);
	ref_string_clear(&connection->app_id);
	ref_string_clear(&connection->unit);
	ref_string_clear(&connection->user);
	ref_string_clear(&connection->hostname);
	ref_string_clear(&connection->rule_id);
	ref_string_clear(&connection->iface);
	g_clear_pointer(&priv->app, app_totals_unref);
	g_free(priv);
}

static const gchar *tcp_state_names[] = {
    [TCP_CONNTRACK_NONE] = "none",
    [TCP_CONNTRACK_SYN_SENT] = "syn-sent",
    [TCP_CONNTRACK_SYN_RECV] = "syn-recv",
    [TCP_CONNTRACK_ESTABLISHED] = "established",
    [TCP_CONNTRACK_FIN_WAIT] = "fin-wait",
    [TCP_CONNTRACK_CLOSE_WAIT] = "close-wait",
    [TCP_CONNTRACK_LAST_ACK] = "last-ack",
    [TCP_CONNTRACK_TIME_WAIT] = "time-wait",
    [TCP_CONNTRACK_CLOSE] = "close",
    [TCP_CONNTRACK_SYN_SENT2] = "syn-sent2",
};

const gchar *
vigil_connection_get_state(const VigilConnection *connection)
{
	g_return_val_if_fail(connection != NULL, NULL);

	if (connection->closed)
		return "closed";
	if (connection->orig.protocol == IPPROTO_TCP &&
	    connection->tcp_state < G_N_ELEMENTS(tcp_state_names))
		return tcp_state_names[connection->tcp_state];
	if ((connection->status & IPS_ASSURED) != 0)
		return "assured";
	if ((connection->status & IPS_SEEN_REPLY) != 0)
		return "replied";
	return "new";
}

/* orig is the direction of the first packet: outbound for OUT (and unknown), inbound for IN */
void
vigil_connection_get_counters(const VigilConnection *connection,
			      guint64 *bytes_in,
			      guint64 *bytes_out,
			      guint64 *packets_in,
			      guint64 *packets_out)
{
	gboolean inbound;

	g_return_if_fail(connection != NULL);

	inbound = connection->direction == VIGIL_DIRECTION_IN;
	if (bytes_in != NULL)
		*bytes_in = inbound ? connection->bytes_orig : connection->bytes_reply;
	if (bytes_out != NULL)
		*bytes_out = inbound ? connection->bytes_reply : connection->bytes_orig;
	if (packets_in != NULL)
		*packets_in = inbound ? connection->packets_orig : connection->packets_reply;
	if (packets_out != NULL)
		*packets_out = inbound ? connection->packets_reply : connection->packets_orig;
}

static void
builder_add_string(GVariantBuilder *builder, const gchar *key, const gchar *value)
{
	if (value != NULL)
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

GVariant *
vigil_connection_to_variant(const VigilConnection *connection)
{
	GVariantBuilder builder;
	gchar src[INET6_ADDRSTRLEN];
	gchar dst[INET6_ADDRSTRLEN];
	const gchar *protocol;
	guint64 bytes_in;
	guint64 bytes_out;
	guint64 packets_in;
	guint64 packets_out;

	g_return_val_if_fail(connection != NULL, NULL);

	vigil_connection_get_counters(connection, &bytes_in, &bytes_out, &packets_in, &packets_out);
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_uint64(connection->id));
	protocol = vigil_protocol_to_string(connection->orig.protocol);
	builder_add_string(&builder, "proto", protocol);
	g_variant_builder_add(&builder,
			      "{sv}",
			      "family",
			      g_variant_new_uint32(connection->orig.family));
	builder_add_string(
	    &builder,
	    "src",
	    format_address(connection->orig.family, connection->orig.src, src, sizeof(src)));
	builder_add_string(
	    &builder,
	    "dst",
	    format_address(connection->orig.family, connection->orig.dst, dst, sizeof(dst)));
	if (protocol_has_ports(connection->orig.protocol)) {
		g_variant_builder_add(&builder,
				      "{sv}",
				      "sport",
				      g_variant_new_uint16(connection->orig.sport));
		g_variant_builder_add(&builder,
				      "{sv}",
				      "dport",
				      g_variant_new_uint16(connection->orig.dport));
	}
	builder_add_string(&builder, "host", connection->hostname);
	builder_add_string(&builder, "state", vigil_connection_get_state(connection));
	if (connection->direction != VIGIL_DIRECTION_ANY)
		builder_add_string(&builder,
				   "direction",
				   vigil_direction_to_string(connection->direction));
	if (connection->verdict != VIGIL_ACTION_NONE)
		builder_add_string(&builder,
				   "verdict",
				   vigil_action_to_string(connection->verdict));
	builder_add_string(&builder, "rule", connection->rule_id);
	if (connection->pid > 0)
		g_variant_builder_add(&builder,
				      "{sv}",
				      "pid",
				      g_variant_new_uint32((guint32)connection->pid));
	builder_add_string(&builder, "exe", connection->exe);
	builder_add_string(&builder, "cmdline", connection->cmdline);
	if (connection->uid != VIGIL_CONNECTION_UID_UNKNOWN)
		g_variant_builder_add(&builder,
				      "{sv}",
				      "uid",
				      g_variant_new_uint32(connection->uid));
	builder_add_string(&builder, "user", connection->user);
	builder_add_string(&builder, "app-id", connection->app_id);
	builder_add_string(&builder, "unit", connection->unit);
	builder_add_string(&builder, "iface", connection->iface);
	g_variant_builder_add(&builder, "{sv}", "bytes-in", g_variant_new_uint64(bytes_in));
	g_variant_builder_add(&builder, "{sv}", "bytes-out", g_variant_new_uint64(bytes_out));
	g_variant_builder_add(&builder, "{sv}", "packets-in", g_variant_new_uint64(packets_in));
	g_variant_builder_add(&builder, "{sv}", "packets-out", g_variant_new_uint64(packets_out));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "started",
			      g_variant_new_int64(connection->started));
	return g_variant_builder_end(&builder);
}

/* apps */

static AppTotals *
app_totals_ref(AppTotals *app)
{
	app->ref_count++;
	return app;
}

static void
app_totals_unref(AppTotals *app)
{
	if (--app->ref_count > 0)
		return;
	ref_string_clear(&app->public.exe);
	ref_string_clear(&app->public.app_id);
	ref_string_clear(&app->public.unit);
	ref_string_clear(&app->public.user);
	g_free(app->key);
	g_free(app);
}

void
vigil_app_totals_free(VigilAppTotals *totals)
{
	if (totals == NULL)
		return;
	g_free(totals->exe);
	g_free(totals->app_id);
	g_free(totals->unit);
	g_free(totals->user);
	g_free(totals);
}

GVariant *
vigil_app_totals_to_variant(const VigilAppTotals *totals)
{
	GVariantBuilder builder;

	g_return_val_if_fail(totals != NULL, NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	builder_add_string(&builder, "exe", totals->exe);
	builder_add_string(&builder, "app-id", totals->app_id);
	builder_add_string(&builder, "unit", totals->unit);
	if (totals->uid != VIGIL_CONNECTION_UID_UNKNOWN)
		g_variant_builder_add(&builder, "{sv}", "uid", g_variant_new_uint32(totals->uid));
	builder_add_string(&builder, "user", totals->user);
	g_variant_builder_add(&builder, "{sv}", "connections", g_variant_new_uint32(totals->live));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "total-connections",
			      g_variant_new_uint64(totals->total));
	g_variant_builder_add(&builder, "{sv}", "bytes-in", g_variant_new_uint64(totals->bytes_in));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "bytes-out",
			      g_variant_new_uint64(totals->bytes_out));
	g_variant_builder_add(&builder, "{sv}", "rate-in", g_variant_new_double(totals->rate_in));
	g_variant_builder_add(&builder, "{sv}", "rate-out", g_variant_new_double(totals->rate_out));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "last-seen",
			      g_variant_new_int64(totals->last_seen / G_USEC_PER_SEC));
	return g_variant_builder_end(&builder);
}

/* the app a connection counts towards, or NULL when it names none */
static AppTotals *
vigil_connection_table_ensure_app(VigilConnectionTable *self, const VigilConnection *connection)
{
	g_autofree gchar *key = NULL;
	AppTotals *app;

	if (connection->app_id == NULL && connection->exe == NULL)
		return NULL;
	key = g_strdup_printf("%s\n%s\n%u",
			      connection->app_id != NULL ? "app" : "exe",
			      connection->app_id != NULL ? connection->app_id : connection->exe,
			      connection->uid);
	app = g_hash_table_lookup(self->apps, key);
	if (app != NULL)
		return app;

	if (g_hash_table_size(self->apps) >= VIGIL_CONNECTION_TABLE_APPS_MAX) {
		GHashTableIter iter;
		AppTotals *candidate;
		AppTotals *oldest = NULL;

		g_hash_table_iter_init(&iter, self->apps);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&candidate)) {
			if (candidate->public.live == 0 &&
			    (oldest == NULL ||
			     candidate->public.last_seen < oldest->public.last_seen))
				oldest = candidate;
		}
		if (oldest != NULL)
			g_hash_table_remove(self->apps, oldest->key);
	}
	app = g_new0(AppTotals, 1);
	app->ref_count = 1;
	app->key = g_steal_pointer(&key);
	app->public.exe = ref_string_new(connection->exe);
	app->public.app_id = ref_string_new(connection->app_id);
	app->public.unit = ref_string_new(connection->unit);
	app->public.user = ref_string_new(connection->user);
	app->public.uid = connection->uid;
	g_hash_table_insert(self->apps, app->key, app);
	return app;
}

static guint64
delta(guint64 now, guint64 *accounted)
{
	guint64 result = now > *accounted ? now - *accounted : 0;

	*accounted = now;
	return result;
}

/* adds what the counters grew by since the last call to the connection's app */
static void
vigil_connection_table_account(Connection *connection)
{
	AppTotals *app = connection->app;
	guint64 bytes_in;
	guint64 bytes_out;
	guint64 packets_in;
	guint64 packets_out;
	guint64 grown;
	guint64 grown_out;

	if (app == NULL)
		return;
	vigil_connection_get_counters(&connection->public,
				      &bytes_in,
				      &bytes_out,
				      &packets_in,
				      &packets_out);
	grown = delta(bytes_in, &connection->accounted_bytes_in);
	app->public.bytes_in += grown;
	grown_out = delta(bytes_out, &connection->accounted_bytes_out);
	app->public.bytes_out += grown_out;
	grown += grown_out;
	app->public.packets_in += delta(packets_in, &connection->accounted_packets_in);
	app->public.packets_out += delta(packets_out, &connection->accounted_packets_out);
	if (grown > 0 || app->public.last_seen == 0)
		app->public.last_seen = g_get_real_time();
}

/* takes back what the connection added to its app, when the attribution changes */
static void
vigil_connection_table_unaccount(Connection *connection)
{
	AppTotals *app = connection->app;

	if (app == NULL)
		return;
	app->public.bytes_in -= MIN(app->public.bytes_in, connection->accounted_bytes_in);
	app->public.bytes_out -= MIN(app->public.bytes_out, connection->accounted_bytes_out);
	app->public.packets_in -= MIN(app->public.packets_in, connection->accounted_packets_in);
	app->public.packets_out -= MIN(app->public.packets_out, connection->accounted_packets_out);
	if (!connection->public.closed && app->public.live > 0)
		app->public.live--;
	if (app->public.total > 0)
		app->public.total--;
	connection->accounted_bytes_in = 0;
	connection->accounted_bytes_out = 0;
	connection->accounted_packets_in = 0;
	connection->accounted_packets_out = 0;
	g_clear_pointer(&connection->app, app_totals_unref);
}

/* change tracking */

static void
vigil_connection_table_signal_change(VigilConnectionTable *self)
{
	if (self->change_signalled)
		return;
	self->change_signalled = TRUE;
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void
vigil_connection_table_mark_dirty(VigilConnectionTable *self, Connection *connection)
{
	if (connection->public.closed || g_hash_table_contains(self->dirty, connection))
		return;
	g_hash_table_add(self->dirty, vigil_connection_ref(&connection->public));
	vigil_connection_table_signal_change(self);
}

static void
vigil_connection_table_mark_removed(VigilConnectionTable *self, Connection *connection)
{
	guint64 id = connection->public.id;

	g_hash_table_remove(self->dirty, connection);
	/* nobody drains: keep the newest ids only, the table bound is enough for a batch */
	if (self->removed->len >= 2 * (guint64)self->max_connections)
		g_array_remove_range(self->removed, 0, self->removed->len / 2);
	g_array_append_val(self->removed, id);
	vigil_connection_table_signal_change(self);
}

/* lifecycle of one connection */

static void
vigil_connection_table_remove(VigilConnectionTable *self, Connection *connection);
static void
vigil_connection_table_schedule_forget(VigilConnectionTable *self);

static void
vigil_connection_table_close(VigilConnectionTable *self, Connection *connection, gint64 ended)
{
	if (connection->public.closed)
		return;
	connection->public.closed = TRUE;
	connection->public.ended = ended;
	connection->closed_at = g_get_monotonic_time();
	g_queue_unlink(&self->live, &connection->link);
	g_queue_push_tail_link(&self->closed, &connection->link);
	if (connection->app != NULL && connection->app->public.live > 0)
		connection->app->public.live--;
	vigil_connection_table_mark_removed(self, connection);

	/* closed_max is at least 1, so the head is never the one just closed */
	while (self->closed.length > self->closed_max)
		vigil_connection_table_remove(self, g_queue_peek_head(&self->closed));
	vigil_connection_table_schedule_forget(self);
}

static gboolean
vigil_connection_table_forget_cb(gpointer user_data)
{
	VigilConnectionTable *self = VIGIL_CONNECTION_TABLE(user_data);
	gint64 now = g_get_monotonic_time();
	guint forgotten = 0;

	self->forget_id = 0;
	while (self->closed.length > 0) {
		Connection *connection = g_queue_peek_head(&self->closed);

		if (connection->closed_at + (gint64)self->closed_seconds * G_USEC_PER_SEC > now)
			break;
		vigil_connection_table_remove(self, connection);
		forgotten++;
	}
#ifdef __GLIBC__
	/* glibc keeps freed memory for later; after a flood there is no later */
	if (forgotten >= VIGIL_CONNECTION_TABLE_TRIM_AFTER)
		malloc_trim(0);
#endif
	vigil_connection_table_schedule_forget(self);
	return G_SOURCE_REMOVE;
}

/* a timer for when the oldest closed connection is due, if there is one */
static void
vigil_connection_table_schedule_forget(VigilConnectionTable *self)
{
	Connection *oldest = g_queue_peek_head(&self->closed);
	gint64 due;

	if (self->forget_id != 0 || oldest == NULL)
		return;
	due = oldest->closed_at + (gint64)self->closed_seconds * G_USEC_PER_SEC -
	      g_get_monotonic_time();
	self->forget_id = g_timeout_add_seconds(
	    (guint)CLAMP((due + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1, G_MAXUINT),
	    vigil_connection_table_forget_cb,
	    self);
}

static void
vigil_connection_table_remove(VigilConnectionTable *self, Connection *connection)
{
	vigil_connection_table_close(self, connection, g_get_real_time());
	g_queue_unlink(&self->closed, &connection->link);
	if (g_hash_table_lookup(self->by_tuple, &connection->public.orig) == connection)
		g_hash_table_remove(self->by_tuple, &connection->public.orig);
	connection->in_table = FALSE;
	g_hash_table_remove(self->by_id, GUINT_TO_POINTER(connection->public.id));
}

static void
vigil_connection_table_evict_one(VigilConnectionTable *self)
{
	GList *link = g_queue_peek_head_link(&self->closed);

	if (link == NULL)
		link = g_queue_peek_head_link(&self->live);
	if (link == NULL)
		return;
	vigil_connection_table_remove(self, link->data);
	self->n_evicted++;
}

static void
vigil_connection_table_fill_hostname(VigilConnectionTable *self, Connection *connection)
{
	VigilConnection *public = &connection->public;

	if (self->dns_cache == NULL || public->hostname != NULL ||
	    public->direction == VIGIL_DIRECTION_IN)
		return;
	public->hostname = vigil_dns_cache_lookup_name(self->dns_cache,
						       public->orig.family,
						       public->orig.dst,
						       public->pid);
	if (public->hostname != NULL) {
		gchar *plain = public->hostname;

		public->hostname = g_ref_string_new_intern(plain);
		g_free(plain);
	}
}

static void
vigil_connection_table_attribute(VigilConnectionTable *self,
				 Connection *connection,
				 const VigilConnectionAttribution *attribution)
{
	VigilConnection *public = &connection->public;

	vigil_connection_table_unaccount(connection);
	public->attributed = TRUE;
	public->pid = attribution->pid;
	public->uid = attribution->uid;
	public->direction = attribution->direction;
	public->verdict = attribution->verdict;
	ref_string_set(&public->exe, attribution->exe);
	ref_string_set(&public->cmdline, attribution->cmdline);
	ref_string_set(&public->app_id, attribution->app_id);
	ref_string_set(&public->unit, attribution->unit);
	ref_string_set(&public->user, attribution->user);
	ref_string_set(&public->hostname, attribution->hostname);
	ref_string_set(&public->rule_id, attribution->rule_id);
	ref_string_set(&public->iface, attribution->iface);
	vigil_connection_table_fill_hostname(self, connection);

	connection->app = vigil_connection_table_ensure_app(self, public);
	if (connection->app != NULL) {
		app_totals_ref(connection->app);
		connection->app->public.total++;
		if (!public->closed)
			connection->app->public.live++;
		vigil_connection_table_account(connection);
	}
	vigil_connection_table_mark_dirty(self, connection);
}

static void
pending_free(Pending *pending)
{
	VigilConnectionAttribution *attribution = &pending->attribution;

	ref_string_clear((gchar **)&attribution->exe);
	ref_string_clear((gchar **)&attribution->cmdline);
	ref_string_clear((gchar **)&attribution->app_id);
	ref_string_clear((gchar **)&attribution->unit);
	ref_string_clear((gchar **)&attribution->user);
	ref_string_clear((gchar **)&attribution->hostname);
	ref_string_clear((gchar **)&attribution->rule_id);
	ref_string_clear((gchar **)&attribution->iface);
	g_free(pending);
}

static void
vigil_connection_table_remove_pending(VigilConnectionTable *self, Pending *pending)
{
	g_queue_unlink(&self->pending_order, &pending->link);
	g_hash_table_remove(self->pending, &pending->tuple);
}

static void
vigil_connection_table_add_pending(VigilConnectionTable *self,
				   const VigilConntrackTuple *orig,
				   const VigilConnectionAttribution *attribution)
{
	gint64 now = g_get_monotonic_time();
	Pending *pending;

	pending = g_hash_table_lookup(self->pending, orig);
	if (pending != NULL)
		vigil_connection_table_remove_pending(self, pending);
	for (;;) {
		GList *head = g_queue_peek_head_link(&self->pending_order);

		if (head == NULL)
			break;
		pending = head->data;
		if (pending->expiry > now &&
		    g_hash_table_size(self->pending) < VIGIL_CONNECTION_TABLE_PENDING_MAX)
			break;
		vigil_connection_table_remove_pending(self, pending);
	}

	pending = g_new0(Pending, 1);
	pending->tuple = *orig;
	pending->link.data = pending;
	pending->expiry = now + VIGIL_CONNECTION_TABLE_PENDING_SECONDS * G_USEC_PER_SEC;
	pending->attribution = *attribution;
	pending->attribution.exe = ref_string_new(attribution->exe);
	pending->attribution.cmdline = ref_string_new(attribution->cmdline);
	pending->attribution.app_id = ref_string_new(attribution->app_id);
	pending->attribution.unit = ref_string_new(attribution->unit);
	pending->attribution.user = ref_string_new(attribution->user);
	pending->attribution.hostname = ref_string_new(attribution->hostname);
	pending->attribution.rule_id = ref_string_new(attribution->rule_id);
	pending->attribution.iface = ref_string_new(attribution->iface);
	g_hash_table_insert(self->pending, &pending->tuple, pending);
	g_queue_push_tail_link(&self->pending_order, &pending->link);
}

static Connection *
vigil_connection_table_add(VigilConnectionTable *self, const VigilConntrackEntry *entry)
{
	Connection *connection;
	Pending *pending;

	while (g_hash_table_size(self->by_id) >= self->max_connections)
		vigil_connection_table_evict_one(self);

	connection = g_new0(Connection, 1);
	connection->ref_count = 1;
	connection->link.data = connection;
	connection->in_table = TRUE;
	connection->public.id = entry->id;
	connection->public.orig = entry->orig;
	connection->public.reply = entry->reply;
	connection->public.uid = VIGIL_CONNECTION_UID_UNKNOWN;
	connection->public.started =
	    entry->start_ns > 0 ? (gint64)(entry->start_ns / 1000) : g_get_real_time();
	g_hash_table_insert(self->by_id, GUINT_TO_POINTER(entry->id), connection);
	g_hash_table_replace(self->by_tuple, &connection->public.orig, connection);
	g_queue_push_tail_link(&self->live, &connection->link);

	pending = g_hash_table_lookup(self->pending, &entry->orig);
	if (pending != NULL && pending->expiry > g_get_monotonic_time())
		vigil_connection_table_attribute(self, connection, &pending->attribution);
	else
		vigil_connection_table_fill_hostname(self, connection);
	if (pending != NULL)
		vigil_connection_table_remove_pending(self, pending);
	return connection;
}

/* copies what @entry says into @connection; TRUE when something a client shows changed */
static gboolean
vigil_connection_table_update(Connection *connection, const VigilConntrackEntry *entry)
{
	VigilConnection *public = &connection->public;
	gboolean changed = FALSE;

	if (entry->has_reply && !vigil_conntrack_tuple_equal(&public->reply, &entry->reply)) {
		public->reply = entry->reply;
		changed = TRUE;
	}
	if (public->status != entry->status || public->mark != entry->mark) {
		public->status = entry->status;
		public->mark = entry->mark;
		changed = TRUE;
	}
	if (entry->orig.protocol == IPPROTO_TCP && entry->tcp_state != TCP_CONNTRACK_NONE &&
	    public->tcp_state != entry->tcp_state) {
		public->tcp_state = entry->tcp_state;
		changed = TRUE;
	}
	/* counters only grow; an update without them (accounting off) keeps the last ones */
	if (entry->has_counters &&
	    (entry->bytes_orig != public->bytes_orig || entry->bytes_reply != public->bytes_reply ||
	     entry->packets_orig != public->packets_orig ||
	     entry->packets_reply != public->packets_reply)) {
		public->packets_orig = MAX(public->packets_orig, entry->packets_orig);
		public->bytes_orig = MAX(public->bytes_orig, entry->bytes_orig);
		public->packets_reply = MAX(public->packets_reply, entry->packets_reply);
		public->bytes_reply = MAX(public->bytes_reply, entry->bytes_reply);
		changed = TRUE;
	}
	return changed;
}

void
vigil_connection_table_apply_entry(VigilConnectionTable *self, const VigilConntrackEntry *entry)
{
	Connection *connection;
	gboolean changed;

	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));
	g_return_if_fail(entry != NULL);

	connection = g_hash_table_lookup(self->by_id, GUINT_TO_POINTER(entry->id));
	if (connection != NULL &&
	    !vigil_conntrack_tuple_equal(&connection->public.orig, &entry->orig)) {
		/* the kernel reused the id: the flow we knew under it is gone */
		vigil_connection_table_remove(self, connection);
		connection = NULL;
	}

	if (entry->type == VIGIL_CONNTRACK_EVENT_DESTROY) {
		if (connection == NULL)
			return;
		vigil_connection_table_update(connection, entry);
		vigil_connection_table_account(connection);
		vigil_connection_table_close(self,
					     connection,
					     entry->stop_ns > 0 ? (gint64)(entry->stop_ns / 1000)
								: g_get_real_time());
		return;
	}

	if (connection == NULL) {
		connection = vigil_connection_table_add(self, entry);
		changed = TRUE;
		vigil_connection_table_update(connection, entry);
	} else {
		changed = vigil_connection_table_update(connection, entry);
	}
	connection->generation = self->generation;
	vigil_connection_table_account(connection);
	if (connection->public.closed)
		return;
	/* TIME_WAIT and CLOSE are over for the user; conntrack keeps them a while longer */
	if (connection->public.orig.protocol == IPPROTO_TCP &&
	    (connection->public.tcp_state == TCP_CONNTRACK_TIME_WAIT ||
	     connection->public.tcp_state == TCP_CONNTRACK_CLOSE)) {
		vigil_connection_table_close(self, connection, g_get_real_time());
		return;
	}
	if (changed)
		vigil_connection_table_mark_dirty(self, connection);
}

void
vigil_connection_table_begin_resync(VigilConnectionTable *self)
{
	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));
	self->generation++;
	self->resyncing = TRUE;
}

/* closes what the dump did not show; without @complete (a failed dump) nothing is closed */
void
vigil_connection_table_end_resync(VigilConnectionTable *self, gboolean complete)
{
	GList *link;
	gint64 now = g_get_real_time();
	guint closed = 0;

	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));

	if (!self->resyncing)
		return;
	self->resyncing = FALSE;
	if (!complete)
		return;
	link = g_queue_peek_head_link(&self->live);
	while (link != NULL) {
		GList *next = link->next;
		Connection *connection = link->data;

		if (connection->generation != self->generation) {
			vigil_connection_table_close(self, connection, now);
			closed++;
		}
		link = next;
	}
	if (closed > 0)
		g_debug("resync closed %u connections that are gone", closed);
}

void
vigil_connection_table_set_attribution(VigilConnectionTable *self,
				       const VigilConntrackTuple *orig,
				       const VigilConnectionAttribution *attribution)
{
	Connection *connection;

	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));
	g_return_if_fail(orig != NULL);
	g_return_if_fail(attribution != NULL);

	/* a closed entry with this tuple is an earlier flow: the verdict is for the next one */
	connection = g_hash_table_lookup(self->by_tuple, orig);
	if (connection != NULL && !connection->public.closed) {
		vigil_connection_table_attribute(self, connection, attribution);
		return;
	}
	vigil_connection_table_add_pending(self, orig, attribution);
}

VigilConnection *
vigil_connection_table_lookup_by_id(VigilConnectionTable *self, guint32 id)
{
	Connection *connection;

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), NULL);
	connection = g_hash_table_lookup(self->by_id, GUINT_TO_POINTER(id));
	return connection != NULL ? &connection->public : NULL;
}

VigilConnection *
vigil_connection_table_lookup_by_tuple(VigilConnectionTable *self, const VigilConntrackTuple *orig)
{
	Connection *connection;

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), NULL);
	g_return_val_if_fail(orig != NULL, NULL);
	connection = g_hash_table_lookup(self->by_tuple, orig);
	return connection != NULL ? &connection->public : NULL;
}

guint
vigil_connection_table_get_size(VigilConnectionTable *self)
{
	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), 0);
	return g_hash_table_size(self->by_id);
}

guint
vigil_connection_table_get_n_live(VigilConnectionTable *self)
{
	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), 0);
	return self->live.length;
}

/* attributions of verdicts waiting for their conntrack entry */
guint
vigil_connection_table_get_n_pending(VigilConnectionTable *self)
{
	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), 0);
	return g_hash_table_size(self->pending);
}

guint64
vigil_connection_table_get_n_evicted(VigilConnectionTable *self)
{
	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), 0);
	return self->n_evicted;
}

static void
add_queue_to_array(GQueue *queue, GPtrArray *array)
{
	for (GList *link = g_queue_peek_head_link(queue); link != NULL; link = link->next) {
		Connection *connection = link->data;

		g_ptr_array_add(array, vigil_connection_ref(&connection->public));
	}
}

GPtrArray *
vigil_connection_table_get_snapshot(VigilConnectionTable *self, gboolean include_closed)
{
	GPtrArray *array;

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), NULL);

	array = g_ptr_array_new_full(self->live.length + (include_closed ? self->closed.length : 0),
				     (GDestroyNotify)vigil_connection_unref);
	add_queue_to_array(&self->live, array);
	if (include_closed)
		add_queue_to_array(&self->closed, array);
	return array;
}

/*
 * The live connections that changed and the ids of those that ended since the last call.
 * Apply @removed before @updated: the kernel may have reused an id in between.
 */
gboolean
vigil_connection_table_drain_changes(VigilConnectionTable *self,
				     GPtrArray **updated,
				     GArray **removed)
{
	GHashTableIter iter;
	gpointer key;
	gboolean any;
	g_autoptr(GPtrArray) changed = NULL;

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), FALSE);
	g_return_val_if_fail(updated != NULL, FALSE);
	g_return_val_if_fail(removed != NULL, FALSE);

	changed = g_ptr_array_new_full(g_hash_table_size(self->dirty),
				       (GDestroyNotify)vigil_connection_unref);
	g_hash_table_iter_init(&iter, self->dirty);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_ptr_array_add(changed, key);
		g_hash_table_iter_steal(&iter);
	}
	any = changed->len > 0 || self->removed->len > 0;
	*updated = g_steal_pointer(&changed);
	*removed = g_steal_pointer(&self->removed);
	self->removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	self->change_signalled = FALSE;
	return any;
}

static VigilAppTotals *
app_totals_copy(AppTotals *app, gint64 now)
{
	VigilAppTotals *copy = g_new0(VigilAppTotals, 1);

	/* rates over the time since the last sample, at least a second apart */
	if (app->sample_time == 0) {
		app->sample_time = now;
		app->sample_in = app->public.bytes_in;
		app->sample_out = app->public.bytes_out;
	} else if (now - app->sample_time >= G_USEC_PER_SEC) {
		gdouble seconds = (gdouble)(now - app->sample_time) / G_USEC_PER_SEC;

		app->public.rate_in = (gdouble)(app->public.bytes_in - app->sample_in) / seconds;
		app->public.rate_out = (gdouble)(app->public.bytes_out - app->sample_out) / seconds;
		app->sample_time = now;
		app->sample_in = app->public.bytes_in;
		app->sample_out = app->public.bytes_out;
	}
	*copy = app->public;
	copy->exe = g_strdup(app->public.exe);
	copy->app_id = g_strdup(app->public.app_id);
	copy->unit = g_strdup(app->public.unit);
	copy->user = g_strdup(app->public.user);
	return copy;
}

GPtrArray *
vigil_connection_table_get_apps(VigilConnectionTable *self)
{
	GHashTableIter iter;
	AppTotals *app;
	GPtrArray *array;
	gint64 now = g_get_monotonic_time();

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(self), NULL);

	array = g_ptr_array_new_full(g_hash_table_size(self->apps),
				     (GDestroyNotify)vigil_app_totals_free);
	g_hash_table_iter_init(&iter, self->apps);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&app))
		g_ptr_array_add(array, app_totals_copy(app, now));
	return array;
}

/**
 * vigil_connection_table_set_closed_retention:
 * @self: a #VigilConnectionTable
 * @max_closed: how many closed connections to keep at most (at least 1)
 * @seconds: how long to keep a closed connection
 *
 * Changes how much of the recent past the table keeps (the defaults are
 * VIGIL_CONNECTION_TABLE_CLOSED_MAX and VIGIL_CONNECTION_TABLE_CLOSED_SECONDS).
 */
void
vigil_connection_table_set_closed_retention(VigilConnectionTable *self,
					    guint max_closed,
					    guint seconds)
{
	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));

	self->closed_max = MAX(max_closed, 1);
	self->closed_seconds = seconds;
	while (self->closed.length > self->closed_max)
		vigil_connection_table_remove(self, g_queue_peek_head(&self->closed));
	g_clear_handle_id(&self->forget_id, g_source_remove);
	vigil_connection_table_schedule_forget(self);
}

void
vigil_connection_table_set_dns_cache(VigilConnectionTable *self, VigilDnsCache *cache)
{
	g_return_if_fail(VIGIL_IS_CONNECTION_TABLE(self));
	g_return_if_fail(cache == NULL || VIGIL_IS_DNS_CACHE(cache));
	g_set_object(&self->dns_cache, cache);
}

static void
vigil_connection_table_dispose(GObject *object)
{
	VigilConnectionTable *self = VIGIL_CONNECTION_TABLE(object);

	g_clear_object(&self->dns_cache);
	g_clear_handle_id(&self->forget_id, g_source_remove);
	G_OBJECT_CLASS(vigil_connection_table_parent_class)->dispose(object);
}

static void
vigil_connection_table_finalize(GObject *object)
{
	VigilConnectionTable *self = VIGIL_CONNECTION_TABLE(object);

	g_hash_table_unref(self->dirty);
	g_hash_table_unref(self->by_tuple);
	/* the queues only link what by_id owns */
	g_queue_init(&self->live);
	g_queue_init(&self->closed);
	g_hash_table_unref(self->by_id);
	g_queue_init(&self->pending_order);
	g_hash_table_unref(self->pending);
	g_hash_table_unref(self->apps);
	g_array_unref(self->removed);
	G_OBJECT_CLASS(vigil_connection_table_parent_class)->finalize(object);
}

static void
vigil_connection_table_class_init(VigilConnectionTableClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_connection_table_dispose;
	object_class->finalize = vigil_connection_table_finalize;

	/**
	 * VigilConnectionTable::changed:
	 *
	 * The first change since the last vigil_connection_table_drain_changes(): arm a
	 * timer and drain the batch when it fires. Not emitted again until drained.
	 */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
}

static void
vigil_connection_table_init(VigilConnectionTable *self)
{
	self->by_id = g_hash_table_new_full(g_direct_hash,
					    g_direct_equal,
					    NULL,
					    (GDestroyNotify)vigil_connection_unref);
	self->by_tuple = g_hash_table_new(tuple_hash_cb, tuple_equal_cb);
	self->apps =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)app_totals_unref);
	self->pending = g_hash_table_new_full(tuple_hash_cb,
					      tuple_equal_cb,
					      NULL,
					      (GDestroyNotify)pending_free);
	self->dirty = g_hash_table_new_full(g_direct_hash,
					    g_direct_equal,
					    (GDestroyNotify)vigil_connection_unref,
					    NULL);
	self->removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_queue_init(&self->live);
	g_queue_init(&self->closed);
	g_queue_init(&self->pending_order);
	self->max_connections = VIGIL_CONNECTION_TABLE_MAX;
	self->closed_max = VIGIL_CONNECTION_TABLE_CLOSED_MAX;
	self->closed_seconds = VIGIL_CONNECTION_TABLE_CLOSED_SECONDS;
}

VigilConnectionTable *
vigil_connection_table_new(guint max_connections)
{
	VigilConnectionTable *self = g_object_new(VIGIL_TYPE_CONNECTION_TABLE, NULL);

	if (max_connections > 0)
		self->max_connections = max_connections;
	return self;
}
