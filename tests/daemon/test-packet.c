/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "vigil-error.h"
#include "vigil-packet.h"

#define PACKET_MAX 512

typedef struct {
	guint8 data[PACKET_MAX];
	gsize len;
} TestPacket;

static const guint8 v4_src[4] = {198, 18, 0, 1};
static const guint8 v4_dst[4] = {198, 18, 0, 2};
static const guint8 v6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const guint8 v6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void
put_be16(guint8 *data, guint value)
{
	data[0] = (guint8)(value >> 8);
	data[1] = (guint8)value;
}

static void
test_packet_append(TestPacket *packet, const guint8 *data, gsize len)
{
	g_assert_cmpuint(packet->len + len, <=, PACKET_MAX);
	memcpy(packet->data + packet->len, data, len);
	packet->len += len;
}

/* an IPv4 header of @ihl words; the total length is fixed up by test_packet_finish_ipv4() */
static void
test_packet_ipv4(TestPacket *packet, guint8 protocol, guint ihl, guint fragment)
{
	guint8 header[60] = {0};

	header[0] = (guint8)(0x40 | ihl);
	put_be16(header + 6, fragment);
	header[8] = 64;
	header[9] = protocol;
	memcpy(header + 12, v4_src, 4);
	memcpy(header + 16, v4_dst, 4);
	packet->len = 0;
	test_packet_append(packet, header, ihl * 4);
}

static void
test_packet_finish_ipv4(TestPacket *packet)
{
	put_be16(packet->data + 2, (guint)packet->len);
}

static void
test_packet_ipv6(TestPacket *packet, guint8 next_header)
{
	guint8 header[40] = {0};

	header[0] = 0x60;
	header[6] = next_header;
	header[7] = 64;
	memcpy(header + 8, v6_src, 16);
	memcpy(header + 24, v6_dst, 16);
	packet->len = 0;
	test_packet_append(packet, header, sizeof(header));
}

static void
test_packet_finish_ipv6(TestPacket *packet)
{
	put_be16(packet->data + 4, (guint)packet->len - 40);
}

/* hop-by-hop, routing or destination options of (@words + 1) * 8 bytes */
static void
test_packet_ext(TestPacket *packet, guint8 next_header, guint words)
{
	guint8 header[64] = {0};

	g_assert_cmpuint((words + 1) * 8, <=, sizeof(header));
	header[0] = next_header;
	header[1] = (guint8)words;
	header[2] = 1; /* a PadN option filling the rest */
	header[3] = (guint8)((words + 1) * 8 - 4);
	test_packet_append(packet, header, (words + 1) * 8);
}

static void
test_packet_fragment(TestPacket *packet, guint8 next_header, guint offset, gboolean more)
{
	guint8 header[8] = {0};

	header[0] = next_header;
	put_be16(header + 2, (offset << 3) | (more ? 1 : 0));
	header[4] = 0xde;
	header[7] = 0x42;
	test_packet_append(packet, header, sizeof(header));
}

static void
test_packet_tcp(TestPacket *packet, guint sport, guint dport)
{
	guint8 header[20] = {0};

	put_be16(header, sport);
	put_be16(header + 2, dport);
	header[12] = 5 << 4;
	header[13] = 0x02; /* SYN */
	test_packet_append(packet, header, sizeof(header));
}

static void
test_packet_udp(TestPacket *packet, guint sport, guint dport, gsize payload)
{
	guint8 header[8] = {0};
	guint8 data[64] = {0};

	put_be16(header, sport);
	put_be16(header + 2, dport);
	put_be16(header + 4, (guint)(8 + payload));
	test_packet_append(packet, header, sizeof(header));
	g_assert_cmpuint(payload, <=, sizeof(data));
	test_packet_append(packet, data, payload);
}

static void
test_packet_icmp(TestPacket *packet, guint8 type, guint8 code, guint id)
{
	guint8 header[16] = {0};

	header[0] = type;
	header[1] = code;
	put_be16(header + 4, id);
	put_be16(header + 6, 1);
	test_packet_append(packet, header, sizeof(header));
}

