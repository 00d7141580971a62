#!/usr/bin/env bash
# Records plain HTTP/1.1 transfers between curl and scripts/captures/http_server.py on
# 127.0.0.1, one pcap per case, for the HTTP integrity detections.
#
# Usage: scripts/make-http-captures.sh [OUTDIR [CASE...]]
#
# OUTDIR defaults to fixtures/captures in this repository. CASE names (file names without
# .pcap) pick some cases, by default all. Each case starts its own server on its own loopback
# port, records only that port with tcpdump and runs curl against it. It checks the outcome
# in curl's exit status and with `tshark -Y http` (the HTTP responses, status codes and
# fields that the case must show). Only when every case passed are the captures copied into
# OUTDIR, so a failed run leaves the old set untouched.
#
# Needs root (tcpdump opens the loopback interface), python3 and the Debian packages tcpdump,
# curl and tshark. Traffic never leaves 127.0.0.1.
#
# Environment: WIRETRUST_HTTP_PORT_BASE (default 18100) is the first of twelve consecutive TCP
# ports used, one per case.
set -euo pipefail

readonly PORT_BASE=${WIRETRUST_HTTP_PORT_BASE:-18100}
# Every case in recording order; each takes the next port whichever cases are picked.
readonly CASES=(http-digests-correct http-content-md5-wrong http-digest-wrong
    http-content-digest-wrong http-repr-digest-wrong http-s3-etag-wrong http-chunked-trailer
    http-gzip-digests http-short-body-close http-keep-alive http-head-304 http-hsts-then-plain)
# Seconds allowed for the server to start and for one curl run.
readonly STEP_TIMEOUT=10

readonly RECORD_PROG=make-http-captures
readonly PORT_BASE_VAR=WIRETRUST_HTTP_PORT_BASE
# The server is killed at the end of a case, so its last packets need a moment to arrive.
readonly CAPTURE_SETTLE_SECONDS=0.3
# shellcheck source=scripts/captures/record-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/captures/record-lib.sh"

start_server() {
    local port=$1 log=$2
    start_listener SRV_PID "$log" '^http_server: listening' http_server.py "$port" \
        python3 "$TOOLS/http_server.py" --port "$port"
}

# SIGTERM, because a background job of a non-interactive shell ignores SIGINT and Python
# keeps that disposition.
stop_server() {
    kill -TERM "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=''
}

# Runs curl with a time limit; EXPECT is the exit status the case needs.
run_curl() {
    local expect=$1 log=$2
    shift 2
    local status=0
    curl --silent --show-error --max-time "$STEP_TIMEOUT" --output /dev/null "$@" \
        >>"$log" 2>&1 || status=$?
    ((status == expect)) || die "curl $* exited with $status, expected $expect: $(cat "$log")"
}

# The port of the case being checked, which tshark decodes as HTTP.
CASE_PORT=''

# Fails unless FILTER matches exactly COUNT packets of PCAP.
expect_count() {
    local pcap=$1 filter=$2 count=$3 found
    found=$(count_packets "$pcap" "tcp.port==$CASE_PORT,http" "$filter")
    ((found == count)) ||
        die "$(basename "$pcap"): expected $count packets matching '$filter', found $found"
}

# Runs the clients of case NAME against PORT.
run_case() {
    local name=$1 port=$2 log=$3
    local base="http://127.0.0.1:$port"
    case $name in
    http-digests-correct) run_curl 0 "$log" "$base/digests" ;;
    http-content-md5-wrong) run_curl 0 "$log" "$base/wrong/content-md5" ;;
    http-digest-wrong) run_curl 0 "$log" "$base/wrong/digest" ;;
    http-content-digest-wrong) run_curl 0 "$log" "$base/wrong/content-digest" ;;
    http-repr-digest-wrong) run_curl 0 "$log" "$base/wrong/repr-digest" ;;
    http-s3-etag-wrong) run_curl 0 "$log" "$base/wrong/s3-etag" ;;
    http-chunked-trailer) run_curl 0 "$log" "$base/chunked" ;;
    http-gzip-digests) run_curl 0 "$log" "$base/gzip" ;;
    # curl exits with 18 (partial file) when the server closes before Content-Length.
    http-short-body-close) run_curl 18 "$log" "$base/short" ;;
    http-keep-alive)
        run_curl 0 "$log" "$base/digests" "$base/chunked" "$base/gzip" "$base/page"
        ;;
    http-head-304)
        run_curl 0 "$log" --head "$base/etag"
        run_curl 0 "$log" --header 'If-None-Match: "wiretrust-fixture-v1"' "$base/etag"
        ;;
    http-hsts-then-plain)
        local resolve=(--resolve "wiretrust.test:$port:127.0.0.1"
            --resolve "www.wiretrust.test:$port:127.0.0.1"
            --resolve "other.test:$port:127.0.0.1")
        run_curl 0 "$log" "${resolve[@]}" "http://wiretrust.test:$port/hsts"
        run_curl 0 "$log" "${resolve[@]}" "http://www.wiretrust.test:$port/page"
        run_curl 0 "$log" "${resolve[@]}" "http://other.test:$port/page"
        ;;
    *) die "unknown case $name" ;;
    esac
}

