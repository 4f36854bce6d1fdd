/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilProcess"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-process.h"

/*
 * One process as /proc shows it, read once through a /proc/<pid> directory fd. That fd pins
 * the process: if it exits and its pid is reused, everything read through the fd fails
 * instead of describing the newcomer, so a record never mixes two processes. (pid, start
 * time) names the record; start time is field 22 of /proc/<pid>/stat. A record is what was
 * true when it was read: VigilAttribution reads it again after an exec or a uid change, and
 * when it is older than 10 s (a unit move, an upgrade of the exe).
 */

#define VIGIL_PROC_SMALL_FILE_MAX   (64 * 1024)
#define VIGIL_PROC_MOUNTINFO_MAX    (4 * 1024 * 1024)
#define VIGIL_PROC_FLATPAK_INFO_MAX (64 * 1024)
#define VIGIL_PROC_USER_CACHE_MAX   1024

struct _VigilProcess {
	GObject parent_instance;
	guint32 pid;
	guint64 start_time;
	gint64 load_time;
	gchar *exe;
	gchar *host_exe;
	gboolean exe_deleted;
	gboolean exe_replaced;
	gboolean has_exe_key;
	VigilExeHashKey exe_key;
	gchar *cmdline;
	guint32 uid;
	guint32 euid;
	gchar *user;
	guint32 ppid;
	GStrv ancestor_exes; /* parent first; "" where unknown */
	gchar *cgroup;
	gchar *unit;
	gchar *app_id;
	guint64 mnt_ns;
	gboolean in_container;
	gchar *container;
	GMutex sha256_mutex;
	gchar *exe_sha256;
};

G_DEFINE_FINAL_TYPE(VigilProcess, vigil_process, G_TYPE_OBJECT)

/* a small /proc file, NUL-terminated; files longer than @max are cut. Files made in one go
 * (stat, status, cgroup, cmdline) come whole in the first read, so a short read ends them */
static gchar *
vigil_proc_read_at(gint dirfd,
		   const gchar *name,
		   gsize max,
		   gboolean one_go,
		   gsize *len_out,
		   GError **error)
{
	g_auto(VigilFd) fd = -1;
	g_autofree gchar *buf = NULL;
	gsize alloc = MIN(max, 4096) + 1;
	gsize len = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to open %s: %s",
			    name,
			    g_strerror(errsv));
		return NULL;
	}
	buf = g_malloc(alloc);
	while (len < max) {
		ssize_t n;
		if (len + 1 >= alloc) {
			alloc = MIN(alloc * 2, max + 1);
			buf = g_realloc(buf, alloc);
		}
		n = read(fd, buf + len, alloc - 1 - len);
		if (n < 0) {
			gint errsv = errno;
			if (errsv == EINTR)
				continue;
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errsv),
				    "failed to read %s: %s",
				    name,
				    g_strerror(errsv));
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize)n;
		if (one_go && len + 1 < alloc)
			break;
	}
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return g_steal_pointer(&buf);
}

/* readlinkat() into a new string */
static gchar *
vigil_proc_readlink_at(gint dirfd, const gchar *name, GError **error)
{
	gchar buf[PATH_MAX + 32];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);

	if (n < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to read the link %s: %s",
			    name,
			    g_strerror(errsv));
		return NULL;
	}
	buf[n] = '\0';
	return g_strndup(buf, (gsize)n);
}

static gboolean
vigil_proc_parse_u64(const gchar **pos, const gchar *end, guint64 *value)
{
	const gchar *p = *pos;
	guint64 v = 0;

	if (p >= end || !g_ascii_isdigit(*p))
		return FALSE;
	for (; p < end && g_ascii_isdigit(*p); p++) {
		guint digit = (guint)(*p - '0');
		if (v > (G_MAXUINT64 - digit) / 10)
			return FALSE;
		v = v * 10 + digit;
	}
	*value = v;
	*pos = p;
	return TRUE;
}

/**
 * vigil_proc_stat_parse:
 * @buf: the text of /proc/<pid>/stat
 * @len: its length
 * @stat: (out caller-allocates): the fields
 *
 * Parses pid, state, ppid and start time. The command name (field 2) may hold spaces and
 * parentheses, so the fields after it are counted from its last ')'.
 */
gboolean
vigil_proc_stat_parse(const gchar *buf, gsize len, VigilProcStat *stat)
{
	const gchar *end = buf + len;
	const gchar *p = buf;
	const gchar *close;
	guint64 value;

	g_return_val_if_fail(buf != NULL, FALSE);
	g_return_val_if_fail(stat != NULL, FALSE);

	memset(stat, 0, sizeof(*stat));
	if (!vigil_proc_parse_u64(&p, end, &value) || value > G_MAXUINT32)
		return FALSE;
	stat->pid = (guint32)value;
	close = g_strrstr_len(buf, (gssize)len, ")");
	if (close == NULL || close + 4 > end || close[1] != ' ')
		return FALSE;
	p = close + 2;
	stat->state = *p++;
	/* fields 4 to 22, each after one space */
	for (guint field = 4; field <= 22; field++) {
		if (p >= end || *p != ' ')
			return FALSE;
		p++;
		if (*p == '-')
			p++;
		if (!vigil_proc_parse_u64(&p, end, &value))
			return FALSE;
		if (field == 4) {
			if (value > G_MAXUINT32)
				return FALSE;
			stat->ppid = (guint32)value;
		} else if (field == 22) {
			stat->start_time = value;
		}
	}
	return TRUE;
}

