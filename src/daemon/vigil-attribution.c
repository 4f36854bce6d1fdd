/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilAttribution"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-attribution.h"
#include "vigil-cleanups.h"
#include "vigil-connect-hook.h"
#include "vigil-error.h"
#include "vigil-proc-connector.h"

/*
 * Which process owns the socket of a flow.
 *
 * 0. An outbound TCP flow whose connect() the kernel hook saw (vigil-connect-hook.c) names
 *    its process directly: with proc events read up to the packet, a cached record of that
 *    pid is the process as it is now, so nothing else is asked. A process not cached yet
 *    goes on to step 1.
 * 1. sock_diag names the socket (inode, uid) from the exact tuple, synchronously.
 * 2. The inode map answers which processes hold it. Every answer is checked before use:
 *    readlinkat(<the /proc/<pid> dirfd>, "fd/N") must still read "socket:[inode]". The
 *    dirfd pins the process, so a reused pid fails the check instead of passing it.
 * 3. A socket not in the map is probed for in the few processes that made connections last
 *    (the fd numbers where they kept sockets, and the next one): a new connection of a busy
 *    process is usually found with one readlinkat.
 * 4. Otherwise a worker thread scans /proc/<pid>/fd: first the processes the proc connector
 *    saw fork or exec most recently, of the socket's uid, then every process. Every socket
 *    of every scanned process goes into the map, so one scan answers many later lookups.
 *
 * A socket held by several processes (fork after socket()): the newest holder wins, by
 * start time, then child over parent, then the higher pid. The usual sharer is a child that
 * inherited the socket and is the one using it (a shell's `exec 3<>/dev/tcp/...` then a
 * command, a forking server handing a connection to a worker, a daemon that forks after
 * binding) while the parent waits or has moved on; the parent's copy is the leftover. Any
 * holder is a process that can write to the socket, never a stranger, and the choice is
 * deterministic. Children forked after the map learnt a socket are checked for it at the
 * same fd number, which is where fork() puts the copy.
 *
 * Unknown stays unknown: no socket (closed, time-wait, owned by another uid than the queue
 * says), a socket that no process holds, a process that vanished before its record could
 * be read: the answer is NULL / VIGIL_ERROR_NOT_FOUND, never the closest match.
 */

#define VIGIL_ATTRIBUTION_HOLDERS_MAX	  4
#define VIGIL_ATTRIBUTION_FD_HINTS	  4
#define VIGIL_ATTRIBUTION_HOT_MAX	  8
#define VIGIL_ATTRIBUTION_PROBE_BUDGET	  6
#define VIGIL_ATTRIBUTION_RECENT_MAX	  1024
#define VIGIL_ATTRIBUTION_CANDIDATES_MAX  512
#define VIGIL_ATTRIBUTION_PRELOAD_MAX	  256
#define VIGIL_ATTRIBUTION_CHILDREN_MAX	  4
#define VIGIL_ATTRIBUTION_CHILDREN_DEPTH  3
#define VIGIL_ATTRIBUTION_RECORD_MAX_AGE  (10 * G_USEC_PER_SEC)
#define VIGIL_ATTRIBUTION_SWEEP_INTERVAL  5
#define VIGIL_ATTRIBUTION_SWEEP_CHUNK	  512
#define VIGIL_ATTRIBUTION_REQUEST_RETRIES 2
#define VIGIL_ATTRIBUTION_UID_UNKNOWN	  G_MAXUINT32
#define VIGIL_ATTRIBUTION_SOCKET_LINK_MAX 32

typedef struct {
	guint32 pid;
	gint fd;
	guint64 start_time;
	guint64 fresh_job; /* the scan that saw it, 0 when found otherwise */
} VigilAttributionHolder;

typedef struct {
	guint32 inode;
	guint n_holders;
	VigilAttributionHolder holders[VIGIL_ATTRIBUTION_HOLDERS_MAX]; /* newest first */
	guint64 checked_seq; /* proc event seq when the holders' children were considered */
	GList link;	     /* in process_lru of the inodes, data = self */
} VigilAttributionInode;

typedef struct {
	guint32 pid;
	guint32 ppid;
	guint32 uid; /* the owner of /proc/<pid>: the effective uid */
	guint64 start_time;
	gint dirfd; /* O_PATH /proc/<pid>, pins the process; -1 when not open */
	guint64 last_fork_seq;
	gboolean record_stale; /* exec or uid change since the record was read */
	VigilProcess *record;
	GArray *inodes; /* of guint32: the sockets it held when last seen, and some it lost */
	guint inodes_compacted;
	gint fd_hints[VIGIL_ATTRIBUTION_FD_HINTS]; /* fds that held sockets, recent first */
	guint n_fd_hints;
	gint max_socket_fd;
	GList link; /* in process_lru, data = self */
} VigilAttributionProcess;

typedef struct {
	guint32 pid;
	guint32 ppid; /* 0 for an exec */
	guint64 seq;  /* event_seq after it */
} VigilAttributionRecent;

typedef struct {
	guint32 inode;
	guint32 uid;
} VigilAttributionTarget;

typedef struct {
	guint32 pid;
	guint64 start_time;
} VigilAttributionReload;

typedef struct {
	gint fd;
	guint32 inode;
} VigilAttributionSocket;

/* one process as the worker thread saw it */
typedef struct {
	guint32 pid;
	guint32 ppid;
	guint32 uid;
	guint64 start_time;
	gint dirfd;
	GArray *sockets; /* of VigilAttributionSocket */
	VigilProcess *record;
	gboolean holds_target;
	gboolean candidate; /* a new process: likely the next to be asked about */
} VigilAttributionScanned;

typedef struct {
	guint64 gen;
	guint64 seq_at_start;
	GHashTable *execed;  /* pids that exec'd since seq_at_start, set when the job is done */
	gboolean execed_all; /* the ring of recent events no longer reaches seq_at_start */
	gint64 started;
	guint max_dirfds;
	GArray *targets;     /* of VigilAttributionTarget */
	GArray *candidates;  /* of guint32, newest first */
	GArray *reloads;     /* of VigilAttributionReload */
	GPtrArray *scanned;  /* of VigilAttributionScanned */
	GPtrArray *reloaded; /* of VigilProcess */
	gboolean full;
} VigilAttributionJob;

typedef struct {
	VigilAttribution *self; /* the task holds the reference */
	GTask *task;
	guint32 inode;
	guint32 uid;
	guint64 job; /* the scan that covers it, 0 until one starts */
	guint retries;
	GSource *cancel_source;
	GList link; /* in pending, data = self */
} VigilAttributionRequest;

struct _VigilAttribution {
	GObject parent_instance;
	GMainContext *context;
	VigilNlSockdiag *sockdiag;
	VigilProcConnector *connector;
	gboolean use_proc_connector;
	VigilConnectHook *hook;
	gboolean use_connect_hook;
	gboolean loopback;
	gboolean started;
	gboolean events_reliable;
	guint max_processes;
	guint max_inodes;
	guint max_dirfds;
	GHashTable *processes;			/* of pid -> VigilAttributionProcess */
	GHashTable *inodes;			/* of inode -> VigilAttributionInode */
	GQueue process_lru;			/* of VigilAttributionProcess, most recent first */
	GQueue inode_lru;			/* of VigilAttributionInode, most recent first */
	guint32 hot[VIGIL_ATTRIBUTION_HOT_MAX]; /* pids attributed last, most recent first */
	guint n_hot;
	VigilAttributionRecent recent[VIGIL_ATTRIBUTION_RECENT_MAX]; /* a ring of forks, execs */
	guint recent_next;
	guint recent_len;
	guint64 event_seq;
	GQueue pending; /* of VigilAttributionRequest */
	gboolean job_running;
	guint64 jobs_started;
	GSource *sweep_timer;
	GSource *sweep_idle;
	GArray *sweep_pids; /* of guint32 */
	guint open_dirfds;
	GPtrArray *exited; /* of VigilProcess, for the process-exited signal */
	GSource *exited_idle;
	VigilAttributionStats stats;
};

G_DEFINE_FINAL_TYPE(VigilAttribution, vigil_attribution, G_TYPE_OBJECT)

enum { SIGNAL_PROCESS_EXITED, SIGNAL_LAST };

static guint signals[SIGNAL_LAST] = {0};

static void
vigil_attribution_maybe_start_job(VigilAttribution *self);

/* --- the maps ------------------------------------------------------------------------- */

static void
vigil_attribution_close_dirfd(VigilAttribution *self, VigilAttributionProcess *proc)
{
	if (proc->dirfd < 0)
		return;
	g_close(proc->dirfd, NULL);
	proc->dirfd = -1;
	self->open_dirfds--;
}

static void
vigil_attribution_process_free(VigilAttributionProcess *proc)
{
	g_clear_object(&proc->record);
	g_array_unref(proc->inodes);
	g_free(proc);
}

