#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A prompt agent written for the tests: registers io.github.vigilfw.Agent1 with vigild and
answers every RequestVerdict as told on the command line, printing each request and cancel
as a JSON line on standard output.

  agent.py ANSWER_JSON [--delay SECONDS] [--hang] [--crash]

--hang never answers; --crash exits without answering when the first request arrives.
"""

import argparse
import json
import os
import sys

from gi.repository import Gio, GLib

XML = '''
<node>
  <interface name="io.github.vigilfw.Agent1">
    <method name="RequestVerdict">
      <arg name="request" type="a{sv}" direction="in"/>
      <arg name="answer" type="a{sv}" direction="out"/>
    </method>
    <method name="Cancel">
      <arg name="request_id" type="s" direction="in"/>
    </method>
  </interface>
</node>
'''
PATH = '/io/github/vigilfw/TestAgent'


def to_variant(answer):
    out = {}
    for key, value in answer.items():
        if isinstance(value, bool):
            out[key] = GLib.Variant('b', value)
        elif isinstance(value, int):
            out[key] = GLib.Variant('u', value)
        else:
            out[key] = GLib.Variant('s', value)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('answer')
    parser.add_argument('--delay', type=float, default=0.0)
    parser.add_argument('--hang', action='store_true')
    parser.add_argument('--crash', action='store_true')
    args = parser.parse_args()
    answer = json.loads(args.answer)
    loop = GLib.MainLoop()
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    daemon_owner = {}

    def emit(record):
        print(json.dumps(record), flush=True)

    def on_call(conn, sender, path, iface, method, params, invocation):
        # only the daemon may ask; anyone else is refused
        if sender != daemon_owner.get('name'):
            invocation.return_dbus_error('org.freedesktop.DBus.Error.AccessDenied',
                                         'only vigild may call this agent')
            emit({'refused': sender})
            return
        if method == 'Cancel':
            emit({'cancel': params.unpack()[0]})
            invocation.return_value(None)
            return
        request = params.unpack()[0]
        emit({'request': request})
        if args.crash:
            os._exit(3)
        if args.hang:
            return
        reply = GLib.Variant('(a{sv})', (to_variant(answer),))
        if args.delay > 0:
            GLib.timeout_add(int(args.delay * 1000), lambda: invocation.return_value(reply))
        else:
            invocation.return_value(reply)

    node = Gio.DBusNodeInfo.new_for_xml(XML)
    bus.register_object(PATH, node.interfaces[0], on_call, None, None)
    owner = bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                          'org.freedesktop.DBus', 'GetNameOwner',
                          GLib.Variant('(s)', ('io.github.vigilfw.Daemon1',)),
                          GLib.VariantType('(s)'), Gio.DBusCallFlags.NONE, 5000, None)
    daemon_owner['name'] = owner.unpack()[0]
    bus.call_sync('io.github.vigilfw.Daemon1', '/io/github/vigilfw/Daemon1',
                  'io.github.vigilfw.Daemon1', 'RegisterAgent', GLib.Variant('(o)', (PATH,)),
                  None, Gio.DBusCallFlags.NONE, 5000, None)
    emit({'registered': bus.get_unique_name(), 'uid': os.getuid()})
    loop.run()


if __name__ == '__main__':
    sys.exit(main())
