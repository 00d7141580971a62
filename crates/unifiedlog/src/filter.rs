//! Which records a reader keeps: a byte-level prefilter, then the exact rule.
//!
//! Under [`Filter::Network`] the reader first searches the raw bytes of each
//! line or array element for [`PREFILTER_NEEDLES`]. A line without a hit is
//! counted and skipped without being parsed. A line with a hit is parsed in
//! full and [`Filter::keeps_fields`] decides on the parsed fields. Every record
//! the exact rule keeps contains at least one needle in its raw text, so the
//! prefilter never drops a record the rule would keep, as long as the export
//! writes these names as plain characters. Published Apple exports escape
//! quotes, backslashes, control characters and `/` (as `\/`), and serde_json,
//! which writes the crate's JSON, escapes the same except `/`. No needle
//! contains any of these characters.
//!
//! The needles are searched with one SIMD pass (the Teddy algorithm of the
//! aho-corasick crate) over a whole block of lines, not line by line. This
//! was measured on the export written by `scripts/bench/make-unifiedlog.py`
//! (200 MB in memory, AMD EPYC KVM guest). One `memchr::memmem` pass ran at
//! about 14 GB/s, so one pass per needle would cost about 1.4 GB/s for all
//! ten. The Teddy pass over all ten needles ran at about 9 GB/s.

use aho_corasick::packed;
use memchr::memmem;

/// Strings one of which the raw text of every record [`Filter::Network`]
/// keeps contains, and the loss-event markers that must be counted whatever
/// the filter.
pub const PREFILTER_NEEDLES: [&str; 10] = [
    // Subsystems com.apple.network and com.apple.network.boringssl. Needles
    // starting with "com." would make the search verify every com.apple.*
    // name, so the two subsystem needles start at the last dot.
    ".network",
    // Subsystem com.apple.CFNetwork and the CFNetwork sender image.
    "CFNetwork",
    // Subsystems com.apple.securityd and com.apple.security.*.
    ".security",
    // The trustd process or sender image.
    "trustd",
    // Category ATS, as a complete JSON string.
    "\"ATS\"",
    // Subsystem com.apple.nsurlsessiond.
    "nsurlsessiond",
    // Sender images libboringssl.dylib and libnetwork.dylib.
    "libboringssl",
    "libnetwork",
    // Apple loss events and the crate's `Loss` event type.
    "lossEvent",
    "\"Loss\"",
];

/// Selection of the records a reader yields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Records from the network and TLS stack (see [`Filter::keeps_fields`]).
    #[default]
    Network,
    /// Every record.
    All,
}

impl Filter {
    /// Returns whether this filter keeps `record`.
    pub fn keeps(self, record: &crate::LogRecord) -> bool {
        self.keeps_fields(
            &record.subsystem,
            &record.category,
            &record.process_path,
            &record.sender_image,
        )
    }

    /// Returns whether this filter keeps a record with these fields.
    ///
    /// [`Filter::Network`] keeps a record when one of these holds:
    /// - the subsystem is `com.apple.network` (any category),
    ///   `com.apple.network.boringssl`, `com.apple.CFNetwork`,
    ///   `com.apple.nsurlsessiond`, `com.apple.securityd` or another
    ///   `com.apple.security…` subsystem;
    /// - the category is `ATS`;
    /// - the process or the sender image is `trustd`;
    /// - the sender image is `libboringssl.dylib` or `libnetwork.dylib`;
    /// - the subsystem is empty and the sender image is `CFNetwork`, as on
    ///   Big Sur for CFNetwork's `Connection N:` and `Task <…>` lines.
    pub fn keeps_fields(
        self,
        subsystem: &str,
        category: &str,
        process_path: &str,
        sender_image: &str,
    ) -> bool {
        match self {
            Self::All => true,
            Self::Network => {
                is_network_subsystem(subsystem)
                    || category == "ATS"
                    || file_name(process_path) == "trustd"
                    || is_network_image(file_name(sender_image), subsystem.is_empty())
            }
        }
    }
}

