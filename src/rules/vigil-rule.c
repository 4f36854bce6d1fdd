/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilRule"

#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "vigil-error.h"
#include "vigil-rule.h"

#define VIGIL_RULE_NOTE_MAX	 4096
#define VIGIL_RULE_ID_MAX	 128
#define VIGIL_RULE_APP_ID_MAX	 255
#define VIGIL_RULE_UNIT_MAX	 256
#define VIGIL_RULE_BOOT_ID_MAX	 64
#define VIGIL_RULE_HOST_MAX	 253
#define VIGIL_RULE_LABEL_MAX	 63
#define VIGIL_RULE_SHORT_STR_MAX 64

struct _VigilRule {
	GObject parent_instance;
	gchar *id;
	gboolean enabled;
	VigilAction action;
	gchar *exe;
	gchar *app_id;
	gchar *unit;
	gchar *sha256;
	gboolean has_user;
	guint32 uid;
	VigilDirection direction;
	guint8 protocol;
	gchar *host;
	gboolean host_is_domain;
	gchar *cidr;
	guint8 cidr_family;
	guint8 cidr_address[16];
	guint8 cidr_prefix;
	gboolean has_port;
	guint16 port_min;
	guint16 port_max;
	VigilLifetime lifetime;
	gint64 expires;
	guint32 pid;
	guint64 pid_start;
	gchar *boot_id;
	VigilOrigin origin;
	gint64 created;
	gint64 last_used;
	guint64 hits;
	gchar *note;
	gchar *source; /* not serialised */
};

G_DEFINE_FINAL_TYPE(VigilRule, vigil_rule, G_TYPE_OBJECT)

static void
vigil_rule_clear(VigilRule *self)
{
	g_clear_pointer(&self->id, g_free);
	g_clear_pointer(&self->exe, g_free);
	g_clear_pointer(&self->app_id, g_free);
	g_clear_pointer(&self->unit, g_free);
	g_clear_pointer(&self->sha256, g_free);
	g_clear_pointer(&self->host, g_free);
	g_clear_pointer(&self->cidr, g_free);
	g_clear_pointer(&self->boot_id, g_free);
	g_clear_pointer(&self->note, g_free);
	g_clear_pointer(&self->source, g_free);
}

static void
vigil_rule_finalize(GObject *object)
{
	VigilRule *self = VIGIL_RULE(object);

	vigil_rule_clear(self);
	G_OBJECT_CLASS(vigil_rule_parent_class)->finalize(object);
}

static void
vigil_rule_class_init(VigilRuleClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vigil_rule_finalize;
}

static void
vigil_rule_init(VigilRule *self)
{
	self->enabled = TRUE;
	self->action = VIGIL_ACTION_NONE;
	self->direction = VIGIL_DIRECTION_ANY;
	self->lifetime = VIGIL_LIFETIME_FOREVER;
	self->origin = VIGIL_ORIGIN_USER;
}

/**
 * vigil_rule_new:
 *
 * Returns: (transfer full): an empty rule: enabled, no action (which does not validate), any
 * app, any destination, forever, made by the user
 */
VigilRule *
vigil_rule_new(void)
{
	return g_object_new(VIGIL_TYPE_RULE, NULL);
}

/* copies every field of @src over @dst, which must be cleared */
static void
vigil_rule_copy_into(VigilRule *dst, VigilRule *src)
{
	dst->id = g_strdup(src->id);
	dst->enabled = src->enabled;
	dst->action = src->action;
	dst->exe = g_strdup(src->exe);
	dst->app_id = g_strdup(src->app_id);
	dst->unit = g_strdup(src->unit);
	dst->sha256 = g_strdup(src->sha256);
	dst->has_user = src->has_user;
	dst->uid = src->uid;
	dst->direction = src->direction;
	dst->protocol = src->protocol;
	dst->host = g_strdup(src->host);
	dst->host_is_domain = src->host_is_domain;
	dst->cidr = g_strdup(src->cidr);
	dst->cidr_family = src->cidr_family;
	memcpy(dst->cidr_address, src->cidr_address, sizeof(dst->cidr_address));
	dst->cidr_prefix = src->cidr_prefix;
	dst->has_port = src->has_port;
	dst->port_min = src->port_min;
	dst->port_max = src->port_max;
	dst->lifetime = src->lifetime;
	dst->expires = src->expires;
	dst->pid = src->pid;
	dst->pid_start = src->pid_start;
	dst->boot_id = g_strdup(src->boot_id);
	dst->origin = src->origin;
	dst->created = src->created;
	dst->last_used = src->last_used;
	dst->hits = src->hits;
	dst->note = g_strdup(src->note);
	dst->source = g_strdup(src->source);
}

/**
 * vigil_rule_copy:
 * @self: a #VigilRule
 *
 * Returns: (transfer full): a deep copy of @self, including its source
 */
VigilRule *
vigil_rule_copy(VigilRule *self)
{
	VigilRule *copy;

	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);

	copy = vigil_rule_new();
	vigil_rule_copy_into(copy, self);
	return copy;
}

/**
 * vigil_rule_equal:
 * @self: a #VigilRule
 * @other: another #VigilRule
 *
 * Returns: %TRUE when every serialised field is the same (the source is not compared)
 */
gboolean
vigil_rule_equal(VigilRule *self, VigilRule *other)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_RULE(other), FALSE);

	if (self == other)
		return TRUE;
	if (g_strcmp0(self->id, other->id) != 0 || self->enabled != other->enabled ||
	    self->action != other->action)
		return FALSE;
	if (g_strcmp0(self->exe, other->exe) != 0 || g_strcmp0(self->app_id, other->app_id) != 0 ||
	    g_strcmp0(self->unit, other->unit) != 0 || g_strcmp0(self->sha256, other->sha256) != 0)
		return FALSE;
	if (self->has_user != other->has_user || (self->has_user && self->uid != other->uid))
		return FALSE;
	if (self->direction != other->direction || self->protocol != other->protocol)
		return FALSE;
	if (g_strcmp0(self->host, other->host) != 0 || g_strcmp0(self->cidr, other->cidr) != 0)
		return FALSE;
	if (self->has_port != other->has_port ||
	    (self->has_port &&
	     (self->port_min != other->port_min || self->port_max != other->port_max)))
		return FALSE;
	if (self->lifetime != other->lifetime || self->expires != other->expires ||
	    self->pid != other->pid || self->pid_start != other->pid_start ||
	    g_strcmp0(self->boot_id, other->boot_id) != 0)
		return FALSE;
	if (self->origin != other->origin || self->created != other->created ||
	    self->last_used != other->last_used || self->hits != other->hits)
		return FALSE;
	return g_strcmp0(self->note, other->note) == 0;
}

