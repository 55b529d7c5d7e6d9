//! The monitoring reads of a refresh (drift, accuracy, validation) decoded from their tables
//! into per-circuit series and runs, and the metric names the monitoring jobs write. The
//! queries themselves are the Azure layer's (`azure::kql`): they differ by schema (workspace
//! tables or classic Application Insights tables) but return the columns documented on
//! [`MonitorQuery`](crate::service::backend::MonitorQuery).
//!
//! The decoding stays in the service, not beside the Azure client: the port
//! (`Backend::monitor`) answers with a table of those documented columns whatever source and
//! schema answered, and the snapshot's monitoring stage reads it. The metric names are shared
//! by the Azure layer's queries, the simulator and `doctor`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::drift::DriftMetric;
use crate::domain::fleet::{DriftSeries, Series, ValidationRun};
use crate::domain::platform::{Cell, Table};
use crate::domain::validation::{Metrics, ValidationMetric};
use crate::domain::{CircuitRef, ModelVersion, Thresholds};
use crate::service::backend::{Backend, BackendError, BackendResult, ErrorKind, MonitorQuery};

/// The drift monitor's metric, one row per circuit, feature and drift metric
/// (`Properties.feature`, `Properties.metric`).
pub const DRIFT_METRIC: &str = "data_drift_score";
/// The Prod accuracy monitor's metric.
pub const ACCURACY_METRIC: &str = "model_accuracy_mae";
/// What the test stage's validation writes (`Properties.model_version`, `release_id`,
/// `environment_version`).
pub const VALIDATION_METRICS: [&str; 3] = ["validation_mae", "validation_rmse", "validation_mape"];
/// Days of drift and accuracy a refresh reads.
pub const SERIES_DAYS: u32 = 30;
/// Days of validation a refresh reads: long enough to hold the Prod baseline's validation.
pub const VALIDATION_DAYS: u32 = 90;

/// Every metric relcon reads, with the days it looks back and what reads it.
pub fn monitored_metrics() -> Vec<(&'static str, u32, &'static str)> {
    let mut out = vec![
        (DRIFT_METRIC, SERIES_DAYS, "drift per feature"),
        (ACCURACY_METRIC, SERIES_DAYS, "Prod accuracy"),
    ];
    out.extend(
        VALIDATION_METRICS
            .iter()
            .map(|m| (*m, VALIDATION_DAYS, "test validation (the Production gate)")),
    );
    out
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
            Some(Cell::Dynamic(d)) => {
                serde_json::from_str::<Vec<serde_json::Value>>(d.text()).unwrap_or_default()
            }
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

/// A monitoring read decoded part by part as the parts arrive (`Backend::monitor_each`), so
/// the whole table is never held: each circuit's series or runs, and why the result is
/// partial when it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    pub by_circuit: HashMap<CircuitRef, T>,
    /// The service said rows are missing (a part past its cap, a `PartialError`): what came
    /// is used, and the snapshot is not complete.
    pub partial: Option<String>,
}

impl<T> Default for Decoded<T> {
    fn default() -> Self {
        Decoded {
            by_circuit: HashMap::new(),
            partial: None,
        }
    }
}

/// Drift series by circuit, decoded.
pub type DriftRead = Decoded<Vec<DriftSeries>>;
/// Daily Prod MAE by circuit, decoded.
pub type AccuracyRead = Decoded<Series>;
/// Validation runs by circuit, newest first, decoded.
pub type ValidationRead = Decoded<Vec<ValidationRun>>;

impl<T> Decoded<T> {
    /// Add one part. The circuits it holds replace what an earlier part said of them: a
    /// plant's rows all come in one part, and parts are handed again when the split changes.
    pub fn add(
        &mut self,
        part: &Table,
        decode: fn(&Table) -> Result<HashMap<CircuitRef, T>, MissingColumn>,
    ) -> Result<(), MissingColumn> {
        self.by_circuit.extend(decode(part)?);
        if self.partial.is_none() {
            self.partial.clone_from(&part.partial);
        }
        Ok(())
    }

