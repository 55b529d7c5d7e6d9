//! Approving and rejecting: policy first (enforced here for every front end), a fresh re-read
//! before the PATCH, the journal before sending, a re-read after to confirm, and the audit
//! entry fsynced before the outcome is reported. When someone else decided first, the outcome
//! says who and when.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backend::{Backend, BackendError, ErrorKind};
use super::journal::{OpKind, OpState, Operation};
use super::session::Session;
use crate::audit::{Inputs, Record};
use crate::domain::fleet::{ApprovalItem, Decision, FleetSnapshot, gate_evidence, platform_word};
use crate::domain::platform::{
    ApprovalId, ApprovalRecord, ApprovalStatus, IdentityRef, ReleaseRecord, StageRef,
};
use crate::domain::policy::PolicyCheck;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    fn status(self) -> ApprovalStatus {
        match self {
            Verdict::Approve => ApprovalStatus::Approved,
            Verdict::Reject => ApprovalStatus::Rejected,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        }
    }
}

/// One decision to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    pub approval_id: ApprovalId,
    pub verdict: Verdict,
    pub comment: String,
    /// Break-glass: approve despite the test gate, with this reason (recorded).
    pub override_reason: Option<String>,
}

/// Who said no to a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedBy {
    /// relcon's policy, before anything was sent.
    Policy,
    /// Azure DevOps, answering the PATCH with a refusal of its own (its approver list, or its
    /// rule that the user requesting a release or deployment may not approve it), while the
    /// approval stayed pending.
    AzureDevops,
}

/// How a decision ended. Maps to the documented exit codes: done 0, refused 1, conflict 3,
/// failed 4.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DecisionOutcome {
    Done {
        approval_id: ApprovalId,
        release_id: u32,
        stage: String,
        /// Approvals of the stage after this one, and how many it needs.
        approved: usize,
        required: u32,
        break_glass: bool,
        request_id: Option<String>,
    },
    Refused {
        approval_id: ApprovalId,
        reasons: Vec<String>,
        /// Would be allowed with `--override-gate --reason`.
        overridable: bool,
        refused_by: RefusedBy,
        /// The request id of DevOps' answer (a refusal by policy sent nothing).
        request_id: Option<String>,
        /// DevOps' `typeKey`, when it refused.
        code: Option<String>,
    },
    Conflict {
        approval_id: ApprovalId,
        status: String,
        decided_by: Option<String>,
        decided_at: Option<DateTime<Utc>>,
        message: String,
    },
    Failed {
        approval_id: ApprovalId,
        message: String,
        request_id: Option<String>,
    },
}

impl DecisionOutcome {
    /// Refused by relcon's policy: nothing was sent.
    pub fn refused_by_policy(
        approval_id: ApprovalId,
        reasons: Vec<String>,
        overridable: bool,
    ) -> Self {
        DecisionOutcome::Refused {
            approval_id,
            reasons,
            overridable,
            refused_by: RefusedBy::Policy,
            request_id: None,
            code: None,
        }
    }

    /// Why a refused decision was refused, naming who refused it (`None` unless refused).
    pub fn refusal(&self) -> Option<String> {
        let DecisionOutcome::Refused {
            reasons,
            refused_by,
            request_id,
            ..
        } = self
        else {
            return None;
        };
        Some(match refused_by {
            RefusedBy::Policy => format!("refused by policy: {}", reasons.join("; ")),
            RefusedBy::AzureDevops => format!(
                "refused by Azure DevOps: {}{} · still pending",
                reasons.join("; "),
                request_id
                    .as_ref()
                    .map(|r| format!(" (request id {r})"))
                    .unwrap_or_default()
            ),
        })
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            DecisionOutcome::Done { .. } => 0,
            DecisionOutcome::Refused { .. } => 1,
            DecisionOutcome::Conflict { .. } => 3,
            DecisionOutcome::Failed { .. } => 4,
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            DecisionOutcome::Done {
                approval_id,
                release_id,
                stage,
                approved,
                required,
                break_glass,
                ..
            } => format!(
                "approval {approval_id} (release {release_id}, {stage}): done, {approved} of {required} approvals{}",
                if *break_glass {
                    ", test gate overridden (break-glass, recorded)"
                } else {
                    ""
                }
            ),
            DecisionOutcome::Refused {
                approval_id,
                reasons,
                refused_by: RefusedBy::Policy,
                ..
            } => format!("approval {approval_id}: refused: {}", reasons.join("; ")),
            DecisionOutcome::Refused { approval_id, .. } => format!(
                "approval {approval_id}: {}",
                self.refusal().unwrap_or_default()
            ),
            DecisionOutcome::Conflict {
                approval_id,
                message,
                ..
            } => format!("approval {approval_id}: {message}"),
            DecisionOutcome::Failed {
                approval_id,
                message,
                ..
            } => format!("approval {approval_id}: failed: {message}"),
        }
    }
}

