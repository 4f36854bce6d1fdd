/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "vigil-packet.h"

G_BEGIN_DECLS

/*
 * The flow whose socket is looked up, seen from this host: @local is our side (the source of
 * an outbound packet, the destination of an inbound one), @remote the peer.
 *
 * @family is 4 or 6 as in VigilPacket (AF_INET and AF_INET6 are accepted too); @protocol is
 * IPPROTO_TCP or IPPROTO_UDP. Addresses are in network order (IPv4 in the first 4 bytes, the
 * rest zero), ports in host order. @ifindex is the interface the packet leaves by (or arrived
 * on), 0 when unknown: sockets bound to a device (SO_BINDTODEVICE) are only found with it.
 * @uid is the socket owner the queue reported (NFQA_UID) when @uid_known: a socket owned by
 * someone else is then never taken for this flow.
 */
typedef struct {
	guint8 protocol;
	guint8 family;
	guint8 local[16];
	guint8 remote[16];
	guint16 local_port;
	guint16 remote_port;
	gboolean uid_known;
	guint32 uid;
	guint32 ifindex;
} VigilFlowKey;

/* what the kernel says about the socket of a flow; the addresses are the socket's own, so a
 * wildcard-bound or unconnected UDP socket shows zeros where the flow had addresses */
typedef struct {
	guint32 inode; /* 0 for sockets no process holds (time-wait, orphans, kernel sockets) */
	guint32 uid;
	guint8 state;  /* TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CLOSE for unconnected UDP, ... */
	guint8 family; /* AF_INET or AF_INET6 */
	guint8 local[16];
	guint8 remote[16];
	guint16 local_port;
	guint16 remote_port;
	guint32 bound_ifindex;
	guint64 cookie;
} VigilSockdiagSocket;

typedef struct _VigilNlSockdiag VigilNlSockdiag;

void
vigil_flow_key_init_from_packet(VigilFlowKey *key, const VigilPacket *packet, gboolean outbound);
gchar *
vigil_flow_key_to_string(const VigilFlowKey *key);

VigilNlSockdiag *
vigil_nl_sockdiag_new(void);
gboolean
vigil_nl_sockdiag_open(VigilNlSockdiag *self, GError **error);
gboolean
vigil_nl_sockdiag_lookup(VigilNlSockdiag *self,
			 const VigilFlowKey *key,
			 VigilSockdiagSocket *socket,
			 GError **error);
void
vigil_nl_sockdiag_free(VigilNlSockdiag *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNlSockdiag, vigil_nl_sockdiag_free)

G_END_DECLS
