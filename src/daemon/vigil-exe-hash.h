/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_EXE_HASH (vigil_exe_hash_get_type())
G_DECLARE_FINAL_TYPE(VigilExeHash, vigil_exe_hash, VIGIL, EXE_HASH, GObject)

/* executables larger than this are not hashed (VIGIL_ERROR_NOT_SUPPORTED) */
#define VIGIL_EXE_HASH_MAX_FILE_SIZE (G_GUINT64_CONSTANT(2) * 1024 * 1024 * 1024)

/* what identifies one version of a file: a rewrite changes ctime even when mtime is forged */
typedef struct {
	guint64 device;
	guint64 inode;
	gint64 mtime_ns;
	gint64 ctime_ns;
	guint64 size;
} VigilExeHashKey;

VigilExeHash *
vigil_exe_hash_new(guint max_entries);
VigilExeHash *
vigil_exe_hash_get_default(void);
gchar *
vigil_exe_hash_compute_for_fd(VigilExeHash *self, gint fd, GError **error);
gchar *
vigil_exe_hash_compute_for_pid(VigilExeHash *self, guint32 pid, GError **error);
gchar *
vigil_exe_hash_compute_for_path(VigilExeHash *self,
				const gchar *path,
				const VigilExeHashKey *expected,
				GError **error);
gchar *
vigil_exe_hash_lookup(VigilExeHash *self, const VigilExeHashKey *key);
guint
vigil_exe_hash_get_size(VigilExeHash *self);
guint
vigil_exe_hash_get_computed(VigilExeHash *self);
gboolean
vigil_exe_hash_key_from_fd(VigilExeHashKey *key, gint fd, GError **error);

G_END_DECLS
