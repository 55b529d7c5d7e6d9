//! The decisions of executing, without a service: the re-read right before sending (refused
//! when the service already moved), which journaled operation a rerun follows, and what the
//! operator is told.

use super::*;
use crate::domain::platform::{ApprovalStatus, EnvironmentStatus};
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::TargetChoice;
use crate::domain::rollback::fixtures::{c, fleet};
use crate::domain::{ModelVersion, Stage};
use crate::service::rollback::plan::{RollbackRequest, plan_from_snapshot};
use crate::service::snapshot::fixtures::{approval, ctx, deployment, release};

fn release_40_prod() -> RedeployTarget {
    RedeployTarget {
        release_id: 40,
        release_name: "Release-40".into(),
        environment_id: 403.into(),
    }
}

fn direct_plan() -> RollbackPlan {
    let req = RollbackRequest {
        circuit: c("PLANT007/CIRCUIT03"),
        target: TargetChoice::LastGood,
        method: Some(RollbackMethod::Direct),
    };
    plan_from_snapshot(&ctx(), &fleet(), &req).unwrap()
}

fn operation(kind: OpKind) -> Operation {
    Operation::new(
        kind,
        "bob@contoso.com",
        Some(15),
        None,
        crate::domain::clock::pinned_start(),
    )
}

fn circuit_rollback(circuit: &str) -> OpKind {
    OpKind::Rollback {
        circuit: c(circuit),
        method: RollbackMethod::Direct,
        from: Some(ModelVersion(6)),
        to: ModelVersion(4),
        endpoint: "batch-endpoint-plant007".into(),
        deployment: "deployment-circuit03".into(),
        release_id: None,
        environment_id: None,
        attempts_before: None,
        rollback_run: None,
    }
}

#[test]
fn a_redeploy_is_refused_while_its_release_deploys_and_counts_attempts_otherwise() {
    let settled = release(40, "b40", EnvironmentStatus::Succeeded, vec![]);
    assert_eq!(redeploy_precheck(&settled, &release_40_prod()).unwrap(), 1);

    let deploying = release(40, "b40", EnvironmentStatus::InProgress, vec![]);
    let err = redeploy_precheck(&deploying, &release_40_prod()).unwrap_err();
    assert!(
        matches!(&err, ExecuteError::Refused(RollbackRefusal::AlreadyDeploying { release })
            if release == "Release-40"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "refused: Release-40 is already deploying to Production"
    );

    // Waiting for its approval is not deploying.
    let pending = approval(9, 40, 403, "Production", ApprovalStatus::Pending, None);
    let waiting = release(40, "b40", EnvironmentStatus::InProgress, vec![pending]);
    assert_eq!(redeploy_precheck(&waiting, &release_40_prod()).unwrap(), 1);

    let gone = RedeployTarget {
        environment_id: 999.into(),
        ..release_40_prod()
    };
    let err = redeploy_precheck(&settled, &gone).unwrap_err();
    assert!(
        matches!(
            err,
            ExecuteError::Failed(RollbackFailure::NoSuchEnvironment {
                release_id: 40,
                ref environment_id,
            }) if *environment_id == 999
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "release 40 has no environment 999");
}

#[test]
fn a_direct_rollback_is_refused_when_prod_already_runs_the_target() {
    let plan = direct_plan();
    let mut d = deployment(Stage::Prod, "plant007", "circuit03", 4);
    let err = direct_precheck(&d, &plan).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused: PLANT007/CIRCUIT03 already runs v4 in Prod"
    );
    // Still provisioning the target, or on another version: go ahead.
    d.provisioning = ProvisioningState::Updating;
    assert!(direct_precheck(&d, &plan).is_ok());
    let d = deployment(Stage::Prod, "plant007", "circuit03", 6);
    assert!(direct_precheck(&d, &plan).is_ok());
}

#[test]
fn a_rerun_follows_the_unfinished_rollback_of_the_same_circuit_or_of_the_environment() {
    let approve = operation(OpKind::Approve {
        approval_id: 1.into(),
        release_id: 2,
        environment_id: 3.into(),
        stage: Stage::Prod,
    });
    let circuit = operation(circuit_rollback("PLANT007/CIRCUIT03"));
    let environment = operation(OpKind::EnvironmentRollback {
        from: "1.6.0".into(),
        to: "1.5.0".into(),
    });
    let ops = vec![approve, circuit.clone(), environment.clone()];
    let of = |want: Option<&str>| unfinished_rollback(ops.clone(), want.map(c).as_ref());
    assert_eq!(of(Some("PLANT007/CIRCUIT03")), Some(circuit));
    assert_eq!(of(Some("PLANT007/CIRCUIT04")), None);
    assert_eq!(of(None), Some(environment));
    assert_eq!(unfinished_rollback(Vec::new(), None), None);
}

#[test]
fn a_rerun_says_what_it_found_naming_the_operation() {
    let op = operation(circuit_rollback("PLANT007/CIRCUIT03"));
    let said = |r: Rerun| r.describe(&op);
    assert!(said(Rerun::InFlight).contains("is already in flight (submitting)"));
    assert!(said(Rerun::BeingSent).contains("another relcon process"));
    assert!(said(Rerun::SentBefore).contains("nothing sent again"));
    assert!(said(Rerun::SentNow).contains("sent it now, once"));
    for r in [
        Rerun::InFlight,
        Rerun::BeingSent,
        Rerun::SentBefore,
        Rerun::SentNow,
    ] {
        assert!(
            said(r).starts_with(&format!(
                "operation {} (rollback PLANT007/CIRCUIT03)",
                op.id
            )),
            "{}",
            said(r)
        );
    }
}

#[test]
fn errors_read_as_before_and_keep_what_caused_them() {
    let policy: ExecuteError =
        RollbackRefusal::Policy(vec!["read-only mode".into(), "not now".into()]).into();
    assert_eq!(policy.to_string(), "refused: read-only mode; not now");
    let cause: ExecuteError = RollbackFailure::NotDone {
        operation: "op-1".into(),
        why: "the deployment update was canceled".into(),
    }
    .into();
    let resend = RollbackFailure::ResendFailed {
        operation: "op-1".into(),
        source: Box::new(cause),
    };
    assert_eq!(
        resend.to_string(),
        "operation op-1 was journaled but not sent (relcon stopped before sending it); sending \
         it now failed: the deployment update was canceled"
    );
    let claimed = RollbackFailure::Claimed("op-2".into());
    assert_eq!(
        claimed.to_string(),
        "not sent: operation op-2 is claimed by another relcon process"
    );
}
