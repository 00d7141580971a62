#!/usr/bin/env python3
"""Writes the constructed plain HTTP captures, with dpkt.

Usage: constructed_http.py OUTDIR

curl and common servers do not send the malformed HTTP/1.1 these files contain
(oversized header blocks, conflicting Content-Length fields, digest fields
in a chunked trailer section), so the TCP flows are built here packet by
packet. Each flow is a full connection between 127.0.0.1 ports: handshake,
the request, the response in segments of at most 1448 octets, and a FIN from
each side. Every run writes the same bytes. The cases and what wiretrust
must report are listed in fixtures/captures/README.md.
"""

import base64
import hashlib
import sys
from pathlib import Path

import dpkt

# The server port of the first flow in each file; later flows add one.
SERVER_PORT = 18960
CLIENT_PORT_BASE = 40000
LOOPBACK = bytes([127, 0, 0, 1])
MSS = 1448
# Fixed start time (2026-01-01T00:00:00Z), so the files are reproducible.
START_SECONDS = 1767225600.0
BODY = b"wiretrust constructed body\n"


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class Writer:
    """Writes Ethernet frames of IPv4 TCP segments with increasing timestamps."""

    def __init__(self, path):
        self.file = open(path, "wb")
        self.pcap = dpkt.pcap.Writer(self.file, snaplen=65535, linktype=dpkt.pcap.DLT_EN10MB)
        self.time = START_SECONDS

    def segment(self, sport, dport, seq, ack, flags, payload=b""):
        tcp = dpkt.tcp.TCP(
            sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=65535, data=payload
        )
        ip = dpkt.ip.IP(src=LOOPBACK, dst=LOOPBACK, p=dpkt.ip.IP_PROTO_TCP, ttl=64, data=tcp)
        ip.len = len(ip)
        frame = dpkt.ethernet.Ethernet(
            src=b"\x00" * 6, dst=b"\x00" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip
        )
        self.time += 0.001
        self.pcap.writepkt(bytes(frame), ts=self.time)

    def flow(self, index, request, response):
        """Writes one connection: handshake, request, response, FINs."""
        client, server = CLIENT_PORT_BASE + index, SERVER_PORT + index
        syn, ack, fin, psh = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN, dpkt.tcp.TH_PUSH
        client_seq, server_seq = 1000, 5000
        self.segment(client, server, client_seq, 0, syn)
        self.segment(server, client, server_seq, client_seq + 1, syn | ack)
        client_seq += 1
        server_seq += 1
        self.segment(client, server, client_seq, server_seq, ack)
        for start in range(0, len(request), MSS):
            part = request[start : start + MSS]
            self.segment(client, server, client_seq, server_seq, psh | ack, part)
            client_seq += len(part)
        for start in range(0, len(response), MSS):
            part = response[start : start + MSS]
            self.segment(server, client, server_seq, client_seq, psh | ack, part)
            server_seq += len(part)
        self.segment(server, client, server_seq, client_seq, fin | ack)
        server_seq += 1
        self.segment(client, server, client_seq, server_seq, fin | ack)
        client_seq += 1
        self.segment(server, client, server_seq, client_seq, ack)

    def close(self):
        self.pcap.close()


def get(path, extra=""):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def response(fields, body):
    return b"HTTP/1.1 200 OK\r\n" + fields.encode() + b"\r\n" + body


def chunked(body, trailer):
    size = f"{len(body):x}".encode()
    return size + b"\r\n" + body + b"\r\n0\r\n" + trailer.encode() + b"\r\n"


def trailer_digest():
    right = sha256_b64(BODY)
    wrong = sha256_b64(b"other octets\n")
    chunked_fields = "Transfer-Encoding: chunked\r\nTrailer: Content-Digest\r\n"
    return [
        (get("/trailer/right"), response(chunked_fields, chunked(BODY, f"Content-Digest: sha-256=:{right}:\r\n"))),
        (get("/trailer/wrong"), response(chunked_fields, chunked(BODY, f"Content-Digest: sha-256=:{wrong}:\r\n"))),
    ]


def framing_conflict():
    length = len(BODY)
    return [
        (get("/two-lengths"), response(f"Content-Length: {length}\r\nContent-Length: {length + 5}\r\n", BODY)),
        (
            get("/length-and-chunked"),
            response(f"Content-Length: {length}\r\nTransfer-Encoding: chunked\r\n", chunked(BODY, "")),
        ),
        (get("/length-overflow"), response("Content-Length: 18446744073709551616\r\n", BODY)),
    ]


def parse_problems():
    filler = "X-Filler: " + "a" * 1000 + "\r\n"
    large = filler * 70
    gzip_invalid = b"\x1f\x8b\x08\x00not gzip data at all"
    return [
        (get("/large-request-head", large), response(f"Content-Length: {len(BODY)}\r\n", BODY)),
        (get("/large-response-head"), response(large + f"Content-Length: {len(BODY)}\r\n", BODY)),
        (
            get("/digests-unusable"),
            response(
                f"Content-Length: {len(BODY)}\r\nContent-MD5: not*base64\r\nDigest: UNIXsum=30637\r\n",
                BODY,
            ),
        ),
        (
            get("/gzip-invalid"),
            response(f"Content-Length: {len(gzip_invalid)}\r\nContent-Encoding: gzip\r\n", gzip_invalid),
        ),
        (get("/bad-chunk-size"), response("Transfer-Encoding: chunked\r\n", b"4\r\nWiki\r\nzz\r\n")),
    ]


CAPTURES = {
    "constructed-http-trailer-digest.pcap": trailer_digest,
    "constructed-http-framing-conflict.pcap": framing_conflict,
    "constructed-http-parse-problems.pcap": parse_problems,
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: constructed_http.py OUTDIR")
    outdir = Path(sys.argv[1])
    for name, exchanges in CAPTURES.items():
        writer = Writer(outdir / name)
        for index, (request, reply) in enumerate(exchanges()):
            writer.flow(index, request, reply)
        writer.close()
        print(f"wrote {outdir / name}")


if __name__ == "__main__":
    main()
