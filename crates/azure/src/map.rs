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
    Identity, IdentityBook, IdentityRef, ModelAsset, ModelContainer, ModelVersionRecord,
    ProvisioningState, ReleaseEnvironment, ReleaseRecord, ReleaseStatus, SharedName, release_vars,
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
        tags: props.tags.into(),
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
    identity_in(w, &mut IdentityBook::default())
}

/// An identity as `book` already holds it (one allocation per person per read).
fn identity_in(w: Option<dw::IdentityRef>, book: &mut IdentityBook) -> IdentityRef {
    let w = w.unwrap_or_default();
    book.identity(
        w.id.as_deref().unwrap_or_default(),
        w.display_name.as_deref().unwrap_or_default(),
        w.unique_name.as_deref().unwrap_or_default(),
    )
}

fn some_identity_in(w: Option<dw::IdentityRef>, book: &mut IdentityBook) -> Option<IdentityRef> {
    let r = identity_in(w, book);
    (!r.id.is_empty() || !r.display_name.is_empty() || !r.unique_name.is_empty()).then_some(r)
}

/// A list mapped into one of exactly its length. `collect` on `into_iter().map(..)` reuses the
/// wire list's buffer when it can, sized for the wire records (several times the mapped
/// ones): at 20,000 circuits that kept 0.28 GB of release environments' approval and attempt
/// lists alive (heaptrack, docs/PERFORMANCE.md).
pub fn mapped<T, U>(list: Vec<T>, f: impl FnMut(T) -> U) -> Vec<U> {
    let mut out = Vec::with_capacity(list.len());
    out.extend(list.into_iter().map(f));
    out
}

pub fn some_identity(w: Option<dw::IdentityRef>) -> Option<IdentityRef> {
    some_identity_in(w, &mut IdentityBook::default())
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
        id: user.id.unwrap_or_default().into(),
        display_name: user
            .custom_display_name
            .filter(|s| !s.is_empty())
            .or(user.provider_display_name)
            .unwrap_or_default()
            .into(),
        unique_name: account.into(),
    }
}

/// Where an approval sits when the record itself does not say (approvals nested in a release).
#[derive(Debug, Clone, Default)]
pub struct ApprovalContext {
    pub release_id: u32,
    pub release_name: SharedName,
    pub environment_id: u32,
    pub environment_name: SharedName,
}

pub fn approval(w: dw::ReleaseApproval, ctx: &ApprovalContext) -> ApprovalRecord {
    approval_in(w, ctx, &mut IdentityBook::default())
}

/// An approval whose identities and names `book` shares with the rest of its read: nested in
/// a release, its release and stage names are its release's and its stage's.
fn approval_in(
    w: dw::ReleaseApproval,
    ctx: &ApprovalContext,
    book: &mut IdentityBook,
) -> ApprovalRecord {
    let release = w.release.unwrap_or_default();
    let env = w.release_environment.unwrap_or_default();
    let mut shared = |own: Option<String>, known: &SharedName| match own {
        Some(s) if !s.is_empty() => book.name(&s),
        _ => known.clone(),
    };
    let release_name = shared(release.name, &ctx.release_name);
    let stage_name = shared(env.name, &ctx.environment_name);
    ApprovalRecord {
        id: w.id.unwrap_or_default().into(),
        status: ApprovalStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        approval_type: ApprovalType::parse(w.approval_type.as_deref().unwrap_or("undefined")),
        approver: identity_in(w.approver, book),
        approved_by: some_identity_in(w.approved_by, book),
        comments: w.comments.unwrap_or_default(),
        release_id: release.id.unwrap_or(ctx.release_id),
        release_name,
        stage_ref: env.id.unwrap_or(ctx.environment_id).into(),
        stage_name,
        attempt: w.attempt.unwrap_or(1),
        created_on: time(w.created_on.as_deref()),
        modified_on: time(w.modified_on.as_deref()),
        blocked_approvers: Vec::new(),
        caller_may_decide: None,
    }
}

fn deploy_attempt(w: dw::DeploymentAttempt, book: &mut IdentityBook) -> DeployAttempt {
    DeployAttempt {
        attempt: w.attempt.unwrap_or_default(),
        status: DeploymentStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        requested_by: some_identity_in(w.requested_by, book),
        requested_for: some_identity_in(w.requested_for, book),
        queued_on: time(w.queued_on.as_deref()),
        last_modified_on: time(w.last_modified_on.as_deref()),
    }
}

/// A release environment; `release` names the release when the environment does not.
pub fn release_environment(
    w: dw::ReleaseEnvironment,
    release: Option<(u32, &str)>,
) -> ReleaseEnvironment {
    let release = release.map(|(id, name)| (id, SharedName::from(name)));
    environment_in(
        w,
        release.as_ref().map(|(id, n)| (*id, n)),
        &mut IdentityBook::default(),
    )
}

