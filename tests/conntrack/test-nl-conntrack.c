/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/resource.h>

#include "vigil-nl-conntrack.h"
#include "vigil-test-netns.h"

/*
 * ctnetlink on a real kernel: this process lives in a fresh network namespace with
 * conntrack switched on by an nft rule, and talks to an echo server in a second namespace
 * over veth. Every test starts from an empty conntrack table.
 */

#define PYTHON	  "/usr/bin/python3"
#define ECHO_PORT 7001
#define WAIT_MS	  10000

static VigilTestNet *net = NULL;

typedef struct {
	guint receive_buffer;
	guint max_connections;
} Params;

typedef struct {
	VigilConnectionTable *table;
	VigilNlConntrack *listener;
	guint dumps;
} Fixture;

static void
flush_conntrack(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	guint8 buf[8192];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	gssize n;

	g_assert_nonnull(nl);
	g_assert_cmpint(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), ==, 0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	g_assert_cmpint(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), >, 0);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(mnl_cb_run(buf, n, 1, mnl_socket_get_portid(nl), NULL, NULL), >=, 0);
	mnl_socket_close(nl);
}

static void
fixture_dump_finished_cb(VigilNlConntrack *listener, gboolean complete, gpointer user_data)
{
	Fixture *fixture = user_data;

	g_assert_true(complete);
	fixture->dumps++;
}

static gboolean
fixture_dumped_cb(gpointer user_data)
{
	Fixture *fixture = user_data;

	return fixture->dumps > 0 && !vigil_nl_conntrack_is_dumping(fixture->listener);
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	const Params *params = data;
	g_autoptr(GError) error = NULL;

	flush_conntrack();
	fixture->table = vigil_connection_table_new(params != NULL ? params->max_connections : 0);
	fixture->listener = vigil_nl_conntrack_new(fixture->table);
	if (params != NULL && params->receive_buffer > 0)
		vigil_nl_conntrack_set_receive_buffer(fixture->listener, params->receive_buffer);
	g_signal_connect(fixture->listener,
			 "dump-finished",
			 G_CALLBACK(fixture_dump_finished_cb),
			 fixture);
	g_assert_true(vigil_nl_conntrack_start(fixture->listener, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_nl_conntrack_has_accounting(fixture->listener));
	g_assert_true(vigil_test_wait_until(fixture_dumped_cb, fixture, WAIT_MS));
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	g_test_message("overruns %" G_GUINT64_FORMAT ", malformed %" G_GUINT64_FORMAT,
		       vigil_nl_conntrack_get_n_overruns(fixture->listener),
		       vigil_nl_conntrack_get_n_malformed(fixture->listener));
	g_assert_cmpuint(vigil_nl_conntrack_get_n_malformed(fixture->listener), ==, 0);
	g_assert_finalize_object(fixture->listener);
	g_assert_finalize_object(fixture->table);
}

#define fixtured_test(path, params, func)                                                          \
	g_test_add(path, Fixture, params, fixture_setup, func, fixture_teardown)

/* a dump that starts now and its end: counters only come with dumps and state changes */
static void
refresh(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;

	fixture->dumps = 0;
	g_assert_true(vigil_nl_conntrack_dump(fixture->listener, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_test_wait_until(fixture_dumped_cb, fixture, WAIT_MS));
}

/* a socket bound to the client address, and the orig tuple its flow to the echo server has */
static GSocket *
client_socket(guint family, gboolean tcp, guint16 port, VigilConntrackTuple *tuple)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) local =
	    g_inet_address_new_from_string(family == 4 ? VIGIL_TEST_CLIENT4 : VIGIL_TEST_CLIENT6);
	g_autoptr(GInetAddress) remote =
	    g_inet_address_new_from_string(family == 4 ? VIGIL_TEST_SERVER4 : VIGIL_TEST_SERVER6);
	g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new(local, port);
	g_autoptr(GSocketAddress) bound = NULL;

	socket = g_socket_new(family == 4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6,
			      tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
			      G_SOCKET_PROTOCOL_DEFAULT,
			      &error);
	g_assert_no_error(error);
	g_socket_set_timeout(socket, 10);
	g_assert_true(g_socket_bind(socket, bind_address, FALSE, &error));
	g_assert_no_error(error);
	bound = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);

	memset(tuple, 0, sizeof(*tuple));
	tuple->family = (guint8)family;
	tuple->protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	memcpy(tuple->src, g_inet_address_to_bytes(local), family == 4 ? 4 : 16);
	memcpy(tuple->dst, g_inet_address_to_bytes(remote), family == 4 ? 4 : 16);
	tuple->sport = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	tuple->dport = ECHO_PORT;
	return g_steal_pointer(&socket);
}

