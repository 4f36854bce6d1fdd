/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-attribution.h"
#include "vigil-connect-hook.h"
#include "vigil-error.h"
#include "vigil-proc-connector.h"

/*
 * VigilAttribution against the real kernel. Each test runs in a network namespace of its
 * own with listeners on 127.0.0.1 and ::1; attr-helper processes make the connections and
 * report the tuple they used (getsockname/getpeername) through a pipe, and the test asks
 * who made that flow, asserting pid and exe. The "no-proc-events" variants run the same
 * cases with scans and sweeps only, as on a system without the proc connector; the
 * "kernel-hook" variants with the eBPF connect hook, which answers TCP flows of cached
 * processes (the plain variants run without it, so that sock_diag answers every flow).
 */

#define TIMEOUT_MS	    10000
#define BURST_PROCESSES	    256
#define BURST_LIFETIME_MS   "3000"
#define BOUNDED_CONNECTIONS 2000
#define BOUNDED_PROCESSES   8
#define BOUNDED_INODES	    32

typedef enum {
	TEST_FLAG_NONE = 0,
	TEST_FLAG_NO_PROC_EVENTS = 1 << 0,
	TEST_FLAG_BOUNDED = 1 << 1,
	TEST_FLAG_HOOK = 1 << 2,
} TestFlags;

typedef struct {
	VigilAttribution *attribution;
	gint tcp4;
	gint tcp6;
	gint udp4;
	gint udp6;
	gchar tcp4_port[8];
	gchar tcp6_port[8];
	gchar udp4_port[8];
	gchar udp6_port[8];
} Fixture;

typedef struct {
	GPid pid;
	gint report_fd;
	gint release_fd;
	GString *buf;
} Helper;

typedef struct {
	guint32 pid;
	VigilFlowKey key;
} Report;

typedef struct {
	gboolean done;
	VigilProcess *process;
	GError *error;
} LookupResult;

static gchar *helper_path = NULL;
static gchar *helper_b_path = NULL;
static gchar *self_path = NULL;

/* --- namespace and listeners --------------------------------------------------------------- */

static void
test_netns_enter(void)
{
	struct ifreq ifr = {0};
	gint fd;

	g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
	ifr.ifr_flags |= IFF_UP;
	g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
	close(fd);
}

/* 127.0.0.1 or ::1 with @port */
static void
test_loopback(gint family, guint16 port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	}
}

static gint
test_listen(gint family, gint type, gchar *port_str)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	gint fd = socket(family, type | SOCK_CLOEXEC, 0);
	guint16 port;

	g_assert_cmpint(fd, >=, 0);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	g_assert_cmpint(bind(fd, (struct sockaddr *)&ss, len), ==, 0);
	if (type == SOCK_STREAM)
		g_assert_cmpint(listen(fd, 4096), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&ss, &len), ==, 0);
	port = family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				 : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	g_snprintf(port_str, 8, "%u", port);
	return fd;
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	TestFlags flags = GPOINTER_TO_INT(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ret;

	test_netns_enter();
	fixture->tcp4 = test_listen(AF_INET, SOCK_STREAM, fixture->tcp4_port);
	fixture->tcp6 = test_listen(AF_INET6, SOCK_STREAM, fixture->tcp6_port);
	fixture->udp4 = test_listen(AF_INET, SOCK_DGRAM, fixture->udp4_port);
	fixture->udp6 = test_listen(AF_INET6, SOCK_DGRAM, fixture->udp6_port);

	fixture->attribution = vigil_attribution_new();
	if (flags & TEST_FLAG_NO_PROC_EVENTS)
		vigil_attribution_set_use_proc_connector(fixture->attribution, FALSE);
	if (flags & TEST_FLAG_BOUNDED)
		vigil_attribution_set_limits(fixture->attribution,
					     BOUNDED_PROCESSES,
					     BOUNDED_INODES);
	vigil_attribution_set_use_connect_hook(fixture->attribution, (flags & TEST_FLAG_HOOK) != 0);
	ret = vigil_attribution_start(fixture->attribution, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	/* the kernels CI runs on have it: a variant that silently ran without it would test
	 * nothing new */
	if (flags & TEST_FLAG_HOOK) {
		VigilAttributionStats stats;
		vigil_attribution_get_stats(fixture->attribution, &stats);
		g_assert_true(stats.connect_hook);
	}
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->attribution);
	close(fixture->tcp4);
	close(fixture->tcp6);
	close(fixture->udp4);
	close(fixture->udp6);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

#define fixtured_test(path, func, flags)                                                           \
	g_test_add(path, Fixture, GINT_TO_POINTER(flags), fixture_setup, func, fixture_teardown)

/* --- helper processes ---------------------------------------------------------------------- */

static Helper *
helper_spawn_argv(const gchar *exe, const gchar *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	Helper *helper = g_new0(Helper, 1);
	gint report[2];
	gint release[2];

	g_ptr_array_add(argv, (gpointer)exe);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);

	g_assert_cmpint(pipe2(report, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(release, O_CLOEXEC), ==, 0);
	helper->pid = fork();
	g_assert_cmpint(helper->pid, >=, 0);
	if (helper->pid == 0) {
		gint r = fcntl(report[1], F_DUPFD, 10);
		gint l = fcntl(release[0], F_DUPFD, 10);
		if (r < 0 || l < 0 || dup2(r, 3) < 0 || dup2(l, 4) < 0)
			_exit(126);
		execv(exe, (gchar **)argv->pdata);
		_exit(127);
	}
	close(report[1]);
	close(release[0]);
	helper->report_fd = report[0];
	helper->release_fd = release[1];
	helper->buf = g_string_new(NULL);
	return helper;
}

static Helper *
helper_spawn(const gchar *exe, const gchar *first, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	const gchar *arg;
	va_list ap;

	va_start(ap, first);
	for (arg = first; arg != NULL; arg = va_arg(ap, const gchar *))
		g_ptr_array_add(args, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(args, NULL);
	return helper_spawn_argv(exe, (const gchar *const *)args->pdata);
}

/* the next line of the helper's report, or NULL at EOF or after @timeout_ms */
static gchar *
helper_read_line(Helper *helper, gint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (TRUE) {
		gchar *nl = strchr(helper->buf->str, '\n');
		struct pollfd pfd = {helper->report_fd, POLLIN, 0};
		gchar chunk[256];
		gint64 left;
		gssize n;

		if (nl != NULL) {
			gchar *line = g_strndup(helper->buf->str, (gsize)(nl - helper->buf->str));
			g_string_erase(helper->buf, 0, nl - helper->buf->str + 1);
			return line;
		}
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0 || poll(&pfd, 1, (gint)left) <= 0)
			return NULL;
		n = read(helper->report_fd, chunk, sizeof(chunk));
		if (n <= 0)
			return NULL;
		g_string_append_len(helper->buf, chunk, n);
	}
}

static void
helper_release(Helper *helper)
{
	g_assert_cmpint(write(helper->release_fd, "x", 1), ==, 1);
}

/* EOF on the release pipe lets every process of the helper go; then reap it */
static gint
helper_finish(Helper *helper)
{
	gint status = 0;

	close(helper->release_fd);
	close(helper->report_fd);
	g_assert_cmpint(waitpid(helper->pid, &status, 0), ==, helper->pid);
	g_string_free(helper->buf, TRUE);
	g_free(helper);
	return status;
}

static void
report_parse(const gchar *line, Report *report)
{
	g_auto(GStrv) fields = g_strsplit(line, " ", -1);
	gint af;
	gsize len;

	g_assert_cmpuint(g_strv_length(fields), ==, 7);
	memset(report, 0, sizeof(*report));
	report->pid = (guint32)atoi(fields[0]);
	report->key.protocol = g_strcmp0(fields[1], "tcp") == 0 ? IPPROTO_TCP : IPPROTO_UDP;
	report->key.family = (guint8)atoi(fields[2]);
	af = report->key.family == 4 ? AF_INET : AF_INET6;
	len = report->key.family == 4 ? 4 : 16;
	g_assert_cmpint(inet_pton(af, fields[3], report->key.local), ==, 1);
	g_assert_cmpint(inet_pton(af, fields[5], report->key.remote), ==, 1);
	report->key.local_port = (guint16)atoi(fields[4]);
	report->key.remote_port = (guint16)atoi(fields[6]);
	/* an unbound sender's packet leaves with the address of the route: loopback here */
	for (gsize i = 0; i < len; i++) {
		if (report->key.local[i] != 0)
			return;
	}
	if (af == AF_INET)
		memcpy(report->key.local, report->key.remote, 4);
	else
		memcpy(report->key.local, &in6addr_loopback, 16);
}

static void
helper_read_report(Helper *helper, Report *report)
{
	g_autofree gchar *line = helper_read_line(helper, TIMEOUT_MS);

	g_assert_nonnull(line);
	report_parse(line, report);
}

/* --- lookups ------------------------------------------------------------------------------- */

static void
test_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	LookupResult *result = user_data;

	result->process =
	    vigil_attribution_lookup_finish(VIGIL_ATTRIBUTION(source), res, &result->error);
	result->done = TRUE;
}

