/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNlConntrack"

#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-nl-attr.h"
#include "vigil-nl-conntrack.h"
#include "vigil-watch.h"

/*
 * ctnetlink with libmnl: one socket subscribed to the new, update and destroy groups, and
 * one for dumps. The subscription can be dropped (vigil_nl_conntrack_set_events()): the
 * kernel then neither adds its event extension to new conntrack entries nor builds event
 * messages, which costs every new connection several microseconds; the table then learns
 * of new connections from a dump a few seconds after them (vigil_nl_conntrack_expect()),
 * while the kernel still holds them, closed ones included, with their final counters. Both are
 * non-blocking and watched on the main loop. A dump is a mark-and-sweep of the table: the start
 * bumps the table's generation, every entry the dump (or an event meanwhile) shows is marked, and
 * at the end what was not seen is closed. The initial dump, the resync after ENOBUFS on the event
 * socket, and the counter refresh the daemon asks for on its own timer (updates carry counters only
 * on state changes) are all the same operation. Parsing a message costs well under a microsecond,
 * so everything runs on the main loop, a bounded number of datagrams per wakeup.
 */

#define BUFFER_SIZE (64 * 1024)
/* every event is its own datagram: read many with one recvmmsg() */
#define EVENT_SLOTS	32
#define EVENT_SLOT_SIZE 8192
/* per dispatch: the main loop serves the queue between two chunks, so a burst of events
 * (1,200 every 100 ms at 6,000 connections a second) holds a new connection for about
 * half a millisecond at most rather than for all of it */
#define EVENT_DATAGRAMS_PER_BATCH 512
#define EVENTS_REST_MS		  100
#define DUMP_DATAGRAMS_PER_CALL	  4
#define CONNTRACK_GROUPS	  3
#define REQUEST_SIZE		  256
/* without events, a dump this soon after new connections: well within the 10 s that
 * conntrack keeps a reset TCP connection (120 s after FIN, 30 s for UDP) */
#define SETTLE_SECONDS 3
/* without events, a dump at once when this many attributions wait for their entries, but
 * not more often than every FLOOD_DUMP_INTERVAL (a dump costs ~5 us per kernel entry) */
#define FLOOD_PENDING	    (VIGIL_CONNECTION_TABLE_PENDING_MAX / 2)
#define FLOOD_DUMP_INTERVAL G_USEC_PER_SEC

struct _VigilNlConntrack {
	GObject parent_instance;
	VigilConnectionTable *table;
	struct mnl_socket *events_socket;
	struct mnl_socket *dump;
	guint events_watch;
	guint events_rest_id;
	guint dump_watch;
	guint refresh_id;
	guint refresh_interval;
	gboolean updates;
	gboolean events;
	guint settle_id;
	gint64 last_dump; /* monotonic start of the last dump */
	guint8 *buffer;
	guint8 *event_buffer; /* EVENT_SLOTS of EVENT_SLOT_SIZE */
	struct iovec event_iov[EVENT_SLOTS];
	struct mmsghdr event_msgs[EVENT_SLOTS];
	struct sockaddr_nl event_addrs[EVENT_SLOTS];
	guint receive_buffer;
	gboolean accounting;
	gboolean dumping;
	gboolean dump_again;
	gboolean dump_interrupted;
	guint32 dump_seq;
	guint64 n_overruns;
	guint64 n_malformed;
};

enum { SIGNAL_DUMP_FINISHED, SIGNAL_LAST };

static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_FINAL_TYPE(VigilNlConntrack, vigil_nl_conntrack, G_TYPE_OBJECT)

/* parsing */

static const VigilNlAttrPolicy ct_policy[CTA_MAX + 1] = {
    [CTA_TUPLE_ORIG] = {MNL_TYPE_NESTED, 0},
    [CTA_TUPLE_REPLY] = {MNL_TYPE_NESTED, 0},
    [CTA_STATUS] = {MNL_TYPE_U32, 0},
    [CTA_PROTOINFO] = {MNL_TYPE_NESTED, 0},
    [CTA_TIMEOUT] = {MNL_TYPE_U32, 0},
    [CTA_MARK] = {MNL_TYPE_U32, 0},
    [CTA_COUNTERS_ORIG] = {MNL_TYPE_NESTED, 0},
    [CTA_COUNTERS_REPLY] = {MNL_TYPE_NESTED, 0},
    [CTA_ID] = {MNL_TYPE_U32, 0},
    [CTA_ZONE] = {MNL_TYPE_U16, 0},
    [CTA_TIMESTAMP] = {MNL_TYPE_NESTED, 0},
};

static const VigilNlAttrPolicy tuple_policy[CTA_TUPLE_MAX + 1] = {
    [CTA_TUPLE_IP] = {MNL_TYPE_NESTED, 0},
    [CTA_TUPLE_PROTO] = {MNL_TYPE_NESTED, 0},
};

