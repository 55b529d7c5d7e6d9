//! `update` on the write path: keys and answers in, state and effects out. A refused action
//! emits nothing and says why; a decision needs a comment, a break-glass override a reason; a
//! rollback needs the circuit id typed exactly; late answers are dropped.

use super::write_snapshots::{ROLLBACK_CIRCUIT, with_ops};
use super::*;
use crate::domain::Stage;
use crate::service::decide::{DecisionOutcome, Verdict};
use crate::service::journal::OpState;
use crate::tui::action::{Action, Msg};
use crate::tui::app::{NoteLevel, Route};
use crate::tui::keymap::Context;
use crate::tui::view::render_text;
use crate::tui::write::{BulkPhase, BulkResult, RollbackStep};

const BIG: (u16, u16) = (160, 48);

fn problem(app: &App) -> String {
    app.modal
        .as_ref()
        .and_then(|f| f.problem.clone())
        .unwrap_or_default()
}

fn decisions(effects: &[Effect]) -> Vec<(ApprovalKeyOf, Verdict, String, Option<String>)> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::Decide { items, .. } => items
                .iter()
                .map(|(k, r)| {
                    (
                        (k.release_id, k.stage),
                        r.verdict,
                        r.comment.clone(),
                        r.override_reason.clone(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

type ApprovalKeyOf = (u32, Stage);

#[test]
fn the_comment_box_needs_a_comment_and_sends_one_decision() {
    let mut app = app_at(BIG);
    press(&mut app, &["A"]);
    assert!(press(&mut app, &["a"]).is_empty(), "opening sends nothing");
    assert_eq!(app.contexts(), vec![Context::Decide]);
    // Empty, then only spaces: refused, nothing emitted.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(
        problem(&app).contains("comment is required"),
        "{}",
        problem(&app)
    );
    type_text(&mut app, "   ");
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    // Letters that are keys elsewhere (j, q, a, r) are typed text here.
    type_text(&mut app, "jq ar ok");
    let effects = press(&mut app, &["<Enter>"]);
    let d = decisions(&effects);
    assert_eq!(
        d,
        vec![(
            (fixture::R_CLEAN, Stage::Prod),
            Verdict::Approve,
            "jq ar ok".to_owned(),
            None
        )]
    );
    match &effects[..] {
        [Effect::Decide { items, .. }] => {
            assert_eq!(items[0].1.approval_id, fixture::R_CLEAN * 100 + 1)
        }
        other => panic!("{other:?}"),
    }
    // Sent once: Enter again while waiting sends nothing.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(app.busy().contains(&"sending decisions"));
}

#[test]
fn a_done_decision_closes_the_box_says_so_and_refreshes() {
    let mut app = app_at(BIG);
    press(&mut app, &["A", "a"]);
    type_text(&mut app, "lgtm");
    let effects = press(&mut app, &["<Enter>"]);
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let mut after = Vec::new();
    for msg in fixture::replies(effects[0].clone(), &snap) {
        after.extend(update(&mut app, msg));
    }
    assert!(app.modal.is_none());
    let note = app.note.clone().unwrap();
    assert!(
        note.text
            .contains("✓ approved Release-125 → Prod: 1 of 2 approvals, 1 more needed"),
        "{}",
        note.text
    );
    assert!(matches!(after[..], [Effect::Refresh { .. }]), "{after:?}");
}

#[test]
fn a_conflict_keeps_the_box_open_and_says_who() {
    let mut app = app_at(BIG);
    press(&mut app, &["A", "a"]);
    type_text(&mut app, "lgtm");
    let effects = press(&mut app, &["<Enter>"]);
    let Effect::Decide {
        generation, items, ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    let refresh = update(
        &mut app,
        Msg::Decision {
            generation: *generation,
            key: items[0].0,
            outcome: Box::new(DecisionOutcome::Conflict {
                approval_id: items[0].1.approval_id,
                status: "approved".into(),
                decided_by: Some("Jonas Weber".into()),
                decided_at: None,
                message: "already approved by Jonas Weber at 2026-02-10 09:29 UTC".into(),
            }),
        },
    );
    assert!(refresh.is_empty());
    assert!(app.modal.as_ref().is_some_and(|f| f.sending.is_none()));
    assert!(problem(&app).contains("already approved by Jonas Weber"));
    // A late duplicate of the same answer changes nothing.
    let before = problem(&app);
    update(
        &mut app,
        Msg::Decision {
            generation: *generation,
            key: items[0].0,
            outcome: Box::new(DecisionOutcome::Failed {
                approval_id: 1,
                message: "late".into(),
                request_id: None,
            }),
        },
    );
    assert_eq!(problem(&app), before, "a stale answer is dropped");
}

#[test]
fn a_refused_approval_is_explained_and_never_sent() {
    let mut app = app_at(BIG);
    // The self-requested release: four eyes.
    press(&mut app, &["A", "j", "a"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("✖ refused") && f.contains("four-eyes"), "{f}");
    assert!(f.contains("Nothing can be sent"), "{f}");
    type_text(&mut app, "my own");
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(problem(&app).contains("four-eyes"), "{}", problem(&app));
    // Nothing to override here.
    press(&mut app, &["<C-o>"]);
    assert!(!app.modal.as_ref().unwrap().override_gate);
    assert!(
        problem(&app).contains("only a failing test gate"),
        "{}",
        problem(&app)
    );
    // Rejecting one's own release is allowed: it stops it.
    press(&mut app, &["<Esc>"]);
    assert!(app.modal.is_none());
    press(&mut app, &["x"]);
    type_text(&mut app, "withdrawn");
    let d = decisions(&press(&mut app, &["<Enter>"]));
    assert_eq!(d[0].1, Verdict::Reject);
}

#[test]
fn the_override_needs_a_reason_and_is_sent_as_break_glass() {
    let mut app = app_at(BIG);
    press(&mut app, &["A", "G", "a"]);
    type_text(&mut app, "Quarterly retrain");
    // The gate fails: not sent without the override.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(
        problem(&app).contains("C-o overrides it"),
        "{}",
        problem(&app)
    );
    press(&mut app, &["<C-o>"]);
    let form = app.modal.as_ref().unwrap();
    assert!(form.override_gate);
    assert_eq!(form.field, crate::tui::write::Field::Reason);
    assert!(render_text(&app, 160, 48).contains("BREAK-GLASS"));
    // On, but no reason: not sent.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(
        problem(&app).contains("needs a reason"),
        "{}",
        problem(&app)
    );
    type_text(&mut app, "known data gap INC-4411");
    let d = decisions(&press(&mut app, &["<Enter>"]));
    assert_eq!(
        d,
        vec![(
            (fixture::R_WAVE, Stage::Prod),
            Verdict::Approve,
            "Quarterly retrain".to_owned(),
            Some("known data gap INC-4411".to_owned())
        )]
    );
}

#[test]
fn read_only_refuses_every_mutation_with_the_reason() {
    let mut app = app_at(BIG);
    app.policy.read_only = true;
    // Judged again under the read-only policy, as on start.
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let effects = press(&mut app, &["r"]);
    answer(&mut app, effects, &snap);
    press(&mut app, &["A", "a"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("read-only mode"), "{f}");
    type_text(&mut app, "lgtm");
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(problem(&app).contains("read-only"), "{}", problem(&app));
    press(&mut app, &["<Esc>", "x"]);
    type_text(&mut app, "no");
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    press(&mut app, &["<Esc>"]);
    // Bulk: every row refused, nothing to send.
    press(&mut app, &["<C-a>", "a"]);
    type_text(&mut app, "all");
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(
        app.bulk
            .as_ref()
            .and_then(|b| b.problem.clone())
            .is_some_and(|p| p.contains("nothing to send"))
    );
    press(&mut app, &["<Esc>"]);
    // Rollback: the plan can be read, the confirmation is refused before it opens.
    press(&mut app, &[":"]);
    type_text(&mut app, &format!("rollback {ROLLBACK_CIRCUIT}"));
    drive(&mut app, &["<Enter>"]);
    assert!(render_text(&app, 160, 48).contains("READ-ONLY"));
    drive(&mut app, &["<Enter>"]);
    assert!(app.rollback.as_ref().unwrap().plan.value.is_some());
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert_eq!(app.rollback.as_ref().unwrap().step, RollbackStep::Plan);
    let note = app.note.clone().unwrap();
    assert!(note.text.contains("read-only"), "{}", note.text);
    // The circuit view said so before the key.
    press(&mut app, &["<Esc>", "<Esc>", ":"]);
    type_text(&mut app, &format!("circuit {ROLLBACK_CIRCUIT}"));
    drive(&mut app, &["<Enter>"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("rollback: read-only mode"), "{f}");
}

#[test]
fn marks_review_and_results_of_a_bulk_decision() {
    let mut app = app_at(BIG);
    press(&mut app, &["A"]);
    // Space marks and moves on; * marks the stage of the selection; Esc clears.
    press(&mut app, &["<Space>"]);
    assert_eq!(app.approvals.marks.len(), 1);
    press(&mut app, &["<Esc>"]);
    assert!(app.approvals.marks.is_empty());
    assert!(
        matches!(app.route(), Route::Approvals),
        "Esc cleared marks only"
    );
    press(&mut app, &["<Home>", "*"]);
    assert!(app.approvals.marks.iter().all(|k| k.stage == Stage::Prod));
    assert_eq!(app.approvals.marks.len(), 3);
    press(&mut app, &["*"]);
    assert!(app.approvals.marks.is_empty(), "again: unmarked");
    press(&mut app, &["<C-a>", "a"]);
    assert!(matches!(app.route(), Route::Bulk));
    let b = app.bulk.as_ref().unwrap();
    assert_eq!(b.rows.len(), 4);
    assert_eq!(b.rows.iter().filter(|r| b.included(r)).count(), 1);
    // No comment: nothing sent.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    type_text(&mut app, "release meeting");
    // The override includes the gate failures, once there is a reason.
    press(&mut app, &["<C-o>"]);
    assert!(
        press(&mut app, &["<Enter>"]).is_empty(),
        "override needs a reason"
    );
    type_text(&mut app, "INC-4411");
    let effects = press(&mut app, &["<Enter>"]);
    let d = decisions(&effects);
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(d.iter().all(|x| x.2 == "release meeting"));
    assert_eq!(
        d.iter().filter(|x| x.3.is_some()).count(),
        2,
        "break-glass only on the rows that need it"
    );
    assert_eq!(app.bulk.as_ref().unwrap().phase, BulkPhase::Sending);
    // The self-requested one is skipped with its reason.
    let skipped = app
        .bulk
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .find(|r| r.key.release_id == fixture::R_SELF)
        .and_then(|r| r.result.clone());
    assert!(
        matches!(&skipped, Some(BulkResult::Skipped(w)) if w.contains("four-eyes")),
        "{skipped:?}"
    );
    // Answers arrive one by one; the last one ends it and refreshes.
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let msgs = fixture::replies(effects[0].clone(), &snap);
    let n = msgs.len();
    let mut last = Vec::new();
    for (i, m) in msgs.into_iter().enumerate() {
        last = update(&mut app, m);
        let phase = app.bulk.as_ref().unwrap().phase;
        if i + 1 < n {
            assert_eq!(phase, BulkPhase::Sending);
        }
    }
    assert_eq!(app.bulk.as_ref().unwrap().phase, BulkPhase::Results);
    assert!(matches!(last[..], [Effect::Refresh { .. }]));
    let f = render_text(&app, 160, 48);
    assert!(f.contains("3 done · 0 not done · 1 skipped · of 4"), "{f}");
    press(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Approvals));
    assert!(app.bulk.is_none());
}

#[test]
fn the_typed_confirmation_must_match_exactly() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, &format!("rollback {ROLLBACK_CIRCUIT}"));
    drive(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Rollback));
    let flow = app.rollback.as_ref().unwrap();
    assert_eq!(
        flow.chosen().map(|e| e.version.0),
        Some(7),
        "last known good"
    );
    // Another target, then back; the method toggles.
    press(&mut app, &["j", "k", "m"]);
    assert_eq!(
        app.rollback.as_ref().unwrap().method,
        crate::settings::RollbackMethod::Direct
    );
    press(&mut app, &["m"]);
    let plan = press(&mut app, &["<Enter>"]);
    assert!(
        matches!(plan[..], [Effect::PlanRollback { .. }]),
        "{plan:?}"
    );
    // Enter while the plan loads does not skip ahead.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert_eq!(app.rollback.as_ref().unwrap().step, RollbackStep::Plan);
    answer(&mut app, plan, &fixture::fleet(fixture::DEMO_CIRCUITS));
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.contexts(), vec![Context::Confirm]);
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
        let p = app.rollback.as_ref().unwrap().confirm.problem.clone();
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
    assert!(app.rollback.is_none());
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
                "Release-107 is already deploying to Production".into(),
            )),
        },
    );
    assert!(matches!(more[..], [Effect::LoadOps { .. }]));
    let c = &app.rollback.as_ref().unwrap().confirm;
    assert!(c.sending.is_none());
    assert!(
        c.problem
            .as_deref()
            .is_some_and(|p| p.contains("already deploying")),
        "{:?}",
        c.problem
    );
    assert!(matches!(app.route(), Route::Rollback));
}

