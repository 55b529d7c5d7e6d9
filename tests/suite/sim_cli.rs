//! `relcon sim serve` as a process: the first line names the address, `--write-config` writes
//! a configuration relcon accepts, SIGTERM stops it cleanly, and bad knobs are refused.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;

#[tokio::test]
async fn serve_prints_its_address_first_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("sim.toml");
    let mut child = Command::cargo_bin("relcon")
        .expect("binary")
        .args([
            "sim",
            "serve",
            "--seed",
            "3",
            "--speed",
            "60",
            "--write-config",
        ])
        .arg(&config)
        .env(
            "RELCON_CLOCK_START",
            relcon::domain::clock::pinned_start().to_rfc3339(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("first line");
    let port = first
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("first line: {first}"));
    assert!(port > 0);
    let mut rest = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        let done = line.starts_with("hooks:");
        rest.push(line);
        if done {
            break;
        }
    }
    let text = rest.join("\n");
    assert!(text.contains("130 circuits in 17 plants"), "{text}");
    assert!(
        text.contains("identities: alice, bob, carol, dave, erin"),
        "{text}"
    );
    assert!(text.contains("speed 60x"), "{text}");

    let toml = std::fs::read_to_string(&config).expect("config written");
    let settings = relcon::settings::Settings::parse(&toml, "sim.toml").expect("valid settings");
    assert_eq!(
        settings.azure.arm_endpoint.0,
        format!("http://127.0.0.1:{port}/arm")
    );
    assert!(settings.is_simulator());

    let clock: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/_sim/clock"))
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    assert_eq!(clock["speed"], 60.0);

    #[cfg(unix)]
    {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{:?}", out.status);
        assert!(String::from_utf8_lossy(&out.stderr).contains("simulator stopped"));
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
}

#[test]
fn bad_knobs_are_refused_with_usage_errors() {
    let cases: [(&[&str], &str); 5] = [
        (&["--addr", "0.0.0.0:0"], "loopback"),
        (&["--fail-rate", "2"], "between 0 and 1"),
        (&["--plants", "3"], "--circuits-per-plant"),
        (
            &["--plants", "300", "--circuits-per-plant", "100"],
            "at most 20000",
        ),
        (&["--latency", "80-20"], "lower bound"),
    ];
    for (args, needle) in cases {
        assert_cmd::Command::cargo_bin("relcon")
            .expect("binary")
            .args(["sim", "serve"])
            .args(args)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}
