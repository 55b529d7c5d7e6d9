//! The read path end to end: the Azure client against the simulator, with and without faults,
//! and the request count of a full refresh.

use std::sync::Arc;
use std::time::Duration;

use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::fleet::FleetSnapshot;
use relcon::service::Context;
use relcon::service::backend::Backend;
use relcon::service::snapshot::{Known, ReleaseBook, assemble, read};
use relcon::sim::{SimHandle, SimOptions, start};

fn fast_retries() -> ClientOptions {
    let mut o = ClientOptions {
        identity_override: Some("bob".into()),
        ..ClientOptions::default()
    };
    o.retry.base_delay = Duration::from_millis(5);
    o.retry.max_delay = Duration::from_millis(50);
    o.retry.max_retries = 8;
    o
}

/// Read the whole fleet from a simulator started with `opts`.
async fn refresh(opts: SimOptions) -> (FleetSnapshot, u64, serde_json::Value) {
    refresh_with(opts, |_| {}).await
}

/// The same, with relcon's settings changed by `tweak` first.
async fn refresh_with(
    opts: SimOptions,
    tweak: impl FnOnce(&mut relcon::settings::Settings),
) -> (FleetSnapshot, u64, serde_json::Value) {
    let sim = start(opts).await.unwrap();
    let mut settings = sim.settings();
    tweak(&mut settings);
    let backend = AzureBackend::new(&settings, fast_retries()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let mut readings = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let snap = assemble(&mut readings, &ctx, sim.now());
    let requests = backend.stats().requests;
    (snap, requests, sim_stats(&sim).await)
}

/// What must not depend on faults or paging: everything but when and from where.
fn comparable(s: &FleetSnapshot) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    v["generated_at"] = serde_json::Value::Null;
    v["backend"] = serde_json::Value::Null;
    // A job list taken from the last refresh's book carries the time it was read.
    for p in v["plants"].as_array_mut().into_iter().flatten() {
        for c in p["circuits"].as_array_mut().into_iter().flatten() {
            c["jobs"]["read_at"] = serde_json::Value::Null;
        }
    }
    v
}

fn base() -> SimOptions {
    SimOptions {
        seed: 7,
        // One simulated "now" for every simulator of a test, so their data are comparable.
        start: Some(relcon::domain::clock::pinned_start()),
        ..SimOptions::default()
    }
}

/// A simulator whose clock barely moves: nothing changes between two reads but what the test
/// does to it.
async fn still_world() -> SimHandle {
    start(SimOptions {
        speed: 0.001,
        ..base()
    })
    .await
    .unwrap()
}

/// A client of `sim` with fast retries, and the context a refresh runs in.
fn client(sim: &SimHandle) -> (AzureBackend, Context) {
    let settings = sim.settings();
    let backend = AzureBackend::new(&settings, fast_retries()).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    (backend, ctx)
}

