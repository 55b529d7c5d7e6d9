//! Every URL relcon calls, built from the settings in one place (docs/AZURE.md).

use reqwest::Url;

use crate::domain::Stage;
use crate::domain::platform::AssetLocation;
use crate::service::backend::{BackendError, BackendResult, ErrorKind};
use crate::settings::{MonitorSource, ResourceRef, Settings};

/// DevOps api-version for everything but the calls below.
pub const DEVOPS_API: &str = "7.1";
/// `connectionData` exists only as a preview resource; a plain `7.1` is refused by Azure DevOps.
pub const CONNECTION_DATA_API: &str = "7.1-preview.1";

/// Base URLs and names, resolved once.
#[derive(Debug, Clone)]
pub struct Urls {
    arm: String,
    ml_api: String,
    subscription: String,
    dev: ResourceRef,
    test: ResourceRef,
    prod: ResourceRef,
    registry: ResourceRef,
    devops_org: String,
    devops_project: String,
    release_project: String,
    repository: String,
    monitor_query: String,
    release_definition: u32,
}

/// A path segment, percent-encoded (names come from configuration and the services).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse(s: &str) -> BackendResult<Url> {
    Url::parse(s).map_err(|e| {
        BackendError::new(
            ErrorKind::Config,
            "GET",
            s,
            format!("not a valid URL ({e}); check the endpoints in the configuration"),
        )
    })
}

