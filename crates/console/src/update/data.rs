//! Data arriving and leaving: refresh requests, snapshots (kept when a refresh fails), evidence
//! results matched to their request's generation, and the clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::action::{ApprovalKey, Effect, Outcome, Slot};
use crate::app::{App, Origin, Remote, Route};
use crate::approvals_model;
use crate::domain::CircuitRef;
use crate::domain::fleet::FleetSnapshot;
use crate::index::FleetIndex;
use crate::service::approval::ApprovalEvidence;
use crate::service::evidence::{CircuitEvidence, ConfigComparison};

use super::{approvals, fleet};

/// Ask for a refresh; a newer request supersedes one in flight.
pub fn request_refresh(app: &mut App) -> Vec<Effect> {
    let generation = app.gens.next(Slot::Refresh);
    vec![Effect::Refresh { generation }]
}

/// Put a snapshot on screen: rebuild the index, keep selections where they still exist.
pub fn install_snapshot(app: &mut App, snapshot: FleetSnapshot, origin: Origin) {
    let index = FleetIndex::build(&snapshot);
    let (rows, lines) =
        approvals_model::build(&snapshot, &app.settings.policy, &app.settings.thresholds);
    let selected_key = app.approvals.selected().map(|r| r.key);
    let was_at = selected_key.and_then(|k| app.approvals.rows.iter().position(|r| r.key == k));
    app.data.snapshot = Some(Arc::new(snapshot));
    app.data.index = index;
    app.data.origin = origin;
    app.approvals.rows = rows;
    app.approvals.lines = lines;
    // Evidence of other items is reloaded when they are selected again.
    app.approvals
        .evidence
        .retain(|k, _| Some(*k) == selected_key);
    approvals::reselect(app, selected_key, was_at);
    approvals::rebuild_env(app);
    // Marks of items no longer pending go; an open review table is judged again.
    let keys: std::collections::HashSet<ApprovalKey> =
        app.approvals.rows.iter().map(|r| r.key).collect();
    app.approvals.marks.retain(|k| keys.contains(k));
    super::bulk::rejudge(app);
    super::circuit::refresh_actions(app);
    fleet::resort(app);
}

/// A one-line summary of a snapshot's errors.
fn errors_line(s: &FleetSnapshot) -> Option<String> {
    let first = s.errors.first()?;
    let more = s.errors.len() - 1;
    Some(if more > 0 {
        format!("{}: {} (and {more} more)", first.scope, first.message)
    } else {
        format!("{}: {}", first.scope, first.message)
    })
}

/// Opened because of a page: the first live snapshot of the session has a new (nobody
/// acknowledged it) alert of Sev0 to Sev2 on a circuit. The fleet then starts in incident
/// order on its top row, unless the user already chose an order; said in the bottom line.
fn paged(app: &mut App) {
    if app.page_checked {
        return;
    }
    app.page_checked = true;
    let Some(s) = app.snapshot() else { return };
    use crate::domain::incidents::AlertState;
    let new: Vec<&crate::domain::incidents::FleetAlert> = s
        .alerts
        .iter()
        .filter(|a| {
            a.circuit.is_some()
                && a.alert.state == AlertState::New
                && a.alert.severity.status() == crate::domain::Status::Alert
        })
        .collect();
    let Some(first) = new.first() else { return };
    // Short enough for 80 columns: the page, then the two keys that matter.
    let more = if new.len() > 1 {
        format!(" (+{} new)", new.len() - 1)
    } else {
        String::new()
    };
    let text = format!(
        "paged: {} {} on {}{more} · ! order · W alerts",
        first.alert.severity,
        first.alert.rule_name(),
        first
            .circuit
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default()
    );
    if app.fleet.order == Default::default() && app.fleet.filter.is_empty() {
        app.fleet.order.incidents = true;
        fleet::to_top(app);
    }
    app.set_note(crate::app::NoteLevel::Warning, text);
}

