//! SSL 2.0 handshake messages, and the SSL 2.0-format ClientHello that
//! SSL 3.0 and TLS clients sent for backward compatibility.
//!
//! Layouts follow the SSL 2.0 specification (Netscape, 1995), as restated in
//! RFC 6101 appendix E and RFC 5246 appendix E.2. Each parser receives the
//! message bytes that follow the 2- or 3-byte record header, starting with
//! the message type byte. A passive observer can read only the plaintext
//! messages (CLIENT-HELLO, SERVER-HELLO, CLIENT-MASTER-KEY and ERROR) because
//! the later ones are encrypted.

use std::borrow::Cow;

use crate::handshake::{ClientHello, Reader};
use crate::registry::{ProtocolVersion, Sslv2Cipher};

/// SSL 2.0 message type of ERROR.
const MSG_ERROR: u8 = 0;
/// SSL 2.0 message type of CLIENT-HELLO.
const MSG_CLIENT_HELLO: u8 = 1;
/// SSL 2.0 message type of CLIENT-MASTER-KEY.
const MSG_CLIENT_MASTER_KEY: u8 = 2;
/// SSL 2.0 message type of SERVER-HELLO.
const MSG_SERVER_HELLO: u8 = 4;

/// Bytes per cipher spec: SSL 2.0 cipher kinds are 3-byte values.
const CIPHER_SPEC_LEN: usize = 3;

/// An error for SSL 2.0 message bytes that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sslv2Error {
    /// The message ends before one of its fields.
    #[error(
        "SSL 2.0 {message} ends inside {field} at byte {offset}: the message is shorter \
         than its own length fields say"
    )]
    Truncated {
        /// The message being parsed, such as "CLIENT-HELLO".
        message: &'static str,
        /// The field that was cut.
        field: &'static str,
        /// Offset in the message where the field starts or is cut.
        offset: usize,
    },
    /// A length that no well-formed message contains.
    #[error("SSL 2.0 {message} has an invalid {field} at byte {offset}: {detail}")]
    Invalid {
        /// The message being parsed.
        message: &'static str,
        /// The field with the invalid value.
        field: &'static str,
        /// Offset of the field in the message.
        offset: usize,
        /// Explanation of why the value is invalid.
        detail: String,
    },
}

/// A parsed SSL 2.0 handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sslv2Message {
    /// CLIENT-HELLO: the client's offer.
    ClientHello {
        /// The highest version the client supports (0x0002, or 0x0300 and up
        /// for a compatible hello).
        version: ProtocolVersion,
        /// Offered cipher kinds in wire order.
        cipher_specs: Vec<Sslv2Cipher>,
        /// Session id to resume, empty for a new session.
        session_id: Vec<u8>,
        /// Challenge data (16 to 32 bytes in the specification).
        challenge: Vec<u8>,
    },
    /// SERVER-HELLO: the server's certificate and the kinds it accepts.
    ServerHello {
        /// The server's version.
        version: ProtocolVersion,
        /// True when the server resumes the session the client named.
        session_id_hit: bool,
        /// Certificate type (1 is X.509).
        certificate_type: u8,
        /// The server certificate, DER for X.509, empty on a session hit.
        certificate: Vec<u8>,
        /// Cipher kinds both sides support; the client picks one in CLIENT-MASTER-KEY.
        cipher_specs: Vec<Sslv2Cipher>,
        /// Connection id chosen by the server.
        connection_id: Vec<u8>,
    },
    /// CLIENT-MASTER-KEY: the client's choice of cipher.
    ClientMasterKey {
        /// The chosen cipher kind.
        cipher: Sslv2Cipher,
    },
    /// ERROR: a plaintext error report.
    Error {
        /// Error code (1 no cipher, 2 no certificate, 4 bad certificate,
        /// 6 unsupported certificate type).
        code: u16,
    },
    /// Any other message type, usually encrypted after CLIENT-MASTER-KEY.
    Other {
        /// The message type byte.
        msg_type: u8,
    },
}

fn cut(message: &'static str, field: &'static str, r: &Reader<'_>) -> Sslv2Error {
    Sslv2Error::Truncated {
        message,
        field,
        offset: r.offset(),
    }
}

