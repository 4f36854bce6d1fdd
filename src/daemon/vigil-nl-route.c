/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNlRoute"

#include "config.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-error.h"
#include "vigil-nl-attr.h"
#include "vigil-nl-route.h"

/*
 * Every attribute the parsers read is checked against a policy first: its type and its
 * payload length. Attributes outside the policy are skipped (newer kernels add some), a
 * message whose attributes do not fit its length is refused as a whole.
 */

static const VigilNlAttrPolicy link_policy[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = {MNL_TYPE_NUL_STRING, 0, 0},
    [IFLA_MTU] = {MNL_TYPE_U32, 0, 0},
    [IFLA_OPERSTATE] = {MNL_TYPE_U8, 0, 0},
    [IFLA_LINKINFO] = {MNL_TYPE_NESTED, 0, 0},
    /* struct rtnl_link_stats64 grows with kernels; its first four counters never move */
    [IFLA_STATS64] = {MNL_TYPE_BINARY, 4 * sizeof(uint64_t), G_MAXUINT16},
};

static const VigilNlAttrPolicy linkinfo_policy[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = {MNL_TYPE_NUL_STRING, 0, 0},
};

static const VigilNlAttrPolicy address_policy[IFA_MAX + 1] = {
    [IFA_ADDRESS] = {MNL_TYPE_BINARY, 4, 16},
    [IFA_LOCAL] = {MNL_TYPE_BINARY, 4, 16},
    [IFA_FLAGS] = {MNL_TYPE_U32, 0, 0},
};

static const VigilNlAttrPolicy route_policy[RTA_MAX + 1] = {
    [RTA_OIF] = {MNL_TYPE_U32, 0, 0},
    [RTA_PRIORITY] = {MNL_TYPE_U32, 0, 0},
    [RTA_TABLE] = {MNL_TYPE_U32, 0, 0},
    [RTA_GATEWAY] = {MNL_TYPE_BINARY, 4, 16},
    [RTA_MULTIPATH] = {MNL_TYPE_BINARY, 0, G_MAXUINT16},
};

static gboolean
set_invalid(GError **error, const gchar *what)
{
	g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT, "malformed %s", what);
	return FALSE;
}

/* the header and the family header fit, and every attribute after them is well formed */
static gboolean
parse_message(const struct nlmsghdr *nlh,
	      gsize header_len,
	      const VigilNlAttrPolicy *policy,
	      guint max,
	      const struct nlattr **tb,
	      const gchar *what,
	      GError **error)
{
	VigilNlAttrTable table = {tb, policy, max};
	const struct nlattr *attr;
	gsize offset = MNL_NLMSG_HDRLEN + MNL_ALIGN(header_len);
	gint left;

	if (nlh->nlmsg_len < offset)
		return set_invalid(error, what);
	if (mnl_attr_parse(nlh, MNL_ALIGN(header_len), vigil_nl_attr_table_cb, &table) <
	    MNL_CB_STOP)
		return set_invalid(error, what);
	/* mnl_attr_parse() stops quietly at an attribute running past the end: refuse that */
	attr = mnl_nlmsg_get_payload_offset(nlh, MNL_ALIGN(header_len));
	left = (gint)(nlh->nlmsg_len - offset);
	while (mnl_attr_ok(attr, left)) {
		left -= MNL_ALIGN(attr->nla_len);
		attr = mnl_attr_next(attr);
	}
	if (left >= (gint)sizeof(struct nlattr))
		return set_invalid(error, what);
	return TRUE;
}

