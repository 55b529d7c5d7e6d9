//! The one HTTP layer every call goes through: signing, bounded concurrency per service,
//! retries of reads (never of mutations) with jittered backoff and `Retry-After`, paging by
//! `nextLink` and `x-ms-continuationtoken`, error mapping, and request counting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::auth::{Auth, AuthHeader};
use super::wire::ErrorBody;
use crate::service::backend::{BackendError, BackendResult, ErrorKind};

/// The services relcon talks to; each has its own concurrency bound and request count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Azure Resource Manager (Azure ML workspaces and registry).
    Arm,
    /// `dev.azure.com`: connection data, Git items.
    DevOps,
    /// `vsrm.dev.azure.com`: releases and approvals.
    Release,
    /// Log Analytics queries.
    Monitor,
}

impl Service {
    const ALL: [Service; 4] = [
        Service::Arm,
        Service::DevOps,
        Service::Release,
        Service::Monitor,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn is_devops(self) -> bool {
        matches!(self, Service::DevOps | Service::Release)
    }
}

/// When and how often reads are retried. Mutations are never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; each retry multiplies it by `factor`, up to `max_delay`.
    pub base_delay: Duration,
    pub factor: f64,
    pub max_delay: Duration,
    /// The longest `Retry-After` relcon waits; a longer one fails the call as throttled at
    /// once rather than hold a refresh for minutes.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            factor: 2.0,
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): exponential, capped, with jitter in
    /// `[d/2, d]` so that a burst of failures does not come back in lockstep.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.factor.max(1.0).powi(retry.min(30) as i32);
        let d = self
            .base_delay
            .mul_f64(exp.min(1e6))
            .min(self.max_delay.max(self.base_delay));
        d.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// Requests sent so far (each retry counts), by service, and how many were retries or got 429.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub requests: u64,
    pub arm: u64,
    pub devops: u64,
    pub release: u64,
    pub monitor: u64,
    pub retries: u64,
    pub throttled: u64,
}

#[derive(Default)]
struct Counters {
    per_service: [AtomicU64; 4],
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// Per service: how many requests may be in flight, and until when a 429 asked everyone to wait.
struct Gate {
    permits: Semaphore,
    resume_at: std::sync::Mutex<Option<Instant>>,
}

impl Gate {
    fn new(n: usize) -> Self {
        Self {
            permits: Semaphore::new(n.max(1)),
            resume_at: std::sync::Mutex::new(None),
        }
    }

    /// Wait out a `Retry-After` another request of this service was given, so that concurrent
    /// requests do not each hit the throttle.
    async fn wait_open(&self) {
        let until = *self.resume_at.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = until
            && t > Instant::now()
        {
            tokio::time::sleep_until(t.into()).await;
        }
    }

    fn close_for(&self, d: Duration) {
        let t = Instant::now() + d;
        let mut g = self.resume_at.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none_or(|old| old < t) {
            *g = Some(t);
        }
    }
}

/// One request to make.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: Service,
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
}

impl Call {
    pub fn get(service: Service, url: Url) -> Self {
        Self {
            service,
            method: Method::GET,
            url,
            body: None,
        }
    }

    pub fn with_body(service: Service, method: Method, url: Url, body: serde_json::Value) -> Self {
        Self {
            service,
            method,
            url,
            body: Some(body),
        }
    }
}

/// A successful (2xx) response, read in full.
#[derive(Debug)]
pub struct Reply {
    pub method: Method,
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn request_id(&self) -> Option<String> {
        request_id(&self.headers)
    }

    /// `Retry-After` (seconds or an HTTP date), or Azure's `retry-after-ms`.
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }

    /// The body as `T`; `what` names it in the error ("a batch deployment list").
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> BackendResult<T> {
        decode(&self.body, what).map_err(|m| self.error(ErrorKind::Decode, m))
    }

    pub fn error(&self, kind: ErrorKind, message: String) -> BackendError {
        BackendError {
            kind,
            method: self.method.to_string(),
            url: self.url.to_string(),
            status: Some(self.status),
            request_id: self.request_id(),
            message,
            code: None,
        }
    }
}

/// Parse JSON, saying where it broke (`value[3].properties.model: invalid type...`).
pub fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, String> {
    // DevOps files and some proxies start JSON with a byte-order mark.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            format!("cannot read the response as {what}: {inner}")
        } else {
            format!("cannot read the response as {what}: at `{path}`: {inner}")
        }
    })
}

fn request_id(h: &HeaderMap) -> Option<String> {
    [
        "x-ms-request-id",
        "activityid",
        "x-ms-correlation-request-id",
    ]
    .iter()
    .find_map(|n| h.get(*n).and_then(|v| v.to_str().ok()))
    .map(|s| s.trim().to_owned())
    .filter(|s| !s.is_empty())
}

pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    for ms in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(v) = get(ms).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(v));
        }
    }
    let v = get("retry-after")?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let left = at.signed_duration_since(chrono::Utc::now());
    Some(left.to_std().unwrap_or(Duration::ZERO))
}

/// The one HTTP client.
pub struct Http {
    client: reqwest::Client,
    auth: Auth,
    gates: [Gate; 4],
    retry: RetryPolicy,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Azure DevOps does not always say 401: with a credential it does not accept it may answer
/// 203 with an HTML sign-in page, or redirect to one.
fn signin_page(call: &Call, reply: &Reply) -> bool {
    if !call.service.is_devops() {
        return false;
    }
    let html = reply
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("text/html"));
    match reply.status {
        203 => html || serde_json::from_slice::<serde_json::Value>(&reply.body).is_err(),
        301 | 302 | 303 | 307 | 308 => reply
            .header("location")
            .is_some_and(|l| l.to_ascii_lowercase().contains("signin")),
        _ => false,
    }
}

/// Whether a failed read is worth another try.
fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status) && !matches!(status, 501 | 505)
}

impl Http {
    pub fn new(
        auth: Auth,
        concurrency: usize,
        timeout: Duration,
        connect_timeout: Duration,
        retry: RetryPolicy,
        loopback_only: bool,
    ) -> Result<Http, String> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout.min(timeout))
            .timeout(timeout)
            // Never follow a redirect with relcon's credentials; Azure's APIs do not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("relcon/", env!("CARGO_PKG_VERSION")));
        if loopback_only {
            // The simulator is on this machine; a corporate proxy must not see it.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http {
            client,
            auth,
            gates: Service::ALL.map(|_| Gate::new(concurrency)),
            retry,
            counters: Arc::new(Counters::default()),
        })
    }

    /// The credentials requests are signed with (`doctor` signs in through them).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn stats(&self) -> ClientStats {
        let s = |svc: Service| self.counters.per_service[svc.index()].load(Ordering::Relaxed);
        let (arm, devops, release, monitor) = (
            s(Service::Arm),
            s(Service::DevOps),
            s(Service::Release),
            s(Service::Monitor),
        );
        ClientStats {
            requests: arm + devops + release + monitor,
            arm,
            devops,
            release,
            monitor,
            retries: self.counters.retries.load(Ordering::Relaxed),
            throttled: self.counters.throttled.load(Ordering::Relaxed),
        }
    }

    /// A read (GET, or the Log Analytics query POST): retried on 408/429/5xx, connection
    /// errors and timeouts.
    pub async fn read(&self, call: Call) -> BackendResult<Reply> {
        self.execute(call, true).await
    }

    /// A mutation: sent exactly once. A failure keeps its kind, so `is_ambiguous()` tells the
    /// caller whether to re-read before trying again.
    pub async fn mutate(&self, call: Call) -> BackendResult<Reply> {
        self.execute(call, false).await
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        service: Service,
        url: Url,
        what: &str,
    ) -> BackendResult<T> {
        self.read(Call::get(service, url)).await?.json(what)
    }

    async fn execute(&self, call: Call, idempotent: bool) -> BackendResult<Reply> {
        let gate = &self.gates[call.service.index()];
        let mut retry = 0u32;
        loop {
            gate.wait_open().await;
            // A sign-in failure names the login endpoint, not this call's URL.
            let auth = self
                .auth
                .header(call.service)
                .await
                .map_err(super::auth::AuthError::into_backend)?;
            let permit = gate.permits.acquire().await.map_err(|_| {
                BackendError::new(
                    ErrorKind::Network,
                    call.method.as_str(),
                    call.url.as_str(),
                    "the HTTP client is shutting down",
                )
            })?;
            self.counters.per_service[call.service.index()].fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = self.send_once(&call, &auth).await;
            drop(permit);
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let (err, wait) = match outcome {
                Ok(reply) if (200..300).contains(&reply.status) && !signin_page(&call, &reply) => {
                    tracing::debug!(method = %call.method, url = %call.url, status = reply.status, elapsed_ms, "azure request");
                    return Ok(reply);
                }
                Ok(reply) => {
                    tracing::debug!(method = %call.method, url = %call.url, status = reply.status, elapsed_ms, "azure request failed");
                    let err = self.status_error(&call, &reply, &auth, idempotent);
                    let after = reply.retry_after();
                    if reply.status == 429 {
                        self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        if let Some(d) = after {
                            gate.close_for(d.min(self.retry.max_retry_after));
                        }
                    }
                    if reply.status == 401 {
                        self.auth.invalidate(call.service, &auth);
                    }
                    if !(idempotent && retryable_status(reply.status)) {
                        return Err(err);
                    }
                    match after {
                        Some(d) if d > self.retry.max_retry_after => {
                            let mut err = err;
                            err.message.push_str(&format!(
                                " (the service asks to wait {}s, longer than relcon waits)",
                                d.as_secs()
                            ));
                            return Err(err);
                        }
                        // Never sooner than the base delay, even for `Retry-After: 0`.
                        Some(d) if matches!(reply.status, 429 | 503) => {
                            (err, d.max(self.retry.base_delay))
                        }
                        _ => (err, self.retry.backoff(retry)),
                    }
                }
                Err(err) => {
                    tracing::debug!(method = %call.method, url = %call.url, elapsed_ms, kind = ?err.kind, "azure request did not complete");
                    if !idempotent {
                        return Err(err);
                    }
                    let wait = self.retry.backoff(retry);
                    (err, wait)
                }
            };
            if retry >= self.retry.max_retries {
                return Err(err);
            }
            retry += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// Send and read the whole body; transport failures become `Network` or `Timeout`.
    async fn send_once(&self, call: &Call, auth: &AuthHeader) -> BackendResult<Reply> {
        let transport = |e: reqwest::Error| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Network
            };
            let message = auth.redact(&error_chain(&e.without_url()));
            BackendError::new(kind, call.method.as_str(), call.url.as_str(), message)
        };
        let mut req = self
            .client
            .request(call.method.clone(), call.url.clone())
            .header(AUTHORIZATION, auth.value.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        Ok(Reply {
            method: call.method.clone(),
            url: call.url.clone(),
            status,
            headers,
            body,
        })
    }

    /// A non-2xx reply as an error with the service's own message.
    fn status_error(
        &self,
        call: &Call,
        reply: &Reply,
        auth: &AuthHeader,
        idempotent: bool,
    ) -> BackendError {
        let parsed: Option<ErrorBody> = decode(&reply.body, "an error").ok();
        let type_key = parsed.as_ref().and_then(|b| b.type_key.clone());
        let code = type_key
            .clone()
            .or_else(|| {
                parsed
                    .as_ref()
                    .and_then(|b| b.error.as_ref())
                    .and_then(|e| e.code.clone())
            })
            .map(String::into_boxed_str);
        let message = parsed
            .as_ref()
            .and_then(ErrorBody::describe)
            .unwrap_or_else(|| fallback_message(reply));
        let kind = match reply.status {
            _ if signin_page(call, reply) => {
                return reply.error(
                    ErrorKind::Auth,
                    "Azure DevOps answered with its sign-in page: the PAT or token was not accepted"
                        .to_owned(),
                );
            }
            401 => ErrorKind::Auth,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 | 412 => ErrorKind::Conflict,
            429 => ErrorKind::Throttled,
            // DevOps refuses a change the current state does not allow (an approval someone
            // else already decided, a stage already deploying) with 400 InvalidRequestException.
            400 if call.service.is_devops()
                && !idempotent
                && type_key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("InvalidRequestException")) =>
            {
                ErrorKind::Conflict
            }
            408 => ErrorKind::Timeout,
            _ => ErrorKind::Server,
        };
        BackendError {
            code,
            ..reply.error(kind, auth.redact(&message))
        }
    }
}