static void
assert_parse_ok(const TestPacket *test, VigilPacket *packet)
{
	g_autoptr(GError) error = NULL;
	gboolean ret;

	ret = vigil_packet_parse(test->data, test->len, packet, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
}

static void
assert_parse_fails(const guint8 *data, gsize len, const gchar *needle)
{
	g_autoptr(GError) error = NULL;
	VigilPacket packet;
	gboolean ret;

	ret = vigil_packet_parse(data, len, &packet, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_false(ret);
	g_test_message("%s", error->message);
	if (needle != NULL && strstr(error->message, needle) == NULL)
		g_error("expected \"%s\" in \"%s\"", needle, error->message);
}

static void
test_packet_ipv4_tcp_func(void)
{
	TestPacket test;
	VigilPacket packet;
	g_autofree gchar *str = NULL;

	test_packet_ipv4(&test, IPPROTO_TCP, 5, 0x4000 /* DF */);
	test_packet_tcp(&test, 40000, 443);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.family, ==, 4);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_TCP);
	g_assert_cmpmem(packet.src, 4, v4_src, 4);
	g_assert_cmpmem(packet.dst, 4, v4_dst, 4);
	g_assert_cmpuint(packet.sport, ==, 40000);
	g_assert_cmpuint(packet.dport, ==, 443);
	g_assert_cmpuint(packet.ip_len, ==, 40);
	g_assert_false(packet.fragment);
	g_assert_false(packet.first_fragment);
	g_assert_false(packet.truncated);

	str = vigil_packet_to_string(&packet);
	g_assert_cmpstr(str, ==, "tcp 198.18.0.1:40000 -> 198.18.0.2:443 len 40");
}

static void
test_packet_ipv4_udp_func(void)
{
	TestPacket test;
	VigilPacket packet;

	/* with options: IHL 7 */
	test_packet_ipv4(&test, IPPROTO_UDP, 7, 0);
	test_packet_udp(&test, 5353, 53, 12);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.family, ==, 4);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(packet.sport, ==, 5353);
	g_assert_cmpuint(packet.dport, ==, 53);
	g_assert_cmpuint(packet.ip_len, ==, 28 + 20);
	g_assert_false(packet.truncated);
}

static void
test_packet_ipv4_icmp_func(void)
{
	TestPacket test;
	VigilPacket packet;
	g_autofree gchar *str = NULL;

	test_packet_ipv4(&test, IPPROTO_ICMP, 5, 0);
	test_packet_icmp(&test, 8, 0, 0x1234);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_ICMP);
	g_assert_cmpuint(packet.icmp_type, ==, 8);
	g_assert_cmpuint(packet.icmp_code, ==, 0);
	g_assert_cmpuint(packet.icmp_id, ==, 0x1234);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_cmpuint(packet.dport, ==, 0);
	str = vigil_packet_to_string(&packet);
	g_assert_cmpstr(str, ==, "icmp 198.18.0.1 -> 198.18.0.2 type 8 code 0 id 4660 len 36");

	/* an error message has no id */
	test_packet_ipv4(&test, IPPROTO_ICMP, 5, 0);
	test_packet_icmp(&test, 3, 3, 0x1234);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.icmp_type, ==, 3);
	g_assert_cmpuint(packet.icmp_code, ==, 3);
	g_assert_cmpuint(packet.icmp_id, ==, 0);
}

