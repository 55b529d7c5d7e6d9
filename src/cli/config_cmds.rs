//! `relcon hash`, `relcon diff` and `relcon configs check`: the headless config tools.

use std::path::PathBuf;

use serde::Serialize;

use super::paint::Paint;
use super::{DiffArgs, Exit, Global, HashArgs, fail, print_json};
use crate::domain::EnvironmentChange;
use crate::domain::diff::{ChangeKind, ConfigDiff, DiffLine, LineTag, TextChanges};
use crate::service::configs::{self, FleetFiles};
use crate::settings::Naming;

pub fn hash(g: &Global, args: &HashArgs) -> Exit {
    #[derive(Serialize)]
    struct Row {
        path: String,
        training_hash: String,
        canonical_json: String,
        /// Hash fields absent from the config, hashed with the pipeline's defaults.
        missing_fields: Vec<&'static str>,
    }
    let mut rows = Vec::new();
    let mut errors: Vec<configs::FileProblem> = Vec::new();
    for file in &args.files {
        let hashed = match configs::hash_file(file) {
            Ok(h) => h,
            Err(e) => {
                errors.push(e.0);
                continue;
            }
        };
        for (label, result) in hashed {
            match result {
                Ok(h) => {
                    // The pipeline trains such a config too: hash it as the pipeline does, and
                    // say what was defaulted.
                    for field in &h.missing_fields {
                        let required = crate::domain::config::REQUIRED_FIELDS.contains(field);
                        eprintln!(
                            "relcon: warning: {label}: no `{field}`: hashed as {}, as the pipeline \
                             does{}",
                            crate::domain::diff::to_json(&crate::domain::hash::pipeline_default(
                                field
                            )),
                            if required {
                                " (a required field: `relcon configs check` reports it)"
                            } else {
                                ""
                            }
                        );
                    }
                    rows.push(Row {
                        path: label,
                        training_hash: h.training_hash,
                        canonical_json: h.canonical_json,
                        missing_fields: h.missing_fields,
                    });
                }
                Err(p) => errors.push(p),
            }
        }
    }
    for e in &errors {
        eprintln!("relcon: {e}");
    }
    let exit = if errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Usage
    };
    if g.json {
        print_json(&serde_json::json!({"configs": rows, "errors": errors}));
    } else {
        for r in &rows {
            println!("{}  {}", r.training_hash, r.path);
        }
    }
    exit
}

pub fn diff(g: &Global, args: &DiffArgs) -> Exit {
    let (old, new) = match (configs::read_one(&args.old), configs::read_one(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return fail(Exit::Usage, e),
    };
    let semantic = ConfigDiff::between(&old.root, &new.root);
    let text = TextChanges::new(&old.text, &new.text, args.context);
    let exit = if semantic.is_empty() && text.is_empty() {
        Exit::Ok
    } else {
        Exit::Refused
    };
    if g.json {
        let mut doc = serde_json::to_value(&semantic).unwrap_or_default();
        if let Some(m) = doc.as_object_mut() {
            m.insert(
                "configs".into(),
                serde_json::json!({"old": old.label, "new": new.label}),
            );
            m.insert("differ".into(), serde_json::json!(exit != Exit::Ok));
        }
        print_json(&doc);
        return exit;
    }
    let p = Paint::stdout();
    print!("{}", summary(p, &old.label, &new.label, &semantic));
    if !text.is_empty() {
        println!();
        if args.side_by_side {
            print!("{}", side_by_side(p, &text, terminal_width()));
        } else {
            print!("{}", unified(p, &old.label, &new.label, &text));
        }
    }
    exit
}

fn terminal_width() -> usize {
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| w as usize)
        .filter(|w| *w >= 40)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(120)
}

