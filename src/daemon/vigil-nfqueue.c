/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNfqueue"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-cleanups.h"
#include "vigil-nfqueue.h"
#include "vigil-watch.h"

/*
 * The NFQUEUE reader, on libmnl and the kernel's nfnetlink_queue.h.
 *
 * Packets are read in batches of up to VIGIL_NFQUEUE_BATCH per wake-up with recvmmsg() into
 * one reusable buffer; verdicts given during the batch are appended to one reusable send
 * buffer and go to the kernel in a single sendmsg() when the batch ends, verdicts given
 * later are sent at once. The batch ends with the verdict of its last packet, not when the
 * handler returns from it. Nothing is allocated per packet.
 *
 * Malformed messages: a packet message whose packet header is readable but whose other
 * attributes are not (bad lengths, truncated, no payload) is counted as malformed and gets
 * the policy verdict at once: accept when the queue is fail-open, drop otherwise, the same
 * as the kernel does when the queue is full. Messages without a readable packet id are
 * counted and ignored; the kernel keeps those packets until the queue is closed.
 */

/* one datagram per slot, read with one recvmmsg() */
#define VIGIL_NFQUEUE_RECV_SLOTS     16
#define VIGIL_NFQUEUE_RECV_SLOT_SIZE 8192
#define VIGIL_NFQUEUE_SEND_SIZE	     8192
#define VIGIL_NFQUEUE_BATCH	     64
#define VIGIL_NFQUEUE_COPY_RANGE     512
#define VIGIL_NFQUEUE_RCVBUF	     (8 * 1024 * 1024)
#define VIGIL_NFQUEUE_VERDICT_MAX    64
#define VIGIL_NFQUEUE_ACK_READS	     4096
/* a power of two above the kernel's default queue length of 1024 */
#define VIGIL_NFQUEUE_SLOTS	    4096
#define VIGIL_NFQUEUE_WARN_INTERVAL (10 * G_USEC_PER_SEC)
/* the longest the reader busy-polls before serving the main loop's other sources */
#define VIGIL_NFQUEUE_BUSY_POLL_MAX_US 2000

#define VIGIL_NFQUEUE_MSG_PACKET  ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)
#define VIGIL_NFQUEUE_MSG_VERDICT ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT)
#define VIGIL_NFQUEUE_MSG_CONFIG  ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG)

/* what we know of a packet the kernel holds, indexed by its id: the mark for REJECT */
typedef struct {
	guint32 packet_id;
	guint32 mark;
	gboolean pending;
} VigilNfqueueSlot;

typedef struct {
	gint64 last;
	guint64 suppressed;
} VigilNfqueueRateLimit;

struct _VigilNfqueue {
	GObject parent_instance;
	guint16 queue_num;
	guint32 reject_mark;
	gboolean fail_open;
	VigilNfqueuePacketFunc func;
	gpointer user_data;
	struct mnl_socket *nl;
	guint watch_id;
	gboolean dispatching;
	gboolean first_since_poll; /* the next datagram was queued before the last poll */
	guint busy_poll_us;	   /* keep reading this long after a packet, 0 = never */
	guint8 *recv_buf;	   /* VIGIL_NFQUEUE_RECV_SLOTS of VIGIL_NFQUEUE_RECV_SLOT_SIZE */
	struct iovec recv_iov[VIGIL_NFQUEUE_RECV_SLOTS];
	struct mmsghdr recv_msgs[VIGIL_NFQUEUE_RECV_SLOTS];
	guint8 *send_buf;
	gsize send_len;
	VigilNfqueueSlot *slots; /* of VIGIL_NFQUEUE_SLOTS */
	guint64 received;
	guint64 overruns;
	guint64 malformed;
	VigilNfqueueRateLimit overrun_limit;
	VigilNfqueueRateLimit malformed_limit;
	VigilNfqueueRateLimit error_limit;
};

