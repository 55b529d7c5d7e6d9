//! The YAML face's transitions, over the classic world: approval decisions (a step per
//! approver, all-or-nothing per PATCH), stage re-runs (a new attempt whose checks run again),
//! and rollback runs (their approval, then each named circuit's deployment PUT through ARM).

use chrono::{DateTime, Utc};

use super::view::{self, Run, YamlApproval};
use super::{RollbackRun, RollbackType, StepDecision, deploy_stage};
use crate::domain::Stage;
use crate::machine::{PIPELINE_PRINCIPAL, RedeployError};
use crate::world::{Ids, OpKind, Phase, World};

/// One item of an Approvals - Update body.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approval_id: String,
    pub approve: bool,
    pub comment: String,
}

/// Why an approval decision is refused (HTTP 400, as the simulator decides: Microsoft documents
/// neither status nor words).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    #[error("The approval {0} does not exist.")]
    NotFound(String),
    #[error("The approval {id} is already {status}; only a pending approval can be updated.")]
    Completed { id: String, status: &'static str },
    #[error("{who} is not an approver of approval {id} (environment {env}).")]
    NotAnApprover {
        id: String,
        who: String,
        env: &'static str,
    },
    #[error("{who} has already answered approval {id}.")]
    AnsweredTwice { id: String, who: String },
    #[error(
        "{who} requested run {run} and cannot approve it: the Approval check on environment {env} says the requester of a run may not approve it."
    )]
    Requester {
        who: String,
        run: String,
        env: &'static str,
    },
}

impl Refusal {
    pub fn type_key(&self) -> &'static str {
        match self {
            Refusal::NotFound(_) => "ApprovalNotFoundException",
            Refusal::Completed { .. } => "ApprovalAlreadyCompletedException",
            Refusal::NotAnApprover { .. } | Refusal::Requester { .. } => {
                "ApprovalNotAuthorizedException"
            }
            Refusal::AnsweredTwice { .. } => "ApprovalStepAlreadyCompletedException",
        }
    }
}

/// Apply every decision as `who`, or none: all are checked first (in order, each as if the
/// ones before it had been applied), then applied. Returns the approvals' ids, in order.
pub fn decide_all(
    w: &mut World,
    who: usize,
    decisions: &[Decision],
    at: DateTime<Utc>,
) -> Result<Vec<String>, Refusal> {
    let all = view::approvals(w);
    let mut seen: Vec<&str> = Vec::new();
    let mut plan: Vec<(&YamlApproval, &Decision)> = Vec::new();
    let name = w.person(who).display.clone();
    for d in decisions {
        let Some(a) = all
            .iter()
            .find(|a| a.id.eq_ignore_ascii_case(&d.approval_id))
        else {
            return Err(Refusal::NotFound(d.approval_id.clone()));
        };
        if a.status != "pending" {
            return Err(Refusal::Completed {
                id: a.id.clone(),
                status: a.status,
            });
        }
        let own = a.steps.iter().find(|s| s.assigned == who);
        let for_group = || {
            a.steps
                .iter()
                .find(|s| s.assigned == view::GROUP && view::answers_for_group(who))
        };
        let Some(step) = own.or_else(for_group) else {
            return Err(Refusal::NotAnApprover {
                id: a.id.clone(),
                who: name,
                env: a.env.name(),
            });
        };
        if step.status != "pending" || seen.contains(&a.id.as_str()) {
            return Err(Refusal::AnsweredTwice {
                id: a.id.clone(),
                who: name,
            });
        }
        if d.approve && a.blocked.contains(&who) {
            return Err(Refusal::Requester {
                who: name,
                run: a.run.name(w),
                env: a.env.name(),
            });
        }
        seen.push(&a.id);
        plan.push((a, d));
    }
    let ids = plan.iter().map(|(a, _)| a.id.clone()).collect();
    let plan: Vec<(YamlApproval, Decision)> = plan
        .into_iter()
        .map(|(a, d)| (a.clone(), d.clone()))
        .collect();
    for (a, d) in plan {
        apply(w, &a, who, d.approve, &d.comment, at);
    }
    Ok(ids)
}

fn apply(
    w: &mut World,
    a: &YamlApproval,
    who: usize,
    approve: bool,
    comment: &str,
    at: DateTime<Utc>,
) {
    match a.run {
        Run::Release(..) => {
            let Some(&record) = a
                .records
                .iter()
                .find(|&&i| w.approvals[i].status == crate::world::ApprovalStatus::Pending)
            else {
                return;
            };
            // The classic option `--requester-cannot-approve` belongs to the classic face; the
            // YAML face has already applied its own check (blockedApprovers).
            let classic = std::mem::replace(&mut w.release_creator_can_be_approver, true);
            let _ = w.decide(record, who, approve, comment, at);
            w.release_creator_can_be_approver = classic;
        }
        Run::Rollback(n) => {
            w.yaml.rollbacks[n].decisions.push(StepDecision {
                who,
                approve,
                comment: comment.to_owned(),
                at,
            });
            let approved = w.yaml.rollbacks[n]
                .decisions
                .iter()
                .filter(|d| d.approve)
                .count() as u32;
            if approve && approved >= a.min_required {
                start_rollback(w, n, at);
            }
        }
        Run::Training(_) => {}
    }
}

