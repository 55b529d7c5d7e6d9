//! The operation journal: every mutation is written here (fsynced) before it is sent, and
//! updated as it progresses, one JSON file per operation in the state dir. After a crash the
//! next start finds every unfinished operation and resumes tracking it; an operation whose
//! request may never have left is re-read before anything is sent again.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backend::OperationHandle;
use super::clock::SharedClock;
use crate::domain::incidents::AlertState;
use crate::domain::release_ids::{ApprovalId, StageRef};
use crate::domain::rollback::RollbackMethod;
use crate::domain::watch::Watch;
use crate::domain::{CircuitRef, ModelVersion, Stage};

/// Where an operation stands. Only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpState {
    /// Journaled; the request is about to be sent (or was, and the answer was lost).
    Submitting,
    /// The service accepted it.
    Submitted,
    /// The service reports it running.
    InProgress,
    /// The service reports it done; relcon has not yet confirmed the result.
    Succeeded,
    /// Confirmed by re-reading the state: the end of a good operation.
    Verified,
    /// The service reports failure, or verification found the wrong state.
    Failed,
    /// A re-read after a crash showed the request never reached the service.
    NotSent,
}

impl OpState {
    /// No more tracking to do.
    pub fn is_final(self) -> bool {
        matches!(self, OpState::Verified | OpState::Failed | OpState::NotSent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OpState::Submitting => "submitting",
            OpState::Submitted => "submitted",
            OpState::InProgress => "in progress",
            OpState::Succeeded => "succeeded",
            OpState::Verified => "verified",
            OpState::Failed => "failed",
            OpState::NotSent => "not sent",
        }
    }
}

/// One circuit's part of a multi-deployment operation (an environment rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub circuit: CircuitRef,
    pub endpoint: String,
    pub deployment: String,
    pub from: Option<String>,
    pub to: String,
    pub state: OpState,
    pub handle: Option<OperationHandle>,
    pub error: Option<String>,
}

/// What the operation does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OpKind {
    /// The ids are opaque (a classic number, a YAML GUID or stage reference); journals written
    /// when they were `u32` read back unchanged (numbers are read as references).
    Approve {
        approval_id: ApprovalId,
        release_id: u32,
        environment_id: StageRef,
        stage: Stage,
    },
    Reject {
        approval_id: ApprovalId,
        release_id: u32,
        environment_id: StageRef,
        stage: Stage,
    },
    Rollback {
        circuit: CircuitRef,
        method: RollbackMethod,
        from: Option<ModelVersion>,
        to: ModelVersion,
        endpoint: String,
        deployment: String,
        /// Redeploy: the release and its Production environment.
        release_id: Option<u32>,
        environment_id: Option<StageRef>,
        /// Redeploy: the environment's attempts before the request, to tell whether it went out.
        attempts_before: Option<u32>,
        /// Rollback pipeline: the run queued, once DevOps named it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollback_run: Option<u32>,
    },
    EnvironmentRollback {
        from: String,
        to: String,
    },
    /// Acknowledge, close or reopen an Azure Monitor alert (`Alerts_ChangeState`).
    AlertChange {
        /// The alert's ARM id.
        alert: String,
        /// Its rule's name, for people.
        rule: String,
        /// The circuit it is about, when relcon can tell.
        #[serde(default)]
        circuit: Option<CircuitRef>,
        /// Its state when re-read right before the change, and the state asked for.
        old_state: AlertState,
        new_state: AlertState,
    },
    /// A batch scoring job started again with a failed job's inputs (POST on the endpoint's
    /// scoring URI), or a test inference after a verified rollback.
    JobRetry {
        circuit: CircuitRef,
        stage: Stage,
        endpoint: String,
        deployment: String,
        /// The job whose inputs were taken (the failed one).
        from_job: String,
        /// The new job's name, chosen and journaled before anything is sent.
        job: String,
        /// The new job's status as last read (Azure ML's `JobStatus`, as it spells it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job_status: Option<String>,
        /// A test inference after this verified rollback (`[incidents] test_inference`),
        /// rather than an operator's retry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_rollback: Option<String>,
    },
}

/// A journaled operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    #[serde(flatten)]
    pub kind: OpKind,
    pub actor: String,
    pub requested_at: DateTime<Utc>,
    /// The rollback budget (rollbacks only).
    pub sla_minutes: Option<u32>,
    pub state: OpState,
    pub handle: Option<OperationHandle>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub request_ids: Vec<String>,
    pub reason: Option<String>,
    pub last_error: Option<String>,
    /// What the operation waits on that is not the service's own work (a redeploy waiting for
    /// the stage's approvals again), while it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The backend it was sent to (the session's cache key: the Azure subscription, workspace
    /// and DevOps project, or the simulator). Only that backend resumes it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backend: String,
    /// A verified rollback's watch of its circuit (`[incidents] watch_minutes`); absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<Watch>,
}