static gboolean
vigil_rule_validate_string(const gchar *key, const gchar *value, gsize max, GError **error)
{
	if (value == NULL)
		return TRUE;
	if (!g_utf8_validate(value, -1, NULL)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "%s is not valid UTF-8",
			    key);
		return FALSE;
	}
	if (strlen(value) > max) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "%s is longer than %" G_GSIZE_FORMAT " bytes",
			    key,
			    max);
		return FALSE;
	}
	return TRUE;
}

/* printable ASCII without spaces; @extra lists further characters that are refused */
static gboolean
vigil_rule_is_token(const gchar *value, const gchar *extra)
{
	if (value[0] == '\0')
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f)
			return FALSE;
		if (strchr(extra, *p) != NULL)
			return FALSE;
	}
	return TRUE;
}

static gboolean
vigil_rule_is_id(const gchar *value)
{
	if (value[0] == '\0')
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-_.:", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

/**
 * vigil_rule_validate:
 * @self: a #VigilRule
 * @error: (nullable): return location for a #GError
 *
 * Checks that the rule is complete and not contradictory: an action, at most one of exe,
 * app id and unit, a digest only with an exe, a host or an address but not both, a port
 * only with a protocol that has ports, and what its lifetime needs. A rule without an id is
 * valid; the rule set assigns one.
 *
 * Returns: %TRUE if the rule may be used
 */
gboolean
vigil_rule_validate(VigilRule *self, GError **error)
{
	guint n_who = 0;

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (!vigil_rule_validate_string("id", self->id, VIGIL_RULE_ID_MAX, error) ||
	    !vigil_rule_validate_string("exe", self->exe, PATH_MAX - 1, error) ||
	    !vigil_rule_validate_string("app-id", self->app_id, VIGIL_RULE_APP_ID_MAX, error) ||
	    !vigil_rule_validate_string("unit", self->unit, VIGIL_RULE_UNIT_MAX, error) ||
	    !vigil_rule_validate_string("boot-id", self->boot_id, VIGIL_RULE_BOOT_ID_MAX, error) ||
	    !vigil_rule_validate_string("note", self->note, VIGIL_RULE_NOTE_MAX, error))
		return FALSE;
	if (self->id != NULL && !vigil_rule_is_id(self->id)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "id may only hold letters, digits, '-', '_', '.' and ':'");
		return FALSE;
	}
	if (self->action == VIGIL_ACTION_NONE || self->action >= VIGIL_ACTION_LAST) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "action must be allow, deny or reject");
		return FALSE;
	}
	if (self->direction >= VIGIL_DIRECTION_LAST || self->lifetime >= VIGIL_LIFETIME_LAST ||
	    self->origin >= VIGIL_ORIGIN_LAST) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "direction, lifetime or origin out of range");
		return FALSE;
	}

	/* who */
	n_who = (self->exe != NULL) + (self->app_id != NULL) + (self->unit != NULL);
	if (n_who > 1) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "a rule names at most one of exe, app-id and unit");
		return FALSE;
	}
	if (self->exe != NULL && !g_path_is_absolute(self->exe)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "exe '%s' is not an absolute path",
			    self->exe);
		return FALSE;
	}
	if (self->app_id != NULL &&
	    (!vigil_rule_is_token(self->app_id, "/\\") || strchr(self->app_id, '.') == NULL)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "app-id '%s' is not a Flatpak app id",
			    self->app_id);
		return FALSE;
	}
	if (self->unit != NULL && !vigil_rule_is_token(self->unit, "/")) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "unit '%s' is not a systemd unit name",
			    self->unit);
		return FALSE;
	}
	if (self->sha256 != NULL && self->exe == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "sha256 pins an executable, so it needs exe");
		return FALSE;
	}
	if (self->has_user && self->uid == G_MAXUINT32) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "user 4294967295 is not a valid uid");
		return FALSE;
	}

	/* what */
	if (self->host != NULL && self->cidr != NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "a rule names a host or a cidr, not both");
		return FALSE;
	}
	if (self->has_port) {
		if (self->port_min > self->port_max) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "port range %u-%u is reversed",
				    self->port_min,
				    self->port_max);
			return FALSE;
		}
		if (self->protocol != VIGIL_PROTOCOL_ANY && self->protocol != VIGIL_PROTOCOL_TCP &&
		    self->protocol != VIGIL_PROTOCOL_UDP && self->protocol != VIGIL_PROTOCOL_SCTP &&
		    self->protocol != VIGIL_PROTOCOL_UDPLITE) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "protocol %s has no ports",
				    vigil_protocol_to_string(self->protocol) != NULL
					? vigil_protocol_to_string(self->protocol)
					: "given");
			return FALSE;
		}
	}
	if ((self->protocol == VIGIL_PROTOCOL_ICMP && self->cidr_family == 6) ||
	    (self->protocol == VIGIL_PROTOCOL_ICMPV6 && self->cidr_family == 4)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "protocol %s never matches an IPv%u cidr",
			    vigil_protocol_to_string(self->protocol),
			    self->cidr_family);
		return FALSE;
	}

	/* lifetime */
	if (self->lifetime == VIGIL_LIFETIME_UNTIL && self->expires <= 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "lifetime until needs expires");
		return FALSE;
	}
	if (self->lifetime == VIGIL_LIFETIME_PROCESS && self->pid == 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "lifetime process needs pid");
		return FALSE;
	}
	if (self->expires < 0 || self->created < 0 || self->last_used < 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "times must not be negative");
		return FALSE;
	}
	return TRUE;
}

static void
vigil_rule_append_time(GString *str, gint64 time)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(time);
	g_autofree gchar *text = NULL;

	if (dt == NULL) {
		g_string_append_printf(str, "%" G_GINT64_FORMAT, time);
		return;
	}
	text = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
	g_string_append(str, text);
}

/**
 * vigil_rule_to_string:
 * @self: a #VigilRule
 *
 * Returns: (transfer full): a one-line description for logs and the CLI, e.g.
 * `allow /usr/bin/curl -> *.example.org tcp/443 (forever)`
 */
