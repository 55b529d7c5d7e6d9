//! The comment box (what the decision will do, who you are, what policy says and why, the
//! comment, the break-glass override and its reason) and the bulk review table (one row per
//! marked approval with the verdict for you, then the result of each).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::table::{self, Columns};
use super::widgets::{self, block, fit, symbol};
use crate::action::Action;
use crate::app::App;
use crate::approvals_model::ApprovalRow;
use crate::domain::fleet::ApprovalItem;
use crate::domain::policy::PolicyCheck;
use crate::domain::{Stage, Status};
use crate::flows::{BulkPhase, BulkResult, BulkRow, BulkState, DecideForm, Field, TextField};
use crate::keymap::KeyContext;
use crate::layout;
use crate::service::decide::{DecisionOutcome, Verdict};
use crate::theme::Theme;

/// The key of `action` in `ctx`, for the words in a form.
pub(super) fn key(app: &App, ctx: KeyContext, action: Action) -> String {
    app.settings
        .keymap
        .key_for(&[ctx], action)
        .map(|k| k.to_string())
        .unwrap_or_else(|| action.name().to_owned())
}

/// What the decision does when it goes through, in words.
fn consequence(verdict: Verdict, item: &ApprovalItem, row: &ApprovalRow) -> String {
    let n = widgets::plural(item.models.len(), "circuit");
    let target = match (&item.environment_only, item.stage) {
        (Some(env), _) => format!("moves every circuit to environment {env} in {}", item.stage),
        (None, Stage::Prod) => format!("deploys {n} to Prod"),
        (None, Stage::Registry) => format!("promotes {n} to the Registry (then Test runs)"),
        (None, s) => format!("deploys {n} to {s}"),
    };
    match verdict {
        Verdict::Reject => format!(
            "one rejection stops the stage: {} does not go to {}",
            item.release_name, item.stage
        ),
        Verdict::Approve => {
            let you = item.approved.len() + 1;
            if you as u32 >= row.required {
                format!("approval {you} of {}: completes it, {target}", row.required)
            } else {
                format!(
                    "approval {you} of {}: {} more approver needed before it {target}",
                    row.required,
                    row.required - you as u32
                )
            }
        }
    }
}

/// A text field as `label > text█` (the cursor only in the focused one).
fn field_line(t: &Theme, label: &str, f: &TextField, focused: bool, w: usize) -> Line<'static> {
    let room = w.saturating_sub(label.len() + 4);
    // The end of a long text stays in view.
    let shown: String = {
        let chars: Vec<char> = f.text.chars().collect();
        let skip = chars.len().saturating_sub(room);
        chars[skip..].iter().collect()
    };
    let mut spans = vec![
        Span::styled(format!("{label} "), t.header),
        Span::styled("> ", if focused { t.title } else { t.muted }),
        Span::styled(shown, t.text),
    ];
    if focused {
        spans.push(Span::styled("█", t.title));
    }
    Line::from(spans)
}

/// Policy's verdict and its reasons, wrapped.
fn policy_lines(
    t: &Theme,
    check: Option<&PolicyCheck>,
    verb: &str,
    w: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(check) = check else {
        out.push(Line::from(vec![
            Span::styled("Policy  ", t.header),
            Span::styled(
                "? relcon does not know who you are: policy cannot be checked, nothing is sent",
                t.unknown,
            ),
        ]));
        return out;
    };
    let head = if check.allowed() {
        Span::styled(format!("✓ you can {verb}"), t.ok)
    } else if check.needs_override() {
        Span::styled(
            "▲ only with a break-glass override of the test gate",
            t.warn,
        )
    } else {
        Span::styled("✖ refused", t.alert)
    };
    out.push(Line::from(vec![Span::styled("Policy  ", t.header), head]));
    for r in &check.refusals {
        let style = if r.overridable() { t.warn } else { t.alert };
        for (i, chunk) in widgets::wrap(&r.reason(), w.saturating_sub(12))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { "  ✖ " } else { "    " };
            out.push(Line::from(Span::styled(
                format!("      {lead}{chunk}"),
                style,
            )));
        }
    }
    out
}

