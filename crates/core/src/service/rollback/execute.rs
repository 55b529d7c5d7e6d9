//! Executing a planned rollback: the policy, a rollback of the same circuit already in the
//! journal (followed, never a second one), a re-read of the service right before sending
//! (refused if it already moved), then journaled and sent once (`send`). A rerun of an
//! operation journaled before a stop re-reads the service first and sends only what never
//! went out.

use std::sync::Arc;

use super::environment::EnvironmentPlan;
use super::error::{ExecuteError, RollbackFailure, RollbackRefusal};
use super::judge::step_went_out;
use super::plan::{RedeployTarget, RollbackPlan};
use super::record::{audit_outcome, audit_refused_plan, save};
use super::send::{send_environment, send_rollback};
use super::track::sent_status;
use crate::domain::CircuitRef;
use crate::domain::Stage;
use crate::domain::platform::{Deployment, IdentityRef, ProvisioningState, ReleaseRecord};
use crate::service::journal::{OpKind, OpState, Operation, SendClaim};
use crate::service::session::Session;

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

/// Send a planned rollback once: journaled, then on the audit log, then sent (see `send`).
/// When an unfinished rollback of the same circuit is already in the journal, that one is
/// followed (or, if relcon stopped before sending it, re-read and sent once) instead: a
/// circuit never has two rollbacks in flight, and nothing is sent twice.
pub async fn execute(
    session: &Session,
    plan: &RollbackPlan,
    actor: &IdentityRef,
    reason: Option<String>,
) -> Result<Operation, ExecuteError> {
    if let Some(refusal) = policy_refusal(session) {
        audit_refused_plan(session, actor, plan, reason, &refusal.to_string());
        return Err(refusal.into());
    }
    if let Some(op) = in_flight(session, Some(&plan.circuit)) {
        return rerun(session, op, actor).await.map(|(op, _)| op);
    }
    let backend = session.backend();
    // Re-read right before sending.
    let attempts_before = match &plan.redeploy {
        Some(r) => {
            let release = backend
                .release(r.release_id)
                .await
                .map_err(|e| RollbackFailure::Reread(Box::new(e)))?;
            Some(redeploy_precheck(&release, r)?)
        }
        None => {
            let d = backend
                .deployment(Stage::Prod, &plan.endpoint, &plan.deployment)
                .await
                .map_err(|e| RollbackFailure::Reread(Box::new(e)))?;
            direct_precheck(&d, plan)?;
            None
        }
    };
    let mut op = Operation::new(
        plan.operation(attempts_before),
        &actor.unique_name,
        Some(plan.sla_minutes),
        reason,
        session.now(),
    );
    let _claim = claim_and_journal(session, &mut op)?;
    send_rollback(session, &mut op, actor, "").await?;
    Ok(op)
}

/// What relcon's policy says against any change (read-only), if anything.
fn policy_refusal(session: &Session) -> Option<RollbackRefusal> {
    let check = session.context().policy.check_mutation();
    (!check.allowed()).then(|| RollbackRefusal::Policy(check.reasons()))
}

/// The release a redeploy re-runs, re-read: refused while its Production stage is deploying;
/// else its attempts so far (to tell later whether the redeploy went out).
pub(super) fn redeploy_precheck(
    release: &ReleaseRecord,
    target: &RedeployTarget,
) -> Result<u32, ExecuteError> {
    let env = release
        .environments
        .iter()
        .find(|e| e.id == target.environment_id)
        .ok_or(RollbackFailure::NoSuchEnvironment {
            release_id: target.release_id,
            environment_id: target.environment_id.clone(),
        })?;
    if env.is_deploying() {
        return Err(RollbackRefusal::AlreadyDeploying {
            release: release.name.to_string(),
        }
        .into());
    }
    Ok(env.last_attempt().map_or(0, |d| d.attempt))
}

/// The Prod deployment a direct rollback sets, re-read: refused when it already runs the
/// target, provisioned.
pub(super) fn direct_precheck(d: &Deployment, plan: &RollbackPlan) -> Result<(), ExecuteError> {
    if d.model.as_ref().map(|m| m.version) == Some(plan.to)
        && d.provisioning == ProvisioningState::Succeeded
    {
        return Err(RollbackRefusal::AlreadyRunning {
            circuit: plan.circuit.clone(),
            version: plan.to,
        }
        .into());
    }
    Ok(())
}

