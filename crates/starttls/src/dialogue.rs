//! The [`Dialogue`]: splits each side into lines, recognises the protocol and
//! hands lines to it, and finds where TLS begins.

use std::mem;

use wiretrust_tcp::Side;
use wiretrust_tls::Preamble;
use wiretrust_tls::start::{Role, Search, classify_preamble, find_start};

use crate::ftp::Ftp;
use crate::imap::Imap;
use crate::outcome::{Limits, Outcome, Position};
use crate::pop3::Pop3;
use crate::session::{Action, Session, Unit};
use crate::smtp::Smtp;
use crate::text::{contains_ignore_case, first_word, is_any, is_binary, numeric_reply};
use crate::xmpp::Xmpp;

/// Bytes tested for a TLS start before a side's bytes are read as lines.
/// `find_start` decides on a ClientHello, ServerHello, alert or SSL 2.0
/// hello within its first 11 bytes.
const PROBE_LEN: usize = 16;

/// The caller's next step, returned by [`Dialogue::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Keep feeding this side.
    Continue,
    /// TLS begins on this side: hand its bytes from here on to the TLS decoder.
    Tls(TlsHandoff),
    /// The dialogue no longer reads this side: TLS began in an earlier call,
    /// the side ended or reached a limit, a gap hid where TLS began, or the
    /// connection is not one of the five protocols. Stop feeding it.
    Done,
}

/// The start of TLS on one side, relative to the call that found it.
///
/// The TLS bytes are `held` followed by `data[rest..]` of that call's `data`.
/// `held` is not empty only when the first TLS bytes came in earlier calls,
/// which the dialogue held back to test them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsHandoff {
    /// Stream offset of the first TLS byte.
    pub offset: u64,
    /// TLS bytes from earlier calls, at most 15.
    pub held: Vec<u8>,
    /// Index in this call's `data` of the first TLS byte not in `held`.
    pub rest: usize,
}

/// The way a side's next bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Test the next bytes for a TLS start, then read them as lines.
    Probe,
    Lines,
    Tls,
    Done,
}

/// One side's reader.
#[derive(Debug)]
struct Reader {
    mode: Mode,
    /// Bytes fed and gap bytes: the stream offset after the last call.
    received: u64,
    /// Stream offset of the next byte to read as lines. Bytes held for a
    /// TLS test come after it.
    offset: u64,
    /// Stream offset of the line being read.
    line_start: u64,
    lines: u64,
    line: Vec<u8>,
    /// The line being read is over the limit and skipped up to its end.
    overlong: bool,
    /// A gap cut the line being read, so it is skipped up to its end.
    resync: bool,
    /// Raw bytes to pass over (IMAP literal, SMTP BDAT chunk).
    skip: u64,
    /// Bytes being tested for a TLS start.
    held: Vec<u8>,
    tls_offset: Option<u64>,
    /// The held bytes when TLS was found, which begin with the first TLS byte.
    tls_held: Vec<u8>,
}

impl Reader {
    fn new() -> Self {
        Reader {
            mode: Mode::Probe,
            received: 0,
            offset: 0,
            line_start: 0,
            lines: 0,
            line: Vec::new(),
            overlong: false,
            resync: false,
            skip: 0,
            held: Vec::new(),
            tls_offset: None,
            tls_held: Vec::new(),
        }
    }

    fn is_finished(&self) -> bool {
        matches!(self.mode, Mode::Tls | Mode::Done)
    }

    /// Builds the handoff for a call whose data began at `call_start`.
    fn handoff(&self, call_start: u64) -> Option<TlsHandoff> {
        let offset = self.tls_offset?;
        let (held, rest) = match call_start.checked_sub(offset) {
            Some(earlier) if earlier > 0 => {
                let earlier = usize::try_from(earlier).unwrap_or(usize::MAX);
                let held = self.tls_held.get(..earlier).unwrap_or(&self.tls_held);
                (held.to_vec(), 0)
            }
            _ => {
                let rest = offset.saturating_sub(call_start);
                (Vec::new(), usize::try_from(rest).unwrap_or(usize::MAX))
            }
        };
        Some(TlsHandoff { offset, held, rest })
    }
}

