//! The composed node graph turned into values the way PyYAML's `SafeConstructor` does it:
//! merge keys flattened first, `=` keys read as strings, explicit tags honoured or refused.

use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use super::compose::{RawKind, RawNode};
use super::resolve::{
    BOOL, FLOAT, INT, MAP, MERGE, NULL, SEQ, STR, TIMESTAMP, VALUE, construct_bool,
    construct_float, construct_int,
};
use super::timestamp::{Timestamp, construct_timestamp};
use super::{Mapping, Node, Value, YamlError, key_eq, key_hash};

/// Aliases are cloned into the value tree; cap the expansion so a "billion laughs" document
/// fails fast instead of exhausting memory.
const MAX_NODES: usize = 1_000_000;

/// Aliases can chain values deeper than the text nests; bound the construction recursion.
const MAX_DEPTH: usize = 500;

pub(super) fn construct_document(root: &Rc<RawNode>) -> Result<Node, YamlError> {
    let mut builder = Builder { budget: MAX_NODES };
    builder.check_in_pyyaml_order(root)?;
    builder.node(root, 0)
}

/// Lists and dicts are built lazily by PyYAML (see `check_in_pyyaml_order`).
fn is_lazy(tag: &str) -> bool {
    tag == SEQ || tag == MAP
}

type Pair = (Rc<RawNode>, Rc<RawNode>);

struct Builder {
    budget: usize,
}

