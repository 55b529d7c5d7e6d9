//! Azure DevOps resources as the 7.1 Release API returns them: identities, approvals, release
//! environments with their deploy steps and approval snapshots, releases, deployments.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::clock::iso;
use super::world::{Approval, ApprovalStatus, Attempt, ENV_NAMES, Phase, ReleaseStatus, World};

/// Which parts of a release a list expands (`$expand=environments,artifacts,...`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Expand {
    pub environments: bool,
    pub artifacts: bool,
    pub variables: bool,
}

impl Expand {
    /// A cache key.
    pub fn bits(self) -> u8 {
        u8::from(self.environments)
            | (u8::from(self.artifacts) << 1)
            | (u8::from(self.variables) << 2)
    }

    pub fn all() -> Expand {
        Expand {
            environments: true,
            artifacts: true,
            variables: true,
        }
    }

    pub fn parse(s: Option<&str>) -> Expand {
        let mut e = Expand::default();
        for part in s
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_ascii_lowercase())
        {
            match part.as_str() {
                "environments" | "approvals" | "manualinterventions" => e.environments = true,
                "artifacts" => e.artifacts = true,
                "variables" => e.variables = true,
                _ => {}
            }
        }
        e
    }
}

fn vsrm(w: &World, base: &str) -> String {
    format!("{base}/vsrm/{}/{}", w.ids.org, w.ids.project_id)
}

fn web(w: &World, base: &str) -> String {
    format!("{base}/devops/{}/{}", w.ids.org, w.ids.project_id)
}

fn descriptor(id: &str) -> String {
    format!(
        "aad.{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(id)
    )
}

pub fn identity(w: &World, base: &str, p: usize) -> Value {
    let person = w.person(p);
    identity_of(w, base, &person.id, &person.display, &person.unique, false)
}

/// The group every approval is assigned to.
pub fn approver_group(w: &World, base: &str) -> Value {
    let id = super::world::guid(&format!("group:{}", w.ids.approver_group));
    let unique = format!(
        "vstfs:///Classification/TeamProject/{}\\ML Release Approvers",
        w.ids.project_id
    );
    identity_of(w, base, &id, w.ids.approver_group, &unique, true)
}

fn identity_of(w: &World, base: &str, id: &str, display: &str, unique: &str, group: bool) -> Value {
    let d = descriptor(id);
    let mut v = json!({
        "displayName": display,
        "url": format!("{base}/vssps/{}/_apis/Identities/{id}", w.ids.org),
        "_links": {"avatar": {"href": format!("{base}/devops/{}/_apis/GraphProfile/MemberAvatars/{d}", w.ids.org)}},
        "id": id,
        "uniqueName": unique,
        "imageUrl": format!("{base}/devops/{}/_api/_common/identityImage?id={id}", w.ids.org),
        "descriptor": d,
    });
    if group {
        v["isContainer"] = json!(true);
    }
    v
}

pub fn connection_data(w: &World, base: &str, p: usize) -> Value {
    let person = w.person(p);
    let user = json!({
        "id": person.id,
        "descriptor": descriptor(&person.id),
        "subjectDescriptor": descriptor(&person.id),
        "providerDisplayName": person.display,
        "isActive": true,
        "properties": {"Account": {"$type": "System.String", "$value": person.unique}},
        "resourceVersion": 2,
        "metaTypeId": 0,
    });
    json!({
        "authenticatedUser": user,
        "authorizedUser": user,
        "instanceId": w.ids.collection_id,
        "deploymentId": super::world::guid("deployment:contoso"),
        "deploymentType": "hosted",
        "locationServiceData": {
            "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
            "defaultAccessMappingMoniker": "PublicAccessMapping",
            "lastChangeId": 1,
            "lastChangeId64": 1,
            "accessMappings": [{"displayName": "Public Access Mapping", "moniker": "PublicAccessMapping", "accessPoint": format!("{base}/devops/{}/", w.ids.org)}],
        },
    })
}

fn release_ref(w: &World, base: &str, r: usize) -> Value {
    let rel = &w.releases[r];
    json!({
        "id": rel.id,
        "name": rel.name,
        "url": format!("{}/_apis/Release/releases/{}", vsrm(w, base), rel.id),
        "_links": {
            "self": {"href": format!("{}/_apis/Release/releases/{}", vsrm(w, base), rel.id)},
            "web": {"href": format!("{}/_release?releaseId={}&_a=release-summary", web(w, base), rel.id)},
        },
    })
}

