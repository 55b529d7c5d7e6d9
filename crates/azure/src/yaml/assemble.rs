//! From what the YAML pipelines' APIs say to relcon's releases, without reading anything.
//!
//! A release is one training run carried through the stages: its id is the training run's id
//! (the models' `build_id` tag), and each stage is the newest run of that stage's pipeline
//! that consumed it (as the pipeline resource `training`), read from the stage environment's
//! deployment records and from the approvals waiting on it. A stage's reference
//! ([`StageRef`]) is `"{run id}:{stage YAML name}"`, what Stages - Update is sent to.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::Stage;
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, ApprovalType, DeployAttempt, DeploymentStatus,
    EnvironmentStatus, IdentityRef, ReleaseEnvironment, ReleaseRecord, ReleaseStatus, StageRef,
    release_vars,
};
use crate::map::{identity_ref, some_identity, time};
use crate::wire::pipelines as pw;

/// A YAML stage reference: the run and the stage's YAML name.
pub fn stage_ref(run: u32, stage: &str) -> StageRef {
    StageRef::new(format!("{run}:{stage}"))
}

/// The run and stage name of a reference made by [`stage_ref`].
pub fn parse_stage_ref(r: &StageRef) -> Option<(u32, &str)> {
    let (run, stage) = r.as_str().split_once(':')?;
    let run = run.parse().ok()?;
    (!stage.is_empty()).then_some((run, stage))
}

/// One run of a stage's pipeline, as Runs - Get (and Builds - Get) show it. A completed run's
/// is kept, in memory and between processes (`kept.rs`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub id: u32,
    pub name: String,
    pub stage: Stage,
    pub requested_for: IdentityRef,
    pub created: Option<DateTime<Utc>>,
    /// `inProgress`, `completed`...
    pub state: String,
    pub result: Option<String>,
    /// The training run it consumed: its id and name.
    pub training: Option<(u32, String)>,
    /// Its `templateParameters`, values as text (the rollback pipeline's `circuitIds`...).
    pub parameters: BTreeMap<String, String>,
}

/// A run's `templateParameters` as text: strings as they are, numbers and flags as written.
pub fn parameters(p: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// The rollback pipeline's parameters in domain terms (`release_vars::ROLLBACK_*`): the
/// circuits of `circuitIds` (`PLANT001_CIRCUIT01` -> `PLANT001/CIRCUIT01`) and, for
/// `rollbackType=specific`, the version `specificDeployment` names (`7`, `v7`, or an asset id
/// ending in it, as the simulator reads it).
fn rollback_variables(p: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let get = |k: &str| {
        p.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.trim())
    };
    let mut out = BTreeMap::new();
    let circuits: Vec<String> = get("circuitIds")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.replacen('_', "/", 1))
        .collect();
    out.insert(
        release_vars::ROLLBACK_CIRCUITS.to_owned(),
        circuits.join(","),
    );
    let specific = get("rollbackType").is_some_and(|t| t.eq_ignore_ascii_case("specific"));
    let version = get("specificDeployment")
        .filter(|_| specific)
        .map(|d| {
            d.rsplit([':', '/', 'v'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|v| v.parse::<u32>().is_ok());
    if let Some(v) = version {
        out.insert(release_vars::ROLLBACK_VERSION.to_owned(), v);
    }
    out
}

/// What a rollback run does, in words: its circuits and where it takes them.
fn rollback_description(vars: &BTreeMap<String, String>) -> String {
    let circuits = vars
        .get(release_vars::ROLLBACK_CIRCUITS)
        .map(|c| c.replace(',', ", "))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "circuits it does not name".into());
    match vars.get(release_vars::ROLLBACK_VERSION) {
        Some(v) => format!("rollback pipeline run: {circuits} back to v{v}"),
        None => format!("rollback pipeline run: {circuits} back to the previous version"),
    }
}

/// One deployment record of a stage's environment.
#[derive(Debug, Clone, PartialEq)]
pub struct StageAttempt {
    pub run: u32,
    pub attempt: u32,
    pub queued: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub result: Option<String>,
}

impl StageAttempt {
    pub fn from_wire(r: &pw::DeploymentRecord) -> Option<StageAttempt> {
        Some(StageAttempt {
            run: r.owner.as_ref()?.id?,
            attempt: r.stage_attempt.unwrap_or(1),
            queued: time(r.queue_time.as_deref()).or(time(r.start_time.as_deref())),
            finished: time(r.finish_time.as_deref()),
            result: r.result.clone().filter(|s| !s.is_empty()),
        })
    }

    fn status(&self) -> DeploymentStatus {
        match (&self.finished, self.result.as_deref()) {
            (None, _) | (_, None) => DeploymentStatus::InProgress,
            (_, Some(r)) if r.eq_ignore_ascii_case("succeeded") => DeploymentStatus::Succeeded,
            (_, Some(r)) if r.eq_ignore_ascii_case("succeededWithIssues") => {
                DeploymentStatus::PartiallySucceeded
            }
            _ => DeploymentStatus::Failed,
        }
    }
}

/// The rule a stage's approvals are judged by: its environment's Approval check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageRule {
    /// `minRequiredApprovers`; 0: every approver.
    pub required: u32,
    pub requester_blocked: Option<bool>,
    pub approvers: Vec<IdentityRef>,
}

