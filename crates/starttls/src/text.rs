//! Small helpers over command and reply lines.

/// Splits a line into words separated by spaces or tabs, skipping empty ones.
pub(crate) fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|word| !word.is_empty())
}

/// Returns the first word of a line, or an empty slice.
pub(crate) fn first_word(line: &[u8]) -> &[u8] {
    words(line).next().unwrap_or_default()
}

/// True when `word` equals any of `names`, ignoring ASCII case.
pub(crate) fn is_any(word: &[u8], names: &[&str]) -> bool {
    names
        .iter()
        .any(|name| word.eq_ignore_ascii_case(name.as_bytes()))
}

/// True when `line` starts with `prefix`, ignoring ASCII case.
pub(crate) fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// True when `haystack` contains `needle`, ignoring ASCII case.
pub(crate) fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Decodes the first `max_len` bytes of `bytes` as UTF-8 with replacement
/// characters, so a character cut at the limit becomes U+FFFD.
pub(crate) fn lossy(bytes: &[u8], max_len: usize) -> String {
    let text = String::from_utf8_lossy(bytes.get(..max_len).unwrap_or(bytes));
    text.into_owned()
}

/// True when a line contains control bytes (other than tab) or invalid UTF-8.
pub(crate) fn is_binary(line: &[u8]) -> bool {
    let control = line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
    control || std::str::from_utf8(line).is_err()
}

/// A numeric reply line of SMTP (RFC 5321 section 4.2) or FTP (RFC 959
/// section 4.2): three digits, then `-` on every line of a multi-line reply
/// but the last, then text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumericReply<'a> {
    /// The three-digit code.
    pub code: u16,
    /// False when the separator is `-`, so more lines of the reply follow.
    pub last: bool,
    /// The text after the separator.
    pub text: &'a [u8],
}

/// Parses a numeric reply line, or returns `None` when it does not start
/// with three digits followed by a space, a `-` or the end of the line.
pub(crate) fn numeric_reply(line: &[u8]) -> Option<NumericReply<'_>> {
    let digits = line.get(..3)?;
    let code = u16::try_from(parse_decimal(digits)?).ok()?;
    let (last, text) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, line.get(4..).unwrap_or_default()),
        Some(b'-') => (false, line.get(4..).unwrap_or_default()),
        Some(_) => return None,
    };
    Some(NumericReply { code, last, text })
}

/// Parses a trailing IMAP literal announcement, `{n}` or `{n+}` (RFC 9051
/// section 4.3), and returns `n`: the count of raw bytes after the line.
pub(crate) fn imap_literal(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = inner.get(open.checked_add(1)?..)?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    parse_decimal(digits)
}

/// Parses ASCII decimal digits into a number, or `None` when empty, not
/// digits or too large.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let digit = d.checked_sub(b'0').filter(|&v| v < 10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_reply_forms() {
        let last = numeric_reply(b"250 OK").unwrap();
        assert_eq!(last.code, 250);
        assert!(last.last);
        assert_eq!(last.text, b"OK");
        let more = numeric_reply(b"250-STARTTLS").unwrap();
        assert!(!more.last);
        assert_eq!(more.text, b"STARTTLS");
        assert_eq!(numeric_reply(b"250").map(|r| r.last), Some(true));
        assert_eq!(numeric_reply(b"25x OK"), None);
        assert_eq!(numeric_reply(b"2500 OK"), None);
        assert_eq!(numeric_reply(b" 250 OK"), None);
    }

    #[test]
    fn imap_literal_forms() {
        assert_eq!(imap_literal(b"a LOGIN {5}"), Some(5));
        assert_eq!(imap_literal(b"* 1 FETCH (BODY[] {1024+}"), Some(1024));
        assert_eq!(imap_literal(b"a LOGIN {x}"), None);
        assert_eq!(imap_literal(b"a LOGIN {}"), None);
        assert_eq!(imap_literal(b"a LOGIN {99999999999999999999}"), None);
        assert_eq!(imap_literal(b"no literal"), None);
    }

    #[test]
    fn lossy_cuts_on_limit() {
        assert_eq!(lossy(b"abcdef", 3), "abc");
        assert_eq!(lossy(b"ab", 3), "ab");
        assert_eq!(lossy(&[0xff, b'a'], 8), "\u{fffd}a");
    }

    #[test]
    fn binary_line_detection() {
        assert!(!is_binary(b"250 OK\tfine"));
        assert!(is_binary(b"250 \x00K"));
        assert!(is_binary(&[0xc3]));
    }
}
