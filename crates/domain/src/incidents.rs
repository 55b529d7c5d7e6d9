//! Where incidents start, as the runbooks have it: the Azure Monitor alerts fired on the fleet
//! and the batch scoring jobs of each circuit's deployments. The records, the rules that judge
//! them (a failed last run, no run in the last 26 hours, an active alert by severity) and the
//! summaries a circuit carries. Pure: the service reads, this judges.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{CircuitRef, Stage, Status};

/// Hours without a scoring run after which a nightly model counts as not running.
pub const DEFAULT_STALE_HOURS: u32 = 26;

/// An alert's severity: `Sev0` is the highest, `Sev4` the lowest (Alerts Management's enum,
/// `modelAsString`: anything else is kept as `Unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Sev0,
    Sev1,
    Sev2,
    Sev3,
    Sev4,
    Unknown,
}

impl Severity {
    pub fn parse(s: &str) -> Severity {
        match s.trim().to_ascii_lowercase().as_str() {
            "sev0" => Severity::Sev0,
            "sev1" => Severity::Sev1,
            "sev2" => Severity::Sev2,
            "sev3" => Severity::Sev3,
            "sev4" => Severity::Sev4,
            _ => Severity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev0 => "Sev0",
            Severity::Sev1 => "Sev1",
            Severity::Sev2 => "Sev2",
            Severity::Sev3 => "Sev3",
            Severity::Sev4 => "Sev4",
            Severity::Unknown => "Sev?",
        }
    }

    /// What an active alert of this severity makes of a circuit's health: Sev0 to Sev2
    /// (critical, error, warning in Azure Monitor's words) page someone; Sev3 and Sev4
    /// (informational, verbose) are worth a look. An unknown severity is treated as paging.
    pub fn status(self) -> Status {
        match self {
            Severity::Sev3 | Severity::Sev4 => Status::Warn,
            _ => Status::Alert,
        }
    }

    /// For ordering: higher is more urgent (Sev0 = 5 ... Sev4 = 1; unknown as Sev2).
    pub fn rank(self) -> u8 {
        match self {
            Severity::Sev0 => 5,
            Severity::Sev1 => 4,
            Severity::Sev2 | Severity::Unknown => 3,
            Severity::Sev3 => 2,
            Severity::Sev4 => 1,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user-set state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertState {
    New,
    Acknowledged,
    Closed,
    Unknown,
}

impl AlertState {
    pub fn parse(s: &str) -> AlertState {
        match s.trim().to_ascii_lowercase().as_str() {
            "new" => AlertState::New,
            "acknowledged" => AlertState::Acknowledged,
            "closed" => AlertState::Closed,
            _ => AlertState::Unknown,
        }
    }

    /// The value the API takes and returns.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::New => "New",
            AlertState::Acknowledged => "Acknowledged",
            AlertState::Closed => "Closed",
            AlertState::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the rule's condition still holds (`Fired`) or has cleared (`Resolved`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MonitorCondition {
    Fired,
    Resolved,
    Unknown,
}

impl MonitorCondition {
    pub fn parse(s: &str) -> MonitorCondition {
        match s.trim().to_ascii_lowercase().as_str() {
            "fired" => MonitorCondition::Fired,
            "resolved" => MonitorCondition::Resolved,
            _ => MonitorCondition::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MonitorCondition::Fired => "Fired",
            MonitorCondition::Resolved => "Resolved",
            MonitorCondition::Unknown => "Unknown",
        }
    }
}

/// One alert as Azure Monitor's Alerts Management API describes it, before relcon knows which
/// circuit it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The alert's ARM id (`.../providers/Microsoft.AlertsManagement/alerts/{guid}`).
    pub id: String,
    /// The alert's name (usually the rule's name).
    pub name: String,
    /// `essentials.alertRule`: the rule's ARM id, or its name, depending on the service.
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub condition: MonitorCondition,
    pub monitor_service: String,
    pub signal_type: String,
    /// `essentials.startDateTime`: when it fired.
    pub fired_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub modified_by: Option<String>,
    pub target_resource: String,
    pub target_resource_group: String,
    pub description: String,
    /// `name = value` pairs found in the alert's context (the rule's dimensions), as sent.
    pub dimensions: Vec<(String, String)>,
}

impl AlertRecord {
    /// The alert's GUID, the last segment of its id (what `changestate` addresses).
    pub fn guid(&self) -> &str {
        last_segment(&self.id)
    }

    /// The rule's name: the last segment of its ARM id, or the name as given.
    pub fn rule_name(&self) -> &str {
        if self.rule.starts_with('/') {
            last_segment(&self.rule)
        } else {
            &self.rule
        }
    }

    /// A dimension's value, by case-insensitive name (`plant_id`, `PLANT_ID`).
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether it should page: the condition still holds and nobody closed it.
    pub fn is_active(&self) -> bool {
        self.condition != MonitorCondition::Resolved && self.state != AlertState::Closed
    }
}

fn last_segment(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}

/// How relcon tied an alert to a circuit, so a user can tell a sure mapping from a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertMapping {
    /// The alert's `plant_id` and `circuit_id` dimensions.
    Dimensions,
    /// Its target resource is the circuit's batch deployment.
    TargetResource,
}

/// An alert on the fleet, with the circuit it concerns when relcon could tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetAlert {
    pub alert: AlertRecord,
    pub circuit: Option<CircuitRef>,
    pub mapped_by: Option<AlertMapping>,
}