gchar *
vigil_rule_to_string(VigilRule *self)
{
	GString *str;
	const gchar *action;
	const gchar *protocol;

	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);

	str = g_string_new(NULL);
	action = vigil_action_to_string(self->action);
	g_string_append(str, action != NULL ? action : "none");

	if (self->exe != NULL)
		g_string_append_printf(str, " %s", self->exe);
	else if (self->app_id != NULL)
		g_string_append_printf(str, " app %s", self->app_id);
	else if (self->unit != NULL)
		g_string_append_printf(str, " unit %s", self->unit);
	else
		g_string_append(str, " any app");
	if (self->sha256 != NULL)
		g_string_append_printf(str, " [sha256 %.12s]", self->sha256);
	if (self->has_user)
		g_string_append_printf(str, " uid %u", self->uid);

	g_string_append(str, self->direction == VIGIL_DIRECTION_IN ? " <- " : " -> ");
	if (self->host != NULL)
		g_string_append(str, self->host);
	else if (self->cidr != NULL)
		g_string_append(str, self->cidr);
	else
		g_string_append(str, "any");

	protocol = vigil_protocol_to_string(self->protocol);
	if (self->protocol != VIGIL_PROTOCOL_ANY) {
		if (protocol != NULL)
			g_string_append_printf(str, " %s", protocol);
		else
			g_string_append_printf(str, " proto %u", self->protocol);
		if (self->has_port)
			g_string_append_c(str, '/');
	} else if (self->has_port) {
		g_string_append(str, " port ");
	}
	if (self->has_port) {
		g_autofree gchar *port = vigil_rule_get_port_string(self);
		g_string_append(str, port);
	}
	if (self->direction != VIGIL_DIRECTION_ANY)
		g_string_append_printf(str, " %s", vigil_direction_to_string(self->direction));

	switch (self->lifetime) {
	case VIGIL_LIFETIME_ONCE:
		g_string_append(str, " (once)");
		break;
	case VIGIL_LIFETIME_PROCESS:
		g_string_append_printf(str, " (until pid %u exits)", self->pid);
		break;
	case VIGIL_LIFETIME_UNTIL:
		g_string_append(str, " (until ");
		vigil_rule_append_time(str, self->expires);
		g_string_append_c(str, ')');
		break;
	case VIGIL_LIFETIME_REBOOT:
		g_string_append(str, " (until reboot)");
		break;
	case VIGIL_LIFETIME_FOREVER:
	case VIGIL_LIFETIME_LAST:
	default:
		g_string_append(str, " (forever)");
		break;
	}
	if (!self->enabled)
		g_string_append(str, " [disabled]");
	return g_string_free(str, FALSE);
}

/* identity and state */

const gchar *
vigil_rule_get_id(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->id;
}

void
vigil_rule_set_id(VigilRule *self, const gchar *id)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	if (self->id == id)
		return;
	g_free(self->id);
	self->id = g_strdup(id);
}

/**
 * vigil_rule_generate_id:
 *
 * Returns: (transfer full): a new random id, "r-" and 12 lower-case hex digits
 */
gchar *
vigil_rule_generate_id(void)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	gchar id[15] = "r-";

	/* the first 12 hex digits of a v4 uuid are all random */
	memcpy(id + 2, uuid, 8);
	memcpy(id + 10, uuid + 9, 4);
	id[14] = '\0';
	return g_ascii_strdown(id, -1);
}

gboolean
vigil_rule_get_enabled(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	return self->enabled;
}

void
vigil_rule_set_enabled(VigilRule *self, gboolean enabled)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->enabled = enabled ? TRUE : FALSE;
}

VigilAction
vigil_rule_get_action(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), VIGIL_ACTION_NONE);
	return self->action;
}

void
vigil_rule_set_action(VigilRule *self, VigilAction action)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->action = action;
}

/* who */

static void
vigil_rule_replace_string(gchar **field, const gchar *value)
{
	gchar *old = *field;

	if (old == value)
		return;
	*field = g_strdup(value);
	g_free(old);
}

const gchar *
vigil_rule_get_exe(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->exe;
}

void
vigil_rule_set_exe(VigilRule *self, const gchar *exe)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->exe, exe);
}

const gchar *
vigil_rule_get_app_id(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->app_id;
}

void
vigil_rule_set_app_id(VigilRule *self, const gchar *app_id)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->app_id, app_id);
}

const gchar *
vigil_rule_get_unit(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->unit;
}

void
vigil_rule_set_unit(VigilRule *self, const gchar *unit)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->unit, unit);
}

const gchar *
vigil_rule_get_sha256(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->sha256;
}

/**
 * vigil_rule_set_sha256:
 * @self: a #VigilRule
 * @sha256: (nullable): 64 hex digits, or %NULL to clear
 * @error: (nullable): return location for a #GError
 *
 * Pins the executable to a digest; stored in lower case.
 *
 * Returns: %TRUE on success; on failure the rule is unchanged
 */
gboolean
vigil_rule_set_sha256(VigilRule *self, const gchar *sha256, GError **error)
{
	gsize len = 0;

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (sha256 == NULL) {
		g_clear_pointer(&self->sha256, g_free);
		return TRUE;
	}
	for (len = 0; sha256[len] != '\0' && len <= 64; len++) {
		if (!g_ascii_isxdigit(sha256[len]))
			break;
	}
	if (len != 64 || sha256[len] != '\0') {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "sha256 must be 64 hex digits");
		return FALSE;
	}
	g_free(self->sha256);
	self->sha256 = g_ascii_strdown(sha256, -1);
	return TRUE;
}

gboolean
vigil_rule_has_user(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	return self->has_user;
}

guint32
vigil_rule_get_user(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->uid;
}

void
vigil_rule_set_user(VigilRule *self, guint32 uid)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->has_user = TRUE;
	self->uid = uid;
}

void
vigil_rule_clear_user(VigilRule *self)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->has_user = FALSE;
	self->uid = 0;
}

/* what */

VigilDirection
vigil_rule_get_direction(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), VIGIL_DIRECTION_ANY);
	return self->direction;
}

void
vigil_rule_set_direction(VigilRule *self, VigilDirection direction)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->direction = direction;
}

guint8
vigil_rule_get_protocol(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->protocol;
}

void
vigil_rule_set_protocol(VigilRule *self, guint8 protocol)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->protocol = protocol;
}

const gchar *
vigil_rule_get_host(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->host;
}

static gboolean
vigil_rule_check_domain(const gchar *name, GError **error)
{
	gsize len = strlen(name);
	gsize label = 0;

	if (len == 0) {
		g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE, "host is empty");
		return FALSE;
	}
	if (len > VIGIL_RULE_HOST_MAX) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "host is longer than %u characters",
			    (guint)VIGIL_RULE_HOST_MAX);
		return FALSE;
	}
	for (gsize i = 0; i <= len; i++) {
		gchar c = name[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				g_set_error(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_RULE,
					    "host '%s' has an empty label",
					    name);
				return FALSE;
			}
			label = 0;
			continue;
		}
		if (c == '*') {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "host '%s': '*.' is only allowed as the whole first label",
				    name);
			return FALSE;
		}
		if (!g_ascii_isalnum(c) && c != '-' && c != '_') {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "host '%s' has an invalid character",
				    name);
			return FALSE;
		}
		if (++label > VIGIL_RULE_LABEL_MAX) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "host '%s' has a label longer than %u characters",
				    name,
				    (guint)VIGIL_RULE_LABEL_MAX);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * vigil_rule_set_host:
 * @self: a #VigilRule
 * @host: (nullable): an exact host name or `*.domain`, or %NULL to clear
 * @error: (nullable): return location for a #GError
 *
 * Sets the remote host. The name is stored in lower case without a trailing dot;
 * internationalised names are stored in their ASCII (punycode) form. `*.example.org`
 * matches example.org and all its subdomains.
 *
 * Returns: %TRUE on success; on failure the rule is unchanged
 */
