/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilExeHash"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-exe-hash.h"

/*
 * SHA-256 of executables, computed once per file version and kept in a bounded LRU cache.
 * A process's executable is read through /proc/<pid>/exe, which opens the file the process
 * runs even when the path now names another file (replaced) or none (deleted). Hashing reads
 * the whole file, so callers run it in a thread; the cache is shared under a mutex.
 */

#define VIGIL_EXE_HASH_DEFAULT_MAX 1024
#define VIGIL_EXE_HASH_CHUNK	   (256 * 1024)

typedef struct {
	VigilExeHashKey key;
	gchar *sha256;
	GList link; /* in self->lru, data = self */
} VigilExeHashEntry;

struct _VigilExeHash {
	GObject parent_instance;
	GMutex mutex;
	GHashTable *entries; /* of VigilExeHashKey -> VigilExeHashEntry */
	GQueue lru;	     /* of VigilExeHashEntry, most recent first */
	guint max_entries;
	guint computed;
};

G_DEFINE_FINAL_TYPE(VigilExeHash, vigil_exe_hash, G_TYPE_OBJECT)

static guint
vigil_exe_hash_key_hash(gconstpointer data)
{
	const VigilExeHashKey *key = data;
	guint64 v = key->inode ^ (key->device << 32) ^ (guint64)key->ctime_ns ^ key->size;

	return (guint)(v ^ (v >> 32));
}

static gboolean
vigil_exe_hash_key_equal(gconstpointer a, gconstpointer b)
{
	const VigilExeHashKey *ka = a;
	const VigilExeHashKey *kb = b;

	return ka->device == kb->device && ka->inode == kb->inode && ka->mtime_ns == kb->mtime_ns &&
	       ka->ctime_ns == kb->ctime_ns && ka->size == kb->size;
}

static void
vigil_exe_hash_entry_free(VigilExeHashEntry *entry)
{
	g_free(entry->sha256);
	g_free(entry);
}

/**
 * vigil_exe_hash_key_from_fd:
 * @key: (out caller-allocates): the key
 * @fd: an open file
 * @error: a #GError
 *
 * Fills @key from fstat() of @fd; fails for anything but a regular file.
 */
gboolean
vigil_exe_hash_key_from_fd(VigilExeHashKey *key, gint fd, GError **error)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to stat the executable: %s",
			    g_strerror(errsv));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "the executable is not a regular file");
		return FALSE;
	}
	key->device = st.st_dev;
	key->inode = st.st_ino;
	key->mtime_ns =
	    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
	key->ctime_ns =
	    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
	key->size = (guint64)st.st_size;
	return TRUE;
}

/**
 * vigil_exe_hash_lookup:
 * @self: a #VigilExeHash
 * @key: a file version
 *
 * Returns: (transfer full) (nullable): the cached lowercase hex SHA-256, without reading
 */
gchar *
vigil_exe_hash_lookup(VigilExeHash *self, const VigilExeHashKey *key)
{
	g_autoptr(GMutexLocker) locker = NULL;
	VigilExeHashEntry *entry;

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);

	locker = g_mutex_locker_new(&self->mutex);
	entry = g_hash_table_lookup(self->entries, key);
	if (entry == NULL)
		return NULL;
	g_queue_unlink(&self->lru, &entry->link);
	g_queue_push_head_link(&self->lru, &entry->link);
	return g_strdup(entry->sha256);
}

static void
vigil_exe_hash_insert(VigilExeHash *self, const VigilExeHashKey *key, const gchar *sha256)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	VigilExeHashEntry *entry;

	if (g_hash_table_contains(self->entries, key))
		return;
	while (self->lru.length >= self->max_entries) {
		VigilExeHashEntry *old = g_queue_peek_tail_link(&self->lru)->data;
		g_queue_unlink(&self->lru, &old->link);
		g_hash_table_remove(self->entries, &old->key);
	}
	entry = g_new0(VigilExeHashEntry, 1);
	entry->key = *key;
	entry->sha256 = g_strdup(sha256);
	entry->link.data = entry;
	g_queue_push_head_link(&self->lru, &entry->link);
	g_hash_table_insert(self->entries, &entry->key, entry);
	self->computed++;
}

static gchar *
vigil_exe_hash_read(gint fd, GError **error)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guint8 *buf = g_malloc(VIGIL_EXE_HASH_CHUNK);
	off_t offset = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, VIGIL_EXE_HASH_CHUNK, offset);
		if (n < 0) {
			gint errsv = errno;
			if (errsv == EINTR)
				continue;
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errsv),
				    "failed to read the executable: %s",
				    g_strerror(errsv));
			return NULL;
		}
		if (n == 0)
			break;
		g_checksum_update(checksum, buf, (gsize)n);
		offset += n;
		if ((guint64)offset > VIGIL_EXE_HASH_MAX_FILE_SIZE) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_NOT_SUPPORTED,
					    "the executable is too large to hash");
			return NULL;
		}
	}
	return g_strdup(g_checksum_get_string(checksum));
}

/**
 * vigil_exe_hash_compute_for_fd:
 * @self: a #VigilExeHash
 * @fd: a regular file open for reading
 * @error: a #GError
 *
 * Hashes the file behind @fd, or answers from the cache when this version (device, inode,
 * mtime, ctime, size) was hashed before. Blocking: call it from a thread.
 *
 * Returns: (transfer full): the lowercase hex SHA-256
 */
