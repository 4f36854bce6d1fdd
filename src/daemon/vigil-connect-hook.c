/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilConnectHook"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vigil-btf.h"
#include "vigil-connect-hook.h"
#include "vigil-error.h"

/*
 * The program, written out as eBPF instructions so that the daemon needs neither a BPF
 * compiler at build time nor libbpf at run time. It runs at BPF_SOCK_OPS_TCP_CONNECT_CB,
 * which tcp_connect() calls just before it sends the SYN, in the connecting thread, with
 * the local port already chosen:
 *
 *   if (ops->op != TCP_CONNECT_CB || netns_cookie(ops) != OUR_NETNS) return 1;
 *   if (remote address is loopback && !LOOPBACK) return 1;
 *   key = {family, IPPROTO_TCP, local port, remote port, local address, remote address};
 *   value = {pid_tgid, uid_gid, ktime_ns, current->group_leader->start_boottime};
 *   ringbuf_output(ring, {value, key}, BPF_RB_NO_WAKEUP);
 *   return 1;
 *
 * An IPv6 socket connecting to a v4-mapped address sends IPv4 packets: its key is the IPv4
 * one. The start time tells a process from a later one that got the same pid: it is the
 * value /proc/<pid>/stat shows in clock ticks, read with bpf_probe_read_kernel() at offsets
 * the kernel's own BTF gives (vigil-btf.c), so the program fits the running kernel.
 *
 * The records go to a BPF ring buffer that the daemon maps into its memory: reading it takes
 * no system call. A lookup first moves the new records into a table of the most recent
 * VIGIL_CONNECT_HOOK_RECENT connects by tuple (a later connect of the same tuple replaces
 * the earlier one, so a reused tuple never shows an earlier process), then looks the flow
 * up there. The daemon believes a record only if it is younger than
 * VIGIL_CONNECT_HOOK_MAX_AGE_NS. Records the ring had no room for are lost, and those
 * flows go the sock_diag way; nothing waits on the daemon.
 *
 * The program is attached through a BPF link: when the daemon exits, however it exits, the
 * kernel closes the link and the program is gone. Several daemons (one per network
 * namespace) each attach their own program and map; each records only its own namespace.
 */

/* the ring: 819 records of 80 bytes with their headers. It is drained at every lookup, so
 * it only holds the connects made while one queued packet is handled; its pages count in
 * the daemon's RSS twice, being mapped twice. Then the table of recent ones */
#define VIGIL_CONNECT_HOOK_RING	  (64 * 1024)
#define VIGIL_CONNECT_HOOK_RECENT 4096
#define VIGIL_CONNECT_HOOK_LOG	  (64 * 1024)
#define VIGIL_CONNECT_HOOK_INSNS  128

/* not in the headers of every distribution that can run the daemon */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* the map's key and value, as the program writes them (host byte order for the words) */
typedef struct {
	guint32 family_proto; /* AF_INET or AF_INET6, and the protocol << 8 */
	guint16 local_port;   /* network order */
	guint16 remote_port;  /* network order */
	guint8 local[16];
	guint8 remote[16];
} VigilConnectHookKey;

typedef struct {
	guint64 pid_tgid; /* tgid << 32 | pid (the thread) */
	guint64 uid_gid;  /* gid << 32 | uid */
	guint64 ktime_ns; /* CLOCK_MONOTONIC */
	guint64 start_ns; /* the process's start (its leader's start_boottime), 0 if unread */
} VigilConnectHookValue;

/* one record of the ring, as the program writes it from its stack */
typedef struct {
	VigilConnectHookValue value;
	VigilConnectHookKey key;
} VigilConnectHookRecord;

G_STATIC_ASSERT(sizeof(VigilConnectHookKey) == 40);
G_STATIC_ASSERT(sizeof(VigilConnectHookValue) == 32);
G_STATIC_ASSERT(sizeof(VigilConnectHookRecord) == 72);

/* not vigil-cleanups.h: libpcap's headers define their own struct bpf_insn */
typedef gint VigilHookFd;

static void
vigil_hook_fd_clear(VigilHookFd *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilHookFd, vigil_hook_fd_clear)

