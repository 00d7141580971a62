//! wiretrust proves that TLS traffic from macOS endpoints was not
//! downgraded or tampered with, and finds the evidence when it was.
//!
//! Data flows through four stages, one module each:
//! [`sources`] read telemetry (packet captures, endpoint logs, eslogger
//! output) into [`observations`]: TLS sessions, endpoint connections and
//! process identities; [`detections`] turn observations into alerts;
//! [`sinks`] write alerts and observations. [`scan`] and [`watch`] wire
//! them together for `wiretrust scan` and `wiretrust watch`, through the
//! pipeline that orders observations and counts results.
#![forbid(unsafe_code)]

pub mod detections;
pub mod observations;
mod pipeline;
pub mod plural;
pub mod policy;
pub mod scan;
mod scan_summary;
pub mod sigma;
pub mod sinks;
pub mod sources;
pub mod verify;
pub mod watch;
