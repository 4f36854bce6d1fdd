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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-attribution.h"
#include "vigil-connection-table.h"
#include "vigil-daemon.h"
#include "vigil-dns-cache.h"
#include "vigil-dns-capture.h"
#include "vigil-error.h"
#include "vigil-netmon.h"
#include "vigil-nfqueue.h"
#include "vigil-nft-plan.h"
#include "vigil-nl-conntrack.h"
#include "vigil-packet.h"
#include "vigil-rule-import.h"
#include "vigil-rule-store.h"

/* an answer also covers the same app's connections to the same destination that arrive
 * this soon after it, so a burst that outlasts the question is not asked about twice */
#define PROMPT_GRACE_US	   (2 * G_USEC_PER_SEC)
#define RECENT_ANSWERS_MAX 1024

/* a client waits this long at most for a fresh conntrack dump */
#define REFRESH_TIMEOUT_MS 1000

/* verdict events go to D-Bus in batches at most this often */
#define EVENTS_BATCH_INTERVAL_MS 250

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
	GQueue recent;		/* of VigilEvent, oldest first */
	GHashTable *user_names; /* uid -> interned name */
	GHashTable *probed;	/* uplink key -> what was checked there (see uplink_signature) */
	gint print_fd;
	GString *print_pending;
	guint print_idle_id;
	guint print_watch_id;
	guint64 print_dropped;
	guint64 counters[VIGIL_ACTION_LAST];
	guint64 malformed;
	guint64 prompts_asked;
	guint64 prompt_timeouts;
	gint64 started_time;
	GPtrArray *batch; /* of VigilEvent, not yet signalled */
	guint batch_id;
	VigilAttribution *attribution;
	VigilDnsCache *dns_cache;
	VigilDnsCapture *dns_capture;
	VigilConnectionTable *connections;
	VigilNlConntrack *conntrack;
	VigilPortalChecker *portal;
	VigilNetmon *netmon;
	VigilAgentManager *agents;
	GHashTable *prompts;	    /* key -> VigilPrompt */
	GHashTable *recent_answers; /* key -> VigilRecentAnswer */
	GPtrArray *refreshes;	    /* of GTask, waiting for a conntrack dump */
	guint refresh_timeout_id;
};

typedef struct {
	VigilAction action;
	gchar *rule_id;
	gint64 until_us;
	guint32 pid; /* for an answer about one process only; 0 for the app */
	guint64 pid_start;
} VigilRecentAnswer;

static void
vigil_recent_answer_free(VigilRecentAnswer *recent)
{
	g_free(recent->rule_id);
	g_free(recent);
}

