/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_AGENT_MANAGER (vigil_agent_manager_get_type())
G_DECLARE_FINAL_TYPE(VigilAgentManager, vigil_agent_manager, VIGIL, AGENT_MANAGER, GObject)

/* the scope of a rule made from an answer */
typedef enum {
	VIGIL_SCOPE_DESTINATION_HOST,
	VIGIL_SCOPE_DESTINATION_DOMAIN,
	VIGIL_SCOPE_DESTINATION_IP,
	VIGIL_SCOPE_DESTINATION_PORT,
	VIGIL_SCOPE_DESTINATION_ANY,
	VIGIL_SCOPE_DESTINATION_LAST
} VigilScopeDestination;

typedef enum {
	VIGIL_SCOPE_APP_EXE,
	VIGIL_SCOPE_APP_APP_ID,
	VIGIL_SCOPE_APP_UNIT,
	VIGIL_SCOPE_APP_ANY,
	VIGIL_SCOPE_APP_LAST
} VigilScopeApp;

typedef struct {
	VigilAction action;
	VigilLifetime lifetime;
	guint duration;
	VigilScopeDestination scope_destination;
	VigilScopeApp scope_app;
	gboolean pin_port;
} VigilAgentAnswer;

/* @answer is NULL when nobody answered in time (timeout, no agent left, bad answer) */
typedef void (*VigilAgentAnswerFunc)(VigilAgentManager *self,
				     const gchar *request_id,
				     const VigilAgentAnswer *answer,
				     gpointer user_data);

VigilAgentManager *
vigil_agent_manager_new(GDBusConnection *connection);
void
vigil_agent_manager_set_timeout(VigilAgentManager *self, guint seconds);
gboolean
vigil_agent_manager_register(VigilAgentManager *self,
			     const gchar *sender,
			     const gchar *path,
			     guint32 uid,
			     gboolean may_answer_system,
			     GError **error);
gboolean
vigil_agent_manager_unregister(VigilAgentManager *self,
			       const gchar *sender,
			       const gchar *path,
			       GError **error);
guint
vigil_agent_manager_get_n_agents(VigilAgentManager *self);
gboolean
vigil_agent_manager_can_ask(VigilAgentManager *self, gboolean uid_known, guint32 uid);
gchar *
vigil_agent_manager_ask(VigilAgentManager *self,
			gboolean uid_known,
			guint32 uid,
			GVariant *request,
			VigilAgentAnswerFunc func,
			gpointer user_data);
gboolean
vigil_agent_answer_parse(GVariant *dict, VigilAgentAnswer *answer, GError **error);

G_END_DECLS
