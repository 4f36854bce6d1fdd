/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-error.h"
#include "vigil-rule-set.h"

#define TEST_NOW      100000
#define TEST_SHA256_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TEST_SHA256_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct {
	VigilRuleSet *set;
	VigilRuleQuery query;
	const gchar *digest;
	guint digest_calls;
} TestFixture;

static const gchar *
test_get_exe_sha256_cb(gpointer user_data)
{
	TestFixture *fixture = user_data;

	fixture->digest_calls++;
	return fixture->digest;
}

/* an outbound tcp connection from /usr/bin/curl, uid 1000, pid 100 */
static void
test_query_reset(TestFixture *fixture)
{
	memset(&fixture->query, 0, sizeof(fixture->query));
	fixture->query.direction = VIGIL_DIRECTION_OUT;
	fixture->query.protocol = VIGIL_PROTOCOL_TCP;
	fixture->query.port = 443;
	fixture->query.exe = "/usr/bin/curl";
	fixture->query.uid_known = TRUE;
	fixture->query.uid = 1000;
	fixture->query.pid = 100;
	fixture->query.pid_start = 5000;
	fixture->query.get_exe_sha256 = test_get_exe_sha256_cb;
	fixture->query.user_data = fixture;
	fixture->query.now = TEST_NOW;
	fixture->digest = TEST_SHA256_A;
	fixture->digest_calls = 0;
}

static void
test_query_set_addr(VigilRuleQuery *query, const gchar *addr)
{
	memset(query->addr, 0, sizeof(query->addr));
	if (addr == NULL) {
		query->family = 0;
		return;
	}
	if (inet_pton(AF_INET, addr, query->addr) == 1) {
		query->family = 4;
		return;
	}
	g_assert_cmpint(inet_pton(AF_INET6, addr, query->addr), ==, 1);
	query->family = 6;
}

static void
test_fixture_setup(TestFixture *fixture, gconstpointer user_data)
{
	fixture->set = vigil_rule_set_new();
	vigil_rule_set_set_boot_id(fixture->set, "boot-a");
	test_query_reset(fixture);
}

static void
test_fixture_teardown(TestFixture *fixture, gconstpointer user_data)
{
	g_assert_finalize_object(fixture->set);
}

#define fixtured_test(path, func)                                                                  \
	g_test_add(path, TestFixture, NULL, test_fixture_setup, func, test_fixture_teardown)

static gboolean
test_key_is_integer(const gchar *key)
{
	static const gchar *keys[] = {"user", "expires", "pid", "pid-start", "created"};

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (g_str_equal(keys[i], key))
			return TRUE;
	}
	return FALSE;
}

/* a rule from key/value strings, e.g. test_rule_new("a", "action", "allow", NULL) */
G_GNUC_NULL_TERMINATED static VigilRule *
test_rule_new(const gchar *id, ...)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) dict = NULL;
	GVariantBuilder builder;
	VigilRule *rule;
	const gchar *key;
	va_list args;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (id != NULL)
		g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_string(id));
	va_start(args, id);
	while ((key = va_arg(args, const gchar *)) != NULL) {
		const gchar *value = va_arg(args, const gchar *);
		GVariant *child;
		if (test_key_is_integer(key))
			child = g_variant_new_int64(g_ascii_strtoll(value, NULL, 10));
		else if (g_str_equal(key, "enabled"))
			child = g_variant_new_boolean(g_str_equal(value, "true"));
		else
			child = g_variant_new_string(value);
		g_variant_builder_add(&builder, "{sv}", key, child);
	}
	va_end(args);
	dict = g_variant_ref_sink(g_variant_builder_end(&builder));
	rule = vigil_rule_new_from_variant(dict, &error);
	g_assert_no_error(error);
	g_assert_nonnull(rule);
	return rule;
}

static void
test_add(TestFixture *fixture, VigilRule *rule_owned)
{
	g_autoptr(VigilRule) rule = rule_owned;
	g_autoptr(GError) error = NULL;
	gboolean ret;

	ret = vigil_rule_set_add(fixture->set, rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
}

#define ADD(...) test_add(fixture, test_rule_new(__VA_ARGS__, NULL))

static const gchar *
test_lookup(TestFixture *fixture)
{
	VigilRule *rule = vigil_rule_set_lookup(fixture->set, &fixture->query);

	return rule != NULL ? vigil_rule_get_id(rule) : NULL;
}

/* 1. who */
static void
test_precedence_who(TestFixture *fixture, gconstpointer user_data)
{
	ADD("any", "action", "deny");
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	ADD("any-user", "action", "deny", "user", "1000");
	g_assert_cmpstr(test_lookup(fixture), ==, "any-user");
	ADD("exe", "action", "allow", "exe", "/usr/bin/curl");
	g_assert_cmpstr(test_lookup(fixture), ==, "exe");
	ADD("exe-user", "action", "allow", "exe", "/usr/bin/curl", "user", "1000");
	g_assert_cmpstr(test_lookup(fixture), ==, "exe-user");
	ADD("exe-sha", "action", "allow", "exe", "/usr/bin/curl", "sha256", TEST_SHA256_A);
	g_assert_cmpstr(test_lookup(fixture), ==, "exe-sha");
	ADD("exe-sha-user",
	    "action",
	    "allow",
	    "exe",
	    "/usr/bin/curl",
	    "sha256",
	    TEST_SHA256_A,
	    "user",
	    "1000");
	g_assert_cmpstr(test_lookup(fixture), ==, "exe-sha-user");

	/* peel them off again: each falls back to the next */
	fixture->query.uid = 1001;
	g_assert_cmpstr(test_lookup(fixture), ==, "exe-sha");
	fixture->digest = TEST_SHA256_B;
	g_assert_cmpstr(test_lookup(fixture), ==, "exe");
	fixture->query.exe = "/usr/bin/wget";
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	fixture->query.uid = 1000;
	g_assert_cmpstr(test_lookup(fixture), ==, "any-user");

	/* who comes before the destination: an app rule for any host beats an any-app rule
	 * for the exact host */
	ADD("any-host", "action", "deny", "host", "example.org", "user", "1000");
	ADD("wget", "action", "allow", "exe", "/usr/bin/wget");
	fixture->query.host = "example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "wget");
}

static void
test_precedence_who_app_id_unit(TestFixture *fixture, gconstpointer user_data)
{
	ADD("any-user", "action", "deny", "user", "1000");
	ADD("app", "action", "allow", "app-id", "org.example.App");
	ADD("unit", "action", "reject", "unit", "app-org.example.App-1.scope", "user", "1000");

	fixture->query.exe = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "any-user");
	fixture->query.app_id = "org.example.App";
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
	fixture->query.unit = "app-org.example.App-1.scope";
	g_assert_cmpstr(test_lookup(fixture), ==, "unit");
	fixture->query.uid_known = FALSE;
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
}

/* 2. destination */
static void
test_precedence_destination(TestFixture *fixture, gconstpointer user_data)
{
	fixture->query.host = "www.a.example.org";
	test_query_set_addr(&fixture->query, "198.18.1.2");

	ADD("any", "action", "allow", "exe", "/usr/bin/curl");
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	ADD("v4-0", "action", "allow", "exe", "/usr/bin/curl", "cidr", "0.0.0.0/0");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-0");
	ADD("v4-15", "action", "allow", "exe", "/usr/bin/curl", "cidr", "198.18.0.0/15");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-15");
	ADD("v4-24", "action", "allow", "exe", "/usr/bin/curl", "cidr", "198.18.1.0/24");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-24");
	ADD("v4-31", "action", "allow", "exe", "/usr/bin/curl", "cidr", "198.18.1.2/31");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-31");
	ADD("org", "action", "allow", "exe", "/usr/bin/curl", "host", "*.org");
	g_assert_cmpstr(test_lookup(fixture), ==, "org");
	ADD("example", "action", "allow", "exe", "/usr/bin/curl", "host", "*.example.org");
	g_assert_cmpstr(test_lookup(fixture), ==, "example");
	ADD("a-example", "action", "allow", "exe", "/usr/bin/curl", "host", "*.a.example.org");
	g_assert_cmpstr(test_lookup(fixture), ==, "a-example");
	ADD("www", "action", "allow", "exe", "/usr/bin/curl", "host", "*.www.a.example.org");
	g_assert_cmpstr(test_lookup(fixture), ==, "www");
	ADD("v4-32", "action", "allow", "exe", "/usr/bin/curl", "cidr", "198.18.1.2");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-32");
	/* an exact host ties with a full-length address; the action breaks the tie */
	ADD("exact", "action", "deny", "exe", "/usr/bin/curl", "host", "www.a.example.org");
	g_assert_cmpstr(test_lookup(fixture), ==, "exact");

	/* without the host the address rules decide, and the reverse */
	fixture->query.host = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-32");
	test_query_set_addr(&fixture->query, "198.18.1.3");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-31");
	test_query_set_addr(&fixture->query, "198.18.1.4");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-24");
	test_query_set_addr(&fixture->query, "198.19.255.255");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-15");
	test_query_set_addr(&fixture->query, "198.20.0.0");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-0");
	test_query_set_addr(&fixture->query, "fd00::1");
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	fixture->query.host = "a.example.org";
	test_query_set_addr(&fixture->query, NULL);
	g_assert_cmpstr(test_lookup(fixture), ==, "a-example");
	fixture->query.host = "example.net";
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
}