static VigilProcess *
test_lookup(VigilAttribution *attribution, const VigilFlowKey *key, GError **error)
{
	LookupResult result = {0};

	vigil_attribution_lookup_async(attribution, key, NULL, test_lookup_cb, &result);
	while (!result.done)
		g_main_context_iteration(NULL, TRUE);
	if (result.error != NULL)
		g_propagate_error(error, result.error);
	return result.process;
}

static void
assert_process(VigilProcess *process, guint32 pid, const gchar *exe)
{
	g_assert_nonnull(process);
	g_assert_cmpuint(vigil_process_get_pid(process), ==, pid);
	g_assert_cmpstr(vigil_process_get_exe(process), ==, exe);
}

/* spawn, read the report, attribute, check pid and exe; returns the record */
static VigilProcess *
test_attribute_helper(Fixture *fixture, Helper *helper, Report *report, const gchar *exe)
{
	g_autoptr(GError) error = NULL;
	VigilProcess *process;

	helper_read_report(helper, report);
	process = test_lookup(fixture->attribution, &report->key, &error);
	g_assert_no_error(error);
	assert_process(process, report->pid, exe);
	return process;
}

/* --- cases --------------------------------------------------------------------------------- */

static void
test_attribution_long_lived_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) process = NULL;
	g_autofree gchar *user = NULL;
	VigilAttributionStats stats;
	Report report;

	process = test_attribute_helper(fixture, helper, &report, helper_path);
	g_assert_cmpuint(report.pid, ==, helper->pid);
	g_assert_cmpuint(vigil_process_get_uid(process), ==, getuid());
	g_assert_cmpstr(vigil_process_get_user(process), ==, "root");
	g_assert_cmpuint(vigil_process_get_ppid(process), ==, getpid());
	/* (not compared with our exe: under valgrind, others see valgrind's) */
	g_assert_nonnull(vigil_process_get_parent_exe(process));
	g_assert_cmpstr(vigil_process_get_host_exe(process), ==, helper_path);
	g_assert_false(vigil_process_get_exe_deleted(process));
	g_assert_false(vigil_process_get_exe_replaced(process));
	g_assert_false(vigil_process_get_in_container(process));
	g_assert_null(vigil_process_get_app_id(process));
	g_assert_nonnull(strstr(vigil_process_get_cmdline(process), "tcp 127.0.0.1"));
	g_assert_nonnull(vigil_process_get_cgroup(process));
	g_assert_cmpuint(vigil_process_get_start_time(process), >, 0);

	/* now the fast path answers, every time */
	for (guint i = 0; i < 100; i++) {
		gboolean need_scan = TRUE;
		g_autoptr(VigilProcess) again =
		    vigil_attribution_lookup(fixture->attribution, &report.key, &need_scan);
		g_assert_false(need_scan);
		g_assert_true(again == process);
	}
	vigil_attribution_get_stats(fixture->attribution, &stats);
	if (GPOINTER_TO_INT(user_data) & TEST_FLAG_HOOK)
		g_assert_cmpuint(stats.hook_hits, >=, 100);
	else
		g_assert_cmpuint(stats.cache_hits, >=, 100);
	g_assert_cmpuint(stats.scans, >=, 1);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_thread_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper =
	    helper_spawn(helper_path, "thread-tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) process = NULL;
	Report report;

	/* the thread reports getpid(): the thread group, which owns the fd table */
	process = test_attribute_helper(fixture, helper, &report, helper_path);
	g_assert_cmpuint(vigil_process_get_pid(process), ==, helper->pid);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_fork_child_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper =
	    helper_spawn(helper_path, "fork-tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) process = NULL;
	Report report;

	process = test_attribute_helper(fixture, helper, &report, helper_path);
	g_assert_cmpuint(report.pid, !=, helper->pid);
	g_assert_cmpuint(vigil_process_get_ppid(process), ==, helper->pid);
	g_assert_cmpstr(vigil_process_get_parent_exe(process), ==, helper_path);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_orphan_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper =
	    helper_spawn(helper_path, "double-fork-tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) process = NULL;
	Report report;

	process = test_attribute_helper(fixture, helper, &report, helper_path);
	g_assert_cmpuint(report.pid, !=, helper->pid);
	/* reparented: its parent is no longer the helper's child */
	g_assert_cmpuint(vigil_process_get_ppid(process), !=, helper->pid);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_shared_socket_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path,
				      "shared-udp",
				      "127.0.0.1",
				      fixture->udp4_port,
				      helper_b_path,
				      NULL);
	g_autoptr(VigilProcess) process = NULL;
	g_autofree gchar *parent_fds = NULL;
	Report report;

	/* the parent made the socket and still holds it; the child (another exe) sent */
	process = test_attribute_helper(fixture, helper, &report, helper_b_path);
	g_assert_cmpuint(report.pid, !=, helper->pid);
	g_assert_cmpuint(vigil_process_get_ppid(process), ==, helper->pid);
	g_assert_cmpstr(vigil_process_get_parent_exe(process), ==, helper_path);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_udp_sendto_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper4 = helper_spawn(helper_path, "udp", "127.0.0.1", fixture->udp4_port, NULL);
	Helper *helper6 = helper_spawn(helper_path, "udp", "::1", fixture->udp6_port, NULL);
	g_autoptr(VigilProcess) process4 = NULL;
	g_autoptr(VigilProcess) process6 = NULL;
	Report report;

	process4 = test_attribute_helper(fixture, helper4, &report, helper_path);
	g_assert_cmpuint(report.key.family, ==, 4);
	process6 = test_attribute_helper(fixture, helper6, &report, helper_path);
	g_assert_cmpuint(report.key.family, ==, 6);
	g_assert_cmpint(helper_finish(helper4), ==, 0);
	g_assert_cmpint(helper_finish(helper6), ==, 0);
}

static void
test_attribution_ipv6_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *tcp = helper_spawn(helper_path, "tcp", "::1", fixture->tcp6_port, NULL);
	Helper *udp = helper_spawn(helper_path, "udp-connected", "::1", fixture->udp6_port, NULL);
	g_autoptr(VigilProcess) process_tcp = NULL;
	g_autoptr(VigilProcess) process_udp = NULL;
	Report report;

	process_tcp = test_attribute_helper(fixture, tcp, &report, helper_path);
	g_assert_cmpuint(report.key.family, ==, 6);
	g_assert_cmpuint(report.key.protocol, ==, IPPROTO_TCP);
	process_udp = test_attribute_helper(fixture, udp, &report, helper_path);
	g_assert_cmpuint(report.key.family, ==, 6);
	g_assert_cmpuint(report.key.protocol, ==, IPPROTO_UDP);
	g_assert_cmpint(helper_finish(tcp), ==, 0);
	g_assert_cmpint(helper_finish(udp), ==, 0);
}

