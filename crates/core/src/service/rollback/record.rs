//! What a rollback puts on record: its audit entries (refused, sending, the answer, the end,
//! abandoned) and the journal writes made along the way. Record, then act: the "sending" entry
//! is fsynced before a request goes out, and an audit log that cannot take it refuses the
//! change.

use std::sync::Arc;

use super::error::{ExecuteError, RollbackFailure};
use super::plan::RollbackPlan;
use crate::audit::{AuditError, Entry, Inputs, Record};
use crate::domain::platform::IdentityRef;
use crate::service::journal::{OpState, Operation};
use crate::service::op_audit;
use crate::service::session::Session;

/// The audit entry of an operation (`service::op_audit`), with `result`.
pub(super) fn audit_op(
    session: &Session,
    op: &Operation,
    result: impl Into<String>,
) -> Result<Entry, AuditError> {
    op_audit::append(session, op, None, result)
}

/// The audit entry of an operation's answer or end, after the request went out: a log that
/// cannot take it is reported, and the journal still has it.
pub(super) fn audit_outcome(session: &Session, op: &Operation, result: impl Into<String>) {
    op_audit::outcome(session, op, None, result);
}

/// A rollback refused before it became an operation (no journal entry): the plan's circuit,
/// method and versions, and why.
pub(super) fn audit_refused_plan(
    session: &Session,
    actor: &IdentityRef,
    plan: &RollbackPlan,
    reason: Option<String>,
    why: &str,
) {
    let mut details = serde_json::Map::new();
    details.insert("method".into(), plan.method.as_str().into());
    details.insert("from".into(), plan.from.map(|v| v.0).into());
    details.insert("to".into(), plan.to.0.into());
    if let Some(r) = &plan.redeploy {
        details.insert("release".into(), r.release_id.into());
    }
    let record = Record {
        actor: actor.unique_name.to_string(),
        action: "rollback".into(),
        target: plan.circuit.to_string(),
        inputs: Inputs {
            reason,
            details,
            ..Inputs::default()
        },
        result: format!("refused: {why}"),
        request_ids: Vec::new(),
    };
    if let Err(e) = session.audit().append(record) {
        tracing::error!("cannot write the audit log: {e}");
    }
}

/// An unfinished operation closed without a call (its backend's world did not survive).
pub(super) fn audit_abandoned(session: &Session, op: &Operation, why: &str) {
    let record = Record {
        actor: op.actor.clone(),
        action: op.action().into(),
        target: op.target(),
        inputs: Inputs {
            reason: op.reason.clone(),
            ..Inputs::default()
        },
        result: format!("abandoned: {why}"),
        request_ids: op.request_ids.clone(),
    };
    if let Err(e) = session.audit().append(record) {
        tracing::error!("cannot write the audit log: {e}");
    }
}

/// Record the operation as being sent (the audit entry, fsynced), or close it as not sent
/// when the audit log cannot take the entry. `note` is added to "sending" (a rerun says why
/// it sends now).
pub(super) fn record_sending(
    session: &Session,
    op: &mut Operation,
    note: &str,
) -> Result<(), ExecuteError> {
    if let Err(e) = audit_op(session, op, format!("sending{note}")) {
        let failure = RollbackFailure::NotAudited(Arc::new(e));
        op.last_error = Some(failure.to_string());
        op.advance(OpState::NotSent, session.now());
        save(session, op);
        return Err(failure.into());
    }
    Ok(())
}

/// Journal a state change that follows one already journaled: a journal that cannot take it
/// is reported, and tracking goes on (the service has the truth, re-read at the next step).
pub(super) fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}
