//! Jobs: the circuit's batch scoring jobs in Prod and Test, newest first: status, when it was
//! submitted, how long it ran, and the error text of a failed run (run history), with the
//! verdict on Prod (last success, a failed last run, no run in 26 hours) and the active alerts
//! on the circuit.

use ratatui::text::{Line, Span};

use crate::app::{App, CircuitView};
use crate::domain::Status;
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::incidents::{JobOutcome, ScoringJob};
use crate::view::table::Columns;
use crate::view::widgets::{self, fit, symbol};

fn duration(d: Option<chrono::Duration>) -> String {
    match d {
        Some(d) if d.num_minutes() >= 1 => {
            format!("{}m{:02}s", d.num_minutes(), d.num_seconds() % 60)
        }
        Some(d) => format!("{}s", d.num_seconds()),
        None => "—".into(),
    }
}

/// `text` in lines of at most `width` columns, broken at spaces (a word longer than a line,
/// such as a path, is broken where it must be).
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        loop {
            let room = width.saturating_sub(line.width() + usize::from(!line.is_empty()));
            if word.width() <= room {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                continue;
            }
            // Longer than a whole line: cut it.
            let cut: String = word.chars().take(width.max(1)).collect();
            word = word.chars().skip(cut.chars().count()).collect();
            out.push(cut);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

fn job_lines(app: &App, jobs: &[ScoringJob], w: usize, out: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    let cols = Columns::new(2, w)
        .col("Status", 11)
        .col("Submitted (UTC)", 17)
        .col_right("Age", 7)
        .col_right("Duration", 9)
        .gap(2);
    out.push(cols.header(t, "Job"));
    if jobs.is_empty() {
        out.push(Line::from(Span::styled("  none listed", t.muted)));
        return;
    }
    for j in jobs {
        let (sym, st) = match j.status.outcome() {
            JobOutcome::Succeeded => ("✓", Status::Ok),
            JobOutcome::Failed => ("✖", Status::Alert),
            JobOutcome::Running => ("⟳", Status::Warn),
            JobOutcome::Other => ("?", Status::Unknown),
        };
        let submitted = j
            .submitted_at
            .map(|s| s.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "?".into());
        let mut spans = vec![Span::styled(format!("{sym} "), t.status(st))];
        spans.extend(cols.cells([
            (j.status.as_str().to_owned(), t.status(st)),
            (submitted, t.text),
            (widgets::age_since(app.now, j.submitted_at), t.text),
            (duration(j.duration(app.now)), t.text),
        ]));
        spans.push(Span::styled(fit(&j.name, cols.rest()), t.muted));
        out.push(Line::from(spans));
        if let Some(e) = &j.error {
            let code = j
                .error_code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            // The whole message: it is why someone was paged. Wrapped, not cut.
            for l in wrap(&format!("{code}{e}"), w.saturating_sub(6).max(20)) {
                out.push(Line::from(Span::styled(format!("    {l}"), t.error)));
            }
        }
    }
}

pub fn lines(app: &App, v: &CircuitView, c: &CircuitSnapshot, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = width as usize;
    let mut out = Vec::new();
    // The verdict from the refresh first: it is there before the jobs are read.
    let s = &c.jobs;
    match s.status {
        None => out.push(Line::from(Span::styled(
            "No Prod deployment: nothing scores nightly.",
            t.muted,
        ))),
        Some(st) => {
            let words = match (&s.problem, &s.last) {
                (Some(p), _) => p.clone(),
                (None, Some(l)) => format!("last run {}", l.status),
                (None, None) => "no run listed".into(),
            };
            let mut spans = vec![
                Span::styled(format!("{} Prod scoring: ", symbol(st)), t.status(st)),
                Span::styled(words, t.status(st)),
            ];
            if let Some(ok) = s.last_success {
                spans.push(Span::styled(
                    format!(
                        "   last success {} ago",
                        widgets::age_since(app.now, Some(ok))
                    ),
                    t.muted,
                ));
            }
            out.push(Line::from(spans));
        }
    }
    if c.alerts.active > 0 {
        let snap_alerts = app
            .snapshot()
            .map(|s| {
                s.alerts
                    .iter()
                    .filter(|a| a.circuit.as_ref() == Some(&c.circuit))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for a in snap_alerts {
            let st = a.alert.severity.status();
            out.push(Line::from(vec![
                Span::styled(format!("⚑ {} ", a.alert.severity), t.status(st)),
                Span::styled(
                    fit(
                        &format!(
                            "{} · {} · fired {} ago",
                            a.alert.rule_name(),
                            a.alert.state,
                            widgets::age_since(app.now, a.alert.fired_at)
                        ),
                        w.saturating_sub(8),
                    ),
                    t.text,
                ),
            ]));
        }
    }
    out.push(Line::from(""));
    let Some(jobs) = v.jobs.value.as_ref() else {
        let text = match (&v.jobs.error, v.jobs.loading) {
            (Some(e), _) => format!("The jobs could not be read: {e}"),
            (None, true) => "Reading the jobs of Prod and Test, with their run history…".into(),
            (None, false) => "The jobs are read when this tab is shown.".into(),
        };
        out.push(Line::from(Span::styled(text, t.muted)));
        return out;
    };
    for e in &jobs.errors {
        out.push(Line::from(Span::styled(
            fit(&format!("could not read {}: {}", e.scope, e.message), w),
            t.unknown,
        )));
    }
    let deployment = |list: &[ScoringJob]| {
        list.first()
            .map(|j| format!(" · {} / {}", j.endpoint, j.deployment))
            .unwrap_or_default()
    };
    out.push(Line::from(Span::styled(
        format!("Prod{}", deployment(&jobs.prod)),
        t.stage_prod,
    )));
    job_lines(app, &jobs.prod, w, &mut out);
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        format!("Test{}", deployment(&jobs.test)),
        t.title,
    )));
    job_lines(app, &jobs.test, w, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn error_text_wraps_at_spaces_and_keeps_every_character() {
        let text = "UserError: No such file: /mnt/azureml/cr/j/inputs/sensor_readings/2026-02-09/PLANT005_CIRCUIT04.parquet here";
        let lines = wrap(text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines[0], "UserError: No such file:");
        let joined: String = lines.concat();
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }
}
