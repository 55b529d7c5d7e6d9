//! What flows through the console: `Action`s (what a key means; the keymap TOML deserializes
//! into them), `Msg`s (everything `update` receives, including results of background work) and
//! `Effect`s (the work `update` asks for; the runtime runs them, `update` never does IO).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::fleet::{ApprovalItem, FleetSnapshot};
use crate::domain::{CircuitRef, ModelVersion, Stage};
use crate::service::alert_change::{AlertChangeOutcome, AlertChangeRequest};
use crate::service::approval::ApprovalEvidence;
use crate::service::decide::{DecisionOutcome, DecisionRequest};
use crate::service::evidence::{CircuitEvidence, ConfigComparison, VersionInfo};
use crate::service::incidents::CircuitJobs;
use crate::service::job_retry::{JobRetryOutcome, JobRetryRequest, RetryBrief};
use crate::service::journal::Operation;
use crate::service::rollback::{EnvironmentPlan, ExecuteError, RollbackPlan, RollbackRequest};

use super::flows::AuditData;

/// A command a key can be bound to. `run = "..."` in the keymap, kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Quit from the top view; in a sub view, go back.
    Quit,
    /// Quit from anywhere, now.
    ForceQuit,
    /// Close the overlay, clear the filter, or go back one view.
    Back,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the selected item.
    Open,
    NextTab,
    PrevTab,
    /// Move the keyboard focus to the other pane.
    FocusNext,
    /// Scroll the side or detail pane.
    ScrollDown,
    ScrollUp,
    Filter,
    Palette,
    Help,
    Refresh,
    /// Fleet: the plant x circuit health grid in place of the table.
    ToggleGrid,
    /// Fleet: sort by the next column.
    SortNext,
    SortPrev,
    /// Fleet: flip the sort direction.
    SortReverse,
    /// Fleet: alerts first, then warnings, unknowns, healthy.
    IncidentOrder,
    /// Fleet: show every circuit, whatever plant is selected.
    AllPlants,
    ShowFleet,
    ShowApprovals,
    ShowEnv,
    /// Circuit, config diff: unified or side by side.
    ToggleDiffLayout,
    /// Circuit, config diff: compare two versions of your choice.
    PickVersions,
    /// Circuit, config diff: back to Prod against the candidate.
    ResetCompare,
    /// Input line: accept.
    Accept,
    /// Input line: complete the command or argument.
    Complete,
    /// Input line: delete the character before the cursor.
    DeleteBack,
    /// Input line: delete the word before the cursor.
    DeleteWord,
    /// Input line: clear it.
    ClearInput,
    /// Approve the selected approval (the marked ones: a review table first).
    Approve,
    /// Reject the selected approval (the marked ones: a review table first).
    Reject,
    /// Approvals: mark or unmark the selected item for a bulk decision.
    Mark,
    /// Approvals: mark every item at the selected item's stage (again: unmark them).
    MarkStage,
    /// Approvals: mark every item (again: unmark all).
    MarkAll,
    /// Circuit: roll it back in Prod; environment release: roll the environment back.
    Rollback,
    /// Rollback: redeploy the target's release, or point the deployment at it directly.
    ToggleMethod,
    /// Comment box: override the test gate (break-glass, needs a reason).
    ToggleOverride,
    /// Forms: the next field (comment, reason).
    NextField,
    /// Comment box: the circuit's next pending approval.
    NextApproval,
    /// Operations in flight and recent.
    ShowOps,
    /// The audit log.
    ShowAudit,
    /// The fleet's fired alerts.
    ShowAlerts,
    /// Alerts: acknowledge the selected alert (comment box, then sent once).
    AcknowledgeAlert,
    /// Alerts: close the selected alert (comment box, then sent once).
    CloseAlert,
    /// Circuit, Jobs tab: start the newest failed scoring job again with its inputs
    /// (confirmation: typed in Prod), followed to its end.
    RetryJob,
    /// Bound to nothing: lets a user keymap unbind a default key.
    Noop,
    /// Typed text on an input line (not bindable).
    #[serde(skip)]
    Type(char),
}

