/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilEnums"

#include "config.h"

#include "vigil-enums.h"

/* each table is indexed by the enum value; from_string returns the _LAST value when unknown */

static const gchar *action_names[] = {"none", "allow", "deny", "reject"};
static const gchar *direction_names[] = {"any", "out", "in"};
static const gchar *lifetime_names[] = {"once", "process", "until", "reboot", "forever"};
static const gchar *origin_names[] = {"user", "prompt", "imported", "managed"};
static const gchar *mode_names[] = {"ask", "allow", "deny", "block-all", "monitor"};
static const gchar *reason_names[] = {"rule", "prompt", "default", "mode", "timeout"};
static const gchar *connectivity_names[] =
    {"unknown", "checking", "no-internet", "dns-broken", "portal", "limited", "full"};

G_STATIC_ASSERT(G_N_ELEMENTS(action_names) == VIGIL_ACTION_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(direction_names) == VIGIL_DIRECTION_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(lifetime_names) == VIGIL_LIFETIME_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(origin_names) == VIGIL_ORIGIN_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(mode_names) == VIGIL_MODE_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(reason_names) == VIGIL_REASON_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(connectivity_names) == VIGIL_CONNECTIVITY_LAST);

static const gchar *
name_lookup(const gchar **names, guint n_names, guint value)
{
	if (value >= n_names)
		return NULL;
	return names[value];
}

static guint
name_find(const gchar **names, guint n_names, const gchar *str)
{
	if (str == NULL)
		return n_names;
	for (guint i = 0; i < n_names; i++) {
		if (g_str_equal(names[i], str))
			return i;
	}
	return n_names;
}

#define VIGIL_DEFINE_ENUM_STRINGS(Type, type, table)                                               \
	const gchar *vigil_##type##_to_string(Type value)                                          \
	{                                                                                          \
		return name_lookup(table, G_N_ELEMENTS(table), (guint)value);                      \
	}                                                                                          \
	Type vigil_##type##_from_string(const gchar *str)                                          \
	{                                                                                          \
		return (Type)name_find(table, G_N_ELEMENTS(table), str);                           \
	}

VIGIL_DEFINE_ENUM_STRINGS(VigilAction, action, action_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilDirection, direction, direction_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilLifetime, lifetime, lifetime_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilOrigin, origin, origin_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilMode, mode, mode_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilReason, reason, reason_names)
VIGIL_DEFINE_ENUM_STRINGS(VigilConnectivity, connectivity, connectivity_names)

const gchar *
vigil_protocol_to_string(guint protocol)
{
	switch (protocol) {
	case VIGIL_PROTOCOL_ANY:
		return "any";
	case VIGIL_PROTOCOL_ICMP:
		return "icmp";
	case VIGIL_PROTOCOL_TCP:
		return "tcp";
	case VIGIL_PROTOCOL_UDP:
		return "udp";
	case VIGIL_PROTOCOL_ICMPV6:
		return "icmpv6";
	case VIGIL_PROTOCOL_SCTP:
		return "sctp";
	case VIGIL_PROTOCOL_UDPLITE:
		return "udplite";
	default:
		return NULL;
	}
}

/* returns the protocol number, or -1 when @str names no protocol we know */
gint
vigil_protocol_from_string(const gchar *str)
{
	static const guint known[] = {VIGIL_PROTOCOL_ANY,
				      VIGIL_PROTOCOL_ICMP,
				      VIGIL_PROTOCOL_TCP,
				      VIGIL_PROTOCOL_UDP,
				      VIGIL_PROTOCOL_ICMPV6,
				      VIGIL_PROTOCOL_SCTP,
				      VIGIL_PROTOCOL_UDPLITE};
	if (str == NULL)
		return -1;
	for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
		if (g_ascii_strcasecmp(vigil_protocol_to_string(known[i]), str) == 0)
			return (gint)known[i];
	}
	return -1;
}
