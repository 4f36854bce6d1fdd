/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "vigil-error.h"
#include "vigil-rule-import.h"
#include "vigil-rule-store.h"

#define OPENSNITCH_DIR TEST_DATA_DIR "/opensnitch"

/* an OpenSnitch rule around @operator, which is JSON */
static gchar *
test_opensnitch_rule(const gchar *name,
		     const gchar *action,
		     const gchar *duration,
		     const gchar *
		     operator)
{
	return g_strdup_printf("{\"created\": \"2024-01-02T03:04:05.123456789+01:00\", "
			       "\"name\": \"%s\", \"enabled\": true, \"precedence\": false, "
			       "\"action\": \"%s\", \"duration\": \"%s\", \"operator\": %s}",
			       name,
			       action,
			       duration,
			       operator);
}

static gchar *
test_operator(const gchar *type, const gchar *operand, const gchar *data)
{
	g_autofree gchar *escaped = g_strescape(data, NULL);
	return g_strdup_printf("{\"type\": \"%s\", \"operand\": \"%s\", \"sensitive\": false, "
			       "\"data\": \"%s\"}",
			       type,
			       operand,
			       escaped);
}

/* imports one rule that must map; returns the rules */
static GPtrArray *
test_import_ok(const gchar *json)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	GPtrArray *rules = vigil_rule_import_opensnitch(json, -1, "test.json", problems, &error);

	g_assert_no_error(error);
	g_assert_nonnull(rules);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("unexpected problem: %s", (const gchar *)problems->pdata[i]);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(rules->len, >, 0);
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree gchar *text = vigil_rule_to_string(rule);
		g_test_message("imported: %s", text);
		g_assert_true(vigil_rule_validate(rule, NULL));
		g_assert_cmpint(vigil_rule_get_origin(rule), ==, VIGIL_ORIGIN_IMPORTED);
		g_assert_cmpint(vigil_rule_get_direction(rule), ==, VIGIL_DIRECTION_OUT);
	}
	return rules;
}

/* imports one rule that must be skipped with exactly @problem */
static void
test_import_refused(const gchar *json, const gchar *problem)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rules =
	    vigil_rule_import_opensnitch(json, -1, "test.json", problems, &error);

	g_assert_no_error(error);
	g_assert_nonnull(rules);
	g_assert_cmpuint(rules->len, ==, 0);
	g_assert_cmpuint(problems->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, problem);
}

static GPtrArray *
test_import_operator(const gchar *type, const gchar *operand, const gchar *data)
{
	g_autofree gchar *op = test_operator(type, operand, data);
	g_autofree gchar *json = test_opensnitch_rule("r", "allow", "always", op);
	return test_import_ok(json);
}

static void
test_refuse_operator(const gchar *type,
		     const gchar *operand,
		     const gchar *data,
		     const gchar *reason)
{
	g_autofree gchar *op = test_operator(type, operand, data);
	g_autofree gchar *json = test_opensnitch_rule("r", "allow", "always", op);
	g_autofree gchar *problem = g_strdup_printf("test.json: rule 'r': %s", reason);
	test_import_refused(json, problem);
}

