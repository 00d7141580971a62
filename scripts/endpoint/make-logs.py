#!/usr/bin/env python3
"""Writes the constructed endpoint-log fixtures in fixtures/endpoint/.

No public unified log shows an attack (a bad record MAC, a refused
protocol version, an interception CA), so these files are built line by
line from the message templates Apple's network stack uses: libnetwork's
`start` and `cancelled` lines, boringssl's `TLS configured`, `TLS
connected`, alert and handshake-error lines, CFNetwork's `Connection N`
and `Task <UUID>` lines, and the Security framework's trust failures. The
records use the key set of `log show --style ndjson` (camelCase, local
time with a UTC offset, 64-bit ids as plain numbers). Every file name
starts with `constructed-` to say so.

Run from the repository root: python3 scripts/endpoint/make-logs.py
"""

import json
import os
import random
import uuid

OUT = os.path.join("fixtures", "endpoint")

BORINGSSL = "/usr/lib/libboringssl.dylib"
LIBNETWORK = "/usr/lib/libnetwork.dylib"
CFNETWORK = "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork"
SECURITY = "/System/Library/Frameworks/Security.framework/Versions/A/Security"

SAFARI = ("/System/Volumes/Preboot/Cryptexes/App/System/Applications/Safari.app/"
          "Contents/MacOS/Safari")
CURL = "/usr/bin/curl"
UPDATER = "/Applications/Example Updater.app/Contents/MacOS/Example Updater"
MAIL = "/System/Applications/Mail.app/Contents/MacOS/Mail"


class Log:
    """Records of one file, with a clock that advances per line."""

    def __init__(self, seed, start="2026-03-02 10:15:01", offset="-0800"):
        self.rng = random.Random(seed)
        self.records = []
        self.start = start
        self.offset = offset
        self.micros = 0
        self.trace = 0x8000_0000_0000_0004  # above 2^63: must be read as u64

    def stamp(self, advance_ms):
        self.micros += int(advance_ms * 1000) + self.rng.randint(0, 900)
        seconds, micros = divmod(self.micros, 1_000_000)
        hh, mm, ss = (int(part) for part in self.start.split(" ")[1].split(":"))
        total = hh * 3600 + mm * 60 + ss + seconds
        clock = f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
        return f"{self.start.split(' ')[0]} {clock}.{micros:06d}{self.offset}"

    def add(self, process, pid, sender, subsystem, category, message, advance_ms=3,
            level="Default"):
        self.trace += 0x1_0000_0000
        self.records.append({
            "traceID": self.trace,
            "eventMessage": message,
            "eventType": "logEvent",
            "source": None,
            "formatString": "",
            "activityIdentifier": self.rng.randint(0, 2**40),
            "subsystem": subsystem,
            "category": category,
            "threadID": self.rng.randint(10_000, 2**32),
            "senderImageUUID": str(uuid.UUID(int=self.rng.getrandbits(128))).upper(),
            "backtrace": {"frames": [{"imageOffset": self.rng.randint(1000, 900000),
                                      "imageUUID": str(uuid.UUID(int=self.rng.getrandbits(128))).upper()}]},
            "bootUUID": "05E2BF6D-3612-4209-8E97-E09983BCB28F",
            "processImagePath": process,
            "timestamp": self.stamp(advance_ms),
            "senderImagePath": sender,
            "machTimestamp": 14792988353 + len(self.records) * 1000,
            "messageType": level,
            "processImageUUID": "837A08CC-16FB-3CC7-A2F0-C6D138C046ED",
            "processID": pid,
            "senderProgramCounter": self.rng.randint(1000, 900000),
            "parentActivityIdentifier": 0,
            "timezoneName": "",
        })

    def unrelated(self, count):
        """Lines from subsystems that have nothing to do with TLS."""
        for _ in range(count):
            pid = self.rng.randint(100, 900)
            self.add("/usr/sbin/mDNSResponder", pid, "/usr/sbin/mDNSResponder",
                     "com.apple.mDNSResponder", "Default",
                     f"[R{self.rng.randint(1000, 9999)}] DNSServiceQueryRecord START "
                     f"-- qname: <mask.hash: 'x{self.rng.getrandbits(32):08x}'>, qtype: A")

    def write(self, name, style="ndjson", banner=None):
        path = os.path.join(OUT, name)
        with open(path, "w", encoding="utf-8") as out:
            if style == "ndjson":
                if banner:
                    out.write(banner + "\n")
                for record in self.records:
                    out.write(json.dumps(record, separators=(",", ":")).replace("/", "\\/") + "\n")
                if not banner:
                    out.write(json.dumps({"count": len(self.records), "finished": 1},
                                         separators=(",", ":")) + "\n")
            else:
                text = json.dumps(self.records, indent=2, separators=(",", " : "))
                out.write(text.replace("/", "\\/") + "\n")
        return path


