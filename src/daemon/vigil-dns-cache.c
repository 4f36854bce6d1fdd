/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilDnsCache"

#include "config.h"

#include <string.h>

#include "vigil-dns-cache.h"
#include "vigil-dns-parser.h"

/*
 * IP address -> names the resolver gave for it, newest first. Nothing runs on a timer:
 * expired names go when their address is looked up or written, and each insertion also
 * looks at the least recently used address and drops it when all its names expired.
 * Memory is bounded by the address count and by a total name count of twice that; names
 * are interned reference-counted strings, so a name on many addresses is stored once.
 */

#define USEC_PER_SEC	    G_USEC_PER_SEC
#define NAMES_PER_ADDRESS   VIGIL_DNS_CACHE_NAMES_PER_ADDRESS
#define EXPIRE_SCAN_PER_ADD 2

typedef struct {
	guint8 family;
	guint8 address[16];
} CacheKey;

typedef struct {
	gchar *name;  /* GRefString */
	gchar *alias; /* GRefString, nullable */
	gint64 expiry;
	guint64 serial;
	gint pid;
} CacheName;

typedef struct {
	CacheKey key;  /* first: the hash table looks entries up by a bare key */
	GList link;    /* in VigilDnsCache.lru, data points back here */
	GArray *names; /* of CacheName */
} CacheEntry;

struct _VigilDnsCache {
	GObject parent_instance;
	GHashTable *entries; /* CacheEntry -> itself */
	GQueue lru;	     /* of CacheEntry, most recently used at the head */
	guint max_addresses;
	guint max_names;
	guint n_names;
	guint64 serial;
	VigilDnsCacheClockFunc clock_func;
	gpointer clock_data;
};

G_DEFINE_FINAL_TYPE(VigilDnsCache, vigil_dns_cache, G_TYPE_OBJECT)

static guint
cache_key_hash(gconstpointer data)
{
	const CacheKey *key = data;
	guint hash = 2166136261u;

	/* FNV-1a over family and address */
	hash = (hash ^ key->family) * 16777619u;
	for (guint i = 0; i < sizeof(key->address); i++)
		hash = (hash ^ key->address[i]) * 16777619u;
	return hash;
}

static gboolean
cache_key_equal(gconstpointer a, gconstpointer b)
{
	const CacheKey *key_a = a;
	const CacheKey *key_b = b;

	return key_a->family == key_b->family &&
	       memcmp(key_a->address, key_b->address, sizeof(key_a->address)) == 0;
}

static void
cache_name_clear(CacheName *name)
{
	g_clear_pointer(&name->name, g_ref_string_release);
	g_clear_pointer(&name->alias, g_ref_string_release);
}

static void
cache_entry_free(CacheEntry *entry)
{
	g_array_unref(entry->names);
	g_free(entry);
}

static gboolean
cache_key_init(CacheKey *key, guint family, const guint8 *address)
{
	memset(key, 0, sizeof(*key));
	if (family == 4)
		memcpy(key->address, address, 4);
	else if (family == 6)
		memcpy(key->address, address, 16);
	else
		return FALSE;
	key->family = (guint8)family;
	return TRUE;
}

static gint64
vigil_dns_cache_now(VigilDnsCache *self)
{
	if (self->clock_func != NULL)
		return self->clock_func(self->clock_data);
	return g_get_monotonic_time();
}

static void
vigil_dns_cache_remove_name(VigilDnsCache *self, CacheEntry *entry, guint index)
{
	g_array_remove_index(entry->names, index);
	self->n_names--;
}

static void
vigil_dns_cache_remove_entry(VigilDnsCache *self, CacheEntry *entry)
{
	self->n_names -= entry->names->len;
	g_queue_unlink(&self->lru, &entry->link);
	g_hash_table_remove(self->entries, entry);
}

static void
vigil_dns_cache_expire_entry(VigilDnsCache *self, CacheEntry *entry, gint64 now)
{
	for (guint i = entry->names->len; i > 0; i--) {
		if (g_array_index(entry->names, CacheName, i - 1).expiry <= now)
			vigil_dns_cache_remove_name(self, entry, i - 1);
	}
}

static void
vigil_dns_cache_touch(VigilDnsCache *self, CacheEntry *entry)
{
	g_queue_unlink(&self->lru, &entry->link);
	g_queue_push_head_link(&self->lru, &entry->link);
}

