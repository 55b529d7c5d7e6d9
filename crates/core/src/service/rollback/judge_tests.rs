//! What each answer of the service means to a rollback in flight, judged without a service:
//! a redeploy's stage, the verifying re-read, an environment rollback's steps, a redeploy
//! waiting for its approvals again, and when a redeploy counts as lost.

use chrono::Duration as Minutes;

use super::*;
use crate::domain::clock::pinned_start;
use crate::domain::platform::{DeployAttempt, DeploymentStatus, ReleaseRecord};
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::TargetChoice;
use crate::domain::rollback::fixtures::fleet;
use crate::domain::{CircuitRef, Stage};
use crate::service::backend::{OperationHandle, OperationKind};
use crate::service::journal::OpKind;
use crate::service::rollback::plan::{RollbackRequest, plan_from_snapshot};
use crate::service::snapshot::fixtures::ctx;
use crate::service::snapshot::fixtures::{approval, deployment, release};

/// Release 40 with its Production stage `status`, and a second attempt when `redeployed`.
fn release_40(status: EnvironmentStatus, redeployed: bool) -> ReleaseRecord {
    let mut r = release(40, "b40", status, vec![]);
    if redeployed {
        r.environments[2].deploy_steps.push(DeployAttempt {
            attempt: 2,
            status: DeploymentStatus::InProgress,
            requested_by: None,
            requested_for: None,
            queued_on: None,
            last_modified_on: None,
        });
    }
    r
}

/// A redeploy of release 40 sent when its Production stage had one attempt, in `state`,
/// accepted `minutes_ago` before `pinned_start`.
fn redeploy_op(state: OpState, minutes_ago: Option<i64>) -> Operation {
    let req = RollbackRequest {
        circuit: "PLANT007/CIRCUIT03".parse().unwrap(),
        target: TargetChoice::LastGood,
        method: Some(RollbackMethod::Redeploy),
    };
    let plan = plan_from_snapshot(&ctx(), &fleet(), &req).unwrap();
    assert_eq!(
        (
            plan.to,
            plan.redeploy
                .as_ref()
                .and_then(|r| r.environment_id.as_number())
        ),
        (ModelVersion(4), Some(403))
    );
    let mut op = Operation::new(
        plan.operation(Some(1)),
        "bob@contoso.com",
        Some(15),
        None,
        pinned_start() - Minutes::minutes(10),
    );
    op.state = state;
    op.submitted_at = minutes_ago.map(|m| pinned_start() - Minutes::minutes(m));
    op
}

fn judge(status: EnvironmentStatus, redeployed: bool, op: &Operation) -> RedeployNow {
    let r = release_40(status, redeployed);
    judge_redeploy(&r.environments[2], 40, Some(1), op, pinned_start())
}

#[test]
fn a_redeploy_is_judged_by_its_own_attempt_of_the_production_stage() {
    let fresh = redeploy_op(OpState::Submitted, Some(1));
    assert_eq!(
        judge(EnvironmentStatus::InProgress, false, &fresh),
        RedeployNow::Running
    );
    assert_eq!(
        judge(EnvironmentStatus::Succeeded, true, &fresh),
        RedeployNow::Succeeded
    );
    // The first attempt's success is not the redeploy's.
    assert_eq!(
        judge(EnvironmentStatus::Succeeded, false, &fresh),
        RedeployNow::Unchanged
    );
    assert_eq!(
        judge(EnvironmentStatus::Rejected, true, &fresh),
        RedeployNow::Failed("the Production redeploy ended rejected".into())
    );
    assert_eq!(
        judge(EnvironmentStatus::Canceled, true, &fresh),
        RedeployNow::Failed("the Production redeploy ended canceled".into())
    );
}

#[test]
fn a_redeploy_the_release_does_not_show_is_lost_after_the_grace_time() {
    let fresh = redeploy_op(OpState::Submitted, Some(1));
    let late = redeploy_op(OpState::Submitted, Some(3));
    let seen = redeploy_op(OpState::InProgress, Some(1));
    assert!(!lost(&fresh, pinned_start()));
    assert!(lost(&late, pinned_start()));
    assert!(lost(&seen, pinned_start()), "seen running, then gone");
    assert!(!lost(
        &redeploy_op(OpState::Submitted, None),
        pinned_start()
    ));
    let RedeployNow::Failed(why) = judge(EnvironmentStatus::Succeeded, false, &late) else {
        panic!("a lost redeploy fails");
    };
    assert!(
        why.starts_with(
            "Release-40's Production stage is succeeded and shows no redeploy after attempt 1"
        ),
        "{why}"
    );
}

