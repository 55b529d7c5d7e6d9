//! The console's lists drawn one way: a header of fixed-width columns (the last one takes what
//! is left), the rows of the cursor's window, the selected row highlighted. A view says what each
//! cell holds and how it looks; this pads, fits and windows, so only the rows on screen are built
//! and every list lines up the same.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::widgets::{pad, selected_style};
use crate::state::Cursor;
use crate::theme::Theme;

/// The columns of a list: a marker in front of each row, then fixed-width columns each followed
/// by one space, then the last column in what is left of the width.
#[derive(Debug, Clone)]
pub struct Columns {
    lead: usize,
    width: usize,
    cols: Vec<(&'static str, usize)>,
}

impl Columns {
    /// `lead`: the width of the marker in front of every row (selection arrow, state symbol);
    /// `width`: the area's.
    pub fn new(lead: usize, width: usize) -> Columns {
        Columns {
            lead,
            width,
            cols: Vec::new(),
        }
    }

    /// A fixed-width column (a width of 0 leaves it out).
    pub fn col(mut self, title: &'static str, width: usize) -> Columns {
        if width > 0 {
            self.cols.push((title, width));
        }
        self
    }

    /// The width left for the last column.
    pub fn rest(&self) -> usize {
        let fixed: usize = self.cols.iter().map(|(_, w)| w + 1).sum();
        self.width.saturating_sub(self.lead + fixed)
    }

    /// The header line: every title padded to its column, then `last`, in the header style.
    pub fn header(&self, t: &Theme, last: &str) -> Line<'static> {
        let mut text = " ".repeat(self.lead);
        for (title, w) in &self.cols {
            text.push_str(&pad(title, *w));
            text.push(' ');
        }
        text.push_str(last);
        Line::from(Span::styled(pad(&text, self.width), t.header))
    }

    /// Column `i`'s cell: `text` padded to its width and followed by a space.
    pub fn cell(&self, i: usize, text: &str, style: Style) -> Span<'static> {
        let w = self.cols.get(i).map_or(0, |c| c.1);
        Span::styled(format!("{} ", pad(text, w)), style)
    }

    /// One cell per fixed column, padded to its width and followed by a space. Cells past the
    /// fixed columns are left out: the last column is the caller's, fitted to [`Columns::rest`].
    pub fn cells<I>(&self, cells: I) -> Vec<Span<'static>>
    where
        I: IntoIterator<Item = (String, Style)>,
    {
        self.cols
            .iter()
            .zip(cells)
            .map(|((_, w), (text, style))| Span::styled(format!("{} ", pad(&text, *w)), style))
            .collect()
    }
}

/// The items a list shows: those in the cursor's window of `rows` lines, with their index.
pub fn window<T>(items: &[T], cursor: Cursor, rows: usize) -> impl Iterator<Item = (usize, &T)> {
    items.iter().enumerate().skip(cursor.offset).take(rows)
}

/// A row's spans as one line, highlighted when it is the cursor's.
pub fn row_line(
    t: &Theme,
    spans: Vec<Span<'static>>,
    cursor: Cursor,
    index: usize,
    focused: bool,
) -> Line<'static> {
    Line::from(spans).style(selected_style(t, index == cursor.selected, focused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_column_gets_what_the_fixed_ones_leave() {
        let c = Columns::new(2, 40)
            .col("Age", 5)
            .col("By", 0)
            .col("Action", 9);
        // 2 + (5 + 1) + (9 + 1): "By" at width 0 is left out.
        assert_eq!(c.rest(), 40 - 18);
        let t = Theme::default_theme();
        let head = c.header(&t, "Note");
        let text: String = head.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, format!("{:<40}", "  Age   Action    Note"));
        let cells = c.cells([
            ("12m".to_owned(), Style::new()),
            ("rollback-too-long".to_owned(), Style::new()),
            ("ignored".to_owned(), Style::new()),
        ]);
        let text: Vec<&str> = cells.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, vec!["12m   ", "rollback… "]);
    }

    #[test]
    fn the_window_starts_at_the_cursors_offset() {
        let items: Vec<u32> = (0..10).collect();
        let mut c = Cursor::default();
        c.to(7, 10, 3);
        let shown: Vec<usize> = window(&items, c, 3).map(|(i, _)| i).collect();
        assert_eq!(shown, vec![5, 6, 7]);
    }
}
