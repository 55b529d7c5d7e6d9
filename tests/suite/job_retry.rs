//! Retrying a failed scoring job, end to end against the simulator on the pinned clock: the
//! scenario's failed nightly run started again with its own inputs (policy, the job re-read,
//! journal and audit before the one POST, the new job followed to its end on the session's
//! clock); a second retry of the same job sends nothing; read-only, a completed job and a
//! retry that fails again each end as they should; and `relcon jobs retry` killed between the
//! journal and the POST is sent exactly once by the rerun.

use std::sync::Arc;
use std::time::Duration;

use relcon::azure::AzureBackend;
use relcon::domain::incidents::{
    AlertRecord, JobOutcome, JobStatus, JobsSummary, MonitorCondition,
};
use relcon::domain::{CircuitRef, Stage, Status};
use relcon::service::backend::Backend;
use relcon::service::job_retry::{JobRetryOutcome, JobRetryRequest, RetryBrief, retry};
use relcon::service::journal::{OpKind, OpState};
use relcon::service::session::{OpenOptions, Session};
use relcon::sim::SimHandle;

use crate::common;
use crate::support;

fn session(sim: &SimHandle, read_only: bool, dir: &std::path::Path) -> Session {
    let mut settings = sim.settings();
    settings.client.poll_interval_ms = 20;
    let backend = Arc::new(AzureBackend::new(&settings, common::carol_quick()).unwrap());
    let mut opts = OpenOptions::under(dir, sim.clock());
    opts.read_only = read_only;
    Session::open(&settings, backend, opts).unwrap()
}

/// Batch jobs started on the simulator (POSTs on the data plane).
fn invokes(sim: &SimHandle) -> u64 {
    sim.stats()
        .by_route
        .iter()
        .filter(|(r, _)| r.starts_with("POST mlapi/"))
        .map(|(_, n)| *n)
        .sum()
}

/// The scenario's circuit whose last nightly Prod run failed, and that run.
async fn failed_run(sim: &SimHandle, s: &Session) -> (CircuitRef, String) {
    let circuit: CircuitRef = sim.scenario().failing_job_circuit.parse().unwrap();
    let naming = &s.context().naming;
    let jobs = s
        .backend()
        .scoring_jobs(
            Stage::Prod,
            &naming.endpoint(&circuit),
            &naming.deployment(&circuit),
            sim.now() - chrono::Duration::days(2),
        )
        .await
        .unwrap();
    assert_eq!(jobs[0].status, JobStatus::Failed, "{jobs:#?}");
    (circuit, jobs[0].name.clone())
}

/// The circuit's failed-scoring-job alert among the fired ones.
async fn job_alert(s: &Session, circuit: &CircuitRef) -> Option<AlertRecord> {
    let (plant, id) = (circuit.plant.to_string(), circuit.circuit.to_string());
    s.backend()
        .fired_alerts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| {
            a.rule_name() == "batch-scoring-job-failed"
                && a.dimension("plant_id") == Some(plant.as_str())
                && a.dimension("circuit_id") == Some(id.as_str())
        })
}

fn request(circuit: &CircuitRef, job: &str) -> JobRetryRequest {
    JobRetryRequest {
        circuit: circuit.clone(),
        stage: Stage::Prod,
        job: job.to_owned(),
        reason: Some("INC-4412: the partition landed".into()),
    }
}

