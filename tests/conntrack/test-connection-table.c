/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <string.h>

#include "vigil-connection-table.h"

typedef struct {
	VigilConnectionTable *table;
	guint changed;
} Fixture;

static void
fixture_changed_cb(VigilConnectionTable *table, gpointer user_data)
{
	Fixture *fixture = user_data;

	fixture->changed++;
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	fixture->table = vigil_connection_table_new(GPOINTER_TO_UINT(data));
	g_signal_connect(fixture->table, "changed", G_CALLBACK(fixture_changed_cb), fixture);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	g_assert_finalize_object(fixture->table);
}

#define fixtured_test(path, max, func)                                                             \
	g_test_add(path, Fixture, GUINT_TO_POINTER(max), fixture_setup, func, fixture_teardown)

/* 198.18.0.1:@sport -> 198.18.0.2:@dport */
static void
entry_init(VigilConntrackEntry *entry,
	   VigilConntrackEventType type,
	   guint32 id,
	   guint8 protocol,
	   guint16 sport,
	   guint16 dport)
{
	memset(entry, 0, sizeof(*entry));
	entry->type = type;
	entry->id = id;
	entry->orig.family = entry->reply.family = 4;
	entry->orig.protocol = entry->reply.protocol = protocol;
	entry->orig.src[0] = entry->orig.dst[0] = entry->reply.src[0] = entry->reply.dst[0] = 198;
	entry->orig.src[1] = entry->orig.dst[1] = entry->reply.src[1] = entry->reply.dst[1] = 18;
	entry->orig.src[3] = entry->reply.dst[3] = 1;
	entry->orig.dst[3] = entry->reply.src[3] = 2;
	entry->orig.sport = entry->reply.dport = sport;
	entry->orig.dport = entry->reply.sport = dport;
	entry->has_reply = TRUE;
	entry->status = IPS_CONFIRMED;
	entry->tcp_state = protocol == IPPROTO_TCP ? TCP_CONNTRACK_SYN_SENT : TCP_CONNTRACK_NONE;
	entry->has_counters = TRUE;
}

static void
entry_set_counters(VigilConntrackEntry *entry, guint64 bytes_orig, guint64 bytes_reply)
{
	entry->has_counters = TRUE;
	entry->bytes_orig = bytes_orig;
	entry->bytes_reply = bytes_reply;
	entry->packets_orig = bytes_orig / 100 + 1;
	entry->packets_reply = bytes_reply / 100 + 1;
}

static void
drain(Fixture *fixture, guint expect_updated, guint expect_removed)
{
	g_autoptr(GPtrArray) updated = NULL;
	g_autoptr(GArray) removed = NULL;
	gboolean any;

	any = vigil_connection_table_drain_changes(fixture->table, &updated, &removed);
	g_assert_cmpuint(updated->len, ==, expect_updated);
	g_assert_cmpuint(removed->len, ==, expect_removed);
	g_assert_true(any == (expect_updated + expect_removed > 0));
}