/// A circuit's active alerts, in brief (the fleet view).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// The alert list could not be read: the circuit's alerts are unknown.
    pub unknown: bool,
    /// Active alerts (fired, not closed) on the circuit.
    pub active: u32,
    /// The most severe of them.
    pub worst: Option<Severity>,
    /// Of them, how many nobody has acknowledged yet.
    pub new: u32,
    /// The rule of the most severe, newest one (what the header says).
    pub rule: Option<String>,
    pub fired_at: Option<DateTime<Utc>>,
}

impl AlertSummary {
    /// Summarise the active ones among `alerts` (all of one circuit).
    pub fn of<'a>(alerts: impl IntoIterator<Item = &'a AlertRecord>) -> AlertSummary {
        let mut s = AlertSummary::default();
        let mut lead: Option<&AlertRecord> = None;
        for a in alerts.into_iter().filter(|a| a.is_active()) {
            s.active += 1;
            if a.state == AlertState::New {
                s.new += 1;
            }
            let better = match lead {
                None => true,
                Some(l) => (a.severity.rank(), a.fired_at) > (l.severity.rank(), l.fired_at),
            };
            if better {
                lead = Some(a);
            }
        }
        if let Some(l) = lead {
            s.worst = Some(l.severity);
            s.rule = Some(l.rule_name().to_owned());
            s.fired_at = l.fired_at;
        }
        s
    }

    /// What the circuit's active alerts make of its health (`Ok` with none).
    pub fn status(&self) -> Status {
        match self.worst {
            Some(s) => s.status(),
            None if self.unknown => Status::Unknown,
            None => Status::Ok,
        }
    }

    /// For the incident order: the worst severity's rank, 0 without an active alert.
    pub fn rank(&self) -> u8 {
        self.worst.map_or(0, Severity::rank)
    }
}

/// A batch job's status (Azure ML's `JobStatus`); a value not in the enum is `Other`, shown
/// as the service wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    NotStarted,
    Starting,
    Provisioning,
    Preparing,
    Queued,
    Running,
    Finalizing,
    CancelRequested,
    Completed,
    Failed,
    Canceled,
    NotResponding,
    Paused,
    Unknown,
    Other(String),
}