fn form_lines(app: &App, form: &DecideForm, w: usize) -> (Line<'static>, Vec<Line<'static>>) {
    let t = &app.theme;
    let verb = match form.verdict {
        Verdict::Approve => "approve",
        Verdict::Reject => "reject",
    };
    let title_verb = match form.verdict {
        Verdict::Approve => "Approve",
        Verdict::Reject => "Reject",
    };
    let snap = app.snapshot();
    let row = form
        .key()
        .and_then(|k| app.approvals.rows.iter().find(|r| r.key == k));
    let item = row.zip(snap).and_then(|(r, s)| r.item(s));
    let (Some(row), Some(item)) = (row, item) else {
        let title = Line::from(Span::styled(format!(" {title_verb} "), t.title));
        return (
            title,
            vec![
                Line::from(Span::styled(
                    "This approval is no longer pending: someone decided meanwhile.",
                    t.warn,
                )),
                Line::from(Span::styled(
                    "Esc closes; the list shows what is left.",
                    t.muted,
                )),
            ],
        );
    };
    let title = Line::from(vec![
        Span::styled(format!(" {title_verb} {} → ", item.release_name), t.title),
        widgets::stage_label(t, item.stage),
        Span::styled(" ", t.title),
    ]);
    let mut out = Vec::new();
    if form.keys.len() > 1 {
        out.push(Line::from(Span::styled(
            format!(
                "pending approval {} of {} for this circuit · {} the next",
                form.index + 1,
                form.keys.len(),
                key(app, KeyContext::Decide, Action::NextApproval)
            ),
            t.note,
        )));
    }
    let who = app
        .operator()
        .map(|i| i.name().to_owned())
        .unwrap_or_else(|| "an unknown identity".into());
    for chunk in widgets::wrap(
        &format!("as {who} · {}", consequence(form.verdict, item, row)),
        w,
    ) {
        out.push(Line::from(Span::styled(chunk, t.text)));
    }
    let mut meta = format!(
        "requested by {} {} ago",
        item.requested_by.name(),
        widgets::age_since(app.now, item.requested_at)
    );
    for d in &item.approved {
        meta.push_str(&format!(" · approved by {}", d.by.name()));
    }
    out.push(Line::from(Span::styled(fit(&meta, w), t.muted)));
    out.push(Line::from(""));
    let check = row.check(form.verdict);
    out.extend(policy_lines(t, check.as_ref(), verb, w));
    if item.stage == Stage::Prod && form.verdict == Verdict::Approve {
        out.push(Line::from(vec![
            Span::styled("Tests   ", t.header),
            Span::styled(format!("✓ {} passed  ", row.passed), t.ok),
            Span::styled(
                format!("✖ {} failed  ", row.failed),
                if row.failed > 0 { t.alert } else { t.muted },
            ),
            Span::styled(
                format!("? {} none", row.unknown),
                if row.unknown > 0 { t.unknown } else { t.muted },
            ),
        ]));
    }
    out.push(Line::from(""));
    let can_send = check
        .as_ref()
        .is_some_and(|c| c.allowed() || (form.verdict == Verdict::Approve && c.needs_override()));
    if !can_send {
        out.push(Line::from(Span::styled(
            "Nothing can be sent: the refusal above stands. Esc closes.",
            t.alert,
        )));
        return (title, out);
    }
    out.push(field_line(
        t,
        "Comment",
        &form.comment,
        form.field == Field::Main && form.sending.is_none(),
        w,
    ));
    out.push(Line::from(Span::styled(
        "        required · goes to DevOps with the decision and to the audit log",
        t.muted,
    )));
    if check.as_ref().is_some_and(PolicyCheck::needs_override) && form.verdict == Verdict::Approve {
        out.push(Line::from(""));
        override_lines(
            app,
            form.override_gate,
            &form.reason,
            form.field == Field::Reason,
            KeyContext::Decide,
            w,
            &mut out,
        );
    }
    out.push(Line::from(""));
    if form.sending.is_some() {
        out.push(Line::from(Span::styled(
            format!("⟳ sending the {verb}al… the service re-reads, decides and confirms"),
            t.note,
        )));
    } else if let Some(p) = &form.problem {
        for chunk in widgets::wrap(p, w) {
            out.push(Line::from(Span::styled(chunk, t.error)));
        }
    } else {
        let glass = form.override_gate && check.as_ref().is_some_and(|c| !c.allowed());
        out.push(Line::from(vec![
            Span::styled(key(app, KeyContext::Decide, Action::Accept), t.bar_key),
            Span::styled(
                format!(" {verb}s{} · ", if glass { " (BREAK-GLASS)" } else { "" }),
                if glass { t.alert } else { t.text },
            ),
            Span::styled(key(app, KeyContext::Decide, Action::Back), t.bar_key),
            Span::styled(" cancels, nothing is sent", t.text),
        ]));
    }
    (title, out)
}

