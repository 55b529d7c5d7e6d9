//! The write path on tokio: alert state changes, decisions (one message per item, in order; one failure does not
//! stop the rest), rollback plans, executions followed by tracking (a message per change),
//! resuming what the journal left unfinished, and reading the journal and the audit log.
//! Decisions and executions are never aborted; tracking an operation twice is avoided here,
//! sending twice is prevented by the service.

use tokio::sync::mpsc::UnboundedSender;

use super::{Runtime, Tracking};
use crate::action::{Effect, Msg, Slot};
use crate::domain::platform::IdentityRef;
use crate::flows::AuditData;
use crate::service::alert_change::{AlertChangeOutcome, change};
use crate::service::decide::{DecisionOutcome, decide};
use crate::service::job_retry::{JobRetryOutcome, RetryBrief, retry};
use crate::service::journal::Operation;
use crate::service::rollback::{self, ExecuteError, RollbackFailure};
use crate::service::session::Session;

impl Runtime {
    /// Start a write-path effect (everything but the reads of the fleet and evidence).
    pub(super) fn run_write(&mut self, effect: Effect) {
        let session = self.session.clone();
        let tx = self.tx.clone();
        let tracking = self.tracking.clone();
        match effect {
            Effect::Decide {
                generation,
                items,
                snapshot,
            } => {
                tokio::spawn(async move {
                    for (key, req) in items {
                        // The identity is read once and kept by the session.
                        let (snapshot, r) = (snapshot.clone(), req.clone());
                        let outcome = as_operator(
                            session.clone(),
                            |session, me| async move { decide(&session, &snapshot, &me, &r).await },
                            |message| DecisionOutcome::Failed {
                                approval_id: req.approval_id.clone(),
                                message,
                                request_id: None,
                            },
                        )
                        .await;
                        let msg = Msg::Decision {
                            generation,
                            key,
                            outcome: Box::new(outcome),
                        };
                        if tx.send(msg).is_err() {
                            // The console is gone; the service has journaled what was sent.
                            return;
                        }
                    }
                });
            }
            Effect::PlanRollback {
                generation,
                request,
                snapshot,
            } => {
                let circuit = request.circuit.clone();
                self.spawn(
                    Slot::Plan,
                    async move {
                        rollback::plan(&session, &snapshot, &request)
                            .await
                            .map_err(|e| e.to_string())
                    },
                    move |r| Msg::RollbackPlan {
                        generation,
                        circuit,
                        result: r.and_then(|p| (*p).map(Box::new)),
                    },
                );
            }
            Effect::PlanEnvironmentRollback {
                generation,
                snapshot,
            } => self.spawn(
                Slot::EnvironmentPlan,
                async move {
                    rollback::plan_environment(session.context(), &snapshot)
                        .map_err(|e| e.to_string())
                },
                move |r| Msg::EnvironmentPlan {
                    generation,
                    result: r.and_then(|p| (*p).map(Box::new)),
                },
            ),
            Effect::ExecuteRollback {
                generation,
                plan,
                reason,
            } => {
                let s = session.clone();
                spawn_execute(session, tx, tracking, generation, async move {
                    rollback::execute(&s, &plan, &operator(&s).await?, reason).await
                });
            }
            Effect::ExecuteEnvironmentRollback {
                generation,
                plan,
                reason,
            } => {
                let s = session.clone();
                spawn_execute(session, tx, tracking, generation, async move {
                    rollback::execute_environment(&s, &plan, &operator(&s).await?, reason).await
                });
            }
            Effect::ChangeAlert { request } => {
                tokio::spawn(async move {
                    let alert = request.alert.clone();
                    let outcome = as_operator(
                        session,
                        |session, me| async move { change(&session, &me, &request).await },
                        |message| AlertChangeOutcome::Failed {
                            alert,
                            message,
                            operation: None,
                            request_id: None,
                        },
                    )
                    .await;
                    let _ = tx.send(Msg::AlertChanged {
                        outcome: Box::new(outcome),
                    });
                });
            }
            Effect::RetryJob { request } => {
                tokio::spawn(async move {
                    let job = request.job.clone();
                    let progress_tx = tx.clone();
                    let outcome = as_operator(
                        session,
                        |session, me| async move {
                            let mut progress = |b: &RetryBrief| {
                                let _ = progress_tx.send(Msg::JobRetryProgress {
                                    brief: Box::new(b.clone()),
                                });
                            };
                            retry(&session, &me, &request, &mut progress).await
                        },
                        |message| JobRetryOutcome::Failed {
                            job,
                            message,
                            retry: None,
                            operation: None,
                            request_id: None,
                        },
                    )
                    .await;
                    let _ = tx.send(Msg::JobRetried {
                        outcome: Box::new(outcome),
                    });
                });
            }
            Effect::ResumeOps => {
                tokio::spawn(async move {
                    for op in session.journal().unfinished() {
                        let _ = tx.send(Msg::OpProgress(Box::new(op.clone())));
                        track(session.clone(), tx.clone(), tracking.clone(), op);
                    }
                });
            }
            Effect::LoadOps { generation } => self.spawn(
                Slot::Ops,
                async move { session.journal().all() },
                move |result| Msg::Ops { generation, result },
            ),
            Effect::LoadAudit { generation } => self.spawn(
                Slot::Audit,
                async move { read_audit(&session) },
                move |result| Msg::Audit { generation, result },
            ),
            // The reads and quit are handled by the caller.
            Effect::Refresh { .. }
            | Effect::LoadEvidence { .. }
            | Effect::LoadApprovalEvidence { .. }
            | Effect::Compare { .. }
            | Effect::LoadJobs { .. }
            | Effect::Quit => {}
        }
    }
}

