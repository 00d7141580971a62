//! Counters a reader keeps while it reads.

/// Counters of what a [`crate::LogReader`] or `ArchiveReader` has read so far.
///
/// For a text export, `records = parsed + skipped_by_prefilter` once reading
/// ends, less the entries that were too long to parse (those count as errors
/// too).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Bytes read from the input (for archives, from its `.tracev3` files).
    pub bytes: u64,
    /// Lines read, including the banner, the trailer, blank lines and the
    /// last line when it has no line end. Zero for archives.
    pub lines: u64,
    /// Log entries met: lines or array elements other than the banner, the
    /// trailer and blank lines, whether or not they parsed.
    pub records: u64,
    /// Entries parsed in full: all of them under [`crate::Filter::All`],
    /// only prefilter hits under [`crate::Filter::Network`].
    pub parsed: u64,
    /// Records the filter kept and the iterator yielded.
    pub relevant: u64,
    /// Entries the byte-level prefilter ruled out without parsing them.
    pub skipped_by_prefilter: u64,
    /// `lossEvent` (Apple) or `Loss` (macos-unifiedlogs) entries, whatever the filter.
    pub loss_events: u64,
    /// Sum of the `lossCount` of Apple loss events: messages the logging
    /// system dropped. The macos-unifiedlogs crate reports no count.
    pub lost_messages: u64,
    /// Errors yielded, warnings excluded.
    pub errors: u64,
    /// Warnings yielded ([`crate::LogError::is_warning`]).
    pub warnings: u64,
    /// The count in the last `{"count":N,"finished":1}` trailer.
    pub trailer_count: Option<u64>,
}
