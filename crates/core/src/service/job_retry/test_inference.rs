//! The optional test inference after a verified rollback (`[incidents] test_inference`, the
//! runbook's "run a test inference"): the restored Prod deployment started once with the
//! inputs of its last successful job, journaled and audited like a retry; its result is
//! followed by the rollback's watch.

use super::{accepted, invocation, save};
use crate::domain::Stage;
use crate::domain::incidents::JobOutcome;
use crate::domain::job_retry::JobDetail;
use crate::service::journal::{OpKind, OpState, Operation};
use crate::service::op_audit;
use crate::service::session::Session;

/// The hook after a rollback's tracking: with `[incidents] test_inference`, a rollback just
/// verified (and watched) gets its test inference, once (a rollback followed again finds the
/// one it has in the journal). What could not be started is logged and on the audit log; the
/// watch goes on either way.
pub async fn after_verified_rollback(session: &Session, rollback: &Operation) {
    let wanted = session.context().incidents.test_inference
        && rollback.state == OpState::Verified
        && matches!(rollback.kind, OpKind::Rollback { .. })
        && rollback.watch.as_ref().is_some_and(|w| w.is_open());
    if !wanted {
        return;
    }
    let journal = session.journal();
    let started = journal.all().into_iter().any(|o| {
        matches!(&o.kind, OpKind::JobRetry { after_rollback: Some(r), .. } if *r == rollback.id)
    });
    if started {
        return;
    }
    match test_inference(session, rollback).await {
        Ok(op) => tracing::info!(
            "test inference {} started after rollback {}",
            op.id,
            rollback.id
        ),
        Err(why) => {
            tracing::warn!("no test inference after rollback {}: {why}", rollback.id);
            let record = crate::audit::Record {
                actor: rollback.actor.clone(),
                action: "test-inference".into(),
                target: rollback.target(),
                inputs: crate::audit::Inputs::default(),
                result: format!("not started: {why}"),
                request_ids: Vec::new(),
            };
            if let Err(e) = session.audit().append(record) {
                tracing::error!("cannot write the audit log: {e}");
            }
        }
    }
}

/// The optional test inference after a verified rollback (`[incidents] test_inference`):
/// the restored deployment is invoked with the inputs of its last successful job. Journaled
/// and audited like a retry; returns the operation to follow, or why none was started.
pub async fn test_inference(session: &Session, rollback: &Operation) -> Result<Operation, String> {
    let OpKind::Rollback {
        circuit,
        endpoint,
        deployment,
        ..
    } = &rollback.kind
    else {
        return Err("not a rollback".into());
    };
    let backend = session.backend();
    let now = session.now();
    let jobs = backend
        .scoring_jobs(
            Stage::Prod,
            endpoint,
            deployment,
            now - crate::service::incidents::JOB_WINDOW,
        )
        .await
        .map_err(|e| format!("cannot read the job list: {e}"))?;
    let last_good = jobs
        .iter()
        .find(|j| j.status.outcome() == JobOutcome::Succeeded)
        .ok_or("no successful scoring job in the last 14 days to take inputs from")?;
    let detail = backend
        .scoring_job(Stage::Prod, endpoint, deployment, &last_good.name)
        .await
        .map_err(|e| format!("cannot read job {}: {e}", last_good.name))?;
    if detail.inputs.is_empty() || detail.inputs.values().any(|i| !i.is_usable()) {
        return Err(format!(
            "the inputs of job {} cannot be recovered",
            detail.job.name
        ));
    }
    let mut op = Operation::new(
        OpKind::JobRetry {
            circuit: circuit.clone(),
            stage: Stage::Prod,
            endpoint: endpoint.clone(),
            deployment: deployment.clone(),
            from_job: detail.job.name.clone(),
            job: String::new(),
            job_status: None,
            after_rollback: Some(rollback.id.clone()),
        },
        &rollback.actor,
        None,
        Some("test inference after a verified rollback".into()),
        now,
    );
    // Sent here; its result is the watch's next scoring job (the watched circuit's job list is
    // read every 5 minutes), and `relcon ops --wait` follows the operation to its end.
    start_only(session, &mut op, &detail).await.map(|()| op)
}

/// Journal, audit and send a test inference without following it.
async fn start_only(
    session: &Session,
    op: &mut Operation,
    detail: &JobDetail,
) -> Result<(), String> {
    let invocation = invocation(op, detail).ok_or("not a job retry")?;
    let journal = session.journal();
    let _claim = match journal.claim(&op.id) {
        Ok(Some(c)) => c,
        _ => return Err(format!("operation {} cannot be claimed", op.id)),
    };
    journal.save(op).map_err(|e| format!("not sent: {e}"))?;
    op_audit::append(session, op, None, "sending")
        .map_err(|e| crate::service::rollback::audit_refusal(&e))?;
    match session.backend().invoke_scoring(&invocation).await {
        Ok(r) => {
            accepted(session, op, &r);
            Ok(())
        }
        Err(e) => {
            op.request_ids.extend(e.request_id.clone());
            op.last_error = Some(e.to_string());
            if !e.is_ambiguous() && e.status != Some(409) {
                op.advance(OpState::Failed, session.now());
            }
            // An ambiguous failure stays `submitting`: `track` looks for the job by name.
            save(session, op);
            op_audit::outcome(session, op, None, format!("{}: {e}", op.state.as_str()));
            Err(e.to_string())
        }
    }
}
