//! The console's state: one `App`, owned by one task, changed only by `update`. Views read it.
//! Per-view state lives in its own struct; the route stack says what is on screen.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::action::{Action, ApprovalKey, Effect, Slot};
use super::approvals_model::ApprovalRow;
use super::filter::FilterQuery;
use super::index::{FleetIndex, Order};
use super::keymap::{Context, KeyChord, Keymap};
use super::palette::Candidate;
pub use super::state::{Cursor, Generations, Remote};
use super::theme::Theme;
use super::write::{
    AlertBox, AuditState, BulkPhase, BulkState, DecideForm, EnvRollbackFlow, OpsState,
    ProgressView, RollbackFlow, RollbackStep,
};
use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot};
use crate::domain::policy::{ApprovalPolicy, GateEvidence};
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, ModelVersion, Thresholds};
use crate::service::approval::ApprovalEvidence;
use crate::service::evidence::{CircuitEvidence, ConfigComparison};

/// What the console needs from the session and the settings, resolved before the first frame.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub thresholds: Thresholds,
    pub policy: ApprovalPolicy,
    /// The session's backend line, until a snapshot brings its own.
    pub backend: String,
    pub theme: Theme,
    /// Every theme `:theme` can switch to.
    pub themes: Vec<String>,
    pub theme_dir: Option<PathBuf>,
    pub keymap: Keymap,
    /// Problems with the keymap or theme files, shown in the status bar.
    pub warnings: Vec<String>,
    /// Refresh on its own this often (none: only on `r`).
    pub refresh_every: Option<Duration>,
    /// The rollback method proposed first (`[rollback] method`).
    pub rollback_method: RollbackMethod,
    /// The rollback budget in minutes.
    pub sla_minutes: u32,
    /// Start in incident order on the paged circuit when the first live snapshot has a new
    /// Sev0-Sev2 alert (the console turns it on; tests of other things leave it off).
    pub incident_order_when_paged: bool,
}

impl AppConfig {
    /// Defaults: built-in keymap and theme, seed thresholds and the given policy.
    pub fn new(policy: ApprovalPolicy, thresholds: Thresholds, backend: String) -> AppConfig {
        AppConfig {
            thresholds,
            policy,
            backend,
            theme: Theme::default_theme(),
            themes: Theme::available(None),
            theme_dir: None,
            keymap: Keymap::defaults(),
            warnings: Vec::new(),
            refresh_every: Some(Duration::from_secs(60)),
            rollback_method: RollbackMethod::Redeploy,
            sla_minutes: 15,
            incident_order_when_paged: false,
        }
    }
}

/// Where the data on screen came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Nothing yet.
    None,
    /// The disk cache, from an earlier run.
    Cache,
    /// A refresh of this run.
    Live,
}

/// The fleet as last read.
#[derive(Debug)]
pub struct Data {
    pub snapshot: Option<Arc<FleetSnapshot>>,
    pub index: FleetIndex,
    pub origin: Origin,
    /// The newest refresh failed: what is shown is older than it looks.
    pub refresh_failed: bool,
    /// The last refresh's failure, or the errors of a partial snapshot, in one line.
    pub last_error: Option<String>,
    /// When the newest refresh finished (auto refresh counts from here).
    pub refreshed_at: Option<DateTime<Utc>>,
}

impl Data {
    pub fn circuit(&self, c: &CircuitRef) -> Option<&CircuitSnapshot> {
        self.snapshot.as_ref()?.circuit(c)
    }
}

/// One view on the route stack.
#[derive(Debug)]
pub enum Route {
    Fleet,
    Circuit(Box<CircuitView>),
    Approvals,
    Env,
    Help,
    /// The bulk review table, then its results (`App::bulk`).
    Bulk,
    /// Rolling a circuit back (`App::rollback`).
    Rollback,
    /// Rolling the environment back (`App::env_rollback`).
    EnvRollback,
    Progress(ProgressView),
    Ops,
    Audit,
    /// The fleet's fired alerts (`App::alerts`).
    Alerts,
}

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

/// Something to tell the user in the bottom line until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub level: NoteLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteLevel {
    Info,
    Warning,
    Error,
}

