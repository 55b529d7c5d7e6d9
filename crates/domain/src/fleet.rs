//! The fleet snapshot: every circuit's versions per stage, lineage, drift, accuracy,
//! validation and what waits for approval, as one value the TUI and the CLI read. Built by
//! `service::snapshot` from platform records; cached on disk as JSON for an instant start.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::drift::{DriftFinding, DriftMetric};
use super::hash::TrainingHash;
use super::incidents::{AlertSummary, FleetAlert, JobsSummary};
use super::platform::{ApprovalRecord, EnvironmentStatus, IdentityRef, ReleaseStatus};
use super::release_ids::{ApprovalId, StageRef};
use super::validation::{Metrics, ValidationVerdict};
use super::{CircuitRef, ModelVersion, PlantId, Stage, Status};

/// A model version per stage; `None` where there is none or it could not be read (the
/// circuit's `unknown` list says which).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageVersions {
    pub dev: Option<ModelVersion>,
    pub registry: Option<ModelVersion>,
    pub test: Option<ModelVersion>,
    pub prod: Option<ModelVersion>,
}

impl StageVersions {
    pub fn get(&self, stage: Stage) -> Option<ModelVersion> {
        match stage {
            Stage::Dev => self.dev,
            Stage::Registry => self.registry,
            Stage::Test => self.test,
            Stage::Prod => self.prod,
        }
    }

    /// Stages run different versions: something is on its way (or stuck).
    pub fn differ(&self) -> bool {
        let known: Vec<ModelVersion> = Stage::ALL.iter().filter_map(|s| self.get(*s)).collect();
        known.windows(2).any(|w| w[0] != w[1])
    }
}

/// The environment version deployed in Test and Prod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEnvironments {
    pub test: Option<String>,
    pub prod: Option<String>,
}

/// The Prod model's training hash tag against the hash recomputed from its config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The `training_hash` tag of the model version in Prod.
    pub prod: Option<TrainingHash>,
    /// Recomputed from the config at the model's `git_commit`.
    pub config: Option<TrainingHash>,
    /// `git_commit` tag of the Prod model.
    pub commit: Option<String>,
    /// `None` when either side is unknown.
    pub matches: Option<bool>,
}

impl Lineage {
    pub fn status(&self) -> Status {
        match self.matches {
            Some(true) => Status::Ok,
            Some(false) => Status::Alert,
            None => Status::Unknown,
        }
    }
}

/// A daily series, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub days: Vec<DateTime<Utc>>,
    pub values: Vec<f64>,
}

impl Series {
    pub fn latest(&self) -> Option<f64> {
        self.values.last().copied()
    }

    /// Only the newest point (what a fleet row needs of a series that is not its worst).
    pub fn newest_only(&self) -> Series {
        Series {
            days: self.days.last().copied().into_iter().collect(),
            values: self.values.last().copied().into_iter().collect(),
        }
    }
}

/// A series as JSON shows it: `{"days": [...], "values": [...]}`.
#[derive(Serialize, Deserialize)]
struct SeriesJson {
    days: Vec<DateTime<Utc>>,
    values: Vec<f64>,
}

/// A series in a binary form (the snapshot cache): the first day in seconds and the spacing
/// when every day is that far from the one before (else every day in seconds), and the values.
#[derive(Serialize, Deserialize)]
struct SeriesCompact {
    first: i64,
    step: Option<i64>,
    days: Vec<i64>,
    values: Vec<f64>,
}