static void
test_precedence_destination_v6(TestFixture *fixture, gconstpointer user_data)
{
	ADD("any", "action", "allow");
	ADD("v6-0", "action", "allow", "cidr", "::/0");
	ADD("v6-8", "action", "allow", "cidr", "fd00::/8");
	ADD("v6-64", "action", "allow", "cidr", "fd00:1:2:3::/64");
	ADD("v6-127", "action", "allow", "cidr", "fd00:1:2:3::/127");
	ADD("v6-128", "action", "allow", "cidr", "fd00:1:2:3::1");

	test_query_set_addr(&fixture->query, "fd00:1:2:3::1");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-128");
	test_query_set_addr(&fixture->query, "fd00:1:2:3::");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-127");
	test_query_set_addr(&fixture->query, "fd00:1:2:3::2");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-64");
	test_query_set_addr(&fixture->query, "fd00:1:2:3:ffff:ffff:ffff:ffff");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-64");
	test_query_set_addr(&fixture->query, "fd00:1:2:4::");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-8");
	test_query_set_addr(&fixture->query, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-8");
	test_query_set_addr(&fixture->query, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-0");
	test_query_set_addr(&fixture->query, "fe00::");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6-0");
	test_query_set_addr(&fixture->query, "198.18.0.1");
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	test_query_set_addr(&fixture->query, NULL);
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
}

/* 3. port */
static void
test_precedence_port(TestFixture *fixture, gconstpointer user_data)
{
	ADD("any", "action", "deny");
	ADD("all", "action", "allow", "port", "0-65535");
	ADD("wide", "action", "allow", "port", "1-1023");
	ADD("narrow", "action", "allow", "port", "440-450");
	ADD("exact", "action", "allow", "port", "443");

	fixture->query.port = 443;
	g_assert_cmpstr(test_lookup(fixture), ==, "exact");
	fixture->query.port = 444;
	g_assert_cmpstr(test_lookup(fixture), ==, "narrow");
	fixture->query.port = 440;
	g_assert_cmpstr(test_lookup(fixture), ==, "narrow");
	fixture->query.port = 450;
	g_assert_cmpstr(test_lookup(fixture), ==, "narrow");
	fixture->query.port = 439;
	g_assert_cmpstr(test_lookup(fixture), ==, "wide");
	fixture->query.port = 1;
	g_assert_cmpstr(test_lookup(fixture), ==, "wide");
	fixture->query.port = 1024;
	g_assert_cmpstr(test_lookup(fixture), ==, "all");
	fixture->query.port = 65535;
	g_assert_cmpstr(test_lookup(fixture), ==, "all");
	fixture->query.port = 0;
	g_assert_cmpstr(test_lookup(fixture), ==, "all");

	/* the port is weighed after the destination */
	ADD("host", "action", "deny", "host", "example.org");
	fixture->query.host = "example.org";
	fixture->query.port = 443;
	g_assert_cmpstr(test_lookup(fixture), ==, "host");
}

/* 4. protocol, then direction */
static void
test_precedence_protocol_direction(TestFixture *fixture, gconstpointer user_data)
{
	ADD("any", "action", "deny");
	ADD("out", "action", "deny", "direction", "out");
	g_assert_cmpstr(test_lookup(fixture), ==, "out");
	ADD("tcp", "action", "allow", "protocol", "tcp");
	g_assert_cmpstr(test_lookup(fixture), ==, "tcp");
	ADD("tcp-out", "action", "allow", "protocol", "tcp", "direction", "out");
	g_assert_cmpstr(test_lookup(fixture), ==, "tcp-out");

	fixture->query.direction = VIGIL_DIRECTION_IN;
	g_assert_cmpstr(test_lookup(fixture), ==, "tcp");
	fixture->query.protocol = VIGIL_PROTOCOL_UDP;
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	fixture->query.direction = VIGIL_DIRECTION_OUT;
	g_assert_cmpstr(test_lookup(fixture), ==, "out");
}

/* 5. the action breaks a tie: deny, reject, allow */
static void
test_precedence_action(TestFixture *fixture, gconstpointer user_data)
{
	ADD("allow", "action", "allow", "exe", "/usr/bin/curl", "port", "443");
	g_assert_cmpstr(test_lookup(fixture), ==, "allow");
	ADD("reject", "action", "reject", "exe", "/usr/bin/curl", "port", "443");
	g_assert_cmpstr(test_lookup(fixture), ==, "reject");
	ADD("deny", "action", "deny", "exe", "/usr/bin/curl", "port", "443");
	g_assert_cmpstr(test_lookup(fixture), ==, "deny");

	/* but only a tie: a more specific allow still wins */
	ADD("allow-tcp",
	    "action",
	    "allow",
	    "exe",
	    "/usr/bin/curl",
	    "port",
	    "443",
	    "protocol",
	    "tcp");
	g_assert_cmpstr(test_lookup(fixture), ==, "allow-tcp");
}

/* 6. then the older rule, then the smaller id */
static void
test_precedence_age(TestFixture *fixture, gconstpointer user_data)
{
	ADD("b", "action", "allow", "created", "20");
	ADD("c", "action", "allow", "created", "10");
	g_assert_cmpstr(test_lookup(fixture), ==, "c");
	ADD("d", "action", "allow", "created", "10");
	g_assert_cmpstr(test_lookup(fixture), ==, "c");
	ADD("a", "action", "allow", "created", "10");
	g_assert_cmpstr(test_lookup(fixture), ==, "a");
}

/* design.md: app + exact host + port beats app + domain beats app + any */
static void
test_precedence_design(TestFixture *fixture, gconstpointer user_data)
{
	ADD("app-any", "action", "deny", "exe", "/usr/bin/curl");
	ADD("app-domain", "action", "reject", "exe", "/usr/bin/curl", "host", "*.example.org");
	ADD("app-host-port",
	    "action",
	    "allow",
	    "exe",
	    "/usr/bin/curl",
	    "host",
	    "www.example.org",
	    "port",
	    "443");

	fixture->query.host = "www.example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "app-host-port");
	fixture->query.port = 80;
	g_assert_cmpstr(test_lookup(fixture), ==, "app-domain");
	fixture->query.host = "example.com";
	g_assert_cmpstr(test_lookup(fixture), ==, "app-any");
}

static void
test_domain_matching(TestFixture *fixture, gconstpointer user_data)
{
	ADD("domain", "action", "allow", "host", "*.example.org");
	ADD("exact", "action", "deny", "host", "example.net");

	fixture->query.host = "example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "a.example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "a.b.c.example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "WWW.Example.ORG.";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "notexample.org";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = "example.org.evil.net";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = "org";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = "";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = ".";
	g_assert_null(test_lookup(fixture));

	/* a name with an empty label is no host name: it is treated as unknown */
	fixture->query.host = "a..example.org";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = ".example.org";
	g_assert_null(test_lookup(fixture));

	/* an exact host matches only itself */
	fixture->query.host = "example.net";
	g_assert_cmpstr(test_lookup(fixture), ==, "exact");
	fixture->query.host = "www.example.net";
	g_assert_null(test_lookup(fixture));
}

static void
test_cidr_v4_edges(TestFixture *fixture, gconstpointer user_data)
{
	ADD("net", "action", "allow", "cidr", "198.18.0.0/15");
	ADD("zero", "action", "deny", "cidr", "10.0.0.0/8", "port", "22");

	test_query_set_addr(&fixture->query, "198.18.0.0");
	g_assert_cmpstr(test_lookup(fixture), ==, "net");
	test_query_set_addr(&fixture->query, "198.19.255.255");
	g_assert_cmpstr(test_lookup(fixture), ==, "net");
	test_query_set_addr(&fixture->query, "198.17.255.255");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, "198.20.0.0");
	g_assert_null(test_lookup(fixture));

	/* an IPv4-mapped IPv6 address is its IPv4 address */
	test_query_set_addr(&fixture->query, "::ffff:198.18.3.4");
	g_assert_cmpstr(test_lookup(fixture), ==, "net");
	test_query_set_addr(&fixture->query, "::ffff:198.20.3.4");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, "::c612:304");
	g_assert_null(test_lookup(fixture));

	/* the address family must match */
	fixture->query.port = 22;
	test_query_set_addr(&fixture->query, "10.255.255.255");
	g_assert_cmpstr(test_lookup(fixture), ==, "zero");
	test_query_set_addr(&fixture->query, "a00::");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, NULL);
	g_assert_null(test_lookup(fixture));
}

/* an app's cell keeps a filter of the destinations its rules name, so that its block is
 * not read for the others: it must never rule out a rule that matches */
static void
test_bucket_filter(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gboolean ret;

	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	ADD("host", "action", "allow", "exe", "/usr/bin/curl", "host", "api.example.org");
	ADD("domain", "action", "deny", "exe", "/usr/bin/curl", "host", "*.example.net");
	ADD("v4", "action", "allow", "exe", "/usr/bin/curl", "cidr", "10.1.0.0/16");
	ADD("v4-8", "action", "deny", "exe", "/usr/bin/curl", "cidr", "172.0.0.0/8");
	ADD("v6", "action", "allow", "exe", "/usr/bin/curl", "cidr", "fd00:1::/32");
	ADD("range",
	    "action",
	    "reject",
	    "exe",
	    "/usr/bin/curl",
	    "host",
	    "*.ranges.test",
	    "port",
	    "1000-2000");
	ADD("short", "action", "deny", "exe", "/usr/bin/wget", "cidr", "192.0.0.0/7");
	ADD("short-v6", "action", "deny", "exe", "/usr/bin/ssh", "cidr", "fc00::/7");

	fixture->query.host = "api.example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "host");
	fixture->query.host = "API.Example.Org.";
	g_assert_cmpstr(test_lookup(fixture), ==, "host");
	fixture->query.host = "www.api.example.org";
	g_assert_null(test_lookup(fixture));
	fixture->query.host = "example.net";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "a.b.c.d.e.f.g.h.i.example.net";
	g_assert_cmpstr(test_lookup(fixture), ==, "domain");
	fixture->query.host = "elsewhere.test";
	g_assert_null(test_lookup(fixture));
	fixture->query.port = 1500;
	fixture->query.host = "x.ranges.test";
	g_assert_cmpstr(test_lookup(fixture), ==, "range");
	fixture->query.port = 443;
	g_assert_null(test_lookup(fixture));

	/* an address, with or without a host the rules do not name */
	test_query_set_addr(&fixture->query, "10.1.200.3");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4");
	fixture->query.host = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "v4");
	test_query_set_addr(&fixture->query, "::ffff:10.1.0.1");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4");
	test_query_set_addr(&fixture->query, "10.2.0.1");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, "172.255.255.255");
	g_assert_cmpstr(test_lookup(fixture), ==, "v4-8");
	test_query_set_addr(&fixture->query, "173.0.0.0");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, "fd00:1:ffff::1");
	g_assert_cmpstr(test_lookup(fixture), ==, "v6");
	test_query_set_addr(&fixture->query, "fd00:2::1");
	g_assert_null(test_lookup(fixture));
	test_query_set_addr(&fixture->query, "10.1.0.1");
	test_query_set_addr(&fixture->query, "fd01:1::1");
	g_assert_null(test_lookup(fixture));

	/* prefixes shorter than the filter keeps: the bucket is always read */
	fixture->query.exe = "/usr/bin/wget";
	test_query_set_addr(&fixture->query, "193.255.0.1");
	g_assert_cmpstr(test_lookup(fixture), ==, "short");
	fixture->query.exe = "/usr/bin/ssh";
	test_query_set_addr(&fixture->query, "fdff::1");
	g_assert_cmpstr(test_lookup(fixture), ==, "short-v6");

	/* a rule for any destination: every query reads the bucket */
	fixture->query.exe = "/usr/bin/curl";
	test_query_set_addr(&fixture->query, NULL);
	fixture->query.host = "elsewhere.test";
	g_assert_null(test_lookup(fixture));
	ADD("any", "action", "allow", "exe", "/usr/bin/curl", "port", "443");
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	fixture->query.host = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "any");
	ret = vigil_rule_set_remove(fixture->set, "any", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_null(test_lookup(fixture));

	/* a name added later, and one removed */
	fixture->query.host = "elsewhere.test";
	ADD("later", "action", "deny", "exe", "/usr/bin/curl", "host", "*.test");
	g_assert_cmpstr(test_lookup(fixture), ==, "later");
	ret = vigil_rule_set_remove(fixture->set, "later", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_null(test_lookup(fixture));
	fixture->query.host = "api.example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "host");
}

/* the filter of the apps' destinations, as it grows with thousands of apps, loses rules and
 * is rebuilt: every app still finds its own rules and never another app's */
#define TEST_FILTER_APPS 3000

static void
test_filter_app_query(TestFixture *fixture, guint app, guint site, guint port)
{
	static gchar exe[64];
	static gchar host[64];

	test_query_reset(fixture);
	g_snprintf(exe, sizeof(exe), "/usr/bin/app%u", app);
	g_snprintf(host, sizeof(host), "h.site%u.test", site);
	fixture->query.exe = exe;
	fixture->query.host = host;
	fixture->query.port = (guint16)port;
}

static void
test_filter_app_address(TestFixture *fixture, guint site)
{
	g_autofree gchar *addr = g_strdup_printf("10.%u.%u.5", site / 256, site % 256);

	fixture->query.host = NULL;
	test_query_set_addr(&fixture->query, addr);
}

static void
test_filter_app_add(TestFixture *fixture, guint app, guint site, gboolean enabled)
{
	g_autofree gchar *exe = g_strdup_printf("/usr/bin/app%u", app);
	g_autofree gchar *host = g_strdup_printf("h.site%u.test", site);
	g_autofree gchar *cidr = g_strdup_printf("10.%u.%u.0/24", site / 256, site % 256);
	g_autofree gchar *host_id = g_strdup_printf("h%u", app);
	g_autofree gchar *cidr_id = g_strdup_printf("c%u", app);

	ADD(host_id,
	    "action",
	    "allow",
	    "exe",
	    exe,
	    "host",
	    host,
	    "enabled",
	    enabled ? "true" : "false");
	ADD(cidr_id, "action", "deny", "exe", exe, "cidr", cidr);
	if (app % 10 == 0) {
		g_autofree gchar *any_id = g_strdup_printf("a%u", app);
		ADD(any_id, "action", "deny", "exe", exe, "port", "22");
	}
}

/* the app finds its host and address rules for @site, and nothing for another site */
static void
test_filter_app_check(TestFixture *fixture, guint app, guint site, gboolean has_host)
{
	g_autofree gchar *host_id = g_strdup_printf("h%u", app);
	g_autofree gchar *cidr_id = g_strdup_printf("c%u", app);
	g_autofree gchar *any_id = g_strdup_printf("a%u", app);
	guint other = (site + 1 + app % 7) % TEST_FILTER_APPS;

	test_filter_app_query(fixture, app, site, 443);
	g_assert_cmpstr(test_lookup(fixture), ==, has_host ? host_id : NULL);
	test_filter_app_address(fixture, site);
	g_assert_cmpstr(test_lookup(fixture), ==, cidr_id);
	test_filter_app_query(fixture, app, other, 443);
	g_assert_null(test_lookup(fixture));
	test_filter_app_address(fixture, other);
	g_assert_null(test_lookup(fixture));
	test_filter_app_query(fixture, app, other, 22);
	g_assert_cmpstr(test_lookup(fixture), ==, app % 10 == 0 ? any_id : NULL);
}

static void
test_apps_destination_filter(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		test_filter_app_add(fixture, app, app, TRUE);
		if (app % 97 == 0) {
			for (guint seen = 0; seen <= app; seen += 13)
				test_filter_app_check(fixture, seen, seen, TRUE);
		}
	}
	for (guint app = 0; app < TEST_FILTER_APPS; app++)
		test_filter_app_check(fixture, app, app, TRUE);

	/* two apps in three lose their rules: the filter is rebuilt smaller on the way */
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		g_autofree gchar *host_id = g_strdup_printf("h%u", app);
		g_autofree gchar *cidr_id = g_strdup_printf("c%u", app);
		g_autofree gchar *any_id = g_strdup_printf("a%u", app);
		if (app % 3 == 0)
			continue;
		g_assert_true(vigil_rule_set_remove(fixture->set, host_id, &error));
		g_assert_no_error(error);
		g_assert_true(vigil_rule_set_remove(fixture->set, cidr_id, &error));
		g_assert_no_error(error);
		if (app % 10 == 0) {
			g_assert_true(vigil_rule_set_remove(fixture->set, any_id, &error));
			g_assert_no_error(error);
		}
	}
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		if (app % 3 == 0) {
			test_filter_app_check(fixture, app, app, TRUE);
		} else {
			test_filter_app_query(fixture, app, app, 22);
			g_assert_null(test_lookup(fixture));
			test_filter_app_address(fixture, app);
			g_assert_null(test_lookup(fixture));
		}
	}

	/* they come back with other sites and their host rules disabled, which the filter does
	 * not hold until a replace enables them */
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		if (app % 3 != 0)
			test_filter_app_add(fixture, app, (app + 1000) % TEST_FILTER_APPS, FALSE);
	}
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		if (app % 3 != 0)
			test_filter_app_check(fixture, app, (app + 1000) % TEST_FILTER_APPS, FALSE);
		else
			test_filter_app_check(fixture, app, app, TRUE);
	}
	for (guint app = 1; app < TEST_FILTER_APPS; app += 3) {
		g_autofree gchar *host_id = g_strdup_printf("h%u", app);
		g_autoptr(VigilRule) rule =
		    vigil_rule_copy(vigil_rule_set_get(fixture->set, host_id));
		vigil_rule_set_enabled(rule, TRUE);
		g_assert_true(vigil_rule_set_replace(fixture->set, rule, &error));
		g_assert_no_error(error);
	}
	for (guint app = 0; app < TEST_FILTER_APPS; app++) {
		guint site = app % 3 == 0 ? app : (app + 1000) % TEST_FILTER_APPS;
		test_filter_app_check(fixture, app, site, app % 3 != 2);
	}
}

