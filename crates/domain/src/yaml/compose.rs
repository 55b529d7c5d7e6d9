//! saphyr-parser's event stream composed into a node graph with resolved tags, as PyYAML's
//! `Composer` does, refusing what PyYAML's scanner and parser refuse but a YAML 1.2 parser
//! accepts (anchor names, duplicate anchors, flow-context quirks; text checks in `source`).

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};

use super::resolve::{MAP, SEQ, STR, resolve_implicit};
use super::source::{Source, check_characters, check_layout, check_leading_document_end};
use super::{Mark, YamlError};

/// PyYAML's composer recurses per nesting level and hits Python's recursion limit a little
/// beyond 400 levels; refusing deeper documents keeps us from accepting what it cannot load.
const MAX_NESTING: usize = 400;

/// A composed node: PyYAML's `ScalarNode` / `SequenceNode` / `MappingNode`. Aliases share the
/// anchored node, so a document full of aliases stays small.
#[derive(Debug)]
pub(super) struct RawNode {
    /// The resolved tag, e.g. `tag:yaml.org,2002:int` or `!custom`.
    pub tag: String,
    pub mark: Mark,
    pub kind: RawKind,
}

#[derive(Debug)]
pub(super) enum RawKind {
    Scalar(String),
    Seq(Vec<Rc<RawNode>>),
    Map(Vec<(Rc<RawNode>, Rc<RawNode>)>),
}

impl RawNode {
    /// PyYAML's `node.id`, used in its error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            RawKind::Scalar(_) => "scalar",
            RawKind::Seq(_) => "sequence",
            RawKind::Map(_) => "mapping",
        }
    }
}

/// A collection being composed.
struct Open {
    anchor: usize,
    tag: String,
    mark: Mark,
    is_map: bool,
    /// A `[...]`/`{...}` collection rather than a block one.
    flow: bool,
    items: Vec<Rc<RawNode>>,
}

pub(super) fn compose(text: &str) -> Result<Option<Rc<RawNode>>, YamlError> {
    check_characters(text)?;
    check_leading_document_end(text)?;
    let mut composer = Composer {
        source: Source::new(text),
        anchors: HashMap::new(),
        anchor_names: HashMap::new(),
        stack: Vec::new(),
        root: None,
        documents: 0,
        first_document_at: usize::MAX,
        quoted_spans: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(scan_error)?;
        if event == Event::StreamEnd {
            break;
        }
        composer.event(event, span)?;
    }
    check_layout(text, &composer.quoted_spans, composer.first_document_at)?;
    Ok(composer.root)
}

struct Composer<'a> {
    source: Source<'a>,
    /// Completed anchored nodes by saphyr's anchor id.
    anchors: HashMap<usize, Rc<RawNode>>,
    /// Where each anchor name was first defined, to reject redefinitions as PyYAML does.
    anchor_names: HashMap<String, Mark>,
    stack: Vec<Open>,
    root: Option<Rc<RawNode>>,
    documents: usize,
    /// Char index of the first document's start; directives come before it.
    first_document_at: usize,
    /// Char spans of quoted and block scalars, where tabs are content.
    quoted_spans: Vec<(usize, usize)>,
}

