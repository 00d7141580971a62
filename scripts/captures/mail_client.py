#!/usr/bin/env python3
"""Opportunistic SMTP, IMAP and POP3 clients on 127.0.0.1, built on smtplib,
imaplib and poplib, for recording STARTTLS cases.

Usage: mail_client.py {smtp,imap,pop3} --port PORT --cafile PEM

Each client reads the server's capabilities and upgrades with STARTTLS
(STLS for POP3) when it is offered, verifying the certificate against
--cafile. When the capability is missing, or the server rejects the
upgrade, the client goes on in plaintext, as opportunistic clients do.
It then logs in as alice with the throwaway password "secret", and sends
a message (SMTP) or reads the mailbox (IMAP, POP3).

It prints one "mail_client: ..." line per step: whether the capability was
offered, how the upgrade went, and the login. It connects only to 127.0.0.1.
"""

import argparse
import imaplib
import poplib
import smtplib
import ssl
import sys

LOOPBACK = "127.0.0.1"
USER = "alice"
PASSWORD = "secret"
MESSAGE = b"Subject: wiretrust test\r\n\r\nA message sent for a STARTTLS capture.\r\n"


def log(message):
    print(f"mail_client: {message}", flush=True)


def run_smtp(port, context, timeout):
    with smtplib.SMTP(LOOPBACK, port, local_hostname="client.localhost", timeout=timeout) as smtp:
        smtp.ehlo()
        offered = smtp.has_extn("starttls")
        log(f"offered {'yes' if offered else 'no'}")
        if offered:
            try:
                smtp.starttls(context=context)
                smtp.ehlo()
                log("starttls accepted")
            except smtplib.SMTPResponseException as err:
                log(f"starttls rejected {err.smtp_code}")
        smtp.login(USER, PASSWORD)
        log("login ok")
        smtp.sendmail("alice@localhost", ["bob@localhost"], MESSAGE)
        log("mail sent")


def run_imap(port, context, timeout):
    imap = imaplib.IMAP4(LOOPBACK, port, timeout=timeout)
    offered = "STARTTLS" in imap.capabilities
    log(f"offered {'yes' if offered else 'no'}")
    if offered:
        try:
            imap.starttls(ssl_context=context)
            log("starttls accepted")
        except imaplib.IMAP4.error as err:
            log(f"starttls rejected {err}")
    imap.login(USER, PASSWORD)
    log("login ok")
    imap.select("INBOX")
    imap.logout()


def run_pop3(port, context, timeout):
    pop = poplib.POP3(LOOPBACK, port, timeout=timeout)
    offered = "STLS" in pop.capa()
    log(f"offered {'yes' if offered else 'no'}")
    if offered:
        try:
            pop.stls(context=context)
            log("starttls accepted")
        except poplib.error_proto as err:
            log(f"starttls rejected {err}")
    pop.user(USER)
    pop.pass_(PASSWORD)
    log("login ok")
    pop.stat()
    pop.quit()


CLIENTS = {"smtp": run_smtp, "imap": run_imap, "pop3": run_pop3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=sorted(CLIENTS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True, help="CA certificate that signed the server's")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per socket operation")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    # The test certificate names 127.0.0.1 in its subjectAltName.
    try:
        CLIENTS[args.protocol](args.port, context, args.timeout)
    except (OSError, smtplib.SMTPException, imaplib.IMAP4.error, poplib.error_proto) as err:
        log(f"error: {err}")
        return 1
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
