//! Rolling back: a circuit (target list with last known good chosen, method, the plan, a typed
//! confirmation of the circuit id) or the environment of every Prod deployment (the plan, a
//! typed confirmation of the environment version). Executing hands over to the progress
//! screen; tracking goes on in the background whatever screen is shown.

use crate::action::{Action, Effect, Outcome, Slot};
use crate::app::{App, NoteLevel, Route};
use crate::domain::CircuitRef;
use crate::domain::ModelVersion;
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::{TargetChoice, choose_target, prod_history};
use crate::layout;
use crate::service::journal::{OpKind, Operation};
use crate::service::rollback::{EnvironmentPlan, ExecuteError, RollbackPlan, RollbackRequest};
use crate::state::Remote;
use crate::write::{
    Confirmation, EnvRollbackFlow, Field, ProgressView, RollbackFlow, RollbackStep,
};

use super::Handled;

/// The rollback target of a circuit in words (last known good, else previous), or why there
/// is none. Reads the release history: worked out per snapshot, not per frame.
pub fn target_words(app: &App, circuit: &CircuitRef) -> Result<String, String> {
    let snap = app.snapshot().ok_or("no fleet data yet")?;
    let history = prod_history(snap, circuit, &app.thresholds);
    choose_target(&history, TargetChoice::LastGood)
        .map(|e| format!("v{} (last known good)", e.version))
        .or_else(|_| {
            choose_target(&history, TargetChoice::Previous)
                .map(|e| format!("v{} (previous; not known good)", e.version))
        })
        .map_err(|e| e.to_string())
}

/// What `R` would do on a circuit, or why it cannot: shown before the key is pressed.
/// `target`: [`target_words`], when already worked out.
pub fn availability(
    app: &App,
    circuit: &CircuitRef,
    target: Option<&Result<String, String>>,
) -> Result<String, String> {
    if let Some(op) = in_flight_rollback(app, circuit) {
        return Err(format!(
            "a rollback to v{} is in flight ({})",
            target_of(op).map(|v| v.0).unwrap_or_default(),
            op.state.as_str()
        ));
    }
    if let Some(why) = rolling_back(app, circuit) {
        return Err(why);
    }
    let target = match target {
        Some(t) => t.clone()?,
        None => target_words(app, circuit)?,
    };
    let check = app.policy.check_mutation();
    if !check.allowed() {
        return Err(format!(
            "{}; the plan can still be read",
            check.reasons().join("; ")
        ));
    }
    Ok(format!("to {target}"))
}

/// A rollback the fleet shows running for this circuit (from any console or the portal).
fn rolling_back(app: &App, circuit: &CircuitRef) -> Option<String> {
    app.data
        .index
        .position(circuit)
        .and_then(|p| app.data.index.rows.get(p as usize))
        .and_then(|r| r.activity.as_ref())
        .filter(|a| matches!(a, crate::index::Activity::RollingBack { .. }))
        .map(|a| format!("{} in Prod already", a.describe()))
}

fn target_of(op: &Operation) -> Option<ModelVersion> {
    match &op.kind {
        OpKind::Rollback { to, .. } => Some(*to),
        _ => None,
    }
}

fn in_flight_rollback<'a>(app: &'a App, circuit: &CircuitRef) -> Option<&'a Operation> {
    app.ops
        .in_flight()
        .find(|o| matches!(&o.kind, OpKind::Rollback { circuit: c, .. } if c == circuit))
}

/// `R` on a circuit, or `:rollback PLANT/CIRCUIT`: the target list.
pub fn open(app: &mut App, circuit: CircuitRef) -> Vec<Effect> {
    let Some(snap) = app.data.snapshot.clone() else {
        app.set_note(NoteLevel::Warning, "no fleet data yet");
        return Vec::new();
    };
    if snap.circuit(&circuit).is_none() {
        app.set_note(
            NoteLevel::Error,
            format!("no circuit {circuit} in the fleet"),
        );
        return Vec::new();
    }
    if let Some(id) = in_flight_rollback(app, &circuit).map(|o| o.id.clone()) {
        app.set_note(
            NoteLevel::Warning,
            format!("a rollback of {circuit} is already in flight: its progress"),
        );
        app.routes.push(Route::Progress(ProgressView {
            op_id: id,
            scroll: 0,
        }));
        return Vec::new();
    }
    if let Some(why) = rolling_back(app, &circuit) {
        app.set_note(NoteLevel::Warning, format!("{circuit}: {why}"));
        return Vec::new();
    }
    let history = prod_history(&snap, &circuit, &app.thresholds);
    let last_good = choose_target(&history, TargetChoice::LastGood)
        .ok()
        .map(|e| e.version);
    let previous = choose_target(&history, TargetChoice::Previous)
        .ok()
        .map(|e| e.version);
    let Some(first) = last_good
        .or(previous)
        .or_else(|| history.iter().find(|e| !e.current).map(|e| e.version))
    else {
        app.set_note(
            NoteLevel::Error,
            format!(
                "{circuit} cannot be rolled back: no earlier version ran in Prod through a release"
            ),
        );
        return Vec::new();
    };
    let at = history.iter().position(|e| e.version == first).unwrap_or(0);
    let mut flow = RollbackFlow {
        circuit,
        step: RollbackStep::Target,
        history,
        cursor: Default::default(),
        last_good,
        previous,
        method: app.rollback_method,
        plan: Remote::default(),
        scroll: 0,
        confirm: Confirmation::default(),
    };
    let (len, page) = (flow.history.len(), target_page(app));
    flow.cursor.to(at, len, page);
    app.rollback = Some(flow);
    if matches!(app.route(), Route::Rollback) {
        app.routes.pop();
    }
    app.routes.push(Route::Rollback);
    Vec::new()
}

