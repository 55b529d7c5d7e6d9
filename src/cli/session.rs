//! Opening a session for a command: the configured backend, or, with no configuration, the
//! built-in simulator started in-process on a free loopback port with the demo fleet.

use std::sync::Arc;

use super::{Exit, Global, fail, load_settings};
use crate::azure::{AzureBackend, ClientOptions};
use crate::service::Context;
use crate::service::cache::Cache;
use crate::service::clock;
use crate::service::session::{Session, StateDirs};
use crate::settings::Settings;
use crate::sim::{SimOptions, start};

/// A tokio runtime for the command and the session on it.
pub struct Opened {
    pub runtime: tokio::runtime::Runtime,
    pub session: Session,
    /// The settings in use (the simulator's when there is no configuration).
    pub settings: Settings,
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            fail(
                Exit::Service,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

/// Where the journal and the audit log live: `--state-dir`, else the XDG state dir, else (on
/// the built-in simulator) its `demo/` subdirectory, so that nothing done to the demo world
/// mixes with the record of what was done to real Azure.
pub fn state_dirs(g: &Global, embedded: bool) -> Result<StateDirs, Exit> {
    let dirs = match &g.state_dir {
        Some(dir) => Some(StateDirs::under(dir)),
        None if embedded => StateDirs::default_demo_dirs(),
        None => StateDirs::default_dirs(),
    };
    dirs.ok_or_else(|| {
        fail(
            Exit::Usage,
            "no home directory for relcon's state; pass --state-dir",
        )
    })
}

/// Open the session every service-backed command uses.
pub fn open(g: &Global) -> Result<Opened, Exit> {
    let configured = load_settings(g).map_err(|e| fail(Exit::Usage, e))?;
    let pinned = clock::pinned_from_env().map_err(|e| fail(Exit::Usage, e))?;
    let runtime = runtime()?;
    let mut session_clock = clock::process().map_err(|e| fail(Exit::Usage, e))?;
    let (settings, keepalive) = match configured {
        Some(s) => (s, None),
        None => {
            let handle = runtime
                .block_on(start(SimOptions {
                    start: pinned,
                    ..SimOptions::embedded_demo()
                }))
                .map_err(|e| {
                    fail(
                        Exit::Service,
                        format!("cannot start the built-in simulator: {e:#}"),
                    )
                })?;
            let settings = handle.settings();
            // The world's own clock: on the demo it is the real time (the simulator starts
            // now, at speed 1); pinned, every age reads the same on any day.
            session_clock = handle.clock();
            (settings, Some(Arc::new(handle)))
        }
    };
    let embedded = keepalive.is_some();
    let options = ClientOptions {
        identity_override: g.as_user.clone(),
        concurrency: settings.client.concurrency,
        timeout: std::time::Duration::from_secs(settings.client.timeout_seconds),
        ..ClientOptions::from_client_settings(&settings.client)
    };
    // The client needs the runtime's reactor for its HTTP connections.
    let _guard = runtime.enter();
    let backend = AzureBackend::new(&settings, options).map_err(|e| fail(Exit::Usage, e))?;
    let describe = crate::service::backend::Backend::describe(&backend);
    let mut ctx = Context::new(&settings, g.read_only, describe);
    ctx.cache_key = if embedded {
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
    let cache = if g.no_cache {
        Cache::disabled()
    } else {
        Cache::new(Cache::default_dir())
    };
    let state = state_dirs(g, embedded)?;
    let mut session = Session::new(Arc::new(backend), ctx, cache, state).with_clock(session_clock);
    if let Some(k) = keepalive {
        session = session.keep_alive(k);
        // Each run of the built-in simulator starts a fresh world: what a previous run left
        // in flight cannot be tracked, so it is closed on the record instead of resumed.
        crate::service::rollback::abandon_all(
            &session,
            "the built-in simulator was restarted; the world this operation ran in is gone",
        );
    }
    Ok(Opened {
        runtime,
        session,
        settings,
    })
}
