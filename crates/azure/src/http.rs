//! The one HTTP layer every call goes through: signing, bounded concurrency per service,
//! pacing to each service's limits (`pacing`), retries of reads (never of mutations) with
//! jittered backoff and `Retry-After`, paging by `nextLink` and `x-ms-continuationtoken`,
//! error mapping, request counting, and one log line per request (`request_log`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::auth::{Auth, AuthHeader};
use super::pacing::{Lane, Rate, limit_signal};
use super::request_log::loggable_url;
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
    /// The Azure ML data plane (batch jobs, run history) on the workspace's regional host.
    MlData,
}

impl Service {
    const ALL: [Service; 5] = [
        Service::Arm,
        Service::DevOps,
        Service::Release,
        Service::Monitor,
        Service::MlData,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn is_devops(self) -> bool {
        matches!(self, Service::DevOps | Service::Release)
    }

    /// Which limit the service counts against: Azure DevOps limits a user across
    /// `dev.azure.com` and `vsrm.dev.azure.com` together.
    fn lane(self) -> usize {
        match self {
            // The ML data plane publishes no limits: it is paced with ARM's reads, which is
            // conservative (it shares nothing else with ARM).
            Service::Arm | Service::MlData => 0,
            Service::DevOps | Service::Release => 1,
            Service::Monitor => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Arm => "arm",
            Service::DevOps => "devops",
            Service::Release => "release",
            Service::Monitor => "monitor",
            Service::MlData => "ml",
        }
    }
}

/// How fast relcon may send to each service (`[client]` in `relcon.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// ARM reads (Azure ML workspaces and registry).
    pub arm_reads: Rate,
    /// Azure DevOps and its Release API, together.
    pub devops: Rate,
    /// Log Analytics queries.
    pub monitor: Rate,
    /// Log Analytics queries in flight at once (the service allows five per user).
    pub monitor_concurrency: usize,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            arm_reads: Rate::ARM_READS,
            devops: Rate::DEVOPS,
            monitor: Rate::MONITOR,
            monitor_concurrency: 5,
        }
    }
}

/// When and how often reads are retried. Mutations are never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt of a read that failed (5xx, 408, a reset, a timeout).
    /// A 429 does not count: a throttled read is retried while `throttle_budget` lasts.
    pub max_retries: u32,
    /// The first backoff; each retry multiplies it by `factor`, up to `max_delay`.
    pub base_delay: Duration,
    pub factor: f64,
    pub max_delay: Duration,
    /// The longest `Retry-After` relcon waits; a longer one fails the call as throttled at
    /// once rather than hold a refresh for minutes (and the service is left alone that long).
    pub max_retry_after: Duration,
    /// How long a read keeps waiting out throttling, from its first 429, before it fails.
    pub throttle_budget: Duration,
    /// The most one read takes in all, from when it is asked: its turn (a concurrency permit
    /// and a pacing token), every attempt, the backoff between them and any wait for
    /// throttling. Each attempt's own timeout is cut to what is left; a wait that would pass
    /// it is not started. Signing in is bounded on its own (`[auth] token_timeout_seconds`);
    /// a mutation is one attempt, bounded by its timeout.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            factor: 2.0,
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            throttle_budget: Duration::from_secs(120),
            deadline: Duration::from_secs(120),
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

/// Requests sent so far (each retry counts), by service, how many were retries or got 429,
/// and how long requests waited for their turn (pacing) or for a service that asked relcon to
/// wait (`Retry-After`, `X-RateLimit-Delay`), summed over requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub requests: u64,
    pub arm: u64,
    pub devops: u64,
    pub release: u64,
    pub monitor: u64,
    /// The Azure ML data plane (batch jobs, run history).
    pub ml: u64,
    pub retries: u64,
    pub throttled: u64,
    pub paced_ms: u64,
    pub held_ms: u64,
}

#[derive(Default)]
struct Counters {
    per_service: [AtomicU64; 5],
    retries: AtomicU64,
    throttled: AtomicU64,
    paced_ms: AtomicU64,
    held_ms: AtomicU64,
}