/* the directory beside the lines of that filter, which leads a lookup from an app's line to
 * its block: with thousands of apps of one rule each, some lines have more apps than slots
 * and their other apps are found through the table of buckets; blocks that move as an app
 * gains and loses rules (flat, hashed, flat again), apps that leave and free a slot, and
 * rebuilds as the apps grow in number keep every app to its own block */
#define TEST_DIRECTORY_APPS 6000

static void
test_directory_add(TestFixture *fixture, guint app)
{
	g_autofree gchar *id = g_strdup_printf("d%u", app);
	g_autofree gchar *exe = g_strdup_printf("/usr/bin/app%u", app);
	g_autofree gchar *host = g_strdup_printf("h.site%u.test", app);

	ADD(id, "action", "allow", "exe", exe, "host", host);
}

static void
test_directory_remove(TestFixture *fixture, const gchar *id)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(vigil_rule_set_remove(fixture->set, id, &error));
	g_assert_no_error(error);
}

/* app % @gone == 1 has no rules, app % @grown == 0 has a better rule for port 443 */
static void
test_directory_check(TestFixture *fixture, guint n_apps, guint gone, guint grown)
{
	for (guint app = 0; app < n_apps; app++) {
		g_autofree gchar *id = g_strdup_printf("d%u", app);
		g_autofree gchar *port_id = g_strdup_printf("p%u", app);
		const gchar *expected = id;
		if (gone != 0 && app % gone == 1)
			expected = NULL;
		else if (grown != 0 && app % grown == 0)
			expected = port_id;
		test_filter_app_query(fixture, app, app, 443);
		g_assert_cmpstr(test_lookup(fixture), ==, expected);
		test_filter_app_query(fixture, app, app, 80);
		g_assert_cmpstr(test_lookup(fixture), ==, expected == NULL ? NULL : id);
	}
}

static void
test_apps_directory(TestFixture *fixture, gconstpointer user_data)
{
	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	for (guint app = 0; app < TEST_DIRECTORY_APPS; app++) {
		test_directory_add(fixture, app);
		if (app % 1000 == 999)
			test_directory_check(fixture, app + 1, 0, 0);
	}

	/* one app in fifty gets 40 more rules, one of them better for port 443: its block
	 * moves as it grows and becomes hashed */
	for (guint app = 0; app < TEST_DIRECTORY_APPS; app += 50) {
		g_autofree gchar *exe = g_strdup_printf("/usr/bin/app%u", app);
		g_autofree gchar *host = g_strdup_printf("h.site%u.test", app);
		g_autofree gchar *port_id = g_strdup_printf("p%u", app);
		for (guint k = 0; k < 39; k++) {
			g_autofree gchar *id = g_strdup_printf("x%u-%u", app, k);
			g_autofree gchar *other = g_strdup_printf("h%u.site%u.test", k, app);
			ADD(id, "action", "deny", "exe", exe, "host", other);
		}
		ADD(port_id, "action", "deny", "exe", exe, "host", host, "port", "443");
	}
	test_directory_check(fixture, TEST_DIRECTORY_APPS, 0, 50);

	/* and loses them again: flat once more */
	for (guint app = 0; app < TEST_DIRECTORY_APPS; app += 50) {
		g_autofree gchar *port_id = g_strdup_printf("p%u", app);
		for (guint k = 0; k < 39; k++) {
			g_autofree gchar *id = g_strdup_printf("x%u-%u", app, k);
			test_directory_remove(fixture, id);
		}
		test_directory_remove(fixture, port_id);
	}
	test_directory_check(fixture, TEST_DIRECTORY_APPS, 0, 0);

	/* a third of the apps leave, then come back in another order */
	for (guint app = 1; app < TEST_DIRECTORY_APPS; app += 3) {
		g_autofree gchar *id = g_strdup_printf("d%u", app);
		test_directory_remove(fixture, id);
	}
	test_directory_check(fixture, TEST_DIRECTORY_APPS, 3, 0);
	for (guint app = TEST_DIRECTORY_APPS - 2; app < TEST_DIRECTORY_APPS; app -= 3)
		test_directory_add(fixture, app);
	test_directory_check(fixture, TEST_DIRECTORY_APPS, 0, 0);
}

static void
test_ports(TestFixture *fixture, gconstpointer user_data)
{
	ADD("range", "action", "allow", "protocol", "udp", "port", "8000-8100");
	ADD("zero", "action", "deny", "port", "0");

	fixture->query.protocol = VIGIL_PROTOCOL_UDP;
	fixture->query.port = 8000;
	g_assert_cmpstr(test_lookup(fixture), ==, "range");
	fixture->query.port = 8100;
	g_assert_cmpstr(test_lookup(fixture), ==, "range");
	fixture->query.port = 7999;
	g_assert_null(test_lookup(fixture));
	fixture->query.port = 8101;
	g_assert_null(test_lookup(fixture));
	fixture->query.protocol = VIGIL_PROTOCOL_TCP;
	fixture->query.port = 8050;
	g_assert_null(test_lookup(fixture));
	fixture->query.protocol = VIGIL_PROTOCOL_ICMP;
	fixture->query.port = 0;
	g_assert_cmpstr(test_lookup(fixture), ==, "zero");
}

static void
test_unknown_values(TestFixture *fixture, gconstpointer user_data)
{
	ADD("exe", "action", "allow", "exe", "/usr/bin/curl");
	ADD("app", "action", "allow", "app-id", "org.example.App");
	ADD("unit", "action", "allow", "unit", "foo.service");
	ADD("user", "action", "allow", "user", "0");
	ADD("host", "action", "allow", "host", "*.example.org");
	ADD("cidr", "action", "allow", "cidr", "0.0.0.0/0");
	ADD("cidr6", "action", "allow", "cidr", "::/0");

	/* nothing known: nothing matches */
	memset(&fixture->query, 0, sizeof(fixture->query));
	fixture->query.protocol = VIGIL_PROTOCOL_TCP;
	fixture->query.now = TEST_NOW;
	g_assert_null(test_lookup(fixture));

	/* uid 0 that is not known is not root */
	fixture->query.uid = 0;
	g_assert_null(test_lookup(fixture));
	fixture->query.uid_known = TRUE;
	g_assert_cmpstr(test_lookup(fixture), ==, "user");
	fixture->query.uid_known = FALSE;

	/* family 0 with an all-zero address matches no prefix, not even /0 */
	fixture->query.family = 0;
	g_assert_null(test_lookup(fixture));

	fixture->query.exe = "/usr/bin/curl";
	g_assert_cmpstr(test_lookup(fixture), ==, "exe");
	fixture->query.exe = "/usr/bin/curl2";
	g_assert_null(test_lookup(fixture));
	fixture->query.exe = NULL;
	fixture->query.app_id = "org.example.App";
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
	fixture->query.app_id = NULL;
	fixture->query.unit = "foo.service";
	g_assert_cmpstr(test_lookup(fixture), ==, "unit");
	fixture->query.unit = NULL;
	fixture->query.host = "example.org";
	g_assert_cmpstr(test_lookup(fixture), ==, "host");
}

static void
test_sha256_callback(TestFixture *fixture, gconstpointer user_data)
{
	ADD("plain", "action", "allow", "exe", "/usr/bin/curl");
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(fixture->digest_calls, ==, 0);

	/* a pinned rule that fails a cheaper test is not asked about */
	ADD("pinned-user",
	    "action",
	    "deny",
	    "exe",
	    "/usr/bin/curl",
	    "sha256",
	    TEST_SHA256_A,
	    "user",
	    "1000",
	    "port",
	    "443");
	fixture->query.uid = 1001;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	fixture->query.uid = 1000;
	fixture->query.port = 80;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(fixture->digest_calls, ==, 0);
	fixture->query.port = 443;
	g_assert_cmpstr(test_lookup(fixture), ==, "pinned-user");
	g_assert_cmpuint(fixture->digest_calls, ==, 1);

	/* several pinned candidates: asked once */
	fixture->digest_calls = 0;
	fixture->query.uid = 1001;
	ADD("pinned-a", "action", "allow", "exe", "/usr/bin/curl", "sha256", TEST_SHA256_A);
	ADD("pinned-b",
	    "action",
	    "deny",
	    "exe",
	    "/usr/bin/curl",
	    "sha256",
	    TEST_SHA256_B,
	    "port",
	    "443");
	g_assert_cmpstr(test_lookup(fixture), ==, "pinned-a");
	g_assert_cmpuint(fixture->digest_calls, ==, 1);
	fixture->digest_calls = 0;
	fixture->digest = TEST_SHA256_B;
	g_assert_cmpstr(test_lookup(fixture), ==, "pinned-b");
	g_assert_cmpuint(fixture->digest_calls, ==, 1);

	/* no digest available: pinned rules never match */
	fixture->digest_calls = 0;
	fixture->digest = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(fixture->digest_calls, ==, 1);
	fixture->query.get_exe_sha256 = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");

	/* other apps' pinned rules do not ask */
	fixture->query.get_exe_sha256 = test_get_exe_sha256_cb;
	fixture->digest_calls = 0;
	fixture->query.exe = "/usr/bin/wget";
	g_assert_null(test_lookup(fixture));
	g_assert_cmpuint(fixture->digest_calls, ==, 0);
}

static void
test_disabled(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ret;

	ADD("off", "action", "deny", "exe", "/usr/bin/curl", "enabled", "false");
	ADD("on", "action", "allow");
	g_assert_cmpstr(test_lookup(fixture), ==, "on");

	rule = vigil_rule_copy(vigil_rule_set_get(fixture->set, "off"));
	vigil_rule_set_enabled(rule, TRUE);
	ret = vigil_rule_set_replace(fixture->set, rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(test_lookup(fixture), ==, "off");
	g_assert_true(vigil_rule_set_get(fixture->set, "off") == rule);

	/* the same object, changed and put back */
	vigil_rule_set_enabled(rule, FALSE);
	ret = vigil_rule_set_replace(fixture->set, rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(test_lookup(fixture), ==, "on");
}

static void
test_expired(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *expires_now = g_strdup_printf("%d", TEST_NOW);
	g_autofree gchar *expires_later = g_strdup_printf("%d", TEST_NOW + 60);
	g_autofree gchar *expires_much_later = g_strdup_printf("%d", TEST_NOW + 3600);
	guint n;

	g_assert_cmpint(vigil_rule_set_get_next_expiry(fixture->set), ==, G_MAXINT64);
	ADD("fallback", "action", "allow");
	ADD("past", "action", "deny", "lifetime", "until", "expires", expires_now);
	g_assert_cmpstr(test_lookup(fixture), ==, "fallback");
	ADD("later", "action", "reject", "lifetime", "until", "expires", expires_much_later);
	ADD("soon", "action", "deny", "lifetime", "until", "expires", expires_later);
	g_assert_cmpstr(test_lookup(fixture), ==, "soon");
	g_assert_cmpint(vigil_rule_set_get_next_expiry(fixture->set), ==, TEST_NOW);

	/* reboot rules: another boot never matches, one without a boot id is stamped */
	ADD("other-boot", "action", "deny", "port", "443", "lifetime", "reboot");
	g_assert_cmpstr(vigil_rule_get_boot_id(vigil_rule_set_get(fixture->set, "other-boot")),
			==,
			"boot-a");
	g_assert_cmpstr(test_lookup(fixture), ==, "other-boot");
	vigil_rule_set_set_boot_id(fixture->set, "boot-b");
	g_assert_cmpstr(test_lookup(fixture), ==, "soon");

	fixture->query.now = TEST_NOW + 60;
	g_assert_cmpstr(test_lookup(fixture), ==, "later");
	fixture->query.now = TEST_NOW + 3600;
	g_assert_cmpstr(test_lookup(fixture), ==, "fallback");

	/* expire removes what has passed, and says which */
	n = vigil_rule_set_expire(fixture->set, TEST_NOW + 60, removed);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(removed->len, ==, 3);
	g_assert_true(g_ptr_array_find_with_equal_func(removed, "past", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(removed, "soon", g_str_equal, NULL));
	g_assert_true(g_ptr_array_find_with_equal_func(removed, "other-boot", g_str_equal, NULL));
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, 2);
	g_assert_cmpint(vigil_rule_set_get_next_expiry(fixture->set), ==, TEST_NOW + 3600);
	n = vigil_rule_set_expire(fixture->set, TEST_NOW + 60, NULL);
	g_assert_cmpuint(n, ==, 0);
	n = vigil_rule_set_expire(fixture->set, TEST_NOW + 3600, NULL);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(vigil_rule_set_get_next_expiry(fixture->set), ==, G_MAXINT64);
}

static void
test_once(TestFixture *fixture, gconstpointer user_data)
{
	VigilRule *rule;

	ADD("forever", "action", "deny");
	ADD("once", "action", "allow", "port", "443", "lifetime", "once");

	rule = vigil_rule_set_lookup(fixture->set, &fixture->query);
	g_assert_cmpstr(vigil_rule_get_id(rule), ==, "once");
	g_assert_cmpstr(test_lookup(fixture), ==, "once");
	g_object_ref(rule);
	vigil_rule_set_record_hit(fixture->set, rule, TEST_NOW + 1);
	g_assert_cmpuint(vigil_rule_get_hits(rule), ==, 1);
	g_assert_cmpint(vigil_rule_get_last_used(rule), ==, TEST_NOW + 1);
	g_assert_finalize_object(rule);
	g_assert_null(vigil_rule_set_get(fixture->set, "once"));
	g_assert_cmpstr(test_lookup(fixture), ==, "forever");

	/* other rules count hits and stay */
	rule = vigil_rule_set_lookup(fixture->set, &fixture->query);
	vigil_rule_set_record_hit(fixture->set, rule, TEST_NOW + 2);
	vigil_rule_set_record_hit(fixture->set, rule, TEST_NOW + 3);
	g_assert_cmpuint(vigil_rule_get_hits(rule), ==, 2);
	g_assert_cmpint(vigil_rule_get_last_used(rule), ==, TEST_NOW + 3);
	g_assert_cmpstr(test_lookup(fixture), ==, "forever");
}

static void
test_process(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
	guint n;

	ADD("p100", "action", "allow", "lifetime", "process", "pid", "100", "pid-start", "5000");
	ADD("p100-old", "action", "deny", "lifetime", "process", "pid", "100", "pid-start", "4000");
	ADD("p200",
	    "action",
	    "deny",
	    "port",
	    "443",
	    "lifetime",
	    "process",
	    "pid",
	    "200",
	    "pid-start",
	    "5000");

	g_assert_cmpstr(test_lookup(fixture), ==, "p100");
	fixture->query.pid_start = 4000;
	g_assert_cmpstr(test_lookup(fixture), ==, "p100-old");
	fixture->query.pid_start = 4001;
	g_assert_null(test_lookup(fixture));
	fixture->query.pid = 200;
	fixture->query.pid_start = 5000;
	g_assert_cmpstr(test_lookup(fixture), ==, "p200");
	fixture->query.pid = 0;
	g_assert_null(test_lookup(fixture));

	n = vigil_rule_set_expire_process(fixture->set, 100, 5000, removed);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(removed, 0), ==, "p100");
	n = vigil_rule_set_expire_process(fixture->set, 300, 0, removed);
	g_assert_cmpuint(n, ==, 0);
	ADD("p100-new",
	    "action",
	    "allow",
	    "lifetime",
	    "process",
	    "pid",
	    "100",
	    "pid-start",
	    "6000");
	n = vigil_rule_set_expire_process(fixture->set, 100, 0, removed);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(removed->len, ==, 3);
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, 1);
	g_assert_nonnull(vigil_rule_set_get(fixture->set, "p200"));
}

