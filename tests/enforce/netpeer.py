#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A test peer, run inside a network namespace with `ip netns exec`.

  netpeer.py serve PORT            TCP accept-and-close and UDP echo on PORT, both families
  netpeer.py tcp ADDR PORT TIMEOUT one TCP connect; prints a JSON result
  netpeer.py udp ADDR PORT TIMEOUT one UDP round trip to the echo server; prints a JSON result
  netpeer.py garbage ADDR COUNT    raw IPv4/IPv6 packets with hostile headers (needs root)
  netpeer.py resolve SERVER NAME   asks SERVER:53 for NAME (A, then AAAA); prints the addresses
  netpeer.py who MODE ADDR PORT    connects in one of the ways attribution must get right and
                                   prints the pid that made the connection: thread, child,
                                   orphan (child of an exited parent), inherited (socket made
                                   by the parent, used by the child), sendto (unconnected UDP)
"""

import errno
import json
import os
import random
import selectors
import socket
import struct
import sys
import time


def serve(port):
    sel = selectors.DefaultSelector()
    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.bind(('::', port))
    tcp.listen(1024)
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    udp.bind(('::', port))
    sel.register(tcp, selectors.EVENT_READ)
    sel.register(udp, selectors.EVENT_READ)
    print('ready', flush=True)
    while True:
        for key, _ in sel.select():
            if key.fileobj is tcp:
                conn, _ = tcp.accept()
                conn.close()
            else:
                data, peer = udp.recvfrom(2048)
                udp.sendto(data, peer)


def result(ok, err, start):
    print(json.dumps({'ok': ok, 'errno': errno.errorcode.get(err, str(err)) if err else None,
                      'ms': (time.monotonic() - start) * 1000.0}))


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def tcp(addr, port, timeout):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    start = time.monotonic()
    try:
        s.connect((addr, port))
        result(True, 0, start)
    except socket.timeout:
        result(False, errno.ETIMEDOUT, start)
    except OSError as e:
        result(False, e.errno, start)
    finally:
        s.close()


def udp(addr, port, timeout):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    start = time.monotonic()
    try:
        s.connect((addr, port))
        s.send(b'ping')
        # a reject arrives as ICMP unreachable, reported on the next receive
        data = s.recv(64)
        result(data == b'ping', 0, start)
    except socket.timeout:
        result(False, errno.ETIMEDOUT, start)
    except OSError as e:
        result(False, e.errno, start)
    finally:
        s.close()


def garbage(addr, count):
    """Hostile packets the queue must survive: lying lengths, odd protocols, IPv6 extension
    header chains, fragments, junk transport headers."""
    rng = random.Random(7)
    sent = 0
    v6 = ':' in addr
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    for i in range(count):
        proto = rng.choice([6, 17, 1, 58, 0, 43, 44, 60, 253, 132, 136])
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))
        if proto in (0, 43, 60) and v6:
            # an extension header whose length points past the packet
            payload = bytes([rng.choice([0, 43, 60, 44, 6]), 255]) + payload
        try:
            s = socket.socket(fam, socket.SOCK_RAW, proto)
            if not v6 and rng.random() < 0.5:
                # hand-made IPv4 header with a header length and total length that lie
                s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
                ihl = rng.choice([5, 6, 15])
                total = 20 + len(payload) + rng.choice([0, 0, 40, 1000])
                frag = rng.choice([0, 0x2000, 0x0010, 0x2010])
                src = socket.inet_aton('0.0.0.0')
                dst = socket.inet_aton(addr)
                hdr = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, total, i & 0xffff, frag,
                                  64, proto, 0, src, dst)
                opts = b'\x01' * ((ihl - 5) * 4)
                s.sendto(hdr + opts[:max(0, len(payload))] + payload, (addr, 0))
            else:
                s.sendto(payload or b'\x00', (addr, 0))
            sent += 1
        except OSError:
            pass
        finally:
            s.close()
    print(json.dumps({'sent': sent}))


def resolve(server, name):
    addrs = []
    for qtype in (1, 28):
        qid = random.randrange(65536)
        query = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
        for label in name.split('.'):
            query += bytes([len(label)]) + label.encode()
        query += b'\0' + struct.pack('>HH', qtype, 1)
        s = socket.socket(family_of(server), socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(query, (server, 53))
        data = s.recv(4096)
        s.close()
        # the answers follow the question; A and AAAA records carry 4 and 16 bytes
        pos = len(query)
        count = struct.unpack('>H', data[6:8])[0]
        for _ in range(count):
            while data[pos] not in (0,) and data[pos] < 0xc0:
                pos += 1 + data[pos]
            pos += 2 if data[pos] >= 0xc0 else 1
            rtype, _, _, rdlen = struct.unpack('>HHIH', data[pos:pos + 10])
            pos += 10
            if rtype == 1:
                addrs.append(socket.inet_ntop(socket.AF_INET, data[pos:pos + 4]))
            elif rtype == 28:
                addrs.append(socket.inet_ntop(socket.AF_INET6, data[pos:pos + 16]))
            pos += rdlen
    print(json.dumps(addrs))


def who(mode, addr, port):
    """Connects the way @mode says and prints {"pid": ..., "ok": ...}."""
    fam = family_of(addr)
    r, w = os.pipe()

    def connect_tcp(sock=None):
        s = sock or socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((addr, port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    if mode == 'thread':
        import threading
        out = {}
        t = threading.Thread(target=lambda: out.update(ok=connect_tcp()))
        t.start()
        t.join()
        print(json.dumps({'pid': os.getpid(), 'ok': out['ok']}))
    elif mode in ('child', 'inherited'):
        sock = socket.socket(fam, socket.SOCK_STREAM) if mode == 'inherited' else None
        pid = os.fork()
        if pid == 0:
            ok = connect_tcp(sock)
            os.write(w, json.dumps({'pid': os.getpid(), 'ok': ok}).encode())
            os._exit(0)
        if sock is not None:
            sock.close()
        os.waitpid(pid, 0)
        print(os.read(r, 4096).decode())
    elif mode == 'orphan':
        pid = os.fork()
        if pid == 0:
            if os.fork() == 0:
                # wait until the middle parent is gone
                while os.getppid() == pid or os.getppid() == os.getpid():
                    time.sleep(0.01)
                time.sleep(0.05)
                ok = connect_tcp()
                os.write(w, json.dumps({'pid': os.getpid(), 'ok': ok}).encode())
                os._exit(0)
            os._exit(0)
        os.waitpid(pid, 0)
        print(os.read(r, 4096).decode())
    elif mode == 'sendto':
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(b'ping', (addr, port))
        try:
            ok = s.recvfrom(64)[0] == b'ping'
        except OSError:
            ok = False
        print(json.dumps({'pid': os.getpid(), 'ok': ok}))
    else:
        raise SystemExit(f'unknown mode {mode}')


def main():
    cmd = sys.argv[1]
    if cmd == 'serve':
        serve(int(sys.argv[2]))
    elif cmd == 'tcp':
        tcp(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == 'udp':
        udp(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == 'garbage':
        garbage(sys.argv[2], int(sys.argv[3]))
    elif cmd == 'resolve':
        resolve(sys.argv[2], sys.argv[3])
    elif cmd == 'who':
        who(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
