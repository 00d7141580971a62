#!/usr/bin/env python3
"""Writes the crafted TLS captures, byte by byte, with the standard library only.

Usage: craft.py OUTDIR [NAME...]

Each NAME (default: all) is one file OUTDIR/NAME.pcap. Every file is a classic
pcap (microsecond timestamps, link type Ethernet) holding one TCP connection:
a three-way handshake, TLS records in segments of at most 1460 bytes with
exact sequence and acknowledgement numbers, and a FIN close. IPv4 and TCP
checksums are computed. Addresses come from the documentation ranges only
(RFC 5737 for IPv4, RFC 7042 section 2.1.2 for MAC), the server listens on
443, and nothing is sent anywhere: the packets exist only in the files.

The TLS messages are well formed but nothing in them is real cryptography.
Randoms, keys, signatures and encrypted records are pseudo-random bytes of the
sizes the negotiated suite would give, and the certificates are valid DER
whose signatures verify against nothing. The bytes come from a generator
seeded with the file name, so every run writes the same files.
"""

import random
import struct
import sys
from pathlib import Path

# ---------------------------------------------------------------- pcap, Ethernet, IPv4, TCP

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144
ETHERTYPE_IPV4 = 0x0800
IPPROTO_TCP = 6
MSS = 1460
WINDOW = 64240
# TCP flag bits (RFC 9293, 3.1).
FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
# Microseconds between segments of one flight, and one round trip between flights.
GAP_US = 40
RTT_US = 18000
# 2024-01-01 00:00:00 UTC; each file starts a minute after the previous one.
EPOCH = 1704067200


def mac(text):
    """Returns the 6 bytes of a MAC address written as aa:bb:cc:dd:ee:ff."""
    return bytes(int(part, 16) for part in text.split(":"))


def ipv4(text):
    """Returns the 4 bytes of a dotted IPv4 address."""
    return bytes(int(part) for part in text.split("."))


