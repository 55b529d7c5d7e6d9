//! Errors a user sees: located YAML syntax errors, and configs the pipeline cannot hash.

use relcon::domain::hash::{HashError, canonical_json, training_hash};
use relcon::domain::yaml::{Mapping, Mark, Value, load};

fn load_err(text: &str) -> (u32, u32, String) {
    match load(text) {
        Ok(node) => panic!("{text:?} loaded as {}", node.value),
        Err(e) => (e.line, e.col, e.message),
    }
}

fn config(text: &str) -> Mapping {
    match load(text).map(|n| n.value) {
        Ok(Value::Map(m)) => m,
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn syntax_errors_are_located_like_pyyaml() {
    // (text, line, col, words in the message); positions agree with PyYAML's problem marks.
    let cases = [
        ("a:\n  b: 1\n c: 2\n", 3, 2, "block mapping"),
        ("a: [1, 2\n", 2, 1, "flow sequence"),
        ("a: 1\na: b: c\n", 2, 5, "mapping values are not allowed"),
        (
            "key: value\n  bad: indent\n",
            2,
            6,
            "mapping values are not allowed",
        ),
        ("x:\n  - 1\n  y: 2\n", 3, 3, "block collection"),
        ("a: {b: 1\nc: 2\n", 2, 2, "flow mapping"),
        ("- a\nb: 1\n", 2, 1, "block collection"),
    ];
    for (text, line, col, words) in cases {
        let (l, c, message) = load_err(text);
        assert_eq!((l, c), (line, col), "{text:?}: {message}");
        assert!(message.contains(words), "{text:?}: {message}");
    }
}

#[test]
fn pyyaml_specific_refusals_are_located() {
    let cases = [
        ("a: 1\nb: x\t\n", 2, 5, "tab"),
        (
            "cutoff_date: '2025-11-01'\nx: &a 1\ny: &a 2\n",
            3,
            4,
            "duplicate anchor &a",
        ),
        ("a: 1\n---\nb: 2\n", 2, 1, "single document"),
        ("hp:\n  lr: !!python/float 1e-3\n", 2, 7, "!!python/float"),
        ("hp:\n  lr: =\n", 2, 7, "!!value"),
        ("training_days: 0x_\n", 1, 16, "base 16"),
        (
            "training_days: 99999999999999999999999999999999999999999\n",
            1,
            16,
            "out of range",
        ),
        ("d: 2025-02-30\n", 1, 4, "day is out of range"),
        ("m:\n  <<: [1]\n", 2, 8, "expected a mapping for merging"),
        ("v: \"a\u{2028}b\"\n", 1, 6, "U+2028"),
        ("v: [a?b]\n", 1, 5, "'?'"),
    ];
    for (text, line, col, words) in cases {
        let (l, c, message) = load_err(text);
        assert_eq!((l, c), (line, col), "{text:?}: {message}");
        assert!(message.contains(words), "{text:?}: {message}");
    }
}

#[test]
fn error_display_is_line_col_message() {
    let Err(e) = load("a: [1, 2\n") else {
        panic!("loaded")
    };
    assert_eq!(e.to_string(), format!("2:1: {}", e.message));
    assert_eq!(e.mark(), Mark { line: 2, col: 1 });
}

#[test]
fn unquoted_cutoff_date_is_not_serializable() {
    let cfg = config("plant_id: PLANT001\ncutoff_date: 2025-11-01\ntraining_days: 365\n");
    let err = training_hash(&cfg).expect_err("a date cannot be hashed");
    match &err {
        HashError::NotSerializable {
            path,
            type_name,
            mark,
        } => {
            assert_eq!(path, "cutoff_date");
            assert_eq!(*type_name, "date");
            assert_eq!(*mark, Some(Mark { line: 2, col: 14 }));
        }
        other => panic!("wrong error: {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("not JSON serializable"), "{message}");
    assert!(message.contains("quote"), "{message}");
    assert_eq!(canonical_json(&cfg), Err(err));
    // Quoted, the same date is a string and hashes.
    let quoted = config("cutoff_date: '2025-11-01'\ntraining_days: 365\n");
    assert!(training_hash(&quoted).is_ok());
}

#[test]
fn nested_dates_and_timestamps_name_their_path() {
    let cfg = config(
        "cutoff_date: '2025-11-01'\ntraining_days: 365\nhyperparameters:\n  windows:\n    - 2025-01-01 10:00:00\n",
    );
    let err = training_hash(&cfg).expect_err("a datetime cannot be hashed");
    assert!(
        matches!(&err, HashError::NotSerializable { path, type_name: "datetime", .. } if path == "hyperparameters.windows[0]"),
        "{err:?}"
    );
    assert_eq!(err.mark(), Some(Mark { line: 5, col: 7 }));
    // Outside the hashed fields a date is harmless.
    let cfg = config("cutoff_date: '2025-11-01'\ntraining_days: 365\nreleased: 2025-01-01\n");
    assert!(training_hash(&cfg).is_ok());
}

#[test]
fn mixed_key_types_cannot_be_sorted() {
    let cfg = config("cutoff_date: x\ntraining_days: 1\nhyperparameters:\n  1: a\n  b: c\n");
    let err = training_hash(&cfg).expect_err("json.dumps(sort_keys=True) raises TypeError");
    assert!(
        matches!(&err, HashError::UnorderableKeys { path, .. } if path == "hyperparameters"),
        "{err:?}"
    );
    // Numeric and bool keys sort together and are stringified, as in Python.
    let cfg =
        config("cutoff_date: x\ntraining_days: 1\nhyperparameters:\n  2: a\n  on: b\n  1.5: c\n");
    let json = canonical_json(&cfg).expect("numeric keys sort");
    assert!(
        json.contains(r#""hyperparameters": {"true": "b", "1.5": "c", "2": "a"}"#),
        "{json}"
    );
}
