/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilDnsCapture"

#include "config.h"

#include <arpa/inet.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <string.h>

#include "vigil-cleanups.h"
#include "vigil-dns-capture.h"
#include "vigil-dns-parser.h"
#include "vigil-error.h"
#include "vigil-watch.h"

/*
 * Sees DNS answers with libpcap and feeds them to the cache, so that a connection made after
 * a lookup is shown (and matched) with the name that was asked for.
 *
 * The capture opens the "any" device of the daemon's network namespace, which includes
 * loopback and with it the stub resolver of systemd-resolved at 127.0.0.53. It is
 * non-blocking in immediate mode on the main loop; parsing one response costs about a
 * microsecond, so there is no worker thread.
 *
 * Answers count only when the capture saw their question go out on the same flow (client
 * and server address and port), with the same message id and name, in the last
 * VIGIL_DNS_CAPTURE_PENDING_SECONDS. Host rules match on these names: an unsolicited or
 * spoofed "response" from port 53 must not be able to name an address.
 *
 * TCP: a response is parsed when its segment starts with the 2-byte length prefix, which
 * is the common case (a response written in one send()). A response split across
 * segments loses the records that do not fit in the first one, and later segments of a
 * stream, which do not start on a message boundary, are usually rejected as malformed
 * (the stream is not reassembled). IP fragments are skipped for the same reason. Queries
 * pipelined in one TCP segment are all remembered.
 */

#define DNS_PORT	53
#define DISPATCH_BUDGET 256
/* the kernel's ring for captured packets, resident for the daemon's life (libpcap maps
 * about 944 kB for it): over a hundred answers of full snaplen waiting between two main
 * loop iterations, far more than a browser's burst of lookups */
#define BUFFER_SIZE	   (512 * 1024)
#define ETHERTYPE_IPV4	   0x0800
#define ETHERTYPE_IPV6	   0x86dd
#define ETHERTYPE_VLAN	   0x8100
#define ETHERTYPE_QINQ	   0x88a8
#define ETHERNET_LEN	   14
#define VLAN_TAG_LEN	   4
#define SLL_LEN		   16
#define SLL2_LEN	   20
#define IPV4_LEN	   20
#define IPV6_LEN	   40
#define UDP_LEN		   8
#define TCP_LEN		   20
#define IPV6_EXT_MAX	   8
#define IPV4_FRAGMENT_MASK 0x3fff
#define LINKTYPE_RAW	   101

typedef struct {
	VigilDnsFlow flow;
	guint16 id;
} PendingKey;

typedef struct {
	PendingKey key; /* first: the hash table looks pending queries up by a bare key */
	GList link;	/* in VigilDnsCapture.pending_order */
	gchar *name;
	gint64 expiry; /* monotonic */
} PendingQuery;

struct _VigilDnsCapture {
	GObject parent_instance;
	VigilDnsCache *cache;
	GHashTable *pending;  /* PendingQuery -> itself */
	GQueue pending_order; /* of PendingQuery, oldest first */
	gchar *interface;
	pcap_t *pcap;
	gint linktype;
	guint watch_id;
	VigilDnsCapturePidFunc pid_func;
	gpointer pid_data;
	GDestroyNotify pid_destroy;
	VigilDnsCaptureStats stats;
};

G_DEFINE_FINAL_TYPE(VigilDnsCapture, vigil_dns_capture, G_TYPE_OBJECT)

static inline guint16
read_be16(const guint8 *data)
{
	return (guint16)(((guint)data[0] << 8) | data[1]);
}

static gboolean
set_malformed(GError **error, const gchar *what)
{
	g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT, "malformed packet: %s", what);
	return FALSE;
}

