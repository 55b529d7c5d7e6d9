//! The fleet's fired alerts (`:alerts`, `W`): severity, state, age, the circuit (or "no
//! circuit" with the rule that could not be tied to one), the rule and what it says. Enter
//! opens the circuit; only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{self, block, fit, pad};
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
    let head = format!(
        "  {:<5} {:<12} {:>5}  {} {} {}",
        "Sev",
        "State",
        "Age",
        pad("Circuit", circuit_w),
        pad("Rule", rule_w),
        if says { "What it says" } else { "" }
    );
    let mut lines = vec![Line::from(Span::styled(pad(&head, w), t.header))];
    let c = app.alerts;
    let rows = layout::table_rows(body);
    for (i, a) in alerts.iter().enumerate().skip(c.offset).take(rows) {
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
        let fixed = fixed_left + circuit_w + 1 + rule_w + 1;
        let mut spans = vec![
            Span::styled("⚑ ", sev_style),
            Span::styled(pad(x.severity.as_str(), 6), sev_style),
            Span::styled(
                pad(x.state.as_str(), 13),
                if x.state == AlertState::New {
                    t.note
                } else {
                    t.muted
                },
            ),
            Span::styled(
                format!("{:>5}  ", widgets::age_since(app.now, x.fired_at)),
                t.muted,
            ),
            Span::styled(
                format!("{} ", pad(&fit(&circuit, circuit_w), circuit_w)),
                circuit_style,
            ),
            Span::styled(
                format!("{} ", pad(&fit(x.rule_name(), rule_w), rule_w)),
                t.text,
            ),
        ];
        if says {
            spans.push(Span::styled(
                fit(&x.description, w.saturating_sub(fixed)),
                t.muted,
            ));
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