static guint64
test_self_mnt_ns(void)
{
	struct stat st;

	g_assert_cmpint(stat("/proc/self/ns/mnt", &st), ==, 0);
	return st.st_ino;
}

static void
test_attribution_mount_namespace_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("vigil-attr-XXXXXX", &error);
	g_autofree gchar *srcdir = g_path_get_dirname(helper_path);
	g_autofree gchar *inside = NULL;
	g_autoptr(VigilProcess) process = NULL;
	Helper *helper;
	Report report;

	g_assert_no_error(error);
	inside = g_build_filename(dir, "attr-helper", NULL);
	helper = helper_spawn(helper_path,
			      "mntns",
			      dir,
			      srcdir,
			      "tcp",
			      "127.0.0.1",
			      fixture->tcp4_port,
			      NULL);
	/* the process runs a path that exists only in its namespace */
	process = test_attribute_helper(fixture, helper, &report, inside);
	g_assert_cmpstr(vigil_process_get_host_exe(process), ==, helper_path);
	g_assert_true(vigil_process_get_in_container(process));
	g_assert_cmpuint(vigil_process_get_mnt_ns(process), !=, test_self_mnt_ns());
	g_assert_false(vigil_process_get_exe_deleted(process));
	g_assert_false(vigil_process_get_exe_replaced(process));
	g_assert_cmpint(helper_finish(helper), ==, 0);
	g_rmdir(dir);
}

static void
test_attribution_flatpak_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("vigil-attr-XXXXXX", &error);
	g_autofree gchar *srcdir = g_path_get_dirname(helper_path);
	g_autoptr(VigilProcess) process = NULL;
	Helper *helper;
	Report report;

	g_assert_no_error(error);
	helper = helper_spawn(helper_path,
			      "sandbox",
			      dir,
			      srcdir,
			      "io.github.vigilfw.Test",
			      "tcp",
			      "127.0.0.1",
			      fixture->tcp4_port,
			      NULL);
	process = test_attribute_helper(fixture, helper, &report, "/app/attr-helper");
	g_assert_cmpstr(vigil_process_get_app_id(process), ==, "io.github.vigilfw.Test");
	g_assert_cmpstr(vigil_process_get_host_exe(process), ==, helper_path);
	g_assert_true(vigil_process_get_in_container(process));
	g_assert_cmpint(helper_finish(helper), ==, 0);
	g_rmdir(dir);
}

static gchar *
test_sha256_of_file(const gchar *path)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, len);
}

static void
test_copy_executable(const gchar *from, const gchar *to)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(from, &contents, &len, NULL));
	g_assert_true(g_file_set_contents(to, contents, (gssize)len, NULL));
	g_assert_cmpint(g_chmod(to, 0755), ==, 0);
}

static void
test_attribution_exe_changed_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("vigil-attr-XXXXXX", &error);
	g_autofree gchar *replaced = g_build_filename(dir, "replaced", NULL);
	g_autofree gchar *deleted = g_build_filename(dir, "deleted", NULL);
	g_autofree gchar *other = g_build_filename(dir, "other", NULL);
	g_autofree gchar *sha256 = test_sha256_of_file(helper_path);
	g_autoptr(VigilProcess) process_replaced = NULL;
	g_autoptr(VigilProcess) process_deleted = NULL;
	Helper *helper_replaced;
	Helper *helper_deleted;
	Report report_replaced;
	Report report_deleted;

	g_assert_no_error(error);
	test_copy_executable(helper_path, replaced);
	test_copy_executable(helper_path, deleted);
	helper_replaced = helper_spawn(replaced, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	helper_deleted = helper_spawn(deleted, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);

	/* while they run: an upgrade renames another file over one, the other is deleted (both
	 * before the first lookup, as a record tells what it saw when it was read) */
	helper_read_report(helper_replaced, &report_replaced);
	helper_read_report(helper_deleted, &report_deleted);
	test_copy_executable(helper_b_path, other);
	g_assert_cmpint(g_rename(other, replaced), ==, 0);
	g_assert_cmpint(g_unlink(deleted), ==, 0);

	process_replaced = test_lookup(fixture->attribution, &report_replaced.key, &error);
	g_assert_no_error(error);
	assert_process(process_replaced, report_replaced.pid, replaced);
	g_assert_true(vigil_process_get_exe_replaced(process_replaced));
	g_assert_false(vigil_process_get_exe_deleted(process_replaced));
	g_assert_null(vigil_process_get_host_exe(process_replaced));
	/* hashed as it runs, not as the path reads now */
	g_assert_cmpstr(vigil_process_get_exe_sha256(process_replaced, &error), ==, sha256);
	g_assert_no_error(error);

	process_deleted = test_lookup(fixture->attribution, &report_deleted.key, &error);
	g_assert_no_error(error);
	assert_process(process_deleted, report_deleted.pid, deleted);
	g_assert_true(vigil_process_get_exe_deleted(process_deleted));
	g_assert_false(vigil_process_get_exe_replaced(process_deleted));
	g_assert_null(vigil_process_get_host_exe(process_deleted));
	g_assert_cmpstr(vigil_process_get_exe_sha256(process_deleted, &error), ==, sha256);
	g_assert_no_error(error);

	g_assert_cmpint(helper_finish(helper_replaced), ==, 0);
	g_assert_cmpint(helper_finish(helper_deleted), ==, 0);
	g_unlink(replaced);
	g_rmdir(dir);
}

