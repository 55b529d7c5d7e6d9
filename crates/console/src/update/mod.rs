//! `update`: the only place state changes. A message in, effects out; no IO. Actions go to the
//! input line when one is open, else to the view on top, else to the global handlers.

pub mod alerts;
pub mod approvals;
pub mod bulk;
pub mod circuit;
pub mod data;
pub mod decide;
pub mod fleet;
pub mod input;
pub mod job_retry;
pub mod ops;
pub mod rollback;

use crate::domain::CircuitRef;

use super::action::{Action, Effect, Msg};
use super::app::{App, CircuitView, Mode, NoteLevel, Overlay, Route};

/// Whether a view used an action, or it falls through to the global handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Yes,
    No,
}

/// Apply one message; return the work to do.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(a) => on_action(app, a),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            fleet::reflow(app);
            approvals::reflow(app);
            circuit::reflow(app);
            super::view::clamp_scroll(app);
            Vec::new()
        }
        Msg::Tick(now) => data::on_tick(app, now),
        Msg::Snapshot { generation, result } => data::on_snapshot(app, generation, result),
        Msg::Evidence {
            generation,
            circuit,
            result,
        } => data::on_evidence(app, generation, &circuit, result),
        Msg::ApprovalEvidence {
            generation,
            key,
            result,
        } => data::on_approval_evidence(app, generation, key, result),
        Msg::Comparison {
            generation,
            circuit,
            result,
        } => data::on_comparison(app, generation, &circuit, result),
        Msg::Decision {
            generation,
            key,
            outcome,
        } => decide::on_decision(app, generation, key, *outcome),
        Msg::RollbackPlan {
            generation,
            circuit,
            result,
        } => rollback::on_plan(app, generation, &circuit, result),
        Msg::EnvironmentPlan { generation, result } => {
            rollback::on_env_plan(app, generation, result)
        }
        Msg::Executed { generation, result } => rollback::on_executed(app, generation, result),
        Msg::OpProgress(op) => ops::on_progress(app, *op),
        Msg::Ops { generation, result } => ops::on_ops(app, generation, result),
        Msg::Audit { generation, result } => ops::on_audit(app, generation, result),
        Msg::Jobs {
            generation,
            circuit,
            result,
        } => alerts::on_jobs(app, generation, &circuit, result),
        Msg::AlertChanged { outcome } => alerts::on_changed(app, *outcome),
        Msg::JobRetryProgress { brief } => job_retry::on_progress(app, *brief),
        Msg::JobRetried { outcome } => job_retry::on_retried(app, *outcome),
    }
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    if action == Action::Noop {
        return Vec::new();
    }
    // A note lasts until the next key.
    app.note = None;
    match app.mode {
        Mode::Filter => return input::on_filter(app, action),
        Mode::Palette(_) => return input::on_palette(app, action),
        Mode::Normal => {}
    }
    if app.overlay_sending() {
        return on_sent_box(app, action);
    }
    match app.overlay {
        Some(Overlay::Decide(_)) => return decide::on_box(app, action),
        Some(Overlay::AlertNote(_)) => return alerts::on_box(app, action),
        Some(Overlay::JobRetry(_)) => return job_retry::on_box(app, action),
        None => {}
    }
    let (handled, effects) = match app.route() {
        Route::Bulk(_) => bulk::on_bulk(app, action),
        Route::Rollback(_) => rollback::on_flow(app, action),
        Route::EnvRollback(_) => rollback::on_env_flow(app, action),
        Route::Progress(_) => ops::on_progress_view(app, action),
        Route::Ops => ops::on_ops_view(app, action),
        Route::Audit => ops::on_audit_view(app, action),
        Route::Fleet => fleet::on_action(app, action),
        Route::Circuit(_) => circuit::on_action(app, action),
        Route::Approvals => approvals::on_action(app, action),
        Route::Env => approvals::on_env(app, action),
        Route::Help => on_help(app, action),
        Route::Alerts => alerts::on_action(app, action),
    };
    let effects = if handled == Handled::Yes {
        effects
    } else {
        global(app, action)
    };
    super::view::clamp_scroll(app);
    effects
}

