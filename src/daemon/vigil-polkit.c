/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilPolkit"

#include "config.h"

#include <polkit/polkit.h>

#include "vigil-error.h"
#include "vigil-polkit.h"

typedef struct {
	GDBusMethodInvocation *invocation;
	gchar *action_id;
} VigilPolkitHelper;

static void
vigil_polkit_helper_free(VigilPolkitHelper *helper)
{
	g_object_unref(helper->invocation);
	g_free(helper->action_id);
	g_free(helper);
}

static void
vigil_polkit_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	guint32 uid = 0;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_AUTHORIZED,
					"cannot tell who the caller is: %s",
					error->message);
		return;
	}
	g_variant_get(reply, "(u)", &uid);
	g_task_return_int(task, uid);
}

/* the uid comes from the bus daemon, never from the caller's word */
void
vigil_polkit_get_caller_uid_async(GDBusMethodInvocation *invocation,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);

	g_task_set_source_tag(task, vigil_polkit_get_caller_uid_async);
	g_dbus_connection_call(
	    connection,
	    "org.freedesktop.DBus",
	    "/org/freedesktop/DBus",
	    "org.freedesktop.DBus",
	    "GetConnectionUnixUser",
	    g_variant_new("(s)", g_dbus_method_invocation_get_sender(invocation)),
	    G_VARIANT_TYPE("(u)"),
	    G_DBUS_CALL_FLAGS_NONE,
	    5000,
	    cancellable,
	    vigil_polkit_uid_cb,
	    task);
}

gboolean
vigil_polkit_get_caller_uid_finish(GAsyncResult *res, guint32 *uid, GError **error)
{
	gssize value = g_task_propagate_int(G_TASK(res), error);
	if (value < 0)
		return FALSE;
	*uid = (guint32)value;
	return TRUE;
}

static void
vigil_polkit_check_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(PolkitAuthorizationResult) result = NULL;
	g_autoptr(GError) error = NULL;
	VigilPolkitHelper *helper = g_task_get_task_data(task);

	result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);
	if (result == NULL) {
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_AUTHORIZED,
					"could not check authorization for %s: %s",
					helper->action_id,
					error->message);
		return;
	}
	if (!polkit_authorization_result_get_is_authorized(result)) {
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_AUTHORIZED,
					"not authorized: %s",
					helper->action_id);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
vigil_polkit_authority_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(PolkitAuthority) authority = NULL;
	g_autoptr(PolkitSubject) subject = NULL;
	g_autoptr(GError) error = NULL;
	VigilPolkitHelper *helper = g_task_get_task_data(task);
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
	GDBusMessage *message = g_dbus_method_invocation_get_message(helper->invocation);

	authority = polkit_authority_get_finish(res, &error);
	if (authority == NULL) {
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_AUTHORIZED,
					"polkit is not available: %s",
					error->message);
		return;
	}
	if (g_dbus_message_get_flags(message) &
	    G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	subject =
	    polkit_system_bus_name_new(g_dbus_method_invocation_get_sender(helper->invocation));
	polkit_authority_check_authorization(authority,
					     subject,
					     helper->action_id,
					     NULL,
					     flags,
					     g_task_get_cancellable(task),
					     vigil_polkit_check_cb,
					     g_object_ref(task));
}

static void
vigil_polkit_check_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	guint32 uid = G_MAXUINT32;

	if (!vigil_polkit_get_caller_uid_finish(res, &uid, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* root may do everything without asking polkit, as on every system daemon */
	if (uid == 0) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	polkit_authority_get_async(g_task_get_cancellable(task),
				   vigil_polkit_authority_cb,
				   g_object_ref(task));
}

/* never blocks the main loop: the uid, the authority and the check are all asynchronous */
void
vigil_polkit_check_async(GDBusMethodInvocation *invocation,
			 const gchar *action_id,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	VigilPolkitHelper *helper = g_new0(VigilPolkitHelper, 1);

	helper->invocation = g_object_ref(invocation);
	helper->action_id = g_strdup(action_id);
	g_task_set_task_data(task, helper, (GDestroyNotify)vigil_polkit_helper_free);
	g_task_set_source_tag(task, vigil_polkit_check_async);
	vigil_polkit_get_caller_uid_async(invocation, cancellable, vigil_polkit_check_uid_cb, task);
}

gboolean
vigil_polkit_check_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}
