//! Line reading shared by the JSON Lines and TSV readers.

use std::fmt;
use std::io::BufRead;

/// Bad lines quoted word for word per input at most; the rest are counted.
pub const MAX_EXAMPLES: usize = 10;

/// Maximum line length read whole, in bytes. A longer line is skipped as
/// bad rather than kept in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The unit that an input's record numbers count: text lines, or database rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordUnit {
    #[default]
    Line,
    Row,
}

impl RecordUnit {
    /// Returns the word used before a number in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordUnit::Line => "line",
            RecordUnit::Row => "row",
        }
    }
}

/// A line (or database row) that could not be read, by its 1-based number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub unit: RecordUnit,
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.unit.as_str(), self.line, self.reason)
    }
}

/// Counts from reading one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Lines (or database rows) read.
    pub lines: u64,
    /// Typed records handed on.
    pub records: u64,
    /// Lines skipped on purpose: comments, other event types, removed rows.
    pub skipped: u64,
    /// Lines that could not be read.
    pub bad_lines: u64,
    /// The first [`MAX_EXAMPLES`] of those.
    pub bad_examples: Vec<LineError>,
    /// The unit of `lines` and of the example numbers.
    pub unit: RecordUnit,
}

impl ReadStats {
    /// Counts a bad line and keeps it as an example while few.
    pub fn bad(&mut self, line: u64, reason: impl Into<String>) {
        self.bad_lines += 1;
        if self.bad_examples.len() < MAX_EXAMPLES {
            self.bad_examples.push(LineError {
                line,
                unit: self.unit,
                reason: reason.into(),
            });
        }
    }
}

/// Calls `each` with every line of `input` (without its line break) and
/// its 1-based number. Lines longer than [`MAX_LINE_BYTES`] and lines
/// that are not UTF-8 are counted as bad in `stats`. Returns the error
/// that stopped reading, if any.
pub fn for_each_line<R: BufRead>(
    mut input: R,
    stats: &mut ReadStats,
    mut each: impl FnMut(&str, u64, &mut ReadStats),
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut number = 0u64;
    loop {
        buffer.clear();
        let read = read_limited(&mut input, &mut buffer)?;
        if read.bytes == 0 {
            return Ok(());
        }
        number += 1;
        stats.lines += 1;
        if read.overlong {
            stats.bad(number, format!("line longer than {MAX_LINE_BYTES} bytes"));
            continue;
        }
        let line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match std::str::from_utf8(line) {
            Ok(text) => each(text, number, stats),
            Err(err) => stats.bad(number, format!("not UTF-8: {err}")),
        }
    }
}

struct LineRead {
    bytes: usize,
    overlong: bool,
}

/// Reads up to the next newline, keeping at most [`MAX_LINE_BYTES`].
fn read_limited<R: BufRead>(input: &mut R, buffer: &mut Vec<u8>) -> std::io::Result<LineRead> {
    let mut bytes = 0;
    let mut overlong = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            return Ok(LineRead { bytes, overlong });
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if !overlong && buffer.len() + take <= MAX_LINE_BYTES + 1 {
            buffer.extend_from_slice(&available[..take]);
        } else {
            overlong = true;
            buffer.clear();
        }
        input.consume(take);
        bytes += take;
        if done {
            return Ok(LineRead { bytes, overlong });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_trimmed() {
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        for_each_line(&b"a\r\nb\n\nc"[..], &mut stats, |line, n, _| {
            seen.push((line.to_owned(), n))
        })
        .unwrap();
        let expected = [("a", 1), ("b", 2), ("", 3), ("c", 4)];
        let expected: Vec<_> = expected.iter().map(|(l, n)| (l.to_string(), *n)).collect();
        assert_eq!(seen, expected);
        assert_eq!(stats.lines, 4);
    }

    #[test]
    fn invalid_utf8_is_a_bad_line() {
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        for_each_line(&b"\xff\xfe\nok\n"[..], &mut stats, |line, _, _| {
            seen.push(line.to_owned())
        })
        .unwrap();
        assert_eq!(seen, vec!["ok"]);
        assert_eq!(stats.bad_lines, 1);
        assert_eq!(stats.bad_examples[0].line, 1);
    }

    #[test]
    fn overlong_line_is_skipped() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 5];
        input.extend_from_slice(b"\nshort\n");
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        for_each_line(&input[..], &mut stats, |line, n, _| {
            seen.push((line.to_owned(), n))
        })
        .unwrap();
        assert_eq!(seen, vec![("short".to_owned(), 2)]);
        assert_eq!(stats.bad_lines, 1);
    }
}
