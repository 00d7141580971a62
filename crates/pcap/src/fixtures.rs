//! Builders of captures and frames for the unit tests.

use crate::bytes::ByteOrder;

/// Appends `value` to `out` in byte order `order`.
pub(crate) fn put_u16(out: &mut Vec<u8>, order: ByteOrder, value: u16) {
    match order {
        ByteOrder::Little => out.extend_from_slice(&value.to_le_bytes()),
        ByteOrder::Big => out.extend_from_slice(&value.to_be_bytes()),
    }
}

/// Appends `value` to `out` in byte order `order`.
pub(crate) fn put_u32(out: &mut Vec<u8>, order: ByteOrder, value: u32) {
    match order {
        ByteOrder::Little => out.extend_from_slice(&value.to_le_bytes()),
        ByteOrder::Big => out.extend_from_slice(&value.to_be_bytes()),
    }
}

/// A classic pcap file under construction.
pub(crate) struct PcapFile {
    pub(crate) order: ByteOrder,
    pub(crate) bytes: Vec<u8>,
}

impl PcapFile {
    /// Starts a file with the given timestamp unit, snapshot length and link type.
    pub(crate) fn new(order: ByteOrder, nanosecond: bool, snaplen: u32, link_type: u32) -> Self {
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut bytes = Vec::new();
        put_u32(&mut bytes, order, magic);
        put_u16(&mut bytes, order, 2);
        put_u16(&mut bytes, order, 4);
        put_u32(&mut bytes, order, 0);
        put_u32(&mut bytes, order, 0);
        put_u32(&mut bytes, order, snaplen);
        put_u32(&mut bytes, order, link_type);
        Self { order, bytes }
    }

    /// Appends a record whose original length equals the data length.
    pub(crate) fn record(mut self, ts_sec: u32, ts_frac: u32, data: &[u8]) -> Self {
        let len = data.len() as u32;
        self.raw_record(ts_sec, ts_frac, len, len);
        self.bytes.extend_from_slice(data);
        self
    }

    /// Appends only a record header.
    pub(crate) fn raw_record(&mut self, ts_sec: u32, ts_frac: u32, caplen: u32, origlen: u32) {
        for word in [ts_sec, ts_frac, caplen, origlen] {
            put_u32(&mut self.bytes, self.order, word);
        }
    }
}

/// A pcapng file under construction.
pub(crate) struct PcapNgFile {
    pub(crate) order: ByteOrder,
    pub(crate) bytes: Vec<u8>,
}

impl PcapNgFile {
    /// Starts a file with a section header in byte order `order`.
    pub(crate) fn new(order: ByteOrder) -> Self {
        Self {
            order,
            bytes: Vec::new(),
        }
        .section(order)
    }

    /// Appends a section header, switching to byte order `order`.
    pub(crate) fn section(mut self, order: ByteOrder) -> Self {
        self.order = order;
        let mut body = Vec::new();
        put_u32(&mut body, order, 0x1a2b_3c4d);
        put_u16(&mut body, order, 1);
        put_u16(&mut body, order, 0);
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, &body)
    }

    /// Appends a block with its lengths; the body is padded to 32 bits.
    pub(crate) fn block(mut self, block_type: u32, body: &[u8]) -> Self {
        let padded = body.len().next_multiple_of(4);
        let total = (padded + 12) as u32;
        put_u32(&mut self.bytes, self.order, block_type);
        put_u32(&mut self.bytes, self.order, total);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        put_u32(&mut self.bytes, self.order, total);
        self
    }

    /// Appends an interface description with options `(code, value)`.
    pub(crate) fn interface(self, link_type: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Self {
        let order = self.order;
        let mut body = Vec::new();
        put_u16(&mut body, order, link_type);
        put_u16(&mut body, order, 0);
        put_u32(&mut body, order, snaplen);
        body.extend(options_bytes(order, options));
        self.block(1, &body)
    }

    /// Appends an Enhanced Packet Block.
    pub(crate) fn enhanced(
        self,
        interface: u32,
        ticks: u64,
        data: &[u8],
        options: &[(u16, &[u8])],
    ) -> Self {
        let order = self.order;
        let mut body = Vec::new();
        put_u32(&mut body, order, interface);
        put_u32(&mut body, order, (ticks >> 32) as u32);
        put_u32(&mut body, order, ticks as u32);
        put_u32(&mut body, order, data.len() as u32);
        put_u32(&mut body, order, data.len() as u32 + 10);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        body.extend(options_bytes(order, options));
        self.block(6, &body)
    }
}

/// Encodes options followed by `opt_endofopt`.
pub(crate) fn options_bytes(order: ByteOrder, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    if options.is_empty() {
        return out;
    }
    for (code, value) in options {
        put_u16(&mut out, order, *code);
        put_u16(&mut out, order, value.len() as u16);
        out.extend_from_slice(value);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out.extend_from_slice(&[0; 4]);
    out
}

/// Builds a TCP header (20 bytes plus `options`) followed by `payload`.
pub(crate) fn tcp(
    src_port: u16,
    dst_port: u16,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let header_len = 20 + options.len();
    let mut out = Vec::new();
    out.extend_from_slice(&src_port.to_be_bytes());
    out.extend_from_slice(&dst_port.to_be_bytes());
    out.extend_from_slice(&1000u32.to_be_bytes());
    out.extend_from_slice(&2000u32.to_be_bytes());
    out.push(((header_len / 4) as u8) << 4);
    out.push(flags);
    out.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    out
}

/// Builds a UDP header followed by `payload`.
pub(crate) fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&src_port.to_be_bytes());
    out.extend_from_slice(&dst_port.to_be_bytes());
    out.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

/// Builds an IPv4 packet from 10.0.0.1 to 10.0.0.2 with header `options` and a transport payload.
pub(crate) fn ipv4(protocol: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let header_len = 20 + options.len();
    let total = (header_len + payload.len()) as u16;
    let mut out = vec![0x40 | (header_len / 4) as u8, 0];
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    out.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    out
}

/// Builds an IPv6 packet from 2001:db8::1 to 2001:db8::2. The `payload` starts with any
/// extension headers, and `next_header` names the first of them.
pub(crate) fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x60, 0, 0, 0];
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(&[next_header, 57]);
    for last in [1, 2] {
        out.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        out.extend_from_slice(&[0; 11]);
        out.push(last);
    }
    out.extend_from_slice(payload);
    out
}

/// Builds an Ethernet II header with `ethertype` followed by `payload`.
pub(crate) fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}
