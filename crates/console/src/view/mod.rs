//! `view`: draws the `App`, never changes it. Every list builds only the rows on screen, so a
//! frame costs the same for 200 circuits and for 20,000.

mod alerts;
mod approvals;
mod circuit;
mod decide;
mod env;
mod fleet;
mod grid;
mod help;
mod job_retry;
mod ops;
mod palette;
mod progress;
mod rollback;
mod status;
pub(crate) mod table;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::app::{App, Route};
use super::layout;

/// Draw one frame.
pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    // Paint the base text style everywhere first, so themes with a background fill the screen.
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new("").style(app.theme.text), area);
    if area.width < 20 || area.height < 6 {
        frame.render_widget(
            Paragraph::new("relcon needs at least 20x6").wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let s = layout::screen(area);
    status::status_bar(app, frame, s.status);
    match app.route() {
        Route::Fleet if app.fleet.grid => grid::render(app, frame, s.body),
        Route::Fleet => fleet::render(app, frame, s.body),
        Route::Circuit(v) => circuit::render(app, v, frame, s.body),
        Route::Approvals => approvals::render(app, frame, s.body),
        Route::Env => env::render(app, frame, s.body),
        Route::Help => help::render(app, frame, s.body),
        Route::Bulk(b) => decide::render_bulk(app, b, frame, s.body),
        Route::Rollback(flow) => rollback::render(app, flow, frame, s.body),
        Route::EnvRollback(flow) => rollback::render_env(app, flow, frame, s.body),
        Route::Progress(p) => progress::render(app, p, frame, s.body),
        Route::Ops => ops::render_ops(app, frame, s.body),
        Route::Audit => ops::render_audit(app, frame, s.body),
        Route::Alerts => alerts::render(app, frame, s.body),
    }
    decide::render_box(app, frame, s.body);
    alerts::render_box(app, frame, s.body);
    job_retry::render_box(app, frame, s.body);
    status::bottom_line(app, frame, s.bottom);
    palette::render(app, frame, s.body);
}

/// Clamp the scroll of the text on screen to what there is to see, so scrolling back up
/// after overshooting moves at once. Pure: computes the same lines the view draws.
pub fn clamp_scroll(app: &mut App) {
    match app.route() {
        Route::Help => app.help_scroll = app.help_scroll.min(help::scroll_limit(app)),
        Route::Approvals => {
            app.approvals.scroll = app.approvals.scroll.min(approvals::scroll_limit(app))
        }
        Route::Circuit(v) => {
            let limit = circuit::scroll_limit(app, v);
            if let Some(v) = app.circuit_view_mut() {
                v.scroll = v.scroll.min(limit);
            }
        }
        Route::Fleet
        | Route::Env
        | Route::Bulk(_)
        | Route::Rollback(_)
        | Route::EnvRollback(_)
        | Route::Progress(_)
        | Route::Ops
        | Route::Audit
        | Route::Alerts => {}
    }
}

/// A message in the middle of an empty area.
pub(crate) fn empty_state(app: &App, frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    let h = lines.len() as u16;
    let y = area.y + area.height.saturating_sub(h) / 2;
    let r = Rect::new(
        area.x + 1,
        y,
        area.width.saturating_sub(2),
        h.min(area.height),
    );
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .style(app.theme.muted)
            .wrap(Wrap { trim: true }),
        r,
    );
}

/// The "no data yet" body shared by the fleet views.
pub(crate) fn no_data(app: &App, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(Span::styled(
        "No fleet data yet",
        app.theme.title,
    ))];
    match &app.data.last_error {
        Some(e) => {
            lines.push(Line::from(Span::styled(e.clone(), app.theme.error)));
            lines.push(Line::from("r retries; the console keeps working meanwhile"));
        }
        None => lines.push(Line::from(
            "Reading the fleet… the first refresh is running",
        )),
    }
    empty_state(app, frame, area, lines);
}

/// Render `app` into a `width` x `height` text grid (snapshot tests, journeys, benches).
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    // The test backend cannot fail.
    let mut term = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    if let Err(never) = term.draw(|f| view(app, f)) {
        match never {}
    }
    buffer_text(term.backend().buffer())
}

/// A buffer as lines of text, trailing spaces trimmed, wide characters once.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let w = buf.area.width as usize;
    let mut out = String::new();
    for row in buf.content.chunks(w.max(1)) {
        let mut line = String::new();
        let mut skip = 0usize;
        for cell in row {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = cell.symbol();
            line.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
