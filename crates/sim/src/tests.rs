//! Scenario invariants and state machines of the simulated world, without HTTP.

use chrono::Duration;

use super::configs;
use super::scenario::tests::demo_world;
use super::world::{ApprovalStatus, BOB, CAROL, DAVE, ERIN, OpKind, World};
use crate::domain::Stage;
use crate::domain::diff::ConfigDiff;

fn pending(w: &World, r: usize, e: usize) -> Vec<usize> {
    w.releases[r].envs[e]
        .approvals
        .iter()
        .copied()
        .filter(|&a| w.approvals[a].status == ApprovalStatus::Pending)
        .collect()
}

fn release(w: &World, id: u32) -> usize {
    w.release_index(id)
        .unwrap_or_else(|| panic!("release {id} missing"))
}

fn circuit(w: &World, name: &str) -> usize {
    w.circuit_index(&name.parse().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|| panic!("{name} missing"))
}

/// The config a version was trained from, as a mapping.
fn config(w: &World, c: usize, v: u32) -> crate::domain::yaml::Mapping {
    let mv = w.version(c, v).unwrap_or_else(|| panic!("no version {v}"));
    let text =
        configs::variant_text(&w.fleet.circuits[c].head_text, &mv.overrides).unwrap_or_default();
    configs::parse(&text).unwrap_or_default()
}

#[test]
fn scenario_is_deterministic_and_complete() {
    let a = demo_world();
    let b = demo_world();
    assert_eq!(a.scenario, b.scenario);
    let s = &a.scenario;
    assert_eq!(s.incident_circuit, "PLANT007/CIRCUIT03");
    assert_eq!(s.lineage_break_circuit, "PLANT012/CIRCUIT05");
    assert_eq!(s.pending_registry_releases.len(), 3, "{s:?}");
    assert_eq!(s.pending_production_releases.len(), 5, "{s:?}");
    assert_eq!(s.pending_registry_approvals, 3);
    assert_eq!(s.pending_production_approvals, 9);
    assert!(s.identical_change_circuits >= 30, "{s:?}");
    assert_eq!(s.odd_ones_out.len(), 3);
    assert!(!s.production_releases_passing.is_empty() && !s.production_releases_failing.is_empty());
    assert!(!s.rejected_release_ids.is_empty() && !s.abandoned_release_ids.is_empty());
    assert!(s.drift_alert_circuits.contains(&s.incident_circuit));
    // Every circuit serves in Test and Prod.
    for c in 0..a.circuits.len() {
        assert!(a.deployed_version(Stage::Prod, c).is_some(), "{c}");
        assert!(a.deployed_version(Stage::Test, c).is_some(), "{c}");
    }
}

#[test]
fn newest_version_is_head_and_hashes_match_except_the_lineage_break() {
    let w = demo_world();
    let lineage = circuit(&w, &w.scenario.lineage_break_circuit);
    for (c, cs) in w.circuits.iter().enumerate() {
        assert!((2..=8).contains(&cs.versions.len()));
        assert!(
            cs.versions.last().is_some_and(|v| v.overrides.is_empty()),
            "newest is HEAD"
        );
        let mut hashes: Vec<&str> = Vec::new();
        for v in &cs.versions {
            let real = crate::domain::hash::training_hash(&config(&w, c, v.version))
                .map(|h| h.to_string())
                .unwrap_or_default();
            let broken = c == lineage && v.version as usize == cs.versions.len();
            assert_eq!(
                real == v.tag_hash,
                !broken,
                "{} v{}",
                w.fleet.circuits[c].r,
                v.version
            );
            hashes.push(&v.tag_hash);
        }
        let n = hashes.len();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(
            hashes.len(),
            n,
            "every version trained from a different config"
        );
    }
    // The lineage break is what runs in Prod.
    assert_eq!(
        w.deployed_version(Stage::Prod, lineage),
        Some(w.circuits[lineage].versions.len() as u32)
    );
}

#[test]
fn the_big_release_changes_one_key_identically() {
    let w = demo_world();
    let r = release(&w, w.scenario.identical_change_release_id);
    let models = w.release_models(r).to_vec();
    assert_eq!(models.len(), w.scenario.identical_change_circuits);
    let mut common: Option<Vec<(String, String, String)>> = None;
    for (c, v) in models {
        let prod = w.deployed_version(Stage::Prod, c).unwrap_or(0);
        assert_eq!(prod + 1, v, "Prod runs the version before the candidate");
        let diff = ConfigDiff::between(&config(&w, c, prod), &config(&w, c, v));
        let changes: Vec<(String, String, String)> = diff
            .changes
            .iter()
            .map(|ch| {
                (
                    ch.path.clone(),
                    format!("{:?}", ch.old),
                    format!("{:?}", ch.new),
                )
            })
            .collect();
        let name = w.fleet.circuits[c].r.to_string();
        if w.scenario.odd_ones_out.contains(&name) {
            assert_eq!(changes.len(), 2, "{name}: {changes:?}");
        } else {
            assert_eq!(changes.len(), 1, "{name}: {changes:?}");
            match &common {
                None => common = Some(changes),
                Some(first) => assert_eq!(first, &changes, "{name}"),
            }
        }
    }
}

