/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilConfig"

#include "config.h"

#include <string.h>

#include "vigil-config.h"
#include "vigil-error.h"
#include "vigil-names.h"

#define CONFIG_GROUP	   "daemon"
#define NETWORK_GROUP	   "network"
#define INTERFACE_GLOB_MAX 64

static const gchar *known_keys[] = {"Mode",
				    "DefaultAction",
				    "PromptTimeout",
				    "QueueNum",
				    "FailOpen",
				    "Inbound",
				    "InterceptLoopback",
				    "OwnMark",
				    "RejectMark",
				    "StateDirectory",
				    "DropInDirectory",
				    "LogVerdicts",
				    "RecentEvents",
				    NULL};
static const gchar *network_keys[] = {"PreferredInterfaces", "MeteredInterfaces", NULL};

VigilConfig *
vigil_config_new(void)
{
	VigilConfig *self = g_new0(VigilConfig, 1);
	self->mode = VIGIL_MODE_ASK;
	self->default_action = VIGIL_ACTION_ALLOW;
	self->prompt_timeout = 30;
	self->queue_num = 0;
	self->fail_open = TRUE;
	self->own_mark = 0x00766967;
	self->reject_mark = 0x00766968;
	self->state_dir = g_strdup(VIGIL_STATE_DIR);
	self->dropin_dir = g_strdup(VIGIL_DROPIN_DIR);
	self->log_verdicts = TRUE;
	self->recent_events = 1000;
	self->preferred_interfaces = g_new0(gchar *, 1);
	self->metered_interfaces = g_strsplit("wwan*", ";", -1);
	return self;
}

void
vigil_config_free(VigilConfig *self)
{
	if (self == NULL)
		return;
	g_free(self->state_dir);
	g_free(self->dropin_dir);
	g_strfreev(self->preferred_interfaces);
	g_strfreev(self->metered_interfaces);
	g_free(self);
}

gchar *
vigil_config_get_rules_path(VigilConfig *self)
{
	return g_build_filename(self->state_dir, VIGIL_RULES_FILE_NAME, NULL);
}

static gboolean
config_get_uint(GKeyFile *kf,
		const gchar *key,
		guint64 max,
		guint64 *value,
		gboolean *found,
		GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, CONFIG_GROUP, key, NULL);
	g_autoptr(GError) error_local = NULL;
	gboolean hex;

	*found = FALSE;
	if (str == NULL)
		return TRUE;
	g_strstrip(str);
	hex = g_str_has_prefix(str, "0x") || g_str_has_prefix(str, "0X");
	if (!g_ascii_string_to_unsigned(hex ? str + 2 : str,
					hex ? 16 : 10,
					0,
					max,
					value,
					&error_local)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s: %s",
			    key,
			    error_local->message);
		return FALSE;
	}
	*found = TRUE;
	return TRUE;
}

static gboolean
config_get_boolean(GKeyFile *kf, const gchar *key, gboolean *value, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gboolean tmp;

	if (!g_key_file_has_key(kf, CONFIG_GROUP, key, NULL))
		return TRUE;
	tmp = g_key_file_get_boolean(kf, CONFIG_GROUP, key, &error_local);
	if (error_local != NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s: expected true or false",
			    key);
		return FALSE;
	}
	*value = tmp;
	return TRUE;
}

static gboolean
config_get_path(GKeyFile *kf, const gchar *key, gchar **value, GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, CONFIG_GROUP, key, NULL);
	if (str == NULL)
		return TRUE;
	g_strstrip(str);
	if (!g_path_is_absolute(str)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s: '%s' is not an absolute path",
			    key,
			    str);
		return FALSE;
	}
	g_free(*value);
	*value = g_steal_pointer(&str);
	return TRUE;
}

/* a list of interface names or shell globs (*, ?, [...]) */
static gboolean
config_get_globs(GKeyFile *kf, const gchar *key, gchar ***value, GError **error)
{
	g_auto(GStrv) list = NULL;
	g_autoptr(GPtrArray) globs = g_ptr_array_new_with_free_func(g_free);

	if (!g_key_file_has_key(kf, NETWORK_GROUP, key, NULL))
		return TRUE;
	list = g_key_file_get_string_list(kf, NETWORK_GROUP, key, NULL, NULL);
	for (guint i = 0; list != NULL && list[i] != NULL; i++) {
		const gchar *glob = g_strstrip(list[i]);
		gboolean valid = strlen(glob) <= INTERFACE_GLOB_MAX;

		if (glob[0] == '\0')
			continue;

		for (const gchar *p = glob; valid && *p != '\0'; p++) {
			if (g_ascii_isspace(*p) || *p == '/' || *p == ':' || !g_ascii_isprint(*p))
				valid = FALSE;
		}
		if (!valid) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "key %s: '%s' is not an interface name or glob",
				    key,
				    glob);
			return FALSE;
		}
		g_ptr_array_add(globs, g_strdup(glob));
	}
	g_ptr_array_add(globs, NULL);
	g_strfreev(*value);
	*value = (gchar **)g_ptr_array_free(g_steal_pointer(&globs), FALSE);
	return TRUE;
}

