//! The write path's state: the comment box, the bulk review table, the rollback flows (target,
//! plan, typed confirmation), the operations this console knows of, and the audit log as last
//! read. `update` changes it; views read it.

use std::collections::HashSet;

use crate::audit::{Entry, Verification};
use crate::domain::incidents::AlertState;
use crate::domain::policy::PolicyCheck;
use crate::domain::rollback::ProdHistoryEntry;
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::decide::{DecisionOutcome, Verdict};
use crate::service::journal::Operation;
use crate::service::rollback::{EnvironmentPlan, RollbackPlan};

use super::action::{Action, ApprovalKey, Effect};
use super::state::{Cursor, Remote};

/// A one-line text field of a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    pub text: String,
}

impl TextField {
    /// Apply an editing action; whether it was one.
    pub fn edit(&mut self, action: Action) -> bool {
        match action {
            Action::Type(c) => self.text.push(c),
            Action::DeleteBack => {
                self.text.pop();
            }
            Action::DeleteWord => {
                let trimmed = self.text.trim_end().len();
                self.text.truncate(trimmed);
                let cut = self
                    .text
                    .rfind(char::is_whitespace)
                    .map(|i| i + 1)
                    .unwrap_or(0);
                self.text.truncate(cut);
            }
            Action::ClearInput => self.text.clear(),
            _ => return false,
        }
        true
    }

    /// Something other than spaces was typed.
    pub fn filled(&self) -> bool {
        !self.text.trim().is_empty()
    }

    pub fn value(&self) -> String {
        self.text.trim().to_owned()
    }
}

/// The comment box of an alert's state change (`a` / `c` in the alerts list): what will be
/// sent, the comment typed, and whether it is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertBox {
    /// The alert's ARM id.
    pub alert: String,
    pub rule: String,
    pub severity: String,
    pub circuit: Option<CircuitRef>,
    pub from: AlertState,
    pub to: AlertState,
    pub comment: TextField,
    /// Sent; waiting for the answer.
    pub sending: bool,
}

/// The confirmation of a job retry (`t` in the Jobs tab), then its progress: the failed job,
/// what must be typed (Prod: the circuit, as for a rollback; Test: nothing), and the new job
/// as last read once it is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBox {
    pub circuit: CircuitRef,
    pub stage: Stage,
    pub job: String,
    /// The failed job's status and error, as the Jobs tab read them.
    pub status: String,
    pub error: Option<String>,
    /// Prod: the circuit typed here; Test: Enter is the confirmation.
    pub confirm: TextField,
    /// Sent; the new job as last read (none before the first read).
    pub sending: bool,
    pub progress: Option<crate::service::job_retry::RetryBrief>,
}

impl RetryBox {
    /// What must be typed before Enter sends (Prod only).
    pub fn needs_typing(&self) -> bool {
        self.stage == Stage::Prod
    }

    /// Whether Enter sends now.
    pub fn confirmed(&self) -> bool {
        !self.needs_typing() || self.confirm.value() == self.circuit.to_string()
    }
}

/// Which field of a form takes typed text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Field {
    /// The comment of a decision, or the typed confirmation of a rollback.
    #[default]
    Main,
    /// The break-glass reason of a decision, or the reason of a rollback.
    Reason,
}

/// The comment box of one decision, over the approvals list, the circuit view or the
/// environment matrix.
#[derive(Debug, Clone)]
pub struct DecideForm {
    pub verdict: Verdict,
    /// The approvals this box can decide: one, or every pending one of a circuit in turn.
    pub keys: Vec<ApprovalKey>,
    pub index: usize,
    pub comment: TextField,
    /// Break-glass: approve despite the test gate (needs a reason; recorded).
    pub override_gate: bool,
    pub reason: TextField,
    pub field: Field,
    /// The generation of the decision on its way; the box waits for its answer.
    pub sending: Option<u64>,
    /// Why Enter did nothing, or what the service answered when it was not done.
    pub problem: Option<String>,
}