gboolean
vigil_rule_set_host(VigilRule *self, const gchar *host, GError **error)
{
	g_autofree gchar *ascii = NULL;
	g_autofree gchar *lower = NULL;
	gboolean is_domain = FALSE;
	const gchar *name;
	gsize len;

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (host == NULL) {
		g_clear_pointer(&self->host, g_free);
		self->host_is_domain = FALSE;
		return TRUE;
	}
	if (!g_utf8_validate(host, -1, NULL)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "host is not valid UTF-8");
		return FALSE;
	}
	if (g_str_has_prefix(host, "*.")) {
		is_domain = TRUE;
		host += 2;
	}
	if (!g_str_is_ascii(host)) {
		ascii = g_hostname_to_ascii(host);
		if (ascii == NULL) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "host '%s' is not a valid international name",
				    host);
			return FALSE;
		}
		host = ascii;
	}
	lower = g_ascii_strdown(host, -1);
	len = strlen(lower);
	if (len > 1 && lower[len - 1] == '.')
		lower[len - 1] = '\0';
	name = lower;
	if (!vigil_rule_check_domain(name, error))
		return FALSE;
	if (!is_domain && g_hostname_is_ip_address(name)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "host '%s' is an address; use cidr",
			    name);
		return FALSE;
	}
	g_free(self->host);
	self->host = is_domain ? g_strconcat("*.", name, NULL) : g_strdup(name);
	self->host_is_domain = is_domain;
	return TRUE;
}

gboolean
vigil_rule_host_is_domain(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	return self->host_is_domain;
}

const gchar *
vigil_rule_get_cidr(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->cidr;
}

/**
 * vigil_rule_set_cidr:
 * @self: a #VigilRule
 * @cidr: (nullable): an address or a prefix, IPv4 or IPv6, or %NULL to clear
 * @error: (nullable): return location for a #GError
 *
 * Sets the remote address. Host bits beyond the prefix are cleared, so "198.18.3.4/15"
 * is stored as "198.18.0.0/15"; a full-length prefix is written without the slash. An
 * IPv4-mapped IPv6 prefix of length 96 or more is stored as the IPv4 prefix it maps, so
 * that it matches IPv4 connections.
 *
 * Returns: %TRUE on success; on failure the rule is unchanged
 */
gboolean
vigil_rule_set_cidr(VigilRule *self, const gchar *cidr, GError **error)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	g_autofree gchar *address = NULL;
	const gchar *slash;
	guint8 bytes[16] = {0};
	guint8 family;
	guint prefix;
	guint max;
	gchar text[INET6_ADDRSTRLEN];

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (cidr == NULL) {
		g_clear_pointer(&self->cidr, g_free);
		self->cidr_family = 0;
		self->cidr_prefix = 0;
		memset(self->cidr_address, 0, sizeof(self->cidr_address));
		return TRUE;
	}
	if (strlen(cidr) > VIGIL_RULE_SHORT_STR_MAX) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "cidr is too long");
		return FALSE;
	}
	slash = strchr(cidr, '/');
	address = slash != NULL ? g_strndup(cidr, slash - cidr) : g_strdup(cidr);
	if (inet_pton(AF_INET, address, bytes) == 1) {
		family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, address, bytes) == 1) {
		family = 6;
		max = 128;
	} else {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "cidr '%s' is not an IPv4 or IPv6 address",
			    cidr);
		return FALSE;
	}
	prefix = max;
	if (slash != NULL) {
		const gchar *digits = slash + 1;
		gsize n = strlen(digits);
		if (n == 0 || n > 3 || strspn(digits, "0123456789") != n) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "cidr '%s' has an invalid prefix length",
				    cidr);
			return FALSE;
		}
		prefix = (guint)g_ascii_strtoull(digits, NULL, 10);
		if (prefix > max) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "cidr '%s': prefix length %u is longer than %u",
				    cidr,
				    prefix,
				    max);
			return FALSE;
		}
	}

	/* an IPv4-mapped prefix is the IPv4 prefix it maps */
	if (family == 6 && prefix >= 96 && memcmp(bytes, mapped, sizeof(mapped)) == 0) {
		memmove(bytes, bytes + 12, 4);
		memset(bytes + 4, 0, 12);
		family = 4;
		prefix -= 96;
		max = 32;
	}

	/* clear the host bits */
	for (guint i = 0; i < 16; i++) {
		guint bit = i * 8;
		if (bit >= prefix)
			bytes[i] = 0;
		else if (prefix - bit < 8)
			bytes[i] &= (guint8)(0xff << (8 - (prefix - bit)));
	}
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes, text, sizeof(text)) == NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "cidr '%s' cannot be written back",
			    cidr);
		return FALSE;
	}
	g_free(self->cidr);
	self->cidr = prefix == max ? g_strdup(text) : g_strdup_printf("%s/%u", text, prefix);
	self->cidr_family = family;
	self->cidr_prefix = (guint8)prefix;
	memcpy(self->cidr_address, bytes, sizeof(self->cidr_address));
	return TRUE;
}

guint8
vigil_rule_get_cidr_family(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->cidr_family;
}

const guint8 *
vigil_rule_get_cidr_address(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->cidr_address;
}

guint8
vigil_rule_get_cidr_prefix(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->cidr_prefix;
}

gboolean
vigil_rule_has_port(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	return self->has_port;
}

guint16
vigil_rule_get_port_min(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->port_min;
}

guint16
vigil_rule_get_port_max(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->port_max;
}

void
vigil_rule_set_port_range(VigilRule *self, guint16 min, guint16 max)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->has_port = TRUE;
	self->port_min = min;
	self->port_max = max;
}

void
vigil_rule_clear_port(VigilRule *self)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->has_port = FALSE;
	self->port_min = 0;
	self->port_max = 0;
}

static gboolean
vigil_rule_parse_port(const gchar *str, gsize len, guint16 *port)
{
	guint value = 0;

	if (len == 0 || len > 5)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (str[i] < '0' || str[i] > '9')
			return FALSE;
		value = value * 10 + (guint)(str[i] - '0');
	}
	if (value > G_MAXUINT16)
		return FALSE;
	*port = (guint16)value;
	return TRUE;
}

/**
 * vigil_rule_set_port_from_string:
 * @self: a #VigilRule
 * @port: (nullable): "443" or "8000-8100", or %NULL to clear
 * @error: (nullable): return location for a #GError
 *
 * Returns: %TRUE on success; on failure the rule is unchanged
 */
