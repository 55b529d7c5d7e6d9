//! The circuit view: tabs, scrolling, drift series selection, the diff layout and the version
//! picker that asks for a comparison of any two versions.

use crate::action::{Action, Effect, Slot};
use crate::app::{App, NoteLevel, Picker, Remote, Tab};
use crate::layout;

use super::Handled;

fn content_rows(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (_, _, content) = layout::circuit(s.body);
    content.height.saturating_sub(2).max(1) as usize
}

pub fn drift_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (_, _, content) = layout::circuit(s.body);
    layout::drift_rows(content, series_count(app)).max(1)
}

fn picker_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::table_rows(layout::picker(s.body)).max(1)
}

pub fn series_count(app: &App) -> usize {
    app.circuit_view()
        .and_then(|v| app.data.circuit(&v.circuit))
        .map(|c| c.drift.series.len())
        .unwrap_or(0)
}

fn version_count(app: &App) -> usize {
    app.circuit_view()
        .and_then(|v| v.evidence.value.as_ref())
        .map(|e| e.versions.len())
        .unwrap_or(0)
}

pub fn on_action(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let page = content_rows(app);
    let dpage = drift_page(app);
    let ppage = picker_page(app);
    let series = series_count(app);
    let versions = version_count(app);
    let Some(view) = app.circuit_view_mut() else {
        return (Handled::No, Vec::new());
    };
    if let Some(old) = view.picker.as_ref().map(|p| p.old) {
        return picker(app, action, versions, ppage, old);
    }
    match action {
        Action::Approve => {
            return (
                Handled::Yes,
                super::decide::from_circuit(app, crate::service::decide::Verdict::Approve),
            );
        }
        Action::Reject => {
            return (
                Handled::Yes,
                super::decide::from_circuit(app, crate::service::decide::Verdict::Reject),
            );
        }
        Action::Rollback => {
            let circuit = view.circuit.clone();
            return (Handled::Yes, super::rollback::open(app, circuit));
        }
        Action::RetryJob => return (Handled::Yes, super::job_retry::open(app)),
        _ => {}
    }
    let Some(view) = app.circuit_view_mut() else {
        return (Handled::No, Vec::new());
    };
    let scroll = |v: &mut crate::app::CircuitView, d: isize| {
        v.scroll = (v.scroll as isize + d).max(0) as usize;
    };
    match action {
        Action::NextTab | Action::Right => {
            view.tab = view.tab.step(true);
            view.scroll = 0;
            return (Handled::Yes, super::alerts::load_jobs_if_shown(app));
        }
        Action::PrevTab | Action::Left => {
            view.tab = view.tab.step(false);
            view.scroll = 0;
            return (Handled::Yes, super::alerts::load_jobs_if_shown(app));
        }
        Action::Down if view.tab == Tab::Drift => view.drift.step(1, series, dpage),
        Action::Up if view.tab == Tab::Drift => view.drift.step(-1, series, dpage),
        Action::Top if view.tab == Tab::Drift => view.drift.to(0, series, dpage),
        Action::Bottom if view.tab == Tab::Drift => view.drift.to(series, series, dpage),
        Action::Down | Action::ScrollDown => scroll(view, 1),
        Action::Up | Action::ScrollUp => scroll(view, -1),
        Action::PageDown => scroll(view, page as isize),
        Action::PageUp => scroll(view, -(page as isize)),
        Action::Top => view.scroll = 0,
        Action::Bottom => view.scroll = usize::MAX / 2,
        Action::ToggleDiffLayout => view.side_by_side = !view.side_by_side,
        Action::ResetCompare => {
            view.chosen = None;
            view.scroll = 0;
        }
        Action::PickVersions => {
            if versions == 0 {
                let loading = view.evidence.loading;
                app.set_note(
                    NoteLevel::Warning,
                    if loading {
                        "versions are still loading; try again in a moment"
                    } else {
                        "no model versions are known for this circuit"
                    },
                );
            } else {
                view.tab = Tab::Diff;
                view.picker = Some(Picker::default());
            }
        }
        Action::Back => return (Handled::No, Vec::new()),
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

fn picker(
    app: &mut App,
    action: Action,
    versions: usize,
    page: usize,
    old: Option<crate::domain::ModelVersion>,
) -> (Handled, Vec<Effect>) {
    let Some(view) = app.circuit_view_mut() else {
        return (Handled::No, Vec::new());
    };
    let Some(p) = view.picker.as_mut() else {
        return (Handled::No, Vec::new());
    };
    match action {
        Action::Down => p.cursor.step(1, versions, page),
        Action::Up => p.cursor.step(-1, versions, page),
        Action::PageDown => p.cursor.step(page as isize, versions, page),
        Action::PageUp => p.cursor.step(-(page as isize), versions, page),
        Action::Top => p.cursor.to(0, versions, page),
        Action::Bottom => p.cursor.to(versions, versions, page),
        Action::Back | Action::Quit => view.picker = None,
        Action::Accept | Action::Open => {
            let chosen = view
                .evidence
                .value
                .as_ref()
                .and_then(|e| e.versions.get(p.cursor.selected))
                .map(|v| v.version);
            let Some(v) = chosen else {
                return (Handled::Yes, Vec::new());
            };
            match old {
                None => p.old = Some(v),
                Some(o) if o == v => {
                    app.set_note(NoteLevel::Warning, "pick a different version to compare");
                }
                Some(o) => {
                    view.picker = None;
                    view.chosen = Some(Remote::loading());
                    view.scroll = 0;
                    let circuit = view.circuit.clone();
                    let list = view
                        .evidence
                        .value
                        .as_ref()
                        .map(|e| e.versions.clone())
                        .unwrap_or_default();
                    // Older on the left, whatever order they were picked in.
                    let (old, new) = if o < v { (o, v) } else { (v, o) };
                    let generation = app.gens.next(Slot::Comparison);
                    return (
                        Handled::Yes,
                        vec![Effect::Compare {
                            generation,
                            circuit,
                            versions: list,
                            old,
                            new,
                        }],
                    );
                }
            }
        }
        // Everything else is swallowed while the picker is open.
        Action::ForceQuit => return (Handled::No, Vec::new()),
        _ => {}
    }
    (Handled::Yes, Vec::new())
}

/// Keep the drift selection visible after a resize.
pub fn reflow(app: &mut App) {
    let (page, n) = (drift_page(app), series_count(app));
    if let Some(v) = app.circuit_view_mut() {
        v.drift.follow(n, page);
    }
}

/// Work out what `a` and `R` would do in each open circuit view (after a snapshot, on open).
pub fn refresh_actions(app: &mut App) {
    let Some(snap) = app.data.snapshot.clone() else {
        return;
    };
    let circuits: Vec<crate::domain::CircuitRef> = app
        .routes
        .iter()
        .filter_map(|r| match r {
            crate::app::Route::Circuit(v) => Some(v.circuit.clone()),
            _ => None,
        })
        .collect();
    for circuit in circuits {
        let mut rows: Vec<_> = app
            .approvals
            .rows
            .iter()
            .filter(|r| {
                r.item(&snap)
                    .is_some_and(|i| i.circuits().any(|x| *x == circuit))
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.key.stage));
        let pending = rows.first().and_then(|r| {
            Some((
                r.item(&snap)?.release_name.clone(),
                r.key.stage,
                r.verdict(),
                rows.len(),
            ))
        });
        let target = crate::model::target_words(app, &circuit);
        for r in app.routes.iter_mut() {
            if let crate::app::Route::Circuit(v) = r
                && v.circuit == circuit
            {
                v.actions = crate::app::CircuitActions {
                    pending: pending.clone(),
                    target: Some(target.clone()),
                };
            }
        }
    }
}
