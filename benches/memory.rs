//! Peak heap of the paths of `relcon fleet --json` that grow with the fleet, counted by a
//! global allocator: a regression guard that is neither a timing nor a pass/fail threshold
//! (docs/PERFORMANCE.md, "20,000 circuits in bounded memory"). It prints, for 200 and 20,000
//! circuits:
//!
//! - the `fleet --json` document built whole (a `serde_json::Value`, then one `String`), as it
//!   was, against the document streamed (`relcon::cli::fleet_doc`), on the console's fixture
//!   fleets;
//! - a drift query's table (9 series of 30 days per circuit) decoded from its Log Analytics
//!   body by `relcon::azure::map::table`, with `dynamic` cells kept as text, against the same
//!   rows with each `dynamic` cell parsed into a `serde_json::Value`, as they were.
//!
//! - the drift table's parts (by plant, as a result past Log Analytics' cap is read) joined
//!   into one table and decoded, as a refresh did, against each part decoded as it arrives
//!   (`queries::Decoded::add`), and the decoded series kept whole against cut to what a fleet
//!   row shows (`Keep::FleetView`, a one-shot `relcon fleet`);
//! - 20,000 Prod job lists of 15 jobs held whole, as the job book did, against the jobs the
//!   summary reads (`incidents::jobs_assessed`).
//!
//! - a release history (three stages, each with an approval and a deployment attempt, by a
//!   handful of people, as the simulator's fleet of that size has) mapped from its pages into
//!   release records, each record owning its identities and names (every release mapped on its
//!   own, as before) against one [`relcon::domain::platform::IdentityBook`] for the list
//!   (`map::release_in`, what `release_history` does): the records as the release book holds
//!   them.
//!
//! Run: `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use relcon::azure::map;
use relcon::cli::fleet_doc::{FleetDocument, write_pretty};
use relcon::domain::fleet::FleetSnapshot;
use relcon::domain::platform::Cell;
use relcon::tui::fixture;
use serde_json::{Value, json};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is passed to `System` unchanged; only counters are kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most heap `f` held at once beyond what was live before it, and what it returned.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    (PEAK.load(Relaxed) - before, out)
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A byte counter standing in for stdout.
#[derive(Default)]
struct Sink(usize);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fleet_document(s: &FleetSnapshot) {
    let doc = FleetDocument {
        snapshot: s,
        stale: false,
        command: Some("fleet"),
        schema_version: 1,
    };
    let (streamed, written) = peak_of(|| {
        let mut sink = Sink::default();
        write_pretty(&mut sink, &doc).map(|()| sink.0)
    });
    let (whole, text) =
        peak_of(|| serde_json::to_value(&doc).and_then(|v| serde_json::to_string_pretty(&v)));
    let (written, text) = match (written, text) {
        (Ok(w), Ok(t)) => (w, t),
        (w, t) => panic!("cannot write the document: {w:?} {t:?}"),
    };
    assert_eq!(written, text.len() + 1, "the two writers differ");
    println!(
        "fleet --json, {:>6} circuits: {} document; built whole {:>9}, streamed {:>9}",
        s.circuit_count(),
        mb(written),
        mb(whole),
        mb(streamed)
    );
}

/// A drift query's answer as Log Analytics sends it: `dynamic` lists as JSON text.
fn drift_body(circuits: usize) -> Vec<u8> {
    let days: Vec<String> = (1..=30)
        .map(|d| format!("2026-11-{d:02}T00:00:00Z"))
        .collect();
    let days = serde_json::to_string(&days).unwrap_or_default();
    let mut rows = Vec::with_capacity(circuits * 9);
    for c in 0..circuits {
        for (f, feature) in ["temperature", "pressure", "load"].iter().enumerate() {
            for metric in ["psi", "kl_divergence", "jensen_shannon"] {
                let values: Vec<f64> = (0..30)
                    .map(|i| ((c * 31 + f * 7 + i) % 97) as f64 / 331.0)
                    .collect();
                rows.push(json!([
                    format!("PLANT{:03}", c / 10 + 1),
                    format!("CIRCUIT{:02}", c % 10 + 1),
                    feature,
                    metric,
                    days,
                    serde_json::to_string(&values).unwrap_or_default(),
                ]));
            }
        }
    }
    let columns = [
        ("plant_id", "string"),
        ("circuit_id", "string"),
        ("feature", "string"),
        ("metric", "string"),
        ("days", "dynamic"),
        ("values", "dynamic"),
    ]
    .map(|(n, t)| json!({"name": n, "type": t}));
    let body = json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]});
    serde_json::to_vec(&body).unwrap_or_default()
}

