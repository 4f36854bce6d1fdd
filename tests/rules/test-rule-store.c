/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-error.h"
#include "vigil-names.h"
#include "vigil-rule-store.h"

typedef struct {
	gchar *dir;
	gchar *rules_path;
	gchar *dropin_dir;
} Fixture;

#define fixtured_test(path, func)                                                                  \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("vigil-rule-store-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->rules_path = g_build_filename(fixture->dir, "state", VIGIL_RULES_FILE_NAME, NULL);
	fixture->dropin_dir = g_build_filename(fixture->dir, "rules.d", NULL);
}

static void
fixture_remove_tree(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			(void)g_chmod(child, 0700);
			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				fixture_remove_tree(child);
			else
				(void)g_unlink(child);
		}
	}
	(void)g_rmdir(path);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	fixture_remove_tree(fixture->dir);
	g_free(fixture->dir);
	g_free(fixture->rules_path);
	g_free(fixture->dropin_dir);
}

static void
test_write_file(const gchar *path, const gchar *data, gssize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dirname = g_path_get_dirname(path);

	g_assert_cmpint(g_mkdir_with_parents(dirname, 0755), ==, 0);
	g_file_set_contents(path, data, len, &error);
	g_assert_no_error(error);
}

/* not inlined: GCC 12 at -O3 then takes the text for the local that received it through
 * &data, and warns that pointers into it dangle (-Wdangling-pointer, a false positive) */
G_GNUC_NO_INLINE static gchar *
test_read_file(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	gchar *data = NULL;

	g_file_get_contents(path, &data, NULL, &error);
	g_assert_no_error(error);
	return data;
}

static VigilRule *
test_rule_new(const gchar *id, VigilAction action, const gchar *exe, const gchar *host)
{
	VigilRule *rule = vigil_rule_new();

	vigil_rule_set_id(rule, id);
	vigil_rule_set_action(rule, action);
	vigil_rule_set_exe(rule, exe);
	if (host != NULL)
		g_assert_true(vigil_rule_set_host(rule, host, NULL));
	return rule;
}

/* one rule of each kind, every field used somewhere */
static GPtrArray *
test_rules_new_mixed(void)
{
	GPtrArray *rules = g_ptr_array_new_with_free_func(g_object_unref);
	VigilRule *rule;

	rule = test_rule_new("r-0001", VIGIL_ACTION_ALLOW, "/usr/bin/curl", "example.org");
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	vigil_rule_set_port_range(rule, 443, 443);
	vigil_rule_set_direction(rule, VIGIL_DIRECTION_OUT);
	vigil_rule_set_created(rule, 1700000000);
	vigil_rule_set_last_used(rule, 1700000100);
	vigil_rule_set_hits(rule, 42);
	vigil_rule_set_note(rule, "curl to example.org \"quoted\" ünïcode");
	g_ptr_array_add(rules, rule);

	rule = test_rule_new("r-0002", VIGIL_ACTION_DENY, NULL, "*.tracker.example");
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_PROMPT);
	vigil_rule_set_app_id(rule, "org.example.App");
	g_ptr_array_add(rules, rule);

	rule = test_rule_new("r-0003", VIGIL_ACTION_REJECT, NULL, NULL);
	g_assert_true(vigil_rule_set_cidr(rule, "198.18.0.0/15", NULL));
	vigil_rule_set_unit(rule, "backup.service");
	vigil_rule_set_user(rule, 1000);
	vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_UDP);
	vigil_rule_set_port_range(rule, 1000, 2000);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
	vigil_rule_set_expires(rule, 4102444800);
	vigil_rule_set_origin(rule, VIGIL_ORIGIN_IMPORTED);
	g_ptr_array_add(rules, rule);

	rule = test_rule_new("r-0004", VIGIL_ACTION_ALLOW, "/usr/bin/ssh", NULL);
	g_assert_true(vigil_rule_set_cidr(rule, "fd00::/8", NULL));
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_PROCESS);
	vigil_rule_set_process(rule, 4242, 123456789);
	vigil_rule_set_enabled(rule, FALSE);
	g_ptr_array_add(rules, rule);

	rule = test_rule_new("r-0005", VIGIL_ACTION_DENY, NULL, NULL);
	vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_REBOOT);
	vigil_rule_set_boot_id(rule, "0123456789abcdef0123456789abcdef");
	g_assert_true(vigil_rule_set_sha256(rule, NULL, NULL));
	g_ptr_array_add(rules, rule);
	return rules;
}

static VigilRuleSet *
test_set_new_from_rules(GPtrArray *rules)
{
	VigilRuleSet *set = vigil_rule_set_new();

	for (guint i = 0; i < rules->len; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VigilRule) copy = vigil_rule_copy(g_ptr_array_index(rules, i));
		g_assert_true(vigil_rule_set_add(set, copy, &error));
		g_assert_no_error(error);
	}
	return set;
}

/* every rule of @expected is in @set, equal, and nothing else is */
static void
test_assert_set_equals(VigilRuleSet *set, GPtrArray *expected)
{
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, expected->len);
	for (guint i = 0; i < expected->len; i++) {
		VigilRule *want = g_ptr_array_index(expected, i);
		VigilRule *got = vigil_rule_set_get(set, vigil_rule_get_id(want));
		if (got == NULL)
			g_error("rule %s missing", vigil_rule_get_id(want));
		if (!vigil_rule_equal(got, want)) {
			g_autofree gchar *a = vigil_rule_to_string(got);
			g_autofree gchar *b = vigil_rule_to_string(want);
			g_error("rule %s differs:\n got  %s\n want %s",
				vigil_rule_get_id(want),
				a,
				b);
		}
	}
}

static void
test_assert_problems(GPtrArray *problems, const gchar *const *expected)
{
	guint n = g_strv_length((gchar **)expected);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("problem: %s", (const gchar *)g_ptr_array_index(problems, i));
	for (guint i = 0; i < n; i++) {
		gboolean found = FALSE;
		for (guint j = 0; j < problems->len && !found; j++)
			found = g_str_equal(g_ptr_array_index(problems, j), expected[i]);
		if (!found)
			g_error("problem '%s' not reported", expected[i]);
	}
	g_assert_cmpuint(problems->len, ==, n);
}

static GPtrArray *
test_load(Fixture *fixture, VigilRuleStore *store, VigilRuleSet *set)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);

	g_assert_true(vigil_rule_store_load(store, set, problems, &error));
	g_assert_no_error(error);
	return problems;
}

