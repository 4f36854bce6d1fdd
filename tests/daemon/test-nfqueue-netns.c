/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vigil-error.h"
#include "vigil-nfqueue.h"
#include "vigil-packet.h"

/*
 * VigilNfqueue against the real kernel, in a network namespace of its own: iptables-nft
 * sends UDP to ports 20000-20099 on 127.0.0.1 and ::1 to NFQUEUE 7, after a rule that
 * rejects packets carrying the reject mark 0x100 (and, for port 20050, a rule that refuses
 * mark 0x101 differently, to see that REJECT keeps the packet's own mark).
 */

#define QUEUE_NUM	  7
#define REJECT_MARK	  0x100
#define PORT_QUEUED	  20001
#define PORT_MARKED	  20050
#define PORT_NOT_QUEUED	  20100
#define SENDER_UID	  65534
#define SENDER_GID	  65534
#define WAIT_TIMEOUT_MS	  3000
#define DEFERRED_DELAY_MS 50

typedef enum {
	MODE_ALLOW,
	MODE_DENY_FIRST,
	MODE_DEFER_FIRST,
	MODE_REJECT,
	MODE_HOLD,
} Mode;

typedef struct {
	VigilNfqueue *queue;
	Mode mode;
	guint handled;
	guint deferred_sent;
	guint32 held_id;
	VigilNfqueuePacket last;
	VigilPacket last_packet;
	gint receiver;
	gint sender;
} Fixture;

static gboolean
test_deferred_cb(gpointer user_data)
{
	Fixture *fixture = user_data;

	vigil_nfqueue_verdict(fixture->queue, fixture->held_id, VIGIL_ACTION_ALLOW);
	fixture->deferred_sent++;
	return G_SOURCE_REMOVE;
}

static void
fixture_handler_cb(VigilNfqueue *queue, const VigilNfqueuePacket *packet, gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(GError) error = NULL;
	gboolean ret;

	fixture->handled++;
	fixture->last = *packet;
	fixture->last.payload = NULL;
	ret =
	    vigil_packet_parse(packet->payload, packet->payload_len, &fixture->last_packet, &error);
	g_assert_no_error(error);
	g_assert_true(ret);

	switch (fixture->mode) {
	case MODE_ALLOW:
		vigil_nfqueue_verdict(queue, packet->packet_id, VIGIL_ACTION_ALLOW);
		break;
	case MODE_DENY_FIRST:
		vigil_nfqueue_verdict(queue,
				      packet->packet_id,
				      fixture->handled == 1 ? VIGIL_ACTION_DENY
							    : VIGIL_ACTION_ALLOW);
		break;
	case MODE_DEFER_FIRST:
		if (fixture->handled == 1) {
			fixture->held_id = packet->packet_id;
			g_timeout_add(DEFERRED_DELAY_MS, test_deferred_cb, fixture);
			break;
		}
		vigil_nfqueue_verdict(queue, packet->packet_id, VIGIL_ACTION_ALLOW);
		break;
	case MODE_REJECT:
		vigil_nfqueue_verdict(queue, packet->packet_id, VIGIL_ACTION_REJECT);
		break;
	case MODE_HOLD:
		fixture->held_id = packet->packet_id;
		break;
	default:
		g_assert_not_reached();
	}
}

static gboolean
test_timeout_cb(gpointer user_data)
{
	gboolean *timed_out = user_data;

	*timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

/* runs the main loop until *counter reaches @value */
static void
wait_for(guint *counter, guint value)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add(WAIT_TIMEOUT_MS, test_timeout_cb, &timed_out);

	while (*counter < value && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (timed_out)
		g_error("timed out waiting for %u (at %u)", value, *counter);
	g_source_remove(id);
}

static gint
test_socket(gint family, gboolean as_nobody)
{
	struct timeval tv = {.tv_sec = 2};
	gint fd;

	/* the kernel reports the uid/gid that opened the socket */
	if (as_nobody) {
		g_assert_cmpint(setegid(SENDER_GID), ==, 0);
		g_assert_cmpint(seteuid(SENDER_UID), ==, 0);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (as_nobody) {
		g_assert_cmpint(seteuid(0), ==, 0);
		g_assert_cmpint(setegid(0), ==, 0);
	}
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
	return fd;
}

static void
test_address(gint family, guint port, struct sockaddr_storage *addr, socklen_t *addr_len)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*addr_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		*addr_len = sizeof(*in6);
	}
}