static VigilAttributionProcess *
vigil_attribution_get_process(VigilAttribution *self, guint32 pid)
{
	return g_hash_table_lookup(self->processes, GUINT_TO_POINTER(pid));
}

static void
vigil_attribution_inode_remove_holder(VigilAttributionInode *entry, guint index)
{
	for (guint i = index; i + 1 < entry->n_holders; i++)
		entry->holders[i] = entry->holders[i + 1];
	entry->n_holders--;
}

static void
vigil_attribution_remove_inode(VigilAttribution *self, VigilAttributionInode *entry)
{
	g_queue_unlink(&self->inode_lru, &entry->link);
	g_hash_table_remove(self->inodes, GUINT_TO_POINTER(entry->inode));
}

/* drops @proc from the holders of every socket it had */
static void
vigil_attribution_process_drop_sockets(VigilAttribution *self, VigilAttributionProcess *proc)
{
	for (guint i = 0; i < proc->inodes->len; i++) {
		guint32 inode = g_array_index(proc->inodes, guint32, i);
		VigilAttributionInode *entry =
		    g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
		if (entry == NULL)
			continue;
		for (guint j = entry->n_holders; j > 0; j--) {
			if (entry->holders[j - 1].pid == proc->pid)
				vigil_attribution_inode_remove_holder(entry, j - 1);
		}
		if (entry->n_holders == 0)
			vigil_attribution_remove_inode(self, entry);
	}
	g_array_set_size(proc->inodes, 0);
	proc->inodes_compacted = 0;
}

static void
vigil_attribution_evict_process(VigilAttribution *self, VigilAttributionProcess *proc)
{
	for (guint i = 0; i < self->n_hot; i++) {
		if (self->hot[i] != proc->pid)
			continue;
		memmove(&self->hot[i], &self->hot[i + 1], (self->n_hot - i - 1) * sizeof(guint32));
		self->n_hot--;
		break;
	}
	vigil_attribution_process_drop_sockets(self, proc);
	vigil_attribution_close_dirfd(self, proc);
	g_queue_unlink(&self->process_lru, &proc->link);
	g_hash_table_remove(self->processes, GUINT_TO_POINTER(proc->pid));
}

/* emitted from an idle, so that a handler never runs inside the maps' bookkeeping */
static gboolean
vigil_attribution_exited_idle_cb(gpointer user_data)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(user_data);
	g_autoptr(GPtrArray) exited = g_steal_pointer(&self->exited);

	self->exited = g_ptr_array_new_with_free_func(g_object_unref);
	g_clear_pointer(&self->exited_idle, g_source_unref);
	for (guint i = 0; i < exited->len; i++)
		g_signal_emit(self,
			      signals[SIGNAL_PROCESS_EXITED],
			      0,
			      g_ptr_array_index(exited, i));
	return G_SOURCE_REMOVE;
}

/* @proc is gone for sure: forget it, and tell who was given its record */
static void
vigil_attribution_process_exited(VigilAttribution *self, VigilAttributionProcess *proc)
{
	if (proc->record != NULL && self->context != NULL) {
		g_ptr_array_add(self->exited, g_object_ref(proc->record));
		if (self->exited_idle == NULL) {
			self->exited_idle = g_idle_source_new();
			g_source_set_callback(self->exited_idle,
					      vigil_attribution_exited_idle_cb,
					      self,
					      NULL);
			g_source_set_name(self->exited_idle, "vigil attribution exits");
			g_source_attach(self->exited_idle, self->context);
		}
	}
	vigil_attribution_evict_process(self, proc);
}

static void
vigil_attribution_touch_process(VigilAttribution *self, VigilAttributionProcess *proc)
{
	g_queue_unlink(&self->process_lru, &proc->link);
	g_queue_push_head_link(&self->process_lru, &proc->link);
}

static void
vigil_attribution_touch_inode(VigilAttribution *self, VigilAttributionInode *entry)
{
	g_queue_unlink(&self->inode_lru, &entry->link);
	g_queue_push_head_link(&self->inode_lru, &entry->link);
}

/* a process entry for (@pid, @start_time); one for an older process of that pid goes */
static VigilAttributionProcess *
vigil_attribution_add_process(VigilAttribution *self, guint32 pid, guint64 start_time)
{
	VigilAttributionProcess *proc = vigil_attribution_get_process(self, pid);

	if (proc != NULL) {
		if (proc->start_time == start_time)
			return proc;
		/* the pid was reused: the process we knew is gone */
		vigil_attribution_process_exited(self, proc);
	}
	while (self->process_lru.length >= self->max_processes) {
		VigilAttributionProcess *old = g_queue_peek_tail_link(&self->process_lru)->data;
		vigil_attribution_evict_process(self, old);
	}
	proc = g_new0(VigilAttributionProcess, 1);
	proc->pid = pid;
	proc->start_time = start_time;
	proc->dirfd = -1;
	proc->uid = VIGIL_ATTRIBUTION_UID_UNKNOWN;
	proc->max_socket_fd = -1;
	proc->inodes = g_array_new(FALSE, FALSE, sizeof(guint32));
	proc->link.data = proc;
	g_queue_push_head_link(&self->process_lru, &proc->link);
	g_hash_table_insert(self->processes, GUINT_TO_POINTER(pid), proc);
	return proc;
}

static void
vigil_attribution_process_set_dirfd(VigilAttribution *self,
				    VigilAttributionProcess *proc,
				    gint dirfd)
{
	vigil_attribution_close_dirfd(self, proc);
	if (dirfd < 0)
		return;
	if (self->open_dirfds >= self->max_dirfds) {
		g_close(dirfd, NULL);
		return;
	}
	proc->dirfd = dirfd;
	self->open_dirfds++;
}

static void
vigil_attribution_process_add_hint(VigilAttributionProcess *proc, gint fd)
{
	guint n = MIN(proc->n_fd_hints, VIGIL_ATTRIBUTION_FD_HINTS - 1);

	for (guint i = 0; i < proc->n_fd_hints; i++) {
		if (proc->fd_hints[i] == fd) {
			n = i;
			break;
		}
	}
	memmove(&proc->fd_hints[1], &proc->fd_hints[0], n * sizeof(gint));
	proc->fd_hints[0] = fd;
	if (n == proc->n_fd_hints)
		proc->n_fd_hints = MIN(proc->n_fd_hints + 1, VIGIL_ATTRIBUTION_FD_HINTS);
	proc->max_socket_fd = MAX(proc->max_socket_fd, fd);
}

/* is @a (holding) newer than @b: later start, else the child of the other, else higher pid */
static gboolean
vigil_attribution_holder_is_newer(VigilAttribution *self,
				  const VigilAttributionHolder *a,
				  const VigilAttributionHolder *b)
{
	VigilAttributionProcess *pa;
	VigilAttributionProcess *pb;

	if (a->start_time != b->start_time)
		return a->start_time > b->start_time;
	pa = vigil_attribution_get_process(self, a->pid);
	pb = vigil_attribution_get_process(self, b->pid);
	if (pa != NULL && pa->ppid == b->pid)
		return TRUE;
	if (pb != NULL && pb->ppid == a->pid)
		return FALSE;
	return a->pid > b->pid;
}

/* proc->inodes is a superset of the sockets the map holds for it, compacted now and then */
static void
vigil_attribution_process_compact_inodes(VigilAttribution *self, VigilAttributionProcess *proc)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	guint kept = 0;

	for (guint i = 0; i < proc->inodes->len; i++) {
		guint32 inode = g_array_index(proc->inodes, guint32, i);
		VigilAttributionInode *entry =
		    g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
		gboolean held = FALSE;
		if (entry == NULL || !g_hash_table_add(seen, GUINT_TO_POINTER(inode)))
			continue;
		for (guint j = 0; j < entry->n_holders && !held; j++)
			held = entry->holders[j].pid == proc->pid;
		if (held)
			g_array_index(proc->inodes, guint32, kept++) = inode;
	}
	g_array_set_size(proc->inodes, kept);
	proc->inodes_compacted = kept;
}

/* records that @proc holds @inode at @fd; a new entry starts with @checked_seq (0: its
 * holder's children were never looked at) */
