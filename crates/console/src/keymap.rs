//! Key bindings as data: `keymap-default.toml` (embedded) with a user file layered on top.
//! Entries deserialize into [`Action`]; the same `desc` feeds the help screen and the hint bar,
//! so they cannot drift from what the keys do. A bad user entry is a warning, never fatal.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

const DEFAULT: &str = include_str!("keymap-default.toml");

/// Where a binding applies. Keys are looked up in the current contexts, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Fleet,
    Grid,
    Circuit,
    Diff,
    Approvals,
    Env,
    Help,
    Picker,
    Input,
    Decide,
    /// The comment box of an alert change (acknowledge / close / reopen).
    AlertNote,
    /// The circuit's Jobs tab.
    Jobs,
    /// The confirmation of a job retry (typed in Prod).
    JobRetry,
    Review,
    Results,
    Rollback,
    Confirm,
    Progress,
    Ops,
    Audit,
    Alerts,
}

impl Context {
    pub const ALL: [Context; 22] = [
        Context::Global,
        Context::Fleet,
        Context::Grid,
        Context::Circuit,
        Context::Diff,
        Context::Approvals,
        Context::Env,
        Context::Decide,
        Context::AlertNote,
        Context::Jobs,
        Context::JobRetry,
        Context::Review,
        Context::Results,
        Context::Rollback,
        Context::Confirm,
        Context::Progress,
        Context::Ops,
        Context::Audit,
        Context::Alerts,
        Context::Help,
        Context::Picker,
        Context::Input,
    ];

    /// Contexts where printable keys type text (a key bound here still wins).
    pub fn types_text(self) -> bool {
        matches!(
            self,
            Context::Input
                | Context::Decide
                | Context::AlertNote
                | Context::JobRetry
                | Context::Review
                | Context::Confirm
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Fleet => "fleet",
            Context::Grid => "grid",
            Context::Circuit => "circuit",
            Context::Diff => "diff",
            Context::Approvals => "approvals",
            Context::Env => "env",
            Context::Help => "help",
            Context::Picker => "picker",
            Context::Input => "input",
            Context::Decide => "decide",
            Context::AlertNote => "alert-note",
            Context::Jobs => "jobs",
            Context::JobRetry => "job-retry",
            Context::Review => "review",
            Context::Results => "results",
            Context::Rollback => "rollback",
            Context::Confirm => "confirm",
            Context::Progress => "progress",
            Context::Ops => "ops",
            Context::Audit => "audit",
            Context::Alerts => "alerts",
        }
    }

    /// The heading of this context on the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Fleet => "Fleet",
            Context::Grid => "Fleet health grid",
            Context::Circuit => "Circuit",
            Context::Diff => "Circuit: config diff",
            Context::Approvals => "Approvals",
            Context::Env => "Environment release",
            Context::Help => "Help",
            Context::Picker => "Version picker",
            Context::Input => "Filter and command line",
            Context::Decide => "Comment box (approve / reject)",
            Context::AlertNote => "Alert comment box (acknowledge / close / reopen)",
            Context::Jobs => "Circuit: scoring jobs",
            Context::JobRetry => "Retry a scoring job: confirmation",
            Context::Review => "Bulk review table",
            Context::Results => "Bulk results",
            Context::Rollback => "Rollback: target and plan",
            Context::Confirm => "Rollback: typed confirmation",
            Context::Progress => "Operation progress",
            Context::Ops => "Operations",
            Context::Audit => "Audit log",
            Context::Alerts => "Fired alerts",
        }
    }

    fn parse(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// One key with its modifiers, normalized so `J` and `Shift-j` are the same chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        // The shift of a character is in the character; BackTab is Shift-Tab already.
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Self { code, mods }
    }

    pub fn from_event(e: &KeyEvent) -> Self {
        Self::new(e.code, e.modifiers)
    }

    /// Parse `j`, `J`, `<Enter>`, `<S-Tab>`, `<C-c>`, `<A-Left>`...
    pub fn parse(s: &str) -> Result<KeyChord, String> {
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(KeyChord::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .ok_or_else(|| format!("`{s}` is not a key: write one character or <Name>"))?;
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        while let Some((m, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break;
            }
            match m.to_ascii_uppercase().as_str() {
                "C" => mods |= KeyModifiers::CONTROL,
                "A" | "M" => mods |= KeyModifiers::ALT,
                "S" => mods |= KeyModifiers::SHIFT,
                _ => return Err(format!("`{s}`: unknown modifier `{m}` (C, A, S)")),
            }
            rest = tail;
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "cr" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" | "bs" => KeyCode::Backspace,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "lt" => KeyCode::Char('<'),
            "gt" => KeyCode::Char('>'),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n = f[1..].parse::<u8>().unwrap_or(0);
                if !(1..=12).contains(&n) {
                    return Err(format!("`{s}`: function keys are F1 to F12"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut cs = rest.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("`{s}`: unknown key name `{rest}`")),
                }
            }
        };
        Ok(KeyChord::new(code, mods))
    }
}