fn global(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::ForceQuit => quit(app),
        Action::Quit if app.routes.len() > 1 => {
            app.routes.pop();
            Vec::new()
        }
        Action::Quit => quit(app),
        Action::Back => back(app),
        Action::Help => {
            open_help(app);
            Vec::new()
        }
        Action::Palette => {
            input::open_palette(app);
            Vec::new()
        }
        Action::Filter => {
            // The filter finds circuits: it works on the fleet, from wherever it is asked for.
            app.routes.truncate(1);
            app.fleet.grid = false;
            app.fleet.focus = super::app::Pane::Right;
            app.mode = Mode::Filter;
            Vec::new()
        }
        Action::Refresh => data::request_refresh(app),
        Action::ShowFleet => {
            app.routes.truncate(1);
            Vec::new()
        }
        Action::ShowApprovals => approvals::open(app),
        Action::ShowEnv => approvals::open_env(app, None),
        Action::ShowOps => ops::open_ops(app),
        Action::ShowAudit => ops::open_audit(app),
        Action::ShowAlerts => alerts::open(app),
        _ => Vec::new(),
    }
}

fn back(app: &mut App) -> Vec<Effect> {
    if let Route::Fleet = app.route() {
        if !app.fleet.filter.is_empty() {
            fleet::set_filter(app, "");
            app.set_note(NoteLevel::Info, "filter cleared");
        } else if app.fleet.grid {
            app.fleet.grid = false;
        } else if app.fleet.plant_scope().is_some() {
            fleet::select_plant(app, 0);
        } else {
            let key = app
                .settings
                .keymap
                .key_for(&app.contexts(), Action::Quit)
                .map(|k| k.to_string())
                .unwrap_or_else(|| "q".into());
            app.set_note(
                NoteLevel::Info,
                format!("this is the top view; {key} quits"),
            );
        }
        return Vec::new();
    }
    app.routes.pop();
    Vec::new()
}

/// A box that has sent its change (decision, alert change, job retry): nothing more to type
/// or send. Esc closes it; the change goes on and its answer comes as a note (a retried job
/// in its row of the Jobs tab). Ctrl-C quits.
fn on_sent_box(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::ForceQuit => quit(app),
        Action::Back => {
            let answer = match app.overlay {
                Some(Overlay::JobRetry(_)) => "its row in the Jobs tab follows it",
                _ => "its answer comes as a note",
            };
            app.overlay = None;
            app.set_note(
                NoteLevel::Info,
                format!("the change goes on: {answer} (O: operations)"),
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub fn quit(app: &mut App) -> Vec<Effect> {
    app.quit = true;
    vec![Effect::Quit]
}

pub fn open_help(app: &mut App) {
    if !matches!(app.route(), Route::Help) {
        app.help_scroll = 0;
        app.routes.push(Route::Help);
    }
}

fn on_help(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    match action {
        Action::Down | Action::ScrollDown => app.help_scroll += 1,
        Action::Up | Action::ScrollUp => app.help_scroll = app.help_scroll.saturating_sub(1),
        Action::PageDown => app.help_scroll += 10,
        Action::PageUp => app.help_scroll = app.help_scroll.saturating_sub(10),
        Action::Top => app.help_scroll = 0,
        // The view stops at the last line.
        Action::Bottom => app.help_scroll = usize::MAX / 2,
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// Open a circuit's detail and load its evidence.
pub fn open_circuit(app: &mut App, circuit: CircuitRef) -> Vec<Effect> {
    if app.data.snapshot.is_none() {
        app.set_note(NoteLevel::Warning, "no fleet data yet");
        return Vec::new();
    }
    // The drift tab starts on the worst series: that is what an on-call engineer looks for.
    let worst = app.data.circuit(&circuit).and_then(|c| {
        let w = c.drift.worst.as_ref()?;
        c.drift
            .series
            .iter()
            .position(|s| s.feature == w.feature && s.metric == w.metric)
    });
    app.routes
        .push(Route::Circuit(Box::new(CircuitView::new(circuit))));
    circuit::refresh_actions(app);
    if let Some(i) = worst {
        let (page, n) = (circuit::drift_page(app), circuit::series_count(app));
        if let Some(v) = app.circuit_view_mut() {
            v.drift.to(i, n, page);
        }
    }
    data::load_evidence(app)
}