pub fn definition_ref(w: &World, base: &str) -> Value {
    let id = w.ids.definition_id;
    json!({
        "id": id,
        "name": w.ids.definition_name,
        "path": "\\",
        "projectReference": null,
        "url": format!("{}/_apis/Release/definitions/{id}", vsrm(w, base)),
        "_links": {
            "self": {"href": format!("{}/_apis/Release/definitions/{id}", vsrm(w, base))},
            "web": {"href": format!("{}/_release?definitionId={id}", web(w, base))},
        },
    })
}

pub fn approval_json(w: &World, base: &str, a: &Approval) -> Value {
    let rel = &w.releases[a.release];
    let env = &rel.envs[a.env];
    let mut v = json!({
        "id": a.id,
        "revision": a.revision,
        "approvalType": "preDeploy",
        "createdOn": iso(a.created_on),
        "modifiedOn": iso(a.modified_on),
        "status": a.status.as_str(),
        "comments": a.comments,
        "isAutomated": a.automated,
        "isNotificationOn": !a.automated,
        "trialNumber": 1,
        "attempt": a.attempt,
        "rank": 1,
        "history": [],
        "release": release_ref(w, base, a.release),
        "releaseDefinition": definition_ref(w, base),
        "releaseEnvironment": {"id": env.id, "name": env.name, "_links": {}},
        "url": format!("{}/_apis/Release/approvals/{}", vsrm(w, base), a.id),
    });
    if !a.automated {
        v["approver"] = approver_group(w, base);
    }
    if let Some(by) = a.approved_by {
        v["approvedBy"] = identity(w, base, by);
        v["history"] = json!([{
            "approver": approver_group(w, base),
            "changedBy": identity(w, base, by),
            "comments": a.comments,
            "createdOn": iso(a.created_on),
            "modifiedOn": iso(a.modified_on),
            "revision": a.revision,
        }]);
    }
    v
}

/// `(deploymentStatus, operationStatus)` of an attempt at `now`.
pub fn attempt_status(a: &Attempt, now: DateTime<Utc>) -> (&'static str, &'static str) {
    match a.phase {
        Phase::AwaitingApproval => ("notDeployed", "Pending"),
        Phase::Deploying { start_at, .. } if now < start_at => ("inProgress", "Queued"),
        Phase::Deploying { .. } => ("inProgress", "PhaseInProgress"),
        Phase::Succeeded => ("succeeded", "PhaseSucceeded"),
        Phase::Rejected => ("notDeployed", "Rejected"),
        Phase::Canceled => ("notDeployed", "Canceled"),
    }
}

const TASKS: [[&str; 3]; 3] = [
    [
        "Download artifact - _forecast-training - registered_models",
        "Azure CLI: promote models to registry",
        "Publish promotion summary",
    ],
    [
        "Download artifact - _forecast-training - registered_models",
        "Azure CLI: update Test batch deployments",
        "Python: run test validation",
    ],
    [
        "Download artifact - _forecast-training - registered_models",
        "Azure CLI: update Production batch deployments",
        "Python: smoke-test batch endpoints",
    ],
];

fn phases(e: usize, a: &Attempt, now: DateTime<Utc>) -> Value {
    let (start, done) = match a.phase {
        Phase::Deploying { start_at, done_at } => (start_at, done_at),
        Phase::Succeeded => match (a.started_on, a.completed_on) {
            (Some(s), Some(d)) => (s, d),
            _ => return json!([]),
        },
        _ => return json!([]),
    };
    if now < start {
        return json!([]);
    }
    let span = (done - start).num_milliseconds().max(1) as f64;
    let progress = ((now - start).num_milliseconds() as f64 / span).clamp(0.0, 1.0);
    let names = [
        "Initialize job",
        TASKS[e][0],
        TASKS[e][1],
        TASKS[e][2],
        "Finalize Job",
    ];
    let tasks: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (lo, hi) = (i as f64 / 5.0, (i + 1) as f64 / 5.0);
            let status = if progress >= hi || a.phase == Phase::Succeeded {
                "succeeded"
            } else if progress >= lo {
                "inProgress"
            } else {
                "pending"
            };
            json!({"id": i + 1, "name": n, "rank": i + 1, "status": status, "agentName": "Hosted Agent", "issues": []})
        })
        .collect();
    let done_now = a.phase == Phase::Succeeded;
    json!([{
        "phaseId": "1",
        "name": "Agent job",
        "rank": 1,
        "phaseType": "agentBasedDeployment",
        "status": if done_now { "succeeded" } else { "inProgress" },
        "runPlanId": super::world::guid(&format!("plan:{}", a.deployment_id)),
        "startedOn": iso(start),
        "deploymentJobs": [{"job": {"id": 1, "name": "Agent job", "status": if done_now { "succeeded" } else { "inProgress" }, "agentName": "Hosted Agent", "issues": []}, "tasks": tasks}],
        "manualInterventions": [],
        "errorLog": null,
    }])
}

