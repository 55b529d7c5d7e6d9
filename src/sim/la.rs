//! Log Analytics `query`: relcon's three KQL queries are recognised by the metric they name
//! and answered from the monitoring model; anything else is refused like a query the service
//! cannot parse.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::http::Req;
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
    if !(s.len() == 4
        && req.seg_is(0, "v1")
        && req.seg_is(1, "workspaces")
        && req.seg_is(3, "query"))
    {
        return Reply::la_error(
            StatusCode::NOT_FOUND,
            "PathNotFoundError",
            &format!("The requested path does not exist: {}", req.path),
            None,
        );
    }
    if !s[2].eq_ignore_ascii_case(&w.ids.la_workspace) {
        return Reply::la_error(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("The workspace could not be found: {}", s[2]),
            None,
        );
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
    // The query's own `ago(...)` narrows what the timespan allows.
    let body = if query.contains("data_drift_score") {
        monitor::drift_table(w, now, since.max(now - Duration::days(30)))
    } else if query.contains("model_accuracy_mae") {
        monitor::accuracy_table(w, now, since.max(now - Duration::days(30)))
    } else if query.contains("validation_mae") {
        monitor::validation_table(w, now, since.max(now - Duration::days(90)))
    } else {
        return Reply::la_error(
            StatusCode::BAD_REQUEST,
            "BadArgumentError",
            "The request had some invalid properties",
            Some(json!({
                "code": "SemanticError",
                "message": "A semantic error occurred.",
                "innererror": {"code": "SEM0100", "message": "The simulator answers only relcon's drift, accuracy and validation queries over customMetrics."},
            })),
        );
    };
    Reply::raw(StatusCode::OK, body)
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
