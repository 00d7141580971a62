//! SMTP (RFC 5321) with the STARTTLS extension (RFC 3207).

use std::collections::VecDeque;

use crate::session::{Action, CapabilityRule, Session, Unit};
use crate::text::{NumericReply, first_word, is_any, numeric_reply, parse_decimal, words};

/// The STARTTLS keyword, and the EHLO keywords of the same length from the
/// IANA "SMTP Service Extensions" registry plus Postfix's XFORWARD.
const RULE: CapabilityRule = CapabilityRule {
    keyword: "STARTTLS",
    known: &["8BITMIME", "CHUNKING", "SMTPUTF8", "XFORWARD"],
    atoms: true,
};

/// Outstanding client commands kept for pairing with replies. Pipelining
/// clients (RFC 2920) send a few at a time, so more means lost replies.
const MAX_PENDING: usize = 64;

/// A client command whose reply matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Ehlo,
    Starttls,
    Auth,
    Data,
    Other,
}

/// SMTP dialogue state.
#[derive(Debug, Default)]
pub(crate) struct Smtp {
    greeted: bool,
    pending: VecDeque<Command>,
    /// Lines of the current reply read so far.
    reply_lines: u32,
    /// The client is sending a message body after DATA, up to a lone `.`.
    in_body: bool,
    /// The server replied 334 to AUTH, so client lines are SASL responses.
    in_sasl: bool,
}

impl Smtp {
    /// Creates the state for a dialogue whose greeting has or has not ended.
    pub(crate) fn new(greeted: bool) -> Self {
        Smtp {
            greeted,
            ..Smtp::default()
        }
    }

    pub(crate) fn server(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let Some(reply) = numeric_reply(unit.text) else {
            return Action::Next;
        };
        let line_index = self.reply_lines;
        self.reply_lines = if reply.last {
            0
        } else {
            line_index.saturating_add(1)
        };
        if !self.greeted {
            self.greeted = reply.last;
            return Action::Next;
        }

        // NOTE: a reply fed before its command has no command to pair with
        // and is dropped, so the caller must interleave sides in capture order.
        let Some(&command) = self.pending.front() else {
            return Action::Next;
        };
        if command == Command::Auth && reply.code == 334 {
            self.in_sasl = true;
            return Action::Next;
        }
        let action = self.reply_line(session, unit, command, reply, line_index);

        // 1xx replies do not exist in SMTP, so every last line ends a command.
        if reply.last {
            self.pending.pop_front();
            if command == Command::Auth {
                self.in_sasl = false;
            }
        }
        action
    }

    /// Reads line `line_index` of the reply to `command`.
    fn reply_line(
        &mut self,
        session: &mut Session,
        unit: &Unit<'_>,
        command: Command,
        reply: NumericReply<'_>,
        line_index: u32,
    ) -> Action {
        match command {
            Command::Ehlo if reply.code == 250 => {
                // The first line names the server, the others are keywords.
                if line_index == 0 {
                    session.begin_capabilities(unit);
                } else {
                    session.capability(unit, first_word(reply.text), RULE);
                }
                if reply.last {
                    session.end_capabilities();
                }
            }
            // A rejected DATA has no body, so the next client line is a command.
            Command::Data if reply.last && reply.code >= 400 => self.in_body = false,
            Command::Starttls if reply.last && reply.code == 220 => {
                session.accept(unit);
                return Action::ExpectTls;
            }
            Command::Starttls if reply.last && (400..=599).contains(&reply.code) => {
                session.refuse(unit, Some(reply.code));
            }
            _ => {}
        }
        Action::Next
    }

    pub(crate) fn client(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        if self.in_body {
            if unit.text == b"." {
                self.in_body = false;
                self.push(session, Command::Other);
            }
            return Action::Next;
        }
        if self.in_sasl {
            return Action::Next;
        }
        let mut parts = words(unit.text);
        let verb = parts.next().unwrap_or_default();
        let command = if is_any(verb, &["EHLO"]) {
            Command::Ehlo
        } else if is_any(verb, &["STARTTLS"]) {
            session.request(unit);
            self.push(session, Command::Starttls);
            return Action::ExpectTls;
        } else if is_any(verb, &["AUTH"]) {
            let mechanism = parts.next().unwrap_or_default();
            session.credentials(unit, &[verb, b" ", mechanism].concat());
            Command::Auth
        } else if is_any(verb, &["MAIL", "RCPT"]) {
            session.mail(unit, verb);
            Command::Other
        } else if is_any(verb, &["DATA"]) {
            session.mail(unit, verb);
            // The body starts now rather than at the 354 reply, because the
            // caller may feed the client's body before the server's reply.
            self.in_body = true;
            Command::Data
        } else if is_any(verb, &["BDAT"]) {
            session.mail(unit, verb);
            self.push(session, Command::Other);
            let size = parts.next().and_then(parse_decimal).unwrap_or(0);
            return Action::Skip(size);
        } else {
            if !is_any(verb, &["HELO", "QUIT", "RSET", "NOOP", "HELP"]) {
                session.proceed(unit);
            }
            Command::Other
        };
        self.push(session, command);
        Action::Next
    }

    fn push(&mut self, session: &mut Session, command: Command) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            let counters = &mut session.outcome.counters;
            counters.commands_dropped = counters.commands_dropped.saturating_add(1);
        }
        self.pending.push_back(command);
    }
}
