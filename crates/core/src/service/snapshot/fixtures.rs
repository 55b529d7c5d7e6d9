//! Small hand-built platform records for the tests of the refresh (the snapshot's stages and
//! the fan-out's planner): one plant's endpoint and deployments, model versions with their
//! lineage tags, releases with a Production stage, approvals, query tables.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, ApprovalType, AssetLocation, Cell, ColumnType, DeployAttempt,
    Deployment, DeploymentStatus, Endpoint, EnvironmentAsset, EnvironmentStatus, IdentityRef,
    ModelAsset, ModelContainer, ModelVersionRecord, ProvisioningState, ReleaseEnvironment,
    ReleaseRecord, ReleaseStatus, Table,
};
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::Context;
use crate::service::backend::{BackendError, BackendResult, ErrorKind};
use crate::service::fanout::Readings;
use crate::service::queries;
use crate::settings::Settings;

pub(crate) fn ctx() -> Context {
    let text = include_str!("../../../../../configs/relcon.example.toml");
    let settings = Settings::parse(text, "example").unwrap();
    Context::new(&settings, false, "test".into())
}

pub(crate) fn who(name: &str) -> IdentityRef {
    IdentityRef {
        id: format!("id-{name}").into(),
        display_name: name.into(),
        unique_name: format!("{name}@contoso.com").into(),
    }
}

pub(crate) const CONFIG: &str = "plant_id: PLANT001\ncircuit_id: CIRCUIT01\nmodel_name: plant001-circuit01\nfeatures: [t]\ncutoff_date: '2025-11-01'\ndelta_version: 1\npipeline_component_version: 1.0.0\ntraining_days: 365\nforecast_horizon: 7\nhyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  epochs: 50\n  batch_size: 32\nenvironment_version: 1.5.0\n";
pub(crate) const CONFIG_HASH: &str = "4c206af59d45";

pub(crate) fn version(
    model: &str,
    v: u32,
    hash: &str,
    commit: &str,
    build: &str,
) -> ModelVersionRecord {
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
        tags: tags.into(),
        created_at: None,
        description: None,
    }
}

