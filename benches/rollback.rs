//! A rollback against the simulator at `--speed 60`, where the Production redeploy takes ten
//! simulated minutes (ten real seconds): the time from the request to a verified restore, and
//! how much of it relcon adds on top of the deployment itself (at most one poll interval is
//! the budget, ARCHITECTURE.md ("Budgets")).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::platform::IdentityRef;
use relcon::domain::rollback::TargetChoice;
use relcon::service::journal::OpState;
use relcon::service::rollback::{RollbackRequest, execute, plan, track};
use relcon::service::session::{CacheChoice, OpenOptions, Session};
use relcon::sim::{SimOptions, start};

const SPEED: f64 = 60.0;
const DEPLOY_MINUTES: f64 = 10.0;

/// One rollback of the incident circuit on a fresh simulator; the real time from the request to
/// the verified restore.
fn one(rt: &tokio::runtime::Runtime) -> Duration {
    let sim = rt
        .block_on(start(SimOptions {
            speed: SPEED,
            deploy_minutes: DEPLOY_MINUTES,
            start: Some(relcon::domain::clock::pinned_start()),
            ..SimOptions::default()
        }))
        .expect("simulator");
    let settings = sim.settings();
    let state = tempfile::tempdir().expect("tempdir");
    let backend = {
        let _g = rt.enter();
        AzureBackend::new(
            &settings,
            ClientOptions {
                identity_override: Some("dave".into()),
                ..ClientOptions::default()
            },
        )
        .expect("client")
    };
    let session = Session::open(
        &settings,
        Arc::new(backend),
        OpenOptions {
            cache: CacheChoice::Disabled,
            ..OpenOptions::under(state.path(), sim.clock())
        },
    )
    .expect("session");
    let circuit = sim
        .scenario()
        .incident_circuit
        .parse()
        .expect("incident circuit");
    rt.block_on(async {
        let snapshot = session.refresh().await;
        let actor: IdentityRef = session.identity().await.expect("identity");
        let p = plan(
            &session,
            &snapshot,
            &RollbackRequest {
                circuit,
                target: TargetChoice::LastGood,
                method: None,
            },
        )
        .await
        .expect("plan");
        let started = Instant::now();
        let op = execute(&session, &p, &actor, Some("bench".into()))
            .await
            .expect("sent");
        let done = track(&session, op, &mut |_| {}).await;
        assert_eq!(done.state, OpState::Verified, "{:?}", done.last_error);
        started.elapsed()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let deploy = Duration::from_secs_f64(DEPLOY_MINUTES * 60.0 / SPEED);
    let first = one(&rt);
    eprintln!(
        "rollback at speed {SPEED}: the deployment takes {deploy:?}; verified after {first:.2?}, so relcon added {:.0?} (poll interval {} ms)",
        first.saturating_sub(deploy),
        ((5000.0 / SPEED) as u64).clamp(100, 5000)
    );
    let mut g =
        c.benchmark_group("rollback of the incident circuit, 10-minute redeploy at speed 60");
    g.sample_size(10).measurement_time(Duration::from_secs(120));
    g.bench_function("request to verified restore", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| one(&rt)).sum())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