/// The protocol being followed.
#[derive(Debug)]
enum Handler {
    /// No server line and no telling client line yet.
    Unknown,
    /// The server greeted with a numeric reply that SMTP and FTP share.
    Smtp220OrFtp {
        greeted: bool,
    },
    Smtp(Smtp),
    Imap(Imap),
    Pop3(Pop3),
    Ftp(Ftp),
    Xmpp(Xmpp),
    /// The greeting matched none of the protocols.
    NotApplicable,
}

/// Follows the plaintext dialogue of one TCP connection (SMTP, IMAP, POP3,
/// FTP or XMPP) up to STARTTLS, and reports what it saw in an [`Outcome`].
///
/// Feed each side's bytes in stream order with [`feed`](Self::feed), report
/// lost bytes with [`gap`](Self::gap) and each side's end with
/// [`end`](Self::end), interleaving the sides in capture order, because a
/// reply is paired with the last command fed before it. Each side counts
/// stream offsets from 0. A side's first bytes may be a TLS hello (TLS from
/// the start). The client's bytes after a STARTTLS request are tested for a
/// TLS start, and so are the server's bytes after its acceptance. When a
/// start is found, `feed` returns [`Progress::Tls`] and reads that side no
/// more.
///
/// Memory is bounded by [`Limits`]: one line per side, a few outstanding
/// commands, and the kept texts. No input makes it panic.
#[derive(Debug)]
pub struct Dialogue {
    session: Session,
    handler: Handler,
    client: Reader,
    server: Reader,
}

impl Default for Dialogue {
    fn default() -> Self {
        Self::new()
    }
}