    /// A whole table decoded (one part).
    pub fn of(
        table: &Table,
        decode: fn(&Table) -> Result<HashMap<CircuitRef, T>, MissingColumn>,
    ) -> Result<Decoded<T>, MissingColumn> {
        let mut d = Decoded::default();
        d.add(table, decode)?;
        Ok(d)
    }
}

/// How much of what it read a refresh keeps: all of it for the console, less for a one-shot
/// command (`OpenOptions::keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// 30 days of every series, every release (the console's circuit view draws them).
    #[default]
    Full,
    /// What a fleet row shows: the worst series whole, the others their newest point, as the
    /// snapshot cache keeps them (`DriftSummary::fleet_view`). For a one-shot `relcon fleet`,
    /// which prints no series but stores the snapshot for the console's next start: at 20,000
    /// circuits the 30-day histories are over 100 MB.
    FleetView,
    /// What `relcon fleet` prints and nothing more, for a one-shot run that stores nothing
    /// (`--no-cache`): of the drift series only the worst's newest point (the circuit's drift
    /// status and worst finding are judged from it as from all of them), of the accuracy
    /// series the newest point; the snapshot lists no releases or approval items (a circuit
    /// still counts its pending approvals), and each reading is dropped once the snapshot has
    /// taken what it needs of it (`snapshot::assemble`).
    Printed,
}

impl Keep {
    /// Whether the snapshot keeps only what `relcon fleet` prints.
    pub fn printed_only(self) -> bool {
        self == Keep::Printed
    }

    /// Whether the refresh is a one-shot command's, with no next refresh to keep books for
    /// (its release records are dropped once summarised; the model and job books are kept
    /// only to be written to the cache).
    pub fn one_shot(self) -> bool {
        self != Keep::Full
    }
}

/// A circuit's drift series cut to what the fleet view shows: the worst (as
/// `DriftAssessment::assess` judges their newest values by `t`) whole, the others their
/// newest point. The assessment of the cut series is the assessment of the whole ones.
pub fn keep_fleet_view(series: &mut Vec<DriftSeries>, t: &Thresholds) {
    let worst = worst_series(series, t);
    for s in series.iter_mut() {
        let is_worst = worst
            .as_ref()
            .is_some_and(|w| w.feature == s.feature && w.metric == s.metric);
        if !is_worst {
            s.series = s.series.newest_only();
        }
    }
    // Decoded one push at a time: the list's spare room is a third of its size.
    series.shrink_to_fit();
}

/// A circuit's drift series cut to what `relcon fleet` prints ([`Keep::Printed`]): the worst
/// series' newest point alone. Its assessment is the assessment of them all (the status is
/// the worst finding's).
pub fn keep_printed(series: &mut Vec<DriftSeries>, t: &Thresholds) {
    let worst = worst_series(series, t);
    series.retain(|s| {
        worst
            .as_ref()
            .is_some_and(|w| w.feature == s.feature && w.metric == s.metric)
    });
    series.truncate(1);
    for s in series.iter_mut() {
        s.series = s.series.newest_only();
    }
    series.shrink_to_fit();
}

/// The worst of a circuit's series, as `DriftAssessment::assess` judges their newest values.
fn worst_series(
    series: &[DriftSeries],
    t: &Thresholds,
) -> Option<crate::domain::drift::DriftFinding> {
    crate::domain::drift::DriftAssessment::assess(
        series
            .iter()
            .filter_map(|s| Some((s.feature.as_str(), s.metric, s.series.latest()?))),
        t,
    )
    .worst
}

/// A refresh's monitoring read, decoded as its parts arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorRead {
    Drift(DriftRead),
    Accuracy(AccuracyRead),
    Validation(ValidationRead),
}