pub fn target_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(layout::rollback(s.body).1).max(1)
}

/// Move within the history, skipping the version running now.
fn step_target(flow: &mut RollbackFlow, delta: isize, page: usize) {
    let len = flow.history.len();
    if len == 0 {
        return;
    }
    let mut i = flow.cursor.selected as isize;
    let dir = delta.signum();
    let mut left = delta.abs();
    let mut last = i;
    while left > 0 {
        i += dir;
        if i < 0 || i >= len as isize {
            break;
        }
        if !flow.history[i as usize].current {
            last = i;
            left -= 1;
        }
    }
    flow.cursor.to(last as usize, len, page);
}

fn plan_effect(app: &mut App) -> Vec<Effect> {
    let Some(snapshot) = app.data.snapshot.clone() else {
        return Vec::new();
    };
    let generation = app.gens.next(Slot::Plan);
    let Some(flow) = app.rollback.as_mut() else {
        return Vec::new();
    };
    let Some(target) = flow.chosen().map(|e| e.version) else {
        app.set_note(
            NoteLevel::Warning,
            "that version runs in Prod now: choose another",
        );
        return Vec::new();
    };
    flow.plan = Remote::loading();
    flow.step = RollbackStep::Plan;
    flow.scroll = 0;
    vec![Effect::PlanRollback {
        generation,
        request: RollbackRequest {
            circuit: flow.circuit.clone(),
            target: TargetChoice::Version(target),
            method: Some(flow.method),
        },
        snapshot,
    }]
}

/// The next of the methods offered (redeploy, direct, and the rollback pipeline where the
/// release flavour has one).
fn flip(offered: &[RollbackMethod], m: RollbackMethod) -> RollbackMethod {
    let at = offered.iter().position(|x| *x == m);
    at.and_then(|i| offered.get((i + 1) % offered.len()))
        .or(offered.first())
        .copied()
        .unwrap_or(m)
}

pub fn on_flow(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = target_page(app);
    let offered = app.rollback_methods.clone();
    let Some(flow) = app.rollback.as_mut() else {
        return (Handled::No, Vec::new());
    };
    match flow.step {
        RollbackStep::Target => match action {
            Action::Down => step_target(flow, 1, page),
            Action::Up => step_target(flow, -1, page),
            Action::PageDown => step_target(flow, page as isize, page),
            Action::PageUp => step_target(flow, -(page as isize), page),
            Action::Top => step_target(flow, -(flow.history.len() as isize), page),
            Action::Bottom => step_target(flow, flow.history.len() as isize, page),
            Action::ToggleMethod => flow.method = flip(&offered, flow.method),
            Action::Accept | Action::Open => return (Handled::Yes, plan_effect(app)),
            Action::Back => {
                app.rollback = None;
                app.routes.pop();
            }
            _ => return (Handled::No, Vec::new()),
        },
        RollbackStep::Plan => match action {
            Action::Down | Action::ScrollDown => flow.scroll += 1,
            Action::Up | Action::ScrollUp => flow.scroll = flow.scroll.saturating_sub(1),
            Action::PageDown => flow.scroll += page,
            Action::PageUp => flow.scroll = flow.scroll.saturating_sub(page),
            Action::Top => flow.scroll = 0,
            Action::ToggleMethod => {
                flow.method = flip(&offered, flow.method);
                return (Handled::Yes, plan_effect(app));
            }
            Action::Accept | Action::Open => to_confirm(app),
            Action::Back => {
                flow.step = RollbackStep::Target;
                flow.plan = Remote::default();
                app.gens.finish(Slot::Plan);
            }
            _ => return (Handled::No, Vec::new()),
        },
        RollbackStep::Confirm => return (Handled::Yes, on_confirm(app, action, false)),
    }
    (Handled::Yes, Vec::new())
}