G_DEFINE_FINAL_TYPE(VigilNfqueue, vigil_nfqueue, G_TYPE_OBJECT)

typedef struct {
	const struct nlattr *tb[NFQA_MAX + 1];
} VigilNfqueueAttrs;

/* TRUE when a warning may be logged now; *suppressed says how many were held back */
static gboolean
vigil_nfqueue_rate_limit(VigilNfqueueRateLimit *limit, guint64 *suppressed)
{
	gint64 now = g_get_monotonic_time();

	if (limit->last != 0 && now - limit->last < VIGIL_NFQUEUE_WARN_INTERVAL) {
		limit->suppressed++;
		return FALSE;
	}
	*suppressed = limit->suppressed;
	limit->suppressed = 0;
	limit->last = now;
	return TRUE;
}

static void
vigil_nfqueue_count_malformed(VigilNfqueue *self, const gchar *what)
{
	guint64 suppressed = 0;

	self->malformed++;
	if (vigil_nfqueue_rate_limit(&self->malformed_limit, &suppressed)) {
		g_warning("queue %u: malformed message: %s (%" G_GUINT64_FORMAT " so far)",
			  self->queue_num,
			  what,
			  self->malformed);
	}
}

static struct nlmsghdr *
vigil_nfqueue_put_header(guint8 *buf, guint16 type, guint16 flags, guint32 seq, guint16 queue_num)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(queue_num);
	return nlh;
}

void
vigil_nfqueue_flush(VigilNfqueue *self)
{
	ssize_t ret;

	g_return_if_fail(VIGIL_IS_NFQUEUE(self));

	if (self->send_len == 0)
		return;
	/* when closed there is no one to tell: the kernel released the packets */
	if (self->nl == NULL) {
		self->send_len = 0;
		return;
	}
	do {
		ret = mnl_socket_sendto(self->nl, self->send_buf, self->send_len);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		gint errsv = errno;
		guint64 suppressed = 0;

		if (vigil_nfqueue_rate_limit(&self->error_limit, &suppressed)) {
			g_warning("queue %u: failed to send verdicts: %s (%" G_GUINT64_FORMAT
				  " errors not logged)",
				  self->queue_num,
				  g_strerror(errsv),
				  suppressed);
		}
	}
	self->send_len = 0;
}

/* the sequence number is the packet id, so that an error ack names the packet */
static void
vigil_nfqueue_put_verdict(VigilNfqueue *self,
			  guint32 packet_id,
			  guint32 verdict,
			  gboolean set_mark,
			  guint32 mark)
{
	struct nlmsghdr *nlh;
	struct nfqnl_msg_verdict_hdr header;

	if (self->send_len + VIGIL_NFQUEUE_VERDICT_MAX > VIGIL_NFQUEUE_SEND_SIZE)
		vigil_nfqueue_flush(self);

	nlh = vigil_nfqueue_put_header(self->send_buf + self->send_len,
				       VIGIL_NFQUEUE_MSG_VERDICT,
				       0,
				       packet_id,
				       self->queue_num);
	header.verdict = htonl(verdict);
	header.id = htonl(packet_id);
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(header), &header);
	if (set_mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(mark));
	self->send_len += nlh->nlmsg_len;

	if (!self->dispatching)
		vigil_nfqueue_flush(self);
}

static void
vigil_nfqueue_policy_verdict(VigilNfqueue *self, guint32 packet_id)
{
	VigilNfqueueSlot *slot = &self->slots[packet_id & (VIGIL_NFQUEUE_SLOTS - 1)];

	if (slot->packet_id == packet_id)
		slot->pending = FALSE;
	vigil_nfqueue_put_verdict(self, packet_id, self->fail_open ? NF_ACCEPT : NF_DROP, FALSE, 0);
}

