//! Planning a circuit's rollback: the target (previous, last known good, or a version), the
//! method (redeploy the release that deployed it, or set the deployment's model directly),
//! the requests in order, every circuit that changes (the blast radius), and what to warn of.
//! Everything but the config diff comes from the snapshot ([`plan_from_snapshot`], pure);
//! [`plan`] adds the configs of both versions, read now.

use serde::Serialize;

use super::error::PlanError;
use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot};
use crate::domain::platform::{ModelAsset, StageRef};
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::{
    CircuitChange, ProdHistoryEntry, TargetChoice, choose_target, prod_history,
    redeploy_blast_radius,
};
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::Context;
use crate::service::backend::{Backend, RollbackRunRequest};
use crate::service::evidence::{ConfigComparison, VersionInfo};
use crate::service::journal::OpKind;
use crate::service::session::Session;

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
    /// Its Production stage (opaque, as the release port gave it).
    pub environment_id: StageRef,
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
    /// The operation that carries out this plan, for the journal; `attempts_before`: the
    /// redeployed stage's attempts before the request (to tell later whether it went out).
    pub fn operation(&self, attempts_before: Option<u32>) -> OpKind {
        OpKind::Rollback {
            circuit: self.circuit.clone(),
            method: self.method,
            from: self.from,
            to: self.to,
            endpoint: self.endpoint.clone(),
            deployment: self.deployment.clone(),
            release_id: self.redeploy.as_ref().map(|r| r.release_id),
            environment_id: self.redeploy.as_ref().map(|r| r.environment_id.clone()),
            attempts_before,
            rollback_run: None,
        }
    }

    /// Circuits other than this one that change.
    pub fn others(&self) -> impl Iterator<Item = &CircuitChange> {
        self.blast_radius
            .iter()
            .filter(|c| c.circuit != self.circuit && c.changes())
    }
}

/// Plan a rollback from the snapshot, plus the configs of both versions, read now (the
/// config diff, and the environment a redeploy brings back).
pub async fn plan(
    session: &Session,
    snapshot: &FleetSnapshot,
    req: &RollbackRequest,
) -> Result<RollbackPlan, PlanError> {
    let mut plan = plan_from_snapshot(session.context(), snapshot, req)?;
    word_send_call(session.backend(), &mut plan);
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
        && let Some(env) = config.new.text.as_deref().ok().and_then(environment_of)
    {
        plan.to_environment = Some(env);
    }
    plan.config = Some(config);
    Ok(plan)
}

/// The request a plan sends, in the release flavour's own words (the port's): a re-run of
/// the Production stage, or the rollback pipeline queued. The plan drawn from the snapshot
/// alone words a classic redeploy.
fn word_send_call(backend: &dyn Backend, plan: &mut RollbackPlan) {
    let line = match (plan.method, &plan.redeploy) {
        (RollbackMethod::Redeploy, Some(r)) => {
            backend.rerun_stage_call(r.release_id, &r.environment_id)
        }
        (RollbackMethod::Pipeline, _) => {
            Some(backend.rollback_run_call(&rollback_run_request(&plan.circuit, plan.to)))
        }
        _ => None,
    };
    if let (Some(line), Some(slot)) = (line, plan.calls.get_mut(SEND_CALL)) {
        *slot = line;
    }
}

/// Where the request that changes something is in a plan's `calls` (after the re-read).
const SEND_CALL: usize = 1;

/// What the rollback pipeline is queued with for a circuit: `rollbackType=specific` to the
/// plan's target, so the version restored is the one shown and verified (`previous` would let
/// the pipeline pick it).
pub fn rollback_run_request(circuit: &CircuitRef, to: ModelVersion) -> RollbackRunRequest {
    RollbackRunRequest {
        circuits: vec![circuit.clone()],
        specific: Some(to),
        comment: String::new(),
    }
}

