//! What the YAML side keeps between processes: the completed runs it read (requester, the
//! training run consumed, result). A completed run does not change unless one of its stages
//! is retried, so a new process need not read them again: without this every `relcon`
//! command started by reading every run its environments' deployment records name (1,010
//! Runs - Get of 1,520 requests in the demo world).
//!
//! The bytes are the adapter's own (JSON with a format number); the session stores them in
//! the cache after a complete refresh (`Backend::kept`) and hands them back to the next
//! process of the same backend. Bytes of another format are ignored. A run re-run in the
//! portal after it was kept is seen again through its approvals and deployment records (see
//! docs/AZURE.md, "Runs kept between processes").

use serde::{Deserialize, Serialize};

use super::assemble::RunInfo;
use super::{YamlSide, lock};

/// Bumped when `RunInfo`'s shape changes: older bytes are then ignored.
const FORMAT: u32 = 1;

/// The most runs kept: the newest by id (a run id grows with time).
const MOST: usize = 20_000;

#[derive(Serialize, Deserialize)]
struct Kept {
    format: u32,
    runs: Vec<RunInfo>,
}

/// The completed runs known now, newest first, as bytes for the cache.
pub fn export(side: &YamlSide) -> Vec<u8> {
    let mut runs: Vec<RunInfo> = lock(&side.runs).values().cloned().collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
    runs.truncate(MOST);
    serde_json::to_vec(&Kept {
        format: FORMAT,
        runs,
    })
    .unwrap_or_default()
}

/// Take back what [`export`] gave; anything unreadable is ignored. A run read in this
/// process already wins over a kept one.
pub fn restore(side: &YamlSide, bytes: &[u8]) {
    let Ok(kept) = serde_json::from_slice::<Kept>(bytes) else {
        tracing::debug!("the YAML runs kept by an earlier process are unreadable: ignored");
        return;
    };
    if kept.format != FORMAT {
        return;
    }
    let mut runs = lock(&side.runs);
    for r in kept.runs {
        if r.state.eq_ignore_ascii_case("completed") {
            runs.entry(r.id).or_insert(r);
        }
    }
}