static void
test_add_replace_remove(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRule) no_id = test_rule_new(NULL, "action", "allow", NULL);
	g_autoptr(VigilRule) dup = test_rule_new("b", "action", "deny", NULL);
	g_autoptr(VigilRule) invalid = vigil_rule_new();
	g_autoptr(VigilRule) replacement = test_rule_new("b", "action", "reject", NULL);
	g_autoptr(VigilRule) missing = test_rule_new("zz", "action", "reject", NULL);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ret;

	ADD("a", "action", "allow", "port", "1");
	ADD("b", "action", "allow", "port", "2");
	ADD("c", "action", "allow", "port", "3");

	ret = vigil_rule_set_add(fixture->set, no_id, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(g_str_has_prefix(vigil_rule_get_id(no_id), "r-"));
	g_assert_true(vigil_rule_set_get(fixture->set, vigil_rule_get_id(no_id)) == no_id);

	ret = vigil_rule_set_add(fixture->set, dup, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_EXISTS);
	g_assert_false(ret);
	g_clear_error(&error);
	ret = vigil_rule_set_add(fixture->set, invalid, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, 4);

	ret = vigil_rule_set_replace(fixture->set, missing, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_false(ret);
	g_clear_error(&error);
	ret = vigil_rule_set_replace(fixture->set, replacement, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(vigil_rule_set_get(fixture->set, "b") == replacement);
	fixture->query.port = 2;
	g_assert_cmpstr(test_lookup(fixture), ==, "b");
	fixture->query.port = 1;
	g_assert_cmpstr(test_lookup(fixture), ==, "a");

	/* insertion order, with the replacement in its old place */
	rules = vigil_rule_set_get_rules(fixture->set);
	g_assert_cmpuint(rules->len, ==, 4);
	g_assert_cmpstr(vigil_rule_get_id(g_ptr_array_index(rules, 0)), ==, "a");
	g_assert_true(g_ptr_array_index(rules, 1) == replacement);
	g_assert_cmpstr(vigil_rule_get_id(g_ptr_array_index(rules, 2)), ==, "c");
	g_assert_true(g_ptr_array_index(rules, 3) == no_id);

	ret = vigil_rule_set_remove(fixture->set, "b", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_remove(fixture->set, "b", &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_false(ret);
	g_clear_error(&error);
	fixture->query.port = 2;
	g_assert_cmpstr(test_lookup(fixture), ==, vigil_rule_get_id(no_id));

	vigil_rule_set_clear(fixture->set);
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, 0);
	g_assert_null(test_lookup(fixture));
}

/* the randomized cross-check: a linear scan that states the precedence plainly */

/* the tables grow and shrink: every rule stays findable through adds and removes */
static void
test_many_rules(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	guint n_rules = 20000;

	for (guint i = 0; i < n_rules; i++) {
		g_autofree gchar *id = g_strdup_printf("h%05u", i);
		g_autofree gchar *host = g_strdup_printf("host%u.example.org", i);
		g_autofree gchar *port = g_strdup_printf("%u", 1 + i % 3);
		ADD(id, "action", "allow", "exe", "/usr/bin/curl", "host", host, "port", port);
	}
	for (guint i = 0; i < n_rules; i += 2) {
		g_autofree gchar *id = g_strdup_printf("h%05u", i);
		gboolean ret = vigil_rule_set_remove(fixture->set, id, &error);
		g_assert_no_error(error);
		g_assert_true(ret);
	}
	for (guint i = 0; i < n_rules; i++) {
		g_autofree gchar *id = g_strdup_printf("h%05u", i);
		g_autofree gchar *host = g_strdup_printf("host%u.example.org", i);
		fixture->query.host = host;
		fixture->query.port = 1 + i % 3;
		g_assert_cmpstr(test_lookup(fixture), ==, i % 2 == 0 ? NULL : id);
		fixture->query.port = 4;
		g_assert_null(test_lookup(fixture));
	}
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, n_rules / 2);
	vigil_rule_set_clear(fixture->set);
	fixture->query.host = "host1.example.org";
	fixture->query.port = 2;
	g_assert_null(test_lookup(fixture));
}

static gboolean
brute_host_matches(VigilRule *rule, const gchar *host)
{
	const gchar *pattern = vigil_rule_get_host(rule);
	gsize len;
	gsize plen;

	if (host == NULL)
		return FALSE;
	if (!vigil_rule_host_is_domain(rule))
		return g_str_equal(pattern, host);
	pattern += 2;
	if (g_str_equal(pattern, host))
		return TRUE;
	len = strlen(host);
	plen = strlen(pattern);
	return len > plen + 1 && host[len - plen - 1] == '.' &&
	       g_str_equal(host + len - plen, pattern);
}

static gboolean
brute_cidr_matches(VigilRule *rule, const VigilRuleQuery *query)
{
	const guint8 *net = vigil_rule_get_cidr_address(rule);
	guint prefix = vigil_rule_get_cidr_prefix(rule);

	if (query->family != vigil_rule_get_cidr_family(rule))
		return FALSE;
	for (guint bit = 0; bit < prefix; bit++) {
		guint8 mask = (guint8)(0x80 >> (bit % 8));
		if ((query->addr[bit / 8] & mask) != (net[bit / 8] & mask))
			return FALSE;
	}
	return TRUE;
}

static gboolean
brute_matches(VigilRule *rule, const VigilRuleQuery *query, const gchar *boot_id)
{
	if (!vigil_rule_get_enabled(rule))
		return FALSE;
	if (vigil_rule_get_exe(rule) != NULL &&
	    g_strcmp0(vigil_rule_get_exe(rule), query->exe) != 0)
		return FALSE;
	if (vigil_rule_get_app_id(rule) != NULL &&
	    g_strcmp0(vigil_rule_get_app_id(rule), query->app_id) != 0)
		return FALSE;
	if (vigil_rule_get_unit(rule) != NULL &&
	    g_strcmp0(vigil_rule_get_unit(rule), query->unit) != 0)
		return FALSE;
	if (vigil_rule_get_sha256(rule) != NULL) {
		const gchar *digest =
		    query->get_exe_sha256 != NULL ? query->get_exe_sha256(query->user_data) : NULL;
		if (g_strcmp0(digest, vigil_rule_get_sha256(rule)) != 0)
			return FALSE;
	}
	if (vigil_rule_has_user(rule) &&
	    (!query->uid_known || query->uid != vigil_rule_get_user(rule)))
		return FALSE;
	if (vigil_rule_get_direction(rule) != VIGIL_DIRECTION_ANY &&
	    vigil_rule_get_direction(rule) != query->direction)
		return FALSE;
	if (vigil_rule_get_protocol(rule) != 0 && vigil_rule_get_protocol(rule) != query->protocol)
		return FALSE;
	if (vigil_rule_get_host(rule) != NULL && !brute_host_matches(rule, query->host))
		return FALSE;
	if (vigil_rule_get_cidr(rule) != NULL && !brute_cidr_matches(rule, query))
		return FALSE;
	if (vigil_rule_has_port(rule) && (query->port < vigil_rule_get_port_min(rule) ||
					  query->port > vigil_rule_get_port_max(rule)))
		return FALSE;
	if (vigil_rule_is_expired(rule, query->now, boot_id))
		return FALSE;
	if (vigil_rule_get_lifetime(rule) == VIGIL_LIFETIME_PROCESS &&
	    (query->pid != vigil_rule_get_pid(rule) ||
	     query->pid_start != vigil_rule_get_pid_start(rule)))
		return FALSE;
	return TRUE;
}

static gint
brute_who(VigilRule *rule)
{
	gint who = 0;

	if (vigil_rule_get_exe(rule) != NULL || vigil_rule_get_app_id(rule) != NULL ||
	    vigil_rule_get_unit(rule) != NULL)
		who = 4;
	if (vigil_rule_get_sha256(rule) != NULL)
		who += 2;
	if (vigil_rule_has_user(rule))
		who += 1;
	return who;
}

/* destination as (tier, strength): exact 3, domain 2 by labels, prefix 1 by length, any 0 */
static void
brute_destination(VigilRule *rule, gint *tier, gint *strength)
{
	*tier = 0;
	*strength = 0;
	if (vigil_rule_get_host(rule) != NULL) {
		const gchar *host = vigil_rule_get_host(rule);
		if (!vigil_rule_host_is_domain(rule)) {
			*tier = 3;
			return;
		}
		*tier = 2;
		*strength = 1;
		for (const gchar *p = host; *p != '\0'; p++)
			*strength += *p == '.';
		*strength -= 1; /* the dot of "*." */
		return;
	}
	if (vigil_rule_get_cidr(rule) != NULL) {
		guint full = vigil_rule_get_cidr_family(rule) == 4 ? 32 : 128;
		*tier = vigil_rule_get_cidr_prefix(rule) == full ? 3 : 1;
		*strength = vigil_rule_get_cidr_prefix(rule);
		if (*tier == 3)
			*strength = 0;
	}
}

/* port as (tier, narrowness): exact 2, range 1 (narrower first), any 0 */
static void
brute_port(VigilRule *rule, gint *tier, gint *narrowness)
{
	*tier = 0;
	*narrowness = 0;
	if (!vigil_rule_has_port(rule))
		return;
	*tier = vigil_rule_get_port_min(rule) == vigil_rule_get_port_max(rule) ? 2 : 1;
	*narrowness = -(gint)(vigil_rule_get_port_max(rule) - vigil_rule_get_port_min(rule));
}

static gint
brute_action(VigilRule *rule)
{
	switch (vigil_rule_get_action(rule)) {
	case VIGIL_ACTION_DENY:
		return 2;
	case VIGIL_ACTION_REJECT:
		return 1;
	default:
		return 0;
	}
}

#define BRUTE_CMP(x, y)                                                                            \
	do {                                                                                       \
		if ((x) != (y))                                                                    \
			return (x) > (y) ? -1 : 1;                                                 \
	} while (0)

/* negative when @a takes precedence */
static gint
brute_compare(VigilRule *a, VigilRule *b)
{
	gint ta, sa, tb, sb;

	BRUTE_CMP(brute_who(a), brute_who(b));
	brute_destination(a, &ta, &sa);
	brute_destination(b, &tb, &sb);
	BRUTE_CMP(ta, tb);
	BRUTE_CMP(sa, sb);
	brute_port(a, &ta, &sa);
	brute_port(b, &tb, &sb);
	BRUTE_CMP(ta, tb);
	BRUTE_CMP(sa, sb);
	BRUTE_CMP(vigil_rule_get_protocol(a) != 0, vigil_rule_get_protocol(b) != 0);
	BRUTE_CMP(vigil_rule_get_direction(a) != VIGIL_DIRECTION_ANY,
		  vigil_rule_get_direction(b) != VIGIL_DIRECTION_ANY);
	BRUTE_CMP(brute_action(a), brute_action(b));
	BRUTE_CMP(-vigil_rule_get_created(a), -vigil_rule_get_created(b));
	return strcmp(vigil_rule_get_id(a), vigil_rule_get_id(b));
}

static VigilRule *
brute_lookup(GPtrArray *rules, const VigilRuleQuery *query, const gchar *boot_id)
{
	VigilRule *best = NULL;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		if (!brute_matches(rule, query, boot_id))
			continue;
		if (best == NULL || brute_compare(rule, best) < 0)
			best = rule;
	}
	return best;
}

static const gchar *random_exes[] = {"/usr/bin/curl",
				     "/usr/bin/wget",
				     "/usr/bin/ssh",
				     "/usr/lib/firefox/firefox",
				     "/opt/app/bin/app"};
static const gchar *random_app_ids[] = {"org.example.App", "org.gnome.Maps", "com.valve.Steam"};
static const gchar *random_units[] = {"sshd.service", "app-gnome-org.gnome.Console-1.scope"};
static const gchar *random_hosts[] = {"example.org",
				      "www.example.org",
				      "a.b.example.org",
				      "notexample.org",
				      "example.com",
				      "cdn.example.com",
				      "org",
				      "localhost"};
static const gchar *random_domains[] =
    {"*.example.org", "*.b.example.org", "*.org", "*.com", "*.example.com", "*.localhost"};
static const gchar *random_ports[] =
    {"53", "80", "443", "8000-8100", "0-1023", "440-450", "443-444", "0", "65535", "1024-65535"};

#define RANDOM_PICK(array) (array)[g_test_rand_int_range(0, G_N_ELEMENTS(array))]

static void
random_addr(VigilRuleQuery *query)
{
	guint8 family = g_test_rand_bit() ? 4 : 6;

	memset(query->addr, 0, sizeof(query->addr));
	query->family = family;
	if (family == 4) {
		/* mostly within 198.18.0.0/15 and 10.0.0.0/8, so that prefixes overlap */
		switch (g_test_rand_int_range(0, 3)) {
		case 0:
			query->addr[0] = 198;
			query->addr[1] = (guint8)g_test_rand_int_range(18, 20);
			break;
		case 1:
			query->addr[0] = 10;
			query->addr[1] = (guint8)g_test_rand_int_range(0, 4);
			break;
		default:
			query->addr[0] = (guint8)g_test_rand_int_range(0, 256);
			query->addr[1] = (guint8)g_test_rand_int_range(0, 256);
			break;
		}
		query->addr[2] = (guint8)g_test_rand_int_range(0, 4);
		query->addr[3] = (guint8)g_test_rand_int_range(0, 4);
		return;
	}
	query->addr[0] = g_test_rand_bit() ? 0xfd : 0x20;
	query->addr[1] = (guint8)g_test_rand_int_range(0, 4);
	query->addr[7] = (guint8)g_test_rand_int_range(0, 4);
	query->addr[15] = (guint8)g_test_rand_int_range(0, 4);
}

static VigilRule *
random_rule(guint n)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = g_strdup_printf("r%05u", n);
	gint pick;

	vigil_rule_set_id(rule, id);
	vigil_rule_set_action(rule, (VigilAction)g_test_rand_int_range(1, VIGIL_ACTION_LAST));
	vigil_rule_set_created(rule, g_test_rand_int_range(0, 4));

	pick = g_test_rand_int_range(0, 10);
	if (pick < 4)
		vigil_rule_set_exe(rule, RANDOM_PICK(random_exes));
	else if (pick < 5)
		vigil_rule_set_app_id(rule, RANDOM_PICK(random_app_ids));
	else if (pick < 6)
		vigil_rule_set_unit(rule, RANDOM_PICK(random_units));
	if (vigil_rule_get_exe(rule) != NULL && g_test_rand_int_range(0, 4) == 0)
		g_assert_true(
		    vigil_rule_set_sha256(rule,
					  g_test_rand_bit() ? TEST_SHA256_A : TEST_SHA256_B,
					  NULL));
	if (g_test_rand_int_range(0, 4) == 0)
		vigil_rule_set_user(rule, (guint32)g_test_rand_int_range(1000, 1002));

	/* rules for any app to any destination would match nearly every query */
	pick = g_test_rand_int_range(0, 10);
	if (brute_who(rule) < 4 && pick >= 8)
		pick = g_test_rand_int_range(0, 8);
	if (pick < 3) {
		g_assert_true(vigil_rule_set_host(rule, RANDOM_PICK(random_hosts), NULL));
	} else if (pick < 5) {
		g_assert_true(vigil_rule_set_host(rule, RANDOM_PICK(random_domains), NULL));
	} else if (pick < 8) {
		VigilRuleQuery query = {0};
		gchar text[INET6_ADDRSTRLEN];
		g_autofree gchar *cidr = NULL;
		guint prefix;
		random_addr(&query);
		prefix = query.family == 4 ? (guint)g_test_rand_int_range(0, 33)
					   : (guint)g_test_rand_int_range(0, 129);
		g_assert_nonnull(inet_ntop(query.family == 4 ? AF_INET : AF_INET6,
					   query.addr,
					   text,
					   sizeof(text)));
		cidr = g_strdup_printf("%s/%u", text, prefix);
		vigil_rule_set_cidr(rule, cidr, &error);
		g_assert_no_error(error);
	}

	pick = g_test_rand_int_range(0, 10);
	if (pick < 4)
		vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	else if (pick < 6)
		vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_UDP);
	if (g_test_rand_int_range(0, 2) == 0) {
		vigil_rule_set_port_from_string(rule, RANDOM_PICK(random_ports), &error);
		g_assert_no_error(error);
	}
	vigil_rule_set_direction(rule, (VigilDirection)g_test_rand_int_range(0, 3));

	pick = g_test_rand_int_range(0, 20);
	if (pick == 0) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_ONCE);
	} else if (pick == 1) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
		vigil_rule_set_process(rule,
				       (guint32)g_test_rand_int_range(1, 3),
				       (guint64)g_test_rand_int_range(0, 2));
	} else if (pick == 2) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
		vigil_rule_set_expires(rule, TEST_NOW + g_test_rand_int_range(-2, 3));
	} else if (pick == 3) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_REBOOT);
		vigil_rule_set_boot_id(rule, g_test_rand_bit() ? "boot-a" : "boot-b");
	}
	if (g_test_rand_int_range(0, 10) == 0)
		vigil_rule_set_enabled(rule, FALSE);
	vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	return g_steal_pointer(&rule);
}