/// The error and its causes on one line ("connection reset by peer" is usually three deep).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}

/// A message for an error body in no known shape: the status text and the start of the body.
fn fallback_message(reply: &Reply) -> String {
    let reason = reqwest::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status");
    let text = String::from_utf8_lossy(&reply.body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return reason.to_owned();
    }
    let snippet: String = text.chars().take(200).collect();
    let more = if text.chars().count() > 200 {
        "..."
    } else {
        ""
    };
    format!("{reason}: {snippet}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_in_seconds_dates_and_ms() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250"), ("retry-after", "7")])),
            Some(Duration::from_millis(250))
        );
        let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
        let d = retry_after(&headers(&[("retry-after", &soon.to_rfc2822())])).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let full = Duration::from_millis(200)
                .mul_f64(2f64.powi(retry as i32))
                .min(Duration::from_secs(8));
            for _ in 0..50 {
                let d = p.backoff(retry);
                assert!(
                    d >= full / 2 && d <= full,
                    "retry {retry}: {d:?} vs {full:?}"
                );
            }
        }
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 412, 418, 501] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn decode_names_the_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            value: Vec<u32>,
        }
        let e = decode::<T>(br#"{"value":[1,"x"]}"#, "a test list").unwrap_err();
        assert!(e.contains("a test list") && e.contains("value[1]"), "{e}");
        let e = decode::<T>(b"<html>", "a test list").unwrap_err();
        assert!(e.contains("a test list"), "{e}");
        // A byte-order mark is not an error.
        assert!(decode::<T>(b"\xEF\xBB\xBF{\"value\":[]}", "x").is_ok());
    }
}
