//! Circuit configs as the seed writes them: one YAML mapping per circuit, either in a master
//! `circuits:` list or one file per circuit. Every field is read the way the pipeline reads it;
//! fields relcon does not know are kept, not dropped, so diffs and hashes see them.

use chrono::NaiveDate;
use serde::Serialize;

use super::hash::{TrainingHash, training_hash};
use super::yaml::{self, Mapping, Mark, Node, Value};
use super::{CircuitId, CircuitRef, EnvVersion, PlantId};

/// Fields every circuit config must have.
pub const REQUIRED_FIELDS: [&str; 8] = [
    "plant_id",
    "circuit_id",
    "model_name",
    "features",
    "cutoff_date",
    "training_days",
    "forecast_horizon",
    "environment_version",
];

/// One problem in a config, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ConfigProblem {
    pub fn at(mark: Mark, message: impl Into<String>) -> Self {
        Self {
            line: mark.line,
            col: mark.col,
            message: message.into(),
        }
    }
}

impl From<yaml::YamlError> for ConfigProblem {
    fn from(e: yaml::YamlError) -> Self {
        Self {
            line: e.line,
            col: e.col,
            message: format!("invalid YAML: {}", e.message),
        }
    }
}

/// A validated circuit config.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitConfig {
    pub circuit: CircuitRef,
    pub model_name: String,
    pub description: String,
    pub features: Vec<String>,
    pub cutoff_date: NaiveDate,
    pub training_days: i64,
    pub forecast_horizon: i64,
    pub environment_version: EnvVersion,
    pub training_hash: TrainingHash,
    /// Where the circuit's mapping starts in its file.
    pub mark: Mark,
    root: Mapping,
}

impl CircuitConfig {
    /// Every field as the pipeline sees it, unknown ones included.
    pub fn root(&self) -> &Mapping {
        &self.root
    }

    /// Read and validate one circuit mapping. `model_template` is the naming template for model
    /// names (`{plant}-{circuit}`). All problems are reported, not just the first.
    pub fn from_node(
        node: &Node,
        model_template: &str,
    ) -> Result<CircuitConfig, Vec<ConfigProblem>> {
        let Value::Map(root) = &node.value else {
            return Err(vec![ConfigProblem::at(
                node.mark,
                format!(
                    "a circuit config must be a mapping, found {}",
                    node.value.type_name()
                ),
            )]);
        };
        let mut r = Reader {
            root,
            at: node.mark,
            problems: Vec::new(),
        };
        let plant = r.parsed::<PlantId>("plant_id");
        let circuit = r.parsed::<CircuitId>("circuit_id");
        let model_name = r.string("model_name", true);
        let description = r.string("description", false).unwrap_or_default();
        let features = r.features();
        let cutoff_date = r.cutoff_date();
        let training_days = r.positive_int("training_days");
        let forecast_horizon = r.positive_int("forecast_horizon");
        let environment_version = r.env_version();
        r.optional_kind(
            "hyperparameters",
            |v| matches!(v, Value::Map(_) | Value::Null),
            "a mapping",
        );
        r.optional_kind(
            "delta_version",
            |v| matches!(v, Value::Int(_) | Value::Str(_) | Value::Null),
            "an integer or a string",
        );
        r.optional_kind(
            "pipeline_component_version",
            |v| matches!(v, Value::Str(_)),
            "a version string like 1.2.0",
        );
        let hash = match training_hash(root) {
            Ok(h) => Some(h),
            Err(e) => {
                // A field the reader already complained about is not reported twice.
                let mark = e.mark().unwrap_or(node.mark);
                if !r.problems.iter().any(|p| p.line == mark.line) {
                    r.problems.push(ConfigProblem::at(mark, e.to_string()));
                }
                None
            }
        };
        if let (Some(p), Some(c), Some(name)) = (&plant, &circuit, &model_name) {
            let c = CircuitRef::new(p.clone(), c.clone());
            let expected = c.render(model_template);
            if *name != expected {
                let mark = root.get("model_name").map(|n| n.mark).unwrap_or(node.mark);
                r.problems.push(ConfigProblem::at(
                    mark,
                    format!(
                        "model_name `{name}` breaks the naming template `{model_template}`: expected `{expected}`"
                    ),
                ));
            }
        }
        match (
            plant,
            circuit,
            model_name,
            features,
            cutoff_date,
            training_days,
            forecast_horizon,
            environment_version,
            hash,
        ) {
            (
                Some(p),
                Some(c),
                Some(model_name),
                Some(features),
                Some(cutoff_date),
                Some(td),
                Some(fh),
                Some(env),
                Some(h),
            ) if r.problems.is_empty() => Ok(CircuitConfig {
                circuit: CircuitRef::new(p, c),
                model_name,
                description,
                features,
                cutoff_date,
                training_days: td,
                forecast_horizon: fh,
                environment_version: env,
                training_hash: h,
                mark: node.mark,
                root: root.clone(),
            }),
            _ => Err(r.problems),
        }
    }
}

