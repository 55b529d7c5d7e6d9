//! Starting a batch job on the simulated data plane: `POST` on a batch endpoint's
//! `scoringUri` (`{mfe}/.../batchEndpoints/{e}/jobs`, `BatchJobEndpoint_Create`, the
//! deployment named by the `azureml-model-deployment` header, else the endpoint's default), or
//! on `.../deployments/{d}/jobs` (`BatchJobDeployment_Create`). The body is a
//! `BatchJobResource` whose `properties.inputData` keys are read in camelCase or PascalCase
//! (the swagger's and Learn's spellings); a client-chosen `properties.name` is kept, and a
//! second job with a name already taken is refused with 409, so a client that re-sends after a
//! lost answer is caught. The job is queued, runs for a minute and a half, and completes
//! (or fails again while `/_sim/jobs/retries {"fail": true}` says so); it appears in the
//! deployment's job list and run history like a nightly run.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::http::Req;
use super::jobs::{BATCH_JOBS_API, SimJob};
use super::reply::Reply;
use super::world::{Ids, World, guid};
use crate::domain::Stage;

/// From submission to start, and to the end, of an invoked job (simulated time).
const QUEUED: Duration = Duration::seconds(20);
const RUNS: Duration = Duration::seconds(90);

/// A job started through the API.
#[derive(Debug, Clone)]
pub struct Invoked {
    pub name: String,
    pub circuit: usize,
    pub stage: Stage,
    pub submitted: DateTime<Utc>,
    /// `inputData` as received, keys and fields in camelCase.
    pub inputs: Value,
    pub description: String,
    /// Whether it fails (the world said so when it was started).
    pub fails: bool,
}

impl Invoked {
    /// The job as it stands at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> SimJob {
        let started = self.submitted + QUEUED;
        let ended = self.submitted + QUEUED + RUNS;
        let (status, error) = if now < started {
            ("Queued", None)
        } else if now < ended {
            ("Running", None)
        } else if self.fails {
            (
                "Failed",
                Some((
                    "UserError",
                    "Execution failed. User process 'python' exited with status code 1. Error: FileNotFoundError: the input partition is still missing.".to_owned(),
                )),
            )
        } else {
            ("Completed", None)
        };
        SimJob {
            name: self.name.clone(),
            circuit: self.circuit,
            stage: self.stage,
            day: self.submitted.timestamp().div_euclid(86_400),
            submitted: self.submitted,
            started: (now >= started).then_some(started),
            ended: (now >= ended).then_some(ended),
            status,
            error,
            invoked: Some(self.inputs.clone()),
        }
    }
}

/// A key of `o` by case-insensitive name.
fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `inputData` in camelCase, or why the body cannot be taken.
fn inputs_of(body: &Value) -> Result<(Value, Option<String>, Option<String>), String> {
    let props = body
        .as_object()
        .and_then(|o| field(o, "properties"))
        .and_then(Value::as_object)
        .ok_or("The request body has no 'properties' object (a BatchJobResource).")?;
    let data = field(props, "inputData")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or("properties.inputData is required and must name at least one input.")?;
    let mut out = Map::new();
    for (name, input) in data {
        let i = input
            .as_object()
            .ok_or_else(|| format!("Input '{name}' is not an object."))?;
        let kind = field(i, "jobInputType")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Input '{name}' has no jobInputType."))?;
        let known = [
            "UriFile",
            "UriFolder",
            "MLTable",
            "Literal",
            "CustomModel",
            "MLFlowModel",
            "TritonModel",
        ];
        let Some(kind) = known.iter().find(|k| k.eq_ignore_ascii_case(kind)) else {
            return Err(format!(
                "Input '{name}': jobInputType '{kind}' is not one of {known:?}."
            ));
        };
        let mut o = Map::new();
        o.insert("jobInputType".into(), json!(kind));
        if *kind == "Literal" {
            let v =
                field(i, "value").ok_or_else(|| format!("Literal input '{name}' has no value."))?;
            o.insert("value".into(), v.clone());
        } else {
            let u = field(i, "uri")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| format!("Input '{name}' has no uri."))?;
            o.insert("uri".into(), json!(u));
        }
        if let Some(m) = field(i, "mode") {
            o.insert("mode".into(), m.clone());
        }
        out.insert(name.clone(), Value::Object(o));
    }
    let name = field(props, "name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|n| !n.is_empty());
    let description = field(props, "description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((Value::Object(out), name, description))
}

fn bad(message: &str) -> Reply {
    Reply::ml_error(StatusCode::BAD_REQUEST, "UserError", message)
}

/// `POST` a batch job: on an endpoint's `jobs` (its `scoringUri`) or a deployment's.
pub fn post(w: &mut World, req: &Req) -> Reply {
    let segs = &req.segs;
    let is = |i: usize, lit: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    if !(is(0, "mferp") && is(1, "managementfrontend")) {
        return Reply::arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The requested resource does not support http method 'POST'.",
        );
    }
    let Some(stage) = super::jobs::workspace(w, segs, 2) else {
        return super::jobs::not_found(req);
    };
    let rest: Vec<&str> = segs[10..].iter().map(String::as_str).collect();
    let lit = |s: &str, l: &str| s.eq_ignore_ascii_case(l);
    match rest[..] {
        [b, e, j] if lit(b, "batchEndpoints") && lit(j, "jobs") => invoke(w, req, stage, e, None),
        [b, e, d, dn, j] if lit(b, "batchEndpoints") && lit(d, "deployments") && lit(j, "jobs") => {
            invoke(w, req, stage, e, Some(dn))
        }
        _ => super::jobs::not_found(req),
    }
}