impl MonitorRead {
    /// Nothing read yet of `query`; `None` for a query that is not a refresh's (coverage).
    pub fn empty(query: MonitorQuery) -> Option<MonitorRead> {
        match query {
            MonitorQuery::Drift => Some(MonitorRead::Drift(Decoded::default())),
            MonitorQuery::Accuracy => Some(MonitorRead::Accuracy(Decoded::default())),
            MonitorQuery::Validation => Some(MonitorRead::Validation(Decoded::default())),
            MonitorQuery::Coverage => None,
        }
    }

    /// Add one part (see [`Decoded::add`]); drift series cut as `kept` says.
    fn add(&mut self, part: &Table, kept: Keep, t: &Thresholds) -> Result<(), MissingColumn> {
        match self {
            MonitorRead::Drift(d) => {
                let mut by_circuit = decode_drift(part)?;
                let cut = match kept {
                    Keep::Full => None,
                    Keep::FleetView => Some(keep_fleet_view as fn(&mut _, &_)),
                    Keep::Printed => Some(keep_printed as fn(&mut _, &_)),
                };
                if let Some(cut) = cut {
                    for series in by_circuit.values_mut() {
                        cut(series, t);
                    }
                }
                d.by_circuit.extend(by_circuit);
                if d.partial.is_none() {
                    d.partial.clone_from(&part.partial);
                }
                Ok(())
            }
            MonitorRead::Accuracy(a) => {
                a.add(part, decode_accuracy)?;
                if kept.printed_only() {
                    for s in a.by_circuit.values_mut() {
                        *s = s.newest_only();
                    }
                }
                Ok(())
            }
            MonitorRead::Validation(v) => v.add(part, decode_validation),
        }
    }

    /// A whole table of `query` decoded, every series kept.
    pub fn of(query: MonitorQuery, table: &Table) -> BackendResult<MonitorRead> {
        let mut read = MonitorRead::empty(query).ok_or_else(|| not_a_refresh_read(query))?;
        read.add(table, Keep::Full, &Thresholds::default())
            .map_err(decode_error)?;
        Ok(read)
    }
}

fn not_a_refresh_read(query: MonitorQuery) -> BackendError {
    BackendError::new(
        ErrorKind::Config,
        "",
        "",
        format!("the {} query is not read by a refresh", query.as_str()),
    )
}

fn decode_error(e: MissingColumn) -> BackendError {
    BackendError::new(ErrorKind::Decode, "", "", e.to_string())
}

/// Read `query` part by part (`Backend::monitor_each`), decoding each part as it arrives and
/// dropping its table: the whole result is never held. A part without the documented
/// columns fails the read.
pub async fn read_decoded(
    backend: &dyn Backend,
    query: MonitorQuery,
    kept: Keep,
    t: &Thresholds,
) -> BackendResult<MonitorRead> {
    let mut read = MonitorRead::empty(query).ok_or_else(|| not_a_refresh_read(query))?;
    let mut missing: Option<MissingColumn> = None;
    backend
        .monitor_each(query, &mut |part: Table| {
            if missing.is_none()
                && let Err(e) = read.add(&part, kept, t)
            {
                missing = Some(e);
            }
        })
        .await?;
    match missing {
        Some(e) => Err(decode_error(e)),
        None => Ok(read),
    }
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
        col(t, "at")?,
        col(t, "plant_id")?,
        col(t, "circuit_id")?,
        col(t, "model_version")?,
        col(t, "release_id")?,
        col(t, "environment_version")?,
        col(t, "metric_name")?,
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
    fn validation_metric_names_parse_as_validation_metrics() {
        for m in VALIDATION_METRICS {
            assert!(m.parse::<ValidationMetric>().is_ok(), "{m}");
        }
        assert_eq!(monitored_metrics().len(), 5);
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
                    Cell::Dynamic(
                        serde_json::json!(["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"]).into(),
                    ),
                    Cell::Dynamic(serde_json::json!([0.05, "0.31"]).into()),
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
            "at",
            "plant_id",
            "circuit_id",
            "model_version",
            "release_id",
            "environment_version",
            "metric_name",
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
