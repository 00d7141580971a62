//! Zeek `files.log` and `http.log`, in Zeek's TSV format (with its `#`
//! header) or as JSON Lines (`LogAscii::use_json`).
//!
//! Both the Zeek 5+ `files.log` layout (`uid`, `id.orig_h`, `is_orig`) and
//! the older one (`tx_hosts`, `rx_hosts`, `conn_uids`) are read.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::Value;

use crate::lines::{ReadStats, for_each_line};
use crate::time;

/// One file transfer from `files.log`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZeekFile {
    pub time_ns: i64,
    /// Zeek's file id, which `http.log` lists in `resp_fuids`/`orig_fuids`.
    pub fuid: String,
    /// Connection ids: `uid` (Zeek 5+) or `conn_uids` (older).
    pub conn_uids: Vec<String>,
    /// Hosts that sent the file (`tx_hosts`, or derived from `is_orig`).
    pub tx_hosts: Vec<String>,
    /// Hosts that received it.
    pub rx_hosts: Vec<String>,
    /// Analyzer that saw it, e.g. `HTTP`.
    pub source: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub seen_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub missing_bytes: Option<u64>,
    /// Lower-case hex digests, when Zeek's hash analyzers ran.
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

/// One request and response from `http.log`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZeekHttp {
    pub time_ns: i64,
    pub uid: String,
    pub orig_h: Option<String>,
    pub orig_p: Option<u16>,
    pub resp_h: Option<String>,
    pub resp_p: Option<u16>,
    pub method: Option<String>,
    /// The Host header.
    pub host: Option<String>,
    /// The request target as sent: a path, or an absolute URL through a proxy.
    pub uri: Option<String>,
    pub status_code: Option<u16>,
    pub response_body_len: Option<u64>,
    /// File ids of the request bodies and of the response bodies.
    pub orig_fuids: Vec<String>,
    pub resp_fuids: Vec<String>,
}

/// A record of either log.
#[derive(Clone, Debug, PartialEq)]
pub enum ZeekRecord {
    File(ZeekFile),
    Http(ZeekHttp),
}

/// A record and the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekLine {
    pub line: u64,
    pub record: ZeekRecord,
}

/// A field value: unset (`-`), text (possibly empty), or a set or vector.
#[derive(Clone, Debug, PartialEq)]
enum Field {
    Unset,
    Text(String),
    List(Vec<String>),
}

type Row = BTreeMap<String, Field>;

/// Zeek log a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogPath {
    Files,
    Http,
    Other,
}

impl LogPath {
    fn from_name(name: &str) -> LogPath {
        match name {
            "files" => LogPath::Files,
            "http" => LogPath::Http,
            _ => LogPath::Other,
        }
    }
}

/// The header directives in force.
struct Header {
    separator: String,
    set_separator: String,
    empty_field: String,
    unset_field: String,
    path: LogPath,
    fields: Vec<String>,
    /// True for each field whose type is `set[...]` or `vector[...]`.
    is_list: Vec<bool>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: "\t".to_owned(),
            set_separator: ",".to_owned(),
            empty_field: "(empty)".to_owned(),
            unset_field: "-".to_owned(),
            path: LogPath::Other,
            fields: Vec::new(),
            is_list: Vec::new(),
        }
    }
}

/// Reads a TSV log. Header lines may appear again later (logs written
/// one after another into one file); each `#fields` replaces the last.
pub fn read_tsv<R: BufRead>(
    input: R,
    mut each: impl FnMut(ZeekLine),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut header = Header::default();
    for_each_line(input, &mut stats, |line, number, stats| {
        if line.is_empty() {
            stats.skipped += 1;
            return;
        }
        if let Some(directive) = line.strip_prefix('#') {
            header.apply(directive);
            stats.skipped += 1;
            return;
        }
        if header.fields.is_empty() {
            stats.bad(number, "data line before the #fields header");
            return;
        }
        if header.path == LogPath::Other {
            stats.skipped += 1;
            return;
        }
        let row = match header.row(line) {
            Ok(row) => row,
            Err(reason) => return stats.bad(number, reason),
        };
        match record(header.path, &row) {
            Ok(record) => {
                stats.records += 1;
                each(ZeekLine {
                    line: number,
                    record,
                });
            }
            Err(reason) => stats.bad(number, reason),
        }
    })?;
    Ok(stats)
}

