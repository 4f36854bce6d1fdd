/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilDnsParser"

#include "config.h"

#include <string.h>

#include "vigil-dns-parser.h"
#include "vigil-error.h"

/*
 * A defensive parser for DNS responses as a capture sees them: the input is untrusted and
 * may be cut short by the snap length, so every read is bounded by @len, compression
 * pointers must go strictly backwards (before every position already visited, which rules
 * out loops) and are followed a bounded number of times, and counts are only upper bounds.
 * Records cut off at the end are dropped while the complete ones before them are kept.
 */

#define HEADER_LEN     12
#define RR_FIXED_LEN   10
#define NAME_WIRE_MAX  255
#define LABEL_MAX      63
#define POINTER_MAX    16
#define QUESTIONS_MAX  4
#define CNAMES_MAX     64
#define ADDRESSES_MAX  256
#define RECORDS_MAX    1024
#define TTL_SIGN_BIT   0x80000000u
#define FLAG_QR	       0x8000
#define FLAG_OPCODE    0x7800
#define FLAG_RCODE     0x000f
#define TYPE_A	       1
#define TYPE_CNAME     5
#define TYPE_AAAA      28
#define CLASS_IN       1
#define TCP_LENGTH_LEN 2

typedef enum {
	NAME_OK,
	NAME_REJECTED, /* well-formed, but with bytes we do not accept in a host name */
	NAME_MALFORMED,
} NameResult;

typedef struct {
	gchar *owner;
	gchar *target;
	guint32 ttl;
} Cname;

typedef struct {
	gchar *owner;
	guint8 family;
	guint8 address[16];
	guint32 ttl;
} Address;

typedef struct {
	gchar *questions[QUESTIONS_MAX];
	guint n_questions;
	Cname cnames[CNAMES_MAX];
	guint n_cnames;
	GArray *addresses; /* of Address */
} Message;

static inline guint16
read_be16(const guint8 *data)
{
	return (guint16)(((guint)data[0] << 8) | data[1]);
}

static inline guint32
read_be32(const guint8 *data)
{
	return ((guint32)data[0] << 24) | ((guint32)data[1] << 16) | ((guint32)data[2] << 8) |
	       data[3];
}

static gboolean
name_byte_is_valid(guint8 c)
{
	/* printable ASCII without space; a dot inside a label would change the name's meaning */
	return c > 0x20 && c < 0x7f && c != '.';
}

/*
 * Reads the name at @offset into @out (NUL terminated, lowercase, dotted, no trailing dot;
 * the root name is ""). @next is set to the offset just after the name where it starts,
 * i.e. after its first compression pointer. Malformed names leave @out undefined.
 */
static NameResult
read_name(const guint8 *data, gsize len, gsize offset, gchar *out, gsize *next)
{
	gsize pos = offset;
	gsize lowest = offset;
	gsize wire_len = 0;
	gsize out_len = 0;
	guint pointers = 0;
	gboolean have_next = FALSE;
	gboolean rejected = FALSE;

	for (;;) {
		guint8 b;

		if (pos >= len)
			return NAME_MALFORMED;
		b = data[pos];
		if ((b & 0xc0) == 0xc0) {
			gsize target;

			if (pos + 1 >= len)
				return NAME_MALFORMED;
			target = ((gsize)(b & 0x3f) << 8) | data[pos + 1];
			/* strictly before everything visited so far: no loops, no forward refs */
			if (target >= lowest || target < HEADER_LEN)
				return NAME_MALFORMED;
			if (++pointers > POINTER_MAX)
				return NAME_MALFORMED;
			if (!have_next) {
				*next = pos + 2;
				have_next = TRUE;
			}
			pos = target;
			lowest = target;
			continue;
		}
		if ((b & 0xc0) != 0) {
			/* the obsolete extended and binary label types */
			return NAME_MALFORMED;
		}
		if (b == 0) {
			wire_len += 1;
			if (wire_len > NAME_WIRE_MAX)
				return NAME_MALFORMED;
			if (!have_next)
				*next = pos + 1;
			break;
		}
		if (b > LABEL_MAX || pos + 1 + b > len)
			return NAME_MALFORMED;
		wire_len += 1 + (gsize)b;
		/* the terminating zero still has to fit */
		if (wire_len + 1 > NAME_WIRE_MAX)
			return NAME_MALFORMED;
		if (out_len > 0)
			out[out_len++] = '.';
		for (guint i = 0; i < b; i++) {
			guint8 c = data[pos + 1 + i];

			if (!name_byte_is_valid(c))
				rejected = TRUE;
			out[out_len++] = g_ascii_tolower((gchar)c);
		}
		pos += 1 + (gsize)b;
	}
	out[out_len] = '\0';
	return rejected ? NAME_REJECTED : NAME_OK;
}

