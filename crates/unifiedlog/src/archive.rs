//! `.logarchive` bundles and raw `.tracev3` files, decoded with the
//! macos-unifiedlogs crate (0.7, Apache-2.0).
//!
//! The reader decodes one `.tracev3` file at a time and one chunk group at a
//! time. Memory therefore contains one file's bytes and one group's entries,
//! plus the format strings loaded so far and the oversize strings that the
//! crate's callers must carry from chunk to chunk.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use macos_unifiedlogs::cache::MemoryStringCache;
use macos_unifiedlogs::dsc::SharedCacheStrings;
use macos_unifiedlogs::iterator::UnifiedLogIterator;
use macos_unifiedlogs::parser::{build_log, collect_timesync};
use macos_unifiedlogs::timesync::TimesyncBoot;
use macos_unifiedlogs::traits::{FileProvider, SourceFile};
use macos_unifiedlogs::unified_log::{EventType, LogData, UnifiedLogData};
use macos_unifiedlogs::uuidtext::UUIDText;

use crate::entry::{float_ns, rfc3339_time_ns};
use crate::error::{LogError, LogErrorKind};
use crate::{Filter, Location, LogRecord, LogStats, MAX_RAW, cap_on_char_boundary};

/// Folders of a log archive (and of `/var/db/diagnostics`) that hold `.tracev3` files.
const TRACE_FOLDERS: [&str; 4] = ["Persist", "Special", "Signpost", "HighVolume"];
/// Every `.tracev3` file starts with a header chunk, tag 0x1000 (little-endian).
const HEADER_CHUNK_TAG: [u8; 4] = [0x00, 0x10, 0x00, 0x00];
/// Tag, sub-tag and data size: the preamble in front of every chunk.
const CHUNK_PREAMBLE_LEN: u64 = 16;
/// Tag of a chunkset chunk, which contains compressed log entries.
const CHUNKSET_TAG: [u8; 4] = [0x0d, 0x60, 0x00, 0x00];

type StringCache = MemoryStringCache<
    Arc<RwLock<HashMap<String, Arc<UUIDText>>>>,
    Arc<RwLock<HashMap<String, Arc<SharedCacheStrings>>>>,
>;

/// Returns whether `path` is a log archive this module reads, or a
/// `.tracev3` file in one.
///
/// An archive is a folder with three parts. It has `.tracev3` files at its
/// top or in `Persist/`, `Special/`, `Signpost/` or `HighVolume/`. It has a
/// `timesync/` folder with `.timesync` files. And it has uuidtext folders
/// (two-hex-digit folders or `dsc/`), at its top or in `uuidtext/`. A
/// `.tracev3` file counts when it sits in such a folder or in one of its
/// trace folders.
pub fn is_logarchive(path: &Path) -> bool {
    if path.is_dir() {
        return ArchiveLayout::of(path).is_some();
    }
    is_tracev3_file(path) && archive_root_of(path).is_some()
}

/// Opens a log archive (or one `.tracev3` file inside one) for reading.
///
/// Fails when `path` is neither (see [`is_logarchive`]) or when the
/// `timesync` files make the macos-unifiedlogs crate panic. Problems with
/// single files come out of the iterator as errors.
pub fn read_logarchive(path: &Path, filter: Filter) -> Result<ArchiveReader, LogError> {
    let not_archive = || {
        let kind = LogErrorKind::NotALogArchive {
            path: path.to_path_buf(),
        };
        LogError::new(Location::default(), kind)
    };
    let (layout, traces) = if path.is_dir() {
        let layout = ArchiveLayout::of(path).ok_or_else(not_archive)?;
        let traces = tracev3_paths(path);
        (layout, traces)
    } else if is_tracev3_file(path) {
        let root = archive_root_of(path).ok_or_else(not_archive)?;
        let layout = ArchiveLayout::of(&root).ok_or_else(not_archive)?;
        (layout, vec![path.to_path_buf()])
    } else {
        return Err(not_archive());
    };

    let provider = ArchiveFiles {
        layout,
        traces: traces.clone(),
        missing: Mutex::default(),
    };
    // The crate may panic on damaged input; see ArchiveReader::decode_next_chunk.
    let timesync = match catch_unwind(AssertUnwindSafe(|| collect_timesync(&provider))) {
        // In 0.7.0 collect_timesync skips unreadable timesync files and never
        // returns an error. Entries of a boot without timesync data keep
        // boot-relative times, which read as dates in 1970.
        Ok(result) => result.unwrap_or_default(),
        Err(panic) => {
            let kind = LogErrorKind::ArchiveParser {
                path: provider.layout.timesync.clone(),
                message: panic_message(panic.as_ref()),
            };
            return Err(LogError::new(Location::default(), kind));
        }
    };
    Ok(ArchiveReader {
        provider,
        cache: StringCache::default(),
        timesync,
        files: traces.into_iter(),
        current: None,
        entries: VecDeque::new(),
        errors: VecDeque::new(),
        oversize: UnifiedLogData::default(),
        filter,
        stats: LogStats::default(),
        index: 0,
    })
}