static void
test_rule_store_roundtrip(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = test_rules_new_mixed();
	g_autoptr(VigilRuleSet) set = test_set_new_from_rules(rules);
	g_autoptr(VigilRuleSet) loaded = vigil_rule_set_new();
	g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
	g_autoptr(VigilRule) once = test_rule_new("r-once", VIGIL_ACTION_ALLOW, "/usr/bin/a", NULL);
	g_autoptr(VigilRule) managed =
	    test_rule_new("r-man", VIGIL_ACTION_DENY, "/usr/bin/b", NULL);
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree gchar *data = NULL;
	g_autofree gchar *dirname = g_path_get_dirname(fixture->rules_path);
	const gchar *last = "";
	const gchar *pos;
	struct stat st = {0};

	/* neither a once rule nor a drop-in rule belongs in the file */
	vigil_rule_set_lifetime(once, VIGIL_LIFETIME_ONCE);
	g_assert_true(vigil_rule_set_add(set, once, NULL));
	vigil_rule_set_origin(managed, VIGIL_ORIGIN_MANAGED);
	g_assert_true(vigil_rule_set_add(set, managed, NULL));

	/* the state directory does not exist yet */
	g_assert_true(vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_stat(fixture->rules_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(dirname, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0755);

	/* no temporary file is left behind */
	dir = g_dir_open(dirname, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_dir_read_name(dir), ==, VIGIL_RULES_FILE_NAME);
	g_assert_null(g_dir_read_name(dir));

	/* the format, sorted by id for stable diffs */
	data = test_read_file(fixture->rules_path);
	g_assert_true(
	    g_str_has_prefix(data, "{\n  \"version\" : 1,\n  \"generator\" : \"vigil\",\n"));
	g_assert_true(g_str_has_suffix(data, "}\n"));
	g_assert_null(strstr(data, "r-once"));
	g_assert_null(strstr(data, "r-man"));
	for (pos = strstr(data, "\"id\" : \""); pos != NULL; pos = strstr(pos + 1, "\"id\" : \"")) {
		g_assert_cmpint(strncmp(last, pos, 14), <, 0);
		last = pos;
	}

	problems = test_load(fixture, store, loaded);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_false(vigil_rule_store_is_broken(store));
	test_assert_set_equals(loaded, rules);
}

static void
test_rule_store_missing(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autoptr(VigilRuleStore) store =
	    vigil_rule_store_new(fixture->rules_path, fixture->dropin_dir);
	g_autoptr(GPtrArray) problems = test_load(fixture, store, set);

	/* the first start: neither the file nor the drop-in directory exists */
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, 0);
	g_assert_false(vigil_rule_store_is_broken(store));
	g_assert_cmpstr(vigil_rule_store_get_rules_path(store), ==, fixture->rules_path);
	g_assert_cmpstr(vigil_rule_store_get_dropin_dir(store), ==, fixture->dropin_dir);
}

/* the offset just past the ',' or ']' that follows each rule object */
static GArray *
test_find_rule_ends(const gchar *data)
{
	GArray *ends = g_array_new(FALSE, FALSE, sizeof(gsize));
	gboolean in_string = FALSE;
	gboolean after_rule = FALSE;
	guint depth = 0;

	for (gsize i = 0; data[i] != '\0'; i++) {
		gchar c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (after_rule && (c == ',' || c == ']')) {
			gsize end = i + 1;
			g_array_append_val(ends, end);
			after_rule = FALSE;
		}
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
			if (c == '}' && depth == 2)
				after_rule = TRUE;
		}
	}
	return ends;
}

static void
test_rule_store_truncated(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = test_rules_new_mixed();
	g_autofree gchar *data = vigil_rule_store_export(rules);
	g_autoptr(GArray) ends = test_find_rule_ends(data);
	g_autofree gchar *syntax_prefix = g_strdup_printf("%s:", fixture->rules_path);
	gsize len = strlen(data);

	g_assert_cmpuint(ends->len, ==, rules->len);
	for (gsize cut = 0; cut <= len; cut++) {
		g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = NULL;
		g_autoptr(GPtrArray) got = NULL;
		guint complete = 0;

		test_write_file(fixture->rules_path, data, (gssize)cut);
		problems = test_load(fixture, store, set);
		while (complete < ends->len && g_array_index(ends, gsize, complete) <= cut)
			complete++;

		/* every rule that loaded is exactly the one written */
		got = vigil_rule_set_get_rules(set);
		for (guint i = 0; i < got->len; i++) {
			VigilRule *rule = g_ptr_array_index(got, i);
			gboolean found = FALSE;
			for (guint j = 0; j < rules->len && !found; j++)
				found = vigil_rule_equal(rule, g_ptr_array_index(rules, j));
			g_assert_true(found);
		}

		/* only the final newline is missing: still a whole document */
		if (strspn(data + cut, " \n") == len - cut) {
			g_assert_cmpuint(problems->len, ==, 0);
			g_assert_cmpuint(got->len, ==, rules->len);
			continue;
		}
		/* one problem, naming the file and, past the first bytes, the line */
		for (guint i = 0; i < problems->len; i++)
			g_test_message("cut %zu: %s", cut, (const gchar *)problems->pdata[i]);
		g_assert_cmpuint(problems->len, ==, 1);
		g_assert_true(g_str_has_prefix(g_ptr_array_index(problems, 0), syntax_prefix));
		if (strspn(data, " \n\t") >= cut) {
			g_assert_false(vigil_rule_store_is_broken(store));
			continue;
		}
		g_assert_nonnull(strstr(g_ptr_array_index(problems, 0), ": syntax error: "));
		g_assert_true(g_ascii_isdigit(
		    ((const gchar *)g_ptr_array_index(problems, 0))[strlen(syntax_prefix)]));
		g_assert_true(vigil_rule_store_is_broken(store));

		/* the good rules before the cut load */
		g_assert_cmpuint(got->len, >=, complete);
		g_assert_cmpuint(got->len, <=, MIN(complete + 1, rules->len));
	}
}

/* loads what is on disk now */
static void
test_rule_store_assert_loaded(Fixture *fixture,
			      const gchar *const *good_ids,
			      const gchar *const *expected,
			      gboolean broken)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
	g_autoptr(GPtrArray) problems = test_load(fixture, store, set);

	test_assert_problems(problems, expected);
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, g_strv_length((gchar **)good_ids));
	for (guint i = 0; good_ids[i] != NULL; i++)
		g_assert_nonnull(vigil_rule_set_get(set, good_ids[i]));
	g_assert_true(vigil_rule_store_is_broken(store) == broken);
	g_assert_cmpuint(vigil_rule_store_get_n_errors(store), ==, broken ? problems->len : 0);
}

static void
test_rule_store_assert_file(Fixture *fixture,
			    const gchar *data,
			    const gchar *const *good_ids,
			    const gchar *const *expected,
			    gboolean broken)
{
	test_write_file(fixture->rules_path, data, -1);
	test_rule_store_assert_loaded(fixture, good_ids, expected, broken);
}

static gchar *
test_problem(Fixture *fixture, guint line, const gchar *reason)
{
	if (line == 0)
		return g_strdup_printf("%s: %s", fixture->rules_path, reason);
	return g_strdup_printf("%s:%u: %s", fixture->rules_path, line, reason);
}

