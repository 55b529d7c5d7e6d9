//! Config diffs, two ways: semantic (changed key paths, which of them feed the training hash,
//! the two hashes, whether the environment change is breaking) and textual (line diff with
//! word-level emphasis, as unified hunks or side-by-side rows), both pure data for any front end.

use serde::Serialize;
use similar::{ChangeTag, DiffOp, TextDiff};

use super::hash::{HASH_FIELDS, TrainingHash, training_hash};
use super::yaml::{Mapping, Node, Value};
use super::{EnvVersion, EnvironmentChange};

/// What happened to a key path.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One changed key path (`hyperparameters.learning_rate`, `features[2]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    #[serde(serialize_with = "value_json")]
    pub old: Option<Value>,
    #[serde(serialize_with = "value_json")]
    pub new: Option<Value>,
    /// The path is under a field of the training hash, so the change triggers retraining.
    pub in_training_hash: bool,
}

/// The semantic difference between two circuit configs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDiff {
    pub changes: Vec<Change>,
    /// `None` where a config cannot be hashed (the problem is reported by `configs check`).
    pub old_hash: Option<TrainingHash>,
    pub new_hash: Option<TrainingHash>,
    pub retrain_required: bool,
    pub old_environment: Option<String>,
    pub new_environment: Option<String>,
    pub environment_change: EnvironmentChange,
}

/// The `--json` shape of a config diff (README, "relcon diff").
impl Serialize for ConfigDiff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let hash = |h: &Option<TrainingHash>| h.as_ref().map(|h| h.to_string());
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("changes", &self.changes)?;
        m.serialize_entry(
            "training_hash",
            &serde_json::json!({"old": hash(&self.old_hash), "new": hash(&self.new_hash)}),
        )?;
        m.serialize_entry("retrain_required", &self.retrain_required)?;
        m.serialize_entry("environment_change", self.environment_change.as_str())?;
        m.serialize_entry(
            "environment",
            &serde_json::json!({"old": self.old_environment, "new": self.new_environment}),
        )?;
        m.end()
    }
}

fn value_json<S: serde::Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(v) => to_json(v).serialize(s),
    }
}

/// A YAML value as JSON. Dates become strings, non-finite floats their Python spelling, and
/// integers beyond 64 bits strings, since JSON numbers can't hold them faithfully.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => i64::try_from(*i)
            .map(J::from)
            .or_else(|_| u64::try_from(*i).map(J::from))
            .unwrap_or_else(|_| J::String(i.to_string())),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(v.to_string())),
        Value::Str(s) => J::String(s.clone()),
        Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
        Value::Timestamp(t) => J::String(t.clone()),
        Value::Seq(items) => J::Array(items.iter().map(|n| to_json(&n.value)).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (key_text(k), to_json(&v.value)))
                .collect(),
        ),
    }
}

impl ConfigDiff {
    pub fn between(old: &Mapping, new: &Mapping) -> ConfigDiff {
        let mut changes = Vec::new();
        diff_maps("", old, new, &mut changes);
        let old_hash = training_hash(old).ok();
        let new_hash = training_hash(new).ok();
        let retrain_required = match (&old_hash, &new_hash) {
            (Some(a), Some(b)) => a != b,
            // Without both hashes, any change to a hash field must be assumed to retrain.
            _ => changes.iter().any(|c| c.in_training_hash),
        };
        let env = |m: &Mapping| m.get("environment_version").map(|n| n.value.to_string());
        let (old_environment, new_environment) = (env(old), env(new));
        let environment_change = environment_change(old, new);
        ConfigDiff {
            changes,
            old_hash,
            new_hash,
            retrain_required,
            old_environment,
            new_environment,
            environment_change,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes that feed the training hash.
    pub fn retraining_changes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.in_training_hash)
    }
}

/// Environment change between two configs. A version that does not parse as semver can't be
/// judged, so it counts as breaking: the safe reading for an approver.
fn environment_change(old: &Mapping, new: &Mapping) -> EnvironmentChange {
    let raw = |m: &Mapping| m.get("environment_version").map(|n| n.value.clone());
    let (a, b) = (raw(old), raw(new));
    if a == b {
        return EnvironmentChange::None;
    }
    let parse =
        |v: Option<Value>| v.and_then(|v| v.as_str().and_then(|s| s.parse::<EnvVersion>().ok()));
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a.change_to(&b),
        _ => EnvironmentChange::Breaking,
    }
}

