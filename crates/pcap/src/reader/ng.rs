//! Block iteration for pcapng files.

use std::io::Read;
use std::ops::Range;

use super::{RawPacket, Stream, bad_header, short_header};
use crate::bytes::{ByteOrder, Scan};
use crate::error::{ReadError, Recovery, TruncatedPart};
use crate::input::{Input, MIN_BUFFER_LEN};
use crate::pcapng::{self as ng, Interface, PacketFields, PcapNgError, ProcessInfo};
use crate::reader::{FormatKind, OpenError};

/// Length of the type and total length words at the start of a block.
const BLOCK_HEAD_LEN: usize = 8;
/// Bytes a section header needs to reveal its byte order.
const SECTION_HEAD_LEN: usize = 12;

/// A block whose framing passed the checks.
struct BlockHead {
    block_type: u32,
    len: usize,
    order: ByteOrder,
}

/// Reading state of a pcapng file.
pub(super) struct PcapNgDriver {
    /// Byte order of the current section.
    order: ByteOrder,
    interfaces: Vec<Interface>,
    /// Process information blocks of the current section by index. A block that failed
    /// to parse keeps its index as `None`, so later blocks keep theirs.
    processes: Vec<Option<ProcessInfo>>,
    /// Set after a section header with an unsupported version: its blocks are skipped.
    skipping_section: bool,
}

impl PcapNgDriver {
    /// Checks the first section header; it stays in `input` and is read again as a block.
    pub(super) fn open<R: Read>(input: &mut Input<R>) -> Result<Self, OpenError> {
        let kind = FormatKind::PcapNg;
        let window = input.window();
        let order = match ng::section_byte_order(window) {
            Ok(Some(order)) => order,
            Ok(None) => {
                let part = TruncatedPart::BlockHeader;
                return Err(short_header(kind, part, SECTION_HEAD_LEN, window.len()));
            }
            Err(err) => return Err(bad_header(kind, err)),
        };
        let len = order.u32_at(window, 4).unwrap_or_default();
        ng::check_block_length(len).map_err(|err| bad_header(kind, err))?;
        let len = len as usize;
        let complete = input
            .fill(len)
            .map_err(|source| OpenError::Io { path: None, source })?;
        let window = input.window();
        if !complete {
            return Err(short_header(kind, TruncatedPart::Block, len, window.len()));
        }
        let body = window.get(BLOCK_HEAD_LEN..len - 4).unwrap_or_default();
        ng::parse_section_header(body, order).map_err(|err| bad_header(kind, err))?;
        let processes = Vec::new();
        Ok(Self {
            order,
            interfaces: Vec::new(),
            processes,
            skipping_section: false,
        })
    }

    /// Returns the processes of the current section.
    pub(super) fn processes(&self) -> &[Option<ProcessInfo>] {
        &self.processes
    }

    /// Returns the next packet, `Ok(None)` at a clean end of the file.
    pub(super) fn next<R: Read>(
        &mut self,
        stream: &mut Stream<R>,
    ) -> Result<Option<RawPacket>, ReadError> {
        loop {
            let Some(head) = self.read_block_head(stream)? else {
                return Ok(None);
            };
            if let Some(packet) = self.handle_block(stream, head)? {
                return Ok(Some(packet));
            }
        }
    }

    /// Validates the framing of the block at the window start and makes it fully
    /// buffered, without consuming it.
    fn read_block_head<R: Read>(
        &self,
        stream: &mut Stream<R>,
    ) -> Result<Option<BlockHead>, ReadError> {
        if !stream.fill(BLOCK_HEAD_LEN, None)? {
            if stream.input.window().is_empty() {
                return Ok(None);
            }
            return Err(stream.truncated(TruncatedPart::BlockHeader, BLOCK_HEAD_LEN, None));
        }
        let order = self.block_order(stream)?;
        let window = stream.input.window();
        let block_type = order.u32_at(window, 0).unwrap_or_default();
        let len = order.u32_at(window, 4).unwrap_or_default();
        if let Err(err) = ng::check_block_length(len) {
            return Err(stream.recover(None, err, self.scanner()));
        }
        let len = len as usize;
        if !stream.fill(len, None)? {
            let part = TruncatedPart::Block;
            return Err(stream.recover_past_end(part, len, None, self.scanner()));
        }
        let trailing = order
            .u32_at(stream.input.window(), len - 4)
            .unwrap_or_default();
        if trailing as usize != len {
            let err = PcapNgError::LengthMismatch {
                leading: len as u32,
                trailing,
            };
            return Err(stream.recover(None, err, self.scanner()));
        }
        Ok(Some(BlockHead {
            block_type,
            len,
            order,
        }))
    }

