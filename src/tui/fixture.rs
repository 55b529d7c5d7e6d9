//! Deterministic fleets for the console's tests and benches: a realistic snapshot of any size
//! (17 named plants at demo scale, thousands of plants for load), with every state the views
//! must draw (alerts, a lineage break, unknowns, a rollback in progress, pending approvals
//! including a 42-circuit release and an environment-only release), plus circuit and approval
//! evidence built with the real diff and grouping code. Not used by the shipped console.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::changes::group_changes;
use crate::domain::diff::{ConfigDiff, TextChanges};
use crate::domain::drift::{DriftAssessment, DriftMetric, accuracy_status};
use crate::domain::fleet::{
    AccuracySummary, ActiveRelease, ApprovalItem, CircuitSnapshot, Decision, DriftSeries,
    DriftSummary, FleetSnapshot, KnownVersion, Lineage, PlantSnapshot, ReleaseModel,
    ReleaseStage, ReleaseSummary, Series, SnapshotError, StageEnvironments, StageVersions,
    ValidationRun, ValidationSummary, gate_evidence,
};
use crate::domain::hash::TrainingHash;
use crate::domain::platform::{
    Deployment, EnvironmentAsset, EnvironmentStatus, IdentityRef, ModelAsset, ProvisioningState,
    ReleaseStatus,
};
use crate::domain::policy::ApprovalPolicy;
use crate::domain::rollback::prod_history;
use crate::domain::validation::{Metrics, ValidationMetric, ValidationVerdict};
use crate::domain::{CircuitId, CircuitRef, ModelVersion, PlantId, Stage, Status, Thresholds};
use crate::service::approval::{ApprovalEvidence, ReviewLine};
use crate::service::evidence::{CircuitEvidence, ConfigAtVersion, ConfigComparison, VersionInfo};

/// The fixed clock every fixture and snapshot test uses.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 10, 9, 30, 0)
        .single()
        .unwrap_or_default()
}

/// The operator the fixture snapshot is read as.
pub fn operator() -> IdentityRef {
    person("Alex Chen")
}

/// The demo-scale fleet the snapshot tests draw.
pub const DEMO_CIRCUITS: usize = 130;

pub const PLANT_NAMES: [&str; 17] = [
    "Rotterdam Polymer Works",
    "Monterrey Steel Rolling",
    "Kulmbach Brewery",
    "Sundsvall Paper Mill",
    "Rhône Valley Cement Works",
    "Ringaskiddy Pharma API Plant",
    "Chattanooga Vehicle Assembly",
    "Toledo Float Glass",
    "Hsinchu Wafer Fab 3",
    "Tuas Water Reclamation Works",
    "Jundiaí Beverage Bottling",
    "Pune Engine Components",
    "Tarragona Ammonia & Fertilizer",
    "Gdańsk Dairy Processing",
    "Osaka Battery Cell Plant",
    "Hamilton Aluminum Extrusion",
    "Durban Sugar Refinery",
];

const DESCRIPTIONS: [&str; 24] = [
    "Primary cooling system",
    "Boiler feedwater pumps",
    "Air compressor station",
    "Cooling tower fans CT-1 to CT-4",
    "Extruder line 1 barrel heating",
    "Finishing mill stand F3 main drive",
    "Fermentation cellar tanks FV-01 to FV-12",
    "CIP station brewhouse",
    "Ammonia refrigeration compressor",
    "Cement mill 1 ball mill",
    "Clean steam generator",
    "Float furnace regenerator firing",
    "Cleanroom make-up air unit MAU-1",
    "Aeration blowers train 1",
    "Filler line 2 PET",
    "CNC machining cell coolant system",
    "Ammonia converter cooling loop",
    "Cream separator",
    "Electrode coating dryer oven",
    "Extrusion press 2 (3,200 t)",
    "Bagasse boiler feedwater pumps",
    "Bottle washer – line 2",
    "Dry vacuum pump bank etch tools",
    "Descaling high-pressure pumps",
];

const FEATURES: [&str; 3] = ["supply_temperature", "flow_rate", "pump_discharge_pressure"];
const METRICS: [DriftMetric; 3] = [
    DriftMetric::JensenShannon,
    DriftMetric::Psi,
    DriftMetric::KsPvalue,
];

/// Release ids of the fixture's story.
pub const R_WAVE: u32 = 120;
pub const R_ENV: u32 = 121;
pub const R_SELF: u32 = 122;
pub const R_DEPLOYING: u32 = 123;
pub const R_CLEAN: u32 = 125;
pub const R_ROLLBACK_TARGET: u32 = 118;
pub const R_BAD: u32 = 119;

/// How many circuits the 40-circuit wave touches with the common change, and the odd ones.
const WAVE_COMMON: usize = 40;
const WAVE_ODD: usize = 2;

fn person(name: &str) -> IdentityRef {
    let login = name.to_ascii_lowercase().replace(' ', ".");
    IdentityRef {
        id: format!("id-{login}"),
        display_name: name.to_owned(),
        unique_name: format!("{login}@contoso.com"),
    }
}

/// splitmix64: a stable stream of numbers per (circuit, purpose), so the fleet never changes.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(seed: u64) -> f64 {
    (mix(seed) >> 11) as f64 / (1u64 << 53) as f64
}

