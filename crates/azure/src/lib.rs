//! relcon's only client of the platform: Azure ML (ARM), Azure DevOps and Log Analytics over
//! REST, or the built-in simulator on loopback, which serves the same paths (docs/AZURE.md).
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The layers this adapter stands on, under the names the code uses.
use relcon_core::{service, settings};
use relcon_domain as domain;

#[doc(hidden)]
pub mod alerts;
mod auth;
mod http;
#[doc(hidden)]
pub mod jobs;
// Public so that the simulator's tests can send exactly what the client sends.
#[doc(hidden)]
pub mod kql;
mod lro;
mod monitor;
mod pacing;
mod paging;
mod sign_in;
// Public only so that `tests/suite/azure_examples.rs` can hold the official examples against them;
// nothing above `azure/` uses either.
#[doc(hidden)]
pub mod map;
mod request_log;
mod urls;
#[doc(hidden)]
pub mod wire;
pub mod yaml;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use reqwest::{Method, Url};
use serde_json::{Value, json};

pub use auth::{DEVOPS_SCOPE, SecretString};
pub use http::{ClientStats, Pacing, RetryPolicy};
pub use pacing::Rate;

use crate::domain::Stage;
use crate::domain::incidents::{AlertRecord, AlertState, JobRun, ScoringJob};
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, DeploymentRef, Endpoint,
    EnvironmentAsset, EnvironmentVersionRecord, Identity, IdentityBook, ModelAsset, ModelContainer,
    ModelVersionRecord, ReleaseEnvironment, ReleaseRecord, StageRef, Table,
};
use crate::service::backend::{
    ApprovalQuery, Backend, BackendError, BackendResult, ErrorKind, MonitorQuery, OperationHandle,
    OperationStatus, Receipt, ReleaseQuery, RollbackRun, RollbackRunRequest,
};
use crate::settings::{AuthMethod, MonitorSource, ReleaseFlavor, Settings};
use http::{Call, Http, Service};
use urls::Urls;
use wire::{DevOpsList, devops as dw, ml as mw};

/// How the client behaves, beyond what the configuration file says.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The simulator identity (`--as NAME`); ignored for real Azure.
    pub identity_override: Option<String>,
    /// Requests in flight per service (ARM, DevOps, DevOps Release, Log Analytics). How fast
    /// each service is sent requests comes from the settings (`[client]`).
    pub concurrency: usize,
    /// The whole of one request, connect to last byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// A credential to use instead of the one `auth.method` names (tests, embedding).
    pub credential: Option<Arc<dyn TokenCredential>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            identity_override: None,
            concurrency: 32,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            credential: None,
        }
    }
}

impl ClientOptions {
    /// Concurrency, timeout, throttle budget and read deadline of `[client]`; everything else
    /// as by default.
    pub fn from_client_settings(c: &crate::settings::ClientSettings) -> ClientOptions {
        let mut o = ClientOptions {
            concurrency: c.concurrency,
            timeout: Duration::from_secs(c.timeout_seconds),
            ..ClientOptions::default()
        };
        o.retry.throttle_budget = Duration::from_secs(c.throttle_wait_seconds);
        o.retry.deadline = Duration::from_secs(c.read_deadline_seconds.max(1));
        o
    }
}

/// The pacing `[client]` asks for.
fn pacing(c: &crate::settings::ClientSettings) -> Pacing {
    let rate = |per_second: f64, burst: u32| Rate {
        per_second,
        burst: f64::from(burst),
    };
    Pacing {
        arm_reads: rate(c.arm_reads_per_second, c.arm_read_burst),
        devops: rate(c.devops_requests_per_second, c.devops_burst),
        monitor: rate(c.monitor_queries_per_second, c.monitor_burst),
        ..Pacing::default()
    }
}

