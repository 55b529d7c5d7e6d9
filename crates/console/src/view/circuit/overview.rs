//! Overview: the lineage chain of the model in Prod (config commit -> training hash -> model
//! version -> deployments), the recomputed hash against the tag with a mismatch spelled out, the
//! stages with their deployments, the candidate's lineage and production accuracy.

use ratatui::text::{Line, Span};

use crate::app::{App, CircuitView};
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::{Stage, Status};
use crate::view::widgets::{self, fit, pad, symbol};

pub fn lines(app: &App, v: &CircuitView, c: &CircuitSnapshot, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = width as usize;
    let mut out = Vec::new();
    out.push(Line::from(vec![
        Span::styled("Lineage of the model in ", t.header),
        widgets::prod_badge(t),
    ]));
    let l = &c.lineage;
    let commit = l.commit.as_deref().map(widgets::short).unwrap_or("unknown");
    let path = v
        .comparison()
        .map(|cmp| cmp.old.path.clone())
        .unwrap_or_default();
    let hash = |h: &Option<crate::domain::hash::TrainingHash>| {
        h.as_ref()
            .map(|h| h.as_str().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    out.push(Line::from(vec![
        Span::styled("  config commit      ", t.muted),
        Span::styled(commit.to_owned(), t.text),
        Span::styled(fit(&format!("  {path}"), w.saturating_sub(29)), t.muted),
    ]));
    out.push(Line::from(vec![
        Span::styled("    ↓ recomputed     ", t.muted),
        Span::styled(hash(&l.config), t.text),
        Span::styled("  training hash of that config", t.muted),
    ]));
    let (mark, status) = match l.matches {
        Some(true) => ("✓ matches the tag", Status::Ok),
        Some(false) => ("✖ MISMATCH", Status::Alert),
        None => ("? cannot be checked", Status::Unknown),
    };
    out.push(Line::from(vec![
        Span::styled("    ↓ model ", t.muted),
        Span::styled(pad(&widgets::version(c.versions.prod), 9), t.stage_prod),
        Span::styled(hash(&l.prod), t.text),
        Span::styled("  tag  ", t.muted),
        Span::styled(mark, t.status(status)),
    ]));
    let mut deployed = vec![Span::styled("    ↓ deployed       ", t.muted)];
    for s in Stage::ALL {
        deployed.push(widgets::stage_label(t, s));
        deployed.push(Span::raw(" "));
        deployed.push(widgets::stage_version(t, s, c.versions.get(s)));
        deployed.push(Span::raw("   "));
    }
    out.push(Line::from(deployed));
    match l.matches {
        Some(false) => {
            let text = format!(
                "The model in Prod carries training hash {} but its config at commit {commit} \
                 hashes to {}: it was not trained from that config. Do not promote or roll \
                 back to it without finding the config it came from.",
                hash(&l.prod),
                hash(&l.config)
            );
            for chunk in widgets::wrap(&text, w.saturating_sub(4)) {
                out.push(Line::from(Span::styled(format!("  {chunk}"), t.alert)));
            }
        }
        None => out.push(Line::from(Span::styled(
            "  The hash could not be checked: the tag or the config at its commit is missing.",
            t.unknown,
        ))),
        Some(true) => {}
    }
    out.push(Line::from(""));
    // Stages and their deployments.
    out.push(Line::from(Span::styled(
        "Stage       Model  Env     State       Deployment",
        t.header,
    )));
    let ev = v.evidence.value.as_deref();
    for s in Stage::ALL {
        let env = match s {
            Stage::Test => c.environment.test.clone(),
            Stage::Prod => c.environment.prod.clone(),
            _ => None,
        };
        let dep = ev.and_then(|e| e.deployments.iter().find(|d| d.stage == s));
        let (name, state) = match (s, dep, v.evidence.loading) {
            (Stage::Dev, _, _) => ("Dev workspace".to_owned(), String::new()),
            (Stage::Registry, _, _) => ("shared registry".to_owned(), String::new()),
            (_, Some(d), _) => (
                format!("{}/{}", d.endpoint, d.name),
                provisioning(&d.provisioning),
            ),
            (_, None, true) => ("loading…".to_owned(), String::new()),
            (_, None, false) => ("not deployed".to_owned(), String::new()),
        };
        let label = match s {
            Stage::Prod => vec![Span::styled(" PROD ", t.prod), Span::raw("      ")],
            other => vec![Span::styled(pad(&other.to_string(), 12), t.stage(other))],
        };
        let mut line = label;
        line.extend(vec![
            Span::styled(pad(&widgets::version(c.versions.get(s)), 7), t.stage(s)),
            Span::styled(pad(env.as_deref().unwrap_or(""), 8), t.text),
            Span::styled(pad(&state, 12), t.text),
            Span::styled(fit(&name, w.saturating_sub(39)), t.muted),
        ]);
        out.push(Line::from(line));
    }
    out.push(Line::from(""));
    // The candidate's lineage, from the evidence.
    if let Some(cmp) = v.comparison() {
        let n = &cmp.new;
        let (m, s) = match n.lineage_ok() {
            Some(true) => ("✓ tag matches its config", Status::Ok),
            Some(false) => ("✖ tag does not match its config", Status::Alert),
            None => ("? cannot be checked", Status::Unknown),
        };
        out.push(Line::from(vec![
            Span::styled("Candidate ", t.header),
            Span::styled(format!("v{}", n.version), t.stage_test),
            Span::styled(
                format!(
                    "  commit {}  hash {}  ",
                    n.commit.as_deref().map(widgets::short).unwrap_or("unknown"),
                    n.recomputed
                        .as_ref()
                        .map(|h| h.as_str().to_owned())
                        .unwrap_or_else(|| "unknown".into())
                ),
                t.muted,
            ),
            Span::styled(m, t.status(s)),
        ]));
    } else if v.evidence.loading {
        out.push(Line::from(Span::styled("Candidate: loading…", t.muted)));
    } else {
        out.push(Line::from(Span::styled(
            "No candidate: no stage runs a newer version than Prod",
            t.muted,
        )));
    }
    let a = &c.accuracy;
    out.push(Line::from(vec![
        Span::styled("Accuracy in Prod  ", t.header),
        Span::styled(
            match a.latest {
                Some(m) => format!("MAE {m:.3} "),
                None => "MAE unknown ".into(),
            },
            t.text,
        ),
        Span::styled(symbol(a.status), t.status(a.status)),
        Span::styled(
            format!("  (alert above {})", app.settings.thresholds.mae_alert),
            t.muted,
        ),
    ]));
    for u in &c.unknown {
        out.push(Line::from(Span::styled(
            fit(&format!("? could not read: {u}"), w),
            t.unknown,
        )));
    }
    if let Some(e) = ev {
        for err in &e.errors {
            out.push(Line::from(Span::styled(
                fit(&format!("✖ {err}"), w),
                t.error,
            )));
        }
    }
    out
}

fn provisioning(p: &crate::domain::platform::ProvisioningState) -> String {
    use crate::domain::platform::ProvisioningState as P;
    match p {
        P::Creating => "creating",
        P::Updating => "updating",
        P::Deleting => "deleting",
        P::Succeeded => "succeeded",
        P::Failed => "FAILED",
        P::Canceled => "canceled",
        P::Other(s) => s.as_str(),
    }
    .to_owned()
}
