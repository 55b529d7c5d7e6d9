//! Paging: ARM lists follow `nextLink` (an absolute URL on the same host), DevOps lists repeat
//! the request with `continuationToken` while the response carries `x-ms-continuationtoken`.

use std::collections::HashSet;

use reqwest::Url;
use serde::de::DeserializeOwned;

use super::http::{Call, Http, Reply, Service};
use super::wire::{ArmList, DevOpsList};
use crate::service::backend::{BackendError, BackendResult, ErrorKind};

impl Http {
    /// Every item of an ARM list, following `nextLink` (absolute, on the same host) to the end.
    pub async fn arm_list<T: DeserializeOwned>(
        &self,
        first: Url,
        what: &str,
    ) -> BackendResult<Vec<T>> {
        self.arm_list_map(first, what, |t| Some(t)).await
    }

    /// [`Http::arm_list`], each item mapped (or dropped) as its page arrives, so that a long
    /// list never holds more than one page of wire items.
    pub async fn arm_list_map<T: DeserializeOwned, U>(
        &self,
        first: Url,
        what: &str,
        mut f: impl FnMut(T) -> Option<U>,
    ) -> BackendResult<Vec<U>> {
        let mut out = Vec::new();
        self.arm_pages(Service::Arm, first, what, |page: Vec<T>, _| {
            out.extend(page.into_iter().filter_map(&mut f));
            Ok(true)
        })
        .await?;
        // Kept as long as the snapshot: not the up to twice its length growth left.
        out.shrink_to_fit();
        Ok(out)
    }

    /// The pages of an ARM-style list (`{value, nextLink}`) on `service`, each handed to
    /// `page` as it arrives with its reply; `nextLink` (absolute, on the same host) is
    /// followed while `page` answers `true`.
    pub async fn arm_pages<T: DeserializeOwned>(
        &self,
        service: Service,
        first: Url,
        what: &str,
        mut page: impl FnMut(Vec<T>, &Reply) -> BackendResult<bool>,
    ) -> BackendResult<()> {
        let mut seen = HashSet::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            if !seen.insert(url.to_string()) {
                return Err(BackendError::new(
                    ErrorKind::Decode,
                    "GET",
                    url.as_str(),
                    "the service returned a nextLink already followed; stopping to avoid a loop",
                ));
            }
            let reply = self.read(Call::get(service, url)).await?;
            let list: ArmList<T> = reply.json(what)?;
            let more = page(list.value, &reply)?;
            if let Some(link) = list.next_link.filter(|l| more && !l.trim().is_empty()) {
                next = Some(same_origin(&reply, link.trim(), "nextLink")?);
            }
        }
        Ok(())
    }

    /// Every item of a DevOps list, repeating the request with `continuationToken` while the
    /// response carries `x-ms-continuationtoken`.
    pub async fn devops_list<T: DeserializeOwned>(
        &self,
        service: Service,
        first: Url,
        what: &str,
    ) -> BackendResult<Vec<T>> {
        self.devops_list_map(service, first, what, |t| Some(t))
            .await
    }

    /// [`Http::devops_list`], each item mapped (or dropped) as its page arrives: a release
    /// history of 30,000 expanded releases is 1.3 GB of JSON, read a page at a time.
    pub async fn devops_list_map<T: DeserializeOwned, U>(
        &self,
        service: Service,
        first: Url,
        what: &str,
        mut f: impl FnMut(T) -> Option<U>,
    ) -> BackendResult<Vec<U>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = first.clone();
            if let Some(t) = &token {
                set_query(&mut url, "continuationToken", t);
            }
            let reply = self.read(Call::get(service, url)).await?;
            let page: DevOpsList<T> = reply.json(what)?;
            out.extend(page.value.into_iter().filter_map(&mut f));
            match reply.header("x-ms-continuationtoken") {
                Some(t) if !seen.insert(t.to_owned()) => {
                    return Err(reply.error(
                        ErrorKind::Decode,
                        format!(
                            "the continuation token {t:?} came back twice; stopping to avoid a loop"
                        ),
                    ));
                }
                Some(t) => token = Some(t.to_owned()),
                None => {
                    out.shrink_to_fit();
                    return Ok(out);
                }
            }
        }
    }
}

/// Resolve a URL the service handed back (`nextLink`, `Location`) and refuse one on another
/// host: relcon's token must only go where relcon was configured to send it.
pub fn same_origin(reply: &Reply, link: &str, what: &str) -> BackendResult<Url> {
    let url = reply.url.join(link).map_err(|e| {
        reply.error(
            ErrorKind::Decode,
            format!("{what} {link:?} is not a URL: {e}"),
        )
    })?;
    if url.origin() != reply.url.origin() {
        return Err(reply.error(
            ErrorKind::Decode,
            format!(
                "{what} points at another host ({}); not following it with relcon's credentials",
                url.host_str().unwrap_or("?")
            ),
        ));
    }
    Ok(url)
}

/// Replace (or add) one query parameter.
pub fn set_query(url: &mut Url, key: &str, value: &str) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = url.query_pairs_mut();
    q.clear();
    for (k, v) in &kept {
        q.append_pair(k, v);
    }
    q.append_pair(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_query_replaces() {
        let mut u = Url::parse("http://h/p?a=1&continuationToken=x&b=2").unwrap();
        set_query(&mut u, "continuationToken", "y z");
        assert_eq!(u.as_str(), "http://h/p?a=1&b=2&continuationToken=y+z");
    }
}
