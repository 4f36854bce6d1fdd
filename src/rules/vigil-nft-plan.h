/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "vigil-enums.h"

G_BEGIN_DECLS

/* the default skb marks; "vig" and "vih" in ASCII */
#define VIGIL_NFT_OWN_MARK_DEFAULT    0x00766967
#define VIGIL_NFT_REJECT_MARK_DEFAULT 0x00766968

/* both base chains run at the filter priority, after conntrack (-200) and nat (-100) */
#define VIGIL_NFT_CHAIN_PRIORITY 0

/* ARPHRD_LOOPBACK, as `meta oiftype loopback` compares it */
#define VIGIL_NFT_IFTYPE_LOOPBACK 772

/**
 * VigilNftConfig:
 * @queue_num: the NFQUEUE number new connections are queued to
 * @fail_open: queue with `bypass`, so packets pass while no daemon listens on the queue;
 *   otherwise (fail-closed) the kernel drops them
 * @inbound: also queue new inbound connections to local listeners (chain `input`)
 * @intercept_loopback: queue loopback connections too; by default the kernel accepts them
 * @own_mark: the skb mark of the daemon's own sockets (portal probes): always accepted
 * @reject_mark: the mark the daemon sets with an NF_REPEAT verdict to have the table reject
 *   the packet (TCP reset, else ICMP port unreachable) so that the app fails at once
 * @mode: the daemon mode; %VIGIL_MODE_BLOCK_ALL rejects in the kernel instead of queueing
 *
 * What the table looks like. Fill it with vigil_nft_config_init() and change what differs.
 */
typedef struct {
	guint16 queue_num;
	gboolean fail_open;
	gboolean inbound;
	gboolean intercept_loopback;
	guint32 own_mark;
	guint32 reject_mark;
	VigilMode mode;
} VigilNftConfig;

/**
 * VigilNftOpKind:
 * @VIGIL_NFT_OP_ADD_TABLE: add `table inet vigil` (no error if it exists)
 * @VIGIL_NFT_OP_DELETE_TABLE: delete `table inet vigil` with everything in it
 * @VIGIL_NFT_OP_ADD_CHAIN: add a base chain of type filter, policy accept
 * @VIGIL_NFT_OP_ADD_RULE: append a rule to a chain
 *
 * Every operation addresses `table inet vigil` (%VIGIL_NFT_FAMILY, %VIGIL_NFT_TABLE) and no
 * other table: the table is not a field, so a plan cannot name another one.
 */
typedef enum {
	VIGIL_NFT_OP_ADD_TABLE,
	VIGIL_NFT_OP_DELETE_TABLE,
	VIGIL_NFT_OP_ADD_CHAIN,
	VIGIL_NFT_OP_ADD_RULE,
} VigilNftOpKind;

/**
 * VigilNftHook:
 * @VIGIL_NFT_HOOK_OUTPUT: chain `output`, hook output (locally generated packets)
 * @VIGIL_NFT_HOOK_INPUT: chain `input`, hook input (packets for local sockets)
 *
 * Each hook has one base chain, named like the hook.
 */
typedef enum { VIGIL_NFT_HOOK_OUTPUT, VIGIL_NFT_HOOK_INPUT, VIGIL_NFT_HOOK_LAST } VigilNftHook;

/**
 * VigilNftCtState:
 *
 * Conntrack state bits as `ct state` matches them; the values are the kernel's
 * (`NF_CT_STATE_BIT()`), so a backend can use them as they are.
 */
typedef enum {
	VIGIL_NFT_CT_STATE_INVALID = 1 << 0,
	VIGIL_NFT_CT_STATE_ESTABLISHED = 1 << 1,
	VIGIL_NFT_CT_STATE_RELATED = 1 << 2,
	VIGIL_NFT_CT_STATE_NEW = 1 << 3,
	VIGIL_NFT_CT_STATE_UNTRACKED = 1 << 6,
} VigilNftCtState;

/**
 * VigilNftMatchKind:
 * @VIGIL_NFT_MATCH_CT_STATE: `ct state` has any of the #VigilNftCtState bits in @value
 * @VIGIL_NFT_MATCH_MARK: `meta mark & mask == value`
 * @VIGIL_NFT_MATCH_OIFTYPE: `meta oiftype` (an ARPHRD_* number) equals @value
 * @VIGIL_NFT_MATCH_IIFTYPE: `meta iiftype` equals @value
 * @VIGIL_NFT_MATCH_L4PROTO: `meta l4proto` (an IP protocol number) equals @value
 *
 * Loopback is matched by interface type rather than by `oif lo`: the type does not depend
 * on an interface index or name, and it is the same in every network namespace.
 */
