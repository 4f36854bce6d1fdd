/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilError"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>

#include "vigil-error.h"

static const GDBusErrorEntry error_entries[] = {
    {VIGIL_ERROR_FAILED, "io.github.vigilfw.Error.Failed"},
    {VIGIL_ERROR_NOT_AUTHORIZED, "io.github.vigilfw.Error.NotAuthorized"},
    {VIGIL_ERROR_INVALID_RULE, "io.github.vigilfw.Error.InvalidRule"},
    {VIGIL_ERROR_NOT_FOUND, "io.github.vigilfw.Error.NotFound"},
    {VIGIL_ERROR_READ_ONLY, "io.github.vigilfw.Error.ReadOnly"},
    {VIGIL_ERROR_INVALID_FILE, "io.github.vigilfw.Error.InvalidFile"},
    {VIGIL_ERROR_NOT_SUPPORTED, "io.github.vigilfw.Error.NotSupported"},
    {VIGIL_ERROR_EXISTS, "io.github.vigilfw.Error.Exists"},
    {VIGIL_ERROR_BROKEN_FILE, "io.github.vigilfw.Error.BrokenFile"},
    {VIGIL_ERROR_TIMED_OUT, "io.github.vigilfw.Error.TimedOut"},
    {VIGIL_ERROR_INVALID_ARGUMENT, "io.github.vigilfw.Error.InvalidArgument"},
    {VIGIL_ERROR_BUSY, "io.github.vigilfw.Error.Busy"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(error_entries) == VIGIL_ERROR_LAST);

GQuark
vigil_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("vigil-error-quark",
					   &quark,
					   error_entries,
					   G_N_ELEMENTS(error_entries));
	return (GQuark)quark;
}

/**
 * vigil_error_to_string:
 * @error: a #VigilError
 *
 * Returns: the D-Bus error name of @error, or %NULL if out of range
 */
const gchar *
vigil_error_to_string(VigilError error)
{
	if ((guint)error >= VIGIL_ERROR_LAST)
		return NULL;
	return error_entries[error].dbus_error_name;
}

/**
 * vigil_error_convert:
 * @perror: (inout) (nullable): a #GError
 *
 * Turns a foreign error (G_IO_ERROR, G_FILE_ERROR, G_DBUS_ERROR, json-glib) into the
 * closest #VigilError, keeping the message, so it can cross the D-Bus boundary.
 */
void
vigil_error_convert(GError **perror)
{
	GError *error = (perror != NULL) ? *perror : NULL;

	if (error == NULL || error->domain == VIGIL_ERROR)
		return;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
	    g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		error->code = VIGIL_ERROR_NOT_FOUND;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ||
		   g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ||
		   g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_PERM) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)) {
		error->code = VIGIL_ERROR_NOT_AUTHORIZED;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)) {
		error->code = VIGIL_ERROR_NOT_SUPPORTED;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS) ||
		   g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_EXIST)) {
		error->code = VIGIL_ERROR_EXISTS;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)) {
		error->code = VIGIL_ERROR_TIMED_OUT;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ||
		   g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS)) {
		error->code = VIGIL_ERROR_INVALID_ARGUMENT;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)) {
		error->code = VIGIL_ERROR_BUSY;
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
		   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
		   g_str_equal(g_quark_to_string(error->domain), "json-parser-error-quark")) {
		error->code = VIGIL_ERROR_INVALID_FILE;
	} else {
		error->code = VIGIL_ERROR_FAILED;
	}
	error->domain = VIGIL_ERROR;
}

/**
 * vigil_error_set_errno:
 * @error: a #GError, or %NULL
 * @errsv: an errno value
 * @what: what failed
 *
 * Sets a %G_IO_ERROR for @errsv: "@what: <strerror>".
 *
 * Returns: %FALSE, for `return vigil_error_set_errno(...)`
 */
gboolean
vigil_error_set_errno(GError **error, gint errsv, const gchar *what)
{
	g_set_error(error,
		    G_IO_ERROR,
		    g_io_error_from_errno(errsv),
		    "%s: %s",
		    what,
		    g_strerror(errsv));
	return FALSE;
}

/**
 * vigil_error_set_errno_code:
 * @error: a #GError, or %NULL
 * @errsv: an errno value
 * @code: the #VigilError for anything but a refusal
 * @what: what failed
 *
 * Sets a %VIGIL_ERROR for @errsv: %VIGIL_ERROR_NOT_AUTHORIZED for EPERM and EACCES, @code
 * otherwise; "@what: <strerror>".
 *
 * Returns: %FALSE
 */
gboolean
vigil_error_set_errno_code(GError **error, gint errsv, VigilError code, const gchar *what)
{
	g_set_error(error,
		    VIGIL_ERROR,
		    errsv == EPERM || errsv == EACCES ? VIGIL_ERROR_NOT_AUTHORIZED : code,
		    "%s: %s",
		    what,
		    g_strerror(errsv));
	return FALSE;
}