/// Reads the entries of a log archive in file order, keeping those its
/// [`Filter`] keeps.
///
/// A record's `location.line` is its entry index within the input. It counts
/// from 1 and includes the entries the filter dropped. The record's `raw` is
/// the entry as the crate's JSON. For an error, `location.line` is the number
/// of entries read before it, and `location.offset` is the byte offset in the
/// named file (0 when the error concerns the whole file).
pub struct ArchiveReader {
    provider: ArchiveFiles,
    cache: StringCache,
    timesync: HashMap<String, TimesyncBoot>,
    files: std::vec::IntoIter<PathBuf>,
    current: Option<OpenTrace>,
    /// Decoded entries of the current chunk group, not yet yielded.
    entries: VecDeque<LogData>,
    errors: VecDeque<LogError>,
    /// Oversize strings from earlier chunks, which later entries may refer to.
    oversize: UnifiedLogData,
    filter: Filter,
    stats: LogStats,
    /// Entries taken from the crate so far.
    index: u64,
}

struct OpenTrace {
    path: PathBuf,
    chunks: UnifiedLogIterator,
    /// Chunksets in the file's complete chunks.
    chunksets: u64,
    /// Entries decoded from the file so far.
    entries: u64,
}

impl ArchiveReader {
    /// Returns the counters of what has been read so far.
    pub fn stats(&self) -> &LogStats {
        &self.stats
    }

    fn push_error(&mut self, offset: u64, kind: LogErrorKind) {
        let location = Location {
            line: self.index,
            offset,
        };
        self.errors.push_back(LogError::new(location, kind));
    }

    /// Reads a `.tracev3` file whole and cuts it after its last complete chunk.
    fn open(&mut self, path: PathBuf) {
        let mut data = match fs::read(&path) {
            Ok(data) => data,
            Err(source) => {
                self.push_error(0, LogErrorKind::ArchiveIo { path, source });
                return;
            }
        };
        self.stats.bytes += data.len() as u64;
        let walk = walk_chunks(&data);
        if let Some(cut) = walk.cut {
            let kind = LogErrorKind::TruncatedTracev3 {
                path: path.clone(),
                offset: cut.offset as u64,
                needed: cut.needed,
                available: cut.available as u64,
            };
            self.push_error(cut.offset as u64, kind);
        }
        // The crate drops a whole chunk group when its last chunk is cut, so
        // it is given the complete chunks only.
        data.truncate(walk.complete_len);
        let evidence = path.to_string_lossy().into_owned();
        let chunks = UnifiedLogIterator {
            data,
            header: Vec::new(),
            evidence,
        };
        self.current = Some(OpenTrace {
            path,
            chunks,
            chunksets: walk.chunksets,
            entries: 0,
        });
    }

    /// Decodes the next chunk group of the current file into `entries`.
    fn decode_next_chunk(&mut self) {
        let Some(trace) = self.current.as_mut() else {
            return;
        };
        let (provider, cache, timesync) = (&self.provider, &self.cache, &self.timesync);
        let oversize = &mut self.oversize;
        // The crate indexes and slices on lengths read from the file, and a
        // damaged file can make it panic. A panic here ends this file only:
        // catch_unwind turns it into an error for the file. The default panic
        // hook still prints the panic message on stderr.
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            let mut chunk = trace.chunks.next()?;
            chunk.oversize.append(&mut oversize.oversize);
            // Entries whose strings are missing are kept, with the crate's
            // placeholder text, so that every entry is yielded once.
            let (entries, _missing) = build_log(&chunk, provider, cache, timesync, false);
            oversize.oversize = chunk.oversize;
            Some(entries)
        }));
        match decoded {
            Ok(Some(entries)) => {
                trace.entries += entries.len() as u64;
                self.entries.extend(entries);
            }
            Ok(None) => {
                // NOTE: the crate skips a chunk it cannot decode and reports it
                // only through the `log` crate, so damage inside a file shows
                // as missing entries. Only a file that yields none is caught.
                if trace.entries == 0 && trace.chunksets > 0 {
                    let kind = LogErrorKind::UndecodableTracev3 {
                        path: trace.path.clone(),
                        chunksets: trace.chunksets,
                    };
                    self.push_error(0, kind);
                }
                self.current = None;
            }
            Err(panic) => {
                let path = trace.path.clone();
                self.current = None;
                let message = panic_message(panic.as_ref());
                self.push_error(0, LogErrorKind::ArchiveParser { path, message });
            }
        }
    }

    /// Counts one entry; returns it as a record when the filter keeps it.
    fn take_entry(&mut self, entry: LogData) -> Option<LogRecord> {
        self.index += 1;
        self.stats.records += 1;
        self.stats.parsed += 1;
        if entry.event_type == EventType::Loss {
            self.stats.loss_events += 1;
        }
        let keep = self.filter.keeps_fields(
            &entry.subsystem,
            &entry.category,
            &entry.process,
            &entry.library,
        );
        if !keep {
            return None;
        }
        self.stats.relevant += 1;
        Some(record_from_entry(entry, self.index))
    }
}

