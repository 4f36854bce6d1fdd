/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VigilAction:
 * @VIGIL_ACTION_NONE: no decision (no rule matched)
 * @VIGIL_ACTION_ALLOW: let the connection through
 * @VIGIL_ACTION_DENY: drop it silently
 * @VIGIL_ACTION_REJECT: refuse it so that the app fails at once (TCP reset, ICMP unreachable)
 */
typedef enum {
	VIGIL_ACTION_NONE,
	VIGIL_ACTION_ALLOW,
	VIGIL_ACTION_DENY,
	VIGIL_ACTION_REJECT,
	VIGIL_ACTION_LAST
} VigilAction;

/**
 * VigilDirection:
 * @VIGIL_DIRECTION_ANY: both directions (rules only)
 * @VIGIL_DIRECTION_OUT: a connection this machine opens
 * @VIGIL_DIRECTION_IN: a connection to a local listener
 */
typedef enum {
	VIGIL_DIRECTION_ANY,
	VIGIL_DIRECTION_OUT,
	VIGIL_DIRECTION_IN,
	VIGIL_DIRECTION_LAST
} VigilDirection;

/**
 * VigilProtocol:
 *
 * IP protocol numbers Vigil names; the value is the IANA number, 0 means any.
 */
typedef enum {
	VIGIL_PROTOCOL_ANY = 0,
	VIGIL_PROTOCOL_ICMP = 1,
	VIGIL_PROTOCOL_TCP = 6,
	VIGIL_PROTOCOL_UDP = 17,
	VIGIL_PROTOCOL_ICMPV6 = 58,
	VIGIL_PROTOCOL_SCTP = 132,
	VIGIL_PROTOCOL_UDPLITE = 136,
} VigilProtocol;

/**
 * VigilLifetime:
 * @VIGIL_LIFETIME_ONCE: matches one connection, then is gone
 * @VIGIL_LIFETIME_PROCESS: until the process it was made for exits
 * @VIGIL_LIFETIME_UNTIL: until a wall-clock time
 * @VIGIL_LIFETIME_REBOOT: until the machine reboots (tied to the boot id)
 * @VIGIL_LIFETIME_FOREVER: until removed
 */
typedef enum {
	VIGIL_LIFETIME_ONCE,
	VIGIL_LIFETIME_PROCESS,
	VIGIL_LIFETIME_UNTIL,
	VIGIL_LIFETIME_REBOOT,
	VIGIL_LIFETIME_FOREVER,
	VIGIL_LIFETIME_LAST
} VigilLifetime;

/**
 * VigilOrigin:
 * @VIGIL_ORIGIN_USER: made by a user in the GUI or vigilctl
 * @VIGIL_ORIGIN_PROMPT: made by answering a prompt
 * @VIGIL_ORIGIN_IMPORTED: imported from a file (OpenSnitch or our export)
 * @VIGIL_ORIGIN_MANAGED: a read-only drop-in from the administrator
 */
typedef enum {
	VIGIL_ORIGIN_USER,
	VIGIL_ORIGIN_PROMPT,
	VIGIL_ORIGIN_IMPORTED,
	VIGIL_ORIGIN_MANAGED,
	VIGIL_ORIGIN_LAST
} VigilOrigin;

/**
 * VigilMode:
 * @VIGIL_MODE_ASK: prompt for connections no rule decides
 * @VIGIL_MODE_ALLOW: allow them silently, and log them
 * @VIGIL_MODE_DENY: deny them silently
 * @VIGIL_MODE_BLOCK_ALL: deny everything but the daemon's own and loopback traffic
 * @VIGIL_MODE_MONITOR: enforce nothing, still attribute and show everything
 */
typedef enum {
	VIGIL_MODE_ASK,
	VIGIL_MODE_ALLOW,
	VIGIL_MODE_DENY,
	VIGIL_MODE_BLOCK_ALL,
	VIGIL_MODE_MONITOR,
	VIGIL_MODE_LAST
} VigilMode;

/**
 * VigilReason:
 *
 * Why a verdict was given, as in the event JSON `reason` field.
 */
typedef enum {
	VIGIL_REASON_RULE,
	VIGIL_REASON_PROMPT,
	VIGIL_REASON_DEFAULT,
	VIGIL_REASON_MODE,
	VIGIL_REASON_TIMEOUT,
	VIGIL_REASON_LAST
} VigilReason;

/**
 * VigilConnectivity:
 * @VIGIL_CONNECTIVITY_UNKNOWN: not checked (probing off, or no address and route yet)
 * @VIGIL_CONNECTIVITY_CHECKING: probes are running
 * @VIGIL_CONNECTIVITY_NO_INTERNET: nothing beyond the link answers
 * @VIGIL_CONNECTIVITY_DNS_BROKEN: addresses are reachable but names do not resolve
 * @VIGIL_CONNECTIVITY_PORTAL: a captive portal intercepts traffic until the user signs in
 * @VIGIL_CONNECTIVITY_LIMITED: some probes pass and others fail (e.g. HTTP but not HTTPS)
 * @VIGIL_CONNECTIVITY_FULL: every probe passed
 *
 * The connectivity of one interface and address family, as in the D-Bus Connectivity
 * property's "state". The values are ordered worst to best only from NO_INTERNET up;
 * UNKNOWN and CHECKING say nothing either way.
 */
typedef enum {
	VIGIL_CONNECTIVITY_UNKNOWN,
	VIGIL_CONNECTIVITY_CHECKING,
	VIGIL_CONNECTIVITY_NO_INTERNET,
	VIGIL_CONNECTIVITY_DNS_BROKEN,
	VIGIL_CONNECTIVITY_PORTAL,
	VIGIL_CONNECTIVITY_LIMITED,
	VIGIL_CONNECTIVITY_FULL,
	VIGIL_CONNECTIVITY_LAST
} VigilConnectivity;

const gchar *
vigil_action_to_string(VigilAction action);
VigilAction
vigil_action_from_string(const gchar *str);
const gchar *
vigil_direction_to_string(VigilDirection direction);
VigilDirection
vigil_direction_from_string(const gchar *str);
const gchar *
vigil_protocol_to_string(guint protocol);
gint
vigil_protocol_from_string(const gchar *str);
const gchar *
vigil_lifetime_to_string(VigilLifetime lifetime);
VigilLifetime
vigil_lifetime_from_string(const gchar *str);
const gchar *
vigil_origin_to_string(VigilOrigin origin);
VigilOrigin
vigil_origin_from_string(const gchar *str);
const gchar *
vigil_mode_to_string(VigilMode mode);
VigilMode
vigil_mode_from_string(const gchar *str);
const gchar *
vigil_reason_to_string(VigilReason reason);
VigilReason
vigil_reason_from_string(const gchar *str);
const gchar *
vigil_connectivity_to_string(VigilConnectivity connectivity);
VigilConnectivity
vigil_connectivity_from_string(const gchar *str);

G_END_DECLS
