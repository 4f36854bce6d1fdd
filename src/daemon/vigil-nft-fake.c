/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNftFake"

#include "config.h"

#include "vigil-nft-fake.h"

/* the backend of `vigild --backend=fake`: touches no kernel, remembers the last table */

struct _VigilNftFake {
	VigilNftBackend parent_instance;
	VigilNftPlan *plan; /* the table as applied; NULL when there is none */
	guint apply_count;
	guint remove_count;
	GError *error; /* the next apply or remove fails with this */
};

G_DEFINE_FINAL_TYPE(VigilNftFake, vigil_nft_fake, VIGIL_TYPE_NFT_BACKEND)

static gboolean
vigil_nft_fake_take_error(VigilNftFake *self, GError **error)
{
	if (self->error == NULL)
		return FALSE;
	g_propagate_error(error, g_steal_pointer(&self->error));
	return TRUE;
}

static gboolean
vigil_nft_fake_apply(VigilNftBackend *backend, const VigilNftPlan *plan, GError **error)
{
	VigilNftFake *self = VIGIL_NFT_FAKE(backend);
	g_autofree gchar *str = NULL;

	if (vigil_nft_fake_take_error(self, error))
		return FALSE;

	g_clear_pointer(&self->plan, vigil_nft_plan_unref);
	/* plans are immutable once made; const only says that apply does not change them */
	self->plan = vigil_nft_plan_ref((VigilNftPlan *)plan);
	self->apply_count++;
	if (vigil_nft_backend_get_queue_kind(backend) == VIGIL_NFT_QUEUE_KIND_COMPAT)
		vigil_nft_backend_set_queue_kind_in_use(backend, VIGIL_NFT_QUEUE_KIND_COMPAT);
	else
		vigil_nft_backend_set_queue_kind_in_use(backend, VIGIL_NFT_QUEUE_KIND_NATIVE);

	str = vigil_nft_plan_to_string(plan);
	g_debug("fake table applied:\n%s", g_strchomp(str));
	return TRUE;
}

static gboolean
vigil_nft_fake_remove(VigilNftBackend *backend, GError **error)
{
	VigilNftFake *self = VIGIL_NFT_FAKE(backend);

	if (vigil_nft_fake_take_error(self, error))
		return FALSE;
	g_clear_pointer(&self->plan, vigil_nft_plan_unref);
	self->remove_count++;
	g_debug("fake table removed");
	return TRUE;
}

/* returns: (transfer none) (nullable): the plan of the table as applied, NULL when removed */
VigilNftPlan *
vigil_nft_fake_get_plan(VigilNftFake *self)
{
	g_return_val_if_fail(VIGIL_IS_NFT_FAKE(self), NULL);
	return self->plan;
}

guint
vigil_nft_fake_get_apply_count(VigilNftFake *self)
{
	g_return_val_if_fail(VIGIL_IS_NFT_FAKE(self), 0);
	return self->apply_count;
}

guint
vigil_nft_fake_get_remove_count(VigilNftFake *self)
{
	g_return_val_if_fail(VIGIL_IS_NFT_FAKE(self), 0);
	return self->remove_count;
}

/* makes the next apply or remove fail with a copy of @error, or not when it is NULL */
void
vigil_nft_fake_set_error(VigilNftFake *self, const GError *error)
{
	g_return_if_fail(VIGIL_IS_NFT_FAKE(self));
	g_clear_error(&self->error);
	if (error != NULL)
		self->error = g_error_copy(error);
}

static void
vigil_nft_fake_finalize(GObject *object)
{
	VigilNftFake *self = VIGIL_NFT_FAKE(object);

	g_clear_pointer(&self->plan, vigil_nft_plan_unref);
	g_clear_error(&self->error);
	G_OBJECT_CLASS(vigil_nft_fake_parent_class)->finalize(object);
}

static void
vigil_nft_fake_class_init(VigilNftFakeClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	VigilNftBackendClass *backend_class = VIGIL_NFT_BACKEND_CLASS(klass);

	object_class->finalize = vigil_nft_fake_finalize;
	backend_class->apply = vigil_nft_fake_apply;
	backend_class->remove = vigil_nft_fake_remove;
}

static void
vigil_nft_fake_init(VigilNftFake *self)
{
}

VigilNftBackend *
vigil_nft_fake_new(void)
{
	return g_object_new(VIGIL_TYPE_NFT_FAKE, NULL);
}
