/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <libmnl/libmnl.h>

G_BEGIN_DECLS

/*
 * What a netlink parser accepts of one attribute type: its libmnl data type and, for
 * MNL_TYPE_BINARY, the payload's length from min_len to max_len (equal for a fixed size).
 * A type the policy leaves MNL_TYPE_UNSPEC is skipped: newer kernels add attributes.
 */
typedef struct {
	enum mnl_attr_data_type type;
	guint16 min_len;
	guint16 max_len;
} VigilNlAttrPolicy;

/* where vigil_nl_attr_table_cb() puts each attribute it accepts: tb[type], 0..max */
typedef struct {
	const struct nlattr **tb;
	const VigilNlAttrPolicy *policy;
	guint max;
} VigilNlAttrTable;

int
vigil_nl_attr_table_cb(const struct nlattr *attr, void *data);

G_END_DECLS
