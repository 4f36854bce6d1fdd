/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil-error.h"
#include "vigil-exe-hash.h"
#include "vigil-nl-sockdiag.h"
#include "vigil-process.h"

/* the parts of attribution that need neither root nor a namespace */

static void
test_proc_stat_parse_func(void)
{
	const gchar *text = "4242 (a) b) (c d) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 "
			    "0 1 0 987654 1000 200 18446744073709551615\n";
	const gchar *kthread = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 "
			       "0 18446744073709551615\n";
	VigilProcStat stat;

	/* the command name may hold spaces and parentheses */
	g_assert_true(vigil_proc_stat_parse(text, strlen(text), &stat));
	g_assert_cmpuint(stat.pid, ==, 4242);
	g_assert_cmpint(stat.state, ==, 'S');
	g_assert_cmpuint(stat.ppid, ==, 17);
	g_assert_cmpuint(stat.start_time, ==, 987654);
	g_assert_true(vigil_proc_stat_parse(kthread, strlen(kthread), &stat));
	g_assert_cmpuint(stat.ppid, ==, 0);
	g_assert_cmpuint(stat.start_time, ==, 5);

	/* cut short, garbage, no name */
	g_assert_false(vigil_proc_stat_parse(text, 40, &stat));
	g_assert_false(vigil_proc_stat_parse("", 0, &stat));
	g_assert_false(vigil_proc_stat_parse("12 (x S 1", 9, &stat));
	g_assert_false(vigil_proc_stat_parse("x (y) S 1 2", 11, &stat));
	g_assert_false(vigil_proc_stat_parse("1 (y) S z 2", 11, &stat));
}