impl Composer<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let mark = mark_of(span.start);
        let at = span.start.index();
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError::new(
                        mark,
                        "expected a single document in the stream, but found another document",
                    ));
                }
                self.first_document_at = self.first_document_at.min(at);
            }
            Event::Alias(id) => {
                let node = self.alias(id, at, mark)?;
                self.attach(node);
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(value.into_owned(), style, anchor, tag.as_deref(), span)?;
            }
            Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag.as_deref(), span)?,
            Event::MappingStart(anchor, tag) => self.open(true, anchor, tag.as_deref(), span)?,
            Event::SequenceEnd | Event::MappingEnd => self.close(mark)?,
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: String,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), YamlError> {
        let (at, mut mark) = (span.start.index(), mark_of(span.start));
        let has_properties = anchor != 0 || tag.is_some();
        self.properties(anchor, tag.is_some(), at, mark)?;
        match style {
            ScalarStyle::Plain => self.check_plain(&value, has_properties, at, mark)?,
            _ => self.quoted_spans.push((at, span.end.index())),
        }
        // Where PyYAML marks the node. With properties it starts at them, for both parsers.
        if !has_properties {
            mark = match style {
                ScalarStyle::Literal | ScalarStyle::Folded => {
                    self.source.block_scalar_mark(at, mark)
                }
                ScalarStyle::Plain if value.is_empty() => self.source.empty_scalar_mark(at, mark),
                _ => mark,
            };
        }
        let tag = match tag_string(tag).as_deref() {
            None if style == ScalarStyle::Plain => resolve_implicit(&value).to_string(),
            None => STR.to_string(),
            // PyYAML resolves `!`-tagged scalars implicitly, even quoted ones.
            Some("!") => resolve_implicit(&value).to_string(),
            Some(explicit) => explicit.to_string(),
        };
        self.finish(
            anchor,
            RawNode {
                tag,
                mark,
                kind: RawKind::Scalar(value),
            },
        );
        Ok(())
    }

    fn open(
        &mut self,
        is_map: bool,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), YamlError> {
        let mark = mark_of(span.start);
        self.properties(anchor, tag.is_some(), span.start.index(), mark)?;
        let tag = match tag_string(tag) {
            Some(t) if t != "!" => t,
            _ => (if is_map { MAP } else { SEQ }).to_string(),
        };
        if self.stack.len() >= MAX_NESTING {
            return Err(YamlError::new(
                mark,
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        // Anything inside a flow collection is in flow context too.
        let flow = self.in_flow() || self.source.opens_flow(span.start.index(), span.end.index());
        self.stack.push(Open {
            anchor,
            tag,
            mark,
            is_map,
            flow,
            items: Vec::new(),
        });
        Ok(())
    }

    fn close(&mut self, mark: Mark) -> Result<(), YamlError> {
        let Some(open) = self.stack.pop() else {
            return Err(YamlError::new(mark, "unbalanced end of a collection"));
        };
        let kind = if open.is_map {
            let mut pairs = Vec::with_capacity(open.items.len() / 2);
            let mut items = open.items.into_iter();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                pairs.push((k, v));
            }
            RawKind::Map(pairs)
        } else {
            RawKind::Seq(open.items)
        };
        self.finish(
            open.anchor,
            RawNode {
                tag: open.tag,
                mark: open.mark,
                kind,
            },
        );
        Ok(())
    }

    fn attach(&mut self, node: Rc<RawNode>) {
        match self.stack.last_mut() {
            Some(open) => open.items.push(node),
            None => self.root = Some(node),
        }
    }

    fn finish(&mut self, anchor: usize, node: RawNode) {
        let node = Rc::new(node);
        if anchor != 0 {
            self.anchors.insert(anchor, Rc::clone(&node));
        }
        self.attach(node);
    }

    fn in_flow(&self) -> bool {
        self.stack.last().is_some_and(|open| open.flow)
    }

    /// Checks a node's anchor and tag as PyYAML's scanner would, and records the anchor.
    fn properties(
        &mut self,
        anchor: usize,
        tagged: bool,
        at: usize,
        mark: Mark,
    ) -> Result<(), YamlError> {
        if anchor == 0 && !tagged {
            return Ok(());
        }
        let props = self.source.properties(at);
        if let Some(Some(c)) = props.after_tag
            && !c.is_whitespace()
        {
            return Err(YamlError::new(
                mark,
                format!(
                    "while scanning a tag, expected ' ', but found {c:?}; PyYAML needs a space after a tag"
                ),
            ));
        }
        let Some((name, follower)) = props.anchor else {
            return Ok(());
        };
        check_anchor_name(&name, follower, "anchor", mark)?;
        if let Some(first) = self.anchor_names.get(&name) {
            return Err(YamlError::new(
                mark,
                format!("found duplicate anchor &{name}; first occurrence at {first}"),
            ));
        }
        self.anchor_names.insert(name, mark);
        Ok(())
    }

    /// A plain scalar as PyYAML's scanner sees it: it never starts with an indicator, in flow
    /// context it ends at `?` and cannot start with `:`; and the parser wants a key before a
    /// `:` unless an explicit `?` came first.
    fn check_plain(
        &self,
        value: &str,
        has_properties: bool,
        at: usize,
        mark: Mark,
    ) -> Result<(), YamlError> {
        if let Some(first) = value
            .chars()
            .next()
            .filter(|c| "[]{},#&*!|>'\"%@`".contains(*c))
        {
            return Err(YamlError::new(
                mark,
                format!(
                    "found character {first:?} that cannot start any token (PyYAML); quote the value"
                ),
            ));
        }
        if self.in_flow() && (value.contains('?') || value.starts_with(':')) {
            let what = if value.starts_with(':') {
                "start with ':'"
            } else {
                "contain '?'"
            };
            return Err(YamlError::new(
                mark,
                format!(
                    "PyYAML does not let a plain scalar inside [...] or {{...}} {what}; quote the value"
                ),
            ));
        }
        let key_position = self
            .stack
            .last()
            .is_some_and(|open| open.is_map && open.items.len() % 2 == 0);
        let keyless = value.is_empty()
            && !has_properties
            && key_position
            && self.source.char_at(at) == Some(':')
            && !self.source.after_explicit_key(at);
        if keyless {
            return Err(YamlError::new(
                mark,
                "expected the node content, but found ':'; PyYAML needs a key (or an explicit '?') before ':'",
            ));
        }
        Ok(())
    }

    fn alias(&self, id: usize, at: usize, mark: Mark) -> Result<Rc<RawNode>, YamlError> {
        let (name, follower) = self.source.alias(at);
        check_anchor_name(&name, follower, "alias", mark)?;
        self.anchors.get(&id).cloned().ok_or_else(|| {
            YamlError::new(
                mark,
                format!("alias *{name} refers to a node that contains it; recursive data is not supported"),
            )
        })
    }
}

/// PyYAML's scanner allows only ASCII letters, digits, `-` and `_` in anchor and alias names,
/// and no `[` or `{` right after them.
fn check_anchor_name(
    name: &str,
    follower: Option<char>,
    what: &str,
    mark: Mark,
) -> Result<(), YamlError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let bad = name
        .chars()
        .find(|&c| !valid(c))
        .or(follower.filter(|c| matches!(c, '[' | '{')));
    match bad {
        None if !name.is_empty() => Ok(()),
        found => Err(YamlError::new(
            mark,
            format!(
                "while scanning an {what}, expected alphabetic or numeric character, but found {}; \
                 PyYAML allows only letters, digits, '-' and '_' in anchor names",
                found.map_or_else(|| "nothing".to_string(), |c| format!("{c:?}"))
            ),
        )),
    }
}

