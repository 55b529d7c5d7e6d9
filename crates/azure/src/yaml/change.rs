//! What the YAML release side changes, each sent once: an approval decided (Approvals -
//! Update), a stage re-run (Stages - Update retry), the rollback pipeline queued (Runs - Run
//! Pipeline) and read back.

use reqwest::Method;
use serde_json::json;

use super::assemble;
use crate::AzureBackend;
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, EnvironmentStatus, ReleaseEnvironment, StageRef,
};
use crate::http::{Call, Service};
use crate::service::backend::{BackendResult, ErrorKind, Receipt, RollbackRun, RollbackRunRequest};
use crate::wire::DevOpsList;
use crate::wire::pipelines as pw;

impl AzureBackend {
    /// Approvals - Update: the caller's step of one approval.
    pub(crate) async fn yaml_decide(
        &self,
        id: &ApprovalId,
        status: ApprovalStatus,
        comment: &str,
    ) -> BackendResult<Receipt<ApprovalRecord>> {
        let url = self.urls.yaml_approvals_update()?;
        let body = json!([{
            "approvalId": id.as_str(),
            "status": status.as_str(),
            "comment": comment,
        }]);
        self.yaml()?.changes.advance();
        let reply = self
            .http
            .mutate(Call::with_body(Service::DevOps, Method::PATCH, url, body))
            .await?;
        let list: DevOpsList<pw::Approval> = reply.json("an approval list")?;
        let a = list
            .value
            .into_iter()
            .find(|a| {
                a.id.as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(id.as_str()))
            })
            .ok_or_else(|| {
                reply.error(
                    ErrorKind::Decode,
                    format!("the answer does not list approval {id}"),
                )
            })?;
        let records = assemble::approval_records(&a, 0, "", &StageRef::default(), "", 1);
        let record = records
            .iter()
            .find(|r| r.status == status)
            .or(records.first())
            .cloned()
            .ok_or_else(|| reply.error(ErrorKind::Decode, "an approval without a status".into()))?;
        Ok(Receipt {
            value: record,
            request_id: reply.request_id(),
        })
    }

    /// Approvals - Get with its steps: one record per step, whatever the approval's status
    /// (not placed on a release: the caller knows where it asked).
    pub(crate) async fn yaml_approval_steps(
        &self,
        id: &ApprovalId,
    ) -> BackendResult<Vec<ApprovalRecord>> {
        let url = self.urls.yaml_approval(id.as_str())?;
        let a: pw::Approval = self
            .http
            .get_json(Service::DevOps, url, "an approval")
            .await?;
        Ok(assemble::approval_records(
            &a,
            0,
            "",
            &StageRef::default(),
            "",
            1,
        ))
    }

    /// Stages - Update `{state: retry, forceRetryAllJobs: true}` on a run's stage.
    pub(crate) async fn yaml_rerun_stage(
        &self,
        release_id: u32,
        stage: &StageRef,
        comment: &str,
    ) -> BackendResult<Receipt<ReleaseEnvironment>> {
        let (run, name) = assemble::parse_stage_ref(stage).ok_or_else(|| {
            super::config_error(format!(
                "stage {stage} is not a YAML run's stage (run:stage)"
            ))
        })?;
        // Stages - Update takes no comment; the audit log and the journal keep it.
        let _ = comment;
        let url = self.urls.yaml_stage(run, name)?;
        let body = json!({"state": "retry", "forceRetryAllJobs": true});
        let side = self.yaml()?;
        side.changes.advance();
        // A completed run runs again once one of its stages is retried: what was kept of it
        // as finished no longer holds.
        super::lock(&side.runs).remove(&run);
        let reply = self
            .http
            .mutate(Call::with_body(Service::DevOps, Method::PATCH, url, body))
            .await?;
        let request_id = reply.request_id();
        // The stage as it stands now; the retry went out whatever this read says.
        let value = match self.yaml_release(release_id).await {
            Ok(r) => r.environments.into_iter().find(|e| &e.id == stage),
            Err(e) => {
                tracing::warn!("re-reading training run {release_id} after the retry: {e}");
                None
            }
        };
        let value = value.unwrap_or_else(|| ReleaseEnvironment {
            id: stage.clone(),
            definition_environment_id: 0,
            name: name.into(),
            status: EnvironmentStatus::Queued,
            required_approvers: 0,
            requester_blocked: None,
            requested_for: None,
            pre_deploy_approvals: Vec::new(),
            deploy_steps: Vec::new(),
            modified_on: None,
        });
        Ok(Receipt { value, request_id })
    }

    /// Runs - Run Pipeline on the rollback pipeline with the seed's parameters.
    pub(crate) async fn yaml_queue_rollback(
        &self,
        request: &RollbackRunRequest,
    ) -> BackendResult<Receipt<RollbackRun>> {
        let ids = self.pipeline_ids().await?;
        let url = self.urls.yaml_run_pipeline(ids.rollback)?;
        let body = json!({
            "templateParameters": rollback_parameters(request),
        });
        self.yaml()?.changes.advance();
        let reply = self
            .http
            .mutate(Call::with_body(Service::DevOps, Method::POST, url, body))
            .await?;
        let run: pw::Run = reply.json("a run")?;
        Ok(Receipt {
            value: rollback_run(run, Vec::new()),
            request_id: reply.request_id(),
        })
    }

    /// A rollback run and the approvals it waits for.
    pub(crate) async fn yaml_rollback_run(&self, id: u32) -> BackendResult<RollbackRun> {
        let ids = self.pipeline_ids().await?;
        let url = self.urls.yaml_run(ids.rollback, id)?;
        let run: pw::Run = self.http.get_json(Service::DevOps, url, "a run").await?;
        let url = self.urls.yaml_pending_approvals()?;
        let list: DevOpsList<pw::Approval> = self
            .http
            .get_json(Service::DevOps, url, "an approval list")
            .await?;
        let waiting = list
            .value
            .into_iter()
            .filter(|a| {
                a.pipeline
                    .as_ref()
                    .and_then(|p| p.owner.as_ref()?.id)
                    .is_some_and(|owner| owner == id)
            })
            .filter_map(|a| a.id.map(ApprovalId::new))
            .collect();
        Ok(rollback_run(run, waiting))
    }

    /// The rollback run queued at or after `since` with exactly `request`'s parameters (Runs -
    /// List of the rollback pipeline, newest first; Runs - Get for a listed run that does not
    /// carry its parameters, which the documented list does not promise).
    pub(crate) async fn yaml_find_rollback_run(
        &self,
        request: &RollbackRunRequest,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Option<RollbackRun>> {
        let ids = self.pipeline_ids().await?;
        let url = self.urls.yaml_runs(ids.rollback)?;
        let runs: Vec<pw::Run> = self
            .http
            .devops_list(Service::DevOps, url, "a run list")
            .await?;
        let want = rollback_parameters(request);
        // DevOps' clock and ours may differ a little: a minute's grace.
        let since = since - chrono::Duration::minutes(1);
        for listed in runs {
            let Some(id) = listed.id else { continue };
            if crate::map::time(listed.created_date.as_deref()).is_some_and(|c| c < since) {
                continue;
            }
            let run = if listed.template_parameters.is_empty() {
                let url = self.urls.yaml_run(ids.rollback, id)?;
                self.http.get_json(Service::DevOps, url, "a run").await?
            } else {
                listed
            };
            if same_parameters(&run.template_parameters, &want) {
                return self.yaml_rollback_run(id).await.map(Some);
            }
        }
        Ok(None)
    }
}