fn is_network_subsystem(subsystem: &str) -> bool {
    matches!(
        subsystem,
        "com.apple.network"
            | "com.apple.network.boringssl"
            | "com.apple.CFNetwork"
            | "com.apple.nsurlsessiond"
    ) || subsystem.starts_with("com.apple.security")
}

fn is_network_image(image: &str, no_subsystem: bool) -> bool {
    match image {
        "libboringssl.dylib" | "libnetwork.dylib" | "trustd" => true,
        "CFNetwork" => no_subsystem,
        _ => false,
    }
}

/// Returns the last component of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The needle search behind [`Filter::Network`].
pub(crate) struct Prefilter {
    teddy: Option<packed::Searcher>,
    /// One finder per needle, used where Teddy has no SIMD implementation
    /// (the packed searcher needs SSSE3 or AVX2 on x86-64, or NEON on AArch64).
    finders: Vec<memmem::Finder<'static>>,
}

impl Prefilter {
    pub(crate) fn new() -> Self {
        let teddy = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(PREFILTER_NEEDLES)
            .build();
        let finders = match teddy {
            Some(_) => Vec::new(),
            None => PREFILTER_NEEDLES.iter().map(memmem::Finder::new).collect(),
        };
        Self { teddy, finders }
    }

    /// Returns the start of the first needle at or after `from` in `haystack`.
    pub(crate) fn find_from(&self, haystack: &[u8], from: usize) -> Option<usize> {
        if from >= haystack.len() {
            return None;
        }
        if let Some(teddy) = &self.teddy {
            let span = aho_corasick::Span {
                start: from,
                end: haystack.len(),
            };
            return teddy.find_in(haystack, span).map(|hit| hit.start());
        }
        let rest = &haystack[from..];
        self.finders
            .iter()
            .filter_map(|finder| finder.find(rest))
            .min()
            .map(|at| from + at)
    }

    /// Returns whether `haystack` contains a needle.
    pub(crate) fn matches(&self, haystack: &[u8]) -> bool {
        self.find_from(haystack, 0).is_some()
    }
}

/// The first prefilter hit at or after a position in one block of lines.
///
/// Remembers the last hit found, so that a block costs one search pass in
/// total however many lines it holds.
#[derive(Debug, Default)]
pub(crate) struct HitCursor {
    /// `Some(p)`: the first hit at or after the last position asked about is
    /// at `p` (`usize::MAX` when none is left in the block).
    next: Option<usize>,
}

impl HitCursor {
    /// Forgets the block: the next call searches afresh.
    pub(crate) fn reset(&mut self) {
        self.next = None;
    }

