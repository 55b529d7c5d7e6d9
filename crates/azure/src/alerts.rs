//! Azure Monitor alerts through the Alerts Management API (api-version 2019-03-01, docs/AZURE.md
//! "Alerts"): one paged list of the subscription's fired alerts per refresh, one alert re-read,
//! and the state change (acknowledge, close, reopen). The wire alert becomes an
//! [`AlertRecord`] here, with the dimensions found in its context.

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::AzureBackend;
use super::http::{Call, Service};
use super::map::time;
use super::urls::seg;
use super::wire::alerts as aw;
use crate::domain::incidents::{AlertRecord, AlertState, MonitorCondition, Severity};
use crate::service::backend::{BackendError, BackendResult, ErrorKind, Receipt};

/// The Alerts Management api-version relcon sends unless `[incidents] alerts_api_version` says
/// otherwise: the newest stable version with the alert operations (2021-04-01 holds only
/// `Operations_List`; the 2023 previews are deprecated in favour of this one).
pub const ALERTS_API: &str = "2019-03-01";

/// How far back the list looks. The service's default is one day; an alert fired two days ago
/// and still open must page as surely as one fired an hour ago. 30 days is the longest
/// `timeRange` the API takes.
pub const ALERTS_TIME_RANGE: &str = "30d";

/// Where the alert calls go.
#[derive(Debug, Clone)]
pub struct AlertUrls {
    /// `{arm}/subscriptions/{sub}/providers/Microsoft.AlertsManagement`.
    base: String,
    api_version: String,
}

