/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilRuleSet"

#include "config.h"

#include <string.h>

#include "vigil-error.h"
#include "vigil-rule-set.h"

/*
 * Precedence: the most specific matching rule wins, compared field by field in this order.
 *
 *  1. who: a specific app (exe, app id or unit) scores 4, +2 when it also pins a sha256,
 *     +1 when it also pins a user; an any-app rule scores 1 with a user, else 0.
 *  2. destination: an exact host or a full-length address (/32, /128) beats `*.domain`
 *     (which matches the domain itself and every subdomain), which beats a shorter prefix,
 *     which beats any destination; among domains the longer suffix (more labels) wins,
 *     among prefixes the longer prefix.
 *  3. port: an exact port beats a range, a narrower range a wider one, any port is last.
 *  4. a protocol beats any protocol; then a direction beats any direction.
 *  5. deny beats reject beats allow.
 *  6. the older rule: the smaller created time, then the smaller id.
 *
 * Items 1 to 5 are packed into one integer per rule (the score, higher wins) when the rule
 * is indexed, so comparing two candidates is one integer comparison, and item 6 only
 * breaks exact ties. Once, process and time-limited rules follow the same order.
 *
 * The index: rules are first grouped by who they name (one bucket per exe, app id and
 * unit, and one for any app), so a query looks in at most four buckets. In a bucket rules
 * sit in slots by destination: a table of exact hosts, a table of domains (looked up with
 * every label suffix of the query host), a table of prefixes keyed by (family, length,
 * masked address) probed once per prefix length present, and one slot for any
 * destination. In a slot, exact-port rules are in a table by port and the others in one
 * list; every list is kept sorted best first, so the first rule that matches is the best
 * of its list and a list whose first rule cannot beat the best so far is skipped. Disabled
 * rules are not indexed. A lookup does not allocate.
 */

#define VIGIL_RULE_SCORE_ACTION_SHIFT	 0
#define VIGIL_RULE_SCORE_DIRECTION_SHIFT 2
#define VIGIL_RULE_SCORE_PROTOCOL_SHIFT	 3
#define VIGIL_RULE_SCORE_PORT_SHIFT	 4  /* 17 bits: 0 any, 1..65536 by narrowness */
#define VIGIL_RULE_SCORE_DEST_SHIFT	 21 /* 10 bits */
#define VIGIL_RULE_SCORE_WHO_SHIFT	 31 /* 3 bits */

#define VIGIL_RULE_DEST_ANY	      0
#define VIGIL_RULE_DEST_PREFIX(len)   (1 + (len)) /* 1..128 */
#define VIGIL_RULE_DEST_DOMAIN(count) (256 + (count))
#define VIGIL_RULE_DEST_EXACT	      512

#define VIGIL_RULE_WHO_APP    4
#define VIGIL_RULE_WHO_SHA256 2
#define VIGIL_RULE_WHO_USER   1

#define VIGIL_RULE_HOST_MAX 253

typedef enum {
	VIGIL_RULE_SLOT_HOST,
	VIGIL_RULE_SLOT_DOMAIN,
	VIGIL_RULE_SLOT_CIDR,
	VIGIL_RULE_SLOT_ANY,
} VigilRuleSlotKind;

typedef enum {
	VIGIL_RULE_WHO_KIND_EXE,
	VIGIL_RULE_WHO_KIND_APP_ID,
	VIGIL_RULE_WHO_KIND_UNIT,
	VIGIL_RULE_WHO_KIND_ANY,
} VigilRuleWhoKind;

typedef struct {
	guint8 family;
	guint8 prefix;
	guint8 addr[16];
} VigilRuleCidrKey;

typedef struct {
	guint8 prefix;
	guint count;
} VigilRulePrefixCount;

typedef struct _VigilRuleBucket VigilRuleBucket;
typedef struct _VigilRuleSlot VigilRuleSlot;

typedef struct {
	VigilRule *rule;
	gchar *id;
	gchar *sha256;
	gchar *boot_id;
	guint64 score;
	gint64 created;
	gint64 expires;
	guint64 pid_start;
	guint32 pid;
	guint32 uid;
	guint16 port_min;
	guint16 port_max;
	guint8 protocol;
	guint8 direction;
	guint8 lifetime;
	gboolean has_user;
	gboolean has_port;
	GList link;	     /* in VigilRuleSet.order */
	VigilRuleSlot *slot; /* NULL when not indexed */
	GPtrArray *list;     /* of VigilRuleEntry, the sorted list holding it */
} VigilRuleEntry;

struct _VigilRuleSlot {
	VigilRuleBucket *bucket;
	VigilRuleSlotKind kind;
	gchar *name; /* host, or domain without the "*." */
	VigilRuleCidrKey cidr;
	GPtrArray *general; /* of VigilRuleEntry: any port or a range, best first */
	GHashTable *ports;  /* port + 1 -> GPtrArray of VigilRuleEntry, best first */
	guint n_entries;
};

struct _VigilRuleBucket {
	VigilRuleWhoKind kind;
	gchar *key;	     /* the exe, app id or unit; NULL for any app */
	GHashTable *hosts;   /* host -> VigilRuleSlot */
	GHashTable *domains; /* domain -> VigilRuleSlot */
	GHashTable *cidrs;   /* VigilRuleCidrKey -> VigilRuleSlot */
	GArray *prefixes[2]; /* of VigilRulePrefixCount for IPv4, IPv6; longest first */
	VigilRuleSlot *any;  /* any destination */
	guint n_entries;
};