impl Iterator for ArchiveReader {
    type Item = Result<LogRecord, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(error) = self.errors.pop_front() {
                self.stats.errors += 1;
                return Some(Err(error));
            }
            if let Some(entry) = self.entries.pop_front() {
                match self.take_entry(entry) {
                    Some(record) => return Some(Ok(record)),
                    None => continue,
                }
            }
            if self.current.is_some() {
                self.decode_next_chunk();
                continue;
            }
            let path = self.files.next()?;
            self.open(path);
        }
    }
}

fn record_from_entry(entry: LogData, index: u64) -> LogRecord {
    // Serialising strings and numbers cannot fail (serde_json writes a
    // non-finite float as null). An error would only leave `raw` empty.
    let json = serde_json::to_string(&entry).unwrap_or_default();
    let time_ns = rfc3339_time_ns(&entry.timestamp).or_else(|| float_ns(entry.time));
    let boot_uuid: String = entry.boot_uuid.chars().filter(|c| *c != '-').collect();
    LogRecord {
        location: Location {
            line: index,
            offset: 0,
        },
        timestamp: entry.timestamp,
        time_ns,
        // Unit variants print as the names the crate's JSON uses.
        event_type: format!("{:?}", entry.event_type),
        level: format!("{:?}", entry.log_type),
        subsystem: entry.subsystem,
        category: entry.category,
        process_path: entry.process,
        pid: u32::try_from(entry.pid).ok(),
        sender_image: entry.library,
        message: entry.message,
        format_string: entry.raw_message,
        trace_id: None,
        activity_id: Some(entry.activity_id),
        thread_id: Some(entry.thread_id),
        boot_uuid: (!boot_uuid.is_empty()).then(|| boot_uuid.to_ascii_uppercase()),
        raw: cap_on_char_boundary(&json, MAX_RAW).to_owned(),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        return (*text).to_owned();
    }
    if let Some(text) = panic.downcast_ref::<String>() {
        return text.clone();
    }
    "panic without a message".to_owned()
}

/// Where a `.tracev3` file ends inside a chunk.
#[derive(Debug, PartialEq, Eq)]
struct CutChunk {
    offset: usize,
    needed: u64,
    available: usize,
}

/// What a walk over a `.tracev3` file's chunk preambles found.
#[derive(Debug, PartialEq, Eq)]
struct ChunkWalk {
    /// Length of the leading complete chunks, in bytes.
    complete_len: usize,
    /// Chunksets (compressed groups of log entries) among them.
    chunksets: u64,
    /// The first incomplete chunk, if any.
    cut: Option<CutChunk>,
}

/// Walks the chunk preambles (tag u32, sub-tag u32, data size u64, all
/// little-endian; each chunk padded to 8 bytes) without decoding any chunk.
fn walk_chunks(data: &[u8]) -> ChunkWalk {
    let mut walk = ChunkWalk {
        complete_len: 0,
        chunksets: 0,
        cut: None,
    };
    let mut at = 0;
    while at < data.len() {
        let available = data.len() - at;
        let Some(preamble) = data.get(at..at + CHUNK_PREAMBLE_LEN as usize) else {
            walk.cut = Some(CutChunk {
                offset: at,
                needed: CHUNK_PREAMBLE_LEN,
                available,
            });
            break;
        };
        let mut size = [0; 8];
        size.copy_from_slice(&preamble[8..16]);
        let needed = u64::from_le_bytes(size).saturating_add(CHUNK_PREAMBLE_LEN);
        if needed > available as u64 {
            walk.cut = Some(CutChunk {
                offset: at,
                needed,
                available,
            });
            break;
        }
        if preamble[..4] == CHUNKSET_TAG {
            walk.chunksets += 1;
        }
        // The last chunk may lack its padding.
        let padded = needed.next_multiple_of(8).min(available as u64);
        at += padded as usize;
        walk.complete_len = at;
    }
    walk
}

