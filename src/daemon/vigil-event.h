/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/* one verdict, as `vigilctl events --json` prints it; NULL strings and unknown numbers are
 * written as JSON null */
typedef struct {
	guint64 seq; /* 1 for the first event of this vigild, then one more for each */
	gint64 time_us;
	VigilAction verdict;
	VigilReason reason;
	gchar *rule_id;
	VigilDirection direction;
	guint8 protocol;
	guint8 family;
	gboolean has_ports;
	guint8 src[16];
	guint8 dst[16];
	guint16 sport;
	guint16 dport;
	gchar *host;
	const gchar *iface; /* interned */
	guint32 pid;
	GObject *process; /* a VigilProcess, whose strings the next four borrow */
	const gchar *exe;
	const gchar *cmdline;
	gboolean uid_known;
	guint32 uid;
	const gchar *user; /* interned */
	const gchar *app_id;
	const gchar *unit;
	/*< private >*/
	gint ref_count;
} VigilEvent;

VigilEvent *
vigil_event_new(void);
VigilEvent *
vigil_event_ref(VigilEvent *self);
void
vigil_event_unref(VigilEvent *self);
void
vigil_event_append_json(VigilEvent *self, GString *str);
gchar *
vigil_event_to_json(VigilEvent *self);
GVariant *
vigil_event_to_variant(VigilEvent *self);
gchar *
vigil_event_to_summary(VigilEvent *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEvent, vigil_event_unref)

G_END_DECLS
