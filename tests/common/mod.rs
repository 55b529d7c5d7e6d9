//! A small scripted fake of the Azure services on 127.0.0.1, a fake credential, and settings
//! pointing relcon at them. Shared by the `azure_*` test binaries.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use relcon::azure::{AzureBackend, ClientOptions, RetryPolicy};
use relcon::settings::Settings;
use reqwest::Url;

pub mod yaml_world;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    /// Path and raw query, as sent.
    pub path: String,
    pub query: HashMap<String, String>,
    pub authorization: Option<String>,
    /// The `Host` header, for building absolute links back to the fake.
    pub host: String,
    pub body: String,
    /// How many earlier requests had the same method and path (0 for the first).
    pub nth: usize,
}

impl Hit {
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the fake answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }
}

pub fn json(status: u16, v: serde_json::Value) -> Reply {
    reply(status, v.to_string())
}

impl Reply {
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

type Script = dyn Fn(&Hit) -> Reply + Send + Sync;

struct FakeState {
    script: Box<Script>,
    hits: Mutex<Vec<Hit>>,
}

/// A running fake; `base` is `http://127.0.0.1:PORT`.
pub struct Fake {
    pub base: String,
    state: Arc<FakeState>,
}

impl Fake {
    pub async fn start(script: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> Fake {
        let state = Arc::new(FakeState {
            script: Box::new(script),
            hits: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    pub fn hits_to(&self, method: &str, path_contains: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.method == method && h.path.contains(path_contains))
            .collect()
    }
}

async fn handle(State(state): State<Arc<FakeState>>, req: Request) -> Response {
    let method = req.method().to_string();
    let uri = req.uri().clone();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let query = Url::parse(&format!("http://x{path}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let authorization = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    let host = req
        .headers()
        .get("host")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    let hit = {
        let mut hits = state.hits.lock().unwrap();
        let nth = hits
            .iter()
            .filter(|h| h.method == method && h.path.split('?').next() == path.split('?').next())
            .count();
        let hit = Hit {
            method,
            path,
            query,
            authorization,
            host,
            body: String::from_utf8_lossy(&body).into_owned(),
            nth,
        };
        hits.push(hit.clone());
        hit
    };
    let r = (state.script)(&hit);
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap();
    for (k, v) in r.headers {
        resp.headers_mut().append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

/// Settings with every endpoint on `base` (`/arm`, `/devops`, `/vsrm`, `/la`).
pub fn settings(base: &str, method: &str, pat_env: &str) -> Settings {
    Settings::parse(&settings_toml(base, method, pat_env), "test.toml").unwrap()
}

/// The text of [`settings`]; `[auth]` is its last table, so keys can be appended to it.
pub fn settings_toml(base: &str, method: &str, pat_env: &str) -> String {
    format!(
        r#"
[azure]
subscription_id = "6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60"
arm_endpoint = "{base}/arm"

[workspaces.dev]
resource_group = "rg-dev"
name = "ws-dev"
[workspaces.test]
resource_group = "rg-test"
name = "ws-test"
[workspaces.prod]
resource_group = "rg-prod"
name = "ws-prod"

[registry]
resource_group = "rg-shared"
name = "mlr"

[devops]
organization = "contoso"
project = "forecasting"
release_definition_id = 12
config_repository = "forecast-config"
endpoint = "{base}/devops"
release_endpoint = "{base}/vsrm"

[monitor]
log_analytics_workspace_id = "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
endpoint = "{base}/la"

[auth]
method = "{method}"
devops_pat_env = "{pat_env}"
"#
    )
}

/// Fast retries, so that tests of retry counts take milliseconds.
pub fn quick_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    }
}

/// The simulator client (`Bearer relcon-sim.alice`).
pub fn sim_backend(fake: &Fake) -> AzureBackend {
    let options = ClientOptions {
        identity_override: Some("alice".into()),
        ..quick_options()
    };
    AzureBackend::new(
        &settings(&fake.base, "simulator", "RELCON_UNSET_PAT"),
        options,
    )
    .unwrap()
}

/// A credential that hands out a fixed token and counts how often it was asked.
#[derive(Debug)]
pub struct FakeCredential {
    pub token: String,
    pub lifetime: Duration,
    pub calls: AtomicUsize,
    pub scopes: Mutex<Vec<String>>,
}

impl FakeCredential {
    pub fn new(token: &str, lifetime: Duration) -> Arc<FakeCredential> {
        Arc::new(FakeCredential {
            token: token.to_owned(),
            lifetime,
            calls: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.scopes
            .lock()
            .unwrap()
            .extend(scopes.iter().map(|s| (*s).to_owned()));
        // Let concurrent callers pile up behind the refresh.
        tokio::task::yield_now().await;
        let expires = azure_core::time::OffsetDateTime::now_utc()
            + azure_core::time::Duration::seconds(self.lifetime.as_secs() as i64);
        Ok(AccessToken::new(self.token.clone(), expires))
    }
}

/// A client with `credential` instead of a real Azure credential.
pub fn entra_backend(fake: &Fake, credential: Arc<FakeCredential>, pat_env: &str) -> AzureBackend {
    let options = ClientOptions {
        credential: Some(credential),
        ..quick_options()
    };
    AzureBackend::new(&settings(&fake.base, "azure-cli", pat_env), options).unwrap()
}

/// The ARM workspace path prefix for a stage's workspace name.
pub fn ws(name: &str, rg: &str) -> String {
    format!(
        "/arm/subscriptions/6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    )
}

/// Client options for tests against the simulator: acting as carol, with short retry waits.
pub fn carol_quick() -> ClientOptions {
    let mut o = ClientOptions {
        identity_override: Some("carol".into()),
        ..ClientOptions::default()
    };
    o.retry.base_delay = Duration::from_millis(5);
    o.retry.max_delay = Duration::from_millis(50);
    o
}

/// The seed-7 demo world on the pinned clock, which barely moves unless a test moves it.
pub async fn still_sim() -> relcon::sim::SimHandle {
    relcon::sim::start(relcon::sim::SimOptions {
        seed: 7,
        start: Some(relcon::domain::clock::pinned_start()),
        speed: 0.001,
        ..relcon::sim::SimOptions::default()
    })
    .await
    .expect("simulator starts")
}