static void
test_rule_import_operands(void)
{
	g_autoptr(GPtrArray) rules = NULL;
	VigilRule *rule;
	const guint8 *address;

	/* the bookkeeping of every imported rule */
	rules = test_import_operator("simple", "process.path", "/usr/bin/curl");
	g_assert_cmpuint(rules->len, ==, 1);
	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpstr(vigil_rule_get_exe(rule), ==, "/usr/bin/curl");
	g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_ALLOW);
	g_assert_cmpint(vigil_rule_get_lifetime(rule), ==, VIGIL_LIFETIME_FOREVER);
	g_assert_cmpint(vigil_rule_get_created(rule), ==, 1704161045);
	g_assert_cmpstr(vigil_rule_get_note(rule), ==, "opensnitch: r");
	g_assert_true(vigil_rule_get_enabled(rule));
	g_assert_null(vigil_rule_get_id(rule));
	g_assert_null(vigil_rule_get_host(rule));
	g_assert_false(vigil_rule_has_port(rule));
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("simple", "user.id", "1000");
	rule = g_ptr_array_index(rules, 0);
	g_assert_true(vigil_rule_has_user(rule));
	g_assert_cmpuint(vigil_rule_get_user(rule), ==, 1000);
	g_assert_null(vigil_rule_get_exe(rule));
	g_clear_pointer(&rules, g_ptr_array_unref);

	/* host names are compared in lower case, without the root dot */
	rules = test_import_operator("simple", "dest.host", "WWW.Example.ORG.");
	g_assert_cmpstr(vigil_rule_get_host(g_ptr_array_index(rules, 0)), ==, "www.example.org");
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("simple", "dest.ip", "198.18.0.7");
	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpstr(vigil_rule_get_cidr(rule), ==, "198.18.0.7");
	g_assert_cmpuint(vigil_rule_get_cidr_prefix(rule), ==, 32);
	address = vigil_rule_get_cidr_address(rule);
	g_assert_cmpuint(address[0], ==, 198);
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("simple", "dest.ip", "fd00::7");
	g_assert_cmpuint(vigil_rule_get_cidr_prefix(g_ptr_array_index(rules, 0)), ==, 128);
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("network", "dest.network", "192.168.1.0/24");
	g_assert_cmpstr(vigil_rule_get_cidr(g_ptr_array_index(rules, 0)), ==, "192.168.1.0/24");
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("simple", "dest.port", "443");
	rule = g_ptr_array_index(rules, 0);
	g_assert_true(vigil_rule_has_port(rule));
	g_assert_cmpuint(vigil_rule_get_port_min(rule), ==, 443);
	g_assert_cmpuint(vigil_rule_get_port_max(rule), ==, 443);
	g_clear_pointer(&rules, g_ptr_array_unref);

	rules = test_import_operator("range", "dest.port", "1000-2000");
	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpuint(vigil_rule_get_port_min(rule), ==, 1000);
	g_assert_cmpuint(vigil_rule_get_port_max(rule), ==, 2000);
	g_clear_pointer(&rules, g_ptr_array_unref);

	/* OpenSnitch names the family in the protocol; Vigil rules cover both */
	{
		const gchar *protocols[][2] = {
		    {"tcp", "tcp"},
		    {"tcp6", "tcp"},
		    {"udp", "udp"},
		    {"UDP6", "udp"},
		    {"udplite6", "udplite"},
		    {"icmp", "icmp"},
		    {"icmp6", "icmpv6"},
		    {"sctp", "sctp"},
		};
		for (guint i = 0; i < G_N_ELEMENTS(protocols); i++) {
			rules = test_import_operator("simple", "protocol", protocols[i][0]);
			g_assert_cmpstr(vigil_protocol_to_string(
					    vigil_rule_get_protocol(g_ptr_array_index(rules, 0))),
					==,
					protocols[i][1]);
			g_clear_pointer(&rules, g_ptr_array_unref);
		}
	}

	/* "true" matches everything: a rule for anything */
	rules = test_import_operator("simple", "true", "");
	rule = g_ptr_array_index(rules, 0);
	g_assert_null(vigil_rule_get_exe(rule));
	g_assert_null(vigil_rule_get_host(rule));
	g_clear_pointer(&rules, g_ptr_array_unref);

	/* values that are no values */
	test_refuse_operator("simple",
			     "process.path",
			     "firefox",
			     "process.path 'firefox' is not an absolute path");
	test_refuse_operator("simple", "user.id", "root", "user.id 'root' is not a uid");
	test_refuse_operator("simple", "dest.port", "80000", "dest.port '80000' is not a port");
	test_refuse_operator("simple",
			     "dest.port",
			     "1000-2000",
			     "dest.port '1000-2000' is not a port");
	test_refuse_operator("simple",
			     "dest.ip",
			     "198.18.0.0/15",
			     "dest.ip '198.18.0.0/15' is "
			     "not an address");
	test_refuse_operator("simple", "protocol", "gre", "protocol 'gre' is not one Vigil knows");
	test_refuse_operator("simple",
			     "dest.host",
			     "*.example.org",
			     "dest.host '*.example.org' is compared literally, '*' included, "
			     "which no host name matches");
	test_refuse_operator("network",
			     "dest.network",
			     "192.168.1.0/40",
			     "cannot map dest.network: cidr '192.168.1.0/40': prefix length 40 is "
			     "longer than 32");
	test_refuse_operator("simple",
			     "dest.host",
			     "bad host!",
			     "cannot map dest.host: host 'bad host!' has an invalid character");
}

