//! The approvals list (selection skips release headings; the selected item's evidence loads in
//! the background) and the environment release matrix.

use crate::action::{Action, ApprovalKey, Effect, Slot};
use crate::app::{App, ApprovalLine, NoteLevel, Route};
use crate::approvals_model;
use crate::layout;
use crate::service::decide::Verdict;

use super::Handled;

fn list_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (list, _) = layout::approvals(s.body);
    layout::box_rows(list).max(1)
}

fn env_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (_, matrix) = layout::env(s.body);
    layout::table_rows(matrix).max(1)
}

/// Select the line of `key` again after a rebuild, else the first item.
/// When the item is gone (decided), the one that took its place in the list is selected, so
/// that deciding one item after another walks down the list instead of jumping to its top.
pub fn reselect(app: &mut App, key: Option<ApprovalKey>, was_at: Option<usize>) {
    let a = &app.approvals;
    let target = key
        .and_then(|k| a.rows.iter().position(|r| r.key == k))
        .or_else(|| was_at.map(|i| i.min(a.rows.len().saturating_sub(1))))
        .unwrap_or(0);
    let line = a
        .lines
        .iter()
        .position(|l| *l == ApprovalLine::Item(target))
        .unwrap_or(0);
    let (len, page) = (a.lines.len(), list_page(app));
    app.approvals.cursor.to(line, len, page);
    // Show the heading of the first release too.
    if line == 1 {
        app.approvals.cursor.offset = 0;
    }
}

/// Move among items, skipping release headings.
fn step(app: &mut App, delta: isize) {
    let lines = &app.approvals.lines;
    if lines.is_empty() {
        return;
    }
    let len = lines.len();
    let mut i = app.approvals.cursor.selected as isize;
    let dir = delta.signum();
    let mut remaining = delta.abs();
    let mut last_item = i;
    while remaining > 0 {
        i += dir;
        if i < 0 || i >= len as isize {
            break;
        }
        if matches!(lines[i as usize], ApprovalLine::Item(_)) {
            last_item = i;
            remaining -= 1;
        }
    }
    let page = list_page(app);
    app.approvals.cursor.to(last_item as usize, len, page);
    // Keep the heading of the first release visible at the top.
    if app.approvals.cursor.selected == 1 {
        app.approvals.cursor.offset = 0;
    }
    app.approvals.scroll = 0;
}

/// Ask for the selected item's evidence unless it is loaded (or `force`).
pub fn load_selected(app: &mut App, force: bool) -> Vec<Effect> {
    let Some(snapshot) = app.data.snapshot.clone() else {
        return Vec::new();
    };
    let Some(row) = app.approvals.selected() else {
        return Vec::new();
    };
    let key = row.key;
    let Some(item) = row.item(&snapshot).cloned() else {
        return Vec::new();
    };
    let entry = app.approvals.evidence.entry(key).or_default();
    if !force && (entry.value.is_some() || entry.loading) {
        return Vec::new();
    }
    entry.loading = true;
    let generation = app.gens.next(Slot::ApprovalEvidence);
    vec![Effect::LoadApprovalEvidence {
        generation,
        key,
        item: Box::new(item),
        snapshot,
    }]
}

pub fn on_action(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = list_page(app) as isize;
    let before = app.approvals.selected().map(|r| r.key);
    match action {
        Action::Down if app.approvals.evidence_focus => app.approvals.scroll += 1,
        Action::Up if app.approvals.evidence_focus => {
            app.approvals.scroll = app.approvals.scroll.saturating_sub(1)
        }
        Action::ScrollDown => app.approvals.scroll += 1,
        Action::ScrollUp => app.approvals.scroll = app.approvals.scroll.saturating_sub(1),
        Action::Down => step(app, 1),
        Action::Up => step(app, -1),
        Action::PageDown => step(app, page),
        Action::PageUp => step(app, -page),
        Action::Top => step(app, -(app.approvals.lines.len() as isize)),
        Action::Bottom => step(app, app.approvals.lines.len() as isize),
        Action::Approve => {
            return (
                Handled::Yes,
                super::decide::from_approvals(app, Verdict::Approve),
            );
        }
        Action::Reject => {
            return (
                Handled::Yes,
                super::decide::from_approvals(app, Verdict::Reject),
            );
        }
        Action::Mark | Action::MarkStage | Action::MarkAll => super::bulk::mark(app, action),
        Action::Back if !app.approvals.marks.is_empty() => {
            app.approvals.marks.clear();
            app.set_note(NoteLevel::Info, "marks cleared");
        }
        Action::FocusNext => app.approvals.evidence_focus = !app.approvals.evidence_focus,
        Action::Right => app.approvals.evidence_focus = true,
        Action::Left => app.approvals.evidence_focus = false,
        Action::Open | Action::ShowEnv => {
            let env_only = app
                .approvals
                .selected()
                .zip(app.data.snapshot.as_ref())
                .and_then(|(r, s)| r.item(s))
                .is_some_and(|i| i.environment_only.is_some());
            if env_only {
                let key = app.approvals.selected().map(|r| r.key);
                return (Handled::Yes, open_env(app, key));
            }
            if action == Action::ShowEnv {
                return (Handled::Yes, open_env(app, None));
            }
            app.approvals.evidence_focus = true;
        }
        _ => return (Handled::No, Vec::new()),
    }
    let after = app.approvals.selected().map(|r| r.key);
    let effects = if after != before {
        load_selected(app, false)
    } else {
        Vec::new()
    };
    (Handled::Yes, effects)
}

