/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNetmon"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-interface-rank.h"
#include "vigil-netmon.h"
#include "vigil-nl-route.h"
#include "vigil-watch.h"

/*
 * Two rtnetlink sockets, non-blocking on the main loop: one subscribed to the link,
 * address, route and rule groups, one for requests, sent one at a time: the dumps of
 * links, addresses and routes at start (and again after ENOBUFS on the first), then a route
 * lookup per family for a documentation address, which tells which interface really
 * carries default traffic after fib rules and metrics. Answers have a socket of their own
 * because an overrun drops whatever the kernel sends next, acks and lookup answers too,
 * and a dump still running makes the next one fail with EBUSY. Link and address events are applied
 * as they come; route and rule events (and link changes, since IPv4 drops routes silently when a
 * link goes down) schedule a debounced refresh: a route dump and the two lookups. When the requests
 * are answered the interfaces are ranked again and "changed"/"updated" go out. Nothing runs on a
 * timer unless something changed, or while a client watches the rates.
 */

#define BUFFER_SIZE	   (64 * 1024)
#define RCVBUF_SIZE	   (4 * 1024 * 1024)
#define DATAGRAMS_PER_CALL 64
#define REFRESH_DELAY_MS   250
#define SAMPLE_INTERVAL_S  2

typedef enum {
	REQUEST_NONE = 0,
	REQUEST_LINKS = 1 << 0,
	REQUEST_ADDRESSES = 1 << 1,
	REQUEST_ROUTES = 1 << 2,
	REQUEST_LOOKUP4 = 1 << 3,
	REQUEST_LOOKUP6 = 1 << 4,
} VigilNetmonRequest;

#define REQUEST_ALL                                                                                \
	(REQUEST_LINKS | REQUEST_ADDRESSES | REQUEST_ROUTES | REQUEST_LOOKUP4 | REQUEST_LOOKUP6)
#define REQUEST_REFRESH (REQUEST_ROUTES | REQUEST_LOOKUP4 | REQUEST_LOOKUP6)

typedef struct {
	guint32 ifindex;
	const gchar *name; /* interned */
	const gchar *kind;
	guint16 type;
	guint32 flags;
	guint8 operstate;
	guint32 mtu;
	guint64 rx_bytes;
	guint64 tx_bytes;
	guint64 sample_rx;
	guint64 sample_tx;
	gint64 sample_time; /* monotonic, 0 before the first sample */
	gdouble rx_rate;
	gdouble tx_rate;
	GArray *addresses; /* of VigilNlAddress */
	VigilConnectivity connectivity[2];
	gint64 rtt_usec[2];
	guint generation;
} VigilNetmonLink;

typedef struct {
	guint8 family;
	guint32 table;
	guint32 priority;
	guint32 oif;
	gboolean has_gateway;
	guint8 gateway[16];
} VigilNetmonRoute;

struct _VigilNetmon {
	GObject parent_instance;
	gchar **preferred;
	gchar **metered;
	struct mnl_socket *events;
	struct mnl_socket *requests;
	guint8 *buffer;
	guint events_watch;
	guint requests_watch;
	guint32 seq;
	VigilNetmonRequest current;
	guint32 current_seq;
	gboolean current_interrupted;
	guint pending;	   /* VigilNetmonRequest bits */
	GHashTable *links; /* ifindex -> VigilNetmonLink */
	GArray *routes;	   /* of VigilNetmonRoute: the default routes of the last dump */
	GArray *next_routes;
	guint32 lookup_oif[2];
	guint generation;
	gboolean dirty; /* links, addresses or routes changed since the last "changed" */
	guint refresh_id;
	guint publish_id;
	guint sample_id;
	gboolean watched;
	guint receive_buffer;
	guint overruns;
	GPtrArray *interfaces; /* of VigilNetmonInterface, best first */
};

