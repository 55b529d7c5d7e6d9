//! Planning from a snapshot alone, on the incident of `domain::rollback`'s tests: PLANT007/
//! CIRCUIT03 runs v6; v5 was rolled back; v4 (release 40, which also carried CIRCUIT04's v7)
//! is the last known good; v3 failed its validation.

use super::*;
use crate::domain::fleet::{ActiveRelease, KnownVersion};
use crate::domain::rollback::TargetError;
use crate::domain::rollback::fixtures::{c, fleet};
use crate::service::snapshot::fixtures::ctx;

const CIRCUIT: &str = "PLANT007/CIRCUIT03";

fn request(target: TargetChoice, method: Option<RollbackMethod>) -> RollbackRequest {
    RollbackRequest {
        circuit: c(CIRCUIT),
        target,
        method,
    }
}

fn circuit_mut<'a>(s: &'a mut FleetSnapshot, circuit: &str) -> &'a mut CircuitSnapshot {
    s.plants
        .iter_mut()
        .flat_map(|p| p.circuits.iter_mut())
        .find(|cs| cs.circuit == c(circuit))
        .unwrap()
}

fn changes(plan: &RollbackPlan) -> Vec<(String, Option<u32>, u32)> {
    plan.blast_radius
        .iter()
        .map(|x| (x.circuit.to_string(), x.from.map(|v| v.0), x.to.0))
        .collect()
}

