//! The raw YAML text seen the way PyYAML's reader and scanner see it: the checks they make
//! that saphyr (a YAML 1.2 parser) does not, and PyYAML's positions for a few node kinds.
//! saphyr reports positions as character indices; this module maps them back to the text.

use super::{Mark, YamlError};

/// The source text addressed by saphyr's character indices.
pub(super) struct Source<'a> {
    text: &'a str,
    /// Byte offset of every character; empty for ASCII text, where the two coincide.
    offsets: Vec<usize>,
}

/// The node properties written at a node's start, as PyYAML's scanner would delimit them.
#[derive(Debug, Default)]
pub(super) struct Properties {
    /// The anchor name and the character right after it.
    pub anchor: Option<(String, Option<char>)>,
    /// The character right after the tag, when there is a tag.
    pub after_tag: Option<Option<char>>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        let offsets = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        Source { text, offsets }
    }

    fn byte(&self, index: usize) -> Option<usize> {
        if self.offsets.is_empty() {
            (index <= self.text.len()).then_some(index)
        } else if index == self.offsets.len() {
            Some(self.text.len())
        } else {
            self.offsets.get(index).copied()
        }
    }

    fn text_from(&self, index: usize) -> Option<&'a str> {
        self.text.get(self.byte(index)?..)
    }

    fn before_char(&self, index: usize) -> Option<&'a str> {
        self.text.get(..self.byte(index)?)
    }

    pub fn char_at(&self, index: usize) -> Option<char> {
        self.text_from(index)?.chars().next()
    }

    /// The anchor and tag starting at char `index`, in either order, separated by blanks.
    pub fn properties(&self, index: usize) -> Properties {
        self.text_from(index)
            .map(|rest| split_properties(rest).0)
            .unwrap_or_default()
    }

    /// Whether the collection whose start event spans chars `start..end` is a flow one. A
    /// block collection's span is empty or ends where its content starts; a flow one's
    /// covers its `[`/`{` (and whatever blanks and comments saphyr took with it).
    pub fn opens_flow(&self, start: usize, end: usize) -> bool {
        let (Some(from), Some(to)) = (self.byte(start), self.byte(end)) else {
            return false;
        };
        if from >= to {
            return false;
        }
        let rest = split_properties(&self.text[from..]).1;
        self.text.len() - rest.len() < to && rest.starts_with(['[', '{'])
    }

    /// The alias name at char `index` (which holds the `*`) and the character after it.
    pub fn alias(&self, index: usize) -> (String, Option<char>) {
        let rest = self
            .text_from(index)
            .and_then(|r| r.strip_prefix('*'))
            .unwrap_or_default();
        let (name, follower) = split_name(rest);
        (name.to_string(), follower)
    }

    /// PyYAML marks a block scalar at its `|`/`>` indicator; saphyr at its first content line.
    pub fn block_scalar_mark(&self, index: usize, mark: Mark) -> Mark {
        let Some(before) = self.before_char(index) else {
            return mark;
        };
        for (back, line) in (0u32..).zip(before.rsplit('\n')) {
            if let Some(at) = block_indicator(line) {
                let col = u32::try_from(line[..at].chars().count()).unwrap_or(u32::MAX);
                return Mark {
                    line: mark.line.saturating_sub(back),
                    col: col.saturating_add(1),
                };
            }
            if back > 0 && !line.trim().is_empty() {
                break;
            }
        }
        mark
    }

    /// PyYAML puts an empty scalar right after the indicator before it (`:`, `-`); saphyr at
    /// the `:` itself or past the spaces after a `-`. Both stay on the same line.
    pub fn empty_scalar_mark(&self, index: usize, mark: Mark) -> Mark {
        if self.char_at(index) == Some(':') {
            return Mark {
                col: mark.col + 1,
                ..mark
            };
        }
        let before = self.before_char(index).unwrap_or_default();
        let trimmed = before.trim_end_matches(' ');
        let spaces = before.len() - trimmed.len();
        if spaces > 0 && trimmed.ends_with('-') {
            let spaces = u32::try_from(spaces).unwrap_or(0);
            return Mark {
                col: mark.col.saturating_sub(spaces),
                ..mark
            };
        }
        mark
    }

    /// Whether the text before char `index` ends with an explicit key indicator `?` (ignoring
    /// blanks, line breaks and comments).
    pub fn after_explicit_key(&self, index: usize) -> bool {
        let mut before = self.before_char(index).unwrap_or_default();
        loop {
            before = before.trim_end();
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line = &before[line_start..];
            match comment_start(line) {
                Some(at) => before = &before[..line_start + at],
                None => return before.ends_with('?'),
            }
        }
    }
}

