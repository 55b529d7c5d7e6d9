//! `update` on the write path, rollbacks and operations: the typed confirmation must match
//! exactly, a refused execution says why, progress moves an operation and late messages are
//! dropped, the journal is read and resumed at start, the environment rollback.

use super::write_snapshots::{ROLLBACK_CIRCUIT, with_ops};
use super::*;
use crate::action::Msg;
use crate::app::{NoteLevel, Route};
use crate::flows::RollbackStep;
use crate::keymap::KeyContext;
use crate::service::journal::OpState;
use crate::view::render_text;

const BIG: (u16, u16) = (160, 48);

#[test]
fn the_typed_confirmation_must_match_exactly() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, &format!("rollback {ROLLBACK_CIRCUIT}"));
    drive(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Rollback(_)));
    let flow = app.rollback().unwrap();
    assert_eq!(
        flow.scope.chosen().map(|e| e.version.0),
        Some(7),
        "last known good"
    );
    // Another target, then back; the method toggles.
    press(&mut app, &["j", "k", "m"]);
    assert_eq!(
        app.rollback().unwrap().scope.method,
        crate::domain::rollback::RollbackMethod::Direct
    );
    press(&mut app, &["m"]);
    let plan = press(&mut app, &["<Enter>"]);
    assert!(
        matches!(plan[..], [Effect::PlanRollback { .. }]),
        "{plan:?}"
    );
    // Enter while the plan loads does not skip ahead.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert_eq!(app.rollback().unwrap().step, RollbackStep::Plan);
    answer(&mut app, plan, &fixture::fleet(fixture::DEMO_CIRCUITS));
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.contexts(), vec![KeyContext::Confirm]);
    for wrong in [
        "plant002/circuit08",
        "PLANT002/CIRCUIT8",
        "PLANT002/CIRCUIT081",
        "",
    ] {
        press(&mut app, &["<C-u>"]);
        type_text(&mut app, wrong);
        assert!(
            press(&mut app, &["<Enter>"]).is_empty(),
            "{wrong:?} was accepted"
        );
        let p = app.rollback().unwrap().confirm.problem.clone();
        assert!(p.is_some_and(|p| p.contains(ROLLBACK_CIRCUIT)), "{wrong:?}");
    }
    press(&mut app, &["<C-u>"]);
    type_text(&mut app, ROLLBACK_CIRCUIT);
    press(&mut app, &["<Tab>"]);
    type_text(&mut app, "MAE alert");
    let effects = press(&mut app, &["<Enter>"]);
    match &effects[..] {
        [Effect::ExecuteRollback { plan, reason, .. }] => {
            assert_eq!(plan.circuit.to_string(), ROLLBACK_CIRCUIT);
            assert_eq!(plan.to.0, 7);
            assert_eq!(reason.as_deref(), Some("MAE alert"));
        }
        other => panic!("{other:?}"),
    }
    assert!(press(&mut app, &["<Enter>"]).is_empty(), "sent once");
    // The answer: the progress screen takes over.
    answer(&mut app, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    assert!(matches!(app.route(), Route::Progress(_)));
    assert!(app.rollback().is_none());
}

#[test]
fn a_refused_execution_says_why_in_the_confirmation() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, &format!("rollback {ROLLBACK_CIRCUIT}"));
    drive(&mut app, &["<Enter>"]);
    drive(&mut app, &["<Enter>"]);
    press(&mut app, &["<Enter>"]);
    type_text(&mut app, ROLLBACK_CIRCUIT);
    let effects = press(&mut app, &["<Enter>"]);
    let Some(Effect::ExecuteRollback { generation, .. }) = effects.first() else {
        panic!("{effects:?}")
    };
    let more = update(
        &mut app,
        Msg::Executed {
            generation: *generation,
            result: Err(crate::service::rollback::ExecuteError::Refused(
                crate::service::rollback::RollbackRefusal::AlreadyDeploying {
                    release: "Release-107".into(),
                },
            )),
        },
    );
    assert!(matches!(more[..], [Effect::LoadOps { .. }]));
    let c = &app.rollback().unwrap().confirm;
    assert!(c.sending.is_none());
    assert!(
        c.problem
            .as_deref()
            .is_some_and(|p| p.contains("already deploying")),
        "{:?}",
        c.problem
    );
    assert!(matches!(app.route(), Route::Rollback(_)));
}

