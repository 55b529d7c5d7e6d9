//! The one seam between relcon's use cases and the platform. `azure::AzureBackend` implements
//! it over REST for real Azure and, pointed at loopback, for the built-in simulator. Methods
//! speak `domain::platform` records; no wire type crosses this line.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::Stage;
use crate::domain::incidents::{AlertRecord, AlertState, JobRun, ScoringJob};
use crate::domain::job_retry::{JobDetail, ScoringInvocation};
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, DeploymentRef, Endpoint,
    EnvironmentAsset, EnvironmentVersionRecord, Identity, ModelAsset, ModelContainer,
    ModelVersionRecord, ReleaseEnvironment, ReleaseRecord, StageRef, Table,
};

/// What went wrong talking to a service, with what a user needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BackendError {
    pub kind: ErrorKind,
    /// `GET`, `PUT`...
    pub method: String,
    /// The URL called, without credentials (none are ever put in URLs).
    pub url: String,
    pub status: Option<u16>,
    /// `x-ms-request-id` (ARM) or `ActivityId` (DevOps), for a support ticket.
    pub request_id: Option<String>,
    pub message: String,
    /// The service's own error code: DevOps' `typeKey` (`InvalidRequestException`...), ARM's
    /// and Log Analytics' `error.code`. (Boxed: the error stays under clippy's size limit.)
    pub code: Option<Box<str>>,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Errors raised before any request (configuration, credentials) have no method or URL.
        // A service may echo what it was sent (a token, a signed URL): never shown or logged.
        use crate::redact::redact;
        if !self.method.is_empty() || !self.url.is_empty() {
            write!(f, "{} {}", self.method, redact(&self.url))?;
            if let Some(s) = self.status {
                write!(f, ": HTTP {s}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&redact(&self.message))?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// The kind of a backend failure, for policy (retry, exit code, message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No or bad credentials (401, or no token could be obtained).
    Auth,
    /// Signed in but not allowed (403).
    Forbidden,
    NotFound,
    /// The service refused because the state changed (409, or an approval no longer pending).
    Conflict,
    /// 429 after the retry budget was spent.
    Throttled,
    /// 5xx after the retry budget was spent, or another unexpected status.
    Server,
    /// Connection refused, reset, DNS, TLS.
    Network,
    Timeout,
    /// The response was not what the API documents (malformed JSON, missing fields).
    Decode,
    /// relcon's configuration makes the call impossible.
    Config,
}

impl BackendError {
    pub fn new(kind: ErrorKind, method: &str, url: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            method: method.to_owned(),
            url: url.to_owned(),
            status: None,
            request_id: None,
            message: message.into(),
            code: None,
        }
    }

    /// The service answered and said no: a 4xx that is not about credentials (401), a missing
    /// resource (404), time (408), a race (409, 412) or throttling (429), so 400, 403, 422...
    /// The request took no effect; re-reading tells a refusal from someone else's decision.
    pub fn is_refusal(&self) -> bool {
        self.status.is_some_and(|s| {
            (400..500).contains(&s) && ![401, 404, 408, 409, 412, 429].contains(&s)
        })
    }

    /// Whether the outcome of a mutation that failed this way is unknown (the request may have
    /// reached the service): the caller must re-read before trying again. An unexpected 4xx
    /// (kind `Server`, e.g. 400 or 418) is a definite refusal, not an unknown outcome.
    pub fn is_ambiguous(&self) -> bool {
        match self.kind {
            ErrorKind::Network | ErrorKind::Timeout => true,
            ErrorKind::Server => !self.status.is_some_and(|s| (400..500).contains(&s)),
            _ => false,
        }
    }
}

pub type BackendResult<T> = Result<T, BackendError>;

/// A long-running ARM operation to follow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperationHandle {
    /// The `Azure-AsyncOperation` URL when given, else the `Location` URL.
    pub url: String,
    /// Which header it came from: the two are polled differently.
    pub kind: OperationKind,
    /// The service's `Retry-After`, in seconds, when it sent one.
    pub retry_after_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationKind {
    /// Poll returns `{"status": "InProgress" | "Succeeded" | "Failed" | "Canceled"}`.
    AsyncOperation,
    /// Poll returns 202 while running, then 200/204 when done.
    Location,
}

/// Where a long-running operation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    InProgress { retry_after: Option<Duration> },
    Succeeded,
    Failed(String),
    Canceled,
}

/// What a mutation returns: the service's answer and the request id to quote (audit log,
/// support tickets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// Which approvals to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalQuery {
    /// `None`: every status.
    pub status: Option<ApprovalStatus>,
    /// Only these releases (empty: all).
    pub release_ids: Vec<u32>,
}

