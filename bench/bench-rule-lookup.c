/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Rule lookup benchmark: builds rule sets of 10, 1,000 and 100,000 rules of mixed kinds and
 * times 1,000,000 lookups of a mix of hits and misses against each, with the set's memo of
 * recent answers off and on, five runs interleaved across the sizes and both memo settings
 * so that a noisy neighbour hurts them alike. Each run times the lookups twice: in batches,
 * for the mean time of a lookup, and one by one, for the median of single lookups (what the
 * done-criterion of issue 2 reads) and the 90th and 99th percentiles. Prints the median
 * over the runs of each figure for each size and setting, the ratio to the 10-rule set
 * with the same setting, and how many lookups the memo answered. --rules, --mix and --memo
 * run only part of it, e.g. under cachegrind. See bench/README.md.
 */

#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "vigil-rule-set.h"

#define BENCH_LOOKUPS 1000000
#define BENCH_RUNS    5
#define BENCH_QUERIES 65536 /* distinct flows */
#define BENCH_BATCH   250   /* lookups timed together, 4,000 batches */
#define BENCH_NOW     1800000000
#define BENCH_SHA256  "5e0b1a7c3f2d4e6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a"
#define BENCH_MEMO    2	   /* off, on */
#define BENCH_HIST    8192 /* ticks, for the lookups timed one by one */

typedef struct {
	guint n_rules;
	VigilRuleSet *set;
	GPtrArray *strings; /* of gchar*, backing the queries */
	VigilRuleQuery *queries;
	gdouble ns[BENCH_MEMO][BENCH_RUNS];  /* mean of the lookups timed in batches */
	gdouble p50[BENCH_MEMO][BENCH_RUNS]; /* percentiles of the lookups timed one by one */
	gdouble p90[BENCH_MEMO][BENCH_RUNS];
	gdouble p99[BENCH_MEMO][BENCH_RUNS];
	guint hits;
	guint64 memo_hits; /* in the last run with the memo */
} BenchSize;

static const guint16 bench_common_ports[] = {443, 80, 53, 22, 993, 8080};

static const gchar *
bench_get_exe_sha256_cb(gpointer user_data)
{
	return BENCH_SHA256;
}

/* @clock in ns; CLOCK_THREAD_CPUTIME_ID for the batches, so that on a shared machine time
 * the scheduler gives to other processes is not counted */
static gint64
bench_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