static void
random_query(TestFixture *fixture)
{
	VigilRuleQuery *query = &fixture->query;

	memset(query, 0, sizeof(*query));
	query->direction = g_test_rand_bit() ? VIGIL_DIRECTION_OUT : VIGIL_DIRECTION_IN;
	query->protocol =
	    g_test_rand_int_range(0, 4) == 0 ? VIGIL_PROTOCOL_UDP : VIGIL_PROTOCOL_TCP;
	query->port = (guint16)atoi(RANDOM_PICK(random_ports));
	if (g_test_rand_int_range(0, 4) == 0)
		query->port = (guint16)g_test_rand_int_range(0, 65536);
	if (g_test_rand_int_range(0, 4) != 0)
		query->host = RANDOM_PICK(random_hosts);
	if (g_test_rand_int_range(0, 4) != 0)
		random_addr(query);
	if (g_test_rand_int_range(0, 5) != 0)
		query->exe = RANDOM_PICK(random_exes);
	if (g_test_rand_int_range(0, 3) == 0)
		query->app_id = RANDOM_PICK(random_app_ids);
	if (g_test_rand_int_range(0, 3) == 0)
		query->unit = RANDOM_PICK(random_units);
	query->uid_known = g_test_rand_int_range(0, 5) != 0;
	query->uid = (guint32)g_test_rand_int_range(1000, 1002);
	query->pid = (guint32)g_test_rand_int_range(0, 3);
	query->pid_start = (guint64)g_test_rand_int_range(0, 2);
	query->get_exe_sha256 = test_get_exe_sha256_cb;
	query->user_data = fixture;
	query->now = TEST_NOW + g_test_rand_int_range(-1, 2);
	fixture->digest = g_test_rand_bit() ? TEST_SHA256_A : TEST_SHA256_B;
}

/* builds @n_rules random rules, churns them, and compares @n_queries lookups with a scan;
 * returns how many queries matched a rule */
static guint
test_cross_check(TestFixture *fixture, guint n_rules, guint n_queries)
{
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	guint n_matched = 0;

	for (guint i = 0; i < n_rules; i++) {
		g_autoptr(VigilRule) rule = random_rule(i);
		gboolean ret = vigil_rule_set_add(fixture->set, rule, &error);
		g_assert_no_error(error);
		g_assert_true(ret);
	}

	/* churn: remove some, replace some, so the index is maintained, not just built */
	for (guint i = 0; i < n_rules / 5; i++) {
		g_autofree gchar *id = g_strdup_printf("r%05u", g_test_rand_int_range(0, n_rules));
		if (vigil_rule_set_get(fixture->set, id) == NULL)
			continue;
		if (g_test_rand_bit()) {
			gboolean ret = vigil_rule_set_remove(fixture->set, id, &error);
			g_assert_no_error(error);
			g_assert_true(ret);
		} else {
			g_autoptr(VigilRule) rule = random_rule(0);
			gboolean ret;
			vigil_rule_set_id(rule, id);
			ret = vigil_rule_set_replace(fixture->set, rule, &error);
			g_assert_no_error(error);
			g_assert_true(ret);
		}
	}
	vigil_rule_set_set_boot_id(fixture->set, "boot-a");

	rules = vigil_rule_set_get_rules(fixture->set);
	for (guint i = 0; i < n_queries; i++) {
		VigilRule *indexed;
		VigilRule *brute;
		random_query(fixture);
		indexed = vigil_rule_set_lookup(fixture->set, &fixture->query);
		brute = brute_lookup(rules, &fixture->query, "boot-a");
		if (indexed != brute) {
			g_autofree gchar *a =
			    indexed != NULL ? vigil_rule_to_string(indexed) : NULL;
			g_autofree gchar *b = brute != NULL ? vigil_rule_to_string(brute) : NULL;
			g_error("query %u (host %s, exe %s, port %u): index gave %s [%s], "
				"scan gave %s [%s]",
				i,
				fixture->query.host,
				fixture->query.exe,
				fixture->query.port,
				indexed != NULL ? vigil_rule_get_id(indexed) : "none",
				a,
				brute != NULL ? vigil_rule_get_id(brute) : "none",
				b);
		}
		n_matched += indexed != NULL;
	}
	g_test_message("%u rules: %u of %u queries matched a rule",
		       vigil_rule_set_get_size(fixture->set),
		       n_matched,
		       n_queries);
	return n_matched;
}

static void
test_random_cross_check(TestFixture *fixture, gconstpointer user_data)
{
	guint n_matched = test_cross_check(fixture, 2000, 20000);

	g_assert_cmpuint(n_matched, >, 20000 / 2);
	g_assert_cmpuint(n_matched, <, 20000);
}

/* fewer rules, so that many queries match nothing */
static void
test_random_cross_check_sparse(TestFixture *fixture, gconstpointer user_data)
{
	guint n_matched = test_cross_check(fixture, 100, 20000);

	g_assert_cmpuint(n_matched, >, 20000 / 10);
	g_assert_cmpuint(n_matched, <, 20000 * 9 / 10);
}

/* many apps with a few rules each, most of them naming a destination, so that their buckets
 * are flat and their cells' filters decide which blocks are read, as in a large rule file */
#define TEST_MANY_APPS 60

static void
test_random_cross_check_many_apps(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	guint n_matched = 0;
	guint n_not_app = 0;

	for (guint i = 0; i < TEST_MANY_APPS + 4; i++)
		g_ptr_array_add(apps, g_strdup_printf("/usr/bin/app%u", i));
	vigil_rule_set_set_boot_id(fixture->set, "boot-a");
	for (guint i = 0; i < 600; i++) {
		g_autoptr(VigilRule) rule = random_rule(i);
		gboolean ret;
		if (vigil_rule_get_host(rule) == NULL && vigil_rule_get_cidr(rule) == NULL &&
		    g_test_rand_int_range(0, 10) != 0)
			g_assert_true(vigil_rule_set_host(rule, RANDOM_PICK(random_hosts), NULL));
		if (vigil_rule_get_exe(rule) != NULL ||
		    (brute_who(rule) < 4 && g_test_rand_int_range(0, 5) != 0))
			vigil_rule_set_exe(
			    rule,
			    g_ptr_array_index(apps, g_test_rand_int_range(0, TEST_MANY_APPS)));
		ret = vigil_rule_set_add(fixture->set, rule, &error);
		g_assert_no_error(error);
		g_assert_true(ret);
	}
	rules = vigil_rule_set_get_rules(fixture->set);
	for (guint i = 0; i < 20000; i++) {
		VigilRule *indexed;
		VigilRule *brute;
		random_query(fixture);
		if (fixture->query.exe != NULL)
			fixture->query.exe =
			    g_ptr_array_index(apps, g_test_rand_int_range(0, (gint)apps->len));
		indexed = vigil_rule_set_lookup(fixture->set, &fixture->query);
		brute = brute_lookup(rules, &fixture->query, "boot-a");
		g_assert_cmpstr(indexed != NULL ? vigil_rule_get_id(indexed) : NULL,
				==,
				brute != NULL ? vigil_rule_get_id(brute) : NULL);
		n_matched += indexed != NULL;
		/* the app's rules did not decide: its block may have been passed over */
		n_not_app += fixture->query.exe != NULL &&
			     (indexed == NULL || vigil_rule_get_exe(indexed) == NULL);
	}
	g_test_message("%u of 20000 queries matched, %u with an exe not by an exe rule",
		       n_matched,
		       n_not_app);
	g_assert_cmpuint(n_matched, >, 20000 / 10);
	g_assert_cmpuint(n_not_app, >, 20000 / 10);
}

