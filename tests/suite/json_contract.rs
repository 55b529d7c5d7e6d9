//! The JSON contract (docs/JSON.md, docs/schemas/): every `--json` output of the real binary,
//! against `relcon sim serve` on the pinned clock, offline, and with services that fail, is
//! one document that its published schema accepts (closed: no undocumented field), carrying
//! `schema_version`; and a command that could not read what it reports exits 4, JSON mode
//! included, with the errors in the document.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use serde_json::Value;
use support::{Contract, SimServe, document, relcon_in};

/// `relcon ARGS` as bob on `sim` with `config`, in JSON mode or not.
fn bob_with(
    sim: &SimServe,
    config: &std::path::Path,
    json: bool,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = sim.relcon_with(config, "bob");
    if json {
        cmd.arg("--json");
    }
    cmd.args(args).output().unwrap()
}

/// A loopback port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The simulator's configuration with the services whose endpoint key starts with one of
/// `keys` pointed at a closed port.
fn config_with_closed(sim: &SimServe, keys: &[&str], name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(sim.config()).unwrap();
    let port = closed_port();
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if keys.iter().any(|k| l.trim_start().starts_with(k)) {
                l.replace(sim.base.as_str(), &format!("http://127.0.0.1:{port}"))
            } else {
                l.to_owned()
            }
        })
        .collect();
    let path = sim.dir.path().join(name);
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    path
}

/// The simulator's configuration with every service (ARM, DevOps, releases, Log Analytics)
/// at a closed port.
fn all_down(sim: &SimServe) -> std::path::PathBuf {
    config_with_closed(
        sim,
        &["arm_endpoint", "endpoint", "release_endpoint"],
        "down.toml",
    )
}

