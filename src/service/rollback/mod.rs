//! Rolling a circuit back: plan (target, method, config diff, calls, blast radius) and execute
//! (journal first, send once, re-read on ambiguity). Environment rollbacks move every Prod
//! deployment back to the previous environment version, one step per circuit. Following an
//! operation to a verified restore, and resuming after a crash, is `track` (re-exported here).

use serde::Serialize;

use super::Context;
use super::evidence::{ConfigComparison, VersionInfo};
use super::journal::{OpKind, OpState, Operation, SendClaim, Step};
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::fleet::FleetSnapshot;
use crate::domain::platform::{EnvironmentStatus, IdentityRef, ModelAsset, ProvisioningState};
use crate::domain::rollback::{
    CircuitChange, ProdHistoryEntry, TargetChoice, choose_target, prod_history,
    redeploy_blast_radius,
};
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::settings::RollbackMethod;

pub use super::send::{Rerun, rerun};
use super::send::{send_environment, send_rollback};
pub use super::track::{Progress, abandon_all, elapsed, resume_all, sla, track};

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRequest {
    pub circuit: CircuitRef,
    pub target: TargetChoice,
    pub method: Option<RollbackMethod>,
}

/// The release a redeploy rollback re-runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedeployTarget {
    pub release_id: u32,
    pub release_name: String,
    pub environment_id: u32,
}

/// Everything a rollback will do, shown before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackPlan {
    pub circuit: CircuitRef,
    pub method: RollbackMethod,
    pub from: Option<ModelVersion>,
    pub to: ModelVersion,
    pub from_environment: Option<String>,
    pub to_environment: Option<String>,
    pub target: ProdHistoryEntry,
    pub history: Vec<ProdHistoryEntry>,
    pub redeploy: Option<RedeployTarget>,
    /// Every circuit the rollback changes, this one included.
    pub blast_radius: Vec<CircuitChange>,
    /// The requests, in order.
    pub calls: Vec<String>,
    /// Config at `from` against config at `to`.
    #[serde(skip)]
    pub config: Option<ConfigComparison>,
    pub warnings: Vec<String>,
    pub endpoint: String,
    pub deployment: String,
    pub sla_minutes: u32,
}

impl RollbackPlan {
    /// Circuits other than this one that change.
    pub fn others(&self) -> impl Iterator<Item = &CircuitChange> {
        self.blast_radius
            .iter()
            .filter(|c| c.circuit != self.circuit && c.changes())
    }
}

