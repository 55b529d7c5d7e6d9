//! Azure ML through ARM: workspaces, batch endpoints and deployments (GET, full PUT with an
//! `Azure-AsyncOperation`, PATCH of tags/description with a `Location`), model containers and
//! versions in Dev and in the registry, environment and data versions, operation status.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::arm_json::{self as j, Scope};
use super::http::Req;
use super::paging;
use super::reply::Reply;
use super::world::{Ids, World};
use crate::domain::platform::{EnvironmentAsset, ModelAsset};
use crate::domain::{CircuitRef, Stage};

/// What the path addresses.
enum Target {
    Workspace(Stage),
    Registry,
    OpStatus(String),
    OpResult(String),
}

/// A short name for the route, for `/_sim/stats`.
pub fn route_name(segs: &[String]) -> &'static str {
    let is = |i: usize, lit: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    if is(2, "providers") && is(3, "Microsoft.AlertsManagement") {
        return match segs.len() {
            5 => "alerts",
            7 if is(6, "changestate") => "alertChangeState",
            7 => "alertHistory",
            _ => "alert",
        };
    }
    if is(2, "providers") {
        return if is(6, "mfeOperationResults") {
            "operationResult"
        } else {
            "operationStatus"
        };
    }
    let registry = is(6, "registries");
    let rest = segs.get(8..).unwrap_or(&[]);
    let kind = rest.first().map(|s| s.to_ascii_lowercase());
    match (registry, kind.as_deref(), rest.len()) {
        (_, None, _) => {
            if registry {
                "registry"
            } else {
                "workspace"
            }
        }
        (false, Some("batchendpoints"), 1) => "batchEndpoints",
        (false, Some("batchendpoints"), 2) => "batchEndpoint",
        (false, Some("batchendpoints"), 3) => "deployments",
        (false, Some("batchendpoints"), 4) => "deployment",
        (false, Some("models"), 1) => "models",
        (false, Some("models"), 3) => "modelVersions",
        (false, Some("models"), _) => "model",
        (true, Some("models"), 1) => "registry.models",
        (true, Some("models"), 3) => "registry.modelVersions",
        (true, Some("models"), _) => "registry.model",
        (true, Some("environments"), _) => "registry.environments",
        (false, Some("environments"), _) => "environments",
        (_, Some("data"), _) => "data",
        _ => "unknown",
    }
}

