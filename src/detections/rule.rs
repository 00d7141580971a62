//! The description each detection carries: what `wiretrust rules` lists
//! and what a responder reads to judge and tune an alert.

use super::alert::Severity;

/// A built-in detection's documentation, defined beside its code.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable id used in alerts, policy files and suppressions.
    pub id: &'static str,
    /// Severity when no escalation applies.
    pub default_severity: Severity,
    /// One line for listings.
    pub summary: &'static str,
    /// Meaning of an alert, and the conditions that raise or lower its severity.
    pub meaning: &'static str,
    /// Legitimate traffic that also raises it.
    pub false_positives: &'static str,
    /// How to tune it today.
    pub tuning: &'static str,
}
