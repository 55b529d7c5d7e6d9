//! Acknowledging, closing or reopening an Azure Monitor alert (`Alerts_ChangeState`), a
//! mutation like an approval: policy first (read-only refuses); the alert re-read right before
//! (already in the state asked: nothing is sent; acknowledging a closed alert is a conflict);
//! journaled and on the audit log before the POST, sent once under the operation's send claim;
//! an ambiguous failure re-reads the alert before anything else; the result re-read and shown.
//! A stop between the journal and the answer is settled by `rollback::track` as for any
//! operation: the alert is re-read, never changed twice.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backend::{Backend, BackendError, ErrorKind};
use super::journal::{OpKind, OpState, Operation};
use super::op_audit;
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::CircuitRef;
use crate::domain::incidents::{AlertRecord, AlertState};
use crate::domain::platform::IdentityRef;

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertChangeRequest {
    /// The alert's ARM id, its GUID, or a prefix of the GUID that names one fired alert.
    pub alert: String,
    pub to: AlertState,
    /// Kept with the alert's history in Azure Monitor and on the audit log.
    pub comment: Option<String>,
}

/// The alert as the outcome shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertBrief {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub state: String,
    pub monitor_condition: String,
    pub circuit: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub modified_by: Option<String>,
}

impl AlertBrief {
    pub fn of(a: &AlertRecord, circuit: Option<&CircuitRef>) -> AlertBrief {
        AlertBrief {
            id: a.id.clone(),
            rule: a.rule_name().to_owned(),
            severity: a.severity.as_str().to_owned(),
            state: a.state.as_str().to_owned(),
            monitor_condition: a.condition.as_str().to_owned(),
            circuit: circuit.map(ToString::to_string),
            modified_at: a.modified_at,
            modified_by: a.modified_by.clone(),
        }
    }
}

/// How a change ended. Exit codes as every mutation: done or nothing to do 0, refused 1,
/// no such alert 2, conflict 3, failed (or cannot tell) 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AlertChangeOutcome {
    /// Changed, and the re-read shows the new state.
    Done {
        alert: AlertBrief,
        operation: String,
        request_id: Option<String>,
        /// The comment could not go with the change (see docs/AZURE.md); it is in relcon's
        /// journal and audit log only.
        comment_kept_locally: bool,
    },
    /// Already in the state asked: nothing was sent.
    Unchanged { alert: AlertBrief, message: String },
    Refused {
        alert: String,
        reasons: Vec<String>,
        /// `policy` (nothing sent) or `azure` (Azure Monitor said no).
        refused_by: String,
        request_id: Option<String>,
    },
    /// Someone else moved it where the change makes no sense (closed before an acknowledge).
    Conflict { alert: AlertBrief, message: String },
    /// The id names no alert, or more than one: nothing was sent.
    Invalid { alert: String, message: String },
    Failed {
        alert: String,
        message: String,
        /// The journaled operation, when one was (`relcon ops` follows it).
        operation: Option<String>,
        request_id: Option<String>,
    },
}

