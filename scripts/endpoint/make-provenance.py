#!/usr/bin/env python3
"""Writes the constructed provenance fixtures in fixtures/provenance/.

No public Zeek files.log, Suricata fileinfo log, osquery result log or
QuarantineEventsV2 database shows one download served with two different
contents. These files are therefore built from the documented layouts.
Zeek 6.0 `files.log` and `http.log` are written in TSV, and the `files.log`
layout before Zeek 5.0 (`tx_hosts`, `rx_hosts`, `conn_uids`) in JSON. The
others are Suricata 7 `eve.json`, osquery 5 filesystem-logger result
lines, eslogger events, and the LSQuarantineEvent table of macOS's
QuarantineEventsV2, created with Python's sqlite3. Every name starts with
`constructed-`. The output is the same on every run.

Run from the repository root: python3 scripts/endpoint/make-provenance.py
"""

import datetime
import hashlib
import json
import os
import sqlite3

OUT = os.path.join("fixtures", "provenance")

# 2026-11-20 10:00:00 UTC in Unix seconds, and the Cocoa epoch offset.
BASE = 1795168800
COCOA_OFFSET = 978307200

TOOL_URL_HOST = "dl.example.test"
TOOL_PATH = "/releases/tool-2.4.dmg"
README_PATH = "/releases/README.txt"


