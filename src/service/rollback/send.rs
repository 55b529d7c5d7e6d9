//! Sending a journaled rollback: record, then act. The operation is journaled and its audit
//! entry ("sending") fsynced before the request goes out; a journal or audit log that cannot
//! take them refuses the change. The request is sent once, under the operation's send claim
//! (see [`Journal::claim`]), and what came back is journaled and audited.
//!
//! A rerun of the same rollback finds the operation in the journal: one in flight is followed,
//! not planned anew; one that relcon journaled but stopped before sending is re-read at the
//! service first (it may have gone out just before the stop) and sent then only if it did not.
//!
//! [`Journal::claim`]: super::journal::Journal::claim

use futures::StreamExt;
use futures::stream;

use super::backend::{Backend, BackendError, OperationHandle};
use super::journal::{OpKind, OpState, Operation};
use super::rollback::ExecuteError;
use super::session::Session;
use super::track::sent_status;
use crate::audit::{AuditError, Entry, Inputs, Record};
use crate::domain::Stage;
use crate::domain::platform::{EnvironmentAsset, IdentityRef, ModelAsset};

/// A test hook, documented in docs/CONSOLE.md: with this set, relcon stops right before it
/// sends a journaled rollback (after the journal and the audit entry) and waits until it is
/// killed, so that a test can `kill -9` it exactly between recording and sending.
pub const PAUSE_BEFORE_SEND_ENV: &str = "RELCON_TEST_PAUSE_BEFORE_SEND";

/// What a rerun of a rollback found, and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// Sent and in flight: followed, nothing sent again.
    InFlight,
    /// Another relcon process is sending it right now: followed.
    BeingSent,
    /// Journaled, then relcon stopped; the re-read shows it had reached the service.
    SentBefore,
    /// Journaled, then relcon stopped before sending; the re-read shows it never went out, so
    /// it was sent now, once.
    SentNow,
}

impl Rerun {
    /// One line for the operator, naming the operation.
    pub fn describe(self, op: &Operation) -> String {
        let what = format!("operation {} ({} {})", op.id, op.action(), op.target());
        match self {
            Rerun::InFlight => format!(
                "{what} is already in flight ({}); following it instead of planning another",
                op.state.as_str()
            ),
            Rerun::BeingSent => {
                format!("{what} is being sent by another relcon process right now; following it")
            }
            Rerun::SentBefore => format!(
                "{what} was journaled and had reached the service before relcon stopped; \
                 following it (nothing sent again)"
            ),
            Rerun::SentNow => format!(
                "{what} was journaled but not sent (relcon stopped before sending it); \
                 sent it now, once"
            ),
        }
    }
}

/// The audit entry of an operation: its target, reason and details, with `result`.
pub(super) fn audit_op(
    session: &Session,
    op: &Operation,
    result: impl Into<String>,
) -> Result<Entry, AuditError> {
    let mut details = serde_json::Map::new();
    details.insert("operation".into(), op.id.clone().into());
    if let OpKind::Rollback {
        method,
        from,
        to,
        release_id,
        ..
    } = &op.kind
    {
        details.insert("method".into(), method.as_str().into());
        details.insert("from".into(), from.map(|v| v.0).into());
        details.insert("to".into(), to.0.into());
        if let Some(r) = release_id {
            details.insert("release".into(), (*r).into());
        }
    }
    if !op.steps.is_empty() {
        details.insert("deployments".into(), op.steps.len().into());
    }
    session.audit().append(Record {
        actor: op.actor.clone(),
        action: op.action().into(),
        target: op.target(),
        inputs: Inputs {
            reason: op.reason.clone(),
            details,
            ..Inputs::default()
        },
        result: result.into(),
        request_ids: op.request_ids.clone(),
    })
}

/// Why a change was not sent when the audit log cannot take its entry, and how to repair it.
pub fn audit_refusal(e: &AuditError) -> String {
    format!(
        "not sent: the audit log cannot record it, and nothing changes off the record ({e}); {}",
        e.repair()
    )
}

fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}

/// Record the operation as being sent (the audit entry, fsynced), or close it as not sent
/// when the audit log cannot take the entry.
fn record_sending(session: &Session, op: &mut Operation, note: &str) -> Result<(), ExecuteError> {
    if let Err(e) = audit_op(session, op, format!("sending{note}")) {
        let why = audit_refusal(&e);
        op.last_error = Some(why.clone());
        op.advance(OpState::NotSent, session.now());
        save(session, op);
        return Err(ExecuteError::Failed(why));
    }
    Ok(())
}

/// The test hook of [`PAUSE_BEFORE_SEND_ENV`].
async fn pause_if_asked(op: &Operation) {
    if std::env::var_os(PAUSE_BEFORE_SEND_ENV).is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "relcon: test hook {PAUSE_BEFORE_SEND_ENV}: operation {} is journaled and on the \
             audit log; paused before sending it",
            op.id
        );
        std::future::pending::<()>().await;
    }
}

