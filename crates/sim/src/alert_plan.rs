//! The scenario's alerts (see `sim::alerts` for how they are served): the incident circuit's
//! accuracy and drift, the failed nightly job, drift elsewhere (some acknowledged), one on the
//! Prod workspace that names no circuit, one outside the fleet, and an old closed one.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::alerts::{AlertKind, Modification, SimAlert};
use super::world::{World, guid};

/// The Application Insights resource the fleet's log search alerts watch.
pub fn component_id(w: &World) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/microsoft.insights/components/appi-forecast-prod",
        w.ids.subscription, w.ids.rg[2]
    )
}

fn rule_id(w: &World, rg: &str, kind: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/microsoft.insights/{kind}/{name}",
        w.ids.subscription
    )
}

/// A new alert in state `New`, with its creation in the history.
#[allow(clippy::too_many_arguments)]
fn fired(
    w: &World,
    kind: AlertKind,
    circuit: Option<usize>,
    rule: (&str, &str),
    severity: &'static str,
    at: DateTime<Utc>,
    description: String,
    condition: Value,
) -> SimAlert {
    let (rule_kind, rule_name) = rule;
    let (target, target_rg, target_name, target_type, signal, service) = match kind {
        AlertKind::JobFailed | AlertKind::Workspace => (
            format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
                w.ids.subscription, w.ids.rg[2], w.ids.workspace[2]
            ),
            w.ids.rg[2].to_owned(),
            w.ids.workspace[2].to_owned(),
            "Microsoft.MachineLearningServices/workspaces".to_owned(),
            if kind == AlertKind::Workspace {
                "Metric"
            } else {
                "Log"
            },
            if kind == AlertKind::Workspace {
                "Platform"
            } else {
                "Log Alerts V2"
            },
        ),
        AlertKind::Foreign => (
            format!(
                "/subscriptions/{}/resourceGroups/rg-web/providers/Microsoft.Web/sites/shop-frontend",
                w.ids.subscription
            ),
            "rg-web".to_owned(),
            "shop-frontend".to_owned(),
            "Microsoft.Web/sites".to_owned(),
            "Metric",
            "Platform",
        ),
        _ => (
            component_id(w),
            w.ids.rg[2].to_owned(),
            "appi-forecast-prod".to_owned(),
            "microsoft.insights/components".to_owned(),
            "Log",
            "Log Alerts V2",
        ),
    };
    let rg = if kind == AlertKind::Foreign {
        "rg-web"
    } else {
        w.ids.rg[2]
    };
    let dimensions = circuit
        .map(|c| {
            let r = &w.fleet.circuits[c].r;
            vec![
                ("plant_id".to_owned(), r.plant.to_string()),
                ("circuit_id".to_owned(), r.circuit.to_string()),
            ]
        })
        .unwrap_or_default();
    let key = format!(
        "alert:{}:{rule_name}:{}:{}",
        w.seed,
        circuit.map_or(usize::MAX, |c| c),
        at.timestamp()
    );
    SimAlert {
        guid: guid(&key),
        kind,
        circuit,
        rule_name: rule_name.to_owned(),
        rule_id: rule_id(w, rg, rule_kind, rule_name),
        severity,
        signal,
        service,
        target,
        target_rg,
        target_name,
        target_type,
        fired_at: at,
        state: "New",
        modified_at: at,
        modified_by: "System".into(),
        resolved_at: None,
        description,
        dimensions,
        condition,
        history: vec![Modification {
            event: "AlertCreated",
            old: String::new(),
            new: String::new(),
            at,
            by: "System".into(),
            comments: String::new(),
            description: "New Alert Object is created".into(),
        }],
    }
}

/// Acknowledge an alert as someone did before the scenario starts.
fn acknowledged(mut a: SimAlert, at: DateTime<Utc>, by: &str, comments: &str) -> SimAlert {
    a.history.insert(
        0,
        Modification {
            event: "StateChange",
            old: "New".into(),
            new: "Acknowledged".into(),
            at,
            by: by.into(),
            comments: comments.into(),
            description: "State changed from 'New' to 'Acknowledged'".into(),
        },
    );
    a.state = "Acknowledged";
    a.modified_at = at;
    a.modified_by = by.into();
    a
}

