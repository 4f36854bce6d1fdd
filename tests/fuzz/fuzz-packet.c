/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes vigil_packet_parse().
 *
 * Without FUZZ_LIBFUZZER this builds a standalone driver (gcc is enough) that runs every
 * seed, every prefix of every seed, then random and mutated inputs for FUZZ_SECONDS
 * (default 3) seconds; FUZZ_SEED repeats a run. It is the meson test `fuzz-packet`.
 *
 * With clang, meson also builds `fuzz-packet-libfuzzer` (-DFUZZ_LIBFUZZER
 * -fsanitize=fuzzer). For useful coverage, instrument the library too:
 *
 *   CC=clang meson setup _build/fuzz -Db_sanitize=address,undefined -Db_lundef=false \
 *     -Dc_args=-fsanitize=fuzzer-no-link
 *   meson compile -C _build/fuzz tests/daemon/fuzz-packet-libfuzzer
 *   mkdir -p /tmp/corpus && cp tests/fuzz/corpus/packet/\* /tmp/corpus/
 *   _build/fuzz/tests/daemon/fuzz-packet-libfuzzer -max_total_time=600 /tmp/corpus
 *
 * Copy new interesting inputs back into tests/fuzz/corpus/packet/ when they find bugs.
 */

#include "config.h"

#include <string.h>

#include "vigil-error.h"
#include "vigil-packet.h"

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	g_autoptr(GError) error = NULL;
	VigilPacket packet;
	gchar buf[VIGIL_PACKET_DESCRIBE_LEN];

	if (!vigil_packet_parse(data, size, &packet, &error)) {
		g_assert_nonnull(error);
		g_assert_true(error->domain == VIGIL_ERROR);
		return 0;
	}
	g_assert_null(error);
	g_assert_true(packet.family == 4 || packet.family == 6);
	g_assert_cmpuint(size, >=, packet.family == 4 ? 20 : 40);
	if (packet.fragment)
		g_assert_true(packet.sport == 0 && packet.dport == 0 && packet.icmp_type == 0);
	vigil_packet_describe(&packet, buf, sizeof(buf));
	return 0;
}

#ifndef FUZZ_LIBFUZZER

#define FUZZ_MAX_LEN 600

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
	static const guint8 interesting8[] = {0x00,
					      0x01,
					      0x05,
					      0x06,
					      0x0f,
					      0x11,
					      0x2c,
					      0x33,
					      0x3a,
					      0x3b,
					      0x3c,
					      0x40,
					      0x45,
					      0x4f,
					      0x60,
					      0x7f,
					      0x80,
					      0xfe,
					      0xff};
	static const guint interesting16[] =
	    {0, 1, 8, 19, 20, 21, 39, 40, 41, 0x2000, 0x1fff, 0x7fff, 0x8000, 0xfff8, 0xffff};
	guint mutations = g_rand_int_range(rand, 1, 5);

	for (guint i = 0; i < mutations; i++) {
		guint kind = g_rand_int_range(rand, 0, 7);
		gsize pos = len > 0 ? (gsize)g_rand_int_range(rand, 0, (gint32)len) : 0;

		switch (kind) {
		case 0:
			if (len > 0)
				data[pos] ^= (guint8)(1u << g_rand_int_range(rand, 0, 8));
			break;
		case 1:
			if (len > 0)
				data[pos] = (guint8)g_rand_int(rand);
			break;
		case 2:
			if (len > 0)
				data[pos] =
				    interesting8[g_rand_int_range(rand,
								  0,
								  G_N_ELEMENTS(interesting8))];
			break;
		case 3:
			if (len > 1 && pos + 1 < len) {
				guint value =
				    interesting16[g_rand_int_range(rand,
								   0,
								   G_N_ELEMENTS(interesting16))];
				data[pos] = (guint8)(value >> 8);
				data[pos + 1] = (guint8)value;
			}
			break;
		case 4:
			/* truncate */
			len = pos;
			break;
		case 5: {
			/* grow with random bytes */
			gsize extra = g_rand_int_range(rand, 1, 32);
			if (len + extra > FUZZ_MAX_LEN)
				break;
			for (gsize j = 0; j < extra; j++)
				data[len + j] = (guint8)g_rand_int(rand);
			len += extra;
			break;
		}
		case 6: {
			/* repeat a chunk, e.g. an extension header */
			gsize chunk = MIN((gsize)g_rand_int_range(rand, 1, 17), len - pos);
			if (len == 0 || len + chunk > FUZZ_MAX_LEN)
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

int
main(int argc, char **argv)
{
	g_autoptr(GPtrArray) seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GRand) rand = NULL;
	const gchar *env_seconds = g_getenv("FUZZ_SECONDS");
	const gchar *env_seed = g_getenv("FUZZ_SEED");
	gdouble seconds = env_seconds != NULL ? g_ascii_strtod(env_seconds, NULL) : 3.0;
	guint32 seed = env_seed != NULL ? (guint32)g_ascii_strtoull(env_seed, NULL, 0)
					: (guint32)g_random_int();
	gint64 deadline;
	guint8 data[FUZZ_MAX_LEN];

	for (gint i = 1; i < argc; i++)
		fuzz_load_seeds(argv[i], seeds);
	g_print("fuzz-packet: %u seeds, FUZZ_SEED=%u, %.1f s\n", seeds->len, seed, seconds);

	/* every seed and each of its prefixes */
	for (guint i = 0; i < seeds->len; i++) {
		gsize len = 0;
		const guint8 *seed_data = g_bytes_get_data(g_ptr_array_index(seeds, i), &len);
		for (gsize j = 0; j <= len; j++)
			fuzz_run(seed_data, j);
	}

	rand = g_rand_new_with_seed(seed);
	deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < deadline) {
		for (guint k = 0; k < 1000; k++) {
			gsize len;

			if (seeds->len == 0 || g_rand_int_range(rand, 0, 10) == 0) {
				len = g_rand_int_range(rand, 0, 128);
				for (gsize j = 0; j < len; j++)
					data[j] = (guint8)g_rand_int(rand);
				if (len > 0 && g_rand_boolean(rand))
					data[0] = (guint8)(g_rand_boolean(rand) ? 0x45 : 0x60);
			} else {
				GBytes *bytes =
				    g_ptr_array_index(seeds, g_rand_int_range(rand, 0, seeds->len));
				const guint8 *seed_data = g_bytes_get_data(bytes, &len);
				len = MIN(len, sizeof(data));
				memcpy(data, seed_data, len);
				len = fuzz_mutate(rand, data, len);
			}
			fuzz_run(data, len);
		}
	}
	g_print("fuzz-packet: %" G_GUINT64_FORMAT " executions\n", executions);
	return 0;
}

#endif
