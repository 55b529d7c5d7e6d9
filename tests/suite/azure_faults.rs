//! The Azure client when things go wrong: throttling, server errors, resets, malformed JSON,
//! unexpected statuses, auth failures; reads retried, mutations never, secrets never shown.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{
    Fake, FakeCredential, entra_backend, json, quick_options, reply, settings, sim_backend,
};
use relcon::azure::{AzureBackend, ClientOptions, RetryPolicy};
use relcon::domain::ModelVersion;
use relcon::domain::Stage;
use relcon::domain::platform::{ApprovalStatus, ModelAsset};
use relcon::service::backend::{Backend, ErrorKind, MonitorQuery};
use serde_json::json as j;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn throttled_then_success_waits_the_retry_after() {
    let fake = Fake::start(|h| match h.nth {
        0 => json(
            429,
            j!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .header("Retry-After", "1"),
        _ => json(200, j!({"value": [{"name": "ep"}]})),
    })
    .await;
    let b = sim_backend(&fake);
    let started = Instant::now();
    let eps = b.endpoints(Stage::Test).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(eps.len(), 1);
    let s = b.stats();
    assert_eq!((s.arm, s.retries, s.throttled), (2, 1, 1));
    // The backoff base is 1 ms: only the Retry-After explains a wait of a second.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn a_retry_after_longer_than_relcon_waits_fails_at_once() {
    let fake = Fake::start(|_| {
        json(
            429,
            j!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .header("Retry-After", "3600")
    })
    .await;
    let b = sim_backend(&fake);
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.status, Some(429));
    assert!(
        e.message.contains("slow down") && e.message.contains("3600"),
        "{e}"
    );
    assert_eq!(fake.hits().len(), 1);
    assert_eq!(b.stats().throttled, 1);
}

#[tokio::test]
async fn throttling_does_not_spend_the_retry_budget_of_a_read() {
    // Six 429s in a row: more than the four retries a failing read gets, and still no error.
    let fake = Fake::start(|h| match h.nth {
        0..=5 => json(
            429,
            j!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .header("retry-after-ms", "5"),
        _ => json(200, j!({"value": [{"name": "ep"}]})),
    })
    .await;
    let b = sim_backend(&fake);
    assert_eq!(b.endpoints(Stage::Test).await.unwrap().len(), 1);
    let s = b.stats();
    assert_eq!((s.arm, s.throttled, s.retries), (7, 6, 6));
    assert!(
        s.held_ms >= 30,
        "each retry waited out its Retry-After: {s:?}"
    );
}

#[tokio::test]
async fn a_read_throttled_past_its_budget_fails_as_throttled_and_stops_sending() {
    let fake = Fake::start(|_| {
        json(
            429,
            j!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .header("retry-after-ms", "100")
    })
    .await;
    let mut options = quick_options();
    options.retry.throttle_budget = Duration::from_millis(450);
    let b = AzureBackend::new(
        &settings(&fake.base, "simulator", "RELCON_UNSET_PAT"),
        options,
    )
    .unwrap();
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Throttled, Some(429)));
    assert!(e.message.contains("stops waiting"), "{e}");
    // One try, then one a Retry-After apart while the budget lasts: no storm.
    let hits = fake.hits().len();
    assert!((4..=6).contains(&hits), "{hits} requests");
}

#[tokio::test]
async fn a_devops_retry_after_on_a_success_holds_the_next_devops_request() {
    // Microsoft's guidance for Azure DevOps: a Retry-After on any response means wait.
    let fake = Fake::start(|h| match h.nth {
        0 => json(200, j!({"authenticatedUser": {"id": "u"}})).header("Retry-After", "1"),
        _ => json(200, j!({"authenticatedUser": {"id": "u"}})),
    })
    .await;
    let b = sim_backend(&fake);
    b.identity().await.unwrap();
    let started = Instant::now();
    b.identity().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert!(b.stats().held_ms >= 900, "{:?}", b.stats());
    // ARM's Retry-After on a success is an operation's poll interval, not a pause.
    let arm = Fake::start(|_| json(200, j!({"value": []})).header("Retry-After", "30")).await;
    let b = sim_backend(&arm);
    b.endpoints(Stage::Test).await.unwrap();
    let started = Instant::now();
    b.endpoints(Stage::Prod).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_on_reads_are_retried_until_the_budget_is_spent() {
    let fake = Fake::start(|h| match h.nth {
        0 | 1 => reply(503, "upstream busy"),
        _ => json(200, j!({"value": []})),
    })
    .await;
    let b = sim_backend(&fake);
    b.endpoints(Stage::Prod).await.unwrap();
    assert_eq!((b.stats().arm, b.stats().retries), (3, 2));

    let always = Fake::start(|_| {
        json(
            500,
            j!({"error": {"code": "InternalServerError", "message": "boom"}}),
        )
        .header("x-ms-request-id", "req-500")
    })
    .await;
    let b = sim_backend(&always);
    let e = b.endpoints(Stage::Prod).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.request_id.as_deref(), Some("req-500"));
    assert!(e.message.contains("InternalServerError: boom"), "{e}");
    // One try and four retries by default.
    assert_eq!(always.hits().len(), 5);
    assert_eq!(b.stats().retries, 4);
}

#[tokio::test]
async fn a_failed_put_is_sent_once_and_reported_ambiguous() {
    let fake = Fake::start(|h| match h.method.as_str() {
        "GET" => json(
            200,
            j!({"name": "d", "properties": {"model": {"assetId": "azureml:m:1"}}}),
        ),
        _ => json(
            500,
            j!({"error": {"code": "InternalServerError", "message": "lost"}}),
        ),
    })
    .await;
    let b = sim_backend(&fake);
    let m = ModelAsset {
        registry: Some("mlr".into()),
        name: "m".into(),
        version: ModelVersion(2),
    };
    let e = b
        .begin_set_deployment_model(Stage::Prod, "ep", "d", &m)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.method.as_str(), e.status),
        (ErrorKind::Server, "PUT", Some(500))
    );
    assert!(e.is_ambiguous());
    assert_eq!(fake.hits_to("PUT", "/deployments/d").len(), 1);
    assert_eq!(b.stats().retries, 0);
}

