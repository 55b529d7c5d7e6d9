//! Model versions between refreshes: a model's version list is read again only when its
//! container's `latestVersion` moved (a version was registered, or the newest archived or
//! deleted), and otherwise once every one to two hours, each model at its own time, so that a
//! refresh costs what changed and not a list call per circuit (2,000 calls at 2,000 circuits,
//! 80 s of ARM's 25 reads a second). The book is kept in the session and in the disk cache, so
//! a new process starts where the last one stopped.
//!
//! What this relies on (docs/AZURE.md): ARM's model containers carry `latestVersion`, the
//! highest version registered (the 2025-06-01 `AssetContainer` schema, read-only); the tags the
//! training pipeline writes are written when a version is registered and not edited after. A
//! tag edited on an old version, or an old version archived, shows at the periodic re-read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::domain::ModelVersion;
use crate::domain::platform::{AssetLocation, ModelContainer, ModelVersionRecord};

/// Every model's versions are read again at least this long after they were last read...
pub const MODEL_REREAD_AFTER: chrono::Duration = chrono::Duration::minutes(60);
/// ...plus up to this much more, by model, so that the re-reads of a fleet read at once spread
/// over the refreshes that follow instead of all falling due on the same one.
pub const MODEL_REREAD_SPREAD: chrono::Duration = chrono::Duration::minutes(60);

/// The versions of one model as last read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// The container's `latestVersion` when the versions were read.
    pub latest: Option<ModelVersion>,
    pub versions: Vec<ModelVersionRecord>,
    pub read_at: DateTime<Utc>,
}

/// The model versions of the last refresh, by location and model name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelBook {
    pub entries: HashMap<(AssetLocation, String), ModelEntry>,
}

/// A stable spread in `[0, MODEL_REREAD_SPREAD)` for a model (FNV-1a of its name).
fn spread(name: &str) -> chrono::Duration {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let span = MODEL_REREAD_SPREAD.num_seconds().max(1) as u64;
    chrono::Duration::seconds((h % span) as i64)
}

impl ModelBook {
    /// The versions of `model` the book holds, when they can be used as they are: the container
    /// still says the `latest` they were read at, and they are not due for a re-read.
    pub fn reusable(
        &self,
        location: AssetLocation,
        container: &ModelContainer,
        now: DateTime<Utc>,
    ) -> Option<&[ModelVersionRecord]> {
        let e = self.entries.get(&(location, container.name.clone()))?;
        let due = e.read_at + MODEL_REREAD_AFTER + spread(&container.name);
        (e.latest == container.latest_version && now < due).then_some(e.versions.as_slice())
    }

    /// The book after a refresh: what it read (at `now`) and what it reused (with the time it
    /// was read). A model whose versions could not be read is left out, so the next refresh
    /// reads it.
    pub fn after_refresh(&self, read: Vec<ModelRead>, now: DateTime<Utc>) -> ModelBook {
        let entries = read
            .into_iter()
            .map(|m| {
                let key = (m.location, m.name);
                let read_at = match self.entries.get(&key) {
                    Some(old) if m.reused => old.read_at,
                    _ => now,
                };
                let entry = ModelEntry {
                    latest: m.latest,
                    versions: m.versions,
                    read_at,
                };
                (key, entry)
            })
            .collect();
        ModelBook { entries }
    }
}

/// One model's versions as a refresh has them.
#[derive(Debug)]
pub struct ModelRead {
    pub location: AssetLocation,
    pub name: String,
    /// The latest version its container listed in this refresh.
    pub latest: Option<ModelVersion>,
    pub versions: Vec<ModelVersionRecord>,
    /// Taken from the book rather than read.
    pub reused: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        crate::domain::clock::pinned_start() + chrono::Duration::minutes(min)
    }

    fn container(name: &str, latest: u32) -> ModelContainer {
        ModelContainer {
            name: name.into(),
            latest_version: Some(ModelVersion(latest)),
        }
    }

    fn version(name: &str, v: u32) -> ModelVersionRecord {
        ModelVersionRecord {
            location: AssetLocation::Registry,
            name: name.into(),
            version: ModelVersion(v),
            tags: Default::default(),
            created_at: None,
            description: None,
        }
    }

    #[test]
    fn versions_are_reused_until_latest_moves_or_they_fall_due() {
        let vs = vec![version("m", 1), version("m", 2)];
        let read = |reused: bool| {
            vec![ModelRead {
                location: AssetLocation::Registry,
                name: "m".into(),
                latest: Some(ModelVersion(2)),
                versions: vs.clone(),
                reused,
            }]
        };
        let book = ModelBook::default().after_refresh(read(false), at(0));
        let reg = AssetLocation::Registry;
        assert_eq!(book.reusable(reg, &container("m", 2), at(1)), Some(&vs[..]));
        // A version registered since: read again.
        assert_eq!(book.reusable(reg, &container("m", 3), at(1)), None);
        // Unknown model, or the other location: read.
        assert_eq!(book.reusable(reg, &container("n", 2), at(1)), None);
        assert_eq!(
            book.reusable(AssetLocation::Dev, &container("m", 2), at(1)),
            None
        );
        // Due between one and two hours after the read.
        assert!(book.reusable(reg, &container("m", 2), at(59)).is_some());
        assert!(book.reusable(reg, &container("m", 2), at(120)).is_none());
        // Reused, it keeps the time it was read; read again, it gets the new time.
        let kept = book.after_refresh(read(true), at(30));
        assert_eq!(kept.entries[&(reg, "m".to_owned())].read_at, at(0));
        let fresh = book.after_refresh(read(false), at(30));
        assert_eq!(fresh.entries[&(reg, "m".to_owned())].read_at, at(30));
    }

    #[test]
    fn the_rereads_of_a_fleet_spread_over_the_hour() {
        let names: Vec<String> = (1..=2000)
            .map(|i| format!("plant{:03}-circuit{:02}", i / 10 + 1, i % 10 + 1))
            .collect();
        let mut per_ten_minutes = [0usize; 6];
        for n in &names {
            per_ten_minutes[(spread(n).num_minutes() / 10) as usize] += 1;
        }
        // 2,000 models over six ten-minute slices: none gets much more than its share.
        assert!(
            per_ten_minutes.iter().all(|&k| (250..420).contains(&k)),
            "{per_ten_minutes:?}"
        );
    }
}
