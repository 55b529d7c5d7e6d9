//! The one place where wire types become `domain::platform` records. Enums are parsed
//! case-insensitively, dates leniently, and missing fields get neutral values rather than
//! failing a whole list.

mod cells;

pub use cells::table;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::wire::{devops as dw, ml as mw};
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, ApprovalType, AssetLocation, DeployAttempt, Deployment,
    DeploymentStatus, Endpoint, EnvironmentAsset, EnvironmentStatus, EnvironmentVersionRecord,
    Identity, IdentityRef, ModelAsset, ModelContainer, ModelVersionRecord, ProvisioningState,
    ReleaseEnvironment, ReleaseRecord, ReleaseStatus,
};
use crate::domain::{ModelVersion, Stage};

/// A timestamp as ARM or DevOps writes it: RFC 3339 with any number of fraction digits, or
/// without an offset (read as UTC). DevOps' `0001-01-01T00:00:00` ("not set") is `None`.
pub fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    let s = s?.trim();
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

fn provisioning(s: Option<&str>) -> ProvisioningState {
    match s {
        Some(s) if !s.trim().is_empty() => ProvisioningState::parse(s.trim()),
        _ => ProvisioningState::Other("Unknown".into()),
    }
}

pub fn endpoint(stage: Stage, w: mw::BatchEndpoint) -> Endpoint {
    let props = w.properties.unwrap_or_default();
    let plant_name = w
        .tags
        .get("plant_name")
        .filter(|s| !s.is_empty())
        .cloned()
        .or(props.description.filter(|s| !s.is_empty()));
    Endpoint {
        stage,
        name: w.name.unwrap_or_default(),
        plant_name,
        default_deployment: props
            .defaults
            .and_then(|d| d.deployment_name)
            .filter(|s| !s.is_empty()),
        provisioning: provisioning(props.provisioning_state.as_deref()),
    }
}

pub fn deployment(stage: Stage, endpoint: &str, w: mw::BatchDeployment) -> Deployment {
    let props = w.properties.unwrap_or_default();
    Deployment {
        stage,
        endpoint: endpoint.to_owned(),
        name: w.name.unwrap_or_default(),
        description: props.description.unwrap_or_default(),
        model: props
            .model
            .and_then(|m| m.asset_id)
            .and_then(|id| ModelAsset::parse(&id)),
        environment: props
            .environment_id
            .and_then(|id| EnvironmentAsset::parse(&id)),
        provisioning: provisioning(props.provisioning_state.as_deref()),
        modified_at: w
            .system_data
            .and_then(|s| time(s.last_modified_at.as_deref())),
        tags: w.tags,
    }
}

pub fn model_container(w: mw::ModelContainer) -> ModelContainer {
    ModelContainer {
        name: w.name.unwrap_or_default(),
        latest_version: w
            .properties
            .and_then(|p| p.latest_version)
            .and_then(|v| v.trim().parse::<ModelVersion>().ok()),
    }
}

/// `None` for a version whose name is not a number: the platform numbers model versions, and
/// one odd hand-registered version must not hide the others.
pub fn model_version(
    location: AssetLocation,
    model: &str,
    w: mw::ModelVersion,
) -> Option<ModelVersionRecord> {
    let version: ModelVersion = w.name.as_deref()?.trim().parse().ok()?;
    let props = w.properties.unwrap_or_default();
    Some(ModelVersionRecord {
        location,
        name: model.to_owned(),
        version,
        tags: props.tags,
        created_at: w.system_data.and_then(|s| time(s.created_at.as_deref())),
        description: props.description.filter(|s| !s.is_empty()),
    })
}

pub fn environment_version(
    location: AssetLocation,
    name: &str,
    w: mw::EnvironmentVersion,
) -> EnvironmentVersionRecord {
    let props = w.properties.unwrap_or_default();
    EnvironmentVersionRecord {
        location,
        name: name.to_owned(),
        version: w.name.unwrap_or_default(),
        created_at: w.system_data.and_then(|s| time(s.created_at.as_deref())),
        description: props.description.filter(|s| !s.is_empty()),
    }
}