impl Serialize for Series {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return SeriesJson {
                days: self.days.clone(),
                values: self.values.clone(),
            }
            .serialize(s);
        }
        let secs: Vec<i64> = self.days.iter().map(|d| d.timestamp()).collect();
        let first = secs.first().copied().unwrap_or(0);
        let step = secs.get(1).map_or(0, |second| second - first);
        let regular = self.days.len() == self.values.len()
            && self.days.iter().all(|d| d.timestamp_subsec_nanos() == 0)
            && secs
                .iter()
                .enumerate()
                .all(|(i, t)| *t == first + step * i as i64);
        SeriesCompact {
            first,
            step: regular.then_some(step),
            days: if regular { Vec::new() } else { secs },
            values: self.values.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Series {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let j = SeriesJson::deserialize(d)?;
            return Ok(Series {
                days: j.days,
                values: j.values,
            });
        }
        let c = SeriesCompact::deserialize(d)?;
        let at = |t: i64| {
            DateTime::<Utc>::from_timestamp(t, 0)
                .ok_or_else(|| serde::de::Error::custom(format!("{t} is not a time")))
        };
        let days = match c.step {
            Some(step) => (0..c.values.len() as i64)
                .map(|i| at(c.first + step * i))
                .collect::<Result<Vec<_>, _>>()?,
            None => c.days.into_iter().map(at).collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Series {
            days,
            values: c.values,
        })
    }
}

/// One feature and metric's drift over 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSeries {
    pub feature: String,
    pub metric: DriftMetric,
    pub series: Series,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub status: Status,
    pub worst: Option<DriftFinding>,
    pub series: Vec<DriftSeries>,
}

impl Default for DriftSummary {
    fn default() -> Self {
        Self {
            status: Status::Unknown,
            worst: None,
            series: Vec::new(),
        }
    }
}

impl DriftSummary {
    /// The series of the worst finding, for the sparkline.
    pub fn worst_series(&self) -> Option<&Series> {
        let w = self.worst.as_ref()?;
        self.series
            .iter()
            .find(|s| s.feature == w.feature && s.metric == w.metric)
            .map(|s| &s.series)
    }

    /// Every series but the worst cut to its newest point: what the fleet view shows. The
    /// snapshot cache keeps this much; the 30-day history of the others comes with a refresh.
    pub fn fleet_view(&self) -> DriftSummary {
        let worst = self.worst.as_ref();
        DriftSummary {
            status: self.status,
            worst: self.worst.clone(),
            series: self
                .series
                .iter()
                .map(|s| {
                    let is_worst =
                        worst.is_some_and(|w| w.feature == s.feature && w.metric == s.metric);
                    DriftSeries {
                        feature: s.feature.clone(),
                        metric: s.metric,
                        series: if is_worst {
                            s.series.clone()
                        } else {
                            s.series.newest_only()
                        },
                    }
                })
                .collect(),
        }
    }

    /// Whether this is already its [`DriftSummary::fleet_view`]: no series but the worst has
    /// more than its newest point (a one-shot `relcon fleet` cuts them as it reads).
    pub fn is_fleet_view(&self) -> bool {
        let worst = self.worst.as_ref();
        self.series.iter().all(|s| {
            s.series.values.len() <= 1 && s.series.days.len() <= 1
                || worst.is_some_and(|w| w.feature == s.feature && w.metric == s.metric)
        })
    }

    /// Whether only the worst series has its history (a snapshot read from the cache).
    pub fn history_trimmed(&self) -> bool {
        self.series.iter().any(|s| s.series.values.len() < 2)
            && self.series.iter().any(|s| s.series.values.len() >= 2)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracySummary {
    pub status: Status,
    pub latest: Option<f64>,
    pub series: Series,
}

impl Default for AccuracySummary {
    fn default() -> Self {
        Self {
            status: Status::Unknown,
            latest: None,
            series: Series::default(),
        }
    }
}

/// One validation run of a model version (a row group of the validation query).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRun {
    pub model_version: Option<ModelVersion>,
    pub release_id: Option<u32>,
    pub environment_version: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub metrics: Metrics,
}

/// The validation shown for a circuit: the candidate in Test judged against the Prod baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationSummary {
    pub status: Status,
    /// The run judged (the Test model's newest run).
    pub run: Option<ValidationRun>,
    /// The newest run of the model in Prod, the baseline.
    pub baseline: Option<ValidationRun>,
    pub verdict: Option<ValidationVerdict>,
    /// Every run known for the circuit, newest first (evidence and history).
    pub runs: Vec<ValidationRun>,
}

impl Default for ValidationSummary {
    fn default() -> Self {
        Self {
            status: Status::Unknown,
            run: None,
            baseline: None,
            verdict: None,
            runs: Vec::new(),
        }
    }
}

