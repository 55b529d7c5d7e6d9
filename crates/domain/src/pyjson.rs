//! Python's `json.dumps(obj, sort_keys=True)` with default arguments, reproduced byte for byte
//! over YAML values: `", "`/`": "` separators, `ensure_ascii` escaping and `float.__repr__`.

use std::cmp::Ordering;
use std::fmt::Write as _;

use crate::yaml::{Mark, Node, Value, numeric_cmp};

/// What makes `json.dumps` raise (a `TypeError` in Python).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PyJsonError {
    #[error(
        "{path}: Object of type {type_name} is not JSON serializable; quote the value in the YAML \
         (e.g. '2025-11-01') so the pipeline reads it as a string"
    )]
    NotSerializable {
        path: String,
        type_name: &'static str,
        mark: Option<Mark>,
    },
    #[error(
        "{path}: keys of types {left} and {right} cannot be sorted ('<' not supported), so \
         json.dumps(sort_keys=True) fails; quote the keys to make them all strings"
    )]
    UnorderableKeys {
        path: String,
        left: &'static str,
        right: &'static str,
        mark: Option<Mark>,
    },
    #[error("{path}: keys must be str, int, float, bool or None, not {type_name}; quote the key")]
    InvalidKey {
        path: String,
        type_name: &'static str,
        mark: Option<Mark>,
    },
}

impl PyJsonError {
    /// Where the offending node starts in the YAML, when it came from a file.
    pub fn mark(&self) -> Option<Mark> {
        match self {
            PyJsonError::NotSerializable { mark, .. }
            | PyJsonError::UnorderableKeys { mark, .. }
            | PyJsonError::InvalidKey { mark, .. } => *mark,
        }
    }

    /// The key path of the offending value, e.g. `hyperparameters.start` or `features[2]`.
    pub fn path(&self) -> &str {
        match self {
            PyJsonError::NotSerializable { path, .. }
            | PyJsonError::UnorderableKeys { path, .. }
            | PyJsonError::InvalidKey { path, .. } => path,
        }
    }
}

/// `json.dumps(v, sort_keys=True)`.
pub fn dumps_sorted(v: &Value) -> Result<String, PyJsonError> {
    let mut out = String::new();
    encode(v, None, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// One step of a key path.
enum Step {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    if out.is_empty() {
        "(top level)".to_string()
    } else {
        out
    }
}

fn known(mark: Option<Mark>) -> Option<Mark> {
    mark.filter(Mark::is_known)
}

/// The Python type name `json` puts in its messages.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Timestamp(_) => "datetime",
        Value::Seq(_) => "list",
        Value::Map(_) => "dict",
        other => other.type_name(),
    }
}

fn encode(
    v: &Value,
    mark: Option<Mark>,
    path: &mut Vec<Step>,
    out: &mut String,
) -> Result<(), PyJsonError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::Str(s) => encode_str(s, out),
        Value::Date(_) | Value::Timestamp(_) => {
            return Err(PyJsonError::NotSerializable {
                path: render_path(path),
                type_name: python_type(v),
                mark: known(mark),
            });
        }
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                path.push(Step::Index(i));
                encode(&item.value, Some(item.mark), path, out)?;
                path.pop();
            }
            out.push(']');
        }
        Value::Map(map) => {
            let mut items: Vec<(&Node, &Node)> = map.iter().collect();
            sort_items(&mut items).map_err(|(left, right)| PyJsonError::UnorderableKeys {
                path: render_path(path),
                left: python_type(&left.value),
                right: python_type(&right.value),
                mark: known(Some(left.mark)).or(known(mark)),
            })?;
            out.push('{');
            for (i, (key, value)) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let key_text = key_string(&key.value).ok_or_else(|| PyJsonError::InvalidKey {
                    path: render_path(path),
                    type_name: python_type(&key.value),
                    mark: known(Some(key.mark)),
                })?;
                encode_str(&key_text, out);
                out.push_str(": ");
                path.push(Step::Key(key_text));
                encode(&value.value, Some(value.mark), path, out)?;
                path.pop();
            }
            out.push('}');
        }
    }
    Ok(())
}

/// How the encoder turns a dict key into a string (after sorting by the original keys).
fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Float(f) => Some(json_float(*f)),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        float_repr(f)
    }
}

