//! Azure Monitor's Alerts Management API (api-version 2019-03-01) over the simulated fleet:
//! the alerts the scenario fires (the incident circuit's accuracy and drift, a failed nightly
//! job on another circuit, drift elsewhere, one on the Prod workspace that names no circuit,
//! one outside the fleet), served at subscription scope as the official examples show them
//! (`tests/data/specs/alerts/examples/`), with the documented filters, paging, state changes
//! and history. The incident's accuracy alert resolves itself once Prod serves a model whose
//! MAE is back under the threshold (a rollback).

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::http::Req;
use super::reply::Reply;
use super::world::{World, guid};
use crate::domain::Stage;

pub use super::alert_plan::plan;

/// The api-versions the simulator answers (the stable one relcon sends, and the preview that
/// has the same routes).
const API_VERSIONS: [&str; 2] = ["2019-03-01", "2025-05-25-preview"];

/// What an alert is about, for the scenario and for resolving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// `model_accuracy_mae` above 0.25 on the circuit's Prod model.
    Accuracy,
    Drift,
    /// The circuit's nightly batch scoring job failed.
    JobFailed,
    /// A workspace-level alert that names no circuit.
    Workspace,
    /// Not the fleet's (another resource group of the subscription).
    Foreign,
}

/// One entry of an alert's history.
#[derive(Debug, Clone)]
pub struct Modification {
    pub event: &'static str,
    pub old: String,
    pub new: String,
    pub at: DateTime<Utc>,
    pub by: String,
    pub comments: String,
    pub description: String,
}

/// One alert instance.
#[derive(Debug, Clone)]
pub struct SimAlert {
    pub guid: String,
    pub kind: AlertKind,
    pub circuit: Option<usize>,
    pub rule_name: String,
    pub rule_id: String,
    pub severity: &'static str,
    pub signal: &'static str,
    pub service: &'static str,
    pub target: String,
    pub target_rg: String,
    pub target_name: String,
    pub target_type: String,
    pub fired_at: DateTime<Utc>,
    pub state: &'static str,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub description: String,
    pub dimensions: Vec<(String, String)>,
    /// The condition's figures (`metricValue`, `threshold`, `operator`, `searchQuery`).
    pub condition: Value,
    pub history: Vec<Modification>,
}

impl SimAlert {
    pub fn id(&self, w: &World) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.AlertsManagement/alerts/{}",
            w.ids.subscription, self.guid
        )
    }

    fn condition_text(&self) -> &'static str {
        if self.resolved_at.is_some() {
            "Resolved"
        } else {
            "Fired"
        }
    }
}

