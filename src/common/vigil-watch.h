/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-unix.h>

G_BEGIN_DECLS

guint
vigil_watch_fd(gint fd, GIOCondition condition, GUnixFDSourceFunc func, gpointer user_data);

G_END_DECLS
