//! Every official example in `tests/data/azure-examples/` (see `SOURCES.tsv`) read with
//! relcon's wire types and, where relcon uses the shape, mapped into domain records.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use relcon::azure::map;
use relcon::azure::wire::{ArmList, DevOpsList, devops as dw, ml as mw, monitor as lw};
use relcon::domain::platform::{
    ApprovalStatus, ApprovalType, AssetLocation, Cell, ColumnType, DeploymentStatus,
    EnvironmentStatus, ProvisioningState, ReleaseStatus,
};
use relcon::domain::{ModelVersion, Stage};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/azure-examples")
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

/// The body of one documented response.
fn body(rel: &str, status: &str) -> Value {
    load(rel)["responses"][status]["body"].clone()
}

/// Every response body of an example, with its status.
fn bodies(rel: &str) -> Vec<(String, Value)> {
    let v = load(rel);
    let responses = v["responses"].as_object().unwrap();
    responses
        .iter()
        .filter(|(_, r)| !r["body"].is_null())
        .map(|(s, r)| (s.clone(), r["body"].clone()))
        .collect()
}

fn parse<T: DeserializeOwned>(rel: &str, status: &str, v: Value) -> T {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => t,
        Err(e) => panic!(
            "{rel} ({status}) does not read as {}: at {}: {}",
            std::any::type_name::<T>(),
            e.path(),
            e.inner()
        ),
    }
}

/// Read every response body of `rel` as `T`; returns them for assertions.
fn parse_all<T: DeserializeOwned>(rel: &str) -> Vec<T> {
    let all = bodies(rel);
    assert!(!all.is_empty(), "{rel} has no response body");
    all.into_iter().map(|(s, b)| parse(rel, &s, b)).collect()
}

/// How each example is read; every file in the folders must be listed here.
const ML: &[&str] = &[
    "ml/batchEndpoint_get.json",
    "ml/batchEndpoint_list.json",
    "ml/batchEndpoint_update.json",
    "ml/batchEndpoint_createOrUpdate.json",
    "ml/batchDeployment_get.json",
    "ml/batchDeployment_list.json",
    "ml/batchDeployment_update.json",
    "ml/batchDeployment_createOrUpdate.json",
    "ml/modelContainer_get.json",
    "ml/modelContainer_list.json",
    "ml/modelVersion_get.json",
    "ml/modelVersion_list.json",
    "ml/environmentVersion_get.json",
    "ml/environmentVersion_list.json",
    "ml/dataVersion_get.json",
    "ml/dataVersion_list.json",
    "ml/registryModelVersion_get.json",
    "ml/registryModelVersion_list.json",
];

const DEVOPS: &[&str] = &[
    "devops/release_approvals_list_pending.json",
    "devops/release_approvals_list_pending_for_release.json",
    "devops/release_approvals_list_pending_for_user.json",
    "devops/release_approval_update_approved.json",
    "devops/release_environment_update.json",
    "devops/release_get.json",
    "devops/release_list_for_definition.json",
    "devops/release_list_all.json",
    "devops/release_create.json",
    "devops/release_deployments_list_for_definition.json",
];

/// Examples of calls relcon does not make (docs/AZURE.md lists none of them): YAML-pipeline
/// approvals (`_apis/pipelines/approvals`, a different API from classic release approvals),
/// release gates and manual interventions. They are checked to be JSON with a body, no more.
const OUTSIDE_CONTRACT: &[&str] = &[
    "devops/pipelines_approval_get.json",
    "devops/pipelines_approvals_query.json",
    "devops/pipelines_approvals_update.json",
    "devops/release_gate_ignore.json",
    "devops/release_manual_intervention_resume.json",
];

const MONITOR: &[&str] = &[
    "monitor/loganalytics_query_post.json",
    "monitor/appinsights_query_post.json",
];

const SPEC_EXCERPT: &str = "ml/lro_batchEndpoints_patch_put.spec.excerpt.json";