fn hex(seed: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    let mut n = 0u64;
    while s.len() < len {
        s.push_str(&format!("{:016x}", mix(seed.wrapping_add(n))));
        n += 1;
    }
    s.truncate(len);
    s
}

fn hash_of(seed: u64) -> Option<TrainingHash> {
    hex(seed, TrainingHash::LEN).parse().ok()
}

fn cref(p: usize, c: usize) -> CircuitRef {
    CircuitRef::new(
        PlantId::from_number(p as u32 + 1),
        CircuitId::from_number(c as u32 + 1),
    )
}

/// What the story does to one circuit, by its global index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// In the 40-circuit wave (common change), or one of its odd ones.
    Wave { odd: bool, failing: bool },
    /// In the self-requested Registry release.
    SelfRequested,
    /// Being deployed to Prod by R-123.
    Deploying,
    /// In the clean two-circuit release.
    Clean,
    /// The incident: Prod is being rolled back from v(n) to v(n-1).
    RollingBack,
    /// The Prod model's hash tag does not match its config.
    LineageBreak,
    /// Its Prod deployment could not be read.
    Unreadable,
}

struct Layout {
    plants: usize,
    /// `(plant, circuit)` for each global index.
    at: Vec<(usize, usize)>,
    per_plant: Vec<usize>,
}

fn layout(n: usize) -> Layout {
    let plants = if n <= 200 { 17.min(n.max(1)) } else { n.div_ceil(10) };
    // Demo scale: 5-10 circuits per plant, uneven like a real fleet.
    let mut per_plant = vec![n / plants; plants];
    for (i, slot) in per_plant.iter_mut().enumerate().take(n % plants) {
        let _ = i;
        *slot += 1;
    }
    if n <= 200 && plants > 2 {
        // Shift circuits between neighbours so plants are not all the same size.
        for i in (0..plants - 1).step_by(3) {
            if per_plant[i] > 2 {
                per_plant[i] -= 1;
                per_plant[i + 1] += 1;
            }
        }
    }
    let mut at = Vec::with_capacity(n);
    for (p, &k) in per_plant.iter().enumerate() {
        for c in 0..k {
            at.push((p, c));
        }
    }
    Layout {
        plants,
        at,
        per_plant,
    }
}

fn role(g: usize, at: (usize, usize), per_plant: &[usize]) -> Role {
    match at {
        (1, 1) => return Role::RollingBack,
        (3, 2) => return Role::LineageBreak,
        (13, 0) | (13, 3) => return Role::Unreadable,
        (6, 0..=2) => return Role::SelfRequested,
        (8, 0 | 1) => return Role::Deploying,
        (10, 4 | 5) => return Role::Clean,
        _ => {}
    }
    // The wave: the first 42 circuits of plants 0, 2, 4, 5, 7, 9 and 11.
    let wave_plants = [0usize, 2, 4, 5, 7, 9, 11];
    if let Some(rank) = wave_plants.iter().position(|p| *p == at.0) {
        let before: usize = wave_plants[..rank].iter().map(|p| per_plant[*p]).sum();
        let i = before + at.1;
        if i < WAVE_COMMON + WAVE_ODD {
            return Role::Wave {
                odd: i >= WAVE_COMMON,
                failing: i == 17,
            };
        }
    }
    let _ = g;
    Role::Plain
}

/// Validation metrics of a circuit's models: each circuit has its own level (`seed`), a
/// version's run varies a little around it (`jitter`, in 0..1), and `bad` is clearly over the
/// MAE limit.
fn metrics(seed: u64, jitter: f64, bad: bool) -> Metrics {
    let base = 0.09 + unit(seed) * 0.06;
    let factor = 0.94 + jitter * 0.1;
    let mae = if bad { 0.29 + unit(seed + 1) * 0.04 } else { base * factor };
    [
        (ValidationMetric::Mae, round(mae)),
        (ValidationMetric::Rmse, round(mae * 1.4)),
        (
            ValidationMetric::Mape,
            round((6.0 + unit(seed + 2) * 4.0) * factor),
        ),
    ]
    .into_iter()
    .collect()
}

fn round(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn days(now: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    (0..n)
        .map(|i| now - Duration::days((n - 1 - i) as i64))
        .collect()
}

/// A 30-day drift series ending at `last`, wandering upward toward it.
fn drift_series(seed: u64, metric: DriftMetric, last: f64, day: &[DateTime<Utc>]) -> Series {
    let n = day.len();
    let values = (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1).max(1) as f64;
            let noise = (unit(seed + i as u64) - 0.5) * 0.2;
            let v = if metric.lower_is_worse() {
                // p-values fall toward `last`.
                0.6 + (last - 0.6) * t.powf(2.0) + noise * 0.3
            } else {
                last * (0.35 + 0.65 * t.powf(1.6)) * (1.0 + noise)
            };
            round(v.clamp(0.0, 1.0))
        })
        .collect::<Vec<_>>();
    let mut values = values;
    if let Some(l) = values.last_mut() {
        *l = last;
    }
    Series {
        days: day.to_vec(),
        values,
    }
}

