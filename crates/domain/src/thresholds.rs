//! Every drift, accuracy and validation limit, as configured in `[thresholds]`.
//!
//! Defaults are the seed's monitoring strategy. Validation limits are not
//! given by the seed; the defaults here are this project's decision (README, "Thresholds").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Jensen-Shannon distance: alert above.
    pub js_distance_alert: f64,
    /// Jensen-Shannon distance: warn above (none by default).
    pub js_distance_warn: Option<f64>,
    /// Normalized Wasserstein distance: alert above.
    pub wasserstein_alert: f64,
    pub wasserstein_warn: Option<f64>,
    /// Population stability index: warn above.
    pub psi_warn: f64,
    /// Population stability index: alert above.
    pub psi_alert: f64,
    /// Kolmogorov-Smirnov test p-value: alert below.
    pub ks_pvalue_alert: f64,
    /// `model_accuracy_mae` in production: alert above.
    pub mae_alert: f64,
    /// `data_quality_null_rate`: alert above.
    pub null_rate_alert: f64,
    /// Test validation: largest acceptable `validation_mae`.
    pub validation_mae_max: f64,
    /// Test validation: largest acceptable `validation_rmse`.
    pub validation_rmse_max: f64,
    /// Test validation: largest acceptable `validation_mape` (percent).
    pub validation_mape_max: f64,
    /// Test validation: how much worse than the Prod baseline a candidate may be on any
    /// metric, as a fraction (0.10 = 10% worse).
    pub baseline_max_regression: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            js_distance_alert: 0.15,
            js_distance_warn: None,
            wasserstein_alert: 0.15,
            wasserstein_warn: None,
            psi_warn: 0.10,
            psi_alert: 0.25,
            ks_pvalue_alert: 0.05,
            mae_alert: 0.25,
            null_rate_alert: 0.05,
            validation_mae_max: 0.25,
            validation_rmse_max: 0.35,
            validation_mape_max: 15.0,
            baseline_max_regression: 0.10,
        }
    }
}

impl Thresholds {
    /// Limits that contradict each other or cannot be met, each with the key to fix.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut unit = |key: &str, v: f64| {
            if !(0.0..=1.0).contains(&v) {
                out.push(format!("thresholds.{key} = {v} must be between 0 and 1"));
            }
        };
        unit("js_distance_alert", self.js_distance_alert);
        unit("wasserstein_alert", self.wasserstein_alert);
        unit("ks_pvalue_alert", self.ks_pvalue_alert);
        unit("null_rate_alert", self.null_rate_alert);
        for (key, warn, alert) in [
            (
                "js_distance_warn",
                self.js_distance_warn,
                self.js_distance_alert,
            ),
            (
                "wasserstein_warn",
                self.wasserstein_warn,
                self.wasserstein_alert,
            ),
            ("psi_warn", Some(self.psi_warn), self.psi_alert),
        ] {
            if let Some(w) = warn
                && w > alert
            {
                out.push(format!(
                    "thresholds.{key} = {w} is above its alert level {alert}; a warning must come first"
                ));
            }
        }
        for (key, v) in [
            ("psi_warn", self.psi_warn),
            ("psi_alert", self.psi_alert),
            ("mae_alert", self.mae_alert),
            ("validation_mae_max", self.validation_mae_max),
            ("validation_rmse_max", self.validation_rmse_max),
            ("validation_mape_max", self.validation_mape_max),
            ("baseline_max_regression", self.baseline_max_regression),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                out.push(format!("thresholds.{key} = {v} must be a number >= 0"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_consistent_and_contradictions_are_named() {
        assert!(Thresholds::default().problems().is_empty());
        let t = Thresholds {
            psi_warn: 0.3,
            js_distance_alert: 1.5,
            ..Thresholds::default()
        };
        let p = t.problems();
        assert!(p.iter().any(|m| m.contains("psi_warn")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("js_distance_alert")), "{p:?}");
    }
}