pub fn handle(w: &mut World, req: &Req) -> Reply {
    if req.q("api-version").is_none_or(str::is_empty) {
        return Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    if req.seg_is(0, "subscriptions")
        && req.seg_is(2, "providers")
        && req.seg_is(3, "Microsoft.AlertsManagement")
    {
        if !req.seg_is(1, &w.ids.subscription.clone()) {
            return Reply::arm_error(
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                &format!(
                    "The subscription '{}' could not be found.",
                    req.segs.get(1).map(String::as_str).unwrap_or_default()
                ),
            );
        }
        return super::alerts::handle(w, req, &req.segs[4..]);
    }
    let (target, rest) = match resolve(w, req) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let m = &req.method;
    match target {
        Target::OpStatus(id) => super::arm_ops::status(w, req, &id),
        Target::OpResult(id) => super::arm_ops::result(w, req, &id),
        Target::Registry => match (m, rest.as_slice()) {
            (&Method::GET, [k]) if k.eq_ignore_ascii_case("models") => {
                model_containers(w, req, Scope::Registry)
            }
            (&Method::GET, [k, name]) if k.eq_ignore_ascii_case("models") => {
                model_container(w, Scope::Registry, name)
            }
            (&Method::GET, [k, name, v])
                if k.eq_ignore_ascii_case("models") && v.eq_ignore_ascii_case("versions") =>
            {
                model_versions(w, req, Scope::Registry, name)
            }
            (&Method::GET, [k, name, vs, v])
                if k.eq_ignore_ascii_case("models") && vs.eq_ignore_ascii_case("versions") =>
            {
                model_version(w, Scope::Registry, name, v)
            }
            (&Method::GET, [k, ..]) if k.eq_ignore_ascii_case("environments") => {
                environments(w, req, Scope::Registry, &rest[1..])
            }
            (&Method::GET, []) => Reply::ok(&json!({
                "id": j::registry_id(w), "name": w.ids.registry, "type": format!("{}/registries", j::ML),
                "location": w.ids.location, "properties": {"regionDetails": [{"location": w.ids.location}]},
            })),
            _ => not_supported(req),
        },
        Target::Workspace(stage) => {
            let first = rest.first().map(|s| s.to_ascii_lowercase());
            match (m, first.as_deref(), &rest[..]) {
                (&Method::GET, None, _) => {
                    let mut ws = j::workspace_json(w, stage);
                    // The workspace's regional APIs are this simulator's `/mlapi`.
                    ws["properties"]["discoveryUrl"] =
                        json!(format!("{}/mlapi/discovery", req.base));
                    Reply::ok(&ws)
                }
                (_, Some("batchendpoints"), _) => endpoints(w, req, stage, &rest[1..]),
                (&Method::GET, Some("models"), [_]) => {
                    model_containers(w, req, Scope::Workspace(stage))
                }
                (&Method::GET, Some("models"), [_, name]) => {
                    model_container(w, Scope::Workspace(stage), name)
                }
                (&Method::GET, Some("models"), [_, name, v])
                    if v.eq_ignore_ascii_case("versions") =>
                {
                    model_versions(w, req, Scope::Workspace(stage), name)
                }
                (&Method::GET, Some("models"), [_, name, vs, v])
                    if vs.eq_ignore_ascii_case("versions") =>
                {
                    model_version(w, Scope::Workspace(stage), name, v)
                }
                (&Method::GET, Some("environments"), _) => {
                    environments(w, req, Scope::Workspace(stage), &rest[1..])
                }
                (&Method::GET, Some("data"), _) => data(w, req, stage, &rest[1..]),
                _ => not_supported(req),
            }
        }
    }
}

fn resolve<'a>(w: &World, req: &'a Req) -> Result<(Target, &'a [String]), Reply> {
    let s = &req.segs;
    let not_found = || {
        Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The requested path '{}' was not found.", req.path),
        )
    };
    if !req.seg_is(0, "subscriptions") || s.len() < 2 {
        return Err(not_found());
    }
    if !s[1].eq_ignore_ascii_case(&w.ids.subscription) {
        return Err(Reply::arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{}' could not be found.", s[1]),
        ));
    }
    if req.seg_is(2, "providers")
        && req.seg_is(3, j::ML)
        && req.seg_is(4, "locations")
        && s.len() == 8
    {
        let id = s[7].clone();
        return Ok((
            if req.seg_is(6, "mfeOperationResults") {
                Target::OpResult(id)
            } else if req.seg_is(6, "mfeOperationsStatus") {
                Target::OpStatus(id)
            } else {
                return Err(not_found());
            },
            &[],
        ));
    }
    if !req.seg_is(2, "resourceGroups") || s.len() < 8 || !req.seg_is(4, "providers") {
        return Err(not_found());
    }
    let rg = &s[3];
    let known_rg = w.ids.rg.iter().any(|r| r.eq_ignore_ascii_case(rg))
        || w.ids.registry_rg.eq_ignore_ascii_case(rg);
    if !known_rg {
        return Err(Reply::arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        ));
    }
    if !req.seg_is(5, j::ML) {
        return Err(Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            &format!(
                "No registered resource provider found for namespace '{}'.",
                s[5]
            ),
        ));
    }
    let missing = |kind: &str| {
        Reply::arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!(
                "The Resource '{}/{kind}/{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                j::ML,
                s[7]
            ),
        )
    };
    if req.seg_is(6, "workspaces") {
        let i = (0..3)
            .find(|&i| {
                w.ids.workspace[i].eq_ignore_ascii_case(&s[7])
                    && w.ids.rg[i].eq_ignore_ascii_case(rg)
            })
            .ok_or_else(|| missing("workspaces"))?;
        let stage = [Stage::Dev, Stage::Test, Stage::Prod][i];
        return Ok((Target::Workspace(stage), &s[8..]));
    }
    if req.seg_is(6, "registries") {
        if w.ids.registry.eq_ignore_ascii_case(&s[7]) && w.ids.registry_rg.eq_ignore_ascii_case(rg)
        {
            return Ok((Target::Registry, &s[8..]));
        }
        return Err(missing("registries"));
    }
    Err(Reply::arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        &format!(
            "The resource type '{}' could not be found in the namespace '{}' for api version '{}'.",
            s[6],
            j::ML,
            req.q("api-version").unwrap_or_default()
        ),
    ))
}

