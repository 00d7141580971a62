#!/bin/sh
# Measures the TLS baseline store: writes BENCH_PROFILES synthetic profiles into a store,
# reports its size per profile and SQLite lookups per second, then times a scan of a
# handshake-dense capture with that store (comparing only, then learning too) against the
# same scan with --no-store.
#
# Usage: scripts/bench/baseline.sh [WIRETRUST_BINARY]
#
# Needs cargo, python3 and GNU time (/usr/bin/time). The handshake capture is built by
# scripts/bench/replay.py from WIRETRUST_CORPUS/pcap, or from fixtures/captures when
# WIRETRUST_CORPUS is unset. The binary defaults to target/release/wiretrust; the profile
# generator is the wiretrust-store example baseline_store, built with BENCH_CARGO_PROFILE
# (default release). Files go to BENCH_DIR (default /tmp/wiretrust-bench-baseline); never
# commit them. BENCH_PROFILES (default 1000000), BENCH_MB (default 200), BENCH_LOOKUPS
# (default 100000) and BENCH_RUNS (default 3) set the sizes. Each scan run starts from a
# fresh copy of the generated store, because a scan learns into it. Run it on a quiet
# machine.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$here/../..
wiretrust=${1:-$repo/target/release/wiretrust}
dir=${BENCH_DIR:-/tmp/wiretrust-bench-baseline}
profiles=${BENCH_PROFILES:-1000000}
mb=${BENCH_MB:-200}
lookups=${BENCH_LOOKUPS:-100000}
runs=${BENCH_RUNS:-3}
cargo_profile=${BENCH_CARGO_PROFILE:-release}
if [ ! -x "$wiretrust" ]; then
    echo "baseline.sh: executable $wiretrust not found. Run cargo build --release or pass its path." >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "baseline.sh: /usr/bin/time not found. Install GNU time (apt-get install -y time)." >&2
    exit 2
fi
mkdir -p "$dir"

(cd "$repo" && cargo build -q --profile "$cargo_profile" -p wiretrust-store --example baseline_store)
target=${CARGO_TARGET_DIR:-$repo/target}
case $cargo_profile in
    dev) generator=$target/debug/examples/baseline_store ;;
    *) generator=$target/$cargo_profile/examples/baseline_store ;;
esac

rm -f "$dir"/profiles.sqlite*
"$generator" generate "$dir/profiles.sqlite" "$profiles"
"$generator" lookup "$dir/profiles.sqlite" "$lookups"

if [ -n "${WIRETRUST_CORPUS:-}" ]; then
    python3 "$here/replay.py" --target-mb "$mb" "$dir/bench-hs.pcap"
else
    echo "baseline.sh: WIRETRUST_CORPUS is not set, so the capture replays fixtures/captures." >&2
    python3 "$here/replay.py" --corpus "$repo/fixtures/captures" --target-mb "$mb" \
        "$dir/bench-hs.pcap"
fi

# Prints LABEL, then the wall, user and system seconds of each run of the command.
measure() {
    label=$1
    store=$2
    shift 2
    run=1
    while [ "$run" -le "$runs" ]; do
        if [ "$store" = copy ]; then
            rm -f "$dir"/run.sqlite*
            cp "$dir/profiles.sqlite" "$dir/run.sqlite"
        fi
        /usr/bin/time -f "$label run $run: %e s wall, %U s user, %S s system, %M kB peak RSS" \
            "$@" >/dev/null 2>>"$dir/time.log" || true
        tail -n 1 "$dir/time.log"
        run=$((run + 1))
    done
}

: >"$dir/time.log"
ls -l "$dir/bench-hs.pcap" "$dir/profiles.sqlite"
# wiretrust exits 1 when it raises an alert at or above --fail-on, so the status is ignored
# here. GNU time writes a non-zero exit status into time.log, where 2 means the scan failed.
measure "scan --no-store" none "$wiretrust" scan -q --format jsonl --threads 1 --no-store \
    "$dir/bench-hs.pcap"
measure "scan --store --no-learn" copy "$wiretrust" scan -q --format jsonl --threads 1 \
    --no-learn --store "$dir/run.sqlite" "$dir/bench-hs.pcap"
measure "scan --store" copy "$wiretrust" scan -q --format jsonl --threads 1 \
    --store "$dir/run.sqlite" "$dir/bench-hs.pcap"
# What the learning scan wrote, from its summary line on stderr.
rm -f "$dir"/run.sqlite*
cp "$dir/profiles.sqlite" "$dir/run.sqlite"
"$wiretrust" scan --format jsonl --threads 1 --store "$dir/run.sqlite" "$dir/bench-hs.pcap" \
    2>&1 >/dev/null | grep '^ *baseline:' || true