impl AlertChangeOutcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            AlertChangeOutcome::Done { .. } | AlertChangeOutcome::Unchanged { .. } => 0,
            AlertChangeOutcome::Refused { .. } => 1,
            AlertChangeOutcome::Invalid { .. } => 2,
            AlertChangeOutcome::Conflict { .. } => 3,
            AlertChangeOutcome::Failed { .. } => 4,
        }
    }

    /// The ARM id of the alert this outcome is about (as given, when it named none).
    pub fn alert_id(&self) -> &str {
        match self {
            AlertChangeOutcome::Done { alert, .. }
            | AlertChangeOutcome::Unchanged { alert, .. }
            | AlertChangeOutcome::Conflict { alert, .. } => &alert.id,
            AlertChangeOutcome::Refused { alert, .. }
            | AlertChangeOutcome::Invalid { alert, .. }
            | AlertChangeOutcome::Failed { alert, .. } => alert,
        }
    }

    /// The alert as it stands after the change (what the console puts in the row).
    pub fn alert(&self) -> Option<&AlertBrief> {
        match self {
            AlertChangeOutcome::Done { alert, .. }
            | AlertChangeOutcome::Unchanged { alert, .. }
            | AlertChangeOutcome::Conflict { alert, .. } => Some(alert),
            _ => None,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            AlertChangeOutcome::Done {
                alert,
                comment_kept_locally,
                ..
            } => format!(
                "alert {} ({}{}): now {}{}",
                alert.rule,
                alert.severity,
                alert
                    .circuit
                    .as_ref()
                    .map(|c| format!(" on {c}"))
                    .unwrap_or_default(),
                alert.state,
                if *comment_kept_locally {
                    " (Azure Monitor refused the comment: it is on relcon's audit log only)"
                } else {
                    ""
                }
            ),
            AlertChangeOutcome::Unchanged { alert, message }
            | AlertChangeOutcome::Conflict { alert, message } => {
                format!("alert {}: {message}", alert.rule)
            }
            AlertChangeOutcome::Refused {
                alert,
                reasons,
                refused_by,
                ..
            } => format!(
                "alert {}: refused by {}: {}",
                short(alert),
                if refused_by == "policy" {
                    "policy"
                } else {
                    "Azure Monitor"
                },
                reasons.join("; ")
            ),
            AlertChangeOutcome::Invalid { alert, message } => {
                format!("alert {}: {message}", short(alert))
            }
            AlertChangeOutcome::Failed { alert, message, .. } => {
                format!("alert {}: failed: {message}", short(alert))
            }
        }
    }
}

fn short(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// The verb of a change, for people: acknowledge, close, reopen.
pub fn verb(to: AlertState) -> &'static str {
    match to {
        AlertState::Acknowledged => "acknowledge",
        AlertState::Closed => "close",
        _ => "reopen",
    }
}

fn past(s: AlertState) -> String {
    s.as_str().to_ascii_lowercase()
}

/// Why an alert id could not be read: it names none (or several), which is the caller's to
/// fix (exit 2), or the service could not be read (exit 4).
#[derive(Debug, thiserror::Error)]
enum Lookup {
    #[error(
        "{0:?} is too short to name an alert: give its id (relcon alerts), at least 4 characters"
    )]
    TooShort(String),
    #[error("{0} names more than one alert: give more of its id")]
    Ambiguous(String),
    #[error("no fired alert's id starts with {0}")]
    NoMatch(String),
    #[error("no such alert: {0}")]
    NotFound(BackendError),
    #[error("cannot read the alert: {0}")]
    Read(BackendError),
}

impl From<BackendError> for Lookup {
    fn from(e: BackendError) -> Lookup {
        if e.kind == ErrorKind::NotFound {
            Lookup::NotFound(e)
        } else {
            Lookup::Read(e)
        }
    }
}

/// The alert `id` names: an ARM id or a whole GUID is read directly; a shorter text is a
/// prefix of the GUID of exactly one alert of the subscription's fired ones.
async fn resolve(backend: &dyn Backend, id: &str) -> Result<AlertRecord, Lookup> {
    let id = id.trim();
    if id.contains('/') || id.len() >= 36 {
        return Ok(backend.alert(id).await?);
    }
    if id.len() < 4 {
        return Err(Lookup::TooShort(id.to_owned()));
    }
    let all = backend.fired_alerts().await?;
    let want = id.to_ascii_lowercase();
    let mut found = all
        .into_iter()
        .filter(|a| a.guid().to_ascii_lowercase().starts_with(&want));
    match (found.next(), found.next()) {
        (Some(a), None) => Ok(backend.alert(&a.id).await?),
        (Some(_), Some(_)) => Err(Lookup::Ambiguous(id.to_owned())),
        (None, _) => Err(Lookup::NoMatch(id.to_owned())),
    }
}

