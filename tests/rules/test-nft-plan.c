/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib.h>

#include "vigil-nft-plan.h"

#define REPLACE_TABLE                                                                              \
	"add table inet vigil\n"                                                                   \
	"delete table inet vigil\n"                                                                \
	"add table inet vigil\n"
#define OUTPUT_CHAIN                                                                               \
	"add chain inet vigil output { type filter hook output priority 0; policy accept; }\n"
#define INPUT_CHAIN                                                                                \
	"add chain inet vigil input { type filter hook input priority 0; policy accept; }\n"

static gchar *
plan_string_for(const VigilNftConfig *config)
{
	g_autoptr(VigilNftPlan) plan = vigil_nft_plan_new_table(config);
	return vigil_nft_plan_to_string(plan);
}

static void
test_nft_plan_defaults(void)
{
	VigilNftConfig config;

	vigil_nft_config_init(&config);
	g_assert_cmpuint(config.queue_num, ==, 0);
	g_assert_true(config.fail_open);
	g_assert_false(config.inbound);
	g_assert_false(config.intercept_loopback);
	g_assert_cmphex(config.own_mark, ==, 0x00766967);
	g_assert_cmphex(config.reject_mark, ==, 0x00766968);
	g_assert_cmpint(config.mode, ==, VIGIL_MODE_ASK);
}

static void
test_nft_plan_fail_open(void)
{
	VigilNftConfig config;
	g_autofree gchar *str = NULL;

	vigil_nft_config_init(&config);
	config.queue_num = 3;
	str = plan_string_for(&config);
	g_assert_cmpstr(str,
			==,
			REPLACE_TABLE OUTPUT_CHAIN
			"add rule inet vigil output ct state established,related accept\n"
			"add rule inet vigil output meta mark 0x00766968 meta l4proto tcp "
			"reject with tcp reset\n"
			"add rule inet vigil output meta mark 0x00766968 "
			"reject with icmpx type port-unreachable\n"
			"add rule inet vigil output meta mark 0x00766967 accept\n"
			"add rule inet vigil output meta oiftype loopback accept\n"
			"add rule inet vigil output ct state new queue num 3 bypass\n");
}

static void
test_nft_plan_fail_closed(void)
{
	VigilNftConfig config;
	g_autofree gchar *str = NULL;

	vigil_nft_config_init(&config);
	config.queue_num = 65535;
	config.fail_open = FALSE;
	config.own_mark = 0x1;
	config.reject_mark = 0xfffffffe;
	str = plan_string_for(&config);
	g_assert_cmpstr(str,
			==,
			REPLACE_TABLE OUTPUT_CHAIN
			"add rule inet vigil output ct state established,related accept\n"
			"add rule inet vigil output meta mark 0xfffffffe meta l4proto tcp "
			"reject with tcp reset\n"
			"add rule inet vigil output meta mark 0xfffffffe "
			"reject with icmpx type port-unreachable\n"
			"add rule inet vigil output meta mark 0x00000001 accept\n"
			"add rule inet vigil output meta oiftype loopback accept\n"
			"add rule inet vigil output ct state new queue num 65535\n");
}

static void
test_nft_plan_inbound(void)
{
	VigilNftConfig config;
	g_autofree gchar *str = NULL;

	vigil_nft_config_init(&config);
	config.inbound = TRUE;
	str = plan_string_for(&config);
	g_assert_cmpstr(str,
			==,
			REPLACE_TABLE OUTPUT_CHAIN
			"add rule inet vigil output ct state established,related accept\n"
			"add rule inet vigil output meta mark 0x00766968 meta l4proto tcp "
			"reject with tcp reset\n"
			"add rule inet vigil output meta mark 0x00766968 "
			"reject with icmpx type port-unreachable\n"
			"add rule inet vigil output meta mark 0x00766967 accept\n"
			"add rule inet vigil output meta oiftype loopback accept\n"
			"add rule inet vigil output ct state new queue num 0 bypass\n" INPUT_CHAIN
			"add rule inet vigil input ct state established,related accept\n"
			"add rule inet vigil input meta mark 0x00766968 meta l4proto tcp "
			"reject with tcp reset\n"
			"add rule inet vigil input meta mark 0x00766968 "
			"reject with icmpx type port-unreachable\n"
			"add rule inet vigil input meta mark 0x00766967 accept\n"
			"add rule inet vigil input meta iiftype loopback accept\n"
			"add rule inet vigil input ct state new queue num 0 bypass\n");
}

static void
test_nft_plan_intercept_loopback(void)
{
	VigilNftConfig config;
	g_autofree gchar *str = NULL;

	vigil_nft_config_init(&config);
	config.intercept_loopback = TRUE;
	config.inbound = TRUE;
	str = plan_string_for(&config);
	g_assert_null(strstr(str, "loopback"));
	g_assert_nonnull(strstr(str, "add rule inet vigil output ct state new queue num 0 bypass"));
	g_assert_nonnull(strstr(str, "add rule inet vigil input ct state new queue num 0 bypass"));
}

