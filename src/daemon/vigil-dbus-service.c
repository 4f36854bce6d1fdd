/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilDBusService"

#include "config.h"

#include "vigil-config.h"
#include "vigil-dbus-generated.h"
#include "vigil-dbus-service.h"
#include "vigil-error.h"
#include "vigil-names.h"
#include "vigil-polkit.h"

/* Stats is refreshed at most this often, and only while something changes */
#define STATS_INTERVAL_S 1

/* ConnectionsChanged goes out at most this often, and only after a change */
#define CONNECTIONS_INTERVAL_MS 300

/* InterfacesChanged goes out at most this often, and only after a change */
#define INTERFACES_INTERVAL_MS 300

typedef struct {
	gchar *sender;
	guint32 uid;
	gboolean all;
	guint watch_id;
} VigilSubscriber;

struct _VigilDBusService {
	GObject parent_instance;
	VigilDaemon *daemon;
	GDBusConnection *connection;
	VigilDBusDaemon1 *skeleton;
	VigilAgentManager *agents;
	GHashTable *subscribers; /* sender -> VigilSubscriber */
	guint owner_id;
	guint stats_id;
	guint connections_id;
	gulong connections_changed_id;
	gulong events_id;
	gulong rules_changed_id;
	gulong connectivity_changed_id;
	gulong netmon_updated_id;
	guint interfaces_id;
	gboolean interfaces_pending;
};

G_DEFINE_FINAL_TYPE(VigilDBusService, vigil_dbus_service, G_TYPE_OBJECT)

typedef void (*VigilDBusServiceRunFunc)(VigilDBusService *self,
					GDBusMethodInvocation *invocation,
					guint32 uid,
					gboolean all);

/* what a call needs to finish after the asynchronous checks */
typedef struct {
	VigilDBusService *self;
	GDBusMethodInvocation *invocation;
	VigilDBusServiceRunFunc run;
	gchar *action_id;
	guint32 uid;
	gboolean all;
} VigilDBusServiceCall;

static void
vigil_dbus_service_call_free(VigilDBusServiceCall *call)
{
	g_object_unref(call->self);
	g_object_unref(call->invocation);
	g_free(call->action_id);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDBusServiceCall, vigil_dbus_service_call_free)

/* @error stays the caller's; it is turned into a VigilError on the way */
static void
vigil_dbus_service_return_error(GDBusMethodInvocation *invocation, GError *error)
{
	vigil_error_convert(&error);
	g_dbus_method_invocation_return_gerror(invocation, error);
}

static void
vigil_dbus_service_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilDBusServiceCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!vigil_polkit_check_finish(res, &error)) {
		vigil_dbus_service_return_error(call->invocation, error);
		return;
	}
	call->run(call->self, call->invocation, call->uid, TRUE);
}

static void
vigil_dbus_service_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilDBusServiceCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!vigil_polkit_get_caller_uid_finish(res, &call->uid, &error)) {
		vigil_dbus_service_return_error(call->invocation, error);
		return;
	}
	/* root sees and may do everything; others need polkit for what they asked */
	if (call->uid == 0) {
		call->run(call->self, call->invocation, call->uid, TRUE);
		return;
	}
	if (call->action_id != NULL) {
		/* read the fields before the call takes ownership: argument order is unspecified */
		GDBusMethodInvocation *invocation = call->invocation;
		const gchar *action_id = call->action_id;
		vigil_polkit_check_async(invocation,
					 action_id,
					 NULL,
					 vigil_dbus_service_polkit_cb,
					 g_steal_pointer(&call));
		return;
	}
	call->run(call->self, call->invocation, call->uid, FALSE);
}

/* every handler goes through here: the caller's uid from the bus, then polkit for
 * @action_id when given; nothing blocks the main loop */
static gboolean
vigil_dbus_service_dispatch(VigilDBusService *self,
			    GDBusMethodInvocation *invocation,
			    const gchar *action_id,
			    VigilDBusServiceRunFunc run)
{
	VigilDBusServiceCall *call = g_new0(VigilDBusServiceCall, 1);

	call->self = g_object_ref(self);
	call->invocation = g_object_ref(invocation);
	call->run = run;
	call->action_id = g_strdup(action_id);
	vigil_polkit_get_caller_uid_async(invocation, NULL, vigil_dbus_service_uid_cb, call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
vigil_dbus_service_option_all(GDBusMethodInvocation *invocation)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GVariant) options = g_variant_get_child_value(params, 0);
	gboolean all = FALSE;

	g_variant_lookup(options, "all", "b", &all);
	return all;
}

static gboolean
vigil_dbus_service_event_visible(VigilEvent *event, guint32 uid, gboolean all)
{
	return all || (event->uid_known && event->uid == uid);
}

static GVariant *
vigil_dbus_service_events_to_variant(GPtrArray *events, guint32 uid, gboolean all, guint max)
{
	GVariantBuilder builder;
	guint n = 0;
	guint start = 0;

	/* newest last; count the visible ones from the end to honour @max */
	if (max != 0) {
		for (guint i = events->len; i > 0; i--) {
			if (vigil_dbus_service_event_visible(g_ptr_array_index(events, i - 1),
							     uid,
							     all) &&
			    ++n == max) {
				start = i - 1;
				break;
			}
		}
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = start; i < events->len; i++) {
		VigilEvent *event = g_ptr_array_index(events, i);
		if (vigil_dbus_service_event_visible(event, uid, all))
			g_variant_builder_add_value(&builder, vigil_event_to_variant(event));
	}
	return g_variant_builder_end(&builder);
}

