//! What a refresh could not read, and what that covers: each failed read is one entry in the
//! snapshot's `errors` (which makes it incomplete) and a line in the `unknown` list of every
//! circuit it covers, never a silent gap.

use std::fmt::Display;

use crate::domain::fleet::{CircuitSnapshot, SnapshotError};
use crate::domain::{PlantId, Stage};

/// The snapshot's error for a read of `scope` that failed with `e`.
pub(super) fn failed(scope: impl Into<String>, e: &impl Display) -> SnapshotError {
    SnapshotError {
        scope: scope.into(),
        message: e.to_string(),
    }
}

/// A failed inventory read and the circuits it leaves unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unread {
    /// A whole stage's list: for Test and Prod (endpoints) every circuit; for Dev and the
    /// registry (model containers) the circuits with no version known there.
    Stage(Stage, String),
    /// One plant's deployments at one stage.
    Plant(PlantId, String),
}

impl Unread {
    /// Add the reason to `circuit`'s unknowns when this covers it.
    pub(super) fn mark(&self, circuit: &mut CircuitSnapshot) {
        let (covers, why) = match self {
            Unread::Stage(stage, why) => (
                matches!(stage, Stage::Test | Stage::Prod)
                    || circuit.versions.get(*stage).is_none(),
                why,
            ),
            Unread::Plant(plant, why) => (&circuit.circuit.plant == plant, why),
        };
        if covers {
            circuit.unknown.push(why.clone());
        }
    }
}
