//! Azure Pipelines (YAML flavour) shapes, api-version 7.1 (check configurations
//! 7.1-preview.1), modelled on Microsoft's specs and examples vendored in
//! `tests/data/specs/devops-yaml/`: approvals with their steps (`pipelinesapproval-7.1.json`),
//! check configurations with Approval settings (`pipelinesChecks-7.1.json`), pipelines and runs
//! (`pipelines-7.1.json`), builds and timelines (`build-7.1.json`), environments and their
//! deployment records (`taskAgent-7.1.json`). Lenient like every wire type: optional fields,
//! enums kept as strings.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::devops::IdentityRef;
use super::null_default;

/// `Approval` (Approvals - Query / Get / Update).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Approval {
    pub id: Option<String>,
    /// `pending`, `approved`, `rejected`, `canceled`, `timedOut`, `skipped`, `failed`...
    pub status: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub steps: Vec<ApprovalStep>,
    pub min_required_approvers: Option<u32>,
    #[serde(deserialize_with = "null_default")]
    pub blocked_approvers: Vec<IdentityRef>,
    pub execution_order: Option<String>,
    pub instructions: Option<String>,
    pub created_on: Option<String>,
    pub last_modified_on: Option<String>,
    /// With `$expand=permissions`: the caller's rights, a flags enum (`view`, `update`...),
    /// sent as a number or as comma-separated names.
    pub permissions: Option<serde_json::Value>,
    /// Not in the spec (observed; microsoft/azure-devops-go-api#147): the pipeline and, as
    /// its `owner`, the run this approval belongs to. When absent the run's timeline places it.
    pub pipeline: Option<ApprovalPipeline>,
}

/// `ApprovalStep`: one approver's part of an approval.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApprovalStep {
    pub assigned_approver: Option<IdentityRef>,
    pub actual_approver: Option<IdentityRef>,
    pub status: Option<String>,
    pub comment: Option<String>,
    pub initiated_on: Option<String>,
    pub last_modified_on: Option<String>,
    pub order: Option<u32>,
    pub permissions: Option<serde_json::Value>,
}

/// The undocumented `pipeline` of an approval: `{id, name, owner: {id, name}}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApprovalPipeline {
    #[serde(deserialize_with = "id_text")]
    pub id: Option<String>,
    pub name: Option<String>,
    pub owner: Option<OwnerRef>,
}

/// `TaskOrchestrationOwner` (deployment records) and the approval's pipeline owner: a run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerRef {
    #[serde(deserialize_with = "id_number")]
    pub id: Option<u32>,
    pub name: Option<String>,
}

/// `CheckConfiguration` (with `$expand=settings`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckConfiguration {
    pub id: Option<u64>,
    #[serde(rename = "type")]
    pub check_type: Option<CheckType>,
    pub resource: Option<CheckResource>,
    pub is_disabled: Option<bool>,
    /// The check's settings; for an Approval check, [`ApprovalSettings`].
    pub settings: Option<serde_json::Value>,
    pub timeout: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckType {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckResource {
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// An Approval check's settings (`ApprovalConfigSettings` and the example's fields).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApprovalSettings {
    #[serde(deserialize_with = "null_default")]
    pub approvers: Vec<IdentityRef>,
    /// "Defaults to all" (0 or absent: every approver).
    pub min_required_approvers: Option<u32>,
    pub requester_cannot_be_approver: Option<bool>,
    #[serde(deserialize_with = "null_default")]
    pub blocked_approvers: Vec<IdentityRef>,
    pub execution_order: Option<String>,
    pub instructions: Option<String>,
}

/// `Pipeline` (Pipelines - List / Get).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pipeline {
    pub id: Option<u32>,
    pub name: Option<String>,
    pub folder: Option<String>,
    pub revision: Option<u32>,
}

