//! Drift: every feature and metric against its thresholds, and a chart of the selected series
//! over 30 days with the alert (and warning) threshold as horizontal lines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use crate::app::{App, CircuitView};
use crate::domain::fleet::CircuitSnapshot;
use crate::layout;
use crate::view::table::Columns;
use crate::view::widgets::{self, pad, symbol};

pub fn render(app: &App, v: &CircuitView, c: &CircuitSnapshot, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let th = &app.settings.thresholds;
    let d = &c.drift;
    if d.series.is_empty() {
        let mut lines = vec![Line::from(Span::styled(
            "No drift readings in the last 30 days: drift is unknown, not healthy.",
            t.unknown,
        ))];
        if let Some(u) = c.unknown.first() {
            lines.push(Line::from(Span::styled(format!("? {u}"), t.unknown)));
        }
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let (table, chart) = layout::drift(area, d.series.len());
    let w = table.width as usize;
    let feat_w = d
        .series
        .iter()
        .map(|s| s.feature.len())
        .max()
        .unwrap_or(8)
        .clamp(8, 26)
        .min(w / 3);
    let spark_w = w.saturating_sub(feat_w + 48).min(30);
    let cols = Columns::new(0, w)
        .col("Feature", feat_w)
        .col("Metric", 15)
        .col_right("Latest", 7)
        .col_right("Warn", 6)
        .col_right("Alert", 6)
        .col("Status", 7)
        .gap(2);
    let mut lines = vec![cols.header(t, if spark_w > 0 { "30 days" } else { "" })];
    let page = table.height.saturating_sub(1) as usize;
    let cur = v.drift;
    for (i, s) in crate::view::table::window(&d.series, cur, page) {
        let latest = s.series.latest();
        let (status, _) = match latest {
            Some(x) => s.metric.evaluate(x, th),
            None => (crate::domain::Status::Unknown, 0.0),
        };
        let (warn, alert) = s.metric.limits(th);
        let cmp = if s.metric.lower_is_worse() { "<" } else { ">" };
        let base = if i == cur.selected {
            t.selection
        } else {
            ratatui::style::Style::new()
        };
        let latest = latest
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "—".into());
        let warn = warn
            .map(|x| format!("{cmp}{x}"))
            .unwrap_or_else(|| "—".into());
        let row = t.text.patch(base);
        let mut spans = cols.cells([
            (s.feature.clone(), row),
            (s.metric.as_str().to_owned(), row),
            (latest, row),
            (warn, row),
            (format!("{cmp}{alert}"), row),
        ]);
        // The status cell without its trailing gap: the sparkline brings its own.
        spans.push(Span::styled(
            pad(&format!("{} {}", symbol(status), status.as_str()), 7),
            t.status(status).patch(base),
        ));
        if spark_w > 0 {
            spans.push(Span::styled(
                format!(
                    "  {}",
                    widgets::sparkline(&s.series.values, spark_w, Some(alert))
                ),
                t.status(status),
            ));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), table);
    let Some(sel) = d.series.get(cur.selected) else {
        return;
    };
    let points: Vec<(f64, f64)> = sel
        .series
        .values
        .iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .map(|(x, y)| (x as f64, *y))
        .collect();
    let n = sel.series.values.len().max(2) as f64 - 1.0;
    let (warn, alert) = sel.metric.limits(th);
    let top = points
        .iter()
        .map(|p| p.1)
        .fold(alert, f64::max)
        .max(warn.unwrap_or(0.0))
        * 1.15;
    let alert_line = [(0.0, alert), (n, alert)];
    let warn_line = warn.map(|w| [(0.0, w), (n, w)]);
    let mut sets = vec![
        Dataset::default()
            .name(format!("{} {}", sel.feature, sel.metric.short()))
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_series)
            .data(&points),
        Dataset::default()
            .name(format!("alert {alert}"))
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart_threshold)
            .data(&alert_line),
    ];
    if let Some(wl) = &warn_line {
        sets.push(
            Dataset::default()
                .name(format!("warn {}", warn.unwrap_or_default()))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(t.chart_warn)
                .data(wl),
        );
    }
    let days = sel.series.values.len();
    let limits = match warn {
        Some(w) => format!("warn {w} · alert {alert}"),
        None => format!("alert {alert}"),
    };
    let title = Line::from(vec![
        Span::styled(
            format!("{} · {}", sel.feature, sel.metric.as_str()),
            t.title,
        ),
        Span::styled(
            // A snapshot from the cache keeps only the worst series' history.
            if days < 2 && d.history_trimmed() {
                " · the 30-day history comes with the refresh · ".to_owned()
            } else {
                format!(" · last {days} days · ")
            },
            t.muted,
        ),
        Span::styled(limits, t.chart_threshold),
        Span::styled(
            if sel.metric.lower_is_worse() {
                " (lower is worse)"
            } else {
                ""
            },
            t.muted,
        ),
    ]);
    if chart.height < 4 {
        return;
    }
    let [title_area, plot] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Min(0),
    ])
    .areas(chart);
    frame.render_widget(Paragraph::new(title), title_area);
    let x_labels = vec![
        Span::styled(format!("{}d ago", days.saturating_sub(1)), t.muted),
        Span::styled("today", t.muted),
    ];
    let y_labels = vec![
        Span::styled("0", t.muted),
        Span::styled(format!("{top:.2}"), t.muted),
    ];
    let widget = Chart::new(sets)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([0.0, n])
                .labels(x_labels)
                .style(t.muted),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top.max(0.01)])
                .labels(y_labels)
                .style(t.muted),
        );
    frame.render_widget(widget, plot);
}
