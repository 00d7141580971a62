#!/usr/bin/env bash
# Records real TLS handshakes between OpenSSL and curl on 127.0.0.1, one pcap per case.
#
# Usage: scripts/make-captures.sh [OUTDIR]
#
# OUTDIR defaults to fixtures/captures in this repository. Each case starts its own
# `openssl s_server` on its own loopback port, records that port with tcpdump, runs one
# client (curl or `openssl s_client`) and checks the outcome: always from the client's own
# output, and also with tshark when it is installed. Only when every case passed are the
# captures copied into OUTDIR, so a failed run leaves the old set untouched.
#
# Needs root (tcpdump opens the loopback interface) and the Debian packages openssl, tcpdump
# and curl. tshark is optional. The certificates are throwaway: they are made in a temporary
# folder and deleted on exit. Traffic never leaves 127.0.0.1.
#
# Environment: WIRETRUST_CAPTURE_PORT_BASE (default 44301) is the first of six consecutive
# TCP ports used, one per case.
set -euo pipefail

readonly PORT_BASE=${WIRETRUST_CAPTURE_PORT_BASE:-44301}
# Seconds allowed for one server to start, one client to finish, or one server to exit.
readonly STEP_TIMEOUT=10
# At its default security level 1, OpenSSL 3 disables TLS 1.0/1.1 and the anonymous and NULL
# suites. Both ends of those cases therefore drop to level 0.
readonly LEVEL0='DEFAULT@SECLEVEL=0'
readonly HTTP_GET=$'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'

WORK=''
CAP_PID=''
SRV_PID=''

die() {
    printf 'make-captures: error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'make-captures: %s\n' "$*"
}

# Stops whatever this script started and is still running, then removes the temporary folder.
cleanup() {
    local pid
    for pid in "$SRV_PID" "$CAP_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -INT "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ -n $WORK ]]; then
        rm -rf -- "$WORK"
    fi
}

