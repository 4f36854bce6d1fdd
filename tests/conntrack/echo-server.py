#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Echoes TCP and UDP on port 7001 of 0.0.0.0 and :: for the conntrack netns tests.

Prints "ready" once every socket listens. It answers only; it never sends on its own.
"""

import socket
import threading

PORT = 7001


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(data, peer)


def serve_tcp_client(conn):
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            conn.sendall(data)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()


def main():
    threads = []
    for family, address in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        for sock in (udp, tcp):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, PORT))
        tcp.listen(128)
        threads.append(threading.Thread(target=serve_udp, args=(udp,), daemon=True))
        threads.append(threading.Thread(target=serve_tcp, args=(tcp,), daemon=True))
    for thread in threads:
        thread.start()
    print('ready', flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    main()
