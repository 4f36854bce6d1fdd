/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <pcap/pcap.h>
#include <string.h>

#include "dns-message-builder.h"
#include "vigil-dns-capture.h"
#include "vigil-dns-parser.h"
#include "vigil-error.h"

static const guint8 addr_a[4] = {198, 18, 0, 2};
static const guint8 addr_b[4] = {198, 18, 0, 3};
static const guint8 addr_6[16] = {0xfd, 0, 0, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static GPtrArray *
parse_ok(const DnsMessage *m)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) answers = vigil_dns_parse_message(m->data, m->len, &error);

	g_assert_no_error(error);
	g_assert_nonnull(answers);
	return g_steal_pointer(&answers);
}

static void
parse_fails(const DnsMessage *m)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) answers = vigil_dns_parse_message(m->data, m->len, &error);

	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_null(answers);
}

static void
assert_answer(GPtrArray *answers,
	      guint index,
	      guint family,
	      const guint8 *address,
	      const gchar *name,
	      const gchar *alias,
	      guint32 ttl)
{
	const VigilDnsAnswer *answer;

	g_assert_cmpuint(index, <, answers->len);
	answer = g_ptr_array_index(answers, index);
	g_assert_cmpuint(answer->family, ==, family);
	g_assert_cmpmem(answer->address, family == 4 ? 4 : 16, address, family == 4 ? 4 : 16);
	g_assert_cmpstr(answer->name, ==, name);
	g_assert_cmpstr(answer->alias, ==, alias);
	g_assert_cmpuint(answer->ttl, ==, ttl);
}

static void
test_dns_a(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 300, addr_a);
	dns_put_a_at(&m, (guint)q, 200, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 2);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", NULL, 300);
	assert_answer(answers, 1, 4, addr_b, "www.example.org", NULL, 200);
}

static void
test_dns_aaaa(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, "v6.example.org", DNS_TYPE_AAAA);
	dns_put_aaaa_at(&m, (guint)q, 60, addr_6);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 6, addr_6, "v6.example.org", NULL, 60);
}

/* www.example.org -> cdn.example.net -> edge.cdn.example.net -> A: the question names it */
static void
test_dns_cname_chain(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize cdn;
	gsize edge;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 4, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	cdn = dns_put_cname_at(&m, (guint)q, 3600, "cdn.example.net");
	edge = dns_put_cname_at(&m, (guint)cdn, 120, "edge.cdn.example.net");
	dns_put_a_at(&m, (guint)edge, 20, addr_a);
	dns_put_a_at(&m, (guint)edge, 300, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 2);
	/* the smallest TTL along the chain */
	assert_answer(answers, 0, 4, addr_a, "www.example.org", "edge.cdn.example.net", 20);
	assert_answer(answers, 1, 4, addr_b, "www.example.org", "edge.cdn.example.net", 120);
}

/* the chain may come in any order; records that hang off no question are ignored */
static void
test_dns_cname_unordered(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize other;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 4, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	other = dns_put_name(&m, "edge.example.net");
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	dns_put_cname_at(&m, (guint)q, 100, "edge.example.net");
	/* an unrelated name and address: no chain from the question */
	dns_put_name(&m, "evil.example.com");
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_b, 4);
	dns_put_a_at(&m, (guint)other, 50, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 2);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", "edge.example.net", 100);
	assert_answer(answers, 1, 4, addr_b, "www.example.org", "edge.example.net", 50);
}

static void
test_dns_cname_loop(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize a;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 3, 0, 0);
	q = dns_put_question(&m, "a.example.org", DNS_TYPE_A);
	a = dns_put_cname_at(&m, (guint)q, 100, "b.example.org");
	dns_put_cname_at(&m, (guint)a, 100, "a.example.org");
	dns_put_name(&m, "c.example.org");
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 0);
}

/* a chain longer than VIGIL_DNS_CHAIN_MAX is not followed */
static void
test_dns_cname_too_long(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize owner;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, VIGIL_DNS_CHAIN_MAX + 2, 0, 0);
	owner = dns_put_question(&m, "n0.example.org", DNS_TYPE_A);
	for (guint i = 1; i <= VIGIL_DNS_CHAIN_MAX + 1; i++) {
		g_autofree gchar *target = g_strdup_printf("n%u.example.org", i);

		owner = dns_put_cname_at(&m, (guint)owner, 100, target);
	}
	dns_put_a_at(&m, (guint)owner, 100, addr_a);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 0);
}