#[tokio::test]
async fn a_conflicting_put_is_a_conflict_not_ambiguous() {
    let fake = Fake::start(|h| match h.method.as_str() {
        "GET" => json(200, j!({"name": "d", "properties": {}})),
        _ => json(
            409,
            j!({"error": {"code": "Conflict", "message": "operation in progress"}}),
        ),
    })
    .await;
    let m = ModelAsset::parse("azureml://registries/mlr/models/m/versions/2").unwrap();
    let e = sim_backend(&fake)
        .begin_set_deployment_model(Stage::Test, "ep", "d", &m)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(!e.is_ambiguous());
}

#[tokio::test]
async fn an_approval_no_longer_pending_is_a_conflict_sent_once() {
    let fake = Fake::start(|_| {
        json(
            400,
            j!({"$id": "1", "message": "VS402860: The approval has already been approved by Bob.",
                "typeName": "Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions.InvalidRequestException",
                "typeKey": "InvalidRequestException", "errorCode": 0, "eventId": 3000}),
        )
        .header("ActivityId", "act-1")
    })
    .await;
    let b = sim_backend(&fake);
    let e = b
        .decide_approval(&7.into(), ApprovalStatus::Approved, "lgtm")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(!e.is_ambiguous());
    assert!(e.message.contains("VS402860"), "{e}");
    assert_eq!(e.request_id.as_deref(), Some("act-1"));
    assert_eq!(fake.hits().len(), 1);
}

/// A server that resets the first connection after reading the request, then answers.
async fn resetting_server(body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let r = sock.read(&mut buf).await.unwrap();
                    if r == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..r]);
                }
                if n == 0 {
                    // RST instead of a response.
                    sock.set_zero_linger().unwrap();
                    drop(sock);
                    return;
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                sock.write_all(resp.as_bytes()).await.unwrap();
            });
        }
    });
    (base, accepted)
}

#[tokio::test]
async fn a_connection_reset_on_a_read_is_retried() {
    let (base, accepted) = resetting_server(r#"{"value":[{"name":"ep"}]}"#).await;
    let b = AzureBackend::new(
        &settings(&base, "simulator", "RELCON_UNSET_PAT"),
        quick_options(),
    )
    .unwrap();
    let eps = b.endpoints(Stage::Test).await.unwrap();
    assert_eq!(eps[0].name, "ep");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!((b.stats().arm, b.stats().retries), (2, 1));
}

#[tokio::test]
async fn a_connection_reset_on_a_mutation_is_not_retried_and_is_ambiguous() {
    let (base, accepted) = resetting_server("{}").await;
    let b = AzureBackend::new(
        &settings(&base, "simulator", "RELCON_UNSET_PAT"),
        quick_options(),
    )
    .unwrap();
    let e = b
        .decide_approval(&1.into(), ApprovalStatus::Rejected, "no")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(e.is_ambiguous());
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn malformed_json_names_the_url_status_and_place() {
    let fake = Fake::start(|h| {
        if h.path.contains("/deployments") {
            json(200, j!({"value": [{"name": "ok"}, {"name": 5}]}))
        } else {
            reply(200, "<html>gateway</html>")
        }
    })
    .await;
    let b = sim_backend(&fake);
    let e = b
        .deployments(Stage::Test, "batch-endpoint-plant001")
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Decode, Some(200)));
    assert!(
        e.url
            .contains("/batchEndpoints/batch-endpoint-plant001/deployments"),
        "{}",
        e.url
    );
    assert!(e.message.contains("value[1].name"), "{e}");
    assert!(e.message.contains("batch deployment list"), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("GET ") && shown.contains("HTTP 200"),
        "{shown}"
    );
    // Well-formed JSON is not retried: it would come back the same.
    assert_eq!(b.stats().retries, 0);

    let e = b.release_history().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(e.url.contains("/_apis/release/releases"), "{}", e.url);
}

