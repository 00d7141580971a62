//! Sensor logs and quarantine records as a source of object sightings:
//! Zeek `files.log` joined to `http.log`, Suricata `fileinfo` events
//! joined to their `http` events, and osquery `hash` rows joined to the
//! quarantine records of the same path.
//!
//! Joins span inputs (a `files.log` and its `http.log` are two files), so
//! every provenance input of a scan is read first and the sightings are
//! built afterwards, in time order.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::Path;

use wiretrust_eslogger::{EsEvent, EsEventKind, ProcessIdentity};
use wiretrust_provenance::osquery::{self, HashRow, OsqueryRow, RowAction, RowKind};
use wiretrust_provenance::quarantine::{self, QuarantineEvent};
use wiretrust_provenance::suricata::{self, EveEvent, EveEventType, EveHttpFields};
use wiretrust_provenance::zeek::{self, ZeekFile, ZeekHttp, ZeekRecord};
use wiretrust_provenance::{Format, ReadStats};

use crate::observations::{
    Digests, ObjectIdentity, ObjectSighting, QuarantineOrigin, SightingConnection, SightingProcess,
    SightingSource, format_rfc3339, http_url,
};

/// Counts from reading one provenance input, for the summary.
#[derive(Debug, Default)]
pub struct ProvenanceStats {
    /// Short name of the format, e.g. `zeek-tsv`.
    pub format: &'static str,
    /// Lines or rows read, records kept, bad lines with examples.
    pub read: ReadStats,
    /// Object sightings built from this input.
    pub sightings: u64,
    /// File records without any hash, which cannot be compared.
    pub without_hash: u64,
    /// Transfers the sensor saw only in part, whose hash is not the
    /// object's and so is not compared.
    pub incomplete: u64,
}

/// A record and where it was read.
struct Located<T> {
    input: String,
    location: String,
    record: T,
}

/// Every provenance record of a scan, until the sightings are built.
///
/// NOTE: all records stay in memory until [`ProvenanceSet::sightings`],
/// because a `files.log` record may be joined to an `http.log` line in an
/// input read later. Memory therefore grows with the sensor logs scanned.
#[derive(Default)]
pub struct ProvenanceSet {
    zeek_files: Vec<Located<ZeekFile>>,
    /// `http.log` records by the file ids of their bodies.
    zeek_http_by_fuid: HashMap<String, usize>,
    /// `http.log` records by connection id, in input order.
    zeek_http_by_uid: HashMap<String, Vec<usize>>,
    zeek_http: Vec<ZeekHttp>,
    eve_files: Vec<Located<EveEvent>>,
    /// `http` events by flow id and transaction id.
    eve_http: HashMap<(u64, u64), EveHttpFields>,
    osquery_hashes: Vec<Located<(OsqueryRow, HashRow)>>,
    /// Quarantine attributes by host (when the source names it) and path.
    attributes: HashMap<(Option<String>, String), PathQuarantine>,
    quarantine: HashMap<String, Located<QuarantineEvent>>,
    /// Sightings built per input name, copied into the stats at the end.
    counts: HashMap<String, ProvenanceStats>,
}

impl ProvenanceSet {
    /// Reads one input of `format`. Returns an error only when nothing
    /// could be read.
    pub fn read(&mut self, path: &Path, input: &str, format: Format) -> Result<(), String> {
        let read = match format {
            Format::Sqlite => self.read_quarantine(path, input)?,
            _ => {
                let file = File::open(path).map_err(|err| format!("cannot open {input}: {err}"))?;
                let reader = BufReader::new(file);
                let result = match format {
                    Format::ZeekTsv => zeek::read_tsv(reader, |line| self.add_zeek(input, line)),
                    Format::ZeekJson => zeek::read_json(reader, |line| self.add_zeek(input, line)),
                    Format::SuricataEve => suricata::read_eve(reader, |e| self.add_eve(input, e)),
                    Format::OsqueryResults => {
                        osquery::read_results(reader, |row| self.add_osquery(input, row))
                    }
                    Format::QuarantineListing => {
                        quarantine::read_attribute_listing(reader, |line| {
                            let entry = self.attributes.entry((None, line.path)).or_default();
                            entry.event_id = line.attribute.event_id;
                            entry.agent = Some(line.attribute.agent);
                        })
                    }
                    Format::Sqlite => unreachable!("handled above"),
                };
                result.map_err(|err| format!("cannot read {input}: {err}"))?
            }
        };
        let stats = self.counts.entry(input.to_owned()).or_default();
        stats.format = format.name();
        stats.read = read;
        Ok(())
    }