enum { SIGNAL_EVENTS, SIGNAL_RULES_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_FINAL_TYPE(VigilDaemon, vigil_daemon, G_TYPE_OBJECT)

static void
vigil_daemon_schedule_expiry(VigilDaemon *self);
static void
vigil_daemon_finish_refreshes(VigilDaemon *self, gboolean all);
static void
vigil_daemon_dump_finished_cb(VigilNlConntrack *conntrack, gboolean complete, gpointer user_data);

static const gchar *
vigil_daemon_lookup_iface(VigilDaemon *self, guint32 ifindex)
{
	gchar buf[IF_NAMESIZE];
	const gchar *name;

	if (ifindex == 0)
		return NULL;
	name = vigil_netmon_lookup_name(self->netmon, ifindex);
	if (name != NULL)
		return name;
	/* an interface so new that its link event is still on the way to the monitor */
	if (if_indextoname(ifindex, buf) == NULL)
		return NULL;
	return g_intern_string(buf);
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
	name = g_intern_string(pwd.pw_name);
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

static gboolean
vigil_daemon_batch_cb(gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	g_autoptr(GPtrArray) batch = self->batch;

	self->batch_id = 0;
	self->batch = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_event_unref);
	g_signal_emit(self, signals[SIGNAL_EVENTS], 0, batch);
	return G_SOURCE_REMOVE;
}

static void
vigil_daemon_emit_event(VigilDaemon *self, VigilEvent *event)
{
	self->counters[event->verdict]++;

	/* a timer only while events are waiting: an idle daemon never wakes up */
	g_ptr_array_add(self->batch, vigil_event_ref(event));
	if (self->batch_id == 0)
		self->batch_id =
		    g_timeout_add(EVENTS_BATCH_INTERVAL_MS, vigil_daemon_batch_cb, self);

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

/* one new connection on its way to a verdict; on the fast path it lives on the stack, and
 * it is copied to the heap only when it must wait (a /proc scan, a prompt) */
typedef struct {
	VigilDaemon *owner; /* a ref, only while waiting for a /proc scan */
	guint32 packet_id;
	VigilPacket packet;
	gboolean outbound;
	gboolean uid_known;
	guint32 uid;
	guint32 ifindex;
	gint64 time_us;
	VigilProcess *process;
	gchar *host;
	gboolean need_sha256;	     /* a rule pins the digest and it is not known yet */
	gboolean sha256_unavailable; /* the digest could not be read: such rules never match */
} VigilFlow;

static void
vigil_flow_free(VigilFlow *flow)
{
	g_clear_object(&flow->owner);
	g_clear_object(&flow->process);
	g_free(flow->host);
	g_free(flow);
}

static VigilFlow *
vigil_flow_copy(const VigilFlow *flow)
{
	VigilFlow *copy = g_memdup2(flow, sizeof(*flow));
	copy->owner = NULL;
	if (flow->process != NULL)
		copy->process = g_object_ref(flow->process);
	copy->host = g_strdup(flow->host);
	return copy;
}

/* a prompt in flight: every flow of the same app to the same destination waits on it */
typedef struct {
	VigilDaemon *self;
	gchar *key;
	gchar *request_id;
	GPtrArray *flows; /* of VigilFlow */
} VigilPrompt;

static void
vigil_prompt_free(VigilPrompt *prompt)
{
	g_free(prompt->key);
	g_free(prompt->request_id);
	g_ptr_array_unref(prompt->flows);
	g_free(prompt);
}

static const guint8 *
vigil_flow_remote(const VigilFlow *flow)
{
	return flow->outbound ? flow->packet.dst : flow->packet.src;
}

static gboolean
vigil_flow_has_ports(const VigilFlow *flow)
{
	guint8 protocol = flow->packet.protocol;
	return !flow->packet.fragment &&
	       (protocol == VIGIL_PROTOCOL_TCP || protocol == VIGIL_PROTOCOL_UDP ||
		protocol == VIGIL_PROTOCOL_SCTP || protocol == VIGIL_PROTOCOL_UDPLITE);
}

static gboolean
vigil_flow_get_uid(const VigilFlow *flow, guint32 *uid)
{
	if (flow->uid_known) {
		*uid = flow->uid;
		return TRUE;
	}
	if (flow->process != NULL) {
		*uid = vigil_process_get_uid(flow->process);
		return TRUE;
	}
	return FALSE;
}

static const gchar *
vigil_flow_get_exe_sha256_cb(gpointer user_data)
{
	VigilFlow *flow = user_data;
	g_autoptr(GError) error = NULL;
	const gchar *digest = vigil_process_get_exe_sha256(flow->process, &error);

	if (digest == NULL)
		g_debug("no digest for %s: %s",
			vigil_process_get_exe(flow->process),
			error->message);
	return digest;
}

static void
vigil_daemon_fill_query(VigilDaemon *self, VigilFlow *flow, VigilRuleQuery *query)
{
	memset(query, 0, sizeof(*query));
	query->direction = flow->outbound ? VIGIL_DIRECTION_OUT : VIGIL_DIRECTION_IN;
	query->protocol = flow->packet.protocol;
	query->family = flow->packet.family;
	memcpy(query->addr, vigil_flow_remote(flow), sizeof(query->addr));
	query->port = vigil_flow_has_ports(flow) ? flow->packet.dport : 0;
	query->host = flow->host;
	query->uid_known = vigil_flow_get_uid(flow, &query->uid);
	query->now = flow->time_us / G_USEC_PER_SEC;
	if (flow->process != NULL) {
		query->exe = vigil_process_get_exe(flow->process);
		query->app_id = vigil_process_get_app_id(flow->process);
		query->unit = vigil_process_get_unit(flow->process);
		query->pid = vigil_process_get_pid(flow->process);
		query->pid_start = vigil_process_get_start_time(flow->process);
		query->get_exe_sha256 = vigil_flow_get_exe_sha256_cb;
		query->user_data = flow;
	}
}

static void
vigil_daemon_finish_flow(VigilDaemon *self,
			 VigilFlow *flow,
			 VigilAction action,
			 VigilReason reason,
			 const gchar *rule_id)
{
	g_autoptr(VigilEvent) event = vigil_event_new();
	VigilConnectionAttribution attribution = VIGIL_CONNECTION_ATTRIBUTION_INIT;
	VigilConntrackTuple tuple;
	guint32 uid = 0;

	vigil_nfqueue_verdict(self->queue, flow->packet_id, action);

	event->time_us = flow->time_us;
	event->verdict = action;
	event->reason = reason;
	event->rule_id = g_strdup(rule_id);
	event->direction = flow->outbound ? VIGIL_DIRECTION_OUT : VIGIL_DIRECTION_IN;
	event->protocol = flow->packet.protocol;
	event->family = flow->packet.family;
	memcpy(event->src, flow->packet.src, sizeof(event->src));
	memcpy(event->dst, flow->packet.dst, sizeof(event->dst));
	event->has_ports = vigil_flow_has_ports(flow) && !flow->packet.truncated;
	event->sport = flow->packet.sport;
	event->dport = flow->packet.dport;
	/* the flow is done with its host name: the event takes it */
	event->host = g_steal_pointer(&flow->host);
	event->iface = vigil_daemon_lookup_iface(self, flow->ifindex);
	event->uid_known = vigil_flow_get_uid(flow, &uid);
	event->uid = uid;
	if (event->uid_known)
		event->user = vigil_daemon_lookup_user(self, uid);
	if (flow->process != NULL) {
		/* records are never changed once loaded, so the event borrows their strings */
		event->process = G_OBJECT(g_object_ref(flow->process));
		event->pid = vigil_process_get_pid(flow->process);
		event->exe = vigil_process_get_exe(flow->process);
		event->cmdline = vigil_process_get_cmdline(flow->process);
		event->app_id = vigil_process_get_app_id(flow->process);
		event->unit = vigil_process_get_unit(flow->process);
	}
	vigil_daemon_emit_event(self, event);

	/* the live table learns who made the connection; conntrack tells it the rest */
	if (self->connections != NULL) {
		vigil_conntrack_tuple_init_from_packet(&tuple, &flow->packet);
		attribution.pid = event->pid;
		if (event->uid_known)
			attribution.uid = event->uid;
		attribution.direction = event->direction;
		attribution.verdict = action;
		attribution.exe = event->exe;
		attribution.cmdline = event->cmdline;
		attribution.app_id = event->app_id;
		attribution.unit = event->unit;
		attribution.user = event->user;
		attribution.hostname = event->host;
		attribution.rule_id = rule_id;
		attribution.iface = event->iface;
		vigil_connection_table_set_attribution(self->connections, &tuple, &attribution);
		if (self->conntrack != NULL && action == VIGIL_ACTION_ALLOW)
			vigil_nl_conntrack_expect(self->conntrack);
	}
}

static gchar *
vigil_daemon_prompt_key(VigilFlow *flow)
{
	gchar addr[VIGIL_PACKET_ADDRESS_STRLEN];
	guint32 uid = G_MAXUINT32;

	vigil_flow_get_uid(flow, &uid);
	if (flow->host == NULL)
		vigil_packet_format_address(flow->packet.family,
					    vigil_flow_remote(flow),
					    addr,
					    sizeof(addr));
	/* same user, same app, same destination: one prompt */
	return g_strdup_printf("%u|%s|%s|%s",
			       uid,
			       flow->process != NULL ? vigil_process_get_exe(flow->process) : "?",
			       flow->outbound ? "out" : "in",
			       flow->host != NULL ? flow->host : addr);
}

static GVariant *
vigil_daemon_prompt_request(VigilDaemon *self, VigilFlow *flow)
{
	GVariantBuilder builder;
	gchar addr[VIGIL_PACKET_ADDRESS_STRLEN];
	guint32 uid = 0;
	const gchar *iface = vigil_daemon_lookup_iface(self, flow->ifindex);

#define ADD(key, value) g_variant_builder_add(&builder, "{sv}", key, value)
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	ADD("default-action",
	    g_variant_new_string(vigil_action_to_string(self->config->default_action)));
	ADD("direction", g_variant_new_string(flow->outbound ? "out" : "in"));
	if (vigil_protocol_to_string(flow->packet.protocol) != NULL)
		ADD("proto", g_variant_new_string(vigil_protocol_to_string(flow->packet.protocol)));
	ADD("family", g_variant_new_uint32(flow->packet.family));
	vigil_packet_format_address(flow->packet.family, flow->packet.src, addr, sizeof(addr));
	ADD("src", g_variant_new_string(addr));
	vigil_packet_format_address(flow->packet.family, flow->packet.dst, addr, sizeof(addr));
	ADD("dst", g_variant_new_string(addr));
	if (vigil_flow_has_ports(flow)) {
		ADD("sport", g_variant_new_uint16(flow->packet.sport));
		ADD("dport", g_variant_new_uint16(flow->packet.dport));
	}
	if (flow->host != NULL)
		ADD("host", g_variant_new_string(flow->host));
	if (iface != NULL)
		ADD("iface", g_variant_new_string(iface));
	if (vigil_flow_get_uid(flow, &uid)) {
		ADD("uid", g_variant_new_uint32(uid));
		if (vigil_daemon_lookup_user(self, uid) != NULL)
			ADD("user", g_variant_new_string(vigil_daemon_lookup_user(self, uid)));
	}
	if (flow->process != NULL) {
		const gchar *value;
		ADD("pid", g_variant_new_uint32(vigil_process_get_pid(flow->process)));
		if ((value = vigil_process_get_exe(flow->process)) != NULL)
			ADD("exe", g_variant_new_string(value));
		if ((value = vigil_process_get_cmdline(flow->process)) != NULL &&
		    g_utf8_validate(value, -1, NULL))
			ADD("cmdline", g_variant_new_string(value));
		if ((value = vigil_process_get_app_id(flow->process)) != NULL)
			ADD("app-id", g_variant_new_string(value));
		if ((value = vigil_process_get_unit(flow->process)) != NULL)
			ADD("unit", g_variant_new_string(value));
		if ((value = vigil_process_get_parent_exe(flow->process)) != NULL)
			ADD("parent-exe", g_variant_new_string(value));
	}
	ADD("count", g_variant_new_uint32(1));
#undef ADD
	return g_variant_builder_end(&builder);
}

/* "this domain": the host without its first label, as *.rest, when that leaves at least
 * two labels (www.example.org -> *.example.org); otherwise the host itself as a domain.
 * Without a public suffix list this errs towards the narrower rule. */
static gchar *
vigil_daemon_domain_of(const gchar *host)
{
	const gchar *dot = strchr(host, '.');
	if (dot != NULL && strchr(dot + 1, '.') != NULL)
		return g_strdup_printf("*.%s", dot + 1);
	return g_strdup_printf("*.%s", host);
}

/* turns an answer into a rule, or returns NULL when it only covers these connections */
static VigilRule *
vigil_daemon_rule_from_answer(VigilDaemon *self, VigilFlow *flow, const VigilAgentAnswer *answer)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	gchar addr[VIGIL_PACKET_ADDRESS_STRLEN];
	guint32 uid = 0;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (answer->lifetime == VIGIL_LIFETIME_ONCE)
		return NULL;
	vigil_rule_set_action(rule, answer->action);
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_PROMPT);
	vigil_rule_set_created(rule, now);
	vigil_rule_set_lifetime(rule, answer->lifetime);
	vigil_rule_set_direction(rule, flow->outbound ? VIGIL_DIRECTION_OUT : VIGIL_DIRECTION_IN);
	vigil_rule_set_protocol(rule, flow->packet.protocol);

