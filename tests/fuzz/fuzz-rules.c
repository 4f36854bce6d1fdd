/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Fuzzes what reads rules somebody else wrote: vigil_rule_store_parse() (the rules file
 * and the drop-ins), vigil_rule_import_vigil() (our export), vigil_rule_import_opensnitch()
 * and vigil_rule_new_from_variant() (a rule over D-Bus, from any local user). Every input
 * goes to every reader. Besides not crashing, every input must keep these promises:
 *
 *  - a document that cannot be used at all gives an error with a message and no rules;
 *  - every problem names the file and is valid UTF-8, so it can go to the journal and over
 *    D-Bus as it is;
 *  - what was read survives an export and a parse of that export losslessly: the same
 *    rules, no problem, and the same export again; a rule from D-Bus also survives the
 *    way back to D-Bus;
 *  - every rule read can be put in a rule set, looked up against and taken out again,
 *    or is refused with an error.
 *
 * With gcc this is linked with the standalone driver in fuzz-main.c and runs as the meson
 * test `fuzz-rules` (suites unit and fuzz) for a few seconds. With clang, meson also builds
 * `fuzz-rules-libfuzzer`; see tests/fuzz/fuzz-packet.c for how to instrument the library and
 * run it, with tests/fuzz/corpus/rules as the seeds (its opensnitch/ is the importer's test
 * data).
 */

#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "vigil-rule-import.h"
#include "vigil-rule-set.h"
#include "vigil-rule-store.h"

#define FUZZ_FILENAME "fuzz.json"

static void
fuzz_check_problems(GPtrArray *problems)
{
	for (guint i = 0; i < problems->len; i++) {
		const gchar *problem = g_ptr_array_index(problems, i);
		if (!g_utf8_validate(problem, -1, NULL)) {
			g_autofree gchar *escaped = g_strescape(problem, NULL);
			g_error("a problem is not valid UTF-8: %s", escaped);
		}
		g_assert_true(g_str_has_prefix(problem, FUZZ_FILENAME ":"));
	}
}

/* the export of @rules, parsed again, is the same rules and exports the same */
static void
fuzz_check_round_trip(GPtrArray *rules)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *exported = vigil_rule_store_export(rules);
	g_autofree gchar *exported_again = NULL;

	g_assert_true(g_utf8_validate(exported, -1, NULL));
	again = vigil_rule_store_parse(exported, -1, FUZZ_FILENAME, problems, &error);
	g_assert_no_error(error);
	g_assert_nonnull(again);
	if (problems->len > 0)
		g_error("the export of what was read has a problem: %s\n%s",
			(const gchar *)g_ptr_array_index(problems, 0),
			exported);
	g_assert_cmpuint(again->len, ==, rules->len);
	exported_again = vigil_rule_store_export(again);
	g_assert_cmpstr(exported_again, ==, exported);
}

static const gchar *
fuzz_get_exe_sha256_cb(gpointer user_data)
{
	return NULL;
}

/* each rule goes into a set (or is refused), the set answers a query made from each rule,
 * and the rules leave again */
static void
fuzz_check_rule_set(GPtrArray *rules)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autoptr(GPtrArray) added = g_ptr_array_new();

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autoptr(GError) error = NULL;
		if (!vigil_rule_set_add(set, rule, &error)) {
			fuzz_assert_error(error);
			continue;
		}
		g_ptr_array_add(added, rule);
	}
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		VigilRuleQuery query = {
		    .direction = VIGIL_DIRECTION_OUT,
		    .protocol = VIGIL_PROTOCOL_TCP,
		    .port = vigil_rule_has_port(rule) ? vigil_rule_get_port_min(rule) : 443,
		    .host = vigil_rule_get_host(rule),
		    .exe = vigil_rule_get_exe(rule),
		    .app_id = vigil_rule_get_app_id(rule),
		    .unit = vigil_rule_get_unit(rule),
		    .uid_known = TRUE,
		    .uid = 1000,
		    .pid = 4242,
		    .pid_start = 1,
		    .get_exe_sha256 = fuzz_get_exe_sha256_cb,
		    .now = 1800000000,
		};
		if (vigil_rule_get_cidr(rule) != NULL) {
			query.family = vigil_rule_get_cidr_family(rule);
			memcpy(query.addr, vigil_rule_get_cidr_address(rule), 16);
		}
		/* twice: the second answer may come from the memo, and must be the same */
		g_assert_true(vigil_rule_set_lookup(set, &query) ==
			      vigil_rule_set_lookup(set, &query));
	}
	for (guint i = 0; i < added->len; i++) {
		VigilRule *rule = g_ptr_array_index(added, i);
		g_autoptr(GError) error = NULL;
		if (!vigil_rule_set_remove(set, vigil_rule_get_id(rule), &error))
			g_error("a rule that was added cannot be removed: %s", error->message);
	}
	g_assert_cmpuint(vigil_rule_set_get_size(set), ==, 0);
}

/* a rule as AddRule and UpdateRule get it over D-Bus, serialized as any caller may send it;
 * what D-Bus gives back of it (GetRules) reads as the same rule */
static GPtrArray *
fuzz_read_variant(const gchar *doc,
		  gssize len,
		  const gchar *filename,
		  GPtrArray *problems,
		  GError **error)
{
	g_autoptr(GBytes) bytes = g_bytes_new(doc, (gsize)len);
	g_autoptr(GVariant) dict =
	    g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, bytes, FALSE));
	g_autoptr(GVariant) back = NULL;
	g_autoptr(VigilRule) rule = vigil_rule_new_from_variant(dict, error);
	g_autoptr(VigilRule) again = NULL;
	g_autoptr(GError) error_again = NULL;
	GPtrArray *rules;

	if (rule == NULL)
		return NULL;
	back = g_variant_ref_sink(vigil_rule_to_variant(rule));
	again = vigil_rule_new_from_variant(back, &error_again);
	g_assert_no_error(error_again);
	g_assert_true(vigil_rule_equal(again, rule));
	rules = g_ptr_array_new_with_free_func(g_object_unref);
	g_ptr_array_add(rules, g_steal_pointer(&rule));
	return rules;
}

typedef GPtrArray *(*FuzzReader)(const gchar *data,
				 gssize len,
				 const gchar *filename,
				 GPtrArray *problems,
				 GError **error);

static void
fuzz_read(FuzzReader reader, const gchar *doc, gsize len)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;

	rules = reader(doc, (gssize)len, FUZZ_FILENAME, problems, &error);
	fuzz_check_problems(problems);
	if (rules == NULL) {
		fuzz_assert_error(error);
		return;
	}
	g_assert_no_error(error);

	/* imported rules get their ids from the daemon, as it does */
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		if (vigil_rule_get_id(rule) == NULL) {
			g_autofree gchar *id = vigil_rule_generate_id();
			vigil_rule_set_id(rule, id);
		}
	}
	fuzz_check_round_trip(rules);
	fuzz_check_rule_set(rules);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	static const FuzzReader readers[] = {
	    vigil_rule_store_parse,
	    vigil_rule_import_vigil,
	    vigil_rule_import_opensnitch,
	    fuzz_read_variant,
	};

	for (guint i = 0; i < G_N_ELEMENTS(readers); i++)
		fuzz_read(readers[i], (const gchar *)data, size);
	return 0;
}
