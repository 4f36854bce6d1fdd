/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-config.h"
#include "vigil-event.h"
#include "vigil-nft-backend.h"
#include "vigil-rule-set.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_DAEMON (vigil_daemon_get_type())
G_DECLARE_FINAL_TYPE(VigilDaemon, vigil_daemon, VIGIL, DAEMON, GObject)

VigilDaemon *
vigil_daemon_new(VigilConfig *config, VigilNftBackend *backend);
gboolean
vigil_daemon_start(VigilDaemon *self, GError **error);
void
vigil_daemon_stop(VigilDaemon *self);
gboolean
vigil_daemon_reload_rules(VigilDaemon *self, GError **error);
gboolean
vigil_daemon_set_mode(VigilDaemon *self, VigilMode mode, GError **error);
VigilMode
vigil_daemon_get_mode(VigilDaemon *self);
VigilRuleSet *
vigil_daemon_get_rule_set(VigilDaemon *self);
void
vigil_daemon_set_print_events_fd(VigilDaemon *self, gint fd);
GPtrArray *
vigil_daemon_get_recent_events(VigilDaemon *self, guint max);

G_END_DECLS
