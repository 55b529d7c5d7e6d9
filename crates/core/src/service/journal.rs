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

    /// Time from request to verified restore.
    pub fn time_to_verified(&self) -> Option<chrono::Duration> {
        Some(self.verified_at? - self.requested_at)
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
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        crate::domain::clock::pinned_start()
    }

    fn rollback() -> Operation {
        Operation::new(
            OpKind::Rollback {
                circuit: "PLANT007/CIRCUIT03".parse().unwrap(),
                method: RollbackMethod::Redeploy,
                from: Some(ModelVersion(6)),
                to: ModelVersion(4),
                endpoint: "batch-endpoint-plant007".into(),
                deployment: "deployment-circuit03".into(),
                release_id: Some(40),
                environment_id: Some(403.into()),
                attempts_before: Some(1),
            },
            "bob@contoso.com",
            Some(15),
            Some("MAE alert".into()),
            t0(),
        )
    }

    /// A user upgrading mid-operation: an unfinished redeploy and an approval journaled by
    /// the release that held classic `u32` ids are found, read with the same ids, and written
    /// back as they were; a YAML operation's GUID and stage reference round-trip as text.
    #[test]
    fn journals_written_with_u32_ids_resume_and_yaml_ids_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let old_rollback = r#"{"id":"20261126T080000000Z-00aa","kind":"rollback",
            "circuit":"PLANT007/CIRCUIT03","method":"redeploy","from":6,"to":4,
            "endpoint":"batch-endpoint-plant007","deployment":"deployment-circuit03",
            "release_id":40,"environment_id":403,"attempts_before":1,
            "actor":"bob@contoso.com","requested_at":"2026-11-26T08:00:00Z","sla_minutes":15,
            "state":"submitted","handle":null,"steps":[],"request_ids":["r-1"],
            "reason":"MAE alert","last_error":null,"submitted_at":"2026-11-26T08:00:01Z",
            "completed_at":null,"verified_at":null,"updated_at":"2026-11-26T08:00:01Z"}"#;
        let old_approval = r#"{"id":"20261126T080000000Z-00bb","kind":"approve",
            "approval_id":502,"release_id":41,"environment_id":413,"stage":"prod",
            "actor":"bob@contoso.com","requested_at":"2026-11-26T08:00:00Z","sla_minutes":null,
            "state":"submitting","handle":null,"reason":null,"last_error":null,
            "submitted_at":null,"completed_at":null,"verified_at":null,
            "updated_at":"2026-11-26T08:00:00Z"}"#;
        for (name, text) in [("00aa", old_rollback), ("00bb", old_approval)] {
            let path = dir.path().join(format!("20261126T080000000Z-{name}.json"));
            std::fs::write(path, text).unwrap();
        }
        let j = Journal::new(dir.path());
        let unfinished = j.unfinished();
        assert_eq!(
            unfinished.len(),
            2,
            "both old operations are found to resume"
        );
        let rollback = j.load("20261126T080000000Z-00aa").unwrap();
        let OpKind::Rollback {
            environment_id,
            release_id,
            ..
        } = &rollback.kind
        else {
            panic!("{:?}", rollback.kind)
        };
        assert_eq!(
            (*release_id, environment_id.clone()),
            (Some(40), Some(403.into()))
        );
        assert_eq!(rollback.state, OpState::Submitted);
        let approval = j.load("20261126T080000000Z-00bb").unwrap();
        let OpKind::Approve {
            approval_id,
            environment_id,
            ..
        } = &approval.kind
        else {
            panic!("{:?}", approval.kind)
        };
        assert_eq!(
            (approval_id.clone(), environment_id.clone()),
            (502.into(), 413.into())
        );
        assert_eq!(approval.target(), "approval 502 (release 41, Production)");
        // Written back by this version, the classic ids are the same numbers.
        let back: serde_json::Value = serde_json::to_value(&approval).unwrap();
        assert_eq!(back["approval_id"], serde_json::json!(502));
        assert_eq!(back["environment_id"], serde_json::json!(413));

        let guid = "7f3c1c2e-6a41-4a5e-9f6d-0d9f3b6c2a10";
        let mut yaml = Operation::new(
            OpKind::Approve {
                approval_id: guid.into(),
                release_id: 812,
                environment_id: "812:DeployToProduction".into(),
                stage: Stage::Prod,
            },
            "bob@contoso.com",
            None,
            None,
            t0(),
        );
        j.save(&mut yaml).unwrap();
        let again = Journal::new(dir.path()).load(&yaml.id).unwrap();
        assert_eq!(again, yaml);
        assert!(again.target().starts_with(&format!("approval {guid} ")));
    }

    #[test]
    fn operations_survive_a_restart_and_unfinished_ones_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        let mut a = rollback();
        j.save(&mut a).unwrap();
        let mut b = rollback();
        b.id.push_str("-b");
        b.advance(OpState::Submitted, t0());
        b.advance(OpState::Verified, t0());
        j.save(&mut b).unwrap();
        let again = Journal::new(dir.path());
        assert_eq!(again.load(&a.id), Some(a.clone()));
        let unfinished = again.unfinished();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(unfinished[0].id, a.id);
        assert_eq!(again.all().len(), 2);
        assert!(b.time_to_verified().is_some());
    }

    #[test]
    fn only_the_backend_an_operation_was_sent_to_resumes_it() {
        let dir = tempfile::tempdir().unwrap();
        let azure = Journal::new(dir.path()).scoped("azure:sub:prod:org:proj");
        let mut a = rollback();
        azure.save(&mut a).unwrap();
        assert_eq!(a.backend, "azure:sub:prod:org:proj");
        let mut legacy = rollback();
        legacy.id.push_str("-legacy");
        Journal::new(dir.path()).save(&mut legacy).unwrap();

        let demo = Journal::new(dir.path()).scoped("simulator:embedded-demo");
        let ids = |ops: Vec<Operation>| ops.into_iter().map(|o| o.id).collect::<Vec<_>>();
        assert_eq!(ids(demo.unfinished()), vec![legacy.id.clone()]);
        assert_eq!(ids(demo.elsewhere()), vec![a.id.clone()]);
        let mut both = ids(azure.unfinished());
        both.sort();
        let mut want = vec![a.id.clone(), legacy.id.clone()];
        want.sort();
        assert_eq!(both, want);
        assert!(azure.elsewhere().is_empty());
    }

    #[test]
    fn one_process_at_a_time_may_send_an_operation() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        let mut op = rollback();
        let claim = j.claim(&op.id).unwrap().expect("the first claim");
        assert!(j.claim(&op.id).unwrap().is_none(), "held by the first");
        drop(claim);
        let again = j.claim(&op.id).unwrap().expect("released on drop");
        j.save(&mut op).unwrap();
        drop(again);
        op.advance(OpState::NotSent, t0());
        j.save(&mut op).unwrap();
        assert!(!dir.path().join(format!(".{}.lock", op.id)).exists());
        assert_eq!(j.all().len(), 1, "lock files are not operations");
    }

    #[cfg(unix)]
    #[test]
    fn journal_files_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ops");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = dir.join("20250101T000000000Z-0001.json");
        let mut legacy = rollback();
        legacy.id = "20250101T000000000Z-0001".into();
        std::fs::write(&old, serde_json::to_vec(&legacy).unwrap()).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let j = Journal::new(&dir);
        let mut op = rollback();
        j.save(&mut op).unwrap();
        let mode = |p: &std::path::Path| crate::private_files::mode(p).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(format!("{}.json", op.id))), 0o600);
        assert_eq!(j.all().len(), 2);
        assert_eq!(
            mode(&old),
            0o600,
            "an older relcon's file, tightened when read"
        );
    }

    #[test]
    fn state_only_moves_forward() {
        let mut op = rollback();
        op.advance(OpState::InProgress, t0());
        op.advance(OpState::Submitted, t0());
        assert_eq!(op.state, OpState::InProgress);
        op.advance(OpState::Verified, t0());
        op.advance(OpState::InProgress, t0());
        assert_eq!(op.state, OpState::Verified);
        assert!(op.verified_at.is_some() && op.completed_at.is_some());
        let mut lost = rollback();
        lost.advance(OpState::NotSent, t0());
        assert_eq!(lost.state, OpState::NotSent);
        assert!(lost.state.is_final());
    }

    #[test]
    fn journal_files_hold_no_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        let mut op = rollback();
        j.save(&mut op).unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("{}.json", op.id))).unwrap();
        assert!(
            text.contains("\"kind\": \"rollback\"") && text.contains("PLANT007/CIRCUIT03"),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("bearer") && !text.contains("token"));
    }

    #[test]
    fn credentials_in_reasons_and_errors_are_redacted_before_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        let pat = "k3n5q7r2t4v6x8z2b4d6f8h2j4l6n8p2r4t6v8x2z4b6d8f2h4jq";
        let mut op = rollback();
        op.reason = Some(format!("incident, pat={pat}"));
        op.last_error = Some(format!("GET https://x?sig={pat}: HTTP 403"));
        op.waiting = Some(format!("bearer:{pat}"));
        op.steps.push(Step {
            circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
            endpoint: "e".into(),
            deployment: "d".into(),
            from: None,
            to: "1.4.2".into(),
            state: OpState::Failed,
            handle: None,
            error: Some(format!("Authorization: Basic {pat}")),
        });
        j.save(&mut op).unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("{}.json", op.id))).unwrap();
        assert!(!text.contains(pat), "{text}");
        assert_eq!(op.reason.as_deref(), Some("incident, pat=[redacted]"));
        assert_eq!(
            j.load(&op.id).unwrap().steps[0].error.as_deref(),
            Some("Authorization: Basic [redacted]")
        );
    }
}
