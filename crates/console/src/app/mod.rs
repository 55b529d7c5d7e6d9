//! The console's state: one `App`, owned by one task, changed only by `update`. Views read it.
//! Per-view state lives in its own struct; the route stack says what is on screen.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod views;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::action::{Action, Effect, Slot};
use super::flows::{
    AlertBox, AuditState, BulkPhase, BulkState, CircuitRollback, DecideForm, EnvironmentRollback,
    OpsState, ProgressView, RetryBox, RollbackFlow, RollbackStep,
};
use super::index::FleetIndex;
use super::keymap::{KeyChord, KeyContext, Keymap};
pub use super::state::{Cursor, Generations, Remote};
use super::theme::Theme;
use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot};
use crate::domain::policy::ApprovalPolicy;
use crate::domain::rollback::RollbackMethod;
use crate::domain::{CircuitRef, Thresholds};
pub use views::{
    ApprovalLine, ApprovalsState, CircuitActions, CircuitView, EnvState, FleetState, Mode, Palette,
    Pane, Picker, Tab,
};

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
    /// The methods `m` cycles through (the rollback pipeline where the flavour has one).
    pub rollback_methods: Vec<RollbackMethod>,
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
            rollback_methods: vec![RollbackMethod::Redeploy, RollbackMethod::Direct],
            incident_order_when_paged: false,
        }
    }
}

/// What the console was started with and does not change: the part of [`AppConfig`] that is
/// configuration rather than state.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    pub thresholds: Thresholds,
    pub policy: ApprovalPolicy,
    pub keymap: Keymap,
    /// Every theme `:theme` can switch to.
    pub themes: Vec<String>,
    pub theme_dir: Option<PathBuf>,
    /// Refresh on its own this often (none: only on `r`).
    pub refresh_every: Option<Duration>,
    /// The rollback method proposed first (`[rollback] method`).
    pub rollback_method: RollbackMethod,
    /// The methods `m` cycles through (the rollback pipeline where the flavour has one).
    pub rollback_methods: Vec<RollbackMethod>,
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

/// A form over the view that opened it. There is one slot, so two forms can never both
/// believe they have the keyboard.
#[derive(Debug)]
pub enum Overlay {
    /// The comment box of an approval decision (approvals list, circuit view).
    Decide(DecideForm),
    /// The comment box of an alert's state change, over the alerts list.
    AlertNote(AlertBox),
    /// The confirmation and progress of a job retry (Jobs tab, `t`).
    JobRetry(Box<RetryBox>),
}

/// One view on the route stack.
#[derive(Debug)]
pub enum Route {
    Fleet,
    Circuit(Box<CircuitView>),
    Approvals,
    Env,
    Help,
    /// The bulk review table, then its results. It stays while its decisions are being
    /// sent: a bulk decision is watched to its last answer.
    Bulk(Box<BulkState>),
    /// Rolling a circuit back: the flow lives and dies with its route.
    Rollback(Box<RollbackFlow<CircuitRollback>>),
    /// Rolling the environment back.
    EnvRollback(Box<RollbackFlow<EnvironmentRollback>>),
    Progress(ProgressView),
    Ops,
    Audit,
    /// The fleet's fired alerts (`App::alerts`).
    Alerts,
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
    /// What the session and the settings fixed before the first frame.
    pub settings: ConsoleSettings,
    /// The theme in use (`:theme` switches it).
    pub theme: Theme,
    /// The backend line, until a snapshot brings its own.
    pub backend: String,
    pub data: Data,
    pub gens: Generations,
    pub routes: Vec<Route>,
    pub fleet: FleetState,
    pub approvals: ApprovalsState,
    pub env: EnvState,
    pub help_scroll: usize,
    /// The form over whatever view opened it (one at a time; it takes every typed key).
    pub overlay: Option<Overlay>,
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
            settings: ConsoleSettings {
                thresholds: cfg.thresholds,
                policy: cfg.policy,
                keymap: cfg.keymap,
                themes: cfg.themes,
                theme_dir: cfg.theme_dir,
                refresh_every: cfg.refresh_every,
                rollback_method: cfg.rollback_method,
                rollback_methods: cfg.rollback_methods,
            },
            theme: cfg.theme,
            backend: cfg.backend,
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
            overlay: None,
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

    /// The decision's comment box, if it is the form open.
    pub fn decide_form(&self) -> Option<&DecideForm> {
        match &self.overlay {
            Some(Overlay::Decide(f)) => Some(f),
            _ => None,
        }
    }

    pub fn decide_form_mut(&mut self) -> Option<&mut DecideForm> {
        match &mut self.overlay {
            Some(Overlay::Decide(f)) => Some(f),
            _ => None,
        }
    }

    /// Close the decision's comment box (and nothing else).
    pub fn close_decide_form(&mut self) {
        if matches!(self.overlay, Some(Overlay::Decide(_))) {
            self.overlay = None;
        }
    }

    /// The alert change's comment box, if it is the form open.
    pub fn alert_box(&self) -> Option<&AlertBox> {
        match &self.overlay {
            Some(Overlay::AlertNote(b)) => Some(b),
            _ => None,
        }
    }