/// The first few paths where two JSON values differ (a readable failure, not two dumps).
fn differences(a: &serde_json::Value, b: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value::*;
    if out.len() >= 8 {
        return;
    }
    match (a, b) {
        (Object(x), Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: only on the left")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: only on the right"));
            }
        }
        (Array(x), Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (Array(x), Array(y)) => out.push(format!("{path}: {} items vs {}", x.len(), y.len())),
        _ if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_fleet_reads_completely() {
    let (s, _, _) = refresh(base()).await;
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.plants.len(), 17);
    assert_eq!(s.circuit_count(), 130);
    assert_eq!(
        s.identity.as_ref().map(|i| i.unique_name.as_str()),
        Some("bob@contoso.com")
    );
    let with_prod = s.circuits().filter(|c| c.versions.prod.is_some()).count();
    assert_eq!(with_prod, 130, "every circuit runs in Prod");
    let broken: Vec<_> = s
        .circuits()
        .filter(|c| c.lineage.matches == Some(false))
        .map(|c| c.circuit.to_string())
        .collect();
    assert_eq!(broken.len(), 1, "exactly one lineage break: {broken:?}");
    assert!(
        s.circuits()
            .filter(|c| c.lineage.matches == Some(true))
            .count()
            >= 120
    );
    assert!(
        s.circuits()
            .any(|c| c.drift.status == relcon::domain::Status::Alert)
    );
    assert!(
        s.approvals
            .iter()
            .any(|a| a.stage == relcon::domain::Stage::Prod)
    );
    assert!(
        s.approvals
            .iter()
            .any(|a| a.stage == relcon::domain::Stage::Registry)
    );
    assert!(s.approvals.iter().any(|a| a.environment_only.is_some()));
    assert!(
        s.approvals
            .iter()
            .any(|a| a.requested_by.unique_name.starts_with("alice"))
    );
    for c in s.circuits() {
        assert!(c.unknown.is_empty(), "{}: {:?}", c.circuit, c.unknown);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paging_latency_failures_resets_and_throttling_give_the_same_snapshot() {
    let (clean, clean_requests, _) = refresh(base()).await;
    let faulty = SimOptions {
        page_size: Some(1),
        latency: Some((Duration::from_millis(0), Duration::from_millis(3))),
        fail_rate: 0.05,
        reset_rate: 0.02,
        throttle: Some(400.0),
        ..base()
    };
    // Paced at the simulator's rate, not ARM's: page size 1 sends a thousand reads.
    let (rough, rough_requests, stats) = refresh_with(faulty, |s| {
        s.client.arm_reads_per_second = 400.0;
        s.client.devops_requests_per_second = 400.0;
        s.client.monitor_queries_per_second = 400.0;
    })
    .await;
    assert!(rough.errors.is_empty(), "{:?}", rough.errors);
    let mut diff = Vec::new();
    differences(&comparable(&clean), &comparable(&rough), "", &mut diff);
    assert!(diff.is_empty(), "snapshots differ: {diff:#?}");
    assert!(
        rough_requests > clean_requests * 3,
        "page size 1 must page: {rough_requests} vs {clean_requests}"
    );
    let failed = stats["faults"]["failed"].as_u64().unwrap_or(0)
        + stats["faults"]["reset"].as_u64().unwrap_or(0);
    assert!(failed > 0, "faults were injected: {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttled_at_arms_refill_rate_a_refresh_is_complete_and_sends_no_storm() {
    // ARM's documented refill rate (25 reads a second) with a bucket of one second, a tenth of
    // ARM's; relcon starts from its own defaults (a bucket of 250) and must learn the rest from
    // `x-ms-ratelimit-remaining-subscription-reads` and `Retry-After`.
    let (clean, clean_requests, _) = refresh(base()).await;
    let (throttled, requests, stats) = refresh(SimOptions {
        throttle: Some(25.0),
        ..base()
    })
    .await;
    assert!(throttled.errors.is_empty(), "{:?}", throttled.errors);
    assert!(throttled.is_complete());
    let mut diff = Vec::new();
    differences(&comparable(&clean), &comparable(&throttled), "", &mut diff);
    assert!(diff.is_empty(), "snapshots differ: {diff:#?}");
    // ARCHITECTURE.md, "Budgets": within 10% of the requests needed.
    let throttled_429 = stats["faults"]["429"].as_u64().unwrap_or(0);
    assert!(
        requests * 10 <= clean_requests * 11,
        "{requests} requests ({throttled_429} answered 429) where {clean_requests} are needed"
    );
    assert_eq!(requests, clean_requests + throttled_429, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_refresh_sends_the_counted_requests() {
    const PAGE: u64 = 100;
    let (s, requests, stats) = refresh(SimOptions {
        page_size: Some(PAGE as usize),
        ..base()
    })
    .await;
    let pages = |n: u64| n.div_ceil(PAGE).max(1);
    let plants = s.plants.len() as u64;
    let circuits = s.circuit_count() as u64;
    let dev_ahead = s
        .circuits()
        .filter(|c| c.versions.dev > c.versions.registry)
        .count() as u64;
    let lineage_configs = s.circuits().filter(|c| c.lineage.commit.is_some()).count() as u64;
    let releases = s.releases.len() as u64;
    let release_pages = pages(releases);
    let approval_records: u64 = s.approvals.iter().map(|a| a.pending_ids.len() as u64).sum();
    let approval_pages = pages(approval_records);
    let prod_deployments = s.circuits().filter(|c| c.versions.prod.is_some()).count() as u64;
    // identity + endpoints (Test, Prod) + deployments per plant endpoint in each + model
    // container pages (Dev, registry) + versions per registry model + Dev versions where Dev is
    // ahead + release and approval pages + three queries + one config per Prod model (the first
    // refresh; later ones read configs from the cache) + the fired alerts (one page) + the
    // Prod workspace and its discovery document (once a session) + a job list per Prod
    // deployment (two weeks of nightly jobs: one page).
    let expected = 1
        + 1
        + 2
        + prod_deployments
        + 2
        + 2 * plants
        + 2 * pages(circuits)
        + circuits
        + dev_ahead
        + release_pages
        + approval_pages
        + 3
        + lineage_configs;
    assert_eq!(
        requests, expected,
        "client count; the server saw {}",
        stats["by_route"]
    );
    assert_eq!(
        stats["total"].as_u64(),
        Some(expected),
        "server count: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_marks_what_it_covers_unknown() {
    let sim = start(base()).await.unwrap();
    let mut settings = sim.settings();
    // Point Log Analytics somewhere that refuses connections: drift, accuracy and validation
    // become unknown, the rest of the fleet still shows.
    settings.monitor.endpoint = relcon::settings::BaseUrl::parse("http://127.0.0.1:9").unwrap();
    let mut options = fast_retries();
    options.retry.max_retries = 1;
    let backend = AzureBackend::new(&settings, options).unwrap();
    let ctx = Context::new(&settings, false, backend.describe());
    let mut readings = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut readings, &ctx, sim.now());
    assert_eq!(s.circuit_count(), 130);
    let c = s.circuits().next().unwrap();
    assert_eq!(c.drift.status, relcon::domain::Status::Unknown);
    assert!(
        c.unknown.iter().any(|u| u.contains("drift query")),
        "{:?}",
        c.unknown
    );
    assert!(c.versions.prod.is_some());
    assert!(
        s.errors
            .iter()
            .any(|e| e.scope == "drift query" && e.message.contains("127.0.0.1:9")),
        "{:?}",
        s.errors
    );
    let _keep: Arc<dyn Backend> = Arc::new(backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_later_refresh_reads_only_releases_that_can_have_changed_and_sees_what_a_full_one_sees() {
    use relcon::domain::platform::{ApprovalStatus, EnvironmentStatus};
    // A clock that barely moves: nothing changes between the reads but what the test does.
    let sim = still_world().await;
    let (backend, ctx) = client(&sim);
    let first = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    assert!(first.releases_full);
    let releases = first.releases.unwrap().unwrap();
    let book = Arc::new(ReleaseBook {
        releases: releases.clone(),
        full_read_at: sim.now(),
    });

    // Someone else, between two refreshes: approves a pending Registry approval, and
    // redeploys the Production stage of the oldest release (settled long ago).
    let approval = first
        .approvals
        .unwrap()
        .unwrap()
        .into_iter()
        .find(|a| a.stage_name == "Registry" && a.status == ApprovalStatus::Pending)
        .unwrap();
    backend
        .decide_approval(&approval.id, ApprovalStatus::Approved, "reviewed")
        .await
        .unwrap();
    let old = releases.last().unwrap();
    let prod = old
        .environments
        .iter()
        .find(|e| e.name == "Production" && e.status == EnvironmentStatus::Succeeded)
        .unwrap();
    backend
        .rerun_stage(old.id, &prod.id, "rollback")
        .await
        .unwrap();

    let before = backend.stats().requests;
    let later = read(
        &backend,
        &ctx,
        &Known {
            releases: Some(book),
            ..Known::nothing(sim.now())
        },
    )
    .await;
    let incremental = backend.stats().requests - before;
    assert!(!later.releases_full, "only what changed was read");
    let before = backend.stats().requests;
    let full = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let everything = backend.stats().requests - before;

    let json = |r: &relcon::service::snapshot::Readings| {
        serde_json::to_value(r.releases.as_ref().unwrap().as_ref().unwrap()).unwrap()
    };
    let (mut diffs, a, b) = (Vec::new(), json(&later), json(&full));
    differences(&a, &b, "releases", &mut diffs);
    assert!(diffs.is_empty(), "{diffs:#?}");
    let redeployed = later
        .releases
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .iter()
        .find(|r| r.id == old.id)
        .unwrap();
    let attempts = |r: &relcon::domain::platform::ReleaseRecord| {
        r.environments
            .iter()
            .find(|e| e.id == prod.id)
            .map(|e| e.deploy_steps.len())
    };
    assert_eq!(attempts(redeployed), attempts(old).map(|n| n + 1));
    assert!(
        incremental < everything,
        "{incremental} requests, against {everything} for a full refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_or_partial_refresh_leaves_the_cached_snapshot_as_it_was() {
    use relcon::service::session::{OpenOptions, Session};
    let sim = start(base()).await.unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let cache_dir = dirs.path().join("cache");
    let session = |settings: &relcon::settings::Settings, retries: u32| {
        let mut options = fast_retries();
        options.retry.max_retries = retries;
        let backend = AzureBackend::new(settings, options).unwrap();
        Session::open(
            settings,
            Arc::new(backend),
            OpenOptions::under(dirs.path(), sim.clock()),
        )
        .unwrap()
    };
    let cache_bytes = || {
        let f = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("snapshot-"))
            .expect("a snapshot file");
        std::fs::read(f).unwrap()
    };

    let good = session(&sim.settings(), 8);
    let first = good.refresh().await;
    assert!(first.is_complete(), "{:?}", first.errors);
    let stored = cache_bytes();
    let cached = good.cached_snapshot().expect("cached");
    assert_eq!(cached.circuit_count(), 130);

    // Log Analytics unreachable: every circuit's drift unknown, the rest read.
    let mut broken = sim.settings();
    broken.monitor.endpoint = relcon::settings::BaseUrl::parse("http://127.0.0.1:9").unwrap();
    let partial = session(&broken, 1).refresh().await;
    assert!(!partial.is_complete() && partial.circuit_count() == 130);
    assert_eq!(cache_bytes(), stored, "a partial refresh is not cached");

    // Nothing answers at all.
    sim.stopped().await;
    let failed = good.refresh().await;
    assert!(!failed.is_complete());
    assert_eq!(failed.circuit_count(), 0);
    assert_eq!(cache_bytes(), stored, "a failed refresh is not cached");
    let json = |s: &FleetSnapshot| serde_json::to_string(s).unwrap();
    let still = good.cached_snapshot().expect("still cached");
    assert_eq!(still.circuit_count(), 130);
    assert_eq!(json(&still), json(&cached));
}

/// Requests a refresh sends, and what it read.
async fn counted_read(
    backend: &AzureBackend,
    ctx: &Context,
    known: &Known,
) -> (relcon::service::snapshot::Readings, u64) {
    let before = backend.stats().requests;
    let r = read(backend, ctx, known).await;
    (r, backend.stats().requests - before)
}

/// A warm refresh of a generated fleet with nothing changed: what it sends, against the
/// ceiling of issue 10 (60 at 200 circuits, 500 at 2,000).
async fn warm_refresh_of(plants: usize, ceiling: u64) {
    let sim = start(SimOptions {
        fleet: relcon::sim::FleetSource::Generated {
            plants,
            circuits_per_plant: 10,
        },
        speed: 0.001,
        ..base()
    })
    .await
    .unwrap();
    let (backend, ctx) = client(&sim);
    let (mut first, cold) = counted_read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut first, &ctx, sim.now());
    assert!(s.is_complete(), "{:?}", s.errors);
    let read_before = first.registry_versions.len() + first.dev_versions.len();
    let mut known = Known::nothing(sim.now()).after(first);
    known.now = sim.now();
    let (mut later, warm) = counted_read(&backend, &ctx, &known).await;
    let w = assemble(&mut later, &ctx, sim.now());
    assert!(w.is_complete(), "{:?}", w.errors);
    assert_eq!(w.circuit_count(), plants * 10);
    assert!(
        warm <= ceiling,
        "{warm} requests for a warm refresh of {} circuits (cold: {cold})",
        plants * 10
    );
    // What it still reads every time: endpoints, each plant's deployments in Test and Prod,
    // the model container pages, the newest release deployments and releases since, the
    // pending approvals, the three queries and the fired alerts (25 a page with their
    // context). No model version list, no config, no identity, and no scoring job list: each
    // was read a moment ago and is due again in 30 to 60 minutes (5 for a circuit with an
    // alert; `read_path::scoring_job_lists_are_read_on_their_cadence`).
    let pages = |n: usize| n.div_ceil(100) as u64;
    let alerts = match &later.incidents.alerts {
        Some(Ok(a)) => a.len(),
        other => panic!("the alerts were not read: {other:?}"),
    };
    let alert_pages = alerts.div_ceil(25).max(1) as u64;
    // Each query in as many parts as the plants call for (`kql::PLANTS_PER_PART`).
    let queries = 3 * u64::from(relcon::azure::kql::parts_for_plants(plants as u32));
    let per_refresh =
        2 + 2 * plants as u64 + 2 * pages(plants * 10) + 2 + 1 + queries + alert_pages;
    assert!(
        (per_refresh..=per_refresh + 3).contains(&warm),
        "{warm} requests; {per_refresh} plus the releases not settled expected"
    );
    assert_eq!(later.reused_versions.len(), read_before);
    assert_eq!(
        later.incidents.jobs.len(),
        plants * 10,
        "a job list per Prod deployment"
    );
    assert!(later.incidents.jobs.values().all(|j| j.reused));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_warm_refresh_of_200_circuits_sends_at_most_60_requests() {
    warm_refresh_of(20, 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_warm_refresh_of_2000_circuits_sends_at_most_500_requests() {
    warm_refresh_of(200, 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_warm_refresh_sees_a_new_model_version_and_a_switched_deployment_as_a_full_one_does() {
    use relcon::domain::platform::{ApprovalStatus, ModelAsset};
    use relcon::domain::{ModelVersion, Stage};
    let sim = still_world().await;
    let (backend, ctx) = client(&sim);
    let mut first = read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let before = assemble(&mut first, &ctx, sim.now());
    let known = Known::nothing(sim.now()).after(first);

    // Someone approves a release waiting at the Registry stage: once it has deployed, its
    // models have a new registry version (their containers' latestVersion moves).
    let waiting = before
        .approvals
        .iter()
        .find(|a| a.stage == Stage::Registry && !a.models.is_empty())
        .expect("a Registry approval")
        .clone();
    for id in &waiting.pending_ids {
        backend
            .decide_approval(id, ApprovalStatus::Approved, "reviewed")
            .await
            .unwrap();
    }
    // Someone points the incident circuit's Prod deployment at its previous version.
    let incident: relcon::domain::CircuitRef = sim.scenario().incident_circuit.parse().unwrap();
    let prod = before.circuit(&incident).unwrap().versions.prod.unwrap();
    let target = ModelVersion(prod.0 - 1);
    backend
        .begin_set_deployment_model(
            Stage::Prod,
            &ctx.naming.endpoint(&incident),
            &ctx.naming.deployment(&incident),
            &ModelAsset {
                registry: Some(ctx.registry.clone()),
                name: ctx.naming.model(&incident),
                version: target,
            },
        )
        .await
        .unwrap();
    sim.advance(30.0 * 60.0).unwrap();

    let mut known = known;
    known.now = sim.now();
    let (mut later, warm) = counted_read(&backend, &ctx, &known).await;
    let (mut full, everything) = counted_read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let (a, b) = (
        assemble(&mut later, &ctx, sim.now()),
        assemble(&mut full, &ctx, sim.now()),
    );
    let mut diff = Vec::new();
    differences(&comparable(&a), &comparable(&b), "", &mut diff);
    assert!(diff.is_empty(), "the warm refresh missed: {diff:#?}");
    // There was something to see.
    assert_eq!(a.circuit(&incident).unwrap().versions.prod, Some(target));
    for m in &waiting.models {
        let was = before.circuit(&m.circuit).unwrap().versions.registry;
        let now = a.circuit(&m.circuit).unwrap().versions.registry;
        assert!(now > was, "{}: registry {was:?} -> {now:?}", m.circuit);
        assert!(!later.reused_versions.contains(&(
            relcon::domain::platform::AssetLocation::Registry,
            ctx.naming.model(&m.circuit)
        )));
    }
    assert!(
        warm * 2 < everything,
        "{warm} requests against {everything}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_process_starts_from_the_model_versions_the_last_one_read() {
    use relcon::service::session::{OpenOptions, Session};
    let sim = still_world().await;
    let dirs = tempfile::tempdir().unwrap();
    let settings = sim.settings();
    let session = || {
        let backend = Arc::new(AzureBackend::new(&settings, fast_retries()).unwrap());
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
    let cold = b1.stats().requests;
    drop(first);
    let (second, b2) = session();
    let b = second.refresh().await;
    let started_warm = b2.stats().requests;
    assert!(b.is_complete(), "{:?}", b.errors);
    // No version list of the 130 models (nor their configs): only what can have changed, and
    // the release history, which a new process reads in full.
    assert!(
        started_warm + 260 <= cold,
        "{started_warm} requests against {cold} for the first process"
    );
    let mut diff = Vec::new();
    differences(&comparable(&a), &comparable(&b), "", &mut diff);
    assert!(diff.is_empty(), "{diff:#?}");
}

/// The simulator's count of one route (`/_sim/stats`), e.g. `GET devops/yaml.run`.
async fn route_count(sim: &SimHandle, route: &str) -> u64 {
    sim_stats(sim).await["by_route"][route]
        .as_u64()
        .unwrap_or(0)
}

/// The simulator's request counts (`/_sim/stats`).
async fn sim_stats(sim: &SimHandle) -> serde_json::Value {
    reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The demo world served as YAML pipelines, its clock barely moving.
async fn still_yaml_world() -> SimHandle {
    start(SimOptions {
        speed: 0.001,
        devops: relcon::sim::DevOpsFlavor::Yaml,
        ..base()
    })
    .await
    .unwrap()
}

/// A YAML refresh reads each run once however many of its readers want it (the history, the
/// pending approvals and the newest attempts ask at the same time), and a finished run never
/// again: before, every refresh sent 1,912 Runs - Get on this world, three per run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_yaml_refresh_reads_each_run_once_and_a_warm_one_only_runs_in_progress() {
    const RUNS_GET: &str = "GET devops/yaml.run";
    // How many runs the history names: one reader alone, on a backend of its own.
    let sim = still_yaml_world().await;
    let (alone, _) = client(&sim);
    let history = alone.release_history().await.unwrap();
    let runs = route_count(&sim, RUNS_GET).await;
    assert!(runs > 300, "{runs} runs for {} releases", history.len());

    let sim = still_yaml_world().await;
    let (backend, ctx) = client(&sim);
    let (mut first, cold) = counted_read(&backend, &ctx, &Known::nothing(sim.now())).await;
    let s = assemble(&mut first, &ctx, sim.now());
    assert!(s.is_complete(), "{:?}", s.errors);
    assert_eq!(s.circuit_count(), 130);
    let cold_runs = route_count(&sim, RUNS_GET).await;
    assert_eq!(
        cold_runs, runs,
        "one Runs - Get per run ({cold} requests in all)"
    );

    let mut known = Known::nothing(sim.now()).after(first);
    known.now = sim.now();
    let (mut later, warm) = counted_read(&backend, &ctx, &known).await;
    let w = assemble(&mut later, &ctx, sim.now());
    assert!(w.is_complete(), "{:?}", w.errors);
    let warm_runs = route_count(&sim, RUNS_GET).await - cold_runs;
    // Only the runs not completed are read again, once: the history is read once per refresh
    // (the newest attempts and what can have changed answer from the same read).
    let unfinished = history
        .iter()
        .flat_map(|r| r.environments.iter())
        .filter(|e| e.status.is_active())
        .count() as u64;
    assert!(
        warm_runs <= unfinished,
        "{warm_runs} Runs - Get in a warm refresh; {unfinished} stages not finished"
    );
    // Measured 1,520 cold (1,010 Runs - Get) and 78 warm (9): the approvals, three check
    // lists, 21 pages of deployment records and the 9 runs in progress, beside the 44 ARM and
    // Log Analytics reads every flavour makes. Before, 112 (18): the history was read twice
    // (the newest attempts, then what can have changed). Classic reads this world in 50.
    assert!(
        warm <= 85,
        "{warm} requests warm ({warm_runs} Runs - Get); {cold} cold ({cold_runs})"
    );
}

/// A new process of the YAML flavour starts from the completed runs the last one read (kept in
/// the cache, `Backend::kept`): it reads again only the runs not completed, and sees the same
/// fleet. Before, every `relcon` command read every run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_yaml_process_starts_from_the_completed_runs_the_last_one_read() {
    use relcon::service::session::{OpenOptions, Session};
    const RUNS_GET: &str = "GET devops/yaml.run";
    let sim = still_yaml_world().await;
    let dirs = tempfile::tempdir().unwrap();
    let settings = sim.settings();
    let session = || {
        let backend = Arc::new(AzureBackend::new(&settings, fast_retries()).unwrap());
        Session::open(
            &settings,
            backend,
            OpenOptions::under(dirs.path(), sim.clock()),
        )
        .unwrap()
    };
    let first = session();
    let a = first.refresh().await;
    assert!(a.is_complete(), "{:?}", a.errors);
    let cold_runs = route_count(&sim, RUNS_GET).await;
    drop(first);
    let second = session();
    let b = second.refresh().await;
    assert!(b.is_complete(), "{:?}", b.errors);
    let second_runs = route_count(&sim, RUNS_GET).await - cold_runs;
    let unfinished = second
        .backend()
        .release_history()
        .await
        .unwrap()
        .iter()
        .flat_map(|r| r.environments.iter())
        .filter(|e| e.status.is_active())
        .count() as u64;
    assert!(
        second_runs <= unfinished,
        "{second_runs} Runs - Get by the second process ({cold_runs} by the first); \
         {unfinished} stages not finished"
    );
    let mut diff = Vec::new();
    differences(&comparable(&a), &comparable(&b), "", &mut diff);
    assert!(diff.is_empty(), "{diff:#?}");
}