fn not_supported(req: &Req) -> Reply {
    if req.method == Method::GET {
        Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The requested path '{}' was not found.", req.path),
        )
    } else {
        Reply::arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!(
                "The requested resource does not support http method '{}'.",
                req.method
            ),
        )
    }
}

/// An ARM list page of `n` items, building only the JSON of the page.
fn list(req: &Req, n: usize, item: impl Fn(usize) -> Value) -> Reply {
    let top = match req.q("$top").map(str::parse::<usize>) {
        None => None,
        Some(Ok(t)) if t > 0 => Some(t),
        Some(_) => {
            return Reply::arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidQueryParameterValue",
                "$top must be a positive integer.",
            );
        }
    };
    let offset = match req.q("$skipToken") {
        None => 0,
        Some(t) => match paging::decode_skip(t) {
            Some(o) => o,
            None => {
                return Reply::arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidSkipToken",
                    "The $skipToken is not valid; use the nextLink of the previous page as is.",
                );
            }
        },
    };
    let size = paging::arm_page_size(req.page_size, top);
    let idx: Vec<usize> = (0..n).collect();
    let (page, next) = paging::arm_page(&idx, offset, size);
    let mut body = json!({"value": page.iter().map(|&i| item(i)).collect::<Vec<_>>()});
    if let Some(next) = next {
        body["nextLink"] = json!(paging::next_link(&req.base, &req.path, &req.query, next));
    }
    Reply::ok(&body)
}

fn circuit_of_model(w: &World, name: &str) -> Option<usize> {
    let r: CircuitRef =
        crate::domain::naming::NameTemplate::parse(&"{plant}-{circuit}".parse().ok()?, name)
            .and_then(|(p, c)| Some(CircuitRef::new(p?, c?)))?;
    w.circuit_index(&r)
}

fn model_not_found(name: &str) -> Reply {
    Reply::ml_error(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!("Model container with name: {name} not found."),
    )
}

fn model_containers(w: &World, req: &Req, scope: Scope) -> Reply {
    let circuits: Vec<usize> = (0..w.circuits.len())
        .filter(|&c| !j::visible_versions(w, scope, c).is_empty())
        .collect();
    list(req, circuits.len(), |i| {
        j::model_container_json(w, scope, circuits[i]).unwrap_or(Value::Null)
    })
}

fn model_container(w: &World, scope: Scope, name: &str) -> Reply {
    match circuit_of_model(w, name).and_then(|c| j::model_container_json(w, scope, c)) {
        Some(v) => Reply::ok(&v),
        None => model_not_found(name),
    }
}

fn model_versions(w: &World, req: &Req, scope: Scope, name: &str) -> Reply {
    let Some(c) =
        circuit_of_model(w, name).filter(|&c| !j::visible_versions(w, scope, c).is_empty())
    else {
        return model_not_found(name);
    };
    let mut versions = j::visible_versions(w, scope, c);
    let ascending = req
        .q("$orderBy")
        .is_some_and(|o| o.to_ascii_lowercase().ends_with(" asc"));
    if !ascending {
        versions.reverse();
    }
    if let Some(v) = req.q("version") {
        versions.retain(|mv| mv.version.to_string() == v);
    }
    if let Some(tags) = req.q("tags") {
        let all: Vec<Value> = versions
            .iter()
            .map(|v| j::model_version_json(w, scope, c, v))
            .collect();
        let wanted: Vec<(&str, &str)> = tags.split(',').filter_map(|t| t.split_once('=')).collect();
        let kept: Vec<&Value> = all
            .iter()
            .filter(|v| {
                wanted
                    .iter()
                    .all(|(k, want)| v["properties"]["tags"][*k].as_str() == Some(*want))
            })
            .collect();
        return list(req, kept.len(), |i| kept[i].clone());
    }
    list(req, versions.len(), |i| {
        j::model_version_json(w, scope, c, versions[i])
    })
}