static void
test_packet_ipv4_fragment_func(void)
{
	TestPacket test;
	VigilPacket packet;
	g_autofree gchar *str = NULL;

	/* first fragment: MF, offset 0, ports readable */
	test_packet_ipv4(&test, IPPROTO_UDP, 5, 0x2000);
	test_packet_udp(&test, 1000, 2000, 16);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.first_fragment);
	g_assert_false(packet.fragment);
	g_assert_cmpuint(packet.sport, ==, 1000);
	g_assert_cmpuint(packet.dport, ==, 2000);

	/* a later fragment: whatever follows the header is not a UDP header */
	test_packet_ipv4(&test, IPPROTO_UDP, 5, 0x2000 | 3);
	test_packet_udp(&test, 1000, 2000, 16);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.fragment);
	g_assert_false(packet.first_fragment);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_cmpuint(packet.dport, ==, 0);
	str = vigil_packet_to_string(&packet);
	g_assert_cmpstr(str, ==, "udp 198.18.0.1:0 -> 198.18.0.2:0 len 44 fragment");

	/* the last fragment has no MF but an offset */
	test_packet_ipv4(&test, IPPROTO_TCP, 5, 100);
	test_packet_tcp(&test, 1, 2);
	test_packet_finish_ipv4(&test);
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.fragment);
	g_assert_cmpuint(packet.sport, ==, 0);
}

static void
test_packet_ipv4_copy_range_func(void)
{
	TestPacket test;
	VigilPacket packet;

	/* the kernel copied only the first 24 bytes of a 1000-byte packet */
	test_packet_ipv4(&test, IPPROTO_TCP, 5, 0);
	test_packet_tcp(&test, 40000, 80);
	put_be16(test.data + 2, 1000);
	test.len = 24;
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.ip_len, ==, 1000);
	g_assert_cmpuint(packet.sport, ==, 40000);
	g_assert_cmpuint(packet.dport, ==, 80);
	g_assert_true(packet.truncated);

	/* bytes after the total length are not the packet's */
	test_packet_ipv4(&test, IPPROTO_UDP, 5, 0);
	test_packet_udp(&test, 7, 9, 8);
	put_be16(test.data + 2, 22);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.ip_len, ==, 22);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_cmpuint(packet.dport, ==, 0);
}

static void
test_packet_ipv6_tcp_func(void)
{
	TestPacket test;
	VigilPacket packet;
	g_autofree gchar *str = NULL;

	test_packet_ipv6(&test, IPPROTO_TCP);
	test_packet_tcp(&test, 50000, 8080);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.family, ==, 6);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_TCP);
	g_assert_cmpmem(packet.src, 16, v6_src, 16);
	g_assert_cmpmem(packet.dst, 16, v6_dst, 16);
	g_assert_cmpuint(packet.sport, ==, 50000);
	g_assert_cmpuint(packet.dport, ==, 8080);
	g_assert_cmpuint(packet.ip_len, ==, 60);
	g_assert_false(packet.truncated);
	str = vigil_packet_to_string(&packet);
	g_assert_cmpstr(str, ==, "tcp [fd00::1]:50000 -> [fd00::2]:8080 len 60");
}

static void
test_packet_ipv6_udp_func(void)
{
	TestPacket test;
	VigilPacket packet;

	test_packet_ipv6(&test, IPPROTO_UDP);
	test_packet_udp(&test, 546, 547, 30);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(packet.sport, ==, 546);
	g_assert_cmpuint(packet.dport, ==, 547);
	g_assert_cmpuint(packet.ip_len, ==, 40 + 38);
}

static void
test_packet_ipv6_icmpv6_func(void)
{
	TestPacket test;
	VigilPacket packet;

	test_packet_ipv6(&test, IPPROTO_ICMPV6);
	test_packet_icmp(&test, 128, 0, 77);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_ICMPV6);
	g_assert_cmpuint(packet.icmp_type, ==, 128);
	g_assert_cmpuint(packet.icmp_id, ==, 77);

	/* neighbour solicitation: no id */
	test_packet_ipv6(&test, IPPROTO_ICMPV6);
	test_packet_icmp(&test, 135, 0, 77);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.icmp_type, ==, 135);
	g_assert_cmpuint(packet.icmp_id, ==, 0);
}