typedef struct {
	Helper *helper;
	guint32 pid;
	gboolean reported;
	gboolean done;
	gboolean correct;
	gboolean wrong;
} BurstProcess;

static void
test_burst_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BurstProcess *burst = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process =
	    vigil_attribution_lookup_finish(VIGIL_ATTRIBUTION(source), res, &error);

	burst->done = TRUE;
	/* attributed (or not): it may go, while the others are still being asked about */
	helper_release(burst->helper);
	if (process == NULL) {
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
		return;
	}
	if (vigil_process_get_pid(process) == burst->pid &&
	    g_strcmp0(vigil_process_get_exe(process), helper_path) == 0) {
		burst->correct = TRUE;
	} else {
		g_printerr("wrong: flow of %u attributed to %u %s\n",
			   burst->pid,
			   vigil_process_get_pid(process),
			   vigil_process_get_exe(process));
		burst->wrong = TRUE;
	}
}

/* reads the reports that are there and asks about each flow at once */
static guint
test_burst_poll(Fixture *fixture, BurstProcess *burst, guint n_spawned)
{
	guint n_done = 0;

	for (guint i = 0; i < n_spawned; i++) {
		struct pollfd pfd = {burst[i].helper->report_fd, POLLIN, 0};
		g_autofree gchar *line = NULL;
		Report report;

		n_done += burst[i].done ? 1 : 0;
		if (burst[i].reported || poll(&pfd, 1, 0) <= 0)
			continue;
		line = helper_read_line(burst[i].helper, TIMEOUT_MS);
		g_assert_nonnull(line);
		report_parse(line, &report);
		burst[i].reported = TRUE;
		burst[i].pid = report.pid;
		vigil_attribution_lookup_async(fixture->attribution,
					       &report.key,
					       NULL,
					       test_burst_lookup_cb,
					       &burst[i]);
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	return n_done;
}

static void
test_attribution_burst_func(Fixture *fixture, gconstpointer user_data)
{
	BurstProcess burst[BURST_PROCESSES] = {{0}};
	guint n_correct = 0;
	guint n_wrong = 0;
	guint n_done = 0;
	gint64 deadline;

	/* short-lived processes, started back to back: each connects once and exits when
	 * it has been attributed, or after a few seconds at most */
	for (guint i = 0; i < BURST_PROCESSES; i++) {
		burst[i].helper = helper_spawn(helper_path,
					       "tcp-once",
					       i % 2 == 0 ? "127.0.0.1" : "::1",
					       i % 2 == 0 ? fixture->tcp4_port : fixture->tcp6_port,
					       BURST_LIFETIME_MS,
					       NULL);
		test_burst_poll(fixture, burst, i + 1);
	}
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (n_done < BURST_PROCESSES && g_get_monotonic_time() < deadline) {
		n_done = test_burst_poll(fixture, burst, BURST_PROCESSES);
		g_usleep(1000);
	}
	for (guint i = 0; i < BURST_PROCESSES; i++) {
		n_correct += burst[i].correct ? 1 : 0;
		n_wrong += burst[i].wrong ? 1 : 0;
		g_assert_true(burst[i].reported);
		g_assert_cmpint(helper_finish(burst[i].helper), ==, 0);
	}
	g_test_message("burst: %u processes, %u attributed, %u unknown, %u wrong",
		       BURST_PROCESSES,
		       n_correct,
		       BURST_PROCESSES - n_correct - n_wrong,
		       n_wrong);
	g_assert_cmpuint(n_done, ==, BURST_PROCESSES);
	g_assert_cmpuint(n_wrong, ==, 0);
	g_assert_cmpuint(n_correct, >=, BURST_PROCESSES * 9 / 10);
}

static void
test_attribution_exit_after_send_func(Fixture *fixture, gconstpointer user_data)
{
	for (guint round = 0; round < 2; round++) {
		Helper *helper =
		    helper_spawn(helper_path, "udp-exit", "127.0.0.1", fixture->udp4_port, NULL);
		g_autoptr(VigilProcess) process = NULL;
		g_autoptr(GError) error = NULL;
		Report report;
		guint32 pid = (guint32)helper->pid;

		helper_read_report(helper, &report);
		/* first after the exit: unknown; then racing it: unknown or right */
		if (round == 0)
			g_assert_cmpint(helper_finish(helper), ==, 0);
		process = test_lookup(fixture->attribution, &report.key, &error);
		if (process != NULL)
			assert_process(process, pid, helper_path);
		else
			g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
		if (round == 0)
			g_assert_null(process);
		else
			g_assert_cmpint(helper_finish(helper), ==, 0);
	}
}

/* the next fork gets @pid, if nothing else forks in between */
static gboolean
test_set_next_pid(guint32 pid)
{
	g_autofree gchar *text = g_strdup_printf("%u", pid - 1);
	gint fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	gboolean ret;

	if (fd < 0)
		return FALSE;
	ret = write(fd, text, strlen(text)) == (gssize)strlen(text);
	close(fd);
	return ret;
}

static void
test_attribution_pid_reuse_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *first = helper_spawn(helper_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) old = NULL;
	g_autoptr(VigilProcess) process = NULL;
	g_autoptr(VigilProcess) gone = NULL;
	g_autoptr(GError) error = NULL;
	Helper *second = NULL;
	Report old_report;
	Report report;
	guint32 pid;

	old = test_attribute_helper(fixture, first, &old_report, helper_path);
	pid = old_report.pid;
	g_assert_cmpint(helper_finish(first), ==, 0);
	/* a later clock tick, so that only the start time tells the two apart */
	g_usleep(30 * 1000);

	for (guint attempt = 0; attempt < 20 && second == NULL; attempt++) {
		if (!test_set_next_pid(pid)) {
			g_test_skip("cannot choose the next pid (ns_last_pid)");
			return;
		}
		second = helper_spawn(helper_b_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
		if ((guint32)second->pid != pid) {
			helper_finish(second);
			second = NULL;
		}
	}
	if (second == NULL) {
		g_test_skip("the pid was taken by another process");
		return;
	}

	/* same pid, another process: its own record, never the old one */
	process = test_attribute_helper(fixture, second, &report, helper_b_path);
	g_assert_cmpuint(vigil_process_get_pid(process), ==, vigil_process_get_pid(old));
	g_assert_cmpuint(vigil_process_get_start_time(process),
			 !=,
			 vigil_process_get_start_time(old));
	g_assert_false(vigil_process_is_same(process, old));

	/* the old flow's socket went with the old process: unknown */
	gone = test_lookup(fixture->attribution, &old_report.key, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_null(gone);
	g_assert_cmpint(helper_finish(second), ==, 0);
}

static void
test_attribution_exec_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path,
				      "tcp-exec",
				      "127.0.0.1",
				      fixture->tcp4_port,
				      helper_b_path,
				      NULL);
	g_autoptr(VigilProcess) before = NULL;
	g_autoptr(VigilProcess) after = NULL;
	g_autoptr(VigilProcess) first_again = NULL;
	g_autoptr(GError) error = NULL;
	Report first;
	Report second;

	before = test_attribute_helper(fixture, helper, &first, helper_path);
	helper_release(helper);
	/* the same process, now running another program */
	after = test_attribute_helper(fixture, helper, &second, helper_b_path);
	g_assert_cmpuint(first.pid, ==, second.pid);
	first_again = test_lookup(fixture->attribution, &first.key, &error);
	g_assert_no_error(error);
	assert_process(first_again, first.pid, helper_b_path);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

/* the queue handler's lookup of a packet that waited through a poll: the poll saw the exec
 * event (queued before the connect), so the record of the old program is not used */
static void
test_attribution_exec_queued_before_poll_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path,
				      "tcp-exec",
				      "127.0.0.1",
				      fixture->tcp4_port,
				      helper_b_path,
				      NULL);
	g_autoptr(VigilProcess) before = NULL;
	g_autoptr(VigilProcess) fast = NULL;
	g_autoptr(VigilProcess) after = NULL;
	g_autoptr(GError) error = NULL;
	gboolean need_scan = FALSE;
	Report first;
	Report second;

	before = test_attribute_helper(fixture, helper, &first, helper_path);
	helper_release(helper);
	helper_read_report(helper, &second);
	g_assert_cmpuint(first.pid, ==, second.pid);
	/* one poll since the connect, as for a packet the queue reads after it */
	g_main_context_iteration(NULL, FALSE);
	fast = vigil_attribution_lookup_full(fixture->attribution,
					     &second.key,
					     VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL,
					     &need_scan);
	if (fast != NULL)
		assert_process(fast, second.pid, helper_b_path);
	else
		g_assert_true(need_scan);
	after = test_lookup(fixture->attribution, &second.key, &error);
	g_assert_no_error(error);
	assert_process(after, second.pid, helper_b_path);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_cancel_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	LookupResult result = {0};
	Report report;

	helper_read_report(helper, &report);
	vigil_attribution_lookup_async(fixture->attribution,
				       &report.key,
				       cancellable,
				       test_lookup_cb,
				       &result);
	g_cancellable_cancel(cancellable);
	while (!result.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result.process);
	g_clear_error(&result.error);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

