//! Test and admin hooks under `/_sim/` (not part of the Azure contract): request counts, the
//! simulated clock (read and jump), the scenario summary, and an alert fired on demand. No
//! auth, no faults, not counted.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::clock::iso;
use super::http::Shared;

pub async fn stats(State(s): State<Arc<Shared>>) -> Response {
    let stats = s.stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Json(stats).into_response()
}

pub async fn clock(State(s): State<Arc<Shared>>) -> Response {
    Json(clock_json(&s)).into_response()
}

fn clock_json(s: &Shared) -> Value {
    json!({
        "now": iso(s.clock.now()),
        "start": iso(s.clock.start()),
        "speed": s.clock.speed(),
        "advanced_seconds": s.clock.jumped_seconds(),
    })
}

/// `POST /_sim/clock/advance` `{"seconds": N}`: jump the clock and apply what became due.
pub async fn advance(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let seconds = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("seconds").and_then(Value::as_f64));
    let Some(seconds) = seconds else {
        let msg = json!({"error": "send {\"seconds\": N} with N >= 0"});
        return (StatusCode::BAD_REQUEST, Json(msg)).into_response();
    };
    match s.clock.advance(seconds) {
        Ok(now) => {
            s.world().advance(now);
            Json(clock_json(&s)).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

pub async fn scenario(State(s): State<Arc<Shared>>) -> Response {
    let summary = s.world().scenario.clone();
    Json(summary).into_response()
}

/// `POST /_sim/jobs/retries` `{"fail": true|false}`: whether batch jobs started from now on
/// (a retry) fail again.
pub async fn retries(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let fail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("fail").and_then(Value::as_bool));
    let Some(fail) = fail else {
        let msg = json!({"error": "send {\"fail\": true} or {\"fail\": false}"});
        return (StatusCode::BAD_REQUEST, Json(msg)).into_response();
    };
    s.world().jobs.retries_fail = fail;
    Json(json!({"fail": fail})).into_response()
}

/// `GET /mlapi/discovery`: Azure ML's workspace discovery document (public, as on Azure).
/// Counted like a service request (it is one), though it needs no token.
pub async fn discovery(State(s): State<Arc<Shared>>) -> Response {
    {
        let mut stats = s.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.total += 1;
        stats.mlapi += 1;
        *stats
            .by_route
            .entry("GET mlapi/discovery".to_owned())
            .or_default() += 1;
    }
    Json(super::jobs::discovery_json(&s.base)).into_response()
}

/// Fire a drift alert on `circuit` at the simulated now; its id.
pub fn fire(s: &Shared, circuit: &str, severity: &str) -> Result<String, String> {
    let now = s.clock.now();
    let mut w = s.world();
    let c = w
        .fleet
        .circuits
        .iter()
        .position(|x| x.r.to_string().eq_ignore_ascii_case(circuit.trim()))
        .ok_or_else(|| format!("{circuit} is not a circuit of the simulated fleet"))?;
    let a = super::alert_plan::fire_drift(&w, c, severity, now);
    let id = a.id(&w);
    w.alerts.push(a);
    Ok(id)
}

/// `POST /_sim/alerts/fire` `{"circuit": "PLANT007/CIRCUIT03", "severity": "Sev2"}`: a drift
/// alert fires on the circuit now (the demo's and the tests' way to page during a watch).
pub async fn fire_alert(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let v = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let Some(circuit) = v.get("circuit").and_then(Value::as_str) else {
        let msg =
            json!({"error": "send {\"circuit\": \"PLANT001/CIRCUIT01\", \"severity\": \"Sev2\"}"});
        return (StatusCode::BAD_REQUEST, Json(msg)).into_response();
    };
    let severity = v.get("severity").and_then(Value::as_str).unwrap_or("Sev2");
    match fire(&s, circuit, severity) {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, Json(json!({"error": e}))).into_response(),
    }
}