/* finds the network layer; *ethertype is 0 when the link layer says nothing (raw IP) */
static gboolean
parse_link(gint linktype,
	   const guint8 *data,
	   gsize len,
	   gsize *offset,
	   guint16 *ethertype,
	   GError **error)
{
	switch (linktype) {
	case DLT_LINUX_SLL:
		if (len < SLL_LEN)
			return set_malformed(error, "short cooked header");
		*ethertype = read_be16(data + 14);
		*offset = SLL_LEN;
		return TRUE;
	case DLT_LINUX_SLL2:
		if (len < SLL2_LEN)
			return set_malformed(error, "short cooked v2 header");
		*ethertype = read_be16(data);
		*offset = SLL2_LEN;
		return TRUE;
	case DLT_EN10MB: {
		gsize pos = 12;

		for (guint tags = 0;; tags++) {
			if (len < pos + 2)
				return set_malformed(error, "short ethernet header");
			*ethertype = read_be16(data + pos);
			if ((*ethertype != ETHERTYPE_VLAN && *ethertype != ETHERTYPE_QINQ) ||
			    tags == 2)
				break;
			pos += VLAN_TAG_LEN;
		}
		*offset = pos + 2;
		return TRUE;
	}
	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
		*ethertype = 0;
		*offset = 0;
		return TRUE;
	case DLT_IPV4:
		*ethertype = ETHERTYPE_IPV4;
		*offset = 0;
		return TRUE;
	case DLT_IPV6:
		*ethertype = ETHERTYPE_IPV6;
		*offset = 0;
		return TRUE;
	default:
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "link type %d is not supported",
			    linktype);
		return FALSE;
	}
}

/* IPv4 or IPv6 header at @offset; leaves *offset at the transport header, *end at the IP end */
static gboolean
parse_ip(const guint8 *data,
	 gsize len,
	 guint16 ethertype,
	 gsize *offset,
	 gsize *end,
	 VigilDnsFlow *flow,
	 guint8 src[16],
	 guint8 dst[16],
	 GError **error)
{
	const guint8 *ip = data + *offset;
	gsize avail = len - *offset;
	guint version;

	if (avail < 1)
		return set_malformed(error, "no IP header");
	version = ip[0] >> 4;
	if ((ethertype == ETHERTYPE_IPV4 && version != 4) ||
	    (ethertype == ETHERTYPE_IPV6 && version != 6) ||
	    (ethertype != 0 && ethertype != ETHERTYPE_IPV4 && ethertype != ETHERTYPE_IPV6))
		return set_malformed(error, "not IPv4 or IPv6");

	if (version == 4) {
		gsize ihl;
		gsize total;

		if (avail < IPV4_LEN)
			return set_malformed(error, "short IPv4 header");
		ihl = (gsize)(ip[0] & 0x0f) * 4;
		total = read_be16(ip + 2);
		if (ihl < IPV4_LEN || total < ihl || avail < ihl)
			return set_malformed(error, "bad IPv4 lengths");
		if ((read_be16(ip + 6) & IPV4_FRAGMENT_MASK) != 0)
			return set_malformed(error, "IPv4 fragment");
		flow->family = 4;
		flow->protocol = ip[9];
		memcpy(src, ip + 12, 4);
		memcpy(dst, ip + 16, 4);
		*end = *offset + MIN(total, avail);
		*offset += ihl;
		return TRUE;
	}
	if (version == 6) {
		gsize pos = IPV6_LEN;
		guint8 next;

		if (avail < IPV6_LEN)
			return set_malformed(error, "short IPv6 header");
		next = ip[6];
		*end = *offset + MIN((gsize)read_be16(ip + 4) + IPV6_LEN, avail);
		for (guint i = 0; next != IPPROTO_UDP && next != IPPROTO_TCP; i++) {
			if (i >= IPV6_EXT_MAX ||
			    (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
			     next != IPPROTO_DSTOPTS))
				return set_malformed(error, "IPv6 without UDP or TCP");
			if (*end - *offset < pos + 8)
				return set_malformed(error, "short IPv6 extension header");
			next = ip[pos];
			pos += ((gsize)ip[pos + 1] + 1) * 8;
		}
		if (*end - *offset < pos)
			return set_malformed(error, "short IPv6 extension header");
		flow->family = 6;
		flow->protocol = next;
		memcpy(src, ip + 8, 16);
		memcpy(dst, ip + 24, 16);
		*offset += pos;
		return TRUE;
	}
	return set_malformed(error, "bad IP version");
}

void
vigil_dns_query_free(VigilDnsQuery *query)
{
	if (query == NULL)
		return;
	g_free(query->name);
	g_free(query);
}

void
vigil_dns_packet_clear(VigilDnsPacket *packet)
{
	g_clear_pointer(&packet->queries, g_ptr_array_unref);
	g_clear_pointer(&packet->answers, g_ptr_array_unref);
}

