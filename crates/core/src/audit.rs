//! The audit log: append-only JSON lines in the state dir, each entry chained to the previous
//! one by SHA-256 and fsynced before an action is reported done. `verify` finds the first entry
//! that was edited, removed or reordered. A sidecar head file records the last entry, so a
//! removed tail is caught too.
//!
//! What it protects against: accidental and casual edits. Someone who can rewrite the whole
//! file and its head can forge a consistent log; ship the lines to an external store (README,
//! "Audit log") where that matters.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::private_files;

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the operator supplied with an action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The test gate was overridden (break-glass).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub override_gate: bool,
    /// Anything else worth keeping (method, target version...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1, 2, 3... without gaps.
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub actor: String,
    /// `approve`, `reject`, `rollback`, `rollback-environment`...
    pub action: String,
    /// `release 41 / Production`, `PLANT007/CIRCUIT03`...
    pub target: String,
    pub inputs: Inputs,
    /// `succeeded`, `refused: ...`, `conflict: ...`, `failed: ...`, `verified`...
    pub result: String,
    #[serde(default)]
    pub request_ids: Vec<String>,
    /// SHA-256 (hex) of the previous entry's line, or [`GENESIS`].
    pub prev: String,
}

/// What an action records; `seq`, `prev` and `time` are filled in when appended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub inputs: Inputs,
    pub result: String,
    pub request_ids: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log {path}: line {line} is not a sound audit entry: {message}")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
}

impl AuditError {
    /// What the user can do about it, in a sentence (shown with every refused mutation).
    pub fn repair(&self) -> String {
        match self {
            AuditError::Io { path, .. } => format!(
                "make {path} and its directory writable by you (or pass --state-dir DIR), then \
                 try again"
            ),
            AuditError::Corrupt { path, line, .. } => {
                let p = Path::new(path);
                let head = p.with_extension("head");
                format!(
                    "`relcon audit verify` shows line {line}; restore the log from a backup, or \
                     keep it as evidence (move {} and {} aside) so that a new log starts, then \
                     try again",
                    p.display(),
                    head.display()
                )
            }
        }
    }
}

/// Where verification failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tampering {
    /// The 1-based line of the first entry that does not fit.
    pub line: usize,
    pub seq: Option<u64>,
    pub problem: String,
}

/// The outcome of `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub entries: usize,
    pub first_bad: Option<Tampering>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

/// The audit log at a path (and its `.head` beside it).
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    /// What entries are stamped with (the session's clock).
    clock: crate::domain::clock::SharedClock,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub use crate::redact::redact;