	/* an answer binds its own user's processes only */
	if (vigil_flow_get_uid(flow, &uid))
		vigil_rule_set_user(rule, uid);
	switch (answer->scope_app) {
	case VIGIL_SCOPE_APP_EXE:
		if (flow->process == NULL || vigil_process_get_exe(flow->process) == NULL)
			return NULL;
		vigil_rule_set_exe(rule, vigil_process_get_exe(flow->process));
		break;
	case VIGIL_SCOPE_APP_APP_ID:
		if (flow->process == NULL || vigil_process_get_app_id(flow->process) == NULL)
			return NULL;
		vigil_rule_set_app_id(rule, vigil_process_get_app_id(flow->process));
		break;
	case VIGIL_SCOPE_APP_UNIT:
		if (flow->process == NULL || vigil_process_get_unit(flow->process) == NULL)
			return NULL;
		vigil_rule_set_unit(rule, vigil_process_get_unit(flow->process));
		break;
	case VIGIL_SCOPE_APP_ANY:
	case VIGIL_SCOPE_APP_LAST:
	default:
		break;
	}
	vigil_packet_format_address(flow->packet.family,
				    vigil_flow_remote(flow),
				    addr,
				    sizeof(addr));
	switch (answer->scope_destination) {
	case VIGIL_SCOPE_DESTINATION_HOST:
		if (flow->host != NULL)
			vigil_rule_set_host(rule, flow->host, &error);
		else
			vigil_rule_set_cidr(rule, addr, &error);
		break;
	case VIGIL_SCOPE_DESTINATION_DOMAIN:
		if (flow->host != NULL) {
			g_autofree gchar *domain = vigil_daemon_domain_of(flow->host);
			vigil_rule_set_host(rule, domain, &error);
		} else {
			vigil_rule_set_cidr(rule, addr, &error);
		}
		break;
	case VIGIL_SCOPE_DESTINATION_IP:
		vigil_rule_set_cidr(rule, addr, &error);
		break;
	case VIGIL_SCOPE_DESTINATION_PORT:
	case VIGIL_SCOPE_DESTINATION_ANY:
	case VIGIL_SCOPE_DESTINATION_LAST:
	default:
		break;
	}
	if (error != NULL) {
		g_warning("cannot make a rule of the answer: %s", error->message);
		return NULL;
	}
	if (answer->pin_port && vigil_flow_has_ports(flow))
		vigil_rule_set_port_range(rule, flow->packet.dport, flow->packet.dport);
	if (answer->lifetime == VIGIL_LIFETIME_UNTIL)
		vigil_rule_set_expires(rule, now + answer->duration);
	if (answer->lifetime == VIGIL_LIFETIME_PROCESS) {
		if (flow->process == NULL)
			return NULL;
		vigil_rule_set_process(rule,
				       vigil_process_get_pid(flow->process),
				       vigil_process_get_start_time(flow->process));
	}
	if (answer->lifetime == VIGIL_LIFETIME_REBOOT)
		vigil_rule_set_boot_id(rule, vigil_rule_set_get_boot_id(self->rule_set));
	return g_steal_pointer(&rule);
}

static void
vigil_daemon_prompt_answer_cb(VigilAgentManager *agents,
			      const gchar *request_id,
			      const VigilAgentAnswer *answer,
			      gpointer user_data)
{
	VigilPrompt *prompt = user_data;
	VigilDaemon *self = prompt->self;
	g_autoptr(VigilRule) rule = NULL;
	g_autofree gchar *rule_id = NULL;
	VigilAction action = self->config->default_action;
	VigilReason reason = VIGIL_REASON_TIMEOUT;

	/* stealing from the table keeps @prompt alive until the end of this function */
	g_hash_table_steal(self->prompts, prompt->key);
	if (answer != NULL) {
		VigilRecentAnswer *recent = g_new0(VigilRecentAnswer, 1);
		GHashTableIter iter;
		gint64 now = g_get_real_time();
		action = answer->action;
		reason = VIGIL_REASON_PROMPT;
		rule = vigil_daemon_rule_from_answer(self,
						     g_ptr_array_index(prompt->flows, 0),
						     answer);
		if (rule != NULL) {
			g_autoptr(GError) error = NULL;
			rule_id = vigil_daemon_add_rule(self, rule, &error);
			if (rule_id == NULL)
				g_warning("cannot keep the rule of prompt %s: %s",
					  request_id,
					  error->message);
		}
		/* remembered briefly, without a timer: expired ones go when the table fills */
		if (g_hash_table_size(self->recent_answers) >= RECENT_ANSWERS_MAX) {
			VigilRecentAnswer *old;
			g_hash_table_iter_init(&iter, self->recent_answers);
			while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&old)) {
				if (old->until_us <= now)
					g_hash_table_iter_remove(&iter);
			}
		}
		if (g_hash_table_size(self->recent_answers) < RECENT_ANSWERS_MAX) {
			VigilFlow *first = g_ptr_array_index(prompt->flows, 0);
			recent->action = action;
			recent->rule_id = g_strdup(rule_id);
			recent->until_us = now + PROMPT_GRACE_US;
			/* "until this process exits" says nothing about the app's other processes
			 */
			if (answer->lifetime == VIGIL_LIFETIME_PROCESS && first->process != NULL) {
				recent->pid = vigil_process_get_pid(first->process);
				recent->pid_start = vigil_process_get_start_time(first->process);
			}
			g_hash_table_replace(self->recent_answers, g_strdup(prompt->key), recent);
		} else {
			vigil_recent_answer_free(recent);
		}
	} else {
		self->prompt_timeouts++;
	}
	for (guint i = 0; i < prompt->flows->len; i++)
		vigil_daemon_finish_flow(self,
					 g_ptr_array_index(prompt->flows, i),
					 action,
					 reason,
					 rule_id);
	vigil_prompt_free(prompt);
}

