//! The YAML flavour's URLs, paths and api-versions exactly as the table in
//! `tests/data/specs/devops-yaml/README.md` (checked by `tests/suite/contract.rs`).

use reqwest::Url;

use crate::service::backend::BackendResult;
use crate::urls::{Urls, seg};

/// Approvals, Pipelines/Runs, Builds/Timeline/Stages, Environments: released at 7.1.
pub const PIPELINES_API: &str = "7.1";
/// Check configurations are preview-only: a plain `7.1` is refused
/// (`VssInvalidPreviewVersionException`).
pub const CHECKS_API: &str = "7.1-preview.1";

const API: (&str, &str) = ("api-version", PIPELINES_API);

impl Urls {
    /// Approvals - Query: pending ones with their steps and the caller's permissions.
    pub fn yaml_pending_approvals(&self) -> BackendResult<Url> {
        self.devops_project_url(
            "_apis/pipelines/approvals",
            &[("state", "pending"), ("$expand", "steps,permissions"), API],
        )
    }

    /// Approvals - Get, with the approval's steps.
    pub fn yaml_approval(&self, id: &str) -> BackendResult<Url> {
        self.devops_project_url(
            &format!("_apis/pipelines/approvals/{}", seg(id)),
            &[("$expand", "steps"), API],
        )
    }

    /// Approvals - Update (PATCH, an array body).
    pub fn yaml_approvals_update(&self) -> BackendResult<Url> {
        self.devops_project_url("_apis/pipelines/approvals", &[API])
    }

    /// Check Configurations - List on an environment, with their settings.
    pub fn yaml_checks(&self, environment_id: u32) -> BackendResult<Url> {
        let id = environment_id.to_string();
        self.devops_project_url(
            "_apis/pipelines/checks/configurations",
            &[
                ("resourceType", "environment"),
                ("resourceId", &id),
                ("$expand", "settings"),
                ("api-version", CHECKS_API),
            ],
        )
    }

    /// Pipelines - List.
    pub fn yaml_pipelines(&self) -> BackendResult<Url> {
        self.devops_project_url("_apis/pipelines", &[API])
    }

    /// Runs - Get.
    pub fn yaml_run(&self, pipeline_id: u32, run_id: u32) -> BackendResult<Url> {
        self.devops_project_url(
            &format!("_apis/pipelines/{pipeline_id}/runs/{run_id}"),
            &[API],
        )
    }

    /// Runs - List of a pipeline (its newest runs).
    pub fn yaml_runs(&self, pipeline_id: u32) -> BackendResult<Url> {
        self.devops_project_url(&format!("_apis/pipelines/{pipeline_id}/runs"), &[API])
    }

    /// Runs - Run Pipeline (POST).
    pub fn yaml_run_pipeline(&self, pipeline_id: u32) -> BackendResult<Url> {
        self.devops_project_url(&format!("_apis/pipelines/{pipeline_id}/runs"), &[API])
    }

    /// Builds - Get: the run as the build API shows it (`requestedFor`).
    pub fn yaml_build(&self, build_id: u32) -> BackendResult<Url> {
        self.devops_project_url(&format!("_apis/build/builds/{build_id}"), &[API])
    }

    /// Builds - List of one definition (paged by `continuationToken`): its runs' names and ids.
    pub fn yaml_builds_of(&self, definition: u32) -> BackendResult<Url> {
        let def = definition.to_string();
        self.devops_project_url("_apis/build/builds", &[("definitions", &def), API])
    }

    /// Builds - List of one definition by build number: a consumed run's name to its id.
    pub fn yaml_build_by_number(&self, definition: u32, number: &str) -> BackendResult<Url> {
        let def = definition.to_string();
        self.devops_project_url(
            "_apis/build/builds",
            &[("definitions", &def), ("buildNumber", number), API],
        )
    }

    /// Timeline - Get: the run's main timeline (no `timelineId`, as Microsoft's client and
    /// `_links.timeline` do).
    pub fn yaml_timeline(&self, build_id: u32) -> BackendResult<Url> {
        self.devops_project_url(&format!("_apis/build/builds/{build_id}/timeline"), &[API])
    }

    /// Stages - Update (PATCH `{state: retry, forceRetryAllJobs}`).
    pub fn yaml_stage(&self, build_id: u32, stage: &str) -> BackendResult<Url> {
        self.devops_project_url(
            &format!("_apis/build/builds/{build_id}/stages/{}", seg(stage)),
            &[API],
        )
    }

    /// Environments - List by name.
    pub fn yaml_environments(&self, name: &str) -> BackendResult<Url> {
        self.devops_project_url("_apis/distributedtask/environments", &[("name", name), API])
    }

    /// Environment deployment records - List, newest first, `top` a page (`top` has no `$`).
    pub fn yaml_deployment_records(&self, environment_id: u32, top: u32) -> BackendResult<Url> {
        let top = top.to_string();
        self.devops_project_url(
            &format!(
                "_apis/distributedtask/environments/{environment_id}/environmentdeploymentrecords"
            ),
            &[("top", &top), API],
        )
    }
}