struct _VigilConnectHook {
	gint map_fd;
	gint link_fd;
	guint64 ns_per_tick; /* of the start times in /proc/<pid>/stat */
	gsize page_size;
	guint8 *consumer; /* one page, the consumer position first */
	guint8 *producer; /* one page with the producer position, then the data twice */
	VigilConnectHookRecord *recent; /* a ring of VIGIL_CONNECT_HOOK_RECENT */
	guint recent_next;
	guint recent_len;
	GHashTable *by_key; /* of VigilConnectHookKey in recent -> its index + 1 */
};

/* where the fields the program reads are in this kernel's struct task_struct */
typedef struct {
	guint32 group_leader;
	guint32 start_boottime;
} VigilTaskOffsets;

/* the stack frame: the key at fp-40, the value at fp-72, a scratch word at fp-80 */
#define KEY_OFF	    (-40)
#define VALUE_OFF   (-72)
#define SCRATCH_OFF (-80)

#define OPS_OFF(field) ((gint16)offsetof(struct bpf_sock_ops, field))

typedef struct {
	struct bpf_insn insns[VIGIL_CONNECT_HOOK_INSNS];
	guint len;
} VigilBpfProgram;

static void
emit(VigilBpfProgram *prog, guint8 code, guint8 dst, guint8 src, gint16 off, gint32 imm)
{
	struct bpf_insn insn = {
	    .code = code,
	    .dst_reg = dst,
	    .src_reg = src,
	    .off = off,
	    .imm = imm,
	};

	g_assert(prog->len < G_N_ELEMENTS(prog->insns));
	prog->insns[prog->len++] = insn;
}

/* the two halves of a 64-bit immediate load; @src BPF_PSEUDO_MAP_FD for a map's fd */
static void
emit_ld_imm64(VigilBpfProgram *prog, guint8 dst, guint8 src, guint64 value)
{
	emit(prog, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (gint32)(guint32)value);
	emit(prog, 0, 0, 0, 0, (gint32)(guint32)(value >> 32));
}