enum { SIGNAL_CHANGED, SIGNAL_UPDATED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_FINAL_TYPE(VigilNetmon, vigil_netmon, G_TYPE_OBJECT)

static void
vigil_netmon_send_next(VigilNetmon *self);

VigilNetmonInterface *
vigil_netmon_interface_ref(VigilNetmonInterface *iface)
{
	return g_atomic_rc_box_acquire(iface);
}

static void
vigil_netmon_interface_clear(VigilNetmonInterface *iface)
{
	g_strfreev(iface->addresses);
	for (guint i = 0; i < 2; i++) {
		g_free(iface->gateway[i]);
		g_strfreev(iface->reasons[i]);
	}
}

void
vigil_netmon_interface_unref(VigilNetmonInterface *iface)
{
	g_atomic_rc_box_release_full(iface, (GDestroyNotify)vigil_netmon_interface_clear);
}

guint
vigil_netmon_family_index(guint family)
{
	return family == 6 || family == AF_INET6 ? 1 : 0;
}

static void
vigil_netmon_link_free(VigilNetmonLink *link)
{
	g_array_unref(link->addresses);
	g_free(link);
}

/*
 * The kind of an interface, from the rtnetlink link kind (IFLA_INFO_KIND), the hardware
 * type (ARPHRD_*) and, for kind-less Ethernet devices only, DEVTYPE from sysfs:
 *   loopback  ARPHRD_LOOPBACK
 *   bridge    kind bridge, or DEVTYPE=bridge
 *   vpn       kinds tun, wireguard, ipip, sit, gre, gretap, ip6gre, ip6gretap, ip6tnl, vti,
 *             vti6, xfrm, erspan, ip6erspan, l2tp, ppp, and ARPHRD_PPP, ARPHRD_NONE
 *             (kind-less tun), ARPHRD_TUNNEL, ARPHRD_TUNNEL6, ARPHRD_IPGRE
 *   wwan      kinds wwan, rmnet, qmimux, mhi_net, and ARPHRD_RAWIP, or DEVTYPE=wwan
 *   wifi      ARPHRD_IEEE80211*, or DEVTYPE=wlan (a wireless or phy80211 entry counts)
 *   virtual   any other kind: veth, dummy, macvlan, macvtap, ipvlan, vlan, bond, team,
 *             vxlan, geneve, vrf, ifb, ... A device with a kind is never looked up in
 *             sysfs, so a veth in a namespace is virtual whatever /sys shows
 *   ethernet  kind-less ARPHRD_ETHER devices that are none of the above
 */
const gchar *
vigil_netmon_classify(const gchar *kind, guint16 type, const gchar *devtype)
{
	const gchar *vpn_kinds[] = {"tun",
				    "wireguard",
				    "ipip",
				    "sit",
				    "gre",
				    "gretap",
				    "ip6gre",
				    "ip6gretap",
				    "ip6tnl",
				    "vti",
				    "vti6",
				    "xfrm",
				    "erspan",
				    "ip6erspan",
				    "l2tp",
				    "ppp",
				    NULL};
	const gchar *wwan_kinds[] = {"wwan", "rmnet", "qmimux", "mhi_net", NULL};

	if (type == ARPHRD_LOOPBACK)
		return "loopback";
	if (kind != NULL && kind[0] != '\0') {
		if (g_str_equal(kind, "bridge"))
			return "bridge";
		if (g_strv_contains(vpn_kinds, kind))
			return "vpn";
		if (g_strv_contains(wwan_kinds, kind))
			return "wwan";
		return "virtual";
	}
	switch (type) {
	case ARPHRD_PPP:
	case ARPHRD_NONE:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
		return "vpn";
	case ARPHRD_RAWIP:
		return "wwan";
	case ARPHRD_IEEE80211:
	case ARPHRD_IEEE80211_PRISM:
	case ARPHRD_IEEE80211_RADIOTAP:
		return "wifi";
	default:
		break;
	}
	if (g_strcmp0(devtype, "wlan") == 0)
		return "wifi";
	if (g_strcmp0(devtype, "wwan") == 0)
		return "wwan";
	if (g_strcmp0(devtype, "bridge") == 0)
		return "bridge";
	if (devtype != NULL && devtype[0] != '\0')
		return "virtual";
	return type == ARPHRD_ETHER ? "ethernet" : "virtual";
}

/* DEVTYPE of a kind-less device from sysfs; NULL when /sys shows another namespace */
static gchar *
vigil_netmon_read_devtype(const gchar *name, guint32 ifindex)
{
	g_autofree gchar *dir = g_build_filename("/sys/class/net", name, NULL);
	g_autofree gchar *index_path = g_build_filename(dir, "ifindex", NULL);
	g_autofree gchar *wireless = g_build_filename(dir, "wireless", NULL);
	g_autofree gchar *phy = g_build_filename(dir, "phy80211", NULL);
	g_autofree gchar *uevent_path = g_build_filename(dir, "uevent", NULL);
	g_autofree gchar *index_str = NULL;
	g_autofree gchar *uevent = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(index_path, &index_str, NULL, NULL) ||
	    g_ascii_strtoull(index_str, NULL, 10) != ifindex)
		return NULL;
	if (g_file_test(wireless, G_FILE_TEST_EXISTS) || g_file_test(phy, G_FILE_TEST_EXISTS))
		return g_strdup("wlan");
	if (!g_file_get_contents(uevent_path, &uevent, NULL, NULL))
		return g_strdup("");
	lines = g_strsplit(uevent, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "DEVTYPE="))
			return g_strdup(lines[i] + strlen("DEVTYPE="));
	}
	return g_strdup("");
}

static const gchar *
vigil_netmon_operstate_to_string(guint8 operstate)
{
	switch (operstate) {
	case IF_OPER_NOTPRESENT:
		return "notpresent";
	case IF_OPER_DOWN:
		return "down";
	case IF_OPER_LOWERLAYERDOWN:
		return "lowerlayerdown";
	case IF_OPER_TESTING:
		return "testing";
	case IF_OPER_DORMANT:
		return "dormant";
	case IF_OPER_UP:
		return "up";
	default:
		return "unknown";
	}
}

static void
vigil_netmon_schedule_refresh(VigilNetmon *self);

