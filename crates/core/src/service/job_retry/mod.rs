//! Retrying a failed batch scoring job (the batch-job runbook's "retry the job"): the failed
//! job re-read with its inputs (only a failed, canceled or unresponsive job with recoverable
//! inputs is retried); journaled (kind `job-retry`, the new job's name chosen before anything
//! is sent) and on the audit log before the POST on the endpoint's scoring URI, sent once
//! under the operation's send claim; an ambiguous failure looks for the new job by its name
//! instead of sending again; then the new job is followed to its end on the session's clock
//! (`[incidents] retry_follow_minutes`). A stop between the journal and the answer is settled
//! by `rollback::track` like any operation: the job is looked for by name, never sent twice.
//!
//! The same invocation starts the optional test inference after a verified rollback
//! ([`test_inference`]).

mod outcome;
mod test_inference;
mod track;

pub use outcome::{JobRetryOutcome, JobRetryRequest, RetryBrief};

pub use test_inference::{after_verified_rollback, test_inference};
use track::{Earlier, earlier};
pub(crate) use track::{step, went_out};

use super::backend::{ErrorKind, Receipt};
use super::journal::{OpKind, OpState, Operation};
use super::op_audit;
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::Stage;
use crate::domain::incidents::{JobOutcome, JobStatus, ScoringJob};
use crate::domain::job_retry::{
    JobDetail, JobInput, ScoringInvocation, retry_job_name, retry_refusal,
};
use crate::domain::platform::IdentityRef;

fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}

fn described(inputs: &std::collections::BTreeMap<String, JobInput>) -> Vec<String> {
    inputs
        .iter()
        .map(|(k, i)| format!("{k}: {}", i.describe()))
        .collect()
}

/// Retry one failed job as `operator`. `progress` sees the new job each time it is read.
pub async fn retry(
    session: &Session,
    operator: &IdentityRef,
    req: &JobRetryRequest,
    progress: &mut (dyn FnMut(&RetryBrief) + Send),
) -> JobRetryOutcome {
    let job = req.job.trim().to_owned();
    let failed = |message: String| JobRetryOutcome::Failed {
        job: job.clone(),
        message,
        retry: None,
        operation: None,
        request_id: None,
    };
    let check = session.context().policy.check_mutation();
    if !check.allowed() {
        let record = Record {
            actor: operator.unique_name.to_string(),
            action: "retry-job".into(),
            target: format!("{} {} scoring job {job}", req.circuit, req.stage),
            inputs: Inputs {
                reason: req.reason.clone(),
                ..Inputs::default()
            },
            result: format!("refused: {}", check.reasons().join("; ")),
            request_ids: Vec::new(),
        };
        if let Err(e) = session.audit().append(record) {
            tracing::error!("cannot write the audit log: {e}");
        }
        return JobRetryOutcome::Refused {
            job,
            reasons: check.reasons(),
            refused_by: "policy".into(),
            request_id: None,
        };
    }
    let Some((endpoint, deployment)) = deployment_of(session, req) else {
        return no_deployments(req);
    };
    // An earlier retry of the same job: settled first (found sent: followed, never re-sent).
    match earlier(session, req.stage, &endpoint, &deployment, &job).await {
        Earlier::None => {}
        Earlier::Busy(why) => return failed(why),
        Earlier::Follow(op) => return follow(session, op, &[], progress).await,
        Earlier::Completed(op) => {
            let name = match &op.kind {
                OpKind::JobRetry { job, .. } => job.clone(),
                _ => String::new(),
            };
            return JobRetryOutcome::Unchanged {
                message: format!(
                    "{job} was retried already (operation {}): job {name} completed; nothing sent",
                    op.id
                ),
                retry: RetryBrief::of(&op, None, &[]),
            };
        }
    }
    // Re-read right before: the job's state and its inputs.
    let detail = match failed_job(session, req, &endpoint, &deployment).await {
        Ok(d) => d,
        Err(outcome) => return outcome,
    };
    let mut op = Operation::new(
        OpKind::JobRetry {
            circuit: req.circuit.clone(),
            stage: req.stage,
            endpoint: endpoint.clone(),
            deployment: deployment.clone(),
            from_job: detail.job.name.clone(),
            job: String::new(),
            job_status: None,
            after_rollback: None,
        },
        &operator.unique_name,
        None,
        req.reason.clone(),
        session.now(),
    );
    send(session, &mut op, &detail, progress).await
}

