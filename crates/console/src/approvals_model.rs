//! Pending approvals, precomputed per snapshot: grouped by release, with the test-gate evidence
//! and what policy says about approving and rejecting each, so the view can explain a refusal
//! before any key is pressed.

use crate::domain::Status;
use crate::domain::fleet::{ApprovalItem, FleetSnapshot, gate_evidence};
use crate::domain::policy::{ApprovalPolicy, GateEvidence, PolicyCheck};
use crate::domain::{Stage, Thresholds};
use crate::service::decide::Verdict;

use super::action::ApprovalKey;
use super::app::ApprovalLine;

/// One pending stage of a release, judged.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    pub key: ApprovalKey,
    /// Index into `snapshot.approvals`.
    pub item: usize,
    pub gate: Vec<GateEvidence>,
    /// `None` when relcon does not know who you are: policy cannot be checked.
    pub approve: Option<PolicyCheck>,
    pub reject: PolicyCheck,
    pub required: u32,
    /// Gate results: passed, failed, unknown.
    pub passed: usize,
    pub failed: usize,
    pub unknown: usize,
}

impl ApprovalRow {
    /// What policy says about `verdict` on this row for you (`None`: identity unknown).
    pub fn check(&self, verdict: Verdict) -> Option<PolicyCheck> {
        match verdict {
            Verdict::Approve => self.approve.clone(),
            Verdict::Reject => Some(self.reject.clone()),
        }
    }
}

impl ApprovalRow {
    pub fn item<'a>(&self, s: &'a FleetSnapshot) -> Option<&'a ApprovalItem> {
        s.approvals.get(self.item)
    }

    /// The verdict icon's status: ok when you can approve, warn when only with a break-glass
    /// override, alert when refused, unknown when identity is unknown.
    pub fn verdict(&self) -> Status {
        match &self.approve {
            None => Status::Unknown,
            Some(c) if c.allowed() => Status::Ok,
            Some(c) if c.needs_override() => Status::Warn,
            Some(_) => Status::Alert,
        }
    }
}

/// Judge every pending stage; order: Prod first, then by release (newest first).
pub fn build(
    s: &FleetSnapshot,
    policy: &ApprovalPolicy,
    t: &Thresholds,
) -> (Vec<ApprovalRow>, Vec<ApprovalLine>) {
    let mut order: Vec<usize> = (0..s.approvals.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&s.approvals[a], &s.approvals[b]);
        y.release_id.cmp(&x.release_id).then(y.stage.cmp(&x.stage))
    });
    let rows: Vec<ApprovalRow> = order
        .into_iter()
        .map(|i| {
            let item = &s.approvals[i];
            let gate = if item.stage == Stage::Prod {
                gate_evidence(s, item, t)
            } else {
                Vec::new()
            };
            let count = |st: Status| gate.iter().filter(|g| g.status == st).count();
            let (passed, failed) = (
                count(Status::Ok),
                count(Status::Alert) + count(Status::Warn),
            );
            let unknown = count(Status::Unknown);
            ApprovalRow {
                key: ApprovalKey::of(item),
                item: i,
                approve: s
                    .identity
                    .as_ref()
                    .map(|who| policy.check_approve(item, who, &gate)),
                reject: policy.check_reject(item),
                required: policy.required_approvers(item),
                gate,
                passed,
                failed,
                unknown,
            }
        })
        .collect();
    let mut lines = Vec::new();
    let mut last_release = None;
    for (i, r) in rows.iter().enumerate() {
        if last_release != Some(r.key.release_id) {
            lines.push(ApprovalLine::Release(i));
            last_release = Some(r.key.release_id);
        }
        lines.push(ApprovalLine::Item(i));
    }
    (rows, lines)
}

/// Gate results of an environment-only release, failures first, then unknown, then passes.
pub fn env_matrix(row: &ApprovalRow) -> Vec<GateEvidence> {
    let mut rows = row.gate.clone();
    rows.sort_by(|a, b| {
        b.status
            .severity()
            .cmp(&a.status.severity())
            .then(a.circuit.cmp(&b.circuit))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn every_item_says_what_policy_allows() {
        let s = fixture::fleet(fixture::DEMO_CIRCUITS);
        let (rows, lines) = build(&s, &fixture::policy(), &Thresholds::default());
        assert_eq!(rows.len(), s.approvals.len());
        let row = |id| rows.iter().find(|r| r.key.release_id == id).unwrap();
        assert_eq!(row(fixture::R_CLEAN).verdict(), Status::Ok);
        assert_eq!(row(fixture::R_WAVE).verdict(), Status::Warn, "gate fails");
        let own = row(fixture::R_SELF);
        assert_eq!(own.verdict(), Status::Alert);
        assert!(own.approve.as_ref().unwrap().reasons()[0].contains("four-eyes"));
        assert!(own.reject.allowed(), "a requester may stop their release");
        let env = row(fixture::R_ENV);
        assert!(env.failed > 0 && env.unknown > 0 && env.passed > 100);
        let m = env_matrix(env);
        assert_ne!(m[0].status, Status::Ok, "failures first");
        assert_eq!(m.last().map(|g| g.status), Some(Status::Ok));
        assert_eq!(
            lines
                .iter()
                .filter(|l| matches!(l, ApprovalLine::Release(_)))
                .count(),
            4
        );
    }

    #[test]
    fn unknown_identity_cannot_be_judged() {
        let mut s = fixture::fleet(40);
        s.identity = None;
        let (rows, _) = build(&s, &fixture::policy(), &Thresholds::default());
        assert!(rows.iter().all(|r| r.approve.is_none()));
        assert!(rows.iter().all(|r| r.verdict() == Status::Unknown));
    }
}
