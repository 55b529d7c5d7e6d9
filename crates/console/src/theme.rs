//! Themes name release states, not widgets: `status.alert`, `stage.prod`, `diff.add`... Built-in
//! themes are embedded from `themes/*.toml`; user themes live in `<config dir>/themes/`. A bad
//! role or colour is a warning and the base theme's style stays. `NO_COLOR` gives a monochrome
//! theme that still tells states apart with symbols, bold and reverse video.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};

const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "catppuccin-mocha",
        include_str!("../../../themes/catppuccin-mocha.toml"),
    ),
];

/// The theme used when none is chosen.
pub const DEFAULT_THEME: &str = "dark";

macro_rules! roles {
    ($($field:ident => $name:literal: $doc:literal,)+) => {
        /// Every role a view may paint with.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            /// No colours at all (NO_COLOR): views lean on symbols and modifiers.
            pub monochrome: bool,
            $(#[doc = $doc] pub $field: Style,)+
        }

        impl Theme {
            /// Role names as theme files spell them.
            pub const ROLES: &'static [&'static str] = &[$($name,)+];

            fn role_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $($name => Some(&mut self.$field),)+
                    _ => None,
                }
            }

            fn blank(name: &str) -> Theme {
                Theme {
                    name: name.to_owned(),
                    monochrome: false,
                    $($field: Style::new(),)+
                }
            }
        }
    };
}

roles! {
    text => "text": "Body text.",
    muted => "muted": "Secondary text: units, unchanged versions, help descriptions.",
    title => "title": "Pane titles.",
    header => "header": "Table headers.",
    border => "border": "Pane borders.",
    border_focus => "border.focus": "The border of the pane with the keyboard focus.",
    selection => "selection": "The selected row in the focused pane.",
    selection_inactive => "selection.inactive": "The selected row in a pane without focus.",
    ok => "status.ok": "Healthy, passed, matching.",
    warn => "status.warn": "Needs a look.",
    alert => "status.alert": "Failing, broken, over the limit.",
    unknown => "status.unknown": "Could not be read: never drawn like ok.",
    stage_dev => "stage.dev": "Dev versions.",
    stage_registry => "stage.registry": "Registry versions.",
    stage_test => "stage.test": "Test versions.",
    stage_prod => "stage.prod": "Prod versions and the Prod column.",
    prod => "prod": "The PROD badge: unmistakable, never like Test.",
    diff_add => "diff.add": "Added lines.",
    diff_remove => "diff.remove": "Removed lines.",
    diff_add_emph => "diff.add_emph": "Changed words on added lines.",
    diff_remove_emph => "diff.remove_emph": "Changed words on removed lines.",
    diff_hunk => "diff.hunk": "Hunk headers.",
    bar => "bar": "Status and hint bars.",
    bar_key => "bar.key": "Keys in the hint bar.",
    stale => "stale": "The STALE badge of old data.",
    read_only => "read_only": "The READ-ONLY badge.",
    error => "error": "Errors.",
    warning => "warning": "Warnings (bad keymap or theme entries).",
    note => "note": "Notes in the bottom line.",
    tab => "tab": "Inactive tabs.",
    tab_active => "tab.active": "The active tab.",
    chart_series => "chart.series": "The series of a chart.",
    chart_threshold => "chart.threshold": "The alert threshold line.",
    chart_warn => "chart.warn": "The warning threshold line.",
    matched => "match": "Filter matches.",
}

impl Theme {
    /// The built-in default.
    pub fn default_theme() -> Theme {
        let (t, _) = Theme::parse(BUILTIN[0].1, "dark", None);
        t
    }

