//! `tls.stripped`: plaintext HTTP to a host that announced Strict
//! Transport Security earlier in the same input, and mail, file transfer
//! or chat dialogues whose STARTTLS upgrade was removed, garbled or
//! refused.

use std::collections::HashMap;

use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::HttpTransfer;

mod starttls;

pub use starttls::check_dialogue;
pub(crate) use starttls::evidence as dialogue_evidence;

pub const RULE: Rule = Rule {
    id: "tls.stripped",
    default_severity: Severity::High,
    summary: "Plaintext HTTP to a host that announced Strict-Transport-Security or that the \
              baseline knows over TLS, or a STARTTLS upgrade removed, garbled, refused or not \
              started",
    meaning: "HTTP: a response from the host (or, with includeSubDomains, from a parent \
              domain) carried a Strict-Transport-Security field, so a client that honours it \
              must only reach the host over TLS. A later plaintext HTTP request to that host \
              is what SSL stripping produces: a man in the middle rewrote https links or \
              redirects so the client stays on http. A later response with max-age=0 \
              removes the host. The set of hosts is kept per input for the whole run. \
              Evidence: the packet of the request in clear and the packet of the response \
              that announced HSTS. \
              STARTTLS (SMTP, IMAP, POP3, FTP, XMPP): the server's capability list carried \
              STARTTLS overwritten or misspelt (as middleboxes that inspect SMTP do), the \
              server rejected the client's STARTTLS request, the server accepted it but the \
              client's next command (AUTH PLAIN, LOGIN, USER) came in plaintext instead of \
              a TLS ClientHello, or the list lacked STARTTLS and the client went on in \
              plaintext. One alert per connection; confidence is \
              high for an overwritten or misspelt capability or for credentials or mail sent \
              after an accepted upgrade, and lower when only an absent \
              capability is seen, because one connection cannot tell a removed capability from a \
              server that never offered it. Sending credentials or mail in plaintext after \
              the absent or refused upgrade raises the confidence one step. Evidence: the \
              capability line, request and reply, and the client's next command (its verb \
              only, never credentials), each with its packet, side, stream offset and line. \
              Baseline: a plaintext HTTP transfer, or a STARTTLS dialogue that stayed in \
              plaintext, to a server that this host reached only over TLS or STARTTLS \
              before, by the store's profile. A dialogue's server is its address and port, \
              where TLS or STARTTLS counts, or the host name of its SMTP or XMPP greeting, \
              where only STARTTLS counts, because TLS to that name (such as HTTPS) says \
              nothing about the mail or chat port. Evidence names the profile, in the \
              store named by its path (or `memory store`), \
              with its transports, first sighting and count. When the dialogue checks \
              above already raised an alert for the same connection, the profile is added \
              to that alert, at medium confidence or more, instead of a second alert. A \
              dialogue that stayed in plaintext is learned as transport plaintext unless \
              the baseline raised or extended an alert for it.",
    false_positives: "Clients that ignore HSTS (curl, scripts, embedded agents), and HSTS \
                      fields sent over plaintext HTTP, which RFC 6797 section 8.1 tells user \
                      agents to ignore. Mail and chat servers that never offer STARTTLS, or \
                      that reject it while their certificate or TLS library is unavailable \
                      (SMTP 454).",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Hosts announced per input at most; the set is emptied beyond it.
const MAX_HOSTS: usize = 100_000;

/// One host's Strict-Transport-Security announcement.
#[derive(Clone, Debug)]
struct Announcement {
    include_subdomains: bool,
    time_ns: i64,
    packet: u64,
    url: Option<String>,
}

/// The HSTS hosts seen so far, per input.
#[derive(Default)]
pub struct HstsTracker {
    hosts: HashMap<String, HashMap<String, Announcement>>,
}

impl HstsTracker {
    /// Raises the alert for a plaintext request to an announced host, then
    /// notes the transfer's own announcement.
    pub fn check(
        &mut self,
        transfer: &HttpTransfer,
        config: &DetectionConfig,
        out: &mut Vec<Alert>,
    ) {
        let Some(host) = transfer.host_name() else {
            return;
        };
        let connect = transfer.method.as_deref() == Some("CONNECT");
        if !connect && let Some((announced_for, announcement)) = self.lookup(transfer, &host) {
            out.push(alert(
                transfer,
                &host,
                &announced_for,
                &announcement,
                config,
            ));
        }
        let Some(field) = &transfer.strict_transport_security else {
            return;
        };
        let Some((max_age, include_subdomains)) = parse_sts(field) else {
            return;
        };
        let hosts = self.hosts.entry(transfer.input.to_string()).or_default();
        if max_age == 0 {
            hosts.remove(&host);
            return;
        }
        if hosts.len() >= MAX_HOSTS {
            hosts.clear();
        }
        let announcement = Announcement {
            include_subdomains,
            time_ns: transfer.time_ns,
            packet: transfer.response_packet.unwrap_or_default(),
            url: transfer.url.clone(),
        };
        hosts.insert(host, announcement);
    }

    /// Finds the announcement that covers `host`: its own, or a parent domain's
    /// with includeSubDomains, made before the transfer's request.
    fn lookup(&self, transfer: &HttpTransfer, host: &str) -> Option<(String, Announcement)> {
        let hosts = self.hosts.get(transfer.input.as_ref())?;
        let earlier = |a: &&Announcement| a.time_ns <= transfer.time_ns;
        if let Some(found) = hosts.get(host).filter(earlier) {
            return Some((host.to_owned(), found.clone()));
        }
        let mut rest = host;
        while let Some((_, parent)) = rest.split_once('.') {
            if let Some(found) = hosts
                .get(parent)
                .filter(|a| a.include_subdomains)
                .filter(earlier)
            {
                return Some((parent.to_owned(), found.clone()));
            }
            rest = parent;
        }
        None
    }
}

/// Parses `max-age` and `includeSubDomains` (RFC 6797 section 6.1);
/// `None` without a valid max-age.
fn parse_sts(field: &str) -> Option<(u64, bool)> {
    let mut max_age = None;
    let mut include_subdomains = false;
    for directive in field.split(';') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        if name.trim().eq_ignore_ascii_case("max-age") {
            max_age = value.trim().trim_matches('"').parse().ok();
        } else if name.trim().eq_ignore_ascii_case("includesubdomains") {
            include_subdomains = true;
        }
    }
    Some((max_age?, include_subdomains))
}