/// Bring alerts up to `now`, as a log search alert with automatic resolution does once its
/// condition stops holding: the incident's accuracy alert resolves once Prod's MAE is back
/// under the threshold; a failed scoring job's alert once a Prod job of its circuit submitted
/// after it fired has completed (a retry, or the next night's run).
fn settle(w: &mut World, now: DateTime<Utc>) {
    let mut resolve = Vec::new();
    for (i, a) in w.alerts.iter().enumerate() {
        let Some(c) = a.circuit.filter(|_| a.resolved_at.is_none()) else {
            continue;
        };
        let over = match a.kind {
            AlertKind::Accuracy => {
                super::monitor::current_mae(w, c, now).is_some_and(|m| m <= 0.25)
            }
            AlertKind::JobFailed => super::jobs::jobs_of(w, c, Stage::Prod, now)
                .iter()
                .any(|j| j.submitted > a.fired_at && j.status == "Completed"),
            _ => false,
        };
        if over {
            resolve.push(i);
        }
    }
    for i in resolve {
        let a = &mut w.alerts[i];
        a.resolved_at = Some(now);
        a.modified_at = now;
        a.modified_by = "System".into();
        a.history.insert(
            0,
            Modification {
                event: "MonitorConditionChange",
                old: "Fired".into(),
                new: "Resolved".into(),
                at: now,
                by: "System".into(),
                comments: String::new(),
                description: "Monitor condition changed from 'Fired' to 'Resolved'".into(),
            },
        );
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn alert_json(w: &World, a: &SimAlert, context: bool) -> Value {
    let mut essentials = json!({
        "severity": a.severity,
        "signalType": a.signal,
        "alertState": a.state,
        "monitorCondition": a.condition_text(),
        "monitorService": a.service,
        "targetResource": a.target,
        "targetResourceName": a.target_name,
        "targetResourceGroup": a.target_rg,
        "targetResourceType": a.target_type,
        "sourceCreatedId": guid(&format!("source:{}", a.guid)),
        "alertRule": a.rule_id,
        "startDateTime": time(a.fired_at),
        "lastModifiedDateTime": time(a.modified_at),
        "lastModifiedUserName": a.modified_by,
        "actionStatus": {"isSuppressed": false},
        "description": a.description,
    });
    if let Some(r) = a.resolved_at {
        essentials["monitorConditionResolvedDateTime"] = json!(time(r));
    }
    let mut condition = a.condition.clone();
    if let Some(all) = condition.get_mut("allOf").and_then(Value::as_array_mut)
        && !a.dimensions.is_empty()
    {
        for c in all {
            c["dimensions"] = json!(
                a.dimensions
                    .iter()
                    .map(|(n, v)| json!({"name": n, "value": v}))
                    .collect::<Vec<_>>()
            );
        }
    }
    let mut props = json!({"essentials": essentials, "egressConfig": {}});
    if context {
        // The log search alert V2 context of the common alert schema (`alertContext`), the
        // closest documented shape: the API documents `context` only as an object.
        props["context"] = json!({
            "properties": {},
            "conditionType": if a.signal == "Metric" { "SingleResourceMultipleMetricCriteria" } else { "LogQueryCriteria" },
            "condition": condition,
        });
    }
    json!({
        "properties": props,
        "id": a.id(w),
        "type": "Microsoft.AlertsManagement/alerts",
        "name": a.rule_name,
    })
}

fn bad_request(code: &str, message: &str) -> Reply {
    Reply::arm_error(StatusCode::BAD_REQUEST, code, message)
}

/// `/subscriptions/{sub}/providers/Microsoft.AlertsManagement/...` (segments after the
/// subscription's `providers/Microsoft.AlertsManagement`).
pub fn handle(w: &mut World, req: &Req, rest: &[String]) -> Reply {
    let version = req.q("api-version").unwrap_or_default();
    if !API_VERSIONS.iter().any(|v| v.eq_ignore_ascii_case(version)) {
        return bad_request(
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                API_VERSIONS.join(",")
            ),
        );
    }
    settle(w, req.now);
    let is = |i: usize, lit: &str| rest.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    match (&req.method, rest.len()) {
        (&Method::GET, 1) if is(0, "alerts") => list(w, req),
        (&Method::GET, 2) if is(0, "alerts") => match find(w, &rest[1]) {
            Some(i) => Reply::ok(&alert_json(w, &w.alerts[i], true)),
            None => not_found(&rest[1]),
        },
        (&Method::POST, 3) if is(0, "alerts") && is(2, "changestate") => {
            change_state(w, req, &rest[1])
        }
        (&Method::GET, 3) if is(0, "alerts") && is(2, "history") => match find(w, &rest[1]) {
            Some(i) => Reply::ok(&history_json(w, &w.alerts[i])),
            None => not_found(&rest[1]),
        },
        (&Method::GET, _) => Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The requested path '{}' was not found.", req.path),
        ),
        _ => Reply::arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!(
                "The requested resource does not support http method '{}'.",
                req.method
            ),
        ),
    }
}

fn find(w: &World, guid: &str) -> Option<usize> {
    w.alerts
        .iter()
        .position(|a| a.guid.eq_ignore_ascii_case(guid))
}

fn not_found(guid: &str) -> Reply {
    Reply::arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The alert '{guid}' could not be found."),
    )
}

/// `timeRange` (`1h`, `1d`, `7d`, `30d`; default `1d`) or `customTimeRange` (`start/end`).
fn window(req: &Req) -> Result<(DateTime<Utc>, DateTime<Utc>), Reply> {
    if let Some(custom) = req.q("customTimeRange") {
        if req.q("timeRange").is_some() {
            return Err(bad_request(
                "BadRequest",
                "timeRange and customTimeRange cannot be used together.",
            ));
        }
        let parse = |s: &str| DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc));
        return match custom.split_once('/') {
            Some((a, b)) => match (parse(a), parse(b)) {
                (Ok(a), Ok(b)) if a <= b && b - a <= Duration::days(30) => Ok((a, b)),
                _ => Err(bad_request(
                    "BadRequest",
                    "customTimeRange must be '<start>/<end>' in ISO 8601, at most 30 days apart.",
                )),
            },
            None => Err(bad_request(
                "BadRequest",
                "customTimeRange must be '<start>/<end>' in ISO 8601.",
            )),
        };
    }
    let span = match req.q("timeRange").unwrap_or("1d") {
        "1h" => Duration::hours(1),
        "1d" => Duration::days(1),
        "7d" => Duration::days(7),
        "30d" => Duration::days(30),
        other => {
            return Err(bad_request(
                "BadRequest",
                &format!("timeRange '{other}' is not one of 1h, 1d, 7d, 30d."),
            ));
        }
    };
    Ok((req.now - span, req.now))
}

