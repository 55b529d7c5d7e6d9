//! YAML read the way the pipeline reads it: PyYAML `safe_load`, YAML 1.1 scalar resolution.
//!
//! The training hash is computed over the values the pipeline sees, so `1e-4` must stay a
//! string, `yes` must become `true` and `017` must be 15. Parsing is saphyr-parser's event
//! stream; resolution and construction follow PyYAML's `resolver.py` and `constructor.py`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};

mod compose;
mod construct;
mod display;
mod resolve;
mod source;
mod timestamp;

/// Parses one YAML document the way `yaml.safe_load` does.
///
/// An empty stream is `Value::Null`; a second document is an error, as is anything PyYAML
/// rejects: syntax its scanner refuses (tabs between tokens, odd anchor names, duplicate
/// anchors, `%YAML 2.x`, ...), unknown tags, the `=` value tag, impossible dates. Where both
/// reject a document, the error is the one PyYAML reports, at the same line and column for
/// construction errors.
///
/// Where relcon refuses what `safe_load` accepts, on purpose (an error is safer than a
/// different value):
/// - the tags `!!binary`, `!!set`, `!!omap`, `!!pairs` (Python types relcon does not model);
/// - integers beyond 128 bits, and recursive aliases (`&a [*a]`);
/// - U+0085, U+2028, U+2029 anywhere: line breaks for PyYAML, content for YAML 1.2;
/// - surrogate escapes such as `"\ud800"` (a Rust string cannot hold them);
/// - `?` inside, or `:` at the start of, a plain scalar in a flow collection, and one that
///   ends in a space and a dash (`[a -]`: `['a -']` to PyYAML);
/// - corners where saphyr is stricter than PyYAML: a multi-line quoted scalar whose next
///   lines are not indented past its parent, `{a:[1]}` with no space after `:`, and alias
///   names directly followed by `:` (`*a: x`).
///
/// Every NaN key counts as one dict key (PyYAML's `.nan` is a single float object).
pub fn load(text: &str) -> Result<Node, YamlError> {
    match compose::compose(text)? {
        Some(root) => construct::construct_document(&root),
        None => Ok(Node::new(Value::Null, Mark { line: 1, col: 1 })),
    }
}

/// A 1-based position in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Mark {
    pub line: u32,
    pub col: u32,
}

/// A constructed value and where it started.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

/// What PyYAML's SafeConstructor builds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Python ints are unbounded; i128 covers anything a config holds (larger is an error).
    Int(i128),
    Float(f64),
    Str(String),
    /// `2025-11-01` unquoted: a `datetime.date`, which `json.dumps` cannot serialize.
    Date(NaiveDate),
    /// A YAML 1.1 timestamp with a time part, kept as written.
    Timestamp(String),
    Seq(Vec<Node>),
    Map(Mapping),
}

/// A mapping in insertion order. A repeated key replaces the value but keeps its first
/// position, as a Python dict does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    entries: Vec<(Node, Node)>,
}

/// A YAML syntax or construction error, located in the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct YamlError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

impl Mark {
    /// `Mark::default()` (0:0) stands for "no position", e.g. a defaulted value.
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

impl YamlError {
    pub fn new(mark: Mark, message: impl Into<String>) -> Self {
        YamlError {
            line: mark.line,
            col: mark.col,
            message: message.into(),
        }
    }

    pub fn mark(&self) -> Mark {
        Mark {
            line: self.line,
            col: self.col,
        }
    }
}

impl Node {
    pub fn new(value: Value, mark: Mark) -> Self {
        Node { value, mark }
    }