/// Parses one SSL 2.0 handshake message, starting at its type byte.
pub fn parse_sslv2_message(msg: &[u8]) -> Result<Sslv2Message, Sslv2Error> {
    let mut r = Reader::new(msg);
    let msg_type = r.u8().ok_or_else(|| cut("message", "msg_type", &r))?;
    match msg_type {
        MSG_CLIENT_HELLO => parse_client_hello(&mut r),
        MSG_SERVER_HELLO => parse_server_hello(&mut r),
        MSG_CLIENT_MASTER_KEY => {
            let kind =
                read_u24(&mut r).ok_or_else(|| cut("CLIENT-MASTER-KEY", "cipher_kind", &r))?;
            Ok(Sslv2Message::ClientMasterKey {
                cipher: Sslv2Cipher(kind),
            })
        }
        MSG_ERROR => {
            let code = r.u16().ok_or_else(|| cut("ERROR", "error_code", &r))?;
            Ok(Sslv2Message::Error { code })
        }
        other => Ok(Sslv2Message::Other { msg_type: other }),
    }
}

fn read_u24(r: &mut Reader<'_>) -> Option<u32> {
    r.u24().and_then(|value| u32::try_from(value).ok())
}

/// Reads the 2-byte lengths that precede the variable fields of a message.
fn read_lengths<const N: usize>(
    r: &mut Reader<'_>,
    message: &'static str,
    names: [&'static str; N],
) -> Result<[usize; N], Sslv2Error> {
    let mut lengths = [0; N];
    for (slot, name) in lengths.iter_mut().zip(names) {
        *slot = usize::from(r.u16().ok_or_else(|| cut(message, name, r))?);
    }
    Ok(lengths)
}

fn read_field<'a>(
    r: &mut Reader<'a>,
    len: usize,
    message: &'static str,
    field: &'static str,
) -> Result<&'a [u8], Sslv2Error> {
    r.take(len).ok_or_else(|| cut(message, field, r))
}

/// Splits a cipher-specs field into 3-byte kinds.
fn cipher_specs(
    bytes: &[u8],
    message: &'static str,
    offset: usize,
) -> Result<Vec<Sslv2Cipher>, Sslv2Error> {
    let chunks = bytes.chunks_exact(CIPHER_SPEC_LEN);
    if !chunks.remainder().is_empty() {
        return Err(Sslv2Error::Invalid {
            message,
            field: "cipher_specs",
            offset,
            detail: format!("length {} is not a multiple of 3", bytes.len()),
        });
    }
    let kinds = chunks.map(|kind| {
        let value = kind.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        Sslv2Cipher(value)
    });
    Ok(kinds.collect())
}

fn parse_client_hello(r: &mut Reader<'_>) -> Result<Sslv2Message, Sslv2Error> {
    const MESSAGE: &str = "CLIENT-HELLO";
    let version = r.u16().ok_or_else(|| cut(MESSAGE, "version", r))?;
    let names = [
        "cipher_specs_length",
        "session_id_length",
        "challenge_length",
    ];
    let [specs_len, session_len, challenge_len] = read_lengths(r, MESSAGE, names)?;
    let specs_offset = r.offset();
    let specs = read_field(r, specs_len, MESSAGE, "cipher_specs")?;
    let session_id = read_field(r, session_len, MESSAGE, "session_id")?;
    let challenge = read_field(r, challenge_len, MESSAGE, "challenge")?;
    Ok(Sslv2Message::ClientHello {
        version: ProtocolVersion(version),
        cipher_specs: cipher_specs(specs, MESSAGE, specs_offset)?,
        session_id: session_id.to_vec(),
        challenge: challenge.to_vec(),
    })
}

