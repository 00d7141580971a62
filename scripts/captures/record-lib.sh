# Shell functions shared by scripts/make-captures.sh, scripts/make-http-captures.sh,
# scripts/make-mail-captures.sh and scripts/make-baseline-captures.sh, which record one pcap
# per case on the loopback interface.
#
# Source it from bash (it uses arrays, [[ ]] and printf -v) after `set -euo pipefail`. Before
# calling any function the script sets:
#   RECORD_PROG     the name printed at the start of every message, such as make-captures
#   STEP_TIMEOUT    seconds allowed for one process to start or to exit
#   PORT_BASE_VAR   the environment variable that moves the script's ports, named in the
#                   error when a listener does not start
#   CAPTURE_SETTLE_SECONDS  seconds stop_capture waits before it stops tcpdump (optional,
#                   default 0)
# The functions keep their state in these globals, which sourcing sets to '':
#   WORK            the temporary folder of the run, made by open_work_folder
#   CAP_PID SRV_PID RELAY_PID  tcpdump, server and relay while they run ('' otherwise)
#
# Each function, what it does, and what it needs besides bash and coreutils:
#
# die MESSAGE...              Prints "RECORD_PROG: error: MESSAGE" to stderr and exits 1.
#                             Needs RECORD_PROG.
# note MESSAGE...             Prints "RECORD_PROG: MESSAGE" to stdout. Needs RECORD_PROG.
# require_tools COMMAND...    Dies naming the commands not on PATH and the apt-get command
#                             that installs them (each COMMAND is also its Debian package).
# open_work_folder            Makes WORK with mktemp -d and sets an EXIT trap that runs
#                             cleanup.
# cleanup                     Sends SIGTERM to RELAY_PID, SRV_PID and CAP_PID when they still
#                             run, waits for them and removes WORK.
# wait_for PATTERN FILE PID   Waits up to STEP_TIMEOUT seconds for a line matching PATTERN
#                             (extended regex) in FILE. Returns 1 on timeout or when PID
#                             exits first. Needs grep and STEP_TIMEOUT.
# wait_exit PID               Waits up to STEP_TIMEOUT seconds for PID to exit on its own.
#                             Returns 1 on timeout. Needs STEP_TIMEOUT.
# await_exit PID_VAR NAME LOG [FAILURE]
#                             Runs wait_exit for the pid in the global named PID_VAR, collects
#                             its exit status and sets PID_VAR to ''. Dies naming NAME and the
#                             pid on timeout. With FAILURE, it also dies with that message
#                             when the process exited with an error. Needs STEP_TIMEOUT.
# start_listener PID_VAR LOG PATTERN NAME PORT COMMAND...
#                             Runs COMMAND in the background with stdin from /dev/null and
#                             output into LOG, stores its pid in the global named PID_VAR and
#                             waits for PATTERN in LOG. When PATTERN does not appear it dies,
#                             naming NAME, PORT and PORT_BASE_VAR. Needs STEP_TIMEOUT and
#                             PORT_BASE_VAR.
# start_tcpdump PCAP LOG FILTER
#                             Records the packets on lo that match the pcap FILTER into PCAP,
#                             tcpdump's messages into LOG, and sets CAP_PID. Returns 1 when
#                             tcpdump does not report that it listens, usually because the
#                             script does not run as root. Needs tcpdump, root and
#                             STEP_TIMEOUT.
# start_capture PCAP LOG PORT [SECOND_PORT]
#                             Runs start_tcpdump for TCP on 127.0.0.1 to or from PORT (or
#                             SECOND_PORT) and dies, naming the filter, when it fails.
# stop_capture LOG            Waits CAPTURE_SETTLE_SECONDS, stops tcpdump with SIGINT and dies
#                             when it exits with an error or reports dropped packets. LOG is
#                             the file given to start_tcpdump.
# count_packets PCAP DECODE FILTER
#                             Prints how many packets of PCAP match the tshark display FILTER.
#                             DECODE is a tshark -d argument such as tcp.port==18200,smtp.
#                             Needs tshark.
# tshark_fields PCAP DECODE FILTER FIELD...
#                             Prints the FIELDs of each packet matching FILTER, one packet a
#                             line, separated by '|'. With KEYLOG set to an NSS key log file,
#                             tshark decrypts TLS with it. Needs tshark.
# copy_captures OUTDIR NAME...
#                             Copies WORK/NAME.pcap to OUTDIR/NAME.pcap for each NAME, making
#                             OUTDIR first. Call it only after every case passed, so that a
#                             failed run leaves OUTDIR as it was.

