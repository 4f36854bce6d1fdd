/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilDaemon"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-daemon.h"
#include "vigil-error.h"
#include "vigil-nfqueue.h"
#include "vigil-nft-plan.h"
#include "vigil-packet.h"
#include "vigil-rule-store.h"

/* events waiting for a slow reader of --print-events beyond this are dropped and counted */
#define PRINT_EVENTS_MAX_PENDING (8 * 1024 * 1024)

struct _VigilDaemon {
	GObject parent_instance;
	VigilConfig *config;
	VigilNftBackend *backend;
	VigilNfqueue *queue;
	VigilRuleSet *rule_set;
	VigilRuleStore *store;
	VigilMode mode;
	gboolean started;
	guint expiry_id;
	GQueue recent;		 /* of VigilEvent, oldest first */
	GHashTable *iface_names; /* ifindex -> name */
	GHashTable *user_names;	 /* uid -> name */
	gint print_fd;
	GString *print_pending;
	guint print_idle_id;
	guint print_watch_id;
	guint64 print_dropped;
	guint64 counters[VIGIL_ACTION_LAST];
	guint64 malformed;
};

G_DEFINE_FINAL_TYPE(VigilDaemon, vigil_daemon, G_TYPE_OBJECT)

static void
vigil_daemon_schedule_expiry(VigilDaemon *self);

static const gchar *
vigil_daemon_lookup_iface(VigilDaemon *self, guint32 ifindex)
{
	gchar buf[IF_NAMESIZE];
	const gchar *name;

	if (ifindex == 0)
		return NULL;
	name = g_hash_table_lookup(self->iface_names, GUINT_TO_POINTER(ifindex));
	if (name != NULL)
		return name;
	/* interfaces come and go rarely; the network monitor will refresh this on rtnetlink
	 * events, until then a cached name is good enough */
	if (if_indextoname(ifindex, buf) == NULL)
		return NULL;
	name = g_strdup(buf);
	g_hash_table_insert(self->iface_names, GUINT_TO_POINTER(ifindex), (gpointer)name);
	return name;
}

static const gchar *
vigil_daemon_lookup_user(VigilDaemon *self, guint32 uid)
{
	struct passwd pwd;
	struct passwd *result = NULL;
	gchar buf[1024];
	const gchar *name;

	name = g_hash_table_lookup(self->user_names, GUINT_TO_POINTER(uid));
	if (name != NULL)
		return name;
	if (getpwuid_r(uid, &pwd, buf, sizeof(buf), &result) != 0 || result == NULL)
		return NULL;
	name = g_strdup(pwd.pw_name);
	g_hash_table_insert(self->user_names, GUINT_TO_POINTER(uid), (gpointer)name);
	return name;
}

static gboolean
vigil_daemon_print_flush(VigilDaemon *self)
{
	while (self->print_pending->len > 0) {
		gssize wrote =
		    write(self->print_fd, self->print_pending->str, self->print_pending->len);
		if (wrote < 0) {
			int errsv = errno;
			if (errsv == EINTR)
				continue;
			if (errsv == EAGAIN)
				return FALSE;
			g_warning("stopped printing events: %s", g_strerror(errsv));
			self->print_fd = -1;
			g_string_truncate(self->print_pending, 0);
			return TRUE;
		}
		g_string_erase(self->print_pending, 0, wrote);
	}
	return TRUE;
}

static gboolean
vigil_daemon_print_writable_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	if (self->print_fd >= 0 && !vigil_daemon_print_flush(self))
		return G_SOURCE_CONTINUE;
	self->print_watch_id = 0;
	return G_SOURCE_REMOVE;
}

static gboolean
vigil_daemon_print_idle_cb(gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);

	self->print_idle_id = 0;
	if (self->print_fd < 0 || self->print_watch_id != 0)
		return G_SOURCE_REMOVE;
	if (!vigil_daemon_print_flush(self)) {
		self->print_watch_id =
		    g_unix_fd_add(self->print_fd, G_IO_OUT, vigil_daemon_print_writable_cb, self);
	}
	return G_SOURCE_REMOVE;
}

