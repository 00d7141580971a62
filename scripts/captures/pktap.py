#!/usr/bin/env python3
"""Wraps recorded loopback frames in Apple's pktap formats, with the standard library only.

Usage: pktap.py CAPTURES_DIR OUTDIR

No packet capture recorded on a Mac with process metadata is public. This
script therefore builds the two forms macOS tcpdump writes from frames the
project recorded itself on 127.0.0.1: CAPTURES_DIR/tls12-benign.pcap (curl to
openssl s_server) and CAPTURES_DIR/tls10-forced.pcap (openssl s_client to
openssl s_server). Every IP packet is kept byte for byte with its recorded timestamp.
The Linux Ethernet header is replaced by the 4-byte BSD loopback header that
macOS gives lo0 (address family 2 in little-endian order), and each packet is
attributed to the process that sent it:

- OUTDIR/constructed-pktap-pib.pcapng: pcapng with one lo0 interface (link
  type NULL), one Process Information Block (type 0x80000001: pid, then
  options name 2, path 3 and uuid 4) per process, and Enhanced Packet Blocks
  carrying option 0x8001 (process index), 0x8003 (effective process index),
  0x8005 (flow id) and the epb_flags direction bits (outbound).
- OUTDIR/constructed-pktap-header.pcapng: pcapng with one pktap interface
  (link type PKTAP, 258) whose packets start with a 156-byte version 1
  struct pktap_header (XNU bsd/net/pktap.h) naming pid, command name,
  effective pid and command name, pth_dlt 0 (DLT_NULL) and interface lo0.
- OUTDIR/constructed-pktap-baseline-learn.pcapng and
  OUTDIR/constructed-pktap-baseline-client-hello.pcapng: the frames of
  CAPTURES_DIR/baseline-learn.pcap (port 18300) and
  CAPTURES_DIR/baseline-client-hello.pcap (port 18303) in the first form,
  each naming one s_client process for every connection of the file.

The pids, paths and UUIDs are made up: curl is pid 4242, the s_server that
curl talks to pid 4100, s_client pid 4243 and its s_server pid 4101. In the
baseline files s_client is a signed OpenSSL build at /usr/local/bin/openssl,
pid 4310 in the learn file and pid 4313 in the client-hello file, and the
s_server it talks to is pid 4300 and 4303. Every run writes the same bytes.
"""

import struct
import sys
import uuid
from pathlib import Path

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PKTAP = 258
DLT_NULL = 0
AF_INET = 2
BLOCK_SECTION = 0x0A0D0D0A
BLOCK_INTERFACE = 1
BLOCK_ENHANCED_PACKET = 6
BLOCK_PROCESS_INFORMATION = 0x80000001
OPT_END = 0
OPT_COMMENT = 1
IF_NAME = 2
EPB_FLAGS = 2
EPB_PIB_INDEX = 0x8001
EPB_E_PIB_INDEX = 0x8003
EPB_FLOW_ID = 0x8005
PIB_NAME = 2
PIB_PATH = 3
PIB_UUID = 4
EPB_FLAGS_OUTBOUND = 2
PTH_FLAG_DIR_OUT = 0x2
PTH_FLAG_SOCKET = 0x20000
PTH_TYPE_PACKET = 1
PKTAP_HEADER_LEN = 156
SNAPLEN = 262144


def process(pid, name, path):
    """Returns a made-up process with a UUID derived from its name and pid."""
    return {
        "pid": pid,
        "name": name,
        "path": path,
        "uuid": uuid.uuid5(uuid.NAMESPACE_URL, f"wiretrust-constructed/{name}/{pid}").bytes,
    }


CURL = process(4242, "curl", "/usr/bin/curl")
SERVER_FOR_CURL = process(4100, "openssl", "/usr/bin/openssl")
S_CLIENT = process(4243, "openssl", "/usr/bin/openssl")
SERVER_FOR_S_CLIENT = process(4101, "openssl", "/usr/bin/openssl")
# Source capture, the server port in it, and the processes of its client and server side.
SOURCES = [
    ("tls12-benign.pcap", 44301, CURL, SERVER_FOR_CURL),
    ("tls10-forced.pcap", 44303, S_CLIENT, SERVER_FOR_S_CLIENT),
]
PROCESSES = [CURL, SERVER_FOR_CURL, S_CLIENT, SERVER_FOR_S_CLIENT]

# The baseline captures, one process information file each: output name,
# source capture, server port, client process, server process.
# fixtures/endpoint/constructed-pktap-baseline-processes.eslogger.jsonl
# gives both client pids the same code-signing identity.
SIGNED_OPENSSL = "/usr/local/bin/openssl"
BASELINE_OUTPUTS = [
    ("constructed-pktap-baseline-learn.pcapng", "baseline-learn.pcap", 18300,
     process(4310, "openssl", SIGNED_OPENSSL), process(4300, "openssl", "/usr/bin/openssl")),
    ("constructed-pktap-baseline-client-hello.pcapng", "baseline-client-hello.pcap", 18303,
     process(4313, "openssl", SIGNED_OPENSSL), process(4303, "openssl", "/usr/bin/openssl")),
]


