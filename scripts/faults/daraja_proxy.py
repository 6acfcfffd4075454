#!/usr/bin/env python3
"""A loopback TCP proxy put between HubRoute and daraja-sim by scripts/faults.sh, so the fault
tests can make Daraja misbehave without touching the simulator:

    daraja_proxy.py --listen PORT --upstream PORT                 forwards everything
    daraja_proxy.py --listen PORT --upstream PORT --delay-ms N    holds every answer back N ms
    daraja_proxy.py --listen PORT --gateway-error                 answers every request itself
                                                                  with 503 and an HTML page

"Daraja down" is this proxy not running: connections to its port are refused.

With --delay-ms the request still reaches the simulator at once, only the answer is late: like
a slow Daraja that acts on a push it has not answered yet. The simulator then sends its
callback straight to the service (callbacks do not pass through here).
Standard library only; one thread per direction of each connection.
"""
import argparse
import signal
import socket
import sys
import threading
import time

GATEWAY_PAGE = b"<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>"


def pipe(source, target, delay):
    """Copies bytes until either side closes; each chunk waits `delay` seconds first."""
    try:
        while True:
            chunk = source.recv(65536)
            if not chunk:
                break
            if delay:
                time.sleep(delay)
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def forward(client, upstream_port, delay):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=5)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    threading.Thread(target=pipe, args=(client, upstream, 0), daemon=True).start()
    pipe(upstream, client, delay)
    client.close()
    upstream.close()


def read_request(client, data):
    """Reads one HTTP request (head and Content-Length body) after the bytes already in `data`;
    returns (request, bytes read beyond it), or (None, b"") when the client closed."""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(rest) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def gateway_error(client):
    """Answers each request on the connection with 503, keeping it open as gateways do."""
    pending = b""
    try:
        while True:
            request, pending = read_request(client, pending)
            if request is None:
                break
            client.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
                + b"Content-Length: " + str(len(GATEWAY_PAGE)).encode() + b"\r\n\r\n" + GATEWAY_PAGE)
    except OSError:
        pass
    finally:
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--gateway-error", action="store_true")
    args = parser.parse_args()
    if not args.gateway_error and args.upstream is None:
        parser.error("--upstream is required unless --gateway-error")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.listen))
    server.listen(128)
    delay = args.delay_ms / 1000
    while True:
        client, _ = server.accept()
        if args.gateway_error:
            target, arguments = gateway_error, (client,)
        else:
            target, arguments = forward, (client, args.upstream, delay)
        threading.Thread(target=target, args=arguments, daemon=True).start()


if __name__ == "__main__":
    main()
