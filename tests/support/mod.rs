//! A `relcon sim serve` process and `relcon` commands pointed at it, all on the pinned clock:
//! for the test binaries that run the real binary end to end (JSON contract, DevOps refusals).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use relcon::service::clock::CLOCK_START_ENV;
use serde_json::Value;

/// Every simulator and every `relcon` here runs on the pinned clock.
pub fn pinned() -> String {
    relcon::domain::clock::pinned_start().to_rfc3339()
}

/// A running `relcon sim serve` with the configuration it wrote.
pub struct SimServe {
    child: Child,
    /// Held open: the simulator keeps writing its banner after the first line.
    _stdout: BufReader<std::process::ChildStdout>,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl SimServe {
    /// Start one with extra flags and wait for its first line.
    pub fn start(extra: &[&str]) -> SimServe {
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
        SimServe {
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
        self.relcon_with(&self.config(), who)
    }

    /// The same with another configuration (the simulator's, edited).
    pub fn relcon_with(&self, config: &Path, who: &str) -> Command {
        let mut c = relcon_in(self.dir.path());
        c.arg("--config")
            .arg(config)
            .args(["--as", who, "--no-cache"]);
        c.arg("--state-dir").arg(self.state(who));
        c
    }

    /// The same as a plain process, for tests that spawn and wait (or kill) themselves.
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

    /// `relcon --json ARGS` as `who`: its exit code and its document, which must keep the
    /// published contract (docs/schemas/).
    pub fn json(&self, who: &str, args: &[&str]) -> (i32, Value) {
        let out = self.relcon(who).arg("--json").args(args).output().unwrap();
        let doc = document(&out);
        Contract::load().assert_valid(&doc);
        (out.status.code().unwrap_or(-1), doc)
    }

    /// A GET of the simulator (its hooks need no identity).
    pub fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        reqwest::blocking::get(&url)
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// A GET of the simulator as `who` (its token is the name).
    pub fn get_as(&self, who: &str, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        reqwest::blocking::Client::new()
            .get(&url)
            .bearer_auth(format!("relcon-sim.{who}"))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }
}

impl Drop for SimServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `relcon` with its home, config and cache inside `dir`, on the pinned clock, no colour.
pub fn relcon_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("relcon").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("RELCON_CONFIG")
        .env("XDG_CONFIG_HOME", dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env(CLOCK_START_ENV, pinned());
    c.timeout(Duration::from_secs(180));
    c
}

/// The one JSON document a `--json` run printed.
pub fn document(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The published JSON schemas (`docs/schemas/`), closed for the tests: every object that lists
/// its properties gets `unevaluatedProperties: false` (unless it says itself whether more are
/// allowed), so a field a command prints and the schema does not document fails here, while
/// the published schemas stay open to additive changes (docs/JSON.md).
pub struct Contract {
    validators: std::collections::HashMap<String, jsonschema::Validator>,
}

/// The schema file (without `.schema.json`) of a document: the error shape when it has an
/// `exit_code`, else by its `command`.
pub fn schema_of(doc: &Value) -> &'static str {
    if doc.get("exit_code").is_some() {
        return "error";
    }
    match doc["command"].as_str().unwrap_or("") {
        "fleet" => "fleet",
        "circuit" => "circuit",
        "approvals" => "approvals",
        "alerts" => "alerts",
        "alert ack" | "alert close" | "alert reopen" => "alert-change",
        "jobs" => "jobs",
        "jobs retry" => "jobs-retry",
        "approve" | "reject" => "decisions",
        "rollback" => "rollback",
        "ops" => "ops",
        "audit show" => "audit-show",
        "audit verify" => "audit-verify",
        "hash" => "hash",
        "diff" => "diff",
        "configs check" => "configs-check",
        "doctor" => "doctor",
        "sim serve" => "sim-serve",
        other => panic!("no schema for command {other:?}: {doc}"),
    }
}

fn close_objects(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let lists_properties = m.contains_key("properties");
            let says =
                m.contains_key("additionalProperties") || m.contains_key("unevaluatedProperties");
            if lists_properties && !says {
                m.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (k, x) in m.iter_mut() {
                // Inside `properties`, keys are member names, not keywords.
                if k == "properties" || k == "$defs" {
                    if let Value::Object(members) = x {
                        members.values_mut().for_each(close_objects);
                    }
                } else {
                    close_objects(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

impl Contract {
    pub fn load() -> Contract {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
        let mut schemas = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(stem) = name.strip_suffix(".schema.json") else {
                continue;
            };
            let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                jsonschema::meta::is_valid(&schema),
                "{name} is not a valid JSON Schema"
            );
            close_objects(&mut schema);
            schemas.push((stem.to_owned(), schema));
        }
        let registry = jsonschema::Registry::new()
            .extend(schemas.iter().map(|(_, s)| {
                (
                    s["$id"].as_str().unwrap().to_owned(),
                    jsonschema::Resource::from_contents(s.clone()),
                )
            }))
            .unwrap()
            .prepare()
            .unwrap();
        let validators = schemas
            .iter()
            .map(|(stem, s)| {
                let v = jsonschema::options()
                    .with_registry(&registry)
                    .should_validate_formats(true)
                    .build(s)
                    .unwrap_or_else(|e| panic!("{stem}: {e}"));
                (stem.clone(), v)
            })
            .collect();
        Contract { validators }
    }

    /// Check one document against its schema; the error lists every violation with its path.
    pub fn check(&self, doc: &Value) -> Result<(), String> {
        let schema = schema_of(doc);
        let v = self
            .validators
            .get(schema)
            .unwrap_or_else(|| panic!("docs/schemas/{schema}.schema.json is missing"));
        let problems: Vec<String> = v
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{schema}.schema.json rejects the document:\n  {}\n{}",
                problems.join("\n  "),
                serde_json::to_string_pretty(doc).unwrap_or_default()
            ))
        }
    }

    /// The document is valid, and carries its command's version (`ops` is 3 since its
    /// operations' kind gained `alert-change` (2) and `job-retry` (3); the alert changes 2
    /// since their outcome gained `invalid`; error documents and the rest are 1).
    pub fn assert_valid(&self, doc: &Value) {
        let command = doc["command"].as_str().unwrap_or_default();
        let version = match command {
            _ if doc.get("exit_code").is_some() => 1,
            "ops" => 3,
            "alert ack" | "alert close" | "alert reopen" => 2,
            _ => 1,
        };
        assert_eq!(doc["schema_version"], version, "{doc}");
        if let Err(e) = self.check(doc) {
            panic!("{e}");
        }
    }
}

impl SimServe {
    /// The scenario's incident circuit (`PLANT007/CIRCUIT03` in the demo), from `/_sim/scenario`.
    pub fn incident_circuit(&self) -> String {
        self.get("/_sim/scenario")["incident_circuit"]
            .as_str()
            .unwrap()
            .to_owned()
    }

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

/// The JSON a successful command printed.
pub fn ok_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}\nstdout: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The operations in `who`'s journal as saved (a `.tmp` is the journal mid-write).
pub fn journal(sim: &SimServe, who: &str) -> Vec<Value> {
    std::fs::read_dir(sim.state(who).join("ops"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .collect()
}

/// Run `relcon ARGS` as `who` with the pause-before-send test hook
/// (`RELCON_TEST_PAUSE_BEFORE_SEND`), wait until it has journaled its operation and stopped
/// right before sending it, and `kill -9` it there.
pub fn kill_9_before_sending(sim: &SimServe, who: &str, args: &[&str]) {
    use std::time::Instant;
    let mut child = sim
        .std_relcon(who)
        .args(args)
        .env(relcon::service::rollback::PAUSE_BEFORE_SEND_ENV, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("paused before sending") => break,
            Ok(line) => seen.push(line),
            Err(e) => panic!("the hook never paused ({e}); stderr: {seen:#?}"),
        }
    }
    child.kill().unwrap(); // SIGKILL, between recording and sending
    child.wait().unwrap();
}