pub(crate) fn deployment(stage: Stage, plant: &str, circuit: &str, v: u32) -> Deployment {
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

pub(crate) fn endpoint(stage: Stage, plant: &str) -> Endpoint {
    Endpoint {
        stage,
        name: format!("batch-endpoint-{plant}"),
        plant_name: Some("Rotterdam Polymer Works".into()),
        default_deployment: None,
        provisioning: ProvisioningState::Succeeded,
    }
}

pub(crate) fn approval(
    id: u32,
    release: u32,
    env: u32,
    env_name: &str,
    status: ApprovalStatus,
    by: Option<&str>,
) -> ApprovalRecord {
    ApprovalRecord {
        id: id.into(),
        status,
        approval_type: ApprovalType::PreDeploy,
        approver: who("approvers"),
        approved_by: by.map(who),
        comments: String::new(),
        release_id: release,
        release_name: format!("Release-{release}").into(),
        stage_ref: env.into(),
        stage_name: env_name.into(),
        attempt: 1,
        created_on: None,
        modified_on: None,
        blocked_approvers: Vec::new(),
        caller_may_decide: None,
    }
}

pub(crate) fn release(
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
        id: eid.into(),
        definition_environment_id: eid % 10,
        name: name.into(),
        status,
        required_approvers: required,
        requester_blocked: None,
        requested_for: None,
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
        name: format!("Release-{id}").into(),
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

pub(crate) fn table(columns: &[(&str, ColumnType)], rows: Vec<Vec<Cell>>) -> Table {
    Table {
        columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        rows,
        ..Table::default()
    }
}

pub(crate) fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn container(name: &str, latest: u32) -> ModelContainer {
    ModelContainer {
        name: name.into(),
        latest_version: Some(ModelVersion(latest)),
    }
}

/// A read that failed on the server, naming `what`.
pub(crate) fn server_error(what: &str) -> BackendError {
    BackendError::new(
        ErrorKind::Server,
        "GET",
        &format!("http://x/{what}"),
        "boom",
    )
}

fn plant_and_circuit(circuit: &str) -> [Cell; 2] {
    let (p, c) = circuit.split_once('/').unwrap();
    [text(p), text(c)]
}

/// Daily values ending on 25 November 2026, as a query's `days` and `values` lists.
fn daily(values: &[f64]) -> [Cell; 2] {
    let days: Vec<String> = (0..values.len())
        .map(|i| {
            Utc.with_ymd_and_hms(2026, 11, 26 - values.len() as u32 + i as u32, 0, 0, 0)
                .unwrap()
                .to_rfc3339()
        })
        .collect();
    [
        Cell::Dynamic(serde_json::json!(days).into()),
        Cell::Dynamic(serde_json::json!(values).into()),
    ]
}

/// The drift query's table: `(circuit, feature, metric, daily values)` a row.
pub(crate) fn drift_table(rows: &[(&str, &str, &str, &[f64])]) -> Table {
    use ColumnType::{Dynamic, String};
    table(
        &[
            ("plant_id", String),
            ("circuit_id", String),
            ("feature", String),
            ("metric", String),
            ("days", Dynamic),
            ("values", Dynamic),
        ],
        rows.iter()
            .map(|(circuit, feature, metric, values)| {
                let mut row = plant_and_circuit(circuit).to_vec();
                row.extend([text(feature), text(metric)]);
                row.extend(daily(values));
                row
            })
            .collect(),
    )
}

/// The accuracy query's table: `(circuit, daily MAE)` a row.
pub(crate) fn accuracy_table(rows: &[(&str, &[f64])]) -> Table {
    use ColumnType::{Dynamic, String};
    table(
        &[
            ("plant_id", String),
            ("circuit_id", String),
            ("days", Dynamic),
            ("values", Dynamic),
        ],
        rows.iter()
            .map(|(circuit, values)| {
                let mut row = plant_and_circuit(circuit).to_vec();
                row.extend(daily(values));
                row
            })
            .collect(),
    )
}

/// The validation query's table, every run on 21 November 2026 with environment 1.5.0:
/// `(circuit, model version, release id, metric name, value)` a row.
pub(crate) fn validation_table(rows: &[(&str, &str, &str, &str, f64)]) -> Table {
    use ColumnType::{Datetime, Real, String};
    let at = Cell::Time(Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap());
    table(
        &[
            ("at", Datetime),
            ("plant_id", String),
            ("circuit_id", String),
            ("model_version", String),
            ("release_id", String),
            ("environment_version", String),
            ("metric_name", String),
            ("value", Real),
        ],
        rows.iter()
            .map(|(circuit, model_version, release, metric, value)| {
                let mut row = vec![at.clone()];
                row.extend(plant_and_circuit(circuit));
                row.extend([
                    text(model_version),
                    text(release),
                    text("1.5.0"),
                    text(metric),
                    Cell::Real(*value),
                ]);
                row
            })
            .collect(),
    )
}

/// The model of PLANT001/CIRCUIT01, and of CIRCUIT02.
pub(crate) const M1: &str = "plant001-circuit01";
pub(crate) const M2: &str = "plant001-circuit02";
/// Where CIRCUIT01's config lives.
pub(crate) const PATH1: &str = "/config/circuits/PLANT001_CIRCUIT01.yaml";

pub(crate) fn circuit_ref(s: &str) -> CircuitRef {
    s.parse().unwrap()
}

/// PLANT001's deployments in Test and Prod: `(circuit, version)` each.
pub(crate) fn plant001_deployments(
    test: &[(&str, u32)],
    prod: &[(&str, u32)],
) -> Vec<(Stage, String, BackendResult<Vec<Deployment>>)> {
    [(Stage::Test, test), (Stage::Prod, prod)]
        .into_iter()
        .map(|(stage, models)| {
            let deployments = models
                .iter()
                .map(|(circuit, v)| deployment(stage, "plant001", circuit, *v))
                .collect();
            (stage, "batch-endpoint-plant001".to_owned(), Ok(deployments))
        })
        .collect()
}

/// The registry's versions of CIRCUIT01 (v4 of build 800, tagged with its config's hash at
/// c0ffee4; v5 of build 900) and of CIRCUIT02 (v2 of build 800), and CIRCUIT01's config at
/// c0ffee4.
pub(crate) fn registry_lineage(r: &mut Readings) {
    r.registry_versions.insert(
        M1.into(),
        Ok(vec![
            version(M1, 4, CONFIG_HASH, "c0ffee4", "800"),
            version(M1, 5, "aaaaaaaaaaaa", "c0ffee5", "900"),
        ]),
    );
    r.registry_versions.insert(
        M2.into(),
        Ok(vec![version(M2, 2, "bbbbbbbbbbbb", "beef002", "800")]),
    );
    r.configs
        .insert((PATH1.into(), "c0ffee4".into()), Ok(CONFIG.into()));
}

/// Release 12 (build 900) waiting for its second Production approval (carol gave the first)
/// and release 11 (build 800) through Production, newest first; and the approval pending.
pub(crate) fn releases_awaiting_approval() -> (Vec<ReleaseRecord>, Vec<ApprovalRecord>) {
    let approved = approval(
        501,
        12,
        123,
        "Production",
        ApprovalStatus::Approved,
        Some("carol"),
    );
    let pending = approval(502, 12, 123, "Production", ApprovalStatus::Pending, None);
    let releases = vec![
        release(
            12,
            "900",
            EnvironmentStatus::NotStarted,
            vec![approved, pending.clone()],
        ),
        release(11, "800", EnvironmentStatus::Succeeded, vec![]),
    ];
    (releases, vec![pending])
}

/// What each error is about, in order.
pub(crate) fn scopes(errors: &[crate::domain::fleet::SnapshotError]) -> Vec<&str> {
    errors.iter().map(|e| e.scope.as_str()).collect()
}

fn decoded<T>(
    t: Table,
    decode: fn(&Table) -> Result<std::collections::HashMap<CircuitRef, T>, queries::MissingColumn>,
) -> BackendResult<queries::Decoded<T>> {
    queries::Decoded::of(&t, decode)
        .map_err(|e| BackendError::new(ErrorKind::Decode, "", "", e.to_string()))
}

/// A drift table as a refresh reads it: decoded (a missing column is a failed read).
pub(crate) fn drift_read(t: Table) -> BackendResult<queries::DriftRead> {
    decoded(t, queries::decode_drift)
}

/// An accuracy table, decoded.
pub(crate) fn accuracy_read(t: Table) -> BackendResult<queries::AccuracyRead> {
    decoded(t, queries::decode_accuracy)
}

/// A validation table, decoded.
pub(crate) fn validation_read(t: Table) -> BackendResult<queries::ValidationRead> {
    decoded(t, queries::decode_validation)
}
