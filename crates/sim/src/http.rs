//! The HTTP front: one entry point for every service route that counts the request, applies
//! latency and faults, authenticates the `relcon-sim.<name>` bearer token, and hands the
//! request to the ARM, DevOps or Log Analytics handlers with the world locked and brought up
//! to the simulated now. Replies carry each service's headers and error shapes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::clock::SimClock;
use super::faults::{ConnHandle, Fault, Faults, Limit};
use super::reply::{Reply, fault_reply, throttled, unauthorized};
use super::world::World;

/// The largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub const JSON: &str = "application/json; charset=utf-8";

/// State shared by every request.
#[derive(Debug)]
pub struct Shared {
    pub world: Mutex<World>,
    pub clock: SimClock,
    pub base: String,
    pub page_size: Option<usize>,
    pub faults: Faults,
    pub stats: Mutex<Stats>,
    seq: AtomicU64,
}

impl Shared {
    pub fn new(
        world: World,
        clock: SimClock,
        base: String,
        page_size: Option<usize>,
        faults: Faults,
    ) -> Shared {
        Shared {
            world: Mutex::new(world),
            clock,
            base,
            page_size,
            faults,
            stats: Mutex::new(Stats::default()),
            seq: AtomicU64::new(1),
        }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn request_id(&self, seed: u64) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        super::world::guid(&format!("request:{seed}:{n}"))
    }
}

/// Request counts (`GET /_sim/stats`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub total: u64,
    pub arm: u64,
    pub devops: u64,
    pub vsrm: u64,
    pub la: u64,
    /// The Azure ML data plane (`/mlapi`).
    pub mlapi: u64,
    pub other: u64,
    pub by_route: BTreeMap<String, u64>,
    /// Injected faults by kind (`500`, `503`, `429`, `reset`).
    pub faults: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Arm,
    DevOps,
    Vsrm,
    /// Log Analytics' query API (`/la/v1/workspaces/{id}/query`): workspace tables.
    La,
    /// Application Insights' query API (`/ai/v1/apps/{app-id}/query`): classic tables.
    Ai,
    /// The Azure ML data plane of the workspaces' region (`/mlapi`): batch jobs, run history.
    MlApi,
}

impl Family {
    fn of(first: &str) -> Option<Family> {
        match first {
            "arm" => Some(Family::Arm),
            "devops" => Some(Family::DevOps),
            "vsrm" => Some(Family::Vsrm),
            "la" => Some(Family::La),
            "ai" => Some(Family::Ai),
            "mlapi" => Some(Family::MlApi),
            _ => None,
        }
    }

    /// A monitoring query API, where POST is a read.
    pub fn is_query(self) -> bool {
        matches!(self, Family::La | Family::Ai)
    }

    fn key(self) -> &'static str {
        match self {
            Family::Arm => "arm",
            Family::DevOps => "devops",
            Family::Vsrm => "vsrm",
            Family::La => "la",
            Family::Ai => "ai",
            Family::MlApi => "mlapi",
        }
    }
}

/// One service request, parsed.
#[derive(Debug)]
pub struct Req {
    pub family: Family,
    pub method: Method,
    /// The path as received (`/arm/subscriptions/...`).
    pub path: String,
    /// Percent-decoded path segments after the family prefix.
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    /// The caller (index into the world's people).
    pub caller: usize,
    pub now: DateTime<Utc>,
    pub base: String,
    pub page_size: Option<usize>,
    pub speed: f64,
    /// The one header a route reads besides the token: a batch invoke's
    /// `azureml-model-deployment`.
    pub model_deployment: Option<String>,
}

impl Req {
    /// A query parameter, by case-insensitive name.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Segment `i` equals `lit`, ignoring case.
    pub fn seg_is(&self, i: usize, lit: &str) -> bool {
        self.segs
            .get(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(lit))
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Err("the request body is empty".into());
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the request body is not valid JSON: {e}"))
    }
}

