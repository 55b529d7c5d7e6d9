//! The incident stage of a refresh: the fleet's fired alerts, each tied to its circuit when
//! relcon can tell, and each circuit's Prod scoring jobs judged (last run, last success, no run
//! in 26 hours). What is read when (docs/AZURE.md "Incidents: what a refresh reads"):
//!
//! - alerts: one paged list of the subscription's fired alerts on every refresh (one request
//!   with up to 25 alerts a page);
//! - Prod job lists: one call per deployment on a fixed schedule, every `job_reread` (45
//!   minutes) at the deployment's own phase, so a fleet's reads spread evenly over the
//!   refreshes; meanwhile the [`JobBook`]'s copy is used. A circuit with an active alert, or
//!   under a verified rollback's watch, has its list read every 5 minutes. Test job lists
//!   and run history (start, end, the error) are read only for a circuit looked at
//!   ([`circuit_jobs`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Context;
use super::backend::{Backend, BackendError, BackendResult};
use crate::domain::fleet::{CircuitSnapshot, SnapshotError};
use crate::domain::incidents::{
    AlertMapping, AlertRecord, AlertSummary, FleetAlert, JobsSummary, ScoringJob,
};
use crate::domain::naming::NameTemplate;
use crate::domain::{CircuitRef, Stage};
use crate::settings::{Naming, Settings};

/// A circuit with an active alert has its Prod job list read this often (instead of every
/// `job_reread`).
pub const ALERTED_JOB_REREAD: Duration = Duration::minutes(5);

/// How many of each stage's newest jobs get their run history (start, end, error) read when
/// a circuit's jobs are looked at.
pub const JOBS_WITH_RUNS: usize = 7;

/// How far back a job list is read (at least; the service may give more).
pub const JOB_WINDOW: Duration = Duration::days(14);

/// What the incident reads are judged by (`[incidents]`).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentPolicy {
    pub stale_job_hours: u32,
    /// A Prod job list is read every this long, at the deployment's own phase.
    pub job_reread: Duration,
    /// Resource groups whose alerts are the fleet's (workspaces, registry, and configured).
    pub resource_groups: Vec<String>,
    /// How long a verified rollback's circuit is watched, in minutes (0: not at all).
    pub watch_minutes: u32,
    /// How long a retried scoring job is followed (session clock).
    pub retry_follow: Duration,
    /// Start a test inference right after a verified rollback.
    pub test_inference: bool,
}

impl Default for IncidentPolicy {
    fn default() -> Self {
        IncidentPolicy {
            stale_job_hours: crate::domain::incidents::DEFAULT_STALE_HOURS,
            job_reread: Duration::minutes(45),
            resource_groups: Vec::new(),
            watch_minutes: crate::domain::watch::DEFAULT_WATCH_MINUTES,
            retry_follow: Duration::minutes(60),
            test_inference: false,
        }
    }
}

impl IncidentPolicy {
    pub fn from_settings(s: &Settings) -> IncidentPolicy {
        let mut rgs: Vec<String> = [
            &s.workspaces.dev.resource_group,
            &s.workspaces.test.resource_group,
            &s.workspaces.prod.resource_group,
            &s.registry.resource_group,
        ]
        .into_iter()
        .chain(&s.incidents.alert_resource_groups)
        .map(|r| r.to_ascii_lowercase())
        .collect();
        rgs.sort();
        rgs.dedup();
        IncidentPolicy {
            stale_job_hours: s.incidents.stale_job_hours,
            job_reread: Duration::minutes(i64::from(s.incidents.job_reread_minutes)),
            resource_groups: rgs,
            watch_minutes: s.incidents.watch_minutes,
            retry_follow: Duration::minutes(i64::from(s.incidents.retry_follow_minutes.max(1))),
            test_inference: s.incidents.test_inference,
        }
    }
}

/// One deployment's job list as a refresh has it.
#[derive(Debug)]
pub struct JobRead {
    pub result: BackendResult<Vec<ScoringJob>>,
    /// When the list was read (now, or when the book's copy was).
    pub read_at: DateTime<Utc>,
    /// Taken from the book rather than read.
    pub reused: bool,
}