impl Action {
    /// The keymap spelling, for help and warnings.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::ForceQuit => "force-quit",
            Action::Back => "back",
            Action::Up => "up",
            Action::Down => "down",
            Action::Left => "left",
            Action::Right => "right",
            Action::PageUp => "page-up",
            Action::PageDown => "page-down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::NextTab => "next-tab",
            Action::PrevTab => "prev-tab",
            Action::FocusNext => "focus-next",
            Action::ScrollDown => "scroll-down",
            Action::ScrollUp => "scroll-up",
            Action::Filter => "filter",
            Action::Palette => "palette",
            Action::Help => "help",
            Action::Refresh => "refresh",
            Action::ToggleGrid => "toggle-grid",
            Action::SortNext => "sort-next",
            Action::SortPrev => "sort-prev",
            Action::SortReverse => "sort-reverse",
            Action::IncidentOrder => "incident-order",
            Action::AllPlants => "all-plants",
            Action::ShowFleet => "show-fleet",
            Action::ShowApprovals => "show-approvals",
            Action::ShowEnv => "show-env",
            Action::ToggleDiffLayout => "toggle-diff-layout",
            Action::PickVersions => "pick-versions",
            Action::ResetCompare => "reset-compare",
            Action::Accept => "accept",
            Action::Complete => "complete",
            Action::DeleteBack => "delete-back",
            Action::DeleteWord => "delete-word",
            Action::ClearInput => "clear-input",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Mark => "mark",
            Action::MarkStage => "mark-stage",
            Action::MarkAll => "mark-all",
            Action::Rollback => "rollback",
            Action::ToggleMethod => "toggle-method",
            Action::ToggleOverride => "toggle-override",
            Action::NextField => "next-field",
            Action::NextApproval => "next-approval",
            Action::ShowOps => "show-ops",
            Action::ShowAudit => "show-audit",
            Action::ShowAlerts => "show-alerts",
            Action::AcknowledgeAlert => "acknowledge-alert",
            Action::CloseAlert => "close-alert",
            Action::RetryJob => "retry-job",
            Action::Noop => "noop",
            Action::Type(_) => "type",
        }
    }
}

/// Identifies an approval line: a release and the stage waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApprovalKey {
    pub release_id: u32,
    pub stage: Stage,
}

impl ApprovalKey {
    pub fn of(item: &ApprovalItem) -> Self {
        Self {
            release_id: item.release_id,
            stage: item.stage,
        }
    }
}

/// A background result: the value, or why it could not be had.
pub type Outcome<T> = Result<Box<T>, String>;

/// Everything `update` reacts to.
#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    Resize(u16, u16),
    /// The clock moved (ages, staleness, auto refresh).
    Tick(DateTime<Utc>),
    Snapshot {
        generation: u64,
        result: Outcome<FleetSnapshot>,
    },
    Evidence {
        generation: u64,
        circuit: CircuitRef,
        result: Outcome<CircuitEvidence>,
    },
    ApprovalEvidence {
        generation: u64,
        key: ApprovalKey,
        result: Outcome<ApprovalEvidence>,
    },
    Comparison {
        generation: u64,
        circuit: CircuitRef,
        result: Outcome<ConfigComparison>,
    },
    /// One decision of a batch came back (a batch sends one per item).
    Decision {
        generation: u64,
        key: ApprovalKey,
        outcome: Box<DecisionOutcome>,
    },
    RollbackPlan {
        generation: u64,
        circuit: CircuitRef,
        result: Outcome<RollbackPlan>,
    },
    EnvironmentPlan {
        generation: u64,
        result: Outcome<EnvironmentPlan>,
    },
    /// A rollback was journaled and sent (or an unfinished one of the same circuit was found),
    /// or why it was not.
    Executed {
        generation: u64,
        result: Result<Box<Operation>, ExecuteError>,
    },
    /// A tracked operation changed (every poll that moves it, and its end).
    OpProgress(Box<Operation>),
    Ops {
        generation: u64,
        result: Outcome<Vec<Operation>>,
    },
    Audit {
        generation: u64,
        result: Outcome<AuditData>,
    },
    /// A circuit's scoring jobs (the Jobs tab).
    Jobs {
        generation: u64,
        circuit: CircuitRef,
        result: Outcome<CircuitJobs>,
    },
    /// An alert's state change came back.
    AlertChanged {
        outcome: Box<AlertChangeOutcome>,
    },
    /// A retried job's new job, each time it is read (the Jobs tab's row follows it).
    JobRetryProgress {
        brief: Box<RetryBrief>,
    },
    /// A job retry ended (or stopped being followed).
    JobRetried {
        outcome: Box<JobRetryOutcome>,
    },
}

impl From<Action> for Msg {
    fn from(a: Action) -> Msg {
        Msg::Action(a)
    }
}

