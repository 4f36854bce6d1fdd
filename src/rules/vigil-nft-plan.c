/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNftPlan"

#include "config.h"

#include <string.h>

#include "vigil-names.h"
#include "vigil-nft-plan.h"

/*
 * The table, per base chain (output; input only when inbound filtering is on):
 *
 *   ct state established,related accept
 *   meta mark <reject_mark> meta l4proto tcp reject with tcp reset
 *   meta mark <reject_mark> reject with icmpx type port-unreachable
 *   meta mark <own_mark> accept
 *   meta oiftype loopback accept                 (unless intercept_loopback)
 *   ct state new queue num <N> [bypass]
 *
 * Packets in ct state invalid or untracked fall through to the accept policy: they open no
 * connection, IPv6 neighbour discovery and MLD are among them, and an untracked packet is
 * the administrator's explicit choice in a raw table. Reject-marked packets come back
 * through the same chain after the daemon's NF_REPEAT verdict, ahead of the queue rule.
 *
 * Block-all is the panic button and must hold while the daemon hangs, so it queues nothing:
 * everything but the daemon's own and loopback traffic is rejected (a TCP reset or ICMP
 * unreachable, so that apps fail at once instead of retrying into a timeout). On output
 * that includes established connections, which are cut at their next packet; related
 * packets still pass there, as in the other modes: they are ICMP errors and the very
 * resets that reject sends (the kernel marks those related). On input established packets
 * are still accepted: replies to the daemon's own connections carry no mark there, and the
 * output chain already cuts everyone else's connections.
 */

struct _VigilNftPlan {
	grefcount ref_count;
	gboolean has_config;
	VigilNftConfig config;
	GArray *ops; /* of VigilNftOp */
	guint n_rules[VIGIL_NFT_HOOK_LAST];
};

/**
 * vigil_nft_config_init:
 * @config: a #VigilNftConfig
 *
 * Sets the defaults: queue 0, fail-open, outbound only, loopback accepted in the kernel,
 * the default marks, ask mode.
 */
void
vigil_nft_config_init(VigilNftConfig *config)
{
	g_return_if_fail(config != NULL);

	memset(config, 0, sizeof(*config));
	config->queue_num = 0;
	config->fail_open = TRUE;
	config->inbound = FALSE;
	config->intercept_loopback = FALSE;
	config->own_mark = VIGIL_NFT_OWN_MARK_DEFAULT;
	config->reject_mark = VIGIL_NFT_REJECT_MARK_DEFAULT;
	config->mode = VIGIL_MODE_ASK;
}

static VigilNftPlan *
vigil_nft_plan_new(void)
{
	VigilNftPlan *self = g_new0(VigilNftPlan, 1);

	g_ref_count_init(&self->ref_count);
	self->ops = g_array_new(FALSE, TRUE, sizeof(VigilNftOp));
	return self;
}

static VigilNftOp *
vigil_nft_plan_add_op(VigilNftPlan *self, VigilNftOpKind kind, VigilNftHook hook)
{
	VigilNftOp op = {
	    .kind = kind,
	    .hook = hook,
	};

	g_array_append_val(self->ops, op);
	return &g_array_index(self->ops, VigilNftOp, self->ops->len - 1);
}

static VigilNftOp *
vigil_nft_plan_add_rule(VigilNftPlan *self, VigilNftHook hook, VigilNftVerdictKind verdict)
{
	VigilNftOp *op = vigil_nft_plan_add_op(self, VIGIL_NFT_OP_ADD_RULE, hook);

	op->rule_number = ++self->n_rules[hook];
	op->verdict.kind = verdict;
	return op;
}

static void
vigil_nft_op_add_match(VigilNftOp *op, VigilNftMatchKind kind, guint32 mask, guint32 value)
{
	g_assert(op->n_matches < VIGIL_NFT_MATCHES_MAX);
	op->matches[op->n_matches].kind = kind;
	op->matches[op->n_matches].mask = mask;
	op->matches[op->n_matches].value = value;
	op->n_matches++;
}

