//! Azure ML (ARM, api-version 2025-06-01) resources: batch endpoints and deployments, model
//! containers and versions, environment and data versions, and the async-operation status.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ErrorDetail, SystemData, lenient_string_map};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchEndpoint {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    pub location: Option<String>,
    pub properties: Option<BatchEndpointProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchEndpointProperties {
    pub description: Option<String>,
    pub auth_mode: Option<String>,
    pub scoring_uri: Option<String>,
    pub defaults: Option<BatchEndpointDefaults>,
    pub provisioning_state: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchEndpointDefaults {
    pub deployment_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchDeployment {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    pub location: Option<String>,
    pub properties: Option<BatchDeploymentProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchDeploymentProperties {
    pub description: Option<String>,
    pub model: Option<AssetReference>,
    pub environment_id: Option<String>,
    pub compute: Option<String>,
    pub provisioning_state: Option<String>,
}

/// `properties.model`: `{"referenceType": "Id", "assetId": "azureml://..."}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AssetReference {
    pub reference_type: Option<String>,
    pub asset_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelContainer {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<ModelContainerProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelContainerProperties {
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    pub latest_version: Option<String>,
    pub next_version: Option<String>,
    pub is_archived: Option<bool>,
}

/// A model version; its `name` is the version number.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelVersion {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<ModelVersionProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelVersionProperties {
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub properties: BTreeMap<String, String>,
    pub model_type: Option<String>,
    pub model_uri: Option<String>,
    pub is_anonymous: Option<bool>,
    pub is_archived: Option<bool>,
}

/// An environment version; its `name` is the version (semver by the platform's convention).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvironmentVersion {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<EnvironmentVersionProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvironmentVersionProperties {
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
    pub environment_type: Option<String>,
    pub image: Option<String>,
}

/// A data asset version (MLTable dates by convention). Served; not read yet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<DataVersionProperties>,
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersionProperties {
    pub data_type: Option<String>,
    pub data_uri: Option<String>,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_string_map")]
    pub tags: BTreeMap<String, String>,
}

/// What an `Azure-AsyncOperation` URL returns.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AsyncOperationStatus {
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub percent_complete: Option<f64>,
    pub error: Option<ErrorDetail>,
}

/// Just enough of a resource to read its provisioning state (a `Location` poll that ends with
/// the resource itself).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProvisionedResource {
    pub properties: Option<ProvisioningProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProvisioningProperties {
    pub provisioning_state: Option<String>,
}
