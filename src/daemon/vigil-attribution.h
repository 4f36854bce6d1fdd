/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-nl-sockdiag.h"
#include "vigil-process.h"

G_BEGIN_DECLS

/*
 * Which process made a flow. On the main loop, per queued packet:
 *
 *   process = vigil_attribution_lookup(attribution, &key, &need_scan);
 *   if (process == NULL && need_scan)
 *           vigil_attribution_lookup_async(attribution, &key, cancellable, cb, data);
 *
 * lookup() is the fast path (one sock_diag request and a verified cache or probe hit, a few
 * microseconds, never blocking); the async call holds only that flow while a worker thread
 * scans /proc. NULL without need_scan, or VIGIL_ERROR_NOT_FOUND from the async call, means
 * unknown for good: the socket is gone, or no process holds it. A process that is not
 * certainly the holder is never returned, and a record is never returned for a pid whose
 * process has been replaced (start time, and /proc dirfds that pin the process).
 *
 * A socket held by several processes (inherited over fork) is attributed to the newest
 * holder: see vigil-attribution.c for why.
 */

#define VIGIL_TYPE_ATTRIBUTION (vigil_attribution_get_type())
G_DECLARE_FINAL_TYPE(VigilAttribution, vigil_attribution, VIGIL, ATTRIBUTION, GObject)

#define VIGIL_ATTRIBUTION_MAX_PROCESSES_DEFAULT 4096
#define VIGIL_ATTRIBUTION_MAX_INODES_DEFAULT	65536

/* counters since start, and the cache sizes now */
typedef struct {
	guint64 lookups;     /* vigil_attribution_lookup(), direct or through the async call */
	guint64 hook_hits;   /* answered by the kernel connect hook and a cached record */
	guint64 cache_hits;  /* answered from the inode map (verified) */
	guint64 probe_hits;  /* answered by probing the fds of known processes */
	guint64 scans;	     /* /proc scans run in the worker thread */
	guint64 full_scans;  /* of them, scans of every process */
	guint64 socket_gone; /* sock_diag had no socket (closed, or not ours): unknown */
	guint64 unknown;     /* answered unknown, socket_gone included */
	guint64 records_loaded;
	guint64 proc_events;
	guint64 overruns; /* proc connector ENOBUFS, each followed by a resync */
	guint processes;  /* cached now */
	guint inodes;	  /* cached now */
	guint open_dirfds;
	guint pending;		 /* async lookups waiting for a scan */
	gboolean proc_connector; /* proc events are being received */
	gboolean connect_hook;	 /* the kernel connect hook is attached */
} VigilAttributionStats;

typedef enum {
	VIGIL_ATTRIBUTION_LOOKUP_NONE = 0,
	/* the flow's packet was already queued when the main loop last polled (the first one
	 * read after it), and the caller runs at the default priority: proc events older than
	 * the packet were visible to that poll */
	VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL = 1 << 0,
} VigilAttributionLookupFlags;

VigilAttribution *
vigil_attribution_new(void);
void
vigil_attribution_set_limits(VigilAttribution *self, guint max_processes, guint max_inodes);
void
vigil_attribution_set_use_proc_connector(VigilAttribution *self, gboolean use_proc_connector);
void
vigil_attribution_set_use_connect_hook(VigilAttribution *self, gboolean use_connect_hook);
void
vigil_attribution_set_loopback(VigilAttribution *self, gboolean loopback);
gboolean
vigil_attribution_start(VigilAttribution *self, GError **error);

VigilProcess *
vigil_attribution_lookup(VigilAttribution *self, const VigilFlowKey *key, gboolean *need_scan);
VigilProcess *
vigil_attribution_lookup_full(VigilAttribution *self,
			      const VigilFlowKey *key,
			      VigilAttributionLookupFlags flags,
			      gboolean *need_scan);
void
vigil_attribution_lookup_async(VigilAttribution *self,
			       const VigilFlowKey *key,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
VigilProcess *
vigil_attribution_lookup_finish(VigilAttribution *self, GAsyncResult *res, GError **error);

VigilProcess *
vigil_attribution_get_cached_process(VigilAttribution *self, guint32 pid);
void
vigil_attribution_get_stats(VigilAttribution *self, VigilAttributionStats *stats);

G_END_DECLS