impl fmt::Display for KeyChord {
    /// The short label of help and hints: `j`, `↓`, `Enter`, `S-Tab`, `C-c`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("C-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("A-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("S-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::F(n) => write!(f, "F{n}"),
            _ => f.write_str("?"),
        }
    }
}

/// A binding: keys, what they run, and the words for help and hints.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub keys: Vec<KeyChord>,
    pub action: Action,
    pub desc: String,
    pub hint: Option<String>,
}

impl Binding {
    /// `j ↓` for help.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Bindings per context, in lookup order.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    contexts: HashMap<Context, Vec<Binding>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    on: OneOrMany,
    run: Action,
    #[serde(default)]
    desc: Option<String>,
    #[serde(default)]
    hint: Option<String>,
}

impl Keymap {
    /// The built-in bindings.
    pub fn defaults() -> Keymap {
        let mut map = Keymap::default();
        let warnings = map.layer(DEFAULT, "built-in keymap");
        // The embedded file is tested; a problem there is a bug, shown rather than hidden.
        debug_assert!(warnings.is_empty(), "{warnings:?}");
        map
    }

    /// The defaults with a user file layered on top, and what was wrong with it.
    pub fn with_user(text: &str, origin: &str) -> (Keymap, Vec<String>) {
        let mut map = Keymap::defaults();
        let warnings = map.layer(text, origin);
        (map, warnings)
    }

