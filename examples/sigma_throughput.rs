//! Measures Sigma rule evaluation on one thread: records per second with
//! 10 and 100 generated rules over flattened TLS session records.
//!
//! ```sh
//! cargo run --release --example sigma_throughput -- 500000
//! ```
//!
//! The argument is the number of records (default 200000). Records and
//! rules are generated, so the figures show the engine's cost, not a
//! capture's; reading and parsing the capture are not included.

use std::time::Instant;

use serde_json::{Value, json};
use wiretrust::sigma::{RuleSet, SigmaEngine};

const VERSIONS: [&str; 4] = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"];
const CIPHERS: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
];

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("the record count is a whole number"))
        .unwrap_or(200_000);
    let records: Vec<Value> = (0..count).map(record).collect();
    for rule_count in [10, 100] {
        let dir = tempfile::tempdir().expect("a temporary folder for the rules");
        for index in 0..rule_count {
            let path = dir.path().join(format!("rule{index:03}.yml"));
            std::fs::write(path, rule(index)).expect("the rule file is written");
        }
        let rules = RuleSet::load(dir.path()).unwrap_or_else(|error| panic!("{error}"));
        let mut engine = SigmaEngine::new(&rules).expect("the generated rules compile");
        let start = Instant::now();
        let mut matches = 0;
        for (index, fields) in records.iter().enumerate() {
            let time_ns = i64::try_from(index).unwrap_or(i64::MAX) * 1_000_000;
            matches += engine.evaluate(fields, time_ns).len();
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{rule_count:>3} rules: {count} records in {seconds:.2} s, {:.0} records/s, \
             {matches} matches",
            count as f64 / seconds
        );
    }
}

/// Builds a flattened TLS session with the fields a capture gives.
fn record(index: usize) -> Value {
    json!({
        "logsource.product": "macos",
        "logsource.service": "tls",
        "logsource.category": "network",
        "record_type": "tls_session",
        "input": "generated.pcap",
        "time": "2026-12-04T16:33:43.151657Z",
        "stream": index,
        "src_ip": "10.0.0.2",
        "src_port": 40000 + index % 20000,
        "dst_ip": format!("10.1.{}.{}", index % 200, index % 250),
        "dst_port": if index.is_multiple_of(10) { 8443 } else { 443 },
        "server_name": format!("api{}.host{}.example", index % 7, index % 1000),
        "process.name": "nsurlsessiond",
        "process.signing_id": "com.apple.nsurlsessiond",
        "tls.version": VERSIONS[index % VERSIONS.len()],
        "tls.cipher": CIPHERS[index % CIPHERS.len()],
        "tls.client_max_version": "TLS 1.3",
        "tls.established": !index.is_multiple_of(13),
        "tls.failed_attempt": index.is_multiple_of(13),
        "tls.history": "HhckoKFEnfeDdzZ",
        "ja4": "t13d311000_e8f1e7e78f70_5ac7197df9d2",
        "cert.issuer": "CN=wiretrust Test CA",
        "cert.subject": format!("CN=host{}.example", index % 1000),
        "bytes": 4768,
    })
}

/// Writes one of four rule shapes with values of its own, so no two rules
/// are the same.
fn rule(index: usize) -> String {
    let detection = match index % 4 {
        0 => format!(
            "  selection:\n    tls.version:\n      - TLS 1.0\n      - TLS 1.1\n    \
             server_name|endswith: .host{index}.example\n  condition: selection"
        ),
        1 => format!(
            "  selection:\n    tls.cipher|contains:\n      - _RC4_\n      - _3DES_\n    \
             dst_port: {}\n  condition: selection",
            8000 + index
        ),
        2 => format!(
            "  selection:\n    process.signing_id|startswith: com.apple.\n    \
             tls.version: TLS 1.0\n  filter:\n    dst_ip|cidr: 10.{index}.0.0/16\n  \
             condition: selection and not filter"
        ),
        _ => format!(
            "  selection:\n    cert.issuer|contains: Test CA\n    \
             cert.subject|re: '^CN=host{index}\\.'\n  condition: selection"
        ),
    };
    format!(
        "title: generated rule {index}\nid: 00000000-0000-4000-8000-{index:012}\n\
         logsource:\n  product: macos\n  service: tls\ndetection:\n{detection}\nlevel: low\n"
    )
}
