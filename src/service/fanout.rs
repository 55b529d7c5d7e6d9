//! The reads of a refresh, as one pipeline: each call starts as soon as what it depends on has
//! arrived, with a bounded number in flight; what the last refresh read and cannot have
//! changed (configs at a commit, settled releases, model versions whose container's
//! `latestVersion` did not move, the operator's identity) is taken from what is `Known`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::Context;
use super::backend::{ApprovalQuery, Backend, BackendResult, ErrorKind, MonitorQuery};
use super::incidents::{JobBook, JobRead};
use super::models::{ModelBook, ModelRead};
use super::releases::{ReleaseBook, changed_releases};
use super::snapshot::Readings;
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, Endpoint, Identity, ModelContainer,
    ModelVersionRecord, ReleaseRecord, Table,
};
use crate::domain::{ModelVersion, Stage};

/// What earlier refreshes (and the disk cache) know, so that this one reads only what can
/// have changed.
#[derive(Debug, Clone)]
pub struct Known {
    /// Now, by the session's clock: when the books' entries fall due.
    pub now: DateTime<Utc>,
    /// Config texts by `(path, commit)`: they never change at a commit.
    pub configs: HashMap<(String, String), String>,
    /// The last refresh's releases: with them, only releases that can have changed are read.
    pub releases: Option<Arc<ReleaseBook>>,
    /// The last refresh's model versions: with them, only models whose latest version moved
    /// (or whose re-read is due) are read.
    pub models: Option<Arc<ModelBook>>,
    /// The operator, read once a session.
    pub identity: Option<Identity>,
    /// The last refresh's Prod job lists: with them, only lists that are due are read.
    pub jobs: Option<Arc<JobBook>>,
}

impl Known {
    /// Nothing known: read everything.
    pub fn nothing(now: DateTime<Utc>) -> Known {
        Known {
            now,
            configs: HashMap::new(),
            releases: None,
            models: None,
            identity: None,
            jobs: None,
        }
    }

    /// What the next refresh knows once this one has read `r` (consumed: the release list and
    /// the model versions move into the books rather than being copied): its configs, releases,
    /// model versions and identity. What `r` could not read stays as it was known, or unknown.
    pub fn after(self, r: Readings) -> Known {
        let now = self.now;
        let mut configs = self.configs;
        configs.extend(
            r.configs
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.ok()?))),
        );
        let identity = match r.identity {
            Some(Ok(i)) => Some(i),
            _ => self.identity,
        };
        let releases = match r.releases {
            Some(Ok(list)) => Some(Arc::new(ReleaseBook {
                releases: list,
                full_read_at: match &self.releases {
                    Some(b) if !r.releases_full => b.full_read_at,
                    _ => now,
                },
            })),
            _ => self.releases,
        };
        let reads = model_reads(
            r.registry_containers,
            r.dev_containers,
            r.registry_versions,
            r.dev_versions,
            &r.reused_versions,
        );
        let models = Arc::new(
            self.models
                .as_deref()
                .unwrap_or(&ModelBook::default())
                .after_refresh(reads, now),
        );
        let jobs = Arc::new(
            self.jobs
                .as_deref()
                .unwrap_or(&JobBook::default())
                .after_refresh(r.incidents.jobs),
        );
        Known {
            now,
            configs,
            releases,
            models: Some(models),
            identity,
            jobs: Some(jobs),
        }
    }
}

/// Every model whose versions a refresh holds, with the latest version its container listed
/// and whether they came from the book: what the next book keeps. A model whose versions could
/// not be read, or whose container was not listed, is left out and read next time.
fn model_reads(
    registry_containers: Option<BackendResult<Vec<ModelContainer>>>,
    dev_containers: Option<BackendResult<Vec<ModelContainer>>>,
    registry_versions: HashMap<String, BackendResult<Vec<ModelVersionRecord>>>,
    dev_versions: HashMap<String, BackendResult<Vec<ModelVersionRecord>>>,
    reused: &std::collections::HashSet<(AssetLocation, String)>,
) -> Vec<ModelRead> {
    let latest = |containers: Option<BackendResult<Vec<ModelContainer>>>| match containers {
        Some(Ok(list)) => list
            .into_iter()
            .map(|c| (c.name, c.latest_version))
            .collect(),
        _ => HashMap::new(),
    };
    let (reg, dev) = (latest(registry_containers), latest(dev_containers));
    let mut out = Vec::new();
    for (location, versions, latest) in [
        (AssetLocation::Registry, registry_versions, &reg),
        (AssetLocation::Dev, dev_versions, &dev),
    ] {
        for (name, vs) in versions {
            let (Ok(vs), Some(l)) = (vs, latest.get(&name)) else {
                continue;
            };
            let reused = reused.contains(&(location, name.clone()));
            out.push(ModelRead {
                location,
                name,
                latest: *l,
                versions: vs,
                reused,
            });
        }
    }
    out
}

