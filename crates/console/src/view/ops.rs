//! Operations (in flight and recent, from the journal and live progress: state, target, actor,
//! the SLA countdown or the time to a verified restore, the last error) and the audit log
//! (the chain's verification on top, entries newest first, break-glass marked, the selected
//! entry in full).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::progress::{sla_span, state_symbol};
use super::table::{self, Columns};
use super::widgets::{self, block, fit, pad};
use crate::app::App;
use crate::layout;
use crate::service::journal::OpState;

pub fn render_ops(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let in_flight = app.ops.in_flight().count();
    let b = block(
        t,
        format!(
            " Operations · {} in flight · {} in the journal ",
            in_flight,
            app.ops.list.len()
        ),
        true,
    );
    let inner = b.inner(body);
    frame.render_widget(b, body);
    if app.ops.list.is_empty() {
        let text = match (&app.ops.error, app.ops.loaded) {
            (Some(e), _) => format!("The journal could not be read: {e}"),
            (None, false) => "Reading the journal…".to_owned(),
            (None, true) => "No operation yet: approvals, rejections and rollbacks \
                             sent from relcon (console or CLI) show here."
                .to_owned(),
        };
        super::empty_state(app, frame, body, vec![Line::from(text)]);
        return;
    }
    let w = inner.width as usize;
    // Columns shrink with the screen; the actor goes first, the note takes what is left.
    let wide = w >= 130;
    let (started, action, target, by) = if wide { (8, 20, 40, 24) } else { (5, 9, 22, 0) };
    let cols = Columns::new(2, w)
        .col("Age", started)
        .col("Action", action)
        .col("Target", target)
        .col("By", by)
        .col("State", 12)
        .col("SLA / time", 18);
    let note_w = cols.rest();
    let mut lines = vec![cols.header(t, "Note")];
    let c = app.ops.cursor;
    let rows = inner.height.saturating_sub(1) as usize;
    for (i, op) in table::window(&app.ops.list, c, rows) {
        let style = match op.state {
            OpState::Verified => t.ok,
            OpState::Failed | OpState::NotSent => t.alert,
            _ => t.note,
        };
        let sla = sla_span(app, op).unwrap_or_else(|| Span::styled("", t.muted));
        // A verified rollback's watch says more than its reason: "watching, 42 min left, ...".
        let watch = op.watch.as_ref();
        let watch_fired =
            watch.is_some_and(|w| w.ended.as_ref().is_some_and(|e| !e.outcome.is_clean()));
        let note = watch
            .map(|w| w.brief(app.now))
            .or_else(|| op.last_error.clone())
            .or_else(|| op.waiting.clone().filter(|_| !op.state.is_final()))
            .or_else(|| op.reason.clone().map(|r| format!("reason: {r}")))
            .unwrap_or_default();
        // A verified rollback's watch takes the state column: watching, watch clean, alert
        // fired, job failed.
        let (state_text, state_style) = match watch {
            Some(w) if w.is_open() => (w.state_word(), t.note),
            Some(_) if watch_fired => (watch.map_or("", |w| w.state_word()), t.alert),
            Some(w) => (w.state_word(), t.ok),
            None => (op.state.as_str(), style),
        };
        let mut cells = vec![
            (widgets::age(app.now - op.requested_at), t.muted),
            (op.action().to_owned(), t.text),
            (op.target(), t.text),
        ];
        if by > 0 {
            cells.push((op.actor.clone(), t.muted));
        }
        cells.push((state_text.to_owned(), state_style));
        cells.push((sla.content.to_string(), sla.style));
        let mut spans = vec![Span::styled(format!("{} ", state_symbol(op.state)), style)];
        spans.extend(cols.cells(cells));
        spans.push(Span::styled(
            fit(&note, note_w),
            if watch_fired {
                t.alert
            } else if op.last_error.is_some() && watch.is_none() {
                t.error
            } else {
                t.muted
            },
        ));
        lines.push(table::row_line(t, spans, c, i, true));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn render_audit(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let (top, table, detail) = layout::audit(body);
    let data = app.audit.data.value.as_deref();
    let b = block(t, " Audit log: chain verification ", false);
    let inner = b.inner(top);
    frame.render_widget(b, top);
    let verdict = match (data, app.audit.data.loading, &app.audit.data.error) {
        (_, _, Some(e)) => Line::from(Span::styled(format!("✖ cannot read the log: {e}"), t.error)),
        (None, true, _) => Line::from(Span::styled("⟳ reading and verifying…", t.note)),
        (None, _, _) => Line::from(""),
        (Some(d), _, _) => match &d.verification {
            Err(e) => Line::from(Span::styled(format!("✖ cannot verify: {e}"), t.error)),
            Ok(v) => match &v.first_bad {
                None => Line::from(vec![
                    Span::styled("✓ chain intact", t.ok),
                    Span::styled(
                        format!(
                            " · {} {} · every entry chains by SHA-256 to the one before, none missing",
                            v.entries,
                            if v.entries == 1 { "entry" } else { "entries" }
                        ),
                        t.muted,
                    ),
                ]),
                Some(bad) => Line::from(vec![
                    Span::styled(" TAMPERED ", t.stale),
                    Span::styled(
                        fit(
                            &format!(
                                " line {}{}: {}",
                                bad.line,
                                bad.seq.map(|s| format!(" (entry {s})")).unwrap_or_default(),
                                bad.problem
                            ),
                            inner.width.saturating_sub(11) as usize,
                        ),
                        t.alert,
                    ),
                ]),
            },
        },
    };
    frame.render_widget(Paragraph::new(verdict), inner);

    let entries = data.map(|d| d.entries.as_slice()).unwrap_or(&[]);
    let b = block(
        t,
        format!(" Entries, newest first · {} ", entries.len()),
        true,
    );
    let inner = b.inner(table);
    frame.render_widget(b, table);
    let w = inner.width as usize;
    if let Some(e) = data.and_then(|d| d.entries_error.as_ref()) {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(fit(e, w), t.error))),
            inner,
        );
    } else if entries.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                "No entries yet: every decision and rollback, refused ones included, is recorded here.",
                t.muted,
            ))),
            inner,
        );
    } else {
        let wide = w >= 130;
        let (seq_w, time_w, actor_w, action_w, target_w) = if wide {
            (5, 19, 24, 20, 40)
        } else {
            (4, 11, 12, 8, 18)
        };
        let time_fmt = if wide {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%m-%d %H:%M"
        };
        let bad_seq = data
            .and_then(|d| d.verification.as_ref().ok())
            .and_then(|v| v.first_bad.as_ref())
            .and_then(|b| b.seq);
        let cols = Columns::new(2, w)
            .col("#", seq_w)
            .col("Time (UTC)", time_w)
            .col("Actor", actor_w)
            .col("Action", action_w)
            .col("Target", target_w);
        let mut lines = vec![cols.header(t, "Result")];
        let c = app.audit.cursor;
        let rows = inner.height.saturating_sub(1) as usize;
        for (i, e) in table::window(entries, c, rows) {
            let result_style =
                if e.result.starts_with("refused") || e.result.starts_with("conflict") {
                    t.warn
                } else if e.result.starts_with("failed") || e.result.starts_with("not sent") {
                    t.alert
                } else {
                    t.text
                };
            let mark = if bad_seq == Some(e.seq) {
                Span::styled("✖ ", t.alert)
            } else {
                Span::raw("  ")
            };
            let mut spans = vec![mark];
            spans.extend(cols.cells([
                (e.seq.to_string(), t.muted),
                (e.time.format(time_fmt).to_string(), t.muted),
                (e.actor.clone(), t.text),
                (e.action.clone(), t.text),
                (e.target.clone(), t.text),
            ]));
            let mut room = cols.rest();
            if e.inputs.override_gate {
                spans.push(Span::styled("BREAK-GLASS", t.prod));
                spans.push(Span::raw(" "));
                room = room.saturating_sub(12);
            }
            // What the operator said goes after the result, as room allows.
            let said = [
                e.inputs.comment.as_deref().map(|c| format!(" · “{c}”")),
                e.inputs
                    .reason
                    .as_deref()
                    .map(|r| format!(" · reason: {r}")),
            ]
            .into_iter()
            .flatten()
            .collect::<String>();
            let result = fit(&e.result, room);
            let used = unicode_width::UnicodeWidthStr::width(result.as_str());
            spans.push(Span::styled(result, result_style));
            spans.push(Span::styled(fit(&said, room.saturating_sub(used)), t.muted));
            lines.push(table::row_line(t, spans, c, i, true));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    let b = block(t, " Entry ", false);
    let inner = b.inner(detail);
    frame.render_widget(b, detail);
    let w = inner.width as usize;
    let Some(e) = app.audit.selected() else {
        return;
    };
    let mut lines = Vec::new();
    let mut head = vec![Span::styled(
        fit(
            &format!(
                "#{} {} · {} · {}",
                e.seq,
                e.time.format("%Y-%m-%d %H:%M:%S UTC"),
                e.actor,
                e.action
            ),
            w.saturating_sub(14),
        ),
        t.text,
    )];
    if e.inputs.override_gate {
        head.push(Span::raw(" "));
        head.push(Span::styled(" BREAK-GLASS ", t.prod));
    }
    lines.push(Line::from(head));
    let mut push = |label: &str, text: &str| {
        for (i, chunk) in widgets::wrap(text, w.saturating_sub(10))
            .into_iter()
            .enumerate()
        {
            lines.push(Line::from(vec![
                Span::styled(pad(if i == 0 { label } else { "" }, 10), t.header),
                Span::styled(chunk, t.text),
            ]));
        }
    };
    push("target", &e.target);
    push("result", &e.result);
    if let Some(c) = &e.inputs.comment {
        push("comment", c);
    }
    if let Some(r) = &e.inputs.reason {
        push("reason", r);
    }
    if !e.request_ids.is_empty() {
        push("requests", &e.request_ids.join(", "));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
