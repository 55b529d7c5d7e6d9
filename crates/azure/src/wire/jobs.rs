//! Azure ML batch scoring jobs as the ML data plane describes them: a deployment's job list
//! (`BatchJobDeployment_List`, api-version 2020-09-01-dataplanepreview, on the regional
//! `{api}/mferp/managementfrontend` host) and a run's history (`Runs_Get`, run history v1.0),
//! which alone has the start, the end and the error. No official example exists for either;
//! the shapes follow the swaggers (`tests/data/specs/ml/batch-dataplane...`, `runhistory/`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{SystemData, lenient_string_map};

/// `BatchJobResource`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchJobResource {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<BatchJob>,
    pub system_data: Option<SystemData>,
}

/// `BatchJob` (the parts relcon reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchJob {
    pub status: Option<String>,
    pub provisioning_state: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub properties: BTreeMap<String, String>,
    /// Read-only links, e.g. `{"Studio": {"endpoint": "https://ml.azure.com/runs/..."}}`.
    pub interaction_endpoints: Option<BTreeMap<String, JobEndpoint>>,
    /// `inputData` (`x-ms-mutability: create, read`: given back as sent). Microsoft's Learn
    /// page writes the keys in PascalCase, the swagger in camelCase: both are read.
    #[serde(alias = "InputData")]
    pub input_data: Option<BTreeMap<String, JobInput>>,
}

/// `JobInput` (discriminator `jobInputType`): `uri` for data inputs, `value` for a literal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobInput {
    #[serde(alias = "JobInputType")]
    pub job_input_type: Option<String>,
    #[serde(alias = "Uri")]
    pub uri: Option<String>,
    /// A string in the swagger; anything else is kept as its JSON text.
    #[serde(alias = "Value")]
    pub value: Option<serde_json::Value>,
    #[serde(alias = "Mode")]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobEndpoint {
    pub endpoint: Option<String>,
    pub job_endpoint_type: Option<String>,
}

/// Run history's `Run` (the parts relcon reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Run {
    pub run_id: Option<String>,
    pub status: Option<String>,
    pub created_utc: Option<String>,
    pub start_time_utc: Option<String>,
    pub end_time_utc: Option<String>,
    pub error: Option<RunErrorResponse>,
    pub warnings: Option<Vec<RunWarning>>,
}

/// `ErrorResponse`: `{"error": RootError}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunErrorResponse {
    pub error: Option<RootError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RootError {
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunWarning {
    pub source: Option<String>,
    pub message: Option<String>,
}

/// The workspace discovery document (`GET {properties.discoveryUrl}`): `api` is the regional
/// host of the ML data plane.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Discovery {
    pub api: Option<String>,
}

/// The parts of a workspace relcon reads (`GET {ws}`, Workspaces_Get).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Workspace {
    pub properties: Option<WorkspaceProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkspaceProperties {
    pub discovery_url: Option<String>,
}
