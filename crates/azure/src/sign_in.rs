//! Signing in, as the user sees it: where a credential gets its tokens (the login endpoint of
//! the configured cloud, `az`, the managed identity endpoint), the options that keep its own
//! retries inside relcon's token timeout, and its failures told apart: a login endpoint that
//! cannot be reached is a network problem with a cause, not a bad secret.

use std::sync::Arc;
use std::time::Duration;

use super::auth::env_nonempty;
use crate::service::backend::{BackendError, ErrorKind};
use crate::settings::{AuthMethod, Settings};

/// The public cloud's Entra ID login endpoint.
const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Why no `Authorization` header could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// `Network` / `Timeout`: the login endpoint could not be reached (not a bad secret);
    /// `Auth`: the credential was refused or is not set up; `Config`: relcon's settings.
    pub kind: ErrorKind,
    /// Where relcon asked for the token: the login endpoint, `az`, the managed identity
    /// endpoint.
    pub endpoint: String,
    pub message: String,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sign-in at {}: {}", self.endpoint, self.message)
    }
}

impl AuthError {
    /// As a backend error: method `sign-in`, the endpoint as its URL.
    pub fn into_backend(self) -> BackendError {
        BackendError::new(self.kind, "sign-in", &self.endpoint, self.message)
    }
}

/// The error and its causes on one line (a refused connection is several levels down).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    super::http::error_chain(e).replace(['\n', '\r'], " ")
}

/// Whether a credential failed because its endpoint could not be reached (connection refused,
/// reset, DNS, TLS, a timeout), rather than because it was refused.
pub(super) fn unreachable(e: &azure_core::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(a) = err.downcast_ref::<azure_core::Error>()
            && matches!(
                a.kind(),
                azure_core::error::ErrorKind::Connection | azure_core::error::ErrorKind::Io
            )
        {
            return true;
        }
        if let Some(r) = err.downcast_ref::<reqwest::Error>()
            && (r.is_connect() || r.is_timeout() || r.is_request())
        {
            return true;
        }
        if err.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Where `auth.method` gets its tokens, for messages: the login endpoint's token URL, the
/// managed identity endpoint, or the CLI it runs.
pub(super) fn login_endpoint(settings: &Settings) -> String {
    let a = &settings.auth;
    let authority = a
        .authority_host
        .as_ref()
        .map(|h| h.as_str().to_owned())
        .or_else(|| env_nonempty("AZURE_AUTHORITY_HOST").map(|h| h.trim_end_matches('/').into()))
        .unwrap_or_else(|| PUBLIC_AUTHORITY.to_owned());
    let tenant = a
        .tenant_id
        .as_ref()
        .map(|g| g.0.clone())
        .or_else(|| env_nonempty("AZURE_TENANT_ID"))
        .unwrap_or_else(|| "<tenant>".into());
    match a.method {
        AuthMethod::ClientSecret | AuthMethod::WorkloadIdentity | AuthMethod::AzurePipelines => {
            format!("{authority}/{tenant}/oauth2/v2.0/token")
        }
        AuthMethod::ManagedIdentity => env_nonempty("IDENTITY_ENDPOINT")
            .unwrap_or_else(|| "http://169.254.169.254/metadata/identity/oauth2/token".into()),
        AuthMethod::AzureCli => "the Azure CLI (az account get-access-token)".into(),
        AuthMethod::DeveloperTools => {
            "the Azure CLI or Azure Developer CLI (az account get-access-token, azd auth token)"
                .into()
        }
        AuthMethod::Simulator => "the simulator".into(),
    }
}

/// The pipeline options of a credential that calls a login endpoint: the configured cloud,
/// and few, quick retries, so that its own retries fit within `timeout`.
pub(super) fn credential_client_options(
    settings: &Settings,
    timeout: Duration,
) -> azure_core::http::ClientOptions {
    let cloud = settings.auth.authority_host.as_ref().map(|h| {
        let mut custom = azure_core::cloud::CustomConfiguration::default();
        custom.authority_host = h.as_str().to_owned();
        Arc::new(azure_core::cloud::CloudConfiguration::from(custom))
    });
    let secs = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX);
    azure_core::http::ClientOptions {
        retry: azure_core::http::RetryOptions::exponential(
            azure_core::http::ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_retries: 2,
                max_total_elapsed: azure_core::time::Duration::seconds(secs),
                max_delay: azure_core::time::Duration::seconds(2),
            },
        ),
        cloud,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::auth::tests::settings;
    use super::*;

    #[test]
    fn login_endpoints_follow_the_method_and_the_cloud() {
        let mut s = settings("client-secret");
        assert_eq!(
            login_endpoint(&s),
            "https://login.microsoftonline.com/0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b/oauth2/v2.0/token"
        );
        s.auth.authority_host =
            Some(crate::settings::BaseUrl::parse("https://login.microsoftonline.us/").unwrap());
        assert!(login_endpoint(&s).starts_with("https://login.microsoftonline.us/0b9c"));
        assert!(login_endpoint(&settings("azure-cli")).contains("az account get-access-token"));
    }
}
