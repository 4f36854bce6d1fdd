#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The captive-portal and connectivity checker of the real vigild (suite netns).

vigild runs in a client namespace whose default routes lead through a veth pair to a
"network" namespace. There, portal-servers.py plays DNS, the HTTP and HTTPS probe servers and
an RFC 8908 API on 198.18.200.1 / fd00:200::1 (addresses off the link, so the routes matter),
with a CA made here with openssl. Nothing leaves the machine.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'enforce'))

from vigiltest import (PYTHON, Daemon, load_test_dbus, require_root,  # noqa: E402
                       run_main, sh)

test_dbus, IMPORT_ERROR = load_test_dbus()
if IMPORT_ERROR is None:
    from gi.repository import Gio, GLib

BUILD_ROOT = os.environ.get('VIGIL_BUILD_ROOT', '')
VIGILCTL = os.environ.get('VIGILCTL', os.path.join(BUILD_ROOT, 'src', 'cli', 'vigilctl'))
SERVERS = os.path.join(HERE, 'portal-servers.py')
NAME = 'io.github.vigilfw.Daemon1'
OBJ = '/io/github/vigilfw/Daemon1'
SERVER4, SERVER6 = '198.18.200.1', 'fd00:200::1'
HOST = 'probe.vigil.test'
API_URL = f'https://{HOST}:8443/api'

_counter = iter(range(1000))


def make_certs(d):
    """A CA, a server certificate for HOST signed by it, and a self-signed one."""
    def ssl(*args):
        subprocess.run(['/usr/bin/openssl'] + list(args), check=True, capture_output=True,
                       cwd=d)
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
        '-days', '2', '-subj', '/CN=Vigil test CA')
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
        '-subj', f'/CN={HOST}')
    with open(os.path.join(d, 'san.ext'), 'w', encoding='utf-8') as f:
        f.write(f'subjectAltName=DNS:{HOST}\n')
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext')
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'selfsigned.key', '-out',
        'selfsigned.pem', '-days', '2', '-subj', f'/CN={HOST}', '-addext',
        f'subjectAltName=DNS:{HOST}')