class Connection:
    """One libnetwork connection of one process, line by line."""

    def __init__(self, log, process, pid, number, host, port=443, remote="93.184.215.14",
                 local_port=None, cfnetwork=True):
        self.log, self.process, self.pid, self.number = log, process, pid, number
        self.host, self.port, self.remote = host, port, remote
        self.local_port = local_port or log.rng.randint(49152, 65000)
        self.uuid = uuid.UUID(int=log.rng.getrandbits(128))
        self.task = str(uuid.UUID(int=log.rng.getrandbits(128))).upper()
        self.pointer = f"0x{log.rng.getrandbits(44):012x}"
        self.cfnetwork = cfnetwork

    def tag(self):
        return f"[C{self.number}.1.1:2][{self.pointer}]"

    def boringssl(self, function, line, body, advance_ms=2, level="Default"):
        self.log.add(self.process, self.pid, BORINGSSL, "com.apple.network", "boringssl",
                     f"{function}({line}) {self.tag()} {body}", advance_ms, level)

    def network(self, message, category="connection", advance_ms=2):
        self.log.add(self.process, self.pid, LIBNETWORK, "com.apple.network", category,
                     message, advance_ms)

    def cf(self, message, category="Default", advance_ms=2, level="Default"):
        self.log.add(self.process, self.pid, CFNETWORK, "com.apple.CFNetwork", category,
                     message, advance_ms, level)

    def open(self, min_version="0x0303", max_version="0x0304", name=None):
        if self.cfnetwork:
            self.cf(f"Task <{self.task}>.<1> resuming, timeouts(60.0, 604800.0) QOS(0x19) "
                    "Voucher <private>")
            self.cf(f"Connection {self.number}: creating secure tcp or quic connection")
            self.cf(f"Task <{self.task}>.<1> setting up Connection {self.number}")
        self.network(
            f"[C{self.number} {str(self.uuid).upper()} {self.host}:{self.port} tcp, "
            f"url hash: {self.log.rng.getrandbits(32):08x}, tls, definite, attribution: developer, "
            f"context: com.apple.CFNetwork.NSURLSession.{{{self.task}}}{{(null)}}{{Y}}{{1}}{{0x0}} "
            f"(private), proc: 837A08CC-16FB-3CC7-A2F0-C6D138C046ED, delegated upid: 0] start")
        self.network(
            f"[C{self.number}.1.1 {self.remote}:{self.port} in_progress channel-flow "
            "(satisfied (Path is satisfied), viable, interface: en0[802.11], ipv4, dns, uses wifi)] "
            "event: flow:start_connect @0.004s")
        self.boringssl(
            "boringssl_session_apply_protocol_options_for_transport_block_invoke", 2148,
            f"TLS configured [server(0) min_version({min_version}) max_version({max_version}) "
            f"name({name or '<private>'}) tickets(false) false_start(false) enforce_ev(false) "
            "enforce_ats(false) ats_non_pfs_ciphersuite_allowed(false) ech(false) pqtls(true), "
            "pake(false)]")
        self.boringssl("boringssl_context_info_handler", 2111, "Client handshake started")
        self.boringssl("boringssl_context_info_handler", 2128,
                       "Client handshake state: TLS client enter_early_data")
        self.boringssl("boringssl_context_info_handler", 2128,
                       "Client handshake state: TLS client read_server_hello", advance_ms=30)

    def connected(self, version="0x0304", cipher="TLS_AES_128_GCM_SHA256", group="0x11ec",
                  alpn="h2"):
        self.boringssl("boringssl_context_evaluate_trust_async", 1731,
                       "Performing external trust evaluation")
        self.boringssl("boringssl_context_info_handler", 2128, "Client handshake done", 10)
        self.boringssl(
            "nw_protocol_boringssl_signal_connected", 895,
            f"TLS connected [server(0) version({version}) ciphersuite({cipher}) group({group}) "
            f"signature_alg(0x0804) alpn({alpn}) resumed(0) offered_ticket(0) in_early_data(0) "
            "early_data_accepted(0) false_started(0) ocsp_received(0) sct_received(1) "
            "connect_time(61ms) flight_time(24ms) rtt(23ms) write_stalls(0) read_stalls(3) "
            "pake(0x0000)]")
        if self.cfnetwork:
            self.cf(f"Connection {self.number}: TLS handshake complete")
            self.cf(f"Connection {self.number}: connected successfully")

    def close(self, version="TLS 1.3", bytes_in=24006, bytes_out=1151):
        if self.cfnetwork:
            self.cf(f"Task <{self.task}>.<1> finished successfully", advance_ms=120)
            self.cf(f"Task <{self.task}>.<1> summary for task success "
                    f"{{transaction_duration_ms=211, response_status=200, connection={self.number}, "
                    "protocol=\"h2\", domain_lookup_duration_ms=5, connect_duration_ms=61, "
                    "secure_connection_duration_ms=37, private_relay=false, request_start_ms=80, "
                    f"request_duration_ms=0, response_start_ms=200, response_duration_ms=11, "
                    f"request_bytes=532, response_bytes={bytes_in - 900}, "
                    f"response_body_bytes={bytes_in - 1400}, cache_hit=false}}",
                    category="Summary")
        tls = f", TLS {version[4:]} took 0.037s" if version else ""
        self.network(
            f"[C{self.number} {str(self.uuid).upper()} {self.host}:{self.port} tcp, url hash: "
            f"{self.log.rng.getrandbits(32):08x}, tls] cancelled\n\t[C{self.number}.1.1 "
            f"{str(uuid.UUID(int=self.log.rng.getrandbits(128))).upper()} "
            f"192.168.1.23:{self.local_port}<->{self.remote}:{self.port}]\n\tConnected Path: "
            "satisfied (Path is satisfied), viable, interface: en0[802.11], ipv4, dns, uses wifi"
            f"\n\tDuration: 0.211s, DNS @0.000s took 0.005s, TCP @0.006s took 0.023s{tls}\n\t"
            f"bytes in/out: {bytes_in}/{bytes_out}, packets in/out: 6/3, rtt: 0.023s, "
            "retransmitted bytes: 0, out-of-order bytes: 0", advance_ms=20)

    def fatal_alert(self, description, direction="read", number=None, reason=None):
        function = "boringssl_context_handle_fatal_alert"
        self.boringssl(function, 2313,
                       f"{direction} alert, level: fatal, description: {description}")
        if reason:
            self.boringssl(
                "boringssl_session_handshake_error_print", 47,
                f"Error: 5080655488:error:{0x10000400 + (number or 0):08x}:SSL routines:"
                f"OPENSSL_internal:{reason}:/Library/Caches/com.apple.xbs/Sources/boringssl/"
                f"ssl/tls_record.cc:579:SSL alert number {number}")
        self.boringssl("nw_protocol_boringssl_handshake_negotiate_proceed", 788,
                       "handshake failed at state 12288: not completed")

    def cf_failure(self, url_error, code):
        if not self.cfnetwork:
            return
        self.cf(f"Connection {self.number}: failed to connect 3:{code}, reason -1",
                level="Error")
        self.cf(f"Connection {self.number}: encountered error(3:{code})", level="Error")
        self.cf(f"Task <{self.task}>.<1> HTTP load failed, 0/0 bytes "
                f"(error code: {url_error} [3:{code}])", level="Error")