#[test]
fn whether_a_request_went_out_is_read_from_the_service() {
    let r = release_40(EnvironmentStatus::Succeeded, false);
    assert!(!redeploy_went_out(&r.environments[2], Some(1)));
    assert!(
        redeploy_went_out(&r.environments[2], Some(0)),
        "an attempt since"
    );
    let r = release_40(EnvironmentStatus::Queued, false);
    assert!(redeploy_went_out(&r.environments[2], Some(1)), "queued");

    let mut d = deployment(Stage::Prod, "plant007", "circuit03", 6);
    assert!(!direct_went_out(&d, ModelVersion(4)));
    d.provisioning = ProvisioningState::Updating;
    assert!(direct_went_out(&d, ModelVersion(4)), "being updated");
    let d = deployment(Stage::Prod, "plant007", "circuit03", 4);
    assert!(
        direct_went_out(&d, ModelVersion(4)),
        "already on the target"
    );
}

#[test]
fn only_the_target_provisioned_verifies() {
    let mut d = deployment(Stage::Prod, "plant007", "circuit03", 4);
    assert_eq!(verification(&d, ModelVersion(4)), Verification::Verified);
    assert_eq!(
        verification(&d, ModelVersion(5)),
        Verification::Failed(
            "verification failed: Prod runs v4 (provisioning Succeeded), expected v5".into()
        )
    );
    d.provisioning = ProvisioningState::Updating;
    assert_eq!(verification(&d, ModelVersion(4)), Verification::Pending);
    d.provisioning = ProvisioningState::Failed;
    d.model = None;
    assert_eq!(
        verification(&d, ModelVersion(4)),
        Verification::Failed(
            "verification failed: Prod runs no model (provisioning Failed), expected v4".into()
        )
    );
}

#[test]
fn a_redeploy_waiting_for_its_approvals_again_says_who_may_approve() {
    let mut r = release_40(EnvironmentStatus::InProgress, true);
    let env = &mut r.environments[2];
    let mut ask = |id, status, group: &str, attempt| {
        let mut a = approval(id, 40, 403, "Production", status, None);
        a.approver.display_name = group.into();
        a.attempt = attempt;
        env.pre_deploy_approvals.push(a);
    };
    ask(1, ApprovalStatus::Approved, "[Forecast]\\Approvers", 1);
    ask(2, ApprovalStatus::Approved, "[Forecast]\\Approvers", 2);
    ask(3, ApprovalStatus::Pending, "[Forecast]\\Approvers", 2);
    ask(4, ApprovalStatus::Pending, "[Forecast]\\Approvers", 2);
    ask(5, ApprovalStatus::Pending, "Carol", 2);
    let env = &r.environments[2];
    assert_eq!(
        waiting_for_approval(env, 2).as_deref(),
        Some(
            "waiting for Production approval of the redeploy: 1 of 2 (may approve: \
             [Forecast]\\Approvers, Carol)"
        )
    );
    assert_eq!(waiting_for_approval(env, 1), None, "nothing pending then");
}

fn step(state: OpState, handle: bool) -> Step {
    Step {
        circuit: CircuitRef::new("PLANT007".parse().unwrap(), "CIRCUIT03".parse().unwrap()),
        endpoint: "batch-endpoint-plant007".into(),
        deployment: "deployment-circuit03".into(),
        from: Some("1.6.0".into()),
        to: "1.5.0".into(),
        state,
        handle: handle.then(|| OperationHandle {
            url: "https://x/ops/1".into(),
            kind: OperationKind::AsyncOperation,
            retry_after_secs: None,
        }),
        error: None,
    }
}

#[test]
fn an_environment_step_is_settled_by_its_deployment() {
    let on = deployment(Stage::Prod, "plant007", "circuit03", 4); // environment 1.5.0
    let mut off = on.clone();
    if let Some(e) = off.environment.as_mut() {
        e.version = "1.6.0".into();
    }
    let settled = |mut s: Step, d: &Deployment| {
        settle_step(&mut s, d);
        (s.state, s.error)
    };
    assert_eq!(
        settled(step(OpState::Submitted, true), &on).0,
        OpState::Verified
    );
    assert_eq!(
        settled(step(OpState::Succeeded, true), &off),
        (
            OpState::Failed,
            Some("verification failed: environment 1.6.0".into())
        )
    );
    // Found after a stop, never sent: the deployment rests on the old environment.
    assert_eq!(
        settled(step(OpState::Submitting, false), &off).0,
        OpState::NotSent
    );
    // Sent without an answer kept, and the deployment rests elsewhere: it did not move.
    assert_eq!(
        settled(step(OpState::Submitted, false), &off).0,
        OpState::Failed
    );
    let mut updating = off.clone();
    updating.provisioning = ProvisioningState::Updating;
    assert_eq!(
        settled(step(OpState::Submitted, false), &updating).0,
        OpState::Submitted,
        "still going"
    );
}

