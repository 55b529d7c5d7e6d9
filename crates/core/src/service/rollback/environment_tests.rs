//! Planning an environment rollback from a snapshot alone: which release it undoes, which
//! deployments move, and why there is sometimes nothing to plan.

use super::*;
use crate::domain::fleet::ReleaseSummary;
use crate::domain::rollback::fixtures::{c, fleet, release};
use crate::service::snapshot::fixtures::ctx;

/// An environment-only release from `previous` to `version`, its Production stage `prod`.
fn environment_only_release(
    id: u32,
    version: &str,
    previous: Option<&str>,
    prod: EnvironmentStatus,
) -> ReleaseSummary {
    ReleaseSummary {
        build_id: None,
        environment_only: Some(version.into()),
        previous_environment: previous.map(str::to_owned),
        ..release(id, 25, prod, &[])
    }
}

/// The incident fleet with environment 1.6.0 rolled out to Prod by release 70 (from 1.5.0),
/// on CIRCUIT03 and CIRCUIT04.
fn rolled_out() -> FleetSnapshot {
    let mut s = fleet();
    s.releases.insert(
        0,
        environment_only_release(70, "1.6.0", Some("1.5.0"), EnvironmentStatus::Succeeded),
    );
    for cs in s.plants.iter_mut().flat_map(|p| p.circuits.iter_mut()) {
        cs.environment.prod = Some("1.6.0".into());
    }
    s
}

fn set_environment(s: &mut FleetSnapshot, circuit: &str, env: Option<&str>) {
    for cs in s.plants.iter_mut().flat_map(|p| p.circuits.iter_mut()) {
        if cs.circuit == c(circuit) {
            cs.environment.prod = env.map(str::to_owned);
        }
    }
}

#[test]
fn every_prod_deployment_not_yet_on_the_previous_environment_moves_back() {
    let mut s = rolled_out();
    assert_eq!(
        environment_release(&s),
        Ok(("1.6.0".to_owned(), "1.5.0".to_owned()))
    );
    let plan = plan_environment(&ctx(), &s).unwrap();
    assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1.6.0", "1.5.0"));
    assert_eq!(plan.steps.len(), 2);
    let s3 = &plan.steps[0];
    assert_eq!(s3.circuit, c("PLANT007/CIRCUIT03"));
    assert_eq!(
        (s3.endpoint.as_str(), s3.deployment.as_str()),
        ("batch-endpoint-plant007", "deployment-circuit03")
    );
    assert_eq!(
        (s3.from.as_deref(), s3.to.as_str()),
        (Some("1.6.0"), "1.5.0")
    );
    assert_eq!(s3.state, OpState::Submitting);
    assert!(plan.calls[0].starts_with("for each of 2 Prod deployments"));
    assert_eq!(plan.sla_minutes, 15);

    // One already back, one with no environment known: only the other moves.
    set_environment(&mut s, "PLANT007/CIRCUIT04", Some("1.5.0"));
    let plan = plan_environment(&ctx(), &s).unwrap();
    assert_eq!(plan.steps.len(), 1);
    set_environment(&mut s, "PLANT007/CIRCUIT03", None);
    assert_eq!(
        plan_environment(&ctx(), &s),
        Err(EnvironmentPlanError::AlreadyEverywhere("1.5.0".into()))
    );
}

#[test]
fn the_newest_environment_release_through_production_is_the_one_undone() {
    let mut s = rolled_out();
    // A newer one still waiting at Production does not count yet.
    s.releases.insert(
        0,
        environment_only_release(71, "1.7.0", Some("1.6.0"), EnvironmentStatus::NotStarted),
    );
    assert_eq!(
        environment_release(&s),
        Ok(("1.6.0".to_owned(), "1.5.0".to_owned()))
    );
}

#[test]
fn nothing_to_plan_without_an_environment_release_that_says_what_it_replaced() {
    assert_eq!(
        environment_release(&fleet()),
        Err(EnvironmentPlanError::NothingToRollBack)
    );
    let mut s = fleet();
    s.releases.insert(
        0,
        environment_only_release(70, "1.6.0", None, EnvironmentStatus::Succeeded),
    );
    let err = plan_environment(&ctx(), &s).unwrap_err();
    assert_eq!(
        err,
        EnvironmentPlanError::PreviousUnknown {
            release: "Release-70".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "Release-70 does not say which environment it replaced"
    );
}
