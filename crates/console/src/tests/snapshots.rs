//! Every view at 80x24 and 160x48 with a fixed clock, as text. Review these like code: each
//! must read well to an approver or an on-call engineer.

use super::*;
use crate::action::Msg;
use crate::app::Origin;
use crate::view::render_text;

/// Open a circuit through the palette, as a user would.
fn open(app: &mut App, circuit: &str) {
    drive(app, &[":"]);
    type_text(app, &format!("circuit {circuit}"));
    drive(app, &["<Enter>"]);
}

/// Every scene worth looking at, built by pressing keys on the fixture.
pub fn scenes(size: (u16, u16)) -> Vec<(&'static str, App)> {
    let mut out = Vec::new();
    let base = || app_at(size);

    out.push(("fleet", base()));
    let mut a = base();
    drive(&mut a, &["!"]);
    out.push(("fleet_incidents", a));
    // Opened because of a page (as the console is): incident order on the paged circuit.
    let mut cfg = crate::app::AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "simulator (demo fleet)".into(),
    );
    cfg.incident_order_when_paged = true;
    let (mut a, effects) = App::new(cfg, None, fixture::now(), size);
    answer(&mut a, effects, &fixture::fleet(fixture::DEMO_CIRCUITS));
    out.push(("fleet_paged", a));
    let mut a = base();
    drive(&mut a, &["<Tab>", "j", "j", "<Enter>"]);
    out.push(("fleet_plant", a));
    let mut a = base();
    drive(&mut a, &["g", "j", "l"]);
    out.push(("grid", a));
    let mut a = base();
    drive(&mut a, &["/"]);
    type_text(&mut a, "status:alert cool");
    out.push(("filter_active", a));
    let mut a = base();
    drive(&mut a, &["/"]);
    type_text(&mut a, "zzqx");
    drive(&mut a, &["<Enter>"]);
    out.push(("filter_no_match", a));

    let mut a = base();
    open(&mut a, "PLANT001/CIRCUIT01");
    out.push(("circuit_overview", a));
    let mut a = base();
    open(&mut a, "PLANT004/CIRCUIT03");
    out.push(("circuit_lineage_break", a));
    let mut a = base();
    open(&mut a, "PLANT002/CIRCUIT02");
    out.push(("circuit_rollback", a));
    let mut a = base();
    open(&mut a, "PLANT001/CIRCUIT01");
    drive(&mut a, &["<Tab>"]);
    out.push(("circuit_diff", a));
    let mut a = base();
    open(&mut a, "PLANT001/CIRCUIT01");
    drive(&mut a, &["<Tab>", "v"]);
    out.push(("circuit_diff_side_by_side", a));
    let mut a = base();
    open(&mut a, "PLANT001/CIRCUIT01");
    drive(&mut a, &["<Tab>", "c", "j", "j", "<Enter>"]);
    out.push(("circuit_picker", a));
    let mut a = base();
    open(&mut a, "PLANT002/CIRCUIT02");
    drive(&mut a, &["<Tab>", "<Tab>"]);
    out.push(("circuit_drift", a));
    let mut a = base();
    open(&mut a, "PLANT002/CIRCUIT04");
    drive(&mut a, &["<Tab>", "<Tab>", "j", "j", "j", "j"]);
    out.push(("circuit_drift_psi", a));
    let mut a = base();
    open(&mut a, "PLANT001/CIRCUIT01");
    drive(&mut a, &["<S-Tab>", "<S-Tab>", "<S-Tab>"]);
    out.push(("circuit_tests", a));
    let mut a = base();
    open(&mut a, "PLANT002/CIRCUIT02");
    drive(&mut a, &["<S-Tab>", "<S-Tab>"]);
    out.push(("circuit_history", a));
    // The failed nightly job: the Jobs tab with the error text, read when the tab shows.
    let mut a = base();
    open(
        &mut a,
        &fixture::incidents::failing_job_circuit().to_string(),
    );
    drive(&mut a, &["<S-Tab>"]);
    out.push(("circuit_jobs", a));
    // A schedule that stopped: no run in 26 hours.
    let mut a = base();
    open(&mut a, &fixture::incidents::stale_job_circuit().to_string());
    out.push(("circuit_stale_jobs", a));
    // The fired alerts, the paged circuit first.
    let mut a = base();
    drive(&mut a, &["W"]);
    out.push(("alerts", a));

    let mut a = base();
    drive(&mut a, &["A"]);
    out.push(("approvals", a));
    let mut a = base();
    drive(&mut a, &["A", "j"]);
    out.push(("approvals_self_requested", a));
    let mut a = base();
    drive(&mut a, &["A", "j", "j"]);
    out.push(("approvals_env_only", a));
    let mut a = base();
    drive(&mut a, &["A", "G"]);
    out.push(("approvals_wave", a));
    let mut a = base();
    drive(&mut a, &["E"]);
    out.push(("env_release", a));
    let mut a = base();
    drive(&mut a, &["?"]);
    out.push(("help", a));
    let mut a = base();
    drive(&mut a, &[":"]);
    type_text(&mut a, "circuit plant00");
    drive(&mut a, &["<Down>", "<Down>"]);
    out.push(("palette", a));

    // Before any data: the first refresh running, then failed.
    let cfg = crate::app::AppConfig::new(
        fixture::policy(),
        Thresholds::default(),
        "simulator (demo fleet)".into(),
    );
    let (a, _) = App::new(cfg.clone(), None, fixture::now(), size);
    out.push(("empty_loading", a));
    let (mut a, effects) = App::new(cfg.clone(), None, fixture::now(), size);
    if let Some(Effect::Refresh { generation }) = effects.first() {
        update(
            &mut a,
            Msg::Snapshot {
                generation: *generation,
                result: Err("GET https://management.azure.com/...: HTTP 401: \
                             AADSTS700082: the refresh token has expired"
                    .into()),
            },
        );
    }
    out.push(("empty_error", a));
    // A cached snapshot, read-only, while the refresh fails.
    let mut ro = cfg;
    ro.policy.read_only = true;
    let now = fixture::now() + chrono::Duration::minutes(4);
    let (mut a, effects) = App::new(ro, Some(fixture::fleet(fixture::DEMO_CIRCUITS)), now, size);
    assert_eq!(a.data.origin, Origin::Cache);
    if let Some(Effect::Refresh { generation }) = effects.first() {
        update(
            &mut a,
            Msg::Snapshot {
                generation: *generation,
                result: Err("connection refused (127.0.0.1:4711)".into()),
            },
        );
    }
    out.push(("stale_read_only", a));
    out
}