/// The approval record and its stage, in a freshly read release. A classic approval is one
/// record. A YAML approval is one record per approver's step under the same id, so the
/// caller's own step comes first (otherwise another approver's earlier "approved" could pass
/// for the caller's decision), then a pending step (the approval is still open; a group the
/// caller answers for), else the newest decided one (who closed it, and when).
fn find_record<'r>(
    release: &'r ReleaseRecord,
    approval_id: &ApprovalId,
    caller: &IdentityRef,
) -> Option<(&'r ApprovalRecord, StageRef, &'r str)> {
    release.environments.iter().find_map(|e| {
        let records = || {
            e.pre_deploy_approvals
                .iter()
                .filter(|a| &a.id == approval_id)
        };
        step_of(records(), caller).map(|a| (a, e.id.clone(), e.name.as_str()))
    })
}

/// The record of one approval that speaks for `caller` (the rule of [`find_record`]).
fn step_of<'r>(
    records: impl IntoIterator<Item = &'r ApprovalRecord>,
    caller: &IdentityRef,
) -> Option<&'r ApprovalRecord> {
    let records: Vec<&ApprovalRecord> = records.into_iter().collect();
    let own = |a: &&&ApprovalRecord| {
        a.approver.same_as(caller) || a.approved_by.as_ref().is_some_and(|b| b.same_as(caller))
    };
    records
        .iter()
        .find(own)
        .or_else(|| records.iter().find(|a| a.status == ApprovalStatus::Pending))
        .or_else(|| records.iter().max_by_key(|a| a.modified_on))
        .copied()
}

/// The approval item with its decisions replaced by the approval's own steps.
fn with_steps(item: &ApprovalItem, steps: &[ApprovalRecord]) -> ApprovalItem {
    let mut fresh = item.clone();
    fresh.approved = steps
        .iter()
        .filter(|a| a.status == ApprovalStatus::Approved)
        .map(Decision::of)
        .collect();
    fresh.pending_ids.retain(|p| {
        steps
            .iter()
            .any(|a| &a.id == p && a.status == ApprovalStatus::Pending)
    });
    fresh
}

/// The approval item of the snapshot, with its approval state replaced by the fresh release's.
fn fresh_item(item: &ApprovalItem, release: &ReleaseRecord) -> ApprovalItem {
    let mut fresh = item.clone();
    fresh.requested_by = release.created_by.clone();
    if let Some(env) = release
        .environments
        .iter()
        .find(|e| e.id == item.environment_id)
    {
        let attempt = env
            .pre_deploy_approvals
            .iter()
            .map(|a| a.attempt)
            .max()
            .unwrap_or(1);
        let current = env
            .pre_deploy_approvals
            .iter()
            .filter(|a| a.attempt == attempt);
        fresh.pending_ids = Vec::new();
        for a in current
            .clone()
            .filter(|a| a.status == ApprovalStatus::Pending)
        {
            if !fresh.pending_ids.contains(&a.id) {
                fresh.pending_ids.push(a.id.clone());
            }
        }
        let waiting: Vec<&ApprovalRecord> = current
            .clone()
            .filter(|a| a.status == ApprovalStatus::Pending)
            .collect();
        if !waiting.is_empty() {
            let (blocked, approvers, may) = platform_word(&waiting);
            fresh.blocked_approvers = blocked;
            fresh.approvers = approvers;
            fresh.caller_may_decide = may;
        }
        fresh.approved = current
            .filter(|a| a.status == ApprovalStatus::Approved)
            .map(Decision::of)
            .collect();
        if env.required_approvers > 0 {
            fresh.required = env.required_approvers;
        }
        fresh.requested_by = release.requester(&env.id, attempt).0;
        if let Some(blocked) = env.requester_blocked {
            fresh.requester_blocked = blocked;
        }
    }
    fresh
}

