//! Records of the platform's state as relcon reads it: deployments, model versions, releases,
//! approvals, query tables. `azure/` maps REST wire types into these in one place; everything
//! above works with these and never sees JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::hash::TrainingHash;
pub use super::model_tags::ModelTags;
pub use super::release_ids::{ApprovalId, StageRef};
pub use super::shared_name::SharedName;
use super::{CircuitId, CircuitRef, ModelVersion, PlantId, Stage};

/// A person or group as Azure DevOps names them. Its texts are shared ([`SharedName`]): a
/// release list's mapping interns identities ([`IdentityBook`]), so a person named by tens of
/// thousands of approvals and deployment attempts is held once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct IdentityRef {
    pub id: SharedName,
    pub display_name: SharedName,
    /// The sign-in name (`alice@contoso.com`); may be empty for groups.
    pub unique_name: SharedName,
}

impl IdentityRef {
    /// Same person: by id when both have one, else by sign-in name, case-insensitively.
    pub fn same_as(&self, other: &IdentityRef) -> bool {
        if !self.id.is_empty() && !other.id.is_empty() {
            return self.id.eq_ignore_ascii_case(&other.id);
        }
        !self.unique_name.is_empty() && self.unique_name.eq_ignore_ascii_case(&other.unique_name)
    }

    /// The shortest readable name: the display name, else the sign-in name.
    pub fn name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.unique_name
        } else {
            &self.display_name
        }
    }
}

/// The identities met in one read (a release list, say): each person once, however many
/// records name them. Also shares the other names records repeat (release and stage names).
#[derive(Debug, Default)]
pub struct IdentityBook {
    people: std::collections::HashSet<IdentityRef>,
    names: std::collections::HashSet<SharedName>,
}

impl IdentityBook {
    /// The identity with these texts, shared with every earlier one equal to it.
    pub fn identity(&mut self, id: &str, display_name: &str, unique_name: &str) -> IdentityRef {
        let probe = IdentityRef {
            id: self.name(id),
            display_name: self.name(display_name),
            unique_name: self.name(unique_name),
        };
        if let Some(known) = self.people.get(&probe) {
            return known.clone();
        }
        self.people.insert(probe.clone());
        probe
    }

    /// This text, shared with every earlier equal one.
    pub fn name(&mut self, text: &str) -> SharedName {
        if text.is_empty() {
            return SharedName::default();
        }
        if let Some(known) = self.names.get(text) {
            return known.clone();
        }
        let name = SharedName::from(text);
        self.names.insert(name.clone());
        name
    }
}

impl fmt::Display for IdentityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where model and environment versions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetLocation {
    /// The Dev workspace, where training registers models.
    Dev,
    /// The shared registry, from which Test and Prod deploy.
    Registry,
}

/// A model version reference as a deployment holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelAsset {
    /// The registry name, or `None` for a workspace-local model.
    pub registry: Option<String>,
    pub name: String,
    pub version: ModelVersion,
}

impl ModelAsset {
    /// Parse a model asset id in any of the forms Azure ML returns:
    /// `azureml://registries/{r}/models/{m}/versions/{v}`, the ARM id
    /// `/subscriptions/.../registries/{r}/models/{m}/versions/{v}` (or `.../workspaces/{w}/models/...`),
    /// and `azureml:{m}:{v}`.
    pub fn parse(id: &str) -> Option<ModelAsset> {
        let (registry, name, version) = parse_versioned_asset(id, "models")?;
        Some(ModelAsset {
            registry,
            name,
            version: version.parse().ok()?,
        })
    }

    /// The `azureml://registries/...` asset id to write into a deployment.
    pub fn asset_id(&self) -> String {
        match &self.registry {
            Some(r) => format!(
                "azureml://registries/{r}/models/{}/versions/{}",
                self.name, self.version
            ),
            None => format!("azureml:{}:{}", self.name, self.version),
        }
    }
}

/// An environment version reference as a deployment holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnvironmentAsset {
    pub registry: Option<String>,
    pub name: String,
    /// Kept as written; semver by the platform's convention (`1.5.0`).
    pub version: String,
}