static void
vigil_netmon_handle_link(VigilNetmon *self, const struct nlmsghdr *nlh, gboolean dump)
{
	g_autoptr(GError) error = NULL;
	VigilNetmonLink *link;
	VigilNlLink msg;
	gboolean changed = FALSE;

	if (!vigil_nl_route_parse_link((const guint8 *)nlh, nlh->nlmsg_len, &msg, &error)) {
		g_debug("ignoring link message: %s", error->message);
		return;
	}
	/* a bridge port's RTM_DELLINK means it left the bridge, not that it is gone */
	if (msg.family != AF_UNSPEC)
		return;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (g_hash_table_remove(self->links, GUINT_TO_POINTER(msg.ifindex))) {
			self->dirty = TRUE;
			vigil_netmon_schedule_refresh(self);
		}
		return;
	}
	link = g_hash_table_lookup(self->links, GUINT_TO_POINTER(msg.ifindex));
	if (link == NULL) {
		if (!msg.has_name)
			return;
		link = g_new0(VigilNetmonLink, 1);
		link->ifindex = msg.ifindex;
		link->addresses = g_array_new(FALSE, TRUE, sizeof(VigilNlAddress));
		link->rtt_usec[0] = link->rtt_usec[1] = -1;
		g_hash_table_insert(self->links, GUINT_TO_POINTER(msg.ifindex), link);
		changed = TRUE;
	}
	if (msg.has_name && g_strcmp0(link->name, msg.name) != 0) {
		g_autofree gchar *devtype = NULL;

		if (link->name != NULL)
			g_info("interface %u renamed from %s to %s",
			       msg.ifindex,
			       link->name,
			       msg.name);
		link->name = g_intern_string(msg.name);
		if (msg.kind[0] == '\0' && msg.type != ARPHRD_LOOPBACK)
			devtype = vigil_netmon_read_devtype(link->name, link->ifindex);
		link->kind = vigil_netmon_classify(msg.kind, msg.type, devtype);
		changed = TRUE;
	}
	if (link->type != msg.type || link->flags != msg.flags)
		changed = TRUE;
	link->type = msg.type;
	link->flags = msg.flags;
	if (msg.has_operstate && link->operstate != msg.operstate) {
		link->operstate = msg.operstate;
		changed = TRUE;
	}
	if (msg.has_mtu && link->mtu != msg.mtu) {
		link->mtu = msg.mtu;
		changed = TRUE;
	}
	if (msg.has_stats) {
		link->rx_bytes = msg.rx_bytes;
		link->tx_bytes = msg.tx_bytes;
	}
	if (dump)
		link->generation = self->generation;
	if (changed) {
		self->dirty = TRUE;
		if (!dump)
			vigil_netmon_schedule_refresh(self);
	}
}

static gboolean
vigil_netmon_address_equal(const VigilNlAddress *a, const VigilNlAddress *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       memcmp(a->address, b->address, sizeof(a->address)) == 0;
}

static void
vigil_netmon_handle_address(VigilNetmon *self, const struct nlmsghdr *nlh, gboolean dump)
{
	g_autoptr(GError) error = NULL;
	VigilNetmonLink *link;
	VigilNlAddress msg;
	guint i;

	if (!vigil_nl_route_parse_address((const guint8 *)nlh, nlh->nlmsg_len, &msg, &error)) {
		g_debug("ignoring address message: %s", error->message);
		return;
	}
	link = g_hash_table_lookup(self->links, GUINT_TO_POINTER(msg.ifindex));
	if (link == NULL)
		return;
	for (i = 0; i < link->addresses->len; i++) {
		if (vigil_netmon_address_equal(&g_array_index(link->addresses, VigilNlAddress, i),
					       &msg))
			break;
	}
	if (nlh->nlmsg_type == RTM_DELADDR) {
		if (i == link->addresses->len)
			return;
		g_array_remove_index(link->addresses, i);
	} else if (i < link->addresses->len) {
		VigilNlAddress *old = &g_array_index(link->addresses, VigilNlAddress, i);
		if (memcmp(old, &msg, sizeof(msg)) == 0)
			return;
		*old = msg;
	} else {
		g_array_append_val(link->addresses, msg);
	}
	self->dirty = TRUE;
	if (!dump)
		vigil_netmon_schedule_refresh(self);
}

/* default routes only: they are all the ranking needs */
static void
vigil_netmon_handle_route_dump(VigilNetmon *self, const struct nlmsghdr *nlh)
{
	g_autoptr(GError) error = NULL;
	VigilNlRoute msg;

	if (!vigil_nl_route_parse_route((const guint8 *)nlh, nlh->nlmsg_len, &msg, &error)) {
		g_debug("ignoring route message: %s", error->message);
		return;
	}
	if (msg.dst_len != 0 || msg.type != RTN_UNICAST ||
	    msg.table == VIGIL_NL_ROUTE_TABLE_LOCAL || self->next_routes == NULL)
		return;
	for (guint i = 0; i < msg.n_oifs; i++) {
		VigilNetmonRoute route;

		/* padding included: dumps are compared with memcmp() */
		memset(&route, 0, sizeof(route));
		route.family = msg.family;
		route.table = msg.table;
		route.priority = msg.priority;
		route.oif = msg.oifs[i];
		route.has_gateway = msg.has_gateways[i];
		memcpy(route.gateway, msg.gateways[i], sizeof(route.gateway));
		g_array_append_val(self->next_routes, route);
	}
}

static void
vigil_netmon_handle_lookup(VigilNetmon *self, const struct nlmsghdr *nlh, guint index)
{
	g_autoptr(GError) error = NULL;
	VigilNlRoute msg;
	guint32 oif = 0;

	if (nlh->nlmsg_type == RTM_NEWROUTE &&
	    vigil_nl_route_parse_route((const guint8 *)nlh, nlh->nlmsg_len, &msg, &error) &&
	    msg.type == RTN_UNICAST && msg.n_oifs > 0)
		oif = msg.oifs[0];
	else if (error != NULL)
		g_debug("ignoring route lookup answer: %s", error->message);
	if (self->lookup_oif[index] != oif) {
		self->lookup_oif[index] = oif;
		self->dirty = TRUE;
	}
}

