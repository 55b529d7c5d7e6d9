//! The write path headless, against a simulator process: policy refusals, two operators racing
//! for one approval, a rollback to a verified restore, a crash mid-rollback resumed without a
//! second request, and an audit log that notices tampering.

use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use relcon::service::clock::CLOCK_START_ENV;
use serde_json::Value;

use crate::support;

/// A `relcon sim serve` process with its written configuration (`tests/support`); its
/// `json` checks every document against the published contract too.
use support::{SimServe as Sim, journal, ok_json, pinned};

fn approvals(sim: &Sim, who: &str) -> Vec<Value> {
    let (code, v) = sim.json(who, &["approvals"]);
    assert_eq!(code, 0, "{v}");
    v["approvals"].as_array().unwrap().clone()
}

#[test]
fn self_approval_is_refused_with_exit_1() {
    let sim = Sim::start(&[]);
    let mine = approvals(&sim, "alice")
        .into_iter()
        .find(|a| {
            a["requested_by"]
                .as_str()
                .is_some_and(|r| r.starts_with("alice"))
        })
        .expect("the scenario has an approval requested by alice");
    let id = mine["approval_ids"][0].as_u64().unwrap().to_string();
    let out = sim
        .relcon("alice")
        .args(["approve", &id, "--comment", "lgtm"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("four-eyes"));
    // On record, refused.
    let (_, audit) = sim.json("alice", &["audit", "show"]);
    assert!(
        audit["entries"][0]["result"]
            .as_str()
            .unwrap()
            .starts_with("refused"),
        "{audit}"
    );
}

#[test]
fn two_operators_racing_for_one_approval_one_wins_the_other_is_told_who() {
    let sim = Sim::start(&[]);
    let item = approvals(&sim, "bob")
        .into_iter()
        .find(|a| {
            a["stage"] == "Production"
                && a["environment_only"].is_null()
                && a["approvals"] == 0
                && a["policy"]["allowed"] == true
                && !a["requested_by"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("carol")
        })
        .expect("a Production approval that bob and carol may approve");
    let id = item["approval_ids"][0].as_u64().unwrap().to_string();
    let spawn = |who: &str| {
        sim.std_relcon(who)
            .args(["approve", &id, "--comment", &format!("{who} approves")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("bob"), spawn("carol"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code().unwrap(), b.status.code().unwrap()];
    codes.sort();
    assert_eq!(
        codes,
        [0, 3],
        "bob: {} carol: {}",
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    let (winner, loser) = if a.status.code() == Some(0) {
        ("bob", &b)
    } else {
        ("carol", &a)
    };
    let told = String::from_utf8_lossy(&loser.stdout);
    assert!(
        told.to_lowercase().contains(winner),
        "the loser is told who decided: {told}"
    );
    // Exactly one decision is recorded on the approval.
    let after = approvals(&sim, "dave");
    let same = after
        .iter()
        .find(|x| x["release_id"] == item["release_id"] && x["stage"] == "Production")
        .unwrap();
    assert_eq!(same["approvals"], 1, "{same}");
    assert!(
        !same["approval_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_u64().map(|n| n.to_string()) == Some(id.clone()))
    );
}

#[test]
fn rollback_of_the_incident_circuit_is_verified_and_shows_in_prod() {
    let sim = Sim::start(&["--speed", "600"]);
    let scenario = sim.get("/_sim/scenario");
    let circuit = scenario["incident_circuit"].as_str().unwrap().to_owned();
    let (code, plan) = sim.json("dave", &["rollback", &circuit, "--plan"]);
    assert_eq!(code, 0, "{plan}");
    let target = plan["plan"]["to"].as_u64().unwrap();
    let from = plan["plan"]["from"].as_u64().unwrap();
    assert!(target < from, "back to an earlier version: {plan}");
    let (code, done) = sim.json(
        "dave",
        &[
            "rollback",
            &circuit,
            "--yes",
            "--wait",
            "--reason",
            "MAE alert",
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert!(done["time_to_verified_seconds"].as_i64().is_some());
    let (_, shown) = sim.json("dave", &["circuit", &circuit]);
    assert_eq!(
        shown["circuit"]["versions"]["prod"].as_u64(),
        Some(target),
        "{}",
        shown["circuit"]
    );
    let (code, verify) = sim.json("dave", &["audit", "verify"]);
    assert_eq!((code, verify["first_bad"].is_null()), (0, true), "{verify}");
}

#[test]
fn kill_9_mid_rollback_then_restart_resumes_to_verified_without_a_second_request() {
    let sim = Sim::start(&["--speed", "30"]);
    let circuit = rollback_then_kill_9(&sim, "erin");
    let patches = |sim: &Sim| {
        sim.get("/_sim/stats")["by_route"]["PATCH vsrm/release.environment"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(patches(&sim), 1);
    // The same command again resumes the unfinished operation instead of sending a new one.
    let (code, done) = sim.json("erin", &["rollback", &circuit, "--yes", "--wait"]);
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert_eq!(patches(&sim), 1, "never sent twice");
    let (_, ops) = sim.json("erin", &["ops"]);
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);
}

#[test]
fn audit_verify_passes_then_fails_after_a_changed_byte() {
    let sim = Sim::start(&[]);
    let reg = approvals(&sim, "carol")
        .into_iter()
        .filter(|a| a["stage"] == "Registry" && a["policy"]["allowed"] == true)
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(reg.len(), 2);
    for a in &reg {
        let id = a["approval_ids"][0].as_u64().unwrap().to_string();
        sim.relcon("carol")
            .args(["approve", &id, "--comment", "notebook reviewed"])
            .assert()
            .success();
    }
    sim.relcon("carol")
        .args(["audit", "verify"])
        .assert()
        .success();
    let log = sim.state("carol").join("audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    // Each decision is on record twice: "sending" before the PATCH, then its outcome.
    let results: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["result"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(results, ["sending", "succeeded", "sending", "succeeded"]);
    std::fs::write(
        &log,
        text.replacen("notebook reviewed", "notebook reviewEd", 1),
    )
    .unwrap();
    let out = sim
        .relcon("carol")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("entry 2"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn environment_release_approved_with_break_glass_then_rolled_back_everywhere() {
    let sim = Sim::start(&["--speed", "600"]);
    let env = sim.environment_approval("bob");
    assert!(
        env["policy"]["needs_override"] == true,
        "some circuits failed validation: {env}"
    );
    let ids: Vec<String> = env["approval_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.to_string())
        .collect();
    // Without the override the gate refuses; with it, recorded as break-glass.
    sim.relcon("bob")
        .args(["approve", &ids[0], "--comment", "env 1.5.1"])
        .assert()
        .code(1);
    sim.approve_environment_release_with_break_glass(&ids);
    let (_, audit) = sim.json("dave", &["audit", "show"]);
    assert_eq!(
        audit["entries"][0]["inputs"]["override_gate"], true,
        "{audit}"
    );
    // Let the Production stage deploy, then every Prod deployment runs 1.5.1.
    sim.advance(1800);
    let (_, fleet) = sim.json("dave", &["fleet"]);
    let envs = |f: &Value| -> Vec<String> {
        f["plants"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| {
                p["circuits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["environment"]["prod"].as_str().unwrap_or("?").to_owned())
            })
            .collect()
    };
    assert!(
        envs(&fleet).iter().all(|e| e == "1.5.1"),
        "{:?}",
        envs(&fleet)
    );
    let (code, plan) = sim.json("dave", &["rollback", "--environment", "--plan"]);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["kind"], "environment-plan", "{plan}");
    let plan = &plan["plan"];
    assert_eq!(
        (plan["from"].as_str(), plan["to"].as_str()),
        (Some("1.5.1"), Some("1.5.0"))
    );
    assert_eq!(plan["steps"].as_array().unwrap().len(), 130);
    let (code, done) = sim.json(
        "dave",
        &[
            "rollback",
            "--environment",
            "--yes",
            "--wait",
            "--reason",
            "1.5.1 regression",
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["operation"]["state"], "verified");
    let (_, fleet) = sim.json("dave", &["fleet"]);
    assert!(
        envs(&fleet).iter().all(|e| e == "1.5.0"),
        "{:?}",
        envs(&fleet)
    );
}

#[test]
fn with_no_configuration_fleet_reads_the_built_in_simulator_and_matches_a_served_one() {
    let sim = Sim::start(&[]);
    let (code, served) = sim.json("bob", &["fleet"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("relcon")
        .unwrap()
        .args(["--as", "bob", "--no-cache", "--json", "fleet"])
        .arg("--state-dir")
        .arg(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("RELCON_CONFIG")
        .env(CLOCK_START_ENV, pinned())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let embedded = ok_json(&out);
    assert!(
        embedded["backend"]
            .as_str()
            .unwrap()
            .starts_with("simulator at http://127.0.0.1:")
    );
    assert_eq!(embedded["plants"].as_array().unwrap().len(), 17);
    // A job list carries the time it was read, which differs between the two processes.
    let read_at_blanked = |v: &serde_json::Value| {
        let mut v = v.clone();
        for p in v.as_array_mut().into_iter().flatten() {
            for c in p["circuits"].as_array_mut().into_iter().flatten() {
                c["jobs"]["read_at"] = serde_json::Value::Null;
            }
        }
        v
    };
    assert_eq!(
        read_at_blanked(&embedded["plants"]),
        read_at_blanked(&served["plants"]),
        "the same fleet either way"
    );
    assert_eq!(embedded["errors"], serde_json::json!([]));
}

/// Start a rollback of the incident circuit as `who` and kill -9 it once the journal says the
/// request went out. Returns the circuit.
fn rollback_then_kill_9(sim: &Sim, who: &str) -> String {
    let circuit = sim.get("/_sim/scenario")["incident_circuit"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut first = sim
        .std_relcon(who)
        .args([
            "rollback", &circuit, "--yes", "--wait", "--reason", "incident",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let sent = loop {
        if journal(sim, who)
            .iter()
            .any(|op| op["state"] == "in-progress")
        {
            break true;
        }
        if Instant::now() > deadline || first.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::yield_now();
    };
    assert!(sent, "the rollback was journaled as running");
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    circuit
}

#[test]
fn a_redeploy_the_release_no_longer_shows_is_failed_not_tracked_forever() {
    // The rollback starts on one service, which then loses it (here: a second simulator for
    // the same subscription and project, whose release history never saw the redeploy).
    let first = Sim::start(&["--speed", "1"]);
    rollback_then_kill_9(&first, "erin");
    let second = Sim::start(&["--speed", "1"]);
    let (from, to) = (
        first.state("erin").join("ops"),
        second.state("erin").join("ops"),
    );
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let path = e.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
    let out = second
        .relcon("erin")
        .args(["--json", "ops", "--wait"])
        .output()
        .unwrap();
    let ops = ok_json(&out);
    let op = &ops["operations"][0];
    assert_eq!(op["state"], "failed", "{op}");
    let why = op["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("shows no redeploy"), "{why}");
    let patches = second.get("/_sim/stats")["by_route"]["PATCH vsrm/release.environment"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(patches, 0, "resuming never sends");
}

#[test]
fn the_built_in_simulator_closes_what_a_previous_run_left_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let relcon = |args: &[&str]| {
        let out = Command::cargo_bin("relcon")
            .unwrap()
            .args(["--as", "dave", "--no-cache", "--json"])
            .arg("--state-dir")
            .arg(dir.path())
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("NO_COLOR", "1")
            .env(CLOCK_START_ENV, pinned())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), v)
    };
    // Submitted without --wait: the process ends, and so does its built-in simulator.
    let (code, sent) = relcon(&["rollback", "PLANT007/CIRCUIT03", "--yes"]);
    assert_eq!(code, 0, "{sent}");
    let id = sent["operation"]["id"].as_str().unwrap().to_owned();
    assert!(
        !matches!(
            sent["operation"]["state"].as_str(),
            Some("verified" | "failed")
        ),
        "{sent}"
    );
    let (_, ops) = relcon(&["ops"]);
    let op = &ops["operations"][0];
    assert_eq!(
        (op["id"].as_str(), op["state"].as_str()),
        (Some(id.as_str()), Some("failed"))
    );
    assert!(
        op["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("restarted"),
        "{op}"
    );
    let (_, audit) = relcon(&["audit", "show"]);
    let results: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["result"].as_str())
        .collect();
    assert!(
        results.iter().any(|r| r.starts_with("abandoned:")),
        "{results:?}"
    );
}

#[test]
fn a_redeploy_that_needs_the_production_approvals_again_says_so_then_verifies() {
    let sim = Sim::start(&["--speed", "600", "--redeploy-approvals"]);
    let circuit = sim.get("/_sim/scenario")["incident_circuit"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = sim
        .std_relcon("erin")
        .args([
            "--json", "rollback", &circuit, "--yes", "--wait", "--reason", "incident",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The journal says what the redeploy waits for.
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiting = loop {
        let found = journal(&sim, "erin")
            .into_iter()
            .find(|v| v["waiting"].is_string());
        if let Some(op) = found {
            break op;
        }
        assert!(Instant::now() < deadline, "never said it was waiting");
        std::thread::yield_now();
    };
    let says = waiting["waiting"].as_str().unwrap();
    assert!(
        says.contains("Production approval") && says.contains("0 of 2"),
        "{says}"
    );
    assert_eq!(waiting["state"], "in-progress", "{waiting}");
    assert_eq!(
        says.matches("ML Release Approvers").count(),
        1,
        "each name once: {says}"
    );
    // Two other people approve the redeploy (erin requested it: not her), one record each.
    let item = approvals(&sim, "carol")
        .into_iter()
        .find(|a| a["release_id"] == waiting["release_id"] && a["stage"] == "Production")
        .expect("the redeploy's Production approval is pending");
    assert!(
        item["requested_by"]
            .as_str()
            .is_some_and(|r| r.starts_with("erin")),
        "{item}"
    );
    for (who, id) in [
        ("carol", &item["approval_ids"][0]),
        ("dave", &item["approval_ids"][1]),
    ] {
        let id = id.as_u64().unwrap().to_string();
        let (code, out) = sim.json(who, &["approve", &id, "--comment", "rollback approved"]);
        assert_eq!(code, 0, "{who}: {out}");
    }
    let out = run.wait_with_output().unwrap();
    let done = ok_json(&out);
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert!(done["operation"]["waiting"].is_null(), "{done}");
}
