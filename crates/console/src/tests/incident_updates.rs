//! The incident path through `update`: a page opens the fleet on the paged circuit, the alerts
//! list opens a circuit or its rollback, and the Jobs tab reads the jobs once, when shown.

use super::*;
use crate::action::Msg;
use crate::app::{NoteLevel, Route, Tab};
use crate::domain::incidents::AlertState;
use crate::view::render_text;

const BIG: (u16, u16) = (160, 48);

fn selected(app: &App) -> Option<String> {
    app.fleet.selected.as_ref().map(ToString::to_string)
}

fn paged_app(snapshot: crate::domain::fleet::FleetSnapshot) -> App {
    let mut cfg = AppConfig::new(fixture::policy(), Thresholds::default(), "sim".into());
    cfg.incident_order_when_paged = true;
    let (mut app, effects) = App::new(cfg, None, fixture::now(), BIG);
    answer(&mut app, effects, &snapshot);
    app
}

#[test]
fn a_page_opens_the_fleet_in_incident_order_on_the_paged_circuit() {
    let mut app = paged_app(fixture::fleet(fixture::DEMO_CIRCUITS));
    assert!(app.fleet.order.incidents);
    // The most severe alert's circuit is the top row, and the selection.
    assert_eq!(selected(&app).as_deref(), Some("PLANT002/CIRCUIT02"));
    assert_eq!(app.fleet.table.selected, 0);
    let note = app.note.clone().unwrap();
    assert_eq!(note.level, NoteLevel::Warning);
    assert!(
        note.text
            == "paged: Sev2 batch-scoring-job-failed on PLANT005/CIRCUIT04 · ! order · W alerts",
        "{}",
        note.text
    );
    // Its header says why it is red.
    drive(&mut app, &["<Enter>"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("✖ because alerts: 1 active, worst Sev1"), "{f}");
    drive(&mut app, &["<Esc>"]);
    // The user's choice stands on the next refresh.
    press(&mut app, &["!"]);
    assert!(!app.fleet.order.incidents);
    drive(&mut app, &["r"]);
    assert!(!app.fleet.order.incidents);
}

#[test]
fn nothing_new_and_paging_leaves_the_usual_order() {
    let mut quiet = fixture::fleet(fixture::DEMO_CIRCUITS);
    for a in &mut quiet.alerts {
        a.alert.state = AlertState::Acknowledged;
    }
    let app = paged_app(quiet);
    assert!(!app.fleet.order.incidents);
    assert_eq!(selected(&app).as_deref(), Some("PLANT001/CIRCUIT01"));
    // Off unless asked for: the tests' and the benches' consoles.
    let plain = app_at(BIG);
    assert!(!plain.fleet.order.incidents);
}

#[test]
fn the_alerts_list_opens_the_circuit_or_its_rollback_and_says_when_there_is_none() {
    let mut app = app_at(BIG);
    drive(&mut app, &["W"]);
    assert!(matches!(app.route(), Route::Alerts));
    // The first alert is the incident's: Enter opens its circuit.
    let effects = press(&mut app, &["<Enter>"]);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadEvidence { circuit, .. } if circuit.to_string() == "PLANT002/CIRCUIT02")),
        "{effects:?}"
    );
    answer(&mut app, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    assert_eq!(
        app.circuit_view().map(|v| v.circuit.to_string()).as_deref(),
        Some("PLANT002/CIRCUIT02")
    );
    drive(&mut app, &["<Esc>"]);
    assert!(matches!(app.route(), Route::Alerts));
    // The second is the failed job: R plans its rollback.
    drive(&mut app, &["j", "R"]);
    assert!(
        matches!(app.route(), Route::Rollback(_)),
        "{:?}",
        app.route()
    );
    drive(&mut app, &["<Esc>"]);
    // The workspace's alert names no circuit: said, nothing opened.
    drive(&mut app, &[":"]);
    type_text(&mut app, "alerts");
    drive(&mut app, &["<Enter>"]);
    let at = app
        .snapshot()
        .unwrap()
        .alerts
        .iter()
        .position(|a| a.circuit.is_none())
        .unwrap();
    app.alerts.to(at, 10, 10);
    let effects = press(&mut app, &["<Enter>"]);
    assert!(effects.is_empty());
    assert!(matches!(app.route(), Route::Alerts));
    let note = app.note.clone().unwrap().text;
    assert!(
        note.contains("prod-workspace-quota-above-90pct names no circuit"),
        "{note}"
    );
}

