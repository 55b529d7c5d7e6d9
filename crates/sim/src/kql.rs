//! A small recogniser of the KQL relcon sends, so that the simulator refuses what Log Analytics
//! or Application Insights would refuse. It is not a KQL engine: it reads the query's tokens,
//! checks that the table exists at this scope and that every column the query names is one
//! of that table's documented columns (or a name the query itself defined with `name = ...`),
//! and then says which of relcon's reads it is by the metric names the query selects with
//! `<name column> == '...'` or `<name column> in (...)`.
//!
//! What it checks: the table (first token), each bare identifier that is not a function call
//! (`f(`), a dynamic member (`Properties.plant_id`), a keyword or an alias. What it does not:
//! which columns survive `summarize`/`project`, types, or operators' syntax. The columns are
//! Microsoft's reference (`tests/data/monitor/tables.json`, held equal by a contract test).
//! A refusal has the service's shape: `BadArgumentError` / `SemanticError` / `SEM0100`.

use std::collections::BTreeSet;

use crate::service::queries::{ACCURACY_METRIC, DRIFT_METRIC, VALIDATION_METRICS};

/// Where a query is sent: the names its tables have there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Log Analytics workspace: `AppMetrics`, `AppEvents`.
    Workspace,
    /// The Application Insights query API: `customMetrics`, `customEvents`.
    AppInsights,
}

pub use super::tables::{APP_EVENTS, APP_METRICS, CUSTOM_EVENTS, CUSTOM_METRICS, TableSchema};

impl Scope {
    pub fn tables(self) -> &'static [TableSchema] {
        match self {
            Scope::Workspace => &[APP_METRICS, APP_EVENTS],
            Scope::AppInsights => &[CUSTOM_METRICS, CUSTOM_EVENTS],
        }
    }

    /// The column that holds a metric's name.
    fn name_column(self) -> &'static str {
        match self {
            Scope::Workspace => "Name",
            Scope::AppInsights => "name",
        }
    }
}

/// Which of relcon's reads a query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Drift,
    Accuracy,
    Validation,
    Coverage,
}

/// A recognised query: the read, the days its `ago(Nd)` looks back, if it says, and the part
/// of the plants it asks for (`hash(<plant id>, of) == index`), if it is split.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub read: Read,
    pub ago_days: Option<f64>,
    pub part: Part,
}

/// The plants a query keeps: those whose hash modulo `of` is `index` (all when `of` is 1).
/// The simulator's hash is its own (FNV-1a); what matters is that each plant falls in exactly
/// one part, as with Kusto's `hash()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: u64,
    pub of: u64,
}

impl Part {
    pub const WHOLE: Part = Part { index: 0, of: 1 };