/// Send a journaled rollback of one circuit (state `submitting`, its send claim held by the
/// caller): audit entry first, then the request, then the answer journaled and audited.
/// `note` is added to the audit entry's "sending" (a rerun says why it sends now).
pub(super) async fn send_rollback(
    session: &Session,
    op: &mut Operation,
    actor: &IdentityRef,
    note: &str,
) -> Result<(), ExecuteError> {
    let OpKind::Rollback {
        circuit,
        to,
        endpoint,
        deployment,
        release_id,
        environment_id,
        ..
    } = op.kind.clone()
    else {
        return Err(ExecuteError::Failed(format!(
            "operation {} is not a rollback of a circuit",
            op.id
        )));
    };
    record_sending(session, op, note)?;
    pause_if_asked(op).await;
    let backend = session.backend();
    let ctx = session.context();
    // What DevOps shows with the redeploy: the reason typed, without anything that looks like
    // a credential.
    let comment = crate::redact::redact(&format!(
        "relcon rollback of {circuit} to v{to} by {}{}",
        actor.name(),
        op.reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    ));
    let sent: Result<(Option<OperationHandle>, Option<String>), BackendError> =
        match (release_id, environment_id) {
            (Some(r), Some(e)) => backend
                .redeploy_environment(r, e, &comment)
                .await
                .map(|rc| (None, rc.request_id)),
            _ => {
                let asset = ModelAsset {
                    registry: Some(ctx.registry.clone()),
                    name: ctx.naming.model(&circuit),
                    version: to,
                };
                backend
                    .begin_set_deployment_model(Stage::Prod, &endpoint, &deployment, &asset)
                    .await
                    .map(|rc| (Some(rc.value), rc.request_id))
            }
        };
    match sent {
        Ok((handle, request_id)) => {
            op.handle = handle;
            op.request_ids.extend(request_id);
            op.advance(OpState::Submitted, session.now());
        }
        Err(e) if e.is_ambiguous() => {
            // The answer was lost: ask the service whether it went out. If it cannot say,
            // the operation stays `submitting` and tracking asks again; never sent twice.
            op.request_ids.extend(e.request_id.clone());
            op.last_error = Some(e.to_string());
            match sent_status(backend, op).await {
                Ok(true) => op.advance(OpState::Submitted, session.now()),
                Ok(false) => op.advance(OpState::NotSent, session.now()),
                Err(_) => {}
            }
        }
        Err(e) => {
            op.request_ids.extend(e.request_id.clone());
            op.last_error = Some(e.to_string());
            op.advance(OpState::Failed, session.now());
        }
    }
    session
        .journal()
        .save(op)
        .map_err(|e| ExecuteError::Failed(e.to_string()))?;
    let result = match op.state {
        OpState::Submitted => "submitted".to_owned(),
        s => format!(
            "{}: {}",
            s.as_str(),
            op.last_error.clone().unwrap_or_default()
        ),
    };
    if let Err(e) = audit_op(session, op, result) {
        // The request went out and the journal has it; only its answer is missing here.
        tracing::error!("cannot write the audit log: {e}");
    }
    match op.state {
        OpState::Failed | OpState::NotSent => Err(ExecuteError::Failed(
            op.last_error.clone().unwrap_or_else(|| "not sent".into()),
        )),
        _ => Ok(()),
    }
}

/// A request sent: the operation to follow and the request id.
type Sent = Result<(OperationHandle, Option<String>), BackendError>;

/// Keep the deployment's environment name; change only its version.
async fn set_environment(
    backend: &dyn Backend,
    endpoint: &str,
    deployment: &str,
    mut env: EnvironmentAsset,
) -> Sent {
    let d = backend
        .deployment(Stage::Prod, endpoint, deployment)
        .await?;
    if let Some(current) = &d.environment {
        env.name = current.name.clone();
        env.registry = current.registry.clone().or(env.registry);
    }
    let rc = backend
        .begin_set_deployment_environment(Stage::Prod, endpoint, deployment, &env)
        .await?;
    Ok((rc.value, rc.request_id))
}