static gint64
bench_now_ns(void)
{
	return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static const gchar *
bench_keep(BenchSize *size, gchar *str)
{
	g_ptr_array_add(size->strings, str);
	return str;
}

/* one random rule, shaped like a real rule file: apps' rules mostly name a host or a
 * domain and a port (answers to prompts); any-app rules are mostly deny lists of domains,
 * hosts and addresses. The universe of apps and sites grows with the set. */
static VigilRule *
bench_rule_new(GRand *rand, guint n_rules)
{
	VigilRule *rule = vigil_rule_new();
	guint n_apps = MAX(n_rules / 20, 3);
	guint n_sites = MAX(n_rules / 4, 4);
	gboolean any_app = FALSE;
	guint pick;
	g_autofree gchar *str = NULL;

	vigil_rule_set_created(rule, BENCH_NOW - g_rand_int_range(rand, 0, 1000000));

	/* who: mostly executables, some Flatpak apps and units, a quarter any app */
	pick = (guint)g_rand_int_range(rand, 0, 100);
	if (pick < 60) {
		str = g_strdup_printf("/usr/bin/app%u", g_rand_int_range(rand, 0, (gint32)n_apps));
		vigil_rule_set_exe(rule, str);
		if (g_rand_int_range(rand, 0, 20) == 0)
			vigil_rule_set_sha256(rule, BENCH_SHA256, NULL);
	} else if (pick < 70) {
		str =
		    g_strdup_printf("org.example.App%u", g_rand_int_range(rand, 0, (gint32)n_apps));
		vigil_rule_set_app_id(rule, str);
	} else if (pick < 75) {
		str = g_strdup_printf("app%u.service", g_rand_int_range(rand, 0, (gint32)n_apps));
		vigil_rule_set_unit(rule, str);
	} else {
		any_app = TRUE;
	}
	g_clear_pointer(&str, g_free);
	vigil_rule_set_action(rule,
			      any_app || g_rand_int_range(rand, 0, 4) == 0 ? VIGIL_ACTION_DENY
									   : VIGIL_ACTION_ALLOW);
	if (g_rand_int_range(rand, 0, 10) == 0)
		vigil_rule_set_user(rule, 1000);

	/* what: exact hosts, domains, IPv4 and IPv6 addresses and prefixes; any destination only
	 * for 2% of the apps' rules */
	pick = (guint)g_rand_int_range(rand, 0, 1000);
	if (pick < 400) {
		str = g_strdup_printf("h%u.site%u.example",
				      g_rand_int_range(rand, 0, 4),
				      g_rand_int_range(rand, 0, (gint32)n_sites));
		vigil_rule_set_host(rule, str, NULL);
	} else if (pick < 700) {
		str =
		    g_strdup_printf("*.site%u.example", g_rand_int_range(rand, 0, (gint32)n_sites));
		vigil_rule_set_host(rule, str, NULL);
	} else if (pick < 850) {
		static const guint prefixes[] = {32, 32, 32, 24, 24, 16};
		guint32 addr = g_rand_int(rand);
		str = g_strdup_printf("%u.%u.%u.%u/%u",
				      addr >> 24,
				      (addr >> 16) & 0xff,
				      (addr >> 8) & 0xff,
				      addr & 0xff,
				      prefixes[g_rand_int_range(rand, 0, G_N_ELEMENTS(prefixes))]);
		vigil_rule_set_cidr(rule, str, NULL);
	} else if (pick < 920) {
		static const guint prefixes[] = {128, 128, 64, 48};
		str = g_strdup_printf("fd%02x:%x:%x:%x::%x/%u",
				      g_rand_int_range(rand, 0, 256),
				      g_rand_int_range(rand, 0, 65536),
				      g_rand_int_range(rand, 0, 65536),
				      g_rand_int_range(rand, 0, 65536),
				      g_rand_int_range(rand, 0, 65536),
				      prefixes[g_rand_int_range(rand, 0, G_N_ELEMENTS(prefixes))]);
		vigil_rule_set_cidr(rule, str, NULL);
	} else if (any_app || pick < 980) {
		str =
		    g_strdup_printf("*.site%u.example", g_rand_int_range(rand, 0, (gint32)n_sites));
		vigil_rule_set_host(rule, str, NULL);
	}

	/* ports: mostly exact, some ranges, a third any */
	pick = (guint)g_rand_int_range(rand, 0, 100);
	if (pick < 40) {
		guint16 port =
		    bench_common_ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(bench_common_ports))];
		vigil_rule_set_port_range(rule, port, port);
	} else if (pick < 50) {
		guint16 port = (guint16)g_rand_int_range(rand, 1024, 65536);
		vigil_rule_set_port_range(rule, port, port);
	} else if (pick < 65) {
		guint16 port = (guint16)g_rand_int_range(rand, 1024, 60000);
		vigil_rule_set_port_range(rule, port, port + g_rand_int_range(rand, 1, 1000));
	}
	pick = (guint)g_rand_int_range(rand, 0, 100);
	if (pick < 60)
		vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_TCP);
	else if (pick < 80)
		vigil_rule_set_protocol(rule, VIGIL_PROTOCOL_UDP);
	return rule;
}

/* a query that the rule would match, as far as its fields tell */
static void
bench_query_for_rule(BenchSize *size, GRand *rand, VigilRule *rule, VigilRuleQuery *query)
{
	const gchar *host = vigil_rule_get_host(rule);

	query->exe = vigil_rule_get_exe(rule);
	query->app_id = vigil_rule_get_app_id(rule);
	query->unit = vigil_rule_get_unit(rule);
	if (query->exe == NULL && query->app_id == NULL && query->unit == NULL)
		query->exe =
		    bench_keep(size,
			       g_strdup_printf("/usr/bin/app%u", g_rand_int_range(rand, 0, 1000)));
	if (host != NULL && vigil_rule_host_is_domain(rule))
		query->host = bench_keep(size, g_strdup_printf("www.%s", host + 2));
	else if (host != NULL)
		query->host = host;
	if (vigil_rule_get_cidr(rule) != NULL) {
		query->family = vigil_rule_get_cidr_family(rule);
		memcpy(query->addr, vigil_rule_get_cidr_address(rule), 16);
		query->addr[query->family == 4 ? 3 : 15] |= 1;
	}
	if (vigil_rule_has_port(rule))
		query->port = vigil_rule_get_port_min(rule);
	if (vigil_rule_get_protocol(rule) != 0)
		query->protocol = vigil_rule_get_protocol(rule);
}

