//! A strict, allocation-free walk over the members of one JSON object.
//!
//! `log show --style ndjson` writes each entry as a flat object: about twenty
//! members, most of them strings, one of them (`backtrace`) a small nested
//! object. The reader needs seven strings and five integers from it. Going
//! through serde costs a visitor call per key and per value. This walk finds
//! each member's key and value by their bytes and returns borrowed slices.
//!
//! The walk checks the JSON grammar of everything it passes over (strings and
//! their escapes, numbers, literals, nesting, what follows the object), so a
//! line it accepts is one serde_json would accept. When it meets anything it
//! does not handle itself, it gives up with `None`, and the caller parses the
//! line with serde_json, which then either reads it or names the error.

use memchr::memchr2;

/// Nesting deeper than this is left to serde_json, whose own limit (128
/// levels, the object itself included) then decides.
const MAX_DEPTH: usize = 100;

/// One member value, as far as the caller needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlatValue<'a> {
    /// A string's contents between the quotes, still escaped when `escaped`.
    Str {
        raw: &'a str,
        escaped: bool,
    },
    /// An integer without sign, fraction or exponent, as written.
    Unsigned(&'a str),
    Null,
    /// Any other value: a negative or fractional number, a boolean, an
    /// object or an array. Its grammar has been checked.
    Other,
}

/// Calls `member` for each member of the object in `text`, in order.
/// Returns `None` when `text` is not exactly one well-formed JSON object
/// (surrounding whitespace allowed), or when `member` returns `None`.
pub(crate) fn for_each_member<'a>(
    text: &'a str,
    mut member: impl FnMut(&'a str, FlatValue<'a>) -> Option<()>,
) -> Option<()> {
    let bytes = text.as_bytes();
    // Control characters are allowed only as whitespace between tokens. A
    // line without any (the usual case: a line cannot hold a raw newline)
    // needs no check inside each string.
    let walk = Walk {
        bytes,
        check_controls: bytes.iter().fold(false, |seen, &b| seen | (b < 0x20)),
    };
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return finish(bytes, at + 1);
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (key, escaped, after) = walk.string(at + 1)?;
        if escaped {
            // A key with escapes cannot be one of the names the caller
            // matches verbatim; let serde_json decide what it means.
            return None;
        }
        at = skip_space(bytes, after);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let (value, after) = walk.value(at)?;
        // Slices end on ASCII delimiters, so they are character boundaries.
        member(text.get(key)?, value.resolve(text)?)?;
        at = skip_space(bytes, after);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => return finish(bytes, at + 1),
            _ => return None,
        }
    }
}

/// A value found by [`Walk::value`], by byte range.
enum Found {
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Unsigned {
        start: usize,
        end: usize,
    },
    Null,
    Other,
}

impl Found {
    fn resolve(self, text: &str) -> Option<FlatValue<'_>> {
        Some(match self {
            Found::Str {
                start,
                end,
                escaped,
            } => FlatValue::Str {
                raw: text.get(start..end)?,
                escaped,
            },
            Found::Unsigned { start, end } => FlatValue::Unsigned(text.get(start..end)?),
            Found::Null => FlatValue::Null,
            Found::Other => FlatValue::Other,
        })
    }
}

/// Only whitespace may follow the object.
fn finish(bytes: &[u8], at: usize) -> Option<()> {
    (skip_space(bytes, at) == bytes.len()).then_some(())
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// Length of the escape whose letter is at `at` (after the backslash).
fn escape_len(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(1),
        b'u' => {
            let hex = bytes.get(at + 1..at + 5)?;
            hex.iter().all(u8::is_ascii_hexdigit).then_some(5)
        }
        _ => None,
    }
}

fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    (bytes.get(at..at + word.len())? == word).then_some(at + word.len())
}

/// Reads a number by the JSON grammar. Returns the position after it and
/// whether it is a plain unsigned integer.
fn number(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
    let digits = |at: usize| {
        bytes.get(at..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let mut at = start;
    let negative = bytes.get(at) == Some(&b'-');
    if negative {
        at += 1;
    }
    let whole = digits(at);
    if whole == 0 || (whole > 1 && bytes.get(at) == Some(&b'0')) {
        return None;
    }
    at += whole;
    let mut plain = !negative;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return None;
        }
        at += 1 + fraction;
        plain = false;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return None;
        }
        at += exponent;
        plain = false;
    }
    Some((at, plain))
}

/// The text being walked.
#[derive(Clone, Copy)]
struct Walk<'b> {
    bytes: &'b [u8],
    /// The text contains a byte below 0x20, so strings must be checked for one.
    check_controls: bool,
}

