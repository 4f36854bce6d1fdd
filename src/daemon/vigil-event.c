/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilEvent"

#include "config.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "vigil-event.h"
#include "vigil-json.h"

/* clients use the numbers to tell a backlog and a stream apart; they start again at 1 when
 * vigild does */
static guint64 vigil_event_last_seq = 0;
G_LOCK_DEFINE_STATIC(vigil_event_last_seq);

VigilEvent *
vigil_event_new(void)
{
	VigilEvent *self = g_new0(VigilEvent, 1);
	self->ref_count = 1;
	G_LOCK(vigil_event_last_seq);
	self->seq = ++vigil_event_last_seq;
	G_UNLOCK(vigil_event_last_seq);
	return self;
}

VigilEvent *
vigil_event_ref(VigilEvent *self)
{
	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
vigil_event_unref(VigilEvent *self)
{
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_free(self->rule_id);
	g_free(self->host);
	g_clear_object(&self->process);
	g_free(self);
}

static void
format_address(guint8 family, const guint8 *addr, gchar *buf, gsize bufsz)
{
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, bufsz) == NULL)
		g_strlcpy(buf, "?", bufsz);
}

static void
format_time(gint64 time_us, gchar *buf, gsize bufsz)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
	g_autofree gchar *date = NULL;

	if (dt == NULL) {
		g_strlcpy(buf, "1970-01-01T00:00:00.000Z", bufsz);
		return;
	}
	date = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
	g_snprintf(buf, bufsz, "%s.%03uZ", date, (guint)((time_us % G_USEC_PER_SEC) / 1000));
}

static void
append_key(GString *str, const gchar *key)
{
	g_string_append_printf(str, ",\"%s\":", key);
}

void
vigil_event_append_json(VigilEvent *self, GString *str)
{
	gchar buf[INET6_ADDRSTRLEN + 32];

	format_time(self->time_us, buf, sizeof(buf));
	g_string_append(str, "{\"time\":");
	vigil_json_append_string(str, buf);
	append_key(str, "verdict");
	vigil_json_append_string(str, vigil_action_to_string(self->verdict));
	append_key(str, "reason");
	vigil_json_append_string(str, vigil_reason_to_string(self->reason));
	append_key(str, "rule");
	vigil_json_append_string(str, self->rule_id);
	append_key(str, "direction");
	vigil_json_append_string(str, vigil_direction_to_string(self->direction));
	append_key(str, "proto");
	vigil_json_append_string(str, vigil_protocol_to_string(self->protocol));
	append_key(str, "family");
	if (self->family != 0)
		g_string_append_printf(str, "%u", self->family);
	else
		g_string_append(str, "null");
	append_key(str, "src");
	if (self->family != 0) {
		format_address(self->family, self->src, buf, sizeof(buf));
		vigil_json_append_string(str, buf);
	} else {
		g_string_append(str, "null");
	}
	append_key(str, "sport");
	if (self->has_ports)
		g_string_append_printf(str, "%u", self->sport);
	else
		g_string_append(str, "null");
	append_key(str, "dst");
	if (self->family != 0) {
		format_address(self->family, self->dst, buf, sizeof(buf));
		vigil_json_append_string(str, buf);
	} else {
		g_string_append(str, "null");
	}
	append_key(str, "dport");
	if (self->has_ports)
		g_string_append_printf(str, "%u", self->dport);
	else
		g_string_append(str, "null");
	append_key(str, "host");
	vigil_json_append_string(str, self->host);
	append_key(str, "iface");
	vigil_json_append_string(str, self->iface);
	append_key(str, "pid");
	if (self->pid != 0)
		g_string_append_printf(str, "%u", self->pid);
	else
		g_string_append(str, "null");
	append_key(str, "exe");
	vigil_json_append_string(str, self->exe);
	append_key(str, "cmdline");
	vigil_json_append_string(str, self->cmdline);
	append_key(str, "uid");
	if (self->uid_known)
		g_string_append_printf(str, "%u", self->uid);
	else
		g_string_append(str, "null");
	append_key(str, "user");
	vigil_json_append_string(str, self->user);
	append_key(str, "app_id");
	vigil_json_append_string(str, self->app_id);
	append_key(str, "unit");
	vigil_json_append_string(str, self->unit);
	/* last, so that the keys of design.md keep their places */
	append_key(str, "seq");
	g_string_append_printf(str, "%" G_GUINT64_FORMAT, self->seq);
	g_string_append_c(str, '}');
}

gchar *
vigil_event_to_json(VigilEvent *self)
{
	GString *str = g_string_sized_new(512);
	vigil_event_append_json(self, str);
	return g_string_free(str, FALSE);
}