/**
 * vigil_proc_stat_read_at:
 * @proc_pid_dirfd: a /proc/<pid> directory fd
 * @stat: (out caller-allocates): the fields
 * @error: a #GError
 *
 * Reads /proc/<pid>/stat of the process the fd pins.
 */
gboolean
vigil_proc_stat_read_at(gint proc_pid_dirfd, VigilProcStat *stat, GError **error)
{
	gchar buf[1024];
	g_auto(VigilFd) fd = -1;
	ssize_t n;

	fd = openat(proc_pid_dirfd, "stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vigil_error_set_errno(error, errno, "failed to open stat");
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vigil_error_set_errno(error, errno, "failed to read stat");
	buf[n] = '\0';
	if (!vigil_proc_stat_parse(buf, (gsize)n, stat)) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "failed to parse stat");
		return FALSE;
	}
	return TRUE;
}

/**
 * vigil_proc_open_pid_dir:
 * @pid: a process
 * @error: a #GError
 *
 * Returns: an O_PATH fd of /proc/@pid that pins this very process, or -1
 */
gint
vigil_proc_open_pid_dir(guint32 pid, GError **error)
{
	gchar path[32];
	gint fd;

	g_snprintf(path, sizeof(path), "/proc/%u", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "failed to open %s: %s",
			    path,
			    g_strerror(errsv));
	}
	return fd;
}

static gboolean
vigil_process_str_has_suffix_component(const gchar *name, const gchar *suffix)
{
	return g_str_has_suffix(name, suffix) && strlen(name) > strlen(suffix);
}

/**
 * vigil_process_unit_from_cgroup:
 * @cgroup: a cgroup path, e.g. `/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope`
 *
 * Returns: (transfer full) (nullable): the innermost systemd service or scope, e.g.
 * `x.scope` above, `sshd.service` for `/system.slice/sshd.service`
 */
gchar *
vigil_process_unit_from_cgroup(const gchar *cgroup)
{
	g_auto(GStrv) parts = NULL;
	guint n;

	if (cgroup == NULL)
		return NULL;
	parts = g_strsplit(cgroup, "/", -1);
	n = g_strv_length(parts);
	for (guint i = n; i > 0; i--) {
		const gchar *name = parts[i - 1];
		if (vigil_process_str_has_suffix_component(name, ".service") ||
		    vigil_process_str_has_suffix_component(name, ".scope"))
			return g_strdup(name);
	}
	return NULL;
}

