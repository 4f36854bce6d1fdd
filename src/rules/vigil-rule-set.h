/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-rule.h"

G_BEGIN_DECLS

/**
 * VigilRuleQuery:
 * @direction: %VIGIL_DIRECTION_OUT or %VIGIL_DIRECTION_IN
 * @protocol: IP protocol number
 * @family: 4 or 6, or 0 when the remote address is unknown
 * @addr: the remote address in network order (IPv4 uses the first 4 bytes)
 * @port: for outbound the remote port, for inbound the local port, host order; 0 for none
 * @host: the remote host name in lower case without a trailing dot, or %NULL
 * @exe: the executable path as the process sees it, or %NULL when unknown
 * @app_id: the Flatpak app id, or %NULL
 * @unit: the systemd unit, or %NULL
 * @uid_known: whether @uid is meaningful
 * @uid: the uid owning the socket
 * @pid: the process id, 0 when unknown
 * @pid_start: the process start time (boot ticks, /proc/pid/stat field 22)
 * @get_exe_sha256: computes the executable digest on demand (only called when a candidate
 *                  rule pins one), may be %NULL; returns lower-case hex or %NULL
 * @user_data: for @get_exe_sha256
 * @now: unix seconds, for expiry
 *
 * What a lookup knows about one connection. Unknown values never match a rule that
 * requires them (an unknown process never matches an app rule).
 */
typedef struct {
	VigilDirection direction;
	guint8 protocol;
	guint8 family;
	guint8 addr[16];
	guint16 port;
	const gchar *host;
	const gchar *exe;
	const gchar *app_id;
	const gchar *unit;
	gboolean uid_known;
	guint32 uid;
	guint32 pid;
	guint64 pid_start;
	const gchar *(*get_exe_sha256)(gpointer user_data);
	gpointer user_data;
	gint64 now;
} VigilRuleQuery;

#define VIGIL_TYPE_RULE_SET (vigil_rule_set_get_type())
G_DECLARE_FINAL_TYPE(VigilRuleSet, vigil_rule_set, VIGIL, RULE_SET, GObject)

VigilRuleSet *
vigil_rule_set_new(void);
void
vigil_rule_set_set_boot_id(VigilRuleSet *self, const gchar *boot_id);
const gchar *
vigil_rule_set_get_boot_id(VigilRuleSet *self);
gboolean
vigil_rule_set_add(VigilRuleSet *self, VigilRule *rule, GError **error);
gboolean
vigil_rule_set_replace(VigilRuleSet *self, VigilRule *rule, GError **error);
gboolean
vigil_rule_set_remove(VigilRuleSet *self, const gchar *id, GError **error);
void
vigil_rule_set_clear(VigilRuleSet *self);
VigilRule *
vigil_rule_set_get(VigilRuleSet *self, const gchar *id);
GPtrArray *
vigil_rule_set_get_rules(VigilRuleSet *self);
guint
vigil_rule_set_get_size(VigilRuleSet *self);
VigilRule *
vigil_rule_set_lookup(VigilRuleSet *self, const VigilRuleQuery *query);
void
vigil_rule_set_record_hit(VigilRuleSet *self, VigilRule *rule, gint64 now);
guint
vigil_rule_set_expire(VigilRuleSet *self, gint64 now, GPtrArray *removed_ids);
guint
vigil_rule_set_expire_process(VigilRuleSet *self,
			      guint32 pid,
			      guint64 pid_start,
			      GPtrArray *removed_ids);
gint64
vigil_rule_set_get_next_expiry(VigilRuleSet *self);
void
vigil_rule_set_set_memo_enabled(VigilRuleSet *self, gboolean enabled);
void
vigil_rule_set_get_memo_stats(VigilRuleSet *self, guint64 *hits, guint64 *misses);

G_END_DECLS
