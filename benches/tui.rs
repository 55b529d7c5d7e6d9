//! The console's budgets (ARCHITECTURE.md, "Budgets"): a fleet frame costs the same at 20,000 circuits
//! as at 200 (only visible rows are built), a filter keystroke over 20,000 circuits stays under
//! 5 ms, a key plus redraw under 16 ms, and the first frame from a cached snapshot under 150 ms.
//! On fixture fleets, and the first frame of `relcon` with no configuration, which starts the
//! in-process simulator first.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use relcon::domain::Thresholds;
use relcon::domain::fleet::FleetSnapshot;
use relcon::service::cache::Cache;
use relcon::tui::action::{Action, Msg};
use relcon::tui::{App, AppConfig, fixture, update, view};

const SIZES: [usize; 2] = [200, 20_000];
const SCREEN: (u16, u16) = (160, 48);

fn config() -> AppConfig {
    AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "simulator (bench)".into(),
    )
}

/// A console showing `snapshot` as live data.
fn console(snapshot: &FleetSnapshot) -> App {
    let (mut app, effects) = App::new(config(), None, fixture::now(), SCREEN);
    fixture::answer(&mut app, effects, snapshot);
    app
}

fn terminal() -> Terminal<TestBackend> {
    match Terminal::new(TestBackend::new(SCREEN.0, SCREEN.1)) {
        Ok(t) => t,
        Err(never) => match never {},
    }
}

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("fleet frame 160x48");
    for n in SIZES {
        let app = console(&fixture::fleet(n));
        let mut term = terminal();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let _ = term.draw(|f| view(black_box(&app), f));
            })
        });
    }
    g.finish();
}

/// The circuit view (header with what `a` and `R` would do, overview tab): as cheap at 20,000
/// circuits as at 200, because the rollback target and pending approvals are worked out once
/// per snapshot, not per frame.
fn circuit_frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("circuit frame 160x48");
    for n in SIZES {
        let snapshot = fixture::fleet(n);
        let mut app = console(&snapshot);
        let effects = fixture::press(&mut app, &["<Enter>"]);
        fixture::answer(&mut app, effects, &snapshot);
        let mut term = terminal();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let _ = term.draw(|f| view(black_box(&app), f));
            })
        });
    }
    g.finish();
}

fn filter_keystroke(c: &mut Criterion) {
    let mut g = c.benchmark_group("filter keystroke");
    for n in SIZES {
        let mut app = console(&fixture::fleet(n));
        fixture::press(&mut app, &["/"]);
        fixture::type_text(&mut app, "coo");
        // Each iteration is one keystroke: typing `l`, then deleting it, and so on.
        let mut typed = false;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let a = if typed {
                    Action::DeleteBack
                } else {
                    Action::Type('l')
                };
                typed = !typed;
                black_box(update(&mut app, Msg::Action(a)));
            })
        });
    }
    g.finish();
}

fn key_and_redraw(c: &mut Criterion) {
    let mut g = c.benchmark_group("key and redraw 160x48");
    for n in SIZES {
        let mut app = console(&fixture::fleet(n));
        let mut term = terminal();
        let mut down = true;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let a = if down { Action::Down } else { Action::Up };
                down = !down;
                update(&mut app, Msg::Action(a));
                let _ = term.draw(|f| view(&app, f));
            })
        });
    }
    g.finish();
}

fn first_frame_from_cache(c: &mut Criterion) {
    let mut g = c.benchmark_group("first frame from cache");
    g.sample_size(20);
    for n in SIZES {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let cache = Cache::new(Some(dir.path().to_path_buf()));
        let key = "simulator (bench)";
        if let Err(e) = cache.store_snapshot(key, &fixture::fleet(n)) {
            panic!("cannot write the cache: {e}");
        }
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            // The app lives on after its first frame: dropping it is not part of the frame.
            b.iter_with_large_drop(|| {
                // What `tui::run` does before its first draw: read the cache, build the app.
                let cached = cache.load_snapshot(key);
                assert!(cached.is_some(), "cache unreadable");
                let (app, _) = App::new(config(), cached, fixture::now(), SCREEN);
                let mut term = terminal();
                let _ = term.draw(|f| view(&app, f));
                black_box(app.data.index.rows.len());
                app
            })
        });
        // Of which reading the cache file.
        g.bench_with_input(BenchmarkId::new("cache read", n), &n, |b, _| {
            b.iter_with_large_drop(|| cache.load_snapshot(key))
        });
    }
    g.finish();
}

/// What `relcon` with no configuration does before its first draw: start the in-process
/// simulator on a free loopback port, open a session over it, read the (empty) cache, build the
/// app and draw. The fleet itself arrives later, from a background refresh.
fn first_frame_from_the_simulator(c: &mut Criterion) {
    use relcon::azure::{AzureBackend, ClientOptions};
    use relcon::service::backend::Backend;
    use relcon::sim::{SimOptions, start};
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let mut g = c.benchmark_group("first frame from the simulator");
    g.sample_size(20);
    g.bench_function("demo fleet, no cache", |b| {
        b.iter(|| {
            let sim = match rt.block_on(start(SimOptions {
                start: Some(relcon::domain::clock::pinned_start()),
                ..SimOptions::default()
            })) {
                Ok(s) => s,
                Err(e) => panic!("simulator: {e}"),
            };
            let settings = sim.settings();
            let backend = {
                let _g = rt.enter();
                match AzureBackend::new(&settings, ClientOptions::default()) {
                    Ok(b) => b,
                    Err(e) => panic!("client: {e}"),
                }
            };
            let described = backend.describe();
            let (app, _) = App::new(config(), None, fixture::now(), SCREEN);
            let mut term = terminal();
            let _ = term.draw(|f| view(&app, f));
            black_box((described.len(), app.data.index.rows.len()))
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    frame,
    circuit_frame,
    filter_keystroke,
    key_and_redraw,
    first_frame_from_cache,
    first_frame_from_the_simulator
);
criterion_main!(benches);
