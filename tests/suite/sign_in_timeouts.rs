//! Timeouts everywhere, through the real binary: with client-secret auth and a login endpoint
//! that does not answer (a loopback listener that accepts and never replies) or is closed,
//! `doctor` says which check is still running while it waits, then names the login endpoint
//! and the real cause, not the tenant, client or secret; `fleet` gives up with exit 4 and the
//! same cause. Nothing leaves the machine: every endpoint is on 127.0.0.1.

use crate::common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use assert_cmd::Command;

/// A login endpoint that accepts connections and never answers: a TLS handshake to it hangs.
struct Blackhole {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Blackhole {
    fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(conn);
            }
        });
        Blackhole { port, accepted }
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A configuration for client-secret auth whose login endpoint is `authority`, and whose
/// service endpoints are a closed loopback port (never reached without a token).
fn config(dir: &std::path::Path, authority: &str, token_timeout: u64) -> std::path::PathBuf {
    let services = format!("http://127.0.0.1:{}", closed_port());
    let text = format!(
        "{}tenant_id = \"0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"
client_id = \"1b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"
client_secret_env = \"RELCON_TEST_CLIENT_SECRET\"
authority_host = \"{authority}\"
token_timeout_seconds = {token_timeout}
",
        common::settings_toml(&services, "client-secret", "RELCON_TEST_UNSET_PAT")
    );
    let path = dir.join("relcon.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn relcon(dir: &std::path::Path, config: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("relcon").unwrap();
    c.arg("--config")
        .arg(config)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--no-cache")
        .env("RELCON_TEST_CLIENT_SECRET", "not-a-real-secret-value")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env("NO_COLOR", "1")
        // A deadline, not a measurement: without the bound, these used to run for minutes.
        .timeout(Duration::from_secs(90));
    c
}

#[test]
fn doctor_names_a_login_endpoint_that_never_answers_and_says_what_it_waits_for() {
    let hole = Blackhole::start();
    let dir = tempfile::tempdir().unwrap();
    let authority = format!("https://127.0.0.1:{}", hole.port);
    let cfg = config(dir.path(), &authority, 5);
    let out = relcon(dir.path(), &cfg).arg("doctor").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        hole.accepted.load(Ordering::SeqCst) > 0,
        "the login endpoint was tried"
    );
    // While it waits: which check is still running.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("relcon doctor: still waiting (") && l.ends_with("): sign-in")),
        "{stderr}"
    );
    // Then the real cause, with the endpoint.
    let login = format!(
        "sign-in {authority}/0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b/oauth2/v2.0/token: cannot reach \
         the login endpoint: no answer after 5 s"
    );
    assert!(stdout.contains(&login), "{stdout}");
    assert!(stdout.contains("were never tried"), "{stdout}");
    assert!(
        !stdout.contains("check auth.tenant_id"),
        "not blamed on the tenant, client or secret: {stdout}"
    );
    // Each service check says it was not reached, instead of waiting its own timeout.
    assert!(
        stdout.contains("Prod workspace   not checked: the sign-in failed"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("not-a-real-secret-value") && !stderr.contains("not-a-real-secret-value")
    );
}

#[test]
fn doctor_and_fleet_name_a_closed_login_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let authority = format!("https://127.0.0.1:{}", closed_port());
    let cfg = config(dir.path(), &authority, 10);
    let out = relcon(dir.path(), &cfg)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sign_in: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "sign-in")
        .collect();
    assert_eq!(
        sign_in.len(),
        4,
        "ARM, DevOps, Log Analytics, the ML data plane: {report}"
    );
    for c in &sign_in {
        let detail = c["detail"].as_str().unwrap();
        assert!(
            detail.contains(&authority) && detail.contains("cannot reach the login endpoint"),
            "{detail}"
        );
        assert!(
            detail.to_lowercase().contains("connection refused"),
            "the cause: {detail}"
        );
    }

    let out = relcon(dir.path(), &cfg).arg("fleet").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("cannot reach the login endpoint") && stderr.contains(&authority),
        "{stderr}"
    );
}