pub fn identity_ref(w: Option<dw::IdentityRef>) -> IdentityRef {
    let w = w.unwrap_or_default();
    IdentityRef {
        id: w.id.unwrap_or_default(),
        display_name: w.display_name.unwrap_or_default(),
        unique_name: w.unique_name.unwrap_or_default(),
    }
}

pub fn some_identity(w: Option<dw::IdentityRef>) -> Option<IdentityRef> {
    let r = identity_ref(w);
    (!r.id.is_empty() || !r.display_name.is_empty() || !r.unique_name.is_empty()).then_some(r)
}

/// The caller from `connectionData`: `authenticatedUser.id`, `providerDisplayName`, and the
/// sign-in name from `properties.Account.$value`.
pub fn identity(w: dw::ConnectionData) -> Identity {
    let user = w
        .authenticated_user
        .or(w.authorized_user)
        .unwrap_or_default();
    let account = user
        .properties
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Account"))
        .and_then(|(_, v)| v.value.as_ref())
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    IdentityRef {
        id: user.id.unwrap_or_default(),
        display_name: user
            .custom_display_name
            .filter(|s| !s.is_empty())
            .or(user.provider_display_name)
            .unwrap_or_default(),
        unique_name: account,
    }
}

/// Where an approval sits when the record itself does not say (approvals nested in a release).
#[derive(Debug, Clone, Default)]
pub struct ApprovalContext {
    pub release_id: u32,
    pub release_name: String,
    pub environment_id: u32,
    pub environment_name: String,
}

pub fn approval(w: dw::ReleaseApproval, ctx: &ApprovalContext) -> ApprovalRecord {
    let release = w.release.unwrap_or_default();
    let env = w.release_environment.unwrap_or_default();
    ApprovalRecord {
        id: w.id.unwrap_or_default().into(),
        status: ApprovalStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        approval_type: ApprovalType::parse(w.approval_type.as_deref().unwrap_or("undefined")),
        approver: identity_ref(w.approver),
        approved_by: some_identity(w.approved_by),
        comments: w.comments.unwrap_or_default(),
        release_id: release.id.unwrap_or(ctx.release_id),
        release_name: release
            .name
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ctx.release_name.clone()),
        stage_ref: env.id.unwrap_or(ctx.environment_id).into(),
        stage_name: env
            .name
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ctx.environment_name.clone()),
        attempt: w.attempt.unwrap_or(1),
        created_on: time(w.created_on.as_deref()),
        modified_on: time(w.modified_on.as_deref()),
        blocked_approvers: Vec::new(),
        caller_may_decide: None,
    }
}

fn deploy_attempt(w: dw::DeploymentAttempt) -> DeployAttempt {
    DeployAttempt {
        attempt: w.attempt.unwrap_or_default(),
        status: DeploymentStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        requested_by: some_identity(w.requested_by),
        requested_for: some_identity(w.requested_for),
        queued_on: time(w.queued_on.as_deref()),
        last_modified_on: time(w.last_modified_on.as_deref()),
    }
}

/// A release environment; `release` names the release when the environment does not.
pub fn release_environment(
    w: dw::ReleaseEnvironment,
    release: Option<(u32, &str)>,
) -> ReleaseEnvironment {
    let id = w.id.unwrap_or_default();
    let name = w.name.unwrap_or_default();
    let shallow = w.release.unwrap_or_default();
    let ctx = ApprovalContext {
        release_id: shallow
            .id
            .or(w.release_id)
            .or(release.map(|r| r.0))
            .unwrap_or_default(),
        release_name: shallow
            .name
            .or(release.map(|r| r.1.to_owned()))
            .unwrap_or_default(),
        environment_id: id,
        environment_name: name.clone(),
    };
    let options = w.pre_approvals_snapshot.and_then(|s| s.approval_options);
    ReleaseEnvironment {
        id: id.into(),
        definition_environment_id: w.definition_environment_id.unwrap_or_default(),
        status: EnvironmentStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        required_approvers: options
            .as_ref()
            .and_then(|o| o.required_approver_count)
            .unwrap_or_default(),
        requester_blocked: options
            .and_then(|o| o.release_creator_can_be_approver)
            .map(|can| !can),
        requested_for: None,
        pre_deploy_approvals: w
            .pre_deploy_approvals
            .into_iter()
            .map(|a| approval(a, &ctx))
            .collect(),
        deploy_steps: w.deploy_steps.into_iter().map(deploy_attempt).collect(),
        modified_on: time(w.modified_on.as_deref()),
        name,
    }
}

