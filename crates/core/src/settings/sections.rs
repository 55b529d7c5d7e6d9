//! The sections of the configuration file below `Settings`: where the fleet lives in Azure
//! (workspaces, DevOps, monitoring), naming, sign-in, policy, the console, the HTTP client and
//! incidents, with their defaults and value types.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::CircuitRef;
use crate::domain::naming::NameTemplate;
use crate::domain::rollback::RollbackMethod;
use crate::release_flavor::{ReleaseFlavor, YamlPipelines};

/// Where incidents start: Azure Monitor alerts and the batch scoring jobs (docs/AZURE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentSettings {
    /// The Alerts Management api-version (`Microsoft.AlertsManagement/alerts`).
    pub alerts_api_version: String,
    /// Resource groups whose alerts are the fleet's besides those of the workspaces and the
    /// registry (e.g. the Application Insights resource's). An alert elsewhere counts only
    /// when its dimensions name a circuit of the fleet.
    pub alert_resource_groups: Vec<String>,
    /// The Azure ML data plane host of the Test and Prod workspaces
    /// (`https://{region}.api.azureml.ms`); found through each workspace's discovery URL when
    /// not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ml_api_endpoint: Option<BaseUrl>,
    /// A Prod deployment without a scoring job submitted in this many hours is a problem.
    pub stale_job_hours: u32,
    /// A Prod deployment's job list is read every this many minutes (each deployment at its
    /// own phase, so a fleet's reads spread evenly); every 5 minutes while its circuit has an
    /// active alert.
    pub job_reread_minutes: u32,
    /// After a verified rollback its circuit is watched this long (new alerts, the next
    /// scoring job, drift and accuracy); 0 turns the watch off.
    pub watch_minutes: u32,
    /// A retried scoring job is followed this long (on the session's clock) before relcon
    /// stops waiting for it and leaves it to `relcon ops --wait`.
    pub retry_follow_minutes: u32,
    /// Right after a rollback is verified, start one scoring job on the restored deployment
    /// with the inputs of its last successful job (the runbook's "run a test inference"); its
    /// result joins the verification checklist and the watch.
    pub test_inference: bool,
}

impl Default for IncidentSettings {
    fn default() -> Self {
        Self {
            alerts_api_version: "2019-03-01".into(),
            alert_resource_groups: Vec::new(),
            ml_api_endpoint: None,
            stale_job_hours: crate::domain::incidents::DEFAULT_STALE_HOURS,
            job_reread_minutes: 45,
            watch_minutes: crate::domain::watch::DEFAULT_WATCH_MINUTES,
            retry_follow_minutes: 60,
            test_inference: false,
        }
    }
}

/// How relcon talks to the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientSettings {
    /// Requests in flight per service.
    pub concurrency: usize,
    /// Give up on one request after this long.
    pub timeout_seconds: u64,
    /// How often an operation in flight (a rollback) is polled when the service does not say.
    pub poll_interval_ms: u64,
    /// ARM reads per second in the long run, and how many may go at once after a quiet spell
    /// (ARM's documented bucket per subscription and principal: 250 reads, refilled at 25/s).
    pub arm_reads_per_second: f64,
    pub arm_read_burst: u32,
    /// Azure DevOps (Git and Release together; the service limits by usage, not by count).
    pub devops_requests_per_second: f64,
    pub devops_burst: u32,
    /// Log Analytics queries (documented: 200 per 30 seconds per user).
    pub monitor_queries_per_second: f64,
    pub monitor_burst: u32,
    /// How long one read keeps waiting out throttling (429) before it fails.
    pub throttle_wait_seconds: u64,
    /// The most one read takes in all: its turn, every attempt and retry, and any wait for
    /// throttling. Each attempt's `timeout_seconds` is cut to what is left.
    pub read_deadline_seconds: u64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            timeout_seconds: 30,
            poll_interval_ms: 5000,
            arm_reads_per_second: 25.0,
            arm_read_burst: 250,
            devops_requests_per_second: 20.0,
            devops_burst: 100,
            monitor_queries_per_second: 5.0,
            monitor_burst: 20,
            throttle_wait_seconds: 120,
            read_deadline_seconds: 120,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSettings {
    pub subscription_id: Guid,
    #[serde(default = "default_arm_endpoint")]
    pub arm_endpoint: BaseUrl,
    #[serde(default = "default_ml_api_version")]
    pub ml_api_version: String,
}

/// The Dev, Test and Prod Azure ML workspaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspaces {
    pub dev: ResourceRef,
    pub test: ResourceRef,
    pub prod: ResourceRef,
}