/* a receiver on @port and a sender, owned by nobody, connected to it */
static void
fixture_connect(Fixture *fixture, gint family, guint port)
{
	struct sockaddr_storage addr;
	socklen_t addr_len;

	test_address(family, port, &addr, &addr_len);
	fixture->receiver = test_socket(family, FALSE);
	g_assert_cmpint(bind(fixture->receiver, (struct sockaddr *)&addr, addr_len), ==, 0);
	fixture->sender = test_socket(family, TRUE);
	g_assert_cmpint(connect(fixture->sender, (struct sockaddr *)&addr, addr_len), ==, 0);
}

static void
fixture_send(Fixture *fixture, const gchar *text)
{
	g_assert_cmpint(send(fixture->sender, text, strlen(text), 0), ==, (gssize)strlen(text));
}

static void
fixture_assert_received(Fixture *fixture, const gchar *text)
{
	gchar buf[64] = {0};
	gssize len = recv(fixture->receiver, buf, sizeof(buf) - 1, 0);

	if (len < 0)
		g_error("expected \"%s\": %s", text, g_strerror(errno));
	g_assert_cmpstr(buf, ==, text);
}

static void
fixture_open(Fixture *fixture, gboolean fail_open)
{
	g_autoptr(GError) error = NULL;
	gboolean ret;

	g_clear_object(&fixture->queue);
	fixture->queue = vigil_nfqueue_new(QUEUE_NUM);
	vigil_nfqueue_set_handler(fixture->queue, fixture_handler_cb, fixture);
	vigil_nfqueue_set_reject_mark(fixture->queue, REJECT_MARK);
	vigil_nfqueue_set_fail_open(fixture->queue, fail_open);
	ret = vigil_nfqueue_open(fixture->queue, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(vigil_nfqueue_is_open(fixture->queue));
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	fixture->receiver = -1;
	fixture->sender = -1;
	fixture_open(fixture, FALSE);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	vigil_nfqueue_close(fixture->queue);
	g_assert_finalize_object(fixture->queue);
	if (fixture->receiver >= 0)
		close(fixture->receiver);
	if (fixture->sender >= 0)
		close(fixture->sender);
}

#define fixtured_test(path, func)                                                                  \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

static void
test_allow(Fixture *fixture, gint family)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = sizeof(addr);
	guint sport;

	fixture_connect(fixture, family, PORT_QUEUED);
	g_assert_cmpint(getsockname(fixture->sender, (struct sockaddr *)&addr, &addr_len), ==, 0);
	sport = ntohs(family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
					: ((struct sockaddr_in6 *)&addr)->sin6_port);

	fixture_send(fixture, "hello");
	wait_for(&fixture->handled, 1);
	fixture_assert_received(fixture, "hello");

	g_assert_cmpuint(fixture->last.hook, ==, NF_INET_LOCAL_OUT);
	g_assert_cmpuint(fixture->last.hw_protocol, ==, family == AF_INET ? 0x0800 : 0x86dd);
	g_assert_true(fixture->last.uid_known);
	g_assert_cmpuint(fixture->last.uid, ==, SENDER_UID);
	g_assert_true(fixture->last.gid_known);
	g_assert_cmpuint(fixture->last.gid, ==, SENDER_GID);
	g_assert_cmpuint(fixture->last.mark, ==, 0);
	g_assert_cmpuint(fixture->last.outdev, ==, if_nametoindex("lo"));
	g_assert_cmpuint(fixture->last.payload_len, ==, (family == AF_INET ? 20 : 40) + 8 + 5);

	g_assert_cmpuint(fixture->last_packet.family, ==, family == AF_INET ? 4 : 6);
	g_assert_cmpuint(fixture->last_packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(fixture->last_packet.sport, ==, sport);
	g_assert_cmpuint(fixture->last_packet.dport, ==, PORT_QUEUED);
	if (family == AF_INET) {
		guint32 lo = htonl(INADDR_LOOPBACK);
		g_assert_cmpmem(fixture->last_packet.src, 4, &lo, 4);
		g_assert_cmpmem(fixture->last_packet.dst, 4, &lo, 4);
	} else {
		g_assert_cmpmem(fixture->last_packet.src, 16, &in6addr_loopback, 16);
		g_assert_cmpmem(fixture->last_packet.dst, 16, &in6addr_loopback, 16);
	}
	g_assert_cmpuint(vigil_nfqueue_get_received(fixture->queue), ==, 1);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_overruns(fixture->queue), ==, 0);
}