def internet_checksum(data):
    """Returns the ones' complement sum of DATA in 16-bit words (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Host:
    """One end of the connection and the state it keeps while sending."""

    def __init__(self, mac_text, ip_text, port, isn, ip_id, ttl):
        self.mac = mac(mac_text)
        self.ip = ipv4(ip_text)
        self.port = port
        self.seq = isn
        self.ip_id = ip_id
        self.ttl = ttl


class Connection:
    """Writes the frames of one TCP connection into a list of pcap records."""

    def __init__(self, client, server, start):
        self.client = client
        self.server = server
        self.clock_us = start * 1_000_000
        self.records = []

    def peer(self, host):
        """Returns the other end of the connection."""
        return self.server if host is self.client else self.client

    def frame(self, src, flags, payload=b"", options=b"", gap=GAP_US):
        """Appends one Ethernet/IPv4/TCP frame from SRC after GAP microseconds."""
        dst = self.peer(src)
        ack = dst.seq if flags & ACK else 0
        offset = (20 + len(options)) // 4
        header = struct.pack(
            "!HHIIBBHHH", src.port, dst.port, src.seq, ack, offset << 4, flags, WINDOW, 0, 0
        )
        segment = header + options + payload
        pseudo = src.ip + dst.ip + struct.pack("!BBH", 0, IPPROTO_TCP, len(segment))
        checksum = struct.pack("!H", internet_checksum(pseudo + segment))
        segment = segment[:16] + checksum + segment[18:]
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), src.ip_id, 0x4000, src.ttl,
            IPPROTO_TCP, 0, src.ip, dst.ip,
        )
        ip = ip[:10] + struct.pack("!H", internet_checksum(ip)) + ip[12:]
        src.ip_id = (src.ip_id + 1) & 0xFFFF
        # SYN and FIN each take one sequence number (RFC 9293, 3.4).
        src.seq = (src.seq + len(payload) + bool(flags & (SYN | FIN))) & 0xFFFFFFFF
        self.clock_us += gap
        ether = dst.mac + src.mac + struct.pack("!H", ETHERTYPE_IPV4)
        self.add(ether + ip + segment)

    def add(self, frame):
        """Stores FRAME with the current time as one pcap record."""
        seconds, micros = divmod(self.clock_us, 1_000_000)
        self.records.append(struct.pack("!IIII", seconds, micros, len(frame), len(frame)) + frame)

    def open(self):
        """Writes the three-way handshake, each SYN offering an MSS of 1460."""
        mss = struct.pack("!BBH", 2, 4, MSS)
        self.frame(self.client, SYN, options=mss, gap=0)
        self.frame(self.server, SYN | ACK, options=mss, gap=RTT_US // 2)
        self.frame(self.client, ACK, gap=RTT_US // 2)

    def send(self, src, data):
        """Writes DATA from SRC in MSS-sized segments, PSH on the last, after one RTT/2."""
        gap = RTT_US // 2
        for start in range(0, len(data), MSS):
            chunk = data[start : start + MSS]
            last = start + MSS >= len(data)
            self.frame(src, ACK | (PSH if last else 0), chunk, gap=gap)
            gap = GAP_US

    def ack(self, src):
        """Writes a pure ACK from SRC."""
        self.frame(src, ACK, gap=RTT_US // 4)

    def close(self, first):
        """Writes FIN from FIRST, FIN from the peer, and the last ACK."""
        self.frame(first, FIN | ACK, gap=RTT_US // 4)
        self.frame(self.peer(first), FIN | ACK, gap=RTT_US // 2)
        self.frame(first, ACK, gap=RTT_US // 2)

    def pcap(self):
        """Returns the whole file: global header and every record."""
        header = struct.pack(
            "!IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET
        )
        return header + b"".join(self.records)


# ---------------------------------------------------------------- TLS encoding

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304
# Record content types (RFC 8446, 5.1), alert levels and descriptions (6).
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
FATAL = 2
BAD_RECORD_MAC, RECORD_OVERFLOW, ILLEGAL_PARAMETER = 20, 22, 47
# Handshake message types.
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE = 1, 2, 11
SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE = 12, 14, 16
# Named groups and signature schemes.
X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018
RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256, ECDSA_SECP256R1_SHA256 = 0x0804, 0x0401, 0x0403
# RFC 8446, 4.1.3: the last 8 bytes of ServerHello.random on a downgrade.
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"
# Cipher suites used below, by IANA code point.
TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 = 0x1301, 0x1302
ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES256_GCM = 0xC02F, 0xC030
ECDHE_RSA_AES128_SHA, ECDHE_RSA_AES256_SHA = 0xC013, 0xC014
RSA_AES128_SHA, RSA_AES256_SHA, RSA_3DES_SHA = 0x002F, 0x0035, 0x000A
RSA_RC4_MD5, RSA_RC4_SHA, RSA_EXPORT_RC4_40_MD5 = 0x0004, 0x0005, 0x0003
RSA_EXPORT_RC2_40_MD5, RSA_EXPORT_DES40_SHA = 0x0006, 0x0008
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF


def u8(value):
    """Returns VALUE as one byte."""
    return struct.pack("!B", value)


def u16(value):
    """Returns VALUE as two big-endian bytes."""
    return struct.pack("!H", value)


def vector(width, data):
    """Returns DATA prefixed with its length in WIDTH bytes (RFC 8446, 3.4)."""
    return struct.pack("!I", len(data))[4 - width :] + data


def u16_list(values):
    """Returns VALUES as consecutive two-byte big-endian numbers."""
    return b"".join(u16(value) for value in values)


def record(content_type, version, payload):
    """Returns one TLS record."""
    return u8(content_type) + u16(version) + vector(2, payload)


def handshake(kind, body):
    """Returns one handshake message: type, 24-bit length, body."""
    return u8(kind) + vector(3, body)


def extension(kind, data):
    """Returns one hello extension: type, 16-bit length, data."""
    return u16(kind) + vector(2, data)


def server_name(name):
    """server_name (0), one host_name entry (RFC 6066, 3)."""
    entry = u8(0) + vector(2, name.encode("ascii"))
    return extension(0x0000, vector(2, entry))


def supported_groups(groups):
    """Returns supported_groups (10) listing GROUPS (RFC 8422, 5.1.1)."""
    return extension(0x000A, vector(2, u16_list(groups)))


def ec_point_formats():
    """ec_point_formats (11) with uncompressed only (RFC 8422, 5.1.2)."""
    return extension(0x000B, vector(1, b"\x00"))


def signature_algorithms(schemes):
    """Returns signature_algorithms (13) listing SCHEMES."""
    return extension(0x000D, vector(2, u16_list(schemes)))


def extended_master_secret():
    """Returns an empty extended_master_secret (23, RFC 7627)."""
    return extension(0x0017, b"")


def session_ticket():
    """Returns an empty session_ticket (35), asking for a new ticket (RFC 5077)."""
    return extension(0x0023, b"")


def renegotiation_info():
    """renegotiation_info (0xff01) of an initial handshake (RFC 5746, 3.2)."""
    return extension(0xFF01, b"\x00")


def client_supported_versions(versions):
    """Returns the ClientHello's supported_versions (43) listing VERSIONS."""
    return extension(0x002B, vector(1, u16_list(versions)))