/* every length-prefixed query of a TCP segment, or the one of a UDP datagram */
static gboolean
parse_queries(const guint8 *data, gsize len, gboolean tcp, GPtrArray *queries, GError **error)
{
	gsize offset = 0;

	do {
		g_autoptr(GError) error_local = NULL;
		VigilDnsQuery *query;
		gsize message_len = len - offset;
		guint16 id = 0;
		gchar *name;

		if (tcp) {
			if (len - offset < 2)
				break;
			message_len = MIN(read_be16(data + offset), len - offset - 2);
			offset += 2;
		}
		name = vigil_dns_parse_query(data + offset, message_len, &id, &error_local);
		if (name == NULL) {
			if (queries->len == 0) {
				g_propagate_error(error, g_steal_pointer(&error_local));
				return FALSE;
			}
			break;
		}
		query = g_new0(VigilDnsQuery, 1);
		query->id = id;
		query->name = name;
		g_ptr_array_add(queries, query);
		offset += message_len;
	} while (tcp && offset < len);
	return TRUE;
}

gboolean
vigil_dns_capture_parse_packet(gint linktype,
			       const guint8 *data,
			       gsize len,
			       VigilDnsPacket *packet,
			       GError **error)
{
	const guint8 *l4;
	guint8 src[16] = {0};
	guint8 dst[16] = {0};
	guint16 ethertype = 0;
	guint16 sport;
	guint16 dport;
	gsize offset = 0;
	gsize end = 0;
	gsize payload;
	gboolean tcp;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(packet != NULL, FALSE);

	memset(packet, 0, sizeof(*packet));
	if (!parse_link(linktype, data, len, &offset, &ethertype, error))
		return FALSE;
	if (!parse_ip(data, len, ethertype, &offset, &end, &packet->flow, src, dst, error))
		return FALSE;

	l4 = data + offset;
	tcp = packet->flow.protocol == IPPROTO_TCP;
	if (packet->flow.protocol == IPPROTO_UDP) {
		if (end - offset < UDP_LEN)
			return set_malformed(error, "short UDP header");
		payload = offset + UDP_LEN;
		if (read_be16(l4 + 4) >= UDP_LEN)
			end = MIN(end, offset + read_be16(l4 + 4));
	} else if (tcp) {
		gsize header_len;

		if (end - offset < TCP_LEN)
			return set_malformed(error, "short TCP header");
		header_len = (gsize)(l4[12] >> 4) * 4;
		if (header_len < TCP_LEN || end - offset < header_len)
			return set_malformed(error, "bad TCP header length");
		payload = offset + header_len;
	} else {
		return set_malformed(error, "not UDP or TCP");
	}
	sport = read_be16(l4);
	dport = read_be16(l4 + 2);

	/* a segment without data (handshake, ACK, FIN) carries nothing to look at */
	if (payload >= end)
		return TRUE;
	if (sport == DNS_PORT) {
		memcpy(packet->flow.server, src, sizeof(packet->flow.server));
		memcpy(packet->flow.client, dst, sizeof(packet->flow.client));
		packet->flow.server_port = sport;
		packet->flow.client_port = dport;
		if (tcp)
			packet->answers = vigil_dns_parse_tcp(data + payload, end - payload, error);
		else
			packet->answers =
			    vigil_dns_parse_message(data + payload, end - payload, error);
		return packet->answers != NULL;
	}
	if (dport == DNS_PORT) {
		g_autoptr(GPtrArray) queries =
		    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_dns_query_free);

		memcpy(packet->flow.server, dst, sizeof(packet->flow.server));
		memcpy(packet->flow.client, src, sizeof(packet->flow.client));
		packet->flow.server_port = dport;
		packet->flow.client_port = sport;
		if (!parse_queries(data + payload, end - payload, tcp, queries, error))
			return FALSE;
		packet->queries = g_steal_pointer(&queries);
	}
	return TRUE;
}

