//! Reading circuit configs from disk in either seed layout (a master `circuits.yaml` list or a
//! directory of `{PLANT}_{CIRCUIT}.yaml` files) and checking a whole fleet of them.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::config::{CircuitConfig, ConfigDocument, ConfigProblem, PlantInfo};
use crate::domain::yaml::{Mapping, Node, Value};
use crate::domain::{CircuitRef, yaml};

/// A problem with a place: `path:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    pub path: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl FileProblem {
    fn new(path: &str, p: ConfigProblem) -> Self {
        Self {
            path: path.to_owned(),
            line: p.line,
            col: p.col,
            message: p.message,
        }
    }

    fn whole_file(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line: 0,
            col: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path, self.line, self.col, self.message
            )
        }
    }
}

/// A circuit config and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedCircuit {
    pub config: CircuitConfig,
    pub path: String,
}

/// Everything read from a fleet path: the valid circuits and every problem found.
#[derive(Debug, Clone, Default)]
pub struct FleetFiles {
    pub plants: Vec<PlantInfo>,
    pub circuits: Vec<LoadedCircuit>,
    pub problems: Vec<FileProblem>,
    /// Files read (for the summary line).
    pub files: usize,
}

impl FleetFiles {
    /// Read a fleet: a master file, a per-circuit file, a directory of per-circuit files, or a
    /// directory holding `circuits.yaml` (and optionally the generated `circuits/` beside it,
    /// which must then agree with the master). Fails only when the path itself cannot be read.
    pub fn load(path: &Path, model_template: &str) -> Result<FleetFiles, FileProblem> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| FileProblem::whole_file(&shown, format!("cannot read: {e}")))?;
        let mut fleet = FleetFiles::default();
        if meta.is_file() {
            fleet.add_file(path, model_template);
        } else {
            let master = path.join("circuits.yaml");
            let per_circuit = path.join("circuits");
            if master.is_file() {
                fleet.add_file(&master, model_template);
                if per_circuit.is_dir() {
                    let mut generated = FleetFiles::default();
                    generated.add_dir(&per_circuit, model_template)?;
                    fleet.files += generated.files;
                    fleet.problems.extend(generated.problems);
                    fleet.compare_generated(&generated.circuits, &per_circuit);
                }
            } else {
                fleet.add_dir(path, model_template)?;
            }
        }
        fleet.find_duplicates();
        Ok(fleet)
    }

    /// Read configs from text that is not a file on disk (the embedded demo fleet).
    pub fn from_text(text: &str, origin: &str, model_template: &str) -> FleetFiles {
        let mut fleet = FleetFiles::default();
        fleet.add_text(text, origin, model_template, None);
        fleet.find_duplicates();
        fleet
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn add_dir(&mut self, dir: &Path, model_template: &str) -> Result<(), FileProblem> {
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| FileProblem::whole_file(&shown, format!("cannot list: {e}")))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        if files.is_empty() {
            self.problems.push(FileProblem::whole_file(
                &shown,
                "no circuit configs (*.yaml) here",
            ));
        }
        for f in files {
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let expected = stem.parse::<CircuitRef>().ok();
            if expected.is_none() {
                self.problems.push(FileProblem::whole_file(
                    &f.display().to_string(),
                    format!("file name `{stem}` does not follow the {{PLANT}}_{{CIRCUIT}}.yaml convention"),
                ));
            }
            self.add_file_expecting(&f, model_template, expected);
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path, model_template: &str) {
        self.add_file_expecting(path, model_template, None);
    }

    fn add_file_expecting(
        &mut self,
        path: &Path,
        model_template: &str,
        expected: Option<CircuitRef>,
    ) {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => self.add_text(&text, &shown, model_template, expected),
            Err(e) => {
                self.files += 1;
                self.problems
                    .push(FileProblem::whole_file(&shown, format!("cannot read: {e}")));
            }
        }
    }

    fn add_text(
        &mut self,
        text: &str,
        origin: &str,
        model_template: &str,
        expected: Option<CircuitRef>,
    ) {
        self.files += 1;
        let doc = match ConfigDocument::parse(text) {
            Ok(d) => d,
            Err(p) => {
                self.problems.push(FileProblem::new(origin, p));
                return;
            }
        };
        match doc {
            ConfigDocument::Single(node) => {
                if let Some(c) = self.add_entry(&node, origin, model_template)
                    && let Some(want) = expected
                    && c != want
                {
                    self.problems.push(FileProblem::new(
                        origin,
                        ConfigProblem::at(
                            node.mark,
                            format!("file is named for {want} but holds {c}"),
                        ),
                    ));
                }
            }
            ConfigDocument::Master {
                plants,
                entries,
                problems,
            } => {
                self.problems
                    .extend(problems.into_iter().map(|p| FileProblem::new(origin, p)));
                self.plants.extend(plants);
                for e in &entries {
                    self.add_entry(e, origin, model_template);
                }
            }
        }
    }

    fn add_entry(&mut self, node: &Node, origin: &str, model_template: &str) -> Option<CircuitRef> {
        match CircuitConfig::from_node(node, model_template) {
            Ok(config) => {
                let c = config.circuit.clone();
                self.circuits.push(LoadedCircuit {
                    config,
                    path: origin.to_owned(),
                });
                Some(c)
            }
            Err(problems) => {
                self.problems
                    .extend(problems.into_iter().map(|p| FileProblem::new(origin, p)));
                None
            }
        }
    }

    fn find_duplicates(&mut self) {
        let mut first: HashMap<CircuitRef, (String, u32)> = HashMap::new();
        let mut dups = Vec::new();
        for c in &self.circuits {
            let key = c.config.circuit.clone();
            match first.get(&key) {
                Some((path, line)) => dups.push(FileProblem::new(
                    &c.path,
                    ConfigProblem::at(
                        c.config.mark,
                        format!("duplicate circuit {key}: first defined at {path}:{line}"),
                    ),
                )),
                None => {
                    first.insert(key, (c.path.clone(), c.config.mark.line));
                }
            }
        }
        self.problems.extend(dups);
    }

    /// The generated per-circuit files must say what the master says.
    fn compare_generated(&mut self, generated: &[LoadedCircuit], dir: &Path) {
        let master: HashMap<&CircuitRef, &LoadedCircuit> = self
            .circuits
            .iter()
            .map(|c| (&c.config.circuit, c))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for g in generated {
            seen.insert(&g.config.circuit);
            match master.get(&g.config.circuit) {
                None => self.problems.push(FileProblem::whole_file(
                    &g.path,
                    format!("{} is not in the master list", g.config.circuit),
                )),
                Some(m) if !same_fields(m.config.root(), g.config.root()) => {
                    self.problems.push(FileProblem::whole_file(
                        &g.path,
                        format!(
                            "differs from its entry at {}:{}; regenerate it from the master",
                            m.path, m.config.mark.line
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let missing: Vec<FileProblem> = self
            .circuits
            .iter()
            .filter(|c| !seen.contains(&c.config.circuit))
            .map(|c| {
                FileProblem::whole_file(
                    &dir.join(c.config.circuit.file_name()).display().to_string(),
                    format!(
                        "missing: {} is in the master list but has no generated file",
                        c.config.circuit
                    ),
                )
            })
            .collect();
        self.problems.extend(missing);
    }
}

fn same_fields(a: &Mapping, b: &Mapping) -> bool {
    crate::domain::diff::ConfigDiff::between(a, b).is_empty()
}

/// One config to diff or hash: a file, or one circuit of a master file (`path#PLANT/CIRCUIT`).
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// What to call it in output.
    pub label: String,
    /// The config's own text (for a master entry, just its lines).
    pub text: String,
    pub root: Mapping,
}

/// Why a config could not be read; rendered as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(pub FileProblem);

/// Read one circuit config for `diff`: a per-circuit file, or `master.yaml#PLANT001/CIRCUIT01`.
pub fn read_one(spec: &str) -> Result<ConfigSource, ReadError> {
    let (path, selector) = match spec.rsplit_once('#') {
        Some((p, s)) => (p, Some(s)),
        None => (spec, None),
    };
    let err = |line: u32, col: u32, message: String| {
        ReadError(FileProblem {
            path: path.to_owned(),
            line,
            col,
            message,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(0, 0, format!("cannot read: {e}")))?;
    let doc = ConfigDocument::parse(&text).map_err(|p| err(p.line, p.col, p.message))?;
    match (doc, selector) {
        (ConfigDocument::Single(node), None) => match node.value {
            Value::Map(root) => Ok(ConfigSource {
                label: path.to_owned(),
                text,
                root,
            }),
            _ => Err(err(node.mark.line, node.mark.col, "not a mapping".into())),
        },
        (ConfigDocument::Single(_), Some(s)) => Err(err(
            0,
            0,
            format!(
                "`#{s}` selects a circuit in a master list, but this is a single circuit config"
            ),
        )),
        (ConfigDocument::Master { entries, .. }, None) => Err(err(
            0,
            0,
            format!(
                "this is a master list of {} circuits; pick one with {path}#PLANT001/CIRCUIT01",
                entries.len()
            ),
        )),
        (ConfigDocument::Master { entries, .. }, Some(s)) => {
            let want: CircuitRef = s
                .parse()
                .map_err(|e: crate::domain::IdError| err(0, 0, e.to_string()))?;
            let idx = entries
                .iter()
                .position(|e| entry_ref(e).as_ref() == Some(&want))
                .ok_or_else(|| err(0, 0, format!("{want} is not in this master list")))?;
            let Value::Map(root) = &entries[idx].value else {
                return Err(err(
                    entries[idx].mark.line,
                    entries[idx].mark.col,
                    "not a mapping".into(),
                ));
            };
            let next_line = entries.get(idx + 1).map(|n| n.mark.line);
            Ok(ConfigSource {
                label: format!("{path}#{want}"),
                text: entry_text(&text, entries[idx].mark.line, next_line),
                root: root.clone(),
            })
        }
    }
}

/// The plant/circuit of a master entry, read leniently (for selection and labels).
pub fn entry_ref(node: &Node) -> Option<CircuitRef> {
    let Value::Map(m) = &node.value else {
        return None;
    };
    let p = m.get("plant_id")?.value.as_str()?.parse().ok()?;
    let c = m.get("circuit_id")?.value.as_str()?.parse().ok()?;
    Some(CircuitRef::new(p, c))
}

/// The lines of one master-list entry, de-indented so it reads as a per-circuit file.
fn entry_text(text: &str, first_line: u32, next_line: Option<u32>) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = first_line.saturating_sub(1) as usize;
    let end = next_line
        .map(|l| l.saturating_sub(1) as usize)
        .unwrap_or(lines.len());
    let block = lines.get(start..end.min(lines.len())).unwrap_or(&[]);
    // The mark points at the first key; the `- ` before it sets the indent of the block.
    let indent = block
        .first()
        .map(|l| l.len() - l.trim_start_matches([' ', '-']).len())
        .unwrap_or(0);
    let mut out = String::new();
    for l in block {
        let trimmed = l.trim_end();
        if trimmed.trim_start().starts_with('#') && !out.is_empty() {
            continue;
        }
        let cut = trimmed
            .char_indices()
            .nth(indent)
            .map(|(i, _)| i)
            .unwrap_or(trimmed.len());
        let (head, tail) = trimmed.split_at(cut);
        if head.trim_matches([' ', '-']).is_empty() {
            out.push_str(tail);
        } else {
            out.push_str(trimmed);
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Hash every circuit in a file, for `relcon hash`: `(label, result)` pairs. Only the hash
/// fields need to be valid; the rest of the config is not checked here.
pub fn hash_file(path: &str) -> Result<Vec<HashedEntry>, ReadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReadError(FileProblem::whole_file(path, format!("cannot read: {e}"))))?;
    let doc = ConfigDocument::parse(&text).map_err(|p| ReadError(FileProblem::new(path, p)))?;
    let hash = |node: &Node| -> Result<HashedConfig, FileProblem> {
        let Value::Map(root) = &node.value else {
            return Err(FileProblem::new(
                path,
                ConfigProblem::at(node.mark, "not a mapping"),
            ));
        };
        let located = |e: crate::domain::hash::HashError| {
            FileProblem::new(
                path,
                ConfigProblem::at(e.mark().unwrap_or(node.mark), e.to_string()),
            )
        };
        Ok(HashedConfig {
            training_hash: crate::domain::hash::training_hash(root)
                .map_err(located)?
                .to_string(),
            canonical_json: crate::domain::hash::canonical_json(root).map_err(located)?,
            missing_fields: crate::domain::hash::missing_fields(root),
        })
    };
    Ok(match doc {
        ConfigDocument::Single(node) => vec![(path.to_owned(), hash(&node))],
        ConfigDocument::Master { entries, .. } => entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let label = match entry_ref(e) {
                    Some(c) => format!("{path}#{c}"),
                    None => format!("{path}#{}", i + 1),
                };
                (label, hash(e))
            })
            .collect(),
    })
}

/// One hashed circuit: its label (`path` or `path#PLANT/CIRCUIT`) and the outcome.
pub type HashedEntry = (String, Result<HashedConfig, FileProblem>);

/// A config's training hash and the JSON it was computed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashedConfig {
    pub training_hash: String,
    pub canonical_json: String,
    /// Hash fields the config lacks, hashed with the pipeline's defaults (warn about them).
    pub missing_fields: Vec<&'static str>,
}

/// Parse YAML text to a mapping, for callers holding text from elsewhere (Git, the simulator).
pub fn parse_mapping(text: &str) -> Result<Mapping, ConfigProblem> {
    let node = yaml::load(text)?;
    match node.value {
        Value::Map(m) => Ok(m),
        other => Err(ConfigProblem::at(
            node.mark,
            format!("expected a mapping, found {}", other.type_name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_text_dedents_a_master_item() {
        let text = "circuits:\n- plant_id: PLANT001\n  circuit_id: CIRCUIT01\n  hyperparameters:\n    a: 1\n\n- plant_id: PLANT001\n  circuit_id: CIRCUIT02\n";
        assert_eq!(
            entry_text(text, 2, Some(7)),
            "plant_id: PLANT001\ncircuit_id: CIRCUIT01\nhyperparameters:\n  a: 1\n"
        );
        assert_eq!(
            entry_text(text, 7, None),
            "plant_id: PLANT001\ncircuit_id: CIRCUIT02\n"
        );
    }
}
