//! Finds where one JSON value ends without parsing it, across buffer refills.

use memchr::memchr2;

/// Scanning state of one JSON value whose first byte has been seen.
///
/// The value may arrive in pieces: [`ValueScan::scan`] takes the bytes from
/// where the last call stopped and remembers open strings, escapes and
/// nesting depth in between.
#[derive(Debug, Default)]
pub(crate) struct ValueScan {
    depth: usize,
    in_string: bool,
    /// The previous piece ended with the backslash of an escape.
    escaped: bool,
    /// The value is a number, `true`, `false` or `null`.
    scalar: bool,
    started: bool,
}

impl ValueScan {
    /// Scans `bytes`, which continue the value. Returns the length of the
    /// value's remaining part within `bytes` when the value ends in it.
    ///
    /// A scalar ends before the first `,`, `]`, `}` or whitespace, so it only
    /// ends once one of those bytes has been seen.
    pub(crate) fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        if !self.started {
            let &first = bytes.first()?;
            self.started = true;
            self.scalar = !matches!(first, b'{' | b'[' | b'"');
        }
        if self.escaped {
            if bytes.is_empty() {
                return None;
            }
            self.escaped = false;
            i = 1;
        }
        while i < bytes.len() {
            if self.in_string {
                let at = memchr2(b'"', b'\\', &bytes[i..])?;
                i += at;
                if bytes[i] == b'\\' {
                    if i + 1 == bytes.len() {
                        self.escaped = true;
                        return None;
                    }
                    i += 2;
                    continue;
                }
                self.in_string = false;
                i += 1;
                if self.depth == 0 {
                    return Some(i);
                }
                continue;
            }
            let byte = bytes[i];
            if self.scalar {
                if matches!(byte, b',' | b']' | b'}') || byte.is_ascii_whitespace() {
                    return Some(i);
                }
                i += 1;
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_whole(text: &[u8]) -> Option<usize> {
        ValueScan::default().scan(text)
    }

    #[test]
    fn object_ends_at_matching_brace() {
        assert_eq!(scan_whole(br#"{"a":{"b":"}"},"c":[1,2]} ,"#), Some(25));
        assert_eq!(scan_whole(br#"{"a":"x\"}"} tail"#), Some(12));
    }

    #[test]
    fn strings_and_scalars_end() {
        assert_eq!(scan_whole(br#""ab\"c","#), Some(7));
        assert_eq!(scan_whole(b"12345,"), Some(5));
        assert_eq!(scan_whole(b"true]"), Some(4));
        assert_eq!(scan_whole(b"12345"), None);
    }

    #[test]
    fn open_object_needs_more() {
        assert_eq!(scan_whole(br#"{"a":{"b":1}"#), None);
    }

    #[test]
    fn scan_resumes_across_pieces() {
        let text = br#"{"key":"va\"lue\\","n":{"x":[1,"]"]}} rest"#;
        for split in 0..text.len() {
            let mut scan = ValueScan::default();
            let (head, tail) = text.split_at(split);
            let found = match scan.scan(head) {
                Some(end) => Some(end),
                None => scan.scan(tail).map(|end| split + end),
            };
            assert_eq!(found, Some(37), "split at {split}");
        }
    }
}