static const VigilNlAttrPolicy ip_policy[CTA_IP_MAX + 1] = {
    [CTA_IP_V4_SRC] = {MNL_TYPE_BINARY, 4, 4},
    [CTA_IP_V4_DST] = {MNL_TYPE_BINARY, 4, 4},
    [CTA_IP_V6_SRC] = {MNL_TYPE_BINARY, 16, 16},
    [CTA_IP_V6_DST] = {MNL_TYPE_BINARY, 16, 16},
};

static const VigilNlAttrPolicy proto_policy[CTA_PROTO_MAX + 1] = {
    [CTA_PROTO_NUM] = {MNL_TYPE_U8, 0},
    [CTA_PROTO_SRC_PORT] = {MNL_TYPE_U16, 0},
    [CTA_PROTO_DST_PORT] = {MNL_TYPE_U16, 0},
    [CTA_PROTO_ICMP_ID] = {MNL_TYPE_U16, 0},
    [CTA_PROTO_ICMP_TYPE] = {MNL_TYPE_U8, 0},
    [CTA_PROTO_ICMP_CODE] = {MNL_TYPE_U8, 0},
    [CTA_PROTO_ICMPV6_ID] = {MNL_TYPE_U16, 0},
    [CTA_PROTO_ICMPV6_TYPE] = {MNL_TYPE_U8, 0},
    [CTA_PROTO_ICMPV6_CODE] = {MNL_TYPE_U8, 0},
};

static const VigilNlAttrPolicy protoinfo_policy[CTA_PROTOINFO_MAX + 1] = {
    [CTA_PROTOINFO_TCP] = {MNL_TYPE_NESTED, 0},
};

static const VigilNlAttrPolicy protoinfo_tcp_policy[CTA_PROTOINFO_TCP_MAX + 1] = {
    [CTA_PROTOINFO_TCP_STATE] = {MNL_TYPE_U8, 0},
};

static const VigilNlAttrPolicy counters_policy[CTA_COUNTERS_MAX + 1] = {
    [CTA_COUNTERS_PACKETS] = {MNL_TYPE_U64, 0},
    [CTA_COUNTERS_BYTES] = {MNL_TYPE_U64, 0},
    [CTA_COUNTERS32_PACKETS] = {MNL_TYPE_U32, 0},
    [CTA_COUNTERS32_BYTES] = {MNL_TYPE_U32, 0},
};

static const VigilNlAttrPolicy timestamp_policy[CTA_TIMESTAMP_MAX + 1] = {
    [CTA_TIMESTAMP_START] = {MNL_TYPE_U64, 0},
    [CTA_TIMESTAMP_STOP] = {MNL_TYPE_U64, 0},
};

static gboolean
parse_nested(const struct nlattr *nest,
	     const VigilNlAttrPolicy *policy,
	     guint max,
	     const struct nlattr **tb,
	     const gchar *what,
	     GError **error)
{
	VigilNlAttrTable table = {tb, policy, max};

	if (mnl_attr_parse_nested(nest, vigil_nl_attr_table_cb, &table) < MNL_CB_STOP) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "malformed %s attribute",
			    what);
		return FALSE;
	}
	return TRUE;
}

static guint16
attr_get_be16(const struct nlattr *attr)
{
	return attr != NULL ? GUINT16_FROM_BE(mnl_attr_get_u16(attr)) : 0;
}

static guint32
attr_get_be32(const struct nlattr *attr)
{
	return attr != NULL ? GUINT32_FROM_BE(mnl_attr_get_u32(attr)) : 0;
}

static guint64
attr_get_be64(const struct nlattr *attr)
{
	return attr != NULL ? GUINT64_FROM_BE(mnl_attr_get_u64(attr)) : 0;
}

static guint8
attr_get_u8(const struct nlattr *attr)
{
	return attr != NULL ? mnl_attr_get_u8(attr) : 0;
}

