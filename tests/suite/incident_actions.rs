//! Acting on an incident, end to end against the simulator: an alert acknowledged, closed and
//! reopened through the service (policy, the re-read first, journal and audit before the POST,
//! sent once, the result re-read), refused by read-only with nothing sent; and the watch after
//! a verified rollback (journaled, on the audit log, fed by each refresh on the session's
//! clock, ending clean once its hour is up).

use std::sync::Arc;
use std::time::Duration;

use relcon::azure::AzureBackend;
use relcon::domain::CircuitRef;
use relcon::domain::incidents::{AlertRecord, AlertState, Severity};
use relcon::domain::rollback::{RollbackMethod, TargetChoice};

use relcon::service::alert_change::{AlertChangeOutcome, AlertChangeRequest, change};
use relcon::service::backend::Backend;
use relcon::service::journal::{OpKind, OpState};
use relcon::service::rollback::{self, RollbackRequest};
use relcon::service::session::{OpenOptions, Session};
use relcon::settings::Settings;
use relcon::sim::SimHandle;

fn session(sim: &SimHandle, settings: &Settings, dir: &std::path::Path) -> Session {
    let mut settings = settings.clone();
    settings.client.poll_interval_ms = 50;
    let backend = Arc::new(AzureBackend::new(&settings, common::carol_quick()).unwrap());
    Session::open(&settings, backend, OpenOptions::under(dir, sim.clock())).unwrap()
}

/// The incident circuit's Sev1 accuracy alert.
async fn paging_alert(sim: &SimHandle, backend: &dyn Backend) -> AlertRecord {
    let incident = sim.scenario().incident_circuit;
    backend
        .fired_alerts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| {
            a.severity == Severity::Sev1
                && a.dimension("circuit_id")
                    .is_some_and(|c| incident.ends_with(&format!("/{c}")))
        })
        .unwrap()
}

fn results(session: &Session) -> Vec<(String, String)> {
    session
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.result))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_alert_is_acknowledged_closed_and_reopened_each_change_on_record_before_it_is_sent() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, &settings, dir.path());
    let me = s.identity().await.unwrap();
    let a = paging_alert(&sim, s.backend()).await;
    assert_eq!(a.state, AlertState::New);
    let ask = |alert: &str, to: AlertState, comment: Option<&str>| AlertChangeRequest {
        alert: alert.to_owned(),
        to,
        comment: comment.map(str::to_owned),
    };

    // Named by the start of its GUID, as a user types it.
    let done = change(
        &s,
        &me,
        &ask(
            &a.guid()[..8],
            AlertState::Acknowledged,
            Some("INC-4411: on it"),
        ),
    )
    .await;
    let AlertChangeOutcome::Done {
        alert, operation, ..
    } = &done
    else {
        panic!("{done:?}");
    };
    assert_eq!(alert.state, "Acknowledged", "the re-read state");
    assert_eq!(
        alert.circuit.as_deref(),
        Some(sim.scenario().incident_circuit.as_str())
    );
    assert_eq!(alert.modified_by.as_deref(), Some("carol@contoso.com"));
    assert_eq!(done.exit_code(), 0);
    let ops = s.journal().all();
    assert_eq!(ops.len(), 1);
    assert_eq!(&ops[0].id, operation);
    assert_eq!(ops[0].state, OpState::Verified);
    assert!(!ops[0].request_ids.is_empty());
    assert!(matches!(
        &ops[0].kind,
        OpKind::AlertChange { old_state: AlertState::New, new_state: AlertState::Acknowledged, alert, .. } if *alert == a.id
    ));
    let audit = s.audit().entries().unwrap();
    assert_eq!(
        results(&s),
        [
            ("acknowledge-alert".to_owned(), "sending".to_owned()),
            (
                "acknowledge-alert".to_owned(),
                "verified: acknowledged".to_owned()
            )
        ]
    );
    assert!(
        audit[0]
            .inputs
            .comment
            .as_deref()
            .is_some_and(|c| c.starts_with("INC-4411: on it (relcon, ")),
        "{:?}",
        audit[0].inputs
    );
    // Azure Monitor has the same comment in the alert's history.
    assert_eq!(
        s.backend().alert(&a.id).await.unwrap().state,
        AlertState::Acknowledged
    );

    // Again: the re-read shows it done already; nothing is sent or journaled.
    let again = change(&s, &me, &ask(&a.id, AlertState::Acknowledged, None)).await;
    assert!(
        matches!(&again, AlertChangeOutcome::Unchanged { message, .. } if message.starts_with("already acknowledged by carol@contoso.com")),
        "{again:?}"
    );
    assert_eq!(s.journal().all().len(), 1);

    let closed = change(
        &s,
        &me,
        &ask(a.guid(), AlertState::Closed, Some("rolled back")),
    )
    .await;
    assert_eq!(
        closed.alert().map(|b| b.state.as_str()),
        Some("Closed"),
        "{closed:?}"
    );
    // Acknowledging a closed alert makes no sense: a conflict, nothing sent.
    let late = change(&s, &me, &ask(a.guid(), AlertState::Acknowledged, None)).await;
    assert_eq!(late.exit_code(), 3, "{late:?}");
    let reopened = change(&s, &me, &ask(a.guid(), AlertState::New, None)).await;
    assert_eq!(
        reopened.alert().map(|b| b.state.as_str()),
        Some("New"),
        "{reopened:?}"
    );
    let ops = s.journal().all();
    assert_eq!(ops.len(), 3, "acknowledge, close, reopen");
    assert!(ops.iter().all(|o| o.state == OpState::Verified));
    let mut actions = ops.iter().map(|o| o.action()).collect::<Vec<_>>();
    actions.sort();
    assert_eq!(
        actions,
        ["acknowledge-alert", "close-alert", "reopen-alert"]
    );
    // A prefix that names nothing (or too little) is the caller's to fix (exit 2, as an
    // unknown job is), refused before anything is read twice or journaled.
    let unknown = change(&s, &me, &ask("ffffffff", AlertState::Closed, None)).await;
    assert!(
        matches!(unknown, AlertChangeOutcome::Invalid { .. }) && unknown.exit_code() == 2,
        "{unknown:?}"
    );
    let short = change(&s, &me, &ask("ab", AlertState::Closed, None)).await;
    assert!(short.describe().contains("too short"), "{short:?}");
    assert_eq!(short.exit_code(), 2);
    assert_eq!(s.journal().all().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_only_refuses_an_alert_change_and_sends_nothing() {
    let sim = common::still_sim().await;
    let mut settings = sim.settings();
    settings.policy.read_only = true;
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, &settings, dir.path());
    let me = s.identity().await.unwrap();
    let a = paging_alert(&sim, s.backend()).await;
    let out = change(
        &s,
        &me,
        &AlertChangeRequest {
            alert: a.id.clone(),
            to: AlertState::Closed,
            comment: None,
        },
    )
    .await;
    assert!(
        matches!(&out, AlertChangeOutcome::Refused { refused_by, .. } if refused_by == "policy"),
        "{out:?}"
    );
    assert_eq!(out.exit_code(), 1);
    assert!(s.journal().all().is_empty(), "nothing journaled");
    let audit = results(&s);
    assert_eq!(audit.len(), 1);
    assert!(audit[0].1.starts_with("refused: "), "{audit:?}");
    assert_eq!(
        s.backend().alert(&a.id).await.unwrap().state,
        AlertState::New
    );
}

