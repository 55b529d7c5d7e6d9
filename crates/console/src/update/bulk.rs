//! Marks in the approvals list and the bulk review table: one row per marked approval with
//! what policy says for you, one comment for all, then a result per item in the same table.

use crate::action::{Action, ApprovalKey, Effect, Slot};
use crate::app::{App, ApprovalLine, NoteLevel, Route};
use crate::flows::{BulkPhase, BulkResult, BulkRow, BulkState, Field};
use crate::layout;
use crate::service::decide::{DecisionOutcome, DecisionRequest, Verdict};

use super::Handled;
use super::decide::{data_problem, row};

/// Marks of the approvals list.
pub fn mark(app: &mut App, action: Action) {
    let keys: Vec<ApprovalKey> = match action {
        Action::Mark => app
            .approvals
            .selected()
            .map(|r| r.key)
            .into_iter()
            .collect(),
        Action::MarkStage => {
            let Some(stage) = app.approvals.selected().map(|r| r.key.stage) else {
                return;
            };
            app.approvals
                .rows
                .iter()
                .filter(|r| r.key.stage == stage)
                .map(|r| r.key)
                .collect()
        }
        _ => app.approvals.rows.iter().map(|r| r.key).collect(),
    };
    let marks = &mut app.approvals.marks;
    if keys.iter().all(|k| marks.contains(k)) {
        for k in &keys {
            marks.remove(k);
        }
    } else {
        marks.extend(keys.iter().copied());
    }
    if action == Action::Mark {
        // Space marks and moves on, as in a file manager.
        let next = app
            .approvals
            .lines
            .iter()
            .enumerate()
            .skip(app.approvals.cursor.selected + 1)
            .find(|(_, l)| matches!(l, ApprovalLine::Item(_)))
            .map(|(i, _)| i);
        if let Some(i) = next {
            let (len, page) = (app.approvals.lines.len(), list_page(app));
            app.approvals.cursor.to(i, len, page);
        }
    }
    let n = app.approvals.marks.len();
    app.set_note(
        NoteLevel::Info,
        if n == 0 {
            "no approval marked".to_owned()
        } else {
            format!(
                "{} marked · a approves, x rejects them (review table first) · Esc unmarks",
                crate::view::widgets::plural(n, "approval")
            )
        },
    );
}

fn list_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (list, _) = layout::approvals(s.body);
    layout::box_rows(list).max(1)
}

fn bulk_row(app: &App, key: ApprovalKey, verdict: Verdict) -> Option<BulkRow> {
    let snap = app.data.snapshot.as_ref()?;
    let r = row(app, key)?;
    let item = r.item(snap)?;
    Some(BulkRow {
        key,
        release_name: item.release_name.clone(),
        stage: item.stage,
        circuits: item.models.len(),
        approved: item.approved.len(),
        required: r.required,
        approval_id: item.pending_ids.first().cloned(),
        check: r.check(verdict),
        result: None,
    })
}

/// A bulk decision is being sent (said on screen): no other decision opens until its
/// results are in.
pub fn still_sending(app: &mut App) -> bool {
    let sending = app.bulk().is_some_and(|b| b.phase == BulkPhase::Sending);
    if sending {
        app.set_note(
            NoteLevel::Warning,
            "a bulk decision is still being sent; its results come first",
        );
    }
    sending
}

/// The review table of the marked approvals, in list order.
pub fn open_bulk(app: &mut App, verdict: Verdict) -> Vec<Effect> {
    if still_sending(app) {
        return Vec::new();
    }
    let keys: Vec<ApprovalKey> = app
        .approvals
        .rows
        .iter()
        .map(|r| r.key)
        .filter(|k| app.approvals.marks.contains(k))
        .collect();
    let rows: Vec<BulkRow> = keys
        .into_iter()
        .filter_map(|k| bulk_row(app, k, verdict))
        .collect();
    if rows.is_empty() {
        app.set_note(NoteLevel::Info, "no marked approval is pending any more");
        return Vec::new();
    }
    let state = BulkState {
        verdict,
        rows,
        comment: Default::default(),
        override_gate: false,
        reason: Default::default(),
        field: Field::Main,
        cursor: Default::default(),
        phase: BulkPhase::Review,
        generation: None,
        problem: None,
    };
    app.routes.push(Route::Bulk(Box::new(state)));
    Vec::new()
}

/// A new snapshot while the review table is open: judge its rows again.
pub fn rejudge(app: &mut App) {
    let Some(b) = app.bulk() else { return };
    if b.phase != BulkPhase::Review {
        return;
    }
    let verdict = b.verdict;
    let keys: Vec<ApprovalKey> = b.rows.iter().map(|r| r.key).collect();
    let fresh: Vec<Option<BulkRow>> = keys.iter().map(|k| bulk_row(app, *k, verdict)).collect();
    if let Some(b) = app.bulk_mut() {
        for (row, new) in b.rows.iter_mut().zip(fresh) {
            match new {
                Some(n) => *row = n,
                // Decided elsewhere meanwhile: nothing to send for it.
                None => {
                    row.approval_id = None;
                    row.check = None;
                }
            }
        }
    }
}