/// The `environment_version` a config names (what a redeploy of its model brings back).
fn environment_of(config: &str) -> Option<String> {
    let m = crate::service::configs::parse_mapping(config).ok()?;
    m.get("environment_version")
        .and_then(|n| n.value.as_str().map(str::to_owned))
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

/// Everything of a plan the snapshot knows: target, method, calls, blast radius, warnings.
/// The config comparison is left out (and the environment assumed unchanged) until [`plan`]
/// reads the configs.
pub fn plan_from_snapshot(
    ctx: &Context,
    snapshot: &FleetSnapshot,
    req: &RollbackRequest,
) -> Result<RollbackPlan, PlanError> {
    let c = snapshot
        .circuit(&req.circuit)
        .ok_or_else(|| PlanError::NotInFleet(req.circuit.clone()))?;
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
    let verify = format!(
        "GET Prod deployment {endpoint}/{deployment} to verify it runs v{}",
        target.version
    );
    let how = match method {
        RollbackMethod::Redeploy => redeploy(snapshot, &target, verify)?,
        RollbackMethod::Direct => direct(ctx, c, &target, &endpoint, &deployment, verify),
        RollbackMethod::Pipeline => {
            if !ctx.rollback_run_offered {
                return Err(PlanError::NoRollbackPipeline);
            }
            pipeline(c, &target, verify)
        }
    };
    warnings.extend(how.warnings);
    Ok(RollbackPlan {
        circuit: req.circuit.clone(),
        method,
        from: c.versions.prod,
        to: target.version,
        from_environment: c.environment.prod.clone(),
        to_environment: c.environment.prod.clone(),
        target,
        history,
        redeploy: how.redeploy,
        blast_radius: how.blast_radius,
        calls: how.calls,
        config: None,
        warnings,
        endpoint,
        deployment,
        sla_minutes: ctx.rollback_sla_minutes,
    })
}

/// What the method chosen does: the release it re-runs (redeploy), every circuit that
/// changes, the requests, and what to warn of.
struct Method {
    redeploy: Option<RedeployTarget>,
    blast_radius: Vec<CircuitChange>,
    calls: Vec<String>,
    warnings: Vec<String>,
}

/// Redeploy the Production stage of the release that deployed the target: every model of that
/// release goes back with it.
fn redeploy(
    snapshot: &FleetSnapshot,
    target: &ProdHistoryEntry,
    verify: String,
) -> Result<Method, PlanError> {
    let release = snapshot
        .release(target.release_id)
        .ok_or(PlanError::ReleaseNotInSnapshot(target.release_id))?;
    let prod = release
        .stage(Stage::Prod)
        .ok_or_else(|| PlanError::NoProductionStage {
            release: release.name.clone(),
        })?;
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
        verify,
    ];
    Ok(Method {
        redeploy: Some(RedeployTarget {
            release_id: release.id,
            release_name: release.name.clone(),
            environment_id: prod.environment_id.clone(),
        }),
        blast_radius: redeploy_blast_radius(snapshot, release),
        calls,
        warnings: Vec::new(),
    })
}

/// Set the Prod deployment's model to the target's registry asset: only this circuit changes.
fn direct(
    ctx: &Context,
    c: &CircuitSnapshot,
    target: &ProdHistoryEntry,
    endpoint: &str,
    deployment: &str,
    verify: String,
) -> Method {
    let mut warnings = Vec::new();
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
        verify,
    ];
    Method {
        redeploy: None,
        blast_radius: this_circuit_only(c, target),
        calls,
        warnings,
    }
}

/// The blast radius of a method that changes only the circuit rolled back.
fn this_circuit_only(c: &CircuitSnapshot, target: &ProdHistoryEntry) -> Vec<CircuitChange> {
    vec![CircuitChange {
        circuit: c.circuit.clone(),
        from: c.versions.prod,
        to: target.version,
    }]
}

/// Queue the rollback pipeline for this circuit alone, to the target: only this circuit
/// changes, after the pipeline's own approval check.
fn pipeline(c: &CircuitSnapshot, target: &ProdHistoryEntry, verify: String) -> Method {
    let req = rollback_run_request(&c.circuit, target.version);
    let calls = vec![
        format!(
            "GET Prod deployment of {} (re-read before sending)",
            c.circuit
        ),
        format!(
            "queue the rollback pipeline: circuitIds={}_{}, environment=Production, \
             rollbackType=specific, specificDeployment={}",
            req.circuits[0].plant, req.circuits[0].circuit, target.version.0
        ),
        "poll the rollback run until it completes (while its approval check waits, that is \
         shown, with who may approve)"
            .to_owned(),
        verify,
    ];
    Method {
        redeploy: None,
        blast_radius: this_circuit_only(c, target),
        calls,
        warnings: vec![
            "the rollback run waits for its own approval (not yours) first; that counts in the SLA"
                .to_owned(),
        ],
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