fn model_version(w: &World, scope: Scope, name: &str, v: &str) -> Reply {
    let Some(c) = circuit_of_model(w, name) else {
        return model_not_found(name);
    };
    let found = v.parse::<u32>().ok().and_then(|v| {
        j::visible_versions(w, scope, c)
            .into_iter()
            .find(|mv| mv.version == v)
    });
    match found {
        Some(mv) => Reply::ok(&j::model_version_json(w, scope, c, mv)),
        None => Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Model {name}:{v} not found."),
        ),
    }
}

fn environments(w: &World, req: &Req, scope: Scope, rest: &[&str]) -> Reply {
    let env = w.ids.environment_name;
    let named = |n: &str| n.eq_ignore_ascii_case(env);
    let visible: Vec<&(String, chrono::DateTime<chrono::Utc>)> =
        w.env_versions.iter().filter(|e| e.1 <= w.clock).collect();
    match rest {
        [] => list(req, 1, |_| j::environment_container_json(w, scope)),
        [n] if named(n) => Reply::ok(&j::environment_container_json(w, scope)),
        [n, v] if named(n) && v.eq_ignore_ascii_case("versions") => {
            let mut vs = visible.clone();
            vs.reverse();
            list(req, vs.len(), |i| {
                j::environment_version_json(w, scope, &vs[i].0, vs[i].1)
            })
        }
        [n, vs, v] if named(n) && vs.eq_ignore_ascii_case("versions") => {
            match visible.iter().find(|e| e.0 == *v) {
                Some(e) => Reply::ok(&j::environment_version_json(w, scope, &e.0, e.1)),
                None => Reply::ml_error(
                    StatusCode::NOT_FOUND,
                    "NotFoundError",
                    &format!("Environment {env}:{v} not found."),
                ),
            }
        }
        [n, ..] => Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Environment container with name: {n} not found."),
        ),
    }
}

fn data(w: &World, req: &Req, stage: Stage, rest: &[&str]) -> Reply {
    let named = |n: &str| n.eq_ignore_ascii_case(j::DATA_ASSET);
    match rest {
        [] => list(req, 1, |_| j::data_container_json(w, stage)),
        [n] if named(n) => Reply::ok(&j::data_container_json(w, stage)),
        [n, v] if named(n) && v.eq_ignore_ascii_case("versions") => {
            let vs: Vec<_> = w.data_versions.iter().rev().collect();
            list(req, vs.len(), |i| {
                j::data_version_json(w, stage, &vs[i].0, vs[i].1)
            })
        }
        [n, vs, v] if named(n) && vs.eq_ignore_ascii_case("versions") => {
            match w.data_versions.iter().find(|d| d.0 == *v) {
                Some(d) => Reply::ok(&j::data_version_json(w, stage, &d.0, d.1)),
                None => Reply::ml_error(
                    StatusCode::NOT_FOUND,
                    "NotFoundError",
                    &format!("Data {}:{v} not found.", j::DATA_ASSET),
                ),
            }
        }
        [n, ..] => Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Data container with name: {n} not found."),
        ),
    }
}