fn parse_server_hello(r: &mut Reader<'_>) -> Result<Sslv2Message, Sslv2Error> {
    const MESSAGE: &str = "SERVER-HELLO";
    let session_id_hit = r.u8().ok_or_else(|| cut(MESSAGE, "session_id_hit", r))? != 0;
    let certificate_type = r.u8().ok_or_else(|| cut(MESSAGE, "certificate_type", r))?;
    let version = r.u16().ok_or_else(|| cut(MESSAGE, "version", r))?;
    let names = [
        "certificate_length",
        "cipher_specs_length",
        "connection_id_length",
    ];
    let [cert_len, specs_len, connection_len] = read_lengths(r, MESSAGE, names)?;
    let certificate = read_field(r, cert_len, MESSAGE, "certificate")?;
    let specs_offset = r.offset();
    let specs = read_field(r, specs_len, MESSAGE, "cipher_specs")?;
    let connection_id = read_field(r, connection_len, MESSAGE, "connection_id")?;
    Ok(Sslv2Message::ServerHello {
        version: ProtocolVersion(version),
        session_id_hit,
        certificate_type,
        certificate: certificate.to_vec(),
        cipher_specs: cipher_specs(specs, MESSAGE, specs_offset)?,
        connection_id: connection_id.to_vec(),
    })
}