static void
test_table_lifecycle(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnection *connection;
	g_autoptr(GPtrArray) updated = NULL;
	g_autoptr(GArray) removed = NULL;

	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1, IPPROTO_TCP, 40000, 443);
	entry.start_ns = 1700000000ull * 1000000000ull;
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 1);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 1);
	g_assert_cmpuint(fixture->changed, ==, 1);
	connection = vigil_connection_table_lookup_by_id(fixture->table, 1);
	g_assert_nonnull(connection);
	g_assert_cmpint(connection->started, ==, 1700000000ll * G_USEC_PER_SEC);
	g_assert_cmpstr(vigil_connection_get_state(connection), ==, "syn-sent");
	g_assert_false(connection->attributed);
	g_assert_cmpuint(connection->uid, ==, VIGIL_CONNECTION_UID_UNKNOWN);
	g_assert_true(vigil_connection_table_lookup_by_tuple(fixture->table, &entry.orig) ==
		      connection);

	/* established, with counters; the change set still holds one entry */
	entry.type = VIGIL_CONNTRACK_EVENT_UPDATE;
	entry.tcp_state = TCP_CONNTRACK_ESTABLISHED;
	entry.status |= IPS_SEEN_REPLY | IPS_ASSURED;
	entry_set_counters(&entry, 1000, 5000);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_cmpuint(fixture->changed, ==, 1);
	g_assert_cmpstr(vigil_connection_get_state(connection), ==, "established");
	g_assert_cmpuint(connection->bytes_orig, ==, 1000);
	g_assert_cmpuint(connection->bytes_reply, ==, 5000);
	g_assert_true(vigil_connection_table_drain_changes(fixture->table, &updated, &removed));
	g_assert_cmpuint(updated->len, ==, 1);
	g_assert_true(g_ptr_array_index(updated, 0) == connection);
	g_assert_cmpuint(removed->len, ==, 0);

	/* nothing changed, nothing to send; a change signals once more */
	vigil_connection_table_apply_entry(fixture->table, &entry);
	drain(fixture, 0, 0);
	entry_set_counters(&entry, 2000, 9000);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_cmpuint(fixture->changed, ==, 2);
	drain(fixture, 1, 0);

	/* the destroy event carries the final counters */
	entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
	entry_set_counters(&entry, 2100, 9100);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_true(connection->closed);
	g_assert_cmpuint(connection->ended, >, 0);
	g_assert_cmpuint(connection->bytes_orig, ==, 2100);
	g_assert_cmpstr(vigil_connection_get_state(connection), ==, "closed");
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 0);
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 1);
	g_clear_pointer(&updated, g_ptr_array_unref);
	g_clear_pointer(&removed, g_array_unref);
	g_assert_true(vigil_connection_table_drain_changes(fixture->table, &updated, &removed));
	g_assert_cmpuint(updated->len, ==, 0);
	g_assert_cmpuint(removed->len, ==, 1);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, 1);

	/* a destroy for something never seen changes nothing */
	entry.id = 99;
	vigil_connection_table_apply_entry(fixture->table, &entry);
	drain(fixture, 0, 0);
}

/* TIME_WAIT is over for the user: the connection closes before conntrack forgets it */
static void
test_table_time_wait(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnection *connection;

	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 5, IPPROTO_TCP, 40001, 80);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	connection = vigil_connection_table_lookup_by_id(fixture->table, 5);
	entry.type = VIGIL_CONNTRACK_EVENT_UPDATE;
	entry.tcp_state = TCP_CONNTRACK_TIME_WAIT;
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_true(connection->closed);
	drain(fixture, 0, 1);
	/* the later destroy only finishes the counters */
	entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
	entry_set_counters(&entry, 10, 20);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_cmpuint(connection->bytes_reply, ==, 20);
	drain(fixture, 0, 0);
}

/* the kernel may reuse an id for another flow */
static void
test_table_id_reuse(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnection *connection;

	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 7, IPPROTO_UDP, 5000, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	drain(fixture, 1, 0);
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 7, IPPROTO_UDP, 5001, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	connection = vigil_connection_table_lookup_by_id(fixture->table, 7);
	g_assert_cmpuint(connection->orig.sport, ==, 5001);
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 1);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 1);
	/* apply removed before updated: the id is in both */
	drain(fixture, 1, 1);
}

static void
attribution_init(VigilConnectionAttribution *attribution, const gchar *exe, guint32 uid)
{
	VigilConnectionAttribution init = VIGIL_CONNECTION_ATTRIBUTION_INIT;

	*attribution = init;
	attribution->pid = 1234;
	attribution->uid = uid;
	attribution->exe = exe;
	attribution->user = uid == 0 ? "root" : "ana";
	attribution->direction = VIGIL_DIRECTION_OUT;
	attribution->verdict = VIGIL_ACTION_ALLOW;
	attribution->rule_id = "r-1";
}

static const VigilAppTotals *
find_app(GPtrArray *apps, const gchar *exe, guint32 uid)
{
	for (guint i = 0; i < apps->len; i++) {
		const VigilAppTotals *app = g_ptr_array_index(apps, i);

		if (g_strcmp0(app->exe, exe) == 0 && app->uid == uid)
			return app;
	}
	return NULL;
}