/// What a retry would send, read now (nothing is sent): the failed job and its inputs, or
/// the outcome that stops it (no such job, not failed, inputs lost). For the confirmation.
pub async fn preview(
    session: &Session,
    req: &JobRetryRequest,
) -> Result<RetryBrief, JobRetryOutcome> {
    let (endpoint, deployment) = deployment_of(session, req).ok_or_else(|| no_deployments(req))?;
    let detail = failed_job(session, req, &endpoint, &deployment).await?;
    Ok(RetryBrief {
        circuit: req.circuit.to_string(),
        stage: req.stage.to_string(),
        from_job: detail.job.name.clone(),
        job: String::new(),
        status: detail.job.status.as_str().to_owned(),
        submitted_at: detail.job.submitted_at,
        started_at: None,
        ended_at: None,
        error: None,
        inputs: described(&detail.inputs),
    })
}

/// The batch endpoint and deployment a retry of `req` goes to; `None` outside Test and Prod,
/// which have no batch deployments (the outcome: [`no_deployments`]).
fn deployment_of(session: &Session, req: &JobRetryRequest) -> Option<(String, String)> {
    if !matches!(req.stage, Stage::Test | Stage::Prod) {
        return None;
    }
    let naming = &session.context().naming;
    Some((
        naming.endpoint(&req.circuit),
        naming.deployment(&req.circuit),
    ))
}

fn no_deployments(req: &JobRetryRequest) -> JobRetryOutcome {
    JobRetryOutcome::Invalid {
        job: req.job.trim().to_owned(),
        message: format!(
            "{} has no batch deployments: retry in Test or Prod",
            req.stage
        ),
    }
}

/// The job to retry, re-read with its inputs: `Err` with the outcome when it cannot be
/// retried (no such job: invalid; inputs lost: refused; not failed: conflict; unreadable:
/// failed, nothing sent).
async fn failed_job(
    session: &Session,
    req: &JobRetryRequest,
    endpoint: &str,
    deployment: &str,
) -> Result<JobDetail, JobRetryOutcome> {
    let job = req.job.trim().to_owned();
    let detail = match session
        .backend()
        .scoring_job(req.stage, endpoint, deployment, &job)
        .await
    {
        Ok(d) => d,
        Err(e) if e.kind == ErrorKind::NotFound => {
            return Err(JobRetryOutcome::Invalid {
                message: format!(
                    "no job {job} in the {} deployment {endpoint}/{deployment} (relcon jobs {} lists them)",
                    req.stage, req.circuit
                ),
                job,
            });
        }
        Err(e) => {
            return Err(JobRetryOutcome::Failed {
                job,
                message: format!("cannot read the job; nothing sent: {e}"),
                retry: None,
                operation: None,
                request_id: None,
            });
        }
    };
    match retry_refusal(&detail) {
        None => Ok(detail),
        Some(why) if detail.job.status.outcome() == JobOutcome::Failed => {
            Err(JobRetryOutcome::Refused {
                job,
                reasons: vec![why],
                refused_by: "policy".into(),
                request_id: None,
            })
        }
        Some(why) => Err(JobRetryOutcome::Conflict { job, message: why }),
    }
}