fn attempt_json(w: &World, base: &str, e: usize, a: &Attempt, now: DateTime<Utc>) -> Value {
    let (status, op) = attempt_status(a, now);
    json!({
        "id": a.deployment_id,
        "deploymentId": a.deployment_id,
        "attempt": a.attempt,
        "reason": a.reason,
        "status": status,
        "operationStatus": op,
        "releaseDeployPhases": phases(e, a, now),
        "requestedBy": identity(w, base, a.requested_by),
        "requestedFor": identity(w, base, a.requested_by),
        "queuedOn": iso(a.queued_on),
        "lastModifiedBy": identity(w, base, a.modified_by),
        "lastModifiedOn": iso(a.modified_on),
        "hasStarted": a.started_on.is_some_and(|s| s <= now),
        "tasks": [],
        "runPlanId": super::world::guid(&format!("plan:{}", a.deployment_id)),
        "issues": [],
    })
}

fn approvals_snapshot(w: &World, base: &str, e: usize, required: u32) -> Value {
    if required == 0 {
        return json!({"approvals": [{"rank": 1, "isAutomated": true, "isNotificationOn": false, "id": 0}]});
    }
    json!({
        "approvals": [{"rank": 1, "isAutomated": false, "isNotificationOn": true, "approver": approver_group(w, base), "id": 10 + e}],
        "approvalOptions": {
            "requiredApproverCount": required,
            "releaseCreatorCanBeApprover": w.release_creator_can_be_approver,
            "autoTriggeredAndPreviousEnvironmentApprovedCanBeSkipped": false,
            "enforceIdentityRevalidation": false,
            "timeoutInMinutes": 43200,
            "executionOrder": "beforeGates",
        },
    })
}

