//! `doctor`'s monitoring checks: one small query over the metrics table relcon reads (the
//! `Coverage` read), then one line per metric saying whether its monitoring job is writing
//! where relcon looks, and what to do when it is not.

use chrono::{DateTime, Duration, Utc};

use super::Check;
use crate::domain::platform::{Cell, Table};
use crate::service::backend::{BackendError, BackendResult};
use crate::service::queries::{DRIFT_METRIC, SERIES_DAYS, monitored_metrics};
use crate::settings::{MonitorSource, Settings};

/// Days after which a daily metric that stopped arriving is called stale.
const STALE_DAYS: i64 = 3;

/// What the monitoring checks found.
pub struct Outcome {
    pub checks: Vec<Check>,
    /// The query itself failed: nothing about the metrics is known (exit 4).
    pub unreadable: bool,
}

/// The checks for the configured source from the coverage query's result.
pub fn checks(
    settings: &Settings,
    coverage: BackendResult<Table>,
    now: DateTime<Utc>,
    fix_for: impl Fn(&BackendError, &str) -> String,
) -> Outcome {
    let Some(source) = settings.monitor.source() else {
        return Outcome {
            checks: vec![fail(
                "monitoring",
                "no monitoring source configured".into(),
                "set monitor.log_analytics_workspace_id or monitor.application_insights_app_id"
                    .into(),
            )],
            unreadable: true,
        };
    };
    let table_name = match source {
        MonitorSource::Workspace { .. } => "AppMetrics",
        MonitorSource::AppInsights { .. } => "customMetrics",
    };
    let t = match coverage {
        Ok(t) => t,
        Err(e) => {
            return Outcome {
                checks: vec![fail(
                    "monitoring",
                    format!("{} ({}): {e}", source.describe(), source.schema()),
                    unreadable_fix(&e, source, table_name).unwrap_or_else(|| {
                        fix_for(
                            &e,
                            match source {
                                MonitorSource::Workspace { .. } => "Log Analytics",
                                MonitorSource::AppInsights { .. } => "Application Insights",
                            },
                        )
                    }),
                )],
                unreadable: true,
            };
        }
    };
    let mut out = vec![Check {
        name: "monitoring".into(),
        ok: true,
        detail: format!("{}: {}", source.describe(), source.schema()),
        fix: None,
    }];
    let col = |name: &str| t.column(name);
    let (Some(m), Some(r30), Some(r90), Some(circuits), Some(newest), Some(without)) = (
        col("metric_name"),
        col("rows_30d"),
        col("rows_90d"),
        col("circuits"),
        col("newest"),
        col("without_circuit"),
    ) else {
        out[0] = fail(
            "monitoring",
            format!(
                "{}: the coverage query's result lacks the columns relcon asked for",
                source.describe()
            ),
            "the service answered something relcon does not understand; quote this to the maintainers".into(),
        );
        return Outcome {
            checks: out,
            unreadable: true,
        };
    };
    let count = |row: &[Cell], i: usize| row.get(i).and_then(Cell::as_f64).unwrap_or(0.0) as u64;
    let where_ = match source {
        MonitorSource::Workspace { .. } => "Name",
        MonitorSource::AppInsights { .. } => "name",
    };
    for (metric, days, reads) in monitored_metrics() {
        let row = t
            .rows
            .iter()
            .find(|r| r.get(m).and_then(Cell::as_str) == Some(metric));
        let name = metric
            .strip_prefix("data_")
            .or_else(|| metric.strip_prefix("model_"))
            .unwrap_or(metric)
            .replace('_', " ");
        let Some(row) = row else {
            out.push(fail(
                &name,
                format!("{table_name} has no rows with {where_} == '{metric}' in {days} days"),
                format!(
                    "relcon cannot show {reads}: the job that writes {metric} is not running, or writes to another {}; check its Application Insights connection string",
                    match source {
                        MonitorSource::Workspace { .. } => "workspace (Application Insights > Properties > Workspace)",
                        MonitorSource::AppInsights { .. } => "Application Insights resource",
                    }
                ),
            ));
            continue;
        };
        let rows = if days <= SERIES_DAYS {
            count(row, r30)
        } else {
            count(row, r90)
        };
        let placed = rows.saturating_sub(count(row, without));
        let newest_at = row.get(newest).and_then(Cell::as_time);
        let detail = format!(
            "{table_name} {metric}: {rows} rows in {days} days from {} circuits, newest {}",
            count(row, circuits),
            newest_at.map_or("unknown".into(), |t| t
                .format("%Y-%m-%d %H:%MZ")
                .to_string())
        );
        if rows == 0 {
            out.push(fail(
                &name,
                format!("{table_name} has no rows with {where_} == '{metric}' in {days} days (older ones exist)"),
                format!("the job that writes {metric} stopped; relcon cannot show {reads}"),
            ));
        } else if placed == 0 {
            out.push(fail(
                &name,
                format!("{detail}; none carries plant_id and circuit_id"),
                format!(
                    "the job must write plant_id and circuit_id as custom dimensions ({}): relcon cannot place these rows on a circuit",
                    match source {
                        MonitorSource::Workspace { .. } => "Properties",
                        MonitorSource::AppInsights { .. } => "customDimensions",
                    }
                ),
            ));
        } else if days <= SERIES_DAYS
            && newest_at.is_some_and(|t| now - t > Duration::days(STALE_DAYS))
        {
            let age = newest_at.map_or(0, |t| (now - t).num_days());
            out.push(fail(
                &name,
                format!("{detail}: nothing for {age} days"),
                format!(
                    "the job that writes {metric} stopped {age} days ago; {} is stale",
                    if metric == DRIFT_METRIC {
                        "drift"
                    } else {
                        "Prod accuracy"
                    }
                ),
            ));
        } else {
            out.push(Check {
                name,
                ok: true,
                detail,
                fix: None,
            });
        }
    }
    Outcome {
        checks: out,
        unreadable: false,
    }
}