impl DecideForm {
    pub fn new(verdict: Verdict, keys: Vec<ApprovalKey>) -> DecideForm {
        DecideForm {
            verdict,
            keys,
            index: 0,
            comment: TextField::default(),
            override_gate: false,
            reason: TextField::default(),
            field: Field::Main,
            sending: None,
            problem: None,
        }
    }

    pub fn key(&self) -> Option<ApprovalKey> {
        self.keys.get(self.index).copied()
    }

    /// The field typed text goes to.
    pub fn field_mut(&mut self) -> &mut TextField {
        match self.field {
            Field::Reason if self.override_gate => &mut self.reason,
            _ => &mut self.comment,
        }
    }
}

/// Where a bulk decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkPhase {
    /// The review table: what will be sent, what is skipped and why; one comment for all.
    Review,
    /// Sent; results fill in as they come.
    Sending,
    /// Every result is in.
    Results,
}

/// What happened to one row of a bulk decision.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkResult {
    /// Not sent: policy refused it (the reason).
    Skipped(String),
    Outcome(DecisionOutcome),
}

/// One approval of a bulk decision, as it was when the table opened (decided items leave the
/// approvals list after the refresh; their row stays here).
#[derive(Debug, Clone)]
pub struct BulkRow {
    pub key: ApprovalKey,
    pub release_name: String,
    pub stage: Stage,
    pub circuits: usize,
    pub approved: usize,
    pub required: u32,
    pub approval_id: Option<crate::domain::platform::ApprovalId>,
    /// What policy says about this verdict for you; `None` when identity is unknown.
    pub check: Option<PolicyCheck>,
    pub result: Option<BulkResult>,
}

impl BulkRow {
    /// Sent as it is.
    pub fn allowed(&self) -> bool {
        self.check.as_ref().is_some_and(PolicyCheck::allowed)
    }

    /// Sent only with the break-glass override.
    pub fn overridable(&self) -> bool {
        self.check.as_ref().is_some_and(PolicyCheck::needs_override)
    }
}

/// The bulk review table and, once sent, the result of each item.
#[derive(Debug, Clone)]
pub struct BulkState {
    pub verdict: Verdict,
    pub rows: Vec<BulkRow>,
    pub comment: TextField,
    pub override_gate: bool,
    pub reason: TextField,
    pub field: Field,
    pub cursor: Cursor,
    pub phase: BulkPhase,
    pub generation: Option<u64>,
    pub problem: Option<String>,
}

impl BulkState {
    /// Rows that go out with the current override setting.
    pub fn included(&self, row: &BulkRow) -> bool {
        row.approval_id.is_some()
            && (row.allowed() || (row.overridable() && self.override_gate && self.reason.filled()))
    }

    pub fn field_mut(&mut self) -> &mut TextField {
        match self.field {
            Field::Reason if self.override_gate => &mut self.reason,
            _ => &mut self.comment,
        }
    }

    /// Rows still waiting for their answer.
    /// `Approve: 3 done · 0 not done · 1 skipped · of 4`.
    pub fn summary(&self) -> String {
        let b = self;
        let count = |f: &dyn Fn(&BulkResult) -> bool| {
            b.rows
                .iter()
                .filter(|r| r.result.as_ref().is_some_and(f))
                .count()
        };
        let done = count(&|r| matches!(r, BulkResult::Outcome(DecisionOutcome::Done { .. })));
        let skipped = count(&|r| matches!(r, BulkResult::Skipped(_)));
        let sent = b.rows.len() - skipped;
        let not_done = sent.saturating_sub(done + b.waiting());
        format!(
            "{}: {done} done · {not_done} not done · {skipped} skipped · of {}",
            match b.verdict {
                Verdict::Approve => "Approve",
                Verdict::Reject => "Reject",
            },
            b.rows.len()
        )
    }

    pub fn waiting(&self) -> usize {
        self.rows.iter().filter(|r| r.result.is_none()).count()
    }
}

/// The steps of a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackStep {
    /// Choose the version (circuit rollbacks only).
    Target,
    /// Read what will happen.
    Plan,
    /// Type the confirmation.
    Confirm,
}