static gboolean
vigil_process_is_container_id(const gchar *id)
{
	gsize len = strlen(id);

	if (len < 12 || len > 128)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isxdigit(id[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * vigil_process_container_from_cgroup:
 * @cgroup: a cgroup path
 *
 * Recognises the cgroups that container engines make: `docker-<id>.scope` and `/docker/<id>`,
 * `libpod-<id>.scope` and `/libpod_parent/libpod-<id>` (Podman), `crio-<id>.scope`,
 * `cri-containerd-<id>.scope`, `lxc.payload.<name>` and `/lxc/<name>`, and systemd-nspawn's
 * `machine-<name>.scope`.
 *
 * Returns: (transfer full) (nullable): "engine:id", e.g. "docker:4f1c…"
 */
gchar *
vigil_process_container_from_cgroup(const gchar *cgroup)
{
	static const struct {
		const gchar *prefix;
		const gchar *suffix;
		const gchar *engine;
		gboolean hex;
	} scopes[] = {
	    {"docker-", ".scope", "docker", TRUE},
	    {"libpod-", ".scope", "podman", TRUE},
	    {"libpod-", "", "podman", TRUE},
	    {"crio-", ".scope", "cri-o", TRUE},
	    {"cri-containerd-", ".scope", "containerd", TRUE},
	    {"lxc.payload.", "", "lxc", FALSE},
	    {"machine-", ".scope", "machine", FALSE},
	};
	g_auto(GStrv) parts = NULL;
	guint n;

	if (cgroup == NULL)
		return NULL;
	parts = g_strsplit(cgroup, "/", -1);
	n = g_strv_length(parts);
	for (guint i = 0; i < n; i++) {
		const gchar *name = parts[i];
		for (guint j = 0; j < G_N_ELEMENTS(scopes); j++) {
			g_autofree gchar *id = NULL;
			gsize plen = strlen(scopes[j].prefix);
			gsize slen = strlen(scopes[j].suffix);
			gsize len = strlen(name);
			if (len <= plen + slen || !g_str_has_prefix(name, scopes[j].prefix) ||
			    !g_str_has_suffix(name, scopes[j].suffix))
				continue;
			id = g_strndup(name + plen, len - plen - slen);
			if (scopes[j].hex && !vigil_process_is_container_id(id))
				continue;
			return g_strdup_printf("%s:%s", scopes[j].engine, id);
		}
		if (i + 1 < n && parts[i + 1][0] != '\0') {
			if (g_strcmp0(name, "docker") == 0 &&
			    vigil_process_is_container_id(parts[i + 1]))
				return g_strdup_printf("docker:%s", parts[i + 1]);
			if (g_strcmp0(name, "lxc") == 0)
				return g_strdup_printf("lxc:%s", parts[i + 1]);
		}
	}
	return NULL;
}

/**
 * vigil_process_app_id_from_flatpak_info:
 * @data: the text of a `.flatpak-info` keyfile
 * @len: its length
 *
 * Returns: (transfer full) (nullable): `name` of its `[Application]` group
 */
gchar *
vigil_process_app_id_from_flatpak_info(const gchar *data, gsize len)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autofree gchar *name = NULL;

	if (!g_key_file_load_from_data(keyfile, data, len, G_KEY_FILE_NONE, NULL))
		return NULL;
	name = g_key_file_get_string(keyfile, "Application", "name", NULL);
	if (name == NULL || name[0] == '\0' || !g_utf8_validate(name, -1, NULL))
		return NULL;
	return g_steal_pointer(&name);
}

/**
 * vigil_process_cmdline_from_raw:
 * @data: the bytes of /proc/<pid>/cmdline
 * @len: their number
 *
 * Returns: (transfer full): the arguments joined by spaces, control characters shown as
 * '?', made valid UTF-8, and cut at %VIGIL_PROCESS_CMDLINE_MAX bytes
 */
gchar *
vigil_process_cmdline_from_raw(const gchar *data, gsize len)
{
	g_autofree gchar *copy = NULL;

	len = MIN(len, VIGIL_PROCESS_CMDLINE_MAX);
	while (len > 0 && (data[len - 1] == '\0' || data[len - 1] == ' '))
		len--;
	/* not g_strndup(): it stops at the first NUL */
	copy = g_malloc(len + 1);
	memcpy(copy, data, len);
	copy[len] = '\0';
	for (gsize i = 0; i < len; i++) {
		if (copy[i] == '\0')
			copy[i] = ' ';
		else if ((guchar)copy[i] < 0x20 || copy[i] == 0x7f)
			copy[i] = '?';
	}
	return g_utf8_make_valid(copy, (gssize)len);
}

static guint64
vigil_process_ns_inode(const gchar *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

/**
 * vigil_proc_open_init_ns:
 * @name: a namespace kind as in /proc/<pid>/ns ("net", "mnt", ...)
 *
 * Opens pid 1's namespace, or kthreadd's where pid 1 is shielded from us (kthreadd is pid 2
 * with parent 0, and kernel threads always run in the initial namespaces).
 *
 * Returns: an fd, or -1
 */
gint
vigil_proc_open_init_ns(const gchar *name)
{
	g_autofree gchar *init_path = g_strdup_printf("/proc/1/ns/%s", name);
	g_autofree gchar *kthreadd_path = g_strdup_printf("/proc/2/ns/%s", name);
	g_autofree gchar *stat = NULL;
	gint fd = open(init_path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (!g_file_get_contents("/proc/2/stat", &stat, NULL, NULL) ||
	    !g_str_has_prefix(stat, "2 (kthreadd) S 0 "))
		return -1;
	return open(kthreadd_path, O_RDONLY | O_CLOEXEC);
}

/**
 * vigil_process_get_init_mnt_ns:
 *
 * Returns: the inode of the initial mount namespace (see vigil_proc_open_init_ns()), 0 when
 * it cannot be read
 */
guint64
vigil_process_get_init_mnt_ns(void)
{
	static gsize once = 0;
	static guint64 inode = 0;

	if (g_once_init_enter(&once)) {
		g_auto(VigilFd) fd = vigil_proc_open_init_ns("mnt");
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0)
			inode = st.st_ino;
		g_once_init_leave(&once, 1);
	}
	return inode;
}

static guint64
vigil_process_get_self_mnt_ns(void)
{
	static gsize once = 0;
	static guint64 inode = 0;

	if (g_once_init_enter(&once)) {
		inode = vigil_process_ns_inode("/proc/self/ns/mnt");
		g_once_init_leave(&once, 1);
	}
	return inode;
}

/* user names change rarely; NSS can be slow (LDAP, userdb), so ask once per uid */
static gchar *
vigil_process_lookup_user(guint32 uid)
{
	static GMutex mutex;
	static GHashTable *cache = NULL;
	g_autofree gchar *buf = NULL;
	struct passwd pwd;
	struct passwd *result = NULL;
	glong size = sysconf(_SC_GETPW_R_SIZE_MAX);
	gchar *name;

	g_mutex_lock(&mutex);
	if (cache == NULL)
		cache = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	if (g_hash_table_lookup_extended(cache, GUINT_TO_POINTER(uid), NULL, (gpointer *)&name)) {
		gchar *copy = g_strdup(name);
		g_mutex_unlock(&mutex);
		return copy;
	}
	g_mutex_unlock(&mutex);

	if (size <= 0)
		size = 16384;
	buf = g_malloc((gsize)size);
	if (getpwuid_r(uid, &pwd, buf, (gsize)size, &result) != 0 || result == NULL)
		name = NULL;
	else
		name = g_strdup(result->pw_name);

	g_mutex_lock(&mutex);
	if (g_hash_table_size(cache) >= VIGIL_PROC_USER_CACHE_MAX)
		g_hash_table_remove_all(cache);
	g_hash_table_insert(cache, GUINT_TO_POINTER(uid), g_strdup(name));
	g_mutex_unlock(&mutex);
	return name;
}

typedef struct {
	gchar *device; /* major:minor */
	gchar *root;
	gchar *mount_point;
} VigilMount;

static void
vigil_mount_clear(VigilMount *mount)
{
	g_free(mount->device);
	g_free(mount->root);
	g_free(mount->mount_point);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static gchar *
vigil_mount_unescape(const gchar *field)
{
	GString *str = g_string_sized_new(strlen(field));

	for (const gchar *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			g_string_append_c(
			    str,
			    (gchar)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0')));
			p += 3;
		} else {
			g_string_append_c(str, *p);
		}
	}
	return g_string_free(str, FALSE);
}

static GArray *
vigil_mount_parse_mountinfo(const gchar *text)
{
	GArray *mounts = g_array_new(FALSE, TRUE, sizeof(VigilMount));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	g_array_set_clear_func(mounts, (GDestroyNotify)vigil_mount_clear);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit(lines[i], " ", 6);
		VigilMount mount = {0};
		if (g_strv_length(fields) < 5)
			continue;
		mount.device = g_strdup(fields[2]);
		mount.root = vigil_mount_unescape(fields[3]);
		mount.mount_point = vigil_mount_unescape(fields[4]);
		g_array_append_val(mounts, mount);
	}
	return mounts;
}

/* the part of @path below @prefix ("" for @prefix itself), or NULL when not below it */
static const gchar *
vigil_path_below(const gchar *path, const gchar *prefix)
{
	gsize len = strlen(prefix);

	if (g_strcmp0(prefix, "/") == 0)
		return path[0] == '/' ? path : NULL;
	if (strncmp(path, prefix, len) != 0)
		return NULL;
	if (path[len] == '\0' || path[len] == '/')
		return path + len;
	return NULL;
}

static gchar *
vigil_path_join(const gchar *dir, const gchar *rest)
{
	if (g_strcmp0(dir, "/") == 0)
		return g_strdup(rest[0] == '\0' ? "/" : rest);
	return g_strconcat(dir, rest, NULL);
}

/*
 * The host path of @exe, a path in another mount namespace: the mount that holds it there
 * shows its device and the directory of that device it exposes; a mount of the same device
 * here that exposes an ancestor of that directory gives the path here. The answer is
 * believed only when it is the very file the process runs (@key).
 */
static gchar *
vigil_process_map_host_path(gint dirfd, const gchar *exe, const VigilExeHashKey *key)
{
	g_autofree gchar *theirs_text = NULL;
	g_autofree gchar *ours_text = NULL;
	g_autoptr(GArray) theirs = NULL;
	g_autoptr(GArray) ours = NULL;
	g_autofree gchar *fs_path = NULL;
	const VigilMount *holder = NULL;
	gsize holder_len = 0;

	theirs_text =
	    vigil_proc_read_at(dirfd, "mountinfo", VIGIL_PROC_MOUNTINFO_MAX, FALSE, NULL, NULL);
	if (theirs_text == NULL)
		return NULL;
	if (!g_file_get_contents("/proc/self/mountinfo", &ours_text, NULL, NULL))
		return NULL;
	theirs = vigil_mount_parse_mountinfo(theirs_text);
	ours = vigil_mount_parse_mountinfo(ours_text);

	/* the last of the longest matching mount points is the one on top */
	for (guint i = 0; i < theirs->len; i++) {
		const VigilMount *mount = &g_array_index(theirs, VigilMount, i);
		gsize len = strlen(mount->mount_point);
		if (vigil_path_below(exe, mount->mount_point) != NULL && len >= holder_len) {
			holder = mount;
			holder_len = len;
		}
	}
	if (holder == NULL)
		return NULL;
	fs_path = vigil_path_join(holder->root, vigil_path_below(exe, holder->mount_point));

	for (guint i = ours->len; i > 0; i--) {
		const VigilMount *mount = &g_array_index(ours, VigilMount, i - 1);
		const gchar *rest;
		g_autofree gchar *candidate = NULL;
		struct stat st;
		if (g_strcmp0(mount->device, holder->device) != 0)
			continue;
		rest = vigil_path_below(fs_path, mount->root);
		if (rest == NULL)
			continue;
		candidate = vigil_path_join(mount->mount_point, rest);
		if (stat(candidate, &st) == 0 && st.st_dev == key->device &&
		    st.st_ino == key->inode)
			return g_steal_pointer(&candidate);
	}
	return NULL;
}

static void
vigil_process_load_exe(VigilProcess *self, gint dirfd)
{
	g_autofree gchar *link = vigil_proc_readlink_at(dirfd, "exe", NULL);
	struct stat st;

	/* kernel threads have no exe; a zombie's cannot be read */
	if (link == NULL)
		return;
	if (g_str_has_suffix(link, " (deleted)")) {
		link[strlen(link) - strlen(" (deleted)")] = '\0';
		self->exe_deleted = TRUE;
	}
	self->exe = g_steal_pointer(&link);

	/* the file it runs, whatever the path says now */
	if (fstatat(dirfd, "exe", &st, 0) == 0 && S_ISREG(st.st_mode)) {
		self->has_exe_key = TRUE;
		self->exe_key.device = st.st_dev;
		self->exe_key.inode = st.st_ino;
		self->exe_key.mtime_ns =
		    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
		self->exe_key.ctime_ns =
		    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
		self->exe_key.size = (guint64)st.st_size;
	}
}

/* deleted or replaced since start: the kernel marks an unlinked exe " (deleted)", and the path
 * now names either nothing (deleted) or another file (replaced, as an upgrade does by renaming
 * a new file over it) */
static void
vigil_process_check_exe_path(VigilProcess *self, gint dirfd, gboolean same_mnt_ns)
{
	g_autofree gchar *theirs = NULL;
	struct stat st;
	gint ret;

	if (self->exe == NULL || self->exe[0] != '/' || !self->has_exe_key)
		return;
	if (same_mnt_ns) {
		ret = stat(self->exe, &st);
	} else {
		/* the path as the process resolves it, under its root */
		theirs = g_strconcat("root", self->exe, NULL);
		ret = fstatat(dirfd, theirs, &st, 0);
	}
	if (ret < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			self->exe_deleted = TRUE;
		return;
	}
	if (st.st_dev != self->exe_key.device || st.st_ino != self->exe_key.inode) {
		self->exe_replaced = TRUE;
		self->exe_deleted = FALSE;
	}
}

static gboolean
vigil_process_load_status(VigilProcess *self, gint dirfd, GError **error)
{
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;

	text = vigil_proc_read_at(dirfd, "status", VIGIL_PROC_SMALL_FILE_MAX, TRUE, NULL, error);
	if (text == NULL)
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *p;
		guint64 real;
		guint64 effective;
		if (g_str_has_prefix(lines[i], "State:\tZ") ||
		    g_str_has_prefix(lines[i], "State:\tX")) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_NOT_FOUND,
					    "the process exited");
			return FALSE;
		}
		if (!g_str_has_prefix(lines[i], "Uid:"))
			continue;
		p = lines[i] + 4;
		while (*p == '\t' || *p == ' ')
			p++;
		if (!vigil_proc_parse_u64(&p, p + strlen(p), &real))
			break;
		while (*p == '\t' || *p == ' ')
			p++;
		if (!vigil_proc_parse_u64(&p, p + strlen(p), &effective))
			break;
		self->uid = (guint32)real;
		self->euid = (guint32)effective;
	}
	return TRUE;
}

