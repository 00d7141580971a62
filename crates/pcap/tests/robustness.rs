//! Property checks: random, truncated and mutated inputs never panic the reader or the
//! decoder, and reading always terminates.

use std::io::Cursor;

use wiretrust_pcap::{CaptureReader, LinkType, decode};

/// xorshift64*: a small deterministic generator, so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Link types with a decoder, plus one without.
const LINK_TYPES: [u32; 17] = [
    0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 276, 147, 149, 258,
];

/// Reads every item of `bytes`; returns the number of items, panicking if reading does
/// not end within a bound proportional to the input length.
fn drain(bytes: Vec<u8>) -> usize {
    let limit = bytes.len() + 10;
    let Ok(mut reader) = CaptureReader::new(Cursor::new(bytes)) else {
        return 0;
    };
    let mut items = 0;
    while let Some(item) = reader.next_packet() {
        if let Ok(packet) = item {
            let _ = decode(packet.link_type, packet.data);
        }
        items += 1;
        assert!(items <= limit, "reader did not terminate");
    }
    items
}

fn pcap_sample(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&65535u32.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..20u32 {
        let data = ethernet_tcp(rng);
        let len = data.len() as u32;
        for word in [1_600_000_000 + i, 0, len, len] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.extend(data);
    }
    bytes
}

fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let total = (body.len().next_multiple_of(4) + 12) as u32;
    let mut out = block_type.to_le_bytes().to_vec();
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(total as usize - 4, 0);
    out.extend_from_slice(&total.to_le_bytes());
    out
}

fn pcapng_sample(rng: &mut Rng) -> Vec<u8> {
    let mut section = vec![0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
    section.extend_from_slice(&[0xff; 8]);
    let mut bytes = block(0x0a0d_0d0a, &section);
    bytes.extend(block(
        1,
        &[1, 0, 0, 0, 0, 0, 4, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    for i in 0..20u32 {
        let data = ethernet_tcp(rng);
        let mut body = Vec::new();
        for word in [0, 0, i, data.len() as u32, data.len() as u32] {
            body.extend_from_slice(&word.to_le_bytes());
        }
        body.extend(data);
        bytes.extend(block(6, &body));
    }
    bytes
}

fn ethernet_tcp(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(200);
    let payload = rng.bytes(len);
    let mut frame = vec![0; 12];
    frame.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
    frame.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&[0, 1, 1, 187, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff]);
    frame.extend_from_slice(&[0; 4]);
    frame.extend(payload);
    frame
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(bytes.len());
        if let Some(byte) = bytes.get_mut(at) {
            *byte = rng.next() as u8;
        }
    }
    if rng.below(3) == 0 {
        bytes.truncate(rng.below(bytes.len() + 1));
    }
    bytes
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let len = rng.below(300);
        let mut bytes = rng.bytes(len);
        // Give half of the inputs a valid magic so the record parsers are reached.
        let magics: [&[u8]; 4] = [
            b"\xd4\xc3\xb2\xa1",
            b"\xa1\xb2\x3c\x4d",
            b"\x0a\x0d\x0d\x0a",
            b"\x1f\x8b",
        ];
        if rng.below(2) == 0 && bytes.len() >= 4 {
            let magic = magics[rng.below(magics.len())];
            bytes[..magic.len()].copy_from_slice(magic);
        }
        drain(bytes);
    }
}

#[test]
fn mutated_pcap_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..300 {
        let sample = pcap_sample(&mut rng);
        drain(mutate(&mut rng, sample));
    }
}

#[test]
fn mutated_pcapng_never_panics() {
    let mut rng = Rng(7);
    for _ in 0..300 {
        let sample = pcapng_sample(&mut rng);
        drain(mutate(&mut rng, sample));
    }
}

#[test]
fn truncated_captures_never_panic() {
    let mut rng = Rng(99);
    let samples = [pcap_sample(&mut rng), pcapng_sample(&mut rng)];
    for sample in samples {
        for len in 0..sample.len() {
            drain(sample[..len].to_vec());
        }
    }
}

#[test]
fn unmutated_samples_read_fully() {
    let mut rng = Rng(5);
    assert_eq!(
        (drain(pcap_sample(&mut rng)), drain(pcapng_sample(&mut rng))),
        (20, 20)
    );
}

#[test]
fn random_frames_never_panic_decode() {
    let mut rng = Rng(1234);
    for _ in 0..20_000 {
        let link_type = LinkType(LINK_TYPES[rng.below(LINK_TYPES.len())]);
        let len = rng.below(240);
        let mut frame = rng.bytes(len);
        // Steer the frames towards IP so the deeper layers see random input too.
        if let (Some(first), true) = (frame.first_mut(), rng.below(2) == 0) {
            *first = if rng.below(2) == 0 { 0x45 } else { 0x60 };
        }
        let _ = decode(link_type, &frame);
    }
}

#[test]
fn truncated_frames_never_panic_decode() {
    let mut rng = Rng(77);
    for _ in 0..200 {
        let frame = ethernet_tcp(&mut rng);
        for len in 0..frame.len() {
            let _ = decode(LinkType::ETHERNET, &frame[..len]);
        }
    }
}
