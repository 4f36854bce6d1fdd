#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and runs Vigil on this machine's own network: vigild,
# and in front of it the live view (`vigilctl top`; the GTK app where it is built and a
# display is there). Quitting the view (q or Ctrl-C) stops vigild, which removes its
# nftables table. Extra arguments go to vigild (e.g. --mode monitor).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${VIGIL_BUILDDIR:-_build/run}
rundir=${VIGIL_RUNDIR:-/run/vigil-dev}

if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: vigild filters this machine's connections and needs root: run it as root" >&2
    exit 1
fi

sh tools/install-deps.sh
if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" -Dbuildtype=debugoptimized -Dtests=false
fi
meson compile -C "$builddir"
vigild="$builddir/src/daemon/vigild"
vigilctl="$builddir/src/cli/vigilctl"
mkdir -p "$rundir"

# the system bus: use the machine's (with our bus policy and polkit actions installed), or,
# where none answers (containers, machines without systemd), start one for this session
bus_pid=
if dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetId >/dev/null 2>&1; then
    if [ ! -f /etc/dbus-1/system.d/io.github.vigilfw.Daemon1.conf ] &&
       [ ! -f /usr/share/dbus-1/system.d/io.github.vigilfw.Daemon1.conf ]; then
        install -Dm644 data/dbus/io.github.vigilfw.Daemon1.conf \
            /etc/dbus-1/system.d/io.github.vigilfw.Daemon1.conf
        dbus-send --system --type=method_call --dest=org.freedesktop.DBus / \
            org.freedesktop.DBus.ReloadConfig
    fi
    if [ -d /usr/share/polkit-1/actions ] && [ -f "$builddir/data/io.github.vigilfw.policy" ]; then
        install -m644 "$builddir/data/io.github.vigilfw.policy" /usr/share/polkit-1/actions/
    fi
else
    sed "s|@RUNDIR@|$rundir|" tools/run-bus.conf.in > "$rundir/bus.conf"
    mkdir -p "$rundir/system.d"
    cp data/dbus/io.github.vigilfw.Daemon1.conf "$rundir/system.d/"
    dbus-daemon --config-file="$rundir/bus.conf" --fork --print-pid=1 > "$rundir/bus.pid"
    bus_pid=$(cat "$rundir/bus.pid")
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$rundir/system_bus_socket"
    export DBUS_SYSTEM_BUS_ADDRESS
    echo "run.sh: no system bus answered; started one for this session at $DBUS_SYSTEM_BUS_ADDRESS"
fi

# a trial run contacts no third party unasked: the connectivity probes (DNS, then HTTP and
# HTTPS to the check endpoint of vigild.conf) only with VIGIL_PROBES=1; an installed vigild
# probes as its vigild.conf says
probes=--no-probes
if [ "${VIGIL_PROBES:-0}" = 1 ]; then
    probes=
else
    echo "run.sh: connectivity probes are off; VIGIL_PROBES=1 turns them on"
fi
echo "run.sh: starting vigild (fail-open: if it stops, connections pass unfiltered)"
# shellcheck disable=SC2086
"$vigild" -v $probes "$@" 2> "$rundir/vigild.log" &
vigild_pid=$!
cleanup() {
    trap - EXIT INT TERM
    kill "$vigild_pid" 2>/dev/null && wait "$vigild_pid" 2>/dev/null || true
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
    echo "run.sh: vigild stopped; its log is $rundir/vigild.log"
}
trap cleanup EXIT INT TERM

# wait for the daemon on the bus before showing anything
for _ in $(seq 100); do
    "$vigilctl" status >/dev/null 2>&1 && break
    kill -0 "$vigild_pid" 2>/dev/null || { cat "$rundir/vigild.log" >&2; exit 1; }
    sleep 0.1
done

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$builddir/src/gui/vigil" ]; then
    "$builddir/src/gui/vigil"
elif [ -t 1 ]; then
    echo "run.sh: no display: the terminal live view follows (q quits)"
    sleep 1
    "$vigilctl" top
else
    "$vigilctl" status
    echo "run.sh: every verdict follows as one JSON line (Ctrl-C stops)"
    "$vigilctl" events --follow --json
fi
