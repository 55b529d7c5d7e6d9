//! The log file: every request on record (method, URL, status, duration, request id, retries,
//! throttling), and never a credential, even from a service that echoes one back, even with
//! every crate's trace events on.

mod common;

use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use base64::Engine as _;
use common::{Fake, FakeCredential, entra_backend, json};
use relcon::domain::Stage;
use relcon::service::backend::Backend;
use serde_json::json as j;

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-arm-token-d5b2f7a4c1e9";
const PAT: &str = "3fz7kq2mxw9bvd4tn6hj8rc5ys1pl0ga3fz7kq2mxw9bvd4tn6hj";

/// What must never be in a log, stdout or stderr.
fn secrets() -> Vec<String> {
    vec![
        TOKEN.to_owned(),
        PAT.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(format!(":{PAT}")),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(&s), "{what} holds a secret: {s}\n{text}");
    }
}

#[tokio::test]
async fn requests_are_logged_without_a_secret_even_when_a_service_echoes_it() {
    // A service that echoes the Authorization header in its errors, throttles once and then
    // answers.
    let fake = Fake::start(|h| {
        let auth = h.authorization.clone().unwrap_or_default();
        match h.nth {
            0 => json(
                429,
                j!({"error": {"code": "TooManyRequests", "message": auth}}),
            )
            .header("retry-after-ms", "10")
            .header("x-ms-request-id", "req-429"),
            1 => json(
                500,
                j!({"error": {"code": "InternalServerError", "message": auth}}),
            ),
            _ => json(200, j!({"value": [], "authenticatedUser": {"id": "u"}}))
                .header("x-ms-request-id", "req-ok"),
        }
    })
    .await;
    // SAFETY: the variable is unique to this test binary and set before the client reads it.
    unsafe { std::env::set_var("RELCON_LOG_TEST_PAT", PAT) };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relcon.log");
    let subscriber =
        relcon::cli::logging::subscriber(&path, tracing_subscriber::EnvFilter::new("trace"))
            .unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let b = entra_backend(
        &fake,
        FakeCredential::new(TOKEN, Duration::from_secs(3600)),
        "RELCON_LOG_TEST_PAT",
    );
    let e = b.endpoints(Stage::Test).await;
    assert!(e.is_ok(), "{e:?}");
    b.identity().await.unwrap();
    let _ = b.deployment(Stage::Prod, "ep", "missing").await;
    let log = std::fs::read_to_string(&path).unwrap();
    assert_clean("the log", &log);
    // Everything an on-call engineer needs is there.
    assert!(
        log.contains("status=429") && log.contains("req-429"),
        "{log}"
    );
    assert!(log.contains("throttled; waiting"), "{log}");
    assert!(
        log.contains("retrying") && log.contains("status=500"),
        "{log}"
    );
    assert!(
        log.contains("method=GET") && log.contains("/batchEndpoints"),
        "{log}"
    );
    assert!(
        log.contains("request_id=\"req-ok\"") && log.contains("ms="),
        "{log}"
    );
    assert!(log.contains("service=\"devops\""), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_logs_to_its_state_dir_and_never_a_pat() {
    let sim = relcon::sim::start(relcon::sim::SimOptions {
        start: Some(relcon::domain::clock::pinned_start()),
        ..relcon::sim::SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Entra for ARM (no `az` on the PATH: no token) and a PAT for DevOps, which the simulator
    // refuses: requests go out with the PAT and come back 401.
    let config = sim.settings_toml().replace(
        "method = \"simulator\"",
        "method = \"azure-cli\"\ndevops_pat_env = \"RELCON_LOG_TEST_PAT\"",
    );
    let config_path = dir.path().join("relcon.toml");
    std::fs::write(&config_path, config).unwrap();
    let empty_path = dir.path().join("bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    for rust_log in [None, Some("trace")] {
        let state = dir
            .path()
            .join(format!("state-{}", rust_log.unwrap_or("default")));
        let mut cmd = std::process::Command::cargo_bin("relcon").unwrap();
        cmd.args(["--verbose", "--no-cache", "--json", "--config"])
            .arg(&config_path)
            .arg("--state-dir")
            .arg(&state)
            .arg("fleet")
            .env("RELCON_LOG_TEST_PAT", PAT)
            .env("PATH", &empty_path)
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env(
                "RELCON_CLOCK_START",
                relcon::domain::clock::pinned_start().to_rfc3339(),
            )
            .env_remove("RUST_LOG");
        if let Some(l) = rust_log {
            cmd.env("RUST_LOG", l);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let log = std::fs::read_to_string(state.join("relcon.log")).unwrap();
        assert_clean("stdout", &String::from_utf8_lossy(&out.stdout));
        assert_clean("stderr", &String::from_utf8_lossy(&out.stderr));
        assert_clean("the log", &log);
        assert!(log.contains("relcon started"), "{log}");
        assert!(
            log.contains("status=401") && log.contains("/_apis/"),
            "the DevOps requests are on record: {log}"
        );
        assert!(log.contains("refresh done"), "{log}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(state.join("relcon.log"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