#[derive(Debug)]
pub struct App {
    pub now: DateTime<Utc>,
    pub size: (u16, u16),
    pub theme: Theme,
    pub themes: Vec<String>,
    pub theme_dir: Option<PathBuf>,
    pub keymap: Keymap,
    pub thresholds: Thresholds,
    pub policy: ApprovalPolicy,
    pub backend: String,
    pub refresh_every: Option<Duration>,
    pub rollback_method: RollbackMethod,
    pub sla_minutes: u32,
    pub data: Data,
    pub gens: Generations,
    pub routes: Vec<Route>,
    pub fleet: FleetState,
    pub approvals: ApprovalsState,
    pub env: EnvState,
    pub help_scroll: usize,
    /// The comment box, over whatever view opened it.
    pub modal: Option<DecideForm>,
    /// The comment box of an alert's state change, over the alerts list.
    pub alert_box: Option<AlertBox>,
    /// The confirmation and progress of a job retry (Jobs tab, `t`).
    pub retry_box: Option<crate::write::RetryBox>,
    pub bulk: Option<BulkState>,
    pub rollback: Option<RollbackFlow>,
    pub env_rollback: Option<EnvRollbackFlow>,
    pub ops: OpsState,
    pub audit: AuditState,
    /// The alerts list (`:alerts`).
    pub alerts: Cursor,
    pub mode: Mode,
    /// Whether the first live snapshot was looked at for a page (`update::data::paged`); set
    /// from the start when the configuration does not ask for it.
    pub page_checked: bool,
    pub note: Option<Note>,
    pub warnings: Vec<String>,
    pub quit: bool,
}

impl App {
    /// A console over `snapshot` (from the cache, or none yet). Returns the first effects: a
    /// refresh, so fresh data replaces the cached view as soon as it arrives.
    pub fn new(
        cfg: AppConfig,
        snapshot: Option<FleetSnapshot>,
        now: DateTime<Utc>,
        size: (u16, u16),
    ) -> (App, Vec<Effect>) {
        let mut app = App {
            now,
            size,
            theme: cfg.theme,
            themes: cfg.themes,
            theme_dir: cfg.theme_dir,
            keymap: cfg.keymap,
            thresholds: cfg.thresholds,
            policy: cfg.policy,
            backend: cfg.backend,
            refresh_every: cfg.refresh_every,
            rollback_method: cfg.rollback_method,
            sla_minutes: cfg.sla_minutes,
            data: Data {
                snapshot: None,
                index: FleetIndex::default(),
                origin: Origin::None,
                refresh_failed: false,
                last_error: None,
                refreshed_at: None,
            },
            gens: Generations::default(),
            routes: vec![Route::Fleet],
            fleet: FleetState::default(),
            approvals: ApprovalsState::default(),
            env: EnvState::default(),
            help_scroll: 0,
            modal: None,
            alert_box: None,
            retry_box: None,
            bulk: None,
            rollback: None,
            env_rollback: None,
            ops: OpsState::default(),
            audit: AuditState::default(),
            alerts: Cursor::default(),
            mode: Mode::Normal,
            page_checked: !cfg.incident_order_when_paged,
            note: None,
            warnings: cfg.warnings,
            quit: false,
        };
        if let Some(first) = app.warnings.first() {
            app.note = Some(Note {
                text: first.clone(),
                level: NoteLevel::Warning,
            });
        }
        if let Some(s) = snapshot {
            super::update::data::install_snapshot(&mut app, s, Origin::Cache);
        }
        let mut effects = super::update::data::request_refresh(&mut app);
        // What a crash left unfinished is tracked again, in the background.
        effects.extend(super::update::ops::start(&mut app));
        (app, effects)
    }

    pub fn route(&self) -> &Route {
        self.routes.last().unwrap_or(&Route::Fleet)
    }

    pub fn circuit_view(&self) -> Option<&CircuitView> {
        match self.routes.last() {
            Some(Route::Circuit(v)) => Some(v),
            _ => None,
        }
    }

    pub fn circuit_view_mut(&mut self) -> Option<&mut CircuitView> {
        match self.routes.last_mut() {
            Some(Route::Circuit(v)) => Some(v),
            _ => None,
        }
    }