/* pointers to suffixes, to pointers, and a mixed-case name */
static void
test_dns_compression(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize rdlength_at;
	gsize target_at;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "WWW.Example.ORG", DNS_TYPE_A);
	/* CNAME www.example.org -> cdn.example.org, the target as "cdn" + pointer to example.org */
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_CNAME, DNS_CLASS_IN, 100, 0);
	rdlength_at = m.len - 2;
	target_at = dns_put_name_ptr(&m, "cdn", (guint)q + 4);
	dns_set_u16(&m, rdlength_at, (guint)(m.len - target_at));
	/* the A owner points at the target, which itself ends in a pointer */
	dns_put_u16(&m, DNS_NAME_AT(target_at));
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", "cdn.example.org", 100);
}

static void
test_dns_pointer_loops(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize owner;

	/* a question that points at itself */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_u16(&m, DNS_NAME_AT(12));
	dns_put_u16(&m, DNS_TYPE_A);
	dns_put_u16(&m, DNS_CLASS_IN);
	parse_fails(&m);

	/* a forward pointer */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_u16(&m, DNS_NAME_AT(20));
	dns_put_u16(&m, DNS_TYPE_A);
	dns_put_u16(&m, DNS_CLASS_IN);
	dns_put_name(&m, "example.org");
	parse_fails(&m);

	/* a pointer into the header */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_u16(&m, DNS_NAME_AT(2));
	dns_put_u16(&m, DNS_TYPE_A);
	dns_put_u16(&m, DNS_CLASS_IN);
	parse_fails(&m);

	/*
	 * an owner "a.b" + pointer back to its own "b" label: earlier than the pointer, but
	 * not earlier than where the name started, so following it would loop
	 */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	owner = m.len;
	dns_put_name_ptr(&m, "a.b", (guint)owner + 2);
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_b, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", NULL, 100);
}

/* every pointer in the chain is valid, but there are more than the parser follows */
static void
test_dns_pointer_jumps(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;
	gsize previous;
	gsize first_answer;
	guint depth[] = {16, 17};

	for (guint d = 0; d < G_N_ELEMENTS(depth); d++) {
		/* the pointer chain lives in the rdata of a TXT-like record of unknown type */
		dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
		q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
		dns_put_u16(&m, DNS_NAME_AT(q));
		dns_put_rr_header(&m, 16, DNS_CLASS_IN, 100, 2 * (depth[d] - 1));
		previous = q;
		for (guint i = 0; i + 1 < depth[d]; i++) {
			gsize here = m.len;

			dns_put_u16(&m, DNS_NAME_AT(previous));
			previous = here;
		}
		first_answer = m.len;
		dns_put_u16(&m, DNS_NAME_AT(previous));
		dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
		dns_put_bytes(&m, addr_a, 4);
		g_assert_cmpuint(first_answer, >, q);
		answers = parse_ok(&m);
		g_assert_cmpuint(answers->len, ==, d == 0 ? 1 : 0);
		g_clear_pointer(&answers, g_ptr_array_unref);
	}
}

static void
test_dns_label_limits(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	g_autofree gchar *label63 = g_strnfill(63, 'a');
	g_autofree gchar *label64 = g_strnfill(64, 'a');
	g_autofree gchar *label61 = g_strnfill(61, 'a');
	g_autofree gchar *name253 = NULL;
	g_autofree gchar *name255 = NULL;
	g_autofree gchar *question = NULL;
	gsize q;

	/* 63 is the longest label */
	question = g_strdup_printf("%s.example.org", label63);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, question, DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_a, question, NULL, 100);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* 64 is the extended label type (0x40) and refused */
	g_free(question);
	question = g_strdup_printf("%s.example.org", label64);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_question(&m, question, DNS_TYPE_A);
	parse_fails(&m);

	/* 253 characters (255 on the wire) is the longest name, one more is refused */
	name253 = g_strdup_printf("%s.%s.%s.%s", label63, label63, label63, label61);
	g_assert_cmpuint(strlen(name253), ==, 253);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, name253, DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_a, name253, NULL, 100);

	name255 = g_strdup_printf("%sa", name253);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	dns_put_question(&m, name255, DNS_TYPE_A);
	parse_fails(&m);
}