/* returns TRUE when the flow now waits for an answer */
static gboolean
vigil_daemon_prompt(VigilDaemon *self, VigilFlow *flow)
{
	g_autofree gchar *key = NULL;
	VigilPrompt *prompt;
	VigilRecentAnswer *recent;
	guint32 uid = 0;
	gboolean uid_known;

	if (self->agents == NULL)
		return FALSE;
	key = vigil_daemon_prompt_key(flow);
	recent = g_hash_table_lookup(self->recent_answers, key);
	if (recent != NULL && recent->until_us > flow->time_us &&
	    (recent->pid == 0 ||
	     (flow->process != NULL && vigil_process_get_pid(flow->process) == recent->pid &&
	      vigil_process_get_start_time(flow->process) == recent->pid_start))) {
		vigil_daemon_finish_flow(self,
					 flow,
					 recent->action,
					 VIGIL_REASON_PROMPT,
					 recent->rule_id);
		return TRUE;
	}
	prompt = g_hash_table_lookup(self->prompts, key);
	if (prompt != NULL) {
		g_ptr_array_add(prompt->flows, vigil_flow_copy(flow));
		return TRUE;
	}
	uid_known = vigil_flow_get_uid(flow, &uid);
	if (!vigil_agent_manager_can_ask(self->agents, uid_known, uid))
		return FALSE;
	prompt = g_new0(VigilPrompt, 1);
	prompt->self = self;
	prompt->key = g_steal_pointer(&key);
	prompt->flows = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_flow_free);
	g_ptr_array_add(prompt->flows, vigil_flow_copy(flow));
	g_hash_table_insert(self->prompts, prompt->key, prompt);
	prompt->request_id = vigil_agent_manager_ask(self->agents,
						     uid_known,
						     uid,
						     vigil_daemon_prompt_request(self, flow),
						     vigil_daemon_prompt_answer_cb,
						     prompt);
	if (prompt->request_id == NULL) {
		g_hash_table_steal(self->prompts, prompt->key);
		vigil_prompt_free(prompt);
		return FALSE;
	}
	self->prompts_asked++;
	return TRUE;
}

static void
vigil_daemon_decide(VigilDaemon *self, VigilFlow *flow);

static void
vigil_daemon_sha256_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilFlow *flow = user_data;
	VigilDaemon *self = flow->owner;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *digest = NULL;

	digest = vigil_process_get_exe_sha256_finish(VIGIL_PROCESS(source), res, &error);
	if (!self->started) {
		vigil_flow_free(flow);
		return;
	}
	if (digest == NULL) {
		/* no digest, no match for a rule that pins one: decided without it */
		g_debug("no digest for %s: %s",
			vigil_process_get_exe(flow->process),
			error->message);
		flow->sha256_unavailable = TRUE;
	}
	vigil_daemon_decide(self, flow);
	vigil_flow_free(flow);
}

/* rules apply in every mode but monitor and block-all; in ask mode a prompt may hold it */
static void
vigil_daemon_decide(VigilDaemon *self, VigilFlow *flow)
{
	VigilRuleQuery query;
	VigilRule *rule;
	VigilAction action;

	switch (self->mode) {
	case VIGIL_MODE_MONITOR:
		vigil_daemon_finish_flow(self, flow, VIGIL_ACTION_ALLOW, VIGIL_REASON_MODE, NULL);
		return;
	case VIGIL_MODE_BLOCK_ALL:
		vigil_daemon_finish_flow(self, flow, VIGIL_ACTION_REJECT, VIGIL_REASON_MODE, NULL);
		return;
	case VIGIL_MODE_ASK:
	case VIGIL_MODE_ALLOW:
	case VIGIL_MODE_DENY:
		break;
	default:
		g_assert_not_reached();
	}

	vigil_daemon_fill_query(self, flow, &query);
	flow->need_sha256 = FALSE;
	rule = vigil_rule_set_lookup(self->rule_set, &query);
	if (flow->need_sha256) {
		VigilFlow *waiting = vigil_flow_copy(flow);
		waiting->owner = g_object_ref(self);
		vigil_process_get_exe_sha256_async(flow->process,
						   NULL,
						   vigil_daemon_sha256_cb,
						   waiting);
		return;
	}
	if (rule != NULL) {
		g_autoptr(VigilRule) hold = g_object_ref(rule);
		/* a once rule is consumed by record_hit: take what is needed first */
		g_autofree gchar *rule_id = g_strdup(vigil_rule_get_id(rule));
		action = vigil_rule_get_action(rule);
		vigil_rule_set_record_hit(self->rule_set, rule, query.now);
		vigil_daemon_finish_flow(self, flow, action, VIGIL_REASON_RULE, rule_id);
		return;
	}
	if (self->mode == VIGIL_MODE_ALLOW) {
		vigil_daemon_finish_flow(self, flow, VIGIL_ACTION_ALLOW, VIGIL_REASON_MODE, NULL);
		return;
	}
	if (self->mode == VIGIL_MODE_DENY) {
		vigil_daemon_finish_flow(self, flow, VIGIL_ACTION_DENY, VIGIL_REASON_MODE, NULL);
		return;
	}
	if (vigil_daemon_prompt(self, flow))
		return;
	vigil_daemon_finish_flow(self,
				 flow,
				 self->config->default_action,
				 VIGIL_REASON_DEFAULT,
				 NULL);
}

static void
vigil_daemon_name_flow(VigilDaemon *self, VigilFlow *flow)
{
	gint pid = flow->process != NULL ? (gint)vigil_process_get_pid(flow->process) : 0;

	if (self->dns_cache == NULL || flow->host != NULL)
		return;
	flow->host = vigil_dns_cache_lookup_name(self->dns_cache,
						 flow->packet.family,
						 vigil_flow_remote(flow),
						 pid);
}

static void
vigil_daemon_attribution_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilFlow *flow = user_data;
	g_autoptr(GError) error = NULL;
	VigilDaemon *self = flow->owner;

	flow->process = vigil_attribution_lookup_finish(VIGIL_ATTRIBUTION(source), res, &error);
	if (!self->started) {
		vigil_flow_free(flow);
		return;
	}
	vigil_daemon_name_flow(self, flow);
	vigil_daemon_decide(self, flow);
	vigil_flow_free(flow);
}

