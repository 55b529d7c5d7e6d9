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

    /// Where a session keeps its state: `state_dir` (`--state-dir`) when given, else the XDG
    /// state directory, or its `demo/` subdirectory for the built-in demo, so that nothing
    /// done to the demo world mixes with the record of what was done to real Azure.
    pub fn choose(
        state_dir: Option<&std::path::Path>,
        embedded_demo: bool,
    ) -> Result<StateDirs, OpenError> {
        match state_dir {
            Some(dir) => Some(StateDirs::under(dir)),
            None if embedded_demo => StateDirs::default_demo_dirs(),
            None => StateDirs::default_dirs(),
        }
        .ok_or(OpenError::NoStateDir)
    }

    /// Both under one directory (tests, `--state-dir`).
    pub fn under(dir: &std::path::Path) -> StateDirs {
        StateDirs {
            journal: Journal::new(dir.join("ops")),
            audit: AuditLog::new(dir.join("audit.jsonl")),
        }
    }
}

/// What a session is opened with besides the settings and the backend: the command line's
/// choices and the world the backend reaches.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// `--read-only`: every mutation is refused (as `policy.read_only`).
    pub read_only: bool,
    /// `--state-dir`: the journal and the audit log live here. Else the XDG state directory
    /// (its `demo/` subdirectory for the built-in demo).
    pub state_dir: Option<std::path::PathBuf>,
    /// Where the snapshot cache lives.
    pub cache: CacheChoice,
    /// Where "now" comes from; the system's clock when `None`.
    pub clock: Option<SharedClock>,
    /// The backend is the built-in demo simulator, started in-process: kept alive as long as
    /// the session, and its world lives only as long as the process (see [`Session::open`]).
    pub embedded_demo: Option<Arc<dyn Any + Send + Sync>>,
    /// How much of what it reads a refresh keeps: `FleetView` for a one-shot command that
    /// prints no series (`relcon fleet`) and stores the snapshot for the console's next start,
    /// `Printed` for one that stores nothing (`relcon fleet --no-cache`: only what it prints).
    pub keep: super::queries::Keep,
}

impl OpenOptions {
    /// A session of its own under `root` (its journal and audit log in `root/state`, its cache
    /// in `root/cache`) on `clock`: what a test or a bench opens.
    pub fn under(root: &std::path::Path, clock: SharedClock) -> OpenOptions {
        OpenOptions {
            state_dir: Some(root.join("state")),
            cache: CacheChoice::Dir(root.join("cache")),
            clock: Some(clock),
            ..OpenOptions::default()
        }
    }
}

/// Where a session's snapshot cache lives.
#[derive(Debug, Clone, Default)]
pub enum CacheChoice {
    /// `$XDG_CACHE_HOME/relcon`.
    #[default]
    Default,
    /// Under this directory (tests).
    Dir(std::path::PathBuf),
    /// No cache (`--no-cache`): every start reads everything.
    Disabled,
}

/// What a session keeps of its reads: `Printed` keeps too little to store (the cached
/// snapshot would list no releases or approvals, the model book would be written empty), so a
/// session with a cache keeps the fleet view instead.
fn kept(asked: super::queries::Keep, cache: &CacheChoice) -> super::queries::Keep {
    use super::queries::Keep;
    match (asked, cache) {
        (Keep::Printed, CacheChoice::Default | CacheChoice::Dir(_)) => Keep::FleetView,
        (keep, _) => keep,
    }
}

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no home directory for relcon's state; pass --state-dir")]
    NoStateDir,
}

