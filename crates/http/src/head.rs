//! Header blocks: the start line and field lines up to the empty line.

/// A parsed header block.
#[derive(Clone, Debug, Default)]
pub(crate) struct Head {
    pub start: String,
    pub fields: Vec<(String, String)>,
    /// Field lines without a colon, skipped.
    pub bad_lines: usize,
}

impl Head {
    /// Returns the value of the first field called `name`
    /// (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns every value of fields called `name`, joined by commas as RFC 9110
    /// section 5.3 allows for list fields.
    pub fn joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .fields
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// True when a field name starts with `prefix` (case-insensitive).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.fields.iter().any(|(field, _)| {
            field.len() >= prefix.len()
                && field.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
    }
}

/// Returns the length of the header block at the start of `data`,
/// including its empty line, when `data` holds all of it. Bare LF line
/// ends are accepted as RFC 9112 section 2.2 allows.
pub(crate) fn block_end(data: &[u8], searched: usize) -> Option<usize> {
    let from = searched.saturating_sub(3);
    let mut index = from;
    while let Some(found) = memchr::memchr(b'\n', data.get(index..)?) {
        let newline = index + found;
        let next = data.get(newline + 1..)?;
        if next.first() == Some(&b'\n') {
            return Some(newline + 2);
        }
        if next.starts_with(b"\r\n") {
            return Some(newline + 3);
        }
        index = newline + 1;
    }
    None
}

/// Parses a complete header block. Line folding (obs-fold) joins the
/// continuation to the previous field's value.
pub(crate) fn parse(block: &[u8]) -> Head {
    let text = String::from_utf8_lossy(block);
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    // Empty lines before a request line are ignored (RFC 9112 section 2.2).
    let start = lines
        .by_ref()
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    let mut head = Head {
        start: start.trim().to_owned(),
        ..Head::default()
    };
    parse_field_lines(lines, &mut head);
    head
}

/// Parses a chunked trailer section (RFC 9112 section 7.1.2): field lines
/// without a start line.
pub(crate) fn parse_trailer(section: &[u8]) -> Head {
    let text = String::from_utf8_lossy(section);
    let lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let mut head = Head::default();
    parse_field_lines(lines, &mut head);
    head
}

/// Adds field lines up to the first empty line to `head`.
fn parse_field_lines<'a>(lines: impl Iterator<Item = &'a str>, head: &mut Head) {
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = head.fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.ends_with([' ', '\t']) => {
                head.fields.push((name.to_owned(), value.trim().to_owned()));
            }
            _ => head.bad_lines += 1,
        }
    }
}

/// A request line: method, target and version.
pub(crate) fn request_line(start: &str) -> Option<(&str, &str, &str)> {
    let mut parts = start.split(' ').filter(|part| !part.is_empty());
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    let token = method
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    (token && version.starts_with("HTTP/1.") && parts.next().is_none())
        .then_some((method, target, version))
}

/// A status line: version, status code and reason phrase.
pub(crate) fn status_line(start: &str) -> Option<(&str, u16, &str)> {
    let (version, rest) = start.split_once(' ')?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let rest = rest.trim_start();
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 {
        return None;
    }
    let status = code.parse().ok()?;
    Some((version, status, reason.trim()))
}

/// Request methods that mark a stream as HTTP (RFC 9110 section 9 and
/// the WebDAV methods of RFC 4918).
const METHODS: &[&[u8]] = &[
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"CONNECT ",
    b"OPTIONS ",
    b"TRACE ",
    b"PATCH ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
];

/// True when `data` starts with a known request method and a space.
pub(crate) fn looks_like_request(data: &[u8]) -> bool {
    METHODS.iter().any(|method| data.starts_with(method))
}