    pub fn keeps(&self, plant: &str) -> bool {
        if self.of <= 1 {
            return true;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in plant.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % self.of == self.index
    }
}

/// `hash(...plant_id..., N) == k` starting at `toks[i]` (the `hash`), if that is what it is.
fn plant_part(toks: &[Tok], i: usize) -> Option<Part> {
    let mut depth = 0usize;
    let mut j = i + 1;
    let mut names_plant = false;
    loop {
        match toks.get(j)? {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Ident(w) if w == "plant_id" => names_plant = true,
            _ => {}
        }
        j += 1;
    }
    let of = match (toks.get(j - 2)?, toks.get(j - 1)?) {
        (Tok::Punct(comma), Tok::Num(n)) if comma == "," => n.parse::<u64>().ok()?,
        _ => return None,
    };
    let index = match (toks.get(j + 1)?, toks.get(j + 2)?) {
        (Tok::Punct(eq), Tok::Num(n)) if eq == "==" => n.parse::<u64>().ok()?,
        _ => return None,
    };
    (names_plant && of > 0 && index < of).then_some(Part { index, of })
}

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `SEM0100`: a table or column that does not exist here; `operator` is where it was met.
    Unresolved { operator: String, name: String },
    /// A well-formed query over the right names that is not one of relcon's reads: the
    /// simulator cannot evaluate arbitrary KQL.
    NotSimulated,
    /// No table at the start.
    Syntax(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(String),
}

fn tokens(q: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some('\\') => {
                        if let Some(n) = chars.get(i + 1) {
                            s.push(*n);
                        }
                        i += 2;
                    }
                    Some(&x) if x == c => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        s.push(x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            i = i.max(start + 1);
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "=~", "!~"].contains(&two.as_str()) {
                out.push(Tok::Punct(two));
                i += 2;
            } else {
                out.push(Tok::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Words that are part of the language, not names.
const KEYWORDS: &[&str] = &[
    "where",
    "extend",
    "summarize",
    "order",
    "sort",
    "project",
    "take",
    "limit",
    "top",
    "count",
    "distinct",
    "by",
    "and",
    "or",
    "in",
    "not",
    "asc",
    "desc",
    "true",
    "false",
    "null",
    "nulls",
    "first",
    "last",
    "on",
    "kind",
    "with",
    "between",
    "has",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "let",
    "away",
    "rename",
    "reorder",
    "mv",
    "expand",
];

/// Recognise `query` at `scope`, or say why the service would refuse it.
pub fn recognise(query: &str, scope: Scope) -> Result<Recognised, Refusal> {
    let toks = tokens(query).map_err(Refusal::Syntax)?;
    let Some(Tok::Ident(table)) = toks.first() else {
        return Err(Refusal::Syntax("a query starts with a table name".into()));
    };
    let first_operator = || match (toks.get(1), toks.get(2)) {
        (Some(Tok::Punct(p)), Some(Tok::Ident(op))) if p == "|" => op.clone(),
        _ => table.clone(),
    };
    let Some(schema) = scope.tables().iter().find(|t| t.name == table) else {
        return Err(Refusal::Unresolved {
            operator: first_operator(),
            name: table.clone(),
        });
    };
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    let mut operator = first_operator();
    let mut metrics: BTreeSet<String> = BTreeSet::new();
    let mut ago_days: Option<f64> = None;
    let mut part = Part::WHOLE;
    let name_col = scope.name_column();
    for (i, t) in toks.iter().enumerate().skip(1) {
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let next = toks.get(i + 1);
        let Tok::Ident(word) = t else {
            continue;
        };
        if matches!(prev, Some(Tok::Punct(p)) if p == "|") {
            operator = word.clone();
            continue;
        }
        if matches!(prev, Some(Tok::Punct(p)) if p == ".") {
            continue;
        }
        if matches!(next, Some(Tok::Punct(p)) if p == "(") {
            if word == "ago"
                && let (Some(Tok::Num(n)), Some(Tok::Punct(close))) =
                    (toks.get(i + 2), toks.get(i + 3))
                && close == ")"
            {
                ago_days = n.strip_suffix('d').and_then(|d| d.parse().ok());
            }
            if word == "hash"
                && let Some(p) = plant_part(&toks, i)
            {
                part = p;
            }
            continue;
        }
        if KEYWORDS.contains(&word.as_str()) {
            continue;
        }
        if matches!(next, Some(Tok::Punct(p)) if p == "=") {
            aliases.insert(word.clone());
            continue;
        }
        if !(schema.columns.contains(&word.as_str()) || aliases.contains(word)) {
            return Err(Refusal::Unresolved {
                operator,
                name: word.clone(),
            });
        }
        if word == name_col {
            metrics.extend(selected(&toks[i + 1..]));
        }
    }
    let has = |f: &str| {
        toks.windows(2)
            .any(|w| matches!((&w[0], &w[1]), (Tok::Ident(a), Tok::Punct(p)) if a == f && p == "("))
    };
    let only =
        |set: &[&str]| !metrics.is_empty() && metrics.iter().all(|m| set.contains(&m.as_str()));
    let read =
        if metrics.contains(DRIFT_METRIC) && metrics.contains(ACCURACY_METRIC) && has("count") {
            Read::Coverage
        } else if only(&[DRIFT_METRIC]) && has("make_list") {
            Read::Drift
        } else if only(&[ACCURACY_METRIC]) && has("make_list") {
            Read::Accuracy
        } else if only(&VALIDATION_METRICS) && has("arg_max") {
            Read::Validation
        } else {
            return Err(Refusal::NotSimulated);
        };
    Ok(Recognised {
        read,
        ago_days,
        part,
    })
}

/// The string literals after a name column: `== 'x'` or `in ('a', 'b')`.
fn selected(rest: &[Tok]) -> Vec<String> {
    match rest {
        [Tok::Punct(op), Tok::Str(s), ..] if op == "==" => vec![s.clone()],
        [Tok::Ident(op), Tok::Punct(open), tail @ ..] if op == "in" && open == "(" => tail
            .iter()
            .take_while(|t| !matches!(t, Tok::Punct(p) if p == ")"))
            .filter_map(|t| match t {
                Tok::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::backend::MonitorQuery;
    use relcon_azure::kql::{Schema, query};

    #[test]
    fn a_query_in_parts_is_recognised_with_its_part_and_the_parts_cover_each_plant_once() {
        let (text, _) = query(MonitorQuery::Drift, Schema::Workspace);
        let whole = recognise(&text, Scope::Workspace).unwrap();
        assert_eq!(whole.part, Part::WHOLE);
        let part = relcon_azure::kql::partitioned(
            &text,
            Schema::Workspace,
            relcon_azure::kql::Part { index: 5, of: 8 },
        );
        let r = recognise(&part, Scope::Workspace).unwrap_or_else(|e| panic!("{e:?}: {part}"));
        assert_eq!((r.read, r.part), (Read::Drift, Part { index: 5, of: 8 }));
        for n in 1..200 {
            let plant = format!("PLANT{n:03}");
            let owners = (0..8)
                .filter(|&index| Part { index, of: 8 }.keeps(&plant))
                .count();
            assert_eq!(owners, 1, "{plant}");
        }
        // Every part holds some of them.
        for index in 0..8 {
            assert!((1..200).any(|n| Part { index, of: 8 }.keeps(&format!("PLANT{n:03}"))));
        }
    }

    #[test]
    fn relcons_queries_are_recognised_at_their_own_scope_only() {
        for (mq, read) in [
            (MonitorQuery::Drift, Read::Drift),
            (MonitorQuery::Accuracy, Read::Accuracy),
            (MonitorQuery::Validation, Read::Validation),
            (MonitorQuery::Coverage, Read::Coverage),
        ] {
            let (ws, _) = query(mq, Schema::Workspace);
            let r = recognise(&ws, Scope::Workspace).unwrap_or_else(|e| panic!("{e:?}: {ws}"));
            assert_eq!(r.read, read);
            assert!(r.ago_days.is_some());
            let (classic, _) = query(mq, Schema::Classic);
            assert_eq!(
                recognise(&classic, Scope::AppInsights).map(|r| r.read),
                Ok(read)
            );
            assert!(matches!(
                recognise(&classic, Scope::Workspace),
                Err(Refusal::Unresolved { name, .. }) if name == "customMetrics"
            ));
            assert!(matches!(
                recognise(&ws, Scope::AppInsights),
                Err(Refusal::Unresolved { name, .. }) if name == "AppMetrics"
            ));
        }
    }

    #[test]
    fn a_metric_name_alone_is_not_enough() {
        // The right table, but a classic column: refused, naming the column and its operator.
        let q = "AppMetrics | where timestamp > ago(30d) and Name == 'data_drift_score'";
        assert_eq!(
            recognise(q, Scope::Workspace),
            Err(Refusal::Unresolved {
                operator: "where".into(),
                name: "timestamp".into()
            })
        );
        // `value` does not exist at workspace scope unless the query defines it.
        let q = "AppMetrics | where Name == 'model_accuracy_mae' | summarize days = make_list(TimeGenerated), values = make_list(value)";
        assert!(matches!(
            recognise(q, Scope::Workspace),
            Err(Refusal::Unresolved { name, .. }) if name == "value"
        ));
        // Mentioning the metric in a comment or another column does not select it.
        let q = "AppMetrics | where OperationName == 'data_drift_score' | summarize days = make_list(TimeGenerated)";
        assert_eq!(recognise(q, Scope::Workspace), Err(Refusal::NotSimulated));
        // A classic name inside a string literal or a dynamic member is not a column.
        let q = "AppMetrics | where Name == 'model_accuracy_mae' and tostring(Properties.timestamp) != 'value' | extend value = Sum / ItemCount | summarize days = make_list(TimeGenerated), values = make_list(value)";
        assert_eq!(
            recognise(q, Scope::Workspace).map(|r| r.read),
            Ok(Read::Accuracy)
        );
        assert!(matches!(
            recognise("", Scope::Workspace),
            Err(Refusal::Syntax(_))
        ));
        assert!(matches!(
            recognise("AppMetrics | where Name == 'x", Scope::Workspace),
            Err(Refusal::Syntax(_))
        ));
    }
}