static gboolean
parse_tuple(const struct nlattr *nest, VigilConntrackTuple *tuple, GError **error)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = {NULL};
	const struct nlattr *ip[CTA_IP_MAX + 1] = {NULL};
	const struct nlattr *proto[CTA_PROTO_MAX + 1] = {NULL};

	memset(tuple, 0, sizeof(*tuple));
	if (!parse_nested(nest, tuple_policy, CTA_TUPLE_MAX, tb, "tuple", error))
		return FALSE;
	if (tb[CTA_TUPLE_IP] == NULL || tb[CTA_TUPLE_PROTO] == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "tuple without addresses or protocol");
		return FALSE;
	}
	if (!parse_nested(tb[CTA_TUPLE_IP], ip_policy, CTA_IP_MAX, ip, "tuple address", error) ||
	    !parse_nested(tb[CTA_TUPLE_PROTO],
			  proto_policy,
			  CTA_PROTO_MAX,
			  proto,
			  "tuple protocol",
			  error))
		return FALSE;

	if (ip[CTA_IP_V4_SRC] != NULL && ip[CTA_IP_V4_DST] != NULL) {
		tuple->family = 4;
		memcpy(tuple->src, mnl_attr_get_payload(ip[CTA_IP_V4_SRC]), 4);
		memcpy(tuple->dst, mnl_attr_get_payload(ip[CTA_IP_V4_DST]), 4);
	} else if (ip[CTA_IP_V6_SRC] != NULL && ip[CTA_IP_V6_DST] != NULL) {
		tuple->family = 6;
		memcpy(tuple->src, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
		memcpy(tuple->dst, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
	} else {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "tuple without IPv4 or IPv6 addresses");
		return FALSE;
	}
	if (proto[CTA_PROTO_NUM] == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "tuple without protocol number");
		return FALSE;
	}
	tuple->protocol = attr_get_u8(proto[CTA_PROTO_NUM]);
	if (tuple->protocol == IPPROTO_ICMP) {
		tuple->icmp_type = attr_get_u8(proto[CTA_PROTO_ICMP_TYPE]);
		tuple->icmp_code = attr_get_u8(proto[CTA_PROTO_ICMP_CODE]);
		tuple->icmp_id = attr_get_be16(proto[CTA_PROTO_ICMP_ID]);
	} else if (tuple->protocol == IPPROTO_ICMPV6) {
		tuple->icmp_type = attr_get_u8(proto[CTA_PROTO_ICMPV6_TYPE]);
		tuple->icmp_code = attr_get_u8(proto[CTA_PROTO_ICMPV6_CODE]);
		tuple->icmp_id = attr_get_be16(proto[CTA_PROTO_ICMPV6_ID]);
	} else {
		tuple->sport = attr_get_be16(proto[CTA_PROTO_SRC_PORT]);
		tuple->dport = attr_get_be16(proto[CTA_PROTO_DST_PORT]);
	}
	return TRUE;
}

static gboolean
parse_counters(const struct nlattr *nest, guint64 *packets, guint64 *bytes, GError **error)
{
	const struct nlattr *tb[CTA_COUNTERS_MAX + 1] = {NULL};

	if (!parse_nested(nest, counters_policy, CTA_COUNTERS_MAX, tb, "counters", error))
		return FALSE;
	*packets = tb[CTA_COUNTERS_PACKETS] != NULL ? attr_get_be64(tb[CTA_COUNTERS_PACKETS])
						    : attr_get_be32(tb[CTA_COUNTERS32_PACKETS]);
	*bytes = tb[CTA_COUNTERS_BYTES] != NULL ? attr_get_be64(tb[CTA_COUNTERS_BYTES])
						: attr_get_be32(tb[CTA_COUNTERS32_BYTES]);
	return TRUE;
}

static gboolean
parse_protoinfo(const struct nlattr *nest, VigilConntrackEntry *entry, GError **error)
{
	const struct nlattr *tb[CTA_PROTOINFO_MAX + 1] = {NULL};
	const struct nlattr *tcp[CTA_PROTOINFO_TCP_MAX + 1] = {NULL};

	if (!parse_nested(nest, protoinfo_policy, CTA_PROTOINFO_MAX, tb, "protoinfo", error))
		return FALSE;
	if (tb[CTA_PROTOINFO_TCP] == NULL)
		return TRUE;
	if (!parse_nested(tb[CTA_PROTOINFO_TCP],
			  protoinfo_tcp_policy,
			  CTA_PROTOINFO_TCP_MAX,
			  tcp,
			  "TCP protoinfo",
			  error))
		return FALSE;
	entry->tcp_state = attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
	return TRUE;
}

/*
 * Parses one ctnetlink conntrack message (event or dump reply) at @data, which must be
 * 4-byte aligned and hold the whole message. Other netlink messages are an error.
 */