/// A release deploying to a circuit right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveRelease {
    pub release_id: u32,
    pub release_name: String,
    pub stage: Stage,
}

/// What the refresh knows of one model version: enough to find its config without another call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownVersion {
    pub version: ModelVersion,
    pub git_commit: Option<String>,
    pub training_hash: Option<TrainingHash>,
    pub build_id: Option<String>,
    /// In the registry (else only in Dev).
    pub in_registry: bool,
}

/// One circuit's state across the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircuitSnapshot {
    pub circuit: CircuitRef,
    pub model_name: String,
    pub description: String,
    pub versions: StageVersions,
    pub environment: StageEnvironments,
    pub lineage: Lineage,
    pub drift: DriftSummary,
    pub accuracy: AccuracySummary,
    pub validation: ValidationSummary,
    /// Pending approval items (release stages) that cover this circuit.
    pub pending_approvals: u32,
    pub active_release: Option<ActiveRelease>,
    /// Model versions the refresh read (registry, and Dev where Dev is ahead), newest first.
    pub known_versions: Vec<KnownVersion>,
    /// Active Azure Monitor alerts on the circuit.
    #[serde(default)]
    pub alerts: AlertSummary,
    /// Its Prod deployment's scoring jobs, judged.
    #[serde(default)]
    pub jobs: JobsSummary,
    /// What could not be read for this circuit, in words.
    pub unknown: Vec<String>,
}

impl CircuitSnapshot {
    pub fn known_version(&self, v: ModelVersion) -> Option<&KnownVersion> {
        self.known_versions.iter().find(|k| k.version == v)
    }

    pub fn new(circuit: CircuitRef, model_name: String) -> Self {
        Self {
            circuit,
            model_name,
            description: String::new(),
            versions: StageVersions::default(),
            environment: StageEnvironments::default(),
            lineage: Lineage::default(),
            drift: DriftSummary::default(),
            accuracy: AccuracySummary::default(),
            validation: ValidationSummary::default(),
            pending_approvals: 0,
            active_release: None,
            known_versions: Vec::new(),
            alerts: AlertSummary::default(),
            jobs: JobsSummary::default(),
            unknown: Vec::new(),
        }
    }

    /// The circuit's health: the worst of its active alerts, its scoring jobs, drift, accuracy,
    /// lineage and validation. Unknown parts count as unknown, never as ok.
    pub fn health(&self) -> Status {
        Status::worst_of(self.signals().into_iter().map(|s| s.status))
    }

    /// Every signal health is made of, with its status and what it says: what the circuit
    /// header lists so that a red circuit says why. Jobs appear only where relcon looked.
    pub fn signals(&self) -> Vec<Signal> {
        let mut out = Vec::with_capacity(6);
        let alert_detail = match (&self.alerts.worst, self.alerts.unknown) {
            (Some(sev), _) => format!(
                "{} active{}, worst {sev}{}",
                self.alerts.active,
                if self.alerts.new > 0 {
                    format!(" ({} new)", self.alerts.new)
                } else {
                    String::new()
                },
                self.alerts
                    .rule
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            (None, true) => "could not be read".into(),
            (None, false) => "none active".into(),
        };
        out.push(Signal {
            name: "alerts",
            status: self.alerts.status(),
            detail: alert_detail,
        });
        if let Some(status) = self.jobs.status {
            let detail = match (&self.jobs.problem, &self.jobs.last) {
                (Some(p), _) => p.clone(),
                (None, Some(l)) => format!("last run {}", l.status),
                (None, None) => "could not be read".into(),
            };
            out.push(Signal {
                name: "jobs",
                status,
                detail,
            });
        }
        let drift = match &self.drift.worst {
            Some(w) => format!(
                "{} {} {:.3} ({})",
                w.feature,
                w.metric.short(),
                w.value,
                w.status
            ),
            None => "no data".into(),
        };
        out.push(Signal {
            name: "drift",
            status: self.drift.status,
            detail: drift,
        });
        out.push(Signal {
            name: "accuracy",
            status: self.accuracy.status,
            detail: match self.accuracy.latest {
                Some(v) => format!("MAE {v:.3}"),
                None => "no data".into(),
            },
        });
        out.push(Signal {
            name: "lineage",
            status: self.lineage.status(),
            detail: match self.lineage.matches {
                Some(true) => "hash matches its config".into(),
                Some(false) => "hash differs from its config".into(),
                None => "cannot tell".into(),
            },
        });
        out.push(Signal {
            name: "tests",
            status: self.validation.status,
            detail: match (&self.validation.verdict, &self.validation.run) {
                (Some(v), _) => v.summary(),
                (None, None) => "no validation run".into(),
                (None, Some(_)) => "not judged".into(),
            },
        });
        out
    }

    /// The signals that make the circuit's health what it is (those as bad as the whole).
    pub fn why(&self) -> Vec<Signal> {
        let health = self.health();
        if health == Status::Ok {
            return Vec::new();
        }
        self.signals()
            .into_iter()
            .filter(|s| s.status == health)
            .collect()
    }
}

/// One part of a circuit's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// `alerts`, `jobs`, `drift`, `accuracy`, `lineage`, `tests`.
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

/// A plant: one batch endpoint per stage and its circuits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantSnapshot {
    pub plant_id: PlantId,
    pub name: String,
    pub circuits: Vec<CircuitSnapshot>,
}

