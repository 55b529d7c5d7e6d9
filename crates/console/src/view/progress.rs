//! One operation's progress: what it does, where it stands (submitted → in progress →
//! succeeded → verified, with times from the request), the SLA countdown coloured by what is
//! left, the verification checklist, and how it ended. Environment rollbacks list every
//! deployment's state.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::table::Columns;
use super::widgets::{self, block, duration, fit, pad};
use crate::app::App;
use crate::domain::Status;
use crate::domain::rollback::RollbackMethod;
use crate::flows::ProgressView;
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::rollback;
use crate::theme::Theme;

/// `+1m05s` after the request.
fn after(op: &Operation, at: Option<DateTime<Utc>>) -> String {
    at.map(|t| format!("+{}", duration(t - op.requested_at)))
        .unwrap_or_default()
}

/// The SLA as `12:34 left`, in its status's role; `None` for operations without one.
pub fn sla_span(app: &App, op: &Operation) -> Option<Span<'static>> {
    let clock = rollback::sla(op)?;
    let t = &app.theme;
    if op.state.is_final() {
        return Some(match (op.state, op.time_to_verified()) {
            (OpState::Verified, Some(d)) => {
                let within = d.num_seconds() <= i64::from(clock.budget_minutes) * 60;
                Span::styled(
                    format!("verified in {}", duration(d)),
                    if within { t.ok } else { t.warn },
                )
            }
            (s, _) => Span::styled(s.as_str().to_owned(), t.alert),
        });
    }
    let status = clock.status(app.now);
    Some(Span::styled(
        format!("SLA {}", clock.label(app.now)),
        t.status(status),
    ))
}

fn state_style(t: &Theme, s: OpState) -> Style {
    match s {
        OpState::Verified => t.ok,
        OpState::Failed | OpState::NotSent => t.alert,
        OpState::Succeeded | OpState::InProgress | OpState::Submitted => t.note,
        OpState::Submitting => t.warn,
    }
}

pub fn state_symbol(s: OpState) -> &'static str {
    match s {
        OpState::Verified => "✓",
        OpState::Failed | OpState::NotSent => "✖",
        _ => "⟳",
    }
}

/// The timeline: each stage done (with its time from the request), running, or waiting;
/// and where it failed.
fn timeline(t: &Theme, op: &Operation) -> Line<'static> {
    use OpState::*;
    let failed = matches!(op.state, Failed | NotSent);
    let st = op.state;
    let stages = [
        // (name, done, running, when)
        (
            "submitted",
            !failed && st >= Submitted || op.submitted_at.is_some(),
            st == Submitting,
            op.submitted_at,
        ),
        (
            "in progress",
            !failed && st > InProgress,
            !failed && matches!(st, Submitted | InProgress),
            None,
        ),
        (
            "succeeded",
            !failed && st >= Succeeded,
            false,
            op.completed_at,
        ),
        ("verified", st == Verified, st == Succeeded, op.verified_at),
    ];
    let mut spans = Vec::new();
    for (i, (name, done, running, at)) in stages.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", t.muted));
        }
        let (sym, style) = if done {
            ("✓", t.ok)
        } else if running {
            ("⟳", t.note)
        } else {
            ("·", t.muted)
        };
        let when = if done && at.is_some() {
            format!(" {}", after(op, at))
        } else {
            String::new()
        };
        spans.push(Span::styled(format!("{sym} {name}{when}"), style));
    }
    if failed {
        spans.push(Span::styled(" › ", t.muted));
        spans.push(Span::styled(
            format!("✖ {} {}", op.state.as_str(), after(op, op.completed_at)),
            t.alert,
        ));
    }
    Line::from(spans)
}

/// How much of the budget is gone, as a bar in the SLA's colour.
fn budget_bar(app: &App, op: &Operation, width: usize) -> Option<Span<'static>> {
    let clock = rollback::sla(op)?;
    let end = if op.state.is_final() {
        op.verified_at.or(op.completed_at).unwrap_or(app.now)
    } else {
        app.now
    };
    let total = i64::from(clock.budget_minutes).max(1) * 60;
    let used = (end - op.requested_at).num_seconds().clamp(0, total);
    let filled = (used as usize * width).div_ceil(total as usize).min(width);
    let status = clock.status(end);
    Some(Span::styled(
        format!("{}{}", "█".repeat(filled), "░".repeat(width - filled)),
        app.theme.status(status),
    ))
}

