//! The releases stage of a snapshot: the release history with the models each release
//! carries (by build id, or every Prod model for an environment-only release), what waits for
//! approval grouped per release stage, and which circuits a release is deploying to right now.

use std::collections::{BTreeMap, BTreeSet};

use super::inventory::Circuits;
use super::lineage::Builds;
use super::unread::failed;
use crate::domain::fleet::{
    ActiveRelease, ApprovalItem, Decision, ReleaseModel, ReleaseStage, ReleaseSummary,
    SnapshotError, platform_word,
};
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, DeploymentStatus, ReleaseRecord, StageRef,
    release_vars,
};
use crate::domain::{CircuitRef, ModelVersion};
use crate::service::fanout::Readings;

/// What the releases stage found beside what it wrote on the circuits.
#[derive(Debug, Default)]
pub(super) struct ReleasesFound {
    /// Newest first, as read.
    pub releases: Vec<ReleaseSummary>,
    /// Oldest request first.
    pub approvals: Vec<ApprovalItem>,
    pub errors: Vec<SnapshotError>,
}

/// The ids of the environment-only releases read (none when the releases were not read).
pub(super) fn environment_only(r: &Readings) -> BTreeSet<u32> {
    match &r.releases {
        Some(Ok(releases)) => releases
            .iter()
            .filter(|r| r.environment_only().is_some())
            .map(|r| r.id)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// Of the release history, keep only what a printed-only snapshot (no release list) reads:
/// the environment-only releases (their validations are told apart), those deploying now (a
/// circuit's active release) and those a pending approval names (its item). Done before the
/// inventory builds the circuits, so that at 20,000 circuits the 30,000 releases read (76 MB)
/// are not held through it.
pub(super) fn keep_printed(r: &mut Readings) {
    let named: BTreeSet<u32> = match &r.approvals {
        Some(Ok(pending)) => pending.iter().map(|a| a.release_id).collect(),
        _ => BTreeSet::new(),
    };
    if let Some(Ok(releases)) = &mut r.releases {
        releases.retain(|rel| {
            rel.environment_only().is_some()
                || named.contains(&rel.id)
                || rel.environments.iter().any(|e| e.is_deploying())
        });
        releases.shrink_to_fit();
    }
}

/// Reads `releases` and `approvals`; `builds` (from the lineage stage) say which models a
/// release carries. Writes each circuit's pending approvals and the release deploying to it;
/// summarizes each release only when `listed` (a printed-only snapshot lists none).
pub(super) fn assemble(
    circuits: &mut Circuits,
    r: &Readings,
    builds: &Builds,
    listed: bool,
) -> ReleasesFound {
    let mut found = ReleasesFound::default();
    let releases: &[ReleaseRecord] = match &r.releases {
        Some(Ok(releases)) => releases,
        Some(Err(e)) => {
            found.errors.push(failed("releases", e));
            &[]
        }
        None => &[],
    };
    let carried = Carried {
        prod: circuits
            .values()
            .map(|c| (c.circuit.clone(), c.versions.prod))
            .collect(),
        builds,
    };
    if listed {
        found.releases = releases.iter().map(|rel| summary(rel, &carried)).collect();
    }
    found.approvals = match &r.approvals {
        Some(Ok(pending)) => group_approvals(pending, releases, &carried),
        Some(Err(e)) => {
            found.errors.push(failed("pending approvals", e));
            Vec::new()
        }
        None => Vec::new(),
    };
    for item in &found.approvals {
        for c in item.circuits() {
            if let Some(cs) = circuits.get_mut(c) {
                cs.pending_approvals += 1;
            }
        }
    }
    for rel in releases {
        for env in rel.environments.iter().filter(|e| e.is_deploying()) {
            let Some(stage) = env.stage() else { continue };
            for m in carried.models(rel) {
                if let Some(cs) = circuits.get_mut(&m.circuit) {
                    cs.active_release = Some(ActiveRelease {
                        release_id: rel.id,
                        release_name: rel.name.to_string(),
                        stage,
                    });
                }
            }
        }
    }
    found
}

/// The models a release carries.
struct Carried<'a> {
    /// Every circuit and its Prod version: what an environment-only release redeploys.
    prod: Vec<(CircuitRef, Option<ModelVersion>)>,
    builds: &'a Builds,
}

impl Carried<'_> {
    /// The models of the release's build, by circuit; for an environment-only release, every
    /// model in Prod.
    fn models(&self, rel: &ReleaseRecord) -> Vec<ReleaseModel> {
        if rel.environment_only().is_some() {
            return self
                .prod
                .iter()
                .filter_map(|(c, v)| {
                    Some(ReleaseModel {
                        circuit: c.clone(),
                        version: (*v)?,
                    })
                })
                .collect();
        }
        rel.build_id
            .as_ref()
            .map(|b| self.builds.models(b))
            .unwrap_or_default()
    }
}