struct _VigilRuleSet {
	GObject parent_instance;
	gchar *boot_id;
	GQueue order;		/* of VigilRuleEntry, in insertion order */
	GHashTable *by_id;	/* id -> VigilRuleEntry */
	GHashTable *buckets[3]; /* exe, app id, unit -> VigilRuleBucket */
	VigilRuleBucket *any;	/* any app */
	GHashTable *expiring;	/* set of VigilRuleEntry with an until or reboot lifetime */
	GHashTable *by_pid;	/* pid -> GPtrArray of VigilRuleEntry with a process lifetime */
};

G_DEFINE_FINAL_TYPE(VigilRuleSet, vigil_rule_set, G_TYPE_OBJECT)

/* precedence */

static guint64
vigil_rule_entry_compute_score(VigilRule *rule)
{
	guint64 who = 0;
	guint64 dest = VIGIL_RULE_DEST_ANY;
	guint64 port = 0;
	guint64 action = 0;

	if (vigil_rule_get_exe(rule) != NULL || vigil_rule_get_app_id(rule) != NULL ||
	    vigil_rule_get_unit(rule) != NULL)
		who += VIGIL_RULE_WHO_APP;
	if (vigil_rule_get_sha256(rule) != NULL)
		who += VIGIL_RULE_WHO_SHA256;
	if (vigil_rule_has_user(rule))
		who += VIGIL_RULE_WHO_USER;

	if (vigil_rule_get_host(rule) != NULL) {
		const gchar *host = vigil_rule_get_host(rule);
		if (vigil_rule_host_is_domain(rule)) {
			guint labels = 1;
			for (const gchar *p = host + 2; *p != '\0'; p++)
				labels += *p == '.';
			dest = VIGIL_RULE_DEST_DOMAIN(labels);
		} else {
			dest = VIGIL_RULE_DEST_EXACT;
		}
	} else if (vigil_rule_get_cidr(rule) != NULL) {
		guint8 prefix = vigil_rule_get_cidr_prefix(rule);
		guint8 full = vigil_rule_get_cidr_family(rule) == 4 ? 32 : 128;
		dest = prefix == full ? VIGIL_RULE_DEST_EXACT : VIGIL_RULE_DEST_PREFIX(prefix);
	}

	if (vigil_rule_has_port(rule))
		port =
		    65536 - (guint)(vigil_rule_get_port_max(rule) - vigil_rule_get_port_min(rule));

	if (vigil_rule_get_action(rule) == VIGIL_ACTION_DENY)
		action = 2;
	else if (vigil_rule_get_action(rule) == VIGIL_ACTION_REJECT)
		action = 1;

	return (who << VIGIL_RULE_SCORE_WHO_SHIFT) | (dest << VIGIL_RULE_SCORE_DEST_SHIFT) |
	       (port << VIGIL_RULE_SCORE_PORT_SHIFT) |
	       ((guint64)(vigil_rule_get_protocol(rule) != 0) << VIGIL_RULE_SCORE_PROTOCOL_SHIFT) |
	       ((guint64)(vigil_rule_get_direction(rule) != VIGIL_DIRECTION_ANY)
		<< VIGIL_RULE_SCORE_DIRECTION_SHIFT) |
	       (action << VIGIL_RULE_SCORE_ACTION_SHIFT);
}

/* negative when @a takes precedence over @b */
static inline gint
vigil_rule_entry_compare(const VigilRuleEntry *a, const VigilRuleEntry *b)
{
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* the largest score a rule of this who and destination tier can have */
static inline guint64
vigil_rule_score_bound(guint64 who, guint64 dest)
{
	return (who << VIGIL_RULE_SCORE_WHO_SHIFT) | (dest << VIGIL_RULE_SCORE_DEST_SHIFT) |
	       ((G_GUINT64_CONSTANT(1) << VIGIL_RULE_SCORE_DEST_SHIFT) - 1);
}

/* entries */

static VigilRuleEntry *
vigil_rule_entry_new(VigilRule *rule)
{
	VigilRuleEntry *entry = g_new0(VigilRuleEntry, 1);

	entry->rule = g_object_ref(rule);
	entry->id = g_strdup(vigil_rule_get_id(rule));
	entry->sha256 = g_strdup(vigil_rule_get_sha256(rule));
	entry->boot_id = g_strdup(vigil_rule_get_boot_id(rule));
	entry->score = vigil_rule_entry_compute_score(rule);
	entry->created = vigil_rule_get_created(rule);
	entry->expires = vigil_rule_get_expires(rule);
	entry->pid = vigil_rule_get_pid(rule);
	entry->pid_start = vigil_rule_get_pid_start(rule);
	entry->has_user = vigil_rule_has_user(rule);
	entry->uid = vigil_rule_get_user(rule);
	entry->has_port = vigil_rule_has_port(rule);
	entry->port_min = vigil_rule_get_port_min(rule);
	entry->port_max = vigil_rule_get_port_max(rule);
	entry->protocol = vigil_rule_get_protocol(rule);
	entry->direction = (guint8)vigil_rule_get_direction(rule);
	entry->lifetime = (guint8)vigil_rule_get_lifetime(rule);
	entry->link.data = entry;
	return entry;
}

static void
vigil_rule_entry_free(VigilRuleEntry *entry)
{
	g_object_unref(entry->rule);
	g_free(entry->id);
	g_free(entry->sha256);
	g_free(entry->boot_id);
	g_free(entry);
}

/* sorted lists */

static guint
vigil_rule_list_lower_bound(GPtrArray *list, const VigilRuleEntry *entry)
{
	guint lo = 0;
	guint hi = list->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (vigil_rule_entry_compare(g_ptr_array_index(list, mid), entry) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
vigil_rule_list_insert(GPtrArray *list, VigilRuleEntry *entry)
{
	g_ptr_array_insert(list, (gint)vigil_rule_list_lower_bound(list, entry), entry);
	entry->list = list;
}

static void
vigil_rule_list_remove(GPtrArray *list, VigilRuleEntry *entry)
{
	guint idx = vigil_rule_list_lower_bound(list, entry);

	g_assert(idx < list->len && g_ptr_array_index(list, idx) == entry);
	g_ptr_array_remove_index(list, idx);
	entry->list = NULL;
}

/* cidr keys */

static void
vigil_rule_cidr_key_mask(VigilRuleCidrKey *key, const guint8 *addr, guint8 family, guint8 prefix)
{
	guint full = prefix / 8;
	guint rest = prefix % 8;

	key->family = family;
	key->prefix = prefix;
	memcpy(key->addr, addr, full);
	if (full < 16) {
		key->addr[full] = rest != 0 ? (guint8)(addr[full] & (0xff << (8 - rest))) : 0;
		memset(key->addr + full + 1, 0, 16 - full - 1);
	}
}

static guint
vigil_rule_cidr_key_hash(gconstpointer data)
{
	const VigilRuleCidrKey *key = data;
	guint64 a;
	guint64 b;
	guint64 h;

	memcpy(&a, key->addr, 8);
	memcpy(&b, key->addr + 8, 8);
	h = (a * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)) ^
	    (b * G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f)) ^
	    (((guint64)key->family << 8 | key->prefix) * G_GUINT64_CONSTANT(0x165667b19e3779f9));
	h ^= h >> 29;
	return (guint)(h ^ (h >> 32));
}

static gboolean
vigil_rule_cidr_key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(VigilRuleCidrKey)) == 0;
}