/// The typed confirmation before a Prod change, and an optional reason for the record.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    pub typed: TextField,
    pub reason: TextField,
    pub field: Field,
    /// The generation of the execution on its way.
    pub sending: Option<u64>,
    pub problem: Option<String>,
}

impl Confirmation {
    pub fn field_mut(&mut self) -> &mut TextField {
        match self.field {
            Field::Main => &mut self.typed,
            Field::Reason => &mut self.reason,
        }
    }
}

/// What a rollback flow rolls back: one circuit (its version chosen first) or the environment
/// of every Prod deployment. The flow around it (plan, typed confirmation, send, the answer)
/// is one for both (`update::rollback`), so the confirmation gate is written once.
pub trait RollbackScope {
    type Plan: Clone + std::fmt::Debug;
    /// Whether the flow starts by choosing a version (circuits) or at the plan.
    const CHOOSES_TARGET: bool;
    /// What must be typed to confirm `plan`: the circuit's id, or the environment version.
    fn expected(&self, plan: &Self::Plan) -> String;
    /// The effect that journals the plan, then sends it once.
    fn execute(plan: Box<Self::Plan>, generation: u64, reason: Option<String>) -> Effect;
}

/// A rollback in Prod, owned by its route (`Route::Rollback` / `Route::EnvRollback`): closing
/// the route drops it; an answer that arrives after that becomes a note.
#[derive(Debug, Clone)]
pub struct RollbackFlow<S: RollbackScope> {
    pub scope: S,
    pub step: RollbackStep,
    pub plan: Remote<S::Plan>,
    /// Scroll of the plan preview.
    pub scroll: usize,
    pub confirm: Confirmation,
}

impl<S: RollbackScope> RollbackFlow<S> {
    pub fn new(scope: S) -> Self {
        RollbackFlow {
            scope,
            step: if S::CHOOSES_TARGET {
                RollbackStep::Target
            } else {
                RollbackStep::Plan
            },
            plan: if S::CHOOSES_TARGET {
                Remote::default()
            } else {
                Remote::loading()
            },
            scroll: 0,
            confirm: Confirmation::default(),
        }
    }

    /// What must be typed to confirm, once there is a plan.
    pub fn expected(&self) -> Option<String> {
        Some(self.scope.expected(self.plan.value.as_deref()?))
    }

    /// Why the plan cannot be confirmed yet, if it cannot.
    pub fn not_ready(&self) -> Option<String> {
        if self.plan.loading {
            Some("the plan is still being made".to_owned())
        } else if let Some(e) = &self.plan.error {
            Some(format!("no plan: {e}"))
        } else if self.plan.value.is_none() {
            Some("no plan yet".to_owned())
        } else {
            None
        }
    }
}

/// One circuit: the version to go back to, and how.
#[derive(Debug, Clone)]
pub struct CircuitRollback {
    pub circuit: CircuitRef,
    /// Versions that ran in Prod, newest first (the running one included, not selectable).
    pub history: Vec<ProdHistoryEntry>,
    pub cursor: Cursor,
    pub last_good: Option<ModelVersion>,
    pub previous: Option<ModelVersion>,
    pub method: RollbackMethod,
}

impl CircuitRollback {
    /// The version under the cursor, unless it is the one running now.
    pub fn chosen(&self) -> Option<&ProdHistoryEntry> {
        self.history
            .get(self.cursor.selected)
            .filter(|e| !e.current)
    }
}

impl RollbackScope for CircuitRollback {
    type Plan = RollbackPlan;
    const CHOOSES_TARGET: bool = true;

    fn expected(&self, _plan: &RollbackPlan) -> String {
        self.circuit.to_string()
    }

    fn execute(plan: Box<RollbackPlan>, generation: u64, reason: Option<String>) -> Effect {
        Effect::ExecuteRollback {
            generation,
            plan,
            reason,
        }
    }
}

/// Every Prod deployment back to the environment version before the last environment-only
/// release.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentRollback;

impl RollbackScope for EnvironmentRollback {
    type Plan = EnvironmentPlan;
    const CHOOSES_TARGET: bool = false;

