#!/bin/sh
# Compares `wiretrust verify` with GNU sha256sum on a tree of files and its SHA256SUMS.
#
# Usage: scripts/bench/verify.sh SIZE_GB DIR [BINARY]
#
# Writes DIR/tree, about SIZE_GB GB of random data: 70 % in three large files (2.3 GB each
# at SIZE_GB=10), 10 % in files of 1 to 16 MiB and 20 % in many files of 4 to 256 KiB. It
# is written once and kept for later runs with the same SIZE_GB. DIR/SHA256SUMS comes from
# sha256sum. hyperfine then runs, from DIR, with the files in the page cache after the
# warm-up run:
#
#   wiretrust verify --manifest SHA256SUMS              (BINARY, default target/release)
#   find tree -type f -print0 | xargs -0 -P$(nproc) -n 8 sha256sum
#   sha256sum -c --quiet SHA256SUMS                     (one thread, for reference)
#
# and prints wall, user and system time per command. The results are in
# DIR/verify-bench.json and DIR/verify-bench.md. BENCH_RUNS sets the runs per command
# (default 3). Needs hyperfine, python3 and GNU coreutils.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: verify.sh SIZE_GB DIR [BINARY]" >&2
    exit 2
fi
size_gb=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
binary=${3:-$here/../../target/release/wiretrust}
runs=${BENCH_RUNS:-3}
for tool in hyperfine python3 sha256sum; do
    if ! command -v "$tool" > /dev/null; then
        echo "verify.sh: $tool not found; install it (Debian: hyperfine, python3, coreutils)." >&2
        exit 2
    fi
done
if [ ! -x "$binary" ]; then
    echo "verify.sh: $binary not found; build it with cargo build --release." >&2
    exit 2
fi
mkdir -p "$dir"
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
cd "$dir"

if [ "$(cat tree.size 2> /dev/null || true)" != "$size_gb" ]; then
    rm -rf tree tree.size SHA256SUMS
    python3 - "$size_gb" << 'EOF'
import os
import random
import sys

total = int(float(sys.argv[1]) * 1e9)
rng = random.Random(1)


def write(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            block = os.urandom(min(left, 1 << 20))
            out.write(block)
            left -= len(block)


large = int(total * 0.7) // 3
for number in range(3):
    write(f"tree/large/image-{number}.bin", large)

budget, number = int(total * 0.1), 0
while budget > 0:
    size = min(budget, rng.randint(1 << 20, 16 << 20))
    write(f"tree/medium/{number % 16:02d}/file-{number}.bin", size)
    budget -= size
    number += 1

budget, number = int(total * 0.2), 0
while budget > 0:
    size = min(budget, rng.randint(4 << 10, 256 << 10))
    write(f"tree/small/{number % 64:02d}/file-{number}.dat", size)
    budget -= size
    number += 1
EOF
    find tree -type f -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS
    echo "$size_gb" > tree.size
fi

files=$(wc -l < SHA256SUMS)
bytes=$(du -sb tree | cut -f1)
echo "tree: $files files, $bytes bytes; load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine --warmup 1 --runs "$runs" \
    --export-json verify-bench.json --export-markdown verify-bench.md \
    -n "wiretrust verify" "$binary verify -q --format jsonl --manifest SHA256SUMS > /dev/null" \
    -n "xargs -P$(nproc) sha256sum" \
    "find tree -type f -print0 | xargs -0 -P$(nproc) -n 8 sha256sum > /dev/null" \
    -n "sha256sum -c" "sha256sum -c --quiet SHA256SUMS"

echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$bytes" << 'EOF'
import json
import sys

size = int(sys.argv[1])
with open("verify-bench.json") as data:
    results = json.load(data)["results"]
print(f"{'command':<28} {'wall s':>8} {'user s':>8} {'sys s':>8} {'GB/s wall':>10}")
for result in results:
    wall = result["mean"]
    print(
        f"{result['command']:<28} {wall:8.3f} {result['user']:8.3f} {result['system']:8.3f} "
        f"{size / wall / 1e9:10.2f}"
    )
EOF
