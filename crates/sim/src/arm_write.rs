//! ARM writes: a full PUT of a batch deployment or endpoint (validated like the service does,
//! answered 201 with `Azure-AsyncOperation`) and PATCH of tags and description (202 with
//! `Location`). The resource shows `Updating` until the operation's time has passed.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::arm::{check_environment, check_model};
use super::arm_json as j;
use super::arm_ops::op_headers;
use super::http::Req;
use super::reply::Reply;
use super::world::{Deployment, Endpoint, Ids, OpKind, World};
use crate::domain::Stage;

fn user_error(message: &str) -> Reply {
    Reply::ml_error(StatusCode::BAD_REQUEST, "ValidationError", message)
}

/// The body as a JSON object, or the 400 ARM gives for anything else.
fn object(req: &Req) -> Result<Map<String, Value>, Reply> {
    match req.json() {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content must be a JSON object.",
        )),
        Err(e) => Err(Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            &format!("The request content was invalid and could not be deserialized: {e}"),
        )),
    }
}

fn tags(body: &Map<String, Value>) -> Result<Option<BTreeMap<String, String>>, Reply> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(t)) => t
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(user_error(&format!("Tag '{k}' must be a string."))),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(user_error("'tags' must be an object of strings.")),
    }
}

/// ARM's rule for these resource names: `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`.
fn valid_name(name: &str) -> Result<(), Reply> {
    let ok = name.len() <= 255
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Reply::arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            &format!(
                "The resource name '{name}' is invalid: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{{0,254}}$."
            ),
        ))
    }
}

/// A JSON object.
type Json = Map<String, Value>;

/// A full PUT's body: a JSON object named as the path says, with an object `properties`
/// (returned apart), or the 400 ARM gives.
fn put_body(req: &Req, name: &str) -> Result<(Json, Json), Reply> {
    let body = object(req)?;
    name_matches(&body, name)?;
    match body.get("properties") {
        Some(Value::Object(props)) => {
            let props = props.clone();
            Ok((body, props))
        }
        _ => Err(user_error(
            "'properties' is required and must be an object.",
        )),
    }
}

fn name_matches(body: &Map<String, Value>, name: &str) -> Result<(), Reply> {
    valid_name(name)?;
    match body.get("name") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(n)) if n.eq_ignore_ascii_case(name) => Ok(()),
        Some(other) => Err(user_error(&format!(
            "The name in the body ({other}) does not match the name in the path ('{name}')."
        ))),
    }
}

/// Full PUT of a batch deployment: GET, change, PUT.
pub fn put_deployment(
    w: &mut World,
    req: &Req,
    stage: Stage,
    e: usize,
    d: Option<usize>,
    name: &str,
) -> Reply {
    let (body, props) = match put_body(req, name) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let props = &props;
    let Some(asset) = props
        .get("model")
        .and_then(|m| m.get("assetId"))
        .and_then(Value::as_str)
    else {
        return user_error(
            "'properties.model.assetId' is required: the model version this deployment serves.",
        );
    };
    let (model_circuit, model_version) = match check_model(w, asset) {
        Ok(found) => found,
        Err(m) => return user_error(&m),
    };
    // The service resolves the reference and answers it as an ARM id from then on; clients
    // must read both forms (docs/AZURE.md).
    let resolved = format!(
        "{}/models/{}/versions/{model_version}",
        j::registry_id(w),
        w.model_name(model_circuit)
    );
    let Some(env_id) = props.get("environmentId").and_then(Value::as_str) else {
        return user_error("'properties.environmentId' is required.");
    };
    if let Err(m) = check_environment(w, env_id) {
        return user_error(&m);
    }
    let description = match props.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return user_error("'properties.description' must be a string."),
    };
    let new_tags = match tags(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let who = w.person(req.caller).unique.clone();
    let wi = Ids::ws_index(stage);
    if let Some(d) = d
        && w.workspaces[wi].endpoints[e].deployments[d].provisioning != "Succeeded"
    {
        return Reply::arm_error(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Batch deployment {name} is being updated by another operation; retry when its provisioningState is Succeeded."
            ),
        );
    }
    let extra: Map<String, Value> = props
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "model" | "environmentId" | "description" | "provisioningState"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let d = match d {
        Some(d) => d,
        None => {
            let circuit = link_circuit(w, stage, e, name);
            let ep = &mut w.workspaces[wi].endpoints[e];
            ep.deployments.push(Deployment {
                name: name.to_owned(),
                circuit,
                model_asset: String::new(),
                environment_id: String::new(),
                description: String::new(),
                tags: BTreeMap::new(),
                extra: Map::new(),
                provisioning: "Creating",
                created_at: req.now,
                created_by: who.clone(),
                modified_at: req.now,
                modified_by: who.clone(),
            });
            let d = ep.deployments.len() - 1;
            if let Some(c) = circuit {
                w.circuit_deployments[c][usize::from(stage == Stage::Prod)] = Some((e, d));
            }
            d
        }
    };
    {
        let dep = &mut w.workspaces[wi].endpoints[e].deployments[d];
        dep.model_asset = resolved;
        dep.environment_id = env_id.to_owned();
        if let Some(desc) = description {
            dep.description = desc;
        }
        if let Some(t) = new_tags {
            dep.tags = t;
        }
        dep.extra = extra;
        dep.modified_at = req.now;
        dep.modified_by = who;
    }
    let creating = w.workspaces[wi].endpoints[e].deployments[d].provisioning == "Creating";
    let op = w.begin_op(OpKind::Put, stage, e, Some(d), req.now);
    if creating {
        w.workspaces[wi].endpoints[e].deployments[d].provisioning = "Creating";
    }
    let ep = &w.workspaces[wi].endpoints[e];
    let reply = Reply::json(
        StatusCode::CREATED,
        &j::deployment_json(w, stage, ep, &ep.deployments[d]),
    );
    op_headers(w, req, op, reply)
}

