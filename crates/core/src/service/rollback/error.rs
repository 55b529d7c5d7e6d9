//! Why a rollback could not be planned or sent, with what the operator needs to act on it:
//! the circuit, release, operation or file concerned, and the service's own error (URL, status,
//! request id) where one answered. A refusal sent nothing; a failure says what it knows about
//! what was sent.

use std::sync::Arc;

use crate::audit::AuditError;
use crate::domain::platform::StageRef;
use crate::domain::rollback::TargetError;
use crate::domain::{CircuitRef, ModelVersion};
use crate::service::backend::BackendError;
use crate::service::journal::JournalError;

/// Why a circuit's rollback cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0} is not in the fleet")]
    NotInFleet(CircuitRef),
    /// No version fits the target asked for.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A redeploy needs the release that deployed the target, and the snapshot does not have it.
    #[error("release {0} is not in the snapshot; refresh and try again")]
    ReleaseNotInSnapshot(u32),
    #[error("{release} has no Production stage")]
    NoProductionStage { release: String },
    /// `RollbackMethod::Pipeline` where the release flavour has no rollback pipeline.
    #[error(
        "this release flavour has no rollback pipeline (classic releases): roll back by redeploy or direct"
    )]
    NoRollbackPipeline,
}

/// Why an environment rollback cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentPlanError {
    #[error("no environment-only release has reached Production: nothing to roll back")]
    NothingToRollBack,
    #[error("{release} does not say which environment it replaced")]
    PreviousUnknown { release: String },
    #[error("every Prod deployment already runs environment {0}")]
    AlreadyEverywhere(String),
}

/// Why a rollback was not started, or not (all) sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecuteError {
    /// Nothing was sent: policy or the service's state says no.
    #[error("refused: {0}")]
    Refused(RollbackRefusal),
    /// It could not be sent, or what was sent did not take; the journal has the details.
    #[error("{0}")]
    Failed(RollbackFailure),
}

impl From<RollbackRefusal> for ExecuteError {
    fn from(r: RollbackRefusal) -> Self {
        ExecuteError::Refused(r)
    }
}

impl From<RollbackFailure> for ExecuteError {
    fn from(f: RollbackFailure) -> Self {
        ExecuteError::Failed(f)
    }
}

/// Why a rollback is refused before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackRefusal {
    /// relcon's policy (read-only, say), with every reason.
    #[error("{}", .0.join("; "))]
    Policy(Vec<String>),
    /// The release a redeploy would re-run is deploying to Production right now.
    #[error("{release} is already deploying to Production")]
    AlreadyDeploying { release: String },
    /// Prod already runs the target, and its provisioning succeeded.
    #[error("{circuit} already runs v{version} in Prod")]
    AlreadyRunning {
        circuit: CircuitRef,
        version: ModelVersion,
    },
}

/// Why a rollback could not be sent, or did not take.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RollbackFailure {
    /// The re-read right before sending failed: nothing was sent.
    #[error("{0}")]
    Reread(Box<BackendError>),
    /// The release no longer has the environment the plan redeploys.
    #[error("release {release_id} has no environment {environment_id}")]
    NoSuchEnvironment {
        release_id: u32,
        environment_id: StageRef,
    },
    /// The journal could not take the operation (or its send claim): nothing was sent.
    #[error("not sent: {0}")]
    NotJournaled(Arc<JournalError>),
    /// Another relcon process holds the operation's send claim: it sends, not this one.
    #[error("not sent: operation {0} is claimed by another relcon process")]
    Claimed(String),
    /// The audit log could not take the "sending" entry: nothing was sent.
    #[error("{}", audit_refusal(.0))]
    NotAudited(Arc<AuditError>),
    /// The operation was not done: the service refused or failed it, or it was found never
    /// sent. `why` is what the journal says.
    #[error("{why}")]
    NotDone { operation: String, why: String },
    /// The request was answered but the journal could not take the answer.
    #[error("{0}")]
    AnswerNotJournaled(Arc<JournalError>),
    /// An operation journaled before a stop: the service could not be read to tell whether
    /// it went out, so it was not sent again.
    #[error(
        "operation {operation} was journaled but relcon cannot tell whether it was sent (the \
         re-read failed: {source}); nothing was sent again: run the same command again"
    )]
    CannotTellIfSent {
        operation: String,
        source: Box<BackendError>,
    },
    /// The same for the steps of an environment rollback, naming each step not re-read.
    #[error(
        "operation {operation} was journaled but relcon cannot tell whether all of it was \
         sent (re-reading failed for {}); nothing was sent again: run the same command again",
        .unsure.join("; ")
    )]
    CannotTellIfAllSent {
        operation: String,
        unsure: Vec<String>,
    },
    /// An operation journaled before a stop, found not sent: sending it now failed.
    #[error(
        "operation {operation} was journaled but not sent (relcon stopped before sending it); \
         sending it now failed: {source}"
    )]
    ResendFailed {
        operation: String,
        source: Box<ExecuteError>,
    },
    #[error("operation {0} is not a rollback of a circuit")]
    NotACircuitRollback(String),
    /// Who is asking could not be read (the audit log and DevOps need a name).
    #[error("cannot tell who you are: {0}")]
    Operator(Box<BackendError>),
    /// The task that ran the rollback ended without an answer (it panicked or was cancelled).
    #[error("background task failed: {0}")]
    Task(String),
}

/// Why a change was not sent when the audit log cannot take its entry, and how to repair it.
pub fn audit_refusal(e: &AuditError) -> String {
    format!(
        "not sent: the audit log cannot record it, and nothing changes off the record ({e}); {}",
        e.repair()
    )
}