static void
vigil_process_load_cgroup(VigilProcess *self, gint dirfd)
{
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;
	const gchar *v2 = NULL;
	const gchar *named = NULL;

	text = vigil_proc_read_at(dirfd, "cgroup", VIGIL_PROC_SMALL_FILE_MAX, TRUE, NULL, NULL);
	if (text == NULL)
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "0::"))
			v2 = lines[i] + 3;
		else if (strstr(lines[i], ":name=systemd:") != NULL)
			named = strstr(lines[i], ":name=systemd:") + strlen(":name=systemd:");
	}
	/* on a hybrid hierarchy systemd keeps its tree in name=systemd */
	if (v2 == NULL || (g_strcmp0(v2, "/") == 0 && named != NULL))
		v2 = named;
	if (v2 == NULL)
		return;
	self->cgroup = g_utf8_make_valid(v2, -1);
	self->unit = vigil_process_unit_from_cgroup(self->cgroup);
	self->container = vigil_process_container_from_cgroup(self->cgroup);
}

/* [Application] name= of /.flatpak-info as the process sees it, read without following a
 * symlink or blocking on a fifo that the process may have put there */
static void
vigil_process_load_flatpak(VigilProcess *self, gint dirfd)
{
	g_auto(VigilFd) fd = -1;
	gchar buf[VIGIL_PROC_FLATPAK_INFO_MAX];
	struct stat st;
	gsize len = 0;

	fd = openat(dirfd,
		    "root/.flatpak-info",
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > VIGIL_PROC_FLATPAK_INFO_MAX)
		return;
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (gsize)n;
	}
	self->app_id = vigil_process_app_id_from_flatpak_info(buf, len);
}