impl Header {
    fn apply(&mut self, directive: &str) {
        // `#separator` is followed by a space, the others by the separator.
        if let Some(value) = directive.strip_prefix("separator ") {
            self.separator = unescape(value.trim());
            return;
        }
        let (name, value) = directive
            .split_once(self.separator.as_str())
            .unwrap_or((directive, ""));
        match name {
            "set_separator" => self.set_separator = unescape(value),
            "empty_field" => self.empty_field = value.to_owned(),
            "unset_field" => self.unset_field = value.to_owned(),
            "path" => self.path = LogPath::from_name(value),
            "fields" => {
                self.fields = value
                    .split(self.separator.as_str())
                    .map(str::to_owned)
                    .collect();
                self.is_list = vec![false; self.fields.len()];
            }
            "types" => {
                self.is_list = value
                    .split(self.separator.as_str())
                    .map(|kind| kind.starts_with("set[") || kind.starts_with("vector["))
                    .collect();
            }
            _ => {}
        }
    }

    fn row(&self, line: &str) -> Result<Row, String> {
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(format!(
                "{} fields where the #fields header names {}",
                values.len(),
                self.fields.len()
            ));
        }
        let mut row = Row::new();
        for (index, (name, value)) in self.fields.iter().zip(values).enumerate() {
            let list = self.is_list.get(index).copied().unwrap_or(false);
            row.insert(name.clone(), self.field(value, list));
        }
        Ok(row)
    }

    fn field(&self, value: &str, list: bool) -> Field {
        if value == self.unset_field {
            return Field::Unset;
        }
        if value == self.empty_field {
            return if list {
                Field::List(Vec::new())
            } else {
                Field::Text(String::new())
            };
        }
        if list {
            let items = value.split(self.set_separator.as_str()).map(unescape);
            return Field::List(items.collect());
        }
        Field::Text(unescape(value))
    }
}

