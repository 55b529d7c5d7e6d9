//! The YAML face's resources as Azure DevOps writes them: pipelines, runs, builds, timelines,
//! approvals, check configurations, environments and their deployment records.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::view::{self, Record, Run, Standing, YamlApproval};
use super::{EnvKind, Pipe, ROLLBACK_JOB, ROLLBACK_STAGE, deploy_stage};
use crate::clock::iso;
use crate::devops_json::identity;
use crate::world::{World, guid};

/// `{base}/devops/{org}/{project id}/_apis/`.
pub fn api(w: &World, base: &str) -> String {
    format!("{base}/devops/{}/{}/_apis", w.ids.org, w.ids.project_id)
}

fn web(w: &World, base: &str) -> String {
    format!("{base}/devops/{}/{}", w.ids.org, w.ids.project)
}

fn href(url: String) -> Value {
    json!({ "href": url })
}

pub fn pipeline_ref(w: &World, base: &str, p: Pipe) -> Value {
    json!({
        "url": format!("{}/pipelines/{}?revision=3", api(w, base), p.id()),
        "id": p.id(),
        "revision": 3,
        "name": p.name(),
        "folder": "\\",
    })
}

pub fn pipeline_json(w: &World, base: &str, p: Pipe) -> Value {
    let mut v = pipeline_ref(w, base, p);
    v["_links"] = json!({
        "self": href(format!("{}/pipelines/{}?revision=3", api(w, base), p.id())),
        "web": href(format!("{}/_build/definition?definitionId={}", web(w, base), p.id())),
    });
    v["configuration"] = json!({
        "type": "yaml",
        "path": format!(".azuredevops/{}.yml", p.name()),
        "repository": {"id": w.ids.repo_id, "type": "azureReposGit"},
    });
    v
}

fn state_result(s: Standing) -> (&'static str, Option<&'static str>) {
    match s {
        Standing::Succeeded => ("completed", Some("succeeded")),
        Standing::Failed => ("completed", Some("failed")),
        Standing::Canceled => ("completed", Some("canceled")),
        _ => ("inProgress", None),
    }
}

/// The training run a release run consumes, as the pipeline resource alias `training`.
fn resources(w: &World, base: &str, run: Run) -> Value {
    let commit = match run {
        Run::Training(b) => w.builds[b].commit.clone(),
        Run::Release(r, _) => w.builds[w.releases[r].build].commit.clone(),
        Run::Rollback(_) => crate::world::sha40("rollback-pipeline:main"),
    };
    let mut v = json!({
        "repositories": {"self": {
            "repository": {"id": w.ids.repo_id, "type": "azureReposGit"},
            "refName": "refs/heads/main",
            "version": commit,
        }},
        "pipelines": {},
    });
    if let Run::Release(r, _) = run {
        let b = &w.builds[w.releases[r].build];
        v["pipelines"]["training"] = json!({
            "pipeline": pipeline_ref(w, base, Pipe::Training),
            "version": b.number,
        });
    }
    v
}

fn template_parameters(w: &World, run: Run) -> Value {
    match run {
        Run::Rollback(n) => Value::Object(w.yaml.rollbacks[n].parameters.clone()),
        // An environment-only release's runs name the environment they roll out (the
        // parameters docs/AZURE.md proposes; the seed's pipelines have none yet).
        Run::Release(r, _) => match &w.releases[r].env_only {
            Some((new, previous)) => json!({
                "environmentVersion": new,
                "previousEnvironmentVersion": previous,
            }),
            None => json!({}),
        },
        _ => json!({}),
    }
}

/// Runs - Get / List / Run Pipeline. `requestedFor` is not in the documented `Run`; the
/// simulator adds it as Builds - Get has it.
pub fn run_json(w: &World, base: &str, run: Run, now: DateTime<Utc>) -> Value {
    let pipe = run.pipe();
    let id = run.id(w);
    let (standing, finished) = run.standing(w, now);
    let (state, result) = state_result(standing);
    let url = format!("{}/pipelines/{}/runs/{id}", api(w, base), pipe.id());
    let mut v = json!({
        "_links": {
            "self": href(url.clone()),
            "web": href(format!("{}/_build/results?buildId={id}", web(w, base))),
            "pipeline.web": href(format!("{}/_build/definition?definitionId={}", web(w, base), pipe.id())),
            "pipeline": href(format!("{}/pipelines/{}?revision=3", api(w, base), pipe.id())),
        },
        "pipeline": pipeline_ref(w, base, pipe),
        "state": state,
        "createdDate": iso(run.created(w)),
        "url": url,
        "resources": resources(w, base, run),
        "templateParameters": template_parameters(w, run),
        "id": id,
        "name": run.name(w),
        "requestedFor": identity(w, base, run.requested_for(w)),
    });
    if let Some(r) = result {
        v["result"] = json!(r);
    }
    if let Some(f) = finished {
        v["finishedDate"] = json!(iso(f));
    }
    v
}

