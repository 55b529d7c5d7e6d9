//! The audit entry of a journaled operation, one shape for every kind: actor, action, target,
//! what the operator said, the details of its kind, the request ids. Rollbacks, alert changes
//! and job retries are recorded alike, and a new kind adds its details here.

use super::journal::{OpKind, Operation};
use super::session::Session;
use crate::audit::{AuditError, Entry, Inputs, Record};

/// The entry of `op` with `result`. `comment`: what the operator wrote with the request, on the
/// entry that sends it (an alert change's note); the reason of other kinds is always recorded.
pub fn record(op: &Operation, comment: Option<&str>, result: impl Into<String>) -> Record {
    let mut details = serde_json::Map::new();
    details.insert("operation".into(), op.id.clone().into());
    match &op.kind {
        OpKind::Rollback {
            method,
            from,
            to,
            release_id,
            ..
        } => {
            details.insert("method".into(), method.as_str().into());
            details.insert("from".into(), from.map(|v| v.0).into());
            details.insert("to".into(), to.0.into());
            if let Some(r) = release_id {
                details.insert("release".into(), (*r).into());
            }
        }
        OpKind::AlertChange {
            alert,
            old_state,
            new_state,
            ..
        } => {
            details.insert("alert".into(), alert.clone().into());
            details.insert("from".into(), old_state.as_str().into());
            details.insert("to".into(), new_state.as_str().into());
        }
        OpKind::JobRetry {
            stage,
            endpoint,
            deployment,
            from_job,
            job,
            after_rollback,
            ..
        } => {
            details.insert("stage".into(), stage.to_string().into());
            details.insert("endpoint".into(), endpoint.clone().into());
            details.insert("deployment".into(), deployment.clone().into());
            details.insert("from_job".into(), from_job.clone().into());
            details.insert("job".into(), job.clone().into());
            if let Some(r) = after_rollback {
                details.insert("after_rollback".into(), r.clone().into());
            }
        }
        _ => {}
    }
    if !op.steps.is_empty() {
        details.insert("deployments".into(), op.steps.len().into());
    }
    // An alert change's reason is its note: recorded as the comment where it is sent.
    let reason = match op.kind {
        OpKind::AlertChange { .. } => None,
        _ => op.reason.clone(),
    };
    Record {
        actor: op.actor.clone(),
        action: op.action().into(),
        target: op.target(),
        inputs: Inputs {
            reason,
            comment: comment.map(str::to_owned),
            details,
            ..Inputs::default()
        },
        result: result.into(),
        request_ids: op.request_ids.clone(),
    }
}

/// Append the entry: the record before a request is sent, whose failure stops the send.
pub fn append(
    session: &Session,
    op: &Operation,
    comment: Option<&str>,
    result: impl Into<String>,
) -> Result<Entry, AuditError> {
    session.audit().append(record(op, comment, result))
}

/// Append the entry of an answer or an end, after the request went out: a log that cannot
/// take it is reported, and the journal still has it.
pub fn outcome(
    session: &Session,
    op: &Operation,
    comment: Option<&str>,
    result: impl Into<String>,
) {
    if let Err(e) = append(session, op, comment, result) {
        tracing::error!("cannot write the audit log: {e}");
    }
}
