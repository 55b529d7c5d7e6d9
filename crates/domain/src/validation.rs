//! Test validation against thresholds and against the Prod baseline: a candidate passes when
//! every metric is within its limit and no worse than the model in Prod by more than the
//! allowed regression.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Thresholds;
use super::status::Status;

/// The metrics test validation writes (`validation_mae` ...). Lower is better for all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMetric {
    Mae,
    Rmse,
    Mape,
}

impl ValidationMetric {
    pub const ALL: [ValidationMetric; 3] = [
        ValidationMetric::Mae,
        ValidationMetric::Rmse,
        ValidationMetric::Mape,
    ];

    /// The `customMetrics` name.
    pub fn metric_name(self) -> &'static str {
        match self {
            ValidationMetric::Mae => "validation_mae",
            ValidationMetric::Rmse => "validation_rmse",
            ValidationMetric::Mape => "validation_mape",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ValidationMetric::Mae => "mae",
            ValidationMetric::Rmse => "rmse",
            ValidationMetric::Mape => "mape",
        }
    }

    pub fn limit(self, t: &Thresholds) -> f64 {
        match self {
            ValidationMetric::Mae => t.validation_mae_max,
            ValidationMetric::Rmse => t.validation_rmse_max,
            ValidationMetric::Mape => t.validation_mape_max,
        }
    }
}

impl fmt::Display for ValidationMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ValidationMetric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.strip_prefix("validation_").unwrap_or(&s) {
            "mae" => Ok(ValidationMetric::Mae),
            "rmse" => Ok(ValidationMetric::Rmse),
            "mape" => Ok(ValidationMetric::Mape),
            _ => Err(format!("unknown validation metric `{s}`")),
        }
    }
}

/// Metric values of one validation run.
pub type Metrics = BTreeMap<ValidationMetric, f64>;

/// One metric judged against its limit and the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    pub metric: ValidationMetric,
    pub value: Option<f64>,
    pub limit: f64,
    pub baseline: Option<f64>,
    /// The most this metric may reach given the baseline (`baseline * (1 + regression)`).
    pub baseline_limit: Option<f64>,
    pub status: Status,
    /// Why it failed or is unknown, in words.
    pub reason: Option<String>,
}

/// A validation run judged: `ok` passes, `alert` fails, `unknown` when metrics are missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationVerdict {
    pub status: Status,
    pub checks: Vec<MetricCheck>,
}

impl ValidationVerdict {
    pub fn passed(&self) -> bool {
        self.status == Status::Ok
    }

    /// The reasons of every failing or unknown check, joined for one line.
    pub fn summary(&self) -> String {
        let reasons: Vec<&str> = self
            .checks
            .iter()
            .filter_map(|c| c.reason.as_deref())
            .collect();
        if reasons.is_empty() {
            "all metrics within limits".into()
        } else {
            reasons.join("; ")
        }
    }

    /// Judge a candidate's metrics against the limits and, when known, the Prod baseline.
    pub fn evaluate(candidate: &Metrics, baseline: Option<&Metrics>, t: &Thresholds) -> Self {
        let checks: Vec<MetricCheck> = ValidationMetric::ALL
            .iter()
            .map(|&metric| check(metric, candidate.get(&metric).copied(), baseline, t))
            .collect();
        let status = Status::worst_of(checks.iter().map(|c| c.status));
        ValidationVerdict { status, checks }
    }
}

fn check(
    metric: ValidationMetric,
    value: Option<f64>,
    baseline: Option<&Metrics>,
    t: &Thresholds,
) -> MetricCheck {
    let limit = metric.limit(t);
    let base = baseline.and_then(|b| b.get(&metric).copied());
    let baseline_limit = base.map(|b| b * (1.0 + t.baseline_max_regression));
    let (status, reason) = match value {
        None => (Status::Unknown, Some(format!("{metric} not reported"))),
        Some(v) if !v.is_finite() => (Status::Unknown, Some(format!("{metric} is {v}"))),
        Some(v) if v > limit => (
            Status::Alert,
            Some(format!("{metric} {v:.4} above limit {limit}")),
        ),
        Some(v) => match (base, baseline_limit) {
            (Some(b), Some(bl)) if v > bl => (
                Status::Alert,
                Some(format!(
                    "{metric} {v:.4} is {:.0}% worse than Prod {b:.4} (allowed {:.0}%)",
                    (v / b - 1.0) * 100.0,
                    t.baseline_max_regression * 100.0
                )),
            ),
            _ => (Status::Ok, None),
        },
    };
    MetricCheck {
        metric,
        value,
        limit,
        baseline: base,
        baseline_limit,
        status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(mae: f64, rmse: f64, mape: f64) -> Metrics {
        [
            (ValidationMetric::Mae, mae),
            (ValidationMetric::Rmse, rmse),
            (ValidationMetric::Mape, mape),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn within_limits_and_baseline_passes() {
        let t = Thresholds::default();
        let v = ValidationVerdict::evaluate(&m(0.1, 0.2, 8.0), Some(&m(0.1, 0.19, 8.0)), &t);
        assert!(v.passed(), "{}", v.summary());
        assert_eq!(
            v.checks[1].baseline_limit.map(|x| (x * 1000.0).round()),
            Some(209.0)
        );
    }

    #[test]
    fn over_limit_fails_with_reason() {
        let t = Thresholds::default();
        let v = ValidationVerdict::evaluate(&m(0.3, 0.2, 8.0), None, &t);
        assert_eq!(v.status, Status::Alert);
        assert!(
            v.summary().contains("mae 0.3000 above limit 0.25"),
            "{}",
            v.summary()
        );
    }

    #[test]
    fn regression_against_prod_fails_even_within_limits() {
        let t = Thresholds::default();
        let v = ValidationVerdict::evaluate(&m(0.15, 0.2, 8.0), Some(&m(0.10, 0.2, 8.0)), &t);
        assert_eq!(v.status, Status::Alert);
        assert!(
            v.summary().contains("50% worse than Prod"),
            "{}",
            v.summary()
        );
        // Exactly at the allowed regression still passes.
        let v = ValidationVerdict::evaluate(&m(0.11, 0.2, 8.0), Some(&m(0.10, 0.2, 8.0)), &t);
        assert!(v.passed(), "{}", v.summary());
    }

    #[test]
    fn missing_metric_is_unknown_but_failure_wins() {
        let t = Thresholds::default();
        let mut partial = m(0.1, 0.2, 8.0);
        partial.remove(&ValidationMetric::Mape);
        assert_eq!(
            ValidationVerdict::evaluate(&partial, None, &t).status,
            Status::Unknown
        );
        partial.insert(ValidationMetric::Mae, 0.9);
        assert_eq!(
            ValidationVerdict::evaluate(&partial, None, &t).status,
            Status::Alert
        );
        assert_eq!(
            ValidationVerdict::evaluate(&Metrics::new(), None, &t).status,
            Status::Unknown
        );
    }

    #[test]
    fn metric_names_parse() {
        assert_eq!("validation_rmse".parse(), Ok(ValidationMetric::Rmse));
        assert_eq!("MAPE".parse(), Ok(ValidationMetric::Mape));
    }
}
