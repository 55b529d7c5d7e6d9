//! Planning an environment rollback: every Prod deployment back to the environment version
//! the newest environment-only release replaced, one step per circuit not already there.
//! Pure: the console says what `R` would do before the key is pressed.

use serde::Serialize;

use super::error::EnvironmentPlanError;
use crate::domain::Stage;
use crate::domain::fleet::FleetSnapshot;
use crate::domain::platform::EnvironmentStatus;
use crate::service::Context;
use crate::service::journal::{OpState, Step};

/// The environment rollback plan: every Prod deployment not yet on `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentPlan {
    pub from: String,
    pub to: String,
    pub steps: Vec<Step>,
    pub sla_minutes: u32,
    pub calls: Vec<String>,
}

/// The environment version an environment rollback would leave and the one it would go back
/// to, from the newest environment-only release that reached Production; or why there is none.
pub fn environment_release(
    snapshot: &FleetSnapshot,
) -> Result<(String, String), EnvironmentPlanError> {
    let release = snapshot
        .releases
        .iter()
        .find(|r| {
            r.environment_only.is_some()
                && r.stage(Stage::Prod)
                    .is_some_and(|p| p.status == EnvironmentStatus::Succeeded)
        })
        .ok_or(EnvironmentPlanError::NothingToRollBack)?;
    let to = release.previous_environment.clone().ok_or_else(|| {
        EnvironmentPlanError::PreviousUnknown {
            release: release.name.clone(),
        }
    })?;
    Ok((release.environment_only.clone().unwrap_or_default(), to))
}

/// Plan moving every Prod deployment back to the environment version before the current one.
pub fn plan_environment(
    ctx: &Context,
    snapshot: &FleetSnapshot,
) -> Result<EnvironmentPlan, EnvironmentPlanError> {
    let (from, to) = environment_release(snapshot)?;
    let steps: Vec<Step> = snapshot
        .circuits()
        .filter(|c| {
            c.environment.prod.as_deref() != Some(to.as_str()) && c.environment.prod.is_some()
        })
        .map(|c| Step {
            circuit: c.circuit.clone(),
            endpoint: ctx.naming.endpoint.render_plant(&c.circuit.plant),
            deployment: ctx.naming.deployment(&c.circuit),
            from: c.environment.prod.clone(),
            to: to.clone(),
            state: OpState::Submitting,
            handle: None,
            error: None,
        })
        .collect();
    if steps.is_empty() {
        return Err(EnvironmentPlanError::AlreadyEverywhere(to));
    }
    let calls = vec![
        format!(
            "for each of {} Prod deployments: GET, set properties.environmentId to version {to}, PUT",
            steps.len()
        ),
        "poll each Azure-AsyncOperation until it succeeds".into(),
        "GET each deployment to verify the environment".into(),
    ];
    Ok(EnvironmentPlan {
        from,
        to,
        steps,
        sla_minutes: ctx.rollback_sla_minutes,
        calls,
    })
}

#[cfg(test)]
#[path = "environment_tests.rs"]
mod tests;
