//! A full fleet refresh against the simulator with 50 ms of injected latency per request: the
//! demo fleet (130 circuits) and generated 200- and 2,000-circuit fleets, with the config cache cold
//! (first start) and warm (every refresh after: configs cached, releases and model versions
//! read only where they can have changed). Prints the request count and concurrency once.
//! `RELCON_BENCH_MAX_CIRCUITS=200 cargo bench --bench refresh` skips the 2,000-circuit fleet.
//! The 200-circuit fleet is read a second time through the YAML pipelines flavour (`[devops]
//! flavor = "yaml"`, the same world served as YAML pipelines), next to classic releases.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::service::Context;
use relcon::service::backend::Backend;
use relcon::service::snapshot::{Known, assemble, read};
use relcon::sim::{DevOpsFlavor, FleetSource, SimHandle, SimOptions, start};

fn sim(rt: &tokio::runtime::Runtime, fleet: FleetSource, devops: DevOpsFlavor) -> SimHandle {
    rt.block_on(start(SimOptions {
        fleet,
        devops,
        latency: Some((Duration::from_millis(50), Duration::from_millis(50))),
        start: Some(relcon::domain::clock::pinned_start()),
        ..SimOptions::default()
    }))
    .expect("simulator")
}

fn bench_fleet(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, fleet: FleetSource) {
    bench_fleet_as(c, rt, name, fleet, DevOpsFlavor::Classic);
}

/// The same, with the release side served and read as `devops`.
fn bench_fleet_as(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    fleet: FleetSource,
    devops: DevOpsFlavor,
) {
    // RELCON_BENCH_MAX_CIRCUITS=200 skips the larger fleets (their setup alone takes a minute).
    let size = match &fleet {
        FleetSource::Generated {
            plants,
            circuits_per_plant,
        } => plants * circuits_per_plant,
        _ => 130,
    };
    let max = std::env::var("RELCON_BENCH_MAX_CIRCUITS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    if max.is_some_and(|m| size > m) {
        return;
    }
    let sim = sim(rt, fleet, devops);
    let settings = sim.settings();
    let backend = {
        let _g = rt.enter();
        AzureBackend::new(&settings, ClientOptions::default()).expect("client")
    };
    let ctx = Context::new(&settings, true, backend.describe());
    // One refresh to count requests and fill the config cache.
    let before = backend.stats().requests;
    let started = std::time::Instant::now();
    let mut readings = rt.block_on(read(&backend, &ctx, &Known::nothing(sim.now())));
    let cold = started.elapsed();
    let snapshot = assemble(&mut readings, &ctx, sim.now());
    let cold_requests = backend.stats().requests - before;
    // What a later refresh knows: the configs, releases, model versions and identity read.
    let warm = Known::nothing(sim.now()).after(readings);
    let before = backend.stats().requests;
    rt.block_on(read(&backend, &ctx, &warm));
    let warm_requests = backend.stats().requests - before;
    eprintln!(
        "{name}: {} circuits, {} errors; cold refresh {:.2?} with {cold_requests} requests, warm refresh {warm_requests} requests; {} in flight per service, up to {} calls queued",
        snapshot.circuit_count(),
        snapshot.errors.len(),
        cold,
        ctx.concurrency,
        ctx.concurrency * 4
    );
    let mut g = c.benchmark_group(name);
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function(
        "refresh, warm (what cannot have changed is not read again)",
        |b| b.iter(|| rt.block_on(read(&backend, &ctx, &warm))),
    );
    g.bench_function("refresh, config cache cold", |b| {
        b.iter(|| rt.block_on(read(&backend, &ctx, &Known::nothing(sim.now()))))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_fleet(
        c,
        &rt,
        "demo fleet (130 circuits, 50 ms latency)",
        FleetSource::Demo,
    );
    bench_fleet(
        c,
        &rt,
        "generated fleet (200 circuits, 50 ms latency)",
        FleetSource::Generated {
            plants: 20,
            circuits_per_plant: 10,
        },
    );
    bench_fleet_as(
        c,
        &rt,
        "generated fleet as YAML pipelines (200 circuits, 50 ms latency)",
        FleetSource::Generated {
            plants: 20,
            circuits_per_plant: 10,
        },
        DevOpsFlavor::Yaml,
    );
    bench_fleet(
        c,
        &rt,
        "generated fleet (2,000 circuits, 50 ms latency)",
        FleetSource::Generated {
            plants: 200,
            circuits_per_plant: 10,
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