/// A node's properties and the text after them (from its content on).
fn split_properties(mut rest: &str) -> (Properties, &str) {
    let mut props = Properties::default();
    for _ in 0..2 {
        let next = skip_separation(rest);
        if let Some(after) = next.strip_prefix('&') {
            let (name, follower) = split_name(after);
            props.anchor = Some((name.to_string(), follower));
            rest = &after[name.len()..];
        } else if next.starts_with('!') {
            let end = if next.starts_with("!<") {
                next.find('>').map_or(next.len(), |i| i + 1)
            } else {
                next.find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
                    .unwrap_or(next.len())
            };
            props.after_tag = Some(next[end..].chars().next());
            rest = &next[end..];
        } else {
            break;
        }
    }
    (props, skip_separation(rest))
}

/// Blanks, line breaks and comments between node properties.
fn skip_separation(mut rest: &str) -> &str {
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => return rest,
        }
    }
}

/// An anchor or alias name as saphyr delimits it, and the character that ends it.
fn split_name(rest: &str) -> (&str, Option<char>) {
    let end = rest
        .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
        .unwrap_or(rest.len());
    (&rest[..end], rest[end..].chars().next())
}

/// Where a comment starts in `line`: a `#` at the start or after a blank.
fn comment_start(line: &str) -> Option<usize> {
    line.char_indices()
        .find(|&(i, c)| {
            c == '#'
                && line[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|p| p == ' ' || p == '\t')
        })
        .map(|(i, _)| i)
}

/// The byte offset of a block scalar header's indicator in `line`: a `|` or `>` followed only
/// by indentation/chomping indicators, spaces and a comment.
fn block_indicator(line: &str) -> Option<usize> {
    line.char_indices()
        .filter(|&(_, c)| c == '|' || c == '>')
        .map(|(i, _)| i)
        .find(|&i| {
            let rest = line[i + 1..]
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
            let rest = rest.trim_start_matches([' ', '\t', '\r']);
            rest.is_empty() || rest.starts_with('#')
        })
}

/// PyYAML's reader rejects non-printable characters. It also treats NEL, LINE SEPARATOR and
/// PARAGRAPH SEPARATOR as line breaks where YAML 1.2 sees content; rather than hash such a
/// file differently, we refuse it.
pub(super) fn check_characters(text: &str) -> Result<(), YamlError> {
    let (mut line, mut col) = (1u32, 1u32);
    for ch in text.chars() {
        let at = Mark { line, col };
        if matches!(ch, '\u{85}' | '\u{2028}' | '\u{2029}') {
            return Err(YamlError::new(
                at,
                format!(
                    "character U+{:04X} is a line break for PyYAML (YAML 1.1) but not for YAML 1.2; remove it",
                    u32::from(ch)
                ),
            ));
        }
        let printable = matches!(ch,
            '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'..);
        if !printable {
            return Err(YamlError::new(
                at,
                format!(
                    "unacceptable character #x{:04x}: special characters are not allowed",
                    u32::from(ch)
                ),
            ));
        }
        (line, col) = if ch == '\n' {
            (line + 1, 1)
        } else {
            (line, col + 1)
        };
    }
    Ok(())
}

/// PyYAML starts an implicit document at the first token, so a stream opening with the
/// document end marker `...` has a document with no content: an error there.
pub(super) fn check_leading_document_end(text: &str) -> Result<(), YamlError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    for (line, content) in (1u32..).zip(text.split('\n')) {
        let trimmed = content.trim_start_matches(' ').trim_end_matches('\r');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let marker = content
            .strip_prefix("...")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']));
        if marker {
            return Err(YamlError::new(
                Mark { line, col: 1 },
                "expected the node content, but found '<document end>' (a `...` before any document)",
            ));
        }
        break;
    }
    Ok(())
}

