/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNftMnl"

#include "config.h"

#include <netinet/in.h>
/* ahead of the linux headers: glibc's netinet/in.h must come before linux/in.h */

#include <errno.h>
#include <gio/gio.h>
#include <linux/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-names.h"
#include "vigil-nft-mnl.h"

/*
 * The nftables backend: each plan becomes one nfnetlink batch (begin, one message per plan
 * operation with NLM_F_ACK, end), sent on a fresh NETLINK_NETFILTER socket with
 * NETLINK_EXT_ACK. The kernel applies a batch as one transaction, answers every message,
 * and points at the attribute it refused; each answer is mapped back by sequence number to
 * its operation, and by offset to the expression, to say which rule and what failed.
 */

/* the plan mirrors these kernel values so that src/rules needs no kernel headers */
G_STATIC_ASSERT(VIGIL_NFT_CT_STATE_INVALID == NF_CT_STATE_INVALID_BIT);
G_STATIC_ASSERT(VIGIL_NFT_CT_STATE_ESTABLISHED == NF_CT_STATE_BIT(IP_CT_ESTABLISHED));
G_STATIC_ASSERT(VIGIL_NFT_CT_STATE_RELATED == NF_CT_STATE_BIT(IP_CT_RELATED));
G_STATIC_ASSERT(VIGIL_NFT_CT_STATE_NEW == NF_CT_STATE_BIT(IP_CT_NEW));
G_STATIC_ASSERT(VIGIL_NFT_CT_STATE_UNTRACKED == NF_CT_STATE_UNTRACKED_BIT);
G_STATIC_ASSERT(VIGIL_NFT_IFTYPE_LOOPBACK == ARPHRD_LOOPBACK);

#define VIGIL_NFT_BATCH_PAGE_SIZE (16 * 1024)
#define VIGIL_NFT_ACK_TIMEOUT_MS  2000
/* per match at most load, bitwise and cmp; then the verdict */
#define VIGIL_NFT_EXPRS_MAX (3 * VIGIL_NFT_MATCHES_MAX + 1)

typedef struct {
	const gchar *name;  /* the libnftnl expression type, e.g. "queue" */
	const gchar *label; /* the same for people, e.g. "nft queue expression" */
	guint32 start;	    /* where its NFTA_LIST_ELEM lies in the message */
	guint32 end;
} VigilNftExprSpan;

typedef struct {
	const VigilNftOp *op; /* NULL for the batch begin and end messages */
	guint n_exprs;
	VigilNftExprSpan exprs[VIGIL_NFT_EXPRS_MAX];
	gboolean acked;
	gint errsv;	      /* the errno the kernel answered; 0 when fine */
	guint32 error_offset; /* NLMSGERR_ATTR_OFFS; 0 when none */
	gchar *error_message; /* NLMSGERR_ATTR_MSG */
} VigilNftMessage;

typedef struct {
	VigilNftQueueKind queue_kind; /* native or compat */
	guint32 seq;		      /* of the batch begin; message i has seq + i */
	GArray *messages;	      /* of VigilNftMessage: begin, one per op, end */
} VigilNftTransaction;

struct _VigilNftMnl {
	VigilNftBackend parent_instance;
	guint32 seq;
};

G_DEFINE_FINAL_TYPE(VigilNftMnl, vigil_nft_mnl, VIGIL_TYPE_NFT_BACKEND)

static void
vigil_nft_message_clear(gpointer data)
{
	VigilNftMessage *message = data;
	g_free(message->error_message);
}

static VigilNftTransaction *
vigil_nft_transaction_new(const VigilNftPlan *plan, VigilNftQueueKind queue_kind, guint32 seq)
{
	VigilNftTransaction *tx = g_new0(VigilNftTransaction, 1);
	guint n_ops = vigil_nft_plan_get_n_ops(plan);

	tx->queue_kind = queue_kind;
	tx->seq = seq;
	tx->messages = g_array_sized_new(FALSE, TRUE, sizeof(VigilNftMessage), n_ops + 2);
	g_array_set_clear_func(tx->messages, vigil_nft_message_clear);
	g_array_set_size(tx->messages, n_ops + 2);
	for (guint i = 0; i < n_ops; i++)
		g_array_index(tx->messages, VigilNftMessage, i + 1).op =
		    vigil_nft_plan_get_op(plan, i);
	return tx;
}