static void
emit_ldx_w(VigilBpfProgram *prog, guint8 dst, guint8 src, gint16 off)
{
	emit(prog, BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}

static void
emit_stx(VigilBpfProgram *prog, guint8 size, gint16 off, guint8 src)
{
	emit(prog, BPF_STX | size | BPF_MEM, BPF_REG_10, src, off, 0);
}

/* a forward jump whose offset is set later with patch_jump() */
static guint
emit_jump(VigilBpfProgram *prog, guint8 op, guint8 dst, gint32 imm)
{
	emit(prog, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
	return prog->len - 1;
}

static void
patch_jump(VigilBpfProgram *prog, guint at)
{
	prog->insns[at].off = (gint16)(prog->len - at - 1);
}

static void
emit_call(VigilBpfProgram *prog, gint32 helper)
{
	emit(prog, BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}

static void
vigil_connect_hook_build(VigilBpfProgram *prog,
			 gint map_fd,
			 guint64 netns_cookie,
			 gboolean loopback,
			 const VigilTaskOffsets *task)
{
	guint to_out[8];
	guint n_out = 0;
	guint to_v4[4];
	guint n_v4 = 0;
	guint to_v6[3];
	guint n_v6 = 0;
	guint to_store;
	guint port_done;

	/* r6 = ctx; only the connect callback */
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(op));
	to_out[n_out++] = emit_jump(prog, BPF_JNE, BPF_REG_2, BPF_SOCK_OPS_TCP_CONNECT_CB);

	/* only our network namespace */
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
	emit_call(prog, BPF_FUNC_get_netns_cookie);
	emit_ld_imm64(prog, BPF_REG_1, 0, netns_cookie);
	emit(prog, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0);
	to_out[n_out++] = prog->len - 1;

	/* key, value and scratch zeroed: fp-80 .. fp-1 */
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0);
	for (gint16 off = SCRATCH_OFF; off < 0; off += 8)
		emit_stx(prog, BPF_DW, off, BPF_REG_1);

	/* ports: local in host order, remote in network order, on little-endian kernels
	 * shifted into the upper half of the word */
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(local_port));
	emit(prog, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_2, 0, 0, 16);
	emit_stx(prog, BPF_H, KEY_OFF + 4, BPF_REG_2);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(remote_port));
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	emit(prog, BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	port_done = emit_jump(prog, BPF_JEQ, BPF_REG_3, 0);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_3, 0, 0);
	patch_jump(prog, port_done);
	emit_stx(prog, BPF_H, KEY_OFF + 6, BPF_REG_2);

	/* IPv4, IPv6, or IPv6 to a v4-mapped address (IPv4 on the wire) */
	emit_ldx_w(prog, BPF_REG_7, BPF_REG_6, OPS_OFF(family));
	to_v4[n_v4++] = emit_jump(prog, BPF_JEQ, BPF_REG_7, AF_INET);
	to_out[n_out++] = emit_jump(prog, BPF_JNE, BPF_REG_7, AF_INET6);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(remote_ip6[0]));
	to_v6[n_v6++] = emit_jump(prog, BPF_JNE, BPF_REG_2, 0);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(remote_ip6[1]));
	to_v6[n_v6++] = emit_jump(prog, BPF_JNE, BPF_REG_2, 0);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(remote_ip6[2]));
	/* the word 00 00 ff ff as a 32-bit load reads it */
	/* a 32-bit comparison: a 64-bit one would sign-extend the immediate */
	emit(prog,
	     BPF_JMP32 | BPF_JNE | BPF_K,
	     BPF_REG_2,
	     0,
	     0,
	     (gint32)GUINT32_FROM_BE(0x0000ffff));
	to_v6[n_v6++] = prog->len - 1;
	to_v4[n_v4++] = emit_jump(prog, BPF_JA, 0, 0);

	/* IPv6 */
	for (guint i = 0; i < n_v6; i++)
		patch_jump(prog, to_v6[i]);
	emit(prog, BPF_ST | BPF_W | BPF_MEM, BPF_REG_10, 0, KEY_OFF, AF_INET6 | (IPPROTO_TCP << 8));
	for (gint16 i = 0; i < 4; i++) {
		emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, (gint16)(OPS_OFF(local_ip6) + 4 * i));
		emit_stx(prog, BPF_W, (gint16)(KEY_OFF + 8 + 4 * i), BPF_REG_2);
		emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, (gint16)(OPS_OFF(remote_ip6) + 4 * i));
		emit_stx(prog, BPF_W, (gint16)(KEY_OFF + 24 + 4 * i), BPF_REG_2);
	}
	/* ::1 (fifteen zero bytes and a one), unless loopback is wanted */
	if (!loopback) {
		guint not_loopback;
		emit(prog, BPF_LDX | BPF_DW | BPF_MEM, BPF_REG_2, BPF_REG_10, KEY_OFF + 24, 0);
		not_loopback = emit_jump(prog, BPF_JNE, BPF_REG_2, 0);
		emit(prog, BPF_LDX | BPF_DW | BPF_MEM, BPF_REG_2, BPF_REG_10, KEY_OFF + 32, 0);
		emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 1);
		emit(prog, BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_3, 0, 0, 56);
		emit(prog, BPF_JMP | BPF_JEQ | BPF_X, BPF_REG_2, BPF_REG_3, 0, 0);
		to_out[n_out++] = prog->len - 1;
		patch_jump(prog, not_loopback);
	}
	to_store = emit_jump(prog, BPF_JA, 0, 0);

	/* IPv4 */
	for (guint i = 0; i < n_v4; i++)
		patch_jump(prog, to_v4[i]);
	emit(prog, BPF_ST | BPF_W | BPF_MEM, BPF_REG_10, 0, KEY_OFF, AF_INET | (IPPROTO_TCP << 8));
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(local_ip4));
	emit_stx(prog, BPF_W, KEY_OFF + 8, BPF_REG_2);
	emit_ldx_w(prog, BPF_REG_2, BPF_REG_6, OPS_OFF(remote_ip4));
	emit_stx(prog, BPF_W, KEY_OFF + 24, BPF_REG_2);
	/* 127.0.0.0/8 (its first byte, the lowest of the word), unless loopback is wanted */
	if (!loopback) {
		emit(prog, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xff);
		to_out[n_out++] = emit_jump(prog, BPF_JEQ, BPF_REG_2, 127);
	}

	/* the value, and the update */
	patch_jump(prog, to_store);
	emit_call(prog, BPF_FUNC_get_current_pid_tgid);
	emit_stx(prog, BPF_DW, VALUE_OFF, BPF_REG_0);
	emit_call(prog, BPF_FUNC_get_current_uid_gid);
	emit_stx(prog, BPF_DW, VALUE_OFF + 8, BPF_REG_0);
	emit_call(prog, BPF_FUNC_ktime_get_ns);
	emit_stx(prog, BPF_DW, VALUE_OFF + 16, BPF_REG_0);
	/* scratch = current->group_leader; value.start_ns = scratch->start_boottime. A failed
	 * read leaves zeros, which the daemon does not believe */
	emit_call(prog, BPF_FUNC_get_current_task);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_0, 0, 0);
	emit(prog, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, (gint32)task->group_leader);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(prog, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, SCRATCH_OFF);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8);
	emit_call(prog, BPF_FUNC_probe_read_kernel);
	emit(prog, BPF_LDX | BPF_DW | BPF_MEM, BPF_REG_3, BPF_REG_10, SCRATCH_OFF, 0);
	emit(prog, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, (gint32)task->start_boottime);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(prog, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, VALUE_OFF + 24);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8);
	emit_call(prog, BPF_FUNC_probe_read_kernel);
	emit_ld_imm64(prog, BPF_REG_1, BPF_PSEUDO_MAP_FD, (guint64)map_fd);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	emit(prog, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, VALUE_OFF);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, sizeof(VigilConnectHookRecord));
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_RB_NO_WAKEUP);
	emit_call(prog, BPF_FUNC_ringbuf_output);

	/* the connection goes ahead whatever happened */
	for (guint i = 0; i < n_out; i++)
		patch_jump(prog, to_out[i]);
	emit(prog, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	emit(prog, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static gint
vigil_bpf(gint cmd, union bpf_attr *attr)
{
	return (gint)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid
 * systems); NULL when it is not */
static gchar *
vigil_connect_hook_find_cgroup2(void)
{
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &contents, NULL, NULL))
		return NULL;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = NULL;
		const gchar *sep = strstr(lines[i], " - ");

		if (sep == NULL || !g_str_has_prefix(sep + 3, "cgroup2 "))
			continue;
		fields = g_strsplit(lines[i], " ", 6);
		/* id parent dev root mountpoint ...; octal escapes (\040) in the mount point */
		if (g_strv_length(fields) >= 5 && g_strcmp0(fields[3], "/") == 0)
			return g_strcompress(fields[4]);
	}
	return NULL;
}