static void
vigil_nft_plan_add_ct_state_rule(VigilNftPlan *self,
				 VigilNftHook hook,
				 guint32 states,
				 VigilNftVerdictKind verdict)
{
	VigilNftOp *op = vigil_nft_plan_add_rule(self, hook, verdict);
	vigil_nft_op_add_match(op, VIGIL_NFT_MATCH_CT_STATE, 0, states);
}

static void
vigil_nft_plan_add_mark_rule(VigilNftPlan *self,
			     VigilNftHook hook,
			     guint32 mark,
			     VigilNftVerdictKind verdict)
{
	VigilNftOp *op = vigil_nft_plan_add_rule(self, hook, verdict);
	vigil_nft_op_add_match(op, VIGIL_NFT_MATCH_MARK, G_MAXUINT32, mark);
}

static void
vigil_nft_plan_add_loopback_rule(VigilNftPlan *self, VigilNftHook hook)
{
	VigilNftOp *op = vigil_nft_plan_add_rule(self, hook, VIGIL_NFT_VERDICT_ACCEPT);
	VigilNftMatchKind kind =
	    hook == VIGIL_NFT_HOOK_OUTPUT ? VIGIL_NFT_MATCH_OIFTYPE : VIGIL_NFT_MATCH_IIFTYPE;

	vigil_nft_op_add_match(op, kind, 0, VIGIL_NFT_IFTYPE_LOOPBACK);
}

/* the pair of rules that rejects what @first matches: TCP with a reset, the rest with ICMP */
static void
vigil_nft_plan_add_reject_rules(VigilNftPlan *self, VigilNftHook hook, const VigilNftMatch *first)
{
	VigilNftOp *op = NULL;

	op = vigil_nft_plan_add_rule(self, hook, VIGIL_NFT_VERDICT_REJECT);
	vigil_nft_op_add_match(op, first->kind, first->mask, first->value);
	vigil_nft_op_add_match(op, VIGIL_NFT_MATCH_L4PROTO, 0, VIGIL_PROTOCOL_TCP);
	op->verdict.reject = VIGIL_NFT_REJECT_TCP_RESET;

	op = vigil_nft_plan_add_rule(self, hook, VIGIL_NFT_VERDICT_REJECT);
	vigil_nft_op_add_match(op, first->kind, first->mask, first->value);
	op->verdict.reject = VIGIL_NFT_REJECT_ICMPX_PORT_UNREACHABLE;
}

static void
vigil_nft_plan_add_block_all_chain(VigilNftPlan *self,
				   const VigilNftConfig *config,
				   VigilNftHook hook)
{
	VigilNftMatch tracked = {
	    .kind = VIGIL_NFT_MATCH_CT_STATE,
	    .value = VIGIL_NFT_CT_STATE_NEW,
	};

	if (hook == VIGIL_NFT_HOOK_INPUT) {
		vigil_nft_plan_add_ct_state_rule(self,
						 hook,
						 VIGIL_NFT_CT_STATE_ESTABLISHED |
						     VIGIL_NFT_CT_STATE_RELATED,
						 VIGIL_NFT_VERDICT_ACCEPT);
	} else {
		tracked.value |= VIGIL_NFT_CT_STATE_ESTABLISHED;
	}
	vigil_nft_plan_add_mark_rule(self, hook, config->own_mark, VIGIL_NFT_VERDICT_ACCEPT);
	vigil_nft_plan_add_loopback_rule(self, hook);
	vigil_nft_plan_add_reject_rules(self, hook, &tracked);
}