    fn expected(&self, plan: &EnvironmentPlan) -> String {
        plan.to.clone()
    }

    fn execute(plan: Box<EnvironmentPlan>, generation: u64, reason: Option<String>) -> Effect {
        Effect::ExecuteEnvironmentRollback {
            generation,
            plan,
            reason,
        }
    }
}

/// The progress screen of one operation.
#[derive(Debug, Clone)]
pub struct ProgressView {
    pub op_id: String,
    /// Scroll of the per-circuit steps of an environment rollback.
    pub scroll: usize,
}

/// Operations: the journal as last read, updated by every progress message.
#[derive(Debug, Default)]
pub struct OpsState {
    /// Newest first.
    pub list: Vec<Operation>,
    pub loaded: bool,
    pub error: Option<String>,
    pub cursor: Cursor,
    /// Operations being tracked by this console right now.
    pub tracking: HashSet<String>,
}

impl OpsState {
    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.list.iter().find(|o| o.id == id)
    }

    /// Take a newer state of an operation; an older one (a late message) is dropped. Whether
    /// it was taken.
    pub fn upsert(&mut self, op: Operation) -> bool {
        match self.list.iter_mut().find(|o| o.id == op.id) {
            Some(known) => {
                let older = op.updated_at < known.updated_at
                    || (known.state.is_final() && !op.state.is_final());
                if older {
                    return false;
                }
                *known = op;
            }
            None => {
                let at = self
                    .list
                    .iter()
                    .position(|o| (o.requested_at, &o.id) < (op.requested_at, &op.id))
                    .unwrap_or(self.list.len());
                self.list.insert(at, op);
            }
        }
        true
    }

    /// Operations not yet at their end.
    pub fn in_flight(&self) -> impl Iterator<Item = &Operation> {
        self.list.iter().filter(|o| !o.state.is_final())
    }
}

/// The audit log as read: entries newest first, and the chain's verification.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditData {
    pub entries: Vec<Entry>,
    /// Entries that could not be read (a corrupt line), in words.
    pub entries_error: Option<String>,
    pub verification: Result<Verification, String>,
}

#[derive(Debug, Default)]
pub struct AuditState {
    pub data: Remote<AuditData>,
    pub cursor: Cursor,
}

impl AuditState {
    /// The entry under the cursor.
    pub fn selected(&self) -> Option<&Entry> {
        self.data.value.as_ref()?.entries.get(self.cursor.selected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::journal::{OpKind, OpState};

    fn op(state: OpState) -> Operation {
        let mut o = Operation::new(
            OpKind::EnvironmentRollback {
                from: "1.5.1".into(),
                to: "1.5.0".into(),
            },
            "bob",
            Some(15),
            None,
            crate::domain::clock::pinned_start(),
        );
        o.state = state;
        o
    }

    #[test]
    fn a_late_progress_message_never_takes_an_operation_back() {
        let mut ops = OpsState::default();
        let mut a = op(OpState::Submitted);
        assert!(ops.upsert(a.clone()));
        let stale = a.clone();
        a.state = OpState::InProgress;
        a.updated_at += chrono::Duration::seconds(2);
        assert!(ops.upsert(a.clone()));
        assert!(!ops.upsert(stale), "older message dropped");
        assert_eq!(ops.list[0].state, OpState::InProgress);
        let mut done = a.clone();
        done.state = OpState::Verified;
        done.updated_at += chrono::Duration::seconds(2);
        assert!(ops.upsert(done));
        let mut late = a;
        late.updated_at += chrono::Duration::seconds(10);
        assert!(!ops.upsert(late), "a final state stays final");
        assert_eq!(ops.in_flight().count(), 0);
    }

    #[test]
    fn fields_edit_and_tell_when_filled() {
        let mut f = TextField::default();
        assert!(f.edit(Action::Type(' ')));
        assert!(!f.filled());
        for c in "looks good".chars() {
            f.edit(Action::Type(c));
        }
        assert!(f.filled());
        f.edit(Action::DeleteWord);
        assert_eq!(f.value(), "looks");
        assert!(!f.edit(Action::Down));
    }
}