/**
 * vigil_nfqueue_verdict:
 * @self: a #VigilNfqueue
 * @packet_id: from #VigilNfqueuePacket
 * @action: allow (accept), deny (drop) or reject
 *
 * Gives the kernel the verdict for a queued packet. Reject re-runs the hook (NF_REPEAT)
 * with the reject mark added to the packet mark, for the nft table to refuse it; with no
 * reject mark set it drops instead, since repeating an unmarked packet would queue it
 * again. Inside the handler the verdict is sent with the rest of the batch, otherwise at
 * once.
 */
void
vigil_nfqueue_verdict(VigilNfqueue *self, guint32 packet_id, VigilAction action)
{
	VigilNfqueueSlot *slot;
	gboolean known;

	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	g_return_if_fail(action > VIGIL_ACTION_NONE && action < VIGIL_ACTION_LAST);

	slot = &self->slots[packet_id & (VIGIL_NFQUEUE_SLOTS - 1)];
	known = slot->packet_id == packet_id;
	if (known)
		slot->pending = FALSE;

	switch (action) {
	case VIGIL_ACTION_ALLOW:
		vigil_nfqueue_put_verdict(self, packet_id, NF_ACCEPT, FALSE, 0);
		break;
	case VIGIL_ACTION_DENY:
		vigil_nfqueue_put_verdict(self, packet_id, NF_DROP, FALSE, 0);
		break;
	case VIGIL_ACTION_REJECT:
		if (self->reject_mark == 0) {
			guint64 suppressed = 0;
			if (vigil_nfqueue_rate_limit(&self->error_limit, &suppressed))
				g_warning("queue %u: no reject mark set, dropping instead",
					  self->queue_num);
			vigil_nfqueue_put_verdict(self, packet_id, NF_DROP, FALSE, 0);
			break;
		}
		if (!known)
			g_debug("queue %u: mark of packet %u no longer known",
				self->queue_num,
				packet_id);
		vigil_nfqueue_put_verdict(self,
					  packet_id,
					  NF_REPEAT,
					  TRUE,
					  (known ? slot->mark : 0) | self->reject_mark);
		break;
	default:
		g_assert_not_reached();
	}
}

static int
vigil_nfqueue_attr_cb(const struct nlattr *attr, void *data)
{
	VigilNfqueueAttrs *attrs = data;
	guint16 type = mnl_attr_get_type(attr);

	/* newer kernels may add attributes */
	if (mnl_attr_type_valid(attr, NFQA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFQA_PACKET_HDR:
		if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(struct nfqnl_msg_packet_hdr)) <
		    0)
			return MNL_CB_ERROR;
		break;
	case NFQA_MARK:
	case NFQA_IFINDEX_INDEV:
	case NFQA_IFINDEX_OUTDEV:
	case NFQA_IFINDEX_PHYSINDEV:
	case NFQA_IFINDEX_PHYSOUTDEV:
	case NFQA_CAP_LEN:
	case NFQA_SKB_INFO:
	case NFQA_UID:
	case NFQA_GID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		break;
	}
	attrs->tb[type] = attr;
	return MNL_CB_OK;
}

static guint32
vigil_nfqueue_attr_get_be32(const struct nlattr *attr)
{
	return attr != NULL ? ntohl(mnl_attr_get_u32(attr)) : 0;
}

