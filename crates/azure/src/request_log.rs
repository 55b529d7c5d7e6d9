//! One log line per request (`tracing`, target `relcon::http`): method, URL without anything
//! that could be a secret, status, duration, the service's request ids, the attempt and how
//! long it waited for its turn. Never a header value of the request, never a body.

use std::time::Duration;

use reqwest::Url;

use super::http::{Call, Reply};
use crate::service::backend::BackendResult;

/// Query parameters relcon sends (or services send back in links) that carry no secret: their
/// values are logged. Any other parameter (a SAS `sig`, a `code`, an `access_token`...) is
/// logged by name only.
const PLAIN_PARAMETERS: &[&str] = &[
    "api-version",
    "$top",
    "top",
    "$skip",
    "$skiptoken",
    "$expand",
    "$orderby",
    "$format",
    "count",
    "listviewtype",
    "definitionid",
    "definitionenvironmentid",
    "queryorder",
    "statusfilter",
    "typefilter",
    "releaseidfilter",
    "releaseidsfilter",
    "mincreatedtime",
    "continuationtoken",
    "latestattemptsonly",
    "deploymentstatus",
    "operationstatus",
    "path",
    "includecontent",
    "versiondescriptor.version",
    "versiondescriptor.versiontype",
    "version",
    "tags",
];

/// The URL as it may be logged: no user or password, and the values of query parameters not
/// known to be harmless replaced by `***`.
pub fn loggable_url(url: &Url) -> String {
    let mut out = url.clone();
    let _ = out.set_username("");
    let _ = out.set_password(None);
    out.set_fragment(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let plain = PLAIN_PARAMETERS.contains(&k.to_ascii_lowercase().as_str());
                let v = if plain { v.into_owned() } else { "***".into() };
                (k.into_owned(), v)
            })
            .collect();
        out.query_pairs_mut().clear().extend_pairs(pairs);
    }
    out.to_string()
}

/// Log one attempt of `call`.
pub fn record(
    call: &Call,
    outcome: &BackendResult<Reply>,
    attempt: u32,
    elapsed: Duration,
    waited: Duration,
) {
    let url = loggable_url(&call.url);
    let ms = elapsed.as_millis() as u64;
    let waited_ms = waited.as_millis() as u64;
    let service = call.service.name();
    match outcome {
        Ok(reply) => {
            let request_id = reply.request_id().unwrap_or_default();
            let correlation = reply
                .header("x-ms-correlation-request-id")
                .unwrap_or_default();
            let status = reply.status;
            macro_rules! line {
                ($level:ident) => {
                    tracing::$level!(
                        target: "relcon::http",
                        service,
                        method = %call.method,
                        url = %url,
                        status,
                        ms,
                        request_id,
                        correlation_id = correlation,
                        attempt,
                        waited_ms,
                        bytes = reply.body.len(),
                        "request"
                    )
                };
            }
            match status {
                200..=299 => line!(debug),
                400..=499 => line!(info),
                _ => line!(warn),
            }
        }
        Err(e) => tracing::warn!(
            target: "relcon::http",
            service,
            method = %call.method,
            url = %url,
            ms,
            attempt,
            waited_ms,
            kind = ?e.kind,
            error = %e.message,
            "request did not complete"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_urls_are_not_logged() {
        let u = Url::parse(
            "https://user:hunter2@management.azure.com/subscriptions/s/providers/x?api-version=2025-06-01&sig=SECRETSIG&access_token=tok&$top=5#frag",
        )
        .unwrap();
        let l = loggable_url(&u);
        assert!(!l.contains("hunter2") && !l.contains("user@"), "{l}");
        assert!(!l.contains("SECRETSIG") && !l.contains("tok&"), "{l}");
        assert!(
            l.contains("api-version=2025-06-01") && l.contains("%24top=5"),
            "{l}"
        );
        assert!(l.contains("sig=***") || l.contains("sig=%2A%2A%2A"), "{l}");
        assert!(!l.contains("frag"), "{l}");
        let plain = Url::parse("http://127.0.0.1:1/arm/x").unwrap();
        assert_eq!(loggable_url(&plain), "http://127.0.0.1:1/arm/x");
    }
}
