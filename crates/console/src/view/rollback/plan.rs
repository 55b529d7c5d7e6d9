//! The plan of a circuit rollback: from and to, the blast radius, the config diff between
//! the versions, the calls in order, warnings.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::decide::key;
use super::super::widgets::{self, block, fit, pad};
use crate::action::Action;
use crate::app::App;
use crate::domain::rollback::RollbackMethod;
use crate::flows::{CircuitRollback, RollbackFlow, RollbackStep};
use crate::keymap::KeyContext;
use crate::service::rollback::RollbackPlan;
use crate::theme::Theme;

fn v(x: Option<crate::domain::ModelVersion>) -> String {
    widgets::version(x)
}

/// What the confirmation confirms, as (text, style) to wrap.
pub(super) fn plan_summary(
    app: &App,
    flow: &RollbackFlow<CircuitRollback>,
) -> Vec<(String, ratatui::style::Style)> {
    let t = &app.theme;
    let Some(p) = flow.plan.value.as_deref() else {
        return Vec::new();
    };
    let how = match (&p.redeploy, p.method) {
        (Some(r), _) => format!("by redeploying {}", r.release_name),
        (None, RollbackMethod::Pipeline) => {
            "by queueing the rollback pipeline (after its own approval)".to_owned()
        }
        (None, _) => "by updating its Prod deployment".to_owned(),
    };
    let others = p.others().count();
    let mut out = vec![(
        format!(
            "This changes Prod now: {} {} → v{} {how}.",
            p.circuit,
            v(p.from),
            p.to
        ),
        t.text,
    )];
    if others > 0 {
        out.push((
            format!(
                "It also changes {} in Prod (the plan's blast radius).",
                widgets::plural(others, "other circuit")
            ),
            t.warn,
        ));
    }
    out.push((
        format!(
            "The {}-minute SLA clock starts when you press Enter.",
            p.sla_minutes
        ),
        t.muted,
    ));
    out
}

pub(super) fn plan_box(
    app: &App,
    flow: &RollbackFlow<CircuitRollback>,
    frame: &mut Frame,
    area: Rect,
) {
    let t = &app.theme;
    let title = match flow.plan.value.as_deref() {
        Some(p) => format!(" Plan: v{} → v{} ", v(p.from).trim_start_matches('v'), p.to),
        None => " Plan ".to_owned(),
    };
    let b = block(t, title, flow.step == RollbackStep::Plan);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let wide = w >= 110;
    let main_w = if wide { w * 3 / 5 } else { w };
    let (lines, blast) = match (&flow.plan.value, flow.plan.loading, &flow.plan.error) {
        (_, true, _) => (
            vec![Line::from(Span::styled(
                "⟳ planning: reading the configs of both versions…",
                t.note,
            ))],
            Vec::new(),
        ),
        (_, _, Some(e)) => (
            vec![
                Line::from(Span::styled(format!("✖ no plan: {e}"), t.error)),
                Line::from(Span::styled("Esc goes back to the targets", t.muted)),
            ],
            Vec::new(),
        ),
        (Some(p), _, _) => (
            plan_lines(app, p, main_w),
            blast_lines(app, p, if wide { w - main_w - 2 } else { w }),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let (lines, blast) = if wide {
        (lines, blast)
    } else {
        let mut all = lines;
        if !blast.is_empty() {
            all.push(Line::from(""));
            all.extend(blast);
        }
        (all, Vec::new())
    };
    let room = inner.height as usize;
    let footer = Line::from(Span::styled(
        fit(
            &format!(
                "{} continues to the typed confirmation · {} method · {}/{} scroll · Esc back",
                key(app, KeyContext::Rollback, Action::Accept),
                key(app, KeyContext::Rollback, Action::ToggleMethod),
                key(app, KeyContext::Rollback, Action::ScrollDown),
                key(app, KeyContext::Rollback, Action::ScrollUp),
            ),
            w,
        ),
        t.muted,
    ));
    let body_rows = room.saturating_sub(1);
    let longest = lines.len().max(blast.len());
    let skip = flow.scroll.min(longest.saturating_sub(body_rows));
    let page = |l: Vec<Line<'static>>| -> Vec<Line<'static>> {
        let mut shown: Vec<Line> = l.into_iter().skip(skip).take(body_rows).collect();
        while shown.len() < body_rows {
            shown.push(Line::from(""));
        }
        shown
    };
    let mut left = page(lines);
    left.push(footer);
    if wide {
        let [l, r] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Length(main_w as u16),
            ratatui::layout::Constraint::Min(0),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(left), l);
        let r = Rect::new(
            r.x + 2,
            r.y,
            r.width.saturating_sub(2),
            r.height.saturating_sub(1),
        );
        frame.render_widget(Paragraph::new(page(blast)), r);
    } else {
        frame.render_widget(Paragraph::new(left), inner);
    }
}

/// Every other circuit the plan changes, as many to a line as fit.
fn blast_lines(app: &App, p: &RollbackPlan, w: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let others: Vec<_> = p.others().collect();
    if others.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Line::from(vec![
        Span::styled("Blast radius ", t.header),
        Span::styled(
            format!("{} more in Prod, each from → to", others.len()),
            t.warn,
        ),
    ])];
    const CELL: usize = 27;
    let per_line = (w / CELL).max(1);
    for chunk in others.chunks(per_line) {
        let mut spans = Vec::new();
        for c in chunk {
            spans.push(Span::styled(format!("{} ", c.circuit), t.text));
            spans.push(Span::styled(
                pad(&format!("{}→v{}", v(c.from), c.to), CELL - 20),
                t.stage_prod,
            ));
        }
        out.push(Line::from(spans));
    }
    out
}