static guint
pending_key_hash(gconstpointer data)
{
	const PendingKey *key = data;
	const guint8 *bytes = data;
	guint hash = 2166136261u;

	/* FNV-1a over the flow, which has no padding, and the id */
	for (gsize i = 0; i < sizeof(key->flow); i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	return (hash ^ key->id) * 16777619u;
}

static gboolean
pending_key_equal(gconstpointer a, gconstpointer b)
{
	const PendingKey *key_a = a;
	const PendingKey *key_b = b;

	return key_a->id == key_b->id &&
	       memcmp(&key_a->flow, &key_b->flow, sizeof(key_a->flow)) == 0;
}

static void
pending_query_free(PendingQuery *pending)
{
	g_free(pending->name);
	g_free(pending);
}

static void
vigil_dns_capture_remove_pending(VigilDnsCapture *self, PendingQuery *pending)
{
	g_queue_unlink(&self->pending_order, &pending->link);
	g_hash_table_remove(self->pending, pending);
}

static void
pending_key_init(PendingKey *key, const VigilDnsFlow *flow, guint16 id)
{
	memset(key, 0, sizeof(*key));
	key->flow = *flow;
	key->id = id;
}

static void
vigil_dns_capture_add_pending(VigilDnsCapture *self,
			      const VigilDnsFlow *flow,
			      const VigilDnsQuery *query)
{
	gint64 now = g_get_monotonic_time();
	PendingQuery *pending;
	PendingKey key;

	pending_key_init(&key, flow, query->id);
	pending = g_hash_table_lookup(self->pending, &key);
	if (pending != NULL)
		vigil_dns_capture_remove_pending(self, pending);
	for (;;) {
		GList *head = g_queue_peek_head_link(&self->pending_order);

		if (head == NULL)
			break;
		pending = head->data;
		if (pending->expiry > now &&
		    g_hash_table_size(self->pending) < VIGIL_DNS_CAPTURE_PENDING_MAX)
			break;
		vigil_dns_capture_remove_pending(self, pending);
	}
	pending = g_new0(PendingQuery, 1);
	pending->key = key;
	pending->link.data = pending;
	pending->name = g_strdup(query->name);
	pending->expiry = now + VIGIL_DNS_CAPTURE_PENDING_SECONDS * G_USEC_PER_SEC;
	g_hash_table_add(self->pending, pending);
	g_queue_push_tail_link(&self->pending_order, &pending->link);
}

/* drops the answers to no question seen asked; the questions answered are done */
static void
vigil_dns_capture_filter_answers(VigilDnsCapture *self,
				 const VigilDnsFlow *flow,
				 GPtrArray *answers)
{
	g_autoptr(GPtrArray) answered = g_ptr_array_new();
	gint64 now = g_get_monotonic_time();
	guint dropped = 0;

	for (guint i = 0; i < answers->len;) {
		const VigilDnsAnswer *answer = g_ptr_array_index(answers, i);
		PendingQuery *pending;
		PendingKey key;

		pending_key_init(&key, flow, answer->id);
		pending = g_hash_table_lookup(self->pending, &key);
		if (pending == NULL || pending->expiry <= now ||
		    g_strcmp0(pending->name, answer->name) != 0) {
			g_ptr_array_remove_index(answers, i);
			dropped++;
			continue;
		}
		if (!g_ptr_array_find(answered, pending, NULL))
			g_ptr_array_add(answered, pending);
		i++;
	}
	for (guint i = 0; i < answered->len; i++)
		vigil_dns_capture_remove_pending(self, g_ptr_array_index(answered, i));
	if (dropped > 0) {
		self->stats.unsolicited++;
		g_debug("ignoring %u answers to no question seen asked", dropped);
	}
}

gboolean
vigil_dns_capture_handle_packet(VigilDnsCapture *self,
				gint linktype,
				const guint8 *data,
				gsize len,
				GError **error)
{
	g_auto(VigilDnsPacket) packet = {0};
	gint pid = 0;

	g_return_val_if_fail(VIGIL_IS_DNS_CAPTURE(self), FALSE);

	self->stats.packets++;
	if (!vigil_dns_capture_parse_packet(linktype, data, len, &packet, error)) {
		self->stats.malformed++;
		return FALSE;
	}
	if (packet.queries != NULL) {
		self->stats.queries += packet.queries->len;
		for (guint i = 0; i < packet.queries->len; i++)
			vigil_dns_capture_add_pending(self,
						      &packet.flow,
						      g_ptr_array_index(packet.queries, i));
		return TRUE;
	}
	if (packet.answers == NULL)
		return TRUE;
	self->stats.responses++;
	vigil_dns_capture_filter_answers(self, &packet.flow, packet.answers);
	if (packet.answers->len == 0)
		return TRUE;
	self->stats.answers += packet.answers->len;
	if (self->pid_func != NULL)
		pid = self->pid_func(&packet.flow, self->pid_data);
	for (guint i = 0; i < packet.answers->len && g_log_get_debug_enabled(); i++) {
		const VigilDnsAnswer *answer = g_ptr_array_index(packet.answers, i);
		gchar buf[INET6_ADDRSTRLEN] = "";

		inet_ntop(answer->family == 4 ? AF_INET : AF_INET6,
			  answer->address,
			  buf,
			  sizeof(buf));
		g_debug("%s%s%s -> %s (ttl %u, pid %d)",
			answer->name,
			answer->alias != NULL ? " -> " : "",
			answer->alias != NULL ? answer->alias : "",
			buf,
			answer->ttl,
			pid);
	}
	vigil_dns_cache_add_answers(self->cache, packet.answers, pid);
	return TRUE;
}

static void
vigil_dns_capture_packet_cb(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes)
{
	VigilDnsCapture *self = VIGIL_DNS_CAPTURE(user);
	g_autoptr(GError) error = NULL;

	if (!vigil_dns_capture_handle_packet(self, self->linktype, bytes, header->caplen, &error))
		g_debug("ignoring captured packet: %s", error->message);
}

static gboolean
vigil_dns_capture_readable_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilDnsCapture *self = VIGIL_DNS_CAPTURE(user_data);
	gint n;

	n = pcap_dispatch(self->pcap, DISPATCH_BUDGET, vigil_dns_capture_packet_cb, (u_char *)self);
	if (n == PCAP_ERROR || (n == 0 && (condition & (G_IO_ERR | G_IO_HUP)) != 0)) {
		g_warning("dns capture failed, running without hostnames: %s",
			  n == PCAP_ERROR ? pcap_geterr(self->pcap) : "socket error");
		self->watch_id = 0;
		vigil_dns_capture_stop(self);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_dns_capture_check(pcap_t *pcap, gint rc, const gchar *what, GError **error)
{
	if (rc == 0)
		return TRUE;
	g_set_error(error,
		    VIGIL_ERROR,
		    rc == PCAP_ERROR_PERM_DENIED ? VIGIL_ERROR_NOT_AUTHORIZED
						 : VIGIL_ERROR_NOT_SUPPORTED,
		    "%s: %s",
		    what,
		    rc == PCAP_ERROR ? pcap_geterr(pcap) : pcap_statustostr(rc));
	return FALSE;
}

/* prefers cooked v2, which names the interface, and falls back to what the device offers */
static gint
vigil_dns_capture_choose_linktype(pcap_t *pcap)
{
	g_autofree gint *types = NULL;
	gint *list = NULL;
	gint n;

	n = pcap_list_datalinks(pcap, &list);
	if (n > 0) {
		types = g_memdup2(list, (gsize)n * sizeof(gint));
		pcap_free_datalinks(list);
		for (gint i = 0; i < n; i++) {
			if (types[i] == DLT_LINUX_SLL2 &&
			    pcap_set_datalink(pcap, DLT_LINUX_SLL2) == 0)
				break;
		}
	}
	return pcap_datalink(pcap);
}

gboolean
vigil_dns_capture_start(VigilDnsCapture *self, GError **error)
{
	g_autoptr(VigilPcap) pcap = NULL;
	struct bpf_program program;
	gchar errbuf[PCAP_ERRBUF_SIZE] = "";
	gint linktype;
	gint fd;
	gint rc;

	g_return_val_if_fail(VIGIL_IS_DNS_CAPTURE(self), FALSE);

	if (self->pcap != NULL)
		return TRUE;
	pcap = pcap_create(self->interface, errbuf);
	if (pcap == NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "cannot capture on %s: %s",
			    self->interface,
			    errbuf);
		return FALSE;
	}
	if (!vigil_dns_capture_check(pcap,
				     pcap_set_snaplen(pcap, VIGIL_DNS_CAPTURE_SNAPLEN),
				     "snaplen",
				     error) ||
	    !vigil_dns_capture_check(pcap,
				     pcap_set_immediate_mode(pcap, 1),
				     "immediate mode",
				     error) ||
	    !vigil_dns_capture_check(pcap,
				     pcap_set_buffer_size(pcap, BUFFER_SIZE),
				     "buffer size",
				     error) ||
	    !vigil_dns_capture_check(pcap, pcap_set_promisc(pcap, 0), "promiscuous mode", error))
		return FALSE;
	rc = pcap_activate(pcap);
	if (rc < 0) {
		vigil_dns_capture_check(pcap, rc, "cannot start capture", error);
		g_prefix_error(error, "%s: ", self->interface);
		return FALSE;
	}
	if (rc > 0)
		g_debug("capture on %s: %s", self->interface, pcap_statustostr(rc));

	linktype = vigil_dns_capture_choose_linktype(pcap);
	if (pcap_compile(pcap, &program, VIGIL_DNS_CAPTURE_FILTER, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "cannot compile filter: %s",
			    pcap_geterr(pcap));
		return FALSE;
	}
	rc = pcap_setfilter(pcap, &program);
	pcap_freecode(&program);
	if (!vigil_dns_capture_check(pcap, rc, "cannot set filter", error))
		return FALSE;
	if (pcap_setnonblock(pcap, 1, errbuf) != 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "cannot make capture non-blocking: %s",
			    errbuf);
		return FALSE;
	}
	fd = pcap_get_selectable_fd(pcap);
	if (fd < 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "capture has no selectable fd");
		return FALSE;
	}

	self->pcap = g_steal_pointer(&pcap);
	self->linktype = linktype;
	self->watch_id =
	    vigil_watch_fd(fd, G_IO_IN | G_IO_ERR | G_IO_HUP, vigil_dns_capture_readable_cb, self);
	g_info("capturing DNS answers on %s (%s)",
	       self->interface,
	       pcap_datalink_val_to_name(linktype) != NULL ? pcap_datalink_val_to_name(linktype)
							   : "unknown link type");
	return TRUE;
}