/// The latest value of each metric, chosen so a spread of circuits warn and alert.
fn drift_latest(seed: u64, metric: DriftMetric, severity: u8) -> f64 {
    let u = unit(seed);
    match (metric, severity) {
        (DriftMetric::KsPvalue, 2) => round(0.004 + u * 0.03),
        (DriftMetric::KsPvalue, _) => round(0.2 + u * 0.6),
        (DriftMetric::Psi, 2) => round(0.27 + u * 0.1),
        (DriftMetric::Psi, 1) => round(0.11 + u * 0.1),
        (DriftMetric::Psi, _) => round(0.02 + u * 0.06),
        (DriftMetric::JensenShannon, 2) => round(0.16 + u * 0.08),
        (_, _) => round(0.03 + u * 0.08),
    }
}

/// A fleet snapshot of `n` circuits, as of [`now`].
pub fn fleet(n: usize) -> FleetSnapshot {
    let now = now();
    let t = Thresholds::default();
    let lay = layout(n);
    let day = days(now, 30);
    let mut plants: Vec<PlantSnapshot> = (0..lay.plants)
        .map(|p| {
            let base = PLANT_NAMES[p % PLANT_NAMES.len()];
            PlantSnapshot {
                plant_id: PlantId::from_number(p as u32 + 1),
                name: if p < PLANT_NAMES.len() {
                    base.to_owned()
                } else {
                    format!("{base} {}", p / PLANT_NAMES.len() + 1)
                },
                circuits: Vec::with_capacity(lay.per_plant[p]),
            }
        })
        .collect();
    let mut wave = Vec::new();
    let mut self_req = Vec::new();
    let mut deploying = Vec::new();
    let mut clean = Vec::new();
    let mut incident = None;
    for (g, &(p, c)) in lay.at.iter().enumerate() {
        let role = role(g, (p, c), &lay.per_plant);
        let circuit = cref(p, c);
        let seed = (g as u64) << 16;
        let mut snap = CircuitSnapshot::new(circuit.clone(), circuit.render("{plant}-{circuit}"));
        snap.description = DESCRIPTIONS[(g * 7 + p) % DESCRIPTIONS.len()].to_owned();
        let prod = ModelVersion(3 + (g % 9) as u32);
        let next = ModelVersion(prod.0 + 1);
        let mut v = StageVersions {
            dev: Some(prod),
            registry: Some(prod),
            test: Some(prod),
            prod: Some(prod),
        };
        match role {
            Role::Wave { .. } | Role::SelfRequested | Role::Clean => {
                v.dev = Some(next);
                v.registry = Some(next);
                if !matches!(role, Role::SelfRequested) {
                    v.test = Some(next);
                }
                if matches!(role, Role::SelfRequested) {
                    v.registry = Some(prod);
                }
            }
            Role::Deploying => {
                v.dev = Some(next);
                v.registry = Some(next);
                v.test = Some(next);
            }
            Role::RollingBack => {}
            Role::Unreadable => v.prod = None,
            Role::Plain | Role::LineageBreak => {
                if g % 11 == 4 {
                    // Trained in Dev, not promoted yet.
                    v.dev = Some(next);
                }
            }
        }
        snap.versions = v.clone();
        snap.environment = StageEnvironments {
            test: Some("1.5.1".into()),
            prod: (role != Role::Unreadable).then(|| "1.5.0".into()),
        };
        // Lineage.
        let prod_hash = hash_of(seed + 1);
        snap.lineage = match role {
            Role::LineageBreak => Lineage {
                prod: prod_hash,
                config: hash_of(seed + 2),
                commit: Some(hex(seed + 3, 40)),
                matches: Some(false),
            },
            Role::Unreadable => Lineage::default(),
            _ => Lineage {
                prod: prod_hash.clone(),
                config: prod_hash,
                commit: Some(hex(seed + 3, 40)),
                matches: Some(true),
            },
        };
        // Drift: mostly quiet, some warn, a few alert, the unreadable ones unknown.
        let roll = unit(seed + 4);
        let severity: u8 = match role {
            Role::RollingBack => 2,
            Role::Unreadable => 9,
            _ if roll < 0.06 => 2,
            _ if roll < 0.16 => 1,
            _ => 0,
        };
        if severity != 9 {
            let mut series = Vec::new();
            for (fi, feature) in FEATURES.iter().enumerate() {
                for (mi, metric) in METRICS.iter().enumerate() {
                    let s = seed + 100 + (fi * 10 + mi) as u64 * 7;
                    // Only the first feature carries the circuit's drift; the rest stay quiet.
                    let sev = if fi == (g % 3) && (mi + g) % 3 != 0 {
                        severity
                    } else {
                        0
                    };
                    let sev = if *metric == DriftMetric::JensenShannon && sev == 1 {
                        0
                    } else {
                        sev
                    };
                    let last = drift_latest(s, *metric, sev);
                    series.push(DriftSeries {
                        feature: (*feature).to_owned(),
                        metric: *metric,
                        series: drift_series(s, *metric, last, &day),
                    });
                }
            }
            let a = DriftAssessment::assess(
                series
                    .iter()
                    .filter_map(|s| Some((s.feature.as_str(), s.metric, s.series.latest()?))),
                &t,
            );
            snap.drift = DriftSummary {
                status: a.status,
                worst: a.worst,
                series,
            };
            // Accuracy.
            let mae_last = if role == Role::RollingBack {
                0.31
            } else {
                round(0.08 + unit(seed + 5) * 0.1)
            };
            let mae = drift_series(seed + 6, DriftMetric::Psi, mae_last, &day);
            snap.accuracy = AccuracySummary {
                status: accuracy_status(Some(mae_last), &t),
                latest: Some(mae_last),
                series: mae,
            };
        } else {
            snap.unknown.push(
                "Prod deployment: GET batch-endpoint-plant014/deployments: HTTP 503".into(),
            );
            snap.unknown.push("drift: no readings in 30 days".into());
        }
        // Validation runs: the Prod model's baseline, the candidate's run, the environment run.
        let mut runs = Vec::new();
        let failing_candidate = matches!(role, Role::Wave { failing: true, .. });
        let candidate = match role {
            Role::Wave { .. } | Role::Clean | Role::Deploying => Some(next),
            _ => None,
        };
        let release_of_candidate = match role {
            Role::Wave { .. } => Some(R_WAVE),
            Role::Clean => Some(R_CLEAN),
            Role::Deploying => Some(R_DEPLOYING),
            _ => None,
        };
        if let (Some(cv), Some(rid)) = (candidate, release_of_candidate) {
            runs.push(ValidationRun {
                model_version: Some(cv),
                release_id: Some(rid),
                environment_version: Some("1.5.0".into()),
                at: Some(now - Duration::hours(5 + (g % 20) as i64)),
                metrics: metrics(seed + 7, unit(seed + 17), failing_candidate),
            });
        }
        if let Some(pv) = snap.versions.prod {
            // The environment release's Test run of the Prod model on 1.5.1; a few fail, a few
            // are missing.
            let env_fail = g % 41 == 9;
            let env_missing = g % 53 == 20;
            if !env_missing {
                runs.push(ValidationRun {
                    model_version: Some(pv),
                    release_id: Some(R_ENV),
                    environment_version: Some("1.5.1".into()),
                    at: Some(now - Duration::hours(20)),
                    metrics: metrics(seed + 7, unit(seed + 18), env_fail),
                });
            }
            runs.push(ValidationRun {
                model_version: Some(pv),
                release_id: Some(100 + pv.0),
                environment_version: Some("1.5.0".into()),
                at: Some(now - Duration::days(12 + (g % 9) as i64)),
                metrics: metrics(seed + 7, 0.5, false),
            });
            // The two versions before it passed their tests too (rollback targets).
            for back in 1..=2u32 {
                if pv.0 > back {
                    let old = ModelVersion(pv.0 - back);
                    runs.push(ValidationRun {
                        model_version: Some(old),
                        release_id: Some(100 + old.0),
                        environment_version: Some("1.5.0".into()),
                        at: Some(now - Duration::days(12 + 21 * i64::from(back))),
                        metrics: metrics(seed + 7, 0.4, false),
                    });
                }
            }
        }
        if role == Role::RollingBack {
            // The bad version that is being rolled back, and its good predecessor.
            runs.insert(
                0,
                ValidationRun {
                    model_version: Some(next),
                    release_id: Some(R_BAD),
                    environment_version: Some("1.5.0".into()),
                    at: Some(now - Duration::days(2)),
                    metrics: metrics(seed + 7, unit(seed + 19), false),
                },
            );
        }
        let judged = runs
            .iter()
            .find(|r| r.model_version == snap.versions.test && r.release_id != Some(R_ENV))
            .cloned();
        let baseline = runs
            .iter()
            .find(|r| {
                r.model_version == snap.versions.prod
                    && r.release_id != Some(R_ENV)
                    && r.model_version != judged.as_ref().and_then(|j| j.model_version)
            })
            .cloned();
        let verdict = judged.as_ref().map(|r| {
            ValidationVerdict::evaluate(&r.metrics, baseline.as_ref().map(|b| &b.metrics), &t)
        });
        snap.validation = ValidationSummary {
            status: verdict.as_ref().map(|v| v.status).unwrap_or(Status::Unknown),
            run: judged,
            baseline,
            verdict,
            runs,
        };
        // Known versions: everything up to the newest.
        let newest = [v.dev, v.registry, v.test, v.prod]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(prod);
        snap.known_versions = (1..=newest.0.max(prod.0 + 1))
            .rev()
            .map(|k| KnownVersion {
                version: ModelVersion(k),
                git_commit: Some(hex(seed + 200 + u64::from(k), 40)),
                training_hash: if k == prod.0 {
                    snap.lineage.prod.clone()
                } else {
                    hash_of(seed + 300 + u64::from(k))
                },
                build_id: Some(format!("{}", 4000 + k * 10 + (g % 10) as u32)),
                in_registry: Some(ModelVersion(k)) <= v.registry,
            })
            .collect();
        match role {
            Role::Wave { .. } => wave.push((circuit.clone(), next)),
            Role::SelfRequested => self_req.push((circuit.clone(), next)),
            Role::Deploying => {
                deploying.push((circuit.clone(), next));
                snap.active_release = Some(ActiveRelease {
                    release_id: R_DEPLOYING,
                    release_name: format!("Release-{R_DEPLOYING}"),
                    stage: Stage::Prod,
                });
            }
            Role::Clean => clean.push((circuit.clone(), next)),
            Role::RollingBack => {
                // Prod still shows the bad version while the redeploy of R-118 runs.
                snap.versions.prod = Some(next);
                snap.versions.test = Some(next);
                snap.versions.registry = Some(next);
                snap.versions.dev = Some(next);
                snap.active_release = Some(ActiveRelease {
                    release_id: R_ROLLBACK_TARGET,
                    release_name: format!("Release-{R_ROLLBACK_TARGET}"),
                    stage: Stage::Prod,
                });
                incident = Some((circuit.clone(), prod, next));
            }
            _ => {}
        }
        plants[p].circuits.push(snap);
    }

    let mut snapshot = FleetSnapshot {
        generated_at: now - Duration::seconds(40),
        backend: "simulator (demo fleet) at http://127.0.0.1:4711".into(),
        identity: Some(operator()),
        plants,
        approvals: Vec::new(),
        releases: Vec::new(),
        errors: Vec::new(),
    };
    let all: Vec<(CircuitRef, Option<ModelVersion>)> = snapshot
        .circuits()
        .map(|c| (c.circuit.clone(), c.versions.prod))
        .collect();
    // Scheduled retrains ran up to the version before the incident's bad one.
    let before_incident: Vec<(CircuitRef, Option<ModelVersion>)> = all
        .iter()
        .map(|(c, v)| match &incident {
            Some((ic, good, _)) if ic == c => (c.clone(), Some(*good)),
            _ => (c.clone(), *v),
        })
        .collect();
    snapshot.releases = releases(
        now,
        &before_incident,
        &wave,
        &self_req,
        &deploying,
        &clean,
        &incident,
    );
    // The environment release carries what runs in Prod now.
    if let Some(env) = snapshot.releases.iter_mut().find(|r| r.id == R_ENV) {
        env.models = all
            .iter()
            .filter_map(|(c, v)| {
                Some(ReleaseModel {
                    circuit: c.clone(),
                    version: (*v)?,
                })
            })
            .collect();
    }
    snapshot.approvals = approvals(now, &all, &wave, &self_req, &clean);
    // Count the approvals each circuit waits on.
    let mut counts = std::collections::HashMap::<CircuitRef, u32>::new();
    for item in &snapshot.approvals {
        for c in item.circuits() {
            *counts.entry(c.clone()).or_default() += 1;
        }
    }
    for plant in &mut snapshot.plants {
        for c in &mut plant.circuits {
            c.pending_approvals = counts.get(&c.circuit).copied().unwrap_or(0);
        }
    }
    if lay.plants > 13 {
        snapshot.errors.push(SnapshotError {
            scope: "Prod deployments of batch-endpoint-plant014".into(),
            message: "GET .../batchEndpoints/batch-endpoint-plant014/deployments: HTTP 503: \
                      service unavailable (request id 7f3c9a)"
                .into(),
        });
    }
    snapshot
}