gboolean
vigil_nl_conntrack_parse(const guint8 *data, gsize len, VigilConntrackEntry *entry, GError **error)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	const struct nlattr *tb[CTA_MAX + 1] = {NULL};
	const struct nlattr *timestamp[CTA_TIMESTAMP_MAX + 1] = {NULL};
	VigilNlAttrTable table = {tb, ct_policy, CTA_MAX};
	guint message;

	g_return_val_if_fail(data != NULL, FALSE);
	g_return_val_if_fail(((guintptr)data & 3) == 0, FALSE);
	g_return_val_if_fail(entry != NULL, FALSE);

	memset(entry, 0, sizeof(*entry));
	if (len < sizeof(struct nlmsghdr) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) ||
	    MNL_ALIGN(nlh->nlmsg_len) > len) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "truncated netlink message");
		return FALSE;
	}
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "not a ctnetlink message (type 0x%x)",
			    nlh->nlmsg_type);
		return FALSE;
	}
	message = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (message == IPCTNL_MSG_CT_DELETE) {
		entry->type = VIGIL_CONNTRACK_EVENT_DESTROY;
	} else if (message == IPCTNL_MSG_CT_NEW) {
		if ((nlh->nlmsg_flags & NLM_F_MULTI) != 0)
			entry->type = VIGIL_CONNTRACK_EVENT_DUMP;
		else if ((nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) != 0)
			entry->type = VIGIL_CONNTRACK_EVENT_NEW;
		else
			entry->type = VIGIL_CONNTRACK_EVENT_UPDATE;
	} else {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "not a conntrack entry message (%u)",
			    message);
		return FALSE;
	}

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), vigil_nl_attr_table_cb, &table) <
	    MNL_CB_STOP) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "malformed conntrack attribute");
		return FALSE;
	}
	if (tb[CTA_TUPLE_ORIG] == NULL || tb[CTA_ID] == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "conntrack message without original tuple or id");
		return FALSE;
	}
	if (!parse_tuple(tb[CTA_TUPLE_ORIG], &entry->orig, error)) {
		g_prefix_error(error, "original: ");
		return FALSE;
	}
	if (tb[CTA_TUPLE_REPLY] != NULL) {
		if (!parse_tuple(tb[CTA_TUPLE_REPLY], &entry->reply, error)) {
			g_prefix_error(error, "reply: ");
			return FALSE;
		}
		entry->has_reply = TRUE;
	}
	entry->id = attr_get_be32(tb[CTA_ID]);
	entry->status = attr_get_be32(tb[CTA_STATUS]);
	entry->mark = attr_get_be32(tb[CTA_MARK]);
	entry->timeout = attr_get_be32(tb[CTA_TIMEOUT]);
	entry->zone = attr_get_be16(tb[CTA_ZONE]);
	entry->tcp_state = TCP_CONNTRACK_NONE;
	if (tb[CTA_PROTOINFO] != NULL && !parse_protoinfo(tb[CTA_PROTOINFO], entry, error))
		return FALSE;
	if (tb[CTA_COUNTERS_ORIG] != NULL || tb[CTA_COUNTERS_REPLY] != NULL) {
		if (tb[CTA_COUNTERS_ORIG] != NULL && !parse_counters(tb[CTA_COUNTERS_ORIG],
								     &entry->packets_orig,
								     &entry->bytes_orig,
								     error))
			return FALSE;
		if (tb[CTA_COUNTERS_REPLY] != NULL && !parse_counters(tb[CTA_COUNTERS_REPLY],
								      &entry->packets_reply,
								      &entry->bytes_reply,
								      error))
			return FALSE;
		entry->has_counters = TRUE;
	}
	if (tb[CTA_TIMESTAMP] != NULL) {
		if (!parse_nested(tb[CTA_TIMESTAMP],
				  timestamp_policy,
				  CTA_TIMESTAMP_MAX,
				  timestamp,
				  "timestamp",
				  error))
			return FALSE;
		entry->start_ns = attr_get_be64(timestamp[CTA_TIMESTAMP_START]);
		entry->stop_ns = attr_get_be64(timestamp[CTA_TIMESTAMP_STOP]);
	}
	return TRUE;
}

/* sockets */

gboolean
vigil_nl_conntrack_enable_accounting(const gchar *path, GError **error)
{
	g_auto(VigilFd) fd = -1;
	g_autofree gchar *contents = NULL;

	g_return_val_if_fail(path != NULL, FALSE);

	if (g_file_get_contents(path, &contents, NULL, NULL) && g_strstrip(contents)[0] == '1')
		return TRUE;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		gint errsv = errno;

		return vigil_error_set_errno_code(error, errsv, VIGIL_ERROR_FAILED, path);
	}
	if (write(fd, "1\n", 2) != 2) {
		gint errsv = errno;

		return vigil_error_set_errno_code(error, errsv, VIGIL_ERROR_FAILED, path);
	}
	return TRUE;
}

/* one datagram from the kernel; 0 for one to ignore, -1 with @errsv on error */
static gssize
vigil_nl_conntrack_receive(VigilNlConntrack *self, struct mnl_socket *nl, gint *errsv)
{
	struct sockaddr_nl addr = {0};
	struct iovec iov = {self->buffer, BUFFER_SIZE};
	struct msghdr msg = {0};
	gssize n;

	msg.msg_name = &addr;
	msg.msg_namelen = sizeof(addr);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = recvmsg(mnl_socket_get_fd(nl), &msg, 0);
	if (n < 0) {
		*errsv = errno;
		return -1;
	}
	if ((msg.msg_flags & MSG_TRUNC) != 0 || addr.nl_pid != 0) {
		self->n_malformed++;
		return 0;
	}
	return n;
}

static void
vigil_nl_conntrack_handle_message(VigilNlConntrack *self, const struct nlmsghdr *nlh, gboolean dump)
{
	g_autoptr(GError) error = NULL;
	VigilConntrackEntry entry;

	if (!vigil_nl_conntrack_parse((const guint8 *)nlh, nlh->nlmsg_len, &entry, &error)) {
		self->n_malformed++;
		g_debug("ignoring conntrack message: %s", error->message);
		return;
	}
	if (dump)
		entry.type = VIGIL_CONNTRACK_EVENT_DUMP;
	vigil_connection_table_apply_entry(self->table, &entry);
}