fn endpoints(w: &mut World, req: &Req, stage: Stage, rest: &[&str]) -> Reply {
    let wi = Ids::ws_index(stage);
    if rest.is_empty() {
        if req.method != Method::GET {
            return not_supported(req);
        }
        let ws = &w.workspaces[wi];
        let mut order: Vec<usize> = (0..ws.endpoints.len()).collect();
        order.sort_by(|&a, &b| ws.endpoints[a].name.cmp(&ws.endpoints[b].name));
        return list(req, order.len(), |i| {
            j::endpoint_json(w, stage, &w.workspaces[wi].endpoints[order[i]])
        });
    }
    let name = rest[0];
    let e = w.workspaces[wi].endpoint(name);
    let missing = || {
        Reply::ml_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            &format!("Batch endpoint {name} not found."),
        )
    };
    match (&req.method, e, rest.len()) {
        (&Method::GET, Some(e), 1) => {
            Reply::ok(&j::endpoint_json(w, stage, &w.workspaces[wi].endpoints[e]))
        }
        (&Method::PUT, e, 1) => super::arm_write::put_endpoint(w, req, stage, e, name),
        (&Method::PATCH, Some(e), 1) => super::arm_write::patch(w, req, stage, e, None),
        (_, None, _) => missing(),
        (m, Some(e), 2) if rest[1].eq_ignore_ascii_case("deployments") && *m == Method::GET => {
            let ep = &w.workspaces[wi].endpoints[e];
            let mut order: Vec<usize> = (0..ep.deployments.len()).collect();
            order.sort_by(|&a, &b| ep.deployments[a].name.cmp(&ep.deployments[b].name));
            list(req, order.len(), |i| {
                let ep = &w.workspaces[wi].endpoints[e];
                j::deployment_json(w, stage, ep, &ep.deployments[order[i]])
            })
        }
        (m, Some(e), 3) if rest[1].eq_ignore_ascii_case("deployments") => {
            let dname = rest[2];
            let d = w.workspaces[wi].endpoints[e]
                .deployments
                .iter()
                .position(|d| d.name.eq_ignore_ascii_case(dname));
            match (m, d) {
                (&Method::GET, Some(d)) => {
                    let ep = &w.workspaces[wi].endpoints[e];
                    Reply::ok(&j::deployment_json(w, stage, ep, &ep.deployments[d]))
                }
                (&Method::PUT, d) => super::arm_write::put_deployment(w, req, stage, e, d, dname),
                (&Method::PATCH, Some(d)) => super::arm_write::patch(w, req, stage, e, Some(d)),
                (&Method::GET | &Method::PATCH, None) => Reply::ml_error(
                    StatusCode::NOT_FOUND,
                    "NotFoundError",
                    &format!("Batch deployment {dname} not found under endpoint {name}."),
                ),
                _ => not_supported(req),
            }
        }
        _ => not_supported(req),
    }
}

/// Validate a model asset id for a deployment: a registry model version that exists.
pub fn check_model(w: &World, asset: &str) -> Result<(usize, u32), String> {
    let m = ModelAsset::parse(asset).ok_or_else(|| format!("'{asset}' is not a model asset id (azureml://registries/{{registry}}/models/{{name}}/versions/{{version}})."))?;
    if m.registry
        .as_deref()
        .is_none_or(|r| !r.eq_ignore_ascii_case(w.ids.registry))
    {
        return Err(format!(
            "Could not find asset with ID: {asset}. Deployments in this workspace take models from the registry '{}'.",
            w.ids.registry
        ));
    }
    let c = circuit_of_model(w, &m.name)
        .ok_or_else(|| format!("Could not find asset with ID: {asset}."))?;
    let v = m.version.0;
    j::visible_versions(w, Scope::Registry, c)
        .iter()
        .any(|mv| mv.version == v)
        .then_some((c, v))
        .ok_or_else(|| format!("Could not find asset with ID: {asset}."))
}

/// Validate an environment id: a registry environment version that exists.
pub fn check_environment(w: &World, id: &str) -> Result<String, String> {
    let e = EnvironmentAsset::parse(id)
        .ok_or_else(|| format!("'{id}' is not an environment asset id."))?;
    let known = e.name.eq_ignore_ascii_case(w.ids.environment_name)
        && e.registry
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(w.ids.registry))
        && w.env_versions
            .iter()
            .any(|(v, at)| *v == e.version && *at <= w.clock);
    known
        .then_some(e.version)
        .ok_or_else(|| format!("Could not find asset with ID: {id}."))
}
