#!/usr/bin/env python3
"""Builds one large Ethernet pcap by replaying a folder of small captures many times.

Usage:
    scripts/bench/replay.py [--corpus DIR] [--target-mb N] OUT

The input files are the classic pcap files with link type Ethernet in DIR (default
$WIRETRUST_CORPUS/pcap). Other files (pcapng, compressed, other link types) are skipped
and listed on stderr. Every repetition after the first rewrites the IPv4 and IPv6
addresses, so a TCP connection replayed twice has a different address pair each time.
The IPv4 header checksum is recomputed, and TCP and UDP checksums are adjusted
incrementally (RFC 1624). Timestamps are shifted so that each input file follows the
previous one by one second, and gaps longer than a minute inside a file are shortened
to one minute. Writing stops at the first file boundary past N MB.

Only the standard library is used. Malformed input never stops the run: a file with a
bad header is skipped, a truncated file is read up to its last whole record, and a
packet whose headers cannot be parsed is copied unchanged.
"""

from __future__ import annotations

import argparse
import os
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
PROTO_TCP = 6
PROTO_UDP = 17


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
    """Returns the 16-bit ones' complement sum of data (RFC 1071), odd byte padded."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


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


def rewrite_frame(frame: bytes, repetition: int) -> bytes:
    """Returns the Ethernet frame with its IP addresses rewritten for this repetition."""
    if repetition == 0:
        return frame
    changed = bytearray(frame)
    key = struct.pack("!H", repetition & 0xFFFF)
    l3 = 14
    if len(changed) < l3:
        return frame
    (ethertype,) = struct.unpack_from("!H", changed, 12)
    while ethertype in VLAN_TYPES and l3 + 4 <= len(changed):
        (ethertype,) = struct.unpack_from("!H", changed, l3 + 2)
        l3 += 4
    if ethertype == ETHERTYPE_IPV4 and l3 + 20 <= len(changed):
        rewrite_ipv4(changed, l3, key)
    elif ethertype == ETHERTYPE_IPV6:
        rewrite_ipv6(changed, l3, key)
    return bytes(changed)


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


def write_replay(captures: list[Capture], out: Path, target_bytes: int) -> tuple[int, int, int]:
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
            for capture in captures:
                for offset_us, frame, orig_len in capture.packets:
                    stamp_us = cursor_us + offset_us
                    data = rewrite_frame(frame, repetition)
                    sink.write(record.pack(*divmod(stamp_us, 1_000_000), len(data), orig_len))
                    sink.write(data)
                    written += record.size + len(data)
                packets += len(capture.packets)
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
    written, packets, repetitions = write_replay(captures, args.out, target)
    print(
        f"replay: wrote {args.out}: {written} bytes, {packets} packets, "
        f"{len(captures)} input files, {repetitions} repetitions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
