//! Azure DevOps: `connectionData`, Git items of the config repository at a commit, and the
//! classic Release API (releases, approvals and their decisions, redeploying an environment,
//! deployments), paged with `x-ms-continuationtoken`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::devops_json::{self as j, Expand};
use super::http::{Family, Req};
use super::machine::{DecideError, RedeployError};
use super::paging;
use super::reply::Reply;
use super::world::{ReleaseStatus, World};

/// A short name for the route, for `/_sim/stats`.
pub fn route_name(family: Family, segs: &[String]) -> &'static str {
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let s: Vec<&str> = lower.iter().map(String::as_str).collect();
    match (family, s.as_slice()) {
        (Family::DevOps, [_, "_apis", "connectiondata"]) => "connectionData",
        (Family::DevOps, [_, _, "_apis", "git", "repositories", _, "items"]) => "git.items",
        (Family::DevOps, [_, _, "_apis", "git", ..]) => "git.repositories",
        (Family::Vsrm, [_, _, "_apis", "release", "releases"]) => "releases",
        (Family::Vsrm, [_, _, "_apis", "release", "releases", _]) => "release",
        (Family::Vsrm, [_, _, "_apis", "release", "releases", _, "environments", _]) => {
            "release.environment"
        }
        (Family::Vsrm, [_, _, "_apis", "release", "approvals"]) => "approvals",
        (Family::Vsrm, [_, _, "_apis", "release", "approvals", _]) => "approval",
        (Family::Vsrm, [_, _, "_apis", "release", "deployments"]) => "deployments",
        (Family::Vsrm, [_, _, "_apis", "release", "definitions", ..]) => "definitions",
        (Family::DevOps, [_, _, "_apis", "pipelines" | "build" | "distributedtask", ..]) => {
            super::yaml::route_name(&s[3..])
        }
        _ => "unknown",
    }
}

fn not_found(req: &Req) -> Reply {
    Reply::devops_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        &format!(
            "VS800005: The requested resource '{}' does not exist.",
            req.path
        ),
    )
}

fn bad_request(message: &str) -> Reply {
    Reply::devops_error(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
}

pub fn handle(w: &mut World, req: &Req) -> Reply {
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    if s.is_empty() || !s[0].eq_ignore_ascii_case(w.ids.org) {
        return Reply::devops_error(
            StatusCode::NOT_FOUND,
            "HostNotFoundException",
            &format!(
                "TF400813: The organization '{}' was not found or you do not have access to it.",
                s.first().unwrap_or(&"")
            ),
        );
    }
    if req.family == Family::DevOps
        && req.seg_is(1, "_apis")
        && req.seg_is(2, "connectionData")
        && s.len() == 3
    {
        return match req.method {
            Method::GET => Reply::ok(&j::connection_data(w, &req.base, req.caller)),
            _ => method_not_allowed(req),
        };
    }
    let Some(project) = s.get(1) else {
        return not_found(req);
    };
    if !project.eq_ignore_ascii_case(w.ids.project)
        && !project.eq_ignore_ascii_case(&w.ids.project_id)
    {
        return Reply::devops_error(
            StatusCode::NOT_FOUND,
            "ProjectDoesNotExistWithNameException",
            &format!(
                "TF200016: The following project does not exist: {project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."
            ),
        );
    }
    if !req.seg_is(2, "_apis") {
        return not_found(req);
    }
    match req.family {
        Family::DevOps if req.seg_is(3, "git") && req.seg_is(4, "repositories") => {
            super::git::handle(w, req, &s[5..])
        }
        Family::Vsrm if req.seg_is(3, "release") => release_api(w, req, &s[4..]),
        // The Azure Pipelines (YAML) face, when the simulator serves it (`--devops yaml`).
        Family::DevOps
            if w.yaml.enabled
                && ["pipelines", "build", "distributedtask"]
                    .iter()
                    .any(|a| req.seg_is(3, a)) =>
        {
            super::yaml::handle(w, req, &s[3..])
        }
        _ => not_found(req),
    }
}

fn method_not_allowed(req: &Req) -> Reply {
    Reply::devops_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedException",
        &format!(
            "The requested resource does not support http method '{}'.",
            req.method
        ),
    )
}

