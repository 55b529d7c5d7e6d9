//! `float_repr` and the JSON encoder against Python: a corpus of reprs made by CPython
//! (`tests/data/float-repr-cases.json`) and properties that must hold for every input.

use proptest::prelude::*;
use relcon::domain::pyjson::{dumps_sorted, float_repr};
use relcon::domain::yaml::Value;
use serde::Deserialize;

#[derive(Deserialize)]
struct Corpus {
    cases: Vec<FloatCase>,
}

#[derive(Deserialize)]
struct FloatCase {
    bits: String,
    repr: String,
}

#[test]
fn float_repr_matches_cpython_corpus() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/float-repr-cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read float-repr-cases.json");
    let corpus: Corpus = serde_json::from_str(&text).expect("parse float-repr-cases.json");
    assert!(corpus.cases.len() >= 3000);
    let failures: Vec<String> = corpus
        .cases
        .iter()
        .filter_map(|c| {
            let bits = u64::from_str_radix(&c.bits, 16).expect("hex bits");
            let got = float_repr(f64::from_bits(bits));
            (got != c.repr).then(|| format!("{}: got {got}, Python {}", c.bits, c.repr))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The decimal exponent of a finite non-zero float, from Rust's shortest scientific form.
fn decimal_exponent(f: f64) -> i32 {
    let sci = format!("{f:e}");
    sci.split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .expect("an exponent")
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |f| f.is_finite()),
        (-1e6f64..1e6).prop_map(|x| x),
        (1u32..1_000_000, -30i32..30).prop_map(|(m, e)| f64::from(m) * 10f64.powi(e)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn float_repr_round_trips(f in finite()) {
        let text = float_repr(f);
        let back: f64 = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back.to_bits(), f.to_bits(), "{}", text);
    }

    #[test]
    fn float_repr_switches_to_scientific_like_python(f in finite().prop_filter("non-zero", |f| *f != 0.0)) {
        let text = float_repr(f);
        let exponent = decimal_exponent(f);
        let scientific = !(-4..16).contains(&exponent);
        prop_assert_eq!(text.contains('e'), scientific, "{} (exponent {})", text, exponent);
        if scientific {
            // A signed exponent of at least two digits: 1e-05, 1.5e+300.
            let (_, exp) = text.split_once('e').unwrap_or_default();
            prop_assert!(exp.starts_with(['+', '-']) && exp.len() >= 3, "{}", text);
            prop_assert_eq!(exp.parse::<i32>().ok(), Some(exponent), "{}", text);
        } else {
            prop_assert!(text.contains('.'), "{} must look like a float", text);
        }
    }

    #[test]
    fn json_strings_are_ascii_and_read_back(s in any::<String>()) {
        let json = dumps_sorted(&Value::Str(s.clone())).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(json.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", json);
        let back: String = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, s);
    }
}
