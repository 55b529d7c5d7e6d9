//! What the service's answers mean to a rollback in flight, judged without reading anything:
//! whether a request went out, where a redeploy's Production stage stands, whether the Prod
//! deployment verifies, how an environment rollback's steps and the whole stand, and what a
//! redeploy waiting for its approvals again is waiting for. `track`, `send` and `execute` read
//! the service and act on these verdicts.

use chrono::{DateTime, Utc};

use crate::domain::ModelVersion;
use crate::domain::fleet::platform_word;
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, ApprovalType, Deployment, EnvironmentStatus, IdentityRef,
    ProvisioningState, ReleaseEnvironment,
};
use crate::service::backend::{OperationStatus, RollbackRun};
use crate::service::journal::{OpState, Operation, Step};

/// The newest deployment attempt of a release environment (0 before any).
pub(super) fn attempts(env: &ReleaseEnvironment) -> u32 {
    env.last_attempt().map_or(0, |d| d.attempt)
}

/// A redeploy went out when the stage has an attempt newer than before it, or is deploying.
pub(super) fn redeploy_went_out(env: &ReleaseEnvironment, attempts_before: Option<u32>) -> bool {
    attempts(env) > attempts_before.unwrap_or(0) || env.status.is_active()
}

/// A direct rollback went out when the deployment runs the target, or is being updated.
pub(super) fn direct_went_out(d: &Deployment, to: ModelVersion) -> bool {
    d.model.as_ref().map(|m| m.version) == Some(to) || !d.provisioning.is_terminal()
}

/// What a release's Production stage says of a redeploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RedeployNow {
    /// Deploying (or queued, or waiting for its approvals).
    Running,
    /// The redeploy's attempt succeeded: verify the deployment next.
    Succeeded,
    /// The redeploy's attempt ended without succeeding, or the redeploy is gone: why.
    Failed(String),
    /// Nothing to tell yet.
    Unchanged,
}

/// What a rollback run says of a pipeline rollback: completed and succeeded (verify next),
/// completed otherwise (why), or still running.
pub(super) fn judge_rollback_run(run: &RollbackRun) -> RedeployNow {
    if !run.state.eq_ignore_ascii_case("completed") {
        return RedeployNow::Running;
    }
    match run.result.as_deref() {
        Some(r) if r.eq_ignore_ascii_case("succeeded") => RedeployNow::Succeeded,
        other => RedeployNow::Failed(format!(
            "the rollback run {} ended {}",
            run.name,
            other.unwrap_or("without a result")
        )),
    }
}

/// What a rollback run waits for, from its approval's steps: who may still approve.
pub(super) fn waiting_for_rollback_approval(
    run: &RollbackRun,
    steps: &[ApprovalRecord],
) -> Option<String> {
    if run.pending_approvals.is_empty() {
        return None;
    }
    let pending: Vec<&ApprovalRecord> = steps
        .iter()
        .filter(|a| a.status == ApprovalStatus::Pending)
        .collect();
    let approved = steps
        .iter()
        .filter(|a| a.status == ApprovalStatus::Approved)
        .count();
    let who = who_may_approve(&pending).unwrap_or_else(|| "see the approvals list".to_owned());
    Some(format!(
        "waiting for the rollback run {}'s approval: {approved} approved so far ({who})",
        run.name
    ))
}

/// Judge the Production stage `env` of release `release_id` for a redeploy sent when it had
/// `attempts_before` attempts. A redeploy not seen on the release after a grace time (or seen
/// and gone) is lost: waiting for it would wait forever.
pub(super) fn judge_redeploy(
    env: &ReleaseEnvironment,
    release_id: u32,
    attempts_before: Option<u32>,
    op: &Operation,
    now: DateTime<Utc>,
) -> RedeployNow {
    let new_attempt = attempts(env) > attempts_before.unwrap_or(0);
    match &env.status {
        s if s.is_active() => RedeployNow::Running,
        EnvironmentStatus::Succeeded if new_attempt => RedeployNow::Succeeded,
        EnvironmentStatus::Rejected
        | EnvironmentStatus::Canceled
        | EnvironmentStatus::PartiallySucceeded
            if new_attempt =>
        {
            RedeployNow::Failed(format!("the Production redeploy ended {}", env.status))
        }
        // Not deploying, and no attempt newer than before the PATCH: the redeploy is not (or
        // no longer) on the release.
        s if !new_attempt && lost(op, now) => RedeployNow::Failed(format!(
            "Release-{release_id}'s Production stage is {s} and shows no redeploy after \
             attempt {}: it was canceled, replaced or never queued; look at the release before \
             trying again",
            attempts_before.unwrap_or(0)
        )),
        _ => RedeployNow::Unchanged,
    }
}

/// A redeploy waiting for the stage's pre-deployment approvals again (real DevOps asks for
/// them on every deployment of a stage, a redeploy included), in words: who has approved,
/// how many are needed, who may still approve. The SLA clock keeps running meanwhile.
pub(super) fn waiting_for_approval(env: &ReleaseEnvironment, attempt: u32) -> Option<String> {
    let this: Vec<_> = env
        .pre_deploy_approvals
        .iter()
        .filter(|a| a.attempt == attempt && a.approval_type == ApprovalType::PreDeploy)
        .collect();
    let pending: Vec<&ApprovalRecord> = this
        .iter()
        .copied()
        .filter(|a| a.status == ApprovalStatus::Pending)
        .collect();
    let who = who_may_approve(&pending)?;
    let approved = this
        .iter()
        .filter(|a| a.status == ApprovalStatus::Approved)
        .count();
    let required = match env.required_approvers {
        0 => this.len(),
        n => n as usize,
    };
    Some(format!(
        "waiting for {} approval of the redeploy: {approved} of {required} ({who})",
        env.name,
    ))
}

