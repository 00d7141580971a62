#!/usr/bin/env python3
"""Writes a pcap of many keep-alive HTTP/1.1 connections, for scripts/bench/http.sh.

Usage:
    scripts/bench/make-http.py [--target-mb N] [--body-kb K] [--per-connection M] OUT BODIES

Each connection (a SYN handshake, M GET requests, M responses, and FINs) carries responses
of K KiB (default 64) with a Content-Length and a correct Content-Digest (sha-256), cut into
1448-octet segments. Eight different bodies of random octets take turns. BODIES receives
every response body, concatenated, so that `sha256sum BODIES` hashes the same octets as the
scan. Writing stops at the first connection past N MB (default 100) of pcap. Addresses are
from 198.18.0.0/15 (RFC 2544 benchmarking); checksums are left zero, as on a loopback
capture. Only the standard library is used.
"""

import argparse
import base64
import hashlib
import random
import struct

MSS = 1448
BASE_SECONDS = 1_704_067_200


class Writer:
    def __init__(self, out):
        self.out = out
        self.micros = 0
        self.bytes = 24
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        length = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 6, 0, src, dst)
        frame = b"\0" * 12 + b"\x08\x00" + ip + tcp + payload
        self.micros += 10
        seconds, micros = divmod(self.micros, 1_000_000)
        self.out.write(struct.pack("<IIII", BASE_SECONDS + seconds, micros, len(frame),
                                   len(frame)))
        self.out.write(frame)
        self.bytes += 16 + len(frame)


def connection(writer, number, bodies, per_connection, bodies_out):
    client = bytes([198, 18, (number >> 8) & 0xFF, number & 0xFF])
    server = bytes([198, 19, 0, 1])
    sport = 1024 + number % 60000
    syn, psh, ack, fin = 0x02, 0x08, 0x10, 0x01
    cseq, sseq = 1000, 5000
    writer.packet(client, server, sport, 80, cseq, 0, syn)
    writer.packet(server, client, 80, sport, sseq, cseq + 1, syn | ack)
    cseq, sseq = cseq + 1, sseq + 1
    writer.packet(client, server, sport, 80, cseq, sseq, ack)
    for index in range(per_connection):
        body = bodies[(number + index) % len(bodies)]
        request = b"GET /object/%d/%d HTTP/1.1\r\nHost: bench.test\r\n\r\n" % (number, index)
        writer.packet(client, server, sport, 80, cseq, sseq, psh | ack, request)
        cseq += len(request)
        digest = base64.b64encode(hashlib.sha256(body).digest())
        head = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Digest: sha-256=:%s:\r\n\r\n"
                % (len(body), digest))
        stream = head + body
        for start in range(0, len(stream), MSS):
            part = stream[start:start + MSS]
            writer.packet(server, client, 80, sport, sseq, cseq, psh | ack, part)
            sseq += len(part)
        bodies_out.write(body)
    writer.packet(client, server, sport, 80, cseq, sseq, fin | ack)
    writer.packet(server, client, 80, sport, sseq, cseq + 1, fin | ack)
    writer.packet(client, server, sport, 80, cseq + 1, sseq + 1, ack)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=float, default=100)
    parser.add_argument("--body-kb", type=int, default=64)
    parser.add_argument("--per-connection", type=int, default=8)
    parser.add_argument("out")
    parser.add_argument("bodies")
    args = parser.parse_args()
    generator = random.Random(20261204)
    bodies = [generator.randbytes(args.body_kb * 1024) for _ in range(8)]
    target = int(args.target_mb * 1_000_000)
    with open(args.out, "wb") as out, open(args.bodies, "wb") as bodies_out:
        writer = Writer(out)
        number = 0
        while writer.bytes < target:
            connection(writer, number, bodies, args.per_connection, bodies_out)
            number += 1
    print("make-http: %d connections, %d transfers, %d bytes" %
          (number, number * args.per_connection, writer.bytes))


if __name__ == "__main__":
    main()
