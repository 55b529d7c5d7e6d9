//! The training hash: the config fields that determine a model's training, hashed exactly as
//! the pipeline does — `md5(json.dumps(h, sort_keys=True).encode()).hexdigest()[:12]`, where
//! `h` takes every field with `dict.get` and its default, so a config missing any of them is
//! still hashed (and trained, and tagged) by the pipeline.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::pyjson::{PyJsonError, dumps_sorted};
use crate::yaml::{Mapping, Mark, Node, Value};

/// The keys of `h`, in the order the pipeline's dict literal names them.
pub const HASH_FIELDS: [&str; 5] = [
    "cutoff_date",
    "delta_version",
    "pipeline_component_version",
    "training_days",
    "hyperparameters",
];

/// `cfg.get("pipeline_component_version", "1.0.0")`.
pub const DEFAULT_PIPELINE_COMPONENT_VERSION: &str = "1.0.0";

/// What the pipeline hashes in place of an absent field: `cfg.get(field, default)`.
/// `cutoff_date`, `delta_version` and `training_days` default to `None` (JSON `null`),
/// `pipeline_component_version` to `"1.0.0"`, `hyperparameters` to `{}`.
pub fn pipeline_default(field: &str) -> Value {
    match field {
        "pipeline_component_version" => Value::Str(DEFAULT_PIPELINE_COMPONENT_VERSION.into()),
        "hyperparameters" => Value::Map(Mapping::new()),
        _ => Value::Null,
    }
}

/// Twelve lowercase hex digits: the first 48 bits of the md5.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrainingHash(String);

impl TrainingHash {
    pub const LEN: usize = 12;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of_json(json: &str) -> Self {
        let digest = Md5::digest(json.as_bytes());
        let mut hex = String::with_capacity(Self::LEN);
        for byte in &digest[..Self::LEN / 2] {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        TrainingHash(hex)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl FromStr for TrainingHash {
    type Err = String;

    /// Accepts the twelve hex digits in either case (surrounding whitespace ignored) and keeps
    /// them lowercase, as `hexdigest()` prints them.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.len() == Self::LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(TrainingHash(t.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{s}` is not a training hash (12 hex digits such as 4c206af59d45)"
            ))
        }
    }
}

impl fmt::Display for TrainingHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TrainingHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TrainingHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Why a config has no training hash (the pipeline would raise instead of hashing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error(
        "{path}: a {type_name} is not JSON serializable, so the pipeline cannot hash this config; \
         quote the value (e.g. '2025-11-01') to make it a string"
    )]
    NotSerializable {
        path: String,
        type_name: &'static str,
        mark: Option<Mark>,
    },
    #[error(
        "{path}: keys of types {left} and {right} cannot be sorted, so json.dumps(sort_keys=True) \
         fails; quote the keys to make them all strings"
    )]
    UnorderableKeys {
        path: String,
        left: &'static str,
        right: &'static str,
        mark: Option<Mark>,
    },
    #[error("{path}: a {type_name} key cannot be written as JSON; quote the key")]
    InvalidKey {
        path: String,
        type_name: &'static str,
        mark: Option<Mark>,
    },
}

impl HashError {
    /// Where the offending node starts in the config file, when known (for `file:line:col`).
    pub fn mark(&self) -> Option<Mark> {
        match self {
            HashError::NotSerializable { mark, .. }
            | HashError::UnorderableKeys { mark, .. }
            | HashError::InvalidKey { mark, .. } => *mark,
        }
    }
}

impl From<PyJsonError> for HashError {
    fn from(e: PyJsonError) -> Self {
        match e {
            PyJsonError::NotSerializable {
                path,
                type_name,
                mark,
            } => HashError::NotSerializable {
                path,
                type_name,
                mark,
            },
            PyJsonError::UnorderableKeys {
                path,
                left,
                right,
                mark,
            } => HashError::UnorderableKeys {
                path,
                left,
                right,
                mark,
            },
            PyJsonError::InvalidKey {
                path,
                type_name,
                mark,
            } => HashError::InvalidKey {
                path,
                type_name,
                mark,
            },
        }
    }
}

/// The pipeline's `h` dict, values as the config holds them (with their source marks), each
/// absent field replaced by the pipeline's default. Never fails: the pipeline does not either.
pub fn training_input(root: &Mapping) -> Value {
    let mut h = Mapping::new();
    for field in HASH_FIELDS {
        let value = root
            .get(field)
            .cloned()
            .unwrap_or_else(|| Node::detached(pipeline_default(field)));
        h.insert(Node::detached(Value::Str(field.to_string())), value);
    }
    Value::Map(h)
}

/// The hash fields this config does not have, in the pipeline's order: each is hashed as its
/// default, as the pipeline does, and worth a warning (a `training_days: null` model was
/// trained on whatever the training code does with no window).
pub fn missing_fields(root: &Mapping) -> Vec<&'static str> {
    HASH_FIELDS
        .into_iter()
        .filter(|f| root.get(f).is_none())
        .collect()
}

