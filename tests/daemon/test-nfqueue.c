/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>

#include "vigil-nfqueue.h"
#include "vigil-packet.h"

/* crafted nfnetlink_queue messages fed to _vigil_nfqueue_process_message(), no kernel */

#define MESSAGE_MAX 4096

typedef struct {
	VigilNfqueue *queue;
	guint handled;
	VigilNfqueuePacket last;
	guint8 last_payload[256];
	guint8 buf[MESSAGE_MAX];
	gsize len;
} Fixture;

static const guint8 payload_udp[] = {0x45, 0, 0,   28, 0, 1, 0x40, 0,	 64,   17,   0, 0, 127, 0,
				     0,	   1, 127, 0,  0, 2, 0x9c, 0x40, 0x4e, 0x21, 0, 8, 0,	0};

static void
fixture_handler_cb(VigilNfqueue *queue, const VigilNfqueuePacket *packet, gpointer user_data)
{
	Fixture *fixture = user_data;

	fixture->handled++;
	fixture->last = *packet;
	g_assert_cmpuint(packet->payload_len, <=, sizeof(fixture->last_payload));
	memcpy(fixture->last_payload, packet->payload, packet->payload_len);
	vigil_nfqueue_verdict(queue, packet->packet_id, VIGIL_ACTION_ALLOW);
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	fixture->queue = vigil_nfqueue_new(3);
	vigil_nfqueue_set_handler(fixture->queue, fixture_handler_cb, fixture);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	g_assert_finalize_object(fixture->queue);
}

#define fixtured_test(path, func)                                                                  \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

typedef enum {
	MESSAGE_FULL = 0,
	MESSAGE_NO_HEADER = 1 << 0,
	MESSAGE_NO_PAYLOAD = 1 << 1,
	MESSAGE_SHORT_HEADER = 1 << 2,
	MESSAGE_SHORT_UID = 1 << 3,
	MESSAGE_UNKNOWN_ATTR = 1 << 4,
	MESSAGE_NO_UID = 1 << 5,
	MESSAGE_UNPADDED = 1 << 6,
} MessageFlags;

/* appends one packet message as the kernel builds it */
static struct nlmsghdr *
fixture_put_packet(Fixture *fixture, guint32 packet_id, MessageFlags flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(fixture->buf + fixture->len);
	struct nfgenmsg *nfg;
	struct nfqnl_msg_packet_hdr header = {.packet_id = htonl(packet_id),
					      .hw_protocol = htons(0x0800),
					      .hook = 3};

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(3);
	if ((flags & MESSAGE_NO_HEADER) == 0)
		mnl_attr_put(nlh,
			     NFQA_PACKET_HDR,
			     (flags & MESSAGE_SHORT_HEADER) != 0 ? sizeof(header) - 1
								 : sizeof(header),
			     &header);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x11));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(1));
	if ((flags & MESSAGE_UNKNOWN_ATTR) != 0) {
		mnl_attr_put_u32(nlh, NFQA_PRIORITY, htonl(6));
		mnl_attr_put_u32(nlh, 200, 0);
	}
	if ((flags & MESSAGE_SHORT_UID) != 0)
		mnl_attr_put_u16(nlh, NFQA_UID, 1000);
	else if ((flags & MESSAGE_NO_UID) == 0)
		mnl_attr_put_u32(nlh, NFQA_UID, htonl(1000));
	mnl_attr_put_u32(nlh, NFQA_GID, htonl(100));
	if ((flags & MESSAGE_UNPADDED) != 0) {
		guint8 odd[sizeof(payload_udp) + 1] = {0};

		/* as the kernel sends it: the odd-sized payload last, without padding */
		memcpy(odd, payload_udp, sizeof(payload_udp));
		mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(odd), odd);
		nlh->nlmsg_len -= MNL_ALIGN(sizeof(odd)) - sizeof(odd);
	} else if ((flags & MESSAGE_NO_PAYLOAD) == 0) {
		mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(payload_udp), payload_udp);
	}
	fixture->len += nlh->nlmsg_len;
	g_assert_cmpuint(fixture->len, <=, MESSAGE_MAX);
	return nlh;
}

static void
fixture_process(Fixture *fixture)
{
	/* an exact-size copy, so that reads past the end show under valgrind or ASan */
	g_autofree guint8 *copy = g_memdup2(fixture->buf, MAX(fixture->len, 1));

	_vigil_nfqueue_process_message(fixture->queue, copy, fixture->len);
}