static void
vigil_daemon_packet_cb(VigilNfqueue *queue, const VigilNfqueuePacket *qpacket, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	VigilFlow flow = {0};
	g_autoptr(GError) error = NULL;
	gboolean need_scan = FALSE;

	if (!vigil_packet_parse(qpacket->payload, qpacket->payload_len, &flow.packet, &error)) {
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
	flow.packet_id = qpacket->packet_id;
	flow.outbound = qpacket->hook != NF_INET_LOCAL_IN;
	flow.uid_known = qpacket->uid_known;
	flow.uid = qpacket->uid;
	flow.ifindex = flow.outbound ? qpacket->outdev : qpacket->indev;
	flow.time_us = g_get_real_time();

	/* block-all needs to know nothing about the process */
	if (self->attribution != NULL && self->mode != VIGIL_MODE_BLOCK_ALL) {
		VigilFlowKey key;
		vigil_flow_key_init_from_packet(&key, &flow.packet, flow.outbound);
		key.uid_known = flow.uid_known;
		key.uid = flow.uid;
		key.ifindex = flow.ifindex;
		flow.process = vigil_attribution_lookup_full(
		    self->attribution,
		    &key,
		    qpacket->queued_before_poll ? VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL
						: VIGIL_ATTRIBUTION_LOOKUP_NONE,
		    &need_scan);
		if (flow.process == NULL && need_scan) {
			/* only this packet waits for the /proc scan; the queue goes on */
			VigilFlow *waiting = vigil_flow_copy(&flow);
			waiting->owner = g_object_ref(self);
			vigil_attribution_lookup_async(self->attribution,
						       &key,
						       NULL,
						       vigil_daemon_attribution_cb,
						       waiting);
			return;
		}
	}
	vigil_daemon_name_flow(self, &flow);
	vigil_daemon_decide(self, &flow);
	g_clear_object(&flow.process);
	g_free(flow.host);
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

static gint
vigil_daemon_dns_pid_cb(const VigilDnsFlow *dns_flow, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	g_autoptr(VigilProcess) process = NULL;
	VigilFlowKey key = {0};
	gboolean need_scan = FALSE;

	/* whose lookup was it: the fast path only, a name is worth no /proc scan */
	if (self->attribution == NULL)
		return 0;
	key.protocol = dns_flow->protocol;
	key.family = dns_flow->family;
	memcpy(key.local, dns_flow->client, sizeof(key.local));
	memcpy(key.remote, dns_flow->server, sizeof(key.remote));
	key.local_port = dns_flow->client_port;
	key.remote_port = dns_flow->server_port;
	process = vigil_attribution_lookup(self->attribution, &key, &need_scan);
	return process != NULL ? (gint)vigil_process_get_pid(process) : 0;
}

static const gchar *
vigil_daemon_first_reason(const VigilNetmonInterface *iface, guint family)
{
	GStrv reasons = iface->reasons[vigil_netmon_family_index(family)];

	if (reasons == NULL || reasons[0] == NULL)
		return "not ranked";
	return reasons[0];
}

/* one interface and family, as a hash key */
static gpointer
vigil_daemon_uplink_key(guint ifindex, guint family)
{
	return GUINT_TO_POINTER(ifindex << 1 | vigil_netmon_family_index(family));
}

/* what makes a network new for the checker: the interface's name, its addresses of the
 * family and the gateway of its default route. A change of metric alone is not a new
 * network; a lost carrier makes the interface no uplink, so coming back is a new check */
static gchar *
vigil_daemon_uplink_signature(const VigilNetmonInterface *iface, guint family)
{
	guint index = vigil_netmon_family_index(family);
	GString *str = g_string_new(iface->name);

	for (guint i = 0; iface->addresses != NULL && iface->addresses[i] != NULL; i++) {
		gboolean v6 = strchr(iface->addresses[i], ':') != NULL;
		if (v6 == (family == 6))
			g_string_append_printf(str, " %s", iface->addresses[i]);
	}
	g_string_append_printf(str,
			       " via %s",
			       iface->gateway[index] != NULL ? iface->gateway[index] : "link");
	return g_string_free(str, FALSE);
}

/* the network monitor saw links, addresses or routes change: check the uplinks that are
 * new or changed, and forget the interfaces and families that are no uplink any more */
static void
vigil_daemon_netmon_changed_cb(VigilNetmon *netmon, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	g_autoptr(GPtrArray) ifaces = vigil_netmon_get_interfaces(netmon);
	g_autoptr(GHashTable) now =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < ifaces->len; i++) {
		const VigilNetmonInterface *iface = g_ptr_array_index(ifaces, i);

		for (guint family = 4; family <= 6; family += 2) {
			gpointer uplink = vigil_daemon_uplink_key(iface->ifindex, family);
			g_autofree gchar *signature = NULL;
			const gchar *old;

			if (iface->rank[vigil_netmon_family_index(family)] < 0)
				continue;
			signature = vigil_daemon_uplink_signature(iface, family);
			old = g_hash_table_lookup(self->probed, uplink);
			if (old == NULL || !g_str_equal(old, signature)) {
				g_debug("connectivity: checking %s over IPv%u (%s)",
					iface->name,
					family,
					old == NULL ? "new uplink" : "its network changed");
				vigil_portal_checker_check(self->portal,
							   iface->name,
							   iface->ifindex,
							   family);
			}
			g_hash_table_insert(now, uplink, g_steal_pointer(&signature));
		}
	}

	g_hash_table_iter_init(&iter, self->probed);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint uplink = GPOINTER_TO_UINT(key);

		if (!g_hash_table_contains(now, key))
			vigil_portal_checker_forget(self->portal,
						    uplink >> 1,
						    (uplink & 1) != 0 ? 6 : 4);
	}
	g_hash_table_unref(self->probed);
	self->probed = g_steal_pointer(&now);
}

/* what the probes found orders the network monitor's successors */
static void
vigil_daemon_portal_changed_cb(VigilPortalChecker *portal, gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);
	g_autoptr(GPtrArray) ifaces = vigil_netmon_get_interfaces(self->netmon);

	for (guint i = 0; i < ifaces->len; i++) {
		const VigilNetmonInterface *iface = g_ptr_array_index(ifaces, i);

		for (guint family = 4; family <= 6; family += 2) {
			gint64 rtt_usec = -1;
			VigilConnectivity state = vigil_portal_checker_get_state(portal,
										 iface->ifindex,
										 family,
										 &rtt_usec);
			vigil_netmon_set_validation(self->netmon,
						    iface->ifindex,
						    family,
						    state,
						    rtt_usec);
		}
	}
}

gboolean
vigil_daemon_start(VigilDaemon *self, GError **error)
{
	g_autofree gchar *rules_path = vigil_config_get_rules_path(self->config);
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(VIGIL_IS_DAEMON(self), FALSE);

	self->store = vigil_rule_store_new(rules_path, self->config->dropin_dir);
	if (!vigil_daemon_reload_rules(self, error))
		return FALSE;

	/* attribution, names and the live table make verdicts better but are not needed for
	 * filtering: without them vigild says "unknown" and goes on */
	self->attribution = vigil_attribution_new();
	vigil_attribution_set_use_connect_hook(self->attribution, self->config->connect_hook);
	vigil_attribution_set_loopback(self->attribution, self->config->intercept_loopback);
	if (!vigil_attribution_start(self->attribution, &error_local)) {
		g_warning("cannot attribute connections to processes: %s", error_local->message);
		g_clear_error(&error_local);
		g_clear_object(&self->attribution);
	}
	self->dns_cache = vigil_dns_cache_new(65536);
	self->dns_capture = vigil_dns_capture_new(self->dns_cache);
	vigil_dns_capture_set_pid_func(self->dns_capture, vigil_daemon_dns_pid_cb, self, NULL);
	if (!vigil_dns_capture_start(self->dns_capture, &error_local)) {
		g_warning("cannot watch DNS answers, connections get no host names: %s",
			  error_local->message);
		g_clear_error(&error_local);
	}
	if (!vigil_netmon_start(self->netmon, &error_local)) {
		g_warning("cannot follow the network interfaces: %s", error_local->message);
		g_clear_error(&error_local);
	}
	self->connections = vigil_connection_table_new(65536);
	vigil_connection_table_set_dns_cache(self->connections, self->dns_cache);
	self->conntrack = vigil_nl_conntrack_new(self->connections);
	/* nobody watches yet: no events, no per-state updates (see vigil_daemon_set_watched) */
	vigil_nl_conntrack_set_events(self->conntrack, FALSE);
	vigil_nl_conntrack_set_updates(self->conntrack, FALSE);
	if (!vigil_nl_conntrack_start(self->conntrack, &error_local)) {
		g_warning("cannot follow connections through conntrack: %s", error_local->message);
		g_clear_error(&error_local);
		g_clear_object(&self->conntrack);
	} else {
		g_signal_connect_object(self->conntrack,
					"dump-finished",
					G_CALLBACK(vigil_daemon_dump_finished_cb),
					self,
					0);
	}

	/* the queue listens before the table sends to it, so no packet waits on nobody */
	self->queue = vigil_nfqueue_new(self->config->queue_num);
	vigil_nfqueue_set_reject_mark(self->queue, self->config->reject_mark);
	vigil_nfqueue_set_fail_open(self->queue, self->config->fail_open);
	vigil_nfqueue_set_busy_poll(self->queue, self->config->busy_poll_us);
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

	/* the probes carry OwnMark, which the table now lets pass; the first checks start
	 * when the network monitor has its first picture of the interfaces */
	if (!vigil_portal_checker_load(self->portal, error))
		return FALSE;
	g_signal_connect_object(self->netmon,
				"changed",
				G_CALLBACK(vigil_daemon_netmon_changed_cb),
				self,
				0);
	g_signal_connect_object(self->portal,
				"changed",
				G_CALLBACK(vigil_daemon_portal_changed_cb),
				self,
				0);
	vigil_daemon_netmon_changed_cb(self->netmon, self);
	return TRUE;
}

