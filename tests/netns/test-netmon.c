/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <net/if.h>
#include <string.h>

#include "vigil-netmon.h"
#include "vigil-test-netns.h"

/*
 * VigilNetmon against the real kernel, in the test's own network namespace: two veth
 * uplinks a0 (metric 100) and b0 (metric 200), both ends in the namespace. This is the
 * API the connectivity checker uses: "changed", "updated", vigil_netmon_get_interfaces()
 * and vigil_netmon_set_validation().
 */

typedef struct {
	VigilNetmon *netmon;
	guint changed;
	guint updated;
	guint updated_target;
	guint a0;
	guint b0;
} Fixture;

static void
changed_cb(VigilNetmon *netmon, Fixture *fixture)
{
	fixture->changed++;
}

static void
updated_cb(VigilNetmon *netmon, Fixture *fixture)
{
	fixture->updated++;
}

static VigilNetmonInterface *
find_interface(Fixture *fixture, const gchar *name)
{
	g_autoptr(GPtrArray) interfaces = vigil_netmon_get_interfaces(fixture->netmon);

	for (guint i = 0; i < interfaces->len; i++) {
		VigilNetmonInterface *iface = g_ptr_array_index(interfaces, i);
		if (g_strcmp0(iface->name, name) == 0)
			return vigil_netmon_interface_ref(iface);
	}
	return NULL;
}

static gboolean
has_reason(VigilNetmonInterface *iface, guint family, const gchar *reason)
{
	return g_strv_contains(
	    (const gchar *const *)iface->reasons[vigil_netmon_family_index(family)],
	    reason);
}

static gboolean
ranked_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) a0 = find_interface(fixture, "a0");
	g_autoptr(VigilNetmonInterface) b0 = find_interface(fixture, "b0");

	return a0 != NULL && b0 != NULL && a0->rank[0] == 0 && b0->rank[0] == 1;
}

static gboolean
portal_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) a0 = find_interface(fixture, "a0");

	return a0 != NULL &&
	       has_reason(a0, 4, "b0 has full connectivity, this one is behind a portal");
}

static gboolean
renamed_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) iface = find_interface(fixture, "uplink7");

	/* the event path has the name at once, the ranked snapshot after the debounce */
	return g_strcmp0(vigil_netmon_lookup_name(fixture->netmon, fixture->b0), "uplink7") == 0 &&
	       iface != NULL;
}

static gboolean
updated_target_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	return fixture->updated >= fixture->updated_target;
}

static gboolean
known_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) a1 = find_interface(fixture, "a1");

	return a1 != NULL;
}

static gboolean
deleted_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) a0 = find_interface(fixture, "a0");

	return vigil_netmon_lookup_name(fixture->netmon, fixture->a0) == NULL && a0 == NULL;
}

static gboolean
run(const gchar *command)
{
	g_auto(GStrv) argv = g_strsplit(command, " ", -1);
	g_autoptr(GError) error = NULL;
	gboolean ret = vigil_test_run((const gchar *const *)argv, &error);

	g_assert_no_error(error);
	return ret;
}

