#!/usr/bin/env python3
"""Builds one large Ethernet pcap by replaying a folder of small captures many times.

Usage:
    scripts/bench/replay.py [--corpus DIR] [--target-mb N] [--bulk-records K] OUT

The input files are the classic pcap files with link type Ethernet in DIR (default
$WIRETRUST_CORPUS/pcap). Other files (pcapng, compressed, other link types) are skipped
and listed on stderr. Every file replay except the very first rewrites the IPv4 and IPv6
addresses with a key of its own, so a TCP connection replayed twice, or two corpus files
that hold the same connection, get different address pairs. The key has 16 bits, so
address pairs repeat after 65,536 file replays. Addresses behind VLAN tags and PPPoE
session headers are rewritten too. The IPv4 header checksum is recomputed, and TCP and
UDP checksums are adjusted incrementally (RFC 1624). Timestamps are shifted so that each
input file follows the previous one by one second, and gaps longer than a minute inside
a file are shortened to one minute. Writing stops at the first file boundary past N MB.

With --bulk-records K, each direction of each TCP connection gets K extra TLS
application-data records of 16,384 payload bytes, cut into 1,448-byte segments and
inserted after the first segment that holds only whole application-data records. Later
sequence and acknowledgment numbers of that connection are shifted to match, so the
byte streams stay contiguous. A retransmission that crosses the insertion point keeps
only its bytes after the point. SACK blocks are not shifted.

Only the standard library is used. Malformed input never stops the run: a file with a
bad header is skipped, a truncated file is read up to its last whole record, and a
packet whose headers cannot be parsed is copied unchanged.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_ETHERNET = 1
# Output snaplen, the same as tcpdump's default.
OUT_SNAPLEN = 262144
# First output timestamp: 2024-01-01T00:00:00Z, in seconds since the Unix epoch.
BASE_SECONDS = 1_704_067_200
# Gap between two replayed files, in microseconds.
FILE_GAP_US = 1_000_000
# Maximum gap kept between two packets of one file, in microseconds. Longer gaps and
# backward steps (two corpus files jump by years) are shortened so that every output
# timestamp rises and fits the 32-bit seconds field.
MAX_PACKET_GAP_US = 60_000_000
MICROS_MAGIC = 0xA1B2C3D4
NANOS_MAGIC = 0xA1B23C4D
VLAN_TYPES = {0x8100, 0x88A8, 0x9100}
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_PPPOE_SESSION = 0x8864
# PPP protocol numbers that carry IP (RFC 1332, RFC 5072), behind the 6-byte PPPoE header.
PPP_IP_PROTOCOLS = {0x0021: ETHERTYPE_IPV4, 0x0057: ETHERTYPE_IPV6}
PROTO_TCP = 6
PROTO_UDP = 17
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10
TLS_APPLICATION_DATA = 23
TLS_RECORD_HEADER = 5
# Largest TLS plaintext fragment in bytes (RFC 8446 section 5.1). Each inserted record
# carries this many payload bytes.
BULK_RECORD_PAYLOAD = 16_384
# TCP payload per inserted segment: a 1,500-byte MTU less IPv4, TCP and timestamp headers.
BULK_SEGMENT = 1_448
SEQ_SPACE = 1 << 32


class PcapError(Exception):
    """A capture file that is not a classic Ethernet pcap this script can read."""


@dataclass
class Capture:
    """Packets of one input file, timestamps in microseconds from its first packet."""

    name: str
    # One (offset in microseconds, captured bytes, original length) tuple per packet.
    packets: list[tuple[int, bytes, int]]
    duration_us: int


def read_capture(path: Path) -> Capture:
    """Reads a classic pcap file with link type Ethernet.

    Raises PcapError for any other format. A record cut short by the end of the file
    ends the capture without an error, keeping the records before it.
    """
    data = path.read_bytes()
    if len(data) < 24:
        raise PcapError(f"{path.name}: {len(data)} bytes, shorter than a pcap header")
    endian = ""
    for candidate in ("<", ">"):
        (magic,) = struct.unpack_from(candidate + "I", data, 0)
        if magic in (MICROS_MAGIC, NANOS_MAGIC):
            endian = candidate
            break
    if not endian:
        raise PcapError(f"{path.name}: magic {data[:4].hex()} is not classic pcap")
    nanos = magic == NANOS_MAGIC
    (linktype,) = struct.unpack_from(endian + "I", data, 20)
    if linktype & 0x0FFFFFFF != LINKTYPE_ETHERNET:
        raise PcapError(f"{path.name}: link type {linktype}, expected 1 (Ethernet)")
    return Capture(path.name, *read_records(data, endian, nanos))


def read_records(data: bytes, endian: str, nanos: bool) -> tuple[list, int]:
    """Returns the packets after the global header and the span of their timestamps.

    Offsets are measured from the first packet, with each gap clamped to
    [0, MAX_PACKET_GAP_US].
    """
    record = struct.Struct(endian + "IIII")
    packets = []
    offset = 24
    previous_us = None
    relative = 0
    while offset + record.size <= len(data):
        seconds, fraction, incl_len, orig_len = record.unpack_from(data, offset)
        offset += record.size
        if incl_len > len(data) - offset:
            break
        micros = fraction // 1000 if nanos else fraction
        stamp_us = seconds * 1_000_000 + micros
        if previous_us is not None:
            relative += min(max(stamp_us - previous_us, 0), MAX_PACKET_GAP_US)
        previous_us = stamp_us
        frame = data[offset : offset + incl_len][:OUT_SNAPLEN]
        offset += incl_len
        packets.append((relative, frame, max(orig_len, len(frame))))
    return packets, relative


def ones_sum(data: bytes) -> int:
    """Returns the 16-bit ones' complement sum of data (RFC 1071), odd byte padded.

    Uses the fact that 2**16 is 1 modulo 0xFFFF: the folded sum of the 16-bit words equals
    the data read as one big integer modulo 0xFFFF, except that a nonzero sum is 0xFFFF.
    """
    if len(data) % 2:
        data += b"\x00"
    value = int.from_bytes(data, "big")
    if value == 0:
        return 0
    return value % 0xFFFF or 0xFFFF


def adjust_checksum(checksum: int, old: bytes, new: bytes) -> int:
    """Returns checksum updated for old bytes replaced by new (RFC 1624, equation 3)."""
    total = (~checksum & 0xFFFF) + (~ones_sum(old) & 0xFFFF) + ones_sum(new)
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def xor_address(address: bytes, key: bytes, start: int) -> bytes:
    """Returns address with the two bytes at index start and start + 1 XORed with key."""
    changed = bytearray(address)
    changed[start] ^= key[0]
    changed[start + 1] ^= key[1]
    return bytes(changed)


def fix_l4_checksum(frame: bytearray, l4: int, proto: int, old: bytes, new: bytes) -> None:
    """Adjusts the TCP or UDP checksum at l4 for a pseudo-header address change."""
    if proto == PROTO_TCP:
        field = l4 + 16
    elif proto == PROTO_UDP:
        field = l4 + 6
    else:
        return
    if field + 2 > len(frame):
        return
    (checksum,) = struct.unpack_from("!H", frame, field)
    if proto == PROTO_UDP and checksum == 0:
        # Zero means the sender computed no UDP checksum (RFC 768).
        return
    updated = adjust_checksum(checksum, old, new)
    if proto == PROTO_UDP and updated == 0:
        updated = 0xFFFF
    struct.pack_into("!H", frame, field, updated)


def rewrite_ipv4(frame: bytearray, l3: int, key: bytes) -> None:
    """Rewrites both IPv4 addresses (second and third octets) and fixes the checksums."""
    header_len = (frame[l3] & 0x0F) * 4
    if frame[l3] >> 4 != 4 or header_len < 20 or l3 + header_len > len(frame):
        return
    old = bytes(frame[l3 + 12 : l3 + 20])
    new = xor_address(old[:4], key, 1) + xor_address(old[4:], key, 1)
    frame[l3 + 12 : l3 + 20] = new
    struct.pack_into("!H", frame, l3 + 10, 0)
    header_sum = ones_sum(bytes(frame[l3 : l3 + header_len]))
    struct.pack_into("!H", frame, l3 + 10, ~header_sum & 0xFFFF)
    (flags_fragment,) = struct.unpack_from("!H", frame, l3 + 6)
    # Only the first fragment (offset 0) carries the TCP or UDP header.
    if flags_fragment & 0x1FFF == 0:
        fix_l4_checksum(frame, l3 + header_len, frame[l3 + 9], old, new)


def rewrite_ipv6(frame: bytearray, l3: int, key: bytes) -> None:
    """Rewrites both IPv6 addresses (bytes 2 and 3) and fixes a TCP or UDP checksum.

    A TCP or UDP header behind extension headers keeps its old checksum.
    """
    if l3 + 40 > len(frame) or frame[l3] >> 4 != 6:
        return
    old = bytes(frame[l3 + 8 : l3 + 40])
    new = xor_address(old[:16], key, 2) + xor_address(old[16:], key, 2)
    frame[l3 + 8 : l3 + 40] = new
    fix_l4_checksum(frame, l3 + 40, frame[l3 + 6], old, new)


def locate_ip(frame: bytes | bytearray) -> tuple[int, int] | None:
    """Returns the offset of the IP header and its ethertype, past VLAN tags and PPPoE.

    Returns None for frames that carry neither IPv4 nor IPv6.
    """
    l3 = 14
    if len(frame) < l3:
        return None
    (ethertype,) = struct.unpack_from("!H", frame, 12)
    while ethertype in VLAN_TYPES and l3 + 4 <= len(frame):
        (ethertype,) = struct.unpack_from("!H", frame, l3 + 2)
        l3 += 4
    if ethertype == ETHERTYPE_PPPOE_SESSION and l3 + 8 <= len(frame):
        (ppp_protocol,) = struct.unpack_from("!H", frame, l3 + 6)
        ethertype = PPP_IP_PROTOCOLS.get(ppp_protocol, 0)
        l3 += 8
    if ethertype not in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return None
    return l3, ethertype


def rewrite_frame(frame: bytes, key_index: int) -> bytes:
    """Returns the Ethernet frame with its IP addresses rewritten with key_index.

    Key index 0 leaves the frame unchanged.
    """
    key = struct.pack("!H", key_index & 0xFFFF)
    if key == b"\x00\x00":
        return frame
    located = locate_ip(frame)
    if located is None:
        return frame
    l3, ethertype = located
    changed = bytearray(frame)
    if ethertype == ETHERTYPE_IPV4 and l3 + 20 <= len(changed):
        rewrite_ipv4(changed, l3, key)
    elif ethertype == ETHERTYPE_IPV6:
        rewrite_ipv6(changed, l3, key)
    return bytes(changed)


@dataclass
class TcpView:
    """Offsets and fields of a TCP segment inside an Ethernet frame."""

    l3: int
    ethertype: int
    l4: int
    payload: int
    payload_end: int
    src: bytes
    dst: bytes
    ports: tuple[int, int]
    seq: int
    ack: int
    flags: int


def ip_fields(frame: bytes, l3: int, ethertype: int) -> tuple[int, int, bytes, bytes] | None:
    """Returns the TCP header offset, the IP packet end and both addresses, or None.

    None is returned for anything but an unfragmented IPv4 or IPv6 packet whose next header is
    TCP and whose TCP header was captured (IPv6 extension headers are not followed). The
    IP packet end can lie past the frame end when the capture cut the packet.
    """
    if ethertype == ETHERTYPE_IPV4:
        if l3 + 20 > len(frame) or frame[l3] >> 4 != 4 or frame[l3 + 9] != PROTO_TCP:
            return None
        (total,) = struct.unpack_from("!H", frame, l3 + 2)
        (flags_fragment,) = struct.unpack_from("!H", frame, l3 + 6)
        # More-fragments bit or a fragment offset: not a whole segment.
        if flags_fragment & 0x3FFF:
            return None
        l4, end = l3 + (frame[l3] & 0x0F) * 4, l3 + total
        src, dst = bytes(frame[l3 + 12 : l3 + 16]), bytes(frame[l3 + 16 : l3 + 20])
    else:
        if l3 + 40 > len(frame) or frame[l3] >> 4 != 6 or frame[l3 + 6] != PROTO_TCP:
            return None
        (payload_length,) = struct.unpack_from("!H", frame, l3 + 4)
        l4, end = l3 + 40, l3 + 40 + payload_length
        src, dst = bytes(frame[l3 + 8 : l3 + 24]), bytes(frame[l3 + 24 : l3 + 40])
    # Only the TCP header has to be captured: a cut segment still has its numbers shifted.
    if l4 + 20 > min(end, len(frame)):
        return None
    return l4, end, src, dst


def locate_tcp(frame: bytes) -> TcpView | None:
    """Returns the TCP segment in frame, or None when frame contains no TCP header."""
    located = locate_ip(frame)
    if located is None:
        return None
    fields = ip_fields(frame, *located)
    if fields is None:
        return None
    l4, end, src, dst = fields
    sport, dport, seq, ack, offset_byte, flags = struct.unpack_from("!HHIIBB", frame, l4)
    payload = l4 + (offset_byte >> 4) * 4
    if payload > end or payload > len(frame):
        return None
    return TcpView(*located, l4, payload, end, src, dst, (sport, dport), seq, ack, flags)


def whole_application_records(payload: bytes) -> bytes | None:
    """Returns the record version if payload is one or more whole application-data records.

    Any other content, including a record cut by the segment end, returns None.
    """
    offset = 0
    version = None
    while offset < len(payload):
        if offset + TLS_RECORD_HEADER > len(payload):
            return None
        content_type, major, minor, length = struct.unpack_from("!BBBH", payload, offset)
        if content_type != TLS_APPLICATION_DATA or major != 3 or minor > 4:
            return None
        version = version or bytes((major, minor))
        offset += TLS_RECORD_HEADER + length
    return version if offset == len(payload) else None


def seq_at_or_after(value: int, point: int) -> bool:
    """Tells whether sequence number value is at or after point (RFC 1982 serial order)."""
    return (value - point) % SEQ_SPACE < SEQ_SPACE // 2


@functools.cache
def bulk_payloads(version: bytes, records: int) -> list[tuple[bytes, int]]:
    """Returns the segment payloads that carry `records` full application-data records, with sums.

    The record bodies are fixed pseudo-random bytes, because wiretrust does not decrypt them.
    """
    body = random.Random(records).randbytes(BULK_RECORD_PAYLOAD)
    header = struct.pack("!B2sH", TLS_APPLICATION_DATA, version, BULK_RECORD_PAYLOAD)
    stream = (header + body) * records
    chunks = [stream[start : start + BULK_SEGMENT] for start in range(0, len(stream), BULK_SEGMENT)]
    return [(chunk, ones_sum(chunk)) for chunk in chunks]


class BulkPadder:
    """Inserts application-data records into the TCP connections of one file replay.

    Each direction of a connection is padded once, after its first segment that contains only
    whole application-data records. Later sequence numbers in that direction and
    acknowledgment numbers in the other one move by the inserted length.
    """

    def __init__(self, records: int) -> None:
        self.records = records
        # (source, destination, ports) -> (sequence number after the padded segment, bytes).
        self.inserted: dict[tuple, tuple[int, int]] = {}

    def process(self, frame: bytes) -> list[bytes]:
        """Returns frame with shifted numbers, followed by any segments inserted after it."""
        view = locate_tcp(frame)
        if view is None:
            return [frame]
        forward = (view.src, view.dst, view.ports)
        backward = (view.dst, view.src, view.ports[::-1])
        if view.flags & TCP_SYN:
            # A new connection on the same addresses and ports starts unpadded.
            self.inserted.pop(forward, None)
            if not view.flags & TCP_ACK:
                self.inserted.pop(backward, None)
        shifted = self.trim_overlap(self.shift(frame, view, forward, backward), view, forward)
        if forward in self.inserted or view.flags & (TCP_SYN | TCP_FIN | TCP_RST):
            return [shifted]
        if view.payload_end > len(shifted):
            return [shifted]
        version = whole_application_records(shifted[view.payload : view.payload_end])
        if version is None:
            return [shifted]
        return [shifted, *self.insert(shifted, view, forward, version)]

    def shift(self, frame: bytes, view: TcpView, forward: tuple, backward: tuple) -> bytes:
        """Returns frame with its sequence and acknowledgment numbers moved past insertions."""
        seq, ack = view.seq, view.ack
        # NOTE: SACK blocks in the TCP options keep their old numbers.
        if forward in self.inserted:
            point, length = self.inserted[forward]
            if seq_at_or_after(seq, point):
                seq = (seq + length) % SEQ_SPACE
        if backward in self.inserted and view.flags & TCP_ACK:
            point, length = self.inserted[backward]
            if seq_at_or_after(ack, point):
                ack = (ack + length) % SEQ_SPACE
        if (seq, ack) == (view.seq, view.ack):
            return frame
        changed = bytearray(frame)
        old = bytes(changed[view.l4 + 4 : view.l4 + 12])
        new = struct.pack("!II", seq, ack)
        changed[view.l4 + 4 : view.l4 + 12] = new
        (checksum,) = struct.unpack_from("!H", changed, view.l4 + 16)
        struct.pack_into("!H", changed, view.l4 + 16, adjust_checksum(checksum, old, new))
        return bytes(changed)

    def trim_overlap(self, frame: bytes, view: TcpView, forward: tuple) -> bytes:
        """Returns frame without its bytes before the insertion point when it crosses the point.

        A retransmission can resend bytes before the point together with new bytes after it.
        The earlier bytes were delivered already, so they are dropped and the rest moves past
        the inserted records.
        """
        if forward not in self.inserted or view.payload_end > len(frame):
            return frame
        point, length = self.inserted[forward]
        (seq,) = struct.unpack_from("!I", frame, view.l4 + 4)
        end = (seq + view.payload_end - view.payload) % SEQ_SPACE
        if seq_at_or_after(seq, point) or end == point or not seq_at_or_after(end, point):
            return frame
        chunk = frame[view.payload + (point - seq) % SEQ_SPACE : view.payload_end]
        template = bytearray(frame[: view.payload])
        return build_segment(template, view, (point + length) % SEQ_SPACE, chunk, ones_sum(chunk))

    def insert(self, frame: bytes, view: TcpView, forward: tuple, version: bytes) -> list[bytes]:
        """Returns the inserted segments that follow frame and records the shift they cause."""
        payloads = bulk_payloads(version, self.records)
        (seq,) = struct.unpack_from("!I", frame, view.l4 + 4)
        point = (seq + view.payload_end - view.payload) % SEQ_SPACE
        self.inserted[forward] = (point, sum(len(chunk) for chunk, _ in payloads))
        template = bytearray(frame[: view.payload])
        # ACK only, so that the inserted segments neither push nor carry flags such as ECE.
        template[view.l4 + 13] = TCP_ACK
        segments = []
        for chunk, chunk_sum in payloads:
            segments.append(build_segment(template, view, point, chunk, chunk_sum))
            point = (point + len(chunk)) % SEQ_SPACE
        return segments


def build_segment(
    template: bytearray, view: TcpView, seq: int, chunk: bytes, chunk_sum: int
) -> bytes:
    """Returns template's headers with sequence number seq and payload chunk, checksummed.

    chunk_sum is the ones' complement sum of chunk, computed once per chunk.
    """
    headers = bytearray(template)
    tcp_length = len(headers) - view.l4 + len(chunk)
    if view.ethertype == ETHERTYPE_IPV4:
        struct.pack_into("!H", headers, view.l3 + 2, view.l4 - view.l3 + tcp_length)
        struct.pack_into("!H", headers, view.l3 + 10, 0)
        header_sum = ones_sum(bytes(headers[view.l3 : view.l4]))
        struct.pack_into("!H", headers, view.l3 + 10, ~header_sum & 0xFFFF)
        pseudo = view.src + view.dst + struct.pack("!BBH", 0, PROTO_TCP, tcp_length)
    else:
        struct.pack_into("!H", headers, view.l3 + 4, tcp_length)
        pseudo = view.src + view.dst + struct.pack("!I3xB", tcp_length, PROTO_TCP)
    struct.pack_into("!I", headers, view.l4 + 4, seq)
    struct.pack_into("!H", headers, view.l4 + 16, 0)
    # The TCP header length is a multiple of 4, so the payload sum starts on a word.
    total = ones_sum(pseudo) + ones_sum(bytes(headers[view.l4 :])) + chunk_sum
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    struct.pack_into("!H", headers, view.l4 + 16, ~total & 0xFFFF)
    return bytes(headers) + chunk


def load_corpus(folder: Path) -> list[Capture]:
    """Reads every usable capture in folder, sorted by name, and lists the skipped ones."""
    captures = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        try:
            capture = read_capture(path)
        except (PcapError, OSError) as error:
            print(f"replay: skipped {error}", file=sys.stderr)
            continue
        if capture.packets:
            captures.append(capture)
    return captures


def write_replay(
    captures: list[Capture], out: Path, target_bytes: int, bulk_records: int = 0
) -> tuple[int, int, int]:
    """Writes repetitions of captures to out until target_bytes is reached.

    Returns the number of bytes, packets and repetitions written.
    """
    record = struct.Struct("<IIII")
    cursor_us = BASE_SECONDS * 1_000_000
    packets = 0
    repetition = 0
    with out.open("wb") as sink:
        # Global header: version 2.4, UTC, snaplen, Ethernet.
        header = struct.pack("<IHHiIII", MICROS_MAGIC, 2, 4, 0, 0, OUT_SNAPLEN, LINKTYPE_ETHERNET)
        sink.write(header)
        written = len(header)
        while written < target_bytes:
            for index, capture in enumerate(captures):
                key_index = repetition * len(captures) + index
                # Connection state must not leak from one file replay into the next.
                padder = BulkPadder(bulk_records) if bulk_records > 0 else None
                for offset_us, frame, orig_len in capture.packets:
                    stamp = struct.pack("<II", *divmod(cursor_us + offset_us, 1_000_000))
                    data = rewrite_frame(frame, key_index)
                    frames = padder.process(data) if padder else [data]
                    for extra, out_frame in enumerate(frames):
                        # A trimmed frame keeps the bytes the capture cut, and an inserted
                        # frame is whole.
                        cut = orig_len - len(data) if extra == 0 else 0
                        length = len(out_frame) + cut
                        sink.write(stamp + struct.pack("<II", len(out_frame), length))
                        sink.write(out_frame)
                        written += record.size + len(out_frame)
                    packets += len(frames)
                cursor_us += capture.duration_us + FILE_GAP_US
                if written >= target_bytes:
                    break
            repetition += 1
    return written, packets, repetition


def main() -> int:
    """Parses the command line, builds the replay file and prints a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = Path(os.environ.get("WIRETRUST_CORPUS", "")) / "pcap"
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--target-mb", type=float, default=200.0)
    parser.add_argument(
        "--bulk-records",
        type=int,
        default=0,
        help="16 KiB application-data records to insert in each direction of each TLS"
        " connection (default 0: none)",
    )
    parser.add_argument("out", type=Path)
    args = parser.parse_args()

    if not args.corpus.is_dir():
        print(
            f"replay: corpus folder {args.corpus} not found; set WIRETRUST_CORPUS or pass --corpus",
            file=sys.stderr,
        )
        return 2
    captures = load_corpus(args.corpus)
    if not captures:
        print(
            f"replay: no classic pcap file with link type Ethernet and packets in {args.corpus};"
            " pass --corpus with a folder that contains some",
            file=sys.stderr,
        )
        return 1

    target = int(args.target_mb * 1_000_000)
    if args.bulk_records < 0:
        print(
            f"replay: --bulk-records {args.bulk_records} is negative; pass 0 or more",
            file=sys.stderr,
        )
        return 2

    written, packets, repetitions = write_replay(captures, args.out, target, args.bulk_records)
    print(
        f"replay: wrote {args.out}: {written} bytes, {packets} packets, "
        f"{len(captures)} input files, {repetitions} repetitions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
