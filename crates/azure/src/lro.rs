//! Long-running ARM operations: the handle a PUT returns (`Azure-AsyncOperation`, else
//! `Location`, with `Retry-After`) and one poll of it.

use std::time::Duration;

use reqwest::Url;

use super::http::{Call, Http, Reply, Service};
use super::paging::same_origin;
use super::wire::ml::{AsyncOperationStatus, ProvisionedResource};
use crate::domain::platform::ProvisioningState;
use crate::service::backend::{
    BackendError, BackendResult, ErrorKind, OperationHandle, OperationKind, OperationStatus,
};

/// The operation to follow after a PUT. Without either header (a synchronous 200), the
/// resource itself is polled as a `Location`: its provisioning state says when it is done.
pub fn handle(reply: &Reply) -> BackendResult<OperationHandle> {
    let retry_after_secs = reply.retry_after().map(|d| d.as_secs());
    let (link, kind) = match (
        reply.header("azure-asyncoperation"),
        reply.header("location"),
    ) {
        (Some(a), _) => (a, OperationKind::AsyncOperation),
        (None, Some(l)) => (l, OperationKind::Location),
        (None, None) => (reply.url.as_str(), OperationKind::Location),
    };
    let url = same_origin(reply, link, "the operation URL")?;
    Ok(OperationHandle {
        url: url.to_string(),
        kind,
        retry_after_secs,
    })
}

/// Where `op` stands now. Only ever reads; a journal can resume it after a restart.
pub async fn poll(http: &Http, base: &Url, op: &OperationHandle) -> BackendResult<OperationStatus> {
    let url = Url::parse(&op.url).map_err(|e| {
        BackendError::new(ErrorKind::Decode, "GET", &op.url, format!("not a URL: {e}"))
    })?;
    // The handle may come from a journal on disk: never send the ARM token to another host.
    if url.origin() != base.origin() {
        return Err(BackendError::new(
            ErrorKind::Config,
            "GET",
            &op.url,
            format!(
                "the operation is not on the configured ARM endpoint ({})",
                base.origin().ascii_serialization()
            ),
        ));
    }
    match op.kind {
        OperationKind::AsyncOperation => {
            let reply = http.read(Call::get(Service::Arm, url)).await?;
            let body: AsyncOperationStatus = reply.json("an operation status")?;
            let status = body.status.unwrap_or_default();
            Ok(match status.to_ascii_lowercase().as_str() {
                "succeeded" => OperationStatus::Succeeded,
                "failed" => OperationStatus::Failed(
                    body.error
                        .and_then(|e| {
                            e.message
                                .map(|m| e.code.map_or(m.clone(), |c| format!("{c}: {m}")))
                        })
                        .unwrap_or_else(|| "the operation failed".to_owned()),
                ),
                "canceled" | "cancelled" => OperationStatus::Canceled,
                "" => {
                    return Err(reply.error(
                        ErrorKind::Decode,
                        "the operation status has no `status`".to_owned(),
                    ));
                }
                // InProgress, Running, Accepted, Creating, Updating...: not finished yet.
                _ => OperationStatus::InProgress {
                    retry_after: reply
                        .retry_after()
                        .or(Some(Duration::from_secs(
                            op.retry_after_secs.unwrap_or_default(),
                        )))
                        .filter(|d| !d.is_zero()),
                },
            })
        }
        OperationKind::Location => {
            let reply = match http.read(Call::get(Service::Arm, url)).await {
                Ok(r) => r,
                // The operation's own failure, reported with its final status code.
                Err(e) if matches!(e.status, Some(400 | 409 | 412 | 422)) => {
                    return Ok(OperationStatus::Failed(e.message));
                }
                Err(e) => return Err(e),
            };
            if reply.status == 202 {
                return Ok(OperationStatus::InProgress {
                    retry_after: reply.retry_after(),
                });
            }
            // 200/201 with the resource, or 204: done, unless the resource says otherwise.
            let state = serde_json::from_slice::<ProvisionedResource>(&reply.body)
                .ok()
                .and_then(|r| r.properties)
                .and_then(|p| p.provisioning_state);
            Ok(match state.as_deref().map(ProvisioningState::parse) {
                None | Some(ProvisioningState::Succeeded) => OperationStatus::Succeeded,
                Some(ProvisioningState::Failed) => OperationStatus::Failed(format!(
                    "provisioning state {}",
                    state.unwrap_or_default()
                )),
                Some(ProvisioningState::Canceled) => OperationStatus::Canceled,
                Some(_) => OperationStatus::InProgress {
                    retry_after: reply.retry_after(),
                },
            })
        }
    }
}