/// The override toggle and, when on, its reason field.
fn override_lines(
    app: &App,
    on: bool,
    reason: &TextField,
    focused: bool,
    ctx: KeyContext,
    w: usize,
    out: &mut Vec<Line<'static>>,
) {
    let t = &app.theme;
    let k = key(app, ctx, Action::ToggleOverride);
    if on {
        out.push(Line::from(vec![
            Span::styled(" BREAK-GLASS ", t.prod),
            Span::styled(
                fit(
                    &format!(" test gate overridden, recorded · {k} undoes"),
                    w.saturating_sub(13),
                ),
                t.alert,
            ),
        ]));
        out.push(field_line(t, "Reason ", reason, focused, w));
    } else {
        out.push(Line::from(vec![
            Span::styled("[ ] ", t.warn),
            Span::styled(
                format!("{k} overrides the test gate: break-glass, needs a reason, recorded"),
                t.warn,
            ),
        ]));
    }
}

/// The comment box over the view that opened it, as tall as what it says.
pub fn render_box(app: &App, frame: &mut Frame, body: Rect) {
    let Some(form) = app.decide_form() else {
        return;
    };
    let full = layout::decide_box(body);
    let inner_w = full.width.saturating_sub(2) as usize;
    let (title, lines) = form_lines(app, form, inner_w);
    let area = layout::popup(body, full.width, lines.len() as u16 + 2);
    let t = &app.theme;
    frame.render_widget(Clear, area);
    let mut b = block(t, title, true);
    if form.override_gate {
        b = b.border_style(t.alert);
    }
    let inner = b.inner(area);
    frame.render_widget(b, area);
    // Keep the end (the field and what Enter does) in view on a short screen.
    let skip = lines.len().saturating_sub(inner.height as usize);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );
}

fn result_span(t: &Theme, verdict: Verdict, row: &BulkRow) -> (Span<'static>, String) {
    match &row.result {
        None => (Span::styled("⟳", t.note), "sending…".into()),
        Some(BulkResult::Skipped(why)) => (Span::styled("–", t.muted), format!("skipped: {why}")),
        Some(BulkResult::Outcome(o)) => match o {
            DecisionOutcome::Done {
                approved,
                required,
                break_glass,
                ..
            } => (
                Span::styled("✓", t.ok),
                match verdict {
                    Verdict::Approve => format!(
                        "approved: {approved} of {required}{}",
                        if *break_glass { " · BREAK-GLASS" } else { "" }
                    ),
                    Verdict::Reject => "rejected: the stage stops".to_owned(),
                },
            ),
            DecisionOutcome::Refused { .. } => {
                (Span::styled("✖", t.alert), o.refusal().unwrap_or_default())
            }
            DecisionOutcome::Conflict { message, .. } => {
                (Span::styled("⚠", t.warn), format!("conflict: {message}"))
            }
            DecisionOutcome::Failed { message, .. } => {
                (Span::styled("✖", t.alert), format!("failed: {message}"))
            }
        },
    }
}

fn verdict_for(t: &Theme, row: &BulkRow, included: bool) -> (Span<'static>, String, Style) {
    let status = match &row.check {
        _ if row.approval_id.is_none() => Status::Unknown,
        None => Status::Unknown,
        Some(c) if c.allowed() => Status::Ok,
        Some(c) if c.needs_override() => Status::Warn,
        Some(_) => Status::Alert,
    };
    let text = match &row.check {
        _ if row.approval_id.is_none() => "no longer pending: skipped".to_owned(),
        None => "identity unknown: skipped".to_owned(),
        Some(c) if c.allowed() => "allowed: will be sent".to_owned(),
        Some(c) if c.needs_override() && included => {
            format!("BREAK-GLASS: {}", c.reasons().join("; "))
        }
        Some(c) if c.needs_override() => {
            format!("skipped unless overridden: {}", c.reasons().join("; "))
        }
        Some(c) => format!("refused, skipped: {}", c.reasons().join("; ")),
    };
    let style = match status {
        Status::Ok => t.text,
        Status::Warn if included => t.alert,
        _ => t.muted,
    };
    (Span::styled(symbol(status), t.status(status)), text, style)
}