/// Work for the runtime. Each request carries its generation; the newest of a kind wins.
#[derive(Debug, Clone)]
pub enum Effect {
    Refresh {
        generation: u64,
    },
    LoadEvidence {
        generation: u64,
        circuit: CircuitRef,
        snapshot: Arc<FleetSnapshot>,
    },
    LoadApprovalEvidence {
        generation: u64,
        key: ApprovalKey,
        item: Box<ApprovalItem>,
        snapshot: Arc<FleetSnapshot>,
    },
    Compare {
        generation: u64,
        circuit: CircuitRef,
        versions: Vec<VersionInfo>,
        old: ModelVersion,
        new: ModelVersion,
    },
    /// Approve or reject each item, one result message per item; one failure does not stop
    /// the rest. A mutation: never aborted by a newer request.
    Decide {
        generation: u64,
        items: Vec<(ApprovalKey, DecisionRequest)>,
        snapshot: Arc<FleetSnapshot>,
    },
    PlanRollback {
        generation: u64,
        request: RollbackRequest,
        snapshot: Arc<FleetSnapshot>,
    },
    /// Journal, send once, then track to the end with progress messages. A mutation.
    ExecuteRollback {
        generation: u64,
        plan: Box<RollbackPlan>,
        reason: Option<String>,
    },
    PlanEnvironmentRollback {
        generation: u64,
        snapshot: Arc<FleetSnapshot>,
    },
    ExecuteEnvironmentRollback {
        generation: u64,
        plan: Box<EnvironmentPlan>,
        reason: Option<String>,
    },
    /// The journal: every operation, newest first.
    LoadOps {
        generation: u64,
    },
    /// The audit log and its chain verification.
    LoadAudit {
        generation: u64,
    },
    /// Track every unfinished operation of the journal (after a crash), with progress.
    ResumeOps,
    /// A circuit's Test and Prod scoring jobs with their run history.
    LoadJobs {
        generation: u64,
        circuit: CircuitRef,
    },
    /// Acknowledge, close or reopen an alert: journaled, sent once, re-read. A mutation.
    ChangeAlert {
        request: AlertChangeRequest,
    },
    /// Retry a failed scoring job: journaled, sent once, followed with progress. A mutation.
    RetryJob {
        request: JobRetryRequest,
    },
    Quit,
}

impl Effect {
    /// Which slot a request occupies: a newer request of the same slot supersedes it.
    pub fn slot(&self) -> Option<Slot> {
        match self {
            Effect::Refresh { .. } => Some(Slot::Refresh),
            Effect::LoadEvidence { .. } => Some(Slot::Evidence),
            Effect::LoadApprovalEvidence { .. } => Some(Slot::ApprovalEvidence),
            Effect::Compare { .. } => Some(Slot::Comparison),
            Effect::Decide { .. } => Some(Slot::Decide),
            Effect::PlanRollback { .. } => Some(Slot::Plan),
            Effect::PlanEnvironmentRollback { .. } => Some(Slot::EnvironmentPlan),
            Effect::ExecuteRollback { .. } | Effect::ExecuteEnvironmentRollback { .. } => {
                Some(Slot::Execute)
            }
            Effect::LoadOps { .. } => Some(Slot::Ops),
            Effect::LoadAudit { .. } => Some(Slot::Audit),
            Effect::LoadJobs { .. } => Some(Slot::Jobs),
            Effect::ResumeOps
            | Effect::Quit
            | Effect::ChangeAlert { .. }
            | Effect::RetryJob { .. } => None,
        }
    }

    /// Changes something outside: runs to its end, whatever comes after it.
    pub fn mutates(&self) -> bool {
        matches!(
            self,
            Effect::Decide { .. }
                | Effect::ChangeAlert { .. }
                | Effect::RetryJob { .. }
                | Effect::ExecuteRollback { .. }
                | Effect::ExecuteEnvironmentRollback { .. }
        )
    }
}

/// Kinds of background work, one in flight each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Refresh,
    Evidence,
    ApprovalEvidence,
    Comparison,
    Decide,
    Plan,
    EnvironmentPlan,
    Execute,
    Ops,
    Audit,
    Jobs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_keymap_spelling() {
        #[derive(Deserialize)]
        struct One {
            run: Action,
        }
        for a in [
            Action::Quit,
            Action::ForceQuit,
            Action::PageDown,
            Action::ToggleDiffLayout,
            Action::IncidentOrder,
            Action::ShowApprovals,
            Action::Noop,
        ] {
            let parsed: One = toml::from_str(&format!("run = \"{}\"", a.name())).unwrap();
            assert_eq!(parsed.run, a);
        }
        assert!(toml::from_str::<One>("run = \"type\"").is_err());
    }
}