/// A retry whose every read of the new job moves the simulated world 40 s on: the job is
/// followed on the session's clock, not on a wall-clock sleep.
async fn retry_moving_the_clock(
    sim: &SimHandle,
    s: &Session,
    req: &JobRetryRequest,
) -> (JobRetryOutcome, Vec<RetryBrief>) {
    let me = s.identity().await.unwrap();
    let mut seen: Vec<RetryBrief> = Vec::new();
    let mut progress = |b: &RetryBrief| {
        seen.push(b.clone());
        sim.advance(40.0).unwrap();
    };
    let outcome = retry(s, &me, req, &mut progress).await;
    (outcome, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_nightly_job_is_retried_once_on_record_and_followed_until_it_completes() {
    let sim = common::still_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, false, dir.path());
    let (circuit, failed) = failed_run(&sim, &s).await;
    let naming = &s.context().naming;
    let (endpoint, deployment) = (naming.endpoint(&circuit), naming.deployment(&circuit));
    let before = s
        .backend()
        .scoring_job(Stage::Prod, &endpoint, &deployment, &failed)
        .await
        .unwrap();
    assert_eq!(invokes(&sim), 0);
    let alert = job_alert(&s, &circuit)
        .await
        .expect("the failed job's alert has fired");

    let (outcome, seen) = retry_moving_the_clock(&sim, &s, &request(&circuit, &failed)).await;
    let JobRetryOutcome::Done {
        retry: brief,
        operation,
        ..
    } = &outcome
    else {
        panic!("{outcome:#?}");
    };
    assert_eq!(outcome.exit_code(), 0);
    assert_eq!(invokes(&sim), 1, "sent exactly once");
    assert!(brief.job.starts_with("relcon-retry-"), "{brief:?}");
    assert_eq!(brief.from_job, failed);
    assert_eq!(brief.status, "Completed");
    assert!(brief.ended_at > brief.started_at, "{brief:?}");
    // Followed as it ran: queued or running first, completed last.
    assert!(
        seen.iter()
            .any(|b| b.status == "Queued" || b.status == "Running"),
        "{seen:#?}"
    );
    assert_eq!(seen.last().map(|b| b.status.as_str()), Some("Completed"));

    // The new job is the deployment's newest, with the failed job's inputs, and Prod scoring
    // is healthy again.
    let after = s
        .backend()
        .scoring_job(Stage::Prod, &endpoint, &deployment, &brief.job)
        .await
        .unwrap();
    assert_eq!(after.inputs, before.inputs);
    assert!(!after.inputs.is_empty());
    let list = s
        .backend()
        .scoring_jobs(
            Stage::Prod,
            &endpoint,
            &deployment,
            sim.now() - chrono::Duration::days(2),
        )
        .await
        .unwrap();
    assert_eq!(list[0].name, brief.job, "{list:#?}");
    let verdict = JobsSummary::assess(&list, sim.now(), 26, sim.now());
    assert_eq!(verdict.status, Some(Status::Ok), "{verdict:?}");
    // Azure Monitor resolves the job-failure alert once its condition stops holding.
    let after = s.backend().alert(&alert.id).await.unwrap();
    assert_eq!(after.condition, MonitorCondition::Resolved, "{after:#?}");
    assert!(
        job_alert(&s, &circuit).await.is_none(),
        "still listed as fired"
    );

    // On record: journaled, then sending before submitted before verified.
    let op = s.journal().load(operation).unwrap();
    assert_eq!(op.state, OpState::Verified);
    let OpKind::JobRetry {
        from_job,
        job,
        job_status,
        stage,
        ..
    } = &op.kind
    else {
        panic!("{op:#?}");
    };
    assert_eq!(
        (
            from_job.as_str(),
            job.as_str(),
            job_status.as_deref(),
            *stage
        ),
        (
            failed.as_str(),
            brief.job.as_str(),
            Some("Completed"),
            Stage::Prod
        )
    );
    let results: Vec<String> = s
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "retry-job")
        .map(|e| e.result)
        .collect();
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0], "sending");
    assert!(results[1].starts_with("submitted: job relcon-retry-"));
    assert!(results[2].starts_with("verified"), "{results:?}");

    // The same job again: retried already; nothing is sent.
    let (again, _) = retry_moving_the_clock(&sim, &s, &request(&circuit, &failed)).await;
    assert!(
        matches!(again, JobRetryOutcome::Unchanged { .. }),
        "{again:#?}"
    );
    assert_eq!(invokes(&sim), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_only_a_completed_job_and_a_missing_one_send_nothing() {
    let sim = common::still_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let ro = session(&sim, true, dir.path());
    let (circuit, failed) = failed_run(&sim, &ro).await;
    let (refused, _) = retry_moving_the_clock(&sim, &ro, &request(&circuit, &failed)).await;
    let JobRetryOutcome::Refused { refused_by, .. } = &refused else {
        panic!("{refused:#?}");
    };
    assert_eq!((refused_by.as_str(), refused.exit_code()), ("policy", 1));
    let entries = ro.audit().entries().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "retry-job" && e.result.starts_with("refused")),
        "{entries:#?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, false, dir.path());
    // The incident circuit's last run completed: there is nothing to retry (a conflict).
    let incident: CircuitRef = sim.scenario().incident_circuit.parse().unwrap();
    let naming = &s.context().naming;
    let done = s
        .backend()
        .scoring_jobs(
            Stage::Prod,
            &naming.endpoint(&incident),
            &naming.deployment(&incident),
            sim.now() - chrono::Duration::days(2),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.status.outcome() == JobOutcome::Succeeded)
        .unwrap();
    let (conflict, _) = retry_moving_the_clock(&sim, &s, &request(&incident, &done.name)).await;
    assert_eq!(conflict.exit_code(), 3, "{conflict:#?}");
    assert!(conflict.describe().contains("nothing to retry"));
    let (missing, _) = retry_moving_the_clock(&sim, &s, &request(&circuit, "batchjob-nope")).await;
    assert_eq!(missing.exit_code(), 2, "{missing:#?}");
    assert_eq!(invokes(&sim), 0);
    assert!(s.journal().all().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_that_fails_again_says_why_and_may_be_retried() {
    let sim = common::still_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let s = session(&sim, false, dir.path());
    let (circuit, failed) = failed_run(&sim, &s).await;
    sim.set_retries_fail(true);
    let (outcome, _) = retry_moving_the_clock(&sim, &s, &request(&circuit, &failed)).await;
    let JobRetryOutcome::Failed {
        retry: Some(brief),
        message,
        ..
    } = &outcome
    else {
        panic!("{outcome:#?}");
    };
    assert_eq!(outcome.exit_code(), 4);
    assert_eq!(brief.status, "Failed");
    assert!(message.contains("FileNotFoundError"), "{message}");
    assert_eq!(invokes(&sim), 1);
    // A failed retry does not stop another one (the world is fixed now).
    sim.set_retries_fail(false);
    let (second, _) = retry_moving_the_clock(&sim, &s, &request(&circuit, &failed)).await;
    assert!(
        matches!(second, JobRetryOutcome::Done { .. }),
        "{second:#?}"
    );
    assert_eq!(invokes(&sim), 2);
}

/// `relcon jobs retry` journaled and on the audit log, then `kill -9` right before it sends
/// (the documented test hook): nothing was started; the rerun looks for the first attempt's
/// job by its name, closes it as not sent, and starts the job once.
#[test]
fn a_retry_stopped_between_journal_and_send_is_sent_once_by_the_rerun() {
    let sim = support::SimServe::start(&["--speed", "600"]);
    let scenario = sim.get("/_sim/scenario");
    let circuit = scenario["failing_job_circuit"].as_str().unwrap().to_owned();
    let (code, jobs) = sim.json("erin", &["jobs", &circuit]);
    assert_eq!(code, 0, "{jobs}");
    let failed = jobs["prod"]["jobs"][0]["name"].as_str().unwrap().to_owned();
    let posts = |sim: &support::SimServe| -> u64 {
        sim.get("/_sim/stats")["by_route"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, _)| route.starts_with("POST mlapi/"))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum()
    };
    // Without --yes: shown, not sent (exit 2).
    let (code, plan) = sim.json("erin", &["jobs", "retry", &circuit, &failed]);
    assert_eq!((code, plan["sent"].as_bool()), (2, Some(false)), "{plan}");
    assert_eq!(plan["plan"]["from_job"], failed.as_str());

    let args = ["jobs", "retry", &circuit, &failed, "--yes"];
    support::kill_9_before_sending(&sim, "erin", &args);
    assert_eq!(posts(&sim), 0, "stopped before sending");
    let ops = support::journal(&sim, "erin");
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(
        (ops[0]["kind"].as_str(), ops[0]["state"].as_str()),
        (Some("job-retry"), Some("submitting"))
    );
    let first = ops[0]["id"].as_str().unwrap().to_owned();

    let (code, again) = sim.json("erin", &args);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["result"]["outcome"], "done", "{again}");
    assert_eq!(again["result"]["retry"]["status"], "Completed");
    assert_eq!(posts(&sim), 1, "sent exactly once");
    let mut states: Vec<(String, String)> = support::journal(&sim, "erin")
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(
        states.contains(&(first.clone(), "not-sent".into())),
        "{states:?}"
    );
    assert!(
        states.iter().any(|(i, s)| *i != first && s == "verified"),
        "{states:?}"
    );
    // A third time: retried already, nothing sent; `ops` lists the new kind.
    let (code, third) = sim.json("erin", &args);
    assert_eq!(
        (code, third["result"]["outcome"].as_str()),
        (0, Some("unchanged")),
        "{third}"
    );
    assert_eq!(posts(&sim), 1);
    let (code, listed) = sim.json("erin", &["ops"]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed["schema_version"], 3);
    assert!(
        listed["operations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["kind"] == "job-retry")
    );
}

/// Microsoft's documented invoke bodies (Learn's REST tab, PascalCase keys; vendored in
/// `tests/data/specs/ml/batch-invoke.rest-bodies.md`), each POSTed to the scoring URI the
/// simulator's endpoint advertises, with the deployment in `azureml-model-deployment`: each
/// starts a job on that deployment whose inputs relcon reads back (docs/AZURE.md, decision on
/// the body's casing: relcon sends camelCase, the simulator takes both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_invoke_bodies_start_a_job_on_the_deployment_named() {
    let sim = common::still_sim().await;
    let settings = sim.settings();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/specs/ml/batch-invoke.rest-bodies.md"),
    )
    .unwrap();
    let bodies: Vec<serde_json::Value> = text
        .split("```json")
        .skip(1)
        .map(|b| serde_json::from_str(b.split("```").next().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies.len(), 6, "the page's six REST bodies");
    let circuit: CircuitRef = sim.scenario().failing_job_circuit.parse().unwrap();
    let naming = relcon::settings::Naming::default();
    let (endpoint, deployment) = (naming.endpoint(&circuit), naming.deployment(&circuit));
    let ws = &settings.workspaces.prod;
    let client = reqwest::Client::new();
    let list: serde_json::Value = client
        .get(format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/batchEndpoints?api-version=2025-06-01",
            settings.azure.arm_endpoint.as_str().trim_end_matches('/'),
            settings.azure.subscription_id.0,
            ws.resource_group,
            ws.name
        ))
        .bearer_auth("relcon-sim.carol")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scoring_uri = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == endpoint.as_str())
        .and_then(|e| e["properties"]["scoringUri"].as_str())
        .unwrap()
        .to_owned();
    assert!(scoring_uri.starts_with(&sim.base_url()), "{scoring_uri}");
    let backend = AzureBackend::new(&settings, common::carol_quick()).unwrap();
    for body in &bodies {
        let reply = client
            .post(&scoring_uri)
            .bearer_auth("relcon-sim.carol")
            .header("azureml-model-deployment", &deployment)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{body}");
        let job: serde_json::Value = reply.json().await.unwrap();
        let name = job["name"].as_str().unwrap();
        let read = backend
            .scoring_job(Stage::Prod, &endpoint, &deployment, name)
            .await
            .unwrap();
        let sent = body["properties"]["InputData"].as_object().unwrap();
        assert_eq!(read.inputs.len(), sent.len(), "{body}");
        for (k, v) in sent {
            let got = &read.inputs[k];
            assert_eq!(got.kind, v["JobInputType"].as_str().unwrap());
            assert_eq!(got.uri.as_deref(), v["Uri"].as_str());
            assert_eq!(got.value.as_deref(), v["Value"].as_str());
        }
    }
    // A body without inputs is refused (400).
    let refused = client
        .post(&scoring_uri)
        .bearer_auth("relcon-sim.carol")
        .json(&serde_json::json!({"properties": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

/// `[incidents] test_inference = true`: right after a rollback is verified, the restored Prod
/// deployment is invoked once with its last successful job's inputs (journaled as a
/// `test-inference` job retry of that rollback, on the audit log), and the watch's next
/// scoring job is that run once it completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verified_rollback_starts_one_test_inference_that_the_watch_follows() {
    use relcon::domain::rollback::{RollbackMethod, TargetChoice};
    use relcon::service::rollback::{self, RollbackRequest};
    let sim = common::still_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = sim.settings();
    settings.client.poll_interval_ms = 20;
    settings.incidents.test_inference = true;
    let backend = Arc::new(AzureBackend::new(&settings, common::carol_quick()).unwrap());
    let s = Session::open(
        &settings,
        backend,
        OpenOptions::under(dir.path(), sim.clock()),
    )
    .unwrap();
    let me = s.identity().await.unwrap();
    let snap = s.refresh().await;
    let circuit: CircuitRef = sim.scenario().incident_circuit.parse().unwrap();
    let plan = rollback::plan(
        &s,
        &snap,
        &RollbackRequest {
            circuit: circuit.clone(),
            target: TargetChoice::LastGood,
            method: Some(RollbackMethod::Direct),
        },
    )
    .await
    .unwrap();
    let sent = rollback::execute(&s, &plan, &me, None).await.unwrap();
    let tracking = {
        let s = s.clone();
        tokio::spawn(async move { rollback::track(&s, sent, &mut |_| {}).await })
    };
    // The deployment update runs on the simulated clock: move it until tracking ends.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !tracking.is_finished() {
        assert!(std::time::Instant::now() < deadline, "never verified");
        sim.advance(30.0).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let op = tracking.await.unwrap();
    assert_eq!(op.state, OpState::Verified, "{:?}", op.last_error);
    assert_eq!(invokes(&sim), 1, "one test inference");
    let tests: Vec<_> = s
        .journal()
        .all()
        .into_iter()
        .filter(
            |o| matches!(&o.kind, OpKind::JobRetry { after_rollback: Some(r), .. } if *r == op.id),
        )
        .collect();
    assert_eq!(tests.len(), 1, "{tests:#?}");
    assert_eq!(tests[0].action(), "test-inference");
    let OpKind::JobRetry { job, from_job, .. } = &tests[0].kind else {
        unreachable!()
    };
    // Its inputs are the last successful job's.
    let naming = &s.context().naming;
    let (e, d) = (naming.endpoint(&circuit), naming.deployment(&circuit));
    let new = s
        .backend()
        .scoring_job(Stage::Prod, &e, &d, job)
        .await
        .unwrap();
    let good = s
        .backend()
        .scoring_job(Stage::Prod, &e, &d, from_job)
        .await
        .unwrap();
    assert_eq!(good.job.status, JobStatus::Completed);
    assert_eq!(new.inputs, good.inputs);
    // Following the rollback again starts nothing more.
    relcon::service::job_retry::after_verified_rollback(&s, &op).await;
    assert_eq!(invokes(&sim), 1);
    // Two minutes on, a refresh reads the watched circuit's jobs: the watch's next job is the
    // test inference, completed.
    sim.advance(120.0).unwrap();
    let _ = s.refresh().await;
    let w = s.journal().load(&op.id).unwrap().watch.unwrap();
    let next = w
        .next_job
        .clone()
        .expect("the watch saw the test inference");
    assert_eq!(
        (next.name.as_str(), next.status),
        (job.as_str(), JobStatus::Completed)
    );
    assert!(w.is_open(), "a completed job does not end the watch");
    // And the test inference's operation is settled by that read: verified, on the record.
    let test = s.journal().load(&tests[0].id).unwrap();
    assert_eq!(test.state, OpState::Verified, "{test:#?}");
    assert!(
        s.audit()
            .entries()
            .unwrap()
            .iter()
            .any(|e| e.action == "test-inference" && e.result.starts_with("verified")),
    );
}
