//! The three Log Analytics queries a refresh sends (drift, accuracy, validation) and the
//! decoding of their tables into per-circuit series and runs. The query texts are part of the
//! contract with the simulator (docs/AZURE.md, "Log Analytics").

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::drift::DriftMetric;
use crate::domain::fleet::{DriftSeries, Series, ValidationRun};
use crate::domain::platform::{Cell, Table};
use crate::domain::validation::{Metrics, ValidationMetric};
use crate::domain::{CircuitRef, ModelVersion};

/// Timespan of the drift and accuracy queries.
pub const SERIES_TIMESPAN: &str = "P30D";
/// Timespan of the validation query: long enough to hold the Prod baseline's validation.
pub const VALIDATION_TIMESPAN: &str = "P90D";

const DIMENSIONS: &str = "plant_id = tostring(customDimensions.plant_id), circuit_id = tostring(customDimensions.circuit_id)";

/// Daily drift per circuit, feature and metric, as lists.
pub fn drift_query() -> String {
    format!(
        "customMetrics\n\
         | where timestamp > ago(30d) and name == 'data_drift_score'\n\
         | extend {DIMENSIONS}, feature = tostring(customDimensions.feature), metric = tostring(customDimensions.metric)\n\
         | summarize arg_max(timestamp, value) by plant_id, circuit_id, feature, metric, day = startofday(timestamp)\n\
         | order by day asc\n\
         | summarize days = make_list(day), values = make_list(value) by plant_id, circuit_id, feature, metric"
    )
}

/// Daily production MAE per circuit, as lists.
pub fn accuracy_query() -> String {
    format!(
        "customMetrics\n\
         | where timestamp > ago(30d) and name == 'model_accuracy_mae'\n\
         | extend {DIMENSIONS}\n\
         | summarize arg_max(timestamp, value) by plant_id, circuit_id, day = startofday(timestamp)\n\
         | order by day asc\n\
         | summarize days = make_list(day), values = make_list(value) by plant_id, circuit_id"
    )
}

/// The newest validation metric per circuit, model version, release and environment.
pub fn validation_query() -> String {
    format!(
        "customMetrics\n\
         | where timestamp > ago(90d) and name in ('validation_mae', 'validation_rmse', 'validation_mape')\n\
         | extend {DIMENSIONS}, model_version = tostring(customDimensions.model_version), release_id = tostring(customDimensions.release_id), environment_version = tostring(customDimensions.environment_version)\n\
         | summarize arg_max(timestamp, value) by plant_id, circuit_id, model_version, release_id, environment_version, name\n\
         | project timestamp, plant_id, circuit_id, model_version, release_id, environment_version, name, value"
    )
}

/// A table that lacks a column relcon asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query result has no `{0}` column")]
pub struct MissingColumn(pub String);

fn col(t: &Table, name: &str) -> Result<usize, MissingColumn> {
    t.column(name).ok_or_else(|| MissingColumn(name.to_owned()))
}

fn circuit_of(row: &[Cell], p: usize, c: usize) -> Option<CircuitRef> {
    let plant = row.get(p)?.as_str()?.parse().ok()?;
    let circuit = row.get(c)?.as_str()?.parse().ok()?;
    Some(CircuitRef::new(plant, circuit))
}

