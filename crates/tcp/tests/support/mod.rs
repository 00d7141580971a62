//! A small capture reader for the corpus tests: pcap and pcapng, the link
//! types the corpus uses, IPv4 and IPv6, TCP only. It skips what it cannot
//! decode; the real decoder lives in the capture crate, which this crate must
//! not depend on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One decoded TCP segment with its owned payload.
pub struct Packet {
    pub number: u64,
    pub timestamp_ns: i64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// Returns every TCP segment of a pcap or pcapng file, numbered from 1 over all frames.
pub fn tcp_packets(file: &[u8]) -> Vec<Packet> {
    let frames = if file.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        pcapng_frames(file)
    } else {
        pcap_frames(file)
    };
    let mut packets = Vec::new();
    for (index, frame) in frames.iter().enumerate() {
        let number = index as u64 + 1;
        if let Some(packet) = decode(frame, number) {
            packets.push(packet);
        }
    }
    packets
}

/// A captured frame: link type, timestamp, bytes.
struct Frame<'a> {
    link: u32,
    timestamp_ns: i64,
    data: &'a [u8],
}

fn u16_at(bytes: &[u8], at: usize, big: bool) -> Option<u16> {
    let raw: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
    Some(if big {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

fn u32_at(bytes: &[u8], at: usize, big: bool) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

fn pcap_frames(file: &[u8]) -> Vec<Frame<'_>> {
    let mut frames = Vec::new();
    let Some(magic) = u32_at(file, 0, false) else {
        return frames;
    };
    let (big, nanos) = match magic {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        0x4d3c_b2a1 => (true, true),
        _ => return frames,
    };
    let link = u32_at(file, 20, big).unwrap_or(0) & 0x0fff_ffff;
    let mut at = 24;
    while let (Some(secs), Some(frac), Some(len)) = (
        u32_at(file, at, big),
        u32_at(file, at + 4, big),
        u32_at(file, at + 8, big),
    ) {
        let start = at + 16;
        let Some(data) = file.get(start..start + len as usize) else {
            break;
        };
        let frac_ns = if nanos {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        let timestamp_ns = i64::from(secs) * 1_000_000_000 + frac_ns;
        frames.push(Frame {
            link,
            timestamp_ns,
            data,
        });
        at = start + len as usize;
    }
    frames
}

fn pcapng_frames(file: &[u8]) -> Vec<Frame<'_>> {
    let mut frames = Vec::new();
    let mut interfaces: Vec<(u32, u64)> = Vec::new();
    let mut big = false;
    let mut at = 0;
    while let Some(kind) = u32_at(file, at, big) {
        if kind == 0x0a0d_0d0a {
            big = file.get(at + 8..at + 12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d]);
            interfaces.clear();
        }
        let Some(len) = u32_at(file, at, big).and(u32_at(file, at + 4, big)) else {
            break;
        };
        let Some(block) = file.get(at..at + len as usize).filter(|_| len >= 12) else {
            break;
        };
        match kind {
            1 => interfaces.push(interface(block, big)),
            6 => frames.extend(enhanced(block, big, &interfaces)),
            3 => frames.extend(simple(block, big, &interfaces)),
            _ => {}
        }
        at += len as usize;
    }
    frames
}

/// Reads the link type and ticks per second of an Interface Description Block.
fn interface(block: &[u8], big: bool) -> (u32, u64) {
    let link = u32::from(u16_at(block, 8, big).unwrap_or(0));
    let mut per_second = 1_000_000;
    let mut at = 16;
    while let (Some(code), Some(len)) = (u16_at(block, at, big), u16_at(block, at + 2, big)) {
        if code == 0 {
            break;
        }
        if code == 9 {
            let raw = block.get(at + 4).copied().unwrap_or(6);
            let (base, exp) = if raw & 0x80 == 0 {
                (10u64, raw)
            } else {
                (2, raw & 0x7f)
            };
            per_second = base.checked_pow(u32::from(exp)).unwrap_or(1_000_000);
        }
        at += 4 + usize::from(len).div_ceil(4) * 4;
    }
    (link, per_second)
}

fn enhanced<'a>(block: &'a [u8], big: bool, interfaces: &[(u32, u64)]) -> Option<Frame<'a>> {
    let id = u32_at(block, 8, big)? as usize;
    let (link, per_second) = *interfaces.get(id)?;
    let ticks = u64::from(u32_at(block, 12, big)?) << 32 | u64::from(u32_at(block, 16, big)?);
    let len = u32_at(block, 20, big)? as usize;
    let data = block.get(28..28 + len)?;
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(per_second.max(1));
    Some(Frame {
        link,
        timestamp_ns: i64::try_from(nanos).ok()?,
        data,
    })
}

fn simple<'a>(block: &'a [u8], big: bool, interfaces: &[(u32, u64)]) -> Option<Frame<'a>> {
    let (link, _) = *interfaces.first()?;
    let len = (u32_at(block, 8, big)? as usize).min(block.len().saturating_sub(16));
    Some(Frame {
        link,
        timestamp_ns: 0,
        data: block.get(12..12 + len)?,
    })
}

/// Returns the IP packet inside a frame, by link type.
fn network<'a>(frame: &Frame<'a>) -> Option<&'a [u8]> {
    let data = frame.data;
    match frame.link {
        0 | 108 => data.get(4..),
        1 => ethernet(data),
        12 | 14 | 101 => Some(data),
        113 => data.get(16..),
        276 => data.get(20..),
        _ => None,
    }
}

fn ethernet(data: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    let mut ether_type = u16_at(data, at, true)?;
    while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
        at += 4;
        ether_type = u16_at(data, at, true)?;
    }
    matches!(ether_type, 0x0800 | 0x86dd)
        .then(|| data.get(at + 2..))
        .flatten()
}

fn decode(frame: &Frame<'_>, number: u64) -> Option<Packet> {
    let ip = network(frame)?;
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => ipv4(ip)?,
        6 => ipv6(ip)?,
        _ => return None,
    };
    let src_port = u16_at(tcp, 0, true)?;
    let dst_port = u16_at(tcp, 2, true)?;
    let header = usize::from(tcp.get(12)? >> 4) * 4;
    Some(Packet {
        number,
        timestamp_ns: frame.timestamp_ns,
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        seq: u32_at(tcp, 4, true)?,
        ack: u32_at(tcp, 8, true)?,
        flags: *tcp.get(13)?,
        payload: tcp.get(header..)?.to_vec(),
    })
}

/// Addresses and TCP bytes of an IPv4 packet (first fragments only).
fn ipv4(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    let header = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16_at(ip, 2, true)?);
    let fragment_offset = u16_at(ip, 6, true)? & 0x1fff;
    if *ip.get(9)? != 6 || fragment_offset != 0 {
        return None;
    }
    let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
    let end = total.min(ip.len()).max(header);
    let tcp = ip.get(header..end)?;
    Some((Ipv4Addr::from(src).into(), Ipv4Addr::from(dst).into(), tcp))
}

/// Addresses and TCP bytes of an IPv6 packet, past common extension headers.
fn ipv6(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
    let payload_len = usize::from(u16_at(ip, 4, true)?);
    let mut next = *ip.get(6)?;
    let mut at = 40;
    while matches!(next, 0 | 43 | 60) {
        next = *ip.get(at)?;
        at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
    }
    if next != 6 {
        return None;
    }
    let end = (40 + payload_len).min(ip.len());
    let tcp = ip.get(at..end)?;
    Some((Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into(), tcp))
}
