/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * TTLs are clamped to this range. The lower bound keeps a name on an address for a minute
 * even when a CDN answers with a TTL of a few seconds: applications connect some time after
 * they resolve (and reuse resolver caches), and a connection without a name matches no host
 * rule. The upper bound stops a huge TTL from pinning a stale name for days.
 */
#define VIGIL_DNS_CACHE_TTL_MIN 60
#define VIGIL_DNS_CACHE_TTL_MAX (24 * 60 * 60)
/* default bound on addresses; the least recently used address goes first */
#define VIGIL_DNS_CACHE_ADDRESSES_MAX 65536
/* names kept per address (shared CDN and hosting addresses answer for many names) */
#define VIGIL_DNS_CACHE_NAMES_PER_ADDRESS 8

#define VIGIL_TYPE_DNS_CACHE (vigil_dns_cache_get_type())
G_DECLARE_FINAL_TYPE(VigilDnsCache, vigil_dns_cache, VIGIL, DNS_CACHE, GObject)

/* returns monotonic microseconds, like g_get_monotonic_time() */
typedef gint64 (*VigilDnsCacheClockFunc)(gpointer user_data);

VigilDnsCache *
vigil_dns_cache_new(guint max_addresses);
void
vigil_dns_cache_set_clock_func(VigilDnsCache *self,
			       VigilDnsCacheClockFunc func,
			       gpointer user_data);
void
vigil_dns_cache_add_name(VigilDnsCache *self,
			 guint family,
			 const guint8 *address,
			 const gchar *name,
			 const gchar *alias,
			 guint32 ttl,
			 gint pid);
void
vigil_dns_cache_add_answers(VigilDnsCache *self, GPtrArray *answers, gint pid);
gchar *
vigil_dns_cache_lookup_name(VigilDnsCache *self, guint family, const guint8 *address, gint pid);
GPtrArray *
vigil_dns_cache_lookup_names(VigilDnsCache *self, guint family, const guint8 *address);
guint
vigil_dns_cache_get_size(VigilDnsCache *self);
guint
vigil_dns_cache_get_n_names(VigilDnsCache *self);

G_END_DECLS