fn stage(stage: Stage, status: EnvironmentStatus, at: DateTime<Utc>, id: u32) -> ReleaseStage {
    ReleaseStage {
        stage,
        environment_id: id,
        attempts: u32::from(!matches!(status, EnvironmentStatus::NotStarted)),
        status,
        at: Some(at),
    }
}

fn release(
    id: u32,
    created: DateTime<Utc>,
    by: &str,
    description: &str,
    stages: [EnvironmentStatus; 3],
    models: Vec<ReleaseModel>,
) -> ReleaseSummary {
    let [r, t, p] = stages;
    ReleaseSummary {
        id,
        name: format!("Release-{id}"),
        status: ReleaseStatus::Active,
        created_on: Some(created),
        created_by: person(by),
        description: description.into(),
        build_id: Some(format!("{}", 9000 + id)),
        environment_only: None,
        previous_environment: None,
        stages: vec![
            stage(
                Stage::Registry,
                r,
                created + Duration::minutes(20),
                id * 10 + 1,
            ),
            stage(Stage::Test, t, created + Duration::hours(1), id * 10 + 2),
            stage(Stage::Prod, p, created + Duration::hours(3), id * 10 + 3),
        ],
        models,
    }
}

fn models(list: &[(CircuitRef, ModelVersion)]) -> Vec<ReleaseModel> {
    list.iter()
        .map(|(c, v)| ReleaseModel {
            circuit: c.clone(),
            version: *v,
        })
        .collect()
}