    /// A node with no source position (built by code rather than read from a file).
    pub fn detached(value: Value) -> Self {
        Node {
            value,
            mark: Mark::default(),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of an `int` (not of a bool, although Python's bool is an int).
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match self {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A timestamp's wall time and, when its text has a zone, the UTC offset.
    pub fn as_datetime(&self) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
        match self {
            Value::Timestamp(text) => match timestamp::construct_timestamp(text) {
                Ok(timestamp::Timestamp::DateTime(at, offset)) => {
                    let offset = offset.and_then(|minutes| FixedOffset::east_opt(minutes * 60));
                    Some((at, offset))
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Python type the pipeline sees, named for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Whether Python could use the value as a dict key (lists and dicts are unhashable).
    pub fn is_hashable(&self) -> bool {
        !matches!(self, Value::Seq(_) | Value::Map(_))
    }
}

/// Python's exact comparison of numbers (`bool`, `int`, `float`); `None` when either side is
/// not a number or is NaN.
pub(crate) fn numeric_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (number(a)?, number(b)?) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, x).map(Ordering::reverse),
    }
}

#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn number(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// 2^127 as a float: every finite float below it in magnitude truncates into an i128 exactly.
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

fn int_float_cmp(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_POW_127 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_127 {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // Exact: `whole` is integral and within i128's range.
    let ord = i.cmp(&(whole as i128));
    Some(match ord {
        Ordering::Equal if f > whole => Ordering::Less,
        Ordering::Equal if f < whole => Ordering::Greater,
        other => other,
    })
}

/// Whether two keys are the same Python dict key: `1`, `1.0` and `True` are; NaN keys are
/// taken as one key, as PyYAML's `.nan` is a single shared float object.
pub(crate) fn key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::Timestamp(x), Value::Timestamp(y)) => timestamps_equal(x, y),
        _ => match (number(a), number(b)) {
            (Some(Num::Float(x)), Some(Num::Float(y))) if x.is_nan() && y.is_nan() => true,
            (Some(_), Some(_)) => numeric_cmp(a, b) == Some(Ordering::Equal),
            _ => false,
        },
    }
}

/// `datetime` equality: naive with naive by wall time, aware with aware by instant; a naive
/// and an aware datetime are never equal.
fn timestamps_equal(a: &str, b: &str) -> bool {
    use timestamp::Timestamp::DateTime;
    match (
        timestamp::construct_timestamp(a),
        timestamp::construct_timestamp(b),
    ) {
        (Ok(DateTime(x, None)), Ok(DateTime(y, None))) => x == y,
        (Ok(DateTime(x, Some(ox))), Ok(DateTime(y, Some(oy)))) => {
            x - chrono::Duration::minutes(i64::from(ox))
                == y - chrono::Duration::minutes(i64::from(oy))
        }
        _ => a == b,
    }
}

/// A hash consistent with [`key_eq`], for building large mappings without quadratic lookups.
pub(crate) fn key_hash(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match v {
        Value::Null => 0u8.hash(&mut h),
        Value::Str(s) => (1u8, s).hash(&mut h),
        Value::Date(d) => (2u8, d).hash(&mut h),
        // Equal timestamps may be spelled differently; let them share a bucket.
        Value::Timestamp(_) => 3u8.hash(&mut h),
        Value::Seq(_) | Value::Map(_) => 4u8.hash(&mut h),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => match number(v) {
            Some(Num::Int(i)) => (5u8, i).hash(&mut h),
            Some(Num::Float(f)) if f.is_nan() => 6u8.hash(&mut h),
            Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < TWO_POW_127 => {
                (5u8, f as i128).hash(&mut h)
            }
            Some(Num::Float(f)) => (7u8, f.to_bits()).hash(&mut h),
            None => 8u8.hash(&mut h),
        },
    }
    h.finish()
}

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under the string key `key` (only a `str` key matches, as in a Python dict).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// The value under any key, compared with Python dict semantics.
    pub fn get_value(&self, key: &Value) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| key_eq(&k.value, key))
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| k.value.as_str() == Some(key))
    }

    /// Dict assignment (`d[key] = value`): a key equal to an existing one, in Python's sense,
    /// replaces its value and keeps the first key and its position.
    pub fn insert(&mut self, key: Node, value: Node) {
        match self
            .entries
            .iter_mut()
            .find(|(k, _)| key_eq(&k.value, &key.value))
        {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Removes the entry under the string key `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<(Node, Node)> {
        self.position(key).map(|i| self.entries.remove(i))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Node, &Node)> + ExactSizeIterator {
        self.entries.iter().map(pair_refs)
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Node> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Node> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in insertion order.
    pub fn entries(&self) -> &[(Node, Node)] {
        &self.entries
    }
}

impl FromIterator<(Node, Node)> for Mapping {
    fn from_iter<I: IntoIterator<Item = (Node, Node)>>(iter: I) -> Self {
        let mut m = Mapping::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a Node, &'a Node);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Node, Node)>, PairRefs<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(pair_refs as PairRefs<'a>)
    }
}

type PairRefs<'a> = fn(&'a (Node, Node)) -> (&'a Node, &'a Node);

fn pair_refs((k, v): &(Node, Node)) -> (&Node, &Node) {
    (k, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: Value) -> Node {
        Node::detached(v)
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    #[test]
    fn load_empty_and_scalar_documents() {
        assert_eq!(
            load(""),
            Ok(Node::new(Value::Null, Mark { line: 1, col: 1 }))
        );
        assert_eq!(load("--- 017\n").map(|n| n.value), Ok(Value::Int(15)));
        assert!(load("a: 1\n--- 2\n").is_err());
    }

    #[test]
    fn bom_crlf_and_non_ascii_keep_positions_aligned() {
        // saphyr counts characters; anchors are looked up in the text by those indices.
        for text in [
            "\u{feff}a: &x 1\r\nb: *x\r\n",
            "é: &x 1\nb: *x\n",
            "ü: \"q\tz\"\nb: &ä 1\n",
        ] {
            let loaded = load(text);
            assert!(
                loaded.is_err() == text.contains('ä'),
                "{text:?}: {loaded:?}"
            );
        }
        let Ok(root) = load("é: &x 1\nb: *x\n") else {
            panic!("load failed")
        };
        assert_eq!(root.value.to_string(), "{é: 1, b: 1}");
    }

    #[test]
    fn insert_has_dict_semantics() {
        let mut m = Mapping::new();
        m.insert(key(Value::Int(1)), key(s("a")));
        m.insert(key(s("b")), key(s("b")));
        // True and 1.0 are the same dict key as 1: value replaced, first key and slot kept.
        m.insert(key(Value::Bool(true)), key(s("c")));
        assert_eq!(m.get_value(&Value::Int(1)).map(|n| &n.value), Some(&s("c")));
        m.insert(key(Value::Float(1.0)), key(s("d")));
        assert_eq!(m.len(), 2);
        assert_eq!(m.entries()[0].0.value, Value::Int(1));
        assert_eq!(
            m.get_value(&Value::Bool(true)).map(|n| &n.value),
            Some(&s("d"))
        );
        // `get` only finds str keys.
        assert!(m.get("1").is_none());
        assert_eq!(m.get("b").map(|n| &n.value), Some(&s("b")));
        assert_eq!(m.remove("b").map(|(k, _)| k.value), Some(s("b")));
        assert!(!m.contains_key("b") && !m.is_empty());
        let collected: Mapping = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(collected, m);
        assert_eq!((&m).into_iter().count(), 1);
    }

    #[test]
    fn python_key_equality() {
        assert!(key_eq(&Value::Int(0), &Value::Float(-0.0)));
        assert!(key_eq(&Value::Bool(false), &Value::Int(0)));
        assert!(!key_eq(&Value::Int(1), &s("1")));
        assert!(!key_eq(&Value::Float(1.5), &Value::Int(1)));
        assert!(key_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(!key_eq(&Value::Null, &s("null")));
        assert!(!key_eq(&Value::Int(i128::MAX), &Value::Float(TWO_POW_127)));
        // Same instant, different spelling; naive and aware never equal.
        let ts = |t: &str| Value::Timestamp(t.to_string());
        assert!(key_eq(
            &ts("2025-01-01T00:00:00Z"),
            &ts("2025-01-01 05:30:00 +05:30")
        ));
        assert!(!key_eq(
            &ts("2025-01-01T00:00:00Z"),
            &ts("2025-01-01T00:00:00")
        ));
        assert_eq!(key_hash(&Value::Int(1)), key_hash(&Value::Float(1.0)));
        assert_eq!(key_hash(&Value::Bool(true)), key_hash(&Value::Int(1)));
    }

    #[test]
    fn numeric_comparison_is_exact() {
        let cmp = |a: Value, b: Value| numeric_cmp(&a, &b);
        assert_eq!(
            cmp(
                Value::Int(9_007_199_254_740_993),
                Value::Float(9_007_199_254_740_992.0)
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp(Value::Int(-2), Value::Float(-1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp(Value::Int(1), Value::Float(f64::INFINITY)),
            Some(Ordering::Less)
        );
        assert_eq!(cmp(Value::Int(1), Value::Float(f64::NAN)), None);
        assert_eq!(cmp(s("a"), Value::Int(1)), None);
    }

    #[test]
    fn value_helpers() {
        let Ok(root) = load(
            "a: x\nb: 2\nc: 1.5\nd: on\ne: [1]\nf: {}\ng: ~\nh: 2025-01-01\ni: 2025-01-01 10:00:00 -05:00\n",
        ) else {
            panic!("load failed");
        };
        let Some(m) = root.value.as_map() else {
            panic!("not a mapping")
        };
        let get = |k: &str| m.get(k).map(|n| n.value.clone()).unwrap_or(Value::Null);
        assert_eq!(get("a").as_str(), Some("x"));
        assert_eq!(get("b").as_int(), Some(2));
        assert_eq!(get("c").as_float(), Some(1.5));
        assert_eq!(get("d").as_bool(), Some(true));
        assert_eq!(get("e").as_seq().map(<[Node]>::len), Some(1));
        assert!(get("f").as_map().is_some_and(Mapping::is_empty));
        assert!(get("g").is_null());
        let names: Vec<&str> = m.values().map(|n| n.value.type_name()).collect();
        assert_eq!(
            names,
            [
                "str",
                "int",
                "float",
                "bool",
                "list",
                "mapping",
                "null",
                "date",
                "timestamp"
            ]
        );
        let Some((at, Some(offset))) = get("i").as_datetime() else {
            panic!("no datetime")
        };
        assert_eq!(
            (at.to_string().as_str(), offset.local_minus_utc()),
            ("2025-01-01 10:00:00", -5 * 3600)
        );
        assert_eq!(
            m.keys().next().map(|k| k.mark),
            Some(Mark { line: 1, col: 1 })
        );
        assert_eq!(
            m.get("b").map(|n| n.mark.to_string()),
            Some("2:4".to_string())
        );
    }
}
