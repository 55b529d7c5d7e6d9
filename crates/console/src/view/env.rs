//! The environment release: for a pending non-breaking environment update, every circuit's
//! validation against the new environment, failures first, with the counts and the policy
//! verdict on top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{self, block, fit, symbol};
use crate::app::App;
use crate::domain::Status;
use crate::layout;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let snap = app.snapshot();
    let row = app
        .env
        .key
        .and_then(|k| app.approvals.rows.iter().find(|r| r.key == k));
    let item = row.zip(snap).and_then(|(r, s)| r.item(s));
    let (Some(snap), Some(row), Some(item)) = (snap, row, item) else {
        frame.render_widget(block(t, " Environment release ", true), body);
        let mut lines = vec![Line::from(
            "No environment-only release is waiting for approval.",
        )];
        lines.push(rollback_line(app, usize::from(body.width)));
        super::empty_state(app, frame, body, lines);
        return;
    };
    let (summary, matrix) = layout::env(body);
    let from = item.previous_environment.as_deref().unwrap_or("?");
    let to = item.environment_only.as_deref().unwrap_or("?");
    let title = Line::from(vec![
        Span::styled(
            format!(" {} · environment {from} → {to} · ", item.release_name),
            t.title,
        ),
        widgets::stage_label(t, item.stage),
        Span::styled(" approval ", t.title),
    ]);
    let b = block(t, title, false);
    let inner = b.inner(summary);
    frame.render_widget(b, summary);
    let verdict = row.verdict();
    let verdict_text = match (&row.approve, verdict) {
        (None, _) => "identity unknown: policy cannot be checked".to_owned(),
        (Some(_), Status::Ok) => "you can approve for all circuits".to_owned(),
        (Some(c), _) => c.reasons().first().cloned().unwrap_or_default(),
    };
    let total = row.gate.len();
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("✖ {} failed", row.failed),
                if row.failed > 0 { t.alert } else { t.muted },
            ),
            Span::raw("   "),
            Span::styled(
                format!("? {} without a result", row.unknown),
                if row.unknown > 0 { t.unknown } else { t.muted },
            ),
            Span::raw("   "),
            Span::styled(format!("✓ {} passed", row.passed), t.ok),
            Span::styled(
                format!(
                    "   of {} · {} of {} approvers · requested by {} {} ago",
                    widgets::plural(total, "circuit"),
                    item.approved.len(),
                    row.required,
                    item.requested_by.name(),
                    widgets::age_since(app.now, item.requested_at)
                ),
                t.muted,
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{} ", symbol(verdict)), t.status(verdict)),
            Span::styled(
                fit(&verdict_text, inner.width.saturating_sub(2) as usize),
                t.status(verdict),
            ),
        ]),
        rollback_line(app, inner.width as usize),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
    let b = block(
        t,
        format!(" Validation on {to}, failures first · {total} "),
        true,
    );
    let inner = b.inner(matrix);
    frame.render_widget(b, matrix);
    let page = layout::table_rows(matrix);
    let c = app.env.cursor;
    let w = inner.width;
    // The detail says why a circuit failed: it keeps at least 30 columns; the description
    // takes what is left, or goes when that is too little to read.
    let fixed = 1 + 18 + 5 + 4 + 5;
    let desc_w = match w.saturating_sub(fixed + 30) {
        n if n < 12 => 0,
        n => n.min(36),
    };
    let detail_w = w.saturating_sub(fixed + desc_w);
    let rows = super::table::window(&app.env.rows, c, page).map(|(i, g)| {
        let circuit = snap.circuit(&g.circuit);
        let style = widgets::selected_style(t, i == c.selected, true);
        Row::new(vec![
            Cell::from(Span::styled(symbol(g.status), t.status(g.status))),
            Cell::from(Span::styled(g.circuit.to_string(), t.text)),
            Cell::from(Span::styled(
                fit(
                    circuit.map(|c| c.description.as_str()).unwrap_or(""),
                    desc_w as usize,
                ),
                t.muted,
            )),
            Cell::from(Span::styled(
                widgets::version(circuit.and_then(|c| c.versions.prod)),
                t.stage_prod,
            )),
            Cell::from(Span::styled(
                match g.status {
                    Status::Ok => "pass",
                    Status::Unknown => "none",
                    _ => "FAIL",
                },
                t.status(g.status),
            )),
            Cell::from(Span::styled(
                fit(&g.detail, detail_w as usize),
                if g.status == Status::Ok {
                    t.muted
                } else {
                    t.text
                },
            )),
        ])
        .style(style)
    });
    let header = Row::new(vec![
        Cell::from(""),
        Cell::from(Span::styled("Circuit", t.header)),
        Cell::from(Span::styled("Description", t.header)),
        Cell::from(Span::styled("PROD", t.prod)),
        Cell::from(Span::styled("Test", t.header)),
        Cell::from(Span::styled("Detail", t.header)),
    ]);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(18),
        Constraint::Length(desc_w),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Min(0),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

/// What `R` would do here, or why it cannot: said before the key is pressed.
fn rollback_line(app: &App, w: usize) -> Line<'static> {
    let t = &app.theme;
    let key = app
        .settings
        .keymap
        .key_for(
            &[
                crate::keymap::KeyContext::Env,
                crate::keymap::KeyContext::Global,
            ],
            crate::action::Action::Rollback,
        )
        .map(|k| k.to_string())
        .unwrap_or_else(|| "rollback".into());
    let text = match app
        .snapshot()
        .ok_or_else(|| "no fleet data yet".to_owned())
        .and_then(|s| crate::service::rollback::environment_release(s).map_err(|e| e.to_string()))
    {
        Ok((from, to)) => Span::styled(
            fit(
                &format!("{key} rolls every Prod deployment back from environment {from} to {to}"),
                w,
            ),
            t.note,
        ),
        Err(why) => Span::styled(
            fit(&format!("{key} environment rollback: {why}"), w),
            t.muted,
        ),
    };
    Line::from(text)
}
