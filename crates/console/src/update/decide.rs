//! Approving and rejecting: the comment box for one approval (from the approvals list, the
//! circuit view or the environment matrix) and the answers coming back, to the box or to the
//! bulk table (`bulk.rs`). Policy is asked before anything is sent: a refused decision is
//! explained and never emitted; the service checks again when it runs.

use crate::action::{Action, ApprovalKey, Effect, Slot};
use crate::app::{App, NoteLevel, Origin, Overlay, Route};
use crate::approvals_model::ApprovalRow;
use crate::domain::policy::PolicyCheck;
use crate::flows::{BulkPhase, BulkResult, DecideForm, Field};
use crate::keymap::KeyContext;
use crate::service::decide::{DecisionOutcome, DecisionRequest, Verdict};

pub(super) fn row(app: &App, key: ApprovalKey) -> Option<&ApprovalRow> {
    app.approvals.rows.iter().find(|r| r.key == key)
}

/// Why nothing may be decided on the data on screen right now, if so.
pub(super) fn data_problem(app: &App) -> Option<String> {
    if app.data.snapshot.is_none() {
        return Some("no fleet data yet".into());
    }
    (app.data.origin == Origin::Cache).then(|| {
        "the data on screen is from an earlier run's cache: wait for the refresh (r) before \
         deciding"
            .into()
    })
}

/// Open the comment box for `keys` (the first one shown).
pub fn open_box(app: &mut App, verdict: Verdict, keys: Vec<ApprovalKey>) -> Vec<Effect> {
    if keys.is_empty() {
        app.set_note(NoteLevel::Info, "nothing is waiting for approval here");
        return Vec::new();
    }
    if super::bulk::still_sending(app) {
        return Vec::new();
    }
    app.overlay = Some(Overlay::Decide(DecideForm::new(verdict, keys)));
    Vec::new()
}

/// `a` / `x` in the approvals list: the marked items go to the review table, else the
/// selected one gets the comment box.
pub fn from_approvals(app: &mut App, verdict: Verdict) -> Vec<Effect> {
    if !app.approvals.marks.is_empty() {
        return super::bulk::open_bulk(app, verdict);
    }
    let keys = app
        .approvals
        .selected()
        .map(|r| r.key)
        .into_iter()
        .collect();
    open_box(app, verdict, keys)
}

/// `a` / `x` in the circuit view: every pending approval of the circuit, Prod first.
pub fn from_circuit(app: &mut App, verdict: Verdict) -> Vec<Effect> {
    let (Some(snap), Some(circuit)) = (
        app.data.snapshot.clone(),
        app.circuit_view().map(|v| v.circuit.clone()),
    ) else {
        return Vec::new();
    };
    let mut keys: Vec<ApprovalKey> = app
        .approvals
        .rows
        .iter()
        .filter(|r| {
            r.item(&snap)
                .is_some_and(|i| i.circuits().any(|c| *c == circuit))
        })
        .map(|r| r.key)
        .collect();
    keys.sort_by(|a, b| b.stage.cmp(&a.stage).then(b.release_id.cmp(&a.release_id)));
    if keys.is_empty() {
        app.set_note(
            NoteLevel::Info,
            format!("{circuit} has no pending approval"),
        );
        return Vec::new();
    }
    open_box(app, verdict, keys)
}

/// The comment box has the keys.
pub fn on_box(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(form) = app.decide_form_mut() else {
        return Vec::new();
    };
    if form.field_mut().edit(action) {
        form.problem = None;
        return Vec::new();
    }
    match action {
        Action::Back => app.close_decide_form(),
        Action::ForceQuit => return super::quit(app),
        Action::NextField if form.override_gate => {
            form.field = match form.field {
                Field::Main => Field::Reason,
                Field::Reason => Field::Main,
            };
        }
        Action::NextApproval if form.keys.len() > 1 => {
            form.index = (form.index + 1) % form.keys.len();
            form.override_gate = false;
            form.field = Field::Main;
            form.problem = None;
        }
        Action::ToggleOverride => toggle_override(app),
        Action::Accept => return submit(app),
        _ => {}
    }
    Vec::new()
}

fn toggle_override(app: &mut App) {
    let Some(form) = app.decide_form() else {
        return;
    };
    let check = form
        .key()
        .and_then(|k| row(app, k))
        .and_then(|r| r.check(form.verdict));
    let overridable =
        form.verdict == Verdict::Approve && check.as_ref().is_some_and(PolicyCheck::needs_override);
    let Some(form) = app.decide_form_mut() else {
        return;
    };
    if !overridable {
        form.problem = Some(match check {
            Some(c) if c.allowed() => "nothing to override: policy allows this as it is".into(),
            Some(_) => {
                "only a failing test gate can be overridden; the other refusals stand".into()
            }
            None => "relcon does not know who you are: policy cannot be checked".into(),
        });
        return;
    }
    form.override_gate = !form.override_gate;
    form.field = if form.override_gate {
        Field::Reason
    } else {
        Field::Main
    };
    form.problem = None;
}