static void
test_dns_bad_bytes(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	/* a question with a control byte: nothing to name */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, "bad\001name.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	parse_fails(&m);

	/* spaces, dots inside a label and bytes above 0x7e are refused too */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_question(&m, "a b.example.org", DNS_TYPE_A);
	parse_fails(&m);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_u8(&m, 3);
	dns_put_bytes(&m, "a.b", 3);
	dns_put_name(&m, "org");
	dns_put_u16(&m, DNS_TYPE_A);
	dns_put_u16(&m, DNS_CLASS_IN);
	parse_fails(&m);
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 0, 0, 0);
	dns_put_question(&m, "caf\303\251.example.org", DNS_TYPE_A);
	parse_fails(&m);

	/* a bad CNAME target drops that record, and so the chain */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 3, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_b);
	dns_put_cname_at(&m, (guint)q, 100, "x\177y.example.net");
	dns_put_name(&m, "x\177y.example.net");
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_b, "www.example.org", NULL, 100);
}

/* more records claimed than present, and a truncated last record */
static void
test_dns_lying_counts(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 65535, 65535, 65535);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	dns_put_a_at(&m, (guint)q, 100, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 2);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* the second record loses its last byte */
	m.len--;
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", NULL, 100);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* fewer claimed than present: the extra ones are not answers */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	dns_put_a_at(&m, (guint)q, 100, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* a huge question count is refused, a missing one too */
	dns_put_header(&m, DNS_FLAGS_REPLY, 65535, 1, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	parse_fails(&m);
	dns_set_u16(&m, 4, 0);
	parse_fails(&m);
	/* two questions claimed, one present */
	dns_put_header(&m, DNS_FLAGS_REPLY, 2, 0, 0, 0);
	dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	parse_fails(&m);
}

static void
test_dns_rdlength(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	/* rdlength past the end */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 60000);
	dns_put_bytes(&m, addr_b, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* an A record of the wrong size is skipped, the next one still read */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 3, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 5);
	dns_put_bytes(&m, "\1\2\3\4\5", 5);
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_AAAA, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	dns_put_a_at(&m, (guint)q, 100, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	assert_answer(answers, 0, 4, addr_b, "www.example.org", NULL, 100);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* a CNAME whose target runs past its rdlength */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_CNAME, DNS_CLASS_IN, 100, 4);
	dns_put_name(&m, "edge.example.net");
	dns_put_name(&m, "edge.example.net");
	dns_put_rr_header(&m, DNS_TYPE_A, DNS_CLASS_IN, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 0);
}

static void
test_dns_classes_and_flags(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) answers = NULL;
	gsize q;

	/* a CHAOS record is no address */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	dns_put_u16(&m, DNS_NAME_AT(q));
	dns_put_rr_header(&m, DNS_TYPE_A, 3, 100, 4);
	dns_put_bytes(&m, addr_a, 4);
	dns_put_a_at(&m, (guint)q, 0x80000001u, addr_b);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);
	/* a TTL with the top bit set counts as 0 (RFC 2181) */
	assert_answer(answers, 0, 4, addr_b, "www.example.org", NULL, 0);

	/* a query, an error response and another opcode are not used */
	dns_set_u16(&m, 2, 0x0100);
	parse_fails(&m);
	dns_set_u16(&m, 2, 0x8183);
	parse_fails(&m);
	dns_set_u16(&m, 2, 0x8980);
	parse_fails(&m);
	/* truncated responses (TC) still name what they carry */
	dns_set_u16(&m, 2, 0x8380);
	g_clear_pointer(&answers, g_ptr_array_unref);
	answers = parse_ok(&m);
	g_assert_cmpuint(answers->len, ==, 1);

	/* shorter than a header */
	m.len = 11;
	parse_fails(&m);
	m.len = 0;
	parse_fails(&m);
}

