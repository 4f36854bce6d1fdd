/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <pcap/pcap.h>

G_BEGIN_DECLS

/* the one place g_autoptr() learns about the C libraries of the daemon. pcap.h brings in
 * glibc's netinet/in.h: a file that also includes linux/in.h (the netfilter headers do)
 * must include <netinet/in.h> before those, or the two define the same structs */

typedef struct nftnl_table VigilNftnlTable;
typedef struct nftnl_chain VigilNftnlChain;
typedef struct nftnl_rule VigilNftnlRule;
typedef struct nftnl_expr VigilNftnlExpr;
typedef struct nftnl_batch VigilNftnlBatch;
typedef struct mnl_socket VigilMnlSocket;
typedef pcap_t VigilPcap;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftnlTable, nftnl_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftnlChain, nftnl_chain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftnlRule, nftnl_rule_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftnlExpr, nftnl_expr_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftnlBatch, nftnl_batch_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilMnlSocket, mnl_socket_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPcap, pcap_close)

/*
 * A file descriptor closed when it goes out of scope: `g_auto(VigilFd) fd = -1;`, then
 * `g_steal_fd(&fd)` to hand it on. GLib 2.74 has no g_autofd. errno survives the close, so
 * it can still be read after an early return.
 */
typedef gint VigilFd;

static inline void
vigil_fd_clear(VigilFd *fd)
{
	int errsv;

	if (*fd < 0)
		return;
	errsv = errno;
	g_close(*fd, NULL);
	errno = errsv;
	*fd = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilFd, vigil_fd_clear)

G_END_DECLS