static void
vigil_daemon_emit_event(VigilDaemon *self, VigilEvent *event)
{
	self->counters[event->verdict]++;

	g_queue_push_tail(&self->recent, vigil_event_ref(event));
	while (self->recent.length > self->config->recent_events)
		vigil_event_unref(g_queue_pop_head(&self->recent));

	if (self->config->log_verdicts) {
		g_autofree gchar *summary = vigil_event_to_summary(event);
		g_log_structured(G_LOG_DOMAIN "Verdict",
				 G_LOG_LEVEL_INFO,
				 "MESSAGE",
				 "%s",
				 summary,
				 "VIGIL_VERDICT",
				 "%s",
				 vigil_action_to_string(event->verdict));
	}

	/* written in one go after the current batch of packets, so a busy queue costs one
	 * write() per batch rather than one per packet */
	if (self->print_fd >= 0) {
		if (self->print_pending->len > PRINT_EVENTS_MAX_PENDING) {
			if (self->print_dropped++ % 10000 == 0)
				g_warning("event reader too slow, %" G_GUINT64_FORMAT
					  " events not printed",
					  self->print_dropped);
			return;
		}
		vigil_event_append_json(event, self->print_pending);
		g_string_append_c(self->print_pending, '\n');
		if (self->print_idle_id == 0 && self->print_watch_id == 0) {
			self->print_idle_id = g_idle_add_full(G_PRIORITY_DEFAULT_IDLE,
							      vigil_daemon_print_idle_cb,
							      self,
							      NULL);
		}
	}
}

/* the decision for a flow: rules apply in every mode but monitor and block-all */
static VigilAction
vigil_daemon_decide(VigilDaemon *self,
		    const VigilRuleQuery *query,
		    VigilReason *reason,
		    VigilRule **rule_out)
{
	VigilRule *rule;

	*rule_out = NULL;
	switch (self->mode) {
	case VIGIL_MODE_MONITOR:
		*reason = VIGIL_REASON_MODE;
		return VIGIL_ACTION_ALLOW;
	case VIGIL_MODE_BLOCK_ALL:
		*reason = VIGIL_REASON_MODE;
		return VIGIL_ACTION_REJECT;
	case VIGIL_MODE_ASK:
	case VIGIL_MODE_ALLOW:
	case VIGIL_MODE_DENY:
		break;
	default:
		g_assert_not_reached();
	}

	rule = vigil_rule_set_lookup(self->rule_set, query);
	if (rule != NULL) {
		*reason = VIGIL_REASON_RULE;
		*rule_out = rule;
		return vigil_rule_get_action(rule);
	}
	if (self->mode == VIGIL_MODE_ALLOW) {
		*reason = VIGIL_REASON_MODE;
		return VIGIL_ACTION_ALLOW;
	}
	if (self->mode == VIGIL_MODE_DENY) {
		*reason = VIGIL_REASON_MODE;
		return VIGIL_ACTION_DENY;
	}
	/* ask: until prompt agents exist, nobody can answer, so the default applies */
	*reason = VIGIL_REASON_DEFAULT;
	return self->config->default_action;
}

static void
vigil_daemon_packet_cb(VigilNfqueue *queue, const VigilNfqueuePacket *qpacket, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	VigilPacket packet;
	VigilRuleQuery query = {0};
	VigilRule *rule = NULL;
	VigilReason reason = VIGIL_REASON_MODE;
	VigilAction action;
	g_autoptr(VigilEvent) event = NULL;
	g_autoptr(GError) error = NULL;
	gboolean outbound = qpacket->hook != NF_INET_LOCAL_IN;
	gint64 now_us;

	if (!vigil_packet_parse(qpacket->payload, qpacket->payload_len, &packet, &error)) {
		/* a packet we cannot read cannot be attributed or matched: only monitor mode
		 * lets it through */
		self->malformed++;
		if (self->malformed % 1000 == 1)
			g_message("malformed packet %u (%" G_GUINT64_FORMAT " so far): %s",
				  qpacket->packet_id,
				  self->malformed,
				  error->message);
		vigil_nfqueue_verdict(queue,
				      qpacket->packet_id,
				      self->mode == VIGIL_MODE_MONITOR ? VIGIL_ACTION_ALLOW
								       : VIGIL_ACTION_DENY);
		return;
	}

	query.direction = outbound ? VIGIL_DIRECTION_OUT : VIGIL_DIRECTION_IN;
	query.protocol = packet.protocol;
	query.family = packet.family;
	memcpy(query.addr, outbound ? packet.dst : packet.src, sizeof(query.addr));
	query.port = packet.dport;
	query.uid_known = qpacket->uid_known;
	query.uid = qpacket->uid;
	now_us = g_get_real_time();
	query.now = now_us / G_USEC_PER_SEC;

	action = vigil_daemon_decide(self, &query, &reason, &rule);
	vigil_nfqueue_verdict(queue, qpacket->packet_id, action);

	event = vigil_event_new();
	event->time_us = now_us;
	event->verdict = action;
	event->reason = reason;
	if (rule != NULL) {
		event->rule_id = g_strdup(vigil_rule_get_id(rule));
		vigil_rule_set_record_hit(self->rule_set, rule, query.now);
	}
	event->direction = query.direction;
	event->protocol = packet.protocol;
	event->family = packet.family;
	memcpy(event->src, packet.src, sizeof(event->src));
	memcpy(event->dst, packet.dst, sizeof(event->dst));
	event->has_ports =
	    !packet.fragment && !packet.truncated &&
	    (packet.protocol == VIGIL_PROTOCOL_TCP || packet.protocol == VIGIL_PROTOCOL_UDP ||
	     packet.protocol == VIGIL_PROTOCOL_SCTP || packet.protocol == VIGIL_PROTOCOL_UDPLITE);
	event->sport = packet.sport;
	event->dport = packet.dport;
	event->iface =
	    g_strdup(vigil_daemon_lookup_iface(self, outbound ? qpacket->outdev : qpacket->indev));
	event->uid_known = qpacket->uid_known;
	event->uid = qpacket->uid;
	if (qpacket->uid_known)
		event->user = g_strdup(vigil_daemon_lookup_user(self, qpacket->uid));
	vigil_daemon_emit_event(self, event);
}