static VigilAttributionInode *
vigil_attribution_add_holder(VigilAttribution *self,
			     guint32 inode,
			     VigilAttributionProcess *proc,
			     gint fd,
			     guint64 fresh_job,
			     guint64 checked_seq)
{
	VigilAttributionInode *entry = g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
	VigilAttributionHolder holder = {
	    .pid = proc->pid,
	    .fd = fd,
	    .start_time = proc->start_time,
	    .fresh_job = fresh_job,
	};
	gboolean known = FALSE;
	guint pos;

	if (entry == NULL) {
		while (self->inode_lru.length >= self->max_inodes) {
			/* its holders' inode lists keep it until their next compaction */
			VigilAttributionInode *old = g_queue_peek_tail_link(&self->inode_lru)->data;
			vigil_attribution_remove_inode(self, old);
		}
		entry = g_new0(VigilAttributionInode, 1);
		entry->inode = inode;
		entry->checked_seq = checked_seq;
		entry->link.data = entry;
		g_queue_push_head_link(&self->inode_lru, &entry->link);
		g_hash_table_insert(self->inodes, GUINT_TO_POINTER(inode), entry);
	}
	for (guint i = 0; i < entry->n_holders; i++) {
		if (entry->holders[i].pid == proc->pid) {
			vigil_attribution_inode_remove_holder(entry, i);
			known = TRUE;
			break;
		}
	}
	for (pos = 0; pos < entry->n_holders; pos++) {
		if (vigil_attribution_holder_is_newer(self, &holder, &entry->holders[pos]))
			break;
	}
	if (pos >= VIGIL_ATTRIBUTION_HOLDERS_MAX)
		return entry;
	if (entry->n_holders == VIGIL_ATTRIBUTION_HOLDERS_MAX)
		entry->n_holders--;
	memmove(&entry->holders[pos + 1],
		&entry->holders[pos],
		(entry->n_holders - pos) * sizeof(VigilAttributionHolder));
	entry->holders[pos] = holder;
	entry->n_holders++;
	if (!known) {
		g_array_append_val(proc->inodes, inode);
		if (proc->inodes->len > 64 && proc->inodes->len > 2 * proc->inodes_compacted)
			vigil_attribution_process_compact_inodes(self, proc);
	}
	return entry;
}

/* --- checks on the main loop ------------------------------------------------------------ */

static gboolean
vigil_attribution_fd_is_socket(gint dirfd, gint fd, guint32 inode, gboolean *process_gone)
{
	gchar path[32];
	gchar want[VIGIL_ATTRIBUTION_SOCKET_LINK_MAX];
	gchar link[VIGIL_ATTRIBUTION_SOCKET_LINK_MAX];
	gssize want_len;
	ssize_t n;

	g_snprintf(path, sizeof(path), "fd/%d", fd);
	n = readlinkat(dirfd, path, link, sizeof(link));
	if (n < 0) {
		/* ENOENT for a closed fd, ESRCH (or ENOENT on "fd") once the process is gone */
		if (process_gone != NULL)
			*process_gone = errno == ESRCH || faccessat(dirfd, "fd", F_OK, 0) != 0;
		return FALSE;
	}
	want_len = g_snprintf(want, sizeof(want), "socket:[%u]", inode);
	return n == want_len && memcmp(link, want, (gsize)n) == 0;
}

/* a dirfd for @proc, opened now if needed and only if the pid is still that process */
static gboolean
vigil_attribution_process_ensure_dirfd(VigilAttribution *self, VigilAttributionProcess *proc)
{
	g_auto(VigilFd) dirfd = -1;
	VigilProcStat stat;

	if (proc->dirfd >= 0)
		return TRUE;
	dirfd = vigil_proc_open_pid_dir(proc->pid, NULL);
	if (dirfd < 0 || !vigil_proc_stat_read_at(dirfd, &stat, NULL) ||
	    stat.start_time != proc->start_time)
		return FALSE;
	vigil_attribution_process_set_dirfd(self, proc, g_steal_fd(&dirfd));
	return proc->dirfd >= 0;
}

static gboolean
vigil_attribution_process_is_alive(VigilAttributionProcess *proc)
{
	g_auto(VigilFd) dirfd = -1;
	VigilProcStat stat;

	if (proc->dirfd >= 0)
		return faccessat(proc->dirfd, "fd", F_OK, 0) == 0;
	dirfd = vigil_proc_open_pid_dir(proc->pid, NULL);
	return dirfd >= 0 && vigil_proc_stat_read_at(dirfd, &stat, NULL) &&
	       stat.start_time == proc->start_time;
}

/* does @holder still hold @inode; drops what is proven stale */
static VigilAttributionProcess *
vigil_attribution_verify_holder(VigilAttribution *self,
				const VigilAttributionHolder *holder,
				guint32 inode,
				guint64 fresh_job)
{
	VigilAttributionProcess *proc = vigil_attribution_get_process(self, holder->pid);
	gboolean gone = FALSE;

	if (proc == NULL || proc->start_time != holder->start_time)
		return NULL;
	/* what the scan just saw is as good as a check */
	if (fresh_job != 0 && holder->fresh_job == fresh_job)
		return proc;
	if (!vigil_attribution_process_ensure_dirfd(self, proc))
		return NULL;
	if (vigil_attribution_fd_is_socket(proc->dirfd, holder->fd, inode, &gone))
		return proc;
	if (gone)
		vigil_attribution_process_exited(self, proc);
	return NULL;
}

/* the newest verified holder of @entry; the entry may be freed (then NULL) */
static VigilAttributionProcess *
vigil_attribution_entry_resolve(VigilAttribution *self,
				VigilAttributionInode *entry,
				gint *fd_out,
				guint64 fresh_job)
{
	guint32 inode = entry->inode;

	while (TRUE) {
		VigilAttributionHolder holder;
		VigilAttributionProcess *proc;

		entry = g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
		if (entry == NULL || entry->n_holders == 0) {
			if (entry != NULL)
				vigil_attribution_remove_inode(self, entry);
			return NULL;
		}
		holder = entry->holders[0];
		proc = vigil_attribution_verify_holder(self, &holder, inode, fresh_job);
		if (proc != NULL) {
			*fd_out = holder.fd;
			vigil_attribution_touch_inode(self, entry);
			return proc;
		}
		/* the eviction of a gone process may have taken the entry with it */
		entry = g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
		if (entry == NULL)
			continue;
		for (guint i = 0; i < entry->n_holders; i++) {
			if (entry->holders[i].pid != holder.pid)
				continue;
			vigil_attribution_inode_remove_holder(entry, i);
			break;
		}
	}
}

/* the socket of a busy process: where it kept sockets before, or the next fd */
static VigilAttributionProcess *
vigil_attribution_probe(VigilAttribution *self, guint32 inode, guint32 uid, gint *fd_out)
{
	guint budget = VIGIL_ATTRIBUTION_PROBE_BUDGET;

	for (guint i = 0; i < self->n_hot && budget > 0; i++) {
		VigilAttributionProcess *proc = vigil_attribution_get_process(self, self->hot[i]);
		gint fds[VIGIL_ATTRIBUTION_FD_HINTS + 1];
		guint n_fds = 0;

		if (proc == NULL || proc->dirfd < 0)
			continue;
		if (uid != VIGIL_ATTRIBUTION_UID_UNKNOWN &&
		    proc->uid != VIGIL_ATTRIBUTION_UID_UNKNOWN && proc->uid != uid)
			continue;
		for (guint j = 0; j < proc->n_fd_hints; j++)
			fds[n_fds++] = proc->fd_hints[j];
		if (proc->max_socket_fd >= 0)
			fds[n_fds++] = proc->max_socket_fd + 1;
		for (guint j = 0; j < n_fds && budget > 0; j++, budget--) {
			gboolean gone = FALSE;
			if (vigil_attribution_fd_is_socket(proc->dirfd, fds[j], inode, &gone)) {
				vigil_attribution_add_holder(self, inode, proc, fds[j], 0, 0);
				vigil_attribution_process_add_hint(proc, fds[j]);
				self->stats.probe_hits++;
				*fd_out = fds[j];
				return proc;
			}
			if (gone) {
				vigil_attribution_process_exited(self, proc);
				break;
			}
		}
	}
	return NULL;
}