/// Recompute the environment matrix for its release after a new snapshot.
pub fn rebuild_env(app: &mut App) {
    let key = app.env.key.or_else(|| first_env_key(app));
    app.env.key = key;
    app.env.rows = key
        .and_then(|k| app.approvals.rows.iter().find(|r| r.key == k))
        .map(approvals_model::env_matrix)
        .unwrap_or_default();
    let (len, page) = (app.env.rows.len(), env_page(app));
    app.env.cursor.follow(len, page);
}

/// The pending environment-only release to show: Prod first.
fn first_env_key(app: &App) -> Option<ApprovalKey> {
    let s = app.data.snapshot.as_ref()?;
    app.approvals
        .rows
        .iter()
        .filter(|r| r.item(s).is_some_and(|i| i.environment_only.is_some()))
        .max_by_key(|r| r.key.stage)
        .map(|r| r.key)
}

/// Show the environment matrix of `key` (or the first pending environment release).
pub fn open_env(app: &mut App, key: Option<ApprovalKey>) -> Vec<Effect> {
    let Some(key) = key.or_else(|| first_env_key(app)) else {
        // Nothing to approve; the view still offers the environment rollback when there is one.
        let rollback = app
            .snapshot()
            .is_some_and(|s| crate::service::rollback::environment_release(s).is_ok());
        if rollback {
            app.env.key = None;
            app.env.rows.clear();
            if !matches!(app.route(), Route::Env) {
                app.routes.push(Route::Env);
            }
        } else {
            app.set_note(
                NoteLevel::Info,
                "no environment-only release is waiting for approval",
            );
        }
        return Vec::new();
    };
    if app.env.key != Some(key) {
        app.env.key = Some(key);
        app.env.cursor = Default::default();
    }
    rebuild_env(app);
    if !matches!(app.route(), Route::Env) {
        app.routes.push(Route::Env);
    }
    Vec::new()
}

pub fn on_env(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let (len, page) = (app.env.rows.len(), env_page(app));
    let c = &mut app.env.cursor;
    match action {
        Action::Down => c.step(1, len, page),
        Action::Up => c.step(-1, len, page),
        Action::PageDown => c.step(page as isize, len, page),
        Action::PageUp => c.step(-(page as isize), len, page),
        Action::Top => c.to(0, len, page),
        Action::Bottom => c.to(len, len, page),
        Action::Approve | Action::Reject => {
            let verdict = if action == Action::Approve {
                Verdict::Approve
            } else {
                Verdict::Reject
            };
            let keys = app.env.key.into_iter().collect();
            return (Handled::Yes, super::decide::open_box(app, verdict, keys));
        }
        Action::Rollback => return (Handled::Yes, super::rollback::open_env(app)),
        Action::Open => {
            let circuit = app
                .env
                .rows
                .get(app.env.cursor.selected)
                .map(|g| g.circuit.clone());
            return match circuit {
                Some(c) => (Handled::Yes, super::open_circuit(app, c)),
                None => (Handled::Yes, Vec::new()),
            };
        }
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// Keep approvals and env cursors valid after a resize.
pub fn reflow(app: &mut App) {
    let (lp, ep) = (list_page(app), env_page(app));
    let (ll, el) = (app.approvals.lines.len(), app.env.rows.len());
    app.approvals.cursor.follow(ll, lp);
    app.env.cursor.follow(el, ep);
}

/// Open the approvals view and load the selection's evidence.
pub fn open(app: &mut App) -> Vec<Effect> {
    app.routes.truncate(1);
    app.routes.push(Route::Approvals);
    load_selected(app, false)
}