impl Builder {
    /// Runs every check construction makes, in the order PyYAML makes them, so a document
    /// with several problems reports the one PyYAML reports. PyYAML creates a list or dict
    /// empty and fills it only after everything above it (its `state_generators`), so errors
    /// surface breadth-first rather than in document order; a collection used as a key is
    /// "unhashable" before its contents are looked at.
    fn check_in_pyyaml_order(&mut self, root: &Rc<RawNode>) -> Result<(), YamlError> {
        let mut constructed = HashSet::new();
        let mut pending = VecDeque::new();
        self.construct_object(root, &mut constructed, &mut pending)?;
        while let Some(node) = pending.pop_front() {
            match (&node.kind, node.tag.as_str()) {
                (RawKind::Seq(items), SEQ) => {
                    for item in items {
                        self.construct_object(item, &mut constructed, &mut pending)?;
                    }
                }
                (RawKind::Map(_), MAP) => {
                    for (key, value) in self.flatten(&node, 0)? {
                        if key.tag == VALUE {
                            self.node_as(&key, STR, 0)?;
                        } else if is_lazy(&key.tag) {
                            return Err(YamlError::new(
                                key.mark,
                                format!(
                                    "while constructing a mapping (at {}): found unhashable key",
                                    node.mark
                                ),
                            ));
                        } else {
                            self.construct_object(&key, &mut constructed, &mut pending)?;
                        }
                        self.construct_object(&value, &mut constructed, &mut pending)?;
                    }
                }
                _ => {
                    let expected = if node.tag == SEQ {
                        "sequence"
                    } else {
                        "mapping"
                    };
                    return Err(YamlError::new(
                        node.mark,
                        format!("expected a {expected} node, but found {}", node.kind_name()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// PyYAML's `construct_object`: once per node; collections are queued, the rest built now.
    fn construct_object(
        &mut self,
        node: &Rc<RawNode>,
        constructed: &mut HashSet<*const RawNode>,
        pending: &mut VecDeque<Rc<RawNode>>,
    ) -> Result<(), YamlError> {
        if !constructed.insert(Rc::as_ptr(node)) {
            return Ok(());
        }
        if is_lazy(&node.tag) {
            pending.push_back(Rc::clone(node));
            Ok(())
        } else {
            self.node_as(node, &node.tag, 0).map(drop)
        }
    }

    fn spend(&mut self, raw: &RawNode, depth: usize) -> Result<(), YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::new(
                raw.mark,
                format!("values nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            YamlError::new(
                raw.mark,
                format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
            )
        })?;
        Ok(())
    }

    fn node(&mut self, raw: &RawNode, depth: usize) -> Result<Node, YamlError> {
        self.node_as(raw, &raw.tag, depth)
    }

    /// `construct_object` with the constructor chosen by `tag`.
    fn node_as(&mut self, raw: &RawNode, tag: &str, depth: usize) -> Result<Node, YamlError> {
        self.spend(raw, depth)?;
        let fail = |message: String| YamlError::new(raw.mark, message);
        let value = match tag {
            NULL => {
                scalar_text(raw)?;
                Value::Null
            }
            BOOL => Value::Bool(construct_bool(&scalar_text(raw)?).map_err(fail)?),
            INT => Value::Int(construct_int(&scalar_text(raw)?).map_err(fail)?),
            FLOAT => Value::Float(construct_float(&scalar_text(raw)?).map_err(fail)?),
            STR => Value::Str(scalar_text(raw)?),
            TIMESTAMP => {
                // PyYAML matches its regex against `node.value`, which only a scalar has.
                let RawKind::Scalar(text) = &raw.kind else {
                    return Err(fail(format!(
                        "expected a scalar node, but found {}",
                        raw.kind_name()
                    )));
                };
                match construct_timestamp(text).map_err(fail)? {
                    Timestamp::Date(date) => Value::Date(date),
                    Timestamp::DateTime(..) => {
                        Value::Timestamp(text.strip_suffix('\n').unwrap_or(text).to_string())
                    }
                }
            }
            SEQ => match &raw.kind {
                RawKind::Seq(items) => Value::Seq(
                    items
                        .iter()
                        .map(|item| self.node(item, depth + 1))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    return Err(fail(format!(
                        "expected a sequence node, but found {}",
                        raw.kind_name()
                    )));
                }
            },
            MAP => Value::Map(self.mapping(raw, depth)?),
            _ => return Err(fail(unsupported_tag(tag))),
        };
        Ok(Node::new(value, raw.mark))
    }

    /// `SafeConstructor.construct_mapping`: flatten merges, then dict assignment in order.
    fn mapping(&mut self, raw: &RawNode, depth: usize) -> Result<Mapping, YamlError> {
        if !matches!(raw.kind, RawKind::Map(_)) {
            return Err(YamlError::new(
                raw.mark,
                format!("expected a mapping node, but found {}", raw.kind_name()),
            ));
        }
        let mut map = MapBuilder::default();
        for (key, value) in self.flatten(raw, depth)? {
            // `flatten_mapping` retags `=` keys as strings.
            let key_tag = if key.tag == VALUE {
                STR
            } else {
                key.tag.as_str()
            };
            let key_node = self.node_as(&key, key_tag, depth + 1)?;
            if !key_node.value.is_hashable() {
                return Err(YamlError::new(
                    key.mark,
                    format!(
                        "while constructing a mapping (at {}): found unhashable key (a {})",
                        raw.mark,
                        key_node.value.type_name()
                    ),
                ));
            }
            let value_node = self.node(&value, depth + 1)?;
            map.insert(key_node, value_node);
        }
        Ok(Mapping {
            entries: map.entries,
        })
    }

    /// `SafeConstructor.flatten_mapping`: the pairs of every merged mapping come first (later
    /// pairs overwrite earlier ones, so explicit keys win; in a list of merged mappings the
    /// earlier mapping wins), then the mapping's own pairs.
    fn flatten(&mut self, raw: &RawNode, depth: usize) -> Result<Vec<Pair>, YamlError> {
        self.spend(raw, depth)?;
        let RawKind::Map(pairs) = &raw.kind else {
            return Ok(Vec::new());
        };
        let mut merged = Vec::new();
        let mut own = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            if key.tag != MERGE {
                own.push((Rc::clone(key), Rc::clone(value)));
                continue;
            }
            match &value.kind {
                RawKind::Map(_) => merged.extend(self.flatten(value, depth + 1)?),
                RawKind::Seq(items) => {
                    let mut each = Vec::with_capacity(items.len());
                    for item in items {
                        if !matches!(item.kind, RawKind::Map(_)) {
                            return Err(YamlError::new(
                                item.mark,
                                format!(
                                    "while constructing a mapping (at {}): expected a mapping for merging, but found {}",
                                    raw.mark,
                                    item.kind_name()
                                ),
                            ));
                        }
                        each.push(self.flatten(item, depth + 1)?);
                    }
                    each.into_iter()
                        .rev()
                        .for_each(|pairs| merged.extend(pairs));
                }
                RawKind::Scalar(_) => {
                    return Err(YamlError::new(
                        value.mark,
                        format!(
                            "while constructing a mapping (at {}): expected a mapping or list of mappings \
                             for merging, but found scalar",
                            raw.mark
                        ),
                    ));
                }
            }
        }
        self.budget = self.budget.checked_sub(merged.len()).ok_or_else(|| {
            YamlError::new(
                raw.mark,
                format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
            )
        })?;
        merged.extend(own);
        Ok(merged)
    }
}

/// `construct_scalar`: a scalar's text, or for a mapping the text of its `=` key's value
/// (PyYAML's `SafeConstructor.construct_scalar` quirk).
fn scalar_text(raw: &RawNode) -> Result<String, YamlError> {
    match &raw.kind {
        RawKind::Scalar(text) => return Ok(text.clone()),
        RawKind::Map(pairs) => {
            if let Some((_, value)) = pairs.iter().find(|(key, _)| key.tag == VALUE) {
                return scalar_text(value);
            }
        }
        RawKind::Seq(_) => {}
    }
    Err(YamlError::new(
        raw.mark,
        format!("expected a scalar node, but found {}", raw.kind_name()),
    ))
}

fn unsupported_tag(tag: &str) -> String {
    let short = match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(suffix) => format!("!!{suffix}"),
        None => tag.to_string(),
    };
    match short.as_str() {
        "!!binary" | "!!set" | "!!omap" | "!!pairs" => format!(
            "the tag {short} is not supported: PyYAML would build a Python bytes/set/list-of-pairs \
             value that relcon does not model (and json.dumps cannot hash)"
        ),
        _ => format!("could not determine a constructor for the tag {short}"),
    }
}

/// Dict assignment for a mapping under construction, with a hash index so large mappings
/// stay linear.
#[derive(Default)]
struct MapBuilder {
    entries: Vec<(Node, Node)>,
    index: HashMap<u64, Vec<usize>>,
}

impl MapBuilder {
    fn insert(&mut self, key: Node, value: Node) {
        let bucket = self.index.entry(key_hash(&key.value)).or_default();
        match bucket
            .iter()
            .find(|&&i| key_eq(&self.entries[i].0.value, &key.value))
        {
            Some(&i) => self.entries[i].1 = value,
            None => {
                bucket.push(self.entries.len());
                self.entries.push((key, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        value
            .as_map()
            .map(|m| m.keys().map(|k| k.value.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn merge_keys_follow_flatten_mapping() {
        let doc = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n";
        let Ok(root) = load(doc) else {
            panic!("load failed")
        };
        let c = root
            .value
            .as_map()
            .and_then(|m| m.get("c"))
            .map(|n| &n.value);
        let Some(c) = c else { panic!("no c") };
        // Pairs of *b, then *a, then own: order y, z, x; *a wins y; own z wins.
        assert_eq!(keys(c), ["y", "z", "x"]);
        assert_eq!(c.to_string(), "{y: 1, z: 3, x: 1}");
    }

    #[test]
    fn python_dict_keys() {
        let Ok(root) = load("1: a\ntrue: b\n1.0: c\non: d\n'1': e\n") else {
            panic!("load failed")
        };
        assert_eq!(root.value.to_string(), "{1: d, '1': e}");
    }

    #[test]
    fn value_key_and_scalar_quirks() {
        let Ok(root) = load("=: 1\nx: !!str {=: 5}\n") else {
            panic!("load failed")
        };
        assert_eq!(root.value.to_string(), "{'=': 1, x: '5'}");
        assert!(load("y: !!null [1]\n").is_err());
    }

    #[test]
    fn errors_name_the_tag_and_place() {
        let cases = [
            ("a: =\n", 1, 4, "!!value"),
            ("a: <<\n", 1, 4, "!!merge"),
            ("x:\n  - !foo 1\n", 2, 5, "!foo"),
            ("x: !!binary aGk=\n", 1, 4, "!!binary"),
            ("<<: 1\n", 1, 5, "merging"),
            ("? [1]\n: 2\n", 1, 3, "unhashable"),
            ("a: 2025-13-01\n", 1, 4, "month"),
            ("a: 0x_\n", 1, 4, "base 16"),
        ];
        for (doc, line, col, needle) in cases {
            match load(doc) {
                Ok(v) => panic!("{doc:?} loaded as {v:?}"),
                Err(e) => {
                    assert_eq!((e.line, e.col), (line, col), "{doc:?}: {e}");
                    assert!(e.message.contains(needle), "{doc:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let Err(e) = load(&doc) else {
            panic!("bomb loaded")
        };
        assert!(e.message.contains("alias bomb"), "{e}");
    }
}
