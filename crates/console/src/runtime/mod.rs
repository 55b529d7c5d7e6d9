//! Runs effects on tokio against the session and sends the results back as messages. One task
//! per slot: a newer request aborts the older one (its result would be dropped anyway, by
//! generation, in `update`). Mutations (decisions, rollbacks) are never aborted. A task that
//! panics comes back as an error, never as silence.

mod operations;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::action::{Effect, Msg, Outcome, Slot};
use crate::service::session::Session;

/// Runs effects and reports back through the channel it was made with. The console's loop
/// works with any; `Runtime` is the one over a `Session`.
pub trait Executor {
    /// Start an effect. Returns `false` for `Quit`.
    fn execute(&mut self, effect: Effect) -> bool;
    /// Stop everything still running (on quit).
    fn shutdown(&mut self);
    /// Now, by the clock the effects run on (ticks, ages and countdowns follow it).
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// Operation ids being tracked by a task of this runtime: one tracker per operation.
type Tracking = Arc<Mutex<HashSet<String>>>;

pub struct Runtime {
    session: Session,
    tx: UnboundedSender<Msg>,
    running: HashMap<Slot, AbortHandle>,
    tracking: Tracking,
}

impl Runtime {
    pub fn new(session: Session, tx: UnboundedSender<Msg>) -> Runtime {
        Runtime {
            session,
            tx,
            running: HashMap::new(),
            tracking: Tracking::default(),
        }
    }

    /// Start an effect. Returns `false` for `Quit`.
    fn run_effect(&mut self, effect: Effect) -> bool {
        let session = self.session.clone();
        match effect {
            Effect::Quit => return false,
            Effect::Refresh { generation } => self.spawn(
                Slot::Refresh,
                async move { session.refresh().await },
                move |result| Msg::Snapshot { generation, result },
            ),
            Effect::LoadEvidence {
                generation,
                circuit,
                snapshot,
            } => {
                let c = circuit.clone();
                self.spawn(
                    Slot::Evidence,
                    async move { session.circuit_evidence(&snapshot, &c).await },
                    move |result| Msg::Evidence {
                        generation,
                        circuit,
                        result,
                    },
                )
            }
            Effect::LoadJobs {
                generation,
                circuit,
            } => {
                let c = circuit.clone();
                self.spawn(
                    Slot::Jobs,
                    async move {
                        crate::service::incidents::circuit_jobs(
                            session.backend(),
                            session.context(),
                            &c,
                            session.now(),
                            crate::service::incidents::JOBS_WITH_RUNS,
                        )
                        .await
                    },
                    move |result| Msg::Jobs {
                        generation,
                        circuit,
                        result,
                    },
                )
            }
            Effect::LoadApprovalEvidence {
                generation,
                key,
                item,
                snapshot,
            } => self.spawn(
                Slot::ApprovalEvidence,
                async move { session.approval_evidence(&snapshot, &item).await },
                move |result| Msg::ApprovalEvidence {
                    generation,
                    key,
                    result,
                },
            ),
            Effect::Compare {
                generation,
                circuit,
                versions,
                old,
                new,
            } => {
                let c = circuit.clone();
                self.spawn(
                    Slot::Comparison,
                    async move { session.compare(&c, &versions, old, new).await },
                    move |result| Msg::Comparison {
                        generation,
                        circuit,
                        result,
                    },
                )
            }
            other => self.run_write(other),
        }
        true
    }

    fn spawn<T, F, W>(&mut self, slot: Slot, work: F, wrap: W)
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
        W: FnOnce(Outcome<T>) -> Msg + Send + 'static,
    {
        if let Some(old) = self.running.remove(&slot) {
            old.abort();
        }
        let inner = tokio::spawn(work);
        self.running.insert(slot, inner.abort_handle());
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = match inner.await {
                Ok(v) => Ok(Box::new(v)),
                // Superseded: nobody waits for it.
                Err(e) if e.is_cancelled() => return,
                Err(e) => Err(format!("background task failed: {e}")),
            };
            // The console may have quit; then nobody listens.
            let _ = tx.send(wrap(result));
        });
    }
}

impl Executor for Runtime {
    fn execute(&mut self, effect: Effect) -> bool {
        self.run_effect(effect)
    }

    fn shutdown(&mut self) {
        for (_, h) in self.running.drain() {
            h.abort();
        }
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.session.now()
    }
}

#[cfg(test)]
mod tests;