#[test]
fn every_example_file_is_accounted_for() {
    let mut on_disk = BTreeSet::new();
    for dir in ["ml", "devops", "monitor"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                on_disk.insert(format!("{dir}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    let listed: BTreeSet<String> = ML
        .iter()
        .chain(DEVOPS)
        .chain(OUTSIDE_CONTRACT)
        .chain(MONITOR)
        .chain([&SPEC_EXCERPT])
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(
        on_disk, listed,
        "an example was added or removed: classify it here"
    );
    for rel in OUTSIDE_CONTRACT {
        assert!(body(rel, "200").is_object(), "{rel}");
    }
}

// ---- Azure ML ----

#[test]
fn batch_endpoints() {
    for rel in [
        "ml/batchEndpoint_get.json",
        "ml/batchEndpoint_update.json",
        "ml/batchEndpoint_createOrUpdate.json",
    ] {
        for e in parse_all::<mw::BatchEndpoint>(rel) {
            let mapped = map::endpoint(Stage::Test, e);
            assert_eq!(mapped.name, "string", "{rel}");
            assert_eq!(
                mapped.default_deployment.as_deref(),
                Some("string"),
                "{rel}"
            );
            // No plant_name tag: the description names the plant.
            assert_eq!(mapped.plant_name.as_deref(), Some("string"), "{rel}");
        }
    }
    // A PUT's request body is the resource too.
    let put = load("ml/batchEndpoint_createOrUpdate.json")["parameters"]["body"].clone();
    parse::<mw::BatchEndpoint>("ml/batchEndpoint_createOrUpdate.json", "request", put);
    let list: Vec<ArmList<mw::BatchEndpoint>> = parse_all("ml/batchEndpoint_list.json");
    assert_eq!(list[0].value.len(), 1);
    assert_eq!(list[0].next_link.as_deref(), Some("string"));
    let updated = body("ml/batchEndpoint_update.json", "200");
    let e = map::endpoint(Stage::Prod, parse("update", "200", updated));
    assert_eq!(e.provisioning, ProvisioningState::Creating);
}

#[test]
fn batch_deployments() {
    let d: mw::BatchDeployment = parse(
        "ml/batchDeployment_get.json",
        "200",
        body("ml/batchDeployment_get.json", "200"),
    );
    let props = d.properties.clone().unwrap();
    assert_eq!(
        props.model.as_ref().and_then(|m| m.asset_id.as_deref()),
        Some("string")
    );
    assert_eq!(props.environment_id.as_deref(), Some("string"));
    let mapped = map::deployment(Stage::Prod, "ep", d);
    assert_eq!(
        (mapped.endpoint.as_str(), mapped.name.as_str()),
        ("ep", "string")
    );
    assert_eq!(mapped.description, "string");
    // "string" is no asset id: neither parses, and neither fails the record.
    assert_eq!((mapped.model, mapped.environment), (None, None));
    assert_eq!(mapped.provisioning, ProvisioningState::Creating);
    assert_eq!(
        mapped.modified_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2020-01-01T12:34:56.999+00:00")
    );
    for rel in [
        "ml/batchDeployment_update.json",
        "ml/batchDeployment_createOrUpdate.json",
    ] {
        let all: Vec<mw::BatchDeployment> = parse_all(rel);
        assert!(
            all.iter().all(|d| d.name.as_deref() == Some("string")),
            "{rel}"
        );
    }
    let put = load("ml/batchDeployment_createOrUpdate.json")["parameters"]["body"].clone();
    let put: mw::BatchDeployment = parse("createOrUpdate", "request", put);
    assert!(put.properties.and_then(|p| p.model).is_some());
    let list: Vec<ArmList<mw::BatchDeployment>> = parse_all("ml/batchDeployment_list.json");
    assert_eq!(list[0].value.len(), 1);
}

#[test]
fn model_containers_and_versions() {
    for rel in ["ml/modelContainer_get.json"] {
        for c in parse_all::<mw::ModelContainer>(rel) {
            let m = map::model_container(c);
            assert_eq!(m.name, "testContainer");
            assert_eq!(m.latest_version, None);
        }
    }
    let list: Vec<ArmList<mw::ModelContainer>> = parse_all("ml/modelContainer_list.json");
    assert_eq!(list[0].value[0].name.as_deref(), Some("testContainer"));
    assert_eq!(list[0].next_link.as_deref(), Some("nextlink"));

    for rel in [
        "ml/modelVersion_get.json",
        "ml/registryModelVersion_get.json",
    ] {
        let v: mw::ModelVersion = parse(rel, "200", body(rel, "200"));
        let tags = &v.properties.as_ref().unwrap().tags;
        assert_eq!(
            tags.get("string").map(String::as_str),
            Some("string"),
            "{rel}"
        );
        // The example's version is named "string": not a model version number.
        assert!(map::model_version(AssetLocation::Registry, "m", v.clone()).is_none());
        let mut numbered = v;
        numbered.name = Some("3".into());
        let r = map::model_version(AssetLocation::Registry, "m", numbered).unwrap();
        assert_eq!(r.version, ModelVersion(3));
        assert_eq!(r.tags.get("string"), Some("string"));
        assert_eq!(
            r.created_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2020-01-01T12:34:56.999+00:00")
        );
    }
    for rel in [
        "ml/modelVersion_list.json",
        "ml/registryModelVersion_list.json",
    ] {
        let list: Vec<ArmList<mw::ModelVersion>> = parse_all(rel);
        assert_eq!(list[0].value.len(), 1, "{rel}");
    }
}

#[test]
fn environment_and_data_versions() {
    let rel = "ml/environmentVersion_get.json";
    let v: mw::EnvironmentVersion = parse(rel, "200", body(rel, "200"));
    let r = map::environment_version(AssetLocation::Registry, "forecast-env", v);
    assert_eq!(
        (r.name.as_str(), r.version.as_str()),
        ("forecast-env", "string")
    );
    assert!(r.created_at.is_some());
    let list: Vec<ArmList<mw::EnvironmentVersion>> = parse_all("ml/environmentVersion_list.json");
    assert_eq!(
        list[0].value[0]
            .properties
            .as_ref()
            .and_then(|p| p.image.as_deref()),
        Some("docker.io/tensorflow/serving:latest")
    );
    let d: Vec<mw::DataVersion> = parse_all("ml/dataVersion_get.json");
    assert_eq!(
        d[0].properties
            .as_ref()
            .and_then(|p| p.data_type.as_deref()),
        Some("uri_file")
    );
    let list: Vec<ArmList<mw::DataVersion>> = parse_all("ml/dataVersion_list.json");
    assert_eq!(list[0].value.len(), 1);
}

#[test]
fn spec_excerpt_documents_the_lro_headers_relcon_reads() {
    // A verbatim fragment of the spec (`"patch": {...}, "put": {...}`): wrapped, it is JSON.
    let text = std::fs::read_to_string(root().join(SPEC_EXCERPT)).unwrap();
    let v: Value =
        serde_json::from_str(&format!("{{{}}}", text.trim().trim_end_matches(','))).unwrap();
    let put_201 = &v["put"]["responses"]["201"]["headers"];
    assert!(put_201.get("Azure-AsyncOperation").is_some(), "{put_201}");
    let patch_202 = &v["patch"]["responses"]["202"]["headers"];
    assert!(patch_202.get("Location").is_some() && patch_202.get("Retry-After").is_some());
    // No schema-less bodies in it: every response body is a `$ref`.
    for op in ["put", "patch"] {
        for (status, r) in v[op]["responses"].as_object().unwrap() {
            if let Some(schema) = r.get("schema") {
                assert!(schema.get("$ref").is_some(), "{op} {status}");
            }
        }
    }
}

// ---- Azure DevOps ----

#[test]
fn pending_approvals() {
    let rel = "devops/release_approvals_list_pending.json";
    let list: DevOpsList<dw::ReleaseApproval> = parse(rel, "200", body(rel, "200"));
    assert_eq!(list.count, Some(2));
    let ctx = map::ApprovalContext::default();
    let a: Vec<_> = list
        .value
        .into_iter()
        .map(|a| map::approval(a, &ctx))
        .collect();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].id, 2);
    assert_eq!(a[0].approver.display_name, "Chuck Reinhart");
    assert_eq!(a[0].approver.unique_name, "fabfiber@outlook.com");
    assert_eq!(a[0].approver.id, "4adb1680-0eac-6149-b5ee-fc8b4f6ca227");
    assert_eq!(a[0].status, ApprovalStatus::Pending);
    assert_eq!(a[0].approval_type, ApprovalType::PreDeploy);
    assert_eq!(
        (a[0].release_id, a[0].release_name.as_str()),
        (2, "Release-2")
    );
    assert_eq!(
        (a[0].stage_ref.as_number(), a[0].stage_name.as_str()),
        (Some(5), "Dev")
    );
    assert_eq!(a[0].approved_by, None);
    assert_eq!(
        a[0].created_on.map(|t| t.to_rfc3339()).as_deref(),
        Some("2017-05-31T16:40:14.470+00:00")
    );
    for rel in [
        "devops/release_approvals_list_pending_for_release.json",
        "devops/release_approvals_list_pending_for_user.json",
    ] {
        let list: Vec<DevOpsList<dw::ReleaseApproval>> = parse_all(rel);
        assert_eq!(list[0].count, Some(list[0].value.len() as u64), "{rel}");
    }
}

#[test]
fn approval_decided() {
    let rel = "devops/release_approval_update_approved.json";
    let a: dw::ReleaseApproval = parse(rel, "200", body(rel, "200"));
    let a = map::approval(a, &map::ApprovalContext::default());
    assert_eq!(a.status, ApprovalStatus::Approved);
    assert_eq!(a.comments, "Good to go!");
    assert_eq!(
        a.approved_by.as_ref().map(|i| i.display_name.as_str()),
        Some("Chuck Reinhart")
    );
    assert_eq!(
        (a.id.as_number(), a.release_id, a.stage_ref.as_number()),
        (Some(20), 3, Some(9))
    );
    // The request body relcon sends has the same two fields.
    let req = &load(rel)["parameters"]["body"];
    assert_eq!(req["status"], "approved");
    assert_eq!(req["comments"], "Good to go!");
}

#[test]
fn one_release() {
    let rel = "devops/release_get.json";
    let r: dw::Release = parse(rel, "200", body(rel, "200"));
    let r = map::release(r);
    assert_eq!((r.id, r.name.as_str()), (18, "Release-18"));
    assert_eq!(r.status, ReleaseStatus::Abandoned);
    assert_eq!(r.description, "Creating Sample release");
    assert_eq!(r.created_by.display_name, "Chuck Reinhart");
    // The primary artifact's `definitionReference.version.id`.
    assert_eq!(r.build_id.as_deref(), Some("2"));
    let names: Vec<&str> = r.environments.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Dev", "QA", "PPE", "PROD"]);
    let dev = &r.environments[0];
    assert_eq!(
        (dev.id.as_number(), dev.definition_environment_id),
        (Some(69), 1)
    );
    assert_eq!(dev.status, EnvironmentStatus::NotStarted);
    assert_eq!(dev.required_approvers, 0);
    assert!(dev.pre_deploy_approvals.is_empty() && dev.deploy_steps.is_empty());
    assert_eq!(r.environments[3].stage(), Some(Stage::Prod));

    let created: Vec<dw::Release> = parse_all("devops/release_create.json");
    let created = map::release(created.into_iter().next().unwrap());
    assert_eq!((created.id, created.build_id.as_deref()), (19, Some("2")));
    assert_eq!(created.environments.len(), 4);
}

#[test]
fn release_lists() {
    for rel in [
        "devops/release_list_for_definition.json",
        "devops/release_list_all.json",
    ] {
        let list: DevOpsList<dw::Release> = parse(rel, "200", body(rel, "200"));
        assert_eq!(list.count, Some(17), "{rel}");
        let releases: Vec<_> = list.value.into_iter().map(map::release).collect();
        assert_eq!(releases.len(), 17);
        assert_eq!(releases[0].id, 18);
        assert_eq!(releases[1].status, ReleaseStatus::Active);
        // Listed without `$expand`: no artifacts, so no build.
        assert!(releases.iter().all(|r| r.build_id.is_none()));
    }
}

#[test]
fn release_deployments() {
    let rel = "devops/release_deployments_list_for_definition.json";
    let list: DevOpsList<dw::ReleaseDeployment> = parse(rel, "200", body(rel, "200"));
    let d = &list.value[0];
    assert_eq!(d.id, Some(79));
    assert_eq!(
        DeploymentStatus::parse(d.deployment_status.as_deref().unwrap()),
        DeploymentStatus::NotDeployed
    );
    // DevOps' "not set" date reads as no date.
    assert_eq!(map::time(d.queued_on.as_deref()), None);
    assert!(map::time(d.started_on.as_deref()).is_some());
    let approval = map::approval(
        d.pre_deploy_approvals[0].clone(),
        &map::ApprovalContext::default(),
    );
    assert_eq!(
        (approval.id.as_number(), approval.status),
        (Some(221), ApprovalStatus::Approved)
    );
    assert_eq!(approval.stage_name, "PROD");
}

#[test]
fn environment_redeployed() {
    let rel = "devops/release_environment_update.json";
    let e: dw::ReleaseEnvironment = parse(rel, "200", body(rel, "200"));
    let e = map::release_environment(e, None);
    assert_eq!((e.id.as_number(), e.name.as_str()), (Some(45), "PROD"));
    assert_eq!(e.status, EnvironmentStatus::Queued);
    assert_eq!(e.definition_environment_id, 23);
    // The request body relcon sends has this shape.
    let req = &load(rel)["parameters"]["body"];
    assert_eq!(req["status"], "inProgress");
    assert!(req["scheduledDeploymentTime"].is_null() && req["variables"].is_object());
}

// ---- Log Analytics ----

#[test]
fn log_analytics_cells_by_column_type() {
    let rel = "monitor/loganalytics_query_post.json";
    let r: lw::QueryResults = parse(rel, "200", body(rel, "200"));
    let t = map::table(r).unwrap();
    assert_eq!(t.columns.len(), 21);
    assert_eq!(t.rows.len(), 2);
    let col = |name: &str| t.column(name).unwrap();
    assert_eq!(t.columns[col("BatchesWithinSla")].1, ColumnType::Long);
    // Strings on the wire, numbers and booleans after decoding.
    assert_eq!(t.rows[0][col("BatchesWithinSla")], Cell::Long(1));
    assert_eq!(t.rows[0][col("BatchesOutsideSla")], Cell::Long(0));
    assert_eq!(t.rows[0][col("AvgLatencyInSeconds")], Cell::Real(1.286));
    assert_eq!(t.rows[1][col("AvgLatencyInSeconds")], Cell::Real(1.7));
    assert_eq!(t.rows[0][col("Quantity")], Cell::Real(0.076408));
    assert_eq!(t.rows[0][col("IsBillable")], Cell::Bool(true));
    assert_eq!(t.rows[0][col("LinkedResourceUri")], Cell::Null);
    assert_eq!(t.rows[0][col("Computer")].as_str(), Some("ContosoSQLSrv1"));
    assert_eq!(
        t.rows[0][col("TimeGenerated")]
            .as_time()
            .map(|t| t.to_rfc3339())
            .as_deref(),
        Some("2017-08-24T06:59:59+00:00")
    );

    let rel = "monitor/appinsights_query_post.json";
    let r: lw::QueryResults = parse(rel, "200", body(rel, "200"));
    let t = map::table(r).unwrap();
    assert_eq!(t.rows.len(), 13);
    assert_eq!(t.rows[0][1], Cell::Long(255));
    assert!(t.rows[0][0].as_time().is_some());
}
