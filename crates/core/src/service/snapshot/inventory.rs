//! The inventory stage of a snapshot: which plants and circuits there are and what each stage
//! runs: Dev's and the registry's newest model version (model containers, and the registry's
//! version lists where they know a newer one), Test's and Prod's model and environment (the
//! deployments of each plant's endpoint), and the plants' names (endpoint tags).

use std::collections::BTreeMap;

use super::unread::{Unread, failed};
use crate::domain::fleet::{CircuitSnapshot, SnapshotError};
use crate::domain::platform::{Deployment, ModelContainer};
use crate::domain::{CircuitRef, ModelVersion, PlantId, Stage};
use crate::service::fanout::Readings;
use crate::settings::Naming;

/// The circuits of a snapshot being assembled, in order.
pub(super) type Circuits = BTreeMap<CircuitRef, CircuitSnapshot>;

/// Every circuit the platform shows, with its versions per stage; what could not be read is
/// marked on the circuits it covers and listed in `errors`.
#[derive(Debug, Default)]
pub(super) struct Inventory {
    pub circuits: Circuits,
    pub plant_names: BTreeMap<PlantId, String>,
    pub errors: Vec<SnapshotError>,
}

/// Reads `endpoints`, `deployments`, `dev_containers`, `registry_containers` and
/// `registry_versions` (for the registry's newest version only).
pub(super) fn assemble(r: &Readings, naming: &Naming) -> Inventory {
    let mut inv = Inventory::default();
    let mut unread = Vec::new();
    for (stage, endpoints) in &r.endpoints {
        match endpoints {
            Ok(endpoints) => {
                for e in endpoints {
                    if let Some((Some(p), _)) = naming.endpoint.parse(&e.name)
                        && let Some(name) = e.plant_name.as_ref().filter(|n| !n.is_empty())
                    {
                        inv.plant_names.entry(p).or_insert_with(|| name.clone());
                    }
                }
            }
            Err(e) => {
                inv.errors.push(failed(format!("{stage} endpoints"), e));
                unread.push(Unread::Stage(
                    *stage,
                    format!("{stage} endpoints could not be read"),
                ));
            }
        }
    }
    for (stage, endpoint, deployments) in &r.deployments {
        match deployments {
            Ok(deployments) => deployed(&mut inv.circuits, *stage, endpoint, deployments, naming),
            Err(e) => {
                inv.errors
                    .push(failed(format!("{stage} deployments of {endpoint}"), e));
                if let Some((Some(plant), _)) = naming.endpoint.parse(endpoint) {
                    unread.push(Unread::Plant(
                        plant,
                        format!("{stage} deployments of {endpoint} could not be read"),
                    ));
                }
            }
        }
    }
    for (stage, containers) in [
        (Stage::Dev, &r.dev_containers),
        (Stage::Registry, &r.registry_containers),
    ] {
        let place = if stage == Stage::Dev {
            "Dev"
        } else {
            "registry"
        };
        match containers {
            Some(Ok(containers)) => registered(&mut inv.circuits, stage, containers, naming),
            Some(Err(e)) => {
                inv.errors
                    .push(failed(format!("{place} model containers"), e));
                unread.push(Unread::Stage(
                    stage,
                    format!("{place} models could not be read"),
                ));
            }
            None => {}
        }
    }
    // A container's `latestVersion` can lag its version list: the newest listed counts.
    for cs in inv.circuits.values_mut() {
        if let Some(Ok(versions)) = r.registry_versions.get(&cs.model_name)
            && let Some(newest) = versions.iter().map(|v| v.version).max()
        {
            cs.versions.registry = cs.versions.registry.max(Some(newest));
        }
    }
    for cs in inv.circuits.values_mut() {
        for u in &unread {
            u.mark(cs);
        }
    }
    inv
}

/// The circuit, added to the inventory when it is not there yet.
fn circuit<'a>(
    circuits: &'a mut Circuits,
    c: &CircuitRef,
    naming: &Naming,
) -> &'a mut CircuitSnapshot {
    circuits
        .entry(c.clone())
        .or_insert_with(|| CircuitSnapshot::new(c.clone(), naming.model(c)))
}

/// What the deployments of one endpoint run: a circuit by the deployment's name under its
/// plant's endpoint, or else by its model's name.
fn deployed(
    circuits: &mut Circuits,
    stage: Stage,
    endpoint: &str,
    deployments: &[Deployment],
    naming: &Naming,
) {
    let plant = naming.endpoint.parse(endpoint).and_then(|(p, _)| p);
    for d in deployments {
        let by_name = match (&plant, naming.deployment.parse(&d.name)) {
            (Some(p), Some((_, Some(c)))) => Some(CircuitRef::new(p.clone(), c)),
            _ => None,
        };
        let Some(c) = by_name.or_else(|| {
            d.model
                .as_ref()
                .and_then(|m| naming.model.parse_circuit(&m.name))
        }) else {
            continue;
        };
        let cs = circuit(circuits, &c, naming);
        if !d.description.is_empty() && cs.description.is_empty() {
            cs.description = d.description.clone();
        }
        let version = d.model.as_ref().map(|m| m.version);
        let environment = d.environment.as_ref().map(|e| e.version.clone());
        match stage {
            Stage::Test => {
                cs.versions.test = version;
                cs.environment.test = environment;
            }
            Stage::Prod => {
                cs.versions.prod = version;
                cs.environment.prod = environment;
            }
            Stage::Dev | Stage::Registry => {}
        }
    }
}

/// The newest version of each model in Dev or the registry.
fn registered(
    circuits: &mut Circuits,
    stage: Stage,
    containers: &[ModelContainer],
    naming: &Naming,
) {
    for container in containers {
        if let Some(c) = naming.model.parse_circuit(&container.name) {
            let versions = &mut circuit(circuits, &c, naming).versions;
            let newest: Option<ModelVersion> = container.latest_version;
            match stage {
                Stage::Dev => versions.dev = newest,
                Stage::Registry => versions.registry = newest,
                Stage::Test | Stage::Prod => {}
            }
        }
    }
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
