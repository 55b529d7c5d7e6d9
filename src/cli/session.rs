//! Opening a session for a command: the configured backend, or, with no configuration, the
//! built-in simulator started in-process on a free loopback port with the demo fleet.

use std::sync::Arc;

use super::{Exit, Global, fail, load_settings};
use crate::azure::{AzureBackend, ClientOptions};
use crate::service::clock;
use crate::service::queries::Keep;
use crate::service::session::{CacheChoice, OpenOptions, Session};
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

/// Open the session every service-backed command uses: pick the backend (the configured
/// Azure, or the built-in simulator started in-process) and hand it to the core's composition
/// root, [`Session::open`], which decides everything else.
pub fn open(g: &Global) -> Result<Opened, Exit> {
    open_keeping(g, Keep::Full)
}

/// [`open`] for a one-shot command that prints no drift series (`relcon fleet`): its refresh
/// keeps of each circuit's drift what a fleet row shows, as the snapshot cache does; with
/// `--no-cache`, when nothing is stored for a next start, only what the command prints
/// (docs/PERFORMANCE.md, "20,000 circuits in bounded memory").
pub fn open_fleet_view(g: &Global) -> Result<Opened, Exit> {
    open_keeping(
        g,
        if g.no_cache {
            Keep::Printed
        } else {
            Keep::FleetView
        },
    )
}

fn open_keeping(g: &Global, keep: Keep) -> Result<Opened, Exit> {
    let configured = load_settings(g).map_err(|e| fail(Exit::Usage, e))?;
    let pinned = clock::pinned_from_env().map_err(|e| fail(Exit::Usage, e))?;
    let runtime = runtime()?;
    let mut session_clock = clock::process().map_err(|e| fail(Exit::Usage, e))?;
    let (settings, embedded_demo) = match configured {
        Some(_) if g.flavor.is_some() => {
            return Err(fail(
                Exit::Usage,
                "--flavor picks the built-in simulator's release flavour; a configuration says its own ([devops] flavor)",
            ));
        }
        Some(s) => (s, None),
        None => {
            let handle = runtime
                .block_on(start(SimOptions {
                    start: pinned,
                    devops: g.flavor.unwrap_or_default(),
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
            let world: Arc<dyn std::any::Any + Send + Sync> = Arc::new(handle);
            (settings, Some(world))
        }
    };
    let options = ClientOptions {
        identity_override: g.as_user.clone(),
        concurrency: settings.client.concurrency,
        timeout: std::time::Duration::from_secs(settings.client.timeout_seconds),
        ..ClientOptions::from_client_settings(&settings.client)
    };
    // The client needs the runtime's reactor for its HTTP connections.
    let _guard = runtime.enter();
    let backend = AzureBackend::new(&settings, options).map_err(|e| fail(Exit::Usage, e))?;
    let session = Session::open(
        &settings,
        Arc::new(backend),
        OpenOptions {
            read_only: g.read_only,
            state_dir: g.state_dir.clone(),
            cache: if g.no_cache {
                CacheChoice::Disabled
            } else {
                CacheChoice::Default
            },
            clock: Some(session_clock),
            embedded_demo,
            keep,
        },
    )
    .map_err(|e| fail(Exit::Usage, e.to_string()))?;
    Ok(Opened {
        runtime,
        session,
        settings,
    })
}
