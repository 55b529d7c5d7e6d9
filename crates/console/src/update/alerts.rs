//! The fired alerts list (`:alerts`, `W`): move, open the alert's circuit, roll it back; and the
//! circuit's Jobs tab, whose jobs are read when the tab is first shown.

use crate::action::{Action, Effect, Outcome, Slot};
use crate::app::{App, NoteLevel, Route, Tab};
use crate::domain::CircuitRef;
use crate::layout;
use crate::service::incidents::CircuitJobs;

use super::Handled;

/// Rows of the alerts table on screen.
pub fn page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(s.body).max(1)
}

fn count(app: &App) -> usize {
    app.snapshot().map(|s| s.alerts.len()).unwrap_or(0)
}

/// Show the alerts list (from anywhere; once on the stack).
pub fn open(app: &mut App) -> Vec<Effect> {
    if matches!(app.route(), Route::Help) {
        app.routes.pop();
    }
    if !matches!(app.route(), Route::Alerts) {
        app.routes.push(Route::Alerts);
    }
    let (n, p) = (count(app), page(app));
    app.alerts.follow(n, p);
    if n == 0 && app.snapshot().is_some() {
        app.set_note(NoteLevel::Info, "no active alerts on the fleet");
    }
    Vec::new()
}

/// The circuit of the selected alert, when it names one.
fn selected_circuit(app: &App) -> Result<CircuitRef, String> {
    let snap = app.snapshot().ok_or("no fleet data yet")?;
    let a = snap
        .alerts
        .get(app.alerts.selected)
        .ok_or("no alert selected")?;
    a.circuit.clone().ok_or_else(|| {
        format!(
            "{} names no circuit (no plant_id/circuit_id dimensions, and its target is {})",
            a.alert.rule_name(),
            if a.alert.target_resource.is_empty() {
                "not given"
            } else {
                a.alert.target_resource.rsplit('/').next().unwrap_or("?")
            }
        )
    })
}

pub fn on_action(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let (n, p) = (count(app), page(app));
    let c = &mut app.alerts;
    match action {
        Action::Down => c.step(1, n, p),
        Action::Up => c.step(-1, n, p),
        Action::PageDown => c.step(p as isize, n, p),
        Action::PageUp => c.step(-(p as isize), n, p),
        Action::Top => c.to(0, n, p),
        Action::Bottom => c.to(n, n, p),
        Action::Open | Action::Rollback => match selected_circuit(app) {
            Ok(circuit) => {
                let effects = if action == Action::Open {
                    super::open_circuit(app, circuit)
                } else {
                    super::rollback::open(app, circuit)
                };
                return (Handled::Yes, effects);
            }
            Err(why) => app.set_note(NoteLevel::Warning, why),
        },
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// Read the jobs of the circuit on top when its Jobs tab shows and they are not there yet.
pub fn load_jobs_if_shown(app: &mut App) -> Vec<Effect> {
    let wanted = app
        .circuit_view()
        .is_some_and(|v| v.tab == Tab::Jobs && v.jobs.value.is_none() && !v.jobs.loading);
    if !wanted {
        return Vec::new();
    }
    load_jobs(app)
}

/// Read the jobs of the circuit on top (again).
pub fn load_jobs(app: &mut App) -> Vec<Effect> {
    let generation = app.gens.next(Slot::Jobs);
    let Some(v) = app.circuit_view_mut() else {
        return Vec::new();
    };
    v.jobs.loading = true;
    vec![Effect::LoadJobs {
        generation,
        circuit: v.circuit.clone(),
    }]
}

pub fn on_jobs(
    app: &mut App,
    generation: u64,
    circuit: &CircuitRef,
    result: Outcome<CircuitJobs>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Jobs, generation) {
        return Vec::new();
    }
    for r in app.routes.iter_mut() {
        if let Route::Circuit(v) = r
            && &v.circuit == circuit
        {
            v.jobs.settle(result.clone());
        }
    }
    Vec::new()
}
