//! Microsoft's own alert documents read the way relcon reads the service: the Alerts
//! Management examples (2019-03-01, and the 2025-05-25 preview relcon should also survive)
//! through the wire types and the mapping, and the alert payloads of the Azure Monitor Learn
//! pages through the dimension search, since the API documents `properties.context` only as
//! an object (docs/AZURE.md, "Alerts").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use relcon::azure::alerts::alert;
use relcon::azure::wire::ArmList;
use relcon::azure::wire::alerts as aw;
use relcon::domain::incidents::{AlertState, MonitorCondition, Severity};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/azure-examples")
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

fn read<T: serde::de::DeserializeOwned>(rel: &str, v: Value) -> T {
    serde_path_to_error::deserialize(v)
        .unwrap_or_else(|e| panic!("{rel} does not read: at {}: {}", e.path(), e.inner()))
}

const ALERTS: &[&str] = &[
    "alerts/Alerts_List.2019-03-01.json",
    "alerts/Alerts_GetById.2019-03-01.json",
    "alerts/Alerts_ChangeState.2019-03-01.json",
    "alerts/Alerts_History.2019-03-01.json",
    "alerts/Alerts_GetById.2025-05-25-preview.json",
    "alerts/Alerts_ChangeState.2025-05-25-preview.json",
    "alerts/Alerts_History.2025-05-25-preview.json",
];

const PAYLOADS: &[&str] = &[
    "monitor-docs/common-schema.sample-payload.metric.json",
    "monitor-docs/common-schema.alertContext.log-alerts-v2.json",
    "monitor-docs/noncommon-schema.metric-alert.static.json",
];

#[test]
fn every_alert_document_is_accounted_for() {
    let mut on_disk = BTreeSet::new();
    for dir in ["alerts", "monitor-docs"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            on_disk.insert(format!(
                "{dir}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    let listed: BTreeSet<String> = ALERTS
        .iter()
        .chain(PAYLOADS)
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn the_list_example_reads_as_fired_alerts() {
    let rel = ALERTS[0];
    let page: ArmList<aw::Alert> = read(rel, load(rel)["responses"]["200"]["body"].clone());
    assert!(page.next_link.is_some(), "the example pages");
    let alerts: Vec<_> = page.value.into_iter().map(alert).collect();
    assert_eq!(alerts.len(), 2);
    let a = &alerts[0];
    assert_eq!(a.severity, Severity::Sev3);
    assert_eq!(a.state, AlertState::Acknowledged);
    assert_eq!(a.condition, MonitorCondition::Fired);
    assert_eq!(a.guid(), "66114d64-d9d9-478b-95c9-b789d6502100");
    assert_eq!(a.name, "cpu alert");
    assert_eq!(a.monitor_service, "Application Insights");
    assert_eq!(a.target_resource_group, "servicedeskresourcegroup");
    assert_eq!(
        a.fired_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2018-09-13T15:51:02+00:00")
    );
    // A classic log alert's rule is a portal URL, not an ARM id: kept as written.
    assert!(a.rule.starts_with("https://"));
    // Its context has no dimensions.
    assert!(a.dimensions.is_empty(), "{:?}", a.dimensions);
    assert_eq!(alerts[1].state, AlertState::New);
}

#[test]
fn get_change_state_and_the_preview_read_too() {
    for rel in [ALERTS[1], ALERTS[2], ALERTS[4], ALERTS[5]] {
        let a = alert(read(rel, load(rel)["responses"]["200"]["body"].clone()));
        assert!(!a.id.is_empty() && a.severity != Severity::Unknown, "{rel}");
    }
    let changed = alert(read(
        ALERTS[2],
        load(ALERTS[2])["responses"]["200"]["body"].clone(),
    ));
    assert_eq!(changed.state, AlertState::Acknowledged);
    // The documented request body of a state change is what relcon sends.
    assert_eq!(
        load(ALERTS[2])["parameters"]["body"],
        json!({"comments": "Acknowledging alert"})
    );
    // The history documents (read by nothing but checked to be what the simulator serves).
    for rel in [ALERTS[3], ALERTS[6]] {
        let h = load(rel)["responses"]["200"]["body"].clone();
        assert!(h["properties"]["modifications"].is_array(), "{rel}");
    }
}

/// The Learn payloads put dimensions where the notification schema has them; relcon finds
/// them whether they come wrapped (`data.alertContext`, `context`) or not.
#[test]
fn dimensions_are_found_in_every_documented_payload_shape() {
    let expect: [(&str, &str); 3] = [
        ("ResourceId", "b1b1b1b1-cccc-dddd-eeee-f2f2f2f2f2f2"),
        ("Computer", "TestComputer"),
        ("ApiName", "GetBlob"),
    ];
    for (rel, want) in PAYLOADS.iter().zip(expect) {
        let payload = load(rel);
        let wire: aw::Alert = serde_json::from_value(json!({
            "id": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/x",
            "properties": {"essentials": {"severity": "Sev2"}, "context": payload},
        }))
        .unwrap();
        let a = alert(wire);
        let (k, v) = want;
        // Found by a name in any case, as relcon compares dimension names.
        assert_eq!(
            a.dimension(&k.to_ascii_uppercase()),
            Some(v),
            "{rel}: dimensions {:?}",
            a.dimensions
        );
    }
}
