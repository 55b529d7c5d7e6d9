//! Record, then act, against a simulator process and the real binary: an audit log that is
//! corrupt or cannot be written refuses every mutation (approve, reject, rollback, environment
//! rollback; the console's runtime too) with exit 4 and how to repair it, and nothing reaches
//! the service; a rollback journaled but stopped before sending (`kill -9` at that moment, via
//! the documented test hook) is sent exactly once by a rerun, after a re-read; one that had
//! gone out is not sent again; a rerun while one is in flight shows that one, not a new plan.

use crate::support;

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use relcon::audit::{AuditLog, Record};
use serde_json::Value;
use support::{SimServe as Sim, journal};

/// Requests that change something (PATCH, PUT, DELETE) the simulator has answered so far.
fn mutations(sim: &Sim) -> u64 {
    sim.get("/_sim/stats")["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| {
            route.starts_with("PATCH ") || route.starts_with("PUT ") || route.starts_with("DELETE ")
        })
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

#[derive(Clone, Copy, Debug)]
enum Broken {
    /// One sound entry, then a torn line (a crash mid-write, or an edit).
    Corrupt,
    /// A directory where the log should be: not writable by anyone, root included.
    Unwritable,
}

fn break_log(sim: &Sim, who: &str, how: Broken) {
    let dir = sim.state(who);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    match how {
        Broken::Corrupt => {
            AuditLog::new(&path)
                .append(Record {
                    actor: who.into(),
                    action: "approve".into(),
                    result: "succeeded".into(),
                    ..Record::default()
                })
                .unwrap();
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str("{\"seq\":2,\"time\":\"2026-11-2\n");
            std::fs::write(&path, text).unwrap();
        }
        Broken::Unwritable => std::fs::create_dir_all(&path).unwrap(),
    }
}

/// Exit 4, and a message that says the audit log is why and how to repair it.
fn assert_refused(what: &str, how: Broken, out: &Output) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(4), "{what} ({how:?}): {text}");
    assert!(
        text.contains("not sent: the audit log cannot record it"),
        "{what} ({how:?}): {text}"
    );
    match how {
        Broken::Corrupt => assert!(
            text.contains("line 2") && text.contains("relcon audit verify"),
            "{what}: the line and the repair: {text}"
        ),
        Broken::Unwritable => assert!(text.contains("writable"), "{what}: {text}"),
    }
}

fn pending(sim: &Sim, who: &str) -> Vec<Value> {
    let (code, v) = sim.json(who, &["approvals"]);
    assert_eq!(code, 0, "{v}");
    v["approvals"].as_array().unwrap().clone()
}

#[test]
fn a_corrupt_or_unwritable_audit_log_refuses_every_change_and_nothing_is_sent() {
    let sim = Sim::start(&[]);
    let circuit = sim.incident_circuit();
    let mut decided = Vec::new();
    for (who, how) in [("carol", Broken::Corrupt), ("dave", Broken::Unwritable)] {
        // Approvals policy lets `who` decide: only the audit log stands in the way.
        let registry: Vec<String> = pending(&sim, who)
            .into_iter()
            .filter(|a| a["stage"] == "Registry" && a["policy"]["allowed"] == true)
            .map(|a| a["approval_ids"][0].to_string())
            .collect();
        assert!(registry.len() >= 2, "{who}: {registry:?}");
        decided.extend(registry[..2].iter().cloned());
        break_log(&sim, who, how);
        let runs: [(&str, Vec<&str>); 3] = [
            (
                "approve",
                vec!["approve", &registry[0], "-m", "notebook reviewed"],
            ),
            ("reject", vec!["reject", &registry[1], "-m", "wrong cutoff"]),
            (
                "rollback",
                vec!["rollback", &circuit, "--yes", "--reason", "MAE alert"],
            ),
        ];
        for (what, args) in runs {
            let before = mutations(&sim);
            let out = sim.relcon(who).args(&args).output().unwrap();
            assert_refused(what, how, &out);
            assert_eq!(
                mutations(&sim),
                before,
                "{what} ({how:?}) reached the service"
            );
            // The same in JSON mode.
            let out = sim.relcon(who).arg("--json").args(&args).output().unwrap();
            assert_eq!(out.status.code(), Some(4), "{what} --json ({how:?})");
            assert_eq!(mutations(&sim), before);
        }
        // What was journaled is closed as not sent, with the reason.
        let ops = journal(&sim, who);
        assert!(!ops.is_empty());
        for op in &ops {
            assert_eq!(op["state"], "not-sent", "{op}");
            assert!(
                op["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("audit log")),
                "{op}"
            );
        }
    }
    // `audit verify` names the line the refusal pointed at.
    sim.relcon("carol")
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("audit.jsonl:2:"));
    // The approvals are still pending: nothing was decided off the record.
    let still: Vec<String> = pending(&sim, "dave")
        .iter()
        .flat_map(|a| a["approval_ids"].as_array().unwrap().clone())
        .map(|i| i.to_string())
        .collect();
    assert!(decided.iter().all(|id| still.contains(id)), "{decided:?}");
}

