//! Credentials per service: Entra tokens from `azure_identity` (cached per scope until five
//! minutes before expiry, one refresh shared by concurrent callers), an Azure DevOps PAT as basic
//! auth, or the simulator's `relcon-sim.<name>` bearer. Secrets are redacted everywhere.
//!
//! Getting a token has bounded time (`[auth] token_timeout_seconds`, 10 s): a login endpoint
//! that does not answer is named as the cause ("cannot reach the login endpoint ... no answer
//! after 10 s"), not blamed on the tenant, client or secret, and the failure is remembered for
//! [`RETRY_SIGN_IN_AFTER`] so that the requests queued behind it fail at once instead of each
//! waiting its own timeout.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_identity::{
    AzureCliCredential, AzurePipelinesCredential, ClientSecretCredential,
    ClientSecretCredentialOptions, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
};
use base64::Engine as _;
use reqwest::header::HeaderValue;
use tokio::sync::Mutex;

use super::http::Service;
pub use super::sign_in::AuthError;
use super::sign_in::{credential_client_options, error_chain, login_endpoint, unreachable};
use crate::service::backend::ErrorKind;
use crate::settings::{AuthMethod, Settings};

/// The Azure DevOps resource id, as a scope.
pub const DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// The Azure ML data plane (batch endpoint jobs, run history): `az account get-access-token
/// --resource https://ml.azure.com`, the audience of the SDK's batch job and run history clients.
pub const ML_DATA_SCOPE: &str = "https://ml.azure.com/.default";

/// Refresh a cached token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// After a failed sign-in, requests fail with the same error for this long before the next
/// attempt (a refresh, a minute later, tries again).
pub const RETRY_SIGN_IN_AFTER: Duration = Duration::from_secs(30);

/// A credential value: `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An `Authorization` header for one request, and the secret strings it carries (so that a
/// service echoing them in an error body can be redacted).
pub struct AuthHeader {
    /// `None` for a call sent without credentials.
    pub value: Option<HeaderValue>,
    secrets: Vec<SecretString>,
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthHeader(***)")
    }
}

impl AuthHeader {
    fn new(value: String, secrets: Vec<SecretString>) -> Result<Self, String> {
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| "the credential is not a valid HTTP header value".to_owned())?;
        // Keeps it out of reqwest's and hyper's Debug output.
        value.set_sensitive(true);
        Ok(Self {
            value: Some(value),
            secrets,
        })
    }

    /// No header at all (a public document).
    pub fn none() -> Self {
        Self {
            value: None,
            secrets: Vec::new(),
        }
    }

    /// `text` with every secret this header carries replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if s.expose().len() >= 4 {
                out = out.replace(s.expose(), "***");
            }
        }
        out
    }
}

/// Which token a service needs; DevOps and Release share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Arm,
    DevOps,
    Monitor,
    /// The Azure ML data plane: `https://ml.azure.com/.default`.
    MlData,
}

