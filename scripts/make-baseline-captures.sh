#!/usr/bin/env bash
# Records the baseline captures: real OpenSSL handshakes on 127.0.0.1 for one server name,
# first a baseline, then one change per capture that a TLS baseline detection must raise.
#
# Usage: scripts/make-baseline-captures.sh [OUTDIR]
#
# OUTDIR defaults to fixtures/captures in this repository. Cases, one pcap each:
#   baseline-learn           two sessions: TLS 1.2, an ECDHE AEAD suite, certificate from CA A
#   baseline-new-ca          the same client; the server has a new key from a new CA B
#   baseline-lower-version   the same client; the server accepts TLS 1.1 only
#   baseline-client-hello    the same client tool with another cipher list (another JA4)
#   baseline-plaintext       plain HTTP to the same server name (curl to python3 http.server)
# Each case checks its outcome in the client's output. Only when every case passed are the
# captures copied into OUTDIR, so a failed run leaves the old set untouched.
#
# Needs root (tcpdump opens lo), openssl, tcpdump, curl and python3. The keys and
# certificates are throwaway: they are made in a temporary folder and deleted on exit.
# Traffic never leaves 127.0.0.1.
#
# Environment: WIRETRUST_BASELINE_PORT_BASE (default 18300) is the first of five consecutive
# TCP ports, one per case; tcpdump records only the case's port.
set -euo pipefail

readonly PORT_BASE=${WIRETRUST_BASELINE_PORT_BASE:-18300}
readonly SERVER_NAME=baseline.wiretrust.test
readonly CASES=(baseline-learn baseline-new-ca baseline-lower-version baseline-client-hello
    baseline-plaintext)
# Seconds allowed for one server to start, one client to finish, or one server to exit.
readonly STEP_TIMEOUT=10
# OpenSSL 3 disables TLS 1.0 and 1.1 at its default security level 1, so every client offers
# level 0: its ClientHello stays the same whichever version the server accepts.
readonly LEVEL0='DEFAULT@SECLEVEL=0'
readonly HTTP_GET=$'GET / HTTP/1.0\r\nHost: baseline.wiretrust.test\r\n\r\n'

readonly RECORD_PROG=make-baseline-captures
readonly PORT_BASE_VAR=WIRETRUST_BASELINE_PORT_BASE
# shellcheck source=scripts/captures/record-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/captures/record-lib.sh"

# Writes a CA named CN to WORK/NAME-ca.{key,pem} and a leaf for SERVER_NAME signed by it to
# WORK/NAME-leaf.{key,pem}, each with a new RSA key.
make_pki() {
    local name=$1 cn=$2
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 30 -subj "/CN=$cn" \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -keyout "$WORK/$name-ca.key" -out "$WORK/$name-ca.pem" 2>>"$WORK/pki.log"
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature,keyEncipherment' \
        'extendedKeyUsage=serverAuth' "subjectAltName=DNS:$SERVER_NAME" >"$WORK/leaf.ext"
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$SERVER_NAME" \
        -keyout "$WORK/$name-leaf.key" -out "$WORK/$name-leaf.csr" 2>>"$WORK/pki.log"
    openssl x509 -req -days 30 -in "$WORK/$name-leaf.csr" -CA "$WORK/$name-ca.pem" \
        -CAkey "$WORK/$name-ca.key" -CAcreateserial -extfile "$WORK/leaf.ext" \
        -out "$WORK/$name-leaf.pem" 2>>"$WORK/pki.log" ||
        die "cannot sign the $name leaf; see $WORK/pki.log"
}

# Starts `openssl s_server -www` on 127.0.0.1:PORT with the given extra arguments.
start_server() {
    local port=$1 log=$2
    shift 2
    start_listener SRV_PID "$log" '^ACCEPT' s_server "$port" \
        openssl s_server -accept "127.0.0.1:$port" -www "$@"
}

# Runs `openssl s_client` to 127.0.0.1:PORT with SNI SERVER_NAME, trusting CA (a name given
# to make_pki), sends one HTTP GET and appends the output to LOG.
run_s_client() {
    local port=$1 log=$2 ca=$3
    shift 3
    # -ign_eof keeps the client reading until the server closes after its response.
    printf '%s' "$HTTP_GET" | timeout "$STEP_TIMEOUT" openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" -servername "$SERVER_NAME" -CAfile "$WORK/$ca-ca.pem" \
        -verify_return_error -verify_hostname "$SERVER_NAME" "$@" >>"$log" 2>&1 ||
        die "s_client failed on port $port: $(cat "$log")"
}