void
vigil_dns_capture_stop(VigilDnsCapture *self)
{
	g_return_if_fail(VIGIL_IS_DNS_CAPTURE(self));
	g_clear_handle_id(&self->watch_id, g_source_remove);
	g_clear_pointer(&self->pcap, pcap_close);
}

gboolean
vigil_dns_capture_is_running(VigilDnsCapture *self)
{
	g_return_val_if_fail(VIGIL_IS_DNS_CAPTURE(self), FALSE);
	return self->pcap != NULL;
}

void
vigil_dns_capture_set_interface(VigilDnsCapture *self, const gchar *interface)
{
	g_return_if_fail(VIGIL_IS_DNS_CAPTURE(self));
	g_return_if_fail(interface != NULL);
	g_free(self->interface);
	self->interface = g_strdup(interface);
}

void
vigil_dns_capture_set_pid_func(VigilDnsCapture *self,
			       VigilDnsCapturePidFunc func,
			       gpointer user_data,
			       GDestroyNotify destroy)
{
	g_return_if_fail(VIGIL_IS_DNS_CAPTURE(self));
	if (self->pid_destroy != NULL)
		self->pid_destroy(self->pid_data);
	self->pid_func = func;
	self->pid_data = user_data;
	self->pid_destroy = destroy;
}

