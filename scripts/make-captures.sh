#!/usr/bin/env bash
# Records real TLS handshakes between OpenSSL and curl on 127.0.0.1, and writes crafted ones,
# one pcap per case.
#
# Usage: scripts/make-captures.sh [OUTDIR [CASE...]]
#
# OUTDIR defaults to fixtures/captures in this repository. CASE names (file names without
# .pcap) pick some cases, by default all. Each recorded case starts its own `openssl
# s_server` on its own loopback port, records that port with tcpdump and runs one client (curl
# or `openssl s_client`). It checks the outcome in the client's own output, and also with
# tshark when it is installed. Two cases put scripts/captures/relay.py between
# client and server and record both ports. The crafted-* cases are written byte by byte by
# scripts/captures/craft.py and checked with tshark. When the Python module dpkt is
# installed, scripts/captures/check_dpkt.py checks every file a second time. Only when every
# case passed are the captures copied into OUTDIR, so a failed run leaves the old set
# untouched.
#
# Needs root (tcpdump opens the loopback interface), python3 and the Debian packages
# openssl, tcpdump and curl. tshark and dpkt are optional. The certificates are throwaway:
# they are made in a temporary folder and deleted on exit. Traffic never leaves 127.0.0.1.
#
# Environment: WIRETRUST_CAPTURE_PORT_BASE (default 44301) is the first of fifteen
# consecutive TCP ports used: one per recorded case, two per relay case.
set -euo pipefail

readonly PORT_BASE=${WIRETRUST_CAPTURE_PORT_BASE:-44301}
# Every case in recording order, with the number of loopback ports it takes (0: crafted).
# Ports are given out in this order whichever cases are picked, so each keeps its port.
readonly CASES=(tls12-benign:1 tls13-benign:1 tls10-forced:1 anon-suite:1
    fallback-inappropriate:1 null-suite:1 downgrade-relay:2 tamper-relay:2
    benign-close-notify:1 interception-ca:1 name-mismatch:1 fallback-scsv-accepted:1
    crafted-3des:0 crafted-rc4:0 crafted-export:0 crafted-tls13-sentinel:0
    crafted-sentinel-downgrade00:0 crafted-clear-bad-record-mac:0 crafted-record-overflow:0
    crafted-malformed-record:0 crafted-sslv3:0 alert-burst:1)
# Seconds allowed for one server to start, one client to finish, or one server to exit.
readonly STEP_TIMEOUT=10
# At its default security level 1, OpenSSL 3 disables TLS 1.0/1.1 and the anonymous and NULL
# suites. Both ends of those cases therefore drop to level 0.
readonly LEVEL0='DEFAULT@SECLEVEL=0'
readonly HTTP_GET=$'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'
# The last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates TLS 1.2, and 1.1
# or lower (RFC 8446, 4.1.3), as tshark byte-string literals.
readonly DOWNGRD_01='44:4f:57:4e:47:52:44:01'
readonly DOWNGRD_00='44:4f:57:4e:47:52:44:00'

# scripts/captures: relay.py, craft.py and check_dpkt.py.
TOOLS=''

readonly RECORD_PROG=make-captures
readonly PORT_BASE_VAR=WIRETRUST_CAPTURE_PORT_BASE
# shellcheck source=scripts/captures/record-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/captures/record-lib.sh"