static int
vigil_nfqueue_packet_cb(const struct nlmsghdr *nlh, void *data)
{
	VigilNfqueue *self = data;
	VigilNfqueueAttrs attrs;
	VigilNfqueuePacket packet;
	VigilNfqueueSlot *slot;
	const struct nfqnl_msg_packet_hdr *header;
	const struct nlattr *attr;
	const guint8 *end = (const guint8 *)nlh + nlh->nlmsg_len;
	const gchar *problem = NULL;

	if (nlh->nlmsg_type != VIGIL_NFQUEUE_MSG_PACKET) {
		g_debug("queue %u: ignoring message type 0x%x", self->queue_num, nlh->nlmsg_type);
		return MNL_CB_OK;
	}
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg)) {
		vigil_nfqueue_count_malformed(self, "packet message without a nfgenmsg header");
		return MNL_CB_OK;
	}
	/* not mnl_attr_parse(): the kernel does not pad the last message (the payload is the
	 * last attribute), and nothing may be read past nlmsg_len */
	memset(attrs.tb, 0, sizeof(attrs.tb));
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
	while (mnl_attr_ok(attr, (gint)(end - (const guint8 *)attr))) {
		if (vigil_nfqueue_attr_cb(attr, &attrs) != MNL_CB_OK) {
			problem = "attribute of the wrong length";
			break;
		}
		attr = mnl_attr_next(attr);
	}
	if (problem == NULL && (const guint8 *)attr < end)
		problem = "truncated attribute";
	else if (problem == NULL && attrs.tb[NFQA_PAYLOAD] == NULL)
		problem = "no payload";

	if (attrs.tb[NFQA_PACKET_HDR] == NULL) {
		vigil_nfqueue_count_malformed(self, problem != NULL ? problem : "no packet header");
		return MNL_CB_OK;
	}
	header = mnl_attr_get_payload(attrs.tb[NFQA_PACKET_HDR]);
	packet.packet_id = ntohl(header->packet_id);
	if (problem != NULL) {
		vigil_nfqueue_count_malformed(self, problem);
		vigil_nfqueue_policy_verdict(self, packet.packet_id);
		return MNL_CB_OK;
	}

	packet.hw_protocol = ntohs(header->hw_protocol);
	packet.hook = header->hook;
	packet.payload = mnl_attr_get_payload(attrs.tb[NFQA_PAYLOAD]);
	packet.payload_len = mnl_attr_get_payload_len(attrs.tb[NFQA_PAYLOAD]);
	packet.uid_known = attrs.tb[NFQA_UID] != NULL;
	packet.uid = vigil_nfqueue_attr_get_be32(attrs.tb[NFQA_UID]);
	packet.gid_known = attrs.tb[NFQA_GID] != NULL;
	packet.gid = vigil_nfqueue_attr_get_be32(attrs.tb[NFQA_GID]);
	packet.mark = vigil_nfqueue_attr_get_be32(attrs.tb[NFQA_MARK]);
	packet.indev = vigil_nfqueue_attr_get_be32(attrs.tb[NFQA_IFINDEX_INDEV]);
	packet.outdev = vigil_nfqueue_attr_get_be32(attrs.tb[NFQA_IFINDEX_OUTDEV]);
	packet.queued_before_poll = self->first_since_poll;
	self->received++;

	slot = &self->slots[packet.packet_id & (VIGIL_NFQUEUE_SLOTS - 1)];
	slot->packet_id = packet.packet_id;
	slot->mark = packet.mark;
	slot->pending = TRUE;

	if (self->func == NULL) {
		vigil_nfqueue_policy_verdict(self, packet.packet_id);
		return MNL_CB_OK;
	}
	self->func(self, &packet, self->user_data);
	return MNL_CB_OK;
}

/* an error ack: a verdict the kernel refused, e.g. for a packet it no longer holds */
static int
vigil_nfqueue_error_cb(const struct nlmsghdr *nlh, void *data)
{
	VigilNfqueue *self = data;
	const struct nlmsgerr *err;
	guint64 suppressed = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
		vigil_nfqueue_count_malformed(self, "short error message");
		return MNL_CB_OK;
	}
	err = mnl_nlmsg_get_payload(nlh);
	if (err->error == 0)
		return MNL_CB_OK;
	if (vigil_nfqueue_rate_limit(&self->error_limit, &suppressed)) {
		g_warning(
		    "queue %u: the kernel refused the verdict for packet %u: %s (%" G_GUINT64_FORMAT
		    " errors not logged)",
		    self->queue_num,
		    nlh->nlmsg_seq,
		    g_strerror(ABS(err->error)),
		    suppressed);
	}
	return MNL_CB_OK;
}

