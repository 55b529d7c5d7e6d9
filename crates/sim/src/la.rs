//! The monitoring query APIs: Log Analytics (`/la/v1/workspaces/{id}/query`, the workspace
//! tables) and Application Insights (`/ai/v1/apps/{app-id}/query`, the classic tables). A query
//! is checked by `kql::recognise` against the tables that exist at its scope, as the services
//! do: classic names at workspace scope are refused with Log Analytics' own 400
//! (`BadArgumentError` / `SemanticError` / `SEM0100`). relcon's reads are then answered from
//! the monitoring model.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::http::{Family, Req};
use super::kql::{self, Read, Refusal, Scope};
use super::monitor;
use super::reply::Reply;
use super::world::World;

pub fn route_name(segs: &[String]) -> &'static str {
    match segs.len() {
        4 if segs[3].eq_ignore_ascii_case("query") => "query",
        _ => "unknown",
    }
}

pub fn handle(w: &World, req: &Req) -> Reply {
    let s = &req.segs;
    let (scope, kind, id) = match req.family {
        Family::Ai => (Scope::AppInsights, "apps", &w.ids.app_insights_app),
        _ => (Scope::Workspace, "workspaces", &w.ids.la_workspace),
    };
    if !(s.len() == 4 && req.seg_is(0, "v1") && req.seg_is(1, kind) && req.seg_is(3, "query")) {
        return Reply::la_error(
            StatusCode::NOT_FOUND,
            "PathNotFoundError",
            &format!("The requested path does not exist: {}", req.path),
            None,
        );
    }
    if !s[2].eq_ignore_ascii_case(id) {
        return match scope {
            Scope::Workspace => Reply::la_error(
                StatusCode::NOT_FOUND,
                "WorkspaceNotFoundError",
                &format!("The workspace could not be found: {}", s[2]),
                None,
            ),
            Scope::AppInsights => Reply::la_error(
                StatusCode::NOT_FOUND,
                "PathNotFoundError",
                &format!("The requested application could not be found: {}", s[2]),
                None,
            ),
        };
    }
    let (query, timespan) = match req.method {
        Method::POST => match req.json() {
            Ok(Value::Object(b)) => (
                b.get("query").and_then(Value::as_str).map(str::to_owned),
                b.get("timespan").and_then(Value::as_str).map(str::to_owned),
            ),
            Ok(_) => return bad("The request body must be a JSON object with a query."),
            Err(e) => return bad(&e),
        },
        Method::GET => (
            req.q("query").map(str::to_owned),
            req.q("timespan").map(str::to_owned),
        ),
        _ => {
            return Reply::la_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Use GET or POST.",
                None,
            );
        }
    };
    let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
        return bad("The query parameter is required.");
    };
    let now = req.now;
    let since = match timespan.as_deref().map(|t| window(t, now)) {
        None => now - Duration::days(1),
        Some(Some(since)) => since,
        Some(None) => {
            return bad(&format!(
                "The timespan '{}' is not an ISO 8601 duration or interval.",
                timespan.unwrap_or_default()
            ));
        }
    };
    let found = match kql::recognise(&query, scope) {
        Ok(r) => r,
        Err(refusal) => return refused(&refusal),
    };
    // The query's own `ago(...)` narrows what the timespan allows.
    let since = match found.ago_days {
        Some(d) => since.max(now - Duration::seconds((d * 86_400.0) as i64)),
        None => since,
    };
    let body = match found.read {
        Read::Drift => monitor::drift_table(w, now, since, found.part),
        Read::Accuracy => monitor::accuracy_table(w, now, since, found.part),
        Read::Validation => monitor::validation_table(w, now, since, found.part),
        Read::Coverage => monitor::coverage_table(w, now, since),
    };
    Reply::raw(StatusCode::OK, body)
}

/// The service's 400 for a query it cannot run.
fn refused(r: &Refusal) -> Reply {
    let inner = match r {
        Refusal::Unresolved { operator, name } => json!({
            "code": "SemanticError",
            "message": "A semantic error occurred.",
            "innererror": {
                "code": "SEM0100",
                "message": format!("'{operator}' operator: Failed to resolve table or column expression named '{name}'"),
            },
        }),
        Refusal::Syntax(why) => json!({
            "code": "SyntaxError",
            "message": "A recognition error occurred in the query.",
            "innererror": {"code": "SYN0002", "message": why},
        }),
        Refusal::NotSimulated => json!({
            "code": "SemanticError",
            "message": "A semantic error occurred.",
            "innererror": {
                "code": "SEM0100",
                "message": "The simulator answers only relcon's drift, accuracy, validation and coverage queries.",
            },
        }),
    };
    Reply::la_error(
        StatusCode::BAD_REQUEST,
        "BadArgumentError",
        "The request had some invalid properties",
        Some(inner),
    )
}

fn bad(message: &str) -> Reply {
    Reply::la_error(StatusCode::BAD_REQUEST, "BadArgumentError", message, None)
}

/// The start of an ISO 8601 timespan ending now (`P30D`, `PT12H`, `P1DT6H`), or of an
/// interval `start/end` / `start/duration`.
pub fn window(t: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some((start, _)) = t.split_once('/') {
        return DateTime::parse_from_rfc3339(start)
            .ok()
            .map(|s| s.with_timezone(&Utc));
    }
    // Anything longer than ten years reaches back before every record anyway.
    let d = duration(t)?.min(Duration::days(3650));
    now.checked_sub_signed(d)
}

fn duration(t: &str) -> Option<Duration> {
    let rest = t.strip_prefix('P').or_else(|| t.strip_prefix('p'))?;
    let (date, time) = rest.split_once(['T', 't']).unwrap_or((rest, ""));
    let mut total = Duration::zero();
    let mut seen = false;
    for (part, units) in [(date, "DW"), (time, "HMS")] {
        let mut num = String::new();
        for ch in part.chars() {
            if ch.is_ascii_digit() || ch == '.' {
                num.push(ch);
                continue;
            }
            let n: f64 = num.parse().ok()?;
            num.clear();
            let secs = match (units, ch.to_ascii_uppercase()) {
                ("DW", 'D') => n * 86_400.0,
                ("DW", 'W') => n * 7.0 * 86_400.0,
                ("HMS", 'H') => n * 3600.0,
                ("HMS", 'M') => n * 60.0,
                ("HMS", 'S') => n,
                _ => return None,
            };
            if !(0.0..1e12).contains(&secs) {
                return None;
            }
            total = total.checked_add(&Duration::milliseconds((secs * 1000.0) as i64))?;
            seen = true;
        }
        if !num.is_empty() {
            return None;
        }
    }
    seen.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_parse() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(window("P30D", now), Some(now - Duration::days(30)));
        assert_eq!(window("PT12H", now), Some(now - Duration::hours(12)));
        assert_eq!(
            window("P1DT6H30M", now),
            Some(now - Duration::minutes(24 * 60 + 6 * 60 + 30))
        );
        assert_eq!(window("P1W", now), Some(now - Duration::days(7)));
        assert_eq!(
            window("2026-11-01T00:00:00Z/2026-11-26T00:00:00Z", now),
            DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                .map(|t| t.with_timezone(&Utc))
                .ok()
        );
        assert_eq!(window("P99999999999999D", now), None);
        assert_eq!(window("P36500D", now), Some(now - Duration::days(3650)));
        for bad in ["30D", "P", "PXD", "P3", "PT1D", "nonsense/x"] {
            assert_eq!(window(bad, now), None, "{bad}");
        }
    }
}