typedef enum {
	VIGIL_NFT_MATCH_CT_STATE,
	VIGIL_NFT_MATCH_MARK,
	VIGIL_NFT_MATCH_OIFTYPE,
	VIGIL_NFT_MATCH_IIFTYPE,
	VIGIL_NFT_MATCH_L4PROTO,
} VigilNftMatchKind;

/**
 * VigilNftMatch:
 * @kind: what is compared
 * @mask: for %VIGIL_NFT_MATCH_MARK, the bits compared; unused otherwise
 * @value: the value compared against
 */
typedef struct {
	VigilNftMatchKind kind;
	guint32 mask;
	guint32 value;
} VigilNftMatch;

/**
 * VigilNftVerdictKind:
 * @VIGIL_NFT_VERDICT_ACCEPT: accept (in this chain; other tables still see the packet)
 * @VIGIL_NFT_VERDICT_DROP: drop
 * @VIGIL_NFT_VERDICT_QUEUE: hand the packet to NFQUEUE @queue_num
 * @VIGIL_NFT_VERDICT_REJECT: drop and answer as @reject says
 */
typedef enum {
	VIGIL_NFT_VERDICT_ACCEPT,
	VIGIL_NFT_VERDICT_DROP,
	VIGIL_NFT_VERDICT_QUEUE,
	VIGIL_NFT_VERDICT_REJECT,
} VigilNftVerdictKind;

/**
 * VigilNftReject:
 * @VIGIL_NFT_REJECT_TCP_RESET: a TCP reset (the rule must match `meta l4proto tcp`)
 * @VIGIL_NFT_REJECT_ICMPX_PORT_UNREACHABLE: ICMP or ICMPv6 port unreachable
 */
typedef enum {
	VIGIL_NFT_REJECT_TCP_RESET,
	VIGIL_NFT_REJECT_ICMPX_PORT_UNREACHABLE,
} VigilNftReject;

/**
 * VigilNftVerdict:
 * @kind: what happens to a matching packet
 * @queue_num: for %VIGIL_NFT_VERDICT_QUEUE, the queue
 * @queue_bypass: for %VIGIL_NFT_VERDICT_QUEUE, accept when nobody listens on the queue
 * @reject: for %VIGIL_NFT_VERDICT_REJECT, how
 */
typedef struct {
	VigilNftVerdictKind kind;
	guint16 queue_num;
	gboolean queue_bypass;
	VigilNftReject reject;
} VigilNftVerdict;

#define VIGIL_NFT_MATCHES_MAX 4

/**
 * VigilNftOp:
 * @kind: the operation
 * @hook: for chains and rules, which base chain
 * @priority: for %VIGIL_NFT_OP_ADD_CHAIN, the hook priority
 * @missing_ok: for %VIGIL_NFT_OP_DELETE_TABLE, a missing table is not an error
 * @rule_number: for %VIGIL_NFT_OP_ADD_RULE, its position in the chain, from 1
 * @n_matches: for %VIGIL_NFT_OP_ADD_RULE, how many of @matches are used; all must match
 * @matches: the matches, in order
 * @verdict: for %VIGIL_NFT_OP_ADD_RULE, the verdict
 *
 * One backend-neutral ruleset operation; a backend turns each into one message.
 */
typedef struct {
	VigilNftOpKind kind;
	VigilNftHook hook;
	gint32 priority;
	gboolean missing_ok;
	guint rule_number;
	guint n_matches;
	VigilNftMatch matches[VIGIL_NFT_MATCHES_MAX];
	VigilNftVerdict verdict;
} VigilNftOp;

/**
 * VigilNftPlan:
 *
 * An immutable, reference-counted list of #VigilNftOp that a backend applies as one
 * transaction: all of it or nothing.
 */
typedef struct _VigilNftPlan VigilNftPlan;

void
vigil_nft_config_init(VigilNftConfig *config);

VigilNftPlan *
vigil_nft_plan_new_table(const VigilNftConfig *config);
VigilNftPlan *
vigil_nft_plan_new_remove(void);
VigilNftPlan *
vigil_nft_plan_ref(VigilNftPlan *self);
void
vigil_nft_plan_unref(VigilNftPlan *self);
const VigilNftConfig *
vigil_nft_plan_get_config(const VigilNftPlan *self);
guint
vigil_nft_plan_get_n_ops(const VigilNftPlan *self);
const VigilNftOp *
vigil_nft_plan_get_op(const VigilNftPlan *self, guint index);
gchar *
vigil_nft_plan_to_string(const VigilNftPlan *self);

const gchar *
vigil_nft_hook_to_string(VigilNftHook hook);
gchar *
vigil_nft_op_to_string(const VigilNftOp *op);
gchar *
vigil_nft_op_describe(const VigilNftOp *op);
gchar *
vigil_nft_op_get_statement(const VigilNftOp *op);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftPlan, vigil_nft_plan_unref)

G_END_DECLS