void
vigil_dns_answer_free(VigilDnsAnswer *answer)
{
	if (answer == NULL)
		return;
	g_free(answer->name);
	g_free(answer->alias);
	g_free(answer);
}

static void
message_clear(Message *message)
{
	for (guint i = 0; i < message->n_questions; i++)
		g_free(message->questions[i]);
	for (guint i = 0; i < message->n_cnames; i++) {
		g_free(message->cnames[i].owner);
		g_free(message->cnames[i].target);
	}
	if (message->addresses != NULL) {
		for (guint i = 0; i < message->addresses->len; i++)
			g_free(g_array_index(message->addresses, Address, i).owner);
		g_array_unref(message->addresses);
	}
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Message, message_clear)

static const Cname *
message_find_cname(const Message *message, const gchar *owner)
{
	for (guint i = 0; i < message->n_cnames; i++) {
		if (g_strcmp0(message->cnames[i].owner, owner) == 0)
			return &message->cnames[i];
	}
	return NULL;
}

/* one resource record of the answer section; FALSE when the message ends inside it */
static gboolean
parse_record(Message *message, const guint8 *data, gsize len, gsize *offset)
{
	gchar owner[NAME_WIRE_MAX + 1];
	gchar target[NAME_WIRE_MAX + 1];
	NameResult owner_result;
	gsize pos = *offset;
	gsize rdata;
	gsize rdata_end;
	gsize target_end = 0;
	guint16 type;
	guint16 klass;
	guint16 rdlength;
	guint32 ttl;

	owner_result = read_name(data, len, pos, owner, &pos);
	if (owner_result == NAME_MALFORMED)
		return FALSE;
	if (len - pos < RR_FIXED_LEN)
		return FALSE;
	type = read_be16(data + pos);
	klass = read_be16(data + pos + 2);
	ttl = read_be32(data + pos + 4);
	rdlength = read_be16(data + pos + 8);
	rdata = pos + RR_FIXED_LEN;
	if (len - rdata < rdlength)
		return FALSE;
	rdata_end = rdata + rdlength;
	*offset = rdata_end;

	/* RFC 2181 8: a TTL with the top bit set is taken as zero */
	if ((ttl & TTL_SIGN_BIT) != 0)
		ttl = 0;
	if (klass != CLASS_IN || owner_result != NAME_OK || owner[0] == '\0')
		return TRUE;

	if ((type == TYPE_A && rdlength == 4) || (type == TYPE_AAAA && rdlength == 16)) {
		Address address = {0};

		if (message->addresses->len >= ADDRESSES_MAX)
			return TRUE;
		address.family = type == TYPE_A ? 4 : 6;
		memcpy(address.address, data + rdata, rdlength);
		address.ttl = ttl;
		address.owner = g_strdup(owner);
		g_array_append_val(message->addresses, address);
		return TRUE;
	}
	if (type == TYPE_CNAME) {
		/* the target may be compressed, but its in-place part must stay inside rdata */
		if (read_name(data, rdata_end, rdata, target, &target_end) != NAME_OK)
			return TRUE;
		if (target_end != rdata_end || target[0] == '\0')
			return TRUE;
		if (message->n_cnames >= CNAMES_MAX || message_find_cname(message, owner) != NULL)
			return TRUE;
		message->cnames[message->n_cnames].owner = g_strdup(owner);
		message->cnames[message->n_cnames].target = g_strdup(target);
		message->cnames[message->n_cnames].ttl = ttl;
		message->n_cnames++;
	}
	return TRUE;
}

/* follows the CNAME chain from @question to @owner; FALSE when it does not get there */
static gboolean
message_resolve_chain(const Message *message,
		      const gchar *question,
		      const gchar *owner,
		      guint32 *ttl)
{
	const gchar *name = question;
	guint32 chain_ttl = G_MAXUINT32;

	for (guint hops = 0; hops <= VIGIL_DNS_CHAIN_MAX; hops++) {
		const Cname *cname;

		if (g_strcmp0(name, owner) == 0) {
			*ttl = MIN(*ttl, chain_ttl);
			return TRUE;
		}
		cname = message_find_cname(message, name);
		if (cname == NULL)
			return FALSE;
		chain_ttl = MIN(chain_ttl, cname->ttl);
		name = cname->target;
	}
	return FALSE;
}

static gboolean
parse_questions(Message *message,
		const guint8 *data,
		gsize len,
		guint qdcount,
		gsize *offset,
		GError **error)
{
	for (guint i = 0; i < qdcount; i++) {
		gchar name[NAME_WIRE_MAX + 1];
		NameResult result;

		result = read_name(data, len, *offset, name, offset);
		if (result == NAME_MALFORMED || len - *offset < 4) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "question %u is malformed or truncated",
				    i);
			return FALSE;
		}
		if (result == NAME_OK && name[0] != '\0' &&
		    read_be16(data + *offset + 2) == CLASS_IN)
			message->questions[message->n_questions++] = g_strdup(name);
		*offset += 4;
	}
	if (message->n_questions == 0) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "no usable question");
		return FALSE;
	}
	return TRUE;
}

