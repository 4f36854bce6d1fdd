/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilRuleSet"

#include "config.h"

#include <string.h>
#include <sys/mman.h>

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
 * The index: rules are grouped by who they name (a bucket per exe, app id and unit, and
 * one for any app), so a query looks in at most four buckets, found in an open-addressing
 * table keyed by 64-bit hashes and checked against the name. A bucket is one allocation, so
 * that a lookup that starts from cold caches pays for few dependent misses: the app's line
 * of the filter of the apps' destinations with its directory, then the block (the lookup
 * hashes the app's names first and prefetches their lines while it hashes the host, and a
 * block as soon as its slot is read; the table cell is read for the few apps without a
 * slot). What a lookup needs to rank and test a rule is kept in a 32-byte item (score,
 * destination hash or masked address, ports, protocol, direction, user), so the rule's own
 * entry is only read for the rare checks (lifetime, digest) and exact ties.
 *
 * A bucket of up to VIGIL_RULE_FLAT_MAX rules (the usual case: an app has a few rules) is
 * flat: its items sorted best first, then the destinations' names, and a lookup scans it
 * in order, so the first item that matches is the bucket's best; a byte tag of each item's
 * destination in front of the items lets the scan of a large one test only the items
 * whose tag the query has (see "the tags of a flat bucket"). A larger bucket (often the
 * one for any app) is hashed: a rule sits in the list of its destination (an exact host, a
 * domain, a masked prefix, or any) and port (an exact port; each block of 1024 ports a range
 * overlaps; or any port), in one table of lists keyed by 64-bit hashes and checked against
 * the real key. A query hashes its host once, right to left, which gives the hash of every
 * label suffix for the `*.domain` tests, and masks its address once per prefix length
 * present in the bucket. A hashed bucket counts what kinds of lists it holds, the label
 * counts of its domains and its prefix lengths, and keeps a small Bloom filter of its list
 * keys in its block, so a query only probes the table for lists that likely exist. Lists
 * are sorted best first too: a list whose first rule cannot beat the best so far is
 * skipped; probes are made most specific first, so once a match is found whole tiers are
 * skipped. Disabled rules are not indexed. A lookup does not allocate.
 *
 * The blocks, lists and tables come from an arena on huge pages ("the arena" below), and a
 * filter of the destinations each app's rules name lets a flow to anywhere else pass over
 * the app without reading its cell or its block (see "the filter of the apps' destinations").
 *
 * In front of the index, a memo of recent answers takes repeated queries: see "the decision
 * memo" below.
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

#define VIGIL_RULE_HOST_MAX   253
#define VIGIL_RULE_LABELS_MAX 63 /* domains with more labels share a mask bit */

/* list keys by port: any port, each exact port, each block of ports a range overlaps */
#define VIGIL_RULE_PORT_KEY_ANY	     0
#define VIGIL_RULE_PORT_KEY_EXACT(p) (1 + (guint32)(p))
#define VIGIL_RULE_PORT_BLOCK_SHIFT  10
#define VIGIL_RULE_PORT_KEY_BLOCK(p) (65537 + ((guint32)(p) >> VIGIL_RULE_PORT_BLOCK_SHIFT))

typedef enum {
	VIGIL_RULE_PORT_KIND_EXACT,
	VIGIL_RULE_PORT_KIND_BLOCK,
	VIGIL_RULE_PORT_KIND_ANY,
	VIGIL_RULE_PORT_KIND_LAST,
} VigilRulePortKind;

typedef enum {
	VIGIL_RULE_DEST_KIND_HOST,
	VIGIL_RULE_DEST_KIND_DOMAIN,
	VIGIL_RULE_DEST_KIND_CIDR,
	VIGIL_RULE_DEST_KIND_ANY,
	VIGIL_RULE_DEST_KIND_LAST,
} VigilRuleDestKind;

typedef enum {
	VIGIL_RULE_WHO_KIND_EXE,
	VIGIL_RULE_WHO_KIND_APP_ID,
	VIGIL_RULE_WHO_KIND_UNIT,
	VIGIL_RULE_WHO_KIND_ANY,
} VigilRuleWhoKind;

/* a destination as the index sees it */
typedef struct {
	guint64 hash;
	guint64 name_hash; /* of a host or domain, as vigil_rule_hash_name() */
	guint8 kind;
	guint8 family;
	guint8 prefix;
	guint8 labels; /* of a domain, up to 255 */
	guint64 hi;    /* the masked address, big-endian words; IPv4 in the top of @hi */
	guint64 lo;
	const gchar *name; /* host or domain without the "*." */
} VigilRuleDest;

typedef struct _VigilRuleBucket VigilRuleBucket;

/* what the rare checks and the exact ties need, read only for a candidate that passed the
 * tests its item answers */
typedef struct _VigilRuleEntry VigilRuleEntry;

struct _VigilRuleEntry {
	VigilRule *rule;
	gint64 expires;
	guint64 pid_start;
	guint32 pid;
	guint32 uid;
	gchar *sha256;
	gchar *boot_id;
	guint8 lifetime;
	guint8 has_user;
	guint8 has_port;
	guint8 protocol;
	guint8 direction;
	guint8 who_kind;
	gboolean indexed;
	guint16 port_min;
	guint16 port_max;
	guint64 score;
	gint64 created;
	gchar *id;
	guint64 who_key;
	gchar *who_name;    /* NULL for any app */
	VigilRuleDest dest; /* name owned */
	GList link;	    /* in VigilRuleSet.order */
	guint dests_index;  /* in VigilRuleDests.keys, when indexed for an app */
};

/* what a bucket or a list keeps of a rule to rank it and test it without reading anything
 * else: 32 bytes, two to a cache line. @checks says which tests need more than the item. */
#define VIGIL_RULE_CHECK_USER	  (1 << 0)
#define VIGIL_RULE_CHECK_SHA256	  (1 << 1)
#define VIGIL_RULE_CHECK_LIFETIME (1 << 2)

typedef struct {
	guint64 score;
	guint64 dest;	  /* host, domain: the hash of the name; prefix: the high masked word */
	guint16 port_min; /* 0-65535 for any port */
	guint16 port_max;
	guint8 protocol;
	guint8 direction;
	guint8 checks;
	guint8 dest_kind;
	guint8 dest_len; /* labels of a domain, length of a prefix */
	guint8 family;	 /* of a prefix */
	guint16 pool;	 /* in a flat bucket: where the name (or the low masked word) is */
	guint32 uid;	 /* with VIGIL_RULE_CHECK_USER */
} VigilRuleItem;

G_STATIC_ASSERT(sizeof(VigilRuleItem) == 32);

/* what is only read for the winner and for exact ties, in an array beside the items */
typedef struct {
	VigilRule *rule;
	VigilRuleEntry *entry;
} VigilRuleRef;

/* the rules of one bucket, destination and port key, best first: the header, the name of
 * the destination, the items, then their refs */
typedef struct {
	guint64 key;
	VigilRuleDest dest;
	guint32 bucket_serial;
	guint32 port_key;
	guint len;
	guint alloc;
	guint items_offset;
	guint bucket_index; /* in VigilRuleHashed.lists */
} VigilRuleList;

static inline VigilRuleItem *
vigil_rule_list_items(const VigilRuleList *list)
{
	return (VigilRuleItem *)((gchar *)list + list->items_offset);
}

static inline VigilRuleRef *
vigil_rule_list_refs(const VigilRuleList *list)
{
	return (VigilRuleRef *)(vigil_rule_list_items(list) + list->alloc);
}

/* the size of the block of a list with room for @alloc rules */
static inline gsize
vigil_rule_list_size(guint items_offset, guint alloc)
{
	return items_offset + (gsize)alloc * (sizeof(VigilRuleItem) + sizeof(VigilRuleRef));
}

/* a blocked Bloom filter of 16 bits per key, small enough to stay in the cache: most probes
 * for keys that are absent stop here. A key sets four bits of the word its high half
 * chooses: two for the high half (the group: in a bucket's filter, the destination) and two
 * for the key, so a lookup rules out a destination and then each of its lists with one
 * word. Removals leave their bits set until the filter is rebuilt. */
typedef struct {
	guint64 *words;
	guint mask; /* number of words - 1 */
	guint n_stale;
} VigilRuleFilter;

/*
 * The rules of one who, in one allocation that moves when it changes: the table of buckets
 * (or VigilRuleSet.any) points to it, lists name it by its serial. A bucket of up to
 * VIGIL_RULE_FLAT_MAX rules is flat: the header and the who's name, a tag per item, the
 * items of its rules best first, their refs, then a pool of the destinations' names, read
 * in one pass from the first cache line on. A larger one is hashed: the header, a
 * VigilRuleHashed, the words of its filter, then its name; its rules are in lists.
 */
#define VIGIL_RULE_FLAT_MAX 32
#define VIGIL_RULE_FLAT_MIN 16 /* a hashed bucket this small is made flat again */

struct _VigilRuleBucket {
	guint64 key;
	guint32 serial;
	guint8 kind;
	guint8 who_max;
	gboolean flat;
	guint size; /* of the block */
	guint n_entries;
	guint name;  /* where the exe, app id or unit is in the block; 0 for any app */
	guint items; /* flat: where the items, refs and pool are in the block */
	guint refs;
	guint pool;
};

typedef struct {
	guint n_lists[VIGIL_RULE_DEST_KIND_LAST][VIGIL_RULE_PORT_KIND_LAST];
	guint64 domain_mask;	   /* bit n: a domain with n labels */
	guint64 prefix_mask[2][3]; /* bit n of IPv4, IPv6: a prefix of length n */
	VigilRuleFilter filter;	   /* of the keys of its lists; the words follow */
	guint filter_capacity;	   /* words */
	guint *counts;		   /* 64 domain label counts then 2 * 129 prefix counts */
	GPtrArray *lists;	   /* of VigilRuleList */
} VigilRuleHashed;

static inline VigilRuleItem *
vigil_rule_bucket_items(const VigilRuleBucket *bucket)
{
	return (VigilRuleItem *)((gchar *)bucket + bucket->items);
}

/* the words of a flat bucket's tags, a byte per item, right before its items */
#define VIGIL_RULE_TAGS_WORDS(n) (((n) + 7) / 8)

static inline const guint64 *
vigil_rule_bucket_tags(const VigilRuleBucket *bucket)
{
	return (const guint64 *)((gchar *)bucket + bucket->items) -
	       VIGIL_RULE_TAGS_WORDS(bucket->n_entries);
}

static inline VigilRuleRef *
vigil_rule_bucket_refs(const VigilRuleBucket *bucket)
{
	return (VigilRuleRef *)((gchar *)bucket + bucket->refs);
}

static inline const gchar *
vigil_rule_bucket_pool(const VigilRuleBucket *bucket)
{
	return (const gchar *)bucket + bucket->pool;
}

static inline VigilRuleHashed *
vigil_rule_bucket_hashed(const VigilRuleBucket *bucket)
{
	return (VigilRuleHashed *)(bucket + 1);
}

static inline const gchar *
vigil_rule_bucket_name(const VigilRuleBucket *bucket)
{
	return bucket->name != 0 ? (const gchar *)bucket + bucket->name : NULL;
}

/*
 * The arena: the blocks of the buckets, the lists and the cells and filters of the tables,
 * everything a lookup reads but the rare entries, come from memory the set maps itself, in
 * chunks of 2 MiB aligned to 2 MiB and marked MADV_HUGEPAGE. Where the kernel gives
 * transparent huge pages on request (`madvise` in /sys/kernel/mm/transparent_hugepage/
 * enabled, the default of most distributions; `always` works too, `never` leaves ordinary
 * pages), the index of 100,000 rules sits on a few huge pages instead of thousands of
 * pages strewn among the rules, their entries and strings, and a lookup that starts from
 * cold caches no longer also misses the TLB. Nothing outside the set changes: no tunable,
 * no other allocation.
 *
 * Sizes are rounded up to classes (64-byte steps up to 1 KiB, then four steps per power of
 * two up to 1 MiB), and a freed block goes on its class's free list for the next block of
 * that size, so blocks still move when they change. The first chunks are smaller (128 KiB,
 * doubling) and ordinary, so that a small set does not take a huge page. A block larger
 * than the classes (a large table) gets its own region in whole huge pages. Memory comes
 * back to the system when the set is finalized: a set keeps what its largest index needed.
 */
#define VIGIL_RULE_ARENA_HUGE	    ((gsize)2 << 20)
#define VIGIL_RULE_ARENA_FIRST	    ((gsize)128 << 10)
#define VIGIL_RULE_ARENA_CLASS_MAX  ((gsize)1 << 20)
#define VIGIL_RULE_ARENA_SMALL_MAX  1024
#define VIGIL_RULE_ARENA_SMALL_STEP 64
#define VIGIL_RULE_ARENA_CLASSES    (16 + 4 * 10) /* 64..1024, then 1280..1 MiB */

typedef struct {
	gchar *base;
	gsize size;
	gboolean mapped; /* by mmap(), else by g_aligned_alloc() */
} VigilRuleRegion;

typedef struct {
	GArray *regions; /* of VigilRuleRegion */
	gchar *next;	 /* the free space of the newest chunk */
	gchar *end;
	gsize chunk_size;			 /* of the next chunk */
	gpointer free[VIGIL_RULE_ARENA_CLASSES]; /* blocks linked through their first word */
} VigilRuleArena;

/* the class of a block of @size bytes, and the size of that class */
static guint
vigil_rule_arena_class(gsize size, gsize *class_size)
{
	guint power;
	gsize step;
	gsize k;

	if (size <= VIGIL_RULE_ARENA_SMALL_MAX) {
		k = MAX((size + VIGIL_RULE_ARENA_SMALL_STEP - 1) / VIGIL_RULE_ARENA_SMALL_STEP, 1);
		*class_size = k * VIGIL_RULE_ARENA_SMALL_STEP;
		return (guint)k - 1;
	}
	/* 2^power < size <= 2^(power + 1), in four steps */
	power = 63 - (guint)__builtin_clzll((unsigned long long)size - 1);
	step = (gsize)1 << (power - 2);
	k = (size - ((gsize)1 << power) + step - 1) / step;
	*class_size = ((gsize)1 << power) + k * step;
	return 16 + (power - 10) * 4 + (guint)k - 1;
}

static gsize
vigil_rule_arena_class_size(guint class)
{
	guint power;

	if (class < 16)
		return (class + 1) * VIGIL_RULE_ARENA_SMALL_STEP;
	power = 10 + (class - 16) / 4;
	return ((gsize)1 << power) + ((class - 16) % 4 + 1) * ((gsize)1 << (power - 2));
}

static void
vigil_rule_arena_init(VigilRuleArena *self)
{
	memset(self, 0, sizeof(*self));
	self->regions = g_array_new(FALSE, FALSE, sizeof(VigilRuleRegion));
	self->chunk_size = VIGIL_RULE_ARENA_FIRST;
}

/* a new zeroed region of @size bytes, a whole number of huge pages aligned to one and
 * marked for them, or a smaller ordinary one */
static gchar *
vigil_rule_arena_map(VigilRuleArena *self, gsize size)
{
	VigilRuleRegion region = {.size = size};
	gboolean huge = size % VIGIL_RULE_ARENA_HUGE == 0;
	gsize len = huge ? size + VIGIL_RULE_ARENA_HUGE : size;
	gchar *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem != MAP_FAILED && huge) {
		gchar *aligned = (gchar *)(((guintptr)mem + VIGIL_RULE_ARENA_HUGE - 1) &
					   ~(guintptr)(VIGIL_RULE_ARENA_HUGE - 1));
		if (aligned > mem)
			munmap(mem, (gsize)(aligned - mem));
		munmap(aligned + size, (gsize)(mem + len - (aligned + size)));
		mem = aligned;
		/* without transparent huge pages this fails, and the pages are ordinary ones */
		madvise(mem, size, MADV_HUGEPAGE);
	}
	if (mem != MAP_FAILED) {
		region.base = mem;
		region.mapped = TRUE;
	} else {
		region.base = g_aligned_alloc0(1, size, VIGIL_RULE_ARENA_SMALL_STEP);
	}
	g_array_append_val(self->regions, region);
	return region.base;
}