impl JobStatus {
    pub fn parse(s: &str) -> JobStatus {
        match s.trim().to_ascii_lowercase().as_str() {
            "notstarted" => JobStatus::NotStarted,
            "starting" => JobStatus::Starting,
            "provisioning" => JobStatus::Provisioning,
            "preparing" => JobStatus::Preparing,
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "finalizing" => JobStatus::Finalizing,
            "cancelrequested" => JobStatus::CancelRequested,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            // Azure ML spells it both ways across its APIs.
            "canceled" | "cancelled" => JobStatus::Canceled,
            "notresponding" => JobStatus::NotResponding,
            "paused" => JobStatus::Paused,
            "unknown" | "" => JobStatus::Unknown,
            _ => JobStatus::Other(s.trim().to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::NotStarted => "NotStarted",
            JobStatus::Starting => "Starting",
            JobStatus::Provisioning => "Provisioning",
            JobStatus::Preparing => "Preparing",
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Finalizing => "Finalizing",
            JobStatus::CancelRequested => "CancelRequested",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
            JobStatus::Canceled => "Canceled",
            JobStatus::NotResponding => "NotResponding",
            JobStatus::Paused => "Paused",
            JobStatus::Unknown => "Unknown",
            JobStatus::Other(s) => s,
        }
    }

    /// Where the run stands: succeeded, failed (`Failed`, `Canceled`, `NotResponding`),
    /// still going, or neither (`Paused`, unknown values).
    pub fn outcome(&self) -> JobOutcome {
        match self {
            JobStatus::Completed => JobOutcome::Succeeded,
            JobStatus::Failed | JobStatus::Canceled | JobStatus::NotResponding => {
                JobOutcome::Failed
            }
            JobStatus::NotStarted
            | JobStatus::Starting
            | JobStatus::Provisioning
            | JobStatus::Preparing
            | JobStatus::Queued
            | JobStatus::Running
            | JobStatus::Finalizing
            | JobStatus::CancelRequested => JobOutcome::Running,
            JobStatus::Paused | JobStatus::Unknown | JobStatus::Other(_) => JobOutcome::Other,
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOutcome {
    Succeeded,
    Failed,
    Running,
    Other,
}

/// One batch scoring job of a deployment: what the job list says, and what run history adds
/// when it was read (start, end, the error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringJob {
    /// The job's name (`az ml job show -n NAME`; the run id in run history).
    pub name: String,
    pub stage: Stage,
    pub endpoint: String,
    pub deployment: String,
    pub status: JobStatus,
    /// When it was submitted (`systemData.createdAt`).
    pub submitted_at: Option<DateTime<Utc>>,
    /// From run history, when read.
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The run's error message (run history `error.error.message`), when it failed.
    pub error: Option<String>,
    /// The error's code (`UserError`, `SystemError`...).
    pub error_code: Option<String>,
    /// The job's page in Azure ML studio, when the service gives it.
    pub studio_url: Option<String>,
}

impl ScoringJob {
    /// End minus start, when both are known; a running job's time so far at `now`.
    pub fn duration(&self, now: DateTime<Utc>) -> Option<Duration> {
        let start = self.started_at?;
        let end = match (self.ended_at, self.status.outcome()) {
            (Some(e), _) => e,
            (None, JobOutcome::Running) => now,
            (None, _) => return None,
        };
        Some(end - start).filter(|d| *d >= Duration::zero())
    }

    /// When it ran, for the 26-hour rule: submitted, else started.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at.or(self.started_at)
    }
}

/// What run history says of one job: when it ran and why it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    pub status: Option<JobStatus>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub error_code: Option<String>,
}

impl ScoringJob {
    /// The job with what run history adds (its status too, when the list's is older).
    pub fn with_run(mut self, run: JobRun) -> ScoringJob {
        if let Some(s) = run.status.filter(|s| *s != JobStatus::Unknown) {
            self.status = s;
        }
        self.started_at = run.started_at.or(self.started_at);
        self.ended_at = run.ended_at.or(self.ended_at);
        self.error = run.error.or(self.error);
        self.error_code = run.error_code.or(self.error_code);
        self
    }
}

/// A circuit's Prod scoring in brief: the newest run, the last success, and the verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsSummary {
    /// `None` when relcon did not look (no Prod deployment); `Unknown` when the list could
    /// not be read.
    pub status: Option<Status>,
    /// The newest job (by submission).
    pub last: Option<JobBrief>,
    pub last_success: Option<DateTime<Utc>>,
    /// Why the status is what it is, in words ("last run failed", "no run in the last 26 h").
    pub problem: Option<String>,
    /// When the job list was read (jobs are read on a cadence; see `service::jobs`).
    pub read_at: Option<DateTime<Utc>>,
}

/// The newest run, as the fleet column shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobBrief {
    pub name: String,
    pub status: JobStatus,
    pub at: Option<DateTime<Utc>>,
}