impl EnvironmentAsset {
    /// Parse an environment id (same forms as [`ModelAsset::parse`], with `environments`).
    pub fn parse(id: &str) -> Option<EnvironmentAsset> {
        let (registry, name, version) = parse_versioned_asset(id, "environments")?;
        Some(EnvironmentAsset {
            registry,
            name,
            version,
        })
    }

    pub fn asset_id(&self) -> String {
        match &self.registry {
            Some(r) => format!(
                "azureml://registries/{r}/environments/{}/versions/{}",
                self.name, self.version
            ),
            None => format!("azureml:{}:{}", self.name, self.version),
        }
    }
}

/// `(registry, name, version)` of an asset id; `kind` is `models` or `environments`.
fn parse_versioned_asset(id: &str, kind: &str) -> Option<(Option<String>, String, String)> {
    let id = id.trim();
    if let Some(rest) = id.strip_prefix("azureml:")
        && !rest.starts_with("//")
    {
        let (name, version) = rest.rsplit_once(':')?;
        return (!name.is_empty() && !version.is_empty())
            .then(|| (None, name.to_owned(), version.to_owned()));
    }
    let parts: Vec<&str> = id
        .trim_start_matches("azureml://")
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    // Find `.../{kind}/{name}/versions/{version}`, case-insensitively as ARM ids are.
    let at = parts.iter().position(|p| p.eq_ignore_ascii_case(kind))?;
    let name = parts.get(at + 1)?;
    if !parts.get(at + 2)?.eq_ignore_ascii_case("versions") {
        return None;
    }
    let version = parts.get(at + 3)?;
    let registry = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("registries"))
        .and_then(|i| parts.get(i + 1))
        .map(|r| (*r).to_owned());
    Some((registry, (*name).to_owned(), (*version).to_owned()))
}

/// ARM provisioning state, parsed case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningState {
    Creating,
    Updating,
    Deleting,
    Succeeded,
    Failed,
    Canceled,
    Other(String),
}

impl ProvisioningState {
    pub fn parse(s: &str) -> ProvisioningState {
        match s.to_ascii_lowercase().as_str() {
            "creating" => Self::Creating,
            "updating" => Self::Updating,
            "deleting" => Self::Deleting,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            _ => Self::Other(s.to_owned()),
        }
    }

    /// No further change will happen without a new request.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

/// A batch endpoint (one per plant) in Test or Prod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub stage: Stage,
    pub name: String,
    /// The plant's display name: the endpoint's `plant_name` tag, else its description.
    pub plant_name: Option<String>,
    pub default_deployment: Option<String>,
    pub provisioning: ProvisioningState,
}

/// A batch deployment (one per circuit) under a plant's endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub stage: Stage,
    pub endpoint: String,
    pub name: String,
    /// The deployment's description (by convention, the circuit's description).
    pub description: String,
    pub model: Option<ModelAsset>,
    pub environment: Option<EnvironmentAsset>,
    pub provisioning: ProvisioningState,
    pub modified_at: Option<DateTime<Utc>>,
    pub tags: BTreeMap<String, String>,
}

/// A model container with its newest version (from the container list, one call per workspace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelContainer {
    pub name: String,
    pub latest_version: Option<ModelVersion>,
}

/// One model version with the tags training wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersionRecord {
    pub location: AssetLocation,
    pub name: String,
    pub version: ModelVersion,
    pub tags: ModelTags,
    pub created_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
}

/// The tags the training pipeline writes on every model version (seed architecture).
pub mod tags {
    pub const TRAINING_HASH: &str = "training_hash";
    pub const PLANT_ID: &str = "plant_id";
    pub const CIRCUIT_ID: &str = "circuit_id";
    pub const CUTOFF_DATE: &str = "cutoff_date";
    pub const DELTA_VERSION: &str = "delta_version";
    pub const PIPELINE_COMPONENT_VERSION: &str = "pipeline_component_version";
    pub const GIT_COMMIT: &str = "git_commit";
    pub const BUILD_ID: &str = "build_id";
}

