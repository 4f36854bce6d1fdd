# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the tests that run the real vigild inside network namespaces.

Each test gets its own pair of namespaces joined by a veth pair: a client (where vigild
runs) at 198.18.0.1 / fd00:fb::1 and a server at 198.18.0.2 / fd00:fb::2, so tests can run
in parallel and nothing leaves the machine. run_main() maps a skipped test to exit status
77 so that meson reports it as skipped and tools/test.sh fails the run.
"""

import importlib.util
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_ROOT = os.environ.get('VIGIL_BUILD_ROOT', '')
VIGILD = os.environ.get('VIGILD', os.path.join(BUILD_ROOT, 'src', 'daemon', 'vigild'))
NETPEER = os.path.join(HERE, 'netpeer.py')
PYTHON = '/usr/bin/python3'
CLIENT4, SERVER4 = '198.18.0.1', '198.18.0.2'
CLIENT6, SERVER6 = 'fd00:fb::1', 'fd00:fb::2'
PORT = 7000

_counter = itertools.count()


def sh(*args, check=True, ns=None, timeout=30, **kwargs):
    cmd = list(args)
    if ns is not None:
        cmd = ['ip', 'netns', 'exec', ns] + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout,
                          **kwargs)


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest('needs root to create network namespaces and run vigild')
    if not os.path.exists(VIGILD):
        raise unittest.SkipTest(f'vigild not built at {VIGILD}')
    probe = f'vgt-probe-{os.getpid()}'
    r = subprocess.run(['ip', 'netns', 'add', probe], capture_output=True, text=True)
    if r.returncode != 0:
        raise unittest.SkipTest(f'cannot create network namespaces: {r.stderr.strip()}')
    subprocess.run(['ip', 'netns', 'del', probe], capture_output=True)


class Net:
    """Two namespaces joined by veth; the client side is where vigild runs."""

    def __init__(self):
        n = f'{os.getpid() % 100000}x{next(_counter)}'
        self.cli = f'vgt-c{n}'
        self.srv = f'vgt-s{n}'
        self.procs = []

    def up(self):
        sh('ip', 'netns', 'add', self.cli)
        sh('ip', 'netns', 'add', self.srv)
        sh('ip', 'link', 'add', 'veth0', 'netns', self.cli, 'type', 'veth', 'peer', 'name',
           'veth1', 'netns', self.srv)
        sh('ip', '-n', self.cli, 'addr', 'add', f'{CLIENT4}/24', 'dev', 'veth0')
        sh('ip', '-n', self.srv, 'addr', 'add', f'{SERVER4}/24', 'dev', 'veth1')
        sh('ip', '-n', self.cli, 'addr', 'add', f'{CLIENT6}/64', 'dev', 'veth0', 'nodad')
        sh('ip', '-n', self.srv, 'addr', 'add', f'{SERVER6}/64', 'dev', 'veth1', 'nodad')
        for ns in (self.cli, self.srv):
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        sh('ip', '-n', self.cli, 'link', 'set', 'veth0', 'up')
        sh('ip', '-n', self.srv, 'link', 'set', 'veth1', 'up')
        # a server on the far side, and one on the client's own loopback
        for ns in (self.srv, self.cli):
            server = subprocess.Popen(['ip', 'netns', 'exec', ns, PYTHON, NETPEER, 'serve',
                                       str(PORT)], stdout=subprocess.PIPE, text=True)
            self.procs.append(server)
            assert server.stdout.readline().strip() == 'ready'
        # a fresh veth pair may lose the very first packet while neighbours are resolved;
        # warm both families up before any test measures anything
        for addr in (SERVER4, SERVER6):
            self.connect('tcp', addr, timeout=3.0)

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.cli, self.srv):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)

    def connect(self, proto, addr, timeout=2.0, port=PORT):
        r = sh(PYTHON, NETPEER, proto, addr, str(port), str(timeout), ns=self.cli,
               timeout=timeout + 10)
        return json.loads(r.stdout)

    def vigil_tables(self):
        r = sh('nft', 'list', 'tables', ns=self.cli)
        return [line for line in r.stdout.splitlines() if line.strip() == 'table inet vigil']

    def ruleset(self):
        return sh('nft', 'list', 'ruleset', ns=self.cli).stdout


class Daemon:
    """The build tree's vigild in the client namespace, events read from --print-events."""

    def __init__(self, net, mode='ask', default_action='allow', fail_open=True, rules=None,
                 extra=None, connectivity=None):
        self.net = net
        self.dir = tempfile.TemporaryDirectory(prefix='vigil-test-')
        self.state = os.path.join(self.dir.name, 'state')
        self.dropins = os.path.join(self.dir.name, 'rules.d')
        os.makedirs(self.state)
        os.makedirs(self.dropins)
        self.conf = os.path.join(self.dir.name, 'vigild.conf')
        # no connectivity probes unless a test asks for them: with the defaults vigild would
        # try public hosts. [daemon] comes last, so lines a test appends land there
        connectivity = connectivity or {'Enabled': 'false'}
        with open(self.conf, 'w', encoding='utf-8') as f:
            f.write('[connectivity]\n')
            for key, value in connectivity.items():
                f.write(f'{key}={value}\n')
            f.write('[daemon]\n'
                    f'Mode={mode}\nDefaultAction={default_action}\n'
                    f'FailOpen={"true" if fail_open else "false"}\n'
                    f'StateDirectory={self.state}\nDropInDirectory={self.dropins}\n'
                    'LogVerdicts=true\n')
        if rules is not None:
            self.write_rules(rules)
        self.extra = extra or []
        self.proc = None
        self.events = queue.Queue()
        self.stderr = []

    def write_rules(self, rules):
        with open(os.path.join(self.state, 'rules.json'), 'w', encoding='utf-8') as f:
            json.dump({'version': 1, 'rules': rules}, f)

    def start(self):
        self.proc = subprocess.Popen(
            ['ip', 'netns', 'exec', self.net.cli, VIGILD, '--config', self.conf,
             '--print-events', '-v'] + self.extra,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started = threading.Event()

        def read_stdout():
            for line in self.proc.stdout:
                self.events.put(json.loads(line))

        def read_stderr():
            for line in self.proc.stderr:
                self.stderr.append(line.rstrip('\n'))
                if 'filtering new connections' in line:
                    started.set()
            started.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        threading.Thread(target=read_stderr, daemon=True).start()
        if not started.wait(20) or self.proc.poll() is not None:
            raise AssertionError('vigild did not start:\n' + '\n'.join(self.stderr))
        return self

    def wait_event(self, timeout=5.0, **match):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                ev = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(ev)
            if all(ev.get(k) == v for k, v in match.items()):
                return ev
        raise AssertionError(f'no event matching {match}; saw {seen}')

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            # the ip netns exec wrapper execs vigild, so the signal reaches it directly
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        self.dir.cleanup()


def rule(action, **kw):
    r = {'action': action}
    r.update(kw)
    return r


def run_main():
    """Runs the one test named on the command line; exit 77 when it was skipped."""
    names = sys.argv[1:]
    loader = unittest.TestLoader()
    main = sys.modules['__main__']
    suite = loader.loadTestsFromNames(names, main) if names else loader.loadTestsFromModule(main)
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if res.skipped and not res.failures and not res.errors and res.testsRun == len(res.skipped):
        for _, why in res.skipped:
            print(f'SKIP: {why}')
        sys.exit(77)
    sys.exit(0 if res.wasSuccessful() else 1)


def load_test_dbus():
    """The D-Bus suite's fixtures (a private system bus, dbusmock's polkitd), for the suites
    that talk to vigild over D-Bus: (module, None), or (None, why they cannot be used)."""
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        spec = importlib.util.spec_from_file_location(
            'vigil_test_dbus', os.path.join(here, '..', 'dbus', 'test-dbus.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError as e:  # pragma: no cover
        return None, str(e)
    return module, None if module.dbusmock is not None else module.IMPORT_ERROR