/// Python's `a < b` for dict keys; `Err` is the `TypeError` for types that do not compare.
fn py_less<'a>(a: &'a Node, b: &'a Node) -> Result<bool, (&'a Node, &'a Node)> {
    let ordering = match (&a.value, &b.value) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Timestamp(_), Value::Timestamp(_)) => return Err((a, b)),
        (x, y) if is_number(x) && is_number(y) => numeric_cmp(x, y),
        _ => return Err((a, b)),
    };
    // NaN compares false both ways, like Python.
    Ok(ordering == Some(Ordering::Less))
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Bool(_) | Value::Int(_) | Value::Float(_))
}

/// `list.sort()` over the `(key, value)` items, comparing keys with `<`. For fewer than 64
/// items CPython runs exactly this: one natural run, then binary insertion sort, so even
/// NaN keys (which break the ordering) end up where Python puts them.
fn sort_items<'a>(items: &mut [(&'a Node, &'a Node)]) -> Result<(), (&'a Node, &'a Node)> {
    let n = items.len();
    if n < 2 {
        return Ok(());
    }
    let lt = |i: &[(&'a Node, &'a Node)], a: usize, b: usize| py_less(i[a].0, i[b].0);
    // count_run: a strictly descending run is reversed, an ascending one kept.
    let mut run = 2;
    if lt(items, 1, 0)? {
        while run < n && lt(items, run, run - 1)? {
            run += 1;
        }
        items[..run].reverse();
    } else {
        while run < n && !lt(items, run, run - 1)? {
            run += 1;
        }
    }
    // binarysort from the end of the run.
    for start in run..n {
        let pivot = items[start];
        let (mut l, mut r) = (0, start);
        while l < r {
            let p = l + (r - l) / 2;
            if py_less(pivot.0, items[p].0)? {
                r = p;
            } else {
                l = p + 1;
            }
        }
        items.copy_within(l..start, l + 1);
        items[l] = pivot;
    }
    Ok(())
}