/// Journal, audit, send once, then follow: shared by a retry and a test inference.
async fn send(
    session: &Session,
    op: &mut Operation,
    detail: &JobDetail,
    progress: &mut (dyn FnMut(&RetryBrief) + Send),
) -> JobRetryOutcome {
    let inputs = described(&detail.inputs);
    let Some(invocation) = invocation(op, detail) else {
        return failed_op(op, "not a job retry".into(), None);
    };
    let (name, from_job) = (invocation.job_name.clone(), from_job_of(op));
    let failed = |op: &Operation, message: String| failed_op(op, message, None);
    // Record, then act: journaled and on the audit log before the POST, under the claim.
    let journal = session.journal();
    let _claim = match journal.claim(&op.id) {
        Ok(Some(c)) => c,
        Ok(None) => return failed(op, format!("operation {} is claimed elsewhere", op.id)),
        Err(e) => return failed(op, format!("not sent: {e}")),
    };
    if let Err(e) = journal.save(op) {
        return failed(op, format!("not sent: {e}"));
    }
    if let Err(e) = op_audit::append(session, op, None, "sending") {
        let why = super::rollback::audit_refusal(&e);
        op.last_error = Some(why.clone());
        op.advance(OpState::NotSent, session.now());
        save(session, op);
        return failed(op, why);
    }
    super::rollback::pause_before_send(op).await;
    match session.backend().invoke_scoring(&invocation).await {
        Ok(receipt) => {
            accepted(session, op, &receipt);
            progress(&RetryBrief::of(op, Some(&receipt.value), &inputs));
        }
        Err(e) => {
            op.request_ids.extend(e.request_id.clone());
            op.last_error = Some(e.to_string());
            // A definite answer (not 409: the name taken means it may have gone out before).
            if !e.is_ambiguous() && e.status != Some(409) {
                op.advance(OpState::Failed, session.now());
                save(session, op);
                op_audit::outcome(session, op, None, format!("failed: {e}"));
                if e.is_refusal() {
                    return JobRetryOutcome::Refused {
                        job: from_job,
                        reasons: vec![e.to_string()],
                        refused_by: "azure".into(),
                        request_id: e.request_id,
                    };
                }
                return failed_op(op, e.to_string(), e.request_id);
            }
            // The answer was lost: look for the job by its name, never send again.
            match went_out(session.backend(), op).await {
                Ok(true) => {
                    op.last_error = None;
                    op.advance(OpState::Submitted, session.now());
                    save(session, op);
                    op_audit::outcome(
                        session,
                        op,
                        None,
                        format!("submitted: job {name} (found by name)"),
                    );
                }
                Ok(false) => {
                    op.last_error = Some(format!(
                        "{e}; job {name} does not exist: nothing was started, run the same command again"
                    ));
                    op.advance(OpState::NotSent, session.now());
                    save(session, op);
                    op_audit::outcome(session, op, None, "not sent: the job does not exist");
                    return failed_op(op, op.last_error.clone().unwrap_or_default(), e.request_id);
                }
                Err(reread) => {
                    op.last_error = Some(format!(
                        "{e}; cannot tell whether job {name} was started ({reread}); relcon ops \
                         --wait settles it by looking for it, nothing is sent again"
                    ));
                    save(session, op);
                    return failed_op(op, op.last_error.clone().unwrap_or_default(), e.request_id);
                }
            }
        }
    }
    follow(session, op.clone(), &inputs, progress).await
}

/// The request that starts `op`'s job: named now (`relcon-retry-<hash of the operation id>`,
/// journaled before the POST, so a lost answer is looked up by name), with the failed job's
/// inputs. `None` when `op` is not a job retry.
fn invocation(op: &mut Operation, detail: &JobDetail) -> Option<ScoringInvocation> {
    let name = retry_job_name(&op.id);
    let OpKind::JobRetry {
        job,
        stage,
        endpoint,
        deployment,
        from_job,
        after_rollback,
        ..
    } = &mut op.kind
    else {
        return None;
    };
    *job = name.clone();
    Some(ScoringInvocation {
        stage: *stage,
        endpoint: endpoint.clone(),
        deployment: deployment.clone(),
        job_name: name,
        inputs: detail.inputs.clone(),
        request_id: format!("relcon-{}", op.id),
        description: match after_rollback {
            Some(r) => format!("Test inference after rollback {r} (relcon, {})", op.actor),
            None => format!("Retry of {from_job} (relcon, {})", op.actor),
        },
    })
}

