//! Evidence for an approval: for every circuit the release deploys, its config diff against
//! what runs in Prod, the test gate, drift and lineage, with identical changes grouped.

use futures::StreamExt;
use futures::stream;
use serde::Serialize;

use super::Context;
use super::backend::{Backend, ErrorKind};
use super::evidence::ConfigStore;
use crate::domain::changes::{GroupedChanges, group_changes};
use crate::domain::diff::ConfigDiff;
use crate::domain::fleet::{ApprovalItem, FleetSnapshot, gate_evidence};
use crate::domain::policy::GateEvidence;
use crate::domain::{CircuitRef, ModelVersion, Status};

/// One circuit of a release under review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewLine {
    pub circuit: CircuitRef,
    /// The version in Prod now.
    pub from: Option<ModelVersion>,
    /// The version the release deploys.
    pub to: ModelVersion,
    /// Config at `from`'s commit against config at `to`'s commit.
    #[serde(skip)]
    pub diff: Result<ConfigDiff, String>,
    pub gate: Status,
    pub gate_detail: String,
    pub drift: Status,
    /// The release version's `training_hash` tag against its recomputed config hash.
    pub lineage: Option<bool>,
}

/// What an approver looks at before deciding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalEvidence {
    pub release_id: u32,
    pub environment_id: crate::domain::platform::StageRef,
    pub lines: Vec<ReviewLine>,
    pub grouped: GroupedChanges,
    pub gate: Vec<GateEvidence>,
    /// Configs that could not be read (the lines they feed say so too): evidence with errors
    /// is partial.
    pub errors: Vec<String>,
}

impl ApprovalEvidence {
    /// The evidence of `item` from its judged lines: identical config changes grouped (none
    /// for an environment-only release, whose configs do not change).
    pub fn new(item: &ApprovalItem, lines: Vec<ReviewLine>, gate: Vec<GateEvidence>) -> Self {
        let grouped = if item.environment_only.is_some() {
            GroupedChanges::default()
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
            environment_id: item.environment_id.clone(),
            lines,
            grouped,
            gate,
            errors: Vec::new(),
        }
    }
}

/// Load configs (cached) and judge every circuit of the release.
pub async fn load(
    backend: &dyn Backend,
    ctx: &Context,
    snapshot: &FleetSnapshot,
    configs: &ConfigStore,
    item: &ApprovalItem,
) -> ApprovalEvidence {
    let gate = gate_evidence(snapshot, item, &ctx.thresholds);
    let env_only = item.environment_only.is_some();
    let judged: Vec<(ReviewLine, Option<String>)> = stream::iter(item.models.iter().cloned())
        .map(|m| {
            let gate = gate.iter().find(|g| g.circuit == m.circuit).cloned();
            async move {
                let c = snapshot.circuit(&m.circuit);
                let from = c.and_then(|c| c.versions.prod);
                let commit_of = |v: Option<ModelVersion>| {
                    c.and_then(|c| c.known_version(v?))
                        .and_then(|k| k.git_commit.clone())
                };
                let path = ctx.config_path(&m.circuit);
                let mut read_error = None;
                let diff = if env_only {
                    // No config changes: the environment is what changes.
                    Err("environment-only release".to_owned())
                } else {
                    match (commit_of(from), commit_of(Some(m.version))) {
                        (Some(a), Some(b)) => {
                            let (old, new) = tokio::join!(
                                configs.fetch(backend, &path, &a),
                                configs.fetch(backend, &path, &b)
                            );
                            match (old, new) {
                                (Ok(o), Ok(n)) => match (
                                    super::configs::parse_mapping(&o),
                                    super::configs::parse_mapping(&n),
                                ) {
                                    (Ok(o), Ok(n)) => Ok(ConfigDiff::between(&o, &n)),
                                    (Err(e), _) | (_, Err(e)) => {
                                        Err(format!("config cannot be read: {}", e.message))
                                    }
                                },
                                (Err(e), _) | (_, Err(e)) => {
                                    // A config absent at its commit is a fact to show, not a
                                    // failed read.
                                    if e.kind != ErrorKind::NotFound {
                                        read_error = Some(format!("config of {}: {e}", m.circuit));
                                    }
                                    Err(e.message)
                                }
                            }
                        }
                        (None, _) if from.is_none() => Err("nothing in Prod yet".to_owned()),
                        _ => Err("no git_commit tag to read the config from".to_owned()),
                    }
                };
                let lineage = match (&diff, c.and_then(|c| c.known_version(m.version))) {
                    (Ok(d), Some(k)) => Some(d.new_hash.is_some() && d.new_hash == k.training_hash),
                    _ => None,
                };
                let line = ReviewLine {
                    circuit: m.circuit.clone(),
                    from,
                    to: m.version,
                    diff,
                    gate: gate.as_ref().map(|g| g.status).unwrap_or(Status::Unknown),
                    gate_detail: gate.map(|g| g.detail).unwrap_or_default(),
                    drift: c.map(|c| c.drift.status).unwrap_or(Status::Unknown),
                    lineage,
                };
                (line, read_error)
            }
        })
        .buffered(ctx.concurrency.max(1))
        .collect()
        .await;
    let (lines, errors): (Vec<ReviewLine>, Vec<Option<String>>) = judged.into_iter().unzip();
    let mut evidence = ApprovalEvidence::new(item, lines, gate);
    evidence.errors = errors.into_iter().flatten().collect();
    evidence
}