def read_pcap(path):
    """Returns (seconds, microseconds, frame) of every record of a little-endian
    microsecond pcap with Ethernet frames."""
    data = path.read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", data, 0)
    if magic != 0xA1B2C3D4 or linktype != LINKTYPE_ETHERNET:
        sys.exit(f"pktap.py: {path} is not a little-endian microsecond Ethernet pcap")
    records, at = [], 24
    while at + 16 <= len(data):
        seconds, micros, caplen, origlen = struct.unpack_from("<IIII", data, at)
        if caplen != origlen:
            sys.exit(f"pktap.py: {path}: record at byte {at} was cut by the snapshot length")
        records.append((seconds, micros, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return records


def loopback_packets(sources):
    """Yields (seconds, microseconds, loopback frame, sending process, flow id)
    for the frames of every source in order. Flow ids count the TCP
    connections from 1, in the order their first packets appear."""
    flows = {}
    for index, (name, port, client, server) in enumerate(sources):
        path = CAPTURES / name
        for seconds, micros, frame in read_pcap(path):
            if frame[12:14] != b"\x08\x00":
                sys.exit(f"pktap.py: {path}: a frame that is not IPv4")
            ip = frame[14:]
            header_len = (ip[0] & 0x0F) * 4
            src_port, dst_port = struct.unpack_from("!HH", ip, header_len)
            sender = server if src_port == port else client
            client_port = dst_port if sender is server else src_port
            flow_id = flows.setdefault((index, client_port), len(flows) + 1)
            yield seconds, micros, struct.pack("<I", AF_INET) + ip, sender, flow_id


def pad4(data):
    return data + b"\x00" * (-len(data) % 4)


def options(items):
    """Encodes pcapng options (code, value) in little-endian order, with opt_endofopt."""
    out = b""
    for code, value in items:
        out += struct.pack("<HH", code, len(value)) + pad4(value)
    return out + struct.pack("<HH", OPT_END, 0)


def block(block_type, body):
    body = pad4(body)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def section(comment):
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(BLOCK_SECTION, body + options([(OPT_COMMENT, comment.encode())]))


def interface(linktype, name):
    body = struct.pack("<HHI", linktype, 0, SNAPLEN)
    return block(BLOCK_INTERFACE, body + options([(IF_NAME, name.encode())]))


def enhanced_packet(seconds, micros, frame, packet_options):
    ticks = seconds * 1_000_000 + micros
    body = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
    body += pad4(frame)
    if packet_options:
        body += options(packet_options)
    return block(BLOCK_ENHANCED_PACKET, body)


def process_information(proc):
    body = struct.pack("<I", proc["pid"])
    body += options([
        (PIB_NAME, proc["name"].encode()),
        (PIB_PATH, proc["path"].encode()),
        (PIB_UUID, proc["uuid"]),
    ])
    return block(BLOCK_PROCESS_INFORMATION, body)


def with_process_blocks(sources, processes):
    out = section("constructed by wiretrust scripts/captures/pktap.py from recorded loopback "
                  "frames; processes are made up")
    out += interface(LINKTYPE_NULL, "lo0")
    out += b"".join(process_information(proc) for proc in processes)
    for seconds, micros, frame, sender, flow_id in loopback_packets(sources):
        index = struct.pack("<I", processes.index(sender))
        out += enhanced_packet(seconds, micros, frame, [
            (EPB_PIB_INDEX, index),
            (EPB_E_PIB_INDEX, index),
            (EPB_FLOW_ID, struct.pack("<I", flow_id)),
            (EPB_FLAGS, struct.pack("<I", EPB_FLAGS_OUTBOUND)),
        ])
    return out


def pktap_header(seconds, micros, sender, flow_id):
    """Returns a version 1 struct pktap_header in the layout of XNU's bsd/net/pktap.h."""
    comm = sender["name"].encode()[:16].ljust(17, b"\x00")
    header = struct.pack("<III", PKTAP_HEADER_LEN, PTH_TYPE_PACKET, DLT_NULL)
    header += b"lo0".ljust(24, b"\x00")
    header += struct.pack("<IIIIi", PTH_FLAG_DIR_OUT | PTH_FLAG_SOCKET, AF_INET, 4, 0,
                          sender["pid"])
    header += comm + b"\x00" + struct.pack("<H", 0)  # pth_pad1, pth_trace_tag
    header += struct.pack("<IHHi", 0, 24, 0, sender["pid"])  # svc BE, iftype loopback, unit 0
    header += comm + b"\x00" + struct.pack("<H", 0)  # pth_pad2, pth_pad3
    header += struct.pack("<IIii", flow_id, 6, seconds, micros)
    header += sender["uuid"] + sender["uuid"]
    if len(header) != PKTAP_HEADER_LEN:
        sys.exit(f"pktap.py: built a {len(header)}-byte pktap header")
    return header


def with_pktap_headers():
    out = section("constructed by wiretrust scripts/captures/pktap.py from recorded loopback "
                  "frames; processes are made up")
    out += interface(LINKTYPE_PKTAP, "pktap")
    for seconds, micros, frame, sender, flow_id in loopback_packets(SOURCES):
        header = pktap_header(seconds, micros, sender, flow_id)
        out += enhanced_packet(seconds, micros, header + frame, [])
    return out


def main():
    global CAPTURES
    if len(sys.argv) != 3:
        sys.exit("usage: pktap.py CAPTURES_DIR OUTDIR")
    CAPTURES = Path(sys.argv[1])
    outdir = Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "constructed-pktap-pib.pcapng").write_bytes(with_process_blocks(SOURCES, PROCESSES))
    (outdir / "constructed-pktap-header.pcapng").write_bytes(with_pktap_headers())
    for output, source, port, client, server in BASELINE_OUTPUTS:
        data = with_process_blocks([(source, port, client, server)], [client, server])
        (outdir / output).write_bytes(data)


CAPTURES = Path()

if __name__ == "__main__":
    main()