#[test]
fn an_environment_rollback_is_refused_too_when_the_audit_log_is_broken() {
    let sim = Sim::start(&["--speed", "600"]);
    let ids: Vec<String> = sim.environment_approval("bob")["approval_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.to_string())
        .collect();
    sim.approve_environment_release_with_break_glass(&ids);
    sim.advance(1800);
    let (code, plan) = sim.json("erin", &["rollback", "--environment", "--plan"]);
    assert_eq!(code, 0, "{plan}");
    for (who, how) in [("erin", Broken::Corrupt), ("frank", Broken::Unwritable)] {
        break_log(&sim, who, how);
        let before = mutations(&sim);
        let out = sim
            .relcon(who)
            .args(["rollback", "--environment", "--yes"])
            .output()
            .unwrap();
        assert_refused("rollback --environment", how, &out);
        assert_eq!(mutations(&sim), before, "{how:?}: a deployment was changed");
    }
}

/// Start `relcon rollback CIRCUIT --yes` as `who` with the pause-before-send test hook, wait
/// until it has journaled the operation and stopped right before sending, and `kill -9` it.
fn journal_then_kill_9_before_sending(sim: &Sim, who: &str, circuit: &str) -> Value {
    support::kill_9_before_sending(
        sim,
        who,
        &["rollback", circuit, "--yes", "--reason", "incident"],
    );
    let ops = journal(sim, who);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(ops[0]["state"], "submitting", "{}", ops[0]);
    ops[0].clone()
}

fn audit_results(sim: &Sim, who: &str) -> Vec<String> {
    let (_, shown) = sim.json(who, &["audit", "show"]);
    shown["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["result"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rollback_stopped_between_journal_and_send_is_sent_once_by_the_rerun() {
    let sim = Sim::start(&["--speed", "600"]);
    let circuit = sim.incident_circuit();
    let op = journal_then_kill_9_before_sending(&sim, "erin", &circuit);
    assert_eq!(mutations(&sim), 0, "stopped before sending");
    assert_eq!(audit_results(&sim, "erin"), ["sending"], "recorded first");

    // Without --yes the rerun shows the operation and says what --yes would do.
    let out = sim
        .relcon("erin")
        .args(["rollback", &circuit])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("Rollback already in flight"), "{text}");
    assert!(text.contains(op["id"].as_str().unwrap()), "{text}");
    assert!(!text.contains("Rollback plan for"), "no new plan: {text}");
    assert_eq!(mutations(&sim), 0);

    let out = sim
        .relcon("erin")
        .args(["rollback", &circuit, "--yes", "--wait"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "operation {} (rollback {circuit}) was journaled but not sent (relcon stopped before \
             sending it); sent it now, once",
            op["id"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(text.contains("verified restore"), "{text}");
    assert_eq!(mutations(&sim), 1, "sent exactly once");
    let ops = journal(&sim, "erin");
    assert_eq!(ops.len(), 1, "the same operation, not a second one");
    assert_eq!(ops[0]["id"], op["id"]);
    assert_eq!(ops[0]["state"], "verified");
    let results = audit_results(&sim, "erin");
    // Then the watch of the restored circuit begins ([incidents] watch_minutes).
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(results[0], "sending");
    assert!(
        results[1].starts_with("sending (journaled earlier"),
        "{results:?}"
    );
    assert_eq!(results[2], "submitted");
    assert!(results[3].starts_with("verified"), "{results:?}");
    assert!(results[4].starts_with("watching for 60 min"), "{results:?}");
}

#[test]
fn a_rollback_that_went_out_just_before_the_stop_is_not_sent_again() {
    let sim = Sim::start(&["--speed", "600"]);
    let circuit = sim.incident_circuit();
    let op = journal_then_kill_9_before_sending(&sim, "erin", &circuit);
    // The ambiguous case: the request reached the service, the answer never reached the
    // journal. Here the redeploy is sent by hand, as relcon would have.
    let settings =
        relcon::settings::Settings::parse(&std::fs::read_to_string(sim.config()).unwrap(), "sim")
            .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let backend = relcon::azure::AzureBackend::new(
            &settings,
            relcon::azure::ClientOptions {
                identity_override: Some("erin".into()),
                ..Default::default()
            },
        )
        .unwrap();
        relcon::service::backend::Backend::rerun_stage(
            &backend,
            op["release_id"].as_u64().unwrap() as u32,
            &(op["environment_id"].as_u64().unwrap() as u32).into(),
            "sent before the stop",
        )
        .await
        .unwrap();
    });
    assert_eq!(mutations(&sim), 1);
    let (code, done) = sim.json("erin", &["rollback", &circuit, "--yes", "--wait"]);
    assert_eq!(code, 0, "{done}");
    assert!(
        done["rerun"]
            .as_str()
            .is_some_and(|r| r.contains("had reached the service before relcon stopped")),
        "{done}"
    );
    assert_eq!(done["operation"]["state"], "verified", "{done}");
    assert_eq!(mutations(&sim), 1, "re-read first, never sent twice");
}

#[test]
fn a_rerun_while_one_is_in_flight_shows_that_one_not_a_new_plan() {
    // Deployments take ten simulated minutes at speed 1: the rollback stays in flight.
    let sim = Sim::start(&["--speed", "1"]);
    let circuit = sim.incident_circuit();
    let (code, first) = sim.json("dave", &["rollback", &circuit, "--yes", "--reason", "MAE"]);
    assert_eq!(code, 0, "{first}");
    let id = first["operation"]["id"].as_str().unwrap().to_owned();
    let to = first["operation"]["to"].as_u64().unwrap();
    assert_eq!(mutations(&sim), 1);

    let out = sim
        .relcon("dave")
        .args(["rollback", &circuit])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Rollback already in flight"), "{text}");
    assert!(text.contains(&id), "its id: {text}");
    assert!(text.contains(&format!("-> v{to}")), "its target: {text}");
    assert!(text.contains("SLA"), "its SLA: {text}");
    assert!(!text.contains("Rollback plan for"), "no new plan: {text}");

    let (code, plan) = sim.json("dave", &["rollback", &circuit, "--plan"]);
    assert_eq!(code, 0);
    assert_eq!(plan["operation"]["id"], id.as_str(), "{plan}");

    // Asking for another target is refused, naming the one in flight.
    let out = sim
        .relcon("dave")
        .args([
            "rollback",
            &circuit,
            "--to",
            &(to + 100).to_string(),
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&id));

    let out = sim
        .relcon("dave")
        .args(["rollback", &circuit, "--yes"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("is already in flight"), "{text}");
    assert_eq!(mutations(&sim), 1, "followed, not sent again");
    assert_eq!(journal(&sim, "dave").len(), 1);
}

/// The console's runtime over the same service: a decision and a rollback from the console
/// are refused the same way when the audit log cannot record them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_refused_the_same_way() {
    use relcon::azure::{AzureBackend, ClientOptions};
    use relcon::service::decide::{DecisionOutcome, DecisionRequest, Verdict};
    use relcon::service::rollback::{ExecuteError, RollbackFailure, RollbackRequest};
    use relcon::service::session::{CacheChoice, OpenOptions, Session};
    use relcon::tui::action::ApprovalKey;
    use relcon::tui::runtime::{Executor, Runtime};
    use relcon::tui::{Effect, Msg};

    let sim = relcon::sim::start(relcon::sim::SimOptions {
        start: Some(relcon::domain::clock::pinned_start()),
        ..Default::default()
    })
    .await
    .unwrap();
    let settings = sim.settings();
    let backend = AzureBackend::new(
        &settings,
        ClientOptions {
            identity_override: Some("carol".into()),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::create_dir(state.path().join("audit.jsonl")).unwrap();
    let session = Session::open(
        &settings,
        Arc::new(backend),
        OpenOptions {
            cache: CacheChoice::Disabled,
            state_dir: Some(state.path().to_path_buf()),
            clock: Some(sim.clock()),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let snapshot = Arc::new(session.refresh().await);
    let item = snapshot
        .approvals
        .iter()
        .find(|a| a.stage == relcon::domain::Stage::Registry)
        .unwrap()
        .clone();
    let plan = relcon::service::rollback::plan(
        &session,
        &snapshot,
        &RollbackRequest {
            circuit: sim.scenario().incident_circuit.parse().unwrap(),
            target: relcon::domain::rollback::TargetChoice::LastGood,
            method: None,
        },
    )
    .await
    .unwrap();
    let before = sim.stats().by_route.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut rt = Runtime::new(session, tx);
    rt.execute(Effect::Decide {
        generation: 1,
        items: vec![(
            ApprovalKey {
                release_id: item.release_id,
                stage: item.stage,
            },
            DecisionRequest {
                approval_id: item.pending_ids[0].clone(),
                verdict: Verdict::Approve,
                comment: "notebook reviewed".into(),
                override_reason: None,
            },
        )],
        snapshot: snapshot.clone(),
    });
    rt.execute(Effect::ExecuteRollback {
        generation: 2,
        plan: Box::new(plan),
        reason: Some("MAE alert".into()),
    });
    let (mut decided, mut executed) = (false, false);
    while !(decided && executed) {
        let msg = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("an answer from the runtime")
            .expect("the runtime is alive");
        match msg {
            Msg::Decision { outcome, .. } => {
                assert!(
                    matches!(&*outcome, DecisionOutcome::Failed { message, .. }
                        if message.contains("not sent: the audit log cannot record it")),
                    "{outcome:?}"
                );
                decided = true;
            }
            Msg::Executed { result, .. } => {
                assert!(
                    matches!(&result, Err(ExecuteError::Failed(m @ RollbackFailure::NotAudited(_)))
                        if m.to_string().contains("not sent: the audit log cannot record it")),
                    "{result:?}"
                );
                executed = true;
            }
            _ => {}
        }
    }
    let after = sim.stats().by_route;
    let changed = |r: &std::collections::BTreeMap<String, u64>| {
        r.iter()
            .filter(|(k, _)| k.starts_with("PATCH ") || k.starts_with("PUT "))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    assert_eq!(
        changed(&after),
        changed(&before),
        "nothing reached the service"
    );
}
