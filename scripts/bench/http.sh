#!/bin/sh
# Measures the CPU time of scanning plain HTTP transfers (framing, SHA-256 and MD5 of every
# body, digest checks) against sha256sum and md5sum of the same body octets alone, and
# against scans of a bulk TLS capture (handshakes plus many application-data records) and a
# handshake-dense capture of the same size. The scans use --no-store, so that no file hash
# is written to the user's store.
#
# Usage: scripts/bench/http.sh [WIRETRUST_BINARY]
#
# Needs python3 and GNU time (/usr/bin/time); the handshake capture also needs
# WIRETRUST_CORPUS (the folder that contains pcap/) and is skipped without it. The binary
# defaults to target/release/wiretrust. Captures go to BENCH_DIR (default
# /tmp/wiretrust-bench-http); never commit them. BENCH_MB (default 200) sets both capture
# sizes and BENCH_RUNS (default 3) the runs per command; each run prints user and system
# seconds. Run it on a quiet machine: the numbers are CPU time, but other load still skews
# them through caches and frequency scaling.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
wiretrust=${1:-$here/../../target/release/wiretrust}
dir=${BENCH_DIR:-/tmp/wiretrust-bench-http}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-3}
if [ ! -x "$wiretrust" ]; then
    echo "http.sh: executable $wiretrust not found. Run cargo build --release or pass its path." >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "http.sh: /usr/bin/time not found. Install GNU time (apt-get install -y time)." >&2
    exit 2
fi
mkdir -p "$dir"

python3 "$here/make-http.py" --target-mb "$mb" "$dir/bench-http.pcap" "$dir/bodies.bin"
if [ -n "${WIRETRUST_CORPUS:-}" ]; then
    python3 "$here/replay.py" --target-mb "$mb" "$dir/bench-hs.pcap"
    python3 "$here/replay.py" --target-mb "$mb" --bulk-records 16 "$dir/bench-bulk.pcap"
else
    echo "http.sh: WIRETRUST_CORPUS is not set, so the handshake capture is skipped." >&2
fi

# Prints LABEL, then the user and system CPU seconds of each run of the command.
measure() {
    label=$1
    shift
    run=1
    while [ "$run" -le "$runs" ]; do
        /usr/bin/time -f "$label run $run: %U s user, %S s system, %M kB peak RSS" "$@" \
            >/dev/null 2>>"$dir/time.log" || true
        tail -n 1 "$dir/time.log"
        run=$((run + 1))
    done
}

: >"$dir/time.log"
ls -l "$dir"/bench-*.pcap "$dir/bodies.bin"
# wiretrust exits 1 when it raises an alert at or above --fail-on, so the status is ignored
# here. GNU time writes a non-zero exit status into time.log, where 2 means the scan failed.
scan="scan -q --no-store --format jsonl --threads 1"
# shellcheck disable=SC2086 # $scan is a fixed list of options
measure "scan http" "$wiretrust" $scan "$dir/bench-http.pcap"
measure "sha256sum bodies" sha256sum "$dir/bodies.bin"
measure "md5sum bodies" md5sum "$dir/bodies.bin"
if [ -f "$dir/bench-hs.pcap" ]; then
    # shellcheck disable=SC2086
    measure "scan bulk" "$wiretrust" $scan "$dir/bench-bulk.pcap"
    # shellcheck disable=SC2086
    measure "scan handshakes" "$wiretrust" $scan "$dir/bench-hs.pcap"
fi
