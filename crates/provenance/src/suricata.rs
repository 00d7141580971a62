//! Suricata `eve.json`: the `fileinfo` and `http` events. Lines of other
//! event types are skipped without being parsed, because a line that
//! contains neither `"fileinfo"` nor `"http"` cannot be one of them.

use std::io::BufRead;

use serde::Deserialize;

use crate::lines::{ReadStats, for_each_line};
use crate::time;

/// The HTTP transaction a file or event belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EveHttpFields {
    pub hostname: Option<String>,
    /// The request target as sent, usually a path.
    pub url: Option<String>,
    pub http_method: Option<String>,
    pub http_content_type: Option<String>,
    pub status: Option<u16>,
    /// Response body length as Suricata counted it.
    pub length: Option<u64>,
    /// Present when `dump-all-headers` is on.
    pub response_headers: Vec<EveHeader>,
}

/// One logged header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EveHeader {
    pub name: String,
    pub value: String,
}

impl EveHttpFields {
    /// Returns the first response header named `name`, ignoring case.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value.as_str())
    }
}

/// The `fileinfo` object of a `fileinfo` event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EveFileFields {
    pub filename: Option<String>,
    /// `CLOSED`, `TRUNCATED`, `ERROR` or `OPEN`.
    pub state: Option<String>,
    pub gaps: Option<bool>,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub tx_id: Option<u64>,
}

/// A `fileinfo` or `http` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EveEvent {
    pub line: u64,
    pub time_ns: i64,
    /// `fileinfo` or `http`.
    pub event_type: EveEventType,
    pub flow_id: Option<u64>,
    pub tx_id: Option<u64>,
    pub src_ip: Option<String>,
    pub src_port: Option<u16>,
    pub dest_ip: Option<String>,
    pub dest_port: Option<u16>,
    pub http: EveHttpFields,
    /// Present on `fileinfo` events, with digests lower-cased and checked.
    pub fileinfo: Option<EveFileFields>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EveEventType {
    FileInfo,
    Http,
}

#[derive(Deserialize)]
struct RawEvent {
    timestamp: Option<String>,
    event_type: Option<String>,
    flow_id: Option<u64>,
    tx_id: Option<u64>,
    src_ip: Option<String>,
    src_port: Option<u16>,
    dest_ip: Option<String>,
    dest_port: Option<u16>,
    #[serde(default)]
    http: EveHttpFields,
    fileinfo: Option<EveFileFields>,
}

/// Reads `eve.json`, handing on each `fileinfo` and `http` event.
pub fn read_eve<R: BufRead>(
    input: R,
    mut each: impl FnMut(EveEvent),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    for_each_line(input, &mut stats, |line, number, stats| {
        if !line.contains("\"fileinfo\"") && !line.contains("\"http\"") {
            stats.skipped += 1;
            return;
        }
        match parse_event(line, number) {
            Ok(Some(event)) => {
                stats.records += 1;
                each(event);
            }
            Ok(None) => stats.skipped += 1,
            Err(reason) => stats.bad(number, reason),
        }
    })?;
    Ok(stats)
}

fn parse_event(line: &str, number: u64) -> Result<Option<EveEvent>, String> {
    let raw: RawEvent =
        serde_json::from_str(line).map_err(|err| format!("invalid event: {err}"))?;
    let event_type = match raw.event_type.as_deref() {
        Some("fileinfo") => EveEventType::FileInfo,
        Some("http") => EveEventType::Http,
        Some(_) => return Ok(None),
        None => return Err("missing event_type".to_owned()),
    };
    let stamp = raw.timestamp.ok_or("missing timestamp")?;
    let time_ns =
        time::from_text(&stamp).ok_or_else(|| format!("timestamp {stamp:?} is not a time"))?;
    let fileinfo = match (event_type, raw.fileinfo) {
        (EveEventType::FileInfo, None) => return Err("fileinfo event without fileinfo".to_owned()),
        (_, Some(mut file)) => {
            file.md5 = checked_digest("md5", file.md5, 32)?;
            file.sha1 = checked_digest("sha1", file.sha1, 40)?;
            file.sha256 = checked_digest("sha256", file.sha256, 64)?;
            Some(file)
        }
        (_, None) => None,
    };
    Ok(Some(EveEvent {
        line: number,
        time_ns,
        event_type,
        flow_id: raw.flow_id,
        tx_id: raw.tx_id.or(fileinfo.as_ref().and_then(|f| f.tx_id)),
        src_ip: raw.src_ip,
        src_port: raw.src_port,
        dest_ip: raw.dest_ip,
        dest_port: raw.dest_port,
        http: raw.http,
        fileinfo,
    }))
}

fn checked_digest(name: &str, value: Option<String>, len: usize) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(hex) if hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hex.to_ascii_lowercase()))
        }
        Some(hex) => Err(format!("{name} {hex:?} is not {len} hex digits")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn fileinfo_event_decodes() {
        let line = format!(
            r#"{{"timestamp":"2026-11-20T10:00:00.000000+0000","flow_id":7,"event_type":"fileinfo","src_ip":"93.184.216.34","src_port":80,"dest_ip":"10.0.0.5","dest_port":50000,"proto":"TCP","http":{{"hostname":"dl.example.test","url":"/a.dmg","status":200}},"app_proto":"http","fileinfo":{{"filename":"/a.dmg","state":"CLOSED","sha256":"{SHA}","size":42,"tx_id":0}}}}"#
        );
        let mut events = Vec::new();
        let stats = read_eve(line.as_bytes(), |event| events.push(event)).unwrap();
        assert_eq!(stats.records, 1);
        let event = &events[0];
        assert_eq!(event.event_type, EveEventType::FileInfo);
        assert_eq!(event.time_ns, 1_795_168_800_000_000_000);
        assert_eq!(event.flow_id, Some(7));
        assert_eq!(event.tx_id, Some(0));
        assert_eq!(event.http.hostname.as_deref(), Some("dl.example.test"));
        let file = event.fileinfo.as_ref().unwrap();
        assert_eq!(file.sha256.as_deref(), Some(SHA));
        assert_eq!(file.size, Some(42));
    }

    #[test]
    fn other_events_are_skipped_unparsed() {
        let input =
            "{\"event_type\":\"flow\",\"timestamp\":\"x\"}\n{\"event_type\":\"tls\",\"tls\":{}}\n";
        let stats = read_eve(input.as_bytes(), |_| panic!("no event expected")).unwrap();
        assert_eq!(stats.skipped, 2);
        assert_eq!(stats.bad_lines, 0);
    }

    #[test]
    fn bad_events_are_counted() {
        let input = "{\"event_type\":\"http\"\n\
            {\"event_type\":\"http\",\"timestamp\":\"yesterday\",\"http\":{}}\n\
            {\"event_type\":\"fileinfo\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"fileinfo\":{\"md5\":\"xyz\"}}\n\
            {\"event_type\":\"http\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"tx_id\":3,\"http\":{\"response_headers\":[{\"name\":\"ETag\",\"value\":\"\\\"v1\\\"\"}]}}\n";
        let mut events = Vec::new();
        let stats = read_eve(input.as_bytes(), |event| events.push(event)).unwrap();
        assert_eq!(stats.bad_lines, 3);
        let lines: Vec<u64> = stats.bad_examples.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].tx_id, Some(3));
        assert_eq!(events[0].http.response_header("etag"), Some("\"v1\""));
    }
}