static void
client_connect(GSocket *socket, guint family)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) remote =
	    g_inet_address_new_from_string(family == 4 ? VIGIL_TEST_SERVER4 : VIGIL_TEST_SERVER6);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(remote, ECHO_PORT);

	g_assert_true(g_socket_connect(socket, address, NULL, &error));
	g_assert_no_error(error);
}

/* sends @len bytes and reads the echo back */
static void
client_echo(GSocket *socket, gboolean tcp, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = g_malloc(len);
	g_autofree gchar *back = g_malloc(len);
	gsize chunk = tcp ? len : 1000;
	gsize received = 0;

	memset(data, 'v', len);
	for (gsize sent = 0; sent < len; sent += chunk) {
		gssize n = g_socket_send(socket, data + sent, MIN(chunk, len - sent), NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpint(n, ==, (gssize)MIN(chunk, len - sent));
		/* UDP: one datagram back per datagram out, so none is lost to a full buffer */
		if (!tcp) {
			n = g_socket_receive(socket, back, len, NULL, &error);
			g_assert_no_error(error);
			received += (gsize)n;
		}
	}
	while (tcp && received < len) {
		gssize n = g_socket_receive(socket, back, len - received, NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpint(n, >, 0);
		received += (gsize)n;
	}
	g_assert_cmpuint(received, ==, len);
}

typedef struct {
	Fixture *fixture;
	const VigilConntrackTuple *tuple;
	gboolean closed;
} Lookup;

static gboolean
lookup_cb(gpointer user_data)
{
	Lookup *lookup = user_data;
	VigilConnection *connection =
	    vigil_connection_table_lookup_by_tuple(lookup->fixture->table, lookup->tuple);

	return connection != NULL && connection->closed == lookup->closed;
}

static VigilConnection *
wait_for(Fixture *fixture, const VigilConntrackTuple *tuple, gboolean closed)
{
	Lookup lookup = {fixture, tuple, closed};

	g_assert_true(vigil_test_wait_until(lookup_cb, &lookup, WAIT_MS));
	return vigil_connection_table_lookup_by_tuple(fixture->table, tuple);
}

static const VigilAppTotals *
find_app(GPtrArray *apps, const gchar *exe)
{
	for (guint i = 0; i < apps->len; i++) {
		const VigilAppTotals *app = g_ptr_array_index(apps, i);

		if (g_strcmp0(app->exe, exe) == 0)
			return app;
	}
	return NULL;
}

static void
test_conntrack_accounting(Fixture *fixture, gconstpointer data)
{
	g_autofree gchar *value = NULL;

	g_assert_true(g_file_get_contents(VIGIL_NL_CONNTRACK_ACCT_SYSCTL, &value, NULL, NULL));
	g_assert_cmpstr(g_strstrip(value), ==, "1");
}

/* a TCP connection over IPv4: attributed by tuple, counters that grow by what was sent */
static void
test_conntrack_tcp(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple;
	VigilConnectionAttribution attribution = VIGIL_CONNECTION_ATTRIBUTION_INIT;
	g_autoptr(GSocket) socket = client_socket(4, TRUE, 0, &tuple);
	g_autoptr(GPtrArray) apps = NULL;
	VigilConnection *connection;
	const VigilAppTotals *app;
	guint64 bytes_orig;
	guint64 bytes_reply;

	/* the daemon's verdict comes before conntrack confirms the entry */
	attribution.pid = 4242;
	attribution.uid = 1000;
	attribution.exe = "/usr/bin/test-tcp";
	attribution.direction = VIGIL_DIRECTION_OUT;
	attribution.verdict = VIGIL_ACTION_ALLOW;
	vigil_connection_table_set_attribution(fixture->table, &tuple, &attribution);
	client_connect(socket, 4);
	client_echo(socket, TRUE, 10000);

	connection = wait_for(fixture, &tuple, FALSE);
	g_assert_true(connection->attributed);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/test-tcp");
	refresh(fixture);
	g_assert_cmpstr(vigil_connection_get_state(connection), ==, "established");
	g_assert_cmpuint(connection->bytes_orig, >=, 10000);
	g_assert_cmpuint(connection->bytes_reply, >=, 10000);
	/* IP and TCP headers on top, and not much more */
	g_assert_cmpuint(connection->bytes_orig, <, 10000 + 100 * connection->packets_orig);
	g_assert_cmpuint(connection->packets_orig, >=, 2);
	bytes_orig = connection->bytes_orig;
	bytes_reply = connection->bytes_reply;

	client_echo(socket, TRUE, 20000);
	refresh(fixture);
	g_assert_cmpuint(connection->bytes_orig, >=, bytes_orig + 20000);
	g_assert_cmpuint(connection->bytes_reply, >=, bytes_reply + 20000);

	apps = vigil_connection_table_get_apps(fixture->table);
	app = find_app(apps, "/usr/bin/test-tcp");
	g_assert_nonnull(app);
	g_assert_cmpuint(app->uid, ==, 1000);
	g_assert_cmpuint(app->live, ==, 1);
	g_assert_cmpuint(app->total, ==, 1);
	g_assert_cmpuint(app->bytes_out, ==, connection->bytes_orig);
	g_assert_cmpuint(app->bytes_in, ==, connection->bytes_reply);

	/* closing goes through FIN to TIME_WAIT: over for the table */
	g_assert_true(g_socket_close(socket, NULL));
	connection = wait_for(fixture, &tuple, TRUE);
	g_assert_cmpstr(vigil_connection_get_state(connection), ==, "closed");
	g_clear_pointer(&apps, g_ptr_array_unref);
	apps = vigil_connection_table_get_apps(fixture->table);
	g_assert_cmpuint(find_app(apps, "/usr/bin/test-tcp")->live, ==, 0);
}

/* UDP over IPv6; two apps whose totals add up */
static void
test_conntrack_udp6(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple_a;
	VigilConntrackTuple tuple_b;
	VigilConnectionAttribution attribution = VIGIL_CONNECTION_ATTRIBUTION_INIT;
	g_autoptr(GSocket) socket_a = client_socket(6, FALSE, 0, &tuple_a);
	g_autoptr(GSocket) socket_b = client_socket(6, FALSE, 0, &tuple_b);
	g_autoptr(GPtrArray) apps = NULL;
	VigilConnection *a;
	VigilConnection *b;
	guint64 bytes_in = 0;
	guint64 bytes_out = 0;

	attribution.uid = 1000;
	attribution.exe = "/usr/bin/udp-a";
	vigil_connection_table_set_attribution(fixture->table, &tuple_a, &attribution);
	attribution.exe = "/usr/bin/udp-b";
	vigil_connection_table_set_attribution(fixture->table, &tuple_b, &attribution);
	client_connect(socket_a, 6);
	client_connect(socket_b, 6);
	client_echo(socket_a, FALSE, 30000);
	client_echo(socket_b, FALSE, 5000);
	a = wait_for(fixture, &tuple_a, FALSE);
	b = wait_for(fixture, &tuple_b, FALSE);
	refresh(fixture);
	g_assert_cmpuint(a->packets_orig, ==, 30);
	g_assert_cmpuint(a->packets_reply, ==, 30);
	/* 1000 bytes of payload, 8 of UDP and 40 of IPv6 header per datagram */
	g_assert_cmpuint(a->bytes_orig, ==, 30 * 1048);
	g_assert_cmpuint(b->bytes_reply, ==, 5 * 1048);
	/* UDP becomes assured only after a while of traffic both ways */
	g_assert_true(g_strcmp0(vigil_connection_get_state(a), "replied") == 0 ||
		      g_strcmp0(vigil_connection_get_state(a), "assured") == 0);

	apps = vigil_connection_table_get_apps(fixture->table);
	g_assert_cmpuint(apps->len, ==, 2);
	for (guint i = 0; i < apps->len; i++) {
		const VigilAppTotals *app = g_ptr_array_index(apps, i);

		bytes_in += app->bytes_in;
		bytes_out += app->bytes_out;
	}
	g_assert_cmpuint(bytes_out, ==, a->bytes_orig + b->bytes_orig);
	g_assert_cmpuint(bytes_in, ==, a->bytes_reply + b->bytes_reply);
}

typedef struct {
	VigilConnection *connection;
	guint64 bytes;
} Growth;

static gboolean
grown_cb(gpointer user_data)
{
	Growth *growth = user_data;

	return growth->connection->bytes_orig >= growth->bytes;
}

/* with a refresh interval, counters grow without anyone asking for a dump */
static void
test_conntrack_refresh_interval(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple;
	g_autoptr(GSocket) socket = client_socket(4, FALSE, 0, &tuple);
	Growth growth = {NULL, 0};

	vigil_nl_conntrack_set_refresh_interval(fixture->listener, 1);
	client_connect(socket, 4);
	client_echo(socket, FALSE, 1000);
	growth.connection = wait_for(fixture, &tuple, FALSE);
	client_echo(socket, FALSE, 5000);
	growth.bytes = 6 * 1028;
	g_assert_true(vigil_test_wait_until(grown_cb, &growth, WAIT_MS));
	g_assert_cmpuint(growth.connection->packets_orig, ==, 6);
	vigil_nl_conntrack_set_refresh_interval(fixture->listener, 0);
}

/* destroy events close entries with their final counters and report them removed */
static void
test_conntrack_destroy(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple;
	g_autoptr(GSocket) socket = client_socket(4, FALSE, 0, &tuple);
	g_autoptr(GPtrArray) updated = NULL;
	g_autoptr(GArray) removed = NULL;
	VigilConnection *connection;
	gboolean found = FALSE;

	client_connect(socket, 4);
	client_echo(socket, FALSE, 3000);
	connection = wait_for(fixture, &tuple, FALSE);
	vigil_connection_table_drain_changes(fixture->table, &updated, &removed);
	g_clear_pointer(&updated, g_ptr_array_unref);
	g_clear_pointer(&removed, g_array_unref);

	flush_conntrack();
	connection = wait_for(fixture, &tuple, TRUE);
	/* the destroy event carried the counters, without a dump */
	g_assert_cmpuint(connection->bytes_orig, ==, 3 * 1028);
	g_assert_cmpuint(connection->bytes_reply, ==, 3 * 1028);
	g_assert_cmpint(connection->ended, >=, connection->started);
	vigil_connection_table_drain_changes(fixture->table, &updated, &removed);
	for (guint i = 0; i < removed->len; i++)
		found |= g_array_index(removed, guint64, i) == connection->id;
	g_assert_true(found);
	g_assert_cmpuint(vigil_connection_table_get_n_live(fixture->table), ==, 0);
}

static gboolean
quiet_cb(gpointer user_data)
{
	return FALSE;
}

/* without events: a short connection reaches the table, closed, with its attribution and its
 * final counters, from the dump that vigil_nl_conntrack_expect() schedules; with events
 * again, the next one comes with its new-connection event */
static void
test_conntrack_no_events(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple;
	VigilConntrackTuple tuple_again;
	VigilConnectionAttribution attribution = VIGIL_CONNECTION_ATTRIBUTION_INIT;
	g_autoptr(GSocket) socket = client_socket(4, TRUE, 0, &tuple);
	g_autoptr(GSocket) again = client_socket(4, TRUE, 0, &tuple_again);
	g_autoptr(GPtrArray) apps = NULL;
	VigilConnection *connection;
	const VigilAppTotals *app;

	vigil_nl_conntrack_set_events(fixture->listener, FALSE);
	attribution.pid = 4243;
	attribution.uid = 1000;
	attribution.exe = "/usr/bin/test-short";
	attribution.direction = VIGIL_DIRECTION_OUT;
	attribution.verdict = VIGIL_ACTION_ALLOW;
	vigil_connection_table_set_attribution(fixture->table, &tuple, &attribution);
	client_connect(socket, 4);
	vigil_nl_conntrack_expect(fixture->listener);
	client_echo(socket, TRUE, 5000);
	g_assert_true(g_socket_close(socket, NULL));

	/* no event tells the table: it waits for the dump */
	g_assert_false(vigil_test_wait_until(quiet_cb, NULL, 500));
	g_assert_null(vigil_connection_table_lookup_by_tuple(fixture->table, &tuple));
	g_assert_cmpuint(vigil_connection_table_get_n_pending(fixture->table), ==, 1);

	connection = wait_for(fixture, &tuple, TRUE);
	g_assert_true(connection->attributed);
	g_assert_cmpstr(connection->exe, ==, "/usr/bin/test-short");
	g_assert_cmpuint(connection->bytes_orig, >=, 5000);
	g_assert_cmpuint(connection->bytes_reply, >=, 5000);
	apps = vigil_connection_table_get_apps(fixture->table);
	app = find_app(apps, "/usr/bin/test-short");
	g_assert_nonnull(app);
	g_assert_cmpuint(app->total, ==, 1);
	g_assert_cmpuint(app->live, ==, 0);
	g_assert_cmpuint(app->bytes_out, ==, connection->bytes_orig);
	g_assert_cmpuint(app->bytes_in, ==, connection->bytes_reply);
	g_assert_cmpuint(vigil_connection_table_get_n_pending(fixture->table), ==, 0);

	vigil_nl_conntrack_set_events(fixture->listener, TRUE);
	client_connect(again, 4);
	connection = wait_for(fixture, &tuple_again, FALSE);
	g_assert_nonnull(connection);
}

/* the resync path: what the kernel no longer has is closed, what it has is kept */
static void
test_conntrack_resync(Fixture *fixture, gconstpointer data)
{
	VigilConntrackTuple tuple;
	g_autoptr(GSocket) socket = client_socket(4, FALSE, 0, &tuple);
	VigilConntrackEntry ghost = {0};
	VigilConnection *connection;

	client_connect(socket, 4);
	client_echo(socket, FALSE, 1000);
	connection = wait_for(fixture, &tuple, FALSE);

	/* an entry whose destroy event the overrun swallowed */
	ghost.type = VIGIL_CONNTRACK_EVENT_NEW;
	ghost.id = 0xfffffff0;
	ghost.orig = tuple;
	ghost.orig.sport = 1;
	vigil_connection_table_apply_entry(fixture->table, &ghost);
	/* the entries themselves, not the table's count: a late packet of the previous test's
	 * connections can make the kernel pick up an entry of its own at any time */
	g_assert_false(vigil_connection_table_lookup_by_id(fixture->table, 0xfffffff0)->closed);
	g_assert_false(connection->closed);

	fixture->dumps = 0;
	vigil_nl_conntrack_resync(fixture->listener);
	g_assert_true(vigil_test_wait_until(fixture_dumped_cb, fixture, WAIT_MS));
	g_assert_true(vigil_connection_table_lookup_by_id(fixture->table, 0xfffffff0)->closed);
	g_assert_false(connection->closed);
	g_assert_cmpuint(connection->bytes_orig, ==, 1028);
}

static guint
count_flows(Fixture *fixture, guint16 dport)
{
	g_autoptr(GPtrArray) snapshot = vigil_connection_table_get_snapshot(fixture->table, FALSE);
	guint count = 0;

	for (guint i = 0; i < snapshot->len; i++) {
		const VigilConnection *connection = g_ptr_array_index(snapshot, i);

		if (connection->orig.dport == dport && connection->orig.protocol == IPPROTO_UDP)
			count++;
	}
	return count;
}

/* short-lived UDP flows from ports @first_port on; the sockets are closed at once */
static void
make_flows(guint16 first_port, guint n)
{
	for (guint i = 0; i < n; i++) {
		VigilConntrackTuple tuple;
		g_autoptr(GSocket) socket =
		    client_socket(4, FALSE, (guint16)(first_port + i), &tuple);
		g_autoptr(GError) error = NULL;
		g_autoptr(GInetAddress) remote = g_inet_address_new_from_string(VIGIL_TEST_SERVER4);
		g_autoptr(GSocketAddress) address = g_inet_socket_address_new(remote, ECHO_PORT);

		g_assert_cmpint(g_socket_send_to(socket, address, "x", 1, NULL, &error), ==, 1);
		g_assert_no_error(error);
	}
}

typedef struct {
	Fixture *fixture;
	guint expected;
} FlowCount;

static gboolean
flows_seen_cb(gpointer user_data)
{
	FlowCount *count = user_data;

	return !vigil_nl_conntrack_is_dumping(count->fixture->listener) &&
	       count_flows(count->fixture, ECHO_PORT) >= count->expected;
}

/* a receive buffer far too small for a burst: ENOBUFS, then a resync that catches up */
static void
test_conntrack_overrun(Fixture *fixture, gconstpointer data)
{
	FlowCount count = {fixture, 500};

	make_flows(20000, 500);
	g_assert_true(vigil_test_wait_until(flows_seen_cb, &count, WAIT_MS));
	g_assert_cmpuint(vigil_nl_conntrack_get_n_overruns(fixture->listener), >=, 1);
	g_assert_cmpuint(count_flows(fixture, ECHO_PORT), ==, 500);
}

/* a small table under a burst of real connections keeps its bound */
static void
test_conntrack_bound(Fixture *fixture, gconstpointer data)
{
	guint max = ((const Params *)data)->max_connections;
	gint64 start = g_get_monotonic_time();

	for (guint round = 0; round < 10; round++) {
		make_flows((guint16)(30000 + 300 * round), 300);
		for (guint i = 0; i < 50; i++)
			g_main_context_iteration(NULL, FALSE);
		g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), <=, max);
	}
	refresh(fixture);
	g_assert_cmpuint(vigil_connection_table_get_size(fixture->table), ==, max);
	g_assert_cmpuint(vigil_connection_table_get_n_evicted(fixture->table), >=, 3000 - max);
	g_test_message("3000 flows in %.1f ms", (gdouble)(g_get_monotonic_time() - start) / 1000);
}

