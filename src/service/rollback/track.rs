//! Following an operation to its end: poll the service, verify by re-reading the Prod
//! deployment, journal every state change, put the end on the audit log; resume whatever a
//! crash left unfinished, or close what a lost world left behind. Planning and sending are in
//! `rollback`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::backend::{Backend, BackendError, OperationStatus};
use super::journal::{OpKind, OpState, Operation};
use super::send::audit_op;
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, ApprovalType, EnvironmentStatus, ProvisioningState,
    ReleaseEnvironment,
};
use crate::domain::{ModelVersion, Stage};

/// After an ambiguous failure or a crash: did the request reach the service? `Err` when the
/// service cannot be read right now: then nobody can tell, and nothing may be sent again.
pub(super) async fn sent_status(
    backend: &dyn Backend,
    op: &Operation,
) -> Result<bool, BackendError> {
    match &op.kind {
        OpKind::Rollback {
            release_id: Some(r),
            environment_id: Some(e),
            attempts_before,
            ..
        } => {
            let release = backend.release(*r).await?;
            Ok(release
                .environments
                .iter()
                .find(|x| x.id == *e)
                .is_some_and(|env| {
                    let attempts = env.last_attempt().map_or(0, |d| d.attempt);
                    attempts > attempts_before.unwrap_or(0) || env.status.is_active()
                }))
        }
        OpKind::Rollback {
            endpoint,
            deployment,
            to,
            ..
        } => {
            let d = backend
                .deployment(Stage::Prod, endpoint, deployment)
                .await?;
            Ok(d.model.as_ref().map(|m| m.version) == Some(*to) || !d.provisioning.is_terminal())
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => Ok(decision_record(backend, op)
            .await?
            .is_some_and(|r| r.status != ApprovalStatus::Pending)),
        OpKind::EnvironmentRollback { .. } => Ok(false),
    }
}

/// The approval record a decision operation is about, read now.
async fn decision_record(
    backend: &dyn Backend,
    op: &Operation,
) -> Result<Option<ApprovalRecord>, BackendError> {
    let (OpKind::Approve {
        approval_id,
        release_id,
        ..
    }
    | OpKind::Reject {
        approval_id,
        release_id,
        ..
    }) = &op.kind
    else {
        return Ok(None);
    };
    let release = backend.release(*release_id).await?;
    Ok(release
        .environments
        .iter()
        .flat_map(|e| e.pre_deploy_approvals.iter())
        .find(|a| a.id == *approval_id)
        .cloned())
}

/// Why an operation found `submitting` after a stop is closed as not sent.
pub const STOPPED_BEFORE_SENDING: &str = "relcon stopped before sending it (it was journaled \
     but never reached the service): nothing was changed; run the same command again to send it";

/// An operation found `submitting` (relcon stopped between journaling and the service's
/// answer): wait while another relcon process is sending it; else re-read the service, under
/// the operation's send claim, until it can tell whether the request went out.
async fn settle_submitting(
    session: &Session,
    mut op: Operation,
    progress: Progress<'_>,
) -> Operation {
    let journal = session.journal();
    let poll = session.context().poll_interval;
    loop {
        let claim = journal.claim(&op.id);
        let held_elsewhere = matches!(claim, Ok(None));
        // No lock to be had (a read-only journal): judge without it.
        let claim = claim.unwrap_or_else(|e| {
            tracing::warn!("{e}");
            None
        });
        if held_elsewhere {
            // Another relcon process is sending it right now: follow what it journals.
            op.waiting = Some("another relcon process is sending it".into());
            progress(&op);
            tokio::time::sleep(poll).await;
            if let Some(now) = journal.load(&op.id)
                && now.state != OpState::Submitting
            {
                return now;
            }
            continue;
        }
        if let Some(now) = journal.load(&op.id)
            && now.state != OpState::Submitting
        {
            return now;
        }
        op.waiting = None;
        match sent_status(session.backend(), &op).await {
            Ok(true) => op.advance(OpState::Submitted, session.now()),
            Ok(false) => {
                op.last_error = Some(STOPPED_BEFORE_SENDING.into());
                op.advance(OpState::NotSent, session.now());
            }
            Err(e) => {
                op.last_error = Some(format!("cannot tell yet whether it was sent: {e}"));
                progress(&op);
                drop(claim);
                tokio::time::sleep(poll).await;
                continue;
            }
        }
        save(session, &mut op);
        progress(&op);
        return op;
    }
}

/// Progress callback for a tracked operation.
pub type Progress<'a> = &'a mut (dyn FnMut(&Operation) + Send);

/// Follow an operation to its end: poll, then verify by re-reading the Prod deployment. Every
/// state change is journaled; the end goes to the audit log.
pub async fn track(session: &Session, mut op: Operation, progress: Progress<'_>) -> Operation {
    let poll = session.context().poll_interval;
    if op.state == OpState::Submitting {
        // Found in the journal after a crash: re-read before anything else.
        op = settle_submitting(session, op, progress).await;
    }
    while !op.state.is_final() {
        let before = (op.state, op.waiting.clone());
        let wait = step(session, &mut op).await;
        if (op.state, &op.waiting) != (before.0, &before.1) {
            save(session, &mut op);
            progress(&op);
        }
        if op.state.is_final() {
            break;
        }
        tokio::time::sleep(wait.unwrap_or(poll).min(poll)).await;
    }
    let result = match (op.state, op.time_to_verified()) {
        (OpState::Verified, Some(d)) => format!(
            "verified: restored in {}m{:02}s",
            d.num_minutes(),
            d.num_seconds() % 60
        ),
        (s, _) => format!(
            "{}: {}",
            s.as_str(),
            op.last_error.clone().unwrap_or_default()
        ),
    };
    if let Err(e) = audit_op(session, &op, result) {
        tracing::error!("cannot write the audit log: {e}");
    }
    op
}

fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}