/// Who may still approve, from the pending records: one record per required approver, often
/// all for the same group, so each name once; less whom the platform bars (YAML
/// `blockedApprovers`: the run's requester, and whoever re-ran the stage), who are named as
/// barred. `None` when no record names anyone.
fn who_may_approve(pending: &[&ApprovalRecord]) -> Option<String> {
    let (barred, may, _) = platform_word(pending);
    if may.is_empty() && pending.iter().all(|a| a.approver.name().is_empty()) {
        return None;
    }
    let names = |list: &[IdentityRef]| {
        list.iter()
            .map(IdentityRef::name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut said = if may.is_empty() {
        "no one Azure DevOps lets approve it is assigned".to_owned()
    } else {
        format!("may approve: {}", names(&may))
    };
    if !barred.is_empty() {
        said.push_str(&format!("; Azure DevOps bars {}", names(&barred)));
    }
    Some(said)
}

/// How long a redeploy may go unseen on its release after the PATCH was accepted before it
/// counts as lost (the real service queues it at once; this covers a slow replica).
const UNSEEN_GRACE: chrono::Duration = chrono::Duration::minutes(2);

/// A redeploy that was seen running, or accepted longer than [`UNSEEN_GRACE`] ago, and that
/// the release no longer shows: tracking it further would wait forever.
pub(super) fn lost(op: &Operation, now: DateTime<Utc>) -> bool {
    op.state >= OpState::InProgress || op.submitted_at.is_some_and(|t| now - t > UNSEEN_GRACE)
}

/// What a re-read of the Prod deployment says of a rollback to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verification {
    /// Runs the target, provisioned.
    Verified,
    /// Provisioning ended on something else: why.
    Failed(String),
    /// Still provisioning.
    Pending,
}

/// Judge the Prod deployment `d` of a rollback to `to`.
pub(super) fn verification(d: &Deployment, to: ModelVersion) -> Verification {
    let running = d.model.as_ref().map(|m| m.version);
    if d.provisioning == ProvisioningState::Succeeded && running == Some(to) {
        Verification::Verified
    } else if d.provisioning.is_terminal() {
        Verification::Failed(format!(
            "verification failed: Prod runs {} (provisioning {:?}), expected v{to}",
            running
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "no model".into()),
            d.provisioning
        ))
    } else {
        Verification::Pending
    }
}

/// An environment step re-read at its deployment (sent without an answer kept, found after a
/// stop, or reported done): verified on the target version, failed, found never sent, or
/// still going.
pub(super) fn settle_step(s: &mut Step, d: &Deployment) {
    let on_target = d.environment.as_ref().is_some_and(|e| e.version == s.to);
    if d.provisioning == ProvisioningState::Succeeded && on_target {
        s.state = OpState::Verified;
    } else if s.state == OpState::Succeeded
        || (s.handle.is_none() && d.provisioning.is_terminal() && s.state != OpState::Submitting)
    {
        s.state = OpState::Failed;
        s.error = Some(format!(
            "verification failed: environment {}",
            d.environment
                .as_ref()
                .map(|e| e.version.as_str())
                .unwrap_or_default()
        ));
    } else if s.state == OpState::Submitting && d.provisioning.is_terminal() && !on_target {
        s.state = OpState::NotSent;
    }
}

/// An environment step's operation, as the service reports it.
pub(super) fn step_answer(s: &mut Step, status: OperationStatus) {
    match status {
        OperationStatus::InProgress { .. } => s.state = OpState::InProgress,
        OperationStatus::Succeeded => s.state = OpState::Succeeded,
        OperationStatus::Failed(m) => {
            s.state = OpState::Failed;
            s.error = Some(m);
        }
        OperationStatus::Canceled => {
            s.state = OpState::Failed;
            s.error = Some("canceled".into());
        }
    }
}

/// The environment rollback from its steps: in progress while any runs; when every step has
/// ended, verified if all were, else failed, counting those that did not move.
pub(super) fn environment_outcome(op: &mut Operation, now: DateTime<Utc>) {
    let all_final = op.steps.iter().all(|s| s.state.is_final());
    if op
        .steps
        .iter()
        .any(|s| matches!(s.state, OpState::InProgress | OpState::Succeeded))
    {
        op.advance(OpState::InProgress, now);
    }
    if !all_final {
        return;
    }
    if op.steps.iter().all(|s| s.state == OpState::Verified) {
        op.advance(OpState::Verified, now);
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
        op.advance(OpState::Failed, now);
    }
}

/// An environment step went out when its deployment is updating or on the target version.
pub(super) fn step_went_out(d: &Deployment, to: &str) -> bool {
    !d.provisioning.is_terminal() || d.environment.as_ref().is_some_and(|e| e.version == to)
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