impl StageRule {
    /// The first enabled Approval check among an environment's configurations.
    pub fn from_checks(checks: &[pw::CheckConfiguration]) -> Option<StageRule> {
        let approval = checks.iter().find(|c| {
            c.is_disabled != Some(true)
                && c.check_type
                    .as_ref()
                    .and_then(|t| t.name.as_deref())
                    .is_some_and(|n| n.eq_ignore_ascii_case("Approval"))
        })?;
        let settings: pw::ApprovalSettings = approval
            .settings
            .clone()
            .and_then(|s| serde_json::from_value(s).ok())
            .unwrap_or_default();
        let approvers: Vec<IdentityRef> = settings
            .approvers
            .into_iter()
            .map(|a| identity_ref(Some(a)))
            .collect();
        Some(StageRule {
            required: settings.min_required_approvers.unwrap_or(0),
            requester_blocked: settings.requester_cannot_be_approver,
            approvers,
        })
    }
}

/// A pending approval placed on its run and stage.
#[derive(Debug, Clone)]
pub struct PlacedApproval {
    pub approval: pw::Approval,
    pub run: u32,
    pub stage: Stage,
    pub stage_name: String,
}

/// Whether `permissions` (`ApprovalPermissions`, a flags enum: `none` 0, `view` 1, `update` 2,
/// `reassign` 4, `resourceAdmin` 8, `queueBuild` 16) lets the caller decide: sent as a number
/// or as comma-separated names, both read. `None` for anything else.
pub fn may_update(p: &serde_json::Value) -> Option<bool> {
    match p {
        serde_json::Value::Number(n) => n.as_u64().map(|bits| bits & 2 != 0),
        serde_json::Value::String(s) => Some(
            s.split(',')
                .any(|f| f.trim().eq_ignore_ascii_case("update")),
        ),
        _ => None,
    }
}

/// The approval's records: one per approver's step (all under the approval's id), or one
/// pending record for the whole when it lists no steps (the official examples do not).
pub fn approval_records(
    a: &pw::Approval,
    release_id: u32,
    release_name: &str,
    stage: &StageRef,
    stage_name: &str,
    attempt: u32,
) -> Vec<ApprovalRecord> {
    let id = ApprovalId::new(a.id.clone().unwrap_or_default());
    let blocked: Vec<IdentityRef> = a
        .blocked_approvers
        .iter()
        .cloned()
        .map(|b| identity_ref(Some(b)))
        .collect();
    let caller_may_decide = a.permissions.as_ref().and_then(may_update);
    let record = |status: ApprovalStatus,
                  approver: IdentityRef,
                  by: Option<IdentityRef>,
                  comment: String,
                  modified: Option<DateTime<Utc>>| ApprovalRecord {
        id: id.clone(),
        status,
        approval_type: ApprovalType::PreDeploy,
        approver,
        approved_by: by,
        comments: comment,
        release_id,
        release_name: release_name.into(),
        stage_ref: stage.clone(),
        stage_name: stage_name.into(),
        attempt,
        created_on: time(a.created_on.as_deref()),
        modified_on: modified.or(time(a.last_modified_on.as_deref())),
        blocked_approvers: blocked.clone(),
        caller_may_decide,
    };
    let whole = ApprovalStatus::parse(a.status.as_deref().unwrap_or("undefined"));
    if a.steps.is_empty() {
        return vec![record(
            whole,
            IdentityRef::default(),
            None,
            String::new(),
            None,
        )];
    }
    a.steps
        .iter()
        .map(|s| {
            let status = ApprovalStatus::parse(s.status.as_deref().unwrap_or("undefined"));
            // A step left undecided when the approval completed is no longer pending.
            let status = match (&status, &whole) {
                (ApprovalStatus::Pending, w) if *w != ApprovalStatus::Pending => w.clone(),
                _ => status,
            };
            record(
                status,
                identity_ref(s.assigned_approver.clone()),
                some_identity(s.actual_approver.clone()),
                s.comment.clone().unwrap_or_default(),
                time(s.last_modified_on.as_deref()),
            )
        })
        .collect()
}