fn key_text(key: &Node) -> String {
    match &key.value {
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn push(
    out: &mut Vec<Change>,
    path: String,
    kind: ChangeKind,
    old: Option<&Value>,
    new: Option<&Value>,
) {
    let top = path.split(['.', '[']).next().unwrap_or("");
    out.push(Change {
        in_training_hash: HASH_FIELDS.contains(&top),
        path,
        kind,
        old: old.cloned(),
        new: new.cloned(),
    });
}

fn diff_maps(path: &str, old: &Mapping, new: &Mapping, out: &mut Vec<Change>) {
    for (k, v) in old.iter() {
        let p = join(path, &key_text(k));
        match new.iter().find(|(nk, _)| nk.value == k.value) {
            Some((_, nv)) => diff_values(&p, &v.value, &nv.value, out),
            None => push(out, p, ChangeKind::Removed, Some(&v.value), None),
        }
    }
    for (k, v) in new.iter() {
        if !old.iter().any(|(ok, _)| ok.value == k.value) {
            push(
                out,
                join(path, &key_text(k)),
                ChangeKind::Added,
                None,
                Some(&v.value),
            );
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // NaN is a value like any other here: unchanged when both are NaN.
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        _ => a == b,
    }
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Map(a), Value::Map(b)) => diff_maps(path, a, b, out),
        (Value::Seq(a), Value::Seq(b)) => diff_seqs(path, a, b, out),
        _ if same(old, new) => {}
        _ => push(
            out,
            path.to_owned(),
            ChangeKind::Changed,
            Some(old),
            Some(new),
        ),
    }
}

/// Lists are aligned by content (LCS), so inserting one feature reports one added item rather
/// than every later item as changed.
fn diff_seqs(path: &str, old: &[Node], new: &[Node], out: &mut Vec<Change>) {
    let a: Vec<String> = old.iter().map(|n| n.value.to_string()).collect();
    let b: Vec<String> = new.iter().map(|n| n.value.to_string()).collect();
    let at = |i: usize| format!("{path}[{i}]");
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                for (i, n) in old.iter().enumerate().skip(old_index).take(old_len) {
                    push(out, at(i), ChangeKind::Removed, Some(&n.value), None);
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for (j, n) in new.iter().enumerate().skip(new_index).take(new_len) {
                    push(out, at(j), ChangeKind::Added, None, Some(&n.value));
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = old_len.min(new_len);
                for k in 0..paired {
                    diff_values(
                        &at(new_index + k),
                        &old[old_index + k].value,
                        &new[new_index + k].value,
                        out,
                    );
                }
                for (i, n) in old
                    .iter()
                    .enumerate()
                    .skip(old_index + paired)
                    .take(old_len - paired)
                {
                    push(out, at(i), ChangeKind::Removed, Some(&n.value), None);
                }
                for (j, n) in new
                    .iter()
                    .enumerate()
                    .skip(new_index + paired)
                    .take(new_len - paired)
                {
                    push(out, at(j), ChangeKind::Added, None, Some(&n.value));
                }
            }
        }
    }
}

/// Which side of a text diff a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineTag {
    Equal,
    Delete,
    Insert,
}

/// A run of text in a line; `emphasized` marks the words that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub emphasized: bool,
    pub text: String,
}

/// One line of a text diff, with its line numbers on each side (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: LineTag,
    pub old_no: Option<usize>,
    pub new_no: Option<usize>,
    pub segments: Vec<Segment>,
}

impl DiffLine {
    /// The line's text without its newline.
    pub fn text(&self) -> String {
        let s: String = self.segments.iter().map(|s| s.text.as_str()).collect();
        s.trim_end_matches(['\n', '\r']).to_owned()
    }
}

/// A group of changed lines with context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// The `@@ -a,b +c,d @@` header.
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }
}

/// A row of a side-by-side view: the old line on the left, the new on the right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideBySideRow {
    pub left: Option<DiffLine>,
    pub right: Option<DiffLine>,
}

/// A line diff of two texts with word-level emphasis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextChanges {
    pub hunks: Vec<Hunk>,
}

