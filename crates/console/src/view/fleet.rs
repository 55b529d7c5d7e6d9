//! The fleet view: plants with their worst status and counts on the left, the circuits table on
//! the right. Columns drop by priority as the terminal narrows; only visible rows are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{self, block, fit, selected_style, symbol};
use crate::app::{App, Pane};
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::{Stage, Status};
use crate::index::{Activity, CircuitRow, SortKey};
use crate::layout;
use crate::theme::Theme;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let (plants, table) = layout::fleet(body);
    if app.snapshot().is_none() {
        frame.render_widget(block(&app.theme, " Fleet ", true), body);
        super::no_data(app, frame, body);
        return;
    }
    render_plants(app, frame, plants);
    render_table(app, frame, table);
}

/// `✖2 ▲1 ?1`, or `✓ 8` when all are healthy.
fn counts(t: &Theme, c: [u32; 4]) -> Vec<Span<'static>> {
    let [ok, warn, alert, unknown] = c;
    let mut out = Vec::new();
    for (n, s) in [
        (alert, Status::Alert),
        (warn, Status::Warn),
        (unknown, Status::Unknown),
    ] {
        if n > 0 {
            if !out.is_empty() {
                out.push(Span::raw(" "));
            }
            out.push(Span::styled(format!("{}{n}", symbol(s)), t.status(s)));
        }
    }
    if out.is_empty() {
        out.push(Span::styled(format!("{}{ok}", symbol(Status::Ok)), t.ok));
    }
    out
}

fn spans_width(spans: &[Span]) -> usize {
    spans
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
        .sum()
}

