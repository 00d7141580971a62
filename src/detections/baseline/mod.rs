//! Baselines: what each process on each host used to reach each server,
//! learned into the store, and the detections that compare a new session
//! with it (`tls.baseline_downgrade`, `tls.client_hello_changed`,
//! `tls.certificate_changed`, and `tls.stripped` for plaintext where the
//! baseline had TLS).
//!
//! Profiles are read from the store once per host and server, and once
//! per signed process, with one summary per server. [`ProfileCache`] keeps
//! and changes them in memory until [`Baseline::flush`] writes them back,
//! so the hot path does not query SQLite for each session. A cache that
//! grows past [`ProfileCache::LIMIT`] profiles is written into the open
//! transaction and emptied.

mod cache;
mod observed;
mod rank;
mod rules;

pub use cache::BaselineCounts;
pub use rules::{CLIENT_HELLO_CHANGED, DOWNGRADE};

use wiretrust_store::StoreError;

use super::shared_store::SharedStore;
use super::{Alert, Process, Severity};
use crate::observations::{EndpointConnection, HttpTransfer, StarttlsDialogue, TlsSession};
use cache::ProfileCache;
use observed::Observed;
use rules::DialogueVerdict;

/// Switches and limits of the baseline for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineConfig {
    /// Add what is seen to the profiles.
    pub learn: bool,
    /// Compare sessions with the profiles and raise alerts.
    pub detect: bool,
    /// While a host's first profile is younger than this at the time of
    /// a session, its baseline alerts are lowered to info. Nanoseconds.
    pub learning_period_ns: i64,
    /// Commit after this many learned sightings (for `watch`); `None`
    /// commits once, at the end of the run.
    pub commit_every: Option<u64>,
}

impl Default for BaselineConfig {
    /// Returns the baseline switched off, as library scans have it unless
    /// they ask.
    fn default() -> Self {
        BaselineConfig {
            learn: false,
            detect: false,
            learning_period_ns: 0,
            commit_every: None,
        }
    }
}

impl BaselineConfig {
    /// True when the baseline neither learns nor detects.
    pub fn is_off(&self) -> bool {
        !self.learn && !self.detect
    }
}

/// True when a baseline alert above info was raised. Such a sighting is
/// not learned, so a change an attacker forces does not enter the baseline
/// through `scan` and repeats keep alerting until `baseline forget` resets
/// the profile. `baseline learn` learns every sighting.
fn raised_above_info(alerts: &[Alert]) -> bool {
    alerts.iter().any(|alert| alert.severity > Severity::Info)
}

/// The baseline detections and their profile cache.
pub struct Baseline {
    config: BaselineConfig,
    store: SharedStore,
    /// The store's path, or `memory store`, for evidence.
    store_name: String,
    cache: ProfileCache,
    /// Sightings learned since the last commit.
    uncommitted: u64,
    /// Sessions, transfers, dialogues and connections compared with the
    /// baseline.
    lookups: u64,
}

impl Baseline {
    /// Creates the baseline over `store`.
    pub fn new(config: BaselineConfig, store: SharedStore) -> Baseline {
        Baseline {
            config,
            store_name: store.name(),
            store,
            cache: ProfileCache::default(),
            uncommitted: 0,
            lookups: 0,
        }
    }

    /// Compares one capture session with its baseline, then learns it.
    /// `process` is the session's process with its code-signing identity
    /// when eslogger input gave one. `out` contains the alerts the other
    /// detections raised for the session, so that a policy pin's
    /// `tls.certificate_changed` alert takes the baseline's evidence in
    /// place of a second alert of that id.
    pub fn check_session(
        &mut self,
        session: &TlsSession,
        process: &Process,
        host: &str,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if self.config.is_off() {
            return Ok(());
        }
        let Some(observed) = Observed::from_session(session, process, host) else {
            return Ok(());
        };
        self.load(&observed)?;
        if self.config.detect {
            self.lookups += 1;
            let start = out.len();
            let added_to_pin = rules::check_session(
                session,
                &observed,
                &mut self.cache,
                &self.store_name,
                start,
                out,
            );
            // A change added to the pin's alert is held back from the
            // baseline as its own alert would have been.
            return self.settle(&observed, &mut out[start..], added_to_pin);
        }
        self.learn(&observed)
    }

    /// Compares one plaintext HTTP transfer with the baseline of its
    /// server, then learns it.
    pub fn check_transfer(
        &mut self,
        transfer: &HttpTransfer,
        host: &str,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if self.config.is_off() {
            return Ok(());
        }
        let observed = Observed::from_transfer(transfer, host);
        self.load(&observed)?;
        if self.config.detect {
            self.lookups += 1;
            let start = out.len();
            rules::check_transfer(transfer, &observed, &self.cache, &self.store_name, out);
            return self.settle(&observed, &mut out[start..], false);
        }
        self.learn(&observed)
    }

