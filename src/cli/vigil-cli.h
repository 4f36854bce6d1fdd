/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_CLI (vigil_cli_get_type())
G_DECLARE_FINAL_TYPE(VigilCli, vigil_cli, VIGIL, CLI, GObject)

/* exit codes: a failure, and a usage error (bad command line) */
#define VIGIL_CLI_EXIT_FAILURE 1
#define VIGIL_CLI_EXIT_USAGE   2

VigilCli *
vigil_cli_new(void);
gint
vigil_cli_run(VigilCli *self, gint argc, gchar **argv);

G_END_DECLS
