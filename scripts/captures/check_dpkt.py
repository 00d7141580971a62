#!/usr/bin/env python3
"""Checks captures with dpkt, a second parser independent of tshark.

Usage: check_dpkt.py [--no-checksums] PCAP...

dpkt (BSD licence) is needed only here: `pip install dpkt`. It is not a
dependency of wiretrust. For each file this reads every Ethernet/IPv4/TCP
frame, recomputes the IPv4 and TCP checksums, follows each direction's
sequence numbers (a gap, overlap or retransmission is an error), cuts the
reassembled bytes into TLS records and prints one line per direction:

    crafted-rc4.pcap 192.0.2.11:49153>203.0.113.11:443 22/0x0303/121 ...

giving each record's content type, version and length. Records with an
unknown content type or a length above 2^14 + 2048 (RFC 5246, 6.2.3) are
marked "!". Exits 1 when any file has a bad checksum or a sequence error.

--no-checksums skips the checksum test, for captures recorded on Linux's
loopback interface: the kernel leaves their TCP checksums unfilled because
the packets never reach a network card (checksum offload).
"""

import socket
import sys

import dpkt

MAX_RECORD = 2**14 + 2048
CONTENT_TYPES = {20, 21, 22, 23, 24}


class CheckError(Exception):
    """A frame whose checksum or sequence number is wrong."""


def checksums_ok(ip):
    """Returns True when IP's header and TCP checksums are what dpkt computes."""
    header_sum, tcp_sum = ip.sum, ip.data.sum
    ip.sum = 0
    ip.data.sum = 0
    # dpkt fills in zeroed checksums when it packs (the TCP one over the pseudo-header).
    again = dpkt.ip.IP(bytes(ip))
    return again.sum == header_sum and again.data.sum == tcp_sum


class Direction:
    """The byte stream of one direction, rebuilt from sequence numbers."""

    def __init__(self):
        self.next_seq = None
        self.data = bytearray()

    def add(self, number, tcp):
        """Appends TCP's payload; raises CheckError when it is not the next byte."""
        syn_or_fin = bool(tcp.flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN))
        if tcp.flags & dpkt.tcp.TH_SYN:
            self.next_seq = tcp.seq
        elif self.next_seq is None:
            raise CheckError(f"frame {number}: data before the SYN")
        elif tcp.seq != self.next_seq and (tcp.data or syn_or_fin):
            raise CheckError(f"frame {number}: seq {tcp.seq}, expected {self.next_seq}")
        self.data += tcp.data
        self.next_seq = (tcp.seq + len(tcp.data) + syn_or_fin) & 0xFFFFFFFF


def records(data):
    """Returns 'type/version/length' for each whole TLS record in DATA."""
    out = []
    pos = 0
    while pos + 5 <= len(data):
        try:
            record = dpkt.ssl.TLSRecord(bytes(data[pos:]))
        except dpkt.NeedData:
            out.append(f"partial({len(data) - pos})")
            break
        odd = record.type not in CONTENT_TYPES or record.length > MAX_RECORD
        out.append(f"{'!' if odd else ''}{record.type}/0x{record.version:04x}/{record.length}")
        pos += 5 + record.length
    return out


def endpoint(ip, port):
    """Returns IP:PORT for a 4-byte IPv4 address."""
    return f"{socket.inet_ntoa(ip)}:{port}"


def check(path, verify_sums):
    """Prints the record lines of PATH; raises CheckError on a bad frame."""
    streams = {}
    with open(path, "rb") as handle:
        for number, (_, frame) in enumerate(dpkt.pcap.Reader(handle), start=1):
            ip = dpkt.ethernet.Ethernet(frame).data
            if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
                raise CheckError(f"frame {number}: not IPv4 and TCP")
            if verify_sums and not checksums_ok(ip):
                raise CheckError(f"frame {number}: bad IPv4 or TCP checksum")
            tcp = ip.data
            key = f"{endpoint(ip.src, tcp.sport)}>{endpoint(ip.dst, tcp.dport)}"
            streams.setdefault(key, Direction()).add(number, tcp)
    name = path.rsplit("/", 1)[-1]
    for key, stream in streams.items():
        print(f"{name} {key} {' '.join(records(stream.data)) or '-'}")


def main(args):
    """Checks every file; returns 1 when any failed."""
    verify_sums = "--no-checksums" not in args
    failed = 0
    for path in (arg for arg in args if arg != "--no-checksums"):
        try:
            check(path, verify_sums)
        except (CheckError, OSError, ValueError, dpkt.dpkt.UnpackError) as err:
            print(f"check_dpkt.py: error: {path}: {err}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
