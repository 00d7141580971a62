#!/usr/bin/env bash
# Records SMTP, IMAP and POP3 dialogues with and without STARTTLS on 127.0.0.1, one pcap
# per case, for the STARTTLS stripping checks.
#
# Usage: scripts/make-mail-captures.sh [OUTDIR [CASE...]]
#
# OUTDIR defaults to fixtures/captures in this repository. CASE names (file names without
# .pcap) pick some cases, by default all. Each case starts scripts/captures/mail_server.py
# on its own loopback port, records that port with tcpdump and runs one client: curl, or
# scripts/captures/mail_client.py (Python's smtplib, imaplib and poplib). The relay case
# puts scripts/captures/strip_relay.py between client and server and records both ports.
# Each case is checked in the client's output and with tshark. Only when every case passed
# are the captures copied into OUTDIR, so a failed run leaves the old set untouched.
#
# Needs root (tcpdump opens the loopback interface), python3 and the Debian packages
# openssl, tcpdump, curl and tshark. The certificates are throwaway: they are made in a
# temporary folder and deleted on exit. Traffic never leaves 127.0.0.1.
#
# Environment: WIRETRUST_MAIL_PORT_BASE (default 18200) is the first of eight consecutive
# TCP ports used: one per case, two for the relay case. No other port is used.
set -euo pipefail

readonly PORT_BASE=${WIRETRUST_MAIL_PORT_BASE:-18200}
# Every case in recording order, with the number of loopback ports it takes. Ports are
# given out in this order whichever cases are picked, so each keeps its port.
readonly CASES=(smtp-starttls-used:1 smtp-starttls-garbled-relay:2 smtp-starttls-refused-454:1
    imap-starttls-removed:1 pop3-stls-removed:1 imap-starttls-used:1 pop3-stls-used:1
    baseline-smtp-starttls-refused:0 baseline-smtp-starttls-garbled-relay:0)
# The baseline-* cases take no port of their own. Their server listens on the port of
# smtp-starttls-used, so that a baseline learned from that capture has a profile for it.
# Their relay listens on the relay port of smtp-starttls-garbled-relay.
readonly SAME_SERVER_PORT=$PORT_BASE
readonly SAME_RELAY_PORT=$((PORT_BASE + 2))
# Seconds allowed for one server to start, one client to finish, or one server to exit.
readonly STEP_TIMEOUT=10

TOOLS=''

readonly RECORD_PROG=make-mail-captures
readonly PORT_BASE_VAR=WIRETRUST_MAIL_PORT_BASE
# Lets the last FIN and ACK reach tcpdump before stop_capture stops it.
readonly CAPTURE_SETTLE_SECONDS=0.3
# shellcheck source=scripts/captures/record-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/captures/record-lib.sh"

# Writes a throwaway CA (DIR/ca.pem) and a server leaf for 127.0.0.1 and localhost
# (DIR/server.pem, DIR/server.key) signed by it.
make_pki() {
    local dir=$1
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 30 -subj '/CN=wiretrust Mail Test CA' \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>>"$dir/pki.log"
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature,keyEncipherment' \
        'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
        >"$dir/leaf.ext"
    openssl req -new -newkey rsa:2048 -nodes -subj '/CN=localhost' \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>>"$dir/pki.log"
    openssl x509 -req -days 30 -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -extfile "$dir/leaf.ext" -out "$dir/server.pem" 2>>"$dir/pki.log"
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >>"$dir/pki.log" 2>&1 ||
        die "the new server certificate does not verify against ca.pem; see $dir/pki.log"
}

# Starts mail_server.py for PROTOCOL on 127.0.0.1:PORT in STARTTLS mode MODE.
start_server() {
    local protocol=$1 port=$2 mode=$3 log=$4
    start_listener SRV_PID "$log" '^mail_server: listening on' mail_server.py "$port" \
        python3 "$TOOLS/mail_server.py" --protocol "$protocol" --port "$port" \
        --starttls "$mode" --cert "$WORK/server.pem" --key "$WORK/server.key" \
        --timeout "$STEP_TIMEOUT"
}

# The server serves one connection, then exits: 0 only if the dialogue ended cleanly.
stop_server() {
    await_exit SRV_PID mail_server.py "$1" 'mail_server.py failed'
}

