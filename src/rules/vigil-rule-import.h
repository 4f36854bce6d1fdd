/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-rule.h"

G_BEGIN_DECLS

GPtrArray *
vigil_rule_import_opensnitch(const gchar *data,
			     gssize len,
			     const gchar *filename,
			     GPtrArray *problems,
			     GError **error);
GPtrArray *
vigil_rule_import_opensnitch_dir(const gchar *path, GPtrArray *problems, GError **error);
GPtrArray *
vigil_rule_import_vigil(const gchar *data,
			gssize len,
			const gchar *filename,
			GPtrArray *problems,
			GError **error);

G_END_DECLS
