//! A `relcon sim serve` process with its written configuration, and `relcon` commands against
//! it as one operator or another, each with a private state dir: the write-path tests' bed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use relcon::service::clock::CLOCK_START_ENV;
use serde_json::Value;

/// A `relcon sim serve` process with its written configuration.
pub struct Sim {
    child: Child,
    /// Held open: the simulator keeps writing its banner after the first line.
    _stdout: BufReader<std::process::ChildStdout>,
    pub base: String,
    pub dir: tempfile::TempDir,
}

/// Every simulator and every `relcon` of these tests run on the pinned clock.
pub fn pinned() -> String {
    relcon::domain::clock::pinned_start().to_rfc3339()
}

impl Sim {
    pub fn start(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("relcon.toml");
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("relcon"))
            .args(["sim", "serve", "--addr", "127.0.0.1:0", "--write-config"])
            .arg(&config)
            .args(extra)
            .env(CLOCK_START_ENV, pinned())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let base = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        assert!(
            config.is_file(),
            "the configuration is written before the listening line"
        );
        Sim {
            child,
            _stdout: stdout,
            base,
            dir,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("relcon.toml")
    }

    pub fn state(&self, who: &str) -> PathBuf {
        self.dir.path().join(format!("state-{who}"))
    }

    /// `relcon` as `who`, with its own state dir and no user configuration or cache.
    pub fn relcon(&self, who: &str) -> Command {
        let mut c = Command::cargo_bin("relcon").unwrap();
        c.arg("--config")
            .arg(self.config())
            .args(["--as", who, "--no-cache"]);
        c.arg("--state-dir").arg(self.state(who));
        c.env("XDG_CONFIG_HOME", self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"));
        c.env("NO_COLOR", "1").env(CLOCK_START_ENV, pinned());
        c.timeout(Duration::from_secs(120));
        c
    }

    pub fn std_relcon(&self, who: &str) -> StdCommand {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("relcon"));
        c.arg("--config")
            .arg(self.config())
            .args(["--as", who, "--no-cache"]);
        c.arg("--state-dir").arg(self.state(who));
        c.env("XDG_CONFIG_HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env(CLOCK_START_ENV, pinned());
        c
    }

    pub fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        reqwest::blocking::get(&url)
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    pub fn json(&self, who: &str, args: &[&str]) -> (i32, Value) {
        let out = self.relcon(who).arg("--json").args(args).output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: {e}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

impl Sim {
    /// The pending environment-only release, as `who` sees it in `relcon approvals`.
    pub fn environment_approval(&self, who: &str) -> Value {
        let (code, v) = self.json(who, &["approvals"]);
        assert_eq!(code, 0, "{v}");
        v["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| !a["environment_only"].is_null())
            .expect("the pending environment-only release")
            .clone()
    }

    /// Approve the environment-only release's two Production approvals as bob and dave,
    /// overriding the test gate (some validations fail in the demo): break-glass, recorded.
    pub fn approve_environment_release_with_break_glass(&self, ids: &[String]) {
        for (who, id) in [("bob", &ids[0]), ("dave", &ids[1])] {
            self.relcon(who)
                .args([
                    "approve",
                    id,
                    "--comment",
                    "env 1.5.1",
                    "--override-gate",
                    "--reason",
                    "4 known flaky validations",
                ])
                .assert()
                .success();
        }
    }

    /// Move the simulator's clock on (deployments finish).
    pub fn advance(&self, seconds: u64) {
        reqwest::blocking::Client::new()
            .post(format!("{}/_sim/clock/advance", self.base))
            .json(&serde_json::json!({ "seconds": seconds }))
            .send()
            .unwrap();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON a successful command printed.
pub fn ok_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The operations in `who`'s journal as saved (a `.tmp` is the journal mid-write).
pub fn journal(sim: &Sim, who: &str) -> Vec<Value> {
    std::fs::read_dir(sim.state(who).join("ops"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .collect()
}