/// What the comment in Azure Monitor says: the operator's words and who sent them through
/// relcon, without anything that looks like a credential.
fn comment_text(req: &AlertChangeRequest, operator: &IdentityRef) -> String {
    crate::redact::redact(&format!(
        "{} (relcon, {})",
        req.comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(match req.to {
                AlertState::Acknowledged => "acknowledged",
                AlertState::Closed => "closed",
                _ => "reopened",
            }),
        operator.name()
    ))
}

/// Change one alert's state as `operator`.
pub async fn change(
    session: &Session,
    operator: &IdentityRef,
    req: &AlertChangeRequest,
) -> AlertChangeOutcome {
    let backend = session.backend();
    let failed = |message: String| AlertChangeOutcome::Failed {
        alert: req.alert.clone(),
        message,
        operation: None,
        request_id: None,
    };
    let check = session.context().policy.check_mutation();
    if !check.allowed() {
        let record = Record {
            actor: operator.unique_name.to_string(),
            action: format!("{}-alert", verb(req.to)),
            target: format!("alert {}", short(&req.alert)),
            inputs: Inputs {
                comment: req.comment.clone(),
                ..Inputs::default()
            },
            result: format!("refused: {}", check.reasons().join("; ")),
            request_ids: Vec::new(),
        };
        if let Err(e) = session.audit().append(record) {
            tracing::error!("cannot write the audit log: {e}");
        }
        return AlertChangeOutcome::Refused {
            alert: req.alert.clone(),
            reasons: check.reasons(),
            refused_by: "policy".into(),
            request_id: None,
        };
    }
    // Re-read right before: someone may have changed it since it was listed.
    let now_alert = match resolve(backend, &req.alert).await {
        Ok(a) => a,
        Err(e @ Lookup::Read(_)) => return failed(e.to_string()),
        Err(e) => {
            return AlertChangeOutcome::Invalid {
                alert: req.alert.clone(),
                message: e.to_string(),
            };
        }
    };
    if let Err(why) = settle_earlier(session, &now_alert).await {
        return failed(why);
    }
    let circuit =
        super::incidents::alert_circuit(&now_alert, &session.context().naming).map(|(c, _)| c);
    let brief = |a: &AlertRecord| AlertBrief::of(a, circuit.as_ref());
    if now_alert.state == req.to {
        let by = now_alert
            .modified_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        let at = now_alert
            .modified_at
            .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        return AlertChangeOutcome::Unchanged {
            message: format!("already {}{by}{at}; nothing sent", past(req.to)),
            alert: brief(&now_alert),
        };
    }
    if now_alert.state == AlertState::Closed && req.to == AlertState::Acknowledged {
        return AlertChangeOutcome::Conflict {
            message: format!(
                "closed{} already; reopen it first if it needs attention",
                now_alert
                    .modified_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
            alert: brief(&now_alert),
        };
    }
    let mut op = Operation::new(
        OpKind::AlertChange {
            alert: now_alert.id.clone(),
            rule: now_alert.rule_name().to_owned(),
            circuit: circuit.clone(),
            old_state: now_alert.state,
            new_state: req.to,
        },
        &operator.unique_name,
        None,
        req.comment.clone(),
        session.now(),
    );
    // Record, then act: journaled and on the audit log before the POST, under the claim.
    let journal = session.journal();
    let _claim = match journal.claim(&op.id) {
        Ok(Some(c)) => c,
        Ok(None) => return failed(format!("operation {} is claimed elsewhere", op.id)),
        Err(e) => return failed(format!("not sent: {e}")),
    };
    if let Err(e) = journal.save(&mut op) {
        return failed(format!("not sent: {e}"));
    }
    let comment = comment_text(req, operator);
    if let Err(e) = op_audit::append(session, &op, Some(&comment), "sending") {
        let why = super::rollback::audit_refusal(&e);
        op.last_error = Some(why.clone());
        op.advance(OpState::NotSent, session.now());
        save(session, &mut op);
        return AlertChangeOutcome::Failed {
            alert: req.alert.clone(),
            message: why,
            operation: Some(op.id),
            request_id: None,
        };
    }
    super::rollback::pause_before_send(&op).await;
    let mut sent = backend
        .change_alert_state(&now_alert.id, req.to, &comment)
        .await;
    // Decision 2 of docs/AZURE.md: the body is optional in the spec and one preview names
    // its key differently; a 400 (the change refused, nothing done) is tried once without it.
    let mut comment_kept_locally = false;
    if let Err(e) = &sent
        && e.status == Some(400)
    {
        op.request_ids.extend(e.request_id.clone());
        comment_kept_locally = true;
        sent = backend.change_alert_state(&now_alert.id, req.to, "").await;
    }
    let outcome = match sent {
        Ok(receipt) => {
            op.request_ids.extend(receipt.request_id.clone());
            op.advance(OpState::Submitted, session.now());
            let after = confirm(session, &mut op, req.to, receipt.value).await;
            match op.state {
                OpState::Verified => AlertChangeOutcome::Done {
                    alert: brief(&after),
                    operation: op.id.clone(),
                    request_id: receipt.request_id,
                    comment_kept_locally,
                },
                _ => AlertChangeOutcome::Failed {
                    alert: req.alert.clone(),
                    message: op.last_error.clone().unwrap_or_default(),
                    operation: Some(op.id.clone()),
                    request_id: receipt.request_id,
                },
            }
        }
        Err(e) => answer_lost_or_refused(session, &mut op, req, e, circuit.as_ref()).await,
    };
    save(session, &mut op);
    let result = match (&outcome, op.state) {
        (_, OpState::Verified) => format!("verified: {}", past(req.to)),
        (_, s) => format!(
            "{}: {}",
            s.as_str(),
            op.last_error.clone().unwrap_or_default()
        ),
    };
    op_audit::outcome(session, &op, Some(&comment), result);
    outcome
}

/// The change answered: re-read the alert, which must now be in the state asked. A re-read
/// that fails leaves the service's own answer as the result.
async fn confirm(
    session: &Session,
    op: &mut Operation,
    to: AlertState,
    answered: AlertRecord,
) -> AlertRecord {
    let after = match session.backend().alert(&answered.id).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("cannot re-read the alert after changing it: {e}");
            answered
        }
    };
    if after.state == to {
        op.advance(OpState::Verified, session.now());
    } else {
        op.last_error = Some(format!(
            "Azure Monitor accepted the change but the alert is {} now (changed again by {}?)",
            after.state,
            after.modified_by.as_deref().unwrap_or("someone else")
        ));
        op.advance(OpState::Failed, session.now());
    }
    after
}

