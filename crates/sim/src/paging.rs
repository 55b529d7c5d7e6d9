//! Paging as each service does it: ARM lists return an absolute `nextLink` carrying an opaque
//! `$skipToken`; DevOps lists return an `x-ms-continuationtoken` header naming where the next
//! page starts, which the caller sends back as `continuationToken=`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// ARM's page size when neither `--page-size` nor `$top` says otherwise.
pub const ARM_DEFAULT_PAGE: usize = 100;
/// DevOps' `$top` default.
pub const DEVOPS_DEFAULT_TOP: usize = 50;

/// An opaque skip token for an offset.
pub fn encode_skip(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("relcon-sim:skip:{offset}"))
}

/// The offset a skip token stands for; `None` when it is not one of ours.
pub fn decode_skip(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("relcon-sim:skip:")?.parse().ok()
}

/// One ARM page: the items from `offset`, and the offset of the next page if there is one.
pub fn arm_page<T>(items: &[T], offset: usize, size: usize) -> (&[T], Option<usize>) {
    let size = size.max(1);
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then_some(end);
    (&items[start..end], next)
}

/// The page size of an ARM list: the simulator's `--page-size`, then `$top`, then the default.
pub fn arm_page_size(page_size: Option<usize>, top: Option<usize>) -> usize {
    match (page_size, top) {
        (Some(p), Some(t)) => p.min(t),
        (Some(p), None) => p,
        (None, Some(t)) => t,
        (None, None) => ARM_DEFAULT_PAGE,
    }
    .max(1)
}

/// The request's URL with `$skipToken` set to the next page: everything else is kept.
pub fn next_link(base: &str, path: &str, query: &[(String, String)], next: usize) -> String {
    let mut parts: Vec<String> = query
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("$skipToken"))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    parts.push(format!("$skipToken={}", encode_skip(next)));
    format!("{base}{path}?{}", parts.join("&"))
}

/// Percent-encode a query component (RFC 3986 unreserved characters and `$` stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'$' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One DevOps page of items ordered by `key` (descending or ascending): those from the
/// continuation token on, and the key of the first item of the next page.
pub fn devops_page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> u32,
    descending: bool,
    token: Option<u32>,
    size: usize,
) -> (Vec<T>, Option<u32>) {
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|x| match token {
            None => true,
            Some(t) if descending => key(x) <= t,
            Some(t) => key(x) >= t,
        })
        .collect();
    let size = size.max(1);
    let next = rest.get(size).map(&key);
    rest.truncate(size);
    (rest, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_tokens_round_trip_and_reject_strangers() {
        for n in [0, 1, 99, 12_345] {
            assert_eq!(decode_skip(&encode_skip(n)), Some(n));
        }
        assert_eq!(decode_skip("bm90LW91cnM"), None);
        assert_eq!(decode_skip("%%%"), None);
        assert_eq!(decode_skip(""), None);
    }

    #[test]
    fn arm_pages_cover_everything_once() {
        let items: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let mut offset = Some(0);
        while let Some(o) = offset {
            let (page, next) = arm_page(&items, o, 3);
            seen.extend_from_slice(page);
            offset = next;
        }
        assert_eq!(seen, items);
        assert_eq!(arm_page(&items, 50, 3), (&items[7..], None));
        assert_eq!(arm_page_size(Some(1), Some(10)), 1);
        assert_eq!(arm_page_size(None, Some(10)), 10);
        assert_eq!(arm_page_size(None, None), ARM_DEFAULT_PAGE);
    }

    #[test]
    fn next_link_keeps_the_query_and_replaces_the_token() {
        let q = vec![
            ("api-version".to_owned(), "2025-06-01".to_owned()),
            ("$skipToken".to_owned(), encode_skip(2)),
            ("$orderBy".to_owned(), "createdtime desc".to_owned()),
        ];
        let link = next_link("http://127.0.0.1:9", "/arm/x", &q, 4);
        assert_eq!(
            link,
            format!(
                "http://127.0.0.1:9/arm/x?api-version=2025-06-01&$orderBy=createdtime%20desc&$skipToken={}",
                encode_skip(4)
            )
        );
    }

    #[test]
    fn devops_pages_follow_the_continuation_key() {
        let items: Vec<u32> = vec![9, 7, 5, 3, 1];
        let (p1, t1) = devops_page(items.clone(), |x| *x, true, None, 2);
        assert_eq!((p1, t1), (vec![9, 7], Some(5)));
        let (p2, t2) = devops_page(items.clone(), |x| *x, true, t1, 2);
        assert_eq!((p2, t2), (vec![5, 3], Some(1)));
        let (p3, t3) = devops_page(items.clone(), |x| *x, true, t2, 2);
        assert_eq!((p3, t3), (vec![1], None));
        let asc: Vec<u32> = vec![1, 3, 5];
        assert_eq!(
            devops_page(asc, |x| *x, false, Some(3), 5),
            (vec![3, 5], None)
        );
    }
}