/* buckets and slots */

static VigilRuleBucket *
vigil_rule_bucket_new(VigilRuleWhoKind kind, const gchar *key)
{
	VigilRuleBucket *bucket = g_new0(VigilRuleBucket, 1);

	bucket->kind = kind;
	bucket->key = g_strdup(key);
	return bucket;
}

static void
vigil_rule_bucket_free(VigilRuleBucket *bucket)
{
	g_assert(bucket->n_entries == 0);
	g_clear_pointer(&bucket->hosts, g_hash_table_unref);
	g_clear_pointer(&bucket->domains, g_hash_table_unref);
	g_clear_pointer(&bucket->cidrs, g_hash_table_unref);
	g_clear_pointer(&bucket->prefixes[0], g_array_unref);
	g_clear_pointer(&bucket->prefixes[1], g_array_unref);
	g_free(bucket->key);
	g_free(bucket);
}

static void
vigil_rule_slot_free(VigilRuleSlot *slot)
{
	g_assert(slot->n_entries == 0);
	g_clear_pointer(&slot->general, g_ptr_array_unref);
	g_clear_pointer(&slot->ports, g_hash_table_unref);
	g_free(slot->name);
	g_free(slot);
}

static void
vigil_rule_bucket_count_prefix(VigilRuleBucket *bucket, guint8 family, guint8 prefix, gint delta)
{
	GArray *array;
	guint idx;

	if (bucket->prefixes[family == 6] == NULL)
		bucket->prefixes[family == 6] =
		    g_array_new(FALSE, FALSE, sizeof(VigilRulePrefixCount));
	array = bucket->prefixes[family == 6];
	for (idx = 0; idx < array->len; idx++) {
		VigilRulePrefixCount *count = &g_array_index(array, VigilRulePrefixCount, idx);
		if (count->prefix == prefix) {
			count->count += delta;
			if (count->count == 0)
				g_array_remove_index(array, idx);
			return;
		}
		if (count->prefix < prefix)
			break;
	}
	g_assert(delta > 0);
	{
		VigilRulePrefixCount count = {.prefix = prefix, .count = 1};
		g_array_insert_val(array, idx, count);
	}
}

static VigilRuleSlot *
vigil_rule_bucket_ensure_slot(VigilRuleBucket *bucket, VigilRule *rule)
{
	VigilRuleSlot *slot;
	const gchar *host = vigil_rule_get_host(rule);

	if (host != NULL) {
		gboolean is_domain = vigil_rule_host_is_domain(rule);
		GHashTable **table = is_domain ? &bucket->domains : &bucket->hosts;
		const gchar *name = is_domain ? host + 2 : host;
		if (*table == NULL)
			*table = g_hash_table_new(g_str_hash, g_str_equal);
		slot = g_hash_table_lookup(*table, name);
		if (slot != NULL)
			return slot;
		slot = g_new0(VigilRuleSlot, 1);
		slot->kind = is_domain ? VIGIL_RULE_SLOT_DOMAIN : VIGIL_RULE_SLOT_HOST;
		slot->name = g_strdup(name);
		g_hash_table_insert(*table, slot->name, slot);
	} else if (vigil_rule_get_cidr(rule) != NULL) {
		VigilRuleCidrKey key = {0};
		vigil_rule_cidr_key_mask(&key,
					 vigil_rule_get_cidr_address(rule),
					 vigil_rule_get_cidr_family(rule),
					 vigil_rule_get_cidr_prefix(rule));
		if (bucket->cidrs == NULL)
			bucket->cidrs =
			    g_hash_table_new(vigil_rule_cidr_key_hash, vigil_rule_cidr_key_equal);
		slot = g_hash_table_lookup(bucket->cidrs, &key);
		if (slot != NULL)
			return slot;
		slot = g_new0(VigilRuleSlot, 1);
		slot->kind = VIGIL_RULE_SLOT_CIDR;
		slot->cidr = key;
		g_hash_table_insert(bucket->cidrs, &slot->cidr, slot);
		vigil_rule_bucket_count_prefix(bucket, key.family, key.prefix, 1);
	} else {
		if (bucket->any != NULL)
			return bucket->any;
		slot = g_new0(VigilRuleSlot, 1);
		slot->kind = VIGIL_RULE_SLOT_ANY;
		bucket->any = slot;
	}
	slot->bucket = bucket;
	return slot;
}

