//! Counters and quoted problems from reading one capture, for the scan summary.
//!
//! The capture reader, the flow table and the plain-text HTTP reader all add to these
//! counters, so they live apart from all three.

use std::collections::BTreeMap;

use wiretrust_pcap::Packet;

/// At most this many warnings are kept word for word per input; the rest
/// are counted.
const MAX_WARNINGS: usize = 20;

/// Counts of reading one capture, for the summary.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// File bytes consumed.
    pub bytes: u64,
    /// Packet records read.
    pub packets: u64,
    /// TCP segments decoded.
    pub tcp_segments: u64,
    /// UDP datagrams decoded.
    pub udp_datagrams: u64,
    /// UDP datagrams that did not carry QUIC.
    pub udp_not_quic: u64,
    /// QUIC Initial packets that did not decrypt (keys from a connection
    /// whose first Initial the capture lacks).
    pub quic_undecrypted: u64,
    /// Frames that carried something other than IP.
    pub non_ip_frames: u64,
    /// IP fragments, which are not reassembled.
    pub ip_fragments: u64,
    /// Packets the capture cut short (snapshot length).
    pub truncated_packets: u64,
    /// Frames that could not be decoded, by reason.
    pub undecodable: BTreeMap<String, u64>,
    /// Corrupt or unreadable parts of the file, word for word.
    pub read_errors: Vec<String>,
    /// Corrupt or unreadable parts of the file, all counted.
    pub read_errors_total: u64,
    /// The file could not be read to its end.
    pub incomplete: bool,
    /// TCP flows opened.
    pub flows: u64,
    /// Holes in TCP streams given up on (bytes the capture lacks).
    pub capture_gaps: u64,
    /// Bytes missing in those holes.
    pub capture_gap_bytes: u64,
    /// TCP flows ended early because the flow table was full.
    pub flows_evicted: u64,
    /// TCP flows ended after the idle timeout.
    pub flows_idle_timeout: u64,
    /// Times an out-of-order buffer limit forced a hole to be given up.
    pub buffer_limit_hits: u64,
    /// TCP sides that got no window to check retransmissions against,
    /// because that memory limit was reached.
    pub compare_windows_refused: u64,
    /// TLS sessions completed.
    pub sessions: u64,
    /// QUIC connections whose Initial packets were followed.
    pub quic_connections: u64,
    /// QUIC connections ended early because the tracker was full.
    pub quic_connections_evicted: u64,
    /// QUIC CRYPTO bytes dropped at the memory limits.
    pub quic_crypto_bytes_dropped: u64,
    /// Flows given up on because no TLS started within the scan limit.
    pub flows_not_tls: u64,
    /// HTTP transfers read from plaintext flows.
    pub http_transfers: u64,
    /// Recoverable HTTP parse problems (oversized headers, malformed
    /// chunk sizes, invalid digest values).
    pub http_warnings: u64,
    /// The first HTTP parse problems word for word, at most
    /// [`MAX_HTTP_WARNING_EXAMPLES`], each naming its packet and offset.
    pub http_warning_examples: Vec<String>,
    /// STARTTLS dialogues (SMTP, IMAP, POP3, FTP, XMPP) read from
    /// plaintext flows.
    pub starttls_dialogues: u64,
}

/// HTTP parse problems quoted per input at most; the rest are counted.
pub(crate) const MAX_HTTP_WARNING_EXAMPLES: usize = 5;

/// HTTP parse problems found in one capture: a count and the first few
/// word for word.
#[derive(Debug, Default)]
pub(crate) struct HttpWarnings {
    pub count: u64,
    pub examples: Vec<String>,
}

impl HttpWarnings {
    /// Counts one problem of flow `stream`, quoting it while few.
    pub fn record(&mut self, stream: u64, text: impl FnOnce() -> String) {
        self.count = self.count.saturating_add(1);
        if self.examples.len() < MAX_HTTP_WARNING_EXAMPLES {
            self.examples.push(format!("TCP flow {stream}, {}", text()));
        }
    }

    /// Adds these problems to the capture's counts.
    pub fn add_to(&self, stats: &mut CaptureStats) {
        stats.http_warnings = stats.http_warnings.saturating_add(self.count);
        let room = MAX_HTTP_WARNING_EXAMPLES.saturating_sub(stats.http_warning_examples.len());
        let quoted = self.examples.iter().take(room).cloned();
        stats.http_warning_examples.extend(quoted);
    }
}

impl CaptureStats {
    /// Counts one packet record.
    pub(crate) fn count_packet(&mut self, packet: &Packet<'_>) {
        self.packets += 1;
        if packet.data.len() < packet.original_len as usize {
            self.truncated_packets += 1;
        }
    }

    /// Records a damaged part of the file, word for word while few.
    pub(crate) fn read_error(&mut self, message: String) {
        self.read_errors_total += 1;
        if self.read_errors.len() < MAX_WARNINGS {
            self.read_errors.push(message);
        }
    }
}
