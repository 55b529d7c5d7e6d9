//! The typed confirmation of a rollback, over its plan.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::super::decide::key;
use super::super::widgets::{self, block, fit};
use crate::action::Action;
use crate::app::App;
use crate::flows::{Confirmation, Field, RollbackFlow, RollbackScope};
use crate::keymap::KeyContext;
use crate::layout;

/// The typed confirmation over the plan.
pub fn confirm_box<S: RollbackScope>(
    app: &App,
    flow: &RollbackFlow<S>,
    summary: Vec<(String, ratatui::style::Style)>,
    frame: &mut Frame,
    body: Rect,
) {
    let t = &app.theme;
    let full = layout::confirm_box(body);
    let w = full.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (text, style) in summary {
        for chunk in widgets::wrap(&text, w) {
            lines.push(Line::from(Span::styled(chunk, style)));
        }
    }
    let want = flow.expected().unwrap_or_default();
    let lines = confirm_lines(app, &flow.confirm, &want, lines, w);
    let area = layout::popup(body, full.width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let b = block(
        t,
        Line::from(vec![
            Span::styled(" Confirm the rollback in ", t.title),
            widgets::prod_badge(t),
            Span::raw(" "),
        ]),
        true,
    )
    .border_style(t.stage_prod);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let skip = lines.len().saturating_sub(inner.height as usize);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );
}

fn confirm_lines(
    app: &App,
    c: &Confirmation,
    want: &str,
    mut lines: Vec<Line<'static>>,
    w: usize,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("Type ", t.text),
        Span::styled(want.to_owned(), t.title),
        Span::styled(" to confirm:", t.text),
    ]));
    let typed = c.typed.text.trim();
    let state = if typed.is_empty() {
        Span::styled("", t.muted)
    } else if typed == want {
        Span::styled("  ✓ matches", t.ok)
    } else if want.starts_with(typed) {
        Span::styled("  …", t.muted)
    } else {
        Span::styled("  ✖ does not match", t.alert)
    };
    let mut field = vec![
        Span::styled(
            "> ",
            if c.field == Field::Main {
                t.title
            } else {
                t.muted
            },
        ),
        Span::styled(c.typed.text.clone(), t.text),
    ];
    if c.field == Field::Main && c.sending.is_none() {
        field.push(Span::styled("█", t.title));
    }
    field.push(state);
    lines.push(Line::from(field));
    let mut reason = vec![
        Span::styled("Reason (optional, recorded) ", t.header),
        Span::styled(
            "> ",
            if c.field == Field::Reason {
                t.title
            } else {
                t.muted
            },
        ),
        Span::styled(fit(&c.reason.text, w.saturating_sub(32)), t.text),
    ];
    if c.field == Field::Reason && c.sending.is_none() {
        reason.push(Span::styled("█", t.title));
    }
    lines.push(Line::from(reason));
    lines.push(Line::from(""));
    if c.sending.is_some() {
        lines.push(Line::from(Span::styled(
            "⟳ journaling and sending (once)…",
            t.note,
        )));
    } else if let Some(p) = &c.problem {
        for chunk in widgets::wrap(p, w) {
            lines.push(Line::from(Span::styled(chunk, t.error)));
        }
    } else {
        lines.push(Line::from(vec![
            Span::styled(key(app, KeyContext::Confirm, Action::Accept), t.bar_key),
            Span::styled(" rolls back · ", t.text),
            Span::styled(key(app, KeyContext::Confirm, Action::NextField), t.bar_key),
            Span::styled(" reason · ", t.text),
            Span::styled(key(app, KeyContext::Confirm, Action::Back), t.bar_key),
            Span::styled(" back to the plan, nothing is sent", t.text),
        ]));
    }
    lines
}
