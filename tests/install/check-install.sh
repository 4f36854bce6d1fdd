#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# meson install into a staging directory: every file where distributions expect it, and
# each one passes its validator. Usage: check-install.sh BUILDDIR PREFIX
set -eu

build=$1
prefix=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail=0

meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null

expect() {
    if [ -f "$stage$1" ]; then
        echo "ok: $1"
    else
        echo "missing: $1"
        fail=1
    fi
}

expect "$prefix/libexec/vigild"
expect "$prefix/bin/vigilctl"
expect "$prefix/share/dbus-1/system.d/io.github.vigilfw.Daemon1.conf"
expect "$prefix/share/dbus-1/system-services/io.github.vigilfw.Daemon1.service"
expect "$prefix/share/dbus-1/interfaces/io.github.vigilfw.Daemon1.xml"
expect "$prefix/share/dbus-1/interfaces/io.github.vigilfw.Agent1.xml"
expect "$prefix/share/polkit-1/actions/io.github.vigilfw.policy"
expect "$prefix/etc/vigil/vigild.conf"
expect "$prefix/lib/systemd/system/vigild.service"
[ "$fail" -eq 0 ] || exit 1

# the validators
xmllint --noout "$stage$prefix/share/dbus-1/system.d/io.github.vigilfw.Daemon1.conf"
xmllint --noout "$stage$prefix/share/polkit-1/actions/io.github.vigilfw.policy"
xmllint --noout "$stage$prefix"/share/dbus-1/interfaces/*.xml
grep -q '^Exec=/bin/false$' "$stage$prefix/share/dbus-1/system-services/io.github.vigilfw.Daemon1.service"
grep -q '^SystemdService=vigild.service$' "$stage$prefix/share/dbus-1/system-services/io.github.vigilfw.Daemon1.service"
unit="$stage$prefix/lib/systemd/system/vigild.service"
grep -q "^ExecStart=$prefix/libexec/vigild$" "$unit"
# systemd-analyze checks that the binary exists: point it at the staged one
sed "s|^ExecStart=|ExecStart=$stage|" "$unit" > "$stage/vigild.service"
systemd-analyze verify --man=no --recursive-errors=no "$stage/vigild.service"
"$stage$prefix/libexec/vigild" --version
echo "install ok"
