#!/usr/bin/env python3
"""Measures `wiretrust watch --stdin` under a steady stream of unified log
lines: how long after its line arrives each alert is written, and the
resident memory of the watch process over the run.

The stream loops over the constructed NDJSON fixtures (benign sessions and
attack cases). Each loop gives its lines a new process id, so every loop
is new connections and the attack lines raise new alerts. Lines are
written at a fixed rate; the time each attack line is written is compared
with the time its alert is read back.

Usage: scripts/bench/watch-replay.py [--rate 5000] [--seconds 600]
           [--binary target/release/wiretrust]
Prints one line per memory sample and a summary; exits 1 when an alert
took 1 s or more or memory grew by more than 20 % after the first minute.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

FIXTURES = [
    "constructed-benign.ndjson",
    "constructed-bad-record-mac.ndjson",
    "constructed-benign.ndjson",
    "constructed-tls10.ndjson",
    "constructed-benign.ndjson",
    "constructed-protocol-version.ndjson",
]


def load_lines(root):
    """The records of the fixtures, as dicts, without banners and trailers."""
    records = []
    for name in FIXTURES:
        with open(os.path.join(root, "fixtures", "endpoint", name), encoding="utf-8") as f:
            for line in f:
                if not line.startswith("{") or '"finished"' in line:
                    continue
                records.append(json.loads(line))
    return records


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=5000, help="lines per second")
    parser.add_argument("--seconds", type=int, default=600, help="length of the run")
    parser.add_argument("--binary", default="target/release/wiretrust")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    records = load_lines(root)
    attack_markers = ("bad record mac", "TLS connected [server(0) version(0x0301)",
                      "description: protocol version")

    watch = subprocess.Popen([args.binary, "watch", "--stdin", "--format", "jsonl", "-q"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    sent = {}  # pid -> time the first attack line of that loop was written
    latencies = []
    lock = threading.Lock()

    def read_alerts():
        for line in watch.stdout:
            arrived = time.monotonic()
            alert = json.loads(line)
            pid = alert.get("process", {}).get("pid")
            with lock:
                if pid in sent:
                    latencies.append(arrived - sent.pop(pid))

    reader = threading.Thread(target=read_alerts, daemon=True)
    reader.start()

    start = time.monotonic()
    next_sample = start
    samples = []
    written = 0
    loop = 0
    interval = 1.0 / args.rate
    batch = max(1, args.rate // 100)
    while time.monotonic() - start < args.seconds:
        loop += 1
        pid_base = 100_000 + loop * 10
        for record in records:
            pid = pid_base + record["processID"] % 10
            record = dict(record, processID=pid)
            line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
            message = record["eventMessage"]
            if any(marker in message for marker in attack_markers):
                with lock:
                    sent.setdefault(pid, time.monotonic())
            watch.stdin.write(line)
            written += 1
            if written % batch == 0:
                target = start + written * interval
                delay = target - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            now = time.monotonic()
            if now >= next_sample:
                samples.append((now - start, rss_kib(watch.pid)))
                print(f"t={now - start:6.1f}s lines={written} rss={samples[-1][1]} KiB",
                      flush=True)
                next_sample += 10
    watch.stdin.close()
    watch.wait(timeout=60)
    reader.join(timeout=10)

    elapsed = time.monotonic() - start
    latencies.sort()
    print(f"lines written: {written} in {elapsed:.1f} s ({written / elapsed:.0f}/s)")
    if latencies:
        median = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"alerts timed: {len(latencies)}; latency median {median * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    after_minute = [rss for t, rss in samples if t >= 60]
    if after_minute:
        print(f"rss after the first minute: min {min(after_minute)} KiB, "
              f"max {max(after_minute)} KiB, last {after_minute[-1]} KiB")
    slow = latencies and latencies[-1] >= 1.0
    grew = after_minute and max(after_minute) > 1.2 * after_minute[0]
    sys.exit(1 if slow or grew or not latencies else 0)


if __name__ == "__main__":
    main()