/// Why a stage re-run is refused (HTTP 400).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RetryRefusal {
    #[error("Stage {stage} was not found in run {run}.")]
    NoSuchStage { stage: String, run: String },
    #[error("Stage {stage} of run {run} is not completed; only a completed stage can be retried.")]
    NotCompleted { stage: String, run: String },
    #[error(
        "Stage {stage} of run {run} succeeded and has no failed jobs to retry; set forceRetryAllJobs to run all of its jobs again."
    )]
    NothingToRetry { stage: String, run: String },
    #[error("{0}")]
    Classic(String),
}

/// Stages - Update `{state: retry}` on a release run's deployment stage: a new attempt, whose
/// environment checks run again (its approval is raised anew, blocking whoever retried it
/// when the check bars requesters); once approved the stage deploys as the classic stage does.
pub fn retry_stage(
    w: &mut World,
    run: Run,
    stage: &str,
    force_all_jobs: bool,
    who: usize,
    at: DateTime<Utc>,
) -> Result<(), RetryRefusal> {
    let run_name = run.name(w);
    let Run::Release(r, e) = run else {
        return Err(RetryRefusal::NoSuchStage {
            stage: stage.to_owned(),
            run: run_name,
        });
    };
    if !deploy_stage(e).name.eq_ignore_ascii_case(stage) {
        return Err(RetryRefusal::NoSuchStage {
            stage: stage.to_owned(),
            run: run_name,
        });
    }
    let phase = w.releases[r].envs[e].attempts.last().map(|a| a.phase);
    match phase {
        Some(Phase::Succeeded) if !force_all_jobs => {
            return Err(RetryRefusal::NothingToRetry {
                stage: stage.to_owned(),
                run: run_name,
            });
        }
        Some(Phase::Succeeded | Phase::Rejected | Phase::Canceled) => {}
        _ => {
            return Err(RetryRefusal::NotCompleted {
                stage: stage.to_owned(),
                run: run_name,
            });
        }
    }
    w.rerun_stage(r, e, who, at).map_err(|e| {
        RetryRefusal::Classic(match e {
            RedeployError::Abandoned => format!("Run {run_name} was canceled."),
            RedeployError::AlreadyActive(_) => {
                format!("Stage {stage} of run {run_name} is already running.")
            }
            RedeployError::PreviousNotSucceeded(p) => {
                format!("Stage {stage} of run {run_name} depends on {p}, which has not succeeded.")
            }
        })
    })
}

