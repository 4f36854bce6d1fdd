/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes the DNS parsers: the first input byte picks the entry point, the rest is the
 * input. 0: vigil_dns_parse_message(), 1: vigil_dns_parse_tcp(), 2 to 5: a captured frame
 * through vigil_dns_capture_parse_packet() with a cooked, cooked v2, Ethernet or raw IP
 * link layer, 6: vigil_dns_parse_query().
 *
 * Without FUZZ_LIBFUZZER this builds a standalone driver (gcc is enough) that runs every
 * seed and every prefix of it, then random and mutated inputs for FUZZ_SECONDS (default 3)
 * seconds; FUZZ_SEED repeats a run. It is the meson test `fuzz-dns`. The seeds are built
 * in (the hand-built messages of the parser tests); `--write-corpus DIR` writes them out as
 * files for libFuzzer, and further arguments add seed files or directories.
 *
 * With clang, meson also builds `fuzz-dns-libfuzzer`; for coverage of the library too:
 *
 *   CC=clang meson setup _build/fuzz -Db_sanitize=address,undefined -Db_lundef=false \
 *     -Dc_args=-fsanitize=fuzzer-no-link
 *   meson compile -C _build/fuzz tests/dns/fuzz-dns-libfuzzer
 *   _build/test/tests/dns/fuzz-dns --write-corpus /tmp/dns-corpus
 *   _build/fuzz/tests/dns/fuzz-dns-libfuzzer -max_total_time=600 /tmp/dns-corpus
 */

#include "config.h"

#include <pcap/pcap.h>
#include <string.h>

#include "dns-message-builder.h"
#include "vigil-dns-capture.h"
#include "vigil-dns-parser.h"
#include "vigil-error.h"

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static void
check_answers(GPtrArray *answers)
{
	for (guint i = 0; i < answers->len; i++) {
		const VigilDnsAnswer *answer = g_ptr_array_index(answers, i);

		g_assert_true(answer->family == 4 || answer->family == 6);
		g_assert_nonnull(answer->name);
		g_assert_cmpuint(strlen(answer->name), >, 0);
		g_assert_cmpuint(strlen(answer->name), <=, VIGIL_DNS_NAME_MAX);
		g_assert_true(answer->alias == NULL || strlen(answer->alias) <= VIGIL_DNS_NAME_MAX);
		for (const gchar *p = answer->name; *p != '\0'; p++)
			g_assert_true(*p > 0x20 && *p < 0x7f && !g_ascii_isupper(*p));
	}
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	static const gint linktypes[] = {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_EN10MB, DLT_RAW};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) answers = NULL;
	guint mode;

	if (size == 0)
		return 0;
	mode = data[0] % 7;
	data++;
	size--;
	if (mode == 6) {
		guint16 id = 0;
		g_autofree gchar *name = vigil_dns_parse_query(data, size, &id, &error);

		g_assert_true((name == NULL) == (error != NULL));
		g_assert_true(name == NULL ||
			      (strlen(name) > 0 && strlen(name) <= VIGIL_DNS_NAME_MAX));
		return 0;
	}
	if (mode == 0) {
		answers = vigil_dns_parse_message(data, size, &error);
	} else if (mode == 1) {
		answers = vigil_dns_parse_tcp(data, size, &error);
	} else {
		g_auto(VigilDnsPacket) packet = {0};
		gboolean ok = vigil_dns_capture_parse_packet(linktypes[mode - 2],
							     data,
							     size,
							     &packet,
							     &error);

		g_assert_true(ok == (error == NULL));
		g_assert_true(packet.queries == NULL || packet.answers == NULL);
		for (guint i = 0; packet.queries != NULL && i < packet.queries->len; i++) {
			const VigilDnsQuery *query = g_ptr_array_index(packet.queries, i);

			g_assert_cmpuint(strlen(query->name), >, 0);
			g_assert_cmpuint(strlen(query->name), <=, VIGIL_DNS_NAME_MAX);
		}
		if (!ok || packet.answers == NULL)
			return 0;
		answers = g_steal_pointer(&packet.answers);
	}
	g_assert_true((answers == NULL) == (error != NULL));
	if (error != NULL)
		g_assert_true(error->domain == VIGIL_ERROR);
	else
		check_answers(answers);
	return 0;
}