impl Operation {
    pub fn new(
        kind: OpKind,
        actor: &str,
        sla_minutes: Option<u32>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Operation {
        Operation {
            id: format!(
                "{}-{:04x}",
                now.format("%Y%m%dT%H%M%S%3fZ"),
                fastrand::u16(..)
            ),
            kind,
            actor: actor.to_owned(),
            requested_at: now,
            sla_minutes,
            state: OpState::Submitting,
            handle: None,
            steps: Vec::new(),
            request_ids: Vec::new(),
            reason,
            last_error: None,
            waiting: None,
            submitted_at: None,
            completed_at: None,
            verified_at: None,
            updated_at: now,
            backend: String::new(),
            watch: None,
        }
    }

    /// Move forward only: a late poll never takes a verified operation back to in progress.
    pub fn advance(&mut self, to: OpState, now: DateTime<Utc>) {
        if to > self.state || (self.state == OpState::Submitting && to == OpState::NotSent) {
            self.state = to;
            match to {
                OpState::Submitted => self.submitted_at = self.submitted_at.or(Some(now)),
                OpState::Succeeded | OpState::Failed => {
                    self.completed_at = self.completed_at.or(Some(now))
                }
                OpState::Verified => {
                    self.completed_at = self.completed_at.or(Some(now));
                    self.verified_at = Some(now);
                }
                _ => {}
            }
        }
    }

    /// A one-line target: `PLANT007/CIRCUIT03`, `approval 502 (release 41, Production)`.
    pub fn target(&self) -> String {
        match &self.kind {
            OpKind::Approve {
                approval_id,
                release_id,
                stage,
                ..
            }
            | OpKind::Reject {
                approval_id,
                release_id,
                stage,
                ..
            } => {
                format!(
                    "approval {approval_id} (release {release_id}, {})",
                    stage.release_environment().unwrap_or("?")
                )
            }
            OpKind::Rollback { circuit, .. } => circuit.to_string(),
            OpKind::EnvironmentRollback { from, to } => {
                format!("all Prod deployments, environment {from} -> {to}")
            }
            OpKind::AlertChange { rule, circuit, .. } => match circuit {
                Some(c) => format!("alert {rule} on {c}"),
                None => format!("alert {rule}"),
            },
            OpKind::JobRetry {
                circuit,
                stage,
                from_job,
                ..
            } => format!("{circuit} {stage} scoring job {from_job}"),
        }
    }

    pub fn action(&self) -> &'static str {
        match &self.kind {
            OpKind::Approve { .. } => "approve",
            OpKind::Reject { .. } => "reject",
            OpKind::Rollback { .. } => "rollback",
            OpKind::EnvironmentRollback { .. } => "rollback-environment",
            OpKind::AlertChange { new_state, .. } => match new_state {
                AlertState::Acknowledged => "acknowledge-alert",
                AlertState::Closed => "close-alert",
                _ => "reopen-alert",
            },
            OpKind::JobRetry {
                after_rollback: Some(_),
                ..
            } => "test-inference",
            OpKind::JobRetry { .. } => "retry-job",
        }
    }

    /// Free text (the reason, errors, what it waits on) without credentials, before it is
    /// written or shown: an error can echo what a service was sent.
    pub fn redact(&mut self) {
        use crate::redact::redact;
        for text in [&mut self.reason, &mut self.last_error, &mut self.waiting]
            .into_iter()
            .flatten()
        {
            *text = redact(text);
        }
        for s in &mut self.steps {
            if let Some(e) = &mut s.error {
                *e = redact(e);
            }
        }
    }

    /// Time from request to verified restore; never negative. The two stamps can come from
    /// different processes (a resumed operation is verified by the run that resumed it), and a
    /// wall clock can step back between them (NTP, a test's pinned clock restarting).
    pub fn time_to_verified(&self) -> Option<chrono::Duration> {
        Some((self.verified_at? - self.requested_at).max(chrono::Duration::zero()))
    }
}

/// The right to send one operation (see [`Journal::claim`]); released when dropped.
#[derive(Debug)]
pub struct SendClaim {
    _file: std::fs::File,
}

#[derive(Debug, thiserror::Error)]
#[error("operation journal {path}: {source}")]
pub struct JournalError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// The journal directory (`$XDG_STATE_HOME/relcon/ops`).
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    /// The backend this session talks to; stamped on every operation saved, and the only one
    /// whose unfinished operations it resumes. An operation sent to one Azure project is never
    /// tracked (or worse, re-read and judged) against another, nor a demo one against Azure.
    scope: String,
    /// What `updated_at` is stamped from (the session's clock).
    clock: SharedClock,
}

