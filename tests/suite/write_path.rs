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

/// An approval id as the JSON gives it: a classic number, or a YAML approval's GUID.
fn id_text(v: &Value) -> String {
    v.as_u64()
        .map(|n| n.to_string())
        .or_else(|| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("not an approval id: {v}"))
}

#[test]
fn two_operators_racing_for_one_approval_one_wins_the_other_is_told_who() {
    racing_for_one_approval(&[], "Production");
}

/// YAML: an approval is one GUID with a step per approver, so in Production (two approvers)
/// bob and carol each approve their own step and both succeed; the race is on an approval one
/// decision completes, a Registry promotion's.
#[test]
fn yaml_two_operators_racing_for_one_approval_one_wins_the_other_is_told_who() {
    racing_for_one_approval(&["--devops", "yaml"], "Registry");
}

fn racing_for_one_approval(flavour: &[&str], stage: &str) {
    let sim = Sim::start(flavour);
    let item = approvals(&sim, "bob")
        .into_iter()
        .find(|a| {
            a["stage"] == stage
                && a["environment_only"].is_null()
                && a["approvals"] == 0
                && a["policy"]["allowed"] == true
                && !a["requested_by"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("carol")
        })
        .expect("an approval that bob and carol may approve");
    let id = id_text(&item["approval_ids"][0]);
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
    // Exactly one decision is recorded on the approval: it is no longer pending, and a
    // Production approval of two shows the one.
    let after = approvals(&sim, "dave");
    let same = after
        .iter()
        .find(|x| x["release_id"] == item["release_id"] && x["stage"] == stage);
    if stage == "Production" {
        assert_eq!(
            same.map(|s| s["approvals"].clone()),
            Some(1.into()),
            "{same:?}"
        );
    }
    assert!(
        !same
            .and_then(|s| s["approval_ids"].as_array())
            .into_iter()
            .flatten()
            .any(|x| id_text(x) == id),
        "{same:?}"
    );
}

/// Every Registry approval bob may decide, approved in one command: each done, none left.
fn bulk_registry_approvals(flavour: &[&str]) {
    let sim = Sim::start(flavour);
    let registry: Vec<String> = approvals(&sim, "bob")
        .into_iter()
        .filter(|a| a["stage"] == "Registry" && a["policy"]["allowed"] == true)
        .map(|a| id_text(&a["approval_ids"][0]))
        .collect();
    assert!(registry.len() >= 2, "the scenario has Registry approvals");
    let mut args = vec!["approve"];
    args.extend(registry.iter().map(String::as_str));
    args.extend([
        "--comment",
        "Registry promotion reviewed in the release meeting",
    ]);
    let (code, done) = sim.json("bob", &args);
    assert_eq!(code, 0, "{done}");
    let left: Vec<Value> = approvals(&sim, "bob")
        .into_iter()
        .filter(|a| a["stage"] == "Registry")
        .filter(|a| {
            a["approval_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|x| registry.contains(&id_text(x)))
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn bulk_registry_approvals_are_each_done_and_leave_the_list() {
    bulk_registry_approvals(&[]);
}

#[test]
fn yaml_bulk_registry_approvals_are_each_done_and_leave_the_list() {
    bulk_registry_approvals(&["--devops", "yaml"]);
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

/// `relcon fleet` with the cache keeps of what it read what the console's next start needs
/// (`Keep::FleetView`: the fleet view, the books), with `--no-cache` only what it prints
/// (`Keep::Printed`): both print the same fleet, and only the first leaves a snapshot behind.
#[test]
fn fleet_prints_the_same_fleet_with_the_cache_and_without() {
    let sim = Sim::start(&[]);
    let (code, printed) = sim.json("bob", &["fleet"]);
    assert_eq!(code, 0, "{printed}");
    let home = tempfile::tempdir().unwrap();
    let out = support::relcon_in(home.path())
        .arg("--config")
        .arg(sim.config())
        .args(["--as", "bob", "--json", "fleet"])
        .output()
        .unwrap();
    let cached = ok_json(&out);
    let blanked = |v: &Value| {
        let mut v = v.clone();
        v["generated_at"] = Value::Null;
        for p in v["plants"].as_array_mut().into_iter().flatten() {
            for c in p["circuits"].as_array_mut().into_iter().flatten() {
                c["jobs"]["read_at"] = Value::Null;
            }
        }
        v
    };
    assert_eq!(blanked(&cached), blanked(&printed));
    assert!(
        printed["plants"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["circuits"].as_array().into_iter().flatten())
            .any(|c| c["pending_approvals"].as_u64() > Some(0) && !c["drift"]["worst"].is_null()),
        "the demo fleet shows approvals and drift"
    );
    let snapshots = walkdir(&home.path().join("cache"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("snapshot"))
        .count();
    assert!(snapshots >= 1, "the cached run stored its snapshot");
}

/// Every file under `dir`.
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Start a rollback of the incident circuit as `who` and kill -9 it once the journal says the
/// request went out. Returns the circuit.
fn rollback_then_kill_9(sim: &Sim, who: &str) -> String {
    rollback_then_kill_9_with(sim, who, &[])
}

/// The same with more arguments to `relcon rollback` (`--method pipeline`).
fn rollback_then_kill_9_with(sim: &Sim, who: &str, more: &[&str]) -> String {
    let circuit = sim.incident_circuit();
    let mut first = sim
        .std_relcon(who)
        .args([
            "rollback", &circuit, "--yes", "--wait", "--reason", "incident",
        ])
        .args(more)
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
    redeploy_needs_the_production_approvals_again(
        &[REDEPLOY_PACE, &["--redeploy-approvals"]].concat(),
        Some("ML Release Approvers"),
    );
}

/// YAML: the redeploy is a re-run of the Prod run's stage (Stages - Update), whose checks
/// always run again: the same journey, the approvers named one by one.
#[test]
fn yaml_a_stage_rerun_needs_the_production_approvals_again_says_so_then_verifies() {
    redeploy_needs_the_production_approvals_again(
        &[REDEPLOY_PACE, &["--devops", "yaml"]].concat(),
        None,
    );
}

/// The redeploy journeys' pace: 60 simulated seconds a second, a 2-minute deploy and a
/// 1-minute update. At 600 the rollback's 2-minute grace for a redeploy not yet seen on its
/// release (`judge::UNSEEN_GRACE`) was 0.2 real seconds, shorter than two approvers' processes
/// take on a loaded machine, and the journey failed now and then.
const REDEPLOY_PACE: &[&str] = &[
    "--speed",
    "60",
    "--deploy-minutes",
    "2",
    "--update-minutes",
    "1",
];

fn redeploy_needs_the_production_approvals_again(flags: &[&str], group: Option<&str>) {
    let sim = Sim::start(flags);
    let circuit = sim.incident_circuit();
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
    if let Some(group) = group {
        assert_eq!(says.matches(group).count(), 1, "each name once: {says}");
    }
    // Two other people approve the redeploy (erin requested it: not her), one record each.
    let item = approvals(&sim, "carol")
        .into_iter()
        .find(|a| a["release_id"] == waiting["release_id"] && a["stage"] == "Production")
        .expect("the redeploy's Production approval is pending");
    let requester = item["requested_by"].as_str().unwrap_or_default();
    if group.is_some() {
        // Classic: the redeploy's requester is whoever redeployed.
        assert!(requester.starts_with("erin"), "{item}");
    }
    // YAML: relcon names the run's requester (Runs - Get has no word on who re-ran a stage);
    // DevOps blocks both it and erin, so neither approves here (docs/AZURE.md). DevOps'
    // `blockedApprovers` says so, and relcon shows it and refuses erin before sending.
    if group.is_none() {
        let own = approvals(&sim, "erin")
            .into_iter()
            .find(|a| a["release_id"] == waiting["release_id"] && a["stage"] == "Production")
            .expect("erin sees the re-run's approval");
        let barred = own["platform"]["blocked_approvers"].to_string();
        assert!(barred.contains("erin@"), "{own}");
        assert_eq!(own["policy"]["allowed"], false, "{own}");
        assert!(
            own["policy"]["reasons"]
                .to_string()
                .contains("Azure DevOps bars you"),
            "{own}"
        );
    }
    let approvers: Vec<&str> = ["carol", "dave", "bob", "alice"]
        .into_iter()
        .filter(|who| !requester.starts_with(who))
        .take(2)
        .collect();
    // Classic lists a record per approver; a YAML approval is one id with a step for each.
    let ids = item["approval_ids"].as_array().cloned().unwrap_or_default();
    for (n, who) in approvers.into_iter().enumerate() {
        let id = id_text(ids.get(n).or(ids.first()).unwrap_or(&Value::Null));
        let (code, out) = sim.json(who, &["approve", &id, "--comment", "rollback approved"]);
        assert_eq!(code, 0, "{who}: {out}");
    }
    let out = run.wait_with_output().unwrap();
    let done = ok_json(&out);
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert!(done["operation"]["waiting"].is_null(), "{done}");
}

/// The simulator's count of one route (`/_sim/stats`).
fn route_count(sim: &Sim, route: &str) -> u64 {
    sim.get("/_sim/stats")["by_route"][route]
        .as_u64()
        .unwrap_or(0)
}

/// Rollback runs queued (Runs - Run Pipeline).
const RUNS_QUEUED: &str = "POST devops/yaml.runs";

/// Once `requester`'s journal names the rollback run its pipeline rollback queued and the
/// approvals list shows that run's approval, `approver` approves it. Returns the journaled
/// operation as it was when it said what it waits for.
fn approve_the_rollback_run(sim: &Sim, requester: &str, approver: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    let (op, item) = loop {
        let op = journal(sim, requester)
            .into_iter()
            .find(|op| op["rollback_run"].is_u64() && op["waiting"].is_string());
        if let Some(op) = op {
            let item = approvals(sim, approver)
                .into_iter()
                .find(|a| a["release_id"] == op["rollback_run"] && a["stage"] == "Production");
            if let Some(item) = item {
                break (op, item);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the rollback run's approval never showed: {:?}",
            journal(sim, requester)
        );
        std::thread::yield_now();
    };
    assert!(
        item["requested_by"]
            .as_str()
            .is_some_and(|r| r.starts_with(requester)),
        "{item}"
    );
    let id = id_text(&item["approval_ids"][0]);
    let (code, out) = sim.json(
        approver,
        &["approve", &id, "--comment", "rollback approved"],
    );
    assert_eq!(code, 0, "{out}");
    op
}

/// YAML: the incident circuit rolled back through the seed's rollback pipeline. The plan says
/// what is queued (the port's words, not the classic PATCH), this circuit alone changes; the
/// run waits for its `Production-Rollback-Approval` check, which the approvals list shows and
/// another approver grants; then the deployment is verified at the target.
#[test]
fn yaml_rollback_through_the_rollback_pipeline_waits_for_its_approval_then_verifies() {
    let sim = Sim::start(&["--devops", "yaml", "--speed", "600"]);
    let circuit = sim.incident_circuit();
    let (code, plan) = sim.json(
        "erin",
        &["rollback", &circuit, "--plan", "--method", "pipeline"],
    );
    assert_eq!(code, 0, "{plan}");
    let p = &plan["plan"];
    assert_eq!(p["method"], "pipeline", "{p}");
    let send = p["calls"][1].as_str().unwrap_or_default();
    assert!(
        send.starts_with("POST _apis/pipelines/")
            && send.contains("rollbackType=specific")
            && send.contains(&circuit.replace('/', "_")),
        "{send}"
    );
    assert_eq!(p["blast_radius"].as_array().map(Vec::len), Some(1), "{p}");
    let target = p["to"].as_u64().unwrap();

    let run = sim
        .std_relcon("erin")
        .args([
            "--json", "rollback", &circuit, "--method", "pipeline", "--yes", "--wait", "--reason",
            "incident",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = approve_the_rollback_run(&sim, "erin", "carol");
    let says = waiting["waiting"].as_str().unwrap_or_default();
    assert!(says.contains("rollback run"), "{says}");
    assert_eq!(waiting["state"], "in-progress", "{waiting}");
    let done = ok_json(&run.wait_with_output().unwrap());
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    let (_, shown) = sim.json("erin", &["circuit", &circuit]);
    assert_eq!(shown["circuit"]["versions"]["prod"].as_u64(), Some(target));
    assert_eq!(route_count(&sim, RUNS_QUEUED), 1);
    let (code, verify) = sim.json("erin", &["audit", "verify"]);
    assert_eq!((code, verify["first_bad"].is_null()), (0, true), "{verify}");
}

/// YAML, kill -9 twice: once after the rollback run was queued (the rerun follows it), once
/// between journaling and sending (the rerun finds no run with its parameters and sends once).
/// Never two runs for one rollback.
#[test]
fn yaml_kill_9_mid_pipeline_rollback_then_restart_resumes_to_verified_without_a_second_run() {
    let sim = Sim::start(&["--devops", "yaml", "--speed", "30"]);
    let circuit = rollback_then_kill_9_with(&sim, "erin", &["--method", "pipeline"]);
    assert_eq!(route_count(&sim, RUNS_QUEUED), 1);
    let rerun = sim
        .std_relcon("erin")
        .args([
            "--json", "rollback", &circuit, "--method", "pipeline", "--yes", "--wait",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    approve_the_rollback_run(&sim, "erin", "carol");
    let done = ok_json(&rerun.wait_with_output().unwrap());
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert_eq!(route_count(&sim, RUNS_QUEUED), 1, "never queued twice");
    let (_, ops) = sim.json("erin", &["ops"]);
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);

    // Journaled, killed before sending: nothing queued; the rerun sends it once.
    let sim = Sim::start(&["--devops", "yaml", "--speed", "30"]);
    let args = [
        "rollback", &circuit, "--method", "pipeline", "--yes", "--reason", "incident",
    ];
    support::kill_9_before_sending(&sim, "erin", &args);
    assert_eq!(route_count(&sim, RUNS_QUEUED), 0);
    let (code, sent) = sim.json("erin", &args);
    assert_eq!(code, 0, "{sent}");
    assert_eq!(route_count(&sim, RUNS_QUEUED), 1);
    let (code, again) = sim.json("erin", &args);
    assert_eq!(code, 0, "{again}");
    assert_eq!(route_count(&sim, RUNS_QUEUED), 1, "never queued twice");
}
