//! Naming templates for Azure resources (`batch-endpoint-{plant}`, `{plant}-{circuit}`): filled
//! with lower-cased ids to name a resource, and read backwards to find the circuit a resource
//! belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{CircuitId, CircuitRef, PlantId};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(String),
    Plant,
    Circuit,
}

/// A template naming at least one of `{plant}` and `{circuit}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    text: String,
    tokens: Vec<Token>,
}

impl NameTemplate {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn has_plant(&self) -> bool {
        self.tokens.contains(&Token::Plant)
    }

    pub fn has_circuit(&self) -> bool {
        self.tokens.contains(&Token::Circuit)
    }

    /// The name of a circuit's resource.
    pub fn render(&self, c: &CircuitRef) -> String {
        c.render(&self.text)
    }

    /// The name of a plant's resource (a template without `{circuit}`).
    pub fn render_plant(&self, p: &PlantId) -> String {
        self.text.replace("{plant}", &p.lower())
    }

    /// The plant and circuit a resource name was made from, if it fits the template.
    /// Matching ignores case; ids come back upper-cased.
    pub fn parse(&self, name: &str) -> Option<(Option<PlantId>, Option<CircuitId>)> {
        let mut rest = name;
        let (mut plant, mut circuit) = (None, None);
        for t in &self.tokens {
            match t {
                Token::Lit(l) => {
                    let head = rest.get(..l.len())?;
                    if !head.eq_ignore_ascii_case(l) {
                        return None;
                    }
                    rest = &rest[l.len()..];
                }
                Token::Plant => {
                    let (id, tail) = take_id(rest, "plant")?;
                    plant = Some(id.parse().ok()?);
                    rest = tail;
                }
                Token::Circuit => {
                    let (id, tail) = take_id(rest, "circuit")?;
                    circuit = Some(id.parse().ok()?);
                    rest = tail;
                }
            }
        }
        rest.is_empty().then_some((plant, circuit))
    }

    /// The circuit a per-circuit resource name (a model name) was made from.
    pub fn parse_circuit(&self, name: &str) -> Option<CircuitRef> {
        match self.parse(name)? {
            (Some(p), Some(c)) => Some(CircuitRef::new(p, c)),
            _ => None,
        }
    }
}

/// `prefix` + digits at the start of `s`, upper-cased, and what follows.
fn take_id<'a>(s: &'a str, prefix: &str) -> Option<(String, &'a str)> {
    let head = s.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let digits = s[prefix.len()..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = prefix.len() + digits;
    (digits > 0).then(|| (s[..end].to_ascii_uppercase(), &s[end..]))
}

impl FromStr for NameTemplate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(tail) = rest.strip_prefix("{plant}") {
                tokens.push(Token::Plant);
                rest = tail;
            } else if let Some(tail) = rest.strip_prefix("{circuit}") {
                tokens.push(Token::Circuit);
                rest = tail;
            } else if rest.starts_with('{') || rest.starts_with('}') {
                return Err(format!(
                    "template `{s}` has an unknown placeholder; only {{plant}} and {{circuit}} exist"
                ));
            } else {
                let end = rest.find(['{', '}']).unwrap_or(rest.len());
                tokens.push(Token::Lit(rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
        if !tokens
            .iter()
            .any(|t| matches!(t, Token::Plant | Token::Circuit))
        {
            return Err(format!(
                "template `{s}` names no placeholder; use {{plant}} and/or {{circuit}}"
            ));
        }
        Ok(NameTemplate {
            text: s.to_owned(),
            tokens,
        })
    }
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for NameTemplate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for NameTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NameTemplate {
        s.parse().unwrap()
    }

    #[test]
    fn renders_and_reads_back() {
        let c: CircuitRef = "PLANT012/CIRCUIT07".parse().unwrap();
        for tpl in [
            "{plant}-{circuit}",
            "m_{plant}_{circuit}_v",
            "{plant}{circuit}",
        ] {
            let name = t(tpl).render(&c);
            assert_eq!(
                t(tpl).parse_circuit(&name),
                Some(c.clone()),
                "{tpl} -> {name}"
            );
        }
        assert_eq!(
            t("batch-endpoint-{plant}").render_plant(&c.plant),
            "batch-endpoint-plant012"
        );
        let (p, circuit) = t("batch-endpoint-{plant}")
            .parse("Batch-Endpoint-PLANT012")
            .unwrap();
        assert_eq!((p, circuit), (Some(c.plant.clone()), None));
    }

    #[test]
    fn names_that_do_not_fit_are_rejected() {
        let m = t("{plant}-{circuit}");
        for bad in [
            "plant001",
            "plant001-circuit",
            "plant001-circuit01-old",
            "x-plant001-circuit01",
            "plantA-circuit01",
        ] {
            assert_eq!(m.parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!("{site}-{circuit}".parse::<NameTemplate>().is_err());
        assert!("static-name".parse::<NameTemplate>().is_err());
        assert!("{plant".parse::<NameTemplate>().is_err());
    }
}
