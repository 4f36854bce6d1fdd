/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "vigil-dns-cache.h"
#include "vigil-dns-parser.h"

#define SECOND ((gint64)G_USEC_PER_SEC)

typedef struct {
	VigilDnsCache *cache;
	gint64 now;
} Fixture;

static gint64
fixture_clock(gpointer user_data)
{
	Fixture *fixture = user_data;

	return fixture->now;
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	guint max = GPOINTER_TO_UINT(data);

	fixture->cache = vigil_dns_cache_new(max);
	fixture->now = 1000 * SECOND;
	vigil_dns_cache_set_clock_func(fixture->cache, fixture_clock, fixture);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	g_assert_finalize_object(fixture->cache);
}

#define fixtured_test(path, max, func)                                                             \
	g_test_add(path, Fixture, GUINT_TO_POINTER(max), fixture_setup, func, fixture_teardown)

static void
ipv4(guint8 address[16], guint n)
{
	memset(address, 0, 16);
	address[0] = 198;
	address[1] = 18;
	address[2] = (guint8)(n >> 8);
	address[3] = (guint8)n;
}

static void
assert_name(Fixture *fixture, const guint8 *address, gint pid, const gchar *expected)
{
	g_autofree gchar *name = vigil_dns_cache_lookup_name(fixture->cache, 4, address, pid);

	g_assert_cmpstr(name, ==, expected);
}

static void
test_dns_cache_ttl(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	ipv4(address, 1);
	vigil_dns_cache_add_name(fixture->cache, 4, address, "www.example.org", NULL, 300, 0);
	assert_name(fixture, address, 0, "www.example.org");
	fixture->now += 299 * SECOND;
	assert_name(fixture, address, 0, "www.example.org");
	fixture->now += 2 * SECOND;
	assert_name(fixture, address, 0, NULL);
	/* the empty address went with its last name */
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), ==, 0);
	g_assert_cmpuint(vigil_dns_cache_get_n_names(fixture->cache), ==, 0);
}

/* a CDN's 5 s TTL still names a connection made a minute later; a week is cut to a day */
static void
test_dns_cache_ttl_clamp(Fixture *fixture, gconstpointer data)
{
	guint8 short_ttl[16];
	guint8 long_ttl[16];

	ipv4(short_ttl, 1);
	ipv4(long_ttl, 2);
	vigil_dns_cache_add_name(fixture->cache, 4, short_ttl, "cdn.example.org", NULL, 5, 0);
	vigil_dns_cache_add_name(fixture->cache, 4, long_ttl, "www.example.org", NULL, 604800, 0);
	fixture->now += (VIGIL_DNS_CACHE_TTL_MIN - 1) * SECOND;
	assert_name(fixture, short_ttl, 0, "cdn.example.org");
	fixture->now += 2 * SECOND;
	assert_name(fixture, short_ttl, 0, NULL);
	assert_name(fixture, long_ttl, 0, "www.example.org");
	fixture->now += VIGIL_DNS_CACHE_TTL_MAX * SECOND;
	assert_name(fixture, long_ttl, 0, NULL);
}

/* a fresh answer renews the name */
static void
test_dns_cache_renew(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	ipv4(address, 1);
	vigil_dns_cache_add_name(fixture->cache, 4, address, "www.example.org", NULL, 100, 0);
	fixture->now += 90 * SECOND;
	vigil_dns_cache_add_name(fixture->cache, 4, address, "www.example.org", NULL, 100, 0);
	fixture->now += 90 * SECOND;
	assert_name(fixture, address, 0, "www.example.org");
	g_assert_cmpuint(vigil_dns_cache_get_n_names(fixture->cache), ==, 1);
}