/// The unfinished rollback in this session's journal: of `circuit`, or (`None`) of the
/// environment. A rerun shows and follows it rather than planning another.
pub fn in_flight(session: &Session, circuit: Option<&CircuitRef>) -> Option<Operation> {
    unfinished_rollback(session.journal().unfinished(), circuit)
}

/// The first of `unfinished` that rolls back `circuit`, or (`None`) the environment.
pub(super) fn unfinished_rollback(
    unfinished: Vec<Operation>,
    circuit: Option<&CircuitRef>,
) -> Option<Operation> {
    unfinished.into_iter().find(|o| match (&o.kind, circuit) {
        (OpKind::Rollback { circuit: c, .. }, Some(want)) => c == want,
        (OpKind::EnvironmentRollback { .. }, None) => true,
        _ => false,
    })
}

/// Take the send claim of a new operation, then journal it: both before anything is sent.
fn claim_and_journal(session: &Session, op: &mut Operation) -> Result<SendClaim, ExecuteError> {
    let journal = session.journal();
    let claim = match journal.claim(&op.id) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(RollbackFailure::Claimed(op.id.clone()).into()),
        Err(e) => return Err(RollbackFailure::NotJournaled(Arc::new(e)).into()),
    };
    journal
        .save(op)
        .map_err(|e| RollbackFailure::NotJournaled(Arc::new(e)))?;
    Ok(claim)
}

/// Send every step of an environment rollback (bounded concurrency): journaled, then on the
/// audit log, then sent. An unfinished environment rollback in the journal is followed (or
/// re-read and sent once, as for a circuit) instead.
pub async fn execute_environment(
    session: &Session,
    plan: &EnvironmentPlan,
    actor: &IdentityRef,
    reason: Option<String>,
) -> Result<Operation, ExecuteError> {
    if let Some(refusal) = policy_refusal(session) {
        return Err(refusal.into());
    }
    if let Some(op) = in_flight(session, None) {
        return rerun(session, op, actor).await.map(|(op, _)| op);
    }
    let mut op = Operation::new(
        OpKind::EnvironmentRollback {
            from: plan.from.clone(),
            to: plan.to.clone(),
        },
        &actor.unique_name,
        Some(plan.sla_minutes),
        reason,
        session.now(),
    );
    op.steps = plan.steps.clone();
    let _claim = claim_and_journal(session, &mut op)?;
    send_environment(session, &mut op, "").await?;
    Ok(op)
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
        .map_err(|e| RollbackFailure::NotJournaled(Arc::new(e)))?;
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
            Err(source) => Err(RollbackFailure::CannotTellIfSent {
                operation: op.id.clone(),
                source: Box::new(source),
            }
            .into()),
            Ok(true) => {
                op.advance(OpState::Submitted, session.now());
                save(session, &mut op);
                audit_outcome(session, &op, "submitted (found sent on a rerun)");
                Ok((op, Rerun::SentBefore))
            }
            Ok(false) => {
                send_rollback(session, &mut op, actor, why)
                    .await
                    .map_err(|e| RollbackFailure::ResendFailed {
                        operation: op.id.clone(),
                        source: Box::new(e),
                    })?;
                Ok((op, Rerun::SentNow))
            }
        },
        OpKind::EnvironmentRollback { .. } => {
            let unsure = reread_steps(session, &mut op).await;
            if !unsure.is_empty() {
                save(session, &mut op);
                return Err(RollbackFailure::CannotTellIfAllSent {
                    operation: op.id.clone(),
                    unsure,
                }
                .into());
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
        OpKind::Approve { .. }
        | OpKind::Reject { .. }
        | OpKind::AlertChange { .. }
        | OpKind::JobRetry { .. } => Ok((op, Rerun::InFlight)),
    }
}

/// Re-read the deployment of every step still `submitting`: one on the target, or updating,
/// went out before the stop. Returns the steps that could not be re-read, with why.
async fn reread_steps(session: &Session, op: &mut Operation) -> Vec<String> {
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
            Ok(d) if step_went_out(&d, &s.to) => s.state = OpState::Submitted,
            Ok(_) => {}
            Err(e) => unsure.push(format!("{}: {e}", s.circuit)),
        }
    }
    unsure
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