check_tools() {
    require_tools openssl tcpdump curl python3
    if ! command -v tshark >/dev/null; then
        note "tshark not found, so only client output is checked (apt-get install -y tshark" \
            "adds checks of every recorded handshake)"
    fi
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
# for the same name, as a TLS-intercepting proxy would; the interception-ca case serves it.
make_pki() {
    local dir=$1
    make_ca "$dir" test 'wiretrust Test CA'
    make_leaf "$dir" server test
    make_ca "$dir" proxy 'Intercepting Proxy CA'
    make_leaf "$dir" proxy-server proxy
}

# Starts `openssl s_server -www` on 127.0.0.1:PORT with the given extra arguments.
start_server() {
    local port=$1 log=$2
    shift 2
    start_listener SRV_PID "$log" '^ACCEPT' s_server "$port" \
        openssl s_server -accept "127.0.0.1:$port" -www "$@"
}

# Servers run with -naccept, so they exit after their last connection.
stop_server() {
    await_exit SRV_PID s_server "$1"
}

# Starts relay.py on 127.0.0.1:PORT in MODE, forwarding to 127.0.0.1:UPSTREAM.
start_relay() {
    local port=$1 upstream=$2 mode=$3 log=$4
    start_listener RELAY_PID "$log" '^relay: listening on' relay.py "$port" \
        python3 "$TOOLS/relay.py" --listen "$port" --upstream "$upstream" --mode "$mode" \
        --timeout "$STEP_TIMEOUT"
}

# The relay serves one connection, then exits: 0 only if it made its change.
stop_relay() {
    await_exit RELAY_PID relay.py "$1" 'relay.py failed'
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
# client's status so callers can expect a failure. SNI (default localhost) is the server name
# the client sends.
run_s_client() {
    local port=$1 log=$2
    shift 2
    # -ign_eof keeps the client reading until the server closes after its response.
    printf '%s' "$HTTP_GET" | timeout "$STEP_TIMEOUT" openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" -servername "${SNI:-localhost}" "$@" >>"$log" 2>&1
}

# Fails unless LOG contains a line matching PATTERN (extended regex).
expect_line() {
    local log=$1 pattern=$2 what=$3
    grep -Eq -- "$pattern" "$log" ||
        die "$what: no line matching '$pattern' in:"$'\n'"$(cat "$log")"
}

# Fails unless tshark's FIELDS for FILTER in PCAP, one frame per line, equal WANT exactly.
# tshark decodes TLS on PORT, one port or a range A-B.
expect_tshark() {
    local pcap=$1 port=$2 want=$3 filter=$4
    shift 4
    command -v tshark >/dev/null || return 0
    local got shown
    got=$(tshark_fields "$pcap" "tcp.port==$port,tls" "$filter" "$@")
    shown=$(printf ' -e %s' "$@")
    [[ $got == "$want" ]] ||
        die "$(basename "$pcap"): tshark -Y '$filter'$shown: expected '$want', got '$got'"
}

# Fails when tshark finds a bad IPv4 or TCP checksum, a TCP sequence anomaly (lost segment,
# retransmission, out of order...) or a malformed packet in the crafted PCAP.
expect_clean_dissection() {
    local pcap=$1
    command -v tshark >/dev/null || return 0
    local problems
    problems=$(tshark -n -r "$pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y 'ip.checksum.status==0 || tcp.checksum.status==0 || tcp.analysis.flags
            || _ws.malformed' -T fields -e frame.number -e _ws.expert.message 2>/dev/null)
    [[ -z $problems ]] ||
        die "$(basename "$pcap"): tshark reports problems (frame, message):"$'\n'"$problems"
}

# Case functions: each records one capture into $WORK and checks it.

case_tls12_benign() {
    local port=$1 pcap=$WORK/tls12-benign.pcap log=$WORK/tls12-benign
    start_capture "$pcap" "$log.tcpdump" "$port"
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
    start_capture "$pcap" "$log.tcpdump" "$port"
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
    start_capture "$pcap" "$log.tcpdump" "$port"
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
    start_capture "$pcap" "$log.tcpdump" "$port"
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
    start_capture "$pcap" "$log.tcpdump" "$port"
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
    expect_tshark "$pcap" "$port" $'0x0303|0x0304,0x0303,0x0302,0x0301\n0x0302|' \
        'tls.handshake.type==1' tls.handshake.version tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$port" '0x0302' 'tls.handshake.ciphersuite==0x5600' \
        tls.handshake.version
    expect_tshark "$pcap" "$port" $'40\n86' 'tls.alert_message.desc' tls.alert_message.desc
}

# NULL-SHA256 authenticates but does not encrypt (RFC 5246, appendix A.5). The client also
# offers strong ECDHE AEAD suites.
case_null_suite() {
    local port=$1 pcap=$WORK/null-suite.pcap log=$WORK/null-suite
    local offer="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:NULL-SHA256"
    start_capture "$pcap" "$log.tcpdump" "$port"
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

# A relay between client and server replaces supported_versions 0x0304 in the ClientHello
# with GREASE 0x0a0a, so the server, which supports TLS 1.3, receives a TLS 1.2 ClientHello.
# It picks TLS 1.2 and ends its random with DOWNGRD\x01. The client, which offered TLS 1.3,
# finds the sentinel and aborts with illegal_parameter (47), an error OpenSSL logs as
# "inappropriate fallback". Both legs are recorded: client to relay (PORT + 1) and relay to
# server (PORT).
case_downgrade_relay() {
    local port=$1 relay=$(($1 + 1)) pcap=$WORK/downgrade-relay.pcap log=$WORK/downgrade-relay
    start_capture "$pcap" "$log.tcpdump" "$port" "$relay"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key"
    start_relay "$relay" "$port" downgrade "$log.relay"
    run_s_client "$relay" "$log.client" -CAfile "$WORK/test-ca.pem" -verify_return_error \
        -verify_hostname localhost &&
        die "s_client through the relay on port $relay was expected to fail: $(cat "$log.client")"
    stop_relay "$log.relay"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.relay" '^relay: changed 1 supported_versions entry 0x0304' \
        'downgrade-relay: relay.py'
    expect_line "$log.client" 'ssl_choose_client_version:inappropriate fallback' \
        'downgrade-relay: s_client'
    expect_line "$log.server" 'alert illegal parameter.*SSL alert number 47' \
        'downgrade-relay: s_server'
    local ports="$port-$relay"
    # The default s_client on Debian 12 offers TLS 1.3 down to TLS 1.0.
    local offered=0x0303,0x0302,0x0301
    expect_tshark "$pcap" "$ports" "$relay|0x0304,$offered"$'\n'"$port|0x0a0a,$offered" \
        'tls.handshake.type==1' tcp.dstport tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$ports" "$port|0x0303|"$'\n'"$relay|0x0303|" \
        "tls.handshake.type==2 && tls.handshake.random[24:8]==$DOWNGRD_01" \
        tcp.srcport tls.handshake.version tls.handshake.extensions.supported_version
    expect_tshark "$pcap" "$ports" "$relay|2|47"$'\n'"$port|2|47" 'tls.alert_message' \
        tcp.dstport tls.alert_message.level tls.alert_message.desc
}

# The relay flips one bit in the client's first application_data record under TLS 1.2 with
# AES-GCM. The server's tag check fails, so it sends a fatal bad_record_mac (20), encrypted,
# and closes without sending a response. The client's key log lets tshark decrypt that alert.
case_tamper_relay() {
    local port=$1 relay=$(($1 + 1)) pcap=$WORK/tamper-relay.pcap log=$WORK/tamper-relay
    local keys=$WORK/tamper-relay.keys suite=ECDHE-RSA-AES128-GCM-SHA256
    start_capture "$pcap" "$log.tcpdump" "$port" "$relay"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1_2 -cipher "$suite"
    start_relay "$relay" "$port" tamper "$log.relay"
    run_s_client "$relay" "$log.client" -CAfile "$WORK/test-ca.pem" -verify_return_error \
        -verify_hostname localhost -tls1_2 -cipher "$suite" -keylogfile "$keys" &&
        die "s_client through the relay on port $relay was expected to fail: $(cat "$log.client")"
    stop_relay "$log.relay"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.relay" '^relay: flipped bit 0 of the last byte' 'tamper-relay: relay.py'
    expect_line "$log.client" "^ *Cipher *: $suite\$" 'tamper-relay: s_client'
    expect_line "$log.client" 'alert bad record mac.*SSL alert number 20' \
        'tamper-relay: s_client'
    expect_line "$log.server" 'decryption failed or bad record mac' 'tamper-relay: s_server'
    local ports="$port-$relay"
    expect_tshark "$pcap" "$ports" "$port|0x0303|0xc02f"$'\n'"$relay|0x0303|0xc02f" \
        'tls.handshake.type==2' tcp.srcport tls.handshake.version tls.handshake.ciphersuite
    # The request goes client to relay, then relay to server; the server sends no data.
    expect_tshark "$pcap" "$ports" "$relay"$'\n'"$port" 'tls.record.content_type==23' \
        tcp.dstport
    expect_tshark "$pcap" "$ports" "$port"$'\n'"$relay" 'tls.record.content_type==21' \
        tcp.srcport
    expect_tshark "$pcap" "$ports" '' 'tls.alert_message.desc' frame.number
    KEYLOG=$keys expect_tshark "$pcap" "$ports" "$port|2|20"$'\n'"$relay|2|20" \
        'tls.alert_message' tcp.srcport tls.alert_message.level tls.alert_message.desc
}

# TLS 1.2 with the default suites: curl sends a GET, the server answers, and both sides end
# with close_notify (0), encrypted. curl's key log lets tshark read both alerts.
case_benign_close_notify() {
    local port=$1 pcap=$WORK/benign-close-notify.pcap log=$WORK/benign-close-notify
    local keys=$WORK/benign-close-notify.keys
    start_capture "$pcap" "$log.tcpdump" "$port"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key"
    SSLKEYLOGFILE=$keys run_curl "$port" "$log.client" --tlsv1.2 --tls-max 1.2 ||
        die "curl failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" 'SSL connection using TLSv1\.2 / ECDHE-RSA-AES256-GCM-SHA384' \
        'benign-close-notify: curl'
    expect_line "$log.client" '^http_code=200$' 'benign-close-notify: curl'
    expect_tshark "$pcap" "$port" '0x0303|0xc030' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
    expect_tshark "$pcap" "$port" '' 'tls.alert_message.desc' frame.number
    expect_tshark "$pcap" "$port" '23' "tls.record.content_type==23 && tcp.dstport==$port" \
        tls.record.content_type
    expect_tshark "$pcap" "$port" '23' "tls.record.content_type==23 && tcp.srcport==$port" \
        tls.record.content_type
    KEYLOG=$keys expect_tshark "$pcap" "$port" 'GET' 'http.request' http.request.method
    KEYLOG=$keys expect_tshark "$pcap" "$port" '200' 'http.response' http.response.code
    KEYLOG=$keys expect_tshark "$pcap" "$port" '1|0' \
        "tls.alert_message && tcp.dstport==$port" tls.alert_message.level tls.alert_message.desc
    KEYLOG=$keys expect_tshark "$pcap" "$port" '1|0' \
        "tls.alert_message && tcp.srcport==$port" tls.alert_message.level tls.alert_message.desc
}

# The server presents the localhost leaf of the "Intercepting Proxy CA" and that CA as its
# chain, over TLS 1.2 so the Certificate message is readable. The client trusts that CA, as a
# managed endpoint with the proxy's root installed would, so the handshake succeeds.
case_interception_ca() {
    local port=$1 pcap=$WORK/interception-ca.pcap log=$WORK/interception-ca
    start_capture "$pcap" "$log.tcpdump" "$port"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/proxy-server.pem" \
        -key "$WORK/proxy-server.key" -cert_chain "$WORK/proxy-ca.pem" -tls1_2
    run_s_client "$port" "$log.client" -CAfile "$WORK/proxy-ca.pem" -verify_return_error \
        -verify_hostname localhost -tls1_2 ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^ *i:CN ?= ?Intercepting Proxy CA' 'interception-ca: s_client'
    expect_line "$log.client" '^Verification: OK$' 'interception-ca: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'interception-ca: s_client'
    expect_tshark "$pcap" "$port" '0x0303' 'tls.handshake.type==2' tls.handshake.version
    expect_tshark "$pcap" "$port" \
        'Intercepting Proxy CA,localhost,Intercepting Proxy CA,Intercepting Proxy CA' \
        'tls.handshake.type==11' x509sat.uTF8String
}

# The client asks for wrong.example by SNI; the server's only certificate covers localhost.
# s_client checks the name only to report it, so the handshake and the GET complete.
case_name_mismatch() {
    local port=$1 pcap=$WORK/name-mismatch.pcap log=$WORK/name-mismatch
    start_capture "$pcap" "$log.tcpdump" "$port"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1_2
    SNI=wrong.example run_s_client "$port" "$log.client" -CAfile "$WORK/test-ca.pem" \
        -verify_hostname wrong.example -tls1_2 ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^Verification error: hostname mismatch$' 'name-mismatch: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'name-mismatch: s_client'
    expect_tshark "$pcap" "$port" 'wrong.example' 'tls.handshake.type==1' \
        tls.handshake.extensions_server_name
    expect_tshark "$pcap" "$port" '0x0303' 'tls.handshake.type==2' tls.handshake.version
    expect_tshark "$pcap" "$port" 'localhost' 'tls.handshake.type==11' x509ce.dNSName
}

# The client sends TLS_FALLBACK_SCSV with TLS 1.2 as its maximum, to a server whose maximum
# is TLS 1.2 too. The fallback is not below the server's best, so no inappropriate_fallback
# (RFC 7507, section 3) and the handshake completes.
case_fallback_scsv_accepted() {
    local port=$1 pcap=$WORK/fallback-scsv-accepted.pcap log=$WORK/fallback-scsv-accepted
    start_capture "$pcap" "$log.tcpdump" "$port"
    start_server "$port" "$log.server" -naccept 1 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1_2
    run_s_client "$port" "$log.client" -CAfile "$WORK/test-ca.pem" -verify_return_error \
        -verify_hostname localhost -fallback_scsv -tls1_2 ||
        die "s_client failed on port $port: $(cat "$log.client")"
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" '^ *Protocol *: TLSv1\.2$' 'fallback-scsv-accepted: s_client'
    expect_line "$log.client" '^HTTP/1\.0 200 ok' 'fallback-scsv-accepted: s_client'
    expect_tshark "$pcap" "$port" '0x0303' 'tls.handshake.ciphersuite==0x5600' \
        tls.handshake.version
    expect_tshark "$pcap" "$port" '0x0303' 'tls.handshake.type==2' tls.handshake.version
    expect_tshark "$pcap" "$port" '' 'tls.alert_message.desc' frame.number
}

# Crafted cases: craft.py writes the file, tshark checks it. The server is on port 443.

craft() {
    local name=$1
    python3 "$TOOLS/craft.py" "$WORK" "$name" >"$WORK/$name.craft" 2>&1 ||
        die "craft.py could not write $name.pcap: $(cat "$WORK/$name.craft")"
}

case_crafted_3des() {
    local pcap=$WORK/crafted-3des.pcap
    craft crafted-3des
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0xc02f,0xc030,0x000a,0x00ff' 'tls.handshake.type==1' \
        tls.handshake.ciphersuite
    expect_tshark "$pcap" 443 '0x0303|0x000a' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
    expect_tshark "$pcap" 443 '' 'tls.alert_message.desc' frame.number
}

case_crafted_rc4() {
    local pcap=$WORK/crafted-rc4.pcap
    craft crafted-rc4
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x002f,0x0035,0x0005,0x00ff' 'tls.handshake.type==1' \
        tls.handshake.ciphersuite
    expect_tshark "$pcap" 443 '0x0303|0x0005' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
}

case_crafted_export() {
    local pcap=$WORK/crafted-export.pcap
    craft crafted-export
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x0301' 'tls.handshake.type==1' tls.handshake.version
    expect_tshark "$pcap" 443 '0x0301|0x0003' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
}

case_crafted_tls13_sentinel() {
    local pcap=$WORK/crafted-tls13-sentinel.pcap
    craft crafted-tls13-sentinel
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x0304,0x0303' 'tls.handshake.type==1' \
        tls.handshake.extensions.supported_version
    expect_tshark "$pcap" 443 '0x0303|0x0304|0x1301' \
        "tls.handshake.type==2 && tls.handshake.random[24:8]==$DOWNGRD_01" \
        tls.handshake.version tls.handshake.extensions.supported_version \
        tls.handshake.ciphersuite
}

case_crafted_sentinel_downgrade00() {
    local pcap=$WORK/crafted-sentinel-downgrade00.pcap
    craft crafted-sentinel-downgrade00
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x0303|' 'tls.handshake.type==1' \
        tls.handshake.version tls.handshake.extensions.supported_version
    expect_tshark "$pcap" 443 '0x0302|0xc013' \
        "tls.handshake.type==2 && tls.handshake.random[24:8]==$DOWNGRD_00" \
        tls.handshake.version tls.handshake.ciphersuite
    expect_tshark "$pcap" 443 '443|2|47' 'tls.alert_message' \
        tcp.dstport tls.alert_message.level tls.alert_message.desc
}

# The server's fatal alert is in the clear: it comes before the server's ChangeCipherSpec.
case_crafted_clear_bad_record_mac() {
    local pcap=$WORK/crafted-clear-bad-record-mac.pcap
    craft crafted-clear-bad-record-mac
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '443|2|20' 'tls.alert_message' \
        tcp.srcport tls.alert_message.level tls.alert_message.desc
    expect_tshark "$pcap" 443 '' 'tls.record.content_type==20 && tcp.srcport==443' frame.number
}

case_crafted_record_overflow() {
    local pcap=$WORK/crafted-record-overflow.pcap
    craft crafted-record-overflow
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '443|2|22' 'tls.alert_message' \
        tcp.srcport tls.alert_message.level tls.alert_message.desc
    expect_tshark "$pcap" 443 '' 'tls.record.content_type==20 && tcp.srcport==443' frame.number
}

# tshark gives up on the server's stream at the unknown content type, so the two record
# headers are checked as bytes: type 0x63 length 5, then type 22 length 20000 (0x4e20).
case_crafted_malformed_record() {
    local pcap=$WORK/crafted-malformed-record.pcap
    craft crafted-malformed-record
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x0303' 'tls.handshake.type==1' tls.handshake.version
    expect_tshark "$pcap" 443 '443' \
        'tcp.payload[0:5]==63:03:03:00:05 && tcp.payload[10:5]==16:03:03:4e:20' tcp.srcport
}

case_crafted_sslv3() {
    local pcap=$WORK/crafted-sslv3.pcap
    craft crafted-sslv3
    expect_clean_dissection "$pcap"
    expect_tshark "$pcap" 443 '0x0300' 'tls.handshake.type==1' tls.handshake.version
    expect_tshark "$pcap" 443 '0x0300|0x0004' 'tls.handshake.type==2' \
        tls.handshake.version tls.handshake.ciphersuite
}

# Six clients that offer only TLS 1.2 to a server that speaks only TLS 1.3: each handshake
# ends in the server's fatal protocol_version alert (70), six failures to one server within
# seconds.
case_alert_burst() {
    local port=$1 pcap=$WORK/alert-burst.pcap log=$WORK/alert-burst attempt
    start_capture "$pcap" "$log.tcpdump" "$port"
    start_server "$port" "$log.server" -naccept 6 -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -tls1_3
    for attempt in 1 2 3 4 5 6; do
        run_s_client "$port" "$log.client" -tls1_2 &&
            die "attempt $attempt on port $port was expected to fail: $(cat "$log.client")"
    done
    stop_server "$log.server"
    stop_capture "$log.tcpdump"
    expect_line "$log.client" 'alert protocol version.*alert number 70' \
        'alert-burst: s_client'
    expect_tshark "$pcap" "$port" $'70\n70\n70\n70\n70\n70' 'tls.alert_message.desc' \
        tls.alert_message.desc
}

# Reads every capture of NAMES again with dpkt, when it is installed: checksums (crafted files
# only), TCP sequence continuity and TLS record framing. Only the malformed case may hold a
# record check_dpkt.py marks with "!".
check_with_dpkt() {
    local report=$WORK/dpkt.txt name files=() recorded=()
    if ! python3 -c 'import dpkt' 2>/dev/null; then
        note "dpkt not found, so the second check is skipped (pip install dpkt adds it)"
        return 0
    fi
    for name in "$@"; do
        if [[ $name == crafted-* ]]; then
            files+=("$WORK/$name.pcap")
        else
            recorded+=("$WORK/$name.pcap")
        fi
    done
    : >"$report"
    if ((${#files[@]} > 0)); then
        python3 "$TOOLS/check_dpkt.py" "${files[@]}" >>"$report" 2>&1 ||
            die "check_dpkt.py found errors: $(cat "$report")"
    fi
    if ((${#recorded[@]} > 0)); then
        python3 "$TOOLS/check_dpkt.py" --no-checksums "${recorded[@]}" >>"$report" 2>&1 ||
            die "check_dpkt.py found errors: $(cat "$report")"
    fi
    local odd
    odd=$(grep '!' "$report" | grep -v '^crafted-malformed-record\.pcap ' || true)
    [[ -z $odd ]] || die "check_dpkt.py marked records outside the malformed case: $odd"
    if [[ " $* " == *' crafted-malformed-record '* ]]; then
        expect_line "$report" '^crafted-malformed-record\.pcap .* !99/0x0303/5 !22/0x0303/20000$' \
            'crafted-malformed-record: check_dpkt.py'
    fi
    note "dpkt read every capture again without errors"
}

main() {
    local root outdir
    root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
    outdir=${1:-$root/fixtures/captures}
    TOOLS=$root/scripts/captures
    shift $(($# > 0 ? 1 : 0))
    local picked=("$@") entry name known=()
    for entry in "${CASES[@]}"; do
        known+=("${entry%:*}")
    done
    if ((${#picked[@]} == 0)); then
        picked=("${known[@]}")
    fi
    for name in "${picked[@]}"; do
        [[ " ${known[*]} " == *" $name "* ]] ||
            die "unknown case '$name'; known cases: ${known[*]}"
    done
    check_tools
    open_work_folder
    trap 'exit 130' INT TERM
    make_pki "$WORK"
    local port=$PORT_BASE width done=()
    for entry in "${CASES[@]}"; do
        name=${entry%:*} width=${entry#*:}
        if [[ " ${picked[*]} " == *" $name "* ]]; then
            case $width in
                0) note "crafting $name.pcap" ;;
                1) note "recording $name.pcap on 127.0.0.1:$port" ;;
                *) note "recording $name.pcap on 127.0.0.1:$port (server), $((port + 1)) (relay)" ;;
            esac
            "case_${name//-/_}" "$port"
            done+=("$name")
        fi
        port=$((port + width))
    done
    check_with_dpkt "${done[@]}"
    copy_captures "$outdir" "${done[@]}"
    note "all ${#done[@]} cases passed; captures are in $outdir"
}

main "$@"