fn list(w: &World, req: &Req) -> Reply {
    let (from, to) = match window(req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let context = req
        .q("includeContext")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let cap = if context { 25 } else { 250 };
    let page_count = match req.q("pageCount").map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if (1..=cap).contains(&n) => n,
        Some(_) => {
            return bad_request(
                "BadRequest",
                &format!(
                    "pageCount must be between 1 and {cap}{}.",
                    if context {
                        " when includeContext is true"
                    } else {
                        ""
                    }
                ),
            );
        }
    };
    let matches = |name: &str, value: &str| {
        req.q(name)
            .is_none_or(|want| want.eq_ignore_ascii_case(value))
    };
    let mut items: Vec<&SimAlert> = w
        .alerts
        .iter()
        .filter(|a| a.fired_at >= from && a.fired_at <= to)
        .filter(|a| matches("monitorCondition", a.condition_text()))
        .filter(|a| matches("alertState", a.state))
        .filter(|a| matches("severity", a.severity))
        .filter(|a| matches("targetResourceGroup", &a.target_rg))
        .filter(|a| matches("targetResource", &a.target))
        .filter(|a| matches("alertRule", &a.rule_id))
        .collect();
    let desc = !req
        .q("sortOrder")
        .is_some_and(|o| o.eq_ignore_ascii_case("asc"));
    match req.q("sortBy").map(str::to_ascii_lowercase).as_deref() {
        Some("severity") => items.sort_by_key(|a| a.severity),
        Some("name") => items.sort_by(|a, b| a.rule_name.cmp(&b.rule_name)),
        Some("startdatetime") => items.sort_by_key(|a| a.fired_at),
        _ => items.sort_by_key(|a| a.modified_at),
    }
    if desc {
        items.reverse();
    }
    // The service pages with an opaque `ctoken` in its nextLink (as its example shows).
    let offset = match req.q("ctoken") {
        None => 0,
        Some(t) => match super::paging::decode_skip(t) {
            Some(o) => o,
            None => return bad_request("BadRequest", "The continuation token is not valid."),
        },
    };
    let size = req.page_size.map_or(page_count, |p| p.min(page_count));
    let (page, next) = super::paging::arm_page(&items, offset, size);
    let mut body =
        json!({"value": page.iter().map(|a| alert_json(w, a, context)).collect::<Vec<_>>()});
    if let Some(next) = next {
        let query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("ctoken"))
            .cloned()
            .chain([("ctoken".to_owned(), super::paging::encode_skip(next))])
            .collect();
        let q = query
            .iter()
            .map(|(k, v)| format!("{}={}", super::paging::encode(k), super::paging::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        body["nextLink"] = json!(format!("{}{}?{q}", req.base, req.path));
    }
    Reply::ok(&body)
}

fn change_state(w: &mut World, req: &Req, guid: &str) -> Reply {
    let Some(i) = find(w, guid) else {
        return not_found(guid);
    };
    let new = match req.q("newState").map(str::to_ascii_lowercase).as_deref() {
        Some("new") => "New",
        Some("acknowledged") => "Acknowledged",
        Some("closed") => "Closed",
        Some(other) => {
            return bad_request(
                "BadRequest",
                &format!("newState '{other}' is not one of New, Acknowledged, Closed."),
            );
        }
        None => return bad_request("BadRequest", "The newState query parameter is required."),
    };
    // The body is optional: `{"comments": ...}` as the 2019-03-01 spec has it, or
    // `{"comment": ...}` as the 2025 preview's example writes it.
    let comments = if req.body.is_empty() {
        String::new()
    } else {
        match req.json() {
            Ok(v) => v
                .get("comments")
                .or_else(|| v.get("comment"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Err(e) => return bad_request("BadRequest", &e),
        }
    };
    let who = w.person(req.caller).unique.clone();
    let a = &mut w.alerts[i];
    let old = a.state;
    if old != new {
        a.history.insert(
            0,
            Modification {
                event: "StateChange",
                old: old.into(),
                new: new.into(),
                at: req.now,
                by: who.clone(),
                comments,
                description: format!("State changed from '{old}' to '{new}'"),
            },
        );
        a.state = new;
        a.modified_at = req.now;
        a.modified_by = who;
    }
    Reply::ok(&alert_json(w, &w.alerts[i], false))
}

fn history_json(w: &World, a: &SimAlert) -> Value {
    json!({
        "properties": {
            "alertId": a.guid,
            "modifications": a.history.iter().map(|m| json!({
                "modificationEvent": m.event,
                "oldValue": m.old,
                "newValue": m.new,
                "modifiedAt": m.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "modifiedBy": m.by,
                "comments": m.comments,
                "description": m.description,
            })).collect::<Vec<_>>(),
        },
        "id": format!("{}/history/default", a.id(w)),
        "type": "Microsoft.AlertsManagement/alerts",
        "name": a.rule_name,
    })
}