static void
test_nft_plan_block_all(void)
{
	VigilNftConfig config;
	g_autofree gchar *str = NULL;

	vigil_nft_config_init(&config);
	config.mode = VIGIL_MODE_BLOCK_ALL;
	config.inbound = TRUE;
	/* loopback stays open in block-all even when it is intercepted otherwise */
	config.intercept_loopback = TRUE;
	str = plan_string_for(&config);
	g_assert_cmpstr(str,
			==,
			REPLACE_TABLE OUTPUT_CHAIN
			"add rule inet vigil output meta mark 0x00766967 accept\n"
			"add rule inet vigil output meta oiftype loopback accept\n"
			"add rule inet vigil output ct state established,new "
			"meta l4proto tcp reject with tcp reset\n"
			"add rule inet vigil output ct state established,new "
			"reject with icmpx type port-unreachable\n" INPUT_CHAIN
			"add rule inet vigil input ct state established,related accept\n"
			"add rule inet vigil input meta mark 0x00766967 accept\n"
			"add rule inet vigil input meta iiftype loopback accept\n"
			"add rule inet vigil input ct state new meta l4proto tcp "
			"reject with tcp reset\n"
			"add rule inet vigil input ct state new "
			"reject with icmpx type port-unreachable\n");
	g_assert_null(strstr(str, "queue"));
}

static void
test_nft_plan_modes_queue(void)
{
	const VigilMode modes[] = {VIGIL_MODE_ASK,
				   VIGIL_MODE_ALLOW,
				   VIGIL_MODE_DENY,
				   VIGIL_MODE_MONITOR};
	g_autofree gchar *expected = NULL;
	VigilNftConfig config;

	vigil_nft_config_init(&config);
	expected = plan_string_for(&config);
	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autofree gchar *str = NULL;

		config.mode = modes[i];
		str = plan_string_for(&config);
		g_assert_cmpstr(str, ==, expected);
	}
}

static void
test_nft_plan_ops(void)
{
	VigilNftConfig config;
	g_autoptr(VigilNftPlan) plan = NULL;
	const VigilNftOp *op = NULL;
	g_autofree gchar *describe = NULL;
	g_autofree gchar *statement = NULL;
	guint n_rules = 0;

	vigil_nft_config_init(&config);
	config.inbound = TRUE;
	config.queue_num = 7;
	plan = vigil_nft_plan_new_table(&config);
	g_assert_nonnull(vigil_nft_plan_get_config(plan));
	g_assert_cmpuint(vigil_nft_plan_get_config(plan)->queue_num, ==, 7);
	g_assert_cmpuint(vigil_nft_plan_get_n_ops(plan), ==, 3 + 2 * 7);

	g_assert_cmpint(vigil_nft_plan_get_op(plan, 0)->kind, ==, VIGIL_NFT_OP_ADD_TABLE);
	g_assert_cmpint(vigil_nft_plan_get_op(plan, 1)->kind, ==, VIGIL_NFT_OP_DELETE_TABLE);
	g_assert_false(vigil_nft_plan_get_op(plan, 1)->missing_ok);
	g_assert_cmpint(vigil_nft_plan_get_op(plan, 2)->kind, ==, VIGIL_NFT_OP_ADD_TABLE);

	op = vigil_nft_plan_get_op(plan, 3);
	g_assert_cmpint(op->kind, ==, VIGIL_NFT_OP_ADD_CHAIN);
	g_assert_cmpint(op->hook, ==, VIGIL_NFT_HOOK_OUTPUT);
	g_assert_cmpint(op->priority, ==, 0);

	/* rules are numbered per chain, from 1 */
	for (guint i = 4; i < vigil_nft_plan_get_n_ops(plan); i++) {
		op = vigil_nft_plan_get_op(plan, i);
		if (op->kind == VIGIL_NFT_OP_ADD_CHAIN) {
			g_assert_cmpint(op->hook, ==, VIGIL_NFT_HOOK_INPUT);
			n_rules = 0;
			continue;
		}
		g_assert_cmpint(op->kind, ==, VIGIL_NFT_OP_ADD_RULE);
		g_assert_cmpuint(op->rule_number, ==, ++n_rules);
	}
	g_assert_cmpuint(n_rules, ==, 6);

	op = vigil_nft_plan_get_op(plan, 9);
	g_assert_cmpint(op->verdict.kind, ==, VIGIL_NFT_VERDICT_QUEUE);
	g_assert_cmpuint(op->verdict.queue_num, ==, 7);
	g_assert_true(op->verdict.queue_bypass);
	g_assert_cmpuint(op->n_matches, ==, 1);
	g_assert_cmpint(op->matches[0].kind, ==, VIGIL_NFT_MATCH_CT_STATE);
	g_assert_cmphex(op->matches[0].value, ==, VIGIL_NFT_CT_STATE_NEW);
	describe = vigil_nft_op_describe(op);
	g_assert_cmpstr(describe, ==, "rule 6 of chain output (ct state new queue num 7 bypass)");
	statement = vigil_nft_op_get_statement(op);
	g_assert_cmpstr(statement, ==, "ct state new queue num 7 bypass");

	op = vigil_nft_plan_get_op(plan, 5);
	g_assert_cmpint(op->verdict.kind, ==, VIGIL_NFT_VERDICT_REJECT);
	g_assert_cmpint(op->verdict.reject, ==, VIGIL_NFT_REJECT_TCP_RESET);
	g_assert_cmpuint(op->n_matches, ==, 2);
	g_assert_cmpint(op->matches[0].kind, ==, VIGIL_NFT_MATCH_MARK);
	g_assert_cmphex(op->matches[0].mask, ==, 0xffffffff);
	g_assert_cmphex(op->matches[0].value, ==, 0x00766968);
	g_assert_cmpint(op->matches[1].kind, ==, VIGIL_NFT_MATCH_L4PROTO);
	g_assert_cmpuint(op->matches[1].value, ==, 6);
}

