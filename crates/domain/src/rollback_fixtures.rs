//! A small fleet with a circuit's Prod history, for the rollback tests of this crate and of
//! the core (feature `testing`).
//!
//! Test code: it unwraps what it builds itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone;

use super::*;
use crate::fleet::{CircuitSnapshot, PlantSnapshot, ReleaseModel, ReleaseStage, ValidationSummary};
use crate::platform::{IdentityRef, ReleaseStatus};
use crate::validation::{Metrics, ValidationMetric};

pub fn c(s: &str) -> CircuitRef {
    s.parse().unwrap()
}

pub fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
}

pub fn release(
    id: u32,
    day: u32,
    prod: EnvironmentStatus,
    models: &[(&str, u32)],
) -> ReleaseSummary {
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
            environment_id: (id * 10 + 3).into(),
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

pub fn run(v: u32, mae: f64) -> ValidationRun {
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
pub fn fleet() -> FleetSnapshot {
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
