//! The status bar (backend, identity, read-only, data age or STALE, background work, warnings,
//! the last error) and the bottom line (the input line, a note, or the key hints).

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::widgets::{age, fit};
use crate::app::{App, Mode, NoteLevel, Origin};

/// Whether the data on screen should be read with suspicion.
pub fn stale(app: &App) -> bool {
    let Some(s) = app.snapshot() else {
        return false;
    };
    let limit = app
        .settings
        .refresh_every
        .and_then(|e| Duration::from_std(e * 2).ok())
        .unwrap_or(Duration::minutes(5))
        .max(Duration::minutes(2));
    app.data.origin == Origin::Cache || app.data.refresh_failed || app.now - s.generated_at > limit
}

struct Part {
    /// Lower is kept first when the bar is too narrow.
    priority: u8,
    spans: Vec<Span<'static>>,
    /// Takes what width is left (the error).
    flexible: bool,
}

fn width(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.content.width()).sum()
}

pub fn status_bar(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut parts: Vec<Part> = Vec::new();
    let backend = app
        .snapshot()
        .map(|s| s.backend.clone())
        .unwrap_or_else(|| app.backend.clone());
    parts.push(Part {
        priority: 0,
        spans: vec![Span::styled(" relcon ", t.bar_key)],
        flexible: false,
    });
    parts.push(Part {
        priority: 5,
        spans: vec![Span::styled(backend, t.bar)],
        flexible: false,
    });
    let who = app
        .snapshot()
        .and_then(|s| s.identity.as_ref())
        .map(|i| format!("as {}", i.name()))
        .unwrap_or_else(|| "identity unknown".into());
    parts.push(Part {
        priority: 4,
        spans: vec![Span::styled(who, t.bar)],
        flexible: false,
    });
    if app.settings.policy.read_only {
        parts.push(Part {
            priority: 1,
            spans: vec![Span::styled(" READ-ONLY ", t.read_only)],
            flexible: false,
        });
    }
    if let Some(s) = app.snapshot() {
        let a = age(app.now - s.generated_at);
        let span = if stale(app) {
            Span::styled(format!(" STALE {a} "), t.stale)
        } else {
            Span::styled(format!("data {a}"), t.bar)
        };
        parts.push(Part {
            priority: 1,
            spans: vec![span],
            flexible: false,
        });
    }
    // Fired alerts on the fleet: how many, and how many nobody has acknowledged.
    if let Some(s) = app.snapshot().filter(|s| !s.alerts.is_empty()) {
        use crate::domain::incidents::AlertState;
        let new = s
            .alerts
            .iter()
            .filter(|a| a.alert.state == AlertState::New)
            .count();
        let worst = s
            .alerts
            .iter()
            .map(|a| a.alert.severity.status())
            .fold(crate::domain::Status::Ok, crate::domain::Status::worst);
        let text = if new > 0 {
            format!(
                "⚑ {} · {new} new",
                super::widgets::plural(s.alerts.len(), "alert")
            )
        } else {
            format!("⚑ {}", super::widgets::plural(s.alerts.len(), "alert"))
        };
        parts.push(Part {
            priority: 1,
            spans: vec![Span::styled(text, t.bar.patch(t.status(worst)))],
            flexible: false,
        });
    }
    // Operations in flight, with the most urgent SLA.
    let in_flight: Vec<_> = app.ops.in_flight().collect();
    if !in_flight.is_empty() {
        let urgent = in_flight
            .iter()
            .filter_map(|o| crate::service::rollback::sla(o))
            .min_by_key(|c| c.remaining(app.now));
        let what = match &in_flight[..] {
            [one] => one.action().to_owned(),
            many => format!("{} operations", many.len()),
        };
        // Waiting on people (a redeploy's approvals) rather than on the service: said apart,
        // short enough for 80 columns; the progress view says for whom.
        let mut spans = if in_flight.iter().any(|o| o.waiting.is_some()) {
            vec![Span::styled(
                format!("⏸ {what} waiting"),
                t.bar.patch(t.status(crate::domain::Status::Warn)),
            )]
        } else {
            vec![Span::styled(format!("⟲ {what} in flight"), t.bar_key)]
        };
        if let Some(c) = urgent {
            spans.push(Span::styled(
                format!(" · SLA {}", c.label(app.now)),
                t.bar.patch(t.status(c.status(app.now))),
            ));
        }
        parts.push(Part {
            priority: 1,
            spans,
            flexible: false,
        });
    }
    let busy = app.busy();
    if !busy.is_empty() {
        parts.push(Part {
            priority: 2,
            spans: vec![Span::styled(format!("⟳ {}", busy.join(", ")), t.bar_key)],
            flexible: false,
        });
    }
    if !app.warnings.is_empty() {
        parts.push(Part {
            priority: 3,
            spans: vec![Span::styled(
                format!(
                    "⚠ {} (see ?)",
                    super::widgets::plural(app.warnings.len(), "warning")
                ),
                t.bar.patch(t.warning),
            )],
            flexible: false,
        });
    }
    if let Some(e) = &app.data.last_error {
        parts.push(Part {
            priority: 2,
            spans: vec![Span::styled(format!("✖ {e}"), t.bar.patch(t.error))],
            flexible: true,
        });
    }
    // Keep the most important parts that fit, in their order; the error takes what is left.
    let avail = area.width as usize;
    let sep = 3;
    let mut keep = vec![false; parts.len()];
    let mut used = 0;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|i| parts[*i].priority);
    for i in order {
        let w = if parts[i].flexible {
            20.min(width(&parts[i].spans))
        } else {
            width(&parts[i].spans)
        };
        let extra = if used == 0 { 0 } else { sep };
        if used + extra + w <= avail {
            keep[i] = true;
            used += extra + w;
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    let fixed: usize = parts
        .iter()
        .zip(&keep)
        .filter(|(p, k)| **k && !p.flexible)
        .map(|(p, _)| width(&p.spans))
        .sum::<usize>()
        + sep * keep.iter().filter(|k| **k).count().saturating_sub(1);
    for (p, k) in parts.into_iter().zip(keep) {
        if !k {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(" │ ", t.bar.patch(t.muted)));
        }
        if p.flexible {
            let room = avail.saturating_sub(fixed);
            for s in p.spans {
                spans.push(Span::styled(fit(&s.content, room), s.style));
            }
        } else {
            spans.extend(p.spans);
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.bar), area);
}

