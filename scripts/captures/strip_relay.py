#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that overwrites STARTTLS in a server's replies.

Usage: strip_relay.py --listen PORT --upstream PORT [--timeout SECONDS]

The relay accepts one client connection on 127.0.0.1:LISTEN, opens one to
127.0.0.1:UPSTREAM and copies bytes both ways. The client's bytes pass
unchanged. The server's bytes are forwarded one line at a time, and every
`STARTTLS` in a line becomes `XXXXXXXA`, of the same length, as middleboxes
that inspect SMTP do. A client that looks for STARTTLS among the EHLO
keywords then finds none and goes on in plaintext.

It prints "strip_relay: listening on 127.0.0.1:PORT" once bound, one
"strip_relay: changed ..." line per changed line, and "strip_relay: done"
when both directions are closed. It exits 0 only if it changed a line. It
serves one connection, every socket operation times out after --timeout
seconds, and it never connects anywhere but 127.0.0.1.
"""

import argparse
import socket
import sys
import threading

LOOPBACK = "127.0.0.1"
KEYWORD = b"STARTTLS"
MASK = b"XXXXXXXA"


def log(message):
    print(f"strip_relay: {message}", flush=True)


def copy_client(source, sink):
    """Copies the client's bytes unchanged until the client closes."""
    while data := source.recv(65536):
        sink.sendall(data)
    sink.shutdown(socket.SHUT_WR)


def copy_server(source, sink, changes):
    """Copies the server's bytes line by line, overwriting the keyword."""
    pending = b""
    while data := source.recv(65536):
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if KEYWORD in line:
                changed = line.replace(KEYWORD, MASK)
                log(f"changed {line.strip()!r} to {changed.strip()!r}")
                changes.append(changed)
                line = changed
            sink.sendall(line + b"\n")
    sink.sendall(pending)
    sink.shutdown(socket.SHUT_WR)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per socket operation")
    args = parser.parse_args()

    with socket.create_server((LOOPBACK, args.listen)) as listener:
        listener.settimeout(args.timeout)
        log(f"listening on {LOOPBACK}:{args.listen}")
        client, _ = listener.accept()
    upstream = socket.create_connection((LOOPBACK, args.upstream), timeout=args.timeout)
    client.settimeout(args.timeout)
    changes = []
    failures = []

    def run(copy, *copy_args):
        try:
            copy(*copy_args)
        except OSError as err:
            failures.append(err)
            log(f"error: {err}")

    threads = [
        threading.Thread(target=run, args=(copy_client, client, upstream)),
        threading.Thread(target=run, args=(copy_server, upstream, client, changes)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    upstream.close()
    log("done")
    return 0 if changes and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
