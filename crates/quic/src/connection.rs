//! The state of one QUIC connection: the connection ids that tie packets
//! to it, the Initial keys they select, and each direction's CRYPTO stream.

use std::net::SocketAddr;

use crate::crypto_stream::{Budget, CryptoStream, InsertReport, Message};
use crate::event::{QuicConnectionId, QuicEvent, QuicEventKind};
use crate::frame::{Frame, frames};
use crate::header::LongHeader;
use crate::keys::{InitialMaterial, PacketKeys};
use crate::limits::QuicStats;
use crate::protection::{Opened, open_packet};
use crate::version::version_spec;

/// Most destination connection ids remembered per connection: the
/// original one, the one a Retry chose, the server's, and a spare.
const MAX_KNOWN_CIDS: usize = 4;

/// The datagram being processed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Datagram {
    /// Sender.
    pub(crate) src: SocketAddr,
    /// Receiver.
    pub(crate) dst: SocketAddr,
    /// The capture's packet number.
    pub(crate) packet: u64,
    /// Capture time in nanoseconds.
    pub(crate) timestamp_ns: i64,
}

/// A value per direction.
#[derive(Debug, Default)]
pub(crate) struct Sides<T> {
    client: T,
    server: T,
}

impl<T> Sides<T> {
    fn get_mut(&mut self, from_client: bool) -> &mut T {
        if from_client {
            &mut self.client
        } else {
            &mut self.server
        }
    }

    fn get(&self, from_client: bool) -> &T {
        if from_client {
            &self.client
        } else {
            &self.server
        }
    }
}

/// The tracker state a connection updates while handling a packet.
pub(crate) struct Context<'a> {
    /// Counters.
    pub(crate) stats: &'a mut QuicStats,
    /// CRYPTO memory across connections.
    pub(crate) budget: &'a mut Budget,
    /// Highest CRYPTO stream offset followed per direction.
    pub(crate) crypto_limit: usize,
    /// Output list of events.
    pub(crate) out: &'a mut Vec<QuicEvent>,
}

/// One QUIC connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) id: QuicConnectionId,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    /// Version of the client's latest long-header packet.
    pub(crate) version: u32,
    /// The client's source connection id.
    pub(crate) client_scid: Vec<u8>,
    /// The destination connection id Initial keys derive from: the client's
    /// first one, or the one a Retry chose (RFC 9001 section 5.2).
    key_dcid: Vec<u8>,
    /// Destination connection ids the client used or was given.
    known_dcids: Vec<Vec<u8>>,
    /// Initial key material per version, all derived from `key_dcid`.
    keys: Vec<(u32, InitialMaterial)>,
    /// Largest Initial packet number opened per direction.
    largest_pn: Sides<Option<u64>>,
    streams: Sides<CryptoStream>,
    /// A Retry was applied; a client accepts only one (RFC 9000 section 17.2.5.2).
    retried: bool,
    /// A Version Negotiation packet was accepted and the client has not yet
    /// switched version.
    negotiated: bool,
    /// A server Initial was opened.
    server_answered: bool,
    /// Capture time of the latest datagram, never decreasing.
    pub(crate) last_seen: i64,
    /// Capture packet number of the latest datagram.
    pub(crate) last_packet: u64,
}

fn side_name(from_client: bool) -> &'static str {
    if from_client { "client" } else { "server" }
}

impl Connection {
    /// Opens a connection from the client's first long-header packet.
    pub(crate) fn new(id: QuicConnectionId, dg: &Datagram, header: &LongHeader<'_>) -> Self {
        Self {
            id,
            client: dg.src,
            server: dg.dst,
            version: header.version,
            client_scid: header.scid.to_vec(),
            key_dcid: header.dcid.to_vec(),
            known_dcids: vec![header.dcid.to_vec()],
            keys: Vec::new(),
            largest_pn: Sides::default(),
            streams: Sides::default(),
            retried: false,
            negotiated: false,
            server_answered: false,
            last_seen: dg.timestamp_ns,
            last_packet: dg.packet,
        }
    }

    /// True when a client packet with this header belongs here rather than
    /// starting a new connection on the same addresses and ports.
    pub(crate) fn accepts(&self, header: &LongHeader<'_>) -> bool {
        header.scid == self.client_scid.as_slice() || self.knows_dcid(header.dcid)
    }

    /// True when the client used `dcid` or was given it.
    pub(crate) fn knows_dcid(&self, dcid: &[u8]) -> bool {
        self.known_dcids
            .iter()
            .any(|known| known.as_slice() == dcid)
    }