    fn read_quarantine(&mut self, path: &Path, input: &str) -> Result<ReadStats, String> {
        let result = quarantine::read_database(path, |event| {
            let located = Located {
                input: input.to_owned(),
                location: format!("row {}", event.row),
                record: event,
            };
            self.quarantine
                .insert(located.record.event_id.clone(), located);
        });
        result.map_err(|err| format!("{input}: {err}"))
    }

    fn add_zeek(&mut self, input: &str, line: zeek::ZeekLine) {
        match line.record {
            ZeekRecord::File(file) => self.zeek_files.push(Located {
                input: input.to_owned(),
                location: format!("line {}", line.line),
                record: file,
            }),
            ZeekRecord::Http(http) => {
                let index = self.zeek_http.len();
                for fuid in http.resp_fuids.iter().chain(&http.orig_fuids) {
                    self.zeek_http_by_fuid.insert(fuid.clone(), index);
                }
                self.zeek_http_by_uid
                    .entry(http.uid.clone())
                    .or_default()
                    .push(index);
                self.zeek_http.push(http);
            }
        }
    }

    fn add_eve(&mut self, input: &str, event: EveEvent) {
        match event.event_type {
            EveEventType::FileInfo => self.eve_files.push(Located {
                input: input.to_owned(),
                location: format!("line {}", event.line),
                record: event,
            }),
            EveEventType::Http => {
                if let (Some(flow), Some(tx)) = (event.flow_id, event.tx_id) {
                    self.eve_http.insert((flow, tx), event.http);
                }
            }
        }
    }

    fn add_osquery(&mut self, input: &str, row: OsqueryRow) {
        // A removed row means the file changed or went away, so it is no sighting.
        if row.action == RowAction::Removed {
            return;
        }
        match &row.kind {
            RowKind::Hash(hash) => {
                let hash = hash.clone();
                self.osquery_hashes.push(Located {
                    input: input.to_owned(),
                    location: format!("line {}", row.line),
                    record: (row, hash),
                });
            }
            RowKind::Attribute(attribute) => {
                let key = (Some(row.host.clone()), attribute.path.clone());
                let mut entry = self.attributes.get(&key).cloned().unwrap_or_default();
                if entry.add(&attribute.key, &attribute.value) {
                    self.attributes.insert(key, entry);
                }
            }
            RowKind::Other(_) => {}
        }
    }

    /// Builds every sighting, sorted by time, and returns them with the
    /// stats of each input by name. `fallback_host` (`--host`) names the
    /// host of a sighting whose record names none, and the host the
    /// eslogger input in `writers` came from. Without it, the writers are
    /// used only when all osquery rows come from one host.
    pub fn sightings(
        mut self,
        fallback_host: Option<&str>,
        writers: &FileWriters,
    ) -> (Vec<ObjectSighting>, HashMap<String, ProvenanceStats>) {
        let mut sightings = Vec::new();
        for file in std::mem::take(&mut self.zeek_files) {
            if let Some(sighting) = self.zeek_sighting(&file, fallback_host) {
                sightings.push(sighting);
            }
        }
        for event in std::mem::take(&mut self.eve_files) {
            if let Some(sighting) = self.eve_sighting(&event, fallback_host) {
                sightings.push(sighting);
            }
        }
        let rows = std::mem::take(&mut self.osquery_hashes);
        let writers_host = fallback_host
            .map(str::to_owned)
            .or_else(|| single_host(&rows));
        for row in rows {
            // eslogger output names no host, so its file writers are
            // trusted only for the host it must come from.
            let writers =
                (writers_host.as_deref() == Some(row.record.0.host.as_str())).then_some(writers);
            if let Some(sighting) = self.osquery_sighting(&row, writers) {
                sightings.push(sighting);
            }
        }
        sightings.sort_by_key(|s| s.time_ns);
        for sighting in &sightings {
            self.counts
                .entry(sighting.source.input.clone())
                .or_default()
                .sightings += 1;
        }
        (sightings, self.counts)
    }