static void
test_rule_store_malformed(Fixture *fixture, gconstpointer user_data)
{
	const gchar *good[] = {"r-a", "r-z", NULL};
	g_autoptr(GString) deep = g_string_new(NULL);
	g_autofree gchar *data = NULL;
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	g_autofree gchar *p3 = NULL;
	g_autofree gchar *p4 = NULL;
	g_autofree gchar *p5 = NULL;
	g_autofree gchar *p6 = NULL;
	g_autofree gchar *p7 = NULL;
	g_autofree gchar *p8 = NULL;
	g_autofree gchar *p9 = NULL;
	g_autofree gchar *p10 = NULL;
	g_autofree gchar *p11 = NULL;
	g_autofree gchar *p12 = NULL;

	for (guint i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 100000; i++)
		g_string_append_c(deep, ']');

	/* one bad rule of each kind between good ones; each reported at its line */
	data = g_strdup_printf(
	    "{\n"
	    "  \"version\": 1,\n"
	    "  \"rules\": [\n"
	    "    {\"id\": \"r-a\", \"action\": \"allow\"},\n"			     /* 4 */
	    "    {\"id\": \"r-type\", \"action\": \"allow\", \"hits\": \"many\"},\n" /* 5 */
	    "    {\n"								     /* 6 */
	    "      \"id\": \"r-unknown\",\n"
	    "      \"action\": \"deny\",\n"
	    "      \"colour\": \"red\"\n"
	    "    },\n"
	    "    {\"id\": \"r-inf\", \"action\": \"allow\", \"hits\": 1e400},\n" /* 11 */
	    "    {\"id\": \"r-big\", \"action\": \"allow\",\n"			 /* 12 */
	    "     \"hits\": 99999999999999999999},\n"				 /* 13 */
	    "    {\"id\": \"r-neg\", \"action\": \"allow\", \"user\": -99999999999999999999},\n"
	    "    {\"id\": \"r-utf8\", \"action\": \"allow\", \"note\": \"caf\xc3\x28\"},\n" /* 15 */
	    "    {\"id\": \"r-deep\", \"action\": \"allow\", \"note\": %s},\n"		    /* 16 */
	    "    \"r-string\",\n"							    /* 17 */
	    "    {\"id\": \"r-a\", \"action\": \"deny\"},\n"				    /* 18 */
	    "    {\"id\": \"r-nul\", \"action\": \"allow\", \"exe\": \"/bin/a\\u0000b\"},\n"
	    "    {\"id\": \"r-man\", \"action\": \"allow\", \"origin\": \"managed\"},\n" /* 20 */
	    "    [1, 2],\n"								 /* 21 */
	    "    {\"id\": \"r-z\", \"action\": \"deny\"}\n"				 /* 22 */
	    "  ]\n"
	    "}\n",
	    deep->str);
	p1 = test_problem(fixture, 5, "key 'hits': expected an integer");
	p2 = test_problem(fixture, 6, "unknown key 'colour'");
	p3 = test_problem(fixture, 11, "number out of range");
	p4 = test_problem(fixture, 13, "number out of range");
	p5 = test_problem(fixture, 14, "number out of range");
	p6 = test_problem(fixture, 15, "invalid UTF-8");
	p7 = test_problem(fixture, 16, "nested too deeply");
	p8 = test_problem(fixture, 17, "a rule must be an object, not a string");
	p9 = test_problem(fixture, 18, "duplicate rule id 'r-a' (the first one is kept)");
	p10 = test_problem(fixture, 19, "\\u0000 in a string");
	p11 = test_problem(fixture,
			   20,
			   "rule 'r-man' has origin 'managed', which only drop-ins have");
	p12 = test_problem(fixture, 21, "a rule must be an object, not an array");
	{
		const gchar *expected[] = {p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, NULL};
		test_rule_store_assert_file(fixture, data, good, expected, TRUE);
	}
}

