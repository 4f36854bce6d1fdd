/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* INET6_ADDRSTRLEN, without pulling in <netinet/in.h> */
#define VIGIL_PACKET_ADDRESS_STRLEN 46
/* enough for vigil_packet_describe() of any packet */
#define VIGIL_PACKET_DESCRIBE_LEN 160

/*
 * The flow tuple of one IPv4 or IPv6 packet as the kernel queued it.
 *
 * Addresses are in network order (IPv4 in the first 4 bytes, the rest zero), ports in host
 * order. @protocol is the final upper-layer protocol after any IPv6 extension headers.
 * @fragment is a non-first fragment: it has no L4 header, so ports and ICMP fields are 0.
 * @first_fragment is offset 0 with more fragments to come; its L4 header is parsed.
 * @truncated means the capture ends inside the minimal L4 header: whatever could be read
 * (ports when at least 4 bytes are there, the ICMP type and code) is filled, the rest is 0.
 * @ip_len is the length the IP header claims (IPv4 total length, IPv6 payload length plus
 * 40, saturated at 65535); the capture may be shorter when the copy range cut it.
 * @icmp_id is set for ICMP query messages (echo, timestamp, information, address mask;
 * ICMPv6 echo and node information), as conntrack uses it, and is 0 otherwise.
 */
typedef struct {
	guint8 family; /* 4 or 6 */
	guint8 protocol;
	guint8 src[16];
	guint8 dst[16];
	guint16 sport;
	guint16 dport;
	guint8 icmp_type;
	guint8 icmp_code;
	guint16 icmp_id;
	gboolean fragment;
	gboolean first_fragment;
	gboolean truncated;
	guint16 ip_len;
} VigilPacket;

gboolean
vigil_packet_parse(const guint8 *data, gsize len, VigilPacket *packet, GError **error);
const gchar *
vigil_packet_format_address(guint family, const guint8 *address, gchar *buf, gsize buflen);
const gchar *
vigil_packet_describe(const VigilPacket *packet, gchar *buf, gsize buflen);
gchar *
vigil_packet_to_string(const VigilPacket *packet);

G_END_DECLS