/* reads up to EVENT_SLOTS event datagrams and handles them; the number read, or -1 */
static gint
vigil_nl_conntrack_receive_events(VigilNlConntrack *self, gint *errsv)
{
	gint n;

	for (guint i = 0; i < EVENT_SLOTS; i++) {
		self->event_msgs[i].msg_hdr.msg_name = &self->event_addrs[i];
		self->event_msgs[i].msg_hdr.msg_namelen = sizeof(self->event_addrs[i]);
		self->event_msgs[i].msg_hdr.msg_flags = 0;
	}
	n = recvmmsg(mnl_socket_get_fd(self->events_socket),
		     self->event_msgs,
		     EVENT_SLOTS,
		     MSG_DONTWAIT,
		     NULL);
	if (n < 0) {
		*errsv = errno;
		return -1;
	}
	for (gint i = 0; i < n; i++) {
		const struct nlmsghdr *nlh =
		    (const struct nlmsghdr *)(self->event_buffer + i * EVENT_SLOT_SIZE);
		gint remaining = (gint)self->event_msgs[i].msg_len;

		/* only the kernel sends conntrack events */
		if ((self->event_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
		    self->event_addrs[i].nl_pid != 0) {
			self->n_malformed++;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			vigil_nl_conntrack_handle_message(self, nlh, FALSE);
		}
	}
	return n;
}

static gboolean
vigil_nl_conntrack_events_cb(gint fd, GIOCondition condition, gpointer user_data);

static gboolean
vigil_nl_conntrack_events_rested_cb(gpointer user_data)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(user_data);

	self->events_rest_id = 0;
	self->events_watch = vigil_watch_fd(mnl_socket_get_fd(self->events_socket),
					    G_IO_IN | G_IO_ERR,
					    vigil_nl_conntrack_events_cb,
					    self);
	return G_SOURCE_REMOVE;
}

static gboolean
vigil_nl_conntrack_events_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(user_data);
	gboolean drained = FALSE;

	for (guint i = 0; i < EVENT_DATAGRAMS_PER_BATCH; i += EVENT_SLOTS) {
		gint errsv = 0;
		gint n = vigil_nl_conntrack_receive_events(self, &errsv);

		if (n < 0) {
			if (errsv == EAGAIN) {
				drained = TRUE;
				break;
			}
			if (errsv == EINTR)
				continue;
			if (errsv == ENOBUFS) {
				self->n_overruns++;
				g_message(
				    "conntrack events overran the receive buffer, resynchronising");
				vigil_nl_conntrack_resync(self);
				continue;
			}
			g_warning("conntrack events: %s", g_strerror(errsv));
			break;
		}
		if (n < EVENT_SLOTS) {
			drained = TRUE;
			break;
		}
	}
	if (!drained)
		return G_SOURCE_CONTINUE;
	/* rest a moment, letting events pile up in the socket: then one wake-up reads many,
	 * instead of one wake-up per event competing with the queue for the CPU while
	 * connections are made (an idle daemon has no timer: only after events is there one) */
	self->events_watch = 0;
	self->events_rest_id =
	    g_timeout_add(EVENTS_REST_MS, vigil_nl_conntrack_events_rested_cb, self);
	return G_SOURCE_REMOVE;
}

static void
vigil_nl_conntrack_finish_dump(VigilNlConntrack *self, gboolean complete)
{
	self->dumping = FALSE;
	vigil_connection_table_end_resync(self->table, complete);
	g_signal_emit(self, signals[SIGNAL_DUMP_FINISHED], 0, complete);
	if (self->dump_again || self->dump_interrupted) {
		g_autoptr(GError) error = NULL;

		self->dump_again = FALSE;
		self->dump_interrupted = FALSE;
		if (!vigil_nl_conntrack_dump(self, &error))
			g_warning("cannot dump conntrack: %s", error->message);
	}
}

/* TRUE at the end of the dump; @complete says whether it got there without an error */
static gboolean
vigil_nl_conntrack_handle_dump(VigilNlConntrack *self, gssize n, gboolean *complete)
{
	const struct nlmsghdr *nlh;
	gint remaining = (gint)n;

	for (nlh = (const struct nlmsghdr *)self->buffer; mnl_nlmsg_ok(nlh, remaining);
	     nlh = mnl_nlmsg_next(nlh, &remaining)) {
		/* replies to an earlier, abandoned dump */
		if (nlh->nlmsg_seq != self->dump_seq)
			continue;
		if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0)
			self->dump_interrupted = TRUE;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			*complete = !self->dump_interrupted;
			return TRUE;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)) ||
			    err->error != 0) {
				g_warning("conntrack dump failed: %s",
					  nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))
					      ? "truncated error"
					      : g_strerror(-err->error));
				*complete = FALSE;
				return TRUE;
			}
			continue;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		vigil_nl_conntrack_handle_message(self, nlh, TRUE);
	}
	return FALSE;
}

