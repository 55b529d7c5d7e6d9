//! The circuit view: a header that always shows the versions per stage (Prod as the badge) and
//! what is happening, the tab bar, the tab's content, and the version picker popup.

pub(super) mod diff;
mod drift;
mod history;
mod jobs;
mod overview;
mod tests;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::table::Columns;
use super::widgets::{self, block, fit, pad, symbol};
use crate::app::{App, CircuitView, Tab};
use crate::domain::Stage;
use crate::domain::fleet::CircuitSnapshot;
use crate::index::Activity;
use crate::layout;

pub fn render(app: &App, v: &CircuitView, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(c) = app.data.circuit(&v.circuit) else {
        frame.render_widget(block(t, format!(" {} ", v.circuit), true), body);
        super::empty_state(
            app,
            frame,
            body,
            vec![
                Line::from(format!("{} is not in the current snapshot", v.circuit)),
                Line::from("Esc goes back"),
            ],
        );
        return;
    };
    let (head, tabs, content) = layout::circuit(body);
    header(app, v, c, frame, head);
    tab_bar(app, v, frame, tabs);
    let title = format!(" {} ", v.tab.title());
    let b = block(t, title, v.picker.is_none());
    let inner = b.inner(content);
    frame.render_widget(b, content);
    let lines = match v.tab {
        Tab::Overview => overview::lines(app, v, c, inner.width),
        Tab::Diff => diff::lines(app, v, inner.width),
        Tab::Drift => {
            drift::render(app, v, c, frame, inner);
            return picker(app, v, frame, body);
        }
        Tab::Tests => tests::lines(app, c, inner.width),
        Tab::History => history::lines(app, v, c, inner.width),
        Tab::Jobs => jobs::lines(app, v, c, inner.width),
    };
    // Scroll within the text; the bottom stops at the last line.
    let max = lines.len().saturating_sub(inner.height as usize);
    let from = v.scroll.min(max);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(from)
        .take(inner.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
    picker(app, v, frame, body);
}

/// How far the current tab's text can scroll (the drift tab scrolls its table instead).
pub fn scroll_limit(app: &App, v: &CircuitView) -> usize {
    let Some(c) = app.data.circuit(&v.circuit) else {
        return 0;
    };
    let s = layout::screen(layout::area(app.size));
    let (_, _, content) = layout::circuit(s.body);
    let inner = layout::inner(content);
    let n = match v.tab {
        Tab::Overview => overview::lines(app, v, c, inner.width).len(),
        Tab::Diff => diff::lines(app, v, inner.width).len(),
        Tab::Drift => 0,
        Tab::Tests => tests::lines(app, c, inner.width).len(),
        Tab::History => history::lines(app, v, c, inner.width).len(),
        Tab::Jobs => jobs::lines(app, v, c, inner.width).len(),
    };
    n.saturating_sub(inner.height as usize)
}

fn header(app: &App, v: &CircuitView, c: &CircuitSnapshot, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let health = c.health();
    let plant = app
        .snapshot()
        .and_then(|s| s.plants.iter().find(|p| p.plant_id == c.circuit.plant))
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let b = block(
        t,
        Line::from(vec![
            Span::raw(" "),
            Span::styled(symbol(health), t.status(health)),
            Span::styled(format!(" {} ", c.circuit), t.title),
        ]),
        false,
    );
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(fit(&c.description, w / 2), t.text),
        Span::styled(
            fit(&format!("  ·  {plant}  ·  {}", c.model_name), w / 2),
            t.muted,
        ),
    ])];
    let mut stages = Vec::new();
    for s in Stage::ALL {
        if !stages.is_empty() {
            stages.push(Span::styled(" → ", t.muted));
        }
        stages.push(widgets::stage_label(t, s));
        stages.push(Span::raw(" "));
        stages.push(widgets::stage_version(t, s, c.versions.get(s)));
    }
    let env = match (&c.environment.test, &c.environment.prod) {
        (Some(a), Some(b)) if a != b => format!("    env Test {a} · Prod {b}"),
        (_, Some(b)) => format!("    env {b}"),
        _ => "    env unknown".into(),
    };
    stages.push(Span::styled(env, t.muted));
    lines.push(Line::from(stages));
    let row = app
        .data
        .index
        .position(&c.circuit)
        .and_then(|p| app.data.index.rows.get(p as usize));
    let mut status = Vec::new();
    match row.and_then(|r| r.activity.as_ref()) {
        Some(a @ Activity::RollingBack { .. }) => {
            status.push(Span::styled(format!("⟲ {}", a.describe()), t.alert));
            status.push(Span::styled("   ", t.muted));
        }
        Some(Activity::Deploying { release, stage }) => {
            status.push(Span::styled(format!("⇡ deploying {release} to "), t.note));
            status.push(widgets::stage_label(t, *stage));
            status.push(Span::styled("   ", t.muted));
        }
        None => {}
    }
    let part = |label: &str, s: crate::domain::Status| {
        vec![
            Span::styled(format!("{label} "), t.muted),
            Span::styled(symbol(s), t.status(s)),
            Span::raw("  "),
        ]
    };
    status.extend(part("alerts", c.alerts.status()));
    if let Some(s) = c.jobs.status {
        status.extend(part("jobs", s));
    }
    status.extend(part("drift", c.drift.status));
    status.extend(part("accuracy", c.accuracy.status));
    status.extend(part("lineage", c.lineage.status()));
    status.extend(part("tests", c.validation.status));
    if c.pending_approvals > 0 {
        status.push(Span::styled(
            format!(
                "{} pending",
                widgets::plural(c.pending_approvals as usize, "approval")
            ),
            t.note,
        ));
    }
    lines.push(Line::from(status));
    // Which signals make it what it is, in words.
    if inner.height > 4 {
        let why = c.why();
        if !why.is_empty() {
            let text = why
                .iter()
                .map(|s| format!("{}: {}", s.name, s.detail))
                .collect::<Vec<_>>()
                .join(" · ");
            lines.push(Line::from(vec![
                Span::styled(format!("{} because ", symbol(health)), t.status(health)),
                Span::styled(fit(&text, w.saturating_sub(10)), t.text),
            ]));
        } else {
            lines.push(Line::from(Span::styled("✓ every signal is healthy", t.ok)));
        }
    }
    if inner.height > 3 {
        let extra = if !c.unknown.is_empty() {
            Line::from(Span::styled(
                fit(&format!("could not read: {}", c.unknown.join("; ")), w),
                t.unknown,
            ))
        } else if let Some(e) = &v.evidence.error {
            Line::from(Span::styled(fit(&format!("evidence: {e}"), w), t.error))
        } else {
            actions_line(app, v, c, w)
        };
        lines.push(extra);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// What `a` and `R` would do here, or why not: said before the key is pressed.
fn actions_line(app: &App, v: &CircuitView, c: &CircuitSnapshot, w: usize) -> Line<'static> {
    use crate::action::Action;
    use crate::keymap::KeyContext;
    let t = &app.theme;
    let key = |a: Action| {
        app.settings
            .keymap
            .key_for(&[KeyContext::Circuit, KeyContext::Global], a)
            .map(|k| k.to_string())
            .unwrap_or_else(|| a.name().to_owned())
    };
    let mut spans = Vec::new();
    let pending = v.actions.pending.clone();
    if let Some((release, stage, verdict, n)) = pending {
        let words = match verdict {
            crate::domain::Status::Ok => "you can approve",
            crate::domain::Status::Warn => "only with a break-glass override",
            crate::domain::Status::Alert => "you may not approve",
            crate::domain::Status::Unknown => "identity unknown",
        };
        spans.push(Span::styled(
            format!("{} ", key(Action::Approve)),
            t.bar_key,
        ));
        spans.push(Span::styled(format!("{release} → "), t.muted));
        spans.push(widgets::stage_label(t, stage));
        spans.push(Span::styled(
            format!(" {} {words}", symbol(verdict)),
            t.status(verdict),
        ));
        if n > 1 {
            spans.push(Span::styled(format!(" (+{} more)", n - 1), t.muted));
        }
        spans.push(Span::styled("   ", t.muted));
    }
    spans.push(Span::styled(
        format!("{} ", key(Action::Rollback)),
        t.bar_key,
    ));
    match crate::model::availability(app, &c.circuit, v.actions.target.as_ref()) {
        Ok(what) => spans.push(Span::styled(format!("rollback {what}"), t.muted)),
        Err(why) => spans.push(Span::styled(format!("rollback: {why}"), t.warn)),
    }
    let used: usize = spans
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
        .sum();
    if used > w {
        // Too long: the last part is cut.
        if let Some(last) = spans.pop() {
            let room = w.saturating_sub(
                used - unicode_width::UnicodeWidthStr::width(last.content.as_ref()),
            );
            spans.push(Span::styled(fit(&last.content, room), last.style));
        }
    }
    Line::from(spans)
}