#[test]
fn every_command_prints_one_document_its_schema_accepts() {
    // `sim.json` checks each document against its schema.
    let sim = SimServe::start(&["--speed", "600"]);
    let scenario = sim.get_as("bob", "/_sim/scenario");
    let incident = scenario["incident_circuit"].as_str().unwrap().to_owned();

    let (code, fleet) = sim.json("bob", &["fleet"]);
    assert_eq!(code, 0);
    assert_eq!(fleet["complete"], true);
    assert_eq!(fleet["errors"], serde_json::json!([]));
    // A circuit with a candidate beyond Prod (its config comparison), and the incident.
    let candidate = fleet["plants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let plant = p["plant_id"].as_str().unwrap().to_owned();
            p["circuits"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |x| (plant.clone(), x.clone()))
        })
        .find(|(_, x)| {
            x["versions"]["test"] != x["versions"]["prod"] && !x["versions"]["test"].is_null()
        })
        .map(|(p, x)| format!("{p}/{}", x["circuit_id"].as_str().unwrap()))
        .expect("a circuit whose Test runs another version than Prod");
    for circuit in [candidate.as_str(), incident.as_str()] {
        let (code, doc) = sim.json("bob", &["circuit", circuit]);
        assert_eq!(code, 0, "{doc}");
        assert_eq!(doc["complete"], true);
    }
    // Where the incident started: its alerts (the most severe first) and a failed nightly job.
    let (code, alerts) = sim.json("bob", &["alerts"]);
    assert_eq!(
        (code, alerts["complete"].as_bool()),
        (0, Some(true)),
        "{alerts}"
    );
    assert_eq!(alerts["alerts"][0]["circuit"], incident.as_str());
    assert_eq!(alerts["alerts"][0]["severity"], "Sev1");
    assert_eq!(alerts["unmapped"], 1);
    let failing = scenario["failing_job_circuit"].as_str().unwrap();
    let (code, jobs) = sim.json("bob", &["jobs", failing]);
    assert_eq!(
        (code, jobs["complete"].as_bool()),
        (0, Some(true)),
        "{jobs}"
    );
    assert_eq!(jobs["prod"]["status"], "alert");
    assert_eq!(jobs["prod"]["jobs"][0]["outcome"], "failed");
    assert!(
        jobs["prod"]["jobs"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("FileNotFoundError")),
        "{jobs}"
    );
    // A circuit without a deployment: a usage error, said as such.
    let (code, none) = sim.json("bob", &["jobs", "PLANT999/CIRCUIT99"]);
    assert_eq!((code, none["exit_code"].as_u64()), (2, Some(2)), "{none}");
    let (code, approvals) = sim.json("bob", &["approvals"]);
    assert_eq!(code, 0);
    let items = approvals["approvals"].as_array().unwrap();
    let allowed = items
        .iter()
        .find(|a| a["policy"]["allowed"] == true)
        .expect("something bob may approve");
    let own = items
        .iter()
        .find(|a| {
            a["requested_by"]
                .as_str()
                .is_some_and(|r| r.starts_with("bob"))
        })
        .expect("something bob requested");
    let id = |a: &Value| a["approval_ids"][0].as_u64().unwrap().to_string();
    // Done and refused in one run (exit 1, the highest).
    let (code, _) = sim.json(
        "bob",
        &["approve", &id(allowed), &id(own), "--comment", "contract"],
    );
    assert_eq!(code, 1);
    let registry = items
        .iter()
        .find(|a| a["stage"] == "Registry" && a["policy"]["allowed"] == true)
        .expect("a Registry approval");
    let (code, _) = sim.json("carol", &["reject", &id(registry), "--comment", "no"]);
    assert_eq!(code, 0);
    let (code, plan) = sim.json("erin", &["rollback", &incident, "--plan"]);
    assert_eq!((code, plan["kind"].as_str()), (0, Some("plan")));
    // Nothing to roll back for the environment: the error document, exit 1.
    let (code, env) = sim.json("erin", &["rollback", "--environment", "--plan"]);
    assert_eq!((code, env["exit_code"].as_u64()), (1, Some(1)), "{env}");
    let (code, done) = sim.json(
        "erin",
        &[
            "rollback", &incident, "--yes", "--wait", "--reason", "contract",
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["operation"]["state"], "verified");
    let (code, ops) = sim.json("erin", &["ops"]);
    assert_eq!((code, ops["complete"].as_bool()), (0, Some(true)));
    assert!(!ops["operations"].as_array().unwrap().is_empty());
    for who in ["bob", "erin"] {
        let (code, audit) = sim.json(who, &["audit", "show"]);
        assert_eq!(code, 0);
        assert!(!audit["entries"].as_array().unwrap().is_empty(), "{audit}");
        let (code, verify) = sim.json(who, &["audit", "verify"]);
        assert_eq!((code, verify["intact"].as_bool()), (0, Some(true)));
    }
    // An alert acknowledged by the start of its GUID, in JSON; again: nothing to do.
    let guid = alerts["alerts"][1]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (code, ack) = sim.json("carol", &["alert", "ack", &guid[..8], "-m", "contract"]);
    assert_eq!(
        (code, ack["result"]["outcome"].as_str()),
        (0, Some("done")),
        "{ack}"
    );
    let (code, again) = sim.json("carol", &["alert", "ack", &guid]);
    assert_eq!(
        (code, again["result"]["outcome"].as_str()),
        (0, Some("unchanged")),
        "{again}"
    );
    // Read-only: refused, exit 1, still a document.
    let (code, refused) = sim.json("carol", &["--read-only", "alert", "close", &guid]);
    assert_eq!(
        (code, refused["result"]["refused_by"].as_str()),
        (1, Some("policy")),
        "{refused}"
    );
    // An id that names no alert (no GUID starts with it, or Azure answers 404): exit 2, nothing
    // sent, still a document.
    let missing = alerts["alerts"][1]["id"]
        .as_str()
        .unwrap()
        .replace(&guid, "00000000-0000-4000-8000-000000000000");
    for id in ["zzzz", missing.as_str()] {
        let (code, invalid) = sim.json("carol", &["alert", "close", id]);
        assert_eq!(
            (code, invalid["result"]["outcome"].as_str()),
            (2, Some("invalid")),
            "{invalid}"
        );
    }
    let (code, doctor) = sim.json("bob", &["doctor"]);
    assert_eq!((code, doctor["ok"].as_bool()), (0, Some(true)), "{doctor}");
}

#[test]
fn config_tools_and_failures_before_any_command_have_documents_too() {
    let c = Contract::load();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = relcon_in(dir.path())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        let doc = document(&out);
        c.assert_valid(&doc);
        (out.status.code().unwrap_or(-1), doc)
    };
    let (code, hash) = run(&[
        "hash",
        "configs/examples/PLANT001_CIRCUIT01.prod.yaml",
        "tests/data/invalid_fleets/missing-cutoff.yaml",
        "tests/data/invalid_fleets/invalid-yaml.yaml",
    ]);
    assert_eq!(code, 2, "an unparsable file: {hash}");
    assert_eq!(hash["configs"].as_array().unwrap().len(), 2);
    assert_eq!(hash["errors"].as_array().unwrap().len(), 1);
    let (code, _) = run(&[
        "diff",
        "configs/examples/PLANT001_CIRCUIT01.prod.yaml",
        "configs/examples/PLANT001_CIRCUIT01.candidate.yaml",
    ]);
    assert_eq!(code, 1);
    let (code, check) = run(&["configs", "check", "tests/data/invalid_fleets"]);
    assert_eq!((code, check["clean"].as_bool()), (1, Some(false)));
    let (code, _) = run(&["configs", "check"]);
    assert_eq!(code, 0);
    // Failures before a command has a document: the error shape, with the exit status.
    for (args, want) in [
        (&["circuit"][..], 2),
        (&["circuit", "PLANT1/X"][..], 2),
        (&["--config", "no/such.toml", "fleet"][..], 2),
        (
            &[
                "diff",
                "no/such.yaml",
                "configs/examples/PLANT001_CIRCUIT01.prod.yaml",
            ][..],
            2,
        ),
        (&["configs", "check", "no/such/dir"][..], 2),
    ] {
        let (code, doc) = run(args);
        assert_eq!(code, want, "{args:?}: {doc}");
        assert_eq!(doc["exit_code"], want, "{args:?}: {doc}");
        assert!(
            doc["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{doc}"
        );
    }
}