    fn zeek_sighting(
        &mut self,
        located: &Located<ZeekFile>,
        fallback_host: Option<&str>,
    ) -> Option<ObjectSighting> {
        let file = &located.record;
        let digests = Digests {
            sha256: file.sha256.clone(),
            sha1: file.sha1.clone(),
            md5: file.md5.clone(),
        };
        let incomplete = file.missing_bytes.is_some_and(|missing| missing > 0)
            || matches!((file.seen_bytes, file.total_bytes), (Some(seen), Some(total)) if seen < total);
        if !self.usable(&located.input, &digests, incomplete) {
            return None;
        }
        let http = self.zeek_http_of(file);
        let url = http.and_then(|h| http_url(h.host.as_deref(), h.uri.as_deref()?, h.resp_p));
        let host = file
            .rx_hosts
            .first()
            .cloned()
            .or_else(|| http.and_then(|h| h.orig_h.clone()))
            .or_else(|| fallback_host.map(str::to_owned))
            .unwrap_or_else(|| located.input.clone());
        let identity = ObjectIdentity {
            file_name: file
                .filename
                .clone()
                .or_else(|| url.as_deref().and_then(last_segment)),
            url,
            size: file.total_bytes.or(file.seen_bytes),
            etag: None,
            last_modified: None,
        };
        let mut sighting = ObjectSighting::new(
            identity,
            digests,
            host,
            file.time_ns,
            "zeek",
            source(located),
        );
        sighting.mime_type = file.mime_type.clone();
        sighting.connection = zeek_connection(file, http);
        Some(sighting)
    }

    /// Finds the `http.log` record that carried the file: by file id, else
    /// the last request on the same connection at or before the file.
    fn zeek_http_of(&self, file: &ZeekFile) -> Option<&ZeekHttp> {
        if let Some(&index) = self.zeek_http_by_fuid.get(&file.fuid) {
            return self.zeek_http.get(index);
        }
        file.conn_uids
            .iter()
            .filter_map(|uid| self.zeek_http_by_uid.get(uid))
            .flatten()
            .filter_map(|&index| self.zeek_http.get(index))
            .filter(|http| http.time_ns <= file.time_ns)
            .max_by_key(|http| http.time_ns)
    }

