//! POP3 (RFC 1939) with CAPA (RFC 2449) and STLS (RFC 2595 section 4).

use std::collections::VecDeque;

use crate::session::{Action, CapabilityRule, Session, Unit};
use crate::text::{first_word, is_any, starts_with_ignore_case, words};

/// The STLS capability, and the CAPA tags of the same length (RFC 2449
/// section 6, RFC 6856 for UTF8 and LANG).
const RULE: CapabilityRule = CapabilityRule {
    keyword: "STLS",
    known: &["USER", "UIDL", "SASL", "UTF8", "LANG", "APOP"],
    atoms: true,
};

/// Outstanding client commands kept for pairing with replies.
const MAX_PENDING: usize = 64;

/// A client command, by the shape of its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Capa,
    Stls,
    /// AUTH with a mechanism: `+ ` challenges until `+OK` or `-ERR`.
    Auth,
    /// A command whose `+OK` reply has more lines, up to a lone `.`.
    MultiLine,
    Other,
}

/// POP3 dialogue state.
#[derive(Debug, Default)]
pub(crate) struct Pop3 {
    greeted: bool,
    pending: VecDeque<Command>,
    /// The multi-line reply being read, if any.
    reading: Option<Command>,
    /// The server sent a SASL challenge, so client lines are responses.
    in_sasl: bool,
}

impl Pop3 {
    pub(crate) fn server(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        if !self.greeted {
            self.greeted = true;
            return Action::Next;
        }
        if let Some(command) = self.reading {
            if unit.text == b"." {
                self.reading = None;
                if command == Command::Capa {
                    session.end_capabilities();
                }
            } else if command == Command::Capa {
                session.capability(unit, first_word(unit.text), RULE);
            }
            return Action::Next;
        }
        let Some(&command) = self.pending.front() else {
            return Action::Next;
        };
        if unit.text.starts_with(b"+ ") || unit.text == b"+" {
            self.in_sasl = command == Command::Auth;
            return Action::Next;
        }
        let ok = starts_with_ignore_case(unit.text, b"+OK");
        let err = starts_with_ignore_case(unit.text, b"-ERR");
        if !ok && !err {
            return Action::Next;
        }
        self.pending.pop_front();
        self.in_sasl = false;
        match command {
            Command::Capa if ok => {
                session.begin_capabilities(unit);
                self.reading = Some(command);
            }
            Command::MultiLine if ok => self.reading = Some(command),
            Command::Stls if ok => {
                session.accept(unit);
                return Action::ExpectTls;
            }
            Command::Stls => session.refuse(unit, None),
            _ => {}
        }
        Action::Next
    }

    pub(crate) fn client(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        if self.in_sasl {
            return Action::Next;
        }
        let mut parts = words(unit.text);
        let verb = parts.next().unwrap_or_default();
        let argument = parts.next();
        let command = if is_any(verb, &["CAPA"]) {
            Command::Capa
        } else if is_any(verb, &["STLS"]) {
            session.request(unit);
            self.push(session, Command::Stls);
            return Action::ExpectTls;
        } else if is_any(verb, &["USER", "PASS", "APOP"]) {
            session.credentials(unit, verb);
            Command::Other
        } else if is_any(verb, &["AUTH"]) {
            // AUTH alone lists the mechanisms (RFC 5034 section 4).
            match argument {
                Some(mechanism) => {
                    session.credentials(unit, &[verb, b" ", mechanism].concat());
                    Command::Auth
                }
                None => Command::MultiLine,
            }
        } else {
            if !is_any(verb, &["QUIT", "NOOP"]) {
                session.proceed(unit);
            }
            let listing = is_any(verb, &["LIST", "UIDL"]) && argument.is_none();
            if listing || is_any(verb, &["RETR", "TOP"]) {
                Command::MultiLine
            } else {
                Command::Other
            }
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
