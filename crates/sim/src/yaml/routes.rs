//! The YAML face's routes under `/devops/{org}/{project}/_apis/`: `pipelines/…` (pipelines,
//! runs, approvals, check configurations), `build/builds/…` (builds, timelines, stages) and
//! `distributedtask/environments/…` (environments and their deployment records). Each route
//! says what it decides where Microsoft's documents are silent.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::act::{self, Decision};
use super::json::{self as j, ApprovalExpand};
use super::view::{self, Run};
use super::{EnvKind, Pipe, RECORD_PAGE};
use crate::http::Req;
use crate::paging;
use crate::reply::Reply;
use crate::world::World;

/// A short name for the route, for `/_sim/stats` (`rest` starts after `_apis`).
pub fn route_name(rest: &[&str]) -> &'static str {
    match rest {
        ["pipelines", "approvals"] => "yaml.approvals",
        ["pipelines", "approvals", _] => "yaml.approval",
        ["pipelines", "checks", "configurations", ..] => "yaml.checks",
        ["pipelines"] => "yaml.pipelines",
        ["pipelines", _] => "yaml.pipeline",
        ["pipelines", _, "runs"] => "yaml.runs",
        ["pipelines", _, "runs", _] => "yaml.run",
        ["build", "builds"] => "yaml.builds",
        ["build", "builds", _] => "yaml.build",
        ["build", "builds", _, "timeline", ..] => "yaml.timeline",
        ["build", "builds", _, "stages", _] => "yaml.stage",
        ["distributedtask", "environments"] => "yaml.environments",
        ["distributedtask", "environments", _] => "yaml.environment",
        [
            "distributedtask",
            "environments",
            _,
            "environmentdeploymentrecords",
        ] => "yaml.deploymentRecords",
        _ => "unknown",
    }
}

/// Azure DevOps' error body (`$id`, `message`, `typeName`, `typeKey`, `errorCode`, `eventId`).
fn error(status: StatusCode, type_key: &str, message: &str) -> Reply {
    Reply::devops_error(status, type_key, message)
}

fn bad_request(type_key: &str, message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, type_key, message)
}

fn not_found(req: &Req) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        &format!(
            "VS800005: The requested resource '{}' does not exist.",
            req.path
        ),
    )
}

/// Which api-versions a route takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Versions {
    /// Released at 7.1 (its preview forms are accepted too, as the service does).
    Released,
    /// Preview only: `7.1-preview.1`; a plain `7.1` is refused.
    Preview,
}

/// Decided: an absent api-version is accepted on released routes (the service then answers
/// its latest released version); a preview route refuses a version without `-preview`, and
/// any route refuses a version above 7.1.
fn check_version(req: &Req, v: Versions) -> Result<(), Reply> {
    let given = req
        .q("api-version")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let Some(given) = given else {
        return match v {
            Versions::Released => Ok(()),
            Versions::Preview => Err(bad_request(
                "VssVersionNotSpecifiedException",
                "No api-version was supplied for the request. The -preview flag must be supplied: api-version=7.1-preview.1.",
            )),
        };
    };
    let (number, preview) = match given.split_once('-') {
        Some((n, p)) => (n, Some(p)),
        None => (given, None),
    };
    let mut parts = number.split('.').map(|p| p.parse::<u32>());
    let (major, minor) = match (parts.next(), parts.next().unwrap_or(Ok(0))) {
        (Some(Ok(a)), Ok(b)) => (a, b),
        _ => {
            return Err(bad_request(
                "VssInvalidApiVersionException",
                &format!("The api-version '{given}' is not valid: use a version like 7.1."),
            ));
        }
    };
    if (major, minor) > (7, 1) {
        return Err(bad_request(
            "VssVersionOutOfRangeException",
            &format!(
                "The requested REST API version of {given} is out of range for this server. The latest REST API version this server supports is 7.1."
            ),
        ));
    }
    if v == Versions::Preview
        && !preview.is_some_and(|p| p.to_ascii_lowercase().starts_with("preview"))
    {
        return Err(bad_request(
            "VssInvalidPreviewVersionException",
            &format!(
                "The requested version \"{given}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{given}-preview\""
            ),
        ));
    }
    Ok(())
}

