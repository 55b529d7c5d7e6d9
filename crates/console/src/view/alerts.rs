//! The fleet's fired alerts (`:alerts`, `W`): severity, state, age, the circuit (or "no
//! circuit" with the rule that could not be tied to one), the rule and what it says. Enter
//! opens the circuit; only the rows on screen are built. `a` / `c` open the comment box of an
//! acknowledge / close over the list (`render_box`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::table::Columns;
use super::widgets::{self, block, fit};
use crate::app::App;
use crate::domain::incidents::AlertState;
use crate::layout;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(snap) = app.snapshot() else {
        frame.render_widget(block(t, " Alerts ", true), body);
        super::no_data(app, frame, body);
        return;
    };
    let alerts = &snap.alerts;
    let new = alerts
        .iter()
        .filter(|a| a.alert.state == AlertState::New)
        .count();
    let unmapped = alerts.iter().filter(|a| a.circuit.is_none()).count();
    let mut title = format!(" Alerts · {} active · {new} new ", alerts.len());
    if unmapped > 0 {
        title.push_str(&format!("· {unmapped} without a circuit "));
    }
    let b = block(t, title, true);
    let inner = b.inner(body);
    frame.render_widget(b, body);
    if alerts.is_empty() {
        let why = if snap.errors.iter().any(|e| e.scope.contains("alerts")) {
            "The alerts could not be read (see the status bar)."
        } else {
            "No active alerts on the fleet: none fired in the last 30 days is still firing and open."
        };
        super::empty_state(app, frame, body, vec![Line::from(why)]);
        return;
    }
    let w = inner.width as usize;
    // Narrow screens keep the rule and drop what it says.
    let fixed_left = 2 + 6 + 13 + 7;
    let circuit_w = 20;
    let says = w >= 100;
    let rule_w = if says {
        if w >= 120 { 34 } else { 26 }
    } else {
        w.saturating_sub(fixed_left + circuit_w + 2).max(10)
    };
    let cols = Columns::new(2, w)
        .col("Sev", 5)
        .col("State", 12)
        .col_right("Age", 5)
        .gap(2)
        .col("Circuit", circuit_w)
        .col("Rule", rule_w);
    let mut lines = vec![cols.header(t, if says { "What it says" } else { "" })];
    let c = app.alerts;
    let rows = layout::table_rows(body);
    for (i, a) in super::table::window(alerts, c, rows) {
        let x = &a.alert;
        let st = x.severity.status();
        let sev_style = if x.state == AlertState::New {
            widgets::bold(t.status(st))
        } else {
            t.status(st)
        };
        let (circuit, circuit_style) = match &a.circuit {
            Some(c) => (c.to_string(), t.text),
            None => ("no circuit".to_owned(), t.muted),
        };
        let mut spans = vec![Span::styled("⚑ ", sev_style)];
        spans.extend(cols.cells([
            (x.severity.as_str().to_owned(), sev_style),
            (
                x.state.as_str().to_owned(),
                if x.state == AlertState::New {
                    t.note
                } else {
                    t.muted
                },
            ),
            (widgets::age_since(app.now, x.fired_at), t.muted),
            (circuit, circuit_style),
            (x.rule_name().to_owned(), t.text),
        ]));
        if says {
            spans.push(Span::styled(fit(&x.description, cols.rest()), t.muted));
        }
        if i == c.selected {
            for s in &mut spans {
                s.style = s.style.patch(t.selection);
            }
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The comment box of an alert's state change, over the alerts list: which alert, what will
/// change, the comment, and what Enter does (or that it is on its way).
pub fn render_box(app: &App, frame: &mut Frame, body: Rect) {
    let Some(b) = app.alert_box() else { return };
    let t = &app.theme;
    let area = layout::popup(body, 76, 9);
    let w = area.width.saturating_sub(2) as usize;
    let verb = crate::service::alert_change::verb(b.to);
    let mut title = verb.to_owned();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let lines = vec![
        Line::from(Span::styled(
            fit(
                &format!(
                    "{} {} · {}",
                    b.severity,
                    b.rule,
                    b.circuit
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "no circuit".into())
                ),
                w,
            ),
            t.text,
        )),
        Line::from(Span::styled(
            fit(&format!("{} → {} in Azure Monitor", b.from, b.to), w),
            t.muted,
        )),
        Line::from(""),
        Line::from(vec![
            Span::styled("Comment: ", t.header),
            Span::styled(
                fit(&format!("{}▏", b.comment.text), w.saturating_sub(9)),
                t.text,
            ),
        ]),
        Line::from(""),
        Line::from(Span::styled(
            fit(
                if b.sending {
                    "⟳ sending (journaled and on the audit log first)…"
                } else {
                    "Enter sends it once, on record first · Esc cancels, nothing sent"
                },
                w,
            ),
            if b.sending { t.note } else { t.muted },
        )),
    ];
    frame.render_widget(Clear, area);
    let blk = block(t, format!(" {title} alert "), true);
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    frame.render_widget(Paragraph::new(lines), inner);
}
