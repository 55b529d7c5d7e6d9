//! Operations and the audit log: the journal read at start (what a crash left unfinished is
//! tracked again), progress messages of tracked operations (a late one is dropped), the ops
//! view, one operation's progress screen, and the audit view with its chain verification.

use crate::action::{Action, Effect, Outcome, Slot};
use crate::app::{App, NoteLevel, Route};
use crate::flows::{AuditData, ProgressView};
use crate::layout;
use crate::service::journal::{OpKind, OpState, Operation};

use super::Handled;

/// At start: read the journal and resume what is unfinished.
pub fn start(app: &mut App) -> Vec<Effect> {
    let mut out = load(app);
    out.push(Effect::ResumeOps);
    out
}

/// Read the journal again.
pub fn load(app: &mut App) -> Vec<Effect> {
    let generation = app.gens.next(Slot::Ops);
    vec![Effect::LoadOps { generation }]
}

pub fn on_ops(app: &mut App, generation: u64, result: Outcome<Vec<Operation>>) -> Vec<Effect> {
    if !app.gens.accept(Slot::Ops, generation) {
        return Vec::new();
    }
    match result {
        Ok(list) => {
            for op in *list {
                app.ops.upsert(op);
            }
            app.ops.loaded = true;
            app.ops.error = None;
        }
        Err(e) => app.ops.error = Some(e),
    }
    let (len, page) = (app.ops.list.len(), ops_page(app));
    app.ops.cursor.follow(len, page);
    Vec::new()
}

/// A tracked operation moved. A verified rollback refreshes the fleet so it shows the restore.
pub fn on_progress(app: &mut App, op: Operation) -> Vec<Effect> {
    let was_final = app.ops.get(&op.id).is_some_and(|o| o.state.is_final());
    let (id, state, kind) = (op.id.clone(), op.state, op.kind.clone());
    let describe = ending(&op);
    if !app.ops.upsert(op) {
        return Vec::new();
    }
    if state.is_final() {
        app.ops.tracking.remove(&id);
    } else {
        app.ops.tracking.insert(id.clone());
    }
    if !state.is_final() || was_final {
        return Vec::new();
    }
    let watching = matches!(app.route(), Route::Progress(p) if p.op_id == id);
    if !watching && app.decide_form().is_none() {
        let level = if state == OpState::Verified {
            NoteLevel::Info
        } else {
            NoteLevel::Error
        };
        app.set_note(level, describe);
    }
    let rollback = matches!(
        kind,
        OpKind::Rollback { .. } | OpKind::EnvironmentRollback { .. }
    );
    if rollback && state == OpState::Verified {
        super::data::request_refresh(app)
    } else {
        Vec::new()
    }
}

/// One line on how an operation ended.
pub fn ending(op: &Operation) -> String {
    match (op.state, op.time_to_verified()) {
        (OpState::Verified, Some(d)) => format!(
            "✓ {} {}: verified in {}",
            op.action(),
            op.target(),
            crate::view::widgets::duration(d)
        ),
        (s, _) => format!(
            "✖ {} {}: {}{}",
            op.action(),
            op.target(),
            s.as_str(),
            op.last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
    }
}

pub fn open_ops(app: &mut App) -> Vec<Effect> {
    app.routes.truncate(1);
    app.routes.push(Route::Ops);
    load(app)
}

pub fn open_audit(app: &mut App) -> Vec<Effect> {
    app.routes.truncate(1);
    app.routes.push(Route::Audit);
    load_audit(app)
}

fn load_audit(app: &mut App) -> Vec<Effect> {
    app.audit.data.loading = true;
    let generation = app.gens.next(Slot::Audit);
    vec![Effect::LoadAudit { generation }]
}

pub fn on_audit(app: &mut App, generation: u64, result: Outcome<AuditData>) -> Vec<Effect> {
    if !app.gens.accept(Slot::Audit, generation) {
        return Vec::new();
    }
    app.audit.data.settle(result);
    let (len, page) = (audit_len(app), audit_page(app));
    app.audit.cursor.follow(len, page);
    Vec::new()
}

pub fn ops_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(s.body).max(1)
}

pub fn audit_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(layout::audit(s.body).1).max(1)
}

fn audit_len(app: &App) -> usize {
    app.audit
        .data
        .value
        .as_ref()
        .map(|d| d.entries.len())
        .unwrap_or(0)
}

fn list_keys(c: &mut crate::state::Cursor, action: Action, len: usize, page: usize) -> bool {
    match action {
        Action::Down | Action::ScrollDown => c.step(1, len, page),
        Action::Up | Action::ScrollUp => c.step(-1, len, page),
        Action::PageDown => c.step(page as isize, len, page),
        Action::PageUp => c.step(-(page as isize), len, page),
        Action::Top => c.to(0, len, page),
        Action::Bottom => c.to(len, len, page),
        _ => return false,
    }
    true
}

pub fn on_ops_view(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let (len, page) = (app.ops.list.len(), ops_page(app));
    if list_keys(&mut app.ops.cursor, action, len, page) {
        return (Handled::Yes, Vec::new());
    }
    match action {
        Action::Open => {
            if let Some(op) = app.ops.list.get(app.ops.cursor.selected) {
                let op_id = op.id.clone();
                app.routes
                    .push(Route::Progress(ProgressView { op_id, scroll: 0 }));
            }
            (Handled::Yes, Vec::new())
        }
        Action::Refresh => (Handled::Yes, load(app)),
        _ => (Handled::No, Vec::new()),
    }
}

pub fn on_audit_view(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let (len, page) = (audit_len(app), audit_page(app));
    if list_keys(&mut app.audit.cursor, action, len, page) {
        return (Handled::Yes, Vec::new());
    }
    match action {
        Action::Refresh => (Handled::Yes, load_audit(app)),
        _ => (Handled::No, Vec::new()),
    }
}

pub fn on_progress_view(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let Some(Route::Progress(p)) = app.routes.last_mut() else {
        return (Handled::No, Vec::new());
    };
    match action {
        Action::Down | Action::ScrollDown => p.scroll += 1,
        Action::Up | Action::ScrollUp => p.scroll = p.scroll.saturating_sub(1),
        Action::PageDown => p.scroll += 10,
        Action::PageUp => p.scroll = p.scroll.saturating_sub(10),
        Action::Top => p.scroll = 0,
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}