/// A run's `status` and `result` as a build.
pub fn build_status(s: Standing) -> (&'static str, Option<&'static str>) {
    let status = match s {
        Standing::Checks | Standing::Queued => "notStarted",
        Standing::Running => "inProgress",
        _ => "completed",
    };
    (status, state_result(s).1)
}

/// Builds - Get / List: the run as a build.
pub fn build_json(w: &World, base: &str, run: Run, now: DateTime<Utc>) -> Value {
    let pipe = run.pipe();
    let id = run.id(w);
    let (standing, finished) = run.standing(w, now);
    let (status, _) = build_status(standing);
    let url = format!("{}/build/Builds/{id}", api(w, base));
    let requested = identity(w, base, run.requested_for(w));
    let reason = match run {
        Run::Training(_) => "individualCI",
        Run::Release(..) => "resourceTrigger",
        Run::Rollback(_) => "manual",
    };
    let res = resources(w, base, run);
    let mut v = json!({
        "_links": {
            "self": href(url.clone()),
            "web": href(format!("{}/_build/results?buildId={id}", web(w, base))),
            "timeline": href(format!("{}/build/builds/{id}/Timeline", api(w, base))),
        },
        "id": id,
        "buildNumber": run.name(w),
        "status": status,
        "queueTime": iso(run.created(w)),
        "url": url,
        "definition": {
            "id": pipe.id(),
            "name": pipe.name(),
            "path": "\\",
            "type": "build",
            "queueStatus": "enabled",
            "revision": 3,
            "url": format!("{}/build/Definitions/{}?revision=3", api(w, base), pipe.id()),
            "project": project(w),
        },
        "project": project(w),
        "uri": format!("vstfs:///Build/Build/{id}"),
        "sourceBranch": "refs/heads/main",
        "sourceVersion": res["repositories"]["self"]["version"],
        "priority": "normal",
        "reason": reason,
        "requestedFor": requested,
        "requestedBy": requested,
        "lastChangedDate": iso(finished.unwrap_or_else(|| run.created(w))),
        "orchestrationPlan": {"planId": guid(&format!("plan:{id}"))},
        "repository": {"id": w.ids.repo_id, "type": "TfsGit", "name": w.ids.repo},
        "templateParameters": template_parameters(w, run),
        "retainedByRelease": false,
        "tags": [],
    });
    if !matches!(standing, Standing::Checks | Standing::Queued) {
        v["startTime"] = json!(iso(run.created(w)));
    }
    if let Some(r) = state_result(standing).1 {
        v["result"] = json!(r);
    }
    if let Some(f) = finished {
        v["finishTime"] = json!(iso(f));
    }
    v
}

fn project(w: &World) -> Value {
    json!({"id": w.ids.project_id, "name": w.ids.project, "state": "wellFormed", "visibility": "private"})
}

pub fn timeline_id(run_id: u32, attempt: u32) -> String {
    guid(&format!("timeline:{run_id}:{attempt}"))
}

fn stage_record_id(run_id: u32, stage: &str, attempt: u32) -> String {
    guid(&format!("stage:{run_id}:{stage}:{attempt}"))
}

struct Rec {
    id: String,
    parent: Option<String>,
    kind: &'static str,
    name: String,
    identifier: Option<&'static str>,
    order: u32,
    standing: Standing,
    attempt: u32,
    start: Option<DateTime<Utc>>,
    finish: Option<DateTime<Utc>>,
    previous: Vec<Value>,
}

fn record_json(r: &Rec, now: DateTime<Utc>) -> Value {
    let (state, result) = match r.standing {
        Standing::Checks | Standing::Queued => ("pending", None),
        Standing::Running => ("inProgress", None),
        s => ("completed", view::result_of(s)),
    };
    let mut v = json!({
        "previousAttempts": r.previous,
        "id": r.id,
        "parentId": r.parent,
        "type": r.kind,
        "name": r.name,
        "state": state,
        "changeId": 1,
        "lastModified": iso(r.finish.or(r.start).unwrap_or(now)),
        "order": r.order,
        "errorCount": 0,
        "warningCount": 0,
        "attempt": r.attempt,
        "identifier": r.identifier,
    });
    if let Some(res) = result {
        v["result"] = json!(res);
    }
    if let Some(s) = r.start {
        v["startTime"] = json!(iso(s));
    }
    if let Some(f) = r.finish {
        v["finishTime"] = json!(iso(f));
    }
    v
}