/// One checklist item: done, failed, running or waiting.
fn check(
    t: &Theme,
    status: Option<Status>,
    running: bool,
    text: String,
    w: usize,
) -> Line<'static> {
    let (sym, style) = match status {
        Some(Status::Ok) => ("✓", t.ok),
        Some(_) => ("✖", t.alert),
        None if running => ("⟳", t.note),
        None => ("·", t.muted),
    };
    Line::from(vec![
        Span::styled(format!("  {sym} "), style),
        Span::styled(
            fit(&text, w.saturating_sub(4)),
            if status.is_some() { t.text } else { t.muted },
        ),
    ])
}

fn checklist(app: &App, op: &Operation, w: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let verification_failed = op.state == OpState::Failed
        && op
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("verification failed"));
    let done_or = |ok: bool, bad: bool| {
        if ok {
            Some(Status::Ok)
        } else if bad {
            Some(Status::Alert)
        } else {
            None
        }
    };
    let failed = matches!(op.state, OpState::Failed | OpState::NotSent);
    let mut out = vec![Line::from(Span::styled("Verification", t.header))];
    match &op.kind {
        OpKind::Rollback {
            circuit,
            method,
            to,
            endpoint,
            deployment,
            release_id,
            ..
        } => {
            let applied =
                matches!(op.state, OpState::Succeeded | OpState::Verified) || verification_failed;
            let first = match method {
                RollbackMethod::Redeploy => {
                    let name = release_id
                        .and_then(|r| app.snapshot()?.release(r).map(|x| x.name.clone()))
                        .or_else(|| release_id.map(|r| format!("release {r}")))
                        .unwrap_or_else(|| "the release".into());
                    format!("{name}: Production stage redeployed (release environment succeeded)")
                }
                RollbackMethod::Direct => {
                    "the deployment update (Azure-AsyncOperation) succeeded".to_owned()
                }
                RollbackMethod::Pipeline => "the rollback run succeeded".to_owned(),
            };
            out.push(check(
                t,
                done_or(applied, failed && !verification_failed),
                op.state == OpState::InProgress,
                first,
                w,
            ));
            let verified = op.state == OpState::Verified;
            out.push(check(
                t,
                done_or(verified, verification_failed),
                op.state == OpState::Succeeded,
                "Prod deployment provisioning succeeded".into(),
                w,
            ));
            out.push(check(
                t,
                done_or(verified, verification_failed),
                op.state == OpState::Succeeded,
                format!("Prod deployment {endpoint}/{deployment} points at v{to}"),
                w,
            ));
            let shown = app
                .data
                .circuit(circuit)
                .is_some_and(|c| c.versions.prod == Some(*to))
                && app
                    .snapshot()
                    .zip(op.verified_at)
                    .is_some_and(|(s, v)| s.generated_at >= v);
            out.push(check(
                t,
                done_or(verified && shown, false),
                verified && !shown,
                format!("the fleet shows v{to} in Prod (refreshed after the restore)"),
                w,
            ));
            if let Some(watch) = &op.watch {
                let ended = watch.ended.as_ref();
                out.push(check(
                    t,
                    ended.map(|e| {
                        if e.outcome.is_clean() {
                            Status::Ok
                        } else {
                            Status::Alert
                        }
                    }),
                    ended.is_none(),
                    watch.label(app.now),
                    w,
                ));
            }
            // `[incidents] test_inference`: the one scoring job started after the restore.
            if let Some(test) = app.ops.list.iter().find(|o| {
                matches!(&o.kind, OpKind::JobRetry { after_rollback: Some(r), .. } if *r == op.id)
            }) && let OpKind::JobRetry {
                job, job_status, ..
            } = &test.kind
            {
                let over = matches!(test.state, OpState::Verified | OpState::Failed | OpState::NotSent);
                out.push(check(
                    t,
                    done_or(
                        test.state == OpState::Verified,
                        matches!(test.state, OpState::Failed | OpState::NotSent),
                    ),
                    !over,
                    format!(
                        "test inference {job}: {}",
                        job_status.as_deref().unwrap_or(test.state.as_str())
                    ),
                    w,
                ));
            }
        }
        OpKind::EnvironmentRollback { to, .. } => {
            let n = op.steps.len();
            let ok = op
                .steps
                .iter()
                .filter(|s| s.state == OpState::Verified)
                .count();
            let bad = op
                .steps
                .iter()
                .filter(|s| matches!(s.state, OpState::Failed | OpState::NotSent))
                .count();
            out.push(check(
                t,
                done_or(ok == n && n > 0, bad > 0),
                !op.state.is_final(),
                format!(
                    "{ok} of {n} Prod deployments verified on environment {to}{}",
                    if bad > 0 {
                        format!(" · {bad} did not move")
                    } else {
                        String::new()
                    }
                ),
                w,
            ));
        }
        OpKind::Approve { .. } | OpKind::Reject { .. } => {
            out.push(check(
                t,
                done_or(op.state == OpState::Verified, failed),
                !op.state.is_final(),
                "a re-read of the approval shows the decision".into(),
                w,
            ));
        }
        OpKind::AlertChange { new_state, .. } => {
            out.push(check(
                t,
                done_or(op.state == OpState::Verified, failed),
                !op.state.is_final(),
                format!("a re-read of the alert shows it {new_state}"),
                w,
            ));
        }
        OpKind::JobRetry {
            job, job_status, ..
        } => {
            out.push(check(
                t,
                done_or(
                    op.state >= OpState::Submitted && op.state != OpState::NotSent,
                    op.state == OpState::NotSent,
                ),
                op.state == OpState::Submitting,
                format!("job {job} started with the failed job's inputs"),
                w,
            ));
            out.push(check(
                t,
                done_or(op.state == OpState::Verified, failed),
                !op.state.is_final(),
                format!(
                    "the new job completed (now {})",
                    job_status.as_deref().unwrap_or("not read yet")
                ),
                w,
            ));
        }
    }
    out
}