static gboolean
vigil_netmon_routes_equal(GArray *a, GArray *b)
{
	if (a->len != b->len)
		return FALSE;
	return memcmp(a->data, b->data, a->len * sizeof(VigilNetmonRoute)) == 0;
}

static void
vigil_netmon_sample(VigilNetmon *self)
{
	gint64 now = g_get_monotonic_time();
	GHashTableIter iter;
	VigilNetmonLink *link;

	g_hash_table_iter_init(&iter, self->links);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&link)) {
		if (self->watched && link->sample_time > 0 && now > link->sample_time) {
			gdouble seconds = (gdouble)(now - link->sample_time) / G_USEC_PER_SEC;
			/* counters of a re-created device may start again from zero */
			link->rx_rate = link->rx_bytes >= link->sample_rx
					    ? (link->rx_bytes - link->sample_rx) / seconds
					    : 0;
			link->tx_rate = link->tx_bytes >= link->sample_tx
					    ? (link->tx_bytes - link->sample_tx) / seconds
					    : 0;
		} else {
			link->rx_rate = link->tx_rate = 0;
		}
		link->sample_rx = link->rx_bytes;
		link->sample_tx = link->tx_bytes;
		link->sample_time = self->watched ? now : 0;
	}
}

static void
vigil_netmon_finish_request(VigilNetmon *self)
{
	VigilNetmonRequest done = self->current;

	g_debug("request 0x%x answered%s", done, self->current_interrupted ? ", interrupted" : "");
	self->current = REQUEST_NONE;
	if (self->current_interrupted && done != REQUEST_LOOKUP4 && done != REQUEST_LOOKUP6) {
		/* the dump was interrupted by a change: it may be inconsistent, so redo it */
		self->pending |= done;
		if (done == REQUEST_ROUTES)
			self->pending |= REQUEST_LOOKUP4 | REQUEST_LOOKUP6;
		vigil_netmon_send_next(self);
		return;
	}
	if (done == REQUEST_LINKS) {
		GHashTableIter iter;
		VigilNetmonLink *link;

		g_hash_table_iter_init(&iter, self->links);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&link)) {
			if (link->generation != self->generation) {
				g_hash_table_iter_remove(&iter);
				self->dirty = TRUE;
			}
		}
		vigil_netmon_sample(self);
	} else if (done == REQUEST_ROUTES && self->next_routes != NULL) {
		if (!vigil_netmon_routes_equal(self->routes, self->next_routes))
			self->dirty = TRUE;
		g_array_unref(self->routes);
		self->routes = g_steal_pointer(&self->next_routes);
	}
	vigil_netmon_send_next(self);
}

