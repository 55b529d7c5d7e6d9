//! Rolling back: a circuit (target list with last known good chosen, method, the plan, a typed
//! confirmation of the circuit id) or the environment of every Prod deployment (the plan, a
//! typed confirmation of the environment version). Executing hands over to the progress
//! screen; tracking goes on in the background whatever screen is shown.

use crate::action::{Action, Effect, Outcome, Slot};
use crate::app::{App, NoteLevel, Route};
use crate::domain::CircuitRef;
use crate::domain::rollback::RollbackMethod;
use crate::domain::rollback::{TargetChoice, choose_target, prod_history};
use crate::flows::{
    CircuitRollback, Confirmation, EnvironmentRollback, Field, ProgressView, RollbackFlow,
    RollbackScope, RollbackStep,
};
use crate::layout;
use crate::service::journal::Operation;
use crate::service::rollback::{EnvironmentPlan, ExecuteError, RollbackPlan, RollbackRequest};
use crate::state::Remote;

use super::Handled;
use crate::model::{in_flight_rollback, rolling_back};

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
    let history = prod_history(&snap, &circuit, &app.settings.thresholds);
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
    let mut flow = RollbackFlow::new(CircuitRollback {
        circuit,
        history,
        cursor: Default::default(),
        last_good,
        previous,
        method: app.settings.rollback_method,
    });
    let (len, page) = (flow.scope.history.len(), target_page(app));
    flow.scope.cursor.to(at, len, page);
    if matches!(app.route(), Route::Rollback(_)) {
        app.routes.pop();
    }
    app.routes.push(Route::Rollback(Box::new(flow)));
    Vec::new()
}

pub fn target_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(layout::rollback(s.body).1).max(1)
}

/// Move within the history, skipping the version running now.
fn step_target(target: &mut CircuitRollback, delta: isize, page: usize) {
    let len = target.history.len();
    if len == 0 {
        return;
    }
    let mut i = target.cursor.selected as isize;
    let dir = delta.signum();
    let mut left = delta.abs();
    let mut last = i;
    while left > 0 {
        i += dir;
        if i < 0 || i >= len as isize {
            break;
        }
        if !target.history[i as usize].current {
            last = i;
            left -= 1;
        }
    }
    target.cursor.to(last as usize, len, page);
}

/// The rollback flow of scope `S` on the route stack (the newest, if another view was opened
/// over it).
trait OnRoute: RollbackScope + Sized {
    fn flow(route: &mut Route) -> Option<&mut RollbackFlow<Self>>;
}

impl OnRoute for CircuitRollback {
    fn flow(route: &mut Route) -> Option<&mut RollbackFlow<Self>> {
        match route {
            Route::Rollback(f) => Some(f),
            _ => None,
        }
    }
}

impl OnRoute for EnvironmentRollback {
    fn flow(route: &mut Route) -> Option<&mut RollbackFlow<Self>> {
        match route {
            Route::EnvRollback(f) => Some(f),
            _ => None,
        }
    }
}

fn flow_mut<S: OnRoute>(app: &mut App) -> Option<&mut RollbackFlow<S>> {
    app.routes.iter_mut().rev().find_map(S::flow)
}

/// The flow on top of the stack, which is the one keys go to.
fn top_flow<S: OnRoute>(app: &mut App) -> Option<&mut RollbackFlow<S>> {
    app.routes.last_mut().and_then(S::flow)
}