check_tools() {
    local tool missing=()
    for tool in openssl tcpdump curl; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if ((${#missing[@]} > 0)); then
        die "missing ${missing[*]}: install with apt-get install -y openssl tcpdump curl"
    fi
    if ! command -v tshark >/dev/null; then
        note "tshark not found, so only client output is checked (apt-get install -y tshark" \
            "adds checks of every recorded handshake)"
    fi
}

# Waits until PATTERN (extended regex) appears in FILE while process PID is alive.
wait_for() {
    local pattern=$1 file=$2 pid=$3 tries=$((STEP_TIMEOUT * 20))
    while ((tries-- > 0)); do
        grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# Waits up to STEP_TIMEOUT seconds for process PID to exit on its own.
wait_exit() {
    local pid=$1 tries=$((STEP_TIMEOUT * 20))
    while ((tries-- > 0)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# Writes a self-signed CA named CN to DIR/NAME-ca.{key,pem}.
make_ca() {
    local dir=$1 name=$2 cn=$3
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 30 -subj "/CN=$cn" \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -keyout "$dir/$name-ca.key" -out "$dir/$name-ca.pem" 2>>"$dir/pki.log"
}

# Writes a leaf for localhost to DIR/NAME.{key,pem}, signed by DIR/ISSUER-ca.
make_leaf() {
    local dir=$1 name=$2 issuer=$3
    # keyEncipherment is needed by the RSA key exchange of NULL-SHA256 (RFC 5246, 7.4.2).
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature,keyEncipherment' \
        'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost' >"$dir/leaf.ext"
    openssl req -new -newkey rsa:2048 -nodes -subj '/CN=localhost' \
        -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>>"$dir/pki.log"
    openssl x509 -req -days 30 -in "$dir/$name.csr" -CA "$dir/$issuer-ca.pem" \
        -CAkey "$dir/$issuer-ca.key" -CAcreateserial -extfile "$dir/leaf.ext" \
        -out "$dir/$name.pem" 2>>"$dir/pki.log"
    openssl verify -CAfile "$dir/$issuer-ca.pem" "$dir/$name.pem" >>"$dir/pki.log" 2>&1 ||
        die "the new $name certificate does not verify against $issuer-ca.pem; see $dir/pki.log"
}

# The test CA signs the server certificate. The "Intercepting Proxy CA" signs a second leaf
# for the same name, as a TLS-intercepting proxy would. No current case serves it.
make_pki() {
    local dir=$1
    make_ca "$dir" test 'wiretrust Test CA'
    make_leaf "$dir" server test
    make_ca "$dir" proxy 'Intercepting Proxy CA'
    make_leaf "$dir" proxy-server proxy
}

start_capture() {
    local port=$1 pcap=$2 log=$3
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump, which cannot write into the
    # private temporary folder. --immediate-mode and -U flush each packet as it arrives.
    tcpdump --immediate-mode -U -s 0 -i lo -Z root -w "$pcap" \
        "host 127.0.0.1 and tcp port $port" 2>"$log" &
    CAP_PID=$!
    wait_for 'listening on' "$log" "$CAP_PID" ||
        die "tcpdump did not start on lo port $port (run as root?): $(cat "$log")"
}

stop_capture() {
    local log=$1
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || die "tcpdump exited with an error: $(cat "$log")"
    CAP_PID=''
    grep -q '^0 packets dropped by kernel' "$log" ||
        die "tcpdump dropped packets; rerun the script: $(cat "$log")"
}

# Starts `openssl s_server -www` on 127.0.0.1:PORT with the given extra arguments.
start_server() {
    local port=$1 log=$2
    shift 2
    openssl s_server -accept "127.0.0.1:$port" -www "$@" </dev/null >"$log" 2>&1 &
    SRV_PID=$!
    wait_for '^ACCEPT' "$log" "$SRV_PID" ||
        die "s_server did not start on 127.0.0.1:$port (port in use? set" \
            "WIRETRUST_CAPTURE_PORT_BASE): $(cat "$log")"
}

# Servers run with -naccept, so they exit after their last connection.
stop_server() {
    local log=$1
    wait_exit "$SRV_PID" || die "s_server on pid $SRV_PID did not exit: $(cat "$log")"
    wait "$SRV_PID" || true
    SRV_PID=''
}

# Runs curl against https://localhost:PORT/ with the given extra arguments, output to LOG.
run_curl() {
    local port=$1 log=$2
    shift 2
    # --resolve pins localhost to 127.0.0.1 so curl does not first try ::1.
    timeout "$STEP_TIMEOUT" curl -sS -v -o /dev/null -w 'http_code=%{http_code}\n' \
        --resolve "localhost:$port:127.0.0.1" --cacert "$WORK/test-ca.pem" "$@" \
        "https://localhost:$port/" >"$log" 2>&1
}

# Runs `openssl s_client` to 127.0.0.1:PORT, sends one HTTP GET, output to LOG. Returns the
# client's status so callers can expect a failure.
run_s_client() {
    local port=$1 log=$2
    shift 2
    # -ign_eof keeps the client reading until the server closes after its response.
    printf '%s' "$HTTP_GET" | timeout "$STEP_TIMEOUT" openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" -servername localhost "$@" >>"$log" 2>&1
}

# Fails unless LOG contains a line matching PATTERN (extended regex).
expect_line() {
    local log=$1 pattern=$2 what=$3
    grep -Eq -- "$pattern" "$log" || die "$what: no line matching '$pattern' in:"$'\n'"$(cat "$log")"
}

# Prints one tshark field list per frame of PCAP matching FILTER, TLS decoded on PORT.
tshark_fields() {
    local pcap=$1 port=$2 filter=$3
    shift 3
    local fields=() field
    for field in "$@"; do
        fields+=(-e "$field")
    done
    tshark -n -r "$pcap" -d "tcp.port==$port,tls" -Y "$filter" -T fields \
        -E separator='|' "${fields[@]}" 2>/dev/null
}

# Fails unless tshark's FIELDS for FILTER in PCAP, one frame per line, equal WANT exactly.
expect_tshark() {
    local pcap=$1 port=$2 want=$3 filter=$4
    shift 4
    command -v tshark >/dev/null || return 0
    local got shown
    got=$(tshark_fields "$pcap" "$port" "$filter" "$@")
    shown=$(printf ' -e %s' "$@")
    [[ $got == "$want" ]] ||
        die "$(basename "$pcap"): tshark -Y '$filter'$shown: expected '$want', got '$got'"
}

# Case functions: each records one capture into $WORK and checks it.

case_tls12_benign() {
    local port=$1 pcap=$WORK/tls12-benign.pcap log=$WORK/tls12-benign
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -cipher ECDHE-RSA-AES128-GCM-SHA256
    run_curl "$port" "$log.client" --tlsv1.2 --tls-max 1.2 ||
        die "curl failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" 'SSL connection using TLSv1\.2 / ECDHE-RSA-AES128-GCM-SHA256' \
        'tls12-benign: curl'
    expect_line "$log.client" '^http_code=200$' 'tls12-benign: curl'
    expect_tshark "$pcap" "$port" '0x0303|0xc02f' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
    expect_tshark "$pcap" "$port" '' 'tls.alert_message.desc' frame.number
}

case_tls13_benign() {
    local port=$1 pcap=$WORK/tls13-benign.pcap log=$WORK/tls13-benign
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key"
    run_curl "$port" "$log.client" ||
        die "curl failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" 'SSL connection using TLSv1\.3 / TLS_' 'tls13-benign: curl'
    expect_line "$log.client" '^http_code=200$' 'tls13-benign: curl'
    expect_tshark "$pcap" "$port" '0x0304' 'tls.handshake.type==2' \
        tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$port" '' 'tls.alert_message.desc' frame.number
}

# The server allows TLS 1.0 only while the client offers TLS 1.0 up to 1.3. A server capped
# at TLS 1.0 sets no downgrade sentinel (RFC 8446, 4.1.3), so the client accepts 1.0.
case_tls10_forced() {
    local port=$1 pcap=$WORK/tls10-forced.pcap log=$WORK/tls10-forced
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1 -cipher "$LEVEL0"
    run_s_client "$port" "$log.client" -CAfile "$WORK/test-ca.pem" -verify_return_error \
        -verify_hostname localhost -cipher "$LEVEL0" ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^ *Protocol *: TLSv1$' 'tls10-forced: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'tls10-forced: s_client'
    expect_tshark "$pcap" "$port" '0x0304,0x0303,0x0302,0x0301' 'tls.handshake.type==1' \
        tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$port" '0x0301|' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.extensions.supported_version
}

# The server has no certificate and accepts only the anonymous suite. The client also offers
# strong ECDHE AEAD suites, so the server alone chose the anonymous one.
case_anon_suite() {
    local port=$1 pcap=$WORK/anon-suite.pcap log=$WORK/anon-suite
    local offer="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ADH-AES128-GCM-SHA256"
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 1 -nocert -tls1_2 \
        -cipher 'ADH-AES128-GCM-SHA256@SECLEVEL=0'
    run_s_client "$port" "$log.client" -tls1_2 -cipher "$offer@SECLEVEL=0" ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^ *Cipher *: ADH-AES128-GCM-SHA256$' 'anon-suite: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'anon-suite: s_client'
    expect_tshark "$pcap" "$port" '0xc02f,0xc030,0x00a6,0x00ff' 'tls.handshake.type==1' \
        tls.handshake.ciphersuite
    expect_tshark "$pcap" "$port" '0x0303|0x00a6' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
    expect_tshark "$pcap" "$port" '' 'tls.handshake.type==11' frame.number
}

# The first attempt offers TLS 1.3 with only the P-384 group while the server takes only
# X25519, so the server aborts with handshake_failure (40). The retry offers TLS 1.1 with
# TLS_FALLBACK_SCSV. Because the server supports TLS 1.3, it sends inappropriate_fallback
# (86, RFC 7507, section 3). Both connections go to the same server port, one after the other.
case_fallback_inappropriate() {
    local port=$1 pcap=$WORK/fallback-inappropriate.pcap log=$WORK/fallback-inappropriate
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 2 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -groups X25519 -cipher "$LEVEL0"
    run_s_client "$port" "$log.client" -groups P-384 &&
        die "the first attempt on port $port was expected to fail: $(cat "$log.client")"
    run_s_client "$port" "$log.client" -fallback_scsv -tls1_1 -cipher "$LEVEL0" &&
        die "the retry on port $port was expected to fail: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" 'alert handshake failure.*alert number 40' \
        'fallback-inappropriate: first s_client'
    expect_line "$log.client" 'alert inappropriate fallback.*alert number 86' \
        'fallback-inappropriate: second s_client'
    expect_tshark "$pcap" "$port" $'0x0303|0x0304,0x0303,0x0302,0x0301\n0x0302|' 'tls.handshake.type==1' \
        tls.handshake.version tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$port" '0x0302' 'tls.handshake.ciphersuite==0x5600' \
        tls.handshake.version
    expect_tshark "$pcap" "$port" $'40\n86' 'tls.alert_message.desc' tls.alert_message.desc
}

# NULL-SHA256 authenticates but does not encrypt (RFC 5246, appendix A.5). The client also
# offers strong ECDHE AEAD suites.
case_null_suite() {
    local port=$1 pcap=$WORK/null-suite.pcap log=$WORK/null-suite
    local offer="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:NULL-SHA256"
    start_capture "$port" "$pcap" "$log.tcpdump"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1_2 -cipher 'NULL-SHA256@SECLEVEL=0'
    run_s_client "$port" "$log.client" -CAfile "$WORK/test-ca.pem" -verify_return_error \
        -verify_hostname localhost -tls1_2 -cipher "$offer@SECLEVEL=0" ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^ *Cipher *: NULL-SHA256$' 'null-suite: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'null-suite: s_client'
    expect_tshark "$pcap" "$port" '0xc02f,0xc030,0x003b,0x00ff' 'tls.handshake.type==1' \
        tls.handshake.ciphersuite
    expect_tshark "$pcap" "$port" '0x0303|0x003b' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
}

main() {
    local root outdir
    root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
    outdir=${1:-$root/fixtures/captures}
    (($# <= 1)) || die "usage: $0 [OUTDIR]"
    check_tools
    WORK=$(mktemp -d)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    make_pki "$WORK"
    local names=(tls12-benign tls13-benign tls10-forced anon-suite fallback-inappropriate
        null-suite)
    local i name
    for i in "${!names[@]}"; do
        name=${names[$i]}
        note "recording $name.pcap on 127.0.0.1:$((PORT_BASE + i))"
        "case_${name//-/_}" "$((PORT_BASE + i))"
    done
    mkdir -p -- "$outdir"
    for name in "${names[@]}"; do
        cp -- "$WORK/$name.pcap" "$outdir/$name.pcap"
    done
    note "all ${#names[@]} cases passed; captures are in $outdir"
}

main "$@"
