/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilWatch"

#include "config.h"

#include "vigil-watch.h"

/**
 * vigil_watch_fd:
 * @fd: a non-blocking file descriptor
 * @condition: what to wait for
 * @func: called on the default main context when @condition holds
 * @user_data: for @func
 *
 * g_unix_fd_add() for busy sockets. GLib blocks a non-recursive source while it is
 * dispatched and, on unblocking, adds its fd back to the poll set, which wakes the main
 * context through its eventfd: one extra loop iteration and two system calls for every
 * packet, event or verdict. Our callbacks never run the main loop themselves, so the source
 * may recurse and is never blocked.
 *
 * Returns: the source id, for g_source_remove()
 */
guint
vigil_watch_fd(gint fd, GIOCondition condition, GUnixFDSourceFunc func, gpointer user_data)
{
	g_autoptr(GSource) source = g_unix_fd_source_new(fd, condition);

	g_source_set_can_recurse(source, TRUE);
	g_source_set_callback(source, (GSourceFunc)(void (*)(void))func, user_data, NULL);
	return g_source_attach(source, NULL);
}
