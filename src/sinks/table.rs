//! A readable table of alerts for a terminal, printed when the scan ends.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::Sink;
use crate::detections::Alert;

/// Collects alerts and prints them as a table, most severe first.
pub struct AlertTable<W: Write> {
    out: W,
    rows: Vec<Alert>,
    width: Option<u16>,
}

impl<W: Write> AlertTable<W> {
    /// `width` is the terminal width in columns, when known.
    pub fn new(out: W, width: Option<u16>) -> Self {
        AlertTable {
            out,
            rows: Vec::new(),
            width,
        }
    }
}

impl<W: Write> Sink for AlertTable<W> {
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        self.rows.push(alert.clone());
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return writeln!(self.out, "No alerts.");
        }
        self.rows
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.time_ns.cmp(&b.time_ns)));
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(width) = self.width {
            table.set_width(width);
        }
        table.set_header([
            "severity",
            "time",
            "detection",
            "host",
            "destination",
            "tls",
            "evidence",
        ]);
        for alert in &self.rows {
            table.add_row(row(alert));
        }
        writeln!(self.out, "{table}")?;
        for (index, alert) in self.rows.iter().enumerate() {
            writeln!(self.out, "{:>3}. {}", index + 1, alert.title)?;
        }
        self.out.flush()
    }
}

fn row(alert: &Alert) -> Vec<String> {
    let destination = match &alert.destination.server_name {
        Some(name) => format!(
            "{name}\n{}:{}",
            alert.destination.ip, alert.destination.port
        ),
        None => format!("{}:{}", alert.destination.ip, alert.destination.port),
    };
    let tls = [alert.tls.version.as_deref(), alert.tls.cipher.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    let evidence = alert
        .evidence
        .iter()
        .map(|e| format!("{} {}: {}", e.location, e.field, e.value))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        alert.severity.to_string(),
        alert.time.clone(),
        alert.detection.to_owned(),
        alert.host.clone(),
        destination,
        tls,
        evidence,
    ]
}
