//! A small YAML-pipelines project answered in Microsoft's shapes (the specs and examples in
//! `tests/data/specs/devops-yaml/`), for the YAML adapter's tests before the YAML simulator
//! exists: three releases (training runs 100, 101, 102), the seed's pipelines and
//! environments, the Prod environment's Approval check (2 approvers, requester blocked), one
//! approval placed by its `pipeline` field and one only by its run's timeline.

use serde_json::{Value, json as j};

use super::{Hit, Reply, json};

pub const PROD_APPROVAL: &str = "8f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
pub const REGISTRY_APPROVAL: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
/// Not an approval of this project: Approvals - Update refuses it.
pub const UNKNOWN_APPROVAL: &str = "00000000-0000-4000-8000-000000000000";

/// The settings' `[devops]` for this world: YAML flavour, the seed's names by default.
pub fn yaml_settings_toml(base: &str) -> String {
    super::settings_toml(base, "simulator", "RELCON_UNSET_PAT")
        .replace("release_definition_id = 12\n", "flavor = \"yaml\"\n")
}

fn who(name: &str) -> Value {
    j!({
        "displayName": name,
        "id": format!("id-{name}"),
        "uniqueName": format!("{name}@contoso.com"),
        "descriptor": format!("aad.{name}")
    })
}

fn list(items: Vec<Value>) -> Value {
    j!({"count": items.len(), "value": items})
}

/// Training run names by id.
fn training_name(id: u32) -> &'static str {
    match id {
        100 => "20261120.1",
        101 => "20261124.1",
        _ => "20261126.1",
    }
}

/// `(run, pipeline, training run, requester, state, result, requestedFor on the run)`.
const RUNS: &[(u32, u32, u32, &str, &str, &str, bool)] = &[
    (200, 2, 100, "priya", "completed", "succeeded", true),
    (300, 3, 100, "priya", "completed", "succeeded", true),
    (400, 4, 100, "erin", "completed", "succeeded", false),
    (201, 2, 101, "priya", "completed", "succeeded", true),
    (301, 3, 101, "priya", "completed", "succeeded", true),
    (401, 4, 101, "dave", "inProgress", "", true),
    (202, 2, 102, "alex", "inProgress", "", true),
];

fn run_json(id: u32) -> Option<Value> {
    let &(id, pipeline, training, requester, state, result, on_run) =
        RUNS.iter().find(|r| r.0 == id)?;
    let mut run = j!({
        "id": id,
        "name": format!("{}-{id}", training_name(training)),
        "state": state,
        "createdDate": format!("2026-11-{:02}T09:00:00Z", 20 + (training - 100) * 3),
        "pipeline": {"id": pipeline, "name": pipeline_name(pipeline)},
        "resources": {
            "repositories": {"self": {"refName": "refs/heads/main"}},
            "pipelines": {
                "training": {
                    "pipeline": {"id": 1, "name": "training-pipeline"},
                    "version": training_name(training)
                }
            }
        },
        "templateParameters": {}
    });
    if !result.is_empty() {
        run["result"] = j!(result);
        run["finishedDate"] = j!("2026-11-25T10:00:00Z");
    }
    if on_run {
        run["requestedFor"] = who(requester);
    }
    Some(run)
}

fn pipeline_name(id: u32) -> &'static str {
    match id {
        1 => "training-pipeline",
        2 => "promote-single-model-pipeline",
        3 => "test-deployment-pipeline",
        4 => "prod-deployment-pipeline",
        _ => "rollback-pipeline",
    }
}

fn record(id: u32, env: u32, pipeline: u32, run: u32, stage: &str, attempt: u32) -> Value {
    j!({
        "id": id,
        "environmentId": env,
        "definition": {"id": pipeline, "name": pipeline_name(pipeline)},
        "owner": {"id": run, "name": format!("run {run}")},
        "stageName": stage,
        "jobName": "Deploy",
        "stageAttempt": attempt,
        "jobAttempt": 1,
        "planId": format!("00000000-0000-0000-0000-{run:012}"),
        "planType": "Build",
        "queueTime": format!("2026-11-2{}T09:00:00Z", run % 10),
        "startTime": format!("2026-11-2{}T09:01:00Z", run % 10),
        "finishTime": format!("2026-11-2{}T09:05:00Z", run % 10),
        "result": "succeeded"
    })
}

fn approval(id: &str, steps: Vec<Value>, min: u32, pipeline: Option<Value>) -> Value {
    let mut a = j!({
        "id": id,
        "steps": steps,
        "status": "pending",
        "createdOn": "2026-11-25T08:00:00Z",
        "lastModifiedOn": "2026-11-25T09:30:00Z",
        "executionOrder": "anyOrder",
        "minRequiredApprovers": min,
        "blockedApprovers": [],
        "instructions": "Check the diffs and the test gate",
        "permissions": "view, update",
        "_links": {"self": {"href": format!("https://dev.azure.com/contoso/p/_apis/pipelines/approvals/{id}")}}
    });
    if let Some(p) = pipeline {
        a["pipeline"] = p;
    }
    a
}