/// The scenario's alerts: the incident circuit's accuracy (Sev1) and drift (Sev2), the failed
/// nightly job (Sev2), Sev3 drift on the other drift-alert circuits (every other one already
/// acknowledged), one Prod workspace alert without a circuit, one alert outside the fleet, and
/// an old resolved and closed accuracy alert.
pub fn plan(
    w: &World,
    incident: usize,
    failing_job: Option<(usize, DateTime<Utc>)>,
) -> Vec<SimAlert> {
    let now = w.clock;
    let mut out = Vec::new();
    let circuit_name = |c: usize| w.fleet.circuits[c].r.to_string();
    let log_condition = |query: &str, column: &str, op: &str, threshold: f64, value: f64| {
        json!({
            "windowSize": "PT24H",
            "allOf": [{
                "searchQuery": query,
                "metricMeasureColumn": column,
                "operator": op,
                "threshold": threshold.to_string(),
                "timeAggregation": "Maximum",
                "metricValue": value,
                "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
            }],
        })
    };
    // The incident: its MAE crossed 0.25 a day after the degraded model went live.
    let since = w.circuits[incident]
        .prod_serving
        .last()
        .map(|(t, _)| *t)
        .unwrap_or(now - Duration::days(2));
    let mae_at =
        (since + Duration::days(1) + Duration::minutes(17)).min(now - Duration::minutes(30));
    out.push(fired(
        w,
        AlertKind::Accuracy,
        Some(incident),
        ("scheduledqueryrules", "model-accuracy-mae-above-0.25"),
        "Sev1",
        mae_at,
        format!(
            "Prod model_accuracy_mae of {} is above 0.25 (daily mean)",
            circuit_name(incident)
        ),
        log_condition(
            "AppMetrics | where Name == 'model_accuracy_mae' | summarize mae = sum(Sum) / sum(ItemCount) by plant_id = tostring(Properties.plant_id), circuit_id = tostring(Properties.circuit_id), bin(TimeGenerated, 1d)",
            "mae",
            "GreaterThan",
            0.25,
            0.29,
        ),
    ));
    out.push(fired(
        w,
        AlertKind::Drift,
        Some(incident),
        ("scheduledqueryrules", "data-drift-above-threshold"),
        "Sev2",
        (since + Duration::hours(20)).min(now - Duration::hours(1)),
        format!(
            "data_drift_score of {} is past its alert threshold (Jensen-Shannon 0.15, PSI 0.25, KS p 0.05)",
            circuit_name(incident)
        ),
        log_condition(
            "AppMetrics | where Name == 'data_drift_score' | extend metric = tostring(Properties.metric) | summarize drift = max(Sum / ItemCount) by plant_id = tostring(Properties.plant_id), circuit_id = tostring(Properties.circuit_id), metric",
            "drift",
            "GreaterThan",
            0.15,
            0.21,
        ),
    ));
    if let Some((c, at)) = failing_job {
        out.push(fired(
            w,
            AlertKind::JobFailed,
            Some(c),
            ("scheduledqueryrules", "batch-scoring-job-failed"),
            "Sev2",
            at + Duration::minutes(4),
            format!(
                "The nightly batch scoring job of {} failed (AmlComputeJobEvent: JobFailed)",
                circuit_name(c)
            ),
            log_condition(
                "AmlComputeJobEvent | where EventType == 'JobFailed' | extend plant_id = tostring(Tags.plant_id), circuit_id = tostring(Tags.circuit_id) | summarize failed = count() by plant_id, circuit_id",
                "failed",
                "GreaterThan",
                0.0,
                1.0,
            ),
        ));
    }
    // Drift on the other drift-alert circuits: the same fleet-wide rule at Sev3.
    let mut k = 0;
    for c in w.monitor.alert_circuits().filter(|&c| c != incident) {
        let Some(issue) = w.monitor.drift.get(&c).and_then(|l| l.first()) else {
            continue;
        };
        let at = (issue.since + Duration::hours((issue.ramp_days * 12.0) as i64))
            .min(now - Duration::minutes(45));
        let a = fired(
            w,
            AlertKind::Drift,
            Some(c),
            ("scheduledqueryrules", "data-drift-above-threshold"),
            "Sev3",
            at,
            format!(
                "data_drift_score of {} is past its alert threshold",
                circuit_name(c)
            ),
            log_condition(
                "AppMetrics | where Name == 'data_drift_score'",
                "drift",
                "GreaterThan",
                0.15,
                issue.peak,
            ),
        );
        let a = if k % 2 == 1 {
            acknowledged(
                a,
                at + Duration::hours(2),
                "erin@contoso.com",
                "Known seasonal shift; retraining is planned",
            )
        } else {
            a
        };
        out.push(a);
        k += 1;
    }
    out.push(fired(
        w,
        AlertKind::Workspace,
        None,
        ("metricalerts", "prod-workspace-quota-above-90pct"),
        "Sev3",
        now - Duration::hours(5),
        "Compute quota of the Prod workspace is above 90% (dedicated cores)".into(),
        json!({"windowSize": "PT1H", "allOf": [{"metricName": "Quota Utilization Percentage", "metricNamespace": "Microsoft.MachineLearningServices/workspaces", "operator": "GreaterThan", "threshold": "90", "timeAggregation": "Average", "metricValue": 93.5, "dimensions": [{"name": "VmFamilyName", "value": "standardDSv2Family"}]}]}),
    ));
    out.push(fired(
        w,
        AlertKind::Foreign,
        None,
        ("metricalerts", "shop-frontend-availability"),
        "Sev2",
        now - Duration::hours(3),
        "Availability of shop-frontend is under 99%".into(),
        json!({"windowSize": "PT5M", "allOf": [{"metricName": "Http5xx", "operator": "GreaterThan", "threshold": "10", "metricValue": 42}]}),
    ));
    // An older incident on the same rule, resolved and closed.
    let other = (incident + 1) % w.fleet.circuits.len();
    let mut old = fired(
        w,
        AlertKind::Accuracy,
        Some(other),
        ("scheduledqueryrules", "model-accuracy-mae-above-0.25"),
        "Sev1",
        now - Duration::days(9),
        format!(
            "Prod model_accuracy_mae of {} is above 0.25",
            circuit_name(other)
        ),
        log_condition(
            "AppMetrics | where Name == 'model_accuracy_mae'",
            "mae",
            "GreaterThan",
            0.25,
            0.27,
        ),
    );
    old.resolved_at = Some(now - Duration::days(8));
    old = acknowledged(
        old,
        now - Duration::days(9) + Duration::minutes(20),
        "dave@contoso.com",
        "Rolling back",
    );
    old.state = "Closed";
    old.modified_at = now - Duration::days(8);
    out.push(old);
    out
}

/// A drift alert fired on circuit `c` at `at` (a test and demo hook, `POST /_sim/alerts/fire`):
/// what happens when a circuit gets worse again during the watch after a rollback.
pub fn fire_drift(w: &World, c: usize, severity: &str, at: DateTime<Utc>) -> SimAlert {
    let severity = match severity {
        "Sev0" => "Sev0",
        "Sev1" => "Sev1",
        "Sev3" => "Sev3",
        "Sev4" => "Sev4",
        _ => "Sev2",
    };
    let r = &w.fleet.circuits[c].r;
    fired(
        w,
        AlertKind::Drift,
        Some(c),
        ("scheduledqueryrules", "feature-drift-psi-above-0.2"),
        severity,
        at,
        format!("Feature drift (PSI) above 0.2 on {r} (fired by the simulator's hook)"),
        json!({
            "windowSize": "PT24H",
            "allOf": [{
                "searchQuery": "AppMetrics | where Name == 'data_drift_score' and Properties.metric == 'psi'",
                "metricMeasureColumn": "drift",
                "operator": "GreaterThan",
                "threshold": "0.2",
                "timeAggregation": "Maximum",
                "metricValue": 0.31,
                "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
            }],
        }),
    )
}
