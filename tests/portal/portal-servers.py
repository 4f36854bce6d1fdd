#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The "internet" of the connectivity tests, run inside the network namespace:

  portal-servers.py DIR

DNS on UDP 53, HTTP on 80, HTTPS on 443 and an RFC 8908 API (HTTPS) on 8443, all on every
address of the namespace, both families. They behave as DIR/state.json says at the time of
each request, so a test changes their behaviour by rewriting that file:
  dns:   "ok" (answers A/AAAA from "names"), "dead" (never answers), "nxdomain"
  http:  "ok", "redirect", "511", "page" (200 with a login page), "endless" (a body that
         never ends), "garbage" (not HTTP), "close" (closes without answering)
  https: "ok" (certificate from DIR/ca.pem's CA), "badcert" (self-signed), "close"
  api:   the JSON object the API serves
Every request is logged to DIR/log, one line each, so a test can tell that none came.
"""

import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

DIR = sys.argv[1]
SERVER4, SERVER6 = '198.18.200.1', 'fd00:200::1'
LOG_LOCK = threading.Lock()


def state():
    with open(os.path.join(DIR, 'state.json'), encoding='utf-8') as f:
        return json.load(f)


def log(line):
    with LOG_LOCK, open(os.path.join(DIR, 'log'), 'a', encoding='utf-8') as f:
        f.write(line + '\n')


def dns_name(data, offset):
    labels = []
    while True:
        n = data[offset]
        offset += 1
        if n == 0:
            return '.'.join(labels), offset
        labels.append(data[offset:offset + n].decode('ascii', 'replace'))
        offset += n


def dns_server(family, address):
    # bound to the address, so that answers come from the address asked, as a real
    # server's do (a wildcard socket would answer from the veth address)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    while True:
        data, peer = sock.recvfrom(2048)
        try:
            name, end = dns_name(data, 12)
            qtype, _ = struct.unpack('!HH', data[end:end + 4])
        except (IndexError, struct.error):
            continue
        log(f'dns {qtype} {name}')
        st = state()
        if st.get('dns') == 'dead':
            continue
        question = data[12:end + 4]
        answers = b''
        count = 0
        rcode = 0
        addresses = st.get('names', {}).get(name.lower())
        if st.get('dns') == 'nxdomain' or addresses is None:
            rcode = 3
        else:
            for addr in addresses:
                fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
                if (qtype == 28) != (fam == socket.AF_INET6):
                    continue
                raw = socket.inet_pton(fam, addr)
                answers += b'\xc0\x0c' + struct.pack('!HHIH', qtype, 1, 60, len(raw)) + raw
                count += 1
        header = data[:2] + struct.pack('!HHHHH', 0x8180 | rcode, 1, count, 0, 0)
        sock.sendto(header + question + answers, peer)


class Handler(socketserver.BaseRequestHandler):
    kind = 'http'

    def read_request(self):
        data = b''
        self.request.settimeout(5)
        while b'\r\n\r\n' not in data and len(data) < 8192:
            chunk = self.request.recv(4096)
            if not chunk:
                break
            data += chunk
        first = data.split(b'\r\n', 1)[0].decode('ascii', 'replace')
        host = ''
        for line in data.split(b'\r\n')[1:]:
            if line.lower().startswith(b'host:'):
                host = line[5:].strip().decode('ascii', 'replace')
        log(f'{self.kind} {first} host={host}')
        return first

    def send(self, status, body, headers=()):
        head = f'HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n'
        for h in headers:
            head += h + '\r\n'
        self.request.sendall(head.encode() + b'\r\n' + body)

    def handle(self):
        try:
            self.serve()
        except (OSError, ssl.SSLError):
            pass

    def serve(self):
        self.read_request()
        mode = state().get('http', 'ok')
        if mode == 'ok':
            self.send('200 OK', b'vigil online\n', ['Content-Type: text/plain'])
        elif mode == 'redirect':
            self.send('302 Found', b'', ['Location: http://portal.vigil.test/login?from=probe'])
        elif mode == '511':
            self.send('511 Network Authentication Required', b'<html>sign in</html>')
        elif mode == 'page':
            self.send('200 OK', b'<html><form>Welcome to the hotel, sign in</form></html>')
        elif mode == 'endless':
            self.request.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n')
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                self.request.sendall(b'x' * 65536)
        elif mode == 'garbage':
            self.request.sendall(b'\x00\xffSSH-2.0-not-http\r\n' + os.urandom(512))


class TlsHandler(Handler):
    kind = 'https'
    context = None

    def handle(self):
        mode = state().get('https', 'ok')
        if mode == 'close':
            return
        ctx = self.server.contexts['bad' if mode == 'badcert' else 'good']
        try:
            self.request = ctx.wrap_socket(self.request, server_side=True)
            self.read_request()
            self.send('200 OK', b'secure vigil online\n')
        except (OSError, ssl.SSLError):
            pass


class ApiHandler(Handler):
    kind = 'api'

    def handle(self):
        try:
            self.request = self.server.contexts['good'].wrap_socket(self.request,
                                                                    server_side=True)
            self.read_request()
            body = json.dumps(state().get('api', {})).encode()
            raw = state().get('api-raw')
            if raw is not None:
                body = raw.encode()
            self.send('200 OK', body, ['Content-Type: application/captive+json'])
        except (OSError, ssl.SSLError):
            pass


class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    contexts = {}
    for name, prefix in (('good', 'server'), ('bad', 'selfsigned')):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(DIR, prefix + '.pem'),
                            os.path.join(DIR, prefix + '.key'))
        contexts[name] = ctx
    for family, address in ((socket.AF_INET, SERVER4), (socket.AF_INET6, SERVER6)):
        threading.Thread(target=dns_server, args=(family, address), daemon=True).start()
    for port, handler in ((80, Handler), (443, TlsHandler), (8443, ApiHandler)):
        srv = Server(('::', port), handler)
        srv.contexts = contexts
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print('ready', flush=True)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