class Network:
    """cli (vigild) --veth0/veth1-- net (servers); optionally a second uplink veth2 to a
    namespace that answers nothing."""

    def __init__(self, second_uplink=False):
        n = f'{os.getpid() % 100000}p{next(_counter)}'
        self.cli, self.net, self.dead = f'vgp-c{n}', f'vgp-n{n}', f'vgp-d{n}'
        self.second = second_uplink
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix='vigil-portal-')
        os.chmod(self.dir, 0o755)

    def up(self):
        for ns in (self.cli, self.net) + ((self.dead,) if self.second else ()):
            sh('ip', 'netns', 'add', ns)
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        sh('ip', 'link', 'add', 'veth0', 'netns', self.cli, 'type', 'veth', 'peer', 'name',
           'veth1', 'netns', self.net)
        # no DAD: the router's link-local address must be usable at once for its RAs
        sh('sysctl', '-qw', 'net.ipv6.conf.veth0.accept_dad=0', ns=self.cli)
        sh('sysctl', '-qw', 'net.ipv6.conf.veth1.accept_dad=0', ns=self.net)
        sh('ip', '-n', self.cli, 'addr', 'add', '198.18.1.1/24', 'dev', 'veth0')
        sh('ip', '-n', self.cli, 'addr', 'add', 'fd00:1::1/64', 'dev', 'veth0', 'nodad')
        sh('ip', '-n', self.net, 'addr', 'add', '198.18.1.2/24', 'dev', 'veth1')
        sh('ip', '-n', self.net, 'addr', 'add', 'fd00:1::2/64', 'dev', 'veth1', 'nodad')
        sh('ip', '-n', self.net, 'addr', 'add', f'{SERVER4}/32', 'dev', 'lo')
        sh('ip', '-n', self.net, 'addr', 'add', f'{SERVER6}/128', 'dev', 'lo')
        sh('ip', '-n', self.cli, 'link', 'set', 'veth0', 'up')
        sh('ip', '-n', self.net, 'link', 'set', 'veth1', 'up')
        sh('ip', '-n', self.cli, 'route', 'add', 'default', 'via', '198.18.1.2', 'metric', '100')
        sh('ip', '-n', self.cli, '-6', 'route', 'add', 'default', 'via', 'fd00:1::2')
        if self.second:
            sh('ip', 'link', 'add', 'veth2', 'netns', self.cli, 'type', 'veth', 'peer', 'name',
               'veth3', 'netns', self.dead)
            sh('ip', '-n', self.cli, 'addr', 'add', '198.18.2.1/24', 'dev', 'veth2')
            sh('ip', '-n', self.dead, 'addr', 'add', '198.18.2.2/24', 'dev', 'veth3')
            sh('ip', '-n', self.cli, 'link', 'set', 'veth2', 'up')
            sh('ip', '-n', self.dead, 'link', 'set', 'veth3', 'up')
            # a worse default route: without SO_BINDTODEVICE every probe would take veth0
            sh('ip', '-n', self.cli, 'route', 'add', 'default', 'via', '198.18.2.2', 'metric',
               '200')
        make_certs(self.dir)
        with open(os.path.join(self.dir, 'resolv.conf'), 'w', encoding='utf-8') as f:
            f.write(f'# test\nsearch vigil.test\nnameserver {SERVER4}\n')
        self.set_state()
        open(os.path.join(self.dir, 'log'), 'w').close()
        p = subprocess.Popen(['ip', 'netns', 'exec', self.net, PYTHON, SERVERS, self.dir],
                             stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        assert p.stdout.readline().strip() == 'ready'

    def set_state(self, **kw):
        st = {'dns': 'ok', 'http': 'ok', 'https': 'ok',
              'names': {HOST: [SERVER4, SERVER6]},
              'api': {'captive': False}}
        st.update(kw)
        tmp = os.path.join(self.dir, 'state.json.tmp')
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(st, f)
        os.rename(tmp, os.path.join(self.dir, 'state.json'))

    def log(self):
        with open(os.path.join(self.dir, 'log'), encoding='utf-8') as f:
            return f.read().splitlines()

    def send_ra(self, uri):
        """An RA with RFC 8910 option 37 from the router's link-local address."""
        code = (
            'import socket,struct,sys\n'
            'uri=sys.argv[1].encode()\n'
            'n=(2+len(uri)+7)//8\n'
            'opt=bytes([37,n])+uri+bytes(n*8-2-len(uri))\n'
            # type, code, checksum (the kernel fills it), hop limit, flags, lifetime 0
            # (no default route from this RA), reachable, retrans
            'ra=struct.pack("!BBHBBHII",134,0,0,64,0,0,0,0)+opt\n'
            's=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6)\n'
            's.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_HOPS,255)\n'
            'i=socket.if_nametoindex("veth1")\n'
            's.sendto(ra,("ff02::1",0,0,i))\n')
        sh(PYTHON, '-c', code, uri, ns=self.net)

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.cli, self.net, self.dead):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class PortalTest(unittest.TestCase):

    def setUp(self):
        require_root()
        if IMPORT_ERROR is not None:
            raise unittest.SkipTest(f'python3-dbusmock or python3-gi missing: {IMPORT_ERROR}')
        if not os.path.exists('/usr/bin/openssl'):
            raise unittest.SkipTest('/usr/bin/openssl is missing')
        self.bus = test_dbus.Bus()
        self.addCleanup(self.bus.close)

    def start(self, second_uplink=False, conf=None, state=None, mode='ask', fail_open=True,
              args=()):
        self.netw = Network(second_uplink)
        self.addCleanup(self.netw.down)
        self.netw.up()
        if state:
            self.netw.set_state(**state)
        connectivity = {
            'Enabled': 'true',
            'HttpUrl': f'http://{HOST}/check',
            'HttpBody': 'vigil online',
            'HttpsUrl': f'https://{HOST}/',
            'CaFile': os.path.join(self.netw.dir, 'ca.pem'),
            'Timeout': '3',
            'ResolvConf': os.path.join(self.netw.dir, 'resolv.conf'),
        }
        connectivity.update(conf or {})

        class Ns:
            cli = self.netw.cli
        d = Daemon(Ns, mode=mode, fail_open=fail_open, connectivity=connectivity,
                   extra=['--bus', self.bus.address] + list(args))
        self.addCleanup(d.cleanup)
        d.start()
        self.daemon = d
        conn = self.bus.connect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            owner = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'NameHasOwner',
                                   GLib.Variant('(s)', (NAME,)), None, 0, 5000, None)
            if owner.unpack()[0]:
                break
            time.sleep(0.05)
        return d

    def connectivity(self):
        r = self.bus.connect().call_sync(NAME, OBJ, 'org.freedesktop.DBus.Properties', 'Get',
                                         GLib.Variant('(ss)', (NAME, 'Connectivity')), None, 0,
                                         5000, None)
        return r.unpack()[0]

    def interfaces(self):
        r = self.bus.connect().call_sync(NAME, OBJ, 'org.freedesktop.DBus.Properties', 'Get',
                                         GLib.Variant('(ss)', (NAME, 'Interfaces')), None, 0,
                                         5000, None)
        return {i['name']: i for i in r.unpack()[0]}

    def check(self, iface=''):
        try:
            self.bus.connect().call_sync(NAME, OBJ, NAME, 'CheckConnectivity',
                                         GLib.Variant('(s)', (iface,)), None, 0, 5000, None)
            return None
        except GLib.Error as e:
            return Gio.DBusError.get_remote_error(e), e.message

    def wait_state(self, iface, family, state=None, timeout=20, after=0):
        """The entry of @iface/@family once its check is done (and, with @state, in it)."""
        deadline = time.monotonic() + timeout
        entries = []
        while time.monotonic() < deadline:
            entries = self.connectivity()
            for e in entries:
                if (e['interface'] == iface and e['family'] == family and
                        e['state'] != 'checking' and e['checked'] > after and
                        (state is None or e['state'] == state)):
                    return e
            time.sleep(0.1)
        raise AssertionError(f'{iface} IPv{family} never reached {state}: {entries}\n' +
                             '\n'.join(self.daemon.stderr[-30:]) + '\nservers saw:\n' +
                             '\n'.join(self.netw.log()[-30:]))

    def test_full(self):
        self.start()
        for family in (4, 6):
            e = self.wait_state('veth0', family, 'full')
            self.assertGreater(e['rtt-usec'], 0)
            self.assertIn('HTTPS: certificate valid', e['detail'])
            self.assertEqual(e['portal-url'], '')
        log = self.netw.log()
        self.assertIn('dns 1 probe.vigil.test', log)
        self.assertIn('dns 28 probe.vigil.test', log)
        self.assertIn('http GET /check HTTP/1.1 host=probe.vigil.test', log)
        # vigilctl asks and waits for the answer (5 s after the last check: rate limit)
        time.sleep(5.2)
        r = subprocess.run([VIGILCTL, '--address', self.bus.address, 'check-connectivity',
                            'veth0'], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'veth0\s+IPv4\s+full')
        self.assertRegex(r.stdout, r'veth0\s+IPv6\s+full')

    def test_portal_redirect(self):
        self.start(state={'http': 'redirect'})
        e = self.wait_state('veth0', 4, 'portal')
        self.assertEqual(e['portal-url'], 'http://portal.vigil.test/login?from=probe')
        self.assertIn('redirected (302)', e['detail'])
        r = subprocess.run([VIGILCTL, '--address', self.bus.address, 'status'],
                           capture_output=True, text=True, timeout=30)
        self.assertIn('sign-in page: http://portal.vigil.test/login?from=probe', r.stdout)

    def test_portal_511(self):
        self.start(state={'http': '511'})
        e = self.wait_state('veth0', 6, 'portal')
        self.assertEqual(e['portal-url'], f'http://{HOST}/check')
        self.assertIn('511', e['detail'])

    def test_portal_unexpected_page(self):
        self.start(state={'http': 'page'})
        e = self.wait_state('veth0', 4, 'portal')
        self.assertEqual(e['portal-url'], f'http://{HOST}/check')
        self.assertIn('another page', e['detail'])

    def test_limited_without_https(self):
        self.start(state={'https': 'badcert'})
        e = self.wait_state('veth0', 4, 'limited')
        self.assertIn('HTTP: the expected answer', e['detail'])
        self.assertIn('HTTPS: TLS', e['detail'])

    def test_dns_broken(self):
        self.start(state={'dns': 'dead'},
                   conf={'FallbackAddresses': f'{SERVER4};{SERVER6}'})
        for family in (4, 6):
            e = self.wait_state('veth0', family, 'dns-broken')
            self.assertIn('no answer for probe.vigil.test', e['detail'])
            self.assertIn('fallback address: answered 200', e['detail'])
        hosts = [line for line in self.netw.log() if line.startswith('http ')]
        self.assertTrue(all('host=probe.vigil.test' in h for h in hosts), hosts)

    def test_no_internet(self):
        self.start(state={'dns': 'dead', 'http': 'close'},
                   conf={'FallbackAddresses': SERVER4})
        e = self.wait_state('veth0', 4, 'no-internet')
        self.assertIn('fallback address', e['detail'])
        e = self.wait_state('veth0', 6, 'no-internet')
        self.assertIn('no fallback address for IPv6', e['detail'])

    def test_rfc8908_api_from_router_advertisement(self):
        self.start(state={'api': {'captive': True,
                                  'user-portal-url': 'https://portal.vigil.test/login',
                                  'venue-info-url': 'https://venue.vigil.test/info',
                                  'seconds-remaining': 326, 'bytes-remaining': 65536,
                                  'can-extend-session': True}})
        first = self.wait_state('veth0', 6, 'full')
        self.netw.send_ra(API_URL)
        e = self.wait_state('veth0', 6, 'portal', after=first['checked'] - 1)
        self.assertEqual(e['portal-url'], 'https://portal.vigil.test/login')
        self.assertEqual(e['venue-url'], 'https://venue.vigil.test/info')
        self.assertEqual(e['seconds-remaining'], 326)
        self.assertEqual(e['bytes-remaining'], 65536)
        self.assertTrue(e['can-extend'])
        self.assertEqual(e['api-url'], API_URL)
        self.assertIn('API: captive', e['detail'])
        self.assertTrue(any(line.startswith('api GET /api') for line in self.netw.log()))
        # the user signed in: the API says so, and a new check says full
        self.netw.set_state(api={'captive': False, 'seconds-remaining': 3600,
                                 'venue-info-url': 'https://venue.vigil.test/info'})
        time.sleep(5.2)
        before = e['checked']
        self.assertIsNone(self.check('veth0'))
        e = self.wait_state('veth0', 6, 'full', after=before - 1)
        self.assertIn('API: not captive', e['detail'])
        self.assertEqual(e['seconds-remaining'], 3600)
        # a malformed answer is a clear detail, not a crash
        self.netw.set_state(**{'api-raw': '{"captive": "yes", '})
        time.sleep(5.2)
        self.assertIsNone(self.check('veth0'))
        time.sleep(0.3)
        e = self.wait_state('veth0', 6)
        self.assertIn('malformed answer', e['detail'])
        self.assertIsNone(self.daemon.proc.poll())

    def test_session_end_is_rechecked(self):
        # the API says the session ends in 2 s: vigild checks again then, unasked
        self.start(state={'api': {'captive': False, 'seconds-remaining': 2}})
        self.wait_state('veth0', 6, 'full')
        self.netw.send_ra(API_URL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if len([x for x in self.netw.log() if x.startswith('api GET')]) >= 4:
                break
            time.sleep(0.2)
        api = [x for x in self.netw.log() if x.startswith('api GET')]
        # both families fetch the API once after the RA and again when the 2 s are up
        self.assertGreaterEqual(len(api), 4, self.netw.log())
        self.assertEqual(self.wait_state('veth0', 6, 'full')['seconds-remaining'], 2)

    def test_repeated_requests_are_rate_limited(self):
        self.start()
        self.wait_state('veth0', 4, 'full')
        self.wait_state('veth0', 6, 'full')
        time.sleep(5.2)
        before = len([x for x in self.netw.log() if x.startswith('http GET')])
        for _ in range(10):
            self.assertIsNone(self.check('veth0'))
        time.sleep(0.5)
        self.wait_state('veth0', 4, 'full')
        self.wait_state('veth0', 6, 'full')
        for _ in range(10):
            self.assertIsNone(self.check(''))
        time.sleep(1)
        after = len([x for x in self.netw.log() if x.startswith('http GET')])
        # one check per family: the calls during it and within 5 s of it start nothing
        self.assertEqual(after - before, 2, self.netw.log())

    def test_rfc8908_api_from_dhcp_lease(self):
        leases = os.path.join(self.bus.dir, 'leases')
        os.makedirs(leases)
        self.start(conf={'LeaseDirectory': leases},
                   state={'api': {'captive': True,
                                  'user-portal-url': 'https://portal.vigil.test/dhcp'}})
        first = self.wait_state('veth0', 4, 'full')
        index = sh('cat', '/sys/class/net/veth0/ifindex', ns=self.netw.cli).stdout.strip()
        with open(os.path.join(leases, index), 'w', encoding='utf-8') as f:
            f.write(f'# networkd lease\nADDRESS=198.18.1.1\nCAPTIVE_PORTAL={API_URL}\n')
        time.sleep(5.2)
        self.assertIsNone(self.check('veth0'))
        e = self.wait_state('veth0', 4, 'portal', after=first['checked'] - 1)
        self.assertEqual(e['portal-url'], 'https://portal.vigil.test/dhcp')
        self.assertEqual(e['api-url'], API_URL)

    def test_two_uplinks(self):
        self.start(second_uplink=True)
        self.assertEqual(self.wait_state('veth0', 4, 'full')['state'], 'full')
        e = self.wait_state('veth2', 4, 'no-internet')
        self.assertIn('DNS', e['detail'])
        self.assertFalse(any(x['interface'] == 'veth2' and x['family'] == 6
                             for x in self.connectivity()))

    def test_vanished_interface_is_forgotten(self):
        # the network monitor sees the link go, and its entries go at once, long before
        # the 30 s back-off of its no-internet state would check it again
        self.start(second_uplink=True)
        self.wait_state('veth2', 4, 'no-internet')
        sh('ip', 'link', 'del', 'veth2', ns=self.netw.cli)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not any(x['interface'] == 'veth2' for x in self.connectivity()):
                break
            time.sleep(0.2)
        names = [x['interface'] for x in self.connectivity()]
        self.assertNotIn('veth2', names)
        self.assertIn('veth0', names)

    def test_new_uplink_is_checked(self):
        # an address and a default route on a new link are a new network: checked unasked
        self.start()
        self.wait_state('veth0', 4, 'full')
        self.wait_state('veth0', 6, 'full')
        seen = len(self.netw.log())
        ns = self.netw.cli
        sh('ip', 'link', 'add', 'veth4', 'type', 'veth', 'peer', 'name', 'veth5', ns=ns)
        sh('ip', 'addr', 'add', '198.18.4.1/24', 'dev', 'veth4', ns=ns)
        sh('ip', 'link', 'set', 'veth4', 'up', ns=ns)
        sh('ip', 'link', 'set', 'veth5', 'up', ns=ns)
        self.assertFalse(any(x['interface'] == 'veth4' for x in self.connectivity()))
        sh('ip', 'route', 'add', 'default', 'via', '198.18.4.2', 'metric', '300', ns=ns)
        e = self.wait_state('veth4', 4, 'no-internet')
        self.assertIn('DNS', e['detail'])
        # the uplinks that already had their answer are not probed again for it (the
        # servers are reached through veth0 only, so they saw no new request)
        self.assertEqual(self.wait_state('veth0', 4)['state'], 'full')
        self.assertEqual(self.netw.log()[seen:], [])

    def test_connectivity_orders_the_successors(self):
        # veth0 carries IPv4 (metric 100); veth2 (metric 200) reaches nothing; veth6 (metric
        # 300) is a second way to the servers. Without the checks veth2 would come next on
        # its metric; with them veth6 does, and the reasons say why
        self.start(second_uplink=True)
        ns, net = self.netw.cli, self.netw.net
        sh('ip', 'link', 'add', 'veth6', 'netns', ns, 'type', 'veth', 'peer', 'name', 'veth7',
           'netns', net)
        sh('ip', '-n', ns, 'addr', 'add', '198.18.3.1/24', 'dev', 'veth6')
        sh('ip', '-n', net, 'addr', 'add', '198.18.3.2/24', 'dev', 'veth7')
        sh('ip', '-n', ns, 'link', 'set', 'veth6', 'up')
        sh('ip', '-n', net, 'link', 'set', 'veth7', 'up')
        sh('ip', '-n', ns, 'route', 'add', 'default', 'via', '198.18.3.2', 'metric', '300')
        first = self.wait_state('veth0', 4, 'full')
        self.wait_state('veth2', 4, 'no-internet')
        self.wait_state('veth6', 4, 'full')
        deadline = time.monotonic() + 5
        while True:
            ifaces = self.interfaces()
            ranks = {n: ifaces[n]['rank-v4'] for n in ('veth0', 'veth2', 'veth6')}
            if ranks == {'veth0': 0, 'veth6': 1, 'veth2': 2} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(ranks, {'veth0': 0, 'veth6': 1, 'veth2': 2}, ifaces)
        reasons6 = ifaces['veth6']['reasons-v4']
        self.assertIn('would take over: better connectivity than veth2', reasons6)
        self.assertTrue(any(r.startswith('connectivity: full (probe ') for r in reasons6),
                        reasons6)
        self.assertIn('connectivity: no-internet', ifaces['veth2']['reasons-v4'])
        # the carrier loses its internet: its reasons point at the successor that has it
        self.netw.set_state(http='close', https='close', dns='dead')
        time.sleep(max(0.0, first['checked'] + 6 - time.time()))  # past the rate limit
        self.assertIsNone(self.check('veth0'))
        self.wait_state('veth0', 4, 'no-internet', after=first['checked'])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            reasons0 = self.interfaces()['veth0']['reasons-v4']
            if any('veth6' in r for r in reasons0):
                break
            time.sleep(0.2)
        self.assertTrue(any('veth6' in r and 'full' in r for r in reasons0), reasons0)

    def test_deny_fail_closed_lets_probes_pass(self):
        self.start(mode='deny', fail_open=False)
        self.wait_state('veth0', 4, 'full')
        self.wait_state('veth0', 6, 'full')
        # anyone else's connection to the same server is denied
        code = ('import socket\ns=socket.socket()\ns.settimeout(2)\n'
                'try:\n s.connect(("198.18.200.1",80))\n print("open")\n'
                'except OSError:\n print("blocked")\n')
        r = sh(PYTHON, '-c', code, ns=self.netw.cli)
        self.assertEqual(r.stdout.strip(), 'blocked')

    def test_hostile_endless_body(self):
        self.start(state={'http': 'endless'})
        e = self.wait_state('veth0', 4)
        self.assertNotIn(e['state'], ('full', 'unknown'))
        self.assertIn('longer than 16384 bytes', e['detail'])
        self.assertIsNone(self.daemon.proc.poll())
        self.connectivity()

    def test_hostile_garbage_status_line(self):
        self.start(state={'http': 'garbage'})
        e = self.wait_state('veth0', 4)
        self.assertEqual(e['state'], 'limited', e['detail'])
        self.assertIn('HTTP: the answer is not HTTP', e['detail'])
        self.assertIsNone(self.daemon.proc.poll())

    def test_switched_off(self):
        self.start(conf={'Enabled': 'false'})
        self.assertIsNone(self.check(''))
        time.sleep(1)
        entries = self.connectivity()
        self.assertTrue(entries)
        for e in entries:
            self.assertEqual(e['state'], 'unknown')
            self.assertIn('switched off', e['detail'])
        self.assertEqual(self.netw.log(), [])

    def test_no_probes_option(self):
        # --no-probes (tools/run.sh's default) wins over Enabled=true
        self.start(args=['--no-probes'])
        self.assertIsNone(self.check(''))
        time.sleep(1)
        entries = self.connectivity()
        self.assertTrue(entries)
        self.assertTrue(all(e['state'] == 'unknown' for e in entries), entries)
        self.assertEqual(self.netw.log(), [])

    def test_unknown_interface(self):
        self.start()
        err = self.check('nosuch0')
        self.assertEqual(err[0], 'io.github.vigilfw.Error.NotFound')
        self.assertIn("no interface named 'nosuch0'", err[1])
        err = self.check('lo')
        self.assertEqual(err[0], 'io.github.vigilfw.Error.InvalidArgument')


if __name__ == '__main__':
    run_main()
