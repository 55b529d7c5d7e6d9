//! What a refresh reads, and when: the planner of the fan-out. It starts with the reads that
//! depend on nothing (slowest first), and each finished read may make others possible: a
//! plant's deployments once its stage's endpoints are listed, a model's versions once its
//! container is listed and its versions cannot be taken from the book, the Prod model's config
//! once both its deployment and its version tags are in, Dev's versions where Dev is ahead of
//! the registry. Pure: it only says what to read, so it is tested without HTTP.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use super::{Known, Readings};
use crate::domain::incidents::{AlertRecord, ScoringJob};
use crate::domain::platform::{
    ApprovalRecord, AssetLocation, Deployment, Endpoint, Identity, ModelContainer,
    ModelVersionRecord, ReleaseRecord,
};
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::Context;
use crate::service::backend::{BackendResult, MonitorQuery};
use crate::service::incidents::{self, JobRead};
use crate::service::queries::MonitorRead;
use crate::service::releases::ReleaseBook;

/// One read of a refresh.
#[derive(Debug)]
pub(crate) enum Job {
    Identity,
    Endpoints(Stage),
    Containers(AssetLocation),
    /// All releases (no book), or what changed since the book.
    Releases(Option<Arc<ReleaseBook>>),
    /// The approvals pending now.
    Approvals,
    Query(MonitorQuery),
    Deployments(Stage, String),
    Versions(AssetLocation, String),
    /// A config at a commit: `(path, commit)`.
    Config(String, String),
    /// The fired alerts.
    Alerts,
    /// A Prod deployment's scoring jobs: `(endpoint, deployment)`.
    ScoringJobs(String, String),
}

/// One read finished, with what it read.
#[derive(Debug)]
pub(crate) enum Done {
    Identity(BackendResult<Identity>),
    Endpoints(Stage, BackendResult<Vec<Endpoint>>),
    Containers(AssetLocation, BackendResult<Vec<ModelContainer>>),
    /// The releases, and whether all of them were read.
    Releases(BackendResult<Vec<ReleaseRecord>>, bool),
    Approvals(BackendResult<Vec<ApprovalRecord>>),
    Query(MonitorQuery, BackendResult<MonitorRead>),
    Deployments(Stage, String, BackendResult<Vec<Deployment>>),
    Versions(
        AssetLocation,
        String,
        BackendResult<Vec<ModelVersionRecord>>,
    ),
    Config(String, String, BackendResult<String>),
    Alerts(BackendResult<Vec<AlertRecord>>),
    ScoringJobs(String, String, BackendResult<Vec<ScoringJob>>),
}