gboolean
vigil_rule_set_port_from_string(VigilRule *self, const gchar *port, GError **error)
{
	const gchar *dash;
	guint16 min = 0;
	guint16 max = 0;
	gboolean ok;

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (port == NULL) {
		vigil_rule_clear_port(self);
		return TRUE;
	}
	dash = strchr(port, '-');
	if (dash == NULL) {
		ok = vigil_rule_parse_port(port, strlen(port), &min);
		max = min;
	} else {
		ok = vigil_rule_parse_port(port, dash - port, &min) &&
		     vigil_rule_parse_port(dash + 1, strlen(dash + 1), &max);
	}
	if (!ok) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "port '%s' is not a port (0-65535) or a range like 8000-8100",
			    port);
		return FALSE;
	}
	if (min > max) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "port range '%s' is reversed",
			    port);
		return FALSE;
	}
	vigil_rule_set_port_range(self, min, max);
	return TRUE;
}

/**
 * vigil_rule_get_port_string:
 * @self: a #VigilRule
 *
 * Returns: (transfer full) (nullable): "443" or "8000-8100", or %NULL for any port
 */
gchar *
vigil_rule_get_port_string(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);

	if (!self->has_port)
		return NULL;
	if (self->port_min == self->port_max)
		return g_strdup_printf("%u", self->port_min);
	return g_strdup_printf("%u-%u", self->port_min, self->port_max);
}

/* lifetime */

VigilLifetime
vigil_rule_get_lifetime(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), VIGIL_LIFETIME_FOREVER);
	return self->lifetime;
}

void
vigil_rule_set_lifetime(VigilRule *self, VigilLifetime lifetime)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->lifetime = lifetime;
}

gint64
vigil_rule_get_expires(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->expires;
}

void
vigil_rule_set_expires(VigilRule *self, gint64 expires)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->expires = expires;
}

guint32
vigil_rule_get_pid(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->pid;
}

guint64
vigil_rule_get_pid_start(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->pid_start;
}

void
vigil_rule_set_process(VigilRule *self, guint32 pid, guint64 pid_start)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->pid = pid;
	self->pid_start = pid_start;
}

const gchar *
vigil_rule_get_boot_id(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->boot_id;
}

void
vigil_rule_set_boot_id(VigilRule *self, const gchar *boot_id)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->boot_id, boot_id);
}

/**
 * vigil_rule_is_expired:
 * @self: a #VigilRule
 * @now: unix seconds
 * @boot_id: (nullable): the current boot id
 *
 * Returns: %TRUE when an until rule's time has come, or a reboot rule belongs to another
 * boot. Once and process rules are never expired by time.
 */
gboolean
vigil_rule_is_expired(VigilRule *self, gint64 now, const gchar *boot_id)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);

	if (self->lifetime == VIGIL_LIFETIME_UNTIL)
		return now >= self->expires;
	if (self->lifetime == VIGIL_LIFETIME_REBOOT)
		return self->boot_id != NULL && boot_id != NULL &&
		       g_strcmp0(self->boot_id, boot_id) != 0;
	return FALSE;
}

/* bookkeeping */

VigilOrigin
vigil_rule_get_origin(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), VIGIL_ORIGIN_USER);
	return self->origin;
}

void
vigil_rule_set_origin(VigilRule *self, VigilOrigin origin)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->origin = origin;
}

gboolean
vigil_rule_is_read_only(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	return self->origin == VIGIL_ORIGIN_MANAGED;
}

gint64
vigil_rule_get_created(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->created;
}

void
vigil_rule_set_created(VigilRule *self, gint64 created)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->created = created;
}

gint64
vigil_rule_get_last_used(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->last_used;
}

void
vigil_rule_set_last_used(VigilRule *self, gint64 last_used)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->last_used = last_used;
}

guint64
vigil_rule_get_hits(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), 0);
	return self->hits;
}

void
vigil_rule_set_hits(VigilRule *self, guint64 hits)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	self->hits = hits;
}

const gchar *
vigil_rule_get_note(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->note;
}

void
vigil_rule_set_note(VigilRule *self, const gchar *note)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->note, note);
}

const gchar *
vigil_rule_get_source(VigilRule *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);
	return self->source;
}

void
vigil_rule_set_source(VigilRule *self, const gchar *source)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	vigil_rule_replace_string(&self->source, source);
}

/*
 * serialisation: one table of keys, used by the JSON and the D-Bus readers and writers
 */

typedef enum {
	VIGIL_RULE_VALUE_STRING,
	VIGIL_RULE_VALUE_INTEGER,
	VIGIL_RULE_VALUE_BOOLEAN,
	VIGIL_RULE_VALUE_NEGATIVE, /* an integer below zero */
	VIGIL_RULE_VALUE_OTHER,	   /* any other type */
} VigilRuleValueKind;

typedef struct {
	VigilRuleValueKind kind;
	const gchar *str;
	guint64 num;
	gboolean boolean;
	gchar *owned; /* backs @str when a getter made it up */
} VigilRuleValue;

/* a reader sets the field from @value; a writer fills @value and returns FALSE for a default */
typedef gboolean (*VigilRuleKeyReadFunc)(VigilRule *self,
					 const VigilRuleValue *value,
					 GError **error);
typedef gboolean (*VigilRuleKeyWriteFunc)(VigilRule *self, VigilRuleValue *value);

typedef struct {
	const gchar *name;
	VigilRuleValueKind kind;
	const gchar *variant_type;
	guint64 max; /* largest integer, or longest string in bytes */
	gboolean always_in_variant;
	VigilRuleKeyReadFunc read;
	VigilRuleKeyWriteFunc write;
} VigilRuleKey;

static gboolean
vigil_rule_write_string(VigilRuleValue *value, const gchar *str)
{
	value->str = str;
	return str != NULL;
}

static gboolean
vigil_rule_write_take_string(VigilRuleValue *value, gchar *str)
{
	value->owned = str;
	value->str = str;
	return str != NULL;
}

static gboolean
vigil_rule_write_integer(VigilRuleValue *value, guint64 num)
{
	value->num = num;
	return num != 0;
}

static gboolean
vigil_rule_read_id(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_id(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_id(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->id);
}

static gboolean
vigil_rule_read_enabled(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->enabled = value->boolean;
	return TRUE;
}

static gboolean
vigil_rule_write_enabled(VigilRule *self, VigilRuleValue *value)
{
	value->boolean = self->enabled;
	return !self->enabled;
}

static gboolean
vigil_rule_read_action(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	VigilAction action = vigil_action_from_string(value->str);

	if (action == VIGIL_ACTION_NONE || action >= VIGIL_ACTION_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "'%s' is not allow, deny or reject",
			    value->str);
		return FALSE;
	}
	self->action = action;
	return TRUE;
}