static void
vigil_rule_bucket_remove_slot(VigilRuleBucket *bucket, VigilRuleSlot *slot)
{
	switch (slot->kind) {
	case VIGIL_RULE_SLOT_HOST:
		g_hash_table_remove(bucket->hosts, slot->name);
		break;
	case VIGIL_RULE_SLOT_DOMAIN:
		g_hash_table_remove(bucket->domains, slot->name);
		break;
	case VIGIL_RULE_SLOT_CIDR:
		g_hash_table_remove(bucket->cidrs, &slot->cidr);
		vigil_rule_bucket_count_prefix(bucket, slot->cidr.family, slot->cidr.prefix, -1);
		break;
	case VIGIL_RULE_SLOT_ANY:
		bucket->any = NULL;
		break;
	default:
		g_assert_not_reached();
	}
	vigil_rule_slot_free(slot);
}

/* index */

static VigilRuleBucket *
vigil_rule_set_ensure_bucket(VigilRuleSet *self, VigilRule *rule)
{
	VigilRuleWhoKind kind = VIGIL_RULE_WHO_KIND_ANY;
	const gchar *key = NULL;
	VigilRuleBucket *bucket;

	if (vigil_rule_get_exe(rule) != NULL) {
		kind = VIGIL_RULE_WHO_KIND_EXE;
		key = vigil_rule_get_exe(rule);
	} else if (vigil_rule_get_app_id(rule) != NULL) {
		kind = VIGIL_RULE_WHO_KIND_APP_ID;
		key = vigil_rule_get_app_id(rule);
	} else if (vigil_rule_get_unit(rule) != NULL) {
		kind = VIGIL_RULE_WHO_KIND_UNIT;
		key = vigil_rule_get_unit(rule);
	}
	if (kind == VIGIL_RULE_WHO_KIND_ANY) {
		if (self->any == NULL)
			self->any = vigil_rule_bucket_new(kind, NULL);
		return self->any;
	}
	bucket = g_hash_table_lookup(self->buckets[kind], key);
	if (bucket == NULL) {
		bucket = vigil_rule_bucket_new(kind, key);
		g_hash_table_insert(self->buckets[kind], bucket->key, bucket);
	}
	return bucket;
}

static void
vigil_rule_set_index(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleBucket *bucket;
	VigilRuleSlot *slot;
	GPtrArray *list;

	if (!vigil_rule_get_enabled(entry->rule))
		return;
	bucket = vigil_rule_set_ensure_bucket(self, entry->rule);
	slot = vigil_rule_bucket_ensure_slot(bucket, entry->rule);
	if (entry->has_port && entry->port_min == entry->port_max) {
		gpointer key = GUINT_TO_POINTER((guint)entry->port_min + 1);
		if (slot->ports == NULL)
			slot->ports = g_hash_table_new_full(g_direct_hash,
							    g_direct_equal,
							    NULL,
							    (GDestroyNotify)g_ptr_array_unref);
		list = g_hash_table_lookup(slot->ports, key);
		if (list == NULL) {
			list = g_ptr_array_new();
			g_hash_table_insert(slot->ports, key, list);
		}
	} else {
		if (slot->general == NULL)
			slot->general = g_ptr_array_new();
		list = slot->general;
	}
	vigil_rule_list_insert(list, entry);
	entry->slot = slot;
	slot->n_entries++;
	bucket->n_entries++;
}

static void
vigil_rule_set_unindex(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleSlot *slot = entry->slot;
	VigilRuleBucket *bucket;
	GPtrArray *list = entry->list;

	if (slot == NULL)
		return;
	bucket = slot->bucket;
	vigil_rule_list_remove(list, entry);
	entry->slot = NULL;
	if (list->len == 0) {
		if (list == slot->general)
			g_clear_pointer(&slot->general, g_ptr_array_unref);
		else
			g_hash_table_remove(slot->ports,
					    GUINT_TO_POINTER((guint)entry->port_min + 1));
	}
	if (--slot->n_entries == 0)
		vigil_rule_bucket_remove_slot(bucket, slot);
	if (--bucket->n_entries > 0)
		return;
	if (bucket->kind == VIGIL_RULE_WHO_KIND_ANY)
		self->any = NULL;
	else
		g_hash_table_remove(self->buckets[bucket->kind], bucket->key);
	vigil_rule_bucket_free(bucket);
}

static void
vigil_rule_set_track(VigilRuleSet *self, VigilRuleEntry *entry)
{
	g_hash_table_insert(self->by_id, entry->id, entry);
	if (entry->lifetime == VIGIL_LIFETIME_UNTIL || entry->lifetime == VIGIL_LIFETIME_REBOOT)
		g_hash_table_add(self->expiring, entry);
	if (entry->lifetime == VIGIL_LIFETIME_PROCESS) {
		GPtrArray *array = g_hash_table_lookup(self->by_pid, GUINT_TO_POINTER(entry->pid));
		if (array == NULL) {
			array = g_ptr_array_new();
			g_hash_table_insert(self->by_pid, GUINT_TO_POINTER(entry->pid), array);
		}
		g_ptr_array_add(array, entry);
	}
	vigil_rule_set_index(self, entry);
}

