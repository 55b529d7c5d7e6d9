//! The console's lists drawn one way: a header of fixed-width columns (the last one takes what
//! is left), the rows of the cursor's window, the selected row highlighted. A view says what each
//! cell holds and how it looks; this pads, fits and windows, so only the rows on screen are built
//! and every list lines up the same.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::widgets::{pad, rpad, selected_style};
use crate::state::Cursor;
use crate::theme::Theme;

/// The columns of a list: a marker in front of each row, then fixed-width columns each followed
/// by one space, then the last column in what is left of the width.
#[derive(Debug, Clone)]
pub struct Columns {
    lead: usize,
    width: usize,
    cols: Vec<Col>,
}

/// One fixed-width column.
#[derive(Debug, Clone, Copy)]
struct Col {
    title: &'static str,
    width: usize,
    /// Numbers and ages line up on the right.
    right: bool,
    /// Spaces after the column (1, or more before text that follows right-aligned numbers).
    gap: usize,
}

impl Col {
    fn fit(&self, text: &str) -> String {
        if self.right {
            rpad(text, self.width)
        } else {
            pad(text, self.width)
        }
    }
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
            self.cols.push(Col {
                title,
                width,
                right: false,
                gap: 1,
            });
        }
        self
    }

    /// A fixed-width column aligned on the right (numbers, ages, durations).
    pub fn col_right(mut self, title: &'static str, width: usize) -> Columns {
        if width > 0 {
            self.cols.push(Col {
                title,
                width,
                right: true,
                gap: 1,
            });
        }
        self
    }

    /// Widen the space after the column added last to `gap` spaces.
    pub fn gap(mut self, gap: usize) -> Columns {
        if let Some(c) = self.cols.last_mut() {
            c.gap = gap;
        }
        self
    }

    /// The width left for the last column.
    pub fn rest(&self) -> usize {
        let fixed: usize = self.cols.iter().map(|c| c.width + c.gap).sum();
        self.width.saturating_sub(self.lead + fixed)
    }

    /// The header line: every title padded to its column, then `last`, in the header style.
    pub fn header(&self, t: &Theme, last: &str) -> Line<'static> {
        let mut text = " ".repeat(self.lead);
        for c in &self.cols {
            text.push_str(&c.fit(c.title));
            text.push_str(&" ".repeat(c.gap));
        }
        text.push_str(last);
        Line::from(Span::styled(pad(&text, self.width), t.header))
    }

    /// Column `i`'s cell: `text` padded to its width and followed by a space.
    pub fn cell(&self, i: usize, text: &str, style: Style) -> Span<'static> {
        match self.cols.get(i) {
            Some(c) => Span::styled(format!("{}{}", c.fit(text), " ".repeat(c.gap)), style),
            None => Span::styled(String::new(), style),
        }
    }

    /// The header line with the last column's title as its own span (a stage badge, say).
    pub fn header_with(&self, t: &Theme, last: Span<'static>) -> Line<'static> {
        let mut text = " ".repeat(self.lead);
        for c in &self.cols {
            text.push_str(&c.fit(c.title));
            text.push_str(&" ".repeat(c.gap));
        }
        Line::from(vec![Span::styled(text, t.header), last])
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
            .map(|(c, (text, style))| {
                Span::styled(format!("{}{}", c.fit(&text), " ".repeat(c.gap)), style)
            })
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
            .col_right("Age", 5)
            .col("By", 0)
            .col("Action", 9);
        // 2 + (5 + 1) + (9 + 1): "By" at width 0 is left out.
        assert_eq!(c.rest(), 40 - 18);
        let t = Theme::default_theme();
        let head = c.header(&t, "Note");
        let text: String = head.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, format!("{:<40}", "    Age Action    Note"));
        let cells = c.cells([
            ("12m".to_owned(), Style::new()),
            ("rollback-too-long".to_owned(), Style::new()),
            ("ignored".to_owned(), Style::new()),
        ]);
        let text: Vec<&str> = cells.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, vec!["  12m ", "rollback… "]);
    }

    #[test]
    fn a_wider_gap_after_a_column_is_taken_from_the_last_one() {
        let c = Columns::new(0, 20).col_right("Age", 4).gap(2);
        assert_eq!(c.rest(), 20 - 6);
        let cells = c.cells([("3d".to_owned(), Style::new())]);
        assert_eq!(cells[0].content.as_ref(), "  3d  ");
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