static void
test_rule_import_unmappable(void)
{
	struct {
		const gchar *type;
		const gchar *operand;
		const gchar *reason;
	} cases[] = {
	    {"simple",
	     "process.command",
	     "cannot map operand 'process.command' (Vigil matches executables, not command "
	     "lines)"},
	    {"simple",
	     "process.id",
	     "cannot map operand 'process.id' (a process id means nothing once that process is "
	     "gone)"},
	    {"simple",
	     "process.hash.md5",
	     "cannot map operand 'process.hash.md5' (Vigil pins executables by sha256 only)"},
	    {"simple",
	     "process.env.HOME",
	     "cannot map operand 'process.env.HOME' (Vigil does not match environment "
	     "variables)"},
	    {"simple",
	     "source.port",
	     "cannot map operand 'source.port' (Vigil rules match the remote end of a "
	     "connection)"},
	    {"simple",
	     "iface.out",
	     "cannot map operand 'iface.out' (Vigil rules do not match network interfaces)"},
	    {"lists",
	     "lists.domains",
	     "cannot map operand 'lists.domains' (lists of domains or addresses kept in files; "
	     "a Vigil rule names one host or network)"},
	    {"lists",
	     "lists.nets",
	     "cannot map operand 'lists.nets' (lists of domains or addresses kept in files; a "
	     "Vigil rule names one host or network)"},
	    {"simple", "quota.sent.over", "cannot map operand 'quota.sent.over'"},
	    {"complex", "dest.host", "cannot map operator type 'complex' on dest.host"},
	    {"network", "dest.port", "cannot map operator type 'network' on dest.port"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		test_refuse_operator(cases[i].type, cases[i].operand, "x", cases[i].reason);
}

static void
test_rule_import_list(void)
{
	g_autoptr(GPtrArray) rules = NULL;
	g_autofree gchar *json = NULL;
	VigilRule *rule;

	/* a list is the AND of its operators */
	json = test_opensnitch_rule(
	    "curl",
	    "deny",
	    "always",
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "{\"type\": \"simple\", \"operand\": \"process.path\", \"data\": \"/usr/bin/curl\"},"
	    "{\"type\": \"simple\", \"operand\": \"dest.host\", \"data\": \"example.org\"},"
	    "{\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": \"443\"},"
	    "{\"type\": \"simple\", \"operand\": \"protocol\", \"data\": \"tcp\"},"
	    "{\"type\": \"simple\", \"operand\": \"user.id\", \"data\": \"1000\"},"
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "  {\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": \"443\"}]}]}");
	rules = test_import_ok(json);
	g_assert_cmpuint(rules->len, ==, 1);
	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_DENY);
	g_assert_cmpstr(vigil_rule_get_exe(rule), ==, "/usr/bin/curl");
	g_assert_cmpstr(vigil_rule_get_host(rule), ==, "example.org");
	g_assert_cmpuint(vigil_rule_get_port_min(rule), ==, 443);
	g_assert_cmpuint(vigil_rule_get_protocol(rule), ==, VIGIL_PROTOCOL_TCP);
	g_assert_cmpuint(vigil_rule_get_user(rule), ==, 1000);
	g_clear_pointer(&rules, g_ptr_array_unref);
	g_clear_pointer(&json, g_free);

	/* older OpenSnitch kept the list as JSON text in "data" */
	json =
	    test_opensnitch_rule("old",
				 "allow",
				 "always",
				 "{\"type\": \"list\", \"operand\": \"list\", \"list\": null, "
				 "\"data\": \"[{\\\"type\\\": \\\"simple\\\", \\\"operand\\\": "
				 "\\\"process.path\\\", \\\"data\\\": \\\"/usr/bin/wget\\\"}]\"}");
	rules = test_import_ok(json);
	g_assert_cmpstr(vigil_rule_get_exe(g_ptr_array_index(rules, 0)), ==, "/usr/bin/wget");
	g_clear_pointer(&json, g_free);

	/* two conditions on one field */
	json = test_opensnitch_rule(
	    "ports",
	    "allow",
	    "always",
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "{\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": \"80\"},"
	    "{\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": \"443\"}]}");
	test_import_refused(json,
			    "test.json: rule 'ports': cannot map two different conditions on "
			    "dest.port");
	g_clear_pointer(&json, g_free);

	json = test_opensnitch_rule(
	    "host-and-ip",
	    "allow",
	    "always",
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "{\"type\": \"simple\", \"operand\": \"dest.host\", \"data\": \"example.org\"},"
	    "{\"type\": \"simple\", \"operand\": \"dest.ip\", \"data\": \"198.18.0.1\"}]}");
	test_import_refused(json,
			    "test.json: rule 'host-and-ip': cannot map dest.host together with "
			    "dest.ip (a Vigil rule names a host or an address, not both)");
	g_clear_pointer(&json, g_free);

	/* one unmappable operator anywhere skips the whole rule */
	json = test_opensnitch_rule(
	    "half",
	    "allow",
	    "always",
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "{\"type\": \"simple\", \"operand\": \"process.path\", \"data\": \"/usr/bin/ssh\"},"
	    "{\"type\": \"simple\", \"operand\": \"process.command\", \"data\": \"ssh host\"}]}");
	test_import_refused(json,
			    "test.json: rule 'half': cannot map operand 'process.command' (Vigil "
			    "matches executables, not command lines)");
	g_clear_pointer(&json, g_free);

	json = test_opensnitch_rule("empty",
				    "allow",
				    "always",
				    "{\"type\": \"list\", \"operand\": \"list\", \"list\": []}");
	test_import_refused(json, "test.json: rule 'empty': its list of operators is empty");
}

static void
test_rule_import_regexp(void)
{
	struct {
		const gchar *operand;
		const gchar *regexp;
		const gchar *values; /* what each imported rule holds, joined with ' ' */
	} maps[] = {
	    {"dest.host", "^(.*\\.)?example\\.com$", "*.example.com"},
	    {"dest.host", "^(|.*\\.)example\\.com$", "*.example.com"},
	    {"dest.host", "(?i)^(?:.*\\.)?Example\\.COM$", "*.example.com"},
	    {"dest.host", "^www\\.example\\.com$", "www.example.com"},
	    {"dest.host",
	     "^(www\\.example\\.com|(.*\\.)?example\\.net)$",
	     "www.example.com *.example.net"},
	    {"dest.host", "^(.*\\.)?(example\\.com|example\\.net)$", "*.example.com *.example.net"},
	    {"process.path", "^/usr/bin/curl$", "/usr/bin/curl"},
	    {"process.path", "^\\/snap\\/bin\\/firefox$", "/snap/bin/firefox"},
	    {"process.path",
	     "^(/usr/bin/python3\\.11|/usr/bin/python3\\.12)$",
	     "/usr/bin/python3.11 /usr/bin/python3.12"},
	    {"dest.port", "^(80|443)$", "80 443"},
	    {"dest.port", "^(?:53)$", "53"},
	    {"dest.host", "^a\\.com$|^b\\.com$", "a.com b.com"},
	    {"dest.ip", "^198\\.18\\.0\\.1$", "198.18.0.1"},
	    {"user.id", "^(0|1000)$", "0 1000"},
	    {"protocol", "^(tcp|udp)$", "tcp udp"},
	    {"process.path", ".*", "*"},
	    {"dest.host", "^.*$", "*"},
	    {"dest.port", "^(.*)$", "*"},
	    {"dest.host", "", "*"},
	};
	struct {
		const gchar *operand;
		const gchar *regexp;
		const gchar *why;
	} refused[] = {
	    {"dest.host",
	     "example\\.com",
	     "it is not anchored with ^ and $, so it also matches "
	     "values that only contain a match"},
	    {"dest.host",
	     "^(|.*\\.)example\\.com",
	     "it is not anchored with ^ and $, so it also "
	     "matches values that only contain a match"},
	    {"dest.host",
	     "^.*\\.github\\.com$",
	     "it matches subdomains only, and a Vigil *.domain also matches the domain itself"},
	    {"dest.host", "^(.*\\.)?github.com$", "an unescaped '.' matches any character"},
	    {"process.path", "^/tmp/.*$", "an unescaped '.' matches any character"},
	    {"process.path", "(?i)^/usr/bin/curl$", "it is case-insensitive, paths are not"},
	    {"dest.port", "^555[12345]$", "'[' is not a literal character"},
	    {"dest.port", "^\\d+$", "'\\d' is not a literal character"},
	    {"dest.port", "^(80|)$", "it has an empty alternative"},
	    {"dest.host",
	     "^a\\.com|b\\.com$",
	     "it is not anchored with ^ and $, so it also matches values that only contain a "
	     "match"},
	    {"dest.port", "^(80|443)+$", "'(' is not a literal character"},
	    {"dest.port",
	     "^80\\$",
	     "it is not anchored with ^ and $, so it also matches values "
	     "that only contain a match"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(maps); i++) {
		g_autoptr(GPtrArray) rules =
		    test_import_operator("regexp", maps[i].operand, maps[i].regexp);
		g_autoptr(GString) got = g_string_new(NULL);
		for (guint j = 0; j < rules->len; j++) {
			VigilRule *rule = g_ptr_array_index(rules, j);
			g_autofree gchar *port = vigil_rule_get_port_string(rule);
			const gchar *value = NULL;
			g_autofree gchar *user = NULL;
			if (g_str_equal(maps[i].operand, "dest.host"))
				value = vigil_rule_get_host(rule);
			else if (g_str_equal(maps[i].operand, "process.path"))
				value = vigil_rule_get_exe(rule);
			else if (g_str_equal(maps[i].operand, "dest.port"))
				value = port;
			else if (g_str_equal(maps[i].operand, "dest.ip"))
				value = vigil_rule_get_cidr(rule);
			else if (g_str_equal(maps[i].operand, "protocol"))
				value = vigil_protocol_to_string(vigil_rule_get_protocol(rule));
			else if (vigil_rule_has_user(rule))
				value = user = g_strdup_printf("%u", vigil_rule_get_user(rule));
			if (value == NULL || g_str_equal(value, "any"))
				value = "*";
			g_string_append_printf(got, "%s%s", j > 0 ? " " : "", value);
		}
		g_test_message("%s ~ %s -> %s", maps[i].operand, maps[i].regexp, got->str);
		g_assert_cmpstr(got->str, ==, maps[i].values);
	}
	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autofree gchar *reason = g_strdup_printf("cannot map regexp '%s' on %s: %s",
							   refused[i].regexp,
							   refused[i].operand,
							   refused[i].why);
		test_refuse_operator("regexp", refused[i].operand, refused[i].regexp, reason);
	}
}

static void
test_rule_import_alternation(void)
{
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *json = NULL;
	g_autoptr(GString) many = g_string_new("^(");
	g_autofree gchar *reason = NULL;

	/* every combination of the alternatives, once */
	json = test_opensnitch_rule(
	    "system-cmds",
	    "allow",
	    "always",
	    "{\"type\": \"list\", \"operand\": \"list\", \"list\": ["
	    "{\"type\": \"regexp\", \"operand\": \"process.path\", "
	    " \"data\": \"^(/usr/sbin/ntpd|/lib/systemd/systemd-timesyncd|/usr/bin/dirmngr)$\"},"
	    "{\"type\": \"regexp\", \"operand\": \"dest.port\", \"data\": \"^(53|123)$\"},"
	    "{\"type\": \"regexp\", \"operand\": \"user.id\", \"data\": \"^(0|115|118)$\"}]}");
	rules = test_import_ok(json);
	g_assert_cmpuint(rules->len, ==, 18);
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree gchar *key = g_strdup_printf("%s %u %u",
							vigil_rule_get_exe(rule),
							vigil_rule_get_port_min(rule),
							vigil_rule_get_user(rule));
		g_assert_true(g_hash_table_add(seen, g_steal_pointer(&key)));
		g_assert_cmpstr(vigil_rule_get_note(rule), ==, "opensnitch: system-cmds");
	}
	g_assert_true(g_hash_table_contains(seen, "/usr/bin/dirmngr 123 118"));
	g_assert_true(g_hash_table_contains(seen, "/usr/sbin/ntpd 53 0"));
	g_clear_pointer(&json, g_free);

	/* a repeated alternative counts once */
	g_clear_pointer(&rules, g_ptr_array_unref);
	rules = test_import_operator("regexp", "dest.port", "^(80|443|80)$");
	g_assert_cmpuint(rules->len, ==, 2);

	/* but not without bounds */
	for (guint i = 0; i < 100; i++)
		g_string_append_printf(many, "%s%u", i > 0 ? "|" : "", 1000 + i);
	g_string_append(many, ")$");
	reason = g_strdup_printf("cannot map regexp '%s' on dest.port: it has more than 64 "
				 "alternatives",
				 many->str);
	test_refuse_operator("regexp", "dest.port", many->str, reason);
}