/// Everything the plan says, as lines.
pub fn plan_lines(app: &App, p: &RollbackPlan, w: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let label = |s: &str| Span::styled(pad(s, 13), t.header);
    let mut out = Vec::new();
    let target_note = if p.target.healthy() {
        Span::styled("  last known good", t.ok)
    } else {
        Span::styled(format!("  ▲ {}", p.target.concerns().join("; ")), t.warn)
    };
    out.push(Line::from(vec![
        label("Model"),
        Span::styled(format!("{} → v{}", v(p.from), p.to), t.stage_prod),
        target_note,
    ]));
    let env = match (&p.from_environment, &p.to_environment) {
        (Some(a), Some(b)) if a == b => Span::styled(format!("{a} (unchanged)"), t.text),
        (a, b) => Span::styled(
            format!(
                "{} → {}",
                a.as_deref().unwrap_or("?"),
                b.as_deref().unwrap_or("?")
            ),
            t.warn,
        ),
    };
    out.push(Line::from(vec![label("Environment"), env]));
    let method = match (&p.redeploy, p.method) {
        (Some(r), _) => format!(
            "redeploy {} (its Production environment {})",
            r.release_name, r.environment_id
        ),
        (None, RollbackMethod::Pipeline) => {
            format!("rollback pipeline for {} to v{}", p.circuit, p.to.0)
        }
        (None, _) => format!("direct: PUT {}/{}", p.endpoint, p.deployment),
    };
    out.push(Line::from(vec![
        label("Method"),
        Span::styled(fit(&method, w.saturating_sub(13)), t.text),
    ]));
    out.push(Line::from(vec![
        label("SLA"),
        Span::styled(
            format!(
                "{} minutes from the request to a verified restore",
                p.sla_minutes
            ),
            t.text,
        ),
    ]));
    out.push(Line::from(""));
    let others = p.others().count();
    if others == 0 {
        out.push(Line::from(vec![
            Span::styled("Blast radius ", t.header),
            Span::styled(format!("only {}", p.circuit), t.ok),
        ]));
    } else {
        let back = p
            .others()
            .filter(|c| c.from.is_some_and(|f| f > c.to))
            .count();
        out.push(Line::from(vec![
            Span::styled("Blast radius ", t.header),
            Span::styled(
                fit(
                    &format!(
                        "▲ this redeploy also changes {} in Prod ({back} back, {} forward)",
                        widgets::plural(others, "other circuit"),
                        others - back
                    ),
                    w.saturating_sub(13),
                ),
                t.warn,
            ),
        ]));
        if p.method == RollbackMethod::Redeploy {
            out.push(Line::from(Span::styled(
                fit("             m switches to direct: this circuit only", w),
                t.muted,
            )));
        }
    }
    out.push(Line::from(""));
    config_lines(t, p, w, &mut out);
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Calls, in order", t.header)));
    for (i, c) in p.calls.iter().enumerate() {
        for (k, chunk) in widgets::wrap(c, w.saturating_sub(5))
            .into_iter()
            .enumerate()
        {
            let lead = if k == 0 {
                format!("  {}. ", i + 1)
            } else {
                "     ".to_owned()
            };
            out.push(Line::from(Span::styled(format!("{lead}{chunk}"), t.muted)));
        }
    }
    if !p.warnings.is_empty() {
        out.push(Line::from(""));
        for wn in &p.warnings {
            out.push(Line::from(Span::styled(fit(&format!("▲ {wn}"), w), t.warn)));
        }
    }
    out
}

fn config_lines(t: &Theme, p: &RollbackPlan, w: usize, out: &mut Vec<Line<'static>>) {
    let Some(cfg) = &p.config else {
        out.push(Line::from(Span::styled(
            "Config: Prod runs no version, nothing to compare",
            t.muted,
        )));
        return;
    };
    let head = format!("Config {} → {}", cfg.old.label(), cfg.new.label());
    let Some(sem) = &cfg.semantic else {
        let why = cfg
            .old
            .text
            .as_ref()
            .err()
            .or(cfg.new.text.as_ref().err())
            .cloned()
            .unwrap_or_else(|| "a config could not be parsed".into());
        out.push(Line::from(vec![
            Span::styled(format!("{head}  "), t.header),
            Span::styled(
                fit(&format!("? {why}"), w.saturating_sub(head.len() + 2)),
                t.unknown,
            ),
        ]));
        return;
    };
    let summary = if sem.changes.is_empty() {
        Span::styled("no config changes", t.ok)
    } else {
        Span::styled(
            format!(
                "{}{}",
                widgets::plural(sem.changes.len(), "key"),
                if sem.retrain_required {
                    " · in the training hash"
                } else {
                    ""
                }
            ),
            t.text,
        )
    };
    out.push(Line::from(vec![
        Span::styled(format!("{head}  "), t.header),
        summary,
    ]));
    const SHOWN: usize = 8;
    for c in sem.changes.iter().take(SHOWN) {
        let (mark, style, value) = super::super::circuit::diff::change_parts(c, t);
        out.push(Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::styled(format!("{} ", c.path), t.text),
            Span::styled(fit(&value, w.saturating_sub(c.path.len() + 6)), t.muted),
        ]));
    }
    if sem.changes.len() > SHOWN {
        out.push(Line::from(Span::styled(
            format!(
                "  and {} more (the circuit's Config diff tab)",
                sem.changes.len() - SHOWN
            ),
            t.muted,
        )));
    }
}