/// Who is sending: a rollback is not sent on behalf of nobody.
async fn operator(session: &Session) -> Result<crate::domain::platform::Identity, ExecuteError> {
    session
        .identity()
        .await
        .map_err(|e| ExecuteError::Failed(RollbackFailure::Operator(Box::new(e))))
}

/// The audit log newest first, and its verification.
fn read_audit(session: &Session) -> AuditData {
    let log = session.audit();
    let (entries, entries_error) = match log.entries() {
        Ok(mut e) => {
            e.reverse();
            (e, None)
        }
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    AuditData {
        entries,
        entries_error,
        verification: log.verify().map_err(|e| e.to_string()),
    }
}

/// Run an execution to its answer, then track the operation it returns.
fn spawn_execute<F>(
    session: Session,
    tx: UnboundedSender<Msg>,
    tracking: Tracking,
    generation: u64,
    work: F,
) where
    F: std::future::Future<Output = Result<Operation, ExecuteError>> + Send + 'static,
{
    tokio::spawn(async move {
        let result = tokio::spawn(work)
            .await
            .unwrap_or_else(|e| Err(RollbackFailure::Task(e.to_string()).into()));
        match result {
            Ok(op) => {
                let _ = tx.send(Msg::Executed {
                    generation,
                    result: Ok(Box::new(op.clone())),
                });
                track(session, tx, tracking, op);
            }
            Err(e) => {
                let _ = tx.send(Msg::Executed {
                    generation,
                    result: Err(e),
                });
            }
        }
    });
}

/// Track an operation to its end with a progress message per change, unless this runtime
/// tracks it already.
fn track(session: Session, tx: UnboundedSender<Msg>, tracking: Tracking, op: Operation) {
    if op.state.is_final() {
        return;
    }
    {
        let mut t = tracking.lock().unwrap_or_else(|p| p.into_inner());
        if !t.insert(op.id.clone()) {
            return;
        }
    }
    let id = op.id.clone();
    let fallback = op.clone();
    let clock = session.clock().clone();
    tokio::spawn(async move {
        let progress_tx = tx.clone();
        let inner = tokio::spawn(async move {
            let mut progress = move |o: &Operation| {
                let _ = progress_tx.send(Msg::OpProgress(Box::new(o.clone())));
            };
            rollback::track(&session, op, &mut progress).await
        });
        let end = match inner.await {
            Ok(done) => done,
            Err(e) => {
                // Tracking stopped; the operation itself goes on and the journal resumes it.
                let mut op = fallback;
                op.last_error = Some(format!("tracking stopped ({e}); restart to resume it"));
                op.updated_at = clock.now();
                op
            }
        };
        tracking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        let _ = tx.send(Msg::OpProgress(Box::new(end)));
    });
}

/// Run `work` in a task of its own: a panic becomes `failed(message)`, not silence.
async fn own_task<T, W>(work: W, failed: impl FnOnce(String) -> T) -> T
where
    W: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(work)
        .await
        .unwrap_or_else(|e| failed(format!("background task failed: {e}")))
}

/// Run a mutation as the operator, in a task of its own: no identity, or a panic, becomes
/// `failed(message)`.
async fn as_operator<T, F, W>(session: Session, work: F, failed: impl FnOnce(String) -> T) -> T
where
    F: FnOnce(Session, IdentityRef) -> W,
    W: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    match session.identity().await {
        Ok(me) => own_task(work(session, me), failed).await,
        Err(e) => failed(format!("cannot tell who you are: {e}")),
    }
}
