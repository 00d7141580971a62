//! JSON Lines: one object per line, for SIEMs and `jq`.

use std::io::{self, Write};

use serde::Serialize;

use super::Sink;
use crate::detections::Alert;
use crate::observations::{
    EndpointConnection, FileCheck, HttpTransfer, ObjectSighting, StarttlsDialogue, TlsSession,
};

/// Writes each alert as one JSON object per line.
pub struct AlertLines<W: Write> {
    out: W,
    /// The line being built, reused between records.
    line: Vec<u8>,
}

impl<W: Write> AlertLines<W> {
    pub fn new(out: W) -> Self {
        AlertLines {
            out,
            line: Vec::new(),
        }
    }
}

impl<W: Write> Sink for AlertLines<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, alert)
    }

    /// `wiretrust verify` has no separate observations file, so its
    /// `file_check` records share the stream with the alerts.
    fn file_check(&mut self, check: &FileCheck) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, check)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes each observation (capture session, HTTP transfer, STARTTLS
/// dialogue, endpoint connection or object sighting) as one JSON object
/// per line.
pub struct ObservationLines<W: Write> {
    out: W,
    /// The line being built, reused between records.
    line: Vec<u8>,
}

impl<W: Write> ObservationLines<W> {
    pub fn new(out: W) -> Self {
        ObservationLines {
            out,
            line: Vec::new(),
        }
    }
}

impl<W: Write> Sink for ObservationLines<W> {
    fn session(&mut self, session: &TlsSession) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, session)
    }

    fn transfer(&mut self, transfer: &HttpTransfer) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, transfer)
    }

    fn dialogue(&mut self, dialogue: &StarttlsDialogue) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, dialogue)
    }

    fn endpoint_connection(&mut self, connection: &EndpointConnection) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, connection)?;
        self.out.write_all(b"\n")
    }

    fn object_sighting(&mut self, sighting: &ObjectSighting) -> io::Result<()> {
        write_line(&mut self.out, &mut self.line, sighting)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Serializes `record` into `line` and writes it with its newline in one
/// call. serde_json emits a record as dozens of small writes, which cost
/// far less into a `Vec` than through the output's writer chain. A record
/// that fails to serialize writes nothing.
fn write_line<W: Write, T: Serialize>(
    out: &mut W,
    line: &mut Vec<u8>,
    record: &T,
) -> io::Result<()> {
    line.clear();
    serde_json::to_writer(&mut *line, record)?;
    line.push(b'\n');
    out.write_all(line)
}