static void
test_rule_store_bad_documents(Fixture *fixture, gconstpointer user_data)
{
	const gchar *none[] = {NULL};
	const gchar *good[] = {"r-a", NULL};
	struct {
		const gchar *data;
		guint line;
		const gchar *reason;
		gboolean broken;
	} cases[] = {
	    {"", 0, "the file is empty", FALSE},
	    {" \n\t\n", 0, "the file is empty", FALSE},
	    {"{\"version\": 7, \"rules\": [{\"id\": \"r-a\", \"action\": \"allow\"}]}",
	     0,
	     "schema version 7 is newer than this vigild understands (1)",
	     TRUE},
	    {"{\"rules\": [{\"id\": \"r-a\", \"action\": \"allow\"}], \"version\": 7}",
	     0,
	     "schema version 7 is newer than this vigild understands (1)",
	     TRUE},
	    {"{\"version\": 0, \"rules\": []}", 0, "invalid schema version 0", TRUE},
	    {"{\"version\": \"1\", \"rules\": []}",
	     0,
	     "\"version\" must be a whole number, not a string",
	     TRUE},
	    {"{\"rules\": []}", 0, "no \"version\": not a Vigil rules document", TRUE},
	    {"{\"version\": 1}", 0, "no \"rules\" array", TRUE},
	    {"{\"version\": 1, \"rules\": {}}", 0, "\"rules\" must be an array", TRUE},
	    {"[{\"id\": \"r-a\", \"action\": \"allow\"}]",
	     1,
	     "not a Vigil rules document: expected an object with \"version\" and \"rules\", "
	     "found an array",
	     TRUE},
	    {"\"rules\"",
	     1,
	     "not a Vigil rules document: expected an object with \"version\" and \"rules\", "
	     "found a string",
	     TRUE},
	    {"{\n\"version\": 1,\n\"rules\": [\n}\n",
	     4,
	     "syntax error: unexpected '}', expected a value",
	     TRUE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *problem = test_problem(fixture, cases[i].line, cases[i].reason);
		const gchar *expected[] = {problem, NULL};
		g_test_message("case %u", i);
		test_rule_store_assert_file(fixture,
					    cases[i].data,
					    none,
					    expected,
					    cases[i].broken);
	}

	/* a bad byte outside of any string is a syntax error */
	{
		g_autofree gchar *problem =
		    test_problem(fixture,
				 2,
				 "syntax error: unexpected byte 0xff, expected a value");
		const gchar *expected[] = {problem, NULL};
		test_rule_store_assert_file(fixture,
					    "{\"version\": 1,\n\"rules\": [\xff]}\n",
					    none,
					    expected,
					    TRUE);
	}

	/* JSON that json-glib 1.6 takes but RFC 8259 does not */
	{
		struct {
			const gchar *data;
			const gchar *reason;
		} strict[] = {
		    {"{\"version\": 1, \"rules\": [],}",
		     "unexpected '}', expected a member name in quotes"},
		    {"{\"version\": 1, \"rules\": [{\"hits\": 01}]}",
		     "unexpected '1', expected ',' or '}'"},
		    {"{\"version\": 1, \"rules\": [] /* c */}",
		     "unexpected '/', expected ',' or '}'"},
		    {"{\"version\": 1, \"rules\": []} []",
		     "unexpected '[', expected nothing after the end of the document"},
		    {"{\"version\": 1, \"rules\": [{\"note\": \"\\x\"}]}",
		     "invalid escape in a string"},
		    {"{\"version\": 1, \"rules\": [{\"note\": \"\\u12\"}]}", "invalid \\u escape"},
		    {"{\"version\": 1, \"rules\": [1.]}", "unexpected ']', expected a digit"},
		    {"{\"version\": 1, \"rules\": [tru]}", "unexpected 't', expected a value"},
		    {"{\"version\": 1, \"rules\": [{\"id\" \"r\"}]}",
		     "unexpected '\"', expected ':'"},
		};
		for (guint i = 0; i < G_N_ELEMENTS(strict); i++) {
			g_autofree gchar *reason =
			    g_strdup_printf("syntax error: %s", strict[i].reason);
			g_autofree gchar *problem = test_problem(fixture, 1, reason);
			const gchar *expected[] = {problem, NULL};
			test_rule_store_assert_file(fixture, strict[i].data, none, expected, TRUE);
		}
	}

	/* "version" after "rules" is fine; unknown top-level keys are reported, not fatal */
	{
		g_autofree gchar *p1 = test_problem(fixture, 3, "unknown key 'extra' ignored");
		g_autofree gchar *p2 = test_problem(fixture, 4, "\"generator\" must be a string");
		const gchar *expected[] = {p1, p2, NULL};
		test_rule_store_assert_file(
		    fixture,
		    "{\"rules\": [{\"id\": \"r-a\", \"action\": \"allow\"}],\n"
		    " \"version\": 1,\n"
		    " \"extra\": [1, 2, 3],\n"
		    " \"generator\": 5}\n",
		    good,
		    expected,
		    TRUE);
	}
}

static void
test_rule_store_unreadable(Fixture *fixture, gconstpointer user_data)
{
	const gchar *none[] = {NULL};

	/* a directory where the file should be */
	g_assert_cmpint(g_mkdir_with_parents(fixture->rules_path, 0755), ==, 0);
	{
		g_autofree gchar *problem = test_problem(fixture, 0, "cannot read: Is a directory");
		const gchar *expected[] = {problem, NULL};
		test_rule_store_assert_loaded(fixture, none, expected, TRUE);
	}
	g_assert_cmpint(g_rmdir(fixture->rules_path), ==, 0);

	/* root reads anything, so use a symlink loop there */
	if (geteuid() == 0) {
		g_autofree gchar *problem =
		    test_problem(fixture, 0, "cannot read: Too many levels of symbolic links");
		const gchar *expected[] = {problem, NULL};
		g_assert_cmpint(symlink(fixture->rules_path, fixture->rules_path), ==, 0);
		test_rule_store_assert_loaded(fixture, none, expected, TRUE);
	} else {
		g_autofree gchar *problem =
		    test_problem(fixture, 0, "cannot read: Permission denied");
		const gchar *expected[] = {problem, NULL};
		test_write_file(fixture->rules_path, "{\"version\": 1, \"rules\": []}", -1);
		g_assert_cmpint(g_chmod(fixture->rules_path, 0), ==, 0);
		test_rule_store_assert_loaded(fixture, none, expected, TRUE);
	}
}

static void
test_assert_problem_prefixes(GPtrArray *problems, const gchar *const *prefixes)
{
	for (guint i = 0; i < problems->len; i++)
		g_test_message("problem: %s", (const gchar *)g_ptr_array_index(problems, i));
	g_assert_cmpuint(problems->len, ==, g_strv_length((gchar **)prefixes));
	for (guint i = 0; prefixes[i] != NULL; i++) {
		if (!g_str_has_prefix(g_ptr_array_index(problems, i), prefixes[i]))
			g_error("problem '%s' does not start with '%s'",
				(const gchar *)g_ptr_array_index(problems, i),
				prefixes[i]);
	}
}

static void
test_rule_store_lines(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
	g_autoptr(GPtrArray) problems = NULL;
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	g_autofree gchar *p3 = NULL;
	g_autofree gchar *p4 = NULL;
	g_autofree gchar *p5 = NULL;

	/* rules sharing lines, spanning lines, a comma on a line of its own */
	test_write_file(
	    fixture->rules_path,
	    "{\n"
	    "  \"version\": 1,\n"
	    "\n"
	    "  \"rules\": [ {\"id\": \"r-1\", \"action\": \"allow\"}, {\"id\": \"r-2\",\n"
	    "     \"action\": \"bogus\"},\n"
	    "\n"
	    "    {\n"
	    "      \"id\": \"r-3\",\n"
	    "      \"action\": \"allow\",\n"
	    "      \"port\": \"x\"\n"
	    "    }\n"
	    "    ,\n"
	    "    {\"id\": \"r-4\", \"action\": \"allow\"}, {\"id\": \"r-5\", \"hits\": -1},\n"
	    "    null,\n"
	    "    true\n"
	    "  ]\n"
	    "}\n",
	    -1);
	problems = test_load(fixture, store, set);
	p1 = test_problem(fixture, 4, "key 'action': ");
	p2 = test_problem(fixture, 7, "key 'port': ");
	p3 = test_problem(fixture, 13, "key 'hits': value out of range");
	p4 = test_problem(fixture, 14, "a rule must be an object, not null");
	p5 = test_problem(fixture, 15, "a rule must be an object, not a boolean");
	{
		const gchar *prefixes[] = {p1, p2, p3, p4, p5, NULL};
		test_assert_problem_prefixes(problems, prefixes);
	}
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, 2);
	g_assert_nonnull(vigil_rule_set_get(set, "r-1"));
	g_assert_nonnull(vigil_rule_set_get(set, "r-4"));
}