static gboolean
vigil_netmon_match_globs(gchar **globs, const gchar *name, gint *index)
{
	for (guint i = 0; globs != NULL && globs[i] != NULL; i++) {
		if (fnmatch(globs[i], name, 0) == 0) {
			if (index != NULL)
				*index = (gint)i;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
vigil_netmon_address_usable(const VigilNlAddress *address)
{
	return address->scope == RT_SCOPE_UNIVERSE &&
	       (address->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0;
}

static gint
vigil_netmon_compare_links_cb(gconstpointer a, gconstpointer b)
{
	const VigilNetmonLink *la = *(VigilNetmonLink *const *)a;
	const VigilNetmonLink *lb = *(VigilNetmonLink *const *)b;
	return la->ifindex < lb->ifindex ? -1 : (la->ifindex > lb->ifindex ? 1 : 0);
}

static gint
vigil_netmon_best_rank(const VigilNetmonInterface *iface)
{
	gint best = G_MAXINT;
	for (guint i = 0; i < 2; i++) {
		if (iface->rank[i] >= 0)
			best = MIN(best, iface->rank[i]);
	}
	return best;
}

static gint
vigil_netmon_compare_interfaces_cb(gconstpointer a, gconstpointer b)
{
	const VigilNetmonInterface *ia = *(VigilNetmonInterface *const *)a;
	const VigilNetmonInterface *ib = *(VigilNetmonInterface *const *)b;
	gint ra = vigil_netmon_best_rank(ia);
	gint rb = vigil_netmon_best_rank(ib);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	for (guint i = 0; i < 2; i++) {
		guint ka = ia->rank[i] < 0 ? G_MAXUINT : (guint)ia->rank[i];
		guint kb = ib->rank[i] < 0 ? G_MAXUINT : (guint)ib->rank[i];
		if (ka != kb)
			return ka < kb ? -1 : 1;
	}
	return ia->ifindex < ib->ifindex ? -1 : (ia->ifindex > ib->ifindex ? 1 : 0);
}

static gchar *
vigil_netmon_format_address(guint8 family, const guint8 *address)
{
	gchar buf[INET6_ADDRSTRLEN] = "";
	inet_ntop(family, address, buf, sizeof(buf));
	return g_strdup(buf);
}

/* the default route of @link in @family that counts: the main table's, else the lowest */
static const VigilNetmonRoute *
vigil_netmon_find_default_route(VigilNetmon *self, guint32 ifindex, guint8 family)
{
	const VigilNetmonRoute *best = NULL;

	for (guint i = 0; i < self->routes->len; i++) {
		const VigilNetmonRoute *route = &g_array_index(self->routes, VigilNetmonRoute, i);
		gboolean main_table = route->table == VIGIL_NL_ROUTE_TABLE_MAIN;

		if (route->oif != ifindex || route->family != family)
			continue;
		if (best == NULL || (main_table && best->table != VIGIL_NL_ROUTE_TABLE_MAIN) ||
		    (main_table == (best->table == VIGIL_NL_ROUTE_TABLE_MAIN) &&
		     route->priority < best->priority))
			best = route;
	}
	return best;
}

static void
vigil_netmon_rebuild(VigilNetmon *self)
{
	g_autoptr(GPtrArray) links = g_ptr_array_new();
	g_autoptr(GPtrArray) interfaces =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_netmon_interface_unref);
	const guint8 families[2] = {AF_INET, AF_INET6};
	g_autofree VigilRankEntry *entries = NULL;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->links);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(links, value);
	g_ptr_array_sort(links, vigil_netmon_compare_links_cb);
	for (guint i = 0; i < links->len; i++) {
		VigilNetmonLink *link = g_ptr_array_index(links, i);
		VigilNetmonInterface *iface = g_atomic_rc_box_new0(VigilNetmonInterface);
		g_autoptr(GPtrArray) addresses = g_ptr_array_new();

		iface->ifindex = link->ifindex;
		iface->name = link->name;
		iface->kind = link->kind;
		iface->operstate = vigil_netmon_operstate_to_string(link->operstate);
		iface->up = (link->flags & IFF_UP) != 0;
		iface->carrier = (link->flags & IFF_LOWER_UP) != 0;
		iface->mtu = link->mtu;
		iface->metered = g_strcmp0(link->kind, "wwan") == 0 ||
				 vigil_netmon_match_globs(self->metered, link->name, NULL);
		iface->rx_bytes = link->rx_bytes;
		iface->tx_bytes = link->tx_bytes;
		iface->rx_rate = link->rx_rate;
		iface->tx_rate = link->tx_rate;
		for (guint f = 0; f < 2; f++) {
			for (guint j = 0; j < link->addresses->len; j++) {
				const VigilNlAddress *address =
				    &g_array_index(link->addresses, VigilNlAddress, j);
				g_autofree gchar *text = NULL;
				if (address->family != families[f])
					continue;
				text =
				    vigil_netmon_format_address(address->family, address->address);
				g_ptr_array_add(
				    addresses,
				    g_strdup_printf("%s/%u", text, address->prefix_len));
			}
		}
		g_ptr_array_add(addresses, NULL);
		iface->addresses = (GStrv)g_ptr_array_free(g_steal_pointer(&addresses), FALSE);
		g_ptr_array_add(interfaces, iface);
	}

	entries = g_new0(VigilRankEntry, MAX(links->len, 1));
	for (guint f = 0; f < 2; f++) {
		for (guint i = 0; i < links->len; i++) {
			VigilNetmonLink *link = g_ptr_array_index(links, i);
			VigilNetmonInterface *iface = g_ptr_array_index(interfaces, i);
			const VigilNetmonRoute *route =
			    vigil_netmon_find_default_route(self, link->ifindex, families[f]);
			VigilRankEntry *entry = &entries[i];

			memset(entry, 0, sizeof(*entry));
			entry->ifindex = link->ifindex;
			entry->name = link->name;
			entry->loopback = g_strcmp0(link->kind, "loopback") == 0;
			entry->up = iface->up;
			entry->carrier = iface->carrier;
			for (guint j = 0; j < link->addresses->len; j++) {
				const VigilNlAddress *address =
				    &g_array_index(link->addresses, VigilNlAddress, j);
				if (address->family == families[f] &&
				    vigil_netmon_address_usable(address))
					entry->has_address = TRUE;
			}
			entry->has_default_route = route != NULL;
			entry->metric = route != NULL ? route->priority : 0;
			entry->carries_default = self->lookup_oif[f] == link->ifindex;
			entry->preferred_index = -1;
			vigil_netmon_match_globs(self->preferred,
						 link->name,
						 &entry->preferred_index);
			entry->connectivity = link->connectivity[f];
			entry->rtt_usec = link->rtt_usec[f];
			/* probes that fail in either family while the link is up */
			entry->advisory =
			    iface->up && iface->carrier &&
			    (link->connectivity[0] == VIGIL_CONNECTIVITY_NO_INTERNET ||
			     link->connectivity[1] == VIGIL_CONNECTIVITY_NO_INTERNET ||
			     link->connectivity[0] == VIGIL_CONNECTIVITY_DNS_BROKEN ||
			     link->connectivity[1] == VIGIL_CONNECTIVITY_DNS_BROKEN);
			entry->metered = iface->metered;
			iface->default_route[f] = route != NULL;
			iface->metric[f] = entry->metric;
			if (route != NULL && route->has_gateway)
				iface->gateway[f] =
				    vigil_netmon_format_address(route->family, route->gateway);
		}
		vigil_interface_rank(f == 0 ? 4 : 6, entries, links->len);
		for (guint i = 0; i < links->len; i++) {
			VigilNetmonInterface *iface = g_ptr_array_index(interfaces, i);
			GPtrArray *reasons = entries[i].reasons;

			iface->rank[f] = entries[i].rank;
			g_ptr_array_add(reasons, NULL);
			iface->reasons[f] = g_strdupv((gchar **)reasons->pdata);
			vigil_rank_entry_clear(&entries[i]);
		}
	}
	g_ptr_array_sort(interfaces, vigil_netmon_compare_interfaces_cb);
	g_ptr_array_unref(self->interfaces);
	self->interfaces = g_steal_pointer(&interfaces);
}

static void
vigil_netmon_publish(VigilNetmon *self)
{
	g_clear_handle_id(&self->publish_id, g_source_remove);
	vigil_netmon_rebuild(self);
	if (self->dirty) {
		self->dirty = FALSE;
		g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	}
	g_signal_emit(self, signals[SIGNAL_UPDATED], 0);
}

static void
vigil_netmon_send_next(VigilNetmon *self)
{
	const guint8 lookup4[4] = {192, 0, 2, 1};
	const guint8 lookup6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	gchar buf[VIGIL_NL_ROUTE_REQUEST_SIZE];
	struct nlmsghdr *nlh = NULL;
	VigilNetmonRequest next = REQUEST_NONE;

	if (self->requests == NULL || self->current != REQUEST_NONE)
		return;
	if (self->pending == 0) {
		vigil_netmon_publish(self);
		return;
	}
	for (guint bit = 0; bit < 5; bit++) {
		if ((self->pending & (1u << bit)) != 0) {
			next = 1u << bit;
			break;
		}
	}
	self->pending &= ~next;
	self->current = next;
	self->current_seq = ++self->seq;
	g_debug("request 0x%x, sequence %u", next, self->current_seq);
	self->current_interrupted = FALSE;
	switch (next) {
	case REQUEST_LINKS:
		self->generation++;
		nlh = vigil_nl_route_build_dump(buf, RTM_GETLINK, AF_UNSPEC, self->current_seq);
		break;
	case REQUEST_ADDRESSES:
		nlh = vigil_nl_route_build_dump(buf, RTM_GETADDR, AF_UNSPEC, self->current_seq);
		break;
	case REQUEST_ROUTES:
		g_clear_pointer(&self->next_routes, g_array_unref);
		self->next_routes = g_array_new(FALSE, TRUE, sizeof(VigilNetmonRoute));
		nlh = vigil_nl_route_build_dump(buf, RTM_GETROUTE, AF_UNSPEC, self->current_seq);
		break;
	case REQUEST_LOOKUP4:
		nlh = vigil_nl_route_build_lookup(buf, AF_INET, lookup4, self->current_seq);
		break;
	case REQUEST_LOOKUP6:
		nlh = vigil_nl_route_build_lookup(buf, AF_INET6, lookup6, self->current_seq);
		break;
	case REQUEST_NONE:
	default:
		g_assert_not_reached();
	}
	if (mnl_socket_sendto(self->requests, nlh, nlh->nlmsg_len) < 0) {
		gint errsv = errno;
		g_warning("cannot send an rtnetlink request: %s", g_strerror(errsv));
		self->current = REQUEST_NONE;
		if (next == REQUEST_LOOKUP4 || next == REQUEST_LOOKUP6)
			self->lookup_oif[next == REQUEST_LOOKUP4 ? 0 : 1] = 0;
		vigil_netmon_send_next(self);
	}
}

static void
vigil_netmon_resync(VigilNetmon *self)
{
	GHashTableIter iter;
	VigilNetmonLink *link;

	/* events were lost: ask everything again once the request in flight is answered */
	self->pending |= REQUEST_ALL;
	self->dirty = TRUE;
	g_hash_table_iter_init(&iter, self->links);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&link))
		g_array_set_size(link->addresses, 0);
	vigil_netmon_send_next(self);
}

