//! Snapshot assembly from plain records: versions per stage, lineage, failures marked unknown,
//! approvals grouped per release stage, releases mapped to circuits by build id.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::platform::{
    ApprovalType, Cell, ColumnType, DeployAttempt, DeploymentStatus, EnvironmentAsset,
    EnvironmentStatus, IdentityRef, ModelAsset, ProvisioningState, ReleaseEnvironment,
    ReleaseStatus,
};
use crate::service::backend::ErrorKind;
use crate::settings::Settings;

fn ctx() -> Context {
    let text = include_str!("../../../../configs/relcon.example.toml");
    let settings = Settings::parse(text, "example").unwrap();
    Context::new(&settings, false, "test".into())
}

fn who(name: &str) -> IdentityRef {
    IdentityRef {
        id: format!("id-{name}"),
        display_name: name.into(),
        unique_name: format!("{name}@contoso.com"),
    }
}

const CONFIG: &str = "plant_id: PLANT001\ncircuit_id: CIRCUIT01\nmodel_name: plant001-circuit01\nfeatures: [t]\ncutoff_date: '2025-11-01'\ndelta_version: 1\npipeline_component_version: 1.0.0\ntraining_days: 365\nforecast_horizon: 7\nhyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  epochs: 50\n  batch_size: 32\nenvironment_version: 1.5.0\n";
const CONFIG_HASH: &str = "4c206af59d45";