/**
 * vigil_daemon_check_connectivity:
 * @ifname: an interface name, or NULL or "" for every interface
 *
 * Checks connectivity now, through vigil_portal_checker_request(), on each family in which
 * the interface is an uplink (the network monitor ranks it: up, carrier, an address and a
 * default route): a check in progress goes on, one that started less than 5 seconds ago
 * is not repeated.
 */
gboolean
vigil_daemon_check_connectivity(VigilDaemon *self, const gchar *ifname, GError **error)
{
	g_autoptr(GPtrArray) ifaces = NULL;
	gboolean all = ifname == NULL || ifname[0] == '\0';
	const VigilNetmonInterface *named = NULL;
	guint found = 0;

	g_return_val_if_fail(VIGIL_IS_DAEMON(self), FALSE);

	ifaces = vigil_netmon_get_interfaces(self->netmon);
	for (guint i = 0; i < ifaces->len; i++) {
		const VigilNetmonInterface *iface = g_ptr_array_index(ifaces, i);

		if (!all && !g_str_equal(iface->name, ifname))
			continue;
		named = iface;
		for (guint family = 4; family <= 6; family += 2) {
			if (iface->rank[vigil_netmon_family_index(family)] < 0)
				continue;
			vigil_portal_checker_request(self->portal,
						     iface->name,
						     iface->ifindex,
						     family);
			found++;
		}
	}
	if (all || found > 0)
		return TRUE;
	if (named == NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_FOUND,
			    "there is no interface named '%s'",
			    ifname);
		return FALSE;
	}
	g_set_error(error,
		    VIGIL_ERROR,
		    VIGIL_ERROR_INVALID_ARGUMENT,
		    "interface '%s' is no uplink in either family, nothing to check (IPv4: %s; "
		    "IPv6: %s)",
		    ifname,
		    vigil_daemon_first_reason(named, 4),
		    vigil_daemon_first_reason(named, 6));
	return FALSE;
}

VigilPortalChecker *
vigil_daemon_get_portal_checker(VigilDaemon *self)
{
	g_return_val_if_fail(VIGIL_IS_DAEMON(self), NULL);
	return self->portal;
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
	if (self->dns_capture != NULL)
		vigil_dns_capture_stop(self->dns_capture);
	if (self->conntrack != NULL)
		vigil_nl_conntrack_stop(self->conntrack);
	vigil_netmon_stop(self->netmon);
	vigil_daemon_finish_refreshes(self, TRUE);
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

void
vigil_daemon_set_agent_manager(VigilDaemon *self, VigilAgentManager *agents)
{
	g_set_object(&self->agents, agents);
}

/* counters of long connections move only with conntrack dumps, and interface rates only
 * with link dumps: refresh them every 2 s while someone watches, and not at all when nobody
 * does. Conntrack events, which cost every new connection several microseconds in the
 * kernel, only while someone watches too: otherwise the table learns of new connections
 * from a dump a few seconds after them, and clients that ask (GetConnections, GetApps) get
 * a fresh dump first */
void
vigil_daemon_set_watched(VigilDaemon *self, gboolean watched)
{
	vigil_netmon_set_watched(self->netmon, watched);
	if (self->conntrack == NULL)
		return;
	vigil_nl_conntrack_set_refresh_interval(self->conntrack, watched ? 2 : 0);
	vigil_nl_conntrack_set_updates(self->conntrack, watched);
	vigil_nl_conntrack_set_events(self->conntrack, watched);
}

/* a one-off refresh, for callers that poll (the next answer carries fresh counters) */
void
vigil_daemon_refresh_connections(VigilDaemon *self)
{
	g_autoptr(GError) error = NULL;

	if (self->conntrack != NULL && !vigil_nl_conntrack_dump(self->conntrack, &error))
		g_debug("cannot refresh connections: %s", error->message);
}

/* the refreshes waiting for a dump: each counts the dump ends it still needs */
static void
vigil_daemon_finish_refreshes(VigilDaemon *self, gboolean all)
{
	for (guint i = 0; i < self->refreshes->len;) {
		GTask *task = g_ptr_array_index(self->refreshes, i);
		guint left = GPOINTER_TO_UINT(g_task_get_task_data(task));

		if (!all && left > 1) {
			g_task_set_task_data(task, GUINT_TO_POINTER(left - 1), NULL);
			i++;
			continue;
		}
		g_task_return_boolean(task, TRUE);
		g_ptr_array_remove_index(self->refreshes, i);
	}
	if (self->refreshes->len == 0)
		g_clear_handle_id(&self->refresh_timeout_id, g_source_remove);
}

static void
vigil_daemon_dump_finished_cb(VigilNlConntrack *conntrack, gboolean complete, gpointer user_data)
{
	vigil_daemon_finish_refreshes(VIGIL_DAEMON(user_data), FALSE);
}

static gboolean
vigil_daemon_refresh_timeout_cb(gpointer user_data)
{
	VigilDaemon *self = VIGIL_DAEMON(user_data);

	self->refresh_timeout_id = 0;
	g_debug("conntrack dump slow: answering with the table as it is");
	vigil_daemon_finish_refreshes(self, TRUE);
	return G_SOURCE_REMOVE;
}

/**
 * vigil_daemon_refresh_connections_async:
 * @self: a #VigilDaemon
 * @callback: called once the table shows a conntrack dump made after this call
 * @user_data: for @callback
 *
 * Brings the live table up to date with the kernel, for a client about to read it: the
 * table learns from events read in batches, so on its own it may still show a connection
 * that just ended. Never fails: without conntrack, or when the dump takes longer than a
 * second, the table is left as it is.
 */
void
vigil_daemon_refresh_connections_async(VigilDaemon *self,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	g_autoptr(GError) error = NULL;
	/* a dump already under way may have missed what changed just now: wait for the next */
	guint ends;

	if (self->conntrack == NULL || !self->started) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	ends = vigil_nl_conntrack_is_dumping(self->conntrack) ? 2 : 1;
	if (!vigil_nl_conntrack_dump(self->conntrack, &error)) {
		g_debug("cannot refresh connections: %s", error->message);
		g_task_return_boolean(task, TRUE);
		return;
	}
	g_task_set_task_data(task, GUINT_TO_POINTER(ends), NULL);
	g_ptr_array_add(self->refreshes, g_steal_pointer(&task));
	if (self->refresh_timeout_id == 0)
		self->refresh_timeout_id =
		    g_timeout_add(REFRESH_TIMEOUT_MS, vigil_daemon_refresh_timeout_cb, self);
}

gboolean
vigil_daemon_refresh_connections_finish(VigilDaemon *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

VigilNetmon *
vigil_daemon_get_netmon(VigilDaemon *self)
{
	return self->netmon;
}

VigilConnectionTable *
vigil_daemon_get_connection_table(VigilDaemon *self)
{
	return self->connections;
}

static gboolean
vigil_daemon_connection_visible(VigilConnection *connection,
				guint32 uid,
				gboolean all,
				const gchar *app)
{
	if (!all && (connection->uid != uid || !connection->attributed))
		return FALSE;
	if (app != NULL && g_strcmp0(connection->exe, app) != 0 &&
	    g_strcmp0(connection->app_id, app) != 0)
		return FALSE;
	return TRUE;
}

/* what GetConnections() returns: a user sees only their own processes' connections */
GVariant *
vigil_daemon_get_connections(VigilDaemon *self, guint32 uid, gboolean all, const gchar *app)
{
	g_autoptr(GPtrArray) snapshot = NULL;
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	if (self->connections != NULL) {
		snapshot = vigil_connection_table_get_snapshot(self->connections, FALSE);
		for (guint i = 0; i < snapshot->len; i++) {
			VigilConnection *connection = g_ptr_array_index(snapshot, i);
			if (vigil_daemon_connection_visible(connection, uid, all, app))
				g_variant_builder_add_value(
				    &builder,
				    vigil_connection_to_variant(connection));
		}
	}
	return g_variant_builder_end(&builder);
}

GVariant *
vigil_daemon_get_apps(VigilDaemon *self, guint32 uid, gboolean all)
{
	g_autoptr(GPtrArray) apps = NULL;
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	if (self->connections != NULL) {
		apps = vigil_connection_table_get_apps(self->connections);
		for (guint i = 0; i < apps->len; i++) {
			VigilAppTotals *totals = g_ptr_array_index(apps, i);
			if (all || totals->uid == uid)
				g_variant_builder_add_value(&builder,
							    vigil_app_totals_to_variant(totals));
		}
	}
	return g_variant_builder_end(&builder);
}

VigilAction
vigil_daemon_get_default_action(VigilDaemon *self)
{
	return self->config->default_action;
}

gboolean
vigil_daemon_set_default_action(VigilDaemon *self, VigilAction action, GError **error)
{
	if (action != VIGIL_ACTION_ALLOW && action != VIGIL_ACTION_DENY &&
	    action != VIGIL_ACTION_REJECT) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "the default action is allow, deny or reject");
		return FALSE;
	}
	self->config->default_action = action;
	g_message("default action is now %s", vigil_action_to_string(action));
	return TRUE;
}