fn render_plants(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let focused = app.fleet.focus == Pane::Left;
    let idx = &app.data.index;
    let filtering = !app.fleet.filter.is_empty();
    let title = format!(" Plants {} ", idx.plants.len());
    let b = block(t, title, focused);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let w = inner.width as usize;
    let snap = match app.snapshot() {
        Some(s) => s,
        None => return,
    };
    let rows = layout::box_rows(area);
    let c = app.fleet.plants;
    let mut lines = Vec::with_capacity(rows);
    for entry in c.offset..(c.offset + rows).min(idx.plants.len() + 1) {
        let selected = entry == c.selected;
        let (health, id, name, right) = if entry == 0 {
            let right = if filtering {
                vec![Span::styled(
                    format!("{}", app.fleet.plant_matches.iter().sum::<u32>()),
                    t.matched,
                )]
            } else {
                counts(t, idx.counts)
            };
            let worst = idx
                .plants
                .iter()
                .map(|p| p.health)
                .fold(Status::Ok, Status::worst);
            (worst, "All plants".to_owned(), String::new(), right)
        } else {
            let p = &idx.plants[entry - 1];
            let ps = &snap.plants[entry - 1];
            let right = if filtering {
                let n = app.fleet.plant_matches.get(entry - 1).copied().unwrap_or(0);
                vec![Span::styled(
                    n.to_string(),
                    if n == 0 { t.muted } else { t.matched },
                )]
            } else {
                counts(t, p.counts)
            };
            (p.health, ps.plant_id.to_string(), ps.name.clone(), right)
        };
        let head = format!("{} {id}", symbol(health));
        let head_w = unicode_width::UnicodeWidthStr::width(head.as_str());
        let mut right = right;
        // Too narrow for every count: keep the most severe.
        if head_w + 1 + spans_width(&right) > w {
            right.truncate(1);
        }
        let rw = spans_width(&right);
        let name_w = w.saturating_sub(head_w + 2 + rw);
        let name = if name.is_empty() || name_w < 8 {
            String::new()
        } else {
            format!(" {}", fit(&name, name_w))
        };
        let used = head_w + unicode_width::UnicodeWidthStr::width(name.as_str());
        let mut spans = vec![
            Span::styled(symbol(health).to_owned(), t.status(health)),
            Span::styled(format!(" {id}"), t.text),
            Span::styled(name, t.muted),
            Span::raw(" ".repeat(w.saturating_sub(used + rw))),
        ];
        spans.extend(right);
        lines.push(Line::from(spans).style(selected_style(t, selected, focused)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Health,
    Circuit,
    Description,
    Dev,
    Registry,
    Test,
    Differ,
    Prod,
    Env,
    Lineage,
    Drift,
    Validation,
    Alerts,
    Jobs,
    Pending,
    Activity,
}

struct ColSpec {
    col: Col,
    title: &'static str,
    width: u16,
    /// Flexible columns grow up to this.
    max: u16,
    priority: u8,
}

const fn spec(col: Col, title: &'static str, width: u16, max: u16, priority: u8) -> ColSpec {
    ColSpec {
        col,
        title,
        width,
        max,
        priority,
    }
}

fn columns(circuit_w: u16) -> [ColSpec; 16] {
    [
        spec(Col::Health, "", 1, 1, 0),
        spec(Col::Circuit, "Circuit", circuit_w, circuit_w, 0),
        spec(Col::Description, "Description", 14, 36, 4),
        spec(Col::Dev, "Dev", 4, 4, 5),
        spec(Col::Registry, "Reg", 4, 4, 3),
        spec(Col::Test, "Test", 4, 4, 3),
        spec(Col::Differ, "", 1, 1, 1),
        spec(Col::Prod, "PROD", 4, 4, 1),
        spec(Col::Env, "Env", 5, 11, 5),
        spec(Col::Lineage, "Hash", 6, 6, 2),
        spec(Col::Drift, "Drift", 12, 26, 2),
        spec(Col::Validation, "Tests", 6, 6, 2),
        spec(Col::Alerts, "Alert", 6, 6, 2),
        spec(Col::Jobs, "Scoring", 9, 9, 3),
        spec(Col::Pending, "Appr", 4, 4, 3),
        spec(Col::Activity, "Activity", 14, 24, 4),
    ]
}

/// Who gets spare width first, and up to how much.
const GROWTH: [(Col, u16); 6] = [
    (Col::Drift, 21),
    (Col::Description, 24),
    (Col::Drift, 26),
    (Col::Description, 30),
    (Col::Activity, 24),
    (Col::Description, 36),
];

fn sort_col(k: SortKey) -> Option<Col> {
    Some(match k {
        SortKey::Circuit => Col::Circuit,
        SortKey::Description => Col::Description,
        SortKey::Health => Col::Health,
        SortKey::Dev => Col::Dev,
        SortKey::Registry => Col::Registry,
        SortKey::Test => Col::Test,
        SortKey::Prod => Col::Prod,
        SortKey::Environment => Col::Env,
        SortKey::Lineage => Col::Lineage,
        SortKey::Drift => Col::Drift,
        SortKey::Validation => Col::Validation,
        SortKey::Pending => Col::Pending,
        SortKey::Activity => Col::Activity,
    })
}

/// Pick the columns that fit `width`, by priority, and give flexible ones the rest.
fn fit_columns(specs: &[ColSpec], width: u16) -> Vec<(usize, u16)> {
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|i| specs[*i].priority);
    let mut chosen = vec![false; specs.len()];
    let mut used: u16 = 0;
    for i in order {
        let need = specs[i].width + u16::from(used > 0);
        if used + need <= width {
            chosen[i] = true;
            used += need;
        }
    }
    let mut out: Vec<(usize, u16)> = (0..specs.len())
        .filter(|i| chosen[*i])
        .map(|i| (i, specs[i].width))
        .collect();
    let mut spare = width.saturating_sub(used);
    for (col, cap) in GROWTH {
        if let Some((i, w)) = out.iter_mut().find(|(i, _)| specs[*i].col == col) {
            let grow = cap.min(specs[*i].max).saturating_sub(*w).min(spare);
            *w += grow;
            spare -= grow;
        }
    }
    // Whatever is left goes to the description, so the table spans its box.
    if let Some((_, w)) = out
        .iter_mut()
        .find(|(i, _)| specs[*i].col == Col::Description)
    {
        *w += spare;
    }
    out
}

fn render_table(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(snap) = app.snapshot() else { return };
    let focused = app.fleet.focus == Pane::Right;
    let scope = app.fleet.plant_scope();
    let mut title = match scope.and_then(|p| snap.plants.get(p)) {
        Some(p) => format!(" {} {} · ", p.plant_id, p.name),
        None => " All plants · ".to_owned(),
    };
    title.push_str(&format!(
        "{} ",
        widgets::plural(app.fleet.visible.len(), "circuit")
    ));
    let o = app.fleet.order;
    if o.incidents {
        title.push_str("· incidents first ");
    } else if o.key != SortKey::Circuit || o.reversed {
        let arrow = if o.reversed != o.key.worst_first() {
            "▼"
        } else {
            "▲"
        };
        title.push_str(&format!("· by {} {arrow} ", o.key.label()));
    }
    if !app.fleet.filter.is_empty() {
        title.push_str(&format!("· /{} ", app.fleet.filter.text.trim()));
        if app.fleet.filter.ranks() {
            title.push_str("· best match first ");
        }
    }
    let b = block(
        t,
        fit(&title, area.width.saturating_sub(4) as usize),
        focused,
    );
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if app.fleet.visible.is_empty() {
        let msg = if app.fleet.filter.is_empty() {
            "No circuits in this plant".to_owned()
        } else {
            format!("No circuit matches /{}", app.fleet.filter.text.trim())
        };
        super::empty_state(
            app,
            frame,
            inner,
            vec![
                Line::from(msg),
                Line::from("Esc clears the filter · a shows all plants"),
            ],
        );
        return;
    }
    let circuit_w = if scope.is_some() { 9 } else { 18 };
    let specs = columns(circuit_w);
    let cols = fit_columns(&specs, inner.width);
    let sorted = if o.incidents {
        Some(Col::Health)
    } else if o.key == SortKey::Circuit && !o.reversed {
        None
    } else {
        sort_col(o.key)
    };
    let header = Row::new(cols.iter().map(|(i, w)| {
        let s = &specs[*i];
        let mark = if Some(s.col) == sorted { "•" } else { "" };
        match s.col {
            Col::Prod => Cell::from(Span::styled(
                widgets::pad(&format!("{}{mark}", s.title), *w as usize),
                t.prod,
            )),
            Col::Drift if *w >= 17 => Cell::from(Span::styled(
                format!("{} 30 days{mark}", widgets::pad("Drift", 12)),
                t.header,
            )),
            _ => Cell::from(Span::styled(format!("{}{mark}", s.title), t.header)),
        }
    }));
    let page = layout::table_rows(area);
    let c = app.fleet.table;
    let end = (c.offset + page).min(app.fleet.visible.len());
    let rows = app.fleet.visible[c.offset..end]
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let row = &app.data.index.rows[*r as usize];
            let circuit = app.data.index.circuit(snap, row);
            let selected = c.offset + k == c.selected;
            Row::new(
                cols.iter()
                    .map(|(i, w)| cell(t, specs[*i].col, *w, row, circuit, scope.is_some())),
            )
            .style(selected_style(t, selected, focused))
        });
    let widths: Vec<Constraint> = cols.iter().map(|(_, w)| Constraint::Length(*w)).collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

/// Drift values: three decimals below 0.1 (p-values near 0.05 must not round away).
fn value(v: f64) -> String {
    if v.abs() < 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.2}")
    }
}

