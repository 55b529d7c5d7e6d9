//! Drift and production accuracy against thresholds: per feature and metric, the latest value
//! decides ok / warn / alert, and a circuit's worst finding is what the fleet view shows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Thresholds;
use super::status::Status;

/// The drift statistics the monitoring job writes as `data_drift_score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMetric {
    /// Jensen-Shannon distance (0..1, higher is worse).
    JensenShannon,
    /// Normalized Wasserstein distance (higher is worse).
    Wasserstein,
    /// Population stability index (higher is worse).
    Psi,
    /// Kolmogorov-Smirnov test p-value (lower is worse).
    KsPvalue,
}

impl DriftMetric {
    pub const ALL: [DriftMetric; 4] = [
        DriftMetric::JensenShannon,
        DriftMetric::Wasserstein,
        DriftMetric::Psi,
        DriftMetric::KsPvalue,
    ];

    /// The `metric` dimension value in `customDimensions`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftMetric::JensenShannon => "jensen_shannon",
            DriftMetric::Wasserstein => "wasserstein",
            DriftMetric::Psi => "psi",
            DriftMetric::KsPvalue => "ks_pvalue",
        }
    }

    /// A short label for narrow columns.
    pub fn short(self) -> &'static str {
        match self {
            DriftMetric::JensenShannon => "JS",
            DriftMetric::Wasserstein => "W1",
            DriftMetric::Psi => "PSI",
            DriftMetric::KsPvalue => "KS-p",
        }
    }

    /// Whether a lower value is worse (a p-value).
    pub fn lower_is_worse(self) -> bool {
        matches!(self, DriftMetric::KsPvalue)
    }

    /// (warn, alert) limits for this metric.
    pub fn limits(self, t: &Thresholds) -> (Option<f64>, f64) {
        match self {
            DriftMetric::JensenShannon => (t.js_distance_warn, t.js_distance_alert),
            DriftMetric::Wasserstein => (t.wasserstein_warn, t.wasserstein_alert),
            DriftMetric::Psi => (Some(t.psi_warn), t.psi_alert),
            DriftMetric::KsPvalue => (None, t.ks_pvalue_alert),
        }
    }

    /// Status of one value, and the limit it was judged against (the one it crossed, else the
    /// alert limit).
    pub fn evaluate(self, value: f64, t: &Thresholds) -> (Status, f64) {
        let (warn, alert) = self.limits(t);
        if !value.is_finite() {
            return (Status::Unknown, alert);
        }
        let over = |limit: f64| {
            if self.lower_is_worse() {
                value < limit
            } else {
                value > limit
            }
        };
        if over(alert) {
            (Status::Alert, alert)
        } else if let Some(w) = warn.filter(|w| over(*w)) {
            (Status::Warn, w)
        } else {
            (Status::Ok, alert)
        }
    }

    /// How far past (or short of) its limit a value is, > 1 meaning over; used to pick the
    /// worst of several findings of the same status.
    pub fn exceedance(self, value: f64, limit: f64) -> f64 {
        if self.lower_is_worse() {
            if value <= 0.0 {
                f64::INFINITY
            } else {
                limit / value
            }
        } else if limit <= 0.0 {
            value
        } else {
            value / limit
        }
    }
}

impl fmt::Display for DriftMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DriftMetric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "jensen_shannon" | "js" | "js_distance" | "jensen_shannon_distance" => {
                Ok(DriftMetric::JensenShannon)
            }
            "wasserstein" | "normalized_wasserstein" | "normalized_wasserstein_distance" => {
                Ok(DriftMetric::Wasserstein)
            }
            "psi" | "population_stability_index" => Ok(DriftMetric::Psi),
            "ks_pvalue" | "ks_p_value" | "ks" | "ks_test" => Ok(DriftMetric::KsPvalue),
            _ => Err(format!("unknown drift metric `{s}`")),
        }
    }
}

/// One judged drift value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftFinding {
    pub feature: String,
    pub metric: DriftMetric,
    pub value: f64,
    pub threshold: f64,
    pub status: Status,
}

/// The latest value of each (feature, metric), judged; the circuit's status is the worst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftAssessment {
    pub status: Status,
    pub worst: Option<DriftFinding>,
    pub findings: Vec<DriftFinding>,
}