static void
test_rule_store_broken_save(Fixture *fixture, gconstpointer user_data)
{
	const gchar *broken_files[] = {
	    "{\"version\": 1, \"rules\": [\n"
	    "  {\"id\": \"r-a\", \"action\": \"allow\"},\n"
	    "  {\"id\": \"r-b\", \"action\": \"allow\", \"colour\": \"red\"},\n"
	    "  {\"id\": \"r-c\", \"action\": \"maybe\"}\n"
	    "]}\n",
	    "{\"version\": 1, \"rules\": [\n"
	    "  {\"id\": \"r-a\", \"action\": \"allow\"},\n"
	    "  {\"id\": \"r-b\", \"act",
	};
	const gchar *messages[] = {
	    "rules.json had 2 errors when loaded; saving would drop those rules: fix the file or "
	    "save with force",
	    "rules.json had 1 error when loaded; saving would drop those rules: fix the file or "
	    "save with force",
	};

	for (guint i = 0; i < G_N_ELEMENTS(broken_files); i++) {
		g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
		g_autoptr(VigilRuleSet) reloaded = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(VigilRule) rule = test_rule_new("r-new", VIGIL_ACTION_DENY, NULL, NULL);
		g_autoptr(GPtrArray) problems = NULL;
		g_autoptr(GPtrArray) problems2 = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GDir) dir = NULL;
		g_autofree gchar *dirname = g_path_get_dirname(fixture->rules_path);
		g_autofree gchar *data = NULL;
		g_autofree gchar *kept = NULL;
		const gchar *name;

		test_write_file(fixture->rules_path, broken_files[i], -1);
		problems = test_load(fixture, store, set);
		g_assert_true(vigil_rule_store_is_broken(store));
		g_assert_nonnull(vigil_rule_set_get(set, "r-a"));
		g_assert_true(vigil_rule_set_add(set, rule, NULL));

		/* not without the user's say */
		g_assert_false(
		    vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error));
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_BROKEN_FILE);
		g_assert_cmpstr(error->message, ==, messages[i]);
		g_clear_error(&error);
		data = test_read_file(fixture->rules_path);
		g_assert_cmpstr(data, ==, broken_files[i]);

		/* forced: the old file is kept next to the new one */
		g_assert_true(
		    vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_FORCE, &error));
		g_assert_no_error(error);
		g_assert_false(vigil_rule_store_is_broken(store));
		dir = g_dir_open(dirname, 0, &error);
		g_assert_no_error(error);
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_prefix(name, "rules.json.broken-")) {
				g_assert_null(kept);
				kept = g_build_filename(dirname, name, NULL);
			}
		}
		g_assert_nonnull(kept);
		g_free(data);
		data = test_read_file(kept);
		g_assert_cmpstr(data, ==, broken_files[i]);
		g_assert_cmpint(g_unlink(kept), ==, 0);

		problems2 = test_load(fixture, store, reloaded);
		g_assert_cmpuint(problems2->len, ==, 0);
		g_assert_cmpuint(vigil_rule_set_get_size(reloaded), ==, 2);
		g_assert_nonnull(vigil_rule_set_get(reloaded, "r-new"));
		g_assert_true(
		    vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error));
		g_assert_no_error(error);
	}
}

static GPtrArray *
test_rules_new_numbered(guint n, const gchar *variant)
{
	GPtrArray *rules = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < n; i++) {
		g_autofree gchar *id = g_strdup_printf("r-%s-%05u", variant, i);
		g_autofree gchar *exe = g_strdup_printf("/usr/bin/app%u", i);
		g_autofree gchar *note = g_strdup_printf("rule %u of set %s", i, variant);
		VigilRule *rule = test_rule_new(id, VIGIL_ACTION_ALLOW, exe, "example.org");
		vigil_rule_set_note(rule, note);
		vigil_rule_set_hits(rule, i);
		g_ptr_array_add(rules, rule);
	}
	return rules;
}

static gboolean
test_set_matches(VigilRuleSet *set, GPtrArray *rules)
{
	if (vigil_rule_set_get_size(set) != rules->len)
		return FALSE;
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *want = g_ptr_array_index(rules, i);
		VigilRule *got = vigil_rule_set_get(set, vigil_rule_get_id(want));
		if (got == NULL || !vigil_rule_equal(got, want))
			return FALSE;
	}
	return TRUE;
}

static void
test_save_or_die(const gchar *path, VigilRuleSet *set)
{
	g_autoptr(VigilRuleStore) store = vigil_rule_store_new(path, NULL);
	g_autoptr(GError) error = NULL;

	if (!vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error)) {
		g_printerr("save failed: %s\n", error->message);
		_exit(3);
	}
}

static void
test_rule_store_crash(Fixture *fixture, gconstpointer user_data)
{
	const gchar *steps[] = {"write", "fsync", "rename", "dirsync"};
	g_autoptr(GPtrArray) old_rules = test_rules_new_numbered(300, "old");
	g_autoptr(GPtrArray) new_rules = test_rules_new_numbered(500, "new");
	g_autoptr(VigilRuleSet) old_set = test_set_new_from_rules(old_rules);
	g_autoptr(VigilRuleSet) new_set = test_set_new_from_rules(new_rules);

	for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
		g_autoptr(VigilRuleSet) loaded = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = NULL;
		gint status = 0;
		pid_t pid;

		test_save_or_die(fixture->rules_path, old_set);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			g_setenv("VIGIL_TEST_SAVE_CRASH_AT", steps[i], TRUE);
			test_save_or_die(fixture->rules_path, new_set);
			_exit(0);
		}
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 1);

		/* old before the rename, new after it, never a mix */
		problems = test_load(fixture, store, loaded);
		g_assert_cmpuint(problems->len, ==, 0);
		if (g_str_equal(steps[i], "dirsync"))
			g_assert_true(test_set_matches(loaded, new_rules));
		else
			g_assert_true(test_set_matches(loaded, old_rules));
	}
}

static void
test_rule_store_kill_stress(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules_a = test_rules_new_numbered(2000, "a");
	g_autoptr(GPtrArray) rules_b = test_rules_new_numbered(3000, "b");
	g_autoptr(GPtrArray) rules_c = test_rules_new_numbered(10, "c");
	g_autoptr(VigilRuleSet) set_a = test_set_new_from_rules(rules_a);
	g_autoptr(VigilRuleSet) set_b = test_set_new_from_rules(rules_b);
	g_autoptr(VigilRuleSet) set_c = test_set_new_from_rules(rules_c);
	guint seen[3] = {0};

	test_save_or_die(fixture->rules_path, set_c);
	for (guint i = 0; i < 30; i++) {
		g_autoptr(VigilRuleSet) loaded = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = NULL;
		gint status = 0;
		pid_t pid = fork();

		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			for (;;) {
				test_save_or_die(fixture->rules_path, set_a);
				test_save_or_die(fixture->rules_path, set_b);
			}
		}
		g_usleep(g_test_rand_int_range(1000, 60000));
		g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_assert_true(WIFSIGNALED(status));

		problems = test_load(fixture, store, loaded);
		g_assert_cmpuint(problems->len, ==, 0);
		if (test_set_matches(loaded, rules_a))
			seen[0]++;
		else if (test_set_matches(loaded, rules_b))
			seen[1]++;
		else if (test_set_matches(loaded, rules_c))
			seen[2]++;
		else
			g_assert_not_reached();
	}
	g_test_message("killed 30 times: a %u, b %u, before the first save %u",
		       seen[0],
		       seen[1],
		       seen[2]);
}

