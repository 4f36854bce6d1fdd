#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds with warnings as errors and runs every test suite
# (unit, dbus, netns, gui, lint). Ends with one line "N passed, N failed" and fails when
# any test failed or any required suite was skipped.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${VIGIL_BUILDDIR:-_build/test}

sh tools/install-deps.sh

if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" --werror -Dtests=true -Ddaemon=enabled -Dgui=enabled
else
    meson configure "$builddir" --werror >/dev/null
fi
meson compile -C "$builddir"

rc=0
meson test -C "$builddir" --print-errorlogs --num-processes "${VIGIL_TEST_JOBS:-2}" "$@" || rc=$?

# every suite that exists is required; dbus and gui join this list as they land
/usr/bin/python3 tools/test-summary.py "$builddir/meson-logs/testlog.json" unit dbus netns lint || rc=1
exit $rc
