#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The network monitor of the real vigild (suite netns): the Interfaces property and
InterfacesChanged on a private bus, with vigild in a namespace that has two veth uplinks
(metrics 100 and 200) to a peer namespace, a spare link without a route, and real
traffic."""

import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'enforce'))

from vigiltest import (NETPEER, PORT, PYTHON, Daemon, load_test_dbus,  # noqa: E402
                       require_root, run_main, sh)

_dbus, IMPORT_ERROR = load_test_dbus()
if IMPORT_ERROR is None:
    from gi.repository import Gio, GLib

BUILD_ROOT = os.environ.get('VIGIL_BUILD_ROOT', '')
VIGILCTL = os.environ.get('VIGILCTL', os.path.join(BUILD_ROOT, 'src', 'cli', 'vigilctl'))
NAME = 'io.github.vigilfw.Daemon1'
OBJ = '/io/github/vigilfw/Daemon1'
PEER1, PEER2 = '198.18.1.2', '198.18.2.2'


class Uplinks:
    """vigild's namespace with uplinks up1 (metric 100, both families) and up2 (metric
    200, IPv4 only) to one peer namespace, spare0 with an address but no route (a veth
pair: the kernel may lack the dummy module), a bridge and a tun device."""

    def __init__(self):
        n = f'{os.getpid() % 100000}'
        self.cli = f'vgn-c{n}'
        self.peer = f'vgn-p{n}'
        self.procs = []

    def ip(self, *args, ns=None):
        return sh('ip', '-n', ns or self.cli, *args)

    def up(self):
        sh('ip', 'netns', 'add', self.cli)
        sh('ip', 'netns', 'add', self.peer)
        for i in (1, 2):
            sh('ip', 'link', 'add', f'up{i}', 'netns', self.cli, 'type', 'veth', 'peer',
               'name', f'p{i}', 'netns', self.peer)
            self.ip('addr', 'add', f'198.18.{i}.1/24', 'dev', f'up{i}')
            self.ip('addr', 'add', f'198.18.{i}.2/24', 'dev', f'p{i}', ns=self.peer)
            self.ip('link', 'set', f'up{i}', 'up')
            self.ip('link', 'set', f'p{i}', 'up', ns=self.peer)
        self.ip('addr', 'add', 'fd00:1::1/64', 'dev', 'up1', 'nodad')
        self.ip('addr', 'add', 'fd00:1::2/64', 'dev', 'p1', 'nodad', ns=self.peer)
        # the CI kernels have no dummy module: a veth pair with both ends here stands in
        self.ip('link', 'add', 'spare0', 'type', 'veth', 'peer', 'name', 'spare1')
        self.ip('addr', 'add', '198.18.3.1/24', 'dev', 'spare0')
        self.ip('link', 'set', 'spare0', 'up')
        self.ip('link', 'set', 'spare1', 'up')
        # kinds: a bridge and a tun device (a VPN's), neither with a route
        self.ip('link', 'add', 'br0', 'type', 'bridge')
        self.ip('tuntap', 'add', 'tun0', 'mode', 'tun')
        for ns in (self.cli, self.peer):
            self.ip('link', 'set', 'lo', 'up', ns=ns)
        self.ip('route', 'add', 'default', 'via', PEER1, 'dev', 'up1', 'metric', '100')
        self.ip('route', 'add', 'default', 'via', PEER2, 'dev', 'up2', 'metric', '200')
        self.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::2', 'dev', 'up1', 'metric',
                '100')
        server = subprocess.Popen(['ip', 'netns', 'exec', self.peer, PYTHON, NETPEER, 'serve',
                                   str(PORT)], stdout=subprocess.PIPE, text=True)
        self.procs.append(server)
        assert server.stdout.readline().strip() == 'ready'

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.cli, self.peer):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)

    def udp_traffic(self, addr, count=200, size=1000):
        code = ('import socket,sys\n'
                's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n'
                's.settimeout(0.5)\n'
                'for i in range(int(sys.argv[3])):\n'
                ' s.sendto(b"x"*int(sys.argv[4]),(sys.argv[1],int(sys.argv[2])))\n'
                'try:\n'
                ' s.recv(65536)\n'
                'except OSError:\n'
                ' pass\n')
        sh(PYTHON, '-c', code, addr, str(PORT), str(count), str(size), ns=self.cli)


class NetmonTest(unittest.TestCase):

    def setUp(self):
        require_root()
        if IMPORT_ERROR is not None:
            raise unittest.SkipTest(f'python3-dbusmock or python3-gi missing: {IMPORT_ERROR}')
        self.bus = _dbus.Bus()
        self.addCleanup(self.bus.close)
        self.net = Uplinks()
        self.addCleanup(self.net.down)
        self.net.up()

    def start_daemon(self, network=''):
        d = Daemon(self.net, mode='monitor', extra=['--bus', self.bus.address])
        if network:
            with open(d.conf, 'a', encoding='utf-8') as f:
                f.write('[network]\n' + network)
        self.addCleanup(d.cleanup)
        d.start()
        self.daemon = d
        self.conn = self.bus.connect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            owner = self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                        'org.freedesktop.DBus', 'NameHasOwner',
                                        GLib.Variant('(s)', (NAME,)), None, 0, 5000, None)
            if owner.unpack()[0]:
                break
            time.sleep(0.05)
        return d

    def interfaces(self):
        r = self.conn.call_sync(NAME, OBJ, 'org.freedesktop.DBus.Properties', 'Get',
                                GLib.Variant('(ss)', (NAME, 'Interfaces')), None, 0, 5000,
                                None)
        return r.unpack()[0]

    def by_name(self, interfaces=None):
        return {i['name']: i for i in (interfaces if interfaces is not None
                                       else self.interfaces())}

    def wait_interfaces(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.by_name()
            if predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError('Interfaces never matched; last: ' +
                             json.dumps(last, indent=1, default=str) + '\nvigild:\n' +
                             '\n'.join(self.daemon.stderr[-30:]))

    def listen_changes(self):
        seen = []
        self.conn.signal_subscribe(NAME, NAME, 'InterfacesChanged', OBJ, None,
                                   Gio.DBusSignalFlags.NONE,
                                   lambda *a: seen.append(a[5].unpack()[0]))
        return seen

    def wait_signal(self, seen, predicate, timeout=10.0):
        context = GLib.MainContext.default()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while context.iteration(False):
                pass
            for value in seen:
                if predicate(self.by_name(value)):
                    return self.by_name(value)
            time.sleep(0.02)
        raise AssertionError(f'no matching InterfacesChanged among {len(seen)}; last: ' +
                             json.dumps(seen[-1:], indent=1, default=str))

    def ready(self, ifs):
        return ('up1' in ifs and ifs['up1']['rank-v4'] == 0 and 'up2' in ifs and
                ifs['up2']['rank-v4'] == 1)

    # ranking

    def test_ranks_lower_metric_first(self):
        self.start_daemon()
        ifs = self.wait_interfaces(self.ready)
        up1, up2, spare, lo = ifs['up1'], ifs['up2'], ifs['spare0'], ifs['lo']
        self.assertEqual([i['name'] for i in self.interfaces()][:2], ['up1', 'up2'])
        self.assertEqual((up1['kind'], up2['kind'], spare['kind'], lo['kind']),
                         ('virtual', 'virtual', 'virtual', 'loopback'))
        self.assertEqual((ifs['br0']['kind'], ifs['tun0']['kind']), ('bridge', 'vpn'))
        self.assertIn('down', ifs['tun0']['reasons-v4'])
        self.assertEqual((up1['metric-v4'], up2['metric-v4']), (100, 200))
        self.assertEqual((up1['gateway-v4'], up2['gateway-v4']), (PEER1, PEER2))
        self.assertEqual(up1['gateway-v6'], 'fd00:1::2')
        self.assertTrue(up1['default-route-v4'] and up1['carrier'] and up1['up'])
        self.assertIn('198.18.1.1/24', up1['addresses'])
        self.assertIn('fd00:1::1/64', up1['addresses'])
        self.assertEqual(up1['mtu'], 1500)
        self.assertEqual(up1['operstate'], 'up')
        self.assertIn('carries default IPv4 traffic', up1['reasons-v4'])
        self.assertIn('default route metric 100', up1['reasons-v4'])
        self.assertIn('IPv4: carries default IPv4 traffic', up1['reasons'])
        self.assertIn('next to take over from up1', up2['reasons-v4'])
        self.assertIn('default route metric 200', up2['reasons-v4'])
        # IPv6: only up1 has an address and a route
        self.assertEqual(up1['rank-v6'], 0)
        self.assertIn('carries default IPv6 traffic', up1['reasons-v6'])
        self.assertEqual(up2['rank-v6'], -1)
        self.assertIn('no IPv6 address', up2['reasons-v6'])
        self.assertIn('no default IPv6 route', up2['reasons-v6'])
        self.assertEqual((spare['rank-v4'], spare['rank-v6']), (-1, -1))
        self.assertIn('no default IPv4 route', spare['reasons-v4'])
        self.assertFalse(spare['default-route-v4'])
        self.assertNotIn('metric-v4', spare)
        self.assertEqual((lo['rank-v4'], lo['rank-v6']), (-1, -1))
        self.assertEqual(lo['reasons'], ['loopback, never carries default traffic'])
        self.assertEqual(up1['rx-rate'], 0.0)

    def test_route_deleted_moves_rank(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        seen = self.listen_changes()
        self.net.ip('route', 'del', 'default', 'via', PEER1, 'dev', 'up1')
        ifs = self.wait_signal(seen, lambda i: i['up2']['rank-v4'] == 0)
        self.assertEqual(ifs['up1']['rank-v4'], -1)
        self.assertIn('no default IPv4 route', ifs['up1']['reasons-v4'])
        self.assertIn('carries default IPv4 traffic', ifs['up2']['reasons-v4'])
        # the IPv6 route is still there
        self.assertEqual(ifs['up1']['rank-v6'], 0)
        self.assertEqual(self.by_name()['up2']['rank-v4'], 0)

    def test_link_down_moves_rank(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        seen = self.listen_changes()
        self.net.ip('link', 'set', 'up1', 'down')
        ifs = self.wait_signal(seen, lambda i: i['up2']['rank-v4'] == 0)
        self.assertEqual(ifs['up1']['rank-v4'], -1)
        self.assertIn('down', ifs['up1']['reasons-v4'])
        self.assertFalse(ifs['up1']['up'])
        self.assertEqual(ifs['up1']['rank-v6'], -1)

    def test_no_carrier(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        seen = self.listen_changes()
        # the far end goes down: up1 stays up but loses its carrier
        self.net.ip('link', 'set', 'p1', 'down', ns=self.net.peer)
        ifs = self.wait_signal(seen, lambda i: i['up2']['rank-v4'] == 0)
        self.assertTrue(ifs['up1']['up'])
        self.assertFalse(ifs['up1']['carrier'])
        self.assertIn('no carrier', ifs['up1']['reasons-v4'])

    def test_policy_rule_picks_higher_metric(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        seen = self.listen_changes()
        self.net.ip('route', 'add', 'default', 'via', PEER2, 'dev', 'up2', 'table', '100')
        self.net.ip('rule', 'add', 'pref', '1000', 'table', '100')
        ifs = self.wait_signal(seen, lambda i: i['up2']['rank-v4'] == 0)
        self.assertEqual(ifs['up1']['rank-v4'], 1)
        self.assertIn('carries default IPv4 traffic', ifs['up2']['reasons-v4'])
        # the metric shown is still the main table's
        self.assertEqual(ifs['up2']['metric-v4'], 200)
        out = subprocess.run([VIGILCTL, '--address', self.bus.address, 'interfaces', '--json'],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        data = json.loads(out.stdout)
        self.assertEqual(data[0]['name'], 'up2')
        self.assertEqual(data[0]['rank-v4'], 0)
        self.assertIn('carries default IPv4 traffic', data[0]['reasons-v4'])
        # the rule goes: the lower metric is back
        self.net.ip('rule', 'del', 'pref', '1000')
        self.wait_signal(seen, lambda i: i['up1']['rank-v4'] == 0 and i['up2']['rank-v4'] == 1)

    def test_preferred_interfaces_do_not_override_the_kernel(self):
        # up2 is preferred: it stays the successor, the kernel's choice stays rank 0
        self.start_daemon('PreferredInterfaces=spare*;up2\n')
        ifs = self.wait_interfaces(self.ready)
        self.assertIn('preferred (PreferredInterfaces pattern 2)', ifs['up2']['reasons-v4'])

    def test_metered_interfaces(self):
        self.start_daemon('MeteredInterfaces=up2\n')
        ifs = self.wait_interfaces(self.ready)
        self.assertTrue(ifs['up2']['metered'])
        self.assertFalse(ifs['up1']['metered'])
        self.assertIn('metered', ifs['up2']['reasons-v4'])

    def test_bad_network_config(self):
        d = Daemon(self.net, mode='monitor', extra=['--bus', self.bus.address])
        self.addCleanup(d.cleanup)
        with open(d.conf, 'a', encoding='utf-8') as f:
            f.write('[network]\nPreferredInterfaces=eth0;wl an0\n')
        r = subprocess.run(['ip', 'netns', 'exec', self.net.cli, os.environ.get(
            'VIGILD', os.path.join(BUILD_ROOT, 'src', 'daemon', 'vigild')), '--config',
            d.conf], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('key PreferredInterfaces', r.stderr)

    def test_rename(self):
        self.start_daemon()
        self.wait_interfaces(lambda i: 'spare0' in i)
        seen = self.listen_changes()
        self.net.ip('link', 'set', 'spare0', 'down')
        self.net.ip('link', 'set', 'spare0', 'name', 'spare7')
        ifs = self.wait_signal(seen, lambda i: 'spare7' in i)
        self.assertNotIn('spare0', ifs)
        self.assertEqual(ifs['spare7']['kind'], 'virtual')
        self.assertIn('198.18.3.1/24', ifs['spare7']['addresses'])

    def test_bridge_port_leaves(self):
        # a port leaving a bridge gets an AF_BRIDGE RTM_DELLINK: the link is still there
        self.net.ip('addr', 'add', '198.18.4.1/24', 'dev', 'spare1')
        self.start_daemon()
        self.wait_interfaces(lambda i: self.ready(i) and
                             '198.18.4.1/24' in i['spare1']['addresses'])
        self.net.ip('link', 'set', 'spare1', 'master', 'br0')
        self.net.ip('link', 'set', 'br0', 'up')
        self.net.ip('link', 'set', 'spare1', 'nomaster')
        seen = self.listen_changes()
        self.net.ip('link', 'set', 'spare0', 'mtu', '1400')
        ifs = self.wait_signal(seen, lambda i: i['spare0']['mtu'] == 1400)
        # not forgotten and found again: it still has the address it had before
        self.assertIn('198.18.4.1/24', ifs['spare1']['addresses'])
        self.assertEqual(ifs['br0']['kind'], 'bridge')

    def test_changes_are_debounced(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        seen = self.listen_changes()
        batch = os.path.join(self.daemon.dir.name, 'flap.batch')
        with open(batch, 'w', encoding='utf-8') as f:
            for _ in range(50):
                f.write(f'route del default via {PEER1} dev up1 metric 100\n'
                        f'route add default via {PEER1} dev up1 metric 100\n')
            f.write(f'route del default via {PEER1} dev up1 metric 100\n')
        start = time.monotonic()
        sh('ip', '-n', self.net.cli, '-batch', batch)
        ifs = self.wait_signal(seen, lambda i: i['up2']['rank-v4'] == 0)
        # let any stragglers come, then count: 101 route changes, a handful of signals
        context = GLib.MainContext.default()
        while time.monotonic() < start + 2.0:
            context.iteration(False)
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        self.assertLessEqual(len(seen), 2 + elapsed / 0.3, seen)
        self.assertEqual(ifs['up1']['rank-v4'], -1)
        self.assertEqual(self.by_name(seen[-1])['up2']['rank-v4'], 0)

    def test_counters_and_rates(self):
        self.start_daemon()
        before = self.wait_interfaces(self.ready)['up1']
        # rates are sampled only while a client watches
        self.conn.call_sync(NAME, OBJ, NAME, 'Subscribe', GLib.Variant('(a{sv})', ({},)), None,
                            0, 5000, None)
        deadline = time.monotonic() + 15
        rate_seen = False
        while time.monotonic() < deadline and not rate_seen:
            self.net.udp_traffic(PEER1)
            time.sleep(0.5)
            ifs = self.by_name()
            now = ifs['up1']
            rate_seen = now['tx-rate'] > 0 and now['rx-rate'] > 0
        self.assertTrue(rate_seen, now)
        # the other uplink carried none of it (only its own neighbour chatter)
        self.assertGreater(now['tx-rate'], ifs['up2']['tx-rate'])
        self.assertGreater(now['tx-bytes'], before['tx-bytes'] + 100000)
        self.assertGreater(now['rx-bytes'], before['rx-bytes'])
        # nobody watches: the rates go back to 0
        self.conn.call_sync(NAME, OBJ, NAME, 'Unsubscribe', None, None, 0, 5000, None)
        self.wait_interfaces(lambda i: i['up1']['tx-rate'] == 0.0)

    def test_vigilctl_status_and_interfaces(self):
        self.start_daemon()
        self.wait_interfaces(self.ready)
        ctl = [VIGILCTL, '--address', self.bus.address]
        out = subprocess.run(ctl + ['status'], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('up1', out.stdout)
        self.assertIn('carries default IPv4 traffic', out.stdout)
        self.assertIn('no IPv6 address', out.stdout)
        out = subprocess.run(ctl + ['interfaces'], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        first = next(line for line in lines if 'up1' in line)
        second = next(line for line in lines if 'up2' in line)
        self.assertLess(lines.index(first), lines.index(second))
        self.assertIn('default', first)
        self.assertIn('backup 1', second)
        out = subprocess.run(ctl + ['status', '--json'], capture_output=True, text=True,
                             timeout=30)
        data = json.loads(out.stdout)
        names = [i['name'] for i in data['interfaces']]
        self.assertEqual(names[:2], ['up1', 'up2'])
        self.assertEqual(data['interfaces'][0]['rank-v4'], 0)

    def test_event_names_the_interface(self):
        # the verdict event takes the interface name from the monitor, renames included
        self.start_daemon()
        self.wait_interfaces(self.ready)
        self.net.ip('link', 'set', 'up1', 'down')
        self.net.ip('link', 'set', 'up1', 'name', 'wan1')
        self.net.ip('link', 'set', 'wan1', 'up')
        self.net.ip('route', 'add', 'default', 'via', PEER1, 'dev', 'wan1', 'metric', '100')
        self.wait_interfaces(lambda i: 'wan1' in i and i['wan1']['rank-v4'] == 0)
        sh(PYTHON, NETPEER, 'tcp', PEER1, str(PORT), '3', ns=self.net.cli, timeout=20)
        ev = self.daemon.wait_event(dst=PEER1)
        self.assertEqual(ev['iface'], 'wan1')


if __name__ == '__main__':
    run_main()
