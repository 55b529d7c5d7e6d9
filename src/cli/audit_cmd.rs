//! `relcon audit show` and `relcon audit verify`.

use chrono::{DateTime, Utc};

use super::paint::Paint;
use super::{Exit, Global, fail, print_json};
use crate::audit::AuditLog;
use crate::service::session::StateDirs;

/// The audit log of the backend relcon would use: the built-in simulator's (under `demo/`)
/// when there is no configuration, else the real one.
fn log(g: &Global) -> Result<AuditLog, Exit> {
    let embedded = matches!(super::load_settings(g), Ok(None));
    StateDirs::choose(g.state_dir.as_deref(), embedded)
        .map(|d| d.audit)
        .map_err(|e| fail(Exit::Usage, e.to_string()))
}

/// Parse `--since`: an RFC 3339 time, a date, or an age like `2h`, `3d`, `90m`.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("bad date `{s}`"));
    }
    let (num, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a time, a date or an age like 2h"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (s, m, h, d, w)")),
    };
    Ok(now - d)
}

pub fn show(g: &Global, since: Option<&str>) -> Exit {
    let log = match log(g) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let now = match crate::service::clock::process() {
        Ok(c) => c.now(),
        Err(e) => return fail(Exit::Usage, e),
    };
    let since = match since.map(|s| parse_since(s, now)).transpose() {
        Ok(s) => s,
        Err(e) => return fail(Exit::Usage, e),
    };
    // An audit log that cannot be read is a read that failed: exit 4, never an empty list.
    let entries = match log.entries() {
        Ok(e) => e,
        Err(e) => {
            return fail(
                Exit::Service,
                format!("{e} (`relcon audit verify` names the first bad entry)"),
            );
        }
    };
    let shown: Vec<_> = entries
        .into_iter()
        .filter(|e| since.is_none_or(|s| e.time >= s))
        .collect();
    if g.json {
        return print_json(&serde_json::json!({
            "path": log.path().display().to_string(),
            "since": since,
            "entries": shown,
        }));
    }
    let p = Paint::stdout();
    if shown.is_empty() {
        println!("no audit entries in {}", log.path().display());
    }
    for e in &shown {
        let result = if e.result.starts_with("succeeded")
            || e.result.starts_with("verified")
            || e.result.starts_with("submitted")
        {
            p.green(&e.result)
        } else if e.result.starts_with("sending") {
            // Recorded before the request went out; the entry after it says how it ended.
            p.dim(&e.result)
        } else if e.result.starts_with("refused") || e.result.starts_with("conflict") {
            p.yellow(&e.result)
        } else {
            p.red(&e.result)
        };
        println!(
            "{:>5}  {}  {:<24} {:<9} {}  {}",
            e.seq,
            e.time.format("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.target,
            result
        );
        let mut notes = Vec::new();
        if let Some(c) = &e.inputs.comment {
            notes.push(format!("comment: {c}"));
        }
        if let Some(r) = &e.inputs.reason {
            notes.push(format!("reason: {r}"));
        }
        if e.inputs.override_gate {
            notes.push(p.red("BREAK-GLASS: test gate overridden"));
        }
        if !e.request_ids.is_empty() {
            notes.push(format!("request ids: {}", e.request_ids.join(", ")));
        }
        if !notes.is_empty() {
            println!("       {}", p.dim(&notes.join(" · ")));
        }
    }
    Exit::Ok
}

pub fn verify(g: &Global) -> Exit {
    let log = match log(g) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let v = match log.verify() {
        Ok(v) => v,
        Err(e) => return fail(Exit::Service, e),
    };
    if g.json {
        print_json(&serde_json::json!({
            "path": log.path().display().to_string(),
            "intact": v.first_bad.is_none(),
            "entries": v.entries,
            "first_bad": v.first_bad,
        }));
    } else {
        match &v.first_bad {
            None => println!(
                "{}: {} entries, chain intact",
                log.path().display(),
                v.entries
            ),
            Some(t) => println!(
                "{}:{}: entry {}: {}",
                log.path().display(),
                t.line,
                t.seq.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                t.problem
            ),
        }
    }
    if v.first_bad.is_some() {
        Exit::Refused
    } else {
        Exit::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_times_dates_and_ages() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2h", now).unwrap().to_rfc3339(),
            "2026-11-26T10:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-20", now).unwrap().to_rfc3339(),
            "2026-11-20T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-25T08:30:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-25T08:30:00+00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("3y", now).is_err());
    }
}
