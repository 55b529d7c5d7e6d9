//! Use cases shared by the TUI and the CLI. Nothing here knows a terminal exists.

pub mod alert_change;
pub mod approval;
pub mod backend;
pub mod cache;
pub mod clock;
pub mod configs;
pub mod decide;
pub mod evidence;
pub mod fanout;
pub mod incidents;
pub mod job_retry;
pub mod journal;
pub mod models;
pub mod op_audit;
pub mod queries;
pub mod releases;
pub mod rollback;
pub mod session;
pub mod snapshot;
pub mod watch;

use crate::domain::policy::ApprovalPolicy;
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, Thresholds};
use crate::settings::{Naming, Settings};

/// What every use case needs to know about the deployment it runs against, from the settings
/// and the command line.
#[derive(Debug, Clone)]
pub struct Context {
    /// One line naming the backend, for the status bar and snapshots.
    pub backend: String,
    /// What the disk cache is keyed by: stable across runs against the same deployment.
    pub cache_key: String,
    pub naming: Naming,
    pub thresholds: Thresholds,
    pub policy: ApprovalPolicy,
    pub rollback_sla_minutes: u32,
    pub default_rollback_method: RollbackMethod,
    /// The release flavour has a rollback pipeline (`RollbackMethod::Pipeline`): the port's
    /// `offers_rollback_run`, set by `Session::open`.
    pub rollback_run_offered: bool,
    /// `devops.config_path`, with `{plant}` and `{circuit}` for the upper-case ids.
    pub config_path_template: String,
    /// How many requests a refresh keeps in flight.
    pub concurrency: usize,
    /// The registry that Test and Prod deploy from (for direct rollbacks).
    pub registry: String,
    /// How often a rollback in flight is polled when the service gives no `Retry-After`.
    pub poll_interval: std::time::Duration,
    /// What alerts and scoring jobs are judged by (`[incidents]`).
    pub incidents: incidents::IncidentPolicy,
    /// How much of what it reads a refresh keeps (all of it, but for a one-shot `relcon fleet`:
    /// `OpenOptions::keep`).
    pub keep: queries::Keep,
}

impl Context {
    pub fn new(settings: &Settings, read_only: bool, backend: String) -> Context {
        let p = &settings.policy;
        Context {
            cache_key: backend.clone(),
            backend,
            naming: settings.naming.clone(),
            thresholds: settings.thresholds.clone(),
            policy: ApprovalPolicy {
                prod_min_approvers: p.prod_min_approvers,
                forbid_self_approval: p.forbid_self_approval,
                require_passing_tests: p.require_passing_tests,
                read_only: read_only || p.read_only,
            },
            rollback_sla_minutes: p.rollback_sla_minutes,
            default_rollback_method: p.default_rollback_method,
            rollback_run_offered: false,
            config_path_template: settings.devops.config_path.clone(),
            concurrency: settings.client.concurrency,
            registry: settings.registry.name.clone(),
            poll_interval: std::time::Duration::from_millis(settings.client.poll_interval_ms),
            incidents: incidents::IncidentPolicy::from_settings(settings),
            keep: queries::Keep::Full,
        }
    }

    /// Where a circuit's config lives in the config repository.
    pub fn config_path(&self, c: &CircuitRef) -> String {
        let path = self
            .config_path_template
            .replace("{plant}", c.plant.as_str())
            .replace("{circuit}", c.circuit.as_str());
        if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        }
    }
}
