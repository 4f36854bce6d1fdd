/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNlSockdiag"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-nl-sockdiag.h"

/*
 * NETLINK_SOCK_DIAG exact lookups: one request names the flow, the kernel answers with the
 * one socket its own demultiplexer would pick, or ENOENT. The kernel handles the request
 * inside sendmsg(), so the answer is already queued when it returns and the socket can stay
 * non-blocking; a lookup is a few microseconds and runs on the main loop.
 *
 * TCP: inet_diag_find_one_icsk() reads id.src/sport as our side and finds SYN_SENT sockets
 * too (connect() hashes them before the SYN leaves), then listeners for an inbound SYN.
 * UDP: udp_dump_one() passes id.src/sport to the receive lookup as the packet *source*
 * ("swapped for historical reasons"), and that lookup scores wildcard-bound and unconnected
 * sockets, so asking "from remote to local" finds connected, unconnected and 0.0.0.0/::
 * sockets in one go. Other orders are tried in case a kernel fixes the swap, and every answer
 * is checked against the flow before it is believed.
 */

struct _VigilNlSockdiag {
	struct mnl_socket *nl;
	guint32 portid;
	guint32 seq;
	guint8 *buf; /* MNL_SOCKET_BUFFER_SIZE */
};

typedef struct {
	const VigilFlowKey *key;
	gboolean found;
	VigilSockdiagSocket *socket;
} VigilSockdiagReply;

typedef struct {
	const guint8 *src;
	guint16 sport;
	const guint8 *dst;
	guint16 dport;
} VigilSockdiagAttempt;

static const guint8 vigil_sockdiag_zero[16] = {0};

static gint
vigil_flow_key_get_af(const VigilFlowKey *key)
{
	if (key->family == 4 || key->family == AF_INET)
		return AF_INET;
	if (key->family == 6 || key->family == AF_INET6)
		return AF_INET6;
	return AF_UNSPEC;
}

static gsize
vigil_sockdiag_address_len(gint af)
{
	return af == AF_INET ? 4 : 16;
}

/**
 * vigil_flow_key_init_from_packet:
 * @key: the key to fill
 * @packet: a parsed packet
 * @outbound: %TRUE when the packet leaves this host (its source is the local side)
 *
 * Fills @key from @packet; the uid and interface are left unknown for the caller to set.
 */
void
vigil_flow_key_init_from_packet(VigilFlowKey *key, const VigilPacket *packet, gboolean outbound)
{
	g_return_if_fail(key != NULL);
	g_return_if_fail(packet != NULL);

	memset(key, 0, sizeof(*key));
	key->protocol = packet->protocol;
	key->family = packet->family;
	memcpy(key->local, outbound ? packet->src : packet->dst, sizeof(key->local));
	memcpy(key->remote, outbound ? packet->dst : packet->src, sizeof(key->remote));
	key->local_port = outbound ? packet->sport : packet->dport;
	key->remote_port = outbound ? packet->dport : packet->sport;
}

/**
 * vigil_flow_key_to_string:
 * @key: a flow key
 *
 * Returns: (transfer full): "udp 198.18.0.1:5353 -> 198.18.0.2:53" (IPv6 in brackets)
 */
gchar *
vigil_flow_key_to_string(const VigilFlowKey *key)
{
	gchar local[VIGIL_PACKET_ADDRESS_STRLEN];
	gchar remote[VIGIL_PACKET_ADDRESS_STRLEN];
	guint family;
	const gchar *proto;

	g_return_val_if_fail(key != NULL, NULL);

	family = vigil_flow_key_get_af(key) == AF_INET6 ? 6 : 4;
	if (vigil_packet_format_address(family, key->local, local, sizeof(local)) == NULL)
		g_strlcpy(local, "?", sizeof(local));
	if (vigil_packet_format_address(family, key->remote, remote, sizeof(remote)) == NULL)
		g_strlcpy(remote, "?", sizeof(remote));
	if (key->protocol == IPPROTO_TCP)
		proto = "tcp";
	else if (key->protocol == IPPROTO_UDP)
		proto = "udp";
	else
		proto = "?";
	if (family == 6) {
		return g_strdup_printf("%s [%s]:%u -> [%s]:%u",
				       proto,
				       local,
				       key->local_port,
				       remote,
				       key->remote_port);
	}
	return g_strdup_printf("%s %s:%u -> %s:%u",
			       proto,
			       local,
			       key->local_port,
			       remote,
			       key->remote_port);
}

VigilNlSockdiag *
vigil_nl_sockdiag_new(void)
{
	VigilNlSockdiag *self = g_new0(VigilNlSockdiag, 1);

	self->buf = g_malloc(MNL_SOCKET_BUFFER_SIZE);
	return self;
}

void
vigil_nl_sockdiag_free(VigilNlSockdiag *self)
{
	if (self == NULL)
		return;
	if (self->nl != NULL)
		mnl_socket_close(self->nl);
	g_free(self->buf);
	g_free(self);
}

/**
 * vigil_nl_sockdiag_open:
 * @self: a #VigilNlSockdiag
 * @error: a #GError
 *
 * Opens the NETLINK_SOCK_DIAG socket, non-blocking, in the caller's network namespace: the
 * one whose sockets are looked up.
 */
