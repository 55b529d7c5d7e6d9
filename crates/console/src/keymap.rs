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
pub enum KeyContext {
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
    /// A box whose change is on its way (decision, alert change, job retry): nothing to
    /// type or send; Esc closes it and the answer comes as a note (or in the job's row).
    Sending,
    Review,
    Results,
    Rollback,
    Confirm,
    Progress,
    Ops,
    Audit,
    Alerts,
}

impl KeyContext {
    pub const ALL: [KeyContext; 23] = [
        KeyContext::Global,
        KeyContext::Fleet,
        KeyContext::Grid,
        KeyContext::Circuit,
        KeyContext::Diff,
        KeyContext::Approvals,
        KeyContext::Env,
        KeyContext::Decide,
        KeyContext::AlertNote,
        KeyContext::Jobs,
        KeyContext::JobRetry,
        KeyContext::Sending,
        KeyContext::Review,
        KeyContext::Results,
        KeyContext::Rollback,
        KeyContext::Confirm,
        KeyContext::Progress,
        KeyContext::Ops,
        KeyContext::Audit,
        KeyContext::Alerts,
        KeyContext::Help,
        KeyContext::Picker,
        KeyContext::Input,
    ];

    /// Contexts where printable keys type text (a key bound here still wins).
    pub fn types_text(self) -> bool {
        matches!(
            self,
            KeyContext::Input
                | KeyContext::Decide
                | KeyContext::AlertNote
                | KeyContext::JobRetry
                | KeyContext::Review
                | KeyContext::Confirm
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::Fleet => "fleet",
            KeyContext::Grid => "grid",
            KeyContext::Circuit => "circuit",
            KeyContext::Diff => "diff",
            KeyContext::Approvals => "approvals",
            KeyContext::Env => "env",
            KeyContext::Help => "help",
            KeyContext::Picker => "picker",
            KeyContext::Input => "input",
            KeyContext::Decide => "decide",
            KeyContext::AlertNote => "alert-note",
            KeyContext::Jobs => "jobs",
            KeyContext::JobRetry => "job-retry",
            KeyContext::Sending => "sending",
            KeyContext::Review => "review",
            KeyContext::Results => "results",
            KeyContext::Rollback => "rollback",
            KeyContext::Confirm => "confirm",
            KeyContext::Progress => "progress",
            KeyContext::Ops => "ops",
            KeyContext::Audit => "audit",
            KeyContext::Alerts => "alerts",
        }
    }

    /// The heading of this context on the help screen.
    pub fn title(self) -> &'static str {
        match self {
            KeyContext::Global => "Everywhere",
            KeyContext::Fleet => "Fleet",
            KeyContext::Grid => "Fleet health grid",
            KeyContext::Circuit => "Circuit",
            KeyContext::Diff => "Circuit: config diff",
            KeyContext::Approvals => "Approvals",
            KeyContext::Env => "Environment release",
            KeyContext::Help => "Help",
            KeyContext::Picker => "Version picker",
            KeyContext::Input => "Filter and command line",
            KeyContext::Decide => "Comment box (approve / reject)",
            KeyContext::AlertNote => "Alert comment box (acknowledge / close / reopen)",
            KeyContext::Jobs => "Circuit: scoring jobs",
            KeyContext::JobRetry => "Retry a scoring job: confirmation",
            KeyContext::Sending => "A box whose change is on its way",
            KeyContext::Review => "Bulk review table",
            KeyContext::Results => "Bulk results",
            KeyContext::Rollback => "Rollback: target and plan",
            KeyContext::Confirm => "Rollback: typed confirmation",
            KeyContext::Progress => "Operation progress",
            KeyContext::Ops => "Operations",
            KeyContext::Audit => "Audit log",
            KeyContext::Alerts => "Fired alerts",
        }
    }

    fn parse(s: &str) -> Option<KeyContext> {
        KeyContext::ALL.into_iter().find(|c| c.name() == s)
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
    contexts: HashMap<KeyContext, Vec<Binding>>,
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
            let Some(ctx) = KeyContext::parse(&ctx_name) else {
                warnings.push(format!(
                    "{origin}: unknown context [{ctx_name}] (one of: {})",
                    KeyContext::ALL.map(KeyContext::name).join(", ")
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
    pub fn resolve(&self, stack: &[KeyContext], key: KeyChord) -> Option<Action> {
        stack.iter().find_map(|ctx| {
            self.contexts
                .get(ctx)?
                .iter()
                .find(|b| b.keys.contains(&key))
                .map(|b| b.action)
        })
    }

    /// Bindings of one context, as listed in help (unbound `noop`s left out).
    pub fn bindings(&self, ctx: KeyContext) -> impl Iterator<Item = &Binding> {
        self.contexts
            .get(&ctx)
            .into_iter()
            .flatten()
            .filter(|b| b.action != Action::Noop)
    }

    /// The first key bound to `action` in `stack`, for messages such as "press ? for help".
    pub fn key_for(&self, stack: &[KeyContext], action: Action) -> Option<KeyChord> {
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
    pub fn hints(&self, stack: &[KeyContext]) -> Vec<(String, String)> {
        self.hint_entries(stack)
            .into_iter()
            .map(|(_, k, h)| (k, h))
            .collect()
    }

    /// [`Keymap::hints`] with the action of each, so a view can leave out what does not
    /// apply right now.
    pub fn hint_entries(&self, stack: &[KeyContext]) -> Vec<(Action, String, String)> {
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
        let fleet = [KeyContext::Fleet, KeyContext::Global];
        assert_eq!(m.resolve(&fleet, key("j")), Some(Action::Down));
        assert_eq!(m.resolve(&fleet, key("<Down>")), Some(Action::Down));
        assert_eq!(m.resolve(&fleet, key("g")), Some(Action::ToggleGrid));
        assert_eq!(m.resolve(&fleet, key("<Tab>")), Some(Action::FocusNext));
        let circuit = [KeyContext::Circuit, KeyContext::Global];
        assert_eq!(m.resolve(&circuit, key("<Tab>")), Some(Action::NextTab));
        assert_eq!(m.resolve(&circuit, key("<S-Tab>")), Some(Action::PrevTab));
        assert_eq!(m.resolve(&circuit, key("g")), None);
        assert_eq!(m.resolve(&[KeyContext::Input], key("j")), None);
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
        let fleet = [KeyContext::Fleet, KeyContext::Global];
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
            m.bindings(KeyContext::Fleet)
                .all(|b| b.action != Action::SortNext)
        );
        assert!(!m.hints(&fleet).iter().any(|(_, h)| h == "sort"));
    }

    #[test]
    fn broken_user_file_keeps_defaults() {
        let (m, warnings) = Keymap::with_user("[fleet\nkeymap = ", "keymap.toml");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("not valid TOML"), "{warnings:?}");
        assert_eq!(
            m.resolve(&[KeyContext::Global], key("q")),
            Some(Action::Quit)
        );
    }

    #[test]
    fn hints_follow_remapped_keys() {
        let (m, _) = Keymap::with_user(
            "[global]\nkeymap = [{ on = \"F\", run = \"filter\", hint = \"find\" }]\n",
            "u",
        );
        let hints = m.hints(&[KeyContext::Fleet, KeyContext::Global]);
        assert!(hints.contains(&("F".into(), "find".into())), "{hints:?}");
        assert!(hints.contains(&("Enter".into(), "open".into())));
        assert_eq!(
            m.key_for(&[KeyContext::Global], Action::Help)
                .map(|k| k.to_string()),
            Some("?".into())
        );
    }
}