fn version_cell(t: &Theme, c: &CircuitSnapshot, s: Stage) -> Cell<'static> {
    let v = c.versions.get(s);
    if s == Stage::Prod {
        return Cell::from(widgets::stage_version(t, Stage::Prod, v));
    }
    // Versions equal to Prod fade; a version on its way stands out in its stage's colour.
    let style = match v {
        None => t.muted,
        Some(_) if v == c.versions.prod => t.muted,
        Some(_) => widgets::bold(t.stage(s)),
    };
    Cell::from(Span::styled(widgets::version(v), style))
}

fn cell(
    t: &Theme,
    col: Col,
    w: u16,
    row: &CircuitRow,
    c: &CircuitSnapshot,
    scoped: bool,
) -> Cell<'static> {
    let w = w as usize;
    match col {
        Col::Health => Cell::from(Span::styled(symbol(row.health), t.status(row.health))),
        Col::Circuit => {
            let id = if scoped {
                c.circuit.circuit.to_string()
            } else {
                c.circuit.to_string()
            };
            Cell::from(Span::styled(id, t.text))
        }
        Col::Description => Cell::from(Span::styled(fit(&c.description, w), t.muted)),
        Col::Dev => version_cell(t, c, Stage::Dev),
        Col::Registry => version_cell(t, c, Stage::Registry),
        Col::Test => version_cell(t, c, Stage::Test),
        Col::Prod => version_cell(t, c, Stage::Prod),
        Col::Differ => {
            if c.versions.differ() {
                Cell::from(Span::styled("≠", t.warn))
            } else {
                Cell::from("")
            }
        }
        Col::Env => {
            let text = match (&c.environment.prod, &c.environment.test) {
                (Some(p), Some(tst)) if p != tst && w >= 11 => format!("{p}→{tst}"),
                (Some(p), _) => p.clone(),
                (None, _) => "—".into(),
            };
            let style = if c.environment.prod.is_none() {
                t.unknown
            } else {
                t.text
            };
            Cell::from(Span::styled(fit(&text, w), style))
        }
        Col::Lineage => {
            let (text, st) = match c.lineage.matches {
                Some(true) => ("✓ ok", Status::Ok),
                Some(false) => ("✖ diff", Status::Alert),
                None => ("? —", Status::Unknown),
            };
            Cell::from(Span::styled(text, t.status(st)))
        }
        Col::Drift => {
            let d = &c.drift;
            let text = match &d.worst {
                Some(f) => format!(
                    "{} {} {}",
                    symbol(d.status),
                    f.metric.short(),
                    value(f.value)
                ),
                None => format!("{} no data", symbol(d.status)),
            };
            // The sparkline of the worst series follows when the column has room.
            let spark = match (d.worst_series(), &d.worst) {
                (Some(s), Some(f)) if w >= 17 => {
                    widgets::sparkline(&s.values, w - 13, Some(f.threshold))
                }
                _ => String::new(),
            };
            Cell::from(Span::styled(
                format!("{} {spark}", widgets::pad(&text, 12)),
                t.status(d.status),
            ))
        }
        Col::Validation => {
            let v = &c.validation;
            let text = match (v.status, &v.run) {
                (_, None) => "? none".to_owned(),
                (Status::Ok, _) => "✓ pass".to_owned(),
                (Status::Unknown, _) => "? part".to_owned(),
                (s, _) => format!("{} fail", symbol(s)),
            };
            let st = if v.run.is_none() {
                Status::Unknown
            } else {
                v.status
            };
            Cell::from(Span::styled(text, t.status(st)))
        }
        Col::Alerts => {
            let a = &c.alerts;
            match a.worst {
                Some(sev) => {
                    let more = if a.active > 1 { "+" } else { " " };
                    // Nobody acknowledged it yet: it stands out.
                    let style = if a.new > 0 {
                        widgets::bold(t.status(sev.status()))
                    } else {
                        t.status(sev.status())
                    };
                    Cell::from(Span::styled(format!("{}{more}", sev.as_str()), style))
                }
                None if a.unknown => Cell::from(Span::styled("  ?", t.unknown)),
                None => Cell::from(Span::styled("  ·", t.muted)),
            }
        }
        Col::Jobs => {
            let j = &c.jobs;
            let (text, st) = match (j.status, &j.last) {
                (None, _) => ("  ·".to_owned(), Status::Ok),
                (Some(Status::Unknown), _) => ("? —".to_owned(), Status::Unknown),
                (Some(s), _)
                    if j.problem
                        .as_deref()
                        .is_some_and(|p| p.starts_with("no run")) =>
                {
                    let hours = j
                        .last
                        .as_ref()
                        .and_then(|l| l.at)
                        .zip(j.read_at)
                        .map(|(at, read)| format!("{}h ago", (read - at).num_hours()))
                        .unwrap_or_else(|| "none".into());
                    (format!("{} {hours}", symbol(s)), s)
                }
                (Some(s), Some(l)) => {
                    use crate::domain::incidents::JobOutcome;
                    let word = match l.status.outcome() {
                        JobOutcome::Succeeded => "ok",
                        JobOutcome::Failed => "failed",
                        JobOutcome::Running => "running",
                        JobOutcome::Other => l.status.as_str(),
                    };
                    (format!("{} {word}", symbol(s)), s)
                }
                (Some(s), None) => (format!("{} none", symbol(s)), s),
            };
            let style = if j.status.is_none() {
                t.muted
            } else {
                t.status(st)
            };
            Cell::from(Span::styled(fit(&text, w), style))
        }
        Col::Pending => {
            if row.pending > 0 {
                Cell::from(Span::styled(format!("{:>3}", row.pending), t.note))
            } else {
                Cell::from(Span::styled("  ·", t.muted))
            }
        }
        Col::Activity => match &row.activity {
            None => Cell::from(""),
            Some(Activity::RollingBack { to, .. }) => {
                Cell::from(Span::styled(fit(&format!("⟲ back to v{to}"), w), t.alert))
            }
            Some(Activity::Deploying { release, stage }) => {
                let short = release.replace("Release-", "R-");
                let stage_style: Style = if *stage == Stage::Prod {
                    t.prod
                } else {
                    t.stage(*stage)
                };
                Cell::from(Line::from(vec![
                    Span::styled(fit(&format!("⇡ {short} → "), w.saturating_sub(5)), t.note),
                    Span::styled(stage.to_string(), stage_style),
                ]))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_tables_keep_the_important_columns() {
        let specs = columns(18);
        let at = |w| {
            fit_columns(&specs, w)
                .into_iter()
                .map(|(i, _)| specs[i].col)
                .collect::<Vec<_>>()
        };
        let narrow = at(56);
        for must in [
            Col::Health,
            Col::Circuit,
            Col::Prod,
            Col::Drift,
            Col::Validation,
        ] {
            assert!(narrow.contains(&must), "{must:?} in {narrow:?}");
        }
        assert!(!narrow.contains(&Col::Description));
        let wide = at(120);
        assert!(wide.contains(&Col::Description) && wide.contains(&Col::Activity));
        // Order on screen is the table's order, whatever the priorities.
        assert!(wide.windows(2).all(|p| (p[0] as u8) < (p[1] as u8)));
    }
}