/* the exes of the parent, its parent, ... up to pid 1; a pid whose process started after
 * its child did was reused, and ends the chain */
static void
vigil_process_load_ancestors(VigilProcess *self)
{
	g_autoptr(GPtrArray) exes = g_ptr_array_new_with_free_func(g_free);
	guint32 pid = self->ppid;
	guint64 child_start = self->start_time;

	for (guint depth = 0; depth < VIGIL_PROCESS_ANCESTORS_MAX && pid > 0; depth++) {
		g_auto(VigilFd) dirfd = vigil_proc_open_pid_dir(pid, NULL);
		VigilProcStat stat;
		gchar *exe;
		if (dirfd < 0 || !vigil_proc_stat_read_at(dirfd, &stat, NULL) ||
		    stat.start_time > child_start)
			break;
		exe = vigil_proc_readlink_at(dirfd, "exe", NULL);
		if (exe != NULL && g_str_has_suffix(exe, " (deleted)"))
			exe[strlen(exe) - strlen(" (deleted)")] = '\0';
		g_ptr_array_add(exes, exe != NULL ? exe : g_strdup(""));
		pid = stat.ppid;
		child_start = stat.start_time;
	}
	g_ptr_array_add(exes, NULL);
	self->ancestor_exes = (GStrv)g_ptr_array_free(g_steal_pointer(&exes), FALSE);
}