/// The build of the primary artifact (else the first): `definitionReference.version.id`.
fn build_id(artifacts: &[dw::Artifact]) -> Option<String> {
    let version = |a: &dw::Artifact| {
        a.definition_reference
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("version"))
            .and_then(|(_, v)| v.as_ref())
            .and_then(|v| v.id.clone())
            .filter(|s| !s.is_empty())
    };
    artifacts
        .iter()
        .find(|a| a.is_primary == Some(true))
        .or(artifacts.first())
        .and_then(version)
}

pub fn release(w: dw::Release) -> ReleaseRecord {
    let id = w.id.unwrap_or_default();
    let name = w.name.unwrap_or_default();
    let environments = w
        .environments
        .into_iter()
        .map(|e| release_environment(e, Some((id, &name))))
        .collect();
    ReleaseRecord {
        id,
        status: ReleaseStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        description: w.description.unwrap_or_default(),
        created_on: time(w.created_on.as_deref()),
        created_by: identity_ref(w.created_by),
        build_id: build_id(&w.artifacts),
        variables: w
            .variables
            .into_iter()
            .map(|(k, v)| (k, v.value.unwrap_or_default()))
            .collect(),
        environments,
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_form_devops_and_arm_write() {
        let t = |s: &str| time(Some(s)).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2020-01-01T12:34:56.999Z").as_deref(),
            Some("2020-01-01T12:34:56.999+00:00")
        );
        // Seven fraction digits (.NET ticks).
        assert!(t("2020-11-19T08:14:49.5793622Z").is_some());
        // No offset: UTC.
        assert_eq!(
            t("2017-08-29T16:51:32").as_deref(),
            Some("2017-08-29T16:51:32+00:00")
        );
        assert_eq!(t("0001-01-01T00:00:00"), None);
        assert_eq!(t("yesterday"), None);
        assert_eq!(time(None), None);
    }

    #[test]
    fn build_id_prefers_the_primary_artifact() {
        let art = |primary: bool, build: &str| dw::Artifact {
            is_primary: Some(primary),
            definition_reference: [(
                "version".to_owned(),
                Some(dw::SourceRef {
                    id: Some(build.to_owned()),
                    name: None,
                }),
            )]
            .into(),
            ..Default::default()
        };
        assert_eq!(
            build_id(&[art(false, "1"), art(true, "2")]).as_deref(),
            Some("2")
        );
        assert_eq!(
            build_id(&[art(false, "1"), art(false, "2")]).as_deref(),
            Some("1")
        );
        assert_eq!(build_id(&[]), None);
    }

    #[test]
    fn non_numeric_model_versions_are_skipped_not_fatal() {
        let v = |name: &str| mw::ModelVersion {
            name: Some(name.into()),
            ..Default::default()
        };
        assert!(model_version(AssetLocation::Registry, "m", v("v2")).is_none());
        let r = model_version(AssetLocation::Registry, "m", v("12")).unwrap();
        assert_eq!((r.name.as_str(), r.version), ("m", ModelVersion(12)));
    }

    #[test]
    fn endpoint_plant_name_from_tag_then_description() {
        let mut w = mw::BatchEndpoint {
            name: Some("batch-endpoint-plant001".into()),
            properties: Some(mw::BatchEndpointProperties {
                description: Some("North plant".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            endpoint(Stage::Test, w.clone()).plant_name.as_deref(),
            Some("North plant")
        );
        w.tags.insert("plant_name".into(), "Nordwerk".into());
        let e = endpoint(Stage::Test, w);
        assert_eq!(e.plant_name.as_deref(), Some("Nordwerk"));
        assert_eq!(e.provisioning, ProvisioningState::Other("Unknown".into()));
    }
}