fn drift_table(circuits: usize) {
    let body = drift_body(circuits);
    let (peak, table) = peak_of(|| {
        let results = serde_json::from_slice(&body).map_err(|e| e.to_string());
        results.and_then(map::table)
    });
    let table = match table {
        Ok(t) => t,
        Err(e) => panic!("cannot decode the drift table: {e}"),
    };
    // The same rows with every `dynamic` cell a parsed `Value`, as `Cell::Dynamic` was.
    let (as_values, parsed) = peak_of(|| {
        table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        Cell::Dynamic(d) => d.value(),
                        Cell::Text(t) => Value::String(t.clone()),
                        _ => Value::Null,
                    })
                    .collect::<Vec<Value>>()
            })
            .collect::<Vec<_>>()
    });
    black_box(&parsed);
    let (as_text, copy) = peak_of(|| table.clone());
    black_box(&copy);
    println!(
        "drift table, {:>6} circuits ({} rows, body {}): decoding peak {:>9}; the table holds {:>9} with dynamic cells as text, {:>9} as Values",
        circuits,
        table.rows.len(),
        mb(body.len()),
        mb(peak),
        mb(as_text),
        mb(as_values)
    );
}

/// The drift table as Log Analytics would answer it whole.
fn drift_whole(circuits: usize) -> relcon::domain::platform::Table {
    serde_json::from_slice(&drift_body(circuits))
        .map_err(|e| e.to_string())
        .and_then(map::table)
        .unwrap_or_else(|e| panic!("cannot decode the drift table: {e}"))
}

/// Part `k` of `parts` by plant, as the client reads a result past the cap (a new table, as
/// a part arrives).
fn drift_part(
    table: &relcon::domain::platform::Table,
    k: usize,
    parts: usize,
) -> relcon::domain::platform::Table {
    let plant = |row: &Vec<Cell>| match row.first() {
        Some(Cell::Text(p)) => p.bytes().fold(0usize, |h, b| h * 31 + usize::from(b)),
        _ => 0,
    };
    relcon::domain::platform::Table {
        columns: table.columns.clone(),
        rows: table
            .rows
            .iter()
            .filter(|r| plant(r) % parts == k)
            .cloned()
            .collect(),
        partial: None,
    }
}

fn drift_decoding(circuits: usize) {
    use relcon::service::queries::{self, Decoded, Keep};
    let parts = 8;
    let thresholds = &relcon::domain::Thresholds::default();
    // The answer the parts are cut from is not counted; each part counts from when it arrives.
    let source = drift_whole(circuits);
    // Joined, then decoded: every part, the joined table and the decoded series at once.
    let (joined, decoded) = peak_of(|| {
        let mut all = relcon::domain::platform::Table::default();
        for k in 0..parts {
            all.append(drift_part(&source, k, parts));
        }
        queries::decode_drift(&all)
    });
    let decoded = decoded.unwrap_or_default();
    // Each part decoded as it arrives and dropped.
    let each = |kept: Keep| {
        peak_of(|| {
            let mut d = Decoded::default();
            for k in 0..parts {
                let t = drift_part(&source, k, parts);
                let mut part = queries::decode_drift(&t).unwrap_or_default();
                drop(t);
                if kept == Keep::FleetView {
                    for list in part.values_mut() {
                        queries::keep_fleet_view(list, thresholds);
                    }
                }
                d.by_circuit.extend(part);
            }
            d
        })
    };
    let (per_part, full) = each(Keep::Full);
    let (per_part_view, view) = each(Keep::FleetView);
    assert_eq!(full.by_circuit, decoded, "decoded alike");
    assert_eq!(view.by_circuit.len(), decoded.len());
    println!(
        "drift read, {circuits:>6} circuits in {parts} parts: peak heap joined then decoded {:>9}; each part as it arrives {:>9}; and cut to the fleet view {:>9}",
        mb(joined),
        mb(per_part),
        mb(per_part_view)
    );
}

fn job_lists(deployments: usize) {
    use relcon::domain::Stage;
    use relcon::domain::clock::pinned_start;
    use relcon::domain::incidents::{JobStatus, ScoringJob, jobs_assessed};
    let list = |d: usize| -> Vec<ScoringJob> {
        (0..15)
            .map(|i| ScoringJob {
                name: format!("batchjob-{d:05}-{i:02}-0b1c2d3e4f5a6b7c8d9e"),
                stage: Stage::Prod,
                endpoint: format!("batch-endpoint-plant{:03}", d / 10 + 1),
                deployment: format!("deployment-circuit{:02}", d % 10 + 1),
                status: if i % 5 == 0 {
                    JobStatus::Failed
                } else {
                    JobStatus::Completed
                },
                submitted_at: Some(pinned_start() - chrono::Duration::hours(24 * i as i64)),
                started_at: None,
                ended_at: None,
                error: (i % 5 == 0).then(|| "the scoring script raised an error".to_owned()),
                error_code: (i % 5 == 0).then(|| "UserError".to_owned()),
                studio_url: Some(format!("https://ml.azure.com/runs/batchjob-{d:05}-{i:02}")),
            })
            .collect()
    };
    let (whole, lists) = peak_of(|| (0..deployments).map(list).collect::<Vec<_>>());
    drop(lists);
    let (kept_alone, kept_lists) = peak_of(|| {
        (0..deployments)
            .map(|d| jobs_assessed(list(d)))
            .collect::<Vec<_>>()
    });
    black_box(&kept_lists);
    println!(
        "Prod job lists, {deployments:>6} deployments of 15 jobs: held whole {:>9}; the jobs the summary reads ({} a list) {:>9}",
        mb(whole),
        kept_lists.first().map_or(0, Vec::len),
        mb(kept_alone)
    );
}

