//! The YAML face over the demo world, request by request (no sockets): routes and versions,
//! paging, approvals and their refusals, the Prod stage re-run and the rollback pipeline, each
//! checked against the world state the classic face shows.

use axum::body::Bytes;
use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::domain::Stage;
use crate::http::{Family, Req, parse_query, percent_decode};
use crate::scenario::tests::demo_world;
use crate::world::World;

const P: &str = "contoso/forecasting/_apis";

struct Answer {
    status: u16,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn call(
    w: &mut World,
    now: DateTime<Utc>,
    who: &str,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Answer {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    w.advance(now);
    let caller = w.person_by_name(who);
    let req = Req {
        family: Family::DevOps,
        method,
        path: format!("/devops/{path}"),
        segs: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect(),
        query: parse_query(query),
        body: body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())),
        caller,
        now,
        base: "http://127.0.0.1:9".into(),
        page_size: None,
        speed: 1.0,
        model_deployment: None,
    };
    let r = crate::dispatch(w, &req);
    Answer {
        status: r.status.as_u16(),
        body: serde_json::from_str(&r.body).unwrap_or(Value::Null),
        headers: r.headers,
    }
}

fn get(w: &mut World, now: DateTime<Utc>, url: &str) -> Answer {
    call(w, now, "erin", Method::GET, url, None)
}

fn yaml_world() -> (World, DateTime<Utc>) {
    let mut w = demo_world();
    w.yaml.enabled = true;
    let now = w.clock;
    (w, now)
}

fn pipeline_id(w: &mut World, now: DateTime<Utc>, name: &str) -> u64 {
    let a = get(w, now, &format!("{P}/pipelines?api-version=7.1"));
    assert_eq!(a.status, 200);
    a.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing: {}", a.body))["id"]
        .as_u64()
        .unwrap()
}

fn env_id(w: &mut World, now: DateTime<Utc>, name: &str) -> u64 {
    let a = get(
        w,
        now,
        &format!("{P}/distributedtask/environments?name={name}&api-version=7.1"),
    );
    assert_eq!(a.body["count"], 1, "{}", a.body);
    a.body["value"][0]["id"].as_u64().unwrap()
}

