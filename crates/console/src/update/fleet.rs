//! The fleet view: plant and circuit navigation, the health grid, sorting and filtering. The
//! visible rows are recomputed here (once per change), never in the view.

use crate::action::{Action, Effect};
use crate::app::{App, Pane};
use crate::filter::{self, FilterQuery};
use crate::index::sort_rows;
use crate::layout;

use super::Handled;

/// Rows on one page of the circuit table.
pub fn table_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (_, table) = layout::fleet(s.body);
    layout::table_rows(table).max(1)
}

/// Rows on one page of the plant list.
pub fn plants_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    let (plants, _) = layout::fleet(s.body);
    layout::box_rows(plants).max(1)
}

/// Plant rows on one page of the grid.
pub fn grid_page(app: &App) -> usize {
    let s = layout::screen(layout::area(app.size));
    layout::grid_rows(s.body).max(1)
}

/// Sort every row by the current order, then filter.
pub fn resort(app: &mut App) {
    let Some(snap) = app.data.snapshot.clone() else {
        app.fleet.sorted.clear();
        app.fleet.visible.clear();
        return;
    };
    let mut sorted: Vec<u32> = (0..app.data.index.rows.len() as u32).collect();
    if app.fleet.order != Default::default() {
        sort_rows(&mut sorted, &app.data.index, &snap, app.fleet.order);
    }
    app.fleet.sorted = sorted;
    let plants = app.data.index.plants.len();
    app.fleet.plants.follow(plants + 1, plants_page(app));
    refilter(app);
}

/// Re-sort and start at the top: a new order is read from its first row.
pub fn to_top(app: &mut App) {
    app.fleet.selected = None;
    app.fleet.table = Default::default();
    resort(app);
}

/// Apply the plant scope and the filter to the sorted rows, keeping the selected circuit.
pub fn refilter(app: &mut App) {
    let idx = &app.data.index;
    let scope = app.fleet.plant_scope().map(|p| p as u32);
    let mut visible = Vec::with_capacity(app.fleet.sorted.len());
    let query = &app.fleet.filter;
    if query.is_empty() {
        app.fleet.plant_matches.clear();
        visible.extend(
            app.fleet
                .sorted
                .iter()
                .copied()
                .filter(|r| scope.is_none_or(|p| idx.rows[*r as usize].plant == p)),
        );
    } else {
        let mut matches = vec![0u32; idx.plants.len()];
        let mut m = filter::matcher();
        let mut scored: Vec<(u32, u32)> = Vec::new();
        for &r in &app.fleet.sorted {
            let row = &idx.rows[r as usize];
            if let Some(score) = query.score(row, &idx.plants[row.plant as usize], &mut m) {
                matches[row.plant as usize] += 1;
                if scope.is_none_or(|p| row.plant == p) {
                    scored.push((score, r));
                }
            }
        }
        // Fuzzy words rank the best match first (ties keep the table's order).
        if query.ranks() {
            // `scored` is in table order: its position breaks ties, so an unstable sort works.
            let mut keyed: Vec<(std::cmp::Reverse<u32>, u32, u32)> = scored
                .iter()
                .enumerate()
                .map(|(i, (s, r))| (std::cmp::Reverse(*s), i as u32, *r))
                .collect();
            keyed.sort_unstable();
            scored = keyed.into_iter().map(|(s, _, r)| (s.0, r)).collect();
        }
        visible.extend(scored.into_iter().map(|(_, r)| r));
        app.fleet.plant_matches = matches;
    }
    app.fleet.visible = visible;
    // Keep the selection on the same circuit when it is still shown.
    let page = table_page(app);
    let len = app.fleet.visible.len();
    let keep = app.fleet.selected.as_ref().and_then(|c| {
        let pos = app.data.index.position(c)?;
        app.fleet.visible.iter().position(|r| *r == pos)
    });
    match keep {
        Some(i) => app.fleet.table.to(i, len, page),
        None => app.fleet.table.follow(len, page),
    }
    remember_selection(app);
}

pub fn remember_selection(app: &mut App) {
    let snap = app.data.snapshot.as_ref();
    app.fleet.selected = app
        .fleet
        .visible
        .get(app.fleet.table.selected)
        .zip(snap)
        .map(|(r, s)| {
            app.data
                .index
                .circuit(s, &app.data.index.rows[*r as usize])
                .circuit
                .clone()
        });
}

/// Set the filter text (from the input line) and apply it.
pub fn set_filter(app: &mut App, text: &str) {
    app.fleet.filter = FilterQuery::parse(text);
    refilter(app);
}

/// Select a plant (0 = all) and show its circuits.
pub fn select_plant(app: &mut App, entry: usize) {
    let n = app.data.index.plants.len() + 1;
    let page = plants_page(app);
    app.fleet.plants.to(entry, n, page);
    refilter(app);
}