    /// Compares a STARTTLS dialogue that stayed in plaintext with the
    /// baseline of its server, then learns it as transport `plaintext`.
    /// `out[own..]` contains the alerts the dialogue detection raised for it.
    /// An upgraded dialogue is left to its TLS session, which is learned
    /// with transport `starttls`.
    ///
    /// NOTE: dialogues are checked when their connection ends, while the
    /// pipeline keeps TLS sessions back to order them by start time. Within
    /// one scan, a STARTTLS session may thus be learned after a later
    /// plaintext dialogue to the same server was compared.
    pub fn check_dialogue(
        &mut self,
        dialogue: &StarttlsDialogue,
        host: &str,
        own: usize,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if self.config.is_off() || dialogue.client_tls_offset.is_some() || dialogue.implicit_tls {
            return Ok(());
        }
        let observed = Observed::from_dialogue(dialogue, host);
        self.load(&observed)?;
        if let Some(name) = &observed.server_name {
            let cache = &mut self.cache;
            self.store
                .with(|store| cache.load_host(store, host, name))?;
        }
        if self.config.detect {
            self.lookups += 1;
            let verdict =
                rules::check_dialogue(dialogue, &observed, &self.cache, &self.store_name, own, out);
            match verdict {
                DialogueVerdict::NoBaseline => {}
                // The dialogue's own alert is not a baseline alert, so the
                // learning period leaves it as it is.
                DialogueVerdict::AddedToAlert => return Ok(()),
                DialogueVerdict::Raised => {
                    let raised = out.len() - 1;
                    return self.settle(&observed, &mut out[raised..], false);
                }
            }
        }
        self.learn(&observed)
    }

    /// Compares one finished connection of an endpoint log with its
    /// baseline, then learns it. It runs when the connection's record is
    /// complete, after its lines were judged one by one, so its alerts
    /// follow theirs. `process` is the connection's process, with its
    /// code-signing identity when eslogger input gave one: it keys the
    /// profile and is named in the alert.
    pub fn check_connection(
        &mut self,
        connection: &EndpointConnection,
        process: &Process,
        host: &str,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if self.config.is_off() {
            return Ok(());
        }
        let Some(observed) = Observed::from_connection(connection, process, host) else {
            return Ok(());
        };
        self.load(&observed)?;
        if self.config.detect {
            self.lookups += 1;
            let start = out.len();
            rules::check_connection(
                connection,
                process,
                &observed,
                &mut self.cache,
                &self.store_name,
                out,
            );
            return self.settle(&observed, &mut out[start..], false);
        }
        self.learn(&observed)
    }

    /// Lowers `raised`, the baseline alerts of one sighting, to info while
    /// its host is learning, then learns the sighting unless it is
    /// `held_back` or one of those alerts is above info.
    fn settle(
        &mut self,
        observed: &Observed,
        raised: &mut [Alert],
        held_back: bool,
    ) -> Result<(), StoreError> {
        self.soften_if_learning(observed, raised)?;
        if held_back || raised_above_info(raised) {
            return Ok(());
        }
        self.learn(observed)
    }

    /// Writes the profiles changed since the last flush into the store's
    /// open transaction; the caller commits.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        let cache = &mut self.cache;
        self.store.with(|store| cache.flush(store))?;
        self.uncommitted = 0;
        Ok(())
    }

    /// Returns what the baseline counted so far. `lookups` counts the
    /// sightings compared with the baseline, one each, however many
    /// profiles a comparison read.
    pub fn counts(&self) -> BaselineCounts {
        BaselineCounts {
            lookups: self.lookups,
            ..self.cache.counts()
        }
    }

    fn load(&mut self, observed: &Observed) -> Result<(), StoreError> {
        let cache = &mut self.cache;
        self.store.with(|store| cache.load(store, observed))
    }

    fn learn(&mut self, observed: &Observed) -> Result<(), StoreError> {
        if !self.config.learn {
            return Ok(());
        }
        let cache = &mut self.cache;
        let host = &observed.key.host;
        self.store
            .with(|store| cache.host_first_seen(store, host))?;
        self.cache.learn(observed);
        self.uncommitted += 1;
        if let Some(every) = self.config.commit_every
            && self.uncommitted >= every
        {
            self.flush()?;
            self.store.commit()?;
        }
        if self.cache.len() > ProfileCache::LIMIT {
            // Reads on the store's connection see its uncommitted writes,
            // so the profiles come back as learned when next needed.
            self.flush()?;
            self.cache.clear();
        }
        Ok(())
    }

    /// Lowers the alerts of a host still in its learning period to info.
    fn soften_if_learning(
        &mut self,
        observed: &Observed,
        alerts: &mut [Alert],
    ) -> Result<(), StoreError> {
        if alerts.is_empty() || self.config.learning_period_ns <= 0 {
            return Ok(());
        }
        let cache = &mut self.cache;
        let host = &observed.key.host;
        let first = self
            .store
            .with(|store| cache.host_first_seen(store, host))?;
        let Some(first) = first else {
            return Ok(());
        };
        let age_ns = observed.time_ns.saturating_sub(first);
        if age_ns >= self.config.learning_period_ns {
            return Ok(());
        }
        self.cache.count_softened(alerts.len());
        for alert in alerts {
            alert.severity = Severity::Info;
            alert.compare("learning_period", true);
            alert.compare(
                "host_first_seen",
                crate::observations::format_rfc3339(first),
            );
        }
        Ok(())
    }
}