WORK=''
CAP_PID=''
SRV_PID=''
RELAY_PID=''

die() {
    printf '%s: error: %s\n' "$RECORD_PROG" "$*" >&2
    exit 1
}

note() {
    printf '%s: %s\n' "$RECORD_PROG" "$*"
}

require_tools() {
    local tool missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if ((${#missing[@]} > 0)); then
        die "missing ${missing[*]}: install with apt-get install -y $*"
    fi
}

open_work_folder() {
    WORK=$(mktemp -d)
    trap cleanup EXIT
}

# SIGTERM, because a background job of a non-interactive shell starts with SIGINT ignored.
# Python and openssl s_server keep that disposition, so SIGINT would leave them running until
# their own timeout, or forever.
cleanup() {
    local pid
    for pid in "$RELAY_PID" "$SRV_PID" "$CAP_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ -n $WORK ]]; then
        rm -rf -- "$WORK"
    fi
}

wait_for() {
    local pattern=$1 file=$2 pid=$3 tries=$((STEP_TIMEOUT * 20))
    while ((tries-- > 0)); do
        grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

wait_exit() {
    local pid=$1 tries=$((STEP_TIMEOUT * 20))
    while ((tries-- > 0)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

await_exit() {
    local pid_var=$1 name=$2 log=$3 failure=${4:-}
    local pid=${!pid_var}
    wait_exit "$pid" || die "$name on pid $pid did not exit: $(cat "$log")"
    if [[ -n $failure ]]; then
        wait "$pid" || die "$failure: $(cat "$log")"
    else
        wait "$pid" || true
    fi
    printf -v "$pid_var" '%s' ''
}

start_listener() {
    local pid_var=$1 log=$2 pattern=$3 name=$4 port=$5
    shift 5
    "$@" </dev/null >"$log" 2>&1 &
    printf -v "$pid_var" '%s' "$!"
    wait_for "$pattern" "$log" "${!pid_var}" ||
        die "$name did not start on 127.0.0.1:$port (port in use? set $PORT_BASE_VAR):" \
            "$(cat "$log")"
}

start_tcpdump() {
    local pcap=$1 log=$2 filter=$3
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump, which cannot write into the
    # private temporary folder. --immediate-mode and -U flush each packet as it arrives.
    tcpdump --immediate-mode -U -s 0 -i lo -Z root -w "$pcap" "$filter" 2>"$log" &
    CAP_PID=$!
    wait_for 'listening on' "$log" "$CAP_PID"
}

start_capture() {
    local pcap=$1 log=$2 port=$3 second=${4:-}
    local filter="host 127.0.0.1 and tcp port $port"
    if [[ -n $second ]]; then
        filter="host 127.0.0.1 and (tcp port $port or tcp port $second)"
    fi
    start_tcpdump "$pcap" "$log" "$filter" ||
        die "tcpdump did not start on lo for '$filter' (run as root?): $(cat "$log")"
}

stop_capture() {
    local log=$1 settle=${CAPTURE_SETTLE_SECONDS:-0}
    # The optional pause lets the last FIN and ACK reach tcpdump before it stops.
    if [[ $settle != 0 ]]; then
        sleep "$settle"
    fi
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || die "tcpdump exited with an error: $(cat "$log")"
    CAP_PID=''
    grep -q '^0 packets dropped by kernel' "$log" ||
        die "tcpdump dropped packets; rerun the script: $(cat "$log")"
}

count_packets() {
    local pcap=$1 decode=$2 filter=$3
    tshark -r "$pcap" -d "$decode" -Y "$filter" -T fields -e frame.number 2>/dev/null | wc -l
}

tshark_fields() {
    local pcap=$1 decode=$2 filter=$3
    shift 3
    local options=(-d "$decode") field
    if [[ -n ${KEYLOG:-} ]]; then
        # The HTTP/1.0 response of openssl s_server -www has no Content-Length, so tshark
        # would wait for the end of the body. Without body reassembly it shows the response
        # at once.
        options+=(-o "tls.keylog_file:$KEYLOG" -o http.desegment_body:FALSE)
    fi
    for field in "$@"; do
        options+=(-e "$field")
    done
    tshark -n -r "$pcap" -Y "$filter" -T fields -E separator='|' "${options[@]}" 2>/dev/null
}

copy_captures() {
    local outdir=$1 name
    shift
    mkdir -p -- "$outdir"
    for name in "$@"; do
        cp -- "$WORK/$name.pcap" "$outdir/$name.pcap"
    done
}