guint
vigil_daemon_get_prompt_timeout(VigilDaemon *self)
{
	return self->config->prompt_timeout;
}

/* the agent manager times the prompts; the config keeps the value for everyone to read */
gboolean
vigil_daemon_set_prompt_timeout(VigilDaemon *self, guint seconds, GError **error)
{
	if (seconds < VIGIL_CONFIG_PROMPT_TIMEOUT_MIN ||
	    seconds > VIGIL_CONFIG_PROMPT_TIMEOUT_MAX) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "a prompt timeout of %u s is out of range: use %u to %u seconds",
			    seconds,
			    (guint)VIGIL_CONFIG_PROMPT_TIMEOUT_MIN,
			    (guint)VIGIL_CONFIG_PROMPT_TIMEOUT_MAX);
		return FALSE;
	}
	self->config->prompt_timeout = seconds;
	if (self->agents != NULL)
		vigil_agent_manager_set_timeout(self->agents, seconds);
	g_message("prompt timeout is now %u s", seconds);
	return TRUE;
}

GVariant *
vigil_daemon_get_stats(VigilDaemon *self)
{
	GVariantBuilder builder;
	guint64 overruns = self->queue != NULL ? vigil_nfqueue_get_overruns(self->queue) : 0;
	guint64 queued = self->queue != NULL ? vigil_nfqueue_get_received(self->queue) : 0;
	guint64 malformed = self->malformed;

	if (self->queue != NULL)
		malformed += vigil_nfqueue_get_malformed(self->queue);
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "queued", g_variant_new_uint64(queued));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "allowed",
			      g_variant_new_uint64(self->counters[VIGIL_ACTION_ALLOW]));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "denied",
			      g_variant_new_uint64(self->counters[VIGIL_ACTION_DENY]));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "rejected",
			      g_variant_new_uint64(self->counters[VIGIL_ACTION_REJECT]));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "prompts",
			      g_variant_new_uint64(self->prompts_asked));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "prompt-timeouts",
			      g_variant_new_uint64(self->prompt_timeouts));
	g_variant_builder_add(&builder, "{sv}", "queue-overruns", g_variant_new_uint64(overruns));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "malformed-packets",
			      g_variant_new_uint64(malformed));
	g_variant_builder_add(&builder, "{sv}", "started", g_variant_new_int64(self->started_time));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "queue-backend",
			      g_variant_new_string(vigil_nft_backend_get_queue_kind_in_use(
						       self->backend) == VIGIL_NFT_QUEUE_KIND_NATIVE
						       ? "queue"
						       : "xt-nfqueue"));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "rules",
			      g_variant_new_uint32(vigil_rule_set_get_size(self->rule_set)));
	if (self->connections != NULL)
		g_variant_builder_add(
		    &builder,
		    "{sv}",
		    "connections",
		    g_variant_new_uint32(vigil_connection_table_get_n_live(self->connections)));
	return g_variant_builder_end(&builder);
}

static void
vigil_daemon_emit_rules_changed(VigilDaemon *self, const gchar *const *ids)
{
	g_signal_emit(self, signals[SIGNAL_RULES_CHANGED], 0, ids);
	vigil_daemon_schedule_expiry(self);
}

gboolean
vigil_daemon_save_rules(VigilDaemon *self, gboolean force, GError **error)
{
	return vigil_rule_store_save(self->store,
				     self->rule_set,
				     force ? VIGIL_RULE_STORE_SAVE_FORCE
					   : VIGIL_RULE_STORE_SAVE_NONE,
				     error);
}

/* a change that cannot be saved is undone, so memory and disk never disagree */
gchar *
vigil_daemon_add_rule(VigilDaemon *self, VigilRule *rule, GError **error)
{
	g_autofree gchar *id = NULL;
	const gchar *ids[] = {NULL, NULL};

	if (vigil_rule_get_origin(rule) == VIGIL_ORIGIN_MANAGED) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_READ_ONLY,
				    "managed rules come only from drop-in files");
		return NULL;
	}
	if (vigil_rule_get_created(rule) == 0)
		vigil_rule_set_created(rule, g_get_real_time() / G_USEC_PER_SEC);
	if (vigil_rule_get_id(rule) == NULL ||
	    vigil_rule_set_get(self->rule_set, vigil_rule_get_id(rule)) != NULL) {
		g_autofree gchar *new_id = vigil_rule_generate_id();
		vigil_rule_set_id(rule, new_id);
	}
	if (!vigil_rule_set_add(self->rule_set, rule, error))
		return NULL;
	id = g_strdup(vigil_rule_get_id(rule));
	if (vigil_rule_get_lifetime(rule) != VIGIL_LIFETIME_ONCE &&
	    !vigil_daemon_save_rules(self, FALSE, error)) {
		vigil_rule_set_remove(self->rule_set, id, NULL);
		return NULL;
	}
	ids[0] = id;
	g_info("rule %s added", id);
	vigil_daemon_emit_rules_changed(self, ids);
	return g_steal_pointer(&id);
}

/* the rule a user may change: it exists and is not a managed drop-in */
static VigilRule *
vigil_daemon_get_writable_rule(VigilDaemon *self, const gchar *id, GError **error)
{
	VigilRule *rule = vigil_rule_set_get(self->rule_set, id);

	if (rule == NULL) {
		g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no rule %s", id);
		return NULL;
	}
	if (vigil_rule_is_read_only(rule)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_READ_ONLY,
			    "rule %s is a managed drop-in from %s",
			    id,
			    vigil_rule_get_source(rule) != NULL ? vigil_rule_get_source(rule)
								: "?");
		return NULL;
	}
	return rule;
}

