//! One eslogger message turned into a typed event.

use serde_json::Value;

use crate::ProcessIdentity;
use crate::json::{FieldError, Obj, parse_time};

/// One Endpoint Security message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsEvent {
    /// 1-based line number in the input.
    pub line: u64,
    /// `time`, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// Per-event-type sequence number, used by ES to reveal dropped messages.
    pub seq_num: Option<u64>,
    /// Sequence number over all event types.
    pub global_seq_num: Option<u64>,
    /// ES message version: 9 on macOS 15, 10 on macOS 26.
    pub version: u32,
    /// The process that caused the event (for exec, the image before it).
    pub process: ProcessIdentity,
    pub kind: EsEventKind,
}

/// The event type and payload, chosen by the event's name in `event`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EsEventKind {
    /// The process replaced its image with `target`.
    Exec {
        target: ProcessIdentity,
        args: Vec<String>,
    },
    /// The process created `child`.
    Fork {
        child: ProcessIdentity,
    },
    /// The process ended; `status` is the wait(2) status.
    Exit {
        status: i64,
    },
    /// A file was opened; `fflag` contains the kernel FREAD/FWRITE flags.
    Open {
        path: String,
        fflag: i64,
    },
    /// A file was closed; `modified` is true when it was written to.
    Close {
        path: String,
        modified: bool,
    },
    /// A file was created: a new path, or an existing file the event names.
    Create {
        path: String,
    },
    /// A file was renamed from `from` to `to`.
    Rename {
        from: String,
        to: String,
    },
    Write {
        path: String,
    },
    /// An extended attribute such as `com.apple.quarantine` was set.
    SetExtattr {
        path: String,
        name: String,
    },
    /// An extended attribute was deleted (quarantine removal, for example).
    DeleteExtattr {
        path: String,
        name: String,
    },
    /// The user let a file run that Gatekeeper had blocked.
    GatekeeperOverride {
        path: String,
        /// Lower-case hex, as eslogger writes it.
        sha256: Option<String>,
        signing_id: Option<String>,
        team_id: Option<String>,
    },
    /// An event this reader does not interpret, by its name.
    Other {
        name: String,
    },
}

impl EsEventKind {
    /// Returns the eslogger event name, e.g. `"exec"`.
    pub fn name(&self) -> &str {
        match self {
            EsEventKind::Exec { .. } => "exec",
            EsEventKind::Fork { .. } => "fork",
            EsEventKind::Exit { .. } => "exit",
            EsEventKind::Open { .. } => "open",
            EsEventKind::Close { .. } => "close",
            EsEventKind::Create { .. } => "create",
            EsEventKind::Rename { .. } => "rename",
            EsEventKind::Write { .. } => "write",
            EsEventKind::SetExtattr { .. } => "setextattr",
            EsEventKind::DeleteExtattr { .. } => "deleteextattr",
            EsEventKind::GatekeeperOverride { .. } => "gatekeeper_user_override",
            EsEventKind::Other { name } => name,
        }
    }

    /// Returns the `ES_EVENT_TYPE_NOTIFY_*` number of an interpreted event,
    /// from Apple's `ESTypes.h` enum (gatekeeper_user_override since
    /// macOS 15).
    pub fn event_type(&self) -> Option<i64> {
        let number = match self {
            EsEventKind::Exec { .. } => 9,
            EsEventKind::Open { .. } => 10,
            EsEventKind::Fork { .. } => 11,
            EsEventKind::Close { .. } => 12,
            EsEventKind::Create { .. } => 13,
            EsEventKind::Exit { .. } => 15,
            EsEventKind::Rename { .. } => 25,
            EsEventKind::SetExtattr { .. } => 27,
            EsEventKind::Write { .. } => 33,
            EsEventKind::DeleteExtattr { .. } => 70,
            EsEventKind::GatekeeperOverride { .. } => 146,
            EsEventKind::Other { .. } => return None,
        };
        Some(number)
    }
}

/// The envelope fields of a line, before the line number is attached.
pub(crate) struct Parsed {
    pub event: EsEvent,
    /// `event_type` as written, for the cross-check.
    pub event_type: Option<i64>,
}

