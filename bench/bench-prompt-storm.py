#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Another app's rule-matched connections while a prompt storm is pending (issue 5).

    VIGIL_BUILD_ROOT=_build/bench /usr/bin/python3 bench/bench-prompt-storm.py [ROUNDS] [N]

The setup of tests/dbus/test-dbus.py (a private system bus, dbusmock's polkitd, vigild in
network namespaces, a prompt agent that answers after 0.5 s), the storm of
test_prompt_storm (one process opening 500 TCP connections to 50 hosts, which all wait for
a prompt), and the shared yardstick connbench (../shared/bench/connbench.c) as the other
app: N new UDP flows allowed by a rule, timed before the storm, while its prompts are
pending, and after. A run counts as "during" only if the storm was still waiting for its
answers when the run ended. Each round is a fresh daemon; prints every run and the medians.
"""

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, '..')
SHARED = os.environ.get('VIGIL_SHARED', os.path.join(TOP, '..', 'shared'))

spec = importlib.util.spec_from_file_location(
    'test_dbus', os.path.join(TOP, 'tests', 'dbus', 'test-dbus.py'))
test_dbus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_dbus)

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
RESULTS = {'before': [], 'during': [], 'after': []}
STORM = ('import socket,threading\n'
         'def go(i):\n'
         ' s=socket.socket(); s.settimeout(30)\n'
         ' try: s.connect(("198.18.1.%d"%(i%50+1),7000))\n'
         ' except OSError: pass\n'
         ' s.close()\n'
         'ts=[threading.Thread(target=go,args=(i,)) for i in range(500)]\n'
         '[t.start() for t in ts]; [t.join() for t in ts]\n')


class StormBench(test_dbus.DBusTest):

    def connbench(self):
        out = subprocess.run(['ip', 'netns', 'exec', self.net.cli, self.cb, 'udp',
                              test_dbus.SERVER4, str(test_dbus.PORT), str(N)],
                             capture_output=True, text=True, timeout=120).stdout
        fields = dict(re.findall(r'(\w+)=([\d.]+)', out))
        self.assertEqual(fields.get('fail'), '0', out)
        return float(fields['p50_us'])

    def test_storm(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ['rm', '-rf', tmp])
        self.cb = os.path.join(tmp, 'connbench')
        subprocess.run(['cc', '-O2', '-o', self.cb,
                        os.path.join(SHARED, 'bench', 'connbench.c')], check=True)
        for i in range(1, 51):
            test_dbus.sh('ip', '-n', self.net.srv, 'addr', 'add', f'198.18.1.{i}/24',
                         'dev', 'veth1')
        test_dbus.sh('ip', '-n', self.net.cli, 'addr', 'add', '198.18.1.200/24', 'dev',
                     'veth0')
        self.start_daemon(default_action='deny', timeout=20,
                          rules=[{'action': 'allow', 'protocol': 'udp',
                                  'port': str(test_dbus.PORT)}])
        agent = self.start_agent({'action': 'allow', 'lifetime': 'once'},
                                 extra=['--delay', '0.5'])
        RESULTS['before'].append(self.connbench())
        storm = subprocess.Popen(['ip', 'netns', 'exec', self.net.cli, test_dbus.PYTHON,
                                  '-c', STORM])
        # until the first prompt is out, the storm is not pending yet
        deadline = time.monotonic() + 10
        while not self.requests(agent, settle=0.01) and time.monotonic() < deadline:
            pass
        while True:
            p50 = self.connbench()
            if storm.poll() is not None:
                break
            RESULTS['during'].append(p50)
        storm.wait(timeout=120)
        RESULTS['after'].append(self.connbench())
        print(f'round: prompts {len(self.requests(agent))}', file=sys.stderr)


def main():
    for _ in range(ROUNDS):
        result = unittest.TextTestRunner(verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromName('test_storm', StormBench))
        if not result.wasSuccessful():
            return 1
    for phase, runs in RESULTS.items():
        print(f'{phase}: {len(runs)} runs, p50 us ' +
              ' '.join(f'{x:.1f}' for x in runs) +
              (f'; median {statistics.median(runs):.1f}' if runs else ''))
    if RESULTS['before'] and RESULTS['during']:
        ratio = statistics.median(RESULTS['during']) / statistics.median(RESULTS['before'])
        print(f'during the storm the other app\'s p50 is {ratio:.2f}x the p50 before it')
    return 0


if __name__ == '__main__':
    sys.exit(main())
