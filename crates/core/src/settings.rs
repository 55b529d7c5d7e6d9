//! relcon's configuration file (`relcon.toml`): where the fleet lives in Azure, how to sign in,
//! naming templates, policy and thresholds. Parsed strictly: an unknown key or a bad value is an
//! error that names the key and its line.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::naming::NameTemplate;
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, Thresholds};
pub use crate::release_flavor::{PipelineRef, ReleaseFlavor, YamlPipelines};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub azure: AzureSettings,
    pub workspaces: Workspaces,
    pub registry: ResourceRef,
    pub devops: DevOpsSettings,
    pub monitor: MonitorSettings,
    #[serde(default)]
    pub naming: Naming,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub policy: PolicySettings,
    #[serde(default)]
    pub thresholds: Thresholds,
    #[serde(default)]
    pub ui: UiSettings,
    #[serde(default)]
    pub client: ClientSettings,
    #[serde(default)]
    pub incidents: IncidentSettings,
}

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

/// A configuration error at a place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: String,
        line: u32,
        col: u32,
        message: String,
    },
}

impl Settings {
    /// Read and validate a configuration file.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError::Read {
            path: path.display().to_string(),
            message: format!("cannot read the configuration: {e}"),
        })?;
        Settings::parse(&text, &path.display().to_string())
    }

    /// Parse and validate configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Settings, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            SettingsError::Invalid {
                path: origin.to_owned(),
                line,
                col,
                message: e.message().trim().to_owned(),
            }
        })?;
        let problems = settings.problems();
        if let Some((key, message)) = problems.into_iter().next() {
            let (line, col) = find_key(text, &key).unwrap_or((1, 1));
            return Err(SettingsError::Invalid {
                path: origin.to_owned(),
                line,
                col,
                message,
            });
        }
        Ok(settings)
    }

    /// Rules that span several keys; each with the dotted key to point at.
    fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .thresholds
            .problems()
            .into_iter()
            .map(|m| {
                let key = m
                    .split_whitespace()
                    .next()
                    .unwrap_or("thresholds")
                    .to_owned();
                (key, m)
            })
            .collect();
        match (
            &self.monitor.log_analytics_workspace_id,
            &self.monitor.application_insights_app_id,
        ) {
            (None, None) => out.push((
                "monitor.log_analytics_workspace_id".into(),
                "[monitor] needs log_analytics_workspace_id (the workspace behind Application Insights) or application_insights_app_id (its Application ID, read through the Application Insights query API)".into(),
            )),
            (Some(_), Some(_)) => out.push((
                "monitor.application_insights_app_id".into(),
                "set either monitor.log_analytics_workspace_id or monitor.application_insights_app_id, not both: they are two ways to read the same metrics".into(),
            )),
            _ => {}
        }
        match self.devops.flavor {
            ReleaseFlavor::Classic if self.devops.release_definition_id == 0 => out.push((
                "devops.release_definition_id".into(),
                "[devops] needs release_definition_id (the classic release pipeline), or flavor = \"yaml\" for YAML pipelines".into(),
            )),
            ReleaseFlavor::Yaml => out.extend(self.devops.yaml.problems()),
            ReleaseFlavor::Classic => {}
        }
        if self.client.concurrency == 0 {
            out.push((
                "client.concurrency".into(),
                "client.concurrency must be at least 1".into(),
            ));
        }
        if self.client.read_deadline_seconds == 0 {
            out.push((
                "client.read_deadline_seconds".into(),
                "client.read_deadline_seconds must be at least 1".into(),
            ));
        }
        for (key, rate) in [
            (
                "client.arm_reads_per_second",
                self.client.arm_reads_per_second,
            ),
            (
                "client.devops_requests_per_second",
                self.client.devops_requests_per_second,
            ),
            (
                "client.monitor_queries_per_second",
                self.client.monitor_queries_per_second,
            ),
        ] {
            if !(rate.is_finite() && rate > 0.0) {
                out.push((key.into(), format!("{key} must be a positive number")));
            }
        }
        for (key, burst) in [
            ("client.arm_read_burst", self.client.arm_read_burst),
            ("client.devops_burst", self.client.devops_burst),
            ("client.monitor_burst", self.client.monitor_burst),
        ] {
            if burst == 0 {
                out.push((key.into(), format!("{key} must be at least 1")));
            }
        }
        if self.client.poll_interval_ms < 50 {
            out.push((
                "client.poll_interval_ms".into(),
                "client.poll_interval_ms must be at least 50".into(),
            ));
        }
        if self.incidents.stale_job_hours == 0 {
            out.push((
                "incidents.stale_job_hours".into(),
                "incidents.stale_job_hours must be at least 1".into(),
            ));
        }
        if self.incidents.job_reread_minutes == 0 {
            out.push((
                "incidents.job_reread_minutes".into(),
                "incidents.job_reread_minutes must be at least 1".into(),
            ));
        }
        if self.policy.prod_min_approvers == 0 {
            out.push((
                "policy.prod_min_approvers".into(),
                "policy.prod_min_approvers must be at least 1".into(),
            ));
        }
        if self.policy.rollback_sla_minutes == 0 {
            out.push((
                "policy.rollback_sla_minutes".into(),
                "policy.rollback_sla_minutes must be at least 1".into(),
            ));
        }
        if !self.naming.model.has_plant() || !self.naming.model.has_circuit() {
            out.push((
                "naming.model".into(),
                "naming.model must contain both {plant} and {circuit}: one model per circuit"
                    .into(),
            ));
        }
        if !self.naming.endpoint.has_plant() || self.naming.endpoint.has_circuit() {
            out.push((
                "naming.endpoint".into(),
                "naming.endpoint must contain {plant} and not {circuit}: one batch endpoint per plant".into(),
            ));
        }
        if !self.naming.deployment.has_circuit() {
            out.push((
                "naming.deployment".into(),
                "naming.deployment must contain {circuit}: one deployment per circuit".into(),
            ));
        }
        if self.auth.method == AuthMethod::ClientSecret
            && (self.auth.tenant_id.is_none() || self.auth.client_id.is_none())
        {
            out.push((
                "auth.method".into(),
                "auth.method = \"client-secret\" needs auth.tenant_id and auth.client_id".into(),
            ));
        }
        if self.auth.token_timeout_seconds == 0 {
            out.push((
                "auth.token_timeout_seconds".into(),
                "auth.token_timeout_seconds must be at least 1".into(),
            ));
        }
        if self
            .auth
            .authority_host
            .as_ref()
            .is_some_and(|h| !h.as_str().starts_with("https://"))
        {
            out.push((
                "auth.authority_host".into(),
                "auth.authority_host must be an https:// URL (Entra ID accepts no other)".into(),
            ));
        }
        if self.auth.method == AuthMethod::AzurePipelines
            && (self.auth.tenant_id.is_none()
                || self.auth.client_id.is_none()
                || self.auth.service_connection_id.is_none())
        {
            out.push((
                "auth.method".into(),
                "auth.method = \"azure-pipelines\" needs auth.tenant_id, auth.client_id and auth.service_connection_id"
                    .into(),
            ));
        }
        out
    }

    /// The default configuration file: `$XDG_CONFIG_HOME/relcon/relcon.toml`.
    pub fn default_path() -> Option<PathBuf> {
        dirs().map(|d| d.config_dir().join("relcon.toml"))
    }

    /// Whether this configuration talks to the simulator rather than Azure.
    pub fn is_simulator(&self) -> bool {
        self.auth.method == AuthMethod::Simulator
    }
}

