//! Relevance of a record to TLS, and the library that logged it.

use crate::Origin;

impl Origin<'_> {
    /// True for boringssl's own log: category `boringssl` (`BoringSSL`
    /// before Big Sur), subsystem `com.apple.network.boringssl`, or the
    /// `libboringssl.dylib` image.
    pub fn is_boringssl(&self) -> bool {
        self.category.eq_ignore_ascii_case("boringssl")
            || self.subsystem.ends_with(".boringssl")
            || image_name(self.sender_image).contains("boringssl")
    }

    /// True when the file name of the record's library image is one of
    /// `libraries`, or when the record does not name its image.
    pub(crate) fn logged_by(&self, libraries: &[&str]) -> bool {
        let name = image_name(self.sender_image);
        name.is_empty() || libraries.contains(&name)
    }
}

/// Returns the file name of an image path. Text exports give the name
/// alone, sometimes in parentheses.
fn image_name(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.trim_start_matches('(').trim_end_matches(')')
}

/// Returns true when a message can concern TLS: boringssl logged it, or
/// its text names TLS, SSL, trust or App Transport Security, or carries a
/// SecureTransport error (`-98xx`). [`parse`](crate::parse) reports such a
/// message as [`Parsed::Unknown`](crate::Parsed::Unknown) when no template
/// matches it.
///
/// The words are matched with their usual capitals (`TLS`, `SSL`, `Trust`,
/// `ATS`), so host names such as `gspe21-ssl.ls.apple.com` do not count.
/// The lower-case `tls` counts as a whole word, because libnetwork writes
/// its flag that way.
pub fn is_tls_relevant(origin: &Origin<'_>, message: &str) -> bool {
    origin.is_boringssl()
        || [
            "TLS",
            "SSL",
            "Trust",
            "TRUST",
            "trustd",
            "App Transport Security",
        ]
        .iter()
        .any(|word| message.contains(word))
        || contains_word(message, "ATS")
        || contains_word(message, "tls")
        || has_secure_transport_code(message)
}

/// True when `word` occurs with no ASCII letter or digit on either side.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].bytes().next_back();
        let after = text[at + word.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

/// True for `-98` followed by exactly two digits, not inside a longer number.
fn has_secure_transport_code(text: &str) -> bool {
    text.match_indices("-98").any(|(at, _)| {
        let tail = &text.as_bytes()[at + 3..];
        let two_digits = tail.len() >= 2 && tail[0].is_ascii_digit() && tail[1].is_ascii_digit();
        let longer = tail.get(2).is_some_and(|b| b.is_ascii_digit());
        let glued = text[..at]
            .bytes()
            .next_back()
            .is_some_and(|b| b.is_ascii_digit());
        two_digits && !longer && !glued
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Origin<'static> {
        Origin::default()
    }

    #[test]
    fn boringssl_origins() {
        let category = Origin {
            subsystem: "com.apple.network",
            category: "boringssl",
            ..Origin::default()
        };
        let old = Origin {
            subsystem: "com.apple.network.boringssl",
            category: "BoringSSL",
            ..Origin::default()
        };
        let image = Origin {
            sender_image: "/usr/lib/libboringssl.dylib",
            ..Origin::default()
        };
        assert!(category.is_boringssl());
        assert!(old.is_boringssl());
        assert!(image.is_boringssl());
        assert!(!plain().is_boringssl());
    }

    #[test]
    fn relevant_words() {
        let origin = plain();
        assert!(is_tls_relevant(&origin, "Connection 1: enabling TLS"));
        assert!(is_tls_relevant(&origin, "errSSLClosedNoNotify"));
        assert!(is_tls_relevant(&origin, "Trust evaluate failure: [leaf X]"));
        assert!(is_tls_relevant(&origin, "ATS failed system trust"));
        assert!(is_tls_relevant(&origin, "[C1 x:443 tcp, tls] new wording"));
        assert!(is_tls_relevant(
            &origin,
            "failed (error code: -1200 [3:-9838])"
        ));
    }

    #[test]
    fn unrelated_words() {
        let origin = plain();
        assert!(!is_tls_relevant(
            &origin,
            "getaddrinfo start -- hostname: gspe21-ssl.ls"
        ));
        assert!(!is_tls_relevant(&origin, "STATS updated"));
        assert!(!is_tls_relevant(&origin, "settlsmode"));
        assert!(!is_tls_relevant(&origin, "took -98123 ms"));
        assert!(!is_tls_relevant(&origin, "value 1-9802"));
        assert!(!is_tls_relevant(&origin, "trustpilot.com resolved"));
    }

    #[test]
    fn logged_by_image_name() {
        let cfnetwork = Origin {
            sender_image: "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork",
            ..Origin::default()
        };
        let app = Origin {
            sender_image: "/Applications/Example.app/Contents/MacOS/Example",
            ..Origin::default()
        };
        let text_export = Origin {
            sender_image: "(libboringssl.dylib)",
            ..Origin::default()
        };
        assert!(cfnetwork.logged_by(&["CFNetwork"]));
        assert!(!cfnetwork.logged_by(&["Network"]));
        assert!(!app.logged_by(&["CFNetwork"]));
        assert!(text_export.logged_by(&["libboringssl.dylib"]));
        assert!(plain().logged_by(&["CFNetwork"]));
    }
}
