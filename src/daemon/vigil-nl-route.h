/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <linux/netlink.h>
#include <stdint.h>

G_BEGIN_DECLS

/* rtnetlink messages as plain structs: parsing and request building, no sockets */

#define VIGIL_NL_ROUTE_NAME_SIZE    16
#define VIGIL_NL_ROUTE_KIND_SIZE    32
#define VIGIL_NL_ROUTE_MAX_NEXTHOPS 16
#define VIGIL_NL_ROUTE_REQUEST_SIZE 256
#define VIGIL_NL_ROUTE_TABLE_MAIN   254
#define VIGIL_NL_ROUTE_TABLE_LOCAL  255

typedef struct {
	uint32_t ifindex;
	uint8_t family; /* AF_UNSPEC; AF_BRIDGE for the state of a bridge port */
	uint16_t type;	/* ARPHRD_* */
	uint32_t flags; /* IFF_* */
	gchar name[VIGIL_NL_ROUTE_NAME_SIZE];
	gchar kind[VIGIL_NL_ROUTE_KIND_SIZE]; /* IFLA_INFO_KIND, "" when the link has none */
	gboolean has_name;
	gboolean has_operstate;
	uint8_t operstate; /* IF_OPER_* */
	gboolean has_mtu;
	uint32_t mtu;
	gboolean has_stats;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
} VigilNlLink;

typedef struct {
	uint32_t ifindex;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	uint8_t scope;	     /* RT_SCOPE_* */
	uint32_t flags;	     /* IFA_F_* */
	uint8_t address[16]; /* 4 bytes used for AF_INET */
} VigilNlAddress;

typedef struct {
	uint8_t family;
	uint8_t dst_len;
	uint8_t type; /* RTN_* */
	uint32_t table;
	uint32_t priority;
	guint n_oifs;
	uint32_t oifs[VIGIL_NL_ROUTE_MAX_NEXTHOPS]; /* one per nexthop of a multipath route */
	uint8_t gateways[VIGIL_NL_ROUTE_MAX_NEXTHOPS][16];
	gboolean has_gateways[VIGIL_NL_ROUTE_MAX_NEXTHOPS];
} VigilNlRoute;

gboolean
vigil_nl_route_parse_link(const guint8 *data, gsize len, VigilNlLink *link, GError **error);
gboolean
vigil_nl_route_parse_address(const guint8 *data,
			     gsize len,
			     VigilNlAddress *address,
			     GError **error);
gboolean
vigil_nl_route_parse_route(const guint8 *data, gsize len, VigilNlRoute *route, GError **error);
struct nlmsghdr *
vigil_nl_route_build_dump(gchar *buf, uint16_t type, uint8_t family, uint32_t seq);
struct nlmsghdr *
vigil_nl_route_build_lookup(gchar *buf, uint8_t family, const uint8_t *dst, uint32_t seq);

G_END_DECLS