/// PyYAML's scanner only skips spaces between tokens: a tab outside a quoted or block scalar
/// or a comment is an error for it (YAML 1.2 allows more). It also refuses `%YAML 2.x`.
/// `quoted` holds the char spans of quoted and block scalars, in order.
pub(super) fn check_layout(
    text: &str,
    quoted: &[(usize, usize)],
    document_at: usize,
) -> Result<(), YamlError> {
    let mut spans = quoted.iter().peekable();
    let (mut line, mut col) = (1u32, 1u32);
    let mut in_comment = false;
    let mut after_space = true;
    for (index, (byte, ch)) in text.char_indices().enumerate() {
        while spans.next_if(|&&(_, end)| index >= end).is_some() {}
        let quoted = spans.peek().is_some_and(|&&(start, _)| index >= start);
        if ch == '\n' {
            (line, col, in_comment, after_space) = (line + 1, 1, false, true);
            continue;
        }
        if !quoted && !in_comment {
            let at = Mark { line, col };
            match ch {
                '#' if after_space => in_comment = true,
                '\t' => {
                    return Err(YamlError::new(
                        at,
                        "found a tab character that cannot start any token; PyYAML accepts tabs \
                         only inside quoted or block scalars and comments",
                    ));
                }
                '%' if col == 1 && index < document_at => {
                    check_version_directive(&text[byte..], at)?
                }
                _ => {}
            }
        }
        after_space = matches!(ch, ' ' | '\r');
        col += 1;
    }
    Ok(())
}

fn check_version_directive(line: &str, at: Mark) -> Result<(), YamlError> {
    let line = line.split('\n').next().unwrap_or_default();
    let Some(version) = line.strip_prefix("%YAML ") else {
        return Ok(());
    };
    let major = version
        .trim_start_matches(' ')
        .split('.')
        .next()
        .unwrap_or_default();
    if major == "1" {
        Ok(())
    } else {
        Err(YamlError::new(
            at,
            "found incompatible YAML document (version 1.* is required)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_in_either_order() {
        let src = Source::new("a: !!str &x1 v\nb: &y !t # c\n  [1]\nc: !!str,\nd: &z[");
        let p = src.properties(3);
        assert_eq!(p.anchor, Some(("x1".to_string(), Some(' '))));
        assert_eq!(p.after_tag, Some(Some(' ')));
        let p = src.properties(18);
        assert_eq!(p.anchor, Some(("y".to_string(), Some(' '))));
        assert_eq!(p.after_tag, Some(Some(' ')));
        assert_eq!(src.properties(37).after_tag, Some(Some(',')));
        assert_eq!(
            src.properties(47).anchor,
            Some(("z".to_string(), Some('[')))
        );
    }

    #[test]
    fn flow_or_block_collections() {
        // "[ # c" as saphyr spans a flow sequence start; an empty span is a block collection.
        let src = Source::new("[ # c\n x]\n&a [k]: v\n&b { x }\n");
        assert!(src.opens_flow(0, 5));
        assert!(!src.opens_flow(10, 10));
        assert!(!src.opens_flow(10, 13));
        assert!(src.opens_flow(20, 24));
    }

    #[test]
    fn explicit_key_detection() {
        let src = Source::new("? # c\n  # d\n: x\n{a: 1, : 2}");
        assert!(src.after_explicit_key(12));
        assert!(!src.after_explicit_key(23));
    }

    #[test]
    fn non_ascii_indices_map_to_bytes() {
        let src = Source::new("é: &ä x\n");
        assert_eq!(src.char_at(3), Some('&'));
        assert_eq!(src.properties(3).anchor, Some(("ä".to_string(), Some(' '))));
    }

    #[test]
    fn text_checks() {
        let err = |r: Result<(), YamlError>| r.err().map(|e| (e.line, e.col));
        assert_eq!(err(check_characters("a: 1\nb: \u{7f}")), Some((2, 4)));
        assert_eq!(err(check_characters("a: \u{feff}ok\u{1F600}")), None);
        assert_eq!(
            err(check_leading_document_end("\n# c\n...\n")),
            Some((3, 1))
        );
        assert_eq!(err(check_leading_document_end("a\n...\n")), None);
        assert_eq!(
            err(check_layout("a: 'x\ty' # \t\nb:\tc\n", &[(3, 8)], 0)),
            Some((2, 3))
        );
        assert_eq!(
            err(check_layout("%YAML 2.0\n--- 1\n", &[], 10)),
            Some((1, 1))
        );
        assert_eq!(err(check_layout("%YAML 1.2\n--- 1\n", &[], 10)), None);
    }
}
