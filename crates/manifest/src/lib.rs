//! Hash manifests: the lines `sha256sum`, `md5sum`, `shasum` and BSD-style
//! `--tag` tools write, parsed into entries, and the hashing that checks
//! the files they name.
//!
//! [`parse`] reads a whole manifest and never fails: a line it cannot read
//! becomes a [`LineWarning`] with its line number, and the other lines are
//! still returned. [`MultiHasher`] computes several digests over one read
//! of a file.
#![forbid(unsafe_code)]

mod algorithm;
mod hash;
mod parse;

pub use algorithm::{ALGORITHMS, Algorithm, Mode};
pub use hash::{Digests, HashError, MultiHasher, Request, hash_reader};
pub use parse::{Entry, LineError, LineWarning, Manifest, parse};