/* the root of the cgroup v2 hierarchy, opened. Where this mount namespace shows none (a
 * fresh /sys, as `ip netns exec` makes), a private mount of it for as long as it takes to
 * open it: it is detached at once, and the directory removed. */
static gint
vigil_connect_hook_open_cgroup2(GError **error)
{
	g_autofree gchar *path = vigil_connect_hook_find_cgroup2();
	g_autofree gchar *tmp = NULL;
	gint fd;
	gint errsv;

	if (path != NULL) {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			g_autofree gchar *what = NULL;
			errsv = errno;
			what = g_strdup_printf("cannot open %s", path);
			vigil_error_set_errno_code(error, errsv, VIGIL_ERROR_NOT_SUPPORTED, what);
		}
		return fd;
	}
	tmp = g_dir_make_tmp("vigild-cgroup2-XXXXXX", NULL);
	if (tmp == NULL) {
		g_set_error_literal(
		    error,
		    VIGIL_ERROR,
		    VIGIL_ERROR_NOT_SUPPORTED,
		    "cgroup v2 is not mounted, and there is no directory to mount it on");
		return -1;
	}
	if (mount("cgroup2", tmp, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		errsv = errno;
		g_rmdir(tmp);
		vigil_error_set_errno_code(error,
					   errsv,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cgroup v2 is not mounted and cannot be");
		return -1;
	}
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	errsv = errno;
	if (umount2(tmp, MNT_DETACH) != 0)
		g_warning("cannot detach the cgroup v2 mount at %s: %s", tmp, g_strerror(errno));
	g_rmdir(tmp);
	if (fd < 0)
		vigil_error_set_errno_code(error,
					   errsv,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cannot open the cgroup v2 root");
	return fd;
}

static gboolean
vigil_connect_hook_netns_cookie(guint64 *cookie, GError **error)
{
	g_auto(VigilHookFd) fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*cookie);

	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vigil_error_set_errno_code(error,
						  errno,
						  VIGIL_ERROR_NOT_SUPPORTED,
						  "cannot open a socket");
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) != 0)
		return vigil_error_set_errno_code(error,
						  errno,
						  VIGIL_ERROR_NOT_SUPPORTED,
						  "the kernel has no network namespace cookies");
	return TRUE;
}