fn is_tracev3_file(path: &Path) -> bool {
    if path
        .extension()
        .is_none_or(|extension| extension != "tracev3")
    {
        return false;
    }
    let mut tag = [0; 4];
    File::open(path)
        .and_then(|mut file| file.read_exact(&mut tag))
        .is_ok()
        && tag == HEADER_CHUNK_TAG
}

/// The archive folder holding a `.tracev3` file: its parent or grandparent.
fn archive_root_of(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .take(2)
        .find(|dir| ArchiveLayout::of(dir).is_some())
        .map(Path::to_path_buf)
}

/// `.tracev3` files at the top of `root` and in its trace folders, sorted by path.
fn tracev3_paths(root: &Path) -> Vec<PathBuf> {
    let folders = std::iter::once(root.to_path_buf())
        .chain(TRACE_FOLDERS.iter().map(|folder| root.join(folder)));
    let mut paths: Vec<PathBuf> = folders
        .flat_map(|folder| list_dir(&folder))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "tracev3")
        })
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
}

/// Entries of a folder, empty when it cannot be read.
fn list_dir(dir: &Path) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
}

/// The folders a log archive's reader needs.
#[derive(Debug)]
struct ArchiveLayout {
    /// Holds the two-hex-digit uuidtext folders and `dsc/`.
    strings: PathBuf,
    timesync: PathBuf,
}

impl ArchiveLayout {
    fn of(root: &Path) -> Option<Self> {
        if !root.is_dir() || tracev3_paths(root).is_empty() {
            return None;
        }
        let timesync = root.join("timesync");
        let has_timesync = list_dir(&timesync).iter().any(|path| {
            path.extension()
                .is_some_and(|extension| extension == "timesync")
        });
        if !has_timesync {
            return None;
        }
        let strings = [root.to_path_buf(), root.join("uuidtext")]
            .into_iter()
            .find(|dir| list_dir(dir).iter().any(|path| is_strings_folder(path)))?;
        Some(Self { strings, timesync })
    }
}

fn is_strings_folder(path: &Path) -> bool {
    let name = file_name(path);
    path.is_dir() && (name == "dsc" || (name.len() == 2 && is_hex(name)))
}

/// A file of the archive, as the crate reads it.
struct LocalFile {
    file: File,
    source: String,
}

impl LocalFile {
    fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
            source: path.to_string_lossy().into_owned(),
        })
    }
}

impl SourceFile for LocalFile {
    fn reader(&mut self) -> impl Read {
        &mut self.file
    }

    fn source_path(&self) -> &str {
        &self.source
    }
}

/// Gives the crate the files of one archive, whatever its layout: a
/// `.logarchive` bundle or a copy of `/var/db/diagnostics` with
/// `/var/db/uuidtext` beside it.
struct ArchiveFiles {
    layout: ArchiveLayout,
    traces: Vec<PathBuf>,
    /// UUIDs whose string file is absent, so that each is looked up once.
    missing: Mutex<HashSet<String>>,
}

impl ArchiveFiles {
    fn open_all(paths: Vec<PathBuf>) -> impl Iterator<Item = LocalFile> {
        paths
            .into_iter()
            .filter_map(|path| LocalFile::open(&path).ok())
    }

    fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = list_dir(dir)
            .into_iter()
            .filter(|path| keep(path))
            .collect();
        paths.sort();
        paths
    }

    /// Reads a string file, remembering the UUIDs whose file is absent.
    fn read_strings(&self, uuid: &str, path_of: impl Fn(&str) -> PathBuf) -> io::Result<Vec<u8>> {
        let uuid = full_uuid(uuid)?;
        if self
            .missing
            .lock()
            .is_ok_and(|missing| missing.contains(&uuid))
        {
            return Err(io::Error::new(
                ErrorKind::NotFound,
                format!("no string file for {uuid}"),
            ));
        }
        let result = fs::read(path_of(&uuid));
        if let Err(error) = &result
            && error.kind() == ErrorKind::NotFound
            && let Ok(mut missing) = self.missing.lock()
        {
            missing.insert(uuid);
        }
        result
    }
}