/// Converts an SSL 2.0-format CLIENT-HELLO that offers SSL 3.0 or TLS
/// (version 0x0300 or higher) into a [`ClientHello`], so one session model
/// serves both formats (RFC 5246 appendix E.2, RFC 6101 appendix E.1).
///
/// Cipher specs whose first byte is zero become TLS suites and the others are
/// dropped. The challenge becomes the right-aligned random with leading zero
/// bytes. Compression is the implied null method and there are no extensions.
/// Returns `None` for any other message, an SSL 2.0-only hello, or a
/// challenge longer than the 32-byte random.
pub fn client_hello_from_sslv2(msg: &Sslv2Message) -> Option<ClientHello<'_>> {
    let Sslv2Message::ClientHello {
        version,
        cipher_specs,
        session_id,
        challenge,
    } = msg
    else {
        return None;
    };
    if version.0 < ProtocolVersion::SSL3.0 {
        return None;
    }
    let mut random = [0u8; 32];
    let start = random.len().checked_sub(challenge.len())?;
    random.get_mut(start..)?.copy_from_slice(challenge);
    let mut hello = ClientHello::new(*version, random);
    hello.session_id = Cow::Borrowed(session_id);
    hello.cipher_suites = cipher_specs
        .iter()
        .filter_map(|kind| kind.as_tls_suite())
        .collect();
    hello.compression_methods = Cow::Borrowed(&[0]);
    Some(hello)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::CipherSuite;

    /// Builds a CLIENT-HELLO offering RC4-MD5 (SSL 2.0), 3DES (SSL 2.0) and two TLS suites.
    fn compatible_hello(version: u16, challenge: &[u8]) -> Vec<u8> {
        let specs = [
            0x01, 0x00, 0x80, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x04, 0x00, 0x00, 0xff,
        ];
        let mut msg = vec![MSG_CLIENT_HELLO];
        msg.extend(version.to_be_bytes());
        msg.extend(12u16.to_be_bytes());
        msg.extend(0u16.to_be_bytes());
        let challenge_len = u16::try_from(challenge.len()).unwrap();
        msg.extend(challenge_len.to_be_bytes());
        msg.extend(specs);
        msg.extend(challenge);
        msg
    }

    fn server_hello() -> Vec<u8> {
        let mut msg = vec![MSG_SERVER_HELLO, 0, 1, 0x00, 0x02];
        msg.extend([0, 4, 0, 3, 0, 16]);
        msg.extend(b"cert");
        msg.extend([0x07, 0x00, 0xc0]);
        msg.extend([0x5c; 16]);
        msg
    }

    #[test]
    fn client_hello_fields() {
        let msg = parse_sslv2_message(&compatible_hello(0x0002, &[0xab; 16])).unwrap();
        let Sslv2Message::ClientHello {
            version,
            cipher_specs,
            session_id,
            challenge,
        } = msg
        else {
            panic!("expected CLIENT-HELLO, got {msg:?}");
        };
        assert_eq!(version, ProtocolVersion::SSL2);
        assert_eq!(cipher_specs.len(), 4);
        assert_eq!(cipher_specs.first(), Some(&Sslv2Cipher::RC4_128_WITH_MD5));
        assert!(session_id.is_empty());
        assert_eq!(challenge, vec![0xab; 16]);
    }

    #[test]
    fn client_hello_bad_specs_length() {
        let mut bytes = compatible_hello(0x0301, &[0xab; 16]);
        bytes[4] = 11;
        bytes.remove(9);
        let err = parse_sslv2_message(&bytes).unwrap_err();
        assert!(matches!(
            err,
            Sslv2Error::Invalid {
                field: "cipher_specs",
                offset: 9,
                ..
            }
        ));
    }

    #[test]
    fn client_hello_cut_challenge() {
        let bytes = compatible_hello(0x0301, &[0xab; 16]);
        let err = parse_sslv2_message(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(matches!(
            err,
            Sslv2Error::Truncated {
                field: "challenge",
                ..
            }
        ));
    }

    #[test]
    fn server_hello_fields() {
        let msg = parse_sslv2_message(&server_hello()).unwrap();
        let expected = Sslv2Message::ServerHello {
            version: ProtocolVersion::SSL2,
            session_id_hit: false,
            certificate_type: 1,
            certificate: b"cert".to_vec(),
            cipher_specs: vec![Sslv2Cipher::DES_192_EDE3_CBC_WITH_MD5],
            connection_id: vec![0x5c; 16],
        };
        assert_eq!(msg, expected);
    }

    #[test]
    fn client_master_key_cipher() {
        let bytes = [MSG_CLIENT_MASTER_KEY, 0x02, 0x00, 0x80, 0, 0, 0, 0, 0, 0];
        let msg = parse_sslv2_message(&bytes).unwrap();
        let cipher = Sslv2Cipher::RC4_128_EXPORT40_WITH_MD5;
        assert_eq!(msg, Sslv2Message::ClientMasterKey { cipher });
    }

    #[test]
    fn error_message_code() {
        let msg = parse_sslv2_message(&[MSG_ERROR, 0x00, 0x01]).unwrap();
        assert_eq!(msg, Sslv2Message::Error { code: 1 });
    }

    #[test]
    fn other_message_type() {
        let msg = parse_sslv2_message(&[6, 0xde, 0xad]).unwrap();
        assert_eq!(msg, Sslv2Message::Other { msg_type: 6 });
    }

    #[test]
    fn empty_message_error() {
        let err = parse_sslv2_message(&[]).unwrap_err();
        assert!(matches!(
            err,
            Sslv2Error::Truncated {
                field: "msg_type",
                offset: 0,
                ..
            }
        ));
    }

    #[test]
    fn every_prefix_no_panic() {
        for bytes in [compatible_hello(0x0301, &[1; 32]), server_hello()] {
            for end in 0..bytes.len() {
                assert!(
                    parse_sslv2_message(&bytes[..end]).is_err(),
                    "prefix of {end} bytes"
                );
            }
        }
    }

    #[test]
    fn conversion_keeps_tls_suites() {
        let msg = parse_sslv2_message(&compatible_hello(0x0301, &[0xab; 16])).unwrap();
        let hello = client_hello_from_sslv2(&msg).unwrap();
        let suites = vec![CipherSuite::TLS_RSA_WITH_RC4_128_MD5, CipherSuite(0x00ff)];
        assert_eq!(hello.cipher_suites, suites);
        assert_eq!(hello.legacy_version, ProtocolVersion::TLS10);
        assert_eq!(hello.compression_methods, vec![0]);
        assert!(hello.extensions.is_empty());
    }

    #[test]
    fn conversion_right_aligns_challenge() {
        let msg = parse_sslv2_message(&compatible_hello(0x0300, &[0xab; 16])).unwrap();
        let hello = client_hello_from_sslv2(&msg).unwrap();
        assert_eq!(hello.random[..16], [0; 16]);
        assert_eq!(hello.random[16..], [0xab; 16]);
    }

    #[test]
    fn conversion_rejects_sslv2_only() {
        let msg = parse_sslv2_message(&compatible_hello(0x0002, &[0xab; 16])).unwrap();
        assert_eq!(client_hello_from_sslv2(&msg), None);
    }

    #[test]
    fn conversion_rejects_long_challenge() {
        let msg = parse_sslv2_message(&compatible_hello(0x0301, &[0xab; 33])).unwrap();
        assert_eq!(client_hello_from_sslv2(&msg), None);
    }

    #[test]
    fn conversion_rejects_server_hello() {
        let msg = parse_sslv2_message(&server_hello()).unwrap();
        assert_eq!(client_hello_from_sslv2(&msg), None);
    }
}