impl Walk<'_> {
    /// Reads the string whose contents start at `start` (after the opening
    /// quote). Returns the contents' range, whether it has escapes, and the
    /// position after the closing quote.
    fn string(self, start: usize) -> Option<(std::ops::Range<usize>, bool, usize)> {
        let bytes = self.bytes;
        let mut at = start;
        let mut escaped = false;
        loop {
            let hit = at + memchr2(b'"', b'\\', bytes.get(at..)?)?;
            if self.check_controls && bytes.get(at..hit)?.iter().any(|&b| b < 0x20) {
                return None;
            }
            if bytes.get(hit) == Some(&b'"') {
                return Some((start..hit, escaped, hit + 1));
            }
            escaped = true;
            at = hit + 1 + escape_len(bytes, hit + 1)?;
        }
    }

    /// Reads the value starting at `at`; returns it and the position after it.
    fn value(self, at: usize) -> Option<(Found, usize)> {
        let bytes = self.bytes;
        match bytes.get(at)? {
            b'"' => {
                let (range, escaped, after) = self.string(at + 1)?;
                let found = Found::Str {
                    start: range.start,
                    end: range.end,
                    escaped,
                };
                Some((found, after))
            }
            b'n' => literal(bytes, at, b"null").map(|after| (Found::Null, after)),
            b't' => literal(bytes, at, b"true").map(|after| (Found::Other, after)),
            b'f' => literal(bytes, at, b"false").map(|after| (Found::Other, after)),
            b'{' | b'[' => self.nested(at).map(|after| (Found::Other, after)),
            b'-' | b'0'..=b'9' => {
                let (after, plain) = number(bytes, at)?;
                let found = if plain {
                    Found::Unsigned {
                        start: at,
                        end: after,
                    }
                } else {
                    Found::Other
                };
                Some((found, after))
            }
            _ => None,
        }
    }

    /// Checks the object or array starting at `start` and returns the
    /// position after it, without recursion.
    fn nested(self, start: usize) -> Option<usize> {
        let bytes = self.bytes;
        // The open containers, innermost in the lowest bit: 1 for an object.
        let mut objects: u128 = 0;
        let mut depth = 0usize;
        let mut next = Next::FirstOrEnd;
        let mut at = start;
        loop {
            at = skip_space(bytes, at);
            let byte = *bytes.get(at)?;
            if depth > 0 {
                let object = objects & 1 == 1;
                let closer = if object { b'}' } else { b']' };
                match next {
                    Next::FirstOrEnd | Next::CommaOrEnd if byte == closer => {
                        objects >>= 1;
                        depth -= 1;
                        at += 1;
                        if depth == 0 {
                            return Some(at);
                        }
                        next = Next::CommaOrEnd;
                        continue;
                    }
                    Next::CommaOrEnd => {
                        if byte != b',' {
                            return None;
                        }
                        at += 1;
                        next = if object { Next::Key } else { Next::Value };
                        continue;
                    }
                    Next::Key | Next::FirstOrEnd if object => {
                        if byte != b'"' {
                            return None;
                        }
                        let (_, _, after) = self.string(at + 1)?;
                        at = skip_space(bytes, after);
                        if bytes.get(at) != Some(&b':') {
                            return None;
                        }
                        at += 1;
                        next = Next::Value;
                        continue;
                    }
                    _ => {}
                }
            }
            // A value: the container itself, or one inside it.
            if byte == b'{' || byte == b'[' {
                if depth >= MAX_DEPTH {
                    return None;
                }
                objects = (objects << 1) | u128::from(byte == b'{');
                depth += 1;
                next = Next::FirstOrEnd;
                at += 1;
                continue;
            }
            if depth == 0 {
                return None;
            }
            let (_, after) = self.value(at)?;
            at = after;
            next = Next::CommaOrEnd;
        }
    }
}

/// The token an open container expects next.
#[derive(Clone, Copy, PartialEq)]
enum Next {
    /// A value or the container's end (right after `[`), or a key or the
    /// end (right after `{`).
    FirstOrEnd,
    /// A member key (after `,` in an object).
    Key,
    /// A value (after `,` in an array, or after `:`).
    Value,
    /// `,` or the container's end.
    CommaOrEnd,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Option<Vec<(String, FlatValue<'_>)>> {
        let mut found = Vec::new();
        for_each_member(text, |key, value| {
            found.push((key.to_owned(), value));
            Some(())
        })?;
        Some(found)
    }

    #[test]
    fn reads_flat_members() {
        let text = r#" {"a":"x\"y","b":12,"c":null,"d":-1.5e3,"e":{"f":[1,{"g":true}],"h":[]},"i":"\u00e9"} "#;
        let found = members(text).unwrap();
        let keys: Vec<&str> = found.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "e", "i"]);
        assert_eq!(
            found[0].1,
            FlatValue::Str {
                raw: r#"x\"y"#,
                escaped: true
            }
        );
        assert_eq!(found[1].1, FlatValue::Unsigned("12"));
        assert_eq!(found[2].1, FlatValue::Null);
        assert_eq!(found[3].1, FlatValue::Other);
        assert_eq!(found[4].1, FlatValue::Other);
        assert_eq!(members("{}").unwrap().len(), 0);
    }

    /// Every text the walk accepts, serde_json accepts too.
    #[test]
    fn rejects_what_serde_json_rejects() {
        let bad = [
            "",
            "{",
            r#"{"a":1"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"{"a":"x\q"}"#,
            r#"{"a":"x\u12g4"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":{}}}"#,
            r#"{"a":1} x"#,
            r#"{"a":1}{"b":2}"#,
            r#"{a:1}"#,
        ];
        for text in bad {
            assert!(members(text).is_none(), "accepted {text:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?}"
            );
        }
        // Valid JSON, but not an object.
        assert!(members("[1]").is_none());
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(members(&deep).is_none());
        let good = [
            r#"{"a":{"b":[{"c":[[]]},{}],"d":"}"},"e":"\\"}"#,
            r#"{"a":-0,"b":0.5,"c":1E+2,"d":[true,false,null]}"#,
        ];
        for text in good {
            assert!(members(text).is_some(), "rejected {text:?}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
        }
    }

    #[test]
    fn stops_when_told() {
        let mut seen = 0;
        let result = for_each_member(r#"{"a":1,"b":2}"#, |_, _| {
            seen += 1;
            None
        });
        assert!(result.is_none());
        assert_eq!(seen, 1);
    }
}
