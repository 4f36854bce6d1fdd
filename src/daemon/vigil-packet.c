/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilPacket"

#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-enums.h"
#include "vigil-error.h"
#include "vigil-packet.h"

/*
 * A defensive parser for the start of an IP packet as NFQUEUE delivers it: every read is
 * bounded by the captured length, nothing is cast onto the data (no alignment assumptions),
 * and nothing is allocated unless the packet is rejected.
 */

#define IPV4_HEADER_LEN	     20
#define IPV6_HEADER_LEN	     40
#define IPV6_MAX_EXT_HEADERS 8

#define IPV4_FRAGMENT_OFFSET_MASK 0x1fff
#define IPV4_MORE_FRAGMENTS	  0x2000
#define IPV6_FRAGMENT_OFFSET_MASK 0xfff8
#define IPV6_MORE_FRAGMENTS	  0x0001

#define PROTOCOL_DCCP 33

static inline guint16
vigil_packet_read_be16(const guint8 *data)
{
	return (guint16)(((guint)data[0] << 8) | data[1]);
}

static gboolean
vigil_packet_is_icmp_query(guint8 protocol, guint8 type)
{
	if (protocol == IPPROTO_ICMP) {
		/* echo, timestamp, information and address mask requests and replies */
		return type == 0 || type == 8 || (type >= 13 && type <= 18);
	}
	/* echo request/reply and node information query/response */
	return type == 128 || type == 129 || type == 139 || type == 140;
}

/* the L4 header starts at @offset of @data and the packet ends at @end */
static gboolean
vigil_packet_parse_l4(VigilPacket *packet,
		      const guint8 *data,
		      gsize offset,
		      gsize end,
		      GError **error)
{
	const guint8 *l4 = data + offset;
	gsize avail = end - offset;
	gsize need;

	switch (packet->protocol) {
	case IPPROTO_TCP:
		need = 20;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		need = 8;
		break;
	case IPPROTO_SCTP:
	case PROTOCOL_DCCP:
		need = 12;
		break;
	default:
		/* no header we know: no ports, nothing missing */
		return TRUE;
	}
	packet->truncated = avail < need;

	if (packet->protocol == IPPROTO_ICMP || packet->protocol == IPPROTO_ICMPV6) {
		if (avail >= 2) {
			packet->icmp_type = l4[0];
			packet->icmp_code = l4[1];
		}
		if (avail >= 6 && vigil_packet_is_icmp_query(packet->protocol, l4[0]))
			packet->icmp_id = vigil_packet_read_be16(l4 + 4);
		return TRUE;
	}

	if (avail >= 4) {
		packet->sport = vigil_packet_read_be16(l4);
		packet->dport = vigil_packet_read_be16(l4 + 2);
	}
	if (packet->protocol == IPPROTO_TCP && avail > 12 && (l4[12] >> 4) < 5) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "bad TCP data offset %u at offset %" G_GSIZE_FORMAT,
			    (guint)(l4[12] >> 4),
			    offset + 12);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_packet_parse_ipv4(VigilPacket *packet, const guint8 *data, gsize len, GError **error)
{
	gsize header_len;
	guint total_len;
	guint fragment;

	if (len < IPV4_HEADER_LEN) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "packet of %" G_GSIZE_FORMAT " bytes is too short for an IPv4 header",
			    len);
		return FALSE;
	}
	header_len = (gsize)(data[0] & 0x0f) * 4;
	if (header_len < IPV4_HEADER_LEN) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "bad IPv4 header length %" G_GSIZE_FORMAT " at offset 0",
			    header_len);
		return FALSE;
	}
	if (header_len > len) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "IPv4 header length %" G_GSIZE_FORMAT
			    " at offset 0 runs past the end of the packet (%" G_GSIZE_FORMAT
			    " bytes)",
			    header_len,
			    len);
		return FALSE;
	}

	/* a total length beyond the capture is the copy range at work; below the header it
	 * is garbage (BIG TCP's zero total length only occurs on established GSO flows,
	 * which never reach the queue) */
	total_len = vigil_packet_read_be16(data + 2);
	if (total_len < header_len) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "IPv4 total length %u at offset 2 is less than the header length "
			    "%" G_GSIZE_FORMAT,
			    total_len,
			    header_len);
		return FALSE;
	}

	packet->family = 4;
	packet->ip_len = (guint16)total_len;
	packet->protocol = data[9];
	memcpy(packet->src, data + 12, 4);
	memcpy(packet->dst, data + 16, 4);

	fragment = vigil_packet_read_be16(data + 6);
	if ((fragment & IPV4_FRAGMENT_OFFSET_MASK) != 0) {
		packet->fragment = TRUE;
		return TRUE;
	}
	packet->first_fragment = (fragment & IPV4_MORE_FRAGMENTS) != 0;
	return vigil_packet_parse_l4(packet, data, header_len, MIN(len, (gsize)total_len), error);
}