static void
test_netmon_func(void)
{
	Fixture fixture = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilNetmonInterface) a0 = NULL;
	g_autoptr(VigilNetmonInterface) b0 = NULL;
	guint changed;
	guint updated;
	gboolean ret;

	/* link-local addresses finishing DAD would be changes of their own, seconds later */
	g_assert_true(run("sysctl -qw net.ipv6.conf.default.accept_dad=0"));
	g_assert_true(run("ip link add a0 type veth peer name a1"));
	g_assert_true(run("ip link add b0 type veth peer name b1"));
	g_assert_true(run("ip addr add 198.18.1.1/24 dev a0"));
	g_assert_true(run("ip addr add 198.18.2.1/24 dev b0"));
	g_assert_true(run("ip link set a1 up"));
	g_assert_true(run("ip link set b1 up"));
	g_assert_true(run("ip link set a0 up"));
	g_assert_true(run("ip link set b0 up"));
	g_assert_true(run("ip route add default dev a0 metric 100"));
	g_assert_true(run("ip route add default dev b0 metric 200"));
	fixture.a0 = if_nametoindex("a0");
	fixture.b0 = if_nametoindex("b0");
	g_assert_cmpuint(fixture.a0, >, 0);

	fixture.netmon = vigil_netmon_new(NULL, NULL);
	g_signal_connect(fixture.netmon, "changed", G_CALLBACK(changed_cb), &fixture);
	g_signal_connect(fixture.netmon, "updated", G_CALLBACK(updated_cb), &fixture);
	ret = vigil_netmon_start(fixture.netmon, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(vigil_test_wait_until(ranked_cb, &fixture, 10000));
	g_assert_cmpuint(fixture.changed, >=, 1);
	g_assert_cmpstr(vigil_netmon_lookup_name(fixture.netmon, fixture.a0), ==, "a0");
	g_assert_null(vigil_netmon_lookup_name(fixture.netmon, 9999));

	a0 = find_interface(&fixture, "a0");
	g_assert_cmpuint(a0->ifindex, ==, fixture.a0);
	g_assert_cmpstr(a0->kind, ==, "virtual");
	g_assert_true(a0->up);
	g_assert_true(a0->carrier);
	g_assert_true(a0->default_route[0]);
	g_assert_false(a0->default_route[1]);
	g_assert_cmpuint(a0->metric[0], ==, 100);
	g_assert_null(a0->gateway[0]); /* a direct route */
	g_assert_true(g_strv_contains((const gchar *const *)a0->addresses, "198.18.1.1/24"));
	g_assert_cmpint(a0->rank[1], ==, -1);
	g_assert_true(has_reason(a0, 6, "no IPv6 address"));
	g_assert_true(has_reason(a0, 4, "carries default IPv4 traffic"));
	g_clear_pointer(&a0, vigil_netmon_interface_unref);

	/* counters sampled for a watcher are updates, not changes: no re-check for them */
	changed = fixture.changed;
	fixture.updated_target = fixture.updated + 2;
	vigil_netmon_set_watched(fixture.netmon, TRUE);
	g_assert_true(vigil_test_wait_until(updated_target_cb, &fixture, 6000));
	vigil_netmon_set_watched(fixture.netmon, FALSE);
	g_assert_cmpuint(fixture.changed, ==, changed);

	/* what the checker found changes the reasons, and is no "changed" (no re-check) */
	changed = fixture.changed;
	updated = fixture.updated;
	vigil_netmon_set_validation(fixture.netmon,
				    fixture.a0,
				    4,
				    VIGIL_CONNECTIVITY_PORTAL,
				    30 * 1000);
	vigil_netmon_set_validation(fixture.netmon,
				    fixture.b0,
				    4,
				    VIGIL_CONNECTIVITY_FULL,
				    12 * 1000);
	vigil_netmon_set_validation(fixture.netmon, 9999, 4, VIGIL_CONNECTIVITY_FULL, -1);
	g_assert_true(vigil_test_wait_until(portal_cb, &fixture, 5000));
	g_assert_cmpuint(fixture.changed, ==, changed);
	g_assert_cmpuint(fixture.updated, >, updated);
	a0 = find_interface(&fixture, "a0");
	b0 = find_interface(&fixture, "b0");
	/* the kernel still sends the traffic through a0: the ranking says so, and warns */
	g_assert_cmpint(a0->rank[0], ==, 0);
	g_assert_true(has_reason(a0, 4, "connectivity: portal (probe 30 ms)"));
	g_assert_true(has_reason(b0, 4, "connectivity: full (probe 12 ms)"));
	g_clear_pointer(&a0, vigil_netmon_interface_unref);
	g_clear_pointer(&b0, vigil_netmon_interface_unref);

	/* a rename: the event path's names follow at once, and "changed" goes out */
	changed = fixture.changed;
	g_assert_true(run("ip link set b0 down"));
	g_assert_true(run("ip link set b0 name uplink7"));
	g_assert_true(vigil_test_wait_until(renamed_cb, &fixture, 5000));
	b0 = find_interface(&fixture, "uplink7");
	g_assert_nonnull(b0);
	g_assert_false(b0->up);
	g_assert_cmpint(b0->rank[0], ==, -1);
	g_assert_true(has_reason(b0, 4, "down"));
	g_assert_cmpuint(fixture.changed, >, changed);

	/* gone: its index is forgotten */
	g_assert_true(run("ip link del a0"));
	g_assert_true(vigil_test_wait_until(deleted_cb, &fixture, 5000));

	vigil_netmon_stop(fixture.netmon);
	g_assert_finalize_object(fixture.netmon);
}

static gboolean
all_addresses_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(VigilNetmonInterface) a1 = find_interface(fixture, "a1");

	return a1 != NULL && g_strv_length(a1->addresses) >= 200 &&
	       g_strv_contains((const gchar *const *)a1->addresses, "198.18.9.1/32") &&
	       g_strv_contains((const gchar *const *)a1->addresses, "198.18.9.200/32");
}

/* events pile up beyond a tiny receive buffer: the monitor dumps everything again */
static void
test_netmon_overrun_func(void)
{
	Fixture fixture = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) batch = g_string_new(NULL);
	g_autofree gchar *path = NULL;
	g_autofree gchar *command = NULL;
	gint fd;

	g_assert_true(run("ip link add a0 type veth peer name a1"));
	g_assert_true(run("ip link set a1 up"));
	g_assert_true(run("ip link set a0 up"));
	fixture.netmon = vigil_netmon_new(NULL, NULL);
	vigil_netmon_set_receive_buffer(fixture.netmon, 1);
	g_assert_true(vigil_netmon_start(fixture.netmon, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_test_wait_until(known_cb, &fixture, 5000));

	/* the main loop does not run while ip adds them: no event is read meanwhile */
	for (guint i = 1; i <= 200; i++)
		g_string_append_printf(batch, "addr add 198.18.9.%u/32 dev a1\n", i);
	fd = g_file_open_tmp("netmon-XXXXXX", &path, &error);
	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path, batch->str, -1, &error));
	g_assert_no_error(error);
	g_close(fd, NULL);
	command = g_strdup_printf("ip -batch %s", path);
	g_assert_true(run(command));
	g_assert_true(vigil_test_wait_until(all_addresses_cb, &fixture, 10000));
	g_assert_cmpuint(vigil_netmon_get_overruns(fixture.netmon), >, 0);
	g_assert_true(run("ip link del a0"));
	g_unlink(path);

	vigil_netmon_stop(fixture.netmon);
	g_assert_finalize_object(fixture.netmon);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *reason = NULL;

	if (!vigil_test_netns_enter(&reason))
		return vigil_test_netns_skip(argc, argv, reason);
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/netns/netmon/checker-api", test_netmon_func);
	g_test_add_func("/vigil/netns/netmon/overrun", test_netmon_overrun_func);
	return g_test_run();
}