fn conflict(approval_id: ApprovalId, record: &ApprovalRecord) -> DecisionOutcome {
    let by = record.approved_by.as_ref().map(|i| i.name().to_owned());
    let when = record
        .modified_on
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "earlier".into());
    DecisionOutcome::Conflict {
        approval_id,
        status: record.status.as_str().to_owned(),
        message: format!(
            "already {} by {} at {when}",
            record.status.as_str(),
            by.as_deref().unwrap_or("someone else")
        ),
        decided_by: by,
        decided_at: record.modified_on,
    }
}

/// Decide one approval as `operator`. The snapshot supplies the release's circuits and the test
/// evidence; the approval state itself is re-read now.
pub async fn decide(
    session: &Session,
    snapshot: &FleetSnapshot,
    operator: &IdentityRef,
    req: &DecisionRequest,
) -> DecisionOutcome {
    let backend = session.backend();
    let ctx = session.context();
    let id = req.approval_id.clone();
    let Some(item) = snapshot
        .approvals
        .iter()
        .find(|a| a.pending_ids.contains(&id))
    else {
        // Only a complete snapshot can say an approval is not pending.
        if !snapshot.is_complete() {
            return DecisionOutcome::Failed {
                approval_id: id.clone(),
                message: format!(
                    "cannot tell whether approval {id} is pending: {}",
                    snapshot
                        .errors
                        .iter()
                        .map(|e| format!("could not read {}: {}", e.scope, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                request_id: None,
            };
        }
        return DecisionOutcome::refused_by_policy(
            id,
            vec!["not a pending approval (see `relcon approvals`)".into()],
            false,
        );
    };
    // Re-read before deciding: someone may have decided since the snapshot.
    let release = match backend.release(item.release_id).await {
        Ok(r) => Some(r),
        // A YAML stage between its approval and its first job is on no list.
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return failed(&id, &e),
    };
    let listed = release
        .as_ref()
        .and_then(|r| Some((r, find_record(r, &id, operator)?.0)));
    let Some((release, record)) = listed else {
        // Not on its release (any more): a decided YAML approval is listed nowhere, and its
        // own steps say who decided it and when.
        if let Ok(steps) = backend.approval_steps(&id).await
            && let Some(rec) =
                decided_step(&steps, operator).filter(|r| r.status != ApprovalStatus::Pending)
        {
            let outcome = conflict(id.clone(), rec);
            return record_outcome(session, operator, req, item, outcome);
        }
        return failed(
            &id,
            &BackendError::new(
                ErrorKind::NotFound,
                "GET",
                &format!("release {}", item.release_id),
                format!("approval {id} is not in release {}", item.release_id),
            ),
        );
    };
    if record.status != ApprovalStatus::Pending {
        return record_outcome(session, operator, req, item, conflict(id.clone(), record));
    }
    let fresh = fresh_item(item, release);
    let check: PolicyCheck = match req.verdict {
        Verdict::Approve => ctx.policy.check_approve(
            &fresh,
            operator,
            &gate_evidence(snapshot, &fresh, &ctx.thresholds),
        ),
        Verdict::Reject => ctx.policy.check_reject(&fresh),
    };
    let break_glass = !check.allowed() && check.needs_override() && req.override_reason.is_some();
    if !check.allowed() && !break_glass {
        let outcome =
            DecisionOutcome::refused_by_policy(id.clone(), check.reasons(), check.needs_override());
        return record_outcome(session, operator, req, item, outcome);
    }

    let kind = match req.verdict {
        Verdict::Approve => OpKind::Approve {
            approval_id: id.clone(),
            release_id: item.release_id,
            environment_id: item.environment_id.clone(),
            stage: item.stage,
        },
        Verdict::Reject => OpKind::Reject {
            approval_id: id.clone(),
            release_id: item.release_id,
            environment_id: item.environment_id.clone(),
            stage: item.stage,
        },
    };
    let mut op = Operation::new(
        kind,
        operator.name(),
        None,
        req.override_reason.clone(),
        session.now(),
    );
    // Record, then act: journaled and on the audit log before the PATCH, under the send claim.
    let _claim = match session.journal().claim(&op.id) {
        Ok(Some(c)) => c,
        Ok(None) => return not_sent(&id, format!("operation {} is claimed elsewhere", op.id)),
        Err(e) => return not_sent(&id, e.to_string()),
    };
    if let Err(e) = session.journal().save(&mut op) {
        return not_sent(&id, e.to_string());
    }
    let sending = Record {
        result: "sending".into(),
        ..decision_record(operator, req, item, &op.id)
    };
    if let Err(e) = session.audit().append(sending) {
        let why = super::rollback::audit_refusal(&e);
        op.last_error = Some(why.clone());
        op.advance(OpState::NotSent, session.now());
        if let Err(e) = session.journal().save(&mut op) {
            tracing::warn!("cannot update the journal: {e}");
        }
        return DecisionOutcome::Failed {
            approval_id: id.clone(),
            message: why,
            request_id: None,
        };
    }
    // What DevOps keeps with the approval: the comment, without anything that looks like a
    // credential (the audit log has the same text).
    let comment = crate::redact::redact(&match (&req.override_reason, break_glass) {
        (Some(reason), true) => format!(
            "{} [break-glass: test gate overridden: {reason}]",
            req.comment
        ),
        _ => req.comment.clone(),
    });
    let sent = backend
        .decide_approval(&id, req.verdict.status(), &comment)
        .await;
    let outcome = match sent {
        Ok(receipt) => {
            op.request_ids.extend(receipt.request_id.clone());
            op.advance(OpState::Submitted, session.now());
            let sent = Sent {
                id: &id,
                verdict: req.verdict,
                request_id: receipt.request_id,
                break_glass,
            };
            confirm(session, operator, item, sent, &mut op).await
        }
        Err(e) => {
            op.request_ids.extend(e.request_id.clone());
            // Conflict or a lost answer: re-read to learn what actually happened.
            match reread_record(backend, item, &id, operator).await {
                Some(rec)
                    if rec.status == req.verdict.status()
                        && rec
                            .approved_by
                            .as_ref()
                            .is_some_and(|b| b.same_as(operator)) =>
                {
                    op.advance(OpState::Verified, session.now());
                    done(
                        item,
                        &id,
                        &fresh_after(backend, item).await,
                        e.request_id.clone(),
                        break_glass,
                    )
                }
                Some(rec) if rec.status != ApprovalStatus::Pending => {
                    op.last_error = Some(e.to_string());
                    op.advance(OpState::Failed, session.now());
                    conflict(id.clone(), &rec)
                }
                Some(_) if e.is_refusal() => {
                    // Still pending, and DevOps said why: its own rules refused what relcon's
                    // policy allowed. Not decided, on record, exit 1.
                    op.last_error = Some(format!("refused by Azure DevOps: {e}"));
                    op.advance(OpState::Failed, session.now());
                    // DevOps' words; its typeKey goes in `code`.
                    let words = e
                        .code
                        .as_ref()
                        .and_then(|c| e.message.strip_suffix(&format!(" ({c})")))
                        .unwrap_or(&e.message);
                    DecisionOutcome::Refused {
                        approval_id: id.clone(),
                        reasons: vec![words.to_owned()],
                        overridable: false,
                        refused_by: RefusedBy::AzureDevops,
                        request_id: e.request_id.clone(),
                        code: e.code.as_deref().map(str::to_owned),
                    }
                }
                Some(_) if e.is_ambiguous() || e.kind == ErrorKind::Conflict => {
                    // Still pending after all: the request never took effect.
                    op.last_error = Some(e.to_string());
                    op.advance(OpState::NotSent, session.now());
                    failed(&id, &e)
                }
                _ => {
                    op.last_error = Some(e.to_string());
                    op.advance(OpState::Failed, session.now());
                    failed(&id, &e)
                }
            }
        }
    };
    if let Err(e) = session.journal().save(&mut op) {
        tracing::warn!("cannot update the journal: {e}");
    }
    record_outcome_of(session, operator, req, item, outcome, Some(&op.id))
}

/// Nothing was sent: the journal could not take the operation.
fn not_sent(id: &ApprovalId, why: String) -> DecisionOutcome {
    DecisionOutcome::Failed {
        approval_id: id.clone(),
        message: format!("not sent: {why}"),
        request_id: None,
    }
}

async fn fresh_after(backend: &dyn Backend, item: &ApprovalItem) -> ApprovalItem {
    match backend.release(item.release_id).await {
        Ok(r) => fresh_item(item, &r),
        Err(_) => item.clone(),
    }
}

/// A decision the service accepted: what was sent, and its request id.
struct Sent<'a> {
    id: &'a ApprovalId,
    verdict: Verdict,
    request_id: Option<String>,
    break_glass: bool,
}

/// The approval's record that speaks for `operator`, re-read: from its release, else from the
/// approval's own steps (a YAML release lists only approvals still waiting, and a stage between
/// its approval and its first job is on no list at all), where the flavour can read them.
async fn reread_record(
    backend: &dyn Backend,
    item: &ApprovalItem,
    id: &ApprovalId,
    operator: &IdentityRef,
) -> Option<ApprovalRecord> {
    let listed = backend
        .release(item.release_id)
        .await
        .ok()
        .and_then(|r| find_record(&r, id, operator).map(|(rec, _, _)| rec.clone()));
    if listed.is_some() {
        return listed;
    }
    let steps = backend.approval_steps(id).await.ok()?;
    decided_step(&steps, operator).cloned()
}

/// Of an approval's steps: `operator`'s own decision, else the newest decision by anyone
/// (who completed it), else the step that speaks for `operator` as [`step_of`] picks it.
fn decided_step<'r>(
    steps: &'r [ApprovalRecord],
    operator: &IdentityRef,
) -> Option<&'r ApprovalRecord> {
    let decided_by =
        |a: &&ApprovalRecord| a.status != ApprovalStatus::Pending && a.approved_by.is_some();
    steps
        .iter()
        .filter(decided_by)
        .find(|a| a.approved_by.as_ref().is_some_and(|b| b.same_as(operator)))
        .or_else(|| {
            steps
                .iter()
                .filter(decided_by)
                .max_by_key(|a| a.modified_on)
        })
        .or_else(|| step_of(steps, operator))
}

