//! Monitoring queries: one query and its answer, and a result past the service's cap read in
//! parts by plant.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::json;

use crate::domain::platform::Table;
use crate::http::{Call, Service};
use crate::service::backend::{BackendError, BackendResult, ErrorKind, MonitorQuery};
use crate::wire::monitor as lw;
use crate::{AzureBackend, kql, map, wire};

/// One monitoring answer, and whether the service cut it for its size.
struct Answer {
    table: Table,
    too_large: bool,
}

impl AzureBackend {
    /// A query whose result would pass the service's cap (Log Analytics: 500,000 records or
    /// 64-100 MB; the service answers 200 with a `PartialError` and what fitted) is asked again
    /// in parts: `hash(plant_id, n) == k` for k in 0..n, n doubling until every part fits (at
    /// most [`kql::MAX_PARTS`]). Each part that fits is handed to `each` as it arrives (a
    /// plant's rows are all in one part); when the split doubles, the parts are asked (and
    /// handed) again, so `each` lets a later part replace what an earlier one said of a plant.
    /// The number of parts that last worked is kept for the next refresh, so a large fleet
    /// pays for the split once. A partial result for another reason is not split: it is
    /// handed over and said to be partial.
    pub(crate) async fn monitor_in_parts(
        &self,
        query: MonitorQuery,
        each: &mut (dyn FnMut(Table) + Send),
    ) -> BackendResult<()> {
        let slot = &self.monitor_parts[query.index()];
        let mut parts = slot.load(Ordering::Relaxed).max(1);
        if query.can_split() {
            parts = parts.max(kql::parts_for_plants(
                self.plants_seen.load(Ordering::Relaxed),
            ));
        }
        loop {
            let mut split = false;
            for k in 0..parts {
                let part = kql::Part {
                    index: k,
                    of: parts,
                };
                let may_split = parts < kql::MAX_PARTS && query.can_split();
                let Answer { table, too_large } = self.monitor_once(query, part, may_split).await?;
                if too_large && may_split {
                    split = true;
                    break;
                }
                each(table);
            }
            if split {
                parts = (parts * 2).min(kql::MAX_PARTS);
                tracing::info!(
                    query = query.as_str(),
                    parts,
                    "the result passes the service's cap; asking again in parts"
                );
                continue;
            }
            slot.store(parts, Ordering::Relaxed);
            return Ok(());
        }
    }

    /// The parts' rows joined into one table (`doctor`'s coverage, and any caller that wants
    /// the whole result at once; a refresh decodes each part as it arrives instead).
    pub(crate) async fn monitor_joined(&self, query: MonitorQuery) -> BackendResult<Table> {
        let mut joined: Option<Table> = None;
        self.monitor_in_parts(query, &mut |table| match &mut joined {
            None => joined = Some(table),
            Some(all) => all.append(table),
        })
        .await?;
        Ok(joined.unwrap_or_default())
    }

    /// One query (or one part of it) and what came back; `Err` only when nothing usable came.
    /// When it `may_split` and the service cut the result for its size, the rows are not
    /// decoded: the answer is empty and `too_large`, and the caller asks again in parts.
    async fn monitor_once(
        &self,
        query: MonitorQuery,
        part: kql::Part,
        may_split: bool,
    ) -> BackendResult<Answer> {
        let url = self.urls.monitor_query()?;
        let (text, timespan) = kql::query(query, self.schema);
        let text = kql::partitioned(&text, self.schema, part);
        let body = json!({"query": text, "timespan": timespan});
        let what = match self.schema {
            kql::Schema::Workspace => "a Log Analytics query result",
            kql::Schema::Classic => "an Application Insights query result",
        };
        // A query is a read: safe to retry.
        let reply = self
            .http
            .read(Call::with_body(Service::Monitor, Method::POST, url, body))
            .await?;
        let (url_text, status, request_id) =
            (reply.url.to_string(), reply.status, reply.request_id());
        if may_split {
            let probe: lw::QueryProbe = reply.json(what)?;
            if probe
                .error
                .as_ref()
                .is_some_and(wire::ErrorDetail::result_too_large)
            {
                tracing::warn!(
                    request_id = request_id.as_deref().unwrap_or(""),
                    query = query.as_str(),
                    bytes = reply.body.len(),
                    "the result passes the service's cap; its rows are not read"
                );
                return Ok(Answer {
                    table: Table::default(),
                    too_large: true,
                });
            }
        }
        let results: lw::QueryResults = reply.json(what)?;
        drop(reply.body);
        let service = match self.schema {
            kql::Schema::Workspace => "Log Analytics",
            kql::Schema::Classic => "Application Insights",
        };
        let too_large = results
            .error
            .as_ref()
            .is_some_and(wire::ErrorDetail::result_too_large);
        let partial = results.error.as_ref().map(|e| {
            let code = e.code.as_deref().unwrap_or("PartialError");
            let message = e
                .message
                .as_deref()
                .unwrap_or("some of the result is missing");
            format!("{service} returned a partial result ({code}): {message}")
        });
        let mut table = map::table(results).map_err(|m| BackendError {
            kind: ErrorKind::Decode,
            method: "POST".into(),
            url: url_text.clone(),
            status: Some(status),
            request_id: request_id.clone(),
            code: None,
            message: m,
        })?;
        if let Some(p) = &partial {
            tracing::warn!(
                request_id = request_id.as_deref().unwrap_or(""),
                query = query.as_str(),
                "{p}"
            );
        }
        table.partial = partial;
        Ok(Answer { table, too_large })
    }
}
