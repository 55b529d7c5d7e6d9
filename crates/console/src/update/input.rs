//! The input line: the live filter and the command palette with completion, and what palette
//! commands do.

use crate::action::{Action, Effect};
use crate::app::{App, Mode, NoteLevel, Palette, Route};
use crate::domain::CircuitRef;
use crate::palette::{self, Command};
use crate::theme::Theme;

use super::{approvals, data, fleet};

fn edit(text: &mut String, action: Action) -> bool {
    match action {
        Action::Type(c) => text.push(c),
        Action::DeleteBack => {
            text.pop();
        }
        Action::DeleteWord => {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
            let cut = text.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0);
            text.truncate(cut);
        }
        Action::ClearInput => text.clear(),
        _ => return false,
    }
    true
}

pub fn open_palette(app: &mut App) {
    let candidates = palette::complete("", app.snapshot(), &app.settings.themes);
    app.mode = Mode::Palette(Palette {
        input: String::new(),
        candidates,
        selected: None,
    });
}

pub fn on_filter(app: &mut App, action: Action) -> Vec<Effect> {
    let mut text = app.fleet.filter.text.clone();
    if edit(&mut text, action) {
        fleet::set_filter(app, &text);
        return Vec::new();
    }
    match action {
        Action::Accept => app.mode = Mode::Normal,
        Action::Back => {
            app.mode = Mode::Normal;
            fleet::set_filter(app, "");
        }
        // Pick a row while typing.
        Action::Up | Action::Down => {
            let page = fleet::table_page(app);
            let len = app.fleet.visible.len();
            app.fleet
                .table
                .step(if action == Action::Up { -1 } else { 1 }, len, page);
            fleet::remember_selection(app);
        }
        Action::ForceQuit => return super::quit(app),
        _ => {}
    }
    Vec::new()
}

pub fn on_palette(app: &mut App, action: Action) -> Vec<Effect> {
    let Mode::Palette(p) = &mut app.mode else {
        return Vec::new();
    };
    if edit(&mut p.input, action) {
        let input = p.input.clone();
        let candidates =
            palette::complete(&input, app.data.snapshot.as_deref(), &app.settings.themes);
        if let Mode::Palette(p) = &mut app.mode {
            p.candidates = candidates;
            p.selected = None;
        }
        return Vec::new();
    }
    match action {
        Action::Down | Action::Up => {
            let n = p.candidates.len();
            if n > 0 {
                p.selected = Some(match (p.selected, action) {
                    (None, Action::Down) => 0,
                    (None, _) => n - 1,
                    (Some(i), Action::Down) => (i + 1) % n,
                    (Some(i), _) => (i + n - 1) % n,
                });
            }
        }
        Action::Complete => {
            let pick = p.selected.unwrap_or(0);
            if let Some(c) = p.candidates.get(pick) {
                p.input = c.line.clone();
                let input = p.input.clone();
                let candidates =
                    palette::complete(&input, app.data.snapshot.as_deref(), &app.settings.themes);
                if let Mode::Palette(p) = &mut app.mode {
                    p.candidates = candidates;
                    p.selected = None;
                }
            }
        }
        Action::Accept => {
            // A highlighted completion is what Enter runs; else the line as typed.
            let line = match p.selected.and_then(|i| p.candidates.get(i)) {
                Some(c) => c.line.clone(),
                None => p.input.clone(),
            };
            app.mode = Mode::Normal;
            return match palette::parse(&line) {
                Ok(cmd) => run(app, cmd),
                Err(e) => {
                    app.set_note(NoteLevel::Error, e);
                    Vec::new()
                }
            };
        }
        Action::Back => app.mode = Mode::Normal,
        Action::ForceQuit => return super::quit(app),
        _ => {}
    }
    Vec::new()
}

/// Do what a palette command says.
pub fn run(app: &mut App, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Fleet => {
            app.routes.truncate(1);
            Vec::new()
        }
        Command::Approvals => approvals::open(app),
        Command::Env => {
            app.routes.truncate(1);
            approvals::open_env(app, None)
        }
        Command::Ops => super::ops::open_ops(app),
        Command::Audit => super::ops::open_audit(app),
        Command::Alerts => super::alerts::open(app),
        Command::Rollback(r) => match r.trim().to_ascii_uppercase().parse::<CircuitRef>() {
            Err(e) => {
                app.set_note(NoteLevel::Error, e.to_string());
                Vec::new()
            }
            Ok(c) => {
                if matches!(app.route(), Route::Help) {
                    app.routes.pop();
                }
                super::rollback::open(app, c)
            }
        },
        Command::Plant(id) => {
            let wanted = id.trim().to_ascii_uppercase();
            let pos = app
                .snapshot()
                .and_then(|s| s.plants.iter().position(|p| p.plant_id.as_str() == wanted));
            match pos {
                Some(p) => {
                    app.routes.truncate(1);
                    app.fleet.grid = false;
                    app.fleet.focus = crate::app::Pane::Right;
                    fleet::select_plant(app, p + 1);
                }
                None => app.set_note(NoteLevel::Error, format!("no plant {wanted} in the fleet")),
            }
            Vec::new()
        }
        Command::Circuit(r) => {
            let parsed: Result<CircuitRef, _> = r.trim().to_ascii_uppercase().parse();
            match parsed {
                Err(e) => {
                    app.set_note(NoteLevel::Error, e.to_string());
                    Vec::new()
                }
                Ok(c) if app.data.circuit(&c).is_none() => {
                    app.set_note(NoteLevel::Error, format!("no circuit {c} in the fleet"));
                    Vec::new()
                }
                Ok(c) => {
                    // One circuit at a time: a new one replaces the open one.
                    if matches!(app.route(), Route::Circuit(_) | Route::Help) {
                        app.routes.pop();
                    }
                    super::open_circuit(app, c)
                }
            }
        }
        Command::Theme(name) => {
            switch_theme(app, name.trim());
            Vec::new()
        }
        Command::Refresh => data::request_refresh(app),
        Command::Help => {
            super::open_help(app);
            Vec::new()
        }
        Command::Quit => super::quit(app),
    }
}

fn switch_theme(app: &mut App, name: &str) {
    if app.theme.monochrome && app.theme.name == "no-color" {
        app.set_note(
            NoteLevel::Warning,
            "NO_COLOR is set: the console stays monochrome",
        );
        return;
    }
    if !app.settings.themes.iter().any(|t| t == name) {
        app.set_note(
            NoteLevel::Error,
            format!(
                "no theme `{name}` (have: {})",
                app.settings.themes.join(", ")
            ),
        );
        return;
    }
    let (theme, warnings) = Theme::load(name, app.settings.theme_dir.as_deref());
    app.theme = theme;
    match warnings.first() {
        Some(w) => {
            let w = w.clone();
            app.warnings.extend(warnings);
            app.set_note(NoteLevel::Warning, w);
        }
        None => app.set_note(NoteLevel::Info, format!("theme {name}")),
    }
}