static void
vigil_daemon_fill_nft_config(VigilDaemon *self, VigilNftConfig *nft_config)
{
	memset(nft_config, 0, sizeof(*nft_config));
	nft_config->queue_num = self->config->queue_num;
	nft_config->fail_open = self->config->fail_open;
	nft_config->inbound = self->config->inbound;
	nft_config->intercept_loopback = self->config->intercept_loopback;
	nft_config->own_mark = self->config->own_mark;
	nft_config->reject_mark = self->config->reject_mark;
	nft_config->mode = self->mode;
}

static gboolean
vigil_daemon_apply_table(VigilDaemon *self, GError **error)
{
	VigilNftConfig nft_config;
	g_autoptr(VigilNftPlan) plan = NULL;

	vigil_daemon_fill_nft_config(self, &nft_config);
	plan = vigil_nft_plan_new_table(&nft_config);
	return vigil_nft_backend_apply(self->backend, plan, error);
}

static gboolean
vigil_daemon_expiry_cb(gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);

	self->expiry_id = 0;
	vigil_rule_set_expire(self->rule_set, g_get_real_time() / G_USEC_PER_SEC, removed);
	for (guint i = 0; i < removed->len; i++)
		g_info("rule %s expired", (const gchar *)g_ptr_array_index(removed, i));
	vigil_daemon_schedule_expiry(self);
	return G_SOURCE_REMOVE;
}

/* one timer for the next expiry, never a polling tick: an idle daemon does not wake up */
static void
vigil_daemon_schedule_expiry(VigilDaemon *self)
{
	gint64 next = vigil_rule_set_get_next_expiry(self->rule_set);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_clear_handle_id(&self->expiry_id, g_source_remove);
	if (next == G_MAXINT64)
		return;
	self->expiry_id =
	    g_timeout_add_seconds_full(G_PRIORITY_LOW,
				       (guint)CLAMP(next - now + 1, 1, G_MAXUINT32 / 1000),
				       vigil_daemon_expiry_cb,
				       self,
				       NULL);
}

gboolean
vigil_daemon_reload_rules(VigilDaemon *self, GError **error)
{
	g_autoptr(VigilRuleSet) rule_set = vigil_rule_set_new();
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *boot_id = NULL;

	if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id, NULL, NULL))
		vigil_rule_set_set_boot_id(rule_set, g_strstrip(boot_id));
	if (!vigil_rule_store_load(self->store, rule_set, problems, error))
		return FALSE;
	for (guint i = 0; i < problems->len; i++)
		g_warning("%s", (const gchar *)g_ptr_array_index(problems, i));
	vigil_rule_set_expire(rule_set, g_get_real_time() / G_USEC_PER_SEC, NULL);
	g_set_object(&self->rule_set, rule_set);
	g_message("loaded %u rules", vigil_rule_set_get_size(self->rule_set));
	vigil_daemon_schedule_expiry(self);
	return TRUE;
}

gboolean
vigil_daemon_start(VigilDaemon *self, GError **error)
{
	g_autofree gchar *rules_path = vigil_config_get_rules_path(self->config);

	g_return_val_if_fail(VIGIL_IS_DAEMON(self), FALSE);

	self->store = vigil_rule_store_new(rules_path, self->config->dropin_dir);
	if (!vigil_daemon_reload_rules(self, error))
		return FALSE;

	/* the queue listens before the table sends to it, so no packet waits on nobody */
	self->queue = vigil_nfqueue_new(self->config->queue_num);
	vigil_nfqueue_set_reject_mark(self->queue, self->config->reject_mark);
	vigil_nfqueue_set_fail_open(self->queue, self->config->fail_open);
	vigil_nfqueue_set_handler(self->queue, vigil_daemon_packet_cb, self);
	if (!vigil_nfqueue_open(self->queue, error))
		return FALSE;
	if (!vigil_daemon_apply_table(self, error)) {
		vigil_nfqueue_close(self->queue);
		return FALSE;
	}
	self->started = TRUE;
	g_message("filtering new connections: mode %s, queue %u, %s",
		  vigil_mode_to_string(self->mode),
		  self->config->queue_num,
		  self->config->fail_open ? "fail-open" : "fail-closed");
	return TRUE;
}