static void
vigil_rule_region_unmap(VigilRuleRegion *region)
{
	if (region->mapped)
		munmap(region->base, region->size);
	else
		g_aligned_free(region->base);
}

/* the rest of the newest chunk goes on the free lists, the largest classes first */
static void
vigil_rule_arena_retire_chunk(VigilRuleArena *self)
{
	guint class = VIGIL_RULE_ARENA_CLASSES;

	while (class > 0 && self->end - self->next >= VIGIL_RULE_ARENA_SMALL_STEP) {
		gsize class_size = vigil_rule_arena_class_size(class - 1);
		if ((gsize)(self->end - self->next) < class_size) {
			class --;
			continue;
		}
		*(gpointer *)self->next = self->free[class - 1];
		self->free[class - 1] = self->next;
		self->next += class_size;
	}
}

/* a block of at least @size bytes, aligned to 64; its contents are undefined */
static gpointer
vigil_rule_arena_alloc(VigilRuleArena *self, gsize size)
{
	gsize class_size;
	guint class;
	gchar *block;

	if (size > VIGIL_RULE_ARENA_CLASS_MAX)
		return vigil_rule_arena_map(self,
					    (size + VIGIL_RULE_ARENA_HUGE - 1) &
						~(VIGIL_RULE_ARENA_HUGE - 1));
	class = vigil_rule_arena_class(size, &class_size);
	if (self->free[class] != NULL) {
		block = self->free[class];
		self->free[class] = *(gpointer *)block;
		return block;
	}
	if ((gsize)(self->end - self->next) < class_size) {
		gsize chunk_size = self->chunk_size;
		while (chunk_size < class_size)
			chunk_size *= 2;
		vigil_rule_arena_retire_chunk(self);
		self->next = vigil_rule_arena_map(self, chunk_size);
		self->end = self->next + chunk_size;
		self->chunk_size = MIN(chunk_size * 2, VIGIL_RULE_ARENA_HUGE);
	}
	block = self->next;
	self->next += class_size;
	return block;
}

static gpointer
vigil_rule_arena_alloc0(VigilRuleArena *self, gsize size)
{
	return memset(vigil_rule_arena_alloc(self, size), 0, size);
}

/* @size is what the block was allocated with */
static void
vigil_rule_arena_free(VigilRuleArena *self, gpointer block, gsize size)
{
	gsize class_size;
	guint class;

	if (block == NULL)
		return;
	if (size > VIGIL_RULE_ARENA_CLASS_MAX) {
		guint i = 0;
		while (g_array_index(self->regions, VigilRuleRegion, i).base != block) {
			i++;
			g_assert(i < self->regions->len);
		}
		vigil_rule_region_unmap(&g_array_index(self->regions, VigilRuleRegion, i));
		g_array_remove_index_fast(self->regions, i);
		return;
	}
	class = vigil_rule_arena_class(size, &class_size);
	*(gpointer *)block = self->free[class];
	self->free[class] = block;
}

/* a block of @new_size with the first @old_size bytes of @block, which is freed */
static gpointer
vigil_rule_arena_realloc(VigilRuleArena *self, gpointer block, gsize old_size, gsize new_size)
{
	gsize old_class_size;
	gsize new_class_size;
	gpointer moved;

	if (old_size <= VIGIL_RULE_ARENA_CLASS_MAX && new_size <= VIGIL_RULE_ARENA_CLASS_MAX &&
	    vigil_rule_arena_class(old_size, &old_class_size) ==
		vigil_rule_arena_class(new_size, &new_class_size))
		return block;
	moved = vigil_rule_arena_alloc(self, new_size);
	memcpy(moved, block, MIN(old_size, new_size));
	vigil_rule_arena_free(self, block, old_size);
	return moved;
}

static void
vigil_rule_arena_clear(VigilRuleArena *self)
{
	for (guint i = 0; i < self->regions->len; i++)
		vigil_rule_region_unmap(&g_array_index(self->regions, VigilRuleRegion, i));
	g_array_unref(self->regions);
	memset(self, 0, sizeof(*self));
}

static void
vigil_rule_bucket_free(VigilRuleArena *arena, VigilRuleBucket *bucket)
{
	vigil_rule_arena_free(arena, bucket, bucket->size);
}

#define VIGIL_RULE_COUNTS_PREFIX(family, prefix) (64 + ((family) == 6 ? 129 : 0) + (prefix))
#define VIGIL_RULE_COUNTS_LEN			 (64 + 2 * 129)

/* an open-addressing table with linear probing; a key of 0 marks an empty cell */
typedef struct {
	guint64 key;
	gpointer value;
} VigilRuleCell;

/*
 * The filter of the apps' destinations: a lookup passes over an app none of whose rules can
 * match the flow without reading the app's cell in the table of buckets or its block, each a
 * miss to memory when the app has not been seen for a while; half of the flows go to sites
 * the app's rules do not name. It is one Bloom filter for the whole set, on the arena, of a
 * key per enabled app rule: the app's bucket key mixed with the rule's destination, which
 * is the name of an exact host or `*.domain` (a query tests the name of each label suffix of
 * its host), the family and first 8 (IPv4) or 16 (IPv6) bits of a prefix (a query tests its
 * address's), or "any" for a rule for any destination or a shorter prefix (every query
 * tests it). A host with more labels than VIGIL_RULE_DESTS_SUFFIXES_MAX passes.
 *
 * The filter is blocked by app: the bucket key alone chooses a cache line, and the key of a
 * destination sets four bits in it, so that all the tests of one query for one app read
 * one line, which the lookup fetches while it hashes the host. At 16 to 20 bits a key the
 * filter of 75,000 app rules takes 150 to 190 KB, where the cells of their buckets take 512
 * KiB and their blocks megabytes, so it stays in the cache. Removed rules leave their bits
 * until the filter is rebuilt, which it also is when it fills up, from an array of the keys
 * of the indexed app rules: a pass over the entries themselves, each its own allocation,
 * made loading 100,000 rules a tenth slower.
 *
 * Each line of the filter has a second line beside it, the directory of the apps whose keys
 * it holds: a slot per app with the app's cell value in the table of buckets (the address of
 * its block and how many of its lines to fetch) under a 16-bit tag of its bucket key. The
 * lookup fetches both lines as soon as it has hashed the app's name, so an app that passes
 * the filter leads straight to its block, and the table of buckets (512 KiB at 100,000
 * rules, read at random) is not read at all. The directory is a shortcut, not the index: a
 * slot is only taken by a block the table points to, and it is changed with the table's
 * cell; an app that finds no free slot in its line (the filter has a line for at most
 * VIGIL_RULE_DESTS_LINE_APPS apps when it is rebuilt: 1 to 2% of the apps then), a
 * block whose address does not fit under the tag, or a tag shared by two apps of one line
 * is found through the table as before. Every block found is checked against the app's key,
 * kind and name.
 */
#define VIGIL_RULE_DESTS_SUFFIXES_MAX 8
#define VIGIL_RULE_DESTS_PREFIX_V4    8
#define VIGIL_RULE_DESTS_PREFIX_V6    16
#define VIGIL_RULE_DESTS_ANY	      0
#define VIGIL_RULE_DESTS_LINE_KEYS    32 /* 16 bits a key in a line of 512 */
#define VIGIL_RULE_DESTS_LINE_WORDS   8
#define VIGIL_RULE_DESTS_LINE_APPS    4 /* apps a line is sized for, with 8 slots */
#define VIGIL_RULE_DESTS_SLOTS	      8
#define VIGIL_RULE_DESTS_PAIR_WORDS   (VIGIL_RULE_DESTS_LINE_WORDS + VIGIL_RULE_DESTS_SLOTS)
#define VIGIL_RULE_DESTS_TAG_SHIFT    48
#define VIGIL_RULE_DESTS_VALUE_MASK   ((G_GUINT64_CONSTANT(1) << VIGIL_RULE_DESTS_TAG_SHIFT) - 1)

/* what the filter holds of an app rule, kept apart so that a rebuild reads a dense array */
typedef struct {
	guint64 bucket_key;
	guint64 key;
	VigilRuleEntry *entry;
} VigilRuleDestsKey;

typedef struct {
	guint64 *words; /* VIGIL_RULE_DESTS_PAIR_WORDS per line: its bits, then its slots */
	guint n_lines;
	guint n_stale;
	GArray *keys; /* of VigilRuleDestsKey, one per indexed app rule */
} VigilRuleDests;

typedef struct {
	VigilRuleCell *cells;
	guint mask;
	guint len;
	VigilRuleFilter filter; /* of the keys, when the table has one */
	gboolean filtered;
	VigilRuleArena *arena; /* of the set, for the cells and the filter */
} VigilRuleTable;

static inline VigilRuleCell *
vigil_rule_table_cell(const VigilRuleTable *table, guint i)
{
	return &table->cells[i];
}

/*
 * The decision memo: a repeated query (the same app to the same host and port, as on a
 * desktop) is answered from a small table of recent answers instead of the index.
 *
 * Why a stored answer stays right: the set has a generation that every add, replace and
 * removal (including expiry, process exit and a consumed once rule) and every new boot id
 * changes, and an entry of another generation is never used. Within a generation a lookup
 * depends only on the key and, through until rules, on the time. Time only takes matching
 * rules away, so the answer found at time t0 is still the best match at any t >= t0 as
 * long as it still matches itself: a hit checks that the winner's until time has not come,
 * and "no rule" stays right until the generation changes. Wall-clock time can go back, so
 * a query older than t0 is not answered from the memo. A lookup that tested a rule pinning
 * a digest depends on the file and not only on the path: its answer is stored with the
 * digest it was given (or that it had none), and a hit asks the query for the digest again
 * (the daemon keeps it per process) and is only a hit when the two are the same, so an
 * executable replaced under the same path is looked up afresh. A lookup that tested no such
 * rule cannot depend on the digest (no rule pinning one passed the other tests, or none
 * could beat the winner), and its hits do not ask for it.
 *
 * The key is the query's fields as the lookup reads them (only the address bytes of its
 * family, the uid only when known, the pid and its start time only while the set has
 * process rules, so that the processes of one app share entries) and its four strings,
 * kept in the entry: a hit compares the whole key and never trusts the hash alone (host
 * names come from the network), nothing is allocated per entry and the memory is fixed.
 * A query whose strings do not fit is looked up without the memo. An entry holds no
 * reference on its rule: a rule is only freed after a removal, which starts another
 * generation, and the generation is checked before the rule pointer is used.
 *
 * The table: 2,048 sets of two ways, 1 MiB of 256-byte entries, allocated on the first
 * lookup. The tags of a set (the key's hash mixed with the generation) sit in a 64 KiB
 * array apart from the entries, so a lookup that finds no tag reads one line of the memo,
 * and one that does reads its entry. An answer is only stored when its query misses a
 * second time while the set still has its fingerprint: queries seen once, most of them
 * when nothing repeats, neither pay for a store nor push out answers in use. Nor does a
 * query seen now and then push out an answer in use: each way counts its hits (up to
 * VIGIL_RULE_MEMO_USES_MAX), a new answer takes the way with fewer, and when that way
 * has some left, the attempt only takes one away. So a popular answer stays while the rare
 * queries of its set come and go, and one that stops being asked for gives way after a few
 * of them. The counts of a set belong to one generation (its low byte, kept beside them),
 * so the dead answers of an older one give way at once. A hit costs
 * hashing the strings and reading one line of tags and the entry, whatever the size of
 * the set; a miss costs the hashing and the line of tags on top of the index (figures in
 * bench/README.md).
 */
#define VIGIL_RULE_MEMO_WAYS	  2
#define VIGIL_RULE_MEMO_SETS	  2048 /* 4,096 entries of 256 bytes */
#define VIGIL_RULE_MEMO_WORDS	  6
#define VIGIL_RULE_MEMO_STRINGS	  175 /* host, exe, app id, unit and digest together */
#define VIGIL_RULE_MEMO_NONE	  255 /* the length of a string the query does not know */
#define VIGIL_RULE_MEMO_NO_DIGEST 254 /* the answer depends on a digest the query did not have */

/* a query as the memo sees it: its fields packed in words (see vigil_rule_memo_key_init()),
 * and its strings, which stay where the query has them */
typedef struct {
	guint64 words[VIGIL_RULE_MEMO_WORDS];
	const gchar *strings[4]; /* host, exe, app id, unit */
	guint8 lens[4];
	guint len; /* of the strings together */
} VigilRuleMemoKey;

typedef struct {
	guint64 generation; /* of the set when stored; 0 when empty */
	VigilRule *rule;    /* no reference, NULL for no rule: see above */
	gint64 since;	    /* the query time the answer was found at */
	gint64 expires;	    /* the winner's until time, or G_MAXINT64 */
	guint64 words[VIGIL_RULE_MEMO_WORDS];
	guint8 digest_len; /* of the digest after the strings, VIGIL_RULE_MEMO_NO_DIGEST, or
			    * VIGIL_RULE_MEMO_NONE when the answer does not depend on it */
	gchar strings[VIGIL_RULE_MEMO_STRINGS]; /* back to back, then the digest */
} VigilRuleMemoEntry;

/* what a lookup reads first, two sets to a cache line: the tags of the ways (the key's
 * hash mixed with the generation, 0 for none) and fingerprints of queries that missed */
#define VIGIL_RULE_MEMO_USES_MAX 7

typedef struct {
	guint64 tags[VIGIL_RULE_MEMO_WAYS];
	guint32 seen[2];
	guint8 last_way; /* used last */
	guint8 uses[VIGIL_RULE_MEMO_WAYS];
	guint8 generation; /* of @uses, the low byte */
} VigilRuleMemoSet;

/* the sets apart from the entries, so that a lookup that finds no tag reads one line */
typedef struct {
	VigilRuleMemoSet sets[VIGIL_RULE_MEMO_SETS];
	VigilRuleMemoEntry entries[VIGIL_RULE_MEMO_SETS][VIGIL_RULE_MEMO_WAYS];
} VigilRuleMemo;

G_STATIC_ASSERT(sizeof(VigilRuleMemoEntry) == 256);
G_STATIC_ASSERT(sizeof(VigilRuleMemoSet) == 32);

struct _VigilRuleSet {
	GObject parent_instance;
	gchar *boot_id;
	GQueue order;		/* of VigilRuleEntry, in insertion order */
	GHashTable *by_id;	/* id -> VigilRuleEntry */
	VigilRuleTable buckets; /* of VigilRuleBucket, but any app */
	VigilRuleTable lists;	/* of VigilRuleList, of hashed buckets */
	VigilRuleBucket *any;	/* any app */
	VigilRuleDests dests;	/* the filter of the apps' destinations */
	VigilRuleArena arena;	/* of the blocks, lists and tables */
	guint32 next_serial;	/* of buckets */
	GHashTable *expiring;	/* set of VigilRuleEntry with an until or reboot lifetime */
	GHashTable *by_pid;	/* pid -> GPtrArray of VigilRuleEntry with a process lifetime */
	guint64 generation;	/* changes with every change a lookup could see */
	VigilRuleMemo *memo;	/* NULL until the first lookup that uses it */
	gboolean memo_enabled;
	guint64 memo_hits;
	guint64 memo_misses;
};

G_DEFINE_FINAL_TYPE(VigilRuleSet, vigil_rule_set, G_TYPE_OBJECT)

/* hashing */