typedef struct {
	VigilDBusService *self;
	GDBusMethodInvocation *invocation;
	guint32 uid;
	gboolean all;
} VigilGetConnectionsHelper;

static void
vigil_get_connections_helper_free(VigilGetConnectionsHelper *helper)
{
	g_object_unref(helper->invocation);
	g_object_unref(helper->self);
	g_free(helper);
}

/* refreshes the live table from a fresh conntrack dump, then calls @callback with a
 * VigilGetConnectionsHelper for the answer (which the callback frees) */
static void
vigil_dbus_service_refresh_then(VigilDBusService *self,
				GDBusMethodInvocation *invocation,
				guint32 uid,
				gboolean all,
				GAsyncReadyCallback callback)
{
	VigilGetConnectionsHelper *helper = g_new0(VigilGetConnectionsHelper, 1);

	helper->self = g_object_ref(self);
	helper->invocation = g_object_ref(invocation);
	helper->uid = uid;
	helper->all = all;
	vigil_daemon_refresh_connections_async(self->daemon, callback, helper);
}

static void
vigil_dbus_service_connections_refreshed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilGetConnectionsHelper *helper = user_data;
	GVariant *params = g_dbus_method_invocation_get_parameters(helper->invocation);
	g_autoptr(GVariant) options = g_variant_get_child_value(params, 0);
	const gchar *app = NULL;

	vigil_daemon_refresh_connections_finish(VIGIL_DAEMON(source), res, NULL);
	g_variant_lookup(options, "app", "&s", &app);
	vigil_dbus_daemon1_complete_get_connections(
	    helper->self->skeleton,
	    helper->invocation,
	    vigil_daemon_get_connections(helper->self->daemon, helper->uid, helper->all, app));
	vigil_get_connections_helper_free(helper);
}

/* answered from a fresh conntrack dump, so a connection that just ended is not "live" */
static void
vigil_dbus_service_run_get_connections(VigilDBusService *self,
				       GDBusMethodInvocation *invocation,
				       guint32 uid,
				       gboolean all)
{
	vigil_dbus_service_refresh_then(self,
					invocation,
					uid,
					all,
					vigil_dbus_service_connections_refreshed_cb);
}

static gboolean
vigil_dbus_service_handle_get_connections(VigilDBusDaemon1 *object,
					  GDBusMethodInvocation *invocation,
					  GVariant *options,
					  gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	return vigil_dbus_service_dispatch(self,
					   invocation,
					   vigil_dbus_service_option_all(invocation)
					       ? VIGIL_POLKIT_ACTION_ANSWER_SYSTEM_PROMPTS
					       : NULL,
					   vigil_dbus_service_run_get_connections);
}

static void
vigil_dbus_service_apps_refreshed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilGetConnectionsHelper *helper = user_data;

	vigil_daemon_refresh_connections_finish(VIGIL_DAEMON(source), res, NULL);
	vigil_dbus_daemon1_complete_get_apps(
	    helper->self->skeleton,
	    helper->invocation,
	    vigil_daemon_get_apps(helper->self->daemon, helper->uid, helper->all));
	vigil_get_connections_helper_free(helper);
}

/* also from a fresh dump: while nobody watches, the table follows conntrack only by dumps */
static void
vigil_dbus_service_run_get_apps(VigilDBusService *self,
				GDBusMethodInvocation *invocation,
				guint32 uid,
				gboolean all)
{
	vigil_dbus_service_refresh_then(self,
					invocation,
					uid,
					all,
					vigil_dbus_service_apps_refreshed_cb);
}

static gboolean
vigil_dbus_service_handle_get_apps(VigilDBusDaemon1 *object,
				   GDBusMethodInvocation *invocation,
				   gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   NULL,
					   vigil_dbus_service_run_get_apps);
}

static void
vigil_dbus_service_run_get_recent_events(VigilDBusService *self,
					 GDBusMethodInvocation *invocation,
					 guint32 uid,
					 gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GPtrArray) events = vigil_daemon_get_recent_events(self->daemon, 0);
	guint32 max = 0;

	g_variant_get(params, "(u)", &max);
	vigil_dbus_daemon1_complete_get_recent_events(
	    self->skeleton,
	    invocation,
	    vigil_dbus_service_events_to_variant(events, uid, all, max));
}

static gboolean
vigil_dbus_service_handle_get_recent_events(VigilDBusDaemon1 *object,
					    GDBusMethodInvocation *invocation,
					    guint max,
					    gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   NULL,
					   vigil_dbus_service_run_get_recent_events);
}

static gboolean
vigil_dbus_service_handle_get_rules(VigilDBusDaemon1 *object,
				    GDBusMethodInvocation *invocation,
				    GVariant *filter,
				    gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autoptr(GPtrArray) rules =
	    vigil_rule_set_get_rules(vigil_daemon_get_rule_set(self->daemon));
	GVariantBuilder builder;
	const gchar *origin = NULL;
	const gchar *app = NULL;

	/* rules are not secret on a desktop: anyone may read them */
	g_variant_lookup(filter, "origin", "&s", &origin);
	g_variant_lookup(filter, "app", "&s", &app);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		if (origin != NULL &&
		    g_strcmp0(vigil_origin_to_string(vigil_rule_get_origin(rule)), origin) != 0)
			continue;
		if (app != NULL && g_strcmp0(vigil_rule_get_exe(rule), app) != 0 &&
		    g_strcmp0(vigil_rule_get_app_id(rule), app) != 0 &&
		    g_strcmp0(vigil_rule_get_unit(rule), app) != 0)
			continue;
		g_variant_builder_add_value(&builder, vigil_rule_to_variant(rule));
	}
	vigil_dbus_daemon1_complete_get_rules(object, invocation, g_variant_builder_end(&builder));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vigil_dbus_service_run_add_rule(VigilDBusService *self,
				GDBusMethodInvocation *invocation,
				guint32 uid,
				gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GVariant) dict = g_variant_get_child_value(params, 0);
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;

	rule = vigil_rule_new_from_variant(dict, &error);
	if (rule == NULL) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	/* the daemon assigns ids: a client cannot overwrite a rule by naming it */
	vigil_rule_set_id(rule, NULL);
	id = vigil_daemon_add_rule(self->daemon, rule, &error);
	if (id == NULL) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_complete_add_rule(self->skeleton, invocation, id);
}

