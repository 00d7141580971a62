//! Certificate trust messages of the Security framework and trustd, and
//! CFNetwork's `System Trust Evaluation yielded status(N)`.
//!
//! None of these lines names a host or a connection: callers correlate
//! them with CFNetwork's `Connection N: asked to evaluate TLS Trust` by
//! process and time.

use crate::scan;
use crate::{NetEvent, TrustCheck};

/// Library image names that log these messages. CFNetwork logs the
/// `System Trust Evaluation` line.
pub(crate) const LIBRARIES: &[&str] = &["Security", "trustd", "securityd", "CFNetwork"];

pub(crate) fn parse(message: &str) -> Option<NetEvent> {
    if let Some(rest) = message.strip_prefix("Trust evaluate failure:") {
        return evaluate_failure(rest);
    }
    if let Some(rest) = message.strip_prefix("System Trust Evaluation yielded status(") {
        return system_status(rest);
    }
    if message.starts_with("cert[") {
        return check_detail(message);
    }
    if let Some(rest) = message.strip_prefix("CSSM Exception: ") {
        return cssm_exception(rest);
    }
    None
}

/// Parses `Trust evaluate failure: [leaf ExtendedKeyUsage MissingIntermediate] [ca1 IntermediateEKU]`:
/// each bracket names a certificate and the policy checks it failed.
fn evaluate_failure(rest: &str) -> Option<NetEvent> {
    let mut checks = Vec::new();
    let mut rest = rest.trim_start();
    while let Some((group, after)) = scan::bracket(rest) {
        let mut words = group.split(' ');
        let certificate = words.next().filter(|word| !word.is_empty())?;
        let before = checks.len();
        checks.extend(
            words
                .filter(|word| !word.is_empty())
                .map(|check| TrustCheck {
                    certificate: certificate.to_owned(),
                    check: check.to_owned(),
                }),
        );
        if checks.len() == before {
            return None;
        }
        rest = after.trim_start();
    }
    if checks.is_empty() || !rest.is_empty() {
        return None;
    }
    let reasons = checks.iter().map(|check| check.check.clone()).collect();
    Some(NetEvent::TrustFailure {
        reasons,
        checks,
        status: None,
    })
}

/// Parses `System Trust Evaluation yielded status(0)`, where 0 is a trusted
/// chain and anything else a failure.
fn system_status(rest: &str) -> Option<NetEvent> {
    let status = scan::signed_i32(rest.strip_suffix(')')?)?;
    if status == 0 {
        return Some(NetEvent::Progress {
            connection: None,
            task: None,
            kind: "trust evaluation",
        });
    }
    Some(NetEvent::TrustFailure {
        reasons: Vec::new(),
        checks: Vec::new(),
        status: Some(status),
    })
}

/// Recognises trustd's per-certificate detail
/// `cert[0]: OtherTrustValidityPeriod =(path)[]> 0`. The `Trust evaluate
/// failure` line logged with it names the same check, so this one is
/// progress, not a second failure.
fn check_detail(message: &str) -> Option<NetEvent> {
    let (index, rest) = scan::leading_digits(message.strip_prefix("cert[")?);
    let (key, _) = rest.strip_prefix("]: ")?.split_once(" =(")?;
    let is_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric());
    (scan::is_digits(index) && is_key).then_some(NetEvent::Progress {
        connection: None,
        task: None,
        kind: "trust check detail",
    })
}

