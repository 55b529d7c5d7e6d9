//! The reads of a refresh, as one pipeline: each call starts as soon as what it depends on has
//! arrived (what to read, and when, is the planner's: `plan`), with a bounded number in
//! flight; what the last refresh read and cannot have changed (configs at a commit, settled
//! releases, model versions whose container's `latestVersion` did not move, the operator's
//! identity) is taken from what is `Known`.

mod plan;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::Context;
use super::backend::{ApprovalQuery, Backend, BackendResult, ErrorKind};
use super::incidents::JobBook;
use super::models::{ModelBook, ModelRead};
use super::queries::{AccuracyRead, DriftRead, ValidationRead};
use super::releases::{ReleaseBook, changed_releases};
use crate::domain::Stage;
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, Endpoint, Identity, ModelContainer,
    ModelVersionRecord, ReleaseRecord,
};
use plan::{Done, Job, Planner};

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
    /// The monitoring reads, decoded part by part as they arrived (`queries::read_decoded`).
    pub drift: Option<BackendResult<DriftRead>>,
    pub accuracy: Option<BackendResult<AccuracyRead>>,
    pub validation: Option<BackendResult<ValidationRead>>,
    /// Config texts by `(path, commit)`; from the cache or read in this refresh.
    pub configs: HashMap<(String, String), BackendResult<String>>,
    /// Models whose versions came from the last refresh's book rather than a call.
    pub reused_versions: HashSet<(AssetLocation, String)>,
    /// Fired alerts and Prod scoring jobs (`service::incidents`).
    pub incidents: super::incidents::IncidentReadings,
}

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
    /// Circuits a verified rollback's watch is on: their Prod job lists are read on the
    /// alerted cadence (every 5 minutes), so the next scoring job's result shows within
    /// minutes.
    pub watched: std::collections::HashSet<crate::domain::CircuitRef>,
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
            watched: Default::default(),
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
            watched: self.watched,
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
    reused: &HashSet<(AssetLocation, String)>,
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

/// Make one read.
async fn run(backend: &dyn Backend, ctx: &Context, job: Job, now: DateTime<Utc>) -> Done {
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
        Job::Releases(None) => Done::Releases(backend.release_history().await, true),
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
        Job::Query(q) => Done::Query(
            q,
            super::queries::read_decoded(backend, q, ctx.keep, &ctx.thresholds).await,
        ),
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

    let fan_out = (ctx.concurrency * 4).max(1);
    let mut planner = Planner::new(ctx, known);
    let mut queue: VecDeque<Job> = planner.first().into();
    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < fan_out {
            let Some(job) = queue.pop_front() else { break };
            in_flight.push(run(backend, ctx, job, known.now));
        }
        let Some(done) = in_flight.next().await else {
            break;
        };
        queue.extend(planner.arrived(done));
    }
    planner.finish()
}