static void
test_rule_store_dropins(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autoptr(VigilRuleStore) store =
	    vigil_rule_store_new(fixture->rules_path, fixture->dropin_dir);
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *first = g_build_filename(fixture->dropin_dir, "10-first.json", NULL);
	g_autofree gchar *second = g_build_filename(fixture->dropin_dir, "20-second.json", NULL);
	g_autofree gchar *broken = g_build_filename(fixture->dropin_dir, "30-broken.json", NULL);
	g_autofree gchar *dir = g_build_filename(fixture->dropin_dir, "40-dir.json", NULL);
	g_autofree gchar *ignored = g_build_filename(fixture->dropin_dir, "README", NULL);
	g_autofree gchar *hidden = g_build_filename(fixture->dropin_dir, ".hidden.json", NULL);
	g_autofree gchar *first_data = NULL;
	g_autofree gchar *saved = NULL;
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	g_autofree gchar *p3 = NULL;
	VigilRule *rule;

	test_write_file(fixture->rules_path,
			"{\"version\": 1, \"rules\": [\n"
			"  {\"id\": \"r-user\", \"action\": \"allow\", \"exe\": \"/usr/bin/a\"},\n"
			"  {\"id\": \"r-shared\", \"action\": \"allow\", \"exe\": \"/usr/bin/b\"}\n"
			"]}\n",
			-1);
	first_data = g_strdup("{\"version\": 1, \"rules\": [\n"
			      "  {\"id\": \"m-1\", \"action\": \"deny\", \"origin\": \"user\"},\n"
			      "  {\"id\": \"r-shared\", \"action\": \"deny\"}\n"
			      "]}\n");
	test_write_file(first, first_data, -1);
	test_write_file(
	    second,
	    "{\"version\": 1, \"rules\": [{\"id\": \"m-1\", \"action\": \"allow\"},\n"
	    "  {\"id\": \"m-2\", \"action\": \"reject\", \"host\": \"*.example.com\"},\n"
	    "  {\"action\": \"deny\", \"unit\": \"x.service\"}]}",
	    -1);
	test_write_file(broken, "{\"version\": 1, \"rules\": [", -1);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	test_write_file(ignored, "not json", -1);
	test_write_file(hidden, "not json", -1);

	problems = test_load(fixture, store, set);
	p1 = g_strdup_printf("%s:3: duplicate rule id 'r-shared' (the first one is kept)", first);
	p2 = g_strdup_printf("%s:1: duplicate rule id 'm-1' (the first one is kept)", second);
	p3 = g_strdup_printf("%s: cannot read: Is a directory", dir);
	{
		g_autofree gchar *syntax = g_strdup_printf("%s:1: syntax error: ", broken);
		const gchar *prefixes[] = {p1, p2, syntax, p3, NULL};
		test_assert_problem_prefixes(problems, prefixes);
	}

	/* problems in drop-ins do not make the rules file broken */
	g_assert_false(vigil_rule_store_is_broken(store));
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, 5);
	rule = vigil_rule_set_get(set, "20-second:3");
	g_assert_nonnull(rule);
	g_assert_cmpstr(vigil_rule_get_unit(rule), ==, "x.service");
	rule = vigil_rule_set_get(set, "m-1");
	g_assert_nonnull(rule);
	g_assert_cmpint(vigil_rule_get_origin(rule), ==, VIGIL_ORIGIN_MANAGED);
	g_assert_cmpint(vigil_rule_get_action(rule), ==, VIGIL_ACTION_DENY);
	g_assert_cmpstr(vigil_rule_get_source(rule), ==, first);
	g_assert_true(vigil_rule_is_read_only(rule));
	rule = vigil_rule_set_get(set, "m-2");
	g_assert_cmpstr(vigil_rule_get_source(rule), ==, second);
	g_assert_true(vigil_rule_is_read_only(rule));
	rule = vigil_rule_set_get(set, "r-shared");
	g_assert_cmpint(vigil_rule_get_origin(rule), ==, VIGIL_ORIGIN_USER);
	g_assert_false(vigil_rule_is_read_only(rule));

	/* the store never writes drop-ins, nor writes their rules into the rules file */
	g_assert_true(vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error));
	g_assert_no_error(error);
	saved = test_read_file(fixture->rules_path);
	g_assert_null(strstr(saved, "m-1"));
	g_assert_null(strstr(saved, "m-2"));
	g_assert_nonnull(strstr(saved, "r-user"));
	g_assert_nonnull(strstr(saved, "r-shared"));
	{
		g_autofree gchar *again = test_read_file(first);
		g_assert_cmpstr(again, ==, first_data);
	}
}

