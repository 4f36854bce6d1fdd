#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# New-connection latency and rate through vigild against no firewall, in the same run.
#
#   sh bench/bench-connect.sh [BUILDDIR] [ROUNDS] [N]
#
# Each round also runs the floor: bench/nfq-floor.c, a listener that accepts every queued
# packet at once, behind vigild's own table (set up with tests/netns/vigil-nft-tool), to
# show what the queue itself costs on this machine. Each round also runs vigild with
# background load: 1,000 extra processes holding 20,000 sockets (bench/sockhog.c), for the
# attribution figures. At the end, floods of 100,000
# short connections through vigild (FLOODS, 3 by default) show whether its memory stays
# bounded.
#
# BEFORE=path/to/another/vigild adds a run of that build to each round (and one flood), to
# compare two builds in the same go: labelled "before" in the results.
#
# Two namespaces joined by veth (198.18.0.1 client, 198.18.0.2 server), the shared
# yardstick connbench (../shared/bench/connbench.c) as load generator, and rounds that
# alternate: no firewall, then vigild with one rule that allows the load generator's
# traffic (mode deny, so anything else would be refused). Prints every run and the medians.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/_build/bench}
rounds=${2:-5}
n=${3:-5000}
shared=${VIGIL_SHARED:-$top/../shared}
vigild=$builddir/src/daemon/vigild
nfttool=$builddir/tests/netns/vigil-nft-tool
out=$(mktemp -d)
cli=vbench-cli
srv=vbench-srv

[ "$(id -u)" -eq 0 ] || { echo "bench-connect: needs root" >&2; exit 1; }
[ -x "$vigild" ] || { echo "bench-connect: build first: $vigild is missing" >&2; exit 1; }
[ -x "$nfttool" ] || { echo "bench-connect: build with -Dtests=true: $nfttool is missing" >&2; exit 1; }
cc -O2 -o "$out/connbench" "$shared/bench/connbench.c"
cc -O2 -o "$out/sockhog" "$top/bench/sockhog.c"
cc -O2 -o "$out/nfq-floor" "$top/bench/nfq-floor.c" -lmnl

cleanup() {
    [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "${floor_pid:-}" ] && kill "$floor_pid" 2>/dev/null || true
    [ -n "${hog_pid:-}" ] && kill -- "-$hog_pid" 2>/dev/null || true
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
    ip netns del $srv 2>/dev/null || true
}
trap cleanup EXIT INT TERM
cleanup

ip netns add $cli
ip netns add $srv
ip link add veth0 netns $cli type veth peer name veth1 netns $srv
ip -n $cli addr add 198.18.0.1/24 dev veth0
ip -n $srv addr add 198.18.0.2/24 dev veth1
for ns in $cli $srv; do ip -n $ns link set lo up; done
ip -n $cli link set veth0 up
ip -n $srv link set veth1 up
ip netns exec $srv "$out/connbench" serve 7000 &
server_pid=$!
sleep 0.3

mkdir -p "$out/state" "$out/rules.d"
cat > "$out/state/rules.json" <<JSON
{"version": 1, "rules": [
  {"id": "r-00000000bec1", "action": "allow", "protocol": "tcp", "cidr": "198.18.0.2", "port": "7000"},
  {"id": "r-00000000bec2", "action": "allow", "protocol": "udp", "cidr": "198.18.0.2", "port": "7000"}
]}
JSON
cat > "$out/vigild.conf" <<CONF
[connectivity]
Enabled=false
[daemon]
Mode=deny
StateDirectory=$out/state
DropInDirectory=$out/rules.d
LogVerdicts=false
CONF

run() { ip netns exec $cli "$out/connbench" "$1" 198.18.0.2 7000 "${2:-$n}"; }

start_vigild() {
    ip netns exec $cli "${1:-$vigild}" --config "$out/vigild.conf" --no-dbus &
    daemon_pid=$!
    # wait for the table, then for the start-up work that goes on after it (the first
    # conntrack dump reads what earlier runs left in the kernel's table, tens of thousands
    # of entries): until vigild's CPU time stands still for 0.2 s, 5 s at most. The run
    # then measures the firewall, not its start-up.
    for _ in $(seq 100); do
        ip netns exec $cli nft list table inet vigil >/dev/null 2>&1 && break
        sleep 0.05
    done
    last=-1
    still=0
    for _ in $(seq 50); do
        now=$(awk '{print $14 + $15}' "/proc/$daemon_pid/stat" 2>/dev/null || echo gone)
        if [ "$now" = "$last" ]; then
            still=$((still + 1))
            [ $still -ge 2 ] && break
        else
            still=0
        fi
        last=$now
        sleep 0.1
    done
}

stop_vigild() {
    kill "$daemon_pid"
    wait "$daemon_pid" || true
    daemon_pid=
}

start_floor() {
    ip netns exec $cli "$out/nfq-floor" &
    floor_pid=$!
    ip netns exec $cli "$nfttool" apply >/dev/null
}

