/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_ERROR (vigil_error_quark())

/**
 * VigilError:
 * @VIGIL_ERROR_FAILED: generic failure
 * @VIGIL_ERROR_NOT_AUTHORIZED: the caller may not do this (polkit said no)
 * @VIGIL_ERROR_INVALID_RULE: a rule is malformed or contradictory
 * @VIGIL_ERROR_NOT_FOUND: no such rule, connection, interface or agent
 * @VIGIL_ERROR_READ_ONLY: the object is managed (a drop-in) and cannot be changed
 * @VIGIL_ERROR_INVALID_FILE: a file could not be parsed
 * @VIGIL_ERROR_NOT_SUPPORTED: the kernel or the system lacks a feature
 * @VIGIL_ERROR_EXISTS: an object with this id already exists
 * @VIGIL_ERROR_BROKEN_FILE: the file on disk had errors; saving would lose data
 * @VIGIL_ERROR_TIMED_OUT: no answer in time
 * @VIGIL_ERROR_INVALID_ARGUMENT: an argument is out of range or malformed
 * @VIGIL_ERROR_BUSY: too many requests at once
 *
 * The one error domain of Vigil. It is registered with D-Bus as
 * `io.github.vigilfw.Error.*`, so clients receive these codes, not strings.
 */
typedef enum {
	VIGIL_ERROR_FAILED,
	VIGIL_ERROR_NOT_AUTHORIZED,
	VIGIL_ERROR_INVALID_RULE,
	VIGIL_ERROR_NOT_FOUND,
	VIGIL_ERROR_READ_ONLY,
	VIGIL_ERROR_INVALID_FILE,
	VIGIL_ERROR_NOT_SUPPORTED,
	VIGIL_ERROR_EXISTS,
	VIGIL_ERROR_BROKEN_FILE,
	VIGIL_ERROR_TIMED_OUT,
	VIGIL_ERROR_INVALID_ARGUMENT,
	VIGIL_ERROR_BUSY,
	VIGIL_ERROR_LAST
} VigilError;

GQuark
vigil_error_quark(void);
const gchar *
vigil_error_to_string(VigilError error);
void
vigil_error_convert(GError **perror);
gboolean
vigil_error_set_errno(GError **error, gint errsv, const gchar *what);
gboolean
vigil_error_set_errno_code(GError **error, gint errsv, VigilError code, const gchar *what);

G_END_DECLS
