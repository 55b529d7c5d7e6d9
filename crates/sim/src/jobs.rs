//! Batch scoring jobs on the Azure ML data plane (`/mlapi`, the workspace's regional host):
//! every Test and Prod deployment scores nightly (Prod between 01:00 and 04:00 UTC, Test half
//! an hour later), for the last two weeks and on as the clock moves. The scenario's nightly
//! run of one circuit failed last night (an input partition that was not there), another
//! circuit's Prod schedule stopped three days ago (no run in 26 hours), and about one older
//! run in fifty failed for one of the usual reasons. Served as `BatchJobDeployment_List` /
//! `_Get` (api-version 2020-09-01-dataplanepreview) and run history's `Runs_Get` (start, end,
//! error), plus the workspace discovery document (`/mlapi/discovery`). Jobs are functions of
//! (seed, circuit, stage, night): nothing is stored per job.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::http::Req;
use super::monitor::unit;
use super::reply::Reply;
use super::world::{Ids, World, guid};
use crate::domain::Stage;

pub const BATCH_JOBS_API: &str = "2020-09-01-dataplanepreview";

/// How many nights of jobs exist before the scenario starts.
const HISTORY_NIGHTS: i64 = 14;

/// Which nights went wrong.
#[derive(Debug, Clone, Default)]
pub struct JobPlan {
    /// The night (days since the epoch) of the scenario's start: older runs may fail at
    /// random, newer ones only as planned.
    pub start_day: i64,
    /// The circuit whose Prod run failed, and the night it ran.
    pub failing: Option<(usize, i64)>,
    /// The circuit whose Prod schedule stopped, and the last night it ran.
    pub stale: Option<(usize, i64)>,
    /// Job name -> (circuit, stage, night), built on first use.
    index: HashMap<String, (usize, Stage, i64)>,
    index_through: i64,
    /// Jobs started through the API (retries), oldest first.
    pub invoked: Vec<super::job_invoke::Invoked>,
    /// Whether a job started now fails (`POST /_sim/jobs/retries {"fail": true}`).
    pub retries_fail: bool,
    /// Where the batch endpoints' `scoringUri` points (this simulator's `/mlapi`); empty
    /// until the simulator listens.
    pub scoring_base: String,
}