/* the table goes first so that nothing new is queued, then the queue */
void
vigil_daemon_stop(VigilDaemon *self)
{
	g_autoptr(GError) error = NULL;

	if (!self->started)
		return;
	self->started = FALSE;
	if (!vigil_nft_backend_remove(self->backend, &error))
		g_warning("failed to remove table inet vigil: %s", error->message);
	if (self->queue != NULL)
		vigil_nfqueue_close(self->queue);
	if (self->print_fd >= 0)
		vigil_daemon_print_flush(self);
}

gboolean
vigil_daemon_set_mode(VigilDaemon *self, VigilMode mode, GError **error)
{
	VigilMode old = self->mode;

	if (mode >= VIGIL_MODE_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "unknown mode %u",
			    mode);
		return FALSE;
	}
	self->mode = mode;
	/* block-all lives in the kernel table so that it holds even if vigild hangs */
	if (self->started && (old == VIGIL_MODE_BLOCK_ALL) != (mode == VIGIL_MODE_BLOCK_ALL)) {
		if (!vigil_daemon_apply_table(self, error)) {
			self->mode = old;
			return FALSE;
		}
	}
	g_message("mode is now %s", vigil_mode_to_string(mode));
	return TRUE;
}

VigilMode
vigil_daemon_get_mode(VigilDaemon *self)
{
	return self->mode;
}

VigilRuleSet *
vigil_daemon_get_rule_set(VigilDaemon *self)
{
	return self->rule_set;
}

void
vigil_daemon_set_print_events_fd(VigilDaemon *self, gint fd)
{
	struct stat st;

	self->print_fd = fd;
	/* a pipe to a slow reader must not stall the queue: write without blocking and keep
	 * what did not fit for later; terminals and files are left as they are */
	if (fd >= 0 && fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* newest last; returns refs */
GPtrArray *
vigil_daemon_get_recent_events(VigilDaemon *self, guint max)
{
	GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_event_unref);
	guint skip = 0;
	guint i = 0;

	if (max != 0 && self->recent.length > max)
		skip = self->recent.length - max;
	for (GList *l = self->recent.head; l != NULL; l = l->next, i++) {
		if (i >= skip)
			g_ptr_array_add(events, vigil_event_ref(l->data));
	}
	return events;
}

static void
vigil_daemon_dispose(GObject *object)
{
	VigilDaemon *self = VIGIL_DAEMON(object);

	vigil_daemon_stop(self);
	g_clear_handle_id(&self->expiry_id, g_source_remove);
	g_clear_handle_id(&self->print_idle_id, g_source_remove);
	g_clear_handle_id(&self->print_watch_id, g_source_remove);
	g_clear_object(&self->queue);
	g_clear_object(&self->backend);
	g_clear_object(&self->store);
	g_clear_object(&self->rule_set);
	G_OBJECT_CLASS(vigil_daemon_parent_class)->dispose(object);
}

static void
vigil_daemon_finalize(GObject *object)
{
	VigilDaemon *self = VIGIL_DAEMON(object);

	g_queue_clear_full(&self->recent, (GDestroyNotify)vigil_event_unref);
	g_hash_table_unref(self->iface_names);
	g_hash_table_unref(self->user_names);
	g_string_free(self->print_pending, TRUE);
	vigil_config_free(self->config);
	G_OBJECT_CLASS(vigil_daemon_parent_class)->finalize(object);
}

static void
vigil_daemon_class_init(VigilDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_daemon_dispose;
	object_class->finalize = vigil_daemon_finalize;
}

static void
vigil_daemon_init(VigilDaemon *self)
{
	g_queue_init(&self->recent);
	self->iface_names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	self->user_names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	self->print_fd = -1;
	self->print_pending = g_string_new(NULL);
	self->rule_set = vigil_rule_set_new();
}

/* takes ownership of @config */
VigilDaemon *
vigil_daemon_new(VigilConfig *config, VigilNftBackend *backend)
{
	VigilDaemon *self = g_object_new(VIGIL_TYPE_DAEMON, NULL);
	self->config = config;
	self->mode = config->mode;
	self->backend = g_object_ref(backend);
	return self;
}
