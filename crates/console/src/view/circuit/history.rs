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
use crate::view::table::Columns;
use crate::view::widgets::{self, fit, pad, symbol};

fn stage_status(t: &Theme, s: Option<&EnvironmentStatus>) -> (String, ratatui::style::Style) {
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
    (text, style)
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
    let versions = Columns::new(0, w)
        .col("Version", 9)
        .col("Release", 13)
        .col("Deployed", 9)
        .col("Deploy", 8)
        .col("Tests", 9);
    out.push(versions.header(t, "Rollback target?"));
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
                fit(&format!("✖ {}", h.concerns().join("; ")), versions.rest()),
                t.warn,
            )
        };
        let (deploy, deploy_style) = match (running, h.deployed_ok) {
            (true, _) => ("⟳ now", t.note),
            (false, true) => ("✓ ok", t.ok),
            (false, false) => ("✖ failed", t.alert),
        };
        let mut spans = versions.cells([
            (version, if h.current { t.stage_prod } else { t.text }),
            (h.release_name.clone(), t.text),
            (
                format!("{} ago", widgets::age_since(app.now, h.deployed_at)),
                t.text,
            ),
            (deploy.to_owned(), deploy_style),
            (
                format!("{} {}", symbol(h.validation), h.validation),
                t.status(h.validation),
            ),
        ]);
        spans.push(verdict);
        out.push(Line::from(spans));
    }
    out.push(Line::from(""));
    let releases: Vec<_> = snap.releases_of(&c.circuit).collect();
    out.push(Line::from(Span::styled(
        format!("Releases carrying this circuit ({})", releases.len()),
        t.header,
    )));
    let carried = Columns::new(0, w)
        .col("Release", 13)
        .col("Version", 8)
        .col("Created", 8)
        .col("By", 15)
        .col("Registry", 11)
        .col("Test", 11);
    out.push(carried.header_with(t, Span::styled("PROD", t.stage_prod)));
    for r in releases {
        let st = |s: Stage| r.stage(s).map(|x| &x.status);
        let prod = stage_status(t, st(Stage::Prod));
        let mut spans = carried.cells([
            (r.name.clone(), t.text),
            (widgets::version(r.version_for(&c.circuit)), t.text),
            (widgets::age_since(app.now, r.created_on), t.text),
            (r.created_by.name().to_owned(), t.text),
            stage_status(t, st(Stage::Registry)),
            stage_status(t, st(Stage::Test)),
        ]);
        spans.push(Span::styled(pad(&prod.0, 11), prod.1));
        if let Some(e) = &r.environment_only {
            spans.push(Span::styled(format!(" env-only → {e}"), t.note));
        }
        out.push(Line::from(spans));
    }
    out
}
