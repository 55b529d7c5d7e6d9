//! Monitoring end to end on the documented schemas: the simulator refuses the classic names at
//! Log Analytics workspace scope as the service does, serves them only on the Application
//! Insights route, and relcon's client reads drift, accuracy and validation for every circuit
//! through either route.

use std::time::Duration;

use relcon::azure::kql::{self, Schema};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::fleet::gate_evidence;
use relcon::domain::platform::Cell;
use relcon::domain::{Stage, Status};
use relcon::service::Context;
use relcon::service::backend::{Backend, ErrorKind, MonitorQuery};
use relcon::service::queries;
use relcon::service::snapshot::{Known, assemble, read};
use relcon::settings::Settings;
use relcon::sim::{SimHandle, SimOptions, start};
use serde_json::{Value, json};

async fn sim() -> SimHandle {
    start(SimOptions {
        seed: 11,
        start: Some(relcon::domain::clock::pinned_start()),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

fn options() -> ClientOptions {
    let mut o = ClientOptions {
        identity_override: Some("bob".into()),
        ..ClientOptions::default()
    };
    o.retry.base_delay = Duration::from_millis(5);
    o
}

/// What relcon sent before this issue: the classic names, at workspace scope.
const OLD_DRIFT_QUERY: &str = "customMetrics\n\
| where timestamp > ago(30d) and name == 'data_drift_score'\n\
| extend plant_id = tostring(customDimensions.plant_id), circuit_id = tostring(customDimensions.circuit_id), feature = tostring(customDimensions.feature), metric = tostring(customDimensions.metric)\n\
| summarize arg_max(timestamp, value) by plant_id, circuit_id, feature, metric, day = startofday(timestamp)\n\
| order by day asc\n\
| summarize days = make_list(day), values = make_list(value) by plant_id, circuit_id, feature, metric";

async fn post(url: &str, query: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header("Authorization", "Bearer relcon-sim.bob")
        .json(&json!({"query": query, "timespan": "P30D"}))
        .send()
        .await
        .expect("sent");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

fn workspace_url(s: &Settings) -> String {
    let id = s.monitor.log_analytics_workspace_id.as_ref().expect("ws");
    format!("{}/v1/workspaces/{id}/query", s.monitor.endpoint)
}

fn app_url(s: &Settings) -> String {
    let id = s.monitor.application_insights_app_id.as_ref().expect("app");
    format!(
        "{}/v1/apps/{id}/query",
        s.monitor.application_insights_endpoint
    )
}

#[tokio::test]
async fn the_old_classic_query_is_refused_at_workspace_scope() {
    let sim = sim().await;
    let (status, v) = post(&workspace_url(&sim.settings()), OLD_DRIFT_QUERY).await;
    assert_eq!(status, 400, "{v}");
    let e = &v["error"];
    assert_eq!(e["code"], "BadArgumentError", "{v}");
    assert_eq!(e["innererror"]["code"], "SemanticError", "{v}");
    assert_eq!(e["innererror"]["innererror"]["code"], "SEM0100", "{v}");
    assert_eq!(
        e["innererror"]["innererror"]["message"],
        "'where' operator: Failed to resolve table or column expression named 'customMetrics'"
    );
    // The right table with one classic column is refused too, naming the column.
    let half = OLD_DRIFT_QUERY.replacen("customMetrics", "AppMetrics", 1);
    let (status, v) = post(&workspace_url(&sim.settings()), &half).await;
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["innererror"]["innererror"]["message"],
        "'where' operator: Failed to resolve table or column expression named 'timestamp'"
    );
}

#[tokio::test]
async fn classic_names_are_served_only_on_the_application_insights_route() {
    let sim = sim().await;
    let app = sim.settings_app_insights();
    let (status, v) = post(&app_url(&app), OLD_DRIFT_QUERY).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["tables"][0]["columns"][0]["name"], "plant_id");
    // The workspace query is refused there: AppMetrics is not an Application Insights table.
    let (ws_query, _) = kql::query(MonitorQuery::Drift, Schema::Workspace);
    let (status, v) = post(&app_url(&app), &ws_query).await;
    assert_eq!(status, 400);
    assert!(
        v["error"]["innererror"]["innererror"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("named 'AppMetrics'")),
        "{v}"
    );
    // An app id or workspace id that is not there.
    let wrong = app_url(&app).replace("34adfa4f", "00000000");
    let (status, _) = post(&wrong, &ws_query).await;
    assert_eq!(status, 404);
}

/// Every read through `settings`, decoded with relcon's decoders.
async fn read_all(settings: &Settings) -> (usize, usize, usize, Vec<(String, f64)>) {
    let b = AzureBackend::new(settings, options()).expect("client");
    let drift = queries::decode_drift(&b.monitor(MonitorQuery::Drift).await.expect("drift"))
        .expect("drift columns");
    let accuracy =
        queries::decode_accuracy(&b.monitor(MonitorQuery::Accuracy).await.expect("accuracy"))
            .expect("accuracy columns");
    let validation = queries::decode_validation(
        &b.monitor(MonitorQuery::Validation)
            .await
            .expect("validation"),
    )
    .expect("validation columns");
    let mut latest: Vec<(String, f64)> = accuracy
        .iter()
        .filter_map(|(c, s)| Some((c.to_string(), s.latest()?)))
        .collect();
    latest.sort_by(|a, b| a.0.cmp(&b.0));
    (drift.len(), accuracy.len(), validation.len(), latest)
}

#[tokio::test]
async fn every_circuit_is_read_through_either_route_alike() {
    let sim = sim().await;
    let circuits = sim.scenario().circuits;
    let ws = read_all(&sim.settings()).await;
    assert_eq!(ws.0, circuits, "drift for every circuit");
    assert_eq!(ws.1, circuits, "accuracy for every circuit");
    assert_eq!(ws.2, circuits, "validation for every circuit");
    let app = read_all(&sim.settings_app_insights()).await;
    assert_eq!(ws, app, "the same metrics through either API");
}

#[tokio::test]
async fn the_test_gate_passes_where_validation_passed() {
    let sim = sim().await;
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, options()).expect("client");
    let ctx = Context::new(&settings, false, backend.describe());
    let mut readings = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let snap = assemble(&mut readings, &ctx, sim.now());
    assert!(
        snap.errors.is_empty(),
        "nothing unreadable: {:?}",
        snap.errors
    );
    let circuits: Vec<_> = snap.circuits().collect();
    assert!(
        circuits
            .iter()
            .all(|c| c.drift.status != Status::Unknown && c.accuracy.status != Status::Unknown),
        "drift and accuracy known for every circuit"
    );
    assert!(circuits.iter().any(|c| c.drift.status == Status::Alert));
    let t = relcon::domain::Thresholds::default();
    let (mut gates, mut passing) = (0, 0);
    for item in snap.approvals.iter().filter(|a| a.stage == Stage::Prod) {
        let evidence = gate_evidence(&snap, item, &t);
        if evidence.is_empty() {
            continue;
        }
        gates += 1;
        assert!(
            evidence.iter().all(|e| e.status != Status::Unknown),
            "release {}: {evidence:?}",
            item.release_id
        );
        passing += usize::from(evidence.iter().all(|e| e.status == Status::Ok));
    }
    assert!(gates > 0 && passing > 0, "{gates} gates, {passing} passing");
}

#[tokio::test]
async fn coverage_names_every_metric_relcon_reads() {
    let sim = sim().await;
    for settings in [sim.settings(), sim.settings_app_insights()] {
        let b = AzureBackend::new(&settings, options()).expect("client");
        let t = b.monitor(MonitorQuery::Coverage).await.expect("coverage");
        let m = t.column("metric_name").expect("metric_name");
        let r30 = t.column("rows_30d").expect("rows_30d");
        for (metric, _, _) in queries::monitored_metrics() {
            let row = t
                .rows
                .iter()
                .find(|r| r[m].as_str() == Some(metric))
                .unwrap_or_else(|| panic!("{metric} missing"));
            assert!(row[r30].as_f64().is_some_and(|n| n > 0.0), "{metric}");
        }
        assert!(matches!(t.rows[0][m], Cell::Text(_)));
    }
}

#[tokio::test]
async fn a_workspace_without_the_table_is_a_readable_error() {
    let sim = sim().await;
    // The app id as a workspace id: a workspace the simulator does not know.
    let mut settings = sim.settings();
    settings.monitor.log_analytics_workspace_id = Some(relcon::settings::Guid(
        "11111111-2222-3333-4444-555555555555".into(),
    ));
    let b = AzureBackend::new(&settings, options()).expect("client");
    let e = b.monitor(MonitorQuery::Drift).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("WorkspaceNotFoundError"), "{e}");
}

