//! Help: every binding of the keymap with its description (so it always matches what the keys
//! do), the palette commands, the filter syntax, and any keymap or theme warnings.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{block, fit, pad};
use crate::app::App;
use crate::keymap::KeyContext;
use crate::palette::COMMANDS;

const FILTER: [(&str, &str); 6] = [
    (
        "words",
        "fuzzy over ids, model names, descriptions and plant names (fzf syntax: ^start end$ 'exact !not)",
    ),
    (
        "status:alert",
        "health is alert (also warn, ok, unknown; several: status:alert,warn)",
    ),
    (
        "stage:prod",
        "something is headed to Prod: a candidate in Test, a pending Prod approval or a deploy",
    ),
    (
        "stage:test",
        "likewise for Test (registry ahead of Test), stage:registry, stage:dev (Dev not promoted)",
    ),
    ("pending", "waits on at least one approval"),
    (
        "combine",
        "everything combines: `status:alert stage:prod cooling`",
    ),
];

pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let key_w = 16;
    let desc_w = width.saturating_sub(key_w + 3);
    let mut out = Vec::new();
    for ctx in KeyContext::ALL {
        let bindings: Vec<_> = app.settings.keymap.bindings(ctx).collect();
        if bindings.is_empty() {
            continue;
        }
        out.push(Line::from(Span::styled(ctx.title().to_owned(), t.title)));
        for b in bindings {
            out.push(Line::from(vec![
                Span::styled(format!("  {}", pad(&b.keys_label(), key_w)), t.header),
                Span::styled(fit(&b.desc, desc_w), t.text),
            ]));
        }
        out.push(Line::from(""));
    }
    out.push(Line::from(Span::styled("Commands (:)", t.title)));
    for (name, arg, desc) in COMMANDS {
        let cmd = if arg.is_empty() {
            format!(":{name}")
        } else {
            format!(":{name} {arg}")
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {}", pad(&cmd, 26)), t.header),
            Span::styled(fit(desc, width.saturating_sub(29)), t.text),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Filter (/)", t.title)));
    for (tok, desc) in FILTER {
        out.push(Line::from(vec![
            Span::styled(format!("  {}", pad(tok, key_w)), t.header),
            Span::styled(fit(desc, desc_w), t.text),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Symbols", t.title)));
    out.push(Line::from(vec![
        Span::styled("  ✓ ok  ", t.ok),
        Span::styled("▲ warn  ", t.warn),
        Span::styled("✖ alert  ", t.alert),
        Span::styled("? unknown (never ok)  ", t.unknown),
        Span::styled("≠ stages differ  ", t.warn),
        Span::styled(" PROD ", t.prod),
        Span::styled(" the production stage", t.text),
    ]));
    if !app.warnings.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            "Configuration warnings (defaults kept)",
            t.warning,
        )));
        for w in &app.warnings {
            out.push(Line::from(Span::styled(
                format!("  ⚠ {}", fit(w, width.saturating_sub(4))),
                t.warning,
            )));
        }
    }
    out
}

/// How far help can scroll.
pub fn scroll_limit(app: &App) -> usize {
    let s = crate::layout::screen(crate::layout::area(app.size));
    let inner = crate::layout::inner(s.body);
    lines(app, inner.width as usize)
        .len()
        .saturating_sub(inner.height as usize)
}

pub fn render(app: &App, frame: &mut Frame, body: Rect) {
    let b = block(&app.theme, " Help · Esc or ? closes · j/k scroll ", true);
    let inner = b.inner(body);
    frame.render_widget(b, body);
    let all = lines(app, inner.width as usize);
    let max = all.len().saturating_sub(inner.height as usize);
    let skip = app.help_scroll.min(max);
    let shown: Vec<Line> = all
        .into_iter()
        .skip(skip)
        .take(inner.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