/// One night's job of a deployment, as it stands at some instant.
#[derive(Debug, Clone)]
pub struct SimJob {
    pub name: String,
    pub circuit: usize,
    pub stage: Stage,
    pub day: i64,
    pub submitted: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub status: &'static str,
    pub error: Option<(&'static str, String)>,
    /// A job started through the API: the `inputData` it was given.
    pub invoked: Option<Value>,
}

fn midnight(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(day * 86_400, 0).unwrap_or_default()
}

fn day_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

fn stage_no(stage: Stage) -> u64 {
    if stage == Stage::Prod { 2 } else { 1 }
}

/// When a deployment's nightly job is submitted.
pub fn submitted_at(c: usize, stage: Stage, day: i64) -> DateTime<Utc> {
    let minutes = 60 + (c as i64 * 7) % 180 + if stage == Stage::Prod { 0 } else { 30 };
    midnight(day) + Duration::minutes(minutes)
}

fn run_minutes(seed: u64, c: usize, stage: Stage, day: i64) -> f64 {
    6.0 + 16.0 * unit(seed, &[11, c as u64, stage_no(stage), day as u64])
}

fn job_name(seed: u64, c: usize, stage: Stage, day: i64) -> String {
    format!(
        "batchjob-{}",
        guid(&format!("job:{seed}:{c}:{}:{day}", stage_no(stage)))
    )
}

/// The reasons a nightly scoring run fails, as Azure ML reports them.
fn failure(w: &World, c: usize, day: i64, pick: f64) -> (&'static str, String) {
    let r = &w.fleet.circuits[c].r;
    let date = midnight(day - 1).format("%Y-%m-%d");
    if pick < 0.4 {
        (
            "UserError",
            format!(
                "Execution failed. User process 'python' exited with status code 1. Please check log file 'user_logs/std_log.txt' for error details. Error: FileNotFoundError: [Errno 2] No such file or directory: '/mnt/azureml/cr/j/inputs/sensor_readings/{date}/{}_{}.parquet'",
                r.plant, r.circuit
            ),
        )
    } else if pick < 0.65 {
        (
            "UserError",
            "Mini batch 'minibatch_3' failed and the error threshold (0) was exceeded: ValueError: Input contains NaN, infinity or a value too large for dtype('float32').".into(),
        )
    } else if pick < 0.85 {
        (
            "SystemError",
            "The compute target 'cpu-batch-cluster' lost its nodes (low-priority VMs were preempted) and the job could not be rescheduled within the timeout.".into(),
        )
    } else {
        (
            "UserError",
            "The scoring process was killed: the memory limit of the node (14 GB) was exceeded while loading 1,440 rows per mini batch.".into(),
        )
    }
}

impl JobPlan {
    /// Pick the failing and the stopped circuits: neither the incident nor a drift-alert
    /// circuit, so that each story has its own row.
    pub fn new(w: &World, incident: usize) -> JobPlan {
        let n = w.fleet.circuits.len();
        let start = w.clock;
        let start_day = day_of(start);
        let busy: Vec<usize> = w.monitor.alert_circuits().collect();
        let pick = |from: usize, taken: &[usize]| {
            (0..n)
                .map(|k| (from + k) % n)
                .find(|c| !busy.contains(c) && !taken.contains(c) && *c != incident)
        };
        let failing = pick(incident + n / 2, &[]).map(|c| {
            // Last night's run: the newest that had finished by the start.
            let mut day = start_day;
            while submitted_at(c, Stage::Prod, day)
                + Duration::seconds((run_minutes(w.seed, c, Stage::Prod, day) * 60.0) as i64)
                > start
            {
                day -= 1;
            }
            (c, day)
        });
        let taken: Vec<usize> = failing.iter().map(|f| f.0).collect();
        let stale = if n > 2 {
            pick(incident + n / 3, &taken).map(|c| (c, start_day - 3))
        } else {
            None
        };
        JobPlan {
            start_day,
            failing,
            stale,
            index: HashMap::new(),
            index_through: i64::MIN,
            invoked: Vec::new(),
            retries_fail: false,
            scoring_base: String::new(),
        }
    }

    fn first_day(&self) -> i64 {
        self.start_day - HISTORY_NIGHTS
    }

