//! The state of each view on the route stack: the fleet's panes and cursors, the circuit
//! view's tabs and evidence, the approvals list, the environment matrix, and the input line.

use std::collections::{BTreeSet, HashMap};

use super::{Cursor, Remote};
use crate::action::ApprovalKey;
use crate::approvals_model::ApprovalRow;
use crate::domain::policy::GateEvidence;
use crate::domain::{CircuitRef, ModelVersion};
use crate::filter::FilterQuery;
use crate::index::Order;
use crate::palette::Candidate;
use crate::service::approval::ApprovalEvidence;
use crate::service::evidence::{CircuitEvidence, ConfigComparison};

/// The two panes of the fleet view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Left,
    Right,
}

#[derive(Debug)]
pub struct FleetState {
    pub focus: Pane,
    /// 0 is "All plants", `i + 1` is plant `i`.
    pub plants: Cursor,
    pub table: Cursor,
    pub grid: bool,
    /// Grid cursor: plant row and circuit column.
    pub grid_row: Cursor,
    pub grid_col: usize,
    pub order: Order,
    pub filter: FilterQuery,
    /// All rows in the current order (recomputed when the order or snapshot changes).
    pub sorted: Vec<u32>,
    /// The rows shown: in scope, matching the filter, in order.
    pub visible: Vec<u32>,
    /// Matches per plant while a filter is active.
    pub plant_matches: Vec<u32>,
    /// The selected circuit, kept across refreshes, filters and sorts.
    pub selected: Option<CircuitRef>,
}

impl Default for FleetState {
    fn default() -> Self {
        FleetState {
            focus: Pane::Right,
            plants: Cursor::default(),
            table: Cursor::default(),
            grid: false,
            grid_row: Cursor::default(),
            grid_col: 0,
            order: Order::default(),
            filter: FilterQuery::default(),
            sorted: Vec::new(),
            visible: Vec::new(),
            plant_matches: Vec::new(),
            selected: None,
        }
    }
}

impl FleetState {
    /// The plant in scope, `None` for all plants.
    pub fn plant_scope(&self) -> Option<usize> {
        self.plants.selected.checked_sub(1)
    }
}

/// The tabs of the circuit view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Diff,
    Drift,
    Tests,
    History,
    Jobs,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::Diff,
        Tab::Drift,
        Tab::Tests,
        Tab::History,
        Tab::Jobs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Diff => "Config diff",
            Tab::Drift => "Drift",
            Tab::Tests => "Tests",
            Tab::History => "History",
            Tab::Jobs => "Jobs",
        }
    }

    pub fn step(self, forward: bool) -> Tab {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0);
        let n = Tab::ALL.len();
        Tab::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// Choosing two versions to compare: first the old, then the new.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub cursor: Cursor,
    pub old: Option<ModelVersion>,
}

#[derive(Debug)]
pub struct CircuitView {
    pub circuit: CircuitRef,
    pub tab: Tab,
    pub evidence: Remote<CircuitEvidence>,
    /// A comparison the user chose; `None` shows the evidence's Prod against the candidate.
    pub chosen: Option<Remote<ConfigComparison>>,
    pub side_by_side: bool,
    /// Scroll of the current tab's text.
    pub scroll: usize,
    /// The selected drift series.
    pub drift: Cursor,
    pub picker: Option<Picker>,
    /// What `a` and `R` would do here, worked out per snapshot (not per frame).
    pub actions: CircuitActions,
    /// Its scoring jobs, read when the Jobs tab is first shown.
    pub jobs: Remote<crate::service::incidents::CircuitJobs>,
}

/// The circuit's pending approval (Prod first) and rollback target, for the header.
#[derive(Debug, Clone, Default)]
pub struct CircuitActions {
    /// Release, stage, what policy says for you, and how many approvals wait on the circuit.
    pub pending: Option<(String, crate::domain::Stage, crate::domain::Status, usize)>,
    /// The rollback target in words, or why there is none.
    pub target: Option<Result<String, String>>,
}

impl CircuitView {
    pub fn new(circuit: CircuitRef) -> Self {
        CircuitView {
            circuit,
            tab: Tab::Overview,
            evidence: Remote::loading(),
            chosen: None,
            side_by_side: false,
            scroll: 0,
            drift: Cursor::default(),
            picker: None,
            actions: CircuitActions::default(),
            jobs: Remote::default(),
        }
    }

    /// The comparison on screen: the chosen one, else Prod against the candidate.
    pub fn comparison(&self) -> Option<&ConfigComparison> {
        match &self.chosen {
            Some(r) => r.value.as_deref(),
            None => self.evidence.value.as_ref()?.comparison.as_ref(),
        }
    }
}

/// One line of the approvals list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalLine {
    /// A release heading; the index of its first row.
    Release(usize),
    /// A stage waiting: index into `ApprovalsState::rows`.
    Item(usize),
}

#[derive(Debug, Default)]
pub struct ApprovalsState {
    /// Per pending stage, precomputed per snapshot (policy verdicts included).
    pub rows: Vec<ApprovalRow>,
    pub lines: Vec<ApprovalLine>,
    /// Selection among `lines` (always on an item once there is one).
    pub cursor: Cursor,
    pub evidence_focus: bool,
    pub scroll: usize,
    pub evidence: HashMap<ApprovalKey, Remote<ApprovalEvidence>>,
    /// Marked for a bulk decision.
    pub marks: BTreeSet<ApprovalKey>,
}

impl ApprovalsState {
    pub fn selected(&self) -> Option<&ApprovalRow> {
        match self.lines.get(self.cursor.selected)? {
            ApprovalLine::Item(i) | ApprovalLine::Release(i) => self.rows.get(*i),
        }
    }
}

/// The environment release matrix.
#[derive(Debug, Default)]
pub struct EnvState {
    pub key: Option<ApprovalKey>,
    /// Every circuit's gate result, failures first.
    pub rows: Vec<GateEvidence>,
    pub cursor: Cursor,
}

/// A line being typed.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    pub input: String,
    pub candidates: Vec<Candidate>,
    pub selected: Option<usize>,
}

/// Who gets typed keys.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    /// Typing a filter: the text so far lives in the fleet's query.
    Filter,
    Palette(Palette),
}