impl PlantSnapshot {
    pub fn health(&self) -> Status {
        Status::worst_of(self.circuits.iter().map(CircuitSnapshot::health))
    }

    /// How many circuits are in each status.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for c in &self.circuits {
            *m.entry(c.health().as_str()).or_insert(0) += 1;
        }
        m
    }
}

/// Something that could not be read, and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotError {
    /// What the failed call covers: "Prod endpoints", "deployments of batch-endpoint-plant003"...
    pub scope: String,
    pub message: String,
}

/// A model a release carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseModel {
    pub circuit: CircuitRef,
    pub version: ModelVersion,
}

/// Someone's decision on an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: IdentityRef,
    pub at: Option<DateTime<Utc>>,
    pub comment: String,
}

impl Decision {
    /// The decision an approved record holds: who approved (else whom it was assigned to),
    /// when, and what they wrote.
    pub fn of(record: &crate::platform::ApprovalRecord) -> Decision {
        Decision {
            by: record
                .approved_by
                .clone()
                .unwrap_or_else(|| record.approver.clone()),
            at: record.modified_on,
            comment: record.comments.clone(),
        }
    }
}

/// A release stage waiting for approval: one line in the approvals view. Holds the ids of
/// every pending approval record of that stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalItem {
    pub release_id: u32,
    pub release_name: String,
    pub stage: Stage,
    /// The stage waiting (opaque: a classic release environment id, a YAML run's stage).
    pub environment_id: StageRef,
    /// What a decision is sent to (a YAML approval appears once, however many steps it has).
    pub pending_ids: Vec<ApprovalId>,
    pub requested_by: IdentityRef,
    pub requested_at: Option<DateTime<Utc>>,
    /// Who approved this stage so far.
    pub approved: Vec<Decision>,
    /// Distinct approvers the stage needs.
    pub required: u32,
    /// The platform forbids the requester from approving (classic `releaseCreatorCanBeApprover`
    /// false, YAML `requesterCannotBeApprover`), whatever relcon's own four-eyes setting says.
    #[serde(default)]
    pub requester_blocked: bool,
    pub description: String,
    pub models: Vec<ReleaseModel>,
    /// `Some(version)` for an environment-only release.
    pub environment_only: Option<String>,
    pub previous_environment: Option<String>,
    /// A rollback run waiting for its approval (YAML: the rollback pipeline's): `models` are
    /// the circuits it restores at the version it restores, and its own Approval check is
    /// the rule (see [`super::policy::ApprovalPolicy::required_approvers`]).
    #[serde(default)]
    pub rollback_run: bool,
    /// Who the platform bars from approving it (YAML `blockedApprovers`; empty: it names no
    /// one, or does not say).
    #[serde(default)]
    pub blocked_approvers: Vec<IdentityRef>,
    /// Whom the platform asks to approve it (the approval's approvers, less the barred ones).
    #[serde(default)]
    pub approvers: Vec<IdentityRef>,
    /// Whether the platform lets the operator decide it (YAML `permissions` has `update`);
    /// `None`: it does not say.
    #[serde(default)]
    pub caller_may_decide: Option<bool>,
}