def server_supported_versions(version):
    """Returns the ServerHello's supported_versions (43) selecting VERSION."""
    return extension(0x002B, u16(version))


def client_key_share(group, key):
    """Returns the ClientHello's key_share (51) with one KEY for GROUP."""
    return extension(0x0033, vector(2, u16(group) + vector(2, key)))


def server_key_share(group, key):
    """Returns the ServerHello's key_share (51) with KEY for GROUP."""
    return extension(0x0033, u16(group) + vector(2, key))


def psk_key_exchange_modes():
    """psk_key_exchange_modes (45) with psk_dhe_ke only."""
    return extension(0x002D, vector(1, b"\x01"))


def client_hello(version, rng, suites, extensions, session_id=b""):
    """Returns a ClientHello message; EXTENSIONS None omits the block (SSL 3.0 style)."""
    body = u16(version) + rng.randbytes(32) + vector(1, session_id)
    body += vector(2, u16_list(suites)) + vector(1, b"\x00")
    if extensions is not None:
        body += vector(2, b"".join(extensions))
    return handshake(CLIENT_HELLO, body)


def server_hello(version, random_bytes, suite, extensions, session_id=b""):
    """Returns a ServerHello message; EXTENSIONS None omits the block."""
    body = u16(version) + random_bytes + vector(1, session_id) + u16(suite) + b"\x00"
    if extensions is not None:
        body += vector(2, b"".join(extensions))
    return handshake(SERVER_HELLO, body)


def certificate(chain):
    """Returns a TLS 1.2-style Certificate message for the DER certificates in CHAIN."""
    return handshake(CERTIFICATE, vector(3, b"".join(vector(3, der) for der in chain)))


def ecdhe_key_exchange(rng, scheme):
    """Returns a ServerKeyExchange for X25519 signed with a 2048-bit RSA key.

    SCHEME None leaves out the signature algorithm, as TLS 1.0 and 1.1 do
    (RFC 8422, 5.4).
    """
    params = u8(3) + u16(X25519) + vector(1, rng.randbytes(32))
    algorithm = b"" if scheme is None else u16(scheme)
    return handshake(SERVER_KEY_EXCHANGE, params + algorithm + vector(2, rng.randbytes(256)))


def server_hello_done():
    """Returns an empty ServerHelloDone."""
    return handshake(SERVER_HELLO_DONE, b"")


def rsa_key_exchange(rng, key_bytes, version):
    """Returns an RSA ClientKeyExchange; SSL 3.0 sends it without a length."""
    secret = rng.randbytes(key_bytes)
    return handshake(CLIENT_KEY_EXCHANGE, secret if version == SSL3 else vector(2, secret))


def ecdhe_client_key_exchange(rng):
    """Returns a ClientKeyExchange with a random 32-byte X25519 point."""
    return handshake(CLIENT_KEY_EXCHANGE, vector(1, rng.randbytes(32)))


def server_random(rng, sentinel=b""):
    """Returns a 32-byte ServerHello.random ending with SENTINEL."""
    return rng.randbytes(32 - len(sentinel)) + sentinel


# ---------------------------------------------------------------- DER certificates


def der(tag, content):
    """Returns one DER TLV (X.690, 8.1)."""
    if len(content) < 0x80:
        length = u8(len(content))
    else:
        size = (len(content).bit_length() + 7) // 8
        length = u8(0x80 | size) + len(content).to_bytes(size, "big")
    return u8(tag) + length + content