impl TextChanges {
    /// Diff two texts, keeping `context` unchanged lines around each change.
    pub fn new(old: &str, new: &str, context: usize) -> TextChanges {
        let diff = TextDiff::from_lines(old, new);
        let hunks = diff
            .grouped_ops(context)
            .iter()
            .filter(|group| !group.is_empty())
            .map(|group| {
                let first = &group[0];
                let last = &group[group.len() - 1];
                let old_start = first.old_range().start;
                let new_start = first.new_range().start;
                let old_len = last.old_range().end - old_start;
                let new_len = last.new_range().end - new_start;
                let lines = group
                    .iter()
                    .flat_map(|op| diff.iter_inline_changes(op))
                    .map(|change| DiffLine {
                        tag: match change.tag() {
                            ChangeTag::Equal => LineTag::Equal,
                            ChangeTag::Delete => LineTag::Delete,
                            ChangeTag::Insert => LineTag::Insert,
                        },
                        old_no: change.old_index().map(|i| i + 1),
                        new_no: change.new_index().map(|i| i + 1),
                        segments: change
                            .iter_strings_lossy()
                            .map(|(emphasized, text)| Segment {
                                emphasized,
                                text: text.into_owned(),
                            })
                            .collect(),
                    })
                    .collect();
                Hunk {
                    // Unified diff numbers a hunk from 1, or 0 for an empty side.
                    old_start: if old_len == 0 {
                        old_start
                    } else {
                        old_start + 1
                    },
                    old_len,
                    new_start: if new_len == 0 {
                        new_start
                    } else {
                        new_start + 1
                    },
                    new_len,
                    lines,
                }
            })
            .collect();
        TextChanges { hunks }
    }

    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty()
    }

    /// Rows for a side-by-side view: deletions and insertions of one change block are paired
    /// line by line; unchanged lines appear on both sides. `None` separates hunks.
    pub fn side_by_side(&self) -> Vec<Option<SideBySideRow>> {
        let mut rows = Vec::new();
        for (h, hunk) in self.hunks.iter().enumerate() {
            if h > 0 {
                rows.push(None);
            }
            let mut dels: Vec<DiffLine> = Vec::new();
            let mut ins: Vec<DiffLine> = Vec::new();
            let flush = |dels: &mut Vec<DiffLine>,
                         ins: &mut Vec<DiffLine>,
                         rows: &mut Vec<Option<SideBySideRow>>| {
                let n = dels.len().max(ins.len());
                let mut d = dels.drain(..);
                let mut i = ins.drain(..);
                for _ in 0..n {
                    rows.push(Some(SideBySideRow {
                        left: d.next(),
                        right: i.next(),
                    }));
                }
            };
            for line in &hunk.lines {
                match line.tag {
                    LineTag::Delete => dels.push(line.clone()),
                    LineTag::Insert => ins.push(line.clone()),
                    LineTag::Equal => {
                        flush(&mut dels, &mut ins, &mut rows);
                        rows.push(Some(SideBySideRow {
                            left: Some(line.clone()),
                            right: Some(line.clone()),
                        }));
                    }
                }
            }
            flush(&mut dels, &mut ins, &mut rows);
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    const SEED: &str = "plant_id: PLANT001\ncircuit_id: CIRCUIT01\nmodel_name: plant001-circuit01\ndescription: Primary cooling system\nfeatures:\n- temperature\n- pressure\n- vibration\ncutoff_date: '2025-11-01'\ndelta_version: 1\npipeline_component_version: 1.0.0\ntraining_days: 365\nforecast_horizon: 7\nhyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  epochs: 50\n  batch_size: 32\nenvironment_version: 1.5.0\n";

    fn map(text: &str) -> Mapping {
        match yaml::load(text).unwrap().value {
            Value::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn diff(old: &str, new: &str) -> ConfigDiff {
        ConfigDiff::between(&map(old), &map(new))
    }

    fn paths(d: &ConfigDiff) -> Vec<(String, ChangeKind, bool)> {
        d.changes
            .iter()
            .map(|c| (c.path.clone(), c.kind, c.in_training_hash))
            .collect()
    }

    #[test]
    fn identical_configs_have_no_changes() {
        let d = diff(SEED, SEED);
        assert!(d.is_empty() && !d.retrain_required);
        assert_eq!(d.environment_change, EnvironmentChange::None);
        assert_eq!(d.old_hash, d.new_hash);
    }

    #[test]
    fn learning_rate_retrains_and_patch_env_is_non_breaking() {
        let new = SEED
            .replace("learning_rate: 0.001", "learning_rate: 0.0005")
            .replace("environment_version: 1.5.0", "environment_version: 1.5.1");
        let d = diff(SEED, &new);
        assert_eq!(
            paths(&d),
            [
                (
                    "hyperparameters.learning_rate".to_owned(),
                    ChangeKind::Changed,
                    true
                ),
                ("environment_version".to_owned(), ChangeKind::Changed, false),
            ]
        );
        assert!(d.retrain_required);
        assert_ne!(d.old_hash, d.new_hash);
        assert_eq!(d.environment_change, EnvironmentChange::NonBreaking);
        assert_eq!(d.changes[0].old, Some(Value::Float(0.001)));
        assert_eq!(d.changes[0].new, Some(Value::Float(0.0005)));
    }

    #[test]
    fn major_env_bump_is_breaking_and_alone_does_not_retrain() {
        let d = diff(
            SEED,
            &SEED.replace("environment_version: 1.5.0", "environment_version: 2.0.0"),
        );
        assert_eq!(d.environment_change, EnvironmentChange::Breaking);
        assert!(!d.retrain_required);
        let d = diff(
            SEED,
            &SEED.replace("environment_version: 1.5.0", "environment_version: latest"),
        );
        assert_eq!(d.environment_change, EnvironmentChange::Breaking);
    }

    #[test]
    fn added_and_removed_keys_nested_and_top_level() {
        let new = SEED
            .replace("  batch_size: 32\n", "  dropout: 0.2\n")
            .replace("description: Primary cooling system\n", "")
            .replace(
                "forecast_horizon: 7\n",
                "forecast_horizon: 7\nowner: cooling-team\n",
            );
        let d = diff(SEED, &new);
        assert_eq!(
            paths(&d),
            [
                ("description".to_owned(), ChangeKind::Removed, false),
                (
                    "hyperparameters.batch_size".to_owned(),
                    ChangeKind::Removed,
                    true
                ),
                (
                    "hyperparameters.dropout".to_owned(),
                    ChangeKind::Added,
                    true
                ),
                ("owner".to_owned(), ChangeKind::Added, false),
            ]
        );
        assert!(d.retrain_required);
    }

    #[test]
    fn lists_are_aligned_by_content() {
        let inserted = SEED.replace("- temperature\n", "- temperature\n- flow_rate\n");
        let d = diff(SEED, &inserted);
        assert_eq!(
            paths(&d),
            [("features[1]".to_owned(), ChangeKind::Added, false)]
        );
        assert_eq!(d.changes[0].new, Some(Value::Str("flow_rate".into())));

        let removed = SEED.replace("- pressure\n", "");
        assert_eq!(
            paths(&diff(SEED, &removed)),
            [("features[1]".to_owned(), ChangeKind::Removed, false)]
        );

        let replaced = SEED.replace("- pressure\n", "- discharge_pressure\n");
        let d = diff(SEED, &replaced);
        assert_eq!(
            paths(&d),
            [("features[1]".to_owned(), ChangeKind::Changed, false)]
        );
        assert!(!d.retrain_required);
    }

    #[test]
    fn type_change_is_a_change_even_when_equal_in_value() {
        let d = diff(
            SEED,
            &SEED.replace("delta_version: 1", "delta_version: '1'"),
        );
        assert_eq!(
            paths(&d),
            [("delta_version".to_owned(), ChangeKind::Changed, true)]
        );
        assert!(d.retrain_required);
    }

    #[test]
    fn adding_the_default_component_version_does_not_retrain() {
        let without = SEED.replace("pipeline_component_version: 1.0.0\n", "");
        let d = diff(&without, SEED);
        assert_eq!(
            paths(&d),
            [(
                "pipeline_component_version".to_owned(),
                ChangeKind::Added,
                true
            )]
        );
        assert!(
            !d.retrain_required,
            "same hash: the pipeline defaults to 1.0.0"
        );
    }

    #[test]
    fn text_diff_has_hunks_and_word_emphasis() {
        let new = SEED.replace("learning_rate: 0.001", "learning_rate: 0.0005");
        let t = TextChanges::new(SEED, &new, 1);
        assert_eq!(t.hunks.len(), 1);
        let h = &t.hunks[0];
        assert_eq!(h.header(), "@@ -15,3 +15,3 @@");
        let del = h.lines.iter().find(|l| l.tag == LineTag::Delete).unwrap();
        assert_eq!(del.old_no, Some(16));
        assert_eq!(del.text(), "  learning_rate: 0.001");
        let emphasized: String = del
            .segments
            .iter()
            .filter(|s| s.emphasized)
            .map(|s| s.text.as_str())
            .collect();
        assert!(
            emphasized.contains("001") && !emphasized.contains("learning_rate"),
            "{emphasized:?}"
        );
        let rows = t.side_by_side();
        let changed = rows
            .iter()
            .flatten()
            .find(|r| r.left.as_ref().is_some_and(|l| l.tag == LineTag::Delete))
            .unwrap();
        assert_eq!(
            changed.right.as_ref().map(|r| r.text()),
            Some("  learning_rate: 0.0005".into())
        );
        assert!(TextChanges::new(SEED, SEED, 3).is_empty());
    }

    #[test]
    fn side_by_side_separates_hunks_and_pads_uneven_blocks() {
        let new = SEED.replace("plant_id: PLANT001\n", "").replace(
            "environment_version: 1.5.0\n",
            "environment_version: 1.5.1\nowner: x\n",
        );
        let rows = TextChanges::new(SEED, &new, 0).side_by_side();
        assert_eq!(rows.iter().filter(|r| r.is_none()).count(), 1);
        assert!(
            rows.iter()
                .flatten()
                .any(|r| r.left.is_none()
                    && r.right.as_ref().is_some_and(|l| l.text() == "owner: x"))
        );
        assert!(rows.iter().flatten().any(|r| {
            r.right.is_none()
                && r.left
                    .as_ref()
                    .is_some_and(|l| l.text() == "plant_id: PLANT001")
        }));
    }
}
