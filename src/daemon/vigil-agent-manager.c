/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilAgentManager"

#include "config.h"

#include "vigil-agent-manager.h"
#include "vigil-error.h"
#include "vigil-names.h"

/* agents a user may register at once; a runaway client cannot grow the list without end */
#define AGENTS_PER_SENDER_MAX 4
#define AGENTS_MAX	      256

typedef struct {
	gint ref_count;
	gchar *sender;
	gchar *path;
	guint32 uid;
	gboolean may_answer_system;
	guint64 serial; /* registration order: the newest agent is asked first */
	guint watch_id;
	gboolean gone;
} VigilAgent;

typedef struct {
	VigilAgentManager *self; /* no ref: the manager outlives its requests */
	gchar *id;
	GVariant *request;
	gboolean uid_known;
	guint32 uid;
	VigilAgent *agent;
	GPtrArray *tried; /* of VigilAgent */
	GCancellable *cancellable;
	guint deadline_id;
	gint64 deadline;
	VigilAgentAnswerFunc func;
	gpointer user_data;
} VigilAgentRequest;

struct _VigilAgentManager {
	GObject parent_instance;
	GDBusConnection *connection;
	GPtrArray *agents;    /* of VigilAgent */
	GHashTable *requests; /* id -> VigilAgentRequest */
	guint timeout;
	guint64 next_serial;
	guint64 next_request;
};

G_DEFINE_FINAL_TYPE(VigilAgentManager, vigil_agent_manager, G_TYPE_OBJECT)

static VigilAgent *
vigil_agent_ref(VigilAgent *agent)
{
	agent->ref_count++;
	return agent;
}

static void
vigil_agent_unref(VigilAgent *agent)
{
	if (--agent->ref_count > 0)
		return;
	if (agent->watch_id != 0)
		g_bus_unwatch_name(agent->watch_id);
	g_free(agent->sender);
	g_free(agent->path);
	g_free(agent);
}

static void
vigil_agent_request_free(VigilAgentRequest *request)
{
	if (request->cancellable != NULL)
		g_cancellable_cancel(request->cancellable);
	g_clear_object(&request->cancellable);
	g_clear_handle_id(&request->deadline_id, g_source_remove);
	g_clear_pointer(&request->agent, vigil_agent_unref);
	g_ptr_array_unref(request->tried);
	g_variant_unref(request->request);
	g_free(request->id);
	g_free(request);
}

static const gchar *scope_destination_names[] = {"host", "domain", "ip", "port", "any"};
static const gchar *scope_app_names[] = {"exe", "app-id", "unit", "any"};

static guint
name_index(const gchar **names, guint n_names, const gchar *value)
{
	for (guint i = 0; i < n_names; i++) {
		if (g_strcmp0(names[i], value) == 0)
			return i;
	}
	return n_names;
}

/* an answer the daemon cannot understand counts as no answer, never as a guess */
gboolean
vigil_agent_answer_parse(GVariant *dict, VigilAgentAnswer *answer, GError **error)
{
	const gchar *str = NULL;
	guint32 duration = 0;
	gboolean pin_port = TRUE;

	memset(answer, 0, sizeof(*answer));
	if (!g_variant_lookup(dict, "action", "&s", &str)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "answer has no action");
		return FALSE;
	}
	answer->action = vigil_action_from_string(str);
	if (answer->action == VIGIL_ACTION_NONE || answer->action == VIGIL_ACTION_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "answer action '%s' is not allow, deny or reject",
			    str);
		return FALSE;
	}
	answer->lifetime = VIGIL_LIFETIME_ONCE;
	if (g_variant_lookup(dict, "lifetime", "&s", &str)) {
		answer->lifetime = vigil_lifetime_from_string(str);
		if (answer->lifetime == VIGIL_LIFETIME_LAST) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "answer lifetime '%s' is unknown",
				    str);
			return FALSE;
		}
	}
	if (g_variant_lookup(dict, "duration", "u", &duration))
		answer->duration = duration;
	if (answer->lifetime == VIGIL_LIFETIME_UNTIL && answer->duration == 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "answer lifetime 'until' needs a duration");
		return FALSE;
	}
	answer->scope_destination = VIGIL_SCOPE_DESTINATION_HOST;
	if (g_variant_lookup(dict, "scope-destination", "&s", &str)) {
		answer->scope_destination =
		    name_index(scope_destination_names, G_N_ELEMENTS(scope_destination_names), str);
		if (answer->scope_destination == VIGIL_SCOPE_DESTINATION_LAST) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "answer scope-destination '%s' is unknown",
				    str);
			return FALSE;
		}
	}
	answer->scope_app = VIGIL_SCOPE_APP_EXE;
	if (g_variant_lookup(dict, "scope-app", "&s", &str)) {
		answer->scope_app = name_index(scope_app_names, G_N_ELEMENTS(scope_app_names), str);
		if (answer->scope_app == VIGIL_SCOPE_APP_LAST) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "answer scope-app '%s' is unknown",
				    str);
			return FALSE;
		}
	}
	if (g_variant_lookup(dict, "port", "b", &pin_port))
		answer->pin_port = pin_port;
	else
		answer->pin_port = answer->scope_destination == VIGIL_SCOPE_DESTINATION_HOST ||
				   answer->scope_destination == VIGIL_SCOPE_DESTINATION_IP ||
				   answer->scope_destination == VIGIL_SCOPE_DESTINATION_PORT;
	return TRUE;
}

