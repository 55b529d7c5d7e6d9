//! The `relcon fleet --json` document (docs/schemas/fleet.schema.json), written to stdout as it
//! is serialized rather than built whole first.
//!
//! At 20,000 circuits the document used to be a `serde_json::Value` tree of every circuit
//! (hundreds of bytes of map nodes per field) and then one pretty-printed `String` of it, both
//! held at once on top of the snapshot. Now the top of the document and each plant are
//! serialized straight from the snapshot, and each circuit is built as a small `Value` (the same
//! `circuit_json` the `circuit` command prints), written and dropped before the next: the
//! document costs one circuit's worth of memory, whatever the fleet's size.
//!
//! The bytes are those of the old document: serde_json's `Map` keeps its keys sorted (the
//! `preserve_order` feature is off), so every object written here lists its keys in that order
//! (`fleet_doc::tests` compares the two writers on the fixture and demo fleets).

use std::io::Write;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::domain::ModelVersion;
use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot, PlantSnapshot};

fn v(x: Option<ModelVersion>) -> Value {
    x.map(|v| json!(v.0)).unwrap_or(Value::Null)
}

/// One circuit as `fleet --json` and `circuit --json` show it.
pub fn circuit_json(c: &CircuitSnapshot) -> Value {
    json!({
        "circuit_id": c.circuit.circuit,
        "model_name": c.model_name,
        "description": c.description,
        "versions": {"dev": v(c.versions.dev), "registry": v(c.versions.registry), "test": v(c.versions.test), "prod": v(c.versions.prod)},
        "environment": {"test": c.environment.test, "prod": c.environment.prod},
        "training_hash": {"prod": c.lineage.prod, "config": c.lineage.config, "match": c.lineage.matches},
        "drift": {
            "status": c.drift.status,
            "worst": c.drift.worst.as_ref().map(|w| json!({"feature": w.feature, "metric": w.metric, "value": w.value, "threshold": w.threshold})),
        },
        "accuracy": {"status": c.accuracy.status, "mae": c.accuracy.latest},
        "validation": {
            "status": c.validation.status,
            "model_version": c.validation.run.as_ref().and_then(|r| r.model_version).map(|v| v.0),
            "metrics": c.validation.run.as_ref().map(|r| json!(r.metrics)),
        },
        "pending_approvals": c.pending_approvals,
        "active_release": c.active_release,
        "alerts": {
            "status": c.alerts.status(),
            "active": c.alerts.active,
            "new": c.alerts.new,
            "worst_severity": c.alerts.worst.map(|s| s.as_str()),
            "rule": c.alerts.rule,
            "fired_at": c.alerts.fired_at,
        },
        "jobs": {
            "status": c.jobs.status,
            "problem": c.jobs.problem,
            "last_run": c.jobs.last.as_ref().map(|l| json!({"name": l.name, "status": l.status.as_str(), "at": l.at})),
            "last_success": c.jobs.last_success,
            "read_at": c.jobs.read_at,
        },
        "health": c.health(),
        "unknown": c.unknown,
    })
}

/// The whole `fleet --json` document, `schema_version` and `command` included.
pub struct FleetDocument<'a> {
    pub snapshot: &'a FleetSnapshot,
    pub stale: bool,
    /// The command named in the document (`None` outside a JSON-mode run, as `output::document`).
    pub command: Option<&'a str>,
    pub schema_version: u32,
}

impl Serialize for FleetDocument<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.snapshot;
        // In the order a sorted map lists them.
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("backend", &s.backend)?;
        if let Some(command) = self.command {
            m.serialize_entry("command", command)?;
        }
        m.serialize_entry("complete", &(!self.stale && s.is_complete()))?;
        // Through `Value`: its keys come out sorted, as they always have.
        m.serialize_entry("errors", &json!(s.errors))?;
        m.serialize_entry("generated_at", &s.generated_at)?;
        m.serialize_entry(
            "identity",
            &s.identity.as_ref().map(|i| i.unique_name.as_str()),
        )?;
        m.serialize_entry("plants", &Plants(&s.plants))?;
        m.serialize_entry("schema_version", &self.schema_version)?;
        m.serialize_entry("stale", &self.stale)?;
        m.end()
    }
}

struct Plants<'a>(&'a [PlantSnapshot]);

impl Serialize for Plants<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            seq.serialize_element(&Plant(p))?;
        }
        seq.end()
    }
}

struct Plant<'a>(&'a PlantSnapshot);

impl Serialize for Plant<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("circuits", &Circuits(&p.circuits))?;
        m.serialize_entry("health", &p.health())?;
        m.serialize_entry("name", &p.name)?;
        m.serialize_entry("plant_id", &p.plant_id)?;
        m.end()
    }
}

struct Circuits<'a>(&'a [CircuitSnapshot]);

impl Serialize for Circuits<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            // One circuit's tree at a time, dropped once written.
            seq.serialize_element(&circuit_json(c))?;
        }
        seq.end()
    }
}

/// Write `doc` pretty-printed, then a newline, through a buffer: nothing of it is held whole.
pub fn write_pretty(out: impl Write, doc: &impl Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let mut ser = serde_json::Serializer::pretty(&mut out);
    doc.serialize(&mut ser).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
#[path = "fleet_doc_tests.rs"]
mod tests;