typedef struct {
	GArray *events; /* of VigilProcEvent */
} EventLog;

static void
test_proc_event_cb(const VigilProcEvent *event, gpointer user_data)
{
	EventLog *log = user_data;

	g_array_append_val(log->events, *event);
}

static gboolean
test_event_seen(EventLog *log, VigilProcEventKind kind, guint32 pid, guint32 parent_pid)
{
	for (guint i = 0; i < log->events->len; i++) {
		VigilProcEvent *event = &g_array_index(log->events, VigilProcEvent, i);
		if (event->kind == kind && event->pid == pid &&
		    (parent_pid == 0 || event->parent_pid == parent_pid))
			return TRUE;
	}
	return FALSE;
}

static void
test_attribution_proc_connector_func(Fixture *fixture, gconstpointer user_data)
{
	EventLog log = {g_array_new(FALSE, FALSE, sizeof(VigilProcEvent))};
	g_autoptr(VigilProcConnector) connector =
	    vigil_proc_connector_new(test_proc_event_cb, &log);
	g_autoptr(GError) error = NULL;
	gint64 deadline = g_get_monotonic_time() + TIMEOUT_MS * 1000;
	gboolean ret;
	Helper *helper;
	guint32 pid;

	ret = vigil_proc_connector_start(connector, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	helper = helper_spawn(helper_path, "exit", NULL);
	pid = (guint32)helper->pid;
	g_assert_cmpint(helper_finish(helper), ==, 0);
	while (!test_event_seen(&log, VIGIL_PROC_EVENT_EXIT, pid, 0) &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_true(test_event_seen(&log, VIGIL_PROC_EVENT_FORK, pid, (guint32)getpid()));
	g_assert_true(test_event_seen(&log, VIGIL_PROC_EVENT_EXEC, pid, 0));
	g_assert_true(test_event_seen(&log, VIGIL_PROC_EVENT_EXIT, pid, 0));
	g_array_unref(log.events);
}

static void
test_exited_cb(VigilAttribution *attribution, VigilProcess *process, gpointer user_data)
{
	GArray *pids = user_data;
	guint32 pid = vigil_process_get_pid(process);

	g_array_append_val(pids, pid);
}

static gboolean
test_pid_in(GArray *pids, guint32 pid)
{
	for (guint i = 0; i < pids->len; i++) {
		if (g_array_index(pids, guint32, i) == pid)
			return TRUE;
	}
	return FALSE;
}

static void
test_attribution_exit_evicts_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(GArray) exited = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(VigilProcess) process = NULL;
	g_autoptr(VigilProcess) cached = NULL;
	VigilAttributionStats stats;
	gint64 deadline;
	Report report;

	g_signal_connect(fixture->attribution,
			 "process-exited",
			 G_CALLBACK(test_exited_cb),
			 exited);
	process = test_attribute_helper(fixture, helper, &report, helper_path);
	cached = vigil_attribution_get_cached_process(fixture->attribution, report.pid);
	g_assert_true(cached == process);
	g_clear_object(&cached);
	g_assert_cmpint(helper_finish(helper), ==, 0);

	/* an exit event at once, or the sweep (every 5 s) without proc events */
	deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	while (!test_pid_in(exited, report.pid) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(test_pid_in(exited, report.pid));
	cached = vigil_attribution_get_cached_process(fixture->attribution, report.pid);
	g_assert_null(cached);
	vigil_attribution_get_stats(fixture->attribution, &stats);
	g_assert_cmpuint(stats.proc_connector,
			 ==,
			 (GPOINTER_TO_INT(user_data) & TEST_FLAG_NO_PROC_EVENTS) == 0);
}

static void
test_attribution_overrun_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *helper = helper_spawn(helper_path, "tcp", "127.0.0.1", fixture->tcp4_port, NULL);
	g_autoptr(VigilProcess) before = NULL;
	g_autoptr(VigilProcess) after = NULL;
	VigilAttributionStats stats;
	gint64 deadline;
	Report report;

	before = test_attribute_helper(fixture, helper, &report, helper_path);

	/* more forks and exits than the socket buffer holds, with nobody reading */
	for (guint i = 0; i < 8000; i++) {
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0)
			_exit(0);
		g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
	}
	after = test_lookup(fixture->attribution, &report.key, NULL);
	assert_process(after, report.pid, helper_path);
	vigil_attribution_get_stats(fixture->attribution, &stats);
	if (stats.overruns == 0) {
		g_test_skip("the kernel kept every proc event");
		g_assert_cmpint(helper_finish(helper), ==, 0);
		return;
	}
	g_assert_false(stats.proc_connector);

	/* the resync checks every cached process, then events are trusted again */
	deadline = g_get_monotonic_time() + TIMEOUT_MS * 1000;
	while (!stats.proc_connector && g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, TRUE);
		vigil_attribution_get_stats(fixture->attribution, &stats);
	}
	g_assert_true(stats.proc_connector);
	g_clear_object(&after);
	after = test_lookup(fixture->attribution, &report.key, NULL);
	assert_process(after, report.pid, helper_path);
	g_assert_cmpint(helper_finish(helper), ==, 0);
}

