/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The processes that test-attribution attributes: each makes a socket in some way, writes
 * one line per flow to fd 3 ("pid proto family local lport remote rport") and waits on fd 4
 * (a byte or EOF) before it goes on or exits. Statically linked and libc only, so that it
 * also runs inside a pivot_root sandbox with nothing else in it.
 *
 *   tcp ADDR PORT                   connect, report, wait
 *   udp ADDR PORT                   unconnected sendto (the local address is the wildcard)
 *   udp-connected ADDR PORT         connect + send
 *   thread-tcp ADDR PORT            the same as tcp, from a second thread
 *   fork-tcp ADDR PORT              a child connects and reports; the parent waits for it
 *   double-fork-tcp ADDR PORT       a grandchild whose parent has exited connects
 *   shared-udp ADDR PORT EXE        makes a socket, then a child execs EXE use-fd ...
 *   use-fd FD ADDR PORT             sendto on an inherited socket
 *   tcp-once ADDR PORT MS           connect, report, exit when released or after MS ms
 *   udp-exit ADDR PORT              sendto, report, exit at once
 *   tcp-exec ADDR PORT EXE          connect, report, wait, exec EXE tcp ADDR PORT
 *   tcp-loop ADDR PORT N            N times: connect, report, wait, close
 *   hold-udp N                      N bound UDP sockets, report nothing, wait
 *   mntns DIR SRCDIR CMD...         private mount namespace, SRCDIR bound on DIR, exec
 *                                   DIR/attr-helper CMD...
 *   sandbox DIR SRCDIR APPID CMD... a Flatpak-like sandbox: tmpfs root with .flatpak-info
 *                                   naming APPID and SRCDIR on /app, exec /app/attr-helper
 *   exit                            exit at once
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPORT_FD  3
#define RELEASE_FD 4

static void
die(const char *what)
{
	fprintf(stderr, "attr-helper: %s: %s\n", what, strerror(errno));
	_exit(2);
}

static int
parse_address(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	errno = EINVAL;
	die(addr);
	return -1;
}

static void
format_address(const struct sockaddr_storage *ss, char *buf, size_t len, int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(sin6->sin6_port);
	}
}

/* one line: pid proto family local lport remote rport */
static void
report(int fd, int proto, const struct sockaddr_storage *remote)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char lbuf[64];
	char rbuf[64];
	char line[256];
	int lport;
	int rport;
	int n;

	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
		die("getsockname");
	format_address(&local, lbuf, sizeof(lbuf), &lport);
	format_address(remote, rbuf, sizeof(rbuf), &rport);
	n = snprintf(line,
		     sizeof(line),
		     "%d %s %d %s %d %s %d\n",
		     (int)getpid(),
		     proto == IPPROTO_TCP ? "tcp" : "udp",
		     local.ss_family == AF_INET ? 4 : 6,
		     lbuf,
		     lport,
		     rbuf,
		     rport);
	if (write(REPORT_FD, line, (size_t)n) != n)
		die("report");
}

static void
wait_release(void)
{
	char c;
	ssize_t n;

	do
		n = read(RELEASE_FD, &c, 1);
	while (n < 0 && errno == EINTR);
}

static int
tcp_connect(const char *addr, int port, struct sockaddr_storage *remote)
{
	socklen_t len;
	int family = parse_address(addr, port, remote, &len);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)remote, len) < 0)
		die("connect");
	return fd;
}

static int
udp_sendto(int fd, const char *addr, int port, struct sockaddr_storage *remote, int connected)
{
	socklen_t len;
	int family = parse_address(addr, port, remote, &len);

	if (fd < 0)
		fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (connected) {
		if (connect(fd, (struct sockaddr *)remote, len) < 0)
			die("connect");
		if (send(fd, "ping", 4, 0) != 4)
			die("send");
	} else if (sendto(fd, "ping", 4, 0, (struct sockaddr *)remote, len) != 4) {
		die("sendto");
	}
	return fd;
}

static const char *thread_addr;
static int thread_port;

static void *
thread_main(void *data)
{
	struct sockaddr_storage remote;
	int fd = tcp_connect(thread_addr, thread_port, &remote);

	(void)data;
	report(fd, IPPROTO_TCP, &remote);
	wait_release();
	close(fd);
	return NULL;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		die(path);
	close(fd);
}

