/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-agent-manager.h"
#include "vigil-daemon.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_DBUS_SERVICE (vigil_dbus_service_get_type())
G_DECLARE_FINAL_TYPE(VigilDBusService, vigil_dbus_service, VIGIL, DBUS_SERVICE, GObject)

VigilDBusService *
vigil_dbus_service_new(VigilDaemon *daemon);
gboolean
vigil_dbus_service_start(VigilDBusService *self,
			 const gchar *address,
			 gboolean replace,
			 GError **error);
void
vigil_dbus_service_watch_connections(VigilDBusService *self);
VigilAgentManager *
vigil_dbus_service_get_agent_manager(VigilDBusService *self);

G_END_DECLS
