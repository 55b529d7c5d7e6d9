//! Refreshing the fleet snapshot: the reads (`fanout`: a bounded fan-out of list calls and
//! three queries, what to read next decided by its planner), then `assemble`, a pipeline of
//! pure stages over what was read, each in a module of its own: inventory (plants, circuits,
//! versions per stage), lineage (model versions, training hash against config), monitoring
//! (drift, accuracy, validation as evidence), releases (history, approvals, what is in flight).
//! A failed read marks what it covers as unknown, with the reason, and makes the snapshot
//! incomplete; the rest of the fleet still shows.

#[cfg(test)]
pub(super) mod fixtures;
mod inventory;
mod lineage;
mod monitoring;
mod releases;
mod unread;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Context;
pub use super::fanout::{Known, Readings, read};
pub use super::models::{ModelBook, ModelEntry};
pub use super::releases::{FULL_RELEASE_READ_EVERY, ReleaseBook};
use crate::domain::PlantId;
use crate::domain::fleet::{FleetSnapshot, PlantSnapshot};
use inventory::{Circuits, Inventory};
pub use lineage::hash_of_config;
pub use monitoring::summarize_validation;
use unread::failed;

/// Build the snapshot from what was read, stage by stage. Pure: no IO, so it is tested with
/// plain records (each stage on its own, and the whole here). The monitoring reads' series
/// and runs move from `r` into the snapshot, the deployment lists are dropped once the
/// inventory has read them (the rest of `r` is left for the next `Known`). A snapshot that
/// keeps only what `relcon fleet` prints ([`Keep::Printed`](super::queries::Keep::Printed): no next refresh, no cache) drops
/// each reading as soon as its stage is done and lists no releases or approval items: at
/// 20,000 circuits the readings and the whole snapshot no longer peak together.
pub fn assemble(r: &mut Readings, ctx: &Context, now: DateTime<Utc>) -> FleetSnapshot {
    let printed_only = ctx.keep.printed_only();
    if printed_only {
        releases::keep_printed(r);
    }
    let Inventory {
        mut circuits,
        plant_names,
        mut errors,
    } = inventory::assemble(r, &ctx.naming);
    // Only the inventory reads the deployment lists and no book keeps them: they are not held
    // through the rest of the assembly, where the heap peaks (37 MB at 20,000 circuits).
    r.deployments = Vec::new();
    let lineage = lineage::assemble(&mut circuits, r, ctx);
    errors.extend(lineage.errors);
    if printed_only {
        // The model versions and configs feed the books and the cache, which a printed-only
        // run keeps neither of.
        r.registry_versions = Default::default();
        r.dev_versions = Default::default();
        r.configs = Default::default();
    }
    let env_only = releases::environment_only(r);
    errors.extend(monitoring::assemble(
        &mut circuits,
        r,
        &env_only,
        &ctx.thresholds,
    ));
    let mut releases = releases::assemble(&mut circuits, r, &lineage.builds, !printed_only);
    errors.extend(releases.errors);
    if ctx.keep.one_shot() {
        // No next refresh reads the release book, and the cache does not keep it.
        r.releases = None;
        r.approvals = None;
    }
    if printed_only {
        releases.approvals = Vec::new();
    }
    let identity = match &r.identity {
        Some(Ok(i)) => Some(i.clone()),
        Some(Err(e)) => {
            errors.push(failed("identity", e));
            None
        }
        None => None,
    };
    // Fired alerts and scoring jobs on their circuits (`service::incidents`).
    let alerts = super::incidents::assemble(&r.incidents, ctx, now, &mut circuits, &mut errors);
    if printed_only {
        r.incidents.jobs = Default::default();
    }
    FleetSnapshot {
        generated_at: now,
        backend: ctx.backend.clone(),
        identity,
        plants: plants(circuits, &plant_names),
        approvals: releases.approvals,
        releases: releases.releases,
        alerts,
        errors,
    }
}

/// The circuits by plant, each plant under its name (its id where no endpoint names it), each
/// circuit's unknowns sorted and said once.
fn plants(circuits: Circuits, names: &BTreeMap<PlantId, String>) -> Vec<PlantSnapshot> {
    let mut plants: BTreeMap<PlantId, PlantSnapshot> = BTreeMap::new();
    for (c, mut cs) in circuits {
        cs.unknown.sort();
        cs.unknown.dedup();
        plants
            .entry(c.plant.clone())
            .or_insert_with(|| PlantSnapshot {
                plant_id: c.plant.clone(),
                name: names
                    .get(&c.plant)
                    .cloned()
                    .unwrap_or_else(|| c.plant.to_string()),
                circuits: Vec::new(),
            })
            .circuits
            .push(cs);
    }
    plants.into_values().collect()
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
