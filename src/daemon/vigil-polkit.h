/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void
vigil_polkit_get_caller_uid_async(GDBusMethodInvocation *invocation,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean
vigil_polkit_get_caller_uid_finish(GAsyncResult *res, guint32 *uid, GError **error);
void
vigil_polkit_check_async(GDBusMethodInvocation *invocation,
			 const gchar *action_id,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gboolean
vigil_polkit_check_finish(GAsyncResult *res, GError **error);

G_END_DECLS