/// Whether a run was queued with these `templateParameters`: every one relcon sent is there
/// with the same value (compared as text: the documented `Run` renders them as objects, the
/// request sends strings). Other parameters may be there too: the spec does not say whether a
/// run echoes only what was sent or also the pipeline's defaults, and a run missed here would
/// be queued a second time after a lost answer.
fn same_parameters(
    got: &std::collections::BTreeMap<String, serde_json::Value>,
    want: &serde_json::Value,
) -> bool {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    want.as_object().is_some_and(|w| {
        w.iter().all(|(k, v)| {
            got.iter()
                .find(|(g, _)| g.eq_ignore_ascii_case(k))
                .is_some_and(|(_, g)| text(g).eq_ignore_ascii_case(&text(v)))
        })
    })
}

/// What Stages - Update sends for a re-run, in words (the rollback plan shows it).
pub fn rerun_stage_call(stage: &StageRef) -> String {
    match assemble::parse_stage_ref(stage) {
        Some((run, name)) => format!(
            "PATCH _apis/build/builds/{run}/stages/{name} {{\"state\": \"retry\", \"forceRetryAllJobs\": true}} (re-run stage {name} of run {run})"
        ),
        None => format!("PATCH the stage {stage} (Stages - Update, retry)"),
    }
}

impl super::YamlSide {
    /// What Runs - Run Pipeline sends for a rollback run, in words (the rollback plan shows it).
    pub fn rollback_run_call(&self, request: &RollbackRunRequest) -> String {
        let parameters = rollback_parameters(request);
        let words: Vec<String> = parameters
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        format!(
            "POST _apis/pipelines/{{{}}}/runs templateParameters {} (queue it; its approval check runs first)",
            self.config.rollback_pipeline,
            words.join(" "),
        )
    }
}

