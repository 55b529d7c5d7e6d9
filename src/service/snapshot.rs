//! Refreshing the fleet snapshot: a bounded fan-out of list calls and three queries
//! (`fanout`), then a pure assembly of the records into one `FleetSnapshot`. A failed call
//! marks what it covers as unknown, with the reason; the rest of the fleet still shows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::Context;
use super::backend::{BackendError, BackendResult};
pub use super::fanout::{Known, read};
pub use super::models::{ModelBook, ModelEntry};
use super::queries;
pub use super::releases::{FULL_RELEASE_READ_EVERY, ReleaseBook};
use crate::domain::drift::{DriftAssessment, accuracy_status};
use crate::domain::fleet::{
    AccuracySummary, ActiveRelease, ApprovalItem, CircuitSnapshot, Decision, DriftSummary,
    FleetSnapshot, KnownVersion, Lineage, PlantSnapshot, ReleaseModel, ReleaseStage,
    ReleaseSummary, Series, SnapshotError, ValidationRun, ValidationSummary,
};
use crate::domain::hash::TrainingHash;
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, DeploymentStatus, Endpoint,
    Identity, ModelContainer, ModelVersionRecord, ReleaseRecord, Table, release_vars,
};
use crate::domain::validation::ValidationVerdict;
use crate::domain::{CircuitRef, ModelVersion, PlantId, Stage, Status};

/// Everything one refresh read, each part with its own outcome.
#[derive(Debug, Default)]
pub struct Readings {
    pub identity: Option<BackendResult<Identity>>,
    pub endpoints: Vec<(Stage, BackendResult<Vec<Endpoint>>)>,
    pub deployments: Vec<(Stage, String, BackendResult<Vec<Deployment>>)>,
    pub dev_containers: Option<BackendResult<Vec<ModelContainer>>>,
    pub registry_containers: Option<BackendResult<Vec<ModelContainer>>>,
    pub registry_versions: HashMap<String, BackendResult<Vec<ModelVersionRecord>>>,
    pub dev_versions: HashMap<String, BackendResult<Vec<ModelVersionRecord>>>,
    pub releases: Option<BackendResult<Vec<ReleaseRecord>>>,
    /// The releases were read in full (not only what changed since the last refresh).
    pub releases_full: bool,
    pub approvals: Option<BackendResult<Vec<ApprovalRecord>>>,
    pub drift: Option<BackendResult<Table>>,
    pub accuracy: Option<BackendResult<Table>>,
    pub validation: Option<BackendResult<Table>>,
    /// Config texts by `(path, commit)`; from the cache or read in this refresh.
    pub configs: HashMap<(String, String), BackendResult<String>>,
    /// Models whose versions came from the last refresh's book rather than a call.
    pub reused_versions: HashSet<(AssetLocation, String)>,
    /// Fired alerts and Prod scoring jobs (`service::incidents`).
    pub incidents: super::incidents::IncidentReadings,
}