fn releases(
    now: DateTime<Utc>,
    all: &[(CircuitRef, Option<ModelVersion>)],
    wave: &[(CircuitRef, ModelVersion)],
    self_req: &[(CircuitRef, ModelVersion)],
    deploying: &[(CircuitRef, ModelVersion)],
    clean: &[(CircuitRef, ModelVersion)],
    incident: &Option<(CircuitRef, ModelVersion, ModelVersion)>,
) -> Vec<ReleaseSummary> {
    use EnvironmentStatus::{InProgress, NotStarted, Succeeded};
    let mut out = Vec::new();
    out.push(release(
        R_CLEAN,
        now - Duration::hours(3),
        "Priya Raman",
        "Retrain PLANT011 filler lines after nozzle change",
        [Succeeded, Succeeded, NotStarted],
        models(clean),
    ));
    out.push(release(
        R_DEPLOYING,
        now - Duration::hours(6),
        "Jonas Weber",
        "Hsinchu fab: extend training window to 540 days",
        [Succeeded, Succeeded, InProgress],
        models(deploying),
    ));
    out.push(release(
        R_SELF,
        now - Duration::hours(9),
        "Alex Chen",
        "Chattanooga body shop: retrain after sensor replacement",
        [NotStarted, NotStarted, NotStarted],
        models(self_req),
    ));
    let mut env = release(
        R_ENV,
        now - Duration::days(1),
        "Marta Kowalski",
        "Environment 1.5.1: pandas 2.2.3 security patch",
        [Succeeded, Succeeded, NotStarted],
        all.iter()
            .filter_map(|(c, v)| {
                Some(ReleaseModel {
                    circuit: c.clone(),
                    version: (*v)?,
                })
            })
            .collect(),
    );
    env.environment_only = Some("1.5.1".into());
    env.previous_environment = Some("1.5.0".into());
    env.build_id = None;
    out.push(env);
    out.push(release(
        R_WAVE,
        now - Duration::days(2),
        "Priya Raman",
        "Quarterly retrain: cutoff 2026-02-01",
        [Succeeded, Succeeded, NotStarted],
        models(wave),
    ));
    if let Some((c, good, bad)) = incident {
        out.push(release(
            R_BAD,
            now - Duration::days(3),
            "Jonas Weber",
            "PLANT002 rolling mill: new vibration features",
            [Succeeded, Succeeded, Succeeded],
            vec![ReleaseModel {
                circuit: c.clone(),
                version: *bad,
            }],
        ));
        let mut target = release(
            R_ROLLBACK_TARGET,
            now - Duration::days(20),
            "Jonas Weber",
            "PLANT002 rolling mill retrain",
            [Succeeded, Succeeded, InProgress],
            vec![ReleaseModel {
                circuit: c.clone(),
                version: *good,
            }],
        );
        // Redeployed a few minutes ago: the rollback in progress.
        if let Some(s) = target.stages.last_mut() {
            s.attempts = 2;
            s.at = Some(now - Duration::minutes(4));
        }
        out.push(target);
    }
    // History: one release per model version that ever ran in Prod.
    let top = all.iter().filter_map(|(_, v)| *v).max().unwrap_or(ModelVersion(1));
    for k in (1..=top.0).rev() {
        let ms: Vec<ReleaseModel> = all
            .iter()
            .filter(|(_, v)| v.is_some_and(|v| v.0 >= k))
            .map(|(c, _)| ReleaseModel {
                circuit: c.clone(),
                version: ModelVersion(k),
            })
            .collect();
        if ms.is_empty() {
            continue;
        }
        out.push(release(
            100 + k,
            now - Duration::days(30 + i64::from(top.0 - k) * 21),
            if k % 2 == 0 {
                "Priya Raman"
            } else {
                "Jonas Weber"
            },
            "Scheduled retrain",
            [Succeeded, Succeeded, Succeeded],
            ms,
        ));
    }
    out
}

