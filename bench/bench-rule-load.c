/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * How long vigild takes to load its rules file: json-glib parse, rule construction and
 * adding to a VigilRuleSet (indexing), for 10, 1,000 and 100,000 mixed rules. Each size is
 * written once with vigil_rule_store_save() and loaded 5 times into a fresh set; the median
 * wall and CPU time are printed, with vigil_rule_store_parse() alone and, as the baseline,
 * json-glib alone reading the same text. See bench/README.md.
 *
 * Usage: bench-rule-load [RUNS]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <time.h>

#include "vigil-rule-store.h"

static VigilRule *
bench_rule_new(guint i)
{
	VigilRule *rule = vigil_rule_new();
	g_autofree gchar *id = g_strdup_printf("r-%08x", i * 2654435761u);
	g_autofree gchar *name = NULL;
	VigilAction actions[] = {VIGIL_ACTION_ALLOW, VIGIL_ACTION_DENY, VIGIL_ACTION_REJECT};

	vigil_rule_set_id(rule, id);
	vigil_rule_set_action(rule, actions[i % 3]);

	/* who: mostly executables, some Flatpak apps and units, some any app */
	switch (i % 10) {
	case 0:
		name = g_strdup_printf("org.example.App%u", i);
		vigil_rule_set_app_id(rule, name);
		break;
	case 1:
		name = g_strdup_printf("service%u.service", i);
		vigil_rule_set_unit(rule, name);
		break;
	case 2:
		break;
	default:
		name = g_strdup_printf("/usr/bin/app%u", i % 5000);
		vigil_rule_set_exe(rule, name);
		break;
	}
	if (i % 7 == 0)
		vigil_rule_set_user(rule, 1000 + i % 3);

	/* what: exact hosts, domains, addresses, prefixes, or anything */
	switch (i % 6) {
	case 0: {
		g_autofree gchar *host = g_strdup_printf("host%u.example%u.org", i, i % 97);
		g_assert_true(vigil_rule_set_host(rule, host, NULL));
		break;
	}
	case 1: {
		g_autofree gchar *host = g_strdup_printf("*.domain%u.example", i);
		g_assert_true(vigil_rule_set_host(rule, host, NULL));
		break;
	}
	case 2: {
		g_autofree gchar *cidr =
		    g_strdup_printf("198.%u.%u.%u", 18 + i % 2, (i >> 8) & 0xff, i & 0xff);
		g_assert_true(vigil_rule_set_cidr(rule, cidr, NULL));
		break;
	}
	case 3: {
		g_autofree gchar *cidr = g_strdup_printf("fd00:%x:%x::/48", i >> 16, i & 0xffff);
		g_assert_true(vigil_rule_set_cidr(rule, cidr, NULL));
		break;
	}
	case 4: {
		g_autofree gchar *host = g_strdup_printf("api%u.example.com", i);
		g_assert_true(vigil_rule_set_host(rule, host, NULL));
		break;
	}
	default:
		break;
	}
	if (i % 4 != 3) {
		vigil_rule_set_protocol(rule, i % 4 == 2 ? VIGIL_PROTOCOL_UDP : VIGIL_PROTOCOL_TCP);
		if (i % 8 == 5)
			vigil_rule_set_port_range(rule, 8000, 8100);
		else
			vigil_rule_set_port_range(rule,
						  i % 2 == 0 ? 443 : 53,
						  i % 2 == 0 ? 443 : 53);
	}
	if (i % 5 == 0)
		vigil_rule_set_direction(rule, VIGIL_DIRECTION_OUT);

	/* lifetimes and bookkeeping as a long-used desktop would have them */
	if (i % 20 == 0) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_UNTIL);
		vigil_rule_set_expires(rule, 4102444800);
	} else if (i % 20 == 1) {
		vigil_rule_set_lifetime(rule, VIGIL_LIFETIME_REBOOT);
		vigil_rule_set_boot_id(rule, "0123456789abcdef0123456789abcdef");
	}
	vigil_rule_set_origin(rule, i % 3 == 0 ? VIGIL_ORIGIN_PROMPT : VIGIL_ORIGIN_USER);
	vigil_rule_set_created(rule, 1700000000 + i);
	if (i % 2 == 0) {
		vigil_rule_set_last_used(rule, 1710000000 + i);
		vigil_rule_set_hits(rule, i * 7);
	}
	if (i % 9 == 0)
		vigil_rule_set_note(rule, "answered from a prompt; see the connection log");
	return rule;
}

/* CPU time of this process in ms: the machines are shared, so wall time includes waiting
 * for a CPU that another job holds */