stop_floor() {
    ip netns exec $cli "$nfttool" remove
    kill "$floor_pid"
    wait "$floor_pid" 2>/dev/null || true
    floor_pid=
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }

for i in $(seq "$rounds"); do
    echo "none $(run tcp)" | tee -a "$out/results"
    echo "none $(run udp)" | tee -a "$out/results"
    start_floor
    echo "floor $(run tcp)" | tee -a "$out/results"
    echo "floor $(run udp)" | tee -a "$out/results"
    stop_floor
    start_vigild
    echo "vigild $(run tcp)" | tee -a "$out/results"
    echo "vigild $(run udp)" | tee -a "$out/results"
    echo "vigild rss_kb=$(rss)" | tee -a "$out/results"
    stop_vigild
    if [ -n "${BEFORE:-}" ]; then
        start_vigild "$BEFORE"
        echo "before $(run tcp)" | tee -a "$out/results"
        echo "before $(run udp)" | tee -a "$out/results"
        stop_vigild
    fi
    ip netns exec $cli "$out/sockhog" 1000 20 > "$out/hog" &
    hog_pid=$!
    while ! grep -q ready "$out/hog" 2>/dev/null; do sleep 0.2; done
    start_vigild
    echo "vigild+load $(run tcp)" | tee -a "$out/results"
    echo "vigild+load $(run udp)" | tee -a "$out/results"
    stop_vigild
    kill -- "-$hog_pid" 2>/dev/null || true
    wait "$hog_pid" 2>/dev/null || true
    hog_pid=
done

# memory under floods: ${FLOODS:-3} floods of 100,000 short connections in a row, RSS
# before and after each; bounded means it stops growing
start_vigild
line="vigild floods rss_kb: before=$(rss)"
for i in $(seq "${FLOODS:-3}"); do
    echo "flood $i $(run tcp 100000)"
    line="$line after_$i=$(rss)"
done
echo "$line" | tee "$out/flood"
stop_vigild
if [ -n "${BEFORE:-}" ]; then
    start_vigild "$BEFORE"
    line="before flood rss_kb: before=$(rss)"
    echo "before flood $(run tcp 100000)"
    echo "$line after=$(rss)" | tee -a "$out/flood"
    stop_vigild
fi

/usr/bin/python3 - "$out/results" <<'PY'
import re, statistics, sys
runs = {}
rss = []
for line in open(sys.argv[1]):
    f = line.split()
    if f[1].startswith('rss_kb='):
        rss.append(int(f[1].split('=')[1]))
        continue
    kv = dict(x.split('=') for x in f[2:])
    runs.setdefault((f[0], f[1]), []).append((float(kv['p50_us']), float(kv['rate_per_s']), int(kv['fail'])))
print()
print('| setup | proto | p50 us (median of rounds) | rate /s (median) | failures |')
print('|---|---|---|---|---|')
med = {}
for (setup, proto), v in sorted(runs.items()):
    p50 = statistics.median(x[0] for x in v)
    rate = statistics.median(x[1] for x in v)
    med[(setup, proto)] = (p50, rate)
    print(f'| {setup} | {proto} | {p50:.1f} | {rate:.0f} | {sum(x[2] for x in v)} |')
for proto in ('tcp', 'udp'):
    for setup in ('floor', 'vigild', 'before'):
        if ('none', proto) in med and (setup, proto) in med:
            r = med[(setup, proto)][0] / med[('none', proto)][0]
            print(f'{proto}: {setup} p50 is {r:.2f}x the no-firewall p50')
    if ('floor', proto) in med and ('vigild', proto) in med:
        d = med[('vigild', proto)][0] - med[('floor', proto)][0]
        print(f'{proto}: vigild adds {d:.1f} us to the floor p50')
    if ('none', proto) in runs:
        # per-round ratios, for the spread
        for setup in ('floor', 'vigild', 'before'):
            if (setup, proto) in runs:
                r = sorted(a[0] / b[0] for a, b in zip(runs[(setup, proto)], runs[('none', proto)]))
                print(f'{proto}: {setup} per-round p50 ratios {" ".join(f"{x:.2f}" for x in r)}')
    if ('before', proto) in runs and ('vigild', proto) in runs:
        d = sorted(a[0] - b[0] for a, b in zip(runs[('vigild', proto)], runs[('before', proto)]))
        print(f'{proto}: vigild minus before, per round: {" ".join(f"{x:+.1f}" for x in d)} us')
    if ('vigild', proto) in med and ('vigild+load', proto) in med:
        r = med[('vigild+load', proto)][0] / med[('vigild', proto)][0]
        print(f'{proto}: with 1,000 processes holding 20,000 sockets, p50 is {r:.2f}x the unloaded vigild p50')
if rss:
    print(f'vigild RSS after the runs: median {statistics.median(rss)} kB')
PY
cat "$out/flood"
