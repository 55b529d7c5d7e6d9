//! The rollback screens: the target list (every version that ran in Prod, healthy or why not,
//! last known good marked and chosen), the plan (model and environment from and to, the
//! config diff between them, the blast radius, the calls, warnings), and the typed
//! confirmation over it (`plan.rs`, `confirm.rs`). The environment rollback shows its plan and
//! confirmation the same way.

mod confirm;
mod plan;

use confirm::confirm_box;
use plan::{plan_box, plan_summary};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::decide::key;
use super::table::{self, Columns};
use super::widgets::{self, block, fit, pad, symbol};
use crate::action::Action;
use crate::app::App;
use crate::domain::Status;
use crate::domain::rollback::RollbackMethod;
use crate::flows::{CircuitRollback, EnvironmentRollback, RollbackFlow, RollbackStep};
use crate::keymap::KeyContext;
use crate::layout;
use crate::theme::Theme;

fn steps_title(t: &Theme, what: &str, step: RollbackStep, env: bool) -> Line<'static> {
    let names: &[(RollbackStep, &str)] = if env {
        &[
            (RollbackStep::Plan, "plan"),
            (RollbackStep::Confirm, "confirm"),
        ]
    } else {
        &[
            (RollbackStep::Target, "target"),
            (RollbackStep::Plan, "plan"),
            (RollbackStep::Confirm, "confirm"),
        ]
    };
    let mut spans = vec![
        Span::styled(format!(" Roll back {what} in "), t.title),
        widgets::prod_badge(t),
        Span::styled(" · ", t.title),
    ];
    for (i, (s, n)) in names.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", t.muted));
        }
        let style = if *s == step { t.tab_active } else { t.tab };
        spans.push(Span::styled(format!("{} {n}", i + 1), style));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn method_words(target: &CircuitRollback) -> String {
    let release = target
        .chosen()
        .map(|e| e.release_name.clone())
        .unwrap_or_else(|| "the target's release".into());
    match target.method {
        RollbackMethod::Redeploy => {
            format!("redeploy · re-runs {release}'s Production stage: every circuit it carries")
        }
        RollbackMethod::Direct => {
            "direct · points this circuit's Prod deployment at the target: this circuit only"
                .to_owned()
        }
        RollbackMethod::Pipeline => {
            "pipeline · queues the rollback pipeline for this circuit (its own approval first): this circuit only"
                .to_owned()
        }
    }
}