#[test]
fn the_jobs_tab_reads_the_jobs_once_when_shown_and_drops_a_stale_answer() {
    let mut app = app_at(BIG);
    let c = fixture::incidents::failing_job_circuit();
    drive(&mut app, &[":"]);
    type_text(&mut app, &format!("circuit {c}"));
    drive(&mut app, &["<Enter>"]);
    // Not on open: only when the tab is shown.
    let effects = press(&mut app, &["<S-Tab>"]);
    assert_eq!(app.circuit_view().unwrap().tab, Tab::Jobs);
    let generation = match &effects[..] {
        [
            Effect::LoadJobs {
                generation,
                circuit,
            },
        ] if *circuit == c => *generation,
        other => panic!("{other:?}"),
    };
    assert!(render_text(&app, 160, 48).contains("loading scoring jobs"));
    // A newer request supersedes it: the first answer is dropped.
    let again = crate::update::alerts::load_jobs(&mut app);
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    update(
        &mut app,
        Msg::Jobs {
            generation,
            circuit: c.clone(),
            result: Err("too late".into()),
        },
    );
    assert!(app.circuit_view().unwrap().jobs.error.is_none());
    answer(&mut app, again, &snap);
    let jobs = app.circuit_view().unwrap().jobs.value.clone().unwrap();
    assert_eq!(
        jobs.prod[0].status,
        crate::domain::incidents::JobStatus::Failed
    );
    let f = render_text(&app, 160, 48);
    assert!(f.contains("FileNotFoundError"), "{f}");
    // Leaving the tab and coming back reads nothing again.
    assert!(press(&mut app, &["<Tab>"]).is_empty());
    assert!(press(&mut app, &["<S-Tab>"]).is_empty());
    // A refresh while the tab shows reads them again (with the evidence).
    let refresh = press(&mut app, &["r"]);
    let after = crate::fixture::replies(refresh[0].clone(), &snap);
    let mut effects = Vec::new();
    for m in after {
        effects.extend(update(&mut app, m));
    }
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadJobs { circuit, .. } if *circuit == c)),
        "{effects:?}"
    );
}