/* mnl_nlmsg_ok() takes a length above 2 GiB for a negative one */
static gboolean
vigil_nfqueue_nlmsg_ok(const struct nlmsghdr *nlh, gint len)
{
	return len >= (gint)sizeof(struct nlmsghdr) && nlh->nlmsg_len >= sizeof(struct nlmsghdr) &&
	       nlh->nlmsg_len <= (guint32)len;
}

/* one datagram, usually one message */
static void
vigil_nfqueue_process(VigilNfqueue *self, const guint8 *buf, gsize len)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	gint remaining = (gint)MIN(len, (gsize)G_MAXINT);

	while (vigil_nfqueue_nlmsg_ok(nlh, remaining)) {
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			vigil_nfqueue_packet_cb(nlh, self);
		else if (nlh->nlmsg_type == NLMSG_ERROR)
			vigil_nfqueue_error_cb(nlh, self);
		nlh = mnl_nlmsg_next(nlh, &remaining);
	}
	if (remaining > 0)
		vigil_nfqueue_count_malformed(self, "bad message length");
}

void
_vigil_nfqueue_process_message(VigilNfqueue *self, const guint8 *buf, gsize len)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	g_return_if_fail(buf != NULL || len == 0);

	self->dispatching = TRUE;
	vigil_nfqueue_process(self, buf, len);
	self->dispatching = FALSE;
	vigil_nfqueue_flush(self);
}

gint
_vigil_nfqueue_get_fd(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), -1);
	return self->nl != NULL ? mnl_socket_get_fd(self->nl) : -1;
}

static void
vigil_nfqueue_count_overrun(VigilNfqueue *self)
{
	guint64 suppressed = 0;

	self->overruns++;
	if (vigil_nfqueue_rate_limit(&self->overrun_limit, &suppressed)) {
		g_warning(
		    "queue %u: receive buffer overrun, queued packets were %s (%" G_GUINT64_FORMAT
		    " overruns so far)",
		    self->queue_num,
		    self->fail_open ? "accepted" : "dropped",
		    self->overruns);
	}
}

/* one batch: reads until the socket is drained or VIGIL_NFQUEUE_BATCH datagrams were read;
 * returns how many were read, and FALSE in @keep when the socket is gone */