    /// Names of the built-in themes.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Built-in names plus user theme files in `dir`.
    pub fn available(dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = Theme::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(d) = dir
            && let Ok(entries) = std::fs::read_dir(d)
        {
            let mut user: Vec<String> = entries
                .flatten()
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension()? == "toml")
                        .then(|| p.file_stem()?.to_str().map(str::to_owned))
                        .flatten()
                })
                .filter(|n| !names.contains(n))
                .collect();
            user.sort();
            names.extend(user);
        }
        names
    }

    /// A monochrome theme for `NO_COLOR`: states differ by symbol, bold, underline, reverse.
    pub fn monochrome() -> Theme {
        let b = Style::new().add_modifier(Modifier::BOLD);
        let r = Style::new().add_modifier(Modifier::REVERSED);
        let d = Style::new().add_modifier(Modifier::DIM);
        let mut t = Theme::blank("no-color");
        t.monochrome = true;
        t.muted = d;
        t.title = b;
        t.header = b.add_modifier(Modifier::UNDERLINED);
        t.border_focus = b;
        t.selection = r;
        t.selection_inactive = Style::new().add_modifier(Modifier::UNDERLINED);
        t.warn = b;
        t.alert = b.add_modifier(Modifier::REVERSED);
        t.unknown = Style::new().add_modifier(Modifier::ITALIC);
        t.stage_prod = b;
        t.prod = b.add_modifier(Modifier::REVERSED);
        t.diff_add = b;
        t.diff_remove = d;
        t.diff_add_emph = b.add_modifier(Modifier::REVERSED);
        t.diff_remove_emph = Style::new().add_modifier(Modifier::REVERSED | Modifier::CROSSED_OUT);
        t.diff_hunk = b;
        t.bar = r;
        t.bar_key = r.add_modifier(Modifier::BOLD);
        t.stale = b.add_modifier(Modifier::UNDERLINED);
        t.read_only = b;
        t.error = b.add_modifier(Modifier::REVERSED);
        t.warning = b;
        t.note = b;
        t.tab_active = r;
        t.chart_threshold = b;
        t.chart_warn = d;
        t.matched = Style::new().add_modifier(Modifier::UNDERLINED);
        t
    }

    /// Load a theme by name: built in, else `<dir>/NAME.toml`. Unknown or broken themes fall
    /// back to the default with a warning.
    pub fn load(name: &str, dir: Option<&Path>) -> (Theme, Vec<String>) {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Theme::parse(text, name, dir);
        }
        let Some(path) = dir.map(|d| d.join(format!("{name}.toml"))) else {
            return (
                Theme::default_theme(),
                vec![format!(
                    "theme `{name}` is not built in and there is no config dir"
                )],
            );
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (mut t, w) = Theme::parse(&text, &path.display().to_string(), dir);
                t.name = name.to_owned();
                (t, w)
            }
            Err(e) => (
                Theme::default_theme(),
                vec![format!(
                    "theme `{name}`: cannot read {}: {e} (built in: {})",
                    path.display(),
                    Theme::builtin_names().join(", ")
                )],
            ),
        }
    }

    /// Parse a theme file over its base (`extends = "NAME"`, default `dark`).
    pub fn parse(text: &str, origin: &str, dir: Option<&Path>) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                return (
                    Theme::default_theme(),
                    vec![format!(
                        "{origin}: not valid TOML ({}); using the default theme",
                        e.message()
                    )],
                );
            }
        };
        let extends = table.get("extends").and_then(|v| v.as_str());
        let mut theme = match extends {
            // The dark theme is the root; it starts from nothing.
            None if origin == "dark" => Theme::blank("dark"),
            None => Theme::default_theme(),
            Some(base) if base == origin => {
                warnings.push(format!("{origin}: a theme cannot extend itself"));
                Theme::default_theme()
            }
            Some(base) => {
                let (t, w) = Theme::load(base, dir);
                warnings.extend(w);
                t
            }
        };
        theme.name = table
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or(origin)
            .to_owned();
        for key in table.keys() {
            if !matches!(key.as_str(), "name" | "extends" | "roles") {
                warnings.push(format!(
                    "{origin}: unknown key `{key}` (name, extends, roles)"
                ));
            }
        }
        let mut roles = Vec::new();
        if let Some(r) = table.get("roles") {
            match r.as_table() {
                Some(t) => flatten("", t, &mut roles),
                None => warnings.push(format!("{origin}: `roles` must be a table")),
            }
        }
        for (role, value) in roles {
            let Some(slot) = theme.role_mut(&role) else {
                warnings.push(format!("{origin}: unknown role `{role}`"));
                continue;
            };
            match style_of(&value) {
                Ok(s) => *slot = s,
                Err(e) => warnings.push(format!("{origin}: role `{role}`: {e}")),
            }
        }
        (theme, warnings)
    }

    pub fn status(&self, s: crate::domain::Status) -> Style {
        use crate::domain::Status;
        match s {
            Status::Ok => self.ok,
            Status::Warn => self.warn,
            Status::Alert => self.alert,
            Status::Unknown => self.unknown,
        }
    }

    pub fn stage(&self, s: crate::domain::Stage) -> Style {
        use crate::domain::Stage;
        match s {
            Stage::Dev => self.stage_dev,
            Stage::Registry => self.stage_registry,
            Stage::Test => self.stage_test,
            Stage::Prod => self.stage_prod,
        }
    }
}

/// Where user themes live: `<config dir>/themes`.
pub fn user_theme_dir() -> Option<PathBuf> {
    crate::settings::dirs().map(|d| d.config_dir().join("themes"))
}