/// `relcon doctor --json` against `config`; its exit code and report.
async fn doctor(config: &str, now: chrono::DateTime<chrono::Utc>) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relcon.toml");
    std::fs::write(&path, config).expect("config written");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_relcon"))
        .arg("--config")
        .arg(&path)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args(["--as", "bob", "--json", "doctor"])
        .env("RELCON_CLOCK_START", now.to_rfc3339())
        .output()
        .await
        .expect("relcon runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn checks(report: &Value) -> Vec<(String, bool, String)> {
    report["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_owned(),
                        c["ok"].as_bool().unwrap_or(false),
                        c["detail"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_each_metric_through_either_route() {
    let sim = sim().await;
    for (route, schema, table) in [
        (
            relcon::sim::MonitorRoute::Workspace,
            "workspace tables (AppMetrics)",
            "AppMetrics",
        ),
        (
            relcon::sim::MonitorRoute::AppInsights,
            "classic tables (customMetrics)",
            "customMetrics",
        ),
    ] {
        let (code, report) = doctor(&sim.settings_toml_for(route), sim.now()).await;
        let checks = checks(&report);
        assert_eq!(code, 0, "{route:?}: {checks:#?}");
        let monitoring = checks
            .iter()
            .find(|c| c.0 == "monitoring")
            .expect("a monitoring check");
        assert!(monitoring.2.contains(schema), "{monitoring:?}");
        for (metric, _, _) in queries::monitored_metrics() {
            let c = checks
                .iter()
                .find(|c| c.2.contains(&format!("{table} {metric}:")))
                .unwrap_or_else(|| panic!("{metric}: {checks:#?}"));
            assert!(c.1, "{c:?}");
        }
    }
    // A workspace that is not there: monitoring could not be read, exit 4, and the fix says
    // what to check.
    let wrong = sim.settings_toml().replace(
        "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b",
        "11111111-2222-3333-4444-555555555555",
    );
    let (code, report) = doctor(&wrong, sim.now()).await;
    assert_eq!(code, 4, "{report}");
    let failed = report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "monitoring"))
        .expect("a monitoring check");
    assert_eq!(failed["ok"], false);
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("WorkspaceNotFoundError")),
        "{failed}"
    );
    // Seen from a week later, the daily metrics stopped: read, so a problem found (exit 1),
    // not a service failure; validation (90 days) is still fine.
    let (code, report) = doctor(&sim.settings_toml(), sim.now() + chrono::Duration::days(7)).await;
    let checks = checks(&report);
    assert_eq!(code, 1, "{checks:#?}");
    let drift = checks
        .iter()
        .find(|c| c.2.contains("AppMetrics data_drift_score:"))
        .expect("drift check");
    assert!(
        !drift.1 && drift.2.contains("nothing for 7 days"),
        "{drift:?}"
    );
    assert!(
        checks
            .iter()
            .filter(|c| c.2.contains("AppMetrics validation_"))
            .all(|c| c.1),
        "{checks:#?}"
    );
}