/// Field reader that collects problems instead of stopping at the first.
struct Reader<'a> {
    root: &'a Mapping,
    at: Mark,
    problems: Vec<ConfigProblem>,
}

impl Reader<'_> {
    fn required(&mut self, key: &str) -> Option<&Node> {
        let found = self.root.get(key);
        if found.is_none() {
            // The pipeline would still train such a config: say what it would hash.
            let hashed_as = if super::hash::HASH_FIELDS.contains(&key) {
                format!(
                    " (the pipeline hashes and trains it as `{key}: {}`)",
                    super::hash::pipeline_default(key)
                )
            } else {
                String::new()
            };
            self.problems.push(ConfigProblem::at(
                self.at,
                format!("missing required field `{key}`{hashed_as}"),
            ));
        }
        found
    }

    fn wrong_type(&mut self, key: &str, node: &Node, want: &str) {
        self.problems.push(ConfigProblem::at(
            node.mark,
            format!(
                "`{key}` must be {want}, found {} `{}`",
                node.value.type_name(),
                node.value
            ),
        ));
    }

    fn string(&mut self, key: &str, required: bool) -> Option<String> {
        let node = if required {
            self.required(key)?.clone()
        } else {
            self.root.get(key)?.clone()
        };
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(key, &node, "a string");
                None
            }
        }
    }

    fn parsed<T>(&mut self, key: &str) -> Option<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let node = self.required(key)?.clone();
        let s = match &node.value {
            Value::Str(s) => s.clone(),
            _ => {
                self.wrong_type(key, &node, "a string");
                return None;
            }
        };
        match s.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems
                    .push(ConfigProblem::at(node.mark, format!("`{key}`: {e}")));
                None
            }
        }
    }

    fn features(&mut self) -> Option<Vec<String>> {
        let node = self.required("features")?.clone();
        let Value::Seq(items) = &node.value else {
            self.wrong_type("features", &node, "a list of sensor names");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.value {
                Value::Str(s) => out.push(s.clone()),
                _ => self.wrong_type("features[]", item, "a sensor name (string)"),
            }
        }
        if out.is_empty() && items.is_empty() {
            self.problems.push(ConfigProblem::at(
                node.mark,
                "`features` is empty: a model needs at least one sensor",
            ));
            return None;
        }
        (out.len() == items.len()).then_some(out)
    }

    fn cutoff_date(&mut self) -> Option<NaiveDate> {
        let node = self.required("cutoff_date")?.clone();
        match &node.value {
            Value::Str(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    self.problems.push(ConfigProblem::at(
                        node.mark,
                        format!("`cutoff_date` `{s}` is not a date like '2025-11-01'"),
                    ));
                    None
                }
            },
            Value::Date(d) => {
                self.problems.push(ConfigProblem::at(
                    node.mark,
                    format!(
                        "`cutoff_date` {d} is unquoted: YAML reads it as a date, which the pipeline cannot hash; write '{d}'"
                    ),
                ));
                None
            }
            _ => {
                self.wrong_type("cutoff_date", &node, "a quoted date like '2025-11-01'");
                None
            }
        }
    }

    fn positive_int(&mut self, key: &str) -> Option<i64> {
        let node = self.required(key)?.clone();
        match &node.value {
            Value::Int(n) if *n > 0 && *n <= i64::MAX as i128 => Some(*n as i64),
            Value::Int(n) => {
                self.problems.push(ConfigProblem::at(
                    node.mark,
                    format!("`{key}` must be a positive number of days, found {n}"),
                ));
                None
            }
            _ => {
                self.wrong_type(key, &node, "an integer");
                None
            }
        }
    }

    fn env_version(&mut self) -> Option<EnvVersion> {
        let node = self.required("environment_version")?.clone();
        match &node.value {
            Value::Str(s) => match s.parse::<EnvVersion>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.problems.push(ConfigProblem::at(
                        node.mark,
                        format!("`environment_version`: {e}"),
                    ));
                    None
                }
            },
            Value::Float(_) | Value::Int(_) => {
                self.problems.push(ConfigProblem::at(
                    node.mark,
                    format!(
                        "`environment_version` {} is read as a number by YAML; write a full version like 1.5.0",
                        node.value
                    ),
                ));
                None
            }
            _ => {
                self.wrong_type("environment_version", &node, "a version string like 1.5.0");
                None
            }
        }
    }

    fn optional_kind(&mut self, key: &str, ok: impl Fn(&Value) -> bool, want: &str) {
        if let Some(node) = self.root.get(key).cloned()
            && !ok(&node.value)
        {
            self.wrong_type(key, &node, want);
        }
    }
}

