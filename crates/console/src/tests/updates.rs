//! `update` in isolation: an action in, state and effects out. No terminal, no IO.

use super::*;
use crate::action::Msg;
use crate::app::{Mode, NoteLevel, Origin, Pane, Route, Tab};
use crate::domain::{CircuitRef, Status};
use crate::keymap::Keymap;
use crate::view::render_text;

const BIG: (u16, u16) = (160, 48);

fn selected(app: &App) -> Option<String> {
    app.fleet.selected.as_ref().map(ToString::to_string)
}

fn visible_health(app: &App) -> Vec<Status> {
    app.fleet
        .visible
        .iter()
        .map(|r| app.data.index.rows[*r as usize].health)
        .collect()
}

fn refresh_gen(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Refresh { generation } => Some(*generation),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no refresh in {effects:?}"))
}

fn evidence_gen(effects: &[Effect]) -> (u64, CircuitRef) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadEvidence {
                generation,
                circuit,
                ..
            } => Some((*generation, circuit.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no evidence load in {effects:?}"))
}

#[test]
fn first_frame_comes_from_the_cache_and_a_refresh_is_asked_for() {
    let cfg = AppConfig::new(fixture::policy(), Thresholds::default(), "sim".into());
    let (app, effects) = App::new(cfg, Some(fixture::fleet(40)), fixture::now(), BIG);
    assert_eq!(app.data.origin, Origin::Cache);
    assert_eq!(app.fleet.visible.len(), 40);
    refresh_gen(&effects);
    assert!(
        render_text(&app, 80, 24).contains("STALE"),
        "cached data is marked"
    );
}

#[test]
fn j_k_move_and_tab_switches_to_the_plants() {
    let mut app = app_at(BIG);
    assert_eq!(selected(&app).as_deref(), Some("PLANT001/CIRCUIT01"));
    press(&mut app, &["j", "j", "k"]);
    assert_eq!(selected(&app).as_deref(), Some("PLANT001/CIRCUIT02"));
    press(&mut app, &["G"]);
    assert_eq!(app.fleet.table.selected, fixture::DEMO_CIRCUITS - 1);
    assert!(app.fleet.table.offset > 0, "the last row is on screen");
    press(&mut app, &["<Home>"]);
    assert_eq!(app.fleet.table, Default::default());
    // Plants: Tab, then j selects PLANT001 and scopes the table to it.
    press(&mut app, &["<Tab>"]);
    assert_eq!(app.fleet.focus, Pane::Left);
    press(&mut app, &["j", "j"]);
    assert_eq!(app.fleet.plant_scope(), Some(1));
    assert!(app.fleet.visible.len() < 12);
    let snap = app.data.snapshot.clone().unwrap();
    assert!(app.fleet.visible.iter().all(|r| {
        let row = &app.data.index.rows[*r as usize];
        snap.plants[row.plant as usize].plant_id.as_str() == "PLANT002"
    }));
    press(&mut app, &["<Enter>"]);
    assert_eq!(
        app.fleet.focus,
        Pane::Right,
        "Enter on a plant goes to its circuits"
    );
    // Esc steps back out of the plant scope; `a` does it directly.
    press(&mut app, &["<Esc>"]);
    assert_eq!(app.fleet.plant_scope(), None);
    assert_eq!(app.fleet.visible.len(), fixture::DEMO_CIRCUITS);
}

#[test]
fn enter_opens_a_circuit_and_loads_its_evidence_and_esc_goes_back() {
    let mut app = app_at(BIG);
    press(&mut app, &["j"]);
    let effects = press(&mut app, &["<Enter>"]);
    let (generation, circuit) = evidence_gen(&effects);
    assert_eq!(circuit.to_string(), "PLANT001/CIRCUIT02");
    let view = app.circuit_view().unwrap();
    assert!(view.evidence.loading && view.evidence.value.is_none());
    assert!(app.busy().contains(&"loading evidence"));
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    update(
        &mut app,
        Msg::Evidence {
            generation,
            result: Ok(Box::new(fixture::circuit_evidence(&snap, &circuit))),
            circuit,
        },
    );
    assert!(app.circuit_view().unwrap().evidence.value.is_some());
    press(&mut app, &["<Tab>", "<Tab>"]);
    assert_eq!(app.circuit_view().unwrap().tab, Tab::Drift);
    press(&mut app, &["<S-Tab>"]);
    assert_eq!(app.circuit_view().unwrap().tab, Tab::Diff);
    press(&mut app, &["<Esc>"]);
    assert!(matches!(app.route(), Route::Fleet));
    assert_eq!(
        selected(&app).as_deref(),
        Some("PLANT001/CIRCUIT02"),
        "selection kept"
    );
}

#[test]
fn a_stale_evidence_result_is_dropped() {
    let mut app = app_at(BIG);
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    let (old_gen, old) = evidence_gen(&press(&mut app, &["<Enter>"]));
    press(&mut app, &["<Esc>", "j"]);
    let (new_gen, new) = evidence_gen(&press(&mut app, &["<Enter>"]));
    assert!(new_gen > old_gen);
    // The first circuit's evidence arrives late: it must not land on the second.
    update(
        &mut app,
        Msg::Evidence {
            generation: old_gen,
            result: Ok(Box::new(fixture::circuit_evidence(&snap, &old))),
            circuit: old,
        },
    );
    let view = app.circuit_view().unwrap();
    assert!(view.evidence.value.is_none() && view.evidence.loading);
    update(
        &mut app,
        Msg::Evidence {
            generation: new_gen,
            result: Ok(Box::new(fixture::circuit_evidence(&snap, &new))),
            circuit: new.clone(),
        },
    );
    let view = app.circuit_view().unwrap();
    assert_eq!(view.evidence.value.as_ref().map(|e| &e.circuit), Some(&new));
}

#[test]
fn r_refreshes_and_the_newest_refresh_wins() {
    let mut app = app_at(BIG);
    let first = refresh_gen(&press(&mut app, &["r"]));
    let second = refresh_gen(&update(&mut app, Msg::Action(crate::Action::Refresh)));
    assert!(second > first);
    assert!(app.busy().contains(&"refreshing"));
    let mut older = fixture::fleet(fixture::DEMO_CIRCUITS);
    older.plants.truncate(3);
    update(
        &mut app,
        Msg::Snapshot {
            generation: first,
            result: Ok(Box::new(older)),
        },
    );
    assert_eq!(app.data.index.plants.len(), 17, "superseded result dropped");
    let mut newer = fixture::fleet(fixture::DEMO_CIRCUITS);
    newer.plants.truncate(5);
    update(
        &mut app,
        Msg::Snapshot {
            generation: second,
            result: Ok(Box::new(newer)),
        },
    );
    assert_eq!(app.data.index.plants.len(), 5);
    assert!(!app.busy().contains(&"refreshing"));
}

#[test]
fn a_failed_refresh_keeps_the_data_and_says_so() {
    let mut app = app_at(BIG);
    let before = app.data.index.rows.len();
    let g = refresh_gen(&press(&mut app, &["r"]));
    update(
        &mut app,
        Msg::Snapshot {
            generation: g,
            result: Err("connection refused".into()),
        },
    );
    assert_eq!(app.data.index.rows.len(), before);
    assert!(app.data.refresh_failed);
    let frame = render_text(&app, 160, 48);
    assert!(
        frame.contains("STALE") && frame.contains("connection refused"),
        "{frame}"
    );
    // A snapshot where nothing could be read does not replace good data either.
    let g = refresh_gen(&press(&mut app, &["r"]));
    let mut empty = fixture::fleet(10);
    empty.plants.clear();
    empty.errors.push(crate::domain::fleet::SnapshotError {
        scope: "Prod endpoints".into(),
        message: "HTTP 503".into(),
    });
    update(
        &mut app,
        Msg::Snapshot {
            generation: g,
            result: Ok(Box::new(empty)),
        },
    );
    assert_eq!(app.data.index.rows.len(), before);
    assert!(
        app.data
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("Prod endpoints")
    );
}

#[test]
fn filter_by_status_pending_and_words_then_clear() {
    let mut app = app_at(BIG);
    press(&mut app, &["/"]);
    assert!(matches!(app.mode, Mode::Filter));
    type_text(&mut app, "status:alert");
    let health = visible_health(&app);
    assert!(!health.is_empty() && health.iter().all(|h| *h == Status::Alert));
    press(&mut app, &["<Enter>"]);
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(
        app.fleet.filter.text, "status:alert",
        "Enter keeps the filter"
    );
    press(&mut app, &["<Esc>"]);
    assert!(app.fleet.filter.is_empty(), "Esc in the fleet clears it");
    assert_eq!(app.fleet.visible.len(), fixture::DEMO_CIRCUITS);
    press(&mut app, &["/"]);
    type_text(&mut app, "pending");
    let pending = app.fleet.visible.len();
    assert!(pending > 0 && pending < fixture::DEMO_CIRCUITS);
    press(&mut app, &["<C-u>"]);
    type_text(&mut app, "cooling");
    assert_eq!(selected(&app).as_deref(), Some("PLANT001/CIRCUIT01"));
    press(&mut app, &["<Backspace>", "<Backspace>", "<Esc>"]);
    assert!(app.fleet.filter.is_empty(), "Esc on the line cancels");
    // From another view, / comes back to the fleet to filter.
    press(&mut app, &["A", "/"]);
    assert!(matches!(app.route(), Route::Fleet) && matches!(app.mode, Mode::Filter));
}

#[test]
fn sorting_and_incident_order() {
    let mut app = app_at(BIG);
    press(&mut app, &["!"]);
    assert!(app.fleet.order.incidents);
    let health = visible_health(&app);
    assert_eq!(health[0], Status::Alert);
    assert!(
        health
            .windows(2)
            .all(|w| w[0].severity() >= w[1].severity())
    );
    assert_eq!(app.fleet.table.selected, 0, "a new order starts at the top");
    press(&mut app, &["!"]);
    assert!(!app.fleet.order.incidents);
    press(&mut app, &["s", "s"]);
    assert_eq!(app.fleet.order.key, crate::index::SortKey::Health);
    assert_eq!(visible_health(&app)[0], Status::Alert);
    press(&mut app, &["o"]);
    assert_eq!(visible_health(&app)[0], Status::Ok, "reversed");
    press(&mut app, &["S", "S"]);
    assert_eq!(app.fleet.order.key, crate::index::SortKey::Circuit);
}

#[test]
fn palette_opens_circuits_and_rejects_bad_input() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, "circuit PLANT003/CIRCUIT02");
    let effects = press(&mut app, &["<Enter>"]);
    assert_eq!(evidence_gen(&effects).1.to_string(), "PLANT003/CIRCUIT02");
    assert!(matches!(app.route(), Route::Circuit(_)));
    // Lower case works; a second :circuit replaces the open one.
    press(&mut app, &[":"]);
    type_text(&mut app, "circuit plant001/circuit01");
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.routes.len(), 2);
    for (line, says) in [
        ("circuit nope", "not a circuit reference"),
        (
            "circuit PLANT099/CIRCUIT01",
            "no circuit PLANT099/CIRCUIT01",
        ),
        ("plant PLANT099", "no plant PLANT099"),
        ("launch rockets", "unknown command"),
        ("rollback nope", "not a circuit reference"),
    ] {
        press(&mut app, &[":"]);
        type_text(&mut app, line);
        let effects = press(&mut app, &["<Enter>"]);
        assert!(effects.is_empty(), "{line}: {effects:?}");
        let note = app
            .note
            .clone()
            .unwrap_or_else(|| panic!("{line}: no note"));
        assert!(note.text.contains(says), "{line}: {}", note.text);
    }
    // :ops and :audit open their views and read the journal and the log.
    press(&mut app, &[":"]);
    type_text(&mut app, "ops");
    let effects = press(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Ops));
    assert!(
        matches!(effects[..], [Effect::LoadOps { .. }]),
        "{effects:?}"
    );
    press(&mut app, &[":"]);
    type_text(&mut app, "audit");
    let effects = press(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Audit));
    assert!(
        matches!(effects[..], [Effect::LoadAudit { .. }]),
        "{effects:?}"
    );
    press(&mut app, &[":"]);
    type_text(&mut app, "plant plant003");
    press(&mut app, &["<Enter>"]);
    assert!(matches!(app.route(), Route::Fleet));
    assert_eq!(app.fleet.plant_scope(), Some(2));
    press(&mut app, &[":"]);
    type_text(&mut app, "q");
    assert!(matches!(press(&mut app, &["<Enter>"])[..], [Effect::Quit]));
    assert!(app.quit);
}