static void
vigil_nft_plan_add_queue_chain(VigilNftPlan *self, const VigilNftConfig *config, VigilNftHook hook)
{
	VigilNftMatch reject_marked = {
	    .kind = VIGIL_NFT_MATCH_MARK,
	    .mask = G_MAXUINT32,
	    .value = config->reject_mark,
	};
	VigilNftOp *op = NULL;

	vigil_nft_plan_add_ct_state_rule(self,
					 hook,
					 VIGIL_NFT_CT_STATE_ESTABLISHED |
					     VIGIL_NFT_CT_STATE_RELATED,
					 VIGIL_NFT_VERDICT_ACCEPT);
	vigil_nft_plan_add_reject_rules(self, hook, &reject_marked);
	vigil_nft_plan_add_mark_rule(self, hook, config->own_mark, VIGIL_NFT_VERDICT_ACCEPT);
	if (!config->intercept_loopback)
		vigil_nft_plan_add_loopback_rule(self, hook);

	op = vigil_nft_plan_add_rule(self, hook, VIGIL_NFT_VERDICT_QUEUE);
	vigil_nft_op_add_match(op, VIGIL_NFT_MATCH_CT_STATE, 0, VIGIL_NFT_CT_STATE_NEW);
	op->verdict.queue_num = config->queue_num;
	op->verdict.queue_bypass = config->fail_open;
}

static void
vigil_nft_plan_add_chain(VigilNftPlan *self, const VigilNftConfig *config, VigilNftHook hook)
{
	VigilNftOp *op = vigil_nft_plan_add_op(self, VIGIL_NFT_OP_ADD_CHAIN, hook);

	op->priority = VIGIL_NFT_CHAIN_PRIORITY;
	if (config->mode == VIGIL_MODE_BLOCK_ALL)
		vigil_nft_plan_add_block_all_chain(self, config, hook);
	else
		vigil_nft_plan_add_queue_chain(self, config, hook);
}

/**
 * vigil_nft_plan_new_table:
 * @config: what the table should look like
 *
 * Makes the plan that replaces `table inet vigil` by the one @config describes. It starts
 * with add, delete, add of the table, so that a stale table left by a crashed daemon is
 * replaced in the same transaction, never duplicated, and a missing one is no error.
 *
 * Returns: (transfer full): a new #VigilNftPlan
 */
VigilNftPlan *
vigil_nft_plan_new_table(const VigilNftConfig *config)
{
	VigilNftPlan *self = NULL;

	g_return_val_if_fail(config != NULL, NULL);

	self = vigil_nft_plan_new();
	self->has_config = TRUE;
	self->config = *config;
	vigil_nft_plan_add_op(self, VIGIL_NFT_OP_ADD_TABLE, VIGIL_NFT_HOOK_OUTPUT);
	vigil_nft_plan_add_op(self, VIGIL_NFT_OP_DELETE_TABLE, VIGIL_NFT_HOOK_OUTPUT);
	vigil_nft_plan_add_op(self, VIGIL_NFT_OP_ADD_TABLE, VIGIL_NFT_HOOK_OUTPUT);
	vigil_nft_plan_add_chain(self, config, VIGIL_NFT_HOOK_OUTPUT);
	if (config->inbound)
		vigil_nft_plan_add_chain(self, config, VIGIL_NFT_HOOK_INPUT);
	return self;
}

/**
 * vigil_nft_plan_new_remove:
 *
 * Makes the plan that deletes `table inet vigil`; a missing table is not an error.
 *
 * Returns: (transfer full): a new #VigilNftPlan
 */
VigilNftPlan *
vigil_nft_plan_new_remove(void)
{
	VigilNftPlan *self = vigil_nft_plan_new();
	VigilNftOp *op = vigil_nft_plan_add_op(self, VIGIL_NFT_OP_DELETE_TABLE, 0);

	op->missing_ok = TRUE;
	return self;
}

VigilNftPlan *
vigil_nft_plan_ref(VigilNftPlan *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_ref_count_inc(&self->ref_count);
	return self;
}

void
vigil_nft_plan_unref(VigilNftPlan *self)
{
	g_return_if_fail(self != NULL);
	if (!g_ref_count_dec(&self->ref_count))
		return;
	g_array_unref(self->ops);
	g_free(self);
}

/**
 * vigil_nft_plan_get_config:
 * @self: a #VigilNftPlan
 *
 * Returns: (nullable): the configuration the plan was made from, or %NULL for a removal
 */
const VigilNftConfig *
vigil_nft_plan_get_config(const VigilNftPlan *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->has_config ? &self->config : NULL;
}

guint
vigil_nft_plan_get_n_ops(const VigilNftPlan *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->ops->len;
}

