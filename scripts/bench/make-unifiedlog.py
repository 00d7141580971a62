#!/usr/bin/env python3
"""Writes a synthetic `log show --style ndjson` export of a requested size.

Usage:
    scripts/bench/make-unifiedlog.py [--size-mb N] [--seed S] OUT

Every line is one compact JSON object. It has the key set and key order of a published
`log show --style json` record: traceID, eventMessage, eventType,
source, formatString, activityIdentifier, subsystem, category, threadID,
senderImageUUID, backtrace, bootUUID, processImagePath, timestamp, senderImagePath,
machTimestamp, messageType, processImageUUID, processID, senderProgramCounter,
parentActivityIdentifier, timezoneName. Slashes in strings are written as `\\/`, as in
Apple's exports. The file ends with the `{"count":N,"finished":1}` trailer.

About one line in eight comes from the subsystems the network filter keeps: libboringssl
(TLS configured, handshake progress, TLS connected, read and write alerts), libnetwork
(connection start and the cancelled summary) and CFNetwork (task, connection, ATS and
summary lines). The other lines come from unrelated subsystems (mDNSResponder, kernel,
XPC, RunningBoard, LaunchServices, WindowServer, Bluetooth, power management); a few of
them name a network process in their message, as real logs do, so that a byte-level
prefilter sees some false positives. Trace ids span the whole 64-bit range. Values are
drawn from a seeded generator, so the same arguments always write the same bytes.

Only the standard library is used. Nothing here is copied from a real log: the message
texts follow the documented templates with made-up hosts, ids and addresses.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid

# First timestamp: 2024-06-30 18:11:29 local time at UTC+10, in microseconds.
BASE_TIME_US = 1_719_735_089_000_000
OFFSET_TEXT = "+1000"
OFFSET_SECONDS = 10 * 3600

HOSTS = [
    "api.example.com", "cdn.example.net", "updates.example.org", "mail.example.com",
    "login.example.net", "images.example.org", "telemetry.example.com", "static.example.net",
]
SUITES = [
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
]
ALERTS = [
    ("read", "warning", "close notify"),
    ("write", "warning", "close notify"),
    ("read", "fatal", "internal error"),
    ("read", "fatal", "protocol version"),
    ("write", "fatal", "certificate unknown"),
    ("read", "fatal", "bad record mac"),
]
APPS = [
    "/Applications/Safari.app/Contents/MacOS/Safari",
    "/System/Library/PrivateFrameworks/CloudKitDaemon.framework/Support/cloudd",
    "/usr/libexec/nsurlsessiond",
    "/Applications/Mail.app/Contents/MacOS/Mail",
    "/System/Library/PrivateFrameworks/GeoServices.framework/Versions/A/XPCServices/"
    "com.apple.geod.xpc/Contents/MacOS/com.apple.geod",
]
LIBBORINGSSL = "/usr/lib/libboringssl.dylib"
LIBNETWORK = "/usr/lib/libnetwork.dylib"
CFNETWORK = "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork"


def hex_ptr(rng: random.Random) -> str:
    return "0x%x" % rng.randrange(0x100000000, 0x7FFFFFFFFFFF)


def dashed_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128))).upper()


def plain_uuid(rng: random.Random) -> str:
    return "%032X" % rng.getrandbits(128)


def ipv4(rng: random.Random) -> str:
    return "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                            rng.randrange(1, 255))


def boringssl_line(rng: random.Random, conn: int) -> tuple[str, str, str]:
    """Returns (category, format string, message) for one libboringssl line."""
    prefix = "[C%d.1.1:2][%s]" % (conn, hex_ptr(rng))
    kind = rng.randrange(4)
    if kind == 0:
        body = ("TLS configured [min_version(0x0303) max_version(0x0304) name(%s) "
                "tickets(false) false_start(false) enforce_ev(false) enforce_ats(false)]"
                % rng.choice(HOSTS))
        return ("boringssl", "%{public}s(%d) %{public}s[%p] TLS configured [...]",
                "boringssl_session_apply_protocol_options_for_transport_block_invoke(%d) %s %s"
                % (rng.randrange(1500, 2000), prefix, body))
    if kind == 1:
        state = rng.choice(["TLS 1.3 client read_server_hello",
                            "TLS 1.3 client read_encrypted_extensions",
                            "TLS 1.3 client read_server_certificate_verify",
                            "TLS client read_server_hello"])
        return ("boringssl", "%{public}s(%d) %{public}s[%p] %{public}s handshake state: %s",
                "boringssl_context_info_handler(%d) %s Client handshake state: %s"
                % (rng.randrange(1800, 2100), prefix, state))
    if kind == 2:
        body = ("TLS connected [server(0) version(0x%04x) ciphersuite(%s) group(0x%04x) "
                "signature_alg(0x0403) alpn(h2) resumed(%d) offered_ticket(0) in_early_data(0) "
                "early_data_accepted(0) false_started(0) ocsp_received(0) sct_received(1) "
                "connect_time(%dms) flight_time(%dms) rtt(%dms) write_stalls(0) "
                "read_stalls(%d) pake(0x0000)]"
                % (rng.choice([0x0304, 0x0304, 0x0304, 0x0303]), rng.choice(SUITES),
                   rng.choice([0x001D, 0x11EC, 0x0017]), rng.randrange(2),
                   rng.randrange(5, 400), rng.randrange(5, 200), rng.randrange(1, 150),
                   rng.randrange(10)))
        return ("boringssl", "%{public}s(%d) %{public}s[%p] TLS connected [...]",
                "nw_protocol_boringssl_signal_connected(%d) %s %s"
                % (rng.randrange(700, 900), prefix, body))
    direction, level, description = rng.choice(ALERTS)
    function = ("boringssl_context_handle_fatal_alert" if level == "fatal"
                else "boringssl_context_handle_warning_alert")
    return ("boringssl",
            "%{public}s(%d) %{public}s[%p] %{public}s alert, level: %{public}s, "
            "description: %{public}s",
            "%s(%d) %s %s alert, level: %s, description: %s"
            % (function, rng.randrange(1800, 2400), prefix, direction, level, description))


def libnetwork_line(rng: random.Random, conn: int) -> tuple[str, str, str]:
    host = rng.choice(HOSTS)
    if rng.randrange(2) == 0:
        message = ("[C%d %s %s:443 tcp, url hash: %08x, tls, context: "
                   "com.apple.CFNetwork.NSURLSession.{%s}{(null)}{Y}{1}, proc: %s] start"
                   % (conn, plain_uuid(rng), host, rng.getrandbits(32), dashed_uuid(rng),
                      dashed_uuid(rng)))
        return ("connection", "[C%u %{public,uuid_t}.16P %{public}s %{public}s] start",
                message)
    message = ("[C%d %s %s:443 tcp, url hash: %08x, tls] cancelled\n\t[C%d.1 %s "
               "192.168.1.%d:%d<->%s:443]\n\tConnected Path: satisfied (Path is satisfied), "
               "viable, interface: en0, ipv4, dns\n\tDuration: %d.%03ds, DNS @0.000s took "
               "0.%03ds, TCP @0.%03ds took 0.%03ds, TLS 1.%d took 0.%03ds\n\tbytes in/out: "
               "%d/%d, packets in/out: %d/%d, rtt: 0.%03ds, retransmitted bytes: %d, "
               "out-of-order bytes: 0"
               % (conn, plain_uuid(rng), host, rng.getrandbits(32), conn, plain_uuid(rng),
                  rng.randrange(2, 250), rng.randrange(49152, 65535), ipv4(rng),
                  rng.randrange(60), rng.randrange(1000), rng.randrange(100), rng.randrange(10),
                  rng.randrange(300), rng.choice([2, 3, 3, 3]), rng.randrange(200),
                  rng.randrange(100, 2_000_000), rng.randrange(100, 50_000),
                  rng.randrange(1, 2000), rng.randrange(1, 500), rng.randrange(1, 300),
                  rng.choice([0, 0, 0, 1448])))
    return ("connection", "[C%u %{public,uuid_t}.16P %{public}s %{public}@] cancelled ...",
            message)


def cfnetwork_line(rng: random.Random, conn: int) -> tuple[str, str, str]:
    task = "Task <%s>.<%d>" % (dashed_uuid(rng), rng.randrange(1, 40))
    kind = rng.randrange(5)
    if kind == 0:
        return ("Default", "Connection %llu: enabling TLS", "Connection %d: enabling TLS" % conn)
    if kind == 1:
        return ("Default", "%{public}@ setting up Connection %llu",
                "%s setting up Connection %d" % (task, conn))
    if kind == 2:
        return ("ATS", "%{public}@ {strength %d, tls %d, ct %d, sub %d, sig %d, ciphers %d, "
                "bundle %d, builtin %d}",
                "%s {strength 0, tls 4, ct 0, sub 0, sig 1, ciphers 0, bundle 1, builtin 0}"
                % task)
    if kind == 3:
        return ("Summary", "%{public}@ summary for %{public}s",
                "%s summary for task success {transaction_duration_ms=%d, response_status=200, "
                "connection=%d, protocol=\"h2\", domain_lookup_duration_ms=%d, "
                "connect_duration_ms=%d, secure_connection_duration_ms=%d, request_start_ms=%d, "
                "request_duration_ms=0, response_start_ms=%d, response_duration_ms=%d, "
                "request_bytes=%d, response_bytes=%d, cache_hit=false}"
                % (task, rng.randrange(20, 900), conn, rng.randrange(30), rng.randrange(200),
                   rng.randrange(150), rng.randrange(300), rng.randrange(500),
                   rng.randrange(50), rng.randrange(200, 2000), rng.randrange(100, 500_000)))
    return ("Default", "%{public}@ HTTP load failed, %lld/%lld bytes (error code: %ld [%ld:%ld])",
            "%s HTTP load failed, 0/0 bytes (error code: -1200 [3:%d])"
            % (task, rng.choice([-9802, -9838, -9836, -9806])))


UNRELATED = [
    # (subsystem, category, process, sender image, message templates)
    ("com.apple.mDNSResponder", "Default", "/usr/sbin/mDNSResponder", "/usr/sbin/mDNSResponder",
     ["[R%d] getaddrinfo start -- flags: 0xC000D000, ifindex: 0, protocols: 0, hostname: "
      "<mask.hash: 'Xy%dQ=='>, options: 0x0, client pid: %d (Safari)",
      "[Q%d] Question assigned DNS service %d",
      "[R%d->Q%d] Cache record added: %d bytes, interface en0, network change %d"]),
    ("", "", "/kernel", "/kernel",
     ["AppleKeyStore:Sending lock change %d for handle %d",
      "IOPMrootDomain: idle cancel, state %d, tickle %d, rank %d",
      "Sandbox: %d deny(1) mach-lookup com.apple.example.service.%d (pid %d)"]),
    ("com.apple.xpc", "connection", "/usr/libexec/runningboardd",
     "/usr/lib/system/libxpc.dylib",
     ["[0x%x] activating connection: mach=true listener=false peer=false name=com.apple.%d",
      "[0x%x] invalidated after the last release of the connection object %d %d"]),
    ("com.apple.runningboard", "process", "/usr/libexec/runningboardd",
     "/usr/libexec/runningboardd",
     ["[app<application.com.example.App%d.%d>:%d] Set jetsam priority to 100",
      "Acquiring assertion targeting [daemon<com.apple.trustd>:%d] from originator %d %d",
      "Calculated state for xpcservice<com.apple.example.%d>: running-active (role: %d) %d"]),
    ("com.apple.launchservices", "cas", "/System/Library/CoreServices/launchservicesd",
     "/System/Library/Frameworks/CoreServices.framework/Frameworks/LaunchServices.framework/"
     "Versions/A/LaunchServices",
     ["CHECKIN: pid=%d asn=0x0-0x%x foreground=%d",
      "SETFRONT: pid=%d asn=0x0-0x%x foreground=%d"]),
    ("com.apple.windowserver", "events", "/System/Library/PrivateFrameworks/SkyLight.framework/"
     "Resources/WindowServer", "/System/Library/PrivateFrameworks/SkyLight.framework/"
     "Versions/A/SkyLight",
     ["[%d] Sending event 0x%x to connection %d",
      "Connection %d client died, removing %d windows"]),
    ("com.apple.bluetooth", "Server.LE.Scan", "/usr/sbin/bluetoothd", "/usr/sbin/bluetoothd",
     ["Device found: rssi %d, address %d, adv %d",
      "Scan parameters window %d interval %d"]),
    ("com.apple.powerd", "assertions", "/System/Library/CoreServices/powerd.bundle/powerd",
     "/System/Library/CoreServices/powerd.bundle/powerd",
     ["Process %d Created PreventUserIdleSystemSleep \"com.example.%d\" age:00:00:00 id:%d",
      "Process %d Released PreventUserIdleSystemSleep id:%d age:00:00:%02d"]),
]


class Writer:
    def __init__(self, rng: random.Random, boot_uuid: str) -> None:
        self.rng = rng
        self.boot_uuid = boot_uuid
        self.time_us = BASE_TIME_US
        self.mach = 14_792_988_353
        self.count = 0
        self.image_uuids: dict[str, str] = {}

    def image_uuid(self, path: str) -> str:
        if path not in self.image_uuids:
            self.image_uuids[path] = dashed_uuid(self.rng)
        return self.image_uuids[path]

    def line(self, subsystem: str, category: str, process: str, sender: str, pid: int,
             format_string: str, message: str, level: str) -> str:
        rng = self.rng
        self.time_us += rng.randrange(1, 4000)
        self.mach += rng.randrange(24, 96_000)
        seconds, micros = divmod(self.time_us + OFFSET_SECONDS * 1_000_000, 1_000_000)
        # Local wall time at UTC+10, written the way `log show` writes it.
        days, rest = divmod(seconds, 86400)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        year, month, day = civil_from_days(days)
        timestamp = "%04d-%02d-%02d %02d:%02d:%02d.%06d%s" % (
            year, month, day, hour, minute, second, micros, OFFSET_TEXT)
        pc = rng.randrange(4096, 4_000_000)
        record = {
            "traceID": rng.getrandbits(64),
            "eventMessage": message,
            "eventType": "logEvent",
            "source": None,
            "formatString": format_string,
            "activityIdentifier": rng.choice([0, 0, rng.randrange(1, 1 << 40)]),
            "subsystem": subsystem,
            "category": category,
            "threadID": rng.randrange(100, 9_000_000),
            "senderImageUUID": self.image_uuid(sender),
            "backtrace": {"frames": [{"imageOffset": pc, "imageUUID": self.image_uuid(sender)}]},
            "bootUUID": self.boot_uuid,
            "processImagePath": process,
            "timestamp": timestamp,
            "senderImagePath": sender,
            "machTimestamp": self.mach,
            "messageType": level,
            "processImageUUID": self.image_uuid(process),
            "processID": pid,
            "senderProgramCounter": pc,
            "parentActivityIdentifier": 0,
            "timezoneName": "",
        }
        self.count += 1
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        return text.replace("/", "\\/") + "\n"


def civil_from_days(days: int) -> tuple[int, int, int]:
    """Converts days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524
                   - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def relevant_line(writer: Writer) -> str:
    rng = writer.rng
    conn = rng.randrange(1, 2000)
    process = rng.choice(APPS)
    pid = 100 + APPS.index(process) * 37
    choice = rng.randrange(8)
    if choice < 4:
        category, fmt, message = boringssl_line(rng, conn)
        return writer.line("com.apple.network", category, process, LIBBORINGSSL, pid, fmt,
                           message, "Default")
    if choice < 6:
        category, fmt, message = libnetwork_line(rng, conn)
        return writer.line("com.apple.network", category, process, LIBNETWORK, pid, fmt,
                           message, "Default")
    category, fmt, message = cfnetwork_line(rng, conn)
    return writer.line("com.apple.CFNetwork", category, process, CFNETWORK, pid, fmt, message,
                       rng.choice(["Default", "Default", "Info", "Error"]))


