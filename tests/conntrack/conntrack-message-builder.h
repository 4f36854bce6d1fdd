/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <endian.h>
#include <glib.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-connection-table.h"

G_BEGIN_DECLS

/* ctnetlink messages as the kernel builds them, for the parser and table tests */

#define CT_MESSAGE_MAX 1024

typedef struct {
	guint msg_type; /* IPCTNL_MSG_CT_NEW or IPCTNL_MSG_CT_DELETE */
	guint16 flags;	/* NLM_F_CREATE | NLM_F_EXCL for new, 0 for update, NLM_F_MULTI dump */
	guint32 id;
	VigilConntrackTuple orig;
	VigilConntrackTuple reply;
	guint32 status;
	guint8 tcp_state;
	gboolean counters;
	gboolean counters32;
	guint64 packets_orig;
	guint64 bytes_orig;
	guint64 packets_reply;
	guint64 bytes_reply;
	guint64 start_ns;
	guint32 mark;
} CtMessage;

static inline void
ct_put_tuple(struct nlmsghdr *nlh, guint type, const VigilConntrackTuple *tuple)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	struct nlattr *proto;

	if (tuple->family == 4) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, tuple->src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, tuple->dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, tuple->src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, tuple->dst);
	}
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, tuple->protocol);
	if (tuple->protocol == IPPROTO_ICMP || tuple->protocol == IPPROTO_ICMPV6) {
		gboolean v6 = tuple->protocol == IPPROTO_ICMPV6;

		mnl_attr_put_u16(nlh,
				 v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID,
				 htons(tuple->icmp_id));
		mnl_attr_put_u8(nlh,
				v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE,
				tuple->icmp_type);
		mnl_attr_put_u8(nlh,
				v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE,
				tuple->icmp_code);
	} else {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(tuple->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(tuple->dport));
	}
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, nest);
}

static inline void
ct_put_counters(struct nlmsghdr *nlh, guint type, guint64 packets, guint64 bytes, gboolean c32)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	if (c32) {
		mnl_attr_put_u32(nlh, CTA_COUNTERS32_PACKETS, htonl((guint32)packets));
		mnl_attr_put_u32(nlh, CTA_COUNTERS32_BYTES, htonl((guint32)bytes));
	} else {
		mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(packets));
		mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(bytes));
	}
	mnl_attr_nest_end(nlh, nest);
}

/* writes @m into @buf (aligned, CT_MESSAGE_MAX bytes) and returns its length */
static inline gsize
ct_build(guint8 *buf, const CtMessage *m)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	/* libmnl leaves the padding after short attributes as it was; the kernel zeroes it */
	memset(buf, 0, CT_MESSAGE_MAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | m->msg_type;
	nlh->nlmsg_flags = m->flags;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nfg->nfgen_family = m->orig.family == 4 ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	ct_put_tuple(nlh, CTA_TUPLE_ORIG, &m->orig);
	ct_put_tuple(nlh, CTA_TUPLE_REPLY, &m->reply);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(m->status));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(120));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(m->mark));
	if (m->orig.protocol == IPPROTO_TCP) {
		struct nlattr *info = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);

		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, m->tcp_state);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, info);
	}
	if (m->counters) {
		ct_put_counters(nlh,
				CTA_COUNTERS_ORIG,
				m->packets_orig,
				m->bytes_orig,
				m->counters32);
		ct_put_counters(nlh,
				CTA_COUNTERS_REPLY,
				m->packets_reply,
				m->bytes_reply,
				m->counters32);
	}
	if (m->start_ns != 0) {
		struct nlattr *ts = mnl_attr_nest_start(nlh, CTA_TIMESTAMP);

		mnl_attr_put_u64(nlh, CTA_TIMESTAMP_START, htobe64(m->start_ns));
		mnl_attr_nest_end(nlh, ts);
	}
	mnl_attr_put_u32(nlh, CTA_USE, htonl(1));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(m->id));
	return nlh->nlmsg_len;
}

/* a TCP (or @protocol) flow 198.18.0.1:@sport -> 198.18.0.2:@dport and its reply */
static inline void
ct_message_init(CtMessage *m,
		guint msg_type,
		guint16 flags,
		guint32 id,
		guint8 protocol,
		guint16 sport,
		guint16 dport)
{
	memset(m, 0, sizeof(*m));
	m->msg_type = msg_type;
	m->flags = flags;
	m->id = id;
	m->orig.family = m->reply.family = 4;
	m->orig.protocol = m->reply.protocol = protocol;
	m->orig.src[0] = m->orig.dst[0] = m->reply.src[0] = m->reply.dst[0] = 198;
	m->orig.src[1] = m->orig.dst[1] = m->reply.src[1] = m->reply.dst[1] = 18;
	m->orig.src[3] = m->reply.dst[3] = 1;
	m->orig.dst[3] = m->reply.src[3] = 2;
	m->orig.sport = m->reply.dport = sport;
	m->orig.dport = m->reply.sport = dport;
	m->tcp_state = TCP_CONNTRACK_ESTABLISHED;
	m->status = IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED;
}

G_END_DECLS
