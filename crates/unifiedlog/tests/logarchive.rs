//! Log archives and `.tracev3` files, read with the macos-unifiedlogs crate.

#![cfg(feature = "logarchive")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::corpus_path;
use wiretrust_unifiedlog::{
    ArchiveReader, Filter, LogError, LogErrorKind, LogRecord, is_logarchive, read_logarchive,
};

const TRACEV3_DIR: &str = "unifiedlog/dtformats-tracev3";
const BIG_TRACE: &str = "0000000000000f85.tracev3";
const SMALL_TRACE: &str = "0000000000000030.tracev3";

fn read_archive(path: &Path, filter: Filter) -> (Vec<LogRecord>, Vec<LogError>, ArchiveReader) {
    let mut reader = read_logarchive(path, filter).unwrap();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(record) => records.push(record),
            Err(error) => errors.push(error),
        }
    }
    (records, errors, reader)
}

/// Copies a folder tree into `target`, leaving out nothing.
fn copy_tree(source: &Path, target: &Path) {
    fs::create_dir_all(target).unwrap();
    for entry in fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let destination = target.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &destination);
        } else {
            fs::copy(entry.path(), &destination).unwrap();
        }
    }
}

/// Copies the corpus archive into a temporary folder, where it can be changed.
fn archive_copy(source: &Path) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("archive");
    copy_tree(source, &root);
    (temp, root)
}

#[test]
fn corpus_archive_is_recognised() {
    let Some(root) = corpus_path("corpus_archive_is_recognised", TRACEV3_DIR) else {
        return;
    };
    assert!(is_logarchive(&root));
    assert!(is_logarchive(&root.join(BIG_TRACE)));
    assert!(is_logarchive(&root.join(SMALL_TRACE)));
    assert!(!is_logarchive(&root.join("timesync")));
    assert!(!is_logarchive(
        &root.join("timesync/0000000000000002.timesync")
    ));
    assert!(!is_logarchive(&root.join("uuidtext")));
    assert!(!is_logarchive(
        &root.join("../artemis-bigsur-unifiedlogs.jsonl")
    ));
}

#[test]
fn corpus_archive_reads_every_file() {
    let Some(root) = corpus_path("corpus_archive_reads_every_file", TRACEV3_DIR) else {
        return;
    };
    let (records, errors, reader) = read_archive(&root, Filter::All);
    assert!(errors.is_empty(), "{errors:?}");
    let stats = reader.stats();
    assert!(records.len() > 8000, "{}", records.len());
    assert_eq!(stats.records, records.len() as u64);
    assert_eq!(stats.relevant, records.len() as u64);
    let big = fs::metadata(root.join(BIG_TRACE)).unwrap().len();
    let small = fs::metadata(root.join(SMALL_TRACE)).unwrap().len();
    assert_eq!(stats.bytes, big + small);

    // Entry indexes run from 1 without gaps.
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record.location.line, index as u64 + 1);
        assert!(!record.timestamp.is_empty());
        assert!(record.raw.starts_with("{\"subsystem\":"), "{}", record.raw);
    }
    let short = records
        .iter()
        .find(|record| record.raw.len() < 4096)
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&short.raw).unwrap();
    assert_eq!(json["message"].as_str(), Some(short.message.as_str()));

    // Reading each file alone gives the same entries as the whole archive.
    let mut per_file = 0;
    for name in [SMALL_TRACE, BIG_TRACE] {
        let (file_records, file_errors, _) = read_archive(&root.join(name), Filter::All);
        assert!(file_errors.is_empty(), "{file_errors:?}");
        assert!(!file_records.is_empty(), "{name}");
        per_file += file_records.len();
    }
    assert_eq!(per_file, records.len());
}

#[test]
fn corpus_archive_network_filter() {
    let Some(root) = corpus_path("corpus_archive_network_filter", TRACEV3_DIR) else {
        return;
    };
    let (all, _, _) = read_archive(&root, Filter::All);
    let (network, errors, reader) = read_archive(&root, Filter::Network);
    assert!(errors.is_empty(), "{errors:?}");
    let expected: Vec<&LogRecord> = all
        .iter()
        .filter(|record| Filter::Network.keeps(record))
        .collect();
    assert_eq!(network.iter().collect::<Vec<_>>(), expected);
    assert_eq!(reader.stats().records, all.len() as u64);
    assert_eq!(reader.stats().relevant, network.len() as u64);
}