static void
vigil_netmon_handle_message(VigilNetmon *self, const struct nlmsghdr *nlh, gboolean request)
{
	gboolean answer =
	    request && self->current != REQUEST_NONE && nlh->nlmsg_seq == self->current_seq;
	gboolean lookup = self->current == REQUEST_LOOKUP4 || self->current == REQUEST_LOOKUP6;

	if (answer && (nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0)
		self->current_interrupted = TRUE;
	if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
		if (!answer)
			return;
		if (nlh->nlmsg_type == NLMSG_ERROR && !lookup) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*err)) && err->error != 0)
				g_warning("rtnetlink dump failed: %s", g_strerror(-err->error));
		}
		if (lookup)
			vigil_netmon_handle_lookup(self,
						   nlh,
						   self->current == REQUEST_LOOKUP4 ? 0 : 1);
		vigil_netmon_finish_request(self);
		return;
	}
	if (answer && lookup) {
		vigil_netmon_handle_lookup(self, nlh, self->current == REQUEST_LOOKUP4 ? 0 : 1);
		vigil_netmon_finish_request(self);
		return;
	}
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		vigil_netmon_handle_link(self, nlh, answer && self->current == REQUEST_LINKS);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		vigil_netmon_handle_address(self, nlh, answer);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (answer && self->current == REQUEST_ROUTES)
			vigil_netmon_handle_route_dump(self, nlh);
		else
			vigil_netmon_schedule_refresh(self);
		break;
	case RTM_NEWRULE:
	case RTM_DELRULE:
		vigil_netmon_schedule_refresh(self);
		break;
	default:
		break;
	}
}

