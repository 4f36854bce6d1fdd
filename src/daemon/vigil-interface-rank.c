/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilInterfaceRank"

#include "config.h"

#include "vigil-interface-rank.h"

/* the criterion that put one successor ahead of the next */
typedef enum {
	CRITERION_POLICY,
	CRITERION_VALIDATION,
	CRITERION_ADVISORY,
	CRITERION_COST,
	CRITERION_QUALITY,
	CRITERION_METRIC,
	CRITERION_INDEX,
} Criterion;

/* full > limited > portal > unknown/checking > dns-broken > no-internet */
static guint
validation_score(VigilConnectivity connectivity)
{
	switch (connectivity) {
	case VIGIL_CONNECTIVITY_FULL:
		return 5;
	case VIGIL_CONNECTIVITY_LIMITED:
		return 4;
	case VIGIL_CONNECTIVITY_PORTAL:
		return 3;
	case VIGIL_CONNECTIVITY_DNS_BROKEN:
		return 1;
	case VIGIL_CONNECTIVITY_NO_INTERNET:
		return 0;
	case VIGIL_CONNECTIVITY_UNKNOWN:
	case VIGIL_CONNECTIVITY_CHECKING:
	case VIGIL_CONNECTIVITY_LAST:
	default:
		return 2;
	}
}

static const gchar *
connectivity_phrase(VigilConnectivity connectivity)
{
	switch (connectivity) {
	case VIGIL_CONNECTIVITY_FULL:
		return "has full connectivity";
	case VIGIL_CONNECTIVITY_LIMITED:
		return "has limited connectivity";
	case VIGIL_CONNECTIVITY_PORTAL:
		return "is behind a portal";
	case VIGIL_CONNECTIVITY_DNS_BROKEN:
		return "has broken DNS";
	case VIGIL_CONNECTIVITY_NO_INTERNET:
		return "has no internet";
	case VIGIL_CONNECTIVITY_CHECKING:
		return "is being checked";
	case VIGIL_CONNECTIVITY_UNKNOWN:
	case VIGIL_CONNECTIVITY_LAST:
	default:
		return "is not checked";
	}
}

static gint
compare_values(gint64 a, gint64 b)
{
	return a < b ? -1 : (a > b ? 1 : 0);
}

/* negative when @a would take over before @b; @criterion says what decided */
static gint
compare_successors(const VigilRankEntry *a, const VigilRankEntry *b, Criterion *criterion)
{
	gint rc;

	*criterion = CRITERION_POLICY;
	rc = compare_values(a->preferred_index < 0 ? G_MAXINT : a->preferred_index,
			    b->preferred_index < 0 ? G_MAXINT : b->preferred_index);
	if (rc != 0)
		return rc;
	*criterion = CRITERION_VALIDATION;
	rc = compare_values(validation_score(b->connectivity), validation_score(a->connectivity));
	if (rc != 0)
		return rc;
	*criterion = CRITERION_ADVISORY;
	rc = compare_values(a->advisory, b->advisory);
	if (rc != 0)
		return rc;
	*criterion = CRITERION_COST;
	rc = compare_values(a->metered, b->metered);
	if (rc != 0)
		return rc;
	*criterion = CRITERION_QUALITY;
	rc = compare_values(a->rtt_usec < 0 ? G_MAXINT64 : a->rtt_usec,
			    b->rtt_usec < 0 ? G_MAXINT64 : b->rtt_usec);
	if (rc != 0)
		return rc;
	/* the kernel would fall back by metric, but a successor without internet takes over
	 * nothing worth having: the metric only settles what the checks leave equal */
	*criterion = CRITERION_METRIC;
	rc = compare_values(a->metric, b->metric);
	if (rc != 0)
		return rc;
	*criterion = CRITERION_INDEX;
	return compare_values(a->ifindex, b->ifindex);
}

static gint
compare_successors_cb(gconstpointer a, gconstpointer b)
{
	Criterion criterion;
	return compare_successors(*(VigilRankEntry *const *)a,
				  *(VigilRankEntry *const *)b,
				  &criterion);
}

static gchar *
takeover_reason(const VigilRankEntry *entry, const VigilRankEntry *next)
{
	Criterion criterion;

	compare_successors(entry, next, &criterion);
	switch (criterion) {
	case CRITERION_POLICY:
		return g_strdup_printf("would take over: preferred over %s", next->name);
	case CRITERION_METRIC:
		return g_strdup_printf("would take over: lower metric than %s", next->name);
	case CRITERION_VALIDATION:
		return g_strdup_printf("would take over: better connectivity than %s", next->name);
	case CRITERION_ADVISORY:
		return g_strdup_printf("would take over: no uplink advisory, unlike %s",
				       next->name);
	case CRITERION_COST:
		return g_strdup_printf("would take over: not metered, unlike %s", next->name);
	case CRITERION_QUALITY:
		return g_strdup_printf("would take over: lower probe round trip than %s",
				       next->name);
	case CRITERION_INDEX:
	default:
		return g_strdup_printf("would take over: older interface than %s", next->name);
	}
}