fn release_api(w: &mut World, req: &Req, rest: &[&str]) -> Reply {
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match (&req.method, l.as_slice()) {
        (&Method::GET, ["releases"]) => releases(w, req),
        (&Method::GET, ["releases", id]) => with_release(w, id, |w, r| {
            Reply::ok(&j::release_json(w, &req.base, r, Expand::all(), req.now))
        }),
        (&Method::GET, ["releases", id, "environments", env]) => {
            with_release(w, id, |w, r| match env_index(w, r, env) {
                Some(e) => Reply::ok(&j::environment_json(w, &req.base, r, e, req.now)),
                None => env_not_found(w, r, env),
            })
        }
        (&Method::PATCH, ["releases", id, "environments", env]) => {
            let Some(r) = id.parse::<u32>().ok().and_then(|id| w.release_index(id)) else {
                return release_not_found(id);
            };
            match env_index(w, r, env) {
                Some(e) => redeploy(w, req, r, e),
                None => env_not_found(w, r, env),
            }
        }
        (&Method::GET, ["approvals"]) => approvals(w, req),
        (&Method::PATCH, ["approvals", id]) => decide(w, req, id),
        (&Method::GET, ["deployments"]) => deployments(w, req),
        (&Method::GET, ["definitions", id])
            if id.parse::<u32>().ok() == Some(w.ids.definition_id) =>
        {
            Reply::ok(&definition(w, req))
        }
        (&Method::GET, ["definitions", id]) => Reply::devops_error(
            StatusCode::NOT_FOUND,
            "ReleaseDefinitionNotFoundException",
            &format!("VS402854: Release definition with id {id} does not exist."),
        ),
        (_, ["releases" | "approvals" | "deployments", ..]) => method_not_allowed(req),
        _ => not_found(req),
    }
}

fn with_release(w: &World, id: &str, f: impl FnOnce(&World, usize) -> Reply) -> Reply {
    match id.parse::<u32>().ok().and_then(|id| w.release_index(id)) {
        Some(r) => f(w, r),
        None => release_not_found(id),
    }
}

fn release_not_found(id: &str) -> Reply {
    Reply::devops_error(
        StatusCode::NOT_FOUND,
        "ReleaseNotFoundException",
        &format!("VS402852: A release with id {id} does not exist."),
    )
}

fn env_index(w: &World, r: usize, env: &str) -> Option<usize> {
    let id: u32 = env.parse().ok()?;
    w.releases[r].envs.iter().position(|e| e.id == id)
}

fn env_not_found(w: &World, r: usize, env: &str) -> Reply {
    Reply::devops_error(
        StatusCode::NOT_FOUND,
        "ReleaseEnvironmentNotFoundException",
        &format!(
            "VS402853: Environment with id {env} does not exist in release {}. Use the release environment id (releases/{{id}}.environments[].id), not the definition environment id.",
            w.releases[r].id
        ),
    )
}

/// `$top` (or `top`), positive; the DevOps default when absent.
fn top(req: &Req) -> Result<usize, Reply> {
    match req.q("$top").or_else(|| req.q("top")) {
        None => Ok(paging::DEVOPS_DEFAULT_TOP),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(bad_request(&format!(
                "The value '{t}' is not valid for $top: give a positive integer."
            ))),
        },
    }
}

fn page_size(req: &Req) -> Result<usize, Reply> {
    let t = top(req)?;
    Ok(req.page_size.map_or(t, |p| p.min(t)))
}

fn continuation(req: &Req) -> Result<Option<u32>, Reply> {
    match req.q("continuationToken") {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<u32>()
            .map(Some)
            .map_err(|_| bad_request(&format!("The continuation token '{t}' is not valid."))),
    }
}

fn descending(req: &Req) -> bool {
    !req.q("queryOrder")
        .is_some_and(|o| o.eq_ignore_ascii_case("ascending"))
}

/// A DevOps list: `{count, value}` and the continuation header when more remain.
fn devops_list<T>(
    req: &Req,
    items: Vec<T>,
    key: impl Fn(&T) -> u32,
    json: impl Fn(&T) -> Value,
) -> Reply {
    let (size, token) = match (page_size(req), continuation(req)) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let (page, next) = paging::devops_page(items, key, descending(req), token, size);
    let value: Vec<Value> = page.iter().map(json).collect();
    let reply = Reply::ok(&json!({"count": value.len(), "value": value}));
    match next {
        Some(n) => reply.header("x-ms-continuationtoken", n.to_string()),
        None => reply,
    }
}

