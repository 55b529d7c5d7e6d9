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