static inline guint64
vigil_rule_mix(guint64 x)
{
	x ^= x >> 30;
	x *= G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= G_GUINT64_CONSTANT(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* FNV-1a from the last character to the first, so that a query gets the hash of every
 * label suffix of its host in one pass */
#define VIGIL_RULE_FNV_OFFSET G_GUINT64_CONSTANT(0xcbf29ce484222325)
#define VIGIL_RULE_FNV_PRIME  G_GUINT64_CONSTANT(0x100000001b3)

static guint64
vigil_rule_hash_name(const gchar *name)
{
	guint64 h = VIGIL_RULE_FNV_OFFSET;

	for (gsize i = strlen(name); i > 0; i--) {
		h ^= (guchar)name[i - 1];
		h *= VIGIL_RULE_FNV_PRIME;
	}
	return h;
}

/* a destination's hash is only compared and mixed into a group's (below), which is the one
 * mix a lookup pays per destination */
static inline guint64
vigil_rule_hash_dest_name(guint64 name_hash, VigilRuleDestKind kind)
{
	return name_hash ^ ((guint64)(kind + 1) << 56);
}

#define VIGIL_RULE_DEST_HASH_ANY 0

static inline guint64
vigil_rule_hash_dest_cidr(guint8 family, guint8 prefix, guint64 hi, guint64 lo)
{
	return (hi * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)) ^
	       (lo * G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f)) ^ ((guint64)family << 8 | prefix);
}

static inline guint64
vigil_rule_hash_group(guint64 bucket_key, guint64 dest_hash)
{
	return vigil_rule_mix(bucket_key ^ (dest_hash * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)));
}

/* the high half of a list key only depends on the bucket and the destination (the group),
 * so the lists of one destination share a word of the filter and a lookup reads one word
 * for all three */
static inline guint64
vigil_rule_hash_list_in_group(guint64 group, guint32 port_key)
{
	guint64 h = (group ^ ((guint64)port_key * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15))) *
		    G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);

	h = (group & G_GUINT64_CONSTANT(0xffffffff00000000)) | ((h ^ (h >> 32)) & 0xffffffff);
	return h != 0 ? h : 1;
}

static inline guint64
vigil_rule_hash_list(guint64 bucket_key, guint64 dest_hash, guint32 port_key)
{
	return vigil_rule_hash_list_in_group(vigil_rule_hash_group(bucket_key, dest_hash),
					     port_key);
}

static inline guint64
vigil_rule_hash_bucket(VigilRuleWhoKind kind, guint64 name_hash)
{
	guint64 h = vigil_rule_mix(name_hash ^ ((guint64)(kind + 1) << 48));
	return h != 0 ? h : 1;
}

/* masks a big-endian address to @prefix bits */
static inline void
vigil_rule_mask(guint64 hi, guint64 lo, guint prefix, guint64 *out_hi, guint64 *out_lo)
{
	if (prefix == 0) {
		*out_hi = 0;
		*out_lo = 0;
	} else if (prefix <= 64) {
		*out_hi = hi & (G_MAXUINT64 << (64 - prefix));
		*out_lo = 0;
	} else {
		*out_hi = hi;
		*out_lo = lo & (G_MAXUINT64 << (128 - prefix));
	}
}

/* the top @len bits of a word, for 0 <= @len <= 64 */
static inline guint64
vigil_rule_high_mask(guint len)
{
	return len == 0 ? 0 : G_MAXUINT64 << (64 - len);
}

static void
vigil_rule_load_address(const guint8 *addr, guint8 family, guint64 *hi, guint64 *lo)
{
	if (family == 4) {
		guint32 v4;
		memcpy(&v4, addr, 4);
		*hi = (guint64)GUINT32_FROM_BE(v4) << 32;
		*lo = 0;
		return;
	}
	memcpy(hi, addr, 8);
	memcpy(lo, addr + 8, 8);
	*hi = GUINT64_FROM_BE(*hi);
	*lo = GUINT64_FROM_BE(*lo);
}

static gboolean
vigil_rule_dest_equal(const VigilRuleDest *a, const VigilRuleDest *b)
{
	if (a->kind != b->kind || a->hash != b->hash)
		return FALSE;
	switch (a->kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		return strcmp(a->name, b->name) == 0;
	case VIGIL_RULE_DEST_KIND_CIDR:
		return a->family == b->family && a->prefix == b->prefix && a->hi == b->hi &&
		       a->lo == b->lo;
	default:
		return TRUE;
	}
}

/* tables */

#define VIGIL_RULE_FILTER_BITS_PER_KEY 16

static inline guint64
vigil_rule_filter_group_bits(guint64 key)
{
	return (G_GUINT64_CONSTANT(1) << ((key >> 40) & 63)) |
	       (G_GUINT64_CONSTANT(1) << ((key >> 46) & 63));
}

static inline guint64
vigil_rule_filter_key_bits(guint64 key)
{
	return (G_GUINT64_CONSTANT(1) << ((key >> 20) & 63)) |
	       (G_GUINT64_CONSTANT(1) << ((key >> 26) & 63));
}

/* two bits for the group (the high half of the key), two for the key itself */
static inline guint64
vigil_rule_filter_bits(guint64 key)
{
	return vigil_rule_filter_group_bits(key) | vigil_rule_filter_key_bits(key);
}

static inline gboolean
vigil_rule_filter_may_contain(const VigilRuleFilter *filter, guint64 key)
{
	guint64 bits = vigil_rule_filter_bits(key);

	return (filter->words[(guint)(key >> 32) & filter->mask] & bits) == bits;
}

static inline void
vigil_rule_filter_add(VigilRuleFilter *filter, guint64 key)
{
	filter->words[(guint)(key >> 32) & filter->mask] |= vigil_rule_filter_bits(key);
}

static guint
vigil_rule_filter_size_for(guint n_keys)
{
	guint n_words = 1;

	while (n_words * 64 < n_keys * VIGIL_RULE_FILTER_BITS_PER_KEY)
		n_words *= 2;
	return n_words;
}

/* clears the filter and sizes it for @n_keys */
static void
vigil_rule_filter_reset(VigilRuleFilter *filter, VigilRuleArena *arena, guint n_keys)
{
	guint n_words = vigil_rule_filter_size_for(n_keys);

	if (filter->words != NULL)
		vigil_rule_arena_free(arena, filter->words, (filter->mask + 1) * sizeof(guint64));
	filter->words = vigil_rule_arena_alloc0(arena, n_words * sizeof(guint64));
	filter->mask = n_words - 1;
	filter->n_stale = 0;
}

static inline gboolean
vigil_rule_filter_is_full(const VigilRuleFilter *filter, guint n_keys)
{
	return n_keys * VIGIL_RULE_FILTER_BITS_PER_KEY > (filter->mask + 1) * 64;
}

/* sizes the filter for the table and sets the bits of every key in it */
static void
vigil_rule_table_rebuild_filter(VigilRuleTable *table)
{
	if (!table->filtered)
		return;
	vigil_rule_filter_reset(&table->filter, table->arena, (table->mask + 1) / 2);
	for (guint i = 0; i <= table->mask; i++) {
		if (vigil_rule_table_cell(table, i)->key != 0)
			vigil_rule_filter_add(&table->filter, vigil_rule_table_cell(table, i)->key);
	}
}

/* the key of an address in the filter of the apps' destinations: its family and first bits
 * (from the high word of a masked address) */
static inline guint64
vigil_rule_dests_address_key(guint8 family, guint64 hi)
{
	guint bits = family == 4 ? VIGIL_RULE_DESTS_PREFIX_V4 : VIGIL_RULE_DESTS_PREFIX_V6;

	return vigil_rule_mix(((guint64)family << 32) | (hi >> (64 - bits)));
}

static void
vigil_rule_table_init(VigilRuleTable *table, VigilRuleArena *arena, gboolean filtered)
{
	table->arena = arena;
	table->cells = vigil_rule_arena_alloc0(arena, 16 * sizeof(VigilRuleCell));
	table->mask = 15;
	table->len = 0;
	table->filtered = filtered;
	vigil_rule_table_rebuild_filter(table);
}

/* returns the index of the cell */
static guint
vigil_rule_table_place(VigilRuleTable *table, guint64 key, gpointer value)
{
	guint i = (guint)key & table->mask;

	while (vigil_rule_table_cell(table, i)->key != 0)
		i = (i + 1) & table->mask;
	vigil_rule_table_cell(table, i)->key = key;
	vigil_rule_table_cell(table, i)->value = value;
	return i;
}

/* keeps the table at most half full */
static void
vigil_rule_table_insert(VigilRuleTable *table, guint64 key, gpointer value)
{
	if ((table->len + 1) * 2 > table->mask + 1) {
		VigilRuleTable old = *table;
		table->cells =
		    vigil_rule_arena_alloc0(table->arena,
					    (gsize)(old.mask + 1) * 2 * sizeof(VigilRuleCell));
		table->mask = old.mask * 2 + 1;
		for (guint j = 0; j <= old.mask; j++) {
			const VigilRuleCell *cell = vigil_rule_table_cell(&old, j);
			if (cell->key != 0)
				vigil_rule_table_place(table, cell->key, cell->value);
		}
		vigil_rule_arena_free(table->arena,
				      old.cells,
				      (gsize)(old.mask + 1) * sizeof(VigilRuleCell));
		vigil_rule_table_rebuild_filter(table);
	}
	vigil_rule_table_place(table, key, value);
	table->len++;
	if (table->filtered)
		vigil_rule_filter_add(&table->filter, key);
}

static guint
vigil_rule_table_find_value(VigilRuleTable *table, guint64 key, gpointer value)
{
	guint i = (guint)key & table->mask;

	while (vigil_rule_table_cell(table, i)->key != key ||
	       vigil_rule_table_cell(table, i)->value != value) {
		g_assert(vigil_rule_table_cell(table, i)->key != 0);
		i = (i + 1) & table->mask;
	}
	return i;
}

static void
vigil_rule_table_replace(VigilRuleTable *table, guint64 key, gpointer old, gpointer value)
{
	vigil_rule_table_cell(table, vigil_rule_table_find_value(table, key, old))->value = value;
}

/* removes by shifting back the cells that probed past it, so no tombstones are needed */
static void
vigil_rule_table_remove(VigilRuleTable *table, guint64 key, gpointer value)
{
	guint i = vigil_rule_table_find_value(table, key, value);
	guint j = i;

	for (;;) {
		guint home;
		j = (j + 1) & table->mask;
		if (vigil_rule_table_cell(table, j)->key == 0)
			break;
		home = (guint)vigil_rule_table_cell(table, j)->key & table->mask;
		if (((j - home) & table->mask) >= ((j - i) & table->mask)) {
			*vigil_rule_table_cell(table, i) = *vigil_rule_table_cell(table, j);
			i = j;
		}
	}
	vigil_rule_table_cell(table, i)->key = 0;
	vigil_rule_table_cell(table, i)->value = NULL;
	table->len--;
	if (table->filtered && ++table->filter.n_stale > table->len / 2 + 16)
		vigil_rule_table_rebuild_filter(table);
}

static void
vigil_rule_table_clear(VigilRuleTable *table)
{
	vigil_rule_arena_free(table->arena,
			      table->cells,
			      (gsize)(table->mask + 1) * sizeof(VigilRuleCell));
	if (table->filter.words != NULL)
		vigil_rule_arena_free(table->arena,
				      table->filter.words,
				      (table->filter.mask + 1) * sizeof(guint64));
	table->cells = NULL;
	table->filter.words = NULL;
	table->mask = 0;
	table->len = 0;
}

/* the first lines of a block that a lookup reads: a hashed bucket's header and the start of
 * its filter */
#define VIGIL_RULE_PREFETCH_LINES 4

/* a bucket's cell in the table of buckets holds the address of its block and, in the low bits
 * that the block's alignment to a cache line leaves free, how many of its lines a lookup
 * fetches as soon as it reads the cell: all of a flat block (up to 63), so that they come
 * in from memory together instead of its size first and then the rest */
#define VIGIL_RULE_CELL_LINES_MAX 63

static gpointer
vigil_rule_bucket_get_cell_value(const VigilRuleBucket *bucket)
{
	guint lines = bucket->flat ? MIN((bucket->size + 63) / 64, VIGIL_RULE_CELL_LINES_MAX)
				   : VIGIL_RULE_PREFETCH_LINES;

	g_assert(((guintptr)bucket & VIGIL_RULE_CELL_LINES_MAX) == 0);
	return (gpointer)((guintptr)bucket | lines);
}

static inline VigilRuleBucket *
vigil_rule_bucket_from_cell_value(gpointer value)
{
	return (VigilRuleBucket *)((guintptr)value & ~(guintptr)VIGIL_RULE_CELL_LINES_MAX);
}

static VigilRuleBucket *
vigil_rule_table_find_bucket(VigilRuleTable *table,
			     guint64 key,
			     VigilRuleWhoKind kind,
			     const gchar *name)
{
	if (!vigil_rule_filter_may_contain(&table->filter, key))
		return NULL;
	for (guint i = (guint)key & table->mask; vigil_rule_table_cell(table, i)->key != 0;
	     i = (i + 1) & table->mask) {
		VigilRuleBucket *bucket =
		    vigil_rule_bucket_from_cell_value(vigil_rule_table_cell(table, i)->value);
		if (vigil_rule_table_cell(table, i)->key == key && bucket->kind == kind &&
		    strcmp(vigil_rule_bucket_name(bucket), name) == 0)
			return bucket;
	}
	return NULL;
}

static VigilRuleList *
vigil_rule_table_find_list(VigilRuleTable *table,
			   guint64 key,
			   guint32 bucket_serial,
			   const VigilRuleDest *dest,
			   guint32 port_key)
{
	for (guint i = (guint)key & table->mask; vigil_rule_table_cell(table, i)->key != 0;
	     i = (i + 1) & table->mask) {
		VigilRuleList *list = vigil_rule_table_cell(table, i)->value;
		if (vigil_rule_table_cell(table, i)->key == key &&
		    list->bucket_serial == bucket_serial && list->port_key == port_key &&
		    vigil_rule_dest_equal(&list->dest, dest))
			return list;
	}
	return NULL;
}

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
			dest = VIGIL_RULE_DEST_DOMAIN(MIN(labels, 255));
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

/* negative when @a takes precedence over @b, both of score @score */
static gint
vigil_rule_entry_compare_tie(const VigilRuleEntry *a, const VigilRuleEntry *b)
{
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* negative when @a takes precedence over @b */
static gint
vigil_rule_entry_compare(const VigilRuleEntry *a, const VigilRuleEntry *b)
{
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return vigil_rule_entry_compare_tie(a, b);
}

/* the largest score a rule of this who and destination tier can have */
static inline guint64
vigil_rule_score_bound(guint64 who, guint64 dest)
{
	return (who << VIGIL_RULE_SCORE_WHO_SHIFT) | (dest << VIGIL_RULE_SCORE_DEST_SHIFT) |
	       ((G_GUINT64_CONSTANT(1) << VIGIL_RULE_SCORE_DEST_SHIFT) - 1);
}

/* entries */

static void
vigil_rule_dest_init_from_rule(VigilRuleDest *dest, VigilRule *rule)
{
	const gchar *host = vigil_rule_get_host(rule);

	memset(dest, 0, sizeof(*dest));
	if (host != NULL && vigil_rule_host_is_domain(rule)) {
		guint labels = 1;
		dest->kind = VIGIL_RULE_DEST_KIND_DOMAIN;
		dest->name = g_strdup(host + 2);
		for (const gchar *p = dest->name; *p != '\0'; p++)
			labels += *p == '.';
		dest->labels = (guint8)MIN(labels, 255);
		dest->name_hash = vigil_rule_hash_name(dest->name);
		dest->hash =
		    vigil_rule_hash_dest_name(dest->name_hash, VIGIL_RULE_DEST_KIND_DOMAIN);
	} else if (host != NULL) {
		dest->kind = VIGIL_RULE_DEST_KIND_HOST;
		dest->name = g_strdup(host);
		dest->name_hash = vigil_rule_hash_name(dest->name);
		dest->hash = vigil_rule_hash_dest_name(dest->name_hash, VIGIL_RULE_DEST_KIND_HOST);
	} else if (vigil_rule_get_cidr(rule) != NULL) {
		guint64 hi;
		guint64 lo;
		dest->kind = VIGIL_RULE_DEST_KIND_CIDR;
		dest->family = vigil_rule_get_cidr_family(rule);
		dest->prefix = vigil_rule_get_cidr_prefix(rule);
		vigil_rule_load_address(vigil_rule_get_cidr_address(rule), dest->family, &hi, &lo);
		vigil_rule_mask(hi, lo, dest->prefix, &dest->hi, &dest->lo);
		dest->hash =
		    vigil_rule_hash_dest_cidr(dest->family, dest->prefix, dest->hi, dest->lo);
	} else {
		dest->kind = VIGIL_RULE_DEST_KIND_ANY;
	}
}

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
	vigil_rule_dest_init_from_rule(&entry->dest, rule);

	/* the rule may be changed and put back with replace(): the entry keeps its own copy */
	entry->who_kind = VIGIL_RULE_WHO_KIND_ANY;
	if (vigil_rule_get_exe(rule) != NULL) {
		entry->who_kind = VIGIL_RULE_WHO_KIND_EXE;
		entry->who_name = g_strdup(vigil_rule_get_exe(rule));
	} else if (vigil_rule_get_app_id(rule) != NULL) {
		entry->who_kind = VIGIL_RULE_WHO_KIND_APP_ID;
		entry->who_name = g_strdup(vigil_rule_get_app_id(rule));
	} else if (vigil_rule_get_unit(rule) != NULL) {
		entry->who_kind = VIGIL_RULE_WHO_KIND_UNIT;
		entry->who_name = g_strdup(vigil_rule_get_unit(rule));
	}
	if (entry->who_name != NULL)
		entry->who_key =
		    vigil_rule_hash_bucket(entry->who_kind, vigil_rule_hash_name(entry->who_name));
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
	g_free(entry->who_name);
	g_free((gchar *)entry->dest.name);
	g_free(entry);
}