/* drops expired addresses from the cold end, and then whatever the bounds require */
static void
vigil_dns_cache_trim(VigilDnsCache *self, gint64 now)
{
	for (guint i = 0; i < EXPIRE_SCAN_PER_ADD; i++) {
		GList *tail = g_queue_peek_tail_link(&self->lru);
		CacheEntry *entry;

		if (tail == NULL)
			break;
		entry = tail->data;
		vigil_dns_cache_expire_entry(self, entry, now);
		if (entry->names->len > 0)
			break;
		vigil_dns_cache_remove_entry(self, entry);
	}
	while (g_hash_table_size(self->entries) > self->max_addresses ||
	       self->n_names > self->max_names) {
		GList *tail = g_queue_peek_tail_link(&self->lru);

		if (tail == NULL)
			break;
		vigil_dns_cache_remove_entry(self, tail->data);
	}
}

void
vigil_dns_cache_add_name(VigilDnsCache *self,
			 guint family,
			 const guint8 *address,
			 const gchar *name,
			 const gchar *alias,
			 guint32 ttl,
			 gint pid)
{
	CacheKey key;
	CacheEntry *entry;
	CacheName *slot = NULL;
	gint64 now;

	g_return_if_fail(VIGIL_IS_DNS_CACHE(self));
	g_return_if_fail(address != NULL);
	g_return_if_fail(name != NULL && name[0] != '\0');

	if (!cache_key_init(&key, family, address))
		return;
	now = vigil_dns_cache_now(self);
	ttl = CLAMP(ttl, VIGIL_DNS_CACHE_TTL_MIN, VIGIL_DNS_CACHE_TTL_MAX);

	entry = g_hash_table_lookup(self->entries, &key);
	if (entry == NULL) {
		entry = g_new0(CacheEntry, 1);
		entry->key = key;
		entry->link.data = entry;
		entry->names = g_array_sized_new(FALSE, TRUE, sizeof(CacheName), 1);
		g_array_set_clear_func(entry->names, (GDestroyNotify)cache_name_clear);
		g_hash_table_add(self->entries, entry);
		g_queue_push_head_link(&self->lru, &entry->link);
	} else {
		vigil_dns_cache_expire_entry(self, entry, now);
		vigil_dns_cache_touch(self, entry);
	}

	for (guint i = 0; i < entry->names->len; i++) {
		CacheName *item = &g_array_index(entry->names, CacheName, i);

		if (item->pid == pid && g_strcmp0(item->name, name) == 0) {
			slot = item;
			break;
		}
	}
	if (slot == NULL) {
		CacheName item = {0};

		if (entry->names->len >= NAMES_PER_ADDRESS) {
			guint oldest = 0;

			for (guint i = 1; i < entry->names->len; i++) {
				if (g_array_index(entry->names, CacheName, i).serial <
				    g_array_index(entry->names, CacheName, oldest).serial)
					oldest = i;
			}
			vigil_dns_cache_remove_name(self, entry, oldest);
		}
		item.name = g_ref_string_new_intern(name);
		item.pid = pid;
		g_array_append_val(entry->names, item);
		self->n_names++;
		slot = &g_array_index(entry->names, CacheName, entry->names->len - 1);
	}
	g_clear_pointer(&slot->alias, g_ref_string_release);
	if (alias != NULL && alias[0] != '\0')
		slot->alias = g_ref_string_new_intern(alias);
	slot->expiry = now + (gint64)ttl * USEC_PER_SEC;
	slot->serial = ++self->serial;

	vigil_dns_cache_trim(self, now);
}

void
vigil_dns_cache_add_answers(VigilDnsCache *self, GPtrArray *answers, gint pid)
{
	g_return_if_fail(VIGIL_IS_DNS_CACHE(self));
	g_return_if_fail(answers != NULL);

	for (guint i = 0; i < answers->len; i++) {
		const VigilDnsAnswer *answer = g_ptr_array_index(answers, i);

		vigil_dns_cache_add_name(self,
					 answer->family,
					 answer->address,
					 answer->name,
					 answer->alias,
					 answer->ttl,
					 pid);
	}
}

/* the entry for @address with its expired names gone, or NULL */
static CacheEntry *
vigil_dns_cache_find(VigilDnsCache *self, guint family, const guint8 *address)
{
	CacheKey key;
	CacheEntry *entry;

	if (!cache_key_init(&key, family, address))
		return NULL;
	entry = g_hash_table_lookup(self->entries, &key);
	if (entry == NULL)
		return NULL;
	vigil_dns_cache_expire_entry(self, entry, vigil_dns_cache_now(self));
	if (entry->names->len == 0) {
		vigil_dns_cache_remove_entry(self, entry);
		return NULL;
	}
	vigil_dns_cache_touch(self, entry);
	return entry;
}

