/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Just enough of BTF, the kernel's description of its own types, to learn where a field
 * of a kernel structure is on the running kernel (its layout depends on the kernel's
 * version and configuration). The data is parsed defensively: a short or inconsistent
 * blob is an error, never a read past its end.
 */

#define VIGIL_BTF_VMLINUX "/sys/kernel/btf/vmlinux"

typedef struct _VigilBtf VigilBtf;

VigilBtf *
vigil_btf_new_from_data(GBytes *data, GError **error);
VigilBtf *
vigil_btf_new_from_file(const gchar *path, GError **error);
void
vigil_btf_free(VigilBtf *self);
gboolean
vigil_btf_member_offset(VigilBtf *self,
			const gchar *struct_name,
			const gchar *member,
			guint32 *offset,
			GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilBtf, vigil_btf_free)

G_END_DECLS