/// A rollback run to queue: the seed's `rollback-pipeline` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRunRequest {
    /// `circuitIds`: the circuits to roll back (`PLANT001_CIRCUIT01`...).
    pub circuits: Vec<crate::domain::CircuitRef>,
    /// `rollbackType=specific` with `specificDeployment` = this version; `None`: `previous`.
    pub specific: Option<crate::domain::ModelVersion>,
    pub comment: String,
}

/// A queued rollback run and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRun {
    pub id: u32,
    pub name: String,
    /// `inProgress`, `completed`...
    pub state: String,
    /// `succeeded`, `failed`, `canceled` once completed.
    pub result: Option<String>,
    /// Pending approvals of its stage (its environment's Approval check), while it waits.
    pub pending_approvals: Vec<ApprovalId>,
}

/// Which releases to read: created at or after `since`, and those with these ids (either may
/// be empty; both empty reads nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseQuery {
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub ids: Vec<u32>,
}

/// The platform as relcon reads and changes it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// One line for the status bar: "simulator at http://127.0.0.1:4711" or the subscription
    /// and workspaces.
    fn describe(&self) -> String;

    /// Sign in to each service now, and say how (`doctor`): one `(service, result)` per
    /// credential in use. A backend without credentials has nothing to check.
    async fn sign_in(&self) -> Vec<(String, BackendResult<String>)> {
        Vec::new()
    }

    /// The caller, from Azure DevOps `_apis/connectionData`.
    async fn identity(&self) -> BackendResult<Identity>;

    // ---- Azure ML (ARM) ----
    async fn endpoints(&self, stage: Stage) -> BackendResult<Vec<Endpoint>>;
    async fn deployments(&self, stage: Stage, endpoint: &str) -> BackendResult<Vec<Deployment>>;
    async fn deployment(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
    ) -> BackendResult<Deployment>;
    /// Model containers with their latest versions (one paged list per location).
    async fn model_containers(&self, location: AssetLocation)
    -> BackendResult<Vec<ModelContainer>>;
    async fn model_versions(
        &self,
        location: AssetLocation,
        model: &str,
    ) -> BackendResult<Vec<ModelVersionRecord>>;
    async fn environment_versions(
        &self,
        location: AssetLocation,
        name: &str,
    ) -> BackendResult<Vec<EnvironmentVersionRecord>>;
    /// Point a deployment at another model version: GET, change `properties.model.assetId`,
    /// PUT; returns the operation to follow. Sent once; never retried blindly.
    async fn begin_set_deployment_model(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
        model: &ModelAsset,
    ) -> BackendResult<Receipt<OperationHandle>>;
    /// Point a deployment at another environment version (environment rollback), as above.
    async fn begin_set_deployment_environment(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
        environment: &EnvironmentAsset,
    ) -> BackendResult<Receipt<OperationHandle>>;
    async fn operation_status(&self, op: &OperationHandle) -> BackendResult<OperationStatus>;

    // ---- The release side (Azure DevOps: classic releases or YAML pipelines) ----
    //
    // In domain terms, whatever the flavour: a *release* carries one training run's models
    // through the stages Registry, Test and Production (classic: a release of the definition;
    // YAML: the promotion, Test and Prod runs that consume that training run); each stage has
    // attempts, approvals (with the rule they are judged by) and a reference a re-run is sent
    // to. Ids are opaque (`ApprovalId`, `StageRef`); only the adapter that made one reads it.

    /// A config file at a commit of the config repository.
    async fn config_at(&self, path: &str, commit: &str) -> BackendResult<String>;
    /// The release history, newest first, each release with its stages, their attempts,
    /// approvals and approval rule, the training run it carries and its variables.
    async fn release_history(&self) -> BackendResult<Vec<ReleaseRecord>>;
    /// Some releases, read as `release_history` reads them, newest first, each once.
    async fn release_history_where(
        &self,
        query: &ReleaseQuery,
    ) -> BackendResult<Vec<ReleaseRecord>>;
    /// The newest `top` stage attempts of any release (any stage), newest first: one page;
    /// enough to tell which known releases changed.
    async fn recent_attempts(&self, top: u32) -> BackendResult<Vec<DeploymentRef>>;
    /// One release, as `release_history` reads it.
    async fn release(&self, id: u32) -> BackendResult<ReleaseRecord>;
    /// Approval records (pending, or any status), placed on their release and stage.
    async fn approvals(&self, query: &ApprovalQuery) -> BackendResult<Vec<ApprovalRecord>>;
    /// Approve or reject: the caller's part of one approval. Sent once; never retried blindly.
    /// A definite refusal (already decided, requester blocked) is an error the caller answers
    /// by re-reading.
    async fn decide_approval(
        &self,
        id: &ApprovalId,
        status: ApprovalStatus,
        comment: &str,
    ) -> BackendResult<Receipt<ApprovalRecord>>;
    /// Every record of one approval, whatever its status (YAML: Approvals - Get with its
    /// steps, one record per approver). For confirming a decision when the release no longer
    /// lists the approval (a YAML release lists only those still waiting). A flavour whose
    /// releases list every approval answers `ErrorKind::Config`: read the release instead.
    async fn approval_steps(&self, id: &ApprovalId) -> BackendResult<Vec<ApprovalRecord>> {
        let _ = id;
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this release flavour lists every approval on its release",
        ))
    }
    /// Deploy a stage of a release again (classic: redeploy the release environment; YAML:
    /// re-run the run's stage): a new attempt, which asks for the stage's approvals again.
    /// Returns the stage as it stands after the request. Sent once.
    async fn rerun_stage(
        &self,
        release_id: u32,
        stage: &StageRef,
        comment: &str,
    ) -> BackendResult<Receipt<ReleaseEnvironment>>;
    /// Queue the rollback pipeline for these circuits in Production (YAML flavour, the
    /// seed's `rollback-pipeline`). A flavour without one answers `ErrorKind::Config`.
    /// Sent once.
    async fn queue_rollback_run(
        &self,
        request: &RollbackRunRequest,
    ) -> BackendResult<Receipt<RollbackRun>> {
        let _ = request;
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this release flavour has no rollback pipeline",
        ))
    }
    /// Where a queued rollback run stands (see `queue_rollback_run`).
    async fn rollback_run(&self, id: u32) -> BackendResult<RollbackRun> {
        let _ = id;
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this release flavour has no rollback pipeline",
        ))
    }
    /// The rollback run queued at or after `since` with exactly these parameters, if any:
    /// after a lost answer or a crash, whether `queue_rollback_run` went out (never sent twice).
    async fn find_rollback_run(
        &self,
        request: &RollbackRunRequest,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Option<RollbackRun>> {
        let _ = (request, since);
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this release flavour has no rollback pipeline",
        ))
    }
    /// What the adapter keeps between processes, as bytes only it reads: the session stores
    /// them in the cache after a complete refresh and hands them to the next process of the
    /// same backend ([`Backend::restore_kept`]). `None`: nothing worth keeping (classic).
    fn kept(&self) -> Option<Vec<u8>> {
        None
    }
    /// Take back what [`Backend::kept`] gave an earlier process; bytes it cannot read are
    /// ignored (a cache is never a reason to fail).
    fn restore_kept(&self, bytes: &[u8]) {
        let _ = bytes;
    }
    /// Whether this release flavour has a rollback pipeline (`queue_rollback_run`).
    fn offers_rollback_run(&self) -> bool {
        false
    }
    /// The request `rerun_stage` sends, in words, for a plan shown before anything is sent
    /// (`None`: the classic Release API's redeploy, which the plan words itself).
    fn rerun_stage_call(&self, release_id: u32, stage: &StageRef) -> Option<String> {
        let _ = (release_id, stage);
        None
    }
    /// The request `queue_rollback_run` sends, in words, for the plan.
    fn rollback_run_call(&self, request: &RollbackRunRequest) -> String {
        let _ = request;
        "queue the rollback pipeline".to_owned()
    }

    // ---- Incidents: Azure Monitor alerts and batch scoring jobs ----
    /// The subscription's alerts whose condition still holds, fired in the last 30 days (one
    /// paged list; closed ones included, the caller decides).
    async fn fired_alerts(&self) -> BackendResult<Vec<AlertRecord>>;
    /// One alert, by its id or GUID.
    async fn alert(&self, id: &str) -> BackendResult<AlertRecord>;
    /// Acknowledge, close or reopen an alert, with a comment. Sent once; never retried blindly.
    async fn change_alert_state(
        &self,
        id: &str,
        state: AlertState,
        comment: &str,
    ) -> BackendResult<Receipt<AlertRecord>>;
    /// A batch deployment's scoring jobs, newest first (at least those submitted since
    /// `since`; older ones when the list gives them).
    async fn scoring_jobs(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Vec<ScoringJob>>;
    /// What run history says of one job (start, end, error).
    async fn job_run(&self, stage: Stage, job: &str) -> BackendResult<JobRun>;
    /// One job of a deployment, with the inputs it was invoked with (Jobs - Get on the
    /// deployment). `NotFound` when the deployment has no job of that name.
    async fn scoring_job(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        job: &str,
    ) -> BackendResult<JobDetail> {
        let _ = (stage, endpoint, deployment, job);
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this backend cannot read a batch job's inputs",
        ))
    }
    /// Start a batch job on a deployment (POST the endpoint's scoring URI with the deployment
    /// named), under the name the invocation carries. Sent once; never retried blindly: after
    /// an ambiguous failure, look for the job by its name.
    async fn invoke_scoring(
        &self,
        invocation: &ScoringInvocation,
    ) -> BackendResult<Receipt<ScoringJob>> {
        let _ = invocation;
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "this backend cannot start a batch job",
        ))
    }

    // ---- Monitoring (Log Analytics workspace or Application Insights) ----
    /// One of relcon's monitoring reads. The Azure layer writes its query for the configured
    /// source's schema; the result has the columns [`MonitorQuery`] documents, whatever the
    /// schema.
    async fn monitor(&self, query: MonitorQuery) -> BackendResult<Table>;
    /// The same read, handed to `each` part by part as the parts arrive, so a caller that
    /// decodes them never holds the whole result (at 20,000 circuits the drift table is
    /// hundreds of MB of text). A result past the service's cap is read in parts by plant, a
    /// plant's rows all in one part; when the split changes mid-read the parts are handed
    /// again, so a later part replaces what an earlier one said of its plants. The default
    /// hands over `monitor`'s whole table as one part.
    async fn monitor_each(
        &self,
        query: MonitorQuery,
        each: &mut (dyn FnMut(Table) + Send),
    ) -> BackendResult<()> {
        each(self.monitor(query).await?);
        Ok(())
    }
}

