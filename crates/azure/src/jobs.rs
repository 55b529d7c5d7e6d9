//! Batch scoring jobs through the Azure ML data plane (docs/AZURE.md "Batch scoring jobs"): a
//! deployment's job list (`BatchJobDeployment_List`, api-version 2020-09-01-dataplanepreview,
//! what `az ml batch-deployment list-jobs` reads) and one run's history (`Runs_Get`, what
//! Azure ML studio shows: start, end, error). Both live on the workspace's regional host
//! (`{api}`: `https://{region}.api.azureml.ms`), found through the workspace's discovery URL
//! unless `[incidents] ml_api_endpoint` names it, and take a token for `https://ml.azure.com`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};
use tokio::sync::OnceCell;

use super::AzureBackend;
use super::http::{Call, Service};
use super::map::time;
use super::urls::seg;
use super::wire::jobs as jw;
use crate::domain::Stage;
use crate::domain::incidents::{JobRun, JobStatus, ScoringJob};
use crate::domain::job_retry::{JobDetail, JobInput, ScoringInvocation};
use crate::service::backend::{BackendError, BackendResult, ErrorKind, Receipt};
use crate::settings::{ResourceRef, Settings};

/// The batch job API's only published version (its swagger lives with the Python SDK).
pub const BATCH_JOBS_API: &str = "2020-09-01-dataplanepreview";

/// Run history's version is a path segment (`/history/v1.0/`); its swagger also asks for an
/// `api-version` query parameter without naming a value, and the SDK sends none. relcon sends
/// none, and `v1.0` (the document's version) only if the service insists (400).
pub const RUN_HISTORY_API: &str = "v1.0";

/// A job list longer than this many pages is not read to its end; the jobs read are kept and
/// the list is reported as cut (the order of the pages is not documented).
pub const MAX_JOB_PAGES: usize = 20;

/// Hosts the discovery document may name for the data plane. relcon's token for
/// `https://ml.azure.com` goes only there (or to a host on this machine, the simulator).
const ML_API_HOST_SUFFIXES: [&str; 3] = [".api.azureml.ms", ".api.ml.azure.cn", ".api.ml.azure.us"];

/// Hosts a batch endpoint's `scoringUri` may name besides those: Azure ML's inference hosts
/// (the format of `scoringUri` is not documented; see docs/AZURE.md "Retrying a job").
const INFERENCE_HOST_SUFFIXES: [&str; 3] = [
    ".inference.ml.azure.com",
    ".inference.ml.azure.cn",
    ".inference.ml.azure.us",
];

/// Where the job calls go.
#[derive(Debug)]
pub struct JobUrls {
    arm: String,
    ml_api_version: String,
    subscription: String,
    test: ResourceRef,
    prod: ResourceRef,
    /// `[incidents] ml_api_endpoint`, when set.
    configured: Option<String>,
    /// The host discovery found, per workspace (Test, Prod), once found.
    discovered: [OnceCell<String>; 2],
}

impl JobUrls {
    pub fn new(s: &Settings) -> JobUrls {
        JobUrls {
            arm: s
                .azure
                .arm_endpoint
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            ml_api_version: s.azure.ml_api_version.clone(),
            subscription: s.azure.subscription_id.0.clone(),
            test: s.workspaces.test.clone(),
            prod: s.workspaces.prod.clone(),
            configured: s
                .incidents
                .ml_api_endpoint
                .as_ref()
                .map(|b| b.as_str().trim_end_matches('/').to_owned()),
            discovered: [OnceCell::new(), OnceCell::new()],
        }
    }