impl ApprovalItem {
    /// Circuits the release touches; for an environment-only release, filled with the fleet.
    pub fn circuits(&self) -> impl Iterator<Item = &CircuitRef> {
        self.models.iter().map(|m| &m.circuit)
    }
}

/// What the platform says of a stage's pending approval, from its records: who it bars, whom
/// it asks (its approvers less the barred, each once), and whether the caller may decide it
/// (any record saying yes).
pub fn platform_word(
    records: &[&ApprovalRecord],
) -> (Vec<IdentityRef>, Vec<IdentityRef>, Option<bool>) {
    let mut blocked: Vec<IdentityRef> = Vec::new();
    for b in records.iter().flat_map(|r| &r.blocked_approvers) {
        if !blocked.iter().any(|x| x.same_as(b)) {
            blocked.push(b.clone());
        }
    }
    // Each name once (one record per required approver, often all the same group).
    let mut approvers: Vec<IdentityRef> = Vec::new();
    for a in records.iter().map(|r| &r.approver) {
        let known = !a.name().is_empty();
        if known
            && !blocked.iter().any(|x| x.same_as(a))
            && !approvers.iter().any(|x| x.name() == a.name())
        {
            approvers.push(a.clone());
        }
    }
    let may = records
        .iter()
        .filter_map(|r| r.caller_may_decide)
        .reduce(|a, b| a || b);
    (blocked, approvers, may)
}

/// One stage of a release: where it stands and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseStage {
    pub stage: Stage,
    /// What a redeploy (stage re-run) is sent to: opaque, as the release port gave it.
    pub environment_id: StageRef,
    pub status: EnvironmentStatus,
    /// Deployment attempts that deployed something (a redeploy adds one).
    pub attempts: u32,
    /// Deploying right now (not merely waiting for an approval).
    #[serde(default)]
    pub deploying: bool,
    /// When the newest attempt last changed.
    pub at: Option<DateTime<Utc>>,
}

/// A release as the history, rollback planning and approvals read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    pub id: u32,
    pub name: String,
    pub status: ReleaseStatus,
    pub created_on: Option<DateTime<Utc>>,
    pub created_by: IdentityRef,
    pub description: String,
    pub build_id: Option<String>,
    pub environment_only: Option<String>,
    pub previous_environment: Option<String>,
    pub stages: Vec<ReleaseStage>,
    /// The models it deploys (for an environment-only release: none of its own).
    pub models: Vec<ReleaseModel>,
}

impl ReleaseSummary {
    pub fn stage(&self, stage: Stage) -> Option<&ReleaseStage> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    /// The version of this circuit's model the release deploys.
    pub fn version_for(&self, c: &CircuitRef) -> Option<ModelVersion> {
        self.models
            .iter()
            .find(|m| &m.circuit == c)
            .map(|m| m.version)
    }
}