static void
vigil_nft_transaction_free(VigilNftTransaction *tx)
{
	g_array_unref(tx->messages);
	g_free(tx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNftTransaction, vigil_nft_transaction_free)

static VigilNftMessage *
vigil_nft_transaction_get_message(VigilNftTransaction *tx, guint index)
{
	return &g_array_index(tx->messages, VigilNftMessage, index);
}

static gboolean
vigil_nft_batch_next(VigilNftnlBatch *batch, GError **error)
{
	if (nftnl_batch_update(batch) < 0)
		return vigil_error_set_errno(error, errno, "failed to grow the nftables batch");
	return TRUE;
}

/* where the next message goes; the batch keeps MNL_SOCKET_BUFFER_SIZE free there. Zeroed,
 * because libmnl 1.0.4 leaves attribute padding as it finds it */
static gchar *
vigil_nft_batch_buffer(VigilNftnlBatch *batch)
{
	gchar *buf = nftnl_batch_buffer(batch);

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	return buf;
}

static struct nftnl_expr *
vigil_nft_expr_alloc(const gchar *name, GError **error)
{
	struct nftnl_expr *expr = nftnl_expr_alloc(name);

	if (expr == NULL) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_NOT_SUPPORTED,
			    "libnftnl cannot make a %s expression",
			    name);
	}
	return expr;
}

/* the rule takes @expr; its position is recorded to map the kernel's answer back to it */
static void
vigil_nft_rule_take_expr(struct nftnl_rule *rule,
			 VigilNftMessage *message,
			 struct nftnl_expr *expr,
			 const gchar *name,
			 const gchar *label)
{
	g_assert(message->n_exprs < VIGIL_NFT_EXPRS_MAX);
	message->exprs[message->n_exprs].name = name;
	message->exprs[message->n_exprs].label = label;
	message->n_exprs++;
	nftnl_rule_add_expr(rule, expr);
}

static gboolean
vigil_nft_rule_add_meta(struct nftnl_rule *rule,
			VigilNftMessage *message,
			guint32 key,
			GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("meta", error);

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u32(expr, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_META_DREG, NFT_REG_1);
	vigil_nft_rule_take_expr(rule, message, g_steal_pointer(&expr), "meta", NULL);
	return TRUE;
}