static void
test_rule_import_durations(void)
{
	struct {
		const gchar *duration;
		VigilLifetime lifetime;
		gint64 seconds;
	} cases[] = {
	    {"always", VIGIL_LIFETIME_FOREVER, 0},
	    {"until restart", VIGIL_LIFETIME_REBOOT, 0},
	    {"30s", VIGIL_LIFETIME_UNTIL, 30},
	    {"5m", VIGIL_LIFETIME_UNTIL, 300},
	    {"15m", VIGIL_LIFETIME_UNTIL, 900},
	    {"1h", VIGIL_LIFETIME_UNTIL, 3600},
	    {"12h", VIGIL_LIFETIME_UNTIL, 43200},
	    {"1h30m", VIGIL_LIFETIME_UNTIL, 5400},
	    {"1.5h", VIGIL_LIFETIME_UNTIL, 5400},
	    {"1500ms", VIGIL_LIFETIME_UNTIL, 2},
	};
	const gchar *bad[] = {"forever", "5", "m", "5d", "-5m", "1..5h", ""};
	g_autofree gchar *op = test_operator("simple", "process.path", "/usr/bin/a");

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *json = test_opensnitch_rule("d", "allow", cases[i].duration, op);
		gint64 before = g_get_real_time() / G_USEC_PER_SEC;
		g_autoptr(GPtrArray) rules = test_import_ok(json);
		gint64 after = g_get_real_time() / G_USEC_PER_SEC;
		VigilRule *rule = g_ptr_array_index(rules, 0);

		g_assert_cmpint(vigil_rule_get_lifetime(rule), ==, cases[i].lifetime);
		if (cases[i].lifetime != VIGIL_LIFETIME_UNTIL)
			continue;
		g_assert_cmpint(vigil_rule_get_expires(rule), >=, before + cases[i].seconds);
		g_assert_cmpint(vigil_rule_get_expires(rule), <=, after + cases[i].seconds);
	}
	{
		g_autofree gchar *json = test_opensnitch_rule("o", "allow", "once", op);
		test_import_refused(json,
				    "test.json: rule 'o': duration 'once' was for one "
				    "connection, which is over");
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *json = test_opensnitch_rule("b", "allow", bad[i], op);
		g_autofree gchar *problem =
		    g_strdup_printf("test.json: rule 'b': unknown duration '%s'", bad[i]);
		test_import_refused(json, problem);
	}

	/* and the other top-level fields */
	{
		g_autofree gchar *json = test_opensnitch_rule("a", "permit", "always", op);
		test_import_refused(json, "test.json: rule 'a': unknown action 'permit'");
	}
	{
		g_autoptr(GPtrArray) rules = NULL;
		g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
		gint64 before = g_get_real_time() / G_USEC_PER_SEC;
		VigilRule *rule;

		/* no "enabled" is Go's false; year 1 is Go's "never set" */
		rules = vigil_rule_import_opensnitch(
		    "{\"name\": \"n\", \"action\": \"deny\", \"duration\": \"always\", "
		    "\"created\": \"0001-01-01T00:00:00Z\", "
		    "\"operator\": {\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": "
		    "\"25\"}}",
		    -1,
		    NULL,
		    problems,
		    NULL);
		g_assert_cmpuint(rules->len, ==, 1);
		rule = g_ptr_array_index(rules, 0);
		g_assert_false(vigil_rule_get_enabled(rule));
		g_assert_cmpint(vigil_rule_get_created(rule), >=, before);
	}
}