#[test]
fn incident_has_a_clean_rollback_target_with_a_blast_radius() {
    let w = demo_world();
    let s = &w.scenario;
    let c = circuit(&w, &s.incident_circuit);
    assert_eq!(w.deployed_version(Stage::Prod, c), Some(s.incident_version));
    let serving = &w.circuits[c].prod_serving;
    assert!(serving.len() >= 2);
    assert_eq!(serving[serving.len() - 2].1, s.rollback_version);
    let since = w.clock - serving[serving.len() - 1].0;
    assert!(
        since > Duration::hours(40) && since < Duration::hours(56),
        "{since}"
    );
    let r = release(&w, s.rollback_release_id);
    assert!(w.release_models(r).contains(&(c, s.rollback_version)));
    assert!(
        (2..=3).contains(&s.rollback_release_circuits.len()),
        "{s:?}"
    );
    assert!(
        w.releases[r].envs[2].attempts.len() == 1,
        "never redeployed"
    );
    for &(other, v) in w.release_models(r) {
        if other != c {
            assert!(
                w.deployed_version(Stage::Prod, other) > Some(v),
                "companions moved on"
            );
        }
    }
    assert!(
        w.validation.iter().any(|row| row.circuit == c
            && row.model_version == s.rollback_version
            && row.mae < 0.25)
    );
}

#[test]
fn approving_both_production_approvals_deploys_after_deploy_minutes() {
    let mut w = demo_world();
    let now = w.clock;
    let r = release(&w, w.scenario.alice_release_id);
    let p = pending(&w, r, 2);
    assert_eq!(p.len(), 2);
    assert_eq!(w.env_status(r, 2, now), "inProgress");
    let models = w.release_models(r).to_vec();
    let before: Vec<Option<u32>> = models
        .iter()
        .map(|&(c, _)| w.deployed_version(Stage::Prod, c))
        .collect();
    assert!(models.iter().zip(&before).all(|(&(_, v), b)| *b != Some(v)));
    assert_eq!(w.decide(p[0], BOB, true, "fine", now), Ok(()));
    assert_eq!(w.env_status(r, 2, now), "inProgress", "1 of 2 approvals");
    assert_eq!(w.decide(p[1], CAROL, true, "fine", now), Ok(()));
    assert_eq!(w.env_status(r, 2, now), "queued");
    w.advance(now + Duration::minutes(9));
    assert_eq!(w.env_status(r, 2, w.clock), "inProgress");
    let mid: Vec<Option<u32>> = models
        .iter()
        .map(|&(c, _)| w.deployed_version(Stage::Prod, c))
        .collect();
    assert_eq!(
        mid, before,
        "nothing switches before the deployment finishes"
    );
    w.advance(now + Duration::minutes(10));
    assert_eq!(w.env_status(r, 2, w.clock), "succeeded");
    for &(c, v) in &models {
        assert_eq!(w.deployed_version(Stage::Prod, c), Some(v));
    }
    // A decided approval cannot be decided again.
    assert_eq!(
        w.decide(p[0], DAVE, false, "too late", w.clock),
        Err(super::machine::DecideError::NotPending(
            ApprovalStatus::Approved
        ))
    );
}

#[test]
fn rejecting_rejects_the_stage_and_cancels_the_other_approval() {
    let mut w = demo_world();
    let now = w.clock;
    let r = release(&w, w.scenario.production_releases_failing[0]);
    let p = pending(&w, r, 2);
    assert_eq!(w.decide(p[0], ERIN, false, "MAE regressed", now), Ok(()));
    assert_eq!(w.env_status(r, 2, now), "rejected");
    assert_eq!(w.approvals[p[1]].status, ApprovalStatus::Canceled);
    assert!(w.decide(p[1], BOB, true, "", now).is_err());
}