fn what(app: &App, op: &Operation) -> Vec<Span<'static>> {
    let t = &app.theme;
    match &op.kind {
        OpKind::Rollback {
            circuit,
            method,
            from,
            to,
            ..
        } => vec![
            Span::styled(format!(" ⟲ Roll back {circuit} in "), t.title),
            widgets::prod_badge(t),
            Span::styled(
                format!(
                    " · {} → v{to} · {} ",
                    widgets::version(*from),
                    method.as_str()
                ),
                t.title,
            ),
        ],
        OpKind::EnvironmentRollback { from, to } => vec![
            Span::styled(" ⟲ Roll back the environment of every ", t.title),
            widgets::prod_badge(t),
            Span::styled(format!(" deployment · {from} → {to} "), t.title),
        ],
        _ => vec![Span::styled(
            format!(" {} {} ", op.action(), op.target()),
            t.title,
        )],
    }
}

pub fn render(app: &App, p: &ProgressView, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(op) = app.ops.get(&p.op_id) else {
        frame.render_widget(block(t, " Operation ", true), body);
        super::empty_state(
            app,
            frame,
            body,
            vec![
                Line::from(format!("Operation {} is not in the journal", p.op_id)),
                Line::from("Esc goes back"),
            ],
        );
        return;
    };
    let b = block(t, Line::from(what(app, op)), true);
    let b = if matches!(
        op.kind,
        OpKind::Rollback { .. } | OpKind::EnvironmentRollback { .. }
    ) {
        b.border_style(t.stage_prod)
    } else {
        b
    };
    let inner = b.inner(body);
    frame.render_widget(b, body);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        fit(
            &format!(
                "by {} · requested {} ago · operation {}{}",
                op.actor,
                widgets::age(app.now - op.requested_at),
                op.id,
                op.reason
                    .as_deref()
                    .map(|r| format!(" · reason: {r}"))
                    .unwrap_or_default()
            ),
            w,
        ),
        t.muted,
    ))];
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(pad("State", 8), t.header),
        Span::styled(
            format!(
                "{} {}  ",
                super::progress::state_symbol(op.state),
                op.state.as_str()
            ),
            state_style(t, op.state).add_modifier(ratatui::style::Modifier::BOLD),
        ),
    ]));
    lines.push(Line::from(
        std::iter::once(Span::styled(pad("", 8), t.text))
            .chain(timeline(t, op).spans)
            .collect::<Vec<_>>(),
    ));
    if let Some(clock) = rollback::sla(op) {
        let mut spans = vec![Span::styled(pad("SLA", 8), t.header)];
        if let Some(s) = sla_span(app, op) {
            let text = s.content.trim_start_matches("SLA ").to_owned();
            spans.push(Span::styled(
                pad(&text, 18),
                s.style.add_modifier(ratatui::style::Modifier::BOLD),
            ));
        }
        spans.extend(budget_bar(app, op, 30));
        spans.push(Span::styled(
            fit(
                &format!(
                    "  of {} minutes, until {}",
                    clock.budget_minutes,
                    clock.deadline().format("%H:%M:%S UTC")
                ),
                w.saturating_sub(56),
            ),
            t.muted,
        ));
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    lines.extend(checklist(app, op, w));
    lines.push(Line::from(""));
    match (op.state, op.time_to_verified(), rollback::sla(op)) {
        (OpState::Verified, Some(d), Some(c)) => {
            let within = d.num_seconds() <= i64::from(c.budget_minutes) * 60;
            lines.push(Line::from(Span::styled(
                format!(
                    "✓ Verified restore in {}: {} the {}-minute budget.",
                    duration(d),
                    if within { "within" } else { "OVER" },
                    c.budget_minutes
                ),
                if within { t.ok } else { t.warn }.add_modifier(ratatui::style::Modifier::BOLD),
            )));
        }
        (OpState::Verified, _, _) => {
            lines.push(Line::from(Span::styled("✓ Verified.", t.ok)));
        }
        (s, _, _) if s.is_final() => {
            lines.push(Line::from(Span::styled(
                format!("✖ {}", op.state.as_str()),
                t.alert,
            )));
        }
        _ => {
            let text = if app.ops.tracking.contains(&op.id) {
                "Tracking: the screen updates with every poll. Leaving keeps tracking in the \
                 background (O: operations)."
            } else {
                "Not tracked by this console right now (another console, or a restart resumes it)."
            };
            for chunk in widgets::wrap(text, w) {
                lines.push(Line::from(Span::styled(chunk, t.muted)));
            }
        }
    }
    if let Some(waiting) = op.waiting.as_ref().filter(|_| !op.state.is_final()) {
        for chunk in widgets::wrap(&format!("⏸ {waiting}; the SLA clock keeps running"), w) {
            lines.push(Line::from(Span::styled(chunk, t.warn)));
        }
    }
    if let Some(e) = &op.last_error {
        for chunk in widgets::wrap(&format!("last error: {e}"), w) {
            lines.push(Line::from(Span::styled(chunk, t.error)));
        }
    }
    if !op.request_ids.is_empty() {
        lines.push(Line::from(Span::styled(
            fit(&format!("request ids: {}", op.request_ids.join(", ")), w),
            t.muted,
        )));
    }
    if !op.steps.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!("Deployments ({})", op.steps.len()),
            t.header,
        )));
        let room = (inner.height as usize).saturating_sub(lines.len());
        let skip = p.scroll.min(op.steps.len().saturating_sub(room));
        let cols = Columns::new(4, w)
            .col("Circuit", 18)
            .col("From → to", 17)
            .col("State", 11);
        for s in op.steps.iter().skip(skip).take(room) {
            let mut spans = vec![Span::styled(
                format!("  {} ", state_symbol(s.state)),
                state_style(t, s.state),
            )];
            spans.extend(cols.cells([
                (s.circuit.to_string(), t.text),
                (
                    format!("{} → {}", s.from.as_deref().unwrap_or("?"), s.to),
                    t.stage_prod,
                ),
                (s.state.as_str().to_owned(), state_style(t, s.state)),
            ]));
            spans.push(Span::styled(
                fit(s.error.as_deref().unwrap_or(""), cols.rest()),
                t.error,
            ));
            lines.push(Line::from(spans));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
