//! Grouping the config changes of a release that touches many circuits: one line per distinct
//! change (`cutoff_date '2025-11-01' -> '2026-02-01'`, 40 circuits), and the odd ones out whose
//! changes differ from what most circuits got. An approver reads 3 lines instead of 40 diffs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CircuitRef;
use super::diff::{ChangeKind, ConfigDiff};

/// One change, comparable across circuits (values as displayed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChangeKey {
    pub path: String,
    pub kind: ChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
    pub in_training_hash: bool,
}

impl ChangeKey {
    /// `hyperparameters.learning_rate 0.001 -> 0.0005`.
    pub fn describe(&self) -> String {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => format!("{} {o} -> {n}", self.path),
            (None, Some(n)) => format!("{} added: {n}", self.path),
            (Some(o), None) => format!("{} removed (was {o})", self.path),
            (None, None) => self.path.clone(),
        }
    }
}

/// A distinct change and every circuit that gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeGroup {
    pub key: ChangeKey,
    pub circuits: Vec<CircuitRef>,
}

/// A circuit whose changes are not the common set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OddOne {
    pub circuit: CircuitRef,
    /// Changes it gets that the common set does not have.
    pub extra: Vec<ChangeKey>,
    /// Common changes it does not get.
    pub missing: Vec<ChangeKey>,
}

/// A release's config changes, grouped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupedChanges {
    /// Distinct changes, the most widespread first.
    pub groups: Vec<ChangeGroup>,
    /// The change set most circuits share.
    pub common: Vec<ChangeKey>,
    /// How many circuits have exactly the common set (0 when no set is shared by a clear
    /// majority of at least two circuits).
    pub with_common: usize,
    pub odd_ones: Vec<OddOne>,
    /// Circuits whose diff could not be computed, and why.
    pub unknown: Vec<(CircuitRef, String)>,
}

impl GroupedChanges {
    pub fn circuit_count(&self) -> usize {
        let mut all: Vec<&CircuitRef> =
            self.groups.iter().flat_map(|g| g.circuits.iter()).collect();
        all.extend(self.unknown.iter().map(|(c, _)| c));
        all.sort();
        all.dedup();
        all.len()
            .max(self.with_common + self.odd_ones.len() + self.unknown.len())
    }
}

fn keys_of(d: &ConfigDiff) -> Vec<ChangeKey> {
    let mut keys: Vec<ChangeKey> = d
        .changes
        .iter()
        .map(|c| ChangeKey {
            path: c.path.clone(),
            kind: c.kind,
            old: c.old.as_ref().map(|v| v.to_string()),
            new: c.new.as_ref().map(|v| v.to_string()),
            in_training_hash: c.in_training_hash,
        })
        .collect();
    keys.sort();
    keys
}