/* children forked since the map learnt @entry may hold the socket too, at the same fd */
static VigilAttributionProcess *
vigil_attribution_check_children(VigilAttribution *self,
				 VigilAttributionProcess *holder,
				 guint32 inode,
				 gint fd,
				 guint depth)
{
	VigilAttributionInode *entry = g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
	guint checked = 0;

	if (entry == NULL || !self->events_reliable || depth >= VIGIL_ATTRIBUTION_CHILDREN_DEPTH)
		return holder;
	/* the first holder only when it forked since; a child found now had no entry, so its
	 * own forks were not counted */
	if (depth == 0) {
		if (holder->last_fork_seq <= entry->checked_seq)
			return holder;
		entry->checked_seq = self->event_seq;
	}
	/* adding children may evict from the tail: keep the holder away from it */
	vigil_attribution_touch_process(self, holder);

	for (guint i = 0; i < self->recent_len && checked < VIGIL_ATTRIBUTION_CHILDREN_MAX; i++) {
		guint index = (self->recent_next + VIGIL_ATTRIBUTION_RECENT_MAX - 1 - i) %
			      VIGIL_ATTRIBUTION_RECENT_MAX;
		const VigilAttributionRecent *recent = &self->recent[index];
		g_auto(VigilFd) dirfd = -1;
		VigilAttributionProcess *child;
		VigilProcStat stat;
		struct stat st;

		if (recent->ppid != holder->pid)
			continue;
		checked++;
		child = vigil_attribution_get_process(self, recent->pid);
		if (child != NULL && child->dirfd >= 0 && child->ppid == holder->pid) {
			if (!vigil_attribution_fd_is_socket(child->dirfd, fd, inode, NULL))
				continue;
		} else {
			dirfd = vigil_proc_open_pid_dir(recent->pid, NULL);
			if (dirfd < 0 || !vigil_proc_stat_read_at(dirfd, &stat, NULL) ||
			    stat.ppid != holder->pid || stat.start_time < holder->start_time)
				continue;
			if (!vigil_attribution_fd_is_socket(dirfd, fd, inode, NULL))
				continue;
			child = vigil_attribution_add_process(self, recent->pid, stat.start_time);
			child->ppid = stat.ppid;
			if (fstat(dirfd, &st) == 0)
				child->uid = st.st_uid;
			vigil_attribution_process_set_dirfd(self, child, g_steal_fd(&dirfd));
		}
		vigil_attribution_add_holder(self, inode, child, fd, 0, 0);
		vigil_attribution_process_add_hint(child, fd);
		g_debug("socket %u is shared by %u and its child %u",
			inode,
			holder->pid,
			child->pid);
		return vigil_attribution_check_children(self, child, inode, fd, depth + 1);
	}
	return holder;
}

/* the process holding @inode, from the map or a probe; NULL when a scan is needed */
static VigilAttributionProcess *
vigil_attribution_resolve_inode(VigilAttribution *self,
				guint32 inode,
				guint32 uid,
				guint64 fresh_job)
{
	VigilAttributionInode *entry = g_hash_table_lookup(self->inodes, GUINT_TO_POINTER(inode));
	VigilAttributionProcess *proc = NULL;
	gint fd = -1;

	if (entry != NULL) {
		proc = vigil_attribution_entry_resolve(self, entry, &fd, fresh_job);
		if (proc != NULL)
			self->stats.cache_hits++;
	}
	if (proc == NULL && fresh_job == 0)
		proc = vigil_attribution_probe(self, inode, uid, &fd);
	if (proc != NULL && fresh_job == 0 && fd >= 0)
		proc = vigil_attribution_check_children(self, proc, inode, fd, 0);
	return proc;
}

/* the record of @proc if it describes the process as it is now */
static VigilProcess *
vigil_attribution_usable_record(VigilAttribution *self, VigilAttributionProcess *proc)
{
	const VigilExeHashKey *key;
	struct stat st;

	if (proc->record == NULL || proc->record_stale)
		return NULL;
	if (g_get_monotonic_time() - vigil_process_get_load_time(proc->record) >
	    VIGIL_ATTRIBUTION_RECORD_MAX_AGE)
		return NULL;
	/* without exec events, a changed program shows in the file that /proc/<pid>/exe is */
	if (!self->events_reliable) {
		key = vigil_process_get_exe_key(proc->record);
		if (key != NULL && proc->dirfd >= 0 &&
		    (fstatat(proc->dirfd, "exe", &st, 0) < 0 || st.st_dev != key->device ||
		     st.st_ino != key->inode)) {
			proc->record_stale = TRUE;
			return NULL;
		}
	}
	return proc->record;
}

static void
vigil_attribution_mark_hot(VigilAttribution *self, VigilAttributionProcess *proc)
{
	guint n = MIN(self->n_hot, VIGIL_ATTRIBUTION_HOT_MAX - 1);

	for (guint i = 0; i < self->n_hot; i++) {
		if (self->hot[i] == proc->pid) {
			n = i;
			break;
		}
	}
	memmove(&self->hot[1], &self->hot[0], n * sizeof(guint32));
	self->hot[0] = proc->pid;
	if (n == self->n_hot)
		self->n_hot = MIN(self->n_hot + 1, VIGIL_ATTRIBUTION_HOT_MAX);
	vigil_attribution_touch_process(self, proc);
}

/* sock_diag, then the maps; @inode 0 means the socket is gone (unknown for good) */
static VigilAttributionProcess *
vigil_attribution_resolve_flow(VigilAttribution *self,
			       const VigilFlowKey *key,
			       VigilAttributionLookupFlags flags,
			       guint32 *inode,
			       guint32 *uid)
{
	g_autoptr(GError) error = NULL;
	VigilSockdiagSocket socket;

	*inode = 0;
	*uid = VIGIL_ATTRIBUTION_UID_UNKNOWN;
	/* an exec just before the connect must be known before the record is trusted. Its
	 * event was queued before the packet: when the packet was already waiting at the last
	 * poll and that poll saw no event, there is none to read (a system call saved) */
	if (self->connector != NULL &&
	    ((flags & VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL) == 0 ||
	     !vigil_proc_connector_was_empty(self->connector)))
		vigil_proc_connector_dispatch(self->connector);
	/* the hook names the process; trusted only while every exit, fork and exec up to now
	 * is known, since those are what would make the cached record another process's */
	if (self->hook != NULL && self->events_reliable) {
		VigilConnectOwner owner;
		if (vigil_connect_hook_lookup(self->hook, key, &owner)) {
			VigilAttributionProcess *proc =
			    vigil_attribution_get_process(self, owner.pid);
			/* the start time tells the process that connected from a later one that
			 * got its pid */
			if (proc != NULL && proc->start_time == owner.start_time &&
			    vigil_attribution_usable_record(self, proc) != NULL) {
				self->stats.hook_hits++;
				*uid = owner.uid;
				return proc;
			}
		}
	}
	if (!vigil_nl_sockdiag_lookup(self->sockdiag, key, &socket, &error)) {
		if (!g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND)) {
			g_autofree gchar *flow = vigil_flow_key_to_string(key);
			g_debug("no socket lookup for %s: %s", flow, error->message);
		}
		self->stats.socket_gone++;
		return NULL;
	}
	*inode = socket.inode;
	*uid = socket.uid;
	if (socket.inode == 0)
		return NULL;
	return vigil_attribution_resolve_inode(self, socket.inode, socket.uid, 0);
}

/**
 * vigil_attribution_lookup:
 * @self: a started #VigilAttribution
 * @key: the flow
 * @need_scan: (out) (optional): set to %TRUE when the answer is not known yet but a /proc
 *   scan may find it (use vigil_attribution_lookup_async() then), %FALSE when it is unknown
 *
 * The fast path, on the main loop: one sock_diag request and a verified map or probe hit,
 * a few microseconds. Never scans /proc and never blocks.
 *
 * Returns: (transfer full) (nullable): the process that holds the flow's socket
 */
VigilProcess *
vigil_attribution_lookup(VigilAttribution *self, const VigilFlowKey *key, gboolean *need_scan)
{
	return vigil_attribution_lookup_full(self, key, VIGIL_ATTRIBUTION_LOOKUP_NONE, need_scan);
}

/**
 * vigil_attribution_lookup_full:
 * @self: a started #VigilAttribution
 * @key: the flow
 * @flags: what the caller knows of the flow's packet
 * @need_scan: (out) (optional): as for vigil_attribution_lookup()
 *
 * vigil_attribution_lookup() for a caller that knows more, e.g. the queue handler with
 * %VIGIL_ATTRIBUTION_LOOKUP_QUEUED_BEFORE_POLL.
 *
 * Returns: (transfer full) (nullable): the process that holds the flow's socket
 */
