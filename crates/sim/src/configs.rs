//! Circuit config files as the config repository holds them: the HEAD text of each circuit and
//! earlier versions described as overrides of it, written back out as block YAML that reads
//! (under YAML 1.1) to exactly the values it was made from.

use std::fmt::Write as _;

use crate::domain::hash::{TrainingHash, training_hash};
use crate::domain::pyjson::float_repr;
use crate::domain::yaml::{self, Mapping, Node, Value};

/// The comment every generated per-circuit file starts with.
pub const FILE_HEADER: &str =
    "# Generated from config/circuits.yaml \u{2014} edit the master, not this file.\n";

/// A config field an earlier version may differ in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A top-level key (`cutoff_date`, `delta_version`, ...).
    Top(&'static str),
    /// A key under `hyperparameters`.
    Hyper(String),
}

impl Field {
    pub fn name(&self) -> String {
        match self {
            Field::Top(k) => (*k).to_owned(),
            Field::Hyper(k) => format!("hyperparameters.{k}"),
        }
    }
}

/// How a config version differs from HEAD; later entries win.
pub type Overrides = Vec<(Field, Value)>;

/// Set `field` to `value` in `ov`, replacing an earlier override of the same field.
pub fn set(ov: &mut Overrides, field: Field, value: Value) {
    match ov.iter_mut().find(|(f, _)| *f == field) {
        Some(slot) => slot.1 = value,
        None => ov.push((field, value)),
    }
}

/// The value `field` has in `root` after `ov`.
pub fn get<'a>(root: &'a Mapping, ov: &'a Overrides, field: &Field) -> Option<&'a Value> {
    if let Some((_, v)) = ov.iter().rev().find(|(f, _)| f == field) {
        return Some(v);
    }
    match field {
        Field::Top(k) => root.get(k).map(|n| &n.value),
        Field::Hyper(k) => root
            .get("hyperparameters")
            .and_then(|h| h.value.as_map())
            .and_then(|h| h.get(k))
            .map(|n| &n.value),
    }
}

/// Apply overrides in place; a missing key is added at the end of its mapping.
pub fn apply(root: &mut Mapping, ov: &Overrides) {
    for (field, value) in ov {
        match field {
            Field::Top(k) => put(root, k, value.clone()),
            Field::Hyper(k) => {
                if !matches!(
                    root.get("hyperparameters").map(|n| &n.value),
                    Some(Value::Map(_))
                ) {
                    put(root, "hyperparameters", Value::Map(Mapping::new()));
                }
                if let Some(Node {
                    value: Value::Map(h),
                    ..
                }) = root.get_mut("hyperparameters")
                {
                    put(h, k, value.clone());
                }
            }
        }
    }
}

fn put(m: &mut Mapping, key: &str, value: Value) {
    match m.get_mut(key) {
        Some(node) => node.value = value,
        None => m.insert(
            Node::detached(Value::Str(key.to_owned())),
            Node::detached(value),
        ),
    }
}

/// The training hash of HEAD with `ov` applied.
pub fn variant_hash(root: &Mapping, ov: &Overrides) -> Option<TrainingHash> {
    let mut m = root.clone();
    apply(&mut m, ov);
    training_hash(&m).ok()
}

/// Parse a config file's text into its mapping.
pub fn parse(text: &str) -> Option<Mapping> {
    match yaml::load(text).ok()?.value {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

/// The file text of HEAD with `ov` applied (HEAD itself when `ov` is empty).
pub fn variant_text(head_text: &str, ov: &Overrides) -> Option<String> {
    if ov.is_empty() {
        return Some(head_text.to_owned());
    }
    let mut m = parse(head_text)?;
    apply(&mut m, ov);
    Some(file_text(&m))
}

/// A per-circuit file: the header comment and the mapping as block YAML.
pub fn file_text(root: &Mapping) -> String {
    let mut out = String::from(FILE_HEADER);
    emit_map(&mut out, root, 0);
    out
}

/// Block YAML for a mapping, 2-space indent, lists at the key's indent (the seed's style).
pub fn emit_map(out: &mut String, m: &Mapping, indent: usize) {
    let pad = " ".repeat(indent);
    for (k, v) in m.iter() {
        let key = scalar(&k.value);
        match &v.value {
            Value::Map(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                emit_map(out, inner, indent + 2);
            }
            Value::Seq(items) if !items.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                for item in items {
                    let _ = writeln!(out, "{pad}- {}", scalar(&item.value));
                }
            }
            other => {
                let _ = writeln!(out, "{pad}{key}: {}", scalar(other));
            }
        }
    }
}

/// One value in flow form. Floats keep a dot before any exponent: YAML 1.1 reads `1e-05` as a
/// string, which would change the training hash.
fn scalar(v: &Value) -> String {
    match v {
        Value::Float(x) if x.is_finite() => {
            let r = float_repr(*x);
            match r.find('e') {
                Some(at) if !r[..at].contains('.') => format!("{}.0{}", &r[..at], &r[at..]),
                _ => r,
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::ConfigDocument;

    const DEMO: &str = include_str!("../../../configs/fleet/circuits.yaml");

    #[test]
    fn every_demo_circuit_round_trips_with_its_hash() {
        let Ok(ConfigDocument::Master { entries, .. }) = ConfigDocument::parse(DEMO) else {
            panic!("demo fleet is not a master list");
        };
        assert_eq!(entries.len(), 130);
        for e in &entries {
            let Value::Map(m) = &e.value else {
                panic!("entry is not a mapping")
            };
            let text = file_text(m);
            let back = parse(&text).unwrap_or_default();
            assert_eq!(training_hash(&back), training_hash(m), "{text}");
            assert!(
                crate::domain::diff::ConfigDiff::between(m, &back).is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn floats_keep_their_type_and_overrides_apply() {
        let head = "cutoff_date: '2025-11-01'\ntraining_days: 365\nhyperparameters:\n  learning_rate: 0.001\n";
        let mut ov = Overrides::new();
        set(
            &mut ov,
            Field::Hyper("l2_regularization".into()),
            Value::Float(1e-5),
        );
        set(
            &mut ov,
            Field::Top("cutoff_date"),
            Value::Str("2025-08-01".into()),
        );
        set(
            &mut ov,
            Field::Top("cutoff_date"),
            Value::Str("2025-09-01".into()),
        );
        set(&mut ov, Field::Top("delta_version"), Value::Int(4));
        let text = variant_text(head, &ov).unwrap_or_default();
        assert!(text.contains("  l2_regularization: 1.0e-05\n"), "{text}");
        assert!(text.contains("cutoff_date: '2025-09-01'\n"), "{text}");
        assert!(text.contains("delta_version: 4\n"), "{text}");
        let back = parse(&text).unwrap_or_default();
        let head_map = parse(head).unwrap_or_default();
        assert_eq!(
            training_hash(&back).ok(),
            variant_hash(&head_map, &ov),
            "{text}"
        );
        assert_eq!(
            get(&head_map, &ov, &Field::Hyper("l2_regularization".into())),
            Some(&Value::Float(1e-5))
        );
        assert_eq!(
            get(&head_map, &Overrides::new(), &Field::Top("training_days")),
            Some(&Value::Int(365))
        );
    }
}
