//! History: every version that ran in Prod (healthy or why not, the one running now, which were
//! rolled back) and the releases that carried this circuit, stage by stage.

use ratatui::text::{Line, Span};

use crate::app::{App, CircuitView};
use crate::domain::Stage;
use crate::domain::Status;
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::platform::EnvironmentStatus;
use crate::domain::rollback::prod_history;
use crate::theme::Theme;
use crate::view::widgets::{self, fit, pad, symbol};

fn stage_status(t: &Theme, s: Option<&EnvironmentStatus>) -> Span<'static> {
    let (text, status) = match s {
        None => ("—".to_owned(), Status::Unknown),
        Some(EnvironmentStatus::Succeeded) => ("✓ done".to_owned(), Status::Ok),
        Some(EnvironmentStatus::PartiallySucceeded) => ("▲ partial".to_owned(), Status::Warn),
        Some(EnvironmentStatus::InProgress | EnvironmentStatus::Queued) => {
            ("⟳ running".to_owned(), Status::Warn)
        }
        Some(EnvironmentStatus::NotStarted | EnvironmentStatus::Scheduled) => {
            ("· waiting".to_owned(), Status::Unknown)
        }
        Some(EnvironmentStatus::Rejected) => ("✖ rejected".to_owned(), Status::Alert),
        Some(EnvironmentStatus::Canceled) => ("✖ canceled".to_owned(), Status::Alert),
        Some(other) => (other.as_str().to_owned(), Status::Unknown),
    };
    let style = if status == Status::Unknown {
        t.muted
    } else {
        t.status(status)
    };
    Span::styled(pad(&text, 11), style)
}

pub fn lines(app: &App, v: &CircuitView, c: &CircuitSnapshot, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = width as usize;
    let Some(snap) = app.snapshot() else {
        return Vec::new();
    };
    // The evidence's history is the same computation; the snapshot's is here at once.
    let history = v
        .evidence
        .value
        .as_ref()
        .map(|e| e.history.clone())
        .unwrap_or_else(|| prod_history(snap, &c.circuit, &app.settings.thresholds));
    let key = app
        .settings
        .keymap
        .key_for(
            &[
                crate::keymap::KeyContext::Circuit,
                crate::keymap::KeyContext::Global,
            ],
            crate::action::Action::Rollback,
        )
        .map(|k| k.to_string())
        .unwrap_or_else(|| "rollback".into());
    let rollback = match crate::model::availability(app, &c.circuit, v.actions.target.as_ref()) {
        Ok(what) => Span::styled(format!("   {key} rolls back {what}"), t.note),
        Err(why) => Span::styled(format!("   {key} rollback: {why}"), t.warn),
    };
    let mut out = vec![Line::from(vec![
        Span::styled("Versions that ran in ", t.header),
        widgets::prod_badge(t),
        Span::styled(" (newest first)", t.header),
        rollback,
    ])];
    out.push(Line::from(Span::styled(
        format!(
            "{} {} {} {} {} {}",
            pad("Version", 9),
            pad("Release", 13),
            pad("Deployed", 9),
            pad("Deploy", 8),
            pad("Tests", 9),
            "Rollback target?"
        ),
        t.header,
    )));
    if history.is_empty() {
        out.push(Line::from(Span::styled(
            "No release has deployed this circuit to Prod.",
            t.muted,
        )));
    }
    for h in &history {
        let running = snap
            .release(h.release_id)
            .and_then(|r| r.stage(Stage::Prod))
            .is_some_and(|s| s.status.is_active());
        let version = format!("v{}{}", h.version, if h.current { " now" } else { "" });
        let verdict = if h.current {
            Span::styled("running now", t.stage_prod)
        } else if running {
            Span::styled(
                "⟳ being deployed to Prod now (rollback in progress)",
                t.note,
            )
        } else if h.healthy() {
            Span::styled("✓ healthy", t.ok)
        } else {
            Span::styled(
                fit(
                    &format!("✖ {}", h.concerns().join("; ")),
                    w.saturating_sub(52),
                ),
                t.warn,
            )
        };
        out.push(Line::from(vec![
            Span::styled(
                pad(&version, 9),
                if h.current { t.stage_prod } else { t.text },
            ),
            Span::styled(
                format!(
                    " {} {} ",
                    pad(&h.release_name, 13),
                    pad(
                        &format!("{} ago", widgets::age_since(app.now, h.deployed_at)),
                        9
                    )
                ),
                t.text,
            ),
            match (running, h.deployed_ok) {
                (true, _) => Span::styled(pad("⟳ now", 8), t.note),
                (false, true) => Span::styled(pad("✓ ok", 8), t.ok),
                (false, false) => Span::styled(pad("✖ failed", 8), t.alert),
            },
            Span::raw(" "),
            Span::styled(
                pad(&format!("{} {}", symbol(h.validation), h.validation), 9),
                t.status(h.validation),
            ),
            Span::raw(" "),
            verdict,
        ]));
    }
    out.push(Line::from(""));
    let releases: Vec<_> = snap.releases_of(&c.circuit).collect();
    out.push(Line::from(Span::styled(
        format!("Releases carrying this circuit ({})", releases.len()),
        t.header,
    )));
    out.push(Line::from(vec![
        Span::styled(
            format!(
                "{} {} {} {} {} {} ",
                pad("Release", 13),
                pad("Version", 8),
                pad("Created", 8),
                pad("By", 15),
                pad("Registry", 11),
                pad("Test", 11)
            ),
            t.header,
        ),
        Span::styled("PROD", t.stage_prod),
    ]));
    for r in releases {
        let st = |s: Stage| r.stage(s).map(|x| &x.status);
        let mut spans = vec![Span::styled(
            format!(
                "{} {} {} {} ",
                pad(&r.name, 13),
                pad(&widgets::version(r.version_for(&c.circuit)), 8),
                pad(&widgets::age_since(app.now, r.created_on), 8),
                pad(r.created_by.name(), 15),
            ),
            t.text,
        )];
        spans.push(stage_status(t, st(Stage::Registry)));
        spans.push(Span::raw(" "));
        spans.push(stage_status(t, st(Stage::Test)));
        spans.push(Span::raw(" "));
        spans.push(stage_status(t, st(Stage::Prod)));
        if let Some(e) = &r.environment_only {
            spans.push(Span::styled(format!(" env-only → {e}"), t.note));
        }
        out.push(Line::from(spans));
    }
    out
}