#ifndef FUZZ_LIBFUZZER

#define FUZZ_MAX_LEN 1500

static guint64 executions = 0;

/* an exact-size copy, so that a sanitizer or valgrind sees any read past the end */
static void
fuzz_run(const guint8 *data, gsize len)
{
	g_autofree guint8 *copy = g_malloc(MAX(len, 1));

	if (len > 0)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	executions++;
}

static void
seed_add(GPtrArray *seeds, const gchar *name, guint mode, const guint8 *data, gsize len)
{
	guint8 *seed = g_malloc(len + 1);

	seed[0] = (guint8)mode;
	memcpy(seed + 1, data, len);
	g_ptr_array_add(seeds, g_bytes_new_take(seed, len + 1));
	g_ptr_array_add(seeds, g_strdup(name));
}

/*
 * a frame around @m as the capture sees it, over IPv4: from port 53, or to it for a query;
 * for TCP, @m is the whole segment payload, length prefixes included
 */
static gsize
seed_frame(guint8 *frame, gint linktype, gboolean tcp, gboolean query, const DnsMessage *m)
{
	gsize pos = 0;
	gsize l4_len = tcp ? 20 : 8;
	gsize total = 20 + l4_len + m->len;

	memset(frame, 0, 64);
	if (linktype == DLT_LINUX_SLL) {
		frame[14] = 0x08;
		pos = 16;
	} else if (linktype == DLT_LINUX_SLL2) {
		frame[0] = 0x08;
		pos = 20;
	} else if (linktype == DLT_EN10MB) {
		frame[12] = 0x08;
		pos = 14;
	}
	frame[pos] = 0x45;
	frame[pos + 2] = (guint8)(total >> 8);
	frame[pos + 3] = (guint8)total;
	frame[pos + 9] = tcp ? 6 : 17;
	frame[pos + 12] = 198;
	frame[pos + 13] = 18;
	frame[pos + 15] = 2;
	frame[pos + 16] = 198;
	frame[pos + 17] = 18;
	frame[pos + 19] = 1;
	pos += 20;
	frame[pos + (query ? 3 : 1)] = 53;
	frame[pos + (query ? 0 : 2)] = 0x9c;
	frame[pos + (query ? 1 : 3)] = 0x40;
	if (tcp) {
		frame[pos + 12] = 0x50;
	} else {
		frame[pos + 4] = (guint8)((8 + m->len) >> 8);
		frame[pos + 5] = (guint8)(8 + m->len);
	}
	pos += l4_len;
	memcpy(frame + pos, m->data, m->len);
	return pos + m->len;
}