fn version(model: &str, v: u32, hash: &str, commit: &str, build: &str) -> ModelVersionRecord {
    let (p, c) = model.split_once('-').unwrap();
    let tags: BTreeMap<String, String> = [
        ("training_hash", hash),
        ("plant_id", &p.to_uppercase()),
        ("circuit_id", &c.to_uppercase()),
        ("git_commit", commit),
        ("build_id", build),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    ModelVersionRecord {
        location: AssetLocation::Registry,
        name: model.into(),
        version: ModelVersion(v),
        tags,
        created_at: None,
        description: None,
    }
}

fn deployment(stage: Stage, plant: &str, circuit: &str, v: u32) -> Deployment {
    Deployment {
        stage,
        endpoint: format!("batch-endpoint-{plant}"),
        name: format!("deployment-{circuit}"),
        description: format!("{circuit} of {plant}"),
        model: Some(ModelAsset {
            registry: Some("mlr-forecast".into()),
            name: format!("{plant}-{circuit}"),
            version: ModelVersion(v),
        }),
        environment: Some(EnvironmentAsset {
            registry: Some("mlr-forecast".into()),
            name: "forecast-tf".into(),
            version: "1.5.0".into(),
        }),
        provisioning: ProvisioningState::Succeeded,
        modified_at: None,
        tags: BTreeMap::new(),
    }
}

fn endpoint(stage: Stage, plant: &str) -> Endpoint {
    Endpoint {
        stage,
        name: format!("batch-endpoint-{plant}"),
        plant_name: Some("Rotterdam Polymer Works".into()),
        default_deployment: None,
        provisioning: ProvisioningState::Succeeded,
    }
}

fn approval(
    id: u32,
    release: u32,
    env: u32,
    env_name: &str,
    status: ApprovalStatus,
    by: Option<&str>,
) -> ApprovalRecord {
    ApprovalRecord {
        id,
        status,
        approval_type: ApprovalType::PreDeploy,
        approver: who("approvers"),
        approved_by: by.map(who),
        comments: String::new(),
        release_id: release,
        release_name: format!("Release-{release}"),
        release_environment_id: env,
        release_environment_name: env_name.into(),
        attempt: 1,
        created_on: None,
        modified_on: None,
    }
}

fn release(
    id: u32,
    build: &str,
    prod_status: EnvironmentStatus,
    prod_approvals: Vec<ApprovalRecord>,
) -> ReleaseRecord {
    let env = |eid: u32,
               name: &str,
               status: EnvironmentStatus,
               approvals: Vec<ApprovalRecord>,
               required: u32| ReleaseEnvironment {
        id: eid,
        definition_environment_id: eid % 10,
        name: name.into(),
        status,
        required_approvers: required,
        pre_deploy_approvals: approvals,
        deploy_steps: vec![DeployAttempt {
            attempt: 1,
            status: DeploymentStatus::Succeeded,
            requested_by: None,
            requested_for: None,
            queued_on: None,
            last_modified_on: None,
        }],
        modified_on: None,
    };
    ReleaseRecord {
        id,
        name: format!("Release-{id}"),
        status: ReleaseStatus::Active,
        description: "retrain cooling".into(),
        created_on: Some(Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()),
        created_by: who("alice"),
        build_id: Some(build.into()),
        variables: BTreeMap::new(),
        environments: vec![
            env(
                id * 10 + 1,
                "Registry",
                EnvironmentStatus::Succeeded,
                vec![],
                1,
            ),
            env(id * 10 + 2, "Test", EnvironmentStatus::Succeeded, vec![], 0),
            env(id * 10 + 3, "Production", prod_status, prod_approvals, 2),
        ],
    }
}

fn table(columns: &[(&str, ColumnType)], rows: Vec<Vec<Cell>>) -> Table {
    Table {
        columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        rows,
        ..Table::default()
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

/// Two circuits of PLANT001: CIRCUIT01 with a candidate (v5) in Test and v4 in Prod, waiting
/// for its second Production approval; CIRCUIT02 with a lineage break.
fn readings() -> Readings {
    let m1 = "plant001-circuit01";
    let m2 = "plant001-circuit02";
    let mut r = Readings {
        identity: Some(Ok(who("bob"))),
        endpoints: vec![
            (Stage::Test, Ok(vec![endpoint(Stage::Test, "plant001")])),
            (Stage::Prod, Ok(vec![endpoint(Stage::Prod, "plant001")])),
        ],
        deployments: vec![
            (
                Stage::Test,
                "batch-endpoint-plant001".into(),
                Ok(vec![
                    deployment(Stage::Test, "plant001", "circuit01", 5),
                    deployment(Stage::Test, "plant001", "circuit02", 2),
                ]),
            ),
            (
                Stage::Prod,
                "batch-endpoint-plant001".into(),
                Ok(vec![
                    deployment(Stage::Prod, "plant001", "circuit01", 4),
                    deployment(Stage::Prod, "plant001", "circuit02", 2),
                ]),
            ),
        ],
        dev_containers: Some(Ok(vec![
            ModelContainer {
                name: m1.into(),
                latest_version: Some(ModelVersion(6)),
            },
            ModelContainer {
                name: m2.into(),
                latest_version: Some(ModelVersion(2)),
            },
        ])),
        registry_containers: Some(Ok(vec![
            ModelContainer {
                name: m1.into(),
                latest_version: Some(ModelVersion(5)),
            },
            ModelContainer {
                name: m2.into(),
                latest_version: Some(ModelVersion(2)),
            },
        ])),
        releases: Some(Ok(vec![
            release(
                12,
                "900",
                EnvironmentStatus::NotStarted,
                vec![
                    approval(
                        501,
                        12,
                        123,
                        "Production",
                        ApprovalStatus::Approved,
                        Some("carol"),
                    ),
                    approval(502, 12, 123, "Production", ApprovalStatus::Pending, None),
                ],
            ),
            release(11, "800", EnvironmentStatus::Succeeded, vec![]),
        ])),
        approvals: Some(Ok(vec![approval(
            502,
            12,
            123,
            "Production",
            ApprovalStatus::Pending,
            None,
        )])),
        ..Readings::default()
    };
    r.registry_versions.insert(
        m1.into(),
        Ok(vec![
            version(m1, 4, CONFIG_HASH, "c0ffee4", "800"),
            version(m1, 5, "aaaaaaaaaaaa", "c0ffee5", "900"),
        ]),
    );
    r.registry_versions.insert(
        m2.into(),
        Ok(vec![version(m2, 2, "bbbbbbbbbbbb", "beef002", "800")]),
    );
    r.configs.insert(
        (
            "/config/circuits/PLANT001_CIRCUIT01.yaml".into(),
            "c0ffee4".into(),
        ),
        Ok(CONFIG.into()),
    );
    r.configs.insert(
        (
            "/config/circuits/PLANT001_CIRCUIT02.yaml".into(),
            "beef002".into(),
        ),
        Ok(CONFIG
            .replace("CIRCUIT01", "CIRCUIT02")
            .replace("circuit01", "circuit02")),
    );
    let day = |d| {
        Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0)
            .unwrap()
            .to_rfc3339()
    };
    r.drift = Some(Ok(table(
        &[
            ("plant_id", ColumnType::String),
            ("circuit_id", ColumnType::String),
            ("feature", ColumnType::String),
            ("metric", ColumnType::String),
            ("days", ColumnType::Dynamic),
            ("values", ColumnType::Dynamic),
        ],
        vec![vec![
            text("PLANT001"),
            text("CIRCUIT01"),
            text("supply_temperature"),
            text("psi"),
            Cell::Dynamic(serde_json::json!([day(24), day(25)])),
            Cell::Dynamic(serde_json::json!([0.08, 0.31])),
        ]],
    )));
    r.accuracy = Some(Ok(table(
        &[
            ("plant_id", ColumnType::String),
            ("circuit_id", ColumnType::String),
            ("days", ColumnType::Dynamic),
            ("values", ColumnType::Dynamic),
        ],
        vec![vec![
            text("PLANT001"),
            text("CIRCUIT02"),
            Cell::Dynamic(serde_json::json!([day(25)])),
            Cell::Dynamic(serde_json::json!([0.12])),
        ]],
    )));
    let at = Cell::Time(Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap());
    let vrow = |mv: &str, name: &str, v: f64| {
        vec![
            at.clone(),
            text("PLANT001"),
            text("CIRCUIT01"),
            text(mv),
            text(if mv == "5" { "12" } else { "11" }),
            text("1.5.0"),
            text(name),
            Cell::Real(v),
        ]
    };
    r.validation = Some(Ok(table(
        &[
            ("at", ColumnType::Datetime),
            ("plant_id", ColumnType::String),
            ("circuit_id", ColumnType::String),
            ("model_version", ColumnType::String),
            ("release_id", ColumnType::String),
            ("environment_version", ColumnType::String),
            ("metric_name", ColumnType::String),
            ("value", ColumnType::Real),
        ],
        vec![
            vrow("5", "validation_mae", 0.11),
            vrow("5", "validation_rmse", 0.2),
            vrow("5", "validation_mape", 9.0),
            vrow("4", "validation_mae", 0.12),
            vrow("4", "validation_rmse", 0.21),
            vrow("4", "validation_mape", 9.5),
        ],
    )));
    r
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

#[test]
fn versions_per_stage_and_plant_names() {
    let s = assemble(&readings(), &ctx(), now());
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
    let s = assemble(&readings(), &ctx(), now());
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
    let s = assemble(&readings(), &ctx(), now());
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
    let s = assemble(&readings(), &ctx(), now());
    assert_eq!(s.approvals.len(), 1);
    let a = &s.approvals[0];
    assert_eq!(
        (a.release_id, a.stage, a.environment_id),
        (12, Stage::Prod, 123)
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
    let s = assemble(&r, &ctx(), now());
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
    let s = assemble(&readings(), &ctx(), now());
    let item = &s.approvals[0];
    let gate = crate::domain::fleet::gate_evidence(&s, item, &ctx().thresholds);
    assert_eq!(gate.len(), 1);
    assert_eq!(gate[0].status, Status::Ok, "{}", gate[0].detail);
    // A worse candidate fails the gate on the baseline regression.
    let mut r = readings();
    if let Some(Ok(t)) = &mut r.validation {
        for row in t.rows.iter_mut().filter(|row| {
            row[3] == Cell::Text("5".into()) && row[6] == Cell::Text("validation_mae".into())
        }) {
            row[7] = Cell::Real(0.2);
        }
    }
    let s = assemble(&r, &ctx(), now());
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
    let s = assemble(&r, &ctx(), now());
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