pub fn on_action(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    if app.fleet.grid {
        return on_grid(app, action);
    }
    let page = table_page(app) as isize;
    let left = app.fleet.focus == Pane::Left;
    match action {
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => {
            let (len, pg) = if left {
                (app.data.index.plants.len() + 1, plants_page(app) as isize)
            } else {
                (app.fleet.visible.len(), page)
            };
            let delta = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -pg,
                Action::PageDown => pg,
                Action::Top => -(len as isize),
                _ => len as isize,
            };
            if left {
                let mut c = app.fleet.plants;
                c.step(delta, len, pg as usize);
                app.fleet.plants = c;
                refilter(app);
            } else {
                app.fleet.table.step(delta, len, pg as usize);
                remember_selection(app);
            }
        }
        Action::Left => app.fleet.focus = Pane::Left,
        Action::Right => app.fleet.focus = Pane::Right,
        Action::FocusNext => {
            app.fleet.focus = if left { Pane::Right } else { Pane::Left };
        }
        Action::Open if left => app.fleet.focus = Pane::Right,
        Action::Open => {
            return match crate::model::current_circuit(app) {
                Some(c) => (Handled::Yes, super::open_circuit(app, c)),
                None => (Handled::Yes, Vec::new()),
            };
        }
        Action::ToggleGrid => {
            app.fleet.grid = true;
            // Start the grid on the selected circuit.
            if let Some(c) = crate::model::current_circuit(app)
                && let Some(pos) = app.data.index.position(&c)
            {
                let row = &app.data.index.rows[pos as usize];
                let (p, col) = (row.plant as usize, row.circuit as usize);
                let n = app.data.index.plants.len();
                let pg = grid_page(app);
                app.fleet.grid_row.to(p, n, pg);
                app.fleet.grid_col = col;
            }
        }
        Action::SortNext | Action::SortPrev => {
            let o = &mut app.fleet.order;
            o.incidents = false;
            o.key = o.key.step(action == Action::SortNext);
            o.reversed = false;
            let label = o.key.label();
            to_top(app);
            app.set_note(crate::app::NoteLevel::Info, format!("sorted by {label}"));
        }
        Action::SortReverse => {
            app.fleet.order.reversed = !app.fleet.order.reversed;
            to_top(app);
        }
        Action::IncidentOrder => {
            app.fleet.order.incidents = !app.fleet.order.incidents;
            let on = app.fleet.order.incidents;
            to_top(app);
            app.set_note(
                crate::app::NoteLevel::Info,
                if on {
                    "incident order: fired alerts (most severe first), then red, amber, unknown, healthy"
                } else {
                    "incident order off"
                },
            );
        }
        Action::AllPlants => select_plant(app, 0),
        _ => return (Handled::No, Vec::new()),
    }
    (Handled::Yes, Vec::new())
}

fn on_grid(app: &mut App, action: Action) -> (Handled, Vec<Effect>) {
    let n = app.data.index.plants.len();
    let page = grid_page(app);
    let cols = |app: &App, row: usize| {
        app.data
            .index
            .plants
            .get(row)
            .map(|p| p.len as usize)
            .unwrap_or(0)
    };
    match action {
        Action::Up => app.fleet.grid_row.step(-1, n, page),
        Action::Down => app.fleet.grid_row.step(1, n, page),
        Action::PageUp => app.fleet.grid_row.step(-(page as isize), n, page),
        Action::PageDown => app.fleet.grid_row.step(page as isize, n, page),
        Action::Top => app.fleet.grid_row.to(0, n, page),
        Action::Bottom => app.fleet.grid_row.to(n.saturating_sub(1), n, page),
        Action::Left => app.fleet.grid_col = app.fleet.grid_col.saturating_sub(1),
        Action::Right => {
            let max = cols(app, app.fleet.grid_row.selected).saturating_sub(1);
            app.fleet.grid_col = (app.fleet.grid_col + 1).min(max);
        }
        Action::Open => {
            return match crate::model::current_circuit(app) {
                Some(c) => (Handled::Yes, super::open_circuit(app, c)),
                None => (Handled::Yes, Vec::new()),
            };
        }
        Action::ToggleGrid => {
            app.fleet.grid = false;
            if let Some(c) = current_circuit_in_grid(app) {
                app.fleet.selected = Some(c);
                select_plant(app, app.fleet.grid_row.selected + 1);
            }
        }
        _ => return (Handled::No, Vec::new()),
    }
    // Rows differ in length: keep the column inside the row.
    let max = cols(app, app.fleet.grid_row.selected).saturating_sub(1);
    app.fleet.grid_col = app.fleet.grid_col.min(max);
    (Handled::Yes, Vec::new())
}

fn current_circuit_in_grid(app: &App) -> Option<crate::domain::CircuitRef> {
    let snap = app.data.snapshot.as_ref()?;
    snap.plants
        .get(app.fleet.grid_row.selected)?
        .circuits
        .get(app.fleet.grid_col)
        .map(|c| c.circuit.clone())
}

/// Keep every fleet cursor valid after a resize.
pub fn reflow(app: &mut App) {
    let (tp, pp, gp) = (table_page(app), plants_page(app), grid_page(app));
    let (vl, pl) = (app.fleet.visible.len(), app.data.index.plants.len());
    app.fleet.table.follow(vl, tp);
    app.fleet.plants.follow(pl + 1, pp);
    app.fleet.grid_row.follow(pl, gp);
}
