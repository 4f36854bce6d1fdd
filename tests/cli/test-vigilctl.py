#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""vigilctl against a python-dbusmock stand-in for vigild on a private system bus (suite dbus).

Run one case with: test-vigilctl.py VigilctlTest.test_status (VIGILCTL names the binary).
"""

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

try:
    import dbus
    import dbusmock
except ImportError:
    print('python3-dbusmock or python3-dbus is missing: skipping', file=sys.stderr)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, 'vigild_template.py')
VIGILCTL = os.environ.get('VIGILCTL', 'vigilctl')
MAIN_IFACE = 'io.github.vigilfw.Daemon1'
MAIN_OBJ = '/io/github/vigilfw/Daemon1'
TEST_IFACE = 'io.github.vigilfw.Test'

# design.md, "Data flow" step 9, on one line
DESIGN_EVENT = (
    '{"time":"2026-11-22T07:32:18.123Z","verdict":"allow","reason":"rule","rule":"r-1a2b",'
    '"direction":"out","proto":"tcp","family":4,"src":"198.18.0.1","sport":35670,'
    '"dst":"198.18.0.2","dport":7000,"host":"example.org","iface":"eth0",'
    '"pid":15646,"exe":"/usr/bin/curl","cmdline":"curl https://example.org","uid":1000,'
    '"user":"ana","app_id":null,"unit":"app-gnome-org.gnome.Console-1234.scope"}')
# the same with its number, which comes last so that the design's keys keep their places
DESIGN_EVENT_SEQ = DESIGN_EVENT[:-1] + ',"seq":1}'
EVENT_KEYS = ['time', 'verdict', 'reason', 'rule', 'direction', 'proto', 'family', 'src',
              'sport', 'dst', 'dport', 'host', 'iface', 'pid', 'exe', 'cmdline', 'uid', 'user',
              'app_id', 'unit', 'seq']


def vardict(**kw):
    return dbus.Dictionary({k.replace('_', '-'): v for k, v in kw.items()}, signature='sv')


class LineReader:
    """Reads lines from a pipe or a pty with a deadline, so a hang fails instead of blocking."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b''

    def read_until(self, needle, timeout=10):
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f'timed out waiting for {needle!r}; got {self.buf!r}')
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                raise AssertionError(f'EOF waiting for {needle!r}; got {self.buf!r}')
            self.buf += chunk
        head, _, self.buf = self.buf.partition(needle)
        return head + needle

    def readline(self, timeout=10):
        return self.read_until(b'\n', timeout).decode()

    def read_rest(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                break
            self.buf += chunk
        rest, self.buf = self.buf, b''
        return rest


class VigilctlTest(dbusmock.DBusTestCase):

    @classmethod
    def setUpClass(cls):
        cls.start_system_bus()
        cls.dbus_con = cls.get_dbus(system_bus=True)
        cls.address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']

    def setUp(self):
        self.now = int(time.time())
        self.p_mock, self.obj = self.spawn_server_template(
            TEMPLATE, {'now': dbus.Int64(self.now)}, stdout=subprocess.DEVNULL)
        self.mock = dbus.Interface(self.obj, dbusmock.MOCK_IFACE)
        self.env = dict(os.environ, TZ='UTC', LC_ALL='C.UTF-8')
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def tearDown(self):
        if self.p_mock.poll() is None:
            self.p_mock.terminate()
            self.p_mock.wait()

    def stop_mock(self):
        self.p_mock.terminate()
        self.p_mock.wait()
        deadline = time.monotonic() + 10
        while self.dbus_con.name_has_owner(MAIN_IFACE):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def ctl(self, *args, rc=0, stdin=None, address=True):
        argv = [VIGILCTL] + (['--address', self.address] if address else []) + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=self.env,
                           input=stdin, check=False)
        self.assertEqual(p.returncode, rc,
                         f'{argv} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}')
        return p.stdout, p.stderr

    def calls(self, method):
        return [args for _, args in self.mock.GetMethodCalls(method)]

    def auth_flags(self):
        return [(str(m), bool(f)) for m, f in self.obj.GetAuthFlags(dbus_interface=TEST_IFACE)]

    #
    # status
    #

    def test_status(self):
        out, err = self.ctl('status')
        self.assertEqual(err, '')
        since = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(self.now - 7530))
        self.assertEqual(out, f'''\
Version:            0.1.0
Mode:               ask
Default action:     deny
Prompt timeout:     30 s
Queue backend:      xt-nfqueue (the xtables NFQUEUE target through nft compat)
Running since:      {since} (up 2h05m)
Live connections:   3
Rules:              12
Queued:             1234
Allowed:            1200
Denied:             30
Rejected:           4
Prompts:            10
Prompt timeouts:    2
Queue overruns:     0
Malformed packets:  0

Interfaces, best first:
  #  NAME   KIND           CARRIER  IPV4      IPV6      RX       TX  CONNECTIVITY  ADDRESSES
  1  eth0   ethernet       up       default   -     10 MiB  1.0 MiB  v4 full       198.18.0.1/15, fd00::1/64
      - carries the IPv4 default route (metric 100)
      - no IPv6 default route
  2  wwan0  wwan, metered  up       backup 1  -        0 B      0 B  v4 portal     198.19.0.7/32
      - metered: takes over only when eth0 fails
      v4 portal: the HTTP probe was redirected
      v4 sign-in page: http://portal.example/login
      v4 venue page: http://venue.example/
      v4 remaining: 1h00m, 100 MiB
''')

    def test_status_json(self):
        out, _ = self.ctl('status', '--json')
        self.assertEqual(out.count('\n'), 1)
        doc = json.loads(out)
        self.assertEqual(list(doc), ['version', 'mode', 'default-action', 'prompt-timeout',
                                     'stats', 'interfaces', 'connectivity'])
        self.assertEqual(doc['mode'], 'ask')
        self.assertEqual(doc['prompt-timeout'], 30)
        self.assertEqual(list(doc['stats'])[:3], ['queued', 'allowed', 'denied'])
        self.assertEqual(doc['stats']['queue-backend'], 'xt-nfqueue')
        self.assertEqual(doc['stats']['started'], self.now - 7530)
        self.assertEqual([i['name'] for i in doc['interfaces']], ['eth0', 'wwan0'])
        self.assertEqual(doc['interfaces'][0]['reasons'][0],
                         'carries the IPv4 default route (metric 100)')
        # documented keys the daemon left out are null
        self.assertIsNone(doc['connectivity'][0]['portal-url'])
        self.assertEqual(doc['connectivity'][1]['portal-url'], 'http://portal.example/login')

    def test_interfaces(self):
        out, err = self.ctl('interfaces')
        self.assertEqual(err, '')
        self.assertEqual(out, '''\
  #  NAME   KIND           CARRIER  IPV4      IPV6      RX       TX  CONNECTIVITY  ADDRESSES
  1  eth0   ethernet       up       default   -     10 MiB  1.0 MiB  v4 full       198.18.0.1/15, fd00::1/64
      - carries the IPv4 default route (metric 100)
      - no IPv6 default route
  2  wwan0  wwan, metered  up       backup 1  -        0 B      0 B  v4 portal     198.19.0.7/32
      - metered: takes over only when eth0 fails
      v4 portal: the HTTP probe was redirected
      v4 sign-in page: http://portal.example/login
      v4 venue page: http://venue.example/
      v4 remaining: 1h00m, 100 MiB
''')
        _, err = self.ctl('interfaces', 'extra', rc=2)
        self.assertIn("'interfaces' takes no arguments", err)

    def test_interfaces_json(self):
        out, _ = self.ctl('interfaces', '--json')
        self.assertEqual(out.count('\n'), 1)
        doc = json.loads(out)
        self.assertEqual([i['name'] for i in doc], ['eth0', 'wwan0'])
        # the documented keys come first, in a stable order; what is missing is null
        self.assertEqual(list(doc[0])[:5], ['name', 'index', 'kind', 'carrier', 'addresses'])
        self.assertEqual(doc[0]['rank-v4'], 0)
        self.assertEqual(doc[1]['rank-v4'], 1)
        self.assertTrue(doc[1]['metered'])
        self.assertIsNone(doc[0]['gateway-v4'])
        self.assertEqual(doc[0]['reasons'], ['carries the IPv4 default route (metric 100)',
                                             'no IPv6 default route'])

    def test_system_bus_is_the_default(self):
        # no --address: GLib finds the private bus through DBUS_SYSTEM_BUS_ADDRESS
        out, _ = self.ctl('mode', address=False)
        self.assertEqual(out, 'ask\n')
        out, _ = self.ctl('--system', 'mode', address=False)
        self.assertEqual(out, 'ask\n')

    #
    # connections
    #

    def test_connections(self):
        out, err = self.ctl('connections')
        self.assertEqual(err, '')
        self.assertEqual(out, '''\
APP                   PID  USER  PROTO  LOCAL                 REMOTE            STATE             IN      OUT    AGE
curl                 4242  ana   tcp    198.18.0.1:35670  ->  example.org:443   established  121 KiB  2.0 KiB  2h05m
org.mozilla.firefox  5000  ana   tcp    [fd00::1]:50000   ->  [fd00::2]:8443    established  5.1 MiB     10 B  1d03h
sshd                  700  root  tcp    198.18.0.1:22     <-  198.18.0.9:51000  established  4.0 KiB  8.0 KiB  3h00m
-                       -  -     udp    198.18.0.1:40000  ->  198.18.0.53:53    unreplied        0 B     64 B      -
''')
        self.assertEqual(self.calls('GetConnections'), [[{}]])

    def test_connections_json(self):
        out, _ = self.ctl('connections', '--json')
        lines = out.splitlines()
        self.assertEqual(lines[0], '[')
        self.assertEqual(lines[-1], ']')
        self.assertEqual(lines[1], (
            '{"id":101,"proto":"tcp","family":4,"src":"198.18.0.1","sport":35670,'
            '"dst":"198.18.0.2","dport":443,"host":"example.org","state":"established",'
            '"direction":"out","verdict":"allow","rule":"r-1","pid":4242,"exe":"/usr/bin/curl",'
            '"cmdline":"curl https://example.org","uid":1000,"user":"ana","app_id":null,'
            '"unit":"app-gnome-org.gnome.Console-1234.scope","bytes-in":123456,'
            f'"bytes-out":2048,"packets-in":90,"packets-out":20,"started":{(self.now - 7530) * 1000000},'
            '"iface":"eth0"},'))
        conns = json.loads(out)
        self.assertEqual(len(conns), 4)
        # the same keys in the same order for every connection, known or not
        for conn in conns:
            self.assertEqual(list(conn), list(conns[0]))
        self.assertEqual(conns[1]['app_id'], 'org.mozilla.firefox')
        self.assertIsNone(conns[1]['host'])
        self.assertIsNone(conns[3]['pid'])
        self.assertIsNone(conns[3]['exe'])

    def test_connections_all(self):
        out, _ = self.ctl('connections', '--all', '--json')
        self.assertEqual([c['user'] for c in json.loads(out)], ['ana', 'ana', 'root', None, 'bob'])
        self.assertEqual(self.calls('GetConnections'), [[{'all': True}]])
        out, _ = self.ctl('connections', '--app', '/usr/sbin/sshd')
        self.assertEqual(len(out.splitlines()), 2)
        self.assertEqual(self.calls('GetConnections')[-1], [{'app': '/usr/sbin/sshd'}])

    def test_connections_all_not_authorized(self):
        self.mock.AddMethod(MAIN_IFACE, 'GetConnections', 'a{sv}', 'aa{sv}',
                            'raise dbus.exceptions.DBusException("polkit said no", '
                            'name="io.github.vigilfw.Error.NotAuthorized")')
        out, err = self.ctl('connections', '--all', rc=1)
        self.assertEqual(out, '')
        self.assertEqual(err, 'vigilctl: failed to list connections: not authorized: ask an '
                              'administrator, or run as root\n')

    #
    # events
    #

    def test_events_json(self):
        out, err = self.ctl('events', '--json')
        self.assertEqual(err, '')
        lines = out.splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0], DESIGN_EVENT_SEQ)
        for line in lines:
            self.assertEqual(list(json.loads(line)), EVENT_KEYS)
        # unknown values are null, not left out
        self.assertEqual(lines[1], (
            '{"time":"2026-11-22T07:32:19.000Z","verdict":"deny","reason":"default","rule":null,'
            '"direction":"out","proto":"udp","family":6,"src":"fd00::1","sport":5353,'
            '"dst":"fd00::53","dport":53,"host":null,"iface":null,"pid":null,"exe":null,'
            '"cmdline":null,"uid":null,"user":null,"app_id":null,"unit":null,"seq":2}'))
        third = json.loads(lines[2])
        self.assertEqual(third['app_id'], 'org.example.App')
        self.assertEqual(third['cmdline'], 'app --title "a\tb"\n')
        self.assertIn(r'"cmdline":"app --title \"a\tb\"\n"', lines[2])

    def test_events_count(self):
        out, _ = self.ctl('events', '--json', '-n', '1')
        self.assertEqual(len(out.splitlines()), 1)
        self.assertEqual(json.loads(out)['verdict'], 'reject')
        self.assertEqual(self.calls('GetRecentEvents'), [[1]])
        self.ctl('events', '--json')
        self.assertEqual(self.calls('GetRecentEvents')[-1], [0])

    def test_events_human(self):
        out, _ = self.ctl('events')
        self.assertEqual(out, '''\
TIME                 VERDICT  REASON   DIR  PROTO  APP                PID  USER  REMOTE                     RULE
2026-11-22 07:32:18  allow    rule     out  tcp    curl             15646  ana   example.org:7000           r-1a2b
2026-11-22 07:32:19  deny     default  out  udp    -                    -  -     [fd00::53]:53              -
2026-11-22 07:32:20  reject   prompt   in   tcp    org.example.App   5000  ana   198.18.0.9:51000 -> :8080  -
''')

    def event(self, seq):
        """A numbered event after the mock's three: even ones from nc, odd ones from ping."""
        second = 8 * 3600 + seq - 4
        time_text = f'2026-11-22T{second // 3600:02}:{second // 60 % 60:02}:{second % 60:02}.000Z'
        if seq % 2 == 0:
            return vardict(time=time_text, verdict='deny', reason='mode', direction='out',
                           proto='tcp', family=dbus.UInt32(4), src='198.18.0.1',
                           sport=dbus.UInt16(40001), dst='198.18.0.3', dport=dbus.UInt16(25),
                           pid=dbus.UInt32(77), exe='/usr/bin/nc', uid=dbus.UInt32(1000),
                           user='ana', seq=dbus.UInt64(seq))
        return vardict(time=time_text, verdict='allow', reason='timeout', direction='out',
                       proto='icmp', family=dbus.UInt32(4), src='198.18.0.1', dst='198.18.0.4',
                       app_id='org.example.Ping', seq=dbus.UInt64(seq))

    def events(self, *seqs):
        return dbus.Array([self.event(seq) for seq in seqs], signature='a{sv}')

    def batch(self, *seqs):
        return [self.events(*(seqs or (4, 5)))]

    def follow(self, *args):
        argv = [VIGILCTL, '--address', self.address, 'events', '--follow'] + list(args)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p, LineReader(p.stdout.fileno())

    def test_events_follow_json(self):
        p, reader = self.follow('--json', '-n', '1')
        # the newest recent event first: once it shows, vigilctl is subscribed
        self.assertEqual(json.loads(reader.readline())['time'], '2026-11-22T07:32:20.500Z')
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch())
        first = reader.readline()
        second = reader.readline()
        self.assertEqual(first, (
            '{"time":"2026-11-22T08:00:00.000Z","verdict":"deny","reason":"mode","rule":null,'
            '"direction":"out","proto":"tcp","family":4,"src":"198.18.0.1","sport":40001,'
            '"dst":"198.18.0.3","dport":25,"host":null,"iface":null,"pid":77,'
            '"exe":"/usr/bin/nc","cmdline":null,"uid":1000,"user":"ana","app_id":null,'
            '"unit":null,"seq":4}\n'))
        self.assertEqual(json.loads(second)['app_id'], 'org.example.Ping')
        self.assertIsNone(json.loads(second)['sport'])
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(p.stdout.read(), b'')
        self.assertEqual(p.stderr.read(), b'')

    def test_events_follow_human(self):
        p, reader = self.follow('-n', '1')
        header = reader.readline()
        recent = reader.readline()
        self.assertTrue(header.startswith('TIME '), header)
        self.assertIn('org.example.App', recent)
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch())
        lines = [reader.readline(), reader.readline()]
        # no second header, and the batch lines up under the first one
        self.assertTrue(lines[0].startswith('2026-11-22 08:00:00  deny     mode     out'), lines)
        self.assertEqual(header.index('REMOTE'), recent.index('198.18.0.9'))
        self.assertEqual(header.index('REMOTE'), lines[0].index('198.18.0.3:25'))
        self.assertEqual(header.index('APP'), lines[1].index('org.example.Ping'))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 0)

    def test_events_follow_no_history(self):
        p, reader = self.follow('--json', '-n', '0')
        # nothing to wait for but the subscription: emit until a line arrives
        deadline = time.monotonic() + 10
        while True:
            self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch())
            ready, _, _ = select.select([reader.fd], [], [], 0.2)
            if ready:
                break
            self.assertLess(time.monotonic(), deadline)
        self.assertIn('"reason":"mode"', reader.readline())
        self.assertEqual(self.calls('GetRecentEvents'), [])
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)

    def read_seqs(self, reader, n):
        return [json.loads(reader.readline())['seq'] for _ in range(n)]

    def test_events_follow_no_duplicates(self):
        # events 4 and 5 happen while vigilctl asks for the backlog: they are in it, and the
        # batch that carries them goes out before the reply
        self.obj.AddEvents(self.events(4, 5), dbus_interface=TEST_IFACE)
        p, reader = self.follow('--json', '-n', '2')
        self.assertEqual(self.read_seqs(reader, 2), [4, 5])
        # a batch sent after the reply may still carry an event of the backlog
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch(5, 6, 7))
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch(8))
        self.assertEqual(self.read_seqs(reader, 3), [6, 7, 8])
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(p.stdout.read(), b'')
        self.assertEqual(self.calls('GetRecentEvents'), [[2]])

    def test_events_follow_subscribes_before_the_backlog(self):
        # the backlog is asked for once the subscription holds, so nothing falls between them
        p, reader = self.follow('--json', '-n', '1')
        self.assertEqual(self.read_seqs(reader, 1), [3])
        self.assertEqual([name for _, name, _ in self.mock.GetCalls()
                          if name in ('Subscribe', 'GetRecentEvents')],
                         ['Subscribe', 'GetRecentEvents'])
        self.assertEqual(self.obj.GetRecentBeforeSubscribed(dbus_interface=TEST_IFACE), 0)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)

    def test_events_follow_daemon_restart(self):
        p, reader = self.follow('--json', '-n', '1')
        self.assertEqual(self.read_seqs(reader, 1), [3])
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch(4, 5))
        self.assertEqual(self.read_seqs(reader, 2), [4, 5])
        self.stop_mock()
        # like vigild, the new mock takes the name only once its methods are there
        self.p_mock = self.spawn_server('io.github.vigilfw.Test.Restarted', MAIN_OBJ, MAIN_IFACE,
                                        system_bus=True, stdout=subprocess.DEVNULL)
        self.obj = self.dbus_con.get_object('io.github.vigilfw.Test.Restarted', MAIN_OBJ)
        self.mock = dbus.Interface(self.obj, dbusmock.MOCK_IFACE)
        self.mock.AddTemplate(TEMPLATE, {'now': dbus.Int64(self.now), 'own-name': True})
        # the new vigild numbers from 1 again: all it has is shown, then what it sends
        self.assertEqual(self.read_seqs(reader, 3), [1, 2, 3])
        self.assertEqual(self.calls('GetRecentEvents'), [[0]])
        self.assertEqual(len(self.calls('Subscribe')), 1)
        self.mock.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}', self.batch(3, 4))
        self.assertEqual(self.read_seqs(reader, 1), [4])
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(p.stderr.read().decode(),
                         'vigilctl: vigild stopped; waiting for it to come back\n'
                         'vigilctl: vigild is back\n')

    #
    # rules
    #

    def test_rules_list(self):
        out, _ = self.ctl('rules', 'list')
        lines = out.splitlines()
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith('ID   ENABLED  ORIGIN   HITS  LAST USED            RULE'),
                        lines[0])
        self.assertTrue(lines[1].startswith('r-1  yes      user       12  2026-11-22 07:32:18  allow '),
                        lines[1])
        self.assertTrue(lines[2].startswith('r-2  no       prompt      0  never                deny '),
                        lines[2])
        self.assertTrue(lines[3].startswith('r-3  yes      managed     3  never                reject '),
                        lines[3])
        # the rule described by the rule model, and the note in its own aligned column
        for part in ('/usr/bin/curl', '*.example.org', '443'):
            self.assertIn(part, lines[1])
        self.assertIn('org.mozilla.firefox', lines[2])
        self.assertEqual(lines[0].index('NOTE'), lines[2].index('testing'))
        self.assertTrue(lines[1].endswith('  -'))

    def test_rules_list_json(self):
        out, _ = self.ctl('rules', 'list', '--json', '--origin', 'prompt')
        self.assertEqual(self.calls('GetRules'), [[{'origin': 'prompt'}]])
        self.assertEqual(out, (
            '[\n{"id":"r-2","enabled":false,"action":"deny","app-id":"org.mozilla.firefox",'
            '"direction":"out","protocol":"any","cidr":"198.18.0.0/15","lifetime":"until",'
            f'"expires":1893456000,"origin":"prompt","created":{self.now - 3600},"hits":0,'
            '"note":"testing","read-only":false}\n]\n'))

    def test_rules_add(self):
        out, err = self.ctl('rules', 'add', 'allow', '--exe', '/usr/bin/curl',
                            '--host', '*.example.org', '--port', '443', '--proto', 'tcp',
                            '--direction', 'out', '--user', '1000', '--note', 'for work')
        self.assertEqual((out, err), ('r-new-1\n', ''))
        (rule,), = self.calls('AddRule')
        self.assertEqual(rule, {'action': 'allow', 'exe': '/usr/bin/curl',
                                'host': '*.example.org', 'port': '443', 'protocol': 'tcp',
                                'direction': 'out', 'user': 1000, 'note': 'for work'})
        self.assertIsInstance(rule['user'], dbus.UInt32)
        self.assertEqual(self.auth_flags(), [('AddRule', True)])

    def test_rules_add_lifetimes(self):
        self.ctl('rules', 'add', 'deny', '--app-id', 'org.example.App', '--for', '1h30m')
        self.ctl('rules', 'add', 'reject', '--unit', 'ssh.service', '--until',
                 '2030-01-01T00:00:00Z', '--cidr', '198.18.0.0/15')
        self.ctl('rules', 'add', 'allow', '--user', 'root', '--lifetime', 'once', '--disabled')
        first, second, third = [args[0] for args in self.calls('AddRule')]
        self.assertEqual(first['lifetime'], 'until')
        self.assertIsInstance(first['expires'], dbus.Int64)
        self.assertAlmostEqual(int(first['expires']), int(time.time()) + 5400, delta=10)
        self.assertEqual(second, {'action': 'reject', 'unit': 'ssh.service',
                                  'cidr': '198.18.0.0/15', 'lifetime': 'until',
                                  'expires': 1893456000})
        self.assertEqual(third, {'action': 'allow', 'enabled': False, 'user': 0,
                                 'lifetime': 'once'})

    def test_rules_add_invalid(self):
        _, err = self.ctl('rules', 'add', 'allow', '--exe', 'curl', rc=2)
        self.assertTrue(err.startswith('vigilctl: invalid rule: '), err)
        _, err = self.ctl('rules', 'add', 'maybe', rc=2)
        self.assertEqual(err, "vigilctl: unknown action 'maybe': use allow, deny or reject\n")
        _, err = self.ctl('rules', 'add', 'allow', '--for', 'soon', rc=2)
        self.assertEqual(err, "vigilctl: 'soon' is not a duration such as 30m or 2h\n")
        _, err = self.ctl('rules', 'add', 'allow', '--until', '2001-01-01T00:00:00Z', rc=2)
        self.assertEqual(err, 'vigilctl: --until 2001-01-01T00:00:00Z is in the past\n')
        _, err = self.ctl('rules', 'add', 'allow', '--lifetime', 'forever', '--for', '1h', rc=2)
        self.assertEqual(err, 'vigilctl: --until and --for need --lifetime until, or no '
                              '--lifetime\n')
        # nothing reached the daemon
        self.assertEqual(self.calls('AddRule'), [])

    def test_rules_remove_enable_disable(self):
        self.assertEqual(self.ctl('rules', 'disable', 'r-1'), ('', ''))
        self.assertEqual(self.ctl('rules', 'enable', 'r-2'), ('', ''))
        self.assertEqual(self.ctl('rules', 'remove', 'r-1', 'r-2'), ('', ''))
        self.assertEqual(self.calls('UpdateRule'), [['r-1', {'enabled': False}],
                                                    ['r-2', {'enabled': True}]])
        self.assertEqual(self.calls('RemoveRule'), [['r-1'], ['r-2']])
        self.assertEqual(self.auth_flags(), [('UpdateRule', True), ('UpdateRule', True),
                                             ('RemoveRule', True), ('RemoveRule', True)])

    def test_rules_errors(self):
        _, err = self.ctl('rules', 'remove', 'r-404', rc=1)
        self.assertEqual(err, 'vigilctl: failed to remove rule r-404: not found: no rule r-404\n')
        _, err = self.ctl('rules', 'disable', 'r-3', rc=1)
        self.assertEqual(err, 'vigilctl: failed to disable rule r-3: read-only (a managed '
                              'drop-in): rule r-3 comes from a drop-in\n')
        _, err = self.ctl('rules', 'remove', rc=2)
        self.assertEqual(err, "vigilctl: 'rules remove' needs a rule id\n")

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def test_rules_import(self):
        ours = self.write('ours.json', json.dumps({'version': 1, 'rules': [
            {'action': 'allow', 'exe': '/usr/bin/a'},
            {'action': 'deny', 'bogus': 1},
            {'action': 'deny', 'host': 'example.org'}]}))
        snitch = self.write('snitch.json', json.dumps(
            {'name': 'allow-a', 'action': 'allow', 'duration': 'always',
             'operator': {'type': 'simple', 'operand': 'process.path', 'data': '/usr/bin/a'}}))
        out, err = self.ctl('rules', 'import', ours, snitch, rc=1)
        self.assertEqual(out, 'r-imp-1\nr-imp-2\nr-imp-3\n')
        self.assertEqual(err, f"vigilctl: {ours}: rule 2: unknown key 'bogus'\n"
                              'vigilctl: 1 rule could not be imported\n')
        calls = self.calls('ImportRules')
        self.assertEqual([c[0] for c in calls], ['vigil', 'opensnitch'])
        with open(ours, encoding='utf-8') as f:
            self.assertEqual(calls[0][1], f.read())
        self.assertEqual(self.auth_flags(), [('ImportRules', True), ('ImportRules', True)])

    def test_rules_import_format_and_stdin(self):
        out, err = self.ctl('rules', 'import', '--format', 'opensnitch', '-',
                            stdin='[{"action": "deny", "operator": {}}]')
        self.assertEqual((out, err), ('r-imp-1\n', ''))
        self.assertEqual(self.calls('ImportRules')[0][0], 'opensnitch')
        _, err = self.ctl('rules', 'import', '-', stdin='not json', rc=1)
        self.assertEqual(err, 'vigilctl: failed to import stdin: invalid file: line 1: not JSON: '
                              'Expecting value: line 1 column 1 (char 0)\n'
                              'vigilctl: failed to import 1 of 1 files\n')
        missing = os.path.join(self.tmp.name, 'missing.json')
        _, err = self.ctl('rules', 'import', missing, rc=1)
        self.assertTrue(err.startswith(f'vigilctl: failed to read {missing}: '), err)
        _, err = self.ctl('rules', 'import', '--format', 'ufw', missing, rc=2)
        self.assertEqual(err, "vigilctl: unknown format 'ufw': use vigil or opensnitch\n")

    def test_rules_export(self):
        out, _ = self.ctl('rules', 'export')
        doc = json.loads(out)
        self.assertEqual(sorted(r['id'] for r in doc['rules']), ['r-1', 'r-2'])
        path = os.path.join(self.tmp.name, 'rules.json')
        self.assertEqual(self.ctl('rules', 'export', '--include-managed', path), ('', ''))
        with open(path, encoding='utf-8') as f:
            doc = json.load(f)
        self.assertEqual(sorted(r['id'] for r in doc['rules']), ['r-1', 'r-2', 'r-3'])
        self.assertEqual(self.calls('ExportRules'), [[{}], [{'include-managed': True}]])

    #
    # mode and default action
    #

    def test_mode(self):
        self.assertEqual(self.ctl('mode'), ('ask\n', ''))
        self.assertEqual(self.ctl('mode', 'block-all'), ('', ''))
        self.assertEqual(self.ctl('mode'), ('block-all\n', ''))
        self.assertEqual(self.calls('SetMode'), [['block-all']])
        _, err = self.ctl('mode', 'bogus', rc=2)
        self.assertEqual(err, "vigilctl: unknown mode 'bogus': use ask, allow, deny, block-all "
                              'or monitor\n')
        self.assertEqual(self.calls('SetMode'), [['block-all']])
        self.assertEqual(self.auth_flags(), [('SetMode', True)])

    def test_default_action(self):
        self.assertEqual(self.ctl('default-action'), ('deny\n', ''))
        self.assertEqual(self.ctl('default-action', 'reject'), ('', ''))
        self.assertEqual(self.ctl('default-action'), ('reject\n', ''))
        _, err = self.ctl('default-action', 'none', rc=2)
        self.assertEqual(err, "vigilctl: unknown action 'none': use allow, deny or reject\n")
        self.assertEqual(self.auth_flags(), [('SetDefaultAction', True)])

    def test_prompt_timeout(self):
        self.assertEqual(self.ctl('prompt-timeout'), ('30\n', ''))
        self.assertEqual(self.ctl('prompt-timeout', '90'), ('', ''))
        self.assertEqual(self.ctl('prompt-timeout'), ('90\n', ''))
        self.assertEqual(self.ctl('prompt-timeout', '3600'), ('', ''))
        self.assertEqual(self.calls('SetPromptTimeout'), [[90], [3600]])
        self.assertIsInstance(self.calls('SetPromptTimeout')[0][0], dbus.UInt32)
        for bad in ('0', '3601', 'soon', '1.5', '', '99999999999999999999'):
            with self.subTest(bad=bad):
                _, err = self.ctl('prompt-timeout', bad, rc=2)
                self.assertEqual(err, f"vigilctl: '{bad}' is not a prompt timeout: use 1 to "
                                      '3600 seconds\n')
        _, err = self.ctl('prompt-timeout', '10', '20', rc=2)
        self.assertEqual(err, "vigilctl: 'prompt-timeout' takes at most one argument\n")
        self.assertEqual(len(self.calls('SetPromptTimeout')), 2)
        self.assertEqual(self.auth_flags(), [('SetPromptTimeout', True)] * 2)

    def test_prompt_timeout_refused(self):
        self.mock.AddMethod(MAIN_IFACE, 'SetPromptTimeout', 'u', '',
                            'raise dbus.exceptions.DBusException("polkit said no", '
                            'name="io.github.vigilfw.Error.NotAuthorized")')
        out, err = self.ctl('prompt-timeout', '5', rc=1)
        self.assertEqual(out, '')
        self.assertEqual(err, 'vigilctl: failed to set the prompt timeout: not authorized: ask '
                              'an administrator, or run as root\n')
        self.mock.AddMethod(MAIN_IFACE, 'SetPromptTimeout', 'u', '',
                            'raise dbus.exceptions.DBusException("a prompt timeout of 5 s is '
                            'out of range", name="io.github.vigilfw.Error.InvalidArgument")')
        _, err = self.ctl('prompt-timeout', '5', rc=1)
        self.assertEqual(err, 'vigilctl: failed to set the prompt timeout: invalid argument: '
                              'a prompt timeout of 5 s is out of range\n')
        self.assertEqual(self.ctl('prompt-timeout'), ('30\n', ''))

    def test_mode_not_authorized(self):
        self.mock.AddMethod(MAIN_IFACE, 'SetMode', 's', '',
                            'raise dbus.exceptions.DBusException("polkit said no", '
                            'name="io.github.vigilfw.Error.NotAuthorized")')
        out, err = self.ctl('mode', 'allow', rc=1)
        self.assertEqual(out, '')
        self.assertEqual(err, 'vigilctl: failed to set the mode: not authorized: ask an '
                              'administrator, or run as root\n')

    #
    # top
    #

    def test_top_snapshot(self):
        out, err = self.ctl('top')
        self.assertEqual(err, '')
        self.assertEqual(out, '''\
vigild 0.1.0, mode ask: 4 apps, 4 connections, in 201 KiB/s, out 512 B/s

APP                        USER  CONNS  TOTAL    RATE IN  RATE OUT  BYTES IN  BYTES OUT
org.mozilla.firefox        ana       1     40  200 KiB/s   512 B/s   5.1 MiB       10 B
  -> tcp [fd00::2]:8443                                -         -   5.1 MiB       10 B
curl                       ana       1      7  1.0 KiB/s     0 B/s   121 KiB    2.0 KiB
  -> tcp example.org:443                               -         -   121 KiB    2.0 KiB
sshd                       root      1      3      0 B/s     0 B/s   4.0 KiB    8.0 KiB
  <- tcp 198.18.0.9:51000                              -         -   4.0 KiB    8.0 KiB
unknown                    -         1      -          -         -       0 B       64 B
  -> udp 198.18.0.53:53                                -         -       0 B       64 B
''')

    def top_on_pty(self, rows=30, cols=100):
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
        before = termios.tcgetattr(slave)
        p = subprocess.Popen([VIGILCTL, '--address', self.address, 'top'], stdin=slave,
                             stdout=slave, stderr=slave, env=self.env, start_new_session=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        reader = LineReader(master)
        reader.read_until(b'\x1b[?1049h\x1b[?25l')
        frame = reader.read_until(b'curl').decode()
        self.assertIn('\x1b[H\x1b[2J', frame)
        if cols >= 100:
            self.assertIn('(q to quit)', frame)
        during = termios.tcgetattr(slave)
        self.assertEqual(during[3] & (termios.ICANON | termios.ECHO), 0)
        return p, master, slave, reader, before

    def test_top_tty_quits_on_q(self):
        p, master, slave, reader, before = self.top_on_pty()
        os.write(master, b'q')
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertTrue(reader.read_rest(timeout=1).endswith(b'\x1b[?25h\x1b[?1049l'))
        self.assertEqual(termios.tcgetattr(slave), before)

    def test_top_tty_sigint_restores_terminal(self):
        p, _, slave, reader, before = self.top_on_pty()
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertTrue(reader.read_rest(timeout=1).endswith(b'\x1b[?25h\x1b[?1049l'))
        self.assertEqual(termios.tcgetattr(slave), before)

    def test_top_tty_narrow(self):
        p, master, _, reader, _ = self.top_on_pty(rows=6, cols=52)
        # one more frame, then check it: nothing wider than the terminal, the totals left
        # out before the names are cut, and only as many lines as fit; the rates now come
        # from two polls of the mock's unchanging counters
        reader.read_until(b'\x1b[2J', timeout=5)
        frame = reader.read_until(b'\x1b[2J', timeout=5).decode()
        lines = frame.split('\x1b[H')[0].splitlines()
        for line in lines:
            self.assertLessEqual(len(line), 52, repr(line))
        self.assertEqual(len(lines), 6, lines)
        self.assertTrue(lines[0].startswith('vigild 0.1.0, mode ask: 4 apps'), lines)
        self.assertTrue(lines[0].endswith('…'), lines)
        self.assertEqual(lines[2].split(), ['APP', 'USER', 'CONNS', 'RATE', 'IN', 'RATE', 'OUT'])
        self.assertEqual(lines[3], 'org.mozilla.firefox  ana       1    0 B/s     0 B/s')
        self.assertTrue(lines[4].startswith('curl  '), lines)
        self.assertEqual(lines[5], '… 2 more apps')
        os.write(master, b'q')
        self.assertEqual(p.wait(timeout=10), 0)

    #
    # errors
    #

    def test_not_running(self):
        self.stop_mock()
        _, err = self.ctl('status', rc=1)
        self.assertEqual(err, 'vigilctl: failed to get the status: vigild is not running\n')
        _, err = self.ctl('connections', rc=1)
        self.assertEqual(err, 'vigilctl: failed to list connections: vigild is not running\n')
        _, err = self.ctl('mode', 'deny', rc=1)
        self.assertEqual(err, 'vigilctl: failed to set the mode: vigild is not running\n')
        _, err = self.ctl('prompt-timeout', rc=1)
        self.assertEqual(err, 'vigilctl: failed to get the prompt timeout: vigild is not '
                              'running\n')
        _, err = self.ctl('top', rc=1)
        self.assertEqual(err, 'vigilctl: failed to get connections: vigild is not running\n')

    def test_not_authorized(self):
        self.mock.AddMethod(MAIN_IFACE, 'AddRule', 'a{sv}', 's',
                            'raise dbus.exceptions.DBusException("polkit said no", '
                            'name="io.github.vigilfw.Error.NotAuthorized")')
        out, err = self.ctl('rules', 'add', 'allow', '--exe', '/usr/bin/curl', rc=1)
        self.assertEqual(out, '')
        self.assertEqual(err, 'vigilctl: failed to add rule: not authorized: ask an '
                              'administrator, or run as root\n')

    def test_bad_bus_address(self):
        _, err = self.ctl('--address', 'unix:path=/nonexistent/bus', 'status', rc=1,
                          address=False)
        self.assertTrue(err.startswith('vigilctl: failed to connect to unix:path=/nonexistent/bus: '),
                        err)

    def test_usage_errors(self):
        cases = [
            ([], "vigilctl: no command given; see 'vigilctl --help'\n"),
            (['frobnicate'], "vigilctl: unknown command 'frobnicate'; see 'vigilctl --help'\n"),
            (['rules'], "vigilctl: 'rules' needs a command: list, add, remove, enable, disable, "
                        'import or export\n'),
            (['rules', 'frob'], "vigilctl: unknown command 'rules frob'; see 'vigilctl --help'\n"),
            (['connections', '--bogus'], 'vigilctl: Unknown option --bogus\n'),
            (['status', 'extra'], "vigilctl: 'status' takes no arguments\n"),
            (['mode', '--json'], 'vigilctl: Unknown option --json\n'),
            (['--session', 'status'], 'vigilctl: --system, --session and --address exclude '
                                      'each other\n'),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                out, err = self.ctl(*args, rc=2)
                self.assertEqual((out, err), ('', expected))

    def test_help(self):
        out, _ = self.ctl('--help', address=False)
        for command in ('status', 'connections', 'events', 'rules add ACTION', 'mode [MODE]',
                        'default-action [ACTION]', 'prompt-timeout [SECONDS]', 'top'):
            self.assertIn(f'  {command} ', out)
        out, _ = self.ctl('rules', 'add', '--help', address=False)
        self.assertIn('vigilctl [OPTION…] rules add ACTION', out)
        self.assertIn('--for=DURATION', out)
        out, _ = self.ctl('--version', address=False)
        self.assertTrue(out.startswith('vigilctl '), out)

    def test_options_after_the_command(self):
        out, _ = self.ctl('connections', '--address', self.address, '--json', address=False)
        self.assertEqual(len(json.loads(out)), 4)


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
