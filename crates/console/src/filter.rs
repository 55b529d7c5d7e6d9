//! The `/` filter: fzf-style fuzzy words over circuit ids, model names, descriptions and plant
//! names (nucleo: `^prefix`, `suffix$`, `'exact`, `!not`; a fuzzy word must match tightly, not
//! as letters scattered over unrelated words), plus tokens:
//!
//! - `status:alert` (also `warn`, `ok`, `unknown`; several with commas: `status:alert,warn`)
//! - `stage:prod` (also `dev`, `registry`, `test`): something is headed to that stage: the stage
//!   before it runs another version (a candidate waits), an approval for that stage is pending,
//!   or a release is deploying to it. `stage:dev` means Dev holds a model not yet in the registry.
//! - `pending`: the circuit waits on at least one approval.
//!
//! Haystacks are built once per snapshot, so a keystroke over 20,000 circuits stays in budget.

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::index::{CircuitRow, Field, PlantRow, char_bit};
use crate::domain::{Stage, Status};

/// A fuzzy word must score at least this per character. nucleo gives 16 per matched
/// character plus bonuses for consecutive and word-start matches, minus gaps: a typo
/// (`amonia`: 22 a character) passes, letters picked from several words (`cool` in
/// "Electrode coating dryer oven": 18) do not.
const TIGHT: u32 = 20;

/// A parsed filter.
#[derive(Debug, Default)]
pub struct FilterQuery {
    pub text: String,
    statuses: Vec<Status>,
    stage: Option<Stage>,
    pending: bool,
    /// Each word, the characters it needs (to skip fields quickly), and its minimum score.
    words: Vec<(Atom, u64, u32)>,
    /// Tokens that could not be understood (shown under the input line; ignored).
    pub problems: Vec<String>,
}

impl FilterQuery {
    pub fn parse(text: &str) -> FilterQuery {
        let mut q = FilterQuery {
            text: text.to_owned(),
            ..FilterQuery::default()
        };
        let mut words = Vec::new();
        for token in text.split_whitespace() {
            let lower = token.to_ascii_lowercase();
            if let Some(list) = lower.strip_prefix("status:") {
                for s in list.split(',').filter(|s| !s.is_empty()) {
                    match s {
                        "ok" => q.statuses.push(Status::Ok),
                        "warn" | "warning" => q.statuses.push(Status::Warn),
                        "alert" => q.statuses.push(Status::Alert),
                        "unknown" => q.statuses.push(Status::Unknown),
                        other => q
                            .problems
                            .push(format!("status:{other}? use ok, warn, alert or unknown")),
                    }
                }
            } else if let Some(s) = lower.strip_prefix("stage:") {
                match s.parse::<Stage>() {
                    Ok(st) => q.stage = Some(st),
                    Err(_) if s.is_empty() => {}
                    Err(_) => q
                        .problems
                        .push(format!("stage:{s}? use dev, registry, test or prod")),
                }
            } else if lower == "pending" {
                q.pending = true;
            } else {
                words.push(token);
            }
        }
        if !words.is_empty() {
            let pattern =
                Pattern::parse(&words.join(" "), CaseMatching::Ignore, Normalization::Smart);
            q.words = pattern
                .atoms
                .into_iter()
                .map(|atom| {
                    let needle = atom.needle_text();
                    let mask = needle
                        .chars()
                        .map(|c| char_bit(nucleo_matcher::chars::normalize(c)))
                        .fold(0, |m, b| m | b);
                    let min = if atom.kind == AtomKind::Fuzzy && !atom.negative {
                        TIGHT * needle.len() as u32
                    } else {
                        0
                    };
                    (atom, mask, min)
                })
                .collect();
        }
        q
    }

    /// No condition at all: everything matches.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.stage.is_none() && !self.pending && self.words.is_empty()
    }

    /// Whether words are part of the query (the view then ranks by score).
    pub fn ranks(&self) -> bool {
        !self.words.is_empty()
    }

    /// Whether a row passes; the cheap tokens are checked before the words.
    pub fn matches(&self, row: &CircuitRow, plant: &PlantRow, matcher: &mut Matcher) -> bool {
        self.score(row, plant, matcher).is_some()
    }

    /// The row's match score (higher is better; 0 without words), or `None`. Each word must
    /// match within one field: the id, the model name, the description or the plant's name.
    pub fn score(&self, row: &CircuitRow, plant: &PlantRow, matcher: &mut Matcher) -> Option<u32> {
        if !self.statuses.is_empty() && !self.statuses.contains(&row.health) {
            return None;
        }
        if let Some(s) = self.stage
            && !row.headed_to(s)
        {
            return None;
        }
        if self.pending && row.pending == 0 {
            return None;
        }
        let fields: [&Field; 4] = [&row.fields[0], &row.fields[1], &row.fields[2], &plant.name];
        let mut total = 0u32;
        for (atom, mask, min) in &self.words {
            // Fields without every character of the word cannot match it: skip the matcher.
            let best = fields
                .iter()
                .filter(|f| f.mask & mask == *mask)
                .filter_map(|f| atom.score(f.text.slice(..), matcher))
                .max()
                .map(u32::from);
            if atom.negative {
                // `!word`: no field may hold it (a negative atom scores None when it does).
                let holds = fields
                    .iter()
                    .filter(|f| f.mask & mask == *mask)
                    .any(|f| atom.score(f.text.slice(..), matcher).is_none());
                if holds {
                    return None;
                }
                continue;
            }
            match best {
                Some(score) if score >= *min => total += score,
                _ => return None,
            }
        }
        Some(total)
    }
}