fn with_query(s: &str, query: &[(&str, &str)]) -> BackendResult<Url> {
    let mut url = parse(s)?;
    if !query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in query {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

impl Urls {
    pub fn new(s: &Settings) -> Urls {
        let org = seg(&s.devops.organization);
        let project = seg(&s.devops.project);
        Urls {
            arm: s.azure.arm_endpoint.as_str().to_owned(),
            ml_api: s.azure.ml_api_version.clone(),
            subscription: seg(&s.azure.subscription_id.0),
            dev: s.workspaces.dev.clone(),
            test: s.workspaces.test.clone(),
            prod: s.workspaces.prod.clone(),
            registry: s.registry.clone(),
            devops_org: s.devops.endpoint.join(&format!("/{org}")),
            devops_project: s.devops.endpoint.join(&format!("/{org}/{project}")),
            release_project: s.devops.release_endpoint.join(&format!("/{org}/{project}")),
            repository: seg(&s.devops.config_repository),
            monitor_query: match s.monitor.source() {
                Some(MonitorSource::Workspace { id, endpoint }) => {
                    endpoint.join(&format!("/v1/workspaces/{}/query", seg(&id.0)))
                }
                Some(MonitorSource::AppInsights { id, endpoint }) => {
                    endpoint.join(&format!("/v1/apps/{}/query", seg(&id.0)))
                }
                // Refused by `Settings::parse`; an empty URL fails with a configuration error.
                None => String::new(),
            },
            release_definition: s.devops.release_definition_id,
        }
    }

    /// The ARM endpoint, for checking that operation URLs stay on it.
    pub fn arm_base(&self) -> BackendResult<Url> {
        parse(&self.arm)
    }

    fn resource(&self, kind: &str, r: &ResourceRef) -> String {
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/{kind}/{}",
            self.arm,
            self.subscription,
            seg(&r.resource_group),
            seg(&r.name)
        )
    }

    fn workspace(&self, stage: Stage) -> BackendResult<String> {
        let r = match stage {
            Stage::Dev => &self.dev,
            Stage::Test => &self.test,
            Stage::Prod => &self.prod,
            Stage::Registry => {
                return Err(BackendError::new(
                    ErrorKind::Config,
                    "GET",
                    &self.resource("registries", &self.registry),
                    "the registry has no batch endpoints; ask for Test or Prod",
                ));
            }
        };
        Ok(self.resource("workspaces", r))
    }

    fn location(&self, location: AssetLocation) -> String {
        match location {
            AssetLocation::Dev => self.resource("workspaces", &self.dev),
            AssetLocation::Registry => self.resource("registries", &self.registry),
        }
    }

    fn arm(&self, path: String) -> BackendResult<Url> {
        with_query(&path, &[("api-version", &self.ml_api)])
    }

    pub fn endpoints(&self, stage: Stage) -> BackendResult<Url> {
        self.arm(format!("{}/batchEndpoints", self.workspace(stage)?))
    }

    pub fn deployments(&self, stage: Stage, endpoint: &str) -> BackendResult<Url> {
        self.arm(format!(
            "{}/batchEndpoints/{}/deployments",
            self.workspace(stage)?,
            seg(endpoint)
        ))
    }

    pub fn deployment(&self, stage: Stage, endpoint: &str, name: &str) -> BackendResult<Url> {
        self.arm(format!(
            "{}/batchEndpoints/{}/deployments/{}",
            self.workspace(stage)?,
            seg(endpoint),
            seg(name)
        ))
    }

    pub fn model_containers(&self, location: AssetLocation) -> BackendResult<Url> {
        self.arm(format!("{}/models", self.location(location)))
    }

    pub fn model_versions(&self, location: AssetLocation, model: &str) -> BackendResult<Url> {
        self.arm(format!(
            "{}/models/{}/versions",
            self.location(location),
            seg(model)
        ))
    }

    pub fn environment_versions(&self, location: AssetLocation, name: &str) -> BackendResult<Url> {
        self.arm(format!(
            "{}/environments/{}/versions",
            self.location(location),
            seg(name)
        ))
    }

    /// `{organization}/{project}/{path}` on Azure DevOps with this query (the YAML pipelines'
    /// calls, `yaml::urls`, build their paths and api-versions on it).
    pub fn devops_project_url(&self, path: &str, query: &[(&str, &str)]) -> BackendResult<Url> {
        with_query(&format!("{}/{path}", self.devops_project), query)
    }

    pub fn connection_data(&self) -> BackendResult<Url> {
        with_query(
            &format!("{}/_apis/connectionData", self.devops_org),
            &[("api-version", CONNECTION_DATA_API)],
        )
    }

    pub fn git_item(&self, path: &str, commit: &str) -> BackendResult<Url> {
        with_query(
            &format!(
                "{}/_apis/git/repositories/{}/items",
                self.devops_project, self.repository
            ),
            &[
                ("path", path),
                ("versionDescriptor.version", commit),
                ("versionDescriptor.versionType", "commit"),
                ("includeContent", "true"),
                ("api-version", DEVOPS_API),
            ],
        )
    }

    pub fn releases(&self) -> BackendResult<Url> {
        self.releases_filtered(&[])
    }

    /// The release list with extra filters (`minCreatedTime`, `releaseIdFilter`).
    pub fn releases_filtered(&self, filters: &[(&str, &str)]) -> BackendResult<Url> {
        let definition = self.release_definition.to_string();
        let mut q: Vec<(&str, &str)> = vec![
            ("definitionId", &definition),
            ("$expand", "environments,approvals,artifacts,variables"),
            ("queryOrder", "descending"),
            ("$top", "100"),
        ];
        q.extend_from_slice(filters);
        q.push(("api-version", DEVOPS_API));
        with_query(
            &format!("{}/_apis/release/releases", self.release_project),
            &q,
        )
    }

    /// The definition's newest deployment attempts, one page of `top`.
    pub fn recent_deployments(&self, top: u32) -> BackendResult<Url> {
        with_query(
            &format!("{}/_apis/release/deployments", self.release_project),
            &[
                ("definitionId", &self.release_definition.to_string()),
                ("queryOrder", "descending"),
                ("$top", &top.to_string()),
                ("api-version", DEVOPS_API),
            ],
        )
    }

    pub fn release(&self, id: u32) -> BackendResult<Url> {
        with_query(
            &format!("{}/_apis/release/releases/{id}", self.release_project),
            &[("api-version", DEVOPS_API)],
        )
    }

    /// Pending-style approval list; `status` and `release_ids` are optional filters.
    pub fn approvals(&self, status: Option<&str>, release_ids: &str) -> BackendResult<Url> {
        let mut q: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = status {
            q.push(("statusFilter", s));
        }
        q.push(("typeFilter", "preDeploy"));
        if !release_ids.is_empty() {
            q.push(("releaseIdsFilter", release_ids));
        }
        q.push(("top", "100"));
        q.push(("api-version", DEVOPS_API));
        with_query(
            &format!("{}/_apis/release/approvals", self.release_project),
            &q,
        )
    }

    pub fn approval(&self, id: u32) -> BackendResult<Url> {
        with_query(
            &format!("{}/_apis/release/approvals/{id}", self.release_project),
            &[("api-version", DEVOPS_API)],
        )
    }

    /// Note the capital `Release`: the path the service documents for this call.
    pub fn release_environment(&self, release_id: u32, environment_id: u32) -> BackendResult<Url> {
        with_query(
            &format!(
                "{}/_apis/Release/releases/{release_id}/environments/{environment_id}",
                self.release_project
            ),
            // Documented as `7.1` (release-7.1.json, `Releases_Update Release Environment`).
            &[("api-version", DEVOPS_API)],
        )
    }

    /// `{endpoint}/v1/workspaces/{id}/query` or `{endpoint}/v1/apps/{id}/query`.
    pub fn monitor_query(&self) -> BackendResult<Url> {
        parse(&self.monitor_query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("plant001-circuit01"), "plant001-circuit01");
        assert_eq!(seg("a b/c?d"), "a%20b%2Fc%3Fd");
    }
}