/// `json.dumps(h, sort_keys=True)`: the exact bytes that get hashed.
pub fn canonical_json(root: &Mapping) -> Result<String, HashError> {
    Ok(dumps_sorted(&training_input(root))?)
}

pub fn training_hash(root: &Mapping) -> Result<TrainingHash, HashError> {
    Ok(TrainingHash::of_json(&canonical_json(root)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    fn root(yaml: &str) -> Mapping {
        match load(yaml).map(|n| n.value) {
            Ok(Value::Map(m)) => m,
            other => panic!("{yaml:?} is not a mapping: {other:?}"),
        }
    }

    const SEED: &str = "cutoff_date: '2025-11-01'\ndelta_version: 1\npipeline_component_version: 1.0.0\n\
                        training_days: 365\nhyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  \
                        epochs: 50\n  batch_size: 32\n";

    #[test]
    fn seed_entry_hash() {
        let cfg = root(SEED);
        assert_eq!(
            canonical_json(&cfg).as_deref(),
            Ok(
                "{\"cutoff_date\": \"2025-11-01\", \"delta_version\": 1, \"hyperparameters\": {\"batch_size\": 32, \
                 \"epochs\": 50, \"learning_rate\": 0.001, \"lstm_units\": 64}, \"pipeline_component_version\": \
                 \"1.0.0\", \"training_days\": 365}"
            )
        );
        assert_eq!(
            training_hash(&cfg).map(|h| h.to_string()).as_deref(),
            Ok("4c206af59d45")
        );
    }

    #[test]
    fn defaults_and_explicit_nulls() {
        let cfg = root("cutoff_date: '2025-11-01'\ntraining_days: 365\n");
        assert_eq!(
            canonical_json(&cfg).as_deref(),
            Ok(
                "{\"cutoff_date\": \"2025-11-01\", \"delta_version\": null, \"hyperparameters\": {}, \
                \"pipeline_component_version\": \"1.0.0\", \"training_days\": 365}"
            )
        );
        // Present-but-null is used as is; it is not replaced by the default.
        let cfg = root(
            "cutoff_date: x\ntraining_days: 1\npipeline_component_version:\nhyperparameters: ~\n",
        );
        let json = canonical_json(&cfg).unwrap_or_default();
        assert!(
            json.contains("\"pipeline_component_version\": null"),
            "{json}"
        );
        assert!(json.contains("\"hyperparameters\": null"), "{json}");
    }

    #[test]
    fn every_missing_field_takes_the_pipeline_default() {
        let cfg = root("plant_id: PLANT001\n");
        assert_eq!(
            canonical_json(&cfg).as_deref(),
            Ok(
                "{\"cutoff_date\": null, \"delta_version\": null, \"hyperparameters\": {}, \
                 \"pipeline_component_version\": \"1.0.0\", \"training_days\": null}"
            )
        );
        assert_eq!(missing_fields(&cfg), HASH_FIELDS.to_vec());
        let cfg = root("cutoff_date: '2025-11-01'\n");
        assert!(training_hash(&cfg).is_ok());
        assert_eq!(
            missing_fields(&cfg),
            vec![
                "delta_version",
                "pipeline_component_version",
                "training_days",
                "hyperparameters"
            ]
        );
        // Present but null is not missing: it is hashed as the null it is.
        let cfg = root("cutoff_date: ~\ntraining_days:\n");
        assert_eq!(
            missing_fields(&cfg),
            vec![
                "delta_version",
                "pipeline_component_version",
                "hyperparameters"
            ]
        );
    }

    #[test]
    fn unquoted_date_is_not_serializable() {
        let cfg = root("training_days: 365\ncutoff_date: 2025-11-01\n");
        let Err(e) = training_hash(&cfg) else {
            panic!("a date hashed")
        };
        assert!(
            matches!(
                e,
                HashError::NotSerializable {
                    type_name: "date",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.mark(), Some(Mark { line: 2, col: 14 }));
        let message = e.to_string();
        assert!(message.starts_with("cutoff_date: "), "{message}");
        assert!(message.contains("quote"), "{message}");
    }

    #[test]
    fn training_hash_parses_and_serializes() {
        assert_eq!(
            "4C206AF59D45"
                .parse::<TrainingHash>()
                .map(|h| h.to_string()),
            Ok("4c206af59d45".to_string())
        );
        for bad in ["4c206af59d4", "4c206af59d45a", "4c206af59d4g", ""] {
            assert!(bad.parse::<TrainingHash>().is_err(), "{bad}");
        }
        let Ok(h) = "4c206af59d45".parse::<TrainingHash>() else {
            panic!("parse")
        };
        assert_eq!(
            serde_json::to_string(&h).ok().as_deref(),
            Some("\"4c206af59d45\"")
        );
        assert_eq!(
            serde_json::from_str::<TrainingHash>("\"4c206af59d45\"").ok(),
            Some(h)
        );
        assert!(serde_json::from_str::<TrainingHash>("\"nope\"").is_err());
    }
}