#[test]
fn last_known_good_by_redeploy_takes_its_releases_other_models_along() {
    let req = request(TargetChoice::LastGood, Some(RollbackMethod::Redeploy));
    let plan = plan_from_snapshot(&ctx(), &fleet(), &req).unwrap();
    assert_eq!(
        (plan.from, plan.to),
        (Some(ModelVersion(6)), ModelVersion(4))
    );
    assert!(plan.target.healthy());
    assert_eq!(
        plan.redeploy,
        Some(RedeployTarget {
            release_id: 40,
            release_name: "Release-40".into(),
            environment_id: 403.into(),
        })
    );
    assert_eq!(
        changes(&plan),
        [
            ("PLANT007/CIRCUIT03".into(), Some(6), 4),
            ("PLANT007/CIRCUIT04".into(), Some(9), 7),
        ]
    );
    assert_eq!(
        plan.others()
            .map(|x| x.circuit.to_string())
            .collect::<Vec<_>>(),
        ["PLANT007/CIRCUIT04"]
    );
    assert_eq!(plan.calls.len(), 4);
    assert!(
        plan.calls[1].starts_with("PATCH _apis/Release/releases/40/environments/403"),
        "{}",
        plan.calls[1]
    );
    assert_eq!(
        plan.calls[3],
        "GET Prod deployment batch-endpoint-plant007/deployment-circuit03 to verify it runs v4"
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(plan.sla_minutes, 15);
    assert_eq!(plan.history.len(), 4);
}

#[test]
fn a_direct_rollback_changes_only_this_circuit_and_says_what_it_cannot_vouch_for() {
    let req = request(TargetChoice::LastGood, Some(RollbackMethod::Direct));
    let plan = plan_from_snapshot(&ctx(), &fleet(), &req).unwrap();
    assert_eq!(plan.redeploy, None);
    assert_eq!(changes(&plan), [("PLANT007/CIRCUIT03".into(), Some(6), 4)]);
    assert_eq!(plan.others().count(), 0);
    assert!(
        plan.calls[1].contains("models/plant007-circuit03/versions/4"),
        "{}",
        plan.calls[1]
    );
    assert_eq!(plan.warnings, ["v4 is not known to be in the registry"]);

    let mut snapshot = fleet();
    circuit_mut(&mut snapshot, CIRCUIT).known_versions = vec![KnownVersion {
        version: ModelVersion(4),
        git_commit: None,
        training_hash: None,
        build_id: None,
        in_registry: true,
    }];
    let plan = plan_from_snapshot(&ctx(), &snapshot, &req).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn the_method_is_the_configured_one_unless_asked() {
    let mut ctx = ctx();
    for default in [RollbackMethod::Redeploy, RollbackMethod::Direct] {
        ctx.default_rollback_method = default;
        let plan =
            plan_from_snapshot(&ctx, &fleet(), &request(TargetChoice::LastGood, None)).unwrap();
        assert_eq!(plan.method, default);
        assert_eq!(plan.redeploy.is_some(), default == RollbackMethod::Redeploy);
    }
}

#[test]
fn an_unhealthy_target_and_a_release_in_flight_are_warned_of() {
    let mut snapshot = fleet();
    circuit_mut(&mut snapshot, CIRCUIT).active_release = Some(ActiveRelease {
        release_id: 77,
        release_name: "Release-77".into(),
        stage: Stage::Test,
    });
    let req = request(
        TargetChoice::Version(ModelVersion(5)),
        Some(RollbackMethod::Redeploy),
    );
    let plan = plan_from_snapshot(&ctx(), &snapshot, &req).unwrap();
    assert_eq!(plan.to, ModelVersion(5));
    assert_eq!(
        plan.warnings,
        [
            "target v5: it was rolled back before",
            "Release-77 is deploying to Test right now",
        ]
    );
}

#[test]
fn no_plan_for_a_circuit_not_in_the_fleet_or_a_target_that_does_not_fit() {
    let mut req = request(TargetChoice::LastGood, None);
    req.circuit = c("PLANT099/CIRCUIT01");
    assert_eq!(
        plan_from_snapshot(&ctx(), &fleet(), &req),
        Err(PlanError::NotInFleet(c("PLANT099/CIRCUIT01")))
    );
    let req = request(TargetChoice::Version(ModelVersion(6)), None);
    let err = plan_from_snapshot(&ctx(), &fleet(), &req).unwrap_err();
    assert_eq!(
        err,
        PlanError::Target(TargetError::AlreadyInProd(ModelVersion(6)))
    );
    assert_eq!(err.to_string(), "version 6 is already in Prod");
    let req = request(TargetChoice::Version(ModelVersion(7)), None);
    assert_eq!(
        plan_from_snapshot(&ctx(), &fleet(), &req),
        Err(PlanError::Target(TargetError::NeverRan(ModelVersion(7))))
    );
}

#[test]
fn a_redeploy_brings_back_the_environment_its_config_names() {
    assert_eq!(
        environment_of("model_name: x\nenvironment_version: 1.4.2\n").as_deref(),
        Some("1.4.2")
    );
    assert_eq!(environment_of("model_name: x\n"), None);
    assert_eq!(environment_of("environment_version: [1, 2]\n"), None);
    assert_eq!(environment_of("features: [unclosed"), None);
}

/// The rollback pipeline is planned only where the flavour has one; then it changes this
/// circuit alone, to the target, named to the pipeline as `rollbackType=specific`.
#[test]
fn the_rollback_pipeline_is_planned_where_offered_and_changes_this_circuit_alone() {
    let req = request(TargetChoice::LastGood, Some(RollbackMethod::Pipeline));
    assert_eq!(
        plan_from_snapshot(&ctx(), &fleet(), &req),
        Err(PlanError::NoRollbackPipeline)
    );
    let mut offered = ctx();
    offered.rollback_run_offered = true;
    let plan = plan_from_snapshot(&offered, &fleet(), &req).unwrap();
    assert_eq!(plan.method, RollbackMethod::Pipeline);
    assert_eq!(plan.redeploy, None);
    assert_eq!(changes(&plan), [("PLANT007/CIRCUIT03".into(), Some(6), 4)]);
    assert!(
        plan.calls[1].contains("rollbackType=specific, specificDeployment=4"),
        "{:?}",
        plan.calls
    );
    let sent = rollback_run_request(&c(CIRCUIT), plan.to);
    assert_eq!(
        (sent.circuits, sent.specific),
        (vec![c(CIRCUIT)], Some(ModelVersion(4)))
    );
    assert!(matches!(
        plan.operation(None),
        OpKind::Rollback {
            method: RollbackMethod::Pipeline,
            release_id: None,
            rollback_run: None,
            ..
        }
    ));
}