static void
test_rule_import_array(void)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;
	g_autofree gchar *path = g_build_filename(OPENSNITCH_DIR, "rules-array.json", NULL);
	VigilRule *rule;

	g_file_get_contents(path, &data, NULL, &error);
	g_assert_no_error(error);
	rules = vigil_rule_import_opensnitch(data, -1, "rules-array.json", problems, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rules->len, ==, 2);
	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpstr(vigil_rule_get_exe(rule), ==, "/usr/bin/ssh");
	g_assert_cmpuint(vigil_rule_get_protocol(rule), ==, VIGIL_PROTOCOL_TCP);
	g_assert_cmpuint(vigil_rule_get_port_min(rule), ==, 22);
	g_assert_cmpint(vigil_rule_get_created(rule), ==, 1718014210);
	rule = g_ptr_array_index(rules, 1);
	g_assert_cmpuint(vigil_rule_get_protocol(rule), ==, VIGIL_PROTOCOL_ICMPV6);
	g_assert_false(vigil_rule_get_enabled(rule));
	g_assert_cmpuint(problems->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(problems, 0),
			==,
			"rules-array.json: rule 'allow-once-simple-ping': duration 'once' was for "
			"one connection, which is over");

	/* elements that are no rules */
	g_clear_pointer(&rules, g_ptr_array_unref);
	g_ptr_array_set_size(problems, 0);
	rules = vigil_rule_import_opensnitch("[1, {\"action\": \"allow\"}]",
					     -1,
					     "x.json",
					     problems,
					     &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rules->len, ==, 0);
	g_assert_cmpuint(problems->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, "x.json: rule #1: not a rule object");
	g_assert_cmpstr(g_ptr_array_index(problems, 1), ==, "x.json: rule #2: it has no duration");
}