    /// Add a file's bindings in front of what is there; the same key in the same context is
    /// taken over. Each bad entry is skipped with a warning.
    pub fn layer(&mut self, text: &str, origin: &str) -> Vec<String> {
        let mut warnings = Vec::new();
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                warnings.push(format!(
                    "{origin}: not valid TOML ({}); using the default keys",
                    e.message()
                ));
                return warnings;
            }
        };
        for (ctx_name, section) in table {
            let Some(ctx) = Context::parse(&ctx_name) else {
                warnings.push(format!(
                    "{origin}: unknown context [{ctx_name}] (one of: {})",
                    Context::ALL.map(Context::name).join(", ")
                ));
                continue;
            };
            let entries = match section.get("keymap").and_then(|k| k.as_array()) {
                Some(e) => e.clone(),
                None => {
                    warnings.push(format!(
                        "{origin}: [{ctx_name}] needs `keymap = [ {{ on = ..., run = ... }} ]`"
                    ));
                    continue;
                }
            };
            let mut added: Vec<Binding> = Vec::new();
            for (i, entry) in entries.into_iter().enumerate() {
                let at = format!("{origin}: [{ctx_name}] entry {}", i + 1);
                let raw: RawEntry = match entry.try_into() {
                    Ok(r) => r,
                    Err(e) => {
                        warnings.push(format!("{at}: {}", first_line(&e.to_string())));
                        continue;
                    }
                };
                let keys = match raw.on {
                    OneOrMany::One(k) => vec![k],
                    OneOrMany::Many(ks) => ks,
                };
                let mut chords = Vec::new();
                for k in &keys {
                    match KeyChord::parse(k) {
                        Ok(c) => chords.push(c),
                        Err(e) => warnings.push(format!("{at}: {e}")),
                    }
                }
                if chords.is_empty() {
                    continue;
                }
                added.push(Binding {
                    keys: chords,
                    action: raw.run,
                    desc: raw.desc.unwrap_or_else(|| raw.run.name().replace('-', " ")),
                    hint: raw.hint,
                });
            }
            let list = self.contexts.entry(ctx).or_default();
            // Keys taken over by the new entries leave the older ones (and help says so).
            for b in list.iter_mut() {
                b.keys.retain(|k| !added.iter().any(|a| a.keys.contains(k)));
            }
            list.retain(|b| !b.keys.is_empty());
            added.append(list);
            *list = added;
        }
        warnings
    }

    /// The action of a key in the first context (of `stack`) that binds it.
    pub fn resolve(&self, stack: &[Context], key: KeyChord) -> Option<Action> {
        stack.iter().find_map(|ctx| {
            self.contexts
                .get(ctx)?
                .iter()
                .find(|b| b.keys.contains(&key))
                .map(|b| b.action)
        })
    }

    /// Bindings of one context, as listed in help (unbound `noop`s left out).
    pub fn bindings(&self, ctx: Context) -> impl Iterator<Item = &Binding> {
        self.contexts
            .get(&ctx)
            .into_iter()
            .flatten()
            .filter(|b| b.action != Action::Noop)
    }

    /// The first key bound to `action` in `stack`, for messages such as "press ? for help".
    pub fn key_for(&self, stack: &[Context], action: Action) -> Option<KeyChord> {
        stack.iter().find_map(|ctx| {
            self.contexts
                .get(ctx)?
                .iter()
                .find(|b| b.action == action)
                .and_then(|b| {
                    b.keys
                        .iter()
                        .find(|k| self.resolve(stack, **k) == Some(action))
                        .copied()
                })
        })
    }

    /// `(key, label)` pairs for the hint bar: bindings with a `hint`, most specific context
    /// first, each action once, only keys that still reach that action.
    pub fn hints(&self, stack: &[Context]) -> Vec<(String, String)> {
        self.hint_entries(stack)
            .into_iter()
            .map(|(_, k, h)| (k, h))
            .collect()
    }

    /// [`Keymap::hints`] with the action of each, so a view can leave out what does not
    /// apply right now.
    pub fn hint_entries(&self, stack: &[Context]) -> Vec<(Action, String, String)> {
        let mut seen: Vec<Action> = Vec::new();
        let mut out = Vec::new();
        for ctx in stack {
            for b in self.contexts.get(ctx).into_iter().flatten() {
                let Some(hint) = &b.hint else { continue };
                if seen.contains(&b.action) || b.action == Action::Noop {
                    continue;
                }
                let Some(key) = b
                    .keys
                    .iter()
                    .find(|k| self.resolve(stack, **k) == Some(b.action))
                else {
                    continue;
                };
                seen.push(b.action);
                out.push((b.action, key.to_string(), hint.clone()));
            }
        }
        out
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(s)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> KeyChord {
        KeyChord::parse(s).unwrap()
    }

    #[test]
    fn defaults_parse_cleanly_and_resolve_by_context() {
        let mut m = Keymap::default();
        assert_eq!(m.layer(DEFAULT, "default"), Vec::<String>::new());
        let fleet = [Context::Fleet, Context::Global];
        assert_eq!(m.resolve(&fleet, key("j")), Some(Action::Down));
        assert_eq!(m.resolve(&fleet, key("<Down>")), Some(Action::Down));
        assert_eq!(m.resolve(&fleet, key("g")), Some(Action::ToggleGrid));
        assert_eq!(m.resolve(&fleet, key("<Tab>")), Some(Action::FocusNext));
        let circuit = [Context::Circuit, Context::Global];
        assert_eq!(m.resolve(&circuit, key("<Tab>")), Some(Action::NextTab));
        assert_eq!(m.resolve(&circuit, key("<S-Tab>")), Some(Action::PrevTab));
        assert_eq!(m.resolve(&circuit, key("g")), None);
        assert_eq!(m.resolve(&[Context::Input], key("j")), None);
    }

    #[test]
    fn chords_normalize_shift_and_control() {
        let shifted = KeyChord::new(KeyCode::Char('J'), KeyModifiers::SHIFT);
        assert_eq!(shifted, key("J"));
        assert_eq!(
            KeyChord::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            key("<S-Tab>")
        );
        assert_eq!(
            KeyChord::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            key("<C-c>")
        );
        assert_eq!(key("<C-c>").to_string(), "C-c");
        assert_eq!(key("<F5>").code, KeyCode::F(5));
        for bad in ["", "<Nope>", "<X-a>", "ab", "<F13>"] {
            assert!(KeyChord::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_entries_take_over_keys_and_bad_entries_warn() {
        let user = r#"
[fleet]
keymap = [
  { on = "x", run = "toggle-grid", desc = "Grid on x" },
  { on = "s", run = "noop" },
  { on = "y", run = "sort-sideways" },
  { on = "<Hyper-q>", run = "quit" },
]
[nowhere]
keymap = []
"#;
        let (m, warnings) = Keymap::with_user(user, "keymap.toml");
        let fleet = [Context::Fleet, Context::Global];
        assert_eq!(m.resolve(&fleet, key("x")), Some(Action::ToggleGrid));
        assert_eq!(
            m.resolve(&fleet, key("g")),
            Some(Action::ToggleGrid),
            "defaults stay"
        );
        assert_eq!(m.resolve(&fleet, key("s")), Some(Action::Noop));
        assert_eq!(m.resolve(&fleet, key("j")), Some(Action::Down));
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(warnings[0].contains("entry 3") && warnings[0].contains("sort-sideways"));
        assert!(warnings[1].contains("entry 4") && warnings[1].contains("Hyper"));
        assert!(warnings[2].contains("[nowhere]"));
        // Help no longer lists `s` for sorting; the hint bar drops the sort hint.
        assert!(
            m.bindings(Context::Fleet)
                .all(|b| b.action != Action::SortNext)
        );
        assert!(!m.hints(&fleet).iter().any(|(_, h)| h == "sort"));
    }

    #[test]
    fn broken_user_file_keeps_defaults() {
        let (m, warnings) = Keymap::with_user("[fleet\nkeymap = ", "keymap.toml");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("not valid TOML"), "{warnings:?}");
        assert_eq!(m.resolve(&[Context::Global], key("q")), Some(Action::Quit));
    }

    #[test]
    fn hints_follow_remapped_keys() {
        let (m, _) = Keymap::with_user(
            "[global]\nkeymap = [{ on = \"F\", run = \"filter\", hint = \"find\" }]\n",
            "u",
        );
        let hints = m.hints(&[Context::Fleet, Context::Global]);
        assert!(hints.contains(&("F".into(), "find".into())), "{hints:?}");
        assert!(hints.contains(&("Enter".into(), "open".into())));
        assert_eq!(
            m.key_for(&[Context::Global], Action::Help)
                .map(|k| k.to_string()),
            Some("?".into())
        );
    }
}