static void
test_nfqueue_valid_func(Fixture *fixture, gconstpointer user_data)
{
	VigilPacket packet;
	g_autoptr(GError) error = NULL;
	gboolean ret;

	fixture_put_packet(fixture, 42, MESSAGE_FULL);
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 1);
	g_assert_cmpuint(vigil_nfqueue_get_received(fixture->queue), ==, 1);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 0);
	g_assert_cmpuint(fixture->last.packet_id, ==, 42);
	g_assert_cmpuint(fixture->last.hw_protocol, ==, 0x0800);
	g_assert_cmpuint(fixture->last.hook, ==, 3);
	g_assert_true(fixture->last.uid_known);
	g_assert_cmpuint(fixture->last.uid, ==, 1000);
	g_assert_true(fixture->last.gid_known);
	g_assert_cmpuint(fixture->last.gid, ==, 100);
	g_assert_cmpuint(fixture->last.mark, ==, 0x11);
	g_assert_cmpuint(fixture->last.indev, ==, 0);
	g_assert_cmpuint(fixture->last.outdev, ==, 1);
	g_assert_cmpmem(fixture->last_payload,
			fixture->last.payload_len,
			payload_udp,
			sizeof(payload_udp));

	ret = vigil_packet_parse(fixture->last_payload, fixture->last.payload_len, &packet, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(packet.sport, ==, 40000);
	g_assert_cmpuint(packet.dport, ==, 20001);

	/* the kernel leaves the last message unpadded */
	fixture->len = 0;
	fixture_put_packet(fixture, 43, MESSAGE_UNPADDED);
	g_assert_cmpuint(fixture->len % 4, ==, 1);
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 2);
	g_assert_cmpuint(fixture->last.packet_id, ==, 43);
	g_assert_cmpuint(fixture->last.payload_len, ==, sizeof(payload_udp) + 1);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 0);
}

static void
test_nfqueue_batch_func(Fixture *fixture, gconstpointer user_data)
{
	/* several messages in one datagram, unknown attributes and a missing uid */
	fixture_put_packet(fixture, 1, MESSAGE_FULL);
	fixture_put_packet(fixture, 2, MESSAGE_UNKNOWN_ATTR);
	fixture_put_packet(fixture, 3, MESSAGE_NO_UID);
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 3);
	g_assert_cmpuint(fixture->last.packet_id, ==, 3);
	g_assert_false(fixture->last.uid_known);
	g_assert_cmpuint(fixture->last.uid, ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 0);
}

static void
test_nfqueue_malformed_func(Fixture *fixture, gconstpointer user_data)
{
	const MessageFlags cases[] = {MESSAGE_NO_HEADER,
				      MESSAGE_NO_PAYLOAD,
				      MESSAGE_SHORT_HEADER,
				      MESSAGE_SHORT_UID,
				      MESSAGE_NO_HEADER | MESSAGE_NO_PAYLOAD};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		fixture->len = 0;
		fixture_put_packet(fixture, i + 1, cases[i]);
		fixture_process(fixture);
		g_assert_cmpuint(fixture->handled, ==, 0);
		g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, i + 1);
	}
	g_assert_cmpuint(vigil_nfqueue_get_received(fixture->queue), ==, 0);

	/* a malformed message does not stop the next one in the same datagram */
	fixture->len = 0;
	fixture_put_packet(fixture, 10, MESSAGE_NO_PAYLOAD);
	fixture_put_packet(fixture, 11, MESSAGE_FULL);
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 1);
	g_assert_cmpuint(fixture->last.packet_id, ==, 11);
}

static void
test_nfqueue_bogus_lengths_func(Fixture *fixture, gconstpointer user_data)
{
	struct nlmsghdr *nlh;
	struct nlattr *attr;
	guint64 malformed;

	/* the datagram ends inside the message */
	nlh = fixture_put_packet(fixture, 1, MESSAGE_FULL);
	fixture->len -= 8;
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 1);

	/* the message ends inside its last attribute (the payload) */
	fixture->len = 0;
	nlh = fixture_put_packet(fixture, 2, MESSAGE_FULL);
	nlh->nlmsg_len -= 8;
	fixture->len -= 8;
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 2);

	/* an attribute claiming more than the message holds */
	fixture->len = 0;
	nlh = fixture_put_packet(fixture, 3, MESSAGE_FULL);
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
	attr = mnl_attr_next(attr); /* the mark, after the packet header */
	attr->nla_len = 0xfff0;
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 3);

	/* a zero-length attribute */
	attr->nla_len = 0;
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 4);

	/* a message length below the header, or cutting the payload */
	fixture->len = 0;
	nlh = fixture_put_packet(fixture, 4, MESSAGE_FULL);
	nlh->nlmsg_len = 8;
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 5);
	nlh->nlmsg_len = fixture->len - 1;
	fixture->len -= 1;
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 6);

	/* a packet message too short for its nfgenmsg */
	fixture->len = 0;
	nlh = mnl_nlmsg_put_header(fixture->buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	fixture->len = nlh->nlmsg_len;
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 7);

	/* trailing bytes after a good message */
	fixture->len = 0;
	fixture_put_packet(fixture, 5, MESSAGE_FULL);
	memset(fixture->buf + fixture->len, 0xaa, 7);
	fixture->len += 7;
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 1);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 8);

	/* empty */
	malformed = vigil_nfqueue_get_malformed(fixture->queue);
	fixture->len = 0;
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, malformed);
}

