#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tiny authoritative DNS server for the netns tests: UDP and TCP, IPv4 and IPv6.

Usage: fake-dns-server.py ADDRESS... (default 0.0.0.0 and ::), port 53.
Prints "ready" once every socket listens. Answers A and AAAA queries for the names in
ZONE, following CNAMEs the way a recursive resolver returns them (the chain first, then
the addresses), with the owner of the first record compressed to the question.
Unknown names get NXDOMAIN. It answers only; it never sends anything on its own, except
that a question for spoof.example.org is preceded by two forged answers for
evil.example.org (198.18.5.66) to the asking host: one to the next port, one with a wrong
message id. The capture must ignore both.
"""

import ipaddress
import socket
import struct
import sys
import threading

ZONE = {
    'www.example.org': [('A', '198.18.0.2'), ('AAAA', 'fd00:fb::2')],
    'udp4.example.org': [('A', '198.18.5.1')],
    'udp6.example.org': [('AAAA', 'fd00:fb::5:1')],
    'tcp4.example.org': [('A', '198.18.5.2')],
    'tcp6.example.org': [('AAAA', 'fd00:fb::5:2')],
    'stub.example.org': [('A', '198.18.5.4'), ('AAAA', 'fd00:fb::5:4')],
    'pid.example.org': [('A', '198.18.5.5')],
    'spoof.example.org': [('A', '198.18.5.7')],
    'cdn.example.org': [('CNAME', 'edge.cdn.example.net')],
    'edge.cdn.example.net': [('CNAME', 'node7.edge.cdn.example.net')],
    'node7.edge.cdn.example.net': [('A', '198.18.5.3'), ('AAAA', 'fd00:fb::5:3')],
}
TYPES = {'A': 1, 'CNAME': 5, 'AAAA': 28}
TTL = 300


def encode_name(name):
    out = b''
    for label in name.split('.'):
        out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def parse_query(data):
    qid, flags, qdcount = struct.unpack('>HHH', data[:6])
    pos = 12
    labels = []
    while data[pos] != 0:
        length = data[pos]
        labels.append(data[pos + 1:pos + 1 + length].decode().lower())
        pos += 1 + length
    qtype, qclass = struct.unpack('>HH', data[pos + 1:pos + 5])
    return qid, flags, '.'.join(labels), qtype, data[12:pos + 5]


def forged(qid):
    question = encode_name('evil.example.org') + struct.pack('>HH', 1, 1)
    return (struct.pack('>HHHHHH', qid, 0x8580, 1, 1, 0, 0) + question + b'\xc0\x0c' +
            struct.pack('>HHIH', 1, 1, TTL, 4) + ipaddress.IPv4Address('198.18.5.66').packed)


def answer(data):
    qid, flags, qname, qtype, question = parse_query(data)
    records = []
    name = qname
    for _ in range(8):
        entries = ZONE.get(name, [])
        cname = [value for kind, value in entries if kind == 'CNAME']
        if cname:
            records.append((name, 'CNAME', cname[0]))
            name = cname[0]
            continue
        records += [(name, kind, value) for kind, value in entries if TYPES[kind] == qtype]
        break
    rcode = 0 if qname in ZONE else 3
    out = struct.pack('>HHHHHH', qid, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1,
                      len(records), 0, 0) + question
    for owner, kind, value in records:
        out += b'\xc0\x0c' if owner == qname else encode_name(owner)
        if kind == 'CNAME':
            rdata = encode_name(value)
        elif kind == 'A':
            rdata = ipaddress.IPv4Address(value).packed
        else:
            rdata = ipaddress.IPv6Address(value).packed
        out += struct.pack('>HHIH', TYPES[kind], 1, TTL, len(rdata)) + rdata
    return out


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            qid, _, qname, _, _ = parse_query(data)
            if qname == 'spoof.example.org':
                sock.sendto(forged(qid), (peer[0], peer[1] + 1) + tuple(peer[2:]))
                sock.sendto(forged(qid ^ 0xffff), peer)
            sock.sendto(answer(data), peer)
        except (IndexError, struct.error, UnicodeDecodeError):
            pass


def serve_tcp_client(conn):
    with conn:
        try:
            head = conn.recv(2, socket.MSG_WAITALL)
            if len(head) < 2:
                return
            data = conn.recv(struct.unpack('>H', head)[0], socket.MSG_WAITALL)
            reply = answer(data)
            conn.sendall(struct.pack('>H', len(reply)) + reply)
        except (OSError, IndexError, struct.error, UnicodeDecodeError):
            pass


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()


def main():
    addresses = sys.argv[1:] or ['0.0.0.0', '::']
    threads = []
    for address in addresses:
        family = socket.AF_INET6 if ':' in address else socket.AF_INET
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        for sock in (udp, tcp):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, 53))
        tcp.listen(16)
        threads.append(threading.Thread(target=serve_udp, args=(udp,), daemon=True))
        threads.append(threading.Thread(target=serve_tcp, args=(tcp,), daemon=True))
    for thread in threads:
        thread.start()
    print('ready', flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    main()