static void
test_nft_plan_remove(void)
{
	g_autoptr(VigilNftPlan) plan = vigil_nft_plan_new_remove();
	g_autofree gchar *str = vigil_nft_plan_to_string(plan);

	g_assert_null(vigil_nft_plan_get_config(plan));
	g_assert_cmpuint(vigil_nft_plan_get_n_ops(plan), ==, 1);
	g_assert_true(vigil_nft_plan_get_op(plan, 0)->missing_ok);
	g_assert_cmpstr(str, ==, "delete table inet vigil\n");
}

static void
test_nft_plan_render(void)
{
	VigilNftOp op = {
	    .kind = VIGIL_NFT_OP_ADD_RULE,
	    .hook = VIGIL_NFT_HOOK_INPUT,
	    .rule_number = 2,
	    .n_matches = 4,
	    .matches = {{VIGIL_NFT_MATCH_MARK, 0x0000ff00, 0x00001200},
			{VIGIL_NFT_MATCH_IIFTYPE, 0, 1},
			{VIGIL_NFT_MATCH_L4PROTO, 0, 250},
			{VIGIL_NFT_MATCH_CT_STATE,
			 0,
			 VIGIL_NFT_CT_STATE_INVALID | VIGIL_NFT_CT_STATE_UNTRACKED}},
	    .verdict = {.kind = VIGIL_NFT_VERDICT_DROP},
	};
	g_autofree gchar *line = vigil_nft_op_to_string(&op);
	g_autofree gchar *describe = vigil_nft_op_describe(&op);

	g_assert_cmpstr(line,
			==,
			"add rule inet vigil input meta mark & 0x0000ff00 == 0x00001200 "
			"meta iiftype 1 meta l4proto 250 ct state invalid,untracked drop");
	g_assert_cmpstr(describe,
			==,
			"rule 2 of chain input (meta mark & 0x0000ff00 == 0x00001200 "
			"meta iiftype 1 meta l4proto 250 ct state invalid,untracked drop)");
}

static void
test_nft_plan_ref(void)
{
	VigilNftConfig config;
	VigilNftPlan *plan = NULL;

	vigil_nft_config_init(&config);
	plan = vigil_nft_plan_new_table(&config);
	g_assert_true(vigil_nft_plan_ref(plan) == plan);
	vigil_nft_plan_unref(plan);
	g_assert_cmpuint(vigil_nft_plan_get_n_ops(plan), ==, 10);
	vigil_nft_plan_unref(plan);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/rules/nft-plan/defaults", test_nft_plan_defaults);
	g_test_add_func("/vigil/rules/nft-plan/fail-open", test_nft_plan_fail_open);
	g_test_add_func("/vigil/rules/nft-plan/fail-closed", test_nft_plan_fail_closed);
	g_test_add_func("/vigil/rules/nft-plan/inbound", test_nft_plan_inbound);
	g_test_add_func("/vigil/rules/nft-plan/intercept-loopback",
			test_nft_plan_intercept_loopback);
	g_test_add_func("/vigil/rules/nft-plan/block-all", test_nft_plan_block_all);
	g_test_add_func("/vigil/rules/nft-plan/modes-queue", test_nft_plan_modes_queue);
	g_test_add_func("/vigil/rules/nft-plan/ops", test_nft_plan_ops);
	g_test_add_func("/vigil/rules/nft-plan/remove", test_nft_plan_remove);
	g_test_add_func("/vigil/rules/nft-plan/render", test_nft_plan_render);
	g_test_add_func("/vigil/rules/nft-plan/ref", test_nft_plan_ref);
	return g_test_run();
}
