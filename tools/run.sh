#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and runs Vigil on this machine's own network: vigild in
# the foreground, showing every verdict as it happens. Ctrl-C stops it; the nftables table
# goes away with it. Extra arguments go to vigild (e.g. --mode monitor).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${VIGIL_BUILDDIR:-_build/run}

if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: vigild filters this machine's connections and needs root: run it as root" >&2
    exit 1
fi

sh tools/install-deps.sh
if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" -Dbuildtype=debugoptimized -Dtests=false
fi
meson compile -C "$builddir"

echo "run.sh: starting vigild (fail-open: if it stops, connections pass unfiltered)"
echo "run.sh: every new connection is shown below; Ctrl-C stops vigild and removes its table"
exec "$builddir/src/daemon/vigild" -v "$@"
