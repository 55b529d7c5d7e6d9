//! The reference vectors made by the pipeline's Python: every config must give the same
//! canonical JSON and training hash, byte for byte.

use relcon::domain::hash::{canonical_json, training_hash};
use relcon::domain::yaml::{Value, load};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    yaml: String,
    canonical_json: String,
    training_hash: String,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/training-hash.json");
    let text = std::fs::read_to_string(path).expect("read training-hash.json");
    serde_json::from_str::<Vectors>(&text)
        .expect("parse training-hash.json")
        .vectors
}

#[test]
fn every_vector_matches_the_python_reference() {
    let vectors = vectors();
    assert!(
        vectors.len() >= 16,
        "expected the full vector set, got {}",
        vectors.len()
    );
    let mut failures = Vec::new();
    for v in &vectors {
        let root = match load(&v.yaml).map(|n| n.value) {
            Ok(Value::Map(m)) => m,
            other => {
                failures.push(format!("{}: not a mapping: {other:?}", v.name));
                continue;
            }
        };
        match canonical_json(&root) {
            Ok(json) if json == v.canonical_json => {}
            other => failures.push(format!(
                "{}: canonical json {other:?}\n  want {}",
                v.name, v.canonical_json
            )),
        }
        match training_hash(&root) {
            Ok(hash) if hash.as_str() == v.training_hash => {}
            other => failures.push(format!(
                "{}: hash {other:?}, want {}",
                v.name, v.training_hash
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn hash_is_stable_when_parsed_back_from_its_own_text() {
    for v in vectors() {
        let parsed: relcon::domain::hash::TrainingHash =
            v.training_hash.parse().expect("vector hash parses");
        assert_eq!(parsed.to_string(), v.training_hash, "{}", v.name);
    }
}

#[derive(Deserialize)]
struct MissingVectors {
    vectors: Vec<MissingVector>,
}

#[derive(Deserialize)]
struct MissingVector {
    name: String,
    yaml: String,
    missing_fields: Vec<String>,
    canonical_json: String,
    training_hash: String,
}

/// Configs lacking hash fields, hashed by the pipeline's own function
/// (`tests/data/gen_training_hash_missing.py`): relcon hashes them the same way, in `hash` and
/// in the lineage check, and names what was missing.
#[test]
fn configs_missing_hash_fields_hash_as_the_pipeline_does() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/training-hash-missing.json"
    );
    let text = std::fs::read_to_string(path).expect("read training-hash-missing.json");
    let vectors = serde_json::from_str::<MissingVectors>(&text)
        .expect("parse training-hash-missing.json")
        .vectors;
    // Each field alone, the combinations and the explicit nulls.
    assert!(vectors.len() >= 32, "only {} vectors", vectors.len());
    for field in relcon::domain::hash::HASH_FIELDS {
        assert!(
            vectors.iter().any(|v| v.missing_fields == [field]),
            "no vector misses only {field}"
        );
    }
    let mut failures = Vec::new();
    for v in &vectors {
        let Ok(Value::Map(root)) = load(&v.yaml).map(|n| n.value) else {
            failures.push(format!("{}: not a mapping", v.name));
            continue;
        };
        match canonical_json(&root) {
            Ok(json) if json == v.canonical_json => {}
            other => failures.push(format!(
                "{}: canonical json {other:?}\n  want {}",
                v.name, v.canonical_json
            )),
        }
        match training_hash(&root) {
            Ok(hash) if hash.as_str() == v.training_hash => {}
            other => failures.push(format!(
                "{}: hash {other:?}, want {}",
                v.name, v.training_hash
            )),
        }
        // The lineage check (snapshot and evidence) recomputes from the config text the same.
        let lineage = relcon::service::snapshot::hash_of_config(&v.yaml).map(|h| h.to_string());
        if lineage.as_deref() != Some(v.training_hash.as_str()) {
            failures.push(format!(
                "{}: lineage recomputes {lineage:?}, want {}",
                v.name, v.training_hash
            ));
        }
        let missing = relcon::domain::hash::missing_fields(&root);
        if missing != v.missing_fields {
            failures.push(format!(
                "{}: missing {missing:?}, want {:?}",
                v.name, v.missing_fields
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
