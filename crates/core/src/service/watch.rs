//! The watch after a verified rollback (what it judges is `domain::watch`): begun when
//! `rollback::track` verifies a circuit's restore, fed after every refresh with what the
//! refresh read of the circuit (its alerts, its newest Prod scoring job, drift, accuracy), on
//! the session's clock; each change journaled, its start and its end on the audit log.

use super::journal::{OpKind, OpState, Operation};
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::fleet::FleetSnapshot;
use crate::domain::watch::{Watch, WatchReading};

fn audit(session: &Session, op: &Operation, result: String) {
    let mut details = serde_json::Map::new();
    details.insert("operation".into(), op.id.clone().into());
    if let Some(w) = &op.watch {
        details.insert("until".into(), w.until.to_rfc3339().into());
        details.insert("new_alerts".into(), w.new_alerts.len().into());
    }
    let record = Record {
        actor: op.actor.clone(),
        action: "rollback-watch".into(),
        target: op.target(),
        inputs: Inputs {
            details,
            ..Inputs::default()
        },
        result,
        request_ids: Vec::new(),
    };
    if let Err(e) = session.audit().append(record) {
        tracing::error!("cannot write the audit log: {e}");
    }
}

fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}

/// Start watching the circuit of a rollback just verified (`[incidents] watch_minutes`; 0
/// watches nothing). Journaled and on the audit log.
pub fn begin(session: &Session, op: &mut Operation) {
    let minutes = session.context().incidents.watch_minutes;
    if minutes == 0 || op.state != OpState::Verified || op.watch.is_some() {
        return;
    }
    let OpKind::Rollback { circuit, .. } = &op.kind else {
        return;
    };
    let from = op.verified_at.unwrap_or_else(|| session.now());
    op.watch = Some(Watch::new(circuit.clone(), from, minutes));
    save(session, op);
    audit(
        session,
        op,
        format!("watching for {minutes} min: new alerts, the next scoring job, drift and accuracy"),
    );
}

/// The rollback's test inference (`[incidents] test_inference`), when `job` (the watched
/// circuit's newest Prod job, as a refresh read it) is its job: its status journaled, and
/// its end (completed: verified; failed) on the audit log, so the checklist shows it without
/// anyone following the operation.
fn settle_test_inference(
    session: &Session,
    rollback: &str,
    job: &crate::domain::incidents::JobBrief,
) {
    use crate::domain::incidents::JobOutcome;
    let journal = session.journal();
    let Some(mut test) = journal.all().into_iter().find(|o| {
        matches!(&o.kind, OpKind::JobRetry { after_rollback: Some(r), job: j, .. }
            if r == rollback && *j == job.name)
    }) else {
        return;
    };
    if test.state.is_final() {
        return;
    }
    if let OpKind::JobRetry { job_status, .. } = &mut test.kind {
        *job_status = Some(job.status.as_str().to_owned());
    }
    let now = session.now();
    let end = match job.status.outcome() {
        JobOutcome::Succeeded => {
            test.advance(OpState::Verified, now);
            Some(format!("verified: job {} completed", job.name))
        }
        JobOutcome::Failed => {
            test.last_error = Some(format!("job {} {}", job.name, job.status));
            test.advance(OpState::Failed, now);
            Some(format!("failed: job {} {}", job.name, job.status))
        }
        _ => {
            test.advance(OpState::InProgress, now);
            None
        }
    };
    save(session, &mut test);
    if let Some(result) = end {
        let record = Record {
            actor: test.actor.clone(),
            action: test.action().into(),
            target: test.target(),
            inputs: Inputs::default(),
            result,
            request_ids: test.request_ids.clone(),
        };
        if let Err(e) = session.audit().append(record) {
            tracing::error!("cannot write the audit log: {e}");
        }
    }
}

/// The operations of this session's backend whose watch is still open.
pub fn open_watches(session: &Session) -> Vec<Operation> {
    let journal = session.journal();
    journal
        .all()
        .into_iter()
        .filter(|o| o.watch.as_ref().is_some_and(Watch::is_open) && journal.owns(o))
        .collect()
}

/// Feed every open watch what `snapshot` shows of its circuit; a watch that ends is
/// journaled and put on the audit log ("clean", "alert fired at 08:42 ..."). Returns the
/// operations whose watch changed.
pub fn observe(session: &Session, snapshot: &FleetSnapshot) -> Vec<Operation> {
    let mut changed = Vec::new();
    for mut op in open_watches(session) {
        let Some(w) = op.watch.as_mut() else {
            continue;
        };
        let circuit = snapshot.circuit(&w.circuit);
        let reading = WatchReading {
            alerts: snapshot
                .alerts
                .iter()
                .filter(|a| a.circuit.as_ref() == Some(&w.circuit))
                .map(|a| &a.alert)
                .collect(),
            alerts_read: circuit.is_some_and(|c| !c.alerts.unknown),
            newest_job: circuit.and_then(|c| c.jobs.last.as_ref()),
            drift: circuit.map(|c| c.drift.status),
            accuracy: circuit.map(|c| c.accuracy.status),
        };
        if let Some(job) = reading.newest_job {
            settle_test_inference(session, &op.id, job);
        }
        let before = w.clone();
        let ended = w.observe(session.now(), &reading).cloned();
        let moved = before.new_alerts != w.new_alerts
            || before.next_job != w.next_job
            || before.drift != w.drift
            || before.accuracy != w.accuracy
            || ended.is_some();
        if !moved {
            continue;
        }
        save(session, &mut op);
        if let Some(end) = ended {
            audit(session, &op, format!("watch ended: {}", end.outcome));
        }
        changed.push(op);
    }
    changed
}
