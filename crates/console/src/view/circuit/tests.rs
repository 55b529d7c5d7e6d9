//! Tests: the candidate's validation metrics against the limits and the Prod baseline, the
//! verdict with its reasons, and every validation run of the circuit.

use ratatui::text::{Line, Span};

use crate::app::App;
use crate::domain::Status;
use crate::domain::fleet::{CircuitSnapshot, ValidationRun};
use crate::domain::validation::{ValidationMetric, ValidationVerdict};
use crate::view::table::Columns;
use crate::view::widgets::{self, fit, pad, rpad, symbol};

fn run_label(app: &App, r: &ValidationRun) -> String {
    format!(
        "{} · {} · env {} · {}",
        widgets::version(r.model_version),
        r.release_id
            .map(|id| format!("Release-{id}"))
            .unwrap_or_else(|| "no release".into()),
        r.environment_version.as_deref().unwrap_or("?"),
        match r.at {
            Some(_) => format!("{} ago", widgets::age_since(app.now, r.at)),
            None => "time unknown".into(),
        }
    )
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into())
}

pub fn lines(app: &App, c: &CircuitSnapshot, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = width as usize;
    let v = &c.validation;
    let mut out = Vec::new();
    match (&v.run, &v.verdict) {
        (Some(run), Some(verdict)) => {
            out.push(Line::from(vec![
                Span::styled("Candidate  ", t.header),
                Span::styled(run_label(app, run), t.stage_test),
            ]));
            out.push(Line::from(match &v.baseline {
                Some(b) => vec![
                    Span::styled("Baseline   ", t.header),
                    widgets::prod_badge(t),
                    Span::styled(format!(" {}", run_label(app, b)), t.stage_prod),
                ],
                None => vec![
                    Span::styled("Baseline   ", t.header),
                    Span::styled(
                        "none: judged against the limits only (the candidate is what runs in Prod, or Prod has no run)",
                        t.muted,
                    ),
                ],
            }));
            out.push(Line::from(""));
            out.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{} {} {} ",
                        pad("Metric", 7),
                        rpad("Candidate", 10),
                        rpad("Limit", 8)
                    ),
                    t.header,
                ),
                Span::styled(rpad("PROD", 10), t.stage_prod),
                Span::styled(
                    format!(
                        " {}  {}",
                        rpad(
                            &format!(
                                "≤ +{:.0}%",
                                app.settings.thresholds.baseline_max_regression * 100.0
                            ),
                            10
                        ),
                        "Result"
                    ),
                    t.header,
                ),
            ]));
            for check in &verdict.checks {
                let reason = check
                    .reason
                    .clone()
                    .unwrap_or_else(|| "within the limit and the baseline".into());
                out.push(Line::from(vec![
                    Span::styled(
                        format!(
                            "{} {} {} {} {}  ",
                            pad(check.metric.as_str(), 7),
                            rpad(&num(check.value), 10),
                            rpad(&format!("{}", check.limit), 8),
                            rpad(&num(check.baseline), 10),
                            rpad(&num(check.baseline_limit), 10),
                        ),
                        t.text,
                    ),
                    Span::styled(
                        fit(
                            &format!("{} {reason}", symbol(check.status)),
                            w.saturating_sub(51),
                        ),
                        t.status(check.status),
                    ),
                ]));
            }
            out.push(Line::from(""));
            let (word, s) = match verdict.status {
                Status::Ok => ("PASS", Status::Ok),
                Status::Unknown => ("INCOMPLETE", Status::Unknown),
                other => ("FAIL", other),
            };
            out.push(Line::from(vec![
                Span::styled("Verdict  ", t.header),
                Span::styled(format!("{} {word}", symbol(s)), t.status(s)),
                Span::styled(
                    fit(&format!("  {}", verdict.summary()), w.saturating_sub(20)),
                    t.muted,
                ),
            ]));
        }
        _ => out.push(Line::from(Span::styled(
            "No validation run for the model in Test: the test result is unknown, not passed.",
            t.unknown,
        ))),
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        format!("All validation runs ({}), newest first", v.runs.len()),
        t.header,
    )));
    let runs = Columns::new(0, w)
        .col("Version", 8)
        .col("Release", 12)
        .col("Env", 7)
        .col_right("When", 5)
        .col_right("MAE", 8)
        .col_right("RMSE", 8)
        .col_right("MAPE", 8)
        .gap(2);
    out.push(runs.header(t, "Result (limits only)"));
    for r in &v.runs {
        let verdict = ValidationVerdict::evaluate(&r.metrics, None, &app.settings.thresholds);
        let m = |k: ValidationMetric| num(r.metrics.get(&k).copied());
        let style = if r.model_version.is_some() && r.model_version == c.versions.prod {
            t.stage_prod
        } else {
            t.text
        };
        let mut spans = runs.cells([
            (widgets::version(r.model_version), style),
            (
                r.release_id
                    .map(|i| format!("Release-{i}"))
                    .unwrap_or_else(|| "—".into()),
                style,
            ),
            (
                r.environment_version.as_deref().unwrap_or("?").to_owned(),
                style,
            ),
            (widgets::age_since(app.now, r.at), style),
            (m(ValidationMetric::Mae), style),
            (m(ValidationMetric::Rmse), style),
            (m(ValidationMetric::Mape), style),
        ]);
        spans.push(widgets::status_span(t, verdict.status));
        out.push(Line::from(spans));
    }
    out
}
