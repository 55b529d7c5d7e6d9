//! The journal's tests: each mutation kind round-trips, states only move forward, an old
//! journal (u32 ids, no watch) still reads.

use super::*;

fn t0() -> DateTime<Utc> {
    crate::domain::clock::pinned_start()
}

fn rollback() -> Operation {
    Operation::new(
        OpKind::Rollback {
            circuit: "PLANT007/CIRCUIT03".parse().unwrap(),
            method: RollbackMethod::Redeploy,
            from: Some(ModelVersion(6)),
            to: ModelVersion(4),
            endpoint: "batch-endpoint-plant007".into(),
            deployment: "deployment-circuit03".into(),
            release_id: Some(40),
            environment_id: Some(403.into()),
            attempts_before: Some(1),
            rollback_run: None,
        },
        "bob@contoso.com",
        Some(15),
        Some("MAE alert".into()),
        t0(),
    )
}

/// A user upgrading mid-operation: an unfinished redeploy and an approval journaled by
/// the release that held classic `u32` ids are found, read with the same ids, and written
/// back as they were; a YAML operation's GUID and stage reference round-trip as text.
#[test]
fn journals_written_with_u32_ids_resume_and_yaml_ids_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let old_rollback = r#"{"id":"20261126T080000000Z-00aa","kind":"rollback",
        "circuit":"PLANT007/CIRCUIT03","method":"redeploy","from":6,"to":4,
        "endpoint":"batch-endpoint-plant007","deployment":"deployment-circuit03",
        "release_id":40,"environment_id":403,"attempts_before":1,
        "actor":"bob@contoso.com","requested_at":"2026-11-26T08:00:00Z","sla_minutes":15,
        "state":"submitted","handle":null,"steps":[],"request_ids":["r-1"],
        "reason":"MAE alert","last_error":null,"submitted_at":"2026-11-26T08:00:01Z",
        "completed_at":null,"verified_at":null,"updated_at":"2026-11-26T08:00:01Z"}"#;
    let old_approval = r#"{"id":"20261126T080000000Z-00bb","kind":"approve",
        "approval_id":502,"release_id":41,"environment_id":413,"stage":"prod",
        "actor":"bob@contoso.com","requested_at":"2026-11-26T08:00:00Z","sla_minutes":null,
        "state":"submitting","handle":null,"reason":null,"last_error":null,
        "submitted_at":null,"completed_at":null,"verified_at":null,
        "updated_at":"2026-11-26T08:00:00Z"}"#;
    for (name, text) in [("00aa", old_rollback), ("00bb", old_approval)] {
        let path = dir.path().join(format!("20261126T080000000Z-{name}.json"));
        std::fs::write(path, text).unwrap();
    }
    let j = Journal::new(dir.path());
    let unfinished = j.unfinished();
    assert_eq!(
        unfinished.len(),
        2,
        "both old operations are found to resume"
    );
    let rollback = j.load("20261126T080000000Z-00aa").unwrap();
    let OpKind::Rollback {
        environment_id,
        release_id,
        ..
    } = &rollback.kind
    else {
        panic!("{:?}", rollback.kind)
    };
    assert_eq!(
        (*release_id, environment_id.clone()),
        (Some(40), Some(403.into()))
    );
    assert_eq!(rollback.state, OpState::Submitted);
    let approval = j.load("20261126T080000000Z-00bb").unwrap();
    let OpKind::Approve {
        approval_id,
        environment_id,
        ..
    } = &approval.kind
    else {
        panic!("{:?}", approval.kind)
    };
    assert_eq!(
        (approval_id.clone(), environment_id.clone()),
        (502.into(), 413.into())
    );
    assert_eq!(approval.target(), "approval 502 (release 41, Production)");
    // Written back by this version, the classic ids are the same numbers.
    let back: serde_json::Value = serde_json::to_value(&approval).unwrap();
    assert_eq!(back["approval_id"], serde_json::json!(502));
    assert_eq!(back["environment_id"], serde_json::json!(413));

    let guid = "7f3c1c2e-6a41-4a5e-9f6d-0d9f3b6c2a10";
    let mut yaml = Operation::new(
        OpKind::Approve {
            approval_id: guid.into(),
            release_id: 812,
            environment_id: "812:DeployToProduction".into(),
            stage: Stage::Prod,
        },
        "bob@contoso.com",
        None,
        None,
        t0(),
    );
    j.save(&mut yaml).unwrap();
    let again = Journal::new(dir.path()).load(&yaml.id).unwrap();
    assert_eq!(again, yaml);
    assert!(again.target().starts_with(&format!("approval {guid} ")));
}

#[test]
fn operations_survive_a_restart_and_unfinished_ones_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    let mut a = rollback();
    j.save(&mut a).unwrap();
    let mut b = rollback();
    b.id.push_str("-b");
    b.advance(OpState::Submitted, t0());
    b.advance(OpState::Verified, t0());
    j.save(&mut b).unwrap();
    let again = Journal::new(dir.path());
    assert_eq!(again.load(&a.id), Some(a.clone()));
    let unfinished = again.unfinished();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].id, a.id);
    assert_eq!(again.all().len(), 2);
    assert!(b.time_to_verified().is_some());
}