fn plan_effect(app: &mut App) -> Vec<Effect> {
    let Some(snapshot) = app.data.snapshot.clone() else {
        return Vec::new();
    };
    let generation = app.gens.next(Slot::Plan);
    let Some(flow) = top_flow::<CircuitRollback>(app) else {
        return Vec::new();
    };
    let Some(target) = flow.scope.chosen().map(|e| e.version) else {
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
            circuit: flow.scope.circuit.clone(),
            target: TargetChoice::Version(target),
            method: Some(flow.scope.method),
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

/// Keys on a circuit's rollback: the target list, then the plan, then the shared steps.
pub fn on_flow(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = target_page(app);
    let offered = app.settings.rollback_methods.clone();
    let Some(flow) = top_flow::<CircuitRollback>(app) else {
        return (Handled::No, Vec::new());
    };
    if flow.step != RollbackStep::Target {
        if flow.step == RollbackStep::Plan && action == Action::ToggleMethod {
            flow.scope.method = flip(&offered, flow.scope.method);
            return (Handled::Yes, plan_effect(app));
        }
        return on_plan_or_confirm::<CircuitRollback>(app, action, page);
    }
    let target = &mut flow.scope;
    match action {
        Action::Down => step_target(target, 1, page),
        Action::Up => step_target(target, -1, page),
        Action::PageDown => step_target(target, page as isize, page),
        Action::PageUp => step_target(target, -(page as isize), page),
        Action::Top => step_target(target, -(target.history.len() as isize), page),
        Action::Bottom => step_target(target, target.history.len() as isize, page),
        Action::ToggleMethod => target.method = flip(&offered, target.method),
        Action::Accept | Action::Open => return (Handled::Yes, plan_effect(app)),
        Action::Back => {
            app.routes.pop();
        }
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// Keys on the environment rollback: its plan, then the typed confirmation.
pub fn on_env_flow(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = target_page(app);
    on_plan_or_confirm::<EnvironmentRollback>(app, action, page)
}

/// The plan and the typed confirmation, the same for every scope.
fn on_plan_or_confirm<S: OnRoute>(
    app: &mut App,
    action: Action,
    page: usize,
) -> (Handled, Vec<Effect>) {
    let check = app.settings.policy.check_mutation();
    let Some(flow) = top_flow::<S>(app) else {
        return (Handled::No, Vec::new());
    };
    match flow.step {
        RollbackStep::Confirm => return (Handled::Yes, on_confirm::<S>(app, action)),
        RollbackStep::Target => return (Handled::No, Vec::new()),
        RollbackStep::Plan => {}
    }
    match action {
        Action::Down | Action::ScrollDown => flow.scroll += 1,
        Action::Up | Action::ScrollUp => flow.scroll = flow.scroll.saturating_sub(1),
        Action::PageDown => flow.scroll += page,
        Action::PageUp => flow.scroll = flow.scroll.saturating_sub(page),
        Action::Top => flow.scroll = 0,
        Action::Accept | Action::Open => {
            let why = flow.not_ready().or_else(|| {
                (!check.allowed()).then(|| {
                    format!(
                        "refused: {}; nothing can be sent from this console",
                        check.reasons().join("; ")
                    )
                })
            });
            match why {
                Some(w) => app.set_note(NoteLevel::Warning, w),
                None => {
                    flow.step = RollbackStep::Confirm;
                    flow.confirm = Confirmation::default();
                }
            }
        }
        Action::Back if S::CHOOSES_TARGET => {
            flow.step = RollbackStep::Target;
            flow.plan = Remote::default();
            app.gens.finish(Slot::Plan);
        }
        Action::Back => {
            app.routes.pop();
        }
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

/// The typed confirmation, the same for every scope.
fn on_confirm<S: OnRoute>(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(flow) = top_flow::<S>(app) else {
        return Vec::new();
    };
    let confirm = &mut flow.confirm;
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
        Action::Back => flow.step = RollbackStep::Plan,
        Action::ForceQuit => return super::quit(app),
        Action::Accept => return execute::<S>(app),
        _ => {}
    }
    Vec::new()
}

fn execute<S: OnRoute>(app: &mut App) -> Vec<Effect> {
    let check = app.settings.policy.check_mutation();
    let Some(flow) = top_flow::<S>(app) else {
        return Vec::new();
    };
    let problem = match (&flow.confirm.sending, flow.expected()) {
        (Some(_), _) => Some("sent; waiting for the answer".to_owned()),
        _ if !check.allowed() => Some(format!("refused: {}", check.reasons().join("; "))),
        (None, None) => Some("no plan".to_owned()),
        (None, Some(want)) => {
            let typed = flow.confirm.typed.text.trim();
            if typed == want {
                None
            } else if typed.is_empty() {
                Some(format!("type {want} to confirm"))
            } else {
                Some(format!(
                    "`{typed}` is not `{want}`: type it exactly (nothing was sent)"
                ))
            }
        }
    };
    if let Some(p) = problem {
        flow.confirm.problem = Some(p);
        return Vec::new();
    }
    let Some(plan) = flow.plan.value.clone() else {
        return Vec::new();
    };
    let reason = Some(flow.confirm.reason.value()).filter(|r| !r.is_empty());
    let generation = app.gens.next(Slot::Execute);
    if let Some(flow) = top_flow::<S>(app) {
        flow.confirm.sending = Some(generation);
        flow.confirm.problem = None;
    }
    vec![S::execute(plan, generation, reason)]
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
    if let Some(f) = flow_mut::<CircuitRollback>(app)
        && &f.scope.circuit == circuit
        && f.step == RollbackStep::Plan
    {
        f.plan.settle(result);
    }
    Vec::new()
}

use crate::service::rollback::environment_release;

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
    app.routes
        .push(Route::EnvRollback(Box::new(RollbackFlow::new(
            EnvironmentRollback,
        ))));
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
    if let Some(f) = flow_mut::<EnvironmentRollback>(app) {
        f.plan.settle(result);
    }
    Vec::new()
}

/// The confirmation of either scope waiting for the execution `generation`.
fn waiting(app: &mut App, generation: u64) -> Option<(usize, &mut Confirmation)> {
    app.routes.iter_mut().enumerate().rev().find_map(|(i, r)| {
        let c = match r {
            Route::Rollback(f) => &mut f.confirm,
            Route::EnvRollback(f) => &mut f.confirm,
            _ => return None,
        };
        (c.sending == Some(generation)).then_some((i, c))
    })
}

/// The answer of an execution: the progress screen takes over, or the form says why not. If
/// the flow was closed meanwhile, a note says what happened.
pub fn on_executed(
    app: &mut App,
    generation: u64,
    result: Result<Box<Operation>, ExecuteError>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Execute, generation) {
        return Vec::new();
    }
    match result {
        Ok(op) => {
            let id = op.id.clone();
            let target = op.target();
            app.ops.tracking.insert(id.clone());
            app.ops.upsert(*op);
            match waiting(app, generation).map(|(i, _)| i) {
                // The flow is on top: its progress replaces it.
                Some(i) if i + 1 == app.routes.len() => {
                    app.routes[i] = Route::Progress(ProgressView {
                        op_id: id,
                        scroll: 0,
                    });
                }
                Some(i) => {
                    app.routes.remove(i);
                    app.set_note(
                        NoteLevel::Info,
                        format!("rollback of {target} sent; O shows its progress"),
                    );
                }
                None => app.set_note(
                    NoteLevel::Info,
                    format!("rollback of {target} sent; O shows its progress"),
                ),
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
            match waiting(app, generation) {
                Some((_, c)) => {
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
