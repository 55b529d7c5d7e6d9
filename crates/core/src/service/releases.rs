//! The release history between refreshes: read in full once, then only what can have changed
//! (new releases, releases not settled, releases with a deployment attempt not seen before),
//! and in full again every [`FULL_RELEASE_READ_EVERY`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::backend::{Backend, BackendResult, ReleaseQuery};
use crate::domain::platform::{ApprovalStatus, DeploymentRef, ReleaseRecord, ReleaseStatus};

/// The releases of the last refresh, so that the next one reads only what can have changed:
/// a release history grows for years, and reading all of it (with environments, approvals
/// and artifacts) every minute would make refresh time grow with it.
#[derive(Debug, Clone)]
pub struct ReleaseBook {
    /// Newest first.
    pub releases: Vec<ReleaseRecord>,
    /// When the whole list was last read.
    pub full_read_at: DateTime<Utc>,
}

/// How often the whole release list is read again although nothing said it changed (catches
/// what the checks below cannot see: a deleted release, more change than one page shows).
pub const FULL_RELEASE_READ_EVERY: chrono::Duration = chrono::Duration::minutes(15);

/// Deployment attempts looked at per refresh; when every one of them is new, more changed
/// than they show, and everything is read again.
const RECENT_DEPLOYMENTS: u32 = 50;

/// Nothing more will happen to it unless someone deploys it again (which adds an attempt):
/// abandoned, or no stage deploying, queued or waiting for an approval.
fn settled(r: &ReleaseRecord) -> bool {
    r.status == ReleaseStatus::Abandoned
        || r.environments.iter().all(|e| {
            !e.status.is_active()
                && !e
                    .pre_deploy_approvals
                    .iter()
                    .any(|a| a.status == ApprovalStatus::Pending)
        })
}

/// The releases now, from the last refresh's plus what changed: releases created since the
/// newest one known, releases not settled, and releases with a deployment attempt the book
/// has not seen (a redeploy, by relcon or anyone else). Returns whether it read everything.
pub(super) async fn changed_releases(
    backend: &dyn Backend,
    book: &ReleaseBook,
) -> (BackendResult<Vec<ReleaseRecord>>, bool) {
    let Some(since) = book.releases.iter().filter_map(|r| r.created_on).max() else {
        return (backend.release_history().await, true);
    };
    let recent = match backend.recent_attempts(RECENT_DEPLOYMENTS).await {
        Ok(r) => r,
        Err(e) => return (Err(e), false),
    };
    let by_id: HashMap<u32, &ReleaseRecord> = book.releases.iter().map(|r| (r.id, r)).collect();
    let seen = |d: &&DeploymentRef| {
        by_id
            .get(&d.release_id)
            .and_then(|r| r.environments.iter().find(|e| e.id == d.environment_id))
            .is_some_and(|e| e.deploy_steps.iter().any(|s| s.attempt >= d.attempt))
    };
    let unseen: Vec<_> = recent.iter().filter(|d| !seen(d)).collect();
    if recent.len() >= RECENT_DEPLOYMENTS as usize && unseen.len() == recent.len() {
        return (backend.release_history().await, true);
    }
    let mut ids: BTreeSet<u32> = book
        .releases
        .iter()
        .filter(|r| !settled(r))
        .map(|r| r.id)
        .collect();
    ids.extend(
        unseen
            .iter()
            .map(|d| d.release_id)
            .filter(|id| by_id.contains_key(id)),
    );
    let query = ReleaseQuery {
        since: Some(since),
        ids: ids.into_iter().collect(),
    };
    match backend.release_history_where(&query).await {
        Ok(fresh) => {
            let mut all: BTreeMap<u32, ReleaseRecord> =
                book.releases.iter().map(|r| (r.id, r.clone())).collect();
            all.extend(fresh.into_iter().map(|r| (r.id, r)));
            (Ok(all.into_values().rev().collect()), false)
        }
        Err(e) => (Err(e), false),
    }
}
