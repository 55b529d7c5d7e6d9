use std::time::Duration;

use serde_json::{Map, Value, json};

use super::*;
use crate::azure::{AzureBackend, ClientOptions};
use crate::domain::fleet::SnapshotError;
use crate::service::Context;
use crate::service::backend::Backend;
use crate::service::snapshot::{Known, assemble, read};
use crate::sim::{SimOptions, start};

/// The document as relcon built it before it was streamed: the whole fleet as one `Value`,
/// wrapped as `output::document` wraps it, printed by `to_string_pretty`. The reference the
/// streamed bytes must equal.
fn built_whole(s: &FleetSnapshot, stale: bool, command: Option<&str>) -> String {
    let body = json!({
        "complete": !stale && s.is_complete(),
        "generated_at": s.generated_at,
        "stale": stale,
        "backend": s.backend,
        "identity": s.identity.as_ref().map(|i| i.unique_name.clone()),
        "plants": s.plants.iter().map(|p| json!({
            "plant_id": p.plant_id,
            "name": p.name,
            "health": p.health(),
            "circuits": p.circuits.iter().map(circuit_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "errors": s.errors,
    });
    let Value::Object(body) = body else {
        unreachable!()
    };
    let mut doc = Map::new();
    doc.insert("schema_version".into(), json!(1));
    if let Some(c) = command {
        doc.insert("command".into(), json!(c));
    }
    doc.extend(body);
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap();
    text.push('\n');
    text
}

fn streamed(s: &FleetSnapshot, stale: bool, command: Option<&str>) -> String {
    let mut out = Vec::new();
    let doc = FleetDocument {
        snapshot: s,
        stale,
        command,
        schema_version: 1,
    };
    write_pretty(&mut out, &doc).unwrap();
    String::from_utf8(out).unwrap()
}

/// The first line where two texts part, for a readable failure.
fn first_difference(a: &str, b: &str) -> String {
    let at = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    format!(
        "line {}: {:?} vs {:?}",
        at + 1,
        a.lines().nth(at),
        b.lines().nth(at)
    )
}

fn assert_same_bytes(s: &FleetSnapshot, stale: bool, command: Option<&str>) {
    let (old, new) = (built_whole(s, stale, command), streamed(s, stale, command));
    assert!(old == new, "{}", first_difference(&old, &new));
}

#[test]
fn the_streamed_document_is_the_one_built_whole_byte_for_byte() {
    let mut s = relcon_console::fixture::fleet(200);
    assert!(s.circuit_count() >= 200);
    // Every kind of circuit state the fixture has (alerts, jobs, drift, validations, unknowns).
    assert!(
        s.circuits()
            .any(|c| !c.unknown.is_empty() || c.alerts.active > 0)
    );
    assert_same_bytes(&s, false, Some("fleet"));
    assert_same_bytes(&s, true, Some("fleet"));
    assert_same_bytes(&s, false, None);
    s.errors.push(SnapshotError {
        scope: "deployments of batch-endpoint-plant003".into(),
        message: "HTTP 500 \"quoted\" and unicode \u{e9}".into(),
    });
    s.identity = None;
    assert_same_bytes(&s, false, Some("fleet"));
    let mut empty = s.clone();
    empty.plants.clear();
    assert_same_bytes(&empty, false, Some("fleet"));
    // And it is one JSON object a script can read.
    let v: Value = serde_json::from_str(&streamed(&s, false, Some("fleet"))).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["complete"], false);
    assert_eq!(v["plants"].as_array().unwrap().len(), s.plants.len());
}

#[tokio::test]
async fn the_demo_fleet_reads_the_same_streamed_as_built_whole() {
    let sim = start(SimOptions {
        seed: 7,
        speed: 0.001,
        start: Some(crate::domain::clock::pinned_start()),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let settings = sim.settings();
    let mut options = ClientOptions {
        identity_override: Some("bob".into()),
        ..ClientOptions::default()
    };
    options.retry.base_delay = Duration::from_millis(5);
    let backend = AzureBackend::new(&settings, options).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let mut readings = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut readings, &ctx, sim.now());
    assert!(s.is_complete(), "{:?}", s.errors);
    assert!(s.circuit_count() > 100);
    assert_same_bytes(&s, false, Some("fleet"));
}
