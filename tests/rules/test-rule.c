/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "vigil-error.h"
#include "vigil-rule.h"

#define TEST_SHA256 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static VigilRule *
test_rule_new_allow(void)
{
	VigilRule *rule = vigil_rule_new();

	vigil_rule_set_action(rule, VIGIL_ACTION_ALLOW);
	return rule;
}

static VigilRule *
test_rule_new_from_json(const gchar *json, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *root;

	if (!json_parser_load_from_data(parser, json, -1, error))
		return NULL;
	root = json_parser_get_root(parser);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return vigil_rule_new_from_json_object(json_node_get_object(root), error);
}

static gchar *
test_rule_to_json(VigilRule *rule)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	vigil_rule_add_to_json_builder(rule, builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

/* expects the JSON to be refused with INVALID_RULE and a message containing @needle */
static void
test_rule_json_fails(const gchar *json, const gchar *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = test_rule_new_from_json(json, &error);

	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_null(rule);
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' gave '%s', expected '%s'", json, error->message, needle);
}

static void
test_rule_variant_fails(GVariant *dict, const gchar *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) owned = g_variant_ref_sink(dict);
	g_autoptr(VigilRule) rule = vigil_rule_new_from_variant(owned, &error);

	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_null(rule);
	if (strstr(error->message, needle) == NULL)
		g_error("variant gave '%s', expected '%s'", error->message, needle);
}

static void
test_rule_validate_fails(VigilRule *rule, const gchar *needle)
{
	g_autoptr(GError) error = NULL;
	gboolean ret = vigil_rule_validate(rule, &error);

	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	if (strstr(error->message, needle) == NULL)
		g_error("validate gave '%s', expected '%s'", error->message, needle);
}

static void
test_rule_defaults(void)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();

	g_assert_null(vigil_rule_get_id(rule));
	g_assert_true(vigil_rule_get_enabled(rule));
	g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_NONE);
	g_assert_cmpint(vigil_rule_get_direction(rule), ==, VIGIL_DIRECTION_ANY);
	g_assert_cmpint(vigil_rule_get_protocol(rule), ==, 0);
	g_assert_cmpint(vigil_rule_get_lifetime(rule), ==, VIGIL_LIFETIME_FOREVER);
	g_assert_cmpint(vigil_rule_get_origin(rule), ==, VIGIL_ORIGIN_USER);
	g_assert_false(vigil_rule_has_user(rule));
	g_assert_false(vigil_rule_has_port(rule));
	g_assert_null(vigil_rule_get_port_string(rule));
	g_assert_false(vigil_rule_is_read_only(rule));
	test_rule_validate_fails(rule, "action");

	vigil_rule_set_origin(rule, VIGIL_ORIGIN_MANAGED);
	g_assert_true(vigil_rule_is_read_only(rule));
}

static void
test_rule_generate_id(void)
{
	g_autofree gchar *id1 = vigil_rule_generate_id();
	g_autofree gchar *id2 = vigil_rule_generate_id();

	g_assert_cmpuint(strlen(id1), ==, 14);
	g_assert_true(g_str_has_prefix(id1, "r-"));
	for (guint i = 2; i < 14; i++)
		g_assert_true(g_ascii_isxdigit(id1[i]) && !g_ascii_isupper(id1[i]));
	g_assert_cmpstr(id1, !=, id2);
}