/* the tags of a large flat bucket, which choose the items its scan tests: one app's block
 * grows rule by rule to VIGIL_RULE_FLAT_MAX (so the tags cross from one word to the next
 * and the block from the plain scan to the tagged one) and shrinks again in another order,
 * and at every size each query is checked against the scan. The destinations are of every
 * kind a tag treats apart: hosts and domains, hosts with more labels than the query's tags
 * cover, IPv4 and IPv6 prefixes long enough to be tagged and too short to be, any
 * destination; the queries add addresses of the other family, an IPv4-mapped IPv6
 * address, no host and no address. */
static const gchar *test_tags_hosts[] = {"example.org",
					 "www.example.org",
					 "*.example.org",
					 "*.org",
					 "a.b.c.d.e.f.g.h.i.example.org",
					 "*.b.c.d.e.f.g.h.i.example.org",
					 "*.i.example.org",
					 "cdn.example.com",
					 "*.example.com"};
static const gchar *test_tags_cidrs[] = {"10.1.2.3/32",
					 "10.1.2.0/24",
					 "10.0.0.0/8",
					 "8.0.0.0/5",
					 "0.0.0.0/0",
					 "198.18.0.0/15",
					 "fd00::1/128",
					 "fd00::/64",
					 "fd00::/16",
					 "fc00::/7",
					 "2001:db8::/32",
					 "::/0"};
static const gchar *test_tags_query_hosts[] = {"example.org",
					       "www.example.org",
					       "x.www.example.org",
					       "a.b.c.d.e.f.g.h.i.example.org",
					       "z.a.b.c.d.e.f.g.h.i.example.org",
					       "cdn.example.com",
					       "other.net",
					       NULL};
static const gchar *test_tags_query_addrs[] = {"10.1.2.3",
					       "10.1.9.9",
					       "10.200.0.1",
					       "9.1.1.1",
					       "::ffff:10.1.2.3",
					       "fd00::1",
					       "fd00::2:1",
					       "fd01::1",
					       "fc80::1",
					       "2001:db8::5",
					       NULL};

static VigilRule *
test_tags_rule(guint n)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = g_strdup_printf("t%02u", n);
	guint n_hosts = G_N_ELEMENTS(test_tags_hosts);
	guint n_cidrs = G_N_ELEMENTS(test_tags_cidrs);

	vigil_rule_set_id(rule, id);
	vigil_rule_set_exe(rule, "/usr/bin/tagged");
	vigil_rule_set_action(rule, n % 2 == 0 ? VIGIL_ACTION_ALLOW : VIGIL_ACTION_DENY);
	vigil_rule_set_created(rule, n);
	if (n % 16 < n_hosts)
		g_assert_true(vigil_rule_set_host(rule, test_tags_hosts[n % 16], NULL));
	else if (n % 16 < n_hosts + 3)
		vigil_rule_set_cidr(rule, test_tags_cidrs[(n + n / 16 * 3) % n_cidrs], &error);
	g_assert_no_error(error);
	if (n % 3 == 0)
		vigil_rule_set_port_range(rule, 443, 443);
	else if (n % 3 == 2)
		vigil_rule_set_port_range(rule, 80, 80);
	if (n % 5 == 1)
		vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_UDP);
	vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	return g_steal_pointer(&rule);
}

static void
test_tags_check(TestFixture *fixture)
{
	static const guint16 ports[] = {443, 80, 22};
	g_autoptr(GPtrArray) rules = vigil_rule_set_get_rules(fixture->set);

	for (guint h = 0; h < G_N_ELEMENTS(test_tags_query_hosts); h++) {
		for (guint a = 0; a < G_N_ELEMENTS(test_tags_query_addrs); a++) {
			for (guint p = 0; p < G_N_ELEMENTS(ports); p++) {
				VigilRule *indexed;
				VigilRule *brute;
				test_query_reset(fixture);
				fixture->query.exe = "/usr/bin/tagged";
				fixture->query.host = test_tags_query_hosts[h];
				test_query_set_addr(&fixture->query, test_tags_query_addrs[a]);
				fixture->query.port = ports[p];
				indexed = vigil_rule_set_lookup(fixture->set, &fixture->query);
				/* the scan does not know that a mapped address is its IPv4 one */
				if (g_str_has_prefix(test_tags_query_addrs[a] != NULL
							 ? test_tags_query_addrs[a]
							 : "",
						     "::ffff:"))
					test_query_set_addr(&fixture->query,
							    test_tags_query_addrs[a] + 7);
				brute = brute_lookup(rules, &fixture->query, "boot-a");
				g_assert_cmpstr(indexed != NULL ? vigil_rule_get_id(indexed) : NULL,
						==,
						brute != NULL ? vigil_rule_get_id(brute) : NULL);
			}
		}
	}
}

static void
test_flat_tags(TestFixture *fixture, gconstpointer user_data)
{
	/* VIGIL_RULE_FLAT_MAX in vigil-rule-set.c */
	guint n_rules = 32;

	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	for (guint n = 0; n < n_rules; n++) {
		g_autoptr(VigilRule) rule = test_tags_rule(n);
		g_autoptr(GError) error = NULL;
		g_assert_true(vigil_rule_set_add(fixture->set, rule, &error));
		g_assert_no_error(error);
		test_tags_check(fixture);
	}
	for (guint k = 0; k < n_rules; k++) {
		g_autofree gchar *id = g_strdup_printf("t%02u", (k * 7 + 3) % n_rules);
		g_autoptr(GError) error = NULL;
		g_assert_true(vigil_rule_set_remove(fixture->set, id, &error));
		g_assert_no_error(error);
		test_tags_check(fixture);
	}
}

/* checks @n_queries random queries against the scan, with the memo off */
static void
test_cross_check_queries(TestFixture *fixture, guint n_queries)
{
	g_autoptr(GPtrArray) rules = vigil_rule_set_get_rules(fixture->set);

	for (guint i = 0; i < n_queries; i++) {
		VigilRule *indexed;
		VigilRule *brute;
		random_query(fixture);
		indexed = vigil_rule_set_lookup(fixture->set, &fixture->query);
		brute = brute_lookup(rules, &fixture->query, "boot-a");
		g_assert_cmpstr(indexed != NULL ? vigil_rule_get_id(indexed) : NULL,
				==,
				brute != NULL ? vigil_rule_get_id(brute) : NULL);
	}
}

/* a bucket of a few rules is scanned as a whole, a larger one hashed into lists: rules are
 * added one by one until every bucket has been both, then removed in a random order, and
 * the answers are checked all along */
static void
test_random_bucket_forms(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	guint n_rules = 600;

	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	vigil_rule_set_set_boot_id(fixture->set, "boot-a");
	for (guint i = 0; i < n_rules; i++) {
		g_autoptr(VigilRule) rule = random_rule(i);
		gboolean ret = vigil_rule_set_add(fixture->set, rule, &error);
		g_assert_no_error(error);
		g_assert_true(ret);
		g_ptr_array_add(ids, g_strdup(vigil_rule_get_id(rule)));
		if (i % 6 == 0)
			test_cross_check_queries(fixture, 40);
	}
	while (ids->len > 0) {
		guint idx = (guint)g_test_rand_int_range(0, (gint32)ids->len);
		gboolean ret =
		    vigil_rule_set_remove(fixture->set, g_ptr_array_index(ids, idx), &error);
		g_assert_no_error(error);
		g_assert_true(ret);
		g_ptr_array_remove_index_fast(ids, idx);
		if (ids->len % 6 == 0)
			test_cross_check_queries(fixture, 40);
	}
	g_assert_cmpuint(vigil_rule_set_get_size(fixture->set), ==, 0);
}

/* the memo: answers from it must be what a scan finds, whatever happened since they were
 * stored */

static guint64
test_memo_hits(TestFixture *fixture)
{
	guint64 hits = 0;

	vigil_rule_set_get_memo_stats(fixture->set, &hits, NULL);
	return hits;
}

/* the memo keeps an answer the second time its query misses: after this, the next
 * identical lookup is answered from it */
static const gchar *
test_lookup_twice(TestFixture *fixture)
{
	const gchar *first = test_lookup(fixture);
	const gchar *second = test_lookup(fixture);

	g_assert_cmpstr(first, ==, second);
	return second;
}

/* a random rule with more once and until rules than random_rule() makes, the until rules
 * expiring over the next minute */
static VigilRule *
test_memo_random_rule(const gchar *id, gint64 now)
{
	g_autoptr(VigilRule) rule = random_rule(0);
	gint pick = g_test_rand_int_range(0, 10);

	vigil_rule_set_id(rule, id);
	if (vigil_rule_get_lifetime(rule) == VIGIL_LIFETIME_FOREVER && pick < 2) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_ONCE);
	} else if (vigil_rule_get_lifetime(rule) == VIGIL_LIFETIME_FOREVER && pick < 4) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
		vigil_rule_set_expires(rule, now + g_test_rand_int_range(1, 20));
	} else if (vigil_rule_get_lifetime(rule) == VIGIL_LIFETIME_UNTIL) {
		vigil_rule_set_expires(rule, now + g_test_rand_int_range(-2, 20));
	}
	return g_steal_pointer(&rule);
}

typedef struct {
	VigilRuleQuery query;
	const gchar *digest;
} TestMemoQuery;

/* a rule made for @pool_query, as the answer to a prompt would be: more or less specific,
 * and with any lifetime, so that it often changes the answer to a query already asked */
static VigilRule *
test_memo_rule_for_query(const gchar *id, const TestMemoQuery *pool_query, gint64 now)
{
	const VigilRuleQuery *query = &pool_query->query;
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	gint pick = g_test_rand_int_range(0, 4);
	gboolean ret;

	vigil_rule_set_id(rule, id);
	vigil_rule_set_action(rule, (VigilAction)g_test_rand_int_range(1, VIGIL_ACTION_LAST));
	vigil_rule_set_created(rule, g_test_rand_int_range(0, 4));
	if (pick == 0 && query->exe != NULL) {
		vigil_rule_set_exe(rule, query->exe);
		if (g_test_rand_bit())
			g_assert_true(vigil_rule_set_sha256(rule, pool_query->digest, NULL));
	} else if (pick == 1 && query->app_id != NULL) {
		vigil_rule_set_app_id(rule, query->app_id);
	} else if (pick == 2 && query->unit != NULL) {
		vigil_rule_set_unit(rule, query->unit);
	}
	if (query->uid_known && g_test_rand_int_range(0, 4) == 0)
		vigil_rule_set_user(rule, query->uid);

	pick = g_test_rand_int_range(0, 4);
	if (pick == 0 && query->host != NULL) {
		g_assert_true(vigil_rule_set_host(rule, query->host, NULL));
	} else if (pick == 1 && query->host != NULL) {
		const gchar *parent = strchr(query->host, '.');
		g_autofree gchar *domain =
		    g_strdup_printf("*.%s", parent != NULL ? parent + 1 : query->host);
		g_assert_true(vigil_rule_set_host(rule, domain, NULL));
	} else if (pick == 2 && query->family != 0) {
		gchar text[INET6_ADDRSTRLEN];
		g_autofree gchar *cidr = NULL;
		g_assert_nonnull(inet_ntop(query->family == 4 ? AF_INET : AF_INET6,
					   query->addr,
					   text,
					   sizeof(text)));
		cidr = g_strdup_printf("%s/%d",
				       text,
				       query->family == 4 ? g_test_rand_int_range(16, 33)
							  : g_test_rand_int_range(64, 129));
		vigil_rule_set_cidr(rule, cidr, &error);
		g_assert_no_error(error);
	}
	/* for any app to anywhere a prompt would not be asked */
	if (brute_who(rule) < 4 && vigil_rule_get_host(rule) == NULL &&
	    vigil_rule_get_cidr(rule) == NULL) {
		if (query->exe != NULL)
			vigil_rule_set_exe(rule, query->exe);
		else if (query->host != NULL)
			g_assert_true(vigil_rule_set_host(rule, query->host, NULL));
	}
	if (g_test_rand_bit())
		vigil_rule_set_protocol(rule, query->protocol);
	if (g_test_rand_bit())
		vigil_rule_set_port_range(rule, query->port, query->port);
	if (g_test_rand_bit())
		vigil_rule_set_direction(rule, query->direction);

	pick = g_test_rand_int_range(0, 8);
	if (pick == 0) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_ONCE);
	} else if (pick == 1) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
		vigil_rule_set_expires(rule, now + g_test_rand_int_range(1, 20));
	} else if (pick == 2 && query->pid != 0) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
		vigil_rule_set_process(rule, query->pid, query->pid_start);
	} else if (pick == 3) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_REBOOT);
		vigil_rule_set_boot_id(rule, g_test_rand_bit() ? "boot-a" : "boot-b");
	}
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	return g_steal_pointer(&rule);
}