/// What relcon reads from monitoring. Each is one query; the result columns are the same for
/// the workspace tables and the classic Application Insights tables (docs/AZURE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonitorQuery {
    /// 30 days of daily drift: `plant_id, circuit_id, feature, metric, days, values`.
    Drift,
    /// 30 days of daily Prod MAE: `plant_id, circuit_id, days, values`.
    Accuracy,
    /// 90 days of test validation, newest per run and metric: `at, plant_id, circuit_id,
    /// model_version, release_id, environment_version, metric_name, value`.
    Validation,
    /// What the metrics table holds for each metric relcon reads (doctor): `metric_name,
    /// rows_30d, rows_90d, circuits, newest, without_circuit`.
    Coverage,
}

impl MonitorQuery {
    /// How many kinds of query there are.
    pub const COUNT: usize = 4;

    /// A dense index, for per-query state in an adapter.
    pub fn index(self) -> usize {
        match self {
            MonitorQuery::Drift => 0,
            MonitorQuery::Accuracy => 1,
            MonitorQuery::Validation => 2,
            MonitorQuery::Coverage => 3,
        }
    }

    /// Its rows belong to plants, so it can be asked in parts by plant and the parts joined
    /// (the coverage counts are totals: they cannot).
    pub fn can_split(self) -> bool {
        !matches!(self, MonitorQuery::Coverage)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MonitorQuery::Drift => "drift",
            MonitorQuery::Accuracy => "accuracy",
            MonitorQuery::Validation => "validation",
            MonitorQuery::Coverage => "coverage",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, kind: ErrorKind) -> BackendError {
        BackendError {
            status: Some(status),
            ..BackendError::new(kind, "PATCH", "https://vsrm/approvals/1", "no")
        }
    }

    /// DevOps does not document how it refuses an approval its rules forbid; any definite
    /// 4xx that is not about credentials, existence, time, races or throttling is a refusal,
    /// so 400 and 403 read alike.
    #[test]
    fn a_refusal_is_a_definite_4xx_of_the_service() {
        for (status, kind) in [
            (400, ErrorKind::Conflict),
            (400, ErrorKind::Server),
            (403, ErrorKind::Forbidden),
            (422, ErrorKind::Server),
        ] {
            assert!(answered(status, kind).is_refusal(), "{status}");
        }
        for (status, kind) in [
            (401, ErrorKind::Auth),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::Timeout),
            (409, ErrorKind::Conflict),
            (412, ErrorKind::Conflict),
            (429, ErrorKind::Throttled),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
        ] {
            assert!(!answered(status, kind).is_refusal(), "{status}");
        }
        assert!(!BackendError::new(ErrorKind::Network, "PATCH", "u", "reset").is_refusal());
    }
}