def benign():
    log = Log(seed=1)
    log.unrelated(6)
    c = Connection(log, SAFARI, 812, 12, "www.example.com", remote="93.184.215.14")
    c.open(name="www.example.com")
    c.connected()
    log.unrelated(3)
    d = Connection(log, CURL, 4411, 1, "api.example.net", remote="203.0.113.10")
    d.open(min_version="0x0303", max_version="0x0304")
    d.connected(version="0x0303", cipher="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                group="0x001d", alpn="http/1.1")
    c.close()
    d.close(version="TLS 1.2")
    log.unrelated(4)
    return log


def baseline_lower():
    """Build the connections of benign() a day later, each negotiating less
    than there. Safari gets TLS 1.2 instead of 1.3 with www.example.com, and
    curl a CBC suite with RSA key exchange instead of ECDHE with AES-GCM with
    api.example.net. Both stay above the default floor of TLS 1.2, so only a
    baseline learned from constructed-benign.ndjson raises them."""
    log = Log(seed=11, start="2026-03-03 09:40:12")
    log.unrelated(3)
    c = Connection(log, SAFARI, 812, 31, "www.example.com", remote="93.184.215.14")
    c.open(name="www.example.com")
    c.connected(version="0x0303", cipher="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                group="0x001d")
    d = Connection(log, CURL, 4411, 2, "api.example.net", remote="203.0.113.10")
    d.open(min_version="0x0303", max_version="0x0304")
    d.connected(version="0x0303", cipher="TLS_RSA_WITH_AES_128_CBC_SHA", group="0x0000",
                alpn="http/1.1")
    c.close(version="TLS 1.2")
    d.close(version="TLS 1.2")
    log.unrelated(2)
    return log


def old_version():
    log = Log(seed=2)
    log.unrelated(2)
    c = Connection(log, UPDATER, 1337, 4, "updates.example.org", remote="198.51.100.7")
    c.open(min_version="0x0301", max_version="0x0304", name="updates.example.org")
    c.connected(version="0x0301", cipher="TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", group="0x0017",
                alpn="http/1.1")
    c.close(version="TLS 1.0")
    return log


def weak_cipher():
    log = Log(seed=3)
    c = Connection(log, UPDATER, 1337, 5, "legacy.example.org", remote="198.51.100.8")
    c.open(min_version="0x0303", max_version="0x0304")
    c.connected(version="0x0303", cipher="TLS_RSA_WITH_RC4_128_SHA", group="0x0000",
                alpn="http/1.1")
    c.close(version="TLS 1.2")
    return log


def bad_record_mac():
    log = Log(seed=4)
    log.unrelated(3)
    c = Connection(log, SAFARI, 812, 21, "bank.example.com", remote="192.0.2.44")
    c.open(name="bank.example.com")
    c.connected(version="0x0303", cipher="TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                group="0x001d", alpn="h2")
    c.fatal_alert("bad record mac", direction="read", number=20,
                  reason="TLSV1_ALERT_BAD_RECORD_MAC")
    c.cf_failure(-1200, -9846)
    c.close(version="TLS 1.2", bytes_in=5210, bytes_out=880)
    return log


def protocol_version():
    log = Log(seed=5)
    c = Connection(log, MAIL, 650, 7, "imap.example.net", port=993, remote="203.0.113.77")
    c.open(min_version="0x0303", max_version="0x0304")
    c.fatal_alert("protocol version", direction="read", number=70,
                  reason="TLSV1_ALERT_PROTOCOL_VERSION")
    c.cf_failure(-1200, -9836)
    c.close(version=None, bytes_in=7, bytes_out=517)
    return log


def trust_failure():
    log = Log(seed=6)
    c = Connection(log, CURL, 4412, 3, "intranet.example.com", remote="10.20.30.40")
    c.open()
    c.boringssl("boringssl_context_evaluate_trust_async", 1731,
                "Performing external trust evaluation")
    log.add(CURL, 4412, SECURITY, "com.apple.securityd", "SecError",
            "Trust evaluate failure: [leaf AnchorTrusted]", 5, "Error")
    c.fatal_alert("unknown CA", direction="write", number=48,
                  reason="TLSV1_ALERT_UNKNOWN_CA")
    if c.cfnetwork:
        c.cf(f"Connection {c.number}: TLS Trust encountered error 3:-9812", level="Error")
        c.cf(f"Task <{c.task}>.<1> HTTP load failed, 0/0 bytes (error code: -1202 [3:-9812])",
             level="Error")
    c.close(version=None, bytes_in=3400, bytes_out=517)
    return log


def ats_blocked():
    log = Log(seed=7)
    task = str(uuid.UUID(int=log.rng.getrandbits(128))).upper()
    log.add(UPDATER, 1337, CFNETWORK, "com.apple.CFNetwork", "Default",
            f"Task <{task}>.<1> resuming, timeouts(60.0, 604800.0) QOS(0x19) Voucher <private>")
    log.add(UPDATER, 1337, CFNETWORK, "com.apple.CFNetwork", "Default",
            f"Task <{task}>.<1> finished with error [-1022] Error Domain=NSURLErrorDomain "
            "Code=-1022 \"The resource could not be loaded because the App Transport Security "
            "policy requires the use of a secure connection.\" UserInfo={NSLocalizedDescription="
            "The resource could not be loaded because the App Transport Security policy requires "
            "the use of a secure connection., NSErrorFailingURLStringKey="
            "http://downloads.example.org/update.pkg, NSErrorFailingURLKey="
            "http://downloads.example.org/update.pkg, _NSURLErrorRelatedURLSessionTaskErrorKey=("
            f"\"LocalDataTask <{task}>.<1>\"), _NSURLErrorFailingURLSessionTaskErrorKey="
            f"LocalDataTask <{task}>.<1>, NSUnderlyingError=0x600000c9c060 {{Error Domain="
            "kCFErrorDomainCFNetwork Code=-1022 \"(null)\"}}", level="Error")
    return log


def burst():
    log = Log(seed=8)
    processes = [(SAFARI, 812), (CURL, 4413), (MAIL, 650), (UPDATER, 1337), (CURL, 4414),
                 (SAFARI, 812)]
    for index, (process, pid) in enumerate(processes):
        c = Connection(log, process, pid, 30 + index, "login.example.com",
                       remote="192.0.2.80")
        c.open(name="login.example.com")
        c.fatal_alert("certificate unknown", direction="write", number=46,
                      reason="TLSV1_ALERT_CERTIFICATE_UNKNOWN")
        c.cf_failure(-1200, -9807)
        c.close(version=None, bytes_in=3100, bytes_out=517)
        log.unrelated(2)
    return log


def below_burst():
    log = Log(seed=9)
    for index in range(4):
        c = Connection(log, CURL, 4420 + index, 40 + index, "login.example.com",
                       remote="192.0.2.80")
        c.open()
        c.fatal_alert("certificate unknown", direction="write", number=46)
        c.close(version=None)
    return log


def es_process(path, pid, signing_id, team_id, platform, start):
    """An es_process_t as eslogger writes it (ES message version 9)."""
    token = {"euid": 501, "rgid": 20, "egid": 20, "pid": pid, "asid": 100017, "ruid": 501,
             "auid": 501, "pidversion": 170000 + pid}
    stat_time = "2026-01-10T08:00:00.000000000Z"
    return {
        "codesigning_flags": 570522385 if platform else 570503953,
        "cdhash": f"{pid:08X}" + "E8E193FA98F988105881118CD77EF872"[: 32],
        "session_id": 100017, "ppid": 1, "group_id": pid, "is_platform_binary": platform,
        "team_id": team_id, "audit_token": token,
        "responsible_audit_token": dict(token), "is_es_client": False,
        "signing_id": signing_id, "start_time": start, "original_ppid": 1,
        "parent_audit_token": {"euid": 0, "rgid": 0, "egid": 0, "pid": 1, "asid": 100000,
                               "ruid": 0, "auid": 4294967295, "pidversion": 1},
        "executable": {"path_truncated": False, "path": path, "stat": {
            "st_gid": 0, "st_ino": 1152921500312525701 + pid, "st_ctimespec": stat_time,
            "st_mtimespec": stat_time, "st_gen": 0, "st_atimespec": stat_time,
            "st_dev": 16777234, "st_uid": 0, "st_rdev": 0, "st_birthtimespec": stat_time,
            "st_mode": 33261, "st_nlink": 1, "st_size": 259504, "st_blocks": 152,
            "st_flags": 524320, "st_blksize": 4096}},
        "tty": None,
    }


def es_message(seq, event_type, process, event, day="2026-03-02T18"):
    """One es_message_t as eslogger writes it."""
    return {
        "schema_version": 1, "version": 9, "mach_time": 401374797834 + seq,
        "time": f"{day}:00:{seq:02d}.000100000Z", "seq_num": seq,
        "global_seq_num": seq, "event_type": event_type, "action_type": 1,
        "action": {"result": {"result_type": 0, "result": {"auth": 0}}},
        "thread": {"thread_id": 622243 + seq}, "process": process, "event": event,
    }


def write_eslogger(name, launched, day="2026-03-02T18"):
    """How the processes of the attack fixtures started, as eslogger
    writes it: launchd forks a child, and the child execs the program, so
    the exec event's actor is the forked image with the same pid."""
    launchd = es_process("/sbin/launchd", 1, "com.apple.xpc.launchd", None, True,
                         f"{day[:10]}T08:00:00.000000Z")
    seq = 0
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as out:
        for path, pid, signing_id, team_id, platform in launched:
            start = f"{day}:00:{seq:02d}.000000Z"
            child = es_process("/sbin/launchd", pid, "com.apple.xpc.launchd", None, True, start)
            seq += 1
            fork = es_message(seq, 11, launchd, {"fork": {"child": child}}, day)
            target = es_process(path, pid, signing_id, team_id, platform, start)
            target["audit_token"]["pidversion"] += 1
            seq += 1
            execution = es_message(seq, 9, child, {"exec": {
                "target": target, "args": [path], "cwd": None, "script": None,
                "dyld_exec_path": path, "fds": [], "last_fd": 2,
                "image_cputype": 16777228, "image_cpusubtype": 2}}, day)
            for message in (fork, execution):
                out.write(json.dumps(message, separators=(",", ":")).replace("/", "\\/") + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_eslogger("constructed-processes.eslogger.jsonl", [
        (SAFARI, 812, "com.apple.Safari", None, True),
        (CURL, 4412, "com.apple.curl", None, True),
        (MAIL, 650, "com.apple.mail", None, True),
        (UPDATER, 1337, "com.example.updater", "EXAMPLE123", False),
    ])
    # The processes named in fixtures/captures/constructed-pktap-*.pcapng,
    # started before those captures' packets.
    write_eslogger("constructed-pktap-processes.eslogger.jsonl", [
        (CURL, 4242, "com.apple.curl", None, True),
        ("/usr/bin/openssl", 4243, "com.apple.openssl", None, True),
    ], day="2026-12-04T16")
    # The s_client of fixtures/captures/constructed-pktap-baseline-*.pcapng,
    # one pid per capture, as a made-up signed OpenSSL build. Both pids get
    # the same code-signing identity, so both captures fill one profile.
    write_eslogger("constructed-pktap-baseline-processes.eslogger.jsonl", [
        ("/usr/local/bin/openssl", 4310, "test.wiretrust.openssl", "WTCONSTR01", False),
        ("/usr/local/bin/openssl", 4313, "test.wiretrust.openssl", "WTCONSTR01", False),
    ], day="2026-12-04T22")
    benign().write("constructed-benign.ndjson")
    benign().write("constructed-benign.json", style="json")
    old_version().write("constructed-tls10.ndjson")
    baseline_lower().write("constructed-baseline-lower.ndjson")
    weak_cipher().write("constructed-rc4.ndjson")
    bad_record_mac().write("constructed-bad-record-mac.ndjson")
    stream = bad_record_mac()
    stream.write("constructed-bad-record-mac-stream.ndjson",
                 banner='Filtering the log data using "subsystem == \\"com.apple.network\\" '
                        'OR subsystem == \\"com.apple.CFNetwork\\""')
    protocol_version().write("constructed-protocol-version.ndjson")
    trust_failure().write("constructed-trust-failure.ndjson")
    ats_blocked().write("constructed-ats-blocked.ndjson")
    burst().write("constructed-alert-burst.ndjson")
    below_burst().write("constructed-below-burst.ndjson")


if __name__ == "__main__":
    main()