static gboolean
vigil_nl_conntrack_dump_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(user_data);

	for (guint i = 0; i < DUMP_DATAGRAMS_PER_CALL && self->dumping; i++) {
		gint errsv = 0;
		gboolean complete = FALSE;
		gssize n = vigil_nl_conntrack_receive(self, self->dump, &errsv);

		if (n < 0) {
			if (errsv == EAGAIN)
				break;
			if (errsv == EINTR)
				continue;
			g_warning("conntrack dump: %s", g_strerror(errsv));
			vigil_nl_conntrack_finish_dump(self, FALSE);
			break;
		}
		if (vigil_nl_conntrack_handle_dump(self, n, &complete))
			vigil_nl_conntrack_finish_dump(self, complete);
	}
	return G_SOURCE_CONTINUE;
}

gboolean
vigil_nl_conntrack_dump(VigilNlConntrack *self, GError **error)
{
	guint8 buf[REQUEST_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), FALSE);

	if (self->dump == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_FAILED,
				    "conntrack listener is not started");
		return FALSE;
	}
	if (self->dumping) {
		self->dump_again = TRUE;
		return TRUE;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++self->dump_seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(self->dump, nlh, nlh->nlmsg_len) < 0) {
		gint errsv = errno;

		return vigil_error_set_errno_code(error,
						  errsv,
						  VIGIL_ERROR_FAILED,
						  "cannot request conntrack dump");
	}
	self->dumping = TRUE;
	self->dump_interrupted = FALSE;
	self->last_dump = g_get_monotonic_time();
	vigil_connection_table_begin_resync(self->table);
	return TRUE;
}

void
vigil_nl_conntrack_resync(VigilNlConntrack *self)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));
	if (!vigil_nl_conntrack_dump(self, &error))
		g_warning("cannot resynchronise conntrack: %s", error->message);
}

static struct mnl_socket *
vigil_nl_conntrack_open(GError **error)
{
	g_autoptr(VigilMnlSocket) nl = NULL;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (nl == NULL) {
		gint errsv = errno;

		vigil_error_set_errno_code(error,
					   errsv,
					   VIGIL_ERROR_FAILED,
					   "cannot open netfilter netlink socket");
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		gint errsv = errno;

		vigil_error_set_errno_code(error,
					   errsv,
					   VIGIL_ERROR_FAILED,
					   "cannot bind netfilter netlink socket");
		return NULL;
	}
	return g_steal_pointer(&nl);
}

static void
vigil_nl_conntrack_set_rcvbuf(struct mnl_socket *nl, guint bytes)
{
	gint fd = mnl_socket_get_fd(nl);
	gint value = (gint)MIN(bytes, (guint)G_MAXINT / 2);

	/* FORCE needs CAP_NET_ADMIN, which the daemon has; otherwise rmem_max caps it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof(value)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)) != 0)
		g_debug("cannot set the conntrack receive buffer: %s", g_strerror(errno));
}

static gboolean
vigil_nl_conntrack_refresh_cb(gpointer user_data)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(user_data);

	vigil_nl_conntrack_resync(self);
	return G_SOURCE_CONTINUE;
}

static void
vigil_nl_conntrack_schedule_refresh(VigilNlConntrack *self)
{
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	if (self->refresh_interval > 0 && self->events_socket != NULL)
		self->refresh_id = g_timeout_add_seconds(self->refresh_interval,
							 vigil_nl_conntrack_refresh_cb,
							 self);
}

/*
 * Updates carry counters only when the state changes, so byte counts of a long transfer
 * only grow with dumps. While someone watches the counters, dump every @seconds (0: only
 * on vigil_nl_conntrack_dump() and after overruns). Measured on 5000 entries: under a
 * microsecond per entry here, about 5 us per entry in the kernel building the dump, spread
 * over main loop iterations; so with a full table, refresh every few seconds at most.
 */
void
vigil_nl_conntrack_set_refresh_interval(VigilNlConntrack *self, guint seconds)
{
	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));
	self->refresh_interval = seconds;
	vigil_nl_conntrack_schedule_refresh(self);
}

/*
 * Update events (one per TCP state change) keep states exact but cost a wake-up per step of
 * every connection. Without them, states and counters still come with the dumps of
 * vigil_nl_conntrack_dump() and the refresh interval, and new and destroy events still
 * arrive. The daemon turns updates off while nobody watches the table.
 */
void
vigil_nl_conntrack_set_updates(VigilNlConntrack *self, gboolean updates)
{
	gint group = NFNLGRP_CONNTRACK_UPDATE;

	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));
	if (self->updates == updates)
		return;
	self->updates = updates;
	if (self->events_socket == NULL || !self->events)
		return;
	if (mnl_socket_setsockopt(self->events_socket,
				  updates ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP,
				  &group,
				  sizeof(group)) < 0) {
		int errsv = errno;
		g_warning("cannot %s conntrack update events: %s",
			  updates ? "join" : "leave",
			  g_strerror(errsv));
	}
}

