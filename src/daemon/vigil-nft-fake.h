/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-nft-backend.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_NFT_FAKE (vigil_nft_fake_get_type())
G_DECLARE_FINAL_TYPE(VigilNftFake, vigil_nft_fake, VIGIL, NFT_FAKE, VigilNftBackend)

VigilNftBackend *
vigil_nft_fake_new(void);
VigilNftPlan *
vigil_nft_fake_get_plan(VigilNftFake *self);
guint
vigil_nft_fake_get_apply_count(VigilNftFake *self);
guint
vigil_nft_fake_get_remove_count(VigilNftFake *self);
void
vigil_nft_fake_set_error(VigilNftFake *self, const GError *error);

G_END_DECLS
