/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilBtf"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-btf.h"
#include "vigil-error.h"

/*
 * The layout (linux/btf.h): a header, then a type section and a string section at offsets
 * the header gives. Types are numbered from 1 in the order they appear; each is a struct
 * btf_type followed by data whose size depends on its kind. Only the walk over the types
 * and the members of structures and unions are needed here.
 */

/* vmlinux has about 150,000 types; more than this is not a kernel's BTF */
#define VIGIL_BTF_TYPES_MAX (4 * 1024 * 1024)
#define VIGIL_BTF_SIZE_MAX  (256 * 1024 * 1024)
/* no structure of a kernel is this large; an offset is always inside its structure */
#define VIGIL_BTF_STRUCT_MAX (1024 * 1024)
/* anonymous structures and unions inside one another */
#define VIGIL_BTF_DEPTH_MAX 8

struct _VigilBtf {
	GBytes *bytes;
	const guint8 *types; /* the type section */
	guint32 types_len;
	const gchar *strings;
	guint32 strings_len;
	GArray *offsets; /* of guint32: where type id i starts in the type section, [0] unused */
};

static gboolean
set_error_invalid(GError **error, const gchar *what)
{
	g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE, "invalid BTF: %s", what);
	return FALSE;
}

/* the bytes that follow a type of @kind with @vlen items; -1 for a kind not known here */
static gssize
vigil_btf_extra_size(guint kind, guint vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
		return sizeof(guint32);
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (gssize)vlen * (gssize)sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (gssize)vlen * (gssize)sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (gssize)vlen * (gssize)sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (gssize)vlen * (gssize)sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64:
		return (gssize)vlen * (gssize)sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

/**
 * vigil_btf_new_from_data:
 * @data: a BTF blob, as /sys/kernel/btf/vmlinux holds it
 * @error: a #GError
 *
 * Checks the header and indexes the types.
 *
 * Returns: (transfer full) (nullable): the parsed BTF
 */
VigilBtf *
vigil_btf_new_from_data(GBytes *data, GError **error)
{
	g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(guint32));
	struct btf_header header;
	const guint8 *base;
	gsize len;
	guint64 types_end;
	guint64 strings_end;
	guint32 at = 0;
	VigilBtf *self;

	g_return_val_if_fail(data != NULL, NULL);

	base = g_bytes_get_data(data, &len);
	if (len < sizeof(header)) {
		set_error_invalid(error, "shorter than its header");
		return NULL;
	}
	memcpy(&header, base, sizeof(header));
	if (header.magic != BTF_MAGIC) {
		set_error_invalid(error, "bad magic (not native byte order BTF)");
		return NULL;
	}
	if (header.version != BTF_VERSION || header.hdr_len < sizeof(header) ||
	    header.hdr_len > len) {
		set_error_invalid(error, "unknown version or header length");
		return NULL;
	}
	types_end = (guint64)header.hdr_len + header.type_off + header.type_len;
	strings_end = (guint64)header.hdr_len + header.str_off + header.str_len;
	if (types_end > len || strings_end > len || header.str_len == 0) {
		set_error_invalid(error, "sections outside the data");
		return NULL;
	}

	self = g_new0(VigilBtf, 1);
	self->bytes = g_bytes_ref(data);
	self->types = base + header.hdr_len + header.type_off;
	self->types_len = header.type_len;
	self->strings = (const gchar *)base + header.hdr_len + header.str_off;
	self->strings_len = header.str_len;

	/* type 0 is void and takes no room */
	g_array_append_val(offsets, at);
	while (at < self->types_len) {
		struct btf_type type;
		gssize extra;

		if (self->types_len - at < sizeof(type) || offsets->len >= VIGIL_BTF_TYPES_MAX) {
			vigil_btf_free(self);
			set_error_invalid(error, "truncated type");
			return NULL;
		}
		memcpy(&type, self->types + at, sizeof(type));
		extra = vigil_btf_extra_size(BTF_INFO_KIND(type.info), BTF_INFO_VLEN(type.info));
		if (extra < 0 || (guint64)at + sizeof(type) + (guint64)extra > self->types_len) {
			vigil_btf_free(self);
			set_error_invalid(error,
					  extra < 0 ? "a type of an unknown kind"
						    : "truncated type");
			return NULL;
		}
		g_array_append_val(offsets, at);
		at += (guint32)(sizeof(type) + (gsize)extra);
	}
	self->offsets = g_steal_pointer(&offsets);
	return self;
}

/**
 * vigil_btf_new_from_file:
 * @path: a BTF file, e.g. %VIGIL_BTF_VMLINUX
 * @error: a #GError
 *
 * Returns: (transfer full) (nullable): the parsed BTF
 */
