//! The `:` command palette: parsing commands and completing them (command names, plant ids,
//! circuit references, theme names). Pure: `update` decides what a command does.

use crate::domain::fleet::FleetSnapshot;

/// A command of the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Fleet,
    Approvals,
    Env,
    Ops,
    Audit,
    Alerts,
    Plant(String),
    Circuit(String),
    Rollback(String),
    Theme(String),
    Refresh,
    Help,
    Quit,
}

/// Every command: name, argument, what it does (for completion and help).
pub const COMMANDS: [(&str, &str, &str); 13] = [
    ("fleet", "", "the fleet: plants and circuits"),
    ("approvals", "", "everything waiting for approval"),
    ("alerts", "", "fired Azure Monitor alerts on the fleet"),
    ("env", "", "the environment release matrix"),
    ("circuit", "PLANT/CIRCUIT", "open a circuit"),
    ("rollback", "PLANT/CIRCUIT", "roll a circuit back in Prod"),
    ("plant", "ID", "show one plant's circuits"),
    ("theme", "NAME", "switch the colour theme"),
    ("refresh", "", "read the fleet again now"),
    ("ops", "", "operations in flight and recent"),
    ("audit", "", "the audit log, its chain verified"),
    ("help", "", "keys and commands"),
    ("q", "", "quit"),
];

/// Parse a command line (without the leading `:`).
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim().trim_start_matches(':').trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    let need = |what: &str, usage: &str| -> Result<String, String> {
        if arg.is_empty() {
            Err(format!("{what} needs an argument: :{usage}"))
        } else {
            Ok(arg.to_owned())
        }
    };
    let no_arg = |c: Command| -> Result<Command, String> {
        if arg.is_empty() {
            Ok(c)
        } else {
            Err(format!(":{name} takes no argument"))
        }
    };
    match name.to_ascii_lowercase().as_str() {
        "" => Err("type a command; Tab completes".into()),
        "fleet" | "f" => no_arg(Command::Fleet),
        "approvals" | "approval" | "a" => no_arg(Command::Approvals),
        "env" | "environment" => no_arg(Command::Env),
        "ops" | "operations" => no_arg(Command::Ops),
        "audit" => no_arg(Command::Audit),
        "alerts" | "alert" => no_arg(Command::Alerts),
        "refresh" | "r" => no_arg(Command::Refresh),
        "help" | "h" | "?" => no_arg(Command::Help),
        "q" | "quit" | "q!" | "qa" => no_arg(Command::Quit),
        "plant" | "p" => need("plant", "plant PLANT001").map(Command::Plant),
        "circuit" | "c" => need("circuit", "circuit PLANT001/CIRCUIT01").map(Command::Circuit),
        "rollback" => need("rollback", "rollback PLANT001/CIRCUIT01").map(Command::Rollback),
        "theme" => need("theme", "theme NAME").map(Command::Theme),
        other => Err(format!("unknown command :{other} (Tab lists the commands)")),
    }
}

/// A completion: the line it would make, and what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub line: String,
    pub label: String,
    pub detail: String,
}

/// How many candidates are kept (the popup shows a window of them).
pub const MAX: usize = 50;

