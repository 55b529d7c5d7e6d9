//! `relcon approve`, `reject`, `rollback` and `ops`: the write path, headless. The same
//! service calls as the console, so the same policy, journal and audit log.

use serde_json::json;

use super::paint::Paint;
use super::read_cmds::snapshot;
use super::session::{Opened, open};
use super::{Exit, Global, fail, print_json};
use crate::domain::Status;
use crate::domain::platform::IdentityRef;
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::TargetChoice;
use crate::service::decide::{DecisionOutcome, DecisionRequest, Verdict, decide};
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::rollback::{self, RollbackPlan, RollbackRequest};

fn exit_of(code: u8) -> Exit {
    match code {
        0 => Exit::Ok,
        1 => Exit::Refused,
        3 => Exit::Conflict,
        2 => Exit::Usage,
        _ => Exit::Service,
    }
}

/// The worst of several exit codes: service failure, then conflict, then refusal.
fn worst(codes: impl IntoIterator<Item = u8>) -> Exit {
    let rank = |c: u8| match c {
        4 => 4,
        3 => 3,
        2 => 2,
        1 => 1,
        _ => 0,
    };
    exit_of(codes.into_iter().max_by_key(|c| rank(*c)).unwrap_or(0))
}

fn operator(o: &Opened) -> Result<IdentityRef, Exit> {
    o.runtime
        .block_on(o.session.identity())
        .map_err(|e| fail(Exit::Service, format!("cannot tell who you are: {e}")))
}

/// Approve or reject each id; one failure does not stop the rest.
pub fn decide_all(
    g: &Global,
    verdict: Verdict,
    ids: &[crate::domain::platform::ApprovalId],
    comment: &str,
    override_reason: Option<String>,
) -> Exit {
    if comment.trim().is_empty() {
        return fail(Exit::Usage, "--comment is required: say why");
    }
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let me = match operator(&o) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let (s, _) = snapshot(&o);
    let outcomes: Vec<DecisionOutcome> = ids
        .iter()
        .map(|id| {
            let req = DecisionRequest {
                approval_id: id.clone(),
                verdict,
                comment: comment.to_owned(),
                override_reason: override_reason.clone(),
            };
            o.runtime.block_on(decide(&o.session, &s, &me, &req))
        })
        .collect();
    let exit = worst(outcomes.iter().map(DecisionOutcome::exit_code));
    if g.json {
        print_json(&json!({"actor": me.unique_name, "results": outcomes}));
    } else {
        let p = Paint::stdout();
        for out in &outcomes {
            let line = out.describe();
            println!(
                "{}",
                match out {
                    DecisionOutcome::Done { .. } => p.green(&line),
                    DecisionOutcome::Refused { .. } | DecisionOutcome::Conflict { .. } =>
                        p.yellow(&line),
                    DecisionOutcome::Failed { .. } => p.red(&line),
                }
            );
            if let DecisionOutcome::Refused {
                overridable: true, ..
            } = out
            {
                println!(
                    "  {}",
                    p.dim(
                        "to approve anyway: --override-gate --reason TEXT (recorded as break-glass)"
                    )
                );
            }
        }
    }
    exit
}

