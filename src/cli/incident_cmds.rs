//! `relcon alerts` and `relcon jobs PLANT/CIRCUIT`: where an incident starts, for scripts and
//! for an on-call engineer at a shell. `alerts` reads the fleet (to tie alerts to circuits) and
//! lists the active ones; `jobs` reads one circuit's Test and Prod scoring jobs with their run
//! history. Either exits 4 when what it reports could not all be read.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::paint::Paint;
use super::read_outcome::{Outcome, age, errors_json, read_exit, snapshot};
use super::session::open;
use super::{Exit, Global, fail, print_json};
use crate::domain::incidents::{FleetAlert, JobOutcome, ScoringJob, Severity};
use crate::domain::{CircuitRef, Status};
use crate::service::incidents::{CircuitJobs, JOBS_WITH_RUNS, circuit_jobs};

fn alert_json(a: &FleetAlert, now: DateTime<Utc>) -> Value {
    let x = &a.alert;
    json!({
        "id": x.id,
        "name": x.name,
        "rule": x.rule_name(),
        "rule_id": x.rule,
        "severity": x.severity.as_str(),
        "state": x.state.as_str(),
        "monitor_condition": x.condition.as_str(),
        "monitor_service": x.monitor_service,
        "fired_at": x.fired_at,
        "age_seconds": x.fired_at.map(|t| (now - t).num_seconds().max(0)),
        "circuit": a.circuit.as_ref().map(|c| c.to_string()),
        "mapped_by": a.mapped_by,
        "target_resource": x.target_resource,
        "description": x.description,
        "dimensions": x.dimensions.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
    })
}

fn severity(p: Paint, s: Severity) -> String {
    match s.status() {
        Status::Alert => p.red(s.as_str()),
        _ => p.yellow(s.as_str()),
    }
}

pub fn alerts(g: &Global) -> Exit {
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (s, stale) = snapshot(&o);
    let now = o.session.now();
    let outcome = Outcome {
        snapshot: &s,
        stale,
        failed: 0,
    };
    if g.json {
        print_json(&json!({
            "complete": outcome.complete(),
            "stale": stale,
            "generated_at": s.generated_at,
            "alerts": s.alerts.iter().map(|a| alert_json(a, now)).collect::<Vec<_>>(),
            "unmapped": s.alerts.iter().filter(|a| a.circuit.is_none()).count(),
            "errors": errors_json(&s, &[]),
        }));
        return read_exit(outcome, now);
    }
    let p = Paint::stdout();
    if s.alerts.is_empty() {
        println!("No active alerts on the fleet.");
    } else {
        println!(
            "{} active alert{} on the fleet ({} new)",
            s.alerts.len(),
            if s.alerts.len() == 1 { "" } else { "s" },
            s.alerts
                .iter()
                .filter(|a| a.alert.state == crate::domain::incidents::AlertState::New)
                .count()
        );
        println!(
            "\n  {:<5} {:<13} {:<6} {:<20} {:<21} RULE",
            "SEV", "STATE", "AGE", "CIRCUIT", "FIRED"
        );
        for a in &s.alerts {
            let x = &a.alert;
            let circuit = match &a.circuit {
                Some(c) => c.to_string(),
                None => p.dim("no circuit"),
            };
            println!(
                "  {:<5} {:<13} {:<6} {:<20} {:<21} {}",
                severity(p, x.severity),
                x.state.as_str(),
                x.fired_at
                    .map(|t| age(t, now))
                    .unwrap_or_else(|| "?".into()),
                circuit,
                x.fired_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
                x.rule_name()
            );
            if !x.description.is_empty() {
                println!("        {}", p.dim(&x.description));
            }
        }
    }
    for e in &s.errors {
        eprintln!("relcon: could not read {}: {}", e.scope, e.message);
    }
    read_exit(outcome, now)
}

fn job_json(j: &ScoringJob, now: DateTime<Utc>) -> Value {
    json!({
        "name": j.name,
        "status": j.status.as_str(),
        "outcome": j.status.outcome(),
        "submitted_at": j.submitted_at,
        "started_at": j.started_at,
        "ended_at": j.ended_at,
        "duration_seconds": j.duration(now).map(|d| d.num_seconds()),
        "error": j.error,
        "error_code": j.error_code,
        "studio_url": j.studio_url,
    })
}