impl Audience {
    fn of(service: Service) -> Audience {
        match service {
            Service::Arm => Audience::Arm,
            Service::DevOps | Service::Release => Audience::DevOps,
            Service::Monitor => Audience::Monitor,
            Service::MlData => Audience::MlData,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

/// One audience's token, or its last failure.
#[derive(Default)]
struct Slot {
    token: Option<CachedToken>,
    failed: Option<(AuthError, Instant)>,
}

enum Mode {
    Simulator {
        user: String,
    },
    Entra {
        credential: Arc<dyn TokenCredential>,
        /// `None` when the PAT variable is unset: DevOps then uses an Entra token.
        devops_pat: Option<SecretString>,
    },
}

/// Signs requests for every service.
pub struct Auth {
    mode: Mode,
    scopes: [String; 4],
    cache: [Mutex<Slot>; 4],
    /// Where tokens come from, for messages.
    endpoint: String,
    /// The most one token may take.
    token_timeout: Duration,
    /// How long a failed sign-in is the answer before it is tried again.
    retry_sign_in_after: Duration,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Simulator { user } => format!("simulator as {user}"),
            Mode::Entra { devops_pat, .. } => format!(
                "entra (devops: {})",
                if devops_pat.is_some() { "PAT" } else { "token" }
            ),
        };
        f.debug_struct("Auth").field("mode", &mode).finish()
    }
}

impl Auth {
    /// Build the credential `auth.method` names. `credential` replaces it (tests, embedding);
    /// `identity_override` is the simulator's `--as` name.
    pub fn new(
        settings: &Settings,
        identity_override: Option<&str>,
        credential: Option<Arc<dyn TokenCredential>>,
    ) -> Result<Auth, String> {
        let scopes = [
            format!("{}/.default", settings.azure.arm_endpoint),
            DEVOPS_SCOPE.to_owned(),
            // Log Analytics: https://api.loganalytics.io/.default; the Application Insights
            // query API: https://api.applicationinsights.io/.default.
            settings
                .monitor
                .source()
                .map(|m| format!("{}/.default", m.endpoint()))
                .unwrap_or_default(),
            // The Azure ML data plane (batch jobs, run history) takes a token for
            // `https://ml.azure.com`, whatever the cloud's ARM endpoint (the SDK's audience).
            ML_DATA_SCOPE.to_owned(),
        ];
        let cache = [
            Mutex::new(Slot::default()),
            Mutex::new(Slot::default()),
            Mutex::new(Slot::default()),
            Mutex::new(Slot::default()),
        ];
        let endpoint = login_endpoint(settings);
        let token_timeout = Duration::from_secs(settings.auth.token_timeout_seconds.max(1));
        let method = settings.auth.method;
        if method == AuthMethod::Simulator && credential.is_none() {
            let user = identity_override
                .map(str::to_owned)
                .or_else(|| env_nonempty("USER"))
                .or_else(|| env_nonempty("USERNAME"))
                .unwrap_or_else(|| "operator".to_owned());
            let user = user.trim().to_owned();
            if user.is_empty() || !user.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "the simulator identity `{user}` must be printable ASCII without spaces"
                ));
            }
            return Ok(Auth {
                mode: Mode::Simulator { user },
                scopes,
                cache,
                endpoint,
                token_timeout,
                retry_sign_in_after: RETRY_SIGN_IN_AFTER,
            });
        }
        let credential = match credential {
            Some(c) => c,
            None => build_credential(settings, token_timeout)?,
        };
        let devops_pat = env_nonempty(&settings.auth.devops_pat_env).map(SecretString::new);
        Ok(Auth {
            mode: Mode::Entra {
                credential,
                devops_pat,
            },
            scopes,
            cache,
            endpoint,
            token_timeout,
            retry_sign_in_after: RETRY_SIGN_IN_AFTER,
        })
    }

    /// Where tokens come from (the login endpoint, `az`...), for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether DevOps calls use a PAT rather than an Entra token.
    pub fn devops_uses_pat(&self) -> bool {
        matches!(
            &self.mode,
            Mode::Entra {
                devops_pat: Some(_),
                ..
            }
        )
    }

    /// The simulator identity, when talking to the simulator.
    pub fn simulator_user(&self) -> Option<&str> {
        match &self.mode {
            Mode::Simulator { user } => Some(user),
            Mode::Entra { .. } => None,
        }
    }

    /// The `Authorization` header for a request to `service`.
    pub async fn header(&self, service: Service) -> Result<AuthHeader, AuthError> {
        let audience = Audience::of(service);
        let config = |message: String| AuthError {
            kind: ErrorKind::Config,
            endpoint: self.endpoint.clone(),
            message,
        };
        match &self.mode {
            Mode::Simulator { user } => {
                let token = format!("relcon-sim.{user}");
                AuthHeader::new(format!("Bearer {token}"), Vec::new()).map_err(config)
            }
            Mode::Entra {
                devops_pat: Some(pat),
                ..
            } if audience == Audience::DevOps => {
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!(":{}", pat.expose()));
                AuthHeader::new(
                    format!("Basic {basic}"),
                    vec![pat.clone(), SecretString::new(basic)],
                )
                .map_err(config)
            }
            Mode::Entra { credential, .. } => {
                let token = self.token(credential.as_ref(), audience).await?;
                AuthHeader::new(format!("Bearer {}", token.expose()), vec![token]).map_err(config)
            }
        }
    }

    /// A cached token for `audience`, refreshed when near expiry. The lock is held across the
    /// refresh so that concurrent callers wait for one refresh instead of starting their own;
    /// the refresh takes at most `token_timeout`, and its failure is what those callers get.
    async fn token(
        &self,
        credential: &dyn TokenCredential,
        audience: Audience,
    ) -> Result<SecretString, AuthError> {
        let mut slot = self.cache[audience.index()].lock().await;
        if let Some(c) = slot.token.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        if let Some((e, at)) = slot.failed.as_ref()
            && at.elapsed() < self.retry_sign_in_after
        {
            return Err(e.clone());
        }
        let scope = self.scopes[audience.index()].as_str();
        let got =
            tokio::time::timeout(self.token_timeout, credential.get_token(&[scope], None)).await;
        let token = match got {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                let e = self.failure(scope, &e);
                slot.failed = Some((e.clone(), Instant::now()));
                return Err(e);
            }
            Err(_) => {
                let e = AuthError {
                    kind: ErrorKind::Timeout,
                    endpoint: self.endpoint.clone(),
                    message: format!(
                        "cannot reach the login endpoint: no answer after {} s (a token for {scope}; \
                         [auth] token_timeout_seconds)",
                        self.token_timeout.as_secs()
                    ),
                };
                slot.failed = Some((e.clone(), Instant::now()));
                return Err(e);
            }
        };
        let left = token.expires_on.unix_timestamp()
            - azure_core::time::OffsetDateTime::now_utc().unix_timestamp();
        let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
        let secret = SecretString::new(token.token.secret());
        *slot = Slot {
            token: Some(CachedToken {
                token: secret.clone(),
                refresh_at: Instant::now() + left.saturating_sub(REFRESH_MARGIN),
            }),
            failed: None,
        };
        Ok(secret)
    }

    /// A credential's error, classified: a login endpoint that cannot be reached is a network
    /// problem (name the endpoint and the cause), anything else is the credential's.
    fn failure(&self, scope: &str, e: &azure_core::Error) -> AuthError {
        if unreachable(e) {
            // The innermost cause says it ("Connection refused", "dns error"); the wrappers
            // around it (retry policy, troubleshooting links) do not.
            let mut cause = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                cause = s.to_string();
                src = s.source();
            }
            AuthError {
                kind: ErrorKind::Network,
                endpoint: self.endpoint.clone(),
                message: format!("cannot reach the login endpoint: {cause}"),
            }
        } else {
            let chain = error_chain(e);
            AuthError {
                kind: ErrorKind::Auth,
                endpoint: self.endpoint.clone(),
                message: format!("could not get a token for {scope}: {chain}"),
            }
        }
    }

    /// Forget the cached token for `service` after a 401, unless it was already replaced.
    pub fn invalidate(&self, service: Service, used: &AuthHeader) {
        let audience = Audience::of(service);
        if let Ok(mut slot) = self.cache[audience.index()].try_lock()
            && slot
                .token
                .as_ref()
                .is_some_and(|c| used.secrets.iter().any(|s| s == &c.token))
        {
            slot.token = None;
        }
    }
}