    pub fn alert_box_mut(&mut self) -> Option<&mut AlertBox> {
        match &mut self.overlay {
            Some(Overlay::AlertNote(b)) => Some(b),
            _ => None,
        }
    }

    /// Close the alert change's comment box (and nothing else).
    pub fn close_alert_box(&mut self) {
        if matches!(self.overlay, Some(Overlay::AlertNote(_))) {
            self.overlay = None;
        }
    }

    /// The job retry's box, if it is the form open.
    pub fn retry_box(&self) -> Option<&RetryBox> {
        match &self.overlay {
            Some(Overlay::JobRetry(b)) => Some(b),
            _ => None,
        }
    }

    pub fn retry_box_mut(&mut self) -> Option<&mut RetryBox> {
        match &mut self.overlay {
            Some(Overlay::JobRetry(b)) => Some(b),
            _ => None,
        }
    }

    /// Close the job retry's box (and nothing else).
    pub fn close_retry_box(&mut self) {
        if matches!(self.overlay, Some(Overlay::JobRetry(_))) {
            self.overlay = None;
        }
    }

    /// The bulk decision on the route stack.
    pub fn bulk(&self) -> Option<&BulkState> {
        self.routes.iter().rev().find_map(|r| match r {
            Route::Bulk(b) => Some(&**b),
            _ => None,
        })
    }

    pub fn bulk_mut(&mut self) -> Option<&mut BulkState> {
        self.routes.iter_mut().rev().find_map(|r| match r {
            Route::Bulk(b) => Some(&mut **b),
            _ => None,
        })
    }

    /// The circuit rollback on the route stack (the newest, if the user opened another view
    /// over it).
    pub fn rollback(&self) -> Option<&RollbackFlow<CircuitRollback>> {
        self.routes.iter().rev().find_map(|r| match r {
            Route::Rollback(f) => Some(&**f),
            _ => None,
        })
    }

    /// Whether the form over the view has sent its change and waits for the answer.
    pub fn overlay_sending(&self) -> bool {
        match &self.overlay {
            Some(Overlay::Decide(f)) => f.sending.is_some(),
            Some(Overlay::AlertNote(b)) => b.sending,
            Some(Overlay::JobRetry(b)) => b.sending,
            None => false,
        }
    }

    /// The environment rollback on the route stack.
    pub fn env_rollback(&self) -> Option<&RollbackFlow<EnvironmentRollback>> {
        self.routes.iter().rev().find_map(|r| match r {
            Route::EnvRollback(f) => Some(&**f),
            _ => None,
        })
    }

    /// The keymap contexts in force, most specific first.
    pub fn contexts(&self) -> Vec<KeyContext> {
        match &self.mode {
            Mode::Filter | Mode::Palette(_) => return vec![KeyContext::Input],
            Mode::Normal => {}
        }
        // Forms take typed text: only their own keys count; once sent, only closing does.
        if self.overlay_sending() {
            return vec![KeyContext::Sending];
        }
        match &self.overlay {
            Some(Overlay::Decide(_)) => return vec![KeyContext::Decide],
            Some(Overlay::AlertNote(_)) => return vec![KeyContext::AlertNote],
            Some(Overlay::JobRetry(_)) => return vec![KeyContext::JobRetry],
            None => {}
        }
        let mut out = match self.route() {
            Route::Bulk(b) if b.phase == BulkPhase::Review => return vec![KeyContext::Review],
            Route::Bulk(_) => vec![KeyContext::Results],
            Route::Rollback(f) if f.step == RollbackStep::Confirm => {
                return vec![KeyContext::Confirm];
            }
            Route::EnvRollback(f) if f.step == RollbackStep::Confirm => {
                return vec![KeyContext::Confirm];
            }
            Route::Rollback(_) | Route::EnvRollback(_) => vec![KeyContext::Rollback],
            Route::Progress(_) => vec![KeyContext::Progress],
            Route::Ops => vec![KeyContext::Ops],
            Route::Audit => vec![KeyContext::Audit],
            Route::Fleet if self.fleet.grid => vec![KeyContext::Grid, KeyContext::Fleet],
            Route::Fleet => vec![KeyContext::Fleet],
            Route::Circuit(v) if v.picker.is_some() => vec![KeyContext::Picker],
            Route::Circuit(v) if v.tab == Tab::Diff => vec![KeyContext::Diff, KeyContext::Circuit],
            Route::Circuit(v) if v.tab == Tab::Jobs => vec![KeyContext::Jobs, KeyContext::Circuit],
            Route::Circuit(_) => vec![KeyContext::Circuit],
            Route::Approvals => vec![KeyContext::Approvals],
            Route::Env => vec![KeyContext::Env],
            Route::Help => vec![KeyContext::Help],
            Route::Alerts => vec![KeyContext::Alerts],
        };
        out.push(KeyContext::Global);
        out
    }

    /// What a key means here: a binding of the current contexts, or typed text on an input line.
    pub fn key_action(&self, key: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        let stack = self.contexts();
        if let Some(a) = self.settings.keymap.resolve(&stack, chord) {
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