static void
test_nfqueue_allow_ipv4_func(Fixture *fixture, gconstpointer user_data)
{
	test_allow(fixture, AF_INET);
}

static void
test_nfqueue_allow_ipv6_func(Fixture *fixture, gconstpointer user_data)
{
	test_allow(fixture, AF_INET6);
}

static void
test_nfqueue_deny_func(Fixture *fixture, gconstpointer user_data)
{
	/* the first is dropped, so the receiver sees the second first */
	fixture->mode = MODE_DENY_FIRST;
	fixture_connect(fixture, AF_INET, PORT_QUEUED);
	fixture_send(fixture, "one");
	wait_for(&fixture->handled, 1);
	fixture_send(fixture, "two");
	wait_for(&fixture->handled, 2);
	fixture_assert_received(fixture, "two");
}

static void
test_nfqueue_deferred_func(Fixture *fixture, gconstpointer user_data)
{
	/* the first waits for a later verdict while the second goes through */
	fixture->mode = MODE_DEFER_FIRST;
	fixture_connect(fixture, AF_INET6, PORT_QUEUED);
	fixture_send(fixture, "slow");
	fixture_send(fixture, "fast");
	wait_for(&fixture->handled, 2);
	g_assert_cmpuint(fixture->deferred_sent, ==, 0);
	fixture_assert_received(fixture, "fast");
	wait_for(&fixture->deferred_sent, 1);
	fixture_assert_received(fixture, "slow");
}

static void
test_reject(Fixture *fixture, gint family, guint port, guint32 mark, gint expected_errno)
{
	gchar buf[16];
	gssize len;
	struct pollfd pfd = {.events = POLLIN};

	fixture->mode = MODE_REJECT;
	fixture_connect(fixture, family, port);
	pfd.fd = fixture->sender;
	if (mark != 0)
		g_assert_cmpint(
		    setsockopt(fixture->sender, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)),
		    ==,
		    0);
	fixture_send(fixture, "no");
	wait_for(&fixture->handled, 1);
	g_assert_cmpuint(fixture->last.mark, ==, mark);

	/* the app learns at once: the ICMP error is waiting on its socket */
	g_assert_cmpint(poll(&pfd, 1, WAIT_TIMEOUT_MS), ==, 1);
	len = recv(fixture->sender, buf, sizeof(buf), MSG_DONTWAIT);
	g_assert_cmpint(len, ==, -1);
	g_assert_cmpint(errno, ==, expected_errno);
	len = recv(fixture->receiver, buf, sizeof(buf), MSG_DONTWAIT);
	g_assert_cmpint(len, ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	g_assert_cmpuint(fixture->handled, ==, 1);
}

static void
test_nfqueue_reject_ipv4_func(Fixture *fixture, gconstpointer user_data)
{
	test_reject(fixture, AF_INET, PORT_QUEUED, 0, ECONNREFUSED);
}

static void
test_nfqueue_reject_ipv6_func(Fixture *fixture, gconstpointer user_data)
{
	test_reject(fixture, AF_INET6, PORT_QUEUED, 0, ECONNREFUSED);
}

static void
test_nfqueue_reject_keeps_mark_func(Fixture *fixture, gconstpointer user_data)
{
	/* mark 0x1 | 0x100 hits the protocol-unreachable rule, 0x100 alone would not */
	test_reject(fixture, AF_INET, PORT_MARKED, 0x1, ENOPROTOOPT);
}