static void
vigil_netmon_receive(VigilNetmon *self, gint fd, gboolean request)
{
	for (guint n = 0; n < DATAGRAMS_PER_CALL && self->requests != NULL; n++) {
		struct sockaddr_nl addr = {0};
		struct iovec iov = {self->buffer, BUFFER_SIZE};
		struct msghdr msg = {0};
		const struct nlmsghdr *nlh;
		gssize len;
		gint left;

		msg.msg_name = &addr;
		msg.msg_namelen = sizeof(addr);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		len = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (len < 0) {
			gint errsv = errno;
			if (errsv == EAGAIN)
				break;
			if (errsv == EINTR)
				continue;
			if (errsv == ENOBUFS) {
				self->overruns++;
				g_message("rtnetlink events overran the receive buffer, "
					  "resynchronising");
				vigil_netmon_resync(self);
				continue;
			}
			g_warning("rtnetlink: %s", g_strerror(errsv));
			break;
		}
		/* only the kernel speaks here, and a cut datagram is no use */
		if (addr.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC) != 0)
			continue;
		left = (gint)len;
		for (nlh = (const struct nlmsghdr *)self->buffer; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			vigil_netmon_handle_message(self, nlh, request);
	}
}

static gboolean
vigil_netmon_events_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	vigil_netmon_receive(VIGIL_NETMON(user_data), fd, FALSE);
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_netmon_requests_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	vigil_netmon_receive(VIGIL_NETMON(user_data), fd, TRUE);
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_netmon_refresh_cb(gpointer user_data)
{
	VigilNetmon *self = VIGIL_NETMON(user_data);

	self->refresh_id = 0;
	self->pending |= REQUEST_REFRESH;
	vigil_netmon_send_next(self);
	return G_SOURCE_REMOVE;
}

static void
vigil_netmon_schedule_refresh(VigilNetmon *self)
{
	if (self->refresh_id != 0 || self->requests == NULL)
		return;
	self->refresh_id = g_timeout_add(REFRESH_DELAY_MS, vigil_netmon_refresh_cb, self);
}

static gboolean
vigil_netmon_publish_cb(gpointer user_data)
{
	VigilNetmon *self = VIGIL_NETMON(user_data);

	self->publish_id = 0;
	/* requests in flight publish when they are answered */
	if (self->current == REQUEST_NONE && self->pending == 0)
		vigil_netmon_publish(self);
	return G_SOURCE_REMOVE;
}

static gboolean
vigil_netmon_sample_cb(gpointer user_data)
{
	VigilNetmon *self = VIGIL_NETMON(user_data);

	self->pending |= REQUEST_LINKS;
	vigil_netmon_send_next(self);
	return G_SOURCE_CONTINUE;
}

static struct mnl_socket *
vigil_netmon_open(GError **error)
{
	g_autoptr(VigilMnlSocket) nl =
	    mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		vigil_error_set_errno(error, errno, "cannot open rtnetlink socket");
		return NULL;
	}
	return g_steal_pointer(&nl);
}

gboolean
vigil_netmon_start(VigilNetmon *self, GError **error)
{
	g_autoptr(VigilMnlSocket) nl = NULL;
	g_autoptr(VigilMnlSocket) requests = NULL;
	const guint groups[] = {RTNLGRP_LINK,
				RTNLGRP_IPV4_IFADDR,
				RTNLGRP_IPV6_IFADDR,
				RTNLGRP_IPV4_ROUTE,
				RTNLGRP_IPV6_ROUTE,
				RTNLGRP_IPV4_RULE,
				RTNLGRP_IPV6_RULE};
	gint rcvbuf = (gint)MIN(self->receive_buffer, (guint)G_MAXINT / 2);
	gint fd;

	g_return_val_if_fail(VIGIL_IS_NETMON(self), FALSE);
	g_return_val_if_fail(self->requests == NULL, FALSE);

	nl = vigil_netmon_open(error);
	if (nl == NULL)
		return FALSE;
	requests = vigil_netmon_open(error);
	if (requests == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(groups); i++) {
		gint group = groups[i];
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
			gint errsv = errno;
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errsv),
				    "cannot join rtnetlink group %d: %s",
				    group,
				    g_strerror(errsv));
			return FALSE;
		}
	}
	fd = mnl_socket_get_fd(nl);
	/* FORCE needs CAP_NET_ADMIN, which the daemon has; otherwise rmem_max caps it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
		g_debug("cannot set the rtnetlink receive buffer: %s", g_strerror(errno));
	self->events = g_steal_pointer(&nl);
	self->requests = g_steal_pointer(&requests);
	/* an overrun shows as POLLERR; the next recvmsg() reports it as ENOBUFS */
	self->events_watch = vigil_watch_fd(fd, G_IO_IN | G_IO_ERR, vigil_netmon_events_cb, self);
	self->requests_watch = vigil_watch_fd(mnl_socket_get_fd(self->requests),
					      G_IO_IN | G_IO_ERR,
					      vigil_netmon_requests_cb,
					      self);
	self->pending = REQUEST_ALL;
	self->dirty = TRUE;
	vigil_netmon_send_next(self);
	if (self->watched)
		vigil_netmon_set_watched(self, TRUE);
	return TRUE;
}

