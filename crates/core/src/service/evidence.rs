//! Evidence for one circuit, loaded on demand: every model version with its lineage tags, the
//! live Test and Prod deployments, the configs at each version's commit, the config diff of
//! Prod against the candidate (or any two versions), and the Prod history for rollbacks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Context;
use super::backend::{Backend, BackendResult};
use crate::domain::diff::{ConfigDiff, TextChanges};
use crate::domain::fleet::FleetSnapshot;
use crate::domain::hash::TrainingHash;
use crate::domain::platform::{AssetLocation, Deployment, ModelVersionRecord, tags};
use crate::domain::rollback::{ProdHistoryEntry, prod_history};
use crate::domain::{CircuitRef, ModelVersion, Stage};

/// Config texts by `(path, commit)`: immutable once committed, so shared and kept forever.
#[derive(Debug, Clone, Default)]
pub struct ConfigStore {
    inner: Arc<Mutex<HashMap<(String, String), String>>>,
}

impl ConfigStore {
    pub fn new(initial: HashMap<(String, String), String>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(initial)),
        }
    }

    pub fn get(&self, path: &str, commit: &str) -> Option<String> {
        let map = self.inner.lock().ok()?;
        map.get(&(path.to_owned(), commit.to_owned())).cloned()
    }

    pub fn insert(&self, path: &str, commit: &str, text: String) {
        if let Ok(mut map) = self.inner.lock() {
            map.insert((path.to_owned(), commit.to_owned()), text);
        }
    }

    pub fn snapshot(&self) -> HashMap<(String, String), String> {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// `f` of the texts as they are, without a copy (e.g. to write them to the cache).
    pub fn with<R>(&self, f: impl FnOnce(&HashMap<(String, String), String>) -> R) -> Option<R> {
        self.inner.lock().ok().map(|m| f(&m))
    }

    /// The config at a commit, from the store or the backend.
    pub async fn fetch(
        &self,
        backend: &dyn Backend,
        path: &str,
        commit: &str,
    ) -> BackendResult<String> {
        if let Some(t) = self.get(path, commit) {
            return Ok(t);
        }
        let text = backend.config_at(path, commit).await?;
        self.insert(path, commit, text.clone());
        Ok(text)
    }
}

/// One model version of a circuit, wherever it lives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    pub version: ModelVersion,
    pub in_dev: bool,
    pub in_registry: bool,
    pub training_hash: Option<TrainingHash>,
    pub git_commit: Option<String>,
    pub build_id: Option<String>,
    pub cutoff_date: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The release carrying it (by build id), when known.
    pub release: Option<(u32, String)>,
    /// Stages running it now.
    pub deployed_in: Vec<Stage>,
}

/// A config as it was at one version's commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigAtVersion {
    pub version: ModelVersion,
    pub commit: Option<String>,
    pub path: String,
    /// The file text, or why it could not be read.
    pub text: Result<String, String>,
    /// The training hash recomputed from the text.
    pub recomputed: Option<TrainingHash>,
    /// The `training_hash` tag of the model version.
    pub tagged: Option<TrainingHash>,
}

impl ConfigAtVersion {
    pub fn label(&self) -> String {
        match &self.commit {
            Some(c) => format!("v{} @ {}", self.version, &c[..c.len().min(8)]),
            None => format!("v{}", self.version),
        }
    }

    /// Lineage of this version: recomputed hash equals the tag.
    pub fn lineage_ok(&self) -> Option<bool> {
        Some(self.recomputed.as_ref()? == self.tagged.as_ref()?)
    }
}

/// Two versions' configs compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigComparison {
    pub old: ConfigAtVersion,
    pub new: ConfigAtVersion,
    pub semantic: Option<ConfigDiff>,
    pub text: Option<TextChanges>,
}

