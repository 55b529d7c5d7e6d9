//! The console (`relcon` with no command): fleet, circuit evidence, approvals and the
//! environment release in a terminal, built the Elm way. One task owns the `App`; keys become
//! `Action`s through the keymap; `update` changes state and returns `Effect`s; the runtime runs
//! them on tokio against the `Session` and feeds results back as `Msg`s; `view` draws.
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The layers the console stands on, under the names the code uses.
use relcon_core::{audit, service, settings};
use relcon_domain as domain;

pub mod action;
pub mod app;
pub mod approvals_model;
pub mod filter;
/// The demo fleet and screens for tests, journeys and benches (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod fixture;
pub mod flows;
pub mod index;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod palette;
pub mod runtime;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

pub use action::{Action, Effect, Msg};
pub use app::{App, AppConfig};
pub use update::update;
pub use view::view;

use crate::service::session::Session;
use keymap::Keymap;
use runtime::{Executor, Runtime};
use theme::Theme;

/// At most this many queued terminal events are handled before the next frame is drawn.
const KEY_BATCH: usize = 64;

/// How often the console wakes on its own (clock, ages, SLA countdowns, scheduled refresh).
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);

/// A test hook: the console's tick in milliseconds. The end-to-end test sets it to an hour so
/// that a key which waits for the tick instead of waking the console cannot go unnoticed.
pub const TICK_ENV: &str = "RELCON_TICK_MS";

/// A test hook: the console panics when this key is pressed, so that the end-to-end test can
/// see a panic give the terminal back. Unset, nothing happens.
pub const PANIC_KEY_ENV: &str = "RELCON_TEST_PANIC_KEY";

fn panic_key_from_env() -> Option<char> {
    let v = std::env::var(PANIC_KEY_ENV).ok()?;
    let mut chars = v.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn panic_on(key: Option<char>, ev: &Event) {
    if let (Some(k), Event::Key(e)) = (key, ev)
        && e.code == crossterm::event::KeyCode::Char(k)
    {
        panic!("{PANIC_KEY_ENV}: the console was asked to panic on `{k}`");
    }
}

/// How the console starts.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// A theme name (`--theme`, else `ui.theme`): built in, or `<config dir>/themes/NAME.toml`.
    pub theme: Option<String>,
    /// A keymap file layered over the defaults (`ui.keymap`); else `<config dir>/keymap.toml`
    /// when it exists.
    pub keymap: Option<PathBuf>,
    /// Refresh on its own this often; `None` refreshes only on `r`.
    pub refresh_every: Option<Duration>,
    /// Capture the mouse (wheel scrolls). Off by default: capture stops terminal text selection.
    pub mouse: bool,
    /// No colours (NO_COLOR): a monochrome theme that still tells states apart.
    pub no_color: bool,
    /// How often the console wakes on its own ([`DEFAULT_TICK`]; [`TICK_ENV`] in tests).
    pub tick: Duration,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            theme: None,
            keymap: None,
            refresh_every: Some(Duration::from_secs(60)),
            mouse: false,
            no_color: theme::no_color_requested(),
            tick: tick_from_env(),
        }
    }
}

