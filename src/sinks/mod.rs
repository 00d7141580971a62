//! Sinks: where alerts and observations go.

mod jsonl;
mod stream;
mod table;

pub use jsonl::{AlertLines, ObservationLines};
pub use stream::AlertStream;
pub use table::AlertTable;

use std::borrow::Cow;
use std::io;

use crate::detections::Alert;
use crate::observations::{
    EndpointConnection, FileCheck, HttpTransfer, ObjectSighting, StarttlsDialogue, TlsSession,
};

/// Receives results: sessions in order of start time, HTTP transfers in
/// the order their responses ended.
pub trait Sink {
    /// Receives one completed session observation.
    fn session(&mut self, _session: &TlsSession) -> io::Result<()> {
        Ok(())
    }
    /// Receives one HTTP transfer, as it completes.
    fn transfer(&mut self, _transfer: &HttpTransfer) -> io::Result<()> {
        Ok(())
    }
    /// Receives one STARTTLS dialogue, when its connection ends.
    fn dialogue(&mut self, _dialogue: &StarttlsDialogue) -> io::Result<()> {
        Ok(())
    }
    /// Receives one connection from an endpoint log.
    fn endpoint_connection(&mut self, _connection: &EndpointConnection) -> io::Result<()> {
        Ok(())
    }
    /// Receives one sighting of a downloaded object with its hash.
    fn object_sighting(&mut self, _sighting: &ObjectSighting) -> io::Result<()> {
        Ok(())
    }
    /// One alert.
    fn alert(&mut self, _alert: &Alert) -> io::Result<()> {
        Ok(())
    }
    /// Receives one file's outcome from `wiretrust verify`.
    fn file_check(&mut self, _check: &FileCheck) -> io::Result<()> {
        Ok(())
    }
    /// Flushes what is buffered, because the scan is over.
    fn finish(&mut self) -> io::Result<()>;
}

/// Escapes control characters (ANSI escape sequences, newlines, C1
/// controls) as `\u{..}` so that text taken from captures, such as a
/// server name chosen by the sender of the ClientHello, or a file name,
/// cannot rewrite a terminal or forge output lines.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if ch.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(ch)));
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

/// Splits `text` at spaces into lines of at most `width` characters; the
/// lines after the first lose `indent` columns to their indentation. A
/// word longer than a line stays whole.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let limit = if lines.is_empty() {
            width
        } else {
            width.saturating_sub(indent)
        };
        let needed = current.chars().count() + word.chars().count() + 1;
        if !current.is_empty() && needed > limit {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{printable, wrap};

    #[test]
    fn wrap_keeps_short_lines() {
        assert_eq!(wrap("a b c", 80, 5), vec!["a b c"]);
    }

    #[test]
    fn wrap_breaks_at_width() {
        let lines = wrap("aaaa bbbb cccc dddd", 10, 0);
        assert_eq!(lines, vec!["aaaa bbbb", "cccc dddd"]);
    }

    #[test]
    fn wrap_indents_continuation_lines() {
        let lines = wrap("aaaa bbbb cccc dddd", 10, 2);
        assert_eq!(lines, vec!["aaaa bbbb", "cccc", "dddd"]);
    }

    #[test]
    fn wrap_keeps_long_words_whole() {
        assert_eq!(wrap("abcdefghijkl x", 5, 0), vec!["abcdefghijkl", "x"]);
    }

    #[test]
    fn printable_escapes_terminal_codes() {
        assert_eq!(printable("\u{1b}[31mEVIL"), "\\u{1b}[31mEVIL");
    }

    #[test]
    fn printable_escapes_newlines() {
        assert_eq!(printable("a\nb"), "a\\u{a}b");
    }

    #[test]
    fn printable_keeps_plain_text() {
        assert_eq!(printable("wrong.host.badssl.com"), "wrong.host.badssl.com");
    }
}