static void
test_packet_ipv6_extension_headers_func(void)
{
	TestPacket test;
	VigilPacket packet;

	/* hop-by-hop, destination options, routing, fragment (first), destination options */
	test_packet_ipv6(&test, IPPROTO_HOPOPTS);
	test_packet_ext(&test, IPPROTO_DSTOPTS, 0);
	test_packet_ext(&test, IPPROTO_ROUTING, 1);
	test_packet_ext(&test, IPPROTO_FRAGMENT, 0);
	test_packet_fragment(&test, IPPROTO_DSTOPTS, 0, TRUE);
	test_packet_ext(&test, IPPROTO_UDP, 2);
	test_packet_udp(&test, 4000, 5000, 4);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(packet.sport, ==, 4000);
	g_assert_cmpuint(packet.dport, ==, 5000);
	g_assert_true(packet.first_fragment);
	g_assert_false(packet.fragment);
	g_assert_false(packet.truncated);

	/* an atomic fragment (offset 0, no M) is a whole packet */
	test_packet_ipv6(&test, IPPROTO_FRAGMENT);
	test_packet_fragment(&test, IPPROTO_TCP, 0, FALSE);
	test_packet_tcp(&test, 1, 2);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_false(packet.first_fragment);
	g_assert_false(packet.fragment);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_TCP);
	g_assert_cmpuint(packet.dport, ==, 2);
}

static void
test_packet_ipv6_fragment_func(void)
{
	TestPacket test;
	VigilPacket packet;

	test_packet_ipv6(&test, IPPROTO_HOPOPTS);
	test_packet_ext(&test, IPPROTO_FRAGMENT, 0);
	test_packet_fragment(&test, IPPROTO_TCP, 185, TRUE);
	test_packet_tcp(&test, 1, 2);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.fragment);
	g_assert_false(packet.first_fragment);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_TCP);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_cmpuint(packet.dport, ==, 0);
	g_assert_false(packet.truncated);
}

static void
test_packet_ipv6_chain_ends_func(void)
{
	TestPacket test;
	VigilPacket packet;
	guint8 ah[16] = {IPPROTO_UDP, 2 /* (2 + 2) * 4 = 16 bytes */};

	/* AH is walked */
	test_packet_ipv6(&test, IPPROTO_AH);
	test_packet_append(&test, ah, sizeof(ah));
	test_packet_udp(&test, 11, 22, 0);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_UDP);
	g_assert_cmpuint(packet.sport, ==, 11);
	g_assert_cmpuint(packet.dport, ==, 22);

	/* ESP ends the chain: encrypted */
	test_packet_ipv6(&test, IPPROTO_DSTOPTS);
	test_packet_ext(&test, IPPROTO_ESP, 0);
	test_packet_udp(&test, 11, 22, 0);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_ESP);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_false(packet.truncated);

	/* no next header, with nothing after it */
	test_packet_ipv6(&test, IPPROTO_HOPOPTS);
	test_packet_ext(&test, IPPROTO_NONE, 0);
	test_packet_finish_ipv6(&test);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_NONE);
	g_assert_false(packet.truncated);

	/* a jumbogram-style zero payload length is bounded by the capture */
	test_packet_ipv6(&test, IPPROTO_UDP);
	test_packet_udp(&test, 11, 22, 0);
	assert_parse_ok(&test, &packet);
	g_assert_cmpuint(packet.ip_len, ==, 40);
	g_assert_cmpuint(packet.dport, ==, 22);
}

static void
test_packet_truncated_func(void)
{
	TestPacket test;
	VigilPacket packet;

	/* 3 bytes of TCP: nothing readable */
	test_packet_ipv4(&test, IPPROTO_TCP, 5, 0);
	test_packet_tcp(&test, 40000, 443);
	test_packet_finish_ipv4(&test);
	test.len = 23;
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.protocol, ==, IPPROTO_TCP);
	g_assert_cmpuint(packet.sport, ==, 0);
	g_assert_cmpuint(packet.dport, ==, 0);

	/* 12 bytes of TCP: the ports, but not the whole header */
	test.len = 32;
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.sport, ==, 40000);
	g_assert_cmpuint(packet.dport, ==, 443);

	/* ICMPv6 with only the type */
	test_packet_ipv6(&test, IPPROTO_ICMPV6);
	test_packet_icmp(&test, 128, 0, 9);
	test_packet_finish_ipv6(&test);
	test.len = 41;
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.icmp_type, ==, 0);
	test.len = 44;
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.icmp_type, ==, 128);
	g_assert_cmpuint(packet.icmp_id, ==, 0);

	/* UDP after an extension header, cut in its header */
	test_packet_ipv6(&test, IPPROTO_DSTOPTS);
	test_packet_ext(&test, IPPROTO_UDP, 0);
	test_packet_udp(&test, 1, 2, 0);
	test_packet_finish_ipv6(&test);
	test.len -= 2;
	assert_parse_ok(&test, &packet);
	g_assert_true(packet.truncated);
	g_assert_cmpuint(packet.dport, ==, 2);
}