/// The entry point of every `/arm`, `/devops`, `/vsrm` and `/la` route.
pub async fn entry(
    State(shared): State<std::sync::Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_owned();
    let segs: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let seed = shared.world().seed;
    let request_id = shared.request_id(seed);
    let Some(family) = segs.first().and_then(|s| Family::of(s)) else {
        count(&shared, None, "unknown", None);
        let r = Reply::arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "No service is simulated at {raw_path}; use /arm, /devops, /vsrm, /la or /_sim."
            ),
        );
        return finish(r, Family::Arm, &request_id, None);
    };
    let method = parts.method.clone();
    let route = super::route_name(family, &method, &segs[1..]);
    count(
        &shared,
        Some(family),
        &format!("{method} {}/{route}", family.key()),
        None,
    );

    if let Some(d) = shared.faults.latency() {
        tokio::time::sleep(d).await;
    }
    let read = method == Method::GET || (family.is_query() && method == Method::POST);
    let limit = match family {
        // The ML data plane has no documented limits; it shares ARM's bucket here.
        Family::Arm | Family::MlApi => Limit::Arm,
        Family::DevOps | Family::Vsrm => Limit::DevOps,
        Family::La | Family::Ai => Limit::Monitor,
    };
    let fault = shared.faults.decide(read, limit);
    let fail_reply = |status: u16| fault_reply(family, status);
    match fault {
        Fault::Reset { after: false } => {
            count(&shared, None, "", Some("reset"));
            conn.kill();
            return finish(
                Reply::raw(StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                family,
                &request_id,
                None,
            );
        }
        Fault::Fail {
            status,
            after: false,
        } => {
            count(
                &shared,
                None,
                "",
                Some(if status == 500 { "500" } else { "503" }),
            );
            return finish(fail_reply(status), family, &request_id, None);
        }
        _ => {}
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let r = Reply::family_error(
                family,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLarge",
                "The request body is too large.",
            );
            return finish(r, family, &request_id, None);
        }
    };
    let caller_name = match caller(parts.headers.get(header::AUTHORIZATION)) {
        Ok(name) => name,
        Err(why) => return finish(unauthorized(family, &why), family, &request_id, None),
    };
    if let Fault::Throttle { retry_after } = fault {
        count(&shared, None, "", Some("429"));
        return finish(throttled(family, retry_after), family, &request_id, None);
    }
    let query = parse_query(parts.uri.query().unwrap_or(""));
    let (reply, who) = {
        let mut w = shared.world();
        let now = shared.clock.now();
        w.advance(now);
        let caller = w.person_by_name(&caller_name);
        let req = Req {
            family,
            method,
            path: raw_path,
            segs: segs[1..].to_vec(),
            query,
            body,
            caller,
            now,
            base: shared.base.clone(),
            page_size: shared.page_size,
            speed: shared.clock.speed(),
            model_deployment: parts
                .headers
                .get("azureml-model-deployment")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        // Anything but a read may change the world: cached JSON from before is stale, and so is
        // anything cached while the change was being made.
        let mutation =
            !(req.method == Method::GET || (family.is_query() && req.method == Method::POST));
        if mutation {
            w.revision += 1;
        }
        let reply = super::dispatch(&mut w, &req);
        if mutation {
            w.revision += 1;
        }
        let p = w.person(caller);
        (reply, format!("{}:{}", p.id, p.unique))
    };
    match fault {
        Fault::Reset { after: true } => {
            count(&shared, None, "", Some("reset"));
            conn.kill();
            finish(
                Reply::raw(StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                family,
                &request_id,
                None,
            )
        }
        Fault::Fail {
            status,
            after: true,
        } => {
            count(
                &shared,
                None,
                "",
                Some(if status == 500 { "500" } else { "503" }),
            );
            finish(fail_reply(status), family, &request_id, None)
        }
        _ => {
            // ARM tells every caller what its read bucket holds.
            let reply = match shared.faults.remaining(limit) {
                Some(n) if family == Family::Arm && read => {
                    reply.header("x-ms-ratelimit-remaining-subscription-reads", n.to_string())
                }
                _ => reply,
            };
            finish(reply, family, &request_id, Some(&who))
        }
    }
}

fn count(shared: &Shared, family: Option<Family>, route: &str, fault: Option<&str>) {
    let mut s = shared.stats.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = fault {
        *s.faults.entry(f.to_owned()).or_default() += 1;
        return;
    }
    s.total += 1;
    match family {
        Some(Family::Arm) => s.arm += 1,
        Some(Family::MlApi) => s.mlapi += 1,
        Some(Family::DevOps) => s.devops += 1,
        Some(Family::Vsrm) => s.vsrm += 1,
        // Both monitoring query APIs count as `la`.
        Some(Family::La | Family::Ai) => s.la += 1,
        None => s.other += 1,
    }
    *s.by_route.entry(route.to_owned()).or_default() += 1;
}

/// The name in `Authorization: Bearer relcon-sim.<name>`.
fn caller(h: Option<&HeaderValue>) -> Result<String, String> {
    let h = h
        .and_then(|v| v.to_str().ok())
        .ok_or("The 'Authorization' header is missing.")?;
    let (scheme, token) = h
        .split_once(' ')
        .ok_or("The 'Authorization' header is malformed.")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(format!(
            "The authentication scheme '{scheme}' is not supported; use Bearer."
        ));
    }
    let name = token
        .trim()
        .strip_prefix("relcon-sim.")
        .ok_or("The access token is invalid: expected relcon-sim.<name>.")?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err("The access token is invalid: the name may use letters, digits, '.', '_' and '-' (at most 64).".into())
    }
}