/// Re-read after the PATCH: the record must show `operator`'s decision.
async fn confirm(
    session: &Session,
    operator: &IdentityRef,
    item: &ApprovalItem,
    sent: Sent<'_>,
    op: &mut Operation,
) -> DecisionOutcome {
    let Sent {
        id,
        verdict,
        request_id,
        break_glass,
    } = sent;
    // A release the re-read cannot find (a YAML stage between its approval and its first
    // job is on no list) is read through the approval's own steps, as one that no longer
    // lists the approval.
    let release = match session.backend().release(item.release_id).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    };
    let Ok(release) = release else {
        // Accepted but not confirmable right now: say so, keep it succeeded (not verified).
        op.advance(OpState::Succeeded, session.now());
        return done(item, id, item, request_id, break_glass);
    };
    let listed = release
        .as_ref()
        .and_then(|r| Some((r, find_record(r, id, operator)?.0)));
    match listed {
        Some((release, rec)) if rec.status == verdict.status() => {
            op.advance(OpState::Verified, session.now());
            done(
                item,
                id,
                &fresh_item(item, release),
                request_id,
                break_glass,
            )
        }
        Some((_, rec)) => {
            op.advance(OpState::Failed, session.now());
            op.last_error = Some(format!("re-read shows the approval {}", rec.status));
            conflict(id.clone(), rec)
        }
        // The release no longer lists it (a YAML release lists only approvals still
        // waiting): read the approval itself where the flavour can.
        None => match session.backend().approval_steps(id).await {
            Ok(steps) => match step_of(&steps, operator) {
                Some(rec) if rec.status == verdict.status() => {
                    op.advance(OpState::Verified, session.now());
                    done(item, id, &with_steps(item, &steps), request_id, break_glass)
                }
                _ => {
                    op.advance(OpState::Succeeded, session.now());
                    done(item, id, item, request_id, break_glass)
                }
            },
            Err(_) => {
                op.advance(OpState::Succeeded, session.now());
                done(item, id, item, request_id, break_glass)
            }
        },
    }
}