    /// Returns the first hit at or after `from` in `block`, or `usize::MAX`.
    pub(crate) fn first_from(&mut self, prefilter: &Prefilter, block: &[u8], from: usize) -> usize {
        if let Some(next) = self.next
            && next >= from
        {
            return next;
        }
        let next = prefilter.find_from(block, from).unwrap_or(usize::MAX);
        self.next = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_keeps_documented_sources() {
        let network = Filter::Network;
        let cases = [
            (
                "com.apple.network",
                "boringssl",
                "/usr/bin/curl",
                "/usr/lib/libboringssl.dylib",
            ),
            (
                "com.apple.network",
                "",
                "/usr/bin/curl",
                "/usr/lib/libnetwork.dylib",
            ),
            (
                "com.apple.network",
                "activity",
                "/usr/bin/curl",
                "/usr/lib/other.dylib",
            ),
            (
                "com.apple.network.boringssl",
                "BoringSSL",
                "/usr/bin/x",
                "/usr/lib/x.dylib",
            ),
            (
                "com.apple.CFNetwork",
                "Summary",
                "/usr/bin/x",
                "/usr/lib/x.dylib",
            ),
            (
                "",
                "",
                "/usr/bin/x",
                "/System/Library/Frameworks/CFNetwork.framework/CFNetwork",
            ),
            (
                "com.apple.securityd",
                "SecError",
                "/usr/bin/codesign",
                "/usr/lib/x.dylib",
            ),
            (
                "com.apple.security.xpc",
                "",
                "/usr/bin/x",
                "/usr/lib/x.dylib",
            ),
            ("", "", "/usr/libexec/trustd", "/usr/libexec/trustd"),
            ("com.apple.example", "ATS", "/usr/bin/x", "/usr/lib/x.dylib"),
            (
                "com.apple.nsurlsessiond",
                "background",
                "/usr/libexec/nsurlsessiond",
                "x",
            ),
            ("", "", "/usr/bin/x", "/usr/lib/libboringssl.dylib"),
        ];
        for (subsystem, category, process, sender) in cases {
            assert!(
                network.keeps_fields(subsystem, category, process, sender),
                "{subsystem} {category} {process} {sender}"
            );
        }
    }

    #[test]
    fn network_rejects_unrelated_sources() {
        let network = Filter::Network;
        let cases = [
            (
                "com.apple.mDNSResponder",
                "Default",
                "/usr/sbin/mDNSResponder",
                "mDNSResponder",
            ),
            ("", "", "/kernel", "/kernel"),
            (
                "com.apple.networkextension",
                "",
                "/usr/bin/x",
                "/usr/lib/x.dylib",
            ),
            (
                "com.apple.runningboard",
                "process",
                "/usr/libexec/runningboardd",
                "trustd.x",
            ),
            // CFNetwork as sender image counts only without a subsystem.
            (
                "com.apple.xpc",
                "",
                "/usr/bin/x",
                "/System/Library/Frameworks/CFNetwork",
            ),
            ("com.apple.example", "ats", "/usr/bin/x", "/usr/lib/x.dylib"),
        ];
        for (subsystem, category, process, sender) in cases {
            assert!(
                !network.keeps_fields(subsystem, category, process, sender),
                "{subsystem} {category} {process} {sender}"
            );
        }
    }

    #[test]
    fn all_keeps_everything() {
        assert!(Filter::All.keeps_fields("", "", "", ""));
    }

    #[test]
    fn prefilter_finds_each_needle() {
        let prefilter = Prefilter::new();
        for needle in PREFILTER_NEEDLES {
            let line = format!("{{\"a\":\"xx {needle} yy\"}}");
            assert!(prefilter.matches(line.as_bytes()), "{needle}");
        }
        assert!(!prefilter.matches(b"{\"subsystem\":\"com.apple.xpc\"}"));
    }

    #[test]
    fn prefilter_fallback_matches_teddy() {
        let teddy = Prefilter::new();
        let fallback = Prefilter {
            teddy: None,
            finders: PREFILTER_NEEDLES.iter().map(memmem::Finder::new).collect(),
        };
        let block = b"{\"x\":1}\n{\"s\":\"trustd\"}\n{\"y\":2}\n{\"c\":\"\\\"ATS\\\"\"}\n";
        for from in 0..block.len() {
            assert_eq!(
                teddy.find_from(block, from),
                fallback.find_from(block, from),
                "{from}"
            );
        }
    }

    #[test]
    fn hit_cursor_walks_block_once() {
        let prefilter = Prefilter::new();
        let block = b"aaaa trustd bbbb libnetwork cccc";
        let mut cursor = HitCursor::default();
        assert_eq!(cursor.first_from(&prefilter, block, 0), 5);
        assert_eq!(cursor.first_from(&prefilter, block, 3), 5);
        assert_eq!(cursor.first_from(&prefilter, block, 6), 17);
        assert_eq!(cursor.first_from(&prefilter, block, 18), usize::MAX);
        cursor.reset();
        assert_eq!(cursor.first_from(&prefilter, block, 0), 5);
    }
}