/// The POST failed. An ambiguous failure (the request may have arrived) is settled by a
/// re-read, never by sending again; a definite refusal is reported as Azure's.
async fn answer_lost_or_refused(
    session: &Session,
    op: &mut Operation,
    req: &AlertChangeRequest,
    e: BackendError,
    circuit: Option<&CircuitRef>,
) -> AlertChangeOutcome {
    op.request_ids.extend(e.request_id.clone());
    op.last_error = Some(e.to_string());
    if !e.is_ambiguous() {
        op.advance(OpState::Failed, session.now());
        if e.is_refusal() {
            return AlertChangeOutcome::Refused {
                alert: req.alert.clone(),
                reasons: vec![e.to_string()],
                refused_by: "azure".into(),
                request_id: e.request_id,
            };
        }
        return AlertChangeOutcome::Failed {
            alert: req.alert.clone(),
            message: e.to_string(),
            operation: Some(op.id.clone()),
            request_id: e.request_id,
        };
    }
    match changed(session.backend(), op).await {
        Ok(Some(a)) => {
            op.advance(OpState::Submitted, session.now());
            op.advance(OpState::Verified, session.now());
            op.last_error = None;
            AlertChangeOutcome::Done {
                alert: AlertBrief::of(&a, circuit),
                operation: op.id.clone(),
                request_id: e.request_id,
                comment_kept_locally: false,
            }
        }
        Ok(None) => {
            op.last_error = Some(format!(
                "{e}; the re-read shows the alert unchanged: nothing was changed, run the same \
                 command again"
            ));
            op.advance(OpState::NotSent, session.now());
            AlertChangeOutcome::Failed {
                alert: req.alert.clone(),
                message: op.last_error.clone().unwrap_or_default(),
                operation: Some(op.id.clone()),
                request_id: e.request_id,
            }
        }
        Err(reread) => {
            // Left `submitting`: `relcon ops --wait` (or the console) re-reads it later.
            op.last_error = Some(format!(
                "{e}; cannot tell whether it reached Azure Monitor ({reread}); relcon ops --wait \
                 settles it by re-reading, nothing is sent again"
            ));
            AlertChangeOutcome::Failed {
                alert: req.alert.clone(),
                message: op.last_error.clone().unwrap_or_default(),
                operation: Some(op.id.clone()),
                request_id: e.request_id,
            }
        }
    }
}