/**
 * vigil_process_load_from_dirfd:
 * @self: a #VigilProcess
 * @proc_pid_dirfd: a /proc/<pid> directory fd of this process
 * @error: a #GError
 *
 * Reads the record. Only the start time is required; fields that cannot be read (a zombie's
 * exe, a kernel thread's cmdline) stay unset.
 */
gboolean
vigil_process_load_from_dirfd(VigilProcess *self, gint proc_pid_dirfd, GError **error)
{
	VigilProcStat stat;
	g_autofree gchar *cmdline = NULL;
	gsize cmdline_len = 0;
	struct stat st;
	guint64 init_mnt_ns;
	gboolean same_mnt_ns = TRUE;

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);
	g_return_val_if_fail(proc_pid_dirfd >= 0, FALSE);

	if (!vigil_proc_stat_read_at(proc_pid_dirfd, &stat, error)) {
		g_prefix_error(error, "failed to read process %u: ", self->pid);
		return FALSE;
	}
	if (stat.state == 'Z' || stat.state == 'X') {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_FOUND,
			    "process %u exited",
			    self->pid);
		return FALSE;
	}
	if (stat.pid != self->pid) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_ARGUMENT,
			    "the directory is of process %u, not %u",
			    stat.pid,
			    self->pid);
		return FALSE;
	}
	self->start_time = stat.start_time;
	self->ppid = stat.ppid;
	self->load_time = g_get_monotonic_time();

	if (fstatat(proc_pid_dirfd, "ns/mnt", &st, 0) == 0) {
		self->mnt_ns = st.st_ino;
		init_mnt_ns = vigil_process_get_init_mnt_ns();
		self->in_container = init_mnt_ns != 0 && self->mnt_ns != init_mnt_ns;
		same_mnt_ns = self->mnt_ns == vigil_process_get_self_mnt_ns();
	}
	vigil_process_load_exe(self, proc_pid_dirfd);
	vigil_process_check_exe_path(self, proc_pid_dirfd, same_mnt_ns);
	/* the host path names the very file that runs, or nothing */
	if (self->exe != NULL && self->has_exe_key) {
		if (!same_mnt_ns)
			self->host_exe =
			    vigil_process_map_host_path(proc_pid_dirfd, self->exe, &self->exe_key);
		else if (!self->exe_deleted && !self->exe_replaced)
			self->host_exe = g_strdup(self->exe);
	}

	cmdline = vigil_proc_read_at(proc_pid_dirfd,
				     "cmdline",
				     VIGIL_PROCESS_CMDLINE_MAX,
				     TRUE,
				     &cmdline_len,
				     NULL);
	if (cmdline != NULL)
		self->cmdline = vigil_process_cmdline_from_raw(cmdline, cmdline_len);

	vigil_process_load_cgroup(self, proc_pid_dirfd);
	if (self->in_container || !same_mnt_ns)
		vigil_process_load_flatpak(self, proc_pid_dirfd);
	vigil_process_load_ancestors(self);

	/* last: everything was read from this very process (the dirfd pins it), and it had
	 * not exited by the end, so no field is a zombie's blank */
	if (!vigil_process_load_status(self, proc_pid_dirfd, error)) {
		g_prefix_error(error, "process %u exited while it was read: ", self->pid);
		return FALSE;
	}
	self->user = vigil_process_lookup_user(self->uid);
	return TRUE;
}

/**
 * vigil_process_load:
 * @self: a #VigilProcess
 * @error: a #GError
 *
 * Reads the record from /proc/<pid>. Blocking (tens of microseconds, more with NSS or a
 * container): the daemon calls it from a thread.
 */
gboolean
vigil_process_load(VigilProcess *self, GError **error)
{
	g_auto(VigilFd) dirfd = -1;

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);

	dirfd = vigil_proc_open_pid_dir(self->pid, error);
	if (dirfd < 0)
		return FALSE;
	return vigil_process_load_from_dirfd(self, dirfd, error);
}

guint32
vigil_process_get_pid(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->pid;
}

/* clock ticks after boot (field 22 of /proc/<pid>/stat); with the pid, names the process */
guint64
vigil_process_get_start_time(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->start_time;
}

/* g_get_monotonic_time() when the record was read */
gint64
vigil_process_get_load_time(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->load_time;
}

