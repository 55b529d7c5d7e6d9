use chrono::TimeZone;

use super::*;
use crate::domain::fleet::{
    CircuitSnapshot, PlantSnapshot, ReleaseModel, ReleaseStage, ValidationSummary,
};
use crate::domain::platform::{IdentityRef, ReleaseStatus};
use crate::domain::validation::{Metrics, ValidationMetric};

fn c(s: &str) -> CircuitRef {
    s.parse().unwrap()
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
}

fn release(id: u32, day: u32, prod: EnvironmentStatus, models: &[(&str, u32)]) -> ReleaseSummary {
    ReleaseSummary {
        id,
        name: format!("Release-{id}"),
        status: ReleaseStatus::Active,
        created_on: Some(at(day)),
        created_by: IdentityRef::default(),
        description: String::new(),
        build_id: Some(format!("b{id}")),
        environment_only: None,
        previous_environment: None,
        stages: vec![ReleaseStage {
            stage: Stage::Prod,
            environment_id: id * 10 + 3,
            status: prod.clone(),
            attempts: if prod == EnvironmentStatus::NotStarted {
                0
            } else {
                1
            },
            deploying: false,
            at: Some(at(day)),
        }],
        models: models
            .iter()
            .map(|(circuit, v)| ReleaseModel {
                circuit: c(circuit),
                version: ModelVersion(*v),
            })
            .collect(),
    }
}

fn run(v: u32, mae: f64) -> ValidationRun {
    let metrics: Metrics = [
        (ValidationMetric::Mae, mae),
        (ValidationMetric::Rmse, 0.2),
        (ValidationMetric::Mape, 8.0),
    ]
    .into_iter()
    .collect();
    ValidationRun {
        model_version: Some(ModelVersion(v)),
        release_id: None,
        environment_version: None,
        at: None,
        metrics,
    }
}

/// PLANT007/CIRCUIT03: v3 (release 30, failed validation), v4 (release 40 with CIRCUIT04 v7),
/// v5 (release 50, rolled back by a redeploy of release 40), v6 now (release 60, degraded).
fn fleet() -> FleetSnapshot {
    let mut incident = CircuitSnapshot::new(c("PLANT007/CIRCUIT03"), "plant007-circuit03".into());
    incident.versions.prod = Some(ModelVersion(6));
    incident.validation = ValidationSummary {
        runs: vec![run(6, 0.1), run(5, 0.1), run(4, 0.1), run(3, 0.4)],
        ..ValidationSummary::default()
    };
    let mut neighbour = CircuitSnapshot::new(c("PLANT007/CIRCUIT04"), "plant007-circuit04".into());
    neighbour.versions.prod = Some(ModelVersion(9));
    let mut r40_again = release(
        40,
        14,
        EnvironmentStatus::Succeeded,
        &[("PLANT007/CIRCUIT03", 4), ("PLANT007/CIRCUIT04", 7)],
    );
    r40_again.stages[0].at = Some(at(16));
    FleetSnapshot {
        generated_at: at(26),
        backend: "test".into(),
        identity: None,
        plants: vec![PlantSnapshot {
            plant_id: "PLANT007".parse().unwrap(),
            name: "Chattanooga".into(),
            circuits: vec![incident, neighbour],
        }],
        approvals: Vec::new(),
        releases: vec![
            release(
                60,
                24,
                EnvironmentStatus::Succeeded,
                &[("PLANT007/CIRCUIT03", 6)],
            ),
            release(
                55,
                20,
                EnvironmentStatus::NotStarted,
                &[("PLANT007/CIRCUIT03", 7)],
            ),
            release(
                50,
                15,
                EnvironmentStatus::Succeeded,
                &[("PLANT007/CIRCUIT03", 5)],
            ),
            r40_again,
            release(
                30,
                5,
                EnvironmentStatus::Succeeded,
                &[("PLANT007/CIRCUIT03", 3)],
            ),
            release(
                45,
                18,
                EnvironmentStatus::Succeeded,
                &[("PLANT007/CIRCUIT04", 9)],
            ),
        ],
        alerts: Vec::new(),
        errors: Vec::new(),
    }
}