static void
vigil_agent_manager_name_vanished_cb(GDBusConnection *connection,
				     const gchar *name,
				     gpointer user_data)
{
	VigilAgentManager *self = VIGIL_AGENT_MANAGER(user_data);

	for (guint i = self->agents->len; i > 0; i--) {
		VigilAgent *agent = g_ptr_array_index(self->agents, i - 1);
		if (g_strcmp0(agent->sender, name) == 0) {
			g_info("agent %s%s of uid %u left the bus", name, agent->path, agent->uid);
			agent->gone = TRUE;
			g_ptr_array_remove_index(self->agents, i - 1);
		}
	}
}

gboolean
vigil_agent_manager_register(VigilAgentManager *self,
			     const gchar *sender,
			     const gchar *path,
			     guint32 uid,
			     gboolean may_answer_system,
			     GError **error)
{
	VigilAgent *agent;
	guint from_sender = 0;

	g_return_val_if_fail(VIGIL_IS_AGENT_MANAGER(self), FALSE);

	for (guint i = 0; i < self->agents->len; i++) {
		VigilAgent *tmp = g_ptr_array_index(self->agents, i);
		if (g_strcmp0(tmp->sender, sender) != 0)
			continue;
		if (g_strcmp0(tmp->path, path) == 0) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_EXISTS,
				    "agent %s is already registered",
				    path);
			return FALSE;
		}
		from_sender++;
	}
	if (from_sender >= AGENTS_PER_SENDER_MAX || self->agents->len >= AGENTS_MAX) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_BUSY,
				    "too many agents registered");
		return FALSE;
	}
	agent = g_new0(VigilAgent, 1);
	agent->ref_count = 1;
	agent->sender = g_strdup(sender);
	agent->path = g_strdup(path);
	agent->uid = uid;
	agent->may_answer_system = may_answer_system;
	agent->serial = ++self->next_serial;
	agent->watch_id = g_bus_watch_name_on_connection(self->connection,
							 sender,
							 G_BUS_NAME_WATCHER_FLAGS_NONE,
							 NULL,
							 vigil_agent_manager_name_vanished_cb,
							 self,
							 NULL);
	g_ptr_array_add(self->agents, agent);
	g_message("agent %s%s registered for uid %u%s",
		  sender,
		  path,
		  uid,
		  may_answer_system ? " (may answer for system processes and other users)" : "");
	return TRUE;
}

gboolean
vigil_agent_manager_unregister(VigilAgentManager *self,
			       const gchar *sender,
			       const gchar *path,
			       GError **error)
{
	for (guint i = 0; i < self->agents->len; i++) {
		VigilAgent *agent = g_ptr_array_index(self->agents, i);
		if (g_strcmp0(agent->sender, sender) == 0 && g_strcmp0(agent->path, path) == 0) {
			agent->gone = TRUE;
			g_ptr_array_remove_index(self->agents, i);
			return TRUE;
		}
	}
	g_set_error(error,
		    VIGIL_ERROR,
		    VIGIL_ERROR_NOT_FOUND,
		    "no agent %s registered by you",
		    path);
	return FALSE;
}

