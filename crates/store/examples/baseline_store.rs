//! Fills a store with synthetic TLS profiles and measures lookups, for
//! scripts/bench/baseline.sh.
//!
//! Usage:
//!   baseline_store generate STORE COUNT
//!   baseline_store lookup STORE COUNT
//!
//! `generate` writes COUNT profiles (1,000 hosts, 50 signed processes per
//! host, one server per profile) with one value per facet and six groups,
//! learned over up to 30 days, committing every 50,000. `lookup` reads the profiles of COUNT servers
//! spread over the store, one query each, as the detections' cache does on
//! a miss.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Instant;

use wiretrust_store::{Facet, ProfileFilter, ProfileKey, SqliteStore, Store, TlsProfile};

/// Profiles written per transaction.
const BATCH: u64 = 50_000;
const HOSTS: u64 = 1_000;
const PROCESSES: u64 = 50;
const GROUPS: [&str; 6] = [
    "x25519",
    "secp256r1",
    "secp384r1",
    "X25519MLKEM768",
    "ffdhe2048",
    "ffdhe3072",
];

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let (Some(command), Some(store), Some(count)) =
        (arguments.get(1), arguments.get(2), arguments.get(3))
    else {
        eprintln!("usage: baseline_store generate|lookup STORE COUNT");
        std::process::exit(2);
    };
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("invalid COUNT {count:?}; use a whole number");
        std::process::exit(2);
    };
    let result = match command.as_str() {
        "generate" => generate(Path::new(store), count),
        "lookup" => lookup(Path::new(store), count),
        other => {
            eprintln!("unknown command {other:?}; use generate or lookup");
            std::process::exit(2);
        }
    };
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn key(index: u64) -> ProfileKey {
    ProfileKey {
        host: format!("host-{:04}", index % HOSTS),
        process: format!(
            "signing:TEAM{:04}:com.example.app{}",
            index % HOSTS,
            (index / HOSTS) % PROCESSES
        ),
        server: format!("s{index}.example.test"),
    }
}

/// Nanoseconds in a day.
const DAY_NS: u64 = 86_400_000_000_000;

/// Builds profile `index` as a baseline learned over up to 30 days: its
/// values first seen within a day of its first session, all last seen at
/// its last, each counted in every one of its 1 to 97 sessions. The
/// spread matters for the store size, which keeps times relative to the
/// profile's first session.
fn profile(index: u64) -> TlsProfile {
    let mix = index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let start = 1_700_000_000_000_000_000 + i64::try_from(index * 1_000_003).unwrap_or(0);
    let span = i64::try_from(mix % (30 * DAY_NS)).unwrap_or(0);
    let sessions = 1 + mix % 97;
    let mut profile = TlsProfile::new(key(index), start);
    profile.count_session(start + span);
    let spki = format!("{:064x}", u128::from(index) * 0x9e37_79b9_7f4a_7c15);
    let mut values = vec![
        (Facet::Transport, "tls"),
        (Facet::Version, "TLS 1.3"),
        (Facet::Suite, "TLS_AES_128_GCM_SHA256"),
        (Facet::Alpn, "h2"),
        (Facet::Ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1"),
        (Facet::SpkiSha256, spki.as_str()),
        (Facet::Issuer, "CN=Example Issuing CA,O=Example"),
    ];
    values.extend(GROUPS.map(|group| (Facet::Group, group)));
    for (slot, (facet, value)) in values.into_iter().enumerate() {
        let offset = (mix >> (slot * 4)) % DAY_NS;
        let first = start + i64::try_from(offset).unwrap_or(0).min(span);
        profile.record(facet, value, first);
        profile.record(facet, value, start + span);
    }
    profile.sessions = sessions;
    for facet in Facet::ALL {
        for seen in facet_values(&mut profile, facet) {
            seen.count = sessions;
        }
    }
    profile
}

fn facet_values(profile: &mut TlsProfile, facet: Facet) -> &mut Vec<wiretrust_store::Seen> {
    match facet {
        Facet::Version => &mut profile.versions,
        Facet::Suite => &mut profile.suites,
        Facet::Group => &mut profile.groups,
        Facet::Alpn => &mut profile.alpn,
        Facet::Ja4 => &mut profile.ja4,
        Facet::SpkiSha256 => &mut profile.spki_sha256,
        Facet::Issuer => &mut profile.issuers,
        Facet::Transport => &mut profile.transports,
    }
}

fn generate(path: &Path, count: u64) -> Result<(), wiretrust_store::StoreError> {
    let mut store = SqliteStore::open(path)?;
    let started = Instant::now();
    for index in 0..count {
        store.put_tls_profile(&profile(index))?;
        if (index + 1) % BATCH == 0 {
            store.commit()?;
        }
    }
    store.commit()?;
    let seconds = started.elapsed().as_secs_f64();
    drop(store);
    let bytes = std::fs::metadata(path).map_or(0, |meta| meta.len())
        + std::fs::metadata(path.with_extension("sqlite-wal")).map_or(0, |meta| meta.len());
    println!(
        "generated {count} profiles in {seconds:.1} s ({:.0} profiles/s); store {bytes} bytes, \
         {:.0} bytes per profile",
        count as f64 / seconds,
        bytes as f64 / count.max(1) as f64
    );
    Ok(())
}

fn lookup(path: &Path, count: u64) -> Result<(), wiretrust_store::StoreError> {
    let mut store = SqliteStore::open(path)?;
    let total = store.tls_profiles(&ProfileFilter {
        host: Some("host-0000".to_owned()),
        ..ProfileFilter::default()
    })?;
    // host-0000 has every HOSTS-th profile, so its count times HOSTS
    // bounds the generated indices.
    let span = (total.len() as u64 * HOSTS).max(1);
    let started = Instant::now();
    let mut found = 0usize;
    for step in 0..count {
        // A multiplicative step spreads the servers over the whole index.
        let index = step.wrapping_mul(2_654_435_761) % span;
        let filter = ProfileFilter {
            server: Some(key(index).server),
            ..ProfileFilter::default()
        };
        found += store.tls_profiles(&filter)?.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "looked up {count} servers in {seconds:.2} s: {:.0} lookups/s, {found} profiles found",
        count as f64 / seconds
    );
    Ok(())
}