static void
test_rule_store_export_import(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = test_rules_new_mixed();
	g_autoptr(GPtrArray) parsed = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;
	VigilRule *managed = test_rule_new("r-managed", VIGIL_ACTION_DENY, "/usr/bin/x", NULL);

	vigil_rule_set_origin(managed, VIGIL_ORIGIN_MANAGED);
	vigil_rule_set_created(managed, 1);
	g_ptr_array_add(rules, managed);

	data = vigil_rule_store_export(rules);
	g_assert_nonnull(strstr(data, "\"generator\" : \"vigil\""));
	parsed = vigil_rule_store_parse(data, -1, "export.json", problems, &error);
	g_assert_no_error(error);
	g_assert_nonnull(parsed);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(parsed->len, ==, rules->len);
	for (guint i = 0; i < rules->len; i++)
		g_assert_true(
		    vigil_rule_equal(g_ptr_array_index(parsed, i), g_ptr_array_index(rules, i)));

	/* duplicates in a document: the first wins */
	g_clear_pointer(&parsed, g_ptr_array_unref);
	parsed = vigil_rule_store_parse("{\"version\": 1, \"rules\": [\n"
					"{\"id\": \"r-1\", \"action\": \"allow\"},\n"
					"{\"id\": \"r-1\", \"action\": \"deny\"}]}",
					-1,
					"dup.json",
					problems,
					&error);
	g_assert_no_error(error);
	g_assert_cmpuint(parsed->len, ==, 1);
	g_assert_cmpint(vigil_rule_get_action(g_ptr_array_index(parsed, 0)),
			==,
			VIGIL_ACTION_ALLOW);
	g_assert_cmpuint(problems->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(problems, 0),
			==,
			"dup.json:3: duplicate rule id 'r-1' (the first one is kept)");

	/* not a document at all */
	g_clear_pointer(&parsed, g_ptr_array_unref);
	parsed = vigil_rule_store_parse("garbage", -1, NULL, NULL, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
	g_assert_null(parsed);
	g_assert_true(g_str_has_prefix(error->message, "<data>:1: syntax error: "));
}

/* the line on which the rule object holding @mark starts, in the export format */
static guint
test_rule_line(const gchar *data, const gchar *mark)
{
	const gchar *pos = strstr(data, mark);
	guint line = 1;

	g_assert_nonnull(pos);
	while (pos > data && !g_str_has_prefix(pos, "\n    {\n"))
		pos--;
	for (const gchar *p = data; p <= pos; p++) {
		if (*p == '\n')
			line++;
	}
	return line;
}

static void
test_rule_store_large(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = test_rules_new_numbered(8000, "big");
	g_autoptr(GString) data = NULL;
	g_autofree gchar *exported = NULL;
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	g_autofree gchar *p3 = NULL;

	/* large files are parsed in two halves at once: lines stay right across the cut */
	vigil_rule_set_note(g_ptr_array_index(rules, 10), "MARK-A");
	vigil_rule_set_note(g_ptr_array_index(rules, 4100), "MARK-B");
	vigil_rule_set_note(g_ptr_array_index(rules, 7990), "MARK-C");
	exported = vigil_rule_store_export(rules);
	g_assert_cmpuint(strlen(exported), >, 1024 * 1024);
	data = g_string_new(exported);
	p1 = test_problem(fixture,
			  test_rule_line(data->str, "MARK-A"),
			  "key 'note': expected a string");
	p2 = test_problem(fixture, test_rule_line(data->str, "MARK-B"), "unknown key 'x'");
	p3 = test_problem(fixture,
			  test_rule_line(data->str, "MARK-C"),
			  "key 'user': value out of range");
	g_string_replace(data, "\"note\" : \"MARK-A\"", "\"note\" : 5", 1);
	g_string_replace(data, "\"note\" : \"MARK-B\"", "\"x\" : 5", 1);
	g_string_replace(data, "\"note\" : \"MARK-C\"", "\"user\" : -5", 1);
	test_write_file(fixture->rules_path, data->str, -1);
	{
		g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = test_load(fixture, store, set);
		const gchar *expected[] = {p1, p2, p3, NULL};
		test_assert_problems(problems, expected);
		g_assert_cmpuint(vigil_rule_set_get_size(set), ==, rules->len - 3);
		for (guint i = 0; i < rules->len; i++) {
			VigilRule *want = g_ptr_array_index(rules, i);
			VigilRule *got = vigil_rule_set_get(set, vigil_rule_get_id(want));
			if (i == 10 || i == 4100 || i == 7990)
				g_assert_null(got);
			else
				g_assert_true(got != NULL && vigil_rule_equal(got, want));
		}
	}

	/* cut in the second half: the halves fail, the whole file is read as one */
	g_string_truncate(data, data->len * 3 / 4);
	test_write_file(fixture->rules_path, data->str, -1);
	{
		g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = test_load(fixture, store, set);
		g_assert_cmpuint(problems->len, ==, 3);
		g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, p1);
		g_assert_cmpstr(g_ptr_array_index(problems, 1), ==, p2);
		g_assert_true(
		    g_str_has_prefix(g_ptr_array_index(problems, 2), fixture->rules_path));
		g_assert_nonnull(strstr(g_ptr_array_index(problems, 2), ": syntax error: "));
		g_assert_cmpuint(vigil_rule_set_get_size(set), >, 5000);
		g_assert_cmpuint(vigil_rule_set_get_size(set), <, 6100);
		g_assert_true(vigil_rule_store_is_broken(store));
	}
}

static void
test_rule_store_strings(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *expected[] = {
	    "\"\\/\b\f\n\r\t",
	    "caf\xc3\xa9 \xc3\xa9",
	    "\xf0\x9f\x98\x80",
	};

	/* escapes, raw UTF-8 and surrogate pairs; CRLF line ends count as one line */
	rules = vigil_rule_store_parse(
	    "{\"version\": 1, \"rules\": [\r\n"
	    "{\"id\": \"r-1\", \"action\": \"allow\", \"note\": "
	    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"},\r\n"
	    "{\"id\": \"r-2\", \"action\": \"allow\", \"note\": \"caf\xc3\xa9 \\u00e9\"},\r\n"
	    "{\"id\": \"r-3\", \"action\": \"allow\", \"note\": \"\\ud83d\\ude00\"},\r\n"
	    "{\"id\": \"r-4\", \"action\": \"allow\", \"note\": \"\\ud83d x\"},\r\n"
	    "{\"id\": \"r-5\", \"action\": \"allow\", \"note\": \"\\ude00\"},\r\n"
	    "{\"id\": \"r-6\", \"action\": \"allow\", \"note\": \"tab\there\"},\r\n"
	    "{\"id\": \"r-7\", \"action\": \"allow\", \"id\": \"r-8\"}\r\n"
	    "]}",
	    -1,
	    "s.json",
	    problems,
	    &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rules->len, ==, 3);
	for (guint i = 0; i < rules->len; i++)
		g_assert_cmpstr(vigil_rule_get_note(g_ptr_array_index(rules, i)), ==, expected[i]);
	g_assert_cmpuint(problems->len, ==, 4);
	g_assert_cmpstr(g_ptr_array_index(problems, 0),
			==,
			"s.json:5: unpaired surrogate in a \\u escape");
	g_assert_cmpstr(g_ptr_array_index(problems, 1),
			==,
			"s.json:6: unpaired surrogate in a \\u escape");
	g_assert_cmpstr(g_ptr_array_index(problems, 2),
			==,
			"s.json:7: control character in a string");
	g_assert_cmpstr(g_ptr_array_index(problems, 3), ==, "s.json:8: duplicate key 'id'");

	/* and what we write, we read back */
	{
		g_autoptr(GPtrArray) again = NULL;
		g_autofree gchar *exported = vigil_rule_store_export(rules);
		again = vigil_rule_store_parse(exported, -1, NULL, NULL, &error);
		g_assert_no_error(error);
		for (guint i = 0; i < rules->len; i++)
			g_assert_true(vigil_rule_equal(g_ptr_array_index(again, i),
						       g_ptr_array_index(rules, i)));
	}
}

/* every control character a note or a path may hold is written as an escape, so that the
 * saved file loads again (json-glib writes some as they are); found by fuzz-rules */
