/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/* seconds an agent has to answer, in vigild.conf and through SetPromptTimeout() */
#define VIGIL_CONFIG_PROMPT_TIMEOUT_MIN 1
#define VIGIL_CONFIG_PROMPT_TIMEOUT_MAX 3600
/* busy polling of the queue after a packet, in microseconds (BusyPoll) */
#define VIGIL_CONFIG_BUSY_POLL_DEFAULT 50
#define VIGIL_CONFIG_BUSY_POLL_MAX     1000

/* the default connectivity probes: GNOME's check endpoint, the one Debian's NetworkManager
 * connectivity configuration uses */
#define VIGIL_CONFIG_HTTP_URL	       "http://nmcheck.gnome.org/check_network_status.txt"
#define VIGIL_CONFIG_HTTP_BODY	       "NetworkManager is online"
#define VIGIL_CONFIG_HTTPS_URL	       "https://nmcheck.gnome.org/check_network_status.txt"
#define VIGIL_CONFIG_PROBE_TIMEOUT_MAX 120
#define VIGIL_CONFIG_LEASE_DIR	       "/run/systemd/netif/leases"

/* the settings of vigild.conf; data/vigild.conf documents every key */
typedef struct {
	VigilMode mode;
	VigilAction default_action;
	guint prompt_timeout;
	guint16 queue_num;
	gboolean fail_open;
	guint busy_poll_us;
	gboolean connect_hook;
	gboolean inbound;
	gboolean intercept_loopback;
	guint32 own_mark;
	guint32 reject_mark;
	gchar *state_dir;
	gchar *dropin_dir;
	gboolean log_verdicts;
	guint recent_events;
	/* [connectivity] */
	gboolean connectivity_enabled;
	gchar *http_url;
	guint http_status;
	gchar *http_body;
	gchar *https_url; /* "" for no HTTPS probe */
	gchar *ca_file;	  /* NULL for the system's trusted CAs */
	guint probe_timeout;
	gchar *fallback4; /* NULL without one */
	gchar *fallback6;
	gchar *resolv_conf; /* NULL: /run/systemd/resolve/resolv.conf, else /etc/resolv.conf */
	gchar *lease_dir;   /* systemd-networkd's DHCPv4 leases, one file per ifindex */
	gchar **preferred_interfaces; /* [network], ordered globs */
	gchar **metered_interfaces;   /* [network], globs */
} VigilConfig;

VigilConfig *
vigil_config_new(void);
void
vigil_config_free(VigilConfig *self);
gboolean
vigil_config_load(VigilConfig *self, const gchar *path, gboolean must_exist, GError **error);
gchar *
vigil_config_get_rules_path(VigilConfig *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilConfig, vigil_config_free)

G_END_DECLS
