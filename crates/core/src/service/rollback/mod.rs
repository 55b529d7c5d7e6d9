//! Rolling back: a circuit to an earlier model version, or every Prod deployment to the
//! environment version before the current one. One module a step, in the order a rollback
//! takes them:
//!
//! - `plan`: what a circuit's rollback will do (target, method, requests, blast radius,
//!   warnings, config diff), from the snapshot;
//! - `environment`: the same for the environment;
//! - `execute`: the policy, what is already in flight, a re-read of the service, then
//!   journaled and sent once (`send`); a rerun re-reads and sends only what never went out;
//! - `track`: following an operation to a verified restore; resuming after a crash; what
//!   each answer of the service means is `judge`'s (pure);
//! - `record`: the audit entries and journal writes on the way (record, then act);
//! - `error`: why a rollback could not be planned or sent.
//!
//! The imports run one way: `execute` -> `send` -> `track` -> `judge`, and each of them ->
//! `record` -> `error`.

mod environment;
mod error;
mod execute;
mod judge;
mod plan;
mod record;
mod send;
mod track;

pub use environment::{EnvironmentPlan, environment_release, plan_environment};
pub use error::{
    EnvironmentPlanError, ExecuteError, PlanError, RollbackFailure, RollbackRefusal, audit_refusal,
};
pub use execute::{Rerun, execute, execute_environment, in_flight, rerun};
pub use plan::{RedeployTarget, RollbackPlan, RollbackRequest, plan, plan_from_snapshot};
pub use send::{PAUSE_BEFORE_SEND_ENV, pause_if_asked as pause_before_send};
pub use track::{Progress, STOPPED_BEFORE_SENDING, abandon_all, elapsed, resume_all, sla, track};
