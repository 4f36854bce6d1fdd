/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	VIGIL_PROC_EVENT_FORK,	  /* @pid was forked by @parent_pid (processes, not threads) */
	VIGIL_PROC_EVENT_EXEC,	  /* @pid replaced its program */
	VIGIL_PROC_EVENT_UID,	  /* @pid changed its real or effective uid */
	VIGIL_PROC_EVENT_EXIT,	  /* @pid (its main thread) exited */
	VIGIL_PROC_EVENT_OVERRUN, /* the kernel dropped events (ENOBUFS): resynchronise */
} VigilProcEventKind;

typedef struct {
	VigilProcEventKind kind;
	guint32 pid;	      /* thread group id, as in the initial pid namespace */
	guint32 parent_pid;   /* for a fork */
	guint64 timestamp_ns; /* CLOCK_BOOTTIME of the event, 0 for an overrun */
} VigilProcEvent;

/* called on the main context for each event, in the order the kernel sent them */
typedef void (*VigilProcConnectorFunc)(const VigilProcEvent *event, gpointer user_data);

typedef struct _VigilProcConnector VigilProcConnector;

VigilProcConnector *
vigil_proc_connector_new(VigilProcConnectorFunc func, gpointer user_data);
gboolean
vigil_proc_connector_start(VigilProcConnector *self, GError **error);
guint
vigil_proc_connector_dispatch(VigilProcConnector *self);
gboolean
vigil_proc_connector_is_running(VigilProcConnector *self);
gboolean
vigil_proc_connector_was_empty(VigilProcConnector *self);
void
vigil_proc_connector_free(VigilProcConnector *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilProcConnector, vigil_proc_connector_free)

G_END_DECLS