    fn workspace(&self, stage: Stage) -> BackendResult<(&ResourceRef, usize)> {
        match stage {
            Stage::Test => Ok((&self.test, 0)),
            Stage::Prod => Ok((&self.prod, 1)),
            other => Err(BackendError::new(
                ErrorKind::Config,
                "GET",
                "",
                format!("{other} has no batch deployments; ask for Test or Prod"),
            )),
        }
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`.
    fn workspace_path(&self, ws: &ResourceRef) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            seg(&self.subscription),
            seg(&ws.resource_group),
            seg(&ws.name)
        )
    }
}

fn parse_url(text: &str, query: &[(&str, &str)]) -> BackendResult<Url> {
    let mut url = Url::parse(text).map_err(|e| {
        BackendError::new(
            ErrorKind::Config,
            "GET",
            text,
            format!("not a valid URL ({e}); check [incidents] ml_api_endpoint"),
        )
    })?;
    if !query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in query {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

/// Whether relcon may send its ML token to this discovered host.
fn trusted_ml_host(url: &Url) -> bool {
    trusted_host(url, &ML_API_HOST_SUFFIXES)
}

/// Whether relcon may send its ML token to a batch endpoint's scoring URI.
fn trusted_scoring_host(url: &Url) -> bool {
    trusted_host(url, &ML_API_HOST_SUFFIXES) || trusted_host(url, &INFERENCE_HOST_SUFFIXES)
}

fn trusted_host(url: &Url, suffixes: &[&str]) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        || (url.scheme() == "https"
            && suffixes
                .iter()
                .any(|s| host.ends_with(s) && host.len() > s.len()))
}

/// The inputs a job was invoked with, as relcon keeps them.
pub fn job_inputs(w: &jw::BatchJobResource) -> BTreeMap<String, JobInput> {
    w.properties
        .as_ref()
        .and_then(|p| p.input_data.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, i)| {
                    (
                        k.clone(),
                        JobInput {
                            kind: i.job_input_type.clone().unwrap_or_default(),
                            uri: i.uri.clone(),
                            value: i.value.as_ref().map(|v| match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            }),
                            mode: i.mode.clone(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The body of a batch invoke (`BatchJobResource`, camelCase as the swagger and the SDK send
/// it): the inputs, the name relcon chose, a description. No `outputData`: Azure ML picks a
/// fresh output path, so the failed job's output is never overwritten.
pub fn invoke_body(inv: &ScoringInvocation) -> serde_json::Value {
    let inputs: serde_json::Map<String, serde_json::Value> = inv
        .inputs
        .iter()
        .map(|(k, i)| {
            let mut o = serde_json::Map::new();
            o.insert("jobInputType".into(), i.kind.clone().into());
            if let Some(u) = &i.uri {
                o.insert("uri".into(), u.clone().into());
            }
            if let Some(v) = &i.value {
                o.insert("value".into(), v.clone().into());
            }
            if let Some(m) = &i.mode {
                o.insert("mode".into(), m.clone().into());
            }
            (k.clone(), serde_json::Value::Object(o))
        })
        .collect();
    serde_json::json!({
        "properties": {
            "name": inv.job_name,
            "description": inv.description,
            "inputData": inputs,
        }
    })
}

/// A wire job as relcon's record.
pub fn scoring_job(
    stage: Stage,
    endpoint: &str,
    deployment: &str,
    w: jw::BatchJobResource,
) -> ScoringJob {
    let props = w.properties.unwrap_or_default();
    let studio_url = props
        .interaction_endpoints
        .as_ref()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("studio"))
                .and_then(|(_, e)| e.endpoint.clone())
        })
        .filter(|u| !u.is_empty());
    ScoringJob {
        name: w
            .name
            .filter(|n| !n.is_empty())
            .or(props.name)
            .unwrap_or_default(),
        stage,
        endpoint: endpoint.to_owned(),
        deployment: deployment.to_owned(),
        status: JobStatus::parse(props.status.as_deref().unwrap_or("")),
        submitted_at: w.system_data.and_then(|s| time(s.created_at.as_deref())),
        started_at: None,
        ended_at: None,
        error: None,
        error_code: None,
        studio_url,
    }
}

/// Run history's answer as relcon's record. The error's message is `error.error.message`.
pub fn job_run(w: jw::Run) -> JobRun {
    let root = w.error.and_then(|e| e.error);
    JobRun {
        status: w.status.as_deref().map(JobStatus::parse),
        started_at: time(w.start_time_utc.as_deref()),
        ended_at: time(w.end_time_utc.as_deref()),
        error: root
            .as_ref()
            .and_then(|r| r.message.clone())
            .filter(|m| !m.trim().is_empty()),
        error_code: root.and_then(|r| r.code).filter(|c| !c.is_empty()),
    }
}

impl AzureBackend {
    /// The data-plane host of a stage's workspace: configured, or found through the
    /// workspace's `discoveryUrl` (ARM), whose document's `api` is the host. Found once.
    async fn ml_api(&self, stage: Stage) -> BackendResult<String> {
        let (ws, i) = self.jobs.workspace(stage)?;
        if let Some(c) = &self.jobs.configured {
            return Ok(c.clone());
        }
        let found = self.jobs.discovered[i]
            .get_or_try_init(|| async {
                let url = parse_url(
                    &format!("{}{}", self.jobs.arm, self.jobs.workspace_path(ws)),
                    &[("api-version", &self.jobs.ml_api_version)],
                )?;
                let w: jw::Workspace = self.http.get_json(Service::Arm, url.clone(), "a workspace").await?;
                let discovery = w
                    .properties
                    .and_then(|p| p.discovery_url)
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| {
                        BackendError::new(
                            ErrorKind::Decode,
                            "GET",
                            url.as_str(),
                            "the workspace has no properties.discoveryUrl; set [incidents] ml_api_endpoint",
                        )
                    })?;
                let durl = parse_url(discovery.trim(), &[])?;
                // The discovery document is public: no credential goes with it.
                let doc: jw::Discovery = self
                    .http
                    .read(Call::anonymous(Service::MlData, durl.clone()))
                    .await?
                    .json("a workspace discovery document")?;
                let api = doc.api.filter(|a| !a.trim().is_empty()).ok_or_else(|| {
                    BackendError::new(
                        ErrorKind::Decode,
                        "GET",
                        durl.as_str(),
                        "the discovery document has no `api`; set [incidents] ml_api_endpoint",
                    )
                })?;
                let api_url = parse_url(api.trim(), &[])?;
                if !trusted_ml_host(&api_url) {
                    return Err(BackendError::new(
                        ErrorKind::Config,
                        "GET",
                        durl.as_str(),
                        format!(
                            "the discovery document names {} as the Azure ML host, which is not one; relcon sends its token only to *.api.azureml.ms (or the sovereign clouds' hosts): set [incidents] ml_api_endpoint",
                            api_url.host_str().unwrap_or("?")
                        ),
                    ));
                }
                Ok(api.trim().trim_end_matches('/').to_owned())
            })
            .await?;
        Ok(found.clone())
    }

    /// A deployment's jobs, every page (up to [`MAX_JOB_PAGES`]). The order of the list is not
    /// documented: when a page is newest first and ends before `since`, the older pages are
    /// not read.
    pub(super) async fn list_scoring_jobs(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        since: DateTime<Utc>,
    ) -> BackendResult<Vec<ScoringJob>> {
        let api = self.ml_api(stage).await?;
        let (ws, _) = self.jobs.workspace(stage)?;
        let first = parse_url(
            &format!(
                "{api}/mferp/managementfrontend{}/batchEndpoints/{}/deployments/{}/jobs",
                self.jobs.workspace_path(ws),
                seg(endpoint),
                seg(deployment)
            ),
            &[("api-version", BATCH_JOBS_API)],
        )?;
        let mut out: Vec<ScoringJob> = Vec::new();
        let mut pages = 0;
        self.http
            .arm_pages(
                Service::MlData,
                first,
                "a batch job list",
                |page: Vec<jw::BatchJobResource>, reply| {
                    pages += 1;
                    if pages > MAX_JOB_PAGES {
                        return Err(reply.error(
                            ErrorKind::Decode,
                            format!(
                                "the job list of {deployment} runs past {MAX_JOB_PAGES} pages; relcon stopped reading it"
                            ),
                        ));
                    }
                    let jobs: Vec<ScoringJob> = page
                        .into_iter()
                        .map(|j| scoring_job(stage, endpoint, deployment, j))
                        .collect();
                    let newest_first = jobs
                        .windows(2)
                        .all(|w| w[0].submitted_at >= w[1].submitted_at);
                    let ends_before = jobs
                        .last()
                        .and_then(|j| j.submitted_at)
                        .is_some_and(|t| t < since);
                    out.extend(jobs);
                    // Newest first and past the window: the older pages are not needed.
                    Ok(!(newest_first && ends_before))
                },
            )
            .await?;
        out.sort_by(|a, b| {
            b.submitted_at
                .cmp(&a.submitted_at)
                .then(b.name.cmp(&a.name))
        });
        Ok(out)
    }

    /// One job of a deployment with its inputs (`BatchJobDeployment_Get`).
    pub(super) async fn get_scoring_job(
        &self,
        stage: Stage,
        endpoint: &str,
        deployment: &str,
        job: &str,
    ) -> BackendResult<JobDetail> {
        let api = self.ml_api(stage).await?;
        let (ws, _) = self.jobs.workspace(stage)?;
        let url = parse_url(
            &format!(
                "{api}/mferp/managementfrontend{}/batchEndpoints/{}/deployments/{}/jobs/{}",
                self.jobs.workspace_path(ws),
                seg(endpoint),
                seg(deployment),
                seg(job)
            ),
            &[("api-version", BATCH_JOBS_API)],
        )?;
        let w: jw::BatchJobResource = self
            .http
            .get_json(Service::MlData, url, "a batch job")
            .await?;
        let inputs = job_inputs(&w);
        Ok(JobDetail {
            job: scoring_job(stage, endpoint, deployment, w),
            inputs,
        })
    }

    /// Start a batch job: read the endpoint's `scoringUri` (ARM), then POST it once, verbatim
    /// (as Microsoft's SDK and CLI do), with `azureml-model-deployment` naming the deployment.
    pub(super) async fn post_invoke(
        &self,
        inv: &ScoringInvocation,
    ) -> BackendResult<Receipt<ScoringJob>> {
        // The workspace's endpoint list (BatchEndpoints_List, one page for a plant fleet) has
        // each endpoint's `scoringUri`, in the shape BatchEndpoints_Get gives.
        let url = self.urls.endpoints(inv.stage)?;
        let endpoints: Vec<super::wire::ml::BatchEndpoint> = self
            .http
            .arm_list(url.clone(), "a batch endpoint list")
            .await?;
        let e = endpoints
            .into_iter()
            .find(|e| {
                e.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&inv.endpoint))
            })
            .ok_or_else(|| {
                let mut err = BackendError::new(
                    ErrorKind::NotFound,
                    "GET",
                    url.as_str(),
                    format!(
                        "no batch endpoint {} in the {} workspace",
                        inv.endpoint, inv.stage
                    ),
                );
                err.status = Some(404);
                err
            })?;
        let uri = e
            .properties
            .and_then(|p| p.scoring_uri)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                BackendError::new(
                    ErrorKind::Decode,
                    "GET",
                    url.as_str(),
                    format!(
                        "batch endpoint {} has no properties.scoringUri",
                        inv.endpoint
                    ),
                )
            })?;
        let target = Url::parse(uri.trim()).map_err(|err| {
            BackendError::new(
                ErrorKind::Decode,
                "GET",
                url.as_str(),
                format!("the endpoint's scoringUri is not a URL ({err})"),
            )
        })?;
        if !trusted_scoring_host(&target) {
            return Err(BackendError::new(
                ErrorKind::Config,
                "POST",
                target.as_str(),
                format!(
                    "batch endpoint {} names {} as its scoring URI, which is not an Azure ML host; relcon sends its token only to Azure ML",
                    inv.endpoint,
                    target.host_str().unwrap_or("?")
                ),
            ));
        }
        let call = Call::with_body(Service::MlData, Method::POST, target, invoke_body(inv))
            .header("azureml-model-deployment", inv.deployment.clone())
            .header("repeatability_request-id", inv.request_id.clone());
        let reply = self.http.mutate(call).await?;
        let w: jw::BatchJobResource = reply.json("a batch job")?;
        let mut job = scoring_job(inv.stage, &inv.endpoint, &inv.deployment, w);
        if job.name.is_empty() {
            job.name = inv.job_name.clone();
        }
        Ok(Receipt {
            value: job,
            request_id: reply.request_id(),
        })
    }

    /// One job's run history. Sent without `api-version` (as Microsoft's SDK does); a 400
    /// asking for one is answered by sending the document's `v1.0` once.
    pub(super) async fn get_job_run(&self, stage: Stage, job: &str) -> BackendResult<JobRun> {
        let api = self.ml_api(stage).await?;
        let (ws, _) = self.jobs.workspace(stage)?;
        let text = format!(
            "{api}/history/v1.0{}/runs/{}",
            self.jobs.workspace_path(ws),
            seg(job)
        );
        let run: jw::Run = match self
            .http
            .get_json(Service::MlData, parse_url(&text, &[])?, "a run")
            .await
        {
            Err(e) if e.status == Some(400) => {
                let url = parse_url(&text, &[("api-version", RUN_HISTORY_API)])?;
                self.http.get_json(Service::MlData, url, "a run").await?
            }
            r => r?,
        };
        Ok(job_run(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ml_token_goes_only_to_azure_ml_hosts_or_this_machine() {
        let ok = |s: &str| trusted_ml_host(&Url::parse(s).unwrap());
        assert!(ok("https://westeurope.api.azureml.ms"));
        assert!(ok("https://chinaeast2.api.ml.azure.cn/"));
        assert!(ok("http://127.0.0.1:4711/mlapi"));
        assert!(!ok("http://westeurope.api.azureml.ms"));
        assert!(!ok("https://api.azureml.ms.evil.example"));
        assert!(!ok("https://.api.azureml.ms"));
        assert!(!ok("https://example.com"));
    }

    #[test]
    fn a_run_says_when_it_ran_and_why_it_failed() {
        let w: jw::Run = serde_json::from_value(serde_json::json!({
            "runId": "j1", "status": "Failed",
            "startTimeUtc": "2026-11-26T02:00:05.123Z", "endTimeUtc": "2026-11-26T02:14:00Z",
            "error": {"error": {"code": "UserError", "message": "No such file: sensor.csv"}}
        }))
        .unwrap();
        let r = job_run(w);
        assert_eq!(r.status, Some(JobStatus::Failed));
        assert_eq!(r.error.as_deref(), Some("No such file: sensor.csv"));
        assert_eq!(r.error_code.as_deref(), Some("UserError"));
        assert!(r.ended_at > r.started_at);
    }
}
