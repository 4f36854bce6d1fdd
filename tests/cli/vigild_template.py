# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A python-dbusmock template standing in for vigild's io.github.vigilfw.Daemon1.

It serves canned data (connections with and without host names, events, rules, apps,
interfaces) so that vigilctl's output can be checked exactly. Parameters:
  now: unix seconds the fixture times are relative to (default: the current time)
  own-name: take io.github.vigilfw.Daemon1 once everything is in place, as vigild does (for
            a mock spawned under another name to stand in for a restarted vigild)
Write methods record whether the caller allowed interactive authorization; the test reads
that back with io.github.vigilfw.Test.GetAuthFlags(). io.github.vigilfw.Test.AddEvents() adds
events to the recent ones and has the next GetRecentEvents() send them as an Events batch
just before its reply, as vigild does when a batch goes out while the call is served.
"""

import json
import time

import dbus
import dbus.service
from gi.repository import GLib

# vigild answers Subscribe() only after asking polkit who the caller is
SUBSCRIBE_DELAY_MS = 200

BUS_NAME = 'io.github.vigilfw.Daemon1'
MAIN_OBJ = '/io/github/vigilfw/Daemon1'
MAIN_IFACE = 'io.github.vigilfw.Daemon1'
TEST_IFACE = 'io.github.vigilfw.Test'
SYSTEM_BUS = True

ERROR = 'io.github.vigilfw.Error.'


def vardict(**kw):
    return dbus.Dictionary({k.replace('_', '-'): v for k, v in kw.items()}, signature='sv')


def error(name, message):
    return dbus.exceptions.DBusException(message, name=ERROR + name)


def fixture_connections(now):
    us = 1000000
    return [
        vardict(id=dbus.UInt64(101), proto='tcp', family=dbus.UInt32(4),
                src='198.18.0.1', sport=dbus.UInt16(35670), dst='198.18.0.2',
                dport=dbus.UInt16(443), host='example.org', state='established',
                direction='out', verdict='allow', rule='r-1', pid=dbus.UInt32(4242),
                exe='/usr/bin/curl', cmdline='curl https://example.org', uid=dbus.UInt32(1000),
                user='ana', unit='app-gnome-org.gnome.Console-1234.scope',
                bytes_in=dbus.UInt64(123456), bytes_out=dbus.UInt64(2048),
                packets_in=dbus.UInt64(90), packets_out=dbus.UInt64(20),
                started=dbus.Int64((now - 7530) * us), iface='eth0'),
        # no host name: the address shows
        vardict(id=dbus.UInt64(102), proto='tcp', family=dbus.UInt32(6), src='fd00::1',
                sport=dbus.UInt16(50000), dst='fd00::2', dport=dbus.UInt16(8443),
                state='established', direction='out', verdict='allow', rule='r-2',
                pid=dbus.UInt32(5000), exe='/app/lib/firefox/firefox',
                cmdline='/app/lib/firefox/firefox', uid=dbus.UInt32(1000), user='ana',
                app_id='org.mozilla.firefox', bytes_in=dbus.UInt64(5300000),
                bytes_out=dbus.UInt64(10), packets_in=dbus.UInt64(4000),
                packets_out=dbus.UInt64(1), started=dbus.Int64((now - 99000) * us),
                iface='eth0'),
        # inbound: the local side is dst
        vardict(id=dbus.UInt64(103), proto='tcp', family=dbus.UInt32(4), src='198.18.0.9',
                sport=dbus.UInt16(51000), dst='198.18.0.1', dport=dbus.UInt16(22),
                state='established', direction='in', verdict='allow', rule='r-3',
                pid=dbus.UInt32(700), exe='/usr/sbin/sshd', cmdline='sshd: ana [priv]',
                uid=dbus.UInt32(0), user='root', unit='ssh.service',
                bytes_in=dbus.UInt64(4096), bytes_out=dbus.UInt64(8192),
                packets_in=dbus.UInt64(30), packets_out=dbus.UInt64(31),
                started=dbus.Int64((now - 10830) * us), iface='eth0'),
        # nothing known about the process
        vardict(id=dbus.UInt64(104), proto='udp', family=dbus.UInt32(4), src='198.18.0.1',
                sport=dbus.UInt16(40000), dst='198.18.0.53', dport=dbus.UInt16(53),
                state='unreplied', direction='out', bytes_in=dbus.UInt64(0),
                bytes_out=dbus.UInt64(64)),
    ]


def fixture_other_user_connection(now):
    return vardict(id=dbus.UInt64(105), proto='udp', family=dbus.UInt32(4), src='198.18.0.1',
                   sport=dbus.UInt16(41000), dst='198.18.0.2', dport=dbus.UInt16(123),
                   host='ntp.example.org', state='established', direction='out',
                   pid=dbus.UInt32(900), exe='/usr/sbin/chronyd', uid=dbus.UInt32(1001),
                   user='bob', bytes_in=dbus.UInt64(96), bytes_out=dbus.UInt64(96),
                   started=dbus.Int64((now - 3630) * 1000000))


def fixture_apps(now):
    return [
        vardict(exe='/usr/bin/curl', unit='app-gnome-org.gnome.Console-1234.scope',
                uid=dbus.UInt32(1000), user='ana', connections=dbus.UInt32(1),
                total_connections=dbus.UInt64(7), bytes_in=dbus.UInt64(123456),
                bytes_out=dbus.UInt64(2048), rate_in=dbus.Double(1024.0),
                rate_out=dbus.Double(0.0), last_seen=dbus.Int64(now)),
        vardict(exe='/app/lib/firefox/firefox', app_id='org.mozilla.firefox',
                uid=dbus.UInt32(1000), user='ana', connections=dbus.UInt32(1),
                total_connections=dbus.UInt64(40), bytes_in=dbus.UInt64(5300000),
                bytes_out=dbus.UInt64(10), rate_in=dbus.Double(204800.0),
                rate_out=dbus.Double(512.0), last_seen=dbus.Int64(now)),
        vardict(exe='/usr/sbin/sshd', unit='ssh.service', uid=dbus.UInt32(0), user='root',
                connections=dbus.UInt32(1), total_connections=dbus.UInt64(3),
                bytes_in=dbus.UInt64(4096), bytes_out=dbus.UInt64(8192),
                rate_in=dbus.Double(0.0), rate_out=dbus.Double(0.0),
                last_seen=dbus.Int64(now)),
    ]


def fixture_events():
    return [
        # the example of design.md, "Data flow" step 9
        vardict(time='2026-11-22T07:32:18.123Z', verdict='allow', reason='rule', rule='r-1a2b',
                direction='out', proto='tcp', family=dbus.UInt32(4), src='198.18.0.1',
                sport=dbus.UInt16(35670), dst='198.18.0.2', dport=dbus.UInt16(7000),
                host='example.org', iface='eth0', pid=dbus.UInt32(15646), exe='/usr/bin/curl',
                cmdline='curl https://example.org', uid=dbus.UInt32(1000), user='ana',
                unit='app-gnome-org.gnome.Console-1234.scope', seq=dbus.UInt64(1)),
        # nothing known about the process: nulls
        vardict(time='2026-11-22T07:32:19.000Z', verdict='deny', reason='default',
                direction='out', proto='udp', family=dbus.UInt32(6), src='fd00::1',
                sport=dbus.UInt16(5353), dst='fd00::53', dport=dbus.UInt16(53),
                seq=dbus.UInt64(2)),
        # inbound, a Flatpak app, a command line that needs escaping
        vardict(time='2026-11-22T07:32:20.500Z', verdict='reject', reason='prompt',
                direction='in', proto='tcp', family=dbus.UInt32(4), src='198.18.0.9',
                sport=dbus.UInt16(51000), dst='198.18.0.1', dport=dbus.UInt16(8080),
                iface='eth0', pid=dbus.UInt32(5000), exe='/app/bin/app',
                cmdline='app --title "a\tb"\n', uid=dbus.UInt32(1000), user='ana',
                app_id='org.example.App', seq=dbus.UInt64(3)),
    ]


def fixture_rules(now):
    return {
        'r-1': vardict(id='r-1', enabled=True, action='allow', exe='/usr/bin/curl',
                       direction='any', protocol='tcp', host='*.example.org', port='443',
                       lifetime='forever', origin='user', created=dbus.Int64(now - 86400),
                       last_used=dbus.Int64(1795332738), hits=dbus.UInt64(12),
                       read_only=False),
        'r-2': vardict(id='r-2', enabled=False, action='deny', app_id='org.mozilla.firefox',
                       direction='out', protocol='any', cidr='198.18.0.0/15',
                       lifetime='until', expires=dbus.Int64(1893456000), origin='prompt',
                       created=dbus.Int64(now - 3600), hits=dbus.UInt64(0),
                       note='testing', read_only=False),
        'r-3': vardict(id='r-3', enabled=True, action='reject', unit='ssh.service',
                       direction='in', protocol='tcp', port='22', lifetime='forever',
                       origin='managed', hits=dbus.UInt64(3), read_only=True),
    }


def load(mock, parameters):
    now = int(parameters.get('now', int(time.time())))
    mock.fixture_now = now
    mock.rules = fixture_rules(now)
    mock.next_id = 1
    mock.auth_flags = []
    mock.events = fixture_events()
    mock.events_before_recent = []
    mock.subscribed = False
    mock.recent_before_subscribed = 0
    stats = vardict(queued=dbus.UInt64(1234), allowed=dbus.UInt64(1200),
                    denied=dbus.UInt64(30), rejected=dbus.UInt64(4),
                    prompts=dbus.UInt64(10), prompt_timeouts=dbus.UInt64(2),
                    queue_overruns=dbus.UInt64(0), malformed_packets=dbus.UInt64(0),
                    connections=dbus.UInt32(3), rules=dbus.UInt32(12),
                    started=dbus.Int64(now - 7530),
                    queue_backend='xt-nfqueue')
    interfaces = dbus.Array([
        vardict(name='eth0', index=dbus.UInt32(2), kind='ethernet', carrier=True,
                addresses=dbus.Array(['198.18.0.1/15', 'fd00::1/64'], signature='s'),
                default_route_v4=True, default_route_v6=False, metric_v4=dbus.UInt32(100),
                metric_v6=dbus.UInt32(0), rank_v4=dbus.Int32(0), rank_v6=dbus.Int32(-1),
                metered=False, rx_bytes=dbus.UInt64(10485760), tx_bytes=dbus.UInt64(1048576),
                rx_rate=dbus.Double(1536.0), tx_rate=dbus.Double(512.0),
                reasons=dbus.Array(['carries the IPv4 default route (metric 100)',
                                    'no IPv6 default route'], signature='s')),
        vardict(name='wwan0', index=dbus.UInt32(3), kind='wwan', carrier=True,
                addresses=dbus.Array(['198.19.0.7/32'], signature='s'),
                default_route_v4=True, default_route_v6=False, metric_v4=dbus.UInt32(700),
                metric_v6=dbus.UInt32(0), rank_v4=dbus.Int32(1), rank_v6=dbus.Int32(-1),
                metered=True, rx_bytes=dbus.UInt64(0), tx_bytes=dbus.UInt64(0),
                rx_rate=dbus.Double(0.0), tx_rate=dbus.Double(0.0),
                reasons=dbus.Array(['metered: takes over only when eth0 fails'],
                                   signature='s')),
    ], signature='a{sv}')
    connectivity = dbus.Array([
        vardict(interface='eth0', family=dbus.UInt32(4), state='full',
                seconds_remaining=dbus.Int64(-1), bytes_remaining=dbus.Int64(-1),
                can_extend=False, checked=dbus.Int64(now - 60), detail='all probes answered'),
        vardict(interface='wwan0', family=dbus.UInt32(4), state='portal',
                portal_url='http://portal.example/login', venue_url='http://venue.example/',
                seconds_remaining=dbus.Int64(3600), bytes_remaining=dbus.Int64(104857600),
                can_extend=True, checked=dbus.Int64(now - 60),
                detail='the HTTP probe was redirected'),
    ], signature='a{sv}')
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'Version': '0.1.0',
        'Mode': 'ask',
        'DefaultAction': 'deny',
        'PromptTimeout': dbus.UInt32(30),
        'Interfaces': interfaces,
        'Connectivity': connectivity,
        'Stats': stats,
    }, signature='sv'))
    if parameters.get('own-name', False):
        mock.own_name = dbus.service.BusName(BUS_NAME, mock.connection, do_not_queue=True)


def record_auth(self, method, message):
    self.auth_flags.append((method, bool(message.get_allow_interactive_authorization())))


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='',
                     async_callbacks=('reply', 'reply_error'))
def Subscribe(self, options, reply, reply_error):
    def done():
        self.subscribed = True
        reply()
        return GLib.SOURCE_REMOVE
    GLib.timeout_add(SUBSCRIBE_DELAY_MS, done)


@dbus.service.method(MAIN_IFACE, in_signature='', out_signature='')
def Unsubscribe(self):
    self.subscribed = False


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='')
def SaveRules(self, options):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='aa{sv}')
def GetConnections(self, options):
    connections = fixture_connections(self.fixture_now)
    if options.get('all', False):
        connections.append(fixture_other_user_connection(self.fixture_now))
    app = options.get('app')
    if app is not None:
        connections = [c for c in connections if app in (c.get('exe'), c.get('app-id'))]
    return dbus.Array(connections, signature='a{sv}')


@dbus.service.method(MAIN_IFACE, in_signature='', out_signature='aa{sv}')
def GetApps(self):
    return dbus.Array(fixture_apps(self.fixture_now), signature='a{sv}')


@dbus.service.method(MAIN_IFACE, in_signature='u', out_signature='aa{sv}')
def GetRecentEvents(self, maximum):
    # a backlog taken before the subscription holds leaves a gap before the first batch
    if not self.subscribed:
        self.recent_before_subscribed += 1
    if self.events_before_recent:
        self.EmitSignal(MAIN_IFACE, 'Events', 'aa{sv}',
                        [dbus.Array(self.events_before_recent, signature='a{sv}')])
        self.events_before_recent = []
    events = list(self.events)
    if maximum > 0:
        events = events[-maximum:]
    return dbus.Array(events, signature='a{sv}')


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='aa{sv}')
def GetRules(self, rule_filter):
    rules = list(self.rules.values())
    if 'origin' in rule_filter:
        rules = [r for r in rules if r['origin'] == rule_filter['origin']]
    return dbus.Array(rules, signature='a{sv}')


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='s',
                     message_keyword='dbus_message')
def AddRule(self, rule, dbus_message=None):
    record_auth(self, 'AddRule', dbus_message)
    if 'action' not in rule:
        raise error('InvalidRule', 'a rule needs an action')
    rule_id = f'r-new-{self.next_id}'
    self.next_id += 1
    self.rules[rule_id] = dbus.Dictionary(dict(rule, id=rule_id), signature='sv')
    return rule_id


def writable_rule(self, rule_id):
    if rule_id not in self.rules:
        raise error('NotFound', f'no rule {rule_id}')
    if self.rules[rule_id].get('read-only', False):
        raise error('ReadOnly', f'rule {rule_id} comes from a drop-in')
    return self.rules[rule_id]


@dbus.service.method(MAIN_IFACE, in_signature='sa{sv}', out_signature='',
                     message_keyword='dbus_message')
def UpdateRule(self, rule_id, changes, dbus_message=None):
    record_auth(self, 'UpdateRule', dbus_message)
    writable_rule(self, rule_id).update(changes)


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='',
                     message_keyword='dbus_message')
def RemoveRule(self, rule_id, dbus_message=None):
    record_auth(self, 'RemoveRule', dbus_message)
    writable_rule(self, rule_id)
    del self.rules[rule_id]


@dbus.service.method(MAIN_IFACE, in_signature='ss', out_signature='asas',
                     message_keyword='dbus_message')
def ImportRules(self, fmt, contents, dbus_message=None):
    record_auth(self, 'ImportRules', dbus_message)
    try:
        doc = json.loads(contents)
    except ValueError as e:
        raise error('InvalidFile', f'line 1: not JSON: {e}') from e
    if fmt == 'opensnitch':
        items = doc if isinstance(doc, list) else [doc]
        rules = [{'action': r.get('action')} for r in items]
    elif fmt == 'vigil':
        rules = doc.get('rules', []) if isinstance(doc, dict) else []
    else:
        raise error('InvalidArgument', f'unknown format {fmt}')
    ids = []
    problems = []
    for i, rule in enumerate(rules, 1):
        unknown = sorted(set(rule) - {'action', 'exe', 'host', 'port', 'protocol'})
        if unknown:
            problems.append(f'rule {i}: unknown key \'{unknown[0]}\'')
            continue
        rule_id = f'r-imp-{self.next_id}'
        self.next_id += 1
        ids.append(rule_id)
    return (dbus.Array(ids, signature='s'), dbus.Array(problems, signature='s'))


@dbus.service.method(MAIN_IFACE, in_signature='a{sv}', out_signature='s')
def ExportRules(self, options):
    keep = [r for r in self.rules.values()
            if options.get('include-managed', False) or not r.get('read-only', False)]
    doc = {'version': 1, 'generator': 'vigil',
           'rules': [{k: v for k, v in r.items() if k != 'read-only'} for r in keep]}
    return json.dumps(doc, indent=2, sort_keys=True) + '\n'


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='',
                     message_keyword='dbus_message')
def SetMode(self, mode, dbus_message=None):
    record_auth(self, 'SetMode', dbus_message)
    if mode not in ('ask', 'allow', 'deny', 'block-all', 'monitor'):
        raise error('InvalidArgument', f'unknown mode {mode}')
    self.UpdateProperties(MAIN_IFACE, {'Mode': dbus.String(mode)})


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='',
                     message_keyword='dbus_message')
def SetDefaultAction(self, action, dbus_message=None):
    record_auth(self, 'SetDefaultAction', dbus_message)
    if action not in ('allow', 'deny', 'reject'):
        raise error('InvalidArgument', f'unknown action {action}')
    self.UpdateProperties(MAIN_IFACE, {'DefaultAction': dbus.String(action)})


@dbus.service.method(MAIN_IFACE, in_signature='u', out_signature='',
                     message_keyword='dbus_message')
def SetPromptTimeout(self, seconds, dbus_message=None):
    record_auth(self, 'SetPromptTimeout', dbus_message)
    if not 1 <= seconds <= 3600:
        raise error('InvalidArgument',
                    f'a prompt timeout of {seconds} s is out of range: use 1 to 3600 seconds')
    self.UpdateProperties(MAIN_IFACE, {'PromptTimeout': dbus.UInt32(seconds)})


@dbus.service.method(MAIN_IFACE, in_signature='o', out_signature='')
def RegisterAgent(self, path):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='o', out_signature='')
def UnregisterAgent(self, path):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def CheckConnectivity(self, interface):
    pass


@dbus.service.method(TEST_IFACE, in_signature='aa{sv}', out_signature='')
def AddEvents(self, events):
    self.events.extend(events)
    self.events_before_recent.extend(events)


@dbus.service.method(TEST_IFACE, in_signature='', out_signature='u')
def GetRecentBeforeSubscribed(self):
    return dbus.UInt32(self.recent_before_subscribed)


@dbus.service.method(TEST_IFACE, in_signature='', out_signature='a(sb)')
def GetAuthFlags(self):
    return dbus.Array(self.auth_flags, signature='(sb)')
