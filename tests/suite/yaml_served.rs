//! The YAML flavour end to end: `relcon sim serve --devops yaml` (which writes `[devops]
//! flavor = "yaml"`) read by the real binary through the YAML adapter, against the same world
//! served as classic releases.

use serde_json::Value;

use crate::support::SimServe;

/// Each circuit's model versions per stage, from `fleet --json`.
fn versions(doc: &Value) -> Vec<(String, String, String)> {
    per_circuit(doc, |c| c["versions"].to_string())
}

/// One field of every circuit of `fleet --json`, by plant and circuit.
fn per_circuit(doc: &Value, field: impl Fn(&Value) -> String) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for plant in doc["plants"].as_array().into_iter().flatten() {
        for c in plant["circuits"].as_array().into_iter().flatten() {
            out.push((
                plant["plant_id"].to_string(),
                c["circuit_id"].to_string(),
                field(c),
            ));
        }
    }
    out
}

#[test]
fn the_yaml_face_reads_the_same_fleet_as_classic_releases() {
    let classic = SimServe::start(&[]);
    let yaml = SimServe::start(&["--devops", "yaml"]);
    let config = std::fs::read_to_string(yaml.config()).unwrap();
    assert!(config.contains("flavor = \"yaml\""), "{config}");

    let (code_c, doc_c) = classic.json("dave", &["fleet"]);
    let (code_y, doc_y) = yaml.json("dave", &["fleet"]);
    assert_eq!((code_c, code_y), (0, 0), "{doc_y}");
    assert_eq!(doc_y["complete"], true, "{}", doc_y["errors"]);
    // The consumed training runs come from one paged list of the training pipeline, not a
    // Builds - List per run (1,912 requests on this world before).
    let builds = yaml.get("/_sim/stats")["by_route"]["GET devops/yaml.builds"].as_u64();
    assert!(builds.is_some_and(|n| (1..=10).contains(&n)), "{builds:?}");
    let (c, y) = (versions(&doc_c), versions(&doc_y));
    assert_eq!(c.len(), 130);
    assert!(c.iter().all(|(_, _, v)| v.contains("\"prod\"")), "{c:?}");
    assert_eq!(c, y);
    // The environment-only release is one in YAML too (its runs' `environmentVersion`), so
    // its validations are not model evidence (no false TESTS alert) and every circuit counts
    // it among its pending approvals, as with classic releases.
    let tests = |doc: &Value| per_circuit(doc, |c| c["validation"]["status"].to_string());
    assert_eq!(tests(&doc_c), tests(&doc_y));
    let pending = |doc: &Value| per_circuit(doc, |c| c["pending_approvals"].to_string());
    assert_eq!(pending(&doc_c), pending(&doc_y));
}

/// The pending Production approvals in `approvals --json` as `who` sees them.
fn prod_items(sim: &SimServe, who: &str) -> Vec<Value> {
    let (code, doc) = sim.json(who, &["approvals"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["complete"], true, "{}", doc["errors"]);
    doc["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["stage"] == "Production")
        .cloned()
        .collect()
}

fn id_of(item: &Value) -> String {
    item["approval_ids"][0].as_str().unwrap().to_owned()
}

#[test]
fn a_yaml_approval_is_refused_to_its_requester_and_completed_by_a_second_approver() {
    let sim = SimServe::start(&["--devops", "yaml"]);
    let items = prod_items(&sim, "dave");
    // Approval ids are the GUIDs DevOps gives them, not classic numbers.
    assert!(items.iter().all(|a| id_of(a).len() == 36), "{items:?}");
    // The Approval check's rule, read from the environment: two approvers in Prod.
    assert!(items.iter().all(|a| a["required"] == 2), "{items:?}");

    // The requester's own approval: refused by relcon's four-eyes rule, nothing sent.
    let own = items
        .iter()
        .find(|a| a["requested_by"] == "alice@contoso.com")
        .expect("an approval Alice requested");
    let out = sim
        .relcon("alice")
        .args(["approve", &id_of(own), "-m", "mine"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("you requested this release"),
        "{out:?}"
    );

    // The second approver of one that has one approval: it completes and leaves the list.
    let half = items
        .iter()
        .find(|a| {
            a["approvals"] == 1
                && a["policy"]["allowed"] == true
                && a["requested_by"] != "dave@contoso.com"
        })
        .expect("a Prod approval waiting for its second approver");
    let id = id_of(half);
    let out = sim
        .relcon("dave")
        .args(["approve", &id, "-m", "second approver"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Confirmed from the approval's own steps (the release no longer lists a completed one).
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("done, 2 of 2 approvals"), "{said}");
    let after = prod_items(&sim, "dave");
    assert!(after.iter().all(|a| id_of(a) != id), "{after:?}");

    let out = sim
        .relcon("dave")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// The rollback pipeline's run waiting for its `Production-Rollback-Approval` check is a row
/// of the approvals list that names what it restores (the circuit, at the version relcon
/// sent) and the rule that governs it: its own check's one approver, not relcon's Prod
/// minimum of two for new models (one approval runs it in DevOps), with no test gate. Azure
/// DevOps' own word is beside it: the requester barred, the caller's permissions.
#[test]
fn a_rollback_runs_approval_names_its_circuit_and_its_own_rule() {
    let sim = SimServe::start(&["--devops", "yaml"]);
    let circuit = sim.incident_circuit();
    let (code, plan) = sim.json(
        "erin",
        &["rollback", &circuit, "--plan", "--method", "pipeline"],
    );
    assert_eq!(code, 0, "{plan}");
    let target = plan["plan"]["to"].as_u64().unwrap();
    let args = [
        "rollback", &circuit, "--method", "pipeline", "--yes", "--reason", "incident",
    ];
    let (code, sent) = sim.json("erin", &args);
    assert_eq!(code, 0, "{sent}");
    let rollback_row = |who: &str| {
        prod_items(&sim, who)
            .into_iter()
            .find(|a| a["rollback_run"] == true)
            .unwrap_or_else(|| panic!("no rollback run row for {who}"))
    };
    let row = rollback_row("carol");
    assert_eq!(
        row["circuits"],
        serde_json::json!([{"circuit": circuit, "version": target}]),
        "{row}"
    );
    assert_eq!(row["required"], 1, "{row}");
    assert_eq!(row["evidence"]["gate"]["failing"], serde_json::json!([]));
    assert_eq!(row["policy"]["allowed"], true, "{row}");
    assert_eq!(row["platform"]["you_may_decide"], true, "{row}");
    assert_eq!(
        row["platform"]["blocked_approvers"],
        serde_json::json!(["erin@contoso.com"]),
        "{row}"
    );
    // Its requester: refused by relcon (four eyes), as DevOps would.
    let mine = rollback_row("erin");
    assert_eq!(mine["policy"]["allowed"], false, "{mine}");
    // One approval completes it.
    let (code, done) = sim.json(
        "carol",
        &["approve", &id_of(&row), "--comment", "rollback approved"],
    );
    assert_eq!(code, 0, "{done}");
    assert!(
        prod_items(&sim, "carol")
            .iter()
            .all(|a| a["rollback_run"] != true),
        "still waiting"
    );
}