/* a random query for the pool, or half the time the near twin of one in it: the same but
 * for one field, which the memo must tell apart */
static void
test_memo_pool_query(TestFixture *fixture, TestMemoQuery *pool, guint n_pool, guint idx)
{
	VigilRuleQuery *query = &fixture->query;

	random_query(fixture);
	if (n_pool > 0 && g_test_rand_bit()) {
		const TestMemoQuery *twin = &pool[g_test_rand_int_range(0, (gint)n_pool)];
		*query = twin->query;
		fixture->digest = twin->digest;
		switch (g_test_rand_int_range(0, 10)) {
		case 0:
			query->port = (guint16)(query->port + 1);
			break;
		case 1:
			query->protocol = query->protocol == VIGIL_PROTOCOL_TCP
					      ? VIGIL_PROTOCOL_UDP
					      : VIGIL_PROTOCOL_TCP;
			break;
		case 2:
			query->direction = query->direction == VIGIL_DIRECTION_OUT
					       ? VIGIL_DIRECTION_IN
					       : VIGIL_DIRECTION_OUT;
			break;
		case 3:
			if (g_test_rand_bit())
				query->uid_known = !query->uid_known;
			else
				query->uid = query->uid == 1000 ? 1001 : 1000;
			break;
		case 4:
			if (g_test_rand_bit())
				query->pid = (guint32)g_test_rand_int_range(0, 3);
			else
				query->pid_start = query->pid_start == 0 ? 1 : 0;
			break;
		case 5:
			query->host = g_test_rand_bit() ? RANDOM_PICK(random_hosts) : NULL;
			break;
		case 6:
			query->exe = g_test_rand_bit() ? RANDOM_PICK(random_exes) : NULL;
			break;
		case 7:
			if (g_test_rand_bit())
				query->app_id =
				    g_test_rand_bit() ? RANDOM_PICK(random_app_ids) : NULL;
			else
				query->unit = g_test_rand_bit() ? RANDOM_PICK(random_units) : NULL;
			break;
		case 8: {
			/* one of the bytes random_addr() varies */
			static const guint v4[] = {1, 2, 3};
			static const guint v6[] = {1, 7, 15};
			guint byte = query->family == 6 ? RANDOM_PICK(v6) : RANDOM_PICK(v4);
			query->addr[byte] = (guint8)((query->addr[byte] + 1) % 4);
			break;
		}
		default:
			query->family = query->family == 4 ? 6 : query->family == 6 ? 0 : 4;
			break;
		}
	}
	pool[idx].query = *query;
	pool[idx].digest = fixture->digest;
}

#define TEST_MEMO_POOL 64

/* a few queries are asked far more often than the rest */
static guint
test_memo_pick(void)
{
	return (guint)g_test_rand_int_range(0, g_test_rand_int_range(1, TEST_MEMO_POOL + 1));
}

/* a pool of queries asked again and again in a random order (a few of them far more often
 * than the rest) while rules are added, removed and replaced, once rules are used up,
 * time passes without expire() and sometimes goes back, the boot changes and executables
 * change their digest; every answer is checked against the scan. Returns how many
 * lookups matched a rule, out of @n_lookups. */
static guint
test_memo_cross_check(TestFixture *fixture, guint n_rules, guint n_steps, guint *n_lookups_out)
{
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	TestMemoQuery pool[TEST_MEMO_POOL];
	const gchar *boot_id = "boot-a";
	gint64 clock = TEST_NOW;
	guint n_lookups = 0;
	guint n_matched = 0;
	guint n_changes = 0;
	guint next_id = 0;
	guint64 hits;
	guint64 misses;

	for (guint i = 0; i < n_rules; i++) {
		g_autofree gchar *id = g_strdup_printf("m%05u", next_id++);
		g_autoptr(VigilRule) rule = test_memo_random_rule(id, clock);
		gboolean ret = vigil_rule_set_add(fixture->set, rule, &error);
		g_assert_no_error(error);
		g_assert_true(ret);
	}
	for (guint i = 0; i < TEST_MEMO_POOL; i++)
		test_memo_pool_query(fixture, pool, i, i);
	rules = vigil_rule_set_get_rules(fixture->set);

	for (guint step = 0; step < n_steps; step++) {
		gint pick = g_test_rand_int_range(0, 1000);
		gboolean changed = TRUE;

		if (pick < 955) {
			guint idx = test_memo_pick();
			VigilRule *memoized;
			VigilRule *brute;

			fixture->query = pool[idx].query;
			fixture->query.now = clock;
			if (g_test_rand_int_range(0, 20) == 0)
				fixture->query.now -= g_test_rand_int_range(1, 30);
			/* the executable behind the path was replaced */
			if (g_test_rand_int_range(0, 20) == 0)
				pool[idx].digest = g_str_equal(pool[idx].digest, TEST_SHA256_A)
						       ? TEST_SHA256_B
						       : TEST_SHA256_A;
			fixture->digest = pool[idx].digest;
			memoized = vigil_rule_set_lookup(fixture->set, &fixture->query);
			brute = brute_lookup(rules, &fixture->query, boot_id);
			if (memoized != brute) {
				g_autofree gchar *a =
				    memoized != NULL ? vigil_rule_to_string(memoized) : NULL;
				g_autofree gchar *b =
				    brute != NULL ? vigil_rule_to_string(brute) : NULL;
				g_error("step %u, query %u (host %s, exe %s, port %u, now "
					"%" G_GINT64_FORMAT
					"): lookup gave %s [%s], scan gave %s [%s]",
					step,
					idx,
					fixture->query.host,
					fixture->query.exe,
					fixture->query.port,
					fixture->query.now,
					memoized != NULL ? vigil_rule_get_id(memoized) : "none",
					a,
					brute != NULL ? vigil_rule_get_id(brute) : "none",
					b);
			}
			n_lookups++;
			n_matched += memoized != NULL;
			changed = FALSE;

			/* as the daemon does: count the hit, which uses up a once rule */
			if (memoized != NULL && g_test_rand_int_range(0, 4) == 0) {
				changed = vigil_rule_get_lifetime(memoized) == VIGIL_LIFETIME_ONCE;
				vigil_rule_set_record_hit(fixture->set,
							  memoized,
							  fixture->query.now);
			}
		} else if (pick < 964) {
			g_autofree gchar *id = g_strdup_printf("m%05u", next_id++);
			g_autoptr(VigilRule) rule =
			    g_test_rand_bit()
				? test_memo_random_rule(id, clock)
				: test_memo_rule_for_query(id, &pool[test_memo_pick()], clock);
			gboolean ret = vigil_rule_set_add(fixture->set, rule, &error);
			g_assert_no_error(error);
			g_assert_true(ret);
		} else if (pick < 968 && rules->len > 0) {
			VigilRule *rule =
			    g_ptr_array_index(rules, g_test_rand_int_range(0, (gint)rules->len));
			gboolean ret =
			    vigil_rule_set_remove(fixture->set, vigil_rule_get_id(rule), &error);
			g_assert_no_error(error);
			g_assert_true(ret);
		} else if (pick < 972 && rules->len > 0) {
			VigilRule *old =
			    g_ptr_array_index(rules, g_test_rand_int_range(0, (gint)rules->len));
			g_autoptr(VigilRule) rule =
			    g_test_rand_bit() ? test_memo_random_rule(vigil_rule_get_id(old), clock)
					      : test_memo_rule_for_query(vigil_rule_get_id(old),
									 &pool[test_memo_pick()],
									 clock);
			gboolean ret = vigil_rule_set_replace(fixture->set, rule, &error);
			g_assert_no_error(error);
			g_assert_true(ret);
		} else if (pick < 988) {
			/* time passes; rules expire without anyone calling expire() */
			clock += g_test_rand_int_range(1, 4);
			changed = FALSE;
		} else if (pick < 991) {
			vigil_rule_set_expire(fixture->set, clock, NULL);
		} else if (pick < 993) {
			vigil_rule_set_expire_process(fixture->set,
						      (guint32)g_test_rand_int_range(1, 3),
						      (guint64)g_test_rand_int_range(0, 2),
						      NULL);
		} else if (pick < 995) {
			boot_id = g_str_equal(boot_id, "boot-a") ? "boot-b" : "boot-a";
			vigil_rule_set_set_boot_id(fixture->set, boot_id);
		} else {
			/* a new query joins the pool */
			test_memo_pool_query(fixture,
					     pool,
					     TEST_MEMO_POOL,
					     (guint)g_test_rand_int_range(0, TEST_MEMO_POOL));
			changed = FALSE;
		}
		if (changed) {
			g_ptr_array_unref(rules);
			rules = vigil_rule_set_get_rules(fixture->set);
			n_changes++;
		}
	}

	vigil_rule_set_get_memo_stats(fixture->set, &hits, &misses);
	g_test_message("%u lookups (%u matched a rule), %u changes, %u rules left: "
		       "%" G_GUINT64_FORMAT " from the memo, %" G_GUINT64_FORMAT " not",
		       n_lookups,
		       n_matched,
		       n_changes,
		       vigil_rule_set_get_size(fixture->set),
		       hits,
		       misses);
	g_assert_cmpuint(hits + misses, ==, n_lookups);
	g_assert_cmpuint(hits, >, n_lookups / 8);
	*n_lookups_out = n_lookups;
	return n_matched;
}

static void
test_memo_random_cross_check(TestFixture *fixture, gconstpointer user_data)
{
	guint n_lookups;
	guint n_matched = test_memo_cross_check(fixture, 400, 60000, &n_lookups);

	g_assert_cmpuint(n_matched, >, n_lookups / 2);
}

/* fewer rules, so that many queries match nothing */
static void
test_memo_random_cross_check_sparse(TestFixture *fixture, gconstpointer user_data)
{
	guint n_lookups;
	guint n_matched = test_memo_cross_check(fixture, 40, 60000, &n_lookups);

	g_assert_cmpuint(n_matched, >, n_lookups / 20);
	g_assert_cmpuint(n_matched, <, n_lookups * 19 / 20);
}

static void
test_memo_once(TestFixture *fixture, gconstpointer user_data)
{
	VigilRule *rule;
	guint64 hits;

	ADD("forever", "action", "deny");
	ADD("once", "action", "allow", "port", "443", "lifetime", "once");

	g_assert_cmpstr(test_lookup_twice(fixture), ==, "once");
	hits = test_memo_hits(fixture);
	rule = vigil_rule_set_lookup(fixture->set, &fixture->query);
	g_assert_cmpstr(vigil_rule_get_id(rule), ==, "once");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);

	/* used up: the stored answer must not outlive it */
	vigil_rule_set_record_hit(fixture->set, rule, TEST_NOW);
	g_assert_null(vigil_rule_set_get(fixture->set, "once"));
	g_assert_cmpstr(test_lookup(fixture), ==, "forever");
	g_assert_cmpstr(test_lookup(fixture), ==, "forever");

	/* a hit on a rule that stays does not forget the answers */
	hits = test_memo_hits(fixture);
	rule = vigil_rule_set_lookup(fixture->set, &fixture->query);
	vigil_rule_set_record_hit(fixture->set, rule, TEST_NOW);
	g_assert_cmpstr(test_lookup(fixture), ==, "forever");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 2);
}

static void
test_memo_until(TestFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *expires = g_strdup_printf("%d", TEST_NOW + 10);
	guint64 hits;

	ADD("fallback", "action", "allow", "port", "443");
	ADD("soon", "action", "deny", "port", "443", "lifetime", "until", "expires", expires);
	ADD("other", "action", "deny", "port", "22", "lifetime", "until", "expires", expires);

	g_assert_cmpstr(test_lookup_twice(fixture), ==, "soon");
	hits = test_memo_hits(fixture);
	fixture->query.now = TEST_NOW + 9;
	g_assert_cmpstr(test_lookup(fixture), ==, "soon");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);

	/* its time comes between two identical queries, before anyone calls expire() */
	fixture->query.now = TEST_NOW + 10;
	g_assert_cmpstr(test_lookup(fixture), ==, "fallback");
	g_assert_cmpstr(test_lookup(fixture), ==, "fallback");

	/* the clock goes back: the rule matches again */
	fixture->query.now = TEST_NOW + 5;
	g_assert_cmpstr(test_lookup(fixture), ==, "soon");

	/* no rule is remembered too, and also not across the clock going back */
	fixture->query.port = 22;
	fixture->query.now = TEST_NOW + 20;
	g_assert_null(test_lookup_twice(fixture));
	hits = test_memo_hits(fixture);
	g_assert_null(test_lookup(fixture));
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);
	fixture->query.now = TEST_NOW;
	g_assert_cmpstr(test_lookup(fixture), ==, "other");
}