#[test]
fn history_is_newest_first_with_health() {
    let h = prod_history(&fleet(), &c("PLANT007/CIRCUIT03"), &Thresholds::default());
    let versions: Vec<u32> = h.iter().map(|e| e.version.0).collect();
    assert_eq!(
        versions,
        vec![6, 4, 5, 3],
        "by time of the Production deployment; 7 never deployed"
    );
    assert!(h[0].current);
    let v5 = h.iter().find(|e| e.version.0 == 5).unwrap();
    assert!(v5.rolled_back, "Prod went back to v4 after v5");
    assert!(!v5.healthy());
    assert_eq!(v5.concerns(), vec!["it was rolled back before"]);
    let v3 = h.iter().find(|e| e.version.0 == 3).unwrap();
    assert_eq!(v3.validation, Status::Alert);
    let v4 = h.iter().find(|e| e.version.0 == 4).unwrap();
    assert!(v4.healthy(), "{:?}", v4.concerns());
    assert_eq!(v4.release_id, 40);
}

#[test]
fn targets_previous_last_good_and_explicit() {
    let h = prod_history(&fleet(), &c("PLANT007/CIRCUIT03"), &Thresholds::default());
    assert_eq!(
        choose_target(&h, TargetChoice::LastGood).unwrap().version,
        ModelVersion(4)
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Previous).unwrap().version,
        ModelVersion(4)
    );
    assert_eq!(
        choose_target(&h, TargetChoice::Version(ModelVersion(3)))
            .unwrap()
            .version,
        ModelVersion(3)
    );
    assert!(
        choose_target(&h, TargetChoice::Version(ModelVersion(6)))
            .unwrap_err()
            .contains("already in Prod")
    );
    assert!(
        choose_target(&h, TargetChoice::Version(ModelVersion(7)))
            .unwrap_err()
            .contains("never ran")
    );
    let only_bad: Vec<ProdHistoryEntry> = h.into_iter().filter(|e| e.version.0 != 4).collect();
    assert!(
        choose_target(&only_bad, TargetChoice::LastGood)
            .unwrap_err()
            .contains("no earlier version was healthy")
    );
    assert_eq!(
        "last-good".parse::<TargetChoice>(),
        Ok(TargetChoice::LastGood)
    );
    assert_eq!(
        "v12".parse::<TargetChoice>(),
        Ok(TargetChoice::Version(ModelVersion(12)))
    );
    assert!("best".parse::<TargetChoice>().is_err());
}

#[test]
fn redeploy_blast_radius_names_every_circuit_and_what_changes() {
    let f = fleet();
    let r40 = f.release(40).unwrap();
    let radius = redeploy_blast_radius(&f, r40);
    assert_eq!(radius.len(), 2);
    let n = radius
        .iter()
        .find(|r| r.circuit == c("PLANT007/CIRCUIT04"))
        .unwrap();
    assert_eq!((n.from, n.to), (Some(ModelVersion(9)), ModelVersion(7)));
    assert!(n.changes());
}

#[test]
fn sla_clock_counts_down_and_turns_warn_then_alert() {
    let sla = SlaClock {
        requested_at: at(1),
        budget_minutes: 15,
    };
    let t = |m: i64| at(1) + Duration::minutes(m);
    assert_eq!(sla.status(t(2)), Status::Ok);
    assert_eq!(sla.label(t(2)), "13:00 left");
    assert_eq!(sla.status(t(8)), Status::Warn);
    assert_eq!(sla.status(t(13)), Status::Alert);
    assert_eq!(sla.label(t(16)), "+01:00 over");
    assert_eq!(sla.status(t(16)), Status::Alert);
}
