//! Approvals: pending stages grouped by release (requester, age, approvers so far and needed,
//! what policy would let you do), and the selected item's evidence: policy verdicts with their
//! reasons, the test gate, config changes grouped across circuits, and every circuit's line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::table::Columns;
use super::widgets::{self, block, fit, pad, symbol};
use crate::app::{App, ApprovalLine};
use crate::approvals_model::ApprovalRow;
use crate::domain::fleet::ApprovalItem;
use crate::domain::policy::PolicyCheck;
use crate::domain::{Stage, Status};
use crate::layout;
use crate::theme::Theme;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(snap) = app.snapshot() else {
        frame.render_widget(block(t, " Approvals ", true), body);
        super::no_data(app, frame, body);
        return;
    };
    if app.approvals.rows.is_empty() {
        frame.render_widget(block(t, " Approvals ", true), body);
        super::empty_state(
            app,
            frame,
            body,
            vec![Line::from("Nothing is waiting for approval.")],
        );
        return;
    }
    let (left, right) = layout::approvals(body);
    let focus_list = !app.approvals.evidence_focus;
    let marks = app.approvals.marks.len();
    let b = block(
        t,
        if marks > 0 {
            format!(" Pending · {} · {marks} marked ", app.approvals.rows.len())
        } else {
            format!(" Pending approvals · {} ", app.approvals.rows.len())
        },
        focus_list,
    );
    let inner = b.inner(left);
    frame.render_widget(b, left);
    let w = inner.width as usize;
    let c = app.approvals.cursor;
    let mut lines = Vec::new();
    for (i, line) in super::table::window(&app.approvals.lines, c, inner.height as usize) {
        match line {
            ApprovalLine::Release(r) => {
                let Some(item) = app.approvals.rows[*r].item(snap) else {
                    continue;
                };
                lines.push(release_line(app, item, w));
            }
            ApprovalLine::Item(r) => {
                let row = &app.approvals.rows[*r];
                let Some(item) = row.item(snap) else { continue };
                let sel = i == c.selected;
                let marked = app.approvals.marks.contains(&row.key);
                lines.push(item_line(t, row, item, w, (sel, focus_list, marked)));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
    evidence(app, frame, right);
}

fn release_line(app: &App, item: &ApprovalItem, w: usize) -> Line<'static> {
    let t = &app.theme;
    let age = widgets::age_since(app.now, item.requested_at);
    let mut spans = vec![Span::styled(item.release_name.clone(), t.title)];
    if let (Some(to), Some(from)) = (&item.environment_only, &item.previous_environment) {
        spans.push(Span::styled(format!(" ENV {from}→{to}"), t.note));
    }
    let rest = format!(" · {} · {age}", item.requested_by.name());
    let used: usize = spans
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
        .sum();
    spans.push(Span::styled(fit(&rest, w.saturating_sub(used)), t.muted));
    Line::from(spans)
}

/// One pending stage: marked for a bulk decision (`●`), what policy lets you do, the stage,
/// approvals so far and needed, circuits.
fn item_line(
    t: &Theme,
    row: &ApprovalRow,
    item: &ApprovalItem,
    w: usize,
    (selected, focused, marked): (bool, bool, bool),
) -> Line<'static> {
    let verdict = row.verdict();
    let stage = widgets::stage_label(t, item.stage);
    let stage_w = if item.stage == Stage::Prod {
        6
    } else {
        item.stage.to_string().len()
    };
    let words = match verdict {
        Status::Ok => "you can approve",
        Status::Warn => "override needed",
        Status::Alert => "you may not approve",
        Status::Unknown => "identity unknown",
    };
    let room = w.saturating_sub(5 + stage_w);
    let mut detail = format!(
        " {}/{} · {}",
        item.approved.len(),
        row.required,
        widgets::plural(item.models.len(), "circuit"),
    );
    // The words only when they fit: the symbol says the same.
    if detail.len() + 3 + words.len() <= room {
        detail.push_str(&format!(" · {words}"));
    }
    Line::from(vec![
        if marked {
            Span::styled("● ", t.title)
        } else {
            Span::raw("  ")
        },
        Span::styled(symbol(verdict), t.status(verdict)),
        Span::raw(" "),
        stage,
        Span::styled(pad(&detail, room + 1), t.text),
    ])
    .style(widgets::selected_style(t, selected, focused))
}

