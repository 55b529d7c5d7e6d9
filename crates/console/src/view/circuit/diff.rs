//! Config diff: the semantic summary on top (changed keys, whether they retrain, the hashes,
//! the environment change), then the text diff, unified or side by side, with the changed
//! words emphasized.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::{App, CircuitView};
use crate::domain::EnvironmentChange;
use crate::domain::diff::{Change, ChangeKind, DiffLine, LineTag, Segment};
use crate::service::evidence::ConfigComparison;
use crate::theme::Theme;
use crate::view::widgets::{self, fit, pad};

pub fn lines(app: &App, v: &CircuitView, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = width as usize;
    let chosen = v.chosen.as_ref();
    let Some(cmp) = v.comparison() else {
        let msg = match chosen {
            Some(r) if r.loading => "Comparing the two versions…".to_owned(),
            Some(r) => format!(
                "The comparison failed: {}",
                r.error.as_deref().unwrap_or("no result")
            ),
            None if v.evidence.loading => "Loading the configs of Prod and the candidate…".into(),
            None => match &v.evidence.error {
                Some(e) => format!("The evidence could not be loaded: {e}"),
                None => {
                    "Prod and every other stage run the same version: nothing to compare.".into()
                }
            },
        };
        return vec![
            Line::from(Span::styled(msg, t.muted)),
            Line::from(Span::styled(
                "c compares any two versions of this circuit",
                t.muted,
            )),
        ];
    };
    let mut out = Vec::new();
    summary(app, v, cmp, w, &mut out);
    out.push(Line::from(Span::styled("─".repeat(w), t.border)));
    match &cmp.text {
        None => {
            for (label, side) in [("old", &cmp.old), ("new", &cmp.new)] {
                if let Err(e) = &side.text {
                    out.push(Line::from(Span::styled(
                        fit(&format!("{label} config v{}: {e}", side.version), w),
                        t.error,
                    )));
                }
            }
        }
        Some(text) if text.is_empty() => out.push(Line::from(Span::styled(
            "The two config files are identical.",
            t.muted,
        ))),
        Some(text) if v.side_by_side => {
            let half = w.saturating_sub(3) / 2;
            for row in text.side_by_side() {
                match row {
                    None => out.push(Line::from(Span::styled("┄".repeat(w), t.border))),
                    Some(r) => {
                        let mut spans = side(t, r.left.as_ref(), half, true);
                        spans.push(Span::styled(" │ ", t.border));
                        spans.extend(side(t, r.right.as_ref(), half, false));
                        out.push(Line::from(spans));
                    }
                }
            }
        }
        Some(text) => {
            for hunk in &text.hunks {
                out.push(Line::from(Span::styled(hunk.header(), t.diff_hunk)));
                for l in &hunk.lines {
                    out.push(unified(t, l, w));
                }
            }
        }
    }
    out
}

fn summary(
    app: &App,
    v: &CircuitView,
    cmp: &ConfigComparison,
    w: usize,
    out: &mut Vec<Line<'static>>,
) {
    let t = &app.theme;
    let label = |side: &crate::service::evidence::ConfigAtVersion| {
        let running: Vec<String> = app
            .data
            .circuit(&v.circuit)
            .map(|c| {
                crate::domain::Stage::ALL
                    .into_iter()
                    .filter(|s| c.versions.get(*s) == Some(side.version))
                    .map(|s| s.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let commit = side
            .commit
            .as_deref()
            .map(widgets::short)
            .unwrap_or("no commit");
        (running, format!("v{} @ {commit}", side.version))
    };
    let (old_in, old_label) = label(&cmp.old);
    let (new_in, new_label) = label(&cmp.new);
    let mut head = Vec::new();
    let tag = |t: &Theme, running: &[String]| -> Vec<Span<'static>> {
        if running.iter().any(|s| s == "Prod") {
            vec![widgets::prod_badge(t), Span::raw(" ")]
        } else if let Some(first) = running.last() {
            vec![Span::styled(format!("{first} "), t.stage_test)]
        } else {
            Vec::new()
        }
    };
    head.extend(tag(t, &old_in));
    head.push(Span::styled(old_label, t.diff_remove));
    head.push(Span::styled("  →  ", t.muted));
    head.extend(tag(t, &new_in));
    head.push(Span::styled(new_label, t.diff_add));
    head.push(Span::styled(
        if v.chosen.is_some() {
            "   (your choice; p: Prod vs candidate)"
        } else {
            "   (Prod vs candidate; c: choose)"
        },
        t.muted,
    ));
    head.push(Span::styled(
        if v.side_by_side {
            "   side by side (v)"
        } else {
            "   unified (v)"
        },
        t.muted,
    ));
    out.push(Line::from(head));
    let Some(sem) = &cmp.semantic else {
        out.push(Line::from(Span::styled(
            "No semantic summary: a config could not be parsed as YAML",
            t.warn,
        )));
        return;
    };
    let retrain = if sem.retrain_required {
        Span::styled("retrain required", t.warn)
    } else {
        Span::styled("no retrain", t.ok)
    };
    let hashes = match (&sem.old_hash, &sem.new_hash) {
        (Some(a), Some(b)) if a != b => format!(" (training hash {a} → {b})"),
        (Some(a), Some(_)) => format!(" (training hash {a} unchanged)"),
        _ => " (a training hash could not be computed)".into(),
    };
    let env = match sem.environment_change {
        EnvironmentChange::None => Span::styled(" · environment unchanged", t.muted),
        EnvironmentChange::NonBreaking => Span::styled(
            format!(
                " · environment {} → {} non-breaking",
                sem.old_environment.as_deref().unwrap_or("?"),
                sem.new_environment.as_deref().unwrap_or("?")
            ),
            t.note,
        ),
        EnvironmentChange::Breaking => Span::styled(
            format!(
                " · environment {} → {} BREAKING: full retrain",
                sem.old_environment.as_deref().unwrap_or("?"),
                sem.new_environment.as_deref().unwrap_or("?")
            ),
            t.alert,
        ),
    };
    out.push(Line::from(vec![
        Span::styled(
            format!("{} · ", widgets::plural(sem.changes.len(), "key")),
            t.text,
        ),
        retrain,
        Span::styled(hashes, t.muted),
        env,
    ]));
    let key_w = sem
        .changes
        .iter()
        .map(|c| c.path.len())
        .max()
        .unwrap_or(0)
        .min(w / 3);
    for c in &sem.changes {
        let (mark, style, value) = change_parts(c, t);
        let why = if c.in_training_hash {
            Span::styled("  retrain", t.warn)
        } else if c.path == "environment_version" {
            Span::styled("  environment", t.note)
        } else {
            Span::styled("  no retrain", t.muted)
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::styled(pad(&c.path, key_w), t.text),
            Span::styled(
                fit(&format!("  {value}"), w.saturating_sub(key_w + 16)),
                t.text,
            ),
            why,
        ]));
    }
}

