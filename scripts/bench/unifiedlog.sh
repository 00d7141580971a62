#!/bin/sh
# Times the unified log reader against ripgrep and jq on one synthetic export.
#
# Usage: scripts/bench/unifiedlog.sh [SIZE_MB]
#
# Writes a `log show --style ndjson` export of SIZE_MB megabytes (default 1000) with
# scripts/bench/make-unifiedlog.py, unless BENCH_DIR already contains one of that size, then
# runs four commands in one hyperfine run:
#   scan       `wiretrust scan -q --format jsonl FILE`: read, parse, fold into connections,
#              detect and write the alerts
#   reader     the read_unifiedlog example with the network filter (parses what it keeps)
#   rg         `rg -c boringssl FILE` (counts lines, parses nothing)
#   jq         a jq filter that keeps the same subsystems, images and categories
# Before timing, it prints what each command selects, so that the counts can be compared.
#
# Needs cargo, python3, hyperfine, rg and jq. Results go to BENCH_DIR (default
# /tmp/wiretrust-bench) as unifiedlog-hyperfine.json and .md; never commit the export.
# BENCH_RUNS (default 5) sets the minimum runs per command. At 1000 MB jq takes minutes
# per run. The numbers mean little on a busy machine: run it on a quiet one.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mb=${1:-1000}
dir=${BENCH_DIR:-/tmp/wiretrust-bench}
runs=${BENCH_RUNS:-5}
for tool in cargo python3 hyperfine rg jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "unifiedlog.sh: $tool not found; install it first (Debian: apt-get install hyperfine ripgrep jq)" >&2
        exit 2
    fi
done
mkdir -p "$dir"

file=$dir/unifiedlog-${mb}mb.ndjson
if [ ! -f "$file" ]; then
    python3 "$here/make-unifiedlog.py" --size-mb "$mb" "$file"
fi

(cd "$root" && cargo build --release --locked --bin wiretrust &&
    cargo build --release --locked -p wiretrust-unifiedlog --example read_unifiedlog)
reader=$root/target/release/examples/read_unifiedlog
wiretrust=$root/target/release/wiretrust

# The network filter's rule (Filter::keeps_fields) written in jq.
filter=$dir/unifiedlog-network.jq
cat >"$filter" <<'EOF'
select(
  (.subsystem // "") as $subsystem
  | (.category // "") as $category
  | ((.senderImagePath // "") | split("/") | last // "") as $image
  | ((.processImagePath // "") | split("/") | last // "") as $process
  | $subsystem == "com.apple.network"
    or $subsystem == "com.apple.network.boringssl"
    or $subsystem == "com.apple.CFNetwork"
    or $subsystem == "com.apple.nsurlsessiond"
    or ($subsystem | startswith("com.apple.security"))
    or $category == "ATS"
    or $process == "trustd"
    or $image == "trustd"
    or $image == "libboringssl.dylib"
    or $image == "libnetwork.dylib"
    or ($subsystem == "" and $image == "CFNetwork")
)
EOF

echo "== what each command selects in $file"
"$reader" "$file"
echo "rg: $(rg -c boringssl "$file") lines contain boringssl"
echo "jq: $(jq -c -f "$filter" "$file" | wc -l) records kept"

# The scan exits with 1 when it raises high alerts, as the export's attack lines make it do.
hyperfine -i -N --warmup 1 --min-runs "$runs" \
    --export-json "$dir/unifiedlog-hyperfine.json" \
    --export-markdown "$dir/unifiedlog-hyperfine.md" \
    -n scan "$wiretrust scan -q --format jsonl $file" \
    -n reader "$reader $file" \
    -n rg "rg -c boringssl $file" \
    -n jq "jq -c -f $filter $file"
# hyperfine's JSON export has each command's user and system time: the per-core
# figures divide the bytes by their sum.