/* a query for something no rule was made for: an unknown app, or a known app going to an
 * unknown site */
static void
bench_query_miss(BenchSize *size, GRand *rand, VigilRuleQuery *query)
{
	guint n_apps = MAX(size->n_rules / 20, 3);

	if (g_rand_boolean(rand))
		query->exe = bench_keep(
		    size,
		    g_strdup_printf("/usr/lib/unknown%u", g_rand_int_range(rand, 0, 1000)));
	else
		query->exe = bench_keep(
		    size,
		    g_strdup_printf("/usr/bin/app%u", g_rand_int_range(rand, 0, (gint32)n_apps)));
	query->host = bench_keep(size,
				 g_strdup_printf("cdn%u.elsewhere%u.test",
						 g_rand_int_range(rand, 0, 10),
						 g_rand_int_range(rand, 0, 100000)));
}

static void
bench_size_init(BenchSize *size, guint n_rules, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autoptr(GPtrArray) rules = NULL;

	size->n_rules = n_rules;
	size->set = vigil_rule_set_new();
	size->strings = g_ptr_array_new_with_free_func(g_free);
	size->queries = g_new0(VigilRuleQuery, BENCH_QUERIES);
	for (guint i = 0; i < n_rules; i++) {
		g_autoptr(VigilRule) rule = bench_rule_new(rand, n_rules);
		g_autoptr(GError) error = NULL;
		if (!vigil_rule_set_add(size->set, rule, &error))
			g_error("cannot add a rule: %s", error->message);
	}

	/* half the flows are to something a rule names, half to something unknown */
	rules = vigil_rule_set_get_rules(size->set);
	for (guint i = 0; i < BENCH_QUERIES; i++) {
		VigilRuleQuery *query = &size->queries[i];
		query->direction = VIGIL_DIRECTION_OUT;
		query->protocol = VIGIL_PROTOCOL_TCP;
		query->port = 443;
		query->uid_known = TRUE;
		query->uid = 1000;
		query->pid = (guint32)g_rand_int_range(rand, 1000, 30000);
		query->pid_start = (guint64)g_rand_int_range(rand, 1, 1000000);
		query->get_exe_sha256 = bench_get_exe_sha256_cb;
		query->now = BENCH_NOW;
		if (g_rand_boolean(rand)) {
			VigilRule *rule =
			    g_ptr_array_index(rules, g_rand_int_range(rand, 0, (gint32)rules->len));
			bench_query_for_rule(size, rand, rule, query);
		} else {
			bench_query_miss(size, rand, query);
		}
		if (query->family == 0 && g_rand_boolean(rand)) {
			guint32 addr = g_rand_int(rand);
			query->family = 4;
			memcpy(query->addr, &addr, 4);
		}
	}
}

static void
bench_size_clear(BenchSize *size)
{
	g_clear_object(&size->set);
	g_clear_pointer(&size->strings, g_ptr_array_unref);
	g_clear_pointer(&size->queries, g_free);
}

/*
 * The order in which flows are looked up. "zipf": flow popularity follows Zipf's law with
 * s = 1 (a few apps and sites make most connections, as on a desktop); "uniform": every
 * lookup picks any flow, so at 100,000 rules nearly every lookup misses the CPU caches.
 */