impl ModelVersionRecord {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).filter(|s| !s.is_empty())
    }

    pub fn training_hash(&self) -> Option<TrainingHash> {
        self.tag(tags::TRAINING_HASH)?.parse().ok()
    }

    pub fn git_commit(&self) -> Option<&str> {
        self.tag(tags::GIT_COMMIT)
    }

    pub fn build_id(&self) -> Option<&str> {
        self.tag(tags::BUILD_ID)
    }

    /// The circuit this model serves, from its tags.
    pub fn circuit(&self) -> Option<CircuitRef> {
        let p: PlantId = self.tag(tags::PLANT_ID)?.parse().ok()?;
        let c: CircuitId = self.tag(tags::CIRCUIT_ID)?.parse().ok()?;
        Some(CircuitRef::new(p, c))
    }
}

/// An environment version (semver string) in a workspace or the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVersionRecord {
    pub location: AssetLocation,
    pub name: String,
    pub version: String,
    pub created_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
}

macro_rules! lenient_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($variant,)+
            /// A value this version of relcon does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Parse case-insensitively; DevOps spells enums in several casings.
            pub fn parse(s: &str) -> Self {
                $(if s.eq_ignore_ascii_case($text) { return Self::$variant; })+
                Self::Other(s.to_owned())
            }

            /// The API's own spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }
    };
}

lenient_enum!(
    /// The status of a release as a whole.
    ReleaseStatus {
        Draft => "draft",
        Active => "active",
        Abandoned => "abandoned",
        Undefined => "undefined",
    }
);

lenient_enum!(
    /// The status of one environment (stage) of a release.
    EnvironmentStatus {
        NotStarted => "notStarted",
        Scheduled => "scheduled",
        Queued => "queued",
        InProgress => "inProgress",
        Succeeded => "succeeded",
        PartiallySucceeded => "partiallySucceeded",
        Canceled => "canceled",
        Rejected => "rejected",
        Undefined => "undefined",
    }
);

impl EnvironmentStatus {
    /// Deploying or waiting to deploy.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Scheduled | Self::Queued | Self::InProgress)
    }
}

lenient_enum!(
    /// The status of one approval.
    ApprovalStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Reassigned => "reassigned",
        Canceled => "canceled",
        Skipped => "skipped",
        Undefined => "undefined",
    }
);

lenient_enum!(
    /// Whether an approval gates the start (pre) or the end (post) of a deployment.
    ApprovalType {
        PreDeploy => "preDeploy",
        PostDeploy => "postDeploy",
        Undefined => "undefined",
    }
);

lenient_enum!(
    /// The status of one deployment attempt of a release environment.
    DeploymentStatus {
        NotDeployed => "notDeployed",
        InProgress => "inProgress",
        Succeeded => "succeeded",
        PartiallySucceeded => "partiallySucceeded",
        Failed => "failed",
        Undefined => "undefined",
    }
);

/// One approval record: one approver's part of a stage's approval. A stage that needs two
/// approvers has two records; each is decided by one person. Classic releases give each record
/// an id of its own; a YAML pipeline's approval is one GUID with a step per approver, which its
/// adapter lists as one record per step, all carrying that GUID (deciding it decides the
/// caller's step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// What a decision is sent to (opaque: a classic number or a YAML approval's GUID).
    pub id: ApprovalId,
    pub status: ApprovalStatus,
    pub approval_type: ApprovalType,
    /// Who (or which group) may decide it.
    pub approver: IdentityRef,
    /// Who decided it, once decided.
    pub approved_by: Option<IdentityRef>,
    pub comments: String,
    pub release_id: u32,
    /// Shared with its release's name when read with the release.
    pub release_name: SharedName,
    /// The stage it gates.
    pub stage_ref: StageRef,
    /// The stage's name as the platform spells it (`Production`); [`Stage`] reads it. Shared
    /// with its stage's name when read with the release.
    pub stage_name: SharedName,
    pub attempt: u32,
    pub created_on: Option<DateTime<Utc>>,
    pub modified_on: Option<DateTime<Utc>>,
    /// Who the platform bars from deciding it, when it says (YAML: the approval's
    /// `blockedApprovers`, e.g. the run's requester and whoever re-ran the stage); empty for
    /// classic releases.
    #[serde(default)]
    pub blocked_approvers: Vec<IdentityRef>,
    /// Whether the platform lets the caller decide it (YAML: `permissions` has `update`);
    /// `None`: it does not say (classic releases, or no `$expand=permissions`).
    #[serde(default)]
    pub caller_may_decide: Option<bool>,
}