fn step(name: &str, status: &str) -> Value {
    let mut s = j!({
        "assignedApprover": who(name),
        "status": status,
        "initiatedOn": "2026-11-25T08:00:00Z",
        "order": 1,
        "history": []
    });
    if status != "pending" {
        s["actualApprover"] = who(name);
        s["comment"] = j!("diffs reviewed");
        s["lastModifiedOn"] = j!("2026-11-25T09:30:00Z");
    }
    s
}

fn pending_approvals() -> Value {
    list(vec![
        approval(
            PROD_APPROVAL,
            vec![
                step("alice", "approved"),
                step("bob", "pending"),
                step("carol", "pending"),
            ],
            2,
            Some(j!({
                "id": 4, "name": "prod-deployment-pipeline",
                "owner": {"id": 401, "name": "20261124.1-401"}
            })),
        ),
        // Without the undocumented `pipeline` field: placed by run 202's timeline.
        approval(REGISTRY_APPROVAL, vec![step("bob", "pending")], 1, None),
    ])
}

fn checks(env: u32) -> Value {
    let (min, blocked, approvers) = match env {
        12 => (2, true, vec![who("alice"), who("bob"), who("carol")]),
        _ => (1, false, vec![who("bob")]),
    };
    list(vec![
        j!({
            "id": 40 + env,
            "type": {"id": "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7", "name": "Task Check"},
            "resource": {"type": "environment", "id": env.to_string(), "name": "env"},
            "timeout": 43200
        }),
        j!({
            "id": 20 + env,
            "type": {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"},
            "resource": {"type": "environment", "id": env.to_string(), "name": "env"},
            "settings": {
                "approvers": approvers,
                "executionOrder": "anyOrder",
                "minRequiredApprovers": min,
                "instructions": "",
                "blockedApprovers": [],
                "requesterCannotBeApprover": blocked
            },
            "timeout": 43200
        }),
    ])
}

fn timeline_202() -> Value {
    j!({
        "id": "tl-202",
        "records": [
            {"id": "s1", "parentId": null, "type": "Stage", "name": "Approve promotion",
             "identifier": "ApprovePromotion", "state": "pending", "attempt": 1,
             "previousAttempts": []},
            {"id": "c1", "parentId": "s1", "type": "Checkpoint", "name": "Checkpoint",
             "state": "inProgress", "attempt": 1},
            {"id": REGISTRY_APPROVAL.to_uppercase(), "parentId": "c1",
             "type": "Checkpoint.Approval", "name": "Checkpoint.Approval",
             "state": "inProgress", "attempt": 1}
        ]
    })
}

/// A DevOps error body (`400`), as Azure DevOps writes them.
pub fn devops_error(message: &str, type_key: &str) -> Value {
    j!({
        "$id": "1", "innerException": null, "message": message,
        "typeName": format!("Microsoft.TeamFoundation.{type_key}, Microsoft.TeamFoundation"),
        "typeKey": type_key, "errorCode": 0, "eventId": 3000
    })
}

/// The fake's answer to one request (under `/devops/contoso/forecasting`).
pub fn answer(h: &Hit) -> Reply {
    let path = h.path.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/devops/contoso/forecasting/_apis/") else {
        return json(404, devops_error("not found", "NotFoundException"));
    };
    let version = h.q("api-version").unwrap_or("");
    let preview = rest.starts_with("pipelines/checks/");
    match (preview, version) {
        (true, "7.1-preview.1") | (false, "7.1") => {}
        (true, _) => {
            return json(
                400,
                devops_error(
                    "The requested REST API version of 7.1 is under preview. The -preview flag must be supplied in the api-version for such requests.",
                    "VssInvalidPreviewVersionException",
                ),
            );
        }
        _ => {
            return json(
                400,
                devops_error("bad api-version", "VssVersionNotSupportedException"),
            );
        }
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match (h.method.as_str(), parts.as_slice()) {
        ("GET", ["pipelines"]) => json(
            200,
            list((1..=5).map(|id| j!({"id": id, "name": pipeline_name(id), "folder": "\\", "revision": 1})).collect()),
        ),
        ("GET", ["distributedtask", "environments"]) => {
            let id = match h.q("name").unwrap_or("") {
                "registry-promotion" => 10,
                "test-deployment" => 11,
                "production-deployment" => 12,
                _ => return json(200, list(vec![])),
            };
            json(200, list(vec![j!({"id": id, "name": h.q("name")})]))
        }
        ("GET", ["distributedtask", "environments", env, "environmentdeploymentrecords"]) => {
            match *env {
                "10" => json(200, list(vec![record(2, 10, 2, 201, "ApprovePromotion", 1), record(1, 10, 2, 200, "ApprovePromotion", 1)])),
                "11" => json(200, list(vec![record(4, 11, 3, 301, "DeployToTest", 1), record(3, 11, 3, 300, "DeployToTest", 1)])),
                // Paged: one record a page; a record of another pipeline is not the stage's.
                "12" => match h.q("continuationToken") {
                    None => json(200, list(vec![record(9, 12, 99, 900, "Other", 1)]))
                        .header("x-ms-continuationtoken", "page-2"),
                    Some("page-2") => json(200, list(vec![record(5, 12, 4, 400, "DeployToProduction", 1)])),
                    Some(_) => json(400, devops_error("bad token", "ArgumentException")),
                },
                _ => json(404, devops_error("no environment", "EnvironmentNotFoundException")),
            }
        }
        ("GET", ["pipelines", "checks", "configurations"]) => {
            let env: u32 = h.q("resourceId").and_then(|s| s.parse().ok()).unwrap_or(0);
            json(200, checks(env))
        }
        ("GET", ["pipelines", "approvals", id]) if *id == PROD_APPROVAL => json(
            200,
            approval(
                PROD_APPROVAL,
                vec![step("alice", "approved"), step("bob", "approved"), step("carol", "skipped")],
                2,
                None,
            ),
        ),
        ("GET", ["pipelines", "approvals"]) if h.q("state") == Some("pending") => {
            json(200, pending_approvals())
        }
        ("PATCH", ["pipelines", "approvals"]) => {
            let body: Value = serde_json::from_str(&h.body).unwrap_or(Value::Null);
            let item = &body[0];
            if item["approvalId"] != PROD_APPROVAL {
                return json(
                    400,
                    devops_error("The approval is not pending or does not exist.", "InvalidRequestException"),
                );
            }
            let mut done = approval(
                PROD_APPROVAL,
                vec![step("alice", "approved"), step("bob", "approved"), step("carol", "pending")],
                2,
                None,
            );
            done["status"] = j!("approved");
            json(200, list(vec![done]))
        }
        ("GET", ["pipelines", pipeline, "runs"]) => {
            let p: u32 = pipeline.parse().unwrap_or(0);
            let runs: Vec<Value> = RUNS
                .iter()
                .filter(|r| r.1 == p)
                .filter_map(|r| {
                    let mut v = run_json(r.0)?;
                    v.as_object_mut()?.remove("resources");
                    Some(v)
                })
                .collect();
            json(200, list(runs))
        }
        ("POST", ["pipelines", "5", "runs"]) => json(
            200,
            j!({"id": 500, "name": "20261126.2-rollback", "state": "inProgress",
                "pipeline": {"id": 5, "name": "rollback-pipeline"},
                "templateParameters": serde_json::from_str::<Value>(&h.body).map(|b| b["templateParameters"].clone()).unwrap_or(Value::Null)}),
        ),
        ("GET", ["pipelines", _, "runs", run]) => match run.parse().ok().and_then(run_json) {
            Some(r) => json(200, r),
            None => json(404, devops_error("no run", "PipelineRunNotFoundException")),
        },
        ("GET", ["build", "builds"]) => {
            let number = h.q("buildNumber").unwrap_or("");
            let found: Vec<Value> = [100u32, 101, 102]
                .into_iter()
                .filter(|id| h.q("definitions") == Some("1") && training_name(*id) == number)
                .map(|id| j!({"id": id, "buildNumber": training_name(id), "status": "completed", "result": "succeeded", "definition": {"id": 1, "name": "training-pipeline"}}))
                .collect();
            json(200, list(found))
        }
        ("GET", ["build", "builds", "202", "timeline"]) => json(200, timeline_202()),
        ("GET", ["build", "builds", "401", "timeline"]) => json(200, j!({"id": "tl-401", "records": []})),
        ("GET", ["build", "builds", build]) => {
            let id: u32 = build.parse().unwrap_or(0);
            match RUNS.iter().find(|r| r.0 == id) {
                Some(r) => json(
                    200,
                    j!({"id": id, "buildNumber": format!("run-{id}"), "status": "completed",
                        "result": "succeeded", "requestedFor": who(r.3), "requestedBy": who("svc-build"),
                        "definition": {"id": r.1, "name": pipeline_name(r.1)}}),
                ),
                None => json(404, devops_error("no build", "BuildNotFoundException")),
            }
        }
        ("PATCH", ["build", "builds", _, "stages", _]) => reply_empty(),
        _ => json(404, devops_error("not in this fake", "NotFoundException")),
    }
}

fn reply_empty() -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: String::new(),
    }
}