impl ConfigComparison {
    /// The two configs compared: key by key when both parse, and line by line (3 lines of
    /// context) when both could be read.
    pub fn between(old: ConfigAtVersion, new: ConfigAtVersion) -> ConfigComparison {
        let (semantic, text) = match (&old.text, &new.text) {
            (Ok(a), Ok(b)) => (
                match (
                    super::configs::parse_mapping(a),
                    super::configs::parse_mapping(b),
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
}

/// Everything the circuit view and `relcon circuit` show beyond the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitEvidence {
    pub circuit: CircuitRef,
    /// Newest first.
    pub versions: Vec<VersionInfo>,
    pub deployments: Vec<Deployment>,
    /// The newest version beyond Prod (Test's, else the registry's, else Dev's).
    pub candidate: Option<ModelVersion>,
    /// Prod against the candidate.
    pub comparison: Option<ConfigComparison>,
    pub history: Vec<ProdHistoryEntry>,
    /// What could not be read.
    pub errors: Vec<String>,
}

impl CircuitEvidence {
    pub fn version(&self, v: ModelVersion) -> Option<&VersionInfo> {
        self.versions.iter().find(|i| i.version == v)
    }
}

/// Load a circuit's evidence: its versions in the registry and Dev, its live deployments, and
/// the configs of Prod and the candidate.
pub async fn load_circuit(
    backend: &dyn Backend,
    ctx: &Context,
    snapshot: &FleetSnapshot,
    configs: &ConfigStore,
    circuit: &CircuitRef,
) -> CircuitEvidence {
    let model = ctx.naming.model(circuit);
    let endpoint = ctx.naming.endpoint.render_plant(&circuit.plant);
    let deployment = ctx.naming.deployment(circuit);
    let (registry, dev, test, prod) = tokio::join!(
        backend.model_versions(AssetLocation::Registry, &model),
        backend.model_versions(AssetLocation::Dev, &model),
        backend.deployment(Stage::Test, &endpoint, &deployment),
        backend.deployment(Stage::Prod, &endpoint, &deployment),
    );
    let mut errors = Vec::new();
    let mut note =
        |what: &str, e: &super::backend::BackendError| errors.push(format!("{what}: {e}"));
    let registry = registry.unwrap_or_else(|e| {
        note("registry versions", &e);
        Vec::new()
    });
    let dev = dev.unwrap_or_else(|e| {
        note("Dev versions", &e);
        Vec::new()
    });
    let mut deployments = Vec::new();
    for (stage, d) in [(Stage::Test, test), (Stage::Prod, prod)] {
        match d {
            Ok(d) => deployments.push(d),
            Err(e) if e.kind == super::backend::ErrorKind::NotFound => {}
            Err(e) => note(&format!("{stage} deployment"), &e),
        }
    }
    let versions = merge_versions(snapshot, circuit, &registry, &dev, &deployments);
    let current = snapshot.circuit(circuit);
    let prod_v = current.and_then(|c| c.versions.prod);
    let candidate = current.and_then(|c| {
        [c.versions.test, c.versions.registry, c.versions.dev]
            .into_iter()
            .flatten()
            .find(|v| Some(*v) != prod_v && Some(*v) > prod_v)
    });
    let comparison = match (prod_v, candidate) {
        (Some(a), Some(b)) => Some(compare(backend, ctx, configs, circuit, &versions, a, b).await),
        _ => None,
    };
    CircuitEvidence {
        circuit: circuit.clone(),
        history: prod_history(snapshot, circuit, &ctx.thresholds),
        versions,
        deployments,
        candidate,
        comparison,
        errors,
    }
}

fn merge_versions(
    snapshot: &FleetSnapshot,
    circuit: &CircuitRef,
    registry: &[ModelVersionRecord],
    dev: &[ModelVersionRecord],
    deployments: &[Deployment],
) -> Vec<VersionInfo> {
    let in_registry: HashSet<ModelVersion> = registry.iter().map(|v| v.version).collect();
    let in_dev: HashSet<ModelVersion> = dev.iter().map(|v| v.version).collect();
    let mut by_version: HashMap<ModelVersion, &ModelVersionRecord> = HashMap::new();
    // Registry tags win: that is what Test and Prod deploy.
    for v in dev.iter().chain(registry.iter()) {
        by_version.insert(v.version, v);
    }
    let mut out: Vec<VersionInfo> = by_version
        .into_values()
        .map(|v| VersionInfo {
            version: v.version,
            in_dev: in_dev.contains(&v.version),
            in_registry: in_registry.contains(&v.version),
            training_hash: v.training_hash(),
            git_commit: v.git_commit().map(str::to_owned),
            build_id: v.build_id().map(str::to_owned),
            cutoff_date: v.tag(tags::CUTOFF_DATE).map(str::to_owned),
            created_at: v.created_at,
            release: v.build_id().and_then(|b| {
                snapshot
                    .releases
                    .iter()
                    .find(|r| {
                        r.build_id.as_deref() == Some(b)
                            && r.version_for(circuit) == Some(v.version)
                    })
                    .map(|r| (r.id, r.name.clone()))
            }),
            deployed_in: deployments
                .iter()
                .filter(|d| d.model.as_ref().is_some_and(|m| m.version == v.version))
                .map(|d| d.stage)
                .collect(),
        })
        .collect();
    out.sort_by_key(|v| std::cmp::Reverse(v.version));
    out
}

/// The configs of two versions of a circuit, compared.
pub async fn compare(
    backend: &dyn Backend,
    ctx: &Context,
    configs: &ConfigStore,
    circuit: &CircuitRef,
    versions: &[VersionInfo],
    old: ModelVersion,
    new: ModelVersion,
) -> ConfigComparison {
    let path = ctx.config_path(circuit);
    let at = |v: ModelVersion| {
        let info = versions.iter().find(|i| i.version == v);
        (
            info.and_then(|i| i.git_commit.clone()),
            info.and_then(|i| i.training_hash.clone()),
        )
    };
    let load = |v: ModelVersion| {
        let path = path.clone();
        let (commit, tagged) = at(v);
        async move {
            let text = match &commit {
                None => Err(format!("model version {v} has no git_commit tag")),
                Some(c) => configs
                    .fetch(backend, &path, c)
                    .await
                    .map_err(|e| e.to_string()),
            };
            let recomputed = text
                .as_ref()
                .ok()
                .and_then(|t| super::snapshot::hash_of_config(t));
            ConfigAtVersion {
                version: v,
                commit,
                path,
                text,
                recomputed,
                tagged,
            }
        }
    };
    let (old, new) = tokio::join!(load(old), load(new));
    ConfigComparison::between(old, new)
}