impl Dialogue {
    /// Creates a dialogue with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// Creates a dialogue with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Dialogue {
            session: Session::new(limits),
            handler: Handler::Unknown,
            client: Reader::new(),
            server: Reader::new(),
        }
    }

    /// Reads the next in-order bytes of one side.
    pub fn feed(&mut self, side: Side, data: &[u8]) -> Progress {
        let reader = self.reader(side);
        if reader.is_finished() {
            return Progress::Done;
        }
        let call_start = reader.received;
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        reader.received = call_start.saturating_add(len);
        self.consume(side, data, 0);
        let reader = self.reader(side);
        match reader.mode {
            Mode::Tls => reader
                .handoff(call_start)
                .map_or(Progress::Done, Progress::Tls),
            Mode::Done => Progress::Done,
            Mode::Probe | Mode::Lines => Progress::Continue,
        }
    }

    /// Reports `missing_bytes` bytes of one side that will never arrive.
    ///
    /// The line they cut is dropped. A gap while the side's first bytes
    /// after STARTTLS were being tested ends the side, because where TLS
    /// began is then unknown.
    pub fn gap(&mut self, side: Side, missing_bytes: u64) {
        let counters = &mut self.session.outcome.counters;
        counters.gaps = counters.gaps.saturating_add(1);
        counters.gap_bytes = counters.gap_bytes.saturating_add(missing_bytes);
        let reader = self.reader(side);
        reader.received = reader.received.saturating_add(missing_bytes);
        let initial = reader.offset == 0 && reader.lines == 0;
        let mut cut = false;
        match reader.mode {
            Mode::Probe if !initial => {
                reader.held.clear();
                reader.mode = Mode::Done;
            }
            Mode::Probe | Mode::Lines => {
                reader.held.clear();
                reader.mode = Mode::Lines;
                reader.offset = reader.received;
                if reader.skip >= missing_bytes {
                    reader.skip = reader.skip.saturating_sub(missing_bytes);
                } else {
                    cut = !reader.line.is_empty() || reader.overlong;
                    reader.line.clear();
                    reader.overlong = false;
                    reader.skip = 0;
                    reader.resync = true;
                }
            }
            Mode::Tls | Mode::Done => {}
        }
        if cut {
            let counters = &mut self.session.outcome.counters;
            counters.lines_cut_by_gap = counters.lines_cut_by_gap.saturating_add(1);
        }
        if side == Side::Server {
            self.session.taint_capabilities();
        }
    }

    /// Reports that one side has ended (FIN, RST or end of capture). A
    /// partial last line is read as if complete and counted.
    pub fn end(&mut self, side: Side) {
        let reader = self.reader(side);
        if reader.mode == Mode::Probe {
            let held = mem::take(&mut reader.held);
            reader.mode = Mode::Lines;
            self.consume(side, &held, 0);
        }
        let reader = self.reader(side);
        if reader.mode == Mode::Lines {
            let partial = !reader.line.is_empty() && !reader.overlong && !reader.resync;
            if partial {
                let counters = &mut self.session.outcome.counters;
                counters.truncated_lines = counters.truncated_lines.saturating_add(1);
                self.finish_line(side);
            }
        }
        let reader = self.reader(side);
        if reader.mode != Mode::Tls {
            reader.mode = Mode::Done;
        }
    }

    /// True when neither side is read any more.
    pub fn is_done(&self) -> bool {
        self.client.is_finished() && self.server.is_finished()
    }

    /// Returns what the dialogue has found so far.
    pub fn outcome(&self) -> &Outcome {
        &self.session.outcome
    }

    /// Returns the outcome, consuming the dialogue.
    pub fn into_outcome(self) -> Outcome {
        self.session.outcome
    }

    fn reader(&mut self, side: Side) -> &mut Reader {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Reads `data` by the side's mode. `depth` counts nested calls for
    /// bytes that were held for a TLS test and then turned out to be text.
    fn consume(&mut self, side: Side, data: &[u8], depth: usize) {
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|rest| !rest.is_empty()) {
            let used = match self.reader(side).mode {
                Mode::Tls | Mode::Done => return,
                Mode::Probe => self.probe(side, rest, depth),
                Mode::Lines => self.read(side, rest),
            };
            pos = pos.saturating_add(used.max(1));
        }
    }

    /// Adds bytes to the TLS test of a side and returns how many it took.
    fn probe(&mut self, side: Side, rest: &[u8], depth: usize) -> usize {
        let role = match side {
            Side::Client => Role::Client,
            Side::Server => Role::Server,
        };
        let reader = self.reader(side);
        let take = PROBE_LEN.saturating_sub(reader.held.len()).min(rest.len());
        reader
            .held
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        match find_start(&reader.held, role) {
            Search::Found(start) if start.offset == 0 => {
                reader.mode = Mode::Tls;
                reader.tls_offset = Some(reader.offset);
                reader.tls_held = mem::take(&mut reader.held);
                let offset = reader.offset;
                self.tls_started(side, offset);
                return rest.len();
            }
            Search::Pending(0) if reader.held.len() < PROBE_LEN => return take,
            _ => {}
        }
        // Not TLS: the held bytes are text. Each nesting level reads fewer
        // bytes than the one before, because a new test starts only after a
        // complete line, so the depth stays below PROBE_LEN.
        let held = mem::take(&mut reader.held);
        reader.mode = Mode::Lines;
        if depth < PROBE_LEN {
            self.consume(side, &held, depth.saturating_add(1));
        } else {
            reader.mode = Mode::Done;
        }
        take
    }

    fn tls_started(&mut self, side: Side, offset: u64) {
        let outcome = &mut self.session.outcome;
        match side {
            Side::Client => {
                outcome.client_tls_offset = Some(offset);
                if offset == 0 && matches!(self.handler, Handler::Unknown) {
                    outcome.implicit_tls = true;
                }
            }
            Side::Server => outcome.server_tls_offset = Some(offset),
        }
    }

    /// Reads up to and including the next delimiter, and returns the bytes used.
    fn read(&mut self, side: Side, rest: &[u8]) -> usize {
        if matches!(self.handler, Handler::Unknown) && rest.first() == Some(&b'<') {
            let reader = self.reader(side);
            if reader.line.is_empty() && !reader.resync && reader.skip == 0 {
                self.set_handler(Handler::Xmpp(Xmpp::default()), Preamble::Xmpp);
            }
        }
        let delimiter = match self.handler {
            Handler::Xmpp(_) => b'>',
            _ => b'\n',
        };
        let max_line_len = self.session.limits.max_line_len;
        let reader = self.reader(side);
        if reader.skip > 0 {
            let available = u64::try_from(rest.len()).unwrap_or(u64::MAX);
            let skipped = reader.skip.min(available);
            reader.skip = reader.skip.saturating_sub(skipped);
            reader.offset = reader.offset.saturating_add(skipped);
            return usize::try_from(skipped).unwrap_or(rest.len());
        }
        let end = rest.iter().position(|&b| b == delimiter);
        let used = end.map_or(rest.len(), |at| at.saturating_add(1));
        // XMPP keeps its `>` in the unit, lines drop their LF.
        let kept = match (end, delimiter) {
            (Some(at), b'>') => at.saturating_add(1),
            (Some(at), _) => at,
            (None, _) => rest.len(),
        };
        if reader.line.is_empty() && !reader.overlong && !reader.resync {
            reader.line_start = reader.offset;
        }
        let mut too_long = false;
        if !reader.overlong && !reader.resync {
            let piece = rest.get(..kept).unwrap_or_default();
            if reader.line.len().saturating_add(piece.len()) > max_line_len {
                reader.overlong = true;
                reader.line.clear();
                too_long = true;
            } else {
                reader.line.extend_from_slice(piece);
            }
        }
        let used_bytes = u64::try_from(used).unwrap_or(u64::MAX);
        reader.offset = reader.offset.saturating_add(used_bytes);
        if too_long {
            let counters = &mut self.session.outcome.counters;
            counters.long_lines = counters.long_lines.saturating_add(1);
        }
        if end.is_some() {
            self.finish_line(side);
        }
        used
    }

    /// Ends the line being read: counts it and hands it to the protocol,
    /// unless it was skipped.
    fn finish_line(&mut self, side: Side) {
        let reader = self.reader(side);
        reader.lines = reader.lines.saturating_add(1);
        let skipped = reader.overlong || reader.resync;
        reader.overlong = false;
        reader.resync = false;
        let mut line = mem::take(&mut reader.line);
        let at = Position {
            side,
            offset: reader.line_start,
            line: reader.lines,
        };
        let lines = reader.lines;
        if !skipped {
            let text = line.strip_suffix(b"\r").unwrap_or(&line);
            self.count_line(side, text);
            let action = self.dispatch(&Unit { text, at });
            self.apply(side, action);
        }
        line.clear();
        let max_lines = self.session.limits.max_lines_per_side;
        let reader = self.reader(side);
        reader.line = line;
        if lines >= max_lines && !reader.is_finished() {
            reader.mode = Mode::Done;
            let counters = &mut self.session.outcome.counters;
            counters.line_limit_hits = counters.line_limit_hits.saturating_add(1);
        }
    }

    fn count_line(&mut self, side: Side, text: &[u8]) {
        let counters = &mut self.session.outcome.counters;
        let lines = match side {
            Side::Client => &mut counters.client_lines,
            Side::Server => &mut counters.server_lines,
        };
        *lines = lines.saturating_add(1);
        if is_binary(text) {
            counters.binary_lines = counters.binary_lines.saturating_add(1);
        }
    }

    fn apply(&mut self, side: Side, action: Action) {
        let reader = self.reader(side);
        match action {
            Action::Next => {}
            Action::ExpectTls if reader.mode == Mode::Lines => reader.mode = Mode::Probe,
            Action::ExpectTls => {}
            Action::Skip(bytes) => reader.skip = bytes,
        }
    }

    fn set_handler(&mut self, handler: Handler, protocol: Preamble) {
        self.handler = handler;
        self.session.outcome.protocol = Some(protocol);
    }

    /// Hands a line to the protocol, recognising the protocol first if needed.
    fn dispatch(&mut self, unit: &Unit<'_>) -> Action {
        match unit.at.side {
            Side::Server => self.server_line(unit),
            Side::Client => self.client_line(unit),
        }
    }

    fn server_line(&mut self, unit: &Unit<'_>) -> Action {
        let session = &mut self.session;
        match &mut self.handler {
            Handler::Unknown => self.recognise_greeting(unit),
            Handler::Smtp220OrFtp { greeted } => {
                if let Some(reply) = numeric_reply(unit.text) {
                    *greeted = reply.last;
                }
                Action::Next
            }
            Handler::Smtp(smtp) => smtp.server(session, unit),
            Handler::Imap(imap) => imap.server(session, unit),
            Handler::Pop3(pop3) => pop3.server(session, unit),
            Handler::Ftp(ftp) => ftp.server(session, unit),
            Handler::Xmpp(xmpp) => xmpp.server(session, unit),
            Handler::NotApplicable => Action::Next,
        }
    }

    fn client_line(&mut self, unit: &Unit<'_>) -> Action {
        match self.handler {
            Handler::Unknown => {
                // The server speaks first in all but XMPP, so only an SMTP hello names
                // the protocol before the greeting.
                if is_any(first_word(unit.text), &["EHLO", "HELO"]) {
                    self.set_handler(Handler::Smtp(Smtp::new(false)), Preamble::Smtp);
                } else {
                    return Action::Next;
                }
            }
            Handler::Smtp220OrFtp { greeted } => {
                let Some(chosen) = smtp_or_ftp(unit.text) else {
                    return Action::Next;
                };
                let handler = match chosen {
                    Preamble::Ftp => Handler::Ftp(Ftp::new(greeted)),
                    _ => Handler::Smtp(Smtp::new(greeted)),
                };
                self.set_handler(handler, chosen);
            }
            _ => {}
        }
        let session = &mut self.session;
        match &mut self.handler {
            Handler::Smtp(smtp) => smtp.client(session, unit),
            Handler::Imap(imap) => imap.client(session, unit),
            Handler::Pop3(pop3) => pop3.client(session, unit),
            Handler::Ftp(ftp) => ftp.client(session, unit),
            Handler::Xmpp(xmpp) => xmpp.client(session, unit),
            _ => Action::Next,
        }
    }

    /// Names the protocol from the server's first line and reads it.
    fn recognise_greeting(&mut self, unit: &Unit<'_>) -> Action {
        let text = unit.text;
        self.session.greeting(unit);
        if text.starts_with(b"* ") {
            self.set_handler(Handler::Imap(Imap::default()), Preamble::Imap);
        } else if text.starts_with(b"+OK") || text.starts_with(b"-ERR") {
            self.set_handler(Handler::Pop3(Pop3::default()), Preamble::Pop3);
        } else if let Some(reply) = numeric_reply(text).filter(|r| is_greeting_code(r.code)) {
            if contains_ignore_case(reply.text, b"FTP") {
                self.set_handler(Handler::Ftp(Ftp::new(false)), Preamble::Ftp);
            } else if contains_ignore_case(reply.text, b"SMTP") {
                self.set_handler(Handler::Smtp(Smtp::new(false)), Preamble::Smtp);
            } else {
                self.handler = Handler::Smtp220OrFtp {
                    greeted: reply.last,
                };
                return Action::Next;
            }
        } else {
            self.handler = Handler::NotApplicable;
            self.client.mode = Mode::Done;
            self.server.mode = Mode::Done;
            return Action::Next;
        }
        self.server_line(unit)
    }
}

/// Reply codes a server may greet with: 220 ready, 120 ready soon (FTP),
/// 421 and 554 no service.
fn is_greeting_code(code: u16) -> bool {
    matches!(code, 220 | 120 | 421 | 554)
}

/// Tells SMTP from FTP by a client command, after a greeting that names
/// neither. `classify_preamble` decides the TLS requests (`STARTTLS`,
/// `AUTH TLS`), the verbs below the rest.
fn smtp_or_ftp(line: &[u8]) -> Option<Preamble> {
    let client = [line, b"\r\n"].concat();
    let preamble = classify_preamble(&client, b"220 \r\n");
    if matches!(preamble, Preamble::Smtp | Preamble::Ftp) {
        return Some(preamble);
    }
    let verb = first_word(line);
    if is_any(verb, &["EHLO", "HELO", "MAIL", "AUTH"]) {
        Some(Preamble::Smtp)
    } else if is_any(
        verb,
        &["USER", "PASS", "FEAT", "SYST", "OPTS", "PWD", "CLNT"],
    ) {
        Some(Preamble::Ftp)
    } else {
        None
    }
}
