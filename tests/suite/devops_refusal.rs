//! When Azure DevOps refuses what relcon's policy allowed, headless and end to end: the
//! simulator's stages refuse an approval by whoever created the release or requested the
//! deployment (DevOps' `releaseCreatorCanBeApprover` off, read literally for a redeploy), while
//! relcon's four-eyes rule only looks at who requested the deployment.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::SimServe;

/// The pending Production approval of `release_id`, as `who` sees it.
fn production_approval(sim: &SimServe, who: &str, release_id: &Value) -> Option<Value> {
    let (code, v) = sim.json(who, &["approvals"]);
    assert_eq!(code, 0, "{v}");
    v["approvals"]
        .as_array()?
        .iter()
        .find(|a| &a["release_id"] == release_id && a["stage"] == "Production")
        .cloned()
}

#[test]
fn a_redeploy_approval_refused_by_devops_exits_1_on_record_and_stays_pending() {
    let sim = SimServe::start(&[
        "--speed",
        "600",
        "--redeploy-approvals",
        "--requester-cannot-approve",
    ]);
    let scenario = sim.get_as("erin", "/_sim/scenario");
    let circuit = scenario["incident_circuit"].as_str().unwrap().to_owned();
    let release_id = scenario["rollback_release_id"].clone();
    // Who created the release the rollback redeploys: relcon lets them approve the redeploy
    // (someone else requested it), DevOps does not.
    let release = sim.get_as(
        "erin",
        &format!("/vsrm/contoso/forecasting/_apis/release/releases/{release_id}?api-version=7.1"),
    );
    let creator = release["createdBy"]["uniqueName"]
        .as_str()
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let on_call = ["erin", "dave", "bob"]
        .into_iter()
        .find(|p| *p != creator)
        .unwrap();
    let (code, sent) = sim.json(
        on_call,
        &["rollback", &circuit, "--yes", "--reason", "incident"],
    );
    assert_eq!(code, 0, "{sent}");
    assert_eq!(sent["operation"]["release_id"], release_id, "{sent}");
    // The redeploy waits for its Production approvals again.
    let deadline = Instant::now() + Duration::from_secs(60);
    let item = loop {
        if let Some(item) = production_approval(&sim, &creator, &release_id) {
            break item;
        }
        assert!(
            Instant::now() < deadline,
            "the redeploy never asked for approval"
        );
        std::thread::yield_now();
    };
    assert_eq!(
        item["policy"]["allowed"], true,
        "relcon's policy allows it: {item}"
    );
    let id = item["approval_ids"][0].as_u64().unwrap().to_string();

    // Text: DevOps' words and its request id, exit 1.
    let out = sim
        .relcon(&creator)
        .args(["approve", &id, "--comment", "rollback ok"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("approval {id}: refused by Azure DevOps: "))
            && text.contains("cannot approve it")
            && text.contains("(request id ")
            && text.contains("still pending"),
        "{text}"
    );
    // JSON: the same, with the typeKey apart (`sim.json` checks the published schema).
    let (code, v) = sim.json(&creator, &["approve", &id, "--comment", "rollback ok"]);
    assert_eq!(code, 1, "{v}");
    let r = &v["results"][0];
    assert_eq!(r["outcome"], "refused", "{v}");
    assert_eq!(r["refused_by"], "azure_devops", "{v}");
    assert_eq!(r["code"], "InvalidRequestException", "{v}");
    assert!(
        r["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert!(
        r["reasons"][0]
            .as_str()
            .is_some_and(|m| m.contains("cannot approve it") && !m.ends_with(')')),
        "{v}"
    );
    // On record, twice: each attempt is recorded before it is sent, then its refusal with
    // the request id.
    let (code, audit) = sim.json(&creator, &["audit", "show"]);
    assert_eq!(code, 0, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{audit}");
    for pair in entries.chunks(2) {
        assert_eq!(pair[0]["result"], "sending", "{}", pair[0]);
        assert_eq!(
            pair[0]["inputs"], pair[1]["inputs"],
            "one operation: {audit}"
        );
        let e = &pair[1];
        assert!(
            e["result"]
                .as_str()
                .is_some_and(|r| r.starts_with("refused by Azure DevOps: ")),
            "{e}"
        );
        assert_eq!(e["request_ids"].as_array().map(Vec::len), Some(1), "{e}");
    }
    // Never decided: still pending, with no approval counted.
    let after =
        production_approval(&sim, "carol", &release_id).expect("the approval is still pending");
    assert!(
        after["approval_ids"].as_array().unwrap().iter().any(|x| x
            .as_u64()
            .map(|n| n.to_string())
            .as_deref()
            == Some(id.as_str())),
        "{after}"
    );
    assert_eq!(after["approvals"], 0, "{after}");
}