/// `rest` starts after `_apis` (`pipelines`, `build` or `distributedtask` first).
pub fn handle(w: &mut World, req: &Req, rest: &[&str]) -> Reply {
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let versions = match l.as_slice() {
        ["pipelines", "checks", ..] => Versions::Preview,
        _ => Versions::Released,
    };
    if let Err(r) = check_version(req, versions) {
        return r;
    }
    let m = req.method.clone();
    match l.as_slice() {
        ["pipelines", "approvals"] if m == Method::GET => approvals_query(w, req),
        ["pipelines", "approvals"] if m == Method::PATCH => approvals_update(w, req),
        ["pipelines", "approvals", _] if m == Method::GET => approval_get(w, req, rest[2]),
        ["pipelines", "checks", "configurations"] if m == Method::GET => checks_list(w, req),
        ["pipelines", "checks", "configurations", id] if m == Method::GET => checks_get(w, req, id),
        ["pipelines"] if m == Method::GET => pipelines_list(w, req),
        ["pipelines", id] if m == Method::GET => match pipe(id) {
            Some(p) => Reply::ok(&j::pipeline_json(w, &req.base, p)),
            None => pipeline_not_found(id),
        },
        ["pipelines", id, "runs"] if m == Method::GET => match pipe(id) {
            Some(p) => runs_list(w, req, p),
            None => pipeline_not_found(id),
        },
        ["pipelines", id, "runs"] if m == Method::POST => match pipe(id) {
            Some(p) => run_pipeline(w, req, p),
            None => pipeline_not_found(id),
        },
        ["pipelines", id, "runs", run] if m == Method::GET => match pipe(id) {
            Some(p) => match run_of(w, run).filter(|r| r.pipe() == p) {
                Some(r) => Reply::ok(&j::run_json(w, &req.base, r, req.now)),
                None => run_not_found(run),
            },
            None => pipeline_not_found(id),
        },
        ["build", "builds"] if m == Method::GET => builds_list(w, req),
        ["build", "builds", id] if m == Method::GET => match run_of(w, id) {
            Some(r) => Reply::ok(&j::build_json(w, &req.base, r, req.now)),
            None => build_not_found(id),
        },
        ["build", "builds", id, "timeline"] if m == Method::GET => timeline(w, req, id, None),
        ["build", "builds", id, "timeline", t] if m == Method::GET => timeline(w, req, id, Some(t)),
        ["build", "builds", id, "stages", _] if m == Method::PATCH => {
            stage_update(w, req, id, rest[4])
        }
        ["distributedtask", "environments"] if m == Method::GET => environments(w, req),
        ["distributedtask", "environments", id] if m == Method::GET => match env_of(id) {
            Some(e) => Reply::ok(&j::environment_json(w, &req.base, e)),
            None => environment_not_found(id),
        },
        [
            "distributedtask",
            "environments",
            id,
            "environmentdeploymentrecords",
        ] if m == Method::GET => match env_of(id) {
            Some(e) => records(w, req, e),
            None => environment_not_found(id),
        },
        ["pipelines", ..] | ["build", "builds", ..] | ["distributedtask", "environments", ..]
            if route_name(&l) != "unknown" =>
        {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowedException",
                &format!(
                    "The requested resource does not support http method '{}'.",
                    req.method
                ),
            )
        }
        _ => not_found(req),
    }
}

fn pipe(id: &str) -> Option<Pipe> {
    id.parse().ok().and_then(Pipe::by_id)
}

fn run_of(w: &World, id: &str) -> Option<Run> {
    id.parse().ok().and_then(|id| view::run_by_id(w, id))
}

fn env_of(id: &str) -> Option<EnvKind> {
    id.parse().ok().and_then(EnvKind::by_id)
}

fn pipeline_not_found(id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "PipelineNotFoundException",
        &format!("Pipeline with id {id} not found."),
    )
}

fn run_not_found(id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "PipelineRunNotFoundException",
        &format!("Pipeline run {id} not found."),
    )
}

fn build_not_found(id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "BuildNotFoundException",
        &format!("TF215022: The requested build {id} could not be found."),
    )
}