/// Turns one parsed line into an event.
pub(crate) fn parse_message(root: &Value, line: u64) -> Result<Parsed, FieldError> {
    let root = Obj::new(root, "")?;
    let version = root.i64("version")?;
    let version = u32::try_from(version)
        .map_err(|_| FieldError::invalid("version".to_owned(), "a 32-bit integer"))?;
    let time = root.str("time")?;
    let time_ns = parse_time(time)
        .ok_or_else(|| FieldError::invalid("time".to_owned(), "an RFC 3339 time"))?;
    let process = parse_process(Obj::new(root.required("process")?, "process")?)?;
    let kind = parse_kind(Obj::new(root.required("event")?, "event")?)?;
    let seq_num = root.opt_i64("seq_num")?.and_then(|n| u64::try_from(n).ok());
    let global = root.opt_i64("global_seq_num")?;
    let event_type = root.opt_i64("event_type")?;
    Ok(Parsed {
        event: EsEvent {
            line,
            time_ns,
            seq_num,
            global_seq_num: global.and_then(|n| u64::try_from(n).ok()),
            version,
            process,
            kind,
        },
        event_type,
    })
}

/// Reads an `es_process_t`.
pub(crate) fn parse_process(process: Obj<'_>) -> Result<ProcessIdentity, FieldError> {
    let token_path = process.child_path("audit_token");
    let token = AuditToken::parse(process.required("audit_token")?, &token_path)?;
    let responsible_path = process.child_path("responsible_audit_token");
    let responsible = match process.get("responsible_audit_token") {
        Some(value) => Some(AuditToken::parse(value, &responsible_path)?),
        None => None,
    };
    let executable_path = process.child_path("executable");
    let executable = Obj::new(process.required("executable")?, &executable_path)?;
    let start_ns = match process.opt_str("start_time")? {
        Some(text) => Some(parse_time(text).ok_or_else(|| {
            FieldError::invalid(process.child_path("start_time"), "an RFC 3339 time")
        })?),
        None => None,
    };
    Ok(ProcessIdentity {
        pid: token.pid,
        pidversion: Some(token.pidversion),
        ppid: process.opt_u32("ppid")?,
        euid: Some(token.euid),
        responsible_pid: responsible.map(|token| token.pid),
        path: executable.str("path")?.to_owned(),
        signing_id: process.opt_str("signing_id")?.map(str::to_owned),
        team_id: process.opt_str("team_id")?.map(str::to_owned),
        cdhash: process.opt_str("cdhash")?.map(str::to_owned),
        platform_binary: process.flag("is_platform_binary")?,
        start_ns,
    })
}

/// The fields of an audit token that identify a process.
struct AuditToken {
    pid: u32,
    pidversion: u32,
    euid: u32,
}

impl AuditToken {
    /// Reads either shape eslogger writes: an object with named members
    /// (ES message version 9 and earlier), or the kernel's eight words
    /// `[auid, euid, egid, ruid, rgid, pid, asid, pidversion]` (seen in
    /// version 10 output from macOS 26).
    fn parse(value: &Value, path: &str) -> Result<Self, FieldError> {
        const EXPECTED: &str = "an object or an array of 8 unsigned 32-bit integers";
        let invalid = || FieldError::invalid(path.to_owned(), EXPECTED);
        match value {
            Value::Object(_) => {
                let token = Obj::new(value, path)?;
                let word = |key: &str| {
                    token
                        .opt_u32(key)?
                        .ok_or_else(|| FieldError::missing(token.child_path(key)))
                };
                Ok(AuditToken {
                    pid: word("pid")?,
                    pidversion: word("pidversion")?,
                    euid: word("euid")?,
                })
            }
            Value::Array(words) if words.len() == 8 => {
                let word = |index: usize| {
                    words
                        .get(index)
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(invalid)
                };
                Ok(AuditToken {
                    pid: word(5)?,
                    pidversion: word(7)?,
                    euid: word(1)?,
                })
            }
            _ => Err(invalid()),
        }
    }
}