static void
test_nfqueue_control_func(Fixture *fixture, gconstpointer user_data)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *err;

	/* an error ack for a verdict, a short one, a no-op and another subsystem's message */
	nlh = mnl_nlmsg_put_header(fixture->buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 77;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -ENOENT;
	fixture->len = nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(fixture->buf + fixture->len);
	nlh->nlmsg_type = NLMSG_NOOP;
	fixture->len += nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(fixture->buf + fixture->len);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | 1;
	fixture->len += nlh->nlmsg_len;
	fixture_put_packet(fixture, 9, MESSAGE_FULL);
	fixture_process(fixture);
	g_assert_cmpuint(fixture->handled, ==, 1);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 0);

	fixture->len = 0;
	nlh = mnl_nlmsg_put_header(fixture->buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_len += 2;
	fixture->len = MNL_ALIGN(nlh->nlmsg_len);
	fixture_process(fixture);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, 1);
}

static void
test_nfqueue_prefixes_func(Fixture *fixture, gconstpointer user_data)
{
	gsize full;

	fixture_put_packet(fixture, 1, MESSAGE_FULL);
	full = fixture->len;
	for (gsize len = 0; len < full; len++) {
		fixture->len = len;
		fixture_process(fixture);
	}
	g_assert_cmpuint(fixture->handled, ==, 0);
	g_assert_cmpuint(vigil_nfqueue_get_malformed(fixture->queue), ==, full - 1);
}

static void
test_nfqueue_random_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());
	gsize full;
	guint8 good[MESSAGE_MAX];

	fixture_put_packet(fixture, 1, MESSAGE_FULL);
	fixture_put_packet(fixture, 2, MESSAGE_UNKNOWN_ATTR);
	full = fixture->len;
	memcpy(good, fixture->buf, full);

	for (guint i = 0; i < 100000; i++) {
		guint flips = g_rand_int_range(rand, 1, 8);

		memcpy(fixture->buf, good, full);
		fixture->len = full;
		for (guint j = 0; j < flips; j++) {
			gsize pos = g_rand_int_range(rand, 0, (gint32)full);
			fixture->buf[pos] = (guint8)g_rand_int(rand);
		}
		if (g_rand_int_range(rand, 0, 4) == 0)
			fixture->len = g_rand_int_range(rand, 0, (gint32)full);
		fixture_process(fixture);
	}
	for (guint i = 0; i < 20000; i++) {
		fixture->len = g_rand_int_range(rand, 0, 256);
		for (gsize j = 0; j < fixture->len; j++)
			fixture->buf[j] = (guint8)g_rand_int(rand);
		fixture_process(fixture);
	}
	g_test_message("%u handled, %" G_GUINT64_FORMAT " malformed",
		       fixture->handled,
		       vigil_nfqueue_get_malformed(fixture->queue));
}

static void
test_nfqueue_closed_func(Fixture *fixture, gconstpointer user_data)
{
	/* nothing to send to, no crash; closing twice is fine */
	g_assert_false(vigil_nfqueue_is_open(fixture->queue));
	g_assert_cmpint(_vigil_nfqueue_get_fd(fixture->queue), ==, -1);
	g_assert_cmpuint(vigil_nfqueue_get_queue_num(fixture->queue), ==, 3);
	vigil_nfqueue_verdict(fixture->queue, 5, VIGIL_ACTION_DENY);
	vigil_nfqueue_verdict(fixture->queue, 5, VIGIL_ACTION_REJECT);
	vigil_nfqueue_flush(fixture->queue);
	vigil_nfqueue_close(fixture->queue);
	vigil_nfqueue_close(fixture->queue);
}

/* the CPU cost of parsing one message, calling the handler and building its verdict */
static void
test_nfqueue_cost_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GTimer) timer = g_timer_new();
	const guint n = 200000;
	VigilPacket packet;

	fixture_put_packet(fixture, 1, MESSAGE_FULL);
	for (guint i = 0; i < n; i++) {
		_vigil_nfqueue_process_message(fixture->queue, fixture->buf, fixture->len);
		g_assert_true(vigil_packet_parse(fixture->last_payload,
						 fixture->last.payload_len,
						 &packet,
						 NULL));
	}
	g_test_message("parse + handler + packet parse: %.3f us per message",
		       g_timer_elapsed(timer, NULL) * 1e6 / n);
	g_assert_cmpuint(fixture->handled, ==, n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* malformed input is logged as a warning, which is expected here */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

	fixtured_test("/vigil/daemon/nfqueue/valid", test_nfqueue_valid_func);
	fixtured_test("/vigil/daemon/nfqueue/batch", test_nfqueue_batch_func);
	fixtured_test("/vigil/daemon/nfqueue/malformed", test_nfqueue_malformed_func);
	fixtured_test("/vigil/daemon/nfqueue/bogus-lengths", test_nfqueue_bogus_lengths_func);
	fixtured_test("/vigil/daemon/nfqueue/control", test_nfqueue_control_func);
	fixtured_test("/vigil/daemon/nfqueue/prefixes", test_nfqueue_prefixes_func);
	fixtured_test("/vigil/daemon/nfqueue/random", test_nfqueue_random_func);
	fixtured_test("/vigil/daemon/nfqueue/closed", test_nfqueue_closed_func);
	fixtured_test("/vigil/daemon/nfqueue/cost", test_nfqueue_cost_func);
	return g_test_run();
}