static void
test_packet_garbage_func(void)
{
	TestPacket test;
	guint8 byte = 0x45;

	assert_parse_fails(NULL, 0, "empty");
	assert_parse_fails(&byte, 1, "too short for an IPv4 header");

	/* version nibble */
	test_packet_ipv4(&test, IPPROTO_TCP, 5, 0);
	test_packet_tcp(&test, 1, 2);
	test_packet_finish_ipv4(&test);
	test.data[0] = 0x55;
	assert_parse_fails(test.data, test.len, "bad IP version 5 at offset 0");
	test.data[0] = 0x05;
	assert_parse_fails(test.data, test.len, "bad IP version 0");

	/* IHL below 5, and beyond the data */
	test.data[0] = 0x44;
	assert_parse_fails(test.data, test.len, "bad IPv4 header length 16 at offset 0");
	test.data[0] = 0x4f;
	assert_parse_fails(test.data, test.len, "header length 60 at offset 0 runs past");

	/* total length below the header length */
	test.data[0] = 0x46;
	put_be16(test.data + 2, 20);
	assert_parse_fails(test.data, test.len, "total length 20 at offset 2");
	put_be16(test.data + 2, 0);
	assert_parse_fails(test.data, test.len, "total length 0");

	/* a bad TCP data offset */
	test_packet_ipv4(&test, IPPROTO_TCP, 5, 0);
	test_packet_tcp(&test, 1, 2);
	test_packet_finish_ipv4(&test);
	test.data[32] = 0x40;
	assert_parse_fails(test.data, test.len, "bad TCP data offset 4 at offset 32");

	/* IPv6 shorter than its header */
	test_packet_ipv6(&test, IPPROTO_UDP);
	assert_parse_fails(test.data, 39, "too short for an IPv6 header");

	/* an extension header that runs past the capture */
	test_packet_ipv6(&test, IPPROTO_HOPOPTS);
	test_packet_ext(&test, IPPROTO_DSTOPTS, 0);
	test_packet_ext(&test, IPPROTO_UDP, 3);
	test_packet_udp(&test, 1, 2, 0);
	test_packet_finish_ipv6(&test);
	assert_parse_fails(test.data, 70, "extension header 60 at offset 48 of 32 bytes runs past");
	assert_parse_fails(test.data, 49, "extension header 60 at offset 48 runs past");

	/* ... or past the payload length, even though more bytes were captured */
	put_be16(test.data + 4, 20);
	assert_parse_fails(test.data, test.len, "runs past the end of the packet (60 bytes)");

	/* more than 8 extension headers */
	test_packet_ipv6(&test, IPPROTO_DSTOPTS);
	for (guint i = 0; i < 9; i++)
		test_packet_ext(&test, IPPROTO_DSTOPTS, 0);
	test_packet_ext(&test, IPPROTO_UDP, 0);
	test_packet_udp(&test, 1, 2, 0);
	test_packet_finish_ipv6(&test);
	assert_parse_fails(test.data, test.len, "more than 8 IPv6 extension headers");

	/* AH with a length running far past the end */
	test_packet_ipv6(&test, IPPROTO_AH);
	test_packet_ext(&test, IPPROTO_UDP, 0);
	test.data[41] = 0xff;
	test_packet_finish_ipv6(&test);
	assert_parse_fails(test.data, test.len, "extension header 51 at offset 40 of 1028 bytes");
}

