//! The fired alerts list (`:alerts`, `W`): move, open the alert's circuit, roll it back,
//! acknowledge or close the alert (a comment box, Enter sends it once; the row takes the
//! re-read state); and the circuit's Jobs tab, whose jobs are read when the tab is first shown.

use std::sync::Arc;

use crate::action::{Action, Effect, Outcome, Slot};
use crate::app::{App, NoteLevel, Origin, Overlay, Route, Tab};
use crate::domain::CircuitRef;
use crate::domain::incidents::AlertState;
use crate::flows::{AlertBox, TextField};
use crate::layout;
use crate::service::alert_change::{AlertChangeOutcome, AlertChangeRequest, verb};
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
        Action::AcknowledgeAlert => return (Handled::Yes, open_box(app, AlertState::Acknowledged)),
        Action::CloseAlert => return (Handled::Yes, open_box(app, AlertState::Closed)),
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

/// `a` / `c`: the comment box for the selected alert. Policy (read-only) is asked here so
/// that nothing is typed for a change that cannot be sent; the service asks again.
fn open_box(app: &mut App, to: AlertState) -> Vec<Effect> {
    if app.settings.policy.read_only {
        app.set_note(
            NoteLevel::Warning,
            format!("read-only: relcon will not {} alerts", verb(to)),
        );
        return Vec::new();
    }
    if app.data.origin == Origin::Cache {
        app.set_note(
            NoteLevel::Warning,
            "the alerts on screen are from an earlier run's cache: wait for the refresh (r)",
        );
        return Vec::new();
    }
    let Some(a) = app
        .snapshot()
        .and_then(|s| s.alerts.get(app.alerts.selected))
        .cloned()
    else {
        app.set_note(NoteLevel::Info, "no alert selected");
        return Vec::new();
    };
    if a.alert.state == to {
        app.set_note(
            NoteLevel::Info,
            format!(
                "{} is {} already",
                a.alert.rule_name(),
                to.as_str().to_ascii_lowercase()
            ),
        );
        return Vec::new();
    }
    app.overlay = Some(Overlay::AlertNote(AlertBox {
        alert: a.alert.id.clone(),
        rule: a.alert.rule_name().to_owned(),
        severity: a.alert.severity.as_str().to_owned(),
        circuit: a.circuit.clone(),
        from: a.alert.state,
        to,
        comment: TextField::default(),
        sending: false,
    }));
    Vec::new()
}

/// The alert box has the keys: type a comment, Enter sends, Esc cancels (nothing sent).
pub fn on_box(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(b) = app.alert_box_mut() else {
        return Vec::new();
    };
    if b.comment.edit(action) {
        return Vec::new();
    }
    match action {
        Action::Back => app.close_alert_box(),
        Action::ForceQuit => return super::quit(app),
        Action::Accept => {
            b.sending = true;
            let comment = b.comment.filled().then(|| b.comment.value());
            return vec![Effect::ChangeAlert {
                request: AlertChangeRequest {
                    alert: b.alert.clone(),
                    to: b.to,
                    comment,
                },
            }];
        }
        _ => {}
    }
    Vec::new()
}

/// The change came back: say how it ended and put the alert's re-read state in its row; a
/// refresh brings the circuit's summary (and drops a closed alert from the list).
pub fn on_changed(app: &mut App, outcome: AlertChangeOutcome) -> Vec<Effect> {
    // The box of this change, if still open (it may have been closed while sending, and a
    // box for another alert opened since).
    if app
        .alert_box()
        .is_some_and(|b| b.sending && b.alert.eq_ignore_ascii_case(outcome.alert_id()))
    {
        app.close_alert_box();
    }
    let level = match outcome.exit_code() {
        0 => NoteLevel::Info,
        1 | 3 => NoteLevel::Warning,
        _ => NoteLevel::Error,
    };
    app.set_note(level, outcome.describe());
    let Some(after) = outcome.alert() else {
        return Vec::new();
    };
    if let Some(snap) = app.data.snapshot.as_mut() {
        let snap = Arc::make_mut(snap);
        for a in snap.alerts.iter_mut().filter(|a| a.alert.id == after.id) {
            a.alert.state = AlertState::parse(&after.state);
            a.alert.modified_by.clone_from(&after.modified_by);
            a.alert.modified_at = after.modified_at.or(a.alert.modified_at);
        }
    }
    let mut effects = super::ops::load(app);
    effects.extend(super::data::request_refresh(app));
    effects
}