/// The semantic summary that opens `relcon diff`.
pub fn summary(p: Paint, old: &str, new: &str, d: &ConfigDiff) -> String {
    let mut out = format!("{} {} {}\n", p.bold(old), p.dim("->"), p.bold(new));
    if d.is_empty() {
        out.push_str("  no semantic changes\n");
    } else {
        let n = d.changes.len();
        let r = d.retraining_changes().count();
        out.push_str(&format!(
            "  {n} change{}, {r} in the training hash\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    let hash = |h: &Option<crate::domain::hash::TrainingHash>| {
        h.as_ref()
            .map(|h| h.to_string())
            .unwrap_or_else(|| "(cannot hash)".into())
    };
    let verdict = if d.retrain_required {
        p.yellow("retrain required")
    } else {
        p.green("no retrain")
    };
    if d.old_hash == d.new_hash {
        out.push_str(&format!(
            "  training hash  {}  ({verdict})\n",
            hash(&d.old_hash)
        ));
    } else {
        out.push_str(&format!(
            "  training hash  {} -> {}  ({verdict})\n",
            hash(&d.old_hash),
            hash(&d.new_hash)
        ));
    }
    let env = |e: &Option<String>| e.clone().unwrap_or_else(|| "(none)".into());
    let change = match d.environment_change {
        EnvironmentChange::None => p.dim("unchanged"),
        EnvironmentChange::NonBreaking => p.green("non-breaking"),
        EnvironmentChange::Breaking => p.red("breaking: needs a full retrain"),
    };
    if d.environment_change == EnvironmentChange::None {
        out.push_str(&format!(
            "  environment    {}  ({change})\n",
            env(&d.old_environment)
        ));
    } else {
        out.push_str(&format!(
            "  environment    {} -> {}  ({change})\n",
            env(&d.old_environment),
            env(&d.new_environment)
        ));
    }
    if !d.changes.is_empty() {
        out.push('\n');
        let width = d
            .changes
            .iter()
            .map(|c| c.path.chars().count())
            .max()
            .unwrap_or(0);
        for c in &d.changes {
            let show = |v: &Option<crate::domain::yaml::Value>| {
                v.as_ref().map(|v| v.to_string()).unwrap_or_default()
            };
            let (mark, values) = match c.kind {
                ChangeKind::Added => (p.green("+"), p.green(&show(&c.new))),
                ChangeKind::Removed => (p.red("-"), p.red(&show(&c.old))),
                ChangeKind::Changed => (
                    p.yellow("~"),
                    format!("{} -> {}", p.red(&show(&c.old)), p.green(&show(&c.new))),
                ),
            };
            let tag = if c.in_training_hash {
                format!("  {}", p.yellow("[retrains]"))
            } else {
                String::new()
            };
            out.push_str(&format!("  {mark} {:<width$}  {values}{tag}\n", c.path));
        }
    }
    out
}

fn painted_segments(p: Paint, line: &DiffLine) -> String {
    let mut out = String::new();
    for s in &line.segments {
        let text = s.text.trim_end_matches(['\n', '\r']);
        out.push_str(&match (line.tag, s.emphasized) {
            (LineTag::Delete, true) => p.red_emph(text),
            (LineTag::Delete, false) => p.red(text),
            (LineTag::Insert, true) => p.green_emph(text),
            (LineTag::Insert, false) => p.green(text),
            (LineTag::Equal, _) => text.to_owned(),
        });
    }
    out
}

/// A unified diff (`---`/`+++`/`@@`), coloured with word emphasis on a terminal.
pub fn unified(p: Paint, old: &str, new: &str, t: &TextChanges) -> String {
    let mut out = format!(
        "{}\n{}\n",
        p.bold(&format!("--- {old}")),
        p.bold(&format!("+++ {new}"))
    );
    for h in &t.hunks {
        out.push_str(&p.cyan(&h.header()));
        out.push('\n');
        for l in &h.lines {
            let sign = match l.tag {
                LineTag::Equal => " ".to_owned(),
                LineTag::Delete => p.red("-"),
                LineTag::Insert => p.green("+"),
            };
            out.push_str(&format!("{sign}{}\n", painted_segments(p, l)));
        }
    }
    out
}

/// Two columns, old on the left, with line numbers; long lines are cut to fit.
pub fn side_by_side(p: Paint, t: &TextChanges, width: usize) -> String {
    let col = (width.saturating_sub(3) / 2).max(20);
    let text_w = col.saturating_sub(5);
    let cell = |line: &Option<DiffLine>, left: bool| -> String {
        let Some(l) = line else {
            return " ".repeat(col);
        };
        let no = if left { l.old_no } else { l.new_no };
        let raw = l.text();
        let shown: String = raw.chars().take(text_w).collect();
        let pad = text_w.saturating_sub(shown.chars().count());
        let body = if shown.len() == raw.len() {
            painted_segments(p, l)
        } else {
            match l.tag {
                LineTag::Delete => p.red(&shown),
                LineTag::Insert => p.green(&shown),
                LineTag::Equal => shown,
            }
        };
        format!(
            "{:>4} {body}{}",
            no.map(|n| n.to_string()).unwrap_or_default(),
            " ".repeat(pad)
        )
    };
    let mut out = String::new();
    for row in t.side_by_side() {
        match row {
            None => out.push_str(&p.dim(&format!("{:-<col$} | {:-<col$}\n", "", ""))),
            Some(r) => {
                let marker = match (&r.left, &r.right) {
                    (Some(l), Some(_)) if l.tag == LineTag::Equal => " ",
                    (Some(_), Some(_)) => "|",
                    (Some(_), None) => "<",
                    _ => ">",
                };
                let line = format!("{} {marker} {}", cell(&r.left, true), cell(&r.right, false));
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
    }
    out
}

pub fn check(g: &Global, path: Option<PathBuf>) -> Exit {
    let path = path.unwrap_or_else(|| PathBuf::from("configs/fleet"));
    // The naming templates come from the configuration when there is one.
    let naming = match super::load_settings(g) {
        Ok(Some(s)) => s.naming,
        Ok(None) => Naming::default(),
        Err(e) => return fail(Exit::Usage, e),
    };
    let fleet = match FleetFiles::load(&path, naming.model.as_str()) {
        Ok(f) => f,
        Err(e) => return fail(Exit::Usage, e),
    };
    let plants: std::collections::BTreeSet<_> = fleet
        .circuits
        .iter()
        .map(|c| c.config.circuit.plant.clone())
        .collect();
    if g.json {
        #[derive(Serialize)]
        struct Report<'a> {
            path: String,
            files: usize,
            plants: usize,
            circuits: usize,
            clean: bool,
            problems: &'a [configs::FileProblem],
        }
        print_json(&Report {
            path: path.display().to_string(),
            files: fleet.files,
            plants: plants.len(),
            circuits: fleet.circuits.len(),
            clean: fleet.is_clean(),
            problems: &fleet.problems,
        });
    } else {
        let p = Paint::stdout();
        for problem in &fleet.problems {
            println!("{problem}");
        }
        let summary = format!(
            "{}: {} circuit{} in {} plant{}, {} file{}, {}",
            path.display(),
            fleet.circuits.len(),
            if fleet.circuits.len() == 1 { "" } else { "s" },
            plants.len(),
            if plants.len() == 1 { "" } else { "s" },
            fleet.files,
            if fleet.files == 1 { "" } else { "s" },
            match fleet.problems.len() {
                0 => p.green("clean"),
                1 => p.red("1 problem"),
                n => p.red(&format!("{n} problems")),
            }
        );
        println!("{summary}");
    }
    if fleet.is_clean() {
        Exit::Ok
    } else {
        Exit::Refused
    }
}
