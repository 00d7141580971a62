//! Hand-written scanning helpers shared by the producers' parsers.
//!
//! Every helper takes `&str` and returns `None` on anything it does not
//! expect. Numbers are checked digit by digit first, because Rust's integer
//! parsers also accept a leading `+`.

use crate::{ConnectionId, StreamError};

/// Parses a connection id: `C64.1.1:2`, `C60`, or macOS 10.13's `11.1`
/// without the `C`.
pub(crate) fn connection_id(text: &str) -> Option<ConnectionId> {
    let text = text.strip_prefix('C').unwrap_or(text);
    let (path, instance) = match text.split_once(':') {
        Some((path, instance)) => (path, Some(decimal::<u32>(instance)?)),
        None => (text, None),
    };
    let mut parts = path.split('.');
    let number = decimal::<u32>(parts.next()?)?;
    if !parts.all(is_digits) {
        return None;
    }
    Some(ConnectionId {
        number,
        path: path.to_owned(),
        instance,
    })
}

/// Splits `[inner]rest` into `inner` and `rest`, skipping nested `[...]`.
pub(crate) fn bracket(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('[')?;
    let mut depth = 0usize;
    for (at, byte) in body.bytes().enumerate() {
        match byte {
            b'[' => depth += 1,
            b']' if depth == 0 => return Some((&body[..at], &body[at + 1..])),
            b']' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// True for a `%p` pointer as Apple's `log` prints it (`0x7feefa660ef0`) or
/// as the `macos-unifiedlogs` crate does (`7FF737210920`).
pub(crate) fn is_pointer(text: &str) -> bool {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Parses unsigned decimal digits, with no sign.
pub(crate) fn decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    if !is_digits(text) {
        return None;
    }
    text.parse().ok()
}

/// Parses a decimal that may start with `-`.
pub(crate) fn signed(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !is_digits(digits) {
        return None;
    }
    text.parse().ok()
}

pub(crate) fn signed_i32(text: &str) -> Option<i32> {
    signed(text).and_then(|value| i32::try_from(value).ok())
}

/// Parses `0x0304` (the `0x` is required, as boringssl prints `0x%04x`).
pub(crate) fn hex_u16(text: &str) -> Option<u16> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// Reads a boolean written as `%d` (`0`, `1`) or `%{bool}d` (`false`, `true`).
pub(crate) fn flag(text: &str) -> Option<bool> {
    match text {
        "1" | "true" | "YES" => Some(true),
        "0" | "false" | "NO" => Some(false),
        _ => None,
    }
}

/// Leading digits of `text` and the rest.
pub(crate) fn leading_digits(text: &str) -> (&str, &str) {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Leading optionally negative number of `text` and the rest.
pub(crate) fn leading_signed(text: &str) -> Option<(i64, &str)> {
    let sign = usize::from(text.starts_with('-'));
    let (digits, rest) = leading_digits(&text[sign..]);
    let value = signed(&text[..sign + digits.len()])?;
    Some((value, rest))
}

/// Parses a CFStream error pair `3:-9802`.
pub(crate) fn stream_error(text: &str) -> Option<StreamError> {
    let (domain, code) = text.split_once(':')?;
    Some(StreamError {
        domain: signed_i32(domain)?,
        code: signed_i32(code)?,
    })
}

/// Reads a leading `3:-9802` and returns it with the rest of `text`.
pub(crate) fn leading_stream_error(text: &str) -> Option<(StreamError, &str)> {
    let (domain, rest) = leading_signed(text)?;
    let (code, rest) = leading_signed(rest.strip_prefix(':')?)?;
    let error = StreamError {
        domain: i32::try_from(domain).ok()?,
        code: i32::try_from(code).ok()?,
    };
    Some((error, rest))
}

/// Normalises a UUID to 32 upper-case hex digits without dashes. Accepts
/// the 32-digit form and the dashed 8-4-4-4-12 form.
pub(crate) fn uuid(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let dashed = bytes.len() == 36 && [8, 13, 18, 23].iter().all(|&at| bytes[at] == b'-');
    if !(bytes.len() == 32 || dashed) {
        return None;
    }
    let digits: String = text.chars().filter(|&c| c != '-').collect();
    if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(digits.to_ascii_uppercase())
}

/// Parses `Task <UUID>.<n>` at the start of `text` into the normalised
/// `UUID.<n>` and the rest after one space.
pub(crate) fn task_id(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix("Task <")?;
    let (raw_uuid, rest) = rest.split_once(">.<")?;
    let (number, rest) = rest.split_once('>')?;
    if !is_digits(number) {
        return None;
    }
    let task = format!("{}.<{number}>", uuid(raw_uuid)?);
    Some((task, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// Splits a libnetwork endpoint into host and port: `host:443`,
/// `IPv4#2fe5e49d:443`, or an IPv6 form with a `.` before the port
/// (`IPv6#297a0349.443`, `2001:db8::1.443`).
pub(crate) fn endpoint(text: &str) -> Option<(&str, u16)> {
    let ipv6 = text.starts_with("IPv6#") || text.matches(':').count() > 1;
    let separator = if ipv6 { '.' } else { ':' };
    let (host, port) = text.rsplit_once(separator)?;
    if host.is_empty() {
        return None;
    }
    Some((host, decimal(port)?))
}

/// True for an endpoint the log has redacted: `<private>`, or an IPv6
/// `<private>.49154` with its port.
pub(crate) fn is_redacted(text: &str) -> bool {
    text.starts_with("<private>")
}

/// Converts `0.211` (seconds with a fraction, as libnetwork prints
/// `%u.%03us`) to whole milliseconds.
pub(crate) fn seconds_to_ms(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole: u64 = decimal(whole)?;
    let mut millis = 0u64;
    for (place, digit) in [100, 10, 1].into_iter().zip(fraction.bytes()) {
        if !digit.is_ascii_digit() {
            return None;
        }
        millis += place * u64::from(digit - b'0');
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.checked_mul(1000)?.checked_add(millis)
}

/// Iterates over `name(value)` fields as boringssl writes them in
/// `TLS connected [...]` and `TLS configured [...]`: separated by spaces
/// (and once by `, `), values may hold balanced parentheses. Iteration
/// stops at the closing `]` or at the first malformed field, so a message
/// cut short still yields the fields before the cut.
pub(crate) fn fields(list: &str) -> Fields<'_> {
    Fields { rest: list }
}

pub(crate) struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.rest.trim_start_matches([' ', ',']);
        let open = text.find('(')?;
        let name = &text[..open];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.rest = "";
            return None;
        }
        let Some(close) = closing_paren(&text[open..]) else {
            self.rest = "";
            return None;
        };
        let value = &text[open + 1..open + close];
        self.rest = &text[open + close + 1..];
        Some((name, value))
    }
}

/// Offset of the `)` that closes the `(` at the start of `text`.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// Returns `value`, or `None` for what boringssl prints for an absent or
/// redacted string: empty, `(null)` or `<private>`.
pub(crate) fn present(value: &str) -> Option<&str> {
    match value {
        "" | "(null)" | "<private>" => None,
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_id_forms() {
        let id = connection_id("C64.1.1:2").unwrap();
        assert_eq!(id.number, 64);
        assert_eq!(id.path, "64.1.1");
        assert_eq!(id.instance, Some(2));
        assert_eq!(connection_id("C60").unwrap().instance, None);
        assert_eq!(connection_id("11.1").unwrap().number, 11);
        assert_eq!(connection_id("C2:1").unwrap().path, "2");
    }

    #[test]
    fn connection_id_rejects() {
        for text in [
            "C",
            "C.1",
            "C1..2",
            "C1:",
            "C1:x",
            "C+1",
            "R372",
            "C1 2",
            "C99999999999",
        ] {
            assert_eq!(connection_id(text), None, "{text}");
        }
    }

    #[test]
    fn bracket_nested() {
        assert_eq!(bracket("[a [b] c] d"), Some(("a [b] c", " d")));
        assert_eq!(bracket("[a"), None);
        assert_eq!(bracket("a]"), None);
    }

    #[test]
    fn pointer_forms() {
        assert!(is_pointer("0x7feefa660ef0"));
        assert!(is_pointer("7FF737210920"));
        assert!(!is_pointer("0x"));
        assert!(!is_pointer("boringssl_session_read"));
    }

    #[test]
    fn numbers_reject_signs() {
        assert_eq!(decimal::<u32>("+5"), None);
        assert_eq!(signed("-9802"), Some(-9802));
        assert_eq!(signed("+9802"), None);
        assert_eq!(signed("-"), None);
        assert_eq!(hex_u16("0x0304"), Some(0x0304));
        assert_eq!(hex_u16("0x+304"), None);
        assert_eq!(hex_u16("0x10000"), None);
        assert_eq!(hex_u16("0304"), None);
    }

    #[test]
    fn stream_error_pairs() {
        let error = stream_error("3:-9802").unwrap();
        assert_eq!((error.domain, error.code), (3, -9802));
        let (error, rest) = leading_stream_error("-1:5, reason -1").unwrap();
        assert_eq!((error.domain, error.code), (-1, 5));
        assert_eq!(rest, ", reason -1");
        assert_eq!(stream_error("3:"), None);
    }

    #[test]
    fn uuid_forms() {
        let dashed = uuid("69684aa9-BAB1-4D0B-A5DF-247EB0ED148C").unwrap();
        assert_eq!(dashed, "69684AA9BAB14D0BA5DF247EB0ED148C");
        assert_eq!(uuid("69684AA9BAB14D0BA5DF247EB0ED148C").unwrap(), dashed);
        assert_eq!(uuid("69684AA9-BAB14D0B-A5DF-247EB0ED148C"), None);
        assert_eq!(uuid("69684AA9BAB14D0BA5DF247EB0ED148G"), None);
    }

    #[test]
    fn task_id_normalised() {
        let (task, rest) =
            task_id("Task <69684AA9-BAB1-4D0B-A5DF-247EB0ED148C>.<12> response ended").unwrap();
        assert_eq!(task, "69684AA9BAB14D0BA5DF247EB0ED148C.<12>");
        assert_eq!(rest, "response ended");
        assert_eq!(task_id("Task <69684AA9>.<1> x"), None);
        assert_eq!(
            task_id("Task <69684AA9BAB14D0BA5DF247EB0ED148C>.<x> y"),
            None
        );
    }

    #[test]
    fn endpoint_forms() {
        assert_eq!(endpoint("23.64.70.122:443"), Some(("23.64.70.122", 443)));
        assert_eq!(endpoint("IPv4#2fe5e49d:443"), Some(("IPv4#2fe5e49d", 443)));
        assert_eq!(endpoint("IPv6#297a0349.443"), Some(("IPv6#297a0349", 443)));
        assert_eq!(endpoint("2001:db8::1.443"), Some(("2001:db8::1", 443)));
        assert_eq!(endpoint("host:99999"), None);
        assert_eq!(endpoint(":443"), None);
    }

    #[test]
    fn seconds_to_ms_values() {
        assert_eq!(seconds_to_ms("0.211"), Some(211));
        assert_eq!(seconds_to_ms("50.8"), Some(50_800));
        assert_eq!(seconds_to_ms("3"), Some(3000));
        assert_eq!(seconds_to_ms("0.2x1"), None);
        assert_eq!(seconds_to_ms("0.2119"), Some(211));
        assert_eq!(seconds_to_ms("99999999999999999999"), None);
    }

    #[test]
    fn fields_in_any_layout() {
        let list = "a(1) b(x (y)) c(<private>), d(true)] tail";
        let found: Vec<_> = fields(list).collect();
        assert_eq!(
            found,
            [
                ("a", "1"),
                ("b", "x (y)"),
                ("c", "<private>"),
                ("d", "true")
            ]
        );
    }

    #[test]
    fn fields_stop_at_cut() {
        let found: Vec<_> = fields("a(1) b(2) c(3").collect();
        assert_eq!(found, [("a", "1"), ("b", "2")]);
        assert_eq!(fields("a(1)) b(2)").count(), 1);
    }
}
