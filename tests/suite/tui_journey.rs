//! A journey through the real console, as gitui's `gitui_starts`: the real `App`, `update` and
//! `view` on a test backend, keys injected as a user types them, background results injected as
//! the runtime would deliver them (late, and only when asked for). Each step is a snapshot.
//!
//! Path: start with no data -> the fleet arrives -> filter to the cooling circuits -> open one
//! (evidence still loading) -> evidence arrives -> config diff -> side by side -> drift -> back.

use relcon::domain::Thresholds;
use relcon::tui::app::{Route, Tab};
use relcon::tui::view::render_text;
use relcon::tui::{App, AppConfig, Effect, fixture};

const W: u16 = 100;
const H: u16 = 30;

fn frame(app: &App) -> String {
    render_text(app, W, H)
}

#[test]
fn fleet_to_a_circuits_config_diff_and_drift() {
    let snapshot = fixture::fleet(fixture::DEMO_CIRCUITS);
    let cfg = AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "simulator (demo fleet)".into(),
    );
    let (mut app, first) = App::new(cfg, None, fixture::now(), (W, H));

    // No cache: the first frame says what is happening instead of waiting.
    let f = frame(&app);
    assert!(f.contains("Reading the fleet"), "{f}");
    // A refresh, and the journal read (unfinished operations resumed) in the background.
    assert!(
        matches!(
            first[..],
            [
                Effect::Refresh { .. },
                Effect::LoadOps { .. },
                Effect::ResumeOps
            ]
        ),
        "{first:?}"
    );
    insta::assert_snapshot!("journey_01_starting", f);

    fixture::answer(&mut app, first, &snapshot);
    let f = frame(&app);
    assert!(f.contains("All plants · 130 circuits"), "{f}");
    insta::assert_snapshot!("journey_02_fleet", f);

    // Filter as one types: every keystroke narrows the table.
    assert!(fixture::press(&mut app, &["/"]).is_empty());
    fixture::type_text(&mut app, "cooling");
    let f = frame(&app);
    assert!(
        f.contains("/cooling") && f.contains("PLANT001/CIRCUIT01"),
        "{f}"
    );
    insta::assert_snapshot!("journey_03_filter", f);

    // Keep the filter, open the best match. Its evidence is requested, not yet here.
    fixture::press(&mut app, &["<Enter>"]);
    let effects = fixture::press(&mut app, &["<Enter>"]);
    assert!(
        matches!(&effects[..], [Effect::LoadEvidence { circuit, .. }] if circuit.to_string() == "PLANT001/CIRCUIT01"),
        "{effects:?}"
    );
    let f = frame(&app);
    assert!(f.contains("loading evidence"), "{f}");
    insta::assert_snapshot!("journey_04_circuit_loading", f);

    // The evidence arrives.
    fixture::answer(&mut app, effects, &snapshot);
    let f = frame(&app);
    assert!(
        f.contains("matches the tag") && !f.contains("loading evidence"),
        "{f}"
    );
    insta::assert_snapshot!("journey_05_overview", f);

    fixture::press(&mut app, &["<Tab>"]);
    let f = frame(&app);
    assert!(
        f.contains("retrain required") && f.contains("cutoff_date"),
        "{f}"
    );
    assert!(f.contains("+cutoff_date: '2026-02-01'"), "{f}");
    insta::assert_snapshot!("journey_06_config_diff", f);

    fixture::press(&mut app, &["v"]);
    let f = frame(&app);
    assert!(f.contains("side by side"), "{f}");
    insta::assert_snapshot!("journey_07_side_by_side", f);

    fixture::press(&mut app, &["<Tab>"]);
    assert_eq!(app.circuit_view().map(|v| v.tab), Some(Tab::Drift));
    let f = frame(&app);
    assert!(
        f.contains("jensen_shannon") && f.contains("last 30 days"),
        "{f}"
    );
    insta::assert_snapshot!("journey_08_drift", f);

    // Back: the fleet is as it was left, filter and selection included.
    fixture::press(&mut app, &["<Esc>"]);
    assert!(matches!(app.route(), Route::Fleet));
    assert_eq!(app.fleet.filter.text, "cooling");
    let f = frame(&app);
    assert!(f.contains("/cooling"), "{f}");
    insta::assert_snapshot!("journey_09_back_to_fleet", f);
}
