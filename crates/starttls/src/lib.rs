//! Plaintext mail, file transfer and chat dialogues up to STARTTLS, for
//! finding STARTTLS stripping.
//!
//! A [`Dialogue`] reads the in-order bytes of both sides of one TCP
//! connection. It recognises SMTP, IMAP, POP3, FTP or XMPP from the server
//! greeting (or the client's first XMPP stream header), and follows commands
//! and replies up to the STARTTLS request. Its [`Outcome`] contains the
//! greeting, the capabilities offered, the STARTTLS exchange and the
//! [`Finding`]s: STARTTLS absent, garbled or refused, and credentials or mail
//! sent in plaintext. When TLS begins, [`Dialogue::feed`] returns the stream
//! offset of the first TLS byte so that the caller can hand the rest of that
//! side to the TLS decoder.
//!
//! TLS records are recognised by `wiretrust_tls::start::find_start`, and
//! protocols are named by `wiretrust_tls::Preamble`.
#![forbid(unsafe_code)]
// Parsers must not panic on any input: no indexing, unchecked arithmetic or unwrap.
#![cfg_attr(
    not(test),
    warn(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod dialogue;
mod ftp;
mod imap;
mod outcome;
mod pop3;
mod session;
mod smtp;
mod text;
mod xmpp;

pub use dialogue::{Dialogue, Progress, TlsHandoff};
pub use outcome::{
    Counters, Evidence, Finding, FindingKind, Garble, Limits, Outcome, Position, Reply, Starttls,
};
pub use wiretrust_tcp::Side;
pub use wiretrust_tls::Preamble;

#[cfg(test)]
mod tests;
