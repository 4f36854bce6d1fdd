#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the events of the real vigild say about who made a connection and for which host
(suite netns): attribution cases and DNS names seen on the wire, matched by rules."""

import json
import os
import subprocess
import unittest

from vigiltest import (PORT, PYTHON, SERVER4, SERVER6, Daemon, Net, require_root, rule,
                       run_main, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
NETPEER = os.path.join(HERE, 'netpeer.py')
FAKE_DNS = os.path.join(HERE, '..', 'dns', 'fake-dns-server.py')


class NamesTest(unittest.TestCase):

    def setUp(self):
        require_root()
        self.net = Net()
        self.addCleanup(self.net.down)
        self.net.up()

    def daemon(self, **kw):
        d = Daemon(self.net, **kw)
        self.addCleanup(d.cleanup)
        return d.start()

    def who(self, mode, addr):
        r = sh(PYTHON, NETPEER, 'who', mode, addr, str(PORT), ns=self.net.cli)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def check_who(self, mode, proto, addr):
        d = self.daemon(mode='allow')
        res = self.who(mode, addr)
        self.assertTrue(res['ok'], res)
        ev = d.wait_event(proto=proto, dst=addr, dport=PORT)
        # the process that sent the packet, never its parent or a neighbour
        self.assertEqual(ev['pid'], res['pid'], ev)
        self.assertTrue(ev['exe'].startswith('/usr/bin/python3'), ev)
        self.assertIn('netpeer.py who', ev['cmdline'])
        self.assertEqual(ev['uid'], 0)

    def test_thread(self):
        self.check_who('thread', 'tcp', SERVER4)

    def test_child_after_fork(self):
        self.check_who('child', 'tcp', SERVER6)

    def test_child_of_exited_parent(self):
        self.check_who('orphan', 'tcp', SERVER4)

    def test_socket_inherited_from_parent(self):
        self.check_who('inherited', 'tcp', SERVER4)

    def test_unconnected_udp_sendto(self):
        self.check_who('sendto', 'udp', SERVER6)

    def test_rule_pinned_to_exe_digest(self):
        import hashlib
        exe = os.path.realpath(PYTHON)
        with open(exe, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        d = self.daemon(mode='deny', rules=[
            rule('allow', id='r-00000000da7a', exe=exe, sha256=digest, protocol='tcp'),
            rule('allow', id='r-00000000bad0', exe=exe, sha256='0' * 64, protocol='udp')])
        # the digest is computed off the main loop the first time, then the rule matches
        res = self.net.connect('tcp', SERVER4, timeout=2.0)
        self.assertTrue(res['ok'], res)
        ev = d.wait_event(proto='tcp', dst=SERVER4)
        self.assertEqual((ev['verdict'], ev['rule']), ('allow', 'r-00000000da7a'))
        # another build of the same path does not match
        res = self.net.connect('udp', SERVER4, timeout=0.5)
        self.assertFalse(res['ok'], res)
        ev = d.wait_event(proto='udp', dst=SERVER4)
        self.assertEqual((ev['verdict'], ev['reason']), ('deny', 'mode'))

    def start_dns(self):
        p = subprocess.Popen(['ip', 'netns', 'exec', self.net.srv, PYTHON, FAKE_DNS,
                              SERVER4, SERVER6], stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        self.assertEqual(p.stdout.readline().strip(), 'ready')

    def test_hostname_from_dns_matches_domain_rule(self):
        self.start_dns()
        d = self.daemon(mode='deny', rules=[
            rule('allow', id='r-000000000053', protocol='udp', port='53'),
            rule('allow', id='r-00000000e0e0', host='*.example.org', protocol='tcp')])
        for server, addr in ((SERVER4, SERVER4), (SERVER6, SERVER6)):
            r = sh(PYTHON, NETPEER, 'resolve', server, 'www.example.org', ns=self.net.cli)
            self.assertIn(addr, json.loads(r.stdout))
            res = self.net.connect('tcp', addr, timeout=2.0)
            self.assertTrue(res['ok'], res)
            ev = d.wait_event(proto='tcp', dst=addr, dport=PORT)
            self.assertEqual(ev['host'], 'www.example.org')
            self.assertEqual((ev['verdict'], ev['reason'], ev['rule']),
                             ('allow', 'rule', 'r-00000000e0e0'))

    def test_no_name_no_domain_match(self):
        # without a DNS answer the address has no name, so the domain rule cannot apply
        d = self.daemon(mode='deny', rules=[rule('allow', host='*.example.org')])
        res = self.net.connect('tcp', SERVER4, timeout=0.5)
        self.assertFalse(res['ok'], res)
        ev = d.wait_event(proto='tcp', dst=SERVER4)
        self.assertIsNone(ev['host'])
        self.assertEqual((ev['verdict'], ev['reason']), ('deny', 'mode'))


if __name__ == '__main__':
    run_main()