VigilProcess *
vigil_attribution_lookup_full(VigilAttribution *self,
			      const VigilFlowKey *key,
			      VigilAttributionLookupFlags flags,
			      gboolean *need_scan)
{
	VigilAttributionProcess *proc;
	VigilProcess *record = NULL;
	guint32 inode;
	guint32 uid;

	g_return_val_if_fail(VIGIL_IS_ATTRIBUTION(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);

	if (need_scan != NULL)
		*need_scan = FALSE;
	if (!self->started)
		return NULL;
	self->stats.lookups++;
	proc = vigil_attribution_resolve_flow(self, key, flags, &inode, &uid);
	if (proc != NULL)
		record = vigil_attribution_usable_record(self, proc);
	if (record != NULL) {
		vigil_attribution_mark_hot(self, proc);
		return g_object_ref(record);
	}
	if (inode == 0)
		self->stats.unknown++;
	else if (need_scan != NULL)
		*need_scan = TRUE;
	return NULL;
}

/* --- the worker thread ------------------------------------------------------------------ */

static void
vigil_attribution_scanned_free(VigilAttributionScanned *scanned)
{
	if (scanned->dirfd >= 0)
		g_close(scanned->dirfd, NULL);
	g_array_unref(scanned->sockets);
	g_clear_object(&scanned->record);
	g_free(scanned);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAttributionScanned, vigil_attribution_scanned_free)

static void
vigil_attribution_job_free(VigilAttributionJob *job)
{
	g_array_unref(job->targets);
	g_array_unref(job->candidates);
	g_array_unref(job->reloads);
	g_ptr_array_unref(job->scanned);
	g_ptr_array_unref(job->reloaded);
	if (job->execed != NULL)
		g_hash_table_unref(job->execed);
	g_free(job);
}

static gboolean
vigil_attribution_parse_socket_link(const gchar *link, gssize len, guint32 *inode)
{
	guint64 value = 0;

	if (len < 10 || len >= VIGIL_ATTRIBUTION_SOCKET_LINK_MAX ||
	    memcmp(link, "socket:[", 8) != 0 || link[len - 1] != ']')
		return FALSE;
	for (gssize i = 8; i < len - 1; i++) {
		if (!g_ascii_isdigit(link[i]))
			return FALSE;
		value = value * 10 + (guint64)(link[i] - '0');
		if (value > G_MAXUINT32)
			return FALSE;
	}
	*inode = (guint32)value;
	return TRUE;
}

/* the sockets of one process, read through a dirfd that pins it; NULL when it is gone or
 * (with @uids) belongs to none of them */
static VigilAttributionScanned *
vigil_attribution_scan_pid(guint32 pid, GHashTable *uids)
{
	g_autoptr(VigilAttributionScanned) scanned = g_new0(VigilAttributionScanned, 1);
	VigilProcStat stat;
	struct stat st;
	DIR *dir;
	gint fd_dirfd;
	struct dirent *dent;

	scanned->pid = pid;
	scanned->sockets = g_array_new(FALSE, FALSE, sizeof(VigilAttributionSocket));
	scanned->dirfd = vigil_proc_open_pid_dir(pid, NULL);
	if (scanned->dirfd < 0 || fstat(scanned->dirfd, &st) < 0)
		return NULL;
	scanned->uid = st.st_uid;
	if (uids != NULL && !g_hash_table_contains(uids, GUINT_TO_POINTER(st.st_uid)))
		return NULL;
	if (!vigil_proc_stat_read_at(scanned->dirfd, &stat, NULL))
		return NULL;
	scanned->start_time = stat.start_time;
	scanned->ppid = stat.ppid;

	fd_dirfd = openat(scanned->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_dirfd < 0)
		return g_steal_pointer(&scanned);
	dir = fdopendir(fd_dirfd);
	if (dir == NULL) {
		g_close(fd_dirfd, NULL);
		return g_steal_pointer(&scanned);
	}
	while ((dent = readdir(dir)) != NULL) {
		gchar link[VIGIL_ATTRIBUTION_SOCKET_LINK_MAX];
		VigilAttributionSocket socket;
		gchar *end = NULL;
		guint64 fd;
		ssize_t n;

		if (!g_ascii_isdigit(dent->d_name[0]))
			continue;
		fd = g_ascii_strtoull(dent->d_name, &end, 10);
		if (end == NULL || *end != '\0' || fd > G_MAXINT)
			continue;
		n = readlinkat(dirfd(dir), dent->d_name, link, sizeof(link));
		if (n <= 0 || !vigil_attribution_parse_socket_link(link, n, &socket.inode))
			continue;
		socket.fd = (gint)fd;
		g_array_append_val(scanned->sockets, socket);
	}
	closedir(dir);
	return g_steal_pointer(&scanned);
}

static void
vigil_attribution_job_add(VigilAttributionJob *job,
			  VigilAttributionScanned *scanned,
			  GHashTable *found,
			  GHashTable *targets)
{
	for (guint i = 0; i < scanned->sockets->len; i++) {
		VigilAttributionSocket *socket =
		    &g_array_index(scanned->sockets, VigilAttributionSocket, i);
		if (g_hash_table_contains(targets, GUINT_TO_POINTER(socket->inode))) {
			scanned->holds_target = TRUE;
			g_hash_table_add(found, GUINT_TO_POINTER(socket->inode));
		}
	}
	/* a process without sockets tells nothing; a few thousand dirfds are the bound */
	if (scanned->sockets->len == 0) {
		vigil_attribution_scanned_free(scanned);
		return;
	}
	if (job->scanned->len >= job->max_dirfds && scanned->dirfd >= 0 && !scanned->holds_target) {
		g_close(scanned->dirfd, NULL);
		scanned->dirfd = -1;
	}
	g_ptr_array_add(job->scanned, scanned);
}

static void
vigil_attribution_job_thread_cb(GTask *task,
				gpointer source_object,
				gpointer task_data,
				GCancellable *cancellable)
{
	VigilAttributionJob *job = task_data;
	g_autoptr(GHashTable) targets = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GHashTable) uids = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GHashTable) found = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GHashTable) scanned_pids = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (guint i = 0; i < job->targets->len; i++) {
		VigilAttributionTarget *target =
		    &g_array_index(job->targets, VigilAttributionTarget, i);
		g_hash_table_add(targets, GUINT_TO_POINTER(target->inode));
		g_hash_table_add(uids, GUINT_TO_POINTER(target->uid));
	}

	/* the newest processes of the sockets' owners first */
	for (guint i = 0; i < job->candidates->len; i++) {
		guint32 pid = g_array_index(job->candidates, guint32, i);
		VigilAttributionScanned *scanned;
		if (g_hash_table_size(found) == g_hash_table_size(targets))
			break;
		if (!g_hash_table_add(scanned_pids, GUINT_TO_POINTER(pid)))
			continue;
		scanned = vigil_attribution_scan_pid(pid, uids);
		if (scanned == NULL)
			continue;
		scanned->candidate = TRUE;
		vigil_attribution_job_add(job, scanned, found, targets);
	}

	/* then everyone: every holder counts, the newest is picked on the main loop */
	if (g_hash_table_size(found) < g_hash_table_size(targets)) {
		DIR *proc_dir = opendir("/proc");
		struct dirent *dent;

		job->full = TRUE;
		while (proc_dir != NULL && (dent = readdir(proc_dir)) != NULL) {
			VigilAttributionScanned *scanned;
			gchar *end = NULL;
			guint64 pid;
			if (!g_ascii_isdigit(dent->d_name[0]))
				continue;
			pid = g_ascii_strtoull(dent->d_name, &end, 10);
			if (end == NULL || *end != '\0' || pid == 0 || pid > G_MAXUINT32)
				continue;
			if (g_hash_table_contains(scanned_pids, GUINT_TO_POINTER(pid)))
				continue;
			scanned = vigil_attribution_scan_pid((guint32)pid, NULL);
			if (scanned != NULL)
				vigil_attribution_job_add(job, scanned, found, targets);
		}
		if (proc_dir != NULL)
			closedir(proc_dir);
	}

	/* records of the holders, read through the same dirfds; and of the new processes with
	 * sockets, which a burst of lookups is about to ask for */
	for (guint i = 0, preloaded = 0; i < job->scanned->len; i++) {
		VigilAttributionScanned *scanned = g_ptr_array_index(job->scanned, i);
		g_autoptr(VigilProcess) record = NULL;
		g_autoptr(GError) error = NULL;
		if (scanned->dirfd < 0)
			continue;
		if (!scanned->holds_target) {
			if (!scanned->candidate || preloaded >= VIGIL_ATTRIBUTION_PRELOAD_MAX)
				continue;
			preloaded++;
		}
		record = vigil_process_new(scanned->pid);
		if (!vigil_process_load_from_dirfd(record, scanned->dirfd, &error)) {
			g_debug("%s", error->message);
			continue;
		}
		if (vigil_process_get_start_time(record) == scanned->start_time)
			scanned->record = g_steal_pointer(&record);
	}
	for (guint i = 0; i < job->reloads->len; i++) {
		VigilAttributionReload *reload =
		    &g_array_index(job->reloads, VigilAttributionReload, i);
		g_autoptr(VigilProcess) record = vigil_process_new(reload->pid);
		g_autoptr(GError) error = NULL;
		if (!vigil_process_load(record, &error)) {
			g_debug("%s", error->message);
			continue;
		}
		if (vigil_process_get_start_time(record) == reload->start_time)
			g_ptr_array_add(job->reloaded, g_steal_pointer(&record));
	}
	g_task_return_boolean(task, TRUE);
}

/* --- pending lookups -------------------------------------------------------------------- */

static void
vigil_attribution_request_free(VigilAttributionRequest *request)
{
	if (request->cancel_source != NULL) {
		g_source_destroy(request->cancel_source);
		g_source_unref(request->cancel_source);
	}
	g_object_unref(request->task);
	g_free(request);
}

