//! Manifest lines in the forms GNU coreutils (`sha256sum`, `md5sum`,
//! `--tag`) and `shasum` write and read back with `-c`.

use thiserror::Error;

use crate::algorithm::{Algorithm, Mode};

/// One file and its expected digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Line number in the manifest, from 1.
    pub line: u64,
    pub algorithm: Algorithm,
    pub mode: Mode,
    /// Expected digest in lower-case hex.
    pub digest: String,
    /// File name as written, escapes undone. Bytes, because Unix file
    /// names need not be UTF-8.
    pub name: Vec<u8>,
}

/// A line that could not be read, with its number.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("line {line}: {error}")]
pub struct LineWarning {
    /// Line number in the manifest, from 1.
    pub line: u64,
    pub error: LineError,
}

/// Reason a line is not a checksum line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LineError {
    /// Neither `HASH  NAME`, `HASH *NAME` nor `ALG (NAME) = HASH`.
    #[error(
        "not a checksum line; expected `HASH  NAME`, `HASH *NAME` or `ALG (NAME) = HASH`, \
         so fix or remove the line"
    )]
    Unrecognized,
    /// The digest contains a character other than a hex digit.
    #[error("invalid digest {digest:?}: only hex digits 0-9 and a-f are allowed")]
    InvalidHex { digest: String },
    /// No supported algorithm has digests of this length.
    #[error(
        "digest of {len} hex digits matches no supported algorithm \
         (md5 32, sha1 40, sha224 56, sha256 64, sha384 96, sha512 128)"
    )]
    UnknownLength { len: usize },
    /// The algorithm given by the caller has digests of another length.
    #[error(
        "digest of {len} hex digits does not fit {algorithm}, which has {}; if the \
         manifest's file name implies the wrong algorithm, set --algorithm",
        algorithm.hex_len()
    )]
    LengthMismatch { len: usize, algorithm: Algorithm },
    /// The algorithm a BSD-style line's tag names has digests of another
    /// length.
    #[error(
        "digest of {len} hex digits does not fit the line's tag {tag}, which needs {}; \
         fix the tag or the digest",
        algorithm.hex_len()
    )]
    TagLengthMismatch {
        len: usize,
        tag: String,
        algorithm: Algorithm,
    },
    /// A BSD-style tag naming an algorithm this crate does not compute.
    #[error("unsupported algorithm {tag:?}; supported: MD5, SHA1, SHA224, SHA256, SHA384, SHA512")]
    UnsupportedAlgorithm { tag: String },
    /// The line has a digest but no file name.
    #[error("missing file name after the digest")]
    MissingName,
    /// An escaped line (one starting with `\`) contains a backslash followed
    /// by something other than `\`, `n` or `r`.
    #[error("invalid escape \\{escape} in the file name; only \\\\, \\n and \\r are defined")]
    InvalidEscape { escape: char },
    /// An escaped line's file name ends in a lone backslash.
    #[error("the file name ends in a lone backslash; write it as \\\\")]
    TrailingBackslash,
}

/// The usable entries of a manifest and the lines that were not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
    pub warnings: Vec<LineWarning>,
    /// Lines read, blank lines and comments included.
    pub lines: u64,
}

/// Parses a manifest line by line.
///
/// `algorithm` is the algorithm of lines without a tag, when the caller
/// knows it from `--algorithm` or the manifest's file name. With `None`,
/// each digest's length picks it. Blank lines and lines starting with `#`
/// are skipped, and a CR before the LF is dropped. Each line that does
/// not parse becomes a warning, and the other lines are still returned.
pub fn parse(text: &[u8], algorithm: Option<Algorithm>) -> Manifest {
    let mut manifest = Manifest::default();
    for (index, line) in text.split(|&byte| byte == b'\n').enumerate() {
        let number = index as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let content = line.trim_ascii_start();
        if content.is_empty() || content.starts_with(b"#") {
            continue;
        }
        match parse_line(content, algorithm) {
            Ok(mut entry) => {
                entry.line = number;
                manifest.entries.push(entry);
            }
            Err(error) => manifest.warnings.push(LineWarning {
                line: number,
                error,
            }),
        }
    }
    let newlines = text.iter().filter(|&&byte| byte == b'\n').count() as u64;
    let unterminated = text.last().is_some_and(|&byte| byte != b'\n');
    manifest.lines = newlines + u64::from(unterminated);
    manifest
}