static void
vigil_rule_item_init(VigilRuleItem *item, VigilRuleEntry *entry)
{
	memset(item, 0, sizeof(*item));
	item->score = entry->score;
	item->port_min = entry->has_port ? entry->port_min : 0;
	item->port_max = entry->has_port ? entry->port_max : G_MAXUINT16;
	item->protocol = entry->protocol;
	item->direction = entry->direction;
	item->dest_kind = entry->dest.kind;
	switch (entry->dest.kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
		item->dest = entry->dest.name_hash;
		break;
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		item->dest = entry->dest.name_hash;
		item->dest_len = entry->dest.labels;
		break;
	case VIGIL_RULE_DEST_KIND_CIDR:
		item->dest = entry->dest.hi;
		item->dest_len = entry->dest.prefix;
		item->family = entry->dest.family;
		break;
	default:
		break;
	}
	if (entry->has_user) {
		item->checks |= VIGIL_RULE_CHECK_USER;
		item->uid = entry->uid;
	}
	if (entry->sha256 != NULL)
		item->checks |= VIGIL_RULE_CHECK_SHA256;
	if (entry->lifetime == VIGIL_LIFETIME_UNTIL || entry->lifetime == VIGIL_LIFETIME_REBOOT ||
	    entry->lifetime == VIGIL_LIFETIME_PROCESS)
		item->checks |= VIGIL_RULE_CHECK_LIFETIME;
}

/* flat buckets */

/* a byte of @x, never 0 */
static inline guint8
vigil_rule_tag(guint64 x)
{
	guint8 tag = (guint8)((x * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)) >> 56);

	return tag != 0 ? tag : 1;
}

/* the tag of an item's destination: a byte of the name's hash for a host or a domain, of
 * its key in the filter of the apps' destinations (family and first bits) for a long enough
 * prefix, 0 (which every query has) for a shorter prefix or any destination */
static guint8
vigil_rule_item_tag(const VigilRuleItem *item)
{
	switch (item->dest_kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		return vigil_rule_tag(item->dest);
	case VIGIL_RULE_DEST_KIND_CIDR:
		if (item->dest_len <
		    (item->family == 4 ? VIGIL_RULE_DESTS_PREFIX_V4 : VIGIL_RULE_DESTS_PREFIX_V6))
			return 0;
		return vigil_rule_tag(vigil_rule_dests_address_key(item->family, item->dest));
	default:
		return 0;
	}
}

/* what of an item a flat bucket keeps in its pool, or NULL */
static const gchar *
vigil_rule_entry_get_pool_data(const VigilRuleEntry *entry, gsize *len)
{
	switch (entry->dest.kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		*len = strlen(entry->dest.name) + 1;
		return entry->dest.name;
	case VIGIL_RULE_DEST_KIND_CIDR:
		*len = sizeof(guint64);
		return entry->dest.prefix > 64 ? (const gchar *)&entry->dest.lo : NULL;
	default:
		return NULL;
	}
}

static const gchar *
vigil_rule_item_get_pool_data(const VigilRuleItem *item, const gchar *pool, gsize *len)
{
	switch (item->dest_kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		*len = strlen(pool + item->pool) + 1;
		return pool + item->pool;
	case VIGIL_RULE_DEST_KIND_CIDR:
		*len = sizeof(guint64);
		return item->dest_len > 64 ? pool + item->pool : NULL;
	default:
		return NULL;
	}
}

/*
 * A flat bucket for @like's who (key, serial, kind, name) with the rules of @old (or none),
 * @entry added in its place unless %NULL, and the rule at @remove_at taken out unless it is
 * G_MAXUINT. The pool is copied from @old, so that only @entry is read.
 */
