/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <string.h>

#include "dns-message-builder.h"
#include "vigil-dns-capture.h"
#include "vigil-test-netns.h"

/*
 * The capture in a real network namespace: a fake DNS server in the server namespace
 * answers queries this process sends over UDP and TCP, IPv4 and IPv6, and a second one
 * plays the local stub resolver on 127.0.0.53 and ::1. The capture runs here, on the "any"
 * device, and must fill the cache with the name that was asked for each address.
 */

#define PYTHON	 "/usr/bin/python3"
#define WAIT_MS	 5000
#define FAKE_PID 4242

static VigilTestNet *net = NULL;

typedef struct {
	VigilDnsCache *cache;
	VigilDnsCapture *capture;
	guint16 pid_port;
	VigilDnsFlow pid_flow;
	guint pid_calls;
} Fixture;

static gint
fixture_pid_cb(const VigilDnsFlow *flow, gpointer user_data)
{
	Fixture *fixture = user_data;

	if (flow->client_port != fixture->pid_port)
		return 0;
	fixture->pid_flow = *flow;
	fixture->pid_calls++;
	return FAKE_PID;
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fixture->cache = vigil_dns_cache_new(0);
	fixture->capture = vigil_dns_capture_new(fixture->cache);
	vigil_dns_capture_set_pid_func(fixture->capture, fixture_pid_cb, fixture, NULL);
	g_assert_true(vigil_dns_capture_start(fixture->capture, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_dns_capture_is_running(fixture->capture));
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	VigilDnsCaptureStats stats;

	vigil_dns_capture_get_stats(fixture->capture, &stats);
	g_test_message("captured %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
		       " queries, %" G_GUINT64_FORMAT " responses, %" G_GUINT64_FORMAT
		       " answers, %" G_GUINT64_FORMAT " unsolicited, %" G_GUINT64_FORMAT
		       " malformed",
		       stats.packets,
		       stats.queries,
		       stats.responses,
		       stats.answers,
		       stats.unsolicited,
		       stats.malformed);
	g_assert_cmpuint(stats.malformed, ==, 0);
	g_assert_finalize_object(fixture->capture);
	g_assert_finalize_object(fixture->cache);
}

#define fixtured_test(path, data, func)                                                            \
	g_test_add(path, Fixture, data, fixture_setup, func, fixture_teardown)

/* sends one query and waits for its answer; returns the local port */
static guint16
query(const gchar *server, gboolean tcp, const gchar *name, guint qtype)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) address = g_inet_address_new_from_string(server);
	g_autoptr(GSocketAddress) remote = NULL;
	g_autoptr(GSocketAddress) local = NULL;
	g_autoptr(GSocket) socket = NULL;
	DnsMessage m;
	guint8 reply[DNS_MESSAGE_MAX];
	gssize n;

	g_assert_nonnull(address);
	remote = g_inet_socket_address_new(address, 53);
	socket = g_socket_new(g_inet_address_get_family(address),
			      tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
			      G_SOCKET_PROTOCOL_DEFAULT,
			      &error);
	g_assert_no_error(error);
	g_socket_set_timeout(socket, 5);
	g_assert_true(g_socket_connect(socket, remote, NULL, &error));
	g_assert_no_error(error);

	m.len = 0;
	if (tcp)
		dns_put_u16(&m, 0);
	dns_put_u16(&m, 0x4321);
	dns_put_u16(&m, 0x0100);
	dns_put_u16(&m, 1);
	dns_put_u16(&m, 0);
	dns_put_u16(&m, 0);
	dns_put_u16(&m, 0);
	dns_put_question(&m, name, qtype);
	if (tcp)
		dns_set_u16(&m, 0, (guint)m.len - 2);
	g_assert_cmpint(g_socket_send(socket, (const gchar *)m.data, m.len, NULL, &error),
			==,
			(gssize)m.len);
	g_assert_no_error(error);
	n = g_socket_receive(socket, (gchar *)reply, sizeof(reply), NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(n, >, 12);

	local = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
}

typedef struct {
	VigilDnsCache *cache;
	guint family;
	guint8 address[16];
	gint pid;
	const gchar *expected;
} Expectation;

static gboolean
expectation_met_cb(gpointer user_data)
{
	Expectation *expectation = user_data;
	g_autofree gchar *name = vigil_dns_cache_lookup_name(expectation->cache,
							     expectation->family,
							     expectation->address,
							     expectation->pid);

	return g_strcmp0(name, expectation->expected) == 0;
}

static void
assert_cached(Fixture *fixture, const gchar *address, gint pid, const gchar *expected)
{
	Expectation expectation = {fixture->cache, 0, {0}, pid, expected};
	g_autofree gchar *name = NULL;

	expectation.family = strchr(address, ':') != NULL ? 6 : 4;
	g_assert_cmpint(
	    inet_pton(expectation.family == 4 ? AF_INET : AF_INET6, address, expectation.address),
	    ==,
	    1);
	if (vigil_test_wait_until(expectation_met_cb, &expectation, WAIT_MS))
		return;
	name = vigil_dns_cache_lookup_name(fixture->cache,
					   expectation.family,
					   expectation.address,
					   pid);
	g_test_message("%s is %s, expected %s", address, name, expected);
	g_test_fail();
}