gboolean
vigil_process_is_same(VigilProcess *self, VigilProcess *other)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);
	g_return_val_if_fail(VIGIL_IS_PROCESS(other), FALSE);
	return self->pid == other->pid && self->start_time == other->start_time;
}

/* the executable's path as the process sees it (in its own mount namespace), without the
 * kernel's " (deleted)"; NULL for kernel threads */
const gchar *
vigil_process_get_exe(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->exe;
}

/* the same file's path in the daemon's mount namespace, checked to be that very file; NULL
 * when it has none (deleted, or only reachable inside the process's namespace) */
const gchar *
vigil_process_get_host_exe(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->host_exe;
}

gboolean
vigil_process_get_exe_deleted(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);
	return self->exe_deleted;
}

/* the path now names another file than the one the process runs (an upgrade, or a swap) */
gboolean
vigil_process_get_exe_replaced(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);
	return self->exe_replaced;
}

const VigilExeHashKey *
vigil_process_get_exe_key(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->has_exe_key ? &self->exe_key : NULL;
}

const gchar *
vigil_process_get_cmdline(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->cmdline;
}

/* the real uid */
guint32
vigil_process_get_uid(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->uid;
}

guint32
vigil_process_get_euid(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->euid;
}

/* the name of the real uid, NULL when NSS does not know it */
const gchar *
vigil_process_get_user(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->user;
}

guint32
vigil_process_get_ppid(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->ppid;
}

const gchar *
vigil_process_get_parent_exe(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	if (self->ancestor_exes == NULL || self->ancestor_exes[0] == NULL ||
	    self->ancestor_exes[0][0] == '\0')
		return NULL;
	return self->ancestor_exes[0];
}

/* parent first, up to pid 1 or %VIGIL_PROCESS_ANCESTORS_MAX; "" where an exe is unknown */
const gchar *const *
vigil_process_get_ancestor_exes(VigilProcess *self)
{
	static const gchar *const empty[] = {NULL};

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	if (self->ancestor_exes == NULL)
		return empty;
	return (const gchar *const *)self->ancestor_exes;
}

const gchar *
vigil_process_get_cgroup(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->cgroup;
}

const gchar *
vigil_process_get_unit(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->unit;
}

/* the Flatpak application id; only looked for in another mount namespace, and no stronger
 * than the sandbox: whoever can make a mount namespace can write a .flatpak-info */
const gchar *
vigil_process_get_app_id(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->app_id;
}

guint64
vigil_process_get_mnt_ns(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), 0);
	return self->mnt_ns;
}

/* in another mount namespace than pid 1's (a container, a Flatpak sandbox, a service with
 * a private /tmp, ...) */
gboolean
vigil_process_get_in_container(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), FALSE);
	return self->in_container;
}

/* "engine:id" from the cgroup, see vigil_process_container_from_cgroup() */
const gchar *
vigil_process_get_container(VigilProcess *self)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	return self->container;
}

static gchar *
vigil_process_compute_exe_sha256(VigilProcess *self, GError **error)
{
	VigilExeHash *exe_hash = vigil_exe_hash_get_default();
	g_autoptr(GError) error_local = NULL;
	g_auto(VigilFd) dirfd = -1;
	g_auto(VigilFd) fd = -1;
	VigilExeHashKey key;
	VigilProcStat stat;
	gchar *sha256;

	if (!self->has_exe_key) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_FOUND,
			    "process %u has no executable",
			    self->pid);
		return NULL;
	}
	sha256 = vigil_exe_hash_lookup(exe_hash, &self->exe_key);
	if (sha256 != NULL)
		return sha256;

	/* through /proc/<pid>/exe: what runs, even when the path now names something else */
	dirfd = vigil_proc_open_pid_dir(self->pid, &error_local);
	if (dirfd >= 0 && vigil_proc_stat_read_at(dirfd, &stat, &error_local) &&
	    stat.start_time == self->start_time) {
		fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0 && vigil_exe_hash_key_from_fd(&key, fd, NULL) &&
		    key.device == self->exe_key.device && key.inode == self->exe_key.inode)
			return vigil_exe_hash_compute_for_fd(exe_hash, fd, error);
	}

	/* the process is gone (or runs something else now): its file, if still the same */
	if (self->host_exe != NULL)
		return vigil_exe_hash_compute_for_path(exe_hash,
						       self->host_exe,
						       &self->exe_key,
						       error);
	g_set_error(error,
		    VIGIL_ERROR,
		    VIGIL_ERROR_NOT_FOUND,
		    "the executable of process %u cannot be read any more",
		    self->pid);
	return NULL;
}

/**
 * vigil_process_get_exe_sha256:
 * @self: a #VigilProcess
 * @error: a #GError
 *
 * The SHA-256 of the file the process runs, read through /proc/<pid>/exe on first use and
 * cached per file version by vigil_exe_hash_get_default(). Blocking the first time for a
 * given file: prefer vigil_process_get_exe_sha256_async() on the main loop.
 *
 * Returns: (transfer none): lowercase hex
 */
