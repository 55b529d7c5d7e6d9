//! The real binary in a real terminal (tmux): `relcon` with no command opens the console on the
//! built-in simulator's demo fleet; the fleet view, `:approvals`, `?` and a clean exit with `q`
//! are checked from the terminal's own screen.
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

    fn pane(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", &self.name, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// Start the console in a private tmux server with private config and cache dirs.
fn start(tag: &str, home: &Path) -> Session {
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
    // The shell reports the exit status after the console has given the terminal back, and
    // stays (a dead pane's text cannot be captured); the server is killed at the end.
    // The built-in simulator and the console on the pinned clock.
    let pinned = relcon::domain::clock::pinned_start().to_rfc3339();
    let command = format!(
        "env -u RELCON_CONFIG -u RELCON_STATE_DIR -u NO_COLOR RELCON_CLOCK_START={pinned} {} {} {} {} TERM=xterm-256color sh -c '\"$0\"; echo relcon-exit=$?; exec sleep 600' {bin}",
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

    let fleet = s.wait_for("All plants");
    assert!(fleet.contains("PROD"), "Prod column:\n{fleet}");
    assert!(fleet.contains("PLANT001"), "{fleet}");
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
    let help = s.wait_for("Everywhere");
    assert!(help.contains("Command palette"), "{help}");

    // Esc closes help, q leaves approvals, q quits from the fleet.
    s.keys(&["Escape"]);
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
fn sigterm_gives_the_terminal_back() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; this test drives the binary in a real terminal");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let s = start("term", home.path());
    s.wait_for("All plants");
    // The pane runs `sh -c`; the console is its child.
    let shell = s.pane("#{pane_pid}");
    let child = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&child.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "no console process under {shell}");
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let after = s.wait_for("relcon-exit=");
    assert!(
        after.contains("relcon-exit=0"),
        "a signal is a clean stop:\n{after}"
    );
    assert_eq!(
        s.pane("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
}