static void
test_rule_import_garbage(void)
{
	struct {
		const gchar *data;
		const gchar *message;
	} cases[] = {
	    {"not json", "g.json:1: syntax error: "},
	    {"42", "g.json: not OpenSnitch rules: expected a rule object or a list of them"},
	    {"", "g.json: not OpenSnitch rules: expected a rule object or a list of them"},
	    {"{\"version\": 1, \"rules\": []}",
	     "g.json: a Vigil rules document, not OpenSnitch rules"},
	    {"{\"name\": \"caf\xc3\x28\"}", "g.json:1: invalid UTF-8"},
	    {"{\"name\": \"a\\u0000b\"}", "g.json:1: \\u0000 in a string"},
	};
	g_autoptr(GString) deep = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) rules =
		    vigil_rule_import_opensnitch(cases[i].data, -1, "g.json", NULL, &error);
		g_assert_null(rules);
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
		g_test_message("%s", error->message);
		if (i == 0)
			g_assert_true(g_str_has_prefix(error->message, cases[i].message));
		else
			g_assert_cmpstr(error->message, ==, cases[i].message);
	}

	/* json-glib 1.6 would blow its stack on this */
	for (guint i = 0; i < 200000; i++)
		g_string_append_c(deep, '[');
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) rules =
		    vigil_rule_import_opensnitch(deep->str, -1, "g.json", NULL, &error);
		g_assert_null(rules);
		g_assert_cmpstr(error->message, ==, "g.json:1: nested too deeply");
	}

	/* a rule with wrong types is skipped, not a crash */
	{
		g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) rules = vigil_rule_import_opensnitch(
		    "{\"name\": \"t\", \"action\": true, \"operator\": []}",
		    -1,
		    "g.json",
		    problems,
		    NULL);
		g_assert_cmpuint(rules->len, ==, 0);
		g_assert_cmpstr(g_ptr_array_index(problems, 0),
				==,
				"g.json: rule 't': 'action' must be a string");
	}
}