/* the daemon attributes the queued packet before conntrack confirms the entry */
static void
test_table_attribution_join(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnectionAttribution attribution;
	VigilConnection *connection;

	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 11, IPPROTO_TCP, 40002, 443);
	attribution_init(&attribution, "/usr/bin/curl", 1000);
	attribution.hostname = "www.example.org";
	attribution.cmdline = "curl https://www.example.org";
	vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
	g_assert_null(vigil_connection_table_lookup_by_tuple(fixture->table, &entry.orig));
	vigil_connection_table_apply_entry(fixture->table, &entry);
	connection = vigil_connection_table_lookup_by_tuple(fixture->table, &entry.orig);
	g_assert_nonnull(connection);
	g_assert_true(connection->attributed);
	g_assert_cmpint(connection->pid, ==, 1234);
	g_assert_cmpuint(connection->uid, ==, 1000);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/curl");
	g_assert_cmpstr(connection->hostname, ==, "www.example.org");
	g_assert_cmpstr(connection->cmdline, ==, "curl https://www.example.org");
	g_assert_cmpint(connection->verdict, ==, VIGIL_ACTION_ALLOW);

	/* after the entry exists, it applies at once */
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 12, IPPROTO_UDP, 40003, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	attribution_init(&attribution, "/usr/bin/dig", 1000);
	vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
	connection = vigil_connection_table_lookup_by_id(fixture->table, 12);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/dig");

	/* a closed flow with the same tuple is an earlier one: the next entry gets it */
	entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
	vigil_connection_table_apply_entry(fixture->table, &entry);
	attribution_init(&attribution, "/usr/bin/host", 1000);
	vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/dig");
	entry.type = VIGIL_CONNTRACK_EVENT_NEW;
	entry.id = 13;
	vigil_connection_table_apply_entry(fixture->table, &entry);
	connection = vigil_connection_table_lookup_by_tuple(fixture->table, &entry.orig);
	g_assert_cmpuint(connection->id, ==, 13);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/host");
}

/* pending attributions are bounded */
static void
test_table_pending_bound(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnectionAttribution attribution;

	attribution_init(&attribution, "/usr/bin/flood", 1000);
	for (guint i = 0; i < 3 * VIGIL_CONNECTION_TABLE_PENDING_MAX; i++) {
		entry_init(&entry,
			   VIGIL_CONNTRACK_EVENT_NEW,
			   i + 1,
			   IPPROTO_UDP,
			   1024 + i % 60000,
			   53);
		entry.orig.src[2] = (guint8)(i / 60000);
		vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
	}
	/* the newest ones are still there, the oldest are gone */
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_true(vigil_connection_table_lookup_by_id(fixture->table, entry.id)->attributed);
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1, IPPROTO_UDP, 1024, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_false(vigil_connection_table_lookup_by_id(fixture->table, 1)->attributed);
}