static void
vigil_attribution_request_return(VigilAttributionRequest *request, VigilProcess *record)
{
	VigilAttribution *self = request->self;

	g_queue_unlink(&self->pending, &request->link);
	if (record != NULL) {
		g_task_return_pointer(request->task, g_object_ref(record), g_object_unref);
	} else {
		self->stats.unknown++;
		g_task_return_new_error(request->task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_FOUND,
					"no process holds socket %u",
					request->inode);
	}
	vigil_attribution_request_free(request);
}

static gboolean
vigil_attribution_request_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	VigilAttributionRequest *request = user_data;
	VigilAttribution *self = request->self;

	g_queue_unlink(&self->pending, &request->link);
	g_task_return_new_error(request->task,
				G_IO_ERROR,
				G_IO_ERROR_CANCELLED,
				"the lookup was cancelled");
	vigil_attribution_request_free(request);
	return G_SOURCE_REMOVE;
}

/* the execs since @job started, from the ring of recent events, walked once: records the
 * job read of those processes may be of the program before the exec. When the ring no
 * longer reaches back that far, any of them may have exec'd. Without reliable events there
 * is nothing to go by (records are then checked against /proc/<pid>/exe instead). */
static void
vigil_attribution_job_collect_execs(VigilAttribution *self, VigilAttributionJob *job)
{
	job->execed = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!self->events_reliable)
		return;
	for (guint i = 0; i < self->recent_len; i++) {
		guint index = (self->recent_next + VIGIL_ATTRIBUTION_RECENT_MAX - 1 - i) %
			      VIGIL_ATTRIBUTION_RECENT_MAX;
		const VigilAttributionRecent *recent = &self->recent[index];

		if (recent->seq <= job->seq_at_start)
			return;
		if (recent->ppid == 0)
			g_hash_table_add(job->execed, GUINT_TO_POINTER(recent->pid));
	}
	job->execed_all = self->event_seq != job->seq_at_start;
}

/* a record @job read of @pid is stale when the process exec'd since the job began */
static gboolean
vigil_attribution_job_saw_exec(VigilAttributionJob *job, guint32 pid)
{
	return job->execed_all || g_hash_table_contains(job->execed, GUINT_TO_POINTER(pid));
}

static void
vigil_attribution_merge_scanned(VigilAttribution *self,
				VigilAttributionJob *job,
				VigilAttributionScanned *scanned)
{
	VigilAttributionProcess *proc =
	    vigil_attribution_add_process(self, scanned->pid, scanned->start_time);

	proc->ppid = scanned->ppid;
	proc->uid = scanned->uid;
	if (proc->dirfd < 0 && scanned->dirfd >= 0) {
		vigil_attribution_process_set_dirfd(self, proc, scanned->dirfd);
		scanned->dirfd = -1;
	}
	if (scanned->record != NULL) {
		g_set_object(&proc->record, scanned->record);
		/* read while the process may have been between fork and exec: an exec since
		 * the scan started makes the record the old program's */
		proc->record_stale = vigil_attribution_job_saw_exec(job, proc->pid);
		self->stats.records_loaded++;
	}
	vigil_attribution_process_drop_sockets(self, proc);
	for (guint i = 0; i < scanned->sockets->len; i++) {
		VigilAttributionSocket *socket =
		    &g_array_index(scanned->sockets, VigilAttributionSocket, i);
		vigil_attribution_add_holder(self,
					     socket->inode,
					     proc,
					     socket->fd,
					     job->gen,
					     job->seq_at_start);
		/* readdir lists fds in order: the last ones become the first hints */
		vigil_attribution_process_add_hint(proc, socket->fd);
	}
}

static void
vigil_attribution_job_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(source);
	VigilAttributionJob *job = g_task_get_task_data(G_TASK(res));
	GList *link;

	g_debug("scan %" G_GUINT64_FORMAT " took %" G_GINT64_FORMAT
		" us: %u processes with sockets%s",
		job->gen,
		g_get_monotonic_time() - job->started,
		job->scanned->len,
		job->full ? ", all of them" : "");
	self->job_running = FALSE;
	self->stats.scans++;
	if (job->full)
		self->stats.full_scans++;
	vigil_attribution_job_collect_execs(self, job);
	for (guint i = 0; i < job->scanned->len; i++)
		vigil_attribution_merge_scanned(self, job, g_ptr_array_index(job->scanned, i));
	for (guint i = 0; i < job->reloaded->len; i++) {
		VigilProcess *record = g_ptr_array_index(job->reloaded, i);
		VigilAttributionProcess *proc =
		    vigil_attribution_get_process(self, vigil_process_get_pid(record));
		if (proc == NULL || proc->start_time != vigil_process_get_start_time(record))
			continue;
		g_set_object(&proc->record, record);
		proc->record_stale = vigil_attribution_job_saw_exec(job, proc->pid);
		self->stats.records_loaded++;
	}

	/* every lookup this scan covered is answered now, one way or the other */
	link = self->pending.head;
	while (link != NULL) {
		VigilAttributionRequest *request = link->data;
		VigilAttributionProcess *proc;
		VigilProcess *record = NULL;

		link = link->next;
		if (request->job != job->gen)
			continue;
		proc =
		    vigil_attribution_resolve_inode(self, request->inode, request->uid, job->gen);
		if (proc != NULL)
			record = vigil_attribution_usable_record(self, proc);
		if (record != NULL) {
			vigil_attribution_mark_hot(self, proc);
			vigil_attribution_request_return(request, record);
		} else if (proc != NULL && ++request->retries < VIGIL_ATTRIBUTION_REQUEST_RETRIES) {
			/* found by a probe meanwhile, but not read yet */
			request->job = 0;
		} else {
			vigil_attribution_request_return(request, NULL);
		}
	}
	vigil_attribution_maybe_start_job(self);
}

static void
vigil_attribution_add_candidate(GArray *candidates, GHashTable *seen, guint32 pid)
{
	if (candidates->len >= VIGIL_ATTRIBUTION_CANDIDATES_MAX)
		return;
	if (!g_hash_table_add(seen, GUINT_TO_POINTER(pid)))
		return;
	g_array_append_val(candidates, pid);
}

static void
vigil_attribution_maybe_start_job(VigilAttribution *self)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GHashTable) seen = NULL;
	g_autoptr(GHashTable) target_inodes = NULL;
	g_autoptr(GHashTable) reload_pids = NULL;
	VigilAttributionJob *job;
	GList *link;

	if (self->job_running || self->pending.length == 0)
		return;

	job = g_new0(VigilAttributionJob, 1);
	job->gen = ++self->jobs_started;
	job->seq_at_start = self->event_seq;
	job->max_dirfds = self->max_dirfds > self->open_dirfds
			      ? MIN(self->max_dirfds - self->open_dirfds, self->max_processes)
			      : 0;
	job->targets = g_array_new(FALSE, FALSE, sizeof(VigilAttributionTarget));
	job->candidates = g_array_new(FALSE, FALSE, sizeof(guint32));
	job->reloads = g_array_new(FALSE, FALSE, sizeof(VigilAttributionReload));
	job->scanned =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_attribution_scanned_free);
	job->reloaded = g_ptr_array_new_with_free_func(g_object_unref);
	target_inodes = g_hash_table_new(g_direct_hash, g_direct_equal);
	reload_pids = g_hash_table_new(g_direct_hash, g_direct_equal);

	link = self->pending.head;
	while (link != NULL) {
		VigilAttributionRequest *request = link->data;
		VigilAttributionProcess *proc;
		VigilProcess *record = NULL;

		link = link->next;
		if (request->job != 0)
			continue;
		/* another scan may have answered it meanwhile */
		proc = vigil_attribution_resolve_inode(self, request->inode, request->uid, 0);
		if (proc != NULL)
			record = vigil_attribution_usable_record(self, proc);
		if (record != NULL) {
			vigil_attribution_mark_hot(self, proc);
			vigil_attribution_request_return(request, record);
			continue;
		}
		request->job = job->gen;
		if (proc != NULL) {
			VigilAttributionReload reload = {proc->pid, proc->start_time};
			if (g_hash_table_add(reload_pids, GUINT_TO_POINTER(proc->pid)))
				g_array_append_val(job->reloads, reload);
		} else if (g_hash_table_add(target_inodes, GUINT_TO_POINTER(request->inode))) {
			VigilAttributionTarget target = {request->inode, request->uid};
			g_array_append_val(job->targets, target);
		}
	}
	if (job->targets->len == 0 && job->reloads->len == 0) {
		self->jobs_started--;
		vigil_attribution_job_free(job);
		return;
	}

	/* phase one: the newest processes (forks and execs), then the busiest */
	seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (self->events_reliable) {
		for (guint i = 0; i < self->recent_len; i++) {
			guint index = (self->recent_next + VIGIL_ATTRIBUTION_RECENT_MAX - 1 - i) %
				      VIGIL_ATTRIBUTION_RECENT_MAX;
			vigil_attribution_add_candidate(job->candidates,
							seen,
							self->recent[index].pid);
		}
	}
	for (guint i = 0; i < self->n_hot; i++)
		vigil_attribution_add_candidate(job->candidates, seen, self->hot[i]);

	g_debug("scan %" G_GUINT64_FORMAT ": %u sockets, %u records, %u candidates",
		job->gen,
		job->targets->len,
		job->reloads->len,
		job->candidates->len);
	job->started = g_get_monotonic_time();
	self->job_running = TRUE;
	task = g_task_new(self, NULL, vigil_attribution_job_done_cb, NULL);
	g_task_set_source_tag(task, vigil_attribution_maybe_start_job);
	g_task_set_task_data(task, job, (GDestroyNotify)vigil_attribution_job_free);
	g_task_run_in_thread(task, vigil_attribution_job_thread_cb);
}

