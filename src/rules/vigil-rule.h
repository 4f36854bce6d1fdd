/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_RULE (vigil_rule_get_type())
G_DECLARE_FINAL_TYPE(VigilRule, vigil_rule, VIGIL, RULE, GObject)

/**
 * VigilRule:
 *
 * One firewall rule: who (an executable, a Flatpak app id or a systemd unit, optionally
 * pinned to an executable digest and a user; or any app), what (direction, protocol, a remote
 * host exact or `*.domain`, an address or prefix, a port or range; or anything), the action,
 * its lifetime and bookkeeping. Fields that are unset match anything.
 *
 * The same key names are used in JSON files and in D-Bus a{sv} dictionaries:
 * id, enabled, action, exe, app-id, unit, sha256, user, direction, protocol, host, cidr, port,
 * lifetime, expires, pid, pid-start, boot-id, origin, created, last-used, hits, note.
 */

VigilRule *
vigil_rule_new(void);
VigilRule *
vigil_rule_copy(VigilRule *self);
gboolean
vigil_rule_equal(VigilRule *self, VigilRule *other);
gboolean
vigil_rule_validate(VigilRule *self, GError **error);
gchar *
vigil_rule_to_string(VigilRule *self);

/* identity and state */
const gchar *
vigil_rule_get_id(VigilRule *self);
void
vigil_rule_set_id(VigilRule *self, const gchar *id);
gchar *
vigil_rule_generate_id(void);
gboolean
vigil_rule_get_enabled(VigilRule *self);
void
vigil_rule_set_enabled(VigilRule *self, gboolean enabled);
VigilAction
vigil_rule_get_action(VigilRule *self);
void
vigil_rule_set_action(VigilRule *self, VigilAction action);

/* who: at most one of exe, app id and unit; none means any app */
const gchar *
vigil_rule_get_exe(VigilRule *self);
void
vigil_rule_set_exe(VigilRule *self, const gchar *exe);
const gchar *
vigil_rule_get_app_id(VigilRule *self);
void
vigil_rule_set_app_id(VigilRule *self, const gchar *app_id);
const gchar *
vigil_rule_get_unit(VigilRule *self);
void
vigil_rule_set_unit(VigilRule *self, const gchar *unit);
const gchar *
vigil_rule_get_sha256(VigilRule *self);
gboolean
vigil_rule_set_sha256(VigilRule *self, const gchar *sha256, GError **error);
gboolean
vigil_rule_has_user(VigilRule *self);
guint32
vigil_rule_get_user(VigilRule *self);
void
vigil_rule_set_user(VigilRule *self, guint32 uid);
void
vigil_rule_clear_user(VigilRule *self);

/* what */
VigilDirection
vigil_rule_get_direction(VigilRule *self);
void
vigil_rule_set_direction(VigilRule *self, VigilDirection direction);
guint8
vigil_rule_get_protocol(VigilRule *self);
void
vigil_rule_set_protocol(VigilRule *self, guint8 protocol);
const gchar *
vigil_rule_get_host(VigilRule *self);
gboolean
vigil_rule_set_host(VigilRule *self, const gchar *host, GError **error);
gboolean
vigil_rule_host_is_domain(VigilRule *self);
const gchar *
vigil_rule_get_cidr(VigilRule *self);
gboolean
vigil_rule_set_cidr(VigilRule *self, const gchar *cidr, GError **error);
guint8
vigil_rule_get_cidr_family(VigilRule *self);
const guint8 *
vigil_rule_get_cidr_address(VigilRule *self);
guint8
vigil_rule_get_cidr_prefix(VigilRule *self);
gboolean
vigil_rule_has_port(VigilRule *self);
guint16
vigil_rule_get_port_min(VigilRule *self);
guint16
vigil_rule_get_port_max(VigilRule *self);
void
vigil_rule_set_port_range(VigilRule *self, guint16 min, guint16 max);
void
vigil_rule_clear_port(VigilRule *self);
gboolean
vigil_rule_set_port_from_string(VigilRule *self, const gchar *port, GError **error);
gchar *
vigil_rule_get_port_string(VigilRule *self);

/* lifetime */
VigilLifetime
vigil_rule_get_lifetime(VigilRule *self);
void
vigil_rule_set_lifetime(VigilRule *self, VigilLifetime lifetime);
gint64
vigil_rule_get_expires(VigilRule *self);
void
vigil_rule_set_expires(VigilRule *self, gint64 expires);
guint32
vigil_rule_get_pid(VigilRule *self);
guint64
vigil_rule_get_pid_start(VigilRule *self);
void
vigil_rule_set_process(VigilRule *self, guint32 pid, guint64 pid_start);
const gchar *
vigil_rule_get_boot_id(VigilRule *self);
void
vigil_rule_set_boot_id(VigilRule *self, const gchar *boot_id);
gboolean
vigil_rule_is_expired(VigilRule *self, gint64 now, const gchar *boot_id);

/* bookkeeping */
VigilOrigin
vigil_rule_get_origin(VigilRule *self);
void
vigil_rule_set_origin(VigilRule *self, VigilOrigin origin);
gboolean
vigil_rule_is_read_only(VigilRule *self);
gint64
vigil_rule_get_created(VigilRule *self);
void
vigil_rule_set_created(VigilRule *self, gint64 created);
gint64
vigil_rule_get_last_used(VigilRule *self);
void
vigil_rule_set_last_used(VigilRule *self, gint64 last_used);
guint64
vigil_rule_get_hits(VigilRule *self);
void
vigil_rule_set_hits(VigilRule *self, guint64 hits);
const gchar *
vigil_rule_get_note(VigilRule *self);
void
vigil_rule_set_note(VigilRule *self, const gchar *note);
const gchar *
vigil_rule_get_source(VigilRule *self);
void
vigil_rule_set_source(VigilRule *self, const gchar *source);

/* the one place keys are parsed: JSON and D-Bus both go through these */
VigilRule *
vigil_rule_new_from_json_object(JsonObject *obj, GError **error);
void
vigil_rule_add_to_json_builder(VigilRule *self, JsonBuilder *builder);
VigilRule *
vigil_rule_new_from_variant(GVariant *dict, GError **error);
gboolean
vigil_rule_update_from_variant(VigilRule *self, GVariant *dict, GError **error);
GVariant *
vigil_rule_to_variant(VigilRule *self);

G_END_DECLS