fn tab_bar(app: &App, v: &CircuitView, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::raw(" ")];
    for tab in Tab::ALL {
        let style = if tab == v.tab { t.tab_active } else { t.tab };
        spans.push(Span::styled(format!(" {} ", tab.title()), style));
        spans.push(Span::raw(" "));
    }
    if v.evidence.loading {
        spans.push(Span::styled(" ⟳ loading evidence", t.note));
    } else if v.jobs.loading {
        spans.push(Span::styled(" ⟳ loading scoring jobs", t.note));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The version picker: choose the old version, then the new one.
fn picker(app: &App, v: &CircuitView, frame: &mut Frame, body: Rect) {
    let Some(p) = &v.picker else { return };
    let Some(ev) = v.evidence.value.as_ref() else {
        return;
    };
    let t = &app.theme;
    let area = layout::picker(body);
    frame.render_widget(Clear, area);
    let title = match p.old {
        None => " Compare: choose the OLD version ".to_owned(),
        Some(o) => format!(" Compare v{o} with: choose the NEW version "),
    };
    let b = block(t, title, true);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let cols = Columns::new(0, w)
        .col("Version", 8)
        .col("Running in", 14)
        .col("Release", 12)
        .col("Commit", 9)
        .col_right("Created", 7);
    let mut lines = vec![cols.header(t, "")];
    let page = layout::table_rows(area);
    let c = p.cursor;
    for (i, info) in crate::view::table::window(&ev.versions, c, page) {
        let stages: Vec<String> = info.deployed_in.iter().map(|s| s.to_string()).collect();
        let running = if stages.is_empty() {
            if info.in_registry {
                "registry".to_owned()
            } else {
                "Dev only".to_owned()
            }
        } else {
            stages.join(" ")
        };
        let release = info
            .release
            .as_ref()
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "—".into());
        let commit = info
            .git_commit
            .as_deref()
            .map(widgets::short)
            .unwrap_or("no commit");
        let created = widgets::age_since(app.now, info.created_at);
        let mark = if p.old == Some(info.version) {
            "old "
        } else {
            ""
        };
        let style = if info.deployed_in.contains(&Stage::Prod) {
            t.stage_prod
        } else {
            t.text
        };
        let style = if i == c.selected {
            style.patch(t.selection)
        } else {
            style
        };
        let mut spans = cols.cells(
            [
                format!("v{}", info.version),
                running,
                release,
                commit.to_owned(),
                created,
            ]
            .map(|text| (text, style)),
        );
        spans.push(Span::styled(pad(mark, cols.rest()), style));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