fn to_confirm(app: &mut App) {
    let check = app.policy.check_mutation();
    let Some(flow) = app.rollback.as_mut() else {
        return;
    };
    let why = if flow.plan.loading {
        Some("the plan is still being made".to_owned())
    } else if let Some(e) = &flow.plan.error {
        Some(format!("no plan: {e}"))
    } else if flow.plan.value.is_none() {
        Some("no plan yet".to_owned())
    } else if !check.allowed() {
        Some(format!(
            "refused: {}; nothing can be sent from this console",
            check.reasons().join("; ")
        ))
    } else {
        None
    };
    match why {
        Some(w) => app.set_note(NoteLevel::Warning, w),
        None => {
            flow.step = RollbackStep::Confirm;
            flow.confirm = Confirmation::default();
        }
    }
}

/// The typed confirmation of either flow. `env`: the environment flow.
fn on_confirm(app: &mut App, action: Action, env: bool) -> Vec<Effect> {
    let Some(confirm) = confirmation(app, env) else {
        return Vec::new();
    };
    if confirm.field_mut().edit(action) {
        confirm.problem = None;
        return Vec::new();
    }
    match action {
        Action::NextField => {
            confirm.field = match confirm.field {
                Field::Main => Field::Reason,
                Field::Reason => Field::Main,
            }
        }
        Action::Back => {
            if env {
                if let Some(f) = app.env_rollback.as_mut() {
                    f.step = RollbackStep::Plan;
                }
            } else if let Some(f) = app.rollback.as_mut() {
                f.step = RollbackStep::Plan;
            }
        }
        Action::ForceQuit => return super::quit(app),
        Action::Accept => return execute(app, env),
        _ => {}
    }
    Vec::new()
}

/// What must be typed to confirm.
pub fn expected(app: &App, env: bool) -> Option<String> {
    if env {
        Some(app.env_rollback.as_ref()?.plan.value.as_ref()?.to.clone())
    } else {
        Some(app.rollback.as_ref()?.circuit.to_string())
    }
}

/// The typed confirmation of the circuit's rollback, or of the environment rollback.
fn confirmation(app: &mut App, env: bool) -> Option<&mut Confirmation> {
    if env {
        app.env_rollback.as_mut().map(|f| &mut f.confirm)
    } else {
        app.rollback.as_mut().map(|f| &mut f.confirm)
    }
}

fn execute(app: &mut App, env: bool) -> Vec<Effect> {
    let check = app.policy.check_mutation();
    let want = expected(app, env);
    let problem = |app: &mut App, text: String| {
        if let Some(c) = confirmation(app, env) {
            c.problem = Some(text);
        }
        Vec::new()
    };
    let Some(c) = confirmation(app, env) else {
        return Vec::new();
    };
    let (typed, reason, sending) = (c.typed.text.trim().to_owned(), c.reason.value(), c.sending);
    if sending.is_some() {
        return problem(app, "sent; waiting for the answer".into());
    }
    if !check.allowed() {
        return problem(app, format!("refused: {}", check.reasons().join("; ")));
    }
    let Some(want) = want else {
        return problem(app, "no plan".into());
    };
    if typed != want {
        return problem(
            app,
            if typed.is_empty() {
                format!("type {want} to confirm")
            } else {
                format!("`{typed}` is not `{want}`: type it exactly (nothing was sent)")
            },
        );
    }
    let generation = app.gens.next(Slot::Execute);
    let reason = (!reason.is_empty()).then_some(reason);
    let effect = if env {
        app.env_rollback
            .as_ref()
            .and_then(|f| f.plan.value.clone())
            .map(|plan| Effect::ExecuteEnvironmentRollback {
                generation,
                plan,
                reason,
            })
    } else {
        app.rollback
            .as_ref()
            .and_then(|f| f.plan.value.clone())
            .map(|plan| Effect::ExecuteRollback {
                generation,
                plan,
                reason,
            })
    };
    match (effect, confirmation(app, env)) {
        (Some(effect), Some(c)) => {
            c.sending = Some(generation);
            c.problem = None;
            vec![effect]
        }
        _ => Vec::new(),
    }
}

pub fn on_plan(
    app: &mut App,
    generation: u64,
    circuit: &CircuitRef,
    result: Outcome<RollbackPlan>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Plan, generation) {
        return Vec::new();
    }
    if let Some(f) = app.rollback.as_mut()
        && &f.circuit == circuit
        && f.step == RollbackStep::Plan
    {
        f.plan.settle(result);
    }
    Vec::new()
}

