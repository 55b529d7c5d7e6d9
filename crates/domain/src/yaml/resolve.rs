//! YAML 1.1 implicit tag resolution and scalar construction, transcribed from PyYAML 6's
//! `resolver.py` (the regexes, hand-matched) and `constructor.py` (`SafeConstructor`).
//!
//! Python regexes anchored with `$` also match before one trailing `\n`; that matters for
//! quoted or block scalars carrying the non-specific `!` tag, which PyYAML resolves too.

use super::timestamp::is_timestamp;

pub(super) const NULL: &str = "tag:yaml.org,2002:null";
pub(super) const BOOL: &str = "tag:yaml.org,2002:bool";
pub(super) const INT: &str = "tag:yaml.org,2002:int";
pub(super) const FLOAT: &str = "tag:yaml.org,2002:float";
pub(super) const STR: &str = "tag:yaml.org,2002:str";
pub(super) const TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";
pub(super) const MERGE: &str = "tag:yaml.org,2002:merge";
pub(super) const VALUE: &str = "tag:yaml.org,2002:value";
pub(super) const YAML: &str = "tag:yaml.org,2002:yaml";
pub(super) const SEQ: &str = "tag:yaml.org,2002:seq";
pub(super) const MAP: &str = "tag:yaml.org,2002:map";

type Matcher = fn(&str) -> bool;

/// The tag PyYAML's `Resolver.resolve` gives an implicitly tagged scalar. Resolvers are looked
/// up by the first character and tried in registration order (bool, float, int, merge, null,
/// timestamp, value, yaml); the first full match wins, otherwise it is a string.
pub(super) fn resolve_implicit(value: &str) -> &'static str {
    let Some(first) = value.chars().next() else {
        // Only the null resolver is registered for the empty string, and it matches.
        return NULL;
    };
    let candidates: &[(&'static str, Matcher)] = match first {
        'y' | 'Y' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' => &[(BOOL, is_bool)],
        'n' | 'N' => &[(BOOL, is_bool), (NULL, is_null)],
        '-' | '+' => &[(FLOAT, is_float), (INT, is_int)],
        '0'..='9' => &[(FLOAT, is_float), (INT, is_int), (TIMESTAMP, is_timestamp)],
        '.' => &[(FLOAT, is_float)],
        '<' => &[(MERGE, |s| s == "<<")],
        '~' => &[(NULL, is_null)],
        '=' => &[(VALUE, |s| s == "=")],
        '!' | '&' | '*' => &[(YAML, |s| matches!(s, "!" | "&" | "*"))],
        _ => &[],
    };
    candidates
        .iter()
        .find(|(_, matcher)| dollar_match(value, *matcher))
        .map_or(STR, |(tag, _)| tag)
}

/// `re.match(r'^(?:...)$', s)`: `$` also matches just before a final newline.
fn dollar_match(s: &str, matcher: Matcher) -> bool {
    matcher(s) || s.strip_suffix('\n').is_some_and(matcher)
}

fn is_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_null(s: &str) -> bool {
    matches!(s, "~" | "null" | "Null" | "NULL" | "")
}