static void
test_table_app_totals(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry a;
	VigilConntrackEntry b;
	VigilConntrackEntry c;
	VigilConntrackEntry d;
	VigilConnectionAttribution attribution;
	g_autoptr(GPtrArray) apps = NULL;
	const VigilAppTotals *curl;
	const VigilAppTotals *curl_root;
	const VigilAppTotals *server;
	VigilConnection *connection;
	guint64 bytes_in = 0;
	guint64 bytes_out = 0;

	/* two curl connections of uid 1000, one of root, one inbound to a server */
	entry_init(&a, VIGIL_CONNTRACK_EVENT_NEW, 21, IPPROTO_TCP, 40010, 443);
	entry_init(&b, VIGIL_CONNTRACK_EVENT_NEW, 22, IPPROTO_TCP, 40011, 443);
	entry_init(&c, VIGIL_CONNTRACK_EVENT_NEW, 23, IPPROTO_TCP, 40012, 443);
	entry_init(&d, VIGIL_CONNTRACK_EVENT_NEW, 24, IPPROTO_TCP, 50000, 22);
	attribution_init(&attribution, "/usr/bin/curl", 1000);
	vigil_connection_table_set_attribution(fixture->table, &a.orig, &attribution);
	vigil_connection_table_set_attribution(fixture->table, &b.orig, &attribution);
	attribution_init(&attribution, "/usr/bin/curl", 0);
	vigil_connection_table_set_attribution(fixture->table, &c.orig, &attribution);
	vigil_connection_table_apply_entry(fixture->table, &a);
	vigil_connection_table_apply_entry(fixture->table, &b);
	vigil_connection_table_apply_entry(fixture->table, &c);
	vigil_connection_table_apply_entry(fixture->table, &d);

	a.type = b.type = c.type = d.type = VIGIL_CONNTRACK_EVENT_UPDATE;
	entry_set_counters(&a, 100, 1000);
	entry_set_counters(&b, 200, 2000);
	entry_set_counters(&c, 300, 3000);
	entry_set_counters(&d, 4000, 400);
	vigil_connection_table_apply_entry(fixture->table, &a);
	vigil_connection_table_apply_entry(fixture->table, &b);
	vigil_connection_table_apply_entry(fixture->table, &c);
	vigil_connection_table_apply_entry(fixture->table, &d);
	/* the inbound one is attributed after it had traffic: its bytes move to the app */
	attribution_init(&attribution, "/usr/sbin/sshd", 0);
	attribution.direction = VIGIL_DIRECTION_IN;
	vigil_connection_table_set_attribution(fixture->table, &d.orig, &attribution);

	entry_set_counters(&a, 150, 1500);
	vigil_connection_table_apply_entry(fixture->table, &a);
	b.type = VIGIL_CONNTRACK_EVENT_DESTROY;
	entry_set_counters(&b, 250, 2500);
	vigil_connection_table_apply_entry(fixture->table, &b);

	apps = vigil_connection_table_get_apps(fixture->table);
	g_assert_cmpuint(apps->len, ==, 3);
	curl = find_app(apps, "/usr/bin/curl", 1000);
	curl_root = find_app(apps, "/usr/bin/curl", 0);
	server = find_app(apps, "/usr/sbin/sshd", 0);
	g_assert_nonnull(curl);
	g_assert_nonnull(curl_root);
	g_assert_nonnull(server);
	g_assert_cmpuint(curl->bytes_out, ==, 150 + 250);
	g_assert_cmpuint(curl->bytes_in, ==, 1500 + 2500);
	g_assert_cmpuint(curl->live, ==, 1);
	g_assert_cmpuint(curl->total, ==, 2);
	g_assert_cmpstr(curl->user, ==, "ana");
	g_assert_cmpuint(curl_root->bytes_out, ==, 300);
	g_assert_cmpuint(curl_root->live, ==, 1);
	/* inbound: the original direction is what came in */
	g_assert_cmpuint(server->bytes_in, ==, 4000);
	g_assert_cmpuint(server->bytes_out, ==, 400);
	g_assert_cmpint(server->last_seen, >, 0);

	/* the totals add up to the connections' counters */
	for (guint i = 0; i < apps->len; i++) {
		const VigilAppTotals *app = g_ptr_array_index(apps, i);

		bytes_in += app->bytes_in;
		bytes_out += app->bytes_out;
	}
	g_assert_cmpuint(bytes_in, ==, 1500 + 2500 + 3000 + 4000);
	g_assert_cmpuint(bytes_out, ==, 150 + 250 + 300 + 400);

	/* re-attribution moves a connection's bytes to the other app */
	attribution_init(&attribution, "/usr/bin/wget", 1000);
	vigil_connection_table_set_attribution(fixture->table, &a.orig, &attribution);
	g_clear_pointer(&apps, g_ptr_array_unref);
	apps = vigil_connection_table_get_apps(fixture->table);
	curl = find_app(apps, "/usr/bin/curl", 1000);
	g_assert_cmpuint(curl->bytes_in, ==, 2500);
	g_assert_cmpuint(curl->live, ==, 0);
	g_assert_cmpuint(curl->total, ==, 1);
	g_assert_cmpuint(find_app(apps, "/usr/bin/wget", 1000)->bytes_in, ==, 1500);

	/* the D-Bus shapes */
	connection = vigil_connection_table_lookup_by_id(fixture->table, 24);
	{
		g_autoptr(GVariant) variant = vigil_connection_to_variant(connection);
		g_autoptr(GVariant) app_variant =
		    vigil_app_totals_to_variant(find_app(apps, "/usr/sbin/sshd", 0));
		g_autoptr(GVariantDict) dict = g_variant_dict_new(variant);
		g_autoptr(GVariantDict) app_dict = g_variant_dict_new(app_variant);
		guint64 value = 0;
		const gchar *str = NULL;
		guint16 port = 0;

		g_assert_true(g_variant_dict_lookup(dict, "id", "t", &value));
		g_assert_cmpuint(value, ==, 24);
		g_assert_true(g_variant_dict_lookup(dict, "bytes-in", "t", &value));
		g_assert_cmpuint(value, ==, 4000);
		g_assert_true(g_variant_dict_lookup(dict, "proto", "&s", &str));
		g_assert_cmpstr(str, ==, "tcp");
		g_assert_true(g_variant_dict_lookup(dict, "dst", "&s", &str));
		g_assert_cmpstr(str, ==, "198.18.0.2");
		g_assert_true(g_variant_dict_lookup(dict, "dport", "q", &port));
		g_assert_cmpuint(port, ==, 22);
		g_assert_true(g_variant_dict_lookup(dict, "direction", "&s", &str));
		g_assert_cmpstr(str, ==, "in");
		g_assert_true(g_variant_dict_lookup(dict, "state", "&s", &str));
		g_assert_cmpstr(str, ==, "syn-sent");
		g_assert_false(g_variant_dict_contains(dict, "host"));
		g_assert_false(g_variant_dict_contains(dict, "app-id"));
		g_assert_true(g_variant_dict_lookup(app_dict, "bytes-in", "t", &value));
		g_assert_cmpuint(value, ==, 4000);
		g_assert_true(g_variant_dict_contains(app_dict, "rate-in"));
		g_assert_true(g_variant_dict_contains(app_dict, "last-seen"));
	}
}