    /// The nights a deployment has a job for, as of `now`, newest first.
    fn nights(&self, c: usize, stage: Stage, now: DateTime<Utc>) -> Vec<i64> {
        let last = match self.stale {
            Some((s, last)) if s == c && stage == Stage::Prod => last.min(day_of(now)),
            _ => day_of(now),
        };
        (self.first_day()..=last)
            .rev()
            .filter(|d| submitted_at(c, stage, *d) <= now)
            .collect()
    }
}

/// A deployment's job of one night as it stands at `now`.
pub fn job(w: &World, c: usize, stage: Stage, day: i64, now: DateTime<Utc>) -> SimJob {
    let submitted = submitted_at(c, stage, day);
    let started = submitted + Duration::seconds(90);
    let ended = submitted + Duration::seconds((run_minutes(w.seed, c, stage, day) * 60.0) as i64);
    let plan = &w.jobs;
    let failed_as_planned = stage == Stage::Prod && plan.failing == Some((c, day));
    let roll = unit(w.seed, &[12, c as u64, stage_no(stage), day as u64]);
    let failed_at_random = day < plan.start_day - 2 && roll < 0.02;
    let (status, error) = if now < started {
        ("Queued", None)
    } else if now < ended {
        ("Running", None)
    } else if failed_as_planned {
        ("Failed", Some(failure(w, c, day, 0.0)))
    } else if failed_at_random {
        ("Failed", Some(failure(w, c, day, roll / 0.02)))
    } else {
        ("Completed", None)
    };
    SimJob {
        name: job_name(w.seed, c, stage, day),
        circuit: c,
        stage,
        day,
        submitted,
        started: (now >= started).then_some(started),
        ended: (now >= ended).then_some(ended),
        status,
        error,
        invoked: None,
    }
}

/// Every job of a deployment at `now` (its nights' and those started through the API),
/// newest first.
pub fn jobs_of(w: &World, c: usize, stage: Stage, now: DateTime<Utc>) -> Vec<SimJob> {
    let mut all: Vec<SimJob> = w
        .jobs
        .nights(c, stage, now)
        .into_iter()
        .map(|d| job(w, c, stage, d, now))
        .chain(super::job_invoke::of(w, c, stage, now))
        .collect();
    all.sort_by(|a, b| b.submitted.cmp(&a.submitted).then(b.name.cmp(&a.name)));
    all
}

/// Whether a job of this name exists in any workspace (names are unique in a workspace).
pub fn name_taken(w: &mut World, name: &str, now: DateTime<Utc>) -> bool {
    super::job_invoke::find(w, name, now).is_some() || find(w, name, now).is_some()
}

/// A job of `stage` by name, nightly or started through the API.
fn job_named(w: &mut World, name: &str, stage: Stage, now: DateTime<Utc>) -> Option<SimJob> {
    if let Some(j) = super::job_invoke::find(w, name, now) {
        return (j.stage == stage).then_some(j);
    }
    let (c, js, day) = find(w, name, now)?;
    (js == stage).then(|| job(w, c, js, day, now))
}

/// Find a job by name (Test and Prod of every circuit, every night so far).
fn find(w: &mut World, name: &str, now: DateTime<Utc>) -> Option<(usize, Stage, i64)> {
    let today = day_of(now);
    if w.jobs.index_through < today {
        let first = w.jobs.first_day();
        let seed = w.seed;
        let mut index = std::mem::take(&mut w.jobs.index);
        for c in 0..w.fleet.circuits.len() {
            for stage in [Stage::Test, Stage::Prod] {
                for day in first..=today {
                    index.insert(job_name(seed, c, stage, day), (c, stage, day));
                }
            }
        }
        w.jobs.index = index;
        w.jobs.index_through = today;
    }
    let (c, stage, day) = *w.jobs.index.get(&name.to_ascii_lowercase())?;
    w.jobs
        .nights(c, stage, now)
        .contains(&day)
        .then_some((c, stage, day))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn workspace_path(w: &World, stage: Stage) -> String {
    let i = Ids::ws_index(stage);
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
        w.ids.subscription, w.ids.rg[i], w.ids.workspace[i]
    )
}

/// `BatchJobResource`.
pub fn job_json(w: &World, j: &SimJob, endpoint: &str, deployment: &str) -> Value {
    let r = &w.fleet.circuits[j.circuit].r;
    let ws = workspace_path(w, j.stage);
    let night = midnight(j.day - 1).format("%Y-%m-%d");
    let modified = j.ended.or(j.started).unwrap_or(j.submitted);
    let (input_data, output_path, created_by) = match &j.invoked {
        Some(inputs) => (
            inputs.clone(),
            format!("forecasts/invoked/{}/", j.name),
            "relcon",
        ),
        None => (
            json!({
                "sensor_readings": {
                    "jobInputType": "UriFolder",
                    "uri": format!("azureml://datastores/workspaceblobstore/paths/sensor_readings/{night}/{}_{}/", r.plant, r.circuit),
                    "mode": "ReadOnlyMount",
                }
            }),
            format!("forecasts/{night}/{}_{}/", r.plant, r.circuit),
            "forecast-scheduler",
        ),
    };
    json!({
        "id": format!("{ws}/batchEndpoints/{endpoint}/deployments/{deployment}/jobs/{}", j.name),
        "name": j.name,
        "type": "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments/jobs",
        "properties": {
            "status": j.status,
            "provisioningState": match j.status {
                "Completed" => "Succeeded",
                "Failed" => "Failed",
                _ => "InProgress",
            },
            "name": j.name,
            "description": format!("Nightly scoring of {r} ({})", j.stage),
            "inputData": input_data,
            "outputData": {
                "score": {
                    "jobOutputType": "UriFolder",
                    "uri": format!("azureml://datastores/workspaceblobstore/paths/{output_path}"),
                    "mode": "ReadWriteMount",
                }
            },
            "tags": {
                "azureml.batchrun": "true",
                "azureml.deploymentname": deployment,
                "azureml.jobtype": "azureml.pipelinejob",
                "plant_id": r.plant.to_string(),
                "circuit_id": r.circuit.to_string(),
            },
            "properties": {
                "azureml.endpointname": endpoint,
                "azureml.deploymentname": deployment,
                "runSource": "BatchDeployment",
                "azureml.runLineageType": "batchDeployment",
            },
            "interactionEndpoints": {
                "Studio": {
                    "endpoint": format!("https://ml.azure.com/runs/{}?wsid={ws}", j.name),
                    "jobEndpointType": "Studio",
                }
            },
            "retrySettings": {"maxRetries": 3, "timeout": "PT5M"},
            "miniBatchSize": 10,
            "errorThreshold": 0,
            "loggingLevel": "Info",
            "maxConcurrencyPerInstance": 2,
        },
        "systemData": {
            "createdAt": time(j.submitted),
            "createdBy": created_by,
            "createdByType": "Application",
            "lastModifiedAt": time(modified),
            "lastModifiedBy": created_by,
            "lastModifiedByType": "Application",
        },
    })
}

/// Run history's `Run`.
fn run_json(w: &World, j: &SimJob) -> Value {
    let r = &w.fleet.circuits[j.circuit].r;
    let mut v = json!({
        "runId": j.name,
        "runUuid": guid(&format!("run:{}", j.name)),
        "rootRunId": j.name,
        "experimentId": guid(&format!("experiment:{}", w.fleet.circuits[j.circuit].r)),
        "status": j.status,
        "createdUtc": time(j.submitted),
        "displayName": format!("nightly scoring {r}"),
        "name": j.name,
        "runType": "azureml.PipelineRun",
        "target": "cpu-batch-cluster",
        "description": format!("Nightly scoring of {r} ({})", j.stage),
        "tags": {"azureml.batchrun": "true", "plant_id": r.plant.to_string(), "circuit_id": r.circuit.to_string()},
        "properties": {"azureml.runsource": "azureml.PipelineRun", "runSource": "BatchDeployment"},
        "warnings": [],
    });
    if let Some(s) = j.started {
        v["startTimeUtc"] = json!(time(s));
    }
    if let Some(e) = j.ended {
        v["endTimeUtc"] = json!(time(e));
    }
    if let Some((code, message)) = &j.error {
        v["error"] = json!({
            "error": {
                "code": code,
                "message": message,
                "messageFormat": "{message}",
                "target": "batchscoring",
            },
            "correlation": {"operation": guid(&format!("op:{}", j.name))},
            "environment": w.ids.location,
            "location": w.ids.location,
            "time": time(j.ended.unwrap_or(j.submitted)),
        });
    }
    v
}

/// A short route name for `/_sim/stats`.
pub fn route_name(segs: &[String]) -> &'static str {
    let is = |i: usize, lit: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    if is(0, "history") {
        "runs"
    } else if segs.last().is_some_and(|s| s.eq_ignore_ascii_case("jobs")) {
        "batchJobs"
    } else if is(0, "mferp") {
        "batchJob"
    } else {
        "unknown"
    }
}