/// The `Backend` over Azure REST (or the simulator).
#[derive(Debug)]
pub struct AzureBackend {
    http: Http,
    urls: Urls,
    description: String,
    /// The names the monitoring tables have where queries are sent.
    schema: kql::Schema,
    /// How many parts each monitoring query was last asked in (see `monitor`).
    monitor_parts: [AtomicU32; MonitorQuery::COUNT],
    /// The most plants (batch endpoints) one stage's endpoint list has shown: what a
    /// monitoring query's first split is sized by ([`kql::parts_for_plants`]).
    plants_seen: AtomicU32,
    /// Azure Monitor alerts (Alerts Management).
    alerts: alerts::AlertUrls,
    /// Batch scoring jobs and run history (the Azure ML data plane).
    jobs: jobs::JobUrls,
    /// The release side over YAML pipelines (`[devops] flavor = "yaml"`); `None`: classic.
    yaml: Option<yaml::YamlSide>,
}

/// Whether a base URL is on this machine (the simulator, a test fake).
fn is_loopback(base: &str) -> bool {
    Url::parse(base).ok().is_some_and(|u| {
        let host = u.host_str().unwrap_or_default().trim_matches(['[', ']']);
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

impl AzureBackend {
    pub fn new(settings: &Settings, options: ClientOptions) -> Result<AzureBackend, BackendError> {
        let config = |m: String| BackendError::new(ErrorKind::Config, "", "", m);
        let auth = auth::Auth::new(
            settings,
            options.identity_override.as_deref(),
            options.credential.clone(),
        )
        .map_err(config)?;
        let monitor = settings.monitor.source().ok_or_else(|| {
            config(
                "[monitor] names neither a Log Analytics workspace nor an Application Insights app"
                    .to_owned(),
            )
        })?;
        let schema = match monitor {
            MonitorSource::Workspace { .. } => kql::Schema::Workspace,
            MonitorSource::AppInsights { .. } => kql::Schema::Classic,
        };
        let bases = [
            settings.azure.arm_endpoint.as_str(),
            settings.devops.endpoint.as_str(),
            settings.devops.release_endpoint.as_str(),
            monitor.endpoint().as_str(),
        ];
        let description = match auth.simulator_user() {
            Some(user) => {
                let origin = Url::parse(settings.azure.arm_endpoint.as_str())
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_else(|_| settings.azure.arm_endpoint.to_string());
                format!("simulator at {origin} (as {user})")
            }
            None => format!(
                "Azure subscription {} · ws {}/{}/{} · DevOps {}/{}",
                settings.azure.subscription_id,
                settings.workspaces.dev.name,
                settings.workspaces.test.name,
                settings.workspaces.prod.name,
                settings.devops.organization,
                settings.devops.project
            ),
        };
        let loopback =
            settings.auth.method == AuthMethod::Simulator || bases.iter().all(|b| is_loopback(b));
        let http = Http::new(
            auth,
            options.concurrency,
            pacing(&settings.client),
            options.timeout,
            options.connect_timeout,
            options.retry,
            loopback,
        )
        .map_err(config)?;
        Ok(AzureBackend {
            http,
            urls: Urls::new(settings),
            description,
            schema,
            monitor_parts: Default::default(),
            plants_seen: AtomicU32::new(0),
            alerts: alerts::AlertUrls::new(settings),
            jobs: jobs::JobUrls::new(settings),
            yaml: (settings.devops.flavor == ReleaseFlavor::Yaml)
                .then(|| yaml::YamlSide::new(settings.devops.yaml.clone())),
        })
    }

    /// Requests sent so far, by service, with retries and throttled responses.
    pub fn stats(&self) -> ClientStats {
        self.http.stats()
    }

    /// GET a deployment, set one property, PUT it all back, and return the operation.
    async fn put_deployment_with(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
        change: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> BackendResult<Receipt<OperationHandle>> {
        let url = self.urls.deployment(stage, endpoint, name)?;
        let reply = self.http.read(Call::get(Service::Arm, url.clone())).await?;
        let mut resource: Value = reply.json("a batch deployment")?;
        let Some(props) = resource
            .as_object_mut()
            .map(|o| o.entry("properties").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        else {
            return Err(reply.error(
                ErrorKind::Decode,
                "the deployment is not a JSON object with `properties`".to_owned(),
            ));
        };
        change(props);
        let put = self
            .http
            .mutate(Call::with_body(Service::Arm, Method::PUT, url, resource))
            .await?;
        Ok(Receipt {
            value: lro::handle(&put)?,
            request_id: put.request_id(),
        })
    }

    /// One paged approval list for one status filter.
    async fn approvals_for(
        &self,
        status: Option<&str>,
        release_ids: &str,
    ) -> BackendResult<Vec<ApprovalRecord>> {
        let url = self.urls.approvals(status, release_ids)?;
        let list: Vec<dw::ReleaseApproval> = self
            .http
            .devops_list(Service::Release, url, "a release approval list")
            .await?;
        let ctx = map::ApprovalContext::default();
        Ok(map::mapped(list, |a| map::approval(a, &ctx)))
    }
}

/// What a classic release answers when asked for the YAML flavour's rollback pipeline.
fn no_rollback_pipeline() -> BackendError {
    BackendError::new(
        ErrorKind::Config,
        "",
        "",
        "classic releases have no rollback pipeline: redeploy an earlier release or roll back directly",
    )
}

/// A classic release numbers its approvals and environments; a reference that is not a number
/// came from another flavour and is refused before anything is sent.
fn classic_number(n: Option<u32>, what: &str, id: &impl std::fmt::Display) -> BackendResult<u32> {
    n.ok_or_else(|| {
        BackendError::new(
            ErrorKind::Config,
            "",
            "",
            format!("{what} {id} is not a classic release's (its id is not a number)"),
        )
    })
}

#[async_trait]
impl Backend for AzureBackend {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn sign_in(&self) -> Vec<(String, BackendResult<String>)> {
        let auth = self.http.auth();
        if let Some(user) = auth.simulator_user() {
            return vec![("the simulator".into(), Ok(format!("as {user}")))];
        }
        let mut services = vec![(Service::Arm, "Azure ML (ARM)")];
        if !auth.devops_uses_pat() {
            services.push((Service::DevOps, "Azure DevOps"));
        }
        services.push((Service::Monitor, "Log Analytics"));
        services.push((Service::MlData, "Azure ML data plane"));
        // All at once: a login endpoint that does not answer costs one timeout, not three.
        let got = futures::future::join_all(services.iter().map(|(s, _)| auth.header(*s))).await;
        let mut out: Vec<(String, BackendResult<String>)> = services
            .iter()
            .zip(got)
            .map(|((_, name), r)| {
                let r = r
                    .map(|_| format!("a token from {}", auth.endpoint()))
                    .map_err(auth::AuthError::into_backend);
                ((*name).to_owned(), r)
            })
            .collect();
        if auth.devops_uses_pat() {
            out.push(("Azure DevOps".into(), Ok("a PAT (basic auth)".into())));
        }
        out
    }

    async fn identity(&self) -> BackendResult<Identity> {
        let url = self.urls.connection_data()?;
        let data: dw::ConnectionData = self
            .http
            .get_json(Service::DevOps, url, "connection data")
            .await?;
        Ok(map::identity(data))
    }

    async fn endpoints(&self, stage: Stage) -> BackendResult<Vec<Endpoint>> {
        let url = self.urls.endpoints(stage)?;
        let list: Vec<mw::BatchEndpoint> = self.http.arm_list(url, "a batch endpoint list").await?;
        let plants = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.plants_seen.fetch_max(plants, Ordering::Relaxed);
        Ok(list.into_iter().map(|e| map::endpoint(stage, e)).collect())
    }

    async fn deployments(&self, stage: Stage, endpoint: &str) -> BackendResult<Vec<Deployment>> {
        let url = self.urls.deployments(stage, endpoint)?;
        self.http
            .arm_list_map(url, "a batch deployment list", |d: mw::BatchDeployment| {
                Some(map::deployment(stage, endpoint, d))
            })
            .await
    }

    async fn deployment(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
    ) -> BackendResult<Deployment> {
        let url = self.urls.deployment(stage, endpoint, name)?;
        let d: mw::BatchDeployment = self
            .http
            .get_json(Service::Arm, url, "a batch deployment")
            .await?;
        Ok(map::deployment(stage, endpoint, d))
    }

    async fn model_containers(
        &self,
        location: AssetLocation,
    ) -> BackendResult<Vec<ModelContainer>> {
        let url = self.urls.model_containers(location)?;
        self.http
            .arm_list_map(url, "a model container list", |c: mw::ModelContainer| {
                Some(map::model_container(c))
            })
            .await
    }

    async fn model_versions(
        &self,
        location: AssetLocation,
        model: &str,
    ) -> BackendResult<Vec<ModelVersionRecord>> {
        let url = self.urls.model_versions(location, model)?;
        let mut out: Vec<ModelVersionRecord> = self
            .http
            .arm_list_map(url, "a model version list", |v: mw::ModelVersion| {
                map::model_version(location, model, v)
            })
            .await?;
        out.sort_by_key(|v| v.version);
        Ok(out)
    }

    async fn environment_versions(
        &self,
        location: AssetLocation,
        name: &str,
    ) -> BackendResult<Vec<EnvironmentVersionRecord>> {
        let url = self.urls.environment_versions(location, name)?;
        let list: Vec<mw::EnvironmentVersion> = self
            .http
            .arm_list(url, "an environment version list")
            .await?;
        Ok(list
            .into_iter()
            .map(|v| map::environment_version(location, name, v))
            .collect())
    }

    async fn begin_set_deployment_model(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
        model: &ModelAsset,
    ) -> BackendResult<Receipt<OperationHandle>> {
        let asset_id = model.asset_id();
        self.put_deployment_with(stage, endpoint, name, |props| {
            let model = props.entry("model").or_insert_with(|| json!({}));
            match model.as_object_mut() {
                Some(m) => {
                    m.insert("assetId".into(), Value::String(asset_id));
                    m.entry("referenceType").or_insert_with(|| json!("Id"));
                }
                None => *model = json!({"referenceType": "Id", "assetId": asset_id}),
            }
        })
        .await
    }

    async fn begin_set_deployment_environment(
        &self,
        stage: Stage,
        endpoint: &str,
        name: &str,
        environment: &EnvironmentAsset,
    ) -> BackendResult<Receipt<OperationHandle>> {
        let id = environment.asset_id();
        self.put_deployment_with(stage, endpoint, name, |props| {
            props.insert("environmentId".into(), Value::String(id));
        })
        .await
    }

    async fn operation_status(&self, op: &OperationHandle) -> BackendResult<OperationStatus> {
        let base = self.urls.arm_base()?;
        lro::poll(&self.http, &base, op).await
    }

    async fn config_at(&self, path: &str, commit: &str) -> BackendResult<String> {
        let url = self.urls.git_item(path, commit)?;
        let reply = self.http.read(Call::get(Service::DevOps, url)).await?;
        let item: dw::GitItem = reply.json("a Git item")?;
        item.content.ok_or_else(|| {
            reply.error(
                ErrorKind::Decode,
                format!("the Git item {path} at {commit} has no `content`"),
            )
        })
    }

    async fn release_history(&self) -> BackendResult<Vec<ReleaseRecord>> {
        if self.yaml.is_some() {
            return self.yaml_history().await;
        }
        let url = self.urls.releases()?;
        // One book for the list: each person and name is held once however many releases,
        // approvals and attempts carry it.
        let mut book = IdentityBook::default();
        let mut out: Vec<ReleaseRecord> = self
            .http
            .devops_list_map(Service::Release, url, "a release list", |r: dw::Release| {
                Some(map::release_in(r, &mut book))
            })
            .await?;
        // Newest first whatever order the pages came in.
        out.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(out)
    }

    async fn release_history_where(
        &self,
        query: &ReleaseQuery,
    ) -> BackendResult<Vec<ReleaseRecord>> {
        if self.yaml.is_some() {
            return self.yaml_history_where(query).await;
        }
        let mut urls = Vec::new();
        if let Some(since) = query.since {
            let t = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            urls.push(self.urls.releases_filtered(&[("minCreatedTime", &t)])?);
        }
        // Long id lists are split so that URLs stay short.
        for chunk in query.ids.chunks(50) {
            let ids = chunk
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            urls.push(self.urls.releases_filtered(&[("releaseIdFilter", &ids)])?);
        }
        let lists = futures::future::join_all(urls.into_iter().map(|url| {
            let mut book = IdentityBook::default();
            self.http.devops_list_map(
                Service::Release,
                url,
                "a release list",
                move |r: dw::Release| Some(map::release_in(r, &mut book)),
            )
        }))
        .await;
        let mut out: Vec<ReleaseRecord> = Vec::new();
        for list in lists {
            out.extend(list?);
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.id));
        out.dedup_by_key(|r| r.id);
        Ok(out)
    }

    async fn recent_attempts(&self, top: u32) -> BackendResult<Vec<DeploymentRef>> {
        if self.yaml.is_some() {
            return self.yaml_recent_attempts(top).await;
        }
        let url = self.urls.recent_deployments(top)?;
        let page: DevOpsList<dw::ReleaseDeployment> = self
            .http
            .get_json(Service::Release, url, "a deployment list")
            .await?;
        Ok(page
            .value
            .into_iter()
            .filter_map(|d| {
                Some(DeploymentRef {
                    release_id: d.release?.id?,
                    environment_id: d.release_environment?.id?.into(),
                    attempt: d.attempt?,
                })
            })
            .collect())
    }

    async fn release(&self, id: u32) -> BackendResult<ReleaseRecord> {
        if self.yaml.is_some() {
            return self.yaml_release(id).await;
        }
        let url = self.urls.release(id)?;
        let r: dw::Release = self
            .http
            .get_json(Service::Release, url, "a release")
            .await?;
        Ok(map::release(r))
    }

    async fn approvals(&self, query: &ApprovalQuery) -> BackendResult<Vec<ApprovalRecord>> {
        if self.yaml.is_some() {
            return self.yaml_approvals(query).await;
        }
        // The service takes one status per call and reads a missing filter as "pending"; every
        // status therefore means one call per concrete status.
        let statuses: Vec<ApprovalStatus> = match &query.status {
            Some(s) => vec![s.clone()],
            None => vec![
                ApprovalStatus::Pending,
                ApprovalStatus::Approved,
                ApprovalStatus::Rejected,
                ApprovalStatus::Reassigned,
                ApprovalStatus::Canceled,
                ApprovalStatus::Skipped,
            ],
        };
        // Long id lists are split so that URLs stay short.
        let mut id_chunks: Vec<String> = query
            .release_ids
            .chunks(50)
            .map(|c| c.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
            .collect();
        if id_chunks.is_empty() {
            id_chunks.push(String::new());
        }
        let mut out = Vec::new();
        for status in &statuses {
            for ids in &id_chunks {
                out.extend(self.approvals_for(Some(status.as_str()), ids).await?);
            }
        }
        Ok(out)
    }

    async fn decide_approval(
        &self,
        id: &ApprovalId,
        status: ApprovalStatus,
        comment: &str,
    ) -> BackendResult<Receipt<ApprovalRecord>> {
        if self.yaml.is_some() {
            return self.yaml_decide(id, status, comment).await;
        }
        let url = self
            .urls
            .approval(classic_number(id.as_number(), "approval", id)?)?;
        let body = json!({"status": status.as_str(), "comments": comment});
        let reply = self
            .http
            .mutate(Call::with_body(Service::Release, Method::PATCH, url, body))
            .await?;
        let a: dw::ReleaseApproval = reply.json("a release approval")?;
        Ok(Receipt {
            value: map::approval(a, &map::ApprovalContext::default()),
            request_id: reply.request_id(),
        })
    }

    async fn approval_steps(&self, id: &ApprovalId) -> BackendResult<Vec<ApprovalRecord>> {
        if self.yaml.is_some() {
            return self.yaml_approval_steps(id).await;
        }
        Err(BackendError::new(
            ErrorKind::Config,
            "",
            "",
            "classic releases list every approval on their release",
        ))
    }

    async fn rerun_stage(
        &self,
        release_id: u32,
        stage: &StageRef,
        comment: &str,
    ) -> BackendResult<Receipt<ReleaseEnvironment>> {
        if self.yaml.is_some() {
            return self.yaml_rerun_stage(release_id, stage, comment).await;
        }
        let environment_id = classic_number(stage.as_number(), "release environment", stage)?;
        let url = self.urls.release_environment(release_id, environment_id)?;
        let body = json!({
            "status": "inProgress",
            "scheduledDeploymentTime": null,
            "comment": comment,
            "variables": {},
        });
        let reply = self
            .http
            .mutate(Call::with_body(Service::Release, Method::PATCH, url, body))
            .await?;
        let e: dw::ReleaseEnvironment = reply.json("a release environment")?;
        Ok(Receipt {
            value: map::release_environment(e, Some((release_id, ""))),
            request_id: reply.request_id(),
        })
    }

    async fn queue_rollback_run(
        &self,
        request: &RollbackRunRequest,
    ) -> BackendResult<Receipt<RollbackRun>> {
        if self.yaml.is_some() {
            return self.yaml_queue_rollback(request).await;
        }
        Err(no_rollback_pipeline())
    }

    async fn rollback_run(&self, id: u32) -> BackendResult<RollbackRun> {
        if self.yaml.is_some() {
            return self.yaml_rollback_run(id).await;
        }
        Err(no_rollback_pipeline())
    }

    async fn find_rollback_run(
        &self,
        request: &RollbackRunRequest,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Option<RollbackRun>> {
        if self.yaml.is_some() {
            return self.yaml_find_rollback_run(request, since).await;
        }
        Err(no_rollback_pipeline())
    }

    fn offers_rollback_run(&self) -> bool {
        self.yaml.is_some()
    }

    fn kept(&self) -> Option<Vec<u8>> {
        self.yaml.as_ref().map(yaml::kept::export)
    }

    fn restore_kept(&self, bytes: &[u8]) {
        if let Some(side) = &self.yaml {
            yaml::kept::restore(side, bytes);
        }
    }

    fn rerun_stage_call(&self, release_id: u32, stage: &StageRef) -> Option<String> {
        let _ = release_id;
        self.yaml.as_ref().map(|_| yaml::rerun_stage_call(stage))
    }

    fn rollback_run_call(&self, request: &RollbackRunRequest) -> String {
        match &self.yaml {
            Some(side) => side.rollback_run_call(request),
            None => no_rollback_pipeline().to_string(),
        }
    }

    async fn fired_alerts(&self) -> BackendResult<Vec<AlertRecord>> {
        self.list_fired_alerts().await
    }

    async fn alert(&self, id: &str) -> BackendResult<AlertRecord> {
        self.get_alert(id).await
    }

    async fn change_alert_state(
        &self,
        id: &str,
        state: AlertState,
        comment: &str,
    ) -> BackendResult<Receipt<AlertRecord>> {
        self.post_alert_state(id, state, comment).await
    }

    async fn scoring_jobs(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Vec<ScoringJob>> {
        self.list_scoring_jobs(stage, endpoint, deployment, since)
            .await
    }

    async fn job_run(&self, stage: Stage, job: &str) -> BackendResult<JobRun> {
        self.get_job_run(stage, job).await
    }

    async fn scoring_job(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        job: &str,
    ) -> BackendResult<domain::job_retry::JobDetail> {
        self.get_scoring_job(stage, endpoint, deployment, job).await
    }

    async fn invoke_scoring(
        &self,
        invocation: &domain::job_retry::ScoringInvocation,
    ) -> BackendResult<Receipt<ScoringJob>> {
        self.post_invoke(invocation).await
    }

    /// See [`AzureBackend::monitor_in_parts`]: a result past the service's cap is read in parts.
    async fn monitor(&self, query: MonitorQuery) -> BackendResult<Table> {
        self.monitor_joined(query).await
    }

    /// Each part handed over as it arrives ([`AzureBackend::monitor_in_parts`]).
    async fn monitor_each(
        &self,
        query: MonitorQuery,
        each: &mut (dyn FnMut(Table) + Send),
    ) -> BackendResult<()> {
        self.monitor_in_parts(query, each).await
    }
}