static gboolean
vigil_packet_parse_ipv6(VigilPacket *packet, const guint8 *data, gsize len, GError **error)
{
	guint payload_len;
	guint8 next_header;
	gsize offset = IPV6_HEADER_LEN;
	gsize end;

	if (len < IPV6_HEADER_LEN) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "packet of %" G_GSIZE_FORMAT " bytes is too short for an IPv6 header",
			    len);
		return FALSE;
	}

	/* a zero payload length is a jumbogram or a BIG TCP packet: only the capture bounds it */
	payload_len = vigil_packet_read_be16(data + 4);
	end = payload_len == 0 ? len : MIN(len, (gsize)IPV6_HEADER_LEN + payload_len);
	packet->family = 6;
	packet->ip_len = (guint16)MIN(IPV6_HEADER_LEN + payload_len, G_MAXUINT16);
	memcpy(packet->src, data + 8, 16);
	memcpy(packet->dst, data + 24, 16);

	/* the same headers the kernel's ipv6_skip_exthdr() walks; ESP and no-next-header end
	 * the chain and are the protocol */
	next_header = data[6];
	for (guint i = 0;; i++) {
		gsize header_len;

		if (next_header != IPPROTO_HOPOPTS && next_header != IPPROTO_ROUTING &&
		    next_header != IPPROTO_FRAGMENT && next_header != IPPROTO_DSTOPTS &&
		    next_header != IPPROTO_AH)
			break;
		if (i >= IPV6_MAX_EXT_HEADERS) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "more than %u IPv6 extension headers, next one at offset "
				    "%" G_GSIZE_FORMAT,
				    (guint)IPV6_MAX_EXT_HEADERS,
				    offset);
			return FALSE;
		}
		if (offset + 2 > end) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "IPv6 extension header %u at offset %" G_GSIZE_FORMAT
				    " runs past the end of the packet (%" G_GSIZE_FORMAT " bytes)",
				    (guint)next_header,
				    offset,
				    end);
			return FALSE;
		}
		if (next_header == IPPROTO_FRAGMENT)
			header_len = 8;
		else if (next_header == IPPROTO_AH)
			header_len = ((gsize)data[offset + 1] + 2) * 4;
		else
			header_len = ((gsize)data[offset + 1] + 1) * 8;
		if (offset + header_len > end) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "IPv6 extension header %u at offset %" G_GSIZE_FORMAT
				    " of %" G_GSIZE_FORMAT
				    " bytes runs past the end of the packet (%" G_GSIZE_FORMAT
				    " bytes)",
				    (guint)next_header,
				    offset,
				    header_len,
				    end);
			return FALSE;
		}
		if (next_header == IPPROTO_FRAGMENT) {
			guint fragment = vigil_packet_read_be16(data + offset + 2);
			if ((fragment & IPV6_FRAGMENT_OFFSET_MASK) != 0) {
				packet->fragment = TRUE;
				packet->protocol = data[offset];
				return TRUE;
			}
			if ((fragment & IPV6_MORE_FRAGMENTS) != 0)
				packet->first_fragment = TRUE;
		}
		next_header = data[offset];
		offset += header_len;
	}
	packet->protocol = next_header;
	return vigil_packet_parse_l4(packet, data, offset, end, error);
}

/**
 * vigil_packet_parse:
 * @data: the packet from its IP header on
 * @len: how many bytes of it were captured
 * @packet: (out caller-allocates): the result, zeroed first
 * @error: a #GError, or %NULL
 *
 * Parses the IP header, the IPv6 extension header chain and the TCP, UDP, UDP-Lite, SCTP,
 * DCCP, ICMP or ICMPv6 header. A capture that ends inside the L4 header is not an error
 * (see @truncated); anything inconsistent in the IP layer is.
 *
 * Returns: %TRUE on success, %FALSE with %VIGIL_ERROR_INVALID_ARGUMENT otherwise
 */
gboolean
vigil_packet_parse(const guint8 *data, gsize len, VigilPacket *packet, GError **error)
{
	guint version;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(packet != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	memset(packet, 0, sizeof(*packet));
	if (len == 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "empty packet");
		return FALSE;
	}
	version = data[0] >> 4;
	if (version == 4)
		return vigil_packet_parse_ipv4(packet, data, len, error);
	if (version == 6)
		return vigil_packet_parse_ipv6(packet, data, len, error);
	g_set_error(error,
		    VIGIL_ERROR,
		    VIGIL_ERROR_INVALID_ARGUMENT,
		    "bad IP version %u at offset 0",
		    version);
	return FALSE;
}