static gboolean
check_length(const guint8 *data, gsize len, GError **error)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;

	if (len < sizeof(struct nlmsghdr) || nlh->nlmsg_len < sizeof(struct nlmsghdr) ||
	    nlh->nlmsg_len > len) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "truncated netlink message");
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_nl_route_parse_link(const guint8 *data, gsize len, VigilNlLink *link, GError **error)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	const struct nlattr *tb[IFLA_MAX + 1] = {NULL};
	const struct ifinfomsg *ifi;

	g_return_val_if_fail(data != NULL && link != NULL, FALSE);
	memset(link, 0, sizeof(*link));
	if (!check_length(data, len, error))
		return FALSE;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return set_invalid(error, "link message (wrong type)");
	if (!parse_message(nlh, sizeof(*ifi), link_policy, IFLA_MAX, tb, "link message", error))
		return FALSE;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index <= 0)
		return set_invalid(error, "link message (no index)");
	link->ifindex = ifi->ifi_index;
	link->family = ifi->ifi_family;
	link->type = ifi->ifi_type;
	link->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME] != NULL) {
		const gchar *name = mnl_attr_get_str(tb[IFLA_IFNAME]);
		if (name[0] == '\0' || strlen(name) >= sizeof(link->name))
			return set_invalid(error, "link name");
		g_strlcpy(link->name, name, sizeof(link->name));
		link->has_name = TRUE;
	}
	if (tb[IFLA_MTU] != NULL) {
		link->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
		link->has_mtu = TRUE;
	}
	if (tb[IFLA_OPERSTATE] != NULL) {
		link->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
		link->has_operstate = TRUE;
	}
	if (tb[IFLA_STATS64] != NULL) {
		struct rtnl_link_stats64 stats = {0};
		memcpy(&stats,
		       mnl_attr_get_payload(tb[IFLA_STATS64]),
		       MIN(sizeof(stats), mnl_attr_get_payload_len(tb[IFLA_STATS64])));
		link->rx_bytes = stats.rx_bytes;
		link->tx_bytes = stats.tx_bytes;
		link->has_stats = TRUE;
	}
	if (tb[IFLA_LINKINFO] != NULL) {
		const struct nlattr *info[IFLA_INFO_MAX + 1] = {NULL};
		VigilNlAttrTable table = {info, linkinfo_policy, IFLA_INFO_MAX};
		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], vigil_nl_attr_table_cb, &table) <
		    MNL_CB_STOP)
			return set_invalid(error, "link info");
		if (info[IFLA_INFO_KIND] != NULL)
			g_strlcpy(link->kind,
				  mnl_attr_get_str(info[IFLA_INFO_KIND]),
				  sizeof(link->kind));
	}
	return TRUE;
}

static gsize
family_address_len(guint8 family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

gboolean
vigil_nl_route_parse_address(const guint8 *data, gsize len, VigilNlAddress *address, GError **error)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	const struct nlattr *tb[IFA_MAX + 1] = {NULL};
	const struct nlattr *attr;
	const struct ifaddrmsg *ifa;
	gsize alen;

	g_return_val_if_fail(data != NULL && address != NULL, FALSE);
	memset(address, 0, sizeof(*address));
	if (!check_length(data, len, error))
		return FALSE;
	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return set_invalid(error, "address message (wrong type)");
	if (!parse_message(nlh,
			   sizeof(*ifa),
			   address_policy,
			   IFA_MAX,
			   tb,
			   "address message",
			   error))
		return FALSE;
	ifa = mnl_nlmsg_get_payload(nlh);
	alen = family_address_len(ifa->ifa_family);
	if (alen == 0)
		return set_invalid(error, "address message (unknown family)");
	if (ifa->ifa_prefixlen > alen * 8 || ifa->ifa_index == 0)
		return set_invalid(error, "address message (prefix or index)");
	/* IFA_LOCAL is the address of this host; IFA_ADDRESS is the peer on point-to-point */
	attr = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (attr == NULL || mnl_attr_get_payload_len(attr) != alen)
		return set_invalid(error, "address");
	address->ifindex = ifa->ifa_index;
	address->family = ifa->ifa_family;
	address->prefix_len = ifa->ifa_prefixlen;
	address->scope = ifa->ifa_scope;
	address->flags = tb[IFA_FLAGS] != NULL ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	memcpy(address->address, mnl_attr_get_payload(attr), alen);
	return TRUE;
}