#[test]
fn progress_messages_move_an_operation_and_late_ones_are_dropped() {
    let mut app = app_at(BIG);
    with_ops(&mut app);
    let op = app.ops.list[0].clone();
    assert_eq!(op.state, OpState::InProgress);
    assert!(app.ops.tracking.contains(&op.id));
    let f = render_text(&app, 160, 48);
    assert!(f.contains("⟲ rollback in flight · SLA 06:30 left"), "{f}");
    let mut later = op.clone();
    later.advance(OpState::Succeeded, fixture::now());
    later.updated_at += chrono::Duration::seconds(10);
    assert!(update(&mut app, Msg::OpProgress(Box::new(later.clone()))).is_empty());
    assert_eq!(
        app.ops.get(&op.id).map(|o| o.state),
        Some(OpState::Succeeded)
    );
    // The older message arrives late: dropped.
    update(&mut app, Msg::OpProgress(Box::new(op.clone())));
    assert_eq!(
        app.ops.get(&op.id).map(|o| o.state),
        Some(OpState::Succeeded)
    );
    // Verified: a refresh so the fleet shows it, a note since nobody watches its screen.
    let mut done = later.clone();
    done.advance(OpState::Verified, fixture::now());
    done.updated_at += chrono::Duration::seconds(10);
    let effects = update(&mut app, Msg::OpProgress(Box::new(done)));
    assert!(
        matches!(effects[..], [Effect::Refresh { .. }]),
        "{effects:?}"
    );
    assert!(!app.ops.tracking.contains(&op.id));
    let note = app.note.clone().unwrap();
    assert_eq!(note.level, NoteLevel::Info);
    assert!(
        note.text.contains("PLANT002/CIRCUIT02: verified in"),
        "{}",
        note.text
    );
    assert!(!render_text(&app, 160, 48).contains("in flight"));
}

#[test]
fn resume_and_the_journal_are_asked_for_at_start() {
    let cfg = AppConfig::new(fixture::policy(), Thresholds::default(), "sim".into());
    let (_, effects) = App::new(cfg, None, fixture::now(), BIG);
    assert!(effects.iter().any(|e| matches!(e, Effect::ResumeOps)));
    assert!(effects.iter().any(|e| matches!(e, Effect::LoadOps { .. })));
    assert!(effects.iter().any(|e| matches!(e, Effect::Refresh { .. })));
}

#[test]
fn ops_open_progress_and_audit_reloads() {
    let mut app = app_at(BIG);
    with_ops(&mut app);
    let effects = press(&mut app, &["O"]);
    assert!(matches!(effects[..], [Effect::LoadOps { .. }]));
    press(&mut app, &["j", "<Enter>"]);
    match app.route() {
        Route::Progress(p) => assert_eq!(p.op_id, app.ops.list[1].id),
        other => panic!("{other:?}"),
    }
    press(&mut app, &["<Esc>"]);
    assert!(matches!(app.route(), Route::Ops));
    let effects = press(&mut app, &["L"]);
    assert!(matches!(app.route(), Route::Audit));
    assert!(matches!(effects[..], [Effect::LoadAudit { .. }]));
    assert!(matches!(
        press(&mut app, &["r"])[..],
        [Effect::LoadAudit { .. }]
    ));
}

#[test]
fn environment_rollback_says_why_it_is_not_available() {
    let mut app = app_at(BIG);
    press(&mut app, &["E"]);
    let f = render_text(&app, 160, 48);
    assert!(
        f.contains("no environment-only release has reached Production"),
        "{f}"
    );
    assert!(press(&mut app, &["R"]).is_empty());
    assert!(matches!(app.route(), Route::Env));
    assert!(
        app.note
            .clone()
            .unwrap()
            .text
            .contains("nothing to roll back")
    );
}

#[test]
fn the_environment_rollback_is_planned_confirmed_and_sent() {
    let shipped = super::write_snapshots::env_shipped();
    let n = shipped
        .circuits()
        .filter(|c| c.environment.prod.is_some())
        .count();
    let mut app = app_with(shipped.clone(), BIG);
    press(&mut app, &["E"]);
    assert!(
        matches!(app.route(), Route::Env),
        "offered although nothing waits"
    );
    let f = render_text(&app, 160, 48);
    assert!(
        f.contains("R rolls every Prod deployment back from environment 1.5.1 to 1.5.0"),
        "{f}"
    );
    let effects = press(&mut app, &["R"]);
    assert!(matches!(
        effects[..],
        [Effect::PlanEnvironmentRollback { .. }]
    ));
    answer(&mut app, effects, &shipped);
    let plan = app
        .env_rollback()
        .and_then(|f| f.plan.value.clone())
        .unwrap();
    assert_eq!(plan.to, "1.5.0");
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.contexts(), vec![KeyContext::Confirm]);
    type_text(&mut app, "1.5.1");
    assert!(
        press(&mut app, &["<Enter>"]).is_empty(),
        "the wrong version is refused"
    );
    press(&mut app, &["<C-u>"]);
    type_text(&mut app, "1.5.0");
    let effects = press(&mut app, &["<Enter>"]);
    assert!(
        matches!(&effects[..], [Effect::ExecuteEnvironmentRollback { plan, .. }] if plan.steps.len() == n && plan.to == "1.5.0"),
        "{} effects",
        effects.len()
    );
    answer(&mut app, effects, &shipped);
    assert!(matches!(app.route(), Route::Progress(_)));
    let f = render_text(&app, 160, 48);
    assert!(
        f.contains(&format!(
            "0 of {n} Prod deployments verified on environment 1.5.0"
        )),
        "{f}"
    );
}
