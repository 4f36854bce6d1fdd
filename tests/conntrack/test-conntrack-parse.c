/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "conntrack-message-builder.h"
#include "vigil-error.h"
#include "vigil-nl-conntrack.h"

/* the buffers are 8-byte aligned, as the receive buffer of the listener is */
typedef union {
	guint8 bytes[CT_MESSAGE_MAX];
	guint64 align;
} CtBuffer;

static gboolean
parse(const guint8 *data, gsize len, VigilConntrackEntry *entry, GError **error)
{
	/* an exact-size copy, so that a sanitizer or valgrind sees any read past the end */
	g_autofree guint8 *copy = g_malloc(MAX(len, 1));

	memcpy(copy, data, len);
	return vigil_nl_conntrack_parse(copy, len, entry, error);
}

static void
test_parse_new_tcp(void)
{
	CtBuffer buf;
	CtMessage m;
	VigilConntrackEntry entry;
	g_autoptr(GError) error = NULL;
	gsize len;

	ct_message_init(&m,
			IPCTNL_MSG_CT_NEW,
			NLM_F_CREATE | NLM_F_EXCL,
			0xdeadbeef,
			IPPROTO_TCP,
			40000,
			443);
	m.counters = TRUE;
	m.packets_orig = 10;
	m.bytes_orig = 5000000000ull;
	m.packets_reply = 20;
	m.bytes_reply = 12345;
	m.mark = 0x1f;
	m.start_ns = 1700000000123456789ull;
	len = ct_build(buf.bytes, &m);
	g_assert_true(parse(buf.bytes, len, &entry, &error));
	g_assert_no_error(error);
	g_assert_cmpint(entry.type, ==, VIGIL_CONNTRACK_EVENT_NEW);
	g_assert_cmpuint(entry.id, ==, 0xdeadbeef);
	g_assert_true(vigil_conntrack_tuple_equal(&entry.orig, &m.orig));
	g_assert_true(vigil_conntrack_tuple_equal(&entry.reply, &m.reply));
	g_assert_true(entry.has_reply);
	g_assert_cmpuint(entry.orig.sport, ==, 40000);
	g_assert_cmpuint(entry.orig.dport, ==, 443);
	g_assert_cmpuint(entry.tcp_state, ==, TCP_CONNTRACK_ESTABLISHED);
	g_assert_cmpuint(entry.status, ==, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	g_assert_cmpuint(entry.mark, ==, 0x1f);
	g_assert_cmpuint(entry.timeout, ==, 120);
	g_assert_true(entry.has_counters);
	g_assert_cmpuint(entry.packets_orig, ==, 10);
	g_assert_cmpuint(entry.bytes_orig, ==, 5000000000ull);
	g_assert_cmpuint(entry.packets_reply, ==, 20);
	g_assert_cmpuint(entry.bytes_reply, ==, 12345);
	g_assert_cmpuint(entry.start_ns, ==, 1700000000123456789ull);
}

static void
test_parse_types(void)
{
	CtBuffer buf;
	CtMessage m;
	VigilConntrackEntry entry;
	g_autoptr(GError) error = NULL;
	gsize len;

	/* update: no flags, and no counters when accounting is off */
	ct_message_init(&m, IPCTNL_MSG_CT_NEW, 0, 1, IPPROTO_UDP, 5353, 53);
	len = ct_build(buf.bytes, &m);
	g_assert_true(parse(buf.bytes, len, &entry, &error));
	g_assert_cmpint(entry.type, ==, VIGIL_CONNTRACK_EVENT_UPDATE);
	g_assert_false(entry.has_counters);
	g_assert_cmpuint(entry.tcp_state, ==, TCP_CONNTRACK_NONE);

	/* a dump reply */
	m.flags = NLM_F_MULTI;
	len = ct_build(buf.bytes, &m);
	g_assert_true(parse(buf.bytes, len, &entry, &error));
	g_assert_cmpint(entry.type, ==, VIGIL_CONNTRACK_EVENT_DUMP);

	/* destroy, with 32-bit counters */
	m.msg_type = IPCTNL_MSG_CT_DELETE;
	m.flags = 0;
	m.counters = m.counters32 = TRUE;
	m.bytes_orig = 777;
	m.bytes_reply = 888;
	len = ct_build(buf.bytes, &m);
	g_assert_true(parse(buf.bytes, len, &entry, &error));
	g_assert_no_error(error);
	g_assert_cmpint(entry.type, ==, VIGIL_CONNTRACK_EVENT_DESTROY);
	g_assert_cmpuint(entry.bytes_orig, ==, 777);
	g_assert_cmpuint(entry.bytes_reply, ==, 888);

	/* IPv6 ICMPv6 echo */
	ct_message_init(&m, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, 2, IPPROTO_ICMPV6, 0, 0);
	m.orig.family = m.reply.family = 6;
	memset(m.orig.src, 0, 16);
	memset(m.orig.dst, 0, 16);
	m.orig.src[0] = m.orig.dst[0] = 0xfd;
	m.orig.src[15] = 1;
	m.orig.dst[15] = 2;
	m.orig.sport = m.orig.dport = m.reply.sport = m.reply.dport = 0;
	m.orig.icmp_type = 128;
	m.orig.icmp_id = 4321;
	m.reply = m.orig;
	m.reply.icmp_type = 129;
	len = ct_build(buf.bytes, &m);
	g_assert_true(parse(buf.bytes, len, &entry, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(entry.orig.family, ==, 6);
	g_assert_cmpuint(entry.orig.icmp_type, ==, 128);
	g_assert_cmpuint(entry.orig.icmp_id, ==, 4321);
	g_assert_cmpuint(entry.reply.icmp_type, ==, 129);
	g_assert_true(vigil_conntrack_tuple_equal(&entry.orig, &m.orig));
}

static void
test_parse_rejects(void)
{
	CtBuffer buf;
	CtMessage m;
	VigilConntrackEntry entry;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf.bytes;
	gsize len;

	/* another subsystem, and a request rather than an entry */
	ct_message_init(&m, IPCTNL_MSG_CT_NEW, 0, 1, IPPROTO_UDP, 5353, 53);
	len = ct_build(buf.bytes, &m);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | IPCTNL_MSG_CT_NEW;
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(parse(buf.bytes, len, &entry, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	}
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(parse(buf.bytes, len, &entry, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	}
	/* a length field larger than the buffer */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_len = (guint32)len + 4;
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(parse(buf.bytes, len, &entry, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	}
	/* and one too small for the nfgenmsg */
	nlh->nlmsg_len = 17;
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(parse(buf.bytes, len, &entry, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	}
}

/* builds a message attribute by attribute, to get the lengths wrong on purpose */
static gsize
build_custom(guint8 *buf, gboolean with_id, gsize id_len, gsize v4_len, gboolean with_proto)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *tuple;
	struct nlattr *ip;
	guint8 address[16] = {198, 18, 0, 1};
	guint32 id = htonl(9);

	memset(buf, 0, CT_MESSAGE_MAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nfg->nfgen_family = AF_INET;
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, v4_len, address);
	mnl_attr_put(nlh, CTA_IP_V4_DST, v4_len, address);
	mnl_attr_nest_end(nlh, ip);
	if (with_proto) {
		struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);

		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
		mnl_attr_nest_end(nlh, proto);
	}
	mnl_attr_nest_end(nlh, tuple);
	if (with_id)
		mnl_attr_put(nlh, CTA_ID, id_len, &id);
	/* an attribute newer than this code is skipped */
	mnl_attr_put_u32(nlh, CTA_MAX + 5, 0);
	return nlh->nlmsg_len;
}

static void
test_parse_attribute_lengths(void)
{
	CtBuffer buf;
	VigilConntrackEntry entry;
	gsize len;
	struct {
		gboolean with_id;
		gsize id_len;
		gsize v4_len;
		gboolean with_proto;
		gboolean ok;
	} cases[] = {
	    {TRUE, 4, 4, TRUE, TRUE},
	    {FALSE, 4, 4, TRUE, FALSE}, /* no id */
	    {TRUE, 2, 4, TRUE, FALSE},	/* a u32 of 2 bytes */
	    {TRUE, 4, 3, TRUE, FALSE},	/* an IPv4 address of 3 bytes */
	    {TRUE, 4, 16, TRUE, FALSE}, /* or of 16 */
	    {TRUE, 4, 4, FALSE, FALSE}, /* no protocol */
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gboolean ok;

		len = build_custom(buf.bytes,
				   cases[i].with_id,
				   cases[i].id_len,
				   cases[i].v4_len,
				   cases[i].with_proto);
		ok = parse(buf.bytes, len, &entry, &error);
		g_test_message("case %u: %s", i, error != NULL ? error->message : "ok");
		g_assert_true(ok == cases[i].ok);
		g_assert_true(ok == (error == NULL));
	}
}

/* every truncation, with the header telling the truth or not */
static void
test_parse_truncated(void)
{
	CtBuffer buf;
	CtBuffer cut;
	CtMessage m;
	VigilConntrackEntry entry;
	gsize len;
	guint parsed = 0;

	ct_message_init(&m, IPCTNL_MSG_CT_DELETE, 0, 3, IPPROTO_TCP, 40000, 443);
	m.counters = TRUE;
	m.start_ns = 1;
	len = ct_build(buf.bytes, &m);
	for (gsize n = 0; n < len; n++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GError) error_fixed = NULL;

		g_assert_false(parse(buf.bytes, n, &entry, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);

		/* the header says the cut length: attributes end early or are cut themselves */
		memset(cut.bytes, 0, sizeof(cut.bytes));
		memcpy(cut.bytes, buf.bytes, n);
		if (n >= sizeof(struct nlmsghdr)) {
			((struct nlmsghdr *)cut.bytes)->nlmsg_len = (guint32)n;
			if (parse(cut.bytes, MNL_ALIGN(n), &entry, &error_fixed))
				parsed++;
			else
				g_assert_nonnull(error_fixed);
		}
	}
	g_test_message("%u of %" G_GSIZE_FORMAT " truncations still parsed", parsed, len);
}

static void
test_parse_random(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(4242);
	CtBuffer buf;
	CtBuffer mutated;
	CtMessage m;
	VigilConntrackEntry entry;
	gsize len;

	ct_message_init(&m, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, 3, IPPROTO_TCP, 40000, 443);
	m.counters = TRUE;
	m.start_ns = 1;
	len = ct_build(buf.bytes, &m);
	for (guint i = 0; i < 200000; i++) {
		g_autoptr(GError) error = NULL;
		guint mutations = 1 + g_rand_int_range(rand, 0, 4);
		gsize n = len;

		memcpy(mutated.bytes, buf.bytes, len);
		for (guint k = 0; k < mutations; k++) {
			gsize pos = g_rand_int_range(rand, 0, (gint32)len);

			if (g_rand_int_range(rand, 0, 4) == 0)
				mutated.bytes[pos] = (guint8)g_rand_int(rand);
			else
				mutated.bytes[pos] ^= (guint8)(1u << g_rand_int_range(rand, 0, 8));
		}
		if (g_rand_boolean(rand))
			n = g_rand_int_range(rand, 0, (gint32)len + 1);
		if (parse(mutated.bytes, n, &entry, &error))
			g_assert_true(entry.orig.family == 4 || entry.orig.family == 6);
		else
			g_assert_true(error->domain == VIGIL_ERROR);
	}
	for (guint i = 0; i < 100000; i++) {
		g_autoptr(GError) error = NULL;
		gsize n = g_rand_int_range(rand, 0, 200);

		for (gsize j = 0; j < n; j++)
			mutated.bytes[j] = (guint8)g_rand_int(rand);
		parse(mutated.bytes, n, &entry, &error);
	}
}

static glong
rss_kib(void)
{
	g_autofree gchar *status = NULL;
	const gchar *line;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	line = strstr(status, "VmRSS:");
	return line != NULL ? strtol(line + 6, NULL, 10) : -1;
}

/* 100,000 short connections through the parse path: the bound holds, and the cost per event */
static void
test_flood(void)
{
	g_autoptr(VigilConnectionTable) table = vigil_connection_table_new(0);
	CtBuffer buf;
	CtMessage m;
	VigilConntrackEntry entry;
	gint64 start;
	gint64 elapsed;
	glong rss_before = rss_kib();
	guint n = 100000;

	start = g_get_monotonic_time();
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		gsize len;
		guint16 sport = (guint16)(1024 + i % 60000);

		ct_message_init(&m,
				IPCTNL_MSG_CT_NEW,
				NLM_F_CREATE | NLM_F_EXCL,
				i + 1,
				i % 2 == 0 ? IPPROTO_TCP : IPPROTO_UDP,
				sport,
				443);
		m.orig.dst[2] = m.reply.src[2] = (guint8)(i / 60000);
		len = ct_build(buf.bytes, &m);
		g_assert_true(vigil_nl_conntrack_parse(buf.bytes, len, &entry, &error));
		vigil_connection_table_apply_entry(table, &entry);

		/* four in five end at once, the others stay live */
		if (i % 5 != 0) {
			m.msg_type = IPCTNL_MSG_CT_DELETE;
			m.flags = 0;
			m.counters = TRUE;
			m.bytes_orig = 100;
			len = ct_build(buf.bytes, &m);
			g_assert_true(vigil_nl_conntrack_parse(buf.bytes, len, &entry, &error));
			vigil_connection_table_apply_entry(table, &entry);
		}
		g_assert_cmpuint(vigil_connection_table_get_size(table),
				 <=,
				 VIGIL_CONNECTION_TABLE_MAX);
	}
	elapsed = g_get_monotonic_time() - start;
	/* all 20,000 live connections are still there, and the newest closed ones */
	g_assert_cmpuint(vigil_connection_table_get_n_live(table), ==, n / 5);
	g_assert_cmpuint(vigil_connection_table_get_size(table),
			 ==,
			 n / 5 + VIGIL_CONNECTION_TABLE_CLOSED_MAX);
	g_test_message("%u connections, 180000 events: %.2f us per event (parse and apply), "
		       "RSS %ld -> %ld KiB",
		       n,
		       (gdouble)elapsed / 180000,
		       rss_before,
		       rss_kib());

	/* then everything live: the oldest live ones go */
	for (guint i = 0; i < n; i++) {
		gsize len;

		ct_message_init(&m,
				IPCTNL_MSG_CT_NEW,
				NLM_F_CREATE | NLM_F_EXCL,
				1000000 + i,
				IPPROTO_UDP,
				(guint16)(1024 + i % 60000),
				8443);
		m.orig.dst[2] = m.reply.src[2] = (guint8)(i / 60000);
		len = ct_build(buf.bytes, &m);
		g_assert_true(vigil_nl_conntrack_parse(buf.bytes, len, &entry, NULL));
		vigil_connection_table_apply_entry(table, &entry);
	}
	g_assert_cmpuint(vigil_connection_table_get_size(table), ==, VIGIL_CONNECTION_TABLE_MAX);
	g_assert_cmpuint(vigil_connection_table_get_n_live(table), ==, VIGIL_CONNECTION_TABLE_MAX);
	g_test_message("full table of live connections: RSS %ld KiB", rss_kib());
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/vigil/daemon/conntrack/parse/new-tcp", test_parse_new_tcp);
	g_test_add_func("/vigil/daemon/conntrack/parse/types", test_parse_types);
	g_test_add_func("/vigil/daemon/conntrack/parse/rejects", test_parse_rejects);
	g_test_add_func("/vigil/daemon/conntrack/parse/attribute-lengths",
			test_parse_attribute_lengths);
	g_test_add_func("/vigil/daemon/conntrack/parse/truncated", test_parse_truncated);
	g_test_add_func("/vigil/daemon/conntrack/parse/random", test_parse_random);
	g_test_add_func("/vigil/daemon/conntrack/flood", test_flood);
	return g_test_run();
}