impl AlertUrls {
    pub fn new(settings: &crate::settings::Settings) -> AlertUrls {
        AlertUrls {
            base: format!(
                "{}/subscriptions/{}/providers/Microsoft.AlertsManagement",
                settings.azure.arm_endpoint.as_str().trim_end_matches('/'),
                seg(&settings.azure.subscription_id.0)
            ),
            api_version: settings.incidents.alerts_api_version.clone(),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> BackendResult<Url> {
        let text = format!("{}{path}", self.base);
        let mut url = Url::parse(&text).map_err(|e| {
            BackendError::new(
                ErrorKind::Config,
                "GET",
                &text,
                format!("not a valid URL ({e}); check [azure] arm_endpoint"),
            )
        })?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("api-version", &self.api_version);
        }
        Ok(url)
    }

    /// `Alerts_GetAll` at subscription scope: alerts whose condition still holds, fired in the
    /// last 30 days, with their context (where the dimensions are). With context a page holds
    /// at most 25 alerts (the documented cap); `nextLink` is followed.
    pub fn fired(&self) -> BackendResult<Url> {
        self.url(
            "/alerts",
            &[
                ("monitorCondition", "Fired"),
                ("timeRange", ALERTS_TIME_RANGE),
                ("includeContext", "true"),
                ("pageCount", "25"),
                ("sortBy", "startDateTime"),
                ("sortOrder", "desc"),
            ],
        )
    }

    /// `Alerts_GetById`.
    pub fn alert(&self, guid: &str) -> BackendResult<Url> {
        self.url(&format!("/alerts/{}", seg(guid)), &[])
    }

    /// `Alerts_ChangeState`.
    pub fn change_state(&self, guid: &str, state: AlertState) -> BackendResult<Url> {
        self.url(
            &format!("/alerts/{}/changestate", seg(guid)),
            &[("newState", state.as_str())],
        )
    }
}

/// The alert's GUID from whatever the caller holds (the full id, or the GUID itself).
fn guid_of(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// A wire alert as relcon's record. Dimensions are searched for in the context, wherever the
/// monitor service put them (see [`dimensions`]), and in the 2025 previews' `customProperties`.
pub fn alert(w: aw::Alert) -> AlertRecord {
    let props = w.properties.unwrap_or_default();
    let e = props.essentials.unwrap_or_default();
    let mut dims = Vec::new();
    if let Some(c) = &props.context {
        dimensions(c, 0, &mut dims);
    }
    if let Some(Value::Object(custom)) = &props.custom_properties {
        for (k, v) in custom {
            if let Some(v) = scalar(v) {
                dims.push((k.clone(), v));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    dims.retain(|(k, v)| seen.insert((k.to_ascii_lowercase(), v.clone())));
    AlertRecord {
        id: w.id.unwrap_or_default(),
        name: w.name.unwrap_or_default(),
        rule: e.alert_rule.unwrap_or_default(),
        severity: Severity::parse(e.severity.as_deref().unwrap_or("")),
        state: AlertState::parse(e.alert_state.as_deref().unwrap_or("")),
        condition: MonitorCondition::parse(e.monitor_condition.as_deref().unwrap_or("")),
        monitor_service: e.monitor_service.unwrap_or_default(),
        signal_type: e.signal_type.unwrap_or_default(),
        fired_at: time(e.start_date_time.as_deref()),
        modified_at: time(e.last_modified_date_time.as_deref()),
        modified_by: e.last_modified_user_name.filter(|s| !s.is_empty()),
        target_resource: e.target_resource.unwrap_or_default(),
        target_resource_group: e.target_resource_group.unwrap_or_default(),
        description: e.description.unwrap_or_default(),
        dimensions: dims,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Every `{name, value}` pair under a key called `dimensions` (any case), anywhere in the
/// context. Microsoft documents the context of this API only as an object; the notification
/// payloads it mirrors put dimensions at `condition.allOf[].dimensions` (metric and log search
/// V2 alerts, with or without a `context` wrapper) and at the top (`Dimensions`, log alerts V1),
/// so relcon looks everywhere, a few levels deep.
fn dimensions(v: &Value, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > 6 {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                if k.eq_ignore_ascii_case("dimensions")
                    && let Value::Array(items) = val
                {
                    for d in items {
                        let name = d
                            .get("name")
                            .or_else(|| d.get("Name"))
                            .and_then(Value::as_str);
                        let value = d.get("value").or_else(|| d.get("Value")).and_then(scalar);
                        if let (Some(n), Some(v)) = (name, value) {
                            out.push((n.to_owned(), v));
                        }
                    }
                } else {
                    dimensions(val, depth + 1, out);
                }
            }
        }
        Value::Array(items) => {
            for i in items {
                dimensions(i, depth + 1, out);
            }
        }
        _ => {}
    }
}

impl AzureBackend {
    pub(super) async fn list_fired_alerts(&self) -> BackendResult<Vec<AlertRecord>> {
        let url = self.alerts.fired()?;
        self.http
            .arm_list_map(url, "an alert list", |a: aw::Alert| Some(alert(a)))
            .await
    }

    pub(super) async fn get_alert(&self, id: &str) -> BackendResult<AlertRecord> {
        let url = self.alerts.alert(guid_of(id))?;
        let a: aw::Alert = self.http.get_json(Service::Arm, url, "an alert").await?;
        Ok(alert(a))
    }

    /// POST `changestate` once, with the reason as the documented optional `comments` body.
    pub(super) async fn post_alert_state(
        &self,
        id: &str,
        state: AlertState,
        comment: &str,
    ) -> BackendResult<Receipt<AlertRecord>> {
        let url = self.alerts.change_state(guid_of(id), state)?;
        let body = json!({"comments": comment});
        let reply = self
            .http
            .mutate(Call::with_body(Service::Arm, Method::POST, url, body))
            .await?;
        let a: aw::Alert = reply.json("an alert")?;
        Ok(Receipt {
            value: alert(a),
            request_id: reply.request_id(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_are_found_wherever_the_context_keeps_them() {
        let ctx = json!({
            "context": {"condition": {"allOf": [{"dimensions": [
                {"name": "plant_id", "value": "PLANT007"},
                {"name": "circuit_id", "value": "CIRCUIT03"}
            ]}]}},
            "Dimensions": [{"name": "feature", "value": "temp"}],
            "other": {"deep": [{"dimensions": [{"name": "n", "value": 3}]}]}
        });
        let mut d = Vec::new();
        dimensions(&ctx, 0, &mut d);
        d.sort();
        assert_eq!(
            d,
            [
                ("circuit_id".to_owned(), "CIRCUIT03".to_owned()),
                ("feature".into(), "temp".into()),
                ("n".into(), "3".into()),
                ("plant_id".into(), "PLANT007".into()),
            ]
        );
    }

    #[test]
    fn an_alert_id_or_its_guid_addresses_the_same_alert() {
        let id = "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/66114d64";
        assert_eq!(guid_of(id), "66114d64");
        assert_eq!(guid_of("66114d64"), "66114d64");
    }
}