static void
test_rule_who(void)
{
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	gboolean ret;

	vigil_rule_set_exe(rule, "/usr/bin/curl");
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);

	vigil_rule_set_app_id(rule, "org.example.App");
	test_rule_validate_fails(rule, "at most one of exe, app-id and unit");
	vigil_rule_set_exe(rule, NULL);
	vigil_rule_set_unit(rule, "foo.service");
	test_rule_validate_fails(rule, "at most one");
	vigil_rule_set_app_id(rule, NULL);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_unit(rule, "foo/bar.service");
	test_rule_validate_fails(rule, "not a systemd unit");
	vigil_rule_set_unit(rule, NULL);

	vigil_rule_set_exe(rule, "bin/curl");
	test_rule_validate_fails(rule, "absolute path");
	vigil_rule_set_exe(rule, NULL);
	vigil_rule_set_app_id(rule, "not an app id");
	test_rule_validate_fails(rule, "Flatpak");
	vigil_rule_set_app_id(rule, NULL);

	/* sha256: 64 hex digits, lower-cased, only with exe */
	ret = vigil_rule_set_sha256(
	    rule,
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(vigil_rule_get_sha256(rule), ==, TEST_SHA256);
	test_rule_validate_fails(rule, "needs exe");
	vigil_rule_set_exe(rule, "/usr/bin/curl");
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_sha256(rule, "0123", &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	ret = vigil_rule_set_sha256(rule, TEST_SHA256 "0", &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	ret = vigil_rule_set_sha256(
	    rule,
	    "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	g_assert_cmpstr(vigil_rule_get_sha256(rule), ==, TEST_SHA256);
	ret = vigil_rule_set_sha256(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_null(vigil_rule_get_sha256(rule));

	/* user */
	vigil_rule_set_user(rule, 1000);
	g_assert_true(vigil_rule_has_user(rule));
	g_assert_cmpuint(vigil_rule_get_user(rule), ==, 1000);
	vigil_rule_set_user(rule, 0);
	g_assert_true(vigil_rule_has_user(rule));
	vigil_rule_set_user(rule, G_MAXUINT32);
	test_rule_validate_fails(rule, "not a valid uid");
	vigil_rule_clear_user(rule);
	g_assert_false(vigil_rule_has_user(rule));
}

static void
test_rule_host(void)
{
	struct {
		const gchar *in;
		const gchar *out; /* NULL: refused */
		gboolean domain;
	} cases[] = {
	    {"example.org", "example.org", FALSE},
	    {"Example.ORG.", "example.org", FALSE},
	    {"*.example.org", "*.example.org", TRUE},
	    {"*.Example.Org.", "*.example.org", TRUE},
	    {"*.com", "*.com", TRUE},
	    {"localhost", "localhost", FALSE},
	    {"_dmarc.example.org", "_dmarc.example.org", FALSE},
	    {"a-b.c-d.example", "a-b.c-d.example", FALSE},
	    {"bücher.example", "xn--bcher-kva.example", FALSE},
	    {"*", NULL, FALSE},
	    {"*.", NULL, FALSE},
	    {"", NULL, FALSE},
	    {".", NULL, FALSE},
	    {"example..org", NULL, FALSE},
	    {".example.org", NULL, FALSE},
	    {"example.org..", NULL, FALSE},
	    {"a.*.example.org", NULL, FALSE},
	    {"*example.org", NULL, FALSE},
	    {"**.example.org", NULL, FALSE},
	    {"*.*.example.org", NULL, FALSE},
	    {"exa mple.org", NULL, FALSE},
	    {"example.org/path", NULL, FALSE},
	    {"example.org:443", NULL, FALSE},
	    {"198.18.0.1", NULL, FALSE},
	};
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autofree gchar *label63 = g_strnfill(63, 'a');
	g_autofree gchar *label64 = g_strnfill(64, 'a');
	g_autofree gchar *host63 = g_strdup_printf("%s.example", label63);
	g_autofree gchar *host64 = g_strdup_printf("%s.example", label64);
	g_autoptr(GString) long_host = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	gboolean ret;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		ret = vigil_rule_set_host(rule, cases[i].in, &error);
		if (cases[i].out == NULL) {
			if (ret)
				g_error("host '%s' was accepted", cases[i].in);
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
			g_clear_error(&error);
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ret);
		g_assert_cmpstr(vigil_rule_get_host(rule), ==, cases[i].out);
		g_assert_cmpint(vigil_rule_host_is_domain(rule), ==, cases[i].domain);
	}

	/* a failed set keeps the old value */
	ret = vigil_rule_set_host(rule, "*.example.org", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_host(rule, "bad..host", &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	g_assert_cmpstr(vigil_rule_get_host(rule), ==, "*.example.org");
	g_assert_true(vigil_rule_host_is_domain(rule));

	/* label and name lengths */
	ret = vigil_rule_set_host(rule, host63, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_host(rule, host64, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	while (long_host->len < 253)
		g_string_append(long_host, "a.");
	g_string_truncate(long_host, 253);
	if (long_host->str[252] == '.')
		long_host->str[252] = 'b';
	ret = vigil_rule_set_host(rule, long_host->str, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_string_append(long_host, "c");
	ret = vigil_rule_set_host(rule, long_host->str, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);

	/* clearing */
	ret = vigil_rule_set_host(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_null(vigil_rule_get_host(rule));
	g_assert_false(vigil_rule_host_is_domain(rule));
}

static void
test_rule_cidr(void)
{
	struct {
		const gchar *in;
		const gchar *out; /* NULL: refused */
		guint8 family;
		guint8 prefix;
		guint8 first_bytes[4];
	} cases[] = {
	    {"198.18.0.1", "198.18.0.1", 4, 32, {198, 18, 0, 1}},
	    {"198.18.0.1/32", "198.18.0.1", 4, 32, {198, 18, 0, 1}},
	    {"198.18.0.0/15", "198.18.0.0/15", 4, 15, {198, 18, 0, 0}},
	    {"198.19.3.4/15", "198.18.0.0/15", 4, 15, {198, 18, 0, 0}},
	    {"10.1.2.3/8", "10.0.0.0/8", 4, 8, {10, 0, 0, 0}},
	    {"10.1.2.3/31", "10.1.2.2/31", 4, 31, {10, 1, 2, 2}},
	    {"255.255.255.255/0", "0.0.0.0/0", 4, 0, {0, 0, 0, 0}},
	    {"0.0.0.0/0", "0.0.0.0/0", 4, 0, {0, 0, 0, 0}},
	    {"fd00::1", "fd00::1", 6, 128, {0xfd, 0, 0, 0}},
	    {"fd00::1/128", "fd00::1", 6, 128, {0xfd, 0, 0, 0}},
	    {"fd00::/8", "fd00::/8", 6, 8, {0xfd, 0, 0, 0}},
	    {"fdff:1:2::3/9", "fd80::/9", 6, 9, {0xfd, 0x80, 0, 0}},
	    {"2001:db8:1:2::/32", "2001:db8::/32", 6, 32, {0x20, 0x01, 0x0d, 0xb8}},
	    {"FD00::ABCD/128", "fd00::abcd", 6, 128, {0xfd, 0, 0, 0}},
	    {"::/0", "::/0", 6, 0, {0, 0, 0, 0}},
	    {"::ffff:198.18.0.1", "198.18.0.1", 4, 32, {198, 18, 0, 1}},
	    {"::ffff:198.18.0.0/112", "198.18.0.0/16", 4, 16, {198, 18, 0, 0}},
	    {"::ffff:0:0/96", "0.0.0.0/0", 4, 0, {0, 0, 0, 0}},
	    {"::ffff:0:0/95", "::fffe:0:0/95", 6, 95, {0, 0, 0, 0}},
	    {"198.18.0.1/33", NULL},
	    {"fd00::/129", NULL},
	    {"198.18.0.1/", NULL},
	    {"198.18.0.1/-1", NULL},
	    {"198.18.0.1/+8", NULL},
	    {"198.18.0.1/ 8", NULL},
	    {"198.18.0.1/8/8", NULL},
	    {"198.18.0.1/0008", NULL},
	    {"198.18.0.1/x", NULL},
	    {"198.18.0", NULL},
	    {"198.18.0.256", NULL},
	    {"198.18.0.1 ", NULL},
	    {"example.org", NULL},
	    {"", NULL},
	    {"/8", NULL},
	    {"fd00::1::2", NULL},
	    {"fe80::1%eth0", NULL},
	};
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	gboolean ret;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		ret = vigil_rule_set_cidr(rule, cases[i].in, &error);
		if (cases[i].out == NULL) {
			if (ret)
				g_error("cidr '%s' was accepted", cases[i].in);
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
			g_clear_error(&error);
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ret);
		g_assert_cmpstr(vigil_rule_get_cidr(rule), ==, cases[i].out);
		g_assert_cmpuint(vigil_rule_get_cidr_family(rule), ==, cases[i].family);
		g_assert_cmpuint(vigil_rule_get_cidr_prefix(rule), ==, cases[i].prefix);
		g_assert_cmpmem(vigil_rule_get_cidr_address(rule), 4, cases[i].first_bytes, 4);
		if (cases[i].family == 4) {
			static const guint8 zero[12] = {0};
			g_assert_cmpmem(vigil_rule_get_cidr_address(rule) + 4, 12, zero, 12);
		}
	}

	/* the last good value survives a refused one; NULL clears */
	ret = vigil_rule_set_cidr(rule, "10.0.0.0/8", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_cidr(rule, "10.0.0.0/99", &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	g_assert_cmpstr(vigil_rule_get_cidr(rule), ==, "10.0.0.0/8");

	/* host XOR cidr */
	ret = vigil_rule_set_host(rule, "example.org", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	test_rule_validate_fails(rule, "host or a cidr, not both");
	ret = vigil_rule_set_cidr(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_null(vigil_rule_get_cidr(rule));
	g_assert_cmpuint(vigil_rule_get_cidr_family(rule), ==, 0);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);

	/* icmp never matches IPv6 */
	ret = vigil_rule_set_host(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	ret = vigil_rule_set_cidr(rule, "fd00::/8", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_ICMP);
	test_rule_validate_fails(rule, "never matches");
}

static void
test_rule_port(void)
{
	struct {
		const gchar *in;
		const gchar *out; /* NULL: refused */
		guint16 min;
		guint16 max;
	} cases[] = {
	    {"443", "443", 443, 443},
	    {"0", "0", 0, 0},
	    {"65535", "65535", 65535, 65535},
	    {"0-65535", "0-65535", 0, 65535},
	    {"8000-8100", "8000-8100", 8000, 8100},
	    {"8000-8000", "8000", 8000, 8000},
	    {"0443", "443", 443, 443},
	    {"65536", NULL},
	    {"99999", NULL},
	    {"100000", NULL},
	    {"8100-8000", NULL},
	    {"-1", NULL},
	    {"+1", NULL},
	    {" 443", NULL},
	    {"443 ", NULL},
	    {"80 - 90", NULL},
	    {"80-", NULL},
	    {"-80", NULL},
	    {"80-90-100", NULL},
	    {"http", NULL},
	    {"", NULL},
	    {"0x50", NULL},
	};
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	gboolean ret;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *str = NULL;
		ret = vigil_rule_set_port_from_string(rule, cases[i].in, &error);
		if (cases[i].out == NULL) {
			if (ret)
				g_error("port '%s' was accepted", cases[i].in);
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
			g_clear_error(&error);
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ret);
		str = vigil_rule_get_port_string(rule);
		g_assert_cmpstr(str, ==, cases[i].out);
		g_assert_true(vigil_rule_has_port(rule));
		g_assert_cmpuint(vigil_rule_get_port_min(rule), ==, cases[i].min);
		g_assert_cmpuint(vigil_rule_get_port_max(rule), ==, cases[i].max);
	}

	/* ports need a protocol with ports */
	ret = vigil_rule_set_port_from_string(rule, "443", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_ICMP);
	test_rule_validate_fails(rule, "has no ports");
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_ICMPV6);
	test_rule_validate_fails(rule, "has no ports");
	vigil_rule_set_protocol(rule, 47);
	test_rule_validate_fails(rule, "has no ports");
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_UDPLITE);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);

	/* a reversed range set directly is caught by validation */
	vigil_rule_set_port_range(rule, 90, 80);
	test_rule_validate_fails(rule, "reversed");
	ret = vigil_rule_set_port_from_string(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_false(vigil_rule_has_port(rule));
	g_assert_null(vigil_rule_get_port_string(rule));
}

static void
test_rule_lifetime(void)
{
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	gboolean ret;

	/* until */
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
	test_rule_validate_fails(rule, "needs expires");
	vigil_rule_set_expires(rule, 1000);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_false(vigil_rule_is_expired(rule, 999, NULL));
	g_assert_true(vigil_rule_is_expired(rule, 1000, NULL));
	g_assert_true(vigil_rule_is_expired(rule, 1001, "boot"));

	/* process */
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
	test_rule_validate_fails(rule, "needs pid");
	vigil_rule_set_process(rule, 4242, 987654);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpuint(vigil_rule_get_pid(rule), ==, 4242);
	g_assert_cmpuint(vigil_rule_get_pid_start(rule), ==, 987654);
	g_assert_false(vigil_rule_is_expired(rule, G_MAXINT64, "boot"));

	/* reboot: no boot id yet never expires */
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_REBOOT);
	ret = vigil_rule_validate(rule, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_false(vigil_rule_is_expired(rule, 5000, "boot-a"));
	vigil_rule_set_boot_id(rule, "boot-a");
	g_assert_false(vigil_rule_is_expired(rule, 5000, "boot-a"));
	g_assert_false(vigil_rule_is_expired(rule, 5000, NULL));
	g_assert_true(vigil_rule_is_expired(rule, 5000, "boot-b"));

	/* once and forever never expire by time */
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_ONCE);
	g_assert_false(vigil_rule_is_expired(rule, G_MAXINT64, "boot-b"));
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_FOREVER);
	g_assert_false(vigil_rule_is_expired(rule, G_MAXINT64, "boot-b"));
}

static void
test_rule_to_string(void)
{
	g_autoptr(VigilRule) rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *str1 = NULL;
	g_autofree gchar *str2 = NULL;
	g_autofree gchar *str3 = NULL;
	gboolean ret;

	vigil_rule_set_exe(rule, "/usr/bin/curl");
	ret = vigil_rule_set_host(rule, "*.example.org", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	vigil_rule_set_port_range(rule, 443, 443);
	str1 = vigil_rule_to_string(rule);
	g_assert_cmpstr(str1, ==, "allow /usr/bin/curl -> *.example.org tcp/443 (forever)");

	vigil_rule_set_action(rule, VIGIL_ACTION_DENY);
	vigil_rule_set_exe(rule, NULL);
	vigil_rule_set_user(rule, 1000);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_ANY);
	vigil_rule_set_port_range(rule, 8000, 8100);
	vigil_rule_set_direction(rule, VIGIL_DIRECTION_OUT);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
	vigil_rule_set_expires(rule, 1700000000);
	str2 = vigil_rule_to_string(rule);
	g_assert_cmpstr(str2,
			==,
			"deny any app uid 1000 -> *.example.org port 8000-8100 out "
			"(until 2023-11-14 22:13:20 UTC)");

	vigil_rule_set_enabled(rule, FALSE);
	vigil_rule_set_app_id(rule, "org.example.App");
	vigil_rule_clear_user(rule);
	vigil_rule_clear_port(rule);
	vigil_rule_set_direction(rule, VIGIL_DIRECTION_IN);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
	vigil_rule_set_process(rule, 42, 1);
	ret = vigil_rule_set_host(rule, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	str3 = vigil_rule_to_string(rule);
	g_assert_cmpstr(str3,
			==,
			"deny app org.example.App <- any in (until pid 42 exits) [disabled]");
}

/* a rule with every field set away from its default */
static VigilRule *
test_rule_new_full(void)
{
	VigilRule *rule = test_rule_new_allow();
	g_autoptr(GError) error = NULL;
	gboolean ret;

	vigil_rule_set_id(rule, "r-0123456789ab");
	vigil_rule_set_enabled(rule, FALSE);
	vigil_rule_set_action(rule, VIGIL_ACTION_REJECT);
	vigil_rule_set_exe(rule, "/usr/bin/curl");
	ret = vigil_rule_set_sha256(rule, TEST_SHA256, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_user(rule, 1000);
	vigil_rule_set_direction(rule, VIGIL_DIRECTION_OUT);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	ret = vigil_rule_set_cidr(rule, "fd00::/8", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	vigil_rule_set_port_range(rule, 8000, 8100);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
	vigil_rule_set_process(rule, 4242, 123456789);
	vigil_rule_set_expires(rule, 1800000000);
	vigil_rule_set_boot_id(rule, "0f0e0d0c-0b0a-0908-0706-050403020100");
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_PROMPT);
	vigil_rule_set_created(rule, 1700000000);
	vigil_rule_set_last_used(rule, 1700000100);
	vigil_rule_set_hits(rule, 12345678901ULL);
	vigil_rule_set_note(rule, "a note with \"quotes\", ünïcödé and a\nnewline");
	return rule;
}

static void
test_rule_copy_equal(void)
{
	g_autoptr(VigilRule) rule = test_rule_new_full();
	g_autoptr(VigilRule) copy = vigil_rule_copy(rule);
	g_autoptr(GError) error = NULL;
	gboolean ret;

	g_assert_true(vigil_rule_equal(rule, copy));
	vigil_rule_set_source(copy, "/etc/vigil/rules.d/a.json");
	g_assert_true(vigil_rule_equal(rule, copy));
	vigil_rule_set_hits(copy, 1);
	g_assert_false(vigil_rule_equal(rule, copy));
	vigil_rule_set_hits(copy, vigil_rule_get_hits(rule));
	ret = vigil_rule_set_cidr(copy, "fd00::/9", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_false(vigil_rule_equal(rule, copy));
	ret = vigil_rule_set_cidr(copy, "fd00::/8", &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(vigil_rule_equal(rule, copy));
	vigil_rule_clear_user(copy);
	g_assert_false(vigil_rule_equal(rule, copy));
}

static void
test_rule_json_round_trip(void)
{
	g_autoptr(VigilRule) full = test_rule_new_full();
	g_autoptr(VigilRule) minimal = test_rule_new_allow();
	VigilRule *rules[] = {full, minimal};
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
		g_autofree gchar *json = test_rule_to_json(rules[i]);
		g_autofree gchar *json2 = NULL;
		g_autoptr(VigilRule) back = test_rule_new_from_json(json, &error);
		g_assert_no_error(error);
		g_assert_nonnull(back);
		g_assert_true(vigil_rule_equal(rules[i], back));
		json2 = test_rule_to_json(back);
		g_assert_cmpstr(json, ==, json2);
	}

	/* defaults are left out */
	{
		g_autofree gchar *json = test_rule_to_json(minimal);
		g_assert_cmpstr(json, ==, "{\"action\":\"allow\"}");
	}
}

static void
test_rule_json_keys(void)
{
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error = NULL;

	rule = test_rule_new_from_json("{\"id\":\"r-1\",\"action\":\"deny\",\"app-id\":\"org.a.B\","
				       "\"protocol\":\"UDP\",\"host\":\"Example.org.\","
				       "\"port\":\"53\",\"direction\":\"out\",\"user\":0,"
				       "\"enabled\":true,\"lifetime\":\"until\",\"expires\":5}",
				       &error);
	g_assert_no_error(error);
	g_assert_nonnull(rule);
	g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_DENY);
	g_assert_cmpstr(vigil_rule_get_app_id(rule), ==, "org.a.B");
	g_assert_cmpuint(vigil_rule_get_protocol(rule), ==, VIGIL_PROTOCOL_UDP);
	g_assert_cmpstr(vigil_rule_get_host(rule), ==, "example.org");
	g_assert_true(vigil_rule_has_user(rule));
	g_assert_cmpuint(vigil_rule_get_user(rule), ==, 0);
	g_assert_cmpint(vigil_rule_get_expires(rule), ==, 5);
	g_clear_object(&rule);

	/* a protocol by number */
	rule = test_rule_new_from_json("{\"action\":\"allow\",\"protocol\":\"47\"}", &error);
	g_assert_no_error(error);
	g_assert_nonnull(rule);
	g_assert_cmpuint(vigil_rule_get_protocol(rule), ==, 47);
	{
		g_autofree gchar *json = test_rule_to_json(rule);
		g_assert_cmpstr(json, ==, "{\"action\":\"allow\",\"protocol\":\"47\"}");
	}

	test_rule_json_fails("{\"action\":\"allow\",\"foo\":1}", "unknown key 'foo'");
	test_rule_json_fails("{\"action\":\"allow\",\"Port\":\"1\"}", "unknown key 'Port'");
	test_rule_json_fails("{\"action\":\"allow\",\"port\":443}",
			     "key 'port': expected a string");
	test_rule_json_fails("{\"action\":\"allow\",\"port\":null}",
			     "key 'port': expected a string");
	test_rule_json_fails("{\"action\":\"allow\",\"host\":[\"a\"]}",
			     "key 'host': expected a string");
	test_rule_json_fails("{\"action\":\"allow\",\"user\":\"1000\"}",
			     "key 'user': expected an integer");
	test_rule_json_fails("{\"action\":\"allow\",\"user\":1000.0}",
			     "key 'user': expected an integer");
	test_rule_json_fails("{\"action\":\"allow\",\"hits\":1e3}",
			     "key 'hits': expected an integer");
	test_rule_json_fails("{\"action\":\"allow\",\"user\":-1}",
			     "key 'user': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"user\":4294967296}",
			     "key 'user': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"hits\":-5}",
			     "key 'hits': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"hits\":99999999999999999999}",
			     "key 'hits': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"created\":18446744073709551621}",
			     "key 'created': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"pid\":4294967296}",
			     "key 'pid': value out of range");
	test_rule_json_fails("{\"action\":\"allow\",\"enabled\":1}",
			     "key 'enabled': expected a boolean");
	test_rule_json_fails("{\"action\":\"allow\",\"enabled\":\"true\"}",
			     "key 'enabled': expected a boolean");
	test_rule_json_fails("{\"action\":\"none\"}", "key 'action'");
	test_rule_json_fails("{\"action\":\"ALLOW\"}", "key 'action'");
	test_rule_json_fails("{}", "action must be");
	test_rule_json_fails("{\"action\":\"allow\",\"direction\":\"sideways\"}",
			     "key 'direction'");
	test_rule_json_fails("{\"action\":\"allow\",\"protocol\":\"256\"}", "key 'protocol'");
	test_rule_json_fails("{\"action\":\"allow\",\"protocol\":\"gre\"}", "key 'protocol'");
	test_rule_json_fails("{\"action\":\"allow\",\"lifetime\":\"later\"}", "key 'lifetime'");
	test_rule_json_fails("{\"action\":\"allow\",\"origin\":\"nobody\"}", "key 'origin'");
	test_rule_json_fails("{\"action\":\"allow\",\"host\":\"a..b\"}", "key 'host'");
	test_rule_json_fails("{\"action\":\"allow\",\"cidr\":\"1.2.3.4/40\"}", "key 'cidr'");
	test_rule_json_fails("{\"action\":\"allow\",\"port\":\"99999\"}", "key 'port'");
	test_rule_json_fails("{\"action\":\"allow\",\"sha256\":\"abc\"}", "key 'sha256'");
	test_rule_json_fails("{\"action\":\"allow\",\"id\":\"has space\"}", "id may only");
	test_rule_json_fails("{\"action\":\"allow\",\"exe\":\"/a\",\"unit\":\"a.service\"}",
			     "at most one");
	test_rule_json_fails("{\"action\":\"allow\",\"lifetime\":\"process\"}", "needs pid");
}

static void
test_rule_json_limits(void)
{
	g_autoptr(GString) note = g_string_new(NULL);
	g_autoptr(GString) exe = g_string_new("/");
	g_autofree gchar *json = NULL;
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) error = NULL;

	while (note->len < 4096)
		g_string_append_c(note, 'n');
	json = g_strdup_printf("{\"action\":\"allow\",\"note\":\"%s\"}", note->str);
	rule = test_rule_new_from_json(json, &error);
	g_assert_no_error(error);
	g_assert_nonnull(rule);
	g_clear_pointer(&json, g_free);
	g_string_append_c(note, 'n');
	json = g_strdup_printf("{\"action\":\"allow\",\"note\":\"%s\"}", note->str);
	test_rule_json_fails(json, "key 'note': longer than 4096 bytes");
	g_clear_pointer(&json, g_free);

	while (exe->len <= 4096)
		g_string_append_c(exe, 'e');
	json = g_strdup_printf("{\"action\":\"allow\",\"exe\":\"%s\"}", exe->str);
	test_rule_json_fails(json, "key 'exe': longer than");
}

static void
test_rule_variant_round_trip(void)
{
	g_autoptr(VigilRule) full = test_rule_new_full();
	g_autoptr(VigilRule) minimal = test_rule_new_allow();
	VigilRule *rules[] = {full, minimal};
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
		g_autoptr(GVariant) dict = g_variant_ref_sink(vigil_rule_to_variant(rules[i]));
		g_autoptr(VigilRule) back = vigil_rule_new_from_variant(dict, &error);
		g_assert_no_error(error);
		g_assert_nonnull(back);
		g_assert_true(vigil_rule_equal(rules[i], back));
	}

	/* types on the wire */
	{
		g_autoptr(GVariant) dict = g_variant_ref_sink(vigil_rule_to_variant(full));
		g_autoptr(GVariantDict) vd = g_variant_dict_new(dict);
		guint32 uid = 0;
		guint64 pid_start = 0;
		gint64 created = 0;
		guint64 hits = 0;
		gboolean read_only = TRUE;
		g_assert_true(g_variant_dict_lookup(vd, "user", "u", &uid));
		g_assert_cmpuint(uid, ==, 1000);
		g_assert_true(g_variant_dict_lookup(vd, "pid-start", "t", &pid_start));
		g_assert_cmpuint(pid_start, ==, 123456789);
		g_assert_true(g_variant_dict_lookup(vd, "created", "x", &created));
		g_assert_cmpint(created, ==, 1700000000);
		g_assert_true(g_variant_dict_lookup(vd, "hits", "t", &hits));
		g_assert_cmpuint(hits, ==, 12345678901ULL);
		g_assert_true(g_variant_dict_lookup(vd, "read-only", "b", &read_only));
		g_assert_false(read_only);
	}
	{
		g_autoptr(GVariant) dict = g_variant_ref_sink(vigil_rule_to_variant(minimal));
		g_autoptr(GVariantDict) vd = g_variant_dict_new(dict);
		gboolean enabled = FALSE;
		g_assert_true(g_variant_dict_lookup(vd, "enabled", "b", &enabled));
		g_assert_true(enabled);
		g_assert_true(g_variant_dict_contains(vd, "lifetime"));
		g_assert_false(g_variant_dict_contains(vd, "id"));
		g_assert_false(g_variant_dict_contains(vd, "user"));
	}
}

static GVariant *
test_rule_dict(const gchar *key, GVariant *value)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "action", g_variant_new_string("allow"));
	if (key != NULL)
		g_variant_builder_add(&builder, "{sv}", key, value);
	return g_variant_builder_end(&builder);
}

static void
test_rule_variant_keys(void)
{
	static const guint8 bad_utf8[] = {'/', 'b', 'i', 'n', '/', 0xff, 0xfe, '\0'};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) bad_string = NULL;
	GVariant *ints[] = {
	    g_variant_new_uint32(1000),
	    g_variant_new_int32(1000),
	    g_variant_new_int64(1000),
	    g_variant_new_uint64(1000),
	    g_variant_new_uint16(1000),
	};

	/* integer types that fit are accepted */
	for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
		g_autoptr(GVariant) dict = g_variant_ref_sink(test_rule_dict("user", ints[i]));
		g_autoptr(VigilRule) rule = vigil_rule_new_from_variant(dict, &error);
		g_assert_no_error(error);
		g_assert_nonnull(rule);
		g_assert_cmpuint(vigil_rule_get_user(rule), ==, 1000);
	}

	test_rule_variant_fails(test_rule_dict("user", g_variant_new_int32(-1)),
				"key 'user': value out of range");
	test_rule_variant_fails(test_rule_dict("user", g_variant_new_uint64(G_MAXUINT32 + 1ULL)),
				"key 'user': value out of range");
	test_rule_variant_fails(test_rule_dict("user", g_variant_new_double(1000)),
				"key 'user': expected an integer");
	test_rule_variant_fails(test_rule_dict("user", g_variant_new_string("1000")),
				"key 'user': expected an integer");
	test_rule_variant_fails(test_rule_dict("hits", g_variant_new_uint64(G_MAXUINT64)),
				"key 'hits': value out of range");
	test_rule_variant_fails(test_rule_dict("expires", g_variant_new_int64(-5)),
				"key 'expires': value out of range");
	test_rule_variant_fails(test_rule_dict("port", g_variant_new_uint16(443)),
				"key 'port': expected a string");
	test_rule_variant_fails(test_rule_dict("host", g_variant_new_strv(NULL, 0)),
				"key 'host': expected a string");
	test_rule_variant_fails(test_rule_dict("enabled", g_variant_new_uint32(1)),
				"key 'enabled': expected a boolean");
	test_rule_variant_fails(test_rule_dict("foo", g_variant_new_string("x")),
				"unknown key 'foo'");
	test_rule_variant_fails(test_rule_dict("action", g_variant_new_string("deny")),
				"duplicate key 'action'");

	/* strings must be UTF-8 even when the variant claims to be trusted */
	bad_string = g_variant_ref_sink(g_variant_new_from_data(G_VARIANT_TYPE_STRING,
								bad_utf8,
								sizeof(bad_utf8),
								TRUE,
								NULL,
								NULL));
	test_rule_variant_fails(test_rule_dict("exe", bad_string), "key 'exe': not valid UTF-8");

	/* not a dictionary */
	test_rule_variant_fails(g_variant_new_string("allow"), "expected a{sv}");
}

static void
test_rule_update_from_variant(void)
{
	g_autoptr(VigilRule) rule = test_rule_new_full();
	g_autoptr(VigilRule) before = vigil_rule_copy(rule);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) good = NULL;
	g_autoptr(GVariant) bad = NULL;
	GVariantBuilder builder;
	gboolean ret;

	/* a failing update leaves the rule as it was, even after good keys */
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "note", g_variant_new_string("changed"));
	g_variant_builder_add(&builder, "{sv}", "app-id", g_variant_new_string("org.a.B"));
	bad = g_variant_ref_sink(g_variant_builder_end(&builder));
	ret = vigil_rule_update_from_variant(rule, bad, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_RULE);
	g_assert_false(ret);
	g_clear_error(&error);
	g_assert_true(vigil_rule_equal(rule, before));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "note", g_variant_new_string("changed"));
	g_variant_builder_add(&builder, "{sv}", "enabled", g_variant_new_boolean(TRUE));
	g_variant_builder_add(&builder, "{sv}", "read-only", g_variant_new_boolean(TRUE));
	good = g_variant_ref_sink(g_variant_builder_end(&builder));
	ret = vigil_rule_update_from_variant(rule, good, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_cmpstr(vigil_rule_get_note(rule), ==, "changed");
	g_assert_true(vigil_rule_get_enabled(rule));
	g_assert_false(vigil_rule_is_read_only(rule));
	g_assert_cmpstr(vigil_rule_get_exe(rule), ==, "/usr/bin/curl");
	g_assert_cmpuint(vigil_rule_get_hits(rule), ==, 12345678901ULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/rules/rule/defaults", test_rule_defaults);
	g_test_add_func("/vigil/rules/rule/generate-id", test_rule_generate_id);
	g_test_add_func("/vigil/rules/rule/who", test_rule_who);
	g_test_add_func("/vigil/rules/rule/host", test_rule_host);
	g_test_add_func("/vigil/rules/rule/cidr", test_rule_cidr);
	g_test_add_func("/vigil/rules/rule/port", test_rule_port);
	g_test_add_func("/vigil/rules/rule/lifetime", test_rule_lifetime);
	g_test_add_func("/vigil/rules/rule/to-string", test_rule_to_string);
	g_test_add_func("/vigil/rules/rule/copy-equal", test_rule_copy_equal);
	g_test_add_func("/vigil/rules/rule/json-round-trip", test_rule_json_round_trip);
	g_test_add_func("/vigil/rules/rule/json-keys", test_rule_json_keys);
	g_test_add_func("/vigil/rules/rule/json-limits", test_rule_json_limits);
	g_test_add_func("/vigil/rules/rule/variant-round-trip", test_rule_variant_round_trip);
	g_test_add_func("/vigil/rules/rule/variant-keys", test_rule_variant_keys);
	g_test_add_func("/vigil/rules/rule/update-from-variant", test_rule_update_from_variant);
	return g_test_run();
}
