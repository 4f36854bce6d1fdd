/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilConfig"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-error.h"
#include "vigil-names.h"

#define CONFIG_GROUP	   "daemon"
#define CONNECTIVITY_GROUP "connectivity"
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
				    "BusyPoll",
				    "ConnectHook",
				    NULL};
static const gchar *network_keys[] = {"PreferredInterfaces", "MeteredInterfaces", NULL};

static const gchar *connectivity_keys[] = {"Enabled",
					   "HttpUrl",
					   "HttpStatus",
					   "HttpBody",
					   "HttpsUrl",
					   "CaFile",
					   "Timeout",
					   "FallbackAddresses",
					   "ResolvConf",
					   "LeaseDirectory",
					   NULL};

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
	self->busy_poll_us = VIGIL_CONFIG_BUSY_POLL_DEFAULT;
	self->connect_hook = TRUE;
	self->connectivity_enabled = TRUE;
	self->http_url = g_strdup(VIGIL_CONFIG_HTTP_URL);
	self->http_status = 200;
	self->http_body = g_strdup(VIGIL_CONFIG_HTTP_BODY);
	self->https_url = g_strdup(VIGIL_CONFIG_HTTPS_URL);
	self->probe_timeout = 5;
	self->lease_dir = g_strdup(VIGIL_CONFIG_LEASE_DIR);
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
	g_free(self->http_url);
	g_free(self->http_body);
	g_free(self->https_url);
	g_free(self->ca_file);
	g_free(self->fallback4);
	g_free(self->fallback6);
	g_free(self->resolv_conf);
	g_free(self->lease_dir);
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
		const gchar *group,
		const gchar *key,
		guint64 max,
		guint64 *value,
		gboolean *found,
		GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
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
			    "key %s%s: %s",
			    key,
			    g_str_equal(group, CONFIG_GROUP) ? "" : " in [" CONNECTIVITY_GROUP "]",
			    error_local->message);
		return FALSE;
	}
	*found = TRUE;
	return TRUE;
}

static gboolean
config_get_boolean(GKeyFile *kf,
		   const gchar *group,
		   const gchar *key,
		   gboolean *value,
		   GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gboolean tmp;

	if (!g_key_file_has_key(kf, group, key, NULL))
		return TRUE;
	tmp = g_key_file_get_boolean(kf, group, key, &error_local);
	if (error_local != NULL) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s%s: expected true or false",
			    key,
			    g_str_equal(group, CONFIG_GROUP) ? "" : " in [" CONNECTIVITY_GROUP "]");
		return FALSE;
	}
	*value = tmp;
	return TRUE;
}

static gboolean
config_get_path(GKeyFile *kf, const gchar *group, const gchar *key, gchar **value, GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
	if (str == NULL)
		return TRUE;
	g_strstrip(str);
	if (!g_path_is_absolute(str)) {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s%s: '%s' is not an absolute path",
			    key,
			    g_str_equal(group, CONFIG_GROUP) ? "" : " in [" CONNECTIVITY_GROUP "]",
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
config_get_url(GKeyFile *kf, const gchar *key, gboolean https, gchar **value, GError **error)
{
	g_autofree gchar *str = g_key_file_get_string(kf, CONNECTIVITY_GROUP, key, NULL);
	g_autoptr(GUri) uri = NULL;

	if (str == NULL)
		return TRUE;
	g_strstrip(str);
	/* an empty HttpsUrl switches the HTTPS probe off */
	if (str[0] == '\0' && https) {
		g_free(*value);
		*value = g_steal_pointer(&str);
		return TRUE;
	}
	uri = g_uri_parse(str, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), https ? "https" : "http") != 0 ||
	    g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		g_set_error(error,
			    VIGIL_ERROR,
			    VIGIL_ERROR_INVALID_FILE,
			    "key %s in [" CONNECTIVITY_GROUP
			    "]: '%s' is not an %s:// URL with a host",
			    key,
			    str,
			    https ? "https" : "http");
		return FALSE;
	}
	g_free(*value);
	*value = g_steal_pointer(&str);
	return TRUE;
}

static gboolean
config_parse_fallback(VigilConfig *self, GKeyFile *kf, GError **error)
{
	g_auto(GStrv) list = NULL;

	if (!g_key_file_has_key(kf, CONNECTIVITY_GROUP, "FallbackAddresses", NULL))
		return TRUE;
	list = g_key_file_get_string_list(kf, CONNECTIVITY_GROUP, "FallbackAddresses", NULL, NULL);
	g_clear_pointer(&self->fallback4, g_free);
	g_clear_pointer(&self->fallback6, g_free);
	for (guint i = 0; list != NULL && list[i] != NULL; i++) {
		g_autoptr(GInetAddress) address = NULL;
		gchar **slot;

		g_strstrip(list[i]);
		if (list[i][0] == '\0')
			continue;
		address = g_inet_address_new_from_string(list[i]);
		if (address == NULL) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "key FallbackAddresses in [" CONNECTIVITY_GROUP
				    "]: '%s' is not an IP address",
				    list[i]);
			return FALSE;
		}
		slot = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4
			   ? &self->fallback4
			   : &self->fallback6;
		if (*slot != NULL) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "key FallbackAddresses in [" CONNECTIVITY_GROUP
				    "]: more than one address of the family of '%s'",
				    list[i]);
			return FALSE;
		}
		*slot = g_inet_address_to_string(address);
	}
	return TRUE;
}