#[test]
fn palette_completes_commands_and_arguments() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, "circ");
    press(&mut app, &["<Tab>"]);
    let Mode::Palette(p) = &app.mode else {
        panic!("palette closed")
    };
    assert_eq!(p.input, "circuit ");
    assert!(p.candidates.len() > 10, "circuits are offered");
    type_text(&mut app, "plant002/circuit0");
    press(&mut app, &["<Down>", "<Down>"]);
    let effects = press(&mut app, &["<Enter>"]);
    assert_eq!(evidence_gen(&effects).1.to_string(), "PLANT002/CIRCUIT02");
    // Esc cancels without running anything.
    press(&mut app, &[":"]);
    type_text(&mut app, "fleet");
    assert!(press(&mut app, &["<Esc>"]).is_empty());
    assert!(matches!(app.route(), Route::Circuit(_)));
}

#[test]
fn theme_switches_at_run_time_and_bad_names_keep_the_theme() {
    let mut app = app_at(BIG);
    press(&mut app, &[":"]);
    type_text(&mut app, "theme light");
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.theme.name, "light");
    press(&mut app, &[":"]);
    type_text(&mut app, "theme neon");
    press(&mut app, &["<Enter>"]);
    assert_eq!(app.theme.name, "light");
    assert_eq!(app.note.as_ref().map(|n| n.level), Some(NoteLevel::Error));
}