/// Turn a reply into a response with the family's request-id headers.
fn finish(r: Reply, family: Family, request_id: &str, user: Option<&str>) -> Response {
    let mut b = Response::builder()
        .status(r.status)
        .header(header::CONTENT_TYPE, r.content_type);
    match family {
        Family::Arm | Family::MlApi => {
            b = b
                .header("x-ms-request-id", request_id)
                .header("x-ms-correlation-request-id", request_id)
                .header(
                    "x-ms-routing-request-id",
                    format!(
                        "WESTEUROPE:{}:{request_id}",
                        Utc::now().format("%Y%m%dT%H%M%SZ")
                    ),
                )
                .header(header::CACHE_CONTROL, "no-cache");
        }
        Family::DevOps | Family::Vsrm => {
            b = b
                .header("activityid", request_id)
                .header("x-vss-e2eid", request_id)
                .header("x-tfs-session", request_id);
            if let Some(u) = user {
                b = b.header("x-vss-userdata", u);
            }
        }
        Family::La | Family::Ai => {
            b = b
                .header("request-id", request_id)
                .header("x-ms-request-id", request_id)
                .header("x-ms-correlation-request-id", request_id);
        }
    }
    for (k, v) in &r.headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Body::from(r.body)).unwrap_or_else(|_| {
        let mut resp = Response::new(Body::from(
            "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"bad header\"}}",
        ));
        *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

/// `a=1&b=x%20y` as decoded pairs (`+` is a space, as in forms).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Decode `%XX` escapes; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), b.get(i + 2).and_then(|&c| hex(c)))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_the_caller() {
        let h = |s: &str| HeaderValue::from_str(s).ok();
        assert_eq!(
            caller(h("Bearer relcon-sim.Alice").as_ref()),
            Ok("alice".into())
        );
        assert_eq!(
            caller(h("bearer relcon-sim.frank.o-neil").as_ref()),
            Ok("frank.o-neil".into())
        );
        for bad in [
            "Bearer alice",
            "Basic OmFiYw==",
            "Bearer relcon-sim.",
            "Bearer relcon-sim.a b",
            "Bearer",
        ] {
            assert!(caller(h(bad).as_ref()).is_err(), "{bad}");
        }
        assert!(caller(None).is_err());
    }

    #[test]
    fn queries_and_paths_decode() {
        let q = parse_query("path=%2Fconfig%2FA.yaml&versionDescriptor.version=abc&$top=5&x");
        assert_eq!(q[0], ("path".into(), "/config/A.yaml".into()));
        assert_eq!(q[2], ("$top".into(), "5".into()));
        assert_eq!(q[3], ("x".into(), String::new()));
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