fn environment_not_found(id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "EnvironmentNotFoundException",
        &format!(
            "Environment {id} could not be found. The environment does not exist or you do not have permission to access it."
        ),
    )
}

fn list(values: Vec<Value>) -> Reply {
    Reply::ok(&json!({"count": values.len(), "value": values}))
}

/// `top` / `$top`: a positive integer, or the default.
fn top(req: &Req, default: usize) -> Result<usize, Reply> {
    match req.q("$top").or_else(|| req.q("top")) {
        None => Ok(default),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(bad_request(
                "InvalidArgumentValueException",
                &format!("The value '{t}' is not valid for top: give a positive integer."),
            )),
        },
    }
}

fn continuation(req: &Req) -> Result<Option<u32>, Reply> {
    match req.q("continuationToken").map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse::<u32>().map(Some).map_err(|_| {
            bad_request(
                "InvalidContinuationTokenException",
                &format!("The continuation token '{t}' is not valid."),
            )
        }),
    }
}

/// A paged `{count, value}` list with the next page's key in `x-ms-continuationtoken`.
fn paged<T>(
    req: &Req,
    items: Vec<T>,
    size: usize,
    descending: bool,
    key: impl Fn(&T) -> u32,
    json: impl Fn(&T) -> Value,
) -> Reply {
    let token = match continuation(req) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let size = req.page_size.map_or(size, |p| p.min(size));
    let (page, next) = paging::devops_page(items, key, descending, token, size);
    let reply = list(page.iter().map(json).collect());
    match next {
        Some(n) => reply.header("x-ms-continuationtoken", n.to_string()),
        None => reply,
    }
}

/// Approvals - Query. Decided: newest first (by `createdOn`); `state` filters by status (and
/// takes `all` and comma-separated lists); `userIds` keeps approvals with a step assigned to
/// one of them; `top` cuts the list (no continuation: the operation has none); steps and the
/// caller's permissions only with `$expand`.
fn approvals_query(w: &World, req: &Req) -> Reply {
    let expand = ApprovalExpand::parse(req.q("$expand"));
    let ids: Option<Vec<String>> = req
        .q("approvalIds")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_ascii_lowercase())
                .collect()
        });
    let users: Option<Vec<String>> = req.q("userIds").filter(|s| !s.trim().is_empty()).map(|s| {
        s.split(',')
            .map(|x| x.trim().to_ascii_lowercase())
            .collect()
    });
    let state = req.q("state").map(str::to_ascii_lowercase);
    let limit = match top(req, usize::MAX) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut all = view::approvals(w);
    all.reverse();
    let values: Vec<Value> = all
        .iter()
        .filter(|a| ids.as_ref().is_none_or(|ids| ids.contains(&a.id)))
        .filter(|a| {
            state.as_deref().is_none_or(|s| {
                s.split(',')
                    .any(|x| x.trim() == "all" || x.trim().eq_ignore_ascii_case(a.status))
            })
        })
        .filter(|a| {
            users.as_ref().is_none_or(|u| {
                a.steps
                    .iter()
                    .filter(|s| s.assigned != view::GROUP)
                    .any(|s| u.contains(&w.person(s.assigned).id.to_ascii_lowercase()))
            })
        })
        .take(limit)
        .map(|a| j::approval_json(w, &req.base, a, expand, req.caller))
        .collect();
    list(values)
}

fn approval_get(w: &World, req: &Req, id: &str) -> Reply {
    let expand = ApprovalExpand::parse(req.q("$expand"));
    match view::approvals(w)
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(id))
    {
        Some(a) => Reply::ok(&j::approval_json(w, &req.base, a, expand, req.caller)),
        None => approval_not_found(id),
    }
}

fn approval_not_found(id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "ApprovalNotFoundException",
        &format!("The approval {id} does not exist."),
    )
}