static void
test_dns_cache_same_process(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	ipv4(address, 7);
	vigil_dns_cache_add_name(fixture->cache, 4, address, "a.example.org", NULL, 300, 100);
	fixture->now += SECOND;
	vigil_dns_cache_add_name(fixture->cache, 4, address, "b.example.org", NULL, 300, 200);
	fixture->now += SECOND;
	vigil_dns_cache_add_name(fixture->cache, 4, address, "c.example.org", NULL, 300, 0);

	/* the same process's own lookup wins, else the newest of anyone's */
	assert_name(fixture, address, 100, "a.example.org");
	assert_name(fixture, address, 200, "b.example.org");
	assert_name(fixture, address, 300, "c.example.org");
	assert_name(fixture, address, 0, "c.example.org");

	/* process 100 resolves another name for it later: that one is its newest */
	vigil_dns_cache_add_name(fixture->cache, 4, address, "d.example.org", NULL, 300, 100);
	assert_name(fixture, address, 100, "d.example.org");
	assert_name(fixture, address, 200, "b.example.org");
	assert_name(fixture, address, 0, "d.example.org");

	/* and when its own names expire, it gets what others resolved */
	vigil_dns_cache_add_name(fixture->cache, 4, address, "e.example.org", NULL, 3600, 0);
	fixture->now += 400 * SECOND;
	assert_name(fixture, address, 100, "e.example.org");
}

static void
test_dns_cache_families(Fixture *fixture, gconstpointer data)
{
	guint8 address[16] = {0xfd, 0, 0, 0xfb};
	g_autofree gchar *v4 = NULL;
	g_autofree gchar *v6 = NULL;

	/* the same first four bytes as IPv4 and IPv6 are different keys */
	vigil_dns_cache_add_name(fixture->cache, 6, address, "six.example.org", NULL, 300, 0);
	vigil_dns_cache_add_name(fixture->cache, 4, address, "four.example.org", NULL, 300, 0);
	v4 = vigil_dns_cache_lookup_name(fixture->cache, 4, address, 0);
	v6 = vigil_dns_cache_lookup_name(fixture->cache, 6, address, 0);
	g_assert_cmpstr(v4, ==, "four.example.org");
	g_assert_cmpstr(v6, ==, "six.example.org");
	/* unknown families are ignored */
	vigil_dns_cache_add_name(fixture->cache, 5, address, "x.example.org", NULL, 300, 0);
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), ==, 2);
	g_assert_null(vigil_dns_cache_lookup_name(fixture->cache, 5, address, 0));
}

static void
test_dns_cache_names(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) answers =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_dns_answer_free);
	VigilDnsAnswer *answer = g_new0(VigilDnsAnswer, 1);
	guint8 address[16];

	ipv4(address, 3);
	answer->family = 4;
	ipv4(answer->address, 3);
	answer->ttl = 300;
	answer->name = g_strdup("www.example.org");
	answer->alias = g_strdup("edge.cdn.example.net");
	g_ptr_array_add(answers, answer);
	vigil_dns_cache_add_answers(fixture->cache, answers, 42);
	fixture->now += SECOND;
	vigil_dns_cache_add_name(fixture->cache, 4, address, "img.example.org", NULL, 300, 0);

	/* the question name is the name; the CNAME target comes along in the list */
	assert_name(fixture, address, 42, "www.example.org");
	names = vigil_dns_cache_lookup_names(fixture->cache, 4, address);
	g_assert_cmpuint(names->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "img.example.org");
	g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "www.example.org");
	g_assert_cmpstr(g_ptr_array_index(names, 2), ==, "edge.cdn.example.net");
	g_clear_pointer(&names, g_ptr_array_unref);
	ipv4(address, 4);
	names = vigil_dns_cache_lookup_names(fixture->cache, 4, address);
	g_assert_cmpuint(names->len, ==, 0);
}

/* 100 addresses at most; the least recently used goes first */
static void
test_dns_cache_bound(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *name = g_strdup_printf("host%u.example.org", i);

		ipv4(address, i);
		vigil_dns_cache_add_name(fixture->cache, 4, address, name, NULL, 3600, 0);
		/* host0 stays in use */
		ipv4(address, 0);
		assert_name(fixture, address, 0, "host0.example.org");
		g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), <=, 100);
	}
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), ==, 100);
	ipv4(address, 999);
	assert_name(fixture, address, 0, "host999.example.org");
	ipv4(address, 901);
	assert_name(fixture, address, 0, "host901.example.org");
	ipv4(address, 900);
	assert_name(fixture, address, 0, NULL);
	ipv4(address, 1);
	assert_name(fixture, address, 0, NULL);
}

