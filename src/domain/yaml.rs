//! YAML read the way the pipeline reads it: PyYAML `safe_load`, YAML 1.1 scalar resolution.
//!
//! The training hash is computed over the values the pipeline sees, so `1e-4` must stay a
//! string, `yes` must become `true` and `017` must be 15. Parsing is saphyr-parser's event
//! stream; resolution and construction follow PyYAML's `resolver.py` and `constructor.py`.

use std::fmt;

use chrono::NaiveDate;

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
