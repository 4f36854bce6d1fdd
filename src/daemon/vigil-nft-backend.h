/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-nft-plan.h"

G_BEGIN_DECLS

/* how a queue verdict reaches the kernel: the nft `queue` expression, or the xtables
 * NFQUEUE target through nft compat (what iptables-nft emits) where the kernel lacks it;
 * auto tries native first and falls back */
typedef enum {
	VIGIL_NFT_QUEUE_KIND_AUTO,
	VIGIL_NFT_QUEUE_KIND_NATIVE,
	VIGIL_NFT_QUEUE_KIND_COMPAT,
	VIGIL_NFT_QUEUE_KIND_LAST
} VigilNftQueueKind;

#define VIGIL_TYPE_NFT_QUEUE_KIND (vigil_nft_queue_kind_get_type())
GType
vigil_nft_queue_kind_get_type(void);
const gchar *
vigil_nft_queue_kind_to_string(VigilNftQueueKind kind);
VigilNftQueueKind
vigil_nft_queue_kind_from_string(const gchar *str);

#define VIGIL_TYPE_NFT_BACKEND (vigil_nft_backend_get_type())
G_DECLARE_DERIVABLE_TYPE(VigilNftBackend, vigil_nft_backend, VIGIL, NFT_BACKEND, GObject)

struct _VigilNftBackendClass {
	GObjectClass parent_class;

	/* replaces table inet vigil by what the plan describes, in one transaction: on failure
	 * the ruleset is as it was; the error names the operation the kernel refused */
	gboolean (*apply)(VigilNftBackend *self, const VigilNftPlan *plan, GError **error);
	/* deletes table inet vigil; a missing table is success */
	gboolean (*remove)(VigilNftBackend *self, GError **error);

	gpointer padding[6];
};

gboolean
vigil_nft_backend_apply(VigilNftBackend *self, const VigilNftPlan *plan, GError **error);
gboolean
vigil_nft_backend_remove(VigilNftBackend *self, GError **error);
VigilNftQueueKind
vigil_nft_backend_get_queue_kind(VigilNftBackend *self);
VigilNftQueueKind
vigil_nft_backend_get_queue_kind_in_use(VigilNftBackend *self);

/* for subclasses: record the queue implementation an applied table uses */
void
vigil_nft_backend_set_queue_kind_in_use(VigilNftBackend *self, VigilNftQueueKind kind);

G_END_DECLS