static guint32 *
bench_stream_new(GRand *rand, gboolean zipf)
{
	guint32 *stream = g_new(guint32, BENCH_LOOKUPS);
	g_autofree guint32 *rank_to_flow = g_new(guint32, BENCH_QUERIES);
	g_autofree gdouble *cdf = g_new(gdouble, BENCH_QUERIES);
	gdouble total = 0;

	for (guint i = 0; i < BENCH_QUERIES; i++)
		rank_to_flow[i] = i;
	for (guint i = BENCH_QUERIES - 1; i > 0; i--) {
		guint j = (guint)g_rand_int_range(rand, 0, (gint32)i + 1);
		guint32 tmp = rank_to_flow[i];
		rank_to_flow[i] = rank_to_flow[j];
		rank_to_flow[j] = tmp;
	}
	for (guint i = 0; i < BENCH_QUERIES; i++) {
		total += 1.0 / (i + 1);
		cdf[i] = total;
	}
	for (guint i = 0; i < BENCH_LOOKUPS; i++) {
		guint lo = 0;
		guint hi = BENCH_QUERIES - 1;
		gdouble x;
		if (!zipf) {
			stream[i] = (guint32)g_rand_int_range(rand, 0, BENCH_QUERIES);
			continue;
		}
		x = g_rand_double(rand) * total;
		while (lo < hi) {
			guint mid = (lo + hi) / 2;
			if (cdf[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		stream[i] = rank_to_flow[lo];
	}
	return stream;
}

/*
 * The daemon looks up a query it has just built from data it has just read, so before each
 * timed batch the flows' queries and strings are copied into a small buffer, as hot as the
 * daemon's would be. The cost of reading the clock is subtracted.
 */
typedef struct {
	VigilRuleQuery query;
	gchar exe[96];
	gchar app_id[96];
	gchar unit[96];
	gchar host[256];
} BenchQueryCopy;

static gint
bench_compare_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
bench_median(const gdouble *values)
{
	gdouble sorted[BENCH_RUNS];

	memcpy(sorted, values, sizeof(sorted));
	qsort(sorted, BENCH_RUNS, sizeof(gdouble), bench_compare_double);
	return sorted[BENCH_RUNS / 2];
}

static const gchar *
bench_copy_string(gchar *buf, gsize size, const gchar *str)
{
	if (str == NULL)
		return NULL;
	g_strlcpy(buf, str, size);
	return buf;
}

static void
bench_copy_query(BenchQueryCopy *copy, const VigilRuleQuery *flow)
{
	copy->query = *flow;
	copy->query.exe = bench_copy_string(copy->exe, sizeof(copy->exe), flow->exe);
	copy->query.app_id = bench_copy_string(copy->app_id, sizeof(copy->app_id), flow->app_id);
	copy->query.unit = bench_copy_string(copy->unit, sizeof(copy->unit), flow->unit);
	copy->query.host = bench_copy_string(copy->host, sizeof(copy->host), flow->host);
}

static gint64 bench_clock_cost = 0;

static void
bench_calibrate_clock(void)
{
	gdouble costs[BENCH_RUNS];

	for (guint run = 0; run < BENCH_RUNS; run++) {
		gint64 start = bench_now_ns();
		for (guint i = 0; i < 10000; i++)
			bench_now_ns();
		costs[run] = (gdouble)(bench_now_ns() - start) / 10000;
	}
	bench_clock_cost = (gint64)bench_median(costs);
}

/*
 * Lookups timed one by one, for the distribution of a single lookup's time: the time-stamp
 * counter where there is one (read after the instructions before it are done, so that a
 * lookup is not overlapped with the next one's start), else the monotonic clock. Ticks are
 * turned into ns with a rate measured against the monotonic clock at start, and the cost
 * of an empty measurement is subtracted.
 */
static inline guint64
bench_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_lfence();
	return __rdtsc();
#else
	return (guint64)bench_clock_ns(CLOCK_MONOTONIC);
#endif
}

static gdouble bench_ticks_per_ns = 1.0;
static gdouble bench_ticks_cost = 0; /* of an empty measurement, on average */
static gdouble bench_ticks_step = 1; /* the smallest step the counter makes */

/* the counter's rate, the cost of reading it twice and its step: some virtual machines
 * give a counter that moves in steps of several ticks (21 on the machines of
 * bench/README.md, 10 ns) */
static void
bench_calibrate_ticks(void)
{
	gdouble rates[BENCH_RUNS];
	gdouble costs[BENCH_RUNS];
	guint64 step = G_MAXUINT64;

	for (guint run = 0; run < BENCH_RUNS; run++) {
		gint64 start_ns = bench_clock_ns(CLOCK_MONOTONIC);
		guint64 start = bench_ticks();
		guint64 sum = 0;
		guint n = 0;
		while (bench_clock_ns(CLOCK_MONOTONIC) - start_ns < 20000000)
			;
		rates[run] = (gdouble)(bench_ticks() - start) /
			     (gdouble)(bench_clock_ns(CLOCK_MONOTONIC) - start_ns);
		for (guint i = 0; i < 100000; i++) {
			guint64 t0 = bench_ticks();
			guint64 t1 = bench_ticks();
			if (t1 > t0)
				step = MIN(step, t1 - t0);
			if (t1 - t0 < 1000) {
				sum += t1 - t0;
				n++;
			}
		}
		costs[run] = n > 0 ? (gdouble)sum / n : 0;
	}
	bench_ticks_per_ns = bench_median(rates);
	bench_ticks_cost = bench_median(costs);
	bench_ticks_step = step != G_MAXUINT64 ? (gdouble)step : 1;
}

/* the @q-th quantile of a histogram of @n lookups, in ns. A counter that moves in steps
 * puts every lookup on a step: the lookups on one are spread evenly over the step around
 * it, which gives quantiles between the steps. */
static gdouble
bench_hist_quantile(const guint32 *hist, guint n, gdouble q)
{
	gdouble want = q * n;
	guint64 seen = 0;
	gdouble ticks = BENCH_HIST;

	for (guint i = 0; i < BENCH_HIST; i++) {
		if (hist[i] == 0 || seen + hist[i] <= want) {
			seen += hist[i];
			continue;
		}
		ticks = i - bench_ticks_step / 2 + bench_ticks_step * (want - seen) / hist[i];
		break;
	}
	return MAX(ticks - bench_ticks_cost, 0) / bench_ticks_per_ns;
}

/*
 * One run of the stream against the set, the memo starting empty when it is used: timed in
 * batches for the mean (returned), or, with @hist, every lookup on its own into @hist (in
 * ticks) instead.
 */
static gdouble
bench_size_run(BenchSize *size, const guint32 *stream, gboolean memo, guint32 *hist)
{
	static BenchQueryCopy batch[BENCH_BATCH];
	gint64 total = 0;
	guint hits = 0;
	guint64 memo_hits_before;
	guint64 memo_hits_after;

	vigil_rule_set_set_memo_enabled(size->set, FALSE);
	vigil_rule_set_set_memo_enabled(size->set, memo);
	vigil_rule_set_get_memo_stats(size->set, &memo_hits_before, NULL);

	for (guint done = 0; done < BENCH_LOOKUPS; done += BENCH_BATCH) {
		gint64 start;
		for (guint j = 0; j < BENCH_BATCH; j++)
			bench_copy_query(&batch[j], &size->queries[stream[done + j]]);
		if (hist != NULL) {
			for (guint j = 0; j < BENCH_BATCH; j++) {
				guint64 ticks = bench_ticks();
				vigil_rule_set_lookup(size->set, &batch[j].query);
				ticks = bench_ticks() - ticks;
				hist[MIN(ticks, BENCH_HIST - 1)]++;
			}
			continue;
		}
		start = bench_now_ns();
		for (guint j = 0; j < BENCH_BATCH; j++)
			hits += vigil_rule_set_lookup(size->set, &batch[j].query) != NULL;
		total += bench_now_ns() - start - bench_clock_cost;
	}
	if (hist != NULL)
		return 0;
	size->hits = hits;
	vigil_rule_set_get_memo_stats(size->set, &memo_hits_after, NULL);
	if (memo)
		size->memo_hits = memo_hits_after - memo_hits_before;
	return (gdouble)total / BENCH_LOOKUPS;
}

/* a run timed in batches for the mean, then one timing every lookup for the percentiles */
static void
bench_size_run_both(BenchSize *size, const guint32 *stream, gboolean memo, guint run)
{
	static guint32 hist[BENCH_HIST];

	size->ns[memo][run] = bench_size_run(size, stream, memo, NULL);
	memset(hist, 0, sizeof(hist));
	bench_size_run(size, stream, memo, hist);
	size->p50[memo][run] = bench_hist_quantile(hist, BENCH_LOOKUPS, 0.50);
	size->p90[memo][run] = bench_hist_quantile(hist, BENCH_LOOKUPS, 0.90);
	size->p99[memo][run] = bench_hist_quantile(hist, BENCH_LOOKUPS, 0.99);
}

static gint bench_opt_rules = 0;
static gchar *bench_opt_mix = NULL;
static gchar *bench_opt_memo = NULL;

static const GOptionEntry bench_options[] = {
    {"rules", 0, 0, G_OPTION_ARG_INT, &bench_opt_rules, "Only the set of N rules", "N"},
    {"mix", 0, 0, G_OPTION_ARG_STRING, &bench_opt_mix, "Only this mix", "zipf|uniform"},
    {"memo", 0, 0, G_OPTION_ARG_STRING, &bench_opt_memo, "Only this memo setting", "off|on"},
    {NULL}};

int
main(int argc, char **argv)
{
	static const guint n_rules[] = {10, 1000, 100000};
	static const gchar *mixes[] = {"zipf", "uniform"};
	static const gchar *memos[] = {"off", "on"};
	BenchSize sizes[G_N_ELEMENTS(n_rules)] = {0};
	gboolean use_size[G_N_ELEMENTS(n_rules)];
	gboolean use_memo[BENCH_MEMO];
	g_autoptr(GRand) rand = g_rand_new_with_seed(7);
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, bench_options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++)
		use_size[i] = bench_opt_rules == 0 || (guint)bench_opt_rules == n_rules[i];
	for (guint memo = 0; memo < BENCH_MEMO; memo++)
		use_memo[memo] = bench_opt_memo == NULL || g_str_equal(bench_opt_memo, memos[memo]);

	bench_calibrate_clock();
	bench_calibrate_ticks();
	for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++) {
		gint64 start = bench_now_ns();
		if (!use_size[i])
			continue;
		bench_size_init(&sizes[i], n_rules[i], 42 + i);
		printf("# built %u rules in %.1f ms\n",
		       n_rules[i],
		       (gdouble)(bench_now_ns() - start) / 1e6);
	}
	for (guint m = 0; m < G_N_ELEMENTS(mixes); m++) {
		/* drawn even when skipped, so that a mix has the same order as in a full run */
		g_autofree guint32 *stream = bench_stream_new(rand, m == 0);

		if (bench_opt_mix != NULL && !g_str_equal(bench_opt_mix, mixes[m]))
			continue;

		/* warm up, then interleave the sizes and the memo settings in every run, the
		 * setting that goes first taking turns */
		for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++) {
			for (guint memo = 0; memo < BENCH_MEMO; memo++) {
				if (use_size[i] && use_memo[memo])
					bench_size_run(&sizes[i], stream, memo, NULL);
			}
		}
		for (guint run = 0; run < BENCH_RUNS; run++) {
			for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++) {
				for (guint k = 0; k < BENCH_MEMO; k++) {
					guint memo = (k + run) % BENCH_MEMO;
					if (!use_size[i] || !use_memo[memo])
						continue;
					bench_size_run_both(&sizes[i], stream, memo, run);
				}
			}
		}
		for (guint memo = 0; memo < BENCH_MEMO; memo++) {
			gdouble baseline = use_size[0] ? bench_median(sizes[0].ns[memo]) : 0;
			gdouble baseline_p50 = use_size[0] ? bench_median(sizes[0].p50[memo]) : 0;
			if (!use_memo[memo])
				continue;
			for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++) {
				gdouble median = bench_median(sizes[i].ns[memo]);
				gdouble p50 = bench_median(sizes[i].p50[memo]);
				g_autoptr(GString) runs = g_string_new(NULL);
				if (!use_size[i])
					continue;
				for (guint run = 0; run < BENCH_RUNS; run++)
					g_string_append_printf(runs,
							       "%s%.0f",
							       run > 0 ? " " : "",
							       sizes[i].ns[memo][run]);
				printf("mix=%-7s memo=%-3s rules=%-6u median=%7.1f ns/lookup "
				       "ratio=%5.2f hits=%2.0f%% from-memo=%2.0f%% runs=[%s]\n",
				       mixes[m],
				       memos[memo],
				       sizes[i].n_rules,
				       median,
				       baseline > 0 ? median / baseline : 0.0,
				       100.0 * sizes[i].hits / BENCH_LOOKUPS,
				       memo ? 100.0 * sizes[i].memo_hits / BENCH_LOOKUPS : 0.0,
				       runs->str);
				printf(
				    "mix=%-7s memo=%-3s rules=%-6u each:  p50=%7.1f ns ratio=%5.2f "
				    "p90=%7.1f p99=%7.1f\n",
				    mixes[m],
				    memos[memo],
				    sizes[i].n_rules,
				    p50,
				    baseline_p50 > 0 ? p50 / baseline_p50 : 0.0,
				    bench_median(sizes[i].p90[memo]),
				    bench_median(sizes[i].p99[memo]));
			}
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(n_rules); i++)
		bench_size_clear(&sizes[i]);
	return 0;
}