/* joins or leaves the groups events need; FALSE with @errsv when the kernel refused */
static gboolean
vigil_nl_conntrack_subscribe(VigilNlConntrack *self, gboolean join, gint *errsv)
{
	gint groups[CONNTRACK_GROUPS] = {NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY, 0};
	guint n = 2;
	gboolean ok = TRUE;

	if (self->updates)
		groups[n++] = NFNLGRP_CONNTRACK_UPDATE;
	for (guint i = 0; i < n; i++) {
		if (mnl_socket_setsockopt(self->events_socket,
					  join ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP,
					  &groups[i],
					  sizeof(groups[i])) < 0) {
			*errsv = errno;
			ok = FALSE;
		}
	}
	return ok;
}

static gboolean
vigil_nl_conntrack_settle_cb(gpointer user_data)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(user_data);

	self->settle_id = 0;
	vigil_nl_conntrack_resync(self);
	return G_SOURCE_REMOVE;
}

/**
 * vigil_nl_conntrack_set_events:
 * @self: a #VigilNlConntrack
 * @events: whether to subscribe to conntrack events
 *
 * Events (new and destroy, and updates if vigil_nl_conntrack_set_updates() asks for them)
 * keep the table current within a fraction of a second, but while anyone in the network
 * namespace listens the kernel adds an event extension to every new conntrack entry and
 * builds a message for each event, on the path of every new connection. Without them the
 * table learns from dumps: the ones asked for, the refresh interval's, and the one that
 * vigil_nl_conntrack_expect() schedules. Turning events on dumps at once, to catch up.
 * On by default.
 */
void
vigil_nl_conntrack_set_events(VigilNlConntrack *self, gboolean events)
{
	gint errsv = 0;

	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));
	if (self->events == events)
		return;
	self->events = events;
	if (self->events_socket == NULL)
		return;
	if (!vigil_nl_conntrack_subscribe(self, events, &errsv)) {
		g_warning("cannot %s conntrack events: %s",
			  events ? "subscribe to" : "leave",
			  g_strerror(errsv));
	}
	if (events) {
		g_clear_handle_id(&self->settle_id, g_source_remove);
		vigil_nl_conntrack_resync(self);
	}
}

/**
 * vigil_nl_conntrack_expect:
 * @self: a #VigilNlConntrack
 *
 * A new connection was let through and its attribution waits in the table for its entry.
 * With events that entry comes with the new-connection event; without them a dump within
 * a few seconds brings it (a short connection is still in the kernel then, closed, with its
 * final counters), or at once when many attributions wait. Cheap enough for every
 * connection; no timer runs while no connections are made.
 */
void
vigil_nl_conntrack_expect(VigilNlConntrack *self)
{
	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));

	if (self->events || self->dump == NULL)
		return;
	if (vigil_connection_table_get_n_pending(self->table) >= FLOOD_PENDING && !self->dumping &&
	    g_get_monotonic_time() - self->last_dump >= FLOOD_DUMP_INTERVAL) {
		vigil_nl_conntrack_resync(self);
		return;
	}
	if (self->settle_id == 0)
		self->settle_id =
		    g_timeout_add_seconds(SETTLE_SECONDS, vigil_nl_conntrack_settle_cb, self);
}

gboolean
vigil_nl_conntrack_start(VigilNlConntrack *self, GError **error)
{
	g_autoptr(VigilMnlSocket) events = NULL;
	g_autoptr(VigilMnlSocket) dump = NULL;
	g_autoptr(GError) error_local = NULL;
	static const gint groups[CONNTRACK_GROUPS] = {NFNLGRP_CONNTRACK_NEW,
						      NFNLGRP_CONNTRACK_UPDATE,
						      NFNLGRP_CONNTRACK_DESTROY};

	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), FALSE);

	if (self->events_socket != NULL)
		return TRUE;
	events = vigil_nl_conntrack_open(error);
	if (events == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(groups) && self->events; i++) {
		if (groups[i] == NFNLGRP_CONNTRACK_UPDATE && !self->updates)
			continue;
		if (mnl_socket_setsockopt(events,
					  NETLINK_ADD_MEMBERSHIP,
					  (void *)&groups[i],
					  sizeof(groups[i])) < 0) {
			gint errsv = errno;

			return vigil_error_set_errno_code(error,
							  errsv,
							  VIGIL_ERROR_FAILED,
							  "cannot subscribe to conntrack events");
		}
	}
	vigil_nl_conntrack_set_rcvbuf(events, self->receive_buffer);
	dump = vigil_nl_conntrack_open(error);
	if (dump == NULL)
		return FALSE;

	/* subscribing loaded nf_conntrack_netlink and with it the sysctl */
	self->accounting =
	    vigil_nl_conntrack_enable_accounting(VIGIL_NL_CONNTRACK_ACCT_SYSCTL, &error_local);
	if (!self->accounting)
		g_warning("no byte counters for new connections, cannot enable conntrack "
			  "accounting: %s",
			  error_local->message);

	self->events_socket = g_steal_pointer(&events);
	self->dump = g_steal_pointer(&dump);
	/* an overrun shows as POLLERR; the next recvmsg() reports it as ENOBUFS */
	self->events_watch = vigil_watch_fd(mnl_socket_get_fd(self->events_socket),
					    G_IO_IN | G_IO_ERR,
					    vigil_nl_conntrack_events_cb,
					    self);
	self->dump_watch = vigil_watch_fd(mnl_socket_get_fd(self->dump),
					  G_IO_IN | G_IO_ERR,
					  vigil_nl_conntrack_dump_cb,
					  self);
	if (!vigil_nl_conntrack_dump(self, error)) {
		vigil_nl_conntrack_stop(self);
		return FALSE;
	}
	vigil_nl_conntrack_schedule_refresh(self);
	return TRUE;
}