static void
test_process_unit_func(void)
{
	struct {
		const gchar *cgroup;
		const gchar *unit;
	} cases[] = {
	    {"/system.slice/sshd.service", "sshd.service"},
	    {"/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "app-gnome-org.gnome.Console-1234.scope",
	     "app-gnome-org.gnome.Console-1234.scope"},
	    {"/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "app-flatpak-org.example.App-5678.scope",
	     "app-flatpak-org.example.App-5678.scope"},
	    {"/user.slice/user-1000.slice/session-2.scope", "session-2.scope"},
	    {"/system.slice/docker-0123456789abcdef0123456789abcdef.scope",
	     "docker-0123456789abcdef0123456789abcdef.scope"},
	    {"/system.slice/foo.service/payload", "foo.service"},
	    {"/user.slice", NULL},
	    {"/", NULL},
	    {"/.scope", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *unit = vigil_process_unit_from_cgroup(cases[i].cgroup);
		g_assert_cmpstr(unit, ==, cases[i].unit);
	}
	g_assert_null(vigil_process_unit_from_cgroup(NULL));
}

static void
test_process_container_func(void)
{
	struct {
		const gchar *cgroup;
		const gchar *container;
	} cases[] = {
	    {"/system.slice/"
	     "docker-4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d.scope",
	     "docker:4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"},
	    {"/docker/0123456789abcdef0123", "docker:0123456789abcdef0123"},
	    {"/user.slice/user-1000.slice/user@1000.service/user.slice/"
	     "libpod-aabbccddeeff00112233.scope/container",
	     "podman:aabbccddeeff00112233"},
	    {"/machine.slice/libpod-conmon-aabbccddeeff00112233.scope", NULL},
	    {"/kubepods.slice/crio-00112233445566778899.scope", "cri-o:00112233445566778899"},
	    {"/lxc.payload.web1", "lxc:web1"},
	    {"/lxc/web2", "lxc:web2"},
	    {"/machine.slice/machine-debian.scope", "machine:debian"},
	    {"/system.slice/docker.service", NULL},
	    {"/docker/notahexid", NULL},
	    {"/user.slice/user-1000.slice/session-2.scope", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *container = vigil_process_container_from_cgroup(cases[i].cgroup);
		g_assert_cmpstr(container, ==, cases[i].container);
	}
}

static void
test_process_flatpak_info_func(void)
{
	const gchar *info = "[Application]\nname=org.gnome.Maps\nruntime=runtime/org.gnome."
			    "Platform/x86_64/45\n\n[Instance]\ninstance-id=123\n";
	const gchar *runtime = "[Runtime]\nname=org.gnome.Platform\n";
	g_autofree gchar *app_id = vigil_process_app_id_from_flatpak_info(info, strlen(info));
	g_autofree gchar *none = vigil_process_app_id_from_flatpak_info(runtime, strlen(runtime));
	g_autofree gchar *bad = vigil_process_app_id_from_flatpak_info("\x01\x02[", 3);

	g_assert_cmpstr(app_id, ==, "org.gnome.Maps");
	g_assert_null(none);
	g_assert_null(bad);
}

static void
test_process_cmdline_func(void)
{
	g_autofree gchar *simple = vigil_process_cmdline_from_raw("curl\0-s\0https://x\0", 19);
	g_autofree gchar *control = vigil_process_cmdline_from_raw("a\033[2Jb\0c\n\0", 10);
	g_autofree gchar *invalid = vigil_process_cmdline_from_raw("caf\xc3\0\xff", 6);
	g_autofree gchar *empty = vigil_process_cmdline_from_raw("", 0);
	g_autofree gchar *big_raw = g_strnfill(VIGIL_PROCESS_CMDLINE_MAX * 2, 'x');
	g_autofree gchar *big = vigil_process_cmdline_from_raw(big_raw, strlen(big_raw));

	g_assert_cmpstr(simple, ==, "curl -s https://x");
	g_assert_cmpstr(control, ==, "a?[2Jb c?");
	g_assert_true(g_utf8_validate(invalid, -1, NULL));
	g_assert_cmpstr(empty, ==, "");
	g_assert_cmpuint(strlen(big), ==, VIGIL_PROCESS_CMDLINE_MAX);
}

static void
test_process_load_self_func(void)
{
	g_autoptr(VigilProcess) process = vigil_process_new((guint32)getpid());
	g_autoptr(GError) error = NULL;
	g_autofree gchar *exe = realpath("/proc/self/exe", NULL);
	g_autofree gchar *stat_text = NULL;
	g_autofree gchar *sha256 = NULL;
	g_autofree gchar *contents = NULL;
	g_autofree gchar *expected = NULL;
	const gchar *computed;
	VigilProcStat stat;
	gsize len;
	gboolean ret;

	ret = vigil_process_load(process, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_assert_true(g_file_get_contents("/proc/self/stat", &stat_text, &len, NULL));
	g_assert_true(vigil_proc_stat_parse(stat_text, len, &stat));
	g_assert_cmpuint(vigil_process_get_pid(process), ==, getpid());
	g_assert_cmpuint(vigil_process_get_start_time(process), ==, stat.start_time);
	g_assert_cmpuint(vigil_process_get_ppid(process), ==, getppid());
	g_assert_cmpstr(vigil_process_get_exe(process), ==, exe);
	g_assert_cmpstr(vigil_process_get_host_exe(process), ==, exe);
	g_assert_cmpuint(vigil_process_get_uid(process), ==, getuid());
	g_assert_cmpuint(vigil_process_get_euid(process), ==, geteuid());
	g_assert_nonnull(strstr(vigil_process_get_cmdline(process), "test-process"));
	g_assert_false(vigil_process_get_exe_deleted(process));
	g_assert_false(vigil_process_get_exe_replaced(process));
	g_assert_nonnull(vigil_process_get_parent_exe(process));
	g_assert_nonnull(vigil_process_get_exe_key(process));
	g_assert_true(vigil_process_is_same(process, process));

	/* the hash of what runs, once, then from the cache */
	g_assert_true(g_file_get_contents(exe, &contents, &len, NULL));
	expected = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, len);
	g_assert_null(vigil_process_peek_exe_sha256(process));
	computed = vigil_process_get_exe_sha256(process, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(computed, ==, expected);
	g_assert_cmpstr(vigil_process_peek_exe_sha256(process), ==, expected);
	/* another record of the same file knows it from the shared cache */
	{
		g_autoptr(VigilProcess) again = vigil_process_new((guint32)getpid());
		g_assert_true(vigil_process_load(again, NULL));
		g_assert_cmpstr(vigil_process_peek_exe_sha256(again), ==, expected);
	}
	sha256 =
	    vigil_exe_hash_compute_for_pid(vigil_exe_hash_get_default(), (guint32)getpid(), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(sha256, ==, expected);
}

static void
test_sha256_async_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gchar **result = user_data;
	g_autoptr(GError) error = NULL;

	*result = vigil_process_get_exe_sha256_finish(VIGIL_PROCESS(source), res, &error);
	g_assert_no_error(error);
}

static void
test_process_sha256_async_func(void)
{
	g_autoptr(VigilProcess) process = vigil_process_new((guint32)getpid());
	g_autofree gchar *exe = realpath("/proc/self/exe", NULL);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *expected = NULL;
	g_autofree gchar *sha256 = NULL;
	gsize len = 0;

	g_assert_true(vigil_process_load(process, NULL));
	g_assert_true(g_file_get_contents(exe, &contents, &len, NULL));
	expected = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, len);
	vigil_process_get_exe_sha256_async(process, NULL, test_sha256_async_cb, &sha256);
	while (sha256 == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpstr(sha256, ==, expected);
}

static void
test_exe_hash_func(void)
{
	g_autoptr(VigilExeHash) exe_hash = vigil_exe_hash_new(2);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("vigil-hash-XXXXXX", &error);
	g_autofree gchar *a = g_build_filename(dir, "a", NULL);
	g_autofree gchar *b = g_build_filename(dir, "b", NULL);
	g_autofree gchar *c = g_build_filename(dir, "c", NULL);
	g_autofree gchar *ha = NULL;
	g_autofree gchar *ha2 = NULL;
	g_autofree gchar *ha3 = NULL;
	g_autofree gchar *wrong = NULL;
	VigilExeHashKey key;
	gint fd;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(a, "abc", 3, NULL));
	g_assert_true(g_file_set_contents(b, "b", 1, NULL));
	g_assert_true(g_file_set_contents(c, "c", 1, NULL));

	ha = vigil_exe_hash_compute_for_path(exe_hash, a, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(ha, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ha2 = vigil_exe_hash_compute_for_path(exe_hash, a, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(ha2, ==, ha);
	g_assert_cmpuint(vigil_exe_hash_get_computed(exe_hash), ==, 1);

	/* bounded: the oldest version goes */
	g_free(vigil_exe_hash_compute_for_path(exe_hash, b, NULL, &error));
	g_free(vigil_exe_hash_compute_for_path(exe_hash, c, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(vigil_exe_hash_get_size(exe_hash), ==, 2);

	/* a new version of the file is hashed again */
	fd = open(a, O_RDONLY);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(vigil_exe_hash_key_from_fd(&key, fd, NULL));
	close(fd);
	g_assert_true(g_file_set_contents(a, "abcd", 4, NULL));
	ha3 = vigil_exe_hash_compute_for_path(exe_hash, a, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(ha3, !=, ha);

	/* the file at a path is not the version a process ran */
	wrong = vigil_exe_hash_compute_for_path(exe_hash, a, &key, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_null(wrong);
	g_clear_error(&error);

	g_unlink(a);
	g_unlink(b);
	g_unlink(c);
	g_rmdir(dir);
}

static void
test_flow_key_func(void)
{
	VigilPacket packet = {.family = 4, .protocol = IPPROTO_UDP, .sport = 5353, .dport = 53};
	VigilFlowKey key;
	g_autofree gchar *out = NULL;
	g_autofree gchar *in = NULL;

	packet.src[0] = 198;
	packet.src[1] = 18;
	packet.src[3] = 1;
	packet.dst[0] = 198;
	packet.dst[1] = 18;
	packet.dst[3] = 2;
	vigil_flow_key_init_from_packet(&key, &packet, TRUE);
	out = vigil_flow_key_to_string(&key);
	g_assert_cmpstr(out, ==, "udp 198.18.0.1:5353 -> 198.18.0.2:53");
	vigil_flow_key_init_from_packet(&key, &packet, FALSE);
	in = vigil_flow_key_to_string(&key);
	g_assert_cmpstr(in, ==, "udp 198.18.0.2:53 -> 198.18.0.1:5353");
}

/* sock_diag needs no privilege for the sockets of one's own namespace */
static void
test_sockdiag_func(void)
{
	g_autoptr(VigilNlSockdiag) sockdiag = vigil_nl_sockdiag_new();
	g_autoptr(GError) error = NULL;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	struct sockaddr_in local;
	socklen_t len = sizeof(addr);
	VigilSockdiagSocket socket_info;
	VigilFlowKey key = {.protocol = IPPROTO_UDP, .family = 4};
	gchar link[64];
	gchar want[64];
	gint fd;
	gboolean ret;

	ret = vigil_nl_sockdiag_open(sockdiag, &error);
	g_assert_no_error(error);
	g_assert_true(ret);

	/* an unconnected UDP socket bound to the wildcard, found from a flow to anywhere */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&local, &len), ==, 0);
	key.local[0] = 127;
	key.local[3] = 1;
	key.remote[0] = 198;
	key.remote[1] = 18;
	key.remote[3] = 9;
	key.local_port = ntohs(local.sin_port);
	key.remote_port = 53;
	ret = vigil_nl_sockdiag_lookup(sockdiag, &key, &socket_info, &error);
	g_assert_no_error(error);
	g_assert_true(ret);
	g_snprintf(want, sizeof(want), "socket:[%u]", socket_info.inode);
	g_snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	{
		g_autofree gchar *target = g_file_read_link(link, NULL);
		g_assert_cmpstr(target, ==, want);
	}
	g_assert_cmpuint(socket_info.uid, ==, getuid());

	/* a queue uid that is not the owner's: not this socket */
	key.uid_known = TRUE;
	key.uid = getuid() + 1;
	ret = vigil_nl_sockdiag_lookup(sockdiag, &key, &socket_info, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_false(ret);
	g_clear_error(&error);
	close(fd);

	/* closed: gone */
	key.uid_known = FALSE;
	ret = vigil_nl_sockdiag_lookup(sockdiag, &key, &socket_info, &error);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
	g_assert_false(ret);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/vigil/daemon/process/stat-parse", test_proc_stat_parse_func);
	g_test_add_func("/vigil/daemon/process/unit", test_process_unit_func);
	g_test_add_func("/vigil/daemon/process/container", test_process_container_func);
	g_test_add_func("/vigil/daemon/process/flatpak-info", test_process_flatpak_info_func);
	g_test_add_func("/vigil/daemon/process/cmdline", test_process_cmdline_func);
	g_test_add_func("/vigil/daemon/process/load-self", test_process_load_self_func);
	g_test_add_func("/vigil/daemon/process/sha256-async", test_process_sha256_async_func);
	g_test_add_func("/vigil/daemon/exe-hash/cache", test_exe_hash_func);
	g_test_add_func("/vigil/daemon/sockdiag/flow-key", test_flow_key_func);
	g_test_add_func("/vigil/daemon/sockdiag/udp-wildcard", test_sockdiag_func);
	return g_test_run();
}