#[tokio::test]
async fn an_unexpected_status_is_named_with_the_body() {
    let fake = Fake::start(|_| reply(418, "short and stout")).await;
    let b = sim_backend(&fake);
    let e = b.identity().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Server, Some(418)));
    assert!(
        e.url.contains("/devops/contoso/_apis/connectionData"),
        "{}",
        e.url
    );
    assert!(
        e.message.contains("I'm a teapot") && e.message.contains("short and stout"),
        "{e}"
    );
    assert!(!e.is_ambiguous(), "a 4xx is a definite refusal");
    assert_eq!(fake.hits().len(), 1);
}

#[tokio::test]
async fn unauthorized_and_forbidden_carry_the_service_message() {
    let fake = Fake::start(|h| {
        if h.path.starts_with("/arm") {
            json(
                401,
                j!({"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}}),
            )
            .header("x-ms-request-id", "arm-req-1")
            .header("WWW-Authenticate", "Bearer")
        } else if h.path.starts_with("/la") {
            json(
                403,
                j!({"error": {"code": "InsufficientAccessError", "message": "No read access",
                    "innererror": {"code": "x", "message": "needs Log Analytics Reader"}}}),
            )
        } else {
            json(
                403,
                j!({"message": "VS403403: Alice needs View release permission.", "typeKey": "AccessCheckException"}),
            )
            .header("ActivityId", "act-403")
        }
    })
    .await;
    let b = sim_backend(&fake);
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("The access token is invalid."), "{e}");
    assert_eq!(e.request_id.as_deref(), Some("arm-req-1"));
    let e = b.release_history().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(
        e.message.contains("VS403403") && e.message.contains("AccessCheckException"),
        "{e}"
    );
    assert_eq!(e.request_id.as_deref(), Some("act-403"));
    let e = b.monitor(MonitorQuery::Accuracy).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("needs Log Analytics Reader"), "{e}");
    // Neither is retried.
    assert_eq!(b.stats().retries, 0);
}

#[tokio::test]
async fn the_token_never_appears_in_an_error() {
    const TOKEN: &str = "eyJ0eXAiOiJKV1Qi.s3cr3t-payload.signature";
    // A service that echoes the Authorization header back in its error.
    let fake = Fake::start(|h| {
        let echoed = h.authorization.clone().unwrap_or_default();
        json(
            401,
            j!({"error": {"code": "InvalidAuthenticationToken", "message": format!("rejected {echoed}")}}),
        )
    })
    .await;
    let cred = FakeCredential::new(TOKEN, Duration::from_secs(3600));
    let b = entra_backend(&fake, cred, "RELCON_UNSET_PAT");
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    // The token was really sent and really echoed...
    assert_eq!(
        fake.hits()[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(e.message.contains("rejected Bearer ***"), "{e}");
    // ...and shows up nowhere relcon could print it.
    for shown in [e.to_string(), format!("{e:?}"), format!("{b:?}")] {
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}

#[tokio::test]
async fn a_credential_failure_is_an_auth_error_without_a_request() {
    #[derive(Debug)]
    struct Broken;
    #[async_trait::async_trait]
    impl azure_core::credentials::TokenCredential for Broken {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "Please run 'az login' to set up an account",
            ))
        }
    }
    let fake = Fake::start(|_| reply(200, "{}")).await;
    let b = AzureBackend::new(
        &settings(&fake.base, "azure-cli", "RELCON_UNSET_PAT"),
        ClientOptions {
            credential: Some(Arc::new(Broken)),
            ..quick_options()
        },
    )
    .unwrap();
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message.contains("az login") && e.message.contains("/arm/.default"),
        "{e}"
    );
    assert!(fake.hits().is_empty());
}

