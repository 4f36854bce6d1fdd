/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-agent-manager.h"
#include "vigil-config.h"
#include "vigil-connection-table.h"
#include "vigil-event.h"
#include "vigil-netmon.h"
#include "vigil-nft-backend.h"
#include "vigil-portal-checker.h"
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
VigilAction
vigil_daemon_get_default_action(VigilDaemon *self);
gboolean
vigil_daemon_set_default_action(VigilDaemon *self, VigilAction action, GError **error);
guint
vigil_daemon_get_prompt_timeout(VigilDaemon *self);
gboolean
vigil_daemon_set_prompt_timeout(VigilDaemon *self, guint seconds, GError **error);
GVariant *
vigil_daemon_get_stats(VigilDaemon *self);
gchar *
vigil_daemon_add_rule(VigilDaemon *self, VigilRule *rule, GError **error);
gboolean
vigil_daemon_update_rule(VigilDaemon *self, const gchar *id, GVariant *changes, GError **error);
gboolean
vigil_daemon_remove_rule(VigilDaemon *self, const gchar *id, GError **error);
GPtrArray *
vigil_daemon_import_rules(VigilDaemon *self,
			  const gchar *format,
			  const gchar *contents,
			  GPtrArray *problems,
			  GError **error);
gchar *
vigil_daemon_export_rules(VigilDaemon *self, gboolean include_managed);
gboolean
vigil_daemon_save_rules(VigilDaemon *self, gboolean force, GError **error);
void
vigil_daemon_set_agent_manager(VigilDaemon *self, VigilAgentManager *agents);
VigilConnectionTable *
vigil_daemon_get_connection_table(VigilDaemon *self);
VigilNetmon *
vigil_daemon_get_netmon(VigilDaemon *self);
void
vigil_daemon_set_watched(VigilDaemon *self, gboolean watched);
void
vigil_daemon_refresh_connections(VigilDaemon *self);
void
vigil_daemon_refresh_connections_async(VigilDaemon *self,
				       GAsyncReadyCallback callback,
				       gpointer user_data);
gboolean
vigil_daemon_refresh_connections_finish(VigilDaemon *self, GAsyncResult *res, GError **error);
GVariant *
vigil_daemon_get_connections(VigilDaemon *self, guint32 uid, gboolean all, const gchar *app);
GVariant *
vigil_daemon_get_apps(VigilDaemon *self, guint32 uid, gboolean all);
gboolean
vigil_daemon_check_connectivity(VigilDaemon *self, const gchar *ifname, GError **error);
VigilPortalChecker *
vigil_daemon_get_portal_checker(VigilDaemon *self);

G_END_DECLS
