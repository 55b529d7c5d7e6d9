//! `update` on the write path, decisions: keys and answers in, state and effects out. A
//! refused decision emits nothing and says why; a decision needs a comment, a break-glass
//! override a reason; late answers are dropped. Rollbacks: `rollback_updates.rs`.

use super::write_snapshots::ROLLBACK_CIRCUIT;
use super::*;
use crate::action::ApprovalKey;
use crate::action::{Action, Msg};
use crate::app::Route;
use crate::domain::Stage;
use crate::flows::{BulkPhase, BulkResult, RollbackStep};
use crate::keymap::KeyContext;
use crate::service::decide::{DecisionOutcome, DecisionRequest, Verdict};
use crate::view::render_text;

const BIG: (u16, u16) = (160, 48);

fn problem(app: &App) -> String {
    app.decide_form()
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
    assert_eq!(app.contexts(), vec![KeyContext::Decide]);
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
    assert!(app.decide_form().is_none());
    let note = app.note.clone().unwrap();
    assert!(
        note.text
            .contains("✓ approved Release-125 → Prod: 1 of 2 approvals, 1 more needed"),
        "{}",
        note.text
    );
    assert!(matches!(after[..], [Effect::Refresh { .. }]), "{after:?}");
}

/// Open the comment box on the first approval, type `comment` and send: the decision's
/// generation, key and request.
fn send_first(app: &mut App, comment: &str) -> (u64, ApprovalKey, DecisionRequest) {
    press(app, &["A", "a"]);
    type_text(app, comment);
    let effects = press(app, &["<Enter>"]);
    match &effects[..] {
        [
            Effect::Decide {
                generation, items, ..
            },
        ] => (*generation, items[0].0, items[0].1.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_conflict_keeps_the_box_open_and_says_who() {
    let mut app = app_at(BIG);
    let (generation, key, req) = send_first(&mut app, "lgtm");
    let refresh = update(
        &mut app,
        Msg::Decision {
            generation,
            key,
            outcome: Box::new(DecisionOutcome::Conflict {
                approval_id: req.approval_id,
                status: "approved".into(),
                decided_by: Some("Jonas Weber".into()),
                decided_at: None,
                message: "already approved by Jonas Weber at 2026-02-10 09:29 UTC".into(),
            }),
        },
    );
    assert!(refresh.is_empty());
    assert!(app.decide_form().is_some_and(|f| f.sending.is_none()));
    assert!(problem(&app).contains("already approved by Jonas Weber"));
    // A late duplicate of the same answer changes nothing.
    let before = problem(&app);
    update(
        &mut app,
        Msg::Decision {
            generation,
            key,
            outcome: Box::new(DecisionOutcome::Failed {
                approval_id: 1.into(),
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
    assert!(!app.decide_form().unwrap().override_gate);
    assert!(
        problem(&app).contains("only a failing test gate"),
        "{}",
        problem(&app)
    );
    // Rejecting one's own release is allowed: it stops it.
    press(&mut app, &["<Esc>"]);
    assert!(app.decide_form().is_none());
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
    let form = app.decide_form().unwrap();
    assert!(form.override_gate);
    assert_eq!(form.field, crate::flows::Field::Reason);
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
    app.settings.policy.read_only = true;
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
        app.bulk()
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
    assert!(app.rollback().unwrap().plan.value.is_some());
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert_eq!(app.rollback().unwrap().step, RollbackStep::Plan);
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
    assert!(matches!(app.route(), Route::Bulk(_)));
    let b = app.bulk().unwrap();
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
    assert_eq!(app.bulk().unwrap().phase, BulkPhase::Sending);
    // The table is the route's: it stays until every answer is in, and says why.
    assert!(press(&mut app, &["<Esc>"]).is_empty());
    assert!(matches!(app.route(), Route::Bulk(_)));
    let note = app
        .note
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(note.contains("still being sent"), "{note}");
    // The self-requested one is skipped with its reason.
    let skipped = app
        .bulk()
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
        let phase = app.bulk().unwrap().phase;
        if i + 1 < n {
            assert_eq!(phase, BulkPhase::Sending);
        }
    }
    assert_eq!(app.bulk().unwrap().phase, BulkPhase::Results);
    assert!(matches!(last[..], [Effect::Refresh { .. }]));
    let f = render_text(&app, 160, 48);
    assert!(f.contains("3 done · 0 not done · 1 skipped · of 4"), "{f}");
    press(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Approvals));
    assert!(app.bulk().is_none());
}

/// DevOps' own rules refused what relcon's policy allowed: `id` stayed pending.
fn refused_by_devops(id: crate::domain::platform::ApprovalId) -> Box<DecisionOutcome> {
    Box::new(DecisionOutcome::Refused {
        approval_id: id,
        reasons: vec![
            "The user Carol Nguyen created release Release-125 and cannot approve it".into(),
        ],
        overridable: false,
        refused_by: crate::service::decide::RefusedBy::AzureDevops,
        request_id: Some("a1b2c3".into()),
        code: Some("InvalidRequestException".into()),
    })
}

#[test]
fn a_decision_devops_refuses_is_never_shown_as_decided() {
    let mut app = app_at(BIG);
    // The comment box: it stays open, says who refused and why, and refreshes nothing.
    let (generation, key, req) = send_first(&mut app, "lgtm");
    let after = update(
        &mut app,
        Msg::Decision {
            generation,
            key,
            outcome: refused_by_devops(req.approval_id.clone()),
        },
    );
    assert!(after.is_empty(), "nothing to refresh: {after:?}");
    assert!(app.decide_form().is_some_and(|f| f.sending.is_none()));
    let why = problem(&app);
    assert!(
        why.contains("refused by Azure DevOps")
            && why.contains("cannot approve it")
            && why.contains("request id a1b2c3")
            && why.contains("still pending"),
        "{why}"
    );
    assert!(app.note.as_ref().is_none_or(|n| !n.text.contains('✓')));
    press(&mut app, &["<Esc>"]);
    // The bulk table: every row refused by DevOps is a result, not a decision; the marks stay.
    press(&mut app, &["<Home>", "*", "<C-a>", "a"]);
    type_text(&mut app, "release meeting");
    press(&mut app, &["<C-o>"]);
    type_text(&mut app, "INC-4411");
    let effects = press(&mut app, &["<Enter>"]);
    let Effect::Decide {
        generation, items, ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    let marked = app.approvals.marks.len();
    let mut last = Vec::new();
    for (key, req) in items {
        last = update(
            &mut app,
            Msg::Decision {
                generation: *generation,
                key: *key,
                outcome: refused_by_devops(req.approval_id.clone()),
            },
        );
    }
    assert_eq!(app.bulk().unwrap().phase, BulkPhase::Results);
    assert!(last.is_empty(), "nothing was decided: no refresh {last:?}");
    let f = render_text(&app, 160, 48);
    assert!(f.contains("0 done · 3 not done"), "{f}");
    assert!(f.contains("refused by Azure DevOps"), "{f}");
    press(&mut app, &["<Enter>"]);
    assert_eq!(
        app.approvals.marks.len(),
        marked,
        "undecided rows stay marked"
    );
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
    let form = app.decide_form().unwrap();
    assert_eq!(form.keys.len(), 2);
    let first = form.key();
    press(&mut app, &["<C-n>"]);
    assert_ne!(app.decide_form().unwrap().key(), first);
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
    assert!(app.decide_form().is_none());
    assert!(
        app.note
            .clone()
            .unwrap()
            .text
            .contains("no pending approval")
    );
}

#[test]
fn every_new_action_is_bound_and_described() {
    let m = crate::keymap::Keymap::defaults();
    for (ctx, action) in [
        (KeyContext::Approvals, Action::Approve),
        (KeyContext::Approvals, Action::Reject),
        (KeyContext::Approvals, Action::Mark),
        (KeyContext::Approvals, Action::MarkStage),
        (KeyContext::Approvals, Action::MarkAll),
        (KeyContext::Circuit, Action::Approve),
        (KeyContext::Circuit, Action::Rollback),
        (KeyContext::Env, Action::Rollback),
        (KeyContext::Decide, Action::ToggleOverride),
        (KeyContext::Decide, Action::NextApproval),
        (KeyContext::Review, Action::ToggleOverride),
        (KeyContext::Rollback, Action::ToggleMethod),
        (KeyContext::Confirm, Action::NextField),
        (KeyContext::Global, Action::ShowOps),
        (KeyContext::Global, Action::ShowAudit),
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
    assert_eq!(app.decide_form().unwrap().comment.text, "q");
}