/// A plant as the master file describes it (`plants:`, optional; relcon's own addition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlantInfo {
    pub plant_id: PlantId,
    pub name: String,
    pub site: Option<String>,
    pub timezone: Option<String>,
}

/// What a config file holds: the master list or one circuit.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigDocument {
    /// `circuits:` list (plus optional `plants:`): each entry is a circuit mapping.
    Master {
        plants: Vec<PlantInfo>,
        entries: Vec<Node>,
        problems: Vec<ConfigProblem>,
    },
    /// A per-circuit file.
    Single(Node),
}

impl ConfigDocument {
    /// Parse a config file's text and tell which layout it is.
    pub fn parse(text: &str) -> Result<ConfigDocument, ConfigProblem> {
        let node = yaml::load(text)?;
        let Value::Map(root) = &node.value else {
            return Err(ConfigProblem::at(
                node.mark,
                format!(
                    "expected a circuit config or a `circuits:` list, found {}",
                    node.value.type_name()
                ),
            ));
        };
        let Some(circuits) = root.get("circuits") else {
            return Ok(ConfigDocument::Single(node.clone()));
        };
        let Value::Seq(entries) = &circuits.value else {
            return Err(ConfigProblem::at(
                circuits.mark,
                format!(
                    "`circuits` must be a list, found {}",
                    circuits.value.type_name()
                ),
            ));
        };
        let mut problems = Vec::new();
        let plants = match root.get("plants") {
            None => Vec::new(),
            Some(p) => read_plants(p, &mut problems),
        };
        Ok(ConfigDocument::Master {
            plants,
            entries: entries.clone(),
            problems,
        })
    }
}