/* the nexthops of RTA_MULTIPATH: struct rtnexthop, each followed by its attributes */
static gboolean
parse_multipath(const struct nlattr *attr, VigilNlRoute *route, gsize alen, GError **error)
{
	const guint8 *data = mnl_attr_get_payload(attr);
	gsize left = mnl_attr_get_payload_len(attr);

	while (left >= sizeof(struct rtnexthop)) {
		struct rtnexthop nh;
		gsize nh_len;
		gsize off;

		memcpy(&nh, data, sizeof(nh));
		if (nh.rtnh_len < sizeof(nh) || nh.rtnh_len > left)
			return set_invalid(error, "route nexthop");
		if (route->n_oifs < VIGIL_NL_ROUTE_MAX_NEXTHOPS && nh.rtnh_ifindex > 0) {
			guint i = route->n_oifs++;
			route->oifs[i] = nh.rtnh_ifindex;
			/* the nexthop's own attributes: only RTA_GATEWAY matters here */
			for (off = RTNH_ALIGN(sizeof(nh));
			     off + sizeof(struct nlattr) <= nh.rtnh_len;) {
				struct nlattr na;
				memcpy(&na, data + off, sizeof(na));
				if (na.nla_len < sizeof(na) || off + na.nla_len > nh.rtnh_len)
					return set_invalid(error, "route nexthop attribute");
				if ((na.nla_type & NLA_TYPE_MASK) == RTA_GATEWAY) {
					if (na.nla_len - sizeof(na) != alen)
						return set_invalid(error, "route nexthop gateway");
					memcpy(route->gateways[i], data + off + sizeof(na), alen);
					route->has_gateways[i] = TRUE;
				}
				off += NLA_ALIGN(na.nla_len);
			}
		}
		nh_len = RTNH_ALIGN(nh.rtnh_len);
		if (nh_len >= left)
			break;
		data += nh_len;
		left -= nh_len;
	}
	return TRUE;
}

gboolean
vigil_nl_route_parse_route(const guint8 *data, gsize len, VigilNlRoute *route, GError **error)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	const struct nlattr *tb[RTA_MAX + 1] = {NULL};
	const struct rtmsg *rtm;
	gsize alen;

	g_return_val_if_fail(data != NULL && route != NULL, FALSE);
	memset(route, 0, sizeof(*route));
	if (!check_length(data, len, error))
		return FALSE;
	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return set_invalid(error, "route message (wrong type)");
	if (!parse_message(nlh, sizeof(*rtm), route_policy, RTA_MAX, tb, "route message", error))
		return FALSE;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = family_address_len(rtm->rtm_family);
	if (alen == 0)
		return set_invalid(error, "route message (unknown family)");
	if (rtm->rtm_dst_len > alen * 8)
		return set_invalid(error, "route message (prefix)");
	route->family = rtm->rtm_family;
	route->dst_len = rtm->rtm_dst_len;
	route->type = rtm->rtm_type;
	route->table = tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (tb[RTA_PRIORITY] != NULL)
		route->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_GATEWAY] != NULL && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != alen)
		return set_invalid(error, "route gateway");
	if (tb[RTA_OIF] != NULL && mnl_attr_get_u32(tb[RTA_OIF]) > 0) {
		route->oifs[0] = mnl_attr_get_u32(tb[RTA_OIF]);
		if (tb[RTA_GATEWAY] != NULL) {
			memcpy(route->gateways[0], mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
			route->has_gateways[0] = TRUE;
		}
		route->n_oifs = 1;
	}
	if (tb[RTA_MULTIPATH] != NULL && !parse_multipath(tb[RTA_MULTIPATH], route, alen, error))
		return FALSE;
	return TRUE;
}

/* @buf holds VIGIL_NL_ROUTE_REQUEST_SIZE bytes */
struct nlmsghdr *
vigil_nl_route_build_dump(gchar *buf, uint16_t type, uint8_t family, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct rtgenmsg *gen;

	memset(buf, 0, VIGIL_NL_ROUTE_REQUEST_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	/* struct ifinfomsg is what RTM_GETLINK wants; its first byte is the family */
	gen = mnl_nlmsg_put_extra_header(nlh,
					 type == RTM_GETLINK ? sizeof(struct ifinfomsg)
							     : sizeof(struct rtmsg));
	gen->rtgen_family = family;
	return nlh;
}

/* a route lookup: which route would a packet to @dst take (nothing is sent) */
struct nlmsghdr *
vigil_nl_route_build_lookup(gchar *buf, uint8_t family, const uint8_t *dst, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	gsize alen = family_address_len(family);

	g_return_val_if_fail(alen != 0, NULL);
	memset(buf, 0, VIGIL_NL_ROUTE_REQUEST_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = alen * 8;
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	return nlh;
}
