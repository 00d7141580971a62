//! HTTP/1.0 and 1.1 transfers from the two byte streams of a TCP
//! connection, with the body hashed while it streams and the response's
//! digest fields checked against it.
//!
//! [`HttpStream`] is fed each side's bytes in order, gaps where the
//! capture lost bytes, each side's FIN and the connection's end. Every
//! request and its response (matched in order, so pipelining and
//! keep-alive work) become one [`Transfer`]. Bodies are never held whole:
//! only header blocks are buffered, up to [`MAX_HEAD`] octets.

#![forbid(unsafe_code)]

mod digest;
mod framing;
mod hash;
mod head;
mod stream;

pub use digest::{
    Announced, BodyView, Covers, DigestCheck, DigestField, Outcome, Unchecked, check,
    parse_content_md5, parse_digest, parse_s3_etag, parse_structured,
};
pub use framing::Framing;
pub use hash::{Algorithm, Coding, DecodeFailure, Hashes};
pub use stream::{
    Body, BodyEnd, BodyHashing, ConnectionEnd, Direction, HttpStream, Limits, Request, Response,
    ResponseFields, Transfer, Warning, WarningKind,
};

/// Largest header block (or trailer section) accepted, in octets.
pub const MAX_HEAD: usize = 64 * 1024;

/// Returns the role of the side whose first octets are `data`. A request
/// line starts with a known method and a space, and a status line with
/// `HTTP/1.`. Anything else gives `None`.
pub fn role_from_first_octets(data: &[u8]) -> Option<Direction> {
    if head::looks_like_request(data) {
        Some(Direction::Request)
    } else if data.starts_with(b"HTTP/1.") {
        Some(Direction::Response)
    } else {
        None
    }
}