VigilBtf *
vigil_btf_new_from_file(const gchar *path, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autofree guint8 *buf = NULL;
	gsize size = 64 * 1024;
	gsize len = 0;
	gint fd;

	g_return_val_if_fail(path != NULL, NULL);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "cannot open %s: %s",
			    path,
			    g_strerror(errsv));
		return NULL;
	}
	/* sysfs gives the size; read to the end anyway, in one allocation when it is right */
	{
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < VIGIL_BTF_SIZE_MAX)
			size = (gsize)st.st_size + 1;
	}
	buf = g_malloc(size);
	while (TRUE) {
		gssize n;

		if (len == size) {
			if (size >= VIGIL_BTF_SIZE_MAX) {
				close(fd);
				set_error_invalid(error, "too large");
				return NULL;
			}
			size *= 2;
			buf = g_realloc(buf, size);
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			gint errsv = errno;
			close(fd);
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_FAILED,
				    "cannot read %s: %s",
				    path,
				    g_strerror(errsv));
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	bytes = g_bytes_new_take(g_steal_pointer(&buf), len);
	return vigil_btf_new_from_data(bytes, error);
}

void
vigil_btf_free(VigilBtf *self)
{
	if (self == NULL)
		return;
	g_bytes_unref(self->bytes);
	if (self->offsets != NULL)
		g_array_unref(self->offsets);
	g_free(self);
}

static const gchar *
vigil_btf_name(VigilBtf *self, guint32 name_off)
{
	const gchar *end;

	if (name_off >= self->strings_len)
		return NULL;
	end = memchr(self->strings + name_off, '\0', self->strings_len - name_off);
	return end != NULL ? self->strings + name_off : NULL;
}

static gboolean
vigil_btf_get_type(VigilBtf *self, guint32 id, struct btf_type *type)
{
	if (id == 0 || id >= self->offsets->len)
		return FALSE;
	memcpy(type, self->types + g_array_index(self->offsets, guint32, id), sizeof(*type));
	return TRUE;
}

/* @member in the structure or union type @id, its anonymous members included; the byte
 * offset is added to @offset */
static gboolean
vigil_btf_find_member(VigilBtf *self, guint32 id, const gchar *member, guint depth, guint32 *offset)
{
	struct btf_type type;
	const guint8 *members;
	guint kind;
	gboolean bitfields;

	if (depth > VIGIL_BTF_DEPTH_MAX || !vigil_btf_get_type(self, id, &type))
		return FALSE;
	kind = BTF_INFO_KIND(type.info);
	if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION)
		return FALSE;
	if (type.size > VIGIL_BTF_STRUCT_MAX)
		return FALSE;
	bitfields = BTF_INFO_KFLAG(type.info) != 0;
	members = self->types + g_array_index(self->offsets, guint32, id) + sizeof(type);
	for (guint i = 0; i < BTF_INFO_VLEN(type.info); i++) {
		struct btf_member m;
		guint32 bits;
		const gchar *name;

		memcpy(&m, members + i * sizeof(m), sizeof(m));
		bits = bitfields ? BTF_MEMBER_BIT_OFFSET(m.offset) : m.offset;
		if (bits % 8 != 0 || bits / 8 >= type.size)
			continue;
		if (m.name_off == 0) {
			guint32 inner = 0;
			if (vigil_btf_find_member(self, m.type, member, depth + 1, &inner) &&
			    bits / 8 + inner < type.size) {
				*offset += bits / 8 + inner;
				return TRUE;
			}
			continue;
		}
		name = vigil_btf_name(self, m.name_off);
		if (g_strcmp0(name, member) == 0) {
			*offset += bits / 8;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * vigil_btf_member_offset:
 * @self: a #VigilBtf
 * @struct_name: e.g. "task_struct"
 * @member: e.g. "start_boottime"; a member of an anonymous structure or union inside it
 *   is found too
 * @offset: (out): its offset in bytes from the start of the structure
 * @error: a #GError
 *
 * Returns: %TRUE when the structure (its full definition) has that member, byte-aligned;
 *   the offset is then below the structure's size, which is at most 1 MiB
 */
gboolean
vigil_btf_member_offset(VigilBtf *self,
			const gchar *struct_name,
			const gchar *member,
			guint32 *offset,
			GError **error)
{
	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(struct_name != NULL && member != NULL, FALSE);
	g_return_val_if_fail(offset != NULL, FALSE);

	for (guint32 id = 1; id < self->offsets->len; id++) {
		struct btf_type type;
		guint32 found = 0;

		vigil_btf_get_type(self, id, &type);
		if (BTF_INFO_KIND(type.info) != BTF_KIND_STRUCT || BTF_INFO_VLEN(type.info) == 0)
			continue;
		if (g_strcmp0(vigil_btf_name(self, type.name_off), struct_name) != 0)
			continue;
		if (vigil_btf_find_member(self, id, member, 0, &found)) {
			*offset = found;
			return TRUE;
		}
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_NOT_SUPPORTED,
			    "struct %s has no member %s",
			    struct_name,
			    member);
		return FALSE;
	}
	g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED, "no struct %s", struct_name);
	return FALSE;
}