gboolean
vigil_nl_sockdiag_open(VigilNlSockdiag *self, GError **error)
{
	g_autoptr(VigilMnlSocket) nl = NULL;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(self->nl == NULL, FALSE);

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nl == NULL)
		return vigil_error_set_errno(error, errno, "failed to open sock_diag");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return vigil_error_set_errno(error, errno, "failed to bind sock_diag");
	self->portid = mnl_socket_get_portid(nl);
	self->seq = g_random_int();
	self->nl = g_steal_pointer(&nl);
	return TRUE;
}

/* @addr (16 bytes, network order) is the flow's address, or zero (a wildcard) */
static gboolean
vigil_sockdiag_address_matches(const guint8 *socket_addr, const guint8 *flow_addr, gsize len)
{
	if (memcmp(socket_addr, vigil_sockdiag_zero, len) == 0)
		return TRUE;
	return memcmp(socket_addr, flow_addr, len) == 0;
}

/* the socket must be the one that can have sent (or will receive) this flow */
static gboolean
vigil_sockdiag_socket_matches(const VigilSockdiagSocket *socket, const VigilFlowKey *key)
{
	gsize len = vigil_sockdiag_address_len(vigil_flow_key_get_af(key));
	guint8 local[16] = {0};
	guint8 remote[16] = {0};

	if (socket->local_port != key->local_port)
		return FALSE;

	/* a dual-stack AF_INET6 socket reports an IPv4 flow as ::ffff:a.b.c.d */
	if (socket->family == AF_INET6 && len == 4) {
		static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(socket->local, mapped, 12) == 0)
			memcpy(local, socket->local + 12, 4);
		else if (memcmp(socket->local, vigil_sockdiag_zero, 16) != 0)
			return FALSE;
		if (memcmp(socket->remote, mapped, 12) == 0)
			memcpy(remote, socket->remote + 12, 4);
		else if (memcmp(socket->remote, vigil_sockdiag_zero, 16) != 0)
			return FALSE;
	} else {
		memcpy(local, socket->local, len);
		memcpy(remote, socket->remote, len);
	}
	if (!vigil_sockdiag_address_matches(local, key->local, len))
		return FALSE;

	/* a listener (inbound SYN) or an unconnected UDP socket has no peer */
	if (socket->remote_port == 0)
		return memcmp(remote, vigil_sockdiag_zero, len) == 0;
	if (socket->remote_port != key->remote_port)
		return FALSE;
	return memcmp(remote, key->remote, len) == 0;
}

static int
vigil_nl_sockdiag_socket_cb(const struct nlmsghdr *nlh, void *data)
{
	VigilSockdiagReply *reply = data;
	const struct inet_diag_msg *msg;
	VigilSockdiagSocket *socket = reply->socket;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
		return MNL_CB_OK;
	msg = mnl_nlmsg_get_payload(nlh);
	memset(socket, 0, sizeof(*socket));
	socket->inode = msg->idiag_inode;
	socket->uid = msg->idiag_uid;
	socket->state = msg->idiag_state;
	socket->family = msg->idiag_family;
	socket->local_port = g_ntohs(msg->id.idiag_sport);
	socket->remote_port = g_ntohs(msg->id.idiag_dport);
	memcpy(socket->local, msg->id.idiag_src, 16);
	memcpy(socket->remote, msg->id.idiag_dst, 16);
	socket->bound_ifindex = msg->id.idiag_if;
	socket->cookie = ((guint64)msg->id.idiag_cookie[1] << 32) | msg->id.idiag_cookie[0];
	if (msg->idiag_family == AF_INET) {
		memset(socket->local + 4, 0, 12);
		memset(socket->remote + 4, 0, 12);
	}
	reply->found = TRUE;
	return MNL_CB_OK;
}

/* one exact request; FALSE + G_IO_ERROR_NOT_FOUND when the kernel has no such socket */
static gboolean
vigil_nl_sockdiag_request(VigilNlSockdiag *self,
			  const VigilFlowKey *key,
			  const guint8 *src,
			  guint16 sport,
			  const guint8 *dst,
			  guint16 dport,
			  VigilSockdiagSocket *socket,
			  GError **error)
{
	gint af = vigil_flow_key_get_af(key);
	gsize len = vigil_sockdiag_address_len(af);
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	VigilSockdiagReply reply = {.key = key, .socket = socket};
	guint32 seq = ++self->seq;

	nlh = mnl_nlmsg_put_header(self->buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)af;
	req->sdiag_protocol = key->protocol;
	req->idiag_states = G_MAXUINT32;
	req->id.idiag_sport = g_htons(sport);
	req->id.idiag_dport = g_htons(dport);
	memcpy(req->id.idiag_src, src, len);
	memcpy(req->id.idiag_dst, dst, len);
	req->id.idiag_if = key->ifindex;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	if (mnl_socket_sendto(self->nl, nlh, nlh->nlmsg_len) < 0)
		return vigil_error_set_errno(error, errno, "failed to send sock_diag");

	/* skip answers to earlier requests that were given up on */
	for (guint i = 0; i < 8; i++) {
		ssize_t n = mnl_socket_recvfrom(self->nl, self->buf, MNL_SOCKET_BUFFER_SIZE);
		gint ret;

		if (n < 0) {
			gint errsv = errno;
			if (errsv == EINTR)
				continue;
			if (errsv == EAGAIN) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_TIMED_OUT,
						    "no answer from sock_diag");
				return FALSE;
			}
			return vigil_error_set_errno(error, errsv, "failed to receive sock_diag");
		}
		ret = mnl_cb_run(self->buf,
				 (size_t)n,
				 seq,
				 self->portid,
				 vigil_nl_sockdiag_socket_cb,
				 &reply);
		if (ret < 0) {
			gint errsv = errno;
			if (errsv == ESRCH || errsv == EPROTO)
				continue;
			if (errsv == ENOENT) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_NOT_FOUND,
						    "no such socket");
				return FALSE;
			}
			return vigil_error_set_errno(error, errsv, "sock_diag failed");
		}
		if (reply.found)
			return TRUE;
	}
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no answer from sock_diag");
	return FALSE;
}

