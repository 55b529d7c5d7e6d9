//! Following ARM long-running operations: the `Azure-AsyncOperation` status resource
//! (`InProgress` until the operation's simulated time has passed, then `Succeeded`) and the
//! `Location` result (202 while running, then 200 with the resource).

use axum::http::StatusCode;
use serde_json::json;

use super::arm_json as j;
use super::http::Req;
use super::reply::Reply;
use super::world::{Ids, OpKind, World};

fn op_url(w: &World, req: &Req, id: &str, results: bool) -> String {
    format!(
        "{}/arm/subscriptions/{}/providers/{}/locations/{}/{}/{id}?api-version={}",
        req.base,
        w.ids.subscription,
        j::ML,
        w.ids.location,
        if results {
            "mfeOperationResults"
        } else {
            "mfeOperationsStatus"
        },
        req.q("api-version").unwrap_or("2025-06-01")
    )
}

/// `Retry-After` in real seconds until an operation is done (1 to 10).
pub fn retry_after(req: &Req, done_at: chrono::DateTime<chrono::Utc>) -> String {
    let sim = (done_at - req.now).num_milliseconds().max(0) as f64 / 1000.0;
    let real = sim / req.speed.max(1e-9);
    (real.ceil() as u64).clamp(1, 10).to_string()
}

/// The headers that tell a client how to follow an operation.
pub fn op_headers(w: &World, req: &Req, op: usize, reply: Reply) -> Reply {
    let o = &w.ops[op];
    let r = reply.header("retry-after", retry_after(req, o.done_at));
    match o.kind {
        OpKind::Put => r
            .header("azure-asyncoperation", op_url(w, req, &o.id, false))
            .header("x-ms-async-operation-timeout", "PT1H"),
        OpKind::Patch => r
            .header("location", op_url(w, req, &o.id, true))
            .header("x-ms-async-operation-timeout", "PT1H"),
    }
}

pub fn status(w: &World, req: &Req, id: &str) -> Reply {
    let Some(o) = w.ops.iter().position(|o| o.id.eq_ignore_ascii_case(id)) else {
        return Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Operation {id} was not found."),
        );
    };
    let op = &w.ops[o];
    let mut body = json!({
        "id": format!("/subscriptions/{}/providers/{}/locations/{}/mfeOperationsStatus/{}", w.ids.subscription, j::ML, w.ids.location, op.id),
        "name": op.id,
        "status": if op.done { "Succeeded" } else { "InProgress" },
        "startTime": super::clock::iso(op.started),
    });
    if op.done {
        body["endTime"] = json!(super::clock::iso(op.done_at));
        Reply::ok(&body)
    } else {
        Reply::ok(&body).header("retry-after", retry_after(req, op.done_at))
    }
}

pub fn result(w: &World, req: &Req, id: &str) -> Reply {
    let Some(o) = w.ops.iter().position(|o| o.id.eq_ignore_ascii_case(id)) else {
        return Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Operation {id} was not found."),
        );
    };
    let op = &w.ops[o];
    if !op.done {
        return Reply::raw(StatusCode::ACCEPTED, String::new())
            .header("location", op_url(w, req, &op.id, true))
            .header("retry-after", retry_after(req, op.done_at));
    }
    let ws = &w.workspaces[Ids::ws_index(op.stage)];
    let Some(ep) = ws.endpoints.get(op.endpoint) else {
        return Reply::raw(StatusCode::NO_CONTENT, String::new());
    };
    match op.deployment.and_then(|d| ep.deployments.get(d)) {
        Some(d) => Reply::ok(&j::deployment_json(w, op.stage, ep, d)),
        None => Reply::ok(&j::endpoint_json(w, op.stage, ep)),
    }
}
