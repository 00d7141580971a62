//! Sinks: where alerts and observations go.

mod jsonl;
mod table;

pub use jsonl::{AlertLines, ObservationLines};
pub use table::AlertTable;

use std::io;

use crate::detections::Alert;
use crate::observations::TlsSession;

/// Receives results in order of session start time.
pub trait Sink {
    /// One completed session observation.
    fn session(&mut self, _session: &TlsSession) -> io::Result<()> {
        Ok(())
    }
    /// One alert.
    fn alert(&mut self, _alert: &Alert) -> io::Result<()> {
        Ok(())
    }
    /// The scan is over: flush.
    fn finish(&mut self) -> io::Result<()>;
}