/// Completions of `line` from the commands, the snapshot and the theme names.
pub fn complete(line: &str, snapshot: Option<&FleetSnapshot>, themes: &[String]) -> Vec<Candidate> {
    let (name, arg) = match line.split_once(' ') {
        Some((n, a)) => (n, Some(a.trim_start())),
        None => (line, None),
    };
    let Some(arg) = arg else {
        let lower = name.to_ascii_lowercase();
        return COMMANDS
            .iter()
            .filter(|(n, _, _)| n.starts_with(&lower))
            .map(|(n, a, d)| Candidate {
                line: if a.is_empty() {
                    (*n).to_owned()
                } else {
                    format!("{n} ")
                },
                label: if a.is_empty() {
                    format!(":{n}")
                } else {
                    format!(":{n} {a}")
                },
                detail: (*d).to_owned(),
            })
            .collect();
    };
    let needle = arg.to_ascii_uppercase();
    match name.to_ascii_lowercase().as_str() {
        "plant" | "p" => snapshot
            .into_iter()
            .flat_map(|s| s.plants.iter())
            .filter(|p| {
                p.plant_id.as_str().starts_with(&needle)
                    || p.name.to_ascii_uppercase().contains(&needle)
            })
            .take(MAX)
            .map(|p| Candidate {
                line: format!("plant {}", p.plant_id),
                label: p.plant_id.to_string(),
                detail: p.name.clone(),
            })
            .collect(),
        "circuit" | "c" | "rollback" => {
            let verb = if name.eq_ignore_ascii_case("rollback") {
                "rollback"
            } else {
                "circuit"
            };
            let Some(s) = snapshot else {
                return Vec::new();
            };
            let mut out: Vec<Candidate> = Vec::new();
            // Ids first, then descriptions, so `PLANT003/` lists that plant in order.
            for pass in 0..2 {
                for c in s.circuits() {
                    if out.len() >= MAX {
                        break;
                    }
                    let id = c.circuit.to_string();
                    let hit = if pass == 0 {
                        id.starts_with(&needle)
                    } else {
                        !id.starts_with(&needle)
                            && c.description.to_ascii_uppercase().contains(&needle)
                    };
                    if hit {
                        out.push(Candidate {
                            line: format!("{verb} {id}"),
                            label: id,
                            detail: c.description.clone(),
                        });
                    }
                }
            }
            out
        }
        "theme" => themes
            .iter()
            .filter(|t| t.to_ascii_uppercase().starts_with(&needle))
            .map(|t| Candidate {
                line: format!("theme {t}"),
                label: t.clone(),
                detail: String::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn commands_parse_with_and_without_arguments() {
        assert_eq!(parse("fleet"), Ok(Command::Fleet));
        assert_eq!(parse(":approvals"), Ok(Command::Approvals));
        assert_eq!(parse("  q "), Ok(Command::Quit));
        assert_eq!(
            parse("circuit PLANT001/CIRCUIT01"),
            Ok(Command::Circuit("PLANT001/CIRCUIT01".into()))
        );
        assert_eq!(parse("theme light"), Ok(Command::Theme("light".into())));
        assert!(parse("circuit").unwrap_err().contains("needs an argument"));
        assert!(parse("fleet now").unwrap_err().contains("no argument"));
        assert!(
            parse("launch")
                .unwrap_err()
                .contains("unknown command :launch")
        );
        assert!(parse("").is_err());
    }

    #[test]
    fn completion_lists_commands_then_arguments() {
        let s = fixture::fleet(fixture::DEMO_CIRCUITS);
        let themes = vec!["dark".to_owned(), "light".to_owned()];
        let c = complete("a", Some(&s), &themes);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(c[0].line, "approvals");
        assert_eq!(c[1].line, "alerts");
        assert_eq!(parse("alerts"), Ok(Command::Alerts));
        assert_eq!(complete("circ", Some(&s), &themes)[0].line, "circuit ");
        let c = complete("circuit plant003/", Some(&s), &themes);
        assert!(!c.is_empty());
        assert!(c.iter().all(|x| x.label.starts_with("PLANT003/")), "{c:?}");
        let by_desc = complete("circuit cooling", Some(&s), &themes);
        assert!(
            by_desc
                .iter()
                .all(|x| x.detail.to_lowercase().contains("cooling"))
        );
        assert!(!by_desc.is_empty());
        let p = complete("plant kulm", Some(&s), &themes);
        assert_eq!(p[0].line, "plant PLANT003");
        assert_eq!(
            complete("theme l", Some(&s), &themes)[0].line,
            "theme light"
        );
        assert!(complete("circuit x", None, &themes).is_empty());
        assert!(complete("zzz", Some(&s), &themes).is_empty());
    }
}