static VigilRuleBucket *
vigil_rule_bucket_new_flat(VigilRuleArena *arena,
			   const VigilRuleBucket *like,
			   const gchar *name,
			   const VigilRuleBucket *old,
			   VigilRuleEntry *entry,
			   guint remove_at)
{
	const VigilRuleItem *old_items = old != NULL ? vigil_rule_bucket_items(old) : NULL;
	const VigilRuleRef *old_refs = old != NULL ? vigil_rule_bucket_refs(old) : NULL;
	const gchar *old_pool = old != NULL ? vigil_rule_bucket_pool(old) : NULL;
	guint n_old = old != NULL ? old->n_entries : 0;
	guint insert_at = G_MAXUINT;
	gsize pool_len = 0;
	gsize name_len;
	gsize tags_len;
	gsize items_offset;
	guint8 *tags;
	gsize size;
	VigilRuleBucket *bucket;
	VigilRuleItem *items;
	VigilRuleRef *refs;
	gchar *pool;
	gsize used = 0;
	guint n;
	guint j = 0;

	if (entry != NULL) {
		guint lo = 0;
		guint hi = n_old;
		gsize len = 0;
		while (lo < hi) {
			guint mid = lo + (hi - lo) / 2;
			if (vigil_rule_entry_compare(old_refs[mid].entry, entry) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		insert_at = lo;
		if (vigil_rule_entry_get_pool_data(entry, &len) != NULL)
			pool_len += len;
	}
	for (guint i = 0; i < n_old; i++) {
		gsize len = 0;
		if (i != remove_at && vigil_rule_item_get_pool_data(&old_items[i], old_pool, &len))
			pool_len += len;
	}
	n = n_old + (entry != NULL) - (remove_at != G_MAXUINT);
	g_assert(n > 0 && pool_len <= G_MAXUINT16);

	name_len = name != NULL ? strlen(name) + 1 : 0;
	/* the tags start at a word after the name and end where the items start */
	tags_len = VIGIL_RULE_TAGS_WORDS(n) * sizeof(guint64);
	items_offset = ((sizeof(VigilRuleBucket) + name_len + 7) & ~(gsize)7) + tags_len;
	items_offset = (items_offset + sizeof(VigilRuleItem) - 1) & ~(sizeof(VigilRuleItem) - 1);
	size = items_offset + n * (sizeof(VigilRuleItem) + sizeof(VigilRuleRef)) + pool_len;
	bucket = vigil_rule_arena_alloc(arena, size);
	*bucket = *like;
	bucket->flat = TRUE;
	bucket->size = (guint)size;
	bucket->n_entries = n;
	bucket->name = 0;
	if (name != NULL) {
		bucket->name = sizeof(VigilRuleBucket);
		memcpy((gchar *)bucket + bucket->name, name, name_len);
	}
	bucket->items = (guint)items_offset;
	bucket->refs = bucket->items + n * sizeof(VigilRuleItem);
	bucket->pool = bucket->refs + n * sizeof(VigilRuleRef);
	items = vigil_rule_bucket_items(bucket);
	refs = vigil_rule_bucket_refs(bucket);
	pool = (gchar *)bucket + bucket->pool;
	for (guint i = 0; i <= n_old; i++) {
		const gchar *data = NULL;
		gsize len = 0;
		if (i == insert_at) {
			vigil_rule_item_init(&items[j], entry);
			refs[j].rule = entry->rule;
			refs[j].entry = entry;
			data = vigil_rule_entry_get_pool_data(entry, &len);
			if (data != NULL) {
				items[j].pool = (guint16)used;
				memcpy(pool + used, data, len);
				used += len;
			}
			j++;
		}
		if (i == n_old || i == remove_at)
			continue;
		items[j] = old_items[i];
		refs[j] = old_refs[i];
		data = vigil_rule_item_get_pool_data(&old_items[i], old_pool, &len);
		if (data != NULL) {
			items[j].pool = (guint16)used;
			memcpy(pool + used, data, len);
			used += len;
		}
		j++;
	}
	g_assert(j == n && used == pool_len);
	tags = (guint8 *)vigil_rule_bucket_tags(bucket);
	memset(tags, 0, tags_len);
	for (guint i = 0; i < n; i++)
		tags[i] = vigil_rule_item_tag(&items[i]);
	return bucket;
}

/* hashed buckets */

static inline void
vigil_rule_mask_set(guint64 *mask, guint bit, gboolean value)
{
	if (value)
		mask[bit / 64] |= G_GUINT64_CONSTANT(1) << (bit % 64);
	else
		mask[bit / 64] &= ~(G_GUINT64_CONSTANT(1) << (bit % 64));
}

static inline gboolean
vigil_rule_mask_get(const guint64 *mask, guint bit)
{
	return (mask[bit / 64] & (G_GUINT64_CONSTANT(1) << (bit % 64))) != 0;
}

/* sets the bits of every list of the bucket, in a filter sized for them within what the
 * block holds */
static void
vigil_rule_hashed_rebuild_filter(VigilRuleHashed *hashed)
{
	guint n_words =
	    MIN(vigil_rule_filter_size_for(hashed->lists->len), hashed->filter_capacity);

	memset(hashed->filter.words, 0, n_words * sizeof(guint64));
	hashed->filter.mask = n_words - 1;
	hashed->filter.n_stale = 0;
	for (guint i = 0; i < hashed->lists->len; i++) {
		VigilRuleList *list = g_ptr_array_index(hashed->lists, i);
		vigil_rule_filter_add(&hashed->filter, list->key);
	}
}

/* a hashed bucket for @like's who with a filter of @capacity words; it takes over the lists,
 * counts and masks of @old when that is not %NULL */
static VigilRuleBucket *
vigil_rule_bucket_new_hashed(VigilRuleArena *arena,
			     const VigilRuleBucket *like,
			     const gchar *name,
			     const VigilRuleBucket *old,
			     guint capacity)
{
	gsize name_len = name != NULL ? strlen(name) + 1 : 0;
	gsize header = sizeof(VigilRuleBucket) + sizeof(VigilRuleHashed);
	gsize size = header + capacity * sizeof(guint64) + name_len;
	VigilRuleBucket *bucket = vigil_rule_arena_alloc0(arena, size);
	VigilRuleHashed *hashed = vigil_rule_bucket_hashed(bucket);

	*bucket = *like;
	bucket->flat = FALSE;
	bucket->size = (guint)size;
	bucket->items = 0;
	bucket->refs = 0;
	bucket->pool = 0;
	bucket->name = 0;
	if (old != NULL) {
		*hashed = *vigil_rule_bucket_hashed(old);
	} else {
		hashed->lists = g_ptr_array_new();
		bucket->n_entries = 0;
	}
	hashed->filter.words = (guint64 *)(hashed + 1);
	hashed->filter_capacity = capacity;
	vigil_rule_hashed_rebuild_filter(hashed);
	if (name != NULL) {
		bucket->name = (guint)(header + capacity * sizeof(guint64));
		memcpy((gchar *)bucket + bucket->name, name, name_len);
	}
	return bucket;
}

/* keeps the masks of domain label counts and prefix lengths in step with the entries */
static void
vigil_rule_hashed_count(VigilRuleHashed *hashed, const VigilRuleDest *dest, gint delta)
{
	guint idx;

	if (dest->kind == VIGIL_RULE_DEST_KIND_DOMAIN)
		idx = MIN(dest->labels, VIGIL_RULE_LABELS_MAX);
	else if (dest->kind == VIGIL_RULE_DEST_KIND_CIDR)
		idx = VIGIL_RULE_COUNTS_PREFIX(dest->family, dest->prefix);
	else
		return;
	if (hashed->counts == NULL)
		hashed->counts = g_new0(guint, VIGIL_RULE_COUNTS_LEN);
	if (delta > 0)
		hashed->counts[idx]++;
	else
		hashed->counts[idx]--;
	if (dest->kind == VIGIL_RULE_DEST_KIND_DOMAIN)
		vigil_rule_mask_set(&hashed->domain_mask, idx, hashed->counts[idx] > 0);
	else
		vigil_rule_mask_set(hashed->prefix_mask[dest->family == 6],
				    dest->prefix,
				    hashed->counts[idx] > 0);
}

static VigilRulePortKind
vigil_rule_port_kind(guint32 port_key)
{
	if (port_key == VIGIL_RULE_PORT_KEY_ANY)
		return VIGIL_RULE_PORT_KIND_ANY;
	if (port_key <= VIGIL_RULE_PORT_KEY_EXACT(G_MAXUINT16))
		return VIGIL_RULE_PORT_KIND_EXACT;
	return VIGIL_RULE_PORT_KIND_BLOCK;
}

/* the first list key the entry belongs under; the others are the next port blocks */
static guint32
vigil_rule_entry_first_port_key(const VigilRuleEntry *entry)
{
	if (!entry->has_port)
		return VIGIL_RULE_PORT_KEY_ANY;
	if (entry->port_min == entry->port_max)
		return VIGIL_RULE_PORT_KEY_EXACT(entry->port_min);
	return VIGIL_RULE_PORT_KEY_BLOCK(entry->port_min);
}

static guint32
vigil_rule_entry_last_port_key(const VigilRuleEntry *entry)
{
	if (!entry->has_port || entry->port_min == entry->port_max)
		return vigil_rule_entry_first_port_key(entry);
	return VIGIL_RULE_PORT_KEY_BLOCK(entry->port_max);
}

/* index */

/* the key of the entry's destination in the filter of the apps' destinations */
static guint64
vigil_rule_entry_get_dests_key(const VigilRuleEntry *entry)
{
	const VigilRuleDest *dest = &entry->dest;
	guint64 key = VIGIL_RULE_DESTS_ANY;

	switch (dest->kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		key = dest->name_hash;
		break;
	case VIGIL_RULE_DEST_KIND_CIDR:
		if (dest->prefix >=
		    (dest->family == 4 ? VIGIL_RULE_DESTS_PREFIX_V4 : VIGIL_RULE_DESTS_PREFIX_V6))
			key = vigil_rule_dests_address_key(dest->family, dest->hi);
		break;
	default:
		break;
	}
	return vigil_rule_hash_group(entry->who_key, key);
}

/* the line of the app with @bucket_key */
static inline const guint64 *
vigil_rule_dests_get_line(const VigilRuleDests *dests, guint64 bucket_key)
{
	guint line = (guint)(((bucket_key >> 32) * dests->n_lines) >> 32);

	return dests->words + (gsize)line * VIGIL_RULE_DESTS_PAIR_WORDS;
}

/* the tag of an app's slot in its line's directory, from bits of its bucket key that
 * neither the line nor the table of buckets is chosen by; never 0, which marks a free slot */
static inline guint64
vigil_rule_dests_slot_tag(guint64 bucket_key)
{
	guint64 tag = (bucket_key >> 16) & 0xffff;

	return (tag != 0 ? tag : 1) << VIGIL_RULE_DESTS_TAG_SHIFT;
}

/* whether a cell value of the table of buckets fits under a tag */
static inline gboolean
vigil_rule_dests_slot_fits(gpointer value)
{
	return ((guintptr)value >> VIGIL_RULE_DESTS_TAG_SHIFT) == 0;
}

/* points the app's slot to @value, a cell value of the table of buckets, in place of @old;
 * either may be NULL. An app without a slot takes a free one, if any. */
static void
vigil_rule_dests_set_slot(VigilRuleDests *dests, guint64 bucket_key, gpointer old, gpointer value)
{
	guint64 *slots =
	    (guint64 *)vigil_rule_dests_get_line(dests, bucket_key) + VIGIL_RULE_DESTS_LINE_WORDS;
	guint64 tag = vigil_rule_dests_slot_tag(bucket_key);
	guint free_slot = G_MAXUINT;

	if (value != NULL && !vigil_rule_dests_slot_fits(value))
		value = NULL;
	for (guint i = 0; i < VIGIL_RULE_DESTS_SLOTS; i++) {
		if (old != NULL && vigil_rule_dests_slot_fits(old) &&
		    slots[i] == (tag | (guintptr)old)) {
			slots[i] = value != NULL ? tag | (guintptr)value : 0;
			return;
		}
		if (slots[i] == 0 && free_slot == G_MAXUINT)
			free_slot = i;
	}
	if (value != NULL && free_slot != G_MAXUINT)
		slots[free_slot] = tag | (guintptr)value;
}

/* the four bits of @key, the app's bucket key mixed with a destination key, in its line */
#define VIGIL_RULE_DESTS_BIT(key, n) (((key) >> (9 * (n))) & 511)

static inline gboolean
vigil_rule_dests_line_has(const guint64 *line, guint64 key)
{
	for (guint n = 0; n < 4; n++) {
		guint bit = VIGIL_RULE_DESTS_BIT(key, n);
		if ((line[bit / 64] & (G_GUINT64_CONSTANT(1) << (bit % 64))) == 0)
			return FALSE;
	}
	return TRUE;
}

static void
vigil_rule_dests_set(VigilRuleDests *dests, const VigilRuleDestsKey *key)
{
	guint64 *line = (guint64 *)vigil_rule_dests_get_line(dests, key->bucket_key);

	for (guint n = 0; n < 4; n++) {
		guint bit = VIGIL_RULE_DESTS_BIT(key->key, n);
		line[bit / 64] |= G_GUINT64_CONSTANT(1) << (bit % 64);
	}
}

/* sizes the filter of the apps' destinations for @n_keys and sets the bits of every indexed
 * app rule */
static void
vigil_rule_set_rebuild_dests(VigilRuleSet *self, guint n_keys)
{
	VigilRuleDests *dests = &self->dests;
	VigilRuleTable *buckets = &self->buckets;
	guint n_apps = buckets->len * 5 / 4 + 16;

	if (dests->words != NULL)
		vigil_rule_arena_free(&self->arena,
				      dests->words,
				      (gsize)dests->n_lines * VIGIL_RULE_DESTS_PAIR_WORDS *
					  sizeof(guint64));
	dests->n_lines =
	    MAX(MAX(n_keys / VIGIL_RULE_DESTS_LINE_KEYS, n_apps / VIGIL_RULE_DESTS_LINE_APPS), 1);
	dests->words = vigil_rule_arena_alloc0(&self->arena,
					       (gsize)dests->n_lines * VIGIL_RULE_DESTS_PAIR_WORDS *
						   sizeof(guint64));
	dests->n_stale = 0;
	for (guint i = 0; i < dests->keys->len; i++)
		vigil_rule_dests_set(dests, &g_array_index(dests->keys, VigilRuleDestsKey, i));
	for (guint i = 0; buckets->cells != NULL && i <= buckets->mask; i++) {
		const VigilRuleCell *cell = vigil_rule_table_cell(buckets, i);
		if (cell->key != 0)
			vigil_rule_dests_set_slot(dests, cell->key, NULL, cell->value);
	}
}

/* grows by a quarter when full, so that loading a large file rebuilds it a few dozen times */
static void
vigil_rule_set_add_dest(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleDests *dests = &self->dests;
	VigilRuleDestsKey key = {
	    .bucket_key = entry->who_key,
	    .key = vigil_rule_entry_get_dests_key(entry),
	    .entry = entry,
	};

	entry->dests_index = dests->keys->len;
	g_array_append_val(dests->keys, key);
	if (dests->keys->len + dests->n_stale > dests->n_lines * VIGIL_RULE_DESTS_LINE_KEYS)
		vigil_rule_set_rebuild_dests(self, dests->keys->len * 5 / 4 + 64);
	else
		vigil_rule_dests_set(dests, &key);
}

/* the entry is no longer indexed: its bits stay until the filter is rebuilt */
static void
vigil_rule_set_remove_dest(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleDests *dests = &self->dests;
	VigilRuleDestsKey *last =
	    &g_array_index(dests->keys, VigilRuleDestsKey, dests->keys->len - 1);

	last->entry->dests_index = entry->dests_index;
	g_array_index(dests->keys, VigilRuleDestsKey, entry->dests_index) = *last;
	g_array_set_size(dests->keys, dests->keys->len - 1);
	if (++dests->n_stale > dests->keys->len / 2 + 64)
		vigil_rule_set_rebuild_dests(self, dests->keys->len * 5 / 4 + 64);
}

/* the bucket a block moved from is freed; its lists and counts are the new block's */
static void
vigil_rule_set_move_bucket(VigilRuleSet *self, VigilRuleBucket *old, VigilRuleBucket *bucket)
{
	if (old == self->any) {
		self->any = bucket;
	} else {
		vigil_rule_table_replace(&self->buckets,
					 old->key,
					 vigil_rule_bucket_get_cell_value(old),
					 vigil_rule_bucket_get_cell_value(bucket));
		vigil_rule_dests_set_slot(&self->dests,
					  old->key,
					  vigil_rule_bucket_get_cell_value(old),
					  vigil_rule_bucket_get_cell_value(bucket));
	}
	vigil_rule_bucket_free(&self->arena, old);
}

static VigilRuleBucket *
vigil_rule_set_find_bucket(VigilRuleSet *self, const VigilRuleEntry *entry)
{
	if (entry->who_name == NULL)
		return self->any;
	return vigil_rule_table_find_bucket(&self->buckets,
					    entry->who_key,
					    entry->who_kind,
					    entry->who_name);
}

static guint
vigil_rule_list_lower_bound(const VigilRuleList *list, const VigilRuleEntry *entry)
{
	const VigilRuleRef *refs = vigil_rule_list_refs(list);
	guint lo = 0;
	guint hi = list->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (vigil_rule_entry_compare(refs[mid].entry, entry) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* adds the list to the bucket's filter, which may move the bucket to a larger block */
static void
vigil_rule_set_hashed_add_list(VigilRuleSet *self, VigilRuleBucket **bucket, VigilRuleList *list)
{
	VigilRuleHashed *hashed = vigil_rule_bucket_hashed(*bucket);
	guint n_words;

	list->bucket_index = hashed->lists->len;
	g_ptr_array_add(hashed->lists, list);
	if (!vigil_rule_filter_is_full(&hashed->filter, hashed->lists->len)) {
		vigil_rule_filter_add(&hashed->filter, list->key);
		return;
	}
	n_words = vigil_rule_filter_size_for(hashed->lists->len);
	if (n_words <= hashed->filter_capacity) {
		vigil_rule_hashed_rebuild_filter(hashed);
	} else {
		VigilRuleBucket *moved =
		    vigil_rule_bucket_new_hashed(&self->arena,
						 *bucket,
						 vigil_rule_bucket_name(*bucket),
						 *bucket,
						 n_words);
		vigil_rule_set_move_bucket(self, *bucket, moved);
		*bucket = moved;
	}
}

static void
vigil_rule_hashed_remove_list(VigilRuleHashed *hashed, VigilRuleList *list)
{
	VigilRuleList *last = g_ptr_array_index(hashed->lists, hashed->lists->len - 1);

	g_ptr_array_index(hashed->lists, list->bucket_index) = last;
	last->bucket_index = list->bucket_index;
	g_ptr_array_set_size(hashed->lists, hashed->lists->len - 1);
	if (++hashed->filter.n_stale > hashed->lists->len / 2 + 8)
		vigil_rule_hashed_rebuild_filter(hashed);
}

static void
vigil_rule_set_list_insert(VigilRuleSet *self,
			   VigilRuleBucket **bucket,
			   VigilRuleEntry *entry,
			   guint32 port_key)
{
	guint64 key = vigil_rule_hash_list((*bucket)->key, entry->dest.hash, port_key);
	VigilRuleList *list = vigil_rule_table_find_list(&self->lists,
							 key,
							 (*bucket)->serial,
							 &entry->dest,
							 port_key);
	VigilRuleItem *items;
	VigilRuleRef *refs;
	guint idx;

	if (list == NULL) {
		gsize name_len = entry->dest.name != NULL ? strlen(entry->dest.name) + 1 : 0;
		guint items_offset = (guint)((sizeof(VigilRuleList) + name_len + 7) & ~(gsize)7);
		list = vigil_rule_arena_alloc0(&self->arena, vigil_rule_list_size(items_offset, 2));
		list->key = key;
		list->bucket_serial = (*bucket)->serial;
		list->dest = entry->dest;
		if (entry->dest.name != NULL)
			list->dest.name = memcpy(list + 1, entry->dest.name, name_len);
		list->port_key = port_key;
		list->alloc = 2;
		list->items_offset = items_offset;
		vigil_rule_table_insert(&self->lists, key, list);
		vigil_rule_set_hashed_add_list(self, bucket, list);
		vigil_rule_bucket_hashed(*bucket)
		    ->n_lists[entry->dest.kind][vigil_rule_port_kind(port_key)]++;
	} else if (list->len == list->alloc) {
		VigilRuleList *old = list;
		list = vigil_rule_arena_realloc(
		    &self->arena,
		    list,
		    vigil_rule_list_size(list->items_offset, list->alloc),
		    vigil_rule_list_size(list->items_offset, 2 * list->alloc));
		/* the refs follow the items, which now have room for twice as many */
		memmove(vigil_rule_list_items(list) + 2 * list->alloc,
			vigil_rule_list_items(list) + list->alloc,
			list->len * sizeof(VigilRuleRef));
		list->alloc *= 2;
		if (list->dest.name != NULL)
			list->dest.name = (const gchar *)(list + 1);
		if (list != old) {
			VigilRuleHashed *hashed = vigil_rule_bucket_hashed(*bucket);
			vigil_rule_table_replace(&self->lists, key, old, list);
			g_ptr_array_index(hashed->lists, list->bucket_index) = list;
		}
	}
	items = vigil_rule_list_items(list);
	refs = vigil_rule_list_refs(list);
	idx = vigil_rule_list_lower_bound(list, entry);
	memmove(&items[idx + 1], &items[idx], (list->len - idx) * sizeof(VigilRuleItem));
	memmove(&refs[idx + 1], &refs[idx], (list->len - idx) * sizeof(VigilRuleRef));
	vigil_rule_item_init(&items[idx], entry);
	refs[idx].rule = entry->rule;
	refs[idx].entry = entry;
	list->len++;
}

static void
vigil_rule_set_list_remove(VigilRuleSet *self,
			   VigilRuleBucket *bucket,
			   VigilRuleEntry *entry,
			   guint32 port_key)
{
	guint64 key = vigil_rule_hash_list(bucket->key, entry->dest.hash, port_key);
	VigilRuleList *list =
	    vigil_rule_table_find_list(&self->lists, key, bucket->serial, &entry->dest, port_key);
	VigilRuleHashed *hashed = vigil_rule_bucket_hashed(bucket);
	VigilRuleItem *items;
	VigilRuleRef *refs;
	guint idx;

	g_assert(list != NULL);
	items = vigil_rule_list_items(list);
	refs = vigil_rule_list_refs(list);
	idx = vigil_rule_list_lower_bound(list, entry);
	g_assert(idx < list->len && refs[idx].entry == entry);
	list->len--;
	memmove(&items[idx], &items[idx + 1], (list->len - idx) * sizeof(VigilRuleItem));
	memmove(&refs[idx], &refs[idx + 1], (list->len - idx) * sizeof(VigilRuleRef));
	if (list->len > 0)
		return;
	vigil_rule_table_remove(&self->lists, key, list);
	vigil_rule_hashed_remove_list(hashed, list);
	hashed->n_lists[entry->dest.kind][vigil_rule_port_kind(port_key)]--;
	vigil_rule_arena_free(&self->arena,
			      list,
			      vigil_rule_list_size(list->items_offset, list->alloc));
}

static void
vigil_rule_set_hashed_insert(VigilRuleSet *self, VigilRuleBucket **bucket, VigilRuleEntry *entry)
{
	guint32 last = vigil_rule_entry_last_port_key(entry);

	for (guint32 port_key = vigil_rule_entry_first_port_key(entry); port_key <= last;
	     port_key++)
		vigil_rule_set_list_insert(self, bucket, entry, port_key);
	vigil_rule_hashed_count(vigil_rule_bucket_hashed(*bucket), &entry->dest, 1);
	(*bucket)->n_entries++;
}

static void
vigil_rule_set_hashed_remove(VigilRuleSet *self, VigilRuleBucket *bucket, VigilRuleEntry *entry)
{
	guint32 last = vigil_rule_entry_last_port_key(entry);

	for (guint32 port_key = vigil_rule_entry_first_port_key(entry); port_key <= last;
	     port_key++)
		vigil_rule_set_list_remove(self, bucket, entry, port_key);
	vigil_rule_hashed_count(vigil_rule_bucket_hashed(bucket), &entry->dest, -1);
	bucket->n_entries--;
}

/* a flat bucket that outgrows its block becomes hashed */
static void
vigil_rule_set_make_hashed(VigilRuleSet *self, VigilRuleBucket *flat)
{
	g_autofree VigilRuleEntry **entries = g_new(VigilRuleEntry *, flat->n_entries);
	const VigilRuleRef *refs = vigil_rule_bucket_refs(flat);
	guint n = flat->n_entries;
	VigilRuleBucket *bucket;

	for (guint i = 0; i < n; i++)
		entries[i] = refs[i].entry;
	bucket = vigil_rule_bucket_new_hashed(&self->arena,
					      flat,
					      vigil_rule_bucket_name(flat),
					      NULL,
					      vigil_rule_filter_size_for(2 * n));
	vigil_rule_set_move_bucket(self, flat, bucket);
	for (guint i = 0; i < n; i++)
		vigil_rule_set_hashed_insert(self, &bucket, entries[i]);
}

/* a hashed bucket that got small is made flat: its entries are found in its lists (once
 * each, in the list of their first port key), the lists freed */
static void
vigil_rule_set_make_flat(VigilRuleSet *self, VigilRuleBucket *hashed_bucket)
{
	VigilRuleHashed *hashed = vigil_rule_bucket_hashed(hashed_bucket);
	g_autoptr(GPtrArray) entries = g_ptr_array_new();
	VigilRuleBucket like = *hashed_bucket;
	VigilRuleBucket *bucket = NULL;

	for (guint i = 0; i < hashed->lists->len; i++) {
		VigilRuleList *list = g_ptr_array_index(hashed->lists, i);
		const VigilRuleRef *refs = vigil_rule_list_refs(list);
		for (guint j = 0; j < list->len; j++) {
			if (vigil_rule_entry_first_port_key(refs[j].entry) == list->port_key)
				g_ptr_array_add(entries, refs[j].entry);
		}
		vigil_rule_table_remove(&self->lists, list->key, list);
		vigil_rule_arena_free(&self->arena,
				      list,
				      vigil_rule_list_size(list->items_offset, list->alloc));
	}
	g_assert(entries->len == hashed_bucket->n_entries);
	for (guint i = 0; i < entries->len; i++) {
		VigilRuleBucket *next =
		    vigil_rule_bucket_new_flat(&self->arena,
					       &like,
					       vigil_rule_bucket_name(hashed_bucket),
					       bucket,
					       g_ptr_array_index(entries, i),
					       G_MAXUINT);
		if (bucket != NULL)
			vigil_rule_bucket_free(&self->arena, bucket);
		bucket = next;
	}
	g_free(hashed->counts);
	g_ptr_array_unref(hashed->lists);
	vigil_rule_set_move_bucket(self, hashed_bucket, bucket);
}

static void
vigil_rule_set_index(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleBucket *bucket;

	if (!vigil_rule_get_enabled(entry->rule))
		return;
	entry->indexed = TRUE;
	if (entry->who_name != NULL)
		vigil_rule_set_add_dest(self, entry);
	bucket = vigil_rule_set_find_bucket(self, entry);
	if (bucket == NULL) {
		VigilRuleBucket like = {
		    .key = entry->who_name != NULL ? entry->who_key : 1,
		    .serial = ++self->next_serial,
		    .kind = entry->who_kind,
		    .who_max =
			entry->who_name == NULL
			    ? VIGIL_RULE_WHO_USER
			    : VIGIL_RULE_WHO_APP + VIGIL_RULE_WHO_SHA256 + VIGIL_RULE_WHO_USER,
		};
		bucket = vigil_rule_bucket_new_flat(&self->arena,
						    &like,
						    entry->who_name,
						    NULL,
						    entry,
						    G_MAXUINT);
		if (entry->who_name == NULL) {
			self->any = bucket;
			return;
		}
		vigil_rule_table_insert(&self->buckets,
					bucket->key,
					vigil_rule_bucket_get_cell_value(bucket));
		/* the directory of the filter's lines is sized for the apps too */
		if (self->buckets.len > self->dests.n_lines * VIGIL_RULE_DESTS_LINE_APPS)
			vigil_rule_set_rebuild_dests(self, self->dests.keys->len * 5 / 4 + 64);
		else
			vigil_rule_dests_set_slot(&self->dests,
						  bucket->key,
						  NULL,
						  vigil_rule_bucket_get_cell_value(bucket));
		return;
	}
	if (bucket->flat && bucket->n_entries < VIGIL_RULE_FLAT_MAX) {
		vigil_rule_set_move_bucket(self,
					   bucket,
					   vigil_rule_bucket_new_flat(&self->arena,
								      bucket,
								      entry->who_name,
								      bucket,
								      entry,
								      G_MAXUINT));
		return;
	}
	if (bucket->flat) {
		vigil_rule_set_make_hashed(self, bucket);
		bucket = vigil_rule_set_find_bucket(self, entry);
	}
	vigil_rule_set_hashed_insert(self, &bucket, entry);
}

static void
vigil_rule_set_unindex(VigilRuleSet *self, VigilRuleEntry *entry)
{
	VigilRuleBucket *bucket;
	const VigilRuleRef *refs;
	guint idx = 0;

	if (!entry->indexed)
		return;
	entry->indexed = FALSE;
	if (entry->who_name != NULL)
		vigil_rule_set_remove_dest(self, entry);
	bucket = vigil_rule_set_find_bucket(self, entry);
	g_assert(bucket != NULL);
	if (!bucket->flat) {
		vigil_rule_set_hashed_remove(self, bucket, entry);
		if (bucket->n_entries <= VIGIL_RULE_FLAT_MIN)
			vigil_rule_set_make_flat(self, bucket);
		return;
	}
	if (bucket->n_entries > 1) {
		refs = vigil_rule_bucket_refs(bucket);
		while (refs[idx].entry != entry)
			idx++;
		vigil_rule_set_move_bucket(self,
					   bucket,
					   vigil_rule_bucket_new_flat(&self->arena,
								      bucket,
								      entry->who_name,
								      bucket,
								      NULL,
								      idx));
		return;
	}
	if (bucket == self->any) {
		self->any = NULL;
	} else {
		vigil_rule_table_remove(&self->buckets,
					bucket->key,
					vigil_rule_bucket_get_cell_value(bucket));
		vigil_rule_dests_set_slot(&self->dests,
					  bucket->key,
					  vigil_rule_bucket_get_cell_value(bucket),
					  NULL);
	}
	vigil_rule_bucket_free(&self->arena, bucket);
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
	self->generation++;
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
	self->generation++;
}

/* GObject */

static void
vigil_rule_set_finalize(GObject *object)
{
	VigilRuleSet *self = VIGIL_RULE_SET(object);

	vigil_rule_set_clear(self);
	g_hash_table_unref(self->by_id);
	vigil_rule_table_clear(&self->buckets);
	vigil_rule_table_clear(&self->lists);
	vigil_rule_arena_clear(&self->arena);
	g_array_unref(self->dests.keys);
	g_hash_table_unref(self->expiring);
	g_hash_table_unref(self->by_pid);
	g_free(self->boot_id);
	g_aligned_free(self->memo);
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
	vigil_rule_arena_init(&self->arena);
	vigil_rule_table_init(&self->buckets, &self->arena, TRUE);
	vigil_rule_table_init(&self->lists, &self->arena, FALSE);
	self->dests.keys = g_array_new(FALSE, FALSE, sizeof(VigilRuleDestsKey));
	vigil_rule_set_rebuild_dests(self, 0);
	self->expiring = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->by_pid = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)g_ptr_array_unref);
	self->generation = 1;
	self->memo_enabled = g_strcmp0(g_getenv("VIGIL_RULE_SET_NO_MEMO"), "1") != 0;
}

/**
 * vigil_rule_set_new:
 *
 * Creates an empty, indexed rule set. The set holds a reference on each rule it is given;
 * a rule in the set must not be changed (other than its hit count and last-used time)
 * unless it is put back with vigil_rule_set_replace(), because the index keeps what it
 * read when the rule was added. A rule set is used from one thread, lookups included: they
 * update a memo of recent answers. Setting `VIGIL_RULE_SET_NO_MEMO=1` in the environment
 * makes new sets start without it (see vigil_rule_set_set_memo_enabled()).
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
	self->generation++;
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
	const VigilRuleItem *best; /* NULL until a rule matches */
	const VigilRuleRef *best_ref;
	const gchar *sha256;
	gboolean sha256_done;	/* asked the query (or was given it by the memo) */
	gboolean sha256_tested; /* a rule pinning a digest was tested against it */
	guint32 port_key_exact;
	guint32 port_key_block;
	/* the host: lower case, where each label suffix starts and its name hash */
	const gchar *host;
	guint n_suffixes;
	/* the tags a destination of the query can have, each in every byte of a word, once a
	 * large flat bucket needs them; none when the host has too many labels */
	gboolean tags_done;
	guint n_tags;
	guint16 suffix_offsets[VIGIL_RULE_HOST_MAX / 2 + 2];
	guint64 suffix_hashes[VIGIL_RULE_HOST_MAX / 2 + 2];
	guint64 tags[VIGIL_RULE_DESTS_SUFFIXES_MAX + 2];
	gchar host_buf[VIGIL_RULE_HOST_MAX + 2];
	/* the address */
	guint8 family;
	guint64 hi;
	guint64 lo;
} VigilRuleLookup;

/* whether the rule of @item could take precedence over the best so far; items come best
 * first, so once one cannot, none after it in its bucket or list can */
static inline gboolean
vigil_rule_lookup_may_beat(const VigilRuleLookup *lookup,
			   const VigilRuleItem *item,
			   const VigilRuleRef *ref)
{
	if (lookup->best == NULL || item->score > lookup->best->score)
		return TRUE;
	if (item->score < lookup->best->score)
		return FALSE;
	return vigil_rule_entry_compare_tie(ref->entry, lookup->best_ref->entry) < 0;
}

/* the tests the entry answers: lifetime and digest */
static gboolean
vigil_rule_lookup_matches_entry(VigilRuleLookup *lookup, const VigilRuleEntry *entry)
{
	const VigilRuleQuery *query = lookup->query;

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
		lookup->sha256_tested = TRUE;
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

/* protocol, direction and port, from the item */
static inline gboolean
vigil_rule_lookup_matches_fields(const VigilRuleLookup *lookup, const VigilRuleItem *item)
{
	const VigilRuleQuery *query = lookup->query;

	if (item->protocol != 0 && item->protocol != query->protocol)
		return FALSE;
	if (item->direction != VIGIL_DIRECTION_ANY && item->direction != query->direction)
		return FALSE;
	return query->port >= item->port_min && query->port <= item->port_max;
}

/* the user from the item, the rest from the entry */
static inline gboolean
vigil_rule_lookup_matches_checks(VigilRuleLookup *lookup,
				 const VigilRuleItem *item,
				 const VigilRuleRef *ref)
{
	const VigilRuleQuery *query = lookup->query;

	if (item->checks == 0)
		return TRUE;
	if ((item->checks & VIGIL_RULE_CHECK_USER) != 0 &&
	    (!query->uid_known || query->uid != item->uid))
		return FALSE;
	if ((item->checks & (VIGIL_RULE_CHECK_SHA256 | VIGIL_RULE_CHECK_LIFETIME)) == 0)
		return TRUE;
	return vigil_rule_lookup_matches_entry(lookup, ref->entry);
}

/* the destination of an item of a flat bucket: the hash first, then the name in the pool */
static inline gboolean
vigil_rule_lookup_matches_dest(const VigilRuleLookup *lookup,
			       const VigilRuleItem *item,
			       const gchar *pool)
{
	guint64 lo;
	guint i;

	switch (item->dest_kind) {
	case VIGIL_RULE_DEST_KIND_HOST:
		return lookup->host != NULL && item->dest == lookup->suffix_hashes[0] &&
		       strcmp(pool + item->pool, lookup->host) == 0;
	case VIGIL_RULE_DEST_KIND_DOMAIN:
		if (lookup->host == NULL || item->dest_len > lookup->n_suffixes)
			return FALSE;
		i = lookup->n_suffixes - item->dest_len;
		return item->dest == lookup->suffix_hashes[i] &&
		       strcmp(pool + item->pool, lookup->host + lookup->suffix_offsets[i]) == 0;
	case VIGIL_RULE_DEST_KIND_CIDR:
		if (item->family != lookup->family)
			return FALSE;
		if (item->dest_len <= 64)
			return (lookup->hi & vigil_rule_high_mask(item->dest_len)) == item->dest;
		if (lookup->hi != item->dest)
			return FALSE;
		memcpy(&lo, pool + item->pool, sizeof(lo));
		return (lookup->lo & vigil_rule_high_mask(item->dest_len - 64)) == lo;
	default:
		return TRUE;
	}
}

static inline void
vigil_rule_lookup_set_best(VigilRuleLookup *lookup,
			   const VigilRuleItem *item,
			   const VigilRuleRef *ref)
{
	lookup->best = item;
	lookup->best_ref = ref;
}

/*
 * The tags of a flat bucket: a byte per item, eight to a word, in front of its items (see
 * vigil_rule_item_tag()). A large block's items are many and each is different, so a scan
 * that tests them one by one takes a branch or two per item that the processor cannot
 * predict. The query's tags (0 for the items that name no host and no long prefix, one per
 * label suffix of its host, one for its address) are compared with a word of the block's
 * tags at a time, and only the items whose tag is one of them are tested, in order, as
 * the plain scan would. A block of fewer than VIGIL_RULE_TAGS_MIN rules is scanned plainly:
 * its few tests cost less than the query's tags, which are made once per lookup and only
 * when a large block needs them. A host with more labels than the filter of the apps'
 * destinations tests takes the plain scan.
 */
#define VIGIL_RULE_TAGS_MIN	 8
#define VIGIL_RULE_TAGS_BYTES(b) ((b)*G_GUINT64_CONSTANT(0x0101010101010101))

static void
vigil_rule_lookup_set_tags(VigilRuleLookup *lookup)
{
	lookup->tags_done = TRUE;
	lookup->n_tags = 0;
	if (lookup->host != NULL && lookup->n_suffixes > VIGIL_RULE_DESTS_SUFFIXES_MAX)
		return;
	lookup->tags[lookup->n_tags++] = 0;
	for (guint i = 0; lookup->host != NULL && i < lookup->n_suffixes; i++)
		lookup->tags[lookup->n_tags++] =
		    VIGIL_RULE_TAGS_BYTES(vigil_rule_tag(lookup->suffix_hashes[i]));
	if (lookup->family != 0)
		lookup->tags[lookup->n_tags++] = VIGIL_RULE_TAGS_BYTES(
		    vigil_rule_tag(vigil_rule_dests_address_key(lookup->family, lookup->hi)));
}

/* the high bit of each byte of @word that is the byte repeated in @tag, and no other bit */
static inline guint64
vigil_rule_tags_equal(guint64 word, guint64 tag)
{
	guint64 low = VIGIL_RULE_TAGS_BYTES(0x7f);
	guint64 x = word ^ tag;

	return ~(((x & low) + low) | x | low);
}

/* tests the item of a flat bucket; %TRUE when the scan stops there, because the item is
 * the bucket's best match or because neither it nor any after it can beat the best */
static inline gboolean
vigil_rule_lookup_flat_item(VigilRuleLookup *lookup,
			    const VigilRuleItem *item,
			    const VigilRuleRef *ref,
			    const gchar *pool)
{
	if (!vigil_rule_lookup_may_beat(lookup, item, ref))
		return TRUE;
	if (vigil_rule_lookup_matches_fields(lookup, item) &&
	    vigil_rule_lookup_matches_dest(lookup, item, pool) &&
	    vigil_rule_lookup_matches_checks(lookup, item, ref)) {
		vigil_rule_lookup_set_best(lookup, item, ref);
		return TRUE;
	}
	return FALSE;
}

/* a large flat bucket: only the items whose tag the query has, in order */
static void
vigil_rule_lookup_flat_tags(VigilRuleLookup *lookup, const VigilRuleBucket *bucket)
{
	const VigilRuleItem *items = vigil_rule_bucket_items(bucket);
	const VigilRuleRef *refs = vigil_rule_bucket_refs(bucket);
	const gchar *pool = vigil_rule_bucket_pool(bucket);
	const guint64 *tags = vigil_rule_bucket_tags(bucket);

	for (guint first = 0; first < bucket->n_entries; first += 8) {
		guint64 found = 0;
		for (guint k = 0; k < lookup->n_tags; k++)
			found |= vigil_rule_tags_equal(tags[first / 8], lookup->tags[k]);
		/* the bytes past the last item are padding */
		if (bucket->n_entries - first < 8)
			found &= (G_GUINT64_CONSTANT(1) << (8 * (bucket->n_entries - first))) - 1;
		for (; found != 0; found &= found - 1) {
			guint i = first + (guint)__builtin_ctzll(found) / 8;
			if (vigil_rule_lookup_flat_item(lookup, &items[i], &refs[i], pool))
				return;
		}
	}
}

/* a flat bucket: its rules best first, so the first that matches is its best */
static void
vigil_rule_lookup_flat(VigilRuleLookup *lookup, const VigilRuleBucket *bucket)
{
	const VigilRuleItem *items = vigil_rule_bucket_items(bucket);
	const VigilRuleRef *refs = vigil_rule_bucket_refs(bucket);
	const gchar *pool = vigil_rule_bucket_pool(bucket);

	/* the rest of a large block, beyond what was prefetched with the cell: its lines come
	 * in side by side rather than one after the other as the scan reaches them */
	for (guint offset = 64 * VIGIL_RULE_CELL_LINES_MAX; offset < bucket->size; offset += 64)
		__builtin_prefetch((const gchar *)bucket + offset);
	if (bucket->n_entries >= VIGIL_RULE_TAGS_MIN) {
		if (!lookup->tags_done)
			vigil_rule_lookup_set_tags(lookup);
		if (lookup->n_tags > 0) {
			vigil_rule_lookup_flat_tags(lookup, bucket);
			return;
		}
	}
	for (guint i = 0; i < bucket->n_entries; i++) {
		if (vigil_rule_lookup_flat_item(lookup, &items[i], &refs[i], pool))
			return;
	}
}

static void
vigil_rule_lookup_list(VigilRuleLookup *lookup, const VigilRuleList *list)
{
	const VigilRuleItem *items = vigil_rule_list_items(list);
	const VigilRuleRef *refs = vigil_rule_list_refs(list);

	for (guint i = 0; i < list->len; i++) {
		const VigilRuleItem *item = &items[i];
		if (!vigil_rule_lookup_may_beat(lookup, item, &refs[i]))
			return;
		if (vigil_rule_lookup_matches_fields(lookup, item) &&
		    vigil_rule_lookup_matches_checks(lookup, item, &refs[i])) {
			vigil_rule_lookup_set_best(lookup, item, &refs[i]);
			return;
		}
	}
}

static void
vigil_rule_lookup_probe(VigilRuleLookup *lookup,
			const VigilRuleBucket *bucket,
			const VigilRuleDest *dest,
			guint64 group,
			guint64 filter_word,
			guint32 port_key)
{
	guint64 key = vigil_rule_hash_list_in_group(group, port_key);
	guint64 bits = vigil_rule_filter_key_bits(key);
	const VigilRuleList *list;

	if ((filter_word & bits) != bits)
		return;
	list =
	    vigil_rule_table_find_list(&lookup->self->lists, key, bucket->serial, dest, port_key);
	if (list != NULL)
		vigil_rule_lookup_list(lookup, list);
}

/* visits the lists of one destination: the query's exact port, its port block, any port */
static void
vigil_rule_lookup_dest(VigilRuleLookup *lookup,
		       const VigilRuleBucket *bucket,
		       const VigilRuleDest *dest)
{
	const VigilRuleHashed *hashed = vigil_rule_bucket_hashed(bucket);
	const guint *n_lists = hashed->n_lists[dest->kind];
	guint64 group = vigil_rule_hash_group(bucket->key, dest->hash);
	guint64 word = hashed->filter.words[(guint)(group >> 32) & hashed->filter.mask];

	/* the bucket's own filter is small and in the bucket: most absent lists stop here */
	if ((word & vigil_rule_filter_group_bits(group)) != vigil_rule_filter_group_bits(group))
		return;
	if (n_lists[VIGIL_RULE_PORT_KIND_EXACT] > 0)
		vigil_rule_lookup_probe(lookup, bucket, dest, group, word, lookup->port_key_exact);
	if (n_lists[VIGIL_RULE_PORT_KIND_BLOCK] > 0)
		vigil_rule_lookup_probe(lookup, bucket, dest, group, word, lookup->port_key_block);
	if (n_lists[VIGIL_RULE_PORT_KIND_ANY] > 0)
		vigil_rule_lookup_probe(lookup, bucket, dest, group, word, VIGIL_RULE_PORT_KEY_ANY);
}

static inline gboolean
vigil_rule_lookup_beaten(VigilRuleLookup *lookup, guint64 who, guint64 dest)
{
	return lookup->best != NULL && lookup->best->score > vigil_rule_score_bound(who, dest);
}

static inline gboolean
vigil_rule_hashed_has_dest(const VigilRuleHashed *hashed, VigilRuleDestKind kind)
{
	const guint *n_lists = hashed->n_lists[kind];

	return n_lists[0] + n_lists[1] + n_lists[2] > 0;
}

/* probes the prefix lengths of the bucket from @from down to @to, longest first */
static void
vigil_rule_lookup_prefixes(VigilRuleLookup *lookup,
			   const VigilRuleBucket *bucket,
			   gint from,
			   gint to)
{
	const guint64 *mask = vigil_rule_bucket_hashed(bucket)->prefix_mask[lookup->family == 6];
	gint full = lookup->family == 4 ? 32 : 128;
	VigilRuleDest dest = {.kind = VIGIL_RULE_DEST_KIND_CIDR, .family = lookup->family};
	gint prefix = from;

	while (prefix >= to) {
		/* the highest length present at or below @prefix, a word of the mask at a time */
		guint64 word = mask[prefix / 64] & (G_MAXUINT64 >> (63 - prefix % 64));
		if (word == 0) {
			prefix = (prefix / 64) * 64 - 1;
			continue;
		}
		prefix = (prefix / 64) * 64 + (63 - __builtin_clzll(word));
		if (prefix < to)
			return;
		if (vigil_rule_lookup_beaten(lookup,
					     bucket->who_max,
					     prefix == full ? VIGIL_RULE_DEST_EXACT
							    : VIGIL_RULE_DEST_PREFIX(prefix)))
			return;
		dest.prefix = (guint8)prefix;
		vigil_rule_mask(lookup->hi, lookup->lo, (guint)prefix, &dest.hi, &dest.lo);
		dest.hash = vigil_rule_hash_dest_cidr(dest.family, dest.prefix, dest.hi, dest.lo);
		vigil_rule_lookup_dest(lookup, bucket, &dest);
		prefix--;
	}
}

/* a hashed bucket: a probe per destination the query could match, most specific first */
static void
vigil_rule_lookup_hashed(VigilRuleLookup *lookup, const VigilRuleBucket *bucket)
{
	const VigilRuleHashed *hashed = vigil_rule_bucket_hashed(bucket);
	gboolean has_cidrs;
	gint full;

	full = lookup->family == 4 ? 32 : 128;
	has_cidrs =
	    lookup->family != 0 && vigil_rule_hashed_has_dest(hashed, VIGIL_RULE_DEST_KIND_CIDR);

	/* exact host and full-length address */
	if (lookup->host != NULL && vigil_rule_hashed_has_dest(hashed, VIGIL_RULE_DEST_KIND_HOST)) {
		VigilRuleDest dest = {
		    .kind = VIGIL_RULE_DEST_KIND_HOST,
		    .name = lookup->host,
		    .hash = vigil_rule_hash_dest_name(lookup->suffix_hashes[0],
						      VIGIL_RULE_DEST_KIND_HOST),
		};
		vigil_rule_lookup_dest(lookup, bucket, &dest);
	}
	if (has_cidrs)
		vigil_rule_lookup_prefixes(lookup, bucket, full, full);

	/* domains, the longest suffix first, only for label counts the bucket has */
	if (lookup->host != NULL && hashed->domain_mask != 0) {
		for (guint i = 0; i < lookup->n_suffixes; i++) {
			guint labels = MIN(lookup->n_suffixes - i, VIGIL_RULE_LABELS_MAX);
			VigilRuleDest dest = {.kind = VIGIL_RULE_DEST_KIND_DOMAIN};
			if (vigil_rule_lookup_beaten(
				lookup,
				bucket->who_max,
				VIGIL_RULE_DEST_DOMAIN(lookup->n_suffixes - i)))
				break;
			if (!vigil_rule_mask_get(&hashed->domain_mask, labels))
				continue;
			dest.name = lookup->host + lookup->suffix_offsets[i];
			dest.hash = vigil_rule_hash_dest_name(lookup->suffix_hashes[i],
							      VIGIL_RULE_DEST_KIND_DOMAIN);
			vigil_rule_lookup_dest(lookup, bucket, &dest);
		}
	}

	/* shorter prefixes, the longest first, then any destination */
	if (has_cidrs)
		vigil_rule_lookup_prefixes(lookup, bucket, full - 1, 0);
	if (vigil_rule_hashed_has_dest(hashed, VIGIL_RULE_DEST_KIND_ANY) &&
	    !vigil_rule_lookup_beaten(lookup, bucket->who_max, VIGIL_RULE_DEST_ANY)) {
		VigilRuleDest dest = {.kind = VIGIL_RULE_DEST_KIND_ANY};
		vigil_rule_lookup_dest(lookup, bucket, &dest);
	}
}

/* whether a rule of the app could match the destination, from its line of the filter of the
 * apps' destinations: a rule for any destination, the name of a label suffix of the host or
 * the first bits of the address */
static gboolean
vigil_rule_lookup_may_match_app(const VigilRuleLookup *lookup,
				const guint64 *line,
				guint64 bucket_key)
{
	if (vigil_rule_dests_line_has(line,
				      vigil_rule_hash_group(bucket_key, VIGIL_RULE_DESTS_ANY)))
		return TRUE;
	if (lookup->host != NULL) {
		if (lookup->n_suffixes > VIGIL_RULE_DESTS_SUFFIXES_MAX)
			return TRUE;
		for (guint i = 0; i < lookup->n_suffixes; i++) {
			if (vigil_rule_dests_line_has(
				line,
				vigil_rule_hash_group(bucket_key, lookup->suffix_hashes[i])))
				return TRUE;
		}
	}
	return lookup->family != 0 &&
	       vigil_rule_dests_line_has(
		   line,
		   vigil_rule_hash_group(bucket_key,
					 vigil_rule_dests_address_key(lookup->family, lookup->hi)));
}

/* the block of a cell value of the table of buckets, whose lines are fetched at once, if it
 * is the app's */
static inline const VigilRuleBucket *
vigil_rule_lookup_fetch_bucket(gpointer value,
			       guint64 key,
			       VigilRuleWhoKind kind,
			       const gchar *name)
{
	const VigilRuleBucket *bucket = vigil_rule_bucket_from_cell_value(value);
	guint lines = (guintptr)value & VIGIL_RULE_CELL_LINES_MAX;

	for (guint line = 0; line < lines; line++)
		__builtin_prefetch((const gchar *)bucket + 64 * line);
	if (bucket->key == key && bucket->kind == kind &&
	    strcmp(vigil_rule_bucket_name(bucket), name) == 0)
		return bucket;
	return NULL;
}

/* the app's bucket, unless the filter of the apps' destinations rules out every rule in
 * it: then neither its cell nor its block is read. Its slot in the directory beside its
 * line of the filter leads to its block; the table is only read for an app without one. */
static const VigilRuleBucket *
vigil_rule_lookup_find_bucket(const VigilRuleLookup *lookup,
			      const VigilRuleTable *table,
			      guint64 key,
			      VigilRuleWhoKind kind,
			      const gchar *name)
{
	const guint64 *line;
	guint64 tag;

	if (!vigil_rule_filter_may_contain(&table->filter, key))
		return NULL;
	line = vigil_rule_dests_get_line(&lookup->self->dests, key);
	if (!vigil_rule_lookup_may_match_app(lookup, line, key))
		return NULL;
	tag = vigil_rule_dests_slot_tag(key);
	for (guint i = 0; i < VIGIL_RULE_DESTS_SLOTS; i++) {
		guint64 slot = line[VIGIL_RULE_DESTS_LINE_WORDS + i];
		const VigilRuleBucket *bucket;
		if ((slot & ~VIGIL_RULE_DESTS_VALUE_MASK) != tag)
			continue;
		bucket = vigil_rule_lookup_fetch_bucket(
		    (gpointer)(guintptr)(slot & VIGIL_RULE_DESTS_VALUE_MASK),
		    key,
		    kind,
		    name);
		if (bucket != NULL)
			return bucket;
	}
	for (guint i = (guint)key & table->mask; vigil_rule_table_cell(table, i)->key != 0;
	     i = (i + 1) & table->mask) {
		const VigilRuleBucket *bucket;
		if (vigil_rule_table_cell(table, i)->key != key)
			continue;
		bucket = vigil_rule_lookup_fetch_bucket(vigil_rule_table_cell(table, i)->value,
							key,
							kind,
							name);
		if (bucket != NULL)
			return bucket;
	}
	return NULL;
}

static void
vigil_rule_lookup_bucket(VigilRuleLookup *lookup, const VigilRuleBucket *bucket)
{
	if (bucket == NULL ||
	    vigil_rule_lookup_beaten(lookup, bucket->who_max, VIGIL_RULE_DEST_EXACT))
		return;
	if (bucket->flat)
		vigil_rule_lookup_flat(lookup, bucket);
	else
		vigil_rule_lookup_hashed(lookup, bucket);
}

/* the host in lower case without a trailing dot, and the hash of each label suffix; a
 * name that is too long or has an empty label is not a host name and stays unknown */
static void
vigil_rule_lookup_set_host(VigilRuleLookup *lookup, const gchar *host)
{
	guint64 h = VIGIL_RULE_FNV_OFFSET;
	gboolean clean = TRUE;
	const gchar *name;
	guint n_dots = 0;
	gsize len = 0;
	guint idx;

	if (host == NULL)
		return;
	for (; host[len] != '\0'; len++) {
		if (len > VIGIL_RULE_HOST_MAX)
			return;
		if (host[len] == '.') {
			if (len == 0 || host[len - 1] == '.')
				return;
			n_dots++;
		} else if (host[len] >= 'A' && host[len] <= 'Z') {
			clean = FALSE;
		}
	}
	if (len > 0 && host[len - 1] == '.') {
		clean = FALSE;
		len--;
		n_dots--;
	}
	if (len == 0 || len > VIGIL_RULE_HOST_MAX)
		return;

	/* as documented, the host is usually in lower case already and needs no copy */
	name = host;
	if (!clean) {
		for (gsize i = 0; i < len; i++)
			lookup->host_buf[i] = g_ascii_tolower(host[i]);
		lookup->host_buf[len] = '\0';
		name = lookup->host_buf;
	}
	lookup->host = name;

	/* suffix i starts after the i-th dot; walking back, each dot completes one */
	lookup->n_suffixes = n_dots + 1;
	idx = n_dots;
	for (gsize i = len; i > 0; i--) {
		if (name[i - 1] == '.') {
			lookup->suffix_offsets[idx] = (guint16)i;
			lookup->suffix_hashes[idx] = h;
			idx--;
		}
		h ^= (guchar)name[i - 1];
		h *= VIGIL_RULE_FNV_PRIME;
	}
	lookup->suffix_offsets[0] = 0;
	lookup->suffix_hashes[0] = h;
}

/* the query's digest, asked for at most once per lookup */
typedef struct {
	gboolean asked; /* @value is the query's answer */
	const gchar *value;
	gboolean tested; /* a rule pinning a digest was tested against it */
} VigilRuleDigest;

static const gchar *
vigil_rule_digest_ask(VigilRuleDigest *digest, const VigilRuleQuery *query)
{
	if (!digest->asked) {
		digest->asked = TRUE;
		if (query->get_exe_sha256 != NULL)
			digest->value = query->get_exe_sha256(query->user_data);
	}
	return digest->value;
}

/* the item of the best rule in the index and its @ref; @digest may have been asked for
 * already, and says whether a rule pinning a digest was tested */
static const VigilRuleItem *
vigil_rule_set_lookup_index(VigilRuleSet *self,
			    const VigilRuleQuery *query,
			    const VigilRuleRef **ref,
			    VigilRuleDigest *digest)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const gchar *who_names[3];
	guint64 who_keys[3] = {0};
	const guint64 *line;
	VigilRuleLookup lookup;

	/* only the header of the lookup state is cleared, not its buffers */
	memset(&lookup, 0, G_STRUCT_OFFSET(VigilRuleLookup, suffix_offsets));
	lookup.family = 0;
	lookup.hi = 0; /* the filter test may compute with it before it looks at the family */
	lookup.lo = 0;
	lookup.self = self;
	lookup.query = query;
	lookup.port_key_exact = VIGIL_RULE_PORT_KEY_EXACT(query->port);
	lookup.port_key_block = VIGIL_RULE_PORT_KEY_BLOCK(query->port);
	lookup.sha256_done = digest->asked;
	lookup.sha256 = digest->value;

	/* the apps' cells first, so that they come in from memory while the host is hashed */
	who_names[VIGIL_RULE_WHO_KIND_EXE] = query->exe;
	who_names[VIGIL_RULE_WHO_KIND_APP_ID] = query->app_id;
	who_names[VIGIL_RULE_WHO_KIND_UNIT] = query->unit;
	for (guint kind = 0; kind < G_N_ELEMENTS(who_names); kind++) {
		if (who_names[kind] == NULL || self->buckets.len == 0)
			continue;
		who_keys[kind] =
		    vigil_rule_hash_bucket(kind, vigil_rule_hash_name(who_names[kind]));
		/* the app's line of the filter and the directory beside it, not its cell */
		line = vigil_rule_dests_get_line(&self->dests, who_keys[kind]);
		__builtin_prefetch(line);
		__builtin_prefetch(line + VIGIL_RULE_DESTS_LINE_WORDS);
	}

	vigil_rule_lookup_set_host(&lookup, query->host);
	if (query->family == 6 && memcmp(query->addr, mapped, sizeof(mapped)) == 0) {
		lookup.family = 4;
		vigil_rule_load_address(query->addr + 12, 4, &lookup.hi, &lookup.lo);
	} else if (query->family == 4 || query->family == 6) {
		lookup.family = query->family;
		vigil_rule_load_address(query->addr, query->family, &lookup.hi, &lookup.lo);
	}

	/* a specific app first: any-app rules are often beaten without a look */
	for (guint kind = 0; kind < G_N_ELEMENTS(who_names); kind++) {
		if (who_keys[kind] == 0)
			continue;
		vigil_rule_lookup_bucket(&lookup,
					 vigil_rule_lookup_find_bucket(&lookup,
								       &self->buckets,
								       who_keys[kind],
								       kind,
								       who_names[kind]));
	}
	vigil_rule_lookup_bucket(&lookup, self->any);
	digest->asked = lookup.sha256_done;
	digest->value = lookup.sha256;
	digest->tested = lookup.sha256_tested;
	*ref = lookup.best_ref;
	return lookup.best;
}

/* memo */

/* fills @key from @query; returns %FALSE when the query cannot be memoized. The fields are
 * packed in whole words, so that nothing reads back bytes just written one by one. */
static gboolean
vigil_rule_memo_key_init(VigilRuleMemoKey *key, VigilRuleSet *self, const VigilRuleQuery *query)
{
	gboolean by_process = g_hash_table_size(self->by_pid) > 0;
	guint64 lens = 0;

	/* a direction that does not fit would alias another */
	if ((guint)query->direction > G_MAXUINT8)
		return FALSE;
	key->strings[0] = query->host;
	key->strings[1] = query->exe;
	key->strings[2] = query->app_id;
	key->strings[3] = query->unit;
	key->len = 0;
	for (guint i = 0; i < G_N_ELEMENTS(key->strings); i++) {
		gsize n;
		if (key->strings[i] == NULL) {
			key->lens[i] = VIGIL_RULE_MEMO_NONE;
		} else {
			n = strlen(key->strings[i]);
			if (n > VIGIL_RULE_MEMO_STRINGS - key->len)
				return FALSE;
			key->lens[i] = (guint8)n;
			key->len += (guint)n;
		}
		lens |= (guint64)key->lens[i] << (8 * i);
	}

	key->words[0] = by_process ? query->pid_start : 0;
	key->words[1] = (by_process ? query->pid : 0) | (guint64)(query->uid_known ? query->uid : 0)
							    << 32;
	key->words[2] = 0;
	key->words[3] = 0;
	if (query->family == 4) {
		guint32 v4;
		memcpy(&v4, query->addr, 4);
		key->words[2] = v4;
	} else if (query->family == 6) {
		memcpy(&key->words[2], query->addr, 8);
		memcpy(&key->words[3], query->addr + 8, 8);
	}
	key->words[4] = query->port | (guint64)query->direction << 16 |
			(guint64)query->protocol << 24 | (guint64)query->family << 32 |
			(guint64)(query->uid_known != FALSE) << 40;
	key->words[5] = lens;
	return TRUE;
}

/* one word into a lane: the multiplication spreads the word over the lane before the next
 * one comes in, so that differences in two words cannot cancel out */
static inline guint64
vigil_rule_memo_round(guint64 lane, guint64 word, guint64 prime, guint rotate)
{
	lane = (lane ^ word) * prime;
	return (lane << rotate) | (lane >> (64 - rotate));
}

#define VIGIL_RULE_MEMO_PRIME_A G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9)
#define VIGIL_RULE_MEMO_PRIME_B G_GUINT64_CONSTANT(0x94d049bb133111eb)

/* the words in two lanes, so that the multiplications of a long key overlap */
static guint64
vigil_rule_memo_hash(const VigilRuleMemoKey *key)
{
	guint64 a = G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
	guint64 b = G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f);
	guint64 words[2];

	for (guint i = 0; i < VIGIL_RULE_MEMO_WORDS; i += 2) {
		a = vigil_rule_memo_round(a, key->words[i], VIGIL_RULE_MEMO_PRIME_A, 31);
		b = vigil_rule_memo_round(b, key->words[i + 1], VIGIL_RULE_MEMO_PRIME_B, 29);
	}

	/* where one string ends and the next begins is in the lengths, in the words */
	for (guint i = 0; i < G_N_ELEMENTS(key->strings); i++) {
		const gchar *p = key->strings[i];
		gsize n = key->lens[i] != VIGIL_RULE_MEMO_NONE ? key->lens[i] : 0;
		for (; n >= 16; p += 16, n -= 16) {
			memcpy(words, p, 16);
			a = vigil_rule_memo_round(a, words[0], VIGIL_RULE_MEMO_PRIME_A, 31);
			b = vigil_rule_memo_round(b, words[1], VIGIL_RULE_MEMO_PRIME_B, 29);
		}
		if (n == 0)
			continue;
		memset(words, 0, sizeof(words));
		memcpy(words, p, n);
		a = vigil_rule_memo_round(a, words[0], VIGIL_RULE_MEMO_PRIME_A, 31);
		b = vigil_rule_memo_round(b, words[1], VIGIL_RULE_MEMO_PRIME_B, 29);
	}
	return vigil_rule_mix(a ^ vigil_rule_mix(b));
}