#[test]
fn an_alert_is_acknowledged_from_the_list_through_its_comment_box_and_the_row_follows() {
    let mut app = app_at(BIG);
    drive(&mut app, &["W"]);
    let alerts = &app.snapshot().unwrap().alerts;
    let at = alerts
        .iter()
        .position(|a| a.alert.state == AlertState::New)
        .unwrap();
    let first = alerts[at].alert.clone();
    let n = alerts.len();
    app.alerts.to(at, n, 10);
    press(&mut app, &["a"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("Acknowledge alert"), "{f}");
    assert!(f.contains("New → Acknowledged in Azure Monitor"), "{f}");
    // Its own keys: the approval box's break-glass and next-approval keys do not apply.
    assert_eq!(app.contexts(), vec![crate::keymap::KeyContext::AlertNote]);
    assert!(!f.contains("override") && !f.contains("C-n"), "{f}");
    // Esc: nothing is sent.
    assert!(press(&mut app, &["<Esc>"]).is_empty());
    assert!(app.alert_box().is_none());
    press(&mut app, &["a"]);
    type_text(&mut app, "on it");
    let mut effects = press(&mut app, &["<Enter>"]);
    assert!(
        matches!(&effects[..], [Effect::ChangeAlert { request }]
            if request.alert == first.id
                && request.to == AlertState::Acknowledged
                && request.comment.as_deref() == Some("on it")),
        "{effects:?}"
    );
    assert!(app.alert_box().is_some_and(|b| b.sending));
    // On its way: Enter again sends nothing more.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let replies = fixture::replies(effects.remove(0), &snap);
    let mut next = Vec::new();
    for m in replies {
        next.extend(crate::update::update(&mut app, m));
    }
    assert!(app.alert_box().is_none());
    assert_eq!(
        app.snapshot().unwrap().alerts[at].alert.state,
        AlertState::Acknowledged,
        "the row takes the re-read state"
    );
    let note = app.note.clone().unwrap();
    assert_eq!(note.level, NoteLevel::Info);
    assert!(note.text.ends_with("now Acknowledged"), "{}", note.text);
    // Then the journal and the fleet are read again.
    assert!(next.iter().any(|e| matches!(e, Effect::LoadOps { .. })));
    assert!(next.iter().any(|e| matches!(e, Effect::Refresh { .. })));
    // Acknowledged already: no box, said so.
    drive(&mut app, &["a"]);
    assert!(app.alert_box().is_none());
}

#[test]
fn read_only_opens_no_alert_box() {
    let mut cfg = AppConfig::new(fixture::policy(), Thresholds::default(), "sim".into());
    cfg.policy.read_only = true;
    let (mut app, effects) = App::new(cfg, None, fixture::now(), BIG);
    answer(&mut app, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    drive(&mut app, &["W", "c"]);
    assert!(app.alert_box().is_none());
    assert!(
        app.note
            .as_ref()
            .is_some_and(|n| n.text == "read-only: relcon will not close alerts"),
        "{:?}",
        app.note
    );
}

#[test]
fn a_failed_prod_job_is_retried_from_the_jobs_tab_after_typing_the_circuit_and_its_row_follows() {
    let mut app = app_at(BIG);
    let c = fixture::incidents::failing_job_circuit();
    drive(&mut app, &[":"]);
    type_text(&mut app, &format!("circuit {c}"));
    drive(&mut app, &["<Enter>", "<S-Tab>"]);
    assert_eq!(app.circuit_view().unwrap().tab, Tab::Jobs);
    let failed = app.circuit_view().unwrap().jobs.value.clone().unwrap().prod[0]
        .name
        .clone();
    assert!(render_text(&app, 160, 48).contains("t retry"));
    press(&mut app, &["t"]);
    let f = render_text(&app, 160, 48);
    assert!(f.contains("Retry scoring job"), "{f}");
    assert!(f.contains(&format!("Type {c} to confirm")), "{f}");
    assert_eq!(app.contexts(), vec![crate::keymap::KeyContext::JobRetry]);
    // Prod: Enter without the circuit typed sends nothing; Esc cancels.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(app.retry_box().is_some_and(|b| !b.sending));
    assert!(press(&mut app, &["<Esc>"]).is_empty());
    assert!(app.retry_box().is_none());
    press(&mut app, &["t"]);
    type_text(&mut app, &c.to_string());
    let mut effects = press(&mut app, &["<Enter>"]);
    assert!(
        matches!(&effects[..], [Effect::RetryJob { request }]
            if request.circuit == c && request.job == failed
                && request.stage == crate::domain::Stage::Prod),
        "{effects:?}"
    );
    // On its way: Enter again sends nothing more.
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let replies = fixture::replies(effects.remove(0), &snap);
    let mut replies = replies.into_iter();
    // The first read of the new job: the box and the row show it queued, on top.
    update(&mut app, replies.next().unwrap());
    let f = render_text(&app, 160, 48);
    assert!(
        f.contains("new job relcon-retry-00000000000000cc · Queued"),
        "{f}"
    );
    let prod = &app.circuit_view().unwrap().jobs.value.clone().unwrap().prod;
    assert_eq!(prod[0].name, "relcon-retry-00000000000000cc");
    assert_eq!(prod[1].name, failed);
    // The end: the row completed, a note, the journal and the fleet read again.
    let next = update(&mut app, replies.next().unwrap());
    assert!(app.retry_box().is_none());
    let prod = &app.circuit_view().unwrap().jobs.value.clone().unwrap().prod;
    assert_eq!(
        prod[0].status,
        crate::domain::incidents::JobStatus::Completed
    );
    assert!(
        app.note.as_ref().is_some_and(|n| n
            .text
            .ends_with("job relcon-retry-00000000000000cc completed")),
        "{:?}",
        app.note
    );
    assert!(next.iter().any(|e| matches!(e, Effect::LoadOps { .. })));
    assert!(next.iter().any(|e| matches!(e, Effect::Refresh { .. })));
    // The newest Prod job completed now: nothing to retry, said so.
    drive(&mut app, &["t"]);
    assert!(app.retry_box().is_none());
    assert!(
        app.note
            .as_ref()
            .is_some_and(|n| n.text.contains("no failed job to retry")),
        "{:?}",
        app.note
    );
}

/// Once sent, a box offers only closing: its footer no longer says "send" or "cancel", typed
/// text goes nowhere, Esc closes it and says the change goes on; the late answer is a note and
/// leaves alone a box opened since for another alert.
#[test]
fn a_sent_alert_box_only_closes_and_its_late_answer_spares_the_next_box() {
    let mut app = app_at(BIG);
    drive(&mut app, &["W"]);
    let alerts = &app.snapshot().unwrap().alerts;
    let new: Vec<usize> = alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.alert.state == AlertState::New)
        .map(|(i, _)| i)
        .collect();
    assert!(new.len() >= 2, "the fixture has two new alerts");
    let n = alerts.len();
    app.alerts.to(new[0], n, 10);
    press(&mut app, &["a"]);
    type_text(&mut app, "on it");
    let mut effects = press(&mut app, &["<Enter>"]);
    assert_eq!(app.contexts(), vec![crate::keymap::KeyContext::Sending]);
    let f = render_text(&app, 160, 48);
    let footer = f.lines().last().unwrap_or_default();
    assert!(footer.contains("close, it goes on"), "{footer}");
    assert!(
        !footer.contains("send") && !footer.contains("cancel"),
        "{footer}"
    );
    type_text(&mut app, "more");
    assert_eq!(
        app.alert_box().map(|b| b.comment.value()),
        Some("on it".into())
    );
    assert!(press(&mut app, &["<Esc>"]).is_empty());
    assert!(app.alert_box().is_none());
    assert!(
        app.note
            .as_ref()
            .is_some_and(|n| n.text.contains("the change goes on")),
        "{:?}",
        app.note
    );
    // Another alert's box, open when the first answer comes back: it stays.
    app.alerts.to(new[1], n, 10);
    press(&mut app, &["a"]);
    let second = app.alert_box().map(|b| b.alert.clone());
    assert!(second.is_some());
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    for m in fixture::replies(effects.remove(0), &snap) {
        crate::update::update(&mut app, m);
    }
    assert_eq!(app.alert_box().map(|b| b.alert.clone()), second);
    assert!(
        app.note
            .as_ref()
            .is_some_and(|n| n.text.ends_with("now Acknowledged")),
        "{:?}",
        app.note
    );
}