gboolean
vigil_daemon_update_rule(VigilDaemon *self, const gchar *id, GVariant *changes, GError **error)
{
	VigilRule *old = vigil_daemon_get_writable_rule(self, id, error);
	g_autoptr(VigilRule) saved = NULL;
	g_autoptr(VigilRule) rule = NULL;
	const gchar *ids[] = {id, NULL};

	if (old == NULL)
		return FALSE;
	saved = g_object_ref(old);
	rule = vigil_rule_copy(old);
	if (!vigil_rule_update_from_variant(rule, changes, error))
		return FALSE;
	if (g_strcmp0(vigil_rule_get_id(rule), id) != 0 ||
	    vigil_rule_get_origin(rule) == VIGIL_ORIGIN_MANAGED) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "the id and a managed origin cannot be changed");
		return FALSE;
	}
	if (!vigil_rule_set_replace(self->rule_set, rule, error))
		return FALSE;
	if (!vigil_daemon_save_rules(self, FALSE, error)) {
		vigil_rule_set_replace(self->rule_set, saved, NULL);
		return FALSE;
	}
	vigil_daemon_emit_rules_changed(self, ids);
	return TRUE;
}

gboolean
vigil_daemon_remove_rule(VigilDaemon *self, const gchar *id, GError **error)
{
	VigilRule *old = vigil_daemon_get_writable_rule(self, id, error);
	g_autoptr(VigilRule) saved = NULL;
	const gchar *ids[] = {id, NULL};

	if (old == NULL)
		return FALSE;
	saved = g_object_ref(old);
	if (!vigil_rule_set_remove(self->rule_set, id, error))
		return FALSE;
	if (!vigil_daemon_save_rules(self, FALSE, error)) {
		vigil_rule_set_add(self->rule_set, saved, NULL);
		return FALSE;
	}
	vigil_daemon_emit_rules_changed(self, ids);
	return TRUE;
}

/* returns the new ids; rules that could not be imported are in @problems */
GPtrArray *
vigil_daemon_import_rules(VigilDaemon *self,
			  const gchar *format,
			  const gchar *contents,
			  GPtrArray *problems,
			  GError **error)
{
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (g_strcmp0(format, "opensnitch") == 0) {
		rules = vigil_rule_import_opensnitch(contents, -1, "import", problems, error);
	} else if (g_strcmp0(format, "vigil") == 0) {
		rules = vigil_rule_import_vigil(contents, -1, "import", problems, error);
	} else {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "unknown import format '%s': use vigil or opensnitch",
			    format);
		return NULL;
	}
	if (rules == NULL)
		return NULL;
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autoptr(GError) error_local = NULL;

		if (vigil_rule_get_id(rule) == NULL ||
		    vigil_rule_set_get(self->rule_set, vigil_rule_get_id(rule)) != NULL) {
			g_autofree gchar *new_id = vigil_rule_generate_id();
			vigil_rule_set_id(rule, new_id);
		}
		if (vigil_rule_get_created(rule) == 0)
			vigil_rule_set_created(rule, now);
		if (!vigil_rule_set_add(self->rule_set, rule, &error_local)) {
			g_ptr_array_add(problems, g_strdup(error_local->message));
			continue;
		}
		g_ptr_array_add(ids, g_strdup(vigil_rule_get_id(rule)));
	}
	if (ids->len > 0 && !vigil_daemon_save_rules(self, FALSE, error)) {
		for (guint i = 0; i < ids->len; i++)
			vigil_rule_set_remove(self->rule_set, g_ptr_array_index(ids, i), NULL);
		return NULL;
	}
	if (ids->len > 0) {
		g_ptr_array_add(ids, NULL);
		vigil_daemon_emit_rules_changed(self, (const gchar *const *)ids->pdata);
		g_ptr_array_remove_index(ids, ids->len - 1);
	}
	return g_steal_pointer(&ids);
}

gchar *
vigil_daemon_export_rules(VigilDaemon *self, gboolean include_managed)
{
	g_autoptr(GPtrArray) all = vigil_rule_set_get_rules(self->rule_set);
	g_autoptr(GPtrArray) rules = g_ptr_array_new();

	for (guint i = 0; i < all->len; i++) {
		VigilRule *rule = g_ptr_array_index(all, i);
		if (!include_managed && vigil_rule_is_read_only(rule))
			continue;
		g_ptr_array_add(rules, rule);
	}
	return vigil_rule_store_export(rules);
}

static void
vigil_daemon_dispose(GObject *object)
{
	VigilDaemon *self = VIGIL_DAEMON(object);

	vigil_daemon_stop(self);
	g_clear_handle_id(&self->expiry_id, g_source_remove);
	g_clear_handle_id(&self->batch_id, g_source_remove);
	g_clear_handle_id(&self->print_idle_id, g_source_remove);
	g_clear_handle_id(&self->print_watch_id, g_source_remove);
	g_hash_table_remove_all(self->prompts);
	vigil_daemon_finish_refreshes(self, TRUE);
	/* abandons the checks in progress, which hold references until they end */
	if (self->portal != NULL)
		g_object_run_dispose(G_OBJECT(self->portal));
	g_clear_object(&self->portal);
	g_clear_object(&self->agents);
	g_clear_object(&self->queue);
	g_clear_object(&self->attribution);
	g_clear_object(&self->dns_capture);
	g_clear_object(&self->dns_cache);
	g_clear_object(&self->conntrack);
	g_clear_object(&self->netmon);
	g_clear_object(&self->connections);
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
	g_hash_table_unref(self->user_names);
	g_hash_table_unref(self->probed);
	g_string_free(self->print_pending, TRUE);
	g_ptr_array_unref(self->batch);
	g_hash_table_unref(self->prompts);
	g_hash_table_unref(self->recent_answers);
	g_ptr_array_unref(self->refreshes);
	vigil_config_free(self->config);
	G_OBJECT_CLASS(vigil_daemon_parent_class)->finalize(object);
}

static void
vigil_daemon_class_init(VigilDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vigil_daemon_dispose;
	object_class->finalize = vigil_daemon_finalize;

	/* a batch of verdicts (GPtrArray of VigilEvent), at most every 250 ms */
	signals[SIGNAL_EVENTS] = g_signal_new("events",
					      G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST,
					      0,
					      NULL,
					      NULL,
					      NULL,
					      G_TYPE_NONE,
					      1,
					      G_TYPE_PTR_ARRAY);
	/* ids of rules added, changed or removed */
	signals[SIGNAL_RULES_CHANGED] = g_signal_new("rules-changed",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     G_TYPE_STRV);
}

static void
vigil_daemon_init(VigilDaemon *self)
{
	g_queue_init(&self->recent);
	self->user_names = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->probed = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	self->print_fd = -1;
	self->print_pending = g_string_new(NULL);
	self->batch = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_event_unref);
	self->prompts =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vigil_prompt_free);
	self->recent_answers = g_hash_table_new_full(g_str_hash,
						     g_str_equal,
						     g_free,
						     (GDestroyNotify)vigil_recent_answer_free);
	self->refreshes = g_ptr_array_new_with_free_func(g_object_unref);
	self->started_time = g_get_real_time() / G_USEC_PER_SEC;
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
	self->portal = vigil_portal_checker_new(config);
	self->netmon = vigil_netmon_new((const gchar *const *)config->preferred_interfaces,
					(const gchar *const *)config->metered_interfaces);
	return self;
}