/* every prefix of a valid packet fails cleanly or agrees with the whole packet */
static void
test_packet_check_prefixes(const TestPacket *test)
{
	VigilPacket whole;

	assert_parse_ok(test, &whole);
	for (gsize len = 0; len <= test->len; len++) {
		g_autoptr(GError) error = NULL;
		g_autofree guint8 *copy = g_memdup2(test->data, MAX(len, 1));
		VigilPacket packet;
		gboolean ret = vigil_packet_parse(copy, len, &packet, &error);

		if (!ret) {
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
			g_assert_cmpuint(len, <, test->len);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpuint(packet.family, ==, whole.family);
		g_assert_cmpmem(packet.src, 16, whole.src, 16);
		g_assert_cmpmem(packet.dst, 16, whole.dst, 16);
		g_assert_cmpuint(packet.protocol, ==, whole.protocol);
		g_assert_cmpuint(packet.ip_len, ==, whole.ip_len);
		g_assert_cmpint(packet.fragment, ==, whole.fragment);
		if (packet.truncated) {
			g_assert_cmpuint(len, <, test->len);
			g_assert_true(packet.sport == 0 || packet.sport == whole.sport);
			g_assert_true(packet.dport == 0 || packet.dport == whole.dport);
		} else {
			g_assert_cmpuint(packet.sport, ==, whole.sport);
			g_assert_cmpuint(packet.dport, ==, whole.dport);
			g_assert_cmpuint(packet.icmp_type, ==, whole.icmp_type);
			g_assert_cmpuint(packet.icmp_id, ==, whole.icmp_id);
		}
	}
}

static void
test_packet_prefixes_func(void)
{
	TestPacket test;

	test_packet_ipv4(&test, IPPROTO_TCP, 6, 0);
	test_packet_tcp(&test, 40000, 443);
	test_packet_finish_ipv4(&test);
	test_packet_check_prefixes(&test);

	test_packet_ipv4(&test, IPPROTO_ICMP, 5, 0);
	test_packet_icmp(&test, 0, 0, 99);
	test_packet_finish_ipv4(&test);
	test_packet_check_prefixes(&test);

	test_packet_ipv4(&test, IPPROTO_UDP, 5, 7);
	test_packet_udp(&test, 1, 2, 3);
	test_packet_finish_ipv4(&test);
	test_packet_check_prefixes(&test);

	test_packet_ipv6(&test, IPPROTO_HOPOPTS);
	test_packet_ext(&test, IPPROTO_DSTOPTS, 1);
	test_packet_ext(&test, IPPROTO_FRAGMENT, 0);
	test_packet_fragment(&test, IPPROTO_TCP, 0, TRUE);
	test_packet_tcp(&test, 12345, 22);
	test_packet_finish_ipv6(&test);
	test_packet_check_prefixes(&test);

	test_packet_ipv6(&test, IPPROTO_ICMPV6);
	test_packet_icmp(&test, 129, 0, 5);
	test_packet_finish_ipv6(&test);
	test_packet_check_prefixes(&test);

	test_packet_ipv6(&test, IPPROTO_SCTP);
	test_packet_udp(&test, 5060, 5061, 8);
	test_packet_finish_ipv6(&test);
	test_packet_check_prefixes(&test);
}

static void
test_packet_random_func(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());
	guint ok = 0;

	for (guint i = 0; i < 200000; i++) {
		g_autoptr(GError) error = NULL;
		gsize len = g_rand_int_range(rand, 0, 96);
		g_autofree guint8 *data = g_malloc(MAX(len, 1));
		VigilPacket packet;
		gboolean ret;

		for (gsize j = 0; j < len; j++)
			data[j] = (guint8)g_rand_int(rand);
		/* a plausible version nibble half the time, so the parser gets further */
		if (len > 0 && g_rand_boolean(rand))
			data[0] = (guint8)((g_rand_boolean(rand) ? 0x40 : 0x60) | (data[0] & 0x0f));
		ret = vigil_packet_parse(data, len, &packet, &error);
		if (ret) {
			g_assert_no_error(error);
			g_assert_true(packet.family == 4 || packet.family == 6);
			if (packet.fragment)
				g_assert_true(packet.sport == 0 && packet.dport == 0);
			ok++;
		} else {
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
		}
	}
	g_test_message("%u of 200000 random packets parsed", ok);
}