/// Whether `NO_COLOR` asks for no colours (set and not empty, per no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// `[roles]` may nest (`[roles.status] ok = ...`) or quote (`"status.ok" = ...`); a table
/// holding style keys is a style, any other table a group of roles.
fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    const STYLE_KEYS: [&str; 8] = [
        "fg",
        "bg",
        "bold",
        "italic",
        "underline",
        "reversed",
        "dim",
        "crossed_out",
    ];
    for (k, v) in t {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v.as_table() {
            Some(inner) if !inner.keys().any(|k| STYLE_KEYS.contains(&k.as_str())) => {
                flatten(&name, inner, out)
            }
            _ => out.push((name, v.clone())),
        }
    }
}

fn color(s: &str) -> Result<Color, String> {
    s.parse::<Color>()
        .map_err(|_| format!("`{s}` is not a colour (a name like `red`, `#rrggbb`, or 0-255)"))
}

/// `"red"` (the foreground) or `{ fg, bg, bold, italic, underline, reversed, dim, crossed_out }`.
fn style_of(v: &toml::Value) -> Result<Style, String> {
    if let Some(s) = v.as_str() {
        return Ok(Style::new().fg(color(s)?));
    }
    let t = v.as_table().ok_or_else(|| {
        "expected a colour or a table like { fg = \"red\", bold = true }".to_owned()
    })?;
    let mut style = Style::new();
    for (k, v) in t {
        match k.as_str() {
            "fg" | "bg" => {
                let c = color(
                    v.as_str()
                        .ok_or_else(|| format!("`{k}` must be a string"))?,
                )?;
                style = if k == "fg" { style.fg(c) } else { style.bg(c) };
            }
            flag => {
                let m = match flag {
                    "bold" => Modifier::BOLD,
                    "italic" => Modifier::ITALIC,
                    "underline" => Modifier::UNDERLINED,
                    "reversed" => Modifier::REVERSED,
                    "dim" => Modifier::DIM,
                    "crossed_out" => Modifier::CROSSED_OUT,
                    other => return Err(format!("unknown style key `{other}`")),
                };
                match v.as_bool() {
                    Some(true) => style = style.add_modifier(m),
                    Some(false) => {}
                    None => return Err(format!("`{flag}` must be true or false")),
                }
            }
        }
    }
    Ok(style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Stage, Status};

    #[test]
    fn builtin_themes_are_complete_and_clean() {
        for name in Theme::builtin_names() {
            let (t, w) = Theme::load(name, None);
            assert!(w.is_empty(), "{name}: {w:?}");
            assert_eq!(t.name, name);
            // Unknown is never drawn like ok, Prod never like Test.
            assert_ne!(t.status(Status::Unknown), t.status(Status::Ok), "{name}");
            assert_ne!(t.stage(Stage::Prod), t.stage(Stage::Test), "{name}");
            assert_ne!(t.prod, t.stage(Stage::Test), "{name}");
            assert!(t.prod.add_modifier.contains(Modifier::BOLD), "{name}");
            assert_ne!(t.selection, Style::new(), "{name}");
        }
    }

    #[test]
    fn bad_roles_and_colours_warn_and_keep_the_base() {
        let text = r##"
name = "mine"
extends = "light"
[roles]
"status.ok" = "#00ff00"
status.alert = { fg = "reddish" }
prod = { fg = "white", bg = "magenta", bold = true, blink = true }
nonsense = "red"
[roles.diff]
add = { fg = "green", bold = true }
"##;
        let (t, w) = Theme::parse(text, "mine.toml", None);
        let light = Theme::load("light", None).0;
        assert_eq!(t.name, "mine");
        assert_eq!(t.ok, Style::new().fg(Color::Rgb(0, 255, 0)));
        assert_eq!(t.alert, light.alert, "bad colour keeps the base");
        assert_eq!(t.prod, light.prod, "bad key keeps the base");
        assert_eq!(
            t.diff_add,
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
        );
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(w.iter().any(|m| m.contains("reddish")));
        assert!(w.iter().any(|m| m.contains("blink")));
        assert!(w.iter().any(|m| m.contains("unknown role `nonsense`")));
    }

    #[test]
    fn unknown_theme_falls_back_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("night.toml"), "[roles]\ntext = \"gray\"\n").unwrap();
        let (t, w) = Theme::load("night", Some(dir.path()));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.name, "night");
        assert_eq!(t.text, Style::new().fg(Color::Gray));
        let (t, w) = Theme::load("missing", Some(dir.path()));
        assert_eq!(t.name, "dark");
        assert!(w[0].contains("missing"), "{w:?}");
        assert!(Theme::available(Some(dir.path())).contains(&"night".to_owned()));
    }

    #[test]
    fn monochrome_still_distinguishes_states() {
        let t = Theme::monochrome();
        let all = [Status::Ok, Status::Warn, Status::Alert, Status::Unknown];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(t.status(*a), t.status(*b), "{a} vs {b}");
            }
            assert_eq!(t.status(*a).fg, None);
        }
        assert_ne!(t.prod, t.stage(Stage::Test));
    }
}