/// Timeline - Get: the run's stages with their attempts; a stage waiting on its checks has a
/// `Checkpoint` record and, under it, a `Checkpoint.Approval` record whose id is the
/// approval's. `timeline`: a previous attempt's timeline id (`previousAttempts[].timelineId`)
/// gives that attempt's records; `None` or the run's own id gives the latest.
pub fn timeline_json(
    w: &World,
    base: &str,
    run: Run,
    timeline: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Value> {
    let id = run.id(w);
    let approvals: Vec<YamlApproval> = view::approvals(w)
        .into_iter()
        .filter(|a| a.run == run)
        .collect();
    let mut recs: Vec<Rec> = Vec::new();
    let created = run.created(w);
    let simple = |name: &'static str, order: u32, standing: Standing, fin| Rec {
        id: stage_record_id(id, name, 1),
        parent: None,
        kind: "Stage",
        name: name.to_owned(),
        identifier: Some(name),
        order,
        standing,
        attempt: 1,
        start: Some(created),
        finish: fin,
        previous: Vec::new(),
    };
    // (stage, attempts: (attempt, standing, start, finish, job started)), the deploy stage's order.
    let (stage, display, job, attempts, order) = match run {
        Run::Training(_) => {
            let (s, f) = run.standing(w, now);
            recs.push(simple("TrainModels", 1, s, f));
            recs.push(simple("PromoteToRegistry", 2, s, f));
            (None, "", "", Vec::new(), 0)
        }
        Run::Release(r, e) => {
            let st = deploy_stage(e);
            if e == 2 {
                recs.push(simple(
                    "VerifyRegistry",
                    1,
                    Standing::Succeeded,
                    Some(created),
                ));
            }
            let attempts: Vec<_> = w.releases[r].envs[e]
                .attempts
                .iter()
                .map(|t| {
                    (
                        t.attempt,
                        view::attempt_standing(t.phase, now),
                        t.queued_on,
                        t.completed_on,
                        t.started_on.filter(|s| *s <= now),
                    )
                })
                .collect();
            (
                Some(st.name),
                st.display,
                st.job,
                attempts,
                if e == 2 { 2 } else { 1 },
            )
        }
        Run::Rollback(n) => {
            let rb = &w.yaml.rollbacks[n];
            let (s, f) = view::rollback_standing(w, rb, now);
            let started = rb.started.filter(|s| *s <= now);
            (
                Some(ROLLBACK_STAGE),
                "Execute rollback",
                ROLLBACK_JOB,
                vec![(1, s, rb.queued, f, started)],
                1,
            )
        }
    };
    let latest = attempts.last().map_or(1, |a| a.0);
    let wanted = match timeline {
        None => latest,
        Some(t) if t.eq_ignore_ascii_case(&timeline_id(id, latest)) => latest,
        Some(t) => attempts
            .iter()
            .find(|a| t.eq_ignore_ascii_case(&timeline_id(id, a.0)))
            .map(|a| a.0)?,
    };
    if let Some(stage) = stage
        && let Some(&(attempt, standing, start, finish, job_started)) =
            attempts.iter().find(|a| a.0 == wanted)
    {
        let stage_id = stage_record_id(id, stage, attempt);
        let previous: Vec<Value> = attempts
            .iter()
            .filter(|a| a.0 < attempt)
            .map(|a| {
                json!({
                    "attempt": a.0,
                    "timelineId": timeline_id(id, a.0),
                    "recordId": stage_record_id(id, stage, a.0),
                })
            })
            .collect();
        recs.push(Rec {
            id: stage_id.clone(),
            parent: None,
            kind: "Stage",
            name: display.to_owned(),
            identifier: Some(stage),
            order,
            standing,
            attempt,
            start: Some(start),
            finish,
            previous,
        });
        if let Some(a) = approvals.iter().find(|a| a.attempt == attempt) {
            let checkpoint = guid(&format!("checkpoint:{id}:{stage}:{attempt}"));
            let decided = match a.status {
                "pending" => Standing::Running,
                "approved" => Standing::Succeeded,
                "rejected" => Standing::Failed,
                _ => Standing::Canceled,
            };
            let decided_at = (a.status != "pending").then_some(a.modified);
            for (rid, parent, kind, name) in [
                (
                    checkpoint.clone(),
                    stage_id.clone(),
                    "Checkpoint",
                    "Checkpoint".to_owned(),
                ),
                (
                    a.id.clone(),
                    checkpoint.clone(),
                    "Checkpoint.Approval",
                    format!("Approval on {}", a.env.name()),
                ),
            ] {
                recs.push(Rec {
                    id: rid,
                    parent: Some(parent),
                    kind,
                    name,
                    identifier: None,
                    order: 1,
                    standing: decided,
                    attempt,
                    start: Some(a.created),
                    finish: decided_at,
                    previous: Vec::new(),
                });
            }
        }
        if let Some(js) = job_started {
            recs.push(Rec {
                id: guid(&format!("job:{id}:{stage}:{attempt}")),
                parent: Some(stage_id),
                kind: "Job",
                name: job.to_owned(),
                identifier: None,
                order: 2,
                standing: if standing.completed() {
                    standing
                } else {
                    Standing::Running
                },
                attempt,
                start: Some(js),
                finish,
                previous: Vec::new(),
            });
        }
    }
    let tid = timeline_id(id, wanted);
    Some(json!({
        "records": recs.iter().map(|r| record_json(r, now)).collect::<Vec<_>>(),
        "lastChangedBy": guid("person:build-service"),
        "lastChangedOn": iso(now),
        "id": tid,
        "changeId": recs.len(),
        "url": format!("{}/build/builds/{id}/Timeline/{tid}", api(w, base)),
    }))
}