/// CPython's `py_encode_basestring_ascii`.
fn encode_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{C}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__`: the shortest digits that round-trip, positional when the
/// decimal exponent is in -4..16, otherwise scientific with a signed two-digit exponent.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "-1.2345e-5", "1e16", "0e0".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    let (digits, exponent) = break_tie_to_even(f.abs(), digits, exponent);
    let mut out = String::from(sign);
    if (-4..16).contains(&exponent) {
        // The decimal point goes after `point` digits (before them if negative).
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.unsigned_abs()
        );
    }
    out
}

/// When `f` lies exactly halfway between two shortest candidates, Rust picks the upper one
/// and CPython's dtoa the one with an even last digit (e.g. 656363544486882.25 is
/// `...882.2` in Python). `digits` × 10^(`exponent` + 1 - len) is Rust's choice for `f` ≥ 0.
fn break_tie_to_even(f: f64, digits: String, exponent: i32) -> (String, i32) {
    let n = digits.len();
    // A tie needs the exact value to have exactly n + 1 significant digits, the last a 5;
    // the (n + 1)-digit rounding is a cheap filter before the exact expansion.
    if !format!("{f:.n$e}")
        .split_once('e')
        .is_some_and(|(m, _)| m.ends_with('5'))
    {
        return (digits, exponent);
    }
    // Every f64 has an exact decimal expansion of at most 767 significant digits.
    let exact = format!("{f:.800e}");
    let Some((mantissa, exact_exponent)) = exact.split_once('e') else {
        return (digits, exponent);
    };
    let exact_digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    let exact_digits = exact_digits.trim_end_matches('0');
    let Ok(exact_exponent) = exact_exponent.parse::<i32>() else {
        return (digits, exponent);
    };
    if exact_digits.len() != n + 1 || !exact_digits.ends_with('5') {
        return (digits, exponent);
    }
    let lower = &exact_digits[..n];
    let lower_is_even = lower
        .bytes()
        .last()
        .is_some_and(|d| (d - b'0').is_multiple_of(2));
    let (even, even_exponent) = if lower_is_even {
        (lower.to_string(), exact_exponent)
    } else {
        increment_digits(lower, exact_exponent)
    };
    let even = even.trim_end_matches('0');
    let even = if even.is_empty() { "0" } else { even };
    let text = format!("{}.{}e{even_exponent}", &even[..1], &even[1..]);
    if even != digits && text.parse::<f64>().is_ok_and(|back| back == f) {
        (even.to_string(), even_exponent)
    } else {
        (digits, exponent)
    }
}

/// Adds one unit in the last place to a digit string, carrying into a new leading digit.
fn increment_digits(digits: &str, exponent: i32) -> (String, i32) {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return (String::from_utf8_lossy(&bytes).into_owned(), exponent);
        }
    }
    bytes.insert(0, b'1');
    (String::from_utf8_lossy(&bytes).into_owned(), exponent + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Mapping, load};

    fn dumps(yaml: &str) -> Result<String, PyJsonError> {
        match load(yaml) {
            Ok(node) => dumps_sorted(&node.value),
            Err(e) => panic!("{yaml:?}: {e}"),
        }
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e10, "10000000000.0"),
            (1e-10, "1e-10"),
            (100.0, "100.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.5e300, "1.5e+300"),
            (-2.5e-7, "-2.5e-07"),
            (123456789.125, "123456789.125"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992.0"),
            // Exact ties between two shortest candidates go to the even digit.
            (2_625_454_177_947_529.0 / 4.0, "656363544486882.2"),
            (439_470_557_108_233.0 / 16.0, "27466909819264.562"),
            (27_514_910_824_549.0 / 32.0, "859840963267.1562"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:e}");
        }
    }

    #[test]
    fn dumps_like_python() {
        assert_eq!(
            dumps("b: [1, 2.5, null, true]\na: {y: 'x', x: \"\\u00e9\\\"\\t\\U0001F600\"}\n")
                .as_deref(),
            Ok(r#"{"a": {"x": "\u00e9\"\t\ud83d\ude00", "y": "x"}, "b": [1, 2.5, null, true]}"#)
        );
        assert_eq!(dumps("{}").as_deref(), Ok("{}"));
        assert_eq!(dumps("[]").as_deref(), Ok("[]"));
        assert_eq!(
            dumps("[.inf, -.inf, .nan]").as_deref(),
            Ok("[Infinity, -Infinity, NaN]")
        );
        assert_eq!(
            dumps("\"\\x7f\\x01\\b\\f\\r/\"").as_deref(),
            Ok(r#""\u007f\u0001\b\f\r/""#)
        );
        // Numeric keys sort numerically and are stringified after sorting.
        assert_eq!(dumps("{10: a, 9: b, 2.5: c, true: d, ~: e}").ok(), None);
        assert_eq!(
            dumps("{10: a, 9: b, 2.5: c, false: d}").as_deref(),
            Ok(r#"{"false": "d", "2.5": "c", "9": "b", "10": "a"}"#)
        );
    }

    #[test]
    fn errors_name_path_and_mark() {
        let Err(e) = dumps("hp:\n  start: 2025-11-01\n") else {
            panic!("date serialized")
        };
        assert_eq!(e.path(), "hp.start");
        assert_eq!(e.mark(), Some(Mark { line: 2, col: 10 }));
        assert!(
            e.to_string()
                .contains("Object of type date is not JSON serializable"),
            "{e}"
        );
        assert!(e.to_string().contains("quote"), "{e}");

        let Err(e) = dumps("l: [1, 2025-11-01 10:00:00]\n") else {
            panic!("datetime serialized")
        };
        assert_eq!(e.path(), "l[1]");
        assert!(e.to_string().contains("datetime"), "{e}");

        let Err(e) = dumps("m: {1: a, b: c}\n") else {
            panic!("mixed keys sorted")
        };
        assert!(matches!(e, PyJsonError::UnorderableKeys { .. }), "{e}");
        assert_eq!(e.path(), "m");

        let Err(e) = dumps("m: {2025-11-01: a}\n") else {
            panic!("date key")
        };
        assert!(
            matches!(
                e,
                PyJsonError::InvalidKey {
                    type_name: "date",
                    ..
                }
            ),
            "{e}"
        );
        // A single key is never compared, so only the conversion fails; a lone None key is fine.
        assert_eq!(dumps("{~: 1}").as_deref(), Ok(r#"{"null": 1}"#));
    }

    #[test]
    fn nan_keys_sort_like_cpython() {
        // Python: json.dumps({3: 'a', float('nan'): 'b', 1: 'c'}, sort_keys=True)
        let mut m = Mapping::new();
        for (k, v) in [
            (Value::Int(3), "a"),
            (Value::Float(f64::NAN), "b"),
            (Value::Int(1), "c"),
        ] {
            m.insert(Node::detached(k), Node::detached(Value::Str(v.into())));
        }
        assert_eq!(
            dumps_sorted(&Value::Map(m)).as_deref(),
            Ok(r#"{"3": "a", "NaN": "b", "1": "c"}"#)
        );
    }
}
