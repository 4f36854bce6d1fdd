#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""vigild enforcing verdicts on real traffic, inside network namespaces (suite netns)."""

import os
import signal
import time
import unittest

from vigiltest import (CLIENT4, PORT, SERVER4, SERVER6, Daemon, Net, require_root, rule,
                       run_main, sh)

CASES = [('tcp', SERVER4, 4), ('tcp', SERVER6, 6), ('udp', SERVER4, 4), ('udp', SERVER6, 6)]


class EnforceTest(unittest.TestCase):

    def setUp(self):
        require_root()
        self.net = Net()
        self.addCleanup(self.net.down)
        self.net.up()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        # nothing may outlive the daemon: the table goes with it
        self.assertEqual(self.net.vigil_tables(), [], self.net.ruleset())

    def daemon(self, **kw):
        d = Daemon(self.net, **kw)
        self.daemons.append(d)
        return d

    def check_verdict(self, action, expect_ok, expect_errno=None, max_ms=None):
        rules = [rule(action, id=f'r-{i + 1:012x}', protocol=p, cidr=a, port=str(PORT))
                 for i, (p, a, _) in enumerate(CASES)]
        d = self.daemon(mode='deny', rules=rules).start()
        for (proto, addr, fam), r in zip(CASES, rules):
            with self.subTest(proto=proto, family=fam):
                res = self.net.connect(proto, addr, timeout=1.0)
                self.assertEqual(res['ok'], expect_ok, res)
                if expect_errno is not None:
                    self.assertEqual(res['errno'], expect_errno, res)
                if max_ms is not None:
                    self.assertLess(res['ms'], max_ms, res)
                ev = d.wait_event(proto=proto, family=fam, dport=PORT)
                self.assertEqual(ev['verdict'], action)
                self.assertEqual(ev['reason'], 'rule')
                self.assertEqual(ev['rule'], r['id'])
                self.assertEqual(ev['direction'], 'out')
                self.assertEqual(ev['uid'], os.geteuid())
                self.assertEqual(ev['iface'], 'veth0')
                self.assertEqual(ev['dst'], addr)

    def test_allow(self):
        self.check_verdict('allow', True)

    def test_deny(self):
        # denied: the packet is dropped, the app only sees a timeout
        self.check_verdict('deny', False, expect_errno='ETIMEDOUT')

    def test_reject_fast(self):
        # rejected: the app fails at once (TCP reset or ICMP unreachable), within 100 ms
        self.check_verdict('reject', False, expect_errno='ECONNREFUSED', max_ms=100)

    def test_mode_allow(self):
        d = self.daemon(mode='allow').start()
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        ev = d.wait_event(proto='tcp')
        self.assertEqual((ev['verdict'], ev['reason'], ev['rule']), ('allow', 'mode', None))

    def test_mode_deny(self):
        d = self.daemon(mode='deny').start()
        self.assertFalse(self.net.connect('tcp', SERVER4, timeout=0.5)['ok'])
        ev = d.wait_event(proto='tcp')
        self.assertEqual((ev['verdict'], ev['reason']), ('deny', 'mode'))

    def test_mode_ask_uses_default(self):
        d = self.daemon(mode='ask', default_action='reject').start()
        res = self.net.connect('udp', SERVER6, timeout=1.0)
        self.assertEqual(res['errno'], 'ECONNREFUSED', res)
        ev = d.wait_event(proto='udp')
        self.assertEqual((ev['verdict'], ev['reason']), ('reject', 'default'))

    def test_mode_monitor_enforces_nothing(self):
        d = self.daemon(mode='monitor', rules=[rule('deny', protocol='tcp')]).start()
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        ev = d.wait_event(proto='tcp')
        self.assertEqual((ev['verdict'], ev['reason']), ('allow', 'mode'))

    def test_mode_block_all_in_kernel(self):
        # block-all is enforced by the table itself: refused at once, even with allow rules
        self.daemon(mode='block-all', rules=[rule('allow')]).start()
        for proto, addr, _ in CASES:
            res = self.net.connect(proto, addr, timeout=1.0)
            self.assertFalse(res['ok'], res)
            self.assertLess(res['ms'], 100, res)
        # loopback still works
        for proto, addr in (('tcp', '127.0.0.1'), ('udp', '::1')):
            res = self.net.connect(proto, addr, timeout=1.0)
            self.assertTrue(res['ok'], res)

    def test_stale_table_replaced(self):
        d = self.daemon(mode='allow').start()
        d.kill9()
        # a crashed daemon leaves its table behind ...
        self.assertEqual(len(self.net.vigil_tables()), 1)
        d2 = self.daemon(mode='deny').start()
        # ... and the next one replaces it in one go, never a second copy
        self.assertEqual(len(self.net.vigil_tables()), 1)
        self.assertEqual(self.net.ruleset().count('queue'), 1, self.net.ruleset())
        self.assertFalse(self.net.connect('tcp', SERVER4, timeout=0.5)['ok'])
        d2.wait_event(verdict='deny')

    def test_kill9_fail_open_keeps_traffic_flowing(self):
        d = self.daemon(mode='deny', fail_open=True).start()
        self.assertFalse(self.net.connect('tcp', SERVER4, timeout=0.5)['ok'])
        d.kill9()
        self.assertTrue(self.net.connect('tcp', SERVER4, timeout=1.0)['ok'])
        self.assertTrue(self.net.connect('udp', SERVER6, timeout=1.0)['ok'])
        # a restart takes over again
        d2 = self.daemon(mode='deny', fail_open=True).start()
        self.assertFalse(self.net.connect('tcp', SERVER4, timeout=0.5)['ok'])
        d2.wait_event(verdict='deny')

    def test_kill9_fail_closed_blocks(self):
        d = self.daemon(mode='allow', fail_open=False).start()
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        d.kill9()
        self.assertFalse(self.net.connect('tcp', SERVER4, timeout=0.5)['ok'])
        self.assertFalse(self.net.connect('udp', SERVER4, timeout=0.5)['ok'])
        d2 = self.daemon(mode='allow', fail_open=False).start()
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        d2.wait_event(verdict='allow')

    def test_established_never_queued(self):
        d = self.daemon(mode='allow').start()
        self.assertTrue(self.net.connect('udp', SERVER4)['ok'])
        d.wait_event(proto='udp')
        # the echo reply and any later packet of the flow stay in the kernel
        time.sleep(0.2)
        self.assertTrue(d.events.empty(), list(d.events.queue))

    def test_garbage_packets(self):
        d = self.daemon(mode='allow').start()
        for addr in (SERVER4, SERVER6):
            sh('/usr/bin/python3', os.path.join(os.path.dirname(__file__), 'netpeer.py'),
               'garbage', addr, '300', ns=self.net.cli, timeout=60)
        self.assertIsNone(d.proc.poll(), '\n'.join(d.stderr))
        # the hostile packets that the kernel let through all got verdicts ...
        time.sleep(0.3)
        seen = 0
        while not d.events.empty():
            d.events.get()
            seen += 1
        self.assertGreater(seen, 50)
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        d.wait_event(proto='tcp', dst=SERVER4, dport=PORT)

    def test_sigterm_removes_table(self):
        d = self.daemon(mode='allow').start()
        self.assertEqual(len(self.net.vigil_tables()), 1)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(self.net.vigil_tables(), [])

    def test_sighup_reloads_rules(self):
        d = self.daemon(mode='allow', rules=[]).start()
        self.assertTrue(self.net.connect('tcp', SERVER4)['ok'])
        d.write_rules([rule('reject', id='r-0123456789ab', protocol='tcp')])
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any('loaded 1 rules' in line for line in d.stderr):
                break
            time.sleep(0.05)
        res = self.net.connect('tcp', SERVER4, timeout=1.0)
        self.assertEqual(res['errno'], 'ECONNREFUSED', res)
        d.wait_event(verdict='reject', rule='r-0123456789ab')

    def test_bad_rules_file_keeps_good_rules(self):
        d = self.daemon(mode='allow')
        with open(os.path.join(d.state, 'rules.json'), 'w', encoding='utf-8') as f:
            f.write('{"version": 1, "rules": [\n'
                    ' {"id": "r-aaaaaaaaaaaa", "action": "reject", "protocol": "tcp"},\n'
                    ' {"id": "r-bbbbbbbbbbbb", "action": "allow", "port": "nope"}\n'
                    ']}\n')
        d.start()
        self.assertTrue(any('rules.json:3' in line for line in d.stderr), d.stderr)
        res = self.net.connect('tcp', SERVER4, timeout=1.0)
        self.assertEqual(res['errno'], 'ECONNREFUSED', res)

    def test_events_json_shape(self):
        d = self.daemon(mode='allow').start()
        self.net.connect('tcp', SERVER4)
        ev = d.wait_event(proto='tcp')
        self.assertEqual(list(ev.keys()), [
            'time', 'verdict', 'reason', 'rule', 'direction', 'proto', 'family', 'src',
            'sport', 'dst', 'dport', 'host', 'iface', 'pid', 'exe', 'cmdline', 'uid', 'user',
            'app_id', 'unit', 'seq'])
        self.assertRegex(ev['time'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
        self.assertEqual(ev['src'], CLIENT4)
        self.assertEqual(ev['user'], 'root')


if __name__ == '__main__':
    run_main()