/// relcon's XDG directories (config, cache, state).
pub fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "relcon")
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line as u32, col as u32)
}

/// Where a dotted key (`policy.prod_min_approvers`) is written, for semantic errors.
fn find_key(text: &str, dotted: &str) -> Option<(u32, u32)> {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut in_table = table.is_empty();
    let mut table_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            in_table = line.trim_matches(|c| c == '[' || c == ']').trim() == table;
            if in_table {
                table_line = Some(i as u32 + 1);
            }
            continue;
        }
        if in_table
            && let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let col = raw.len() - raw.trim_start().len() + 1;
            return Some((i as u32 + 1, col as u32));
        }
    }
    table_line.map(|l| (l, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[azure]
subscription_id = "6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60"

[workspaces.dev]
resource_group = "rg-ml-dev"
name = "mlw-forecast-dev"
[workspaces.test]
resource_group = "rg-ml-test"
name = "mlw-forecast-test"
[workspaces.prod]
resource_group = "rg-ml-prod"
name = "mlw-forecast-prod"

[registry]
resource_group = "rg-ml-shared"
name = "mlr-forecast"

[devops]
organization = "contoso"
project = "forecasting"
release_definition_id = 12
config_repository = "forecast-config"

[monitor]
log_analytics_workspace_id = "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
"#;

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let s = Settings::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(
            s.azure.arm_endpoint.as_str(),
            "https://management.azure.com"
        );
        assert_eq!(s.azure.ml_api_version, "2025-06-01");
        assert_eq!(s.policy.prod_min_approvers, 2);
        assert!(s.policy.forbid_self_approval && s.policy.require_passing_tests);
        assert_eq!(s.policy.rollback_sla_minutes, 15);
        assert_eq!(s.policy.default_rollback_method, RollbackMethod::Redeploy);
        assert_eq!(s.auth.method, AuthMethod::AzureCli);
        assert_eq!(s.auth.devops_pat_env, "AZURE_DEVOPS_EXT_PAT");
        let c: CircuitRef = "PLANT001/CIRCUIT01".parse().unwrap();
        assert_eq!(s.naming.endpoint(&c), "batch-endpoint-plant001");
        assert_eq!(s.naming.deployment(&c), "deployment-circuit01");
        assert_eq!(s.naming.model(&c), "plant001-circuit01");
        assert_eq!(s.thresholds, Thresholds::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = format!("{MINIMAL}\n[policy]\nprod_min_aprovers = 3\n");
        let e = Settings::parse(&text, "t.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("prod_min_aprovers"), "{msg}");
        let line = text
            .lines()
            .position(|l| l.starts_with("prod_min_aprovers"))
            .unwrap()
            + 1;
        assert!(msg.starts_with(&format!("t.toml:{line}:")), "{msg}");
    }

    #[test]
    fn bad_values_are_located() {
        let cases = [
            (
                "[auth]\nmethod = \"password\"\n",
                "unknown variant `password`",
            ),
            ("[naming]\nmodel = \"{plant}-{site}\"\n", "placeholder"),
            ("[naming]\nmodel = \"{plant}\"\n", "naming.model"),
            ("[policy]\nprod_min_approvers = 0\n", "at least 1"),
            (
                "[client]\nread_deadline_seconds = 0\n",
                "client.read_deadline_seconds must be at least 1",
            ),
            ("[thresholds]\npsi_warn = 0.5\n", "psi_warn"),
            ("[policy]\ndefault_rollback_method = \"yolo\"\n", "yolo"),
        ];
        for (extra, needle) in cases {
            let text = format!("{MINIMAL}\n{extra}");
            let msg = Settings::parse(&text, "t.toml").unwrap_err().to_string();
            assert!(msg.contains(needle), "{extra:?} -> {msg}");
            let first_line = MINIMAL.lines().count() + 2;
            let line: usize = msg.split(':').nth(1).unwrap().parse().unwrap();
            assert!(line >= first_line, "{extra:?} located at {line}: {msg}");
        }
        let bad_guid = MINIMAL.replace("6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60", "my-sub");
        let msg = Settings::parse(&bad_guid, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("GUID") && msg.starts_with("t.toml:3:"),
            "{msg}"
        );
    }

    #[test]
    fn monitoring_reads_a_workspace_or_an_app_never_both_nor_neither() {
        let s = Settings::parse(MINIMAL, "t.toml").unwrap();
        match s.monitor.source() {
            Some(MonitorSource::Workspace { id, endpoint }) => {
                assert_eq!(id.0, "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b");
                assert_eq!(endpoint.as_str(), "https://api.loganalytics.io");
            }
            other => panic!("{other:?}"),
        }
        let app = MINIMAL.replace("log_analytics_workspace_id", "application_insights_app_id");
        let s = Settings::parse(&app, "t.toml").unwrap();
        match s.monitor.source() {
            Some(MonitorSource::AppInsights { id, endpoint }) => {
                assert_eq!(id.0, "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b");
                assert_eq!(endpoint.as_str(), "https://api.applicationinsights.io");
            }
            other => panic!("{other:?}"),
        }
        let both = format!(
            "{MINIMAL}application_insights_app_id = \"1b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"\n"
        );
        let msg = Settings::parse(&both, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("not both"), "{msg}");
        let line = both.lines().count();
        assert!(msg.starts_with(&format!("t.toml:{line}:")), "{msg}");
        let neither = MINIMAL.replace(
            "log_analytics_workspace_id = \"0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"",
            "",
        );
        let msg = Settings::parse(&neither, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("application_insights_app_id"), "{msg}");
        let bad = app.replace("0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b", "my-app");
        assert!(
            Settings::parse(&bad, "t.toml")
                .unwrap_err()
                .to_string()
                .contains("GUID")
        );
    }

    #[test]
    fn missing_section_is_an_error() {
        let text = MINIMAL.replace("[registry]", "[registr]");
        let msg = Settings::parse(&text, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("registr"), "{msg}");
    }

    #[test]
    fn the_documented_example_parses() {
        let s = Settings::parse(
            include_str!("../../../configs/relcon.example.toml"),
            "example",
        )
        .unwrap();
        assert_eq!(s.devops.release_definition_id, 1);
        assert_eq!(s.devops.flavor, ReleaseFlavor::Classic);
        // The YAML table documents the seed's names, which are also the defaults.
        assert_eq!(s.devops.yaml, YamlPipelines::default());
        assert_eq!(s.auth.method, AuthMethod::AzureCli);
        assert_eq!(s.thresholds, Thresholds::default());
    }

    #[test]
    fn the_yaml_flavour_defaults_to_the_seeds_pipelines_and_takes_ids_or_names() {
        let s = Settings::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(s.devops.flavor, ReleaseFlavor::Classic);
        let yaml = MINIMAL
            .replace("release_definition_id = 12\n", "flavor = \"yaml\"\n")
            .replace(
                "[monitor]",
                "[devops.yaml]\nprod_pipeline = 42\nprod_environment = \"prod-deployment\"\n\n[monitor]",
            );
        let s = Settings::parse(&yaml, "t.toml").unwrap();
        assert_eq!(s.devops.flavor, ReleaseFlavor::Yaml);
        let y = &s.devops.yaml;
        assert_eq!(y.prod_pipeline, PipelineRef::Id(42));
        assert!(y.prod_pipeline.matches(42, "anything"));
        assert_eq!(
            y.rollback_pipeline,
            PipelineRef::Name("rollback-pipeline".into())
        );
        assert!(y.rollback_pipeline.matches(7, "Rollback-Pipeline"));
        assert_eq!(
            (y.prod_stage.as_str(), y.prod_environment.as_str()),
            ("DeployToProduction", "prod-deployment")
        );
        assert_eq!(y.training_resource, "training");

        // Unknown keys stay errors, with their line.
        let typo = yaml.replace("prod_pipeline = 42", "prod_pipline = 42");
        let msg = Settings::parse(&typo, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("prod_pipline"), "{msg}");
        let flavour = yaml.replace("flavor = \"yaml\"", "flavor = \"yml\"");
        let msg = Settings::parse(&flavour, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("yml"), "{msg}");
        let empty = yaml.replace("prod_pipeline = 42", "prod_stage = \"\"");
        let msg = Settings::parse(&empty, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("devops.yaml.prod_stage"), "{msg}");
        // Classic still needs its release definition.
        let classic = MINIMAL.replace("release_definition_id = 12\n", "");
        let msg = Settings::parse(&classic, "t.toml").unwrap_err().to_string();
        assert!(msg.contains("release_definition_id"), "{msg}");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