fn incident(sim: &SimHandle) -> CircuitRef {
    sim.scenario().incident_circuit.parse().unwrap()
}

/// Roll the incident circuit back directly and follow it to its verified restore.
async fn verified_rollback(sim: &SimHandle, s: &Session) -> relcon::service::journal::Operation {
    let me = s.identity().await.unwrap();
    let snap = s.refresh().await;
    assert!(snap.is_complete(), "{:?}", snap.errors);
    let plan = rollback::plan(
        s,
        &snap,
        &RollbackRequest {
            circuit: incident(sim),
            target: TargetChoice::LastGood,
            method: Some(RollbackMethod::Direct),
        },
    )
    .await
    .unwrap();
    let sent = rollback::execute(s, &plan, &me, Some("MAE alert".into()))
        .await
        .unwrap();
    // The simulator's deployment update takes its time on the simulated clock.
    let tracking = {
        let s = s.clone();
        tokio::spawn(async move { rollback::track(&s, sent, &mut |_| {}).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !tracking.is_finished() {
        assert!(std::time::Instant::now() < deadline, "never verified");
        sim.advance(30.0).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let op = tracking.await.unwrap();
    assert_eq!(op.state, OpState::Verified, "{:?}", op.last_error);
    op
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verified_rollback_is_watched_for_an_hour_and_ends_clean_on_the_record() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, &settings, dir.path());
    let circuit = incident(&sim);
    let op = verified_rollback(&sim, &s).await;
    let w = op
        .watch
        .clone()
        .expect("watching after the verified restore");
    assert_eq!(w.circuit, circuit);
    assert_eq!(Some(w.started_at), op.verified_at);
    assert_eq!((w.until - w.started_at).num_minutes(), 60);
    assert!(
        w.label(w.started_at)
            .starts_with("watching, 60 min left, 0 new alerts")
    );
    assert_eq!(
        s.journal().load(&op.id).unwrap().watch,
        Some(w.clone()),
        "journaled"
    );

    // Half an hour on: the refresh feeds the watch; the alerts that paged are older than it.
    sim.advance(30.0 * 60.0).unwrap();
    let half = s.refresh().await;
    assert!(half.is_complete(), "{:?}", half.errors);
    let now = s.journal().load(&op.id).unwrap().watch.unwrap();
    assert!(now.is_open());
    assert!(now.new_alerts.is_empty(), "{:?}", now.new_alerts);
    assert!(now.checked_at.is_some());
    assert_eq!(now.accuracy.map(|_| ()), Some(()));
    let left = now.minutes_left(s.now());
    assert!((25..=31).contains(&left), "{left}");
    assert!(
        now.label(s.now())
            .starts_with(&format!("watching, {left} min left, 0 new alerts")),
        "{}",
        now.label(s.now())
    );

    sim.advance(31.0 * 60.0).unwrap();
    let _ = s.refresh().await;
    let ended = s.journal().load(&op.id).unwrap().watch.unwrap();
    let end = ended.ended.clone().expect("ended once its hour was up");
    assert!(end.outcome.is_clean(), "{end:?}");
    assert_eq!(ended.label(s.now()), "watch clean (60 min, no new alert)");
    let audit = results(&s);
    let watch: Vec<&str> = audit
        .iter()
        .filter(|(a, _)| a == "rollback-watch")
        .map(|(_, r)| r.as_str())
        .collect();
    assert_eq!(watch.len(), 2, "{audit:?}");
    assert!(watch[0].starts_with("watching for 60 min"));
    assert_eq!(watch[1], "watch ended: clean");
    // Ended: later refreshes leave it be.
    let _ = s.refresh().await;
    assert_eq!(results(&s).len(), audit.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_alert_on_the_circuit_during_the_watch_ends_it_at_once_and_says_when() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, &settings, dir.path());
    let op = verified_rollback(&sim, &s).await;
    sim.advance(12.0 * 60.0).unwrap();
    let fired_at = sim.now();
    sim.fire_alert(&sim.scenario().incident_circuit, "Sev2")
        .unwrap();
    sim.advance(60.0).unwrap();
    let _ = s.refresh().await;
    let w = s.journal().load(&op.id).unwrap().watch.unwrap();
    let end = w
        .ended
        .clone()
        .expect("ended by the alert, long before its hour");
    assert_eq!(
        end.outcome.to_string(),
        format!(
            "alert fired at {} (Sev2 feature-drift-psi-above-0.2)",
            fired_at.format("%H:%M")
        )
    );
    assert_eq!(w.new_alerts.len(), 1);
    assert!(w.label(s.now()).starts_with("watch: alert fired at "));
    let last = s.audit().entries().unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.result.as_str()),
        (
            "rollback-watch",
            format!("watch ended: {}", end.outcome).as_str()
        )
    );
}

use crate::common;
use crate::support;

/// `POST .../changestate` requests the simulator has answered.
fn changestates(sim: &support::SimServe) -> u64 {
    // Keys are `METHOD family/route` (`POST arm/alertChangeState`).
    sim.get("/_sim/stats")["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.starts_with("POST ") && route.ends_with("/alertChangeState"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

/// `relcon alert ack` journaled and on the audit log, then `kill -9` right before it sends
/// (the documented test hook): nothing reached Azure Monitor; the rerun re-reads the alert,
/// closes the first operation as not sent and sends the change once.
#[test]
fn an_alert_change_stopped_between_journal_and_send_is_sent_once_by_the_rerun() {
    let sim = support::SimServe::start(&[]);
    let (code, alerts) = sim.json("erin", &["alerts"]);
    assert_eq!(code, 0, "{alerts}");
    let id = alerts["alerts"][0]["id"].as_str().unwrap().to_owned();
    let guid = id.rsplit('/').next().unwrap().to_owned();
    support::kill_9_before_sending(&sim, "erin", &["alert", "ack", &guid, "-m", "on it"]);
    assert_eq!(changestates(&sim), 0, "stopped before sending");
    let ops = support::journal(&sim, "erin");
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(
        (ops[0]["kind"].as_str(), ops[0]["state"].as_str()),
        (Some("alert-change"), Some("submitting"))
    );
    let first = ops[0]["id"].as_str().unwrap().to_owned();

    let (code, again) = sim.json("erin", &["alert", "ack", &guid, "-m", "on it"]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["result"]["outcome"], "done", "{again}");
    assert_eq!(again["result"]["alert"]["state"], "Acknowledged");
    assert_eq!(changestates(&sim), 1, "sent exactly once");
    let mut ops = support::journal(&sim, "erin");
    ops.sort_by_key(|o| o["id"].as_str().unwrap().to_owned());
    let states: Vec<(&str, &str)> = ops
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(states.contains(&(first.as_str(), "not-sent")), "{states:?}");
    assert!(
        states.iter().any(|(i, s)| *i != first && *s == "verified"),
        "{states:?}"
    );
    // A third time: the re-read shows it done; nothing is sent.
    let (code, third) = sim.json("erin", &["alert", "ack", &guid]);
    assert_eq!(
        (code, third["result"]["outcome"].as_str()),
        (0, Some("unchanged")),
        "{third}"
    );
    assert_eq!(changestates(&sim), 1);
    // The journal's new kind, in `ops` (version 3 of its document since job-retry).
    let (code, listed) = sim.json("erin", &["ops"]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed["schema_version"], 3);
    assert!(
        listed["operations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["kind"] == "alert-change")
    );
}