    /// Returns the byte order of the block at the window start: its own for a section
    /// header, else the current section's.
    fn block_order<R: Read>(&self, stream: &mut Stream<R>) -> Result<ByteOrder, ReadError> {
        let window = stream.input.window();
        if ByteOrder::Big.u32_at(window, 0) != Some(ng::SECTION_HEADER) {
            return Ok(self.order);
        }
        if !stream.fill(SECTION_HEAD_LEN, None)? {
            return Err(stream.truncated(TruncatedPart::BlockHeader, SECTION_HEAD_LEN, None));
        }
        match ng::section_byte_order(stream.input.window()) {
            Ok(order) => Ok(order.unwrap_or(self.order)),
            Err(err) => Err(stream.recover(None, err, self.scanner())),
        }
    }

    /// Consumes a framed block; returns the packet it carries, if any.
    fn handle_block<R: Read>(
        &mut self,
        stream: &mut Stream<R>,
        head: BlockHead,
    ) -> Result<Option<RawPacket>, ReadError> {
        let offset = stream.input.offset();
        let range = stream.input.take(head.len);
        let body = range.start + BLOCK_HEAD_LEN..range.end - 4;
        let is_packet = matches!(
            head.block_type,
            ng::ENHANCED_PACKET | ng::SIMPLE_PACKET | ng::OBSOLETE_PACKET
        );
        if head.block_type == ng::SECTION_HEADER {
            self.start_section(stream, head.order, body)
                .map_err(|err| ReadError::new(offset, None, err, Recovery::SkippedSection))?;
            return Ok(None);
        }
        if self.skipping_section || !is_packet {
            let result = self.handle_other(stream, head.block_type, body);
            return result
                .map(|()| None)
                .map_err(|err| ReadError::new(offset, None, err, Recovery::SkippedBlock));
        }
        let number = stream.take_number();
        self.packet(stream, head.block_type, body)
            .map(|mut packet| {
                packet.number = number;
                packet.offset = offset;
                Some(packet)
            })
            .map_err(|err| ReadError::new(offset, Some(number), err, Recovery::SkippedBlock))
    }

    /// Resets the per-section state from a section header.
    fn start_section<R: Read>(
        &mut self,
        stream: &mut Stream<R>,
        order: ByteOrder,
        body: Range<usize>,
    ) -> Result<(), PcapNgError> {
        self.order = order;
        self.interfaces.clear();
        self.processes.clear();
        stream.stats.sections += 1;
        let parsed = ng::parse_section_header(stream.input.slice(body), order);
        self.skipping_section = parsed.is_err();
        parsed.map(drop)
    }

    /// Reads interface and process blocks and counts every non-packet block.
    fn handle_other<R: Read>(
        &mut self,
        stream: &mut Stream<R>,
        block_type: u32,
        body: Range<usize>,
    ) -> Result<(), PcapNgError> {
        if block_type == ng::INTERFACE_DESCRIPTION && !self.skipping_section {
            let interface = ng::parse_interface(stream.input.slice(body), self.order)?;
            self.interfaces.push(interface);
            stream.stats.interfaces += 1;
            return Ok(());
        }
        *stream.stats.skipped_blocks.entry(block_type).or_insert(0) += 1;
        if block_type == ng::APPLE_PROCESS_INFORMATION && !self.skipping_section {
            let process = ng::parse_process_info(stream.input.slice(body), self.order);
            self.processes.push(process.as_ref().ok().cloned());
            process?;
        }
        Ok(())
    }

    /// Parses a packet block whose body is at `body`; number and offset are set by the
    /// caller.
    fn packet<R: Read>(
        &self,
        stream: &Stream<R>,
        block_type: u32,
        body: Range<usize>,
    ) -> Result<RawPacket, PcapNgError> {
        let bytes = stream.input.slice(body.clone());
        let fields = match block_type {
            ng::ENHANCED_PACKET => ng::parse_enhanced_packet(bytes, self.order)?,
            ng::OBSOLETE_PACKET => ng::parse_obsolete_packet(bytes, self.order)?,
            _ => {
                let interface = self.interface(0)?;
                ng::parse_simple_packet(bytes, self.order, interface.snaplen)?
            }
        };
        let interface = self.interface(fields.interface)?;
        Ok(self.raw_packet(&fields, interface, body.start))
    }

    fn interface(&self, id: u32) -> Result<&Interface, PcapNgError> {
        let count = self.interfaces.len();
        let found = usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i));
        found.ok_or(PcapNgError::UnknownInterface { id, count })
    }

    fn raw_packet(&self, fields: &PacketFields, interface: &Interface, base: usize) -> RawPacket {
        let shift = |r: &Range<usize>| base + r.start..base + r.end;
        RawPacket {
            number: 0,
            offset: 0,
            timestamp_ns: fields
                .ticks
                .map_or(0, |ticks| interface.timestamp_ns(ticks)),
            link_type: interface.link_type,
            interface: fields.interface,
            data: shift(&fields.data),
            original_len: fields.original_len,
            options: shift(&fields.options),
            byte_order: self.order,
        }
    }

    /// Returns the search function for the next block with agreeing lengths.
    fn scanner(&self) -> impl FnMut(&[u8], bool) -> Scan + use<> {
        let order = self.order;
        move |window, at_eof| ng::find_block(window, order, MIN_BUFFER_LEN, at_eof)
    }
}