void
vigil_netmon_stop(VigilNetmon *self)
{
	g_clear_handle_id(&self->events_watch, g_source_remove);
	g_clear_handle_id(&self->requests_watch, g_source_remove);
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	g_clear_handle_id(&self->publish_id, g_source_remove);
	g_clear_handle_id(&self->sample_id, g_source_remove);
	g_clear_pointer(&self->events, mnl_socket_close);
	g_clear_pointer(&self->requests, mnl_socket_close);
	self->current = REQUEST_NONE;
	self->pending = 0;
}

/* a reference to the current snapshot, best first; do not change it */
GPtrArray *
vigil_netmon_get_interfaces(VigilNetmon *self)
{
	g_return_val_if_fail(VIGIL_IS_NETMON(self), NULL);
	return g_ptr_array_ref(self->interfaces);
}

/* the current name of an interface (interned, valid for ever), NULL when unknown */
const gchar *
vigil_netmon_lookup_name(VigilNetmon *self, guint ifindex)
{
	VigilNetmonLink *link = g_hash_table_lookup(self->links, GUINT_TO_POINTER(ifindex));
	return link != NULL ? link->name : NULL;
}

/* what the connectivity checker found: @family 4 or 6, @rtt_usec -1 when unknown */
void
vigil_netmon_set_validation(VigilNetmon *self,
			    guint ifindex,
			    guint family,
			    VigilConnectivity state,
			    gint64 rtt_usec)
{
	VigilNetmonLink *link;
	guint f;

	g_return_if_fail(VIGIL_IS_NETMON(self));
	g_return_if_fail(family == 4 || family == 6);
	g_return_if_fail(state < VIGIL_CONNECTIVITY_LAST);

	link = g_hash_table_lookup(self->links, GUINT_TO_POINTER(ifindex));
	if (link == NULL)
		return;
	f = vigil_netmon_family_index(family);
	if (link->connectivity[f] == state && link->rtt_usec[f] == rtt_usec)
		return;
	link->connectivity[f] = state;
	link->rtt_usec[f] = rtt_usec < 0 ? -1 : rtt_usec;
	if (self->publish_id == 0)
		self->publish_id = g_idle_add(vigil_netmon_publish_cb, self);
}

/* rates are sampled every 2 s while a client watches, and not at all otherwise */
void
vigil_netmon_set_watched(VigilNetmon *self, gboolean watched)
{
	g_return_if_fail(VIGIL_IS_NETMON(self));

	self->watched = watched;
	if (self->requests == NULL)
		return;
	if (watched && self->sample_id == 0) {
		self->sample_id =
		    g_timeout_add_seconds(SAMPLE_INTERVAL_S, vigil_netmon_sample_cb, self);
		self->pending |= REQUEST_LINKS;
		vigil_netmon_send_next(self);
	} else if (!watched && self->sample_id != 0) {
		g_clear_handle_id(&self->sample_id, g_source_remove);
		vigil_netmon_sample(self);
		if (self->publish_id == 0)
			self->publish_id = g_idle_add(vigil_netmon_publish_cb, self);
	}
}

static void
vigil_netmon_dispose(GObject *object)
{
	VigilNetmon *self = VIGIL_NETMON(object);

	vigil_netmon_stop(self);
	G_OBJECT_CLASS(vigil_netmon_parent_class)->dispose(object);
}

static void
vigil_netmon_finalize(GObject *object)
{
	VigilNetmon *self = VIGIL_NETMON(object);

	g_strfreev(self->preferred);
	g_strfreev(self->metered);
	g_free(self->buffer);
	g_hash_table_unref(self->links);
	g_array_unref(self->routes);
	g_clear_pointer(&self->next_routes, g_array_unref);
	g_ptr_array_unref(self->interfaces);
	G_OBJECT_CLASS(vigil_netmon_parent_class)->finalize(object);
}

static void
vigil_netmon_class_init(VigilNetmonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_netmon_dispose;
	object_class->finalize = vigil_netmon_finalize;

	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
	signals[SIGNAL_UPDATED] = g_signal_new("updated",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
}

static void
vigil_netmon_init(VigilNetmon *self)
{
	self->links = g_hash_table_new_full(g_direct_hash,
					    g_direct_equal,
					    NULL,
					    (GDestroyNotify)vigil_netmon_link_free);
	self->routes = g_array_new(FALSE, TRUE, sizeof(VigilNetmonRoute));
	self->interfaces =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_netmon_interface_unref);
	self->buffer = g_malloc(BUFFER_SIZE);
	self->receive_buffer = RCVBUF_SIZE;
}

/* the socket's receive buffer in bytes, before vigil_netmon_start(); the kernel has a
 * minimum. Tests make it small to provoke overruns */
void
vigil_netmon_set_receive_buffer(VigilNetmon *self, guint bytes)
{
	g_return_if_fail(VIGIL_IS_NETMON(self));
	self->receive_buffer = bytes;
}

/* how often events overran the receive buffer and everything was dumped again */
guint
vigil_netmon_get_overruns(VigilNetmon *self)
{
	g_return_val_if_fail(VIGIL_IS_NETMON(self), 0);
	return self->overruns;
}

/* @preferred: PreferredInterfaces globs, best first; @metered: MeteredInterfaces globs */
VigilNetmon *
vigil_netmon_new(const gchar *const *preferred, const gchar *const *metered)
{
	VigilNetmon *self = g_object_new(VIGIL_TYPE_NETMON, NULL);
	self->preferred = g_strdupv((gchar **)preferred);
	self->metered = g_strdupv((gchar **)metered);
	return self;
}
