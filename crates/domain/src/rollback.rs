//! Rollback planning: a circuit's Prod history from its releases, which earlier versions were
//! healthy, the last known good target, what each method would change (blast radius), and the
//! SLA clock that runs from the moment a rollback is requested.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::fleet::{FleetSnapshot, ReleaseSummary, ValidationRun};
use super::platform::EnvironmentStatus;
use super::validation::ValidationVerdict;
use super::{CircuitRef, ModelVersion, Stage, Status, Thresholds};

/// How a circuit is rolled back (ARCHITECTURE.md, seed methods 1 and 2, and the seed's
/// rollback pipeline where the release flavour has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackMethod {
    /// Redeploy an earlier release's Production environment (seed method 1).
    Redeploy,
    /// Point this circuit's Prod deployment at an earlier registry model version (method 2).
    Direct,
    /// Queue the release flavour's rollback pipeline (YAML: the seed's `rollback-pipeline`,
    /// `rollbackType=specific`) for this circuit; its own approval check runs first.
    Pipeline,
}

impl RollbackMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackMethod::Redeploy => "redeploy",
            RollbackMethod::Direct => "direct",
            RollbackMethod::Pipeline => "pipeline",
        }
    }
}

/// One version as it ran in Prod, newest first in a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdHistoryEntry {
    pub version: ModelVersion,
    /// The release whose Production stage deployed it (the newest such release).
    pub release_id: u32,
    pub release_name: String,
    pub deployed_at: Option<DateTime<Utc>>,
    /// The Production deployment of that release succeeded.
    pub deployed_ok: bool,
    /// Its test validation: ok, alert (failed) or unknown (none found).
    pub validation: Status,
    /// Prod later went back to an older version: this one was rolled back.
    pub rolled_back: bool,
    /// Running in Prod now.
    pub current: bool,
}

impl ProdHistoryEntry {
    /// Deployed and succeeded, validation passed, not itself rolled back.
    pub fn healthy(&self) -> bool {
        self.deployed_ok && self.validation == Status::Ok && !self.rolled_back
    }

    /// Why it is not a good target, in words (empty when healthy).
    pub fn concerns(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.deployed_ok {
            out.push("its Production deployment did not succeed");
        }
        match self.validation {
            Status::Ok => {}
            Status::Unknown => out.push("no test validation found"),
            _ => out.push("test validation failed"),
        }
        if self.rolled_back {
            out.push("it was rolled back before");
        }
        out
    }
}

/// A circuit's Prod history from the releases that deployed it, newest first.
pub fn prod_history(
    snapshot: &FleetSnapshot,
    circuit: &CircuitRef,
    t: &Thresholds,
) -> Vec<ProdHistoryEntry> {
    let current = snapshot.circuit(circuit).and_then(|c| c.versions.prod);
    let runs: &[ValidationRun] = snapshot
        .circuit(circuit)
        .map(|c| c.validation.runs.as_slice())
        .unwrap_or(&[]);
    // Every Production deployment of this circuit, oldest first.
    let mut deploys: Vec<(&ReleaseSummary, ModelVersion, Option<DateTime<Utc>>, bool)> = snapshot
        .releases_of(circuit)
        .filter_map(|r| {
            let prod = r.stage(Stage::Prod)?;
            let attempted = prod.attempts > 0
                || prod.deploying
                || matches!(
                    prod.status,
                    EnvironmentStatus::Succeeded | EnvironmentStatus::PartiallySucceeded
                );
            if !attempted {
                return None;
            }
            let ok = matches!(
                prod.status,
                EnvironmentStatus::Succeeded | EnvironmentStatus::PartiallySucceeded
            );
            Some((r, r.version_for(circuit)?, prod.at.or(r.created_on), ok))
        })
        .collect();
    deploys.sort_by_key(|(r, _, at, _)| (*at, r.id));
    let mut out: Vec<ProdHistoryEntry> = Vec::new();
    for (i, (r, v, at, ok)) in deploys.iter().enumerate() {
        // Rolled back: a later Production deployment went to an older version.
        let rolled_back = deploys[i + 1..]
            .iter()
            .any(|(_, later, _, later_ok)| *later_ok && later < v);
        let validation = runs
            .iter()
            .find(|run| run.model_version == Some(*v))
            .map(|run| ValidationVerdict::evaluate(&run.metrics, None, t).status)
            .unwrap_or(Status::Unknown);
        let entry = ProdHistoryEntry {
            version: *v,
            release_id: r.id,
            release_name: r.name.clone(),
            deployed_at: *at,
            deployed_ok: *ok,
            validation,
            rolled_back,
            current: false,
        };
        // Keep one entry per version: its newest deployment.
        out.retain(|e| e.version != *v);
        out.push(entry);
    }
    out.reverse();
    if let Some(cur) = current
        && let Some(e) = out.iter_mut().find(|e| e.version == cur)
    {
        e.current = true;
    }
    out
}

