//! Screen geometry shared by `view` (to draw) and `update` (to know how many rows a page holds,
//! so scrolling keeps the selection visible without the view mutating state).

use ratatui::layout::{Constraint, Layout, Rect};

/// The three bands of every screen.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    pub status: Rect,
    pub body: Rect,
    pub bottom: Rect,
}

pub fn screen(area: Rect) -> Screen {
    let [status, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Screen {
        status,
        body,
        bottom,
    }
}

pub fn area(size: (u16, u16)) -> Rect {
    Rect::new(0, 0, size.0, size.1)
}

/// Fleet: plants on the left, circuits on the right.
pub fn fleet(body: Rect) -> (Rect, Rect) {
    let left = if body.width >= 190 {
        40
    } else if body.width >= 110 {
        32
    } else {
        22
    };
    let [plants, table] =
        Layout::horizontal([Constraint::Length(left), Constraint::Min(0)]).areas(body);
    (plants, table)
}

/// The inside of a bordered box.
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// Rows of the drift table (drawn without a border, under its header line).
pub fn drift_rows(content: Rect, rows: usize) -> usize {
    drift(inner(content), rows).0.height.saturating_sub(1) as usize
}

/// Rows inside a bordered box with a header line.
pub fn table_rows(r: Rect) -> usize {
    r.height.saturating_sub(3) as usize
}

/// Rows inside a bordered box.
pub fn box_rows(r: Rect) -> usize {
    r.height.saturating_sub(2) as usize
}

/// Plant rows of the health grid: borders, header, and a two-line footer take six.
pub fn grid_rows(body: Rect) -> usize {
    body.height.saturating_sub(6) as usize
}

/// Circuit detail: a header box, the tab bar, the tab's content.
pub fn circuit(body: Rect) -> (Rect, Rect, Rect) {
    // Tall screens get a line saying why the circuit is red, above what `a` and `R` would do.
    let head = if body.height >= 30 { 7 } else { 5 };
    let [h, tabs, content] = Layout::vertical([
        Constraint::Length(head),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(body);
    (h, tabs, content)
}

/// Drift tab: the table (its header and `rows` series, at most half) over the chart.
pub fn drift(content: Rect, rows: usize) -> (Rect, Rect) {
    let half = (content.height / 2).max(5);
    let table = (rows as u16 + 1).min(half);
    let [t, c] = Layout::vertical([Constraint::Length(table), Constraint::Min(0)]).areas(content);
    (t, c)
}

/// Approvals: the list, and the evidence of the selected item.
pub fn approvals(body: Rect) -> (Rect, Rect) {
    let left = (body.width * 2 / 5).clamp(34.min(body.width), 64);
    let [l, r] = Layout::horizontal([Constraint::Length(left), Constraint::Min(0)]).areas(body);
    (l, r)
}

/// Environment release: the summary, the matrix.
pub fn env(body: Rect) -> (Rect, Rect) {
    let [s, m] = Layout::vertical([Constraint::Length(5), Constraint::Min(0)]).areas(body);
    (s, m)
}

/// A centred popup of at most `w` x `h`.
pub fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1);
    let h = h.min(area.height.saturating_sub(2)).max(1);
    Rect::new(
        area.x + (area.width.saturating_sub(w)) / 2,
        area.y + (area.height.saturating_sub(h)) / 2,
        w,
        h,
    )
}

/// The version picker popup over the circuit view.
pub fn picker(body: Rect) -> Rect {
    popup(body, 72, 16)
}

/// The bulk review table over the form (the selected row in full, comment, override, reason,
/// what Enter does: 9 rows with the border).
pub fn bulk(body: Rect) -> (Rect, Rect) {
    let form = 9.min(body.height / 2);
    let [t, f] = Layout::vertical([Constraint::Min(0), Constraint::Length(form)]).areas(body);
    (t, f)
}

/// A rollback screen: its header (what, where, method) over the step's content.
pub fn rollback(body: Rect) -> (Rect, Rect) {
    let head = if body.height >= 30 { 5 } else { 4 };
    let [h, c] = Layout::vertical([Constraint::Length(head), Constraint::Min(0)]).areas(body);
    (h, c)
}

/// The audit view: the chain verification, the entries, the selected entry's details.
pub fn audit(body: Rect) -> (Rect, Rect, Rect) {
    let detail = if body.height >= 30 { 8 } else { 5 };
    let [v, t, d] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(detail),
    ])
    .areas(body);
    (v, t, d)
}

/// The comment box over any view.
pub fn decide_box(body: Rect) -> Rect {
    popup(body, 86, 20)
}

/// The typed confirmation over the plan.
pub fn confirm_box(body: Rect) -> Rect {
    popup(body, 80, 14)
}
