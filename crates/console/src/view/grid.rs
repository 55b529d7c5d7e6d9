//! The plant x circuit health grid: one row per plant, one cell per circuit, the worst state of
//! each circuit as a symbol in its colour; the cell under the cursor is described below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{self, block, pad, symbol};
use crate::app::App;
use crate::domain::Status;
use crate::layout;

const CELL: usize = 3;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let t = &app.theme;
    let Some(snap) = app.snapshot() else {
        frame.render_widget(block(t, " Health grid ", true), body);
        super::no_data(app, frame, body);
        return;
    };
    let idx = &app.data.index;
    let widest = idx.plants.iter().map(|p| p.len as usize).max().unwrap_or(0);
    let title = format!(
        " Health grid · {} × up to {} ",
        widgets::plural(idx.plants.len(), "plant"),
        widgets::plural(widest, "circuit")
    );
    let b = block(t, title, true);
    let inner = b.inner(body);
    frame.render_widget(b, body);
    let w = inner.width as usize;
    let label_w = if w >= 120 {
        34
    } else if w >= 90 {
        24
    } else {
        14
    };
    let cols_fit = (w.saturating_sub(label_w + 1) / CELL).max(1);
    // Window the columns around the cursor when a plant has more circuits than fit.
    let first_col = app.fleet.grid_col.saturating_sub(cols_fit - 1);
    let shown = widest.saturating_sub(first_col).min(cols_fit);
    let filtering = !app.fleet.filter.is_empty();
    let mut matcher = crate::filter::matcher();
    let mut lines = Vec::new();
    let mut head = vec![Span::styled(pad("Plant", label_w + 1), t.header)];
    for c in first_col..first_col + shown {
        head.push(Span::styled(format!("{:>2} ", c + 1), t.header));
    }
    lines.push(Line::from(head));
    let page = layout::grid_rows(body);
    let g = app.fleet.grid_row;
    for p in g.offset..(g.offset + page).min(idx.plants.len()) {
        let plant = &idx.plants[p];
        let ps = &snap.plants[p];
        let label = format!("{} {} {}", symbol(plant.health), ps.plant_id, ps.name);
        let row_sel = p == g.selected;
        let mut spans = vec![Span::styled(
            pad(&label, label_w + 1),
            if row_sel { t.title } else { t.text },
        )];
        for c in first_col..first_col + shown {
            if c >= plant.len as usize {
                spans.push(Span::raw("   "));
                continue;
            }
            let row = &idx.rows[(plant.first as usize) + c];
            let dim = filtering && !app.fleet.filter.matches(row, plant, &mut matcher);
            let here = row_sel && c == app.fleet.grid_col;
            let style = if dim { t.muted } else { t.status(row.health) };
            let sym = if dim {
                " · ".to_owned()
            } else {
                format!(" {} ", symbol(row.health))
            };
            spans.push(Span::styled(
                sym,
                if here {
                    style.patch(t.selection)
                } else {
                    style
                },
            ));
        }
        lines.push(Line::from(spans));
    }
    let list_h = inner.height.saturating_sub(3);
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y, inner.width, list_h),
    );
    // Legend and the circuit under the cursor.
    let mut legend = Vec::new();
    for s in [Status::Alert, Status::Warn, Status::Unknown, Status::Ok] {
        legend.push(Span::styled(
            format!("{} {}  ", symbol(s), s.as_str()),
            t.status(s),
        ));
    }
    if filtering {
        legend.push(Span::styled(
            format!("·  no match for /{}", app.fleet.filter.text.trim()),
            t.muted,
        ));
    }
    let detail = crate::model::current_circuit(app)
        .and_then(|c| snap.circuit(&c))
        .map(|c| {
            let drift = match &c.drift.worst {
                Some(f) => format!("{} {} {:.2}", f.feature, f.metric.short(), f.value),
                None => "no drift data".into(),
            };
            let mut spans = vec![
                Span::styled(symbol(c.health()), t.status(c.health())),
                Span::styled(format!(" {} ", c.circuit), t.title),
                Span::styled(format!("{} · ", c.description), t.muted),
                widgets::prod_badge(t),
                Span::styled(
                    format!(" {} ", widgets::version(c.versions.prod)),
                    t.stage_prod,
                ),
                Span::styled(format!("· drift {drift}"), t.status(c.drift.status)),
            ];
            if let Some(a) = &c.active_release {
                spans.push(Span::styled(
                    format!(" · {} to {}", a.release_name, a.stage),
                    t.note,
                ));
            }
            Line::from(spans)
        })
        .unwrap_or_default();
    let foot = Rect::new(
        inner.x,
        inner.y + inner.height.saturating_sub(2),
        inner.width,
        2.min(inner.height),
    );
    frame.render_widget(Paragraph::new(vec![Line::from(legend), detail]), foot);
}