fn check_lines(
    t: &Theme,
    what: &str,
    check: &PolicyCheck,
    allowed_note: &str,
    w: usize,
    out: &mut Vec<Line<'static>>,
) {
    if check.allowed() {
        out.push(Line::from(vec![
            Span::styled(format!("{what}: "), t.header),
            Span::styled(format!("✓ you can {}", what.to_lowercase()), t.ok),
        ]));
        for chunk in widgets::wrap(allowed_note, w.saturating_sub(4)) {
            out.push(Line::from(Span::styled(format!("    {chunk}"), t.muted)));
        }
        return;
    }
    let head = if check.needs_override() {
        Span::styled(
            "▲ only with a break-glass override (a reason is recorded)",
            t.warn,
        )
    } else {
        Span::styled("✖ refused", t.alert)
    };
    out.push(Line::from(vec![
        Span::styled(format!("{what}: "), t.header),
        head,
    ]));
    for r in &check.refusals {
        let style = if r.overridable() { t.warn } else { t.alert };
        for (k, chunk) in widgets::wrap(&r.reason(), w.saturating_sub(6))
            .into_iter()
            .enumerate()
        {
            let lead = if k == 0 { "  ✖ " } else { "    " };
            out.push(Line::from(Span::styled(format!("{lead}{chunk}"), style)));
        }
    }
}

