//! Problems met while reading an export, and what the reader did next.

use std::path::PathBuf;
use std::{fmt, io};

use thiserror::Error;

use crate::Location;

/// A problem with one part of the input, and where it starts.
///
/// Reading goes on after every kind except [`LogErrorKind::Io`],
/// [`LogErrorKind::TruncatedArray`] and [`LogErrorKind::TrailingData`]:
/// the iterator yields the error and then the records that follow.
///
/// The message starts with the location, except for errors about a whole
/// input or file (location line 0, offset 0), whose kind names the path.
#[derive(Debug)]
pub struct LogError {
    pub location: Location,
    pub kind: LogErrorKind,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location == Location::default() {
            return write!(f, "{}", self.kind);
        }
        write!(f, "{}: {}", self.location, self.kind)
    }
}

// The message already contains the kind's, so `source` stays `None` and
// error chains do not print it twice.
impl std::error::Error for LogError {}

impl LogError {
    pub(crate) fn new(location: Location, kind: LogErrorKind) -> Self {
        Self { location, kind }
    }

    /// Returns whether this only casts doubt on the input as a whole and lost
    /// no record ([`LogErrorKind::TrailerMismatch`]).
    pub fn is_warning(&self) -> bool {
        matches!(self.kind, LogErrorKind::TrailerMismatch { .. })
    }
}

/// Cause of a [`LogError`]. Each message states what was skipped and what to check.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogErrorKind {
    /// Reading the input failed; the reader stops.
    #[error("reading the input failed: {0}; nothing after this point was read")]
    Io(#[source] io::Error),
    /// The first 64 KiB match none of the known export shapes.
    #[error(
        "the input is not a unified log export this reader knows; expected the output of \
         `log show` or `log stream` with `--style ndjson` or `--style json`, or JSON Lines \
         from the macos-unifiedlogs crate"
    )]
    UnknownFormat,
    /// A line is longer than [`crate::MAX_RECORD_LEN`].
    #[error(
        "the line is longer than {max} bytes and was skipped; check that the file is one \
         JSON object per line"
    )]
    LineTooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// A JSON array element is longer than [`crate::MAX_RECORD_LEN`].
    #[error(
        "the array element is longer than {max} bytes and was skipped; check that the file \
         is `log show --style json` output"
    )]
    ElementTooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// A line or element is not valid JSON, or a field has the wrong type.
    #[error("invalid JSON ({0}); the record was skipped")]
    InvalidJson(#[source] serde_json::Error),
    /// A line or element is not a JSON object (text, binary data, a number).
    #[error("expected a JSON object starting with `{{`; the line was skipped")]
    NotAnObject,
    /// A line starts a JSON object but does not end it: the file is cut or
    /// damaged there.
    #[error(
        "the line starts a JSON object but does not end with `}}`; it is cut short or damaged and was skipped"
    )]
    Unterminated,
    /// A record lacks a field every entry of its format has.
    #[error("the record has no `{0}` field and was skipped; check that the export is complete")]
    MissingField(&'static str),
    /// A field contains a value out of its range.
    #[error("field `{field}` is invalid ({reason}); the record was skipped")]
    InvalidField {
        /// Key name in the export.
        field: &'static str,
        /// Description of the problem with the value.
        reason: String,
    },
    /// The JSON array ends before its closing `]`; the reader stops.
    #[error(
        "the JSON array ends before its closing `]`, so the export was cut short; records \
         up to here were read, export the log again to get the rest"
    )]
    TruncatedArray,
    /// A byte that cannot follow the previous array element.
    #[error("unexpected {found:?} in the JSON array, expected {expected}; reading went on")]
    UnexpectedInArray {
        /// The byte found, as a character.
        found: char,
        /// The syntax the array allows here.
        expected: &'static str,
    },
    /// Something other than whitespace follows the JSON array's `]`; the reader stops.
    #[error("unexpected data after the end of the JSON array; it was not read")]
    TrailingData,
    /// The `{"count":N,"finished":1}` trailer disagrees with the entries read.
    #[error(
        "the trailer counts {trailer} entries but {read} were read; lines may have been lost \
         or added after `log show` wrote the export"
    )]
    TrailerMismatch {
        /// Entry count stated in the trailer.
        trailer: u64,
        /// Entries read before the trailer.
        read: u64,
    },
    /// The path is no log archive and no `.tracev3` file inside one.
    #[error(
        "{} is not a .logarchive bundle (a folder with tracev3 files, timesync/ and uuidtext \
         folders) nor a .tracev3 file inside one",
        .path.display()
    )]
    NotALogArchive {
        /// The path given.
        path: PathBuf,
    },
    /// A file of a log archive could not be read.
    #[error("reading {} failed: {source}; the file was skipped", .path.display())]
    ArchiveIo {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A `.tracev3` file ends inside a chunk.
    #[error(
        "{} ends inside a chunk at byte {offset}: the chunk needs {needed} bytes, {available} \
         remain; the entries before it were read, copy the file again to get the rest",
        .path.display()
    )]
    TruncatedTracev3 {
        /// The file.
        path: PathBuf,
        /// Offset of the incomplete chunk's header.
        offset: u64,
        /// Size of that chunk with its header, in bytes.
        needed: u64,
        /// Bytes left in the file from the chunk's header.
        available: u64,
    },
    /// A `.tracev3` file has chunksets, but none of its entries could be decoded.
    #[error(
        "no entry of {} could be decoded although it holds {chunksets} chunksets; the file \
         is probably damaged",
        .path.display()
    )]
    UndecodableTracev3 {
        /// The file.
        path: PathBuf,
        /// Chunksets (compressed entry groups) in the file.
        chunksets: u64,
    },
    /// The macos-unifiedlogs crate panicked on a file.
    #[error(
        "the macos-unifiedlogs parser failed on {} ({message}); the rest of this file was \
         skipped, the file is probably damaged",
        .path.display()
    )]
    ArchiveParser {
        /// The file.
        path: PathBuf,
        /// The panic message.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_names_location() {
        let error = LogError::new(
            Location {
                line: 3,
                offset: 99,
            },
            LogErrorKind::NotAnObject,
        );
        let text = error.to_string();
        assert!(text.starts_with("line 3 (byte offset 99): "), "{text}");
        assert!(text.contains("skipped"), "{text}");
    }

    #[test]
    fn whole_input_error_has_no_location() {
        let path = PathBuf::from("/tmp/x.logarchive");
        let error = LogError::new(Location::default(), LogErrorKind::NotALogArchive { path });
        assert!(
            error.to_string().starts_with("/tmp/x.logarchive is not"),
            "{error}"
        );
    }

    #[test]
    fn only_trailer_mismatch_is_warning() {
        let location = Location::default();
        let mismatch = LogErrorKind::TrailerMismatch {
            trailer: 2,
            read: 1,
        };
        assert!(LogError::new(location, mismatch).is_warning());
        assert!(!LogError::new(location, LogErrorKind::NotAnObject).is_warning());
    }
}