def der_seq(*items):
    """Returns a SEQUENCE of the encoded ITEMS."""
    return der(0x30, b"".join(items))


def der_oid(text):
    """Returns an OBJECT IDENTIFIER in base-128 arcs (X.690, 8.19)."""
    arcs = [int(arc) for arc in text.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return der(0x06, bytes(out))


def der_uint(data):
    """Returns a non-negative INTEGER from big-endian bytes."""
    data = data.lstrip(b"\x00") or b"\x00"
    if data[0] & 0x80:
        data = b"\x00" + data
    return der(0x02, data)


def der_name(common_name):
    """Returns a Name with one commonName in UTF8String."""
    attribute = der_seq(der_oid("2.5.4.3"), der(0x0C, common_name.encode("utf-8")))
    return der_seq(der(0x31, attribute))


SHA256_WITH_RSA = der_seq(der_oid("1.2.840.113549.1.1.11"), der(0x05, b""))


def rsa_public_key(rng, bits):
    """Returns a SubjectPublicKeyInfo with a random odd modulus of BITS bits and e 65537."""
    modulus = bytearray(rng.randbytes(bits // 8))
    modulus[0] |= 0x80
    modulus[-1] |= 0x01
    key = der_seq(der_uint(bytes(modulus)), der_uint(b"\x01\x00\x01"))
    algorithm = der_seq(der_oid("1.2.840.113549.1.1.1"), der(0x05, b""))
    return der_seq(algorithm, der(0x03, b"\x00" + key))


def certificate_der(rng, subject, issuer, bits):
    """Returns an X.509 v3 server certificate for SUBJECT (CN and subjectAltName)."""
    san = der_seq(der(0x82, subject.encode("ascii")))
    extensions = der_seq(
        der_seq(der_oid("2.5.29.19"), der(0x01, b"\xff"), der(0x04, der_seq())),
        der_seq(der_oid("2.5.29.17"), der(0x04, san)),
    )
    tbs = der_seq(
        der(0xA0, der_uint(b"\x02")),
        der_uint(rng.randbytes(16)),
        SHA256_WITH_RSA,
        der_name(issuer),
        der_seq(der(0x17, b"231201000000Z"), der(0x17, b"251201000000Z")),
        der_name(subject),
        rsa_public_key(rng, bits),
        der(0xA3, extensions),
    )
    # The issuer's key is 2048-bit whatever the leaf's size.
    return der_seq(tbs, SHA256_WITH_RSA, der(0x03, b"\x00" + rng.randbytes(256)))


# ---------------------------------------------------------------- conversations

CLIENT_MAC = "00:00:5e:00:53:0a"
SERVER_MAC = "00:00:5e:00:53:01"  # the client's gateway, as seen on the client's link
TLS12_SCHEMES = [RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256, ECDSA_SECP256R1_SHA256]
ISSUER = "Example Server CA"


class Crafter:
    """State shared by the writers of one file: its generator, connection and names."""

    def __init__(self, name, index, client_ip, server_ip, host):
        self.rng = random.Random(name)
        self.host = host
        client = Host(CLIENT_MAC, client_ip, 49152 + index, self.rng.getrandbits(32),
                      self.rng.getrandbits(16), 64)
        server = Host(SERVER_MAC, server_ip, 443, self.rng.getrandbits(32),
                      self.rng.getrandbits(16), 52)
        self.tcp = Connection(client, server, EPOCH + 60 * index)
        self.client, self.server = client, server
        self.tcp.open()

    def hello_extensions(self):
        """Returns the extensions of a TLS 1.2 ClientHello, without supported_versions."""
        return [
            server_name(self.host), ec_point_formats(),
            supported_groups([X25519, SECP256R1, SECP384R1]), session_ticket(),
            extended_master_secret(), signature_algorithms(TLS12_SCHEMES), renegotiation_info(),
        ]

    def chain(self, bits=2048):
        """Returns the server's chain: one leaf for the host name."""
        return [certificate_der(self.rng, self.host, ISSUER, bits)]

    def sealed(self, content_type, version, size):
        """Returns an encrypted record of SIZE pseudo-random bytes."""
        return record(content_type, version, self.rng.randbytes(size))

    def exchange(self, version, sizes, alert_type=ALERT):
        """Writes one request and one response, then both close_notify alerts and the close.

        SIZES gives the encrypted lengths of (request, response, alert). TLS 1.3
        seals alerts as application_data (RFC 8446, 5.2), so it passes ALERT_TYPE.
        """
        request, response, alert = sizes
        self.tcp.send(self.client, self.sealed(APPLICATION_DATA, version, request))
        self.tcp.send(self.server, self.sealed(APPLICATION_DATA, version, response))
        self.tcp.ack(self.client)
        self.tcp.send(self.client, self.sealed(alert_type, version, alert))
        self.tcp.frame(self.client, FIN | ACK)
        self.tcp.send(self.server, self.sealed(alert_type, version, alert))
        self.tcp.frame(self.server, FIN | ACK)
        self.tcp.frame(self.client, ACK, gap=RTT_US // 2)

    def rsa_handshake(self, version, suites, chosen, sizes):
        """Writes a full RSA key-exchange handshake and one exchange.

        SIZES gives the encrypted lengths of (Finished, request, response, alert).
        """
        finished, *rest = sizes
        ssl3 = version == SSL3
        extensions = None if ssl3 else self.hello_extensions()
        hello = client_hello(version, self.rng, suites, extensions)
        self.tcp.send(self.client, record(HANDSHAKE, version, hello))
        answer = None if ssl3 else [renegotiation_info(), extended_master_secret()]
        bits = 512 if chosen == RSA_EXPORT_RC4_40_MD5 else 2048
        flight = [
            server_hello(version, server_random(self.rng), chosen, answer),
            certificate(self.chain(bits)),
            server_hello_done(),
        ]
        self.tcp.send(self.server, b"".join(record(HANDSHAKE, version, m) for m in flight))
        self.finish_handshake(version, rsa_key_exchange(self.rng, bits // 8, version), finished)
        self.exchange(version, rest)

    def finish_handshake(self, version, key_exchange, finished):
        """Writes the client's and then the server's ChangeCipherSpec and Finished."""
        for host, first in ((self.client, key_exchange), (self.server, b"")):
            data = record(HANDSHAKE, version, first) if first else b""
            data += record(CHANGE_CIPHER_SPEC, version, b"\x01")
            data += self.sealed(HANDSHAKE, version, finished)
            self.tcp.send(host, data)

    def ecdhe_flight(self, version, suites, chosen, sentinel=b""):
        """Writes a ClientHello and the server's ECDHE flight up to ServerHelloDone."""
        hello = client_hello(TLS12, self.rng, suites, self.hello_extensions())
        self.tcp.send(self.client, record(HANDSHAKE, TLS10, hello))
        extensions = [renegotiation_info(), ec_point_formats(), extended_master_secret()]
        scheme = RSA_PSS_RSAE_SHA256 if version == TLS12 else None
        flight = [
            server_hello(version, server_random(self.rng, sentinel), chosen, extensions),
            certificate(self.chain()),
            ecdhe_key_exchange(self.rng, scheme),
            server_hello_done(),
        ]
        self.tcp.send(self.server, b"".join(record(HANDSHAKE, version, m) for m in flight))

    def clear_alert_after_client_finished(self, description):
        """Writes a TLS 1.2 ECDHE handshake cut by a plaintext fatal alert from the server.

        After the client's key exchange, ChangeCipherSpec and Finished, the server
        sends the alert in the clear instead of its ChangeCipherSpec, then closes.
        """
        suites = [ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES256_GCM, EMPTY_RENEGOTIATION_INFO_SCSV]
        self.ecdhe_flight(TLS12, suites, ECDHE_RSA_AES128_GCM)
        data = record(HANDSHAKE, TLS12, ecdhe_client_key_exchange(self.rng))
        data += record(CHANGE_CIPHER_SPEC, TLS12, b"\x01")
        # AES-GCM Finished: 8-byte explicit nonce, 16-byte message, 16-byte tag.
        data += self.sealed(HANDSHAKE, TLS12, 40)
        self.tcp.send(self.client, data)
        self.tcp.send(self.server, record(ALERT, TLS12, bytes([FATAL, description])))
        self.tcp.close(self.server)

    def pcap(self):
        """Returns the bytes of the whole capture file."""
        return self.tcp.pcap()


# Encrypted sizes (Finished, request, response, close_notify) per suite. Finished is
# 16 bytes of message (36 in SSL 3.0); the request and response are 90 and 420 bytes.
SIZES_3DES_SHA = (48, 128, 456, 32)  # explicit 8-byte IV, SHA-1 MAC, padded to 8
SIZES_RC4_SHA = (36, 110, 440, 22)  # stream cipher, 20-byte MAC
SIZES_RC4_MD5 = (32, 106, 436, 18)  # stream cipher, 16-byte MAC
SIZES_SSL3_RC4_MD5 = (56, 106, 436, 18)


def crafted_3des(crafter):
    """TLS 1.2; the client offers ECDHE AES-GCM, the server picks RSA 3DES-EDE-CBC-SHA."""
    suites = [ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES256_GCM, RSA_3DES_SHA,
              EMPTY_RENEGOTIATION_INFO_SCSV]
    crafter.rsa_handshake(TLS12, suites, RSA_3DES_SHA, SIZES_3DES_SHA)


def crafted_rc4(crafter):
    """TLS 1.2; the client offers only RSA suites, the server picks RC4-SHA."""
    suites = [RSA_AES128_SHA, RSA_AES256_SHA, RSA_RC4_SHA, EMPTY_RENEGOTIATION_INFO_SCSV]
    crafter.rsa_handshake(TLS12, suites, RSA_RC4_SHA, SIZES_RC4_SHA)


def crafted_export(crafter):
    """TLS 1.0 with EXPORT-RC4-40-MD5 and a 512-bit server key."""
    suites = [RSA_EXPORT_RC4_40_MD5, RSA_EXPORT_RC2_40_MD5, RSA_EXPORT_DES40_SHA, RSA_RC4_MD5,
              RSA_RC4_SHA, EMPTY_RENEGOTIATION_INFO_SCSV]
    crafter.rsa_handshake(TLS10, suites, RSA_EXPORT_RC4_40_MD5, SIZES_RC4_MD5)


def crafted_sslv3(crafter):
    """SSL 3.0 with RC4-MD5; neither hello has extensions."""
    suites = [RSA_RC4_MD5, RSA_RC4_SHA, RSA_3DES_SHA, EMPTY_RENEGOTIATION_INFO_SCSV]
    crafter.rsa_handshake(SSL3, suites, RSA_RC4_MD5, SIZES_SSL3_RC4_MD5)


def crafted_tls13_sentinel(crafter):
    """TLS 1.3 chosen through supported_versions, yet the random ends with DOWNGRD\\x01."""
    rng, tcp = crafter.rng, crafter.tcp
    session_id = rng.randbytes(32)
    extensions = [
        server_name(crafter.host), supported_groups([X25519, SECP256R1]),
        signature_algorithms(TLS12_SCHEMES), client_supported_versions([TLS13, TLS12]),
        psk_key_exchange_modes(), client_key_share(X25519, rng.randbytes(32)),
    ]
    suites = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, ECDHE_RSA_AES128_GCM]
    hello = client_hello(TLS12, rng, suites, extensions, session_id)
    tcp.send(crafter.client, record(HANDSHAKE, TLS10, hello))
    answer = [server_supported_versions(TLS13), server_key_share(X25519, rng.randbytes(32))]
    hello = server_hello(TLS12, server_random(rng, DOWNGRADE_TLS12), TLS_AES_128_GCM_SHA256,
                         answer, session_id)
    # Middlebox compatibility mode (RFC 8446, D.4): a ChangeCipherSpec after each
    # side's first flight. Then EncryptedExtensions, Certificate, CertificateVerify
    # and Finished, each sealed in its own application_data record.
    flight = record(HANDSHAKE, TLS12, hello) + record(CHANGE_CIPHER_SPEC, TLS12, b"\x01")
    for size in (27, 1170, 281, 53):
        flight += crafter.sealed(APPLICATION_DATA, TLS12, size)
    tcp.send(crafter.server, flight)
    data = record(CHANGE_CIPHER_SPEC, TLS12, b"\x01") + crafter.sealed(APPLICATION_DATA, TLS12, 53)
    tcp.send(crafter.client, data)
    crafter.exchange(TLS12, (107, 437, 19), APPLICATION_DATA)


def crafted_sentinel_downgrade00(crafter):
    """Writes a TLS 1.1 ServerHello with DOWNGRD\\x00 to a client that offered TLS 1.2.

    The client, as RFC 8446 4.1.3 requires of a TLS 1.2 client, aborts with a
    fatal illegal_parameter alert.
    """
    suites = [ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES256_GCM, ECDHE_RSA_AES128_SHA,
              ECDHE_RSA_AES256_SHA, EMPTY_RENEGOTIATION_INFO_SCSV]
    crafter.ecdhe_flight(TLS11, suites, ECDHE_RSA_AES128_SHA, DOWNGRADE_TLS11)
    crafter.tcp.send(crafter.client, record(ALERT, TLS11, bytes([FATAL, ILLEGAL_PARAMETER])))
    crafter.tcp.close(crafter.client)


def crafted_clear_bad_record_mac(crafter):
    """TLS 1.2 cut by a plaintext fatal bad_record_mac (20) from the server."""
    crafter.clear_alert_after_client_finished(BAD_RECORD_MAC)


def crafted_record_overflow(crafter):
    """TLS 1.2 cut by a plaintext fatal record_overflow (22) from the server."""
    crafter.clear_alert_after_client_finished(RECORD_OVERFLOW)


def crafted_malformed_record(crafter):
    """Writes a valid ClientHello, then server records of type 0x63 and of length 20000.

    20000 exceeds the largest length any TLS version allows, 2^14 + 2048
    (RFC 5246, 6.2.3).
    """
    rng = crafter.rng
    hello = client_hello(TLS12, rng, [ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES256_GCM],
                         crafter.hello_extensions())
    crafter.tcp.send(crafter.client, record(HANDSHAKE, TLS10, hello))
    data = record(0x63, TLS12, rng.randbytes(5)) + record(HANDSHAKE, TLS12, rng.randbytes(20000))
    crafter.tcp.send(crafter.server, data)
    crafter.tcp.ack(crafter.client)
    crafter.tcp.close(crafter.client)


# name: (writer, client address, server address, server name)
CASES = {
    "crafted-3des": (crafted_3des, "192.0.2.10", "203.0.113.10", "legacy-3des.example.com"),
    "crafted-rc4": (crafted_rc4, "192.0.2.11", "203.0.113.11", "legacy-rc4.example.com"),
    "crafted-export": (crafted_export, "192.0.2.12", "203.0.113.12", "export.example.com"),
    "crafted-tls13-sentinel": (
        crafted_tls13_sentinel, "192.0.2.13", "198.51.100.13", "quirk.example.com"),
    "crafted-sentinel-downgrade00": (
        crafted_sentinel_downgrade00, "192.0.2.14", "198.51.100.14", "bank.example.com"),
    "crafted-clear-bad-record-mac": (
        crafted_clear_bad_record_mac, "192.0.2.15", "198.51.100.15", "mail.example.com"),
    "crafted-record-overflow": (
        crafted_record_overflow, "192.0.2.16", "198.51.100.16", "files.example.com"),
    "crafted-malformed-record": (
        crafted_malformed_record, "192.0.2.17", "203.0.113.17", "odd.example.com"),
    "crafted-sslv3": (crafted_sslv3, "192.0.2.18", "203.0.113.18", "old.example.com"),
}


def craft(name, index):
    """Returns the bytes of the capture called NAME."""
    writer, client_ip, server_ip, host = CASES[name]
    crafter = Crafter(name, index, client_ip, server_ip, host)
    writer(crafter)
    return crafter.pcap()


def main(argv):
    """Writes the named captures (all by default) into the folder given first."""
    if not argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    outdir, names = Path(argv[0]), argv[1:] or list(CASES)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        print(f"craft.py: error: unknown capture {', '.join(unknown)}; known: "
              f"{', '.join(CASES)}", file=sys.stderr)
        return 2
    outdir.mkdir(parents=True, exist_ok=True)
    order = list(CASES)
    for name in names:
        path = outdir / f"{name}.pcap"
        path.write_bytes(craft(name, order.index(name)))
        print(f"craft.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