static void
test_capture_udp4(Fixture *fixture, gconstpointer data)
{
	query(VIGIL_TEST_SERVER4, FALSE, "udp4.example.org", DNS_TYPE_A);
	assert_cached(fixture, "198.18.5.1", 0, "udp4.example.org");
}

static void
test_capture_udp6(Fixture *fixture, gconstpointer data)
{
	query(VIGIL_TEST_SERVER6, FALSE, "udp6.example.org", DNS_TYPE_AAAA);
	assert_cached(fixture, "fd00:fb::5:1", 0, "udp6.example.org");
}

static void
test_capture_tcp4(Fixture *fixture, gconstpointer data)
{
	query(VIGIL_TEST_SERVER4, TRUE, "tcp4.example.org", DNS_TYPE_A);
	assert_cached(fixture, "198.18.5.2", 0, "tcp4.example.org");
}

static void
test_capture_tcp6(Fixture *fixture, gconstpointer data)
{
	query(VIGIL_TEST_SERVER6, TRUE, "tcp6.example.org", DNS_TYPE_AAAA);
	assert_cached(fixture, "fd00:fb::5:2", 0, "tcp6.example.org");
}

/* www.example.org for both of its addresses, asked over each family */
static void
test_capture_www(Fixture *fixture, gconstpointer data)
{
	query(VIGIL_TEST_SERVER6, FALSE, "www.example.org", DNS_TYPE_A);
	query(VIGIL_TEST_SERVER4, TRUE, "www.example.org", DNS_TYPE_AAAA);
	assert_cached(fixture, VIGIL_TEST_SERVER4, 0, "www.example.org");
	assert_cached(fixture, VIGIL_TEST_SERVER6, 0, "www.example.org");
}

/* the addresses at the end of a CNAME chain are named by the question */
static void
test_capture_cname(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) names = NULL;
	guint8 address[16] = {0};

	query(VIGIL_TEST_SERVER4, FALSE, "cdn.example.org", DNS_TYPE_A);
	query(VIGIL_TEST_SERVER4, TRUE, "cdn.example.org", DNS_TYPE_AAAA);
	assert_cached(fixture, "198.18.5.3", 0, "cdn.example.org");
	assert_cached(fixture, "fd00:fb::5:3", 0, "cdn.example.org");
	inet_pton(AF_INET, "198.18.5.3", address);
	names = vigil_dns_cache_lookup_names(fixture->cache, 4, address);
	g_assert_cmpuint(names->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "cdn.example.org");
	g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "node7.edge.cdn.example.net");
}

/* a local stub resolver answers on loopback */
static void
test_capture_stub(Fixture *fixture, gconstpointer data)
{
	query("127.0.0.53", FALSE, "stub.example.org", DNS_TYPE_A);
	query("::1", TRUE, "stub.example.org", DNS_TYPE_AAAA);
	assert_cached(fixture, "198.18.5.4", 0, "stub.example.org");
	assert_cached(fixture, "fd00:fb::5:4", 0, "stub.example.org");
}

static gboolean
pid_seen_cb(gpointer user_data)
{
	Fixture *fixture = user_data;

	return fixture->pid_calls > 0;
}