/// One call of a refresh.
enum Job {
    Identity,
    Endpoints(Stage),
    Containers(AssetLocation),
    Releases(Option<Arc<ReleaseBook>>),
    Approvals,
    Query(Which),
    Deployments(Stage, String),
    Versions(AssetLocation, String),
    Config(String, String),
    Alerts,
    /// A Prod deployment's scoring jobs: `(endpoint, deployment)`.
    ScoringJobs(String, String),
}

#[derive(Clone, Copy)]
enum Which {
    Drift,
    Accuracy,
    Validation,
}

enum Done {
    Identity(BackendResult<Identity>),
    Endpoints(Stage, BackendResult<Vec<Endpoint>>),
    Containers(AssetLocation, BackendResult<Vec<ModelContainer>>),
    Releases(BackendResult<Vec<ReleaseRecord>>, bool),
    Approvals(BackendResult<Vec<ApprovalRecord>>),
    Query(Which, BackendResult<Table>),
    Deployments(Stage, String, BackendResult<Vec<Deployment>>),
    Versions(
        AssetLocation,
        String,
        BackendResult<Vec<ModelVersionRecord>>,
    ),
    Config(String, String, BackendResult<String>),
    Alerts(BackendResult<Vec<crate::domain::incidents::AlertRecord>>),
    ScoringJobs(
        String,
        String,
        BackendResult<Vec<crate::domain::incidents::ScoringJob>>,
    ),
}

async fn run(backend: &dyn Backend, job: Job, now: DateTime<Utc>) -> Done {
    match job {
        Job::Alerts => Done::Alerts(backend.fired_alerts().await),
        Job::ScoringJobs(e, d) => {
            let since = now - super::incidents::JOB_WINDOW;
            let r = backend.scoring_jobs(Stage::Prod, &e, &d, since).await;
            Done::ScoringJobs(e, d, r)
        }
        Job::Identity => Done::Identity(backend.identity().await),
        Job::Endpoints(s) => Done::Endpoints(s, backend.endpoints(s).await),
        Job::Containers(l) => Done::Containers(l, backend.model_containers(l).await),
        Job::Releases(None) => Done::Releases(backend.releases().await, true),
        Job::Releases(Some(book)) => {
            let (r, full) = changed_releases(backend, &book).await;
            Done::Releases(r, full)
        }
        Job::Approvals => {
            let pending = ApprovalQuery {
                status: Some(ApprovalStatus::Pending),
                release_ids: Vec::new(),
            };
            Done::Approvals(backend.approvals(&pending).await)
        }
        Job::Query(w) => {
            let q = match w {
                Which::Drift => MonitorQuery::Drift,
                Which::Accuracy => MonitorQuery::Accuracy,
                Which::Validation => MonitorQuery::Validation,
            };
            Done::Query(w, backend.monitor(q).await)
        }
        Job::Deployments(s, e) => {
            let r = backend.deployments(s, &e).await;
            Done::Deployments(s, e, r)
        }
        Job::Versions(l, m) => {
            // A container listed a moment ago and gone now (deleted in between) has no
            // versions: a state of the platform, not a read that failed.
            let r = match backend.model_versions(l, &m).await {
                Err(e) if e.kind == ErrorKind::NotFound => Ok(Vec::new()),
                r => r,
            };
            Done::Versions(l, m, r)
        }
        Job::Config(path, commit) => {
            let r = backend.config_at(&path, &commit).await;
            Done::Config(path, commit, r)
        }
    }
}