/// Azure ML took the job: journaled submitted with its status, and on the audit log.
fn accepted(session: &Session, op: &mut Operation, receipt: &Receipt<ScoringJob>) {
    op.request_ids.extend(receipt.request_id.clone());
    op.advance(OpState::Submitted, session.now());
    set_status(op, &receipt.value.status);
    save(session, op);
    let name = match &op.kind {
        OpKind::JobRetry { job, .. } => job.clone(),
        _ => String::new(),
    };
    op_audit::outcome(session, op, None, format!("submitted: job {name}"));
}

fn from_job_of(op: &Operation) -> String {
    match &op.kind {
        OpKind::JobRetry { from_job, .. } => from_job.clone(),
        _ => String::new(),
    }
}

fn failed_op(op: &Operation, message: String, request_id: Option<String>) -> JobRetryOutcome {
    let from = from_job_of(op);
    let sent = !matches!(op.state, OpState::Submitting | OpState::NotSent)
        || matches!(
            &op.kind,
            OpKind::JobRetry {
                job_status: Some(_),
                ..
            }
        );
    JobRetryOutcome::Failed {
        job: from,
        message,
        retry: sent.then(|| RetryBrief::of(op, None, &[])),
        operation: Some(op.id.clone()),
        request_id,
    }
}

fn set_status(op: &mut Operation, status: &JobStatus) {
    if let OpKind::JobRetry { job_status, .. } = &mut op.kind {
        *job_status = Some(status.as_str().to_owned());
    }
}

/// Follow the new job until it ends or `[incidents] retry_follow_minutes` pass (session
/// clock); the end goes to the journal and the audit log.
async fn follow(
    session: &Session,
    mut op: Operation,
    inputs: &[String],
    progress: &mut (dyn FnMut(&RetryBrief) + Send),
) -> JobRetryOutcome {
    let poll = session.context().poll_interval;
    let until =
        op.submitted_at.unwrap_or(op.requested_at) + session.context().incidents.retry_follow;
    let mut last: Option<ScoringJob> = None;
    loop {
        let before = (op.state, op.kind.clone());
        if let Some(j) = step(session, &mut op).await {
            progress(&RetryBrief::of(&op, Some(&j), inputs));
            last = Some(j);
        }
        if (op.state, &op.kind) != (before.0, &before.1) {
            save(session, &mut op);
        }
        if op.state.is_final() || session.now() >= until {
            break;
        }
        tokio::time::sleep(poll).await;
    }
    let brief = RetryBrief::of(&op, last.as_ref(), inputs);
    match op.state {
        OpState::Verified => {
            op_audit::outcome(
                session,
                &op,
                None,
                format!("verified: job {} completed", brief.job),
            );
            JobRetryOutcome::Done {
                retry: brief,
                request_id: op.request_ids.first().cloned(),
                operation: op.id,
            }
        }
        OpState::Failed | OpState::NotSent => {
            let message = op.last_error.clone().unwrap_or_default();
            op_audit::outcome(
                session,
                &op,
                None,
                format!("{}: {message}", op.state.as_str()),
            );
            JobRetryOutcome::Failed {
                job: brief.from_job.clone(),
                message,
                retry: Some(brief),
                operation: Some(op.id),
                request_id: op.request_ids.first().cloned(),
            }
        }
        _ => JobRetryOutcome::Running {
            message: format!(
                "relcon stopped following it after {} min; relcon ops --wait follows it to its end",
                session.context().incidents.retry_follow.num_minutes()
            ),
            retry: brief,
            operation: op.id,
        },
    }
}