/// `POST` a job on `endpoint` (and `deployment` when the path names it) of `stage`.
pub fn invoke(
    w: &mut World,
    req: &Req,
    stage: Stage,
    endpoint: &str,
    path_deployment: Option<&str>,
) -> Reply {
    if let Some(v) = req.q("api-version")
        && v != BATCH_JOBS_API
    {
        return Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{v}' is invalid. The supported versions are '{BATCH_JOBS_API}'."
            ),
        );
    }
    let ws = &w.workspaces[Ids::ws_index(stage)];
    let Some(e) = ws.endpoint(endpoint) else {
        return Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Batch endpoint {endpoint} not found."),
        );
    };
    let deployment = path_deployment
        .map(str::to_owned)
        .or_else(|| req.model_deployment.clone())
        .unwrap_or_else(|| ws.endpoints[e].default_deployment.clone());
    let Some(c) = super::jobs::circuit_of(w, stage, endpoint, &deployment) else {
        return Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Deployment '{deployment}' of batch endpoint '{endpoint}' was not found."),
        );
    };
    let body = match req.json() {
        Ok(b) => b,
        Err(e) => return bad(&e),
    };
    let (inputs, name, description) = match inputs_of(&body) {
        Ok(x) => x,
        Err(e) => return bad(&e),
    };
    let name = name.unwrap_or_else(|| {
        format!(
            "batchjob-{}",
            guid(&format!("invoke:{}:{}", w.seed, w.jobs.invoked.len()))
        )
    });
    if super::jobs::name_taken(w, &name, req.now) {
        return Reply::ml_error(
            StatusCode::CONFLICT,
            "UserError",
            &format!("A job named '{name}' already exists in the workspace; job names are unique."),
        );
    }
    let job = Invoked {
        name: name.to_ascii_lowercase(),
        circuit: c,
        stage,
        submitted: req.now,
        inputs,
        description: description.unwrap_or_else(|| "Batch job".into()),
        fails: w.jobs.retries_fail,
    };
    let at = job.at(req.now);
    w.jobs.invoked.push(job);
    Reply::json(
        StatusCode::OK,
        &super::jobs::job_json(w, &at, endpoint, &deployment),
    )
}

/// The invoked jobs of a deployment at `now`.
pub fn of(w: &World, c: usize, stage: Stage, now: DateTime<Utc>) -> Vec<SimJob> {
    w.jobs
        .invoked
        .iter()
        .filter(|j| j.circuit == c && j.stage == stage && j.submitted <= now)
        .map(|j| j.at(now))
        .collect()
}

/// An invoked job by name.
pub fn find(w: &World, name: &str, now: DateTime<Utc>) -> Option<SimJob> {
    w.jobs
        .invoked
        .iter()
        .find(|j| j.name.eq_ignore_ascii_case(name) && j.submitted <= now)
        .map(|j| j.at(now))
}
