//! Sources: where telemetry comes from. Each source turns its input into
//! [`crate::observations`] records: packet captures into TLS sessions,
//! endpoint logs into connections and parsed lines, eslogger output into
//! process identities, sensor logs and quarantine records into object
//! sightings.

pub mod capture;
mod capture_stats;
pub mod endpoint_log;
pub mod eslogger;
mod flows;
mod inputs;
pub mod kind;
#[cfg(feature = "live")]
pub mod live;
mod packet_owner;
pub mod partition;
mod plaintext;
pub mod provenance;
mod starttls;
pub mod timing;

pub use inputs::{InputFile, expand_inputs};
