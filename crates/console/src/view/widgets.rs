//! Small pieces every view uses: status symbols (so states differ without colour), version and
//! age text, the PROD badge, sparklines, width-aware truncation and bordered boxes.

use chrono::{DateTime, Duration, Utc};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::{ModelVersion, Stage, Status};
use crate::theme::Theme;

/// A symbol per status: the state reads even without colour.
pub fn symbol(s: Status) -> &'static str {
    match s {
        Status::Ok => "✓",
        Status::Warn => "▲",
        Status::Alert => "✖",
        Status::Unknown => "?",
    }
}

/// `✖ alert` in the status's role.
pub fn status_span(t: &Theme, s: Status) -> Span<'static> {
    Span::styled(format!("{} {}", symbol(s), s.as_str()), t.status(s))
}

/// `v12`, or `—` when there is none.
pub fn version(v: Option<ModelVersion>) -> String {
    v.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into())
}

/// A version in its stage's role; Prod always in the Prod role.
pub fn stage_version(t: &Theme, stage: Stage, v: Option<ModelVersion>) -> Span<'static> {
    let style = if v.is_none() {
        t.unknown
    } else {
        t.stage(stage)
    };
    Span::styled(version(v), style)
}

/// The PROD badge.
pub fn prod_badge(t: &Theme) -> Span<'static> {
    Span::styled(" PROD ", t.prod)
}

/// A stage's name; Prod as the badge.
pub fn stage_label(t: &Theme, s: Stage) -> Span<'static> {
    match s {
        Stage::Prod => prod_badge(t),
        other => Span::styled(other.to_string(), t.stage(other)),
    }
}

/// `12s`, `4m`, `3h`, `2d`; `now` for anything in the future.
pub fn age(d: Duration) -> String {
    let s = d.num_seconds();
    if s < 0 {
        "now".into()
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

pub fn age_since(now: DateTime<Utc>, at: Option<DateTime<Utc>>) -> String {
    at.map(|a| age(now - a)).unwrap_or_else(|| "—".into())
}

/// Cut `s` to `width` columns, ending in `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Pad or cut to exactly `width` columns.
pub fn pad(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let w = f.width();
    format!("{f}{}", " ".repeat(width.saturating_sub(w)))
}

/// Right-align in `width` columns.
pub fn rpad(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let w = f.width();
    format!("{}{f}", " ".repeat(width.saturating_sub(w)))
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as bars, scaled from 0 to the larger of the series' maximum and
/// `limit` (so a series under its threshold looks low).
pub fn sparkline(values: &[f64], width: usize, limit: Option<f64>) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(limit.unwrap_or(0.0), f64::max);
    tail.iter()
        .map(|v| {
            if !v.is_finite() || max <= 0.0 {
                return BARS[0];
            }
            let i = ((v / max) * (BARS.len() - 1) as f64).round() as usize;
            BARS[i.min(BARS.len() - 1)]
        })
        .collect()
}

/// A bordered box; the focused one stands out.
pub fn block<'a>(t: &Theme, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if focused { t.border_focus } else { t.border })
        .title(title.into().style(t.title))
}

/// A value that could not be read.
pub fn unknown(t: &Theme, what: &str) -> Span<'static> {
    Span::styled(what.to_owned(), t.unknown)
}

/// `style` with the selection on top when `selected`.
pub fn selected_style(t: &Theme, selected: bool, focused: bool) -> Style {
    match (selected, focused) {
        (true, true) => t.selection,
        (true, false) => t.selection_inactive,
        _ => Style::new(),
    }
}

/// The text style with a bold weight.
pub fn bold(s: Style) -> Style {
    s.add_modifier(Modifier::BOLD)
}

/// `n thing` / `n things`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A short hash or commit: the first 8 characters.
pub fn short(s: &str) -> &str {
    s.get(..8).unwrap_or(s)
}

/// Break text into lines of at most `width` columns at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// `1m12s`, `45s`.
pub fn duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_human_would_say_them() {
        assert_eq!(age(Duration::seconds(12)), "12s");
        assert_eq!(age(Duration::minutes(4)), "4m");
        assert_eq!(age(Duration::hours(3)), "3h");
        assert_eq!(age(Duration::days(2)), "2d");
        assert_eq!(age(Duration::seconds(-5)), "now");
    }

    #[test]
    fn fitting_respects_display_width() {
        assert_eq!(fit("Rhône Valley Cement Works", 10), "Rhône Val…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(rpad("ab", 4), "  ab");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("漢字漢字", 5).width(), 5);
    }

    #[test]
    fn sparklines_scale_to_the_threshold() {
        assert_eq!(sparkline(&[0.0, 0.5, 1.0], 3, None), "▁▅█");
        assert_eq!(sparkline(&[0.1, 0.1], 2, Some(0.8)), "▂▂");
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 4.0], 2, None).chars().count(), 2);
        assert_eq!(sparkline(&[], 5, None), "");
    }
}