/// The reads of one refresh: what has arrived (the readings) and what the dependent reads
/// wait for.
pub(crate) struct Planner<'a> {
    ctx: &'a Context,
    known: &'a Known,
    readings: Readings,
    /// The latest version of every registry model, once the registry's containers are in.
    registry_latest: Option<HashMap<String, Option<ModelVersion>>>,
    /// The latest version of every Dev model, once Dev's containers are in; emptied when the
    /// models ahead of the registry have been planned.
    dev_latest: Option<Vec<(String, Option<ModelVersion>)>>,
    /// The version each model runs in Prod, as deployments arrive.
    prod_of: HashMap<String, ModelVersion>,
    /// Configs planned (read, or taken from what is known), so each is read once.
    configs_wanted: BTreeSet<(String, String)>,
    /// Prod deployments whose job lists wait for the alerts (an alerted circuit's list is read
    /// sooner): `(endpoint, deployment)`.
    jobs_waiting: Vec<(String, String)>,
    /// The circuits with an active alert, once the alerts are in.
    alerted: Option<HashSet<CircuitRef>>,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(ctx: &'a Context, known: &'a Known) -> Planner<'a> {
        Planner {
            ctx,
            known,
            readings: Readings::default(),
            registry_latest: None,
            dev_latest: None,
            prod_of: HashMap::new(),
            configs_wanted: BTreeSet::new(),
            jobs_waiting: Vec::new(),
            alerted: None,
        }
    }

    /// The reads that depend on nothing, the slowest first (the release history; the queries
    /// follow the Prod endpoint list, see [`Planner::queries`]); the operator only when not
    /// known.
    pub(crate) fn first(&mut self) -> Vec<Job> {
        let mut jobs = vec![
            // What decides which job lists are read first (it is one quick list).
            Job::Alerts,
            Job::Endpoints(Stage::Prod),
            // The slowest first.
            Job::Releases(self.known.releases.clone()),
            Job::Endpoints(Stage::Test),
            Job::Containers(AssetLocation::Registry),
            Job::Containers(AssetLocation::Dev),
            Job::Approvals,
        ];
        match &self.known.identity {
            Some(i) => self.readings.identity = Some(Ok(i.clone())),
            None => jobs.push(Job::Identity),
        }
        jobs
    }

    /// The monitoring queries, asked once the Prod endpoint list is in (read or failed): the
    /// adapter splits a large fleet's queries by its plants from the start (`kql::
    /// PLANTS_PER_PART`) rather than asking a result the service must cut, and holding it,
    /// first. It costs the queries one ARM list's round trip on a refresh they dominate.
    fn queries() -> [Job; 3] {
        [
            Job::Query(MonitorQuery::Drift),
            Job::Query(MonitorQuery::Validation),
            Job::Query(MonitorQuery::Accuracy),
        ]
    }

    /// Take in a finished read; returns the reads it makes possible, in order.
    pub(crate) fn arrived(&mut self, done: Done) -> Vec<Job> {
        let mut jobs = Vec::new();
        let r = &mut self.readings;
        match done {
            Done::Identity(x) => r.identity = Some(x),
            Done::Endpoints(stage, x) => {
                if stage == Stage::Prod {
                    jobs.extend(Self::queries());
                }
                if let Ok(endpoints) = &x {
                    jobs.extend(
                        endpoints
                            .iter()
                            .map(|e| Job::Deployments(stage, e.name.clone())),
                    );
                }
                r.endpoints.push((stage, x));
            }
            Done::Containers(AssetLocation::Registry, x) => {
                let mut latest = HashMap::new();
                for c in x.iter().flatten() {
                    latest.insert(c.name.clone(), c.latest_version);
                    match self.reuse(AssetLocation::Registry, c) {
                        true => jobs.extend(self.want_config(&c.name)),
                        false => jobs.push(Job::Versions(AssetLocation::Registry, c.name.clone())),
                    }
                }
                self.registry_latest = Some(latest);
                self.readings.registry_containers = Some(x);
            }
            Done::Containers(AssetLocation::Dev, x) => {
                self.dev_latest = Some(
                    x.iter()
                        .flatten()
                        .map(|c| (c.name.clone(), c.latest_version))
                        .collect(),
                );
                r.dev_containers = Some(x);
            }
            Done::Releases(mut x, full) => {
                // A printed-only snapshot reads no settled release but an environment-only
                // one (`snapshot::releases::keep_printed` keeps a subset of what is left):
                // not held through the rest of the reads (70 MB at 20,000 circuits).
                if let (true, Ok(list)) = (self.ctx.keep.printed_only(), &mut x) {
                    list.retain(|rel| !rel.is_settled() || rel.environment_only().is_some());
                    list.shrink_to_fit();
                }
                r.releases = Some(x);
                r.releases_full = full;
            }
            Done::Approvals(x) => r.approvals = Some(x),
            Done::Query(q, x) => match (q, x) {
                (_, Ok(MonitorRead::Drift(d))) => r.drift = Some(Ok(d)),
                (_, Ok(MonitorRead::Accuracy(a))) => r.accuracy = Some(Ok(a)),
                (_, Ok(MonitorRead::Validation(v))) => r.validation = Some(Ok(v)),
                (MonitorQuery::Drift, Err(e)) => r.drift = Some(Err(e)),
                (MonitorQuery::Accuracy, Err(e)) => r.accuracy = Some(Err(e)),
                (MonitorQuery::Validation, Err(e)) => r.validation = Some(Err(e)),
                // Not a read of a refresh (doctor's).
                (MonitorQuery::Coverage, Err(_)) => {}
            },
            Done::Deployments(stage, endpoint, mut x) => {
                // The inventory reads no deployment's tags (a circuit's evidence reads them
                // afresh): not held for the rest of the refresh (20 MB at 20,000 circuits).
                if let Ok(deployments) = &mut x {
                    for d in deployments.iter_mut() {
                        d.tags = Default::default();
                    }
                }
                let prod_models: Vec<(String, ModelVersion)> = match (&x, stage) {
                    (Ok(deployments), Stage::Prod) => deployments
                        .iter()
                        .filter_map(|d| d.model.as_ref())
                        .map(|m| (m.name.clone(), m.version))
                        .collect(),
                    _ => Vec::new(),
                };
                if let (Ok(deployments), Stage::Prod) = (&x, stage) {
                    self.jobs_waiting.extend(
                        deployments
                            .iter()
                            .filter(|d| d.model.is_some())
                            .map(|d| (endpoint.clone(), d.name.clone())),
                    );
                }
                r.deployments.push((stage, endpoint, x));
                for (model, version) in prod_models {
                    self.prod_of.insert(model.clone(), version);
                    jobs.extend(self.want_config(&model));
                }
            }
            Done::Versions(AssetLocation::Registry, model, x) => {
                r.registry_versions.insert(model.clone(), x);
                jobs.extend(self.want_config(&model));
            }
            Done::Versions(AssetLocation::Dev, model, x) => {
                r.dev_versions.insert(model, x);
            }
            Done::Config(path, commit, x) => {
                r.configs.insert((path, commit), x);
            }
            Done::Alerts(x) => {
                self.alerted = Some(match &x {
                    Ok(list) => incidents::alerted_circuits(list, &self.ctx.naming),
                    Err(_) => HashSet::new(),
                });
                r.incidents.alerts = Some(x);
            }
            Done::ScoringJobs(e, d, x) => {
                // Only the jobs the summary reads are kept (and booked), not the whole list.
                r.incidents.jobs.insert(
                    (e, d),
                    JobRead {
                        result: x.map(crate::domain::incidents::jobs_assessed),
                        read_at: self.known.now,
                        reused: false,
                    },
                );
            }
        }
        jobs.extend(self.dev_ahead());
        jobs.extend(self.job_lists_due());
        jobs
    }

    /// A Prod job list is read when it is due (sooner for a circuit with an alert or under a
    /// rollback's watch), once the alerts are in; else it is taken from the book.
    fn job_lists_due(&mut self) -> Vec<Job> {
        let Some(alerted) = &self.alerted else {
            return Vec::new();
        };
        let mut jobs = Vec::new();
        for (e, d) in self.jobs_waiting.drain(..) {
            let naming = &self.ctx.naming;
            let circuit = match (naming.endpoint.parse(&e), naming.deployment.parse(&d)) {
                (Some((Some(p), _)), Some((_, Some(c)))) => CircuitRef::new(p, c),
                _ => continue,
            };
            let hot = alerted.contains(&circuit) || self.known.watched.contains(&circuit);
            let every = self.ctx.incidents.job_reread;
            let now = self.known.now;
            match self
                .known
                .jobs
                .as_deref()
                .and_then(|b| b.reusable(&e, &d, now, every, hot))
            {
                Some(entry) => {
                    self.readings.incidents.jobs.insert(
                        (e, d),
                        JobRead {
                            result: Ok(entry.jobs.clone()),
                            read_at: entry.read_at,
                            reused: true,
                        },
                    );
                }
                None => jobs.push(Job::ScoringJobs(e, d)),
            }
        }
        jobs
    }

    /// Everything read.
    pub(crate) fn finish(self) -> Readings {
        let mut r = self.readings;
        r.deployments.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        r.endpoints.sort_by_key(|(s, _)| *s);
        r
    }

    /// Take a model's versions from the book when they can be used as they are.
    fn reuse(&mut self, location: AssetLocation, c: &ModelContainer) -> bool {
        let book = self.known.models.as_deref();
        let Some(versions) = book.and_then(|b| b.reusable(location, c, self.known.now)) else {
            return false;
        };
        let r = &mut self.readings;
        let read = match location {
            AssetLocation::Registry => &mut r.registry_versions,
            AssetLocation::Dev => &mut r.dev_versions,
        };
        read.insert(c.name.clone(), Ok(versions.to_vec()));
        r.reused_versions.insert((location, c.name.clone()));
        true
    }

    /// Dev's versions are needed only where Dev is ahead of the registry: those models belong
    /// to releases still waiting at the Registry stage. Planned once, when both container
    /// lists are in.
    fn dev_ahead(&mut self) -> Vec<Job> {
        let (Some(registry), Some(dev)) = (&self.registry_latest, &mut self.dev_latest) else {
            return Vec::new();
        };
        let ahead: Vec<ModelContainer> = std::mem::take(dev)
            .into_iter()
            .filter(|(name, latest)| *latest > registry.get(name).copied().flatten())
            .map(|(name, latest_version)| ModelContainer {
                name,
                latest_version,
            })
            .collect();
        ahead
            .into_iter()
            .filter(|c| !self.reuse(AssetLocation::Dev, c))
            .map(|c| Job::Versions(AssetLocation::Dev, c.name))
            .collect()
    }

    /// The config of `model`'s Prod version, once both its Prod deployment and its registry
    /// versions are in: a read, or (known from an earlier refresh) taken as it is.
    fn want_config(&mut self, model: &str) -> Option<Job> {
        let v = self.prod_of.get(model)?;
        let Some(Ok(versions)) = self.readings.registry_versions.get(model) else {
            return None;
        };
        let rec = versions.iter().find(|x| x.version == *v)?;
        let circuit = rec
            .circuit()
            .or_else(|| self.ctx.naming.model.parse_circuit(model))?;
        let key = (self.ctx.config_path(&circuit), rec.git_commit()?.to_owned());
        if !self.configs_wanted.insert(key.clone()) {
            return None;
        }
        match self.known.configs.get(&key) {
            Some(text) => {
                self.readings.configs.insert(key, Ok(text.clone()));
                None
            }
            None => Some(Job::Config(key.0, key.1)),
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