pub(super) fn not_found(req: &Req) -> Reply {
    Reply::arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("The requested path '{}' was not found.", req.path),
    )
}

/// The workspace a data-plane path names: `subscriptions/{s}/resourceGroups/{rg}/providers/
/// Microsoft.MachineLearningServices/workspaces/{ws}`, from `segs[at]` on.
pub(super) fn workspace(w: &World, segs: &[String], at: usize) -> Option<Stage> {
    let s = |i: usize| segs.get(at + i).map(String::as_str).unwrap_or_default();
    let ok = s(0).eq_ignore_ascii_case("subscriptions")
        && s(1).eq_ignore_ascii_case(&w.ids.subscription)
        && s(2).eq_ignore_ascii_case("resourceGroups")
        && s(4).eq_ignore_ascii_case("providers")
        && s(5).eq_ignore_ascii_case("Microsoft.MachineLearningServices")
        && s(6).eq_ignore_ascii_case("workspaces");
    if !ok {
        return None;
    }
    [Stage::Test, Stage::Prod].into_iter().find(|st| {
        let i = Ids::ws_index(*st);
        w.ids.rg[i].eq_ignore_ascii_case(s(3)) && w.ids.workspace[i].eq_ignore_ascii_case(s(7))
    })
}

/// Every `/mlapi/...` service route (the discovery document is served apart, without auth).
pub fn handle(w: &mut World, req: &Req) -> Reply {
    let segs = &req.segs;
    if req.method == Method::POST {
        return super::job_invoke::post(w, req);
    }
    if req.method != Method::GET {
        return Reply::arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!(
                "The requested resource does not support http method '{}'.",
                req.method
            ),
        );
    }
    let is = |i: usize, lit: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    if is(0, "mferp") && is(1, "managementfrontend") {
        let version = req.q("api-version").unwrap_or_default();
        if version != BATCH_JOBS_API {
            return Reply::arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{version}' is invalid. The supported versions are '{BATCH_JOBS_API}'."
                ),
            );
        }
        let Some(stage) = workspace(w, segs, 2) else {
            return not_found(req);
        };
        let rest = &segs[10..];
        let is_rest =
            |i: usize, lit: &str| rest.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
        if !(is_rest(0, "batchEndpoints") && is_rest(2, "deployments") && is_rest(4, "jobs")) {
            return not_found(req);
        }
        let (endpoint, deployment) = (&rest[1], &rest[3]);
        let Some(c) = circuit_of(w, stage, endpoint, deployment) else {
            return Reply::arm_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("Deployment '{deployment}' of batch endpoint '{endpoint}' was not found."),
            );
        };
        return match rest.len() {
            5 => list(w, req, c, stage, endpoint, deployment),
            6 => match job_named(w, &rest[5], stage, req.now) {
                Some(j) if j.circuit == c => Reply::ok(&job_json(w, &j, endpoint, deployment)),
                _ => Reply::arm_error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("Job '{}' was not found.", rest[5]),
                ),
            },
            _ => not_found(req),
        };
    }
    if is(0, "history") && is(1, "v1.0") {
        // The version is the path's; an api-version, if sent, must be that one.
        if let Some(v) = req.q("api-version")
            && v != "v1.0"
        {
            return Reply::arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                &format!("The api-version '{v}' is invalid for run history; use v1.0."),
            );
        }
        let Some(stage) = workspace(w, segs, 2) else {
            return not_found(req);
        };
        let rest = &segs[10..];
        if rest.len() != 2 || !rest[0].eq_ignore_ascii_case("runs") {
            return not_found(req);
        }
        return match job_named(w, &rest[1], stage, req.now) {
            Some(j) => Reply::ok(&run_json(w, &j)),
            _ => Reply::arm_error(
                StatusCode::NOT_FOUND,
                "RunNotFound",
                &format!("Run {} was not found in the workspace.", rest[1]),
            ),
        };
    }
    not_found(req)
}