static void
test_packet_format_address_func(void)
{
	gchar buf[VIGIL_PACKET_ADDRESS_STRLEN];
	gchar small[8];
	guint8 mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};

	g_assert_cmpstr(vigil_packet_format_address(4, v4_src, buf, sizeof(buf)), ==, "198.18.0.1");
	g_assert_cmpstr(vigil_packet_format_address(6, v6_dst, buf, sizeof(buf)), ==, "fd00::2");
	g_assert_cmpstr(vigil_packet_format_address(6, mapped, buf, sizeof(buf)),
			==,
			"::ffff:192.0.2.1");
	g_assert_null(vigil_packet_format_address(5, v4_src, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "");
	g_assert_null(vigil_packet_format_address(4, v4_src, small, sizeof(small)));
	g_assert_cmpstr(small, ==, "");
}

static void
test_packet_describe_func(void)
{
	VigilPacket packet = {0};
	gchar buf[VIGIL_PACKET_DESCRIBE_LEN];
	gchar tiny[12];

	packet.family = 6;
	packet.protocol = IPPROTO_UDP;
	memset(packet.src, 0xff, 16);
	memset(packet.dst, 0xff, 16);
	packet.sport = 65535;
	packet.dport = 65535;
	packet.ip_len = 65535;
	packet.first_fragment = TRUE;
	packet.truncated = TRUE;
	vigil_packet_describe(&packet, buf, sizeof(buf));
	g_assert_cmpstr(buf,
			==,
			"udp [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 -> "
			"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 len 65535 "
			"first-fragment truncated");
	g_assert_cmpstr(vigil_packet_describe(&packet, tiny, sizeof(tiny)), ==, "udp [ffff:f");

	packet.protocol = 47;
	packet.family = 4;
	packet.truncated = FALSE;
	packet.first_fragment = FALSE;
	packet.fragment = TRUE;
	vigil_packet_describe(&packet, buf, sizeof(buf));
	g_assert_cmpstr(buf,
			==,
			"ip47 255.255.255.255:65535 -> 255.255.255.255:65535 len 65535 fragment");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/packet/ipv4-tcp", test_packet_ipv4_tcp_func);
	g_test_add_func("/vigil/daemon/packet/ipv4-udp", test_packet_ipv4_udp_func);
	g_test_add_func("/vigil/daemon/packet/ipv4-icmp", test_packet_ipv4_icmp_func);
	g_test_add_func("/vigil/daemon/packet/ipv4-fragment", test_packet_ipv4_fragment_func);
	g_test_add_func("/vigil/daemon/packet/ipv4-copy-range", test_packet_ipv4_copy_range_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-tcp", test_packet_ipv6_tcp_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-udp", test_packet_ipv6_udp_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-icmpv6", test_packet_ipv6_icmpv6_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-extension-headers",
			test_packet_ipv6_extension_headers_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-fragment", test_packet_ipv6_fragment_func);
	g_test_add_func("/vigil/daemon/packet/ipv6-chain-ends", test_packet_ipv6_chain_ends_func);
	g_test_add_func("/vigil/daemon/packet/truncated", test_packet_truncated_func);
	g_test_add_func("/vigil/daemon/packet/garbage", test_packet_garbage_func);
	g_test_add_func("/vigil/daemon/packet/prefixes", test_packet_prefixes_func);
	g_test_add_func("/vigil/daemon/packet/random", test_packet_random_func);
	g_test_add_func("/vigil/daemon/packet/format-address", test_packet_format_address_func);
	g_test_add_func("/vigil/daemon/packet/describe", test_packet_describe_func);
	return g_test_run();
}