#[test]
fn an_environment_rollback_ends_when_every_step_has() {
    let mut op = Operation::new(
        OpKind::EnvironmentRollback {
            from: "1.6.0".into(),
            to: "1.5.0".into(),
        },
        "bob@contoso.com",
        Some(15),
        None,
        pinned_start(),
    );
    op.state = OpState::Submitted;
    op.steps = vec![
        step(OpState::Verified, true),
        step(OpState::Submitted, true),
    ];
    let mut s = op.steps[1].clone();
    step_answer(&mut s, OperationStatus::InProgress { retry_after: None });
    op.steps[1] = s;
    environment_outcome(&mut op, pinned_start());
    assert_eq!(op.state, OpState::InProgress);

    let mut done = op.clone();
    step_answer(&mut done.steps[1], OperationStatus::Succeeded);
    assert_eq!(done.steps[1].state, OpState::Succeeded);
    done.steps[1].state = OpState::Verified;
    environment_outcome(&mut done, pinned_start());
    assert_eq!(done.state, OpState::Verified);

    let mut failed = op;
    step_answer(&mut failed.steps[1], OperationStatus::Canceled);
    assert_eq!(failed.steps[1].error.as_deref(), Some("canceled"));
    environment_outcome(&mut failed, pinned_start());
    assert_eq!(failed.state, OpState::Failed);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("1 of 2 deployments did not move")
    );
}

#[test]
fn an_environment_step_went_out_when_its_deployment_updates_or_is_on_the_target() {
    let mut d = deployment(Stage::Prod, "plant007", "circuit03", 4);
    assert!(step_went_out(&d, "1.5.0"), "on the target");
    assert!(!step_went_out(&d, "1.4.0"));
    d.provisioning = ProvisioningState::Updating;
    assert!(step_went_out(&d, "1.4.0"), "being updated");
}

fn rollback_run(
    state: &str,
    result: Option<&str>,
    waiting: bool,
) -> crate::service::backend::RollbackRun {
    crate::service::backend::RollbackRun {
        id: 900,
        name: "20261126.rollback.1".into(),
        state: state.into(),
        result: result.map(str::to_owned),
        pending_approvals: if waiting {
            vec![crate::domain::platform::ApprovalId::new("a1")]
        } else {
            Vec::new()
        },
    }
}

/// A rollback run is running until completed; completed, only `succeeded` goes on to the
/// verification, anything else fails it with the run's name.
#[test]
fn a_rollback_run_is_judged_by_its_state_then_its_result() {
    assert_eq!(
        judge_rollback_run(&rollback_run("inProgress", None, true)),
        RedeployNow::Running
    );
    assert_eq!(
        judge_rollback_run(&rollback_run("completed", Some("succeeded"), false)),
        RedeployNow::Succeeded
    );
    assert_eq!(
        judge_rollback_run(&rollback_run("completed", Some("canceled"), false)),
        RedeployNow::Failed("the rollback run 20261126.rollback.1 ended canceled".into())
    );
}

/// While its approval waits, the run says who may still approve, each name once.
#[test]
fn a_waiting_rollback_run_names_who_may_approve() {
    let pending = |who: &str| {
        let mut a = approval(1, 900, 0, "Production", ApprovalStatus::Pending, None);
        a.approver = crate::service::snapshot::fixtures::who(who);
        a
    };
    let mut steps = vec![
        pending("Carol"),
        pending("Dave"),
        pending("Carol"),
        pending("Erin"),
    ];
    let says = waiting_for_rollback_approval(&rollback_run("inProgress", None, true), &steps)
        .expect("it waits");
    assert!(
        says.contains("20261126.rollback.1") && says.contains("may approve: Carol, Dave, Erin"),
        "{says}"
    );
    // Whom DevOps bars (the run's requester) is not offered, and is named as barred.
    let erin = crate::service::snapshot::fixtures::who("Erin");
    for s in &mut steps {
        s.blocked_approvers = vec![erin.clone()];
    }
    let says = waiting_for_rollback_approval(&rollback_run("inProgress", None, true), &steps)
        .expect("it waits");
    assert!(
        says.contains("may approve: Carol, Dave; Azure DevOps bars Erin"),
        "{says}"
    );
    assert_eq!(
        waiting_for_rollback_approval(&rollback_run("inProgress", None, false), &steps),
        None
    );
}