fn alert(
    transfer: &HttpTransfer,
    host: &str,
    announced_for: &str,
    announcement: &Announcement,
    config: &DetectionConfig,
) -> Alert {
    let title = format!(
        "Plaintext HTTP to {host}, which announced Strict-Transport-Security{}",
        if announced_for == host {
            String::new()
        } else {
            format!(" for {announced_for} and its subdomains")
        }
    );
    let mut alert = Alert::for_transfer(
        transfer,
        RULE.id,
        RULE.default_severity,
        Confidence::Medium,
        title,
        config.host(),
    );
    alert.compare("hsts_host", announced_for);
    alert.compare("include_subdomains", announcement.include_subdomains);
    let packet = transfer.request_packet.unwrap_or_default();
    let request = format!(
        "{} {}",
        transfer.method.as_deref().unwrap_or("?"),
        transfer.url.as_deref().unwrap_or("?")
    );
    alert.evidence.push(Evidence::at_transfer_packet(
        transfer,
        packet,
        "http.request",
        request,
    ));
    let earlier = format!(
        "Strict-Transport-Security on the response to {}",
        announcement.url.as_deref().unwrap_or("an earlier request")
    );
    let evidence = Evidence::at_transfer_packet(
        transfer,
        announcement.packet,
        "http.response.strict_transport_security",
        earlier,
    );
    alert.evidence.push(evidence);
    alert
}

#[cfg(test)]
mod tests {
    use super::parse_sts;

    #[test]
    fn sts_with_subdomains() {
        assert_eq!(
            parse_sts("max-age=31536000; includeSubDomains"),
            Some((31536000, true))
        );
    }

    #[test]
    fn sts_quoted_max_age() {
        assert_eq!(parse_sts("max-age=\"60\""), Some((60, false)));
    }

    #[test]
    fn sts_without_max_age() {
        assert_eq!(parse_sts("includeSubDomains"), None);
    }
}