/// The `relcon jobs --json` document (docs/schemas/jobs.schema.json).
pub fn jobs_json(
    circuit: &CircuitRef,
    j: &CircuitJobs,
    stale_hours: u32,
    now: DateTime<Utc>,
) -> Value {
    let summary = &j.prod_summary;
    json!({
        "complete": j.is_complete(),
        "circuit": circuit.to_string(),
        "generated_at": now,
        "stale_after_hours": stale_hours,
        "prod": {
            "status": summary.status,
            "problem": summary.problem,
            "last_success": summary.last_success,
            "jobs": j.prod.iter().map(|x| job_json(x, now)).collect::<Vec<_>>(),
        },
        "test": {
            "jobs": j.test.iter().map(|x| job_json(x, now)).collect::<Vec<_>>(),
        },
        "errors": j.errors,
    })
}

fn outcome_text(p: Paint, j: &ScoringJob) -> String {
    match j.status.outcome() {
        JobOutcome::Succeeded => p.green(j.status.as_str()),
        JobOutcome::Failed => p.red(j.status.as_str()),
        JobOutcome::Running => p.cyan(j.status.as_str()),
        JobOutcome::Other => p.dim(j.status.as_str()),
    }
}

fn minutes(d: Option<chrono::Duration>) -> String {
    match d {
        Some(d) if d.num_minutes() >= 1 => {
            format!("{}m{:02}s", d.num_minutes(), d.num_seconds() % 60)
        }
        Some(d) => format!("{}s", d.num_seconds()),
        None => "-".into(),
    }
}

pub fn jobs(g: &Global, which: &str) -> Exit {
    let circuit: CircuitRef = match which.parse() {
        Ok(c) => c,
        Err(e) => return fail(Exit::Usage, e),
    };
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let ctx = o.session.context();
    let now = o.session.now();
    let j = o.runtime.block_on(circuit_jobs(
        o.session.backend(),
        ctx,
        &circuit,
        now,
        JOBS_WITH_RUNS,
    ));
    if j.no_deployment {
        return fail(
            Exit::Usage,
            format!(
                "{circuit} has no batch deployment {} under {} in Test or Prod",
                ctx.naming.deployment(&circuit),
                ctx.naming.endpoint(&circuit)
            ),
        );
    }
    let exit = if j.is_complete() {
        Exit::Ok
    } else {
        Exit::Service
    };
    let stale_hours = ctx.incidents.stale_job_hours;
    if g.json {
        print_json(&jobs_json(&circuit, &j, stale_hours, now));
        return exit;
    }
    let p = Paint::stdout();
    let verdict = match (j.prod_summary.status, &j.prod_summary.problem) {
        (Some(Status::Ok), _) => p.green("ok"),
        (Some(Status::Warn), Some(why)) => p.yellow(why),
        (Some(Status::Alert), Some(why)) => p.red(why),
        _ => p.dim("unknown"),
    };
    println!(
        "{}  {} / {}  Prod scoring: {}",
        p.bold(&circuit.to_string()),
        ctx.naming.endpoint(&circuit),
        ctx.naming.deployment(&circuit),
        verdict
    );
    if let Some(t) = j.prod_summary.last_success {
        println!(
            "  last success {} ({} ago)",
            t.format("%Y-%m-%d %H:%M UTC"),
            age(t, now)
        );
    }
    for (stage, list) in [("Prod", &j.prod), ("Test", &j.test)] {
        println!("\n{}", p.bold(&format!("{stage} jobs ({})", list.len())));
        if list.is_empty() {
            println!("  {}", p.dim("none listed"));
            continue;
        }
        println!(
            "  {:<46} {:<10} {:<17} {:>8}",
            "JOB", "STATUS", "SUBMITTED UTC", "DURATION"
        );
        for x in list {
            println!(
                "  {:<46} {:<10} {:<17} {:>8}",
                x.name,
                outcome_text(p, x),
                x.submitted_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "?".into()),
                minutes(x.duration(now))
            );
            if let Some(e) = &x.error {
                let code = x
                    .error_code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                println!("    {}", p.red(&format!("{code}{e}")));
            }
        }
    }
    for e in &j.errors {
        eprintln!("relcon: could not read {}: {}", e.scope, e.message);
    }
    if exit == Exit::Service {
        eprintln!(
            "relcon: partial: {} read{} failed, so this is not all there is",
            j.errors.len(),
            if j.errors.len() == 1 { "" } else { "s" }
        );
    }
    exit
}
