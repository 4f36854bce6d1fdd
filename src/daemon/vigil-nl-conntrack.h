/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "vigil-connection-table.h"

G_BEGIN_DECLS

/* receive buffer of the event socket (SO_RCVBUFFORCE, else as much as SO_RCVBUF allows) */
#define VIGIL_NL_CONNTRACK_RCVBUF      (16 * 1024 * 1024)
#define VIGIL_NL_CONNTRACK_ACCT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_acct"

#define VIGIL_TYPE_NL_CONNTRACK (vigil_nl_conntrack_get_type())
G_DECLARE_FINAL_TYPE(VigilNlConntrack, vigil_nl_conntrack, VIGIL, NL_CONNTRACK, GObject)

VigilNlConntrack *
vigil_nl_conntrack_new(VigilConnectionTable *table);
void
vigil_nl_conntrack_set_receive_buffer(VigilNlConntrack *self, guint bytes);
void
vigil_nl_conntrack_set_refresh_interval(VigilNlConntrack *self, guint seconds);
void
vigil_nl_conntrack_set_updates(VigilNlConntrack *self, gboolean updates);
void
vigil_nl_conntrack_set_events(VigilNlConntrack *self, gboolean events);
void
vigil_nl_conntrack_expect(VigilNlConntrack *self);
gboolean
vigil_nl_conntrack_start(VigilNlConntrack *self, GError **error);
void
vigil_nl_conntrack_stop(VigilNlConntrack *self);
gboolean
vigil_nl_conntrack_dump(VigilNlConntrack *self, GError **error);
void
vigil_nl_conntrack_resync(VigilNlConntrack *self);
gboolean
vigil_nl_conntrack_is_dumping(VigilNlConntrack *self);
gboolean
vigil_nl_conntrack_has_accounting(VigilNlConntrack *self);
guint64
vigil_nl_conntrack_get_n_overruns(VigilNlConntrack *self);
guint64
vigil_nl_conntrack_get_n_malformed(VigilNlConntrack *self);

gboolean
vigil_nl_conntrack_enable_accounting(const gchar *path, GError **error);
gboolean
vigil_nl_conntrack_parse(const guint8 *data, gsize len, VigilConntrackEntry *entry, GError **error);

G_END_DECLS