gchar *
vigil_exe_hash_compute_for_fd(VigilExeHash *self, gint fd, GError **error)
{
	VigilExeHashKey key;
	VigilExeHashKey after;
	gchar *cached;
	g_autofree gchar *sha256 = NULL;

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), NULL);
	g_return_val_if_fail(fd >= 0, NULL);

	if (!vigil_exe_hash_key_from_fd(&key, fd, error))
		return NULL;
	cached = vigil_exe_hash_lookup(self, &key);
	if (cached != NULL)
		return cached;
	if (key.size > VIGIL_EXE_HASH_MAX_FILE_SIZE) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "the executable is too large to hash");
		return NULL;
	}
	sha256 = vigil_exe_hash_read(fd, error);
	if (sha256 == NULL)
		return NULL;
	/* a file written while it was read has no single hash */
	if (!vigil_exe_hash_key_from_fd(&after, fd, error))
		return NULL;
	if (!vigil_exe_hash_key_equal(&key, &after)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_BUSY,
				    "the executable changed while it was hashed");
		return NULL;
	}
	vigil_exe_hash_insert(self, &key, sha256);
	return g_steal_pointer(&sha256);
}

/**
 * vigil_exe_hash_compute_for_pid:
 * @self: a #VigilExeHash
 * @pid: a process
 * @error: a #GError
 *
 * Hashes what @pid runs, through /proc/@pid/exe. Blocking: call it from a thread.
 *
 * Returns: (transfer full): the lowercase hex SHA-256
 */
gchar *
vigil_exe_hash_compute_for_pid(VigilExeHash *self, guint32 pid, GError **error)
{
	g_auto(VigilFd) fd = -1;
	g_autofree gchar *path = g_strdup_printf("/proc/%u/exe", pid);

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), NULL);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to open %s: %s",
			    path,
			    g_strerror(errsv));
		return NULL;
	}
	return vigil_exe_hash_compute_for_fd(self, fd, error);
}

/**
 * vigil_exe_hash_compute_for_path:
 * @self: a #VigilExeHash
 * @path: a file
 * @expected: (nullable): the version that must be found at @path
 * @error: a #GError
 *
 * Hashes @path; with @expected, fails with %VIGIL_ERROR_NOT_FOUND unless the file opened is
 * that version (used when the process has exited and only its path is left).
 *
 * Returns: (transfer full): the lowercase hex SHA-256
 */
gchar *
vigil_exe_hash_compute_for_path(VigilExeHash *self,
				const gchar *path,
				const VigilExeHashKey *expected,
				GError **error)
{
	g_auto(VigilFd) fd = -1;
	VigilExeHashKey key;

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), NULL);
	g_return_val_if_fail(path != NULL, NULL);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to open %s: %s",
			    path,
			    g_strerror(errsv));
		return NULL;
	}
	if (expected != NULL) {
		if (!vigil_exe_hash_key_from_fd(&key, fd, error))
			return NULL;
		if (!vigil_exe_hash_key_equal(&key, expected)) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_FOUND,
				    "%s is not the file the process ran",
				    path);
			return NULL;
		}
	}
	return vigil_exe_hash_compute_for_fd(self, fd, error);
}

guint
vigil_exe_hash_get_size(VigilExeHash *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), 0);
	locker = g_mutex_locker_new(&self->mutex);
	return self->lru.length;
}

/* how many files were read and hashed, as opposed to answered from the cache */
guint
vigil_exe_hash_get_computed(VigilExeHash *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(VIGIL_IS_EXE_HASH(self), 0);
	locker = g_mutex_locker_new(&self->mutex);
	return self->computed;
}

static void
vigil_exe_hash_finalize(GObject *object)
{
	VigilExeHash *self = VIGIL_EXE_HASH(object);

	g_hash_table_unref(self->entries);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(vigil_exe_hash_parent_class)->finalize(object);
}

static void
vigil_exe_hash_class_init(VigilExeHashClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vigil_exe_hash_finalize;
}

static void
vigil_exe_hash_init(VigilExeHash *self)
{
	g_mutex_init(&self->mutex);
	self->entries = g_hash_table_new_full(vigil_exe_hash_key_hash,
					      vigil_exe_hash_key_equal,
					      NULL,
					      (GDestroyNotify)vigil_exe_hash_entry_free);
	g_queue_init(&self->lru);
	self->max_entries = VIGIL_EXE_HASH_DEFAULT_MAX;
}

/**
 * vigil_exe_hash_new:
 * @max_entries: how many file versions to remember, 0 for the default (1024)
 *
 * Returns: (transfer full): a new #VigilExeHash
 */
VigilExeHash *
vigil_exe_hash_new(guint max_entries)
{
	VigilExeHash *self = g_object_new(VIGIL_TYPE_EXE_HASH, NULL);

	if (max_entries > 0)
		self->max_entries = max_entries;
	return self;
}

/**
 * vigil_exe_hash_get_default:
 *
 * Returns: (transfer none): the cache that process records use, made on first use
 */
VigilExeHash *
vigil_exe_hash_get_default(void)
{
	static gsize once = 0;
	static VigilExeHash *singleton = NULL;

	if (g_once_init_enter(&once)) {
		singleton = vigil_exe_hash_new(0);
		g_once_init_leave(&once, 1);
	}
	return singleton;
}