def unrelated_line(writer: Writer) -> str:
    rng = writer.rng
    subsystem, category, process, sender, templates = rng.choice(UNRELATED)
    template = rng.choice(templates)
    values = tuple(rng.randrange(1, 1 << 20) for _ in range(template.count("%")))
    message = template % values
    return writer.line(subsystem, category, process, sender, rng.randrange(80, 90_000),
                       template.replace("%d", "%{public}d").replace("%x", "%{public}x"),
                       message, rng.choice(["Default", "Default", "Info", "Debug"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output file (overwritten)")
    parser.add_argument("--size-mb", type=float, default=1000.0,
                        help="stop after the first line past this size, in MB of 10^6 bytes "
                             "(default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    writer = Writer(rng, dashed_uuid(rng))
    limit = int(args.size_mb * 1_000_000)
    written = 0
    relevant = 0
    batch: list[str] = []
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        while written < limit:
            if rng.randrange(8) == 0:
                text = relevant_line(writer)
                relevant += 1
            else:
                text = unrelated_line(writer)
            batch.append(text)
            written += len(text.encode("utf-8"))
            if len(batch) >= 4096:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write('{"count":%d,"finished":1}\n' % writer.count)
    print("%s: %d lines, %d from network subsystems, %d bytes"
          % (args.out, writer.count, relevant, written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
