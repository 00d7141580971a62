//! Normalized observations: what the sources saw, one record per TLS
//! session, independent of where it was seen.
//!
//! Detections read these records and never raw bytes, so every source
//! (capture files today, endpoint logs later) feeds the same detections.

mod certificate_cache;
mod session;
mod session_builder;
mod time;

pub use certificate_cache::{CertificateCache, CertificateSummary};
pub use session::{
    AlertRecord, ApplicationData, CertificateRecord, ClientHelloRecord, Endpoint, FlowEndReason,
    HeartbeatRecord, ProcessInfo, Sender, ServerHelloRecord, TlsSession, UnansweredDataAlert,
};
pub use session_builder::SessionBuilder;
pub use time::format_rfc3339;