static void
test_attribution_bounded_func(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *count = g_strdup_printf("%u", BOUNDED_CONNECTIONS);
	Helper *holders[4];
	Helper *loop;
	VigilAttributionStats stats;
	guint fast = 0;

	/* others holding many sockets, so that the scans have more than the caches can keep */
	for (guint i = 0; i < G_N_ELEMENTS(holders); i++) {
		g_autofree gchar *ready = NULL;
		holders[i] = helper_spawn(helper_path, "hold-udp", "50", NULL);
		ready = helper_read_line(holders[i], TIMEOUT_MS);
		g_assert_cmpstr(ready, ==, "ready");
	}
	loop = helper_spawn(helper_path, "tcp-loop", "127.0.0.1", fixture->tcp4_port, count, NULL);
	for (guint i = 0; i < BOUNDED_CONNECTIONS; i++) {
		g_autoptr(VigilProcess) process = NULL;
		gboolean need_scan = FALSE;
		Report report;

		helper_read_report(loop, &report);
		process = vigil_attribution_lookup(fixture->attribution, &report.key, &need_scan);
		if (process != NULL) {
			fast++;
		} else {
			g_autoptr(GError) error = NULL;
			g_assert_true(need_scan);
			process = test_lookup(fixture->attribution, &report.key, &error);
			g_assert_no_error(error);
		}
		assert_process(process, loop->pid, helper_path);
		helper_release(loop);

		vigil_attribution_get_stats(fixture->attribution, &stats);
		g_assert_cmpuint(stats.processes, <=, BOUNDED_PROCESSES);
		g_assert_cmpuint(stats.inodes, <=, BOUNDED_INODES);
		g_assert_cmpuint(stats.open_dirfds, <=, BOUNDED_PROCESSES);
	}
	g_test_message("bounded: %u of %u connections on the fast path, %" G_GUINT64_FORMAT
		       " scans",
		       fast,
		       BOUNDED_CONNECTIONS,
		       stats.scans);
	/* a new socket of a busy process is found by a probe, not a scan */
	g_assert_cmpuint(fast, >=, BOUNDED_CONNECTIONS * 9 / 10);
	g_assert_cmpint(helper_finish(loop), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(holders); i++)
		g_assert_cmpint(helper_finish(holders[i]), ==, 0);
}

static void
test_attribution_gone_socket_func(Fixture *fixture, gconstpointer user_data)
{
	VigilFlowKey key = {.protocol = IPPROTO_TCP, .family = 4};
	g_autoptr(VigilProcess) process = NULL;
	g_autoptr(GError) error = NULL;
	gboolean need_scan = TRUE;

	/* nobody has this socket: unknown at once, no scan */
	key.local[0] = 127;
	key.local[3] = 1;
	key.remote[0] = 127;
	key.remote[3] = 1;
	key.local_port = 1;
	key.remote_port = 2;
	process = vigil_attribution_lookup(fixture->attribution, &key, &need_scan);
	g_assert_null(process);
	g_assert_false(need_scan);
	process = test_lookup(fixture->attribution, &key, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_null(process);
}

static gchar *
test_find_helper(const gchar *env, const gchar *name)
{
	const gchar *path = g_getenv(env);
	g_autofree gchar *built = NULL;
	gchar *real;

	if (path == NULL) {
		g_autofree gchar *dir = g_path_get_dirname(self_path);
		built = g_build_filename(dir, name, NULL);
		path = built;
	}
	real = realpath(path, NULL);
	if (real == NULL) {
		g_printerr("skipped: %s not found\n", path);
		exit(77);
	}
	return real;
}

/* a busy process's new connections come from the hook: no sock_diag, no probe, no scan */
static void
test_attribution_hook_loop_func(Fixture *fixture, gconstpointer user_data)
{
	const gchar *families[] = {"127.0.0.1", "::1"};

	for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
		const gchar *port = f == 0 ? fixture->tcp4_port : fixture->tcp6_port;
		Helper *loop = helper_spawn(helper_path, "tcp-loop", families[f], port, "20", NULL);
		VigilAttributionStats before;
		VigilAttributionStats after;

		for (guint i = 0; i < 20; i++) {
			g_autoptr(VigilProcess) process = NULL;
			g_autoptr(GError) error = NULL;
			gboolean need_scan = FALSE;
			Report report;

			helper_read_report(loop, &report);
			if (i == 1)
				vigil_attribution_get_stats(fixture->attribution, &before);
			process =
			    vigil_attribution_lookup(fixture->attribution, &report.key, &need_scan);
			/* the first connection of a process the caches do not know yet */
			if (i == 0) {
				g_assert_null(process);
				g_assert_true(need_scan);
				process = test_lookup(fixture->attribution, &report.key, &error);
				g_assert_no_error(error);
			}
			assert_process(process, loop->pid, helper_path);
			helper_release(loop);
		}
		vigil_attribution_get_stats(fixture->attribution, &after);
		g_assert_cmpuint(after.hook_hits - before.hook_hits, ==, 19);
		g_assert_cmpuint(after.probe_hits, ==, before.probe_hits);
		g_assert_cmpuint(after.cache_hits, ==, before.cache_hits);
		g_assert_cmpuint(after.scans, ==, before.scans);
		g_assert_cmpint(helper_finish(loop), ==, 0);
	}
}