/// Build the snapshot from what was read. Pure: no IO, so it is tested with plain records.
pub fn assemble(r: &Readings, ctx: &Context, now: DateTime<Utc>) -> FleetSnapshot {
    let mut errors = Vec::new();
    let mut circuits: BTreeMap<CircuitRef, CircuitSnapshot> = BTreeMap::new();
    let mut plant_names: BTreeMap<PlantId, String> = BTreeMap::new();
    let naming = &ctx.naming;
    let entry = |c: &CircuitRef, circuits: &mut BTreeMap<CircuitRef, CircuitSnapshot>| {
        circuits
            .entry(c.clone())
            .or_insert_with(|| CircuitSnapshot::new(c.clone(), naming.model(c)));
    };

    // What could not be read, to mark the circuits it covers.
    let mut stage_unknown: Vec<(Stage, String)> = Vec::new();
    let mut endpoint_unknown: Vec<(Stage, PlantId, String)> = Vec::new();

    for (stage, eps) in &r.endpoints {
        match eps {
            Ok(eps) => {
                for e in eps {
                    if let Some((Some(p), _)) = naming.endpoint.parse(&e.name)
                        && let Some(name) = e.plant_name.as_ref().filter(|n| !n.is_empty())
                    {
                        plant_names.entry(p).or_insert_with(|| name.clone());
                    }
                }
            }
            Err(e) => {
                fail(&mut errors, format!("{stage} endpoints"), e);
                stage_unknown.push((*stage, format!("{stage} endpoints could not be read")));
            }
        }
    }

    // Deployments: Test and Prod versions and environments.
    for (stage, endpoint, deps) in &r.deployments {
        let plant = naming.endpoint.parse(endpoint).and_then(|(p, _)| p);
        match deps {
            Ok(deps) => {
                for d in deps {
                    let circuit = match (&plant, naming.deployment.parse(&d.name)) {
                        (Some(p), Some((_, Some(c)))) => CircuitRef::new(p.clone(), c),
                        _ => match d
                            .model
                            .as_ref()
                            .and_then(|m| naming.model.parse_circuit(&m.name))
                        {
                            Some(c) => c,
                            None => continue,
                        },
                    };
                    entry(&circuit, &mut circuits);
                    let Some(cs) = circuits.get_mut(&circuit) else {
                        continue;
                    };
                    if !d.description.is_empty() && cs.description.is_empty() {
                        cs.description = d.description.clone();
                    }
                    let version = d.model.as_ref().map(|m| m.version);
                    let env = d.environment.as_ref().map(|e| e.version.clone());
                    match stage {
                        Stage::Test => {
                            cs.versions.test = version;
                            cs.environment.test = env;
                        }
                        Stage::Prod => {
                            cs.versions.prod = version;
                            cs.environment.prod = env;
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => {
                fail(&mut errors, format!("{stage} deployments of {endpoint}"), e);
                if let Some(p) = plant {
                    endpoint_unknown.push((
                        *stage,
                        p,
                        format!("{stage} deployments of {endpoint} could not be read"),
                    ));
                }
            }
        }
    }

    // Model containers: Dev latest, and the circuit universe.
    match &r.dev_containers {
        Some(Ok(cs)) => {
            for c in cs {
                if let Some(circuit) = naming.model.parse_circuit(&c.name) {
                    entry(&circuit, &mut circuits);
                    if let Some(s) = circuits.get_mut(&circuit) {
                        s.versions.dev = c.latest_version;
                    }
                }
            }
        }
        Some(Err(e)) => {
            fail(&mut errors, "Dev model containers".into(), e);
            stage_unknown.push((Stage::Dev, "Dev models could not be read".into()));
        }
        None => {}
    }
    match &r.registry_containers {
        Some(Ok(cs)) => {
            for c in cs {
                if let Some(circuit) = naming.model.parse_circuit(&c.name) {
                    entry(&circuit, &mut circuits);
                    if let Some(s) = circuits.get_mut(&circuit) {
                        s.versions.registry = c.latest_version;
                    }
                }
            }
        }
        Some(Err(e)) => {
            fail(&mut errors, "registry model containers".into(), e);
            stage_unknown.push((Stage::Registry, "registry models could not be read".into()));
        }
        None => {}
    }

    // Registry versions: newest version, and the Prod model's lineage tags.
    let mut builds: HashMap<String, Vec<ReleaseModel>> = HashMap::new();
    let mut add_build = |v: &ModelVersionRecord, circuit: &CircuitRef| {
        if let Some(b) = v.build_id() {
            let list = builds.entry(b.to_owned()).or_default();
            if !list.iter().any(|m| &m.circuit == circuit) {
                list.push(ReleaseModel {
                    circuit: circuit.clone(),
                    version: v.version,
                });
            }
        }
    };
    for (model, versions) in r.registry_versions.iter().chain(r.dev_versions.iter()) {
        let Some(circuit) = naming.model.parse_circuit(model) else {
            continue;
        };
        match versions {
            Ok(vs) => {
                for v in vs {
                    add_build(v, &circuit);
                }
            }
            Err(e) => {
                fail(&mut errors, format!("versions of model {model}"), e);
                if let Some(cs) = circuits.get_mut(&circuit) {
                    cs.unknown
                        .push(format!("versions of {model} could not be read"));
                }
            }
        }
    }
    for (circuit, cs) in circuits.iter_mut() {
        let Some(Ok(versions)) = r.registry_versions.get(&cs.model_name) else {
            if r.registry_versions.contains_key(&cs.model_name) || cs.versions.prod.is_some() {
                cs.lineage = Lineage::default();
            }
            continue;
        };
        if let Some(max) = versions.iter().map(|v| v.version).max() {
            cs.versions.registry = cs.versions.registry.max(Some(max));
        }
        let dev: &[ModelVersionRecord] = match r.dev_versions.get(&cs.model_name) {
            Some(Ok(d)) => d,
            _ => &[],
        };
        let mut known: Vec<KnownVersion> = versions
            .iter()
            .map(|v| known_version(v, true))
            .chain(
                dev.iter()
                    .filter(|d| !versions.iter().any(|v| v.version == d.version))
                    .map(|v| known_version(v, false)),
            )
            .collect();
        known.sort_by_key(|k| std::cmp::Reverse(k.version));
        cs.known_versions = known;
        let Some(prod) = cs.versions.prod else {
            continue;
        };
        let Some(v) = versions.iter().find(|v| v.version == prod) else {
            cs.unknown
                .push(format!("Prod model version {prod} is not in the registry"));
            continue;
        };
        cs.lineage.prod = v.training_hash();
        cs.lineage.commit = v.git_commit().map(str::to_owned);
        if let Some(commit) = v.git_commit() {
            let key = (ctx.config_path(circuit), commit.to_owned());
            match r.configs.get(&key) {
                Some(Ok(text)) => match super::configs::parse_mapping(text)
                    .ok()
                    .and_then(|m| crate::domain::hash::training_hash(&m).ok())
                {
                    Some(h) => cs.lineage.config = Some(h),
                    None => cs
                        .unknown
                        .push(format!("config at {commit} cannot be hashed")),
                },
                Some(Err(e)) => {
                    cs.unknown
                        .push(format!("config at {commit}: {}", e.message));
                    // Absent at that commit is a fact (lineage unknown, said so); any other
                    // failure is a read that did not happen, and makes the snapshot partial.
                    if e.kind != super::backend::ErrorKind::NotFound {
                        fail(&mut errors, format!("config of {circuit} at {commit}"), e);
                    }
                }
                None => {}
            }
        }
        cs.lineage.matches = match (&cs.lineage.prod, &cs.lineage.config) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
    }

    // Mark what failed calls cover.
    for (circuit, cs) in circuits.iter_mut() {
        for (stage, why) in &stage_unknown {
            if matches!(stage, Stage::Test | Stage::Prod) || cs.versions.get(*stage).is_none() {
                cs.unknown.push(why.clone());
            }
        }
        for (stage, plant, why) in &endpoint_unknown {
            if &circuit.plant == plant {
                cs.unknown.push(why.clone());
                let _ = stage;
            }
        }
    }

    // Monitoring.
    let t = &ctx.thresholds;
    let mut query_unknown = Vec::new();
    let drift = decode(
        &r.drift,
        "drift query",
        queries::decode_drift,
        &mut errors,
        &mut query_unknown,
    );
    let accuracy = decode(
        &r.accuracy,
        "accuracy query",
        queries::decode_accuracy,
        &mut errors,
        &mut query_unknown,
    );
    let validation = decode(
        &r.validation,
        "validation query",
        queries::decode_validation,
        &mut errors,
        &mut query_unknown,
    );
    for (circuit, cs) in circuits.iter_mut() {
        cs.unknown.extend(query_unknown.iter().cloned());
        if let Some(d) = &drift {
            let series = d.get(circuit).cloned().unwrap_or_default();
            let a = DriftAssessment::assess(
                series
                    .iter()
                    .filter_map(|s| Some((s.feature.as_str(), s.metric, s.series.latest()?))),
                t,
            );
            cs.drift = DriftSummary {
                status: a.status,
                worst: a.worst,
                series,
            };
        }
        if let Some(acc) = &accuracy {
            let series = acc.get(circuit).cloned().unwrap_or_else(Series::default);
            cs.accuracy = AccuracySummary {
                status: accuracy_status(series.latest(), t),
                latest: series.latest(),
                series,
            };
        }
        if let Some(v) = &validation {
            let runs = v.get(circuit).cloned().unwrap_or_default();
            cs.validation = summarize_validation(
                runs,
                cs.versions.test,
                cs.versions.prod,
                &env_only_releases(r),
                t,
            );
        }
    }

    // Releases and approvals.
    let releases: &[ReleaseRecord] = match &r.releases {
        Some(Ok(rs)) => rs,
        Some(Err(e)) => {
            fail(&mut errors, "releases".into(), e);
            &[]
        }
        None => &[],
    };
    let all_circuits: Vec<(CircuitRef, Option<ModelVersion>)> = circuits
        .values()
        .map(|c| (c.circuit.clone(), c.versions.prod))
        .collect();
    let models_of = |rel: &ReleaseRecord| -> Vec<ReleaseModel> {
        if rel.environment_only().is_some() {
            return all_circuits
                .iter()
                .filter_map(|(c, v)| {
                    Some(ReleaseModel {
                        circuit: c.clone(),
                        version: (*v)?,
                    })
                })
                .collect();
        }
        let mut models = rel
            .build_id
            .as_ref()
            .and_then(|b| builds.get(b))
            .cloned()
            .unwrap_or_default();
        models.sort_by(|a, b| a.circuit.cmp(&b.circuit));
        models
    };
    let release_summaries: Vec<ReleaseSummary> = releases
        .iter()
        .map(|rel| ReleaseSummary {
            id: rel.id,
            name: rel.name.clone(),
            status: rel.status.clone(),
            created_on: rel.created_on,
            created_by: rel.created_by.clone(),
            description: rel.description.clone(),
            build_id: rel.build_id.clone(),
            environment_only: rel.environment_only().map(str::to_owned),
            previous_environment: rel
                .variables
                .get(release_vars::PREVIOUS_ENVIRONMENT_VERSION)
                .cloned(),
            stages: rel
                .environments
                .iter()
                .filter_map(|e| {
                    Some(ReleaseStage {
                        stage: e.stage()?,
                        environment_id: e.id,
                        status: e.status.clone(),
                        // An attempt still waiting for its approval has not deployed anything.
                        attempts: e
                            .deploy_steps
                            .iter()
                            .filter(|d| d.status != DeploymentStatus::NotDeployed)
                            .map(|d| d.attempt)
                            .max()
                            .unwrap_or(0),
                        deploying: e.is_deploying(),
                        at: e
                            .last_attempt()
                            .and_then(|a| a.last_modified_on)
                            .or(e.modified_on),
                    })
                })
                .collect(),
            models: if rel.environment_only().is_some() {
                Vec::new()
            } else {
                models_of(rel)
            },
        })
        .collect();
    let approvals = match &r.approvals {
        Some(Ok(a)) => group_approvals(a, releases, &models_of),
        Some(Err(e)) => {
            fail(&mut errors, "pending approvals".into(), e);
            Vec::new()
        }
        None => Vec::new(),
    };
    for item in &approvals {
        for c in item.circuits() {
            if let Some(cs) = circuits.get_mut(c) {
                cs.pending_approvals += 1;
            }
        }
    }
    for rel in releases {
        for env in rel.environments.iter().filter(|e| e.is_deploying()) {
            let Some(stage) = env.stage() else { continue };
            for m in models_of(rel) {
                if let Some(cs) = circuits.get_mut(&m.circuit) {
                    cs.active_release = Some(ActiveRelease {
                        release_id: rel.id,
                        release_name: rel.name.clone(),
                        stage,
                    });
                }
            }
        }
    }

    let alerts = super::incidents::assemble(&r.incidents, ctx, now, &mut circuits, &mut errors);
    let mut plants: BTreeMap<PlantId, PlantSnapshot> = BTreeMap::new();
    for (c, mut cs) in circuits {
        cs.unknown.sort();
        cs.unknown.dedup();
        plants
            .entry(c.plant.clone())
            .or_insert_with(|| PlantSnapshot {
                plant_id: c.plant.clone(),
                name: plant_names
                    .get(&c.plant)
                    .cloned()
                    .unwrap_or_else(|| c.plant.to_string()),
                circuits: Vec::new(),
            })
            .circuits
            .push(cs);
    }
    let identity = match &r.identity {
        Some(Ok(i)) => Some(i.clone()),
        Some(Err(e)) => {
            errors.push(SnapshotError {
                scope: "identity".into(),
                message: e.to_string(),
            });
            None
        }
        None => None,
    };
    FleetSnapshot {
        generated_at: now,
        backend: ctx.backend.clone(),
        identity,
        plants: plants.into_values().collect(),
        approvals,
        releases: release_summaries,
        alerts,
        errors,
    }
}

fn fail(errors: &mut Vec<SnapshotError>, scope: String, e: &BackendError) {
    errors.push(SnapshotError {
        scope,
        message: e.to_string(),
    });
}

fn decode<T>(
    table: &Option<BackendResult<Table>>,
    scope: &str,
    f: impl Fn(&Table) -> Result<T, queries::MissingColumn>,
    errors: &mut Vec<SnapshotError>,
    unknown: &mut Vec<String>,
) -> Option<T> {
    match table.as_ref()? {
        Ok(t) => match f(t) {
            Ok(v) => {
                // What came is shown; the snapshot says it is not all there.
                if let Some(why) = &t.partial {
                    errors.push(SnapshotError {
                        scope: scope.into(),
                        message: why.clone(),
                    });
                }
                Some(v)
            }
            Err(e) => {
                errors.push(SnapshotError {
                    scope: scope.into(),
                    message: e.to_string(),
                });
                unknown.push(format!("{scope} could not be read"));
                None
            }
        },
        Err(e) => {
            errors.push(SnapshotError {
                scope: scope.into(),
                message: e.to_string(),
            });
            unknown.push(format!("{scope} could not be read"));
            None
        }
    }
}

fn env_only_releases(r: &Readings) -> BTreeSet<u32> {
    match &r.releases {
        Some(Ok(rs)) => rs
            .iter()
            .filter(|r| r.environment_only().is_some())
            .map(|r| r.id)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The candidate in Test judged against the Prod model's newest run (model releases only;
/// environment-only validations are evidence for their own release, not a candidate's).
pub fn summarize_validation(
    runs: Vec<ValidationRun>,
    test: Option<ModelVersion>,
    prod: Option<ModelVersion>,
    env_only: &BTreeSet<u32>,
    t: &crate::domain::Thresholds,
) -> ValidationSummary {
    let model_run = |v: Option<ModelVersion>| {
        runs.iter()
            .find(|r| {
                r.model_version.is_some()
                    && r.model_version == v
                    && !r.release_id.is_some_and(|id| env_only.contains(&id))
            })
            .cloned()
    };
    let baseline = model_run(prod);
    let run = model_run(test.or(prod));
    let verdict = run.as_ref().map(|run| {
        let base = if run.model_version == prod {
            None
        } else {
            baseline.as_ref().map(|b| &b.metrics)
        };
        ValidationVerdict::evaluate(&run.metrics, base, t)
    });
    ValidationSummary {
        status: verdict
            .as_ref()
            .map(|v| v.status)
            .unwrap_or(Status::Unknown),
        run,
        baseline,
        verdict,
        runs,
    }
}

/// Pending approval records grouped per release stage, with what is already approved.
fn group_approvals(
    pending: &[ApprovalRecord],
    releases: &[ReleaseRecord],
    models_of: &dyn Fn(&ReleaseRecord) -> Vec<ReleaseModel>,
) -> Vec<ApprovalItem> {
    let mut groups: BTreeMap<(u32, u32), Vec<&ApprovalRecord>> = BTreeMap::new();
    for a in pending
        .iter()
        .filter(|a| a.status == ApprovalStatus::Pending)
    {
        groups
            .entry((a.release_id, a.release_environment_id))
            .or_default()
            .push(a);
    }
    let mut items = Vec::new();
    for ((release_id, env_id), records) in groups {
        let first = records[0];
        let Some(stage) = first.stage() else { continue };
        let release = releases.iter().find(|r| r.id == release_id);
        let env = release.and_then(|r| r.environments.iter().find(|e| e.id == env_id));
        let approved: Vec<Decision> = env
            .map(|e| {
                e.pre_deploy_approvals
                    .iter()
                    .filter(|a| a.status == ApprovalStatus::Approved && a.attempt == first.attempt)
                    .map(|a| Decision {
                        by: a.approved_by.clone().unwrap_or_else(|| a.approver.clone()),
                        at: a.modified_on,
                        comment: a.comments.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let required = env
            .map(|e| e.required_approvers)
            .filter(|n| *n > 0)
            .unwrap_or((records.len() + approved.len()) as u32);
        let (requested_by, requested_at) = match release {
            Some(r) => {
                let (who, at) = r.requester(env_id, first.attempt);
                (who, at.or(first.created_on))
            }
            None => (Default::default(), first.created_on),
        };
        items.push(ApprovalItem {
            release_id,
            release_name: first.release_name.clone(),
            stage,
            environment_id: env_id,
            pending_ids: records.iter().map(|a| a.id).collect(),
            requested_by,
            requested_at,
            approved,
            required,
            description: release.map(|r| r.description.clone()).unwrap_or_default(),
            models: release.map(models_of).unwrap_or_default(),
            environment_only: release.and_then(|r| r.environment_only().map(str::to_owned)),
            previous_environment: release.and_then(|r| {
                r.variables
                    .get(release_vars::PREVIOUS_ENVIRONMENT_VERSION)
                    .cloned()
            }),
        });
    }
    items.sort_by(|a, b| {
        a.requested_at
            .cmp(&b.requested_at)
            .then(a.release_id.cmp(&b.release_id))
    });
    items
}

fn known_version(v: &ModelVersionRecord, in_registry: bool) -> KnownVersion {
    KnownVersion {
        version: v.version,
        git_commit: v.git_commit().map(str::to_owned),
        training_hash: v.training_hash(),
        build_id: v.build_id().map(str::to_owned),
        in_registry,
    }
}

/// The training hash recomputed from config text, when it can be.
pub fn hash_of_config(text: &str) -> Option<TrainingHash> {
    super::configs::parse_mapping(text)
        .ok()
        .and_then(|m| crate::domain::hash::training_hash(&m).ok())
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
