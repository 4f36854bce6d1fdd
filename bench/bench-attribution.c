/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil-attribution.h"

/*
 * What attribution costs per new connection, on the fast path the daemon runs on its main
 * loop: vigil_attribution_lookup() timed alone, for each of N new TCP connections and N new
 * UDP flows (a fresh socket each, like connbench), made by one client process; then the
 * same with 1,000 other processes holding 20,000 sockets. Also the lookup of a flow whose
 * socket is already mapped, the miss path (a /proc scan in the worker thread), and with
 * --flood the cache sizes and RSS after 100,000 short connections.
 *
 *   sudo bench-attribution [N] [--flood] [--no-proc-events] [--no-hook] [--queued]
 *
 * --queued looks up as the daemon's queue handler does: the client's report (sent after its
 * connect, as the kernel queues the packet after it) is waited for through the main loop,
 * and the lookup passes VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL, so the proc connector
 * is read only when that poll saw events.
 *
 * --no-hook leaves the kernel connect hook out, so that TCP goes the sock_diag way as UDP
 * always does.
 *
 * --no-proc-events measures the fallback without the proc connector, where every miss is a
 * scan of all processes and every hit also checks that the process did not exec.
 * Root only: it runs in a network namespace of its own.
 */

#define LOAD_PROCESSES 1000
#define LOAD_SOCKETS   20
#define CACHED_LOOKUPS 10000
#define FLOOD_N	       100000

static gboolean queued = FALSE;

static gboolean
report_ready_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* one main loop poll that sees the report, as one sees a queued packet */
static void
wait_report(gint fd)
{
	gboolean ready = FALSE;

	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP, report_ready_cb, &ready);
	while (!ready)
		g_main_context_iteration(NULL, TRUE);
}

typedef struct {
	guint n;
	gdouble *fast_us;
	guint n_fast;
	gdouble *slow_us;
	guint n_slow;
	guint unknown;
	guint wrong;
} Run;

static gdouble
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gdouble)ts.tv_sec * 1e6 + (gdouble)ts.tv_nsec / 1e3;
}

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;

	return x < y ? -1 : x > y;
}

static gdouble
percentile(gdouble *values, guint n, gdouble q)
{
	if (n == 0)
		return 0;
	qsort(values, n, sizeof(gdouble), cmp_double);
	return values[(guint)((n - 1) * q)];
}

static void
netns_enter(void)
{
	struct ifreq ifr = {0};
	gint fd;

	if (unshare(CLONE_NEWNET) < 0) {
		g_printerr("bench-attribution: needs root (unshare: %s)\n", g_strerror(errno));
		exit(1);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		g_printerr("bench-attribution: cannot bring lo up\n");
		exit(1);
	}
	close(fd);
	/* room for 20,000 bound sockets plus the connections */
	g_file_set_contents("/proc/sys/net/ipv4/ip_local_port_range", "1024 65000", -1, NULL);
}

/* LOAD_PROCESSES processes holding LOAD_SOCKETS bound UDP sockets each, until @stop closes;
 * forked by a spawner that starts before anything else, so that they inherit nothing */