pub fn on_snapshot(app: &mut App, generation: u64, result: Outcome<FleetSnapshot>) -> Vec<Effect> {
    if !app.gens.accept(Slot::Refresh, generation) {
        return Vec::new();
    }
    app.data.refreshed_at = Some(app.now);
    match result {
        Ok(s) if s.plants.is_empty() && !s.errors.is_empty() && app.data.snapshot.is_some() => {
            // Nothing could be read: the last good data stays, marked stale.
            app.data.last_error = errors_line(&s);
            app.data.refresh_failed = true;
            Vec::new()
        }
        Ok(s) => {
            app.data.last_error = errors_line(&s);
            app.data.refresh_failed = false;
            install_snapshot(app, *s, Origin::Live);
            paged(app);
            let mut effects = reload_open_evidence(app);
            // The refresh fed the watches after verified rollbacks (the journal has them).
            if app
                .ops
                .list
                .iter()
                .any(|o| o.watch.as_ref().is_some_and(|w| w.is_open()))
            {
                effects.extend(super::ops::load(app));
            }
            effects
        }
        Err(e) => {
            app.data.last_error = Some(format!("refresh failed: {e}"));
            app.data.refresh_failed = true;
            Vec::new()
        }
    }
}

/// After a new snapshot, what is open is loaded again (the old value stays until then).
fn reload_open_evidence(app: &mut App) -> Vec<Effect> {
    match app.route() {
        Route::Circuit(v) if v.tab == crate::app::Tab::Jobs => {
            // The jobs on screen move with the refresh too.
            let mut effects = load_evidence(app);
            effects.extend(super::alerts::load_jobs(app));
            effects
        }
        Route::Circuit(_) => load_evidence(app),
        Route::Approvals => approvals::load_selected(app, true),
        _ => Vec::new(),
    }
}

/// Load the evidence of the circuit on top of the route stack.
pub fn load_evidence(app: &mut App) -> Vec<Effect> {
    let Some(snapshot) = app.data.snapshot.clone() else {
        return Vec::new();
    };
    let generation = app.gens.next(Slot::Evidence);
    let Some(view) = app.circuit_view_mut() else {
        return Vec::new();
    };
    view.evidence.loading = true;
    vec![Effect::LoadEvidence {
        generation,
        circuit: view.circuit.clone(),
        snapshot,
    }]
}

pub fn on_evidence(
    app: &mut App,
    generation: u64,
    circuit: &CircuitRef,
    result: Outcome<CircuitEvidence>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Evidence, generation) {
        return Vec::new();
    }
    if let Some(v) = app.circuit_view_mut()
        && &v.circuit == circuit
    {
        v.evidence.settle(result);
    }
    Vec::new()
}

pub fn on_comparison(
    app: &mut App,
    generation: u64,
    circuit: &CircuitRef,
    result: Outcome<ConfigComparison>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::Comparison, generation) {
        return Vec::new();
    }
    if let Some(v) = app.circuit_view_mut()
        && &v.circuit == circuit
    {
        v.chosen.get_or_insert_with(Remote::default).settle(result);
    }
    Vec::new()
}

pub fn on_approval_evidence(
    app: &mut App,
    generation: u64,
    key: ApprovalKey,
    result: Outcome<ApprovalEvidence>,
) -> Vec<Effect> {
    if !app.gens.accept(Slot::ApprovalEvidence, generation) {
        return Vec::new();
    }
    app.approvals
        .evidence
        .entry(key)
        .or_default()
        .settle(result);
    Vec::new()
}

/// The clock: ages move, and an automatic refresh is due every `refresh_every`.
pub fn on_tick(app: &mut App, now: DateTime<Utc>) -> Vec<Effect> {
    app.now = now;
    let Some(every) = app.settings.refresh_every else {
        return Vec::new();
    };
    if app.gens.in_flight(Slot::Refresh) {
        return Vec::new();
    }
    let since = app
        .data
        .refreshed_at
        .or(app.data.snapshot.as_ref().map(|s| s.generated_at));
    let due = match since {
        None => true,
        Some(t) => (now - t).to_std().is_ok_and(|d| d >= every),
    };
    if due {
        request_refresh(app)
    } else {
        Vec::new()
    }
}
