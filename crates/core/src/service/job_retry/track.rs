//! Following a job retry: whether its POST went out (the new job looked for by its name),
//! one read of the new job (completed: verified; failed: failed with run history's error), and
//! the earlier retries of the same job in the journal, settled before anything is sent again.

use super::{save, set_status};
use crate::domain::Stage;
use crate::domain::incidents::{JobOutcome, ScoringJob};
use crate::domain::job_retry::is_over;
use crate::service::backend::{Backend, BackendError, ErrorKind};
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::op_audit;
use crate::service::session::Session;

/// Whether the new job of a retry exists (its POST went out). `Err` when the service cannot
/// tell right now.
pub(crate) async fn went_out(backend: &dyn Backend, op: &Operation) -> Result<bool, BackendError> {
    let OpKind::JobRetry {
        stage,
        endpoint,
        deployment,
        job,
        ..
    } = &op.kind
    else {
        return Ok(false);
    };
    if job.is_empty() {
        return Ok(false);
    }
    match backend.scoring_job(*stage, endpoint, deployment, job).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// One read of a retry's new job: completed is verified, failed is failed (with run
/// history's error), anything else in progress. Returns the job as read.
pub(crate) async fn step(session: &Session, op: &mut Operation) -> Option<ScoringJob> {
    let OpKind::JobRetry {
        stage,
        endpoint,
        deployment,
        job,
        ..
    } = op.kind.clone()
    else {
        return None;
    };
    let backend = session.backend();
    let read = match backend
        .scoring_job(stage, &endpoint, &deployment, &job)
        .await
    {
        Ok(d) => d.job,
        Err(e) => {
            op.last_error = Some(format!("cannot read job {job}: {e}"));
            return None;
        }
    };
    // Run history has the start, the end and the error.
    let read = match backend.job_run(stage, &job).await {
        Ok(run) => read.with_run(run),
        Err(e) => {
            tracing::warn!("cannot read the run history of job {job}: {e}");
            read
        }
    };
    set_status(op, &read.status);
    let now = session.now();
    match read.status.outcome() {
        JobOutcome::Succeeded => {
            op.last_error = None;
            op.advance(OpState::Verified, now);
        }
        JobOutcome::Failed => {
            op.last_error = Some(format!(
                "job {job} {}: {}",
                read.status.as_str().to_ascii_lowercase(),
                read.error.as_deref().unwrap_or("no error text")
            ));
            op.advance(OpState::Failed, now);
        }
        _ if !is_over(&read.status) => {
            op.last_error = None;
            op.advance(OpState::InProgress, now);
        }
        _ => {}
    }
    Some(read)
}

pub(super) enum Earlier {
    None,
    /// Another relcon process is sending it.
    Busy(String),
    /// Sent and not over: follow it.
    Follow(Operation),
    /// Retried before, and that job completed.
    Completed(Operation),
}

/// Earlier retries of the same job in the journal: one left `submitting` (relcon stopped
/// between the journal and the answer) is settled by looking for its job by name: there, it
/// went out (followed); else it never did (closed as not sent). One sent and unfinished is
/// followed; one that completed means there is nothing to do.
pub(super) async fn earlier(
    session: &Session,
    stage: Stage,
    endpoint: &str,
    deployment: &str,
    from: &str,
) -> Earlier {
    let journal = session.journal();
    let same = |o: &Operation| {
        matches!(&o.kind, OpKind::JobRetry { stage: s, endpoint: e, deployment: d, from_job: f, after_rollback: None, .. }
            if *s == stage && e == endpoint && d == deployment && f.eq_ignore_ascii_case(from))
            && journal.owns(o)
    };
    let mut ops: Vec<Operation> = journal.all().into_iter().filter(|o| same(o)).collect();
    ops.sort_by_key(|o| std::cmp::Reverse(o.requested_at));
    for mut op in ops {
        match op.state {
            OpState::Verified => return Earlier::Completed(op),
            OpState::Failed | OpState::NotSent => continue,
            OpState::Submitting => {
                let Ok(Some(_claim)) = journal.claim(&op.id) else {
                    return Earlier::Busy(format!(
                        "operation {} retries this job and is being sent by another relcon process",
                        op.id
                    ));
                };
                match went_out(session.backend(), &op).await {
                    Ok(true) => {
                        op.advance(OpState::Submitted, session.now());
                        save(session, &mut op);
                        op_audit::outcome(session, &op, None, "submitted (found sent on a rerun)");
                        return Earlier::Follow(op);
                    }
                    Ok(false) => {
                        op.last_error =
                            Some(crate::service::rollback::STOPPED_BEFORE_SENDING.into());
                        op.advance(OpState::NotSent, session.now());
                        save(session, &mut op);
                        op_audit::outcome(
                            session,
                            &op,
                            None,
                            "not sent: relcon stopped before sending it",
                        );
                    }
                    Err(e) => {
                        return Earlier::Busy(format!(
                            "operation {} retried this job and relcon cannot tell whether it was sent ({e}); nothing is sent again until it can",
                            op.id
                        ));
                    }
                }
            }
            _ => return Earlier::Follow(op),
        }
    }
    Earlier::None
}