/* drops @entry from every table and frees it */
static void
vigil_rule_set_remove_entry(VigilRuleSet *self, VigilRuleEntry *entry)
{
	vigil_rule_set_unindex(self, entry);
	g_hash_table_remove(self->by_id, entry->id);
	g_hash_table_remove(self->expiring, entry);
	if (entry->lifetime == VIGIL_LIFETIME_PROCESS) {
		GPtrArray *array = g_hash_table_lookup(self->by_pid, GUINT_TO_POINTER(entry->pid));
		g_ptr_array_remove_fast(array, entry);
		if (array->len == 0)
			g_hash_table_remove(self->by_pid, GUINT_TO_POINTER(entry->pid));
	}
	g_queue_unlink(&self->order, &entry->link);
	vigil_rule_entry_free(entry);
}

/* GObject */

static void
vigil_rule_set_finalize(GObject *object)
{
	VigilRuleSet *self = VIGIL_RULE_SET(object);

	vigil_rule_set_clear(self);
	g_hash_table_unref(self->by_id);
	for (guint i = 0; i < G_N_ELEMENTS(self->buckets); i++)
		g_hash_table_unref(self->buckets[i]);
	g_hash_table_unref(self->expiring);
	g_hash_table_unref(self->by_pid);
	g_free(self->boot_id);
	G_OBJECT_CLASS(vigil_rule_set_parent_class)->finalize(object);
}

static void
vigil_rule_set_class_init(VigilRuleSetClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vigil_rule_set_finalize;
}

static void
vigil_rule_set_init(VigilRuleSet *self)
{
	g_queue_init(&self->order);
	self->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < G_N_ELEMENTS(self->buckets); i++)
		self->buckets[i] = g_hash_table_new(g_str_hash, g_str_equal);
	self->expiring = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->by_pid = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)g_ptr_array_unref);
}

/**
 * vigil_rule_set_new:
 *
 * Creates an empty, indexed rule set. The set holds a reference on each rule it is given;
 * a rule in the set must not be changed (other than its hit count and last-used time)
 * unless it is put back with vigil_rule_set_replace(), because the index keeps what it
 * read when the rule was added. A rule set is used from one thread.
 *
 * Returns: (transfer full): a new #VigilRuleSet
 */
VigilRuleSet *
vigil_rule_set_new(void)
{
	return g_object_new(VIGIL_TYPE_RULE_SET, NULL);
}

/* reboot rules made before the set knew the boot belong to this boot */
static void
vigil_rule_set_stamp_boot_id(VigilRuleSet *self, VigilRuleEntry *entry)
{
	if (entry->lifetime != VIGIL_LIFETIME_REBOOT || entry->boot_id != NULL ||
	    self->boot_id == NULL)
		return;
	vigil_rule_set_boot_id(entry->rule, self->boot_id);
	entry->boot_id = g_strdup(self->boot_id);
}

/**
 * vigil_rule_set_set_boot_id:
 * @self: a #VigilRuleSet
 * @boot_id: (nullable): the current boot id (/proc/sys/kernel/random/boot_id)
 *
 * Sets the boot reboot rules are tied to. Reboot rules that have no boot id yet are
 * stamped with it.
 */
void
vigil_rule_set_set_boot_id(VigilRuleSet *self, const gchar *boot_id)
{
	GHashTableIter iter;
	gpointer key;

	g_return_if_fail(VIGIL_IS_RULE_SET(self));

	g_free(self->boot_id);
	self->boot_id = g_strdup(boot_id);
	g_hash_table_iter_init(&iter, self->expiring);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		vigil_rule_set_stamp_boot_id(self, key);
}

const gchar *
vigil_rule_set_get_boot_id(VigilRuleSet *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), NULL);
	return self->boot_id;
}

/**
 * vigil_rule_set_add:
 * @self: a #VigilRuleSet
 * @rule: a #VigilRule
 * @error: (nullable): return location for a #GError
 *
 * Validates @rule and adds it. A rule without an id is given a new one; an id already in
 * the set fails with %VIGIL_ERROR_EXISTS. A reboot rule without a boot id is stamped with
 * the set's.
 *
 * Returns: %TRUE on success
 */
gboolean
vigil_rule_set_add(VigilRuleSet *self, VigilRule *rule, GError **error)
{
	VigilRuleEntry *entry;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_RULE(rule), FALSE);

	if (!vigil_rule_validate(rule, error))
		return FALSE;
	if (vigil_rule_get_id(rule) == NULL) {
		g_autofree gchar *id = vigil_rule_generate_id();
		while (g_hash_table_contains(self->by_id, id)) {
			g_free(id);
			id = vigil_rule_generate_id();
		}
		vigil_rule_set_id(rule, id);
	} else if (g_hash_table_contains(self->by_id, vigil_rule_get_id(rule))) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_EXISTS,
			    "a rule with id %s already exists",
			    vigil_rule_get_id(rule));
		return FALSE;
	}
	entry = vigil_rule_entry_new(rule);
	vigil_rule_set_stamp_boot_id(self, entry);
	g_queue_push_tail_link(&self->order, &entry->link);
	vigil_rule_set_track(self, entry);
	return TRUE;
}

/**
 * vigil_rule_set_replace:
 * @self: a #VigilRuleSet
 * @rule: a #VigilRule with the id of a rule in the set
 * @error: (nullable): return location for a #GError
 *
 * Swaps the rule with the same id for @rule (which may be the same object, changed) and
 * reindexes it. It keeps its place in the order of vigil_rule_set_get_rules().
 *
 * Returns: %TRUE on success; %VIGIL_ERROR_NOT_FOUND when no rule has that id
 */