#[test]
fn a_user_keymap_remaps_keys_and_bad_entries_are_visible_warnings() {
    let (keymap, warnings) = Keymap::with_user(
        "[fleet]\nkeymap = [\n  { on = \"x\", run = \"toggle-grid\", desc = \"Grid\", hint = \"grid\" },\n  { on = \"g\", run = \"noop\" },\n  { on = \"y\", run = \"explode\" },\n]\n",
        "keymap.toml",
    );
    let mut cfg = AppConfig::new(fixture::policy(), Thresholds::default(), "sim".into());
    cfg.keymap = keymap;
    cfg.warnings = warnings;
    let (mut app, effects) = App::new(cfg, None, fixture::now(), BIG);
    answer(&mut app, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    assert_eq!(app.warnings.len(), 1);
    let frame = render_text(&app, 160, 48);
    assert!(frame.contains("1 warning"), "{frame}");
    press(&mut app, &["g"]);
    assert!(!app.fleet.grid, "g unbound");
    press(&mut app, &["x"]);
    assert!(app.fleet.grid);
    assert!(render_text(&app, 160, 48).contains("x grid") || app.fleet.grid);
    press(&mut app, &["x", "?"]);
    let help = render_text(&app, 160, 48);
    assert!(help.contains("  x ") && help.contains("Grid"), "{help}");
    press(&mut app, &["G"]);
    let bottom = render_text(&app, 160, 48);
    assert!(
        bottom.contains("explode") && bottom.contains("keymap.toml"),
        "{bottom}"
    );
}

#[test]
fn resize_keeps_the_selection_visible() {
    let mut app = app_at(BIG);
    press(&mut app, &["<PageDown>", "<PageDown>"]);
    let sel = app.fleet.table.selected;
    assert!(sel > 40);
    update(&mut app, Msg::Resize(80, 24));
    let page = crate::update::fleet::table_page(&app);
    let c = app.fleet.table;
    assert_eq!(c.selected, sel);
    assert!(
        c.offset <= sel && sel < c.offset + page,
        "{c:?} page {page}"
    );
    assert!(render_text(&app, 80, 24).contains(&selected(&app).unwrap()));
}

#[test]
fn ticks_refresh_when_due_and_never_twice() {
    let mut app = app_at(BIG);
    let later = fixture::now() + chrono::Duration::seconds(30);
    assert!(update(&mut app, Msg::Tick(later)).is_empty());
    let due = fixture::now() + chrono::Duration::seconds(61);
    let effects = update(&mut app, Msg::Tick(due));
    refresh_gen(&effects);
    assert!(update(&mut app, Msg::Tick(due + chrono::Duration::seconds(120))).is_empty());
}

#[test]
fn approvals_skip_headings_and_load_evidence_once() {
    let mut app = app_at(BIG);
    let effects = press(&mut app, &["A"]);
    assert!(matches!(app.route(), Route::Approvals));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadApprovalEvidence { .. }))
    );
    answer(&mut app, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    let first = app.approvals.selected().map(|r| r.key);
    drive(&mut app, &["j"]);
    let second = app.approvals.selected().map(|r| r.key);
    assert_ne!(first, second);
    assert!(matches!(
        app.approvals.lines[app.approvals.cursor.selected],
        crate::app::ApprovalLine::Item(_)
    ));
    // Both are loaded now: going back and forth loads nothing again.
    assert_eq!(
        app.approvals
            .evidence
            .values()
            .filter(|r| r.value.is_some())
            .count(),
        2
    );
    let again = press(&mut app, &["j", "k"]);
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, Effect::LoadApprovalEvidence { key, .. } if Some(*key) == first)),
        "{again:?}"
    );
}