static gboolean
vigil_connect_hook_task_offsets(VigilTaskOffsets *task, GError **error)
{
	g_autoptr(VigilBtf) btf = vigil_btf_new_from_file(VIGIL_BTF_VMLINUX, error);

	if (btf == NULL)
		return FALSE;
	if (!vigil_btf_member_offset(btf,
				     "task_struct",
				     "group_leader",
				     &task->group_leader,
				     error))
		return FALSE;
	if (!vigil_btf_member_offset(btf,
				     "task_struct",
				     "start_boottime",
				     &task->start_boottime,
				     error))
		return FALSE;
	/* immediates of the program are signed 32-bit */
	if (task->group_leader > G_MAXINT32 || task->start_boottime > G_MAXINT32) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "struct task_struct is too large");
		return FALSE;
	}
	return TRUE;
}

/* the verifier's last line says why it refused */
static const gchar *
vigil_connect_hook_log_reason(gchar *log)
{
	gchar *end = log + strlen(log);

	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	while (end > log && end[-1] != '\n')
		end--;
	return *end != '\0' ? end : "no reason given";
}

static void
vigil_connect_hook_unmap(guint8 *consumer, guint8 *producer, gsize page_size)
{
	if (consumer != NULL)
		munmap(consumer, page_size);
	if (producer != NULL)
		munmap(producer, page_size + 2 * VIGIL_CONNECT_HOOK_RING);
}

static guint
vigil_connect_hook_key_hash(gconstpointer data)
{
	const guint8 *p = data;
	guint64 h = G_GUINT64_CONSTANT(0xcbf29ce484222325);

	for (gsize i = 0; i < sizeof(VigilConnectHookKey); i += 8) {
		guint64 word;
		memcpy(&word, p + i, sizeof(word));
		h = (h ^ word) * G_GUINT64_CONSTANT(0x100000001b3);
		h ^= h >> 29;
	}
	return (guint)(h ^ (h >> 32));
}

static gboolean
vigil_connect_hook_key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(VigilConnectHookKey)) == 0;
}

/* a record into the table of recent ones; it replaces an older one of its tuple, and the
 * oldest one goes when the table is full */
static void
vigil_connect_hook_store(VigilConnectHook *self, const VigilConnectHookRecord *record)
{
	guint slot = self->recent_next;
	VigilConnectHookRecord *old = &self->recent[slot];

	if (slot < self->recent_len &&
	    GPOINTER_TO_UINT(g_hash_table_lookup(self->by_key, &old->key)) == slot + 1)
		g_hash_table_remove(self->by_key, &old->key);
	*old = *record;
	g_hash_table_replace(self->by_key, &old->key, GUINT_TO_POINTER(slot + 1));
	self->recent_next = (slot + 1) % VIGIL_CONNECT_HOOK_RECENT;
	self->recent_len = MAX(self->recent_len, slot + 1);
}

/* moves what the program wrote since the last call into the table: plain memory reads,
 * with the ordering the kernel's ring buffer protocol asks for */
static void
vigil_connect_hook_drain(VigilConnectHook *self)
{
	const guint8 *data = self->producer + self->page_size;
	guint64 consumed = __atomic_load_n((guint64 *)self->consumer, __ATOMIC_RELAXED);
	guint64 produced = __atomic_load_n((const guint64 *)self->producer, __ATOMIC_ACQUIRE);

	while (consumed < produced) {
		const guint8 *header = data + (consumed & (VIGIL_CONNECT_HOOK_RING - 1));
		guint32 len = __atomic_load_n((const guint32 *)header, __ATOMIC_ACQUIRE);
		guint32 size;

		/* still being written: the rest waits for the next call */
		if ((len & BPF_RINGBUF_BUSY_BIT) != 0)
			break;
		size = len & ~(guint32)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		/* the data is mapped twice, so a record that wraps reads on */
		if ((len & BPF_RINGBUF_DISCARD_BIT) == 0 &&
		    size == sizeof(VigilConnectHookRecord)) {
			VigilConnectHookRecord record;
			memcpy(&record, header + BPF_RINGBUF_HDR_SZ, sizeof(record));
			vigil_connect_hook_store(self, &record);
		}
		consumed += (size + BPF_RINGBUF_HDR_SZ + 7) & ~(guint64)7;
		__atomic_store_n((guint64 *)self->consumer, consumed, __ATOMIC_RELEASE);
	}
}

