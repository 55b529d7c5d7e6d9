//! `relcon fleet`, `relcon circuit` and `relcon approvals`: the read path for scripts and for a
//! quick look without the console.

use serde_json::{Value, json};

use super::fleet_doc::{FleetDocument, circuit_json};
use super::paint::Paint;
pub use super::read_outcome::snapshot;
use super::read_outcome::{Outcome, age, errors_json, read_exit};
use super::session::{Opened, open, open_fleet_view};
use super::{Exit, Global, fail, output, print_document, print_json};
use crate::domain::fleet::{ApprovalItem, CircuitSnapshot, FleetSnapshot, gate_evidence};
use crate::domain::{CircuitRef, ModelVersion, Stage, Status};
use crate::service::approval::ApprovalEvidence;
use crate::service::evidence::CircuitEvidence;

fn status(p: Paint, s: Status) -> String {
    match s {
        Status::Ok => p.green("ok"),
        Status::Warn => p.yellow("warn"),
        Status::Alert => p.red("ALERT"),
        Status::Unknown => p.dim("?"),
    }
}

fn ver(x: Option<ModelVersion>) -> String {
    x.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

pub fn fleet(g: &Global) -> Exit {
    // Prints no series: the refresh keeps what a fleet row shows (the document is the same).
    let o = match open_fleet_view(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (s, stale) = snapshot(&o);
    let outcome = Outcome {
        snapshot: &s,
        stale,
        failed: 0,
    };
    if g.json {
        let command = output::command();
        let doc = FleetDocument {
            snapshot: &s,
            stale,
            command: command.as_deref(),
            schema_version: output::SCHEMA_VERSION,
        };
        if let Err(exit) = print_document(&doc) {
            return exit;
        }
        return read_exit(outcome, o.session.now());
    }
    let p = Paint::stdout();
    println!(
        "{}  {} plants, {} circuits  ({}{})",
        p.bold(&s.backend),
        s.plants.len(),
        s.circuit_count(),
        s.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        if stale {
            format!(", {} old", age(s.generated_at, o.session.now()))
        } else {
            String::new()
        }
    );
    for plant in &s.plants {
        let counts = plant.counts();
        println!(
            "\n{} {}  {}  {}",
            p.bold(plant.plant_id.as_str()),
            plant.name,
            status(p, plant.health()),
            p.dim(
                &counts
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
        println!(
            "  {:<10} {:<34} {:>4} {:>4} {:>4} {:>4}  {:<7} {:<7} {:<22} {:<6} APPR",
            "CIRCUIT",
            "DESCRIPTION",
            "DEV",
            "REG",
            "TEST",
            "PROD",
            "ENV",
            "LINEAGE",
            "DRIFT",
            "TESTS",
        );
        for c in &plant.circuits {
            let drift = match &c.drift.worst {
                Some(w) if c.drift.status != Status::Ok => format!(
                    "{} {} {} {:.3}",
                    c.drift.status,
                    w.feature,
                    w.metric.short(),
                    w.value
                ),
                _ => c.drift.status.to_string(),
            };
            let lineage = match c.lineage.matches {
                Some(true) => p.green("match"),
                Some(false) => p.red("BROKEN"),
                None => p.dim("?"),
            };
            let desc: String = c.description.chars().take(34).collect();
            let prod = ver(c.versions.prod);
            println!(
                "  {:<10} {:<34} {:>4} {:>4} {:>4} {:>4}{} {:<7} {:<7} {:<22} {:<6} {}",
                c.circuit.circuit.as_str(),
                desc,
                ver(c.versions.dev),
                ver(c.versions.registry),
                ver(c.versions.test),
                prod,
                if c.versions.differ() { "*" } else { " " },
                c.environment.prod.as_deref().unwrap_or("-"),
                lineage,
                drift,
                status(p, c.validation.status),
                if c.pending_approvals > 0 {
                    c.pending_approvals.to_string()
                } else {
                    String::new()
                }
            );
        }
    }
    for e in &s.errors {
        eprintln!("relcon: could not read {}: {}", e.scope, e.message);
    }
    read_exit(outcome, o.session.now())
}

fn parse_circuit(s: &str) -> Result<CircuitRef, Exit> {
    s.parse()
        .map_err(|e: crate::domain::IdError| fail(Exit::Usage, e))
}

pub fn circuit(g: &Global, which: &str) -> Exit {
    let circuit = match parse_circuit(which) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (s, stale) = snapshot(&o);
    let Some(c) = s.circuit(&circuit).cloned() else {
        // Only a complete snapshot can say a circuit is not there.
        if !s.is_complete() {
            for e in &s.errors {
                eprintln!("relcon: could not read {}: {}", e.scope, e.message);
            }
            return fail(
                Exit::Service,
                format!(
                    "cannot tell whether {circuit} is in the fleet: {} read{} failed",
                    s.errors.len(),
                    if s.errors.len() == 1 { "" } else { "s" }
                ),
            );
        }
        return fail(
            Exit::Usage,
            format!(
                "{circuit} is not in the fleet ({} circuits)",
                s.circuit_count()
            ),
        );
    };
    let ev = o.runtime.block_on(o.session.circuit_evidence(&s, &circuit));
    // The snapshot feeds the circuit's approvals, history and baseline: any failed read, of
    // it or of the evidence, makes the report partial.
    let outcome = Outcome {
        snapshot: &s,
        stale,
        failed: ev.errors.len(),
    };
    if g.json {
        let own: Vec<(&str, &str)> = ev.errors.iter().map(|e| ("evidence", e.as_str())).collect();
        print_json(&json!({
            "complete": outcome.complete(),
            "stale": stale,
            "errors": errors_json(&s, &own),
            "circuit": circuit_json(&c),
            "drift_series": c.drift.series,
            "accuracy_series": c.accuracy.series,
            "validation": c.validation,
            "evidence": ev,
            "config_diff": ev.comparison.as_ref().map(|cmp| json!({
                "old": cmp.old.label(), "new": cmp.new.label(), "semantic": cmp.semantic,
                "text": cmp.text.as_ref().map(|t| super::config_cmds::unified(Paint { enabled: false }, &cmp.old.label(), &cmp.new.label(), t)),
            })),
        }));
        return read_exit(outcome, o.session.now());
    }
    print_circuit(&c, &ev, &s, &o.session.context().thresholds);
    for e in &s.errors {
        eprintln!("relcon: could not read {}: {}", e.scope, e.message);
    }
    read_exit(outcome, o.session.now())
}

fn print_circuit(
    c: &CircuitSnapshot,
    ev: &CircuitEvidence,
    s: &FleetSnapshot,
    t: &crate::domain::Thresholds,
) {
    let p = Paint::stdout();
    println!(
        "{} {}  {}  health {}",
        p.bold(&c.circuit.to_string()),
        c.model_name,
        c.description,
        status(p, c.health())
    );
    println!("\n{}", p.bold("Versions"));
    for stage in Stage::ALL {
        let env = match stage {
            Stage::Test => c.environment.test.clone(),
            Stage::Prod => c.environment.prod.clone(),
            _ => None,
        };
        println!(
            "  {:<9} {:>4}  {}",
            stage.to_string(),
            ver(c.versions.get(stage)),
            env.map(|e| format!("env {e}")).unwrap_or_default()
        );
    }
    println!("\n{}", p.bold("Lineage (Prod)"));
    println!(
        "  commit {}  tag {}  recomputed {}  {}",
        c.lineage.commit.as_deref().unwrap_or("?"),
        c.lineage
            .prod
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_else(|| "?".into()),
        c.lineage
            .config
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_else(|| "?".into()),
        match c.lineage.matches {
            Some(true) => p.green("match"),
            Some(false) =>
                p.red("MISMATCH: the Prod model was not trained from the config at its commit"),
            None => p.dim("unknown"),
        }
    );
    if let Some(cmp) = &ev.comparison {
        println!(
            "\n{}",
            p.bold(&format!(
                "Config: Prod {} -> candidate {}",
                cmp.old.label(),
                cmp.new.label()
            ))
        );
        match (&cmp.semantic, &cmp.text) {
            (Some(d), Some(t)) => {
                print!(
                    "{}",
                    super::config_cmds::summary(p, &cmp.old.label(), &cmp.new.label(), d)
                );
                if !t.is_empty() {
                    print!(
                        "{}",
                        super::config_cmds::unified(p, &cmp.old.label(), &cmp.new.label(), t)
                    );
                }
            }
            _ => println!(
                "  cannot compare: {}",
                [&cmp.old.text, &cmp.new.text]
                    .iter()
                    .filter_map(|t| t.as_ref().err())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
    println!("\n{}", p.bold("Drift (latest, 30 days)"));
    let fw = c
        .drift
        .series
        .iter()
        .map(|s| s.feature.chars().count())
        .max()
        .unwrap_or(8);
    for sr in &c.drift.series {
        let latest = sr.series.latest();
        let (st, limit) = sr.metric.evaluate(latest.unwrap_or(f64::NAN), t);
        println!(
            "  {:<fw$} {:<5} {:>8}  limit {limit:<5} {}",
            sr.feature,
            sr.metric.short(),
            latest
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "-".into()),
            status(p, st)
        );
    }
    println!(
        "  accuracy (MAE in Prod): {} {}",
        c.accuracy
            .latest
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "-".into()),
        status(p, c.accuracy.status)
    );
    println!("\n{}", p.bold("Validation"));
    match &c.validation.verdict {
        Some(v) => {
            for ch in &v.checks {
                println!(
                    "  {:<5} {:>8} limit {:<6} baseline {:<8} {}",
                    ch.metric.to_string(),
                    ch.value
                        .map(|x| format!("{x:.4}"))
                        .unwrap_or_else(|| "-".into()),
                    ch.limit,
                    ch.baseline
                        .map(|x| format!("{x:.4}"))
                        .unwrap_or_else(|| "-".into()),
                    status(p, ch.status)
                );
            }
        }
        None => println!("  no validation found"),
    }
    println!("\n{}", p.bold("Prod history (newest first)"));
    for h in &ev.history {
        println!(
            "  v{:<4} {:<14} {}  {}{}",
            h.version.0,
            h.release_name,
            h.deployed_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            if h.healthy() {
                p.green("healthy")
            } else {
                p.yellow(&h.concerns().join(", "))
            },
            if h.current {
                p.bold("  <- in Prod")
            } else {
                String::new()
            }
        );
    }
    let releases: Vec<_> = s.releases_of(&c.circuit).take(8).collect();
    if !releases.is_empty() {
        println!("\n{}", p.bold("Releases"));
        for r in releases {
            let stages: Vec<String> = r
                .stages
                .iter()
                .map(|st| format!("{} {}", st.stage, st.status))
                .collect();
            println!(
                "  {:<14} v{:<4} {}",
                r.name,
                r.version_for(&c.circuit).map(|v| v.0).unwrap_or(0),
                stages.join(" · ")
            );
        }
    }
    for e in &ev.errors {
        eprintln!("relcon: {e}");
    }
}

fn approval_json(
    s: &FleetSnapshot,
    a: &ApprovalItem,
    o: &Opened,
    ev: Option<&ApprovalEvidence>,
) -> Value {
    let ctx = o.session.context();
    let operator = s.identity.clone().unwrap_or_default();
    let gate = gate_evidence(s, a, &ctx.thresholds);
    let check = ctx.policy.check_approve(a, &operator, &gate);
    json!({
        "release_id": a.release_id,
        "release": a.release_name,
        "stage": a.stage.release_environment(),
        "approval_ids": a.pending_ids,
        "requested_by": a.requested_by.unique_name,
        "requested_at": a.requested_at,
        "approved_by": a.approved.iter().map(|d| d.by.unique_name.clone()).collect::<Vec<_>>(),
        "approvals": a.approved.len(),
        "required": ctx.policy.required_approvers(a),
        "environment_only": a.environment_only,
        "rollback_run": a.rollback_run,
        "platform": {
            "approvers": a.approvers.iter().map(|i| i.unique_name.clone()).collect::<Vec<_>>(),
            "blocked_approvers": a.blocked_approvers.iter().map(|i| i.unique_name.clone()).collect::<Vec<_>>(),
            "you_may_decide": a.caller_may_decide,
        },
        "circuits": a.models.iter().map(|m| json!({"circuit": m.circuit, "version": m.version.0})).collect::<Vec<_>>(),
        "evidence": {
            "gate": {
                "passed": gate.iter().filter(|g| g.status == Status::Ok).count(),
                "failing": gate.iter().filter(|g| g.status != Status::Ok).map(|g| json!({"circuit": g.circuit, "status": g.status, "detail": g.detail})).collect::<Vec<_>>(),
            },
            "changes": ev.map(|e| json!(e.grouped)),
        },
        "policy": {"allowed": check.allowed(), "needs_override": check.needs_override(), "reasons": check.reasons()},
    })
}

pub fn approvals(g: &Global) -> Exit {
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (s, stale) = snapshot(&o);
    let evidence: Vec<Option<ApprovalEvidence>> = s
        .approvals
        .iter()
        .map(|a| {
            (a.environment_only.is_none())
                .then(|| o.runtime.block_on(o.session.approval_evidence(&s, a)))
        })
        .collect();
    let evidence_errors: Vec<(&str, &str)> = evidence
        .iter()
        .flatten()
        .flat_map(|e| e.errors.iter().map(|m| ("approval evidence", m.as_str())))
        .collect();
    // Policy, the test gate and its Prod baseline read the whole snapshot: any failed read
    // makes the list partial.
    let outcome = Outcome {
        snapshot: &s,
        stale,
        failed: evidence_errors.len(),
    };
    let complete = outcome.complete();
    if g.json {
        print_json(&json!({
            "complete": complete,
            "stale": stale,
            "generated_at": s.generated_at,
            "identity": s.identity.as_ref().map(|i| i.unique_name.clone()),
            "approvals": s.approvals.iter().zip(&evidence).map(|(a, e)| approval_json(&s, a, &o, e.as_ref())).collect::<Vec<_>>(),
            "errors": errors_json(&s, &evidence_errors),
        }));
        return read_exit(outcome, o.session.now());
    }
    let p = Paint::stdout();
    let ctx = o.session.context();
    let operator = s.identity.clone().unwrap_or_default();
    if s.approvals.is_empty() && complete {
        println!("nothing waits for approval");
    } else if s.approvals.is_empty() {
        println!("no pending approval could be read (see below)");
    }
    for (a, ev) in s.approvals.iter().zip(&evidence) {
        let gate = gate_evidence(&s, a, &ctx.thresholds);
        let check = ctx.policy.check_approve(a, &operator, &gate);
        let failing = gate.iter().filter(|g| g.status != Status::Ok).count();
        let stage = match a.stage {
            Stage::Prod => p.red("PRODUCTION"),
            s => s.release_environment().unwrap_or("?").to_owned(),
        };
        println!(
            "\n{} {}  {}  requested by {} {} ago  {} of {} approvals  ids {}",
            p.bold(&a.release_name),
            stage,
            a.environment_only
                .as_ref()
                .map(|v| format!("environment-only -> {v}"))
                .unwrap_or_else(|| format!("{} circuits", a.models.len())),
            a.requested_by.name(),
            a.requested_at
                .map(|t| age(t, o.session.now()))
                .unwrap_or_else(|| "?".into()),
            a.approved.len(),
            ctx.policy.required_approvers(a),
            a.pending_ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        if !a.description.is_empty() {
            println!("  {}", p.dim(&a.description));
        }
        if a.stage == Stage::Prod {
            println!(
                "  tests: {} passed, {}",
                gate.len() - failing,
                if failing == 0 {
                    p.green("0 failing")
                } else {
                    p.red(&format!("{failing} failing"))
                }
            );
        }
        if let Some(ev) = ev {
            for grp in ev.grouped.groups.iter().take(6) {
                println!(
                    "  {:>4} x {}{}",
                    grp.circuits.len(),
                    grp.key.describe(),
                    if grp.key.in_training_hash {
                        p.yellow("  [retrains]")
                    } else {
                        String::new()
                    }
                );
            }
            for odd in &ev.grouped.odd_ones {
                println!(
                    "  odd one out {}: {}",
                    odd.circuit,
                    odd.extra
                        .iter()
                        .map(|k| k.describe())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
        if check.allowed() {
            println!("  {}", p.green("you can approve"));
        } else {
            for r in check.reasons() {
                println!("  {} {r}", p.yellow("cannot approve:"));
            }
        }
    }
    for e in &s.errors {
        eprintln!("relcon: could not read {}: {}", e.scope, e.message);
    }
    for (_, e) in &evidence_errors {
        eprintln!("relcon: could not read {e}");
    }
    read_exit(outcome, o.session.now())
}
