/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A standalone driver for the libFuzzer harnesses in this directory, so that they build and
 * run with gcc in CI: it runs every seed, every prefix of every seed, then random and
 * mutated inputs for FUZZ_SECONDS (default 3) seconds. FUZZ_SEED repeats a run. Every input
 * is an exact-size allocation, so that ASan or valgrind see any read past its end.
 *
 * With -DFUZZ_LIBFUZZER libFuzzer provides main() and this file only makes criticals fatal
 * as the standalone driver does (warnings are what the code says of bad input), and gives
 * the harnesses the checks of fuzz.h.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* a critical is a caller's bug that the input found: as fatal as a crash, and by abort(),
 * which libFuzzer catches to keep the input (GLib's own fatal messages end in a trap) */
static GLogWriterOutput
fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	GLogWriterOutput ret = g_log_writer_default(level, fields, n_fields, data);

	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0)
		abort();
	return ret;
}

static void
fuzz_init_log(void)
{
	g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}

void
fuzz_assert_error(const GError *error)
{
	g_assert_nonnull(error);
	g_assert_true(error->message[0] != '\0');
	g_assert_true(g_utf8_validate(error->message, -1, NULL));
}

#ifndef FUZZ_LIBFUZZER

#define FUZZ_MAX_LEN 1024

static guint64 executions = 0;

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

static void
fuzz_put_be(guint8 *data, gsize len, gsize pos, guint32 value, guint width)
{
	for (guint i = 0; i < width && pos + i < len; i++)
		data[pos + i] = (guint8)(value >> (8 * (width - 1 - i)));
}

/* a few of libFuzzer's mutations: bit flips, bytes, interesting 16 and 32 bit values in
 * either byte order (IP headers are big-endian, netlink lengths host order), truncation,
 * growth and repeated chunks (extension headers, attributes) */
static gsize
fuzz_mutate(GRand *rand, guint8 *data, gsize len)
{
	static const guint32 interesting[] = {
	    0,	    1,	    4,	    8,		16,	    19,		20,	   40,	   0x2c,
	    0x3b,   0x45,   0x60,   0x7f,	0x80,	    0xff,	0x1fff,	   0x2000, 0x7fff,
	    0x8000, 0xfff8, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};
	guint mutations = g_rand_int_range(rand, 1, 5);

	for (guint i = 0; i < mutations; i++) {
		guint kind = g_rand_int_range(rand, 0, 7);
		gsize pos = len > 0 ? (gsize)g_rand_int_range(rand, 0, (gint32)len) : 0;
		guint32 value = interesting[g_rand_int_range(rand, 0, G_N_ELEMENTS(interesting))];

		if (len == 0 && kind != 5)
			continue;
		switch (kind) {
		case 0:
			data[pos] ^= (guint8)(1u << g_rand_int_range(rand, 0, 8));
			break;
		case 1:
			data[pos] = (guint8)g_rand_int(rand);
			break;
		case 2:
			fuzz_put_be(data, len, pos, value, g_rand_boolean(rand) ? 1 : 2);
			break;
		case 3:
			if (g_rand_boolean(rand))
				fuzz_put_be(data, len, pos, value, 4);
			else if (pos + 4 <= len)
				memcpy(data + pos, &value, 4);
			break;
		case 4:
			len = pos;
			break;
		case 5: {
			gsize extra = g_rand_int_range(rand, 1, 32);
			if (len + extra > FUZZ_MAX_LEN)
				break;
			for (gsize j = 0; j < extra; j++)
				data[len + j] = (guint8)g_rand_int(rand);
			len += extra;
			break;
		}
		case 6: {
			gsize chunk = MIN((gsize)g_rand_int_range(rand, 1, 17), len - pos);
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
	g_autofree gchar *prgname = g_path_get_basename(argv[0]);
	gint64 deadline;
	guint8 data[FUZZ_MAX_LEN];

	fuzz_init_log();
	for (gint i = 1; i < argc; i++)
		fuzz_load_seeds(argv[i], seeds);
	g_print("%s: %u seeds, FUZZ_SEED=%u, %.1f s\n", prgname, seeds->len, seed, seconds);

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
	g_print("%s: %" G_GUINT64_FORMAT " executions\n", prgname, executions);
	return 0;
}

#else

int
LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init_log();
	return 0;
}

#endif