static guint
vigil_nfqueue_read_batch(VigilNfqueue *self, gint fd, gboolean *keep)
{
	guint total = 0;

	/* a pending ENOBUFS shows as G_IO_ERR; recvmmsg() reports and clears it. Fewer datagrams
	 * than asked for means the socket is drained, so a quiet wake-up costs one syscall */
	self->dispatching = TRUE;
	while (total < VIGIL_NFQUEUE_BATCH && self->nl != NULL) {
		guint want = MIN(VIGIL_NFQUEUE_RECV_SLOTS, VIGIL_NFQUEUE_BATCH - total);
		gint n = recvmmsg(fd, self->recv_msgs, want, MSG_DONTWAIT, NULL);

		if (n < 0) {
			gint errsv = errno;
			guint64 suppressed = 0;

			if (errsv == EAGAIN)
				break;
			if (errsv == EINTR)
				continue;
			if (errsv == ENOBUFS) {
				vigil_nfqueue_count_overrun(self);
				total++;
				continue;
			}
			if (errsv == EBADF || errsv == ENOTSOCK) {
				g_warning("queue %u: the socket is gone, no longer reading: %s",
					  self->queue_num,
					  g_strerror(errsv));
				*keep = FALSE;
				break;
			}
			if (vigil_nfqueue_rate_limit(&self->error_limit, &suppressed)) {
				g_warning("queue %u: failed to read: %s (%" G_GUINT64_FORMAT
					  " errors not logged)",
					  self->queue_num,
					  g_strerror(errsv),
					  suppressed);
			}
			break;
		}
		for (gint i = 0; i < n && self->nl != NULL; i++) {
			/* the last packet of a drained socket: its verdict goes out as soon as it
			 * is given, with the rest of the batch, so that what the handler does
			 * after deciding (events, the live table) does not hold the connection */
			if (i == n - 1 && (guint)n < want)
				self->dispatching = FALSE;
			if ((self->recv_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
				vigil_nfqueue_count_malformed(self,
							      "datagram larger than the buffer");
				self->first_since_poll = FALSE;
				continue;
			}
			vigil_nfqueue_process(self,
					      self->recv_buf + i * VIGIL_NFQUEUE_RECV_SLOT_SIZE,
					      self->recv_msgs[i].msg_len);
			self->first_since_poll = FALSE;
		}
		total += (guint)n;
		if ((guint)n < want)
			break;
	}
	self->dispatching = FALSE;
	self->first_since_poll = FALSE;
	vigil_nfqueue_flush(self);
	return total;
}

static gboolean
vigil_nfqueue_read_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	g_autoptr(VigilNfqueue) self = g_object_ref(user_data);
	gboolean keep = TRUE;
	gint64 start = 0;
	gint64 until = 0;

	if ((condition & G_IO_NVAL) != 0) {
		g_warning("queue %u: the socket is gone, no longer reading", self->queue_num);
		self->watch_id = 0;
		return G_SOURCE_REMOVE;
	}

	/* the socket is read by no one else, so the first datagram is one the poll saw */
	self->first_since_poll = (condition & G_IO_IN) != 0;
	/* Busy polling: after a packet, keep reading for busy_poll_us before going back to
	 * poll(). A connection that follows within that time is read at once, without the
	 * wake-up of a sleeping thread (on a virtual machine an interrupt and a VM exit,
	 * several microseconds). The time spent here is bounded, so that the main loop's other
	 * sources (D-Bus, the proc connector, agents' answers) are served at least every
	 * VIGIL_NFQUEUE_BUSY_POLL_MAX_US; an idle daemon never spins, since it only gets here
	 * when a packet woke it. Each empty read yields the CPU to whoever waits for it. */
	for (;;) {
		guint got = vigil_nfqueue_read_batch(self, fd, &keep);
		gint64 now;

		if (!keep || self->nl == NULL || self->busy_poll_us == 0)
			break;
		now = g_get_monotonic_time();
		if (start == 0)
			start = now;
		if (got > 0)
			until = now + self->busy_poll_us;
		if (now >= until || now - start >= VIGIL_NFQUEUE_BUSY_POLL_MAX_US)
			break;
		/* spin politely: a process that is waiting for this CPU (on a machine with two,
		 * often the peer of the very connection we just let through) runs first */
		if (got == 0)
			sched_yield();
	}

	if (!keep) {
		self->watch_id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* sends the configuration and waits for its ack, which the kernel queued before sendmsg()
 * returned; packets that arrive in between are handled as usual */
static gboolean
vigil_nfqueue_configure(VigilNfqueue *self, GError **error)
{
	struct nlmsghdr *nlh;
	struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND};
	struct nfqnl_msg_config_params params = {.copy_range = htonl(VIGIL_NFQUEUE_COPY_RANGE),
						 .copy_mode = NFQNL_COPY_PACKET};
	guint32 flags = NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO;
	guint32 mask = NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	guint32 seq = (guint32)g_get_monotonic_time() | 1;
	guint portid = mnl_socket_get_portid(self->nl);
	gint ret = MNL_CB_OK;

	if (self->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	nlh = vigil_nfqueue_put_header(self->send_buf,
				       VIGIL_NFQUEUE_MSG_CONFIG,
				       NLM_F_ACK,
				       seq,
				       self->queue_num);
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	if (mnl_socket_sendto(self->nl, nlh, nlh->nlmsg_len) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to bind queue %u: %s",
			    self->queue_num,
			    g_strerror(errsv));
		return FALSE;
	}

	self->dispatching = TRUE;
	for (guint i = 0; i < VIGIL_NFQUEUE_ACK_READS && ret == MNL_CB_OK && self->nl != NULL;
	     i++) {
		ssize_t len =
		    mnl_socket_recvfrom(self->nl, self->recv_buf, VIGIL_NFQUEUE_RECV_SLOT_SIZE);

		if (len < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			ret = MNL_CB_ERROR;
			break;
		}
		ret = mnl_cb_run(self->recv_buf,
				 (size_t)len,
				 seq,
				 portid,
				 vigil_nfqueue_packet_cb,
				 self);
	}
	self->dispatching = FALSE;
	if (ret == MNL_CB_OK) {
		/* no ack at all */
		errno = ETIMEDOUT;
		ret = MNL_CB_ERROR;
	}
	if (ret == MNL_CB_ERROR) {
		gint errsv = errno;
		self->send_len = 0;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to bind queue %u: %s",
			    self->queue_num,
			    g_strerror(errsv));
		return FALSE;
	}
	vigil_nfqueue_flush(self);
	return TRUE;
}