static gboolean
vigil_rule_memo_entry_has_key(const VigilRuleMemoEntry *entry, const VigilRuleMemoKey *key)
{
	const gchar *stored = entry->strings;
	guint64 diff = 0;

	for (guint i = 0; i < VIGIL_RULE_MEMO_WORDS; i++)
		diff |= entry->words[i] ^ key->words[i];
	if (diff != 0)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(key->strings); i++) {
		if (key->lens[i] == VIGIL_RULE_MEMO_NONE)
			continue;
		if (memcmp(stored, key->strings[i], key->lens[i]) != 0)
			return FALSE;
		stored += key->lens[i];
	}
	return TRUE;
}

static void
vigil_rule_memo_entry_set_key(VigilRuleMemoEntry *entry, const VigilRuleMemoKey *key)
{
	gchar *stored = entry->strings;

	memcpy(entry->words, key->words, sizeof(key->words));
	for (guint i = 0; i < G_N_ELEMENTS(key->strings); i++) {
		if (key->lens[i] == VIGIL_RULE_MEMO_NONE)
			continue;
		memcpy(stored, key->strings[i], key->lens[i]);
		stored += key->lens[i];
	}
}

static inline guint64
vigil_rule_set_memo_tag(VigilRuleSet *self, guint64 hash)
{
	guint64 tag = hash ^ (self->generation * G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f));

	return tag != 0 ? tag : 1;
}

