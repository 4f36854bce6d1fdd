/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "vigil-nl-attr.h"

/**
 * vigil_nl_attr_table_cb:
 * @data: a #VigilNlAttrTable
 *
 * The mnl_attr_parse() callback shared by the netlink parsers: keeps the attributes the
 * table's policy names, validated, and skips the others. An attribute of the wrong type
 * or length stops the parse with MNL_CB_ERROR.
 */
int
vigil_nl_attr_table_cb(const struct nlattr *attr, void *data)
{
	VigilNlAttrTable *table = data;
	guint type = mnl_attr_get_type(attr);
	const VigilNlAttrPolicy *policy;

	if (type > table->max)
		return MNL_CB_OK;
	policy = &table->policy[type];
	if (policy->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, policy->type) < 0)
		return MNL_CB_ERROR;
	if (policy->type == MNL_TYPE_BINARY && (mnl_attr_get_payload_len(attr) < policy->min_len ||
						mnl_attr_get_payload_len(attr) > policy->max_len))
		return MNL_CB_ERROR;
	table->tb[type] = attr;
	return MNL_CB_OK;
}