/// One page (100 releases from `first`) of a release list as DevOps writes it with
/// `$expand=environments,approvals,variables,artifacts`, the parts relcon reads.
fn release_page(first: usize, people: &[(&str, &str)]) -> Vec<u8> {
    let who = |i: usize| {
        let (login, name) = people[i % people.len()];
        json!({
            "displayName": name,
            "url": format!("https://vssps.dev.azure.com/contoso/_apis/Identities/id-{login}"),
            "id": format!("0b1c2d3e-4f5a-6b7c-8d9e-{login:0>12}"),
            "uniqueName": format!("{login}@contoso.com"),
            "imageUrl": format!("https://dev.azure.com/contoso/_api/_common/identityImage?id={login}"),
            "descriptor": format!("aad.{login}"),
        })
    };
    let value: Vec<Value> = (first..first + 100)
        .map(|r| {
            let name = format!("Release-{r}");
            let envs: Vec<Value> = ["Registry", "Test", "Production"]
                .iter()
                .enumerate()
                .map(|(e, stage)| {
                    let env_id = r * 3 + e;
                    json!({
                        "id": env_id, "releaseId": r, "name": stage, "status": "succeeded",
                        "rank": e + 1, "definitionEnvironmentId": e + 1,
                        "preDeployApprovals": [{
                            "id": env_id * 2, "status": "approved", "approvalType": "preDeploy",
                            "approver": who(r + e), "approvedBy": who(r + e),
                            "comments": "", "attempt": 1, "isAutomated": false,
                            "createdOn": "2026-11-20T08:00:00Z", "modifiedOn": "2026-11-20T09:00:00Z",
                            "release": {"id": r, "name": name},
                            "releaseEnvironment": {"id": env_id, "name": stage},
                        }],
                        "deploySteps": [{
                            "id": env_id, "deploymentId": env_id, "attempt": 1, "status": "succeeded",
                            "requestedBy": who(r), "requestedFor": who(r),
                            "queuedOn": "2026-11-20T09:00:00Z", "lastModifiedOn": "2026-11-20T09:10:00Z",
                        }],
                        "modifiedOn": "2026-11-20T09:10:00Z",
                    })
                })
                .collect();
            json!({
                "id": r, "name": name, "status": "active", "description": "",
                "createdOn": "2026-11-20T08:00:00Z", "createdBy": who(r),
                "artifacts": [{"alias": "models", "isPrimary": true,
                    "definitionReference": {"version": {"id": (r / 7).to_string(), "name": "b"}}}],
                "variables": {"BUILD_ID": {"value": (r / 7).to_string()}, "MODEL_COUNT": {"value": "10"}},
                "environments": envs,
            })
        })
        .collect();
    serde_json::to_vec(&json!({"count": value.len(), "value": value})).unwrap_or_default()
}

fn release_history(releases: usize) {
    use relcon::azure::wire::{DevOpsList, devops::Release};
    use relcon::domain::platform::IdentityBook;
    let people = [
        ("alice", "Alice Varga"),
        ("bob", "Bob Okafor"),
        ("carol", "Carol Nguyen"),
        ("dmitri", "Dmitri Sokolov"),
        ("eve", "Eve Tanaka"),
        ("release-bot", "Release Pipeline"),
    ];
    let pages: Vec<Vec<u8>> = (0..releases.div_ceil(100))
        .map(|p| release_page(p * 100, &people))
        .collect();
    let page = |body: &[u8]| -> Vec<Release> {
        serde_json::from_slice::<DevOpsList<Release>>(body)
            .map(|l| l.value)
            .unwrap_or_default()
    };
    let (alone, records) = peak_of(|| {
        pages
            .iter()
            .flat_map(|b| page(b).into_iter().map(map::release))
            .collect::<Vec<_>>()
    });
    drop(records);
    let (shared, records) = peak_of(|| {
        let mut book = IdentityBook::default();
        pages
            .iter()
            .flat_map(|b| page(b))
            .map(|r| map::release_in(r, &mut book))
            .collect::<Vec<_>>()
    });
    black_box(&records);
    println!(
        "release history, {releases:>6} releases: peak heap each release mapped alone {:>9}; one identity book for the list {:>9}",
        mb(alone),
        mb(shared)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to choose.
    for n in [200, 20_000] {
        fleet_document(&fixture::fleet(n));
    }
    for n in [200, 2_000, 20_000] {
        drift_table(n);
    }
    for n in [200, 2_000, 20_000] {
        drift_decoding(n);
    }
    job_lists(20_000);
    // The release counts of the simulator's fleets of 2,000 and 20,000 circuits.
    for n in [14_456, 30_377] {
        release_history(n);
    }
}
