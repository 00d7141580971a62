//! A small pcap/pcapng reader and TCP reassembler for tests on real
//! captures, kept here so the decoder's tests do not depend on the
//! workspace's capture crates.
//!
//! It handles what the test captures contain: Ethernet (with VLAN tags and
//! PPPoE), Linux cooked capture v1 and v2, BSD loopback and raw IP; IPv4
//! and IPv6; and in-order delivery of each TCP direction with out-of-order
//! segments held back. Holes still open at the end are reported as gaps.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use wiretrust_tls::stream::{ConnectionDecoder, TlsEvent};

/// One captured frame: its 1-based number (as Wireshark counts) and bytes.
pub struct Frame {
    pub number: u64,
    pub link_type: u32,
    pub data: Vec<u8>,
}

fn u16_at(data: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at + 2)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

/// Reads every frame of a classic pcap or a pcapng file.
pub fn read_frames(file: &[u8]) -> Option<Vec<Frame>> {
    match file.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => read_pcap(file, false),
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => read_pcap(file, true),
        [0x0a, 0x0d, 0x0d, 0x0a] => read_pcapng(file),
        _ => None,
    }
}

fn read_pcap(file: &[u8], big_endian: bool) -> Option<Vec<Frame>> {
    let link_type = u32_at(file, 20, big_endian)?;
    let mut frames = Vec::new();
    let mut at = 24;
    while let Some(captured) = u32_at(file, at + 8, big_endian) {
        let start = at + 16;
        let end = start + usize::try_from(captured).ok()?;
        // A capture cut short ends with a partial record; keep what came before.
        let Some(data) = file.get(start..end).map(<[u8]>::to_vec) else {
            break;
        };
        frames.push(Frame {
            number: frames.len() as u64 + 1,
            link_type,
            data,
        });
        at = end;
    }
    Some(frames)
}

fn read_pcapng(file: &[u8]) -> Option<Vec<Frame>> {
    let mut frames = Vec::new();
    let mut interfaces: Vec<u32> = Vec::new();
    let mut big_endian = false;
    let mut at = 0;
    while at + 12 <= file.len() {
        if file.get(at..at + 4)? == [0x0a, 0x0d, 0x0d, 0x0a] {
            big_endian = file.get(at + 8..at + 12)? == [0x1a, 0x2b, 0x3c, 0x4d];
            interfaces.clear();
        }
        let block_type = u32_at(file, at, big_endian)?;
        let length = usize::try_from(u32_at(file, at + 4, big_endian)?).ok()?;
        if length < 12 {
            return None;
        }
        let body = file.get(at + 8..at + length - 4)?;
        match block_type {
            1 => interfaces.push(u32::from(u16_at(body, 0, big_endian)?)),
            6 => {
                let interface = usize::try_from(u32_at(body, 0, big_endian)?).ok()?;
                let captured = usize::try_from(u32_at(body, 12, big_endian)?).ok()?;
                let data = body.get(20..20 + captured)?.to_vec();
                let link_type = *interfaces.get(interface)?;
                frames.push(Frame {
                    number: frames.len() as u64 + 1,
                    link_type,
                    data,
                });
            }
            3 => {
                let data = body.get(4..)?.to_vec();
                let link_type = *interfaces.first()?;
                frames.push(Frame {
                    number: frames.len() as u64 + 1,
                    link_type,
                    data,
                });
            }
            _ => {}
        }
        at += length;
    }
    Some(frames)
}

/// A TCP segment taken from a frame.
pub struct Segment {
    pub source: SocketAddr,
    pub destination: SocketAddr,
    pub sequence: u32,
    pub syn: bool,
    pub ack: bool,
    pub payload: Vec<u8>,
}

