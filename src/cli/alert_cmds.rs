//! `relcon alert ack|close|reopen ID`: an Azure Monitor alert's state changed headless, through
//! the same service call as the console (policy, re-read, journal and audit before the POST,
//! sent once, re-read after). Exit 0 done (or nothing to do), 1 refused, 2 no such alert (or
//! an id naming several), 3 conflict, 4 failed.

use serde_json::json;

use super::paint::Paint;
use super::session::open;
use super::{Exit, Global, fail, print_json};
use crate::domain::incidents::AlertState;
use crate::service::alert_change::{AlertChangeOutcome, AlertChangeRequest, change};

fn exit_of(o: &AlertChangeOutcome) -> Exit {
    match o.exit_code() {
        0 => Exit::Ok,
        1 => Exit::Refused,
        2 => Exit::Usage,
        3 => Exit::Conflict,
        _ => Exit::Service,
    }
}

/// Change the state of the alert `id` (its id from `relcon alerts`, its GUID, or the start of
/// the GUID) to `to`.
pub fn change_state(g: &Global, id: &str, to: AlertState, comment: Option<String>) -> Exit {
    if id.trim().is_empty() {
        return fail(
            Exit::Usage,
            "give the alert's id (relcon alerts lists them)",
        );
    }
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let me = match o.runtime.block_on(o.session.identity()) {
        Ok(m) => m,
        Err(e) => return fail(Exit::Service, format!("cannot tell who you are: {e}")),
    };
    let req = AlertChangeRequest {
        alert: id.to_owned(),
        to,
        comment,
    };
    let outcome = o.runtime.block_on(change(&o.session, &me, &req));
    let exit = exit_of(&outcome);
    if g.json {
        print_json(&json!({"actor": me.unique_name, "result": outcome}));
        return exit;
    }
    let p = Paint::stdout();
    let line = outcome.describe();
    match &outcome {
        AlertChangeOutcome::Done { .. } | AlertChangeOutcome::Unchanged { .. } => {
            println!("{}", p.green(&line))
        }
        AlertChangeOutcome::Refused { .. } | AlertChangeOutcome::Conflict { .. } => {
            println!("{}", p.yellow(&line))
        }
        AlertChangeOutcome::Invalid { .. } | AlertChangeOutcome::Failed { .. } => {
            eprintln!("relcon: {line}");
            super::output::record_error(&line);
        }
    }
    if let Some(a) = outcome.alert() {
        println!(
            "  {} {}  {}{}",
            a.severity,
            a.state,
            a.circuit.as_deref().unwrap_or("no circuit"),
            a.modified_by
                .as_deref()
                .map(|b| format!("  last changed by {b}"))
                .unwrap_or_default()
        );
        println!("  {}", p.dim(&a.id));
    }
    if let AlertChangeOutcome::Done { operation, .. } = &outcome {
        println!(
            "  {}",
            p.dim(&format!("operation {operation} (relcon ops)"))
        );
    }
    exit
}
