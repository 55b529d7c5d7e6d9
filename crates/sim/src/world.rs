//! The simulated platform's state: people, builds, model versions, releases with their
//! environments, attempts and approvals, the Test and Prod batch deployments, long-running
//! operations and validation results. Transitions live in `machine.rs`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::configs::Overrides;
use super::fleet::Fleet;
use crate::domain::Stage;

/// Fixed names and ids of the simulated tenant, subscription, workspaces and project.
#[derive(Debug, Clone)]
pub struct Ids {
    pub tenant: String,
    pub subscription: String,
    pub location: &'static str,
    pub rg: [&'static str; 3],
    pub workspace: [&'static str; 3],
    pub registry_rg: &'static str,
    pub registry: &'static str,
    pub org: &'static str,
    pub project: &'static str,
    pub project_id: String,
    pub collection_id: String,
    pub repo: &'static str,
    pub repo_id: String,
    pub la_workspace: String,
    /// The Application Insights resource's Application ID (the `/ai` route).
    pub app_insights_app: String,
    pub definition_id: u32,
    pub definition_name: &'static str,
    pub build_definition_id: u32,
    pub build_definition_name: &'static str,
    pub environment_name: &'static str,
    pub approver_group: &'static str,
}

impl Ids {
    pub fn new() -> Ids {
        Ids {
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            subscription: "6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60".into(),
            location: "westeurope",
            rg: ["rg-ml-dev", "rg-ml-test", "rg-ml-prod"],
            workspace: ["mlw-forecast-dev", "mlw-forecast-test", "mlw-forecast-prod"],
            registry_rg: "rg-ml-shared",
            registry: "mlr-forecast",
            org: "contoso",
            project: "forecasting",
            project_id: guid("project:forecasting"),
            collection_id: guid("collection:contoso"),
            repo: "forecast-config",
            repo_id: guid("repo:forecast-config"),
            la_workspace: "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b".into(),
            app_insights_app: "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345".into(),
            definition_id: 1,
            definition_name: "forecast-models",
            build_definition_id: 7,
            build_definition_name: "forecast-training",
            environment_name: "forecast-tf",
            approver_group: "[forecasting]\\ML Release Approvers",
        }
    }

    /// Index into the per-workspace arrays.
    pub fn ws_index(stage: Stage) -> usize {
        match stage {
            Stage::Dev | Stage::Registry => 0,
            Stage::Test => 1,
            Stage::Prod => 2,
        }
    }
}

impl Default for Ids {
    fn default() -> Self {
        Ids::new()
    }
}

/// A deterministic GUID (v4 layout) from any text.
pub fn guid(seed_text: &str) -> String {
    let d = Sha256::digest(seed_text.as_bytes());
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A deterministic 40-hex string (commits, object ids).
pub fn sha40(seed_text: &str) -> String {
    let d = Sha256::digest(seed_text.as_bytes());
    d.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// Someone who acts on the platform. Index 0 is the release pipeline's service identity.
#[derive(Debug, Clone)]
pub struct Person {
    /// The `relcon-sim.<name>` token name (lower case).
    pub name: String,
    pub id: String,
    pub display: String,
    pub unique: String,
}

pub const SERVICE: usize = 0;

const KNOWN_PEOPLE: [(&str, &str); 5] = [
    ("alice", "Alice Moreau"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Nguyen"),
    ("dave", "Dave Lindqvist"),
    ("erin", "Erin Castillo"),
];
pub const ALICE: usize = 1;
pub const BOB: usize = 2;
pub const CAROL: usize = 3;
pub const DAVE: usize = 4;
pub const ERIN: usize = 5;

const SURNAMES: [&str; 8] = [
    "Fischer", "Haddad", "Ivanova", "Jensen", "Kowalski", "Laurent", "Mensah", "Tanaka",
];

impl Person {
    fn service(org: &str) -> Person {
        Person {
            name: "build-service".into(),
            id: guid("person:build-service"),
            display: format!("Project Collection Build Service ({org})"),
            unique: format!("Build\\{}", guid("build-service-account")),
        }
    }

    fn named(name: &str, display: &str) -> Person {
        Person {
            name: name.to_owned(),
            id: guid(&format!("person:{name}")),
            display: display.to_owned(),
            unique: format!("{name}@contoso.com"),
        }
    }

    /// Someone first seen in a bearer token: `frank` becomes "Frank Jensen".
    fn new_from_token(name: &str) -> Person {
        let mut chars = name.chars();
        let first: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        let surname = SURNAMES[name.bytes().map(usize::from).sum::<usize>() % SURNAMES.len()];
        Person::named(name, &format!("{first} {surname}"))
    }
}

pub fn initial_people(org: &str) -> Vec<Person> {
    let mut people = vec![Person::service(org)];
    people.extend(KNOWN_PEOPLE.iter().map(|(n, d)| Person::named(n, d)));
    people
}

/// A training build: one PR merge commit that trained one or several circuits.
#[derive(Debug, Clone)]
pub struct Build {
    pub id: u32,
    pub number: String,
    pub commit: String,
    pub pr: u32,
    pub at: DateTime<Utc>,
    pub requested_by: usize,
    pub models: Vec<(usize, u32)>,
}

/// One model version of a circuit, as training registered it in Dev.
#[derive(Debug, Clone)]
pub struct ModelVer {
    pub version: u32,
    pub build: usize,
    /// The config it was trained from: HEAD with these overrides.
    pub overrides: Overrides,
    pub tag_hash: String,
    pub cutoff: String,
    pub delta: String,
    pub pcv: String,
    pub created: DateTime<Utc>,
    /// Set when the Registry stage of its release succeeded.
    pub registry_at: Option<DateTime<Utc>>,
}

/// Validation quality of a circuit: its typical MAE and the ratios of the other metrics.
#[derive(Debug, Clone, Copy)]
pub struct Quality {
    pub mae: f64,
    pub rmse_ratio: f64,
    pub mape_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct CircuitState {
    pub versions: Vec<ModelVer>,
    /// Which Prod model served from when (for monitoring).
    pub prod_serving: Vec<(DateTime<Utc>, u32)>,
    pub quality: Quality,
}

/// The stages of the release definition, in order.
pub const ENV_NAMES: [&str; 3] = ["Registry", "Test", "Production"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStatus {
    Active,
    Abandoned,
}

/// Where one deployment attempt of an environment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    AwaitingApproval,
    Deploying {
        start_at: DateTime<Utc>,
        done_at: DateTime<Utc>,
    },
    Succeeded,
    Rejected,
    Canceled,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub deployment_id: u32,
    pub attempt: u32,
    pub reason: &'static str,
    pub requested_by: usize,
    pub queued_on: DateTime<Utc>,
    pub started_on: Option<DateTime<Utc>>,
    pub completed_on: Option<DateTime<Utc>>,
    pub phase: Phase,
    pub modified_on: DateTime<Utc>,
    pub modified_by: usize,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub id: u32,
    pub def_id: u32,
    pub name: &'static str,
    /// Approvals needed before deploying (0: automated).
    pub required: u32,
    pub approvals: Vec<usize>,
    pub attempts: Vec<Attempt>,
    pub created_on: DateTime<Utc>,
    pub modified_on: DateTime<Utc>,
    pub trigger_reason: &'static str,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub id: u32,
    pub name: String,
    pub build: usize,
    pub created_on: DateTime<Utc>,
    pub created_by: usize,
    pub modified_on: DateTime<Utc>,
    pub modified_by: usize,
    pub description: String,
    pub status: ReleaseStatus,
    /// `(ENVIRONMENT_VERSION, PREVIOUS_ENVIRONMENT_VERSION)` of an environment-only release.
    pub env_only: Option<(String, String)>,
    pub envs: [Env; 3],
    /// Circuits whose test validation fails in this release.
    pub failing: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Canceled,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Canceled => "canceled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Approval {
    pub id: u32,
    pub release: usize,
    pub env: usize,
    pub attempt: u32,
    pub automated: bool,
    pub status: ApprovalStatus,
    pub approved_by: Option<usize>,
    pub comments: String,
    pub created_on: DateTime<Utc>,
    pub modified_on: DateTime<Utc>,
    pub revision: u32,
}

/// A batch deployment in Test or Prod.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    pub circuit: Option<usize>,
    pub model_asset: String,
    pub environment_id: String,
    pub description: String,
    pub tags: BTreeMap<String, String>,
    /// Other `properties` a PUT sent, echoed back as the service keeps them.
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub provisioning: &'static str,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub plant: Option<usize>,
    pub description: String,
    pub tags: BTreeMap<String, String>,
    pub default_deployment: String,
    pub deployments: Vec<Deployment>,
    pub provisioning: &'static str,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
}

/// Test and Prod serve; Dev only holds models.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub endpoints: Vec<Endpoint>,
    pub by_name: HashMap<String, usize>,
}

impl Workspace {
    pub fn endpoint(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Followed through `Azure-AsyncOperation`.
    Put,
    /// Followed through `Location`.
    Patch,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub kind: OpKind,
    pub stage: Stage,
    pub endpoint: usize,
    /// `None` for an endpoint operation.
    pub deployment: Option<usize>,
    pub started: DateTime<Utc>,
    pub done_at: DateTime<Utc>,
    pub done: bool,
}

/// One test-validation result (three metrics), as validation writes it to `AppMetrics`.
#[derive(Debug, Clone)]
pub struct ValidationRow {
    pub at: DateTime<Utc>,
    pub circuit: usize,
    pub model_version: u32,
    pub release_id: u32,
    pub env_version: String,
    pub mae: f64,
    pub rmse: f64,
    pub mape: f64,
}

/// Where the demo's interesting things are, so tests need not hard-code them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioSummary {
    pub circuits: usize,
    pub plants: usize,
    pub releases: usize,
    /// The Prod model that degraded: `PLANT007/CIRCUIT03` in the demo fleet.
    pub incident_circuit: String,
    /// The release that deployed the degraded model (~2 days ago).
    pub incident_release_id: u32,
    /// Its degraded model version and the clean version it replaced.
    pub incident_version: u32,
    pub rollback_version: u32,
    /// The earlier, fully succeeded release that deployed the rollback target, and every
    /// circuit it covers (its blast radius when redeployed).
    pub rollback_release_id: u32,
    pub rollback_release_circuits: Vec<String>,
    /// The Prod model whose `training_hash` tag does not match its config at `git_commit`.
    pub lineage_break_circuit: String,
    /// The pending environment-only release (1.5.0 -> 1.5.1).
    pub environment_release_id: u32,
    pub environment_failing_circuits: Vec<String>,
    /// The one pending Production approval requested by alice.
    pub alice_release_id: u32,
    /// The Production approval already approved by one of two approvers.
    pub half_approved_release_id: u32,
    /// The big Registry release whose circuits share one identical config change.
    pub identical_change_release_id: u32,
    pub identical_change_circuits: usize,
    /// `key: 'old' -> 'new'`.
    pub identical_change: String,
    /// Circuits of that release with an extra, different change.
    pub odd_ones_out: Vec<String>,
    /// Releases pending approval per stage at start, and their pending approval records.
    pub pending_registry_releases: Vec<u32>,
    pub pending_production_releases: Vec<u32>,
    pub production_releases_passing: Vec<u32>,
    pub production_releases_failing: Vec<u32>,
    pub pending_registry_approvals: usize,
    pub pending_production_approvals: usize,
    /// A release whose Test stage is deploying at start.
    pub in_progress_release_id: u32,
    pub rejected_release_ids: Vec<u32>,
    pub abandoned_release_ids: Vec<u32>,
    /// Circuits whose drift is over an alert threshold.
    pub drift_alert_circuits: Vec<String>,
    /// The circuit whose nightly Prod scoring job failed last night (with a Sev2 alert).
    #[serde(default)]
    pub failing_job_circuit: String,
    /// The circuit whose Prod scoring schedule stopped three days ago (no run in 26 hours).
    #[serde(default)]
    pub stale_job_circuit: String,
    /// Circuits with an active Azure Monitor alert at start.
    #[serde(default)]
    pub alerted_circuits: Vec<String>,
}

pub const RELEASE_ID_BASE: u32 = 1;
pub const ENV_ID_BASE: u32 = 1000;
pub const APPROVAL_ID_BASE: u32 = 5000;
pub const DEPLOYMENT_ID_BASE: u32 = 8000;

/// Everything the simulator knows.
#[derive(Debug)]
pub struct World {
    pub ids: Ids,
    pub seed: u64,
    pub deploy_time: Duration,
    pub update_time: Duration,
    /// A redeploy waits for the stage's approvals again (`--redeploy-approvals`).
    pub redeploy_approvals: bool,
    /// DevOps' approval option `releaseCreatorCanBeApprover` of the manual stages (off with
    /// `--requester-cannot-approve`).
    pub release_creator_can_be_approver: bool,
    /// The most records one query result holds before the service cuts it with a
    /// `PartialError` (Log Analytics: 500,000; smaller in tests of the client's split).
    pub query_max_rows: usize,
    pub fleet: Fleet,
    /// Circuit index by id. Not a binary search over the fleet: generated fleets are in plant
    /// number order, which is not the ids' string order past PLANT999.
    pub circuit_by_ref: HashMap<crate::domain::CircuitRef, usize>,
    pub circuits: Vec<CircuitState>,
    pub people: Vec<Person>,
    pub builds: Vec<Build>,
    pub commit_index: HashMap<String, usize>,
    pub releases: Vec<Release>,
    pub approvals: Vec<Approval>,
    /// Dev, Test, Prod.
    pub workspaces: [Workspace; 3],
    /// `(endpoint, deployment)` of each circuit in Test (0) and Prod (1).
    pub circuit_deployments: Vec<[Option<(usize, usize)>; 2]>,
    pub ops: Vec<Operation>,
    /// Environments whose latest attempt is deploying (what `advance` has to look at).
    pub active: Vec<(usize, usize)>,
    pub validation: Vec<ValidationRow>,
    /// Environment versions in the registry: `(version, created)`.
    pub env_versions: Vec<(String, DateTime<Utc>)>,
    /// MLTable data versions (date strings) of the training data asset.
    pub data_versions: Vec<(String, DateTime<Utc>)>,
    pub monitor: super::monitor::MonitorPlan,
    /// Azure Monitor alerts (`sim::alerts`).
    pub alerts: Vec<super::alerts::SimAlert>,
    /// Which nightly scoring runs went wrong (`sim::jobs`).
    pub jobs: super::jobs::JobPlan,
    pub scenario: ScenarioSummary,
    pub next_env_id: u32,
    pub next_deployment_id: u32,
    /// Processed up to here (transitions are applied lazily, in time order).
    pub clock: DateTime<Utc>,
    /// Bumped by every change to the world: what cached JSON is valid for.
    pub revision: u64,
    /// Release JSON by `(release index, expand bits)`, with the revision it was made at. The
    /// release list is the largest response the simulator builds, and it rarely changes.
    pub release_json_cache: std::cell::RefCell<HashMap<(usize, u8), (u64, String)>>,
    /// The Azure Pipelines (YAML) face of this world and what only it has (rollback runs).
    pub yaml: super::yaml::YamlState,
}

impl World {
    pub fn person(&self, i: usize) -> &Person {
        &self.people[i.min(self.people.len() - 1)]
    }

    /// The person a token names; created on first sight.
    pub fn person_by_name(&mut self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        if let Some(i) = self.people.iter().position(|p| p.name == name) {
            return i;
        }
        self.people.push(Person::new_from_token(&name));
        self.people.len() - 1
    }

    /// The index of a circuit (the fleet is sorted by plant and circuit).
    pub fn circuit_index(&self, r: &crate::domain::CircuitRef) -> Option<usize> {
        self.circuit_by_ref.get(r).copied()
    }

    pub fn release_index(&self, id: u32) -> Option<usize> {
        let i = id.checked_sub(RELEASE_ID_BASE)? as usize;
        (i < self.releases.len()).then_some(i)
    }

    pub fn approval_index(&self, id: u32) -> Option<usize> {
        let i = id.checked_sub(APPROVAL_ID_BASE)? as usize;
        (i < self.approvals.len()).then_some(i)
    }

    /// The release models: `(circuit, version)` of its build.
    pub fn release_models(&self, r: usize) -> &[(usize, u32)] {
        &self.builds[self.releases[r].build].models
    }

    pub fn model_name(&self, c: usize) -> String {
        self.fleet.circuits[c].r.render("{plant}-{circuit}")
    }

    pub fn version(&self, c: usize, v: u32) -> Option<&ModelVer> {
        self.circuits
            .get(c)?
            .versions
            .get((v as usize).checked_sub(1)?)
    }

    pub fn registry_asset(&self, c: usize, v: u32) -> String {
        format!(
            "azureml://registries/{}/models/{}/versions/{v}",
            self.ids.registry,
            self.model_name(c)
        )
    }

    pub fn environment_asset(&self, version: &str) -> String {
        format!(
            "azureml://registries/{}/environments/{}/versions/{version}",
            self.ids.registry, self.ids.environment_name
        )
    }

    /// The deployment serving a circuit in Test or Prod.
    pub fn circuit_deployment(&self, stage: Stage, c: usize) -> Option<&Deployment> {
        let slot = if stage == Stage::Prod { 1 } else { 0 };
        let (e, d) = self.circuit_deployments.get(c)?[slot]?;
        self.workspaces[Ids::ws_index(stage)]
            .endpoints
            .get(e)?
            .deployments
            .get(d)
    }

    /// Model version a deployment points at, when it is this circuit's registry model.
    pub fn deployed_version(&self, stage: Stage, c: usize) -> Option<u32> {
        let d = self.circuit_deployment(stage, c)?;
        let asset = crate::domain::platform::ModelAsset::parse(&d.model_asset)?;
        (asset.name == self.model_name(c)).then_some(asset.version.0)
    }

    /// The environment version a deployment runs.
    pub fn deployed_environment(&self, stage: Stage, c: usize) -> Option<String> {
        let d = self.circuit_deployment(stage, c)?;
        crate::domain::platform::EnvironmentAsset::parse(&d.environment_id).map(|e| e.version)
    }
}