/// Why a rollback run is refused at queue time (HTTP 400).
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueRefusal {
    #[error("The template parameter '{0}' is required.")]
    Missing(&'static str),
    #[error("The value '{value}' is not valid for parameter '{name}'; allowed: {allowed}.")]
    Invalid {
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("Unexpected template parameter '{0}'.")]
    Unknown(String),
    #[error("Circuit {0} does not exist.")]
    NoCircuit(String),
    #[error("Circuit {0} has no {1} deployment to roll back.")]
    NoDeployment(String, &'static str),
    #[error("Circuit {circuit} has no earlier model version than {current} in {stage}.")]
    NoPrevious {
        circuit: String,
        current: u32,
        stage: &'static str,
    },
    #[error("Model version {version} of circuit {circuit} is not in the registry.")]
    NoVersion { circuit: String, version: u32 },
}

const PARAMETERS: [&str; 5] = [
    "circuitIds",
    "environment",
    "sourceBranch",
    "rollbackType",
    "specificDeployment",
];

/// Runs - Run Pipeline on `rollback-pipeline`: the run is queued; on Production its
/// `ExecuteRollback` stage waits on the `Production-Rollback-Approval` check, on Test it starts
/// at once.
pub fn queue_rollback(
    w: &mut World,
    params: &serde_json::Map<String, serde_json::Value>,
    who: usize,
    at: DateTime<Utc>,
) -> Result<usize, QueueRefusal> {
    let text = |name: &'static str| -> Option<String> {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.trim().to_owned()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    if let Some(k) = params
        .keys()
        .find(|k| !PARAMETERS.iter().any(|p| p.eq_ignore_ascii_case(k)))
    {
        return Err(QueueRefusal::Unknown(k.clone()));
    }
    let circuits = text("circuitIds").ok_or(QueueRefusal::Missing("circuitIds"))?;
    let environment = text("environment").ok_or(QueueRefusal::Missing("environment"))?;
    let stage = match environment.to_ascii_lowercase().as_str() {
        "production" => Stage::Prod,
        "test" => Stage::Test,
        _ => {
            // Dev holds models but serves none: there is nothing to roll back there.
            return Err(QueueRefusal::Invalid {
                name: "environment",
                value: environment,
                allowed: "Test, Production (Dev serves no deployments)",
            });
        }
    };
    let kind = match text("rollbackType")
        .unwrap_or_else(|| "previous".into())
        .to_ascii_lowercase()
        .as_str()
    {
        "previous" => RollbackType::Previous,
        "specific" => RollbackType::Specific,
        other => {
            return Err(QueueRefusal::Invalid {
                name: "rollbackType",
                value: other.to_owned(),
                allowed: "previous, specific",
            });
        }
    };
    let specific = match kind {
        RollbackType::Previous => None,
        RollbackType::Specific => {
            let s =
                text("specificDeployment").ok_or(QueueRefusal::Missing("specificDeployment"))?;
            let digits = s
                .rsplit([':', '/'])
                .next()
                .unwrap_or(&s)
                .trim_start_matches('v');
            Some(digits.parse::<u32>().map_err(|_| QueueRefusal::Invalid {
                name: "specificDeployment",
                value: s.clone(),
                allowed: "a model version number (7, v7, or a model asset id ending in it)",
            })?)
        }
    };
    let stage_name = if stage == Stage::Prod {
        "Production"
    } else {
        "Test"
    };
    let mut targets = Vec::new();
    for id in circuits.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let c = id
            .parse::<crate::domain::CircuitRef>()
            .ok()
            .and_then(|r| w.circuit_index(&r))
            .ok_or_else(|| QueueRefusal::NoCircuit(id.to_owned()))?;
        let current = w
            .deployed_version(stage, c)
            .ok_or_else(|| QueueRefusal::NoDeployment(id.to_owned(), stage_name))?;
        let v = match specific {
            Some(v) => v,
            None => previous_version(w, stage, c, current).ok_or(QueueRefusal::NoPrevious {
                circuit: id.to_owned(),
                current,
                stage: stage_name,
            })?,
        };
        if w.version(c, v).is_none_or(|m| m.registry_at.is_none()) {
            return Err(QueueRefusal::NoVersion {
                circuit: id.to_owned(),
                version: v,
            });
        }
        targets.push((c, v));
    }
    if targets.is_empty() {
        return Err(QueueRefusal::Missing("circuitIds"));
    }
    let n = w.yaml.rollbacks.len();
    let mut parameters = serde_json::Map::new();
    for (k, v) in params {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parameters.insert(k.clone(), serde_json::Value::String(s));
    }
    w.yaml.rollbacks.push(RollbackRun {
        id: super::ROLLBACK_RUN_BASE + n as u32,
        number: format!("{}.rollback.{}", at.format("%Y%m%d"), n + 1),
        requested_by: who,
        queued: at,
        parameters,
        stage,
        kind,
        targets,
        decisions: Vec::new(),
        started: None,
        ops: Vec::new(),
    });
    if view::rollback_env(stage).approval_check().is_none() {
        start_rollback(w, n, at);
    }
    Ok(n)
}

/// The version a circuit's deployment served before `current`: Prod's serving history; in
/// Test, the highest registered version below it.
fn previous_version(w: &World, stage: Stage, c: usize, current: u32) -> Option<u32> {
    if stage == Stage::Prod {
        let serving = &w.circuits[c].prod_serving;
        let at = serving.iter().rposition(|(_, v)| *v == current)?;
        return serving[..at]
            .iter()
            .rev()
            .map(|(_, v)| *v)
            .find(|v| *v != current);
    }
    w.circuits[c]
        .versions
        .iter()
        .filter(|m| m.version < current && m.registry_at.is_some())
        .map(|m| m.version)
        .max()
}

/// The `ExecuteRollback` job starts: each named circuit's deployment is PUT with the target
/// model (an ARM long-running operation, as relcon's own direct update does).
fn start_rollback(w: &mut World, n: usize, at: DateTime<Utc>) {
    let (stage, targets) = {
        let run = &w.yaml.rollbacks[n];
        (run.stage, run.targets.clone())
    };
    let mut ops = Vec::new();
    for (c, v) in targets {
        let asset = w.registry_asset(c, v);
        let Some((e, d)) = w
            .circuit_deployments
            .get(c)
            .and_then(|s| s[usize::from(stage == Stage::Prod)])
        else {
            continue;
        };
        if let Some(dep) = w.workspaces[Ids::ws_index(stage)]
            .endpoints
            .get_mut(e)
            .and_then(|ep| ep.deployments.get_mut(d))
        {
            dep.model_asset = asset;
            dep.modified_at = at;
            dep.modified_by = PIPELINE_PRINCIPAL.into();
        }
        ops.push(w.begin_op(OpKind::Put, stage, e, Some(d), at));
    }
    let run = &mut w.yaml.rollbacks[n];
    run.started = Some(at);
    run.ops = ops;
}