/// Parses one line without its leading blanks and line end.
fn parse_line(line: &[u8], algorithm: Option<Algorithm>) -> Result<Entry, LineError> {
    let (escaped, rest) = match line.strip_prefix(b"\\") {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let first_word_len = rest
        .iter()
        .position(|&byte| byte == b' ' || byte == b'\t')
        .unwrap_or(rest.len());
    let first_word = &rest[..first_word_len];
    if !first_word.is_empty() && first_word.iter().all(u8::is_ascii_hexdigit) {
        parse_untagged(rest, first_word_len, escaped, algorithm)
    } else {
        parse_tagged(rest, escaped)
    }
}

/// Parses `HASH MNAME`, where `M` is the mode marker: GNU writes two
/// spaces (text) or ` *` (binary), and `shasum` also writes ` U`, ` ^`
/// and, in older releases, ` ?`. `shasum` accepts a tab before the marker.
fn parse_untagged(
    line: &[u8],
    digest_len: usize,
    escaped: bool,
    algorithm: Option<Algorithm>,
) -> Result<Entry, LineError> {
    let digest = &line[..digest_len];
    let algorithm = algorithm_for(digest.len(), algorithm)?;
    let after = &line[digest_len..];
    let Some((&separator, after)) = after.split_first() else {
        return Err(LineError::MissingName);
    };
    if separator != b' ' && separator != b'\t' {
        return Err(LineError::Unrecognized);
    }
    let Some((&marker, name)) = after.split_first() else {
        return Err(LineError::MissingName);
    };
    let mode = match marker {
        b' ' => Mode::Text,
        b'*' => Mode::Binary,
        b'U' => Mode::Universal,
        b'?' => Mode::Portable,
        b'^' => Mode::Bits,
        _ => return Err(LineError::Unrecognized),
    };
    if name.is_empty() {
        return Err(LineError::MissingName);
    }
    let name = if escaped {
        unescape(name)?
    } else {
        name.to_vec()
    };
    Ok(Entry {
        line: 0,
        algorithm,
        mode,
        digest: String::from_utf8_lossy(digest).to_ascii_lowercase(),
        name,
    })
}

/// Parses `ALG (NAME) = HASH`, the BSD style that `--tag` writes. The
/// name is not escaped by BSD tools, so it ends at the last `) = `.
fn parse_tagged(line: &[u8], escaped: bool) -> Result<Entry, LineError> {
    let Some(open) = find(line, b" (") else {
        return Err(LineError::Unrecognized);
    };
    let Some(close) = rfind(line, b") = ") else {
        return Err(LineError::Unrecognized);
    };
    if close < open + 2 {
        return Err(LineError::Unrecognized);
    }

    let tag = &line[..open];
    if tag.is_empty() || tag.iter().any(|byte| byte.is_ascii_whitespace()) {
        return Err(LineError::Unrecognized);
    }
    let tag = String::from_utf8_lossy(tag).into_owned();
    let Some(algorithm) = Algorithm::parse(&tag) else {
        return Err(LineError::UnsupportedAlgorithm { tag });
    };

    let name = &line[open + 2..close];
    let digest = line[close + 4..].trim_ascii_end();
    if !digest.iter().all(u8::is_ascii_hexdigit) || digest.is_empty() {
        let digest = String::from_utf8_lossy(digest).into_owned();
        return Err(LineError::InvalidHex { digest });
    }
    if digest.len() != algorithm.hex_len() {
        return Err(LineError::TagLengthMismatch {
            len: digest.len(),
            tag,
            algorithm,
        });
    }
    if name.is_empty() {
        return Err(LineError::MissingName);
    }

    let name = if escaped {
        unescape(name)?
    } else {
        name.to_vec()
    };
    Ok(Entry {
        line: 0,
        algorithm,
        mode: Mode::Binary,
        digest: String::from_utf8_lossy(digest).to_ascii_lowercase(),
        name,
    })
}

/// Chooses the algorithm of an untagged digest: the given one when its
/// length fits, else the one its length implies.
fn algorithm_for(len: usize, given: Option<Algorithm>) -> Result<Algorithm, LineError> {
    match given {
        Some(algorithm) if algorithm.hex_len() == len => Ok(algorithm),
        Some(algorithm) => Err(LineError::LengthMismatch { len, algorithm }),
        None => Algorithm::from_hex_len(len).ok_or(LineError::UnknownLength { len }),
    }
}

/// Undoes the escapes of a line that starts with `\`: `\\` is a
/// backslash, `\n` a newline and `\r` (coreutils 9.2 and later) a
/// carriage return.
fn unescape(name: &[u8]) -> Result<Vec<u8>, LineError> {
    let mut out = Vec::with_capacity(name.len());
    let mut bytes = name.iter();
    while let Some(&byte) = bytes.next() {
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        match bytes.next() {
            Some(b'\\') => out.push(b'\\'),
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(&other) => {
                return Err(LineError::InvalidEscape {
                    escape: char::from(other),
                });
            }
            None => return Err(LineError::TrailingBackslash),
        }
    }
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::{Entry, LineError, parse};
    use crate::algorithm::{Algorithm, Mode};

    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";

    fn one(text: &str) -> Entry {
        let manifest = parse(text.as_bytes(), None);
        assert!(manifest.warnings.is_empty(), "{:?}", manifest.warnings);
        assert_eq!(manifest.entries.len(), 1);
        manifest.entries[0].clone()
    }

    fn error(text: &str) -> LineError {
        let manifest = parse(text.as_bytes(), None);
        assert!(manifest.entries.is_empty(), "{:?}", manifest.entries);
        assert_eq!(manifest.warnings.len(), 1);
        manifest.warnings[0].error.clone()
    }

    #[test]
    fn gnu_text_mode() {
        let entry = one(&format!("{SHA256_ABC}  abc.txt\n"));
        assert_eq!(entry.algorithm, Algorithm::Sha256);
        assert_eq!(entry.mode, Mode::Text);
        assert_eq!(entry.digest, SHA256_ABC);
        assert_eq!(entry.name, b"abc.txt");
        assert_eq!(entry.line, 1);
    }

    #[test]
    fn gnu_binary_mode() {
        let entry = one(&format!("{SHA256_ABC} *abc.bin"));
        assert_eq!(entry.mode, Mode::Binary);
        assert_eq!(entry.name, b"abc.bin");
    }

    #[test]
    fn name_keeps_leading_space() {
        let entry = one(&format!("{SHA256_ABC}    two spaces"));
        assert_eq!(entry.name, b"  two spaces");
    }

    #[test]
    fn shasum_markers() {
        let cases = [
            ('U', Mode::Universal),
            ('?', Mode::Portable),
            ('^', Mode::Bits),
            ('*', Mode::Binary),
            (' ', Mode::Text),
        ];
        for (marker, mode) in cases {
            let entry = one(&format!("{SHA256_ABC} {marker}file"));
            assert_eq!(entry.mode, mode, "marker {marker:?}");
            assert_eq!(entry.name, b"file");
        }
    }

    #[test]
    fn shasum_tab_separator() {
        let entry = one(&format!("{SHA256_ABC}\t*file"));
        assert_eq!(entry.name, b"file");
    }

    #[test]
    fn unknown_marker_rejected() {
        assert_eq!(
            error(&format!("{SHA256_ABC} xfile")),
            LineError::Unrecognized
        );
    }

    #[test]
    fn escaped_name() {
        let entry = one(&format!("\\{SHA256_ABC}  a\\nb\\\\c"));
        assert_eq!(entry.name, b"a\nb\\c");
    }

    #[test]
    fn escaped_carriage_return() {
        let entry = one(&format!("\\{SHA256_ABC}  a\\rb"));
        assert_eq!(entry.name, b"a\rb");
    }

    #[test]
    fn unescaped_line_keeps_backslashes() {
        let entry = one(&format!("{SHA256_ABC}  a\\nb"));
        assert_eq!(entry.name, b"a\\nb");
    }

    #[test]
    fn invalid_escape_rejected() {
        let found = error(&format!("\\{SHA256_ABC}  a\\tb"));
        assert_eq!(found, LineError::InvalidEscape { escape: 't' });
    }

    #[test]
    fn trailing_backslash_rejected() {
        let found = error(&format!("\\{SHA256_ABC}  a\\"));
        assert_eq!(found, LineError::TrailingBackslash);
    }

    #[test]
    fn bsd_tag() {
        let entry = one(&format!("SHA256 (abc.txt) = {SHA256_ABC}"));
        assert_eq!(entry.algorithm, Algorithm::Sha256);
        assert_eq!(entry.mode, Mode::Binary);
        assert_eq!(entry.name, b"abc.txt");
    }

    #[test]
    fn bsd_tag_every_algorithm() {
        let cases = [
            ("MD5", 32, Algorithm::Md5),
            ("SHA1", 40, Algorithm::Sha1),
            ("SHA224", 56, Algorithm::Sha224),
            ("SHA384", 96, Algorithm::Sha384),
            ("SHA512", 128, Algorithm::Sha512),
            ("SHA512/256", 64, Algorithm::Sha512_256),
        ];
        for (tag, len, algorithm) in cases {
            let entry = one(&format!("{tag} (f) = {}", "A".repeat(len)));
            assert_eq!(entry.algorithm, algorithm, "{tag}");
            assert_eq!(entry.digest, "a".repeat(len), "{tag}");
        }
    }

    #[test]
    fn bsd_tag_name_with_parenthesis() {
        let entry = one(&format!("MD5 (a) = b (c)) = {MD5_ABC}"));
        assert_eq!(entry.name, b"a) = b (c)");
    }

    #[test]
    fn bsd_tag_escaped() {
        let entry = one(&format!("\\SHA256 (a\\nb) = {SHA256_ABC}"));
        assert_eq!(entry.name, b"a\nb");
    }

    #[test]
    fn bsd_tag_wrong_length() {
        let found = error(&format!("SHA256 (f) = {MD5_ABC}"));
        let expected = LineError::TagLengthMismatch {
            len: 32,
            tag: "SHA256".to_owned(),
            algorithm: Algorithm::Sha256,
        };
        assert_eq!(found, expected);
    }

    #[test]
    fn bsd_tag_unsupported_algorithm() {
        let found = error(&format!("BLAKE2b (f) = {SHA256_ABC}"));
        let expected = LineError::UnsupportedAlgorithm {
            tag: "BLAKE2b".to_owned(),
        };
        assert_eq!(found, expected);
    }

    #[test]
    fn bsd_tag_invalid_hex() {
        let found = error("MD5 (f) = 900150983cd24fb0d6963f7d28e17fzz");
        assert!(matches!(found, LineError::InvalidHex { .. }));
    }

    #[test]
    fn bsd_tag_empty_name() {
        assert_eq!(
            error(&format!("MD5 () = {MD5_ABC}")),
            LineError::MissingName
        );
    }

    #[test]
    fn length_picks_algorithm() {
        let cases = [
            (32, Algorithm::Md5),
            (40, Algorithm::Sha1),
            (56, Algorithm::Sha224),
            (64, Algorithm::Sha256),
            (96, Algorithm::Sha384),
            (128, Algorithm::Sha512),
        ];
        for (len, algorithm) in cases {
            let entry = one(&format!("{}  f", "0".repeat(len)));
            assert_eq!(entry.algorithm, algorithm, "{len} digits");
        }
    }

    #[test]
    fn unknown_length_rejected() {
        assert_eq!(error("abcdef  f"), LineError::UnknownLength { len: 6 });
    }

    #[test]
    fn given_algorithm_wins() {
        let text = format!("{SHA256_ABC}  f");
        let manifest = parse(text.as_bytes(), Some(Algorithm::Sha512_256));
        assert_eq!(manifest.entries[0].algorithm, Algorithm::Sha512_256);
    }

    #[test]
    fn given_algorithm_length_mismatch() {
        let text = format!("{MD5_ABC}  f");
        let manifest = parse(text.as_bytes(), Some(Algorithm::Sha256));
        assert!(manifest.entries.is_empty());
        let expected = LineError::LengthMismatch {
            len: 32,
            algorithm: Algorithm::Sha256,
        };
        assert_eq!(manifest.warnings[0].error, expected);
    }

    #[test]
    fn upper_case_hex_lowered() {
        let entry = one(&format!("{}  f", SHA256_ABC.to_ascii_uppercase()));
        assert_eq!(entry.digest, SHA256_ABC);
    }

    #[test]
    fn crlf_tolerated() {
        let entry = one(&format!("{SHA256_ABC}  f.txt\r\n"));
        assert_eq!(entry.name, b"f.txt");
    }

    #[test]
    fn comments_and_blanks_skipped() {
        let text = format!("# made by hand\n\n   \n{SHA256_ABC}  f\n");
        let manifest = parse(text.as_bytes(), None);
        assert_eq!(manifest.entries.len(), 1);
        assert!(manifest.warnings.is_empty());
        assert_eq!(manifest.entries[0].line, 4);
        assert_eq!(manifest.lines, 4);
    }

    #[test]
    fn missing_name_rejected() {
        assert_eq!(error(&format!("{SHA256_ABC}  ")), LineError::MissingName);
        assert_eq!(error(SHA256_ABC), LineError::MissingName);
    }

    #[test]
    fn single_space_rejected() {
        assert_eq!(
            error(&format!("{SHA256_ABC} file")),
            LineError::Unrecognized
        );
    }

    #[test]
    fn prose_rejected() {
        assert_eq!(error("this is not a manifest"), LineError::Unrecognized);
    }

    #[test]
    fn bad_line_keeps_others() {
        let text = format!("{SHA256_ABC}  a\ngarbage\n{MD5_ABC}  b\n");
        let manifest = parse(text.as_bytes(), None);
        assert_eq!(manifest.entries.len(), 2);
        assert_eq!(manifest.entries[1].line, 3);
        assert_eq!(manifest.warnings.len(), 1);
        assert_eq!(manifest.warnings[0].line, 2);
        let message = manifest.warnings[0].to_string();
        assert!(
            message.starts_with("line 2: not a checksum line"),
            "{message}"
        );
    }

    #[test]
    fn binary_garbage_never_panics() {
        let mut text = Vec::new();
        for byte in 0..=255u8 {
            text.extend_from_slice(&[byte, b'\\', b'(', byte, b')', b' ', b'=', b'\n']);
        }
        text.extend_from_slice(b"\\\n(\n) = \nMD5 (\n\\MD5 ) = (\n");
        let manifest = parse(&text, None);
        assert!(manifest.entries.is_empty());
        assert!(!manifest.warnings.is_empty());
    }
}
