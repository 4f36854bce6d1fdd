/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-nft-backend.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_NFT_MNL (vigil_nft_mnl_get_type())
G_DECLARE_FINAL_TYPE(VigilNftMnl, vigil_nft_mnl, VIGIL, NFT_MNL, VigilNftBackend)

VigilNftBackend *
vigil_nft_mnl_new(void);
VigilNftBackend *
vigil_nft_mnl_new_with_queue_kind(VigilNftQueueKind queue_kind);

G_END_DECLS