fn approvals(
    now: DateTime<Utc>,
    all: &[(CircuitRef, Option<ModelVersion>)],
    wave: &[(CircuitRef, ModelVersion)],
    self_req: &[(CircuitRef, ModelVersion)],
    clean: &[(CircuitRef, ModelVersion)],
) -> Vec<ApprovalItem> {
    let item = |id: u32, stage: Stage, by: &str, hours: i64, list: Vec<ReleaseModel>| {
        let env_id = id * 10 + if stage == Stage::Prod { 3 } else { 1 };
        ApprovalItem {
            release_id: id,
            release_name: format!("Release-{id}"),
            stage,
            environment_id: env_id,
            pending_ids: vec![id * 100 + 1, id * 100 + 2],
            requested_by: person(by),
            requested_at: Some(now - Duration::hours(hours)),
            approved: Vec::new(),
            required: if stage == Stage::Prod { 2 } else { 1 },
            description: String::new(),
            models: list,
            environment_only: None,
            previous_environment: None,
        }
    };
    let mut out = Vec::new();
    let mut w = item(R_WAVE, Stage::Prod, "Priya Raman", 26, models(wave));
    w.description = "Quarterly retrain: cutoff 2026-02-01".into();
    w.approved.push(Decision {
        by: person("Jonas Weber"),
        at: Some(now - Duration::hours(2)),
        comment: "Diffs reviewed, validation green except PLANT005".into(),
    });
    w.pending_ids.truncate(1);
    out.push(w);
    let mut e = item(
        R_ENV,
        Stage::Prod,
        "Marta Kowalski",
        19,
        all.iter()
            .filter_map(|(c, v)| {
                Some(ReleaseModel {
                    circuit: c.clone(),
                    version: (*v)?,
                })
            })
            .collect(),
    );
    e.description = "Environment 1.5.1: pandas 2.2.3 security patch".into();
    e.environment_only = Some("1.5.1".into());
    e.previous_environment = Some("1.5.0".into());
    out.push(e);
    if !self_req.is_empty() {
        let mut s = item(R_SELF, Stage::Registry, "Alex Chen", 9, models(self_req));
        s.description = "Chattanooga body shop: retrain after sensor replacement".into();
        s.pending_ids.truncate(1);
        out.push(s);
    }
    if !clean.is_empty() {
        let mut c = item(R_CLEAN, Stage::Prod, "Priya Raman", 1, models(clean));
        c.description = "Retrain PLANT011 filler lines after nozzle change".into();
        out.push(c);
    }
    out
}

