//! A readable table of alerts for a terminal, printed when the scan ends.

use std::io::{self, Write};
use std::path::Path;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{Sink, printable, wrap};
use crate::detections::Alert;

/// Width used for the title list when the terminal width is unknown.
const DEFAULT_WIDTH: usize = 100;

/// Indentation of continuation and evidence lines in the detail list.
const INDENT: &str = "     ";

/// Collects alerts and prints them as a table, most severe first, then one
/// numbered entry per alert with its time, input, title and evidence.
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

    /// Writes one numbered entry per alert: time, input and title, then
    /// its evidence, wrapped to the width.
    fn write_details(&mut self) -> io::Result<()> {
        let width = self.width.map_or(DEFAULT_WIDTH, usize::from).max(40);
        for (index, alert) in self.rows.iter().enumerate() {
            let input = file_name(&alert.session.input);
            let heading = format!(
                "{:>3}. {} {}: {}",
                index + 1,
                alert.time,
                printable(&input),
                printable(&alert.title)
            );
            let mut lines = wrap(&heading, width, INDENT.len());
            for note in policy_notes(alert) {
                let line = format!("{INDENT}policy: {}", printable(&note));
                lines.extend(wrap(&line, width, INDENT.len() + 2));
            }
            for evidence in &alert.evidence {
                let line = format!(
                    "{}{}: {} = {}",
                    INDENT,
                    evidence.location,
                    evidence.field,
                    printable(&evidence.value)
                );
                lines.extend(wrap(&line, width, INDENT.len() + 2));
            }
            for (number, line) in lines.iter().enumerate() {
                let continued = number > 0 && !line.starts_with(INDENT);
                let indent = if continued { INDENT } else { "" };
                writeln!(self.out, "{indent}{line}")?;
            }
        }
        Ok(())
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
            "#",
            "severity",
            "detection",
            "host",
            "process",
            "destination",
            "version",
        ]);
        for (index, alert) in self.rows.iter().enumerate() {
            table.add_row(row(index + 1, alert));
        }
        writeln!(self.out, "{table}")?;
        self.write_details()?;
        self.out.flush()
    }
}

fn row(number: usize, alert: &Alert) -> Vec<String> {
    let address = match (alert.destination.ip, alert.destination.port) {
        (Some(ip), Some(port)) => Some(std::net::SocketAddr::new(ip, port).to_string()),
        (Some(ip), None) => Some(ip.to_string()),
        (None, Some(port)) => Some(format!("port {port}")),
        (None, None) => None,
    };
    let destination = match (&alert.destination.server_name, address) {
        (Some(name), Some(address)) => format!("{}\n{address}", printable(name)),
        (Some(name), None) => printable(name).into_owned(),
        (None, Some(address)) => address,
        (None, None) => "unknown".to_owned(),
    };
    let process = match (&alert.process.name, alert.process.pid) {
        (Some(name), Some(pid)) => format!("{}[{pid}]", printable(name)),
        (Some(name), None) => printable(name).into_owned(),
        (None, Some(pid)) => format!("pid {pid}"),
        (None, None) => String::new(),
    };
    let severity = match alert.suppressed_by {
        Some(_) => format!("{}\nsuppressed", alert.severity),
        None => alert.severity.to_string(),
    };
    vec![
        number.to_string(),
        severity,
        alert.detection.to_owned(),
        printable(&alert.host).into_owned(),
        process,
        destination,
        alert.tls.version.clone().unwrap_or_default(),
    ]
}

/// Lists what the policy changed about an alert and, for a suppressed
/// alert written with `--show-suppressed`, the entry that suppressed it.
pub(super) fn policy_notes(alert: &Alert) -> Vec<String> {
    let mut notes = alert.policy.clone();
    if let Some(by) = &alert.suppressed_by {
        notes.push(format!(
            "suppressed by {}[{}] at line {}: {}",
            by.section, by.index, by.line, by.reason
        ));
    }
    notes
}

fn file_name(input: &str) -> String {
    Path::new(input).file_name().map_or_else(
        || input.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}
