/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <linux/btf.h>
#include <string.h>

#include "vigil-btf.h"
#include "vigil-error.h"

/*
 * The BTF reader against blobs built here: the members it must find (plain, inside an
 * anonymous union, bitfield-flagged structures), the ones it must not, and every
 * truncation and corruption of a valid blob, which must fail cleanly. The running kernel's
 * own BTF is read too when it has one: the connect hook needs two fields of task_struct.
 */

typedef struct {
	GByteArray *types;
	GByteArray *strings;
	guint32 next_id;
} Builder;

static Builder *
builder_new(void)
{
	Builder *b = g_new0(Builder, 1);

	b->types = g_byte_array_new();
	b->strings = g_byte_array_new();
	g_byte_array_append(b->strings, (const guint8 *)"", 1);
	b->next_id = 1;
	return b;
}

static guint32
builder_string(Builder *b, const gchar *s)
{
	guint32 off = b->strings->len;

	g_byte_array_append(b->strings, (const guint8 *)s, (guint)strlen(s) + 1);
	return off;
}

static guint32
builder_type(Builder *b, const gchar *name, guint kind, guint vlen, gboolean kflag, guint32 size)
{
	struct btf_type t = {
	    .name_off = name != NULL ? builder_string(b, name) : 0,
	    .info = (kflag ? 1u << 31 : 0) | (kind << 24) | vlen,
	    .size = size,
	};

	g_byte_array_append(b->types, (const guint8 *)&t, sizeof(t));
	return b->next_id++;
}

static void
builder_u32(Builder *b, guint32 v)
{
	g_byte_array_append(b->types, (const guint8 *)&v, sizeof(v));
}

static void
builder_member(Builder *b, const gchar *name, guint32 type, guint32 bit_offset)
{
	struct btf_member m = {
	    .name_off = name != NULL ? builder_string(b, name) : 0,
	    .type = type,
	    .offset = bit_offset,
	};

	g_byte_array_append(b->types, (const guint8 *)&m, sizeof(m));
}

static GBytes *
builder_finish(Builder *b)
{
	struct btf_header h = {
	    .magic = BTF_MAGIC,
	    .version = BTF_VERSION,
	    .hdr_len = sizeof(h),
	    .type_off = 0,
	    .type_len = b->types->len,
	    .str_off = b->types->len,
	    .str_len = b->strings->len,
	};
	GByteArray *all = g_byte_array_new();

	g_byte_array_append(all, (const guint8 *)&h, sizeof(h));
	g_byte_array_append(all, b->types->data, b->types->len);
	g_byte_array_append(all, b->strings->data, b->strings->len);
	g_byte_array_unref(b->types);
	g_byte_array_unref(b->strings);
	g_free(b);
	return g_byte_array_free_to_bytes(all);
}

/* int; a forward declaration of task_struct; an anonymous union {u64 a; u64 b}; then
 * task_struct {int pid @0; union {..} @64; task_struct *group_leader @128; u64
 * start_boottime @192} with the bitfield flag, whose offsets are then bits 0-23 */
static GBytes *
test_blob(void)
{
	Builder *b = builder_new();
	guint32 int_id;
	guint32 union_id;
	guint32 ptr_id;

	int_id = builder_type(b, "int", BTF_KIND_INT, 0, FALSE, 4);
	builder_u32(b, 32);
	builder_type(b, "task_struct", BTF_KIND_FWD, 0, FALSE, 0);
	union_id = builder_type(b, NULL, BTF_KIND_UNION, 2, FALSE, 8);
	builder_member(b, "a", int_id, 0);
	builder_member(b, "inner", int_id, 0);
	/* the pointer's target is the next type: the task_struct below */
	ptr_id = builder_type(b, NULL, BTF_KIND_PTR, 0, FALSE, b->next_id + 1);
	builder_type(b, "task_struct", BTF_KIND_STRUCT, 5, TRUE, 32);
	builder_member(b, "pid", int_id, 0);
	builder_member(b, NULL, union_id, 64);
	builder_member(b, "group_leader", ptr_id, 128);
	builder_member(b, "start_boottime", int_id, 192);
	/* a bitfield: 3 bits at bit 197, not byte-aligned, so never an answer */
	builder_member(b, "flags", int_id, (3u << 24) | 197);
	return builder_finish(b);
}