impl DriftAssessment {
    /// Judge the latest readings. No readings at all is `unknown`: a circuit without drift
    /// data is not known to be healthy.
    pub fn assess<'a>(
        latest: impl IntoIterator<Item = (&'a str, DriftMetric, f64)>,
        t: &Thresholds,
    ) -> DriftAssessment {
        let findings: Vec<DriftFinding> = latest
            .into_iter()
            .map(|(feature, metric, value)| {
                let (status, threshold) = metric.evaluate(value, t);
                DriftFinding {
                    feature: feature.to_owned(),
                    metric,
                    value,
                    threshold,
                    status,
                }
            })
            .collect();
        let worst = findings
            .iter()
            .max_by(|a, b| {
                let ka = (
                    a.status.severity(),
                    a.metric.exceedance(a.value, a.threshold),
                );
                let kb = (
                    b.status.severity(),
                    b.metric.exceedance(b.value, b.threshold),
                );
                ka.partial_cmp(&kb).unwrap_or(std::cmp::Ordering::Equal)
            })
            .cloned();
        let status = match &worst {
            None => Status::Unknown,
            Some(_) => Status::worst_of(findings.iter().map(|f| f.status)),
        };
        DriftAssessment {
            status,
            worst,
            findings,
        }
    }
}

/// `model_accuracy_mae` in production against its alert limit.
pub fn accuracy_status(mae: Option<f64>, t: &Thresholds) -> Status {
    match mae {
        Some(v) if v.is_finite() => {
            if v > t.mae_alert {
                Status::Alert
            } else {
                Status::Ok
            }
        }
        _ => Status::Unknown,
    }
}

/// `data_quality_null_rate` against its alert limit.
pub fn null_rate_status(rate: Option<f64>, t: &Thresholds) -> Status {
    match rate {
        Some(v) if v.is_finite() => {
            if v > t.null_rate_alert {
                Status::Alert
            } else {
                Status::Ok
            }
        }
        _ => Status::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_follows_its_seed_limits() {
        let t = Thresholds::default();
        let cases = [
            (DriftMetric::JensenShannon, 0.10, Status::Ok),
            (DriftMetric::JensenShannon, 0.15, Status::Ok),
            (DriftMetric::JensenShannon, 0.151, Status::Alert),
            (DriftMetric::Wasserstein, 0.2, Status::Alert),
            (DriftMetric::Psi, 0.05, Status::Ok),
            (DriftMetric::Psi, 0.12, Status::Warn),
            (DriftMetric::Psi, 0.26, Status::Alert),
            (DriftMetric::KsPvalue, 0.5, Status::Ok),
            (DriftMetric::KsPvalue, 0.049, Status::Alert),
            (DriftMetric::Psi, f64::NAN, Status::Unknown),
        ];
        for (m, v, want) in cases {
            assert_eq!(m.evaluate(v, &t).0, want, "{m} {v}");
        }
        assert_eq!(DriftMetric::Psi.evaluate(0.12, &t).1, 0.10);
        let warned = Thresholds {
            js_distance_warn: Some(0.1),
            ..t.clone()
        };
        assert_eq!(
            DriftMetric::JensenShannon.evaluate(0.12, &warned).0,
            Status::Warn
        );
    }

    #[test]
    fn worst_finding_is_most_severe_then_furthest_over() {
        let t = Thresholds::default();
        let a = DriftAssessment::assess(
            [
                ("temperature", DriftMetric::Psi, 0.12),
                ("pressure", DriftMetric::JensenShannon, 0.18),
                ("flow", DriftMetric::KsPvalue, 0.001),
                ("vibration", DriftMetric::Wasserstein, 0.05),
            ],
            &t,
        );
        assert_eq!(a.status, Status::Alert);
        let w = a.worst.unwrap();
        assert_eq!(
            (w.feature.as_str(), w.metric),
            ("flow", DriftMetric::KsPvalue)
        );
        assert_eq!(DriftAssessment::assess([], &t).status, Status::Unknown);
        let ok = DriftAssessment::assess([("t", DriftMetric::Psi, 0.01)], &t);
        assert_eq!(ok.status, Status::Ok);
    }

    #[test]
    fn metric_names_parse_leniently() {
        for (s, m) in [
            ("Jensen-Shannon", DriftMetric::JensenShannon),
            ("normalized_wasserstein", DriftMetric::Wasserstein),
            ("PSI", DriftMetric::Psi),
            ("ks_pvalue", DriftMetric::KsPvalue),
        ] {
            assert_eq!(s.parse::<DriftMetric>(), Ok(m));
        }
        assert!("entropy".parse::<DriftMetric>().is_err());
    }

    #[test]
    fn accuracy_and_null_rate() {
        let t = Thresholds::default();
        assert_eq!(accuracy_status(Some(0.3), &t), Status::Alert);
        assert_eq!(accuracy_status(Some(0.2), &t), Status::Ok);
        assert_eq!(accuracy_status(None, &t), Status::Unknown);
        assert_eq!(null_rate_status(Some(0.06), &t), Status::Alert);
    }
}
