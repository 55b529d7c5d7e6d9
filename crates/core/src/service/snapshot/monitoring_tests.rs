//! The monitoring stage alone: drift and accuracy judged, the candidate validated against the
//! Prod baseline, and a table not read (or not readable) leaving its evidence unknown.

use super::*;
use crate::domain::fleet::CircuitSnapshot;
use crate::service::snapshot::fixtures::*;

const C1: &str = "PLANT001/CIRCUIT01";
const C2: &str = "PLANT001/CIRCUIT02";

/// CIRCUIT01 with v5 in Test and v4 in Prod; CIRCUIT02 with v2 in both.
fn circuits() -> Circuits {
    let mut out = Circuits::new();
    for (circuit, test, prod) in [(C1, 5, 4), (C2, 2, 2)] {
        let mut cs = CircuitSnapshot::new(circuit_ref(circuit), String::new());
        cs.versions.test = Some(ModelVersion(test));
        cs.versions.prod = Some(ModelVersion(prod));
        out.insert(circuit_ref(circuit), cs);
    }
    out
}

/// Validations of CIRCUIT01's v5 (release 12) and v4 (release 11).
fn validation() -> crate::domain::platform::Table {
    let rows = [5, 4].into_iter().flat_map(|v| {
        let (mv, release) = if v == 5 { ("5", "12") } else { ("4", "11") };
        let base = if v == 5 { 0.11 } else { 0.12 };
        [
            (C1, mv, release, "validation_mae", base),
            (C1, mv, release, "validation_rmse", base + 0.09),
            (C1, mv, release, "validation_mape", 9.0),
        ]
    });
    validation_table(&rows.collect::<Vec<_>>())
}

/// Drift alert on CIRCUIT01; MAE for CIRCUIT02 only; the validations above.
fn readings() -> Readings {
    Readings {
        drift: Some(drift_read(drift_table(&[
            (C1, "supply_temperature", "psi", &[0.08, 0.31]),
            (C1, "flow", "psi", &[0.02]),
        ]))),
        accuracy: Some(accuracy_read(accuracy_table(&[(C2, &[0.10, 0.12])]))),
        validation: Some(validation_read(validation())),
        ..Readings::default()
    }
}

fn run(r: &mut Readings, env_only: &[u32]) -> (Circuits, Vec<SnapshotError>) {
    let mut circuits = circuits();
    let env_only: BTreeSet<u32> = env_only.iter().copied().collect();
    let errors = assemble(&mut circuits, r, &env_only, &ctx().thresholds);
    (circuits, errors)
}

#[test]
fn drift_and_accuracy_are_judged_per_circuit() {
    let (circuits, errors) = run(&mut readings(), &[]);
    assert!(errors.is_empty(), "{errors:?}");
    let c1 = &circuits[&circuit_ref(C1)];
    assert_eq!(c1.drift.status, Status::Alert);
    let worst = c1.drift.worst.as_ref().unwrap();
    assert_eq!(
        (worst.feature.as_str(), worst.value),
        ("supply_temperature", 0.31)
    );
    assert_eq!(c1.drift.series.len(), 2);
    assert_eq!(
        c1.accuracy.status,
        Status::Unknown,
        "no MAE reported for it"
    );
    let c2 = &circuits[&circuit_ref(C2)];
    assert_eq!(c2.drift.status, Status::Unknown, "no drift reported for it");
    assert_eq!(c2.accuracy.latest, Some(0.12));
    assert_eq!(c2.accuracy.series.values, [0.10, 0.12]);
    assert!(circuits.values().all(|c| c.unknown.is_empty()));
}

#[test]
fn the_candidate_in_test_is_judged_against_the_prod_baseline() {
    let (circuits, _) = run(&mut readings(), &[]);
    let v = &circuits[&circuit_ref(C1)].validation;
    assert_eq!(
        v.run.as_ref().and_then(|r| r.model_version),
        Some(ModelVersion(5))
    );
    assert_eq!(
        v.baseline.as_ref().and_then(|r| r.model_version),
        Some(ModelVersion(4))
    );
    assert_eq!(v.status, Status::Ok, "v5 beats v4");
    assert_eq!(v.runs.len(), 2);
    // No run of CIRCUIT02's version: nothing to judge.
    assert_eq!(
        circuits[&circuit_ref(C2)].validation.status,
        Status::Unknown
    );
}

#[test]
fn an_environment_only_releases_validation_is_not_a_candidates_evidence() {
    // Release 12 was environment-only: its run of v5 does not speak for the candidate.
    let (circuits, _) = run(&mut readings(), &[12]);
    let v = &circuits[&circuit_ref(C1)].validation;
    assert!(v.run.is_none(), "{:?}", v.run);
    assert_eq!(v.status, Status::Unknown);
    assert_eq!(
        v.baseline.as_ref().and_then(|r| r.model_version),
        Some(ModelVersion(4))
    );
}

#[test]
fn a_table_not_read_leaves_its_evidence_unknown_on_every_circuit() {
    let mut r = readings();
    r.drift = Some(Err(server_error("drift")));
    let (circuits, errors) = run(&mut r, &[]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].scope, "drift query");
    assert!(errors[0].message.contains("boom"));
    for cs in circuits.values() {
        assert_eq!(cs.unknown, ["drift query could not be read"]);
        assert_eq!(cs.drift.status, Status::Unknown);
    }
    assert_eq!(
        circuits[&circuit_ref(C2)].accuracy.latest,
        Some(0.12),
        "the rest is judged"
    );
}

#[test]
fn a_table_without_a_column_asked_for_is_a_failed_read() {
    let mut r = readings();
    let mut t = validation();
    t.columns.retain(|(name, _)| name != "release_id");
    r.validation = Some(validation_read(t));
    let (circuits, errors) = run(&mut r, &[]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].scope, "validation query");
    assert_eq!(errors[0].message, "query result has no `release_id` column");
    assert_eq!(
        circuits[&circuit_ref(C1)].unknown,
        ["validation query could not be read"]
    );
    assert_eq!(
        circuits[&circuit_ref(C1)].validation.status,
        Status::Unknown
    );
}

#[test]
fn a_partial_table_is_used_and_makes_the_snapshot_incomplete() {
    let mut r = readings();
    if let Some(Ok(t)) = &mut r.accuracy {
        t.partial = Some("PartialError: 100 MiB".into());
    }
    let (circuits, errors) = run(&mut r, &[]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].scope.as_str(), errors[0].message.as_str()),
        ("accuracy query", "PartialError: 100 MiB")
    );
    assert_eq!(circuits[&circuit_ref(C2)].accuracy.latest, Some(0.12));
    assert!(circuits.values().all(|c| c.unknown.is_empty()));
}

#[test]
fn tables_not_asked_for_change_nothing() {
    let (circuits, errors) = run(&mut Readings::default(), &[]);
    assert!(errors.is_empty());
    assert_eq!(circuits, self::circuits());
}