static void
test_memo_sha256(TestFixture *fixture, gconstpointer user_data)
{
	guint64 hits;

	ADD("plain", "action", "allow", "exe", "/usr/bin/curl");
	ADD("pinned", "action", "deny", "exe", "/usr/bin/curl", "sha256", TEST_SHA256_A);

	/* the answer depends on the file: the digest is asked for every time */
	hits = test_memo_hits(fixture);
	for (guint i = 0; i < 5; i++) {
		g_assert_cmpstr(test_lookup(fixture), ==, "pinned");
		g_assert_cmpuint(fixture->digest_calls, ==, 2 * i + 1);
		fixture->digest = TEST_SHA256_B;
		g_assert_cmpstr(test_lookup(fixture), ==, "plain");
		g_assert_cmpuint(fixture->digest_calls, ==, 2 * i + 2);
		fixture->digest = TEST_SHA256_A;
	}
	fixture->query.get_exe_sha256 = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	fixture->query.get_exe_sha256 = test_get_exe_sha256_cb;
	g_assert_cmpstr(test_lookup(fixture), ==, "pinned");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits);

	/* the same file again: answered from the memo, which still asks for the digest once */
	fixture->digest_calls = 0;
	for (guint i = 0; i < 3; i++) {
		g_assert_cmpstr(test_lookup(fixture), ==, "pinned");
		g_assert_cmpuint(fixture->digest_calls, ==, i + 1);
	}
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 3);

	/* the file is replaced, then cannot be read: each is a miss, asked for once */
	fixture->digest = TEST_SHA256_B;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(fixture->digest_calls, ==, 4);
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(fixture->digest_calls, ==, 5);
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 4);
	fixture->digest = NULL;
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 5);
	fixture->digest = TEST_SHA256_A;
	g_assert_cmpstr(test_lookup(fixture), ==, "pinned");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 5);
	g_assert_cmpuint(fixture->digest_calls, ==, 8);

	/* a digest that differs in length only is another file */
	fixture->digest = TEST_SHA256_A "a";
	g_assert_cmpstr(test_lookup(fixture), ==, "plain");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 5);
	fixture->digest = TEST_SHA256_A;

	/* a pinned rule that a cheaper test rules out leaves the answer to the path */
	ADD("pinned-user",
	    "action",
	    "deny",
	    "exe",
	    "/usr/bin/wget",
	    "sha256",
	    TEST_SHA256_A,
	    "user",
	    "0");
	ADD("wget", "action", "allow", "exe", "/usr/bin/wget");
	fixture->query.exe = "/usr/bin/wget";
	fixture->digest_calls = 0;
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "wget");
	hits = test_memo_hits(fixture);
	g_assert_cmpstr(test_lookup(fixture), ==, "wget");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);
	g_assert_cmpuint(fixture->digest_calls, ==, 0);
}

/* the processes of one app share answers, unless a rule names a process */
static void
test_memo_process(TestFixture *fixture, gconstpointer user_data)
{
	guint64 hits;

	ADD("app", "action", "allow", "exe", "/usr/bin/curl");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "app");
	hits = test_memo_hits(fixture);
	fixture->query.pid = 101;
	fixture->query.pid_start = 5001;
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);

	ADD("p100",
	    "action",
	    "deny",
	    "exe",
	    "/usr/bin/curl",
	    "lifetime",
	    "process",
	    "pid",
	    "100",
	    "pid-start",
	    "5000");
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
	fixture->query.pid = 100;
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
	fixture->query.pid_start = 5000;
	g_assert_cmpstr(test_lookup(fixture), ==, "p100");
	g_assert_cmpstr(test_lookup(fixture), ==, "p100");
	fixture->query.pid = 101;
	g_assert_cmpstr(test_lookup(fixture), ==, "app");

	g_assert_cmpuint(vigil_rule_set_expire_process(fixture->set, 100, 0, NULL), ==, 1);
	fixture->query.pid = 100;
	g_assert_cmpstr(test_lookup(fixture), ==, "app");
}

/* every change a lookup could see starts afresh, and a removed rule is never returned */
static void
test_memo_changes(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRule) replacement =
	    test_rule_new("b", "action", "deny", "exe", "/usr/bin/curl", "port", "22", NULL);
	g_autoptr(GError) error = NULL;
	guint64 hits;
	gboolean ret;

	ADD("a", "action", "allow");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "a");
	ADD("b", "action", "deny", "exe", "/usr/bin/curl");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "b");
	hits = test_memo_hits(fixture);
	g_assert_cmpstr(test_lookup(fixture), ==, "b");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);
	ret = vigil_rule_set_replace(fixture->set, replacement, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(test_lookup(fixture), ==, "a");
	fixture->query.port = 22;
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "b");
	ret = vigil_rule_set_remove(fixture->set, "b", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(test_lookup(fixture), ==, "a");

	ADD("r", "action", "deny", "lifetime", "reboot", "port", "22");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "r");
	vigil_rule_set_set_boot_id(fixture->set, "boot-b");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "a");
	vigil_rule_set_set_boot_id(fixture->set, "boot-a");
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "r");

	vigil_rule_set_clear(fixture->set);
	g_assert_null(test_lookup(fixture));
}

/* keys are compared whole, strings by content; a query too long for the memo still works */
static void
test_memo_keys(TestFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *label = g_strnfill(49, 'a');
	g_autofree gchar *long_host = g_strjoin(".", label, label, label, label, NULL);
	gchar exe[] = "/usr/bin/curl";
	guint64 hits;

	ADD("curl", "action", "allow", "exe", "/usr/bin/curl");
	ADD("curl-v4", "action", "deny", "exe", "/usr/bin/curl", "cidr", "198.18.0.1");
	ADD("curl-v6", "action", "deny", "exe", "/usr/bin/curl", "cidr", "fd00::1", "user", "0");
	ADD("long", "action", "reject", "host", long_host);
	ADD("curlx", "action", "deny", "exe", "/usr/bin/curlx");

	fixture->query.exe = exe;
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "curl");
	hits = test_memo_hits(fixture);
	exe[sizeof(exe) - 2] = 'x';
	g_assert_cmpstr(test_lookup(fixture), ==, NULL);
	exe[sizeof(exe) - 2] = 'l';
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits + 1);

	/* the address by family: bytes an IPv4 address does not use do not matter */
	test_query_set_addr(&fixture->query, "198.18.0.1");
	g_assert_cmpstr(test_lookup(fixture), ==, "curl-v4");
	fixture->query.addr[8] = 1;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl-v4");
	test_query_set_addr(&fixture->query, "fd00::1");
	fixture->query.uid = 0;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl-v6");
	fixture->query.uid_known = FALSE;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	fixture->query.uid = 1000;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	fixture->query.uid_known = TRUE;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	fixture->query.uid = 0;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl-v6");
	fixture->query.family = 4;
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");

	/* too long to keep: looked up every time */
	fixture->query.exe = NULL;
	fixture->query.host = long_host;
	hits = test_memo_hits(fixture);
	g_assert_cmpstr(test_lookup(fixture), ==, "long");
	g_assert_cmpstr(test_lookup(fixture), ==, "long");
	g_assert_cmpuint(test_memo_hits(fixture), ==, hits);
}

/* looks up "<prefix><n>.example" @times times for each n below @n_hosts; returns the hits */
static guint64
test_memo_hosts(TestFixture *fixture, const gchar *prefix, guint n_hosts, guint times)
{
	guint64 hits_before;
	guint64 hits;

	vigil_rule_set_get_memo_stats(fixture->set, &hits_before, NULL);
	for (guint i = 0; i < n_hosts; i++) {
		g_autofree gchar *host = g_strdup_printf("%s%u.example", prefix, i);
		fixture->query.host = host;
		for (guint j = 0; j < times; j++)
			g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	}
	fixture->query.host = NULL;
	vigil_rule_set_get_memo_stats(fixture->set, &hits, NULL);
	return hits - hits_before;
}

/* an answer asked for often stays while rare queries of its set come and go; the answers of
 * an older generation, however popular they were, give way at once */
static void
test_memo_popular(TestFixture *fixture, gconstpointer user_data)
{
	guint64 hits;

	ADD("curl", "action", "allow", "exe", "/usr/bin/curl");
	g_assert_cmpuint(test_memo_hosts(fixture, "popular", 1, 10), ==, 8);

	/* about ten rare queries in every set, each asked for three times */
	hits = test_memo_hosts(fixture, "rare", 20000, 3);
	g_assert_cmpuint(hits, >, 20000 / 2);
	g_assert_cmpuint(test_memo_hosts(fixture, "popular", 1, 1), ==, 1);

	/* every way of every set taken by an answer asked for often, then a change */
	test_memo_hosts(fixture, "hot", 4096, 10);
	ADD("other", "action", "deny", "exe", "/usr/bin/other");
	g_assert_cmpuint(test_memo_hosts(fixture, "popular", 1, 1), ==, 0);
	g_assert_cmpuint(test_memo_hosts(fixture, "new", 200, 3), >=, 190);
}

static void
test_memo_disabled(TestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRuleSet) set = NULL;
	guint64 hits = 1;
	guint64 misses = 1;

	ADD("curl", "action", "allow", "exe", "/usr/bin/curl");
	vigil_rule_set_set_memo_enabled(fixture->set, FALSE);
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	vigil_rule_set_get_memo_stats(fixture->set, &hits, &misses);
	g_assert_cmpuint(hits, ==, 0);
	g_assert_cmpuint(misses, ==, 0);
	vigil_rule_set_set_memo_enabled(fixture->set, TRUE);
	g_assert_cmpstr(test_lookup_twice(fixture), ==, "curl");
	g_assert_cmpstr(test_lookup(fixture), ==, "curl");
	vigil_rule_set_get_memo_stats(fixture->set, &hits, &misses);
	g_assert_cmpuint(hits, ==, 1);
	g_assert_cmpuint(misses, ==, 2);

	/* the environment decides for new sets */
	g_setenv("VIGIL_RULE_SET_NO_MEMO", "1", TRUE);
	set = vigil_rule_set_new();
	g_unsetenv("VIGIL_RULE_SET_NO_MEMO");
	vigil_rule_set_lookup(set, &fixture->query);
	vigil_rule_set_lookup(set, &fixture->query);
	vigil_rule_set_get_memo_stats(set, &hits, &misses);
	g_assert_cmpuint(hits + misses, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	fixtured_test("/vigil/rules/rule-set/precedence-who", test_precedence_who);
	fixtured_test("/vigil/rules/rule-set/precedence-who-app-id-unit",
		      test_precedence_who_app_id_unit);
	fixtured_test("/vigil/rules/rule-set/precedence-destination", test_precedence_destination);
	fixtured_test("/vigil/rules/rule-set/precedence-destination-v6",
		      test_precedence_destination_v6);
	fixtured_test("/vigil/rules/rule-set/precedence-port", test_precedence_port);
	fixtured_test("/vigil/rules/rule-set/precedence-protocol-direction",
		      test_precedence_protocol_direction);
	fixtured_test("/vigil/rules/rule-set/precedence-action", test_precedence_action);
	fixtured_test("/vigil/rules/rule-set/precedence-age", test_precedence_age);
	fixtured_test("/vigil/rules/rule-set/precedence-design", test_precedence_design);
	fixtured_test("/vigil/rules/rule-set/domain-matching", test_domain_matching);
	fixtured_test("/vigil/rules/rule-set/cidr-v4-edges", test_cidr_v4_edges);
	fixtured_test("/vigil/rules/rule-set/bucket-filter", test_bucket_filter);
	fixtured_test("/vigil/rules/rule-set/apps-destination-filter",
		      test_apps_destination_filter);
	fixtured_test("/vigil/rules/rule-set/apps-directory", test_apps_directory);
	fixtured_test("/vigil/rules/rule-set/ports", test_ports);
	fixtured_test("/vigil/rules/rule-set/unknown-values", test_unknown_values);
	fixtured_test("/vigil/rules/rule-set/sha256-callback", test_sha256_callback);
	fixtured_test("/vigil/rules/rule-set/disabled", test_disabled);
	fixtured_test("/vigil/rules/rule-set/expired", test_expired);
	fixtured_test("/vigil/rules/rule-set/once", test_once);
	fixtured_test("/vigil/rules/rule-set/process", test_process);
	fixtured_test("/vigil/rules/rule-set/add-replace-remove", test_add_replace_remove);
	fixtured_test("/vigil/rules/rule-set/many-rules", test_many_rules);
	fixtured_test("/vigil/rules/rule-set/random-cross-check", test_random_cross_check);
	fixtured_test("/vigil/rules/rule-set/random-cross-check-sparse",
		      test_random_cross_check_sparse);
	fixtured_test("/vigil/rules/rule-set/random-bucket-forms", test_random_bucket_forms);
	fixtured_test("/vigil/rules/rule-set/random-cross-check-many-apps",
		      test_random_cross_check_many_apps);
	fixtured_test("/vigil/rules/rule-set/flat-tags", test_flat_tags);
	fixtured_test("/vigil/rules/rule-set/memo-once", test_memo_once);
	fixtured_test("/vigil/rules/rule-set/memo-until", test_memo_until);
	fixtured_test("/vigil/rules/rule-set/memo-sha256", test_memo_sha256);
	fixtured_test("/vigil/rules/rule-set/memo-process", test_memo_process);
	fixtured_test("/vigil/rules/rule-set/memo-changes", test_memo_changes);
	fixtured_test("/vigil/rules/rule-set/memo-keys", test_memo_keys);
	fixtured_test("/vigil/rules/rule-set/memo-disabled", test_memo_disabled);
	fixtured_test("/vigil/rules/rule-set/memo-popular", test_memo_popular);
	fixtured_test("/vigil/rules/rule-set/memo-random-cross-check",
		      test_memo_random_cross_check);
	fixtured_test("/vigil/rules/rule-set/memo-random-cross-check-sparse",
		      test_memo_random_cross_check_sparse);
	return g_test_run();
}