static gdouble
bench_cpu_ms(void)
{
	struct timespec ts = {0};

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000.0;
}

static gint
bench_compare_doubles(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
bench_median(GArray *times)
{
	g_array_sort(times, bench_compare_doubles);
	return g_array_index(times, gdouble, times->len / 2);
}

static void
bench_size(const gchar *dir, guint n_rules, guint runs)
{
	g_autoptr(VigilRuleSet) set = vigil_rule_set_new();
	g_autofree gchar *path = NULL;
	g_autofree gchar *name = g_strdup_printf("rules-%u.json", n_rules);
	g_autoptr(VigilRuleStore) store = NULL;
	g_autoptr(GArray) load_times = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) parse_times = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) cpu_times = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) baseline_times = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;
	gsize len = 0;
	GStatBuf st = {0};
	gdouble load_ms;

	path = g_build_filename(dir, name, NULL);
	for (guint i = 0; i < n_rules; i++) {
		g_autoptr(VigilRule) rule = bench_rule_new(i);
		if (!vigil_rule_set_add(set, rule, &error))
			g_error("cannot add rule %u: %s", i, error->message);
	}
	store = vigil_rule_store_new(path, NULL);
	if (!vigil_rule_store_save(store, set, VIGIL_RULE_STORE_SAVE_NONE, &error))
		g_error("cannot save: %s", error->message);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	if (!g_file_get_contents(path, &data, &len, &error))
		g_error("cannot read back: %s", error->message);

	for (guint run = 0; run < runs; run++) {
		g_autoptr(VigilRuleSet) fresh = vigil_rule_set_new();
		g_autoptr(VigilRuleStore) loader = vigil_rule_store_new(path, NULL);
		g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) parsed = NULL;
		gint64 start = g_get_monotonic_time();
		gdouble cpu_start = bench_cpu_ms();
		gdouble ms;

		if (!vigil_rule_store_load(loader, fresh, problems, &error))
			g_error("cannot load: %s", error->message);
		ms = (g_get_monotonic_time() - start) / 1000.0;
		g_array_append_val(load_times, ms);
		ms = bench_cpu_ms() - cpu_start;
		g_array_append_val(cpu_times, ms);
		if (problems->len > 0 || vigil_rule_set_get_size(fresh) != n_rules)
			g_error("loaded %u of %u rules, %u problems",
				vigil_rule_set_get_size(fresh),
				n_rules,
				problems->len);

		/* the baseline: json-glib alone reading the same text into a tree, one thread */
		{
			g_autoptr(JsonParser) parser = json_parser_new();
			start = g_get_monotonic_time();
			if (!json_parser_load_from_data(parser, data, (gssize)len, &error))
				g_error("json-glib: %s", error->message);
			g_clear_object(&parser);
			ms = (g_get_monotonic_time() - start) / 1000.0;
			g_array_append_val(baseline_times, ms);
		}

		/* the same without reading the file and without the rule set */
		cpu_start = bench_cpu_ms();
		parsed = vigil_rule_store_parse(data, (gssize)len, path, NULL, &error);
		ms = bench_cpu_ms() - cpu_start;
		g_array_append_val(parse_times, ms);
		if (parsed == NULL || parsed->len != n_rules)
			g_error("parsed %u of %u rules", parsed != NULL ? parsed->len : 0, n_rules);
	}
	load_ms = bench_median(load_times);
	g_print("%7u rules %5.1f MiB  load %7.1f ms wall %7.1f ms cpu %7.0f rules/s  "
		"parse only %7.1f ms cpu  json-glib alone %7.1f ms wall\n",
		n_rules,
		st.st_size / 1048576.0,
		load_ms,
		bench_median(cpu_times),
		n_rules / (load_ms / 1000.0),
		bench_median(parse_times),
		bench_median(baseline_times));
	(void)g_unlink(path);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *loadavg = NULL;
	guint runs = argc > 1 ? (guint)atoi(argv[1]) : 5;
	const guint sizes[] = {10, 1000, 100000};

	if (runs == 0)
		runs = 5;
	/* the machines are shared: say how busy this one was */
	if (!g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL))
		loadavg = NULL;
	dir = g_dir_make_tmp("bench-rule-load-XXXXXX", &error);
	if (dir == NULL)
		g_error("%s", error->message);
	g_print("median of %u runs; load average %s", runs, loadavg != NULL ? loadavg : "?\n");
	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++)
		bench_size(dir, sizes[i], runs);
	(void)g_rmdir(dir);
	return 0;
}