static gboolean
vigil_dbus_service_handle_add_rule(VigilDBusDaemon1 *object,
				   GDBusMethodInvocation *invocation,
				   GVariant *rule,
				   gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_MANAGE_RULES,
					   vigil_dbus_service_run_add_rule);
}

static void
vigil_dbus_service_run_update_rule(VigilDBusService *self,
				   GDBusMethodInvocation *invocation,
				   guint32 uid,
				   gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *id = NULL;

	g_variant_get(params, "(&s@a{sv})", &id, &dict);
	if (!vigil_daemon_update_rule(self->daemon, id, dict, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_complete_update_rule(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_update_rule(VigilDBusDaemon1 *object,
				      GDBusMethodInvocation *invocation,
				      const gchar *id,
				      GVariant *rule,
				      gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_MANAGE_RULES,
					   vigil_dbus_service_run_update_rule);
}

static void
vigil_dbus_service_run_remove_rule(VigilDBusService *self,
				   GDBusMethodInvocation *invocation,
				   guint32 uid,
				   gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	const gchar *id = NULL;

	g_variant_get(params, "(&s)", &id);
	if (!vigil_daemon_remove_rule(self->daemon, id, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_complete_remove_rule(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_remove_rule(VigilDBusDaemon1 *object,
				      GDBusMethodInvocation *invocation,
				      const gchar *id,
				      gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_MANAGE_RULES,
					   vigil_dbus_service_run_remove_rule);
}

static void
vigil_dbus_service_run_import_rules(VigilDBusService *self,
				    GDBusMethodInvocation *invocation,
				    guint32 uid,
				    gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *format = NULL;
	const gchar *contents = NULL;

	g_variant_get(params, "(&s&s)", &format, &contents);
	ids = vigil_daemon_import_rules(self->daemon, format, contents, problems, &error);
	if (ids == NULL) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	g_ptr_array_add(ids, NULL);
	g_ptr_array_add(problems, NULL);
	vigil_dbus_daemon1_complete_import_rules(self->skeleton,
						 invocation,
						 (const gchar *const *)ids->pdata,
						 (const gchar *const *)problems->pdata);
}

static gboolean
vigil_dbus_service_handle_import_rules(VigilDBusDaemon1 *object,
				       GDBusMethodInvocation *invocation,
				       const gchar *format,
				       const gchar *contents,
				       gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_MANAGE_RULES,
					   vigil_dbus_service_run_import_rules);
}

static gboolean
vigil_dbus_service_handle_export_rules(VigilDBusDaemon1 *object,
				       GDBusMethodInvocation *invocation,
				       GVariant *options,
				       gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autofree gchar *contents = NULL;
	gboolean include_managed = FALSE;

	g_variant_lookup(options, "include-managed", "b", &include_managed);
	contents = vigil_daemon_export_rules(self->daemon, include_managed);
	vigil_dbus_daemon1_complete_export_rules(object, invocation, contents);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vigil_dbus_service_run_save_rules(VigilDBusService *self,
				  GDBusMethodInvocation *invocation,
				  guint32 uid,
				  gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GVariant) options = g_variant_get_child_value(params, 0);
	g_autoptr(GError) error = NULL;
	gboolean force = FALSE;

	g_variant_lookup(options, "force", "b", &force);
	if (!vigil_daemon_save_rules(self->daemon, force, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_complete_save_rules(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_save_rules(VigilDBusDaemon1 *object,
				     GDBusMethodInvocation *invocation,
				     GVariant *options,
				     gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_MANAGE_RULES,
					   vigil_dbus_service_run_save_rules);
}

static void
vigil_dbus_service_run_set_mode(VigilDBusService *self,
				GDBusMethodInvocation *invocation,
				guint32 uid,
				gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	const gchar *str = NULL;
	VigilMode mode;

	g_variant_get(params, "(&s)", &str);
	mode = vigil_mode_from_string(str);
	if (mode == VIGIL_MODE_LAST) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    VIGIL_ERROR,
		    VIGIL_ERROR_INVALID_ARGUMENT,
		    "unknown mode '%s': use ask, allow, deny, block-all or monitor",
		    str);
		return;
	}
	if (!vigil_daemon_set_mode(self->daemon, mode, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_set_mode(self->skeleton, vigil_mode_to_string(mode));
	vigil_dbus_daemon1_complete_set_mode(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_set_mode(VigilDBusDaemon1 *object,
				   GDBusMethodInvocation *invocation,
				   const gchar *mode,
				   gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_SET_MODE,
					   vigil_dbus_service_run_set_mode);
}

static void
vigil_dbus_service_run_set_default_action(VigilDBusService *self,
					  GDBusMethodInvocation *invocation,
					  guint32 uid,
					  gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	const gchar *str = NULL;

	g_variant_get(params, "(&s)", &str);
	if (!vigil_daemon_set_default_action(self->daemon, vigil_action_from_string(str), &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_set_default_action(self->skeleton, str);
	vigil_dbus_daemon1_complete_set_default_action(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_set_default_action(VigilDBusDaemon1 *object,
					     GDBusMethodInvocation *invocation,
					     const gchar *action,
					     gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_SET_MODE,
					   vigil_dbus_service_run_set_default_action);
}

/* the daemon holds the timeout (and hands it to the agent manager); the property mirrors it */
static void
vigil_dbus_service_run_set_prompt_timeout(VigilDBusService *self,
					  GDBusMethodInvocation *invocation,
					  guint32 uid,
					  gboolean all)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	guint32 seconds = 0;

	g_variant_get(params, "(u)", &seconds);
	if (!vigil_daemon_set_prompt_timeout(self->daemon, seconds, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return;
	}
	vigil_dbus_daemon1_set_prompt_timeout(self->skeleton, seconds);
	vigil_dbus_daemon1_complete_set_prompt_timeout(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_set_prompt_timeout(VigilDBusDaemon1 *object,
					     GDBusMethodInvocation *invocation,
					     guint seconds,
					     gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   VIGIL_POLKIT_ACTION_SET_MODE,
					   vigil_dbus_service_run_set_prompt_timeout);
}

typedef struct {
	VigilDBusService *self;
	GDBusMethodInvocation *invocation;
	guint32 uid;
} VigilRegisterHelper;

static void
vigil_register_helper_free(VigilRegisterHelper *helper)
{
	g_object_unref(helper->self);
	g_object_unref(helper->invocation);
	g_free(helper);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRegisterHelper, vigil_register_helper_free)

static void
vigil_dbus_service_register_finish(VigilRegisterHelper *helper, gboolean may_answer_system)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(helper->invocation);
	g_autoptr(GError) error = NULL;
	const gchar *path = NULL;

	g_variant_get(params, "(&o)", &path);
	if (!vigil_agent_manager_register(helper->self->agents,
					  g_dbus_method_invocation_get_sender(helper->invocation),
					  path,
					  helper->uid,
					  may_answer_system,
					  &error)) {
		vigil_dbus_service_return_error(helper->invocation, error);
		return;
	}
	vigil_dbus_daemon1_complete_register_agent(helper->self->skeleton, helper->invocation);
}

static void
vigil_dbus_service_register_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilRegisterHelper) helper = user_data;
	g_autoptr(GError) error = NULL;
	gboolean allowed = vigil_polkit_check_finish(res, &error);

	if (!allowed)
		g_debug("agent of uid %u answers only its own prompts: %s",
			helper->uid,
			error->message);
	vigil_dbus_service_register_finish(helper, allowed);
}

static void
vigil_dbus_service_register_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilRegisterHelper) helper = user_data;
	g_autoptr(GError) error = NULL;
	GDBusMethodInvocation *invocation;

	if (!vigil_polkit_get_caller_uid_finish(res, &helper->uid, &error)) {
		vigil_dbus_service_return_error(helper->invocation, error);
		return;
	}
	/* any user may answer for their own processes; answering for the system and for other
	 * users is what polkit decides, once, at registration */
	invocation = helper->invocation;
	vigil_polkit_check_async(invocation,
				 VIGIL_POLKIT_ACTION_ANSWER_SYSTEM_PROMPTS,
				 NULL,
				 vigil_dbus_service_register_polkit_cb,
				 g_steal_pointer(&helper));
}

static gboolean
vigil_dbus_service_handle_register_agent(VigilDBusDaemon1 *object,
					 GDBusMethodInvocation *invocation,
					 const gchar *path,
					 gpointer user_data)
{
	VigilRegisterHelper *helper = g_new0(VigilRegisterHelper, 1);

	helper->self = g_object_ref(VIGIL_DBUS_SERVICE(user_data));
	helper->invocation = g_object_ref(invocation);
	vigil_polkit_get_caller_uid_async(invocation,
					  NULL,
					  vigil_dbus_service_register_uid_cb,
					  helper);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
vigil_dbus_service_handle_unregister_agent(VigilDBusDaemon1 *object,
					   GDBusMethodInvocation *invocation,
					   const gchar *path,
					   gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	/* keyed by the sender's unique name: nobody can unregister another's agent */
	if (!vigil_agent_manager_unregister(self->agents,
					    g_dbus_method_invocation_get_sender(invocation),
					    path,
					    &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vigil_dbus_daemon1_complete_unregister_agent(object, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vigil_subscriber_free(VigilSubscriber *subscriber)
{
	if (subscriber->watch_id != 0)
		g_bus_unwatch_name(subscriber->watch_id);
	g_free(subscriber->sender);
	g_free(subscriber);
}

static void
vigil_dbus_service_update_watched(VigilDBusService *self)
{
	vigil_daemon_set_watched(self->daemon, g_hash_table_size(self->subscribers) > 0);
}

static void
vigil_dbus_service_subscriber_vanished_cb(GDBusConnection *connection,
					  const gchar *name,
					  gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_hash_table_remove(self->subscribers, name);
	vigil_dbus_service_update_watched(self);
}

static void
vigil_dbus_service_run_subscribe(VigilDBusService *self,
				 GDBusMethodInvocation *invocation,
				 guint32 uid,
				 gboolean all)
{
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	VigilSubscriber *subscriber = g_new0(VigilSubscriber, 1);

	subscriber->sender = g_strdup(sender);
	subscriber->uid = uid;
	/* all: root, or the option was given and polkit granted it */
	subscriber->all = all;
	subscriber->watch_id =
	    g_bus_watch_name_on_connection(self->connection,
					   sender,
					   G_BUS_NAME_WATCHER_FLAGS_NONE,
					   NULL,
					   vigil_dbus_service_subscriber_vanished_cb,
					   self,
					   NULL);
	g_hash_table_replace(self->subscribers, subscriber->sender, subscriber);
	vigil_dbus_service_update_watched(self);
	vigil_dbus_daemon1_complete_subscribe(self->skeleton, invocation);
}

static gboolean
vigil_dbus_service_handle_subscribe(VigilDBusDaemon1 *object,
				    GDBusMethodInvocation *invocation,
				    GVariant *options,
				    gpointer user_data)
{
	return vigil_dbus_service_dispatch(VIGIL_DBUS_SERVICE(user_data),
					   invocation,
					   vigil_dbus_service_option_all(invocation)
					       ? VIGIL_POLKIT_ACTION_ANSWER_SYSTEM_PROMPTS
					       : NULL,
					   vigil_dbus_service_run_subscribe);
}

static gboolean
vigil_dbus_service_handle_unsubscribe(VigilDBusDaemon1 *object,
				      GDBusMethodInvocation *invocation,
				      gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_hash_table_remove(self->subscribers, g_dbus_method_invocation_get_sender(invocation));
	vigil_dbus_service_update_watched(self);
	vigil_dbus_daemon1_complete_unsubscribe(object, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* open to every local user, like NetworkManager's CheckConnectivity: the checker leaves a
 * running check alone and starts one per interface and family every 5 s at most */
static gboolean
vigil_dbus_service_handle_check_connectivity(VigilDBusDaemon1 *object,
					     GDBusMethodInvocation *invocation,
					     const gchar *interface,
					     gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	if (!vigil_daemon_check_connectivity(self->daemon, interface, &error)) {
		vigil_dbus_service_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vigil_dbus_daemon1_complete_check_connectivity(object, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
vigil_dbus_service_stats_cb(gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autoptr(GVariant) stats = g_variant_ref_sink(vigil_daemon_get_stats(self->daemon));
	GVariant *old = vigil_dbus_daemon1_get_stats(self->skeleton);

	/* stop ticking once nothing changes, so an idle daemon sleeps */
	if (old != NULL && g_variant_equal(old, stats)) {
		self->stats_id = 0;
		return G_SOURCE_REMOVE;
	}
	vigil_dbus_daemon1_set_stats(self->skeleton, stats);
	return G_SOURCE_CONTINUE;
}

/* the first change shows at once, later ones at most every STATS_INTERVAL_S: a
 * `vigilctl status` right after some traffic does not show the counters of before */
static void
vigil_dbus_service_poke_stats(VigilDBusService *self)
{
	if (self->stats_id != 0)
		return;
	vigil_dbus_daemon1_set_stats(self->skeleton, vigil_daemon_get_stats(self->daemon));
	self->stats_id = g_timeout_add_seconds(STATS_INTERVAL_S, vigil_dbus_service_stats_cb, self);
}

static void
vigil_dbus_service_emit_to(VigilDBusService *self,
			   VigilSubscriber *subscriber,
			   const gchar *member,
			   GVariant *params)
{
	g_autoptr(GError) error = NULL;

	if (!g_dbus_connection_emit_signal(self->connection,
					   subscriber->sender,
					   VIGIL_DBUS_PATH,
					   VIGIL_DBUS_INTERFACE,
					   member,
					   params,
					   &error))
		g_debug("cannot send %s to %s: %s", member, subscriber->sender, error->message);
}

static void
vigil_dbus_service_events_cb(VigilDaemon *daemon, GPtrArray *events, gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	g_autoptr(GPtrArray) variants = NULL;
	GHashTableIter iter;
	VigilSubscriber *subscriber;

	vigil_dbus_service_poke_stats(self);
	if (g_hash_table_size(self->subscribers) == 0)
		return;

	/* each event is turned into a dictionary once; subscribers pick what they may see */
	variants = g_ptr_array_new_full(events->len, (GDestroyNotify)g_variant_unref);
	for (guint i = 0; i < events->len; i++)
		g_ptr_array_add(
		    variants,
		    g_variant_ref_sink(vigil_event_to_variant(g_ptr_array_index(events, i))));
	g_hash_table_iter_init(&iter, self->subscribers);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&subscriber)) {
		GVariantBuilder builder;
		guint n = 0;

		g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
		for (guint i = 0; i < events->len; i++) {
			if (!vigil_dbus_service_event_visible(g_ptr_array_index(events, i),
							      subscriber->uid,
							      subscriber->all))
				continue;
			g_variant_builder_add_value(&builder, g_ptr_array_index(variants, i));
			n++;
		}
		if (n == 0) {
			g_variant_builder_clear(&builder);
			continue;
		}
		vigil_dbus_service_emit_to(self,
					   subscriber,
					   "Events",
					   g_variant_new("(aa{sv})", &builder));
	}
}

static gboolean
vigil_dbus_service_connections_cb(gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	VigilConnectionTable *table = vigil_daemon_get_connection_table(self->daemon);
	g_autoptr(GPtrArray) updated = NULL;
	g_autoptr(GArray) removed = NULL;
	GHashTableIter iter;
	VigilSubscriber *subscriber;

	self->connections_id = 0;
	if (!vigil_connection_table_drain_changes(table, &updated, &removed))
		return G_SOURCE_REMOVE;
	g_hash_table_iter_init(&iter, self->subscribers);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&subscriber)) {
		GVariantBuilder builder;
		guint n = 0;

		g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
		for (guint i = 0; i < updated->len; i++) {
			VigilConnection *connection = g_ptr_array_index(updated, i);
			if (!subscriber->all &&
			    (!connection->attributed || connection->uid != subscriber->uid))
				continue;
			g_variant_builder_add_value(&builder,
						    vigil_connection_to_variant(connection));
			n++;
		}
		/* ended ids go to every subscriber: an id alone says nothing about anyone */
		if (n == 0 && removed->len == 0) {
			g_variant_builder_clear(&builder);
			continue;
		}
		vigil_dbus_service_emit_to(
		    self,
		    subscriber,
		    "ConnectionsChanged",
		    g_variant_new("(aa{sv}@at)",
				  &builder,
				  g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64,
							    removed->data,
							    removed->len,
							    sizeof(guint64))));
	}
	return G_SOURCE_REMOVE;
}

static void
vigil_dbus_service_connections_changed_cb(VigilConnectionTable *table, gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	if (self->connections_id == 0)
		self->connections_id =
		    g_timeout_add(CONNECTIONS_INTERVAL_MS, vigil_dbus_service_connections_cb, self);
}

static void
vigil_dbus_service_add_reasons(GVariantBuilder *builder, GStrv reasons, const gchar *prefix)
{
	for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++) {
		g_autofree gchar *reason = prefix != NULL
					       ? g_strdup_printf("%s: %s", prefix, reasons[i])
					       : g_strdup(reasons[i]);
		g_variant_builder_add(builder, "s", reason);
	}
}

static GVariant *
vigil_dbus_service_interface_to_variant(VigilNetmonInterface *iface)
{
	const gchar *suffixes[2] = {"v4", "v6"};
	GVariantBuilder builder;
	GVariantBuilder reasons;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "name", g_variant_new_string(iface->name));
	g_variant_builder_add(&builder, "{sv}", "index", g_variant_new_uint32(iface->ifindex));
	g_variant_builder_add(&builder, "{sv}", "kind", g_variant_new_string(iface->kind));
	g_variant_builder_add(&builder, "{sv}", "up", g_variant_new_boolean(iface->up));
	g_variant_builder_add(&builder, "{sv}", "carrier", g_variant_new_boolean(iface->carrier));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "operstate",
			      g_variant_new_string(iface->operstate));
	g_variant_builder_add(&builder, "{sv}", "mtu", g_variant_new_uint32(iface->mtu));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "addresses",
			      g_variant_new_strv((const gchar *const *)iface->addresses, -1));
	g_variant_builder_add(&builder, "{sv}", "metered", g_variant_new_boolean(iface->metered));
	g_variant_builder_add(&builder, "{sv}", "rx-bytes", g_variant_new_uint64(iface->rx_bytes));
	g_variant_builder_add(&builder, "{sv}", "tx-bytes", g_variant_new_uint64(iface->tx_bytes));
	g_variant_builder_add(&builder, "{sv}", "rx-rate", g_variant_new_double(iface->rx_rate));
	g_variant_builder_add(&builder, "{sv}", "tx-rate", g_variant_new_double(iface->tx_rate));
	for (guint f = 0; f < 2; f++) {
		g_autofree gchar *route_key = g_strdup_printf("default-route-%s", suffixes[f]);
		g_autofree gchar *metric_key = g_strdup_printf("metric-%s", suffixes[f]);
		g_autofree gchar *gateway_key = g_strdup_printf("gateway-%s", suffixes[f]);
		g_autofree gchar *rank_key = g_strdup_printf("rank-%s", suffixes[f]);
		g_autofree gchar *reasons_key = g_strdup_printf("reasons-%s", suffixes[f]);

		g_variant_builder_add(&builder,
				      "{sv}",
				      route_key,
				      g_variant_new_boolean(iface->default_route[f]));
		if (iface->default_route[f])
			g_variant_builder_add(&builder,
					      "{sv}",
					      metric_key,
					      g_variant_new_uint32(iface->metric[f]));
		if (iface->gateway[f] != NULL)
			g_variant_builder_add(&builder,
					      "{sv}",
					      gateway_key,
					      g_variant_new_string(iface->gateway[f]));
		g_variant_builder_add(&builder,
				      "{sv}",
				      rank_key,
				      g_variant_new_int32(iface->rank[f]));
		g_variant_builder_add(
		    &builder,
		    "{sv}",
		    reasons_key,
		    g_variant_new_strv((const gchar *const *)iface->reasons[f], -1));
	}
	/* both families in one list; said once when they agree (loopback, a link down) */
	g_variant_builder_init(&reasons, G_VARIANT_TYPE_STRING_ARRAY);
	if (g_strv_equal((const gchar *const *)iface->reasons[0],
			 (const gchar *const *)iface->reasons[1])) {
		vigil_dbus_service_add_reasons(&reasons, iface->reasons[0], NULL);
	} else {
		vigil_dbus_service_add_reasons(&reasons, iface->reasons[0], "IPv4");
		vigil_dbus_service_add_reasons(&reasons, iface->reasons[1], "IPv6");
	}
	g_variant_builder_add(&builder, "{sv}", "reasons", g_variant_builder_end(&reasons));
	return g_variant_builder_end(&builder);
}

static GVariant *
vigil_dbus_service_get_interfaces(VigilDBusService *self)
{
	g_autoptr(GPtrArray) interfaces =
	    vigil_netmon_get_interfaces(vigil_daemon_get_netmon(self->daemon));
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < interfaces->len; i++)
		g_variant_builder_add_value(
		    &builder,
		    vigil_dbus_service_interface_to_variant(g_ptr_array_index(interfaces, i)));
	return g_variant_builder_end(&builder);
}

/* true when the value changed */
static gboolean
vigil_dbus_service_publish_interfaces(VigilDBusService *self)
{
	g_autoptr(GVariant) value = g_variant_ref_sink(vigil_dbus_service_get_interfaces(self));
	GVariant *old = vigil_dbus_daemon1_get_interfaces(self->skeleton);

	if (old != NULL && g_variant_equal(old, value))
		return FALSE;
	vigil_dbus_daemon1_set_interfaces(self->skeleton, value);
	vigil_dbus_daemon1_emit_interfaces_changed(self->skeleton, value);
	return TRUE;
}

static gboolean
vigil_dbus_service_interfaces_cb(gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);

	if (self->interfaces_pending) {
		self->interfaces_pending = FALSE;
		if (vigil_dbus_service_publish_interfaces(self))
			return G_SOURCE_CONTINUE;
	}
	self->interfaces_id = 0;
	return G_SOURCE_REMOVE;
}

static void
vigil_dbus_service_netmon_updated_cb(VigilNetmon *netmon, gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);

	if (self->interfaces_id != 0) {
		self->interfaces_pending = TRUE;
		return;
	}
	if (vigil_dbus_service_publish_interfaces(self))
		self->interfaces_id =
		    g_timeout_add(INTERFACES_INTERVAL_MS, vigil_dbus_service_interfaces_cb, self);
}

static void
vigil_dbus_service_rules_changed_cb(VigilDaemon *daemon, GStrv ids, gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	vigil_dbus_daemon1_emit_rules_changed(self->skeleton, (const gchar *const *)ids);
	vigil_dbus_service_poke_stats(self);
}

static void
vigil_dbus_service_connectivity_changed_cb(VigilPortalChecker *checker, gpointer user_data)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(user_data);
	GVariant *connectivity = vigil_portal_checker_to_variant(checker);

	/* the setter sinks the floating value and sends PropertiesChanged */
	vigil_dbus_daemon1_set_connectivity(self->skeleton, connectivity);
	vigil_dbus_daemon1_emit_connectivity_changed(self->skeleton, connectivity);
}

static void
vigil_dbus_service_name_acquired_cb(GDBusConnection *connection,
				    const gchar *name,
				    gpointer user_data)
{
	g_message("acquired the name %s", name);
}

static void
vigil_dbus_service_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	/* the firewall keeps filtering: losing the bus name only ends the D-Bus service */
	if (connection == NULL)
		g_warning("lost the connection to the bus; filtering goes on without D-Bus");
	else
		g_warning("could not own or lost the name %s; is another vigild running?", name);
}

gboolean
vigil_dbus_service_start(VigilDBusService *self,
			 const gchar *address,
			 gboolean replace,
			 GError **error)
{
	GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;

	if (address != NULL) {
		self->connection = g_dbus_connection_new_for_address_sync(
		    address,
		    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		    NULL,
		    NULL,
		    error);
	} else {
		self->connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
	}
	if (self->connection == NULL) {
		g_prefix_error(error, "cannot connect to the bus: ");
		return FALSE;
	}
	g_dbus_connection_set_exit_on_close(self->connection, FALSE);
	self->agents = vigil_agent_manager_new(self->connection);
	vigil_agent_manager_set_timeout(self->agents,
					vigil_daemon_get_prompt_timeout(self->daemon));
	vigil_daemon_set_agent_manager(self->daemon, self->agents);

	vigil_dbus_daemon1_set_version(self->skeleton, PACKAGE_VERSION);
	vigil_dbus_daemon1_set_mode(self->skeleton,
				    vigil_mode_to_string(vigil_daemon_get_mode(self->daemon)));
	vigil_dbus_daemon1_set_default_action(
	    self->skeleton,
	    vigil_action_to_string(vigil_daemon_get_default_action(self->daemon)));
	vigil_dbus_daemon1_set_prompt_timeout(self->skeleton,
					      vigil_daemon_get_prompt_timeout(self->daemon));
	vigil_dbus_daemon1_set_interfaces(self->skeleton, vigil_dbus_service_get_interfaces(self));
	vigil_dbus_daemon1_set_connectivity(
	    self->skeleton,
	    vigil_portal_checker_to_variant(vigil_daemon_get_portal_checker(self->daemon)));
	vigil_dbus_daemon1_set_stats(self->skeleton, vigil_daemon_get_stats(self->daemon));
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton),
					      self->connection,
					      VIGIL_DBUS_PATH,
					      error)) {
		g_prefix_error(error, "cannot export %s: ", VIGIL_DBUS_PATH);
		return FALSE;
	}
	if (replace)
		flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
	self->owner_id = g_bus_own_name_on_connection(self->connection,
						      VIGIL_DBUS_NAME,
						      flags,
						      vigil_dbus_service_name_acquired_cb,
						      vigil_dbus_service_name_lost_cb,
						      self,
						      NULL);
	self->events_id = g_signal_connect(self->daemon,
					   "events",
					   G_CALLBACK(vigil_dbus_service_events_cb),
					   self);
	self->rules_changed_id = g_signal_connect(self->daemon,
						  "rules-changed",
						  G_CALLBACK(vigil_dbus_service_rules_changed_cb),
						  self);
	self->connectivity_changed_id =
	    g_signal_connect(vigil_daemon_get_portal_checker(self->daemon),
			     "changed",
			     G_CALLBACK(vigil_dbus_service_connectivity_changed_cb),
			     self);
	self->netmon_updated_id = g_signal_connect(vigil_daemon_get_netmon(self->daemon),
						   "updated",
						   G_CALLBACK(vigil_dbus_service_netmon_updated_cb),
						   self);
	return TRUE;
}

/* the connection table exists once the daemon started */
void
vigil_dbus_service_watch_connections(VigilDBusService *self)
{
	VigilConnectionTable *table = vigil_daemon_get_connection_table(self->daemon);
	if (table == NULL || self->connections_changed_id != 0)
		return;
	self->connections_changed_id =
	    g_signal_connect(table,
			     "changed",
			     G_CALLBACK(vigil_dbus_service_connections_changed_cb),
			     self);
}

VigilAgentManager *
vigil_dbus_service_get_agent_manager(VigilDBusService *self)
{
	return self->agents;
}

static void
vigil_dbus_service_dispose(GObject *object)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(object);

	g_clear_handle_id(&self->owner_id, g_bus_unown_name);
	g_clear_handle_id(&self->stats_id, g_source_remove);
	g_clear_handle_id(&self->connections_id, g_source_remove);
	g_clear_handle_id(&self->interfaces_id, g_source_remove);
	if (self->daemon != NULL) {
		g_clear_signal_handler(&self->netmon_updated_id,
				       vigil_daemon_get_netmon(self->daemon));
		if (vigil_daemon_get_connection_table(self->daemon) != NULL)
			g_clear_signal_handler(&self->connections_changed_id,
					       vigil_daemon_get_connection_table(self->daemon));
		g_clear_signal_handler(&self->events_id, self->daemon);
		g_clear_signal_handler(&self->rules_changed_id, self->daemon);
		if (vigil_daemon_get_portal_checker(self->daemon) != NULL)
			g_clear_signal_handler(&self->connectivity_changed_id,
					       vigil_daemon_get_portal_checker(self->daemon));
		vigil_daemon_set_agent_manager(self->daemon, NULL);
	}
	if (self->skeleton != NULL &&
	    g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton)))
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
	g_hash_table_remove_all(self->subscribers);
	g_clear_object(&self->agents);
	g_clear_object(&self->skeleton);
	g_clear_object(&self->connection);
	g_clear_object(&self->daemon);
	G_OBJECT_CLASS(vigil_dbus_service_parent_class)->dispose(object);
}

