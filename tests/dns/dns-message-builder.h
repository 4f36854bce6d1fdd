/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

/* hand-built DNS messages for the parser tests, the fuzz seeds and the capture tests */

#define DNS_MESSAGE_MAX	    4096
#define DNS_TYPE_A	    1
#define DNS_TYPE_CNAME	    5
#define DNS_TYPE_AAAA	    28
#define DNS_CLASS_IN	    1
#define DNS_FLAGS_REPLY	    0x8180
#define DNS_NAME_AT(offset) (0xc000 | (offset))

typedef struct {
	guint8 data[DNS_MESSAGE_MAX];
	gsize len;
} DnsMessage;

static inline void
dns_put_u8(DnsMessage *m, guint value)
{
	g_assert_cmpuint(m->len + 1, <=, DNS_MESSAGE_MAX);
	m->data[m->len++] = (guint8)value;
}

static inline void
dns_put_u16(DnsMessage *m, guint value)
{
	dns_put_u8(m, value >> 8);
	dns_put_u8(m, value);
}

static inline void
dns_put_u32(DnsMessage *m, guint32 value)
{
	dns_put_u16(m, value >> 16);
	dns_put_u16(m, value & 0xffff);
}

static inline void
dns_put_bytes(DnsMessage *m, const void *data, gsize len)
{
	g_assert_cmpuint(m->len + len, <=, DNS_MESSAGE_MAX);
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

/* labels of @name, then a pointer to @pointer when it is not 0, else the root label */
static inline gsize
dns_put_name_ptr(DnsMessage *m, const gchar *name, guint pointer)
{
	gsize start = m->len;
	g_auto(GStrv) labels = g_strsplit(name, ".", -1);

	for (guint i = 0; name[0] != '\0' && labels[i] != NULL; i++) {
		dns_put_u8(m, (guint)strlen(labels[i]));
		dns_put_bytes(m, labels[i], strlen(labels[i]));
	}
	if (pointer != 0)
		dns_put_u16(m, DNS_NAME_AT(pointer));
	else
		dns_put_u8(m, 0);
	return start;
}

static inline gsize
dns_put_name(DnsMessage *m, const gchar *name)
{
	return dns_put_name_ptr(m, name, 0);
}

static inline void
dns_put_header(DnsMessage *m, guint flags, guint qd, guint an, guint ns, guint ar)
{
	m->len = 0;
	dns_put_u16(m, 0x1234);
	dns_put_u16(m, flags);
	dns_put_u16(m, qd);
	dns_put_u16(m, an);
	dns_put_u16(m, ns);
	dns_put_u16(m, ar);
}

static inline void
dns_set_u16(DnsMessage *m, gsize offset, guint value)
{
	m->data[offset] = (guint8)(value >> 8);
	m->data[offset + 1] = (guint8)value;
}

/* the question; returns the offset of its name for compression pointers */
static inline gsize
dns_put_question(DnsMessage *m, const gchar *name, guint type)
{
	gsize offset = dns_put_name(m, name);

	dns_put_u16(m, type);
	dns_put_u16(m, DNS_CLASS_IN);
	return offset;
}

static inline void
dns_put_rr_header(DnsMessage *m, guint type, guint klass, guint32 ttl, guint rdlength)
{
	dns_put_u16(m, type);
	dns_put_u16(m, klass);
	dns_put_u32(m, ttl);
	dns_put_u16(m, rdlength);
}

/* an A record whose owner is a pointer to @owner */
static inline void
dns_put_a_at(DnsMessage *m, guint owner, guint32 ttl, const guint8 address[4])
{
	dns_put_u16(m, DNS_NAME_AT(owner));
	dns_put_rr_header(m, DNS_TYPE_A, DNS_CLASS_IN, ttl, 4);
	dns_put_bytes(m, address, 4);
}

static inline void
dns_put_aaaa_at(DnsMessage *m, guint owner, guint32 ttl, const guint8 address[16])
{
	dns_put_u16(m, DNS_NAME_AT(owner));
	dns_put_rr_header(m, DNS_TYPE_AAAA, DNS_CLASS_IN, ttl, 16);
	dns_put_bytes(m, address, 16);
}

/* a CNAME from a pointer to @owner to @target (written in full); returns the target offset */
static inline gsize
dns_put_cname_at(DnsMessage *m, guint owner, guint32 ttl, const gchar *target)
{
	gsize rdlength_at;
	gsize target_at;

	dns_put_u16(m, DNS_NAME_AT(owner));
	dns_put_rr_header(m, DNS_TYPE_CNAME, DNS_CLASS_IN, ttl, 0);
	rdlength_at = m->len - 2;
	target_at = dns_put_name(m, target);
	dns_set_u16(m, rdlength_at, (guint)(m->len - target_at));
	return target_at;
}

/* the message of the capture tests: www.example.org -> CNAME edge.example.net -> A, AAAA */
static inline void
dns_build_cname_response(DnsMessage *m, guint qtype)
{
	static const guint8 a[4] = {198, 18, 0, 2};
	static const guint8 aaaa[16] = {0xfd, 0, 0, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	gsize question;
	gsize target;

	dns_put_header(m, DNS_FLAGS_REPLY, 1, 2, 0, 0);
	question = dns_put_question(m, "www.example.org", qtype);
	target = dns_put_cname_at(m, (guint)question, 600, "edge.example.net");
	if (qtype == DNS_TYPE_AAAA)
		dns_put_aaaa_at(m, (guint)target, 300, aaaa);
	else
		dns_put_a_at(m, (guint)target, 300, a);
}

G_END_DECLS