#[test]
fn progress_messages_move_an_operation_and_late_ones_are_dropped() {
    let mut app = app_at(BIG);
    with_ops(&mut app);
    let op = app.ops.list[0].clone();
    assert_eq!(op.state, OpState::InProgress);
    assert!(app.ops.tracking.contains(&op.id));
    let f = render_text(&app, 160, 48);
    assert!(f.contains("⟲ 1 op in flight · SLA 06:30 left"), "{f}");
    let mut later = op.clone();
    later.advance(OpState::Succeeded);
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
    done.advance(OpState::Verified);
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
fn the_circuit_view_decides_its_pending_approvals_in_turn() {
    let mut app = app_at(BIG);
    // A wave circuit waits on the wave and the environment release.
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let circuit = snap
        .approvals
        .iter()
        .find(|a| a.release_id == fixture::R_WAVE)
        .and_then(|a| a.models.first())
        .map(|m| m.circuit.to_string())
        .unwrap();
    press(&mut app, &[":"]);
    type_text(&mut app, &format!("circuit {circuit}"));
    drive(&mut app, &["<Enter>"]);
    press(&mut app, &["a"]);
    let form = app.modal.as_ref().unwrap();
    assert_eq!(form.keys.len(), 2);
    let first = form.key();
    press(&mut app, &["<C-n>"]);
    assert_ne!(app.modal.as_ref().unwrap().key(), first);
    assert!(render_text(&app, 160, 48).contains("pending approval 2 of 2"));
    // A circuit without pending approvals says so.
    let idle = snap
        .circuits()
        .find(|c| c.pending_approvals == 0)
        .map(|c| c.circuit.to_string())
        .expect("a circuit nothing waits on");
    press(&mut app, &["<Esc>", ":"]);
    type_text(&mut app, &format!("circuit {idle}"));
    drive(&mut app, &["<Enter>"]);
    assert!(press(&mut app, &["a"]).is_empty());
    assert!(app.modal.is_none());
    assert!(
        app.note
            .clone()
            .unwrap()
            .text
            .contains("no pending approval")
    );
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
fn every_new_action_is_bound_and_described() {
    let m = crate::tui::keymap::Keymap::defaults();
    for (ctx, action) in [
        (Context::Approvals, Action::Approve),
        (Context::Approvals, Action::Reject),
        (Context::Approvals, Action::Mark),
        (Context::Approvals, Action::MarkStage),
        (Context::Approvals, Action::MarkAll),
        (Context::Circuit, Action::Approve),
        (Context::Circuit, Action::Rollback),
        (Context::Env, Action::Rollback),
        (Context::Decide, Action::ToggleOverride),
        (Context::Decide, Action::NextApproval),
        (Context::Review, Action::ToggleOverride),
        (Context::Rollback, Action::ToggleMethod),
        (Context::Confirm, Action::NextField),
        (Context::Global, Action::ShowOps),
        (Context::Global, Action::ShowAudit),
    ] {
        assert!(m.key_for(&[ctx], action).is_some(), "{ctx:?} {action:?}");
        assert!(
            m.bindings(ctx)
                .any(|b| b.action == action && !b.desc.is_empty()),
            "{ctx:?} {action:?} has no description"
        );
    }
    // Forms never fall through to global keys: `q` is text there.
    let mut app = app_at(BIG);
    press(&mut app, &["A", "a"]);
    type_text(&mut app, "q");
    assert!(!app.quit);
    assert_eq!(app.modal.as_ref().unwrap().comment.text, "q");
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
        .env_rollback
        .as_ref()
        .and_then(|f| f.plan.value.clone())
        .unwrap();
    assert_eq!(plan.to, "1.5.0");
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.contexts(), vec![Context::Confirm]);
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