/* the hook names a pid; once that process is gone its cached record is never the answer */
static void
test_attribution_hook_killed_func(Fixture *fixture, gconstpointer user_data)
{
	Helper *loop =
	    helper_spawn(helper_path, "tcp-loop", "127.0.0.1", fixture->tcp4_port, "2", NULL);
	g_autoptr(VigilProcess) first = NULL;
	g_autoptr(VigilProcess) second = NULL;
	g_autoptr(GError) error = NULL;
	gboolean need_scan = TRUE;
	Report report;
	gint status = 0;

	first = test_attribute_helper(fixture, loop, &report, helper_path);
	helper_release(loop);
	helper_read_report(loop, &report);
	/* killed after its connect(): its socket goes with it */
	g_assert_cmpint(kill(loop->pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(loop->pid, &status, 0), ==, loop->pid);
	second = vigil_attribution_lookup(fixture->attribution, &report.key, &need_scan);
	g_assert_null(second);
	g_assert_false(need_scan);
	second = test_lookup(fixture->attribution, &report.key, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_null(second);
	close(loop->release_fd);
	close(loop->report_fd);
	g_string_free(loop->buf, TRUE);
	g_free(loop);
}

/* connect to @port on 127.0.0.1 (or ::1 for AF_INET6) in the current network namespace,
 * from @local_port (0: any); the flow as the queue would see it, and the connected socket */
static gint
test_hook_connect_family(gint family, const gchar *port, guint16 local_port, VigilFlowKey *key)
{
	struct sockaddr_storage remote;
	struct sockaddr_storage local;
	socklen_t len;
	gint fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	gsize addr_len = family == AF_INET ? 4 : 16;
	gint one = 1;

	g_assert_cmpint(fd, >=, 0);
	test_loopback(family, (guint16)atoi(port), &remote, &len);
	if (local_port != 0) {
		test_loopback(family, local_port, &local, &len);
		g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
		g_assert_cmpint(bind(fd, (struct sockaddr *)&local, len), ==, 0);
	}
	g_assert_cmpint(connect(fd, (struct sockaddr *)&remote, len), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&local, &len), ==, 0);
	memset(key, 0, sizeof(*key));
	key->protocol = IPPROTO_TCP;
	key->family = family == AF_INET ? 4 : 6;
	if (family == AF_INET) {
		memcpy(key->local, &((struct sockaddr_in *)&local)->sin_addr, addr_len);
		memcpy(key->remote, &((struct sockaddr_in *)&remote)->sin_addr, addr_len);
		key->local_port = ntohs(((struct sockaddr_in *)&local)->sin_port);
	} else {
		memcpy(key->local, &((struct sockaddr_in6 *)&local)->sin6_addr, addr_len);
		memcpy(key->remote, &((struct sockaddr_in6 *)&remote)->sin6_addr, addr_len);
		key->local_port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
	}
	key->remote_port = (guint16)atoi(port);
	return fd;
}

static gint
test_hook_connect(const gchar *port, guint16 local_port, VigilFlowKey *key)
{
	return test_hook_connect_family(AF_INET, port, local_port, key);
}

/* the hook records only its own network namespace: the same tuple in another one (the
 * same addresses are common across namespaces) is not taken for ours */
static void
test_connect_hook_other_netns_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilConnectHook) hook =
	    vigil_connect_hook_new(VIGIL_CONNECT_HOOK_LOOPBACK, &error);
	VigilConnectOwner owner = {0};
	VigilFlowKey theirs;
	VigilFlowKey ours;
	gint pipefd[2];
	pid_t child;
	gint status = 0;
	gint fd;

	g_assert_no_error(error);
	g_assert_nonnull(hook);

	/* another namespace, with the same listener port: not found */
	g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		VigilFlowKey key;
		gchar port[8];
		gint listener;
		gint conn;

		test_netns_enter();
		listener = test_listen(AF_INET, SOCK_STREAM, port);
		close(listener);
		/* the port the parent's listener has, free in this namespace */
		{
			struct sockaddr_in sin = {.sin_family = AF_INET};
			gint one = 1;
			listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sin.sin_port = htons((guint16)atoi(fixture->tcp4_port));
			if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
				0 ||
			    bind(listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
			    listen(listener, 4) != 0)
				_exit(1);
		}
		conn = test_hook_connect(fixture->tcp4_port, 0, &key);
		if (write(pipefd[1], &key, sizeof(key)) != sizeof(key))
			_exit(2);
		close(conn);
		close(listener);
		_exit(0);
	}
	close(pipefd[1]);
	g_assert_cmpint(read(pipefd[0], &theirs, sizeof(theirs)), ==, sizeof(theirs));
	close(pipefd[0]);
	g_assert_cmpint(waitpid(child, &status, 0), ==, child);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_assert_false(vigil_connect_hook_lookup(hook, &theirs, &owner));

	/* ours, with exactly that tuple: found, with our pid and thread */
	fd = test_hook_connect(fixture->tcp4_port, theirs.local_port, &ours);
	g_assert_cmpmem(&ours, sizeof(ours), &theirs, sizeof(theirs));
	g_assert_true(vigil_connect_hook_lookup(hook, &ours, &owner));
	g_assert_cmpuint(owner.pid, ==, getpid());
	g_assert_cmpuint(owner.tid, ==, (guint32)syscall(SYS_gettid));
	g_assert_cmpuint(owner.uid, ==, getuid());
	g_assert_cmpuint(owner.age_ns, <, VIGIL_CONNECT_HOOK_MAX_AGE_NS);
	close(fd);
}

/* one connection to @listener, accepted and closed at once; its flow in @key */
static void
test_hook_connect_once(gint listener,
		       gint family,
		       const gchar *port,
		       guint16 local_port,
		       VigilFlowKey *key)
{
	gint fd = test_hook_connect_family(family, port, local_port, key);
	gint conn = accept(listener, NULL, NULL);

	g_assert_cmpint(conn, >=, 0);
	close(conn);
	close(fd);
}

/* the ring buffer wraps many times over, each record read whole; when the daemon does not
 * read for too long the ring drops what it has no room for, and those flows are not found
 * (sock_diag answers them), while what it kept is still right */
static void
test_connect_hook_many_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilConnectHook) hook =
	    vigil_connect_hook_new(VIGIL_CONNECT_HOOK_LOOPBACK, &error);
	VigilConnectOwner owner;
	VigilFlowKey first;
	VigilFlowKey last;
	gchar port[8];
	gint listener;
	guint found = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < 10000; i++) {
		VigilFlowKey key;

		test_hook_connect_once(fixture->tcp4, AF_INET, fixture->tcp4_port, 0, &key);
		g_assert_true(vigil_connect_hook_lookup(hook, &key, &owner));
		g_assert_cmpuint(owner.pid, ==, getpid());
	}

	/* 5,000 connects unread: more than the ring holds. Over IPv6 and each from a port of
	 * its own, below the ephemeral range (where the listener's is), so that no tuple
	 * repeats one the table already has */
	listener = test_listen(AF_INET6, SOCK_STREAM, port);
	for (guint i = 0; i < 5000; i++)
		test_hook_connect_once(listener,
				       AF_INET6,
				       port,
				       (guint16)(20000 + i),
				       i == 0 ? &first : &last);
	g_assert_true(vigil_connect_hook_lookup(hook, &first, &owner));
	g_assert_cmpuint(owner.pid, ==, getpid());
	g_assert_false(vigil_connect_hook_lookup(hook, &last, &owner));
	/* and it goes on once read */
	for (guint i = 0; i < 100; i++) {
		VigilFlowKey key;

		test_hook_connect_once(fixture->tcp4, AF_INET, fixture->tcp4_port, 0, &key);
		found += vigil_connect_hook_lookup(hook, &key, &owner) ? 1 : 0;
	}
	g_assert_cmpuint(found, ==, 100);
	close(listener);
}

