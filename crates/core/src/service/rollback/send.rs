//! Sending a journaled rollback: record, then act. The operation is journaled and its audit
//! entry ("sending") fsynced before the request goes out; a journal or audit log that cannot
//! take them refuses the change. The request is sent once, under the operation's send claim
//! (see [`Journal::claim`]), and what came back is journaled and audited.
//!
//! [`Journal::claim`]: crate::service::journal::Journal::claim

use std::sync::Arc;

use futures::StreamExt;
use futures::stream;

use super::error::{ExecuteError, RollbackFailure};
use super::plan::rollback_run_request;
use super::record::{audit_outcome, record_sending};
use super::track::sent_status;
use crate::domain::platform::{EnvironmentAsset, IdentityRef, ModelAsset};
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::backend::{Backend, BackendError, OperationHandle};
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::session::Session;

/// A test hook, documented in docs/CONSOLE.md: with this set, relcon stops right before it
/// sends a journaled operation (a rollback, an alert change) (after the journal and the audit entry) and waits until it is
/// killed, so that a test can `kill -9` it exactly between recording and sending.
pub const PAUSE_BEFORE_SEND_ENV: &str = "RELCON_TEST_PAUSE_BEFORE_SEND";

/// The test hook of [`PAUSE_BEFORE_SEND_ENV`] (every mutation that journals takes it).
pub async fn pause_if_asked(op: &Operation) {
    if std::env::var_os(PAUSE_BEFORE_SEND_ENV).is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "relcon: test hook {PAUSE_BEFORE_SEND_ENV}: operation {} is journaled and on the \
             audit log; paused before sending it",
            op.id
        );
        std::future::pending::<()>().await;
    }
}

/// The journal takes what the service answered (the request went out).
fn journal_answer(session: &Session, op: &mut Operation) -> Result<(), ExecuteError> {
    session
        .journal()
        .save(op)
        .map_err(|e| RollbackFailure::AnswerNotJournaled(Arc::new(e)).into())
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
    if !matches!(op.kind, OpKind::Rollback { .. }) {
        return Err(RollbackFailure::NotACircuitRollback(op.id.clone()).into());
    }
    record_sending(session, op, note)?;
    pause_if_asked(op).await;
    let sent = request(session, op, actor).await;
    take_answer(session, op, sent).await;
    journal_answer(session, op)?;
    let result = match op.state {
        OpState::Submitted => "submitted".to_owned(),
        s => format!(
            "{}: {}",
            s.as_str(),
            op.last_error.clone().unwrap_or_default()
        ),
    };
    // The request went out and the journal has it; only its answer may be missing from the
    // audit log.
    audit_outcome(session, op, result);
    match op.state {
        OpState::Failed | OpState::NotSent => Err(RollbackFailure::NotDone {
            operation: op.id.clone(),
            why: op.last_error.clone().unwrap_or_else(|| "not sent".into()),
        }
        .into()),
        _ => Ok(()),
    }
}

/// What DevOps shows with a redeploy: who rolled what back, and the reason typed, without
/// anything that looks like a credential.
pub(super) fn redeploy_comment(
    circuit: &CircuitRef,
    to: ModelVersion,
    actor: &IdentityRef,
    reason: Option<&str>,
) -> String {
    crate::redact::redact(&format!(
        "relcon rollback of {circuit} to v{to} by {}{}",
        actor.name(),
        reason.map(|r| format!(": {r}")).unwrap_or_default()
    ))
}

/// What a rollback's request brought back: the operation to follow (direct), the request id,
/// and the rollback run queued (pipeline).
type Answer = (Option<OperationHandle>, Option<String>, Option<u32>);

/// The request of a circuit's rollback: a redeploy of its release's Production stage, the
/// rollback pipeline queued, or the Prod deployment's model set directly.
async fn request(
    session: &Session,
    op: &Operation,
    actor: &IdentityRef,
) -> Result<Answer, BackendError> {
    let backend = session.backend();
    let ctx = session.context();
    let OpKind::Rollback {
        circuit,
        method,
        to,
        endpoint,
        deployment,
        release_id,
        environment_id,
        ..
    } = &op.kind
    else {
        return Ok((None, None, None));
    };
    if *method == RollbackMethod::Pipeline {
        let mut req = rollback_run_request(circuit, *to);
        req.comment = redeploy_comment(circuit, *to, actor, op.reason.as_deref());
        return backend
            .queue_rollback_run(&req)
            .await
            .map(|rc| (None, rc.request_id, Some(rc.value.id)));
    }
    match (release_id, environment_id) {
        (Some(r), Some(e)) => backend
            .rerun_stage(
                *r,
                e,
                &redeploy_comment(circuit, *to, actor, op.reason.as_deref()),
            )
            .await
            .map(|rc| (None, rc.request_id, None)),
        _ => {
            let asset = ModelAsset {
                registry: Some(ctx.registry.clone()),
                name: ctx.naming.model(circuit),
                version: *to,
            };
            backend
                .begin_set_deployment_model(Stage::Prod, endpoint, deployment, &asset)
                .await
                .map(|rc| (Some(rc.value), rc.request_id, None))
        }
    }
}

/// The service's answer on the operation: submitted; failed; or, the answer lost, whatever a
/// re-read tells (left `submitting` when the service cannot say: tracking asks again, and
/// nothing is ever sent twice).
async fn take_answer(session: &Session, op: &mut Operation, sent: Result<Answer, BackendError>) {
    match sent {
        Ok((handle, request_id, run)) => {
            op.handle = handle;
            if let OpKind::Rollback { rollback_run, .. } = &mut op.kind {
                *rollback_run = run.or(*rollback_run);
            }
            op.request_ids.extend(request_id);
            op.advance(OpState::Submitted, session.now());
        }
        Err(e) if e.is_ambiguous() => {
            op.request_ids.extend(e.request_id.clone());
            op.last_error = Some(e.to_string());
            match sent_status(session.backend(), op).await {
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
    journal_answer(session, op)?;
    let sent = op
        .steps
        .iter()
        .filter(|s| s.state == OpState::Submitted)
        .count();
    audit_outcome(
        session,
        op,
        format!("submitted {sent} of {}", op.steps.len()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rollback::fixtures::c;
    use crate::service::snapshot::fixtures::who;

    #[test]
    fn devops_is_told_who_rolled_what_back_and_why_without_credentials() {
        let circuit = c("PLANT007/CIRCUIT03");
        let reason = "MAE alert; token=abcdefghijklmnopqrstuvwxyz0123456789";
        let said = redeploy_comment(&circuit, ModelVersion(4), &who("Bob"), Some(reason));
        assert!(
            said.starts_with("relcon rollback of PLANT007/CIRCUIT03 to v4 by Bob: MAE alert"),
            "{said}"
        );
        assert!(
            !said.contains("abcdefghijklmnopqrstuvwxyz0123456789"),
            "{said}"
        );
        let anonymous = IdentityRef {
            unique_name: "bob@contoso.com".into(),
            ..IdentityRef::default()
        };
        assert_eq!(
            redeploy_comment(&circuit, ModelVersion(4), &anonymous, None),
            "relcon rollback of PLANT007/CIRCUIT03 to v4 by bob@contoso.com"
        );
    }
}