#[test]
fn redeploying_an_old_production_rolls_back_every_circuit_of_that_release() {
    let mut w = demo_world();
    let now = w.clock;
    let r = release(&w, w.scenario.rollback_release_id);
    let models = w.release_models(r).to_vec();
    assert_eq!(w.redeploy(r, 2, DAVE, now), Ok(()));
    assert_eq!(w.env_status(r, 2, now), "queued");
    assert!(w.redeploy(r, 2, DAVE, now).is_err(), "already in progress");
    w.advance(now + Duration::minutes(10));
    assert_eq!(w.env_status(r, 2, w.clock), "succeeded");
    for &(c, v) in &models {
        assert_eq!(w.deployed_version(Stage::Prod, c), Some(v));
    }
    assert_eq!(w.releases[r].envs[2].attempts.len(), 2);
    // Redeploying Production again is allowed.
    assert_eq!(w.redeploy(r, 2, BOB, w.clock), Ok(()));
    // A stage that never deployed needs its previous stage first.
    let big = release(&w, w.scenario.identical_change_release_id);
    assert!(w.redeploy(big, 2, BOB, w.clock).is_err());
}

#[test]
fn registry_approval_runs_registry_then_test_then_waits_for_production() {
    let mut w = demo_world();
    let now = w.clock;
    let r = release(&w, w.scenario.identical_change_release_id);
    let (c, v) = w.release_models(r)[0];
    assert!(w.version(c, v).is_some_and(|mv| mv.registry_at.is_none()));
    let id = w.releases[r].id;
    let rows = |w: &World| {
        w.validation
            .iter()
            .filter(|row| row.release_id == id)
            .count()
    };
    assert_eq!(rows(&w), 0);
    let p = pending(&w, r, 0);
    assert_eq!(w.decide(p[0], ERIN, true, "notebook reviewed", now), Ok(()));
    w.advance(now + Duration::minutes(10));
    assert!(w.version(c, v).is_some_and(|mv| mv.registry_at.is_some()));
    assert_eq!(
        w.env_status(r, 1, w.clock),
        "queued",
        "Test starts by itself"
    );
    w.advance(now + Duration::minutes(20));
    assert_eq!(w.env_status(r, 1, w.clock), "succeeded");
    assert_eq!(w.deployed_version(Stage::Test, c), Some(v));
    assert_eq!(rows(&w), w.release_models(r).len(), "validation written");
    assert_eq!(
        pending(&w, r, 2).len(),
        2,
        "Production waits for two approvals"
    );
}

#[test]
fn environment_release_moves_every_prod_deployment_to_the_new_environment() {
    let mut w = demo_world();
    let now = w.clock;
    let r = release(&w, w.scenario.environment_release_id);
    let rows = w
        .validation
        .iter()
        .filter(|row| row.release_id == w.releases[r].id)
        .count();
    assert_eq!(
        rows,
        w.circuits.len(),
        "one validation per circuit against 1.5.1"
    );
    let p = pending(&w, r, 2);
    let before: Vec<Option<u32>> = (0..w.circuits.len())
        .map(|c| w.deployed_version(Stage::Prod, c))
        .collect();
    for (i, a) in p.into_iter().enumerate() {
        assert_eq!(w.decide(a, [BOB, DAVE][i], true, "", now), Ok(()));
    }
    w.advance(now + Duration::minutes(10));
    for (c, was) in before.iter().enumerate() {
        assert_eq!(
            w.deployed_environment(Stage::Prod, c).as_deref(),
            Some("1.5.1")
        );
        assert_eq!(w.deployed_version(Stage::Prod, c), *was, "models unchanged");
    }
}

#[test]
fn deployment_update_is_a_long_running_operation() {
    let mut w = demo_world();
    let now = w.clock;
    let c = circuit(&w, &w.scenario.incident_circuit);
    let (e, d) = w.circuit_deployments[c][1].unwrap_or_default();
    let target = w.scenario.rollback_version;
    let asset = w.registry_asset(c, target);
    if let Some(dep) = w.circuit_deployment_mut(Stage::Prod, c) {
        dep.model_asset = asset;
    }
    let op = w.begin_op(OpKind::Put, Stage::Prod, e, Some(d), now);
    assert_eq!(
        w.circuit_deployment(Stage::Prod, c).map(|d| d.provisioning),
        Some("Updating")
    );
    w.advance(now + Duration::minutes(3));
    assert!(!w.ops[op].done);
    w.advance(now + Duration::minutes(4));
    assert!(w.ops[op].done);
    assert_eq!(
        w.circuit_deployment(Stage::Prod, c).map(|d| d.provisioning),
        Some("Succeeded")
    );
    assert_eq!(
        w.circuits[c].prod_serving.last().map(|s| s.1),
        Some(target),
        "now serving the target"
    );
}