/* mark and sweep: what a complete dump does not show is gone */
static void
test_table_resync(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;

	for (guint i = 0; i < 10; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 100 + i, IPPROTO_UDP, 6000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	drain(fixture, 10, 0);

	/* a failed dump closes nothing */
	vigil_connection_table_begin_resync(fixture->table);
	vigil_connection_table_end_resync(fixture->table, FALSE);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 10);

	/* the dump shows the even ones, an event meanwhile shows a new one */
	vigil_connection_table_begin_resync(fixture->table);
	for (guint i = 0; i < 10; i += 2) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_DUMP, 100 + i, IPPROTO_UDP, 6000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 200, IPPROTO_UDP, 7000, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	vigil_connection_table_end_resync(fixture->table, TRUE);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 6);
	g_assert_true(vigil_connection_table_lookup_by_id(fixture->table, 101)->closed);
	g_assert_false(vigil_connection_table_lookup_by_id(fixture->table, 102)->closed);
	g_assert_false(vigil_connection_table_lookup_by_id(fixture->table, 200)->closed);
	drain(fixture, 1, 5);
}

/* closed connections are evicted before live ones, and the bound always holds */
static void
test_table_bound(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	g_autoptr(GPtrArray) snapshot = NULL;

	/* 50 closed, then 80 live: the closed ones make room first */
	for (guint i = 0; i < 50; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1000 + i, IPPROTO_UDP, 1000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
		entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	for (guint i = 0; i < 80; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 2000 + i, IPPROTO_UDP, 2000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 100);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 80);
	g_assert_cmpuint(vigil_connection_table_get_n_evicted(fixture->table), ==, 30);
	g_assert_null(vigil_connection_table_lookup_by_id(fixture->table, 1000));
	g_assert_nonnull(vigil_connection_table_lookup_by_id(fixture->table, 1049));

	/* then the oldest live ones go */
	for (guint i = 0; i < 1000; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 3000 + i, IPPROTO_UDP, 3000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
		g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), <=, 100);
	}
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 100);
	g_assert_null(vigil_connection_table_lookup_by_id(fixture->table, 2079));
	g_assert_nonnull(vigil_connection_table_lookup_by_id(fixture->table, 3999));
	snapshot = vigil_connection_table_get_snapshot(fixture->table, TRUE);
	g_assert_cmpuint(snapshot->len, ==, 100);
	g_assert_cmpuint(((VigilConnection *)g_ptr_array_index(snapshot, 99))->id, ==, 3999);
	/* nobody drained 1030 removals: the newest are kept, at most twice the table size */
	{
		g_autoptr(GPtrArray) updated = NULL;
		g_autoptr(GArray) removed = NULL;

		vigil_connection_table_drain_changes(fixture->table, &updated, &removed);
		g_assert_cmpuint(updated->len, ==, 100);
		g_assert_cmpuint(removed->len, >=, 100);
		g_assert_cmpuint(removed->len, <=, 200);
		g_assert_cmpuint(g_array_index(removed, guint64, removed->len - 1), ==, 3899);
	}
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* closed connections: only the newest few, and only for a while, then the timer is gone */
static void
test_table_closed_retention(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);

	vigil_connection_table_set_closed_retention(fixture->table, 3, 1);
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1, IPPROTO_UDP, 999, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	for (guint i = 0; i < 10; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 100 + i, IPPROTO_UDP, 1000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
		entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
		vigil_connection_table_apply_entry(fixture->table, &entry);
		g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), <=, 4);
	}
	/* the newest three closed and the live one; forgetting is not evicting */
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 4);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 1);
	g_assert_cmpuint(vigil_connection_table_get_n_evicted(fixture->table), ==, 0);
	g_assert_null(vigil_connection_table_lookup_by_id(fixture->table, 106));
	g_assert_nonnull(vigil_connection_table_lookup_by_id(fixture->table, 107));
	g_assert_nonnull(vigil_connection_table_lookup_by_id(fixture->table, 109));

	/* a second later (g_timeout_add_seconds may round up to the next second) they are
	 * gone, the live one stays, and nothing is scheduled any more */
	g_timeout_add(2500, quit_cb, loop);
	g_main_loop_run(loop);
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, 1);
	g_assert_nonnull(vigil_connection_table_lookup_by_id(fixture->table, 1));
	g_assert_false(g_main_context_pending(NULL));
}