#[tokio::test]
async fn not_found_and_timeouts() {
    let fake = Fake::start(|h| {
        if h.path.contains("/slow") {
            reply(200, "{}")
        } else {
            json(
                404,
                j!({"error": {"code": "ResourceNotFound", "message": "no deployment d"}}),
            )
        }
    })
    .await;
    let e = sim_backend(&fake)
        .deployment(Stage::Test, "ep", "d")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("no deployment d"));

    // A server that accepts and never answers: each read times out, and is retried.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let b = AzureBackend::new(
        &settings(&base, "simulator", "RELCON_UNSET_PAT"),
        ClientOptions {
            timeout: Duration::from_millis(200),
            retry: RetryPolicy {
                max_retries: 1,
                base_delay: Duration::from_millis(1),
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.is_ambiguous());
    assert_eq!((b.stats().arm, b.stats().retries), (2, 1));
}

#[tokio::test]
async fn log_analytics_queries_are_reads_and_are_retried() {
    let fake = Fake::start(|h| match h.nth {
        0 => reply(502, "bad gateway"),
        _ => json(
            200,
            j!({"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]}),
        ),
    })
    .await;
    let b = sim_backend(&fake);
    b.monitor(MonitorQuery::Drift).await.unwrap();
    assert_eq!((b.stats().monitor, b.stats().retries), (2, 1));
    assert!(fake.hits().iter().all(|h| h.method == "POST"));
}

#[tokio::test]
async fn concurrency_is_bounded_per_service() {
    use axum::extract::State;
    use tokio::sync::{Semaphore, watch};

    struct Probe {
        in_flight: AtomicUsize,
        seen: watch::Sender<usize>,
        release: Semaphore,
    }
    let (tx, mut rx) = watch::channel(0usize);
    let probe = Arc::new(Probe {
        in_flight: AtomicUsize::new(0),
        seen: tx,
        release: Semaphore::new(0),
    });
    async fn held(State(p): State<Arc<Probe>>) -> axum::Json<serde_json::Value> {
        let now = p.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        p.seen.send_modify(|m| *m = (*m).max(now));
        let permit = p.release.acquire().await.unwrap();
        permit.forget();
        p.in_flight.fetch_sub(1, Ordering::SeqCst);
        axum::Json(j!({"value": []}))
    }
    let app = axum::Router::new().fallback(held).with_state(probe.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let b = Arc::new(
        AzureBackend::new(
            &settings(&base, "simulator", "RELCON_UNSET_PAT"),
            ClientOptions {
                concurrency: 2,
                ..quick_options()
            },
        )
        .unwrap(),
    );
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.endpoints(Stage::Test).await })
        })
        .collect();
    rx.wait_for(|m| *m == 2).await.unwrap();
    // Two are held in the server; a third could only arrive if the bound were broken. This
    // wait is the observation window for that, not a synchronisation.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(probe.in_flight.load(Ordering::SeqCst), 2);
    probe.release.add_permits(6);
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(b.stats().arm, 6);
}

#[tokio::test]
async fn a_devops_sign_in_page_is_an_auth_error() {
    let fake = Fake::start(|h| {
        if h.path.contains("connectionData") {
            reply(203, "<html><body>Sign in</body></html>").header("content-type", "text/html")
        } else {
            reply(302, "").header(
                "Location",
                "https://spsprodweu5.vssps.visualstudio.com/_signin?realm=x",
            )
        }
    })
    .await;
    let b = sim_backend(&fake);
    let e = b.identity().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Auth, Some(203)));
    assert!(e.message.contains("sign-in page"), "{e}");
    let e = b.release_history().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Auth, Some(302)));
}

#[test]
fn a_configuration_error_reads_without_an_empty_method_and_url() {
    // The settings refuse `client-secret` without tenant and client ids; with them, an unset
    // secret variable is the client's own check.
    let mut s = settings("http://127.0.0.1:9", "azure-cli", "RELCON_UNSET_PAT");
    s.auth.method = relcon::settings::AuthMethod::ClientSecret;
    s.auth.tenant_id = Some(relcon::settings::Guid(
        "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b".into(),
    ));
    s.auth.client_id = Some(relcon::settings::Guid(
        "1b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b".into(),
    ));
    s.auth.client_secret_env = "RELCON_TEST_UNSET_SECRET_VAR".into();
    let e = AzureBackend::new(&s, ClientOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.to_string().starts_with("auth.method = \"client-secret\""),
        "{e}"
    );
    assert!(
        e.to_string().contains("$RELCON_TEST_UNSET_SECRET_VAR"),
        "{e}"
    );
}