/// The seed-format config of a circuit at a version, with the story's changes.
pub fn config_text(snapshot: &FleetSnapshot, circuit: &CircuitRef, v: ModelVersion) -> String {
    let c = snapshot.circuit(circuit);
    let description = c.map(|c| c.description.as_str()).unwrap_or("Unknown circuit");
    let prod = c.and_then(|c| c.versions.prod).unwrap_or(v);
    let newer = v > prod;
    let in_wave = snapshot
        .approvals
        .iter()
        .find(|a| a.release_id == R_WAVE)
        .and_then(|a| a.models.iter().position(|m| &m.circuit == circuit));
    let odd = in_wave.is_some_and(|i| i >= WAVE_COMMON);
    let cutoff = if newer && in_wave.is_some() {
        "2026-02-01"
    } else {
        "2025-11-01"
    };
    let lstm = if newer && odd { 128 } else { 64 };
    let lr = if newer && in_wave.is_none() {
        "0.0005"
    } else {
        "0.001"
    };
    format!(
        "plant_id: {plant}\ncircuit_id: {circ}\nmodel_name: {model}\ndescription: {description}\n\
         features:\n- supply_temperature\n- flow_rate\n- pump_discharge_pressure\n\
         cutoff_date: '{cutoff}'\ndelta_version: {delta}\npipeline_component_version: 1.2.0\n\
         training_days: 365\nforecast_horizon: 7\nhyperparameters:\n  lstm_units: {lstm}\n  \
         learning_rate: {lr}\n  epochs: 80\n  batch_size: 32\nenvironment_version: 1.5.0\n",
        plant = circuit.plant,
        circ = circuit.circuit,
        model = circuit.render("{plant}-{circuit}"),
        // The data snapshot moves on with each retrain; the same for the whole fleet.
        delta = if newer { 5 } else { 4 },
    )
}

fn at_version(
    snapshot: &FleetSnapshot,
    circuit: &CircuitRef,
    v: ModelVersion,
    info: Option<&VersionInfo>,
) -> ConfigAtVersion {
    let text = config_text(snapshot, circuit, v);
    let recomputed = crate::service::snapshot::hash_of_config(&text);
    let broken = snapshot
        .circuit(circuit)
        .is_some_and(|c| c.lineage.matches == Some(false) && c.versions.prod == Some(v));
    ConfigAtVersion {
        version: v,
        commit: info.and_then(|i| i.git_commit.clone()),
        path: format!("/config/circuits/{}", circuit.file_name()),
        tagged: if broken {
            info.and_then(|i| i.training_hash.clone())
        } else {
            recomputed.clone()
        },
        recomputed,
        text: Ok(text),
    }
}

/// Compare two versions' configs as `Session::compare` would.
pub fn comparison(
    snapshot: &FleetSnapshot,
    circuit: &CircuitRef,
    versions: &[VersionInfo],
    old: ModelVersion,
    new: ModelVersion,
) -> ConfigComparison {
    let find = |v: ModelVersion| versions.iter().find(|i| i.version == v);
    let old = at_version(snapshot, circuit, old, find(old));
    let new = at_version(snapshot, circuit, new, find(new));
    let (semantic, text) = match (&old.text, &new.text) {
        (Ok(a), Ok(b)) => (
            match (
                crate::service::configs::parse_mapping(a),
                crate::service::configs::parse_mapping(b),
            ) {
                (Ok(ma), Ok(mb)) => Some(ConfigDiff::between(&ma, &mb)),
                _ => None,
            },
            Some(TextChanges::new(a, b, 3)),
        ),
        _ => (None, None),
    };
    ConfigComparison {
        old,
        new,
        semantic,
        text,
    }
}

/// A circuit's evidence as `Session::circuit_evidence` would load it.
pub fn circuit_evidence(snapshot: &FleetSnapshot, circuit: &CircuitRef) -> CircuitEvidence {
    let t = Thresholds::default();
    let now = now();
    let Some(c) = snapshot.circuit(circuit) else {
        return CircuitEvidence {
            circuit: circuit.clone(),
            versions: Vec::new(),
            deployments: Vec::new(),
            candidate: None,
            comparison: None,
            history: Vec::new(),
            errors: vec![format!("{circuit} is not in the snapshot")],
        };
    };
    let stages_of = |v: ModelVersion| {
        Stage::ALL
            .into_iter()
            .filter(|s| c.versions.get(*s) == Some(v))
            .filter(|s| s.is_serving())
            .collect::<Vec<_>>()
    };
    let newest = c
        .known_versions
        .iter()
        .map(|k| k.version)
        .max()
        .unwrap_or(ModelVersion(1));
    let versions: Vec<VersionInfo> = c
        .known_versions
        .iter()
        .map(|k| VersionInfo {
            version: k.version,
            in_dev: true,
            in_registry: k.in_registry,
            training_hash: k.training_hash.clone(),
            git_commit: k.git_commit.clone(),
            build_id: k.build_id.clone(),
            cutoff_date: Some("2025-11-01".into()),
            created_at: Some(now - Duration::days(2 + i64::from(newest.0 - k.version.0) * 21)),
            release: snapshot
                .releases_of(circuit)
                .filter(|r| r.environment_only.is_none())
                .find(|r| r.version_for(circuit) == Some(k.version))
                .map(|r| (r.id, r.name.clone())),
            deployed_in: stages_of(k.version),
        })
        .collect();
    let deployments = [Stage::Test, Stage::Prod]
        .into_iter()
        .filter_map(|s| {
            let v = c.versions.get(s)?;
            Some(Deployment {
                stage: s,
                endpoint: circuit.render("batch-endpoint-{plant}"),
                name: circuit.render("deployment-{circuit}"),
                description: c.description.clone(),
                model: Some(ModelAsset {
                    registry: Some("mlreg-forecasting".into()),
                    name: c.model_name.clone(),
                    version: v,
                }),
                environment: Some(EnvironmentAsset {
                    registry: Some("mlreg-forecasting".into()),
                    name: "lstm-forecasting-env".into(),
                    version: if s == Stage::Prod {
                        c.environment.prod.clone().unwrap_or_default()
                    } else {
                        c.environment.test.clone().unwrap_or_default()
                    },
                }),
                provisioning: if c.active_release.is_some() && s == Stage::Prod {
                    ProvisioningState::Updating
                } else {
                    ProvisioningState::Succeeded
                },
                modified_at: Some(now - Duration::hours(30)),
                tags: Default::default(),
            })
        })
        .collect();
    let prod = c.versions.prod;
    let candidate = [c.versions.test, c.versions.registry, c.versions.dev]
        .into_iter()
        .flatten()
        .find(|v| Some(*v) != prod && Some(*v) > prod);
    let comparison = match (prod, candidate) {
        (Some(a), Some(b)) => Some(comparison(snapshot, circuit, &versions, a, b)),
        _ => None,
    };
    CircuitEvidence {
        circuit: circuit.clone(),
        history: prod_history(snapshot, circuit, &t),
        versions,
        deployments,
        candidate,
        comparison,
        errors: Vec::new(),
    }
}