/// The circuit whose `stage` deployment this is.
pub fn circuit_of(w: &World, stage: Stage, endpoint: &str, deployment: &str) -> Option<usize> {
    let ws = &w.workspaces[Ids::ws_index(stage)];
    let e = ws.endpoint(endpoint)?;
    let d = ws.endpoints[e]
        .deployments
        .iter()
        .position(|d| d.name.eq_ignore_ascii_case(deployment))?;
    let slot = if stage == Stage::Prod { 1 } else { 0 };
    w.circuit_deployments
        .iter()
        .position(|x| x[slot] == Some((e, d)))
}

fn list(w: &World, req: &Req, c: usize, stage: Stage, endpoint: &str, deployment: &str) -> Reply {
    let jobs = jobs_of(w, c, stage, req.now);
    let offset = match req.q("$skip") {
        None => 0,
        Some(t) => match super::paging::decode_skip(t) {
            Some(o) => o,
            None => {
                return Reply::arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidSkipToken",
                    "The $skip token is not valid; use the nextLink of the previous page as is.",
                );
            }
        },
    };
    let size = super::paging::arm_page_size(req.page_size, None);
    let (page, next) = super::paging::arm_page(&jobs, offset, size);
    let mut body = json!({"value": page.iter().map(|j| job_json(w, j, endpoint, deployment)).collect::<Vec<_>>()});
    if let Some(next) = next {
        let q = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skip"))
            .map(|(k, v)| format!("{}={}", super::paging::encode(k), super::paging::encode(v)))
            .chain([format!("$skip={}", super::paging::encode_skip(next))])
            .collect::<Vec<_>>()
            .join("&");
        body["nextLink"] = json!(format!("{}{}?{q}", req.base, req.path));
    }
    Reply::ok(&body)
}

