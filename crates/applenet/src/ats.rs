//! App Transport Security messages, which CFNetwork logs (category `ATS`
//! for the per-task policy line).

use crate::NetEvent;
use crate::scan::{self, task_id};

/// Library image names that log these messages.
pub(crate) const LIBRARIES: &[&str] = &["CFNetwork"];

pub(crate) fn parse(message: &str) -> Option<NetEvent> {
    if message.starts_with("Task <") {
        let (task, rest) = task_id(message)?;
        return policy(task, rest);
    }
    if message.starts_with("App Transport Security has blocked a ") {
        let reason = message
            .split_once(" since ")
            .map_or(message, |(reason, _)| reason);
        return Some(blocked(reason));
    }
    if message == "ATS failed system trust" {
        return Some(blocked(message));
    }
    None
}

fn blocked(reason: &str) -> NetEvent {
    NetEvent::AtsBlocked {
        task: None,
        reason: reason.trim_end_matches('.').to_owned(),
    }
}

/// Parses `{strength 0, tls 4, ct 0, sub 0, sig 1, ciphers 0, bundle 1, builtin 0}`,
/// with or without `ct`.
fn policy(task: String, rest: &str) -> Option<NetEvent> {
    let list = rest.strip_prefix('{')?.strip_suffix('}')?;
    let mut settings = Vec::new();
    for pair in list.split(", ") {
        let (name, value) = pair.split_once(' ')?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        settings.push((name.to_owned(), scan::signed(value)?));
    }
    Some(NetEvent::AtsPolicy { task, settings })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Origin, Parsed};

    /// Real lines: macOS 11 (Big Sur) with `ct`, a 2023 macOS without it,
    /// and the ATS lines of published bug reports.
    pub(crate) const REAL: &[&str] = &[
        "Task <56A4B8BF-75CF-422B-811B-89FC9D8E659F>.<1> {strength 0, tls 4, ct 0, sub 0, sig 1, ciphers 0, bundle 1, builtin 0}",
        "Task <DB0FD7AC-C006-431E-9118-20771B476850>.<27> {strength 0, tls 4, sub 0, sig 1, ciphers 0, bundle 1, builtin 0}",
        "App Transport Security has blocked a cleartext HTTP (http://) resource load since it is insecure. Temporary exceptions can be configured via your app's Info.plist file.",
        "ATS failed system trust",
    ];

    fn parse_line(message: &str) -> Parsed {
        let origin = Origin {
            subsystem: "com.apple.CFNetwork",
            category: "ATS",
            sender_image: "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork",
            process_path: "/usr/libexec/nsurlsessiond",
        };
        crate::parse(&origin, message)
    }

    fn event(message: &str) -> NetEvent {
        match parse_line(message) {
            Parsed::Event(event) => event,
            other => panic!("{other:?} for {message}"),
        }
    }

    #[test]
    fn every_sample_recognised() {
        for message in REAL {
            assert!(matches!(parse_line(message), Parsed::Event(_)), "{message}");
        }
    }

    #[test]
    fn policy_with_ct() {
        let NetEvent::AtsPolicy { task, settings } = event(REAL[0]) else {
            panic!("not a policy");
        };
        assert_eq!(task, "56A4B8BF75CF422B811B89FC9D8E659F.<1>");
        assert_eq!(settings.len(), 8);
        assert_eq!(settings[1], ("tls".to_owned(), 4));
        assert_eq!(settings[2], ("ct".to_owned(), 0));
    }

    #[test]
    fn policy_without_ct() {
        let NetEvent::AtsPolicy { settings, .. } = event(REAL[1]) else {
            panic!("not a policy");
        };
        let names: Vec<&str> = settings.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "strength", "tls", "sub", "sig", "ciphers", "bundle", "builtin"
            ]
        );
    }

    #[test]
    fn cleartext_blocked() {
        let expected = NetEvent::AtsBlocked {
            task: None,
            reason: "App Transport Security has blocked a cleartext HTTP (http://) resource load"
                .into(),
        };
        assert_eq!(event(REAL[2]), expected);
    }

    #[test]
    fn system_trust_blocked() {
        let NetEvent::AtsBlocked { reason, .. } = event(REAL[3]) else {
            panic!("not blocked");
        };
        assert_eq!(reason, "ATS failed system trust");
    }

    #[test]
    fn malformed_policy_unknown() {
        let line = "Task <56A4B8BF-75CF-422B-811B-89FC9D8E659F>.<1> {strength 0, tls four}";
        assert_eq!(parse_line(line), Parsed::Unknown);
    }
}