/// One poll; returns how long the service asked to wait.
async fn step(session: &Session, op: &mut Operation) -> Option<Duration> {
    let backend = session.backend();
    match op.kind.clone() {
        OpKind::Rollback {
            release_id: Some(r),
            environment_id: Some(e),
            attempts_before,
            endpoint,
            deployment,
            to,
            ..
        } => {
            match op.state {
                OpState::Succeeded => verify(session, op, &endpoint, &deployment, to).await,
                _ => match backend.release(r).await {
                    Ok(release) => {
                        if let Some(env) = release.environments.iter().find(|x| x.id == e) {
                            let attempts = env.last_attempt().map_or(0, |d| d.attempt);
                            let new_attempt = attempts > attempts_before.unwrap_or(0);
                            op.waiting = waiting_for_approval(env, attempts);
                            match &env.status {
                                s if s.is_active() => {
                                    op.advance(OpState::InProgress, session.now())
                                }
                                EnvironmentStatus::Succeeded if new_attempt => {
                                    op.advance(OpState::Succeeded, session.now());
                                    verify(session, op, &endpoint, &deployment, to).await;
                                }
                                EnvironmentStatus::Rejected
                                | EnvironmentStatus::Canceled
                                | EnvironmentStatus::PartiallySucceeded
                                    if new_attempt =>
                                {
                                    op.last_error = Some(format!(
                                        "the Production redeploy ended {}",
                                        env.status
                                    ));
                                    op.advance(OpState::Failed, session.now());
                                }
                                // Not deploying, and no attempt newer than before the PATCH:
                                // the redeploy is not (or no longer) on the release.
                                s if !new_attempt && lost(op, session.now()) => {
                                    op.last_error = Some(format!(
                                        "Release-{r}'s Production stage is {s} and shows no \
                                         redeploy after attempt {}: it was canceled, replaced or \
                                         never queued; look at the release before trying again",
                                        attempts_before.unwrap_or(0)
                                    ));
                                    op.advance(OpState::Failed, session.now());
                                }
                                _ => {}
                            }
                        }
                    }
                    Err(e) => op.last_error = Some(e.to_string()),
                },
            }
            None
        }
        OpKind::Rollback {
            endpoint,
            deployment,
            to,
            ..
        } => {
            if op.state == OpState::Succeeded {
                verify(session, op, &endpoint, &deployment, to).await;
                return None;
            }
            match op.handle.clone() {
                Some(h) => match backend.operation_status(&h).await {
                    Ok(OperationStatus::InProgress { retry_after }) => {
                        op.advance(OpState::InProgress, session.now());
                        retry_after
                    }
                    Ok(OperationStatus::Succeeded) => {
                        op.advance(OpState::Succeeded, session.now());
                        verify(session, op, &endpoint, &deployment, to).await;
                        None
                    }
                    Ok(OperationStatus::Failed(m)) => {
                        op.last_error = Some(m);
                        op.advance(OpState::Failed, session.now());
                        None
                    }
                    Ok(OperationStatus::Canceled) => {
                        op.last_error = Some("the deployment update was canceled".into());
                        op.advance(OpState::Failed, session.now());
                        None
                    }
                    Err(e) => {
                        op.last_error = Some(e.to_string());
                        None
                    }
                },
                // No handle (resumed after a lost answer): watch the deployment itself.
                None => {
                    match backend
                        .deployment(Stage::Prod, &endpoint, &deployment)
                        .await
                    {
                        Ok(d) if d.provisioning.is_terminal() => {
                            op.advance(OpState::Succeeded, session.now());
                            verify(session, op, &endpoint, &deployment, to).await;
                        }
                        Ok(_) => op.advance(OpState::InProgress, session.now()),
                        Err(e) => op.last_error = Some(e.to_string()),
                    }
                    None
                }
            }
        }
        OpKind::EnvironmentRollback { .. } => {
            step_environment(session, op).await;
            None
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => {
            // Decisions are confirmed when made; one left unfinished by a crash is re-read.
            let want = match op.kind {
                OpKind::Approve { .. } => ApprovalStatus::Approved,
                _ => ApprovalStatus::Rejected,
            };
            match decision_record(backend, op).await {
                Ok(Some(r)) if r.status == want => op.advance(OpState::Verified, session.now()),
                Ok(Some(r)) if r.status != ApprovalStatus::Pending => {
                    op.last_error = Some(format!("the approval is {} (by someone else)", r.status));
                    op.advance(OpState::Failed, session.now());
                }
                Ok(_) => {
                    op.last_error = Some(STOPPED_BEFORE_SENDING.into());
                    op.advance(OpState::NotSent, session.now());
                }
                Err(e) => op.last_error = Some(e.to_string()),
            }
            None
        }
    }
}

/// A redeploy waiting for the stage's pre-deployment approvals again (real DevOps asks for
/// them on every deployment of a stage, a redeploy included), in words: who has approved,
/// how many are needed, who may still approve. The SLA clock keeps running meanwhile.
fn waiting_for_approval(env: &ReleaseEnvironment, attempt: u32) -> Option<String> {
    let this: Vec<_> = env
        .pre_deploy_approvals
        .iter()
        .filter(|a| a.attempt == attempt && a.approval_type == ApprovalType::PreDeploy)
        .collect();
    // One record per required approver, often all for the same group: each name once.
    let mut pending: Vec<&str> = Vec::new();
    for a in this.iter().filter(|a| a.status == ApprovalStatus::Pending) {
        if !pending.contains(&a.approver.name()) {
            pending.push(a.approver.name());
        }
    }
    if pending.is_empty() {
        return None;
    }
    let approved = this
        .iter()
        .filter(|a| a.status == ApprovalStatus::Approved)
        .count();
    let required = match env.required_approvers {
        0 => this.len(),
        n => n as usize,
    };
    Some(format!(
        "waiting for {} approval of the redeploy: {approved} of {required} (may approve: {})",
        env.name,
        pending.join(", ")
    ))
}

/// How long a redeploy may go unseen on its release after the PATCH was accepted before it
/// counts as lost (the real service queues it at once; this covers a slow replica).
const UNSEEN_GRACE: chrono::Duration = chrono::Duration::minutes(2);

/// A redeploy that was seen running, or accepted longer than [`UNSEEN_GRACE`] ago, and that
/// the release no longer shows: tracking it further would wait forever.
fn lost(op: &Operation, now: DateTime<Utc>) -> bool {
    op.state >= OpState::InProgress || op.submitted_at.is_some_and(|t| now - t > UNSEEN_GRACE)
}

/// The Prod deployment runs the target and its provisioning succeeded.
async fn verify(
    session: &Session,
    op: &mut Operation,
    endpoint: &str,
    deployment: &str,
    to: ModelVersion,
) {
    let backend = session.backend();
    match backend.deployment(Stage::Prod, endpoint, deployment).await {
        Ok(d) => {
            let running = d.model.as_ref().map(|m| m.version);
            if d.provisioning == ProvisioningState::Succeeded && running == Some(to) {
                op.advance(OpState::Verified, session.now());
            } else if d.provisioning.is_terminal() {
                op.last_error = Some(format!(
                    "verification failed: Prod runs {} (provisioning {:?}), expected v{to}",
                    running
                        .map(|v| format!("v{v}"))
                        .unwrap_or_else(|| "no model".into()),
                    d.provisioning
                ));
                op.advance(OpState::Failed, session.now());
            }
        }
        Err(e) => op.last_error = Some(e.to_string()),
    }
}

/// Poll every unfinished step once; the operation ends when every step has.
async fn step_environment(session: &Session, op: &mut Operation) {
    let backend = session.backend();
    for s in op.steps.iter_mut().filter(|s| !s.state.is_final()) {
        if s.state == OpState::Submitting || s.state == OpState::Succeeded || s.handle.is_none() {
            match backend
                .deployment(Stage::Prod, &s.endpoint, &s.deployment)
                .await
            {
                Ok(d) => {
                    let on_target = d.environment.as_ref().is_some_and(|e| e.version == s.to);
                    if d.provisioning == ProvisioningState::Succeeded && on_target {
                        s.state = OpState::Verified;
                    } else if s.state == OpState::Succeeded
                        || (s.handle.is_none()
                            && d.provisioning.is_terminal()
                            && s.state != OpState::Submitting)
                    {
                        s.state = OpState::Failed;
                        s.error = Some(format!(
                            "verification failed: environment {}",
                            d.environment.map(|e| e.version).unwrap_or_default()
                        ));
                    } else if s.state == OpState::Submitting
                        && d.provisioning.is_terminal()
                        && !on_target
                    {
                        s.state = OpState::NotSent;
                    }
                }
                Err(e) => s.error = Some(e.to_string()),
            }
            continue;
        }
        if let Some(h) = s.handle.clone() {
            match backend.operation_status(&h).await {
                Ok(OperationStatus::InProgress { .. }) => s.state = OpState::InProgress,
                Ok(OperationStatus::Succeeded) => s.state = OpState::Succeeded,
                Ok(OperationStatus::Failed(m)) => {
                    s.state = OpState::Failed;
                    s.error = Some(m);
                }
                Ok(OperationStatus::Canceled) => {
                    s.state = OpState::Failed;
                    s.error = Some("canceled".into());
                }
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    }
    let all_final = op.steps.iter().all(|s| s.state.is_final());
    if op
        .steps
        .iter()
        .any(|s| matches!(s.state, OpState::InProgress | OpState::Succeeded))
    {
        op.advance(OpState::InProgress, session.now());
    }
    if all_final {
        if op.steps.iter().all(|s| s.state == OpState::Verified) {
            op.advance(OpState::Verified, session.now());
        } else {
            let failed = op
                .steps
                .iter()
                .filter(|s| s.state != OpState::Verified)
                .count();
            op.last_error = Some(format!(
                "{failed} of {} deployments did not move",
                op.steps.len()
            ));
            op.advance(OpState::Failed, session.now());
        }
    }
}

/// Close every unfinished operation of this session's backend as failed with `why`, on the
/// journal and the audit log, without a call: for a backend whose world did not survive
/// (the built-in simulator, restarted).
pub fn abandon_all(session: &Session, why: &str) {
    for mut op in session.journal().unfinished() {
        op.last_error = Some(why.to_owned());
        op.advance(OpState::Failed, session.now());
        save(session, &mut op);
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
}

/// Resume tracking every unfinished operation in the journal (after a crash or a restart),
/// all at once: one slow environment rollback does not hold up a circuit's.
pub async fn resume_all(session: &Session, progress: Progress<'_>) -> Vec<Operation> {
    let progress = std::sync::Mutex::new(progress);
    let tracks = session.journal().unfinished().into_iter().map(|op| {
        let progress = &progress;
        async move {
            let mut report = |op: &Operation| {
                if let Ok(mut p) = progress.lock() {
                    p(op);
                }
            };
            track(session, op, &mut report).await
        }
    });
    futures::future::join_all(tracks).await
}

/// The SLA clock of a rollback operation.
pub fn sla(op: &Operation) -> Option<crate::domain::rollback::SlaClock> {
    Some(crate::domain::rollback::SlaClock {
        requested_at: op.requested_at,
        budget_minutes: op.sla_minutes?,
    })
}

/// Seconds since the operation was requested (for progress lines).
pub fn elapsed(op: &Operation, now: DateTime<Utc>) -> i64 {
    (now - op.requested_at).num_seconds()
}