/// Send the steps of a journaled environment rollback that are still `submitting` (bounded
/// concurrency), audit entry first; `note` as for [`send_rollback`].
pub(super) async fn send_environment(
    session: &Session,
    op: &mut Operation,
    note: &str,
) -> Result<(), ExecuteError> {
    record_sending(session, op, note)?;
    pause_if_asked(op).await;
    let backend = session.backend();
    let registry = session.context().registry.clone();
    let pending: Vec<(usize, String, String, String)> = op
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.state == OpState::Submitting)
        .map(|(i, s)| (i, s.endpoint.clone(), s.deployment.clone(), s.to.clone()))
        .collect();
    // Owned steps: a closure over borrowed ones makes the future impossible to prove `Send`,
    // and the console runs this on a tokio task.
    let results: Vec<(usize, Sent)> = stream::iter(pending)
        .map(move |(i, endpoint, deployment, to)| {
            let env = EnvironmentAsset {
                registry: Some(registry.clone()),
                name: String::new(),
                version: to,
            };
            async move {
                (
                    i,
                    set_environment(backend, &endpoint, &deployment, env).await,
                )
            }
        })
        .buffer_unordered(session.context().concurrency.max(1))
        .collect()
        .await;
    for (i, r) in results {
        let s = &mut op.steps[i];
        match r {
            Ok((h, rid)) => {
                s.handle = Some(h);
                s.state = OpState::Submitted;
                op.request_ids.extend(rid);
            }
            Err(e) => {
                s.error = Some(e.to_string());
                s.state = if e.is_ambiguous() {
                    OpState::Submitting
                } else {
                    OpState::Failed
                };
            }
        }
    }
    op.advance(OpState::Submitted, session.now());
    session
        .journal()
        .save(op)
        .map_err(|e| ExecuteError::Failed(e.to_string()))?;
    let sent = op
        .steps
        .iter()
        .filter(|s| s.state == OpState::Submitted)
        .count();
    if let Err(e) = audit_op(
        session,
        op,
        format!("submitted {sent} of {}", op.steps.len()),
    ) {
        tracing::error!("cannot write the audit log: {e}");
    }
    Ok(())
}

/// A rerun of a rollback whose operation is in the journal, unfinished: follow it, or, when
/// relcon stopped between journaling and sending, re-read the service and send it once if it
/// never went out.
pub async fn rerun(
    session: &Session,
    op: Operation,
    actor: &IdentityRef,
) -> Result<(Operation, Rerun), ExecuteError> {
    if op.state != OpState::Submitting {
        return Ok((op, Rerun::InFlight));
    }
    let journal = session.journal();
    let claim = journal
        .claim(&op.id)
        .map_err(|e| ExecuteError::Failed(format!("not sent: {e}")))?;
    let Some(_claim) = claim else {
        return Ok((op, Rerun::BeingSent));
    };
    // What the journal says now, under the claim (whoever held it may have moved it on).
    let mut op = journal.load(&op.id).unwrap_or(op);
    if op.state != OpState::Submitting {
        return Ok((op, Rerun::InFlight));
    }
    let why = " (journaled earlier; relcon stopped before sending it)";
    match &op.kind {
        OpKind::Rollback { .. } => match sent_status(session.backend(), &op).await {
            Err(e) => Err(ExecuteError::Failed(format!(
                "operation {} was journaled but relcon cannot tell whether it was sent (the \
                 re-read failed: {e}); nothing was sent again: run the same command again",
                op.id
            ))),
            Ok(true) => {
                op.advance(OpState::Submitted, session.now());
                save(session, &mut op);
                if let Err(e) = audit_op(session, &op, "submitted (found sent on a rerun)") {
                    tracing::error!("cannot write the audit log: {e}");
                }
                Ok((op, Rerun::SentBefore))
            }
            Ok(false) => {
                send_rollback(session, &mut op, actor, why)
                    .await
                    .map_err(|e| {
                        ExecuteError::Failed(format!(
                            "operation {} was journaled but not sent (relcon stopped before \
                             sending it); sending it now failed: {e}",
                            op.id
                        ))
                    })?;
                Ok((op, Rerun::SentNow))
            }
        },
        OpKind::EnvironmentRollback { .. } => {
            // A step whose deployment is on the target, or updating, went out before the stop.
            let backend = session.backend();
            let mut unsure = Vec::new();
            for s in op
                .steps
                .iter_mut()
                .filter(|s| s.state == OpState::Submitting)
            {
                match backend
                    .deployment(Stage::Prod, &s.endpoint, &s.deployment)
                    .await
                {
                    Ok(d)
                        if !d.provisioning.is_terminal()
                            || d.environment.as_ref().is_some_and(|e| e.version == s.to) =>
                    {
                        s.state = OpState::Submitted;
                    }
                    Ok(_) => {}
                    Err(e) => unsure.push(format!("{}: {e}", s.circuit)),
                }
            }
            if !unsure.is_empty() {
                save(session, &mut op);
                return Err(ExecuteError::Failed(format!(
                    "operation {} was journaled but relcon cannot tell whether all of it was \
                     sent (re-reading failed for {}); nothing was sent again: run the same \
                     command again",
                    op.id,
                    unsure.join("; ")
                )));
            }
            if op.steps.iter().any(|s| s.state == OpState::Submitting) {
                send_environment(session, &mut op, why).await?;
                Ok((op, Rerun::SentNow))
            } else {
                op.advance(OpState::Submitted, session.now());
                save(session, &mut op);
                Ok((op, Rerun::SentBefore))
            }
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => Ok((op, Rerun::InFlight)),
    }
}