/* an entry older than VIGIL_CONNECT_HOOK_MAX_AGE_NS is not believed */
static void
test_connect_hook_stale_func(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilConnectHook) hook =
	    vigil_connect_hook_new(VIGIL_CONNECT_HOOK_LOOPBACK, &error);
	VigilConnectOwner owner;
	VigilFlowKey key;
	VigilFlowKey udp;
	gint fd;

	g_assert_no_error(error);
	fd = test_hook_connect(fixture->tcp4_port, 0, &key);
	g_assert_true(vigil_connect_hook_lookup(hook, &key, &owner));
	/* the same tuple as UDP was never seen */
	udp = key;
	udp.protocol = IPPROTO_UDP;
	g_assert_false(vigil_connect_hook_lookup(hook, &udp, &owner));
	/* a hook without loopback records neither 127.0.0.1 nor ::1 */
	{
		g_autoptr(VigilConnectHook) remote_only =
		    vigil_connect_hook_new(VIGIL_CONNECT_HOOK_NONE, &error);
		VigilFlowKey key6;
		gint fd4;
		gint fd6;

		g_assert_no_error(error);
		fd4 = test_hook_connect(fixture->tcp4_port, 0, &key);
		fd6 = test_hook_connect_family(AF_INET6, fixture->tcp6_port, 0, &key6);
		g_assert_false(vigil_connect_hook_lookup(remote_only, &key, &owner));
		g_assert_false(vigil_connect_hook_lookup(remote_only, &key6, &owner));
		g_assert_true(vigil_connect_hook_lookup(hook, &key, &owner));
		g_assert_true(vigil_connect_hook_lookup(hook, &key6, &owner));
		close(fd4);
		close(fd6);
	}
	g_usleep(VIGIL_CONNECT_HOOK_MAX_AGE_NS / 1000 + 100 * G_TIME_SPAN_MILLISECOND);
	g_assert_false(vigil_connect_hook_lookup(hook, &key, &owner));
	close(fd);
}

typedef void (*FixtureFunc)(Fixture *fixture, gconstpointer user_data);

static void
test_add(const gchar *name, FixtureFunc func, TestFlags flags)
{
	g_autofree gchar *path = NULL;

	path = g_strdup_printf("/vigil/daemon/attribution/%s", name);
	fixtured_test(path, func, flags);
	g_free(path);
	path = g_strdup_printf("/vigil/daemon/attribution/no-proc-events/%s", name);
	fixtured_test(path, func, flags | TEST_FLAG_NO_PROC_EVENTS);
	g_free(path);
	path = g_strdup_printf("/vigil/daemon/attribution/kernel-hook/%s", name);
	fixtured_test(path, func, flags | TEST_FLAG_HOOK);
}

int
main(int argc, char **argv)
{
	if (geteuid() != 0) {
		g_printerr("skipped: the attribution tests need root (network and mount "
			   "namespaces, other processes' /proc)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		g_printerr("skipped: cannot create a network namespace: %s\n", g_strerror(errno));
		return 77;
	}

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	self_path = realpath("/proc/self/exe", NULL);
	helper_path = test_find_helper("VIGIL_ATTR_HELPER", "attr-helper");
	helper_b_path = test_find_helper("VIGIL_ATTR_HELPER_B", "attr-helper-b");

	test_add("long-lived", test_attribution_long_lived_func, TEST_FLAG_NONE);
	test_add("thread", test_attribution_thread_func, TEST_FLAG_NONE);
	test_add("fork-child", test_attribution_fork_child_func, TEST_FLAG_NONE);
	test_add("orphan", test_attribution_orphan_func, TEST_FLAG_NONE);
	test_add("shared-socket", test_attribution_shared_socket_func, TEST_FLAG_NONE);
	test_add("udp-sendto", test_attribution_udp_sendto_func, TEST_FLAG_NONE);
	test_add("ipv6", test_attribution_ipv6_func, TEST_FLAG_NONE);
	test_add("mount-namespace", test_attribution_mount_namespace_func, TEST_FLAG_NONE);
	test_add("flatpak", test_attribution_flatpak_func, TEST_FLAG_NONE);
	test_add("burst", test_attribution_burst_func, TEST_FLAG_NONE);
	test_add("exit-after-send", test_attribution_exit_after_send_func, TEST_FLAG_NONE);
	test_add("pid-reuse", test_attribution_pid_reuse_func, TEST_FLAG_NONE);
	test_add("exec", test_attribution_exec_func, TEST_FLAG_NONE);
	test_add("exec-queued-before-poll",
		 test_attribution_exec_queued_before_poll_func,
		 TEST_FLAG_NONE);
	test_add("exe-changed", test_attribution_exe_changed_func, TEST_FLAG_NONE);
	test_add("cancel", test_attribution_cancel_func, TEST_FLAG_NONE);
	test_add("exit-evicts", test_attribution_exit_evicts_func, TEST_FLAG_NONE);
	test_add("bounded", test_attribution_bounded_func, TEST_FLAG_BOUNDED);
	test_add("gone-socket", test_attribution_gone_socket_func, TEST_FLAG_NONE);
	fixtured_test("/vigil/daemon/attribution/kernel-hook/loop",
		      test_attribution_hook_loop_func,
		      TEST_FLAG_HOOK);
	fixtured_test("/vigil/daemon/attribution/kernel-hook/killed",
		      test_attribution_hook_killed_func,
		      TEST_FLAG_HOOK);
	fixtured_test("/vigil/daemon/connect-hook/other-netns",
		      test_connect_hook_other_netns_func,
		      TEST_FLAG_NONE);
	fixtured_test("/vigil/daemon/connect-hook/many",
		      test_connect_hook_many_func,
		      TEST_FLAG_NONE);
	fixtured_test("/vigil/daemon/connect-hook/stale",
		      test_connect_hook_stale_func,
		      TEST_FLAG_NONE);
	fixtured_test("/vigil/daemon/attribution/overrun",
		      test_attribution_overrun_func,
		      TEST_FLAG_NONE);
	fixtured_test("/vigil/daemon/attribution/proc-connector",
		      test_attribution_proc_connector_func,
		      TEST_FLAG_NONE);
	return g_test_run();
}