    fn remember_dcid(&mut self, dcid: &[u8]) {
        if !self.knows_dcid(dcid) && self.known_dcids.len() < MAX_KNOWN_CIDS {
            self.known_dcids.push(dcid.to_vec());
        }
    }

    /// Builds an event about the datagram being processed.
    pub(crate) fn event(&self, dg: &Datagram, version: u32, kind: QuicEventKind) -> QuicEvent {
        QuicEvent {
            connection: self.id,
            client: self.client,
            server: self.server,
            version,
            packet: dg.packet,
            timestamp_ns: dg.timestamp_ns,
            kind,
        }
    }

    fn malformed(&self, dg: &Datagram, version: u32, reason: String, ctx: &mut Context<'_>) {
        ctx.stats.malformed = ctx.stats.malformed.saturating_add(1);
        let event = self.event(dg, version, QuicEventKind::Malformed { reason });
        ctx.out.push(event);
    }

    /// Records a client long header: a version change after Version
    /// Negotiation starts the handshake over, at CRYPTO offset 0.
    pub(crate) fn client_header(&mut self, header: &LongHeader<'_>, budget: &mut Budget) {
        if header.version != self.version {
            if self.negotiated {
                self.restart(budget);
                self.negotiated = false;
            }
            self.version = header.version;
        }
        self.remember_dcid(header.dcid);
    }

    /// Forgets both directions' streams and packet numbers.
    fn restart(&mut self, budget: &mut Budget) {
        self.streams.client.reset(budget);
        self.streams.server.reset(budget);
        self.largest_pn = Sides::default();
        self.server_answered = false;
    }

    /// Notes an accepted Version Negotiation packet.
    pub(crate) fn version_negotiated(&mut self) {
        self.negotiated = true;
    }

    /// True when a Retry from the server may still apply: none came before,
    /// no server Initial was opened, and it is addressed to the client.
    pub(crate) fn retry_applies(&self, header: &LongHeader<'_>) -> bool {
        !self.retried && !self.server_answered && header.dcid == self.client_scid.as_slice()
    }

    /// Returns the destination connection id that Initial keys derive from now.
    pub(crate) fn key_dcid(&self) -> &[u8] {
        &self.key_dcid
    }

    /// Applies a Retry: later Initials in both directions use keys derived
    /// from the connection id the server chose.
    pub(crate) fn apply_retry(&mut self, new_dcid: &[u8], budget: &mut Budget) {
        self.retried = true;
        self.key_dcid = new_dcid.to_vec();
        self.keys.clear();
        self.remember_dcid(new_dcid);
        self.streams.server.reset(budget);
        self.largest_pn.server = None;
    }

    /// Opens an Initial packet and handles its frames.
    pub(crate) fn initial(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        packet: (&[u8], usize),
        from_client: bool,
        ctx: &mut Context<'_>,
    ) {
        let Some(opened) = self.open(header.version, packet, from_client, ctx.stats) else {
            return;
        };
        if !from_client {
            self.server_answered = true;
            self.remember_dcid(header.scid);
        }
        if opened.reserved_bits != 0 {
            let reason = format!(
                "{} Initial packet {} in capture packet {} has reserved header bits 0x{:02x} \
                 set; RFC 9000 section 17.2 requires zero, so the sender is not a compliant QUIC \
                 stack",
                side_name(from_client),
                opened.packet_number,
                dg.packet,
                opened.reserved_bits
            );
            self.malformed(dg, header.version, reason, ctx);
        }
        self.frames(dg, header.version, from_client, &opened, ctx);
    }

    /// Removes the protection of an Initial packet, given as its bytes and
    /// packet number offset, and counts the outcome.
    fn open(
        &mut self,
        version: u32,
        (bytes, pn_offset): (&[u8], usize),
        from_client: bool,
        stats: &mut QuicStats,
    ) -> Option<Opened> {
        let largest = *self.largest_pn.get(from_client);
        let opened = keys_for(&mut self.keys, &self.key_dcid, version).and_then(|material| {
            let material = if from_client {
                &material.client
            } else {
                &material.server
            };
            open_packet(bytes, pn_offset, &PacketKeys::new(material), largest).ok()
        });
        let Some(opened) = opened else {
            stats.decryption_failures = stats.decryption_failures.saturating_add(1);
            return None;
        };
        stats.initials_decrypted = stats.initials_decrypted.saturating_add(1);
        let pn = opened.packet_number;
        *self.largest_pn.get_mut(from_client) = Some(largest.map_or(pn, |l| l.max(pn)));
        Some(opened)
    }