/* a malformed message about a real queued packet gets the policy verdict */
static void
test_malformed_policy(Fixture *fixture, gboolean fail_open)
{
	guint8 buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfqnl_msg_packet_hdr header = {0};

	fixture_open(fixture, fail_open);
	fixture->mode = MODE_HOLD;
	fixture_connect(fixture, AF_INET, PORT_QUEUED);
	fixture_send(fixture, "held");
	wait_for(&fixture->handled, 1);

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(QUEUE_NUM);
	header.packet_id = htonl(fixture->held_id);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(header), &header);
	_vigil_nfqueue_process_message(fixture->queue, buf, nlh->nlmsg_len);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 1);

	fixture->mode = MODE_ALLOW;
	fixture_send(fixture, "next");
	wait_for(&fixture->handled, 2);
	if (fail_open)
		fixture_assert_received(fixture, "held");
	fixture_assert_received(fixture, "next");
}

static void
test_nfqueue_malformed_fail_closed_func(Fixture *fixture, gconstpointer user_data)
{
	test_malformed_policy(fixture, FALSE);
}

static void
test_nfqueue_malformed_fail_open_func(Fixture *fixture, gconstpointer user_data)
{
	test_malformed_policy(fixture, TRUE);
}

/* closing releases the packets still waiting, by policy */
static void
test_nfqueue_close_releases_func(Fixture *fixture, gconstpointer user_data)
{
	fixture_open(fixture, TRUE);
	fixture->mode = MODE_HOLD;
	fixture_connect(fixture, AF_INET, PORT_QUEUED);
	fixture_send(fixture, "one");
	fixture_send(fixture, "two");
	wait_for(&fixture->handled, 2);
	vigil_nfqueue_close(fixture->queue);
	g_assert_false(vigil_nfqueue_is_open(fixture->queue));
	fixture_assert_received(fixture, "one");
	fixture_assert_received(fixture, "two");
}

static void
test_nfqueue_busy_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilNfqueue) other = vigil_nfqueue_new(QUEUE_NUM);
	g_autoptr(GError) error = NULL;
	gboolean ret;

	ret = vigil_nfqueue_open(other, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
	g_assert_cmpstr(error->message, ==, "failed to bind queue 7: Operation not permitted");
	g_assert_false(ret);
	g_assert_false(vigil_nfqueue_is_open(other));
}

/* a tiny receive buffer overflows; the reader counts it and keeps going */
static void
test_nfqueue_overrun_func(Fixture *fixture, gconstpointer user_data)
{
	gint size = 4096;
	guint before;

	g_assert_cmpint(setsockopt(_vigil_nfqueue_get_fd(fixture->queue),
				   SOL_SOCKET,
				   SO_RCVBUFFORCE,
				   &size,
				   sizeof(size)),
			==,
			0);
	fixture_connect(fixture, AF_INET, PORT_QUEUED);
	for (guint i = 0; i < 100; i++)
		fixture_send(fixture, "flood");
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(vigil_nfqueue_get_overruns(fixture->queue), >=, 1);
	g_assert_cmpuint(fixture->handled, <, 100);
	g_assert_cmpuint(fixture->handled, >, 0);
	g_test_message("%u of 100 handled, %" G_GUINT64_FORMAT " overruns",
		       fixture->handled,
		       vigil_nfqueue_get_overruns(fixture->queue));

	before = fixture->handled;
	fixture_send(fixture, "after");
	wait_for(&fixture->handled, before + 1);
}

static gdouble
test_round_trips(Fixture *fixture, guint n, gboolean queued)
{
	g_autoptr(GTimer) timer = g_timer_new();
	gchar buf[16];

	/* the packet is on the queue socket when send() returns: no timeout source needed */
	for (guint i = 0; i < n; i++) {
		guint handled = fixture->handled;

		fixture_send(fixture, "ping");
		while (queued && fixture->handled == handled)
			g_main_context_iteration(NULL, FALSE);
		g_assert_cmpint(recv(fixture->receiver, buf, sizeof(buf), 0), ==, 4);
	}
	return g_timer_elapsed(timer, NULL) * 1e6 / n;
}

/* per-packet cost of the queue: send() to delivery, with and without the queue; the best of
 * several rounds, as other work on the machine only ever adds */
