//! A recording proxy on loopback between relcon's Azure client and the simulator: every
//! exchange (method, path, query, request body, status, response body) is kept for the
//! contract checks. URLs of the simulator in responses (next links, operation URLs) are
//! rewritten to the proxy, so following them is recorded too.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

/// One request and its response.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    /// Percent-decoded path, without the service prefix of the simulator (`/arm`, `/vsrm`...).
    pub path: String,
    /// Which simulator prefix it came in on.
    pub family: String,
    pub query: Vec<(String, String)>,
    pub request: Option<Value>,
    pub status: u16,
    pub response: Option<Value>,
}

struct Inner {
    target: String,
    me: String,
    http: reqwest::Client,
    log: Mutex<Vec<Exchange>>,
}

pub struct Recorder {
    inner: Arc<Inner>,
    pub base: String,
}

impl Recorder {
    /// A proxy in front of `target` (the simulator's base URL).
    pub async fn start(target: &str) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            target: target.trim_end_matches('/').to_owned(),
            me: base.clone(),
            http: reqwest::Client::new(),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { inner, base }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.inner.log.lock().unwrap().clone()
    }
}

async fn forward(State(s): State<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut out = s.http.request(
        parts.method.clone(),
        format!("{}{path_and_query}", s.target),
    );
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
            out = out.header(k, v);
        }
    }
    let reply = out.body(body.clone()).send().await.unwrap();
    let status = reply.status().as_u16();
    let headers = reply.headers().clone();
    let text = reply.text().await.unwrap_or_default();
    let text = text.replace(&s.target, &s.me);

    let raw_path = parts.uri.path();
    let mut segs = raw_path.trim_start_matches('/').splitn(2, '/');
    let family = segs.next().unwrap_or("").to_owned();
    let rest = format!("/{}", segs.next().unwrap_or(""));
    let path = percent_decode(&rest);
    let query: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x{path_and_query}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    s.log.lock().unwrap().push(Exchange {
        method: parts.method.to_string(),
        path,
        family,
        query,
        request: serde_json::from_slice(&body).ok(),
        status,
        response: serde_json::from_str(&text).ok(),
    });

    let mut r = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (k, v) in &headers {
        if k == "content-length" || k == "transfer-encoding" {
            continue;
        }
        let v = v
            .to_str()
            .map(|t| HeaderValue::from_str(&t.replace(&s.target, &s.me)).unwrap())
            .unwrap_or_else(|_| v.clone());
        r = r.header(k, v);
    }
    r.body(Body::from(text)).unwrap()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