fn read_plants(node: &Node, problems: &mut Vec<ConfigProblem>) -> Vec<PlantInfo> {
    let Value::Seq(items) = &node.value else {
        problems.push(ConfigProblem::at(node.mark, "`plants` must be a list"));
        return Vec::new();
    };
    let text = |m: &Mapping, k: &str| m.get(k).and_then(|n| n.value.as_str()).map(str::to_owned);
    items
        .iter()
        .filter_map(|item| {
            let Value::Map(m) = &item.value else {
                problems.push(ConfigProblem::at(
                    item.mark,
                    "a `plants` entry must be a mapping",
                ));
                return None;
            };
            let id = match text(m, "plant_id").map(|s| s.parse::<PlantId>()) {
                Some(Ok(id)) => id,
                Some(Err(e)) => {
                    problems.push(ConfigProblem::at(item.mark, e.to_string()));
                    return None;
                }
                None => {
                    problems.push(ConfigProblem::at(
                        item.mark,
                        "a `plants` entry needs `plant_id`",
                    ));
                    return None;
                }
            };
            Some(PlantInfo {
                name: text(m, "name").unwrap_or_else(|| id.to_string()),
                site: text(m, "site"),
                timezone: text(m, "timezone"),
                plant_id: id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "plant_id: PLANT001\ncircuit_id: CIRCUIT01\nmodel_name: plant001-circuit01\ndescription: Primary cooling system\nfeatures:\n- temperature\n- pressure\n- vibration\ncutoff_date: '2025-11-01'\ndelta_version: 1\npipeline_component_version: 1.0.0\ntraining_days: 365\nforecast_horizon: 7\nhyperparameters:\n  lstm_units: 64\n  learning_rate: 0.001\n  epochs: 50\n  batch_size: 32\nenvironment_version: 1.0.0\n";

    fn single(text: &str) -> Result<CircuitConfig, Vec<ConfigProblem>> {
        match ConfigDocument::parse(text).map_err(|p| vec![p])? {
            ConfigDocument::Single(n) => CircuitConfig::from_node(&n, "{plant}-{circuit}"),
            other => panic!("not a single config: {other:?}"),
        }
    }

    #[test]
    fn seed_entry_reads_with_its_hash() {
        let c = single(SEED).unwrap();
        assert_eq!(c.circuit.to_string(), "PLANT001/CIRCUIT01");
        assert_eq!(c.features, ["temperature", "pressure", "vibration"]);
        assert_eq!(c.environment_version.to_string(), "1.0.0");
        assert_eq!(c.training_hash.as_str(), "4c206af59d45");
        assert_eq!(c.training_days, 365);
    }

    #[test]
    fn unknown_fields_are_kept() {
        let c = single(&format!("{SEED}owner: team-cooling\n")).unwrap();
        assert_eq!(
            c.root().get("owner").and_then(|n| n.value.as_str()),
            Some("team-cooling")
        );
        assert_eq!(c.training_hash.as_str(), "4c206af59d45");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = SEED
            .replace("cutoff_date: '2025-11-01'\n", "")
            .replace("training_days: 365", "training_days: soon")
            .replace("model_name: plant001-circuit01", "model_name: cooling-1")
            .replace("environment_version: 1.0.0", "environment_version: 1.5");
        let problems = single(&text).unwrap_err();
        let msgs: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("missing required field `cutoff_date`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("`training_days` must be an integer")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("3: model_name `cooling-1` breaks")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("read as a number")),
            "{msgs:?}"
        );
    }

    #[test]
    fn unquoted_cutoff_date_is_explained() {
        let problems = single(&SEED.replace("'2025-11-01'", "2025-11-01")).unwrap_err();
        assert!(problems[0].message.contains("unquoted"), "{problems:?}");
        assert_eq!(problems[0].line, 9);
    }

    #[test]
    fn master_list_is_recognised() {
        let indented: String = SEED.lines().map(|l| format!("  {l}\n")).collect();
        let text = format!(
            "plants:\n- plant_id: PLANT001\n  name: Rotterdam Polymer Works\ncircuits:\n-{}",
            &indented[1..]
        );
        let ConfigDocument::Master {
            plants,
            entries,
            problems,
        } = ConfigDocument::parse(&text).unwrap()
        else {
            panic!("not a master");
        };
        assert!(problems.is_empty());
        assert_eq!(plants[0].name, "Rotterdam Polymer Works");
        assert_eq!(entries.len(), 1);
        let c = CircuitConfig::from_node(&entries[0], "{plant}-{circuit}").unwrap();
        assert_eq!(c.mark.line, 5);
        assert_eq!(c.training_hash.as_str(), "4c206af59d45");
    }

    #[test]
    fn not_a_mapping_is_an_error() {
        let e = ConfigDocument::parse("- a\n- b\n").unwrap_err();
        assert!(e.message.contains("found list"), "{e:?}");
    }
}