static gboolean
vigil_rule_write_action(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, vigil_action_to_string(self->action)) &&
	       self->action != VIGIL_ACTION_NONE;
}

static gboolean
vigil_rule_read_exe(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_exe(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_exe(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->exe);
}

static gboolean
vigil_rule_read_app_id(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_app_id(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_app_id(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->app_id);
}

static gboolean
vigil_rule_read_unit(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_unit(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_unit(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->unit);
}

static gboolean
vigil_rule_read_sha256(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	return vigil_rule_set_sha256(self, value->str, error);
}

static gboolean
vigil_rule_write_sha256(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->sha256);
}

static gboolean
vigil_rule_read_user(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_user(self, (guint32)value->num);
	return TRUE;
}

static gboolean
vigil_rule_write_user(VigilRule *self, VigilRuleValue *value)
{
	value->num = self->uid;
	return self->has_user;
}

static gboolean
vigil_rule_read_direction(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	VigilDirection direction = vigil_direction_from_string(value->str);

	if (direction >= VIGIL_DIRECTION_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "'%s' is not any, out or in",
			    value->str);
		return FALSE;
	}
	self->direction = direction;
	return TRUE;
}

static gboolean
vigil_rule_write_direction(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, vigil_direction_to_string(self->direction)) &&
	       self->direction != VIGIL_DIRECTION_ANY;
}

/* a protocol is a name we know, or a decimal IP protocol number */
static gboolean
vigil_rule_read_protocol(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	gint protocol = vigil_protocol_from_string(value->str);
	gsize len = strlen(value->str);

	if (protocol < 0 && len > 0 && len <= 3 && strspn(value->str, "0123456789") == len) {
		guint64 num = g_ascii_strtoull(value->str, NULL, 10);
		if (num <= G_MAXUINT8)
			protocol = (gint)num;
	}
	if (protocol < 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "'%s' is not a protocol (any, tcp, udp, icmp, icmpv6, sctp, "
			    "udplite or a number)",
			    value->str);
		return FALSE;
	}
	self->protocol = (guint8)protocol;
	return TRUE;
}

static gboolean
vigil_rule_write_protocol(VigilRule *self, VigilRuleValue *value)
{
	const gchar *name = vigil_protocol_to_string(self->protocol);

	if (name != NULL)
		vigil_rule_write_string(value, name);
	else
		vigil_rule_write_take_string(value, g_strdup_printf("%u", self->protocol));
	return self->protocol != VIGIL_PROTOCOL_ANY;
}

static gboolean
vigil_rule_read_host(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	return vigil_rule_set_host(self, value->str, error);
}

static gboolean
vigil_rule_write_host(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->host);
}

static gboolean
vigil_rule_read_cidr(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	return vigil_rule_set_cidr(self, value->str, error);
}

static gboolean
vigil_rule_write_cidr(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->cidr);
}

static gboolean
vigil_rule_read_port(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	return vigil_rule_set_port_from_string(self, value->str, error);
}

static gboolean
vigil_rule_write_port(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_take_string(value, vigil_rule_get_port_string(self));
}

static gboolean
vigil_rule_read_lifetime(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	VigilLifetime lifetime = vigil_lifetime_from_string(value->str);

	if (lifetime >= VIGIL_LIFETIME_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "'%s' is not once, process, until, reboot or forever",
			    value->str);
		return FALSE;
	}
	self->lifetime = lifetime;
	return TRUE;
}

static gboolean
vigil_rule_write_lifetime(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, vigil_lifetime_to_string(self->lifetime)) &&
	       self->lifetime != VIGIL_LIFETIME_FOREVER;
}

static gboolean
vigil_rule_read_expires(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->expires = (gint64)value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_expires(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, (guint64)MAX(self->expires, 0));
}

static gboolean
vigil_rule_read_pid(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->pid = (guint32)value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_pid(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, self->pid);
}

static gboolean
vigil_rule_read_pid_start(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->pid_start = value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_pid_start(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, MIN(self->pid_start, (guint64)G_MAXINT64));
}

static gboolean
vigil_rule_read_boot_id(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_boot_id(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_boot_id(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->boot_id);
}

static gboolean
vigil_rule_read_origin(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	VigilOrigin origin = vigil_origin_from_string(value->str);

	if (origin >= VIGIL_ORIGIN_LAST) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "'%s' is not user, prompt, imported or managed",
			    value->str);
		return FALSE;
	}
	self->origin = origin;
	return TRUE;
}

static gboolean
vigil_rule_write_origin(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, vigil_origin_to_string(self->origin)) &&
	       self->origin != VIGIL_ORIGIN_USER;
}

static gboolean
vigil_rule_read_created(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->created = (gint64)value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_created(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, (guint64)MAX(self->created, 0));
}

static gboolean
vigil_rule_read_last_used(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->last_used = (gint64)value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_last_used(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, (guint64)MAX(self->last_used, 0));
}

static gboolean
vigil_rule_read_hits(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	self->hits = value->num;
	return TRUE;
}

static gboolean
vigil_rule_write_hits(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_integer(value, MIN(self->hits, (guint64)G_MAXINT64));
}

static gboolean
vigil_rule_read_note(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	vigil_rule_set_note(self, value->str);
	return TRUE;
}

static gboolean
vigil_rule_write_note(VigilRule *self, VigilRuleValue *value)
{
	return vigil_rule_write_string(value, self->note);
}

/* "read-only" is derived from the origin: written for clients, accepted and ignored when a
 * client sends back what it got */
static gboolean
vigil_rule_read_read_only(VigilRule *self, const VigilRuleValue *value, GError **error)
{
	return TRUE;
}

static gboolean
vigil_rule_write_read_only(VigilRule *self, VigilRuleValue *value)
{
	value->boolean = vigil_rule_is_read_only(self);
	return FALSE;
}

#define STRING	VIGIL_RULE_VALUE_STRING
#define INTEGER VIGIL_RULE_VALUE_INTEGER
#define BOOLEAN VIGIL_RULE_VALUE_BOOLEAN

