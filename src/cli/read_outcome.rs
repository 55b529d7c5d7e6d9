//! What a read command read, and so how it ends: the fleet snapshot (fresh, or the cached one
//! when nothing could be read now), whether the report is complete, partial or stale, and the
//! exit status that says so (README, "Exit codes"): a report that misses anything exits 4.

use chrono::Utc;
use serde_json::{Value, json};

use super::Exit;
use super::session::Opened;
use crate::domain::fleet::FleetSnapshot;

/// The snapshot a read command shows: a fresh one, or with `--no-cache` off and the service
/// failing completely, the cached one marked stale. A stale snapshot carries the errors of the
/// refresh that failed, so it is partial too: never shown as complete.
pub fn snapshot(o: &Opened) -> (FleetSnapshot, bool) {
    let fresh = o.runtime.block_on(o.session.refresh());
    let nothing_read = fresh.plants.is_empty() && !fresh.errors.is_empty();
    if nothing_read && let Some(mut cached) = o.session.cached_snapshot() {
        cached.errors = fresh.errors;
        return (cached, true);
    }
    (fresh, false)
}

/// A read command's errors: the snapshot's, then its own (`scope`, `message`).
pub fn errors_json(s: &FleetSnapshot, own: &[(&str, &str)]) -> Value {
    let mut all: Vec<Value> = s.errors.iter().map(|e| json!(e)).collect();
    all.extend(
        own.iter()
            .map(|(scope, message)| json!({"scope": scope, "message": message})),
    );
    Value::Array(all)
}

/// How a read command's report turned out: complete, partial (`failed` reads beyond the
/// snapshot's own errors, e.g. evidence) or stale.
pub struct Outcome<'a> {
    pub snapshot: &'a FleetSnapshot,
    pub stale: bool,
    pub failed: usize,
}

impl Outcome<'_> {
    pub fn complete(&self) -> bool {
        !self.stale && self.snapshot.is_complete() && self.failed == 0
    }
}

/// The exit of a read command: 4 when anything could not be read, after saying so (the
/// output above is partial: true, but not all there is).
pub fn read_exit(r: Outcome<'_>, now: chrono::DateTime<Utc>) -> Exit {
    let (s, stale) = (r.snapshot, r.stale);
    if r.complete() {
        return Exit::Ok;
    }
    if stale {
        eprintln!(
            "relcon: nothing could be read now: this is the cached snapshot of {} ({} old)",
            s.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
            age(s.generated_at, now)
        );
    } else {
        let n = s.errors.len() + r.failed;
        eprintln!(
            "relcon: partial: {n} read{} failed, so this is not all there is",
            if n == 1 { "" } else { "s" }
        );
    }
    Exit::Service
}

pub fn age(t: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let d = now - t;
    if d.num_days() > 0 {
        format!("{}d", d.num_days())
    } else if d.num_hours() > 0 {
        format!("{}h", d.num_hours())
    } else {
        format!("{}m", d.num_minutes().max(0))
    }
}