impl JobsSummary {
    /// Judge a deployment's jobs at `now`: the newest finished run failed is an alert, and so
    /// is no run submitted in the last `stale_hours` (a nightly model that stopped running
    /// serves stale forecasts as surely as one that fails). A run in progress after a failure
    /// is a warning until it ends. Jobs without any time are ignored for the recency rule.
    pub fn assess(
        jobs: &[ScoringJob],
        now: DateTime<Utc>,
        stale_hours: u32,
        read_at: DateTime<Utc>,
    ) -> JobsSummary {
        let mut by_time: Vec<&ScoringJob> = jobs.iter().collect();
        // Newest first; jobs without a time last.
        by_time.sort_by(|a, b| b.at().cmp(&a.at()).then_with(|| b.name.cmp(&a.name)));
        let last = by_time.first().map(|j| JobBrief {
            name: j.name.clone(),
            status: j.status.clone(),
            at: j.at(),
        });
        let last_success = by_time
            .iter()
            .filter(|j| j.status.outcome() == JobOutcome::Succeeded)
            .filter_map(|j| j.ended_at.or(j.at()))
            .max();
        let newest_at = by_time.iter().filter_map(|j| j.at()).max();
        let finished = by_time.iter().find(|j| {
            matches!(
                j.status.outcome(),
                JobOutcome::Succeeded | JobOutcome::Failed
            )
        });
        let running = by_time
            .first()
            .is_some_and(|j| j.status.outcome() == JobOutcome::Running);
        let limit = Duration::hours(i64::from(stale_hours));
        let (status, problem) = match (newest_at, finished) {
            (None, _) => (
                Status::Alert,
                Some(format!("no run in the last {stale_hours} h (none listed)")),
            ),
            (Some(t), _) if now - t > limit => (
                Status::Alert,
                Some(format!(
                    "no run in the last {stale_hours} h (newest submitted {})",
                    hours_ago(now, t)
                )),
            ),
            (_, Some(f)) if f.status.outcome() == JobOutcome::Failed && !running => {
                (Status::Alert, Some(format!("last run {}", verb(&f.status))))
            }
            (_, Some(f)) if f.status.outcome() == JobOutcome::Failed => (
                Status::Warn,
                Some(format!(
                    "running again after a run that {}",
                    verb(&f.status)
                )),
            ),
            _ => (Status::Ok, None),
        };
        JobsSummary {
            status: Some(status),
            last,
            last_success,
            problem,
            read_at: Some(read_at),
        }
    }
}

/// Of a deployment's job list, the jobs [`JobsSummary::assess`] reads: the newest (by
/// submission, then name), the newest finished one and the success that ended last, at most
/// three, in the list's order. A refresh keeps these instead of the whole list (300,000 jobs
/// at 20,000 circuits); the summary judged from them is the one judged from the list
/// (`incidents_tests`). The Jobs tab and `relcon jobs` read a circuit's full list when asked.
pub fn jobs_assessed(jobs: Vec<ScoringJob>) -> Vec<ScoringJob> {
    if jobs.len() <= 3 {
        return jobs;
    }
    let mut by_time: Vec<usize> = (0..jobs.len()).collect();
    by_time.sort_by(|&a, &b| {
        let (a, b) = (&jobs[a], &jobs[b]);
        b.at().cmp(&a.at()).then_with(|| b.name.cmp(&a.name))
    });
    let newest = by_time.first().copied();
    let finished = by_time.iter().copied().find(|&i| {
        matches!(
            jobs[i].status.outcome(),
            JobOutcome::Succeeded | JobOutcome::Failed
        )
    });
    let last_success = (0..jobs.len())
        .filter(|&i| jobs[i].status.outcome() == JobOutcome::Succeeded)
        .filter_map(|i| jobs[i].ended_at.or(jobs[i].at()).map(|t| (t, i)))
        .max_by_key(|&(t, _)| t)
        .map(|(_, i)| i);
    let keep = [newest, finished, last_success];
    let mut kept: Vec<ScoringJob> = jobs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(&Some(*i)))
        .map(|(_, j)| j)
        .collect();
    // The collect reuses the list's allocation (room for every job): give it back.
    kept.shrink_to_fit();
    kept
}

/// `31 h ago`, `3 d ago`.
fn hours_ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let h = (now - t).num_hours();
    if h >= 72 {
        format!("{} d ago", h / 24)
    } else {
        format!("{h} h ago")
    }
}

fn verb(s: &JobStatus) -> &'static str {
    match s {
        JobStatus::Canceled => "was canceled",
        JobStatus::NotResponding => "stopped responding",
        _ => "failed",
    }
}

#[cfg(test)]
#[path = "incidents_tests.rs"]
mod tests;
