/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-error.h"
#include "vigil-netmon.h"
#include "vigil-nl-route.h"

#define BUF_SIZE 4096

typedef struct {
	union {
		gchar data[BUF_SIZE];
		struct nlmsghdr align;
	};
} TestBuffer;

static struct nlmsghdr *
put_link(TestBuffer *buf, const gchar *name, gsize stats_len)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *nest;
	struct rtnl_link_stats64 stats = {0};

	memset(buf, 0, sizeof(*buf));
	nlh = mnl_nlmsg_put_header(buf->data);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 3;
	ifi->ifi_type = ARPHRD_ETHER;
	ifi->ifi_flags = IFF_UP | IFF_LOWER_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, IF_OPER_UP);
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	mnl_attr_nest_end(nlh, nest);
	stats.rx_bytes = 1000;
	stats.tx_bytes = 2000;
	stats.rx_packets = 7;
	if (stats_len > 0)
		mnl_attr_put(nlh, IFLA_STATS64, stats_len, &stats);
	return nlh;
}

static void
test_nl_route_link_func(void)
{
	g_autoptr(GError) error = NULL;
	TestBuffer buf;
	VigilNlLink link;
	struct nlmsghdr *nlh = put_link(&buf, "eth0", sizeof(struct rtnl_link_stats64));
	gboolean ret;

	ret = vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(link.ifindex, ==, 3);
	g_assert_cmpstr(link.name, ==, "eth0");
	g_assert_cmpstr(link.kind, ==, "veth");
	g_assert_cmpuint(link.mtu, ==, 1500);
	g_assert_cmpuint(link.operstate, ==, IF_OPER_UP);
	g_assert_cmpuint(link.flags & IFF_LOWER_UP, !=, 0);
	g_assert_true(link.has_stats);
	g_assert_cmpuint(link.rx_bytes, ==, 1000);
	g_assert_cmpuint(link.tx_bytes, ==, 2000);

	/* an older, shorter stats struct still has the byte counters */
	nlh = put_link(&buf, "eth0", 4 * sizeof(guint64));
	ret = vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(link.tx_bytes, ==, 2000);

	/* too short for them: refused, not read past its end */
	nlh = put_link(&buf, "eth0", 3 * sizeof(guint64));
	ret = vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_false(ret);
	g_clear_error(&error);

	/* a name that does not fit IFNAMSIZ */
	nlh = put_link(&buf, "a-name-far-too-long", 0);
	ret = vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_false(ret);
	g_clear_error(&error);
}

static void
test_nl_route_link_garbage_func(void)
{
	g_autoptr(GError) error = NULL;
	TestBuffer buf;
	VigilNlLink link;
	struct nlmsghdr *nlh = put_link(&buf, "eth0", sizeof(struct rtnl_link_stats64));
	struct nlattr *attr;
	gsize full = nlh->nlmsg_len;

	/* the buffer ends before the message says it does */
	g_assert_false(
	    vigil_nl_route_parse_link((const guint8 *)buf.data, full - 1, &link, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(vigil_nl_route_parse_link((const guint8 *)buf.data, 3, &link, &error));
	g_clear_error(&error);

	/* every shorter message length: refused or parsed, never read beyond it */
	for (gsize len = 0; len < full; len++) {
		TestBuffer cut;
		gboolean ret;

		put_link(&cut, "eth0", sizeof(struct rtnl_link_stats64));
		((struct nlmsghdr *)cut.data)->nlmsg_len = len;
		memset(cut.data + MAX(len, sizeof(struct nlmsghdr)),
		       0xff,
		       BUF_SIZE - MAX(len, sizeof(struct nlmsghdr)));
		ret = vigil_nl_route_parse_link((const guint8 *)cut.data, BUF_SIZE, &link, &error);
		if (ret) {
			/* the attributes past the cut are not seen */
			g_assert_no_error(error);
			g_assert_false(link.has_stats);
		} else {
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
			g_clear_error(&error);
		}
	}

	/* an attribute claiming more than the message holds */
	nlh = put_link(&buf, "eth0", 0);
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct ifinfomsg));
	attr->nla_len = 200;
	g_assert_false(
	    vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	/* a name without its NUL */
	nlh = put_link(&buf, "eth0", 0);
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct ifinfomsg));
	g_assert_cmpuint(mnl_attr_get_type(attr), ==, IFLA_IFNAME);
	((gchar *)mnl_attr_get_payload(attr))[4] = 'x';
	g_assert_false(
	    vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error));
	g_clear_error(&error);

	/* an MTU of two bytes */
	memset(&buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf.data);
	nlh->nlmsg_type = RTM_NEWLINK;
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))->ifi_index =
	    2;
	mnl_attr_put_u16(nlh, IFLA_MTU, 1500);
	g_assert_false(
	    vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error));
	g_clear_error(&error);

	/* the wrong message type */
	nlh = put_link(&buf, "eth0", 0);
	nlh->nlmsg_type = RTM_NEWADDR;
	g_assert_false(
	    vigil_nl_route_parse_link((const guint8 *)buf.data, nlh->nlmsg_len, &link, &error));
	g_clear_error(&error);
}

