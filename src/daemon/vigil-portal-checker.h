/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-config.h"
#include "vigil-enums.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_PORTAL_CHECKER (vigil_portal_checker_get_type())
G_DECLARE_FINAL_TYPE(VigilPortalChecker, vigil_portal_checker, VIGIL, PORTAL_CHECKER, GObject)

VigilPortalChecker *
vigil_portal_checker_new(const VigilConfig *config);
gboolean
vigil_portal_checker_load(VigilPortalChecker *self, GError **error);
gboolean
vigil_portal_checker_get_enabled(VigilPortalChecker *self);
void
vigil_portal_checker_check(VigilPortalChecker *self,
			   const gchar *ifname,
			   guint ifindex,
			   guint family);
gboolean
vigil_portal_checker_request(VigilPortalChecker *self,
			     const gchar *ifname,
			     guint ifindex,
			     guint family);
void
vigil_portal_checker_forget(VigilPortalChecker *self, guint ifindex, guint family);
VigilConnectivity
vigil_portal_checker_get_state(VigilPortalChecker *self,
			       guint ifindex,
			       guint family,
			       gint64 *rtt_usec);
GVariant *
vigil_portal_checker_to_variant(VigilPortalChecker *self);

G_END_DECLS