/// Enter in the comment box: send, or say why not.
fn submit(app: &mut App) -> Vec<Effect> {
    let problem = |app: &mut App, text: String| {
        if let Some(f) = app.decide_form_mut() {
            f.problem = Some(text);
        }
        Vec::new()
    };
    let Some(form) = app.decide_form().cloned() else {
        return Vec::new();
    };
    if let Some(p) = data_problem(app) {
        return problem(app, p);
    }
    let Some(key) = form.key() else {
        return Vec::new();
    };
    let (Some(r), Some(snap)) = (row(app, key), app.data.snapshot.clone()) else {
        return problem(
            app,
            "no longer pending: someone decided meanwhile (the list shows what is left)".into(),
        );
    };
    let Some(check) = r.check(form.verdict) else {
        return problem(
            app,
            "relcon does not know who you are, so policy cannot be checked: nothing is sent".into(),
        );
    };
    let break_glass = !check.allowed() && check.needs_override() && form.override_gate;
    if !check.allowed() && !break_glass {
        let text = if check.needs_override() && form.verdict == Verdict::Approve {
            let k = app
                .settings
                .keymap
                .key_for(&[KeyContext::Decide], Action::ToggleOverride)
                .map(|k| k.to_string())
                .unwrap_or_else(|| "toggle-override".into());
            format!(
                "not sent: the test gate has not passed. {k} overrides it (break-glass, \
                 with a reason, recorded) — or reject instead"
            )
        } else {
            format!("refused, nothing sent: {}", check.reasons().join("; "))
        };
        return problem(app, text);
    }
    if break_glass && !form.reason.filled() {
        return problem(
            app,
            "a break-glass override needs a reason (Tab to the reason field)".into(),
        );
    }
    if !form.comment.filled() {
        return problem(app, "a comment is required: say why".into());
    }
    let Some(approval_id) = r.item(&snap).and_then(|i| i.pending_ids.first().cloned()) else {
        return problem(app, "nothing is pending on this stage any more".into());
    };
    let generation = app.gens.next(Slot::Decide);
    if let Some(f) = app.decide_form_mut() {
        f.sending = Some(generation);
        f.problem = None;
    }
    vec![Effect::Decide {
        generation,
        items: vec![(
            key,
            DecisionRequest {
                approval_id,
                verdict: form.verdict,
                comment: form.comment.value(),
                override_reason: break_glass.then(|| form.reason.value()),
            },
        )],
        snapshot: snap,
    }]
}

/// A decision came back.
pub fn on_decision(
    app: &mut App,
    generation: u64,
    key: ApprovalKey,
    outcome: DecisionOutcome,
) -> Vec<Effect> {
    if !app.gens.is_current(Slot::Decide, generation) {
        return Vec::new();
    }
    let done = matches!(outcome, DecisionOutcome::Done { .. });
    let release = row(app, key)
        .and_then(|r| app.snapshot().and_then(|s| r.item(s)))
        .map(|i| i.release_name.clone())
        .unwrap_or_else(|| format!("release {}", key.release_id));
    // The comment box waiting for it.
    if let Some(Overlay::Decide(form)) = &mut app.overlay
        && form.sending == Some(generation)
    {
        app.gens.finish(Slot::Decide);
        if done {
            let verdict = form.verdict;
            app.close_decide_form();
            app.approvals.marks.remove(&key);
            app.set_note(NoteLevel::Info, done_note(verdict, &release, key, &outcome));
            return super::data::request_refresh(app);
        }
        form.sending = None;
        form.problem = Some(outcome_text(&outcome));
        return Vec::new();
    }
    // A row of the bulk table.
    if let Some(b) = app.bulk_mut()
        && b.generation == Some(generation)
    {
        if let Some(r) = b.rows.iter_mut().find(|r| r.key == key) {
            r.result = Some(BulkResult::Outcome(outcome));
        }
        if b.waiting() > 0 {
            return Vec::new();
        }
        b.phase = BulkPhase::Results;
        let any_done = b.rows.iter().any(|r| {
            matches!(
                r.result,
                Some(BulkResult::Outcome(DecisionOutcome::Done { .. }))
            )
        });
        let summary = b.summary();
        app.gens.finish(Slot::Decide);
        if !matches!(app.route(), Route::Bulk(_)) {
            app.set_note(NoteLevel::Info, summary);
        }
        return if any_done {
            super::data::request_refresh(app)
        } else {
            Vec::new()
        };
    }
    // The box was closed meanwhile: say what happened.
    app.gens.finish(Slot::Decide);
    app.set_note(
        if done {
            NoteLevel::Info
        } else {
            NoteLevel::Warning
        },
        outcome.describe(),
    );
    if done {
        super::data::request_refresh(app)
    } else {
        Vec::new()
    }
}

fn done_note(verdict: Verdict, release: &str, key: ApprovalKey, o: &DecisionOutcome) -> String {
    let DecisionOutcome::Done {
        approved,
        required,
        break_glass,
        ..
    } = o
    else {
        return o.describe();
    };
    let glass = if *break_glass {
        " · break-glass: test gate overridden (recorded)"
    } else {
        ""
    };
    match verdict {
        Verdict::Approve if *approved as u32 >= *required => format!(
            "✓ approved {release} → {}: {approved} of {required} approvals, the stage deploys now{glass}",
            key.stage
        ),
        Verdict::Approve => format!(
            "✓ approved {release} → {}: {approved} of {required} approvals, {} more needed{glass}",
            key.stage,
            required.saturating_sub(*approved as u32)
        ),
        Verdict::Reject => format!("✓ rejected {release} → {}: the stage stops", key.stage),
    }
}

/// One line for a decision that was not done.
pub fn outcome_text(o: &DecisionOutcome) -> String {
    match o {
        DecisionOutcome::Done {
            approved, required, ..
        } => format!("✓ done: {approved} of {required} approvals"),
        DecisionOutcome::Refused { .. } => format!("✖ {}", o.refusal().unwrap_or_default()),
        DecisionOutcome::Conflict { message, .. } => format!("⚠ conflict: {message}"),
        DecisionOutcome::Failed { message, .. } => format!("✖ failed: {message}"),
    }
}