/// A `dynamic` list cell (or JSON text of one) as a series; days and values pair up in order.
fn series(days: Option<&Cell>, values: Option<&Cell>) -> Series {
    let list = |c: Option<&Cell>| -> Vec<serde_json::Value> {
        match c {
            Some(Cell::Dynamic(serde_json::Value::Array(a))) => a.clone(),
            Some(Cell::Text(t)) => {
                serde_json::from_str::<Vec<serde_json::Value>>(t).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    };
    let days: Vec<Option<DateTime<Utc>>> = list(days)
        .iter()
        .map(|d| {
            d.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        })
        .collect();
    let values: Vec<Option<f64>> = list(values)
        .iter()
        .map(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .collect();
    let mut out = Series::default();
    for (d, v) in days.into_iter().zip(values) {
        if let (Some(d), Some(v)) = (d, v) {
            out.days.push(d);
            out.values.push(v);
        }
    }
    out
}

/// Drift series per circuit.
pub fn decode_drift(t: &Table) -> Result<HashMap<CircuitRef, Vec<DriftSeries>>, MissingColumn> {
    let (p, c, f, m, d, v) = (
        col(t, "plant_id")?,
        col(t, "circuit_id")?,
        col(t, "feature")?,
        col(t, "metric")?,
        col(t, "days")?,
        col(t, "values")?,
    );
    let mut out: HashMap<CircuitRef, Vec<DriftSeries>> = HashMap::new();
    for row in &t.rows {
        let Some(circuit) = circuit_of(row, p, c) else {
            continue;
        };
        let Some(metric) = row
            .get(m)
            .and_then(Cell::as_str)
            .and_then(|s| s.parse::<DriftMetric>().ok())
        else {
            continue;
        };
        let feature = row
            .get(f)
            .and_then(Cell::as_str)
            .unwrap_or_default()
            .to_owned();
        out.entry(circuit).or_default().push(DriftSeries {
            feature,
            metric,
            series: series(row.get(d), row.get(v)),
        });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (&a.feature, a.metric).cmp(&(&b.feature, b.metric)));
    }
    Ok(out)
}

/// Daily Prod MAE per circuit.
pub fn decode_accuracy(t: &Table) -> Result<HashMap<CircuitRef, Series>, MissingColumn> {
    let (p, c, d, v) = (
        col(t, "plant_id")?,
        col(t, "circuit_id")?,
        col(t, "days")?,
        col(t, "values")?,
    );
    Ok(t.rows
        .iter()
        .filter_map(|row| Some((circuit_of(row, p, c)?, series(row.get(d), row.get(v)))))
        .collect())
}

/// Validation runs per circuit, newest first.
pub fn decode_validation(
    t: &Table,
) -> Result<HashMap<CircuitRef, Vec<ValidationRun>>, MissingColumn> {
    let (ts, p, c, mv, rel, env, name, value) = (
        col(t, "timestamp")?,
        col(t, "plant_id")?,
        col(t, "circuit_id")?,
        col(t, "model_version")?,
        col(t, "release_id")?,
        col(t, "environment_version")?,
        col(t, "name")?,
        col(t, "value")?,
    );
    type Key = (
        CircuitRef,
        Option<ModelVersion>,
        Option<u32>,
        Option<String>,
    );
    let mut runs: HashMap<Key, (Option<DateTime<Utc>>, Metrics)> = HashMap::new();
    for row in &t.rows {
        let Some(circuit) = circuit_of(row, p, c) else {
            continue;
        };
        let text = |i: usize| row.get(i).and_then(Cell::as_str).filter(|s| !s.is_empty());
        let Some(metric) = text(name).and_then(|s| s.parse::<ValidationMetric>().ok()) else {
            continue;
        };
        let Some(v) = row.get(value).and_then(Cell::as_f64) else {
            continue;
        };
        let key = (
            circuit,
            text(mv).and_then(|s| s.parse().ok()),
            text(rel).and_then(|s| s.parse().ok()),
            text(env).map(str::to_owned),
        );
        let at = row.get(ts).and_then(Cell::as_time);
        let entry = runs.entry(key).or_insert((at, Metrics::new()));
        entry.0 = entry.0.max(at);
        entry.1.insert(metric, v);
    }
    let mut out: HashMap<CircuitRef, Vec<ValidationRun>> = HashMap::new();
    for ((circuit, model_version, release_id, environment_version), (at, metrics)) in runs {
        out.entry(circuit).or_default().push(ValidationRun {
            model_version,
            release_id,
            environment_version,
            at,
            metrics,
        });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| b.at.cmp(&a.at).then(b.model_version.cmp(&a.model_version)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::ColumnType;

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn queries_name_their_metrics_for_the_simulator() {
        assert!(drift_query().contains("data_drift_score"));
        assert!(accuracy_query().contains("model_accuracy_mae"));
        assert!(validation_query().contains("validation_mae"));
    }

    #[test]
    fn drift_rows_decode_from_dynamic_or_text_lists() {
        let t = Table {
            columns: [
                "plant_id",
                "circuit_id",
                "feature",
                "metric",
                "days",
                "values",
            ]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    if n.ends_with('s') && *n != "days" && *n != "values" {
                        ColumnType::String
                    } else {
                        ColumnType::Dynamic
                    },
                )
            })
            .collect(),
            rows: vec![
                vec![
                    text("PLANT001"),
                    text("CIRCUIT01"),
                    text("temperature"),
                    text("psi"),
                    Cell::Dynamic(serde_json::json!([
                        "2026-11-01T00:00:00Z",
                        "2026-11-02T00:00:00Z"
                    ])),
                    Cell::Dynamic(serde_json::json!([0.05, "0.31"])),
                ],
                vec![
                    text("PLANT001"),
                    text("CIRCUIT01"),
                    text("pressure"),
                    text("jensen_shannon"),
                    text(r#"["2026-11-02T00:00:00Z"]"#),
                    text("[0.02]"),
                ],
                vec![
                    text("nonsense"),
                    text("CIRCUIT01"),
                    text("x"),
                    text("psi"),
                    Cell::Null,
                    Cell::Null,
                ],
            ],
            ..Table::default()
        };
        let d = decode_drift(&t).unwrap();
        assert_eq!(d.len(), 1);
        let s = &d[&"PLANT001/CIRCUIT01".parse().unwrap()];
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].feature, "pressure");
        assert_eq!(s[1].series.values, vec![0.05, 0.31]);
        assert_eq!(s[1].series.latest(), Some(0.31));
    }

    #[test]
    fn validation_rows_group_into_runs_newest_first() {
        let cols = [
            "timestamp",
            "plant_id",
            "circuit_id",
            "model_version",
            "release_id",
            "environment_version",
            "name",
            "value",
        ];
        let t0 = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t1 = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let row = |at, mv: &str, name: &str, v: f64| {
            vec![
                Cell::Time(at),
                text("PLANT002"),
                text("CIRCUIT03"),
                text(mv),
                text("41"),
                text("1.5.0"),
                text(name),
                Cell::Real(v),
            ]
        };
        let t = Table {
            columns: cols
                .iter()
                .map(|c| (c.to_string(), ColumnType::String))
                .collect(),
            rows: vec![
                row(t0, "3", "validation_mae", 0.1),
                row(t0, "3", "validation_rmse", 0.2),
                row(t1, "4", "validation_mae", 0.12),
                row(t1, "4", "validation_mape", 9.0),
            ],
            ..Table::default()
        };
        let v = decode_validation(&t).unwrap();
        let runs = &v[&"PLANT002/CIRCUIT03".parse().unwrap()];
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].model_version, Some(ModelVersion(4)));
        assert_eq!(runs[0].metrics.len(), 2);
        assert_eq!(runs[1].metrics[&ValidationMetric::Rmse], 0.2);
        assert_eq!(runs[0].release_id, Some(41));
        assert!(decode_validation(&Table::default()).is_err());
    }
}
