//! Values rendered as compact YAML flow text for people: `{a: 1, b: [x, 'yes']}`. Strings are
//! quoted only when a plain scalar would read back as something else.

use std::fmt::{self, Write as _};

use super::Value;
use super::resolve::{STR, resolve_implicit};
use crate::pyjson::float_repr;

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_nan() => f.write_str(".nan"),
            Value::Float(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { ".inf" } else { "-.inf" })
            }
            Value::Float(x) => f.write_str(&float_repr(*x)),
            Value::Str(s) => write_string(f, s),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Timestamp(t) => f.write_str(t),
            Value::Seq(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.value.fmt(f)?;
                }
                f.write_char(']')
            }
            Value::Map(map) => {
                f.write_char('{')?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", k.value, v.value)?;
                }
                f.write_char('}')
            }
        }
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if plain_is_safe(s) {
        f.write_str(s)
    } else if s.chars().all(|c| printable(c) && c != '\t') {
        write!(f, "'{}'", s.replace('\'', "''"))
    } else {
        write_double_quoted(f, s)
    }
}

/// Characters that may appear unescaped in any scalar, as PyYAML's emitter sees it. The
/// Unicode line and paragraph separators are line breaks to PyYAML: always escaped.
fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// Whether `s` written plain inside a flow collection reads back as the same string (for
/// PyYAML, which also ends flow-context plain scalars at `?`).
fn plain_is_safe(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    resolve_implicit(s) == STR
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && first != ' '
        && !matches!(last, ' ' | ':')
        && !ends_in_a_spaced_dash(s)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains([',', '[', ']', '{', '}', '?'])
        && !s.starts_with("...")
        && s.chars().all(printable)
}

/// `[a -]`: PyYAML reads `a -`; saphyr-parser 0.3 refuses a plain scalar ending in a spaced
/// dash inside a flow collection. Quoted, both read it.
fn ends_in_a_spaced_dash(s: &str) -> bool {
    s.strip_suffix('-')
        .is_some_and(|rest| rest.ends_with([' ', '\t']))
}

fn write_double_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\0' => f.write_str("\\0")?,
            '\u{7}' => f.write_str("\\a")?,
            '\u{8}' => f.write_str("\\b")?,
            '\t' => f.write_str("\\t")?,
            '\n' => f.write_str("\\n")?,
            '\u{B}' => f.write_str("\\v")?,
            '\u{C}' => f.write_str("\\f")?,
            '\r' => f.write_str("\\r")?,
            '\u{1B}' => f.write_str("\\e")?,
            '\u{85}' => f.write_str("\\N")?,
            '\u{2028}' => f.write_str("\\L")?,
            '\u{2029}' => f.write_str("\\P")?,
            c if printable(c) => f.write_char(c)?,
            c if u32::from(c) <= 0xFF => write!(f, "\\x{:02X}", u32::from(c))?,
            c if u32::from(c) <= 0xFFFF => write!(f, "\\u{:04X}", u32::from(c))?,
            c => write!(f, "\\U{:08X}", u32::from(c))?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::super::{Mapping, Node, load};
    use super::*;

    fn show(v: Value) -> String {
        v.to_string()
    }

    #[test]
    fn scalars() {
        assert_eq!(show(Value::Null), "null");
        assert_eq!(show(Value::Bool(true)), "true");
        assert_eq!(show(Value::Int(-3)), "-3");
        assert_eq!(show(Value::Float(1e-5)), "1e-05");
        assert_eq!(show(Value::Float(100.0)), "100.0");
        assert_eq!(show(Value::Float(f64::NEG_INFINITY)), "-.inf");
        assert_eq!(show(Value::Float(f64::NAN)), ".nan");
    }

    #[test]
    fn strings_quoted_only_when_needed() {
        let cases = [
            ("plain text", "plain text"),
            ("Hydraulic press – west hall", "Hydraulic press – west hall"),
            ("yes", "'yes'"),
            ("y", "y"),
            ("1.0", "'1.0'"),
            ("1e-4", "1e-4"),
            ("2025-11-01", "'2025-11-01'"),
            ("", "''"),
            ("~", "'~'"),
            ("<<", "'<<'"),
            ("=", "'='"),
            ("a: b", "'a: b'"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            ("a,b", "'a,b'"),
            ("http://h/p?q=1", "'http://h/p?q=1'"),
            ("...", "'...'"),
            ("- x", "'- x'"),
            (" lead", "' lead'"),
            ("line\nbreak", "\"line\\nbreak\""),
            ("tab\there", "\"tab\\there\""),
            ("bell\u{7}", "\"bell\\a\""),
        ];
        for (s, want) in cases {
            assert_eq!(show(Value::Str(s.into())), want, "{s:?}");
        }
    }

    #[test]
    fn collections_in_flow_style() {
        let mut m = Mapping::new();
        m.insert(
            Node::detached(Value::Str("a".into())),
            Node::detached(Value::Int(1)),
        );
        let list = vec![
            Node::detached(Value::Str("x".into())),
            Node::detached(Value::Str("on".into())),
        ];
        m.insert(
            Node::detached(Value::Bool(true)),
            Node::detached(Value::Seq(list)),
        );
        m.insert(
            Node::detached(Value::Str("e".into())),
            Node::detached(Value::Map(Mapping::new())),
        );
        assert_eq!(show(Value::Map(m)), "{a: 1, true: [x, 'on'], e: {}}");
        assert_eq!(show(Value::Seq(Vec::new())), "[]");
    }

    #[test]
    fn display_reads_back_the_same() {
        let texts = [
            "yes",
            "1:30",
            "0x1F",
            "null",
            "a # b",
            "x: y",
            "é",
            "\"",
            "[1]",
            "1_000",
            ".5",
            "-.5",
            "a?b",
            "...",
            "it's",
            "tab\tin",
            "new\nline",
        ];
        for text in texts {
            let original = Value::Str(text.to_string());
            let shown = format!("k: {original}");
            let Ok(back) = load(&shown) else {
                panic!("{shown:?} does not load")
            };
            let value = back
                .value
                .as_map()
                .and_then(|m| m.get("k"))
                .map(|n| n.value.clone());
            assert_eq!(value, Some(original), "{shown:?}");
        }
    }
}