    /// The keymap contexts in force, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        match &self.mode {
            Mode::Filter | Mode::Palette(_) => return vec![Context::Input],
            Mode::Normal => {}
        }
        // Forms take typed text: only their own keys count.
        if self.modal.is_some() {
            return vec![Context::Decide];
        }
        if self.alert_box.is_some() {
            return vec![Context::AlertNote];
        }
        if self.retry_box.is_some() {
            return vec![Context::JobRetry];
        }
        let mut out = match self.route() {
            Route::Bulk => match self.bulk.as_ref().map(|b| b.phase) {
                Some(BulkPhase::Review) => return vec![Context::Review],
                _ => vec![Context::Results],
            },
            Route::Rollback => match self.rollback.as_ref().map(|f| f.step) {
                Some(RollbackStep::Confirm) => return vec![Context::Confirm],
                _ => vec![Context::Rollback],
            },
            Route::EnvRollback => match self.env_rollback.as_ref().map(|f| f.step) {
                Some(RollbackStep::Confirm) => return vec![Context::Confirm],
                _ => vec![Context::Rollback],
            },
            Route::Progress(_) => vec![Context::Progress],
            Route::Ops => vec![Context::Ops],
            Route::Audit => vec![Context::Audit],
            Route::Fleet if self.fleet.grid => vec![Context::Grid, Context::Fleet],
            Route::Fleet => vec![Context::Fleet],
            Route::Circuit(v) if v.picker.is_some() => vec![Context::Picker],
            Route::Circuit(v) if v.tab == Tab::Diff => vec![Context::Diff, Context::Circuit],
            Route::Circuit(v) if v.tab == Tab::Jobs => vec![Context::Jobs, Context::Circuit],
            Route::Circuit(_) => vec![Context::Circuit],
            Route::Approvals => vec![Context::Approvals],
            Route::Env => vec![Context::Env],
            Route::Help => vec![Context::Help],
            Route::Alerts => vec![Context::Alerts],
        };
        out.push(Context::Global);
        out
    }

    /// What a key means here: a binding of the current contexts, or typed text on an input line.
    pub fn key_action(&self, key: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        let stack = self.contexts();
        if let Some(a) = self.keymap.resolve(&stack, chord) {
            return Some(a);
        }
        let typing = stack.first().is_some_and(|c| c.types_text());
        match key.code {
            crossterm::event::KeyCode::Char(c)
                if typing
                    && !chord.mods.intersects(
                        crossterm::event::KeyModifiers::CONTROL
                            | crossterm::event::KeyModifiers::ALT,
                    ) =>
            {
                Some(Action::Type(c))
            }
            _ => None,
        }
    }

    pub fn snapshot(&self) -> Option<&FleetSnapshot> {
        self.data.snapshot.as_deref()
    }

    pub fn set_note(&mut self, level: NoteLevel, text: impl Into<String>) {
        self.note = Some(Note {
            text: text.into(),
            level,
        });
    }

    /// The operator, as the snapshot knows them.
    pub fn operator(&self) -> Option<&crate::domain::platform::IdentityRef> {
        self.snapshot()?.identity.as_ref()
    }

    /// Whether background work is running, for the status bar.
    pub fn busy(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.gens.in_flight(Slot::Decide) {
            out.push("sending decisions");
        }
        if self.gens.in_flight(Slot::Execute) {
            out.push("sending the rollback");
        }
        if self.gens.in_flight(Slot::Plan) || self.gens.in_flight(Slot::EnvironmentPlan) {
            out.push("planning");
        }
        if self.gens.in_flight(Slot::Audit) {
            out.push("verifying the audit log");
        }
        if self.gens.in_flight(Slot::Refresh) {
            out.push("refreshing");
        }
        if self.gens.in_flight(Slot::Evidence) {
            out.push("loading evidence");
        }
        if self.gens.in_flight(Slot::ApprovalEvidence) {
            out.push("loading approval evidence");
        }
        if self.gens.in_flight(Slot::Comparison) {
            out.push("comparing");
        }
        if self.gens.in_flight(Slot::Jobs) {
            out.push("loading scoring jobs");
        }
        out
    }
}
