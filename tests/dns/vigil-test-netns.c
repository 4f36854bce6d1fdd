/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vigil-test-netns.h"

/*
 * The test process moves itself into a fresh, anonymous network namespace (gone when it
 * exits) and builds a named server namespace joined to it by a veth pair. Call
 * vigil_test_netns_enter() first thing in main(), before GLib starts any thread: a
 * namespace is per thread, and threads inherit the namespace of the thread creating them.
 */

gboolean
vigil_test_run(const gchar *const *argv, GError **error)
{
	g_autofree gchar *err = NULL;
	gint status = 0;

	if (!g_spawn_sync(NULL,
			  (gchar **)argv,
			  NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
			  NULL,
			  NULL,
			  NULL,
			  &err,
			  &status,
			  error))
		return FALSE;
	if (!g_spawn_check_wait_status(status, error)) {
		g_autofree gchar *command = g_strjoinv(" ", (gchar **)argv);

		g_prefix_error(error, "%s: %s: ", command, err != NULL ? g_strstrip(err) : "");
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_test_netns_enter(gchar **reason)
{
	const gchar *lo_up[] = {"ip", "link", "set", "lo", "up", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ip = g_find_program_in_path("ip");

	if (geteuid() != 0) {
		*reason = g_strdup("needs root to create network namespaces");
		return FALSE;
	}
	if (ip == NULL) {
		*reason = g_strdup("needs ip from iproute2");
		return FALSE;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		*reason =
		    g_strdup_printf("cannot create a network namespace: %s", g_strerror(errno));
		return FALSE;
	}
	if (!vigil_test_run(lo_up, &error)) {
		*reason = g_strdup(error->message);
		return FALSE;
	}
	return TRUE;
}

/* a skipped TAP run is an empty plan; a plain run exits 77 */
gint
vigil_test_netns_skip(gint argc, gchar **argv, const gchar *reason)
{
	for (gint i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--tap") == 0) {
			g_print("1..0 # SKIP %s\n", reason);
			return 0;
		}
	}
	g_printerr("skipped: %s\n", reason);
	return 77;
}

/* namespaces of earlier runs that crashed before cleaning up */
static void
vigil_test_net_remove_stale(const gchar *tag)
{
	g_autoptr(GDir) dir = g_dir_open("/run/netns", 0, NULL);
	g_autofree gchar *prefix = g_strdup_printf("vgt-%s-", tag);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		const gchar *del[] = {"ip", "netns", "del", name, NULL};
		gint64 pid;

		if (!g_str_has_prefix(name, prefix))
			continue;
		pid = g_ascii_strtoll(name + strlen(prefix), NULL, 10);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		vigil_test_run(del, NULL);
	}
}

VigilTestNet *
vigil_test_net_new(const gchar *tag, GError **error)
{
	g_autoptr(VigilTestNet) self = g_new0(VigilTestNet, 1);
	const gchar *del[] = {"ip", "netns", "del", NULL, NULL};
	const gchar *add[] = {"ip", "netns", "add", NULL, NULL};

	vigil_test_net_remove_stale(tag);
	self->server_ns = g_strdup_printf("vgt-%s-%d", tag, (gint)getpid());
	self->servers = g_ptr_array_new_with_free_func(g_object_unref);
	del[3] = add[3] = self->server_ns;
	vigil_test_run(del, NULL);
	if (!vigil_test_run(add, error)) {
		g_clear_pointer(&self->server_ns, g_free);
		return NULL;
	}
	{
		const gchar *ns = self->server_ns;
		const gchar *commands[][16] = {
		    {"ip",
		     "link",
		     "add",
		     "veth0",
		     "type",
		     "veth",
		     "peer",
		     "name",
		     "veth1",
		     "netns",
		     ns,
		     NULL},
		    {"ip", "addr", "add", VIGIL_TEST_CLIENT4 "/24", "dev", "veth0", NULL},
		    {"ip", "addr", "add", VIGIL_TEST_CLIENT6 "/64", "dev", "veth0", "nodad", NULL},
		    {"ip", "link", "set", "veth0", "up", NULL},
		    {"ip", "-n", ns, "addr", "add", VIGIL_TEST_SERVER4 "/24", "dev", "veth1", NULL},
		    {"ip",
		     "-n",
		     ns,
		     "addr",
		     "add",
		     VIGIL_TEST_SERVER6 "/64",
		     "dev",
		     "veth1",
		     "nodad",
		     NULL},
		    {"ip", "-n", ns, "link", "set", "veth1", "up", NULL},
		    {"ip", "-n", ns, "link", "set", "lo", "up", NULL},
		};

		for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
			if (!vigil_test_run(commands[i], error))
				return NULL;
		}
	}
	return g_steal_pointer(&self);
}

/* servers die with the test, even when it aborts, so that meson does not wait for them */
static void
child_setup_cb(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* starts a server that prints "ready" once it listens, and waits for that line */
gboolean
vigil_test_net_spawn(VigilTestNet *self,
		     gboolean in_server_ns,
		     const gchar *const *argv,
		     GError **error)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GDataInputStream) stream = NULL;
	g_autofree gchar *line = NULL;

	if (in_server_ns) {
		g_ptr_array_add(args, (gpointer) "ip");
		g_ptr_array_add(args, (gpointer) "netns");
		g_ptr_array_add(args, (gpointer) "exec");
		g_ptr_array_add(args, self->server_ns);
	}
	for (guint i = 0; argv[i] != NULL; i++)
		g_ptr_array_add(args, (gpointer)argv[i]);
	g_ptr_array_add(args, NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	process = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)args->pdata, error);
	if (process == NULL)
		return FALSE;
	stream = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process));
	line = g_data_input_stream_read_line(stream, NULL, NULL, error);
	if (line == NULL || g_strcmp0(g_strstrip(line), "ready") != 0) {
		if (error != NULL && *error == NULL)
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "%s did not start",
				    argv[0]);
		g_subprocess_force_exit(process);
		return FALSE;
	}
	g_ptr_array_add(self->servers, g_steal_pointer(&process));
	return TRUE;
}

void
vigil_test_net_free(VigilTestNet *self)
{
	if (self == NULL)
		return;
	if (self->servers != NULL) {
		for (guint i = 0; i < self->servers->len; i++) {
			GSubprocess *process = g_ptr_array_index(self->servers, i);

			g_subprocess_send_signal(process, SIGTERM);
			g_subprocess_wait(process, NULL, NULL);
		}
		g_ptr_array_unref(self->servers);
	}
	if (self->server_ns != NULL) {
		const gchar *del[] = {"ip", "netns", "del", self->server_ns, NULL};

		vigil_test_run(del, NULL);
		g_free(self->server_ns);
	}
	g_free(self);
}

static gboolean
wake_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* runs the default main context until @condition holds, at most @timeout_ms */
gboolean
vigil_test_wait_until(GSourceFunc condition, gpointer user_data, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	guint wake_id = g_timeout_add(10, wake_cb, NULL);
	gboolean ok = FALSE;

	while (!(ok = condition(user_data)) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(wake_id);
	return ok;
}