fn evidence(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let (Some(snap), Some(row)) = (app.snapshot(), app.approvals.selected()) else {
        return;
    };
    let Some(item) = row.item(snap) else { return };
    let title = Line::from(vec![
        Span::styled(format!(" {} → ", item.release_name), t.title),
        widgets::stage_label(t, item.stage),
        Span::styled(
            format!(" · {} ", widgets::plural(item.models.len(), "circuit")),
            t.title,
        ),
    ]);
    let b = block(t, title, app.approvals.evidence_focus);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let out = evidence_lines(app, row, item, inner.width as usize);
    let skip = app
        .approvals
        .scroll
        .min(out.len().saturating_sub(inner.height as usize));
    let shown: Vec<Line> = out
        .into_iter()
        .skip(skip)
        .take(inner.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// What the platform says of who may approve, where it says it (YAML: the approval's
/// approvers, `blockedApprovers`, the caller's `permissions`), and which rule governs a
/// rollback run. Nothing for a classic release, which says none of it.
fn platform_rule(item: &ApprovalItem, required: u32) -> Vec<String> {
    let names = |list: &[crate::domain::platform::IdentityRef]| {
        list.iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
    };
    let mut out = Vec::new();
    if item.rollback_run {
        out.push(format!(
            "rule: the rollback environment's Approval check, {} (a rollback run restores \
             what Prod ran; relcon's Prod minimum is for new models)",
            widgets::plural(required as usize, "approver")
        ));
    }
    let mut said = Vec::new();
    if !item.approvers.is_empty() {
        said.push(format!("may approve: {}", names(&item.approvers)));
    }
    if !item.blocked_approvers.is_empty() {
        said.push(format!("barred: {}", names(&item.blocked_approvers)));
    }
    match item.caller_may_decide {
        Some(true) => said.push("you may decide it".into()),
        Some(false) => said.push("you may not decide it".into()),
        None => {}
    }
    if !item.blocked_approvers.is_empty() || item.caller_may_decide.is_some() {
        out.push(format!("Azure DevOps says: {}", said.join(" · ")));
    }
    out
}

/// Everything the evidence pane says about one item.
fn evidence_lines(
    app: &App,
    row: &ApprovalRow,
    item: &ApprovalItem,
    w: usize,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    if !item.description.is_empty() {
        out.push(Line::from(Span::styled(fit(&item.description, w), t.text)));
    }
    out.push(Line::from(Span::styled(
        fit(
            &format!(
                "requested by {} {} ago · {} of {} approvers",
                item.requested_by.name(),
                widgets::age_since(app.now, item.requested_at),
                item.approved.len(),
                row.required
            ),
            w,
        ),
        t.muted,
    )));
    for said in platform_rule(item, row.required) {
        for line in widgets::wrap(&said, w.max(20)) {
            out.push(Line::from(Span::styled(line, t.muted)));
        }
    }
    for d in &item.approved {
        let comment = if d.comment.is_empty() {
            String::new()
        } else {
            format!(": \"{}\"", d.comment)
        };
        out.push(Line::from(Span::styled(
            fit(
                &format!(
                    "✓ approved by {} {} ago{comment}",
                    d.by.name(),
                    widgets::age_since(app.now, d.at)
                ),
                w,
            ),
            t.ok,
        )));
    }
    out.push(Line::from(""));
    match &row.approve {
        Some(check) => {
            let note = format!(
                "you would be approver {} of {}",
                item.approved.len() + 1,
                row.required
            );
            check_lines(t, "Approve", check, &note, w, &mut out)
        }
        None => out.push(Line::from(vec![
            Span::styled("Approve: ", t.header),
            Span::styled(
                "? relcon does not know who you are, so policy cannot be checked",
                t.unknown,
            ),
        ])),
    }
    check_lines(
        t,
        "Reject",
        &row.reject,
        "one rejection stops the stage",
        w,
        &mut out,
    );
    out.push(Line::from(""));
    if item.stage == Stage::Prod {
        out.push(Line::from(vec![
            Span::styled("Test gate: ", t.header),
            Span::styled(format!("✓ {} passed", row.passed), t.ok),
            Span::styled("  ", t.text),
            Span::styled(
                format!("✖ {} failed", row.failed),
                if row.failed > 0 { t.alert } else { t.muted },
            ),
            Span::styled("  ", t.text),
            Span::styled(
                format!("? {} none", row.unknown),
                if row.unknown > 0 { t.unknown } else { t.muted },
            ),
        ]));
        const SHOWN: usize = 6;
        let failing: Vec<_> = row.gate.iter().filter(|g| g.status != Status::Ok).collect();
        for g in failing.iter().take(SHOWN) {
            out.push(Line::from(vec![
                Span::styled(format!("  {} ", symbol(g.status)), t.status(g.status)),
                Span::styled(format!("{} ", g.circuit), t.text),
                Span::styled(fit(&g.detail, w.saturating_sub(24)), t.muted),
            ]));
        }
        if failing.len() > SHOWN {
            out.push(Line::from(Span::styled(
                format!("  and {} more", failing.len() - SHOWN),
                t.muted,
            )));
        }
        out.push(Line::from(""));
    }
    changes(app, row, item, w, &mut out);
    out
}

/// How far the evidence pane can scroll.
pub fn scroll_limit(app: &App) -> usize {
    let (Some(snap), Some(row)) = (app.snapshot(), app.approvals.selected()) else {
        return 0;
    };
    let Some(item) = row.item(snap) else { return 0 };
    let s = layout::screen(layout::area(app.size));
    let (_, right) = layout::approvals(s.body);
    let inner = layout::inner(right);
    evidence_lines(app, row, item, inner.width as usize)
        .len()
        .saturating_sub(inner.height as usize)
}

fn changes(
    app: &App,
    row: &ApprovalRow,
    item: &ApprovalItem,
    w: usize,
    out: &mut Vec<Line<'static>>,
) {
    let t = &app.theme;
    if let (Some(to), Some(from)) = (&item.environment_only, &item.previous_environment) {
        out.push(Line::from(vec![
            Span::styled("Environment-only release ", t.header),
            Span::styled(format!("{from} → {to}"), t.note),
        ]));
        for chunk in widgets::wrap(
            "No config changes and no retraining: every circuit's Prod model was tested against \
             the new environment. Enter (or e) opens the matrix of results, failures first.",
            w,
        ) {
            out.push(Line::from(Span::styled(chunk, t.muted)));
        }
        return;
    }
    let ev = app.approvals.evidence.get(&row.key);
    let Some(ev) = ev.and_then(|r| r.value.as_deref()) else {
        let text = match ev {
            Some(r) if r.error.is_some() => format!(
                "The evidence could not be loaded: {}",
                r.error.as_deref().unwrap_or_default()
            ),
            _ => "Loading config diffs…".into(),
        };
        out.push(Line::from(Span::styled(text, t.muted)));
        return;
    };
    let g = &ev.grouped;
    let shared = if g.common.is_empty() {
        format!("· {}", widgets::plural(g.circuit_count(), "circuit"))
    } else {
        format!(
            "· {} of {} share the same changes",
            g.with_common,
            widgets::plural(g.circuit_count(), "circuit")
        )
    };
    out.push(Line::from(vec![
        Span::styled("Config changes ", t.header),
        Span::styled(shared, t.muted),
    ]));
    if g.groups.is_empty() && g.unknown.is_empty() {
        out.push(Line::from(Span::styled("  no config changes", t.muted)));
    }
    for group in &g.groups {
        let n = group.circuits.len();
        let retrain = if group.key.in_training_hash {
            Span::styled("  retrain", t.warn)
        } else {
            Span::styled("", t.muted)
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {:>4}  ", n), t.note),
            Span::styled(fit(&group.key.describe(), w.saturating_sub(18)), t.text),
            retrain,
        ]));
    }
    if !g.odd_ones.is_empty() {
        out.push(Line::from(Span::styled(
            format!("Odd ones out ({})", g.odd_ones.len()),
            t.header,
        )));
        for odd in &g.odd_ones {
            let mut what: Vec<String> = odd
                .extra
                .iter()
                .map(|k| format!("also {}", k.describe()))
                .collect();
            what.extend(
                odd.missing
                    .iter()
                    .map(|k| format!("without {}", k.describe())),
            );
            out.push(Line::from(vec![
                Span::styled(format!("  ▲ {} ", odd.circuit), t.warn),
                Span::styled(fit(&what.join("; "), w.saturating_sub(24)), t.text),
            ]));
        }
    }
    for (c, why) in &g.unknown {
        out.push(Line::from(vec![
            Span::styled(format!("  ? {c} "), t.unknown),
            Span::styled(fit(why, w.saturating_sub(24)), t.muted),
        ]));
    }
    out.push(Line::from(""));
    let cols = Columns::new(0, w)
        .col("Circuit", 18)
        .col("PROD→new", 9)
        .col("Tests", 6)
        .col("Drift", 7);
    out.push(cols.header(t, "Hash"));
    for l in &ev.lines {
        let lineage = match l.lineage {
            Some(true) => ("✓ ok", Status::Ok),
            Some(false) => ("✖ diff", Status::Alert),
            None => ("? —", Status::Unknown),
        };
        let mut spans = cols.cells([
            (l.circuit.to_string(), t.text),
            (
                format!("{}→{}", widgets::version(l.from), l.to),
                t.stage_prod,
            ),
            (
                format!("{} {}", symbol(l.gate), short_status(l.gate)),
                t.status(l.gate),
            ),
            (
                format!("{} {}", symbol(l.drift), l.drift),
                t.status(l.drift),
            ),
        ]);
        spans.push(Span::styled(lineage.0, t.status(lineage.1)));
        out.push(Line::from(spans));
    }
}

fn short_status(s: Status) -> &'static str {
    match s {
        Status::Ok => "pass",
        Status::Warn | Status::Alert => "fail",
        Status::Unknown => "none",
    }
}
