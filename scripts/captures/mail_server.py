#!/usr/bin/env python3
"""A small SMTP, IMAP or POP3 server on 127.0.0.1 for recording STARTTLS cases.

Usage: mail_server.py --protocol {smtp,imap,pop3} --port PORT
                      --starttls {offer,refuse,absent} --cert PEM --key PEM

It serves one connection and exits. The STARTTLS mode sets what the
capability list contains and how the upgrade command is answered:

- offer: STARTTLS (STLS for POP3) is listed, and the request gets the
  positive reply, then a TLS handshake with --cert and --key.
- refuse: STARTTLS is listed, but the request gets a temporary failure
  (SMTP 454, IMAP NO, POP3 -ERR), so the client goes on in plaintext.
- absent: the capability is left out, as a stripping middlebox would.

Logins are accepted whatever the credentials, messages are discarded. It
prints "mail_server: listening on 127.0.0.1:PORT" once bound, one line per
command verb (never the arguments), and "mail_server: done" at the end.
Every socket operation times out after --timeout seconds. Only the Python
standard library is used, and it never listens anywhere but 127.0.0.1.
"""

import argparse
import socket
import ssl
import sys

LOOPBACK = "127.0.0.1"
# Maximum bytes read per command line. Every command the recording clients
# send is far shorter.
MAX_LINE = 4096


def log(message):
    print(f"mail_server: {message}", flush=True)


class Connection:
    """A line-oriented connection that can be upgraded to TLS in place."""

    def __init__(self, sock, context):
        self.sock = sock
        self.context = context
        self.reader = sock.makefile("rb")
        self.tls = False

    def send(self, *lines):
        self.sock.sendall(b"".join(line.encode() + b"\r\n" for line in lines))

    def read_line(self):
        line = self.reader.readline(MAX_LINE)
        if not line:
            return None
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    def start_tls(self):
        # The buffered reader must not contain unread bytes here. That is
        # true because clients wait for the positive reply before their
        # ClientHello.
        self.reader.close()
        self.sock = self.context.wrap_socket(self.sock, server_side=True)
        self.reader = self.sock.makefile("rb")
        self.tls = True
        log(f"TLS {self.sock.version()} {self.sock.cipher()[0]}")


def verb_of(line):
    return line.split(" ", 1)[0].upper()


def serve_smtp(conn, mode):
    conn.send("220 localhost ESMTP wiretrust test server")
    while (line := conn.read_line()) is not None:
        verb = verb_of(line)
        log(f"SMTP {verb}")
        if verb == "EHLO":
            lines = ["250-localhost", "250-PIPELINING", "250-SIZE 10240000"]
            if mode != "absent" and not conn.tls:
                lines.append("250-STARTTLS")
            conn.send(*lines, "250-AUTH PLAIN LOGIN", "250 8BITMIME")
        elif verb == "HELO":
            conn.send("250 localhost")
        elif verb == "STARTTLS" and mode == "offer" and not conn.tls:
            conn.send("220 2.0.0 Ready to start TLS")
            conn.start_tls()
        elif verb == "STARTTLS" and mode == "refuse":
            conn.send("454 4.7.0 TLS not available due to local problem")
        elif verb == "AUTH":
            smtp_auth(conn, line)
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            conn.send("250 2.0.0 OK")
        elif verb == "DATA":
            conn.send("354 End data with <CR><LF>.<CR><LF>")
            while conn.read_line() not in (None, "."):
                pass
            conn.send("250 2.0.0 OK: queued")
        elif verb == "QUIT":
            conn.send("221 2.0.0 Bye")
            return
        else:
            conn.send("502 5.5.1 Command not implemented")


def smtp_auth(conn, line):
    words = line.split()
    mechanism = words[1].upper() if len(words) > 1 else ""
    if mechanism == "PLAIN" and len(words) < 3:
        conn.send("334 ")
        conn.read_line()
    elif mechanism == "LOGIN":
        # The LOGIN mechanism's prompts, "Username:" and "Password:" in base64.
        # An initial response in the command line is the user name.
        for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6")[len(words) - 2 :]:
            conn.send(f"334 {prompt}")
            conn.read_line()
    elif mechanism != "PLAIN":
        conn.send("504 5.5.4 Unrecognized authentication type")
        return
    conn.send("235 2.7.0 Authentication successful")


def serve_imap(conn, mode):
    conn.send("* OK wiretrust test IMAP server ready")
    while (line := conn.read_line()) is not None:
        tag, _, rest = line.partition(" ")
        command = verb_of(rest)
        log(f"IMAP {command}")
        if command == "CAPABILITY":
            capabilities = ["IMAP4rev1", "AUTH=PLAIN"]
            if mode != "absent" and not conn.tls:
                capabilities.insert(1, "STARTTLS")
            conn.send("* CAPABILITY " + " ".join(capabilities), f"{tag} OK CAPABILITY completed")
        elif command == "STARTTLS" and mode == "offer" and not conn.tls:
            conn.send(f"{tag} OK Begin TLS negotiation now")
            conn.start_tls()
        elif command == "STARTTLS" and mode == "refuse":
            conn.send(f"{tag} NO TLS not available")
        elif command == "LOGIN":
            conn.send(f"{tag} OK LOGIN completed")
        elif command in ("SELECT", "EXAMINE"):
            conn.send("* 0 EXISTS", "* 0 RECENT", "* FLAGS (\\Seen)", f"{tag} OK [READ-WRITE] done")
        elif command == "NOOP":
            conn.send(f"{tag} OK NOOP completed")
        elif command == "LOGOUT":
            conn.send("* BYE logging out", f"{tag} OK LOGOUT completed")
            return
        else:
            conn.send(f"{tag} BAD command not supported")


def serve_pop3(conn, mode):
    conn.send("+OK wiretrust test POP3 server ready")
    while (line := conn.read_line()) is not None:
        verb = verb_of(line)
        log(f"POP3 {verb}")
        if verb == "CAPA":
            capabilities = ["USER", "UIDL", "TOP"]
            if mode != "absent" and not conn.tls:
                capabilities.append("STLS")
            conn.send("+OK Capability list follows", *capabilities, ".")
        elif verb == "STLS" and mode == "offer" and not conn.tls:
            conn.send("+OK Begin TLS negotiation")
            conn.start_tls()
        elif verb == "STLS" and mode == "refuse":
            conn.send("-ERR TLS not available")
        elif verb in ("USER", "PASS"):
            conn.send("+OK")
        elif verb == "STAT":
            conn.send("+OK 0 0")
        elif verb == "QUIT":
            conn.send("+OK Bye")
            return
        else:
            conn.send("-ERR command not supported")


SERVERS = {"smtp": serve_smtp, "imap": serve_imap, "pop3": serve_pop3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=sorted(SERVERS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--starttls", choices=("offer", "refuse", "absent"), required=True)
    parser.add_argument("--cert", required=True, help="server certificate chain, PEM")
    parser.add_argument("--key", required=True, help="server private key, PEM")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per socket operation")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    with socket.create_server((LOOPBACK, args.port)) as listener:
        listener.settimeout(args.timeout)
        log(f"listening on {LOOPBACK}:{args.port}")
        sock, _ = listener.accept()
    sock.settimeout(args.timeout)
    conn = Connection(sock, context)
    try:
        SERVERS[args.protocol](conn, args.starttls)
    except (OSError, ssl.SSLError) as err:
        log(f"error: {err}")
        return 1
    finally:
        conn.sock.close()
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