/// What a refresh read of alerts and scoring jobs.
#[derive(Debug, Default)]
pub struct IncidentReadings {
    pub alerts: Option<BackendResult<Vec<AlertRecord>>>,
    /// Prod job lists by `(endpoint, deployment)`.
    pub jobs: HashMap<(String, String), JobRead>,
}

/// The Prod job lists of earlier refreshes, by `(endpoint, deployment)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobBook {
    pub entries: HashMap<(String, String), JobEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEntry {
    /// The jobs the summary reads (`incidents::jobs_assessed`: newest, newest finished, last
    /// success), not the whole list.
    pub jobs: Vec<ScoringJob>,
    pub read_at: DateTime<Utc>,
}

/// A stable share in `[0, 1)` of a deployment (FNV-1a of its names): where in each period its
/// list falls due.
fn spread(endpoint: &str, deployment: &str) -> f64 {
    let h = endpoint
        .bytes()
        .chain([b'/'])
        .chain(deployment.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (h % 10_000) as f64 / 10_000.0
}

/// The first of a deployment's read times after `t`: every `period`, at its own phase
/// (`share` of the period past the epoch's whole periods). Lists read at once (a first
/// refresh, every alerted circuit of a storm) so fall due one by one over the next period,
/// and a fleet's reads stay spread evenly from then on (a fixed schedule, not "a period after
/// the last read", which lets reads made together stay together).
fn next_slot(t: DateTime<Utc>, period: Duration, share: f64) -> DateTime<Utc> {
    let p = period.num_seconds().max(1);
    let phase = (p as f64 * share) as i64;
    let k = (t.timestamp() - phase).div_euclid(p) + 1;
    DateTime::from_timestamp(phase + k * p, 0).unwrap_or(t + period)
}

impl JobBook {
    /// The book's list of a deployment when it need not be read again at `now`: no read time
    /// of its schedule (every `every`; every [`ALERTED_JOB_REREAD`] when its circuit has an
    /// active alert) has come since it was read.
    pub fn reusable(
        &self,
        endpoint: &str,
        deployment: &str,
        now: DateTime<Utc>,
        every: Duration,
        alerted: bool,
    ) -> Option<&JobEntry> {
        let e = self
            .entries
            .get(&(endpoint.to_owned(), deployment.to_owned()))?;
        let period = if alerted {
            ALERTED_JOB_REREAD.min(every)
        } else {
            every
        };
        let due = next_slot(e.read_at, period, spread(endpoint, deployment));
        (now < due && now >= e.read_at).then_some(e)
    }

    /// The book after a refresh: every list it holds, read or reused; a list that could not
    /// be read is left out, so the next refresh reads it.
    pub fn after_refresh(&self, jobs: HashMap<(String, String), JobRead>) -> JobBook {
        let entries = jobs
            .into_iter()
            .filter_map(|(k, read)| {
                let list = read.result.ok()?;
                Some((
                    k,
                    JobEntry {
                        jobs: list,
                        read_at: read.read_at,
                    },
                ))
            })
            .collect();
        JobBook { entries }
    }
}

/// The circuit an alert is about, and how relcon knows: its `plant_id` and `circuit_id`
/// dimensions (case-insensitive names, ids upper-cased), else a target resource that is a
/// batch deployment named by the naming templates.
pub fn alert_circuit(a: &AlertRecord, naming: &Naming) -> Option<(CircuitRef, AlertMapping)> {
    if let (Some(p), Some(c)) = (a.dimension("plant_id"), a.dimension("circuit_id"))
        && let (Ok(p), Ok(c)) = (
            p.trim().to_ascii_uppercase().parse(),
            c.trim().to_ascii_uppercase().parse(),
        )
    {
        return Some((CircuitRef::new(p, c), AlertMapping::Dimensions));
    }
    deployment_of(&a.target_resource, &naming.endpoint, &naming.deployment)
        .map(|c| (c, AlertMapping::TargetResource))
}

/// The circuit of `.../batchEndpoints/{e}/deployments/{d}` (ARM ids compare case-insensitively).
fn deployment_of(
    resource: &str,
    endpoints: &NameTemplate,
    deployments: &NameTemplate,
) -> Option<CircuitRef> {
    let segs: Vec<&str> = resource.split('/').collect();
    let at = segs
        .iter()
        .position(|s| s.eq_ignore_ascii_case("batchEndpoints"))?;
    let (e, kind, d) = (segs.get(at + 1)?, segs.get(at + 2)?, segs.get(at + 3)?);
    if !kind.eq_ignore_ascii_case("deployments") {
        return None;
    }
    let (plant, c1) = endpoints.parse(e)?;
    let (p2, circuit) = deployments.parse(d)?;
    Some(CircuitRef::new(plant.or(p2)?, circuit.or(c1)?))
}

/// The resource group of an ARM id (`/subscriptions/s/resourceGroups/{rg}/...`).
fn resource_group(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.split('/').collect();
    let at = segs
        .iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))?;
    segs.get(at + 1).map(|s| s.to_ascii_lowercase())
}