gboolean
vigil_rule_set_replace(VigilRuleSet *self, VigilRule *rule, GError **error)
{
	VigilRuleEntry *old;
	VigilRuleEntry *entry;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_RULE(rule), FALSE);

	if (vigil_rule_get_id(rule) == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_FOUND,
				    "a rule without an id cannot replace another");
		return FALSE;
	}
	old = g_hash_table_lookup(self->by_id, vigil_rule_get_id(rule));
	if (old == NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_FOUND,
			    "no rule with id %s",
			    vigil_rule_get_id(rule));
		return FALSE;
	}
	if (!vigil_rule_validate(rule, error))
		return FALSE;
	entry = vigil_rule_entry_new(rule);
	vigil_rule_set_stamp_boot_id(self, entry);
	g_queue_insert_after_link(&self->order, &old->link, &entry->link);
	vigil_rule_set_remove_entry(self, old);
	vigil_rule_set_track(self, entry);
	return TRUE;
}

/**
 * vigil_rule_set_remove:
 * @self: a #VigilRuleSet
 * @id: a rule id
 * @error: (nullable): return location for a #GError
 *
 * Returns: %TRUE on success; %VIGIL_ERROR_NOT_FOUND when no rule has that id
 */
gboolean
vigil_rule_set_remove(VigilRuleSet *self, const gchar *id, GError **error)
{
	VigilRuleEntry *entry;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), FALSE);
	g_return_val_if_fail(id != NULL, FALSE);

	entry = g_hash_table_lookup(self->by_id, id);
	if (entry == NULL) {
		g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no rule with id %s", id);
		return FALSE;
	}
	vigil_rule_set_remove_entry(self, entry);
	return TRUE;
}

void
vigil_rule_set_clear(VigilRuleSet *self)
{
	g_return_if_fail(VIGIL_IS_RULE_SET(self));

	while (self->order.head != NULL)
		vigil_rule_set_remove_entry(self, self->order.head->data);
}

/**
 * vigil_rule_set_get:
 * @self: a #VigilRuleSet
 * @id: a rule id
 *
 * Returns: (transfer none) (nullable): the rule with @id
 */
VigilRule *
vigil_rule_set_get(VigilRuleSet *self, const gchar *id)
{
	VigilRuleEntry *entry;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);

	entry = g_hash_table_lookup(self->by_id, id);
	return entry != NULL ? entry->rule : NULL;
}

/**
 * vigil_rule_set_get_rules:
 * @self: a #VigilRuleSet
 *
 * Returns: (transfer container) (element-type VigilRule): every rule, in the order they
 * were added
 */
GPtrArray *
vigil_rule_set_get_rules(VigilRuleSet *self)
{
	GPtrArray *rules;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), NULL);

	rules = g_ptr_array_new_full(self->order.length, g_object_unref);
	for (GList *l = self->order.head; l != NULL; l = l->next) {
		VigilRuleEntry *entry = l->data;
		g_ptr_array_add(rules, g_object_ref(entry->rule));
	}
	return rules;
}

guint
vigil_rule_set_get_size(VigilRuleSet *self)
{
	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), 0);
	return self->order.length;
}

/* lookup */

typedef struct {
	VigilRuleSet *self;
	const VigilRuleQuery *query;
	const VigilRuleEntry *best;
	const gchar *sha256;
	gboolean sha256_done;
	guint8 family;
	const guint8 *addr;
} VigilRuleLookup;

static gboolean
vigil_rule_lookup_matches(VigilRuleLookup *lookup, const VigilRuleEntry *entry)
{
	const VigilRuleQuery *query = lookup->query;

	if (entry->protocol != 0 && entry->protocol != query->protocol)
		return FALSE;
	if (entry->direction != VIGIL_DIRECTION_ANY && entry->direction != query->direction)
		return FALSE;
	if (entry->has_port && (query->port < entry->port_min || query->port > entry->port_max))
		return FALSE;
	if (entry->has_user && (!query->uid_known || query->uid != entry->uid))
		return FALSE;
	switch (entry->lifetime) {
	case VIGIL_LIFETIME_UNTIL:
		if (query->now >= entry->expires)
			return FALSE;
		break;
	case VIGIL_LIFETIME_REBOOT:
		if (entry->boot_id != NULL && lookup->self->boot_id != NULL &&
		    strcmp(entry->boot_id, lookup->self->boot_id) != 0)
			return FALSE;
		break;
	case VIGIL_LIFETIME_PROCESS:
		if (query->pid == 0 || query->pid != entry->pid ||
		    query->pid_start != entry->pid_start)
			return FALSE;
		break;
	default:
		break;
	}
	if (entry->sha256 != NULL) {
		if (!lookup->sha256_done) {
			lookup->sha256_done = TRUE;
			if (query->get_exe_sha256 != NULL)
				lookup->sha256 = query->get_exe_sha256(query->user_data);
		}
		if (lookup->sha256 == NULL ||
		    g_ascii_strcasecmp(lookup->sha256, entry->sha256) != 0)
			return FALSE;
	}
	return TRUE;
}

static void
vigil_rule_lookup_list(VigilRuleLookup *lookup, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		const VigilRuleEntry *entry = g_ptr_array_index(list, i);

		/* sorted best first: nothing after this can win either */
		if (lookup->best != NULL && vigil_rule_entry_compare(entry, lookup->best) > 0)
			return;
		if (vigil_rule_lookup_matches(lookup, entry)) {
			lookup->best = entry;
			return;
		}
	}
}