/// Versions known to the snapshot, as the config comparison wants them.
fn known_as_info(snapshot: &FleetSnapshot, circuit: &CircuitRef) -> Vec<VersionInfo> {
    snapshot
        .circuit(circuit)
        .map(|c| {
            c.known_versions
                .iter()
                .map(|k| VersionInfo {
                    version: k.version,
                    in_dev: !k.in_registry,
                    in_registry: k.in_registry,
                    training_hash: k.training_hash.clone(),
                    git_commit: k.git_commit.clone(),
                    build_id: k.build_id.clone(),
                    cutoff_date: None,
                    created_at: None,
                    release: None,
                    deployed_in: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Plan a rollback from the snapshot, plus the configs of both versions, read now (the
/// config diff, and the environment a redeploy brings back).
pub async fn plan(
    session: &Session,
    snapshot: &FleetSnapshot,
    req: &RollbackRequest,
) -> Result<RollbackPlan, String> {
    let mut plan = plan_from_snapshot(session.context(), snapshot, req)?;
    let Some(from) = plan.from else {
        return Ok(plan);
    };
    let config = session
        .compare(
            &req.circuit,
            &known_as_info(snapshot, &req.circuit),
            from,
            plan.to,
        )
        .await;
    if plan.method == RollbackMethod::Redeploy
        && let Some(env) = config
            .new
            .text
            .as_ref()
            .ok()
            .and_then(|t| super::configs::parse_mapping(t).ok())
            .and_then(|m| {
                m.get("environment_version")
                    .and_then(|n| n.value.as_str().map(str::to_owned))
            })
    {
        plan.to_environment = Some(env);
    }
    plan.config = Some(config);
    Ok(plan)
}

/// Everything of a plan the snapshot knows: target, method, calls, blast radius, warnings.
/// The config comparison is left out (and the environment assumed unchanged) until [`plan`]
/// reads the configs.
pub fn plan_from_snapshot(
    ctx: &Context,
    snapshot: &FleetSnapshot,
    req: &RollbackRequest,
) -> Result<RollbackPlan, String> {
    let c = snapshot
        .circuit(&req.circuit)
        .ok_or_else(|| format!("{} is not in the fleet", req.circuit))?;
    let history = prod_history(snapshot, &req.circuit, &ctx.thresholds);
    let target = choose_target(&history, req.target)?.clone();
    let method = req.method.unwrap_or(ctx.default_rollback_method);
    let endpoint = ctx.naming.endpoint.render_plant(&req.circuit.plant);
    let deployment = ctx.naming.deployment(&req.circuit);
    let mut warnings: Vec<String> = target
        .concerns()
        .iter()
        .map(|c| format!("target v{}: {c}", target.version))
        .collect();
    if let Some(a) = &c.active_release {
        warnings.push(format!(
            "{} is deploying to {} right now",
            a.release_name, a.stage
        ));
    }
    let (redeploy, blast_radius, calls) = match method {
        RollbackMethod::Redeploy => {
            let release = snapshot.release(target.release_id).ok_or_else(|| {
                format!(
                    "release {} is not in the snapshot; refresh and try again",
                    target.release_id
                )
            })?;
            let prod = release
                .stage(Stage::Prod)
                .ok_or_else(|| format!("{} has no Production stage", release.name))?;
            let radius = redeploy_blast_radius(snapshot, release);
            let calls = vec![
                format!(
                    "GET release {} (re-read the Production stage before sending)",
                    release.id
                ),
                format!(
                    "PATCH _apis/Release/releases/{}/environments/{} {{\"status\": \"inProgress\"}} (redeploy {} to Production)",
                    release.id, prod.environment_id, release.name
                ),
                format!(
                    "poll release {} until Production succeeds (should the stage ask for its \
                     approvals again, that is shown, with who may approve)",
                    release.id
                ),
                format!(
                    "GET Prod deployment {endpoint}/{deployment} to verify it runs v{}",
                    target.version
                ),
            ];
            (
                Some(RedeployTarget {
                    release_id: release.id,
                    release_name: release.name.clone(),
                    environment_id: prod.environment_id,
                }),
                radius,
                calls,
            )
        }
        RollbackMethod::Direct => {
            if !c
                .known_version(target.version)
                .is_some_and(|k| k.in_registry)
            {
                warnings.push(format!(
                    "v{} is not known to be in the registry",
                    target.version
                ));
            }
            let asset = ModelAsset {
                registry: Some(ctx.registry.clone()),
                name: c.model_name.clone(),
                version: target.version,
            };
            let calls = vec![
                format!("GET Prod deployment {endpoint}/{deployment}"),
                format!(
                    "PUT the deployment with properties.model.assetId = {}",
                    asset.asset_id()
                ),
                "poll the Azure-AsyncOperation until it succeeds".to_owned(),
                format!(
                    "GET Prod deployment {endpoint}/{deployment} to verify it runs v{}",
                    target.version
                ),
            ];
            let radius = vec![CircuitChange {
                circuit: req.circuit.clone(),
                from: c.versions.prod,
                to: target.version,
            }];
            (None, radius, calls)
        }
    };
    Ok(RollbackPlan {
        circuit: req.circuit.clone(),
        method,
        from: c.versions.prod,
        to: target.version,
        from_environment: c.environment.prod.clone(),
        to_environment: c.environment.prod.clone(),
        target,
        history,
        redeploy,
        blast_radius,
        calls,
        config: None,
        warnings,
        endpoint,
        deployment,
        sla_minutes: ctx.rollback_sla_minutes,
    })
}

/// Why a rollback did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
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
    let ctx = session.context();
    let check = ctx.policy.check_mutation();
    if !check.allowed() {
        audit(
            session,
            actor,
            plan_target(plan),
            reason.clone(),
            format!("refused: {}", check.reasons().join("; ")),
            Vec::new(),
        );
        return Err(ExecuteError::Refused(check.reasons().join("; ")));
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
                .map_err(|e| ExecuteError::Failed(e.to_string()))?;
            let env = release
                .environments
                .iter()
                .find(|e| e.id == r.environment_id)
                .ok_or_else(|| {
                    ExecuteError::Failed(format!(
                        "release {} has no environment {}",
                        r.release_id, r.environment_id
                    ))
                })?;
            if env.is_deploying() {
                return Err(ExecuteError::Refused(format!(
                    "{} is already deploying to Production",
                    release.name
                )));
            }
            Some(env.last_attempt().map_or(0, |d| d.attempt))
        }
        None => {
            let d = backend
                .deployment(Stage::Prod, &plan.endpoint, &plan.deployment)
                .await
                .map_err(|e| ExecuteError::Failed(e.to_string()))?;
            if d.model.as_ref().map(|m| m.version) == Some(plan.to)
                && d.provisioning == ProvisioningState::Succeeded
            {
                return Err(ExecuteError::Refused(format!(
                    "{} already runs v{} in Prod",
                    plan.circuit, plan.to
                )));
            }
            None
        }
    };
    let mut op = Operation::new(
        OpKind::Rollback {
            circuit: plan.circuit.clone(),
            method: plan.method,
            from: plan.from,
            to: plan.to,
            endpoint: plan.endpoint.clone(),
            deployment: plan.deployment.clone(),
            release_id: plan.redeploy.as_ref().map(|r| r.release_id),
            environment_id: plan.redeploy.as_ref().map(|r| r.environment_id),
            attempts_before,
        },
        &actor.unique_name,
        Some(plan.sla_minutes),
        reason.clone(),
        session.now(),
    );
    let _claim = claim_new(session, &op)?;
    session
        .journal()
        .save(&mut op)
        .map_err(|e| ExecuteError::Failed(format!("not sent: {e}")))?;
    send_rollback(session, &mut op, actor, "").await?;
    Ok(op)
}

/// The unfinished rollback in this session's journal: of `circuit`, or (`None`) of the
/// environment. A rerun shows and follows it rather than planning another.
pub fn in_flight(session: &Session, circuit: Option<&CircuitRef>) -> Option<Operation> {
    session
        .journal()
        .unfinished()
        .into_iter()
        .find(|o| match (&o.kind, circuit) {
            (OpKind::Rollback { circuit: c, .. }, Some(want)) => c == want,
            (OpKind::EnvironmentRollback { .. }, None) => true,
            _ => false,
        })
}

/// The send claim of a new operation, taken before it is journaled.
fn claim_new(session: &Session, op: &Operation) -> Result<SendClaim, ExecuteError> {
    match session.journal().claim(&op.id) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(ExecuteError::Failed(format!(
            "not sent: operation {} is claimed by another relcon process",
            op.id
        ))),
        Err(e) => Err(ExecuteError::Failed(format!("not sent: {e}"))),
    }
}

fn plan_target(plan: &RollbackPlan) -> (String, Inputs) {
    let mut details = serde_json::Map::new();
    details.insert("method".into(), plan.method.as_str().into());
    details.insert("from".into(), plan.from.map(|v| v.0).into());
    details.insert("to".into(), plan.to.0.into());
    if let Some(r) = &plan.redeploy {
        details.insert("release".into(), r.release_id.into());
    }
    (
        plan.circuit.to_string(),
        Inputs {
            details,
            ..Inputs::default()
        },
    )
}

pub(super) fn audit(
    session: &Session,
    actor: &IdentityRef,
    (target, mut inputs): (String, Inputs),
    reason: Option<String>,
    result: String,
    request_ids: Vec<String>,
) {
    inputs.reason = reason;
    let record = Record {
        actor: actor.unique_name.clone(),
        action: "rollback".into(),
        target,
        inputs,
        result,
        request_ids,
    };
    if let Err(e) = session.audit().append(record) {
        tracing::error!("cannot write the audit log: {e}");
    }
}

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
/// Pure: the console says it before the key is pressed.
pub fn environment_release(snapshot: &FleetSnapshot) -> Result<(String, String), String> {
    let release = snapshot
        .releases
        .iter()
        .find(|r| {
            r.environment_only.is_some()
                && r.stage(Stage::Prod)
                    .is_some_and(|p| p.status == EnvironmentStatus::Succeeded)
        })
        .ok_or("no environment-only release has reached Production: nothing to roll back")?;
    let to = release.previous_environment.clone().ok_or_else(|| {
        format!(
            "{} does not say which environment it replaced",
            release.name
        )
    })?;
    Ok((release.environment_only.clone().unwrap_or_default(), to))
}

/// Plan moving every Prod deployment back to the environment version before the current one.
pub fn plan_environment(
    ctx: &Context,
    snapshot: &FleetSnapshot,
) -> Result<EnvironmentPlan, String> {
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
        return Err(format!(
            "every Prod deployment already runs environment {to}"
        ));
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

/// Send every step of an environment rollback (bounded concurrency): journaled, then on the
/// audit log, then sent. An unfinished environment rollback in the journal is followed (or
/// re-read and sent once, as for a circuit) instead.
pub async fn execute_environment(
    session: &Session,
    plan: &EnvironmentPlan,
    actor: &IdentityRef,
    reason: Option<String>,
) -> Result<Operation, ExecuteError> {
    let check = session.context().policy.check_mutation();
    if !check.allowed() {
        return Err(ExecuteError::Refused(check.reasons().join("; ")));
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
    let _claim = claim_new(session, &op)?;
    session
        .journal()
        .save(&mut op)
        .map_err(|e| ExecuteError::Failed(format!("not sent: {e}")))?;
    send_environment(session, &mut op, "").await?;
    Ok(op)
}