static void
test_nfqueue_overhead_func(Fixture *fixture, gconstpointer user_data)
{
	const guint rounds = 7;
	const guint n = 2000;
	const guint burst = 32;
	gint direct_receiver;
	gint direct_sender;
	gdouble direct = G_MAXDOUBLE;
	gdouble queued = G_MAXDOUBLE;
	gdouble bursts = G_MAXDOUBLE;
	gchar buf[16];

	fixture_connect(fixture, AF_INET, PORT_NOT_QUEUED);
	direct_receiver = fixture->receiver;
	direct_sender = fixture->sender;
	fixture_connect(fixture, AF_INET, PORT_QUEUED);

	for (guint r = 0; r < rounds; r++) {
		g_autoptr(GTimer) timer = NULL;
		gint receiver = fixture->receiver;
		gint sender = fixture->sender;

		fixture->receiver = direct_receiver;
		fixture->sender = direct_sender;
		direct = MIN(direct, test_round_trips(fixture, n, FALSE));
		fixture->receiver = receiver;
		fixture->sender = sender;
		queued = MIN(queued, test_round_trips(fixture, n, TRUE));

		/* bursts, as when many connections start at once: one recvmmsg() and one
		 * sendmsg() per batch */
		timer = g_timer_new();
		for (guint i = 0; i < n / burst; i++) {
			guint handled = fixture->handled;

			for (guint j = 0; j < burst; j++)
				g_assert_cmpint(send(sender, "ping", 4, 0), ==, 4);
			while (fixture->handled < handled + burst)
				g_main_context_iteration(NULL, FALSE);
			for (guint j = 0; j < burst; j++)
				g_assert_cmpint(recv(receiver, buf, sizeof(buf), 0), ==, 4);
		}
		bursts = MIN(bursts, g_timer_elapsed(timer, NULL) * 1e6 / (n / burst * burst));
	}
	close(direct_receiver);
	close(direct_sender);
	g_test_message(
	    "one at a time: %.2f us without the queue, %.2f us with it: %.2f us per packet",
	    direct,
	    queued,
	    queued - direct);
	g_test_message("in bursts of %u: %.2f us per packet, %.2f us more than without the queue",
		       burst,
		       bursts,
		       bursts - direct);
	g_assert_cmpuint(vigil_nfqueue_get_overruns(fixture->queue), ==, 0);
}

static gboolean
test_run(const gchar *command, GError **error)
{
	g_autofree gchar *standard_error = NULL;
	gint status = 0;

	if (!g_spawn_command_line_sync(command, NULL, &standard_error, &status, error))
		return FALSE;
	if (!g_spawn_check_wait_status(status, error)) {
		g_prefix_error(error, "%s: %s: ", command, standard_error);
		return FALSE;
	}
	return TRUE;
}

/* a namespace of our own with lo up and the queue rules */
static gboolean
test_netns_setup(GError **error)
{
	const gchar *commands[] = {
	    "iptables-nft -A OUTPUT -p udp --dport 20050 -m mark --mark 0x101 "
	    "-j REJECT --reject-with icmp-proto-unreachable",
	    "iptables-nft -A OUTPUT -p udp --dport 20000:20099 -m mark --mark 0x100/0x100 "
	    "-j REJECT --reject-with icmp-port-unreachable",
	    "iptables-nft -A OUTPUT -p udp --dport 20000:20099 -j NFQUEUE --queue-num 7",
	    "ip6tables-nft -A OUTPUT -p udp --dport 20000:20099 -m mark --mark 0x100/0x100 "
	    "-j REJECT --reject-with icmp6-port-unreachable",
	    "ip6tables-nft -A OUTPUT -p udp --dport 20000:20099 -j NFQUEUE --queue-num 7",
	};
	struct ifreq ifr = {0};
	gint fd;

	if (unshare(CLONE_NEWNET) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to create a network namespace: %s",
			    g_strerror(errsv));
		return FALSE;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to bring lo up: %s",
			    g_strerror(errsv));
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	close(fd);
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (!test_run(commands[i], error))
			return FALSE;
	}
	return TRUE;
}

/* --- busy polling ---------------------------------------------------------------------- */

#define BUSY_POLL_PACKETS     2000
#define BUSY_POLL_INTERVAL_US 200
#define BUSY_POLL_TIMER_MS    20

typedef struct {
	gint sender;
	volatile gint stop;
} BusyPollSender;