pub fn environment_json(w: &World, base: &str, r: usize, e: usize, now: DateTime<Utc>) -> Value {
    let rel = &w.releases[r];
    let env = &rel.envs[e];
    let approvals: Vec<Value> = env
        .approvals
        .iter()
        .map(|&a| approval_json(w, base, &w.approvals[a]))
        .collect();
    let condition = if e == 0 {
        json!([{"result": true, "name": "ReleaseStarted", "conditionType": "event", "value": ""}])
    } else {
        let prev_ok = rel.envs[e - 1]
            .attempts
            .iter()
            .any(|a| a.phase == Phase::Succeeded);
        json!([{"result": prev_ok, "name": ENV_NAMES[e - 1], "conditionType": "environmentState", "value": "4"}])
    };
    let mut v = json!({
        "id": env.id,
        "releaseId": rel.id,
        "name": env.name,
        "status": w.env_status(r, e, now),
        "variables": {},
        "variableGroups": [],
        "preDeployApprovals": approvals,
        "postDeployApprovals": [],
        "preApprovalsSnapshot": approvals_snapshot(w, base, e, env.required),
        "postApprovalsSnapshot": {"approvals": [{"rank": 1, "isAutomated": true, "isNotificationOn": false, "id": 0}]},
        "deploySteps": env.attempts.iter().map(|a| attempt_json(w, base, e, a, now)).collect::<Vec<_>>(),
        "rank": e + 1,
        "definitionEnvironmentId": env.def_id,
        "environmentOptions": {
            "emailNotificationType": "OnlyOnFailure",
            "emailRecipients": "release.environment.owner;release.creator",
            "skipArtifactsDownload": false,
            "timeoutInMinutes": 0,
            "enableAccessToken": false,
            "publishDeploymentStatus": true,
            "badgeEnabled": false,
            "autoLinkWorkItems": false,
            "pullRequestDeploymentEnabled": false,
        },
        "demands": [],
        "conditions": condition,
        "createdOn": iso(env.created_on),
        "modifiedOn": iso(env.modified_on),
        "workflowTasks": [],
        "deployPhasesSnapshot": [{
            "deploymentInput": {"parallelExecution": {"parallelExecutionType": "none"}, "skipArtifactsDownload": false, "queueId": 9, "demands": [], "enableAccessToken": false, "timeoutInMinutes": 0, "jobCancelTimeoutInMinutes": 1, "condition": "succeeded()", "overrideInputs": {}},
            "rank": 1,
            "phaseType": "agentBasedDeployment",
            "name": "Agent job",
            "refName": null,
            "workflowTasks": TASKS[e].iter().map(|t| json!({"name": t, "enabled": true, "alwaysRun": false, "continueOnError": false, "timeoutInMinutes": 0, "definitionType": "task"})).collect::<Vec<_>>(),
        }],
        "owner": identity(w, base, rel.created_by),
        "schedules": [],
        "release": release_ref(w, base, r),
        "releaseDefinition": definition_ref(w, base),
        "releaseCreatedBy": identity(w, base, rel.created_by),
        "triggerReason": env.trigger_reason,
        "processParameters": {},
        "preDeploymentGatesSnapshot": {"id": 0, "gatesOptions": null, "gates": []},
        "postDeploymentGatesSnapshot": {"id": 0, "gatesOptions": null, "gates": []},
    });
    if let Some(a) = env
        .attempts
        .iter()
        .rev()
        .find(|a| a.phase == Phase::Succeeded)
        && let (Some(s), Some(d)) = (a.started_on, a.completed_on)
    {
        v["timeToDeploy"] = json!(((d - s).num_seconds() as f64 / 60.0 * 100.0).round() / 100.0);
    }
    v
}

fn artifacts(w: &World, base: &str, r: usize) -> Value {
    let rel = &w.releases[r];
    let b = &w.builds[rel.build];
    let requester = w.person(b.requested_by);
    let (pid, bdef) = (&w.ids.project_id, w.ids.build_definition_id);
    let permalink = format!(
        "{base}/devops/{}/_permalink/_build/index?collectionId={}&projectId={pid}",
        w.ids.org, w.ids.collection_id
    );
    json!([{
        "sourceId": format!("{pid}:{bdef}"),
        "type": "Build",
        "alias": "_forecast-training",
        "definitionReference": {
            "artifactSourceDefinitionUrl": {"id": format!("{permalink}&definitionId={bdef}"), "name": ""},
            "artifactSourceVersionUrl": {"id": format!("{permalink}&buildId={}", b.id), "name": ""},
            "buildUri": {"id": format!("vstfs:///Build/Build/{}", b.id), "name": ""},
            "branch": {"id": "refs/heads/main", "name": "refs/heads/main"},
            "definition": {"id": bdef.to_string(), "name": w.ids.build_definition_name},
            "project": {"id": pid, "name": w.ids.project},
            "repository": {"id": w.ids.repo_id, "name": w.ids.repo},
            "repository.provider": {"id": "TfsGit", "name": ""},
            "requestedFor": {"id": requester.id, "name": requester.display},
            "requestedForId": {"id": requester.id, "name": ""},
            "sourceVersion": {"id": b.commit, "name": b.commit},
            "pullRequestId": {"id": b.pr.to_string(), "name": ""},
            "version": {"id": b.id.to_string(), "name": b.number},
        },
        "isPrimary": true,
        "isRetained": false,
    }])
}

fn variables(w: &World, r: usize) -> Value {
    let rel = &w.releases[r];
    match &rel.env_only {
        Some((new, prev)) => json!({
            "ENVIRONMENT_VERSION": {"value": new},
            "PREVIOUS_ENVIRONMENT_VERSION": {"value": prev},
        }),
        None => json!({
            "BUILD_ID": {"value": w.builds[rel.build].id.to_string()},
            "MODEL_COUNT": {"value": w.release_models(r).len().to_string()},
        }),
    }
}

