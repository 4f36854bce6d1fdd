/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes the nfnetlink_queue message parser of VigilNfqueue (no socket: verdicts are built
 * and discarded) and vigil_packet_parse() on whatever payload it hands over. Built and run
 * like fuzz-packet.c; the libFuzzer variant is `fuzz-nfqueue-libfuzzer`, its seeds are in
 * tests/fuzz/corpus/nfqueue (host byte order netlink, little-endian).
 */

#include "config.h"

#include "fuzz.h"
#include "vigil-nfqueue.h"
#include "vigil-packet.h"

static const guint8 *fuzz_data = NULL;
static gsize fuzz_size = 0;

static void
fuzz_handler_cb(VigilNfqueue *queue, const VigilNfqueuePacket *packet, gpointer user_data)
{
	static guint count = 0;
	VigilPacket parsed;

	/* the payload lies inside the message */
	g_assert_true(packet->payload >= fuzz_data);
	g_assert_true(packet->payload + packet->payload_len <= fuzz_data + fuzz_size);
	if (packet->payload_len > 0)
		vigil_packet_parse(packet->payload, packet->payload_len, &parsed, NULL);
	vigil_nfqueue_verdict(queue, packet->packet_id, VIGIL_ACTION_ALLOW + (count++ % 3));
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	static VigilNfqueue *queue = NULL;

	if (queue == NULL) {
		queue = vigil_nfqueue_new(0);
		vigil_nfqueue_set_handler(queue, fuzz_handler_cb, NULL);
		vigil_nfqueue_set_reject_mark(queue, 0x100);
	}
	fuzz_data = data;
	fuzz_size = size;
	_vigil_nfqueue_process_message(queue, data, size);
	return 0;
}
