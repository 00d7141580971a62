//! Hash algorithms and the read modes a manifest line can ask for.

use std::fmt;

/// A hash algorithm a manifest can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// SHA-512/224 (FIPS 180-4), written by `shasum -a 512224`.
    Sha512_224,
    /// SHA-512/256 (FIPS 180-4), written by `shasum -a 512256`.
    Sha512_256,
}

/// Every algorithm, in the order of [`Algorithm::name`]'s table.
pub const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::Md5,
    Algorithm::Sha1,
    Algorithm::Sha224,
    Algorithm::Sha256,
    Algorithm::Sha384,
    Algorithm::Sha512,
    Algorithm::Sha512_224,
    Algorithm::Sha512_256,
];

impl Algorithm {
    /// Returns the lower-case name used in output, e.g. `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
            Algorithm::Sha512_224 => "sha512/224",
            Algorithm::Sha512_256 => "sha512/256",
        }
    }

    /// Returns the digest length in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 | Algorithm::Sha512_224 => 56,
            Algorithm::Sha256 | Algorithm::Sha512_256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// Returns the algorithm that `md5sum`, `sha1sum`, `sha224sum`,
    /// `sha256sum`, `sha384sum` or `sha512sum` writes digests of `len` hex
    /// digits with. The SHA-512/t variants share their lengths with SHA-224
    /// and SHA-256, so they are only chosen by name.
    pub fn from_hex_len(len: usize) -> Option<Algorithm> {
        match len {
            32 => Some(Algorithm::Md5),
            40 => Some(Algorithm::Sha1),
            56 => Some(Algorithm::Sha224),
            64 => Some(Algorithm::Sha256),
            96 => Some(Algorithm::Sha384),
            128 => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Parses an algorithm name: the tag of a BSD-style line (`SHA256`,
    /// `MD5`, `SHA512/256`, coreutils' `SHA2-256`), or a name given on the
    /// command line (`sha256`, `sha-256`). Case is ignored.
    pub fn parse(name: &str) -> Option<Algorithm> {
        let name = name.to_ascii_lowercase().replace(['-', '/', '_'], "");
        let algorithm = match name.as_str() {
            "md5" => Algorithm::Md5,
            "sha1" => Algorithm::Sha1,
            "sha224" | "sha2224" => Algorithm::Sha224,
            "sha256" | "sha2256" => Algorithm::Sha256,
            "sha384" | "sha2384" => Algorithm::Sha384,
            "sha512" | "sha2512" => Algorithm::Sha512,
            "sha512224" => Algorithm::Sha512_224,
            "sha512256" => Algorithm::Sha512_256,
            _ => return None,
        };
        Some(algorithm)
    }

    /// Returns the algorithm a manifest's file name names, as in
    /// `SHA256SUMS`, `md5sums.txt`, `image.iso.sha512` or
    /// `release.sha1sum`; `None` when the name names none.
    pub fn from_file_name(name: &str) -> Option<Algorithm> {
        let name = name.to_ascii_lowercase();
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, extension)) => (stem, Some(extension)),
            None => (name.as_str(), None),
        };
        let names = ["sha512", "sha384", "sha256", "sha224", "sha1", "md5"];
        for candidate in names {
            let prefix = format!("{candidate}sum");
            let named_by_stem = stem.starts_with(&prefix);
            let named_by_extension = extension
                .is_some_and(|extension| extension == candidate || extension.starts_with(&prefix));
            if named_by_stem || named_by_extension {
                return Algorithm::parse(candidate);
            }
        }
        None
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Read mode of the tool that wrote a line, from the marker before the
/// name (`shasum` 6.02's `--help` lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// ` `: text mode. Identical to binary on Unix, where no newline
    /// translation happens.
    Text,
    /// `*`: binary mode, the bytes as they are. Also every BSD-style line.
    Binary,
    /// `U`: `shasum -U`, universal newlines. CRLF and lone CR are read as
    /// LF, so the digest is the same on Windows, Unix and classic Mac OS.
    Universal,
    /// `?`: portable mode of older `shasum` releases, read here with the
    /// line-end translation of [`Mode::Universal`].
    Portable,
    /// `^`: `shasum -0`, BITS mode. The ASCII characters `0` and `1` are
    /// the message bits, most significant first, and every other byte is
    /// ignored.
    Bits,
}

impl Mode {
    /// Returns the marker character the mode is written with.
    pub fn marker(self) -> char {
        match self {
            Mode::Text => ' ',
            Mode::Binary => '*',
            Mode::Universal => 'U',
            Mode::Portable => '?',
            Mode::Bits => '^',
        }
    }

    /// Returns the mode that reads the same digest on this system: text and
    /// binary read the same bytes, and portable translates line ends like
    /// universal.
    pub fn canonical(self) -> Mode {
        match self {
            Mode::Text | Mode::Binary => Mode::Binary,
            Mode::Universal | Mode::Portable => Mode::Universal,
            Mode::Bits => Mode::Bits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ALGORITHMS, Algorithm};

    #[test]
    fn names_parse_back() {
        for algorithm in ALGORITHMS {
            assert_eq!(Algorithm::parse(algorithm.name()), Some(algorithm));
        }
    }

    #[test]
    fn tags_parse() {
        assert_eq!(Algorithm::parse("SHA256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("SHA2-384"), Some(Algorithm::Sha384));
        assert_eq!(Algorithm::parse("SHA512/256"), Some(Algorithm::Sha512_256));
        assert_eq!(Algorithm::parse("MD5"), Some(Algorithm::Md5));
        assert_eq!(Algorithm::parse("BLAKE2b"), None);
    }

    #[test]
    fn lengths_choose_coreutils_algorithms() {
        assert_eq!(Algorithm::from_hex_len(32), Some(Algorithm::Md5));
        assert_eq!(Algorithm::from_hex_len(40), Some(Algorithm::Sha1));
        assert_eq!(Algorithm::from_hex_len(56), Some(Algorithm::Sha224));
        assert_eq!(Algorithm::from_hex_len(64), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_hex_len(96), Some(Algorithm::Sha384));
        assert_eq!(Algorithm::from_hex_len(128), Some(Algorithm::Sha512));
        assert_eq!(Algorithm::from_hex_len(63), None);
    }

    #[test]
    fn file_names_name_algorithms() {
        let cases = [
            ("SHA256SUMS", Some(Algorithm::Sha256)),
            ("SHA512SUMS.txt", Some(Algorithm::Sha512)),
            ("md5sums", Some(Algorithm::Md5)),
            ("image.iso.sha1", Some(Algorithm::Sha1)),
            ("release.sha384sum", Some(Algorithm::Sha384)),
            ("checksums.txt", None),
            ("sha256-notes", None),
        ];
        for (name, expected) in cases {
            assert_eq!(Algorithm::from_file_name(name), expected, "{name}");
        }
    }
}