void
vigil_dns_capture_get_stats(VigilDnsCapture *self, VigilDnsCaptureStats *stats)
{
	g_return_if_fail(VIGIL_IS_DNS_CAPTURE(self));
	g_return_if_fail(stats != NULL);
	*stats = self->stats;
}

static void
vigil_dns_capture_dispose(GObject *object)
{
	VigilDnsCapture *self = VIGIL_DNS_CAPTURE(object);

	vigil_dns_capture_stop(self);
	vigil_dns_capture_set_pid_func(self, NULL, NULL, NULL);
	g_clear_object(&self->cache);
	G_OBJECT_CLASS(vigil_dns_capture_parent_class)->dispose(object);
}

static void
vigil_dns_capture_finalize(GObject *object)
{
	VigilDnsCapture *self = VIGIL_DNS_CAPTURE(object);

	g_queue_init(&self->pending_order);
	g_hash_table_unref(self->pending);
	g_free(self->interface);
	G_OBJECT_CLASS(vigil_dns_capture_parent_class)->finalize(object);
}

static void
vigil_dns_capture_class_init(VigilDnsCaptureClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_dns_capture_dispose;
	object_class->finalize = vigil_dns_capture_finalize;
}

static void
vigil_dns_capture_init(VigilDnsCapture *self)
{
	self->interface = g_strdup("any");
	self->linktype = DLT_LINUX_SLL;
	self->pending = g_hash_table_new_full(pending_key_hash,
					      pending_key_equal,
					      (GDestroyNotify)pending_query_free,
					      NULL);
	g_queue_init(&self->pending_order);
}

VigilDnsCapture *
vigil_dns_capture_new(VigilDnsCache *cache)
{
	VigilDnsCapture *self;

	g_return_val_if_fail(VIGIL_IS_DNS_CACHE(cache), NULL);
	self = g_object_new(VIGIL_TYPE_DNS_CAPTURE, NULL);
	self->cache = g_object_ref(cache);
	return self;
}
