//! Where incidents start, end to end against the simulator: the fired alerts tied to their
//! circuits (and the ones that are not), each circuit's Prod scoring jobs judged (a failed last
//! run, no run in 26 hours), a circuit's jobs with their run history and error text, the
//! cadence at which job lists are read, an alert's state change with its history, and the
//! incident's accuracy alert resolving once Prod serves a good model again.

use std::collections::HashSet;

use crate::common;
use relcon::azure::AzureBackend;
use relcon::domain::incidents::{AlertState, JobOutcome, MonitorCondition, Severity};
use relcon::domain::{CircuitRef, Stage, Status};
use relcon::service::Context;
use relcon::service::backend::{Backend, ErrorKind};
use relcon::service::incidents::circuit_jobs;
use relcon::service::snapshot::{Known, assemble, read};

fn circuit(s: &str) -> CircuitRef {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_fleet_shows_who_was_paged_and_why() {
    let sim = common::still_sim().await;
    let scenario = sim.scenario();
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let mut r = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut r, &ctx, sim.now());
    assert!(s.is_complete(), "{:?}", s.errors);

    // The incident: a Sev1 accuracy alert and a Sev2 drift alert, both on its circuit.
    let incident = circuit(&scenario.incident_circuit);
    let c = s.circuit(&incident).unwrap();
    assert_eq!(c.alerts.worst, Some(Severity::Sev1));
    assert_eq!(c.alerts.active, 2);
    assert_eq!(
        c.alerts.rule.as_deref(),
        Some("model-accuracy-mae-above-0.25")
    );
    assert_eq!(c.health(), Status::Alert);
    assert!(c.why().iter().any(|w| w.name == "alerts"), "{:?}", c.why());
    assert_eq!(c.jobs.status, Some(Status::Ok), "{:?}", c.jobs);

    // The failed nightly job: a Sev2 alert and the job itself.
    let failing = circuit(&scenario.failing_job_circuit);
    let f = s.circuit(&failing).unwrap();
    assert_eq!(f.jobs.status, Some(Status::Alert));
    assert_eq!(f.jobs.problem.as_deref(), Some("last run failed"));
    assert_eq!(f.alerts.worst, Some(Severity::Sev2));
    assert!(f.jobs.last_success.is_some());

    // The stopped schedule: no alert fired for it, the 26-hour rule finds it.
    let stale = circuit(&scenario.stale_job_circuit);
    let st = s.circuit(&stale).unwrap();
    assert_eq!(st.jobs.status, Some(Status::Alert));
    assert!(
        st.jobs
            .problem
            .as_deref()
            .is_some_and(|p| p.starts_with("no run in the last 26 h")),
        "{:?}",
        st.jobs
    );
    assert_eq!(st.alerts.active, 0);

    // Every other circuit scored last night.
    let ok = s
        .circuits()
        .filter(|c| c.jobs.status == Some(Status::Ok))
        .count();
    assert!(ok >= 125, "{ok} circuits scored fine");

    // The fleet's alerts: the workspace's names no circuit; the other resource group's is not
    // the fleet's; the closed one is not listed.
    let unmapped: Vec<_> = s.alerts.iter().filter(|a| a.circuit.is_none()).collect();
    assert_eq!(unmapped.len(), 1, "{unmapped:#?}");
    assert_eq!(
        unmapped[0].alert.rule_name(),
        "prod-workspace-quota-above-90pct"
    );
    assert!(
        !s.alerts
            .iter()
            .any(|a| a.alert.rule_name() == "shop-frontend-availability")
    );
    assert!(s.alerts.iter().all(|a| a.alert.is_active()));
    // Most severe first.
    assert_eq!(s.alerts[0].circuit.as_ref(), Some(&incident));
    let mapped: HashSet<String> = s
        .alerts
        .iter()
        .filter_map(|a| a.circuit.as_ref().map(|c| c.to_string()))
        .collect();
    let expected: HashSet<String> = scenario.alerted_circuits.iter().cloned().collect();
    assert_eq!(mapped, expected);
    // Some drift alerts were acknowledged before the scenario starts.
    assert!(
        s.alerts
            .iter()
            .any(|a| a.alert.state == AlertState::Acknowledged)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_circuits_jobs_carry_their_run_history_and_the_error_text() {
    let sim = common::still_sim().await;
    let scenario = sim.scenario();
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let failing = circuit(&scenario.failing_job_circuit);
    let j = circuit_jobs(&backend, &ctx, &failing, sim.now(), 7).await;
    assert!(j.is_complete(), "{:?}", j.errors);
    assert!(!j.no_deployment);
    assert!(j.prod.len() >= 14 && j.test.len() >= 14);
    let last = &j.prod[0];
    assert_eq!(last.status.outcome(), JobOutcome::Failed);
    assert_eq!(last.error_code.as_deref(), Some("UserError"));
    assert!(
        last.error
            .as_deref()
            .is_some_and(|e| e.contains("FileNotFoundError")),
        "{last:?}"
    );
    let d = last.duration(sim.now()).unwrap();
    assert!(d.num_minutes() >= 4 && d.num_minutes() <= 23, "{d}");
    assert!(
        last.studio_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://ml.azure.com/runs/"))
    );
    // Newest first; the ones past the seventh have no run history read.
    assert!(
        j.prod
            .windows(2)
            .all(|w| w[0].submitted_at >= w[1].submitted_at)
    );
    assert!(j.prod[..7].iter().all(|x| x.started_at.is_some()));
    assert!(j.prod[7..].iter().all(|x| x.started_at.is_none()));
    assert_eq!(j.prod_summary.status, Some(Status::Alert));

    // A circuit relcon does not know has no deployment anywhere: said so, not a failure.
    let none = circuit_jobs(&backend, &ctx, &circuit("PLANT999/CIRCUIT99"), sim.now(), 7).await;
    assert!(
        none.no_deployment && none.is_complete(),
        "{:?}",
        none.errors
    );

    // Run history for a job that does not exist is a 404 the caller can tell.
    let e = backend
        .job_run(Stage::Prod, "batchjob-nope")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scoring_job_lists_are_read_on_their_cadence() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let first = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    assert!(first.incidents.jobs.values().all(|j| !j.reused));
    let alerted: HashSet<(String, String)> = sim
        .scenario()
        .alerted_circuits
        .iter()
        .map(|c| {
            let c = circuit(c);
            (ctx.naming.endpoint(&c), ctx.naming.deployment(&c))
        })
        .collect();
    assert!(alerted.len() >= 3, "{alerted:?}");
    let read_now = |r: &relcon::service::snapshot::Readings| -> HashSet<(String, String)> {
        r.incidents
            .jobs
            .iter()
            .filter(|(_, j)| !j.reused)
            .map(|(k, _)| k.clone())
            .collect()
    };

    // Eleven minutes on: every circuit with an active alert has had a read time (every 5
    // minutes), and the other lists only where theirs came (every 45 minutes, each at its own
    // phase: about a quarter of them).
    let known = Known::nothing(sim.now()).after(first);
    sim.advance(11.0 * 60.0).unwrap();
    let mut known = Known {
        now: sim.now(),
        ..known
    };
    let before = backend.stats().ml;
    let mut second = read(&backend, &ctx, &known).await;
    let again = read_now(&second);
    assert!(
        alerted.is_subset(&again),
        "{alerted:?} not all in {again:?}"
    );
    let others = again.len() - alerted.len();
    assert!((10..=50).contains(&others), "{others} other lists read");
    assert_eq!(backend.stats().ml - before, again.len() as u64);
    let s = assemble(&mut second, &ctx, sim.now());
    assert!(s.is_complete(), "{:?}", s.errors);

    // An hour after the first read every list has had a read time since.
    known = known.after(second);
    sim.advance(50.0 * 60.0).unwrap();
    known.now = sim.now();
    let third = read(&backend, &ctx, &known).await;
    assert_eq!(read_now(&third).len(), 130);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_alert_changes_state_once_and_keeps_its_history() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let alerts = backend.fired_alerts().await.unwrap();
    let incident = sim.scenario().incident_circuit;
    let a = alerts
        .iter()
        .find(|a| a.dimension("circuit_id").is_some() && a.severity == Severity::Sev1)
        .unwrap();
    assert_eq!(
        format!(
            "{}/{}",
            a.dimension("plant_id").unwrap(),
            a.dimension("circuit_id").unwrap()
        ),
        incident
    );
    assert_eq!(a.state, AlertState::New);
    let done = backend
        .change_alert_state(&a.id, AlertState::Acknowledged, "looking into it")
        .await
        .unwrap();
    assert_eq!(done.value.state, AlertState::Acknowledged);
    assert!(done.request_id.is_some());
    let again = backend.alert(a.guid()).await.unwrap();
    assert_eq!(again.state, AlertState::Acknowledged);
    assert_eq!(again.modified_by.as_deref(), Some("carol@contoso.com"));
    // The history has the change with its comment (raw, as the API gives it).
    let url = format!(
        "{}/arm/subscriptions/{}/providers/Microsoft.AlertsManagement/alerts/{}/history?api-version=2019-03-01",
        sim.base_url(),
        settings.azure.subscription_id,
        a.guid()
    );
    let h: serde_json::Value = reqwest::Client::new()
        .get(url)
        .bearer_auth("relcon-sim.carol")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &h["properties"]["modifications"][0];
    assert_eq!(m["modificationEvent"], "StateChange");
    assert_eq!(m["newValue"], "Acknowledged");
    assert_eq!(m["comments"], "looking into it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_accuracy_alert_resolves_once_prod_serves_a_good_model_again() {
    use relcon::domain::ModelVersion;
    use relcon::domain::platform::ModelAsset;
    let sim = common::still_sim().await;
    let scenario = sim.scenario();
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let incident = circuit(&scenario.incident_circuit);
    let fired = |alerts: &[relcon::domain::incidents::AlertRecord]| {
        alerts
            .iter()
            .filter(|a| a.rule_name() == "model-accuracy-mae-above-0.25")
            .filter(|a| a.dimension("circuit_id") == Some(incident.circuit.as_str()))
            .map(|a| a.condition)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fired(&backend.fired_alerts().await.unwrap()),
        [MonitorCondition::Fired]
    );
    backend
        .begin_set_deployment_model(
            Stage::Prod,
            &ctx.naming.endpoint(&incident),
            &ctx.naming.deployment(&incident),
            &ModelAsset {
                registry: Some(ctx.registry.clone()),
                name: ctx.naming.model(&incident),
                version: ModelVersion(scenario.rollback_version),
            },
        )
        .await
        .unwrap();
    sim.advance(30.0 * 60.0).unwrap();
    // Resolved: no longer in the list of fired alerts.
    assert!(fired(&backend.fired_alerts().await.unwrap()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_data_plane_that_cannot_be_reached_makes_the_jobs_unknown_not_the_fleet() {
    let sim = common::still_sim().await;
    let mut settings = sim.settings();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    settings.incidents.ml_api_endpoint =
        Some(relcon::settings::BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap());
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let mut r = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut r, &ctx, sim.now());
    assert!(!s.is_complete());
    assert!(
        s.errors
            .iter()
            .all(|e| e.scope.starts_with("scoring jobs of"))
    );
    assert_eq!(s.errors.len(), 130);
    let c = s.circuits().next().unwrap();
    assert_eq!(c.jobs.status, Some(Status::Unknown));
    assert_ne!(c.health(), Status::Ok);
    // The alerts were read all the same.
    assert!(!s.alerts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_process_starts_from_the_job_lists_the_last_one_read() {
    use relcon::service::session::{OpenOptions, Session};
    use std::sync::Arc;
    let sim = common::still_sim().await;
    let dirs = tempfile::tempdir().unwrap();
    let settings = sim.settings();
    let session = || {
        let backend = Arc::new(AzureBackend::new(&settings, common::carol_quick()).unwrap());
        let s = Session::open(
            &settings,
            backend.clone(),
            OpenOptions::under(dirs.path(), sim.clock()),
        )
        .unwrap();
        (s, backend)
    };
    let (first, b1) = session();
    let a = first.refresh().await;
    assert!(a.is_complete(), "{:?}", a.errors);
    // The discovery document and a job list per Prod deployment.
    assert_eq!(b1.stats().ml, 131);
    drop(first);
    let (second, b2) = session();
    let b = second.refresh().await;
    assert!(b.is_complete(), "{:?}", b.errors);
    // Nothing was due: no list read, not even the discovery document.
    assert_eq!(b2.stats().ml, 0);
    let jobs = |s: &relcon::domain::fleet::FleetSnapshot| {
        s.circuits()
            .map(|c| (c.circuit.clone(), c.jobs.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(jobs(&a), jobs(&b));
}

/// A circuit under a rollback's watch has its Prod job list read on the alerted cadence (every
/// 5 minutes) although no alert is active on it, so the watch sees the next scoring job's
/// result within minutes, not at the next 45-minute read; the same refresh without the watch
/// takes the list from the book.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_watched_circuits_job_list_is_read_on_the_alerted_cadence() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let first = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let alerted: HashSet<CircuitRef> = sim
        .scenario()
        .alerted_circuits
        .iter()
        .map(|c| circuit(c))
        .collect();
    let known = Known::nothing(sim.now()).after(first);
    sim.advance(6.0 * 60.0).unwrap();
    let known = Known {
        now: sim.now(),
        ..known
    };
    let unwatched = read(&backend, &ctx, &known).await;
    // A circuit without an alert whose list the refresh took from the book.
    let key_of = |c: &CircuitRef| (ctx.naming.endpoint(c), ctx.naming.deployment(c));
    let alerted_keys: HashSet<(String, String)> = alerted.iter().map(key_of).collect();
    let mut reused: Vec<(String, String)> = unwatched
        .incidents
        .jobs
        .iter()
        .filter(|(k, j)| j.reused && !alerted_keys.contains(*k))
        .map(|(k, _)| k.clone())
        .collect();
    reused.sort();
    assert!(reused.len() > 50, "{} lists reused", reused.len());
    let key = reused[0].clone();
    let watched = CircuitRef::new(
        ctx.naming.endpoint.parse(&key.0).unwrap().0.unwrap(),
        ctx.naming.deployment.parse(&key.1).unwrap().1.unwrap(),
    );
    assert_eq!(key_of(&watched), key);
    let with_watch = Known {
        watched: [watched.clone()].into(),
        ..known
    };
    let before = backend.stats().ml;
    let r = read(&backend, &ctx, &with_watch).await;
    let got = &r.incidents.jobs[&key_of(&watched)];
    assert!(!got.reused, "the watched circuit's list was read");
    assert_eq!(got.read_at, with_watch.now);
    // Only what was due then, plus the watched list.
    let read_lists = r.incidents.jobs.values().filter(|j| !j.reused).count();
    let before_lists = unwatched
        .incidents
        .jobs
        .values()
        .filter(|j| !j.reused)
        .count();
    assert_eq!(read_lists, before_lists + 1);
    assert_eq!(backend.stats().ml - before, read_lists as u64);
}
