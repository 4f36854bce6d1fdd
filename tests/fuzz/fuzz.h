/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

/* what each harness defines, for libFuzzer or the standalone driver of fuzz-main.c */
int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

/* the error a refused input gives: set, with a message that is valid UTF-8 and not empty */
void
fuzz_assert_error(const GError *error);