gchar *
vigil_dns_cache_lookup_name(VigilDnsCache *self, guint family, const guint8 *address, gint pid)
{
	CacheEntry *entry;
	const CacheName *newest = NULL;
	const CacheName *newest_same_pid = NULL;

	g_return_val_if_fail(VIGIL_IS_DNS_CACHE(self), NULL);
	g_return_val_if_fail(address != NULL, NULL);

	entry = vigil_dns_cache_find(self, family, address);
	if (entry == NULL)
		return NULL;
	for (guint i = 0; i < entry->names->len; i++) {
		const CacheName *item = &g_array_index(entry->names, CacheName, i);

		if (newest == NULL || item->serial > newest->serial)
			newest = item;
		if (pid != 0 && item->pid == pid &&
		    (newest_same_pid == NULL || item->serial > newest_same_pid->serial))
			newest_same_pid = item;
	}
	return g_strdup(newest_same_pid != NULL ? newest_same_pid->name : newest->name);
}

static gint
cache_name_compare_newest_first(gconstpointer a, gconstpointer b)
{
	const CacheName *name_a = *(const CacheName *const *)a;
	const CacheName *name_b = *(const CacheName *const *)b;

	return name_a->serial < name_b->serial ? 1 : -1;
}

static void
add_unique(GPtrArray *names, const gchar *name)
{
	if (name == NULL || g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
		return;
	g_ptr_array_add(names, g_strdup(name));
}

GPtrArray *
vigil_dns_cache_lookup_names(VigilDnsCache *self, guint family, const guint8 *address)
{
	CacheEntry *entry;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) sorted = NULL;

	g_return_val_if_fail(VIGIL_IS_DNS_CACHE(self), NULL);
	g_return_val_if_fail(address != NULL, NULL);

	entry = vigil_dns_cache_find(self, family, address);
	if (entry == NULL)
		return g_steal_pointer(&names);
	sorted = g_ptr_array_sized_new(entry->names->len);
	for (guint i = 0; i < entry->names->len; i++)
		g_ptr_array_add(sorted, &g_array_index(entry->names, CacheName, i));
	g_ptr_array_sort(sorted, cache_name_compare_newest_first);
	for (guint i = 0; i < sorted->len; i++) {
		const CacheName *item = g_ptr_array_index(sorted, i);

		add_unique(names, item->name);
		add_unique(names, item->alias);
	}
	return g_steal_pointer(&names);
}

guint
vigil_dns_cache_get_size(VigilDnsCache *self)
{
	g_return_val_if_fail(VIGIL_IS_DNS_CACHE(self), 0);
	return g_hash_table_size(self->entries);
}

guint
vigil_dns_cache_get_n_names(VigilDnsCache *self)
{
	g_return_val_if_fail(VIGIL_IS_DNS_CACHE(self), 0);
	return self->n_names;
}

void
vigil_dns_cache_set_clock_func(VigilDnsCache *self, VigilDnsCacheClockFunc func, gpointer user_data)
{
	g_return_if_fail(VIGIL_IS_DNS_CACHE(self));
	self->clock_func = func;
	self->clock_data = user_data;
}

static void
vigil_dns_cache_finalize(GObject *object)
{
	VigilDnsCache *self = VIGIL_DNS_CACHE(object);

	g_hash_table_unref(self->entries);
	G_OBJECT_CLASS(vigil_dns_cache_parent_class)->finalize(object);
}

static void
vigil_dns_cache_class_init(VigilDnsCacheClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vigil_dns_cache_finalize;
}

static void
vigil_dns_cache_init(VigilDnsCache *self)
{
	self->entries = g_hash_table_new_full(cache_key_hash,
					      cache_key_equal,
					      (GDestroyNotify)cache_entry_free,
					      NULL);
	g_queue_init(&self->lru);
	self->max_addresses = VIGIL_DNS_CACHE_ADDRESSES_MAX;
	self->max_names = self->max_addresses * 2;
}

VigilDnsCache *
vigil_dns_cache_new(guint max_addresses)
{
	VigilDnsCache *self = g_object_new(VIGIL_TYPE_DNS_CACHE, NULL);

	if (max_addresses > 0) {
		self->max_addresses = max_addresses;
		self->max_names = max_addresses * 2;
	}
	return self;
}