static void
test_nl_route_random_func(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	const guint16 types[] = {RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE};

	/* random bodies behind a plausible header: whatever comes out, nothing crashes */
	for (guint i = 0; i < 20000; i++) {
		TestBuffer buf;
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf.data;
		guint len = g_rand_int_range(rand, sizeof(*nlh), 256);
		VigilNlLink link;
		VigilNlAddress address;
		VigilNlRoute route;

		for (guint j = 0; j < len; j++)
			buf.data[j] = (gchar)g_rand_int_range(rand, 0, 256);
		nlh->nlmsg_len = len;
		nlh->nlmsg_type = types[i % 3];
		vigil_nl_route_parse_link((const guint8 *)buf.data, len, &link, NULL);
		vigil_nl_route_parse_address((const guint8 *)buf.data, len, &address, NULL);
		vigil_nl_route_parse_route((const guint8 *)buf.data, len, &route, NULL);
	}
}

static struct nlmsghdr *
put_address(TestBuffer *buf, guint8 family, guint8 prefix_len)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	memset(buf, 0, sizeof(*buf));
	nlh = mnl_nlmsg_put_header(buf->data);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_index = 4;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	return nlh;
}

static void
test_nl_route_address_func(void)
{
	const guint8 local[4] = {198, 18, 0, 1};
	const guint8 peer[4] = {198, 18, 0, 9};
	const guint8 v6[16] = {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	g_autoptr(GError) error = NULL;
	TestBuffer buf;
	VigilNlAddress address;
	struct nlmsghdr *nlh;
	gboolean ret;

	/* point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours */
	nlh = put_address(&buf, AF_INET, 32);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, peer);
	mnl_attr_put(nlh, IFA_LOCAL, 4, local);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT);
	ret = vigil_nl_route_parse_address((const guint8 *)buf.data,
					   nlh->nlmsg_len,
					   &address,
					   &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(address.ifindex, ==, 4);
	g_assert_cmpuint(address.family, ==, AF_INET);
	g_assert_cmpuint(address.prefix_len, ==, 32);
	g_assert_cmpmem(address.address, 4, local, 4);
	g_assert_cmpuint(address.flags, ==, IFA_F_PERMANENT);

	nlh = put_address(&buf, AF_INET6, 64);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6);
	ret = vigil_nl_route_parse_address((const guint8 *)buf.data,
					   nlh->nlmsg_len,
					   &address,
					   &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpmem(address.address, 16, v6, 16);

	/* an IPv4 address in an IPv6 message, a prefix too long, no address at all */
	nlh = put_address(&buf, AF_INET6, 64);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, local);
	g_assert_false(vigil_nl_route_parse_address((const guint8 *)buf.data,
						    nlh->nlmsg_len,
						    &address,
						    &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	nlh = put_address(&buf, AF_INET, 33);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, local);
	g_assert_false(vigil_nl_route_parse_address((const guint8 *)buf.data,
						    nlh->nlmsg_len,
						    &address,
						    &error));
	g_clear_error(&error);
	nlh = put_address(&buf, AF_INET, 24);
	g_assert_false(vigil_nl_route_parse_address((const guint8 *)buf.data,
						    nlh->nlmsg_len,
						    &address,
						    &error));
	g_clear_error(&error);
	/* 5 bytes is no address of any family */
	nlh = put_address(&buf, AF_INET, 24);
	mnl_attr_put(nlh, IFA_LOCAL, 5, v6);
	g_assert_false(vigil_nl_route_parse_address((const guint8 *)buf.data,
						    nlh->nlmsg_len,
						    &address,
						    &error));
	g_clear_error(&error);
}

