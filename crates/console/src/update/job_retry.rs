//! Retrying a failed scoring job from the circuit's Jobs tab (`t`): the newest failed job
//! (Prod first, else Test) in a confirmation box (Prod: type the circuit, as for a rollback;
//! Test: Enter), sent once through the service (policy, the job re-read, journal and audit
//! first), then followed: each read of the new job updates the box and its row in the tab,
//! and the end is a note, the journal's operations and a refresh.

use crate::action::{Action, Effect};
use crate::app::{App, NoteLevel, Origin, Overlay, Route, Tab};
use crate::domain::Stage;
use crate::domain::incidents::{JobOutcome, JobStatus, ScoringJob};
use crate::flows::{RetryBox, TextField};
use crate::service::job_retry::{JobRetryOutcome, JobRetryRequest, RetryBrief};

/// The job `t` retries: the newest Prod job when it failed, else the newest Test job when it
/// failed; or why there is none.
fn failed_job(app: &App) -> Result<(Stage, ScoringJob), String> {
    let Some(v) = app.circuit_view() else {
        return Err("open a circuit's Jobs tab to retry its failed job".into());
    };
    let Some(jobs) = v.jobs.value.as_deref() else {
        return Err(if v.jobs.loading {
            "the scoring jobs are still loading".into()
        } else {
            "the scoring jobs could not be read: nothing to retry from".into()
        });
    };
    for (stage, list) in [(Stage::Prod, &jobs.prod), (Stage::Test, &jobs.test)] {
        if let Some(j) = list.first()
            && j.status.outcome() == JobOutcome::Failed
        {
            return Ok((stage, j.clone()));
        }
    }
    Err(format!(
        "no failed job to retry: the newest Prod run is {}",
        jobs.prod
            .first()
            .map(|j| j.status.as_str().to_owned())
            .unwrap_or_else(|| "not listed".into())
    ))
}

/// `t`: the confirmation box for the newest failed job. Policy (read-only) is asked here so
/// that nothing is typed for a retry that cannot be sent; the service asks again.
pub fn open(app: &mut App) -> Vec<Effect> {
    let check = app.settings.policy.check_mutation();
    if !check.allowed() {
        app.set_note(
            NoteLevel::Warning,
            format!("no retry: {}", check.reasons().join("; ")),
        );
        return Vec::new();
    }
    if app.data.origin == Origin::Cache {
        app.set_note(
            NoteLevel::Warning,
            "the data on screen is from an earlier run's cache: wait for the refresh (r)",
        );
        return Vec::new();
    }
    let (stage, job) = match failed_job(app) {
        Ok(x) => x,
        Err(why) => {
            app.set_note(NoteLevel::Info, why);
            return Vec::new();
        }
    };
    let Some(circuit) = app.circuit_view().map(|v| v.circuit.clone()) else {
        return Vec::new();
    };
    app.overlay = Some(Overlay::JobRetry(Box::new(RetryBox {
        circuit,
        stage,
        job: job.name,
        status: job.status.as_str().to_owned(),
        error: job.error,
        confirm: TextField::default(),
        sending: false,
        progress: None,
    })));
    Vec::new()
}

/// The box's keys before it sends: type the circuit (Prod), Enter sends, Esc cancels (nothing
/// sent). Once sent, `update::on_sent_box` has the keys.
pub fn on_box(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(b) = app.retry_box_mut() else {
        return Vec::new();
    };
    if b.needs_typing() && b.confirm.edit(action) {
        return Vec::new();
    }
    match action {
        Action::Back => app.close_retry_box(),
        Action::ForceQuit => return super::quit(app),
        Action::Accept if b.confirmed() => {
            b.sending = true;
            return vec![Effect::RetryJob {
                request: JobRetryRequest {
                    circuit: b.circuit.clone(),
                    stage: b.stage,
                    job: b.job.clone(),
                    reason: None,
                },
            }];
        }
        Action::Accept => {
            let want = b.circuit.to_string();
            app.set_note(
                NoteLevel::Warning,
                format!("type {want} to start a Prod scoring job"),
            );
        }
        _ => {}
    }
    Vec::new()
}

/// Put what was read of the new job in its row of the circuit's Jobs tab (on top when it is
/// not listed yet).
fn show_in_rows(app: &mut App, b: &RetryBrief) {
    if b.job.is_empty() {
        return;
    }
    for r in app.routes.iter_mut() {
        let Route::Circuit(v) = r else { continue };
        if v.circuit.to_string() != b.circuit {
            continue;
        }
        let Some(jobs) = v.jobs.value.as_deref_mut() else {
            continue;
        };
        let (stage, list) = if b.stage.eq_ignore_ascii_case("test") {
            (Stage::Test, &mut jobs.test)
        } else {
            (Stage::Prod, &mut jobs.prod)
        };
        let status = JobStatus::parse(&b.status);
        match list.iter_mut().find(|j| j.name == b.job) {
            Some(j) => {
                j.status = status;
                j.submitted_at = b.submitted_at.or(j.submitted_at);
                j.started_at = b.started_at.or(j.started_at);
                j.ended_at = b.ended_at.or(j.ended_at);
                j.error.clone_from(&b.error);
            }
            None => {
                let (endpoint, deployment) = list
                    .first()
                    .map(|j| (j.endpoint.clone(), j.deployment.clone()))
                    .unwrap_or_default();
                list.insert(
                    0,
                    ScoringJob {
                        name: b.job.clone(),
                        stage,
                        endpoint,
                        deployment,
                        status,
                        submitted_at: b.submitted_at,
                        started_at: b.started_at,
                        ended_at: b.ended_at,
                        error: b.error.clone(),
                        error_code: None,
                        studio_url: None,
                    },
                );
            }
        }
        if v.tab == Tab::Jobs {
            v.scroll = 0;
        }
    }
}

/// A read of the new job: the box and the row follow it.
pub fn on_progress(app: &mut App, brief: RetryBrief) -> Vec<Effect> {
    show_in_rows(app, &brief);
    if let Some(b) = app.retry_box_mut()
        && b.sending
        && b.job == brief.from_job
    {
        b.progress = Some(brief);
    }
    Vec::new()
}

/// The retry ended (or relcon stopped following it): say how, keep the row, and read the
/// operations and the fleet again.
pub fn on_retried(app: &mut App, outcome: JobRetryOutcome) -> Vec<Effect> {
    if let Some(b) = outcome.retry() {
        show_in_rows(app, b);
    }
    let level = match outcome.exit_code() {
        0 => NoteLevel::Info,
        1 | 3 => NoteLevel::Warning,
        _ => NoteLevel::Error,
    };
    app.close_retry_box();
    app.set_note(level, outcome.describe());
    let mut effects = super::ops::load(app);
    effects.extend(super::data::request_refresh(app));
    effects
}