/// A matcher configured for the filter (ids and descriptions, not paths).
pub fn matcher() -> Matcher {
    Matcher::new(Config::DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use crate::index::FleetIndex;

    /// Matching circuits, best first.
    fn run(q: &str) -> Vec<String> {
        let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
        let index = FleetIndex::build(&snap);
        let query = FilterQuery::parse(q);
        let mut m = matcher();
        let mut hits: Vec<(u32, String)> = index
            .rows
            .iter()
            .filter_map(|r| {
                let s = query.score(r, &index.plants[r.plant as usize], &mut m)?;
                Some((s, index.circuit(&snap, r).circuit.to_string()))
            })
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        hits.into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn tokens_filter_by_status_stage_and_pending() {
        let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
        let alerts = run("status:alert");
        assert!(!alerts.is_empty());
        for c in &alerts {
            let r: crate::domain::CircuitRef = c.parse().unwrap();
            assert_eq!(snap.circuit(&r).unwrap().health(), Status::Alert);
        }
        let both = run("status:alert,warn");
        assert!(both.len() > alerts.len());
        let pending = run("pending");
        assert_eq!(
            pending.len(),
            snap.circuits().filter(|c| c.pending_approvals > 0).count()
        );
        // Every circuit with a Prod version is in the env-only release: all pending.
        assert!(pending.len() > 100);
        let to_prod = run("stage:prod");
        assert!(to_prod.contains(&"PLANT001/CIRCUIT01".to_owned()), "wave");
        assert!(
            to_prod.contains(&"PLANT002/CIRCUIT02".to_owned()),
            "rollback"
        );
        let to_registry = run("stage:registry");
        assert!(to_registry.contains(&"PLANT007/CIRCUIT01".to_owned()));
        assert!(!to_registry.contains(&"PLANT001/CIRCUIT01".to_owned()));
    }

    #[test]
    fn fuzzy_words_match_ids_and_descriptions() {
        let cooling = run("cooling");
        assert!(
            cooling.contains(&"PLANT001/CIRCUIT01".to_owned()),
            "{cooling:?}"
        );
        // The real matches rank first; scattered letters trail, if they pass at all.
        let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
        let real = snap
            .circuits()
            .filter(|c| c.description.to_lowercase().contains("cool"))
            .count();
        let cool = run("cool");
        assert!(cool.len() >= real && real > 0);
        for c in &cool[..real] {
            let r: crate::domain::CircuitRef = c.parse().unwrap();
            let d = snap.circuit(&r).unwrap().description.to_lowercase();
            assert!(d.contains("cool"), "{c} ({d}) ranked above a real match");
        }
        // Letters spread over several words do not match at all.
        assert!(!cool.contains(&"PLANT002/CIRCUIT02".to_owned()), "{cool:?}");
        // Typos still match.
        assert!(run("amonia converter").contains(&"PLANT002/CIRCUIT03".to_owned()));
        assert_eq!(run("PLANT003/CIRCUIT02")[0], "PLANT003/CIRCUIT02");
        assert_eq!(
            run("'PLANT003/CIRCUIT02"),
            vec!["PLANT003/CIRCUIT02".to_owned()]
        );
        // Words combine: each must match.
        let narrow = run("plant001 cooling");
        assert_eq!(narrow[0], "PLANT001/CIRCUIT01", "{narrow:?}");
        let exact = run("'plant001 cooling");
        assert!(exact.iter().all(|c| c.starts_with("PLANT001")), "{exact:?}");
        // Tokens and words combine too.
        let q = run("status:alert 'rotterdam");
        assert!(q.iter().all(|c| c.starts_with("PLANT001")), "{q:?}");
        assert!(run("zzzzqqq").is_empty());
    }

    #[test]
    fn bad_tokens_are_reported_not_fatal() {
        let q = FilterQuery::parse("status:broken stage:staging pump");
        assert_eq!(q.problems.len(), 2, "{:?}", q.problems);
        assert!(!q.is_empty());
        assert!(FilterQuery::parse("  ").is_empty());
    }
}
