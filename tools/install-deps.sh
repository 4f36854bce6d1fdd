#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs, with apt-get, the Debian 12 packages Vigil needs to build, run and test.
# Only what is missing is installed; nothing is fetched from anywhere else.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc libc6-dev
libglib2.0-dev libglib2.0-dev-bin libjson-glib-dev
libnftnl-dev libmnl-dev libpcap-dev libpolkit-gobject-1-dev
libgtk-4-dev libadwaita-1-dev
nftables iproute2 iptables dbus procps psmisc systemd
python3-dbusmock python3-gi gir1.2-glib-2.0 glib-networking
xvfb xauth
gettext desktop-file-utils appstream libxml2-utils
clang-format codespell
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root (or with sudo) to install them" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
