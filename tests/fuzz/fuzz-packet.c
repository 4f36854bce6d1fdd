/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes vigil_packet_parse().
 *
 * With gcc this is linked with the standalone driver in fuzz-main.c and runs as the meson
 * test `fuzz-packet` (suites unit and fuzz) for a few seconds.
 *
 * With clang, meson also builds `fuzz-packet-libfuzzer` (-DFUZZ_LIBFUZZER
 * -fsanitize=fuzzer, which leaves fuzz-main.c empty). For useful coverage, instrument the
 * library too:
 *
 *   CC=clang meson setup _build/fuzz -Db_sanitize=address,undefined -Db_lundef=false \
 *     -Dc_args=-fsanitize=fuzzer-no-link
 *   meson compile -C _build/fuzz tests/fuzz/fuzz-packet-libfuzzer
 *   cp -r tests/fuzz/corpus/packet /tmp/corpus-packet
 *   _build/fuzz/tests/fuzz/fuzz-packet-libfuzzer -max_total_time=600 /tmp/corpus-packet
 *
 * Copy new interesting inputs back into tests/fuzz/corpus/packet/ when they find bugs.
 */

#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "vigil-error.h"
#include "vigil-packet.h"

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