/// Rows of a table as comparable text, in a stable order.
fn sorted_rows(t: &relcon::domain::platform::Table) -> Vec<String> {
    let mut rows: Vec<String> = t.rows.iter().map(|r| format!("{r:?}")).collect();
    rows.sort();
    rows
}

/// A result past the service's record cap comes back as a `PartialError` with what fitted.
/// The client asks again in parts by plant (`hash(plant_id, n) == k`), doubling n until each
/// part fits, joins them, and starts the next refresh at the number of parts that worked.
#[tokio::test]
async fn a_result_past_the_cap_is_read_whole_in_parts() {
    let whole = sim().await;
    let reference = AzureBackend::new(&whole.settings(), options()).expect("client");
    let full = reference.monitor(MonitorQuery::Drift).await.expect("drift");
    assert!(full.partial.is_none());
    let rows = full.rows.len();
    assert!(rows > 1000, "enough series to split: {rows}");

    let capped = start(SimOptions {
        seed: 11,
        start: Some(relcon::domain::clock::pinned_start()),
        // A part holds about a quarter of the series at most: four or eight parts are needed.
        query_max_rows: Some(rows / 3),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let b = AzureBackend::new(&capped.settings(), options()).expect("client");

    // Asked whole, the service cuts the result: what fitted, and the reason.
    let (status, v) = post(
        &workspace_url(&capped.settings()),
        &kql::query(MonitorQuery::Drift, Schema::Workspace).0,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["error"]["code"], "PartialError", "{v}");

    let first = b.monitor(MonitorQuery::Drift).await.expect("drift");
    assert_eq!(first.partial, None, "read whole in parts");
    assert_eq!(sorted_rows(&first), sorted_rows(&full), "the same rows");
    let sent = b.stats().monitor;
    // 1 whole (cut), the first of 2 parts (cut: no use asking the second), then 4 parts; one
    // more doubling at most: never a storm.
    assert!((6..=14).contains(&sent), "{sent} queries");

    // The next refresh starts at the parts that worked.
    let parts = sent;
    let again = b.monitor(MonitorQuery::Drift).await.expect("drift");
    assert_eq!(sorted_rows(&again), sorted_rows(&full));
    let second = b.stats().monitor - parts;
    assert!(
        (4..=8).contains(&second),
        "{second} queries the second time"
    );
}

/// A refresh decodes each part as it arrives (`Backend::monitor_each`, `queries::read_decoded`)
/// instead of joining the parts into one table first: the series are those of the whole
/// result, each part is handed over on its own, and a `FleetView` read (one-shot `relcon
/// fleet`) keeps each circuit's worst series whole and the others' newest point, judged the
/// same.
#[tokio::test]
async fn a_refresh_decodes_each_part_as_it_arrives() {
    use relcon::domain::drift::DriftAssessment;
    use relcon::service::queries::{Decoded, Keep, MonitorRead, read_decoded};

    let whole = sim().await;
    let reference = AzureBackend::new(&whole.settings(), options()).expect("client");
    let full = reference.monitor(MonitorQuery::Drift).await.expect("drift");
    let expected = Decoded::of(&full, queries::decode_drift).expect("decoded");
    let rows = full.rows.len();
    let capped = start(SimOptions {
        seed: 11,
        start: Some(relcon::domain::clock::pinned_start()),
        query_max_rows: Some(rows / 3),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let t = relcon::domain::Thresholds::default();

    // A fresh client: the split is found during this read (parts may be handed again).
    let b = AzureBackend::new(&capped.settings(), options()).expect("client");
    let Ok(MonitorRead::Drift(read)) = read_decoded(&b, MonitorQuery::Drift, Keep::Full, &t).await
    else {
        panic!("drift read");
    };
    assert_eq!(read.partial, None);
    assert_eq!(
        read.by_circuit, expected.by_circuit,
        "the series of the whole result"
    );

    // The split known: each part arrives on its own, none larger than the cap.
    let mut parts = Vec::new();
    b.monitor_each(MonitorQuery::Drift, &mut |part| parts.push(part.rows.len()))
        .await
        .expect("drift");
    assert!(parts.len() >= 4, "{parts:?}");
    assert!(parts.iter().all(|&n| n <= rows / 3), "{parts:?}");
    assert_eq!(parts.iter().sum::<usize>(), rows);

    // What a fleet row needs: the worst series whole, the others their newest point.
    let Ok(MonitorRead::Drift(view)) =
        read_decoded(&b, MonitorQuery::Drift, Keep::FleetView, &t).await
    else {
        panic!("drift read");
    };
    assert_eq!(view.by_circuit.len(), expected.by_circuit.len());
    let assess = |list: &[relcon::domain::fleet::DriftSeries]| {
        DriftAssessment::assess(
            list.iter()
                .filter_map(|s| Some((s.feature.as_str(), s.metric, s.series.latest()?))),
            &t,
        )
    };
    let mut cut = 0;
    for (circuit, list) in &view.by_circuit {
        let whole = &expected.by_circuit[circuit];
        assert_eq!(assess(list).worst, assess(whole).worst, "{circuit}");
        let worst = assess(whole).worst.expect("a worst series");
        for (s, w) in list.iter().zip(whole) {
            if s.feature == worst.feature && s.metric == worst.metric {
                assert_eq!(s.series, w.series, "{circuit}: the worst keeps its days");
            } else {
                assert_eq!(
                    s.series.values,
                    w.series
                        .values
                        .last()
                        .copied()
                        .into_iter()
                        .collect::<Vec<_>>()
                );
                cut += usize::from(w.series.values.len() > 1);
            }
        }
    }
    assert!(cut > 100, "histories were cut: {cut}");

    // What `relcon fleet --no-cache` prints: the worst series' newest point alone, judged the
    // same as the whole list.
    let Ok(MonitorRead::Drift(printed)) =
        read_decoded(&b, MonitorQuery::Drift, Keep::Printed, &t).await
    else {
        panic!("drift read");
    };
    assert_eq!(printed.by_circuit.len(), expected.by_circuit.len());
    for (circuit, list) in &printed.by_circuit {
        let whole = assess(&expected.by_circuit[circuit]);
        let kept = assess(list);
        assert_eq!(kept.worst, whole.worst, "{circuit}");
        assert_eq!(kept.status, whole.status, "{circuit}");
        assert_eq!(list.len(), 1, "{circuit}: {list:?}");
        assert_eq!(list[0].series.values.len(), 1, "{circuit}");
    }
}

/// Once the adapter has read an endpoint list of more plants than one part covers
/// (`kql::PLANTS_PER_PART`), it asks the monitoring queries in parts from the start, rather
/// than asking for a result the service must cut and reading it first; the rows are the same.
#[tokio::test]
async fn a_large_fleet_is_queried_in_parts_from_the_start() {
    let plants = kql::PLANTS_PER_PART as usize + 1;
    let sim = start(SimOptions {
        seed: 11,
        start: Some(relcon::domain::clock::pinned_start()),
        fleet: relcon::sim::FleetSource::Generated {
            plants,
            circuits_per_plant: 1,
        },
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let reference = AzureBackend::new(&sim.settings(), options()).expect("client");
    let whole = reference.monitor(MonitorQuery::Drift).await.expect("drift");
    assert_eq!(
        reference.stats().monitor,
        1,
        "nothing known of the fleet: one query"
    );

    let b = AzureBackend::new(&sim.settings(), options()).expect("client");
    let endpoints = b.endpoints(Stage::Prod).await.expect("endpoints");
    assert_eq!(endpoints.len(), plants);
    let mut parts = Vec::new();
    b.monitor_each(MonitorQuery::Drift, &mut |part| parts.push(part.rows.len()))
        .await
        .expect("drift");
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(b.stats().monitor, 2);
    assert_eq!(parts.iter().sum::<usize>(), whole.rows.len());
    // The part count by plants.
    assert_eq!(kql::parts_for_plants(0), 1);
    assert_eq!(kql::parts_for_plants(kql::PLANTS_PER_PART), 1);
    assert_eq!(kql::parts_for_plants(20 * kql::PLANTS_PER_PART), 20);
    assert_eq!(kql::parts_for_plants(u32::MAX), kql::MAX_PARTS);
}