/// Approvals - Update: an array of `{approvalId, status, comment}`, answered `{count, value}`
/// with steps. Decided (Microsoft is silent): the caller answers their own step; an approver
/// answering twice, a requester approving where the check bars requesters, a non-approver, or
/// any answer on a completed approval is HTTP 400 with DevOps' error body; a PATCH of several
/// items is all-or-nothing. Other steps are `skipped` once `minRequiredApprovers` is reached.
fn approvals_update(w: &mut World, req: &Req) -> Reply {
    let items = match req.json() {
        Ok(Value::Array(items)) if !items.is_empty() => items,
        Ok(_) => {
            return bad_request(
                "InvalidRequestException",
                "The request body must be a non-empty JSON array of {approvalId, status, comment}.",
            );
        }
        Err(e) => return bad_request("InvalidRequestException", &e),
    };
    let mut decisions = Vec::new();
    for item in &items {
        let Some(id) = item.get("approvalId").and_then(Value::as_str) else {
            return bad_request(
                "InvalidRequestException",
                "Each item needs an 'approvalId'.",
            );
        };
        let approve = match item
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("approved") => true,
            Some("rejected") => false,
            other => {
                return bad_request(
                    "InvalidRequestException",
                    &format!(
                        "The status '{}' is not valid for an approval update; use 'approved' or 'rejected'.",
                        other.unwrap_or("")
                    ),
                );
            }
        };
        let comment = match item.get("comment") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return bad_request("InvalidRequestException", "'comment' must be a string.");
            }
        };
        decisions.push(Decision {
            approval_id: id.to_owned(),
            approve,
            comment,
        });
    }
    match act::decide_all(w, req.caller, &decisions, req.now) {
        Ok(ids) => {
            let all = view::approvals(w);
            let values = ids
                .iter()
                .filter_map(|id| all.iter().find(|a| &a.id == id))
                .map(|a| {
                    j::approval_json(w, &req.base, a, ApprovalExpand::everything(), req.caller)
                })
                .collect();
            list(values)
        }
        Err(act::Refusal::NotFound(id)) => approval_not_found(&id),
        Err(e) => bad_request(e.type_key(), &e.to_string()),
    }
}

/// Check Configurations - List. Decided: without `resourceType`/`resourceId` every
/// configuration of the project is listed; only environments carry checks here.
fn checks_list(w: &World, req: &Req) -> Reply {
    let settings = req.q("$expand").is_some_and(|e| {
        e.split(',')
            .any(|x| x.trim().eq_ignore_ascii_case("settings"))
    });
    let kind_ok = req
        .q("resourceType")
        .is_none_or(|t| t.eq_ignore_ascii_case("environment"));
    let only = req.q("resourceId").map(str::trim);
    let values = EnvKind::ALL
        .into_iter()
        .filter(|_| kind_ok)
        .filter(|e| only.is_none_or(|id| id == e.id().to_string()))
        .filter_map(|e| j::check_json(w, &req.base, e, settings))
        .collect();
    list(values)
}

fn checks_get(w: &World, req: &Req, id: &str) -> Reply {
    let settings = req.q("$expand").is_some_and(|e| {
        e.split(',')
            .any(|x| x.trim().eq_ignore_ascii_case("settings"))
    });
    match EnvKind::ALL
        .into_iter()
        .find(|e| e.check_id().to_string() == id)
        .and_then(|e| j::check_json(w, &req.base, e, settings))
    {
        Some(v) => Reply::ok(&v),
        None => error(
            StatusCode::NOT_FOUND,
            "CheckConfigurationNotFoundException",
            &format!("Check configuration with id {id} does not exist."),
        ),
    }
}

/// Pipelines - List: by id, `$top` and `continuationToken` (the next id).
fn pipelines_list(w: &World, req: &Req) -> Reply {
    let size = match top(req, paging::DEVOPS_DEFAULT_TOP) {
        Ok(t) => t,
        Err(r) => return r,
    };
    paged(
        req,
        Pipe::ALL.to_vec(),
        size,
        false,
        |p| p.id(),
        |p| j::pipeline_json(w, &req.base, *p),
    )
}

/// Runs - List: every run of the pipeline, newest first ("top 10000 runs"; not paged).
fn runs_list(w: &World, req: &Req, p: Pipe) -> Reply {
    let mut runs = view::runs_of(w, p);
    runs.sort_by_key(|r| std::cmp::Reverse(r.id(w)));
    runs.truncate(10_000);
    list(
        runs.into_iter()
            .map(|r| j::run_json(w, &req.base, r, req.now))
            .collect(),
    )
}