/**
 * vigil_nfqueue_open:
 * @self: a #VigilNfqueue
 * @error: a #GError, or %NULL
 *
 * Binds the queue (copying the first 512 bytes of each packet, with uid/gid, GSO packets
 * unsegmented and fail-open as configured) and starts reading it on the thread-default
 * main context. Set the handler first.
 *
 * Returns: %TRUE on success
 */
gboolean
vigil_nfqueue_open(VigilNfqueue *self, GError **error)
{
	g_autoptr(VigilMnlSocket) nl = NULL;
	gint size = VIGIL_NFQUEUE_RCVBUF;
	gint fd;

	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), FALSE);
	g_return_val_if_fail(self->nl == NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nl == NULL) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to open a netlink socket for queue %u: %s",
			    self->queue_num,
			    g_strerror(errsv));
		return FALSE;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to bind a netlink socket for queue %u: %s",
			    self->queue_num,
			    g_strerror(errsv));
		return FALSE;
	}

	/* room for bursts; without CAP_NET_ADMIN only up to net.core.rmem_max. NETLINK_NO_ENOBUFS
	 * stays off: an overrun must show up as ENOBUFS */
	fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
		gint errsv = errno;
		g_debug("queue %u: failed to grow the receive buffer: %s",
			self->queue_num,
			g_strerror(errsv));
	}

	self->nl = g_steal_pointer(&nl);
	self->send_len = 0;
	memset(self->slots, 0, sizeof(VigilNfqueueSlot) * VIGIL_NFQUEUE_SLOTS);
	if (!vigil_nfqueue_configure(self, error)) {
		g_clear_pointer(&self->nl, mnl_socket_close);
		return FALSE;
	}
	self->watch_id = vigil_watch_fd(fd, G_IO_IN, vigil_nfqueue_read_cb, self);
	g_debug("queue %u: bound, %s when full",
		self->queue_num,
		self->fail_open ? "accept" : "drop");
	return TRUE;
}

/**
 * vigil_nfqueue_close:
 * @self: a #VigilNfqueue
 *
 * Gives the policy verdict (accept when fail-open, drop otherwise) to the packets still
 * waiting for one, and closes the socket, which unbinds the queue. Safe to call from the
 * handler and when not open.
 */
void
vigil_nfqueue_close(VigilNfqueue *self)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));

	if (self->nl == NULL)
		return;
	for (guint i = 0; i < VIGIL_NFQUEUE_SLOTS; i++) {
		if (self->slots[i].pending)
			vigil_nfqueue_policy_verdict(self, self->slots[i].packet_id);
	}
	vigil_nfqueue_flush(self);
	g_clear_handle_id(&self->watch_id, g_source_remove);
	g_clear_pointer(&self->nl, mnl_socket_close);
	g_debug("queue %u: closed", self->queue_num);
}

