//! wiretrust proves that TLS traffic from macOS endpoints was not
//! downgraded or tampered with, and finds the evidence when it was.
//!
//! Data flows through four stages, one module each:
//! [`sources`] read telemetry (packet captures) and rebuild TLS sessions
//! into [`observations`]; [`detections`] turn observations into alerts;
//! [`sinks`] write alerts and observations. [`scan`] wires them together
//! for `wiretrust scan`.
#![forbid(unsafe_code)]

pub mod detections;
pub mod observations;
pub mod scan;
pub mod sinks;
pub mod sources;
