//! The rollback screens: the target list (every version that ran in Prod, healthy or why not,
//! last known good marked and chosen), the plan (model and environment from and to, the
//! config diff between them, the blast radius, the calls, warnings), and the typed
//! confirmation over it. The environment rollback shows its plan and confirmation the same way.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::decide::key;
use super::widgets::{self, block, fit, pad, symbol};
use crate::domain::Status;
use crate::domain::diff::ChangeKind;
use crate::service::rollback::RollbackPlan;
use crate::settings::RollbackMethod;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Context;
use crate::tui::layout;
use crate::tui::theme::Theme;
use crate::tui::update::rollback::expected;
use crate::tui::write::{Confirmation, Field, RollbackFlow, RollbackStep};

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

fn method_words(flow: &RollbackFlow) -> String {
    let release = flow
        .chosen()
        .map(|e| e.release_name.clone())
        .unwrap_or_else(|| "the target's release".into());
    match flow.method {
        RollbackMethod::Redeploy => {
            format!("redeploy · re-runs {release}'s Production stage: every circuit it carries")
        }
        RollbackMethod::Direct => {
            "direct · points this circuit's Prod deployment at the target: this circuit only"
                .to_owned()
        }
    }
}

fn header(app: &App, flow: &RollbackFlow, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let b = block(
        t,
        steps_title(t, &flow.circuit.to_string(), flow.step, false),
        false,
    )
    .border_style(t.stage_prod);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let c = app.data.circuit(&flow.circuit);
    let mut now = vec![Span::styled("Now in ", t.muted), widgets::prod_badge(t)];
    let current = flow.history.iter().find(|e| e.current);
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
    let k = key(app, Context::Rollback, Action::ToggleMethod);
    lines.push(Line::from(vec![
        Span::styled("Method ", t.header),
        Span::styled(format!("[{k}] "), t.bar_key),
        Span::styled(fit(&method_words(flow), w.saturating_sub(11)), t.text),
    ]));
    if !app.policy.check_mutation().allowed() {
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
pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let Some(flow) = &app.rollback else { return };
    let (head, content) = layout::rollback(body);
    header(app, flow, frame, head);
    match flow.step {
        RollbackStep::Target => targets(app, flow, frame, content),
        RollbackStep::Plan | RollbackStep::Confirm => {
            plan_box(app, flow, frame, content);
            if flow.step == RollbackStep::Confirm {
                let lines = plan_summary(app, flow);
                confirm_box(app, &flow.confirm, false, lines, frame, body);
            }
        }
    }
}

fn targets(app: &App, flow: &RollbackFlow, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let b = block(t, " Versions that ran in Prod, newest first ", true);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        pad(
            &format!(
                "  {} {} {} {} {} Rollback target?",
                pad("Version", 8),
                pad("Release", 12),
                pad("Age", 5),
                pad("Deploy", 7),
                pad("Tests", 7)
            ),
            w,
        ),
        t.header,
    ))];
    let page = inner.height.saturating_sub(1) as usize;
    let c = flow.cursor;
    for (i, e) in flow.history.iter().enumerate().skip(c.offset).take(page) {
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
        let line = Line::from(vec![
            Span::styled(marker, t.title),
            Span::styled(
                pad(
                    &format!("v{}{}", e.version, if e.current { " now" } else { "" }),
                    9,
                ),
                vstyle,
            ),
            Span::styled(pad(&e.release_name, 13), t.text),
            Span::styled(pad(&widgets::age_since(app.now, e.deployed_at), 6), t.muted),
            Span::styled(pad(deploy, 8), t.status(ds)),
            Span::styled(pad(tests.0, 8), t.status(tests.1)),
            Span::styled(
                fit(&format!("{verdict}{previous}"), w.saturating_sub(46)),
                if e.current { t.muted } else { t.status(vs) },
            ),
        ]);
        lines.push(line.style(widgets::selected_style(t, sel, true)));
    }
    let footer = match flow.chosen() {
        Some(e) => format!(
            "{} plans the rollback to v{} · {} method · Esc cancels",
            key(app, Context::Rollback, Action::Accept),
            e.version,
            key(app, Context::Rollback, Action::ToggleMethod)
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

fn v(x: Option<crate::domain::ModelVersion>) -> String {
    widgets::version(x)
}

/// What the confirmation confirms, as (text, style) to wrap.
fn plan_summary(app: &App, flow: &RollbackFlow) -> Vec<(String, ratatui::style::Style)> {
    let t = &app.theme;
    let Some(p) = flow.plan.value.as_deref() else {
        return Vec::new();
    };
    let how = match &p.redeploy {
        Some(r) => format!("by redeploying {}", r.release_name),
        None => "by updating its Prod deployment".to_owned(),
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

fn plan_box(app: &App, flow: &RollbackFlow, frame: &mut Frame, area: Rect) {
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
                key(app, Context::Rollback, Action::Accept),
                key(app, Context::Rollback, Action::ToggleMethod),
                key(app, Context::Rollback, Action::ScrollDown),
                key(app, Context::Rollback, Action::ScrollUp),
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
    let method = match &p.redeploy {
        Some(r) => format!(
            "redeploy {} (its Production environment {})",
            r.release_name, r.environment_id
        ),
        None => format!("direct: PUT {}/{}", p.endpoint, p.deployment),
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
        let (mark, style) = match c.kind {
            ChangeKind::Added => ("+", t.diff_add),
            ChangeKind::Removed => ("-", t.diff_remove),
            ChangeKind::Changed => ("~", t.warn),
        };
        let value = match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!("{o} → {n}"),
            (None, Some(n)) => format!("added: {n}"),
            (Some(o), None) => format!("removed (was {o})"),
            (None, None) => String::new(),
        };
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

/// The typed confirmation over the plan.
pub fn confirm_box(
    app: &App,
    c: &Confirmation,
    env: bool,
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
    let lines = confirm_lines(app, c, env, lines, w);
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
    env: bool,
    mut lines: Vec<Line<'static>>,
    w: usize,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let want = expected(app, env).unwrap_or_default();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("Type ", t.text),
        Span::styled(want.clone(), t.title),
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
            Span::styled(key(app, Context::Confirm, Action::Accept), t.bar_key),
            Span::styled(" rolls back · ", t.text),
            Span::styled(key(app, Context::Confirm, Action::NextField), t.bar_key),
            Span::styled(" reason · ", t.text),
            Span::styled(key(app, Context::Confirm, Action::Back), t.bar_key),
            Span::styled(" back to the plan, nothing is sent", t.text),
        ]));
    }
    lines
}

/// The environment rollback: its plan, and the confirmation over it.
pub fn render_env(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(flow) = &app.env_rollback else {
        return;
    };
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
    if !app.policy.check_mutation().allowed() {
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
                key(app, Context::Rollback, Action::Accept)
            ),
            w,
        ),
        t.muted,
    )));
    frame.render_widget(Paragraph::new(shown), inner);
    if flow.step == RollbackStep::Confirm {
        confirm_box(app, &flow.confirm, true, summary, frame, body);
    }
}
