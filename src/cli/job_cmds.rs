//! `relcon jobs retry PLANT/CIRCUIT JOB`: a failed batch scoring job started again with its
//! inputs, headless, through the same service call as the console (policy, the job re-read,
//! journal and audit before the POST, sent once, followed to its end). Without `--yes` it shows
//! what would be sent and sends nothing (exit 2), as `relcon rollback` does; in Test, at a
//! terminal, it asks instead. Exit 0 done, 1 refused, 2 no such job (or not confirmed), 3 the
//! job is not failed (it ran again, or is running), 4 failed (or it failed again).

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;

use super::paint::Paint;
use super::session::open;
use super::{Exit, Global, fail, print_json};
use crate::domain::{CircuitRef, Stage};
use crate::service::job_retry::{JobRetryOutcome, JobRetryRequest, RetryBrief, preview, retry};

fn exit_of(o: &JobRetryOutcome) -> Exit {
    match o.exit_code() {
        0 => Exit::Ok,
        1 => Exit::Refused,
        2 => Exit::Usage,
        3 => Exit::Conflict,
        _ => Exit::Service,
    }
}

/// What the flags ask for.
pub struct RetryArgs<'a> {
    pub circuit: &'a str,
    pub job: &'a str,
    pub stage: Stage,
    pub yes: bool,
    pub reason: Option<String>,
}

fn print_brief(p: Paint, b: &RetryBrief) {
    if !b.job.is_empty() {
        println!("  new job {}  {}", b.job, b.status);
    }
    if let (Some(s), Some(e)) = (b.started_at, b.ended_at) {
        let d = e - s;
        println!("  ran {}m{:02}s", d.num_minutes(), d.num_seconds() % 60);
    }
    if let Some(e) = &b.error {
        println!("  {}", p.red(e));
    }
    for i in &b.inputs {
        println!("  {}", p.dim(&format!("input {i}")));
    }
}

/// Ask y/n at a terminal (Test only; Prod takes `--yes`).
fn ask(question: &str) -> bool {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return false;
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

pub fn retry_job(g: &Global, a: RetryArgs<'_>) -> Exit {
    let circuit: CircuitRef = match a.circuit.parse() {
        Ok(c) => c,
        Err(e) => return fail(Exit::Usage, e),
    };
    if a.job.trim().is_empty() {
        return fail(
            Exit::Usage,
            format!("give the failed job's name (relcon jobs {circuit} lists them)"),
        );
    }
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let req = JobRetryRequest {
        circuit: circuit.clone(),
        stage: a.stage,
        job: a.job.trim().to_owned(),
        reason: a.reason.clone(),
    };
    let p = Paint::stdout();
    let mut yes = a.yes;
    if !yes {
        // Nothing is sent without a confirmation: show what would be, then stop (or ask).
        let plan = match o.runtime.block_on(preview(&o.session, &req)) {
            Ok(b) => b,
            Err(outcome) => return report(g, None, &outcome),
        };
        let words = format!(
            "would start job {} of {circuit} again in {} with its inputs",
            plan.from_job, a.stage
        );
        if a.stage == Stage::Test && !g.json {
            println!("{words}:");
            print_brief(p, &plan);
            yes = ask("Retry it now?");
        }
        if !yes {
            let why = if a.stage == Stage::Prod {
                "this starts a Prod scoring job: add --yes to send it"
            } else {
                "not confirmed: add --yes to send it"
            };
            if g.json {
                print_json(&json!({"plan": plan, "sent": false, "error": why}));
            } else if a.stage == Stage::Prod {
                println!("{words}:");
                print_brief(p, &plan);
            }
            return fail(Exit::Usage, why);
        }
    }
    let me = match o.runtime.block_on(o.session.identity()) {
        Ok(m) => m,
        Err(e) => return fail(Exit::Service, format!("cannot tell who you are: {e}")),
    };
    let json_mode = g.json;
    let mut seen = String::new();
    let mut progress = |b: &RetryBrief| {
        if !json_mode && b.status != seen {
            eprintln!("relcon: job {} {}", b.job, b.status);
            seen = b.status.clone();
        }
    };
    let outcome = o
        .runtime
        .block_on(retry(&o.session, &me, &req, &mut progress));
    report(g, Some(&me.unique_name), &outcome)
}

fn report(g: &Global, actor: Option<&str>, outcome: &JobRetryOutcome) -> Exit {
    let exit = exit_of(outcome);
    if g.json {
        print_json(&json!({"actor": actor, "result": outcome}));
        return exit;
    }
    let p = Paint::stdout();
    let line = outcome.describe();
    match outcome {
        JobRetryOutcome::Done { .. } | JobRetryOutcome::Unchanged { .. } => {
            println!("{}", p.green(&line))
        }
        JobRetryOutcome::Running { .. } => println!("{}", p.cyan(&line)),
        JobRetryOutcome::Refused { .. } | JobRetryOutcome::Conflict { .. } => {
            println!("{}", p.yellow(&line))
        }
        JobRetryOutcome::Invalid { .. } | JobRetryOutcome::Failed { .. } => {
            eprintln!("relcon: {line}");
            super::output::record_error(&line);
        }
    }
    if let Some(b) = outcome.retry() {
        print_brief(p, b);
    }
    if let JobRetryOutcome::Done { operation, .. }
    | JobRetryOutcome::Running { operation, .. }
    | JobRetryOutcome::Failed {
        operation: Some(operation),
        ..
    } = outcome
    {
        println!(
            "  {}",
            p.dim(&format!("operation {operation} (relcon ops)"))
        );
    }
    exit
}