/// The stage names relcon maps: its stages with their YAML names.
pub type StageNames = [(Stage, String); 3];

/// An environment-only release's variables from its stage runs' `templateParameters`
/// (`environmentVersion`, `previousEnvironmentVersion`; docs/AZURE.md, "Environment-only
/// releases"): the newest run that names them. Empty for a model release.
fn environment_variables<'a>(
    stage_runs: impl Iterator<Item = &'a RunInfo>,
) -> BTreeMap<String, String> {
    let param = |r: &RunInfo, k: &str| {
        r.parameters
            .iter()
            .find(|(n, v)| n.eq_ignore_ascii_case(k) && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    };
    let newest = stage_runs
        .filter(|r| param(r, "environmentVersion").is_some())
        .max_by_key(|r| r.id);
    let mut out = BTreeMap::new();
    if let Some(r) = newest {
        if let Some(v) = param(r, "environmentVersion") {
            out.insert(release_vars::ENVIRONMENT_VERSION.to_owned(), v);
        }
        if let Some(v) = param(r, "previousEnvironmentVersion") {
            out.insert(release_vars::PREVIOUS_ENVIRONMENT_VERSION.to_owned(), v);
        }
    }
    out
}

/// Everything read for one history, assembled into releases newest first.
pub fn releases(
    names: &StageNames,
    runs: &HashMap<u32, RunInfo>,
    attempts: &[(Stage, StageAttempt)],
    pending: &[PlacedApproval],
    rules: &HashMap<Stage, StageRule>,
) -> Vec<ReleaseRecord> {
    // training run -> stage -> the newest run of that stage's pipeline.
    let mut by_training: BTreeMap<u32, BTreeMap<Stage, &RunInfo>> = BTreeMap::new();
    let mentioned = attempts
        .iter()
        .map(|(_, a)| a.run)
        .chain(pending.iter().map(|p| p.run));
    for run in mentioned.filter_map(|id| runs.get(&id)) {
        let Some((training, _)) = &run.training else {
            continue;
        };
        let slot = by_training.entry(*training).or_default();
        match slot.get(&run.stage) {
            Some(known) if known.id >= run.id => {}
            _ => {
                slot.insert(run.stage, run);
            }
        }
    }
    let mut out: Vec<ReleaseRecord> = by_training
        .into_iter()
        .map(|(training, stages)| {
            let training_name = stages
                .values()
                .find_map(|r| r.training.as_ref().map(|t| t.1.clone()))
                .unwrap_or_default();
            let first = stages.values().min_by_key(|r| (r.created, r.id)).copied();
            let environments = names
                .iter()
                .filter_map(|(stage, name)| {
                    let run = stages.get(stage)?;
                    Some(environment(
                        run,
                        *stage,
                        name,
                        training,
                        &training_name,
                        attempts,
                        pending,
                        rules.get(stage),
                    ))
                })
                .collect();
            ReleaseRecord {
                id: training,
                name: training_name.as_str().into(),
                status: ReleaseStatus::Active,
                description: String::new(),
                created_on: first.and_then(|r| r.created),
                created_by: first.map(|r| r.requested_for.clone()).unwrap_or_default(),
                build_id: Some(training.to_string()),
                variables: environment_variables(stages.values().copied()),
                environments,
            }
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.id));
    out
}

/// The stage name a rollback run's approval is placed on (the seed's `rollback-pipeline`
/// names its stage `ExecuteRollback`; relcon never re-runs it, so only the run matters).
pub const ROLLBACK_STAGE: &str = "ExecuteRollback";

/// A rollback run waiting for its approval, as a release of its own: one Production stage
/// whose approval is the rollback environment's check, requested by whoever queued the run.
/// It carries no training run, so no models: it changes what its parameters name.
pub fn rollback_release(
    run: &RunInfo,
    approval: &pw::Approval,
    rule: Option<&StageRule>,
) -> ReleaseRecord {
    let id = stage_ref(run.id, ROLLBACK_STAGE);
    let stage_name = Stage::Prod.release_environment().unwrap_or(ROLLBACK_STAGE);
    let records = approval_records(approval, run.id, &run.name, &id, stage_name, 1);
    let required = approval
        .min_required_approvers
        .filter(|n| *n > 0)
        .or(rule.map(|r| r.required))
        .unwrap_or(0);
    let variables = rollback_variables(&run.parameters);
    ReleaseRecord {
        id: run.id,
        name: run.name.as_str().into(),
        status: ReleaseStatus::Active,
        description: rollback_description(&variables),
        created_on: run.created,
        created_by: run.requested_for.clone(),
        build_id: None,
        variables,
        environments: vec![ReleaseEnvironment {
            id,
            definition_environment_id: 0,
            name: stage_name.into(),
            status: EnvironmentStatus::InProgress,
            required_approvers: required,
            requester_blocked: rule.and_then(|r| r.requester_blocked),
            requested_for: Some(run.requested_for.clone()),
            pre_deploy_approvals: records,
            deploy_steps: vec![DeployAttempt {
                attempt: 1,
                status: DeploymentStatus::NotDeployed,
                requested_by: None,
                requested_for: Some(run.requested_for.clone()),
                queued_on: time(approval.created_on.as_deref()).or(run.created),
                last_modified_on: None,
            }],
            modified_on: None,
        }],
    }
}

#[allow(clippy::too_many_arguments)]
fn environment(
    run: &RunInfo,
    stage: Stage,
    stage_name: &str,
    release_id: u32,
    release_name: &str,
    attempts: &[(Stage, StageAttempt)],
    pending: &[PlacedApproval],
    rule: Option<&StageRule>,
) -> ReleaseEnvironment {
    let id = stage_ref(run.id, stage_name);
    let mut steps: Vec<DeployAttempt> = attempts
        .iter()
        .filter(|(s, a)| *s == stage && a.run == run.id)
        .map(|(_, a)| DeployAttempt {
            attempt: a.attempt,
            status: a.status(),
            requested_by: None,
            requested_for: Some(run.requested_for.clone()),
            queued_on: a.queued,
            last_modified_on: a.finished.or(a.queued),
        })
        .collect();
    steps.sort_by_key(|d| d.attempt);
    steps.dedup_by_key(|d| d.attempt);
    let deployed = steps.last().map_or(0, |d| d.attempt);
    let waiting: Vec<&PlacedApproval> = pending
        .iter()
        .filter(|p| p.run == run.id && p.stage == stage)
        .collect();
    let mut approvals = Vec::new();
    if !waiting.is_empty() {
        // The attempt that waits for its checks has no deployment record yet.
        let attempt = deployed + 1;
        steps.push(DeployAttempt {
            attempt,
            status: DeploymentStatus::NotDeployed,
            requested_by: None,
            requested_for: Some(run.requested_for.clone()),
            queued_on: waiting
                .iter()
                .filter_map(|p| time(p.approval.created_on.as_deref()))
                .min(),
            last_modified_on: None,
        });
        for p in &waiting {
            approvals.extend(approval_records(
                &p.approval,
                release_id,
                release_name,
                &id,
                stage.release_environment().unwrap_or(stage_name),
                attempt,
            ));
        }
    }
    let required = waiting
        .iter()
        .filter_map(|p| p.approval.min_required_approvers)
        .find(|n| *n > 0)
        .or(rule.map(|r| r.required))
        .unwrap_or(0);
    let last = steps.last();
    let status = match last.map(|d| &d.status) {
        _ if !waiting.is_empty() => EnvironmentStatus::InProgress,
        Some(DeploymentStatus::InProgress) => EnvironmentStatus::InProgress,
        Some(DeploymentStatus::Succeeded) => EnvironmentStatus::Succeeded,
        Some(DeploymentStatus::PartiallySucceeded) => EnvironmentStatus::PartiallySucceeded,
        Some(_) => EnvironmentStatus::Rejected,
        // No deployment and nothing waiting: stopped at its checks (rejected, timed out), or
        // not there yet.
        None if run.state.eq_ignore_ascii_case("completed") => match run.result.as_deref() {
            Some(r) if r.eq_ignore_ascii_case("canceled") => EnvironmentStatus::Canceled,
            _ => EnvironmentStatus::Rejected,
        },
        None => EnvironmentStatus::NotStarted,
    };
    ReleaseEnvironment {
        id,
        definition_environment_id: 0,
        name: stage.release_environment().unwrap_or(stage_name).into(),
        status,
        required_approvers: required,
        requester_blocked: rule.and_then(|r| r.requester_blocked),
        requested_for: Some(run.requested_for.clone()),
        pre_deploy_approvals: approvals,
        modified_on: last.and_then(|d| d.last_modified_on.or(d.queued_on)),
        deploy_steps: steps,
    }
}