static gboolean
vigil_nft_rule_add_ct_state(struct nftnl_rule *rule, VigilNftMessage *message, GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("ct", error);

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u32(expr, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	vigil_nft_rule_take_expr(rule, message, g_steal_pointer(&expr), "ct", NULL);
	return TRUE;
}

static gboolean
vigil_nft_rule_add_bitwise(struct nftnl_rule *rule,
			   VigilNftMessage *message,
			   guint32 mask,
			   GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("bitwise", error);
	guint32 xor = 0;

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u32(expr, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(expr, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(expr, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	vigil_nft_rule_take_expr(rule, message, g_steal_pointer(&expr), "bitwise", NULL);
	return TRUE;
}

/* compares the @len low bytes of register 1, in host order as meta and ct load them */
static gboolean
vigil_nft_rule_add_cmp(struct nftnl_rule *rule,
		       VigilNftMessage *message,
		       guint32 op,
		       guint32 value,
		       guint len,
		       GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("cmp", error);

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u32(expr, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_CMP_OP, op);
	if (len == sizeof(guint8))
		nftnl_expr_set_u8(expr, NFTNL_EXPR_CMP_DATA, (guint8)value);
	else if (len == sizeof(guint16))
		nftnl_expr_set_u16(expr, NFTNL_EXPR_CMP_DATA, (guint16)value);
	else
		nftnl_expr_set_u32(expr, NFTNL_EXPR_CMP_DATA, value);
	vigil_nft_rule_take_expr(rule, message, g_steal_pointer(&expr), "cmp", NULL);
	return TRUE;
}

static gboolean
vigil_nft_rule_add_match(struct nftnl_rule *rule,
			 VigilNftMessage *message,
			 const VigilNftMatch *match,
			 GError **error)
{
	switch (match->kind) {
	case VIGIL_NFT_MATCH_CT_STATE:
		return vigil_nft_rule_add_ct_state(rule, message, error) &&
		       vigil_nft_rule_add_bitwise(rule, message, match->value, error) &&
		       vigil_nft_rule_add_cmp(rule, message, NFT_CMP_NEQ, 0, 4, error);
	case VIGIL_NFT_MATCH_MARK:
		if (!vigil_nft_rule_add_meta(rule, message, NFT_META_MARK, error))
			return FALSE;
		if (match->mask != G_MAXUINT32 &&
		    !vigil_nft_rule_add_bitwise(rule, message, match->mask, error))
			return FALSE;
		return vigil_nft_rule_add_cmp(rule, message, NFT_CMP_EQ, match->value, 4, error);
	case VIGIL_NFT_MATCH_OIFTYPE:
		return vigil_nft_rule_add_meta(rule, message, NFT_META_OIFTYPE, error) &&
		       vigil_nft_rule_add_cmp(rule, message, NFT_CMP_EQ, match->value, 2, error);
	case VIGIL_NFT_MATCH_IIFTYPE:
		return vigil_nft_rule_add_meta(rule, message, NFT_META_IIFTYPE, error) &&
		       vigil_nft_rule_add_cmp(rule, message, NFT_CMP_EQ, match->value, 2, error);
	case VIGIL_NFT_MATCH_L4PROTO:
		return vigil_nft_rule_add_meta(rule, message, NFT_META_L4PROTO, error) &&
		       vigil_nft_rule_add_cmp(rule, message, NFT_CMP_EQ, match->value, 1, error);
	default:
		g_assert_not_reached();
	}
}

static gboolean
vigil_nft_rule_add_immediate(struct nftnl_rule *rule,
			     VigilNftMessage *message,
			     guint32 verdict,
			     GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("immediate", error);

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u32(expr, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(expr, NFTNL_EXPR_IMM_VERDICT, verdict);
	vigil_nft_rule_take_expr(rule, message, g_steal_pointer(&expr), "immediate", NULL);
	return TRUE;
}

static gboolean
vigil_nft_rule_add_queue(struct nftnl_rule *rule,
			 VigilNftMessage *message,
			 const VigilNftVerdict *verdict,
			 GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("queue", error);

	if (expr == NULL)
		return FALSE;
	nftnl_expr_set_u16(expr, NFTNL_EXPR_QUEUE_NUM, verdict->queue_num);
	nftnl_expr_set_u16(expr, NFTNL_EXPR_QUEUE_TOTAL, 1);
	if (verdict->queue_bypass)
		nftnl_expr_set_u16(expr, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
	vigil_nft_rule_take_expr(rule,
				 message,
				 g_steal_pointer(&expr),
				 "queue",
				 "nft queue expression");
	return TRUE;
}

/* the xtables NFQUEUE target through nft compat, as iptables-nft emits it; `nft list`
 * shows it as `queue num N bypass` */
static gboolean
vigil_nft_rule_add_nfqueue_target(struct nftnl_rule *rule,
				  VigilNftMessage *message,
				  const VigilNftVerdict *verdict,
				  GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("target", error);
	struct xt_NFQ_info_v3 *info = NULL;
	gsize size = XT_ALIGN(sizeof(*info));

	if (expr == NULL)
		return FALSE;
	/* libnftnl takes the info buffer and releases it with free() */
	info = calloc(1, size);
	if (info == NULL)
		return vigil_error_set_errno(error, errno, "failed to allocate NFQUEUE info");
	info->queuenum = verdict->queue_num;
	info->queues_total = 1;
	info->flags = verdict->queue_bypass ? NFQ_FLAG_BYPASS : 0;
	nftnl_expr_set_str(expr, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(expr, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(expr, NFTNL_EXPR_TG_INFO, info, size);
	vigil_nft_rule_take_expr(rule,
				 message,
				 g_steal_pointer(&expr),
				 "target",
				 "xtables NFQUEUE target (nft compat)");
	return TRUE;
}

static gboolean
vigil_nft_rule_add_reject(struct nftnl_rule *rule,
			  VigilNftMessage *message,
			  VigilNftReject reject,
			  GError **error)
{
	g_autoptr(VigilNftnlExpr) expr = vigil_nft_expr_alloc("reject", error);

	if (expr == NULL)
		return FALSE;
	if (reject == VIGIL_NFT_REJECT_TCP_RESET) {
		nftnl_expr_set_u32(expr, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(expr, NFTNL_EXPR_REJECT_CODE, 0);
	} else {
		nftnl_expr_set_u32(expr, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
		nftnl_expr_set_u8(expr, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
	}
	vigil_nft_rule_take_expr(rule,
				 message,
				 g_steal_pointer(&expr),
				 "reject",
				 "nft reject expression");
	return TRUE;
}

static gboolean
vigil_nft_rule_add_verdict(struct nftnl_rule *rule,
			   VigilNftMessage *message,
			   const VigilNftVerdict *verdict,
			   VigilNftQueueKind queue_kind,
			   GError **error)
{
	switch (verdict->kind) {
	case VIGIL_NFT_VERDICT_ACCEPT:
		return vigil_nft_rule_add_immediate(rule, message, NF_ACCEPT, error);
	case VIGIL_NFT_VERDICT_DROP:
		return vigil_nft_rule_add_immediate(rule, message, NF_DROP, error);
	case VIGIL_NFT_VERDICT_QUEUE:
		if (queue_kind == VIGIL_NFT_QUEUE_KIND_COMPAT)
			return vigil_nft_rule_add_nfqueue_target(rule, message, verdict, error);
		return vigil_nft_rule_add_queue(rule, message, verdict, error);
	case VIGIL_NFT_VERDICT_REJECT:
		return vigil_nft_rule_add_reject(rule, message, verdict->reject, error);
	default:
		g_assert_not_reached();
	}
}

/* records where each expression landed in the built message */
static void
vigil_nft_message_locate_exprs(VigilNftMessage *message, const struct nlmsghdr *nlh)
{
	struct nlattr *attr = NULL;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
	{
		struct nlattr *elem = NULL;
		guint i = 0;

		if (mnl_attr_get_type(attr) != NFTA_RULE_EXPRESSIONS)
			continue;
		mnl_attr_for_each_nested(elem, attr)
		{
			if (i >= message->n_exprs)
				break;
			message->exprs[i].start = (const guint8 *)elem - (const guint8 *)nlh;
			message->exprs[i].end = message->exprs[i].start + mnl_attr_get_len(elem);
			i++;
		}
	}
}

static gboolean
vigil_nft_table_add(VigilNftnlBatch *batch, guint16 type, guint16 flags, guint32 seq)
{
	g_autoptr(VigilNftnlTable) table = nftnl_table_alloc();
	struct nlmsghdr *nlh = NULL;

	if (table == NULL)
		return FALSE;
	nftnl_table_set_str(table, NFTNL_TABLE_NAME, VIGIL_NFT_TABLE);
	nlh = nftnl_table_nlmsg_build_hdr(vigil_nft_batch_buffer(batch),
					  type,
					  NFPROTO_INET,
					  flags | NLM_F_ACK,
					  seq);
	nftnl_table_nlmsg_build_payload(nlh, table);
	return TRUE;
}

static gboolean
vigil_nft_chain_add(VigilNftnlBatch *batch, const VigilNftOp *op, guint32 seq)
{
	g_autoptr(VigilNftnlChain) chain = nftnl_chain_alloc();
	struct nlmsghdr *nlh = NULL;

	if (chain == NULL)
		return FALSE;
	nftnl_chain_set_str(chain, NFTNL_CHAIN_TABLE, VIGIL_NFT_TABLE);
	nftnl_chain_set_str(chain, NFTNL_CHAIN_NAME, vigil_nft_hook_to_string(op->hook));
	nftnl_chain_set_str(chain, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(chain,
			    NFTNL_CHAIN_HOOKNUM,
			    op->hook == VIGIL_NFT_HOOK_OUTPUT ? NF_INET_LOCAL_OUT
							      : NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(chain, NFTNL_CHAIN_PRIO, op->priority);
	nftnl_chain_set_u32(chain, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftnl_chain_nlmsg_build_hdr(vigil_nft_batch_buffer(batch),
					  NFT_MSG_NEWCHAIN,
					  NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK,
					  seq);
	nftnl_chain_nlmsg_build_payload(nlh, chain);
	return TRUE;
}

static gboolean
vigil_nft_rule_add(VigilNftnlBatch *batch,
		   VigilNftMessage *message,
		   VigilNftQueueKind queue_kind,
		   guint32 seq,
		   GError **error)
{
	const VigilNftOp *op = message->op;
	g_autoptr(VigilNftnlRule) rule = nftnl_rule_alloc();
	struct nlmsghdr *nlh = NULL;

	if (rule == NULL)
		return vigil_error_set_errno(error, ENOMEM, "failed to allocate a rule");
	nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, VIGIL_NFT_TABLE);
	nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, vigil_nft_hook_to_string(op->hook));
	for (guint i = 0; i < op->n_matches; i++) {
		if (!vigil_nft_rule_add_match(rule, message, &op->matches[i], error))
			return FALSE;
	}
	if (!vigil_nft_rule_add_verdict(rule, message, &op->verdict, queue_kind, error))
		return FALSE;
	nlh = nftnl_rule_nlmsg_build_hdr(vigil_nft_batch_buffer(batch),
					 NFT_MSG_NEWRULE,
					 NFPROTO_INET,
					 NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
					 seq);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	vigil_nft_message_locate_exprs(message, nlh);
	return TRUE;
}

static gboolean
vigil_nft_transaction_add_op(VigilNftTransaction *tx,
			     VigilNftnlBatch *batch,
			     guint index,
			     GError **error)
{
	VigilNftMessage *message = vigil_nft_transaction_get_message(tx, index);
	const VigilNftOp *op = message->op;
	guint32 seq = tx->seq + index;
	gboolean ret = FALSE;

	switch (op->kind) {
	case VIGIL_NFT_OP_ADD_TABLE:
		ret = vigil_nft_table_add(batch, NFT_MSG_NEWTABLE, NLM_F_CREATE, seq);
		break;
	case VIGIL_NFT_OP_DELETE_TABLE:
		ret = vigil_nft_table_add(batch, NFT_MSG_DELTABLE, 0, seq);
		break;
	case VIGIL_NFT_OP_ADD_CHAIN:
		ret = vigil_nft_chain_add(batch, op, seq);
		break;
	case VIGIL_NFT_OP_ADD_RULE:
		return vigil_nft_rule_add(batch, message, tx->queue_kind, seq, error) &&
		       vigil_nft_batch_next(batch, error);
	default:
		g_assert_not_reached();
	}
	if (!ret)
		return vigil_error_set_errno(error, ENOMEM, "failed to allocate an object");
	return vigil_nft_batch_next(batch, error);
}

static gboolean
vigil_nft_transaction_build(VigilNftTransaction *tx, VigilNftnlBatch *batch, GError **error)
{
	guint last = tx->messages->len - 1;

	nftnl_batch_begin(vigil_nft_batch_buffer(batch), tx->seq);
	if (!vigil_nft_batch_next(batch, error))
		return FALSE;
	for (guint i = 1; i < last; i++) {
		if (!vigil_nft_transaction_add_op(tx, batch, i, error)) {
			g_autofree gchar *what =
			    vigil_nft_op_describe(vigil_nft_transaction_get_message(tx, i)->op);
			g_prefix_error(error, "%s: ", what);
			return FALSE;
		}
	}
	nftnl_batch_end(vigil_nft_batch_buffer(batch), tx->seq + last);
	return vigil_nft_batch_next(batch, error);
}

static int
ack_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	guint16 type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NLMSGERR_ATTR_MAX) < 0)
		return MNL_CB_OK;
	if (type == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (type == NLMSGERR_ATTR_OFFS && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* one answer per message: error 0 is an ack, otherwise an errno and maybe extack TLVs */
static int
ack_cb(const struct nlmsghdr *nlh, void *data)
{
	VigilNftTransaction *tx = data;
	const struct nlmsgerr *err = NULL;
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {NULL};
	VigilNftMessage *message = NULL;
	guint32 index = nlh->nlmsg_seq - tx->seq;
	gsize offset = sizeof(struct nlmsgerr);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (index >= tx->messages->len)
		return MNL_CB_OK;
	err = mnl_nlmsg_get_payload(nlh);
	message = vigil_nft_transaction_get_message(tx, index);
	message->acked = TRUE;
	if (err->error == 0)
		return MNL_CB_OK;
	message->errsv = -err->error;

	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) == 0)
		return MNL_CB_OK;
	if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0)
		offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (offset > mnl_nlmsg_get_payload_len(nlh))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, offset, ack_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (tb[NLMSGERR_ATTR_MSG] != NULL)
		message->error_message = g_strdup(mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] != NULL)
		message->error_offset = mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	return MNL_CB_OK;
}

/* whether more answers are due; after a refused batch begin the kernel reads no further */
static gboolean
vigil_nft_transaction_is_pending(VigilNftTransaction *tx)
{
	if (vigil_nft_transaction_get_message(tx, 0)->errsv != 0)
		return FALSE;
	for (guint i = 1; i < tx->messages->len - 1; i++) {
		if (!vigil_nft_transaction_get_message(tx, i)->acked)
			return TRUE;
	}
	return FALSE;
}

static gboolean
vigil_nft_socket_send_batch(VigilMnlSocket *nl, VigilNftnlBatch *batch, GError **error)
{
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
	gint n_iov = nftnl_batch_iovec_len(batch);
	g_autofree struct iovec *iov = g_new0(struct iovec, n_iov);
	struct msghdr msg = {
	    .msg_name = &addr,
	    .msg_namelen = sizeof(addr),
	    .msg_iov = iov,
	    .msg_iovlen = n_iov,
	};

	nftnl_batch_iovec(batch, iov, n_iov);
	if (sendmsg(mnl_socket_get_fd(nl), &msg, 0) < 0)
		return vigil_error_set_errno(error, errno, "failed to send the nftables batch");
	return TRUE;
}

static gboolean
vigil_nft_transaction_talk(VigilNftTransaction *tx, VigilNftnlBatch *batch, GError **error)
{
	static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = ack_cb};
	g_autoptr(VigilMnlSocket) nl = NULL;
	g_autofree gchar *buf = g_malloc(MNL_SOCKET_BUFFER_SIZE);
	gint one = 1;
	guint32 portid;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL)
		return vigil_error_set_errno(error, errno, "failed to open a netfilter socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return vigil_error_set_errno(error, errno, "failed to bind a netfilter socket");
	/* without extended acks (before Linux 4.12) errors still arrive, only less precise */
	if (mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0)
		g_debug("no extended netlink acks: %s", g_strerror(errno));
	portid = mnl_socket_get_portid(nl);

	if (!vigil_nft_socket_send_batch(nl, batch, error))
		return FALSE;

	/* the kernel answers while it handles sendmsg(); the timeout only guards a stall */
	while (vigil_nft_transaction_is_pending(tx)) {
		struct pollfd pfd = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
		gssize len;
		gint rc = poll(&pfd, 1, VIGIL_NFT_ACK_TIMEOUT_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return vigil_error_set_errno(error, errno, "failed to wait for acks");
		if (rc == 0)
			break;
		len = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return vigil_error_set_errno(error, errno, "failed to read acks");
		if (mnl_cb_run2(buf, len, 0, portid, NULL, tx, ctl_cbs, G_N_ELEMENTS(ctl_cbs)) < 0)
			return vigil_error_set_errno(error, errno, "failed to parse acks");
	}
	return TRUE;
}

static const VigilNftExprSpan *
vigil_nft_message_find_error_expr(const VigilNftMessage *message)
{
	if (message->error_offset == 0)
		return NULL;
	for (guint i = 0; i < message->n_exprs; i++) {
		const VigilNftExprSpan *span = &message->exprs[i];
		if (message->error_offset >= span->start && message->error_offset < span->end)
			return span;
	}
	return NULL;
}

static gboolean
vigil_nft_message_has_expr(const VigilNftMessage *message, const gchar *name)
{
	for (guint i = 0; i < message->n_exprs; i++) {
		if (g_str_equal(message->exprs[i].name, name))
			return TRUE;
	}
	return FALSE;
}

/* whether the kernel refused a rule for lack of the expression type @name; where it said
 * which expression it refused that one counts, otherwise any in the rule */
static gboolean
vigil_nft_transaction_lacks_expr(VigilNftTransaction *tx, const gchar *name)
{
	for (guint i = 1; i < tx->messages->len - 1; i++) {
		VigilNftMessage *message = vigil_nft_transaction_get_message(tx, i);
		const VigilNftExprSpan *span = NULL;

		if (message->errsv != ENOENT || message->op->kind != VIGIL_NFT_OP_ADD_RULE)
			continue;
		span = vigil_nft_message_find_error_expr(message);
		if (span != NULL ? g_str_equal(span->name, name)
				 : vigil_nft_message_has_expr(message, name))
			return TRUE;
	}
	return FALSE;
}

static gchar *
vigil_nft_message_describe_error(const VigilNftMessage *message)
{
	g_autoptr(GString) str = g_string_new(NULL);
	const VigilNftExprSpan *span = vigil_nft_message_find_error_expr(message);

	if (message->op != NULL) {
		g_autofree gchar *what = vigil_nft_op_describe(message->op);
		g_string_append_printf(str, "%s: ", what);
	} else {
		g_string_append(str, "the kernel refused the batch: ");
	}
	if (span != NULL) {
		g_autofree gchar *label = span->label != NULL
					      ? g_strdup(span->label)
					      : g_strdup_printf("nft %s expression", span->name);
		if (message->errsv == ENOENT)
			g_string_append_printf(str, "the kernel has no %s: ", label);
		else
			g_string_append_printf(str, "%s: ", label);
	}
	if (message->error_message != NULL)
		g_string_append_printf(str, "%s: ", message->error_message);
	g_string_append(str, g_strerror(message->errsv));
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* turns the answers into success or the error of the first refused message */
static gboolean
vigil_nft_transaction_check(VigilNftTransaction *tx, GError **error)
{
	const VigilNftMessage *failed = NULL;
	const VigilNftMessage *unacked = NULL;
	guint n_failed = 0;
	guint n_missing_ok = 0;
	g_autofree gchar *what = NULL;

	for (guint i = 0; i < tx->messages->len; i++) {
		const VigilNftMessage *message = vigil_nft_transaction_get_message(tx, i);

		if (message->errsv != 0) {
			if (message->op != NULL && message->op->missing_ok &&
			    message->errsv == ENOENT)
				n_missing_ok++;
			if (failed == NULL)
				failed = message;
			n_failed++;
		} else if (message->op != NULL && !message->acked && unacked == NULL) {
			unacked = message;
		}
	}

	/* a missing table is fine to delete, as long as nothing else was in the batch that
	 * the kernel then rolled back */
	if (n_failed > 0 && n_failed == n_missing_ok && n_failed == tx->messages->len - 2)
		return TRUE;
	if (failed != NULL) {
		g_autofree gchar *msg = vigil_nft_message_describe_error(failed);
		if (n_failed > 1) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(failed->errsv),
				    "%s (%u operations refused in all)",
				    msg,
				    n_failed);
		} else {
			g_set_error_literal(error,
					    G_IO_ERROR,
					    g_io_error_from_errno(failed->errsv),
					    msg);
		}
		return FALSE;
	}
	if (unacked != NULL) {
		what = vigil_nft_op_describe(unacked->op);
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_TIMED_OUT,
			    "%s: no answer from the kernel",
			    what);
		return FALSE;
	}
	return TRUE;
}

static VigilNftTransaction *
vigil_nft_mnl_run(VigilNftMnl *self,
		  const VigilNftPlan *plan,
		  VigilNftQueueKind queue_kind,
		  GError **error)
{
	g_autoptr(VigilNftTransaction) tx = NULL;
	g_autoptr(VigilNftnlBatch) batch = NULL;

	tx = vigil_nft_transaction_new(plan, queue_kind, self->seq);
	self->seq += tx->messages->len;
	batch = nftnl_batch_alloc(VIGIL_NFT_BATCH_PAGE_SIZE, MNL_SOCKET_BUFFER_SIZE);
	if (batch == NULL) {
		vigil_error_set_errno(error, errno, "failed to allocate an nftables batch");
		return NULL;
	}
	if (!vigil_nft_transaction_build(tx, batch, error))
		return NULL;
	if (!vigil_nft_transaction_talk(tx, batch, error))
		return NULL;
	return g_steal_pointer(&tx);
}

static gboolean
vigil_nft_plan_has_queue(const VigilNftPlan *plan)
{
	for (guint i = 0; i < vigil_nft_plan_get_n_ops(plan); i++) {
		const VigilNftOp *op = vigil_nft_plan_get_op(plan, i);
		if (op->kind == VIGIL_NFT_OP_ADD_RULE &&
		    op->verdict.kind == VIGIL_NFT_VERDICT_QUEUE)
			return TRUE;
	}
	return FALSE;
}

static gboolean
vigil_nft_mnl_apply(VigilNftBackend *backend, const VigilNftPlan *plan, GError **error)
{
	VigilNftMnl *self = VIGIL_NFT_MNL(backend);
	VigilNftQueueKind in_use = vigil_nft_backend_get_queue_kind_in_use(backend);
	VigilNftQueueKind kind = in_use;
	gboolean detect = FALSE;
	g_autoptr(VigilNftTransaction) tx = NULL;

	if (kind == VIGIL_NFT_QUEUE_KIND_AUTO)
		kind = vigil_nft_backend_get_queue_kind(backend);
	if (kind == VIGIL_NFT_QUEUE_KIND_AUTO) {
		kind = VIGIL_NFT_QUEUE_KIND_NATIVE;
		detect = vigil_nft_plan_has_queue(plan);
	}
	if (g_log_get_debug_enabled()) {
		g_autofree gchar *str = vigil_nft_plan_to_string(plan);
		g_debug("applying with the %s queue:\n%s",
			vigil_nft_queue_kind_to_string(kind),
			g_strchomp(str));
	}

	tx = vigil_nft_mnl_run(self, plan, kind, error);
	if (tx == NULL)
		return FALSE;
	/* the whole batch was rolled back, so it can be sent again with the other queue */
	if (detect && vigil_nft_transaction_lacks_expr(tx, "queue")) {
		g_debug("the kernel has no nft queue expression, trying the NFQUEUE target");
		kind = VIGIL_NFT_QUEUE_KIND_COMPAT;
		g_clear_pointer(&tx, vigil_nft_transaction_free);
		tx = vigil_nft_mnl_run(self, plan, kind, error);
		if (tx == NULL)
			return FALSE;
	}
	if (!vigil_nft_transaction_check(tx, error))
		return FALSE;

	if (in_use == VIGIL_NFT_QUEUE_KIND_AUTO && vigil_nft_plan_has_queue(plan)) {
		if (kind == VIGIL_NFT_QUEUE_KIND_NATIVE)
			g_message("using the nft queue expression");
		else if (detect)
			g_message("using the xtables NFQUEUE target through nft compat: "
				  "this kernel has no nft queue expression");
		else
			g_message("using the xtables NFQUEUE target through nft compat, as asked");
		vigil_nft_backend_set_queue_kind_in_use(backend, kind);
	}
	return TRUE;
}

static gboolean
vigil_nft_mnl_remove(VigilNftBackend *backend, GError **error)
{
	VigilNftMnl *self = VIGIL_NFT_MNL(backend);
	g_autoptr(VigilNftPlan) plan = vigil_nft_plan_new_remove();
	g_autoptr(VigilNftTransaction) tx = NULL;

	tx = vigil_nft_mnl_run(self, plan, VIGIL_NFT_QUEUE_KIND_NATIVE, error);
	if (tx == NULL)
		return FALSE;
	return vigil_nft_transaction_check(tx, error);
}

static void
vigil_nft_mnl_class_init(VigilNftMnlClass *klass)
{
	VigilNftBackendClass *backend_class = VIGIL_NFT_BACKEND_CLASS(klass);

	backend_class->apply = vigil_nft_mnl_apply;
	backend_class->remove = vigil_nft_mnl_remove;
}

static void
vigil_nft_mnl_init(VigilNftMnl *self)
{
	/* like nft: distinct sequence numbers across runs make stray answers easy to spot */
	self->seq = (guint32)time(NULL);
}

/**
 * vigil_nft_mnl_new:
 *
 * The queue implementation is detected on the first apply, unless the environment
 * variable `VIGIL_NFT_QUEUE` says `native` or `compat` (for tests).
 */
VigilNftBackend *
vigil_nft_mnl_new(void)
{
	const gchar *name = g_getenv("VIGIL_NFT_QUEUE");
	VigilNftQueueKind kind = VIGIL_NFT_QUEUE_KIND_AUTO;

	if (name != NULL) {
		kind = vigil_nft_queue_kind_from_string(name);
		if (kind == VIGIL_NFT_QUEUE_KIND_LAST) {
			g_warning("VIGIL_NFT_QUEUE=%s is not native, compat or auto; using auto",
				  name);
			kind = VIGIL_NFT_QUEUE_KIND_AUTO;
		}
	}
	return vigil_nft_mnl_new_with_queue_kind(kind);
}

VigilNftBackend *
vigil_nft_mnl_new_with_queue_kind(VigilNftQueueKind queue_kind)
{
	return g_object_new(VIGIL_TYPE_NFT_MNL, "queue-kind", queue_kind, NULL);
}