static void
load_spawner_run(gint go, gint done)
{
	gint ready[2];
	gint stop[2];
	gchar c;

	if (read(go, &c, 1) != 1 || pipe(ready) < 0 || pipe(stop) < 0)
		_exit(1);
	for (guint i = 0; i < LOAD_PROCESSES; i++) {
		pid_t pid = fork();
		if (pid < 0)
			exit(1);
		if (pid == 0) {
			struct sockaddr_in addr = {.sin_family = AF_INET};
			addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			close(stop[1]);
			close(ready[0]);
			for (guint j = 0; j < LOAD_SOCKETS; j++) {
				gint fd = socket(AF_INET, SOCK_DGRAM, 0);
				if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
					_exit(1);
			}
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			while (read(stop[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(ready[1]);
	close(stop[0]);
	for (guint i = 0; i < LOAD_PROCESSES; i++) {
		if (read(ready[0], &c, 1) != 1)
			_exit(1);
	}
	if (write(done, "d", 1) != 1)
		_exit(1);
	/* until the bench closes @go; then the load goes with the stop pipe */
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

static pid_t
load_spawner_new(gint *go_write, gint *done_read)
{
	gint go[2];
	gint done[2];
	pid_t pid;

	if (pipe(go) < 0 || pipe(done) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		load_spawner_run(go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	fcntl(go[1], F_SETFD, FD_CLOEXEC);
	fcntl(done[0], F_SETFD, FD_CLOEXEC);
	*go_write = go[1];
	*done_read = done[0];
	return pid;
}

static void
load_start(gint go, gint done)
{
	gchar c;

	if (write(go, "g", 1) != 1 || read(done, &c, 1) != 1) {
		g_printerr("bench-attribution: the load processes failed\n");
		exit(1);
	}
}

/* the client: @n new flows, one at a time, each reported and held until acknowledged */
static void
client_run(gint protocol, guint16 port, guint n, gint report, gint ack)
{
	struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct linger linger = {1, 0};

	remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (guint i = 0; i < n; i++) {
		VigilFlowKey key = {.protocol = (guint8)protocol, .family = 4};
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		gint fd = socket(AF_INET, protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
		gchar c;

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
		if (connect(fd, (struct sockaddr *)&remote, sizeof(remote)) < 0)
			_exit(1);
		if (protocol == IPPROTO_UDP && send(fd, "ping", 4, 0) != 4)
			_exit(1);
		getsockname(fd, (struct sockaddr *)&local, &len);
		memcpy(key.local, &local.sin_addr, 4);
		memcpy(key.remote, &remote.sin_addr, 4);
		key.local_port = ntohs(local.sin_port);
		key.remote_port = port;
		if (write(report, &key, sizeof(key)) != sizeof(key) || read(ack, &c, 1) != 1)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

typedef struct {
	gboolean done;
	VigilProcess *process;
} Pending;

static void
lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Pending *pending = user_data;

	pending->process = vigil_attribution_lookup_finish(VIGIL_ATTRIBUTION(source), res, NULL);
	pending->done = TRUE;
}

static void
run_flows(VigilAttribution *attribution, gint listener, gint protocol, guint16 port, Run *run)
{
	gint report[2];
	gint ack[2];
	pid_t client;

	if (pipe(report) < 0 || pipe(ack) < 0)
		exit(1);
	client = fork();
	if (client == 0)
		client_run(protocol, port, run->n, report[1], ack[0]);
	close(report[1]);
	close(ack[0]);
	for (guint i = 0; i < run->n; i++) {
		g_autoptr(VigilProcess) process = NULL;
		VigilFlowKey key;
		gboolean need_scan = FALSE;
		gdouble t0;
		gdouble t1;
		gint accepted;

		if (queued)
			wait_report(report[0]);
		if (read(report[0], &key, sizeof(key)) != sizeof(key))
			break;
		t0 = now_us();
		process = vigil_attribution_lookup_full(
		    attribution,
		    &key,
		    queued ? VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL
			   : VIGIL_ATTRIBUTION_LOOKUP_NONE,
		    &need_scan);
		t1 = now_us();
		if (process != NULL) {
			run->fast_us[run->n_fast++] = t1 - t0;
		} else if (need_scan) {
			Pending pending = {0};
			vigil_attribution_lookup_async(attribution,
						       &key,
						       NULL,
						       lookup_cb,
						       &pending);
			while (!pending.done)
				g_main_context_iteration(NULL, TRUE);
			process = pending.process;
			run->slow_us[run->n_slow++] = now_us() - t0;
		}
		if (process == NULL)
			run->unknown++;
		else if (vigil_process_get_pid(process) != (guint32)client)
			run->wrong++;
		accepted =
		    protocol == IPPROTO_TCP ? accept4(listener, NULL, NULL, SOCK_NONBLOCK) : -1;
		if (accepted >= 0)
			close(accepted);
		if (write(ack[1], "a", 1) != 1)
			break;
	}
	close(report[0]);
	close(ack[1]);
	waitpid(client, NULL, 0);
}

static void
print_run(const gchar *name, Run *run)
{
	g_print("%-14s n=%u fast=%u p50_us=%.2f p90_us=%.2f p99_us=%.2f | miss=%u "
		"miss_p50_us=%.0f | unknown=%u wrong=%u\n",
		name,
		run->n,
		run->n_fast,
		percentile(run->fast_us, run->n_fast, 0.5),
		percentile(run->fast_us, run->n_fast, 0.9),
		percentile(run->fast_us, run->n_fast, 0.99),
		run->n_slow,
		percentile(run->slow_us, run->n_slow, 0.5),
		run->unknown,
		run->wrong);
}

static Run *
run_new(guint n)
{
	Run *run = g_new0(Run, 1);

	run->n = n;
	run->fast_us = g_new0(gdouble, n);
	run->slow_us = g_new0(gdouble, n);
	return run;
}

static void
run_free(Run *run)
{
	g_free(run->fast_us);
	g_free(run->slow_us);
	g_free(run);
}

/* repeated lookups of one flow whose socket is mapped: sock_diag plus one check; and the
 * floor, a bare sock_diag request for the same flow */
static gdouble
run_cached(VigilAttribution *attribution, gint listener, guint16 port, gdouble *floor_us)
{
	g_autoptr(VigilNlSockdiag) sockdiag = vigil_nl_sockdiag_new();
	g_autofree gdouble *bare = g_new0(gdouble, CACHED_LOOKUPS);
	guint n_bare = 0;
	struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	VigilFlowKey key = {.protocol = IPPROTO_TCP, .family = 4};
	g_autofree gdouble *us = g_new0(gdouble, CACHED_LOOKUPS);
	gint sync[2];
	gint report[2];
	pid_t holder;
	guint n = 0;
	gint fd;
	gchar c;

	remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (pipe(sync) < 0 || pipe(report) < 0)
		exit(1);
	holder = fork();
	if (holder == 0) {
		close(sync[1]);
		close(report[0]);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&remote, sizeof(remote)) < 0)
			_exit(1);
		getsockname(fd, (struct sockaddr *)&local, &len);
		if (write(report[1], &local, sizeof(local)) != sizeof(local))
			_exit(1);
		while (read(sync[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(sync[0]);
	close(report[1]);
	if (read(report[0], &local, sizeof(local)) != sizeof(local))
		exit(1);
	memcpy(key.local, &local.sin_addr, 4);
	memcpy(key.remote, &remote.sin_addr, 4);
	key.local_port = ntohs(local.sin_port);
	key.remote_port = port;
	{
		Pending pending = {0};
		vigil_attribution_lookup_async(attribution, &key, NULL, lookup_cb, &pending);
		while (!pending.done)
			g_main_context_iteration(NULL, TRUE);
		g_clear_object(&pending.process);
	}
	for (guint i = 0; i < CACHED_LOOKUPS; i++) {
		g_autoptr(VigilProcess) process = NULL;
		gdouble t0 = now_us();
		process = vigil_attribution_lookup(attribution, &key, NULL);
		if (process != NULL)
			us[n++] = now_us() - t0;
	}
	if (vigil_nl_sockdiag_open(sockdiag, NULL)) {
		for (guint i = 0; i < CACHED_LOOKUPS; i++) {
			VigilSockdiagSocket socket_info;
			gdouble t0 = now_us();
			if (vigil_nl_sockdiag_lookup(sockdiag, &key, &socket_info, NULL))
				bare[n_bare++] = now_us() - t0;
		}
	}
	*floor_us = percentile(bare, n_bare, 0.5);
	close(sync[1]);
	close(report[0]);
	waitpid(holder, NULL, 0);
	fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
	if (fd >= 0)
		close(fd);
	return percentile(us, n, 0.5);
}

static glong
rss_kb(void)
{
	g_autofree gchar *status = NULL;
	const gchar *line;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	line = strstr(status, "VmRSS:");
	return line != NULL ? atol(line + 6) : -1;
}

static void
print_stats(VigilAttribution *attribution, const gchar *when)
{
	VigilAttributionStats stats;

	vigil_attribution_get_stats(attribution, &stats);
	g_print("%-14s lookups=%" G_GUINT64_FORMAT " hook_hits=%" G_GUINT64_FORMAT
		" cache_hits=%" G_GUINT64_FORMAT " probe_hits=%" G_GUINT64_FORMAT
		" scans=%" G_GUINT64_FORMAT " full_scans=%" G_GUINT64_FORMAT
		" processes=%u inodes=%u dirfds=%u "
		"proc_events=%s rss_kb=%ld\n",
		when,
		stats.lookups,
		stats.hook_hits,
		stats.cache_hits,
		stats.probe_hits,
		stats.scans,
		stats.full_scans,
		stats.processes,
		stats.inodes,
		stats.open_dirfds,
		stats.proc_connector ? "yes" : "no",
		rss_kb());
}

static void
run_round(VigilAttribution *attribution,
	  gint tcp,
	  gint udp,
	  guint16 tcp_port,
	  guint16 udp_port,
	  guint n,
	  const gchar *label)
{
	g_autofree gchar *tcp_name = g_strdup_printf("%s tcp", label);
	g_autofree gchar *udp_name = g_strdup_printf("%s udp", label);
	g_autofree gchar *cached_name = g_strdup_printf("%s cached", label);
	gdouble cached_us;
	gdouble floor_us;
	Run *run;

	run = run_new(n);
	run_flows(attribution, tcp, IPPROTO_TCP, tcp_port, run);
	print_run(tcp_name, run);
	run_free(run);
	run = run_new(n);
	run_flows(attribution, udp, IPPROTO_UDP, udp_port, run);
	print_run(udp_name, run);
	run_free(run);
	cached_us = run_cached(attribution, tcp, tcp_port, &floor_us);
	g_print("%-14s p50_us=%.2f (a bare sock_diag request: %.2f)\n",
		cached_name,
		cached_us,
		floor_us);
	print_stats(attribution, label);
}

static gint
listen_on(gint type, guint16 *port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	gint fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		exit(1);
	*port = ntohs(addr.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	g_autoptr(VigilAttribution) attribution = NULL;
	g_autoptr(GError) error = NULL;
	guint n = argc > 1 && g_ascii_isdigit(argv[1][0]) ? (guint)atoi(argv[1]) : 5000;
	gboolean flood = FALSE;
	gboolean proc_events = TRUE;
	gboolean hook = TRUE;
	guint16 tcp_port;
	guint16 udp_port;
	gint go;
	gint done;
	gint tcp;
	gint udp;

	for (gint i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--flood") == 0)
			flood = TRUE;
		else if (g_strcmp0(argv[i], "--no-proc-events") == 0)
			proc_events = FALSE;
		else if (g_strcmp0(argv[i], "--no-hook") == 0)
			hook = FALSE;
		else if (g_strcmp0(argv[i], "--queued") == 0)
			queued = TRUE;
	}
	netns_enter();
	load_spawner_new(&go, &done);
	tcp = listen_on(SOCK_STREAM, &tcp_port);
	udp = listen_on(SOCK_DGRAM, &udp_port);
	attribution = vigil_attribution_new();
	vigil_attribution_set_use_proc_connector(attribution, proc_events);
	vigil_attribution_set_use_connect_hook(attribution, hook);
	if (!vigil_attribution_start(attribution, &error)) {
		g_printerr("bench-attribution: %s\n", error->message);
		return 1;
	}

	run_round(attribution, tcp, udp, tcp_port, udp_port, n, "unloaded");
	load_start(go, done);
	g_print("load: %u processes holding %u sockets each\n", LOAD_PROCESSES, LOAD_SOCKETS);
	run_round(attribution, tcp, udp, tcp_port, udp_port, n, "loaded");

	if (flood) {
		Run *run = run_new(FLOOD_N);
		run_flows(attribution, tcp, IPPROTO_TCP, tcp_port, run);
		print_run("flood tcp", run);
		print_stats(attribution, "after flood");
		run_free(run);
	}
	close(go);
	while (wait(NULL) > 0)
		;
	return 0;
}