    fn eve_sighting(
        &mut self,
        located: &Located<EveEvent>,
        fallback_host: Option<&str>,
    ) -> Option<ObjectSighting> {
        let event = &located.record;
        let info = event.fileinfo.as_ref()?;
        let digests = Digests {
            sha256: info.sha256.clone(),
            sha1: info.sha1.clone(),
            md5: info.md5.clone(),
        };
        let incomplete =
            info.gaps == Some(true) || info.state.as_deref().is_some_and(|state| state != "CLOSED");
        if !self.usable(&located.input, &digests, incomplete) {
            return None;
        }
        // NOTE: Suricata writes a fileinfo event in the direction the file
        // travelled, so dest_ip is the receiver and src_port the server's
        // port for a download. An upload (a file sent to the server) is
        // attributed to the server.
        let url =
            event.http.url.as_deref().and_then(|target| {
                http_url(event.http.hostname.as_deref(), target, event.src_port)
            });
        let joined = match (event.flow_id, event.tx_id) {
            (Some(flow), Some(tx)) => self.eve_http.get(&(flow, tx)),
            _ => None,
        };
        let header = |name: &str| {
            event
                .http
                .response_header(name)
                .or_else(|| joined.and_then(|http| http.response_header(name)))
                .map(str::to_owned)
        };
        let host = event
            .dest_ip
            .clone()
            .or_else(|| fallback_host.map(str::to_owned))
            .unwrap_or_else(|| located.input.clone());
        let identity = ObjectIdentity {
            file_name: info.filename.as_deref().and_then(last_segment),
            url,
            size: info.size,
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let mut sighting = ObjectSighting::new(
            identity,
            digests,
            host,
            event.time_ns,
            "suricata",
            source(located),
        );
        sighting.mime_type = event.http.http_content_type.clone();
        // The receiver of a download is the client, as for `host` above.
        sighting.connection = Some(SightingConnection {
            client_ip: event.dest_ip.as_deref().and_then(parse_ip),
            client_port: event.dest_port,
            server_ip: event.src_ip.as_deref().and_then(parse_ip),
            server_port: event.src_port,
        });
        Some(sighting)
    }

    fn osquery_sighting(
        &mut self,
        located: &Located<(OsqueryRow, HashRow)>,
        writers: Option<&FileWriters>,
    ) -> Option<ObjectSighting> {
        let (row, hash) = &located.record;
        let digests = Digests {
            sha256: hash.sha256.clone(),
            sha1: hash.sha1.clone(),
            md5: hash.md5.clone(),
        };
        if !self.usable(&located.input, &digests, false) {
            return None;
        }
        let identity = ObjectIdentity {
            file_name: last_segment(&hash.path),
            size: hash.size,
            ..ObjectIdentity::default()
        };
        let mut sighting = ObjectSighting::new(
            identity,
            digests,
            row.host.clone(),
            row.time_ns,
            "osquery",
            source(located),
        );
        sighting.path = Some(hash.path.clone());
        sighting.process = writers
            .and_then(|writers| writers.writer_of(&hash.path, row.time_ns))
            .map(|writer| SightingProcess {
                pid: Some(writer.pid),
                path: (!writer.path.is_empty()).then(|| writer.path.clone()),
                signing_id: writer.signing_id.clone(),
                team_id: writer.team_id.clone(),
            });
        let attributes = self
            .attributes
            .get(&(Some(row.host.clone()), hash.path.clone()))
            .or_else(|| self.attributes.get(&(None, hash.path.clone())));
        if let Some(attributes) = attributes {
            self.add_quarantine(&mut sighting, attributes);
        }
        Some(sighting)
    }

    /// Adds the download origin to a file's sighting: from the quarantine
    /// database row its attribute names, else from what the attribute
    /// rows carried themselves.
    fn add_quarantine(&self, sighting: &mut ObjectSighting, attributes: &PathQuarantine) {
        let event = attributes
            .event_id
            .as_ref()
            .and_then(|id| self.quarantine.get(id));
        let Some(event) = event else {
            if let Some(url) = &attributes.data_url {
                sighting.set_url(url);
            }
            if let Some(event_id) = &attributes.event_id {
                sighting.quarantine = Some(QuarantineOrigin {
                    event_id: event_id.clone(),
                    agent_name: attributes.agent.clone(),
                    origin_url: attributes.origin_url.clone(),
                    ..QuarantineOrigin::default()
                });
            }
            return;
        };
        if let Some(url) = event
            .record
            .data_url
            .as_ref()
            .or(attributes.data_url.as_ref())
        {
            sighting.set_url(url);
        }
        sighting.quarantine = Some(QuarantineOrigin {
            event_id: event.record.event_id.clone(),
            agent_bundle_id: event.record.agent_bundle_id.clone(),
            agent_name: event.record.agent_name.clone(),
            origin_url: event.record.origin_url.clone(),
            time: event.record.time_ns.map(format_rfc3339),
            source: Some(SightingSource {
                input: event.input.clone(),
                location: event.location.clone(),
            }),
        });
    }

    /// Counts a record that cannot be compared; true when it can.
    fn usable(&mut self, input: &str, digests: &Digests, incomplete: bool) -> bool {
        let stats = self.counts.entry(input.to_owned()).or_default();
        if digests.is_empty() {
            stats.without_hash += 1;
            return false;
        }
        if incomplete {
            stats.incomplete += 1;
            return false;
        }
        true
    }
}

fn source<T>(located: &Located<T>) -> SightingSource {
    SightingSource {
        input: located.input.clone(),
        location: located.location.clone(),
    }
}

/// Returns the connection of a Zeek file: the endpoints of its `http.log`
/// record, else the sender in `files.log` as the server and the receiver
/// as the client, which holds for downloads.
fn zeek_connection(file: &ZeekFile, http: Option<&ZeekHttp>) -> Option<SightingConnection> {
    let first_ip = |hosts: &[String]| hosts.first().and_then(|host| parse_ip(host));
    let connection = match http {
        Some(http) => SightingConnection {
            client_ip: http.orig_h.as_deref().and_then(parse_ip),
            client_port: http.orig_p,
            server_ip: http.resp_h.as_deref().and_then(parse_ip),
            server_port: http.resp_p,
        },
        None => SightingConnection {
            client_ip: first_ip(&file.rx_hosts),
            server_ip: first_ip(&file.tx_hosts),
            ..SightingConnection::default()
        },
    };
    (connection != SightingConnection::default()).then_some(connection)
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok()
}

/// Returns the host of every row when they all have one, else `None`.
fn single_host(rows: &[Located<(OsqueryRow, HashRow)>]) -> Option<String> {
    let first = &rows.first()?.record.0.host;
    let same = rows.iter().all(|row| &row.record.0.host == first);
    same.then(|| first.clone())
}

/// Returns the last segment of a path or URL, without a query.
fn last_segment(path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Quarantine facts about one file, from attribute rows or a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PathQuarantine {
    /// Upper-case UUID of the quarantine database row.
    event_id: Option<String>,
    data_url: Option<String>,
    origin_url: Option<String>,
    agent: Option<String>,
}

impl PathQuarantine {
    /// Takes one `extended_attributes` row. osquery on macOS decodes the
    /// `com.apple.quarantine` attribute into keys such as
    /// `quarantine_event_id` and `quarantine_data_url` (osquery's
    /// `extended_attributes` table source, `kQuarantineKeys`). A raw
    /// `com.apple.quarantine` value is parsed as well. Returns true when
    /// the row was a quarantine key.
    fn add(&mut self, key: &str, value: &str) -> bool {
        let value = value.trim();
        let text = (!value.is_empty()).then(|| value.to_owned());
        match key {
            "com.apple.quarantine" => match quarantine::parse_attribute(value) {
                Ok(attribute) => {
                    self.event_id = attribute.event_id;
                    self.agent = Some(attribute.agent);
                }
                Err(_) => return false,
            },
            "quarantine_event_id" => self.event_id = text.map(|id| id.to_ascii_uppercase()),
            "quarantine_data_url" => self.data_url = text,
            "quarantine_origin_url" => self.origin_url = text,
            "quarantine_agent" => self.agent = text,
            _ => return false,
        }
        true
    }
}

/// Paths remembered at most; writes to further paths are not tracked.
const MAX_WRITTEN_PATHS: usize = 500_000;

/// Writers remembered per path at most, the latest kept.
const MAX_WRITERS_PER_PATH: usize = 8;

/// The processes that wrote each file, from eslogger `close` events with
/// `modified` set, `create` and `rename` events.
#[derive(Debug, Default)]
pub struct FileWriters {
    by_path: HashMap<String, Vec<(i64, ProcessIdentity)>>,
    /// Write events not kept because [`MAX_WRITTEN_PATHS`] was reached.
    pub dropped: u64,
}

impl FileWriters {
    /// Records the writer of a file event; other events are ignored.
    pub fn feed(&mut self, event: &EsEvent) {
        let path = match &event.kind {
            EsEventKind::Close {
                path,
                modified: true,
            } => path,
            EsEventKind::Create { path } => path,
            EsEventKind::Rename { to, .. } => to,
            _ => return,
        };
        if !self.by_path.contains_key(path) && self.by_path.len() >= MAX_WRITTEN_PATHS {
            self.dropped += 1;
            return;
        }
        let writers = self.by_path.entry(path.clone()).or_default();
        if writers.len() >= MAX_WRITERS_PER_PATH {
            writers.remove(0);
        }
        writers.push((event.time_ns, event.process.clone()));
    }

    /// Returns the process that last wrote `path` at or before `time_ns`.
    pub fn writer_of(&self, path: &str, time_ns: i64) -> Option<&ProcessIdentity> {
        self.by_path
            .get(path)?
            .iter()
            .filter(|(time, _)| *time <= time_ns)
            .max_by_key(|(time, _)| *time)
            .map(|(_, process)| process)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_segment_cases() {
        assert_eq!(last_segment("/a/b.dmg?x=1").as_deref(), Some("b.dmg"));
        assert_eq!(last_segment("http://h/dir/").as_deref(), None);
        assert_eq!(last_segment("plain").as_deref(), Some("plain"));
    }

    fn file_event(time_ns: i64, pid: u32, kind: EsEventKind) -> EsEvent {
        EsEvent {
            line: 1,
            time_ns,
            seq_num: None,
            global_seq_num: None,
            version: 9,
            process: ProcessIdentity {
                pid,
                path: format!("/usr/bin/writer{pid}"),
                ..ProcessIdentity::default()
            },
            kind,
        }
    }

    #[test]
    fn writer_is_last_before_time() {
        let path = "/Users/a/Downloads/x.pkg".to_owned();
        let mut writers = FileWriters::default();
        let create = EsEventKind::Create { path: path.clone() };
        writers.feed(&file_event(10, 1, create));
        let close = EsEventKind::Close {
            path: path.clone(),
            modified: true,
        };
        writers.feed(&file_event(20, 2, close));
        let unmodified = EsEventKind::Close {
            path: path.clone(),
            modified: false,
        };
        writers.feed(&file_event(30, 3, unmodified));

        assert_eq!(writers.writer_of(&path, 5).map(|p| p.pid), None);
        assert_eq!(writers.writer_of(&path, 15).map(|p| p.pid), Some(1));
        assert_eq!(writers.writer_of(&path, 40).map(|p| p.pid), Some(2));
        assert_eq!(writers.writer_of("/other", 40).map(|p| p.pid), None);
    }

    #[test]
    fn rename_target_gets_writer() {
        let mut writers = FileWriters::default();
        let rename = EsEventKind::Rename {
            from: "/d/x.pkg.download".to_owned(),
            to: "/d/x.pkg".to_owned(),
        };
        writers.feed(&file_event(10, 7, rename));
        assert_eq!(writers.writer_of("/d/x.pkg", 10).map(|p| p.pid), Some(7));
    }

    #[test]
    fn quarantine_from_raw_attribute() {
        let mut found = PathQuarantine::default();
        let value = "0083;6a1f0000;Safari;55847aa4-5562-42a2-89a7-8fad394b455c";
        assert!(found.add("com.apple.quarantine", value));
        let expected = "55847AA4-5562-42A2-89A7-8FAD394B455C";
        assert_eq!(found.event_id.as_deref(), Some(expected));
        assert_eq!(found.agent.as_deref(), Some("Safari"));
    }

    #[test]
    fn quarantine_from_decoded_keys() {
        let mut found = PathQuarantine::default();
        assert!(found.add("quarantine_event_id", "abc"));
        assert!(found.add("quarantine_data_url", "https://a.test/x.zip"));
        assert!(!found.add("com.apple.metadata:kMDItemWhereFroms", "x"));
        assert!(!found.add("com.apple.quarantine", "garbage"));
        assert_eq!(found.event_id.as_deref(), Some("ABC"));
        assert_eq!(found.data_url.as_deref(), Some("https://a.test/x.zip"));
    }
}