#[test]
fn only_the_backend_an_operation_was_sent_to_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let azure = Journal::new(dir.path()).scoped("azure:sub:prod:org:proj");
    let mut a = rollback();
    azure.save(&mut a).unwrap();
    assert_eq!(a.backend, "azure:sub:prod:org:proj");
    let mut legacy = rollback();
    legacy.id.push_str("-legacy");
    Journal::new(dir.path()).save(&mut legacy).unwrap();

    let demo = Journal::new(dir.path()).scoped("simulator:embedded-demo");
    let ids = |ops: Vec<Operation>| ops.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(demo.unfinished()), vec![legacy.id.clone()]);
    assert_eq!(ids(demo.elsewhere()), vec![a.id.clone()]);
    let mut both = ids(azure.unfinished());
    both.sort();
    let mut want = vec![a.id.clone(), legacy.id.clone()];
    want.sort();
    assert_eq!(both, want);
    assert!(azure.elsewhere().is_empty());
}

#[test]
fn one_process_at_a_time_may_send_an_operation() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    let mut op = rollback();
    let claim = j.claim(&op.id).unwrap().expect("the first claim");
    assert!(j.claim(&op.id).unwrap().is_none(), "held by the first");
    drop(claim);
    let again = j.claim(&op.id).unwrap().expect("released on drop");
    j.save(&mut op).unwrap();
    drop(again);
    op.advance(OpState::NotSent, t0());
    j.save(&mut op).unwrap();
    assert!(!dir.path().join(format!(".{}.lock", op.id)).exists());
    assert_eq!(j.all().len(), 1, "lock files are not operations");
}

#[cfg(unix)]
#[test]
fn journal_files_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ops");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let old = dir.join("20250101T000000000Z-0001.json");
    let mut legacy = rollback();
    legacy.id = "20250101T000000000Z-0001".into();
    std::fs::write(&old, serde_json::to_vec(&legacy).unwrap()).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let j = Journal::new(&dir);
    let mut op = rollback();
    j.save(&mut op).unwrap();
    let mode = |p: &std::path::Path| crate::private_files::mode(p).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(format!("{}.json", op.id))), 0o600);
    assert_eq!(j.all().len(), 2);
    assert_eq!(
        mode(&old),
        0o600,
        "an older relcon's file, tightened when read"
    );
}

#[test]
fn state_only_moves_forward() {
    let mut op = rollback();
    op.advance(OpState::InProgress, t0());
    op.advance(OpState::Submitted, t0());
    assert_eq!(op.state, OpState::InProgress);
    op.advance(OpState::Verified, t0());
    op.advance(OpState::InProgress, t0());
    assert_eq!(op.state, OpState::Verified);
    assert!(op.verified_at.is_some() && op.completed_at.is_some());
    let mut lost = rollback();
    lost.advance(OpState::NotSent, t0());
    assert_eq!(lost.state, OpState::NotSent);
    assert!(lost.state.is_final());
}

#[test]
fn journal_files_hold_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    let mut op = rollback();
    j.save(&mut op).unwrap();
    let text = std::fs::read_to_string(dir.path().join(format!("{}.json", op.id))).unwrap();
    assert!(
        text.contains("\"kind\": \"rollback\"") && text.contains("PLANT007/CIRCUIT03"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("bearer") && !text.contains("token"));
}

#[test]
fn credentials_in_reasons_and_errors_are_redacted_before_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::new(dir.path());
    let pat = "k3n5q7r2t4v6x8z2b4d6f8h2j4l6n8p2r4t6v8x2z4b6d8f2h4jq";
    let mut op = rollback();
    op.reason = Some(format!("incident, pat={pat}"));
    op.last_error = Some(format!("GET https://x?sig={pat}: HTTP 403"));
    op.waiting = Some(format!("bearer:{pat}"));
    op.steps.push(Step {
        circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
        endpoint: "e".into(),
        deployment: "d".into(),
        from: None,
        to: "1.4.2".into(),
        state: OpState::Failed,
        handle: None,
        error: Some(format!("Authorization: Basic {pat}")),
    });
    j.save(&mut op).unwrap();
    let text = std::fs::read_to_string(dir.path().join(format!("{}.json", op.id))).unwrap();
    assert!(!text.contains(pat), "{text}");
    assert_eq!(op.reason.as_deref(), Some("incident, pat=[redacted]"));
    assert_eq!(
        j.load(&op.id).unwrap().steps[0].error.as_deref(),
        Some("Authorization: Basic [redacted]")
    );
}

#[test]
fn time_to_verified_is_never_negative_when_the_clock_stepped_back() {
    let mut op = rollback();
    let requested = op.requested_at;
    op.advance(OpState::Submitted, requested);
    // Verified by a process whose clock reads a second earlier than the one that requested.
    op.advance(OpState::Verified, requested - chrono::Duration::seconds(1));
    assert_eq!(op.time_to_verified(), Some(chrono::Duration::zero()));
    op.verified_at = Some(requested + chrono::Duration::seconds(70));
    assert_eq!(op.time_to_verified(), Some(chrono::Duration::seconds(70)));
}