impl ApprovalRecord {
    pub fn stage(&self) -> Option<Stage> {
        Stage::from_release_environment(&self.stage_name)
    }
}

/// One deployment attempt of a release environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployAttempt {
    pub attempt: u32,
    pub status: DeploymentStatus,
    pub requested_by: Option<IdentityRef>,
    pub requested_for: Option<IdentityRef>,
    pub queued_on: Option<DateTime<Utc>>,
    pub last_modified_on: Option<DateTime<Utc>>,
}

/// One deployment attempt as the newest-first list of attempts names it: enough to tell
/// whether a known release has changed (a redeploy or a stage re-run adds an attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRef {
    pub release_id: u32,
    /// The stage attempted.
    pub environment_id: StageRef,
    pub attempt: u32,
}

/// One stage (Registry, Test, Production) of a release: a classic release environment, or a
/// YAML run's deployment stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseEnvironment {
    /// What a redeploy (stage re-run) is sent to: classic, the release environment id (not the
    /// definition environment id).
    pub id: StageRef,
    /// Classic: the definition environment id; 0 where the flavour has none.
    pub definition_environment_id: u32,
    pub name: SharedName,
    pub status: EnvironmentStatus,
    /// The platform's rule, part one: distinct approvals the stage needs before deploying
    /// (classic: `approvalOptions.requiredApproverCount`; YAML: the environment's Approval
    /// check's `minRequiredApprovers`); 0 means every listed approver.
    pub required_approvers: u32,
    /// The platform's rule, part two: whether it forbids the requester of the release or run
    /// from approving it (classic: `releaseCreatorCanBeApprover` false; YAML:
    /// `requesterCannotBeApprover`). `None`: it does not say; relcon's own four-eyes setting
    /// still applies either way.
    #[serde(default)]
    pub requester_blocked: Option<bool>,
    /// Who asked for this stage's first attempt when the flavour says so per stage (a YAML
    /// stage is a run of its own, requested by its `requestedFor`); `None`: the release's
    /// author, as with classic releases.
    #[serde(default)]
    pub requested_for: Option<IdentityRef>,
    pub pre_deploy_approvals: Vec<ApprovalRecord>,
    pub deploy_steps: Vec<DeployAttempt>,
    pub modified_on: Option<DateTime<Utc>>,
}

impl ReleaseEnvironment {
    pub fn stage(&self) -> Option<Stage> {
        Stage::from_release_environment(&self.name)
    }

    /// The newest deployment attempt.
    pub fn last_attempt(&self) -> Option<&DeployAttempt> {
        self.deploy_steps.iter().max_by_key(|d| d.attempt)
    }

    /// Actually deploying now. DevOps reports a stage that waits for its pre-deploy approval as
    /// in progress too (with an attempt not yet deployed); that is waiting, not deploying.
    pub fn is_deploying(&self) -> bool {
        let waiting_for_approval = self
            .pre_deploy_approvals
            .iter()
            .any(|a| a.status == ApprovalStatus::Pending);
        let attempt_started = self
            .last_attempt()
            .is_none_or(|a| a.status != DeploymentStatus::NotDeployed);
        self.status.is_active() && !waiting_for_approval && attempt_started
    }
}

/// A release of the model release pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub id: u32,
    pub name: SharedName,
    pub status: ReleaseStatus,
    pub description: String,
    pub created_on: Option<DateTime<Utc>>,
    pub created_by: IdentityRef,
    /// The build of the primary artifact: models whose `build_id` tag equals it are this
    /// release's models.
    pub build_id: Option<String>,
    /// The release variables relcon reads ([`release_vars::READ`]); a release's other
    /// variables (dozens in a real pipeline) are not kept by the adapters.
    pub variables: BTreeMap<String, String>,
    pub environments: Vec<ReleaseEnvironment>,
}