/* names per address and names in total are bounded too */
static void
test_dns_cache_name_bound(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	ipv4(address, 1);
	for (guint i = 0; i < 50; i++) {
		g_autofree gchar *name = g_strdup_printf("site%u.example.org", i);

		vigil_dns_cache_add_name(fixture->cache, 4, address, name, NULL, 3600, (gint)i);
		fixture->now += SECOND;
	}
	g_assert_cmpuint(vigil_dns_cache_get_n_names(fixture->cache),
			 ==,
			 VIGIL_DNS_CACHE_NAMES_PER_ADDRESS);
	assert_name(fixture, address, 0, "site49.example.org");
	assert_name(fixture, address, 3, "site49.example.org");
	assert_name(fixture, address, 45, "site45.example.org");

	/* 100 addresses, 8 names each, is four times the total bound of 200 */
	for (guint i = 0; i < 100; i++) {
		ipv4(address, 100 + i);
		for (guint j = 0; j < VIGIL_DNS_CACHE_NAMES_PER_ADDRESS; j++) {
			g_autofree gchar *name = g_strdup_printf("n%u.example.org", j);

			vigil_dns_cache_add_name(fixture->cache, 4, address, name, NULL, 3600, 0);
		}
	}
	g_assert_cmpuint(vigil_dns_cache_get_n_names(fixture->cache), <=, 200);
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), <=, 100);
}

/* expired addresses leave from the cold end as new ones arrive, without lookups */
static void
test_dns_cache_lazy_expiry(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];

	for (guint i = 0; i < 50; i++) {
		ipv4(address, i);
		vigil_dns_cache_add_name(fixture->cache,
					 4,
					 address,
					 "old.example.org",
					 NULL,
					 60,
					 0);
	}
	fixture->now += 120 * SECOND;
	for (guint i = 0; i < 50; i++) {
		ipv4(address, 1000 + i);
		vigil_dns_cache_add_name(fixture->cache,
					 4,
					 address,
					 "new.example.org",
					 NULL,
					 60,
					 0);
	}
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache), ==, 50);
}

/* a flood of distinct names and addresses: the default bound holds and stays fast */
static void
test_dns_cache_flood(Fixture *fixture, gconstpointer data)
{
	guint8 address[16];
	gint64 start = g_get_monotonic_time();
	gint64 elapsed;

	memset(address, 0, sizeof(address));
	address[0] = 0xfd;
	for (guint i = 0; i < 200000; i++) {
		g_autofree gchar *name = g_strdup_printf("h%u.flood.example.org", i);

		address[12] = (guint8)(i >> 24);
		address[13] = (guint8)(i >> 16);
		address[14] = (guint8)(i >> 8);
		address[15] = (guint8)i;
		vigil_dns_cache_add_name(fixture->cache, 6, address, name, NULL, 300, (gint)i);
	}
	elapsed = g_get_monotonic_time() - start;
	g_assert_cmpuint(vigil_dns_cache_get_size(fixture->cache),
			 ==,
			 VIGIL_DNS_CACHE_ADDRESSES_MAX);
	g_test_message("200000 insertions: %.2f us each", (gdouble)elapsed / 200000);
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	fixtured_test("/vigil/daemon/dns/cache/ttl", 0, test_dns_cache_ttl);
	fixtured_test("/vigil/daemon/dns/cache/ttl-clamp", 0, test_dns_cache_ttl_clamp);
	fixtured_test("/vigil/daemon/dns/cache/renew", 0, test_dns_cache_renew);
	fixtured_test("/vigil/daemon/dns/cache/same-process", 0, test_dns_cache_same_process);
	fixtured_test("/vigil/daemon/dns/cache/families", 0, test_dns_cache_families);
	fixtured_test("/vigil/daemon/dns/cache/names", 0, test_dns_cache_names);
	fixtured_test("/vigil/daemon/dns/cache/bound", 100, test_dns_cache_bound);
	fixtured_test("/vigil/daemon/dns/cache/name-bound", 100, test_dns_cache_name_bound);
	fixtured_test("/vigil/daemon/dns/cache/lazy-expiry", 0, test_dns_cache_lazy_expiry);
	fixtured_test("/vigil/daemon/dns/cache/flood", 0, test_dns_cache_flood);
	return g_test_run();
}