def digests(content):
    data = content.encode()
    return {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


TOOL_GOOD = digests("tool 2.4 as the vendor built it")
TOOL_TAMPERED = digests("tool 2.4 with a payload added")
README = digests("release notes for tool 2.4")
INSTALLER_GOOD = digests("Installer.pkg signed by the vendor")
INSTALLER_SWAPPED = digests("Installer.pkg replaced on the way")

FILES_FIELDS = [
    ("ts", "time"), ("fuid", "string"), ("uid", "string"), ("id.orig_h", "addr"),
    ("id.orig_p", "port"), ("id.resp_h", "addr"), ("id.resp_p", "port"),
    ("source", "string"), ("depth", "count"), ("analyzers", "set[string]"),
    ("mime_type", "string"), ("filename", "string"), ("duration", "interval"),
    ("local_orig", "bool"), ("is_orig", "bool"), ("seen_bytes", "count"),
    ("total_bytes", "count"), ("missing_bytes", "count"), ("overflow_bytes", "count"),
    ("timedout", "bool"), ("parent_fuid", "string"), ("md5", "string"),
    ("sha1", "string"), ("sha256", "string"), ("extracted", "string"),
    ("extracted_cutoff", "bool"), ("extracted_size", "count"),
]

HTTP_FIELDS = [
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"),
    ("method", "string"), ("host", "string"), ("uri", "string"), ("referrer", "string"),
    ("version", "string"), ("user_agent", "string"), ("origin", "string"),
    ("request_body_len", "count"), ("response_body_len", "count"),
    ("status_code", "count"), ("status_msg", "string"), ("info_code", "count"),
    ("info_msg", "string"), ("tags", "set[enum]"), ("username", "string"),
    ("password", "string"), ("proxied", "set[string]"), ("orig_fuids", "vector[string]"),
    ("orig_filenames", "vector[string]"), ("orig_mime_types", "vector[string]"),
    ("resp_fuids", "vector[string]"), ("resp_filenames", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
]

SERVER = "203.0.113.10"


def tsv_value(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, list):
        return ",".join(value) if value else "(empty)"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def write_tsv(path, log_path, fields, rows, extra_lines=()):
    names = [name for name, _ in fields]
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{log_path}",
        "#open\t2026-11-20-10-00-00",
        "#fields\t" + "\t".join(names),
        "#types\t" + "\t".join(kind for _, kind in fields),
    ]
    for row in rows:
        lines.append("\t".join(tsv_value(row.get(name)) for name in names))
    lines.extend(extra_lines)
    lines.append("#close\t2026-11-20-11-00-00")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def http_row(ts, uid, client, port, uri, fuid, length, mime):
    return {
        "ts": ts, "uid": uid, "id.orig_h": client, "id.orig_p": port,
        "id.resp_h": SERVER, "id.resp_p": 80, "trans_depth": 1, "method": "GET",
        "host": TOOL_URL_HOST, "uri": uri, "version": "1.1",
        "user_agent": "curl/8.7.1", "request_body_len": 0,
        "response_body_len": length, "status_code": 200, "status_msg": "OK",
        "tags": [], "resp_fuids": [fuid], "resp_mime_types": [mime],
    }


def file_row(ts, fuid, uid, client, port, name, mime, content, missing=0):
    seen = content["size"] - missing
    return {
        "ts": ts, "fuid": fuid, "uid": uid, "id.orig_h": client, "id.orig_p": port,
        "id.resp_h": SERVER, "id.resp_p": 80, "source": "HTTP", "depth": 0,
        "analyzers": ["MD5", "SHA1", "SHA256"], "mime_type": mime, "filename": name,
        "duration": 0.25, "local_orig": False, "is_orig": False, "seen_bytes": seen,
        "total_bytes": content["size"], "missing_bytes": missing, "overflow_bytes": 0,
        "timedout": False, "md5": content["md5"], "sha1": content["sha1"],
        "sha256": content["sha256"], "extracted_cutoff": None,
    }


def make_run1():
    """Write day one: host 10.0.0.5 downloads the tool and its README; a third
    transfer lost bytes and must not be compared."""
    folder = os.path.join(OUT, "constructed-run1")
    os.makedirs(folder, exist_ok=True)
    dmg = "application/x-apple-diskimage"
    http = [
        http_row(BASE + 1.0, "CqRun1a", "10.0.0.5", 50001, TOOL_PATH, "FRun1Tool",
                 TOOL_GOOD["size"], dmg),
        http_row(BASE + 2.0, "CqRun1b", "10.0.0.5", 50002, README_PATH, "FRun1Readme",
                 README["size"], "text/plain"),
        http_row(BASE + 3.0, "CqRun1c", "10.0.0.7", 50003, TOOL_PATH, "FRun1Cut",
                 TOOL_GOOD["size"], dmg),
    ]
    files = [
        file_row(BASE + 1.5, "FRun1Tool", "CqRun1a", "10.0.0.5", 50001, None, dmg, TOOL_GOOD),
        file_row(BASE + 2.5, "FRun1Readme", "CqRun1b", "10.0.0.5", 50002, None,
                 "text/plain", README),
        file_row(BASE + 3.5, "FRun1Cut", "CqRun1c", "10.0.0.7", 50003, None, dmg,
                 TOOL_TAMPERED, missing=4),
    ]
    write_tsv(os.path.join(folder, "constructed-http.log"), "http", HTTP_FIELDS, http)
    # The last line has too few fields: a bad line the reader must count.
    write_tsv(os.path.join(folder, "constructed-files.log"), "files", FILES_FIELDS, files,
              extra_lines=[f"{BASE + 4}.000000\tFBroken\tCqBroken"])


def make_run2():
    """Write the second day: host 10.0.0.6 gets different tool content
    from the same URL and the same README. The logs are JSON Lines, with
    files.log in the layout before Zeek 5.0."""
    folder = os.path.join(OUT, "constructed-run2")
    os.makedirs(folder, exist_ok=True)
    day = BASE + 86400
    dmg = "application/x-apple-diskimage"
    http = [
        http_row(day + 1.0, "CqRun2a", "10.0.0.6", 51001, TOOL_PATH, "FRun2Tool",
                 TOOL_TAMPERED["size"], dmg),
        http_row(day + 2.0, "CqRun2b", "10.0.0.6", 51002, README_PATH, "FRun2Readme",
                 README["size"], "text/plain"),
    ]
    with open(os.path.join(folder, "constructed-http.json"), "w", encoding="utf-8") as out:
        for row in http:
            row = {key: value for key, value in row.items() if value not in (None, [])}
            out.write(json.dumps(row) + "\n")
    files = []
    for ts, fuid, uid, content, mime in [
        (day + 1.5, "FRun2Tool", "CqRun2a", TOOL_TAMPERED, dmg),
        (day + 2.5, "FRun2Readme", "CqRun2b", README, "text/plain"),
    ]:
        files.append({
            "ts": ts, "fuid": fuid, "tx_hosts": [SERVER], "rx_hosts": ["10.0.0.6"],
            "conn_uids": [uid], "source": "HTTP", "depth": 0,
            "analyzers": ["MD5", "SHA1", "SHA256"], "mime_type": mime,
            "duration": 0.2, "local_orig": False, "is_orig": False,
            "seen_bytes": content["size"], "total_bytes": content["size"],
            "missing_bytes": 0, "overflow_bytes": 0, "timedout": False,
            "md5": content["md5"], "sha1": content["sha1"], "sha256": content["sha256"],
        })
    with open(os.path.join(folder, "constructed-files.json"), "w", encoding="utf-8") as out:
        for row in files:
            out.write(json.dumps(row) + "\n")


def eve_time(seconds):
    whole = int(seconds)
    micros = int(round((seconds - whole) * 1e6))
    stamp = datetime.datetime.fromtimestamp(whole, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}+0000"


def make_eve():
    """Write one Suricata log in which two hosts fetch the same URL and
    get different content, among flow and tls events and a cut line."""
    events = []
    events.append({"timestamp": eve_time(BASE), "flow_id": 1, "event_type": "flow",
                   "src_ip": "10.0.0.8", "dest_ip": SERVER, "proto": "TCP",
                   "flow": {"pkts_toserver": 5}})
    for index, (client, content) in enumerate([("10.0.0.8", TOOL_GOOD),
                                               ("10.0.0.9", TOOL_TAMPERED)]):
        ts = BASE + 10 * (index + 1)
        flow = 100 + index
        http = {"hostname": TOOL_URL_HOST, "url": TOOL_PATH, "http_user_agent": "curl/8.7.1",
                "http_content_type": "application/x-apple-diskimage", "http_method": "GET",
                "protocol": "HTTP/1.1", "status": 200, "length": content["size"]}
        headers = dict(http)
        headers["response_headers"] = [
            {"name": "ETag", "value": f"\"{content['sha1'][:12]}\""},
            {"name": "Last-Modified", "value": "Thu, 19 Nov 2026 08:00:00 GMT"},
        ]
        events.append({"timestamp": eve_time(ts), "flow_id": flow, "in_iface": "en0",
                       "event_type": "http", "src_ip": client, "src_port": 52000 + index,
                       "dest_ip": SERVER, "dest_port": 80, "proto": "TCP", "tx_id": 0,
                       "http": headers})
        events.append({"timestamp": eve_time(ts + 0.5), "flow_id": flow, "in_iface": "en0",
                       "event_type": "fileinfo", "src_ip": SERVER, "src_port": 80,
                       "dest_ip": client, "dest_port": 52000 + index, "proto": "TCP",
                       "http": http, "app_proto": "http",
                       "fileinfo": {"filename": TOOL_PATH, "sid": [], "gaps": False,
                                    "state": "CLOSED", "md5": content["md5"],
                                    "sha1": content["sha1"], "sha256": content["sha256"],
                                    "stored": False, "size": content["size"], "tx_id": 0}})
    events.append({"timestamp": eve_time(BASE + 40), "flow_id": 7, "event_type": "tls",
                   "src_ip": "10.0.0.8", "dest_ip": SERVER, "proto": "TCP",
                   "tls": {"sni": TOOL_URL_HOST, "version": "TLS 1.3"}})
    lines = [json.dumps(event, separators=(",", ":")) for event in events]
    # A line cut short, as when the sensor stopped mid-write.
    lines.insert(3, lines[3][: len(lines[3]) // 2])
    with open(os.path.join(OUT, "constructed-eve.json"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


UUID_MAC1 = "8C0E1F3A-52B4-4C59-9E0A-1D2C3B4A5F60"
UUID_MAC2 = "0F9E8D7C-6B5A-4938-8271-605F4E3D2C1B"
INSTALLER_URL = "https://downloads.example.test/Installer.pkg"
INSTALLER_PATH = "/Users/alice/Downloads/Installer.pkg"


def make_endpoint():
    """Write osquery results of two Macs that hashed the same downloaded
    installer, and the quarantine records that name the one URL it came
    from. The contents differ."""
    folder = os.path.join(OUT, "constructed-endpoint")
    os.makedirs(folder, exist_ok=True)
    lines = []
    for host, content, uuid, ts in [("mac-01", INSTALLER_GOOD, UUID_MAC1, BASE + 600),
                                    ("mac-02", INSTALLER_SWAPPED, UUID_MAC2, BASE + 900)]:
        common = {"hostIdentifier": host, "calendarTime": "", "unixTime": ts, "epoch": 0,
                  "counter": 0, "numerics": False,
                  "decorations": {"host_uuid": uuid.lower(), "username": "alice"}}
        stamp = format(ts - 300, "x")
        folder_name = "/Users/alice/Downloads"
        if host == "mac-01":
            # osquery's extended_attributes table on macOS decodes the
            # quarantine attribute into one row per key.
            decoded = [("quarantine_agent", "Safari"), ("quarantine_type", "LSQuarantineTypeWebDownload"),
                       ("quarantine_timestamp", str(ts - 300)), ("quarantine_event_id", uuid)]
            rows = [{"path": INSTALLER_PATH, "directory": folder_name, "key": key,
                     "value": value, "base64": "0"} for key, value in decoded]
        else:
            # The raw value, in the form `xattr -p com.apple.quarantine` prints.
            rows = [{"path": INSTALLER_PATH, "directory": folder_name,
                     "key": "com.apple.quarantine", "value": f"0083;{stamp};Safari;{uuid}",
                     "base64": "0"}]
        attribute = dict(common, name="pack_downloads_quarantine", action="snapshot",
                         snapshot=rows)
        hashes = dict(common, name="pack_downloads_hashes", action="added",
                      columns={"path": INSTALLER_PATH, "directory": "/Users/alice/Downloads",
                               "md5": content["md5"], "sha1": content["sha1"],
                               "sha256": content["sha256"], "size": str(content["size"])})
        lines.append(json.dumps(attribute))
        lines.append(json.dumps(hashes))
    # A removed row: the file went away; it is no sighting.
    lines.append(json.dumps({"name": "pack_downloads_hashes", "hostIdentifier": "mac-01",
                             "unixTime": BASE + 1200, "action": "removed",
                             "columns": {"path": "/Users/alice/Downloads/old.zip",
                                         "sha256": "0" * 64}}))
    lines.append('{"name":"pack_downloads_hashes","hostIdentifier":"mac-03"')
    with open(os.path.join(folder, "constructed-osquery-results.log"), "w",
              encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")

    database = os.path.join(folder, "constructed-QuarantineEventsV2")
    if os.path.exists(database):
        os.remove(database)
    connection = sqlite3.connect(database)
    connection.executescript("""
        CREATE TABLE LSQuarantineEvent (
            LSQuarantineEventIdentifier TEXT PRIMARY KEY NOT NULL,
            LSQuarantineTimeStamp REAL,
            LSQuarantineAgentBundleIdentifier TEXT,
            LSQuarantineAgentName TEXT,
            LSQuarantineDataURLString TEXT,
            LSQuarantineSenderName TEXT,
            LSQuarantineSenderAddress TEXT,
            LSQuarantineTypeNumber INTEGER,
            LSQuarantineOriginTitle TEXT,
            LSQuarantineOriginURLString TEXT,
            LSQuarantineOriginAlias BLOB);
        CREATE INDEX LSQuarantineEventIndex ON LSQuarantineEvent (LSQuarantineEventIdentifier);
    """)
    rows = [
        (UUID_MAC1, BASE + 300 - COCOA_OFFSET, "com.apple.Safari", "Safari", INSTALLER_URL,
         None, None, 0, None, "https://example.test/download", None),
        (UUID_MAC2, BASE + 600 - COCOA_OFFSET, "com.apple.Safari", "Safari", INSTALLER_URL,
         None, None, 0, None, "https://example.test/download", None),
        ("B0B5C6D7-0000-4000-8000-000000000001", BASE - COCOA_OFFSET, "com.google.Chrome",
         "Google Chrome", "https://other.example.test/notes.pdf", None, None, 0, None, None,
         None),
    ]
    connection.executemany("INSERT INTO LSQuarantineEvent VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    connection.commit()
    connection.execute("VACUUM")
    connection.close()


def es_time(seconds):
    stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def es_token(pid, pidversion):
    return {"euid": 501, "rgid": 20, "egid": 20, "pid": pid, "asid": 100017,
            "ruid": 501, "auid": 501, "pidversion": pidversion}


def make_eslogger():
    """Write eslogger create and close events in which Safari on mac-02
    writes the installer, in the eslogger 15 (message version 9) layout."""
    safari = {
        "codesigning_flags": 570522385, "cdhash": "5A1E7C0FFEE0000000000000000000000000A0A1",
        "session_id": 100017, "ppid": 1, "group_id": 812, "is_platform_binary": True,
        "team_id": None, "audit_token": es_token(812, 1812),
        "responsible_audit_token": es_token(812, 1812), "is_es_client": False,
        "signing_id": "com.apple.Safari", "start_time": es_time(BASE),
        "original_ppid": 1, "parent_audit_token": es_token(1, 1),
        "executable": {"path": "/Applications/Safari.app/Contents/MacOS/Safari",
                       "path_truncated": False, "stat": {}},
        "tty": None,
    }
    events = [
        (13, "create", {"destination_type": 1,
                        "destination": {"new_path": {"dir": {"path": "/Users/alice/Downloads",
                                                             "path_truncated": False},
                                                     "filename": "Installer.pkg", "mode": 420}},
                        "acl": None}),
        (12, "close", {"modified": True, "was_mapped_writable": False,
                       "target": {"path": INSTALLER_PATH, "path_truncated": False,
                                  "stat": {}}}),
    ]
    lines = []
    for index, (number, name, body) in enumerate(events):
        lines.append(json.dumps({
            "schema_version": 1, "version": 9, "mach_time": 500000000000 + index,
            "time": es_time(BASE + 600 + index), "seq_num": index + 1,
            "global_seq_num": index + 1, "event_type": number, "action_type": 1,
            "action": {"result": {"result_type": 0, "result": {"auth": 0}}},
            "thread": {"thread_id": 9001}, "process": safari, "event": {name: body},
        }, separators=(",", ":")))
    path = os.path.join(OUT, "constructed-mac02.eslogger.jsonl")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    make_run1()
    make_run2()
    make_eve()
    make_endpoint()
    make_eslogger()


if __name__ == "__main__":
    main()