/// Release variables that mark an environment-only release (README, "Platform conventions").
pub mod release_vars {
    /// The environment version an environment-only release rolls out.
    pub const ENVIRONMENT_VERSION: &str = "ENVIRONMENT_VERSION";
    /// The environment version it replaces.
    pub const PREVIOUS_ENVIRONMENT_VERSION: &str = "PREVIOUS_ENVIRONMENT_VERSION";
    /// Set only on a release that is a rollback run (YAML: a run of the rollback pipeline,
    /// from its `circuitIds`): the circuits it restores, `PLANT001/CIRCUIT01,...`. Such a
    /// release deploys no new model.
    pub const ROLLBACK_CIRCUITS: &str = "ROLLBACK_CIRCUITS";
    /// The model version a rollback run restores (YAML: `specificDeployment`); absent when
    /// the run restores each circuit's previous version (`rollbackType=previous`).
    pub const ROLLBACK_VERSION: &str = "ROLLBACK_VERSION";
    /// Every variable relcon reads: what a release record keeps of its variables.
    pub const READ: [&str; 4] = [
        ENVIRONMENT_VERSION,
        PREVIOUS_ENVIRONMENT_VERSION,
        ROLLBACK_CIRCUITS,
        ROLLBACK_VERSION,
    ];
}

impl ReleaseRecord {
    pub fn environment(&self, stage: Stage) -> Option<&ReleaseEnvironment> {
        self.environments.iter().find(|e| e.stage() == Some(stage))
    }

    /// Who asked for `attempt` of environment `env_id`, and when. The first attempt is the
    /// release's, asked for by whoever created it; a later one is a redeploy (a rollback, say)
    /// asked for by whoever triggered it: the person four-eyes keeps from approving it.
    pub fn requester(
        &self,
        env_id: &StageRef,
        attempt: u32,
    ) -> (IdentityRef, Option<DateTime<Utc>>) {
        let redeploy = self
            .environments
            .iter()
            .find(|e| &e.id == env_id)
            .filter(|_| attempt > 1)
            .and_then(|e| e.deploy_steps.iter().find(|d| d.attempt == attempt));
        match redeploy.and_then(|d| {
            let who = d.requested_for.as_ref().or(d.requested_by.as_ref())?;
            Some((who.clone(), d.queued_on.or(self.created_on)))
        }) {
            Some(found) => found,
            None => {
                let stage = self.environments.iter().find(|e| &e.id == env_id);
                match stage.and_then(|e| e.requested_for.as_ref()) {
                    Some(who) => {
                        let first =
                            stage.and_then(|e| e.deploy_steps.iter().find_map(|d| d.queued_on));
                        (who.clone(), first.or(self.created_on))
                    }
                    None => (self.created_by.clone(), self.created_on),
                }
            }
        }
    }

    /// Every stage has finished (succeeded, partly, canceled or rejected) and none waits for
    /// an approval: nothing of it is deploying or awaits a decision (a redeploy makes a stage
    /// active again).
    pub fn is_settled(&self) -> bool {
        self.environments.iter().all(|e| {
            matches!(
                e.status,
                EnvironmentStatus::Succeeded
                    | EnvironmentStatus::PartiallySucceeded
                    | EnvironmentStatus::Canceled
                    | EnvironmentStatus::Rejected
            ) && !e
                .pre_deploy_approvals
                .iter()
                .any(|a| a.status == ApprovalStatus::Pending)
        })
    }

