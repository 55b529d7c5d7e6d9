//! The real binary in a real terminal (tmux): `relcon` with no command opens the console on the
//! built-in simulator's demo fleet; the fleet view, `:approvals`, `?` and a clean exit with `q`
//! are checked from the terminal's own screen; keys are answered at once, not on the console's
//! tick; and every signal that ends the console (INT, QUIT, TERM, HUP) and a panic give the
//! terminal back as it was (cooked mode with echo, main screen, cursor shown).
//!
//! Needs tmux (CI installs it); without it the test says so and passes. Waiting is polling for
//! text on screen with a deadline, never a fixed sleep. `RELCON_E2E_BIN` points it at another
//! binary: `RELCON_E2E_BIN=target/debug/examples/console_fixture cargo test --test tui_e2e --
//! --ignored` runs the same checks on the console over fixture data.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const W: u16 = 160;
const H: u16 = 48;

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Session {
    name: String,
    socket: String,
}

impl Session {
    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", &self.name]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours (the fleet's selection is a colour), without the status
    /// bar's first line (its data age moves on its own).
    fn body(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-e", "-t", &self.name]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_once('\n')
            .map(|(_, b)| b.to_owned())
            .unwrap_or(text)
    }

    /// Wait until the body has not changed for `quiet` (the first refresh has landed).
    fn settle(&self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut last, mut since) = (self.body(), Instant::now());
        while since.elapsed() < quiet {
            assert!(Instant::now() < deadline, "the screen never settled");
            std::thread::sleep(Duration::from_millis(50));
            let now = self.body();
            if now != last {
                (last, since) = (now, Instant::now());
            }
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.name.as_str()];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success(), "send-keys {keys:?}");
    }

    /// Wait until the screen shows `text`, or fail with what it shows.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "`{text}` never appeared; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen no longer shows `text` (a view closed), or fail with the screen.
    fn wait_gone(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if !screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "`{text}` never went away; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pane(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", &self.name, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // tmux leaves its socket file behind after kill-server: remove it too, so runs do not
        // pile them up in the tmux directory.
        let socket = self.pane("#{socket_path}");
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if !socket.is_empty() {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// Start the console in a private tmux server with private config and cache dirs.
fn start(tag: &str, home: &Path) -> Session {
    start_with(tag, home, "")
}

/// [`start`] with extra `NAME=value` environment for the console.
fn start_with(tag: &str, home: &Path, extra_env: &str) -> Session {
    // RELCON_E2E_BIN runs another console binary the same way (the fixture example, say).
    let bin =
        std::env::var("RELCON_E2E_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_relcon").to_owned());
    let h = home;
    let env = |k: &str, v: &Path| format!("{k}={}", v.display());
    // A private server (-L) and private config and cache dirs: no user setting leaks in.
    let s = Session {
        name: "relcon-e2e".into(),
        socket: format!("relcon-e2e-{tag}-{}", std::process::id()),
    };
    // The shell reports the exit status and the terminal's modes (`stty -a`: `icanon` and
    // `echo`, not `-icanon -echo`) after the console has given the terminal back, and stays (a
    // dead pane's text cannot be captured); the server is killed at the end.
    // The built-in simulator and the console on the pinned clock.
    let pinned = relcon::domain::clock::pinned_start().to_rfc3339();
    let command = format!(
        "env -u RELCON_CONFIG -u RELCON_STATE_DIR -u NO_COLOR RELCON_CLOCK_START={pinned} {extra_env} {} {} {} {} TERM=xterm-256color sh -c '\"$0\"; echo relcon-exit=$?; stty -a; echo tty-checked; exec sleep 600' {bin}",
        env("HOME", h),
        env("XDG_CONFIG_HOME", &h.join("config")),
        env("XDG_CACHE_HOME", &h.join("cache")),
        env("XDG_STATE_HOME", &h.join("state")),
    );
    let started = s.tmux(&[
        "new-session",
        "-d",
        "-s",
        &s.name,
        "-x",
        &W.to_string(),
        "-y",
        &H.to_string(),
        &command,
    ]);
    assert!(started.status.success(), "tmux new-session: {started:?}");
    s
}

#[test]
fn fleet_approvals_help_and_a_clean_exit_in_a_real_terminal() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; this test drives the binary in a real terminal");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let s = start("keys", home.path());

    // A capture can land mid-frame (the first live frame replacing "Reading the fleet"):
    // wait for each part rather than read one capture.
    s.wait_for("All plants");
    s.wait_for("PROD");
    let fleet = s.wait_for("PLANT001");
    assert!(fleet.contains("relcon"), "status bar:\n{fleet}");

    s.keys(&[":", "approvals", "Enter"]);
    // A capture can land mid-frame: wait for each part rather than read one capture.
    s.wait_for("Pending approvals");
    let approvals = s.wait_for("Approve:");
    assert!(
        approvals.contains("Reject:"),
        "policy verdict:\n{approvals}"
    );

    s.keys(&["?"]);
    // Each part of the help in its own wait: a capture can land mid-frame.
    s.wait_for("Everywhere");
    s.wait_for("Command palette");

    // Esc closes help, q leaves approvals, q quits from the fleet. (The help text names the
    // approvals view too: wait for the help to go, or the next key can arrive glued to the
    // Esc and read as Alt-q.)
    s.keys(&["Escape"]);
    s.wait_gone("Everywhere");
    s.wait_for("Pending approvals");
    s.keys(&["q"]);
    s.wait_for("All plants");
    s.keys(&["q"]);
    let after = s.wait_for("relcon-exit=");
    assert!(after.contains("relcon-exit=0"), "exit status:\n{after}");
    // The terminal is restored: the console's screen went with the alternate screen.
    assert!(
        !after.contains("All plants"),
        "alternate screen left:\n{after}"
    );
    assert_eq!(
        s.pane("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
}

#[test]
fn keys_are_answered_at_once_not_on_the_tick() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; this test drives the binary in a real terminal");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    // The console's own tick at an hour: a key that does not wake the console itself would
    // wait for it, and never show within the deadline.
    let s = start_with("tick", home.path(), "RELCON_TICK_MS=3600000");
    s.wait_for("All plants");
    s.settle(Duration::from_secs(1));
    for (n, key) in ["j", "j", "k", "j", "k", "k", "j", "Down", "Up", "j"]
        .into_iter()
        .enumerate()
    {
        let before = s.body();
        s.keys(&[key]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.body() == before {
            assert!(
                Instant::now() < deadline,
                "key {} (`{key}`) was not answered in 10 s with the tick at an hour: the \
                 console waited for its tick instead of the key; the screen:\n{}",
                n + 1,
                s.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    s.keys(&["q"]);
    assert!(s.wait_for("relcon-exit=").contains("relcon-exit=0"));
}

/// The console's process under the pane's shell.
fn console_pid(s: &Session) -> String {
    let shell = s.pane("#{pane_pid}");
    let child = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&child.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "no console process under {shell}");
    pid
}

/// After the console has gone: the exit status, and the terminal as the shell needs it.
fn assert_terminal_given_back(s: &Session, how: &str, exit: &str) {
    let after = s.wait_for("tty-checked");
    assert!(
        after.contains(&format!("relcon-exit={exit}")),
        "{how}: exit status:\n{after}"
    );
    let words: Vec<&str> = after.split_whitespace().collect();
    for mode in ["icanon", "echo", "icrnl", "opost"] {
        assert!(
            words.contains(&mode) && !words.contains(&format!("-{mode}").as_str()),
            "{how}: the terminal is still raw (`stty -a` shows no `{mode}`):\n{after}"
        );
    }
    assert!(
        !after.contains("All plants"),
        "{how}: the console's screen is still there:\n{after}"
    );
    assert_eq!(
        s.pane("#{alternate_on}"),
        "0",
        "{how}: still on the alternate screen"
    );
    assert_eq!(s.pane("#{cursor_flag}"), "1", "{how}: the cursor is hidden");
}

fn signal_gives_the_terminal_back(signal: &str) {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; this test drives the binary in a real terminal");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let s = start(&signal.to_lowercase(), home.path());
    s.wait_for("All plants");
    let pid = console_pid(&s);
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // A signal is a clean stop.
    assert_terminal_given_back(&s, &format!("SIG{signal}"), "0");
}

#[test]
fn sigint_gives_the_terminal_back() {
    signal_gives_the_terminal_back("INT");
}

#[test]
fn sigquit_gives_the_terminal_back() {
    signal_gives_the_terminal_back("QUIT");
}

#[test]
fn sigterm_gives_the_terminal_back() {
    signal_gives_the_terminal_back("TERM");
}

#[test]
fn sighup_gives_the_terminal_back() {
    signal_gives_the_terminal_back("HUP");
}

#[test]
fn a_panic_gives_the_terminal_back_and_its_message_is_readable() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; this test drives the binary in a real terminal");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    // The test hook: the console panics on `%`.
    let s = start_with(
        "panic",
        home.path(),
        "RELCON_TEST_PANIC_KEY=% RUST_BACKTRACE=0",
    );
    s.wait_for("All plants");
    s.keys(&["%"]);
    let after = s.wait_for("tty-checked");
    assert!(
        after.contains("asked to panic"),
        "the panic message is on the restored screen:\n{after}"
    );
    assert_terminal_given_back(&s, "panic", "101");
}