/* a reference outlives eviction */
static void
test_table_snapshot_ref(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	g_autoptr(GPtrArray) snapshot = NULL;

	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1, IPPROTO_UDP, 1000, 53);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	snapshot = vigil_connection_table_get_snapshot(fixture->table, FALSE);
	for (guint i = 0; i < 20; i++) {
		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 10 + i, IPPROTO_UDP, 2000 + i, 53);
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	g_assert_null(vigil_connection_table_lookup_by_id(fixture->table, 1));
	g_assert_cmpuint(((VigilConnection *)g_ptr_array_index(snapshot, 0))->id, ==, 1);
	g_assert_true(((VigilConnection *)g_ptr_array_index(snapshot, 0))->closed);
}

/* connections without a hostname from the daemon get the cache's name for their address */
static void
test_table_dns(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(0);
	VigilConntrackEntry entry;
	VigilConnectionAttribution attribution;

	vigil_connection_table_set_dns_cache(fixture->table, cache);
	entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, 1, IPPROTO_TCP, 40000, 443);
	vigil_dns_cache_add_name(cache, 4, entry.orig.dst, "a.example.org", NULL, 300, 0);
	vigil_dns_cache_add_name(cache, 4, entry.orig.dst, "b.example.org", NULL, 300, 1234);
	vigil_dns_cache_add_name(cache, 4, entry.orig.dst, "c.example.org", NULL, 300, 0);
	vigil_connection_table_apply_entry(fixture->table, &entry);
	g_assert_cmpstr(vigil_connection_table_lookup_by_id(fixture->table, 1)->hostname,
			==,
			"c.example.org");
	/* with the pid known, the process's own lookup */
	attribution_init(&attribution, "/usr/bin/curl", 1000);
	vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
	g_assert_cmpstr(vigil_connection_table_lookup_by_id(fixture->table, 1)->hostname,
			==,
			"b.example.org");
	vigil_connection_table_set_dns_cache(fixture->table, NULL);
}

