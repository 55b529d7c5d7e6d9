//! Retrying a failed batch scoring job, as the batch-job runbook has it ("fix; retry the job"):
//! the failed job's inputs (what the data plane gives back of `properties.inputData`), which
//! jobs may be retried, and the name relcon chooses for the new job before it sends anything,
//! so that a retry whose answer was lost is looked for by name instead of sent twice. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::incidents::{JobOutcome, JobStatus, ScoringJob};

/// One named input of a batch job (`JobInput`: `jobInputType` with `uri`, or `value` for a
/// literal), as the service gave it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInput {
    /// `UriFolder`, `UriFile`, `MLTable`, `Literal`, ... as the data plane spells it.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl JobInput {
    /// The data it reads, for people: the URI, or the literal's value.
    pub fn describe(&self) -> String {
        match (&self.uri, &self.value) {
            (Some(u), _) => format!("{} {u}", self.kind),
            (None, Some(v)) => format!("{} {v:?}", self.kind),
            (None, None) => self.kind.clone(),
        }
    }

    /// Something a new job can be given: a data input with its URI or a literal with its
    /// value.
    pub fn is_usable(&self) -> bool {
        !self.kind.trim().is_empty()
            && (self.uri.as_deref().is_some_and(|u| !u.trim().is_empty()) || self.value.is_some())
    }
}

/// A job with the inputs it was invoked with (Jobs - Get on the deployment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: ScoringJob,
    pub inputs: BTreeMap<String, JobInput>,
}

/// A new batch job to start on a deployment (invoke the endpoint with the deployment named).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringInvocation {
    pub stage: super::Stage,
    pub endpoint: String,
    pub deployment: String,
    /// The name relcon chose for the new job (sent as `properties.name`).
    pub job_name: String,
    pub inputs: BTreeMap<String, JobInput>,
    /// Sent as `repeatability_request-id` (as Microsoft's SDK does); relcon relies on the name.
    pub request_id: String,
    /// Why (the job's description in Azure ML).
    pub description: String,
}

/// Why a job cannot be retried, in words; `None` when it can. Only a job that ended badly
/// (`Failed`, `Canceled`, `NotResponding`) is retried: a running job may still succeed, a
/// completed one has nothing to retry, and a job that never ran ("no run in 26 hours") has no
/// inputs to take (its night's inputs are a scheduler's to choose, not relcon's).
pub fn retry_refusal(detail: &JobDetail) -> Option<String> {
    let j = &detail.job;
    match j.status.outcome() {
        JobOutcome::Failed => {}
        JobOutcome::Succeeded => {
            return Some(format!(
                "job {} completed: there is nothing to retry",
                j.name
            ));
        }
        JobOutcome::Running => {
            return Some(format!(
                "job {} is {} still: wait for it to end (retry only a failed job)",
                j.name, j.status
            ));
        }
        JobOutcome::Other => {
            return Some(format!(
                "job {} is {}: only a failed, canceled or unresponsive job is retried",
                j.name, j.status
            ));
        }
    }
    if detail.inputs.is_empty() {
        return Some(format!(
            "the inputs of job {} cannot be recovered (its inputData is empty): start it from \
             Azure ML studio or `az ml batch-endpoint invoke`",
            j.name
        ));
    }
    if let Some((name, _)) = detail.inputs.iter().find(|(_, i)| !i.is_usable()) {
        return Some(format!(
            "input {name} of job {} has neither a URI nor a value: it cannot be sent again",
            j.name
        ));
    }
    None
}

/// The new job's name: `relcon-retry-` and a hash of the operation's id (lower-case letters
/// and digits, as job names allow), chosen before anything is sent and journaled with it.
pub fn retry_job_name(operation_id: &str) -> String {
    let h = operation_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("relcon-retry-{h:016x}")
}

/// Whether a status means the job is over (succeeded or failed).
pub fn is_over(s: &JobStatus) -> bool {
    matches!(s.outcome(), JobOutcome::Succeeded | JobOutcome::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stage;

    fn detail(status: &str, inputs: &[(&str, Option<&str>)]) -> JobDetail {
        JobDetail {
            job: ScoringJob {
                name: "batchjob-1".into(),
                stage: Stage::Prod,
                endpoint: "e".into(),
                deployment: "d".into(),
                status: JobStatus::parse(status),
                submitted_at: None,
                started_at: None,
                ended_at: None,
                error: None,
                error_code: None,
                studio_url: None,
            },
            inputs: inputs
                .iter()
                .map(|(k, uri)| {
                    (
                        (*k).to_owned(),
                        JobInput {
                            kind: "UriFolder".into(),
                            uri: uri.map(str::to_owned),
                            value: None,
                            mode: None,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn only_a_job_that_ended_badly_and_kept_its_inputs_is_retried() {
        let ok = [("sensor_readings", Some("azureml://datastores/x/paths/y/"))];
        for s in ["Failed", "Canceled", "NotResponding"] {
            assert_eq!(retry_refusal(&detail(s, &ok)), None, "{s}");
        }
        for (s, why) in [
            ("Completed", "nothing to retry"),
            ("Running", "wait for it to end"),
            ("Queued", "wait for it to end"),
            ("Paused", "only a failed"),
        ] {
            let r = retry_refusal(&detail(s, &ok)).unwrap();
            assert!(r.contains(why), "{s}: {r}");
        }
        assert!(
            retry_refusal(&detail("Failed", &[]))
                .unwrap()
                .contains("cannot be recovered")
        );
        assert!(
            retry_refusal(&detail("Failed", &[("x", None)]))
                .unwrap()
                .contains("neither a URI")
        );
    }

    #[test]
    fn the_new_jobs_name_is_fixed_by_the_operation_and_valid_for_azure_ml() {
        let a = retry_job_name("20261126T080000000Z-1a2b");
        assert_eq!(a, retry_job_name("20261126T080000000Z-1a2b"));
        assert_ne!(a, retry_job_name("20261126T080000000Z-1a2c"));
        assert!(a.len() <= 255);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
    }
}