/// The test evidence a Production approval's gate looks at: for each circuit the release
/// deploys, the validation of that version (of the Prod model under the new environment, for an
/// environment-only release) judged against the thresholds and the Prod baseline.
pub fn gate_evidence(
    snapshot: &FleetSnapshot,
    item: &ApprovalItem,
    t: &super::Thresholds,
) -> Vec<super::policy::GateEvidence> {
    use super::policy::GateEvidence;
    item.models
        .iter()
        .map(|m| {
            let Some(c) = snapshot.circuit(&m.circuit) else {
                return GateEvidence {
                    circuit: m.circuit.clone(),
                    status: Status::Unknown,
                    detail: "circuit not in the snapshot".into(),
                };
            };
            let runs = &c.validation.runs;
            let run = if item.environment_only.is_some() {
                runs.iter().find(|r| r.release_id == Some(item.release_id))
            } else {
                runs.iter()
                    .find(|r| {
                        r.model_version == Some(m.version) && r.release_id == Some(item.release_id)
                    })
                    .or_else(|| runs.iter().find(|r| r.model_version == Some(m.version)))
            };
            let baseline = runs.iter().find(|r| {
                r.model_version.is_some()
                    && r.model_version == c.versions.prod
                    && r.release_id != Some(item.release_id)
                    && (item.environment_only.is_none()
                        || r.environment_version.as_deref() != item.environment_only.as_deref())
            });
            match run {
                None => GateEvidence {
                    circuit: m.circuit.clone(),
                    status: Status::Unknown,
                    detail: format!("no validation of v{} found", m.version),
                },
                Some(run) => {
                    // A model compared with itself has no baseline to regress from.
                    let base = baseline.filter(|b| {
                        item.environment_only.is_some() || b.model_version != run.model_version
                    });
                    let verdict =
                        ValidationVerdict::evaluate(&run.metrics, base.map(|b| &b.metrics), t);
                    GateEvidence {
                        circuit: m.circuit.clone(),
                        status: verdict.status,
                        detail: verdict.summary(),
                    }
                }
            }
        })
        .collect()
}

/// The whole fleet at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSnapshot {
    pub generated_at: DateTime<Utc>,
    /// One line naming the backend (simulator or Azure subscription and workspaces).
    pub backend: String,
    pub identity: Option<IdentityRef>,
    pub plants: Vec<PlantSnapshot>,
    pub approvals: Vec<ApprovalItem>,
    /// Releases of the model release definition, newest first.
    pub releases: Vec<ReleaseSummary>,
    /// The fleet's active Azure Monitor alerts, most severe and newest first; those relcon
    /// could not tie to a circuit have none.
    #[serde(default)]
    pub alerts: Vec<FleetAlert>,
    pub errors: Vec<SnapshotError>,
}

impl FleetSnapshot {
    /// Every read of the refresh succeeded. A snapshot with errors is partial: what it shows
    /// is true, but it is not all there is, and no front end may present it as complete.
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn release(&self, id: u32) -> Option<&ReleaseSummary> {
        self.releases.iter().find(|r| r.id == id)
    }

    /// Releases that deploy this circuit's model, newest first.
    pub fn releases_of<'a>(
        &'a self,
        c: &'a CircuitRef,
    ) -> impl Iterator<Item = &'a ReleaseSummary> + 'a {
        self.releases
            .iter()
            .filter(move |r| r.version_for(c).is_some())
    }

    pub fn circuits(&self) -> impl Iterator<Item = &CircuitSnapshot> {
        self.plants.iter().flat_map(|p| p.circuits.iter())
    }

    pub fn circuit(&self, c: &CircuitRef) -> Option<&CircuitSnapshot> {
        self.plants
            .iter()
            .find(|p| p.plant_id == c.plant)?
            .circuits
            .iter()
            .find(|x| x.circuit.circuit == c.circuit)
    }

    pub fn circuit_count(&self) -> usize {
        self.plants.iter().map(|p| p.circuits.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-{d:02}T00:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_series_is_the_same_in_json_and_in_its_compact_binary_form() {
        let daily = Series {
            days: (1..=30).map(day).collect(),
            values: (1..=30).map(|i| f64::from(i) / 7.0).collect(),
        };
        let gaps = Series {
            days: vec![day(1), day(2), day(5)],
            values: vec![0.1, 0.2, 0.3],
        };
        let odd = Series {
            days: vec![day(3)],
            values: vec![],
        };
        for s in [
            daily.clone(),
            gaps,
            odd,
            Series::default(),
            daily.newest_only(),
        ] {
            let json = serde_json::to_value(&s).unwrap();
            assert!(
                json["days"].is_array() && json["values"].is_array(),
                "{json}"
            );
            assert_eq!(serde_json::from_value::<Series>(json).unwrap(), s);
            let bin = postcard::to_stdvec(&s).unwrap();
            assert_eq!(postcard::from_bytes::<Series>(&bin).unwrap(), s);
        }
        // Thirty daily points: eight bytes a value and a few more.
        assert!(postcard::to_stdvec(&daily).unwrap().len() < 30 * 8 + 16);
    }
}
