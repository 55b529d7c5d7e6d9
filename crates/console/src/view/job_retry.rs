//! The job retry box over the circuit view (`t` in the Jobs tab): which failed job, in which
//! stage, why it failed, what must be typed (Prod: the circuit, with Prod's colour), and once
//! sent the new job as last read.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{block, fit};
use crate::app::App;
use crate::domain::Stage;
use crate::layout;

pub fn render_box(app: &App, frame: &mut Frame, body: Rect) {
    let Some(b) = app.retry_box() else { return };
    let t = &app.theme;
    let area = layout::popup(body, 118, 13);
    let w = area.width.saturating_sub(2) as usize;
    let prod = b.stage == Stage::Prod;
    let stage_style = if prod { t.stage_prod } else { t.text };
    let error = b.error.as_deref().unwrap_or("(no error text)");
    // The error on two lines at most: the first `w` characters, then the rest cut to fit.
    let first: String = error.chars().take(w).collect();
    let rest: String = error.chars().skip(w).collect();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", b.circuit), t.text),
            Span::styled(if prod { " PROD " } else { " Test " }, stage_style),
            Span::styled(
                fit(
                    &format!("  {} job {}", b.status.to_ascii_lowercase(), b.job),
                    w.saturating_sub(26),
                ),
                t.muted,
            ),
        ]),
        Line::from(Span::styled(first, t.alert)),
        Line::from(Span::styled(fit(rest.trim_start(), w), t.alert)),
        Line::from(Span::styled(
            fit(
                "Starts a new job on this deployment with the failed job's inputs; Azure ML writes its output to a fresh path.",
                w,
            ),
            t.muted,
        )),
        Line::from(""),
    ];
    match &b.progress {
        _ if !b.sending && b.needs_typing() => lines.push(Line::from(vec![
            Span::styled(format!("Type {} to confirm: ", b.circuit), t.header),
            Span::styled(
                fit(&format!("{}▏", b.confirm.text), w.saturating_sub(28)),
                if b.confirmed() { t.ok } else { t.text },
            ),
        ])),
        _ if !b.sending => lines.push(Line::from(Span::styled(
            "Retry it in Test? Enter: yes",
            t.header,
        ))),
        None => lines.push(Line::from(Span::styled(
            "⟳ journaled and on the audit log; sending once…",
            t.note,
        ))),
        Some(p) => {
            lines.push(Line::from(Span::styled(
                fit(&format!("⟳ new job {} · {}", p.job, p.status), w),
                t.note,
            )));
            if let Some(e) = &p.error {
                lines.push(Line::from(Span::styled(fit(e, w), t.alert)));
            }
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        fit(
            if b.sending {
                "followed until it ends · Esc closes this box, its row keeps following it"
            } else {
                "Enter starts it once, on record first · Esc cancels, nothing sent"
            },
            w,
        ),
        t.muted,
    )));
    frame.render_widget(Clear, area);
    let mut blk = block(t, " Retry scoring job ", true);
    if prod {
        blk = blk.border_style(t.stage_prod);
    }
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    frame.render_widget(Paragraph::new(lines), inner);
}