static void
test_rule_import_samples(void)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rules =
	    vigil_rule_import_opensnitch_dir(OPENSNITCH_DIR, problems, &error);
	const gchar *expected[] = {
	    "000-block-domains.json: rule '000-block-domains': cannot map operand 'lists.domains' "
	    "(lists of domains or addresses kept in files; a Vigil rule names one host or "
	    "network)",
	    "allow-always-list-appimage.json: rule 'allow-always-list-appimage': cannot map "
	    "regexp '^\\/tmp\\/\\.mount_Archiv[0-9A-Za-z]{6,7}\\/.*archiver$' on process.path: '[' "
	    "is not a literal character",
	    "allow-always-list-host-and-ip.json: rule 'allow-always-list-host-and-ip': cannot map "
	    "dest.host together with dest.ip (a Vigil rule names a host or an address, not both)",
	    "deny-always-simple-command-wget.json: rule 'deny-always-simple-command-wget': cannot "
	    "map operand 'process.command' (Vigil matches executables, not command lines)",
	    "rules-array.json: rule 'allow-once-simple-ping': duration 'once' was for one "
	    "connection, which is over",
	    "truncated.json:1: syntax error: ",
	};
	guint n_host = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("problem: %s", (const gchar *)problems->pdata[i]);
	g_assert_cmpuint(problems->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_autofree gchar *want = g_build_filename(OPENSNITCH_DIR, expected[i], NULL);
		if (g_str_has_suffix(want, ": "))
			g_assert_true(g_str_has_prefix(g_ptr_array_index(problems, i), want));
		else
			g_assert_cmpstr(g_ptr_array_index(problems, i), ==, want);
	}

	/* firefox 1, system-cmds 2x2x2, network 1, curl 1, tracker 1, 8.8.8.8 1, array 2 */
	g_assert_cmpuint(rules->len, ==, 15);
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree gchar *text = vigil_rule_to_string(rule);
		g_test_message("%s", text);
		if (g_strcmp0(vigil_rule_get_host(rule), "*.tracker.example.net") == 0) {
			g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_DENY);
			n_host++;
		}
		if (g_strcmp0(vigil_rule_get_host(rule), "example.org") == 0) {
			g_assert_cmpstr(vigil_rule_get_exe(rule), ==, "/usr/bin/curl");
			g_assert_cmpuint(vigil_rule_get_user(rule), ==, 1000);
			n_host++;
		}
		if (g_strcmp0(vigil_rule_get_cidr(rule), "8.8.8.8") == 0)
			g_assert_cmpint(vigil_rule_get_lifetime(rule), ==, VIGIL_LIFETIME_REBOOT);
		if (g_strcmp0(vigil_rule_get_cidr(rule), "192.168.1.0/24") == 0)
			g_assert_cmpint(vigil_rule_get_lifetime(rule), ==, VIGIL_LIFETIME_UNTIL);
	}
	g_assert_cmpuint(n_host, ==, 2);

	/* a directory that is not there */
	g_clear_pointer(&rules, g_ptr_array_unref);
	rules = vigil_rule_import_opensnitch_dir("/nonexistent/opensnitch", NULL, &error);
	g_assert_null(rules);
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_rule_import_vigil_roundtrip(void)
{
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) imported = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;
	VigilRule *rule;

	rule = vigil_rule_new();
	vigil_rule_set_id(rule, "r-user");
	vigil_rule_set_action(rule, VIGIL_ACTION_ALLOW);
	vigil_rule_set_exe(rule, "/usr/bin/curl");
	g_assert_true(vigil_rule_set_host(rule, "*.example.org", NULL));
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	vigil_rule_set_port_range(rule, 8000, 8100);
	vigil_rule_set_created(rule, 1600000000);
	vigil_rule_set_last_used(rule, 1700000000);
	vigil_rule_set_hits(rule, 12345);
	vigil_rule_set_note(rule, "a note\nwith two lines");
	g_ptr_array_add(rules, rule);

	rule = vigil_rule_new();
	vigil_rule_set_id(rule, "r-prompt");
	vigil_rule_set_action(rule, VIGIL_ACTION_REJECT);
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_PROMPT);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
	vigil_rule_set_expires(rule, 1900000000);
	g_assert_true(vigil_rule_set_cidr(rule, "fd00::/8", NULL));
	g_ptr_array_add(rules, rule);

	rule = vigil_rule_new();
	vigil_rule_set_id(rule, "r-managed");
	vigil_rule_set_action(rule, VIGIL_ACTION_DENY);
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_MANAGED);
	vigil_rule_set_source(rule, "/etc/vigil/rules.d/10-site.json");
	g_ptr_array_add(rules, rule);

	data = vigil_rule_store_export(rules);
	imported = vigil_rule_import_vigil(data, -1, "export.json", problems, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(imported->len, ==, 3);
	g_assert_true(
	    vigil_rule_equal(g_ptr_array_index(imported, 0), g_ptr_array_index(rules, 0)));
	g_assert_true(
	    vigil_rule_equal(g_ptr_array_index(imported, 1), g_ptr_array_index(rules, 1)));

	/* drop-ins are the administrator's files: an import makes an imported rule */
	rule = g_ptr_array_index(imported, 2);
	g_assert_cmpint(vigil_rule_get_origin(rule), ==, VIGIL_ORIGIN_IMPORTED);
	g_assert_null(vigil_rule_get_source(rule));
	g_assert_false(vigil_rule_is_read_only(rule));
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_MANAGED);
	g_assert_true(vigil_rule_equal(rule, g_ptr_array_index(rules, 2)));

	/* an OpenSnitch file is not our export */
	g_clear_pointer(&imported, g_ptr_array_unref);
	imported = vigil_rule_import_vigil("{\"name\": \"x\"}", -1, "o.json", NULL, &error);
	g_assert_null(imported);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/rules/rule-import/operands", test_rule_import_operands);
	g_test_add_func("/vigil/rules/rule-import/unmappable", test_rule_import_unmappable);
	g_test_add_func("/vigil/rules/rule-import/list", test_rule_import_list);
	g_test_add_func("/vigil/rules/rule-import/regexp", test_rule_import_regexp);
	g_test_add_func("/vigil/rules/rule-import/alternation", test_rule_import_alternation);
	g_test_add_func("/vigil/rules/rule-import/durations", test_rule_import_durations);
	g_test_add_func("/vigil/rules/rule-import/array", test_rule_import_array);
	g_test_add_func("/vigil/rules/rule-import/garbage", test_rule_import_garbage);
	g_test_add_func("/vigil/rules/rule-import/samples", test_rule_import_samples);
	g_test_add_func("/vigil/rules/rule-import/vigil-roundtrip",
			test_rule_import_vigil_roundtrip);
	return g_test_run();
}