    /// `Some(version)` when this is an environment-only release.
    pub fn environment_only(&self) -> Option<&str> {
        self.variables
            .get(release_vars::ENVIRONMENT_VERSION)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// When this release is a rollback run: the circuits it restores and the version it
    /// restores them to (`None`: each circuit's previous one). Names that do not read as a
    /// circuit are left out.
    pub fn rollback_scope(&self) -> Option<(Vec<CircuitRef>, Option<ModelVersion>)> {
        let circuits = self.variables.get(release_vars::ROLLBACK_CIRCUITS)?;
        let circuits = circuits
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        let version = self
            .variables
            .get(release_vars::ROLLBACK_VERSION)
            .and_then(|v| v.trim().trim_start_matches('v').parse().ok())
            .map(ModelVersion);
        Some((circuits, version))
    }
}

/// The caller as Azure DevOps knows them (`_apis/connectionData`).
pub type Identity = IdentityRef;

/// A column type of a Log Analytics result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Bool,
    Datetime,
    Dynamic,
    Int,
    Long,
    Real,
    Decimal,
    String,
    Guid,
    Timespan,
}

impl ColumnType {
    pub fn parse(s: &str) -> ColumnType {
        match s.to_ascii_lowercase().as_str() {
            "bool" | "boolean" => Self::Bool,
            "datetime" | "date" => Self::Datetime,
            "dynamic" => Self::Dynamic,
            "int" => Self::Int,
            "long" => Self::Long,
            "real" | "double" => Self::Real,
            "decimal" => Self::Decimal,
            "guid" | "uniqueid" => Self::Guid,
            "timespan" | "time" => Self::Timespan,
            _ => Self::String,
        }
    }
}

/// One decoded cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    Text(String),
    Time(DateTime<Utc>),
    Dynamic(Dynamic),
}

/// A `dynamic` cell (a KQL list or property bag), kept as its JSON text and parsed by whoever
/// reads it. Log Analytics sends dynamic values as JSON text; parsed into a
/// `serde_json::Value` up front, a 30-day list of days is about 2 KB of tree against some
/// 700 bytes of text, and a 20,000-circuit drift table holds 180,000 rows of two such lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Dynamic(Box<str>);

impl Dynamic {
    /// JSON text as the service sent it; `None` when it is not JSON.
    pub fn parse(text: &str) -> Option<Dynamic> {
        let text = text.trim();
        serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
        Some(Dynamic(text.into()))
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The value, parsed (it is JSON by construction; `Null` were it not).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for Dynamic {
    fn from(v: serde_json::Value) -> Dynamic {
        Dynamic(v.to_string().into())
    }
}

/// The same JSON value, however it was spaced.
impl PartialEq for Dynamic {
    fn eq(&self, other: &Dynamic) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl Cell {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Real(f) => Some(*f),
            Cell::Long(i) => Some(*i as f64),
            Cell::Text(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Cell::Time(t) => Some(*t),
            _ => None,
        }
    }
}

/// A query result: named, typed columns and decoded rows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<(String, ColumnType)>,
    pub rows: Vec<Vec<Cell>>,
    /// The service says the rows are not all there (Log Analytics' `PartialError`, e.g. a
    /// result past its 500,000-record or 100 MiB cap), and why. What came is used; the
    /// snapshot is not complete.
    #[serde(default)]
    pub partial: Option<String>,
}

impl Table {
    /// Add the rows of `other`, a part of the same query (the same columns); a part that was
    /// itself partial makes the whole partial.
    pub fn append(&mut self, other: Table) {
        if self.columns.is_empty() {
            self.columns = other.columns.clone();
        }
        if other.columns == self.columns {
            self.rows.extend(other.rows);
        } else if !other.rows.is_empty() {
            self.partial.get_or_insert_with(|| {
                "the parts of one query came back with different columns".into()
            });
        }
        if self.partial.is_none() {
            self.partial = other.partial;
        }
    }

    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redeploy_is_requested_by_whoever_triggered_it_the_first_attempt_by_the_author() {
        let who = |n: &str| IdentityRef {
            unique_name: format!("{n}@contoso.com").into(),
            ..IdentityRef::default()
        };
        let at = |d: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, d, 9, 0, 0).single();
        let attempt = |n: u32, by: &str, d: u32| DeployAttempt {
            attempt: n,
            status: DeploymentStatus::Succeeded,
            requested_by: Some(who("svc-build")),
            requested_for: Some(who(by)),
            queued_on: at(d),
            last_modified_on: at(d),
        };
        let release = ReleaseRecord {
            id: 253,
            name: "Release-253".into(),
            status: ReleaseStatus::Active,
            description: String::new(),
            created_on: at(1),
            created_by: who("carol"),
            build_id: None,
            variables: BTreeMap::new(),
            environments: vec![ReleaseEnvironment {
                id: 1758.into(),
                definition_environment_id: 3,
                name: "Production".into(),
                status: EnvironmentStatus::InProgress,
                required_approvers: 2,
                requester_blocked: None,
                requested_for: None,
                pre_deploy_approvals: Vec::new(),
                deploy_steps: vec![attempt(1, "carol", 2), attempt(2, "erin", 20)],
                modified_on: at(20),
            }],
        };
        let (prod, other) = (StageRef::from(1758), StageRef::from(9999));
        assert_eq!(release.requester(&prod, 1), (who("carol"), at(1)));
        assert_eq!(release.requester(&prod, 2), (who("erin"), at(20)));
        // An attempt the release does not show (yet): the author, as before.
        assert_eq!(release.requester(&prod, 3), (who("carol"), at(1)));
        assert_eq!(release.requester(&other, 2), (who("carol"), at(1)));
    }