/// Which version to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetChoice {
    /// The version that ran before the current one.
    Previous,
    /// The newest earlier version that was healthy.
    LastGood,
    Version(ModelVersion),
}

impl std::str::FromStr for TargetChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "previous" => Ok(TargetChoice::Previous),
            "last-good" => Ok(TargetChoice::LastGood),
            v => v
                .trim_start_matches('v')
                .parse::<u32>()
                .map(|n| TargetChoice::Version(ModelVersion(n)))
                .map_err(|_| format!("`{s}` is not previous, last-good or a version number")),
        }
    }
}

/// Why no version fits the target asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no earlier version ran in Prod")]
    NoEarlierVersion,
    #[error(
        "no earlier version was healthy (deployed, validated, never rolled back); pick one with \
         --to VERSION"
    )]
    NoHealthyVersion,
    #[error("version {0} is already in Prod")]
    AlreadyInProd(ModelVersion),
    #[error("version {0} never ran in Prod through a release")]
    NeverRan(ModelVersion),
}

/// Pick the target from a history (newest first). Errors say why none fits.
pub fn choose_target(
    history: &[ProdHistoryEntry],
    choice: TargetChoice,
) -> Result<&ProdHistoryEntry, TargetError> {
    let current = history.iter().find(|e| e.current).map(|e| e.version);
    let earlier = history.iter().filter(|e| Some(e.version) != current);
    match choice {
        TargetChoice::Previous => {
            let cur_at = history
                .iter()
                .find(|e| e.current)
                .and_then(|e| e.deployed_at);
            earlier
                .into_iter()
                .find(|e| cur_at.is_none() || e.deployed_at <= cur_at)
                .ok_or(TargetError::NoEarlierVersion)
        }
        TargetChoice::LastGood => earlier
            .into_iter()
            .find(|e| e.healthy())
            .ok_or(TargetError::NoHealthyVersion),
        TargetChoice::Version(v) => {
            if Some(v) == current {
                return Err(TargetError::AlreadyInProd(v));
            }
            history
                .iter()
                .find(|e| e.version == v)
                .ok_or(TargetError::NeverRan(v))
        }
    }
}

/// What a rollback does to one circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitChange {
    pub circuit: CircuitRef,
    pub from: Option<ModelVersion>,
    pub to: ModelVersion,
}

impl CircuitChange {
    pub fn changes(&self) -> bool {
        self.from != Some(self.to)
    }
}

/// Every circuit a redeploy of `release`'s Production stage touches, and what changes for each.
pub fn redeploy_blast_radius(
    snapshot: &FleetSnapshot,
    release: &ReleaseSummary,
) -> Vec<CircuitChange> {
    release
        .models
        .iter()
        .map(|m| CircuitChange {
            circuit: m.circuit.clone(),
            from: snapshot.circuit(&m.circuit).and_then(|c| c.versions.prod),
            to: m.version,
        })
        .collect()
}

/// The rollback budget, from the moment a rollback is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub requested_at: DateTime<Utc>,
    pub budget_minutes: u32,
}

impl SlaClock {
    pub fn deadline(&self) -> DateTime<Utc> {
        self.requested_at + Duration::minutes(i64::from(self.budget_minutes))
    }

    /// Time left (negative when overdue).
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        self.deadline() - now
    }

    /// ok with more than half the budget left, warn under half, alert under a fifth or overdue.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        let total = Duration::minutes(i64::from(self.budget_minutes))
            .num_milliseconds()
            .max(1) as f64;
        let left = self.remaining(now).num_milliseconds() as f64 / total;
        if left <= 0.2 {
            Status::Alert
        } else if left <= 0.5 {
            Status::Warn
        } else {
            Status::Ok
        }
    }

    /// `12:34 left` or `+01:05 over`.
    pub fn label(&self, now: DateTime<Utc>) -> String {
        let r = self.remaining(now);
        let secs = r.num_seconds();
        let a = secs.abs();
        if secs >= 0 {
            format!("{:02}:{:02} left", a / 60, a % 60)
        } else {
            format!("+{:02}:{:02} over", a / 60, a % 60)
        }
    }
}

/// A small fleet with a circuit's Prod history, for rollback tests (here and in the core).
#[cfg(any(test, feature = "testing"))]
#[path = "rollback_fixtures.rs"]
pub mod fixtures;

#[cfg(test)]
#[path = "rollback_tests.rs"]
mod tests;