GPtrArray *
vigil_dns_parse_message(const guint8 *data, gsize len, GError **error)
{
	g_auto(Message) message = {0};
	g_autoptr(GPtrArray) answers = NULL;
	gsize offset = HEADER_LEN;
	guint16 flags;
	guint qdcount;
	guint ancount;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (len < HEADER_LEN) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "message of %" G_GSIZE_FORMAT " bytes is shorter than a header",
			    len);
		return NULL;
	}
	flags = read_be16(data + 2);
	if ((flags & FLAG_QR) == 0 || (flags & FLAG_OPCODE) != 0 || (flags & FLAG_RCODE) != 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "not a successful query response (flags 0x%04x)",
			    flags);
		return NULL;
	}
	qdcount = read_be16(data + 4);
	ancount = read_be16(data + 6);
	if (qdcount == 0 || qdcount > QUESTIONS_MAX) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "unsupported question count %u",
			    qdcount);
		return NULL;
	}
	if (!parse_questions(&message, data, len, qdcount, &offset, error))
		return NULL;

	/* the counts only bound the loop: a record cut short ends it */
	message.addresses = g_array_new(FALSE, FALSE, sizeof(Address));
	for (guint i = 0; i < MIN(ancount, RECORDS_MAX); i++) {
		if (!parse_record(&message, data, len, &offset))
			break;
	}

	answers = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_dns_answer_free);
	for (guint i = 0; i < message.addresses->len; i++) {
		const Address *address = &g_array_index(message.addresses, Address, i);

		for (guint q = 0; q < message.n_questions; q++) {
			VigilDnsAnswer *answer;
			guint32 ttl = address->ttl;

			if (!message_resolve_chain(&message,
						   message.questions[q],
						   address->owner,
						   &ttl))
				continue;
			answer = g_new0(VigilDnsAnswer, 1);
			answer->family = address->family;
			memcpy(answer->address, address->address, sizeof(answer->address));
			answer->id = read_be16(data);
			answer->ttl = ttl;
			answer->name = g_strdup(message.questions[q]);
			if (g_strcmp0(message.questions[q], address->owner) != 0)
				answer->alias = g_strdup(address->owner);
			g_ptr_array_add(answers, answer);
			break;
		}
	}
	return g_steal_pointer(&answers);
}

/*
 * The first question of a standard query, lowercase, and the message id: what the capture
 * remembers so that it takes only answers to questions it saw asked.
 */
gchar *
vigil_dns_parse_query(const guint8 *data, gsize len, guint16 *id, GError **error)
{
	gchar name[NAME_WIRE_MAX + 1];
	gsize offset = 0;
	guint16 flags;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(id != NULL, NULL);

	if (len < HEADER_LEN) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "query shorter than a header");
		return NULL;
	}
	flags = read_be16(data + 2);
	if ((flags & FLAG_QR) != 0 || (flags & FLAG_OPCODE) != 0 || read_be16(data + 4) == 0) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "not a standard query (flags 0x%04x)",
			    flags);
		return NULL;
	}
	if (read_name(data, len, HEADER_LEN, name, &offset) != NAME_OK || name[0] == '\0' ||
	    len - offset < 4) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "query without a usable question");
		return NULL;
	}
	*id = read_be16(data);
	return g_strdup(name);
}

GPtrArray *
vigil_dns_parse_tcp(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(GPtrArray) answers = NULL;
	gsize offset = 0;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	/* one segment may carry several length-prefixed messages; the last may be cut short */
	while (len - offset >= TCP_LENGTH_LEN) {
		g_autoptr(GPtrArray) part = NULL;
		g_autoptr(GError) error_local = NULL;
		gsize message_len = read_be16(data + offset);

		offset += TCP_LENGTH_LEN;
		part = vigil_dns_parse_message(data + offset,
					       MIN(message_len, len - offset),
					       &error_local);
		if (part == NULL) {
			if (answers == NULL) {
				g_propagate_error(error, g_steal_pointer(&error_local));
				return NULL;
			}
			break;
		}
		if (answers == NULL)
			answers = g_steal_pointer(&part);
		else
			g_ptr_array_extend_and_steal(answers, g_steal_pointer(&part));
		if (message_len >= len - offset)
			break;
		offset += message_len;
	}
	if (answers == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_ARGUMENT,
				    "segment too short for a length prefix");
		return NULL;
	}
	return g_steal_pointer(&answers);
}
