/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the longest name in text form: 255 bytes on the wire make at most 253 characters */
#define VIGIL_DNS_NAME_MAX 253
/* how many CNAME hops from a question name to an address record are followed */
#define VIGIL_DNS_CHAIN_MAX 16

/*
 * One address from a DNS response, tied to the name the client asked for.
 *
 * @name is the question name (lowercase, no trailing dot). @alias is the owner name of the
 * A/AAAA record when a CNAME chain led from the question to it, NULL when the record answers
 * the question name directly. @ttl is the smallest TTL along that chain, in seconds.
 * @address is in network order, an IPv4 address in the first 4 bytes and the rest zero.
 * @id is the id of the message the answer came in.
 */
typedef struct {
	guint8 family; /* 4 or 6 */
	guint8 address[16];
	guint16 id;
	guint32 ttl;
	gchar *name;
	gchar *alias;
} VigilDnsAnswer;

void
vigil_dns_answer_free(VigilDnsAnswer *answer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDnsAnswer, vigil_dns_answer_free)

GPtrArray *
vigil_dns_parse_message(const guint8 *data, gsize len, GError **error);
GPtrArray *
vigil_dns_parse_tcp(const guint8 *data, gsize len, GError **error);
gchar *
vigil_dns_parse_query(const guint8 *data, gsize len, guint16 *id, GError **error);

G_END_DECLS