static gboolean
config_parse_connectivity(VigilConfig *self, GKeyFile *kf, GError **error)
{
	guint64 value = 0;
	gboolean found = FALSE;

	if (!config_get_boolean(kf,
				CONNECTIVITY_GROUP,
				"Enabled",
				&self->connectivity_enabled,
				error))
		return FALSE;
	if (!config_get_url(kf, "HttpUrl", FALSE, &self->http_url, error))
		return FALSE;
	if (!config_get_url(kf, "HttpsUrl", TRUE, &self->https_url, error))
		return FALSE;
	if (!config_get_uint(kf, CONNECTIVITY_GROUP, "HttpStatus", 599, &value, &found, error))
		return FALSE;
	if (found) {
		if (value < 200) {
			g_set_error(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "key HttpStatus in [" CONNECTIVITY_GROUP
				    "]: %u is not a final HTTP status (200-599)",
				    (guint)value);
			return FALSE;
		}
		self->http_status = value;
	}
	if (g_key_file_has_key(kf, CONNECTIVITY_GROUP, "HttpBody", NULL)) {
		g_free(self->http_body);
		self->http_body = g_key_file_get_string(kf, CONNECTIVITY_GROUP, "HttpBody", NULL);
		if (self->http_body == NULL)
			self->http_body = g_strdup("");
	}
	if (!config_get_uint(kf,
			     CONNECTIVITY_GROUP,
			     "Timeout",
			     VIGIL_CONFIG_PROBE_TIMEOUT_MAX,
			     &value,
			     &found,
			     error))
		return FALSE;
	if (found) {
		if (value == 0) {
			g_set_error_literal(error,
					    VIGIL_ERROR,
					    VIGIL_ERROR_INVALID_FILE,
					    "key Timeout in [" CONNECTIVITY_GROUP
					    "]: must be at least 1 second");
			return FALSE;
		}
		self->probe_timeout = value;
	}
	if (!config_get_path(kf, CONNECTIVITY_GROUP, "CaFile", &self->ca_file, error))
		return FALSE;
	if (!config_get_path(kf, CONNECTIVITY_GROUP, "ResolvConf", &self->resolv_conf, error))
		return FALSE;
	if (!config_get_path(kf, CONNECTIVITY_GROUP, "LeaseDirectory", &self->lease_dir, error))
		return FALSE;
	return config_parse_fallback(self, kf, error);
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
		if (!g_str_equal(groups[i], CONFIG_GROUP) &&
		    !g_str_equal(groups[i], CONNECTIVITY_GROUP) &&
		    !g_str_equal(groups[i], NETWORK_GROUP))
			g_warning("ignoring unknown group [%s]", groups[i]);
	}
	keys = g_key_file_get_keys(kf, CONFIG_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(known_keys, keys[i]))
			g_warning("ignoring unknown key %s", keys[i]);
	}
	g_strfreev(keys);
	keys = g_key_file_get_keys(kf, CONNECTIVITY_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(connectivity_keys, keys[i]))
			g_warning("ignoring unknown key %s in [connectivity]", keys[i]);
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
			     CONFIG_GROUP,
			     "PromptTimeout",
			     VIGIL_CONFIG_PROMPT_TIMEOUT_MAX,
			     &value,
			     &found,
			     error))
		return FALSE;
	if (found)
		self->prompt_timeout = MAX(value, VIGIL_CONFIG_PROMPT_TIMEOUT_MIN);
	if (!config_get_uint(kf, CONFIG_GROUP, "QueueNum", G_MAXUINT16, &value, &found, error))
		return FALSE;
	if (found)
		self->queue_num = value;
	if (!config_get_uint(kf, CONFIG_GROUP, "OwnMark", G_MAXUINT32, &value, &found, error))
		return FALSE;
	if (found)
		self->own_mark = value;
	if (!config_get_uint(kf, CONFIG_GROUP, "RejectMark", G_MAXUINT32, &value, &found, error))
		return FALSE;
	if (found)
		self->reject_mark = value;
	if (!config_get_uint(kf, CONFIG_GROUP, "RecentEvents", 1000000, &value, &found, error))
		return FALSE;
	if (found)
		self->recent_events = value;
	if (!config_get_uint(kf,
			     CONFIG_GROUP,
			     "BusyPoll",
			     VIGIL_CONFIG_BUSY_POLL_MAX,
			     &value,
			     &found,
			     error))
		return FALSE;
	if (found)
		self->busy_poll_us = value;
	if (!config_get_boolean(kf, CONFIG_GROUP, "ConnectHook", &self->connect_hook, error))
		return FALSE;
	if (!config_get_boolean(kf, CONFIG_GROUP, "FailOpen", &self->fail_open, error))
		return FALSE;
	if (!config_get_boolean(kf, CONFIG_GROUP, "Inbound", &self->inbound, error))
		return FALSE;
	if (!config_get_boolean(kf,
				CONFIG_GROUP,
				"InterceptLoopback",
				&self->intercept_loopback,
				error))
		return FALSE;
	if (!config_get_boolean(kf, CONFIG_GROUP, "LogVerdicts", &self->log_verdicts, error))
		return FALSE;
	if (!config_get_path(kf, CONFIG_GROUP, "StateDirectory", &self->state_dir, error))
		return FALSE;
	if (!config_get_path(kf, CONFIG_GROUP, "DropInDirectory", &self->dropin_dir, error))
		return FALSE;
	if (self->own_mark == 0 || self->reject_mark == 0 || self->own_mark == self->reject_mark) {
		g_set_error_literal(error,
				    VIGIL_ERROR,
				    VIGIL_ERROR_INVALID_FILE,
				    "OwnMark and RejectMark must be non-zero and differ");
		return FALSE;
	}
	return config_parse_connectivity(self, kf, error);
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