/// The workspace discovery document: where the regional APIs are (all here).
pub fn discovery_json(base: &str) -> Value {
    json!({
        "api": format!("{base}/mlapi"),
        "catalog": format!("{base}/mlapi"),
        "experimentation": format!("{base}/mlapi"),
        "history": format!("{base}/mlapi"),
        "modelmanagement": format!("{base}/mlapi"),
        "pipelines": format!("{base}/mlapi"),
        "studiofrontend": "https://ml.azure.com",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deployment_scores_nightly_and_the_planned_nights_go_wrong() {
        let w = super::super::scenario::tests::demo_world();
        let now = w.clock;
        let (failing, night) = w.jobs.failing.unwrap();
        let prod = jobs_of(&w, failing, Stage::Prod, now);
        assert_eq!(prod[0].day, night);
        assert_eq!(prod[0].status, "Failed");
        assert!(
            prod[0]
                .error
                .as_ref()
                .unwrap()
                .1
                .contains("FileNotFoundError")
        );
        assert!(prod.len() >= 14, "{} nights", prod.len());
        assert!(prod.windows(2).all(|p| p[0].submitted > p[1].submitted));
        let (stale, last) = w.jobs.stale.unwrap();
        let newest = &jobs_of(&w, stale, Stage::Prod, now)[0];
        assert_eq!(newest.day, last);
        assert!(now - newest.submitted > Duration::hours(26));
        // Test keeps its schedule; the incident scores fine.
        assert!(now - jobs_of(&w, stale, Stage::Test, now)[0].submitted < Duration::hours(26));
        let incident = w.scenario.incident_circuit.parse().unwrap();
        let ic = w.circuit_index(&incident).unwrap();
        assert_eq!(jobs_of(&w, ic, Stage::Prod, now)[0].status, "Completed");
        assert_ne!(failing, stale);
        // Next night, the failing circuit runs again and succeeds.
        let later = now + Duration::days(1);
        let next = &jobs_of(&w, failing, Stage::Prod, later)[0];
        assert_eq!((next.day, next.status), (night + 1, "Completed"));
    }
}