fn done(
    item: &ApprovalItem,
    id: &ApprovalId,
    after: &ApprovalItem,
    request_id: Option<String>,
    break_glass: bool,
) -> DecisionOutcome {
    DecisionOutcome::Done {
        approval_id: id.clone(),
        release_id: item.release_id,
        stage: item.stage.release_environment().unwrap_or("?").to_owned(),
        approved: after.approved.len(),
        required: after.required,
        break_glass,
        request_id,
    }
}

fn failed(id: &ApprovalId, e: &BackendError) -> DecisionOutcome {
    DecisionOutcome::Failed {
        approval_id: id.clone(),
        message: e.to_string(),
        request_id: e.request_id.clone(),
    }
}

/// The audit record of a decision, without its result.
fn decision_record(
    operator: &IdentityRef,
    req: &DecisionRequest,
    item: &ApprovalItem,
    operation: &str,
) -> Record {
    let mut details = serde_json::Map::new();
    if !operation.is_empty() {
        details.insert("operation".into(), operation.into());
    }
    Record {
        actor: operator.unique_name.to_string(),
        action: req.verdict.as_str().to_owned(),
        target: format!(
            "approval {} (release {} {}, {})",
            req.approval_id,
            item.release_id,
            item.release_name,
            item.stage.release_environment().unwrap_or("?")
        ),
        inputs: Inputs {
            comment: Some(req.comment.clone()),
            reason: req.override_reason.clone(),
            override_gate: req.override_reason.is_some(),
            details,
        },
        result: String::new(),
        request_ids: Vec::new(),
    }
}

