/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vigil-exe-hash.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_PROCESS (vigil_process_get_type())
G_DECLARE_FINAL_TYPE(VigilProcess, vigil_process, VIGIL, PROCESS, GObject)

/* cmdline is cut at this many bytes */
#define VIGIL_PROCESS_CMDLINE_MAX 4096
/* ancestors recorded above the parent */
#define VIGIL_PROCESS_ANCESTORS_MAX 4

/* the fields of /proc/<pid>/stat that attribution needs */
typedef struct {
	guint32 pid;
	guint32 ppid;
	gchar state;
	guint64 start_time; /* field 22: clock ticks after boot */
} VigilProcStat;

gboolean
vigil_proc_stat_parse(const gchar *buf, gsize len, VigilProcStat *stat);
gboolean
vigil_proc_stat_read_at(gint proc_pid_dirfd, VigilProcStat *stat, GError **error);
gint
vigil_proc_open_pid_dir(guint32 pid, GError **error);
gint
vigil_proc_open_init_ns(const gchar *name);

gchar *
vigil_process_unit_from_cgroup(const gchar *cgroup);
gchar *
vigil_process_container_from_cgroup(const gchar *cgroup);
gchar *
vigil_process_app_id_from_flatpak_info(const gchar *data, gsize len);
gchar *
vigil_process_cmdline_from_raw(const gchar *data, gsize len);
guint64
vigil_process_get_init_mnt_ns(void);

VigilProcess *
vigil_process_new(guint32 pid);
gboolean
vigil_process_load(VigilProcess *self, GError **error);
gboolean
vigil_process_load_from_dirfd(VigilProcess *self, gint proc_pid_dirfd, GError **error);

guint32
vigil_process_get_pid(VigilProcess *self);
guint64
vigil_process_get_start_time(VigilProcess *self);
gint64
vigil_process_get_load_time(VigilProcess *self);
gboolean
vigil_process_is_same(VigilProcess *self, VigilProcess *other);

const gchar *
vigil_process_get_exe(VigilProcess *self);
const gchar *
vigil_process_get_host_exe(VigilProcess *self);
gboolean
vigil_process_get_exe_deleted(VigilProcess *self);
gboolean
vigil_process_get_exe_replaced(VigilProcess *self);
const VigilExeHashKey *
vigil_process_get_exe_key(VigilProcess *self);
const gchar *
vigil_process_get_cmdline(VigilProcess *self);

guint32
vigil_process_get_uid(VigilProcess *self);
guint32
vigil_process_get_euid(VigilProcess *self);
const gchar *
vigil_process_get_user(VigilProcess *self);

guint32
vigil_process_get_ppid(VigilProcess *self);
const gchar *
vigil_process_get_parent_exe(VigilProcess *self);
const gchar *const *
vigil_process_get_ancestor_exes(VigilProcess *self);

const gchar *
vigil_process_get_cgroup(VigilProcess *self);
const gchar *
vigil_process_get_unit(VigilProcess *self);
const gchar *
vigil_process_get_app_id(VigilProcess *self);
guint64
vigil_process_get_mnt_ns(VigilProcess *self);
gboolean
vigil_process_get_in_container(VigilProcess *self);
const gchar *
vigil_process_get_container(VigilProcess *self);

const gchar *
vigil_process_peek_exe_sha256(VigilProcess *self);
const gchar *
vigil_process_get_exe_sha256(VigilProcess *self, GError **error);
void
vigil_process_get_exe_sha256_async(VigilProcess *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
gchar *
vigil_process_get_exe_sha256_finish(VigilProcess *self, GAsyncResult *res, GError **error);

gchar *
vigil_process_to_string(VigilProcess *self);

G_END_DECLS