/// One release as the console and the JSON show it (an environment-only release lists no
/// models: it carries none of its own).
fn summary(rel: &ReleaseRecord, carried: &Carried<'_>) -> ReleaseSummary {
    ReleaseSummary {
        id: rel.id,
        name: rel.name.to_string(),
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
                    environment_id: e.id.clone(),
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
            carried.models(rel)
        },
    }
}

/// The ids a decision goes to, each once: a YAML approval lists one record per approver's step,
/// all with the approval's id.
fn pending_ids(records: &[&ApprovalRecord]) -> Vec<ApprovalId> {
    let mut ids: Vec<ApprovalId> = Vec::with_capacity(records.len());
    for a in records {
        if !ids.contains(&a.id) {
            ids.push(a.id.clone());
        }
    }
    ids
}

/// Pending approval records grouped per release stage, with what is already approved.
fn group_approvals(
    pending: &[ApprovalRecord],
    releases: &[ReleaseRecord],
    carried: &Carried<'_>,
) -> Vec<ApprovalItem> {
    let mut groups: BTreeMap<(u32, &StageRef), Vec<&ApprovalRecord>> = BTreeMap::new();
    for a in pending
        .iter()
        .filter(|a| a.status == ApprovalStatus::Pending)
    {
        groups
            .entry((a.release_id, &a.stage_ref))
            .or_default()
            .push(a);
    }
    let mut items = Vec::new();
    for ((release_id, env_id), records) in groups {
        let first = records[0];
        let Some(stage) = first.stage() else { continue };
        let release = releases.iter().find(|r| r.id == release_id);
        let env = release.and_then(|r| r.environments.iter().find(|e| &e.id == env_id));
        let approved: Vec<Decision> = env
            .map(|e| {
                e.pre_deploy_approvals
                    .iter()
                    .filter(|a| a.status == ApprovalStatus::Approved && a.attempt == first.attempt)
                    .map(Decision::of)
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
        let rollback = release.and_then(ReleaseRecord::rollback_scope);
        let models = match &rollback {
            // A rollback run restores its circuits at the version it names (with
            // `previous` it names none: the circuits are in its description).
            Some((circuits, version)) => version
                .map(|v| {
                    circuits
                        .iter()
                        .map(|c| ReleaseModel {
                            circuit: c.clone(),
                            version: v,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            None => release.map(|r| carried.models(r)).unwrap_or_default(),
        };
        let (blocked_approvers, approvers, caller_may_decide) = platform_word(&records);
        items.push(ApprovalItem {
            release_id,
            release_name: first.release_name.to_string(),
            stage,
            environment_id: env_id.clone(),
            pending_ids: pending_ids(&records),
            requested_by,
            requested_at,
            approved,
            required,
            requester_blocked: env.and_then(|e| e.requester_blocked).unwrap_or(false),
            description: release.map(|r| r.description.clone()).unwrap_or_default(),
            models,
            environment_only: release.and_then(|r| r.environment_only().map(str::to_owned)),
            previous_environment: release.and_then(|r| {
                r.variables
                    .get(release_vars::PREVIOUS_ENVIRONMENT_VERSION)
                    .cloned()
            }),
            rollback_run: rollback.is_some(),
            blocked_approvers,
            approvers,
            caller_may_decide,
        });
    }
    items.sort_by(|a, b| {
        a.requested_at
            .cmp(&b.requested_at)
            .then(a.release_id.cmp(&b.release_id))
    });
    items
}

#[cfg(test)]
#[path = "releases_tests.rs"]
mod tests;