static void
vigil_rule_lookup_slot(VigilRuleLookup *lookup, VigilRuleSlot *slot)
{
	if (slot == NULL)
		return;
	if (slot->ports != NULL) {
		GPtrArray *list =
		    g_hash_table_lookup(slot->ports,
					GUINT_TO_POINTER((guint)lookup->query->port + 1));
		if (list != NULL)
			vigil_rule_lookup_list(lookup, list);
	}
	if (slot->general != NULL)
		vigil_rule_lookup_list(lookup, slot->general);
}

static inline gboolean
vigil_rule_lookup_beaten(VigilRuleLookup *lookup, guint64 who, guint64 dest)
{
	return lookup->best != NULL && lookup->best->score > vigil_rule_score_bound(who, dest);
}

static void
vigil_rule_lookup_prefixes(VigilRuleLookup *lookup,
			   VigilRuleBucket *bucket,
			   guint64 who,
			   gboolean full_length)
{
	GArray *array = bucket->prefixes[lookup->family == 6];
	guint8 full = lookup->family == 4 ? 32 : 128;

	if (array == NULL)
		return;
	for (guint i = 0; i < array->len; i++) {
		guint8 prefix = g_array_index(array, VigilRulePrefixCount, i).prefix;
		VigilRuleCidrKey key;
		if ((prefix == full) != full_length)
			continue;
		if (vigil_rule_lookup_beaten(lookup,
					     who,
					     prefix == full ? VIGIL_RULE_DEST_EXACT
							    : VIGIL_RULE_DEST_PREFIX(prefix)))
			return;
		vigil_rule_cidr_key_mask(&key, lookup->addr, lookup->family, prefix);
		vigil_rule_lookup_slot(lookup, g_hash_table_lookup(bucket->cidrs, &key));
	}
}

static void
vigil_rule_lookup_bucket(VigilRuleLookup *lookup,
			 VigilRuleBucket *bucket,
			 const gchar *host,
			 const guint *suffixes,
			 guint n_suffixes)
{
	guint64 who;
	gboolean has_cidrs;

	if (bucket == NULL)
		return;
	who = bucket->kind == VIGIL_RULE_WHO_KIND_ANY
		  ? VIGIL_RULE_WHO_USER
		  : VIGIL_RULE_WHO_APP + VIGIL_RULE_WHO_SHA256 + VIGIL_RULE_WHO_USER;
	if (vigil_rule_lookup_beaten(lookup, who, VIGIL_RULE_DEST_EXACT))
		return;
	has_cidrs = lookup->family != 0 && bucket->cidrs != NULL;

	/* exact host and full-length addresses */
	if (host != NULL && bucket->hosts != NULL)
		vigil_rule_lookup_slot(lookup, g_hash_table_lookup(bucket->hosts, host));
	if (has_cidrs)
		vigil_rule_lookup_prefixes(lookup, bucket, who, TRUE);

	/* domains, the longest suffix first */
	if (host != NULL && bucket->domains != NULL) {
		for (guint i = 0; i < n_suffixes; i++) {
			if (vigil_rule_lookup_beaten(lookup,
						     who,
						     VIGIL_RULE_DEST_DOMAIN(n_suffixes - i)))
				break;
			vigil_rule_lookup_slot(
			    lookup,
			    g_hash_table_lookup(bucket->domains, host + suffixes[i]));
		}
	}

	/* shorter prefixes, the longest first, then any destination */
	if (has_cidrs)
		vigil_rule_lookup_prefixes(lookup, bucket, who, FALSE);
	if (!vigil_rule_lookup_beaten(lookup, who, VIGIL_RULE_DEST_ANY))
		vigil_rule_lookup_slot(lookup, bucket->any);
}

/**
 * vigil_rule_set_lookup:
 * @self: a #VigilRuleSet
 * @query: what is known about the connection
 *
 * Finds the rule that decides a connection: among the enabled, unexpired rules that match
 * it, the one that takes precedence (see the comment at the top of vigil-rule-set.c).
 * Unknown values in @query never match a rule that requires them. An IPv4-mapped IPv6
 * address is looked up as the IPv4 address. Does not allocate; @query->get_exe_sha256
 * is called at most once, and only when a candidate rule pins a digest.
 *
 * Returns: (transfer none) (nullable): the deciding rule, or %NULL when none matches
 */