fn print_plan(p: Paint, plan: &RollbackPlan) {
    println!(
        "{} {}",
        p.bold("Rollback plan for"),
        p.bold(&plan.circuit.to_string())
    );
    println!(
        "  model        v{} -> v{}  ({})",
        plan.from
            .map(|v| v.0.to_string())
            .unwrap_or_else(|| "?".into()),
        plan.to,
        if plan.target.healthy() {
            p.green("last known good")
        } else {
            p.yellow(&plan.target.concerns().join(", "))
        }
    );
    println!(
        "  environment  {} -> {}",
        plan.from_environment.as_deref().unwrap_or("?"),
        plan.to_environment.as_deref().unwrap_or("?")
    );
    println!("  method       {}", plan.method.as_str());
    if let Some(r) = &plan.redeploy {
        println!(
            "  release      {} (Production environment {})",
            r.release_name, r.environment_id
        );
    }
    println!(
        "  SLA          {} minutes from the request to a verified restore",
        plan.sla_minutes
    );
    let others: Vec<_> = plan.others().collect();
    if others.is_empty() {
        println!("  blast radius only {}", plan.circuit);
    } else {
        println!(
            "  {} this redeploy also changes:",
            p.yellow("blast radius:")
        );
        for c in others {
            println!(
                "    {} v{} -> v{}",
                c.circuit,
                c.from
                    .map(|v| v.0.to_string())
                    .unwrap_or_else(|| "?".into()),
                c.to
            );
        }
    }
    if let Some(cfg) = &plan.config
        && let (Some(d), Some(t)) = (&cfg.semantic, &cfg.text)
    {
        println!();
        print!(
            "{}",
            super::config_cmds::summary(p, &cfg.old.label(), &cfg.new.label(), d)
        );
        if !t.is_empty() {
            print!(
                "{}",
                super::config_cmds::unified(p, &cfg.old.label(), &cfg.new.label(), t)
            );
        }
    }
    println!("\n  calls:");
    for (i, c) in plan.calls.iter().enumerate() {
        println!("    {}. {c}", i + 1);
    }
    for w in &plan.warnings {
        println!("  {} {w}", p.yellow("warning:"));
    }
}

fn print_progress(p: Paint, op: &Operation, now: chrono::DateTime<chrono::Utc>) {
    let sla = rollback::sla(op);
    let clock = sla.map(|s| {
        let label = s.label(now);
        match s.status(now) {
            Status::Ok => p.green(&label),
            Status::Warn => p.yellow(&label),
            _ => p.red(&label),
        }
    });
    let steps = if op.steps.is_empty() {
        String::new()
    } else {
        let done = op
            .steps
            .iter()
            .filter(|s| s.state == OpState::Verified)
            .count();
        format!("  {done}/{} deployments", op.steps.len())
    };
    let waiting = match op.waiting.as_ref().filter(|_| !op.state.is_final()) {
        Some(w) => format!("  {}", p.yellow(w)),
        None => String::new(),
    };
    eprintln!(
        "[{:>4}s] {} {}{}  SLA {}{}",
        rollback::elapsed(op, now),
        op.target(),
        op.state.as_str(),
        steps,
        clock.unwrap_or_default(),
        waiting
    );
}

fn finish(g: &Global, op: &Operation, note: Option<&str>) -> Exit {
    let exit = match op.state {
        OpState::Verified | OpState::Submitted | OpState::InProgress | OpState::Succeeded => {
            Exit::Ok
        }
        OpState::Failed | OpState::NotSent | OpState::Submitting => Exit::Service,
    };
    if g.json {
        let mut out = json!({"kind": "operation", "operation": op, "time_to_verified_seconds": op.time_to_verified().map(|d| d.num_seconds())});
        if let Some(n) = note {
            out["rerun"] = n.into();
        }
        print_json(&out);
    } else {
        let p = Paint::stdout();
        match (op.state, op.time_to_verified()) {
            (OpState::Verified, Some(d)) => println!(
                "{}",
                p.green(&format!(
                    "{}: verified restore in {}m{:02}s (operation {})",
                    op.target(),
                    d.num_minutes(),
                    d.num_seconds() % 60,
                    op.id
                ))
            ),
            (s, _) if s.is_final() => println!(
                "{}",
                p.red(&format!(
                    "{}: {}: {}",
                    op.target(),
                    s.as_str(),
                    op.last_error.clone().unwrap_or_default()
                ))
            ),
            (s, _) => println!(
                "{}: {} (operation {}; follow with `relcon ops --wait`)",
                op.target(),
                s.as_str(),
                op.id
            ),
        }
        if let Some(w) = &op.watch {
            println!(
                "  {} (until {}; relcon ops shows it)",
                w.label(w.started_at),
                w.until.format("%H:%M UTC")
            );
        }
    }
    exit
}