/// An Azure resource by resource group and name (a workspace or the registry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    pub resource_group: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevOpsSettings {
    pub organization: String,
    pub project: String,
    /// Classic release pipelines (the default) or YAML multi-stage pipelines.
    #[serde(default)]
    pub flavor: ReleaseFlavor,
    /// The classic release pipeline that carries models Registry -> Test -> Production
    /// (required with `flavor = "classic"`, unused with YAML pipelines).
    #[serde(default)]
    pub release_definition_id: u32,
    /// The Git repository (name or id) that holds the circuit configs.
    pub config_repository: String,
    /// Where per-circuit configs live in that repository; `{plant}` and `{circuit}` are the
    /// upper-case ids, as in the seed's file names.
    #[serde(default = "default_config_path")]
    pub config_path: String,
    #[serde(default = "default_devops_endpoint")]
    pub endpoint: BaseUrl,
    #[serde(default = "default_release_endpoint")]
    pub release_endpoint: BaseUrl,
    /// `[devops.yaml]`: the pipelines, stages and environments of the YAML flavour (the
    /// seed's names by default).
    #[serde(default)]
    pub yaml: YamlPipelines,
}

/// Where the monitoring metrics are read. Exactly one of the two ids is set: the Log Analytics
/// workspace behind a workspace-based Application Insights resource (queried with the workspace
/// tables, `AppMetrics`), or, for teams that only have an Application Insights app id, the
/// Application Insights query API (queried with the classic tables, `customMetrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    /// The Log Analytics workspace (customer id, a GUID) behind Application Insights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_analytics_workspace_id: Option<Guid>,
    /// The Application Insights resource's Application ID (API Access blade), when relcon
    /// should read through the Application Insights query API instead of the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_insights_app_id: Option<Guid>,
    /// The Log Analytics query API.
    #[serde(default = "default_monitor_endpoint")]
    pub endpoint: BaseUrl,
    /// The Application Insights query API (used only with `application_insights_app_id`).
    #[serde(default = "default_app_insights_endpoint")]
    pub application_insights_endpoint: BaseUrl,
}

/// The monitoring source the configuration names, with the schema its tables have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorSource<'a> {
    /// `POST {endpoint}/v1/workspaces/{id}/query`: `AppMetrics`, `Properties`, `TimeGenerated`.
    Workspace { id: &'a Guid, endpoint: &'a BaseUrl },
    /// `POST {application_insights_endpoint}/v1/apps/{id}/query`: `customMetrics`,
    /// `customDimensions`, `timestamp`.
    AppInsights { id: &'a Guid, endpoint: &'a BaseUrl },
}

impl MonitorSource<'_> {
    /// The query API's base URL (its token scope is `{endpoint}/.default`).
    pub fn endpoint(&self) -> &BaseUrl {
        match self {
            MonitorSource::Workspace { endpoint, .. }
            | MonitorSource::AppInsights { endpoint, .. } => endpoint,
        }
    }

    /// "Log Analytics workspace <id>" / "Application Insights app <id>".
    pub fn describe(&self) -> String {
        match self {
            MonitorSource::Workspace { id, .. } => format!("Log Analytics workspace {id}"),
            MonitorSource::AppInsights { id, .. } => format!("Application Insights app {id}"),
        }
    }

    /// The tables relcon reads there, named as that API names them.
    pub fn schema(&self) -> &'static str {
        match self {
            MonitorSource::Workspace { .. } => "workspace tables (AppMetrics)",
            MonitorSource::AppInsights { .. } => {
                "Application Insights classic tables (customMetrics)"
            }
        }
    }
}

impl MonitorSettings {
    /// The workspace when its id is set, else the Application Insights app. `problems()`
    /// guarantees that exactly one is set in a loaded configuration.
    pub fn source(&self) -> Option<MonitorSource<'_>> {
        match (
            &self.log_analytics_workspace_id,
            &self.application_insights_app_id,
        ) {
            (Some(id), _) => Some(MonitorSource::Workspace {
                id,
                endpoint: &self.endpoint,
            }),
            (None, Some(id)) => Some(MonitorSource::AppInsights {
                id,
                endpoint: &self.application_insights_endpoint,
            }),
            (None, None) => None,
        }
    }
}

/// Azure resource naming templates; `{plant}` and `{circuit}` are replaced by lower-cased ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Naming {
    pub endpoint: NameTemplate,
    pub deployment: NameTemplate,
    pub model: NameTemplate,
}

impl Default for Naming {
    fn default() -> Self {
        Self {
            endpoint: template("batch-endpoint-{plant}"),
            deployment: template("deployment-{circuit}"),
            model: template("{plant}-{circuit}"),
        }
    }
}

fn template(s: &str) -> NameTemplate {
    // The defaults are known-good templates; parsing them cannot fail.
    s.parse()
        .unwrap_or_else(|e: String| unreachable!("default naming template: {e}"))
}

impl Naming {
    pub fn endpoint(&self, c: &CircuitRef) -> String {
        self.endpoint.render(c)
    }
    pub fn deployment(&self, c: &CircuitRef) -> String {
        self.deployment.render(c)
    }
    pub fn model(&self, c: &CircuitRef) -> String {
        self.model.render(c)
    }
}