/// The `$expand` of an approval read: steps, permissions.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApprovalExpand {
    pub steps: bool,
    pub permissions: bool,
}

impl ApprovalExpand {
    pub fn parse(s: Option<&str>) -> ApprovalExpand {
        let has = |n: &str| {
            s.is_some_and(|s| {
                s.split(',')
                    .any(|x| x.trim().eq_ignore_ascii_case(n) || x.trim() == "all")
            })
        };
        ApprovalExpand {
            steps: has("steps"),
            permissions: has("permissions"),
        }
    }

    pub fn everything() -> ApprovalExpand {
        ApprovalExpand {
            steps: true,
            permissions: true,
        }
    }
}

/// An approver of a check: a person, or the approver group.
fn approver(w: &World, base: &str, p: usize) -> Value {
    if p == view::GROUP {
        crate::devops_json::approver_group(w, base)
    } else {
        identity(w, base, p)
    }
}

/// The caller's rights on an approval (`ApprovalPermissions`, flags written as names).
pub fn permissions(a: &YamlApproval, caller: usize) -> &'static str {
    let assigned = a.steps.iter().any(|s| {
        s.assigned == caller
            || (s.assigned == view::GROUP
                && s.status == "pending"
                && view::answers_for_group(caller))
    });
    if assigned && !a.blocked.contains(&caller) && a.status == "pending" {
        "view, update, reassign"
    } else {
        "view"
    }
}

/// An approval. `pipeline` is not in the documented `Approval`: Azure DevOps sends it
/// (microsoft/azure-devops-go-api#147), and the simulator does: `id`/`name` the pipeline,
/// `owner.id` the run, `owner.name` the run's name.
pub fn approval_json(
    w: &World,
    base: &str,
    a: &YamlApproval,
    expand: ApprovalExpand,
    caller: usize,
) -> Value {
    let pipe = a.run.pipe();
    let run_id = a.run.id(w);
    let check = a.env.approval_check().unwrap_or((1, false));
    let mut v = json!({
        "id": a.id,
        "steps": [],
        "status": a.status,
        "createdOn": iso(a.created),
        "lastModifiedOn": iso(a.modified),
        "executionOrder": "anyOrder",
        "minRequiredApprovers": a.min_required,
        "instructions": instructions(a.env, check.1),
        "blockedApprovers": a.blocked.iter().map(|&p| identity(w, base, p)).collect::<Vec<_>>(),
        "_links": {"self": href(format!("{}/pipelines/approvals/{}", api(w, base), a.id))},
        "pipeline": {
            "owner": {
                "_links": {
                    "web": href(format!("{}/_build/results?buildId={run_id}", web(w, base))),
                    "self": href(format!("{}/build/Builds/{run_id}", api(w, base))),
                },
                "id": run_id,
                "name": a.run.name(w),
            },
            "id": pipe.id().to_string(),
            "name": pipe.name(),
        },
    });
    if expand.steps {
        v["steps"] = json!(
            a.steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut step = json!({
                        "assignedApprover": approver(w, base, s.assigned),
                        "status": s.status,
                        "comment": s.comment,
                        "order": i + 1,
                        "initiatedOn": iso(a.created),
                        "history": [],
                    });
                    if let Some(at) = s.at {
                        let who = s.actual.unwrap_or(s.assigned);
                        step["actualApprover"] = identity(w, base, who);
                        step["lastModifiedBy"] = identity(w, base, who);
                        step["lastModifiedOn"] = json!(iso(at));
                    }
                    step
                })
                .collect::<Vec<_>>()
        );
    }
    if expand.permissions {
        v["permissions"] = json!(permissions(a, caller));
    }
    v
}