/* FALSE + G_IO_ERROR_NOT_FOUND (nothing or a mismatch), or another error */
static gboolean
vigil_nl_sockdiag_try(VigilNlSockdiag *self,
		      const VigilFlowKey *key,
		      const guint8 *src,
		      guint16 sport,
		      const guint8 *dst,
		      guint16 dport,
		      VigilSockdiagSocket *socket,
		      GError **error)
{
	if (!vigil_nl_sockdiag_request(self, key, src, sport, dst, dport, socket, error))
		return FALSE;
	if (!vigil_sockdiag_socket_matches(socket, key)) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "the kernel answered with another socket");
		return FALSE;
	}
	return TRUE;
}

/**
 * vigil_nl_sockdiag_lookup:
 * @self: an open #VigilNlSockdiag
 * @key: the flow
 * @socket: (out caller-allocates): the socket
 * @error: a #GError
 *
 * Finds the socket of @key: for TCP the exact connection (or the listener of an inbound
 * SYN); for UDP the connected socket, else the unconnected one bound to the local port
 * (to the local address or to the wildcard).
 *
 * Returns: %FALSE with %VIGIL_ERROR_NOT_FOUND when the kernel has no such socket (closed
 * already, or owned by someone other than the queue's uid)
 */
gboolean
vigil_nl_sockdiag_lookup(VigilNlSockdiag *self,
			 const VigilFlowKey *key,
			 VigilSockdiagSocket *socket,
			 GError **error)
{
	g_autoptr(GError) error_local = NULL;
	VigilSockdiagAttempt attempts[4];
	guint n_attempts;
	gint af;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(socket != NULL, FALSE);

	if (self->nl == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_FAILED,
				    "sock_diag is not open");
		return FALSE;
	}
	af = vigil_flow_key_get_af(key);
	if (af == AF_UNSPEC || (key->protocol != IPPROTO_TCP && key->protocol != IPPROTO_UDP)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "no socket lookup for protocol %u family %u",
			    key->protocol,
			    key->family);
		return FALSE;
	}

	if (key->protocol == IPPROTO_TCP) {
		attempts[0] = (VigilSockdiagAttempt){key->local,
						     key->local_port,
						     key->remote,
						     key->remote_port};
		n_attempts = 1;
	} else {
		/* the receive lookup, from the peer to us, finds wildcards and unconnected
		 * sockets; for a kernel that ever matches exactly: the flow as it is, then an
		 * unconnected socket on the wildcard address, then one on the local address */
		attempts[0] = (VigilSockdiagAttempt){key->remote,
						     key->remote_port,
						     key->local,
						     key->local_port};
		attempts[1] = (VigilSockdiagAttempt){key->local,
						     key->local_port,
						     key->remote,
						     key->remote_port};
		attempts[2] = (VigilSockdiagAttempt){vigil_sockdiag_zero,
						     key->local_port,
						     vigil_sockdiag_zero,
						     0};
		attempts[3] =
		    (VigilSockdiagAttempt){key->local, key->local_port, vigil_sockdiag_zero, 0};
		n_attempts = 4;
	}
	for (guint i = 0; i < n_attempts; i++) {
		g_clear_error(&error_local);
		if (vigil_nl_sockdiag_try(self,
					  key,
					  attempts[i].src,
					  attempts[i].sport,
					  attempts[i].dst,
					  attempts[i].dport,
					  socket,
					  &error_local))
			break;
		if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			break;
	}
	if (error_local != NULL) {
		if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_NOT_FOUND,
					    error_local->message);
			return FALSE;
		}
		g_propagate_prefixed_error(error,
					   g_steal_pointer(&error_local),
					   "failed to look up the socket: ");
		return FALSE;
	}
	if (key->uid_known && socket->uid != key->uid) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_FOUND,
			    "the socket belongs to uid %u, the packet to uid %u",
			    socket->uid,
			    key->uid);
		return FALSE;
	}
	return TRUE;
}