# Starts strip_relay.py on 127.0.0.1:PORT, forwarding to 127.0.0.1:UPSTREAM.
start_relay() {
    local port=$1 upstream=$2 log=$3
    start_listener RELAY_PID "$log" '^strip_relay: listening on' strip_relay.py "$port" \
        python3 "$TOOLS/strip_relay.py" --listen "$port" --upstream "$upstream" \
        --timeout "$STEP_TIMEOUT"
}

# The relay exits 0 only if it overwrote a STARTTLS.
stop_relay() {
    await_exit RELAY_PID strip_relay.py "$1" 'strip_relay.py changed nothing or failed'
}

# Runs mail_client.py for PROTOCOL against 127.0.0.1:PORT, output into LOG.
run_client() {
    local protocol=$1 port=$2 log=$3
    timeout "$STEP_TIMEOUT" python3 "$TOOLS/mail_client.py" "$protocol" --port "$port" \
        --cafile "$WORK/ca.pem" --timeout "$STEP_TIMEOUT" >"$log" 2>&1 ||
        die "mail_client.py $protocol failed: $(cat "$log")"
}

# Fails unless LOG contains the line PATTERN (extended regex).
expect_line() {
    local log=$1 pattern=$2
    grep -Eq -- "$pattern" "$log" || die "expected '$pattern' in $log: $(cat "$log")"
}

# Fails unless the count of packets matching FILTER satisfies the arithmetic TEST, such
# as '== 1' or '> 0'. DECODE (a tshark -d argument) makes tshark read the case's port as
# the mail protocol.
expect_packets() {
    local pcap=$1 decode=$2 filter=$3 test=$4 count
    count=$(count_packets "$pcap" "$decode" "$filter")
    (("$count" $test)) || die "$(basename "$pcap"): $count packets match '$filter', expected $test"
}

