#!/bin/sh
# Counts the instructions that wiretrust executes on the first packets of a capture.
#
# Usage: scripts/bench/count.sh CAPTURE [BINARY...]
#
# Wall time on a shared machine moves by 10 % or more from run to run, while callgrind's
# instruction count for the same input and binary moves by far less than 1 %. So a count
# shows whether a change to the scan path helped, even a change worth 1 %. The count is not
# a time: cache misses, branch mispredictions and system calls are not in it, and valgrind
# runs SHA-256 and other code with CPU-specific paths in their portable form, which costs
# more instructions than on the real CPU.
#
# Each BINARY (default target/release/wiretrust) runs `scan -q --format jsonl` on the first
# PACKETS packets (default 40000) of CAPTURE, cut into a temporary classic pcap file. The
# callgrind output files stay in COUNT_DIR (default /tmp/wiretrust-count) for
# callgrind_annotate. Needs editcap (from Wireshark) and valgrind.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: count.sh CAPTURE [BINARY...]" >&2
    exit 2
fi
capture=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    set -- "$here/../../target/release/wiretrust"
fi
packets=${PACKETS:-40000}
dir=${COUNT_DIR:-/tmp/wiretrust-count}
for tool in editcap valgrind; do
    if ! command -v "$tool" > /dev/null; then
        echo "count.sh: $tool not found. Install it (Debian: wireshark-common, valgrind)." >&2
        exit 2
    fi
done
mkdir -p "$dir"
cut="$dir/first-$packets.pcap"
editcap -F pcap -r "$capture" "$cut" "1-$packets"

index=0
for binary in "$@"; do
    index=$((index + 1))
    if [ ! -x "$binary" ]; then
        echo "count.sh: executable $binary not found. Build it or pass another path." >&2
        exit 2
    fi
    name=$(basename "$binary")
    out="$dir/callgrind.$$.$index.$name"
    # wiretrust exits with 1 when it raises an alert at or above --fail-on, so only 2 and
    # higher mean failure.
    status=0
    valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" scan -q --format jsonl \
        "$cut" > /dev/null 2> "$out.log" || status=$?
    if [ "$status" -ge 2 ]; then
        echo "count.sh: $binary failed with status $status; see $out.log" >&2
        exit 2
    fi
    count=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$out.log")
    echo "$binary $count instructions ($packets packets; callgrind output $out)"
done