guint
vigil_agent_manager_get_n_agents(VigilAgentManager *self)
{
	return self->agents->len;
}

/* an agent may answer for its own user's processes; for other users and the system only
 * when polkit granted its user answer-system-prompts */
static gboolean
vigil_agent_may_answer(VigilAgent *agent, gboolean uid_known, guint32 uid)
{
	if (agent->gone)
		return FALSE;
	if (uid_known && agent->uid == uid)
		return TRUE;
	return agent->may_answer_system;
}

static VigilAgent *
vigil_agent_manager_pick(VigilAgentManager *self, gboolean uid_known, guint32 uid, GPtrArray *tried)
{
	VigilAgent *best = NULL;

	for (guint i = 0; i < self->agents->len; i++) {
		VigilAgent *agent = g_ptr_array_index(self->agents, i);
		gboolean own;
		gboolean best_own;

		if (!vigil_agent_may_answer(agent, uid_known, uid))
			continue;
		if (tried != NULL && g_ptr_array_find(tried, agent, NULL))
			continue;
		if (best == NULL) {
			best = agent;
			continue;
		}
		/* the process owner's own agent first, then the newest */
		own = uid_known && agent->uid == uid;
		best_own = uid_known && best->uid == uid;
		if ((own && !best_own) || (own == best_own && agent->serial > best->serial))
			best = agent;
	}
	return best;
}

gboolean
vigil_agent_manager_can_ask(VigilAgentManager *self, gboolean uid_known, guint32 uid)
{
	return vigil_agent_manager_pick(self, uid_known, uid, NULL) != NULL;
}

static void
vigil_agent_manager_finish(VigilAgentRequest *request, const VigilAgentAnswer *answer)
{
	VigilAgentManager *self = request->self;
	g_autofree gchar *id = g_strdup(request->id);
	VigilAgentAnswerFunc func = request->func;
	gpointer user_data = request->user_data;

	/* removing frees the request (and cancels any call still under way) */
	g_hash_table_remove(self->requests, id);
	func(self, id, answer, user_data);
}

static void
vigil_agent_manager_send_cancel(VigilAgentManager *self, VigilAgent *agent, const gchar *id)
{
	if (agent == NULL || agent->gone)
		return;
	g_dbus_connection_call(self->connection,
			       agent->sender,
			       agent->path,
			       VIGIL_DBUS_AGENT_INTERFACE,
			       "Cancel",
			       g_variant_new("(s)", id),
			       NULL,
			       G_DBUS_CALL_FLAGS_NO_AUTO_START,
			       1000,
			       NULL,
			       NULL,
			       NULL);
}

static void
vigil_agent_manager_send(VigilAgentRequest *request);

static void
vigil_agent_manager_reply_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilAgentRequest *request = user_data;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GError) error = NULL;
	VigilAgentAnswer answer;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply == NULL) {
		/* a crashed or confused agent: try the next one while there is time */
		g_message("agent %s%s gave no answer to %s: %s",
			  request->agent->sender,
			  request->agent->path,
			  request->id,
			  error->message);
		vigil_agent_manager_send(request);
		return;
	}
	dict = g_variant_get_child_value(reply, 0);
	if (!vigil_agent_answer_parse(dict, &answer, &error)) {
		g_warning("agent %s%s answered %s with nonsense: %s",
			  request->agent->sender,
			  request->agent->path,
			  request->id,
			  error->message);
		vigil_agent_manager_finish(request, NULL);
		return;
	}
	vigil_agent_manager_finish(request, &answer);
}

static void
vigil_agent_manager_send(VigilAgentRequest *request)
{
	VigilAgentManager *self = request->self;
	VigilAgent *agent;
	gint64 remaining = request->deadline - g_get_real_time();

	g_clear_pointer(&request->agent, vigil_agent_unref);
	agent = vigil_agent_manager_pick(self, request->uid_known, request->uid, request->tried);
	if (agent == NULL || remaining <= 0) {
		vigil_agent_manager_finish(request, NULL);
		return;
	}
	g_ptr_array_add(request->tried, vigil_agent_ref(agent));
	request->agent = vigil_agent_ref(agent);
	g_clear_object(&request->cancellable);
	request->cancellable = g_cancellable_new();
	g_dbus_connection_call(self->connection,
			       agent->sender,
			       agent->path,
			       VIGIL_DBUS_AGENT_INTERFACE,
			       "RequestVerdict",
			       g_variant_new("(@a{sv})", request->request),
			       G_VARIANT_TYPE("(a{sv})"),
			       G_DBUS_CALL_FLAGS_NO_AUTO_START,
			       (gint)(remaining / 1000) + 1000,
			       request->cancellable,
			       vigil_agent_manager_reply_cb,
			       request);
}