static const VigilRuleKey rule_keys[] = {
    {"id", STRING, "s", VIGIL_RULE_ID_MAX, FALSE, vigil_rule_read_id, vigil_rule_write_id},
    {"enabled", BOOLEAN, "b", 0, TRUE, vigil_rule_read_enabled, vigil_rule_write_enabled},
    {"action", STRING, "s", 16, TRUE, vigil_rule_read_action, vigil_rule_write_action},
    {"exe", STRING, "s", PATH_MAX - 1, FALSE, vigil_rule_read_exe, vigil_rule_write_exe},
    {"app-id",
     STRING,
     "s",
     VIGIL_RULE_APP_ID_MAX,
     FALSE,
     vigil_rule_read_app_id,
     vigil_rule_write_app_id},
    {"unit", STRING, "s", VIGIL_RULE_UNIT_MAX, FALSE, vigil_rule_read_unit, vigil_rule_write_unit},
    {"sha256", STRING, "s", 64, FALSE, vigil_rule_read_sha256, vigil_rule_write_sha256},
    {"user", INTEGER, "u", G_MAXUINT32, FALSE, vigil_rule_read_user, vigil_rule_write_user},
    {"direction", STRING, "s", 16, TRUE, vigil_rule_read_direction, vigil_rule_write_direction},
    {"protocol", STRING, "s", 16, TRUE, vigil_rule_read_protocol, vigil_rule_write_protocol},
    {"host", STRING, "s", 1024, FALSE, vigil_rule_read_host, vigil_rule_write_host},
    {"cidr",
     STRING,
     "s",
     VIGIL_RULE_SHORT_STR_MAX,
     FALSE,
     vigil_rule_read_cidr,
     vigil_rule_write_cidr},
    {"port", STRING, "s", 16, FALSE, vigil_rule_read_port, vigil_rule_write_port},
    {"lifetime", STRING, "s", 16, TRUE, vigil_rule_read_lifetime, vigil_rule_write_lifetime},
    {"expires", INTEGER, "x", G_MAXINT64, FALSE, vigil_rule_read_expires, vigil_rule_write_expires},
    {"pid", INTEGER, "u", G_MAXUINT32, FALSE, vigil_rule_read_pid, vigil_rule_write_pid},
    {"pid-start",
     INTEGER,
     "t",
     G_MAXINT64,
     FALSE,
     vigil_rule_read_pid_start,
     vigil_rule_write_pid_start},
    {"boot-id",
     STRING,
     "s",
     VIGIL_RULE_BOOT_ID_MAX,
     FALSE,
     vigil_rule_read_boot_id,
     vigil_rule_write_boot_id},
    {"origin", STRING, "s", 16, TRUE, vigil_rule_read_origin, vigil_rule_write_origin},
    {"created", INTEGER, "x", G_MAXINT64, FALSE, vigil_rule_read_created, vigil_rule_write_created},
    {"last-used",
     INTEGER,
     "x",
     G_MAXINT64,
     FALSE,
     vigil_rule_read_last_used,
     vigil_rule_write_last_used},
    {"hits", INTEGER, "t", G_MAXINT64, FALSE, vigil_rule_read_hits, vigil_rule_write_hits},
    {"note", STRING, "s", VIGIL_RULE_NOTE_MAX, FALSE, vigil_rule_read_note, vigil_rule_write_note},
    {"read-only", BOOLEAN, "b", 0, TRUE, vigil_rule_read_read_only, vigil_rule_write_read_only},
};

#undef STRING
#undef INTEGER
#undef BOOLEAN

G_STATIC_ASSERT(G_N_ELEMENTS(rule_keys) <= 64);

static const gchar *
vigil_rule_value_kind_to_string(VigilRuleValueKind kind)
{
	if (kind == VIGIL_RULE_VALUE_STRING)
		return "a string";
	if (kind == VIGIL_RULE_VALUE_BOOLEAN)
		return "a boolean";
	return "an integer";
}

/* the one key dispatcher: checks the name, the type and the range, then sets the field */
static gboolean
vigil_rule_read_key(VigilRule *self,
		    const gchar *name,
		    const VigilRuleValue *value,
		    guint64 *seen,
		    GError **error)
{
	const VigilRuleKey *key = NULL;
	guint idx;

	for (idx = 0; idx < G_N_ELEMENTS(rule_keys); idx++) {
		if (g_strcmp0(rule_keys[idx].name, name) == 0) {
			key = &rule_keys[idx];
			break;
		}
	}
	if (key == NULL) {
		g_autofree gchar *escaped = g_strescape(name != NULL ? name : "", NULL);
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "unknown key '%s'",
			    escaped);
		return FALSE;
	}
	if ((*seen & (G_GUINT64_CONSTANT(1) << idx)) != 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "duplicate key '%s'",
			    name);
		return FALSE;
	}
	*seen |= G_GUINT64_CONSTANT(1) << idx;
	if (key->kind == VIGIL_RULE_VALUE_INTEGER && value->kind == VIGIL_RULE_VALUE_NEGATIVE) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "key '%s': value out of range",
			    name);
		return FALSE;
	}
	if (value->kind != key->kind) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "key '%s': expected %s",
			    name,
			    vigil_rule_value_kind_to_string(key->kind));
		return FALSE;
	}
	if (key->kind == VIGIL_RULE_VALUE_INTEGER && value->num > key->max) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "key '%s': value out of range",
			    name);
		return FALSE;
	}
	if (key->kind == VIGIL_RULE_VALUE_STRING) {
		if (!g_utf8_validate(value->str, -1, NULL)) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "key '%s': not valid UTF-8",
				    name);
			return FALSE;
		}
		if (strlen(value->str) > key->max) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_RULE,
				    "key '%s': longer than %" G_GUINT64_FORMAT " bytes",
				    name,
				    key->max);
			return FALSE;
		}
	}
	if (!key->read(self, value, error)) {
		g_prefix_error(error, "key '%s': ", name);
		return FALSE;
	}
	return TRUE;
}

static void
vigil_rule_value_from_json_node(JsonNode *node, VigilRuleValue *value)
{
	GType type;

	value->kind = VIGIL_RULE_VALUE_OTHER;
	if (json_node_get_node_type(node) != JSON_NODE_VALUE)
		return;
	type = json_node_get_value_type(node);
	if (type == G_TYPE_STRING) {
		value->kind = VIGIL_RULE_VALUE_STRING;
		value->str = json_node_get_string(node);
	} else if (type == G_TYPE_BOOLEAN) {
		value->kind = VIGIL_RULE_VALUE_BOOLEAN;
		value->boolean = json_node_get_boolean(node);
	} else if (type == G_TYPE_INT64) {
		gint64 num = json_node_get_int(node);
		value->kind = num < 0 ? VIGIL_RULE_VALUE_NEGATIVE : VIGIL_RULE_VALUE_INTEGER;
		value->num = (guint64)MAX(num, 0);
	}
}

/**
 * vigil_rule_new_from_json_object:
 * @obj: a JSON object with the keys described at #VigilRule
 * @error: (nullable): return location for a #GError
 *
 * Reads a rule strictly: an unknown key, a value of the wrong type or out of range is an
 * error, because a key we do not understand might narrow the rule. The rule is validated.
 *
 * Returns: (transfer full): the rule, or %NULL with @error set
 */
