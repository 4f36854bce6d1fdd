/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-cli.h"
#include "vigil-dbus-generated.h"

G_BEGIN_DECLS

/* reads answer at once; a write may wait for a polkit password dialog */
#define VIGIL_CLI_CALL_TIMEOUT_MS 25000
#define VIGIL_CLI_AUTH_TIMEOUT_MS 120000

struct _VigilCli {
	GObject parent_instance;

	/* global options */
	gboolean opt_system;
	gboolean opt_session;
	gchar *opt_address;
	gboolean opt_json;
	gboolean opt_version;

	/* command options */
	gboolean opt_all;
	gchar *opt_app;
	gboolean opt_follow;
	gint opt_count; /* -1 when not given */
	gchar *opt_origin;
	gchar *opt_exe;
	gchar *opt_app_id;
	gchar *opt_unit;
	gchar *opt_sha256;
	gchar *opt_user;
	gchar *opt_host;
	gchar *opt_cidr;
	gchar *opt_port;
	gchar *opt_proto;
	gchar *opt_direction;
	gchar *opt_lifetime;
	gchar *opt_until;
	gchar *opt_for;
	gchar *opt_note;
	gboolean opt_disabled;
	gchar *opt_format;
	gboolean opt_include_managed;
	gboolean opt_force;

	GDBusConnection *connection;
	VigilDBusDaemon1 *proxy;

	/* events --follow */
	GMainLoop *loop;
	GCancellable *cancellable;
	GError *loop_error;
	gboolean follow_recent; /* print a backlog first */
	guint follow_max;	/* of this many events, 0 for all vigild keeps */
	gboolean recent_done;
	guint64 last_seq;   /* the newest event shown, 0 before any */
	GPtrArray *pending; /* of GVariant: Events batches that came before the backlog */
	gboolean header_done;
	GArray *event_widths; /* of guint, only ever growing so that batches line up */
};

gboolean
_vigil_cli_usage_error(GError **error, const gchar *format, ...) G_GNUC_PRINTF(2, 3);
void
_vigil_cli_print(const gchar *text);
void
_vigil_cli_fixup_error(GError **error, const gchar *what);
GVariant *
_vigil_cli_call_write(VigilCli *self, const gchar *method, GVariant *parameters, GError **error);
guint
_vigil_cli_get_terminal_width(void);

/* vigil-cli-rules.c */
gboolean
_vigil_cli_rules_list(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_add(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_remove(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_enable(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_disable(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_import(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_export(VigilCli *self, gchar **args, GError **error);
gboolean
_vigil_cli_rules_save(VigilCli *self, gchar **args, GError **error);

G_END_DECLS