/**
 * vigil_packet_format_address:
 * @family: 4 or 6
 * @address: 4 or 16 bytes in network order
 * @buf: where to write
 * @buflen: size of @buf, at least %VIGIL_PACKET_ADDRESS_STRLEN for any address
 *
 * Returns: @buf, or %NULL (with @buf empty) if @family is unknown or @buf is too small
 */
const gchar *
vigil_packet_format_address(guint family, const guint8 *address, gchar *buf, gsize buflen)
{
	gint af;

	g_return_val_if_fail(address != NULL, NULL);
	g_return_val_if_fail(buf != NULL, NULL);
	g_return_val_if_fail(buflen > 0, NULL);

	buf[0] = '\0';
	if (family == 4)
		af = AF_INET;
	else if (family == 6)
		af = AF_INET6;
	else
		return NULL;
	if (inet_ntop(af, address, buf, (socklen_t)MIN(buflen, G_MAXINT32)) == NULL) {
		buf[0] = '\0';
		return NULL;
	}
	return buf;
}

/**
 * vigil_packet_describe:
 * @packet: a parsed #VigilPacket
 * @buf: where to write
 * @buflen: size of @buf, %VIGIL_PACKET_DESCRIBE_LEN is always enough
 *
 * Describes @packet for debug logs without allocating, e.g.
 * `tcp 10.0.0.1:40000 -> [fd00::1]:443 len 60 first-fragment`.
 *
 * Returns: @buf
 */
const gchar *
vigil_packet_describe(const VigilPacket *packet, gchar *buf, gsize buflen)
{
	gchar src[VIGIL_PACKET_ADDRESS_STRLEN];
	gchar dst[VIGIL_PACKET_ADDRESS_STRLEN];
	gchar protocol_number[8];
	const gchar *protocol;
	const gchar *bracket_open;
	const gchar *bracket_close;
	gsize n;

	g_return_val_if_fail(packet != NULL, NULL);
	g_return_val_if_fail(buf != NULL && buflen > 0, NULL);

	bracket_open = packet->family == 6 ? "[" : "";
	bracket_close = packet->family == 6 ? "]" : "";
	if (vigil_packet_format_address(packet->family, packet->src, src, sizeof(src)) == NULL)
		g_strlcpy(src, "?", sizeof(src));
	if (vigil_packet_format_address(packet->family, packet->dst, dst, sizeof(dst)) == NULL)
		g_strlcpy(dst, "?", sizeof(dst));
	protocol = vigil_protocol_to_string(packet->protocol);
	if (protocol == NULL || packet->protocol == VIGIL_PROTOCOL_ANY) {
		g_snprintf(protocol_number, sizeof(protocol_number), "ip%u", packet->protocol);
		protocol = protocol_number;
	}

	if (packet->protocol == IPPROTO_ICMP || packet->protocol == IPPROTO_ICMPV6) {
		n = (gsize)g_snprintf(buf,
				      buflen,
				      "%s %s -> %s type %u code %u id %u len %u",
				      protocol,
				      src,
				      dst,
				      packet->icmp_type,
				      packet->icmp_code,
				      packet->icmp_id,
				      packet->ip_len);
	} else {
		n = (gsize)g_snprintf(buf,
				      buflen,
				      "%s %s%s%s:%u -> %s%s%s:%u len %u",
				      protocol,
				      bracket_open,
				      src,
				      bracket_close,
				      packet->sport,
				      bracket_open,
				      dst,
				      bracket_close,
				      packet->dport,
				      packet->ip_len);
	}
	if (packet->fragment && n < buflen)
		n += g_strlcpy(buf + n, " fragment", buflen - n);
	if (packet->first_fragment && n < buflen)
		n += g_strlcpy(buf + n, " first-fragment", buflen - n);
	if (packet->truncated && n < buflen)
		g_strlcpy(buf + n, " truncated", buflen - n);
	return buf;
}

/**
 * vigil_packet_to_string:
 * @packet: a parsed #VigilPacket
 *
 * Returns: (transfer full): vigil_packet_describe() of @packet, for logs and tests
 */
gchar *
vigil_packet_to_string(const VigilPacket *packet)
{
	gchar buf[VIGIL_PACKET_DESCRIBE_LEN];

	g_return_val_if_fail(packet != NULL, NULL);
	return g_strdup(vigil_packet_describe(packet, buf, sizeof(buf)));
}