#[test]
fn sim_serve_json_prints_its_banner_as_the_first_line() {
    let c = Contract::load();
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("relcon"))
        .args(["--json", "sim", "serve", "--addr", "127.0.0.1:0"])
        .env(relcon::service::clock::CLOCK_START_ENV, support::pinned())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let doc: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first:?}"));
    c.assert_valid(&doc);
    assert!(
        doc["base_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    // The simulated clock starts at the pinned instant and runs from there: the banner's now
    // is that instant, or a moment after it on a loaded machine (never the machine's date).
    let now = chrono::DateTime::parse_from_rfc3339(doc["now"].as_str().unwrap()).unwrap();
    let start = relcon::domain::clock::pinned_start();
    assert!(
        now >= start && now < start + chrono::Duration::hours(1),
        "{now} is not the pinned start or just after it"
    );
}

/// Every service unreachable: each read command exits 4, in text and JSON, with the errors;
/// nothing is presented as complete, and `circuit` cannot say a circuit is not there.
#[test]
fn nothing_readable_exits_4_with_the_errors() {
    let c = Contract::load();
    let sim = SimServe::start(&[]);
    let down = all_down(&sim);
    let relcon = |json: bool, args: &[&str]| bob_with(&sim, &down, json, args);
    for args in [
        &["fleet"][..],
        &["approvals"][..],
        &["circuit", "PLANT001/CIRCUIT01"][..],
        &["alerts"][..],
        &["jobs", "PLANT001/CIRCUIT01"][..],
    ] {
        let out = relcon(true, args);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        let doc = document(&out);
        c.assert_valid(&doc);
        assert!(
            !doc["errors"].as_array().unwrap().is_empty(),
            "{args:?}: {doc}"
        );
        assert_ne!(doc["complete"], true, "{args:?}: {doc}");
        let text = relcon(false, args);
        assert_eq!(text.status.code(), Some(4), "{args:?} (text)");
        let err = String::from_utf8_lossy(&text.stderr);
        assert!(
            err.contains("could not read") || err.contains("cannot tell"),
            "{err}"
        );
        assert!(!err.contains("not in the fleet"), "{err}");
    }
    let out = relcon(true, &["doctor"]);
    assert_eq!(out.status.code(), Some(4));
    let doc = document(&out);
    c.assert_valid(&doc);
    assert_eq!(doc["ok"], false);
    // Deciding needs to know what is pending: exit 4, not "not a pending approval" (1).
    let out = relcon(true, &["approve", "5001", "--comment", "x"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    c.assert_valid(&document(&out));
}

/// Only Log Analytics down: the fleet shows, but drift, accuracy and validation are missing,
/// so the snapshot is partial: `complete: false`, the query errors, exit 4, in both modes.
#[test]
fn a_partial_snapshot_is_reported_as_partial_and_exits_4() {
    let c = Contract::load();
    let sim = SimServe::start(&[]);
    let text = std::fs::read_to_string(sim.config()).unwrap();
    // The [monitor] endpoint is the one under /la.
    let port = closed_port();
    let partial = sim.dir.path().join("partial.toml");
    std::fs::write(
        &partial,
        text.replace(
            &format!("{}/la", sim.base),
            &format!("http://127.0.0.1:{port}/la"),
        ),
    )
    .unwrap();
    let relcon = |json: bool, args: &[&str]| bob_with(&sim, &partial, json, args);
    let out = relcon(true, &["fleet"]);
    assert_eq!(out.status.code(), Some(4));
    let doc = document(&out);
    c.assert_valid(&doc);
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["stale"], false);
    assert_eq!(
        doc["plants"].as_array().unwrap().len(),
        17,
        "the rest still shows"
    );
    let scopes: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["scope"].as_str())
        .collect();
    for q in ["drift query", "accuracy query", "validation query"] {
        assert!(scopes.contains(&q), "{scopes:?}");
    }
    let out = relcon(false, &["fleet"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partial: 3 reads failed"));
    for args in [&["circuit", "PLANT001/CIRCUIT01"][..], &["approvals"][..]] {
        let out = relcon(true, args);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        let doc = document(&out);
        c.assert_valid(&doc);
        assert_eq!(doc["complete"], false, "{args:?}");
    }
    let out = relcon(true, &["rollback", "PLANT001/CIRCUIT01", "--plan"]);
    let doc = document(&out);
    c.assert_valid(&doc);
    assert_eq!(out.status.code(), Some(4), "{doc}");
}

/// With the cache on, a fleet that cannot be read shows the last snapshot, marked stale: not
/// complete, exit 4, in both modes. (The failed refresh must not have overwritten the cache:
/// only complete snapshots are cached.)
#[test]
fn a_stale_snapshot_is_never_complete() {
    let c = Contract::load();
    let sim = SimServe::start(&[]);
    let down = all_down(&sim);
    let cached = |config: &std::path::Path, json: bool| {
        let mut cmd = relcon_in(sim.dir.path());
        cmd.arg("--config").arg(config).args(["--as", "bob"]);
        cmd.arg("--state-dir").arg(sim.state("bob"));
        if json {
            cmd.arg("--json");
        }
        cmd.arg("fleet").output().unwrap()
    };
    let first = cached(&sim.config(), true);
    assert_eq!(first.status.code(), Some(0));
    // Same backend (the cache key is the subscription, workspace and project), now unreachable.
    let out = cached(&down, true);
    assert_eq!(out.status.code(), Some(4));
    let doc = document(&out);
    c.assert_valid(&doc);
    assert_eq!(
        (doc["stale"].as_bool(), doc["complete"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(doc["plants"].as_array().unwrap().len(), 17);
    assert!(!doc["errors"].as_array().unwrap().is_empty());
    let text = cached(&down, false);
    assert_eq!(text.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&text.stderr).contains("cached snapshot"));
}

/// The check itself can fail: an undocumented field, at the top or nested, a missing required
/// one, or another schema version are each rejected.
#[test]
fn the_contract_check_rejects_what_the_schema_does_not_document() {
    let c = Contract::load();
    let dir = tempfile::tempdir().unwrap();
    let out = relcon_in(dir.path())
        .args([
            "--json",
            "hash",
            "configs/examples/PLANT001_CIRCUIT01.prod.yaml",
        ])
        .output()
        .unwrap();
    let doc = document(&out);
    c.assert_valid(&doc);
    let mut top = doc.clone();
    top["surprise"] = Value::from(1);
    let mut nested = doc.clone();
    nested["configs"][0]["surprise"] = Value::from(1);
    let mut missing = doc.clone();
    missing["configs"][0]
        .as_object_mut()
        .unwrap()
        .remove("missing_fields");
    let mut version = doc.clone();
    version["schema_version"] = Value::from(2);
    for (what, bad) in [
        ("top", top),
        ("nested", nested),
        ("missing", missing),
        ("version", version),
    ] {
        let e = c.check(&bad).expect_err(what);
        assert!(e.contains("hash.schema.json"), "{what}: {e}");
    }
}

/// The outcomes only a race produces: two operators approve the same approval at once, in
/// JSON; one is done, the other a conflict naming who decided, both as the schema says.
#[test]
fn a_conflict_outcome_keeps_the_contract() {
    let c = Contract::load();
    let sim = SimServe::start(&[]);
    let (_, approvals) = sim.json("bob", &["approvals"]);
    let item = approvals["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["stage"] == "Production"
                && a["approvals"] == 0
                && a["policy"]["allowed"] == true
                && !a["requested_by"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("carol")
        })
        .cloned()
        .expect("a Production approval bob and carol may approve");
    let id = item["approval_ids"][0].as_u64().unwrap().to_string();
    let spawn = |who: &str| {
        sim.std_relcon(who)
            .args(["--json", "approve", &id, "--comment", "race"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("bob"), spawn("carol"));
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut outcomes: Vec<(i32, String)> = outs
        .iter()
        .map(|o| {
            let doc = document(o);
            c.assert_valid(&doc);
            (
                o.status.code().unwrap_or(-1),
                doc["results"][0]["outcome"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [(0, "done".to_owned()), (3, "conflict".to_owned())]
    );
}