/// One request to make.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: Service,
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
    /// Sent without credentials (a public document: Azure ML's workspace discovery).
    pub anonymous: bool,
    /// Headers of the call's own (`azureml-model-deployment` on a batch invoke). Never a
    /// credential: those come from `Auth` and are never logged.
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    pub fn get(service: Service, url: Url) -> Self {
        Self {
            service,
            method: Method::GET,
            url,
            body: None,
            anonymous: false,
            headers: Vec::new(),
        }
    }

    /// A GET sent without any `Authorization` header.
    pub fn anonymous(service: Service, url: Url) -> Self {
        Self {
            anonymous: true,
            ..Self::get(service, url)
        }
    }

    pub fn with_body(service: Service, method: Method, url: Url, body: serde_json::Value) -> Self {
        Self {
            service,
            method,
            url,
            body: Some(body),
            anonymous: false,
            headers: Vec::new(),
        }
    }

    /// The call with one more header of its own.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
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

/// What is left of one read's time (`RetryPolicy::deadline`); a mutation has none.
struct Deadline {
    started: tokio::time::Instant,
    length: Option<Duration>,
}

impl Deadline {
    fn start(length: Option<Duration>) -> Deadline {
        Deadline {
            started: tokio::time::Instant::now(),
            length,
        }
    }

    fn left(&self) -> Duration {
        match self.length {
            Some(d) => d.saturating_sub(self.started.elapsed()),
            None => Duration::MAX,
        }
    }

    /// `f`, or `None` when the deadline passes first.
    async fn bound<F: std::future::Future>(&self, f: F) -> Option<F::Output> {
        match self.length {
            Some(_) => tokio::time::timeout(self.left(), f).await.ok(),
            None => Some(f.await),
        }
    }

    /// The deadline passed before the call was ever sent.
    fn no_turn(&self, call: &Call) -> BackendError {
        BackendError::new(
            ErrorKind::Timeout,
            call.method.as_str(),
            call.url.as_str(),
            format!(
                "not sent: no turn to send it within its deadline of {}s",
                self.length.unwrap_or_default().as_secs_f64()
            ),
        )
    }

    /// `last`, the error of the last attempt, as the read's answer once its time is up (or
    /// the next wait would pass it): its kind, status and request id, and why relcon stopped.
    fn passed(&self, mut last: BackendError, attempts: u32) -> BackendError {
        last.message.push_str(&format!(
            " (gave up after {attempts} attempt{} in {:.1}s: a read's deadline is {}s)",
            if attempts == 1 { "" } else { "s" },
            self.started.elapsed().as_secs_f64(),
            self.length.unwrap_or_default().as_secs_f64()
        ));
        last
    }
}

/// The one HTTP client.
pub struct Http {
    client: reqwest::Client,
    auth: Auth,
    /// Requests in flight, per service.
    permits: [Semaphore; 5],
    /// Pacing, per limit (`Service::lane`).
    lanes: [Lane; 3],
    retry: RetryPolicy,
    /// Each request's own timeout (the client's).
    timeout: Duration,
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

/// What one attempt of a call came to, for the loop in `execute`.
enum Next {
    Done(BackendResult<Reply>),
    /// Throttled: the lane is closed for this long; try again once it opens.
    Throttled(BackendError, Duration),
    /// Failed in a way worth another try after this wait.
    Retry(BackendError, Duration),
}

impl Http {
    pub fn new(
        auth: Auth,
        concurrency: usize,
        pacing: Pacing,
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
        let n = concurrency.max(1);
        Ok(Http {
            client,
            auth,
            permits: Service::ALL.map(|s| {
                Semaphore::new(match s {
                    Service::Monitor => n.min(pacing.monitor_concurrency.max(1)),
                    _ => n,
                })
            }),
            lanes: [
                Lane::new(pacing.arm_reads),
                Lane::new(pacing.devops),
                Lane::new(pacing.monitor),
            ],
            retry,
            timeout,
            counters: Arc::new(Counters::default()),
        })
    }

