//! The Azure Pipelines (YAML) face of the simulated world (`relcon sim serve --devops yaml`):
//! the same builds, releases, approvals and deployments the classic Release API shows, seen as
//! runs of the seed's YAML pipelines, with environments guarded by Approval checks, approvals
//! with steps, timelines with stage attempts, environment deployment records, stage re-runs and
//! the rollback pipeline. Paths and api-versions are Microsoft's
//! (`tests/data/specs/devops-yaml/README.md`); where Microsoft's documents are silent, the
//! decision is written on the route and in `docs/AZURE.md` ("What the simulator decides where
//! Microsoft is silent").
//!
//! The view is computed from the classic world on every request (`view.rs`); decisions, stage
//! re-runs and rollback runs change that same world (`act.rs`), so ARM deployments move and
//! history grows exactly as they do through the classic face. Only what the classic world has
//! no place for lives here: the rollback pipeline's runs.

mod act;
mod json;
mod routes;
#[cfg(test)]
mod tests;
mod view;

use chrono::{DateTime, Utc};

pub use routes::{handle, route_name};

/// What the YAML face adds to the world.
#[derive(Debug, Clone, Default)]
pub struct YamlState {
    /// Serve the YAML routes (`--devops yaml`); off, they answer 404 as before.
    pub enabled: bool,
    /// Runs of `rollback-pipeline`, in the order they were queued.
    pub rollbacks: Vec<RollbackRun>,
}

/// The seed's pipelines. Ids are the simulator's choice; clients resolve them by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipe {
    Training,
    Promote,
    Test,
    Prod,
    Rollback,
}

impl Pipe {
    pub const ALL: [Pipe; 5] = [
        Pipe::Training,
        Pipe::Promote,
        Pipe::Test,
        Pipe::Prod,
        Pipe::Rollback,
    ];

    pub fn id(self) -> u32 {
        21 + Pipe::ALL.iter().position(|p| *p == self).unwrap_or(0) as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            Pipe::Training => "training-pipeline",
            Pipe::Promote => "promote-single-model-pipeline",
            Pipe::Test => "test-deployment-pipeline",
            Pipe::Prod => "prod-deployment-pipeline",
            Pipe::Rollback => "rollback-pipeline",
        }
    }

    pub fn by_id(id: u32) -> Option<Pipe> {
        Pipe::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The pipeline that carries a classic release stage (0 Registry, 1 Test, 2 Prod).
    pub fn of_stage(e: usize) -> Pipe {
        match e {
            0 => Pipe::Promote,
            1 => Pipe::Test,
            _ => Pipe::Prod,
        }
    }

    /// The classic stage a pipeline carries.
    pub fn stage(self) -> Option<usize> {
        match self {
            Pipe::Promote => Some(0),
            Pipe::Test => Some(1),
            Pipe::Prod => Some(2),
            _ => None,
        }
    }
}

/// The deployment stage of a release pipeline: its YAML name, display name, deployment job
/// and environment.
pub struct DeployStage {
    pub name: &'static str,
    pub display: &'static str,
    pub job: &'static str,
    pub env: EnvKind,
}

pub fn deploy_stage(e: usize) -> DeployStage {
    match e {
        0 => DeployStage {
            name: "ApprovePromotion",
            display: "Approve promotion to the registry",
            job: "ApproveModel",
            env: EnvKind::Registry,
        },
        1 => DeployStage {
            name: "DeployToTest",
            display: "Deploy to Test",
            job: "DeployTest",
            env: EnvKind::Test,
        },
        _ => DeployStage {
            name: "DeployToProduction",
            display: "Deploy to Production",
            job: "DeployProd",
            env: EnvKind::Prod,
        },
    }
}

/// The rollback pipeline's stage and job.
pub const ROLLBACK_STAGE: &str = "ExecuteRollback";
pub const ROLLBACK_JOB: &str = "Rollback";

/// The environments of the seed's pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvKind {
    Registry,
    Test,
    Prod,
    ProdRollback,
    TestRollback,
}

impl EnvKind {
    pub const ALL: [EnvKind; 5] = [
        EnvKind::Registry,
        EnvKind::Test,
        EnvKind::Prod,
        EnvKind::ProdRollback,
        EnvKind::TestRollback,
    ];

    pub fn id(self) -> u32 {
        1 + EnvKind::ALL.iter().position(|k| *k == self).unwrap_or(0) as u32
    }

    pub fn by_id(id: u32) -> Option<EnvKind> {
        EnvKind::ALL.into_iter().find(|k| k.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            EnvKind::Registry => "registry-promotion",
            EnvKind::Test => "test-deployment",
            EnvKind::Prod => "production-deployment",
            EnvKind::ProdRollback => "Production-Rollback-Approval",
            EnvKind::TestRollback => "Test-Rollback-Approval",
        }
    }

    /// The Approval check on the environment: `(minRequiredApprovers,
    /// requesterCannotBeApprover)`; `None` when the environment has no Approval check. The
    /// Registry and Test environments are as the classic world's stages have them (one
    /// approver; automated), Prod needs two and bars the requester, as the seed's
    /// `docs/APPROVALS.md` says; a Prod rollback needs one approver who is not its requester.
    pub fn approval_check(self) -> Option<(u32, bool)> {
        match self {
            EnvKind::Registry => Some((1, false)),
            EnvKind::Prod => Some((2, true)),
            EnvKind::ProdRollback => Some((1, true)),
            EnvKind::Test | EnvKind::TestRollback => None,
        }
    }

    /// The check configuration's id (the simulator's numbering).
    pub fn check_id(self) -> u32 {
        100 + self.id()
    }
}

/// What a rollback run restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackType {
    Previous,
    Specific,
}

/// A decision on one step of a rollback run's approval.
#[derive(Debug, Clone)]
pub struct StepDecision {
    pub who: usize,
    pub approve: bool,
    pub comment: String,
    pub at: DateTime<Utc>,
}

/// One run of `rollback-pipeline`.
#[derive(Debug, Clone)]
pub struct RollbackRun {
    pub id: u32,
    pub number: String,
    pub requested_by: usize,
    pub queued: DateTime<Utc>,
    /// The template parameters as queued (strings, as Azure Pipelines keeps them).
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// `Prod` or `Test`.
    pub stage: crate::domain::Stage,
    pub kind: RollbackType,
    /// `(circuit, model version)` each named circuit is pointed back at.
    pub targets: Vec<(usize, u32)>,
    /// Decisions on the `Production-Rollback-Approval` check (none for Test).
    pub decisions: Vec<StepDecision>,
    /// When the `ExecuteRollback` job started (after its checks): the deployments' PUTs.
    pub started: Option<DateTime<Utc>>,
    /// ARM operations of the PUTs (indexes into the world's operations).
    pub ops: Vec<usize>,
}

/// Run ids: training runs keep their build ids (4100 and up); the runs of a classic release
/// are `RELEASE_RUN_BASE + 4 * release id + stage`; rollback runs count from
/// `ROLLBACK_RUN_BASE`.
pub const RELEASE_RUN_BASE: u32 = 100_000;
pub const ROLLBACK_RUN_BASE: u32 = 900_000;
/// Deployment record ids of rollback runs (the classic attempts' deployment ids are below).
pub const ROLLBACK_RECORD_BASE: u32 = 500_000;
/// The most environment deployment records one page holds, whatever `top` asks: small, so
/// that clients follow `x-ms-continuationtoken` against the demo world too.
pub const RECORD_PAGE: usize = 50;