const VigilNftOp *
vigil_nft_plan_get_op(const VigilNftPlan *self, guint index)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(index < self->ops->len, NULL);
	return &g_array_index(self->ops, VigilNftOp, index);
}

const gchar *
vigil_nft_hook_to_string(VigilNftHook hook)
{
	switch (hook) {
	case VIGIL_NFT_HOOK_OUTPUT:
		return "output";
	case VIGIL_NFT_HOOK_INPUT:
		return "input";
	case VIGIL_NFT_HOOK_LAST:
	default:
		return NULL;
	}
}

static void
vigil_nft_append_ct_state(GString *str, guint32 states)
{
	static const struct {
		guint32 bit;
		const gchar *name;
	} names[] = {
	    {VIGIL_NFT_CT_STATE_INVALID, "invalid"},
	    {VIGIL_NFT_CT_STATE_ESTABLISHED, "established"},
	    {VIGIL_NFT_CT_STATE_RELATED, "related"},
	    {VIGIL_NFT_CT_STATE_NEW, "new"},
	    {VIGIL_NFT_CT_STATE_UNTRACKED, "untracked"},
	};
	gboolean first = TRUE;

	g_string_append(str, "ct state ");
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if ((states & names[i].bit) == 0)
			continue;
		g_string_append_printf(str, "%s%s", first ? "" : ",", names[i].name);
		first = FALSE;
	}
	if (first)
		g_string_append_printf(str, "0x%x", states);
}

static void
vigil_nft_append_iftype(GString *str, const gchar *key, guint32 value)
{
	if (value == VIGIL_NFT_IFTYPE_LOOPBACK)
		g_string_append_printf(str, "meta %s loopback", key);
	else
		g_string_append_printf(str, "meta %s %u", key, value);
}

static void
vigil_nft_append_match(GString *str, const VigilNftMatch *match)
{
	const gchar *proto = NULL;

	switch (match->kind) {
	case VIGIL_NFT_MATCH_CT_STATE:
		vigil_nft_append_ct_state(str, match->value);
		break;
	case VIGIL_NFT_MATCH_MARK:
		if (match->mask == G_MAXUINT32) {
			g_string_append_printf(str, "meta mark 0x%08x", match->value);
		} else {
			g_string_append_printf(str,
					       "meta mark & 0x%08x == 0x%08x",
					       match->mask,
					       match->value);
		}
		break;
	case VIGIL_NFT_MATCH_OIFTYPE:
		vigil_nft_append_iftype(str, "oiftype", match->value);
		break;
	case VIGIL_NFT_MATCH_IIFTYPE:
		vigil_nft_append_iftype(str, "iiftype", match->value);
		break;
	case VIGIL_NFT_MATCH_L4PROTO:
		proto = vigil_protocol_to_string(match->value);
		if (proto != NULL && match->value != VIGIL_PROTOCOL_ANY)
			g_string_append_printf(str, "meta l4proto %s", proto);
		else
			g_string_append_printf(str, "meta l4proto %u", match->value);
		break;
	default:
		g_assert_not_reached();
	}
}

static void
vigil_nft_append_verdict(GString *str, const VigilNftVerdict *verdict)
{
	switch (verdict->kind) {
	case VIGIL_NFT_VERDICT_ACCEPT:
		g_string_append(str, "accept");
		break;
	case VIGIL_NFT_VERDICT_DROP:
		g_string_append(str, "drop");
		break;
	case VIGIL_NFT_VERDICT_QUEUE:
		g_string_append_printf(str, "queue num %u", verdict->queue_num);
		if (verdict->queue_bypass)
			g_string_append(str, " bypass");
		break;
	case VIGIL_NFT_VERDICT_REJECT:
		if (verdict->reject == VIGIL_NFT_REJECT_TCP_RESET)
			g_string_append(str, "reject with tcp reset");
		else
			g_string_append(str, "reject with icmpx type port-unreachable");
		break;
	default:
		g_assert_not_reached();
	}
}

