/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilCli"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "vigil-cli.h"

int
main(int argc, char **argv)
{
	g_autoptr(VigilCli) cli = NULL;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	/* messages go out as UTF-8 like the rest of the output, whatever the locale's charset */
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	g_set_prgname("vigilctl");
	cli = vigil_cli_new();
	return vigil_cli_run(cli, argc, argv);
}