/// Recognises `CSSM Exception: -2147409622 CSSMERR_TP_NOT_TRUSTED`, which
/// code signing checks log as well as TLS.
fn cssm_exception(rest: &str) -> Option<NetEvent> {
    let (code, name) = rest.split_once(' ')?;
    let is_name = name.starts_with("CSSMERR_")
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    (scan::signed(code).is_some() && is_name).then_some(NetEvent::Progress {
        connection: None,
        task: None,
        kind: "CSSM exception",
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Origin, Parsed};

    /// Real lines from public logs and READMEs, and a 2026 build's log.
    pub(crate) const REAL: &[&str] = &[
        "Trust evaluate failure: [leaf MissingIntermediate]",
        "Trust evaluate failure: [leaf ExtendedKeyUsage] [ca1 IntermediateEKU]",
        "Trust evaluate failure: [leaf ExtendedKeyUsage MissingIntermediate]",
        "Trust evaluate failure: [leaf TemporalValidity]",
        "cert[0]: OtherTrustValidityPeriod =(path)[]> 0",
        "CSSM Exception: -2147409622 CSSMERR_TP_NOT_TRUSTED",
        "System Trust Evaluation yielded status(0)",
    ];

    /// Lines built from the verified templates: the name mismatch and the
    /// untrusted root that an interception proxy causes.
    pub(crate) const CONSTRUCTED: &[&str] = &[
        "Trust evaluate failure: [leaf SSLHostname] [root AnchorTrusted]",
        "System Trust Evaluation yielded status(-9807)",
    ];

    fn parse_line(message: &str) -> Parsed {
        let origin = Origin {
            subsystem: "com.apple.securityd",
            category: "SecError",
            sender_image: "/System/Library/Frameworks/Security.framework/Versions/A/Security",
            process_path: "/usr/libexec/trustd",
        };
        crate::parse(&origin, message)
    }

    fn event(message: &str) -> NetEvent {
        match parse_line(message) {
            Parsed::Event(event) => event,
            other => panic!("{other:?} for {message}"),
        }
    }

    fn check(certificate: &str, check: &str) -> TrustCheck {
        TrustCheck {
            certificate: certificate.into(),
            check: check.into(),
        }
    }

    #[test]
    fn every_sample_recognised() {
        for message in REAL.iter().chain(CONSTRUCTED) {
            assert!(matches!(parse_line(message), Parsed::Event(_)), "{message}");
        }
    }

    #[test]
    fn failure_two_certificates() {
        let expected = NetEvent::TrustFailure {
            reasons: vec!["ExtendedKeyUsage".into(), "IntermediateEKU".into()],
            checks: vec![
                check("leaf", "ExtendedKeyUsage"),
                check("ca1", "IntermediateEKU"),
            ],
            status: None,
        };
        assert_eq!(event(REAL[1]), expected);
    }

    #[test]
    fn failure_two_checks_on_leaf() {
        let NetEvent::TrustFailure { reasons, .. } = event(REAL[2]) else {
            panic!("not a trust failure");
        };
        assert_eq!(reasons, ["ExtendedKeyUsage", "MissingIntermediate"]);
    }

    #[test]
    fn failure_interception_constructed() {
        let NetEvent::TrustFailure { checks, .. } = event(CONSTRUCTED[0]) else {
            panic!("not a trust failure");
        };
        assert_eq!(
            checks,
            [check("leaf", "SSLHostname"), check("root", "AnchorTrusted")]
        );
    }

    #[test]
    fn system_status_values() {
        let NetEvent::Progress { kind, .. } = event(REAL[6]) else {
            panic!("status 0 is not progress");
        };
        assert_eq!(kind, "trust evaluation");
        let expected = NetEvent::TrustFailure {
            reasons: Vec::new(),
            checks: Vec::new(),
            status: Some(-9807),
        };
        assert_eq!(event(CONSTRUCTED[1]), expected);
    }

    #[test]
    fn details_are_progress() {
        for (line, expected) in [(REAL[4], "trust check detail"), (REAL[5], "CSSM exception")] {
            let NetEvent::Progress { kind, .. } = event(line) else {
                panic!("not progress: {line}");
            };
            assert_eq!(kind, expected);
        }
    }

    #[test]
    fn malformed_failure_unknown() {
        for line in [
            "Trust evaluate failure: ",
            "Trust evaluate failure: [leaf]",
            "Trust evaluate failure: [leaf X] trailing",
            "Trust evaluate failure: [leaf X",
        ] {
            assert_eq!(parse_line(line), Parsed::Unknown, "{line}");
        }
    }
}
