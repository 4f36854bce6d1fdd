/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the test process's own namespace (client side) and the server namespace behind veth */
#define VIGIL_TEST_CLIENT4 "198.18.0.1"
#define VIGIL_TEST_SERVER4 "198.18.0.2"
#define VIGIL_TEST_CLIENT6 "fd00:fb::1"
#define VIGIL_TEST_SERVER6 "fd00:fb::2"

typedef struct {
	gchar *server_ns;
	GPtrArray *servers; /* of GSubprocess */
} VigilTestNet;

gboolean
vigil_test_netns_enter(gchar **reason);
gint
vigil_test_netns_skip(gint argc, gchar **argv, const gchar *reason);
VigilTestNet *
vigil_test_net_new(const gchar *tag, GError **error);
gboolean
vigil_test_net_spawn(VigilTestNet *self,
		     gboolean in_server_ns,
		     const gchar *const *argv,
		     GError **error);
void
vigil_test_net_free(VigilTestNet *self);
gboolean
vigil_test_run(const gchar *const *argv, GError **error);
gboolean
vigil_test_wait_until(GSourceFunc condition, gpointer user_data, guint timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilTestNet, vigil_test_net_free)

G_END_DECLS
