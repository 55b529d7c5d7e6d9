//! Snapshot assembly from plain records, the stages together: versions per stage, lineage,
//! failures marked unknown, approvals grouped per release stage, releases mapped to circuits by
//! build id. Each stage's own tests are beside it (`snapshot/*_tests.rs`).

use chrono::{DateTime, TimeZone, Utc};

use super::fixtures::*;
use super::*;
use crate::domain::fleet::ReleaseModel;
use crate::domain::platform::EnvironmentStatus;
use crate::domain::{ModelVersion, Stage, Status};
use crate::service::backend::{BackendError, ErrorKind};

/// Two circuits of PLANT001: CIRCUIT01 with a candidate (v5) in Test and v4 in Prod, waiting
/// for its second Production approval; CIRCUIT02 with a lineage break.
fn readings() -> Readings {
    let (releases, pending) = releases_awaiting_approval();
    let mut r = Readings {
        identity: Some(Ok(who("bob"))),
        endpoints: vec![
            (Stage::Test, Ok(vec![endpoint(Stage::Test, "plant001")])),
            (Stage::Prod, Ok(vec![endpoint(Stage::Prod, "plant001")])),
        ],
        deployments: plant001_deployments(
            &[("circuit01", 5), ("circuit02", 2)],
            &[("circuit01", 4), ("circuit02", 2)],
        ),
        dev_containers: Some(Ok(vec![container(M1, 6), container(M2, 2)])),
        registry_containers: Some(Ok(vec![container(M1, 5), container(M2, 2)])),
        releases: Some(Ok(releases)),
        approvals: Some(Ok(pending)),
        ..Readings::default()
    };
    registry_lineage(&mut r);
    r.configs.insert(
        (
            "/config/circuits/PLANT001_CIRCUIT02.yaml".into(),
            "beef002".into(),
        ),
        Ok(CONFIG
            .replace("CIRCUIT01", "CIRCUIT02")
            .replace("circuit01", "circuit02")),
    );
    r.drift = Some(drift_read(drift_table(&[(
        "PLANT001/CIRCUIT01",
        "supply_temperature",
        "psi",
        &[0.08, 0.31],
    )])));
    r.accuracy = Some(accuracy_read(accuracy_table(&[(
        "PLANT001/CIRCUIT02",
        &[0.12],
    )])));
    let c1 = "PLANT001/CIRCUIT01";
    r.validation = Some(validation_read(validation_table(&[
        (c1, "5", "12", "validation_mae", 0.11),
        (c1, "5", "12", "validation_rmse", 0.2),
        (c1, "5", "12", "validation_mape", 9.0),
        (c1, "4", "11", "validation_mae", 0.12),
        (c1, "4", "11", "validation_rmse", 0.21),
        (c1, "4", "11", "validation_mape", 9.5),
    ])));
    r
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

#[test]
fn versions_per_stage_and_plant_names() {
    let s = assemble(&mut readings(), &ctx(), now());
    assert_eq!(s.plants.len(), 1);
    assert_eq!(s.plants[0].name, "Rotterdam Polymer Works");
    let c = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(
        (
            c.versions.dev,
            c.versions.registry,
            c.versions.test,
            c.versions.prod
        ),
        (
            Some(ModelVersion(6)),
            Some(ModelVersion(5)),
            Some(ModelVersion(5)),
            Some(ModelVersion(4))
        )
    );
    assert!(c.versions.differ());
    assert_eq!(c.environment.prod.as_deref(), Some("1.5.0"));
    assert_eq!(c.description, "circuit01 of plant001");
    assert!(c.unknown.is_empty(), "{:?}", c.unknown);
    assert_eq!(
        s.identity.as_ref().map(|i| i.display_name.as_str()),
        Some("bob")
    );
}

#[test]
fn lineage_matches_or_breaks_plainly() {
    let s = assemble(&mut readings(), &ctx(), now());
    let ok = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(ok.lineage.matches, Some(true));
    assert_eq!(
        ok.lineage.prod.as_ref().map(|h| h.as_str()),
        Some(CONFIG_HASH)
    );
    assert_eq!(ok.lineage.commit.as_deref(), Some("c0ffee4"));
    let broken = s.circuit(&"PLANT001/CIRCUIT02".parse().unwrap()).unwrap();
    assert_eq!(broken.lineage.matches, Some(false));
    assert_eq!(broken.lineage.status(), Status::Alert);
    assert_eq!(broken.health(), Status::Alert);
}

#[test]
fn drift_accuracy_and_validation_are_judged() {
    let s = assemble(&mut readings(), &ctx(), now());
    let c1 = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(c1.drift.status, Status::Alert);
    let worst = c1.drift.worst.as_ref().unwrap();
    assert_eq!(
        (worst.feature.as_str(), worst.value),
        ("supply_temperature", 0.31)
    );
    assert_eq!(c1.drift.worst_series().map(|s| s.values.len()), Some(2));
    assert_eq!(c1.validation.status, Status::Ok, "v5 beats the v4 baseline");
    assert_eq!(
        c1.validation.run.as_ref().and_then(|r| r.model_version),
        Some(ModelVersion(5))
    );
    assert_eq!(
        c1.validation
            .baseline
            .as_ref()
            .and_then(|r| r.model_version),
        Some(ModelVersion(4))
    );
    assert_eq!(
        c1.accuracy.status,
        Status::Unknown,
        "no MAE reported for CIRCUIT01"
    );
    let c2 = s.circuit(&"PLANT001/CIRCUIT02".parse().unwrap()).unwrap();
    assert_eq!(c2.accuracy.latest, Some(0.12));
    assert_eq!(c2.drift.status, Status::Unknown);
}

#[test]
fn approvals_are_grouped_per_release_stage_with_approvers_so_far() {
    let s = assemble(&mut readings(), &ctx(), now());
    assert_eq!(s.approvals.len(), 1);
    let a = &s.approvals[0];
    assert_eq!(
        (a.release_id, a.stage, a.environment_id.as_number()),
        (12, Stage::Prod, Some(123))
    );
    assert_eq!(a.pending_ids, vec![502]);
    assert_eq!(a.required, 2);
    assert_eq!(a.approved.len(), 1);
    assert_eq!(a.approved[0].by.display_name, "carol");
    assert_eq!(a.requested_by.display_name, "alice");
    assert_eq!(
        a.models,
        vec![ReleaseModel {
            circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
            version: ModelVersion(5)
        }]
    );
    let c1 = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(c1.pending_approvals, 1);
    let r11 = s.release(11).unwrap();
    assert_eq!(
        r11.models.len(),
        2,
        "build 800 carried v4 of CIRCUIT01 and v2 of CIRCUIT02"
    );
    assert_eq!(
        r11.stage(Stage::Prod).map(|p| p.status.clone()),
        Some(EnvironmentStatus::Succeeded)
    );
}

#[test]
fn the_deployment_lists_are_not_held_past_the_inventory() {
    let mut r = readings();
    assert!(!r.deployments.is_empty());
    let s = assemble(&mut r, &ctx(), now());
    assert!(r.deployments.is_empty());
    let c = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert!(c.versions.prod.is_some(), "read before they were dropped");
}

#[test]
fn a_failed_call_marks_what_it_covers_and_the_rest_still_shows() {
    let mut r = readings();
    let err = |what: &str| {
        BackendError::new(
            ErrorKind::Server,
            "GET",
            &format!("http://x/{what}"),
            "boom",
        )
    };
    r.deployments[1].2 = Err(err("prod-deployments"));
    r.drift = Some(Err(err("query")));
    let s = assemble(&mut r, &ctx(), now());
    let c = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(c.versions.prod, None);
    assert_eq!(c.versions.test, Some(ModelVersion(5)), "Test still read");
    assert!(
        c.unknown
            .iter()
            .any(|u| u.contains("Prod deployments of batch-endpoint-plant001")),
        "{:?}",
        c.unknown
    );
    assert!(
        c.unknown.iter().any(|u| u.contains("drift query")),
        "{:?}",
        c.unknown
    );
    assert_eq!(c.drift.status, Status::Unknown);
    assert!(
        s.errors
            .iter()
            .any(|e| e.scope == "Prod deployments of batch-endpoint-plant001"
                && e.message.contains("boom"))
    );
    assert_eq!(s.errors.len(), 2);
}

#[test]
fn gate_evidence_judges_the_release_version_against_prod() {
    let s = assemble(&mut readings(), &ctx(), now());
    let item = &s.approvals[0];
    let gate = crate::domain::fleet::gate_evidence(&s, item, &ctx().thresholds);
    assert_eq!(gate.len(), 1);
    assert_eq!(gate[0].status, Status::Ok, "{}", gate[0].detail);
    // A worse candidate fails the gate on the baseline regression.
    let mut r = readings();
    if let Some(Ok(d)) = &mut r.validation {
        for run in d
            .by_circuit
            .values_mut()
            .flatten()
            .filter(|run| run.model_version == Some(ModelVersion(5)))
        {
            run.metrics
                .insert(crate::domain::validation::ValidationMetric::Mae, 0.2);
        }
    }
    let s = assemble(&mut r, &ctx(), now());
    let gate = crate::domain::fleet::gate_evidence(&s, &s.approvals[0], &ctx().thresholds);
    assert_eq!(gate[0].status, Status::Alert);
    assert!(
        gate[0].detail.contains("worse than Prod"),
        "{}",
        gate[0].detail
    );
    let c1 = s.circuit(&"PLANT001/CIRCUIT01".parse().unwrap()).unwrap();
    assert_eq!(
        c1.known_versions
            .iter()
            .map(|k| k.version.0)
            .collect::<Vec<_>>(),
        vec![5, 4]
    );
}

#[test]
fn a_partial_query_result_is_used_and_makes_the_snapshot_incomplete() {
    let mut r = readings();
    if let Some(Ok(t)) = r.drift.as_mut() {
        t.partial = Some("Log Analytics returned a partial result (PartialError): 100 MiB".into());
    }
    let s = assemble(&mut r, &ctx(), now());
    assert!(!s.is_complete());
    assert!(
        s.errors
            .iter()
            .any(|e| e.scope == "drift query" && e.message.contains("partial")),
        "{:?}",
        s.errors
    );
    // The rows that came are still read.
    assert!(s.circuits().any(|c| c.drift.worst.is_some()));
}

/// A snapshot that keeps only what `relcon fleet` prints (`Keep::Printed`, `--no-cache`)
/// shows every circuit as the full one does, in each field the document prints; it lists no
/// releases or approval items, and drops the readings no next refresh will know.
#[test]
fn a_printed_only_snapshot_shows_the_circuits_a_full_one_does() {
    use crate::domain::fleet::CircuitSnapshot;
    let full = assemble(&mut readings(), &ctx(), now());
    let mut printing = ctx();
    printing.keep = crate::service::queries::Keep::Printed;
    let mut r = readings();
    let printed = assemble(&mut r, &printing, now());

    let shown = |s: &FleetSnapshot| -> Vec<CircuitSnapshot> {
        s.circuits()
            .cloned()
            .map(|mut c| {
                c.drift.series.clear();
                c.accuracy.series = Default::default();
                c.known_versions.clear();
                c
            })
            .collect()
    };
    assert_eq!(shown(&printed), shown(&full));
    assert_eq!(printed.errors, full.errors);
    assert!(
        printed
            .circuits()
            .any(|c| c.pending_approvals > 0 && c.drift.worst.is_some()),
        "the fixture has what a fleet row shows"
    );
    assert!(!full.releases.is_empty() && !full.approvals.is_empty());
    assert!(printed.releases.is_empty() && printed.approvals.is_empty());
    assert!(r.registry_versions.is_empty() && r.dev_versions.is_empty());
    assert!(r.configs.is_empty() && r.releases.is_none() && r.approvals.is_none());
}