pub(super) fn env_nonempty(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The `azure_identity` credential for `auth.method`.
fn build_credential(
    settings: &Settings,
    timeout: Duration,
) -> Result<Arc<dyn TokenCredential>, String> {
    let a = &settings.auth;
    let fail = |e: azure_core::Error| format!("auth.method = \"{}\": {e}", a.method.as_str());
    let need = |what: &str, v: Option<String>| {
        v.ok_or_else(|| format!("auth.method = \"{}\" needs {what}", a.method.as_str()))
    };
    let tenant = a.tenant_id.as_ref().map(|g| g.0.clone());
    let client = a.client_id.as_ref().map(|g| g.0.clone());
    let credential: Arc<dyn TokenCredential> = match a.method {
        AuthMethod::AzureCli => AzureCliCredential::new(None).map_err(fail)?,
        AuthMethod::DeveloperTools => DeveloperToolsCredential::new(None).map_err(fail)?,
        AuthMethod::ClientSecret => {
            let secret = env_nonempty(&a.client_secret_env).ok_or_else(|| {
                format!(
                    "auth.method = \"client-secret\" reads the secret from ${}, which is not set",
                    a.client_secret_env
                )
            })?;
            ClientSecretCredential::new(
                &need("auth.tenant_id", tenant)?,
                need("auth.client_id", client)?,
                azure_core::credentials::Secret::new(secret),
                Some(ClientSecretCredentialOptions {
                    client_options: credential_client_options(settings, timeout),
                }),
            )
            .map_err(fail)?
        }
        AuthMethod::WorkloadIdentity => {
            // Tenant, client id and token file come from AZURE_* variables unless configured.
            let options = azure_identity::WorkloadIdentityCredentialOptions {
                tenant_id: tenant,
                client_id: client,
                credential_options: azure_identity::ClientAssertionCredentialOptions {
                    client_options: credential_client_options(settings, timeout),
                },
                ..Default::default()
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(fail)?
        }
        AuthMethod::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client.map(UserAssignedId::ClientId),
                client_options: credential_client_options(settings, timeout),
            };
            ManagedIdentityCredential::new(Some(options)).map_err(fail)?
        }
        AuthMethod::AzurePipelines => {
            let access = env_nonempty("SYSTEM_ACCESSTOKEN").ok_or_else(|| {
                "auth.method = \"azure-pipelines\" needs $SYSTEM_ACCESSTOKEN (map it into the \
                 pipeline step's environment)"
                    .to_owned()
            })?;
            AzurePipelinesCredential::new(
                need("auth.tenant_id", tenant)?,
                need("auth.client_id", client)?,
                &need(
                    "auth.service_connection_id",
                    a.service_connection_id.clone(),
                )?,
                azure_core::credentials::Secret::new(access),
                Some(azure_identity::AzurePipelinesCredentialOptions {
                    credential_options: azure_identity::ClientAssertionCredentialOptions {
                        client_options: credential_client_options(settings, timeout),
                    },
                }),
            )
            .map_err(fail)?
        }
        AuthMethod::Simulator => {
            return Err("the simulator needs no credential".to_owned());
        }
    };
    Ok(credential)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = SecretString::new("eyJ0eXAiOiJKV1QiLCJhbGciOi");
        assert_eq!(format!("{s}"), "***");
        assert!(!format!("{s:?}").contains("eyJ0"));
        let h = AuthHeader::new(format!("Bearer {}", s.expose()), vec![s.clone()]).unwrap();
        assert!(!format!("{h:?}").contains("eyJ0"));
        assert!(h.value.as_ref().is_some_and(|v| v.is_sensitive()));
        assert_eq!(
            h.redact("bad token eyJ0eXAiOiJKV1QiLCJhbGciOi here"),
            "bad token *** here"
        );
    }

    /// Settings for `method`, with a tenant and a client, and secrets from unset variables.
    pub(crate) fn settings(method: &str) -> Settings {
        let text = format!(
            r#"
[azure]
subscription_id = "6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60"
[workspaces.dev]
resource_group = "rg"
name = "dev"
[workspaces.test]
resource_group = "rg"
name = "test"
[workspaces.prod]
resource_group = "rg"
name = "prod"
[registry]
resource_group = "rg"
name = "mlr"
[devops]
organization = "o"
project = "p"
release_definition_id = 1
config_repository = "r"
[monitor]
log_analytics_workspace_id = "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
[auth]
method = "{method}"
tenant_id = "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
client_id = "1b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
service_connection_id = "sc-1"
client_secret_env = "RELCON_UNIT_UNSET_SECRET"
devops_pat_env = "RELCON_UNIT_UNSET_PAT"
"#
        );
        Settings::parse(&text, "t.toml").unwrap()
    }

    #[test]
    fn credentials_that_need_nothing_at_construction_build() {
        for method in ["azure-cli", "developer-tools", "managed-identity"] {
            let auth = Auth::new(&settings(method), None, None);
            assert!(auth.is_ok(), "{method}: {:?}", auth.err());
        }
    }

    #[test]
    fn missing_secrets_are_named() {
        let e = Auth::new(&settings("client-secret"), None, None).unwrap_err();
        assert!(e.contains("$RELCON_UNIT_UNSET_SECRET"), "{e}");
        if std::env::var_os("SYSTEM_ACCESSTOKEN").is_none() {
            let e = Auth::new(&settings("azure-pipelines"), None, None).unwrap_err();
            assert!(e.contains("SYSTEM_ACCESSTOKEN"), "{e}");
        }
    }

    #[test]
    fn scopes_follow_the_configured_endpoints() {
        let a = Auth::new(&settings("azure-cli"), None, None).unwrap();
        assert_eq!(
            a.scopes[Audience::Arm.index()],
            "https://management.azure.com/.default"
        );
        assert_eq!(a.scopes[Audience::DevOps.index()], DEVOPS_SCOPE);
        assert_eq!(
            a.scopes[Audience::Monitor.index()],
            "https://api.loganalytics.io/.default"
        );
        assert!(a.simulator_user().is_none());
    }

    /// A credential that never answers, or fails as told; counts its calls.
    #[derive(Debug)]
    struct Stuck {
        fail_with: Option<azure_core::error::ErrorKind>,
        calls: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl TokenCredential for Stuck {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match &self.fail_with {
                None => std::future::pending().await,
                // What Entra says of a wrong secret: an answer, not a network failure.
                Some(azure_core::error::ErrorKind::Credential) => {
                    Err(azure_core::Error::with_message(
                        azure_core::error::ErrorKind::Credential,
                        "ClientSecretCredential authentication failed. AADSTS7000215: Invalid \
                         client secret provided",
                    ))
                }
                Some(kind) => Err(azure_core::Error::with_error(
                    azure_core::error::ErrorKind::Credential,
                    azure_core::Error::with_error(
                        kind.clone(),
                        std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
                        "failed to execute `reqwest` request",
                    ),
                    "ClientSecretCredential authentication failed. retry policy expired",
                )),
            }
        }
    }

    fn stuck(fail_with: Option<azure_core::error::ErrorKind>) -> Arc<Stuck> {
        Arc::new(Stuck {
            fail_with,
            calls: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn a_login_endpoint_that_never_answers_is_named_after_the_timeout_and_not_asked_again() {
        let mut s = settings("client-secret");
        s.auth.authority_host =
            Some(crate::settings::BaseUrl::parse("https://login.example.test").unwrap());
        s.auth.token_timeout_seconds = 1;
        let credential = stuck(None);
        let mut auth = Auth::new(&s, None, Some(credential.clone())).unwrap();
        let calls = || credential.calls.load(std::sync::atomic::Ordering::SeqCst);
        // The credential never answers: only the timeout ends this.
        let e = auth.header(Service::Arm).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(
            e.endpoint,
            "https://login.example.test/0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b/oauth2/v2.0/token"
        );
        assert!(
            e.message
                .contains("cannot reach the login endpoint: no answer after 1 s"),
            "{e}"
        );
        // The requests queued behind it get the same cause without asking again.
        assert_eq!(auth.header(Service::Arm).await.unwrap_err(), e);
        assert_eq!(calls(), 1);
        // After a while, the next request tries again.
        auth.retry_sign_in_after = Duration::ZERO;
        assert!(auth.header(Service::Arm).await.is_err());
        assert_eq!(calls(), 2);
        // As a backend error: method `sign-in`, the login endpoint as the URL.
        let b = e.into_backend();
        assert_eq!((b.method.as_str(), b.kind), ("sign-in", ErrorKind::Timeout));
        assert!(b.url.starts_with("https://login.example.test/"));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_network_problem_with_its_cause_not_a_bad_secret() {
        let auth = Auth::new(
            &settings("client-secret"),
            None,
            Some(stuck(Some(azure_core::error::ErrorKind::Connection))),
        )
        .unwrap();
        let e = auth.header(Service::Monitor).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network);
        assert!(
            e.endpoint.starts_with("https://login.microsoftonline.com/"),
            "{e}"
        );
        assert!(
            e.message
                .ends_with("cannot reach the login endpoint: connection refused"),
            "{e}"
        );
        // A credential refused by Entra is the credential's problem.
        let auth = Auth::new(
            &settings("client-secret"),
            None,
            Some(stuck(Some(azure_core::error::ErrorKind::Credential))),
        )
        .unwrap();
        let err = auth.header(Service::Arm).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth, "{err}");
        assert!(err.message.contains("AADSTS7000215"), "{err}");
    }

    #[test]
    fn the_application_insights_api_has_its_own_scope() {
        let mut s = settings("azure-cli");
        s.monitor.application_insights_app_id = s.monitor.log_analytics_workspace_id.take();
        let a = Auth::new(&s, None, None).unwrap();
        assert_eq!(
            a.scopes[Audience::Monitor.index()],
            "https://api.applicationinsights.io/.default"
        );
    }

    #[test]
    fn simulator_identity_from_override() {
        let a = Auth::new(&settings("simulator"), Some("bob"), None).unwrap();
        assert_eq!(a.simulator_user(), Some("bob"));
        assert!(Auth::new(&settings("simulator"), Some("bob smith"), None).is_err());
    }
}