pub fn release_json(w: &World, base: &str, r: usize, expand: Expand, now: DateTime<Utc>) -> Value {
    let rel = &w.releases[r];
    let mut v = json!({
        "id": rel.id,
        "name": rel.name,
        "status": match rel.status { ReleaseStatus::Active => "active", ReleaseStatus::Abandoned => "abandoned" },
        "createdOn": iso(rel.created_on),
        "modifiedOn": iso(rel.modified_on),
        "modifiedBy": identity(w, base, rel.modified_by),
        "createdBy": identity(w, base, rel.created_by),
        "createdFor": identity(w, base, rel.created_by),
        "variableGroups": [],
        "releaseDefinition": definition_ref(w, base),
        "releaseDefinitionRevision": 14,
        "description": rel.description,
        "reason": "continuousIntegration",
        "releaseNameFormat": "Release-$(rev:r)",
        "keepForever": false,
        "definitionSnapshotRevision": 1,
        "logsContainerUrl": format!("{}/_apis/Release/releases/{}/logs", vsrm(w, base), rel.id),
        "url": format!("{}/_apis/Release/releases/{}", vsrm(w, base), rel.id),
        "_links": {
            "self": {"href": format!("{}/_apis/Release/releases/{}", vsrm(w, base), rel.id)},
            "web": {"href": format!("{}/_release?releaseId={}&_a=release-summary", web(w, base), rel.id)},
        },
        "tags": if rel.env_only.is_some() { json!(["environment-only"]) } else { json!([]) },
        "triggeringArtifactAlias": "_forecast-training",
        "projectReference": {"id": w.ids.project_id, "name": w.ids.project},
        "properties": {},
    });
    if expand.environments {
        v["environments"] = json!(
            (0..3)
                .map(|e| environment_json(w, base, r, e, now))
                .collect::<Vec<_>>()
        );
    }
    if expand.artifacts {
        v["artifacts"] = artifacts(w, base, r);
    }
    if expand.variables {
        v["variables"] = variables(w, r);
    }
    v
}

/// One deployment attempt as `_apis/release/deployments` lists it.
pub fn deployment_json(
    w: &World,
    base: &str,
    r: usize,
    e: usize,
    i: usize,
    now: DateTime<Utc>,
) -> Value {
    let rel = &w.releases[r];
    let env = &rel.envs[e];
    let a = &env.attempts[i];
    let (status, op) = attempt_status(a, now);
    let approvals: Vec<Value> = env
        .approvals
        .iter()
        .map(|&x| &w.approvals[x])
        .filter(|x| x.attempt == a.attempt)
        .map(|x| approval_json(w, base, x))
        .collect();
    let mut release = release_ref(w, base, r);
    release["artifacts"] = json!([]);
    release["webAccessUri"] = json!(format!(
        "{}/_release?releaseId={}&_a=release-summary",
        web(w, base),
        rel.id
    ));
    json!({
        "id": a.deployment_id,
        "release": release,
        "releaseDefinition": definition_ref(w, base),
        "releaseEnvironment": {"id": env.id, "name": env.name, "_links": {}},
        "projectReference": {"id": w.ids.project_id, "name": w.ids.project},
        "definitionEnvironmentId": env.def_id,
        "attempt": a.attempt,
        "reason": a.reason,
        "deploymentStatus": status,
        "operationStatus": op,
        "requestedBy": identity(w, base, a.requested_by),
        "requestedFor": identity(w, base, a.requested_by),
        "queuedOn": iso(a.queued_on),
        "startedOn": a.started_on.filter(|s| *s <= now).map(iso),
        "completedOn": a.completed_on.map(iso),
        "lastModifiedOn": iso(a.modified_on),
        "lastModifiedBy": identity(w, base, a.modified_by),
        "conditions": [],
        "preDeployApprovals": approvals,
        "postDeployApprovals": [],
        "_links": {},
    })
}

/// Whether an approval matches a `statusFilter` value (`all` matches everything).
pub fn status_matches(a: &Approval, filter: &str) -> bool {
    filter.eq_ignore_ascii_case("all")
        || filter.split(',').any(|f| {
            f.trim().eq_ignore_ascii_case(a.status.as_str())
                || (a.status == ApprovalStatus::Canceled
                    && f.trim().eq_ignore_ascii_case("cancelled"))
        })
}