static gboolean
answers_contain(GPtrArray *answers, const VigilDnsAnswer *needle)
{
	for (guint i = 0; i < answers->len; i++) {
		const VigilDnsAnswer *answer = g_ptr_array_index(answers, i);

		if (answer->family == needle->family &&
		    memcmp(answer->address, needle->address, 16) == 0 &&
		    g_strcmp0(answer->name, needle->name) == 0 &&
		    g_strcmp0(answer->alias, needle->alias) == 0 && answer->ttl == needle->ttl)
			return TRUE;
	}
	return FALSE;
}

/* every prefix parses or fails cleanly, and never invents an answer */
static void
test_dns_prefixes(void)
{
	DnsMessage m;
	g_autoptr(GPtrArray) full = NULL;
	gsize q;
	gsize cdn;

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 4, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	cdn = dns_put_cname_at(&m, (guint)q, 3600, "cdn.example.net");
	dns_put_a_at(&m, (guint)cdn, 300, addr_a);
	dns_put_a_at(&m, (guint)cdn, 300, addr_b);
	dns_put_aaaa_at(&m, (guint)cdn, 300, addr_6);
	full = parse_ok(&m);
	g_assert_cmpuint(full->len, ==, 3);

	for (gsize len = 0; len <= m.len; len++) {
		g_autoptr(GError) error = NULL;
		g_autofree guint8 *copy = g_memdup2(m.data, MAX(len, 1));
		g_autoptr(GPtrArray) answers = vigil_dns_parse_message(copy, len, &error);

		if (answers == NULL) {
			g_assert_nonnull(error);
			continue;
		}
		g_assert_no_error(error);
		for (guint i = 0; i < answers->len; i++)
			g_assert_true(answers_contain(full, g_ptr_array_index(answers, i)));
	}
}

static void
test_dns_random(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261122);
	DnsMessage m;
	guint8 data[512];
	gsize q;

	for (guint i = 0; i < 200000; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) answers = NULL;
		gsize len = g_rand_int_range(rand, 0, sizeof(data));

		for (gsize j = 0; j < len; j++)
			data[j] = (guint8)g_rand_int(rand);
		/* often a plausible response header, to get past the first checks */
		if (len > 12 && g_rand_boolean(rand)) {
			data[2] = 0x81;
			data[3] = 0x80;
			data[4] = 0;
			data[5] = 1;
		}
		answers = vigil_dns_parse_message(data, len, &error);
		g_assert_true((answers == NULL) == (error != NULL));
	}

	/* and mutations of a valid message */
	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 3, 0, 0);
	q = dns_put_question(&m, "www.example.org", DNS_TYPE_A);
	q = dns_put_cname_at(&m, (guint)q, 100, "cdn.example.net");
	dns_put_a_at(&m, (guint)q, 100, addr_a);
	dns_put_a_at(&m, (guint)q, 100, addr_b);
	for (guint i = 0; i < 200000; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) answers = NULL;

		guint mutations = 1 + (guint)g_rand_int_range(rand, 0, 4);

		memcpy(data, m.data, m.len);
		for (guint k = 0; k < mutations; k++)
			data[g_rand_int_range(rand, 0, (gint32)m.len)] = (guint8)g_rand_int(rand);
		answers = vigil_dns_parse_message(data, m.len, &error);
		g_assert_true((answers == NULL) == (error != NULL));
		for (guint j = 0; answers != NULL && j < answers->len; j++) {
			const VigilDnsAnswer *answer = g_ptr_array_index(answers, j);

			g_assert_cmpuint(strlen(answer->name), <=, VIGIL_DNS_NAME_MAX);
			g_assert_true(answer->family == 4 || answer->family == 6);
		}
	}
}