/// The pending approvals with their steps, as Approvals - Query answers them.
fn pending(w: &mut World, now: DateTime<Utc>) -> Vec<Value> {
    let a = get(
        w,
        now,
        &format!("{P}/pipelines/approvals?state=pending&$expand=steps,permissions&api-version=7.1"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["value"].as_array().unwrap().clone()
}

fn approval(w: &mut World, now: DateTime<Utc>, id: &str) -> Value {
    let a = get(
        w,
        now,
        &format!("{P}/pipelines/approvals/{id}?$expand=steps&api-version=7.1"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn decide(w: &mut World, now: DateTime<Utc>, who: &str, items: Value) -> Answer {
    call(
        w,
        now,
        who,
        Method::PATCH,
        &format!("{P}/pipelines/approvals?api-version=7.1"),
        Some(items),
    )
}

/// The run's requester's sign-in name (`requestedFor` on Builds - Get).
fn requester(w: &mut World, now: DateTime<Utc>, run: u64) -> String {
    let b = get(w, now, &format!("{P}/build/builds/{run}?api-version=7.1"));
    assert_eq!(b.status, 200, "{}", b.body);
    let unique = b.body["requestedFor"]["uniqueName"].as_str().unwrap();
    unique.trim_end_matches("@contoso.com").to_owned()
}

/// Approvers who may answer: assigned, not blocked, not `not`.
fn others(a: &Value, not: &[&str]) -> Vec<String> {
    let blocked: Vec<&str> = a["blockedApprovers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["uniqueName"].as_str())
        .collect();
    a["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "pending")
        .filter_map(|s| s["assignedApprover"]["uniqueName"].as_str())
        .filter(|u| !blocked.contains(u))
        .map(|u| u.trim_end_matches("@contoso.com").to_owned())
        .filter(|u| !not.contains(&u.as_str()))
        .collect()
}

fn records(w: &mut World, now: DateTime<Utc>, env: u64, top: usize) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = format!(
            "{P}/distributedtask/environments/{env}/environmentdeploymentrecords?top={top}&api-version=7.1{}",
            token
                .as_ref()
                .map_or(String::new(), |t| format!("&continuationToken={t}"))
        );
        let a = get(w, now, &url);
        assert_eq!(a.status, 200, "{}", a.body);
        let page = a.body["value"].as_array().unwrap();
        assert_eq!(a.body["count"].as_u64().unwrap() as usize, page.len());
        assert!(
            page.len() <= top.min(super::RECORD_PAGE),
            "page of {}",
            page.len()
        );
        out.extend(page.iter().cloned());
        pages += 1;
        assert!(pages < 1000, "the continuation never ends");
        match a.header("x-ms-continuationtoken") {
            Some(t) => token = Some(t.to_owned()),
            None => return (out, pages),
        }
    }
}

/// The records of a run's latest timeline (Timeline - Get without a timeline id).
fn timeline_records(w: &mut World, now: DateTime<Utc>, run: u64) -> Vec<Value> {
    let t = get(
        w,
        now,
        &format!("{P}/build/builds/{run}/timeline?api-version=7.1"),
    );
    assert_eq!(t.status, 200, "{}", t.body);
    t.body["records"].as_array().unwrap().clone()
}

fn release_run(release_id: u32, e: u32) -> u64 {
    u64::from(super::RELEASE_RUN_BASE + 4 * release_id + e)
}

#[test]
fn the_yaml_routes_exist_only_with_the_yaml_flavour() {
    let mut w = demo_world();
    let now = w.clock;
    assert_eq!(
        get(&mut w, now, &format!("{P}/pipelines?api-version=7.1")).status,
        404
    );
    w.yaml.enabled = true;
    let a = get(&mut w, now, &format!("{P}/pipelines?api-version=7.1"));
    assert_eq!(a.status, 200);
    let names: Vec<&str> = a.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "training-pipeline",
            "promote-single-model-pipeline",
            "test-deployment-pipeline",
            "prod-deployment-pipeline",
            "rollback-pipeline"
        ]
    );
    assert_eq!(a.body["count"], 5);
    // Versions above 7.1 are refused; released routes take the preview forms too.
    assert_eq!(
        get(
            &mut w,
            now,
            &format!("{P}/pipelines?api-version=7.2-preview.1")
        )
        .status,
        400
    );
    assert_eq!(
        get(
            &mut w,
            now,
            &format!("{P}/build/builds?api-version=7.1-preview.7&$top=1")
        )
        .status,
        200
    );
}

#[test]
fn check_configurations_refuse_a_plain_7_1_and_carry_the_approval_rule() {
    let (mut w, now) = yaml_world();
    let prod = env_id(&mut w, now, "production-deployment");
    let url = format!(
        "{P}/pipelines/checks/configurations?resourceType=environment&resourceId={prod}&$expand=settings"
    );
    let plain = get(&mut w, now, &format!("{url}&api-version=7.1"));
    assert_eq!(plain.status, 400);
    assert_eq!(plain.body["typeKey"], "VssInvalidPreviewVersionException");
    assert!(plain.body["message"].as_str().unwrap().contains("-preview"));
    let a = get(&mut w, now, &format!("{url}&api-version=7.1-preview.1"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["count"], 1);
    let check = &a.body["value"][0];
    assert_eq!(check["type"]["name"], "Approval");
    assert_eq!(check["resource"]["id"], prod.to_string());
    assert_eq!(check["settings"]["minRequiredApprovers"], 2);
    assert_eq!(check["settings"]["requesterCannotBeApprover"], true);
    assert!(check["settings"]["approvers"].as_array().unwrap().len() >= 2);
    // Without $expand=settings there are none; Test has no Approval check.
    let bare = get(
        &mut w,
        now,
        &format!(
            "{P}/pipelines/checks/configurations?resourceType=environment&resourceId={prod}&api-version=7.1-preview.1"
        ),
    );
    assert!(bare.body["value"][0].get("settings").is_none());
    let test = env_id(&mut w, now, "test-deployment");
    let t = get(
        &mut w,
        now,
        &format!(
            "{P}/pipelines/checks/configurations?resourceType=environment&resourceId={test}&api-version=7.1-preview.1"
        ),
    );
    assert_eq!(t.body["count"], 0);
}

#[test]
fn deployment_records_page_with_continuation_tokens_and_cover_every_started_prod_attempt() {
    let (mut w, now) = yaml_world();
    let prod = env_id(&mut w, now, "production-deployment");
    let (small, pages) = records(&mut w, now, prod, 7);
    assert!(pages > 1, "{} records in {pages} page", small.len());
    let (big, _) = records(&mut w, now, prod, 1000);
    let ids = |v: &[Value]| {
        v.iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&small),
        ids(&big),
        "the same records whatever the page size"
    );
    let mut sorted = ids(&big);
    sorted.dedup();
    assert_eq!(sorted.len(), big.len(), "no record twice");
    let started: usize = w
        .releases
        .iter()
        .map(|r| {
            r.envs[2]
                .attempts
                .iter()
                .filter(|a| a.started_on.is_some_and(|s| s <= now))
                .count()
        })
        .sum();
    assert_eq!(big.len(), started);
    for r in &big {
        assert_eq!(r["stageName"], "DeployToProduction");
        assert_eq!(r["definition"]["name"], "prod-deployment-pipeline");
        assert!(r["owner"]["id"].as_u64().is_some() && r["stageAttempt"].as_u64().unwrap() >= 1);
    }
    let bad = get(
        &mut w,
        now,
        &format!(
            "{P}/distributedtask/environments/{prod}/environmentdeploymentrecords?continuationToken=abc&api-version=7.1"
        ),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn a_release_run_names_its_training_run_which_builds_list_resolves() {
    let (mut w, now) = yaml_world();
    let prod_pipe = pipeline_id(&mut w, now, "prod-deployment-pipeline");
    let training = pipeline_id(&mut w, now, "training-pipeline");
    let rel = w.scenario.rollback_release_id;
    let run = release_run(rel, 2);
    let r = get(
        &mut w,
        now,
        &format!("{P}/pipelines/{prod_pipe}/runs/{run}?api-version=7.1"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "completed");
    assert_eq!(r.body["result"], "succeeded");
    let res = &r.body["resources"]["pipelines"]["training"];
    assert_eq!(res["pipeline"]["id"].as_u64(), Some(training));
    let version = res["version"].as_str().unwrap().to_owned();
    let b = get(
        &mut w,
        now,
        &format!("{P}/build/builds?definitions={training}&buildNumber={version}&api-version=7.1"),
    );
    assert_eq!(b.body["count"], 1, "{}", b.body);
    let build_id = b.body["value"][0]["id"].as_u64().unwrap() as u32;
    let r_idx = w.release_index(rel).unwrap();
    assert_eq!(
        build_id, w.builds[w.releases[r_idx].build].id,
        "the release's build"
    );
    // The run belongs to its pipeline only.
    assert_eq!(
        get(
            &mut w,
            now,
            &format!("{P}/pipelines/{training}/runs/{run}?api-version=7.1")
        )
        .status,
        404
    );
}

#[test]
fn one_approval_stays_pending_until_min_required_approvers_and_refuses_repeats() {
    let (mut w, now) = yaml_world();
    let prod_pending: Vec<Value> = pending(&mut w, now)
        .into_iter()
        .filter(|a| {
            a["pipeline"]["name"] == "prod-deployment-pipeline" && a["minRequiredApprovers"] == 2
        })
        .filter(|a| {
            a["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["status"] == "pending")
        })
        .collect();
    let a = prod_pending
        .first()
        .expect("an untouched Prod approval")
        .clone();
    let id = a["id"].as_str().unwrap().to_owned();
    let run = a["pipeline"]["owner"]["id"].as_u64().unwrap();
    assert_eq!(
        a["permissions"].as_str().map(|p| p.contains("view")),
        Some(true)
    );
    let who = others(&a, &[]);
    assert!(who.len() >= 2, "{a}");
    let one = decide(
        &mut w,
        now,
        &who[0],
        json!([{"approvalId": id, "status": "approved", "comment": "first"}]),
    );
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["count"], 1);
    assert_eq!(one.body["value"][0]["status"], "pending", "1 of 2");
    let after = approval(&mut w, now, &id);
    let approved: Vec<&Value> = after["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["comment"], "first");
    // The same approver again: refused, nothing changes.
    let again = decide(
        &mut w,
        now,
        &who[0],
        json!([{"approvalId": id, "status": "approved", "comment": "again"}]),
    );
    assert_eq!(again.status, 400);
    assert_eq!(again.body["eventId"], 3000);
    assert!(
        again.body["message"]
            .as_str()
            .unwrap()
            .contains("already answered"),
        "{}",
        again.body
    );
    assert_eq!(approval(&mut w, now, &id)["steps"], after["steps"]);
    // The second approver completes it; the run's Prod stage is queued to deploy.
    let two = decide(
        &mut w,
        now,
        &who[1],
        json!([{"approvalId": id, "status": "approved", "comment": "second"}]),
    );
    assert_eq!(two.status, 200, "{}", two.body);
    assert_eq!(two.body["value"][0]["status"], "approved");
    let steps = two.body["value"][0]["steps"].as_array().unwrap();
    assert!(steps.iter().filter(|s| s["status"] == "skipped").count() >= 1);
    let b = get(
        &mut w,
        now,
        &format!("{P}/build/builds/{run}?api-version=7.1"),
    );
    assert_ne!(b.body["status"], "completed");
    // Anyone on a completed approval: refused.
    let late = decide(
        &mut w,
        now,
        &who[2.min(who.len() - 1)],
        json!([{"approvalId": id, "status": "rejected", "comment": "late"}]),
    );
    assert_eq!(late.status, 400);
    assert!(
        late.body["message"]
            .as_str()
            .unwrap()
            .contains("already approved"),
        "{}",
        late.body
    );
}

/// The approver group counts as one approver: a member without a step of their own (the
/// demo's default operator) may answer for it, once; the group's step then names who did.
#[test]
fn a_member_answers_once_for_the_approver_group() {
    let (mut w, now) = yaml_world();
    let untouched = |a: &Value| {
        a["minRequiredApprovers"] == 2
            && a["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["status"] == "pending")
    };
    let a = pending(&mut w, now)
        .into_iter()
        .find(|a| a["pipeline"]["name"] == "prod-deployment-pipeline" && untouched(a))
        .expect("an untouched Prod approval");
    let id = a["id"].as_str().unwrap().to_owned();
    let group = |a: &Value| {
        a["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["assignedApprover"]["isContainer"] == true)
            .cloned()
            .expect("a step assigned to the group")
    };
    assert_eq!(group(&a)["status"], "pending");
    let mine = |w: &mut World, who: &str| {
        let p = call(
            w,
            now,
            who,
            Method::GET,
            &format!("{P}/pipelines/approvals/{id}?$expand=permissions&api-version=7.1"),
            None,
        );
        p.body["permissions"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(mine(&mut w, "operator").contains("update"));
    let one = decide(
        &mut w,
        now,
        "operator",
        json!([{"approvalId": id, "status": "approved", "comment": "for the group"}]),
    );
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["value"][0]["status"], "pending", "1 of 2");
    let step = group(&approval(&mut w, now, &id));
    assert_eq!(step["status"], "approved");
    assert_eq!(
        step["actualApprover"]["uniqueName"], "operator@contoso.com",
        "{step}"
    );
    // Another member: the group has answered; nothing changes.
    assert_eq!(mine(&mut w, "frank"), "view");
    let again = decide(
        &mut w,
        now,
        "frank",
        json!([{"approvalId": id, "status": "approved", "comment": "me too"}]),
    );
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(group(&approval(&mut w, now, &id)), step);
}

#[test]
fn the_runs_requester_is_refused_and_a_patch_is_all_or_nothing() {
    let (mut w, now) = yaml_world();
    let all = pending(&mut w, now);
    let prod: Vec<&Value> = all
        .iter()
        .filter(|a| a["pipeline"]["name"] == "prod-deployment-pipeline")
        .collect();
    let mut found = None;
    for a in &prod {
        let run = a["pipeline"]["owner"]["id"].as_u64().unwrap();
        let r = requester(&mut w, now, run);
        if ["alice", "bob", "carol", "dave", "erin"].contains(&r.as_str()) {
            found = Some(*a);
            break;
        }
    }
    let a = found.expect("a Prod approval requested by an approver");
    let id = a["id"].as_str().unwrap().to_owned();
    let run = a["pipeline"]["owner"]["id"].as_u64().unwrap();
    let who = requester(&mut w, now, run);
    let blocked: Vec<&str> = a["blockedApprovers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["uniqueName"].as_str())
        .collect();
    assert!(
        blocked.contains(&format!("{who}@contoso.com").as_str()),
        "{blocked:?}"
    );
    assert_eq!(
        a["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["assignedApprover"]["uniqueName"] == format!("{who}@contoso.com"))
            .map(|_| ()),
        Some(()),
        "the requester is an assigned approver, barred by the check"
    );
    let before = approval(&mut w, now, &id);
    let refused = decide(
        &mut w,
        now,
        &who,
        json!([{"approvalId": id, "status": "approved", "comment": "mine"}]),
    );
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["typeKey"], "ApprovalNotAuthorizedException");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("requester"),
        "{}",
        refused.body
    );
    assert_eq!(approval(&mut w, now, &id), before, "nothing changed");
    // A valid item and a refused one in one PATCH: neither is applied.
    let other = prod
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .find(|x| *x != id)
        .expect("a second Prod approval");
    let before_other = approval(&mut w, now, &other);
    let mixed = decide(
        &mut w,
        now,
        &who,
        json!([
            {"approvalId": other, "status": "approved", "comment": "ok"},
            {"approvalId": id, "status": "approved", "comment": "mine"}
        ]),
    );
    // Refused at its second item, whatever the first would have done: nothing is applied.
    assert_eq!(mixed.status, 400, "{}", mixed.body);
    assert_eq!(
        approval(&mut w, now, &other),
        before_other,
        "all or nothing"
    );
    // The requester may still reject (the check bars approving only).
    let reject = decide(
        &mut w,
        now,
        &who,
        json!([{"approvalId": id, "status": "rejected", "comment": "not ready"}]),
    );
    assert_eq!(reject.status, 200, "{}", reject.body);
    assert_eq!(reject.body["value"][0]["status"], "rejected");
}

#[test]
fn a_run_rejected_at_its_checks_fails_and_leaves_no_deployment_record() {
    let (mut w, now) = yaml_world();
    let prod = env_id(&mut w, now, "production-deployment");
    let a = pending(&mut w, now)
        .into_iter()
        .find(|a| a["pipeline"]["name"] == "prod-deployment-pipeline")
        .unwrap();
    let run = a["pipeline"]["owner"]["id"].as_u64().unwrap();
    let who = others(&a, &[]);
    let r = decide(
        &mut w,
        now,
        &who[0],
        json!([{"approvalId": a["id"], "status": "rejected", "comment": "no"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let later = now + Duration::hours(2);
    let b = get(
        &mut w,
        later,
        &format!("{P}/build/builds/{run}?api-version=7.1"),
    );
    assert_eq!(
        (b.body["status"].as_str(), b.body["result"].as_str()),
        (Some("completed"), Some("failed"))
    );
    let (recs, _) = records(&mut w, later, prod, 50);
    assert!(
        recs.iter().all(|r| r["owner"]["id"].as_u64() != Some(run)),
        "a record for run {run}"
    );
    // Its timeline shows the failed checkpoint under the stage.
    let recs = timeline_records(&mut w, later, run);
    let ap = recs
        .iter()
        .find(|r| r["type"] == "Checkpoint.Approval")
        .unwrap();
    assert_eq!(ap["id"], a["id"]);
    assert_eq!(ap["result"], "failed");
    assert!(!recs.iter().any(|r| r["type"] == "Job"), "no job ran");
}

#[test]
fn a_prod_stage_retry_raises_a_new_approval_then_deploys_the_runs_models() {
    let (mut w, now) = yaml_world();
    let s = w.scenario.clone();
    let incident: crate::domain::CircuitRef = s.incident_circuit.parse().unwrap();
    let c = w.circuit_index(&incident).unwrap();
    assert_eq!(w.deployed_version(Stage::Prod, c), Some(s.incident_version));
    let run = release_run(s.rollback_release_id, 2);
    let stage_url = format!("{P}/build/builds/{run}/stages/DeployToProduction?api-version=7.1");
    let stage0 = timeline_records(&mut w, now, run)
        .into_iter()
        .find(|r| r["identifier"] == "DeployToProduction")
        .unwrap();
    let attempt0 = stage0["attempt"].as_u64().unwrap();
    // A succeeded stage without forceRetryAllJobs has nothing to retry.
    let soft = call(
        &mut w,
        now,
        "dave",
        Method::PATCH,
        &stage_url,
        Some(json!({"state": "retry"})),
    );
    assert_eq!(soft.status, 400);
    let ok = call(
        &mut w,
        now,
        "dave",
        Method::PATCH,
        &stage_url,
        Some(json!({"state": "retry", "forceRetryAllJobs": true})),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, Value::Null, "an empty body");
    // Retrying again while it waits: refused.
    assert_eq!(
        call(
            &mut w,
            now,
            "dave",
            Method::PATCH,
            &stage_url,
            Some(json!({"state": "retry", "forceRetryAllJobs": true}))
        )
        .status,
        400
    );
    let recs = timeline_records(&mut w, now, run);
    let stage1 = recs
        .iter()
        .find(|r| r["identifier"] == "DeployToProduction")
        .unwrap();
    assert_eq!(stage1["attempt"].as_u64(), Some(attempt0 + 1));
    assert_eq!(stage1["state"], "pending");
    let prev = stage1["previousAttempts"].as_array().unwrap();
    assert_eq!(prev.last().unwrap()["attempt"].as_u64(), Some(attempt0));
    assert_eq!(prev.last().unwrap()["recordId"], stage0["id"]);
    // The previous attempt's timeline still reads.
    let old = get(
        &mut w,
        now,
        &format!(
            "{P}/build/builds/{run}/timeline/{}?api-version=7.1",
            prev.last().unwrap()["timelineId"].as_str().unwrap()
        ),
    );
    assert_eq!(old.status, 200);
    let checkpoint = recs
        .iter()
        .find(|r| r["type"] == "Checkpoint.Approval")
        .unwrap();
    let id = checkpoint["id"].as_str().unwrap().to_owned();
    let a = approval(&mut w, now, &id);
    assert_eq!(a["status"], "pending");
    assert_eq!(a["pipeline"]["owner"]["id"].as_u64(), Some(run), "same run");
    let blocked: Vec<&str> = a["blockedApprovers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["uniqueName"].as_str())
        .collect();
    assert!(
        blocked.contains(&"dave@contoso.com"),
        "whoever retried is barred too: {blocked:?}"
    );
    // Approved by two others, the stage deploys the run's models to Prod through ARM.
    let who = others(&a, &["dave"]);
    for p in &who[..2] {
        let d = decide(
            &mut w,
            now,
            p,
            json!([{"approvalId": id, "status": "approved", "comment": "roll back"}]),
        );
        assert_eq!(d.status, 200, "{}", d.body);
    }
    assert_eq!(
        w.deployed_version(Stage::Prod, c),
        Some(s.incident_version),
        "not before the job ran"
    );
    let done = now + Duration::minutes(11);
    let b = get(
        &mut w,
        done,
        &format!("{P}/build/builds/{run}?api-version=7.1"),
    );
    assert_eq!(b.body["result"], "succeeded", "{}", b.body);
    assert_eq!(w.deployed_version(Stage::Prod, c), Some(s.rollback_version));
    let prod = env_id(&mut w, done, "production-deployment");
    let (recs, _) = records(&mut w, done, prod, 50);
    let newest = recs
        .iter()
        .find(|r| r["owner"]["id"].as_u64() == Some(run))
        .unwrap();
    assert_eq!(newest["stageAttempt"].as_u64(), Some(attempt0 + 1));
    assert_eq!(newest["result"], "succeeded");
}

#[test]
fn a_rollback_pipeline_run_points_its_circuits_back_after_its_approval() {
    let (mut w, now) = yaml_world();
    let s = w.scenario.clone();
    let incident: crate::domain::CircuitRef = s.incident_circuit.parse().unwrap();
    let c = w.circuit_index(&incident).unwrap();
    let rollback = pipeline_id(&mut w, now, "rollback-pipeline");
    let url = format!("{P}/pipelines/{rollback}/runs?api-version=7.1");
    let circuit_id = format!("{}_{}", incident.plant, incident.circuit);
    let params = |circuits: &str| json!({"templateParameters": {"circuitIds": circuits, "environment": "Production", "rollbackType": "previous"}, "resources": {"repositories": {"self": {"refName": "refs/heads/main"}}}});
    let bad = call(
        &mut w,
        now,
        "dave",
        Method::POST,
        &url,
        Some(params("PLANT999_CIRCUIT99")),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let queued = call(
        &mut w,
        now,
        "dave",
        Method::POST,
        &url,
        Some(params(&circuit_id)),
    );
    assert_eq!(queued.status, 200, "{}", queued.body);
    assert_eq!(queued.body["state"], "inProgress");
    assert_eq!(
        queued.body["templateParameters"]["circuitIds"],
        circuit_id.as_str()
    );
    let run = queued.body["id"].as_u64().unwrap();
    let a = pending(&mut w, now)
        .into_iter()
        .find(|a| a["pipeline"]["owner"]["id"].as_u64() == Some(run))
        .expect("the rollback's approval");
    assert_eq!(a["pipeline"]["name"], "rollback-pipeline");
    let refused = decide(
        &mut w,
        now,
        "dave",
        json!([{"approvalId": a["id"], "status": "approved", "comment": "mine"}]),
    );
    assert_eq!(refused.status, 400, "the requester");
    assert_eq!(w.deployed_version(Stage::Prod, c), Some(s.incident_version));
    let ok = decide(
        &mut w,
        now,
        "erin",
        json!([{"approvalId": a["id"], "status": "approved", "comment": "go"}]),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        w.deployed_version(Stage::Prod, c),
        Some(s.rollback_version),
        "the PUT is sent"
    );
    assert_eq!(
        w.circuit_deployment(Stage::Prod, c).unwrap().provisioning,
        "Updating"
    );
    let r = get(
        &mut w,
        now,
        &format!("{P}/pipelines/{rollback}/runs/{run}?api-version=7.1"),
    );
    assert_eq!(r.body["state"], "inProgress");
    let done = now + Duration::minutes(5);
    let r = get(
        &mut w,
        done,
        &format!("{P}/pipelines/{rollback}/runs/{run}?api-version=7.1"),
    );
    assert_eq!(
        (r.body["state"].as_str(), r.body["result"].as_str()),
        (Some("completed"), Some("succeeded"))
    );
    assert_eq!(
        w.circuit_deployment(Stage::Prod, c).unwrap().provisioning,
        "Succeeded"
    );
    let env = env_id(&mut w, done, "Production-Rollback-Approval");
    let (recs, _) = records(&mut w, done, env, 50);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["stageName"], "ExecuteRollback");
    assert_eq!(recs[0]["owner"]["id"].as_u64(), Some(run));
    // Only the named circuit moved.
    let moved: Vec<usize> = (0..w.circuits.len())
        .filter(|&k| {
            w.circuit_deployment(Stage::Prod, k)
                .is_some_and(|d| d.modified_at >= now)
        })
        .collect();
    assert_eq!(moved, vec![c]);
}

#[test]
fn build_number_patterns_match_as_builds_list_does() {
    use super::routes::wildcard as wc;
    assert!(wc("20261120.5", "20261120.5"));
    assert!(wc("2026*", "20261120.5"));
    assert!(wc("*.5", "20261120.5"));
    assert!(wc("2026*20*5", "20261120.5"));
    assert!(!wc("2025*", "20261120.5"));
    assert!(!wc("20261120.", "20261120.5"));
}