static void
variant_add_string(GVariantBuilder *builder, const gchar *key, const gchar *value)
{
	g_autofree gchar *valid = NULL;
	if (value == NULL)
		return;
	if (!g_utf8_validate(value, -1, NULL)) {
		valid = g_utf8_make_valid(value, -1);
		value = valid;
	}
	g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

/* the D-Bus form: the same keys with "app-id"; unknown values are left out */
GVariant *
vigil_event_to_variant(VigilEvent *self)
{
	GVariantBuilder builder;
	gchar buf[INET6_ADDRSTRLEN + 32];

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	format_time(self->time_us, buf, sizeof(buf));
	variant_add_string(&builder, "time", buf);
	variant_add_string(&builder, "verdict", vigil_action_to_string(self->verdict));
	variant_add_string(&builder, "reason", vigil_reason_to_string(self->reason));
	variant_add_string(&builder, "rule", self->rule_id);
	variant_add_string(&builder, "direction", vigil_direction_to_string(self->direction));
	variant_add_string(&builder, "proto", vigil_protocol_to_string(self->protocol));
	if (self->family != 0) {
		g_variant_builder_add(&builder,
				      "{sv}",
				      "family",
				      g_variant_new_uint32(self->family));
		format_address(self->family, self->src, buf, sizeof(buf));
		variant_add_string(&builder, "src", buf);
		format_address(self->family, self->dst, buf, sizeof(buf));
		variant_add_string(&builder, "dst", buf);
	}
	if (self->has_ports) {
		g_variant_builder_add(&builder, "{sv}", "sport", g_variant_new_uint16(self->sport));
		g_variant_builder_add(&builder, "{sv}", "dport", g_variant_new_uint16(self->dport));
	}
	variant_add_string(&builder, "host", self->host);
	variant_add_string(&builder, "iface", self->iface);
	if (self->pid != 0)
		g_variant_builder_add(&builder, "{sv}", "pid", g_variant_new_uint32(self->pid));
	variant_add_string(&builder, "exe", self->exe);
	variant_add_string(&builder, "cmdline", self->cmdline);
	if (self->uid_known)
		g_variant_builder_add(&builder, "{sv}", "uid", g_variant_new_uint32(self->uid));
	variant_add_string(&builder, "user", self->user);
	variant_add_string(&builder, "app-id", self->app_id);
	variant_add_string(&builder, "unit", self->unit);
	g_variant_builder_add(&builder, "{sv}", "seq", g_variant_new_uint64(self->seq));
	return g_variant_builder_end(&builder);
}

static void
append_endpoint(GString *str, guint8 family, const guint8 *addr, gboolean has_port, guint16 port)
{
	gchar buf[INET6_ADDRSTRLEN];

	if (family == 0) {
		g_string_append_c(str, '?');
		return;
	}
	format_address(family, addr, buf, sizeof(buf));
	if (!has_port)
		g_string_append(str, buf);
	else if (family == 6)
		g_string_append_printf(str, "[%s]:%u", buf, port);
	else
		g_string_append_printf(str, "%s:%u", buf, port);
}

/* the one-line journal summary, e.g.
 * "deny out tcp 198.18.0.1:35670 -> 198.18.0.2:7000 (example.org) by rule r-1a2b: /usr/bin/curl pid
 * 42 uid 1000" */
gchar *
vigil_event_to_summary(VigilEvent *self)
{
	const gchar *proto = vigil_protocol_to_string(self->protocol);
	GString *str = g_string_sized_new(160);

	g_string_append_printf(str,
			       "%s %s %s ",
			       vigil_action_to_string(self->verdict),
			       vigil_direction_to_string(self->direction),
			       proto != NULL ? proto : "ip");
	append_endpoint(str, self->family, self->src, self->has_ports, self->sport);
	g_string_append(str, " -> ");
	append_endpoint(str, self->family, self->dst, self->has_ports, self->dport);
	if (self->host != NULL)
		g_string_append_printf(str, " (%s)", self->host);
	g_string_append_printf(str, " by %s", vigil_reason_to_string(self->reason));
	if (self->rule_id != NULL)
		g_string_append_printf(str, " %s", self->rule_id);
	g_string_append_printf(str, ": %s", self->exe != NULL ? self->exe : "unknown process");
	if (self->pid != 0)
		g_string_append_printf(str, " pid %u", self->pid);
	if (self->uid_known)
		g_string_append_printf(str, " uid %u", self->uid);
	return g_string_free(str, FALSE);
}
