/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/*
 * The ranking of the interfaces of one address family, with no I/O: the caller fills one
 * VigilRankEntry per interface, vigil_interface_rank() sets rank and reasons.
 *
 * Rank -1: not eligible (down, no carrier, no global address or no default route of the
 * family; loopback never is). Rank 0: the interface the kernel's route lookup chose
 * (carries_default), or else the one with the lowest default route metric. The others
 * follow as "who would take over": policy (preferred_index), validation (connectivity),
 * advisories, cost (metered last), quality (probe RTT), then the default route metric
 * and the ifindex.
 */
typedef struct {
	/* in */
	guint ifindex;
	const gchar *name;
	gboolean loopback;
	gboolean up;
	gboolean carrier;
	gboolean has_address;	    /* a global address of the family */
	gboolean has_default_route; /* of the family */
	guint32 metric;		    /* of that default route */
	gboolean carries_default;   /* the kernel's route lookup picked this interface */
	gint preferred_index;	    /* first matching PreferredInterfaces glob, -1 none */
	VigilConnectivity connectivity;
	gint64 rtt_usec;   /* probe round trip, -1 unknown */
	gboolean advisory; /* probes fail while the link is up */
	gboolean metered;
	/* out */
	gint rank;
	GPtrArray *reasons; /* of gchar*, in words */
} VigilRankEntry;

void
vigil_interface_rank(guint family, VigilRankEntry *entries, guint n_entries);
void
vigil_rank_entry_clear(VigilRankEntry *entry);

G_END_DECLS