static gboolean
config_parse(VigilConfig *self, GKeyFile *kf, GError **error)
{
	g_autofree gchar *mode = NULL;
	g_autofree gchar *action = NULL;
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;
	guint64 value = 0;
	gboolean found = FALSE;

	/* unknown groups and keys are most likely typos: say so, but keep going */
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		if (!g_str_equal(groups[i], CONFIG_GROUP) && !g_str_equal(groups[i], NETWORK_GROUP))
			g_warning("ignoring unknown group [%s]", groups[i]);
	}
	keys = g_key_file_get_keys(kf, CONFIG_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(known_keys, keys[i]))
			g_warning("ignoring unknown key %s", keys[i]);
	}
	g_strfreev(keys);
	keys = g_key_file_get_keys(kf, NETWORK_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(network_keys, keys[i]))
			g_warning("ignoring unknown key %s in [%s]", keys[i], NETWORK_GROUP);
	}
	if (!config_get_globs(kf, "PreferredInterfaces", &self->preferred_interfaces, error))
		return FALSE;
	if (!config_get_globs(kf, "MeteredInterfaces", &self->metered_interfaces, error))
		return FALSE;

	mode = g_key_file_get_string(kf, CONFIG_GROUP, "Mode", NULL);
	if (mode != NULL) {
		VigilMode tmp = vigil_mode_from_string(g_strstrip(mode));
		if (tmp == VIGIL_MODE_LAST) {
			g_set_error(
			    error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key Mode: '%s' is not one of ask, allow, deny, block-all, monitor",
			    mode);
			return FALSE;
		}
		self->mode = tmp;
	}
	action = g_key_file_get_string(kf, CONFIG_GROUP, "DefaultAction", NULL);
	if (action != NULL) {
		VigilAction tmp = vigil_action_from_string(g_strstrip(action));
		if (tmp == VIGIL_ACTION_LAST || tmp == VIGIL_ACTION_NONE) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "key DefaultAction: '%s' is not one of allow, deny, reject",
				    action);
			return FALSE;
		}
		self->default_action = tmp;
	}
	if (!config_get_uint(kf,
			     "PromptTimeout",
			     VIGIL_CONFIG_PROMPT_TIMEOUT_MAX,
			     &value,
			     &found,
			     error))
		return FALSE;
	if (found)
		self->prompt_timeout = MAX(value, VIGIL_CONFIG_PROMPT_TIMEOUT_MIN);
	if (!config_get_uint(kf, "QueueNum", G_MAXUINT16, &value, &found, error))
		return FALSE;
	if (found)
		self->queue_num = value;
	if (!config_get_uint(kf, "OwnMark", G_MAXUINT32, &value, &found, error))
		return FALSE;
	if (found)
		self->own_mark = value;
	if (!config_get_uint(kf, "RejectMark", G_MAXUINT32, &value, &found, error))
		return FALSE;
	if (found)
		self->reject_mark = value;
	if (!config_get_uint(kf, "RecentEvents", 1000000, &value, &found, error))
		return FALSE;
	if (found)
		self->recent_events = value;
	if (!config_get_boolean(kf, "FailOpen", &self->fail_open, error))
		return FALSE;
	if (!config_get_boolean(kf, "Inbound", &self->inbound, error))
		return FALSE;
	if (!config_get_boolean(kf, "InterceptLoopback", &self->intercept_loopback, error))
		return FALSE;
	if (!config_get_boolean(kf, "LogVerdicts", &self->log_verdicts, error))
		return FALSE;
	if (!config_get_path(kf, "StateDirectory", &self->state_dir, error))
		return FALSE;
	if (!config_get_path(kf, "DropInDirectory", &self->dropin_dir, error))
		return FALSE;
	if (self->own_mark == 0 || self->reject_mark == 0 || self->own_mark == self->reject_mark) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "OwnMark and RejectMark must be non-zero and differ");
		return FALSE;
	}
	return TRUE;
}

/* a missing file means defaults unless the user named it; a broken one is an error */
gboolean
vigil_config_load(VigilConfig *self, const gchar *path, gboolean must_exist, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error_local = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error_local)) {
		if (!must_exist && g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "%s: %s",
			    path,
			    error_local->message);
		return FALSE;
	}
	if (!config_parse(self, kf, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	return TRUE;
}