/* pairs of (GBytes, name) */
static GPtrArray *
seeds_builtin(void)
{
	static const guint8 a[4] = {198, 18, 0, 2};
	static const guint8 aaaa[16] = {0xfd, 0, 0, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	GPtrArray *seeds = g_ptr_array_new();
	static const gint linktypes[] = {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_EN10MB, DLT_RAW};
	static const gchar *link_names[] = {"sll", "sll2", "ethernet", "raw"};
	DnsMessage m;
	DnsMessage tcp = {0};
	guint8 frame[DNS_MESSAGE_MAX + 128];
	gsize q;

	dns_build_cname_response(&m, DNS_TYPE_A);
	seed_add(seeds, "cname-a", 0, m.data, m.len);
	dns_put_u16(&tcp, (guint)m.len);
	dns_put_bytes(&tcp, m.data, m.len);
	for (guint i = 0; i < G_N_ELEMENTS(linktypes); i++) {
		g_autofree gchar *name = g_strdup_printf("frame-udp-%s", link_names[i]);
		g_autofree gchar *name_tcp = g_strdup_printf("frame-tcp-%s", link_names[i]);
		gsize len = seed_frame(frame, linktypes[i], FALSE, FALSE, &m);

		seed_add(seeds, name, 2 + i, frame, len);
		len = seed_frame(frame, linktypes[i], TRUE, FALSE, &tcp);
		seed_add(seeds, name_tcp, 2 + i, frame, len);
	}
	dns_build_cname_response(&m, DNS_TYPE_AAAA);
	seed_add(seeds, "cname-aaaa", 0, m.data, m.len);
	dns_put_u16(&tcp, (guint)m.len);
	dns_put_bytes(&tcp, m.data, m.len);
	seed_add(seeds, "tcp-two", 1, tcp.data, tcp.len);

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 3, 0, 0);
	q = dns_put_question(&m, "Www.Example.ORG", DNS_TYPE_A);
	dns_put_a_at(&m, (guint)q, 300, a);
	dns_put_aaaa_at(&m, (guint)q, 300, aaaa);
	q = dns_put_cname_at(&m, (guint)q + 4, 10, "b.example.org");
	dns_put_a_at(&m, (guint)q, 0x80000000u, a);
	seed_add(seeds, "mixed", 0, m.data, m.len);

	dns_put_header(&m, 0x0100, 1, 0, 0, 0);
	dns_put_question(&m, "www.example.org", DNS_TYPE_AAAA);
	seed_add(seeds, "query", 6, m.data, m.len);
	{
		gsize len = seed_frame(frame, DLT_LINUX_SLL2, FALSE, TRUE, &m);

		seed_add(seeds, "frame-udp-query", 3, frame, len);
		tcp.len = 0;
		dns_put_u16(&tcp, (guint)m.len);
		dns_put_bytes(&tcp, m.data, m.len);
		dns_put_u16(&tcp, (guint)m.len);
		dns_put_bytes(&tcp, m.data, m.len);
		len = seed_frame(frame, DLT_RAW, TRUE, TRUE, &tcp);
		seed_add(seeds, "frame-tcp-queries", 5, frame, len);
	}

	dns_put_header(&m, DNS_FLAGS_REPLY, 1, 1, 0, 0);
	q = dns_put_question(&m, "a.example.org", DNS_TYPE_A);
	dns_put_u16(&m, 16);
	dns_put_rr_header(&m, 16, DNS_CLASS_IN, 100, 8);
	for (guint i = 0; i < 4; i++)
		dns_put_u16(&m, DNS_NAME_AT(q + 2 * i));
	seed_add(seeds, "pointers", 0, m.data, m.len);
	return seeds;
}

static void
fuzz_load_seeds(const gchar *path, GPtrArray *seeds)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *name;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		gchar *contents = NULL;
		gsize len = 0;

		if (!g_file_get_contents(path, &contents, &len, &error))
			g_error("%s", error->message);
		g_ptr_array_add(seeds, g_bytes_new_take(contents, len));
		g_ptr_array_add(seeds, g_strdup(path));
		return;
	}
	dir = g_dir_open(path, 0, &error);
	if (dir == NULL)
		g_error("%s", error->message);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);

		fuzz_load_seeds(child, seeds);
	}
}