fn environment_in(
    w: dw::ReleaseEnvironment,
    release: Option<(u32, &SharedName)>,
    book: &mut IdentityBook,
) -> ReleaseEnvironment {
    let id = w.id.unwrap_or_default();
    let name = book.name(w.name.as_deref().unwrap_or_default());
    let shallow = w.release.unwrap_or_default();
    let ctx = ApprovalContext {
        release_id: shallow
            .id
            .or(w.release_id)
            .or(release.map(|r| r.0))
            .unwrap_or_default(),
        release_name: match (shallow.name, release) {
            (Some(own), _) => book.name(&own),
            (None, Some((_, known))) => known.clone(),
            (None, None) => SharedName::default(),
        },
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
        pre_deploy_approvals: mapped(w.pre_deploy_approvals, |a| approval_in(a, &ctx, book)),
        deploy_steps: mapped(w.deploy_steps, |d| deploy_attempt(d, book)),
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
    release_in(w, &mut IdentityBook::default())
}

/// A release of a list: `book` is the list's, so that its people and names are held once.
pub fn release_in(w: dw::Release, book: &mut IdentityBook) -> ReleaseRecord {
    let id = w.id.unwrap_or_default();
    let name = book.name(w.name.as_deref().unwrap_or_default());
    let environments = mapped(w.environments, |e| {
        environment_in(e, Some((id, &name)), book)
    });
    ReleaseRecord {
        id,
        status: ReleaseStatus::parse(w.status.as_deref().unwrap_or("undefined")),
        description: w.description.unwrap_or_default(),
        created_on: time(w.created_on.as_deref()),
        created_by: identity_in(w.created_by, book),
        build_id: build_id(&w.artifacts),
        variables: w
            .variables
            .into_iter()
            .filter(|(k, _)| release_vars::READ.contains(&k.as_str()))
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

    /// Two releases of one list, each with a Test and a Production stage approved and
    /// deployed by the same two people.
    fn two_releases() -> Vec<dw::Release> {
        let body = |id: u32| {
            let who = |login: &str| {
                serde_json::json!({"id": format!("id-{login}"), "displayName": login.to_uppercase(),
                    "uniqueName": format!("{login}@contoso.com"), "descriptor": "aad.x"})
            };
            let env = |env_id: u32, name: &str| {
                serde_json::json!({
                    "id": env_id, "name": name, "status": "succeeded",
                    "preDeployApprovals": [{"id": env_id, "status": "approved",
                        "approver": who("alice"), "approvedBy": who("alice"),
                        "release": {"id": id, "name": format!("Release-{id}")},
                        "releaseEnvironment": {"id": env_id, "name": name}}],
                    "deploySteps": [{"attempt": 1, "status": "succeeded",
                        "requestedBy": who("bob"), "requestedFor": who("bob")}],
                })
            };
            serde_json::json!({
                "id": id, "name": format!("Release-{id}"), "createdBy": who("bob"),
                "variables": {"ENVIRONMENT_VERSION": {"value": "12"}, "BUILD_ID": {"value": "7"},
                    "PREVIOUS_ENVIRONMENT_VERSION": {"value": "11"}},
                "environments": [env(id * 10 + 1, "Test"), env(id * 10 + 2, "Production")],
            })
        };
        serde_json::from_value(serde_json::json!([body(1), body(2)])).unwrap()
    }

    #[test]
    fn a_release_list_holds_each_person_and_name_once() {
        let mut book = IdentityBook::default();
        let releases: Vec<ReleaseRecord> = two_releases()
            .into_iter()
            .map(|r| release_in(r, &mut book))
            .collect();
        let approvals: Vec<&ApprovalRecord> = releases
            .iter()
            .flat_map(|r| &r.environments)
            .flat_map(|e| &e.pre_deploy_approvals)
            .collect();
        assert_eq!(approvals.len(), 4);
        let alice = &approvals[0].approver;
        assert_eq!(alice.unique_name, "alice@contoso.com");
        for a in &approvals {
            // The same person: one allocation for every record that names her.
            assert!(a.approver.unique_name.shares_text_with(&alice.unique_name));
            assert!(a.approver.id.shares_text_with(&alice.id));
            let by = a.approved_by.as_ref().unwrap();
            assert!(by.display_name.shares_text_with(&alice.display_name));
        }
        let bob = &releases[0].created_by;
        for r in &releases {
            assert!(r.created_by.unique_name.shares_text_with(&bob.unique_name));
            for e in &r.environments {
                let step = &e.deploy_steps[0];
                let by = step.requested_by.as_ref().unwrap();
                assert!(by.unique_name.shares_text_with(&bob.unique_name));
                assert!(
                    step.requested_for
                        .as_ref()
                        .unwrap()
                        .id
                        .shares_text_with(&bob.id)
                );
                // An approval's release and stage names are its release's and its stage's.
                for a in &e.pre_deploy_approvals {
                    assert!(a.release_name.shares_text_with(&r.name));
                    assert!(a.stage_name.shares_text_with(&e.name));
                }
            }
        }
        // Stage names are shared across releases too.
        assert!(
            releases[0].environments[1]
                .name
                .shares_text_with(&releases[1].environments[1].name)
        );
        // Two different people are two allocations.
        assert!(!alice.unique_name.shares_text_with(&bob.unique_name));
    }

    #[test]
    fn each_release_mapped_alone_reads_the_same() {
        let mut book = IdentityBook::default();
        for r in two_releases() {
            assert_eq!(release(r.clone()), release_in(r, &mut book));
        }
    }

    #[test]
    fn mapped_lists_are_their_length_not_the_wire_lists_buffer() {
        let r = release(two_releases().remove(0));
        assert_eq!(r.environments.capacity(), r.environments.len());
        for e in &r.environments {
            assert_eq!(e.pre_deploy_approvals.capacity(), 1);
            assert_eq!(e.deploy_steps.capacity(), 1);
        }
        // The variables relcon reads are kept, no others.
        assert_eq!(
            r.variables.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                release_vars::ENVIRONMENT_VERSION,
                release_vars::PREVIOUS_ENVIRONMENT_VERSION
            ]
        );
        assert_eq!(r.environment_only(), Some("12"));
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
