//! IMAP (RFC 9051, RFC 3501) with STARTTLS (RFC 9051 section 6.2.1).

use crate::session::{Action, CapabilityRule, Session, Unit};
use crate::text::{imap_literal, is_any, starts_with_ignore_case, words};

/// The STARTTLS capability, and the IMAP capabilities of the same length
/// from the IANA "IMAP Capabilities" registry. Capabilities with a value
/// (`AUTH=PLAIN`) are compared by the name before `=`.
const RULE: CapabilityRule = CapabilityRule {
    keyword: "STARTTLS",
    known: &[
        "CHILDREN", "LITERAL+", "LITERAL-", "UNSELECT", "METADATA", "CATENATE", "OBJECTID",
        "SAVEDATE", "LANGUAGE", "COMPRESS", "QUOTASET",
    ],
    atoms: true,
};

/// Commands that neither log in nor go on with the session.
const HARMLESS: &[&str] = &["CAPABILITY", "NOOP", "LOGOUT", "ID"];

/// IMAP dialogue state.
#[derive(Debug, Default)]
pub(crate) struct Imap {
    /// Tag of the client's STARTTLS command.
    starttls_tag: Option<Vec<u8>>,
    /// Tag of an AUTHENTICATE command still running: client lines are SASL
    /// responses until its tagged reply.
    sasl_tag: Option<Vec<u8>>,
}

impl Imap {
    pub(crate) fn server(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let mut parts = words(unit.text);
        let tag = parts.next().unwrap_or_default();
        let status = parts.next().unwrap_or_default();
        if tag == b"*" {
            if is_any(status, &["CAPABILITY"]) {
                capability_list(session, unit, parts);
            } else if is_any(status, &["OK", "PREAUTH"]) {
                session.greeting(unit);
                response_code_capabilities(session, unit);
            }
        } else if tag != b"+" && self.tagged(session, unit, tag, status) {
            return Action::ExpectTls;
        }
        literal_skip(unit.text)
    }

    /// Handles a tagged reply, and returns true when it accepts STARTTLS.
    fn tagged(
        &mut self,
        session: &mut Session,
        unit: &Unit<'_>,
        tag: &[u8],
        status: &[u8],
    ) -> bool {
        if self.sasl_tag.as_deref() == Some(tag) {
            self.sasl_tag = None;
        }
        if self.starttls_tag.as_deref() != Some(tag) {
            // A tagged OK after login may list capabilities too, but by
            // then the client has gone on, so the session ignores it.
            response_code_capabilities(session, unit);
            return false;
        }
        self.starttls_tag = None;
        if is_any(status, &["OK"]) {
            session.accept(unit);
            return true;
        }
        if is_any(status, &["NO", "BAD"]) {
            session.refuse(unit, None);
        }
        false
    }

    pub(crate) fn client(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let skip = literal_skip(unit.text);
        if self.sasl_tag.is_some() {
            return skip;
        }
        let mut parts = words(unit.text);
        let tag = parts.next().unwrap_or_default();
        let command = parts.next().unwrap_or_default();
        if tag.is_empty() || command.is_empty() {
            // The rest of a command line after a literal, or a blank line.
            return skip;
        }
        if is_any(command, &["STARTTLS"]) {
            session.request(unit);
            self.starttls_tag = Some(tag.to_vec());
            return Action::ExpectTls;
        }
        if is_any(command, &["LOGIN"]) {
            session.credentials(unit, command);
        } else if is_any(command, &["AUTHENTICATE"]) {
            let mechanism = parts.next().unwrap_or_default();
            session.credentials(unit, &[command, b" ", mechanism].concat());
            self.sasl_tag = Some(tag.to_vec());
        } else if !is_any(command, HARMLESS) {
            session.proceed(unit);
        }
        skip
    }
}

/// Reads the capabilities of a `* CAPABILITY` line.
fn capability_list<'a>(
    session: &mut Session,
    unit: &Unit<'_>,
    atoms: impl Iterator<Item = &'a [u8]>,
) {
    session.begin_capabilities(unit);
    for atom in atoms {
        let item = Unit {
            text: atom,
            ..*unit
        };
        let name = atom.split(|&b| b == b'=').next().unwrap_or_default();
        session.capability(&item, name, RULE);
    }
    session.end_capabilities();
}

/// Reads a `[CAPABILITY ...]` response code (RFC 9051 section 7.1), as
/// servers put in their greeting.
fn response_code_capabilities(session: &mut Session, unit: &Unit<'_>) {
    let Some(open) = unit.text.iter().position(|&b| b == b'[') else {
        return;
    };
    let code = unit.text.get(open.saturating_add(1)..).unwrap_or_default();
    if !starts_with_ignore_case(code, b"CAPABILITY ") {
        return;
    }
    let close = code.iter().position(|&b| b == b']').unwrap_or(code.len());
    let atoms = code.get(..close).unwrap_or_default();
    capability_list(session, unit, words(atoms).skip(1));
}

/// Returns the raw bytes a trailing literal announces, to be skipped.
fn literal_skip(line: &[u8]) -> Action {
    match imap_literal(line) {
        Some(size) => Action::Skip(size),
        None => Action::Next,
    }
}