pub fn bottom_line(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let w = area.width as usize;
    let line = match &app.mode {
        Mode::Filter => {
            let q = &app.fleet.filter;
            let mut spans = vec![
                Span::styled("/", t.bar_key),
                Span::styled(q.text.clone(), t.bar),
                Span::styled("█", t.bar_key),
            ];
            let status = if let Some(p) = q.problems.first() {
                Span::styled(format!("  {p}"), t.bar.patch(t.warning))
            } else {
                Span::styled(
                    format!(
                        "  {} of {} circuits · Enter keeps · Esc clears",
                        app.fleet.visible.len(),
                        app.data.index.rows.len()
                    ),
                    t.bar.patch(t.muted),
                )
            };
            spans.push(status);
            Line::from(spans)
        }
        Mode::Palette(p) => Line::from(vec![
            Span::styled(":", t.bar_key),
            Span::styled(p.input.clone(), t.bar),
            Span::styled("█", t.bar_key),
            Span::styled(
                "  Tab completes · ↑↓ choose · Enter runs · Esc cancels",
                t.bar.patch(t.muted),
            ),
        ]),
        Mode::Normal => match &app.note {
            Some(n) => {
                let style = match n.level {
                    NoteLevel::Info => t.note,
                    NoteLevel::Warning => t.warning,
                    NoteLevel::Error => t.error,
                };
                Line::from(Span::styled(fit(&n.text, w), t.bar.patch(style)))
            }
            None => hints(app, w),
        },
    };
    frame.render_widget(Paragraph::new(line).style(t.bar), area);
}

/// `Enter open  / filter  : cmd ...` from the keymap, as many as fit.
fn hints(app: &App, width: usize) -> Line<'static> {
    let t = &app.theme;
    let mut spans = Vec::new();
    let mut used = 0;
    for (action, key, label) in app.settings.keymap.hint_entries(&app.contexts()) {
        if !applies(app, action) {
            continue;
        }
        let w = key.width() + 1 + label.width() + 2;
        if used + w > width {
            break;
        }
        used += w;
        spans.push(Span::styled(key, t.bar_key));
        spans.push(Span::styled(format!(" {label}  "), t.bar));
    }
    Line::from(spans)
}

/// Whether a hinted key does anything on the screen as it is (a comment box without a failing
/// test gate has no override to offer; a circuit without pending approvals nothing to approve).
fn applies(app: &App, action: crate::action::Action) -> bool {
    use crate::action::Action;
    use crate::app::Route;
    use crate::service::decide::Verdict;
    if let Some(form) = app.decide_form() {
        let overridable = form.verdict == Verdict::Approve
            && form
                .key()
                .and_then(|k| app.approvals.rows.iter().find(|r| r.key == k))
                .and_then(|r| r.approve.as_ref())
                .is_some_and(|c| c.needs_override());
        return match action {
            Action::NextApproval => form.keys.len() > 1,
            Action::ToggleOverride => overridable,
            Action::NextField => overridable && form.override_gate,
            _ => true,
        };
    }
    match (app.route(), action) {
        (Route::Bulk(b), Action::ToggleOverride) => {
            b.verdict == Verdict::Approve && b.rows.iter().any(crate::flows::BulkRow::overridable)
        }
        (Route::Bulk(b), Action::NextField) => b.override_gate,
        (Route::Progress(_) | Route::Audit, Action::Open) => false,
        // In a sub view the quit key goes back, which the back key's hint already says.
        (_, Action::Quit) => app.routes.len() <= 1,
        (Route::Env, Action::Rollback) => app
            .snapshot()
            .is_some_and(|s| crate::service::rollback::environment_release(s).is_ok()),
        (Route::Circuit(v), Action::Approve | Action::Reject) => app
            .data
            .circuit(&v.circuit)
            .is_some_and(|c| c.pending_approvals > 0),
        _ => true,
    }
}