static void
test_btf_members(void)
{
	g_autoptr(GBytes) blob = test_blob();
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilBtf) btf = vigil_btf_new_from_data(blob, &error);
	guint32 offset = 0;

	g_assert_no_error(error);
	g_assert_nonnull(btf);
	g_assert_true(vigil_btf_member_offset(btf, "task_struct", "pid", &offset, &error));
	g_assert_cmpuint(offset, ==, 0);
	g_assert_true(vigil_btf_member_offset(btf, "task_struct", "group_leader", &offset, &error));
	g_assert_cmpuint(offset, ==, 16);
	g_assert_true(
	    vigil_btf_member_offset(btf, "task_struct", "start_boottime", &offset, &error));
	g_assert_cmpuint(offset, ==, 24);
	/* inside the anonymous union */
	g_assert_true(vigil_btf_member_offset(btf, "task_struct", "inner", &offset, &error));
	g_assert_cmpuint(offset, ==, 8);
	g_assert_no_error(error);

	offset = 1234;
	g_assert_false(vigil_btf_member_offset(btf, "task_struct", "flags", &offset, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED);
	g_assert_cmpuint(offset, ==, 1234);
	g_clear_error(&error);
	g_assert_false(vigil_btf_member_offset(btf, "task_struct", "comm", &offset, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);
	g_assert_false(vigil_btf_member_offset(btf, "mm_struct", "pgd", &offset, &error));
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED);
}

/* every prefix of a valid blob, and every byte of it changed: an error, or a parse whose
 * answers lie inside their structure; never a read outside the data (valgrind shows it) */
static void
test_btf_hostile(void)
{
	g_autoptr(GBytes) blob = test_blob();
	gsize len;
	const guint8 *data = g_bytes_get_data(blob, &len);
	guint parsed = 0;

	for (gsize n = 0; n < len; n++) {
		g_autoptr(GBytes) cut = g_bytes_new(data, n);
		g_autoptr(GError) error = NULL;
		g_autoptr(VigilBtf) btf = vigil_btf_new_from_data(cut, &error);

		g_assert_null(btf);
		g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
	}
	for (gsize i = 0; i < len; i++) {
		for (guint v = 0; v < 4; v++) {
			static const guint8 values[] = {0x00, 0xff, 0x80, 0x7f};
			g_autofree guint8 *copy = g_memdup2(data, len);
			g_autoptr(GBytes) bad = NULL;
			g_autoptr(GError) error = NULL;
			g_autoptr(VigilBtf) btf = NULL;
			guint32 offset;

			copy[i] = values[v];
			bad = g_bytes_new(copy, len);
			btf = vigil_btf_new_from_data(bad, &error);
			if (btf == NULL) {
				g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID_FILE);
				continue;
			}
			parsed++;
			if (!vigil_btf_member_offset(btf, "task_struct", "inner", &offset, NULL))
				continue;
			g_assert_cmpuint(offset, <, 1024 * 1024);
		}
	}
	g_test_message("%u of %" G_GSIZE_FORMAT " corrupted blobs still parsed", parsed, len * 4);
}

static void
test_btf_vmlinux(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilBtf) btf = NULL;
	guint32 leader = 0;
	guint32 start = 0;

	if (!g_file_test(VIGIL_BTF_VMLINUX, G_FILE_TEST_EXISTS)) {
		g_test_skip("this kernel has no " VIGIL_BTF_VMLINUX);
		return;
	}
	btf = vigil_btf_new_from_file(VIGIL_BTF_VMLINUX, &error);
	g_assert_no_error(error);
	g_assert_true(vigil_btf_member_offset(btf, "task_struct", "group_leader", &leader, &error));
	g_assert_true(
	    vigil_btf_member_offset(btf, "task_struct", "start_boottime", &start, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(leader, >, 0);
	g_assert_cmpuint(start, >, 0);
	g_assert_cmpuint(leader, !=, start);
	g_test_message("task_struct: group_leader at %u, start_boottime at %u", leader, start);
}

static void
test_btf_missing_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilBtf) btf = vigil_btf_new_from_file("/nonexistent/vmlinux", &error);

	g_assert_null(btf);
	g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_SUPPORTED);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vigil/daemon/btf/members", test_btf_members);
	g_test_add_func("/vigil/daemon/btf/hostile", test_btf_hostile);
	g_test_add_func("/vigil/daemon/btf/vmlinux", test_btf_vmlinux);
	g_test_add_func("/vigil/daemon/btf/missing-file", test_btf_missing_file);
	return g_test_run();
}