fn fail(name: &str, detail: String, fix: String) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail,
        fix: Some(fix),
    }
}

/// A refusal that says the table is not there: the service names what it could not resolve
/// (`SEM0100`, "Failed to resolve table or column expression named 'AppMetrics'").
fn unreadable_fix(e: &BackendError, source: MonitorSource<'_>, table: &str) -> Option<String> {
    let m = e.message.as_str();
    if !(m.contains("SEM0100") || m.contains("Failed to resolve")) {
        return None;
    }
    Some(match source {
        MonitorSource::Workspace { .. } if m.contains(&format!("'{table}'")) => format!(
            "the workspace has no {table} table: no workspace-based Application Insights resource writes to it. Set monitor.log_analytics_workspace_id to the workspace the resource uses (portal: Application Insights > Properties > Workspace), or set monitor.application_insights_app_id instead"
        ),
        MonitorSource::Workspace { .. } => {
            "the workspace refused a column relcon reads; quote this to the maintainers".into()
        }
        MonitorSource::AppInsights { .. } => format!(
            "the Application Insights query API has no {table} table for this app: check monitor.application_insights_app_id (Application Insights > API Access > Application ID)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::ColumnType;
    use crate::service::backend::ErrorKind;

    fn settings(app: bool) -> Settings {
        let key = if app {
            "application_insights_app_id"
        } else {
            "log_analytics_workspace_id"
        };
        let text = format!(
            "[azure]\nsubscription_id = \"6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60\"\n\
             [workspaces.dev]\nresource_group = \"rg\"\nname = \"d\"\n\
             [workspaces.test]\nresource_group = \"rg\"\nname = \"t\"\n\
             [workspaces.prod]\nresource_group = \"rg\"\nname = \"p\"\n\
             [registry]\nresource_group = \"rg\"\nname = \"r\"\n\
             [devops]\norganization = \"o\"\nproject = \"p\"\nrelease_definition_id = 1\nconfig_repository = \"c\"\n\
             [monitor]\n{key} = \"0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"\n"
        );
        Settings::parse(&text, "t.toml").unwrap()
    }

    fn now() -> DateTime<Utc> {
        crate::domain::clock::pinned_start()
    }

    /// `(metric, rows_30d, rows_90d, circuits, newest, without_circuit)`.
    type Row<'a> = (&'a str, i64, i64, i64, DateTime<Utc>, i64);

    fn coverage(rows: Vec<Row<'_>>) -> Table {
        let cols = [
            ("metric_name", ColumnType::String),
            ("rows_30d", ColumnType::Long),
            ("rows_90d", ColumnType::Long),
            ("circuits", ColumnType::Long),
            ("newest", ColumnType::Datetime),
            ("without_circuit", ColumnType::Long),
        ];
        Table {
            columns: cols.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            rows: rows
                .into_iter()
                .map(|(m, a, b, c, t, w)| {
                    vec![
                        Cell::Text(m.into()),
                        Cell::Long(a),
                        Cell::Long(b),
                        Cell::Long(c),
                        Cell::Time(t),
                        Cell::Long(w),
                    ]
                })
                .collect(),
            partial: None,
        }
    }

    fn no_fix(_: &BackendError, _: &str) -> String {
        "generic".into()
    }

    #[test]
    fn every_metric_present_and_fresh_passes() {
        let t = now() - Duration::hours(2);
        let rows = monitored_metrics()
            .into_iter()
            .map(|(m, _, _)| (m, 10, 20, 5, t, 0))
            .collect();
        let o = checks(&settings(false), Ok(coverage(rows)), now(), no_fix);
        assert!(!o.unreadable);
        assert_eq!(o.checks.len(), 6);
        assert!(
            o.checks.iter().all(|c| c.ok),
            "{:?}",
            o.checks.iter().map(|c| &c.detail).collect::<Vec<_>>()
        );
        assert!(
            o.checks[0].detail.contains("workspace tables (AppMetrics)"),
            "{}",
            o.checks[0].detail
        );
    }

    #[test]
    fn missing_stale_and_unplaced_metrics_say_what_to_do() {
        let fresh = now() - Duration::hours(2);
        let old = now() - Duration::days(6);
        let rows = vec![
            (DRIFT_METRIC, 10, 20, 5, old, 0),
            ("model_accuracy_mae", 10, 20, 0, fresh, 10),
            ("validation_mae", 0, 3, 1, fresh, 0),
            ("validation_rmse", 0, 0, 0, fresh, 0),
        ];
        let o = checks(&settings(false), Ok(coverage(rows)), now(), no_fix);
        assert!(!o.unreadable);
        let by = |m: &str| {
            o.checks
                .iter()
                .find(|c| {
                    c.detail.contains(&format!(" {m}")) || c.detail.contains(&format!("'{m}'"))
                })
                .unwrap_or_else(|| panic!("{m}"))
        };
        let drift = by(DRIFT_METRIC);
        assert!(
            !drift.ok && drift.detail.contains("nothing for 6 days"),
            "{}",
            drift.detail
        );
        let acc = by("model_accuracy_mae");
        assert!(
            !acc.ok && acc.fix.as_deref().unwrap_or("").contains("Properties"),
            "{:?}",
            acc.fix
        );
        // Validation looks back 90 days: three rows in 90 days pass.
        assert!(by("validation_mae").ok);
        let rmse = by("validation_rmse");
        assert!(
            !rmse.ok && rmse.detail.contains("older ones exist"),
            "{}",
            rmse.detail
        );
        let mape = by("validation_mape");
        assert!(!mape.ok);
        assert!(
            mape.detail
                .contains("AppMetrics has no rows with Name == 'validation_mape' in 90 days"),
            "{}",
            mape.detail
        );
    }

    #[test]
    fn classic_source_names_its_own_table() {
        let o = checks(&settings(true), Ok(coverage(vec![])), now(), no_fix);
        assert!(
            o.checks[0].detail.contains("Application Insights app"),
            "{}",
            o.checks[0].detail
        );
        assert!(
            o.checks[1]
                .detail
                .contains("customMetrics has no rows with name == 'data_drift_score'"),
            "{}",
            o.checks[1].detail
        );
    }

    #[test]
    fn a_missing_table_is_unreadable_and_explained() {
        let e = BackendError::new(
            ErrorKind::Server,
            "POST",
            "http://x/v1/workspaces/w/query",
            "HTTP 400: BadArgumentError: The request had some invalid properties (SEM0100: 'where' operator: Failed to resolve table or column expression named 'AppMetrics')",
        );
        let o = checks(&settings(false), Err(e), now(), no_fix);
        assert!(o.unreadable);
        assert_eq!(o.checks.len(), 1);
        let fix = o.checks[0].fix.as_deref().unwrap_or("");
        assert!(fix.contains("no AppMetrics table"), "{fix}");
        let other = BackendError::new(ErrorKind::Network, "POST", "http://x", "refused");
        let o = checks(&settings(false), Err(other), now(), no_fix);
        assert_eq!(o.checks[0].fix.as_deref(), Some("generic"));
    }
}