/// An approval's evidence as `Session::approval_evidence` would load it.
pub fn approval_evidence(snapshot: &FleetSnapshot, item: &ApprovalItem) -> ApprovalEvidence {
    let t = Thresholds::default();
    let gate = gate_evidence(snapshot, item, &t);
    let env_only = item.environment_only.is_some();
    let lines: Vec<ReviewLine> = item
        .models
        .iter()
        .map(|m| {
            let c = snapshot.circuit(&m.circuit);
            let from = c.and_then(|c| c.versions.prod);
            let g = gate.iter().find(|g| g.circuit == m.circuit);
            let diff = if env_only {
                Err("environment-only release".to_owned())
            } else {
                match from {
                    None => Err("nothing in Prod yet".to_owned()),
                    Some(f) => {
                        let old = crate::service::configs::parse_mapping(&config_text(
                            snapshot, &m.circuit, f,
                        ));
                        let new = crate::service::configs::parse_mapping(&config_text(
                            snapshot, &m.circuit, m.version,
                        ));
                        match (old, new) {
                            (Ok(o), Ok(n)) => Ok(ConfigDiff::between(&o, &n)),
                            _ => Err("config cannot be read".to_owned()),
                        }
                    }
                }
            };
            ReviewLine {
                circuit: m.circuit.clone(),
                from,
                to: m.version,
                lineage: diff.as_ref().ok().map(|_| true),
                diff,
                gate: g.map(|g| g.status).unwrap_or(Status::Unknown),
                gate_detail: g.map(|g| g.detail.clone()).unwrap_or_default(),
                drift: c.map(|c| c.drift.status).unwrap_or(Status::Unknown),
            }
        })
        .collect();
    let grouped = if env_only {
        Default::default()
    } else {
        group_changes(
            &lines
                .iter()
                .map(|l| (l.circuit.clone(), l.diff.clone()))
                .collect::<Vec<_>>(),
        )
    };
    ApprovalEvidence {
        release_id: item.release_id,
        environment_id: item.environment_id,
        lines,
        grouped,
        gate,
    }
}

/// The policy the fixtures are judged by (the seed's: two Prod approvers, four eyes, test gate).
pub fn policy() -> ApprovalPolicy {
    ApprovalPolicy {
        prod_min_approvers: 2,
        forbid_self_approval: true,
        require_passing_tests: true,
        read_only: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fleet_tells_the_whole_story() {
        let s = fleet(DEMO_CIRCUITS);
        assert_eq!(s.plants.len(), 17);
        assert_eq!(s.circuit_count(), DEMO_CIRCUITS);
        let health: Vec<Status> = s.circuits().map(|c| c.health()).collect();
        for want in [Status::Ok, Status::Warn, Status::Alert, Status::Unknown] {
            assert!(health.contains(&want), "no {want} circuit");
        }
        assert!(s.circuits().any(|c| c.lineage.matches == Some(false)));
        assert!(s.circuits().any(|c| c.active_release.is_some()));
        let wave = s.approvals.iter().find(|a| a.release_id == R_WAVE);
        assert_eq!(wave.map(|w| w.models.len()), Some(WAVE_COMMON + WAVE_ODD));
        let env = s.approvals.iter().find(|a| a.environment_only.is_some());
        assert_eq!(env.and_then(|e| e.previous_environment.as_deref()), Some("1.5.0"));
        let ev = approval_evidence(&s, wave.unwrap());
        assert_eq!(ev.grouped.with_common, WAVE_COMMON);
        assert_eq!(ev.grouped.odd_ones.len(), WAVE_ODD);
    }

    #[test]
    fn fleets_are_deterministic_and_scale() {
        assert_eq!(fleet(60), fleet(60));
        let big = fleet(2_000);
        assert_eq!(big.circuit_count(), 2_000);
        assert_eq!(big.plants.len(), 200);
    }
}