static gdouble
timeval_ms(const struct timeval *tv)
{
	return (gdouble)tv->tv_sec * 1000 + (gdouble)tv->tv_usec / 1000;
}

/* what a refresh of known entries costs the main loop */
static void
test_conntrack_dump_cost(Fixture *fixture, gconstpointer data)
{
	FlowCount count = {fixture, 5000};
	struct rusage before;
	struct rusage after;
	gint64 start;
	gdouble elapsed;

	/* 5,000 new flows at once overrun the event socket, maybe more than once on a busy
	 * machine, and each resync dumps them all: give it more time than one wait */
	make_flows(40000, 5000);
	g_assert_true(vigil_test_wait_until(flows_seen_cb, &count, 3 * WAIT_MS));
	refresh(fixture);
	getrusage(RUSAGE_SELF, &before);
	start = g_get_monotonic_time();
	refresh(fixture);
	elapsed = (gdouble)(g_get_monotonic_time() - start);
	getrusage(RUSAGE_SELF, &after);
	g_assert_cmpuint(count_flows(fixture, ECHO_PORT), ==, 5000);
	g_test_message(
	    "a dump of 5000 known entries: %.1f ms (%.2f us per entry), CPU user %.1f ms, "
	    "kernel %.1f ms",
	    elapsed / 1000,
	    elapsed / 5000,
	    timeval_ms(&after.ru_utime) - timeval_ms(&before.ru_utime),
	    timeval_ms(&after.ru_stime) - timeval_ms(&before.ru_stime));
}