pub fn bulk_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::bulk(s.body).0.height.saturating_sub(3).max(1) as usize
}

pub fn on_bulk(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = bulk_page(app);
    let Some(b) = app.bulk_mut() else {
        return (Handled::No, Vec::new());
    };
    let len = b.rows.len();
    match action {
        Action::Down => b.cursor.step(1, len, page),
        Action::Up => b.cursor.step(-1, len, page),
        Action::PageDown => b.cursor.step(page as isize, len, page),
        Action::PageUp => b.cursor.step(-(page as isize), len, page),
        Action::Top => b.cursor.to(0, len, page),
        Action::Bottom => b.cursor.to(len, len, page),
        _ if b.phase == BulkPhase::Sending => match action {
            Action::Back | Action::Quit | Action::Accept => {
                let waiting = b.waiting();
                app.set_note(
                    NoteLevel::Info,
                    format!(
                        "{} still being sent; the table closes once every answer is in",
                        crate::view::widgets::plural(waiting, "decision")
                    ),
                );
            }
            Action::ForceQuit => return (Handled::Yes, super::quit(app)),
            _ => return (Handled::No, Vec::new()),
        },
        _ if b.phase == BulkPhase::Results => match action {
            Action::Back | Action::Quit | Action::Accept => close_bulk(app),
            _ => return (Handled::No, Vec::new()),
        },
        _ if b.field_mut().edit(action) => b.problem = None,
        Action::NextField if b.override_gate => {
            b.field = match b.field {
                Field::Main => Field::Reason,
                Field::Reason => Field::Main,
            };
        }
        Action::ToggleOverride => {
            if b.verdict == Verdict::Approve && b.rows.iter().any(BulkRow::overridable) {
                b.override_gate = !b.override_gate;
                b.field = if b.override_gate {
                    Field::Reason
                } else {
                    Field::Main
                };
                b.problem = None;
            } else {
                b.problem = Some("no row here needs a test-gate override".into());
            }
        }
        Action::Back => {
            app.routes.pop();
        }
        Action::ForceQuit => return (Handled::Yes, super::quit(app)),
        Action::Accept => return (Handled::Yes, send_bulk(app)),
        _ => {}
    }
    (Handled::Yes, Vec::new())
}

/// Leave the results: decisions that went through are unmarked.
fn close_bulk(app: &mut App) {
    let Some(Route::Bulk(b)) = app.routes.pop() else {
        return;
    };
    for r in &b.rows {
        if matches!(
            r.result,
            Some(BulkResult::Outcome(DecisionOutcome::Done { .. }))
        ) {
            app.approvals.marks.remove(&r.key);
        }
    }
}

fn send_bulk(app: &mut App) -> Vec<Effect> {
    let data = data_problem(app);
    let Some(snapshot) = app.data.snapshot.clone() else {
        return Vec::new();
    };
    let Some(b) = app.bulk_mut() else {
        return Vec::new();
    };
    let problem = if let Some(p) = data {
        Some(p)
    } else if !b.comment.filled() {
        Some("a comment is required: one comment goes with every decision".to_owned())
    } else if b.override_gate && !b.reason.filled() {
        Some("a break-glass override needs a reason (Tab to the reason field)".to_owned())
    } else if !b.rows.iter().any(|r| b.included(r)) {
        Some("nothing to send: every row is refused (the table says why)".to_owned())
    } else {
        None
    };
    if problem.is_some() {
        b.problem = problem;
        return Vec::new();
    }
    let generation = app.gens.next(Slot::Decide);
    let Some(b) = app.bulk_mut() else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let reason = b.override_gate.then(|| b.reason.value());
    for i in 0..b.rows.len() {
        let included = b.included(&b.rows[i]);
        let r = &mut b.rows[i];
        match (included, r.approval_id.clone()) {
            (true, Some(id)) => items.push((
                r.key,
                DecisionRequest {
                    approval_id: id,
                    verdict: b.verdict,
                    comment: b.comment.value(),
                    override_reason: if r.overridable() {
                        reason.clone()
                    } else {
                        None
                    },
                },
            )),
            _ => {
                let why = match &r.check {
                    _ if r.approval_id.is_none() => "no longer pending".to_owned(),
                    None => "identity unknown: policy cannot be checked".to_owned(),
                    Some(c) if c.needs_override() => {
                        format!("needs a break-glass override: {}", c.reasons().join("; "))
                    }
                    Some(c) => c.reasons().join("; "),
                };
                r.result = Some(BulkResult::Skipped(why));
            }
        }
    }
    b.phase = BulkPhase::Sending;
    b.generation = Some(generation);
    b.problem = None;
    vec![Effect::Decide {
        generation,
        items,
        snapshot,
    }]
}
