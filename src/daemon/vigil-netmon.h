/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/*
 * VigilNetmonInterface: one interface as the network monitor last saw it, ranked. The
 * struct is immutable and reference counted: vigil_netmon_get_interfaces() hands out
 * references to the current snapshot, and the monitor makes new ones when something
 * changes, so a caller may keep one as long as it likes. Arrays indexed [2] hold IPv4 at
 * 0 and IPv6 at 1 (vigil_netmon_family_index()).
 */
typedef struct {
	guint ifindex;
	const gchar *name; /* interned */
	const gchar *kind; /* loopback, ethernet, wifi, wwan, vpn, bridge, virtual */
	const gchar
	    *operstate;	  /* up, down, dormant, lowerlayerdown, testing, notpresent, unknown */
	gboolean up;	  /* IFF_UP */
	gboolean carrier; /* IFF_LOWER_UP */
	guint mtu;
	gboolean metered;
	GStrv addresses; /* "198.18.0.1/24", IPv4 first */
	gboolean default_route[2];
	guint32 metric[2]; /* of the default route, when there is one */
	gchar *gateway[2]; /* of the default route, NULL for none or a direct route */
	gint rank[2];	   /* 0 carries the default traffic, -1 not eligible */
	GStrv reasons[2];  /* why it holds its rank, in words */
	guint64 rx_bytes;
	guint64 tx_bytes;
	gdouble rx_rate; /* bytes per second; 0 while nobody watches */
	gdouble tx_rate;
} VigilNetmonInterface;

VigilNetmonInterface *
vigil_netmon_interface_ref(VigilNetmonInterface *iface);
void
vigil_netmon_interface_unref(VigilNetmonInterface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNetmonInterface, vigil_netmon_interface_unref)

#define VIGIL_TYPE_NETMON (vigil_netmon_get_type())
G_DECLARE_FINAL_TYPE(VigilNetmon, vigil_netmon, VIGIL, NETMON, GObject)

/*
 * Signals:
 * - "changed" (no arguments): links, addresses, routes or the kernel's choice of default
 *   interface changed (debounced, after the route lookups were redone; also once after
 *   the first dumps). The connectivity checker re-checks on it.
 * - "updated" (no arguments): anything vigil_netmon_get_interfaces() returns may have
 *   changed: after "changed", after vigil_netmon_set_validation(), and with new rates.
 *   vigil_netmon_set_validation() never leads to "changed", so a checker that listens to
 *   "changed" does not re-check its own results.
 *
 * For the connectivity checker:
 * - vigil_netmon_get_interfaces(): a new reference to the current snapshot, an array of
 *   VigilNetmonInterface, best first; unref it, never change it. An interface is worth
 *   probing in a family when rank[vigil_netmon_family_index(family)] >= 0.
 * - vigil_netmon_set_validation(self, ifindex, family, state, rtt_usec): what the probes
 *   of one interface found, @family 4 or 6, @rtt_usec -1 when unknown. It orders the
 *   successors (validation, uplink advisories, round trip) and adds reasons; rank 0 stays
 *   the kernel's choice. Unknown indexes are ignored; the state goes with the interface
 *   when it goes. Until something calls it every state is VIGIL_CONNECTIVITY_UNKNOWN.
 */

guint
vigil_netmon_family_index(guint family);
VigilNetmon *
vigil_netmon_new(const gchar *const *preferred, const gchar *const *metered);
gboolean
vigil_netmon_start(VigilNetmon *self, GError **error);
void
vigil_netmon_stop(VigilNetmon *self);
GPtrArray *
vigil_netmon_get_interfaces(VigilNetmon *self);
const gchar *
vigil_netmon_lookup_name(VigilNetmon *self, guint ifindex);
void
vigil_netmon_set_validation(VigilNetmon *self,
			    guint ifindex,
			    guint family,
			    VigilConnectivity state,
			    gint64 rtt_usec);
void
vigil_netmon_set_watched(VigilNetmon *self, gboolean watched);
void
vigil_netmon_set_receive_buffer(VigilNetmon *self, guint bytes);
guint
vigil_netmon_get_overruns(VigilNetmon *self);
const gchar *
vigil_netmon_classify(const gchar *kind, guint16 type, const gchar *devtype);

G_END_DECLS
