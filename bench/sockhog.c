/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* sockhog PROCESSES SOCKETS: background load for the connection benchmark. Starts
 * PROCESSES processes that each hold SOCKETS sockets (half bound UDP, half listening TCP,
 * on loopback) and sleep until killed, so that attribution works among many processes and
 * sockets as on a busy desktop. Prints "ready" when all hold their sockets. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int
hold(int n)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		int tcp = i % 2 == 0;
		int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
			return 1;
		if (tcp && listen(fd, 1) != 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int processes = argc > 1 ? atoi(argv[1]) : 1000;
	int sockets = argc > 2 ? atoi(argv[2]) : 20;
	int ready[2];
	char c;

	/* a process group of its own, so that `kill -- -PID` ends every holder */
	setpgid(0, 0);
	if (pipe(ready) != 0)
		return 1;
	for (int i = 0; i < processes; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			int status = hold(sockets);
			if (write(ready[1], status == 0 ? "." : "!", 1) != 1)
				_exit(1);
			if (status != 0)
				_exit(1);
			for (;;)
				pause();
		}
	}
	for (int i = 0; i < processes; i++) {
		if (read(ready[0], &c, 1) != 1 || c != '.') {
			fprintf(stderr, "sockhog: a process could not open its sockets\n");
			kill(0, SIGTERM);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