static gsize
fuzz_mutate(GRand *rand, guint8 *data, gsize len)
{
	static const guint8 interesting[] =
	    {0x00, 0x01, 0x05, 0x0c, 0x1c, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xc0, 0xc0, 0xff};
	guint mutations = g_rand_int_range(rand, 1, 5);

	for (guint i = 0; i < mutations; i++) {
		guint kind = g_rand_int_range(rand, 0, 6);
		gsize pos = len > 1 ? (gsize)g_rand_int_range(rand, 1, (gint32)len) : 0;

		if (len <= 1)
			break;
		switch (kind) {
		case 0:
			data[pos] ^= (guint8)(1u << g_rand_int_range(rand, 0, 8));
			break;
		case 1:
			data[pos] = (guint8)g_rand_int(rand);
			break;
		case 2:
			data[pos] =
			    interesting[g_rand_int_range(rand, 0, G_N_ELEMENTS(interesting))];
			break;
		case 3:
			/* a compression pointer to a random earlier offset */
			if (pos + 1 < len) {
				data[pos] = 0xc0;
				data[pos + 1] =
				    (guint8)g_rand_int_range(rand, 0, (gint32)MIN(pos, 255) + 1);
			}
			break;
		case 4:
			len = pos;
			break;
		case 5: {
			gsize chunk = MIN((gsize)g_rand_int_range(rand, 1, 33), len - pos);

			if (len + chunk > FUZZ_MAX_LEN)
				break;
			memmove(data + pos + chunk, data + pos, len - pos);
			len += chunk;
			break;
		}
		default:
			g_assert_not_reached();
		}
	}
	return len;
}

static void
write_corpus(const gchar *dir, GPtrArray *seeds)
{
	g_autoptr(GError) error = NULL;

	g_mkdir_with_parents(dir, 0755);
	for (guint i = 0; i < seeds->len; i += 2) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *file = g_strdup_printf("%s.bin", (gchar *)seeds->pdata[i + 1]);
		gsize len = 0;
		const gchar *data = g_bytes_get_data(seeds->pdata[i], &len);

		path = g_build_filename(dir, file, NULL);
		if (!g_file_set_contents(path, data, (gssize)len, &error))
			g_error("%s", error->message);
	}
}

int
main(int argc, char **argv)
{
	g_autoptr(GPtrArray) seeds = seeds_builtin();
	g_autoptr(GRand) rand = NULL;
	const gchar *env_seconds = g_getenv("FUZZ_SECONDS");
	const gchar *env_seed = g_getenv("FUZZ_SEED");
	gdouble seconds = env_seconds != NULL ? g_ascii_strtod(env_seconds, NULL) : 3.0;
	guint32 seed = env_seed != NULL ? (guint32)g_ascii_strtoull(env_seed, NULL, 0)
					: (guint32)g_random_int();
	gint64 deadline;
	guint8 data[FUZZ_MAX_LEN];

	if (argc == 3 && g_strcmp0(argv[1], "--write-corpus") == 0) {
		write_corpus(argv[2], seeds);
		return 0;
	}
	for (gint i = 1; i < argc; i++)
		fuzz_load_seeds(argv[i], seeds);
	g_print("fuzz-dns: %u seeds, FUZZ_SEED=%u, %.1f s\n", seeds->len / 2, seed, seconds);

	for (guint i = 0; i < seeds->len; i += 2) {
		gsize len = 0;
		const guint8 *seed_data = g_bytes_get_data(seeds->pdata[i], &len);

		for (gsize j = 0; j <= len; j++)
			fuzz_run(seed_data, j);
	}

	rand = g_rand_new_with_seed(seed);
	deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < deadline) {
		for (guint k = 0; k < 1000; k++) {
			gsize len;

			if (g_rand_int_range(rand, 0, 10) == 0) {
				len = g_rand_int_range(rand, 0, 256);
				for (gsize j = 0; j < len; j++)
					data[j] = (guint8)g_rand_int(rand);
			} else {
				guint index = 2 * g_rand_int_range(rand, 0, seeds->len / 2);
				const guint8 *seed_data =
				    g_bytes_get_data(seeds->pdata[index], &len);

				len = MIN(len, sizeof(data));
				memcpy(data, seed_data, len);
				len = fuzz_mutate(rand, data, len);
			}
			fuzz_run(data, len);
		}
	}
	for (guint i = 0; i < seeds->len; i += 2) {
		g_bytes_unref(seeds->pdata[i]);
		g_free(seeds->pdata[i + 1]);
	}
	g_print("fuzz-dns: %" G_GUINT64_FORMAT " executions\n", executions);
	return 0;
}

#endif
