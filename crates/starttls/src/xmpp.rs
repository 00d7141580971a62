//! XMPP (RFC 6120) STARTTLS negotiation (section 5) and SASL (section 6).
//!
//! The reader splits XMPP at every `>`, so each unit ends with one tag,
//! possibly after character data. This is not an XML parser: it reads tag
//! names and `xmlns` attributes, which is all the negotiation needs.

use crate::session::{Action, CapabilityRule, Session, Unit};
use crate::text::{contains_ignore_case, starts_with_ignore_case};

/// The `<starttls/>` stream feature. Feature names are arbitrary qualified
/// names, so only overwritten or near-miss names are reported.
const RULE: CapabilityRule = CapabilityRule {
    keyword: "starttls",
    known: &["register"],
    atoms: false,
};

/// Namespace of the STARTTLS elements (RFC 6120 section 5.4).
const TLS_NAMESPACE: &[u8] = b"urn:ietf:params:xml:ns:xmpp-tls";

/// One tag read from the end of a unit.
#[derive(Debug, Clone, Copy)]
struct Tag<'a> {
    /// The qualified name, such as `stream:features`.
    name: &'a [u8],
    /// `</name>`.
    closing: bool,
    /// `<name/>`.
    empty: bool,
    /// The tag from `<` to `>`.
    text: &'a [u8],
}

impl Tag<'_> {
    /// Returns the name without its prefix.
    fn local_name(&self) -> &[u8] {
        let after = self.name.iter().rposition(|&b| b == b':');
        let start = after.map_or(0, |colon| colon.saturating_add(1));
        self.name.get(start..).unwrap_or_default()
    }

    fn is(&self, local: &str) -> bool {
        self.local_name().eq_ignore_ascii_case(local.as_bytes())
    }

    /// True when the tag's text contains `namespace` (in `xmlns` or a prefix declaration).
    fn has_namespace(&self, namespace: &[u8]) -> bool {
        contains_ignore_case(self.text, namespace)
    }

    /// Returns the value of attribute `name`, quoted with `'` or `"`.
    fn attribute(&self, name: &str) -> Option<&[u8]> {
        let key = [b" ", name.as_bytes(), b"="].concat();
        let at = self
            .text
            .windows(key.len())
            .position(|window| window == key.as_slice())?;
        let rest = self.text.get(at.checked_add(key.len())?..)?;
        let quote = *rest.first()?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let value = rest.get(1..)?;
        let end = value.iter().position(|&b| b == quote)?;
        value.get(..end)
    }
}

/// Reads the tag that ends a unit, or `None` for declarations, comments
/// and text without a tag.
fn parse_tag(unit: &[u8]) -> Option<Tag<'_>> {
    let open = unit.iter().rposition(|&b| b == b'<')?;
    let text = unit.get(open..)?;
    let inner = text.strip_prefix(b"<")?.strip_suffix(b">")?;
    if inner.starts_with(b"?") || inner.starts_with(b"!") {
        return None;
    }
    let closing = inner.starts_with(b"/");
    let empty = inner.ends_with(b"/");
    let body = inner.strip_prefix(b"/").unwrap_or(inner);
    let end = body
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/')
        .unwrap_or(body.len());
    let name = body.get(..end).unwrap_or_default();
    if name.is_empty() {
        return None;
    }
    Some(Tag {
        name,
        closing,
        empty,
        text,
    })
}

/// XMPP negotiation state.
#[derive(Debug, Default)]
pub(crate) struct Xmpp {
    /// Element depth inside `<stream:features>`, when reading one.
    features_depth: Option<u32>,
}

impl Xmpp {
    pub(crate) fn server(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let Some(tag) = parse_tag(unit.text) else {
            return Action::Next;
        };
        if let Some(depth) = self.features_depth {
            self.feature(session, unit, &tag, depth);
            return Action::Next;
        }
        if tag.closing {
            return Action::Next;
        }
        if tag.is("stream") {
            session.greeting(&Unit {
                text: tag.text,
                ..*unit
            });
        } else if tag.is("features") {
            session.begin_capabilities(unit);
            if tag.empty {
                session.end_capabilities();
            } else {
                self.features_depth = Some(0);
            }
        } else if tag.is("proceed") && tag.has_namespace(TLS_NAMESPACE) {
            session.accept(unit);
            return Action::ExpectTls;
        } else if tag.is("failure") && tag.has_namespace(TLS_NAMESPACE) {
            session.refuse(unit, None);
        }
        Action::Next
    }

    /// Reads one tag inside `<stream:features>`. Its children at depth 0 are the features.
    fn feature(&mut self, session: &mut Session, unit: &Unit<'_>, tag: &Tag<'_>, depth: u32) {
        if tag.closing {
            if depth == 0 {
                session.end_capabilities();
                self.features_depth = None;
            } else {
                self.features_depth = Some(depth.saturating_sub(1));
            }
            return;
        }
        if depth == 0 {
            let feature = Unit {
                text: tag.text,
                ..*unit
            };
            session.capability(&feature, tag.local_name(), RULE);
        }
        if !tag.empty {
            self.features_depth = Some(depth.saturating_add(1));
        }
    }

    pub(crate) fn client(&mut self, session: &mut Session, unit: &Unit<'_>) -> Action {
        let Some(tag) = parse_tag(unit.text) else {
            return Action::Next;
        };
        if tag.closing {
            return Action::Next;
        }
        if tag.is("starttls") {
            session.request(&Unit {
                text: tag.text,
                ..*unit
            });
            return Action::ExpectTls;
        }
        if tag.is("auth") {
            let mechanism = tag.attribute("mechanism").unwrap_or_default();
            session.credentials(unit, &[b"auth mechanism=", mechanism].concat());
        } else if tag.is("password") || starts_with_ignore_case(tag.local_name(), b"digest") {
            // Non-SASL authentication, jabber:iq:auth (XEP-0078).
            session.credentials(unit, tag.local_name());
        } else if tag.is("iq") || tag.is("message") || tag.is("presence") {
            session.proceed(unit);
        }
        Action::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_forms() {
        let tag = parse_tag(b"text</mechanism>").unwrap();
        assert!(tag.closing);
        assert_eq!(tag.name, b"mechanism");
        let tag = parse_tag(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").unwrap();
        assert!(tag.empty);
        assert!(tag.has_namespace(TLS_NAMESPACE));
        let tag = parse_tag(b"<stream:features>").unwrap();
        assert_eq!(tag.local_name(), b"features");
        assert!(parse_tag(b"<?xml version='1.0'?>").is_none());
        assert!(parse_tag(b"<>").is_none());
        assert!(parse_tag(b"no tag").is_none());
    }

    #[test]
    fn attribute_values() {
        let tag = parse_tag(b"<auth xmlns='x' mechanism=\"PLAIN\">").unwrap();
        assert_eq!(tag.attribute("mechanism"), Some(&b"PLAIN"[..]));
        assert_eq!(tag.attribute("missing"), None);
    }
}