impl Journal {
    pub fn new(dir: impl Into<PathBuf>) -> Journal {
        Journal {
            dir: dir.into(),
            scope: String::new(),
            clock: super::clock::system(),
        }
    }

    /// The same journal, stamping times from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Journal {
        self.clock = clock;
        self
    }

    /// Now, by this journal's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The same journal, for the backend named `scope` (see [`Journal::unfinished`]).
    pub fn scoped(mut self, scope: impl Into<String>) -> Journal {
        self.scope = scope.into();
        self
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self, source: std::io::Error) -> JournalError {
        JournalError {
            path: self.dir.display().to_string(),
            source,
        }
    }

    /// Write an operation durably (temp file, fsync, rename, fsync the directory).
    pub fn save(&self, op: &mut Operation) -> Result<(), JournalError> {
        crate::private_files::create_dir_all(&self.dir).map_err(|e| self.err(e))?;
        op.updated_at = self.clock.now();
        op.redact();
        if op.backend.is_empty() {
            op.backend.clone_from(&self.scope);
        }
        let body = serde_json::to_vec_pretty(op).map_err(|e| self.err(std::io::Error::other(e)))?;
        let path = self.dir.join(format!("{}.json", op.id));
        let tmp = self.dir.join(format!(".{}.tmp", op.id));
        crate::private_files::write_synced(&tmp, &body).map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.err(e))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        if op.state.is_final() {
            // Nobody sends a finished operation; whoever still holds a claim re-reads first.
            let _ = std::fs::remove_file(self.lock_path(&op.id));
        }
        Ok(())
    }

    /// Claim the right to send operation `id`: an exclusive lock held from before it is
    /// journaled until the service's answer is, so that a second relcon (a rerun, the console
    /// resuming the journal) never judges or sends an operation another one is sending right
    /// now. `None`: another live process holds it. The kernel drops the lock when its holder
    /// dies, `kill -9` included; whoever claims next re-reads the journal and the service.
    pub fn claim(&self, id: &str) -> Result<Option<SendClaim>, JournalError> {
        crate::private_files::create_dir_all(&self.dir).map_err(|e| self.err(e))?;
        let file = crate::private_files::open(
            &self.lock_path(id),
            crate::private_files::open_options()
                .create(true)
                .truncate(false)
                .write(true),
        )
        .map_err(|e| self.err(e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SendClaim { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(self.err(e)),
        }
    }

    fn lock_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!(".{id}.lock"))
    }

    pub fn load(&self, id: &str) -> Option<Operation> {
        let text = std::fs::read(self.dir.join(format!("{id}.json"))).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Every operation, newest first. Unreadable files are skipped (and reported by `ops`).
    pub fn all(&self) -> Vec<Operation> {
        self.read_all().0
    }

    /// Every operation, newest first, and what could not be read (a file that cannot be
    /// opened or is not an operation: `path: why`). A journal directory that does not exist
    /// yet is empty, not an error.
    pub fn read_all(&self) -> (Vec<Operation>, Vec<String>) {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
            Err(e) => return (Vec::new(), vec![format!("{}: {e}", self.dir.display())]),
        };
        let mut ops = Vec::new();
        let mut problems = Vec::new();
        let paths = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"));
        for p in paths {
            // Written by an older relcon under a 022 umask: the user's alone from now on.
            let _ = crate::private_files::tighten(&p, crate::private_files::FILE_MODE);
            match std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Operation>(&b).map_err(|e| e.to_string()))
            {
                Ok(op) => ops.push(op),
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            }
        }
        ops.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then(b.id.cmp(&a.id)));
        problems.sort();
        (ops, problems)
    }

    /// Operations still to track on this journal's backend (operations saved before backends
    /// were recorded count as this one's).
    pub fn unfinished(&self) -> Vec<Operation> {
        self.all()
            .into_iter()
            .filter(|o| !o.state.is_final() && self.owns(o))
            .collect()
    }

    /// Unfinished operations that belong to another backend: shown, never tracked here.
    pub fn elsewhere(&self) -> Vec<Operation> {
        self.all()
            .into_iter()
            .filter(|o| !o.state.is_final() && !self.owns(o))
            .collect()
    }

    /// Whether `op` belongs to this journal's backend.
    pub fn owns(&self, op: &Operation) -> bool {
        op.backend.is_empty() || self.scope.is_empty() || op.backend == self.scope
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
