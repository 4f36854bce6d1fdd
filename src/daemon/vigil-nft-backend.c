/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilNftBackend"

#include "config.h"

#include "vigil-error.h"
#include "vigil-nft-backend.h"

typedef struct {
	VigilNftQueueKind queue_kind;
	VigilNftQueueKind queue_kind_in_use;
} VigilNftBackendPrivate;

G_DEFINE_TYPE_WITH_PRIVATE(VigilNftBackend, vigil_nft_backend, G_TYPE_OBJECT)

#define GET_PRIVATE(o) (vigil_nft_backend_get_instance_private(o))

enum { PROP_0, PROP_QUEUE_KIND, PROP_QUEUE_KIND_IN_USE, N_PROPS };

static GParamSpec *properties[N_PROPS];

static const GEnumValue queue_kind_values[] = {
    {VIGIL_NFT_QUEUE_KIND_AUTO, "VIGIL_NFT_QUEUE_KIND_AUTO", "auto"},
    {VIGIL_NFT_QUEUE_KIND_NATIVE, "VIGIL_NFT_QUEUE_KIND_NATIVE", "native"},
    {VIGIL_NFT_QUEUE_KIND_COMPAT, "VIGIL_NFT_QUEUE_KIND_COMPAT", "compat"},
    {0, NULL, NULL},
};

G_STATIC_ASSERT(G_N_ELEMENTS(queue_kind_values) == VIGIL_NFT_QUEUE_KIND_LAST + 1);

GType
vigil_nft_queue_kind_get_type(void)
{
	static gsize type_id = 0;

	if (g_once_init_enter(&type_id)) {
		GType type = g_enum_register_static("VigilNftQueueKind", queue_kind_values);
		g_once_init_leave(&type_id, type);
	}
	return (GType)type_id;
}

const gchar *
vigil_nft_queue_kind_to_string(VigilNftQueueKind kind)
{
	if ((guint)kind >= VIGIL_NFT_QUEUE_KIND_LAST)
		return NULL;
	return queue_kind_values[kind].value_nick;
}

/* returns VIGIL_NFT_QUEUE_KIND_LAST when @str is not auto, native or compat */
VigilNftQueueKind
vigil_nft_queue_kind_from_string(const gchar *str)
{
	if (str == NULL)
		return VIGIL_NFT_QUEUE_KIND_LAST;
	for (guint i = 0; i < VIGIL_NFT_QUEUE_KIND_LAST; i++) {
		if (g_str_equal(queue_kind_values[i].value_nick, str))
			return (VigilNftQueueKind)i;
	}
	return VIGIL_NFT_QUEUE_KIND_LAST;
}

gboolean
vigil_nft_backend_apply(VigilNftBackend *self, const VigilNftPlan *plan, GError **error)
{
	VigilNftBackendClass *klass = NULL;

	g_return_val_if_fail(VIGIL_IS_NFT_BACKEND(self), FALSE);
	g_return_val_if_fail(plan != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	klass = VIGIL_NFT_BACKEND_GET_CLASS(self);
	if (klass->apply == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "this nftables backend cannot apply a table");
		return FALSE;
	}
	if (!klass->apply(self, plan, error)) {
		g_prefix_error_literal(error, "failed to apply nftables table: ");
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_nft_backend_remove(VigilNftBackend *self, GError **error)
{
	VigilNftBackendClass *klass = NULL;

	g_return_val_if_fail(VIGIL_IS_NFT_BACKEND(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	klass = VIGIL_NFT_BACKEND_GET_CLASS(self);
	if (klass->remove == NULL) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_NOT_SUPPORTED,
				    "this nftables backend cannot remove a table");
		return FALSE;
	}
	if (!klass->remove(self, error)) {
		g_prefix_error_literal(error, "failed to remove nftables table: ");
		return FALSE;
	}
	return TRUE;
}

/* what was asked for at construction: auto, native or compat */
VigilNftQueueKind
vigil_nft_backend_get_queue_kind(VigilNftBackend *self)
{
	VigilNftBackendPrivate *priv = NULL;

	g_return_val_if_fail(VIGIL_IS_NFT_BACKEND(self), VIGIL_NFT_QUEUE_KIND_AUTO);
	priv = GET_PRIVATE(self);
	return priv->queue_kind;
}

/* what the applied table uses: native or compat; auto until a table with a queue rule was
 * applied */
VigilNftQueueKind
vigil_nft_backend_get_queue_kind_in_use(VigilNftBackend *self)
{
	VigilNftBackendPrivate *priv = NULL;

	g_return_val_if_fail(VIGIL_IS_NFT_BACKEND(self), VIGIL_NFT_QUEUE_KIND_AUTO);
	priv = GET_PRIVATE(self);
	return priv->queue_kind_in_use;
}

void
vigil_nft_backend_set_queue_kind_in_use(VigilNftBackend *self, VigilNftQueueKind kind)
{
	VigilNftBackendPrivate *priv = NULL;

	g_return_if_fail(VIGIL_IS_NFT_BACKEND(self));
	g_return_if_fail(kind < VIGIL_NFT_QUEUE_KIND_LAST);

	priv = GET_PRIVATE(self);
	if (priv->queue_kind_in_use == kind)
		return;
	priv->queue_kind_in_use = kind;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_QUEUE_KIND_IN_USE]);
}

static void
vigil_nft_backend_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VigilNftBackend *self = VIGIL_NFT_BACKEND(object);
	VigilNftBackendPrivate *priv = GET_PRIVATE(self);

	switch (prop_id) {
	case PROP_QUEUE_KIND:
		g_value_set_enum(value, priv->queue_kind);
		break;
	case PROP_QUEUE_KIND_IN_USE:
		g_value_set_enum(value, priv->queue_kind_in_use);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vigil_nft_backend_set_property(GObject *object,
			       guint prop_id,
			       const GValue *value,
			       GParamSpec *pspec)
{
	VigilNftBackend *self = VIGIL_NFT_BACKEND(object);
	VigilNftBackendPrivate *priv = GET_PRIVATE(self);

	switch (prop_id) {
	case PROP_QUEUE_KIND:
		priv->queue_kind = g_value_get_enum(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vigil_nft_backend_class_init(VigilNftBackendClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = vigil_nft_backend_get_property;
	object_class->set_property = vigil_nft_backend_set_property;

	properties[PROP_QUEUE_KIND] =
	    g_param_spec_enum("queue-kind",
			      NULL,
			      NULL,
			      VIGIL_TYPE_NFT_QUEUE_KIND,
			      VIGIL_NFT_QUEUE_KIND_AUTO,
			      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	properties[PROP_QUEUE_KIND_IN_USE] =
	    g_param_spec_enum("queue-kind-in-use",
			      NULL,
			      NULL,
			      VIGIL_TYPE_NFT_QUEUE_KIND,
			      VIGIL_NFT_QUEUE_KIND_AUTO,
			      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
vigil_nft_backend_init(VigilNftBackend *self)
{
}
