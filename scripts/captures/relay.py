#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that alters one TLS record from the client.

Usage: relay.py --listen PORT --upstream PORT --mode {downgrade,tamper}

The relay accepts one client connection on 127.0.0.1:LISTEN, opens one to
127.0.0.1:UPSTREAM and copies bytes both ways. The server's bytes pass
unchanged. The client's bytes are cut into TLS records (RFC 5246, 6.2.1) and
forwarded one whole record at a time, so one record in one mode is changed
in place with its length kept:

- downgrade: in the first ClientHello, every supported_versions entry 0x0304
  (TLS 1.3) becomes the GREASE value 0x0a0a (RFC 8701), which a server
  ignores. The server then negotiates TLS 1.2 at most.
- tamper: the first application_data record gets the lowest bit of its last
  byte flipped. Under an AEAD suite that byte is part of the tag, so the
  server's integrity check fails.

It prints "listening on 127.0.0.1:PORT" once it accepts, one "changed ..."
line for the change it made, and "done" when both directions are closed.
It serves one connection and stops by itself: every socket operation times
out after --timeout seconds. It never connects anywhere but 127.0.0.1.
"""

import argparse
import socket
import sys
import threading

LOOPBACK = "127.0.0.1"
# Record header: content type (1), legacy version (2), length (2).
RECORD_HEADER = 5
HANDSHAKE = 22
APPLICATION_DATA = 23
CLIENT_HELLO = 1
SUPPORTED_VERSIONS = 0x002B
TLS13 = b"\x03\x04"
# RFC 8701 reserves 0x0a0a among the GREASE values for versions.
GREASE = b"\x0a\x0a"


class RelayError(Exception):
    """A ClientHello the relay was meant to change could not be read."""


def skip_vector(body, pos, width):
    """Returns the offset just past a vector with a WIDTH-byte length at POS."""
    if pos + width > len(body):
        raise RelayError(f"ClientHello ends inside a length at byte {pos}")
    length = int.from_bytes(body[pos : pos + width], "big")
    end = pos + width + length
    if end > len(body):
        raise RelayError(f"ClientHello vector at byte {pos} runs past the record")
    return end


def extensions_of(body):
    """Yields (type, start, end) of each extension of a ClientHello body.

    BODY is the handshake message without its 4-byte header. Offsets are
    into BODY; start..end is the extension's data (RFC 8446, 4.1.2).
    """
    pos = 2 + 32  # legacy_version, random
    pos = skip_vector(body, pos, 1)  # legacy_session_id
    pos = skip_vector(body, pos, 2)  # cipher_suites
    pos = skip_vector(body, pos, 1)  # legacy_compression_methods
    end = skip_vector(body, pos, 2)
    pos += 2
    while pos + 4 <= end:
        kind = int.from_bytes(body[pos : pos + 2], "big")
        data_end = skip_vector(body, pos + 2, 2)
        yield kind, pos + 4, data_end
        pos = data_end


def hide_tls13(record):
    """Rewrites 0x0304 in a ClientHello record's supported_versions.

    Returns the new record and the number of entries changed. The record must
    contain the whole ClientHello; OpenSSL 3.0's default one (about 320 bytes)
    fits in one record.
    """
    body = bytearray(record)
    message = RECORD_HEADER + 4
    if len(body) < message or body[RECORD_HEADER] != CLIENT_HELLO:
        raise RelayError("the first handshake record does not start with a ClientHello")
    declared = int.from_bytes(body[RECORD_HEADER + 1 : message], "big")
    if message + declared > len(body):
        raise RelayError("the ClientHello spans more than one record")
    hello = body[message : message + declared]
    changed = 0
    for kind, start, end in extensions_of(hello):
        if kind != SUPPORTED_VERSIONS:
            continue
        # One length byte, then two-byte versions (RFC 8446, 4.2.1).
        for pos in range(start + 1, end - 1, 2):
            if hello[pos : pos + 2] == TLS13:
                body[message + pos : message + pos + 2] = GREASE
                changed += 1
    return bytes(body), changed


def flip_last_bit(record):
    """Returns RECORD with the lowest bit of its last byte inverted."""
    body = bytearray(record)
    body[-1] ^= 0x01
    return bytes(body)


class ClientSide:
    """Cuts the client's byte stream into records and changes one of them."""

    def __init__(self, mode, log):
        self.mode = mode
        self.log = log
        self.pending = b""
        self.done = False
        self.offset = 0

    def feed(self, data):
        """Returns the bytes to forward now and keeps a partial record until it is whole."""
        if self.done:
            return data
        self.pending += data
        out = []
        while len(self.pending) >= RECORD_HEADER:
            length = int.from_bytes(self.pending[3:5], "big")
            end = RECORD_HEADER + length
            if len(self.pending) < end:
                break
            record, self.pending = self.pending[:end], self.pending[end:]
            out.append(self.change(record))
            self.offset += end
            if self.done:
                out.append(self.pending)
                self.pending = b""
                break
        return b"".join(out)

    def change(self, record):
        """Returns RECORD, changed when it is the first record of the kind this mode alters."""
        kind = record[0]
        if self.mode == "downgrade" and kind == HANDSHAKE:
            record, changed = hide_tls13(record)
            self.done = True
            self.log(
                f"changed {changed} supported_versions entry 0x0304 to 0x0a0a in the "
                f"ClientHello at client stream offset {self.offset}"
            )
        elif self.mode == "tamper" and kind == APPLICATION_DATA:
            record = flip_last_bit(record)
            self.done = True
            self.log(
                f"flipped bit 0 of the last byte of the {len(record)}-byte application_data "
                f"record at client stream offset {self.offset}"
            )
        return record

    def leftover(self):
        """Returns bytes of a record still incomplete when the client closed."""
        rest, self.pending = self.pending, b""
        return rest


def pump(source, sink, transform, finish, log, name):
    """Copies SOURCE to SINK until SOURCE closes, then half-closes SINK."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(transform(data))
        sink.sendall(finish())
    except OSError as err:
        log(f"{name}: {err}")
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def parse_args(argv):
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="port to accept on")
    parser.add_argument("--upstream", type=int, required=True, help="server port")
    parser.add_argument("--mode", choices=["downgrade", "tamper"], required=True)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per socket step")
    return parser.parse_args(argv)


def serve(args, log):
    """Relays one connection; returns True when the intended change was made."""
    with socket.create_server((LOOPBACK, args.listen)) as listener:
        listener.settimeout(args.timeout)
        log(f"listening on {LOOPBACK}:{args.listen}")
        client, _ = listener.accept()
    with client, socket.create_connection((LOOPBACK, args.upstream), args.timeout) as server:
        client.settimeout(args.timeout)
        server.settimeout(args.timeout)
        side = ClientSide(args.mode, log)
        up = threading.Thread(
            target=pump,
            args=(client, server, side.feed, side.leftover, log, "client to server"),
        )
        up.start()
        pump(server, client, lambda data: data, lambda: b"", log, "server to client")
        up.join()
    return side.done


def main(argv):
    """Runs the relay; exits 1 when the record it should change never came."""
    args = parse_args(argv)

    def log(line):
        print(f"relay: {line}", flush=True)

    try:
        changed = serve(args, log)
    except (OSError, RelayError) as err:
        log(f"error: {err}")
        return 1
    log("done")
    if not changed:
        log(f"error: the client sent no record for mode {args.mode} to change")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