fn segments(segs: &[Segment], base: Style, emph: Style, mut room: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for s in segs {
        let text = s.text.trim_end_matches(['\n', '\r']);
        if room == 0 {
            break;
        }
        let piece = fit(text, room);
        room = room.saturating_sub(unicode_width::UnicodeWidthStr::width(piece.as_str()));
        out.push(Span::styled(piece, if s.emphasized { emph } else { base }));
    }
    out
}

fn number(n: Option<usize>) -> String {
    n.map(|n| format!("{n:>3}")).unwrap_or_else(|| "   ".into())
}

fn unified(t: &Theme, l: &DiffLine, w: usize) -> Line<'static> {
    let (mark, base, emph) = match l.tag {
        LineTag::Equal => (" ", t.text, t.text),
        LineTag::Delete => ("-", t.diff_remove, t.diff_remove_emph),
        LineTag::Insert => ("+", t.diff_add, t.diff_add_emph),
    };
    let mut spans = vec![
        Span::styled(
            format!("{} {} ", number(l.old_no), number(l.new_no)),
            t.muted,
        ),
        Span::styled(mark, base),
    ];
    spans.extend(segments(&l.segments, base, emph, w.saturating_sub(10)));
    Line::from(spans)
}

fn side(t: &Theme, l: Option<&DiffLine>, width: usize, left: bool) -> Vec<Span<'static>> {
    let Some(l) = l else {
        return vec![Span::raw(" ".repeat(width))];
    };
    let (mark, base, emph) = match l.tag {
        LineTag::Equal => (" ", t.text, t.text),
        LineTag::Delete => ("-", t.diff_remove, t.diff_remove_emph),
        LineTag::Insert => ("+", t.diff_add, t.diff_add_emph),
    };
    let no = if left { l.old_no } else { l.new_no };
    let mut spans = vec![
        Span::styled(format!("{} ", number(no)), t.muted),
        Span::styled(mark, base),
    ];
    let room = width.saturating_sub(5);
    let body = segments(&l.segments, base, emph, room);
    let used: usize = body
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
        .sum();
    spans.extend(body);
    spans.push(Span::raw(" ".repeat(room.saturating_sub(used))));
    spans
}

/// A changed key's mark (`+`, `-`, `~`), its style, and its values in words.
pub fn change_parts(c: &Change, t: &Theme) -> (&'static str, Style, String) {
    let (mark, style) = match c.kind {
        ChangeKind::Added => ("+", t.diff_add),
        ChangeKind::Removed => ("-", t.diff_remove),
        ChangeKind::Changed => ("~", t.warn),
    };
    let value = match (&c.old, &c.new) {
        (Some(o), Some(n)) => format!("{o} → {n}"),
        (None, Some(n)) => format!("added: {n}"),
        (Some(o), None) => format!("removed (was {o})"),
        (None, None) => String::new(),
    };
    (mark, style, value)
}