# Fails unless LOG contains a line matching PATTERN (extended regex).
expect_line() {
    local log=$1 pattern=$2 what=$3
    grep -Eq -- "$pattern" "$log" ||
        die "$what: no line matching '$pattern' in:"$'\n'"$(cat "$log")"
}

# Records one TLS case: a server with LEAF (a make_pki name) and SERVER_ARGS, then CLIENTS
# runs of s_client trusting LEAF's CA with the remaining arguments.
record_tls() {
    local name=$1 port=$2 leaf=$3 clients=$4 server_args=$5
    shift 5
    local log=$WORK/$name
    start_capture "$WORK/$name.pcap" "$log.tcpdump" "$port"
    # shellcheck disable=SC2086 # server_args is a list of options.
    start_server "$port" "$log.server" -naccept "$clients" -cert "$WORK/$leaf-leaf.pem" \
        -key "$WORK/$leaf-leaf.key" $server_args
    local run
    for ((run = 0; run < clients; run++)); do
        run_s_client "$port" "$log.client" "$leaf" "$@"
    done
    # Servers run with -naccept, so they exit after their last connection.
    await_exit SRV_PID s_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^Verification: OK$' "$name: s_client"
    expect_line "$log.client" '^HTTP/1\.0 200 ok' "$name: s_client"
}

case_baseline_learn() {
    record_tls baseline-learn "$1" a 2 "-no_tls1_3" -cipher "$LEVEL0"
    expect_line "$WORK/baseline-learn.client" '^ *Protocol *: TLSv1\.2$' 'baseline-learn'
    expect_line "$WORK/baseline-learn.client" '^ *Cipher *: ECDHE-RSA-AES(128|256)-GCM' \
        'baseline-learn'
}

case_baseline_new_ca() {
    record_tls baseline-new-ca "$1" b 1 "-no_tls1_3" -cipher "$LEVEL0"
    expect_line "$WORK/baseline-new-ca.client" '^ *i:CN ?= ?wiretrust Baseline CA B' \
        'baseline-new-ca'
}

case_baseline_lower_version() {
    record_tls baseline-lower-version "$1" a 1 "-tls1_1 -cipher $LEVEL0" -cipher "$LEVEL0"
    expect_line "$WORK/baseline-lower-version.client" '^ *Protocol *: TLSv1\.1$' \
        'baseline-lower-version'
}

case_baseline_client_hello() {
    local offer='ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256'
    record_tls baseline-client-hello "$1" a 1 "-no_tls1_3" -cipher "$offer@SECLEVEL=0"
    expect_line "$WORK/baseline-client-hello.client" '^ *Protocol *: TLSv1\.2$' \
        'baseline-client-hello'
}

# Plain HTTP from curl to python3's http.server, with the server name in the Host field.
case_baseline_plaintext() {
    local port=$1 log=$WORK/baseline-plaintext
    mkdir -p "$WORK/site"
    printf 'baseline\n' >"$WORK/site/index.html"
    start_capture "$WORK/baseline-plaintext.pcap" "$log.tcpdump" "$port"
    start_listener SRV_PID "$log.server" 'Serving HTTP' http.server "$port" \
        python3 -m http.server --bind 127.0.0.1 --directory "$WORK/site" "$port"
    timeout "$STEP_TIMEOUT" curl -sS -o /dev/null -w 'http_code=%{http_code}\n' \
        --resolve "$SERVER_NAME:$port:127.0.0.1" "http://$SERVER_NAME:$port/index.html" \
        >"$log.client" 2>&1 || die "curl failed on port $port: $(cat "$log.client")"
    # SIGTERM: a background job of a non-interactive shell starts with SIGINT ignored.
    kill -TERM "$SRV_PID"
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=''
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^http_code=200$' 'baseline-plaintext: curl'
}

main() {
    local repo outdir
    repo=$(cd "$(dirname "$0")/.." && pwd)
    outdir=${1:-$repo/fixtures/captures}
    require_tools openssl tcpdump curl python3
    open_work_folder
    make_pki a 'wiretrust Baseline CA A'
    make_pki b 'wiretrust Baseline CA B'
    local index=0 name
    for name in "${CASES[@]}"; do
        note "recording $name on port $((PORT_BASE + index))"
        "case_${name//-/_}" "$((PORT_BASE + index))"
        index=$((index + 1))
    done
    mkdir -p "$outdir"
    for name in "${CASES[@]}"; do
        cp -- "$WORK/$name.pcap" "$outdir/$name.pcap"
    done
    note "wrote ${#CASES[@]} captures to $outdir"
}

main "$@"