/// Reads the single member of `event`, whose key names the event.
fn parse_kind(event: Obj<'_>) -> Result<EsEventKind, FieldError> {
    let mut members = event.map.iter();
    let (Some((name, body)), None) = (members.next(), members.next()) else {
        return Err(FieldError::invalid(
            "event".to_owned(),
            "an object with exactly one member",
        ));
    };
    let path = format!("event.{name}");
    let body = Obj::new(body, &path)?;
    let kind = match name.as_str() {
        "exec" => EsEventKind::Exec {
            target: parse_process(Obj::new(
                body.required("target")?,
                &body.child_path("target"),
            )?)?,
            args: string_list(body, "args")?,
        },
        "fork" => EsEventKind::Fork {
            child: parse_process(Obj::new(
                body.required("child")?,
                &body.child_path("child"),
            )?)?,
        },
        "exit" => EsEventKind::Exit {
            status: body.i64("stat")?,
        },
        "open" => EsEventKind::Open {
            path: file_path(body, "file")?,
            fflag: body.i64("fflag")?,
        },
        "close" => EsEventKind::Close {
            path: file_path(body, "target")?,
            modified: body.bool("modified")?,
        },
        "create" => EsEventKind::Create {
            path: destination_path(body)?,
        },
        "rename" => EsEventKind::Rename {
            from: file_path(body, "source")?,
            to: destination_path(body)?,
        },
        "write" => EsEventKind::Write {
            path: file_path(body, "target")?,
        },
        "setextattr" => EsEventKind::SetExtattr {
            path: file_path(body, "target")?,
            name: body.str("extattr")?.to_owned(),
        },
        "deleteextattr" => EsEventKind::DeleteExtattr {
            path: file_path(body, "target")?,
            name: body.str("extattr")?.to_owned(),
        },
        "gatekeeper_user_override" => gatekeeper_override(body)?,
        other => EsEventKind::Other {
            name: other.to_owned(),
        },
    };
    Ok(kind)
}

/// Returns `path` of the `es_file_t` at `key`.
fn file_path(body: Obj<'_>, key: &str) -> Result<String, FieldError> {
    let path = body.child_path(key);
    let file = Obj::new(body.required(key)?, &path)?;
    Ok(file.str("path")?.to_owned())
}

/// Returns the path a create or rename event writes to. eslogger gives it
/// as `destination.existing_file` (a file that already exists) or as
/// `destination.new_path` (`dir`, a file, plus `filename`). The member that
/// is present decides, so `destination_type` is not read.
fn destination_path(body: Obj<'_>) -> Result<String, FieldError> {
    let path = body.child_path("destination");
    let destination = Obj::new(body.required("destination")?, &path)?;
    if destination.get("existing_file").is_some() {
        return file_path(destination, "existing_file");
    }
    let new_path = destination.child_path("new_path");
    let Some(value) = destination.get("new_path") else {
        return Err(FieldError::missing(format!(
            "{}.existing_file or new_path",
            destination.path
        )));
    };
    let new_path = Obj::new(value, &new_path)?;
    let dir = file_path(new_path, "dir")?;
    let filename = new_path.str("filename")?;
    Ok(join_path(&dir, filename))
}

fn join_path(dir: &str, filename: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{filename}")
    } else {
        format!("{dir}/{filename}")
    }
}

/// Reads `gatekeeper_user_override`. Its `file` is an `es_file_t` or, when
/// `file_type` is 0, a bare path string.
fn gatekeeper_override(body: Obj<'_>) -> Result<EsEventKind, FieldError> {
    let path = match body.required("file")? {
        Value::String(path) => path.clone(),
        _ => file_path(body, "file")?,
    };
    let (signing_id, team_id) = match body.get("signing_info") {
        Some(value) => {
            let info = Obj::new(value, "event.gatekeeper_user_override.signing_info")?;
            let signing_id = info.opt_str("signing_id")?.map(str::to_owned);
            (signing_id, info.opt_str("team_id")?.map(str::to_owned))
        }
        None => (None, None),
    };
    Ok(EsEventKind::GatekeeperOverride {
        path,
        sha256: body.opt_str("sha256")?.map(str::to_owned),
        signing_id,
        team_id,
    })
}

/// Reads an array of strings that may be absent.
fn string_list(body: Obj<'_>, key: &str) -> Result<Vec<String>, FieldError> {
    let Some(value) = body.get(key) else {
        return Ok(Vec::new());
    };
    let invalid = || FieldError::invalid(body.child_path(key), "an array of strings");
    let items = value.as_array().ok_or_else(invalid)?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
        .collect()
}
