//! FTP (RFC 959) with FEAT (RFC 2389) and AUTH TLS (RFC 4217).

use std::collections::VecDeque;

use crate::session::{Action, CapabilityRule, Session, Unit};
use crate::text::{is_any, numeric_reply, words};

/// The feature line that offers TLS. FEAT lines carry parameters, so only
/// overwritten or near-miss lines of this length are reported.
const RULE: CapabilityRule = CapabilityRule {
    keyword: "AUTH TLS",
    known: &["AUTH SSL", "MODE Z", "LANG EN"],
    atoms: false,
};

/// AUTH mechanisms that request TLS (RFC 4217 section 4, and the `SSL`,
/// `TLS-C` and `TLS-P` names of its drafts).
const TLS_MECHANISMS: &[&str] = &["TLS", "SSL", "TLS-C", "TLS-P"];

/// Commands that neither log in nor go on with the session.
const HARMLESS: &[&str] = &[
    "FEAT", "SYST", "HELP", "NOOP", "QUIT", "OPTS", "CLNT", "HOST",
];

/// Outstanding client commands kept for pairing with replies.
const MAX_PENDING: usize = 64;

/// A client command whose reply matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Feat,
    AuthTls,
    Other,
}

/// FTP dialogue state.
#[derive(Debug, Default)]
pub(crate) struct Ftp {
    greeted: bool,
    pending: VecDeque<Command>,
    /// Code of the multi-line reply being read (RFC 959 section 4.2).
    multi_line: Option<u16>,
}

impl Ftp {
    /// Creates the state for a dialogue whose greeting has or has not ended.
    pub(crate) fn new(greeted: bool) -> Self {
        Ftp {
            greeted,
            ..Ftp::default()
        }
    }

    pub(crate) fn server(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let command = self.pending.front().copied();
        let reply = numeric_reply(unit.text);
        if let Some(code) = self.multi_line {
            // Inner lines of a multi-line reply may start with anything;
            // only `code` followed by a space ends it.
            let Some(end) = reply.filter(|r| r.code == code && r.last) else {
                if command == Some(Command::Feat) && self.greeted {
                    session.capability(unit, feature_keyword(unit.text), RULE);
                }
                return Action::Next;
            };
            self.multi_line = None;
            return self.reply_end(session, unit, end.code);
        }
        let Some(reply) = reply else {
            return Action::Next;
        };
        if !reply.last {
            self.multi_line = Some(reply.code);
            if command == Some(Command::Feat) && self.greeted && reply.code == 211 {
                session.begin_capabilities(unit);
            }
            return Action::Next;
        }
        self.reply_end(session, unit, reply.code)
    }

    /// Handles the last line of a reply.
    fn reply_end(&mut self, session: &mut Session, unit: &Unit<'_>, code: u16) -> Action {
        // 1xx replies are preliminary and 120 may precede the greeting.
        if code < 200 {
            return Action::Next;
        }
        if !self.greeted {
            self.greeted = true;
            return Action::Next;
        }
        let Some(command) = self.pending.pop_front() else {
            return Action::Next;
        };
        match command {
            Command::Feat => session.end_capabilities(),
            // Some servers reply 334 to AUTH SSL, as drafts of RFC 4217 did.
            Command::AuthTls if code == 234 || code == 334 => {
                session.accept(unit);
                return Action::ExpectTls;
            }
            Command::AuthTls if code >= 400 => session.refuse(unit, Some(code)),
            _ => {}
        }
        Action::Next
    }

    pub(crate) fn client(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let mut parts = words(unit.text);
        let verb = parts.next().unwrap_or_default();
        let argument = parts.next().unwrap_or_default();
        let command = if is_any(verb, &["AUTH"]) && is_any(argument, TLS_MECHANISMS) {
            session.request(unit);
            self.push(session, Command::AuthTls);
            return Action::ExpectTls;
        } else if is_any(verb, &["FEAT"]) {
            Command::Feat
        } else if is_any(verb, &["USER", "PASS", "ACCT"]) {
            session.credentials(unit, verb);
            Command::Other
        } else {
            if !is_any(verb, HARMLESS) {
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

/// Returns the part of a FEAT line compared with [`RULE`]. Servers list
/// their mechanisms in one line (`AUTH TLS;SSL;`), which counts as `AUTH TLS`.
fn feature_keyword(line: &[u8]) -> &[u8] {
    let feature = line.trim_ascii();
    let mut parts = words(feature);
    let verb = parts.next().unwrap_or_default();
    let mechanisms = parts.next().unwrap_or_default();
    let offers_tls = mechanisms
        .split(|&b| b == b';')
        .any(|mechanism| is_any(mechanism, TLS_MECHANISMS));
    if is_any(verb, &["AUTH"]) && offers_tls {
        return RULE.keyword.as_bytes();
    }
    feature
}
