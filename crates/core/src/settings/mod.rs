//! relcon's configuration file (`relcon.toml`): where the fleet lives in Azure, how to sign in,
//! naming templates, policy and thresholds. Parsed strictly: an unknown key or a bad value is an
//! error that names the key and its line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::Thresholds;
pub use crate::release_flavor::{PipelineRef, ReleaseFlavor, YamlPipelines};

mod sections;
pub use sections::*;

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
mod tests;