fn header(app: &App, flow: &RollbackFlow<CircuitRollback>, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let b = block(
        t,
        steps_title(t, &flow.scope.circuit.to_string(), flow.step, false),
        false,
    )
    .border_style(t.stage_prod);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let c = app.data.circuit(&flow.scope.circuit);
    let mut now = vec![Span::styled("Now in ", t.muted), widgets::prod_badge(t)];
    let current = flow.scope.history.iter().find(|e| e.current);
    now.push(Span::styled(
        format!(" {}", widgets::version(c.and_then(|c| c.versions.prod))),
        t.stage_prod,
    ));
    if let Some(e) = current {
        now.push(Span::styled(
            format!(
                " · {} · deployed {} ago",
                e.release_name,
                widgets::age_since(app.now, e.deployed_at)
            ),
            t.muted,
        ));
    }
    if let Some(c) = c {
        let health = c.health();
        now.push(Span::styled("   health ", t.muted));
        now.push(Span::styled(
            format!("{} {}", symbol(health), health.as_str()),
            t.status(health),
        ));
        if let Some(mae) = c.accuracy.latest {
            now.push(Span::styled(
                format!(" · MAE {mae:.2}"),
                t.status(c.accuracy.status),
            ));
        }
    }
    let mut lines = vec![Line::from(now)];
    let k = key(app, KeyContext::Rollback, Action::ToggleMethod);
    lines.push(Line::from(vec![
        Span::styled("Method ", t.header),
        Span::styled(format!("[{k}] "), t.bar_key),
        Span::styled(
            fit(&method_words(&flow.scope), w.saturating_sub(11)),
            t.text,
        ),
    ]));
    if !app.settings.policy.check_mutation().allowed() {
        lines.push(Line::from(Span::styled(
            fit(
                "READ-ONLY: the plan can be read; nothing can be sent from this console",
                w,
            ),
            t.read_only,
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A circuit's rollback: header, then the step's content.
pub fn render(app: &App, flow: &RollbackFlow<CircuitRollback>, frame: &mut Frame, body: Rect) {
    let (head, content) = layout::rollback(body);
    header(app, flow, frame, head);
    match flow.step {
        RollbackStep::Target => targets(app, &flow.scope, frame, content),
        RollbackStep::Plan | RollbackStep::Confirm => {
            plan_box(app, flow, frame, content);
            if flow.step == RollbackStep::Confirm {
                let lines = plan_summary(app, flow);
                confirm_box(app, flow, lines, frame, body);
            }
        }
    }
}

fn targets(app: &App, flow: &CircuitRollback, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let b = block(t, " Versions that ran in Prod, newest first ", true);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let cols = Columns::new(2, w)
        .col("Version", 8)
        .col("Release", 12)
        .col("Age", 5)
        .col("Deploy", 7)
        .col("Tests", 7);
    let mut lines = vec![cols.header(t, "Rollback target?")];
    let page = inner.height.saturating_sub(1) as usize;
    let c = flow.cursor;
    for (i, e) in table::window(&flow.history, c, page) {
        let sel = i == c.selected;
        let (deploy, ds) = if e.deployed_ok {
            ("✓ ok", Status::Ok)
        } else {
            ("✖ fail", Status::Alert)
        };
        let tests = match e.validation {
            Status::Ok => ("✓ pass", Status::Ok),
            Status::Unknown => ("? none", Status::Unknown),
            _ => ("✖ fail", Status::Alert),
        };
        let (verdict, vs) = if e.current {
            ("running now".to_owned(), Status::Unknown)
        } else if Some(e.version) == flow.last_good {
            ("★ last known good".to_owned(), Status::Ok)
        } else if e.healthy() {
            ("✓ healthy".to_owned(), Status::Ok)
        } else {
            (format!("▲ {}", e.concerns().join("; ")), Status::Warn)
        };
        let previous = if Some(e.version) == flow.previous && !e.current {
            " · previous"
        } else {
            ""
        };
        let marker = if sel { "▶ " } else { "  " };
        let vstyle = if e.current { t.stage_prod } else { t.text };
        let mut spans = vec![Span::styled(marker, t.title)];
        spans.extend(cols.cells([
            (
                format!("v{}{}", e.version, if e.current { " now" } else { "" }),
                vstyle,
            ),
            (e.release_name.clone(), t.text),
            (widgets::age_since(app.now, e.deployed_at), t.muted),
            (deploy.to_owned(), t.status(ds)),
            (tests.0.to_owned(), t.status(tests.1)),
        ]));
        spans.push(Span::styled(
            fit(&format!("{verdict}{previous}"), cols.rest()),
            if e.current { t.muted } else { t.status(vs) },
        ));
        lines.push(table::row_line(t, spans, c, i, true));
    }
    let footer = match flow.chosen() {
        Some(e) => format!(
            "{} plans the rollback to v{} · {} method · Esc cancels",
            key(app, KeyContext::Rollback, Action::Accept),
            e.version,
            key(app, KeyContext::Rollback, Action::ToggleMethod)
        ),
        None => "choose a version other than the one running now".into(),
    };
    let room = inner.height as usize;
    while lines.len() + 2 < room {
        lines.push(Line::from(""));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(fit(&footer, w), t.muted)));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The environment rollback: its plan, and the confirmation over it.
pub fn render_env(
    app: &App,
    flow: &RollbackFlow<EnvironmentRollback>,
    frame: &mut Frame,
    body: Rect,
) {
    let t = &app.theme;
    let (head, content) = layout::rollback(body);
    let b = block(t, steps_title(t, "the environment", flow.step, true), false)
        .border_style(t.stage_prod);
    let inner = b.inner(head);
    frame.render_widget(b, head);
    let mut hl: Vec<Line> = widgets::wrap(
        "Every Prod deployment goes back to the environment version it ran before the last \
         environment-only release.",
        inner.width as usize,
    )
    .into_iter()
    .take(2)
    .map(|l| Line::from(Span::styled(l, t.text)))
    .collect();
    if !app.settings.policy.check_mutation().allowed() {
        hl.push(Line::from(Span::styled(
            "READ-ONLY: the plan can be read; nothing can be sent from this console",
            t.read_only,
        )));
    }
    frame.render_widget(Paragraph::new(hl), inner);
    let b = block(t, " Plan ", flow.step == RollbackStep::Plan);
    let inner = b.inner(content);
    frame.render_widget(b, content);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut summary = Vec::new();
    match (&flow.plan.value, flow.plan.loading, &flow.plan.error) {
        (_, true, _) => lines.push(Line::from(Span::styled("⟳ planning…", t.note))),
        (_, _, Some(e)) => lines.push(Line::from(Span::styled(format!("✖ no plan: {e}"), t.error))),
        (Some(p), _, _) => {
            lines.push(Line::from(vec![
                Span::styled(pad("Environment", 13), t.header),
                Span::styled(format!("{} → {}", p.from, p.to), t.stage_prod),
                Span::styled(
                    format!(
                        "   {} · SLA {} minutes",
                        widgets::plural(p.steps.len(), "Prod deployment"),
                        p.sla_minutes
                    ),
                    t.muted,
                ),
            ]));
            lines.push(Line::from(Span::styled("Calls", t.header)));
            for c in &p.calls {
                lines.push(Line::from(Span::styled(fit(&format!("  {c}"), w), t.muted)));
            }
            lines.push(Line::from(Span::styled(
                format!("Deployments ({}), each from → to", p.steps.len()),
                t.header,
            )));
            // As many to a line as fit: 130 deployments read at a glance.
            const CELL: usize = 36;
            for chunk in p.steps.chunks((w.saturating_sub(2) / CELL).max(1)) {
                let mut spans = vec![Span::raw("  ")];
                for s in chunk {
                    spans.push(Span::styled(format!("{} ", s.circuit), t.text));
                    spans.push(Span::styled(
                        pad(
                            &format!("{} → {}", s.from.as_deref().unwrap_or("?"), s.to),
                            CELL - 19,
                        ),
                        t.stage_prod,
                    ));
                }
                lines.push(Line::from(spans));
            }
            summary.push((
                format!(
                    "This changes Prod now: {} go back to environment {}.",
                    widgets::plural(p.steps.len(), "deployment"),
                    p.to
                ),
                t.text,
            ));
            summary.push((
                format!(
                    "The {}-minute SLA clock starts when you press Enter.",
                    p.sla_minutes
                ),
                t.muted,
            ));
        }
        _ => {}
    }
    let rows = inner.height as usize;
    let skip = flow
        .scroll
        .min(lines.len().saturating_sub(rows.saturating_sub(1)));
    let mut shown: Vec<Line> = lines
        .into_iter()
        .skip(skip)
        .take(rows.saturating_sub(1))
        .collect();
    while shown.len() + 1 < rows {
        shown.push(Line::from(""));
    }
    shown.push(Line::from(Span::styled(
        fit(
            &format!(
                "{} continues to the typed confirmation · j/k scroll · Esc cancels",
                key(app, KeyContext::Rollback, Action::Accept)
            ),
            w,
        ),
        t.muted,
    )));
    frame.render_widget(Paragraph::new(shown), inner);
    if flow.step == RollbackStep::Confirm {
        confirm_box(app, flow, summary, frame, body);
    }
}
