/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "vigil-nl-sockdiag.h"

G_BEGIN_DECLS

/*
 * The kernel's own answer to "who connected": an eBPF sock_ops program on the cgroup v2
 * root records, for every TCP connect() in the daemon's network namespace, the process
 * and thread that called it, the process's start time, their uid and gid and the time,
 * keyed by the connection's tuple, into a ring buffer the daemon maps. The SYN is queued
 * inside that same connect() call, so when the daemon reads it the record is there: read
 * from memory, without a system call, instead of a sock_diag round trip and a /proc check.
 *
 * Only what the hook saw is answered; everything else (UDP, inbound, a kernel without
 * BPF, cgroup v2 or network namespace cookies) misses and goes the sock_diag way.
 */

typedef struct _VigilConnectHook VigilConnectHook;

typedef enum {
	VIGIL_CONNECT_HOOK_NONE = 0,
	VIGIL_CONNECT_HOOK_LOOPBACK = 1 << 0, /* connections to 127.0.0.0/8 and ::1 too */
} VigilConnectHookFlags;

typedef struct {
	guint32 pid; /* the thread group, i.e. the process */
	guint32 tid; /* the thread that called connect() */
	guint32 uid;
	guint32 gid;
	guint64 age_ns;	    /* since the connect() */
	guint64 start_time; /* of the process, in clock ticks since boot, as in /proc/<pid>/stat */
} VigilConnectOwner;

/* entries older than this are not believed: the SYN is read well within it */
#define VIGIL_CONNECT_HOOK_MAX_AGE_NS (2 * G_GUINT64_CONSTANT(1000000000))

VigilConnectHook *
vigil_connect_hook_new(VigilConnectHookFlags flags, GError **error);
void
vigil_connect_hook_free(VigilConnectHook *self);
gboolean
vigil_connect_hook_lookup(VigilConnectHook *self,
			  const VigilFlowKey *key,
			  VigilConnectOwner *owner);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilConnectHook, vigil_connect_hook_free)

G_END_DECLS