pub struct RollbackArgs<'a> {
    pub circuit: Option<&'a str>,
    pub environment: bool,
    pub to: &'a str,
    pub method: Option<RollbackMethod>,
    pub plan_only: bool,
    pub yes: bool,
    pub wait: bool,
    pub reason: Option<String>,
}

pub fn rollback(g: &Global, a: RollbackArgs<'_>) -> Exit {
    let target: TargetChoice = match a.to.parse() {
        Ok(t) => t,
        Err(e) => return fail(Exit::Usage, e),
    };
    let circuit = match (a.circuit, a.environment) {
        (Some(c), false) => match c.parse() {
            Ok(c) => Some(c),
            Err(e) => return fail(Exit::Usage, e),
        },
        (None, true) => None,
        _ => {
            return fail(
                Exit::Usage,
                "give PLANT/CIRCUIT or --environment (not both)",
            );
        }
    };
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let p = Paint::stdout();
    let (s, _) = snapshot(&o);
    let me = match operator(&o) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let mut progress = |op: &Operation| {
        if !g.json {
            print_progress(p, op, o.session.now());
        }
    };
    // A rollback of this circuit (or of the environment) is in the journal, unfinished: that
    // one is shown and followed, never a second plan.
    if let Some(op) = rollback::in_flight(&o.session, circuit.as_ref()) {
        return rerun(&o, g, &a, target, op, &me, &mut progress);
    }
    let Some(circuit) = circuit else {
        // Environment rollback.
        let plan = match rollback::plan_environment(o.session.context(), &s) {
            Ok(pl) => pl,
            Err(e) => return fail(refusal(&s), e),
        };
        if a.plan_only || !a.yes {
            if g.json {
                print_json(&json!({
                    "kind": "environment-plan",
                    "complete": s.is_complete(),
                    "plan": plan,
                    "errors": s.errors,
                }));
            } else {
                println!(
                    "Environment rollback: every Prod deployment {} -> {} ({} deployments)",
                    plan.from,
                    plan.to,
                    plan.steps.len()
                );
                for c in &plan.calls {
                    println!("  {c}");
                }
            }
            return previewed(a.plan_only, &s);
        }
        let sent = o.runtime.block_on(rollback::execute_environment(
            &o.session,
            &plan,
            &me,
            a.reason.clone(),
        ));
        return follow(&o, g, sent, a.wait, &mut progress, None);
    };
    let req = RollbackRequest {
        circuit,
        target,
        method: a.method,
    };
    if s.circuit(&req.circuit).is_none() && !s.is_complete() {
        return fail(
            Exit::Service,
            format!(
                "cannot tell whether {} is in the fleet: {} read(s) failed: {}",
                req.circuit,
                s.errors.len(),
                s.errors
                    .iter()
                    .map(|e| format!("{}: {}", e.scope, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    let mut plan = match o.runtime.block_on(rollback::plan(&o.session, &s, &req)) {
        Ok(pl) => pl,
        Err(e) => return fail(refusal(&s), e),
    };
    if !s.is_complete() {
        plan.warnings.push(format!(
            "planned from a partial snapshot ({} read(s) failed): the history or the blast radius may be missing something",
            s.errors.len()
        ));
    }
    if a.plan_only || !a.yes {
        if g.json {
            print_json(&json!({
                "kind": "plan",
                "complete": s.is_complete(),
                "plan": plan,
                "config_diff": plan.config.as_ref().and_then(|c| c.semantic.clone()),
                "errors": s.errors,
            }));
        } else {
            print_plan(p, &plan);
        }
        return previewed(a.plan_only, &s);
    }
    if !g.json {
        print_plan(p, &plan);
    }
    let sent = o
        .runtime
        .block_on(rollback::execute(&o.session, &plan, &me, a.reason.clone()));
    follow(&o, g, sent, a.wait, &mut progress, None)
}

/// What the operator reran, against what is in flight: a different target or method is
/// refused rather than silently replaced by the one in flight.
fn rerun_mismatch(a: &RollbackArgs<'_>, target: TargetChoice, op: &Operation) -> Option<String> {
    let OpKind::Rollback { to, method, .. } = &op.kind else {
        return None;
    };
    let asked = match target {
        TargetChoice::Version(v) if v != *to => format!("v{v}"),
        _ => match a.method {
            Some(m) if m != *method => format!("the {} method", m.as_str()),
            _ => return None,
        },
    };
    Some(format!(
        "operation {} is rolling {} back to v{to} ({}); a rollback to {asked} must wait until it \
         ends (follow it: relcon ops --wait)",
        op.id,
        op.target(),
        method.as_str()
    ))
}

/// The operation in flight, in a few lines: what it does, where it stands, its SLA.
fn print_in_flight(p: Paint, op: &Operation, now: chrono::DateTime<chrono::Utc>) {
    println!(
        "{} {} (operation {})",
        p.bold("Rollback already in flight:"),
        p.bold(&op.target()),
        op.id
    );
    if let OpKind::Rollback {
        from, to, method, ..
    } = &op.kind
    {
        println!(
            "  model        v{} -> v{to} ({})",
            from.map(|v| v.0.to_string()).unwrap_or_else(|| "?".into()),
            method.as_str()
        );
    }
    if !op.steps.is_empty() {
        let done = op
            .steps
            .iter()
            .filter(|s| s.state == OpState::Verified)
            .count();
        println!("  deployments  {done} of {} verified", op.steps.len());
    }
    println!(
        "  requested    {} by {}{}",
        op.requested_at.format("%Y-%m-%d %H:%M:%S UTC"),
        op.actor,
        op.reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
    println!("  state        {}", op.state.as_str());
    if let Some(s) = rollback::sla(op) {
        println!("  SLA          {}", s.label(now));
    }
    if let Some(w) = &op.waiting {
        println!("  waiting      {}", p.yellow(w));
    }
}

/// The rollback asked for is the one in flight: show it, and with `--yes` follow it (sending
/// it once if relcon stopped before sending it).
fn rerun(
    o: &Opened,
    g: &Global,
    a: &RollbackArgs<'_>,
    target: TargetChoice,
    op: Operation,
    me: &IdentityRef,
    progress: rollback::Progress<'_>,
) -> Exit {
    if let Some(why) = rerun_mismatch(a, target, &op) {
        return fail(Exit::Refused, why);
    }
    let p = Paint::stdout();
    if !g.json {
        print_in_flight(p, &op, o.session.now());
    }
    if a.plan_only || !a.yes {
        let next = if op.state == OpState::Submitting {
            "it was journaled but may not have been sent: run the same command with --yes to \
             re-read the service and send it if it was not"
        } else {
            "follow it with --yes --wait (nothing is sent again) or relcon ops --wait"
        };
        if g.json {
            print_json(&json!({"kind": "in-flight", "operation": op, "next": next}));
        } else {
            println!("  {}", p.dim(next));
        }
        return if a.plan_only || op.state != OpState::Submitting {
            Exit::Ok
        } else {
            fail(Exit::Usage, "add --yes to send it")
        };
    }
    let sent = o.runtime.block_on(rollback::rerun(&o.session, op, me));
    let (op, how) = match sent {
        Ok(r) => r,
        Err(rollback::ExecuteError::Refused(m)) => return fail(Exit::Refused, m),
        Err(rollback::ExecuteError::Failed(m)) => return fail(Exit::Service, m),
    };
    let note = how.describe(&op);
    if !g.json {
        println!("{}", p.yellow(&note));
    }
    follow(o, g, Ok(op), a.wait, progress, Some(&note))
}

/// A plan that cannot be made is refused (exit 1), unless the snapshot it was made from is
/// partial: then what is missing may be why (exit 4).
fn refusal(s: &crate::domain::fleet::FleetSnapshot) -> Exit {
    if s.is_complete() {
        Exit::Refused
    } else {
        for e in &s.errors {
            eprintln!("relcon: could not read {}: {}", e.scope, e.message);
        }
        Exit::Service
    }
}

/// `--plan`, or no `--yes`: the plan was shown and nothing is sent. A plan from a partial
/// snapshot is a report of what could not all be read: exit 4.
fn previewed(plan_only: bool, s: &crate::domain::fleet::FleetSnapshot) -> Exit {
    if plan_only && !s.is_complete() {
        for e in &s.errors {
            eprintln!("relcon: could not read {}: {}", e.scope, e.message);
        }
        eprintln!("relcon: partial: the plan above was made from a partial snapshot");
        Exit::Service
    } else if plan_only {
        Exit::Ok
    } else {
        fail(
            Exit::Usage,
            "this changes Prod: add --yes to execute (or --plan to only preview)",
        )
    }
}

/// A rollback sent (or refused, exit 1; or failed, exit 4), followed to its end with `--wait`.
fn follow(
    o: &super::session::Opened,
    g: &Global,
    sent: Result<Operation, rollback::ExecuteError>,
    wait: bool,
    progress: rollback::Progress<'_>,
    note: Option<&str>,
) -> Exit {
    let op = match sent {
        Ok(op) => op,
        Err(rollback::ExecuteError::Refused(m)) => return fail(Exit::Refused, m),
        Err(rollback::ExecuteError::Failed(m)) => return fail(Exit::Service, m),
    };
    let op = if wait {
        o.runtime
            .block_on(rollback::track(&o.session, op, progress))
    } else {
        op
    };
    finish(g, &op, note)
}

pub fn ops(g: &Global, wait: bool) -> Exit {
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let p = Paint::stdout();
    if wait {
        let mut progress = |op: &Operation| {
            if !g.json {
                print_progress(p, op, o.session.now());
            }
        };
        o.runtime
            .block_on(rollback::resume_all(&o.session, &mut progress));
    }
    // The watches after verified rollbacks are fed by a refresh: read the fleet when one is
    // open, so that what is shown is now (a refresh that could not read the circuit's alerts
    // leaves its watch open, never "clean").
    if !crate::service::watch::open_watches(&o.session).is_empty() {
        let _ = o.runtime.block_on(o.session.refresh());
    }
    // A journal file that cannot be read is an operation this list cannot show: exit 4.
    let (all, unreadable) = o.session.journal().read_all();
    for e in &unreadable {
        eprintln!("relcon: could not read the journal entry {e}");
    }
    let exit = if unreadable.is_empty() {
        Exit::Ok
    } else {
        Exit::Service
    };
    if g.json {
        print_json(&json!({
            "journal": o.session.journal().dir().display().to_string(),
            "complete": unreadable.is_empty(),
            "operations": all,
            "errors": unreadable.iter().map(|m| json!({"scope": "journal", "message": m})).collect::<Vec<_>>(),
        }));
        return exit;
    }
    if all.is_empty() {
        println!("no operations in {}", o.session.journal().dir().display());
    }
    for op in all.iter().take(50) {
        let state = match op.state {
            OpState::Verified if op.watch.as_ref().is_some_and(|w| w.is_open()) => {
                p.yellow("watching")
            }
            OpState::Verified => p.green(op.state.as_str()),
            OpState::Failed | OpState::NotSent => p.red(op.state.as_str()),
            s => p.yellow(s.as_str()),
        };
        let extra = match (op.time_to_verified(), &op.watch) {
            (Some(d), Some(w)) => format!(
                "restored in {}m{:02}s · {}",
                d.num_minutes(),
                d.num_seconds() % 60,
                w.label(o.session.now())
            ),
            (Some(d), None) => format!(
                "restored in {}m{:02}s",
                d.num_minutes(),
                d.num_seconds() % 60
            ),
            (None, _) if !op.state.is_final() => rollback::sla(op)
                .map(|s| format!("SLA {}", s.label(o.session.now())))
                .unwrap_or_default(),
            (None, _) => op.last_error.clone().unwrap_or_default(),
        };
        println!(
            "{}  {:<20} {:<10} {:<44} {:<12} {}",
            op.requested_at.format("%Y-%m-%d %H:%M:%S"),
            op.actor,
            op.action(),
            op.target(),
            state,
            extra
        );
    }
    exit
}