static void
vigil_dbus_service_finalize(GObject *object)
{
	VigilDBusService *self = VIGIL_DBUS_SERVICE(object);
	g_hash_table_unref(self->subscribers);
	G_OBJECT_CLASS(vigil_dbus_service_parent_class)->finalize(object);
}

static void
vigil_dbus_service_class_init(VigilDBusServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_dbus_service_dispose;
	object_class->finalize = vigil_dbus_service_finalize;
}

static void
vigil_dbus_service_init(VigilDBusService *self)
{
	self->subscribers = g_hash_table_new_full(g_str_hash,
						  g_str_equal,
						  NULL,
						  (GDestroyNotify)vigil_subscriber_free);
	self->skeleton = vigil_dbus_daemon1_skeleton_new();
	g_signal_connect(self->skeleton,
			 "handle-get-connections",
			 G_CALLBACK(vigil_dbus_service_handle_get_connections),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-get-apps",
			 G_CALLBACK(vigil_dbus_service_handle_get_apps),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-get-recent-events",
			 G_CALLBACK(vigil_dbus_service_handle_get_recent_events),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-get-rules",
			 G_CALLBACK(vigil_dbus_service_handle_get_rules),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-add-rule",
			 G_CALLBACK(vigil_dbus_service_handle_add_rule),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-update-rule",
			 G_CALLBACK(vigil_dbus_service_handle_update_rule),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-remove-rule",
			 G_CALLBACK(vigil_dbus_service_handle_remove_rule),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-import-rules",
			 G_CALLBACK(vigil_dbus_service_handle_import_rules),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-export-rules",
			 G_CALLBACK(vigil_dbus_service_handle_export_rules),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-save-rules",
			 G_CALLBACK(vigil_dbus_service_handle_save_rules),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-set-mode",
			 G_CALLBACK(vigil_dbus_service_handle_set_mode),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-set-default-action",
			 G_CALLBACK(vigil_dbus_service_handle_set_default_action),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-set-prompt-timeout",
			 G_CALLBACK(vigil_dbus_service_handle_set_prompt_timeout),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-register-agent",
			 G_CALLBACK(vigil_dbus_service_handle_register_agent),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-unregister-agent",
			 G_CALLBACK(vigil_dbus_service_handle_unregister_agent),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-subscribe",
			 G_CALLBACK(vigil_dbus_service_handle_subscribe),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-unsubscribe",
			 G_CALLBACK(vigil_dbus_service_handle_unsubscribe),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-check-connectivity",
			 G_CALLBACK(vigil_dbus_service_handle_check_connectivity),
			 self);
}

VigilDBusService *
vigil_dbus_service_new(VigilDaemon *daemon)
{
	VigilDBusService *self = g_object_new(VIGIL_TYPE_DBUS_SERVICE, NULL);
	self->daemon = g_object_ref(daemon);
	return self;
}
