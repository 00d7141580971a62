//! One readable line per alert as it is raised, for `wiretrust watch` on a
//! terminal, where a table printed at the end would never appear.

use std::io::{self, Write};

use super::{Sink, printable};
use crate::detections::Alert;

/// Writes `time severity detection host process: title` per alert and
/// flushes it at once.
pub struct AlertStream<W: Write> {
    out: W,
}

impl<W: Write> AlertStream<W> {
    pub fn new(out: W) -> Self {
        AlertStream { out }
    }
}

impl<W: Write> Sink for AlertStream<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        let process = match (&alert.process.name, alert.process.pid) {
            (Some(name), Some(pid)) => format!(" {}[{pid}]", printable(name)),
            (Some(name), None) => format!(" {}", printable(name)),
            (None, Some(pid)) => format!(" pid {pid}"),
            (None, None) => String::new(),
        };
        let mut notes = String::new();
        for note in super::table::policy_notes(alert) {
            notes.push_str(&format!(" [{}]", printable(&note)));
        }
        writeln!(
            self.out,
            "{} {:<8} {} {}{}: {}{notes}",
            alert.time,
            alert.severity,
            alert.detection,
            printable(&alert.host),
            process,
            printable(&alert.title)
        )?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
