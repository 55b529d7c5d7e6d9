//! Tests of the console: `update` (state and effects), snapshots of every view at 80x24 and
//! 160x48 with a fixed clock, and helpers shared with the journey test.

mod incident_updates;
mod rollback_updates;
mod snapshots;
mod updates;
mod write_snapshots;
mod write_updates;

use super::action::Effect;
use super::app::{App, AppConfig};
pub use super::fixture::{answer, press, type_text};
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

/// Press keys and answer the effects from the fixture.
pub fn drive(app: &mut App, keys: &[&str]) {
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let effects = press(app, keys);
    answer(app, effects, &snap);
}
