//! Normalized observations: what the sources saw, one record per TLS
//! session, HTTP transfer, object sighting or file checked against a
//! manifest, independent of where it was seen.
//!
//! Detections read these records and never raw bytes, so capture files
//! and endpoint logs feed the same detections.

mod certificate_cache;
mod endpoint;
mod file_check;
mod http;
mod object;
mod session;
mod session_builder;
mod starttls;
mod time;

pub use certificate_cache::{CertificateCache, CertificateSummary};
pub use endpoint::{
    ConnectionKey, ConnectionTracker, EndpointAlert, EndpointConnection, EndpointError, QuotedLine,
    cipher_facts, stream_error_name,
};
pub use file_check::{CheckStatus, FileCheck};
pub use http::{DigestRecord, HttpTransfer, TransferContext, split_warning_text, warning_text};
pub use object::{
    Digests, HashAlgorithm, ObjectIdentity, ObjectSighting, QuarantineOrigin, SightingConnection,
    SightingProcess, SightingSource, http_url, normalize_url,
};
pub use session::{
    AlertRecord, ApplicationData, CertificateRecord, ClientHelloRecord, Endpoint, FlowEndReason,
    HeartbeatRecord, ProcessInfo, Sender, ServerHelloRecord, TlsSession, UnansweredDataAlert,
};
pub use session_builder::SessionBuilder;
pub use starttls::{
    CounterRecord, DialogueContext, FindingRecord, LineRecord, RefusalRecord, StarttlsDialogue,
};
pub use time::format_rfc3339;

/// A record completed by a capture reader: a TLS session, an HTTP
/// transfer or a STARTTLS dialogue.
// Sessions are by far the more common record, and boxing them would add
// an allocation per session on handshake-dense captures.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum FlowRecord {
    Session(TlsSession),
    Transfer(Box<HttpTransfer>),
    Starttls(Box<StarttlsDialogue>),
}