const gchar *
vigil_process_get_exe_sha256(VigilProcess *self, GError **error)
{
	g_autofree gchar *sha256 = NULL;
	const gchar *result;

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);

	g_mutex_lock(&self->sha256_mutex);
	result = self->exe_sha256;
	g_mutex_unlock(&self->sha256_mutex);
	if (result != NULL)
		return result;

	sha256 = vigil_process_compute_exe_sha256(self, error);
	if (sha256 == NULL)
		return NULL;
	g_mutex_lock(&self->sha256_mutex);
	if (self->exe_sha256 == NULL)
		self->exe_sha256 = g_steal_pointer(&sha256);
	result = self->exe_sha256;
	g_mutex_unlock(&self->sha256_mutex);
	return result;
}

/**
 * vigil_process_peek_exe_sha256:
 * @self: a #VigilProcess
 *
 * The SHA-256 of the file the process runs if it is known already (computed for this record
 * or for the same file version before), without reading anything: the main loop can ask
 * this, and start vigil_process_get_exe_sha256_async() on %NULL.
 *
 * Returns: (transfer none) (nullable): lowercase hex
 */
const gchar *
vigil_process_peek_exe_sha256(VigilProcess *self)
{
	g_autofree gchar *cached = NULL;
	const gchar *result;

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);

	g_mutex_lock(&self->sha256_mutex);
	result = self->exe_sha256;
	g_mutex_unlock(&self->sha256_mutex);
	if (result != NULL || !self->has_exe_key)
		return result;
	cached = vigil_exe_hash_lookup(vigil_exe_hash_get_default(), &self->exe_key);
	if (cached == NULL)
		return NULL;
	g_mutex_lock(&self->sha256_mutex);
	if (self->exe_sha256 == NULL)
		self->exe_sha256 = g_steal_pointer(&cached);
	result = self->exe_sha256;
	g_mutex_unlock(&self->sha256_mutex);
	return result;
}

static void
vigil_process_sha256_thread_cb(GTask *task,
			       gpointer source_object,
			       gpointer task_data,
			       GCancellable *cancellable)
{
	VigilProcess *self = VIGIL_PROCESS(source_object);
	GError *error = NULL;
	const gchar *sha256 = vigil_process_get_exe_sha256(self, &error);

	if (sha256 == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, g_strdup(sha256), g_free);
}

void
vigil_process_get_exe_sha256_async(VigilProcess *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(VIGIL_IS_PROCESS(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_process_get_exe_sha256_async);
	g_task_run_in_thread(task, vigil_process_sha256_thread_cb);
}

/* Returns: (transfer full): lowercase hex */
gchar *
vigil_process_get_exe_sha256_finish(VigilProcess *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

gchar *
vigil_process_to_string(VigilProcess *self)
{
	GString *str = g_string_new(NULL);

	g_return_val_if_fail(VIGIL_IS_PROCESS(self), NULL);

	g_string_append_printf(str,
			       "pid %u (start %" G_GUINT64_FORMAT ") exe %s",
			       self->pid,
			       self->start_time,
			       self->exe != NULL ? self->exe : "?");
	if (self->exe_deleted)
		g_string_append(str, " (deleted)");
	if (self->exe_replaced)
		g_string_append(str, " (replaced)");
	if (self->host_exe != NULL && g_strcmp0(self->host_exe, self->exe) != 0)
		g_string_append_printf(str, " host %s", self->host_exe);
	g_string_append_printf(str,
			       " uid %u (%s) ppid %u",
			       self->uid,
			       self->user != NULL ? self->user : "?",
			       self->ppid);
	if (self->unit != NULL)
		g_string_append_printf(str, " unit %s", self->unit);
	if (self->app_id != NULL)
		g_string_append_printf(str, " app %s", self->app_id);
	if (self->container != NULL)
		g_string_append_printf(str, " container %s", self->container);
	else if (self->in_container)
		g_string_append(str, " container ?");
	return g_string_free(str, FALSE);
}

static void
vigil_process_finalize(GObject *object)
{
	VigilProcess *self = VIGIL_PROCESS(object);

	g_free(self->exe);
	g_free(self->host_exe);
	g_free(self->cmdline);
	g_free(self->user);
	g_strfreev(self->ancestor_exes);
	g_free(self->cgroup);
	g_free(self->unit);
	g_free(self->app_id);
	g_free(self->container);
	g_free(self->exe_sha256);
	g_mutex_clear(&self->sha256_mutex);
	G_OBJECT_CLASS(vigil_process_parent_class)->finalize(object);
}

static void
vigil_process_class_init(VigilProcessClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vigil_process_finalize;
}

static void
vigil_process_init(VigilProcess *self)
{
	g_mutex_init(&self->sha256_mutex);
	self->uid = G_MAXUINT32;
	self->euid = G_MAXUINT32;
}

/**
 * vigil_process_new:
 * @pid: a process id, as in the daemon's pid namespace
 *
 * Returns: (transfer full): an empty record; fill it with vigil_process_load()
 */
VigilProcess *
vigil_process_new(guint32 pid)
{
	VigilProcess *self = g_object_new(VIGIL_TYPE_PROCESS, NULL);

	self->pid = pid;
	return self;
}
