//! Record iteration for classic pcap files.

use std::io::Read;

use super::{RawPacket, Stream, bad_header, short_header};
use crate::error::{ReadError, TruncatedPart};
use crate::input::Input;
use crate::pcap::{self, FileHeader, RECORD_HEADER_LEN, RecordHeader};
use crate::reader::{FormatKind, OpenError};

/// Reading state of a pcap file.
pub(super) struct PcapDriver {
    header: FileHeader,
    /// Seconds field of the last good record, to judge candidates after corruption.
    previous_ts_sec: Option<u32>,
}

impl PcapDriver {
    /// Parses and consumes the file header at the start of `input`.
    pub(super) fn open<R: Read>(input: &mut Input<R>) -> Result<Self, OpenError> {
        let window = input.window();
        let header = match FileHeader::parse(window) {
            Ok(Some(header)) => header,
            Ok(None) => {
                let (part, needed) = (TruncatedPart::FileHeader, pcap::FILE_HEADER_LEN);
                return Err(short_header(FormatKind::Pcap, part, needed, window.len()));
            }
            Err(err) => return Err(bad_header(FormatKind::Pcap, err)),
        };
        input.consume(pcap::FILE_HEADER_LEN);
        Ok(Self {
            header,
            previous_ts_sec: None,
        })
    }

    /// Returns the next record, `Ok(None)` at a clean end of the file.
    pub(super) fn next<R: Read>(
        &mut self,
        stream: &mut Stream<R>,
    ) -> Result<Option<RawPacket>, ReadError> {
        let offset = stream.input.offset();
        if !stream.fill(RECORD_HEADER_LEN, None)? {
            if stream.input.window().is_empty() {
                return Ok(None);
            }
            let number = stream.take_number();
            return Err(stream.truncated(
                TruncatedPart::RecordHeader,
                RECORD_HEADER_LEN,
                Some(number),
            ));
        }
        let Some(record) = RecordHeader::parse(stream.input.window(), self.header.byte_order)
        else {
            return Ok(None);
        };
        let number = stream.take_number();
        if let Err(err) = record.check(&self.header) {
            return Err(stream.recover(Some(number), err, self.scanner()));
        }
        let total = RECORD_HEADER_LEN + record.caplen as usize;
        if !stream.fill(total, Some(number))? {
            let part = TruncatedPart::Record;
            return Err(stream.recover_past_end(part, total, Some(number), self.scanner()));
        }
        let range = stream.input.take(total);
        self.previous_ts_sec = Some(record.ts_sec);
        let data_start = range.start + RECORD_HEADER_LEN;
        Ok(Some(RawPacket {
            number,
            offset,
            timestamp_ns: record.timestamp_ns(self.header.nanosecond),
            link_type: self.header.link_type,
            interface: 0,
            data: data_start..range.end,
            original_len: record.origlen,
            options: range.end..range.end,
            byte_order: self.header.byte_order,
        }))
    }

    /// Returns the search function for the next plausible record header.
    fn scanner(&self) -> impl FnMut(&[u8], bool) -> crate::bytes::Scan + use<> {
        let header = self.header;
        let previous = self.previous_ts_sec;
        move |window, at_eof| pcap::find_record(window, &header, previous, at_eof)
    }
}