/* the entry of this generation with this key, whatever the time; sets @way */
static VigilRuleMemoEntry *
vigil_rule_set_memo_find(VigilRuleSet *self, guint64 hash, const VigilRuleMemoKey *key, guint *way)
{
	guint set = (guint)hash & (VIGIL_RULE_MEMO_SETS - 1);
	guint64 tag = vigil_rule_set_memo_tag(self, hash);

	for (guint i = 0; i < VIGIL_RULE_MEMO_WAYS; i++) {
		VigilRuleMemoEntry *entry;
		if (self->memo->sets[set].tags[i] != tag)
			continue;
		entry = &self->memo->entries[set][i];
		if (entry->generation == self->generation &&
		    vigil_rule_memo_entry_has_key(entry, key)) {
			*way = i;
			return entry;
		}
	}
	return NULL;
}

/* the counts of hits of a set, which start again at 0 with each generation */
static inline guint8 *
vigil_rule_set_memo_get_uses(VigilRuleSet *self, VigilRuleMemoSet *set)
{
	if (set->generation != (guint8)self->generation) {
		memset(set->uses, 0, sizeof(set->uses));
		set->generation = (guint8)self->generation;
	}
	return set->uses;
}

/* the way a new answer may take, or G_MAXUINT when it is not stored this time: the way with
 * fewer hits (the one used less recently of two alike), unless it still has some; then it
 * has one less */