# Checks with tshark that PCAP contains what case NAME recorded.
check_case() {
    local name=$1 pcap=$2 port=$3
    CASE_PORT=$port
    tshark -r "$pcap" -d "tcp.port==$port,http" -Y http >/dev/null 2>&1 ||
        die "tshark could not read $pcap"
    case $name in
    http-digests-correct)
        expect_count "$pcap" 'http.response.code == 200' 1
        expect_count "$pcap" 'http.response.line contains "Repr-Digest"' 1
        ;;
    http-*-wrong) expect_count "$pcap" 'http.response.code == 200' 1 ;;
    http-chunked-trailer)
        expect_count "$pcap" 'http.transfer_encoding == "chunked"' 1
        ;;
    http-gzip-digests)
        expect_count "$pcap" 'http.content_encoding == "gzip"' 1
        ;;
    http-short-body-close)
        # tshark marks the response it could not complete; the request is there.
        expect_count "$pcap" 'http.request.method == "GET"' 1
        expect_count "$pcap" 'tcp.flags.fin == 1 && tcp.srcport == '"$port" 1
        ;;
    http-keep-alive)
        expect_count "$pcap" 'http.request' 4
        expect_count "$pcap" 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 1
        ;;
    http-head-304)
        expect_count "$pcap" 'http.request.method == "HEAD"' 1
        expect_count "$pcap" 'http.response.code == 304' 1
        ;;
    http-hsts-then-plain)
        expect_count "$pcap" 'http.response.line contains "Strict-Transport-Security"' 1
        expect_count "$pcap" 'http.host contains "www.wiretrust.test"' 1
        expect_count "$pcap" 'http.request' 3
        ;;
    esac
    local codes
    codes=$(tshark_fields "$pcap" "tcp.port==$port,http" http.response http.response.code |
        tr '\n' ' ')
    note "$name: HTTP responses $codes"
}

main() {
    local root outdir
    root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
    TOOLS="$root/scripts/captures"
    outdir=${1:-$root/fixtures/captures}
    shift || true
    local picked=("$@")
    ((${#picked[@]} > 0)) || picked=("${CASES[@]}")
    require_tools tcpdump curl python3 tshark
    open_work_folder
    local index name port
    for index in "${!CASES[@]}"; do
        name=${CASES[$index]}
        [[ " ${picked[*]} " == *" $name "* ]] || continue
        port=$((PORT_BASE + index))
        note "$name on port $port"
        start_tcpdump "$WORK/$name.pcap" "$WORK/$name.tcpdump.log" \
            "host 127.0.0.1 and tcp port $port" ||
            die "tcpdump did not start on lo for port $port (run as root?):" \
                "$(cat "$WORK/$name.tcpdump.log")"
        start_server "$port" "$WORK/$name.server.log"
        run_case "$name" "$port" "$WORK/$name.curl.log"
        stop_server
        stop_capture "$WORK/$name.tcpdump.log"
        check_case "$name" "$WORK/$name.pcap" "$port"
    done
    for name in "${picked[@]}"; do
        [[ -f $WORK/$name.pcap ]] || die "no case called $name"
    done
    copy_captures "$outdir" "${picked[@]}"
    note "wrote ${#picked[@]} captures to $outdir"
}

main "$@"