/// An earlier change of the same alert left unfinished in the journal (relcon stopped between
/// the journal and the answer) is settled first, by what the alert shows now: in the state it
/// asked, it went out; else it never did. `Err` while another relcon process is sending it.
async fn settle_earlier(session: &Session, now: &AlertRecord) -> Result<(), String> {
    let journal = session.journal();
    for mut op in journal.unfinished() {
        let OpKind::AlertChange {
            alert, new_state, ..
        } = &op.kind
        else {
            continue;
        };
        if !alert.eq_ignore_ascii_case(&now.id) {
            continue;
        }
        let Ok(Some(_claim)) = journal.claim(&op.id) else {
            return Err(format!(
                "operation {} changes this alert and is being sent by another relcon process",
                op.id
            ));
        };
        if now.state == *new_state {
            op.advance(OpState::Submitted, session.now());
            op.advance(OpState::Verified, session.now());
            save(session, &mut op);
            op_audit::outcome(session, &op, None, "verified (found sent on a rerun)");
        } else if op.state == OpState::Submitting {
            op.last_error = Some(super::rollback::STOPPED_BEFORE_SENDING.into());
            op.advance(OpState::NotSent, session.now());
            save(session, &mut op);
            op_audit::outcome(
                session,
                &op,
                None,
                "not sent: relcon stopped before sending it",
            );
        } else {
            op.last_error = Some(format!("the alert is {} now", now.state));
            op.advance(OpState::Failed, session.now());
            save(session, &mut op);
            op_audit::outcome(
                session,
                &op,
                None,
                format!("failed: the alert is {}", now.state),
            );
        }
    }
    Ok(())
}

/// The alert of an alert-change operation re-read: `Some` when it is in the state asked.
pub(crate) async fn changed(
    backend: &dyn Backend,
    op: &Operation,
) -> Result<Option<AlertRecord>, BackendError> {
    let OpKind::AlertChange {
        alert, new_state, ..
    } = &op.kind
    else {
        return Ok(None);
    };
    let a = backend.alert(alert).await?;
    Ok((a.state == *new_state).then_some(a))
}

/// One step of tracking an alert change found unfinished (sent; relcon stopped before the
/// answer was journaled): re-read; in the state asked is verified, else it failed.
pub(crate) async fn step(session: &Session, op: &mut Operation) {
    match changed(session.backend(), op).await {
        Ok(Some(_)) => op.advance(OpState::Verified, session.now()),
        Ok(None) => {
            op.last_error = Some("the alert is not in the state asked (changed again?)".into());
            op.advance(OpState::Failed, session.now());
        }
        Err(e) => op.last_error = Some(e.to_string()),
    }
}

fn save(session: &Session, op: &mut Operation) {
    if let Err(e) = session.journal().save(op) {
        tracing::warn!("cannot update the journal: {e}");
    }
}