/// `Run` (Runs - Get / Run Pipeline).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Run {
    pub id: Option<u32>,
    pub name: Option<String>,
    /// `unknown`, `inProgress`, `canceling`, `completed`.
    pub state: Option<String>,
    /// `unknown`, `succeeded`, `failed`, `canceled`.
    pub result: Option<String>,
    pub created_date: Option<String>,
    pub finished_date: Option<String>,
    pub pipeline: Option<Pipeline>,
    pub resources: Option<RunResources>,
    #[serde(deserialize_with = "null_default")]
    pub template_parameters: BTreeMap<String, serde_json::Value>,
    /// Not in the `Run` schema (it is on `Build`); read when a service sends it.
    pub requested_for: Option<IdentityRef>,
}

/// `RunResources`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunResources {
    /// By alias: the pipeline runs this run consumes.
    #[serde(deserialize_with = "null_default")]
    pub pipelines: BTreeMap<String, PipelineResource>,
}

/// `PipelineResource`: the consumed pipeline and `version`, the consumed run's name
/// (its `buildNumber`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PipelineResource {
    pub pipeline: Option<Pipeline>,
    pub version: Option<String>,
}

/// `Build` (Builds - List / Get): the run as the build API shows it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Build {
    pub id: Option<u32>,
    pub build_number: Option<String>,
    /// `inProgress`, `completed`, `cancelling`, `postponed`, `notStarted`, `none`.
    pub status: Option<String>,
    pub result: Option<String>,
    pub queue_time: Option<String>,
    pub start_time: Option<String>,
    pub finish_time: Option<String>,
    pub requested_for: Option<IdentityRef>,
    pub requested_by: Option<IdentityRef>,
    pub definition: Option<Pipeline>,
    pub reason: Option<String>,
}

/// `Timeline` (Timeline - Get).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Timeline {
    pub id: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub records: Vec<TimelineRecord>,
}

/// `TimelineRecord`: a stage, phase, job, checkpoint or task. `type` is free text; the
/// conventions relcon relies on are in docs/AZURE.md (`Stage`, `Checkpoint`,
/// `Checkpoint.Approval`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimelineRecord {
    pub id: Option<String>,
    pub parent_id: Option<String>,
    #[serde(rename = "type")]
    pub record_type: Option<String>,
    pub name: Option<String>,
    /// The YAML name of a stage.
    pub identifier: Option<String>,
    /// `pending`, `inProgress`, `completed`.
    pub state: Option<String>,
    /// `succeeded`, `succeededWithIssues`, `failed`, `canceled`, `skipped`, `abandoned`.
    pub result: Option<String>,
    pub attempt: Option<u32>,
    #[serde(deserialize_with = "null_default")]
    pub previous_attempts: Vec<TimelineAttempt>,
    pub start_time: Option<String>,
    pub finish_time: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimelineAttempt {
    pub attempt: Option<u32>,
    pub timeline_id: Option<String>,
    pub record_id: Option<String>,
}

/// `EnvironmentInstance` (Environments - List / Get).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Environment {
    pub id: Option<u32>,
    pub name: Option<String>,
}

/// `EnvironmentDeploymentExecutionRecord`: one stage's deployment job on an environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentRecord {
    pub id: Option<u64>,
    pub environment_id: Option<u32>,
    /// The pipeline.
    pub definition: Option<OwnerRef>,
    /// The run.
    pub owner: Option<OwnerRef>,
    pub stage_name: Option<String>,
    pub job_name: Option<String>,
    pub stage_attempt: Option<u32>,
    pub job_attempt: Option<u32>,
    pub plan_id: Option<String>,
    pub queue_time: Option<String>,
    pub start_time: Option<String>,
    pub finish_time: Option<String>,
    /// `succeeded`, `succeededWithIssues`, `failed`, `canceled`, `skipped`, `abandoned`.
    pub result: Option<String>,
}

/// An id DevOps may send as a number or a string.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A numeric id DevOps may send as a number or a string of digits.
fn id_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    })
}
