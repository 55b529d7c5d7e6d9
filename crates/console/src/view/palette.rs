//! The completion popup of the `:` palette, just above the input line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{block, fit, pad};
use crate::app::{App, Mode};

/// Rows of completions shown at once.
const ROWS: usize = 8;

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let Mode::Palette(p) = &app.mode else { return };
    let t = &app.theme;
    if p.candidates.is_empty() {
        return;
    }
    let shown = p.candidates.len().min(ROWS);
    let h = shown as u16 + 2;
    let w = body.width.min(72);
    if body.height < h {
        return;
    }
    let area = Rect::new(body.x, body.y + body.height - h, w, h);
    frame.render_widget(Clear, area);
    let n = p.candidates.len();
    let title = if n >= crate::palette::MAX {
        format!(" {n}+ completions: type more to narrow ")
    } else {
        format!(" {} ", super::widgets::plural(n, "completion"))
    };
    let b = block(t, title, true);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    // Keep the highlighted completion in the window.
    let sel = p.selected.unwrap_or(0);
    let first = sel.saturating_sub(ROWS - 1);
    let label_w = 30.min(inner.width as usize / 2);
    let lines: Vec<Line> = p
        .candidates
        .iter()
        .enumerate()
        .skip(first)
        .take(ROWS)
        .map(|(i, c)| {
            let style = if Some(i) == p.selected {
                t.selection
            } else {
                ratatui::style::Style::new()
            };
            Line::from(vec![
                Span::styled(pad(&c.label, label_w), t.header.patch(style)),
                Span::styled(
                    pad(
                        &fit(&c.detail, inner.width as usize - label_w),
                        inner.width as usize - label_w,
                    ),
                    t.muted.patch(style),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