static void
test_rule_store_control_chars(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *exported = NULL;
	g_autoptr(GString) all = g_string_new(NULL);

	for (guint c = 1; c < 0x20; c++)
		g_string_append_c(all, (gchar)c);
	g_string_append(all, "\"\\\x7f\xc2\x85");
	for (guint i = 0; i < 2; i++) {
		VigilRule *rule = vigil_rule_new();
		g_autofree gchar *id = g_strdup_printf("r-%u", i);
		g_autofree gchar *exe = g_strdup_printf("/tmp/%s", all->str);
		vigil_rule_set_id(rule, id);
		vigil_rule_set_action(rule, VIGIL_ACTION_DENY);
		if (i == 0)
			vigil_rule_set_note(rule, all->str);
		else
			vigil_rule_set_exe(rule, exe);
		g_assert_true(vigil_rule_validate(rule, NULL));
		g_ptr_array_add(rules, rule);
	}
	exported = vigil_rule_store_export(rules);
	for (const gchar *p = exported; *p != '\0'; p++)
		g_assert_true((guchar)*p >= 0x20 || *p == '\n');
	again = vigil_rule_store_parse(exported, -1, "c.json", problems, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(again->len, ==, 2);
	for (guint i = 0; i < again->len; i++)
		g_assert_true(
		    vigil_rule_equal(g_ptr_array_index(again, i), g_ptr_array_index(rules, i)));

	/* a document's unknown key is quoted in its message with escapes (its control
	 * characters are already dropped as flaws), so a message stays valid UTF-8 */
	g_clear_pointer(&again, g_ptr_array_unref);
	again = vigil_rule_store_parse("{\"version\": 1, \"gen\x8b\x1b[31m\": 1, \"rules\": []}",
				       -1,
				       "c.json",
				       problems,
				       &error);
	g_assert_no_error(error);
	g_assert_cmpuint(problems->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(problems, 0),
			==,
			"c.json:1: unknown key 'gen\\213[31m' ignored");
}

/* random damage to a good file: never a crash, every problem names the file, every rule
 * that loads is valid */
static void
test_rule_store_fuzz(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) rules = test_rules_new_mixed();
	g_autofree gchar *good = vigil_rule_store_export(rules);
	g_autofree gchar *prefix = g_strdup_printf("%s:", fixture->rules_path);
	const gchar junk[] = "{}[]\",:\\ \n0-9eE.tfnu\xff\xc3";
	gsize len = strlen(good);

	for (guint i = 0; i < 3000; i++) {
		g_autoptr(GString) data = g_string_new_len(good, (gssize)len);
		g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) store = vigil_rule_store_new(fixture->rules_path, NULL);
		g_autoptr(GPtrArray) problems = NULL;
		g_autoptr(GPtrArray) got = NULL;
		guint n_changes = (guint)g_test_rand_int_range(1, 5);

		for (guint j = 0; j < n_changes; j++) {
			gsize pos = (gsize)g_test_rand_int_range(0, (gint32)data->len);
			gchar c = junk[g_test_rand_int_range(0, sizeof(junk) - 1)];
			switch (g_test_rand_int_range(0, 3)) {
			case 0:
				data->str[pos] = c;
				break;
			case 1:
				g_string_insert_c(data, (gssize)pos, c);
				break;
			default:
				g_string_erase(data, (gssize)pos, 1);
				break;
			}
		}
		test_write_file(fixture->rules_path, data->str, (gssize)data->len);
		problems = test_load(fixture, store, set);
		for (guint j = 0; j < problems->len; j++)
			g_assert_true(g_str_has_prefix(g_ptr_array_index(problems, j), prefix));
		got = vigil_rule_set_get_rules(set);
		for (guint j = 0; j < got->len; j++)
			g_assert_true(vigil_rule_validate(g_ptr_array_index(got, j), NULL));
	}
}

static void
test_rule_store_sanitize(Fixture *fixture, gconstpointer user_data)
{
	const gchar *clean = "{\"a\": [1, -2, 3.5e10, \"x\\\"y\\\\\"], \"b\": \"caf\xc3\xa9\"}";
	g_autoptr(GArray) flaws = g_array_new(FALSE, FALSE, sizeof(VigilJsonFlaw));
	g_autoptr(GString) dirty = g_string_new("{\"a\": \"\xff\",\n\"b\": 1e999,\n\"c\": ");
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *fixed = NULL;
	gchar *clean_fixed;

	clean_fixed = vigil_rule_store_sanitize_json(clean, strlen(clean), flaws);
	g_assert_null(clean_fixed);
	g_assert_cmpuint(flaws->len, ==, 0);

	for (guint i = 0; i < 70; i++)
		g_string_append(dirty, "[\n");
	for (guint i = 0; i < 70; i++)
		g_string_append_c(dirty, ']');
	g_string_append(dirty, ",\n\"d\": \"\\u0000\", \"e\": 12345678901234567890}");
	fixed = vigil_rule_store_sanitize_json(dirty->str, dirty->len, flaws);
	g_assert_nonnull(fixed);
	g_assert_cmpuint(strlen(fixed), ==, dirty->len);
	g_assert_cmpuint(flaws->len, ==, 5);
	g_assert_cmpuint(g_array_index(flaws, VigilJsonFlaw, 0).line, ==, 1);
	g_assert_cmpstr(g_array_index(flaws, VigilJsonFlaw, 0).reason, ==, "invalid UTF-8");
	g_assert_cmpuint(g_array_index(flaws, VigilJsonFlaw, 1).line, ==, 2);
	g_assert_cmpstr(g_array_index(flaws, VigilJsonFlaw, 1).reason, ==, "number out of range");
	g_assert_cmpuint(g_array_index(flaws, VigilJsonFlaw, 2).line, ==, 66);
	g_assert_cmpstr(g_array_index(flaws, VigilJsonFlaw, 2).reason, ==, "nested too deeply");
	g_assert_cmpuint(g_array_index(flaws, VigilJsonFlaw, 3).line, ==, 74);
	g_assert_cmpuint(g_array_index(flaws, VigilJsonFlaw, 4).line, ==, 74);

	/* what is left is JSON json-glib reads, lines intact */
	g_assert_true(json_parser_load_from_data(parser, fixed, -1, &error));
	g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	fixtured_test("/vigil/rules/rule-store/roundtrip", test_rule_store_roundtrip);
	fixtured_test("/vigil/rules/rule-store/missing", test_rule_store_missing);
	fixtured_test("/vigil/rules/rule-store/truncated", test_rule_store_truncated);
	fixtured_test("/vigil/rules/rule-store/malformed", test_rule_store_malformed);
	fixtured_test("/vigil/rules/rule-store/bad-documents", test_rule_store_bad_documents);
	fixtured_test("/vigil/rules/rule-store/unreadable", test_rule_store_unreadable);
	fixtured_test("/vigil/rules/rule-store/lines", test_rule_store_lines);
	fixtured_test("/vigil/rules/rule-store/broken-save", test_rule_store_broken_save);
	fixtured_test("/vigil/rules/rule-store/crash", test_rule_store_crash);
	fixtured_test("/vigil/rules/rule-store/kill-stress", test_rule_store_kill_stress);
	fixtured_test("/vigil/rules/rule-store/dropins", test_rule_store_dropins);
	fixtured_test("/vigil/rules/rule-store/export-import", test_rule_store_export_import);
	fixtured_test("/vigil/rules/rule-store/strings", test_rule_store_strings);
	fixtured_test("/vigil/rules/rule-store/control-chars", test_rule_store_control_chars);
	fixtured_test("/vigil/rules/rule-store/fuzz", test_rule_store_fuzz);
	fixtured_test("/vigil/rules/rule-store/large", test_rule_store_large);
	fixtured_test("/vigil/rules/rule-store/sanitize", test_rule_store_sanitize);
	return g_test_run();
}