/**
 * vigil_attribution_lookup_async:
 * @self: a started #VigilAttribution
 * @key: the flow
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the answer on the thread-default main context
 * @user_data: for @callback
 *
 * Answers at once from the fast path when it can; otherwise the lookup waits for a /proc
 * scan in the worker thread (lookups arriving meanwhile share the next one), and the main
 * loop keeps running. The caller holds only this flow's packet.
 */
void
vigil_attribution_lookup_async(VigilAttribution *self,
			       const VigilFlowKey *key,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	VigilAttributionProcess *proc;
	VigilAttributionRequest *request;
	VigilProcess *record = NULL;
	guint32 inode;
	guint32 uid;

	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(key != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_attribution_lookup_async);
	if (!self->started) {
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_FAILED,
					"attribution is not started");
		return;
	}
	self->stats.lookups++;
	proc =
	    vigil_attribution_resolve_flow(self, key, VIGIL_ATTRIBUTION_LOOKUP_NONE, &inode, &uid);
	if (proc != NULL)
		record = vigil_attribution_usable_record(self, proc);
	if (record != NULL) {
		vigil_attribution_mark_hot(self, proc);
		g_task_return_pointer(task, g_object_ref(record), g_object_unref);
		return;
	}
	if (inode == 0) {
		self->stats.unknown++;
		g_task_return_new_error(task,
					VIGIL_ERROR,
					VIGIL_ERROR_NOT_FOUND,
					"no socket for this flow");
		return;
	}

	request = g_new0(VigilAttributionRequest, 1);
	request->self = self;
	request->task = g_steal_pointer(&task);
	request->inode = inode;
	request->uid = uid;
	request->link.data = request;
	if (cancellable != NULL) {
		request->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(request->cancel_source,
				      G_SOURCE_FUNC(vigil_attribution_request_cancelled_cb),
				      request,
				      NULL);
		g_source_attach(request->cancel_source, g_main_context_get_thread_default());
	}
	g_queue_push_tail_link(&self->pending, &request->link);
	vigil_attribution_maybe_start_job(self);
}

/**
 * vigil_attribution_lookup_finish:
 * @self: a #VigilAttribution
 * @res: the result
 * @error: a #GError
 *
 * Returns: (transfer full): the process, or %NULL with %VIGIL_ERROR_NOT_FOUND when it cannot
 * be known (no socket, no holder, gone before it could be read)
 */
VigilProcess *
vigil_attribution_lookup_finish(VigilAttribution *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(VIGIL_IS_ATTRIBUTION(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* --- proc events and resynchronisation -------------------------------------------------- */

static void
vigil_attribution_sweep_stop(VigilAttribution *self)
{
	if (self->sweep_idle != NULL) {
		g_source_destroy(self->sweep_idle);
		g_clear_pointer(&self->sweep_idle, g_source_unref);
	}
	g_array_set_size(self->sweep_pids, 0);
}

/* drops the processes that are gone, a chunk per main loop iteration */
static gboolean
vigil_attribution_sweep_idle_cb(gpointer user_data)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(user_data);
	guint n = 0;

	while (self->sweep_pids->len > 0 && n++ < VIGIL_ATTRIBUTION_SWEEP_CHUNK) {
		guint32 pid = g_array_index(self->sweep_pids, guint32, self->sweep_pids->len - 1);
		VigilAttributionProcess *proc = vigil_attribution_get_process(self, pid);
		g_array_set_size(self->sweep_pids, self->sweep_pids->len - 1);
		if (proc == NULL)
			continue;
		if (!vigil_attribution_process_is_alive(proc))
			vigil_attribution_process_exited(self, proc);
	}
	if (self->sweep_pids->len > 0)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&self->sweep_idle, g_source_unref);
	if (self->connector != NULL && vigil_proc_connector_is_running(self->connector) &&
	    !self->events_reliable) {
		g_debug("resynchronised after lost proc events");
		self->events_reliable = TRUE;
	}
	return G_SOURCE_REMOVE;
}

static void
vigil_attribution_sweep_start(VigilAttribution *self)
{
	GHashTableIter iter;
	gpointer key;

	if (self->sweep_idle != NULL)
		return;
	g_array_set_size(self->sweep_pids, 0);
	g_hash_table_iter_init(&iter, self->processes);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint32 pid = GPOINTER_TO_UINT(key);
		g_array_append_val(self->sweep_pids, pid);
	}
	self->sweep_idle = g_idle_source_new();
	g_source_set_priority(self->sweep_idle, G_PRIORITY_LOW);
	g_source_set_callback(self->sweep_idle, vigil_attribution_sweep_idle_cb, self, NULL);
	g_source_set_name(self->sweep_idle, "vigil attribution sweep");
	g_source_attach(self->sweep_idle, self->context);
}

static gboolean
vigil_attribution_sweep_timer_cb(gpointer user_data)
{
	vigil_attribution_sweep_start(VIGIL_ATTRIBUTION(user_data));
	return G_SOURCE_CONTINUE;
}

/* without proc events, exits are found by a sweep every few seconds */
static void
vigil_attribution_sweep_timer_start(VigilAttribution *self)
{
	if (self->sweep_timer != NULL)
		return;
	self->sweep_timer = g_timeout_source_new_seconds(VIGIL_ATTRIBUTION_SWEEP_INTERVAL);
	g_source_set_callback(self->sweep_timer, vigil_attribution_sweep_timer_cb, self, NULL);
	g_source_set_name(self->sweep_timer, "vigil attribution sweep timer");
	g_source_attach(self->sweep_timer, self->context);
}

static void
vigil_attribution_recent_push(VigilAttribution *self, guint32 pid, guint32 ppid)
{
	VigilAttributionRecent *recent = &self->recent[self->recent_next];

	recent->pid = pid;
	recent->ppid = ppid;
	recent->seq = self->event_seq;
	self->recent_next = (self->recent_next + 1) % VIGIL_ATTRIBUTION_RECENT_MAX;
	self->recent_len = MIN(self->recent_len + 1, VIGIL_ATTRIBUTION_RECENT_MAX);
}

static void
vigil_attribution_proc_event_cb(const VigilProcEvent *event, gpointer user_data)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(user_data);
	VigilAttributionProcess *proc;

	self->stats.proc_events++;
	switch (event->kind) {
	case VIGIL_PROC_EVENT_FORK:
		self->event_seq++;
		/* the old owner of this pid is gone for sure */
		proc = vigil_attribution_get_process(self, event->pid);
		if (proc != NULL)
			vigil_attribution_process_exited(self, proc);
		proc = vigil_attribution_get_process(self, event->parent_pid);
		if (proc != NULL)
			proc->last_fork_seq = self->event_seq;
		vigil_attribution_recent_push(self, event->pid, event->parent_pid);
		break;
	case VIGIL_PROC_EVENT_EXEC:
		self->event_seq++;
		proc = vigil_attribution_get_process(self, event->pid);
		if (proc != NULL)
			proc->record_stale = TRUE;
		vigil_attribution_recent_push(self, event->pid, 0);
		break;
	case VIGIL_PROC_EVENT_UID:
		proc = vigil_attribution_get_process(self, event->pid);
		if (proc != NULL) {
			proc->record_stale = TRUE;
			proc->uid = VIGIL_ATTRIBUTION_UID_UNKNOWN;
		}
		break;
	case VIGIL_PROC_EVENT_EXIT:
		proc = vigil_attribution_get_process(self, event->pid);
		if (proc != NULL)
			vigil_attribution_process_exited(self, proc);
		break;
	case VIGIL_PROC_EVENT_OVERRUN:
		/* forks, execs and exits were lost: trust no event-based shortcut until every
		 * cached process has been checked again */
		self->stats.overruns++;
		self->events_reliable = FALSE;
		self->recent_len = 0;
		vigil_attribution_sweep_stop(self);
		vigil_attribution_sweep_start(self);
		/* the connector itself failed: no events any more */
		if (!vigil_proc_connector_is_running(self->connector))
			vigil_attribution_sweep_timer_start(self);
		break;
	default:
		g_assert_not_reached();
	}
}