static gpointer
busy_poll_sender_thread(gpointer user_data)
{
	BusyPollSender *sender = user_data;

	for (guint i = 0; i < BUSY_POLL_PACKETS && !g_atomic_int_get(&sender->stop); i++) {
		g_assert_cmpint(send(sender->sender, "x", 1, 0), ==, 1);
		g_usleep(BUSY_POLL_INTERVAL_US);
	}
	return NULL;
}

/* With busy polling longer than the gap between packets, the reader would never go back to
 * the main loop on its own: the bound must still let a timer run while packets flow, and
 * every packet must get its verdict. */
static void
test_nfqueue_busy_poll_func(Fixture *fixture, gconstpointer user_data)
{
	BusyPollSender sender = {0};
	g_autoptr(GThread) thread = NULL;
	gboolean timer_ran = FALSE;
	gint64 fired;
	gint64 armed;
	guint received = 0;

	gint rcvbuf = 16 * 1024 * 1024;

	vigil_nfqueue_set_busy_poll(fixture->queue, 1000);
	fixture_connect(fixture, AF_INET, PORT_QUEUED);
	/* room for all of them, read at the end */
	g_assert_cmpint(
	    setsockopt(fixture->receiver, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)),
	    ==,
	    0);
	sender.sender = fixture->sender;
	thread = g_thread_new("sender", busy_poll_sender_thread, &sender);
	/* traffic is flowing: the reader is busy-polling */
	wait_for(&fixture->handled, 50);
	armed = g_get_monotonic_time();
	g_timeout_add(BUSY_POLL_TIMER_MS, test_timeout_cb, &timer_ran);
	while (!timer_ran)
		g_main_context_iteration(NULL, TRUE);
	fired = g_get_monotonic_time();
	/* fired while the sender still sends (it needs 400 ms and more for all of them) */
	g_assert_cmpuint(fixture->handled, <, BUSY_POLL_PACKETS);
	g_test_message("timer of %d ms ran after %" G_GINT64_FORMAT " us, %u packets in",
		       BUSY_POLL_TIMER_MS,
		       fired - armed,
		       fixture->handled);
	g_assert_cmpint(fired - armed, <, 200 * G_TIME_SPAN_MILLISECOND);

	wait_for(&fixture->handled, BUSY_POLL_PACKETS);
	g_atomic_int_set(&sender.stop, 1);
	g_thread_join(g_steal_pointer(&thread));
	/* every one was accepted, none was lost */
	for (guint i = 0; i < BUSY_POLL_PACKETS; i++) {
		gchar c;
		if (recv(fixture->receiver, &c, 1, MSG_DONTWAIT) == 1)
			received++;
	}
	g_assert_cmpuint(received, ==, BUSY_POLL_PACKETS);
	g_assert_cmpuint(vigil_nfqueue_get_received(fixture->queue), ==, BUSY_POLL_PACKETS);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;

	if (geteuid() != 0) {
		g_printerr("skipped: the nfqueue tests need root to create a network namespace\n");
		return 77;
	}
	if (!test_netns_setup(&error)) {
		g_printerr("skipped: %s\n", error->message);
		return 77;
	}

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* the malformed and overrun tests log warnings on purpose */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

	fixtured_test("/vigil/daemon/nfqueue-netns/allow-ipv4", test_nfqueue_allow_ipv4_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/allow-ipv6", test_nfqueue_allow_ipv6_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/deny", test_nfqueue_deny_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/deferred", test_nfqueue_deferred_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/reject-ipv4", test_nfqueue_reject_ipv4_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/reject-ipv6", test_nfqueue_reject_ipv6_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/reject-keeps-mark",
		      test_nfqueue_reject_keeps_mark_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/malformed-fail-closed",
		      test_nfqueue_malformed_fail_closed_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/malformed-fail-open",
		      test_nfqueue_malformed_fail_open_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/close-releases",
		      test_nfqueue_close_releases_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/busy", test_nfqueue_busy_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/busy-poll", test_nfqueue_busy_poll_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/overrun", test_nfqueue_overrun_func);
	fixtured_test("/vigil/daemon/nfqueue-netns/overhead", test_nfqueue_overhead_func);
	return g_test_run();
}