/// The bulk review table and, once sent, its results.
pub fn render_bulk(app: &App, b: &BulkState, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let (table, form) = layout::bulk(body);
    let verb = match b.verdict {
        Verdict::Approve => "Approve",
        Verdict::Reject => "Reject",
    };
    let included = b.rows.iter().filter(|r| b.included(r)).count();
    let title = match b.phase {
        BulkPhase::Review => format!(
            " {verb} {} as {} · {included} will be sent · {} skipped ",
            widgets::plural(b.rows.len(), "approval"),
            app.operator()
                .map(|i| i.name())
                .unwrap_or("an unknown identity"),
            b.rows.len() - included
        ),
        BulkPhase::Sending => format!(
            " {verb}: sending… {} of {} answered ",
            b.rows.len() - b.waiting(),
            b.rows.len()
        ),
        BulkPhase::Results => format!(" {} ", b.summary()),
    };
    let bx = block(t, title, true);
    let inner = bx.inner(table);
    frame.render_widget(bx, table);
    let w = inner.width as usize;
    let results = b.phase != BulkPhase::Review;
    let last = if results { "Result" } else { "For you" };
    let cols = Columns::new(2, w)
        .col("Release", 12)
        .col("Stage", 10)
        .col("Circuits", 8)
        .col("Approvals", 9);
    let mut lines = vec![cols.header(t, last)];
    let rows = inner.height.saturating_sub(1) as usize;
    let c = b.cursor;
    for (i, row) in table::window(&b.rows, c, rows) {
        let inc = b.included(row);
        let (mark, text, style) = if results {
            let (m, text) = result_span(t, b.verdict, row);
            (m, text, t.text)
        } else {
            verdict_for(t, row, inc)
        };
        let mut spans = vec![
            mark,
            Span::raw(" "),
            cols.cell(0, &row.release_name, t.text),
        ];
        // The Prod badge (6 wide) in the stage column; other stages as text in their colour.
        if row.stage == Stage::Prod {
            spans.push(widgets::prod_badge(t));
            spans.push(Span::raw(" ".repeat(10 - 6 + 1)));
        } else {
            spans.push(cols.cell(1, &row.stage.to_string(), t.stage(row.stage)));
        }
        spans.push(cols.cell(2, &row.circuits.to_string(), t.text));
        spans.push(cols.cell(3, &format!("{}/{}", row.approved, row.required), t.text));
        spans.push(Span::styled(fit(&text, cols.rest()), style));
        lines.push(table::row_line(t, spans, c, i, true));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    let fb = block(
        t,
        if results {
            " Sent with "
        } else {
            " One comment for every decision "
        },
        !results,
    );
    let finner = fb.inner(form);
    frame.render_widget(fb, form);
    let fw = finner.width as usize;
    let mut out = Vec::new();
    // The selected row in full: the table cuts long reasons.
    if let Some(row) = b.rows.get(b.cursor.selected) {
        let (mark, text, style) = if results {
            let (m, text) = result_span(t, b.verdict, row);
            (m, text, t.text)
        } else {
            verdict_for(t, row, b.included(row))
        };
        let full = format!("{} → {}: {text}", row.release_name, row.stage);
        for (i, chunk) in widgets::wrap(&full, fw.saturating_sub(2))
            .into_iter()
            .take(2)
            .enumerate()
        {
            let lead = if i == 0 { mark.clone() } else { Span::raw(" ") };
            out.push(Line::from(vec![
                lead,
                Span::raw(" "),
                Span::styled(chunk, style),
            ]));
        }
    }
    out.push(field_line(
        t,
        "Comment",
        &b.comment,
        !results && b.field == Field::Main,
        fw,
    ));
    if b.verdict == Verdict::Approve
        && b.rows.iter().any(BulkRow::overridable)
        && (!results || b.override_gate)
    {
        override_lines(
            app,
            b.override_gate,
            &b.reason,
            !results && b.field == Field::Reason,
            KeyContext::Review,
            fw,
            &mut out,
        );
    }
    match (&b.problem, b.phase) {
        (Some(p), _) => out.push(Line::from(Span::styled(fit(p, fw), t.error))),
        (None, BulkPhase::Review) => out.push(Line::from(vec![
            Span::styled(key(app, KeyContext::Review, Action::Accept), t.bar_key),
            Span::styled(format!(" sends {included} · ↑↓ rows · "), t.text),
            Span::styled(key(app, KeyContext::Review, Action::Back), t.bar_key),
            Span::styled(" cancels, nothing is sent", t.text),
        ])),
        (None, BulkPhase::Sending) => out.push(Line::from(Span::styled(
            "⟳ one at a time; each result shows as it arrives",
            t.note,
        ))),
        (None, BulkPhase::Results) => out.push(Line::from(Span::styled(
            "Enter or Esc closes; the approvals list is refreshed",
            t.muted,
        ))),
    }
    frame.render_widget(Paragraph::new(out), finner);
}