fn tag_string(tag: Option<&Tag>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

fn mark_of(m: Marker) -> Mark {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Mark {
        line: clamp(m.line()),
        col: clamp(m.col()).saturating_add(1),
    }
}

fn scan_error(e: ScanError) -> YamlError {
    YamlError::new(mark_of(*e.marker()), e.info())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> YamlError {
        match compose(text) {
            Ok(node) => panic!("{text:?} composed: {node:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn resolves_tags_at_compose_time() {
        let Ok(Some(root)) = compose("a: 1\nb: '1'\nc: ! 1\nd: !!str 1\ne: !x\n") else {
            panic!("no document");
        };
        let RawKind::Map(pairs) = &root.kind else {
            panic!("not a mapping")
        };
        let tags: Vec<&str> = pairs.iter().map(|(_, v)| v.tag.as_str()).collect();
        assert_eq!(
            tags,
            [
                "tag:yaml.org,2002:int",
                STR,
                "tag:yaml.org,2002:int",
                STR,
                "!x"
            ]
        );
        assert_eq!(pairs[1].1.mark, Mark { line: 2, col: 4 });
    }

    #[test]
    fn marks_where_pyyaml_puts_them() {
        let marks = |text: &str| -> Vec<Mark> {
            let Ok(Some(root)) = compose(text) else {
                panic!("{text:?}")
            };
            match &root.kind {
                RawKind::Map(pairs) => pairs.iter().map(|(_, v)| v.mark).collect(),
                RawKind::Seq(items) => items.iter().map(|v| v.mark).collect(),
                RawKind::Scalar(_) => vec![root.mark],
            }
        };
        let m = |line, col| Mark { line, col };
        assert_eq!(
            marks("a: |  # c|x\n  text\nb: >-\n\n  x\nc: 1\n"),
            [m(1, 4), m(3, 4), m(6, 4)]
        );
        assert_eq!(marks("a:\nb: \nc: {x: , y}\n"), [m(1, 3), m(2, 3), m(3, 4)]);
        assert_eq!(marks("- \n-\n- |\n x\n"), [m(1, 2), m(2, 2), m(3, 3)]);
    }

    #[test]
    fn empty_stream_has_no_document() {
        assert!(matches!(compose(""), Ok(None)));
        assert!(matches!(compose("# only a comment\n"), Ok(None)));
    }

    #[test]
    fn rejects_what_pyyaml_rejects() {
        assert_eq!(err("--- 1\n--- 2\n").mark(), Mark { line: 2, col: 1 });
        assert_eq!(err("a: &x 1\nb: &x 2\n").mark(), Mark { line: 2, col: 4 });
        assert_eq!(err("a: &x.y 1\n").mark(), Mark { line: 1, col: 4 });
        assert_eq!(err("a: b\t\n").mark(), Mark { line: 1, col: 5 });
        assert_eq!(
            err("a: 1\nb: x\u{2028}y\n").mark(),
            Mark { line: 2, col: 5 }
        );
        assert_eq!(err("a: \u{1}\n").mark(), Mark { line: 1, col: 4 });
        assert_eq!(err("%YAML 2.0\n--- 1\n").mark(), Mark { line: 1, col: 1 });
        assert_eq!(
            err("# c\n\n... # end\n--- 1\n").mark(),
            Mark { line: 3, col: 1 }
        );
        assert!(compose("....\n").is_ok());
        assert!(compose("--- 1\n...\n...\n").is_ok());
        assert!(err("&a [*a]").message.contains("recursive"));
    }

    #[test]
    fn allows_tabs_where_pyyaml_does() {
        assert!(compose("a: \"x\ty\"  # c\td\nb: |\n  q\tz\nc: 'p\tq'\n").is_ok());
        assert!(compose("%YAML 1.1\n--- !!str &a-1_b x\n").is_ok());
    }
}