static void
test_dns_tcp(void)
{
	DnsMessage m;
	DnsMessage stream = {0};
	g_autoptr(GPtrArray) answers = NULL;
	g_autoptr(GError) error = NULL;

	/* two length-prefixed responses in one segment */
	dns_build_cname_response(&m, DNS_TYPE_A);
	dns_put_u16(&stream, (guint)m.len);
	dns_put_bytes(&stream, m.data, m.len);
	dns_build_cname_response(&m, DNS_TYPE_AAAA);
	dns_put_u16(&stream, (guint)m.len);
	dns_put_bytes(&stream, m.data, m.len);
	answers = vigil_dns_parse_tcp(stream.data, stream.len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(answers);
	g_assert_cmpuint(answers->len, ==, 2);
	assert_answer(answers, 0, 4, addr_a, "www.example.org", "edge.example.net", 300);
	assert_answer(answers, 1, 6, addr_6, "www.example.org", "edge.example.net", 300);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* a response cut after the first message and inside the second */
	answers = vigil_dns_parse_tcp(stream.data, stream.len - 3, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(answers->len, ==, 1);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* a length prefix larger than the segment: what is there is parsed */
	dns_build_cname_response(&m, DNS_TYPE_A);
	stream.len = 0;
	dns_put_u16(&stream, 4000);
	dns_put_bytes(&stream, m.data, m.len);
	answers = vigil_dns_parse_tcp(stream.data, stream.len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(answers->len, ==, 1);
	g_clear_pointer(&answers, g_ptr_array_unref);

	/* too short, or a later segment of the stream */
	answers = vigil_dns_parse_tcp(stream.data, 1, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_null(answers);
	g_clear_error(&error);
	answers = vigil_dns_parse_tcp(stream.data + 40, stream.len - 40, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_assert_null(answers);
}

/* link, IP and transport headers around a DNS message, as the capture sees them */
static gsize
build_frame(guint8 *frame,
	    gint linktype,
	    guint family,
	    guint protocol,
	    guint16 sport,
	    guint16 dport,
	    const DnsMessage *m)
{
	gsize pos = 0;
	gsize ip_start;
	gsize l4_start;
	gsize payload_len = m->len + (protocol == 6 ? 2 : 0);
	guint16 ethertype = family == 4 ? 0x0800 : 0x86dd;

	if (linktype == DLT_LINUX_SLL) {
		memset(frame, 0, 16);
		frame[14] = (guint8)(ethertype >> 8);
		frame[15] = (guint8)ethertype;
		pos = 16;
	} else if (linktype == DLT_LINUX_SLL2) {
		memset(frame, 0, 20);
		frame[0] = (guint8)(ethertype >> 8);
		frame[1] = (guint8)ethertype;
		pos = 20;
	} else if (linktype == DLT_EN10MB) {
		memset(frame, 0, 18);
		frame[12] = 0x81;
		frame[13] = 0x00;
		frame[16] = (guint8)(ethertype >> 8);
		frame[17] = (guint8)ethertype;
		pos = 18;
	}
	ip_start = pos;
	if (family == 4) {
		gsize total = 20 + (protocol == 6 ? 20 : 8) + payload_len;

		memset(frame + pos, 0, 20);
		frame[pos] = 0x45;
		frame[pos + 2] = (guint8)(total >> 8);
		frame[pos + 3] = (guint8)total;
		frame[pos + 8] = 64;
		frame[pos + 9] = (guint8)protocol;
		/* the server is addr_a: the source of answers, the destination of queries */
		memcpy(frame + pos + (sport == 53 ? 12 : 16), addr_a, 4);
		memcpy(frame + pos + (sport == 53 ? 16 : 12), addr_b, 4);
		pos += 20;
	} else {
		gsize plen = (protocol == 6 ? 20 : 8) + payload_len + 8;

		memset(frame + pos, 0, 48);
		frame[pos] = 0x60;
		frame[pos + 4] = (guint8)(plen >> 8);
		frame[pos + 5] = (guint8)plen;
		/* a hop-by-hop options header first */
		frame[pos + 6] = 0;
		frame[pos + 7] = 64;
		memcpy(frame + pos + 8, addr_6, 16);
		memcpy(frame + pos + 24, addr_6, 16);
		frame[pos + 40] = (guint8)protocol;
		pos += 48;
	}
	l4_start = pos;
	if (protocol == 6) {
		memset(frame + pos, 0, 20);
		frame[pos + 12] = 5 << 4;
		pos += 20;
		frame[pos] = (guint8)(m->len >> 8);
		frame[pos + 1] = (guint8)m->len;
		pos += 2;
	} else {
		gsize udp_len = 8 + m->len;

		memset(frame + pos, 0, 8);
		frame[pos + 4] = (guint8)(udp_len >> 8);
		frame[pos + 5] = (guint8)udp_len;
		pos += 8;
	}
	frame[l4_start] = (guint8)(sport >> 8);
	frame[l4_start + 1] = (guint8)sport;
	frame[l4_start + 2] = (guint8)(dport >> 8);
	frame[l4_start + 3] = (guint8)dport;
	memcpy(frame + pos, m->data, m->len);
	g_assert_cmpuint(ip_start, <, pos);
	return pos + m->len;
}

static void
test_dns_capture_parse(void)
{
	const gint linktypes[] = {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_EN10MB, DLT_RAW};
	DnsMessage m;
	DnsMessage query;
	guint8 frame[DNS_MESSAGE_MAX + 128];

	dns_put_header(&query, 0x0100, 1, 0, 0, 0);
	dns_put_question(&query, "WWW.example.org", DNS_TYPE_A);
	for (guint l = 0; l < G_N_ELEMENTS(linktypes); l++) {
		for (guint family = 4; family <= 6; family += 2) {
			for (guint protocol = 6; protocol <= 17; protocol += 11) {
				g_autoptr(GError) error = NULL;
				g_auto(VigilDnsPacket) packet = {0};
				g_auto(VigilDnsPacket) query_packet = {0};
				const VigilDnsQuery *parsed_query;
				gsize len;

				dns_build_cname_response(&m,
							 family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA);
				len = build_frame(frame,
						  linktypes[l],
						  family,
						  protocol,
						  53,
						  40000,
						  &m);
				g_assert_true(vigil_dns_capture_parse_packet(linktypes[l],
									     frame,
									     len,
									     &packet,
									     &error));
				g_assert_no_error(error);
				g_assert_null(packet.queries);
				g_assert_nonnull(packet.answers);
				g_assert_cmpuint(packet.answers->len, ==, 1);
				assert_answer(packet.answers,
					      0,
					      family,
					      family == 4 ? addr_a : addr_6,
					      "www.example.org",
					      "edge.example.net",
					      300);
				g_assert_cmpuint(
				    ((VigilDnsAnswer *)g_ptr_array_index(packet.answers, 0))->id,
				    ==,
				    0x1234);
				g_assert_cmpuint(packet.flow.family, ==, family);
				g_assert_cmpuint(packet.flow.protocol, ==, protocol);
				g_assert_cmpuint(packet.flow.server_port, ==, 53);
				g_assert_cmpuint(packet.flow.client_port, ==, 40000);
				g_assert_cmpmem(packet.flow.server,
						family == 4 ? 4 : 16,
						family == 4 ? addr_a : addr_6,
						family == 4 ? 4 : 16);
				g_assert_cmpmem(packet.flow.client,
						family == 4 ? 4 : 16,
						family == 4 ? addr_b : addr_6,
						family == 4 ? 4 : 16);

				/* the query of that flow, seen from the same side */
				len = build_frame(frame,
						  linktypes[l],
						  family,
						  protocol,
						  40000,
						  53,
						  &query);
				g_assert_true(vigil_dns_capture_parse_packet(linktypes[l],
									     frame,
									     len,
									     &query_packet,
									     &error));
				g_assert_no_error(error);
				g_assert_null(query_packet.answers);
				g_assert_nonnull(query_packet.queries);
				g_assert_cmpuint(query_packet.queries->len, ==, 1);
				parsed_query = g_ptr_array_index(query_packet.queries, 0);
				g_assert_cmpuint(parsed_query->id, ==, 0x1234);
				g_assert_cmpstr(parsed_query->name, ==, "www.example.org");
				g_assert_cmpmem(&query_packet.flow,
						sizeof(VigilDnsFlow),
						&packet.flow,
						sizeof(VigilDnsFlow));

				/* every prefix of the frame is handled */
				len = build_frame(frame,
						  linktypes[l],
						  family,
						  protocol,
						  53,
						  40000,
						  &m);
				for (gsize cut = 0; cut < len; cut++) {
					g_autoptr(GError) error_cut = NULL;
					g_auto(VigilDnsPacket) packet_cut = {0};
					g_autofree guint8 *copy = g_memdup2(frame, MAX(cut, 1));
					gboolean ok = vigil_dns_capture_parse_packet(linktypes[l],
										     copy,
										     cut,
										     &packet_cut,
										     &error_cut);

					g_assert_true(ok == (error_cut == NULL));
					g_assert_true(packet_cut.answers == NULL ||
						      packet_cut.answers->len <= 1);
				}
			}
		}
	}
}

static void
test_dns_capture_parse_bad(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(VigilDnsPacket) packet = {0};
	DnsMessage m;
	guint8 frame[DNS_MESSAGE_MAX + 128];
	gsize len;

	dns_build_cname_response(&m, DNS_TYPE_A);
	len = build_frame(frame, DLT_RAW, 4, 17, 53, 40000, &m);

	/* an IPv4 fragment is not reassembled */
	frame[6] = 0x20;
	g_assert_false(vigil_dns_capture_parse_packet(DLT_RAW, frame, len, &packet, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	frame[6] = 0;

	/* an unknown link type */
	g_assert_false(vigil_dns_capture_parse_packet(9999, frame, len, &packet, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);

	/* an IHL below 5 and a total length below the header */
	frame[0] = 0x44;
	g_assert_false(vigil_dns_capture_parse_packet(DLT_RAW, frame, len, &packet, &error));
	g_clear_error(&error);
	frame[0] = 0x45;
	frame[2] = 0;
	frame[3] = 10;
	g_assert_false(vigil_dns_capture_parse_packet(DLT_RAW, frame, len, &packet, &error));
	g_clear_error(&error);

	/* an IPv6 packet labelled IPv4 by the cooked header */
	len = build_frame(frame, DLT_LINUX_SLL, 6, 17, 53, 40000, &m);
	frame[14] = 0x08;
	frame[15] = 0x00;
	g_assert_false(vigil_dns_capture_parse_packet(DLT_LINUX_SLL, frame, len, &packet, &error));
	g_assert_null(packet.answers);
	g_clear_error(&error);

	/* a response sent to port 53 is no query */
	len = build_frame(frame, DLT_RAW, 4, 17, 40000, 53, &m);
	g_assert_false(vigil_dns_capture_parse_packet(DLT_RAW, frame, len, &packet, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_ARGUMENT);
}

static gboolean
cache_has(VigilDnsCache *cache, const guint8 *address, const gchar *name)
{
	g_autofree gchar *cached = vigil_dns_cache_lookup_name(cache, 4, address, 0);

	return g_strcmp0(cached, name) == 0;
}

/* answers are only taken for a question seen on the same flow, with the same id and name */
static void
test_dns_capture_unsolicited(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(0);
	g_autoptr(VigilDnsCapture) capture = vigil_dns_capture_new(cache);
	VigilDnsCaptureStats stats;
	DnsMessage response;
	DnsMessage query;
	DnsMessage other;
	guint8 frame[DNS_MESSAGE_MAX + 128];
	gsize len;

	dns_build_cname_response(&response, DNS_TYPE_A);
	dns_put_header(&query, 0x0100, 1, 0, 0, 0);
	dns_put_question(&query, "www.example.org", DNS_TYPE_A);
	dns_put_header(&other, 0x0100, 1, 0, 0, 0);
	dns_put_question(&other, "www.example.com", DNS_TYPE_A);

	/* nobody asked */
	len = build_frame(frame, DLT_RAW, 4, 17, 53, 40000, &response);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	g_assert_false(cache_has(cache, addr_a, "www.example.org"));

	/* asked from another port, or for another name, or with another id */
	len = build_frame(frame, DLT_RAW, 4, 17, 40001, 53, &query);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	len = build_frame(frame, DLT_RAW, 4, 17, 40000, 53, &other);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	dns_set_u16(&query, 0, 0x9999);
	len = build_frame(frame, DLT_RAW, 4, 17, 40000, 53, &query);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	len = build_frame(frame, DLT_RAW, 4, 17, 53, 40000, &response);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	g_assert_false(cache_has(cache, addr_a, "www.example.org"));
	/* over TCP on the same ports */
	len = build_frame(frame, DLT_RAW, 4, 6, 53, 40000, &response);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	g_assert_false(cache_has(cache, addr_a, "www.example.org"));

	/* the real question, then its answer: taken once */
	dns_set_u16(&query, 0, 0x1234);
	len = build_frame(frame, DLT_RAW, 4, 17, 40000, 53, &query);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	len = build_frame(frame, DLT_RAW, 4, 17, 53, 40000, &response);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	g_assert_true(cache_has(cache, addr_a, "www.example.org"));
	vigil_dns_capture_get_stats(capture, &stats);
	g_assert_cmpuint(stats.queries, ==, 4);
	g_assert_cmpuint(stats.responses, ==, 4);
	g_assert_cmpuint(stats.answers, ==, 1);
	g_assert_cmpuint(stats.unsolicited, ==, 3);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	vigil_dns_capture_get_stats(capture, &stats);
	g_assert_cmpuint(stats.unsolicited, ==, 4);
	g_assert_cmpuint(stats.malformed, ==, 0);
}

/* the questions waiting for answers are bounded */
static void
test_dns_capture_pending_bound(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(0);
	g_autoptr(VigilDnsCapture) capture = vigil_dns_capture_new(cache);
	DnsMessage response;
	DnsMessage query;
	guint8 frame[DNS_MESSAGE_MAX + 128];
	gsize len;

	dns_build_cname_response(&response, DNS_TYPE_A);
	dns_put_header(&query, 0x0100, 1, 0, 0, 0);
	dns_put_question(&query, "www.example.org", DNS_TYPE_A);
	len = build_frame(frame, DLT_RAW, 4, 17, 40000, 53, &query);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	for (guint i = 0; i < VIGIL_DNS_CAPTURE_PENDING_MAX; i++) {
		dns_set_u16(&query, 0, i);
		len = build_frame(frame, DLT_RAW, 4, 17, 40001, 53, &query);
		g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	}
	/* the first question was pushed out by the flood */
	len = build_frame(frame, DLT_RAW, 4, 17, 53, 40000, &response);
	g_assert_true(vigil_dns_capture_handle_packet(capture, DLT_RAW, frame, len, NULL));
	g_assert_false(cache_has(cache, addr_a, "www.example.org"));
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/vigil/daemon/dns/a", test_dns_a);
	g_test_add_func("/vigil/daemon/dns/aaaa", test_dns_aaaa);
	g_test_add_func("/vigil/daemon/dns/cname-chain", test_dns_cname_chain);
	g_test_add_func("/vigil/daemon/dns/cname-unordered", test_dns_cname_unordered);
	g_test_add_func("/vigil/daemon/dns/cname-loop", test_dns_cname_loop);
	g_test_add_func("/vigil/daemon/dns/cname-too-long", test_dns_cname_too_long);
	g_test_add_func("/vigil/daemon/dns/compression", test_dns_compression);
	g_test_add_func("/vigil/daemon/dns/pointer-loops", test_dns_pointer_loops);
	g_test_add_func("/vigil/daemon/dns/pointer-jumps", test_dns_pointer_jumps);
	g_test_add_func("/vigil/daemon/dns/label-limits", test_dns_label_limits);
	g_test_add_func("/vigil/daemon/dns/bad-bytes", test_dns_bad_bytes);
	g_test_add_func("/vigil/daemon/dns/lying-counts", test_dns_lying_counts);
	g_test_add_func("/vigil/daemon/dns/rdlength", test_dns_rdlength);
	g_test_add_func("/vigil/daemon/dns/classes-and-flags", test_dns_classes_and_flags);
	g_test_add_func("/vigil/daemon/dns/prefixes", test_dns_prefixes);
	g_test_add_func("/vigil/daemon/dns/random", test_dns_random);
	g_test_add_func("/vigil/daemon/dns/tcp", test_dns_tcp);
	g_test_add_func("/vigil/daemon/dns/capture-parse", test_dns_capture_parse);
	g_test_add_func("/vigil/daemon/dns/capture-parse-bad", test_dns_capture_parse_bad);
	g_test_add_func("/vigil/daemon/dns/capture-unsolicited", test_dns_capture_unsolicited);
	g_test_add_func("/vigil/daemon/dns/capture-pending-bound", test_dns_capture_pending_bound);
	return g_test_run();
}