fn instructions(env: EnvKind, barred: bool) -> String {
    let n = env.approval_check().map_or(1, |c| c.0);
    format!(
        "Deployment to {} needs {n} approval{}{}.",
        env.name(),
        if n == 1 { "" } else { "s" },
        if barred {
            "; whoever requested the run may not approve it"
        } else {
            ""
        }
    )
}

/// A check configuration; `settings` only with `$expand=settings` (the Approval check's
/// settings as Check Configurations - Add takes them).
pub fn check_json(w: &World, base: &str, env: EnvKind, settings: bool) -> Option<Value> {
    let (min, barred) = env.approval_check()?;
    let id = env.check_id();
    let url = format!("{}/pipelines/checks/configurations/{id}", api(w, base));
    let creator = identity(w, base, crate::world::SERVICE);
    let at = iso(w.releases.first().map_or(w.clock, |r| r.created_on));
    let mut v = json!({
        "createdBy": creator,
        "createdOn": at,
        "modifiedBy": creator,
        "modifiedOn": at,
        "timeout": 43200,
        "_links": {"self": href(url.clone())},
        "id": id,
        "type": {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"},
        "url": url,
        "resource": {"type": "environment", "id": env.id().to_string(), "name": env.name()},
    });
    if settings {
        v["settings"] = json!({
            "approvers": view::approvers().into_iter().map(|p| approver(w, base, p)).collect::<Vec<_>>(),
            "executionOrder": "anyOrder",
            "minRequiredApprovers": min,
            "instructions": instructions(env, barred),
            "blockedApprovers": [],
            "requesterCannotBeApprover": barred,
        });
    }
    Some(v)
}

pub fn environment_json(w: &World, base: &str, env: EnvKind) -> Value {
    let at = iso(w.releases.first().map_or(w.clock, |r| r.created_on));
    let creator = identity(w, base, crate::world::SERVICE);
    json!({
        "id": env.id(),
        "name": env.name(),
        "description": "",
        "createdBy": creator,
        "createdOn": at,
        "lastModifiedBy": creator,
        "lastModifiedOn": at,
        "project": {"id": w.ids.project_id, "name": w.ids.project},
        "resources": [],
    })
}

pub fn record_json_of(w: &World, base: &str, r: &Record) -> Value {
    let run_id = r.run.id(w);
    let pipe = r.run.pipe();
    let mut v = json!({
        "id": r.id,
        "requestIdentifier": guid(&format!("request:{run_id}:{}:{}", r.stage, r.attempt)),
        "environmentId": r.env.id(),
        "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
        "scopeId": w.ids.project_id,
        "resourceId": 0,
        "planType": "Build",
        "planId": guid(&format!("plan:{run_id}:{}", r.attempt)),
        "stageName": r.stage,
        "jobName": r.job,
        "stageAttempt": r.attempt,
        "jobAttempt": 1,
        "definition": {
            "_links": {"web": href(format!("{}/_build/definition?definitionId={}", web(w, base), pipe.id()))},
            "id": pipe.id(),
            "name": pipe.name(),
        },
        "owner": {
            "_links": {
                "web": href(format!("{}/_build/results?buildId={run_id}", web(w, base))),
                "self": href(format!("{}/build/Builds/{run_id}", api(w, base))),
            },
            "id": run_id,
            "name": r.run.name(w),
        },
        "queueTime": iso(r.queued),
        "startTime": iso(r.started),
    });
    if let Some(f) = r.finished {
        v["finishTime"] = json!(iso(f));
    }
    if let Some(res) = r.result {
        v["result"] = json!(res);
    }
    v
}