# Records one case into WORK/NAME.pcap. PORT is the case's first port.
record() {
    local name=$1 port=$2 pcap="$WORK/$1.pcap" log="$WORK/$1"
    case $name in
        smtp-starttls-used)
            start_capture "$pcap" "$log.tcpdump" "$port"
            start_server smtp "$port" offer "$log.server"
            printf 'Subject: wiretrust test\r\n\r\nSent with curl over STARTTLS.\r\n' >"$log.mail"
            timeout "$STEP_TIMEOUT" curl --silent --show-error --ssl-reqd \
                --cacert "$WORK/ca.pem" --mail-from alice@localhost --mail-rcpt bob@localhost \
                --upload-file "$log.mail" "smtp://127.0.0.1:$port" >"$log.client" 2>&1 ||
                die "curl failed: $(cat "$log.client")"
            stop_server "$log.server"
            stop_capture "$log.tcpdump"
            expect_line "$log.server" '^mail_server: TLS TLSv1\.3 '
            # tshark 4.0 keeps only the first four letters of an SMTP command in
            # smtp.req.command ("STAR"), so the request is matched by its bytes.
            expect_packets "$pcap" "tcp.port==$port,smtp" 'smtp.req and frame contains "STARTTLS"' '== 1'
            expect_packets "$pcap" "tcp.port==$port,smtp" 'tls.handshake.type == 1' '== 1'
            expect_packets "$pcap" "tcp.port==$port,smtp" 'lower(smtp.req.command) == "mail"' '== 0'
            ;;
        smtp-starttls-garbled-relay | baseline-smtp-starttls-garbled-relay)
            local relay=$((port + 1))
            if [[ $name == baseline-* ]]; then
                port=$SAME_SERVER_PORT
                relay=$SAME_RELAY_PORT
            fi
            start_capture "$pcap" "$log.tcpdump" "$port" "$relay"
            start_server smtp "$port" offer "$log.server"
            start_relay "$relay" "$port" "$log.relay"
            run_client smtp "$relay" "$log.client"
            stop_relay "$log.relay"
            stop_server "$log.server"
            stop_capture "$log.tcpdump"
            expect_line "$log.client" '^mail_client: offered no$'
            expect_line "$log.client" '^mail_client: login ok$'
            expect_line "$log.relay" '^strip_relay: changed '
            local decode="tcp.port==$port,smtp"
            # Checks on the client's leg decode the relay's port as SMTP.
            expect_packets "$pcap" "tcp.port==$relay,smtp" 'smtp.rsp and frame contains "250-XXXXXXXA"' '== 1'
            expect_packets "$pcap" "$decode" 'smtp.rsp and frame contains "250-STARTTLS"' '== 1'
            expect_packets "$pcap" "tcp.port==$relay,smtp" \
                "tcp.port == $relay and lower(smtp.req.command) == \"auth\"" '== 1'
            expect_packets "$pcap" "$decode" 'tls' '== 0'
            ;;
        smtp-starttls-refused-454 | baseline-smtp-starttls-refused)
            [[ $name == baseline-* ]] && port=$SAME_SERVER_PORT
            start_capture "$pcap" "$log.tcpdump" "$port"
            start_server smtp "$port" refuse "$log.server"
            run_client smtp "$port" "$log.client"
            stop_server "$log.server"
            stop_capture "$log.tcpdump"
            expect_line "$log.client" '^mail_client: starttls rejected 454$'
            expect_line "$log.client" '^mail_client: mail sent$'
            local decode="tcp.port==$port,smtp"
            expect_packets "$pcap" "$decode" 'smtp.response.code == 454' '== 1'
            expect_packets "$pcap" "$decode" 'lower(smtp.req.command) == "auth"' '== 1'
            expect_packets "$pcap" "$decode" 'lower(smtp.req.command) == "mail"' '== 1'
            expect_packets "$pcap" "$decode" 'tls' '== 0'
            ;;
        imap-starttls-removed | imap-starttls-used)
            local mode=absent
            [[ $name == *-used ]] && mode=offer
            start_capture "$pcap" "$log.tcpdump" "$port"
            start_server imap "$port" "$mode" "$log.server"
            run_client imap "$port" "$log.client"
            stop_server "$log.server"
            stop_capture "$log.tcpdump"
            local decode="tcp.port==$port,imap"
            if [[ $mode == absent ]]; then
                expect_line "$log.client" '^mail_client: offered no$'
                expect_packets "$pcap" "$decode" 'imap.request.command == "LOGIN"' '== 1'
                expect_packets "$pcap" "$decode" 'frame contains "STARTTLS"' '== 0'
            else
                expect_line "$log.client" '^mail_client: starttls accepted$'
                expect_packets "$pcap" "$decode" 'imap.request.command == "STARTTLS"' '== 1'
                expect_packets "$pcap" "$decode" 'imap.request.command == "LOGIN"' '== 0'
                expect_packets "$pcap" "$decode" 'tls.handshake.type == 1' '== 1'
            fi
            ;;
        pop3-stls-removed | pop3-stls-used)
            local mode=absent
            [[ $name == *-used ]] && mode=offer
            start_capture "$pcap" "$log.tcpdump" "$port"
            start_server pop3 "$port" "$mode" "$log.server"
            run_client pop3 "$port" "$log.client"
            stop_server "$log.server"
            stop_capture "$log.tcpdump"
            local decode="tcp.port==$port,pop"
            if [[ $mode == absent ]]; then
                expect_line "$log.client" '^mail_client: offered no$'
                expect_packets "$pcap" "$decode" 'pop.request.command == "USER"' '== 1'
                expect_packets "$pcap" "$decode" 'pop.request.command == "PASS"' '== 1'
                expect_packets "$pcap" "$decode" 'frame contains "STLS"' '== 0'
            else
                expect_line "$log.client" '^mail_client: starttls accepted$'
                expect_packets "$pcap" "$decode" 'pop.request.command == "STLS"' '== 1'
                expect_packets "$pcap" "$decode" 'pop.request.command == "PASS"' '== 0'
                expect_packets "$pcap" "$decode" 'tls.handshake.type == 1' '== 1'
            fi
            ;;
        *) die "unknown case $name" ;;
    esac
    note "recorded $name.pcap ($(count_packets "$pcap" "tcp.port==$port,smtp" 'frame') packets)"
}

main() {
    local repo outdir
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    outdir=${1:-$repo/fixtures/captures}
    shift $(($# > 0 ? 1 : 0))
    TOOLS="$repo/scripts/captures"
    ((EUID == 0)) || die "run as root: tcpdump needs to open the loopback interface"
    require_tools openssl tcpdump curl python3 tshark
    open_work_folder
    make_pki "$WORK"

    local entry name ports port=$PORT_BASE picked=()
    for entry in "${CASES[@]}"; do
        name=${entry%%:*}
        ports=${entry##*:}
        if (($# == 0)) || [[ " $* " == *" $name "* ]]; then
            record "$name" "$port"
            picked+=("$name")
        fi
        port=$((port + ports))
    done
    ((${#picked[@]} > 0)) || die "no case matches: $*"
    copy_captures "$outdir" "${picked[@]}"
    note "wrote ${#picked[@]} captures to $outdir"
}

main "$@"