/// Decodes the link, IP and TCP headers of a frame.
pub fn tcp_segment(frame: &Frame) -> Option<Segment> {
    let data = frame.data.as_slice();
    let (ethertype, network) = match frame.link_type {
        1 => ethernet(data)?,
        0 | 108 => (ip_version_type(data.get(4..)?)?, data.get(4..)?),
        101 | 12 | 14 | 228 | 229 => (ip_version_type(data)?, data),
        113 => (u16_at(data, 14, true)?, data.get(16..)?),
        276 => (u16_at(data, 0, true)?, data.get(20..)?),
        _ => return None,
    };
    match ethertype {
        0x0800 => ipv4(network),
        0x86dd => ipv6(network),
        _ => None,
    }
}

fn ip_version_type(data: &[u8]) -> Option<u16> {
    match data.first()? >> 4 {
        4 => Some(0x0800),
        6 => Some(0x86dd),
        _ => None,
    }
}

fn ethernet(data: &[u8]) -> Option<(u16, &[u8])> {
    let mut ethertype = u16_at(data, 12, true)?;
    let mut rest = data.get(14..)?;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        ethertype = u16_at(rest, 2, true)?;
        rest = rest.get(4..)?;
    }
    if ethertype == 0x8864 {
        // PPPoE session header (6 bytes), then the PPP protocol number.
        ethertype = match u16_at(rest, 6, true)? {
            0x0021 => 0x0800,
            0x0057 => 0x86dd,
            _ => return None,
        };
        rest = rest.get(8..)?;
    }
    Some((ethertype, rest))
}

fn ipv4(data: &[u8]) -> Option<Segment> {
    let header_len = usize::from(data.first()? & 0x0f) * 4;
    let total = usize::from(u16_at(data, 2, true)?);
    let fragment = u16_at(data, 6, true)? & 0x3fff;
    if *data.get(9)? != 6 || fragment != 0 {
        return None;
    }
    let source: [u8; 4] = data.get(12..16)?.try_into().ok()?;
    let destination: [u8; 4] = data.get(16..20)?.try_into().ok()?;
    let end = total.min(data.len());
    let tcp = data.get(header_len..end)?;
    let addresses = (
        IpAddr::V4(Ipv4Addr::from(source)),
        IpAddr::V4(Ipv4Addr::from(destination)),
    );
    tcp_header(tcp, addresses)
}

fn ipv6(data: &[u8]) -> Option<Segment> {
    let payload_len = usize::from(u16_at(data, 4, true)?);
    let mut next = *data.get(6)?;
    let source: [u8; 16] = data.get(8..24)?.try_into().ok()?;
    let destination: [u8; 16] = data.get(24..40)?.try_into().ok()?;
    let end = (40 + payload_len).min(data.len());
    let mut rest = data.get(40..end)?;
    while matches!(next, 0 | 43 | 60) {
        next = *rest.first()?;
        let length = (usize::from(*rest.get(1)?) + 1) * 8;
        rest = rest.get(length..)?;
    }
    if next != 6 {
        return None;
    }
    let addresses = (
        IpAddr::V6(Ipv6Addr::from(source)),
        IpAddr::V6(Ipv6Addr::from(destination)),
    );
    tcp_header(rest, addresses)
}

fn tcp_header(tcp: &[u8], (source, destination): (IpAddr, IpAddr)) -> Option<Segment> {
    let source_port = u16_at(tcp, 0, true)?;
    let destination_port = u16_at(tcp, 2, true)?;
    let sequence = u32_at(tcp, 4, true)?;
    let data_offset = usize::from(tcp.get(12)? >> 4) * 4;
    let flags = *tcp.get(13)?;
    Some(Segment {
        source: SocketAddr::new(source, source_port),
        destination: SocketAddr::new(destination, destination_port),
        sequence,
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        payload: tcp.get(data_offset..)?.to_vec(),
    })
}

/// One direction's reassembly state, in offsets relative to its first sequence number.
#[derive(Default)]
struct Direction {
    base: Option<u32>,
    delivered: u64,
    pending: BTreeMap<u64, Vec<u8>>,
}

/// A connection: its endpoints, its decoder and the events it produced.
pub struct Connection {
    pub initiator: SocketAddr,
    pub responder: SocketAddr,
    pub decoder: ConnectionDecoder,
    pub events: Vec<TlsEvent>,
    directions: [Direction; 2],
}

