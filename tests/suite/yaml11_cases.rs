//! relcon's loader against PyYAML 6 `safe_load` on generated cases (see
//! `tests/data/gen_yaml11_cases.py`): same values with the same Python types and dict order,
//! same `json.dumps(sort_keys=True)` text, and an error wherever PyYAML raises.

use relcon::domain::pyjson::dumps_sorted;
use relcon::domain::yaml::{Node, Value, YamlError, load};
use serde::Deserialize;
use serde_json::{Value as Json, json};

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    yaml: String,
    /// `Some(Json::Null)` when PyYAML loaded `None`; `None` when it raised.
    #[serde(default, deserialize_with = "present")]
    value: Option<Json>,
    json: Option<String>,
    json_error: Option<String>,
    error: Option<String>,
    line: Option<u32>,
    col: Option<u32>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// Where relcon refuses on purpose what `safe_load` accepts (see `yaml::load`'s docs): Python
/// types relcon does not model, integers beyond 128 bits, recursive data, and YAML 1.1 line
/// breaks or flow-context `?` that a YAML 1.2 parser would read differently, and surrogate
/// escapes (`"\ud800"`), which make strings a Rust `String` cannot hold.
const DELIBERATE: [&str; 9] = [
    "scalar 99999999999999999999999999999999999999999",
    "binary tag",
    "set tag",
    "omap tag",
    "recursive alias",
    "line separator",
    "question starting flow item",
    "lone surrogate escape",
    "surrogate pair escapes",
];

/// saphyr (YAML 1.2) is stricter than PyYAML in a few corners, so relcon refuses some documents
/// PyYAML loads; refusing is safe (no hash is computed that the pipeline would not compute).
/// These messages are the only refusals accepted for documents PyYAML loads.
const STRICTER: [&str; 2] = [
    // A continuation line of a multi-line quoted scalar not indented past its parent.
    "invalid indentation in quoted scalar",
    // `{a:[1]}`: a flow value starting right after `:` with no space.
    "may not precede any of `[{`",
];

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/yaml11-cases.json");
    let text = std::fs::read_to_string(path).expect("read yaml11-cases.json");
    serde_json::from_str::<Cases>(&text)
        .expect("parse yaml11-cases.json")
        .cases
}

/// The generator's typed encoding of a Python value.
fn typed(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!({ "int": i.to_string() }),
        Value::Float(f) => json!({ "float": relcon::domain::pyjson::float_repr(*f) }),
        Value::Str(s) => json!(s),
        Value::Date(d) => json!({ "date": d.format("%Y-%m-%d").to_string() }),
        Value::Timestamp(_) => json!({ "timestamp": isoformat(v) }),
        Value::Seq(items) => Json::Array(items.iter().map(|n| typed(&n.value)).collect()),
        Value::Map(m) => {
            json!({ "map": m.iter().map(|(k, v)| json!([typed(&k.value), typed(&v.value)])).collect::<Vec<_>>() })
        }
    }
}

/// Python's `datetime.isoformat()`.
fn isoformat(v: &Value) -> String {
    let Some((at, offset)) = v.as_datetime() else {
        return format!("unparsable timestamp {v}");
    };
    let mut out = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = at.and_utc().timestamp_subsec_micros();
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(offset) = offset {
        let secs = offset.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        out.push_str(&format!(
            "{sign}{:02}:{:02}",
            secs.abs() / 3600,
            secs.abs() % 3600 / 60
        ));
    }
    out
}

fn check(case: &Case, loaded: &Result<Node, YamlError>) -> Result<(), String> {
    if DELIBERATE.contains(&case.name.as_str()) {
        return match loaded {
            Err(e) if e.line > 0 && !e.message.is_empty() => Ok(()),
            other => Err(format!(
                "expected a deliberate, located refusal, got {other:?}"
            )),
        };
    }
    let fuzz = case.name.starts_with("doc-fuzz");
    match (loaded, &case.error) {
        (Err(e), Some(kind)) => {
            // Constructor and composer errors point at a node both loaders agree on; scanner and
            // parser errors come from different parsers and may be located differently. In the
            // fuzzed documents the first error found may be a different one.
            let located = !fuzz && matches!(kind.as_str(), "ConstructorError" | "ComposerError");
            match (case.line, case.col) {
                (Some(line), Some(col)) if located && (e.line, e.col) != (line, col) => {
                    Err(format!(
                        "error at {}:{}, PyYAML {kind} at {line}:{col}: {e}",
                        e.line, e.col
                    ))
                }
                _ => Ok(()),
            }
        }
        (Err(e), None) if fuzz && STRICTER.iter().any(|m| e.message.contains(m)) => Ok(()),
        (Err(e), None) => Err(format!(
            "relcon failed ({e}), PyYAML loaded {:?}",
            case.value
        )),
        (Ok(node), Some(kind)) => Err(format!(
            "relcon loaded {}, PyYAML raised {kind}",
            node.value
        )),
        (Ok(node), None) => {
            let got = typed(&node.value);
            if Some(&got) != case.value.as_ref() {
                return Err(format!("value {got}\n     want {:?}", case.value));
            }
            match (dumps_sorted(&node.value), &case.json, &case.json_error) {
                (Ok(text), Some(want), _) if &text == want => Ok(()),
                (Err(_), None, Some(_)) => Ok(()),
                (got, want, want_err) => Err(format!("json {got:?}, want {want:?} / {want_err:?}")),
            }
        }
    }
}

#[test]
fn loader_matches_pyyaml_safe_load() {
    let cases = cases();
    assert!(
        cases.len() > 2000,
        "generated cases missing: {}",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            check(case, &load(&case.yaml))
                .err()
                .map(|why| format!("{} {:?}: {why}", case.name, case.yaml))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // The comparison is not vacuous: most documents load on both sides, and relcon's
    // stricter refusals stay rare.
    let compared = cases
        .iter()
        .filter(|c| c.error.is_none() && load(&c.yaml).is_ok())
        .count();
    let refused = cases
        .iter()
        .filter(|c| c.error.is_none() && load(&c.yaml).is_err())
        .count();
    let errors = cases.iter().filter(|c| c.error.is_some()).count();
    assert!(compared > 2500, "only {compared} documents compared");
    assert!(errors > 500, "only {errors} error cases");
    assert!(
        refused <= 20,
        "{refused} documents PyYAML loads are refused"
    );
}

#[test]
fn cases_cover_the_required_scalars() {
    let cases = cases();
    let required = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "TRUE",
        "1e-4",
        "1.0e-4",
        "1.5e3",
        "1.5e+3",
        "1.5E+3",
        ".5",
        "1.",
        "-.inf",
        ".NaN",
        "1_000",
        "1_0.5",
        "0x_ff",
        "0b101",
        "017",
        "09",
        "0o17",
        "+12",
        "-0",
        "0",
        "1:30",
        "-1:30",
        "190:20:30.15",
        "~",
        "null",
        "Null",
        "2025-11-01",
        "2025-11-01T10:00:00Z",
        "=",
        "<<",
    ];
    for s in required {
        let name = format!("scalar {s}");
        assert!(cases.iter().any(|c| c.name == name), "no case for {s}");
    }
    // Spot checks that the data says what the brief says PyYAML does.
    let value_of = |s: &str| {
        let name = format!("scalar {s}");
        cases
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.value.clone())
    };
    assert_eq!(value_of("1e-4"), Some(json!({"map": [["v", "1e-4"]]})));
    assert_eq!(
        value_of("017"),
        Some(json!({"map": [["v", {"int": "15"}]]}))
    );
    assert_eq!(value_of("y"), Some(json!({"map": [["v", "y"]]})));
}