/* the pid callback sees the client side of the query, and its answer names the lookup */
static void
test_capture_pid(Fixture *fixture, gconstpointer data)
{
	guint8 client[16] = {0};
	guint8 server[16] = {0};

	/* a first lookup by "someone else" */
	query(VIGIL_TEST_SERVER4, FALSE, "www.example.org", DNS_TYPE_A);
	assert_cached(fixture, VIGIL_TEST_SERVER4, 0, "www.example.org");

	/* the socket is bound before the query goes out, so the port is known in time */
	fixture->pid_port = 0;
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GSocket) socket = g_socket_new(G_SOCKET_FAMILY_IPV4,
							 G_SOCKET_TYPE_DATAGRAM,
							 G_SOCKET_PROTOCOL_DEFAULT,
							 &error);
		g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new(any, 0);
		g_autoptr(GSocketAddress) local = NULL;
		g_autoptr(GInetAddress) server_address =
		    g_inet_address_new_from_string(VIGIL_TEST_SERVER4);
		g_autoptr(GSocketAddress) remote = g_inet_socket_address_new(server_address, 53);
		DnsMessage m;
		gchar reply[512];

		g_assert_no_error(error);
		g_assert_true(g_socket_bind(socket, bind_address, FALSE, &error));
		local = g_socket_get_local_address(socket, &error);
		g_assert_no_error(error);
		fixture->pid_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
		g_socket_set_timeout(socket, 5);
		dns_put_header(&m, 0x0100, 1, 0, 0, 0);
		dns_put_question(&m, "www.example.org", DNS_TYPE_A);
		g_assert_cmpint(
		    g_socket_send_to(socket, remote, (const gchar *)m.data, m.len, NULL, &error),
		    ==,
		    (gssize)m.len);
		g_assert_cmpint(g_socket_receive(socket, reply, sizeof(reply), NULL, &error),
				>,
				12);
		g_assert_no_error(error);
	}
	/* the other lookup already names the address: wait for this answer to be seen */
	g_assert_true(vigil_test_wait_until(pid_seen_cb, fixture, WAIT_MS));
	assert_cached(fixture, VIGIL_TEST_SERVER4, FAKE_PID, "www.example.org");
	inet_pton(AF_INET, VIGIL_TEST_CLIENT4, client);
	inet_pton(AF_INET, VIGIL_TEST_SERVER4, server);
	g_assert_cmpuint(fixture->pid_flow.family, ==, 4);
	g_assert_cmpuint(fixture->pid_flow.protocol, ==, 17);
	g_assert_cmpmem(fixture->pid_flow.client, 4, client, 4);
	g_assert_cmpmem(fixture->pid_flow.server, 4, server, 4);
	g_assert_cmpuint(fixture->pid_flow.server_port, ==, 53);
	g_assert_cmpuint(fixture->pid_flow.client_port, ==, fixture->pid_port);
}

/* forged answers from the server's port 53, to a port that asked nothing or with the wrong id */
static void
test_capture_forged(Fixture *fixture, gconstpointer data)
{
	guint8 evil[16] = {0};
	VigilDnsCaptureStats stats;
	g_autofree gchar *name = NULL;

	query(VIGIL_TEST_SERVER4, FALSE, "spoof.example.org", DNS_TYPE_A);
	assert_cached(fixture, "198.18.5.7", 0, "spoof.example.org");
	inet_pton(AF_INET, "198.18.5.66", evil);
	name = vigil_dns_cache_lookup_name(fixture->cache, 4, evil, 0);
	g_assert_null(name);
	vigil_dns_capture_get_stats(fixture->capture, &stats);
	g_assert_cmpuint(stats.unsolicited, ==, 2);
}

/* a capture that cannot open reports it instead of crashing the daemon */
static void
test_capture_no_device(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(0);
	g_autoptr(VigilDnsCapture) capture = vigil_dns_capture_new(cache);
	g_autoptr(GError) error = NULL;

	vigil_dns_capture_set_interface(capture, "vigil-none0");
	g_assert_false(vigil_dns_capture_start(capture, &error));
	g_assert_nonnull(error);
	g_test_message("%s", error->message);
	g_assert_false(vigil_dns_capture_is_running(capture));
}

gint
main(gint argc, gchar **argv)
{
	g_autofree gchar *reason = NULL;
	g_autofree gchar *server = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *server_argv[] = {PYTHON, NULL, NULL};
	const gchar *stub_argv[] = {PYTHON, NULL, "127.0.0.53", "::1", NULL};
	gint rc;

	/* before GLib starts threads: the namespace is per thread */
	if (!vigil_test_netns_enter(&reason))
		return vigil_test_netns_skip(argc, argv, reason);
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	server = g_test_build_filename(G_TEST_DIST, "fake-dns-server.py", NULL);
	server_argv[1] = stub_argv[1] = server;
	net = vigil_test_net_new("dns", &error);
	g_assert_no_error(error);
	g_assert_true(vigil_test_net_spawn(net, TRUE, server_argv, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_test_net_spawn(net, FALSE, stub_argv, &error));
	g_assert_no_error(error);

	fixtured_test("/vigil/daemon/dns/capture/udp4", NULL, test_capture_udp4);
	fixtured_test("/vigil/daemon/dns/capture/udp6", NULL, test_capture_udp6);
	fixtured_test("/vigil/daemon/dns/capture/tcp4", NULL, test_capture_tcp4);
	fixtured_test("/vigil/daemon/dns/capture/tcp6", NULL, test_capture_tcp6);
	fixtured_test("/vigil/daemon/dns/capture/www", NULL, test_capture_www);
	fixtured_test("/vigil/daemon/dns/capture/cname", NULL, test_capture_cname);
	fixtured_test("/vigil/daemon/dns/capture/stub", NULL, test_capture_stub);
	fixtured_test("/vigil/daemon/dns/capture/pid", NULL, test_capture_pid);
	fixtured_test("/vigil/daemon/dns/capture/forged", NULL, test_capture_forged);
	g_test_add_func("/vigil/daemon/dns/capture/no-device", test_capture_no_device);
	rc = g_test_run();
	g_clear_pointer(&net, vigil_test_net_free);
	return rc;
}