static struct nlmsghdr *
put_route(TestBuffer *buf, guint8 family)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, sizeof(*buf));
	nlh = mnl_nlmsg_put_header(buf->data);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	return nlh;
}

static void
test_nl_route_route_func(void)
{
	const guint8 gw4[4] = {198, 18, 0, 2};
	const guint8 gw6[16] = {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	g_autoptr(GError) error = NULL;
	TestBuffer buf;
	VigilNlRoute route;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct rtnexthop *nh;
	gboolean ret;

	nlh = put_route(&buf, AF_INET);
	mnl_attr_put_u32(nlh, RTA_TABLE, 100);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 600);
	mnl_attr_put_u32(nlh, RTA_OIF, 7);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw4);
	ret = vigil_nl_route_parse_route((const guint8 *)buf.data, nlh->nlmsg_len, &route, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(route.family, ==, AF_INET);
	g_assert_cmpuint(route.dst_len, ==, 0);
	g_assert_cmpuint(route.table, ==, 100);
	g_assert_cmpuint(route.priority, ==, 600);
	g_assert_cmpuint(route.n_oifs, ==, 1);
	g_assert_cmpuint(route.oifs[0], ==, 7);
	g_assert_true(route.has_gateways[0]);
	g_assert_cmpmem(route.gateways[0], 4, gw4, 4);

	/* a multipath IPv6 route: two nexthops, the second with a gateway */
	nlh = put_route(&buf, AF_INET6);
	nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	nh = mnl_nlmsg_get_payload_tail(nlh);
	nh->rtnh_len = sizeof(*nh);
	nh->rtnh_ifindex = 3;
	nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
	nh = mnl_nlmsg_get_payload_tail(nlh);
	nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
	mnl_attr_put(nlh, RTA_GATEWAY, 16, gw6);
	nh->rtnh_len = (guint8 *)mnl_nlmsg_get_payload_tail(nlh) - (guint8 *)nh;
	nh->rtnh_ifindex = 4;
	mnl_attr_nest_end(nlh, nest);
	ret = vigil_nl_route_parse_route((const guint8 *)buf.data, nlh->nlmsg_len, &route, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(route.table, ==, RT_TABLE_MAIN);
	g_assert_cmpuint(route.n_oifs, ==, 2);
	g_assert_cmpuint(route.oifs[0], ==, 3);
	g_assert_false(route.has_gateways[0]);
	g_assert_cmpuint(route.oifs[1], ==, 4);
	g_assert_true(route.has_gateways[1]);
	g_assert_cmpmem(route.gateways[1], 16, gw6, 16);

	/* a nexthop longer than the attribute that holds it */
	nh = mnl_attr_get_payload(nest);
	nh->rtnh_len = 200;
	g_assert_false(
	    vigil_nl_route_parse_route((const guint8 *)buf.data, nlh->nlmsg_len, &route, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	/* an IPv4 gateway on an IPv6 route */
	nlh = put_route(&buf, AF_INET6);
	mnl_attr_put_u32(nlh, RTA_OIF, 7);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw4);
	g_assert_false(
	    vigil_nl_route_parse_route((const guint8 *)buf.data, nlh->nlmsg_len, &route, &error));
	g_clear_error(&error);

	/* a family that is neither */
	nlh = put_route(&buf, AF_BRIDGE);
	g_assert_false(
	    vigil_nl_route_parse_route((const guint8 *)buf.data, nlh->nlmsg_len, &route, &error));
	g_clear_error(&error);
}

static void
test_nl_route_requests_func(void)
{
	const guint8 dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	gchar buf[VIGIL_NL_ROUTE_REQUEST_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nlattr *attr;

	nlh = vigil_nl_route_build_lookup(buf, AF_INET6, dst, 77);
	g_assert_cmpuint(nlh->nlmsg_type, ==, RTM_GETROUTE);
	g_assert_cmpuint(nlh->nlmsg_flags, ==, NLM_F_REQUEST);
	g_assert_cmpuint(nlh->nlmsg_seq, ==, 77);
	rtm = mnl_nlmsg_get_payload(nlh);
	g_assert_cmpuint(rtm->rtm_family, ==, AF_INET6);
	g_assert_cmpuint(rtm->rtm_dst_len, ==, 128);
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(*rtm));
	g_assert_cmpuint(mnl_attr_get_type(attr), ==, RTA_DST);
	g_assert_cmpmem(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr), dst, 16);
	g_assert_cmpuint(nlh->nlmsg_len, <=, sizeof(buf));

	nlh = vigil_nl_route_build_dump(buf, RTM_GETLINK, AF_UNSPEC, 5);
	g_assert_cmpuint(nlh->nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_DUMP);
	g_assert_cmpuint(nlh->nlmsg_len, ==, mnl_nlmsg_size(sizeof(struct ifinfomsg)));
}

static void
test_netmon_classify_func(void)
{
	/* a kind decides alone: a veth is virtual even where /sys says wlan */
	g_assert_cmpstr(vigil_netmon_classify("veth", ARPHRD_ETHER, "wlan"), ==, "virtual");
	g_assert_cmpstr(vigil_netmon_classify("dummy", ARPHRD_ETHER, NULL), ==, "virtual");
	g_assert_cmpstr(vigil_netmon_classify("vlan", ARPHRD_ETHER, NULL), ==, "virtual");
	g_assert_cmpstr(vigil_netmon_classify("bridge", ARPHRD_ETHER, NULL), ==, "bridge");
	g_assert_cmpstr(vigil_netmon_classify("wireguard", ARPHRD_NONE, NULL), ==, "vpn");
	g_assert_cmpstr(vigil_netmon_classify("tun", ARPHRD_NONE, NULL), ==, "vpn");
	g_assert_cmpstr(vigil_netmon_classify("gre", ARPHRD_IPGRE, NULL), ==, "vpn");
	g_assert_cmpstr(vigil_netmon_classify("xfrm", ARPHRD_NONE, NULL), ==, "vpn");
	g_assert_cmpstr(vigil_netmon_classify("wwan", ARPHRD_NONE, NULL), ==, "wwan");
	g_assert_cmpstr(vigil_netmon_classify(NULL, ARPHRD_PPP, NULL), ==, "vpn");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_LOOPBACK, NULL), ==, "loopback");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_ETHER, "wlan"), ==, "wifi");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_ETHER, "wwan"), ==, "wwan");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_RAWIP, NULL), ==, "wwan");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_ETHER, ""), ==, "ethernet");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_ETHER, NULL), ==, "ethernet");
	g_assert_cmpstr(vigil_netmon_classify("", ARPHRD_ETHER, "bond"), ==, "virtual");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/nl-route/link", test_nl_route_link_func);
	g_test_add_func("/vigil/daemon/nl-route/link-garbage", test_nl_route_link_garbage_func);
	g_test_add_func("/vigil/daemon/nl-route/address", test_nl_route_address_func);
	g_test_add_func("/vigil/daemon/nl-route/route", test_nl_route_route_func);
	g_test_add_func("/vigil/daemon/nl-route/requests", test_nl_route_requests_func);
	g_test_add_func("/vigil/daemon/nl-route/random", test_nl_route_random_func);
	g_test_add_func("/vigil/daemon/netmon/classify", test_netmon_classify_func);
	return g_test_run();
}
