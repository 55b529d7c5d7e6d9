//! Following an operation to its end: poll the service, verify by re-reading the Prod
//! deployment, journal every state change, put the end on the audit log; resume whatever a
//! crash left unfinished, or close what a lost world left behind. What each answer means is
//! `judge`'s (pure, tested on its own); this reads, acts on the verdicts and journals.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::judge::{
    RedeployNow, Verification, attempts, direct_went_out, environment_outcome, judge_redeploy,
    judge_rollback_run, redeploy_went_out, settle_step, step_answer, verification,
    waiting_for_approval, waiting_for_rollback_approval,
};
use super::plan::rollback_run_request;
use super::record::{audit_abandoned, audit_outcome, save};
use crate::domain::platform::{ApprovalRecord, ApprovalStatus, StageRef};
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::backend::{Backend, BackendError, OperationStatus};
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::session::Session;

/// After an ambiguous failure or a crash: did the request reach the service? `Err` when the
/// service cannot be read right now: then nobody can tell, and nothing may be sent again.
pub(super) async fn sent_status(
    backend: &dyn Backend,
    op: &Operation,
) -> Result<bool, BackendError> {
    match &op.kind {
        OpKind::Rollback {
            method: RollbackMethod::Pipeline,
            rollback_run,
            circuit,
            to,
            ..
        } => Ok(rollback_run.is_some()
            || backend
                .find_rollback_run(&rollback_run_request(circuit, *to), op.requested_at)
                .await?
                .is_some()),
        OpKind::Rollback {
            release_id: Some(r),
            environment_id: Some(e),
            attempts_before,
            ..
        } => {
            let release = backend.release(*r).await?;
            let env = release.environments.iter().find(|x| &x.id == e);
            Ok(env.is_some_and(|env| redeploy_went_out(env, *attempts_before)))
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
            Ok(direct_went_out(&d, *to))
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => Ok(decision_record(backend, op)
            .await?
            .is_some_and(|r| r.status != ApprovalStatus::Pending)),
        OpKind::EnvironmentRollback { .. } => Ok(false),
        OpKind::AlertChange { .. } => Ok(crate::service::alert_change::changed(backend, op)
            .await?
            .is_some()),
        OpKind::JobRetry { .. } => crate::service::job_retry::went_out(backend, op).await,
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
        .find(|a| &a.id == approval_id)
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
    audit_outcome(session, &op, result);
    crate::service::watch::begin(session, &mut op);
    crate::service::job_retry::after_verified_rollback(session, &op).await;
    op
}

/// One poll; returns how long the service asked to wait.
async fn step(session: &Session, op: &mut Operation) -> Option<Duration> {
    match op.kind.clone() {
        OpKind::Rollback {
            method: RollbackMethod::Pipeline,
            circuit,
            to,
            endpoint,
            deployment,
            ..
        } => {
            step_pipeline(session, op, &circuit, &endpoint, &deployment, to).await;
            None
        }
        OpKind::Rollback {
            release_id: Some(release_id),
            environment_id: Some(environment_id),
            attempts_before,
            endpoint,
            deployment,
            to,
            ..
        } => {
            let redeploy = Redeploy {
                release_id,
                environment_id,
                attempts_before,
            };
            step_redeploy(session, op, redeploy, &endpoint, &deployment, to).await;
            None
        }
        OpKind::Rollback {
            endpoint,
            deployment,
            to,
            ..
        } => step_direct(session, op, &endpoint, &deployment, to).await,
        OpKind::EnvironmentRollback { .. } => {
            step_environment(session, op).await;
            None
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => {
            step_decision(session, op).await;
            None
        }
        OpKind::AlertChange { .. } => {
            crate::service::alert_change::step(session, op).await;
            None
        }
        OpKind::JobRetry { .. } => {
            crate::service::job_retry::step(session, op).await;
            None
        }
    }
}

/// The release environment a redeploy re-runs, and its attempts before the request.
struct Redeploy {
    release_id: u32,
    environment_id: StageRef,
    attempts_before: Option<u32>,
}

/// A redeploy: its release's Production stage, then the deployment once the stage succeeded.
async fn step_redeploy(
    session: &Session,
    op: &mut Operation,
    r: Redeploy,
    endpoint: &str,
    deployment: &str,
    to: ModelVersion,
) {
    if op.state == OpState::Succeeded {
        verify(session, op, endpoint, deployment, to).await;
        return;
    }
    let release = match session.backend().release(r.release_id).await {
        Ok(release) => release,
        Err(e) => {
            op.last_error = Some(e.to_string());
            return;
        }
    };
    let Some(env) = release
        .environments
        .iter()
        .find(|x| x.id == r.environment_id)
    else {
        return;
    };
    op.waiting = waiting_for_approval(env, attempts(env));
    let now = judge_redeploy(env, r.release_id, r.attempts_before, op, session.now());
    act_on(session, op, now, endpoint, deployment, to).await;
}

/// What a redeploy's stage or a rollback run says, acted on: running, verify next, or failed.
async fn act_on(
    session: &Session,
    op: &mut Operation,
    now: RedeployNow,
    endpoint: &str,
    deployment: &str,
    to: ModelVersion,
) {
    match now {
        RedeployNow::Running => op.advance(OpState::InProgress, session.now()),
        RedeployNow::Succeeded => {
            op.advance(OpState::Succeeded, session.now());
            verify(session, op, endpoint, deployment, to).await;
        }
        RedeployNow::Failed(why) => {
            op.last_error = Some(why);
            op.advance(OpState::Failed, session.now());
        }
        RedeployNow::Unchanged => {}
    }
}

/// A pipeline rollback: the rollback run (found by its parameters when the answer naming it
/// was lost), then the deployment once the run succeeded.
async fn step_pipeline(
    session: &Session,
    op: &mut Operation,
    circuit: &CircuitRef,
    endpoint: &str,
    deployment: &str,
    to: ModelVersion,
) {
    if op.state == OpState::Succeeded {
        verify(session, op, endpoint, deployment, to).await;
        return;
    }
    let backend = session.backend();
    let known = match &op.kind {
        OpKind::Rollback { rollback_run, .. } => *rollback_run,
        _ => None,
    };
    let run = match known {
        Some(id) => backend.rollback_run(id).await.map(Some),
        None => {
            backend
                .find_rollback_run(&rollback_run_request(circuit, to), op.requested_at)
                .await
        }
    };
    let run = match run {
        Ok(Some(run)) => run,
        Ok(None) => {
            op.last_error = Some("the rollback run queued is not listed yet".into());
            return;
        }
        Err(e) => {
            op.last_error = Some(e.to_string());
            return;
        }
    };
    if let OpKind::Rollback { rollback_run, .. } = &mut op.kind {
        *rollback_run = Some(run.id);
    }
    op.waiting = match run.pending_approvals.first() {
        Some(id) => {
            let mut steps = backend.approval_steps(id).await.unwrap_or_default();
            // The requester cannot approve its own rollback run (the check's rule): not named.
            steps.retain(|a| !a.approver.unique_name.eq_ignore_ascii_case(&op.actor));
            waiting_for_rollback_approval(&run, &steps)
        }
        None => None,
    };
    act_on(
        session,
        op,
        judge_rollback_run(&run),
        endpoint,
        deployment,
        to,
    )
    .await;
}

/// A direct rollback: the deployment update's operation, then the deployment; returns how long
/// the service asked to wait.
async fn step_direct(
    session: &Session,
    op: &mut Operation,
    endpoint: &str,
    deployment: &str,
    to: ModelVersion,
) -> Option<Duration> {
    let backend = session.backend();
    if op.state == OpState::Succeeded {
        verify(session, op, endpoint, deployment, to).await;
        return None;
    }
    let Some(h) = op.handle.clone() else {
        // No handle (resumed after a lost answer): watch the deployment itself.
        match backend.deployment(Stage::Prod, endpoint, deployment).await {
            Ok(d) if d.provisioning.is_terminal() => {
                op.advance(OpState::Succeeded, session.now());
                verify(session, op, endpoint, deployment, to).await;
            }
            Ok(_) => op.advance(OpState::InProgress, session.now()),
            Err(e) => op.last_error = Some(e.to_string()),
        }
        return None;
    };
    match backend.operation_status(&h).await {
        Ok(OperationStatus::InProgress { retry_after }) => {
            op.advance(OpState::InProgress, session.now());
            return retry_after;
        }
        Ok(OperationStatus::Succeeded) => {
            op.advance(OpState::Succeeded, session.now());
            verify(session, op, endpoint, deployment, to).await;
        }
        Ok(OperationStatus::Failed(m)) => {
            op.last_error = Some(m);
            op.advance(OpState::Failed, session.now());
        }
        Ok(OperationStatus::Canceled) => {
            op.last_error = Some("the deployment update was canceled".into());
            op.advance(OpState::Failed, session.now());
        }
        Err(e) => op.last_error = Some(e.to_string()),
    }
    None
}

/// A decision left unfinished by a crash (decisions are confirmed when made): re-read.
async fn step_decision(session: &Session, op: &mut Operation) {
    let want = match op.kind {
        OpKind::Approve { .. } => ApprovalStatus::Approved,
        _ => ApprovalStatus::Rejected,
    };
    match decision_record(session.backend(), op).await {
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
        Ok(d) => match verification(&d, to) {
            Verification::Verified => op.advance(OpState::Verified, session.now()),
            Verification::Failed(why) => {
                op.last_error = Some(why);
                op.advance(OpState::Failed, session.now());
            }
            Verification::Pending => {}
        },
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
                Ok(d) => settle_step(s, &d),
                Err(e) => s.error = Some(e.to_string()),
            }
            continue;
        }
        if let Some(h) = s.handle.clone() {
            match backend.operation_status(&h).await {
                Ok(status) => step_answer(s, status),
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    }
    environment_outcome(op, session.now());
}

/// Close every unfinished operation of this session's backend as failed with `why`, on the
/// journal and the audit log, without a call: for a backend whose world did not survive
/// (the built-in simulator, restarted).
pub fn abandon_all(session: &Session, why: &str) {
    for mut op in session.journal().unfinished() {
        op.last_error = Some(why.to_owned());
        op.advance(OpState::Failed, session.now());
        save(session, &mut op);
        audit_abandoned(session, &op, why);
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