static gboolean
vigil_agent_manager_deadline_cb(gpointer user_data)
{
	VigilAgentRequest *request = user_data;

	request->deadline_id = 0;
	g_message("prompt %s timed out", request->id);
	vigil_agent_manager_send_cancel(request->self, request->agent, request->id);
	vigil_agent_manager_finish(request, NULL);
	return G_SOURCE_REMOVE;
}

/**
 * vigil_agent_manager_ask:
 * @request: a{sv} describing the connection; "request-id" and "deadline" are added here
 *
 * Asks the best agent for the process owner @uid, holding nothing itself: @func is called
 * exactly once, with the answer or %NULL (deadline passed, no agent left, bad answer).
 *
 * Returns: the request id, or %NULL when no agent may be asked (@func is not called)
 */
gchar *
vigil_agent_manager_ask(VigilAgentManager *self,
			gboolean uid_known,
			guint32 uid,
			GVariant *request_dict,
			VigilAgentAnswerFunc func,
			gpointer user_data)
{
	VigilAgentRequest *request;
	GVariantBuilder builder;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;
	g_autoptr(GVariant) sunk = g_variant_ref_sink(request_dict);

	if (!vigil_agent_manager_can_ask(self, uid_known, uid))
		return NULL;

	request = g_new0(VigilAgentRequest, 1);
	request->self = self;
	request->id = g_strdup_printf("q-%" G_GUINT64_FORMAT, ++self->next_request);
	request->uid_known = uid_known;
	request->uid = uid;
	request->deadline = g_get_real_time() + (gint64)self->timeout * G_USEC_PER_SEC;
	request->func = func;
	request->user_data = user_data;
	request->tried = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_agent_unref);

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, sunk);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&builder, "{sv}", "request-id", g_variant_new_string(request->id));
	g_variant_builder_add(&builder, "{sv}", "deadline", g_variant_new_int64(request->deadline));
	request->request = g_variant_ref_sink(g_variant_builder_end(&builder));
	request->deadline_id =
	    g_timeout_add_seconds(self->timeout, vigil_agent_manager_deadline_cb, request);
	g_hash_table_insert(self->requests, request->id, request);
	vigil_agent_manager_send(request);
	return g_strdup(request->id);
}

void
vigil_agent_manager_set_timeout(VigilAgentManager *self, guint seconds)
{
	self->timeout = MAX(seconds, 1);
}

static void
vigil_agent_manager_dispose(GObject *object)
{
	VigilAgentManager *self = VIGIL_AGENT_MANAGER(object);

	g_hash_table_remove_all(self->requests);
	g_ptr_array_set_size(self->agents, 0);
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(vigil_agent_manager_parent_class)->dispose(object);
}

static void
vigil_agent_manager_finalize(GObject *object)
{
	VigilAgentManager *self = VIGIL_AGENT_MANAGER(object);

	g_hash_table_unref(self->requests);
	g_ptr_array_unref(self->agents);
	G_OBJECT_CLASS(vigil_agent_manager_parent_class)->finalize(object);
}

static void
vigil_agent_manager_class_init(VigilAgentManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_agent_manager_dispose;
	object_class->finalize = vigil_agent_manager_finalize;
}

static void
vigil_agent_manager_init(VigilAgentManager *self)
{
	self->agents = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_agent_unref);
	self->requests = g_hash_table_new_full(g_str_hash,
					       g_str_equal,
					       NULL,
					       (GDestroyNotify)vigil_agent_request_free);
	self->timeout = 30;
}

VigilAgentManager *
vigil_agent_manager_new(GDBusConnection *connection)
{
	VigilAgentManager *self = g_object_new(VIGIL_TYPE_AGENT_MANAGER, NULL);
	self->connection = g_object_ref(connection);
	return self;
}