pub use crate::service::rollback::environment_release;

/// `R` in the environment matrix.
pub fn open_env(app: &mut App) -> Vec<Effect> {
    let Some(snapshot) = app.data.snapshot.clone() else {
        app.set_note(NoteLevel::Warning, "no fleet data yet");
        return Vec::new();
    };
    if let Err(e) = environment_release(&snapshot) {
        app.set_note(NoteLevel::Warning, format!("environment rollback: {e}"));
        return Vec::new();
    }
    let generation = app.gens.next(Slot::EnvironmentPlan);
    app.env_rollback = Some(EnvRollbackFlow {
        step: RollbackStep::Plan,
        plan: Remote::loading(),
        scroll: 0,
        confirm: Confirmation::default(),
    });
    app.routes.push(Route::EnvRollback);
    vec![Effect::PlanEnvironmentRollback {
        generation,
        snapshot,
    }]
}

pub fn on_env_plan(
    app: &mut App,
    generation: u64,
    result: Outcome<EnvironmentPlan>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::EnvironmentPlan, generation) {
        return Vec::new();
    }
    if let Some(f) = app.env_rollback.as_mut() {
        f.plan.settle(result);
    }
    Vec::new()
}

pub fn on_env_flow(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = target_page(app);
    let check = app.policy.check_mutation();
    let Some(flow) = app.env_rollback.as_mut() else {
        return (Handled::No, Vec::new());
    };
    if flow.step == RollbackStep::Confirm {
        return (Handled::Yes, on_confirm(app, action, true));
    }
    match action {
        Action::Down | Action::ScrollDown => flow.scroll += 1,
        Action::Up | Action::ScrollUp => flow.scroll = flow.scroll.saturating_sub(1),
        Action::PageDown => flow.scroll += page,
        Action::PageUp => flow.scroll = flow.scroll.saturating_sub(page),
        Action::Top => flow.scroll = 0,
        Action::Accept | Action::Open => {
            let why = if flow.plan.loading {
                Some("the plan is still being made".to_owned())
            } else if let Some(e) = &flow.plan.error {
                Some(format!("no plan: {e}"))
            } else if !check.allowed() {
                Some(format!("refused: {}", check.reasons().join("; ")))
            } else {
                None
            };
            match why {
                Some(w) => app.set_note(NoteLevel::Warning, w),
                None => {
                    flow.step = RollbackStep::Confirm;
                    flow.confirm = Confirmation::default();
                }
            }
        }
        Action::Back => {
            app.env_rollback = None;
            app.routes.pop();
        }
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// The answer of an execution: the progress screen takes over, or the form says why not.
pub fn on_executed(
    app: &mut App,
    generation: u64,
    result: Result<Box<Operation>, ExecuteError>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Execute, generation) {
        return Vec::new();
    }
    let waiting_circuit = app
        .rollback
        .as_ref()
        .is_some_and(|f| f.confirm.sending == Some(generation));
    let waiting_env = app
        .env_rollback
        .as_ref()
        .is_some_and(|f| f.confirm.sending == Some(generation));
    match result {
        Ok(op) => {
            let id = op.id.clone();
            let target = op.target();
            app.ops.tracking.insert(id.clone());
            app.ops.upsert(*op);
            let on_flow = matches!(app.route(), Route::Rollback | Route::EnvRollback);
            if waiting_circuit {
                app.rollback = None;
            }
            if waiting_env {
                app.env_rollback = None;
            }
            if (waiting_circuit || waiting_env) && on_flow {
                app.routes.pop();
                app.routes.push(Route::Progress(ProgressView {
                    op_id: id,
                    scroll: 0,
                }));
            } else {
                app.set_note(
                    NoteLevel::Info,
                    format!("rollback of {target} sent; O shows its progress"),
                );
            }
            Vec::new()
        }
        Err(e) => {
            let text = match &e {
                ExecuteError::Refused(m) => format!("refused, nothing sent: {m}"),
                ExecuteError::Failed(m) => {
                    format!("failed: {m} (the journal has the details: O)")
                }
            };
            let confirm = if waiting_circuit {
                app.rollback.as_mut().map(|f| &mut f.confirm)
            } else if waiting_env {
                app.env_rollback.as_mut().map(|f| &mut f.confirm)
            } else {
                None
            };
            match confirm {
                Some(c) => {
                    c.sending = None;
                    c.problem = Some(text);
                }
                None => app.set_note(NoteLevel::Error, format!("rollback {text}")),
            }
            // A failed send is in the journal.
            super::ops::load(app)
        }
    }
}