fn ids_filter(s: Option<&str>) -> Option<Vec<u32>> {
    s.filter(|s| !s.is_empty())
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

fn releases(w: &World, req: &Req) -> Reply {
    let expand = Expand::parse(req.q("$expand"));
    let definition_ok = req
        .q("definitionId")
        .is_none_or(|d| d.parse::<u32>().ok() == Some(w.ids.definition_id));
    let status = req.q("statusFilter").map(str::to_ascii_lowercase);
    let only = ids_filter(req.q("releaseIdFilter"));
    let search = req.q("searchText").map(str::to_ascii_lowercase);
    let by = req.q("createdBy");
    let tag = req.q("tagFilter");
    let (min, max) = match (time(req, "minCreatedTime"), time(req, "maxCreatedTime")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut items: Vec<usize> = (0..w.releases.len())
        .filter(|_| definition_ok)
        .filter(|&r| {
            let rel = &w.releases[r];
            let st = if rel.status == ReleaseStatus::Active {
                "active"
            } else {
                "abandoned"
            };
            status.as_deref().is_none_or(|s| s == st)
                && only.as_ref().is_none_or(|ids| ids.contains(&rel.id))
                && search.as_deref().is_none_or(|t| {
                    rel.name.to_ascii_lowercase().contains(t)
                        || rel.description.to_ascii_lowercase().contains(t)
                })
                && by.is_none_or(|b| is_person(w, rel.created_by, b))
                && tag.is_none_or(|t| {
                    t.eq_ignore_ascii_case("environment-only") == rel.env_only.is_some()
                })
                && min.is_none_or(|m| rel.created_on >= m)
                && max.is_none_or(|m| rel.created_on <= m)
        })
        .collect();
    if descending(req) {
        items.reverse();
    }
    // A release mid-deployment reads differently as time passes; the rest is cached until the
    // world changes.
    let text = |&r: &usize| -> String {
        if w.active.iter().any(|(ar, _)| *ar == r) {
            return j::release_json(w, &req.base, r, expand, req.now).to_string();
        }
        let key = (r, expand.bits());
        if let Some((rev, t)) = w.release_json_cache.borrow().get(&key)
            && *rev == w.revision
        {
            return t.clone();
        }
        let t = j::release_json(w, &req.base, r, expand, req.now).to_string();
        w.release_json_cache
            .borrow_mut()
            .insert(key, (w.revision, t.clone()));
        t
    };
    let (size, token) = match (page_size(req), continuation(req)) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let (page, next) =
        paging::devops_page(items, |&r| w.releases[r].id, descending(req), token, size);
    let values: Vec<String> = page.iter().map(text).collect();
    let reply = Reply::raw(
        StatusCode::OK,
        format!(
            "{{\"count\":{},\"value\":[{}]}}",
            values.len(),
            values.join(",")
        ),
    );
    match next {
        Some(n) => reply.header("x-ms-continuationtoken", n.to_string()),
        None => reply,
    }
}

/// A person named by id or sign-in name, as DevOps filters accept them.
fn is_person(w: &World, p: usize, who: &str) -> bool {
    let person = w.person(p);
    person.id.eq_ignore_ascii_case(who) || person.unique.eq_ignore_ascii_case(who)
}

fn time(req: &Req, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, Reply> {
    match req.q(name).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                bad_request(&format!(
                    "The value '{t}' is not valid for {name}: give an ISO 8601 time."
                ))
            }),
    }
}

fn approvals(w: &World, req: &Req) -> Reply {
    let status = req.q("statusFilter").unwrap_or("pending");
    let type_ok = req.q("typeFilter").is_none_or(|t| {
        t.split(',').any(|x| {
            x.trim().eq_ignore_ascii_case("preDeploy") || x.trim().eq_ignore_ascii_case("all")
        })
    });
    let only = ids_filter(req.q("releaseIdsFilter"));
    let mut items: Vec<usize> = (0..w.approvals.len())
        .filter(|&a| {
            let ap = &w.approvals[a];
            type_ok
                && !ap.automated
                && j::status_matches(ap, status)
                && only
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&w.releases[ap.release].id))
        })
        .collect();
    if descending(req) {
        items.reverse();
    }
    devops_list(
        req,
        items,
        |&a| w.approvals[a].id,
        |&a| j::approval_json(w, &req.base, &w.approvals[a]),
    )
}

fn decide(w: &mut World, req: &Req, id: &str) -> Reply {
    let Some(a) = id.parse::<u32>().ok().and_then(|id| w.approval_index(id)) else {
        return Reply::devops_error(
            StatusCode::NOT_FOUND,
            "ReleaseApprovalNotFoundException",
            &format!("VS402856: An approval with id {id} does not exist."),
        );
    };
    let body = match req.json() {
        Ok(Value::Object(b)) => b,
        Ok(_) => {
            return bad_request("The request body must be a JSON object with status and comments.");
        }
        Err(e) => return bad_request(&e),
    };
    let approve = match body
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("approved") => true,
        Some("rejected") => false,
        other => {
            return bad_request(&format!(
                "VS402861: The approval status '{}' is not valid; use 'approved' or 'rejected'.",
                other.unwrap_or("")
            ));
        }
    };
    let comments = match body.get("comments") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return bad_request("'comments' must be a string."),
    };
    match w.decide(a, req.caller, approve, &comments, req.now) {
        Ok(()) => Reply::ok(&j::approval_json(w, &req.base, &w.approvals[a])),
        Err(DecideError::NotPending(status)) => bad_request(&format!(
            "VS402860: The approval {id} cannot be updated: it is already {}. Only a pending approval can be approved or rejected.",
            status.as_str()
        )),
        Err(DecideError::ReleaseAbandoned) => bad_request(&format!(
            "VS402877: Release {} is abandoned; its approvals can no longer be decided.",
            w.releases[w.approvals[a].release].name
        )),
        // Microsoft documents neither the status nor the words of this refusal; this is the
        // simulator's own (docs/AZURE.md). relcon treats any 4xx refusal alike.
        Err(DecideError::RequesterMayNotApprove { created_release }) => bad_request(&format!(
            "The user {} {} and cannot approve it: the approval policy of stage {} says the user \
             requesting a release or deployment should not be an approver.",
            w.person(req.caller).display,
            if created_release {
                format!(
                    "created release {}",
                    w.releases[w.approvals[a].release].name
                )
            } else {
                "requested this deployment".to_owned()
            },
            super::world::ENV_NAMES[w.approvals[a].env.min(2)]
        )),
    }
}

