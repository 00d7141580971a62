//! JSON Lines: one object per line, for SIEMs and `jq`.

use std::io::{self, Write};

use super::Sink;
use crate::detections::Alert;
use crate::observations::{EndpointConnection, TlsSession};

/// Writes each alert as one JSON object per line.
pub struct AlertLines<W: Write> {
    out: W,
}

impl<W: Write> AlertLines<W> {
    pub fn new(out: W) -> Self {
        AlertLines { out }
    }
}

impl<W: Write> Sink for AlertLines<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, alert)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes each observation (capture session or endpoint connection) as
/// one JSON object per line.
pub struct ObservationLines<W: Write> {
    out: W,
}

impl<W: Write> ObservationLines<W> {
    pub fn new(out: W) -> Self {
        ObservationLines { out }
    }
}

impl<W: Write> Sink for ObservationLines<W> {
    fn session(&mut self, session: &TlsSession) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, session)?;
        self.out.write_all(b"\n")
    }

    fn endpoint_connection(&mut self, connection: &EndpointConnection) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, connection)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
