#!/bin/sh
# Rebuilds the two benchmark captures and measures wiretrust against tshark and cat.
#
# Usage: scripts/bench/run.sh [WIRETRUST_BINARY]
#
# Needs WIRETRUST_CORPUS (the folder that contains pcap/), hyperfine, tshark and GNU time
# (/usr/bin/time). The binary defaults to target/release/wiretrust. Captures and results
# go to BENCH_DIR (default /tmp/wiretrust-bench); never commit them. BENCH_MB (default 200)
# sets the capture size, BENCH_RUNS (default 10) the minimum hyperfine runs per command.
# BENCH_MB=4000 needs about 8 GB free in BENCH_DIR, and tshark then takes minutes per run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
wiretrust=${1:-$here/../../target/release/wiretrust}
dir=${BENCH_DIR:-/tmp/wiretrust-bench}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-10}
if [ -z "${WIRETRUST_CORPUS:-}" ]; then
    echo "run.sh: WIRETRUST_CORPUS is not set. Set it to the corpus folder that contains pcap/." >&2
    exit 2
fi
if [ ! -x "$wiretrust" ]; then
    echo "run.sh: executable $wiretrust not found. Run cargo build --release or pass its path." >&2
    exit 2
fi
mkdir -p "$dir"

# hs: the corpus as it is, dominated by handshakes. bulk: 16 records of 16 KiB inserted in
# each direction of each TLS connection that carries application data.
python3 "$here/replay.py" --target-mb "$mb" "$dir/bench-hs.pcap"
python3 "$here/replay.py" --target-mb "$mb" --bulk-records 16 "$dir/bench-bulk.pcap"

fields="-e tls.handshake.type -e tls.handshake.version -e tls.handshake.ciphersuite"
fields="$fields -e tls.handshake.extensions_server_name"
# wiretrust exits 1 when it raises an alert at or above --fail-on (default high), and both
# captures contain such alerts, so -i keeps hyperfine going. The memory pass below prints
# every exit status, where 2 would mean that the scan failed.
hyperfine -i --warmup 1 --min-runs "$runs" -L capture hs,bulk \
    --export-json "$dir/hyperfine.json" --export-markdown "$dir/hyperfine.md" \
    "$wiretrust scan -q --format jsonl $dir/bench-{capture}.pcap > /dev/null" \
    "$wiretrust scan -q --format jsonl --threads 1 $dir/bench-{capture}.pcap > /dev/null" \
    "tshark -r $dir/bench-{capture}.pcap -Y tls.handshake -T fields $fields > /dev/null" \
    "cat $dir/bench-{capture}.pcap > /dev/null"

peak_rss() {
    label=$1
    shift
    /usr/bin/time -v "$@" 2>&1 >/dev/null |
        awk -v label="$label" '/Maximum resident/ {rss = $6} /Exit status/ {code = $3}
            END {print label ": peak RSS " rss " kB, exit status " code}'
}
for capture in hs bulk; do
    file=$dir/bench-$capture.pcap
    peak_rss "wiretrust $capture" "$wiretrust" scan -q --format jsonl "$file"
    # shellcheck disable=SC2086 # fields contains several arguments on purpose
    peak_rss "tshark $capture" tshark -r "$file" -Y tls.handshake -T fields $fields
    "$wiretrust" scan -q --format jsonl --observations "$dir/obs-$capture.jsonl" "$file" \
        >/dev/null || true
    sessions=$(wc -l <"$dir/obs-$capture.jsonl")
    hellos=$(tshark -r "$file" -Y 'tls.handshake.type==1' 2>/dev/null | wc -l)
    echo "$capture: wiretrust TLS sessions $sessions, tshark packets with a ClientHello $hellos"
done
