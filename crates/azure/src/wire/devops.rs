//! Azure DevOps (api-version 7.1) shapes: releases with environments, approvals, deploy steps,
//! artifacts and variables; release deployments; connection data; Git items.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::null_default;

/// `IdentityRef` (and its `GraphSubjectBase` part).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IdentityRef {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub unique_name: Option<String>,
    pub descriptor: Option<String>,
    pub is_container: Option<bool>,
}

/// `ReleaseShallowReference`, `ReleaseEnvironmentShallowReference`,
/// `ReleaseDefinitionShallowReference`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ShallowRef {
    pub id: Option<u32>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReleaseApproval {
    pub id: Option<u32>,
    pub revision: Option<u32>,
    pub status: Option<String>,
    pub approval_type: Option<String>,
    pub approver: Option<IdentityRef>,
    pub approved_by: Option<IdentityRef>,
    pub comments: Option<String>,
    pub is_automated: Option<bool>,
    pub attempt: Option<u32>,
    pub rank: Option<u32>,
    pub created_on: Option<String>,
    pub modified_on: Option<String>,
    pub release: Option<ShallowRef>,
    pub release_definition: Option<ShallowRef>,
    pub release_environment: Option<ShallowRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Release {
    pub id: Option<u32>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub created_on: Option<String>,
    pub modified_on: Option<String>,
    pub created_by: Option<IdentityRef>,
    pub created_for: Option<IdentityRef>,
    pub release_definition: Option<ShallowRef>,
    #[serde(deserialize_with = "null_default")]
    pub artifacts: Vec<Artifact>,
    #[serde(deserialize_with = "null_default")]
    pub variables: BTreeMap<String, VariableValue>,
    #[serde(deserialize_with = "null_default")]
    pub environments: Vec<ReleaseEnvironment>,
}

/// `ConfigurationVariableValue`; a secret's `value` is `null`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariableValue {
    pub value: Option<String>,
    pub is_secret: Option<bool>,
    pub allow_override: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Artifact {
    pub alias: Option<String>,
    #[serde(rename = "type")]
    pub artifact_type: Option<String>,
    pub source_id: Option<String>,
    pub is_primary: Option<bool>,
    /// `definition`, `version`, `branch`, `project`...: each `{id, name}`.
    #[serde(deserialize_with = "null_default")]
    pub definition_reference: BTreeMap<String, Option<SourceRef>>,
}

/// `ArtifactSourceReference`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SourceRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReleaseEnvironment {
    pub id: Option<u32>,
    pub release_id: Option<u32>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub rank: Option<u32>,
    pub definition_environment_id: Option<u32>,
    pub created_on: Option<String>,
    pub modified_on: Option<String>,
    pub pre_approvals_snapshot: Option<ApprovalsSnapshot>,
    #[serde(deserialize_with = "null_default")]
    pub pre_deploy_approvals: Vec<ReleaseApproval>,
    #[serde(deserialize_with = "null_default")]
    pub post_deploy_approvals: Vec<ReleaseApproval>,
    #[serde(deserialize_with = "null_default")]
    pub deploy_steps: Vec<DeploymentAttempt>,
    pub release: Option<ShallowRef>,
    pub release_created_by: Option<IdentityRef>,
    pub trigger_reason: Option<String>,
}

/// `ReleaseDefinitionApprovals` as snapshotted into a release environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApprovalsSnapshot {
    pub approval_options: Option<ApprovalOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApprovalOptions {
    pub required_approver_count: Option<u32>,
    pub release_creator_can_be_approver: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentAttempt {
    pub id: Option<u32>,
    pub deployment_id: Option<u32>,
    pub attempt: Option<u32>,
    pub status: Option<String>,
    pub operation_status: Option<String>,
    pub reason: Option<String>,
    pub has_started: Option<bool>,
    pub requested_by: Option<IdentityRef>,
    pub requested_for: Option<IdentityRef>,
    pub queued_on: Option<String>,
    pub last_modified_on: Option<String>,
}

/// One entry of `_apis/release/deployments` (a later refresh reads the newest page).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReleaseDeployment {
    pub id: Option<u32>,
    pub release: Option<ShallowRef>,
    pub release_definition: Option<ShallowRef>,
    pub release_environment: Option<ShallowRef>,
    pub definition_environment_id: Option<u32>,
    pub attempt: Option<u32>,
    pub reason: Option<String>,
    pub deployment_status: Option<String>,
    pub operation_status: Option<String>,
    pub requested_by: Option<IdentityRef>,
    pub requested_for: Option<IdentityRef>,
    pub queued_on: Option<String>,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
    pub last_modified_on: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub pre_deploy_approvals: Vec<ReleaseApproval>,
    #[serde(deserialize_with = "null_default")]
    pub post_deploy_approvals: Vec<ReleaseApproval>,
}

/// `_apis/connectionData`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectionData {
    pub authenticated_user: Option<ConnectionIdentity>,
    pub authorized_user: Option<ConnectionIdentity>,
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectionIdentity {
    pub id: Option<String>,
    pub provider_display_name: Option<String>,
    pub custom_display_name: Option<String>,
    pub is_active: Option<bool>,
    /// `{"Account": {"$type": "System.String", "$value": "alice@contoso.com"}, ...}`.
    #[serde(deserialize_with = "null_default")]
    pub properties: BTreeMap<String, PropertyValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PropertyValue {
    #[serde(rename = "$type")]
    pub value_type: Option<String>,
    #[serde(rename = "$value")]
    pub value: Option<serde_json::Value>,
}

/// A Git item with `includeContent=true`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GitItem {
    pub object_id: Option<String>,
    pub commit_id: Option<String>,
    pub path: Option<String>,
    pub is_folder: Option<bool>,
    pub content: Option<String>,
}
