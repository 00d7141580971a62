//! The frames an Initial packet may carry (RFC 9000 section 12.4, table
//! 3): PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE. Any other type in
//! an Initial packet is a protocol violation and ends parsing.

use crate::wire::{Cursor, VARINT_MAX};

/// An error parsing the frames of a decrypted Initial payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The payload ends inside a frame.
    #[error("{frame} frame at payload byte {offset} is cut short")]
    Truncated {
        /// The frame's name.
        frame: &'static str,
        /// Offset of the frame's type byte in the payload.
        offset: usize,
    },
    /// A frame type that Initial packets must not carry (RFC 9000 section 12.4).
    #[error(
        "frame type 0x{frame_type:02x} at payload byte {offset} is not allowed in an Initial packet"
    )]
    NotAllowed {
        /// The frame type.
        frame_type: u64,
        /// Offset of the frame in the payload.
        offset: usize,
    },
    /// A CRYPTO frame whose data would end past 2^62 - 1 (RFC 9000 section 19.6).
    #[error("CRYPTO frame at payload byte {offset} ends past the largest stream offset")]
    CryptoBeyondLimit {
        /// Offset of the frame in the payload.
        offset: usize,
    },
}

/// One frame of an Initial packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING bytes (type 0x00).
    Padding {
        /// Bytes in the run.
        len: usize,
    },
    /// PING (type 0x01).
    Ping,
    /// ACK (0x02) or ACK with ECN counts (0x03).
    Ack {
        /// Largest packet number acknowledged.
        largest: u64,
        /// ACK ranges after the first one.
        extra_ranges: u64,
        /// True for type 0x03.
        ecn: bool,
    },
    /// CRYPTO (0x06): bytes of the TLS handshake stream.
    Crypto {
        /// Offset of `data` in the stream.
        offset: u64,
        /// The bytes.
        data: &'a [u8],
    },
    /// CONNECTION_CLOSE (0x1c for transport errors, 0x1d for application errors).
    ConnectionClose {
        /// The error code.
        error_code: u64,
        /// The frame type that caused the error; `None` for type 0x1d.
        frame_type: Option<u64>,
        /// The reason phrase, meant to be UTF-8.
        reason: &'a [u8],
    },
}

/// Iterates over the frames of a decrypted payload, yielding each with the
/// payload offset of its type byte. Stops after the first error.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    cursor: Cursor<'a>,
    failed: bool,
}

/// Starts iterating over the frames of `payload`.
pub fn frames(payload: &[u8]) -> Frames<'_> {
    Frames {
        cursor: Cursor::new(payload),
        failed: false,
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<(usize, Frame<'a>), FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.cursor.remaining() == 0 {
            return None;
        }
        let offset = self.cursor.position();
        let result = read_frame(&mut self.cursor, offset);
        self.failed = result.is_err();
        Some(result.map(|frame| (offset, frame)))
    }
}

fn read_frame<'a>(cursor: &mut Cursor<'a>, offset: usize) -> Result<Frame<'a>, FrameError> {
    let truncated = |frame| FrameError::Truncated { frame, offset };
    let frame_type = cursor.varint().ok_or(truncated("frame type"))?;
    match frame_type {
        0x00 => {
            let len = cursor.rest().iter().take_while(|&&b| b == 0).count();
            cursor.bytes(len);
            Ok(Frame::Padding {
                len: len.saturating_add(1),
            })
        }
        0x01 => Ok(Frame::Ping),
        0x02 | 0x03 => read_ack(cursor, frame_type == 0x03).ok_or(truncated("ACK")),
        0x06 => read_crypto(cursor, offset),
        0x1c | 0x1d => read_close(cursor, frame_type == 0x1c).ok_or(truncated("CONNECTION_CLOSE")),
        _ => Err(FrameError::NotAllowed { frame_type, offset }),
    }
}

/// ACK: largest, delay, range count, first range, then (gap, length)
/// pairs, then three ECN counts for type 0x03 (RFC 9000 section 19.3).
fn read_ack<'a>(cursor: &mut Cursor<'a>, ecn: bool) -> Option<Frame<'a>> {
    let largest = cursor.varint()?;
    let _delay = cursor.varint()?;
    let extra_ranges = cursor.varint()?;
    let _first_range = cursor.varint()?;
    // Each range takes at least two bytes, so a lying count runs out of
    // bytes long before it runs out of iterations.
    for _ in 0..extra_ranges {
        cursor.varint()?;
        cursor.varint()?;
    }
    if ecn {
        for _ in 0..3 {
            cursor.varint()?;
        }
    }
    Some(Frame::Ack {
        largest,
        extra_ranges,
        ecn,
    })
}