/// The seed's `rollback-pipeline` parameters: `circuitIds` (`PLANT001_CIRCUIT01,...`),
/// `environment`, `rollbackType` and, for a specific version, `specificDeployment`.
pub fn rollback_parameters(request: &RollbackRunRequest) -> serde_json::Value {
    let circuits: Vec<String> = request
        .circuits
        .iter()
        .map(|c| format!("{}_{}", c.plant, c.circuit))
        .collect();
    let mut p = json!({
        "circuitIds": circuits.join(","),
        "environment": "Production",
        "rollbackType": if request.specific.is_some() { "specific" } else { "previous" },
    });
    if let (Some(v), Some(map)) = (request.specific, p.as_object_mut()) {
        map.insert("specificDeployment".into(), json!(v.0.to_string()));
    }
    p
}

fn rollback_run(run: pw::Run, pending_approvals: Vec<ApprovalId>) -> RollbackRun {
    RollbackRun {
        id: run.id.unwrap_or_default(),
        name: run.name.unwrap_or_default(),
        state: run.state.unwrap_or_default(),
        result: run.result.filter(|s| !s.is_empty()),
        pending_approvals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_parameters_are_the_seeds() {
        let req = RollbackRunRequest {
            circuits: vec!["PLANT007/CIRCUIT03".parse().unwrap()],
            specific: Some(crate::domain::ModelVersion(4)),
            comment: String::new(),
        };
        assert_eq!(
            rollback_parameters(&req),
            json!({"circuitIds": "PLANT007_CIRCUIT03", "environment": "Production",
                   "rollbackType": "specific", "specificDeployment": "4"})
        );
    }

    #[test]
    fn a_run_is_ours_when_what_we_sent_is_there_whatever_else_it_echoes() {
        let want = json!({"circuitIds": "PLANT007_CIRCUIT03", "rollbackType": "specific",
                          "specificDeployment": "4"});
        let run = |v: serde_json::Value| -> std::collections::BTreeMap<String, serde_json::Value> {
            serde_json::from_value(v).unwrap()
        };
        // Only what was sent, numbers rendered as numbers.
        assert!(same_parameters(
            &run(
                json!({"circuitIds": "PLANT007_CIRCUIT03", "rollbackType": "specific",
                        "specificDeployment": 4})
            ),
            &want
        ));
        // The pipeline's defaulted parameters echoed too.
        assert!(same_parameters(
            &run(
                json!({"circuitIds": "PLANT007_CIRCUIT03", "rollbackType": "specific",
                        "specificDeployment": "4", "environment": "Production", "dryRun": false})
            ),
            &want
        ));
        // Another target is another run.
        assert!(!same_parameters(
            &run(
                json!({"circuitIds": "PLANT007_CIRCUIT03", "rollbackType": "specific",
                        "specificDeployment": "5"})
            ),
            &want
        ));
        assert!(!same_parameters(
            &run(json!({"circuitIds": "PLANT007_CIRCUIT03"})),
            &want
        ));
    }
}
