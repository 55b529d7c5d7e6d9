//! A session: one backend, its context, the caches. The TUI and every CLI command work through
//! one; it is cheap to clone, so effects run as tokio tasks each holding a clone.

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::clock::SharedClock;

use super::Context;
use super::approval::{self, ApprovalEvidence};
use super::backend::{Backend, BackendError};
use super::cache::Cache;
use super::evidence::{self, CircuitEvidence, ConfigComparison, ConfigStore, VersionInfo};
use super::journal::Journal;
use super::models::ModelBook;
use super::snapshot::{self, Known};
use crate::audit::AuditLog;
use crate::domain::fleet::{ApprovalItem, FleetSnapshot};
use crate::domain::platform::Identity;
use crate::domain::{CircuitRef, ModelVersion};

/// Where a session keeps its state: the operation journal and the audit log.
#[derive(Debug, Clone)]
pub struct StateDirs {
    pub journal: Journal,
    pub audit: AuditLog,
}

impl StateDirs {
    /// `$XDG_STATE_HOME/relcon` (the data dir where there is no state dir).
    pub fn default_root() -> Option<std::path::PathBuf> {
        crate::settings::dirs().map(|d| d.state_dir().unwrap_or(d.data_local_dir()).to_path_buf())
    }

    /// `$XDG_STATE_HOME/relcon/{ops,audit.jsonl}`.
    pub fn default_dirs() -> Option<StateDirs> {
        Some(StateDirs::under(&Self::default_root()?))
    }

    /// `$XDG_STATE_HOME/relcon/demo/{ops,audit.jsonl}`: the built-in simulator's world lives
    /// only as long as the process, so what is done to it never mixes with the record of what
    /// was done to real Azure.
    pub fn default_demo_dirs() -> Option<StateDirs> {
        Some(StateDirs::under(&Self::default_root()?.join("demo")))
    }

    /// Both under one directory (tests, `--state-dir`).
    pub fn under(dir: &std::path::Path) -> StateDirs {
        StateDirs {
            journal: Journal::new(dir.join("ops")),
            audit: AuditLog::new(dir.join("audit.jsonl")),
        }
    }
}

#[derive(Clone)]
pub struct Session {
    backend: Arc<dyn Backend>,
    ctx: Arc<Context>,
    cache: Cache,
    configs: ConfigStore,
    state: StateDirs,
    identity: Arc<tokio::sync::OnceCell<Identity>>,
    /// Where "now" comes from: the system's clock, or the simulator's in the demo and tests.
    clock: SharedClock,
    /// The last refresh's releases, for the next refresh to read only what changed.
    releases: Arc<std::sync::Mutex<Option<Arc<snapshot::ReleaseBook>>>>,
    /// The last refresh's model versions (from the disk cache at first), likewise.
    models: Arc<std::sync::Mutex<Option<Arc<ModelBook>>>>,
    /// The last refresh's Prod scoring job lists (from the disk cache at first), likewise.
    jobs: Arc<std::sync::Mutex<Option<Arc<super::incidents::JobBook>>>>,
    /// Things that must live as long as the session (the in-process simulator).
    _keepalive: Option<Arc<dyn Any + Send + Sync>>,
}

impl Session {
    pub fn new(
        backend: Arc<dyn Backend>,
        ctx: Context,
        cache: Cache,
        mut state: StateDirs,
    ) -> Session {
        state.journal = state.journal.scoped(ctx.cache_key.clone());
        let configs = ConfigStore::new(cache.load_configs(&ctx.cache_key));
        let models = cache.load_model_book(&ctx.cache_key).map(Arc::new);
        let jobs = cache.load_job_book(&ctx.cache_key).map(Arc::new);
        Session {
            backend,
            ctx: Arc::new(ctx),
            cache,
            configs,
            state,
            identity: Arc::new(tokio::sync::OnceCell::new()),
            clock: super::clock::system(),
            releases: Arc::default(),
            models: Arc::new(std::sync::Mutex::new(models)),
            jobs: Arc::new(std::sync::Mutex::new(jobs)),
            _keepalive: None,
        }
    }

    /// The same session on `clock` (its journal and audit log too).
    pub fn with_clock(mut self, clock: SharedClock) -> Session {
        self.state.journal = self.state.journal.with_clock(clock.clone());
        self.state.audit = self.state.audit.with_clock(clock.clone());
        self.clock = clock;
        self
    }

