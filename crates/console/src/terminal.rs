//! Owning the terminal: raw mode and the alternate screen on entry, and their restoration on
//! every way out (return, error, panic, SIGINT, SIGQUIT, SIGTERM, SIGHUP), so a shell is never
//! left broken.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// The console has the terminal (raw, alternate screen) and has not given it back yet.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Put the terminal back as it was, once: the panic hook and the guard both call it, and a
/// second "leave the alternate screen" would move the cursor back over what was printed in
/// between (the panic message). Errors are ignored because this runs on the way out (a
/// hung-up terminal cannot be restored, and that is fine).
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

static HOOK: Once = Once::new();

/// The thread that owns the terminal while the console runs. A panic there ends the console;
/// one in a background task is caught by tokio, becomes a failed result, and the console goes
/// on, so restoring the terminal then would leave a running console in cooked mode.
static CONSOLE_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

fn console_thread() -> Option<ThreadId> {
    *CONSOLE_THREAD.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_console_thread(id: Option<ThreadId>) {
    *CONSOLE_THREAD.lock().unwrap_or_else(|p| p.into_inner()) = id;
}

/// Restore the terminal before the console thread's panic message is printed, so it is
/// readable (the guard restores it again while unwinding; restoring twice is harmless).
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if console_thread() == Some(std::thread::current().id()) {
                restore();
            }
            previous(info);
        }));
    });
}

/// The terminal in console mode; dropping it restores the terminal.
pub struct Guard {
    pub terminal: Term,
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
        set_console_thread(None);
    }
}

pub fn enter(mouse: bool) -> io::Result<Guard> {
    install_panic_hook();
    set_console_thread(Some(std::thread::current().id()));
    ENTERED.store(true, Ordering::SeqCst);
    if let Err(e) = enable_raw_mode() {
        restore();
        set_console_thread(None);
        return Err(e);
    }
    let mut out = io::stdout();
    // Bracketed paste: a pasted filter arrives as one event, not as keys that run commands.
    let entered = if mouse {
        execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableMouseCapture
        )
    } else {
        execute!(out, EnterAlternateScreen, EnableBracketedPaste)
    };
    if let Err(e) = entered {
        restore();
        set_console_thread(None);
        return Err(e);
    }
    match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(mut terminal) => {
            let _ = terminal.hide_cursor();
            Ok(Guard { terminal })
        }
        Err(e) => {
            restore();
            set_console_thread(None);
            Err(e)
        }
    }
}

/// The signals that end the console, as one stream of "time to go": SIGINT and SIGQUIT (from
/// `kill`: in raw mode Ctrl-C and Ctrl-\\ arrive as keys), SIGTERM and SIGHUP. Their default
/// actions would end the process with the terminal raw, on the alternate screen, cursor hidden.
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    pub fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                SignalKind::interrupt(),
                SignalKind::quit(),
                SignalKind::terminate(),
                SignalKind::hangup(),
            ];
            Signals {
                streams: kinds.into_iter().filter_map(|k| signal(k).ok()).collect(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves when a signal asks the console to stop.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.streams.is_empty() {
                return std::future::pending::<()>().await;
            }
            let arrivals = self.streams.iter_mut().map(|s| Box::pin(s.recv()));
            let _ = futures::future::select_all(arrivals).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

impl Default for Signals {
    fn default() -> Self {
        Signals::new()
    }
}