gint
main(gint argc, gchar **argv)
{
	g_autofree gchar *reason = NULL;
	g_autofree gchar *echo = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *echo_argv[] = {PYTHON, NULL, NULL};
	const gchar *nft_table[] = {"nft", "add table inet vigiltest", NULL};
	const gchar *nft_chain[] = {
	    "nft",
	    "add chain inet vigiltest output { type filter hook output priority 0 ; }",
	    NULL};
	const gchar *nft_rule[] = {"nft",
				   "add rule inet vigiltest output ct state new counter",
				   NULL};
	static const Params overrun = {4096, 0};
	static const Params bound = {0, 256};
	gint rc;

	/* before GLib starts threads: the namespace is per thread */
	if (!vigil_test_netns_enter(&reason))
		return vigil_test_netns_skip(argc, argv, reason);
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	/* conntrack only tracks in a namespace where a rule needs it */
	g_assert_true(vigil_test_run(nft_table, &error));
	g_assert_true(vigil_test_run(nft_chain, &error));
	g_assert_true(vigil_test_run(nft_rule, &error));
	g_assert_no_error(error);
	echo = g_test_build_filename(G_TEST_DIST, "echo-server.py", NULL);
	echo_argv[1] = echo;
	net = vigil_test_net_new("ct", &error);
	g_assert_no_error(error);
	g_assert_true(vigil_test_net_spawn(net, TRUE, echo_argv, &error));
	g_assert_no_error(error);

	fixtured_test("/vigil/daemon/conntrack/netns/accounting", NULL, test_conntrack_accounting);
	fixtured_test("/vigil/daemon/conntrack/netns/tcp", NULL, test_conntrack_tcp);
	fixtured_test("/vigil/daemon/conntrack/netns/udp6", NULL, test_conntrack_udp6);
	fixtured_test("/vigil/daemon/conntrack/netns/refresh-interval",
		      NULL,
		      test_conntrack_refresh_interval);
	fixtured_test("/vigil/daemon/conntrack/netns/destroy", NULL, test_conntrack_destroy);
	fixtured_test("/vigil/daemon/conntrack/netns/no-events", NULL, test_conntrack_no_events);
	fixtured_test("/vigil/daemon/conntrack/netns/resync", NULL, test_conntrack_resync);
	fixtured_test("/vigil/daemon/conntrack/netns/overrun", &overrun, test_conntrack_overrun);
	fixtured_test("/vigil/daemon/conntrack/netns/bound", &bound, test_conntrack_bound);
	fixtured_test("/vigil/daemon/conntrack/netns/dump-cost", NULL, test_conntrack_dump_cost);
	rc = g_test_run();
	g_clear_pointer(&net, vigil_test_net_free);
	return rc;
}
