//! What a job retry is asked and what it answers: the request, the new job as last read
//! ([`RetryBrief`]) and the outcome with its exit code and one line for people.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::incidents::ScoringJob;
use crate::domain::{CircuitRef, Stage};
use crate::service::journal::{OpKind, Operation};

/// One retry to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRetryRequest {
    pub circuit: CircuitRef,
    /// Test or Prod.
    pub stage: Stage,
    /// The failed job's name (`relcon jobs` lists them).
    pub job: String,
    /// Why (on the audit log).
    pub reason: Option<String>,
}

/// The new job as the outcome shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryBrief {
    pub circuit: String,
    pub stage: String,
    /// The job whose inputs were taken.
    pub from_job: String,
    /// The new job.
    pub job: String,
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// The inputs sent, for people (`sensor_readings: UriFolder azureml://...`).
    pub inputs: Vec<String>,
}

impl RetryBrief {
    pub(super) fn of(op: &Operation, job: Option<&ScoringJob>, inputs: &[String]) -> RetryBrief {
        let (circuit, stage, from_job, name, status) = match &op.kind {
            OpKind::JobRetry {
                circuit,
                stage,
                from_job,
                job,
                job_status,
                ..
            } => (
                circuit.to_string(),
                stage.to_string(),
                from_job.clone(),
                job.clone(),
                job_status.clone(),
            ),
            _ => Default::default(),
        };
        RetryBrief {
            circuit,
            stage,
            from_job,
            job: name,
            status: job
                .map(|j| j.status.as_str().to_owned())
                .or(status)
                .unwrap_or_else(|| "NotStarted".to_owned()),
            submitted_at: job.and_then(|j| j.submitted_at),
            started_at: job.and_then(|j| j.started_at),
            ended_at: job.and_then(|j| j.ended_at),
            error: job.and_then(|j| j.error.clone()),
            inputs: inputs.to_vec(),
        }
    }
}

/// How a retry ended. Exit codes as every mutation: done 0, refused 1, no such job or stage 2,
/// conflict (the job is not failed: someone retried it or it ran again) 3, failed 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JobRetryOutcome {
    /// The new job completed.
    Done {
        retry: RetryBrief,
        operation: String,
        request_id: Option<String>,
    },
    /// Sent; the new job was still going when relcon stopped following it.
    Running {
        retry: RetryBrief,
        operation: String,
        message: String,
    },
    /// The job was retried before, and that retry completed: nothing was sent.
    Unchanged { retry: RetryBrief, message: String },
    Refused {
        job: String,
        reasons: Vec<String>,
        /// `policy` (nothing sent) or `azure` (Azure ML said no).
        refused_by: String,
        request_id: Option<String>,
    },
    /// No such job in that stage's deployment, or a stage without batch deployments.
    Invalid { job: String, message: String },
    /// The job is not one to retry now (it completed, or is still running).
    Conflict { job: String, message: String },
    Failed {
        job: String,
        message: String,
        /// The new job when it was sent (it failed again), or `None` when nothing was.
        retry: Option<RetryBrief>,
        operation: Option<String>,
        request_id: Option<String>,
    },
}

impl JobRetryOutcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            JobRetryOutcome::Done { .. }
            | JobRetryOutcome::Running { .. }
            | JobRetryOutcome::Unchanged { .. } => 0,
            JobRetryOutcome::Refused { .. } => 1,
            JobRetryOutcome::Invalid { .. } => 2,
            JobRetryOutcome::Conflict { .. } => 3,
            JobRetryOutcome::Failed { .. } => 4,
        }
    }

    /// The new job, when there is one.
    pub fn retry(&self) -> Option<&RetryBrief> {
        match self {
            JobRetryOutcome::Done { retry, .. }
            | JobRetryOutcome::Running { retry, .. }
            | JobRetryOutcome::Unchanged { retry, .. } => Some(retry),
            JobRetryOutcome::Failed { retry, .. } => retry.as_ref(),
            _ => None,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            JobRetryOutcome::Done { retry, .. } => format!(
                "retry of {} on {} {}: job {} completed",
                retry.from_job, retry.circuit, retry.stage, retry.job
            ),
            JobRetryOutcome::Running { retry, message, .. } => format!(
                "retry of {} on {} {}: job {} is {}; {message}",
                retry.from_job, retry.circuit, retry.stage, retry.job, retry.status
            ),
            JobRetryOutcome::Unchanged { message, .. } => message.clone(),
            JobRetryOutcome::Refused {
                job,
                reasons,
                refused_by,
                ..
            } => format!(
                "retry of {job}: refused by {}: {}",
                if refused_by == "policy" {
                    "policy"
                } else {
                    "Azure ML"
                },
                reasons.join("; ")
            ),
            JobRetryOutcome::Invalid { job, message }
            | JobRetryOutcome::Conflict { job, message } => format!("retry of {job}: {message}"),
            JobRetryOutcome::Failed { job, message, .. } => {
                format!("retry of {job}: failed: {message}")
            }
        }
    }
}