VigilRule *
vigil_rule_new_from_json_object(JsonObject *obj, GError **error)
{
	g_autoptr(VigilRule) self = vigil_rule_new();
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *node;
	guint64 seen = 0;

	g_return_val_if_fail(obj != NULL, NULL);

	json_object_iter_init(&iter, obj);
	while (json_object_iter_next(&iter, &name, &node)) {
		VigilRuleValue value = {0};
		vigil_rule_value_from_json_node(node, &value);
		if (!vigil_rule_read_key(self, name, &value, &seen, error))
			return NULL;
	}
	if (!vigil_rule_validate(self, error))
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * vigil_rule_add_to_json_builder:
 * @self: a #VigilRule
 * @builder: a #JsonBuilder, where a value may be added
 *
 * Adds the rule as one JSON object. Fields holding their default are left out to keep files
 * small; times are unix seconds.
 */
void
vigil_rule_add_to_json_builder(VigilRule *self, JsonBuilder *builder)
{
	g_return_if_fail(VIGIL_IS_RULE(self));
	g_return_if_fail(JSON_IS_BUILDER(builder));

	json_builder_begin_object(builder);
	for (guint i = 0; i < G_N_ELEMENTS(rule_keys); i++) {
		const VigilRuleKey *key = &rule_keys[i];
		VigilRuleValue value = {.kind = key->kind};
		if (key->write(self, &value)) {
			json_builder_set_member_name(builder, key->name);
			if (key->kind == VIGIL_RULE_VALUE_STRING)
				json_builder_add_string_value(builder, value.str);
			else if (key->kind == VIGIL_RULE_VALUE_BOOLEAN)
				json_builder_add_boolean_value(builder, value.boolean);
			else
				json_builder_add_int_value(builder,
							   (gint64)MIN(value.num, G_MAXINT64));
		}
		g_free(value.owned);
	}
	json_builder_end_object(builder);
}

static void
vigil_rule_value_from_variant(GVariant *variant, VigilRuleValue *value)
{
	gint64 num = 0;
	gboolean is_signed = TRUE;

	value->kind = VIGIL_RULE_VALUE_OTHER;
	switch (g_variant_classify(variant)) {
	case G_VARIANT_CLASS_STRING:
		value->kind = VIGIL_RULE_VALUE_STRING;
		value->str = g_variant_get_string(variant, NULL);
		return;
	case G_VARIANT_CLASS_BOOLEAN:
		value->kind = VIGIL_RULE_VALUE_BOOLEAN;
		value->boolean = g_variant_get_boolean(variant);
		return;
	case G_VARIANT_CLASS_BYTE:
		value->num = g_variant_get_byte(variant);
		is_signed = FALSE;
		break;
	case G_VARIANT_CLASS_UINT16:
		value->num = g_variant_get_uint16(variant);
		is_signed = FALSE;
		break;
	case G_VARIANT_CLASS_UINT32:
		value->num = g_variant_get_uint32(variant);
		is_signed = FALSE;
		break;
	case G_VARIANT_CLASS_UINT64:
		value->num = g_variant_get_uint64(variant);
		is_signed = FALSE;
		break;
	case G_VARIANT_CLASS_INT16:
		num = g_variant_get_int16(variant);
		break;
	case G_VARIANT_CLASS_INT32:
		num = g_variant_get_int32(variant);
		break;
	case G_VARIANT_CLASS_INT64:
		num = g_variant_get_int64(variant);
		break;
	default:
		return;
	}
	if (is_signed) {
		value->kind = num < 0 ? VIGIL_RULE_VALUE_NEGATIVE : VIGIL_RULE_VALUE_INTEGER;
		value->num = (guint64)MAX(num, 0);
		return;
	}
	value->kind = VIGIL_RULE_VALUE_INTEGER;
}

/**
 * vigil_rule_update_from_variant:
 * @self: a #VigilRule
 * @dict: an a{sv} with the keys described at #VigilRule
 * @error: (nullable): return location for a #GError
 *
 * Changes the keys given in @dict and validates the result. Integer keys accept any
 * integer type whose value fits. On failure @self is unchanged.
 *
 * Returns: %TRUE on success
 */
gboolean
vigil_rule_update_from_variant(VigilRule *self, GVariant *dict, GError **error)
{
	g_autoptr(VigilRule) copy = NULL;
	GVariantIter iter;
	const gchar *name;
	GVariant *child;
	guint64 seen = 0;

	g_return_val_if_fail(VIGIL_IS_RULE(self), FALSE);
	g_return_val_if_fail(dict != NULL, FALSE);

	if (!g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_RULE,
			    "expected a{sv}, got %s",
			    g_variant_get_type_string(dict));
		return FALSE;
	}
	copy = vigil_rule_copy(self);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &child)) {
		g_autoptr(GVariant) owned = child;
		VigilRuleValue value = {0};
		vigil_rule_value_from_variant(owned, &value);
		if (!vigil_rule_read_key(copy, name, &value, &seen, error))
			return FALSE;
	}
	if (!vigil_rule_validate(copy, error))
		return FALSE;
	vigil_rule_clear(self);
	vigil_rule_copy_into(self, copy);
	return TRUE;
}

/**
 * vigil_rule_new_from_variant:
 * @dict: an a{sv} with the keys described at #VigilRule
 * @error: (nullable): return location for a #GError
 *
 * Returns: (transfer full): a validated rule, or %NULL with @error set
 */
VigilRule *
vigil_rule_new_from_variant(GVariant *dict, GError **error)
{
	g_autoptr(VigilRule) self = vigil_rule_new();

	g_return_val_if_fail(dict != NULL, NULL);

	if (!vigil_rule_update_from_variant(self, dict, error))
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * vigil_rule_to_variant:
 * @self: a #VigilRule
 *
 * Returns: (transfer floating): an a{sv} with the keys described at #VigilRule; enabled,
 * action, direction, protocol, lifetime, origin and "read-only" are always present, other
 * keys only when set
 */
GVariant *
vigil_rule_to_variant(VigilRule *self)
{
	GVariantBuilder builder;

	g_return_val_if_fail(VIGIL_IS_RULE(self), NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; i < G_N_ELEMENTS(rule_keys); i++) {
		const VigilRuleKey *key = &rule_keys[i];
		VigilRuleValue value = {.kind = key->kind};
		GVariant *child = NULL;
		if (!key->write(self, &value) && !key->always_in_variant) {
			g_free(value.owned);
			continue;
		}
		switch (key->variant_type[0]) {
		case 's':
			if (value.str != NULL)
				child = g_variant_new_string(value.str);
			break;
		case 'b':
			child = g_variant_new_boolean(value.boolean);
			break;
		case 'u':
			child = g_variant_new_uint32((guint32)value.num);
			break;
		case 'x':
			child = g_variant_new_int64((gint64)MIN(value.num, G_MAXINT64));
			break;
		case 't':
			child = g_variant_new_uint64(value.num);
			break;
		default:
			g_assert_not_reached();
		}
		if (child != NULL)
			g_variant_builder_add(&builder, "{sv}", key->name, child);
		g_free(value.owned);
	}
	return g_variant_builder_end(&builder);
}