    #[test]
    fn model_asset_ids_in_every_form() {
        let want = ModelAsset {
            registry: Some("mlr-forecast".into()),
            name: "plant001-circuit01".into(),
            version: ModelVersion(7),
        };
        for id in [
            "azureml://registries/mlr-forecast/models/plant001-circuit01/versions/7",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/mlr-forecast/models/plant001-circuit01/versions/7",
            "/subscriptions/0000/resourcegroups/rg/providers/microsoft.machinelearningservices/Registries/mlr-forecast/Models/plant001-circuit01/Versions/7",
        ] {
            assert_eq!(ModelAsset::parse(id).as_ref(), Some(&want), "{id}");
        }
        assert_eq!(
            want.asset_id(),
            "azureml://registries/mlr-forecast/models/plant001-circuit01/versions/7"
        );
        let local = ModelAsset::parse("azureml:plant001-circuit01:3").unwrap();
        assert_eq!((local.registry, local.version), (None, ModelVersion(3)));
        assert!(ModelAsset::parse("azureml://registries/r/models/m/versions/latest").is_none());
        assert!(ModelAsset::parse("string").is_none());
    }

    #[test]
    fn environment_ids_keep_semver_text() {
        let e = EnvironmentAsset::parse(
            "azureml://registries/mlr/environments/forecast-tf/versions/1.5.0",
        )
        .unwrap();
        assert_eq!(
            (e.name.as_str(), e.version.as_str()),
            ("forecast-tf", "1.5.0")
        );
        assert_eq!(EnvironmentAsset::parse(&e.asset_id()), Some(e));
    }

    #[test]
    fn enums_parse_any_casing_and_keep_unknowns() {
        assert_eq!(ApprovalStatus::parse("Pending"), ApprovalStatus::Pending);
        assert_eq!(
            EnvironmentStatus::parse("INPROGRESS"),
            EnvironmentStatus::InProgress
        );
        assert_eq!(
            EnvironmentStatus::parse("inProgress").as_str(),
            "inProgress"
        );
        assert_eq!(
            ApprovalStatus::parse("weird"),
            ApprovalStatus::Other("weird".into())
        );
        assert_eq!(
            ProvisioningState::parse("SUCCEEDED"),
            ProvisioningState::Succeeded
        );
    }

    #[test]
    fn identities_match_by_id_then_name() {
        let a = IdentityRef {
            id: "ABC".into(),
            display_name: "Alice".into(),
            unique_name: "alice@x".into(),
        };
        let b = IdentityRef {
            id: "abc".into(),
            ..Default::default()
        };
        let c = IdentityRef {
            id: String::new().into(),
            display_name: String::new().into(),
            unique_name: "ALICE@x".into(),
        };
        assert!(a.same_as(&b) && a.same_as(&c));
        assert!(!a.same_as(&IdentityRef::default()));
    }
}