/// Read everything a snapshot needs, as one pipeline: each call starts as soon as what it
/// depends on has arrived (a plant's deployments when the endpoint list is in, a Prod model's
/// config when both its deployment and its version tags are in), with up to `fan_out` calls in
/// flight; the HTTP layer bounds and paces each service on its own. What `known` holds and
/// cannot have changed is not read again.
pub async fn read(backend: &dyn Backend, ctx: &Context, known: &Known) -> Readings {
    use futures::stream::FuturesUnordered;
    use std::collections::VecDeque;

    let known_configs = &known.configs;
    let books = known.models.as_deref();
    let fan_out = (ctx.concurrency * 4).max(1);
    let mut queue: VecDeque<Job> = VecDeque::from([
        // What decides which job lists are read first (it is one quick list).
        Job::Alerts,
        // The slowest first: the queries and the release history.
        Job::Query(Which::Drift),
        Job::Query(Which::Validation),
        Job::Releases(known.releases.clone()),
        Job::Query(Which::Accuracy),
        Job::Endpoints(Stage::Prod),
        Job::Endpoints(Stage::Test),
        Job::Containers(AssetLocation::Registry),
        Job::Containers(AssetLocation::Dev),
        Job::Approvals,
    ]);
    let mut r = Readings::default();
    match &known.identity {
        Some(i) => r.identity = Some(Ok(i.clone())),
        None => queue.push_back(Job::Identity),
    }
    let mut in_flight = FuturesUnordered::new();
    // What the dependent calls wait for.
    let mut registry_latest: Option<HashMap<String, Option<ModelVersion>>> = None;
    let mut dev_latest: Option<Vec<(String, Option<ModelVersion>)>> = None;
    let mut prod_of: HashMap<String, ModelVersion> = HashMap::new();
    let mut configs_wanted: BTreeSet<(String, String)> = BTreeSet::new();
    // Prod deployments whose job lists wait for the alerts (an alerted circuit's list is read
    // sooner), and the circuits with an active alert once the alerts are in.
    let mut jobs_waiting: Vec<(String, String)> = Vec::new();
    let mut alerted: Option<std::collections::HashSet<crate::domain::CircuitRef>> = None;

    // Queue the config of `model`'s Prod version once both halves are known.
    let want_config = |model: &str,
                       prod_of: &HashMap<String, ModelVersion>,
                       r: &mut Readings,
                       wanted: &mut BTreeSet<(String, String)>,
                       queue: &mut VecDeque<Job>| {
        let Some(v) = prod_of.get(model) else { return };
        let Some(Ok(versions)) = r.registry_versions.get(model) else {
            return;
        };
        let Some(rec) = versions.iter().find(|x| x.version == *v) else {
            return;
        };
        let (Some(circuit), Some(commit)) = (
            rec.circuit()
                .or_else(|| ctx.naming.model.parse_circuit(model)),
            rec.git_commit(),
        ) else {
            return;
        };
        let key = (ctx.config_path(&circuit), commit.to_owned());
        if !wanted.insert(key.clone()) {
            return;
        }
        match known_configs.get(&key) {
            Some(text) => {
                r.configs.insert(key, Ok(text.clone()));
            }
            None => queue.push_back(Job::Config(key.0, key.1)),
        }
    };

    loop {
        while in_flight.len() < fan_out {
            let Some(job) = queue.pop_front() else { break };
            in_flight.push(run(backend, job, known.now));
        }
        let Some(done) = in_flight.next().await else {
            break;
        };
        match done {
            Done::Identity(x) => r.identity = Some(x),
            Done::Endpoints(stage, x) => {
                if let Ok(eps) = &x {
                    queue.extend(eps.iter().map(|e| Job::Deployments(stage, e.name.clone())));
                }
                r.endpoints.push((stage, x));
            }
            Done::Containers(AssetLocation::Registry, x) => {
                let latest = match &x {
                    Ok(c) => {
                        for c in c {
                            let reuse = books
                                .and_then(|b| b.reusable(AssetLocation::Registry, c, known.now));
                            match reuse {
                                Some(vs) => {
                                    r.registry_versions.insert(c.name.clone(), Ok(vs.to_vec()));
                                    r.reused_versions
                                        .insert((AssetLocation::Registry, c.name.clone()));
                                    want_config(
                                        &c.name,
                                        &prod_of,
                                        &mut r,
                                        &mut configs_wanted,
                                        &mut queue,
                                    );
                                }
                                None => queue.push_back(Job::Versions(
                                    AssetLocation::Registry,
                                    c.name.clone(),
                                )),
                            }
                        }
                        c.iter()
                            .map(|c| (c.name.clone(), c.latest_version))
                            .collect()
                    }
                    Err(_) => HashMap::new(),
                };
                registry_latest = Some(latest);
                r.registry_containers = Some(x);
            }
            Done::Containers(AssetLocation::Dev, x) => {
                dev_latest = Some(match &x {
                    Ok(c) => c
                        .iter()
                        .map(|c| (c.name.clone(), c.latest_version))
                        .collect(),
                    Err(_) => Vec::new(),
                });
                r.dev_containers = Some(x);
            }
            Done::Releases(x, full) => {
                r.releases = Some(x);
                r.releases_full = full;
            }
            Done::Approvals(x) => r.approvals = Some(x),
            Done::Query(Which::Drift, x) => r.drift = Some(x),
            Done::Query(Which::Accuracy, x) => r.accuracy = Some(x),
            Done::Query(Which::Validation, x) => r.validation = Some(x),
            Done::Deployments(stage, endpoint, x) => {
                if stage == Stage::Prod
                    && let Ok(deps) = &x
                {
                    for m in deps.iter().filter_map(|d| d.model.as_ref()) {
                        prod_of.insert(m.name.clone(), m.version);
                        want_config(&m.name, &prod_of, &mut r, &mut configs_wanted, &mut queue);
                    }
                    jobs_waiting.extend(
                        deps.iter()
                            .filter(|d| d.model.is_some())
                            .map(|d| (endpoint.clone(), d.name.clone())),
                    );
                }
                r.deployments.push((stage, endpoint, x));
            }
            Done::Versions(AssetLocation::Registry, model, x) => {
                r.registry_versions.insert(model.clone(), x);
                want_config(&model, &prod_of, &mut r, &mut configs_wanted, &mut queue);
            }
            Done::Versions(AssetLocation::Dev, model, x) => {
                r.dev_versions.insert(model, x);
            }
            Done::Config(path, commit, x) => {
                r.configs.insert((path, commit), x);
            }
            Done::Alerts(x) => {
                alerted = Some(match &x {
                    Ok(list) => super::incidents::alerted_circuits(list, &ctx.naming),
                    Err(_) => Default::default(),
                });
                r.incidents.alerts = Some(x);
            }
            Done::ScoringJobs(e, d, x) => {
                r.incidents.jobs.insert(
                    (e, d),
                    JobRead {
                        result: x,
                        read_at: known.now,
                        reused: false,
                    },
                );
            }
        }
        // A Prod job list is read when it is due (sooner for a circuit with an alert).
        if let Some(alerted) = &alerted {
            for (e, d) in jobs_waiting.drain(..) {
                let circuit = match (
                    ctx.naming.endpoint.parse(&e),
                    ctx.naming.deployment.parse(&d),
                ) {
                    (Some((Some(p), _)), Some((_, Some(c)))) => {
                        crate::domain::CircuitRef::new(p, c)
                    }
                    _ => continue,
                };
                let hot = alerted.contains(&circuit);
                let every = ctx.incidents.job_reread;
                match known
                    .jobs
                    .as_deref()
                    .and_then(|b| b.reusable(&e, &d, known.now, every, hot))
                {
                    Some(entry) => {
                        r.incidents.jobs.insert(
                            (e, d),
                            JobRead {
                                result: Ok(entry.jobs.clone()),
                                read_at: entry.read_at,
                                reused: true,
                            },
                        );
                    }
                    None => queue.push_back(Job::ScoringJobs(e, d)),
                }
            }
        }
        // Dev versions are needed only where Dev is ahead of the registry: those models belong
        // to releases still waiting at the Registry stage.
        if let (Some(reg), Some(dev)) = (&registry_latest, &dev_latest) {
            for (name, latest) in dev {
                if *latest <= reg.get(name).copied().flatten() {
                    continue;
                }
                let container = ModelContainer {
                    name: name.clone(),
                    latest_version: *latest,
                };
                match books.and_then(|b| b.reusable(AssetLocation::Dev, &container, known.now)) {
                    Some(vs) => {
                        r.dev_versions.insert(name.clone(), Ok(vs.to_vec()));
                        r.reused_versions.insert((AssetLocation::Dev, name.clone()));
                    }
                    None => queue.push_back(Job::Versions(AssetLocation::Dev, name.clone())),
                }
            }
            dev_latest = Some(Vec::new());
        }
    }
    r.deployments.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    r.endpoints.sort_by_key(|(s, _)| *s);
    r
}