/// [`DEFAULT_TICK`], or what [`TICK_ENV`] says (a whole number of milliseconds, at least 1).
pub fn tick_from_env() -> Duration {
    std::env::var(TICK_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(DEFAULT_TICK, Duration::from_millis)
}

/// Resolve theme and keymap files and the session's policy into the app's configuration.
/// Problems with the files become warnings; the defaults stay.
pub fn app_config(session: &Session, options: &TuiOptions) -> AppConfig {
    let ctx = session.context();
    let mut cfg = AppConfig::new(
        ctx.policy.clone(),
        ctx.thresholds.clone(),
        session.backend().describe(),
    );
    cfg.refresh_every = options.refresh_every;
    cfg.rollback_method = ctx.default_rollback_method;
    if ctx.rollback_run_offered {
        cfg.rollback_methods
            .push(crate::domain::rollback::RollbackMethod::Pipeline);
    }
    // Opened because of a page: start on the paged circuit.
    cfg.incident_order_when_paged = true;
    let config_dir = crate::settings::dirs().map(|d| d.config_dir().to_path_buf());
    cfg.theme_dir = theme::user_theme_dir();
    cfg.themes = Theme::available(cfg.theme_dir.as_deref());
    if options.no_color {
        cfg.theme = Theme::monochrome();
    } else {
        let name = options.theme.as_deref().unwrap_or(theme::DEFAULT_THEME);
        let (t, warnings) = Theme::load(name, cfg.theme_dir.as_deref());
        cfg.theme = t;
        cfg.warnings.extend(warnings);
    }
    let (path, explicit) = match &options.keymap {
        Some(p) => (Some(p.clone()), true),
        None => (config_dir.map(|d| d.join("keymap.toml")), false),
    };
    if let Some(p) = path {
        match std::fs::read_to_string(&p) {
            Ok(text) => {
                let (k, w) = Keymap::with_user(&text, &p.display().to_string());
                cfg.keymap = k;
                cfg.warnings.extend(w);
            }
            Err(e) if explicit || e.kind() != std::io::ErrorKind::NotFound => cfg.warnings.push(
                format!("keymap {}: {e}; using the default keys", p.display()),
            ),
            Err(_) => {}
        }
    }
    cfg
}

/// Run the console until the user quits or a signal arrives. Owns the terminal and restores
/// it on every way out. The first frame comes from the cached snapshot (when there is one)
/// before any network call completes.
pub async fn run(session: Session, options: TuiOptions) -> anyhow::Result<()> {
    let cfg = app_config(&session, &options);
    let cached = session.cached_snapshot();
    let (tx, rx) = mpsc::unbounded_channel();
    let runtime = Runtime::new(session, tx);
    run_with(cfg, cached, runtime, rx, options.mouse, options.tick).await
}

/// The console's loop over any executor (the session's runtime, or fixtures in tests):
/// terminal in, first frame, then keys, results and ticks until quit or a signal.
pub async fn run_with<E: Executor>(
    cfg: AppConfig,
    cached: Option<crate::domain::fleet::FleetSnapshot>,
    mut executor: E,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    mouse: bool,
    tick: Duration,
) -> anyhow::Result<()> {
    // Listen before the terminal changes: a signal from then on gives it back.
    let mut signals = terminal::Signals::new();
    let panic_key = panic_key_from_env();
    let mut guard = terminal::enter(mouse)?;
    let size = guard.terminal.size()?;
    let (mut app, effects) = App::new(cfg, cached, executor.now(), (size.width, size.height));
    for e in effects {
        executor.execute(e);
    }
    // Keys come in batches of what is already queued (a held key, a paste), drawn once.
    // `ready_chunks` polls the stream with this task's own waker until it is empty, so crossterm
    // always holds a waker that wakes the console: draining with `now_or_never` (a no-op waker)
    // left the next key to wait for the tick.
    let mut events = EventStream::new().ready_chunks(KEY_BATCH);
    let mut ticker = tokio::time::interval(tick);
    let mut dirty = true;
    let result: anyhow::Result<()> = loop {
        if app.quit {
            break Ok(());
        }
        if dirty {
            if let Err(e) = guard.terminal.draw(|f| view(&app, f)) {
                break Err(e.into());
            }
            dirty = false;
        }
        tokio::select! {
            batch = events.next() => match batch {
                Some(batch) => {
                    let mut failed = None;
                    for ev in batch {
                        match ev {
                            Ok(ev) if !app.quit => {
                                panic_on(panic_key, &ev);
                                dirty |= on_event(&mut app, &mut executor, ev);
                            }
                            Ok(_) => {}
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    if let Some(e) = failed {
                        break Err(e.into());
                    }
                }
                None => break Ok(()),
            },
            Some(msg) = rx.recv() => {
                apply(&mut app, &mut executor, msg);
                while let Ok(msg) = rx.try_recv() {
                    apply(&mut app, &mut executor, msg);
                }
                dirty = true;
            }
            _ = ticker.tick() => {
                let now = executor.now();
                apply(&mut app, &mut executor, Msg::Tick(now));
                dirty = true;
            }
            _ = signals.recv() => break Ok(()),
        }
    };
    executor.shutdown();
    drop(guard);
    result
}

/// Run the console on a new tokio runtime (for callers without one).
pub fn run_blocking(session: Session, options: TuiOptions) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(session, options))
}

fn apply<E: Executor>(app: &mut App, executor: &mut E, msg: Msg) {
    for effect in update(app, msg) {
        if !executor.execute(effect) {
            app.quit = true;
        }
    }
}

/// Turn a terminal event into messages; whether the screen needs drawing.
fn on_event<E: Executor>(app: &mut App, executor: &mut E, ev: Event) -> bool {
    let msg = match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => match app.key_action(&k) {
            Some(a) => Msg::Action(a),
            None => return false,
        },
        Event::Resize(w, h) => Msg::Resize(w, h),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Msg::Action(Action::Down),
            MouseEventKind::ScrollUp => Msg::Action(Action::Up),
            _ => return false,
        },
        // A paste on the input line is typed text; elsewhere it means nothing.
        Event::Paste(text) => {
            if app.contexts().first().is_some_and(|c| c.types_text()) {
                for c in text.chars().filter(|c| !c.is_control()) {
                    apply(app, executor, Msg::Action(Action::Type(c)));
                }
            }
            return true;
        }
        Event::FocusGained => return true,
        _ => return false,
    };
    apply(app, executor, msg);
    true
}
