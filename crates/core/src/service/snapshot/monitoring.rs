//! The monitoring stage of a snapshot: the drift, accuracy and validation tables decoded
//! (`service::queries`) and judged into each circuit's evidence: drift against its thresholds,
//! Prod accuracy, and the candidate in Test validated against the Prod baseline.

use std::collections::{BTreeSet, HashMap};

use super::inventory::Circuits;
use super::unread::failed;
use crate::domain::drift::{DriftAssessment, accuracy_status};
use crate::domain::fleet::{
    AccuracySummary, DriftSummary, Series, SnapshotError, ValidationRun, ValidationSummary,
};
use crate::domain::validation::ValidationVerdict;
use crate::domain::{CircuitRef, ModelVersion, Status, Thresholds};
use crate::service::backend::BackendResult;
use crate::service::fanout::Readings;
use crate::service::queries::Decoded;

/// Reads `drift`, `accuracy` and `validation` (their circuits move into the snapshot: taken
/// from `r`); `env_only` are the ids of environment-only releases (their validations are not
/// a model candidate's). A read that failed leaves that evidence unknown on every circuit.
pub(super) fn assemble(
    circuits: &mut Circuits,
    r: &mut Readings,
    env_only: &BTreeSet<u32>,
    t: &Thresholds,
) -> Vec<SnapshotError> {
    let mut tables = Tables::default();
    let mut drift = tables.take(&mut r.drift, "drift query");
    let mut accuracy = tables.take(&mut r.accuracy, "accuracy query");
    let mut validation = tables.take(&mut r.validation, "validation query");
    // Each circuit's series and runs move into the snapshot: the decoded reads are not
    // kept beside it (at 20,000 circuits the drift series alone are over 100 MB).
    for (circuit, cs) in circuits.iter_mut() {
        cs.unknown.extend(tables.unknown.iter().cloned());
        if let Some(d) = &mut drift {
            let series = d.remove(circuit).unwrap_or_default();
            let a = DriftAssessment::assess(
                series
                    .iter()
                    .filter_map(|s| Some((s.feature.as_str(), s.metric, s.series.latest()?))),
                t,
            );
            cs.drift = DriftSummary {
                status: a.status,
                worst: a.worst,
                series,
            };
        }
        if let Some(acc) = &mut accuracy {
            let series = acc.remove(circuit).unwrap_or_else(Series::default);
            cs.accuracy = AccuracySummary {
                status: accuracy_status(series.latest(), t),
                latest: series.latest(),
                series,
            };
        }
        if let Some(v) = &mut validation {
            let runs = v.remove(circuit).unwrap_or_default();
            cs.validation =
                summarize_validation(runs, cs.versions.test, cs.versions.prod, env_only, t);
        }
    }
    tables.errors
}

/// What the monitoring reads found wrong: the snapshot's errors, and what every circuit
/// does not know because of them.
#[derive(Default)]
struct Tables {
    errors: Vec<SnapshotError>,
    unknown: Vec<String>,
}

impl Tables {
    /// A read's circuits (taken: they move into the snapshot), or `None` (with the error, and
    /// the unknown every circuit gets) when it was not read or lacked a column. A partial
    /// read is used, and still makes the snapshot incomplete.
    fn take<T>(
        &mut self,
        read: &mut Option<BackendResult<Decoded<T>>>,
        scope: &str,
    ) -> Option<HashMap<CircuitRef, T>> {
        match read.as_mut()? {
            Ok(d) => {
                if let Some(why) = &d.partial {
                    self.errors.push(failed(scope, why));
                }
                Some(std::mem::take(&mut d.by_circuit))
            }
            Err(e) => {
                let why = e.to_string();
                self.errors.push(failed(scope, &why));
                self.unknown.push(format!("{scope} could not be read"));
                None
            }
        }
    }
}

/// The candidate in Test judged against the Prod model's newest run (model releases only;
/// environment-only validations are evidence for their own release, not a candidate's).
pub fn summarize_validation(
    runs: Vec<ValidationRun>,
    test: Option<ModelVersion>,
    prod: Option<ModelVersion>,
    env_only: &BTreeSet<u32>,
    t: &Thresholds,
) -> ValidationSummary {
    let model_run = |v: Option<ModelVersion>| {
        runs.iter()
            .find(|r| {
                r.model_version.is_some()
                    && r.model_version == v
                    && !r.release_id.is_some_and(|id| env_only.contains(&id))
            })
            .cloned()
    };
    let baseline = model_run(prod);
    let run = model_run(test.or(prod));
    let verdict = run.as_ref().map(|run| {
        let base = if run.model_version == prod {
            None
        } else {
            baseline.as_ref().map(|b| &b.metrics)
        };
        ValidationVerdict::evaluate(&run.metrics, base, t)
    });
    ValidationSummary {
        status: verdict
            .as_ref()
            .map(|v| v.status)
            .unwrap_or(Status::Unknown),
        run,
        baseline,
        verdict,
        runs,
    }
}

#[cfg(test)]
#[path = "monitoring_tests.rs"]
mod tests;