static guint
vigil_rule_set_memo_choose_way(VigilRuleSet *self, VigilRuleMemoSet *set)
{
	guint8 *uses = vigil_rule_set_memo_get_uses(self, set);
	guint way = (set->last_way + 1) % VIGIL_RULE_MEMO_WAYS;

	for (guint i = 0; i < VIGIL_RULE_MEMO_WAYS; i++) {
		if (uses[i] < uses[way])
			way = i;
	}
	if (uses[way] > 0) {
		uses[way]--;
		return G_MAXUINT;
	}
	return way;
}

/* stores an answer in @way, or when that is G_MAXUINT in the way its set gives up, if any */
static void
vigil_rule_set_memo_store(VigilRuleSet *self,
			  guint way,
			  guint64 hash,
			  const VigilRuleMemoKey *key,
			  gint64 now,
			  const VigilRuleDigest *digest,
			  const VigilRuleItem *best,
			  const VigilRuleRef *best_ref)
{
	VigilRuleMemoSet *set = &self->memo->sets[(guint)hash & (VIGIL_RULE_MEMO_SETS - 1)];
	guint32 *seen = &set->seen[hash >> 63];
	guint32 fingerprint = (guint32)(hash >> 32) | 1;
	guint8 digest_len = VIGIL_RULE_MEMO_NONE;
	VigilRuleMemoEntry *entry;

	if (digest->tested && digest->value == NULL) {
		digest_len = VIGIL_RULE_MEMO_NO_DIGEST;
	} else if (digest->tested) {
		gsize len = strlen(digest->value);
		if (len > VIGIL_RULE_MEMO_STRINGS - key->len)
			return;
		digest_len = (guint8)len;
	}

	/* a new answer is only stored when its query misses a second time in a while, so
	 * that queries seen once neither pay for a store nor push out answers in use */
	if (way == G_MAXUINT && *seen != fingerprint) {
		*seen = fingerprint;
		return;
	}
	if (way == G_MAXUINT) {
		way = vigil_rule_set_memo_choose_way(self, set);
		if (way == G_MAXUINT)
			return;
		set->uses[way] = 0;
	}
	set->tags[way] = vigil_rule_set_memo_tag(self, hash);
	set->last_way = (guint8)way;
	entry = &self->memo->entries[(guint)hash & (VIGIL_RULE_MEMO_SETS - 1)][way];
	entry->generation = self->generation;
	entry->rule = best != NULL ? best_ref->rule : NULL;
	entry->since = now;
	entry->expires = best != NULL && (best->checks & VIGIL_RULE_CHECK_LIFETIME) != 0 &&
				 best_ref->entry->lifetime == VIGIL_LIFETIME_UNTIL
			     ? best_ref->entry->expires
			     : G_MAXINT64;
	vigil_rule_memo_entry_set_key(entry, key);
	entry->digest_len = digest_len;
	if (digest_len != VIGIL_RULE_MEMO_NONE && digest_len != VIGIL_RULE_MEMO_NO_DIGEST)
		memcpy(entry->strings + key->len, digest->value, digest_len);
}

/* whether the digest an answer was found with is the query's; asks for it */
static gboolean
vigil_rule_memo_entry_has_digest(const VigilRuleMemoEntry *entry,
				 const VigilRuleMemoKey *key,
				 const VigilRuleQuery *query,
				 VigilRuleDigest *digest)
{
	const gchar *value;

	if (entry->digest_len == VIGIL_RULE_MEMO_NONE)
		return TRUE;
	value = vigil_rule_digest_ask(digest, query);
	if (entry->digest_len == VIGIL_RULE_MEMO_NO_DIGEST)
		return value == NULL;
	return value != NULL && strncmp(entry->strings + key->len, value, entry->digest_len) == 0 &&
	       value[entry->digest_len] == '\0';
}

/**
 * vigil_rule_set_lookup:
 * @self: a #VigilRuleSet
 * @query: what is known about the connection
 *
 * Finds the rule that decides a connection: among the enabled, unexpired rules that match
 * it, the one that takes precedence (see the comment at the top of vigil-rule-set.c).
 * Unknown values in @query never match a rule that requires them. An IPv4-mapped IPv6
 * address is looked up as the IPv4 address. @query->get_exe_sha256 is called at most
 * once, and only when a candidate rule pins a digest.
 *
 * A query seen recently is answered from a memo of recent answers, which always gives
 * what the index would (see "the decision memo" in vigil-rule-set.c). Does not allocate,
 * but for the memo's table on the first lookup.
 *
 * Returns: (transfer none) (nullable): the deciding rule, or %NULL when none matches
 */
VigilRule *
vigil_rule_set_lookup(VigilRuleSet *self, const VigilRuleQuery *query)
{
	VigilRuleMemoEntry *entry = NULL;
	const VigilRuleItem *best;
	const VigilRuleRef *best_ref = NULL;
	VigilRuleMemoKey key;
	VigilRuleDigest digest = {0};
	gboolean memoize = FALSE;
	guint way = G_MAXUINT;
	guint64 hash = 0;

	g_return_val_if_fail(VIGIL_IS_RULE_SET(self), NULL);
	g_return_val_if_fail(query != NULL, NULL);

	if (self->memo_enabled)
		memoize = vigil_rule_memo_key_init(&key, self, query);
	if (memoize) {
		if (self->memo == NULL)
			self->memo = g_aligned_alloc0(1, sizeof(VigilRuleMemo), 64);
		hash = vigil_rule_memo_hash(&key);
		entry = vigil_rule_set_memo_find(self, hash, &key, &way);
		if (entry != NULL && query->now >= entry->since && query->now < entry->expires &&
		    vigil_rule_memo_entry_has_digest(entry, &key, query, &digest)) {
			VigilRuleMemoSet *set =
			    &self->memo->sets[(guint)hash & (VIGIL_RULE_MEMO_SETS - 1)];
			guint8 *uses = vigil_rule_set_memo_get_uses(self, set);
			set->last_way = (guint8)way;
			if (uses[way] < VIGIL_RULE_MEMO_USES_MAX)
				uses[way]++;
			self->memo_hits++;
			return entry->rule;
		}
		self->memo_misses++;
	}
	best = vigil_rule_set_lookup_index(self, query, &best_ref, &digest);
	if (memoize)
		vigil_rule_set_memo_store(self,
					  way,
					  hash,
					  &key,
					  query->now,
					  &digest,
					  best,
					  best_ref);
	return best != NULL ? best_ref->rule : NULL;
}

/**
 * vigil_rule_set_set_memo_enabled:
 * @self: a #VigilRuleSet
 * @enabled: whether lookups use the memo of recent answers
 *
 * Turns the memo of vigil_rule_set_lookup() on or off, for benchmarks and tests; turning
 * it off frees it. Answers are the same either way. A new set has it on unless
 * `VIGIL_RULE_SET_NO_MEMO=1` is set in the environment.
 */
void
vigil_rule_set_set_memo_enabled(VigilRuleSet *self, gboolean enabled)
{
	g_return_if_fail(VIGIL_IS_RULE_SET(self));

	self->memo_enabled = enabled;
	if (!enabled)
		g_clear_pointer(&self->memo, g_aligned_free);
}

/**
 * vigil_rule_set_get_memo_stats:
 * @self: a #VigilRuleSet
 * @hits: (out) (optional): lookups answered from the memo
 * @misses: (out) (optional): lookups the memo was asked and could not answer
 *
 * Counts what the memo of vigil_rule_set_lookup() did since the set was made.
 */
void
vigil_rule_set_get_memo_stats(VigilRuleSet *self, guint64 *hits, guint64 *misses)
{
	g_return_if_fail(VIGIL_IS_RULE_SET(self));

	if (hits != NULL)
		*hits = self->memo_hits;
	if (misses != NULL)
		*misses = self->memo_misses;
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