/// A new deployment named like a circuit of the endpoint's plant serves that circuit.
fn link_circuit(w: &World, stage: Stage, e: usize, name: &str) -> Option<usize> {
    let plant = w.workspaces[Ids::ws_index(stage)].endpoints[e].plant?;
    let slot = usize::from(stage == Stage::Prod);
    (0..w.fleet.circuits.len()).find(|&c| {
        let fc = &w.fleet.circuits[c];
        fc.plant == plant
            && fc
                .r
                .render("deployment-{circuit}")
                .eq_ignore_ascii_case(name)
            && w.circuit_deployments[c][slot].is_none()
    })
}

/// Full PUT of a batch endpoint (how `defaults.deploymentName` changes).
pub fn put_endpoint(w: &mut World, req: &Req, stage: Stage, e: Option<usize>, name: &str) -> Reply {
    let (body, props) = match put_body(req, name) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let props = &props;
    let auth = props
        .get("authMode")
        .and_then(Value::as_str)
        .unwrap_or("AADToken");
    if !auth.eq_ignore_ascii_case("AADToken") {
        return user_error(&format!(
            "authMode '{auth}' is not supported for batch endpoints; use AADToken."
        ));
    }
    let new_tags = match tags(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let wi = Ids::ws_index(stage);
    let default = props
        .get("defaults")
        .and_then(|d| d.get("deploymentName"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(e), Some(dn)) = (e, &default)
        && !w.workspaces[wi].endpoints[e]
            .deployments
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(dn))
    {
        return user_error(&format!(
            "defaults.deploymentName '{dn}' is not a deployment of endpoint {name}."
        ));
    }
    let who = w.person(req.caller).unique.clone();
    let e = match e {
        Some(e) => e,
        None => {
            let ws = &mut w.workspaces[wi];
            ws.endpoints.push(Endpoint {
                name: name.to_owned(),
                plant: None,
                description: String::new(),
                tags: BTreeMap::new(),
                default_deployment: String::new(),
                deployments: Vec::new(),
                provisioning: "Creating",
                created_at: req.now,
                modified_at: req.now,
                modified_by: who.clone(),
            });
            let e = ws.endpoints.len() - 1;
            ws.by_name.insert(name.to_ascii_lowercase(), e);
            e
        }
    };
    {
        let ep = &mut w.workspaces[wi].endpoints[e];
        if let Some(Value::String(d)) = props.get("description") {
            ep.description = d.clone();
        }
        if let Some(dn) = default {
            ep.default_deployment = dn;
        }
        if let Some(t) = new_tags {
            ep.tags = t;
        }
        ep.modified_at = req.now;
        ep.modified_by = who;
    }
    let op = w.begin_op(OpKind::Put, stage, e, None, req.now);
    let reply = Reply::json(
        StatusCode::CREATED,
        &j::endpoint_json(w, stage, &w.workspaces[wi].endpoints[e]),
    );
    op_headers(w, req, op, reply)
}

/// PATCH of an endpoint (tags, identity) or a deployment (tags, description): anything else
/// needs a full PUT, and is refused here so a client cannot believe it changed a model.
pub fn patch(w: &mut World, req: &Req, stage: Stage, e: usize, d: Option<usize>) -> Reply {
    let body = match object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let allowed: &[&str] = if d.is_some() {
        &["tags", "properties"]
    } else {
        &["tags", "identity"]
    };
    if let Some(k) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return user_error(&format!(
            "'{k}' cannot be changed with PATCH; send the full resource with PUT."
        ));
    }
    let description = match body.get("properties") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => {
            if let Some(k) = p.keys().find(|k| k.as_str() != "description") {
                return user_error(&format!(
                    "'properties.{k}' cannot be changed with PATCH; send the full resource with PUT."
                ));
            }
            match p.get("description") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return user_error("'properties.description' must be a string."),
            }
        }
        Some(_) => return user_error("'properties' must be an object."),
    };
    let new_tags = match tags(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let who = w.person(req.caller).unique.clone();
    let wi = Ids::ws_index(stage);
    let ep = &mut w.workspaces[wi].endpoints[e];
    match d.and_then(|d| ep.deployments.get_mut(d)) {
        Some(dep) => {
            if dep.provisioning != "Succeeded" {
                return Reply::arm_error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    &format!(
                        "Batch deployment {} is being updated by another operation.",
                        dep.name
                    ),
                );
            }
            if let Some(t) = new_tags {
                dep.tags = t;
            }
            if let Some(desc) = description {
                dep.description = desc;
            }
            dep.modified_at = req.now;
            dep.modified_by = who;
        }
        None => {
            if let Some(t) = new_tags {
                ep.tags = t;
            }
            ep.modified_at = req.now;
            ep.modified_by = who;
        }
    }
    let op = w.begin_op(OpKind::Patch, stage, e, d, req.now);
    op_headers(w, req, op, Reply::raw(StatusCode::ACCEPTED, String::new()))
}