/// Segments held back before a hole is declared lost.
const MAX_PENDING: usize = 64;

impl Connection {
    fn new(initiator: SocketAddr, responder: SocketAddr) -> Self {
        Self {
            initiator,
            responder,
            decoder: ConnectionDecoder::default(),
            events: Vec::new(),
            directions: [Direction::default(), Direction::default()],
        }
    }

    fn add(&mut self, segment: &Segment, packet: u64) {
        let from_initiator = segment.source == self.initiator;
        let direction = &mut self.directions[usize::from(!from_initiator)];
        let base = *direction.base.get_or_insert(if segment.syn {
            segment.sequence.wrapping_add(1)
        } else {
            segment.sequence
        });
        if segment.payload.is_empty() {
            return;
        }
        let start = segment
            .sequence
            .wrapping_add(u32::from(segment.syn))
            .wrapping_sub(base);
        // Data before the base (a retransmission older than the first
        // segment seen) shows up as a huge offset; drop it.
        if start > u32::MAX / 2 {
            return;
        }
        let entry = direction.pending.entry(u64::from(start)).or_default();
        if segment.payload.len() > entry.len() {
            *entry = segment.payload.clone();
        }
        self.drain(from_initiator, packet, false);
    }

    /// Delivers contiguous data; with `force` (or too many segments held)
    /// reports holes as gaps.
    fn drain(&mut self, from_initiator: bool, packet: u64, force: bool) {
        let index = usize::from(!from_initiator);
        loop {
            let direction = &mut self.directions[index];
            let Some((&start, _)) = direction.pending.first_key_value() else {
                return;
            };
            if start > direction.delivered {
                if !force && direction.pending.len() <= MAX_PENDING {
                    return;
                }
                let missing = start - direction.delivered;
                direction.delivered = start;
                self.decoder
                    .gap(from_initiator, missing, packet, &mut self.events);
                continue;
            }
            let data = direction.pending.remove(&start).unwrap_or_default();
            let end = start + data.len() as u64;
            if end <= direction.delivered {
                continue;
            }
            let skip = usize::try_from(direction.delivered - start).unwrap_or(usize::MAX);
            direction.delivered = end;
            let fresh = data.get(skip..).unwrap_or_default();
            self.decoder
                .feed(from_initiator, fresh, packet, &mut self.events);
        }
    }

    fn finish(&mut self, packet: u64) {
        self.drain(true, packet, true);
        self.drain(false, packet, true);
    }
}

/// Reassembles and decodes every TCP connection of a capture file.
pub fn decode_capture(file: &[u8]) -> Option<Vec<Connection>> {
    let frames = read_frames(file)?;
    let mut open: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    let mut connections: Vec<Connection> = Vec::new();
    let last = frames.last().map_or(0, |frame| frame.number);
    for frame in &frames {
        let Some(segment) = tcp_segment(frame) else {
            continue;
        };
        let key = canonical(segment.source, segment.destination);
        let fresh_syn = segment.syn && !segment.ack;
        let index = match open.get(&key) {
            Some(&index) if !(fresh_syn && is_new_syn(&connections[index], &segment)) => index,
            _ => {
                connections.push(Connection::new(segment.source, segment.destination));
                if let Some(previous) = open.insert(key, connections.len() - 1) {
                    connections[previous].finish(frame.number);
                }
                connections.len() - 1
            }
        };
        connections[index].add(&segment, frame.number);
    }
    for connection in &mut connections {
        connection.finish(last);
    }
    Some(connections)
}

/// Returns true for a SYN that starts a new connection on a reused address
/// pair, rather than a retransmitted SYN of the current one.
fn is_new_syn(connection: &Connection, segment: &Segment) -> bool {
    let direction = &connection.directions[usize::from(segment.source != connection.initiator)];
    direction.base != Some(segment.sequence.wrapping_add(1))
}

fn canonical(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}