#[test]
fn truncated_tracev3_is_a_counted_error() {
    let Some(source) = corpus_path("truncated_tracev3_is_a_counted_error", TRACEV3_DIR) else {
        return;
    };
    let (full, _, _) = read_archive(&source.join(BIG_TRACE), Filter::All);
    let (_temp, root) = archive_copy(&source);
    let trace = root.join(BIG_TRACE);
    let data = fs::read(&trace).unwrap();
    // The last cut falls inside the last chunk's data, not in its padding.
    for cut in [data.len() / 3, data.len() / 2 + 13, data.len() - 64] {
        fs::write(&trace, &data[..cut]).unwrap();
        let (records, errors, reader) = read_archive(&trace, Filter::All);
        assert_eq!(errors.len(), 1, "cut at {cut}: {errors:?}");
        let LogErrorKind::TruncatedTracev3 {
            path,
            offset,
            needed,
            available,
        } = &errors[0].kind
        else {
            panic!("cut at {cut}: {:?}", errors[0]);
        };
        assert_eq!(path, &trace);
        assert!(*offset < cut as u64);
        assert_eq!(*offset + *available, cut as u64);
        assert!(*needed > *available);
        assert_eq!(reader.stats().errors, 1);
        assert!(records.len() < full.len(), "cut at {cut}");
        assert!(!records.is_empty(), "cut at {cut}");
    }
}

#[test]
fn damaged_tracev3_never_panics_out() {
    let Some(source) = corpus_path("damaged_tracev3_never_panics_out", TRACEV3_DIR) else {
        return;
    };
    let (_temp, root) = archive_copy(&source);
    let trace = root.join(BIG_TRACE);
    let original = fs::read(&trace).unwrap();
    // A fixed linear congruential sequence picks the bytes to overwrite.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for flips in [20, 2000] {
        let mut data = original.clone();
        for _ in 0..flips {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let at = 4096 + (state >> 33) as usize % (data.len() - 4096);
            data[at] = (state >> 17) as u8;
        }
        fs::write(&trace, &data).unwrap();
        let (records, errors, reader) = read_archive(&trace, Filter::All);
        assert_eq!(reader.stats().errors, errors.len() as u64);
        assert_eq!(reader.stats().records, records.len() as u64);
    }
}

/// Builds a chunk: tag, sub-tag, data size, then the data and padding to 8 bytes.
fn chunk(tag: u32, data: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&tag.to_le_bytes());
    bytes.extend_from_slice(&0x11u32.to_le_bytes());
    bytes.extend_from_slice(&(data.len() as u64).to_le_bytes());
    bytes.extend_from_slice(data);
    bytes.resize(bytes.len().next_multiple_of(8), 0);
    bytes
}

/// Writes a log archive layout whose only trace file contains a zeroed
/// header and a chunkset of noise.
fn synthetic_archive(root: &Path) -> PathBuf {
    fs::create_dir_all(root.join("Persist")).unwrap();
    fs::create_dir_all(root.join("timesync")).unwrap();
    fs::create_dir_all(root.join("00")).unwrap();
    fs::create_dir_all(root.join("dsc")).unwrap();
    fs::write(root.join("timesync/0000000000000001.timesync"), [0u8; 48]).unwrap();
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut trace = chunk(0x1000, &[0; 0xd0]);
    trace.extend(chunk(0x600b, &[0; 64]));
    trace.extend(chunk(0x600d, &noise));
    let path = root.join("Persist/0000000000000001.tracev3");
    fs::write(&path, trace).unwrap();
    path
}

#[test]
fn synthetic_archive_layout() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("test.logarchive");
    let trace = synthetic_archive(&root);
    assert!(is_logarchive(&root));
    assert!(is_logarchive(&trace));

    fs::remove_dir_all(root.join("timesync")).unwrap();
    assert!(!is_logarchive(&root));
    assert!(!is_logarchive(&trace));
    let Err(error) = read_logarchive(&root, Filter::All) else {
        panic!("read an archive without timesync/");
    };
    assert!(matches!(error.kind, LogErrorKind::NotALogArchive { .. }));
    assert!(
        error.to_string().contains("is not a .logarchive bundle"),
        "{error}"
    );
}

#[test]
fn synthetic_noise_is_reported_not_panicked() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("noise.logarchive");
    synthetic_archive(&root);
    let (records, errors, reader) = read_archive(&root, Filter::All);
    assert!(records.is_empty(), "{records:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(
            errors[0].kind,
            LogErrorKind::UndecodableTracev3 { chunksets: 1, .. }
                | LogErrorKind::ArchiveParser { .. }
        ),
        "{:?}",
        errors[0]
    );
    assert_eq!(reader.stats().errors, 1);
}

#[test]
fn plain_file_is_no_archive() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("export.ndjson");
    fs::write(&file, b"{}\n").unwrap();
    assert!(!is_logarchive(&file));
    assert!(!is_logarchive(temp.path()));
    assert!(read_logarchive(&file, Filter::All).is_err());
}