#[test]
fn env_matrix_lists_failures_first_and_opens_circuits() {
    let mut app = app_at(BIG);
    press(&mut app, &["E"]);
    assert!(matches!(app.route(), Route::Env));
    let rows = &app.env.rows;
    assert!(rows.len() > 100);
    assert_ne!(rows[0].status, Status::Ok);
    let first = rows[0].circuit.clone();
    let effects = press(&mut app, &["<Enter>"]);
    assert_eq!(evidence_gen(&effects).1, first);
    press(&mut app, &["q"]);
    assert!(
        matches!(app.route(), Route::Env),
        "q goes back from a sub view"
    );
}

#[test]
fn the_version_picker_asks_for_a_comparison() {
    let mut app = app_at(BIG);
    drive(&mut app, &["<Enter>"]);
    press(&mut app, &["<Tab>", "c"]);
    assert!(app.circuit_view().unwrap().picker.is_some());
    // Picking the same version twice is refused with a note.
    press(&mut app, &["<Enter>"]);
    assert!(press(&mut app, &["<Enter>"]).is_empty());
    assert!(app.note.is_some());
    press(&mut app, &["j", "j"]);
    let effects = press(&mut app, &["<Enter>"]);
    let Some(Effect::Compare { old, new, .. }) = effects.first() else {
        panic!("{effects:?}")
    };
    assert!(old < new, "older on the left");
    let view = app.circuit_view().unwrap();
    assert!(view.picker.is_none() && view.chosen.as_ref().is_some_and(|c| c.loading));
    press(&mut app, &["p"]);
    assert!(app.circuit_view().unwrap().chosen.is_none());
    press(&mut app, &["c", "<Esc>"]);
    assert!(app.circuit_view().unwrap().picker.is_none());
    assert!(
        matches!(app.route(), Route::Circuit(_)),
        "Esc closes only the picker"
    );
}