/* many apps: only those without live connections are evicted */
static void
test_table_app_bound(Fixture *fixture, gconstpointer data)
{
	VigilConntrackEntry entry;
	VigilConnectionAttribution attribution;
	g_autoptr(GPtrArray) apps = NULL;

	for (guint i = 0; i < VIGIL_CONNECTION_TABLE_APPS_MAX + 500; i++) {
		g_autofree gchar *exe = g_strdup_printf("/usr/bin/app%u", i);

		entry_init(&entry, VIGIL_CONNTRACK_EVENT_NEW, i + 1, IPPROTO_UDP, 1024 + i, 53);
		attribution_init(&attribution, exe, 1000);
		vigil_connection_table_apply_entry(fixture->table, &entry);
		vigil_connection_table_set_attribution(fixture->table, &entry.orig, &attribution);
		entry.type = VIGIL_CONNTRACK_EVENT_DESTROY;
		vigil_connection_table_apply_entry(fixture->table, &entry);
	}
	apps = vigil_connection_table_get_apps(fixture->table);
	g_assert_cmpuint(apps->len, ==, VIGIL_CONNECTION_TABLE_APPS_MAX);
}

static void
test_tuple_from_packet(void)
{
	VigilPacket packet = {0};
	VigilConntrackTuple tuple;
	g_autofree gchar *str = NULL;

	packet.family = 6;
	packet.protocol = IPPROTO_UDP;
	packet.src[0] = 0xfd;
	packet.src[15] = 1;
	packet.dst[0] = 0xfd;
	packet.dst[15] = 2;
	packet.sport = 5353;
	packet.dport = 53;
	packet.icmp_id = 77;
	vigil_conntrack_tuple_init_from_packet(&tuple, &packet);
	g_assert_cmpuint(tuple.sport, ==, 5353);
	g_assert_cmpuint(tuple.icmp_id, ==, 0);
	str = vigil_conntrack_tuple_to_string(&tuple);
	g_assert_cmpstr(str, ==, "udp [fd00::1]:5353 -> [fd00::2]:53");

	packet.family = 4;
	packet.protocol = IPPROTO_ICMP;
	memset(packet.src, 0, 16);
	memset(packet.dst, 0, 16);
	packet.src[0] = 198;
	packet.dst[0] = 198;
	packet.icmp_type = 8;
	packet.icmp_id = 77;
	vigil_conntrack_tuple_init_from_packet(&tuple, &packet);
	g_assert_cmpuint(tuple.sport, ==, 0);
	g_assert_cmpuint(tuple.icmp_type, ==, 8);
	g_assert_cmpuint(tuple.icmp_id, ==, 77);
	g_clear_pointer(&str, g_free);
	str = vigil_conntrack_tuple_to_string(&tuple);
	g_assert_cmpstr(str, ==, "icmp 198.0.0.0 -> 198.0.0.0 type 8 code 0 id 77");
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	fixtured_test("/vigil/daemon/conntrack/table/lifecycle", 0, test_table_lifecycle);
	fixtured_test("/vigil/daemon/conntrack/table/time-wait", 0, test_table_time_wait);
	fixtured_test("/vigil/daemon/conntrack/table/id-reuse", 0, test_table_id_reuse);
	fixtured_test("/vigil/daemon/conntrack/table/attribution-join",
		      0,
		      test_table_attribution_join);
	fixtured_test("/vigil/daemon/conntrack/table/pending-bound", 0, test_table_pending_bound);
	fixtured_test("/vigil/daemon/conntrack/table/app-totals", 0, test_table_app_totals);
	fixtured_test("/vigil/daemon/conntrack/table/resync", 0, test_table_resync);
	fixtured_test("/vigil/daemon/conntrack/table/closed-retention",
		      0,
		      test_table_closed_retention);
	fixtured_test("/vigil/daemon/conntrack/table/bound", 100, test_table_bound);
	fixtured_test("/vigil/daemon/conntrack/table/snapshot-ref", 10, test_table_snapshot_ref);
	fixtured_test("/vigil/daemon/conntrack/table/dns", 0, test_table_dns);
	fixtured_test("/vigil/daemon/conntrack/table/app-bound", 0, test_table_app_bound);
	g_test_add_func("/vigil/daemon/conntrack/tuple-from-packet", test_tuple_from_packet);
	return g_test_run();
}