    /// Now, by the session's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn journal(&self) -> &Journal {
        &self.state.journal
    }

    pub fn audit(&self) -> &AuditLog {
        &self.state.audit
    }

    /// The operator, as DevOps knows them (read once per session).
    pub async fn identity(&self) -> Result<Identity, BackendError> {
        self.identity
            .get_or_try_init(|| self.backend.identity())
            .await
            .cloned()
    }

    /// Keep `thing` alive as long as any clone of this session.
    pub fn keep_alive(mut self, thing: Arc<dyn Any + Send + Sync>) -> Session {
        self._keepalive = Some(thing);
        self
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The last snapshot of this backend from the disk cache, for an instant first frame.
    pub fn cached_snapshot(&self) -> Option<FleetSnapshot> {
        self.cache.load_snapshot(&self.ctx.cache_key)
    }

    /// Read the whole fleet (what can have changed since the last refresh), assemble the
    /// snapshot and cache it when it is complete (and the configs and model versions read).
    pub async fn refresh(&self) -> FleetSnapshot {
        let started = std::time::Instant::now();
        let now = self.now();
        let releases = self
            .releases
            .lock()
            .ok()
            .and_then(|b| b.clone())
            .filter(|b| now - b.full_read_at < snapshot::FULL_RELEASE_READ_EVERY);
        let known = Known {
            now,
            configs: self.configs.snapshot(),
            releases,
            models: self.models.lock().ok().and_then(|b| b.clone()),
            identity: self.identity.get().cloned(),
            jobs: self.jobs.lock().ok().and_then(|b| b.clone()),
        };
        let readings = snapshot::read(self.backend.as_ref(), &self.ctx, &known).await;
        for ((path, commit), text) in &readings.configs {
            if let Ok(t) = text {
                self.configs.insert(path, commit, t.clone());
            }
        }
        let snap = snapshot::assemble(&readings, &self.ctx, self.now());
        tracing::info!(
            circuits = snap.circuit_count(),
            errors = snap.errors.len(),
            complete = snap.is_complete(),
            versions_reused = readings.reused_versions.len(),
            ms = started.elapsed().as_millis() as u64,
            "refresh done"
        );
        for e in &snap.errors {
            tracing::warn!(scope = %e.scope, error = %e.message, "could not read");
        }
        // What the next refresh knows; the release list and model versions move into the books.
        let next = known.after(readings);
        if let Some(i) = next.identity {
            let _ = self.identity.set(i);
        }
        if let Ok(mut b) = self.releases.lock() {
            *b = next.releases;
        }
        if let Some(book) = next.jobs {
            if let Err(e) = self.cache.store_job_book(&self.ctx.cache_key, &book) {
                tracing::warn!("cannot write the scoring job cache: {e}");
            }
            if let Ok(mut b) = self.jobs.lock() {
                *b = Some(book);
            }
        }
        if let Some(book) = next.models {
            if let Err(e) = self.cache.store_model_book(&self.ctx.cache_key, &book) {
                tracing::warn!("cannot write the model version cache: {e}");
            }
            if let Ok(mut b) = self.models.lock() {
                *b = Some(book);
            }
        }
        // Only a complete snapshot replaces the cached one: the stale view a failed or partial
        // refresh falls back on is always the last good fleet. A cache that cannot be written
        // only costs the next start its head start.
        if snap.is_complete() {
            if let Err(e) = self.cache.store_snapshot(&self.ctx.cache_key, &snap) {
                tracing::warn!("cannot write the snapshot cache: {e}");
            }
        } else {
            tracing::info!(
                errors = snap.errors.len(),
                "refresh incomplete; the cached snapshot is kept"
            );
        }
        if let Err(e) = self
            .cache
            .store_configs(&self.ctx.cache_key, &self.configs.snapshot())
        {
            tracing::warn!("cannot write the config cache: {e}");
        }
        snap
    }

    /// A circuit's evidence: versions, deployments, Prod vs candidate config, Prod history.
    pub async fn circuit_evidence(
        &self,
        snapshot: &FleetSnapshot,
        circuit: &CircuitRef,
    ) -> CircuitEvidence {
        evidence::load_circuit(
            self.backend.as_ref(),
            &self.ctx,
            snapshot,
            &self.configs,
            circuit,
        )
        .await
    }

    /// Evidence for an approval: per-circuit diffs against Prod, grouped; the test gate.
    pub async fn approval_evidence(
        &self,
        snapshot: &FleetSnapshot,
        item: &ApprovalItem,
    ) -> ApprovalEvidence {
        approval::load(
            self.backend.as_ref(),
            &self.ctx,
            snapshot,
            &self.configs,
            item,
        )
        .await
    }

    /// Compare the configs of any two versions of a circuit.
    pub async fn compare(
        &self,
        circuit: &CircuitRef,
        versions: &[VersionInfo],
        old: ModelVersion,
        new: ModelVersion,
    ) -> ConfigComparison {
        evidence::compare(
            self.backend.as_ref(),
            &self.ctx,
            &self.configs,
            circuit,
            versions,
            old,
            new,
        )
        .await
    }
}