/**
 * vigil_connect_hook_new:
 * @flags: %VIGIL_CONNECT_HOOK_LOOPBACK to record connections to loopback addresses too
 *   (the daemon queues them only with InterceptLoopback=true)
 * @error: a #GError
 *
 * Creates the map, loads the program and attaches it to the cgroup v2 root. Needs
 * CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN (the daemon runs as root) and a kernel with
 * cgroup BPF, sock_ops and network namespace cookies (5.15 and later).
 *
 * Returns: (transfer full) (nullable): the hook, or %NULL with @error saying what is missing
 */
VigilConnectHook *
vigil_connect_hook_new(VigilConnectHookFlags flags, GError **error)
{
	g_autofree VigilBpfProgram *prog = g_new0(VigilBpfProgram, 1);
	g_autofree gchar *log = NULL;
	g_auto(VigilHookFd) map_fd = -1;
	g_auto(VigilHookFd) prog_fd = -1;
	g_auto(VigilHookFd) cgroup_fd = -1;
	guint8 *consumer = NULL;
	guint8 *producer = NULL;
	gsize page_size = 0;
	VigilConnectHook *self;
	union bpf_attr attr;
	guint64 cookie = 0;
	VigilTaskOffsets task;
	glong ticks;
	gint link_fd;

	if (!vigil_connect_hook_netns_cookie(&cookie, error))
		return NULL;
	if (!vigil_connect_hook_task_offsets(&task, error))
		return NULL;
	ticks = sysconf(_SC_CLK_TCK);
	if (ticks <= 0 || ticks > 1000000000) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "no clock tick rate (%ld)",
			    ticks);
		return NULL;
	}
	cgroup_fd = vigil_connect_hook_open_cgroup2(error);
	if (cgroup_fd < 0) {
		vigil_connect_hook_unmap(consumer, producer, page_size);
		return NULL;
	}

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_RINGBUF;
	attr.max_entries = VIGIL_CONNECT_HOOK_RING;
	g_strlcpy(attr.map_name, "vigil_connect", sizeof(attr.map_name));
	map_fd = vigil_bpf(BPF_MAP_CREATE, &attr);
	if (map_fd < 0) {
		vigil_error_set_errno_code(error,
					   errno,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cannot create the BPF ring buffer");
		return NULL;
	}
	page_size = (gsize)sysconf(_SC_PAGESIZE);
	consumer = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (consumer == MAP_FAILED) {
		vigil_error_set_errno_code(error,
					   errno,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cannot map the BPF ring buffer");
		return NULL;
	}
	producer = mmap(NULL,
			page_size + 2 * VIGIL_CONNECT_HOOK_RING,
			PROT_READ,
			MAP_SHARED,
			map_fd,
			(off_t)page_size);
	if (producer == MAP_FAILED) {
		vigil_error_set_errno_code(error,
					   errno,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cannot map the BPF ring buffer");
		munmap(consumer, page_size);
		return NULL;
	}

	vigil_connect_hook_build(prog,
				 map_fd,
				 cookie,
				 (flags & VIGIL_CONNECT_HOOK_LOOPBACK) != 0,
				 &task);
	log = g_malloc0(VIGIL_CONNECT_HOOK_LOG);
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCK_OPS;
	attr.insns = (guint64)(guintptr)prog->insns;
	attr.insn_cnt = prog->len;
	attr.license = (guint64)(guintptr) "GPL";
	attr.log_buf = (guint64)(guintptr)log;
	attr.log_size = VIGIL_CONNECT_HOOK_LOG;
	attr.log_level = 1;
	g_strlcpy(attr.prog_name, "vigil_connect", sizeof(attr.prog_name));
	prog_fd = vigil_bpf(BPF_PROG_LOAD, &attr);
	if (prog_fd < 0) {
		gint errsv = errno;
		g_autofree gchar *what =
		    g_strdup_printf("the kernel refused the sock_ops program (%s)",
				    vigil_connect_hook_log_reason(log));
		vigil_error_set_errno_code(error, errsv, VIGIL_ERROR_NOT_SUPPORTED, what);
		vigil_connect_hook_unmap(consumer, producer, page_size);
		return NULL;
	}

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (guint32)prog_fd;
	attr.link_create.target_fd = (guint32)cgroup_fd;
	attr.link_create.attach_type = BPF_CGROUP_SOCK_OPS;
	link_fd = vigil_bpf(BPF_LINK_CREATE, &attr);
	if (link_fd < 0) {
		gint errsv = errno;
		vigil_error_set_errno_code(error,
					   errsv,
					   VIGIL_ERROR_NOT_SUPPORTED,
					   "cannot attach to the cgroup v2 root");
		vigil_connect_hook_unmap(consumer, producer, page_size);
		return NULL;
	}
	if (fcntl(link_fd, F_SETFD, FD_CLOEXEC) != 0)
		g_debug("cannot set close-on-exec on the BPF link: %s", g_strerror(errno));

	self = g_new0(VigilConnectHook, 1);
	self->map_fd = g_steal_fd(&map_fd);
	self->link_fd = link_fd;
	self->ns_per_tick = G_GUINT64_CONSTANT(1000000000) / (guint64)ticks;
	self->page_size = page_size;
	self->consumer = consumer;
	self->producer = producer;
	self->recent = g_new(VigilConnectHookRecord, VIGIL_CONNECT_HOOK_RECENT);
	self->by_key = g_hash_table_new(vigil_connect_hook_key_hash, vigil_connect_hook_key_equal);
	g_debug("sock_ops program of %u instructions attached", prog->len);
	return self;
}

void
vigil_connect_hook_free(VigilConnectHook *self)
{
	if (self == NULL)
		return;
	/* closing the link detaches the program */
	if (self->link_fd >= 0)
		close(self->link_fd);
	vigil_connect_hook_unmap(self->consumer, self->producer, self->page_size);
	if (self->map_fd >= 0)
		close(self->map_fd);
	g_hash_table_unref(self->by_key);
	g_free(self->recent);
	g_free(self);
}

/**
 * vigil_connect_hook_lookup:
 * @self: a #VigilConnectHook
 * @key: an outbound TCP flow, as the queue saw it
 * @owner: (out): who connected, when found
 *
 * Reads the ring buffer and looks the flow up, without a system call. Only outbound TCP
 * flows are ever found.
 *
 * Returns: %TRUE when the hook saw the connect() of this flow less than
 *   %VIGIL_CONNECT_HOOK_MAX_AGE_NS ago
 */
gboolean
vigil_connect_hook_lookup(VigilConnectHook *self, const VigilFlowKey *key, VigilConnectOwner *owner)
{
	VigilConnectHookKey map_key;
	VigilConnectHookValue value;
	struct timespec now;
	guint index;
	guint64 now_ns;
	gsize addr_len;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(owner != NULL, FALSE);

	if (key->protocol != IPPROTO_TCP)
		return FALSE;
	memset(&map_key, 0, sizeof(map_key));
	if (key->family == 4 || key->family == AF_INET) {
		map_key.family_proto = AF_INET | (IPPROTO_TCP << 8);
		addr_len = 4;
	} else if (key->family == 6 || key->family == AF_INET6) {
		map_key.family_proto = AF_INET6 | (IPPROTO_TCP << 8);
		addr_len = 16;
	} else {
		return FALSE;
	}
	map_key.local_port = g_htons(key->local_port);
	map_key.remote_port = g_htons(key->remote_port);
	memcpy(map_key.local, key->local, addr_len);
	memcpy(map_key.remote, key->remote, addr_len);

	vigil_connect_hook_drain(self);
	index = GPOINTER_TO_UINT(g_hash_table_lookup(self->by_key, &map_key));
	if (index == 0)
		return FALSE;
	value = self->recent[index - 1].value;
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return FALSE;
	now_ns = (guint64)now.tv_sec * G_GUINT64_CONSTANT(1000000000) + (guint64)now.tv_nsec;
	if (value.ktime_ns > now_ns || now_ns - value.ktime_ns > VIGIL_CONNECT_HOOK_MAX_AGE_NS)
		return FALSE;
	if (value.start_ns == 0)
		return FALSE;
	owner->pid = (guint32)(value.pid_tgid >> 32);
	owner->tid = (guint32)value.pid_tgid;
	owner->uid = (guint32)value.uid_gid;
	owner->gid = (guint32)(value.uid_gid >> 32);
	owner->age_ns = now_ns - value.ktime_ns;
	owner->start_time = value.start_ns / self->ns_per_tick;
	return TRUE;
}