#[test]
fn grid_moves_by_cell_and_opens_the_circuit_under_the_cursor() {
    let mut app = app_at(BIG);
    press(&mut app, &["g", "j", "l", "l"]);
    assert!(app.fleet.grid);
    let effects = press(&mut app, &["<Enter>"]);
    assert_eq!(evidence_gen(&effects).1.to_string(), "PLANT002/CIRCUIT03");
    press(&mut app, &["<Esc>", "g"]);
    assert!(!app.fleet.grid);
    assert_eq!(selected(&app).as_deref(), Some("PLANT002/CIRCUIT03"));
}

#[test]
fn q_quits_from_the_top_and_goes_back_elsewhere() {
    let mut app = app_at(BIG);
    press(&mut app, &["?"]);
    assert!(press(&mut app, &["q"]).is_empty());
    assert!(matches!(app.route(), Route::Fleet));
    assert!(matches!(press(&mut app, &["q"])[..], [Effect::Quit]));
    let mut app = app_at(BIG);
    drive(&mut app, &["<Enter>"]);
    assert!(matches!(press(&mut app, &["<C-c>"])[..], [Effect::Quit]));
}

#[test]
fn a_decided_approval_gives_its_place_to_the_next_one() {
    let mut app = app_at(BIG);
    let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
    drive(&mut app, &["A", "j", "j"]);
    let rows_before: Vec<_> = app.approvals.rows.iter().map(|r| r.key).collect();
    let Some(decided) = app.approvals.selected().map(|r| r.key) else {
        panic!("nothing selected");
    };
    let at = rows_before.iter().position(|k| *k == decided).unwrap();
    assert!(at > 0 && at + 1 < rows_before.len(), "a middle item: {at}");
    // The next refresh no longer lists it.
    let mut after = snap.clone();
    after
        .approvals
        .retain(|i| crate::action::ApprovalKey::of(i) != decided);
    let effects = press(&mut app, &["r"]);
    answer(&mut app, effects, &after);
    assert_eq!(
        app.approvals.selected().map(|r| r.key),
        Some(rows_before[at + 1]),
        "the item after the decided one, not the top of the list"
    );
}