/**
 * vigil_nfqueue_set_busy_poll:
 * @self: a #VigilNfqueue
 * @usec: how long to keep reading after a packet, in microseconds; 0 switches it off
 *
 * Sets busy polling: after each packet the reader keeps reading the socket, without
 * sleeping, for @usec microseconds, so that a connection that follows soon is not delayed
 * by a wake-up. It costs CPU time only while packets are arriving.
 */
void
vigil_nfqueue_set_busy_poll(VigilNfqueue *self, guint usec)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	self->busy_poll_us = usec;
}

gboolean
vigil_nfqueue_is_open(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), FALSE);
	return self->nl != NULL;
}

guint16
vigil_nfqueue_get_queue_num(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), 0);
	return self->queue_num;
}

void
vigil_nfqueue_set_handler(VigilNfqueue *self, VigilNfqueuePacketFunc func, gpointer user_data)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	self->func = func;
	self->user_data = user_data;
}

/* the bits REJECT adds to the packet mark; the nft table rejects packets carrying them */
void
vigil_nfqueue_set_reject_mark(VigilNfqueue *self, guint32 mark)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	self->reject_mark = mark;
}

/* takes effect at the next vigil_nfqueue_open() */
void
vigil_nfqueue_set_fail_open(VigilNfqueue *self, gboolean fail_open)
{
	g_return_if_fail(VIGIL_IS_NFQUEUE(self));
	self->fail_open = fail_open;
}

guint64
vigil_nfqueue_get_received(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), 0);
	return self->received;
}

/* how many times the receive buffer overflowed (ENOBUFS); each time one or more packets
 * were lost to the kernel's queue policy */
guint64
vigil_nfqueue_get_overruns(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), 0);
	return self->overruns;
}

guint64
vigil_nfqueue_get_malformed(VigilNfqueue *self)
{
	g_return_val_if_fail(VIGIL_IS_NFQUEUE(self), 0);
	return self->malformed;
}

static void
vigil_nfqueue_dispose(GObject *object)
{
	VigilNfqueue *self = VIGIL_NFQUEUE(object);

	vigil_nfqueue_close(self);
	G_OBJECT_CLASS(vigil_nfqueue_parent_class)->dispose(object);
}

static void
vigil_nfqueue_finalize(GObject *object)
{
	VigilNfqueue *self = VIGIL_NFQUEUE(object);

	g_free(self->recv_buf);
	g_free(self->send_buf);
	g_free(self->slots);
	G_OBJECT_CLASS(vigil_nfqueue_parent_class)->finalize(object);
}

static void
vigil_nfqueue_class_init(VigilNfqueueClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_nfqueue_dispose;
	object_class->finalize = vigil_nfqueue_finalize;
}

static void
vigil_nfqueue_init(VigilNfqueue *self)
{
	self->recv_buf = g_malloc(VIGIL_NFQUEUE_RECV_SLOTS * VIGIL_NFQUEUE_RECV_SLOT_SIZE);
	for (guint i = 0; i < VIGIL_NFQUEUE_RECV_SLOTS; i++) {
		self->recv_iov[i].iov_base = self->recv_buf + i * VIGIL_NFQUEUE_RECV_SLOT_SIZE;
		self->recv_iov[i].iov_len = VIGIL_NFQUEUE_RECV_SLOT_SIZE;
		self->recv_msgs[i].msg_hdr.msg_iov = &self->recv_iov[i];
		self->recv_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* zeroed: libmnl 1.0.4 does not clear attribute padding, which would leak heap bytes
	 * to the kernel */
	self->send_buf = g_malloc0(VIGIL_NFQUEUE_SEND_SIZE);
	self->slots = g_new0(VigilNfqueueSlot, VIGIL_NFQUEUE_SLOTS);
}

VigilNfqueue *
vigil_nfqueue_new(guint16 queue_num)
{
	VigilNfqueue *self = g_object_new(VIGIL_TYPE_NFQUEUE, NULL);

	self->queue_num = queue_num;
	return self;
}