    /// Handles the frames of an opened Initial packet.
    fn frames(
        &mut self,
        dg: &Datagram,
        version: u32,
        from_client: bool,
        opened: &Opened,
        ctx: &mut Context<'_>,
    ) {
        for item in frames(&opened.payload) {
            match item {
                Ok((_, Frame::Crypto { offset, data })) => {
                    self.crypto(dg, version, from_client, (offset, data), ctx);
                }
                Ok((_, frame @ Frame::ConnectionClose { .. })) => {
                    if let Some(kind) = close_kind(&frame, from_client) {
                        ctx.out.push(self.event(dg, version, kind));
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    let reason = format!(
                        "{} Initial packet {} in capture packet {}: {err}; the frames after it \
                         were not read",
                        side_name(from_client),
                        opened.packet_number,
                        dg.packet
                    );
                    self.malformed(dg, version, reason, ctx);
                    break;
                }
            }
        }
    }

    /// Adds one CRYPTO frame to its direction's stream and reports the
    /// handshake messages it completes.
    fn crypto(
        &mut self,
        dg: &Datagram,
        version: u32,
        from_client: bool,
        (offset, data): (u64, &[u8]),
        ctx: &mut Context<'_>,
    ) {
        let mut messages = Vec::new();
        let stream = self.streams.get_mut(from_client);
        let result = stream.insert(offset, data, ctx.crypto_limit, ctx.budget, &mut messages);
        let stats = &mut *ctx.stats;
        stats.peak_crypto_buffered = stats.peak_crypto_buffered.max(ctx.budget.peak);
        for Message { msg_type, body } in messages {
            stats.handshake_messages = stats.handshake_messages.saturating_add(1);
            let kind = QuicEventKind::Handshake {
                from_client,
                msg_type,
                body,
            };
            ctx.out.push(self.event(dg, version, kind));
        }
        match result {
            Ok(report) => count_report(ctx.stats, &report),
            Err(err) => {
                let reason = format!(
                    "{} CRYPTO stream in capture packet {}: {err}",
                    side_name(from_client),
                    dg.packet
                );
                self.malformed(dg, version, reason, ctx);
            }
        }
    }

    /// Releases the streams' memory and returns how many directions held an
    /// incomplete handshake message.
    pub(crate) fn close(&mut self, budget: &mut Budget) -> u64 {
        let incomplete = [true, false]
            .iter()
            .filter(|&&from_client| self.streams.get(from_client).has_incomplete())
            .count() as u64;
        self.streams.client.close(budget);
        self.streams.server.close(budget);
        incomplete
    }
}

/// Builds the event of a CONNECTION_CLOSE frame.
fn close_kind(frame: &Frame<'_>, from_client: bool) -> Option<QuicEventKind> {
    let Frame::ConnectionClose {
        error_code,
        frame_type,
        reason,
    } = frame
    else {
        return None;
    };
    Some(QuicEventKind::ConnectionClose {
        from_client,
        error_code: *error_code,
        frame_type: *frame_type,
        reason: String::from_utf8_lossy(reason).into_owned(),
    })
}

/// Adds what one CRYPTO insertion did not deliver to the counters.
fn count_report(stats: &mut QuicStats, report: &InsertReport) {
    stats.crypto_duplicate_bytes = stats
        .crypto_duplicate_bytes
        .saturating_add(report.duplicate_bytes);
    stats.crypto_mismatched_overlaps = stats
        .crypto_mismatched_overlaps
        .saturating_add(report.mismatches);
    stats.crypto_bytes_dropped = stats
        .crypto_bytes_dropped
        .saturating_add(report.dropped_bytes);
}

/// Returns the Initial key material of `version`, deriving and caching it
/// on first use. The cache keeps at most one entry per version in
/// [`crate::version`]; ciphers are built per packet to keep connections small.
fn keys_for<'k>(
    cache: &'k mut Vec<(u32, InitialMaterial)>,
    dcid: &[u8],
    version: u32,
) -> Option<&'k InitialMaterial> {
    let index = match cache.iter().position(|(v, _)| *v == version) {
        Some(index) => index,
        None => {
            let keys = InitialMaterial::derive(version_spec(version)?, dcid).ok()?;
            cache.push((version, keys));
            cache.len() - 1
        }
    };
    cache.get(index).map(|(_, keys)| keys)
}