static void
private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("mount private");
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage remote;
	const char *cmd = argc > 1 ? argv[1] : "";
	int fd;

	if (strcmp(cmd, "tcp") == 0 && argc == 4) {
		fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
		report(fd, IPPROTO_TCP, &remote);
		wait_release();
		return 0;
	}
	if ((strcmp(cmd, "udp") == 0 || strcmp(cmd, "udp-connected") == 0) && argc == 4) {
		fd = udp_sendto(-1, argv[2], atoi(argv[3]), &remote, strcmp(cmd, "udp") != 0);
		report(fd, IPPROTO_UDP, &remote);
		wait_release();
		return 0;
	}
	if (strcmp(cmd, "thread-tcp") == 0 && argc == 4) {
		pthread_t thread;
		thread_addr = argv[2];
		thread_port = atoi(argv[3]);
		if (pthread_create(&thread, NULL, thread_main, NULL) != 0)
			die("pthread_create");
		pthread_join(thread, NULL);
		return 0;
	}
	if (strcmp(cmd, "fork-tcp") == 0 && argc == 4) {
		pid_t child = fork();
		if (child < 0)
			die("fork");
		if (child == 0) {
			fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
			report(fd, IPPROTO_TCP, &remote);
			wait_release();
			_exit(0);
		}
		waitpid(child, NULL, 0);
		return 0;
	}
	if (strcmp(cmd, "double-fork-tcp") == 0 && argc == 4) {
		pid_t child = fork();
		if (child < 0)
			die("fork");
		if (child == 0) {
			pid_t grandchild = fork();
			if (grandchild < 0)
				die("fork");
			if (grandchild == 0) {
				/* connect only once the middle process is gone */
				while (getppid() == child)
					sleep_ms(1);
				fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
				report(fd, IPPROTO_TCP, &remote);
				wait_release();
				_exit(0);
			}
			_exit(0);
		}
		waitpid(child, NULL, 0);
		wait_release();
		return 0;
	}
	if (strcmp(cmd, "shared-udp") == 0 && argc == 5) {
		char fdbuf[16];
		pid_t child;
		fd = socket(strchr(argv[2], ':') != NULL ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			die("socket");
		child = fork();
		if (child < 0)
			die("fork");
		if (child == 0) {
			snprintf(fdbuf, sizeof(fdbuf), "%d", fd);
			execl(argv[4], argv[4], "use-fd", fdbuf, argv[2], argv[3], (char *)NULL);
			die("exec");
		}
		wait_release();
		waitpid(child, NULL, 0);
		return 0;
	}
	if (strcmp(cmd, "use-fd") == 0 && argc == 5) {
		fd = udp_sendto(atoi(argv[2]), argv[3], atoi(argv[4]), &remote, 0);
		report(fd, IPPROTO_UDP, &remote);
		wait_release();
		return 0;
	}
	if (strcmp(cmd, "tcp-once") == 0 && argc == 5) {
		struct pollfd pfd = {RELEASE_FD, POLLIN, 0};
		fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
		report(fd, IPPROTO_TCP, &remote);
		poll(&pfd, 1, atoi(argv[4]));
		return 0;
	}
	if (strcmp(cmd, "udp-exit") == 0 && argc == 4) {
		fd = udp_sendto(-1, argv[2], atoi(argv[3]), &remote, 0);
		report(fd, IPPROTO_UDP, &remote);
		return 0;
	}
	if (strcmp(cmd, "tcp-exec") == 0 && argc == 5) {
		fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
		report(fd, IPPROTO_TCP, &remote);
		wait_release();
		/* the first socket stays open across the exec */
		execl(argv[4], argv[4], "tcp", argv[2], argv[3], (char *)NULL);
		die("exec");
	}
	if (strcmp(cmd, "tcp-loop") == 0 && argc == 5) {
		int n = atoi(argv[4]);
		for (int i = 0; i < n; i++) {
			fd = tcp_connect(argv[2], atoi(argv[3]), &remote);
			report(fd, IPPROTO_TCP, &remote);
			wait_release();
			close(fd);
		}
		return 0;
	}
	if (strcmp(cmd, "hold-udp") == 0 && argc == 3) {
		int n = atoi(argv[2]);
		struct sockaddr_in any = {.sin_family = AF_INET};
		any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (int i = 0; i < n; i++) {
			fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
				die("hold");
		}
		if (write(REPORT_FD, "ready\n", 6) != 6)
			die("report");
		wait_release();
		return 0;
	}
	if (strcmp(cmd, "mntns") == 0 && argc >= 5) {
		char exe[4096];
		private_mounts();
		if (mount(argv[3], argv[2], NULL, MS_BIND, NULL) < 0)
			die("bind");
		snprintf(exe, sizeof(exe), "%s/attr-helper", argv[2]);
		argv[3] = exe;
		execv(exe, argv + 3);
		die("exec");
	}
	if (strcmp(cmd, "sandbox") == 0 && argc >= 6) {
		static char app_exe[] = "/app/attr-helper";
		char info[512];
		private_mounts();
		if (mount("tmpfs", argv[2], "tmpfs", 0, "mode=0755") < 0)
			die("tmpfs");
		if (chdir(argv[2]) < 0 || mkdir("app", 0755) < 0 || mkdir("oldroot", 0755) < 0)
			die("sandbox dirs");
		snprintf(info,
			 sizeof(info),
			 "[Application]\nname=%s\nruntime=runtime/org.example.Platform/x86_64/1\n",
			 argv[4]);
		write_file(".flatpak-info", info);
		if (mount(argv[3], "app", NULL, MS_BIND, NULL) < 0)
			die("bind");
		if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
			die("pivot_root");
		if (chdir("/") < 0 || umount2("/oldroot", MNT_DETACH) < 0)
			die("umount oldroot");
		argv[4] = app_exe;
		execv(argv[4], argv + 4);
		die("exec");
	}
	if (strcmp(cmd, "exit") == 0)
		return 0;
	fprintf(stderr, "attr-helper: bad arguments\n");
	return 2;
}
