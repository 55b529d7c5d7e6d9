//! The console on fixture data in a real terminal, without Azure or the simulator: for trying
//! keys, themes and sizes by hand, and for driving the terminal loop from tmux.
//!
//! `cargo run --example console_fixture -- [CIRCUITS] [THEME]` (default 130 circuits, dark).

use std::time::Duration;

use relcon::domain::Thresholds;
use relcon::tui::theme::Theme;
use relcon::tui::{AppConfig, fixture, run_with};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(fixture::DEMO_CIRCUITS);
    let mut cfg = AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "fixture fleet (no backend)".into(),
    );
    if let Some(name) = args.next() {
        let (theme, warnings) = Theme::load(&name, None);
        cfg.theme = theme;
        cfg.warnings = warnings;
    }
    if relcon::tui::theme::no_color_requested() {
        cfg.theme = Theme::monochrome();
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // A quarter second per answer: enough to see loading states and stale marks.
    let runtime = fixture::FixtureRuntime::new(fixture::fleet(n), tx, Duration::from_millis(250));
    run_with(cfg, None, runtime, rx, false, relcon::tui::tick_from_env()).await
}