/// The fleet's alerts among `alerts`: those about a circuit of the fleet, and those on a
/// resource of the fleet's resource groups (listed with "no circuit"). Closed and resolved
/// ones are dropped; the newest first, the most severe first among equals.
pub fn fleet_alerts(
    alerts: &[AlertRecord],
    naming: &Naming,
    policy: &IncidentPolicy,
    fleet: &HashSet<CircuitRef>,
) -> Vec<FleetAlert> {
    let mut out: Vec<FleetAlert> = alerts
        .iter()
        .filter(|a| a.is_active())
        .filter_map(|a| {
            let mapped = alert_circuit(a, naming).filter(|(c, _)| fleet.contains(c));
            let rg = if a.target_resource_group.is_empty() {
                resource_group(&a.target_resource)
            } else {
                Some(a.target_resource_group.to_ascii_lowercase())
            };
            let ours =
                mapped.is_some() || rg.is_some_and(|rg| policy.resource_groups.contains(&rg));
            ours.then(|| FleetAlert {
                alert: a.clone(),
                circuit: mapped.as_ref().map(|(c, _)| c.clone()),
                mapped_by: mapped.map(|(_, m)| m),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.alert
            .severity
            .rank()
            .cmp(&a.alert.severity.rank())
            .then(b.alert.fired_at.cmp(&a.alert.fired_at))
            .then(a.alert.id.cmp(&b.alert.id))
    });
    out
}

/// Judge what the refresh read of alerts and jobs into the circuits, and return the fleet's
/// alerts. A read that failed makes what it covers unknown and the snapshot partial.
pub fn assemble(
    r: &IncidentReadings,
    ctx: &Context,
    now: DateTime<Utc>,
    circuits: &mut BTreeMap<CircuitRef, CircuitSnapshot>,
    errors: &mut Vec<SnapshotError>,
) -> Vec<FleetAlert> {
    let fleet: HashSet<CircuitRef> = circuits.keys().cloned().collect();
    let alerts = match &r.alerts {
        Some(Ok(list)) => {
            let alerts = fleet_alerts(list, &ctx.naming, &ctx.incidents, &fleet);
            for (c, cs) in circuits.iter_mut() {
                cs.alerts = AlertSummary::of(
                    alerts
                        .iter()
                        .filter(|a| a.circuit.as_ref() == Some(c))
                        .map(|a| &a.alert),
                );
            }
            alerts
        }
        Some(Err(e)) => {
            errors.push(SnapshotError {
                scope: "fired alerts".into(),
                message: e.to_string(),
            });
            for cs in circuits.values_mut() {
                cs.alerts.unknown = true;
                cs.unknown.push("fired alerts could not be read".into());
            }
            Vec::new()
        }
        None => Vec::new(),
    };
    for (c, cs) in circuits.iter_mut() {
        // Only circuits with a Prod deployment score nightly.
        if cs.versions.prod.is_none() {
            continue;
        }
        let key = (ctx.naming.endpoint(c), ctx.naming.deployment(c));
        match r.jobs.get(&key) {
            Some(JobRead {
                result: Ok(jobs),
                read_at,
                ..
            }) => {
                cs.jobs = JobsSummary::assess(jobs, now, ctx.incidents.stale_job_hours, *read_at);
            }
            Some(JobRead { result: Err(e), .. }) => {
                errors.push(SnapshotError {
                    scope: format!("scoring jobs of {}/{}", key.0, key.1),
                    message: e.to_string(),
                });
                cs.jobs.status = Some(crate::domain::Status::Unknown);
                cs.unknown
                    .push(format!("scoring jobs of {} could not be read", key.1));
            }
            None => {}
        }
    }
    alerts
}

/// The circuits among `alerts` with an active alert, for the job reads.
pub fn alerted_circuits(alerts: &[AlertRecord], naming: &Naming) -> HashSet<CircuitRef> {
    alerts
        .iter()
        .filter(|a| a.is_active())
        .filter_map(|a| alert_circuit(a, naming).map(|(c, _)| c))
        .collect()
}

/// A circuit's scoring jobs as the circuit view and `relcon jobs` show them: Prod and Test,
/// newest first, each with what run history says (start, end, the error) for the newest
/// `with_runs` of each stage.
#[derive(Debug, Clone, Default)]
pub struct CircuitJobs {
    pub prod: Vec<ScoringJob>,
    pub test: Vec<ScoringJob>,
    pub prod_summary: JobsSummary,
    /// What could not be read (a list, a run), in words; empty when everything was.
    pub errors: Vec<SnapshotError>,
    /// Neither Test nor Prod has the circuit's deployment (both lists answered 404).
    pub no_deployment: bool,
}

impl CircuitJobs {
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Read a circuit's jobs now (both stages, and run history for the newest `with_runs` of each).
pub async fn circuit_jobs(
    backend: &dyn Backend,
    ctx: &Context,
    circuit: &CircuitRef,
    now: DateTime<Utc>,
    with_runs: usize,
) -> CircuitJobs {
    let endpoint = ctx.naming.endpoint(circuit);
    let deployment = ctx.naming.deployment(circuit);
    let since = now - JOB_WINDOW;
    let (prod, test) = futures::join!(
        backend.scoring_jobs(Stage::Prod, &endpoint, &deployment, since),
        backend.scoring_jobs(Stage::Test, &endpoint, &deployment, since),
    );
    let mut out = CircuitJobs::default();
    let mut lists = Vec::new();
    let mut missing = 0;
    let mut prod_missing = false;
    for (stage, r) in [(Stage::Prod, prod), (Stage::Test, test)] {
        match r {
            Ok(jobs) => lists.push((stage, jobs)),
            // No deployment in that stage: nothing scores there, which is not a failed read.
            Err(e) if e.kind == super::backend::ErrorKind::NotFound => {
                missing += 1;
                prod_missing |= stage == Stage::Prod;
                lists.push((stage, Vec::new()));
            }
            Err(e) => {
                out.errors.push(failed(
                    format!("{stage} scoring jobs of {endpoint}/{deployment}"),
                    &e,
                ));
                lists.push((stage, Vec::new()));
            }
        }
    }
    for (stage, jobs) in lists {
        let runs = futures::future::join_all(
            jobs.iter()
                .take(with_runs)
                .map(|j| backend.job_run(stage, &j.name)),
        )
        .await;
        let mut full = Vec::with_capacity(jobs.len());
        for (i, j) in jobs.into_iter().enumerate() {
            match runs.get(i) {
                Some(Ok(run)) => full.push(j.with_run(run.clone())),
                Some(Err(e)) => {
                    out.errors
                        .push(failed(format!("run history of job {}", j.name), e));
                    full.push(j);
                }
                None => full.push(j),
            }
        }
        match stage {
            Stage::Prod => out.prod = full,
            _ => out.test = full,
        }
    }
    out.no_deployment = missing == 2;
    if !prod_missing
        && !out
            .errors
            .iter()
            .any(|e| e.scope.starts_with("Prod scoring jobs"))
    {
        out.prod_summary = JobsSummary::assess(&out.prod, now, ctx.incidents.stale_job_hours, now);
    }
    out
}

fn failed(scope: String, e: &BackendError) -> SnapshotError {
    SnapshotError {
        scope,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::pinned_start;
    use crate::domain::incidents::{AlertState, MonitorCondition, Severity};

    fn alert(dims: &[(&str, &str)], target: &str, rg: &str) -> AlertRecord {
        AlertRecord {
            id: format!(
                "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{target}{rg}"
            ),
            name: "r".into(),
            rule: "r".into(),
            severity: Severity::Sev2,
            state: AlertState::New,
            condition: MonitorCondition::Fired,
            monitor_service: String::new(),
            signal_type: String::new(),
            fired_at: Some(pinned_start()),
            modified_at: None,
            modified_by: None,
            target_resource: target.into(),
            target_resource_group: rg.into(),
            description: String::new(),
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn alerts_map_by_dimensions_then_by_deployment_and_others_are_the_fleets_or_not() {
        let naming = Naming::default();
        let c: CircuitRef = "PLANT007/CIRCUIT03".parse().unwrap();
        let by_dims = alert(
            &[("PLANT_ID", "plant007"), ("circuit_id", "CIRCUIT03")],
            "",
            "",
        );
        assert_eq!(
            alert_circuit(&by_dims, &naming),
            Some((c.clone(), AlertMapping::Dimensions))
        );
        let dep = "/subscriptions/s/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/w/batchEndpoints/batch-endpoint-plant007/deployments/deployment-circuit03";
        let by_target = alert(&[], dep, "rg-ml-prod");
        assert_eq!(
            alert_circuit(&by_target, &naming),
            Some((c.clone(), AlertMapping::TargetResource))
        );
        let workspace = alert(
            &[],
            "/subscriptions/s/resourceGroups/RG-ML-PROD/providers/x/workspaces/w",
            "",
        );
        let elsewhere = alert(
            &[],
            "/subscriptions/s/resourceGroups/rg-web/providers/x/sites/shop",
            "rg-web",
        );
        let not_ours = alert(
            &[("plant_id", "PLANT999"), ("circuit_id", "CIRCUIT01")],
            "",
            "rg-web",
        );
        let policy = IncidentPolicy {
            resource_groups: vec!["rg-ml-prod".into()],
            ..IncidentPolicy::default()
        };
        let fleet: HashSet<CircuitRef> = [c.clone()].into();
        let got = fleet_alerts(
            &[by_dims, by_target, workspace.clone(), elsewhere, not_ours],
            &naming,
            &policy,
            &fleet,
        );
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(
            got.iter()
                .filter(|a| a.circuit.as_ref() == Some(&c))
                .count(),
            2
        );
        let unmapped = got.iter().find(|a| a.circuit.is_none()).unwrap();
        assert_eq!(unmapped.alert.id, workspace.id);
    }

    #[test]
    fn a_job_list_is_reused_until_its_read_time_comes_and_sooner_for_an_alerted_circuit() {
        let t0 = pinned_start();
        let every = Duration::minutes(45);
        let at = |m: i64| t0 + Duration::minutes(m);
        let entry = |read_at| JobEntry {
            jobs: Vec::new(),
            read_at,
        };
        let mut book = JobBook::default();
        book.entries.insert(("e".into(), "d".into()), entry(t0));
        let due = next_slot(t0, every, spread("e", "d"));
        assert!(due > t0 && due <= t0 + every);
        let minutes = (due - t0).num_minutes();
        assert!(
            book.reusable("e", "d", at(minutes - 1), every, false)
                .is_some()
        );
        assert!(book.reusable("e", "d", due, every, false).is_none());
        // Alerted: a read time every five minutes.
        let alerted_due = next_slot(t0, ALERTED_JOB_REREAD, spread("e", "d"));
        assert!(alerted_due <= at(5));
        assert!(book.reusable("e", "d", alerted_due, every, true).is_none());
        assert!(book.reusable("e", "x", at(1), every, false).is_none());
        // A clock that went back is no reason to trust an entry from the future.
        assert!(book.reusable("e", "d", at(-1), every, false).is_none());
        // The slots of a fleet read at once fall evenly over the next period: no minute of
        // the 45 gets more than a few of 2,000 lists.
        let mut per_minute = [0u32; 45];
        for i in 0..2000 {
            let d = next_slot(
                t0,
                every,
                spread(
                    "batch-endpoint-plant001",
                    &format!("deployment-circuit{i:04}"),
                ),
            );
            per_minute[((d - t0).num_seconds() as usize - 1) / 60] += 1;
        }
        let (lo, hi) = (
            per_minute.iter().min().unwrap(),
            per_minute.iter().max().unwrap(),
        );
        assert!(*lo >= 25 && *hi <= 70, "{per_minute:?}");
        // And stay on their schedule: read at its slot, a list is due one period later.
        assert_eq!(next_slot(due, every, spread("e", "d")), due + every);
    }
}
