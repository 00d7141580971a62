//! Fills a store with synthetic TLS profiles and measures lookups, for
//! scripts/bench/baseline.sh.
//!
//! Usage:
//!   baseline_store generate STORE COUNT
//!   baseline_store lookup STORE COUNT
//!
//! `generate` writes COUNT profiles (1,000 hosts, 50 signed processes per
//! host, one server per profile) with one value per facet and six groups,
//! committing every 50,000. `lookup` reads the profiles of COUNT servers
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

fn profile(index: u64) -> TlsProfile {
    let time_ns = 1_700_000_000_000_000_000 + i64::try_from(index).unwrap_or(0);
    let mut profile = TlsProfile::new(key(index), time_ns);
    profile.count_session(time_ns);
    profile.record(Facet::Transport, "tls", time_ns);
    profile.record(Facet::Version, "TLS 1.3", time_ns);
    profile.record(Facet::Suite, "TLS_AES_128_GCM_SHA256", time_ns);
    profile.record(Facet::Alpn, "h2", time_ns);
    profile.record(Facet::Ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1", time_ns);
    let spki = format!("{:064x}", u128::from(index) * 0x9e37_79b9_7f4a_7c15);
    profile.record(Facet::SpkiSha256, &spki, time_ns);
    profile.record(Facet::Issuer, "CN=Example Issuing CA,O=Example", time_ns);
    for group in GROUPS {
        profile.record(Facet::Group, group, time_ns);
    }
    profile
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