/// Runs - Run Pipeline. Decided: the simulator queues `rollback-pipeline` only (its
/// `templateParameters` checked at queue time: an unknown circuit, a circuit with nothing to
/// roll back to, or Dev, is 400); the other pipelines run when the world's releases do.
fn run_pipeline(w: &mut World, req: &Req, p: Pipe) -> Reply {
    let body = match req.json() {
        Ok(Value::Object(b)) => b,
        Ok(_) => {
            return bad_request(
                "InvalidRequestException",
                "The request body must be a JSON object.",
            );
        }
        Err(e) => return bad_request("InvalidRequestException", &e),
    };
    if p != Pipe::Rollback {
        return bad_request(
            "PipelineRunNotAllowedException",
            &format!(
                "The simulator runs {} when the world's releases do; queue {} to roll back.",
                p.name(),
                Pipe::Rollback.name()
            ),
        );
    }
    if body.get("previewRun").and_then(Value::as_bool) == Some(true) {
        return bad_request("InvalidRequestException", "Preview runs are not simulated.");
    }
    let params = match body.get("templateParameters") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(_) => {
            return bad_request(
                "InvalidRequestException",
                "'templateParameters' must be an object.",
            );
        }
    };
    match act::queue_rollback(w, &params, req.caller, req.now) {
        Ok(n) => Reply::ok(&j::run_json(w, &req.base, Run::Rollback(n), req.now)),
        Err(e) => bad_request("PipelineValidationException", &e.to_string()),
    }
}

/// Builds - List: `definitions`, `buildNumber`, `buildIds`, `statusFilter`, `resultFilter`,
/// `requestedFor`; newest (highest id) first unless `queryOrder` says ascending; `$top` and
/// `continuationToken` (the next id).
fn builds_list(w: &World, req: &Req) -> Reply {
    let ids = |name: &str| -> Option<Vec<u32>> {
        req.q(name)
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
    };
    let (defs, only) = (ids("definitions"), ids("buildIds"));
    let number = req.q("buildNumber").filter(|s| !s.is_empty());
    let status = req.q("statusFilter").map(str::to_ascii_lowercase);
    let result = req.q("resultFilter").map(str::to_ascii_lowercase);
    let requested = req.q("requestedFor").map(str::to_ascii_lowercase);
    let ascending = req
        .q("queryOrder")
        .is_some_and(|o| o.to_ascii_lowercase().contains("ascending"));
    let size = match top(req, paging::DEVOPS_DEFAULT_TOP) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut runs: Vec<(u32, Run)> = Vec::new();
    for p in Pipe::ALL {
        if defs.as_ref().is_some_and(|d| !d.contains(&p.id())) {
            continue;
        }
        for r in view::runs_of(w, p) {
            let id = r.id(w);
            if only.as_ref().is_some_and(|o| !o.contains(&id)) {
                continue;
            }
            if number.is_some_and(|n| !wildcard(n, &r.name(w))) {
                continue;
            }
            let (st, res) = j::build_status(r.standing(w, req.now).0);
            let keep = status
                .as_deref()
                .is_none_or(|s| s == "all" || s.eq_ignore_ascii_case(st))
                && result.as_deref().is_none_or(|s| {
                    s.split(',')
                        .any(|x| res.is_some_and(|res| x.trim().eq_ignore_ascii_case(res)))
                })
                && requested.as_deref().is_none_or(|who| {
                    let p = w.person(r.requested_for(w));
                    p.id.eq_ignore_ascii_case(who) || p.unique.eq_ignore_ascii_case(who)
                });
            if keep {
                runs.push((id, r));
            }
        }
    }
    // Only the page is written out.
    runs.sort_by_key(|(id, _)| *id);
    if !ascending {
        runs.reverse();
    }
    paged(
        req,
        runs,
        size,
        !ascending,
        |(id, _)| *id,
        |(_, r)| j::build_json(w, &req.base, *r, req.now),
    )
}