/* --- life cycle ------------------------------------------------------------------------- */

/* one /proc/<pid> dirfd per cached process: make room for them under RLIMIT_NOFILE */
static guint
vigil_attribution_compute_max_dirfds(guint max_processes)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return MIN(max_processes, 256);
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t)max_processes * 2 + 1024) {
		/* the daemon polls and never uses select(), so the FD_SETSIZE reason for a
		 * low soft limit does not apply */
		struct rlimit raised = rl;
		raised.rlim_cur = MIN(rl.rlim_max, (rlim_t)max_processes * 2 + 1024);
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
	}
	if (rl.rlim_cur <= 512)
		return 64;
	return (guint)MIN((rlim_t)max_processes, (rl.rlim_cur - 256) / 2);
}

/**
 * vigil_attribution_set_limits:
 * @self: a #VigilAttribution, not started yet
 * @max_processes: how many processes to cache (and keep a /proc dirfd of), 0 for the default
 * @max_inodes: how many sockets to map, 0 for the default
 */
void
vigil_attribution_set_limits(VigilAttribution *self, guint max_processes, guint max_inodes)
{
	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(!self->started);
	self->max_processes =
	    max_processes > 0 ? max_processes : VIGIL_ATTRIBUTION_MAX_PROCESSES_DEFAULT;
	self->max_inodes = max_inodes > 0 ? max_inodes : VIGIL_ATTRIBUTION_MAX_INODES_DEFAULT;
}

/* without proc events (tests, or a kernel without them) only scans and sweeps are used */
void
vigil_attribution_set_use_proc_connector(VigilAttribution *self, gboolean use_proc_connector)
{
	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(!self->started);
	self->use_proc_connector = use_proc_connector;
}

/* the kernel connect hook, where the kernel allows it (on by default) */
void
vigil_attribution_set_use_connect_hook(VigilAttribution *self, gboolean use_connect_hook)
{
	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(!self->started);
	self->use_connect_hook = use_connect_hook;
}

/* whether flows over loopback are ever looked up (on by default); the connect hook then
 * leaves them out, so that local traffic does not crowd its ring */
void
vigil_attribution_set_loopback(VigilAttribution *self, gboolean loopback)
{
	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(!self->started);
	self->loopback = loopback;
}

/**
 * vigil_attribution_start:
 * @self: a #VigilAttribution
 * @error: a #GError
 *
 * Opens sock_diag in the caller's network namespace (the one whose flows are attributed)
 * and subscribes to proc events. Without proc events (not permitted, not in the initial
 * pid namespace) it warns and falls back to scans and a periodic sweep of exited processes.
 */
gboolean
vigil_attribution_start(VigilAttribution *self, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(VIGIL_IS_ATTRIBUTION(self), FALSE);
	g_return_val_if_fail(!self->started, FALSE);

	self->context = g_main_context_ref_thread_default();
	if (!vigil_nl_sockdiag_open(self->sockdiag, error)) {
		g_prefix_error(error, "failed to start attribution: ");
		return FALSE;
	}
	self->max_dirfds = vigil_attribution_compute_max_dirfds(self->max_processes);

	if (self->use_proc_connector) {
		self->connector = vigil_proc_connector_new(vigil_attribution_proc_event_cb, self);
		if (vigil_proc_connector_start(self->connector, &error_local)) {
			self->events_reliable = TRUE;
		} else {
			g_warning("no proc events, attribution falls back to /proc scans: %s",
				  error_local->message);
			g_clear_pointer(&self->connector, vigil_proc_connector_free);
		}
	}
	if (!self->events_reliable)
		vigil_attribution_sweep_timer_start(self);
	if (self->use_connect_hook) {
		g_clear_error(&error_local);
		self->hook = vigil_connect_hook_new(self->loopback ? VIGIL_CONNECT_HOOK_LOOPBACK
								   : VIGIL_CONNECT_HOOK_NONE,
						    &error_local);
		if (self->hook == NULL)
			g_message(
			    "no kernel connect hook, TCP flows are looked up with sock_diag: %s",
			    error_local->message);
		else
			g_info(
			    "the kernel connect hook names the processes of new TCP connections");
	}
	self->started = TRUE;
	return TRUE;
}

/**
 * vigil_attribution_get_cached_process:
 * @self: a #VigilAttribution
 * @pid: a process id
 *
 * Returns: (transfer full) (nullable): the record the caches hold for @pid, without any
 * check or I/O; %NULL when none
 */
VigilProcess *
vigil_attribution_get_cached_process(VigilAttribution *self, guint32 pid)
{
	VigilAttributionProcess *proc;

	g_return_val_if_fail(VIGIL_IS_ATTRIBUTION(self), NULL);
	proc = vigil_attribution_get_process(self, pid);
	if (proc == NULL || proc->record == NULL)
		return NULL;
	return g_object_ref(proc->record);
}

/**
 * vigil_attribution_get_stats:
 * @self: a #VigilAttribution
 * @stats: (out caller-allocates): counters and sizes
 */
void
vigil_attribution_get_stats(VigilAttribution *self, VigilAttributionStats *stats)
{
	g_return_if_fail(VIGIL_IS_ATTRIBUTION(self));
	g_return_if_fail(stats != NULL);

	*stats = self->stats;
	stats->processes = g_hash_table_size(self->processes);
	stats->inodes = g_hash_table_size(self->inodes);
	stats->open_dirfds = self->open_dirfds;
	stats->pending = self->pending.length;
	stats->proc_connector = self->events_reliable && self->connector != NULL;
	stats->connect_hook = self->hook != NULL;
}

static void
vigil_attribution_dispose(GObject *object)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(object);

	vigil_attribution_sweep_stop(self);
	if (self->exited_idle != NULL) {
		g_source_destroy(self->exited_idle);
		g_clear_pointer(&self->exited_idle, g_source_unref);
	}
	if (self->sweep_timer != NULL) {
		g_source_destroy(self->sweep_timer);
		g_clear_pointer(&self->sweep_timer, g_source_unref);
	}
	g_clear_pointer(&self->connector, vigil_proc_connector_free);
	g_clear_pointer(&self->hook, vigil_connect_hook_free);
	G_OBJECT_CLASS(vigil_attribution_parent_class)->dispose(object);
}

static void
vigil_attribution_finalize(GObject *object)
{
	VigilAttribution *self = VIGIL_ATTRIBUTION(object);

	while (self->process_lru.head != NULL)
		vigil_attribution_evict_process(self, self->process_lru.head->data);
	while (self->inode_lru.head != NULL)
		vigil_attribution_remove_inode(self, self->inode_lru.head->data);
	g_hash_table_unref(self->processes);
	g_hash_table_unref(self->inodes);
	g_array_unref(self->sweep_pids);
	g_ptr_array_unref(self->exited);
	vigil_nl_sockdiag_free(self->sockdiag);
	g_clear_pointer(&self->context, g_main_context_unref);
	G_OBJECT_CLASS(vigil_attribution_parent_class)->finalize(object);
}

static void
vigil_attribution_class_init(VigilAttributionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_attribution_dispose;
	object_class->finalize = vigil_attribution_finalize;

	/**
	 * VigilAttribution::process-exited:
	 * @self: the #VigilAttribution
	 * @process: the #VigilProcess that was given out and has now exited
	 *
	 * For rules that last until the process exits. Known at once with proc events, within
	 * a sweep interval (5 s) without them.
	 */
	signals[SIGNAL_PROCESS_EXITED] = g_signal_new("process-exited",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      g_cclosure_marshal_VOID__OBJECT,
						      G_TYPE_NONE,
						      1,
						      VIGIL_TYPE_PROCESS);
}

static void
vigil_attribution_init(VigilAttribution *self)
{
	self->sockdiag = vigil_nl_sockdiag_new();
	self->use_proc_connector = TRUE;
	self->use_connect_hook = TRUE;
	self->loopback = TRUE;
	self->max_processes = VIGIL_ATTRIBUTION_MAX_PROCESSES_DEFAULT;
	self->max_inodes = VIGIL_ATTRIBUTION_MAX_INODES_DEFAULT;
	self->processes = g_hash_table_new_full(g_direct_hash,
						g_direct_equal,
						NULL,
						(GDestroyNotify)vigil_attribution_process_free);
	self->inodes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_queue_init(&self->process_lru);
	g_queue_init(&self->inode_lru);
	g_queue_init(&self->pending);
	self->sweep_pids = g_array_new(FALSE, FALSE, sizeof(guint32));
	self->exited = g_ptr_array_new_with_free_func(g_object_unref);
}

/**
 * vigil_attribution_new:
 *
 * Returns: (transfer full): a #VigilAttribution; set limits, then vigil_attribution_start()
 */
VigilAttribution *
vigil_attribution_new(void)
{
	return g_object_new(VIGIL_TYPE_ATTRIBUTION, NULL);
}