VigilRule *
vigil_rule_set_lookup(VigilRuleSet *self, const VigilRuleQuery *query)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	VigilRuleLookup lookup = {.self = self, .query = query};
	gchar host_buf[VIGIL_RULE_HOST_MAX + 2];
	guint suffixes[VIGIL_RULE_HOST_MAX / 2 + 2];
	guint n_suffixes = 0;
	const gchar *host = NULL;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), NULL);
	g_return_val_if_fail(query != NULL, NULL);

	/* the host in lower case without a trailing dot, and where each label suffix starts */
	if (query->host != NULL) {
		gsize len = 0;
		for (; query->host[len] != '\0' && len <= VIGIL_RULE_HOST_MAX + 1; len++)
			host_buf[MIN(len, VIGIL_RULE_HOST_MAX + 1)] =
			    g_ascii_tolower(query->host[len]);
		if (len > 0 && len <= VIGIL_RULE_HOST_MAX + 1 && host_buf[len - 1] == '.')
			len--;
		if (len > 0 && len <= VIGIL_RULE_HOST_MAX) {
			host_buf[len] = '\0';
			host = host_buf;
			suffixes[n_suffixes++] = 0;
			for (gsize i = 0; i + 1 < len; i++) {
				if (host_buf[i] == '.')
					suffixes[n_suffixes++] = (guint)i + 1;
			}
		}
	}

	if (query->family == 4 || query->family == 6) {
		lookup.family = query->family;
		lookup.addr = query->addr;
		if (query->family == 6 && memcmp(query->addr, mapped, sizeof(mapped)) == 0) {
			lookup.family = 4;
			lookup.addr = query->addr + 12;
		}
	}

	/* a specific app first: any-app rules are often beaten without a look */
	if (query->exe != NULL)
		vigil_rule_lookup_bucket(
		    &lookup,
		    g_hash_table_lookup(self->buckets[VIGIL_RULE_WHO_KIND_EXE], query->exe),
		    host,
		    suffixes,
		    n_suffixes);
	if (query->app_id != NULL)
		vigil_rule_lookup_bucket(
		    &lookup,
		    g_hash_table_lookup(self->buckets[VIGIL_RULE_WHO_KIND_APP_ID], query->app_id),
		    host,
		    suffixes,
		    n_suffixes);
	if (query->unit != NULL)
		vigil_rule_lookup_bucket(
		    &lookup,
		    g_hash_table_lookup(self->buckets[VIGIL_RULE_WHO_KIND_UNIT], query->unit),
		    host,
		    suffixes,
		    n_suffixes);
	vigil_rule_lookup_bucket(&lookup, self->any, host, suffixes, n_suffixes);
	return lookup.best != NULL ? lookup.best->rule : NULL;
}

/**
 * vigil_rule_set_record_hit:
 * @self: a #VigilRuleSet
 * @rule: the rule vigil_rule_set_lookup() returned
 * @now: unix seconds
 *
 * Counts a connection decided by @rule and sets its last-used time. A once rule has then
 * been used and is removed from the set.
 */
void
vigil_rule_set_record_hit(VigilRuleSet *self, VigilRule *rule, gint64 now)
{
	VigilRuleEntry *entry;
	guint64 hits;

	g_return_if_fail(VIGIL_IS_RULE_SET(self));
	g_return_if_fail(VIGIL_IS_RULE(rule));

	hits = vigil_rule_get_hits(rule);
	if (hits < G_MAXUINT64)
		vigil_rule_set_hits(rule, hits + 1);
	vigil_rule_set_last_used(rule, now);
	if (vigil_rule_get_id(rule) == NULL)
		return;
	entry = g_hash_table_lookup(self->by_id, vigil_rule_get_id(rule));
	if (entry != NULL && entry->rule == rule && entry->lifetime == VIGIL_LIFETIME_ONCE)
		vigil_rule_set_remove_entry(self, entry);
}

static void
vigil_rule_set_remove_entries(VigilRuleSet *self, GPtrArray *entries, GPtrArray *removed_ids)
{
	for (guint i = 0; i < entries->len; i++) {
		VigilRuleEntry *entry = g_ptr_array_index(entries, i);
		if (removed_ids != NULL)
			g_ptr_array_add(removed_ids, g_strdup(entry->id));
		vigil_rule_set_remove_entry(self, entry);
	}
}

/**
 * vigil_rule_set_expire:
 * @self: a #VigilRuleSet
 * @now: unix seconds
 * @removed_ids: (nullable) (element-type utf8): where to append the ids removed
 *
 * Removes until rules whose time has come and reboot rules of another boot.
 *
 * Returns: how many rules were removed
 */
guint
vigil_rule_set_expire(VigilRuleSet *self, gint64 now, GPtrArray *removed_ids)
{
	g_autoptr(GPtrArray) expired = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), 0);

	g_hash_table_iter_init(&iter, self->expiring);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		VigilRuleEntry *entry = key;
		if (vigil_rule_is_expired(entry->rule, now, self->boot_id))
			g_ptr_array_add(expired, entry);
	}
	vigil_rule_set_remove_entries(self, expired, removed_ids);
	return expired->len;
}

/**
 * vigil_rule_set_expire_process:
 * @self: a #VigilRuleSet
 * @pid: the process that exited
 * @pid_start: its start time, or 0 for any process that had this pid
 * @removed_ids: (nullable) (element-type utf8): where to append the ids removed
 *
 * Removes the process rules made for a process that exited.
 *
 * Returns: how many rules were removed
 */
guint
vigil_rule_set_expire_process(VigilRuleSet *self,
			      guint32 pid,
			      guint64 pid_start,
			      GPtrArray *removed_ids)
{
	g_autoptr(GPtrArray) expired = g_ptr_array_new();
	GPtrArray *array;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), 0);

	array = g_hash_table_lookup(self->by_pid, GUINT_TO_POINTER(pid));
	if (array == NULL)
		return 0;
	for (guint i = 0; i < array->len; i++) {
		VigilRuleEntry *entry = g_ptr_array_index(array, i);
		if (pid_start == 0 || entry->pid_start == pid_start)
			g_ptr_array_add(expired, entry);
	}
	vigil_rule_set_remove_entries(self, expired, removed_ids);
	return expired->len;
}

/**
 * vigil_rule_set_get_next_expiry:
 * @self: a #VigilRuleSet
 *
 * Returns: the earliest expiry time of the until rules, for a one-shot timer; %G_MAXINT64
 * when there is none
 */
gint64
vigil_rule_set_get_next_expiry(VigilRuleSet *self)
{
	GHashTableIter iter;
	gpointer key;
	gint64 next = G_MAXINT64;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), G_MAXINT64);

	g_hash_table_iter_init(&iter, self->expiring);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		VigilRuleEntry *entry = key;
		if (entry->lifetime == VIGIL_LIFETIME_UNTIL && entry->expires < next)
			next = entry->expires;
	}
	return next;
}