/// The journal scope of a deployment: only the backend an operation was sent to may resume
/// it, so the journal is keyed by what identifies the deployment (the subscription, the Prod
/// workspace, the DevOps organisation and project), or by the demo when it is the built-in
/// simulator. The snapshot cache is keyed the same way.
pub fn deployment_key(settings: &crate::settings::Settings, embedded_demo: bool) -> String {
    let key = if embedded_demo {
        "simulator:embedded-demo".into()
    } else {
        format!(
            "azure:{}:{}:{}:{}",
            settings.azure.subscription_id,
            settings.workspaces.prod.name,
            settings.devops.organization,
            settings.devops.project
        )
    };
    // An operation sent through one release flavour names its approvals and stages in that
    // flavour's ids: only that flavour may resume it. Classic keeps the key it always had, so
    // journals and caches written before YAML pipelines existed stay where they were.
    match settings.devops.flavor {
        crate::settings::ReleaseFlavor::Classic => key,
        crate::settings::ReleaseFlavor::Yaml => format!("{key}:yaml"),
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
    /// The composition root: every front end (the CLI, the console, tests and benches) opens
    /// its session here. It decides the journal's scope ([`deployment_key`]), where the journal,
    /// the audit log and the cache live, the clock, and the demo's policy: each run of the
    /// built-in simulator starts a fresh world, so what a previous run left in flight cannot be
    /// tracked and is closed on the record instead of resumed. Which backend to use (Azure or
    /// the simulator) is the binary's choice: the core knows only the port.
    pub fn open(
        settings: &crate::settings::Settings,
        backend: Arc<dyn Backend>,
        options: OpenOptions,
    ) -> Result<Session, OpenError> {
        let embedded = options.embedded_demo.is_some();
        let mut ctx = Context::new(settings, options.read_only, backend.describe());
        ctx.cache_key = deployment_key(settings, embedded);
        ctx.rollback_run_offered = backend.offers_rollback_run();
        ctx.keep = kept(options.keep, &options.cache);
        let cache = match options.cache {
            CacheChoice::Default => Cache::new(Cache::default_dir()),
            CacheChoice::Dir(dir) => Cache::new(Some(dir)),
            CacheChoice::Disabled => Cache::disabled(),
        };
        let state = StateDirs::choose(options.state_dir.as_deref(), embedded)?;
        let mut session = Session::with_context(backend, ctx, cache, state);
        if let Some(clock) = options.clock {
            session = session.with_clock(clock);
        }
        if let Some(world) = options.embedded_demo {
            session = session.keep_alive(world);
            super::rollback::abandon_all(
                &session,
                "the built-in simulator was restarted; the world this operation ran in is gone",
            );
        }
        Ok(session)
    }

    /// A session on a hand-built context, for unit tests of a front end on a fake backend with
    /// no settings file. Everything else opens its session with [`Session::open`].
    pub fn with_context(
        backend: Arc<dyn Backend>,
        ctx: Context,
        cache: Cache,
        mut state: StateDirs,
    ) -> Session {
        state.journal = state.journal.scoped(ctx.cache_key.clone());
        let configs = ConfigStore::new(cache.load_configs(&ctx.cache_key));
        let models = cache.load_model_book(&ctx.cache_key).map(Arc::new);
        let jobs = cache.load_job_book(&ctx.cache_key).map(Arc::new);
        if let Some(kept) = cache.load_kept(&ctx.cache_key) {
            backend.restore_kept(&kept);
        }
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
            watched: super::watch::open_watches(self)
                .iter()
                .filter_map(|o| o.watch.as_ref().map(|w| w.circuit.clone()))
                .collect(),
        };
        let mut readings = snapshot::read(self.backend.as_ref(), &self.ctx, &known).await;
        let snap = snapshot::assemble(&mut readings, &self.ctx, self.now());
        // The config texts move into the store (no copy held beside the snapshot).
        for ((path, commit), text) in std::mem::take(&mut readings.configs) {
            if let Ok(t) = text {
                self.configs.insert(&path, &commit, t);
            }
        }
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
        // What the next refresh knows; the release list and model versions move into the books
        // (left empty by a snapshot that keeps only what `relcon fleet` prints: no next).
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
            if let Some(kept) = self.backend.kept()
                && let Err(e) = self.cache.store_kept(&self.ctx.cache_key, &kept)
            {
                tracing::warn!("cannot write the adapter's cache: {e}");
            }
        } else {
            tracing::info!(
                errors = snap.errors.len(),
                "refresh incomplete; the cached snapshot is kept"
            );
        }
        let stored = self
            .configs
            .with(|texts| self.cache.store_configs(&self.ctx.cache_key, texts));
        if let Some(Err(e)) = stored {
            tracing::warn!("cannot write the config cache: {e}");
        }
        // The watches after verified rollbacks see what this refresh read of their circuits.
        super::watch::observe(self, &snap);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::queries::Keep;

    #[test]
    fn only_a_session_that_stores_nothing_keeps_only_what_it_prints() {
        let dir = CacheChoice::Dir("/nonexistent".into());
        assert_eq!(kept(Keep::Printed, &CacheChoice::Disabled), Keep::Printed);
        assert_eq!(kept(Keep::Printed, &CacheChoice::Default), Keep::FleetView);
        assert_eq!(kept(Keep::Printed, &dir), Keep::FleetView);
        for keep in [Keep::Full, Keep::FleetView] {
            assert_eq!(kept(keep, &dir), keep);
            assert_eq!(kept(keep, &CacheChoice::Disabled), keep);
        }
    }
}
