//! Selectors: what the console's state means, read by `update` and the views alike (the
//! circuit under the cursor, what `R` would do on a circuit). Pure reads of [`App`]; nothing
//! here changes state or draws.

use crate::app::App;
use crate::domain::rollback::{TargetChoice, choose_target, prod_history};
use crate::domain::{CircuitRef, ModelVersion};
use crate::service::journal::{OpKind, Operation};

/// The circuit under the cursor (table or grid).
pub fn current_circuit(app: &App) -> Option<CircuitRef> {
    let snap = app.data.snapshot.as_ref()?;
    if app.fleet.grid {
        let plant = snap.plants.get(app.fleet.grid_row.selected)?;
        return plant
            .circuits
            .get(app.fleet.grid_col)
            .map(|c| c.circuit.clone());
    }
    let r = app.fleet.visible.get(app.fleet.table.selected)?;
    Some(
        app.data
            .index
            .circuit(snap, &app.data.index.rows[*r as usize])
            .circuit
            .clone(),
    )
}

/// The rollback target of a circuit in words (last known good, else previous), or why there
/// is none. Reads the release history: worked out per snapshot, not per frame.
pub fn target_words(app: &App, circuit: &CircuitRef) -> Result<String, String> {
    let snap = app.snapshot().ok_or("no fleet data yet")?;
    let history = prod_history(snap, circuit, &app.settings.thresholds);
    choose_target(&history, TargetChoice::LastGood)
        .map(|e| format!("v{} (last known good)", e.version))
        .or_else(|_| {
            choose_target(&history, TargetChoice::Previous)
                .map(|e| format!("v{} (previous; not known good)", e.version))
        })
        .map_err(|e| e.to_string())
}

/// What `R` would do on a circuit, or why it cannot: shown before the key is pressed.
/// `target`: [`target_words`], when already worked out.
pub fn availability(
    app: &App,
    circuit: &CircuitRef,
    target: Option<&Result<String, String>>,
) -> Result<String, String> {
    if let Some(op) = in_flight_rollback(app, circuit) {
        return Err(format!(
            "a rollback to v{} is in flight ({})",
            target_of(op).map(|v| v.0).unwrap_or_default(),
            op.state.as_str()
        ));
    }
    if let Some(why) = rolling_back(app, circuit) {
        return Err(why);
    }
    let target = match target {
        Some(t) => t.clone()?,
        None => target_words(app, circuit)?,
    };
    let check = app.settings.policy.check_mutation();
    if !check.allowed() {
        return Err(format!(
            "{}; the plan can still be read",
            check.reasons().join("; ")
        ));
    }
    Ok(format!("to {target}"))
}

/// A rollback the fleet shows running for this circuit (from any console or the portal).
pub fn rolling_back(app: &App, circuit: &CircuitRef) -> Option<String> {
    app.data
        .index
        .position(circuit)
        .and_then(|p| app.data.index.rows.get(p as usize))
        .and_then(|r| r.activity.as_ref())
        .filter(|a| matches!(a, crate::index::Activity::RollingBack { .. }))
        .map(|a| format!("{} in Prod already", a.describe()))
}

pub fn target_of(op: &Operation) -> Option<ModelVersion> {
    match &op.kind {
        OpKind::Rollback { to, .. } => Some(*to),
        _ => None,
    }
}

pub fn in_flight_rollback<'a>(app: &'a App, circuit: &CircuitRef) -> Option<&'a Operation> {
    app.ops
        .in_flight()
        .find(|o| matches!(&o.kind, OpKind::Rollback { circuit: c, .. } if c == circuit))
}