#[test]
fn every_view_at_80x24_and_160x48() {
    for size in [(80, 24), (160, 48)] {
        for (name, app) in scenes(size) {
            let text = render_text(&app, size.0, size.1);
            insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), text);
        }
    }
}

/// Write every scene to `$RELCON_LOOK_DIR` to read them as a user would.
#[test]
fn look() {
    let Some(dir) = std::env::var_os("RELCON_LOOK_DIR") else {
        return;
    };
    for size in [(80, 24), (160, 48)] {
        for (name, app) in scenes(size) {
            let text = render_text(&app, size.0, size.1);
            let path = std::path::Path::new(&dir).join(format!("{name}_{}x{}.txt", size.0, size.1));
            std::fs::write(path, text).unwrap();
        }
    }
}

/// Colour is half of what the text snapshots cannot show: in every theme the Prod column and
/// Prod versions wear the Prod roles, and an unknown circuit is never drawn like a healthy one.
#[test]
fn prod_is_unmistakable_and_unknown_never_green_in_every_theme() {
    use crate::theme::Theme;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut themes: Vec<Theme> = Theme::builtin_names()
        .into_iter()
        .map(|n| Theme::load(n, None).0)
        .collect();
    themes.push(Theme::monochrome());
    for theme in themes {
        let mut app = app_at((160, 48));
        app.theme = theme.clone();
        let Ok(mut term) = Terminal::new(TestBackend::new(160, 48));
        term.draw(|f| crate::view(&app, f)).unwrap();
        let buf = term.backend().buffer();
        let line = |y: u16| -> String { (0..160).map(|x| buf[(x, y)].symbol()).collect() };
        let find = |y: u16, text: &str| -> u16 {
            let l = line(y);
            let byte = l
                .find(text)
                .unwrap_or_else(|| panic!("{text} not on line {y}: {l}"));
            l[..byte].chars().count() as u16
        };
        // The header row of the table: the PROD column in the `prod` role.
        let x = find(2, "PROD");
        let cell = &buf[(x, 2)];
        assert_eq!(
            (
                cell.fg,
                cell.bg,
                cell.modifier.contains(ratatui::style::Modifier::BOLD)
            ),
            (
                theme.prod.fg.unwrap_or_default(),
                theme.prod.bg.unwrap_or_default(),
                true
            ),
            "{}: PROD header",
            theme.name
        );
        // A Prod version under it, in the `stage.prod` role (first data row).
        let v = &buf[(x, 3)];
        assert_eq!(
            v.fg,
            theme.stage_prod.fg.unwrap_or_default(),
            "{}",
            theme.name
        );
        // The unknown circuits' health symbol.
        drive(&mut app, &["/"]);
        type_text(&mut app, "status:unknown");
        drive(&mut app, &["<Enter>"]);
        term.draw(|f| crate::view(&app, f)).unwrap();
        let buf = term.backend().buffer();
        let line = |y: u16| -> String { (0..160).map(|x| buf[(x, y)].symbol()).collect() };
        let find = |y: u16, text: &str| -> u16 {
            let l = line(y);
            let byte = l
                .find(text)
                .unwrap_or_else(|| panic!("{text} not on line {y}: {l}"));
            l[..byte].chars().count() as u16
        };
        let y = (3..48)
            .find(|y| line(*y).contains("PLANT014/CIRCUIT01"))
            .unwrap_or_else(|| panic!("{}: unknown circuit not on screen", theme.name));
        let x = find(y, "? PLANT014/CIRCUIT01");
        let sym = &buf[(x, y)];
        assert_eq!(sym.symbol(), "?");
        let ok = &theme.ok;
        assert!(
            sym.fg != ok.fg.unwrap_or_default() || sym.modifier != ok.add_modifier,
            "{}: unknown drawn like ok",
            theme.name
        );
    }
}