static void
add_reason(VigilRankEntry *entry, gchar *reason)
{
	g_ptr_array_add(entry->reasons, reason);
}

static gboolean
check_eligible(guint family, VigilRankEntry *entry)
{
	if (entry->loopback) {
		add_reason(entry, g_strdup("loopback, never carries default traffic"));
		return FALSE;
	}
	if (!entry->up)
		add_reason(entry, g_strdup("down"));
	else if (!entry->carrier)
		add_reason(entry, g_strdup("no carrier"));
	if (!entry->has_address)
		add_reason(entry, g_strdup_printf("no IPv%u address", family));
	if (!entry->has_default_route)
		add_reason(entry, g_strdup_printf("no default IPv%u route", family));
	return entry->reasons->len == 0;
}

static void
add_common_reasons(VigilRankEntry *entry)
{
	g_autoptr(GString) connectivity = g_string_new("connectivity: ");

	add_reason(entry, g_strdup_printf("default route metric %u", entry->metric));
	if (entry->preferred_index >= 0)
		add_reason(entry,
			   g_strdup_printf("preferred (PreferredInterfaces pattern %d)",
					   entry->preferred_index + 1));
	/* nothing to say until the connectivity checker said something */
	if (entry->connectivity != VIGIL_CONNECTIVITY_UNKNOWN || entry->rtt_usec >= 0) {
		g_string_append(connectivity, vigil_connectivity_to_string(entry->connectivity));
		/* a link next door answers in well under a millisecond: not "0 ms" */
		if (entry->rtt_usec >= 0 && entry->rtt_usec < 9950)
			g_string_append_printf(connectivity,
					       " (probe %.1f ms)",
					       entry->rtt_usec / 1000.0);
		else if (entry->rtt_usec >= 0)
			g_string_append_printf(connectivity,
					       " (probe %" G_GINT64_FORMAT " ms)",
					       (entry->rtt_usec + 500) / 1000);
		add_reason(entry, g_string_free(g_steal_pointer(&connectivity), FALSE));
	}
	if (entry->advisory)
		add_reason(entry, g_strdup("uplink advisory: probes fail while the link is up"));
	if (entry->metered)
		add_reason(entry, g_strdup("metered"));
}

void
vigil_interface_rank(guint family, VigilRankEntry *entries, guint n_entries)
{
	g_autoptr(GPtrArray) successors = g_ptr_array_new();
	VigilRankEntry *first = NULL;
	gboolean looked_up = FALSE;

	g_return_if_fail(family == 4 || family == 6);

	for (guint i = 0; i < n_entries; i++) {
		VigilRankEntry *entry = &entries[i];

		if (entry->reasons == NULL)
			entry->reasons = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_set_size(entry->reasons, 0);
		entry->rank = -1;
		if (!check_eligible(family, entry))
			continue;
		g_ptr_array_add(successors, entry);
	}

	/* rank 0: what the kernel really uses, else the lowest metric */
	for (guint i = 0; i < successors->len; i++) {
		VigilRankEntry *entry = g_ptr_array_index(successors, i);
		if (entry->carries_default) {
			first = entry;
			looked_up = TRUE;
			break;
		}
	}
	for (guint i = 0; !looked_up && i < successors->len; i++) {
		VigilRankEntry *entry = g_ptr_array_index(successors, i);
		if (first == NULL || entry->metric < first->metric ||
		    (entry->metric == first->metric && entry->ifindex < first->ifindex))
			first = entry;
	}
	if (first == NULL)
		return;
	g_ptr_array_remove(successors, first);
	g_ptr_array_sort(successors, compare_successors_cb);

	first->rank = 0;
	if (looked_up)
		add_reason(first, g_strdup_printf("carries default IPv%u traffic", family));
	else
		add_reason(first,
			   g_strdup_printf("carries default IPv%u traffic (lowest metric; the "
					   "route lookup named no eligible interface)",
					   family));
	add_common_reasons(first);
	for (guint i = 0; i < successors->len; i++) {
		VigilRankEntry *entry = g_ptr_array_index(successors, i);
		if (validation_score(entry->connectivity) > validation_score(first->connectivity)) {
			add_reason(first,
				   g_strdup_printf("%s %s, this one %s",
						   entry->name,
						   connectivity_phrase(entry->connectivity),
						   connectivity_phrase(first->connectivity)));
			break;
		}
	}

	for (guint i = 0; i < successors->len; i++) {
		VigilRankEntry *entry = g_ptr_array_index(successors, i);

		entry->rank = (gint)i + 1;
		if (i == 0)
			add_reason(entry,
				   g_strdup_printf("next to take over from %s", first->name));
		add_common_reasons(entry);
		if (i + 1 < successors->len)
			add_reason(entry,
				   takeover_reason(entry, g_ptr_array_index(successors, i + 1)));
	}
}

void
vigil_rank_entry_clear(VigilRankEntry *entry)
{
	g_clear_pointer(&entry->reasons, g_ptr_array_unref);
}
