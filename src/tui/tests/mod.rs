//! Tests of the console: `update` (state and effects), snapshots of every view at 80x24 and
//! 160x48 with a fixed clock, and helpers shared with the journey test.

mod snapshots;
mod updates;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Effect, Msg};
use super::app::{App, AppConfig};
use super::keymap::KeyChord;
use super::{fixture, update};
use crate::domain::Thresholds;

/// A console over the demo fixture at `size`, with its first refresh answered from the
/// fixture (so it shows live data, not cache).
pub fn app_at(size: (u16, u16)) -> App {
    app_with(fixture::fleet(fixture::DEMO_CIRCUITS), size)
}

pub fn app_with(snapshot: crate::domain::fleet::FleetSnapshot, size: (u16, u16)) -> App {
    let cfg = AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "simulator (demo fleet)".into(),
    );
    let (mut app, effects) = App::new(cfg, None, fixture::now(), size);
    answer(&mut app, effects, &snapshot);
    app
}

/// Answer effects the way the runtime would, from fixtures.
pub fn answer(
    app: &mut App,
    effects: Vec<Effect>,
    snapshot: &crate::domain::fleet::FleetSnapshot,
) {
    let mut queue = effects;
    while let Some(e) = queue.pop() {
        let msg = match e {
            Effect::Refresh { generation } => Msg::Snapshot {
                generation,
                result: Ok(Box::new(snapshot.clone())),
            },
            Effect::LoadEvidence {
                generation,
                circuit,
                snapshot,
            } => Msg::Evidence {
                generation,
                result: Ok(Box::new(fixture::circuit_evidence(&snapshot, &circuit))),
                circuit,
            },
            Effect::LoadApprovalEvidence {
                generation,
                key,
                item,
                snapshot,
            } => Msg::ApprovalEvidence {
                generation,
                key,
                result: Ok(Box::new(fixture::approval_evidence(&snapshot, &item))),
            },
            Effect::Compare {
                generation,
                circuit,
                versions,
                old,
                new,
            } => Msg::Comparison {
                generation,
                result: Ok(Box::new(fixture::comparison(
                    snapshot, &circuit, &versions, old, new,
                ))),
                circuit,
            },
            Effect::Quit => continue,
        };
        queue.extend(update(app, msg));
    }
}

/// Press keys written as in the keymap (`j`, `<Enter>`, `<S-Tab>`); returns the effects.
pub fn press(app: &mut App, keys: &[&str]) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in keys {
        let chord = KeyChord::parse(k).unwrap_or_else(|e| panic!("{e}"));
        let mods = if matches!(chord.code, KeyCode::Char(c) if c.is_ascii_uppercase()) {
            chord.mods | KeyModifiers::SHIFT
        } else {
            chord.mods
        };
        let ev = KeyEvent::new(chord.code, mods);
        if let Some(a) = app.key_action(&ev) {
            out.extend(update(app, Msg::Action(a)));
        }
    }
    out
}

/// Type text on the input line.
pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let keys: Vec<String> = text
        .chars()
        .map(|c| if c == ' ' { "<Space>".into() } else { c.to_string() })
        .collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    press(app, &refs)
}

/// Press keys and answer the effects from the fixture.
pub fn drive(app: &mut App, keys: &[&str]) {
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let effects = press(app, keys);
    answer(app, effects, &snap);
}
