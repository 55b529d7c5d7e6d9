//! The lineage stage of a snapshot: the model versions each circuit has (the registry's, and
//! Dev's where Dev is ahead), the Prod model's `training_hash` tag against the hash recomputed
//! from its config at its `git_commit`, and which model versions each build produced (how a
//! release finds the models it carries).

use std::collections::HashMap;

use super::inventory::Circuits;
use super::unread::failed;
use crate::domain::CircuitRef;
use crate::domain::fleet::{CircuitSnapshot, KnownVersion, ReleaseModel, SnapshotError};
use crate::domain::hash::TrainingHash;
use crate::domain::platform::ModelVersionRecord;
use crate::service::Context;
use crate::service::backend::ErrorKind;
use crate::service::fanout::Readings;

/// The model versions each build produced, by build id (the `build_id` tag).
#[derive(Debug, Default)]
pub(super) struct Builds(HashMap<String, Vec<ReleaseModel>>);

impl Builds {
    /// Every circuit's version that `build` produced, by circuit.
    pub(super) fn models(&self, build: &str) -> Vec<ReleaseModel> {
        let mut models = self.0.get(build).cloned().unwrap_or_default();
        models.sort_by(|a, b| a.circuit.cmp(&b.circuit));
        models
    }

    /// Add `v` of `circuit` to its build; a build keeps the first version it is given per circuit.
    pub(super) fn add(&mut self, v: &ModelVersionRecord, circuit: &CircuitRef) {
        if let Some(b) = v.build_id() {
            let list = self.0.entry(b.to_owned()).or_default();
            if !list.iter().any(|m| &m.circuit == circuit) {
                list.push(ReleaseModel {
                    circuit: circuit.clone(),
                    version: v.version,
                });
            }
        }
    }
}

/// What the lineage stage found beside what it wrote on the circuits.
#[derive(Debug, Default)]
pub(super) struct LineageFound {
    pub builds: Builds,
    pub errors: Vec<SnapshotError>,
}

/// Reads `registry_versions`, `dev_versions` and `configs`; writes each circuit's known
/// versions and lineage.
pub(super) fn assemble(circuits: &mut Circuits, r: &Readings, ctx: &Context) -> LineageFound {
    let mut found = LineageFound::default();
    // The registry's versions first: a build keeps the registry's version of a circuit.
    for (model, versions) in by_name(&r.registry_versions)
        .into_iter()
        .chain(by_name(&r.dev_versions))
    {
        let Some(circuit) = ctx.naming.model.parse_circuit(model) else {
            continue;
        };
        match versions {
            Ok(versions) => {
                for v in versions {
                    found.builds.add(v, &circuit);
                }
            }
            Err(e) => {
                found
                    .errors
                    .push(failed(format!("versions of model {model}"), e));
                if let Some(cs) = circuits.get_mut(&circuit) {
                    cs.unknown
                        .push(format!("versions of {model} could not be read"));
                }
            }
        }
    }
    for cs in circuits.values_mut() {
        let Some(Ok(registry)) = r.registry_versions.get(&cs.model_name) else {
            continue;
        };
        let dev = match r.dev_versions.get(&cs.model_name) {
            Some(Ok(d)) => d.as_slice(),
            _ => &[],
        };
        cs.known_versions = known_versions(registry, dev);
        prod_lineage(cs, registry, r, ctx, &mut found.errors);
    }
    found
}

/// A map's entries in name order, so that the errors come in the same order every time.
fn by_name<V>(m: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// The registry's versions and Dev's not (yet) in the registry, newest first.
fn known_versions(
    registry: &[ModelVersionRecord],
    dev: &[ModelVersionRecord],
) -> Vec<KnownVersion> {
    let mut known: Vec<KnownVersion> = registry
        .iter()
        .map(|v| known_version(v, true))
        .chain(
            dev.iter()
                .filter(|d| !registry.iter().any(|v| v.version == d.version))
                .map(|v| known_version(v, false)),
        )
        .collect();
    known.sort_by_key(|k| std::cmp::Reverse(k.version));
    known
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

/// The Prod model's tags against its config at the commit they name. A config absent at that
/// commit is a fact (lineage unknown, and said so); any other failed read of it makes the
/// snapshot incomplete.
fn prod_lineage(
    cs: &mut CircuitSnapshot,
    registry: &[ModelVersionRecord],
    r: &Readings,
    ctx: &Context,
    errors: &mut Vec<SnapshotError>,
) {
    let Some(prod) = cs.versions.prod else {
        return;
    };
    let Some(v) = registry.iter().find(|v| v.version == prod) else {
        cs.unknown
            .push(format!("Prod model version {prod} is not in the registry"));
        return;
    };
    cs.lineage.prod = v.training_hash();
    cs.lineage.commit = v.git_commit().map(str::to_owned);
    if let Some(commit) = v.git_commit() {
        let key = (ctx.config_path(&cs.circuit), commit.to_owned());
        match r.configs.get(&key) {
            Some(Ok(text)) => match hash_of_config(text) {
                Some(h) => cs.lineage.config = Some(h),
                None => cs
                    .unknown
                    .push(format!("config at {commit} cannot be hashed")),
            },
            Some(Err(e)) => {
                cs.unknown
                    .push(format!("config at {commit}: {}", e.message));
                if e.kind != ErrorKind::NotFound {
                    errors.push(failed(format!("config of {} at {commit}", cs.circuit), e));
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

/// The training hash recomputed from config text, when it can be.
pub fn hash_of_config(text: &str) -> Option<TrainingHash> {
    crate::service::configs::parse_mapping(text)
        .ok()
        .and_then(|m| crate::domain::hash::training_hash(&m).ok())
}

#[cfg(test)]
#[path = "lineage_tests.rs"]
mod tests;
