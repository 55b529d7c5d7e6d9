//! Azure Monitor's Alerts Management API (`Microsoft.AlertsManagement/alerts`, api-version
//! 2019-03-01): alert instances as the list, get and changestate calls return them, and an
//! alert's history. Shaped on the official examples (`tests/data/specs/alerts/examples/`).
//! `properties.context` is an open object whose shape depends on the monitor service; it is
//! kept as JSON and searched for dimensions by `map::alert`.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Alert {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<AlertProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertProperties {
    pub essentials: Option<Essentials>,
    /// Whatever the monitor service put there (`includeContext=true`).
    pub context: Option<serde_json::Value>,
    /// 2025-05-25-preview and later: the rule's custom properties.
    pub custom_properties: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Essentials {
    pub severity: Option<String>,
    pub signal_type: Option<String>,
    pub alert_state: Option<String>,
    pub monitor_condition: Option<String>,
    pub target_resource: Option<String>,
    pub target_resource_name: Option<String>,
    pub target_resource_group: Option<String>,
    pub target_resource_type: Option<String>,
    pub monitor_service: Option<String>,
    pub alert_rule: Option<String>,
    pub source_created_id: Option<String>,
    pub start_date_time: Option<String>,
    pub last_modified_date_time: Option<String>,
    pub monitor_condition_resolved_date_time: Option<String>,
    pub last_modified_user_name: Option<String>,
    pub description: Option<String>,
}