/// The crate writes UUIDs with `{:X}`, which drops leading zeros: pads them
/// back to 32 hex digits.
fn full_uuid(uuid: &str) -> io::Result<String> {
    if uuid.is_empty() || uuid.len() > 32 || !is_hex(uuid) {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!("invalid UUID {uuid:?}"),
        ));
    }
    Ok(format!("{uuid:0>32}").to_ascii_uppercase())
}

fn invalid_data(kind: &str, uuid: &str) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidData,
        format!("invalid {kind} file for {uuid}"),
    )
}

impl FileProvider for ArchiveFiles {
    fn tracev3_files(&self) -> impl Iterator<Item = impl SourceFile> {
        Self::open_all(self.traces.clone())
    }

    fn uuidtext_files(&self) -> impl Iterator<Item = impl SourceFile> {
        let folders = Self::files_in(&self.layout.strings, |path| {
            let name = file_name(path);
            path.is_dir() && name.len() == 2 && is_hex(name)
        });
        let files = folders
            .iter()
            .flat_map(|folder| Self::files_in(folder, |path| file_name(path).len() == 30))
            .collect();
        Self::open_all(files)
    }

    fn read_uuidtext(&self, uuid: &str) -> io::Result<UUIDText> {
        let strings = &self.layout.strings;
        let data = self.read_strings(uuid, |uuid| strings.join(&uuid[..2]).join(&uuid[2..]))?;
        match UUIDText::parse_uuidtext(&data) {
            Ok((_, text)) => Ok(text),
            Err(_) => Err(invalid_data("uuidtext", uuid)),
        }
    }

    fn dsc_files(&self) -> impl Iterator<Item = impl SourceFile> {
        let dsc = self.layout.strings.join("dsc");
        Self::open_all(Self::files_in(&dsc, |path| file_name(path).len() == 32))
    }

    fn read_dsc_uuid(&self, uuid: &str) -> io::Result<SharedCacheStrings> {
        let dsc = self.layout.strings.join("dsc");
        let data = self.read_strings(uuid, |uuid| dsc.join(uuid))?;
        match SharedCacheStrings::parse_dsc(&data) {
            Ok((_, strings)) => Ok(strings),
            Err(_) => Err(invalid_data("dsc", uuid)),
        }
    }

    fn timesync_files(&self) -> impl Iterator<Item = impl SourceFile> {
        let files = Self::files_in(&self.layout.timesync, |path| {
            path.extension()
                .is_some_and(|extension| extension == "timesync")
        });
        Self::open_all(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(tag: u32, data_len: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&tag.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&(data_len as u64).to_le_bytes());
        bytes.resize(bytes.len() + data_len, 0xAA);
        bytes
    }

    #[test]
    fn walk_accepts_padded_chunks() {
        let mut data = chunk(0x1000, 13);
        data.resize(32, 0);
        data.extend(chunk(0x600d, 8));
        let walk = walk_chunks(&data);
        assert_eq!(walk.complete_len, data.len());
        assert_eq!(walk.chunksets, 1);
        assert_eq!(walk.cut, None);
    }

    #[test]
    fn walk_finds_cut_chunk() {
        let mut data = chunk(0x1000, 16);
        data.extend(chunk(0x600b, 100));
        data.truncate(32 + 50);
        let walk = walk_chunks(&data);
        assert_eq!(walk.complete_len, 32);
        assert_eq!(
            walk.cut,
            Some(CutChunk {
                offset: 32,
                needed: 116,
                available: 50
            })
        );
    }

    #[test]
    fn walk_finds_cut_preamble() {
        let mut data = chunk(0x1000, 16);
        data.extend_from_slice(&[1, 2, 3]);
        let walk = walk_chunks(&data);
        assert_eq!(
            walk.cut,
            Some(CutChunk {
                offset: 32,
                needed: 16,
                available: 3
            })
        );
    }

    #[test]
    fn walk_survives_huge_size() {
        let mut data = chunk(0x1000, 0);
        data[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let walk = walk_chunks(&data);
        assert_eq!(walk.complete_len, 0);
        assert_eq!(walk.cut.map(|cut| cut.needed), Some(u64::MAX));
    }

    #[test]
    fn full_uuid_pads_leading_zeros() {
        let padded = full_uuid("7EF56328D53A78B59CCCE3E3189F57").unwrap();
        assert_eq!(padded, "007EF56328D53A78B59CCCE3E3189F57");
        assert!(full_uuid("../etc/passwd").is_err());
        assert!(full_uuid("").is_err());
    }
}