/// A byte cursor for the hand-written matchers; every pattern is ASCII-only.
pub(super) struct Cur<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Cur<'a> {
    pub fn new(s: &'a str) -> Self {
        Cur {
            b: s.as_bytes(),
            i: 0,
        }
    }
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    pub fn eat_if(&mut self, f: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if f(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }
    pub fn eat(&mut self, c: u8) -> bool {
        self.eat_if(|x| x == c)
    }
    pub fn eat_str(&mut self, s: &str) -> bool {
        if self.b[self.i..].starts_with(s.as_bytes()) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    pub fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat_if(&f) {}
        self.i - start
    }
    pub fn eat_sign(&mut self) {
        self.eat_if(|c| c == b'-' || c == b'+');
    }
    pub fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

pub(super) fn digit(c: u8) -> bool {
    c.is_ascii_digit()
}
fn digit_us(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `(?:[eE][-+][0-9]+)?` — optional, so a partial exponent leaves the cursor untouched.
fn opt_exponent(c: &mut Cur) {
    let save = c.i;
    if !(c.eat_if(|x| x == b'e' || x == b'E')
        && c.eat_if(|x| x == b'-' || x == b'+')
        && c.eat_while(digit) > 0)
    {
        c.i = save;
    }
}

/// `(?::[0-5]?[0-9])+`. Taking two digits when possible is exact: whatever follows a part
/// (`:`, `.` or the end) is never a digit.
fn sexagesimal_parts(c: &mut Cur) -> bool {
    let mut parts = 0;
    while c.eat(b':') {
        let two = matches!(c.peek(), Some(b'0'..=b'5'))
            && c.b.get(c.i + 1).is_some_and(|x| x.is_ascii_digit());
        if two {
            c.i += 2;
        } else if !c.eat_if(digit) {
            return false;
        }
        parts += 1;
    }
    parts > 0
}

/// PyYAML's float resolver regex.
fn is_float(s: &str) -> bool {
    let decimal = || {
        let mut c = Cur::new(s);
        c.eat_sign();
        if !c.eat_if(digit) {
            return false;
        }
        c.eat_while(digit_us);
        if !c.eat(b'.') {
            return false;
        }
        c.eat_while(digit_us);
        opt_exponent(&mut c);
        c.done()
    };
    let leading_dot = || {
        let mut c = Cur::new(s);
        if !(c.eat(b'.') && c.eat_if(digit)) {
            return false;
        }
        c.eat_while(digit_us);
        opt_exponent(&mut c);
        c.done()
    };
    let sexagesimal = || {
        let mut c = Cur::new(s);
        c.eat_sign();
        if !c.eat_if(digit) {
            return false;
        }
        c.eat_while(digit_us);
        if !(sexagesimal_parts(&mut c) && c.eat(b'.')) {
            return false;
        }
        c.eat_while(digit_us);
        c.done()
    };
    let inf = || {
        let mut c = Cur::new(s);
        c.eat_sign();
        c.eat(b'.') && (c.eat_str("inf") || c.eat_str("Inf") || c.eat_str("INF")) && c.done()
    };
    decimal() || leading_dot() || sexagesimal() || inf() || matches!(s, ".nan" | ".NaN" | ".NAN")
}

/// PyYAML's int resolver regex.
fn is_int(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let all = |t: &str, f: fn(u8) -> bool| !t.is_empty() && t.bytes().all(f);
    let binary = body
        .strip_prefix("0b")
        .is_some_and(|d| all(d, |x| matches!(x, b'0' | b'1' | b'_')));
    let octal = body
        .strip_prefix('0')
        .is_some_and(|d| all(d, |x| matches!(x, b'0'..=b'7' | b'_')));
    let hex = body
        .strip_prefix("0x")
        .is_some_and(|d| all(d, |x| x.is_ascii_hexdigit() || x == b'_'));
    let nonzero_head = |c: &mut Cur| {
        let ok = c.eat_if(|x| matches!(x, b'1'..=b'9'));
        c.eat_while(digit_us);
        ok
    };
    let decimal = body == "0" || {
        let mut c = Cur::new(body);
        nonzero_head(&mut c) && c.done()
    };
    let sexagesimal = {
        let mut c = Cur::new(body);
        nonzero_head(&mut c) && sexagesimal_parts(&mut c) && c.done()
    };
    binary || octal || decimal || hex || sexagesimal
}

/// `bool_values[value.lower()]`.
pub(super) fn construct_bool(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        _ => Err(format!("{s:?} is not a YAML 1.1 boolean")),
    }
}

/// `SafeConstructor.construct_yaml_int`.
pub(super) fn construct_int(s: &str) -> Result<i128, String> {
    let value: String = s.chars().filter(|&c| c != '_').collect();
    let negative = value.starts_with('-');
    let rest = value.strip_prefix(['-', '+']).unwrap_or(&value);
    let magnitude = if rest == "0" {
        0
    } else if let Some(digits) = rest.strip_prefix("0b") {
        py_int(digits, 2)?
    } else if let Some(digits) = rest.strip_prefix("0x") {
        py_int(digits, 16)?
    } else if rest.starts_with('0') {
        py_int(rest, 8)?
    } else if rest.is_empty() {
        return Err(format!("{s:?} is not an integer"));
    } else if rest.contains(':') {
        let mut total: i128 = 0;
        // `None` once 60^k no longer fits; only zero digits may follow then.
        let mut base: Option<i128> = Some(1);
        for part in rest.split(':').rev() {
            let digit = py_int(part, 10)?;
            let term = if digit == 0 {
                Some(0)
            } else {
                base.and_then(|b| digit.checked_mul(b))
            };
            total = term
                .and_then(|t| total.checked_add(t))
                .ok_or_else(too_large)?;
            base = base.and_then(|b| b.checked_mul(60));
        }
        total
    } else {
        py_int(rest, 10)?
    };
    if negative {
        magnitude.checked_neg().ok_or_else(too_large)
    } else {
        Ok(magnitude)
    }
}

fn too_large() -> String {
    "integer out of range (relcon keeps integers within 128 bits)".into()
}

/// Python's `int(s, base)` for the inputs PyYAML hands it (underscores already removed):
/// surrounding whitespace, a sign, and for bases 2/8/16 the matching `0b`/`0o`/`0x` prefix.
fn py_int(s: &str, base: u32) -> Result<i128, String> {
    let invalid = || format!("invalid literal for int() with base {base}: {s:?}");
    let t = s.trim_matches(char::is_whitespace);
    let negative = t.starts_with('-');
    let mut digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let prefix = match base {
        2 => Some(['b', 'B']),
        8 => Some(['o', 'O']),
        16 => Some(['x', 'X']),
        _ => None,
    };
    if let Some(rest) = prefix.and_then(|letters| digits.strip_prefix('0')?.strip_prefix(letters)) {
        digits = rest;
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut value: i128 = 0;
    for ch in digits.chars() {
        let d = ch.to_digit(base).ok_or_else(invalid)?;
        value = value
            .checked_mul(i128::from(base))
            .and_then(|v| v.checked_add(i128::from(d)))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -value } else { value })
}

/// `SafeConstructor.construct_yaml_float`.
pub(super) fn construct_float(s: &str) -> Result<f64, String> {
    let value: String = s
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let negative = value.starts_with('-');
    let rest = value.strip_prefix(['-', '+']).unwrap_or(&value);
    if value.is_empty() {
        return Err("an empty string is not a float".into());
    }
    let magnitude = if rest == ".inf" {
        f64::INFINITY
    } else if rest == ".nan" {
        // PyYAML returns its NaN unsigned, whatever the sign.
        return Ok(f64::NAN);
    } else if rest.contains(':') {
        let mut total = 0.0;
        let mut base: u128 = 1;
        for part in rest.split(':').rev() {
            // Python: `float * int`, the int converted to the nearest float.
            total += py_float(part)? * base as f64;
            base = base.checked_mul(60).ok_or("too many sexagesimal parts")?;
        }
        total
    } else {
        py_float(rest)?
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Python's `float(s)` (no underscores left by then): whitespace, a sign, decimal digits with
/// an optional point and exponent, or `inf`/`infinity`/`nan`.
fn py_float(s: &str) -> Result<f64, String> {
    let invalid = || format!("could not convert string to float: {s:?}");
    let t = s.trim_matches(char::is_whitespace);
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let lower = body.to_ascii_lowercase();
    if !matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        let mut c = Cur::new(body);
        let int_digits = c.eat_while(digit);
        let frac_digits = if c.eat(b'.') { c.eat_while(digit) } else { 0 };
        if int_digits + frac_digits == 0 {
            return Err(invalid());
        }
        if c.eat_if(|x| x == b'e' || x == b'E') {
            c.eat_sign();
            if c.eat_while(digit) == 0 {
                return Err(invalid());
            }
        }
        if !c.done() {
            return Err(invalid());
        }
    }
    // Rust's parser accepts this grammar and rounds correctly, as CPython does.
    t.parse::<f64>().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_yaml11_scalars() {
        let cases = [
            ("yes", BOOL),
            ("Off", BOOL),
            ("y", STR),
            ("n", STR),
            ("NULL", NULL),
            ("", NULL),
            ("~", NULL),
            ("nul", STR),
            ("1e-4", STR),
            ("1.0e-4", FLOAT),
            ("1.5e3", STR),
            ("1.5E+3", FLOAT),
            (".5", FLOAT),
            ("-.5", STR),
            ("1.", FLOAT),
            ("-.inf", FLOAT),
            (".NaN", FLOAT),
            ("-.nan", STR),
            ("1_0.5", FLOAT),
            ("190:20:30.15", FLOAT),
            ("1_000", INT),
            ("0x_ff", INT),
            ("0b101", INT),
            ("017", INT),
            ("09", STR),
            ("0o17", STR),
            ("+12", INT),
            ("1:30", INT),
            ("1:67", STR),
            ("0:30", STR),
            ("2025-11-01", TIMESTAMP),
            ("2025-1-01", STR),
            ("2025-11-01T10:00:00Z", TIMESTAMP),
            ("2025-1-1 1:00:00.5 +05:30", TIMESTAMP),
            ("<<", MERGE),
            ("=", VALUE),
            ("12\n", INT),
            ("yes\n", BOOL),
            ("yes\n\n", STR),
        ];
        for (text, tag) in cases {
            assert_eq!(resolve_implicit(text), tag, "{text:?}");
        }
    }

    #[test]
    fn constructs_ints_like_pyyaml() {
        let cases = [
            ("0", 0),
            ("-0", 0),
            ("017", 15),
            ("0x_ff", 255),
            ("-0b101", -5),
            ("1_000", 1000),
            ("1:30", 90),
            ("-190:20:30", -685_230),
            ("0o17", 15),
            ("--5", 5),
            ("0b0b1", 1),
            (" 12\n", 12),
        ];
        for (text, want) in cases {
            assert_eq!(construct_int(text), Ok(want), "{text:?}");
        }
        for bad in [
            "",
            "-",
            "0b_",
            "0x",
            "1.5",
            "abc",
            "99999999999999999999999999999999999999999",
        ] {
            assert!(construct_int(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn constructs_bools() {
        assert_eq!(construct_bool("YES"), Ok(true));
        assert_eq!(construct_bool("oFF"), Ok(false));
        assert!(construct_bool("y").is_err());
    }

    #[test]
    fn constructs_floats_like_pyyaml() {
        let cases = [
            ("1.0e-4", 1.0e-4),
            ("1_0.5", 10.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("190:20:30.15", 685_230.15),
            ("-1:30.0", -90.0),
            ("1e5", 100_000.0),
            ("inf", f64::INFINITY),
            ("-.INF", f64::NEG_INFINITY),
        ];
        for (text, want) in cases {
            assert_eq!(construct_float(text), Ok(want), "{text:?}");
        }
        assert!(construct_float(".nan").is_ok_and(f64::is_nan));
        assert_eq!(construct_float("-0.0").map(f64::is_sign_negative), Ok(true));
        for bad in ["", "abc", "1e", "..5", "1.2.3"] {
            assert!(construct_float(bad).is_err(), "{bad:?}");
        }
    }
}