/// Decodes Zeek's `\xNN` escapes; other backslashes stay as written.
fn unescape(text: &str) -> String {
    if !text.contains("\\x") {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\'
            && bytes.get(index + 1) == Some(&b'x')
            && let Some(hex) = text.get(index + 2..index + 4)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 4;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a JSON Lines log. Each line is judged by its own fields, so
/// `files` and `http` records may share one file; other Zeek logs are
/// skipped.
pub fn read_json<R: BufRead>(
    input: R,
    mut each: impl FnMut(ZeekLine),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    for_each_line(input, &mut stats, |line, number, stats| {
        if line.trim().is_empty() {
            stats.skipped += 1;
            return;
        }
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return stats.bad(number, "not a JSON object"),
            Err(err) => return stats.bad(number, format!("invalid JSON: {err}")),
        };
        let path = json_path(&object);
        if path == LogPath::Other {
            stats.skipped += 1;
            return;
        }
        let row = json_row(object);
        match record(path, &row) {
            Ok(record) => {
                stats.records += 1;
                each(ZeekLine {
                    line: number,
                    record,
                });
            }
            Err(reason) => stats.bad(number, reason),
        }
    })?;
    Ok(stats)
}

/// Names the log of a JSON record: by `_path` when Zeek wrote it, else by
/// the fields only that log has.
fn json_path(object: &serde_json::Map<String, Value>) -> LogPath {
    if let Some(Value::String(path)) = object.get("_path") {
        return LogPath::from_name(path);
    }
    if object.contains_key("fuid") && !object.contains_key("method") {
        return LogPath::Files;
    }
    if object.contains_key("uid") && object.contains_key("trans_depth") {
        return LogPath::Http;
    }
    LogPath::Other
}

fn json_row(object: serde_json::Map<String, Value>) -> Row {
    object
        .into_iter()
        .map(|(name, value)| {
            let field = match value {
                Value::Null => Field::Unset,
                Value::String(text) => Field::Text(text),
                Value::Array(items) => Field::List(items.iter().map(json_text).collect()),
                other => Field::Text(json_text(&other)),
            };
            (name, field)
        })
        .collect()
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn record(path: LogPath, row: &Row) -> Result<ZeekRecord, String> {
    match path {
        LogPath::Files => file_record(row).map(ZeekRecord::File),
        LogPath::Http => http_record(row).map(ZeekRecord::Http),
        LogPath::Other => Err("not a files or http record".to_owned()),
    }
}

fn file_record(row: &Row) -> Result<ZeekFile, String> {
    let mut file = ZeekFile {
        time_ns: timestamp(row)?,
        fuid: required(row, "fuid")?,
        conn_uids: list(row, "conn_uids"),
        tx_hosts: list(row, "tx_hosts"),
        rx_hosts: list(row, "rx_hosts"),
        source: text(row, "source"),
        mime_type: text(row, "mime_type"),
        filename: text(row, "filename").filter(|name| !name.is_empty()),
        seen_bytes: number(row, "seen_bytes")?,
        total_bytes: number(row, "total_bytes")?,
        missing_bytes: number(row, "missing_bytes")?,
        md5: digest(row, "md5", 32)?,
        sha1: digest(row, "sha1", 40)?,
        sha256: digest(row, "sha256", 64)?,
    };
    if let Some(uid) = text(row, "uid") {
        file.conn_uids.push(uid);
    }
    // Zeek 5 replaced tx_hosts/rx_hosts with the connection's endpoints
    // and `is_orig`: true when the originator sent the file.
    if file.tx_hosts.is_empty() && file.rx_hosts.is_empty() {
        let (orig, resp) = (text(row, "id.orig_h"), text(row, "id.resp_h"));
        let (sender, receiver) = match text(row, "is_orig").as_deref() {
            Some("T" | "true") => (orig, resp),
            Some("F" | "false") => (resp, orig),
            _ => (None, None),
        };
        file.tx_hosts.extend(sender);
        file.rx_hosts.extend(receiver);
    }
    Ok(file)
}

fn http_record(row: &Row) -> Result<ZeekHttp, String> {
    let port = number(row, "id.resp_p")?;
    let orig_port = number(row, "id.orig_p")?;
    let status = number(row, "status_code")?;
    Ok(ZeekHttp {
        time_ns: timestamp(row)?,
        uid: required(row, "uid")?,
        orig_h: text(row, "id.orig_h"),
        orig_p: orig_port.and_then(|p| u16::try_from(p).ok()),
        resp_h: text(row, "id.resp_h"),
        resp_p: port.and_then(|p| u16::try_from(p).ok()),
        method: text(row, "method"),
        host: text(row, "host").filter(|host| !host.is_empty()),
        uri: text(row, "uri").filter(|uri| !uri.is_empty()),
        status_code: status.and_then(|s| u16::try_from(s).ok()),
        response_body_len: number(row, "response_body_len")?,
        orig_fuids: list(row, "orig_fuids"),
        resp_fuids: list(row, "resp_fuids"),
    })
}

fn text(row: &Row, name: &str) -> Option<String> {
    match row.get(name)? {
        Field::Text(text) => Some(text.clone()),
        Field::List(items) => Some(items.join(",")),
        Field::Unset => None,
    }
}

fn required(row: &Row, name: &str) -> Result<String, String> {
    text(row, name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("missing field {name}"))
}

fn list(row: &Row, name: &str) -> Vec<String> {
    match row.get(name) {
        Some(Field::List(items)) => items.clone(),
        Some(Field::Text(text)) if !text.is_empty() => vec![text.clone()],
        _ => Vec::new(),
    }
}

fn number(row: &Row, name: &str) -> Result<Option<u64>, String> {
    match text(row, name) {
        None => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} {value:?} is not a whole number")),
    }
}

/// Parses `ts`: epoch seconds with a fraction, or an ISO 8601 time when
/// Zeek is configured to write those (`LogAscii::json_timestamps`).
fn timestamp(row: &Row) -> Result<i64, String> {
    let value = required(row, "ts")?;
    let parsed = match value.parse::<f64>() {
        Ok(seconds) => time::from_unix_seconds(seconds),
        Err(_) => time::from_text(&value),
    };
    parsed.ok_or_else(|| format!("ts {value:?} is not a time"))
}

/// Returns the hex digest in `name` of `len` digits, lower-cased.
fn digest(row: &Row, name: &str, len: usize) -> Result<Option<String>, String> {
    match text(row, name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) if value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(value.to_ascii_lowercase()))
        }
        Some(value) => Err(format!("{name} {value:?} is not {len} hex digits")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn tsv_files() -> String {
        let header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
            #unset_field\t-\n#path\tfiles\n\
            #fields\tts\tfuid\tuid\tid.orig_h\tid.resp_h\tis_orig\tsource\tmime_type\tfilename\ttotal_bytes\tmd5\tsha256\tanalyzers\n\
            #types\ttime\tstring\tstring\taddr\taddr\tbool\tstring\tstring\tstring\tcount\tstring\tstring\tset[string]\n";
        format!(
            "{header}1795168800.250000\tF1\tC1\t10.0.0.5\t93.184.216.34\tF\tHTTP\t\
             application/x-apple-diskimage\ta\\x09b.dmg\t42\t-\t{SHA}\t(empty)\n\
             1795168801.0\tF2\tC2\n\
             1795168802.0\tF3\tC3\t10.0.0.6\t93.184.216.34\tF\tHTTP\t-\t-\t-\t-\tnothex\tSHA256\n"
        )
    }

    #[test]
    fn tsv_file_record_decodes() {
        let mut records = Vec::new();
        let stats = read_tsv(tsv_files().as_bytes(), |line| records.push(line)).unwrap();
        assert_eq!(records.len(), 1);
        let ZeekRecord::File(file) = &records[0].record else {
            panic!("expected a file record");
        };
        assert_eq!(records[0].line, 8);
        assert_eq!(file.time_ns, 1_795_168_800_250_000_000);
        assert_eq!(file.fuid, "F1");
        assert_eq!(file.conn_uids, vec!["C1"]);
        assert_eq!(file.rx_hosts, vec!["10.0.0.5"]);
        assert_eq!(file.tx_hosts, vec!["93.184.216.34"]);
        assert_eq!(file.filename.as_deref(), Some("a\tb.dmg"));
        assert_eq!(file.total_bytes, Some(42));
        assert_eq!(file.md5, None);
        assert_eq!(file.sha256.as_deref(), Some(SHA));
        assert_eq!(stats.records, 1);
    }

    #[test]
    fn tsv_bad_lines_are_counted() {
        let stats = read_tsv(tsv_files().as_bytes(), |_| {}).unwrap();
        assert_eq!(stats.bad_lines, 2);
        assert_eq!(stats.bad_examples[0].line, 9);
        assert!(stats.bad_examples[0].reason.contains("3 fields"));
        assert_eq!(stats.bad_examples[1].line, 10);
        assert!(stats.bad_examples[1].reason.contains("sha256"));
    }

    #[test]
    fn tsv_other_log_is_skipped() {
        let input = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\n1.0\tC1\n";
        let stats = read_tsv(input.as_bytes(), |_| panic!("no record expected")).unwrap();
        assert_eq!(stats.records, 0);
        assert_eq!(stats.bad_lines, 0);
        assert_eq!(stats.skipped, 4);
    }

    #[test]
    fn tsv_data_before_header_is_bad() {
        let stats = read_tsv(&b"1.0\tF1\n"[..], |_| {}).unwrap();
        assert_eq!(stats.bad_lines, 1);
    }

    #[test]
    fn json_http_record_decodes() {
        let line = r#"{"ts":1795168800.1,"uid":"C1","id.orig_h":"10.0.0.5","id.resp_h":"93.184.216.34","id.resp_p":80,"trans_depth":1,"method":"GET","host":"dl.example.test","uri":"/a.dmg","status_code":200,"resp_fuids":["F1"]}"#;
        let mut records = Vec::new();
        read_json(line.as_bytes(), |line| records.push(line.record)).unwrap();
        let [ZeekRecord::Http(http)] = records.as_slice() else {
            panic!("expected one http record, got {records:?}");
        };
        assert_eq!(http.uid, "C1");
        assert_eq!(http.host.as_deref(), Some("dl.example.test"));
        assert_eq!(http.uri.as_deref(), Some("/a.dmg"));
        assert_eq!(http.resp_p, Some(80));
        assert_eq!(http.status_code, Some(200));
        assert_eq!(http.resp_fuids, vec!["F1"]);
    }

    #[test]
    fn json_old_files_layout_decodes() {
        let line = format!(
            r#"{{"ts":"2026-11-20T10:00:00.000000Z","fuid":"F9","tx_hosts":["1.2.3.4"],"rx_hosts":["10.0.0.7"],"conn_uids":["C9"],"sha256":"{}"}}"#,
            SHA.to_uppercase()
        );
        let mut records = Vec::new();
        read_json(line.as_bytes(), |line| records.push(line.record)).unwrap();
        let [ZeekRecord::File(file)] = records.as_slice() else {
            panic!("expected one file record, got {records:?}");
        };
        assert_eq!(file.time_ns, 1_795_168_800_000_000_000);
        assert_eq!(file.rx_hosts, vec!["10.0.0.7"]);
        assert_eq!(file.conn_uids, vec!["C9"]);
        assert_eq!(file.sha256.as_deref(), Some(SHA));
    }

    #[test]
    fn json_bad_lines_are_counted() {
        let input = "{\"ts\":1.0,\"fuid\":\"F1\"}\nnot json\n[1]\n{\"fuid\":\"F2\"}\n{\"uid\":\"C\",\"proto\":\"tcp\"}\n";
        let mut records = 0;
        let stats = read_json(input.as_bytes(), |_| records += 1).unwrap();
        assert_eq!(records, 1);
        assert_eq!(stats.bad_lines, 3);
        let lines: Vec<u64> = stats.bad_examples.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert!(stats.bad_examples[2].reason.contains("missing field ts"));
        assert_eq!(stats.skipped, 1);
    }
}