/// CRYPTO: offset, length, data (RFC 9000 section 19.6).
fn read_crypto<'a>(cursor: &mut Cursor<'a>, offset: usize) -> Result<Frame<'a>, FrameError> {
    let truncated = FrameError::Truncated {
        frame: "CRYPTO",
        offset,
    };
    let stream_offset = cursor.varint().ok_or(truncated.clone())?;
    let len = cursor.varint().ok_or(truncated.clone())?;
    if stream_offset
        .checked_add(len)
        .is_none_or(|end| end > VARINT_MAX)
    {
        return Err(FrameError::CryptoBeyondLimit { offset });
    }
    let data = usize::try_from(len)
        .ok()
        .and_then(|len| cursor.bytes(len))
        .ok_or(truncated)?;
    Ok(Frame::Crypto {
        offset: stream_offset,
        data,
    })
}

/// CONNECTION_CLOSE: error code, frame type (0x1c only), reason length,
/// reason (RFC 9000 section 19.19).
fn read_close<'a>(cursor: &mut Cursor<'a>, transport: bool) -> Option<Frame<'a>> {
    let error_code = cursor.varint()?;
    let frame_type = if transport {
        Some(cursor.varint()?)
    } else {
        None
    };
    let reason_len = usize::try_from(cursor.varint()?).ok()?;
    let reason = cursor.bytes(reason_len)?;
    Some(Frame::ConnectionClose {
        error_code,
        frame_type,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{hex, rfc_client_hello, v1_client_payload, v1_server_payload};

    fn all(payload: &[u8]) -> Vec<Result<(usize, Frame<'_>), FrameError>> {
        frames(payload).collect()
    }

    #[test]
    fn rfc_client_payload_is_crypto_then_padding() {
        let payload = v1_client_payload();
        let hello = rfc_client_hello();
        let expected = vec![
            Ok((
                0,
                Frame::Crypto {
                    offset: 0,
                    data: &hello[..],
                },
            )),
            Ok((245, Frame::Padding { len: 917 })),
        ];
        assert_eq!(all(&payload), expected);
    }

    #[test]
    fn rfc_server_payload_is_ack_then_crypto() {
        let payload = v1_server_payload();
        let kinds: Vec<_> = frames(&payload)
            .map(|f| f.map(|(_, frame)| std::mem::discriminant(&frame)))
            .collect();
        let ack = std::mem::discriminant(&Frame::Ack {
            largest: 0,
            extra_ranges: 0,
            ecn: false,
        });
        let crypto = std::mem::discriminant(&Frame::Crypto {
            offset: 0,
            data: &[],
        });
        assert_eq!(kinds, vec![Ok(ack), Ok(crypto)]);
    }

    #[test]
    fn ack_with_ranges_and_ecn() {
        let payload = hex("03 0a 00 02 01 0102 0304 05 06 07 01");
        let expected = vec![
            Ok((
                0,
                Frame::Ack {
                    largest: 10,
                    extra_ranges: 2,
                    ecn: true,
                },
            )),
            Ok((12, Frame::Ping)),
        ];
        assert_eq!(all(&payload), expected);
    }

    #[test]
    fn ack_range_count_lies() {
        let payload = hex("02 0a 00 ffffffffffffffff 00");
        assert_eq!(
            all(&payload),
            vec![Err(FrameError::Truncated {
                frame: "ACK",
                offset: 0
            })]
        );
    }

    #[test]
    fn transport_close_has_frame_type() {
        let payload = hex("1c 4128 06 03 616263");
        let expected = Frame::ConnectionClose {
            error_code: 0x128,
            frame_type: Some(6),
            reason: b"abc",
        };
        assert_eq!(all(&payload), vec![Ok((0, expected))]);
    }

    #[test]
    fn application_close_has_no_frame_type() {
        let payload = hex("1d 00 00");
        let expected = Frame::ConnectionClose {
            error_code: 0,
            frame_type: None,
            reason: b"",
        };
        assert_eq!(all(&payload), vec![Ok((0, expected))]);
    }

    #[test]
    fn stream_frame_not_allowed() {
        let payload = hex("01 08 00 00");
        let expected = vec![
            Ok((0, Frame::Ping)),
            Err(FrameError::NotAllowed {
                frame_type: 8,
                offset: 1,
            }),
        ];
        assert_eq!(all(&payload), expected);
    }

    #[test]
    fn crypto_past_limit_rejected() {
        let payload = hex("06 ffffffffffffffff 01 00");
        assert_eq!(
            all(&payload),
            vec![Err(FrameError::CryptoBeyondLimit { offset: 0 })]
        );
    }

    #[test]
    fn crypto_data_cut_short() {
        let payload = hex("06 00 05 0102");
        assert_eq!(
            all(&payload),
            vec![Err(FrameError::Truncated {
                frame: "CRYPTO",
                offset: 0
            })]
        );
    }

    #[test]
    fn reason_length_lies() {
        let payload = hex("1c 00 00 ffff");
        assert!(matches!(
            all(&payload).first(),
            Some(Err(FrameError::Truncated { .. }))
        ));
    }

    #[test]
    fn empty_payload_has_no_frames() {
        assert!(all(&[]).is_empty());
    }
}