/// Every decision, refusals included, goes on record before it is reported.
fn record_outcome(
    session: &Session,
    operator: &IdentityRef,
    req: &DecisionRequest,
    item: &ApprovalItem,
    outcome: DecisionOutcome,
) -> DecisionOutcome {
    record_outcome_of(session, operator, req, item, outcome, None)
}

fn record_outcome_of(
    session: &Session,
    operator: &IdentityRef,
    req: &DecisionRequest,
    item: &ApprovalItem,
    outcome: DecisionOutcome,
    operation: Option<&str>,
) -> DecisionOutcome {
    let (result, request_ids) = match &outcome {
        DecisionOutcome::Done {
            break_glass: true,
            request_id,
            ..
        } => (
            "succeeded (break-glass: test gate overridden)".to_owned(),
            request_id.iter().cloned().collect(),
        ),
        DecisionOutcome::Done { request_id, .. } => {
            ("succeeded".to_owned(), request_id.iter().cloned().collect())
        }
        DecisionOutcome::Refused {
            reasons,
            refused_by: RefusedBy::Policy,
            ..
        } => (format!("refused: {}", reasons.join("; ")), Vec::new()),
        DecisionOutcome::Refused {
            reasons,
            request_id,
            ..
        } => (
            format!("refused by Azure DevOps: {}", reasons.join("; ")),
            request_id.iter().cloned().collect(),
        ),
        DecisionOutcome::Conflict { message, .. } => (format!("conflict: {message}"), Vec::new()),
        DecisionOutcome::Failed {
            message,
            request_id,
            ..
        } => (
            format!("failed: {message}"),
            request_id.iter().cloned().collect(),
        ),
    };
    let record = Record {
        result,
        request_ids,
        ..decision_record(operator, req, item, operation.unwrap_or_default())
    };
    match session.audit().append(record) {
        Ok(_) => outcome,
        // Refused or conflicting: nothing was sent, but nothing is reported off the record.
        Err(e) if operation.is_none() => DecisionOutcome::Failed {
            approval_id: req.approval_id.clone(),
            message: format!(
                "{}; the audit log cannot record it ({e}); {}",
                outcome.describe(),
                e.repair()
            ),
            request_id: None,
        },
        Err(e) => DecisionOutcome::Failed {
            approval_id: req.approval_id.clone(),
            message: format!(
                "the decision was sent (its \"sending\" entry is on the audit log) but its \
                 outcome could not be written to the audit log ({e}): {}; {}",
                outcome.describe(),
                e.repair()
            ),
            request_id: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::{ApprovalType, EnvironmentStatus, ReleaseEnvironment};
    use crate::domain::release_ids::ApprovalId;

    fn who(name: &str) -> IdentityRef {
        IdentityRef {
            id: format!("id-{name}").into(),
            display_name: name.into(),
            unique_name: format!("{name}@contoso.com").into(),
        }
    }

    /// One YAML approval (one GUID) with a step per approver.
    fn yaml_release(steps: &[(&str, ApprovalStatus, i64)]) -> ReleaseRecord {
        let t0 = crate::domain::clock::pinned_start();
        let stage = StageRef::new("401:DeployToProduction");
        let approvals = steps
            .iter()
            .map(|(name, status, minute)| ApprovalRecord {
                id: ApprovalId::new("8f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"),
                status: status.clone(),
                approval_type: ApprovalType::PreDeploy,
                approver: who(name),
                approved_by: (*status != ApprovalStatus::Pending).then(|| who(name)),
                comments: String::new(),
                release_id: 12,
                release_name: "20261122.4".into(),
                stage_ref: stage.clone(),
                stage_name: "Production".into(),
                attempt: 1,
                created_on: Some(t0),
                modified_on: Some(t0 + chrono::Duration::minutes(*minute)),
                blocked_approvers: Vec::new(),
                caller_may_decide: None,
            })
            .collect();
        ReleaseRecord {
            id: 12,
            name: "20261122.4".into(),
            status: crate::domain::platform::ReleaseStatus::Active,
            description: String::new(),
            created_on: Some(t0),
            created_by: who("bob"),
            build_id: Some("12".into()),
            variables: Default::default(),
            environments: vec![ReleaseEnvironment {
                id: stage,
                definition_environment_id: 0,
                name: "Production".into(),
                status: EnvironmentStatus::NotStarted,
                required_approvers: 2,
                requester_blocked: Some(true),
                requested_for: None,
                pre_deploy_approvals: approvals,
                deploy_steps: Vec::new(),
                modified_on: None,
            }],
        }
    }

    /// Carol approved first; Dave's step is the one his decision must be read from, whether
    /// it is still pending (before sending) or decided (the re-read after).
    #[test]
    fn a_yaml_approval_is_read_from_the_callers_own_step() {
        let id = ApprovalId::new("8f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
        let before = yaml_release(&[
            ("carol", ApprovalStatus::Approved, 5),
            ("dave", ApprovalStatus::Pending, 0),
            ("erin", ApprovalStatus::Pending, 0),
        ]);
        let (rec, _, _) = find_record(&before, &id, &who("dave")).unwrap();
        assert_eq!(rec.approver.display_name, "dave");
        assert_eq!(rec.status, ApprovalStatus::Pending);

        // Dave's decision did not take and Erin's completed the approval: her "approved", the
        // newest step, must not pass for his.
        let others = yaml_release(&[
            ("carol", ApprovalStatus::Approved, 5),
            ("dave", ApprovalStatus::Skipped, 9),
            ("erin", ApprovalStatus::Approved, 9),
        ]);
        let (rec, _, _) = find_record(&others, &id, &who("dave")).unwrap();
        assert_eq!(
            (rec.approver.display_name.as_str(), rec.status.clone()),
            ("dave", ApprovalStatus::Skipped)
        );

        let after = yaml_release(&[
            ("carol", ApprovalStatus::Approved, 5),
            ("dave", ApprovalStatus::Approved, 9),
            ("erin", ApprovalStatus::Skipped, 9),
        ]);
        let (rec, _, _) = find_record(&after, &id, &who("dave")).unwrap();
        assert_eq!(
            (rec.approver.display_name.as_str(), rec.status.clone()),
            ("dave", ApprovalStatus::Approved)
        );

        // Someone with no step of their own (a group's member): a pending step, else the
        // newest decided one.
        let (rec, _, _) = find_record(&before, &id, &who("frank")).unwrap();
        assert_eq!(rec.status, ApprovalStatus::Pending);
        let (rec, _, _) = find_record(&after, &id, &who("frank")).unwrap();
        assert_eq!(
            rec.modified_on,
            after.environments[0].pre_deploy_approvals[1].modified_on
        );
    }
}