    /// The credentials requests are signed with (`doctor` signs in through them).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn stats(&self) -> ClientStats {
        let s = |svc: Service| self.counters.per_service[svc.index()].load(Ordering::Relaxed);
        let (arm, devops, release, monitor, ml) = (
            s(Service::Arm),
            s(Service::DevOps),
            s(Service::Release),
            s(Service::Monitor),
            s(Service::MlData),
        );
        ClientStats {
            requests: arm + devops + release + monitor + ml,
            arm,
            devops,
            release,
            monitor,
            ml,
            retries: self.counters.retries.load(Ordering::Relaxed),
            throttled: self.counters.throttled.load(Ordering::Relaxed),
            paced_ms: self.counters.paced_ms.load(Ordering::Relaxed),
            held_ms: self.counters.held_ms.load(Ordering::Relaxed),
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
        let mut retry = 0u32;
        let mut attempt = 0u32;
        // From the first 429: how long this read may keep waiting out throttling.
        let mut throttled_since: Option<Instant> = None;
        // A read's whole time, whatever it meets; a mutation is one attempt (`RetryPolicy`).
        let deadline = Deadline::start(idempotent.then_some(self.retry.deadline));
        loop {
            attempt += 1;
            let max_hold = match throttled_since {
                Some(t) => self
                    .retry
                    .throttle_budget
                    .saturating_sub(t.elapsed())
                    .min(self.retry.max_retry_after),
                None => self.retry.max_retry_after,
            }
            .min(deadline.left());
            let next = self
                .attempt(&call, idempotent, attempt, max_hold, &deadline)
                .await?;
            let (err, wait) = match next {
                Next::Done(r) => return r,
                Next::Throttled(err, wait) => {
                    if wait >= deadline.left() {
                        return Err(deadline.passed(err, attempt));
                    }
                    let since = *throttled_since.get_or_insert_with(Instant::now);
                    if since.elapsed() + wait > self.retry.throttle_budget {
                        let mut err = err;
                        err.message.push_str(&format!(
                            " (throttled for {}s; relcon stops waiting after {}s)",
                            since.elapsed().as_secs(),
                            self.retry.throttle_budget.as_secs()
                        ));
                        return Err(err);
                    }
                    // The lane holds the next attempt until the service's wait is over.
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        target: "relcon::http",
                        service = call.service.name(),
                        method = %call.method,
                        url = %loggable_url(&call.url),
                        wait_ms = wait.as_millis() as u64,
                        throttled_for_ms = since.elapsed().as_millis() as u64,
                        "throttled; waiting before trying again"
                    );
                    continue;
                }
                Next::Retry(err, wait) => (err, wait),
            };
            if retry >= self.retry.max_retries {
                return Err(err);
            }
            if wait >= deadline.left() {
                return Err(deadline.passed(err, attempt));
            }
            retry += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                target: "relcon::http",
                service = call.service.name(),
                method = %call.method,
                url = %loggable_url(&call.url),
                retry,
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: wait for a permit and the service's lane, send, and say what comes next.
    /// `Err` only when the service asked for a pause longer than this call may wait.
    async fn attempt(
        &self,
        call: &Call,
        idempotent: bool,
        attempt: u32,
        max_hold: Duration,
        deadline: &Deadline,
    ) -> BackendResult<Next> {
        let lane = &self.lanes[call.service.lane()];
        // A sign-in failure names the login endpoint, not this call's URL.
        let auth = if call.anonymous {
            AuthHeader::none()
        } else {
            self.auth
                .header(call.service)
                .await
                .map_err(super::auth::AuthError::into_backend)?
        };
        let _permit = deadline
            .bound(self.permits[call.service.index()].acquire())
            .await
            .ok_or_else(|| deadline.no_turn(call))?
            .map_err(|_| {
                BackendError::new(
                    ErrorKind::Network,
                    call.method.as_str(),
                    call.url.as_str(),
                    "the HTTP client is shutting down",
                )
            })?;
        // Reads are paced; a mutation only waits out a pause the service asked for (ARM's
        // writes have their own bucket, and DevOps asks a user to pause everything).
        let admitted = if idempotent {
            // Cut short, the reservation is given up: at most one token of the lane's.
            deadline
                .bound(lane.admit(max_hold))
                .await
                .ok_or_else(|| deadline.no_turn(call))?
                .map(|a| (a.paced, a.held))
        } else if call.service.is_devops() {
            lane.wait_open(max_hold)
                .await
                .map(|held| (Duration::ZERO, held))
        } else {
            Ok((Duration::ZERO, Duration::ZERO))
        };
        let (paced, held) = admitted.map_err(|left| {
            let mut e = BackendError::new(
                ErrorKind::Throttled,
                call.method.as_str(),
                call.url.as_str(),
                format!(
                    "not sent: {} asked relcon to wait {}s more, longer than this request waits",
                    call.service.name(),
                    left.as_secs().max(1)
                ),
            );
            e.status = Some(429);
            e
        })?;
        self.counters
            .paced_ms
            .fetch_add(paced.as_millis() as u64, Ordering::Relaxed);
        self.counters
            .held_ms
            .fetch_add(held.as_millis() as u64, Ordering::Relaxed);
        self.counters.per_service[call.service.index()].fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self.send_once(call, &auth, deadline.left()).await;
        let elapsed = started.elapsed();
        if let Ok(reply) = &outcome {
            self.heed_limits(call, reply, idempotent);
        }
        if idempotent {
            lane.answered();
        }
        crate::request_log::record(call, &outcome, attempt, elapsed, paced + held);
        Ok(self.judge(call, outcome, &auth, idempotent, attempt))
    }

    /// Keep the service's lane in step with what the response says of its limits.
    fn heed_limits(&self, call: &Call, reply: &Reply, idempotent: bool) {
        let lane = &self.lanes[call.service.lane()];
        let signal = limit_signal(&reply.headers, &call.method, call.service.is_devops());
        if idempotent && let Some(n) = signal.remaining {
            lane.observe_remaining(n);
        }
        // ARM's `Retry-After` on a 2xx is an operation's poll interval, not a throttle; DevOps
        // asks for a pause with it on any response.
        let retry_after = match reply.status {
            429 => reply.retry_after(),
            _ if call.service.is_devops() => reply.retry_after(),
            _ => None,
        };
        let pause = retry_after.into_iter().chain(signal.wait).max();
        if let Some(d) = pause.filter(|d| !d.is_zero()) {
            // Honoured in full: nothing goes to the service before it is over (an hour at most).
            lane.close_for(d.min(Duration::from_secs(3600)));
        }
    }

    /// What a response (or a failure to get one) means for the call.
    fn judge(
        &self,
        call: &Call,
        outcome: BackendResult<Reply>,
        auth: &AuthHeader,
        idempotent: bool,
        attempt: u32,
    ) -> Next {
        let reply = match outcome {
            Ok(reply) if (200..300).contains(&reply.status) && !signin_page(call, &reply) => {
                return Next::Done(Ok(reply));
            }
            Ok(reply) => reply,
            Err(err) => {
                return if idempotent {
                    Next::Retry(err, self.retry.backoff(attempt.saturating_sub(1)))
                } else {
                    Next::Done(Err(err))
                };
            }
        };
        let err = self.status_error(call, &reply, auth, idempotent);
        let after = reply.retry_after();
        if reply.status == 401 {
            self.auth.invalidate(call.service, auth);
        }
        if reply.status == 429 {
            self.counters.throttled.fetch_add(1, Ordering::Relaxed);
        }
        if !(idempotent && retryable_status(reply.status)) {
            return Next::Done(Err(err));
        }
        match (reply.status, after) {
            (429 | 503, Some(d)) if d > self.retry.max_retry_after => {
                let mut err = err;
                err.message.push_str(&format!(
                    " (the service asks to wait {}s, longer than relcon waits)",
                    d.as_secs()
                ));
                Next::Done(Err(err))
            }
            (429, after) => {
                // Without a figure, back off; never sooner than the base delay, even for
                // `Retry-After: 0`. Every other request of the lane waits as long.
                let d = after
                    .unwrap_or_else(|| self.retry.backoff(attempt.saturating_sub(1)))
                    .max(self.retry.base_delay);
                self.lanes[call.service.lane()].close_for(d);
                Next::Throttled(err, d)
            }
            // Never sooner than the base delay, even for `Retry-After: 0`.
            (503, Some(d)) => Next::Retry(err, d.max(self.retry.base_delay)),
            _ => Next::Retry(err, self.retry.backoff(attempt.saturating_sub(1))),
        }
    }

    /// Send and read the whole body; transport failures become `Network` or `Timeout`. The
    /// client's timeout applies, cut to `left` (what is left of a read's deadline).
    async fn send_once(
        &self,
        call: &Call,
        auth: &AuthHeader,
        left: Duration,
    ) -> BackendResult<Reply> {
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
            .header(ACCEPT, "application/json");
        if left < self.timeout {
            req = req.timeout(left.max(Duration::from_millis(1)));
        }
        if let Some(value) = &auth.value {
            req = req.header(AUTHORIZATION, value.clone());
        }
        for (name, value) in &call.headers {
            req = req.header(*name, value.as_str());
        }
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
