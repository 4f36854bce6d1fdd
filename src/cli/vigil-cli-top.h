/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-dbus-generated.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_CLI_TOP (vigil_cli_top_get_type())
G_DECLARE_FINAL_TYPE(VigilCliTop, vigil_cli_top, VIGIL, CLI_TOP, GObject)

VigilCliTop *
vigil_cli_top_new(VigilDBusDaemon1 *proxy, gboolean all);
gboolean
vigil_cli_top_run(VigilCliTop *self, GError **error);

G_END_DECLS