/// Group per-circuit diffs (`Err` where a diff could not be made).
pub fn group_changes(diffs: &[(CircuitRef, Result<ConfigDiff, String>)]) -> GroupedChanges {
    let mut by_key: BTreeMap<ChangeKey, Vec<CircuitRef>> = BTreeMap::new();
    let mut by_set: BTreeMap<Vec<ChangeKey>, Vec<CircuitRef>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for (circuit, diff) in diffs {
        match diff {
            Ok(d) => {
                let keys = keys_of(d);
                for k in &keys {
                    by_key.entry(k.clone()).or_default().push(circuit.clone());
                }
                by_set.entry(keys).or_default().push(circuit.clone());
            }
            Err(why) => unknown.push((circuit.clone(), why.clone())),
        }
    }
    // The common set: the one most circuits share (ties: the larger set, then the first).
    let common: Vec<ChangeKey> = by_set
        .iter()
        .max_by(|a, b| {
            a.1.len()
                .cmp(&b.1.len())
                .then(a.0.len().cmp(&b.0.len()))
                .then(b.0.cmp(a.0))
        })
        .map(|(k, _)| k.clone())
        .unwrap_or_default();
    let with_common = by_set.get(&common).map(Vec::len).unwrap_or(0);
    let judged: usize = by_set.values().map(Vec::len).sum();
    // "Odd ones out" only means something against a clear majority.
    let (common, with_common) = if with_common >= 2 && with_common * 2 > judged {
        (common, with_common)
    } else {
        (Vec::new(), 0)
    };
    let mut odd_ones: Vec<OddOne> = by_set
        .iter()
        .filter(|(set, _)| !common.is_empty() && **set != common)
        .flat_map(|(set, circuits)| {
            let extra: Vec<ChangeKey> = set
                .iter()
                .filter(|k| !common.contains(k))
                .cloned()
                .collect();
            let missing: Vec<ChangeKey> = common
                .iter()
                .filter(|k| !set.contains(k))
                .cloned()
                .collect();
            circuits.iter().map(move |c| OddOne {
                circuit: c.clone(),
                extra: extra.clone(),
                missing: missing.clone(),
            })
        })
        .collect();
    odd_ones.sort_by(|a, b| a.circuit.cmp(&b.circuit));
    let mut groups: Vec<ChangeGroup> = by_key
        .into_iter()
        .map(|(key, circuits)| ChangeGroup { key, circuits })
        .collect();
    groups.sort_by(|a, b| {
        b.circuits
            .len()
            .cmp(&a.circuits.len())
            .then(a.key.cmp(&b.key))
    });
    GroupedChanges {
        groups,
        common,
        with_common,
        odd_ones,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{self, Value};

    fn diff(old: &str, new: &str) -> ConfigDiff {
        let m = |t: &str| match yaml::load(t).unwrap().value {
            Value::Map(m) => m,
            _ => panic!("not a map"),
        };
        ConfigDiff::between(&m(old), &m(new))
    }

    const BASE: &str = "cutoff_date: '2025-11-01'\ndelta_version: 4\ntraining_days: 365\nhyperparameters: {lstm_units: 64}\n";

    fn c(i: u32) -> CircuitRef {
        format!("PLANT001/CIRCUIT{i:02}").parse().unwrap()
    }

    #[test]
    fn identical_changes_collapse_and_odd_ones_stand_apart() {
        let wave = BASE
            .replace("2025-11-01", "2026-02-01")
            .replace("delta_version: 4", "delta_version: 5");
        let odd = wave.replace("lstm_units: 64", "lstm_units: 128");
        let mut diffs: Vec<(CircuitRef, Result<ConfigDiff, String>)> =
            (1..=40).map(|i| (c(i), Ok(diff(BASE, &wave)))).collect();
        diffs.push((c(41), Ok(diff(BASE, &odd))));
        diffs.push((c(42), Err("config at abc123: not found".into())));
        let g = group_changes(&diffs);
        assert_eq!(g.with_common, 40);
        assert_eq!(g.common.len(), 2);
        assert_eq!(
            g.groups[0].circuits.len(),
            41,
            "the cutoff change reaches the odd one too"
        );
        assert_eq!(
            g.groups[0].key.describe(),
            "cutoff_date '2025-11-01' -> '2026-02-01'"
        );
        assert_eq!(g.odd_ones.len(), 1);
        assert_eq!(g.odd_ones[0].circuit, c(41));
        assert_eq!(
            g.odd_ones[0].extra[0].describe(),
            "hyperparameters.lstm_units 64 -> 128"
        );
        assert!(g.odd_ones[0].missing.is_empty());
        assert_eq!(g.unknown.len(), 1);
        assert_eq!(g.circuit_count(), 42);
    }

    #[test]
    fn no_majority_means_no_odd_ones() {
        let a = BASE.replace("delta_version: 4", "delta_version: 5");
        let b = BASE.replace("lstm_units: 64", "lstm_units: 96");
        let g = group_changes(&[(c(1), Ok(diff(BASE, &a))), (c(2), Ok(diff(BASE, &b)))]);
        assert!(g.common.is_empty() && g.odd_ones.is_empty());
        assert_eq!(g.groups.len(), 2);
        assert_eq!(g.circuit_count(), 2);
    }

    #[test]
    fn no_changes_is_an_empty_common_set() {
        let g = group_changes(&[
            (c(1), Ok(diff(BASE, BASE))),
            (c(2), Ok(diff(BASE, BASE))),
            (c(3), Ok(diff(BASE, BASE))),
        ]);
        assert!(g.groups.is_empty() && g.common.is_empty());
        assert_eq!(g.with_common, 3);
    }
}