/// `buildNumber` matching: exact, case-insensitive, `*` as a wildcard (as Builds - List does).
pub(super) fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == n;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !n.starts_with(first) || n.len() < first.len() + last.len() || !n.ends_with(last) {
        return false;
    }
    let mut at = first.len();
    let end = n.len() - last.len();
    for middle in &parts[1..parts.len() - 1] {
        match n[at..end].find(middle) {
            Some(i) => at += i + middle.len(),
            None => return false,
        }
    }
    true
}

/// Timeline - Get. Decided: the path without `{timelineId}` (as Microsoft's client sends it)
/// and the run's own latest timeline id both give the latest attempt; a previous attempt's
/// `timelineId` gives that attempt's records; `changeId` is ignored (every record is sent).
fn timeline(w: &World, req: &Req, id: &str, t: Option<&str>) -> Reply {
    let Some(run) = run_of(w, id) else {
        return build_not_found(id);
    };
    match j::timeline_json(w, &req.base, run, t, req.now) {
        Some(v) => Reply::ok(&v),
        None => error(
            StatusCode::NOT_FOUND,
            "TimelineNotFoundException",
            &format!("Timeline {} of build {id} does not exist.", t.unwrap_or("")),
        ),
    }
}

/// Stages - Update. Decided: `retry` of a completed deployment stage starts a new attempt
/// (200, empty body); its environment's checks run again, so its approval is raised anew; a
/// succeeded stage needs `forceRetryAllJobs` (it has no failed jobs to retry); later stages are
/// not re-run. `cancel` is not simulated (400).
fn stage_update(w: &mut World, req: &Req, id: &str, stage: &str) -> Reply {
    let Some(run) = run_of(w, id) else {
        return build_not_found(id);
    };
    let body = match req.json() {
        Ok(Value::Object(b)) => b,
        Ok(_) => {
            return bad_request(
                "InvalidRequestException",
                "The request body must be a JSON object.",
            );
        }
        Err(e) => return bad_request("InvalidRequestException", &e),
    };
    let state = body
        .get("state")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    match state.as_deref() {
        Some("retry") => {}
        Some("cancel") => {
            return bad_request(
                "InvalidRequestException",
                "Canceling a stage is not simulated; only 'retry' is.",
            );
        }
        other => {
            return bad_request(
                "InvalidRequestException",
                &format!(
                    "The stage state '{}' is not valid; use 'retry' or 'cancel'.",
                    other.unwrap_or("")
                ),
            );
        }
    }
    let force = body
        .get("forceRetryAllJobs")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match act::retry_stage(w, run, stage, force, req.caller, req.now) {
        Ok(()) => Reply::raw(StatusCode::OK, String::new()),
        Err(e @ act::RetryRefusal::NoSuchStage { .. }) => error(
            StatusCode::NOT_FOUND,
            "StageNotFoundException",
            &e.to_string(),
        ),
        Err(e) => bad_request("InvalidRequestException", &e.to_string()),
    }
}

/// Environments - List: `name` filters (exact, case-insensitive); `$top` and
/// `continuationToken` (the next id).
fn environments(w: &World, req: &Req) -> Reply {
    let name = req.q("name").filter(|s| !s.is_empty());
    let size = match top(req, paging::DEVOPS_DEFAULT_TOP) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let envs: Vec<EnvKind> = EnvKind::ALL
        .into_iter()
        .filter(|e| name.is_none_or(|n| n.eq_ignore_ascii_case(e.name())))
        .collect();
    paged(
        req,
        envs,
        size,
        false,
        |e| e.id(),
        |e| j::environment_json(w, &req.base, *e),
    )
}

/// Environment deployment records - List. Decided: newest (highest id) first; pages of at most
/// `RECORD_PAGE` (50) whatever `top` asks, the next page's first id in
/// `x-ms-continuationtoken`; a record is written when the stage's job starts, after its checks
/// (an attempt rejected at its checks leaves none); `stageName` is the stage's YAML name.
fn records(w: &World, req: &Req, env: EnvKind) -> Reply {
    let size = match top(req, RECORD_PAGE) {
        Ok(t) => t.min(RECORD_PAGE),
        Err(r) => return r,
    };
    let recs = view::records(w, env, req.now);
    paged(
        req,
        recs,
        size,
        true,
        |r| r.id,
        |r| j::record_json_of(w, &req.base, r),
    )
}