fn redeploy(w: &mut World, req: &Req, r: usize, e: usize) -> Reply {
    let body = match req.json() {
        Ok(Value::Object(b)) => b,
        Ok(_) => return bad_request("The request body must be a JSON object."),
        Err(e) => return bad_request(&e),
    };
    match body.get("status").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("inProgress") => {}
        Some(s) => {
            return bad_request(&format!(
                "VS402879: Environment status '{s}' cannot be set here; set 'inProgress' to deploy or redeploy the environment."
            ));
        }
        None => {
            return bad_request(
                "'status' is required ('inProgress' deploys or redeploys the environment).",
            );
        }
    }
    if let Some(t) = body.get("scheduledDeploymentTime").filter(|t| !t.is_null()) {
        return bad_request(&format!(
            "Scheduled deployments ({t}) are not supported by this release definition."
        ));
    }
    let rel = &w.releases[r];
    let (name, env_name) = (rel.name.clone(), rel.envs[e].name);
    match w.redeploy(r, e, req.caller, req.now) {
        Ok(()) => Reply::ok(&j::environment_json(w, &req.base, r, e, req.now)),
        Err(RedeployError::Abandoned) => bad_request(&format!(
            "VS402877: Release {name} is abandoned; abandoned releases cannot be deployed."
        )),
        Err(RedeployError::AlreadyActive(_)) => bad_request(&format!(
            "VS402934: A deployment of environment '{env_name}' of release {name} is already in progress or waiting for approval."
        )),
        Err(RedeployError::PreviousNotSucceeded(prev)) => bad_request(&format!(
            "VS402880: Environment '{env_name}' of release {name} cannot be deployed because environment '{prev}' has not succeeded."
        )),
    }
}

fn deployments(w: &World, req: &Req) -> Reply {
    let definition_ok = req
        .q("definitionId")
        .is_none_or(|d| d.parse::<u32>().ok() == Some(w.ids.definition_id));
    let def_env: Option<u32> = req
        .q("definitionEnvironmentId")
        .and_then(|d| d.parse().ok());
    let status = req.q("deploymentStatus").map(str::to_ascii_lowercase);
    let op = req.q("operationStatus").map(str::to_ascii_lowercase);
    let latest_only = req
        .q("latestAttemptsOnly")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let by = req.q("createdBy");
    let mut items: Vec<(usize, usize, usize)> = Vec::new();
    for (r, rel) in w.releases.iter().enumerate().filter(|_| definition_ok) {
        for (e, env) in rel.envs.iter().enumerate() {
            if def_env.is_some_and(|d| d != env.def_id) {
                continue;
            }
            for (i, a) in env.attempts.iter().enumerate() {
                if latest_only && i + 1 != env.attempts.len() {
                    continue;
                }
                if by.is_some_and(|b| !is_person(w, a.requested_by, b)) {
                    continue;
                }
                let (ds, os) = j::attempt_status(a, req.now);
                let keep = status
                    .as_deref()
                    .is_none_or(|s| s == "all" || s.eq_ignore_ascii_case(ds))
                    && op
                        .as_deref()
                        .is_none_or(|s| s == "all" || s.eq_ignore_ascii_case(os));
                if keep {
                    items.push((r, e, i));
                }
            }
        }
    }
    let id_of =
        |&(r, e, i): &(usize, usize, usize)| w.releases[r].envs[e].attempts[i].deployment_id;
    items.sort_by_key(id_of);
    if descending(req) {
        items.reverse();
    }
    devops_list(req, items, id_of, |&(r, e, i)| {
        j::deployment_json(w, &req.base, r, e, i, req.now)
    })
}

fn definition(w: &World, req: &Req) -> Value {
    let mut v = j::definition_ref(w, &req.base);
    v["environments"] = json!(
        super::world::ENV_NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"id": i + 1, "name": n, "rank": i + 1}))
            .collect::<Vec<_>>()
    );
    v["releaseNameFormat"] = json!("Release-$(rev:r)");
    v["revision"] = json!(14);
    v
}
