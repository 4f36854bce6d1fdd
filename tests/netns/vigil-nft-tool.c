/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>

#include "vigil-nft-mnl.h"

/* drives the real nftables backend for tests/netns/test-nft-table.py:
 *   vigil-nft-tool apply|plan [--queue-num N] [--fail-open|--fail-closed] [--inbound]
 *                             [--block-all] [--intercept-loopback] [--queue-kind KIND]
 *   vigil-nft-tool remove
 * "apply" prints the queue implementation in use; errors go to stderr with exit status 1 */

static gint queue_num = 0;
static gboolean fail_open = FALSE;
static gboolean fail_closed = FALSE;
static gboolean inbound = FALSE;
static gboolean block_all = FALSE;
static gboolean intercept_loopback = FALSE;
static gchar *queue_kind_name = NULL;

static const GOptionEntry entries[] = {
    {"queue-num", 0, 0, G_OPTION_ARG_INT, &queue_num, "NFQUEUE number", "N"},
    {"fail-open", 0, 0, G_OPTION_ARG_NONE, &fail_open, "queue with bypass (default)", NULL},
    {"fail-closed", 0, 0, G_OPTION_ARG_NONE, &fail_closed, "queue without bypass", NULL},
    {"inbound", 0, 0, G_OPTION_ARG_NONE, &inbound, "add the input chain", NULL},
    {"block-all", 0, 0, G_OPTION_ARG_NONE, &block_all, "block-all mode", NULL},
    {"intercept-loopback", 0, 0, G_OPTION_ARG_NONE, &intercept_loopback, "queue lo", NULL},
    {"queue-kind", 0, 0, G_OPTION_ARG_STRING, &queue_kind_name, "native|compat|auto", "KIND"},
    {NULL},
};

int
main(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = g_option_context_new("apply|plan|remove");
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilNftBackend) backend = NULL;
	g_autoptr(VigilNftPlan) plan = NULL;
	VigilNftQueueKind kind = VIGIL_NFT_QUEUE_KIND_AUTO;
	VigilNftConfig config;
	const gchar *command = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("vigil-nft-tool: %s\n", error->message);
		return 2;
	}
	if (argc != 2 || (fail_open && fail_closed) || queue_num < 0 || queue_num > G_MAXUINT16) {
		g_printerr("vigil-nft-tool: bad arguments; see --help\n");
		return 2;
	}
	command = argv[1];
	if (queue_kind_name == NULL)
		queue_kind_name = g_strdup(g_getenv("VIGIL_NFT_QUEUE"));
	if (queue_kind_name != NULL) {
		kind = vigil_nft_queue_kind_from_string(queue_kind_name);
		if (kind == VIGIL_NFT_QUEUE_KIND_LAST) {
			g_printerr("vigil-nft-tool: --queue-kind: '%s' is not native, compat or "
				   "auto\n",
				   queue_kind_name);
			return 2;
		}
	}

	vigil_nft_config_init(&config);
	config.queue_num = queue_num;
	config.fail_open = !fail_closed;
	config.inbound = inbound;
	config.intercept_loopback = intercept_loopback;
	if (block_all)
		config.mode = VIGIL_MODE_BLOCK_ALL;
	plan = vigil_nft_plan_new_table(&config);
	backend = vigil_nft_mnl_new_with_queue_kind(kind);

	if (g_str_equal(command, "plan")) {
		g_autofree gchar *str = vigil_nft_plan_to_string(plan);
		g_print("%s", str);
		return EXIT_SUCCESS;
	}
	if (g_str_equal(command, "apply")) {
		if (!vigil_nft_backend_apply(backend, plan, &error)) {
			g_printerr("vigil-nft-tool: %s\n", error->message);
			return EXIT_FAILURE;
		}
		g_print("queue kind in use: %s\n",
			vigil_nft_queue_kind_to_string(
			    vigil_nft_backend_get_queue_kind_in_use(backend)));
		return EXIT_SUCCESS;
	}
	if (g_str_equal(command, "remove")) {
		if (!vigil_nft_backend_remove(backend, &error)) {
			g_printerr("vigil-nft-tool: %s\n", error->message);
			return EXIT_FAILURE;
		}
		return EXIT_SUCCESS;
	}
	g_printerr("vigil-nft-tool: unknown command '%s'\n", command);
	return 2;
}