/// Every string in a JSON value, redacted (the free-form `details` of an entry).
fn redact_json(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_json).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, redact_json(v))).collect())
        }
        other => other,
    }
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog {
            path: path.into(),
            clock: crate::service::clock::system(),
        }
    }

    /// The same log, stamping entries from `clock`.
    pub fn with_clock(mut self, clock: crate::domain::clock::SharedClock) -> AuditLog {
        self.clock = clock;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn head_path(&self) -> PathBuf {
        self.path.with_extension("head")
    }

    fn io(&self, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Append one entry: lock, chain to the last line, write, fsync, update the head, unlock.
    pub fn append(&self, record: Record) -> Result<Entry, AuditError> {
        // The log and its directory are the user's alone (0600 in 0700).
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_files::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut file = private_files::open(
            &self.path,
            private_files::open_options()
                .create(true)
                .read(true)
                .append(true),
        )
        .map_err(|e| self.io(e))?;
        // Exclusive lock: two relcon processes never interleave or fork the chain.
        file.lock().map_err(|e| self.io(e))?;
        let (last_seq, prev) = self.last(&file)?;
        let entry = Entry {
            seq: last_seq + 1,
            time: self.clock.now(),
            // Strings that look like credentials never enter the log, even typed into a comment.
            actor: redact(&record.actor),
            action: record.action,
            target: redact(&record.target),
            inputs: Inputs {
                comment: record.inputs.comment.map(|c| redact(&c)),
                reason: record.inputs.reason.map(|r| redact(&r)),
                override_gate: record.inputs.override_gate,
                details: record
                    .inputs
                    .details
                    .into_iter()
                    .map(|(k, v)| (k, redact_json(v)))
                    .collect(),
            },
            result: redact(&record.result),
            request_ids: record.request_ids,
            prev,
        };
        let line = serde_json::to_string(&entry).map_err(|e| self.io(std::io::Error::other(e)))?;
        file.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        let head = Head {
            seq: entry.seq,
            hash: sha256_hex(line.as_bytes()),
        };
        let head_text = serde_json::to_vec(&head).map_err(|e| self.io(std::io::Error::other(e)))?;
        private_files::write_atomic(&self.head_path(), &head_text).map_err(|e| self.io(e))?;
        // The lock is released when `file` drops.
        Ok(entry)
    }

    /// The last entry's seq and the hash of its line: what the next entry chains to. A last
    /// line that is not an entry (a torn write, an edit) or a head file that recorded a later
    /// or different last entry means the chain cannot be continued: nothing is appended.
    fn last(&self, mut file: &File) -> Result<(u64, String), AuditError> {
        use std::io::Read;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        let last = bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .last();
        let Some((index, raw)) = last else {
            return Ok((0, GENESIS.to_owned()));
        };
        let corrupt = |message: String| AuditError::Corrupt {
            path: self.path.display().to_string(),
            line: index + 1,
            message,
        };
        let text = std::str::from_utf8(raw).map_err(|_| corrupt("not UTF-8 text".into()))?;
        let e: Entry = serde_json::from_str(text).map_err(|err| corrupt(err.to_string()))?;
        let hash = sha256_hex(text.as_bytes());
        // Behind by one is a crash between the line and the head; the append repairs it.
        if let Some(head) = self.head()
            && (head.seq > e.seq || (head.seq == e.seq && head.hash != hash))
        {
            return Err(corrupt(format!(
                "the log ends at entry {} but the head file records entry {} as the last one \
                 written: entries were removed from the end or the last one was edited",
                e.seq, head.seq
            )));
        }
        Ok((e.seq, hash))
    }

    fn head(&self) -> Option<Head> {
        std::fs::read(self.head_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Every entry, oldest first. A missing log is empty.
    pub fn entries(&self) -> Result<Vec<Entry>, AuditError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut out = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| self.io(e))?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(
                serde_json::from_str(&line).map_err(|e| AuditError::Corrupt {
                    path: self.path.display().to_string(),
                    line: i + 1,
                    message: e.to_string(),
                })?,
            );
        }
        Ok(out)
    }

    /// Check the chain: every entry's `prev` is the hash of the line before, seqs run 1, 2,
    /// 3 without gaps, and the last entry is the one the head file recorded.
    pub fn verify(&self) -> Result<Verification, AuditError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io(e)),
        };
        let head = self.head();
        let mut prev_hash = GENESIS.to_owned();
        let mut expected_seq = 1u64;
        let mut count = 0usize;
        let bad = |entries: usize, line: usize, seq: Option<u64>, problem: String| Verification {
            entries,
            first_bad: Some(Tampering { line, seq, problem }),
        };
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let line_no = i + 1;
            if raw.is_empty() {
                continue;
            }
            let Ok(text) = std::str::from_utf8(raw) else {
                return Ok(bad(count, line_no, None, "not UTF-8 text".into()));
            };
            let entry: Entry = match serde_json::from_str(text) {
                Ok(e) => e,
                Err(e) => {
                    return Ok(bad(
                        count,
                        line_no,
                        None,
                        format!("not an audit entry ({e})"),
                    ));
                }
            };
            if entry.seq != expected_seq {
                return Ok(bad(
                    count,
                    line_no,
                    Some(entry.seq),
                    format!(
                        "entry {} where {expected_seq} was expected: entries were removed or reordered",
                        entry.seq
                    ),
                ));
            }
            if entry.prev != prev_hash {
                return Ok(bad(
                    count,
                    line_no,
                    Some(entry.seq),
                    "does not chain to the entry before it: that entry was edited, or entries were removed or reordered".into(),
                ));
            }
            prev_hash = sha256_hex(text.as_bytes());
            expected_seq += 1;
            count += 1;
        }
        match head {
            Some(h) if h.seq != expected_seq - 1 || (count > 0 && h.hash != prev_hash) => Ok(bad(
                count,
                count,
                Some(expected_seq - 1),
                format!(
                    "the log ends at entry {} but entry {} was the last one written: entries were removed from the end or the last one was edited",
                    expected_seq - 1,
                    h.seq
                ),
            )),
            None if count > 0 => Ok(bad(
                count,
                count,
                None,
                "the head file is missing: cannot tell whether entries were removed from the end"
                    .into(),
            )),
            _ => Ok(Verification {
                entries: count,
                first_bad: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        for i in 1..=4 {
            log.append(Record {
                actor: "alice@contoso.com".into(),
                action: "approve".into(),
                target: format!("release {i} / Production"),
                inputs: Inputs {
                    comment: Some(format!("looks good {i}")),
                    ..Inputs::default()
                },
                result: "succeeded".into(),
                request_ids: vec![format!("req-{i}")],
            })
            .unwrap();
        }
        (dir, log)
    }

    fn lines(log: &AuditLog) -> Vec<String> {
        std::fs::read_to_string(log.path())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn write(log: &AuditLog, lines: &[String]) {
        std::fs::write(
            log.path(),
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
    }

    #[test]
    fn appended_entries_chain_and_verify() {
        let (_d, log) = log();
        let entries = log.entries().unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].prev, GENESIS);
        assert_eq!(entries[3].seq, 4);
        assert_eq!(entries[1].prev, sha256_hex(lines(&log)[0].as_bytes()));
        assert_eq!(
            log.verify().unwrap(),
            Verification {
                entries: 4,
                first_bad: None
            }
        );
        assert_eq!(
            AuditLog::new("/nonexistent/relcon/audit.jsonl")
                .verify()
                .unwrap()
                .entries,
            0
        );
    }

    #[test]
    fn an_edited_byte_is_found_at_the_next_entry() {
        let (_d, log) = log();
        let mut l = lines(&log);
        l[1] = l[1].replace("looks good 2", "looks good 3");
        write(&log, &l);
        let v = log.verify().unwrap();
        let bad = v.first_bad.unwrap();
        assert_eq!((bad.line, bad.seq), (3, Some(3)), "{}", bad.problem);
        assert!(bad.problem.contains("edited"));
    }

    #[test]
    fn removed_and_reordered_entries_are_found() {
        let (_d, log) = log();
        let mut l = lines(&log);
        l.remove(1);
        write(&log, &l);
        assert_eq!(log.verify().unwrap().first_bad.unwrap().line, 2);

        let (_d, log) = self::log();
        let mut l = lines(&log);
        l.swap(1, 2);
        write(&log, &l);
        assert_eq!(log.verify().unwrap().first_bad.unwrap().line, 2);

        let (_d, log) = self::log();
        let mut l = lines(&log);
        l.pop();
        write(&log, &l);
        let bad = log.verify().unwrap().first_bad.unwrap();
        assert!(
            bad.problem.contains("removed from the end"),
            "{}",
            bad.problem
        );
    }

    #[test]
    fn appends_continue_the_chain_after_reopening() {
        let (_d, log) = log();
        let again = AuditLog::new(log.path());
        let e = again
            .append(Record {
                action: "reject".into(),
                ..Record::default()
            })
            .unwrap();
        assert_eq!(e.seq, 5);
        assert!(again.verify().unwrap().first_bad.is_none());
    }

    fn record() -> Record {
        Record {
            action: "rollback".into(),
            result: "sending".into(),
            ..Record::default()
        }
    }

    #[test]
    fn a_log_whose_chain_cannot_continue_refuses_to_append_and_names_the_line() {
        // A torn or edited last line.
        let (_d, log) = log();
        let mut l = lines(&log);
        l[3].truncate(40);
        write(&log, &l);
        let before = std::fs::read(log.path()).unwrap();
        match log.append(record()) {
            Err(e @ AuditError::Corrupt { line: 4, .. }) => {
                assert!(e.repair().contains("line 4"), "{}", e.repair());
                assert!(e.repair().contains("relcon audit verify"), "{}", e.repair());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            std::fs::read(log.path()).unwrap(),
            before,
            "nothing appended"
        );

        // Bytes that are not text at all.
        let (_d, log) = self::log();
        let mut bytes = std::fs::read(log.path()).unwrap();
        bytes.extend_from_slice(b"\xff\xfe\x00garbage\n");
        std::fs::write(log.path(), bytes).unwrap();
        assert!(matches!(
            log.append(record()),
            Err(AuditError::Corrupt { line: 5, .. })
        ));

        // The tail removed (the head file remembers entry 4).
        let (_d, log) = self::log();
        let mut l = lines(&log);
        l.pop();
        write(&log, &l);
        let e = log.append(record()).unwrap_err();
        assert!(e.to_string().contains("removed from the end"), "{e}");

        // A crash between the line and the head leaves the head one behind: not tampering.
        let (_d, log) = self::log();
        let head = std::fs::read(log.head_path()).unwrap();
        log.append(record()).unwrap();
        std::fs::write(log.head_path(), head).unwrap();
        assert_eq!(log.append(record()).unwrap().seq, 6);
    }

    #[test]
    fn an_unwritable_log_refuses_to_append() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the log should be: no user, root included, can append to it.
        std::fs::create_dir(dir.path().join("audit.jsonl")).unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let e = log.append(record()).unwrap_err();
        assert!(matches!(e, AuditError::Io { .. }), "{e}");
        assert!(e.repair().contains("writable"), "{}", e.repair());
    }

    #[cfg(unix)]
    #[test]
    fn the_log_and_its_head_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        // An older relcon's files, made under a 022 umask.
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("audit.jsonl"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("audit.jsonl"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let log = AuditLog::new(dir.join("audit.jsonl"));
        log.append(record()).unwrap();
        let mode = |p: &Path| crate::private_files::mode(p).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("audit.jsonl")), 0o600);
        assert_eq!(mode(&dir.join("audit.head")), 0o600);
        let fresh = AuditLog::new(root.path().join("new/audit.jsonl"));
        fresh.append(record()).unwrap();
        assert_eq!(mode(&root.path().join("new")), 0o700);
        assert_eq!(mode(&root.path().join("new/audit.jsonl")), 0o600);
    }

    #[test]
    fn secrets_glued_into_any_field_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let pat = "k3n5q7r2t4v6x8z2b4d6f8h2j4l6n8p2r4t6v8x2z4b6d8f2h4jq";
        let jwt = format!(
            "eyJ{}.{}.{}",
            "a".repeat(30),
            "b".repeat(30),
            "c".repeat(20)
        );
        let mut details = serde_json::Map::new();
        details.insert("note".into(), format!("sig={pat}").into());
        details.insert("list".into(), serde_json::json!([format!("bearer:{jwt}")]));
        let entry = log
            .append(Record {
                actor: "alice@contoso.com".into(),
                action: "approve".into(),
                target: format!("approval 7 token={pat}"),
                inputs: Inputs {
                    comment: Some(format!("oops pat={pat}, and Authorization: Bearer {jwt}")),
                    reason: Some(format!("bearer:{jwt}")),
                    override_gate: false,
                    details,
                },
                result: format!("failed: GET https://x?sig={pat}"),
                request_ids: Vec::new(),
            })
            .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(!text.contains(pat) && !text.contains(&jwt[..20]), "{text}");
        assert_eq!(
            entry.inputs.comment.as_deref(),
            Some("oops pat=[redacted], and Authorization: Bearer [redacted]")
        );
        assert_eq!(entry.inputs.reason.as_deref(), Some("bearer:[redacted]"));
        assert_eq!(entry.inputs.details["note"], "sig=[redacted]");
        assert!(log.verify().unwrap().first_bad.is_none());
    }
}
