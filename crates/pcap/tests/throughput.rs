//! Reading speed on a synthetic capture held in memory. Ignored by default because only
//! an optimised build gives meaningful numbers:
//! `cargo test -p wiretrust-pcap --release --test throughput -- --ignored --nocapture`.

use std::io::Cursor;
use std::time::Instant;

use wiretrust_pcap::{CaptureReader, Decoded, Transport, decode};

/// Builds a little-endian pcap of `count` Ethernet/IPv4/TCP frames of `frame_len` bytes.
fn synthetic_pcap(count: u32, frame_len: usize) -> Vec<u8> {
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
    frame.extend_from_slice(&((frame_len - 14) as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&[0, 1, 1, 187, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff]);
    frame.resize(frame_len, 0x61);
    let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    bytes.extend_from_slice(&262_144u32.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..count {
        for word in [
            1_700_000_000 + i / 1000,
            i % 1000,
            frame_len as u32,
            frame_len as u32,
        ] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.extend_from_slice(&frame);
    }
    bytes
}

/// Builds a little-endian pcapng with the same frames as [`synthetic_pcap`], each in an
/// Enhanced Packet Block followed by `options` (already encoded, ending in opt_endofopt, or
/// empty).
fn synthetic_pcapng(count: u32, frame_len: usize, options: &[u8]) -> Vec<u8> {
    let classic = synthetic_pcap(1, frame_len);
    let frame = &classic[40..];
    let mut bytes = Vec::new();
    let mut block = |block_type: u32, body: &[u8]| {
        let len = 12 + body.len() as u32;
        bytes.extend_from_slice(&block_type.to_le_bytes());
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(&len.to_le_bytes());
    };
    let mut section = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    section.extend_from_slice(&[1, 0, 0, 0]);
    section.extend_from_slice(&u64::MAX.to_le_bytes());
    block(0x0a0d_0d0a, &section);
    let mut interface = vec![1, 0, 0, 0];
    interface.extend_from_slice(&262_144u32.to_le_bytes());
    block(1, &interface);
    for i in 0..count {
        let mut body = Vec::with_capacity(32 + frame_len + options.len());
        for word in [0, 0, i, frame_len as u32, frame_len as u32] {
            body.extend_from_slice(&word.to_le_bytes());
        }
        body.extend_from_slice(frame);
        body.resize(body.len().next_multiple_of(4), 0);
        body.extend_from_slice(options);
        block(6, &body);
    }
    bytes
}

/// Apple's per-packet options as macOS tcpdump writes them: process index (0x8001),
/// effective process index (0x8003), flow id (0x8005) and the direction flags (2).
fn apple_options() -> Vec<u8> {
    let mut options = Vec::new();
    for (code, value) in [(0x8001u16, 0u32), (0x8003, 0), (0x8005, 7), (2, 2)] {
        options.extend_from_slice(&code.to_le_bytes());
        options.extend_from_slice(&4u16.to_le_bytes());
        options.extend_from_slice(&value.to_le_bytes());
    }
    options.extend_from_slice(&[0; 4]);
    options
}

/// Reads and decodes every packet and reads its Apple process metadata, as a scan does.
/// Returns the packet count, TCP payload bytes and packets that name a process.
fn read_and_decode(bytes: Vec<u8>) -> (u64, usize, u64) {
    let mut reader = CaptureReader::new(Cursor::new(bytes)).unwrap_or_else(|err| panic!("{err}"));
    let (mut packets, mut payload, mut named) = (0, 0, 0);
    while let Some(item) = reader.next_packet() {
        let packet = item.unwrap_or_else(|err| panic!("{err}"));
        packets += 1;
        named += u64::from(packet.process().process_index.is_some());
        if let Ok(Decoded::Ip(ip)) = decode(packet.link_type, packet.data)
            && let Transport::Tcp(tcp) = ip.transport
        {
            payload += tcp.payload.len();
        }
    }
    (packets, payload, named)
}

/// Reads `bytes` once, prints the speed and checks the counts. `named` is true when every
/// packet names a process.
fn measure(label: &str, bytes: Vec<u8>, count: u32, frame_len: usize, named: bool) {
    let len = bytes.len();
    let start = Instant::now();
    let (packets, payload, processes) = read_and_decode(bytes);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{label}, {frame_len}-byte frames: {packets} packets, {:.0} MB/s, {:.1} M packets/s",
        len as f64 / seconds / 1e6,
        packets as f64 / seconds / 1e6
    );
    assert_eq!(packets, u64::from(count));
    assert_eq!(payload, count as usize * (frame_len - 54));
    assert_eq!(processes, if named { packets } else { 0 });
}

#[test]
#[ignore = "measures speed; run with --release"]
fn throughput_large_and_small_frames() {
    for (count, frame_len) in [(200_000u32, 1514usize), (2_000_000, 80)] {
        measure(
            "pcap",
            synthetic_pcap(count, frame_len),
            count,
            frame_len,
            false,
        );
        let plain = synthetic_pcapng(count, frame_len, &[]);
        measure("pcapng", plain, count, frame_len, false);
        let apple = synthetic_pcapng(count, frame_len, &apple_options());
        measure("pcapng with Apple options", apple, count, frame_len, true);
    }
}