/// How relcon signs in to Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// `az account get-access-token`, as the Azure CLI is signed in.
    AzureCli,
    /// Azure CLI, then Azure Developer CLI (azure_identity's DeveloperToolsCredential).
    DeveloperTools,
    /// A service principal secret (tenant_id, client_id, secret from `client_secret_env`).
    ClientSecret,
    /// Federated workload identity (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE).
    WorkloadIdentity,
    /// The host's managed identity (optionally a user-assigned `client_id`).
    ManagedIdentity,
    /// An Azure Pipelines service connection (`service_connection_id`, SYSTEM_ACCESSTOKEN).
    AzurePipelines,
    /// The built-in simulator: no credential; identity comes from `--as`.
    Simulator,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::AzureCli => "azure-cli",
            AuthMethod::DeveloperTools => "developer-tools",
            AuthMethod::ClientSecret => "client-secret",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::AzurePipelines => "azure-pipelines",
            AuthMethod::Simulator => "simulator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    pub method: AuthMethod,
    /// The environment variable that holds an Azure DevOps PAT. When it is set, DevOps calls
    /// use it (basic auth) instead of an Entra token. The PAT itself never goes in this file.
    pub devops_pat_env: String,
    /// Tenant for `client-secret` and `azure-pipelines`.
    pub tenant_id: Option<Guid>,
    /// Application (client) id for `client-secret`, `azure-pipelines`, or a user-assigned
    /// managed identity.
    pub client_id: Option<Guid>,
    /// The environment variable that holds the client secret for `client-secret`.
    pub client_secret_env: String,
    /// The service connection id for `azure-pipelines`.
    pub service_connection_id: Option<String>,
    /// The Entra login endpoint for `client-secret`, `workload-identity` and `azure-pipelines`
    /// (sovereign clouds: `https://login.microsoftonline.us`, `https://login.chinacloudapi.cn`).
    /// Default: `$AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com`.
    pub authority_host: Option<BaseUrl>,
    /// Give up on getting one token after this long (login endpoint, `az`, managed identity),
    /// and say which endpoint did not answer.
    pub token_timeout_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            method: AuthMethod::AzureCli,
            devops_pat_env: "AZURE_DEVOPS_EXT_PAT".into(),
            tenant_id: None,
            client_id: None,
            client_secret_env: "AZURE_CLIENT_SECRET".into(),
            service_connection_id: None,
            authority_host: None,
            token_timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySettings {
    /// Distinct approvers a Production approval needs.
    pub prod_min_approvers: u32,
    /// The operator may not approve a release they requested (four eyes).
    pub forbid_self_approval: bool,
    /// Production approval needs passing test validation for every circuit in the release.
    pub require_passing_tests: bool,
    /// The rollback budget, from request to verified restore.
    pub rollback_sla_minutes: u32,
    pub default_rollback_method: RollbackMethod,
    /// Refuse every mutation (same as `--read-only`).
    pub read_only: bool,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            prod_min_approvers: 2,
            forbid_self_approval: true,
            require_passing_tests: true,
            rollback_sla_minutes: 15,
            default_rollback_method: RollbackMethod::Redeploy,
            read_only: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// A built-in theme name or a file name (without `.toml`) in the config dir's `themes/`.
    pub theme: Option<String>,
    /// A keymap file layered over the defaults (default: `keymap.toml` in the config dir).
    pub keymap: Option<PathBuf>,
}

/// A GUID as Azure writes them (subscription, tenant, workspace ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Guid(pub String);

impl Guid {
    pub fn parse(s: &str) -> Result<Self, String> {
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Guid(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{s}` is not a GUID like 00000000-0000-0000-0000-000000000000"
            ))
        }
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Guid::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An http(s) base URL, kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                Ok(BaseUrl(t.to_owned()))
            }
            _ => Err(format!("`{s}` is not an http(s) URL")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This base with a path appended (`path` starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BaseUrl::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

fn default_arm_endpoint() -> BaseUrl {
    BaseUrl("https://management.azure.com".into())
}
fn default_ml_api_version() -> String {
    "2025-06-01".into()
}
fn default_config_path() -> String {
    "config/circuits/{plant}_{circuit}.yaml".into()
}
fn default_devops_endpoint() -> BaseUrl {
    BaseUrl("https://dev.azure.com".into())
}
fn default_release_endpoint() -> BaseUrl {
    BaseUrl("https://vsrm.dev.azure.com".into())
}
fn default_monitor_endpoint() -> BaseUrl {
    BaseUrl("https://api.loganalytics.io".into())
}
fn default_app_insights_endpoint() -> BaseUrl {
    BaseUrl("https://api.applicationinsights.io".into())
}