void
vigil_nl_conntrack_stop(VigilNlConntrack *self)
{
	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));

	g_clear_handle_id(&self->events_watch, g_source_remove);
	g_clear_handle_id(&self->events_rest_id, g_source_remove);
	g_clear_handle_id(&self->dump_watch, g_source_remove);
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	g_clear_handle_id(&self->settle_id, g_source_remove);
	g_clear_pointer(&self->events_socket, mnl_socket_close);
	g_clear_pointer(&self->dump, mnl_socket_close);
	if (self->dumping) {
		self->dumping = FALSE;
		vigil_connection_table_end_resync(self->table, FALSE);
	}
	self->dump_again = FALSE;
}

void
vigil_nl_conntrack_set_receive_buffer(VigilNlConntrack *self, guint bytes)
{
	g_return_if_fail(VIGIL_IS_NL_CONNTRACK(self));
	self->receive_buffer = bytes;
	if (self->events_socket != NULL)
		vigil_nl_conntrack_set_rcvbuf(self->events_socket, bytes);
}

gboolean
vigil_nl_conntrack_is_dumping(VigilNlConntrack *self)
{
	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), FALSE);
	return self->dumping;
}

gboolean
vigil_nl_conntrack_has_accounting(VigilNlConntrack *self)
{
	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), FALSE);
	return self->accounting;
}

guint64
vigil_nl_conntrack_get_n_overruns(VigilNlConntrack *self)
{
	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), 0);
	return self->n_overruns;
}

guint64
vigil_nl_conntrack_get_n_malformed(VigilNlConntrack *self)
{
	g_return_val_if_fail(VIGIL_IS_NL_CONNTRACK(self), 0);
	return self->n_malformed;
}

static void
vigil_nl_conntrack_dispose(GObject *object)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(object);

	if (self->table != NULL)
		vigil_nl_conntrack_stop(self);
	g_clear_object(&self->table);
	G_OBJECT_CLASS(vigil_nl_conntrack_parent_class)->dispose(object);
}

static void
vigil_nl_conntrack_finalize(GObject *object)
{
	VigilNlConntrack *self = VIGIL_NL_CONNTRACK(object);

	g_free(self->buffer);
	g_free(self->event_buffer);
	G_OBJECT_CLASS(vigil_nl_conntrack_parent_class)->finalize(object);
}

static void
vigil_nl_conntrack_class_init(VigilNlConntrackClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_nl_conntrack_dispose;
	object_class->finalize = vigil_nl_conntrack_finalize;

	/**
	 * VigilNlConntrack::dump-finished:
	 * @complete: FALSE when the dump failed and nothing was swept
	 *
	 * A dump (initial, resync or refresh) reached its end.
	 */
	signals[SIGNAL_DUMP_FINISHED] = g_signal_new("dump-finished",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     G_TYPE_BOOLEAN);
}

static void
vigil_nl_conntrack_init(VigilNlConntrack *self)
{
	self->buffer = g_malloc(BUFFER_SIZE);
	self->event_buffer = g_malloc(EVENT_SLOTS * EVENT_SLOT_SIZE);
	for (guint i = 0; i < EVENT_SLOTS; i++) {
		self->event_iov[i].iov_base = self->event_buffer + i * EVENT_SLOT_SIZE;
		self->event_iov[i].iov_len = EVENT_SLOT_SIZE;
		self->event_msgs[i].msg_hdr.msg_iov = &self->event_iov[i];
		self->event_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	self->receive_buffer = VIGIL_NL_CONNTRACK_RCVBUF;
	self->dump_seq = (guint32)g_random_int();
	self->updates = TRUE;
	self->events = TRUE;
}

VigilNlConntrack *
vigil_nl_conntrack_new(VigilConnectionTable *table)
{
	VigilNlConntrack *self;

	g_return_val_if_fail(VIGIL_IS_CONNECTION_TABLE(table), NULL);
	self = g_object_new(VIGIL_TYPE_NL_CONNTRACK, NULL);
	self->table = g_object_ref(table);
	return self;
}