/**
 * vigil_nft_op_get_statement:
 * @op: a #VigilNftOp of kind %VIGIL_NFT_OP_ADD_RULE
 *
 * Returns: (transfer full): the rule in `nft` syntax, e.g. `ct state new queue num 0 bypass`
 */
gchar *
vigil_nft_op_get_statement(const VigilNftOp *op)
{
	GString *str = NULL;

	g_return_val_if_fail(op != NULL, NULL);

	str = g_string_new(NULL);
	for (guint i = 0; i < op->n_matches; i++) {
		vigil_nft_append_match(str, &op->matches[i]);
		g_string_append_c(str, ' ');
	}
	vigil_nft_append_verdict(str, &op->verdict);
	return g_string_free(str, FALSE);
}

/**
 * vigil_nft_op_to_string:
 * @op: a #VigilNftOp
 *
 * Returns: (transfer full): @op as an `nft` command, e.g.
 *   `add rule inet vigil output ct state new queue num 0 bypass`
 */
gchar *
vigil_nft_op_to_string(const VigilNftOp *op)
{
	g_autofree gchar *statement = NULL;
	const gchar *chain = NULL;

	g_return_val_if_fail(op != NULL, NULL);

	chain = vigil_nft_hook_to_string(op->hook);
	switch (op->kind) {
	case VIGIL_NFT_OP_ADD_TABLE:
		return g_strdup("add table " VIGIL_NFT_FAMILY " " VIGIL_NFT_TABLE);
	case VIGIL_NFT_OP_DELETE_TABLE:
		return g_strdup("delete table " VIGIL_NFT_FAMILY " " VIGIL_NFT_TABLE);
	case VIGIL_NFT_OP_ADD_CHAIN:
		return g_strdup_printf("add chain " VIGIL_NFT_FAMILY " " VIGIL_NFT_TABLE
				       " %s { type filter hook %s priority %d; policy accept; }",
				       chain,
				       chain,
				       op->priority);
	case VIGIL_NFT_OP_ADD_RULE:
		statement = vigil_nft_op_get_statement(op);
		return g_strdup_printf("add rule " VIGIL_NFT_FAMILY " " VIGIL_NFT_TABLE " %s %s",
				       chain,
				       statement);
	default:
		g_assert_not_reached();
	}
}

/**
 * vigil_nft_op_describe:
 * @op: a #VigilNftOp
 *
 * Names @op for error messages: `add table inet vigil`, `add chain output`,
 * `rule 6 of chain output (ct state new queue num 0 bypass)`.
 *
 * Returns: (transfer full): a description
 */
gchar *
vigil_nft_op_describe(const VigilNftOp *op)
{
	g_autofree gchar *statement = NULL;

	g_return_val_if_fail(op != NULL, NULL);

	switch (op->kind) {
	case VIGIL_NFT_OP_ADD_TABLE:
	case VIGIL_NFT_OP_DELETE_TABLE:
		return vigil_nft_op_to_string(op);
	case VIGIL_NFT_OP_ADD_CHAIN:
		return g_strdup_printf("add chain %s", vigil_nft_hook_to_string(op->hook));
	case VIGIL_NFT_OP_ADD_RULE:
		statement = vigil_nft_op_get_statement(op);
		return g_strdup_printf("rule %u of chain %s (%s)",
				       op->rule_number,
				       vigil_nft_hook_to_string(op->hook),
				       statement);
	default:
		g_assert_not_reached();
	}
}

/**
 * vigil_nft_plan_to_string:
 * @self: a #VigilNftPlan
 *
 * Renders the plan as `nft` commands, one a line, for logs and tests; `nft -f` reads it.
 *
 * Returns: (transfer full): the text
 */
gchar *
vigil_nft_plan_to_string(const VigilNftPlan *self)
{
	GString *str = NULL;

	g_return_val_if_fail(self != NULL, NULL);

	str = g_string_new(NULL);
	for (guint i = 0; i < self->ops->len; i++) {
		g_autofree gchar *line =
		    vigil_nft_op_to_string(&g_array_index(self->ops, VigilNftOp, i));
		g_string_append_printf(str, "%s\n", line);
	}
	return g_string_free(str, FALSE);
}
