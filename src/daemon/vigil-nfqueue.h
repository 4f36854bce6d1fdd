/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_NFQUEUE (vigil_nfqueue_get_type())
G_DECLARE_FINAL_TYPE(VigilNfqueue, vigil_nfqueue, VIGIL, NFQUEUE, GObject)

/*
 * One queued packet. @payload points into the receive buffer and is valid only during the
 * handler call: copy what a deferred verdict needs (the parsed VigilPacket is a value).
 * @hw_protocol is the ethertype in host order (0x0800 IPv4, 0x86dd IPv6), @hook the
 * netfilter hook (NF_INET_LOCAL_OUT...). @uid and @gid are the owner of the sending socket
 * when the kernel knows it; @mark, @indev and @outdev are 0 when absent.
 */
typedef struct {
	guint32 packet_id;
	guint16 hw_protocol;
	guint8 hook;
	const guint8 *payload;
	gsize payload_len;
	gboolean uid_known;
	guint32 uid;
	gboolean gid_known;
	guint32 gid;
	guint32 mark;
	guint32 indev;
	guint32 outdev;
	/* the first packet read after the main loop's poll found the queue readable: it was
	 * already queued at that poll */
	gboolean queued_before_poll;
} VigilNfqueuePacket;

/*
 * Called for each queued packet. It must give a verdict with vigil_nfqueue_verdict(), now
 * or later; until then the kernel holds the packet (and counts it against the queue
 * length), but the other packets keep flowing.
 */
typedef void (*VigilNfqueuePacketFunc)(VigilNfqueue *queue,
				       const VigilNfqueuePacket *packet,
				       gpointer user_data);

VigilNfqueue *
vigil_nfqueue_new(guint16 queue_num);
void
vigil_nfqueue_set_handler(VigilNfqueue *self, VigilNfqueuePacketFunc func, gpointer user_data);
void
vigil_nfqueue_set_reject_mark(VigilNfqueue *self, guint32 mark);
void
vigil_nfqueue_set_fail_open(VigilNfqueue *self, gboolean fail_open);
void
vigil_nfqueue_set_busy_poll(VigilNfqueue *self, guint usec);
gboolean
vigil_nfqueue_open(VigilNfqueue *self, GError **error);
void
vigil_nfqueue_close(VigilNfqueue *self);
gboolean
vigil_nfqueue_is_open(VigilNfqueue *self);
guint16
vigil_nfqueue_get_queue_num(VigilNfqueue *self);
void
vigil_nfqueue_verdict(VigilNfqueue *self, guint32 packet_id, VigilAction action);
void
vigil_nfqueue_flush(VigilNfqueue *self);
/* packets handed to the handler (or given the policy verdict when there is none); receive
 * buffer overruns (ENOBUFS: the kernel applied the queue policy to what did not fit);
 * messages that could not be parsed (see vigil-nfqueue.c for what they get) */
guint64
vigil_nfqueue_get_received(VigilNfqueue *self);
guint64
vigil_nfqueue_get_overruns(VigilNfqueue *self);
guint64
vigil_nfqueue_get_malformed(VigilNfqueue *self);

/* internal, for tests: handle one datagram as if read from the socket */
void
_vigil_nfqueue_process_message(VigilNfqueue *self, const guint8 *buf, gsize len);
/* internal, for tests: the netlink socket, or -1 */
gint
_vigil_nfqueue_get_fd(VigilNfqueue *self);

G_END_DECLS
