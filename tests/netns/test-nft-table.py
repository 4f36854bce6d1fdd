#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nftables table of vigild on a real kernel.

Drives the real libnftnl/libmnl backend through vigil-nft-tool (path in $VIGIL_NFT_TOOL)
inside network namespaces made for each test, and checks the ruleset with nft and the
behaviour with real connections over a veth pair (198.18.0.0/15 and fd00::/8 only).

Usage: test-nft-table.py [TestNftTable.test_name ...]
Exits 0 on success, 1 on failure, 77 when every test run was skipped (not root, or no
network namespaces here).
"""

import itertools
import os
import re
import shutil
import subprocess
import sys
import unittest

TOOL = os.environ.get('VIGIL_NFT_TOOL', '')
PYTHON = sys.executable or '/usr/bin/python3'
OWN_MARK = 0x00766967
REJECT_MARK = 0x00766968
PORT = 7000
CLIENT4, SERVER4 = '198.18.0.1', '198.18.0.2'
CLIENT6, SERVER6 = 'fd00::1', 'fd00::2'
_counter = itertools.count()

# a TCP server: listens on every address of its namespace, says "ready", accepts forever
SERVER = r'''
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', int(sys.argv[1])))
s.listen(64)
print('ready', flush=True)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
'''

# one TCP connect; prints the outcome and how long it took
CONNECT = r'''
import errno, socket, sys, time
host, port, timeout, mark = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4], 0)
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
if mark:
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_MARK', 36), mark)
s.settimeout(timeout)
start = time.monotonic()
try:
    s.connect((host, port))
    result = 'ok'
except socket.timeout:
    result = 'timeout'
except OSError as e:
    result = errno.errorcode.get(e.errno, str(e.errno))
print(result, time.monotonic() - start)
'''

# connects, says "connected", waits for a line on stdin, then sends and reports the outcome;
# then tries one UDP datagram
ESTABLISHED = r'''
import errno, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print('connected', flush=True)
sys.stdin.readline()
try:
    s.sendall(b'x')
    s.settimeout(1)
    s.recv(1)
    print('tcp ok')
except socket.timeout:
    print('tcp timeout')
except OSError as e:
    print('tcp', errno.errorcode.get(e.errno, str(e.errno)))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b'x', (sys.argv[1], 53))
    print('udp ok')
except OSError as e:
    print('udp', errno.errorcode.get(e.errno, str(e.errno)))
'''


def run(argv, check=True, timeout=30, **kwargs):
    return subprocess.run(argv, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


class TestNftTable(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: network namespaces and nftables')
        for prog in ('ip', 'nft', 'iptables-nft'):
            if shutil.which(prog) is None:
                self.skipTest(f'{prog} is not installed')
        if not TOOL or not os.access(TOOL, os.X_OK):
            self.fail('VIGIL_NFT_TOOL does not name the built vigil-nft-tool')
        self.namespaces = []
        self.processes = []

    # helpers

    def make_netns(self, role):
        name = f'vigil-nft-{os.getpid()}-{next(_counter)}-{role}'
        proc = run(['ip', 'netns', 'add', name], check=False)
        if proc.returncode != 0:
            self.skipTest(f'cannot create a network namespace: {proc.stderr.strip()}')
        self.namespaces.append(name)
        self.addCleanup(self.cleanup_netns, name)
        run(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
        return name

    def cleanup_netns(self, ns):
        try:
            self.tool(ns, 'remove')
            self.assertNotIn('table inet vigil', self.nft(ns, 'list', 'ruleset'))
        finally:
            run(['ip', 'netns', 'delete', ns], check=False)

    def netns_exec(self, ns, argv, **kwargs):
        return run(['ip', 'netns', 'exec', ns] + argv, **kwargs)

    def nft(self, ns, *args):
        # nft warns on stderr about the compat target ("managed by iptables-nft"); ignore it
        return self.netns_exec(ns, ['nft'] + list(args)).stdout

    def tool(self, ns, *args, check=True):
        proc = self.netns_exec(ns, [TOOL] + list(args), check=False)
        if check and proc.returncode != 0:
            self.fail(f'vigil-nft-tool {" ".join(args)} failed: {proc.stderr.strip()}')
        return proc

    def vigil_table(self, ns):
        return self.nft(ns, 'list', 'table', 'inet', 'vigil')

    def chain_rules(self, table, chain):
        match = re.search(r'chain ' + chain + r' \{\n(.*?)\n\t\}', table, re.S)
        self.assertIsNotNone(match, f'no chain {chain} in:\n{table}')
        lines = [line.strip() for line in match.group(1).split('\n')]
        return [line for line in lines if line and not line.startswith('type ')]

    def count_vigil_tables(self, ns):
        return self.nft(ns, 'list', 'tables').count('table inet vigil')

    def kernel_has_native_queue(self):
        ns = self.make_netns('probe')
        proc = self.netns_exec(ns, ['nft', '-f', '-'], check=False, input=(
            'table inet probe { chain c { type filter hook output priority 0; '
            'queue num 1 bypass; } }\n'))
        return proc.returncode == 0

    def make_pair(self):
        '''two namespaces joined by a veth pair; returns (client, server)'''
        client = self.make_netns('client')
        server = self.make_netns('server')
        run(['ip', '-n', client, 'link', 'add', 'vigil0', 'type', 'veth',
             'peer', 'name', 'vigil1', 'netns', server])
        for ns, dev, addr4, addr6 in ((client, 'vigil0', CLIENT4, CLIENT6),
                                      (server, 'vigil1', SERVER4, SERVER6)):
            run(['ip', '-n', ns, 'addr', 'add', addr4 + '/24', 'dev', dev])
            run(['ip', '-n', ns, 'addr', 'add', addr6 + '/64', 'dev', dev, 'nodad'])
            run(['ip', '-n', ns, 'link', 'set', dev, 'up'])
        return client, server

    def start_server(self, ns, port=PORT):
        proc = subprocess.Popen(['ip', 'netns', 'exec', ns, PYTHON, '-c', SERVER, str(port)],
                                stdout=subprocess.PIPE, text=True)
        self.processes.append(proc)
        self.addCleanup(self.stop_process, proc)
        self.assertEqual(proc.stdout.readline().strip(), 'ready')

    def warm_up(self, ns, hosts):
        '''connects once before any table: a fresh veth loses the first IPv6 SYN'''
        for host in hosts:
            result, _ = self.connect(ns, host, timeout=5.0)
            self.assertEqual(result, 'ok', f'no path to {host} from {ns} without a table')

    def stop_process(self, proc):
        proc.kill()
        proc.wait()

    def connect(self, ns, host, timeout=1.0, mark=0, port=PORT):
        out = self.netns_exec(ns, [PYTHON, '-c', CONNECT, host, str(port), str(timeout),
                                   hex(mark)]).stdout.split()
        return out[0], float(out[1])

    def assertConnects(self, ns, host, **kwargs):
        result, _ = self.connect(ns, host, **kwargs)
        self.assertEqual(result, 'ok', f'connect to {host} from {ns}')

    def assertTimesOut(self, ns, host, **kwargs):
        result, _ = self.connect(ns, host, **kwargs)
        self.assertEqual(result, 'timeout', f'connect to {host} from {ns}')

    def assertRefusedFast(self, ns, host, **kwargs):
        result, elapsed = self.connect(ns, host, timeout=3.0, **kwargs)
        self.assertEqual(result, 'ECONNREFUSED', f'connect to {host} from {ns}')
        self.assertLess(elapsed, 0.5)

    # the ruleset

    def test_apply_fail_open(self):
        ns = self.make_netns('a')
        self.tool(ns, 'apply', '--queue-num', '3', '--fail-open')
        table = self.vigil_table(ns)
        self.assertEqual(self.chain_rules(table, 'output'), [
            'ct state established,related accept',
            f'meta mark 0x{REJECT_MARK:08x} meta l4proto tcp reject with tcp reset',
            f'meta mark 0x{REJECT_MARK:08x} reject',
            f'meta mark 0x{OWN_MARK:08x} accept',
            'meta oiftype loopback accept',
            'ct state new queue num 3 bypass',
        ])
        self.assertIn('type filter hook output priority filter; policy accept;', table)
        self.assertNotIn('chain input', table)

    def test_apply_fail_closed(self):
        ns = self.make_netns('a')
        self.tool(ns, 'apply', '--queue-num', '65535', '--fail-closed')
        rules = self.chain_rules(self.vigil_table(ns), 'output')
        self.assertEqual(rules[-1], 'ct state new queue num 65535')

    def test_apply_inbound(self):
        ns = self.make_netns('a')
        self.tool(ns, 'apply', '--queue-num', '2', '--inbound', '--intercept-loopback')
        table = self.vigil_table(ns)
        self.assertIn('type filter hook input priority filter; policy accept;', table)
        self.assertEqual(self.chain_rules(table, 'input'), [
            'ct state established,related accept',
            f'meta mark 0x{REJECT_MARK:08x} meta l4proto tcp reject with tcp reset',
            f'meta mark 0x{REJECT_MARK:08x} reject',
            f'meta mark 0x{OWN_MARK:08x} accept',
            'ct state new queue num 2 bypass',
        ])
        self.assertNotIn('loopback', table)

    def test_apply_block_all(self):
        ns = self.make_netns('a')
        self.tool(ns, 'apply', '--block-all', '--inbound')
        table = self.vigil_table(ns)
        self.assertNotIn('queue', table)
        self.assertEqual(self.chain_rules(table, 'output'), [
            f'meta mark 0x{OWN_MARK:08x} accept',
            'meta oiftype loopback accept',
            'ct state established,new meta l4proto tcp reject with tcp reset',
            'ct state established,new reject',
        ])
        self.assertEqual(self.chain_rules(table, 'input'), [
            'ct state established,related accept',
            f'meta mark 0x{OWN_MARK:08x} accept',
            'meta iiftype loopback accept',
            'ct state new meta l4proto tcp reject with tcp reset',
            'ct state new reject',
        ])

    def test_apply_twice_replaces(self):
        ns = self.make_netns('a')
        # a stale table of a crashed daemon, with a chain the new table does not have
        self.netns_exec(ns, ['nft', '-f', '-'], input=(
            'table inet vigil {\n'
            '  chain stale { type filter hook output priority 5; drop; }\n'
            '  chain output { type filter hook output priority 0; accept; }\n'
            '}\n'))
        self.tool(ns, 'apply', '--queue-num', '1')
        self.tool(ns, 'apply', '--queue-num', '4', '--inbound')
        self.tool(ns, 'apply', '--queue-num', '5', '--inbound')
        self.assertEqual(self.count_vigil_tables(ns), 1)
        table = self.vigil_table(ns)
        self.assertNotIn('stale', table)
        self.assertEqual(table.count('chain output {'), 1)
        self.assertEqual(table.count('chain input {'), 1)
        self.assertEqual(len(self.chain_rules(table, 'output')), 6)
        self.assertEqual(len(self.chain_rules(table, 'input')), 6)
        self.assertEqual(table.count('queue num 5 bypass'), 2)
        self.assertNotIn('queue num 4', table)

    def test_foreign_tables_survive(self):
        ns = self.make_netns('a')
        self.netns_exec(ns, ['nft', '-f', '-'], input=(
            'table inet other {\n'
            '  chain c { type filter hook output priority 10; tcp dport 9 counter accept; }\n'
            '}\n'
            'table ip vigil {\n'
            '  chain c { type filter hook output priority 10; }\n'
            '}\n'))
        self.netns_exec(ns, ['iptables-nft', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '10',
                             '-j', 'ACCEPT'])
        before = (self.nft(ns, 'list', 'table', 'inet', 'other'),
                  self.nft(ns, 'list', 'table', 'ip', 'vigil'),
                  self.netns_exec(ns, ['iptables-nft', '-S']).stdout)
        self.tool(ns, 'apply', '--inbound')
        self.tool(ns, 'apply', '--block-all')
        self.tool(ns, 'remove')
        self.tool(ns, 'remove')
        after = (self.nft(ns, 'list', 'table', 'inet', 'other'),
                 self.nft(ns, 'list', 'table', 'ip', 'vigil'),
                 self.netns_exec(ns, ['iptables-nft', '-S']).stdout)
        self.assertEqual(before, after)
        self.assertIn('-A OUTPUT -p tcp -m tcp --dport 10 -j ACCEPT', after[2])

    def test_remove(self):
        ns = self.make_netns('a')
        self.tool(ns, 'apply', '--inbound')
        self.assertEqual(self.count_vigil_tables(ns), 1)
        self.tool(ns, 'remove')
        self.assertEqual(self.count_vigil_tables(ns), 0)
        # a missing table is no error
        self.tool(ns, 'remove')
        self.assertEqual(self.nft(ns, 'list', 'ruleset'), '')

    # the two queue implementations

    def test_native_queue(self):
        native = self.kernel_has_native_queue()
        ns = self.make_netns('a')
        if native:
            proc = self.tool(ns, 'apply', '--queue-kind', 'native', '--queue-num', '6')
            self.assertIn('queue kind in use: native', proc.stdout)
            self.assertIn('ct state new queue num 6 bypass', self.vigil_table(ns))
            self.assertRegex(self.nft(ns, '--debug=netlink', 'list', 'table', 'inet', 'vigil'),
                             r'\[ queue num 6 ')
            return

        # forcing the missing expression fails with a clear error and changes nothing
        proc = self.tool(ns, 'apply', '--queue-kind', 'native', check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('failed to apply nftables table: rule 6 of chain output '
                      '(ct state new queue num 0 bypass): the kernel has no nft queue '
                      'expression: No such file or directory', proc.stderr)
        self.assertEqual(self.count_vigil_tables(ns), 0)

        # the same over a working table leaves that table as it was
        self.tool(ns, 'apply', '--queue-kind', 'compat', '--queue-num', '4')
        before = self.vigil_table(ns)
        proc = self.tool(ns, 'apply', '--queue-kind', 'native', '--inbound', check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('the kernel has no nft queue expression', proc.stderr)
        self.assertIn('(2 operations refused in all)', proc.stderr)
        self.assertEqual(self.vigil_table(ns), before)

    def test_compat_queue(self):
        ns = self.make_netns('a')
        proc = self.tool(ns, 'apply', '--queue-kind', 'compat', '--queue-num', '8',
                         '--fail-closed', '--inbound')
        self.assertIn('queue kind in use: compat', proc.stdout)
        table = self.vigil_table(ns)
        self.assertEqual(table.count('ct state new queue num 8\n'), 2)
        debug = self.nft(ns, '--debug=netlink', 'list', 'table', 'inet', 'vigil')
        self.assertEqual(debug.count('[ target name NFQUEUE rev 3 ]'), 2)

        # auto picks native where the kernel has it, compat otherwise, and says so
        proc = self.tool(ns, 'apply', '--queue-kind', 'auto')
        if self.kernel_has_native_queue():
            self.assertIn('queue kind in use: native', proc.stdout)
            self.assertIn('using the nft queue expression', proc.stderr)
        else:
            self.assertIn('queue kind in use: compat', proc.stdout)
            self.assertIn('using the xtables NFQUEUE target through nft compat: '
                          'this kernel has no nft queue expression', proc.stderr)
        self.assertIn('ct state new queue num 0 bypass', self.vigil_table(ns))

    # traffic, with no listener on the queue

    def test_traffic_fail_open(self):
        client, server = self.make_pair()
        self.start_server(server)
        self.warm_up(client, (SERVER4, SERVER6))
        self.tool(client, 'apply', '--fail-open', '--queue-num', '11')
        self.assertConnects(client, SERVER4)
        self.assertConnects(client, SERVER6)

    def test_traffic_fail_closed(self):
        client, server = self.make_pair()
        self.start_server(server)
        self.warm_up(client, (SERVER4, SERVER6))
        self.tool(client, 'apply', '--fail-closed', '--queue-num', '11')
        self.assertTimesOut(client, SERVER4)
        self.assertTimesOut(client, SERVER6)
        self.tool(client, 'remove')
        self.assertConnects(client, SERVER4)

    def test_traffic_block_all(self):
        client, server = self.make_pair()
        self.start_server(server)
        self.warm_up(client, (SERVER4, SERVER6))
        # a connection made before block-all is cut at its next packet
        proc = subprocess.Popen(['ip', 'netns', 'exec', client, PYTHON, '-c', ESTABLISHED,
                                 SERVER4, str(PORT)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_process, proc)
        self.assertEqual(proc.stdout.readline().strip(), 'connected')
        self.tool(client, 'apply', '--block-all')
        out, _ = proc.communicate('go\n', timeout=10)
        self.assertEqual(out.split('\n')[:2], ['tcp ECONNRESET', 'udp EPERM'])

        self.assertRefusedFast(client, SERVER4)
        self.assertRefusedFast(client, SERVER6)
        # the daemon's own traffic passes
        self.assertConnects(client, SERVER4, mark=OWN_MARK)
        self.assertConnects(client, SERVER6, mark=OWN_MARK)

    def test_traffic_marks_and_loopback(self):
        client, server = self.make_pair()
        self.start_server(server)
        self.start_server(client)
        self.warm_up(client, (SERVER4, SERVER6))
        self.tool(client, 'apply', '--fail-closed')
        # the daemon's own sockets pass, reject-marked packets fail at once
        self.assertConnects(client, SERVER4, mark=OWN_MARK)
        self.assertConnects(client, SERVER6, mark=OWN_MARK)
        self.assertRefusedFast(client, SERVER4, mark=REJECT_MARK)
        self.assertRefusedFast(client, SERVER6, mark=REJECT_MARK)
        # loopback, and local addresses that route over lo, are not queued by default
        self.assertConnects(client, '127.0.0.1')
        self.assertConnects(client, '::1')
        self.assertConnects(client, CLIENT4)
        self.tool(client, 'apply', '--fail-closed', '--intercept-loopback')
        self.assertTimesOut(client, '127.0.0.1')
        self.assertTimesOut(client, '::1')

    def test_traffic_inbound(self):
        client, server = self.make_pair()
        self.start_server(server)
        self.warm_up(client, (SERVER4, SERVER6))
        # outbound only: connections to the server's listener are not queued
        self.tool(server, 'apply', '--fail-closed')
        self.assertConnects(client, SERVER4)
        self.tool(server, 'apply', '--fail-closed', '--inbound')
        self.assertTimesOut(client, SERVER4)
        self.assertTimesOut(client, SERVER6)
        self.tool(server, 'apply', '--fail-open', '--inbound')
        self.assertConnects(client, SERVER6)
        self.tool(server, 'apply', '--block-all', '--inbound')
        self.assertRefusedFast(client, SERVER4)
        self.assertRefusedFast(client, SERVER6)


def main():
    module = sys.modules[__name__]
    loader = unittest.defaultTestLoader
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:], module)
    else:
        suite = loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == '__main__':
    sys.exit(main())
