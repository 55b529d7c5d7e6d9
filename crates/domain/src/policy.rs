//! Approval policy: four eyes, distinct approvers for Production, the test gate and its
//! break-glass override, read-only mode. Pure: the service enforces it for every front end, and
//! the TUI asks it before a key is pressed so a refusal is explained, never just greyed out.

use serde::{Deserialize, Serialize};

use super::fleet::ApprovalItem;
use super::platform::IdentityRef;
use super::{CircuitRef, Stage, Status};

/// The policy settings that decide approvals (`[policy]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    pub prod_min_approvers: u32,
    pub forbid_self_approval: bool,
    pub require_passing_tests: bool,
    pub read_only: bool,
}

/// One circuit's test evidence for a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateEvidence {
    pub circuit: CircuitRef,
    pub status: Status,
    /// Why it did not pass, in words.
    pub detail: String,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Refusal {
    /// relcon runs read-only (flag or config).
    ReadOnly,
    /// The operator requested this release (four eyes).
    SelfApproval { requested_by: String },
    /// The operator already approved this stage; it needs distinct approvers.
    AlreadyApproved,
    /// Nothing of this stage is pending any more.
    NotPending,
    /// Test validation did not pass for these circuits; can be overridden with a reason.
    TestGate { failing: Vec<GateEvidence> },
    /// The platform names the operator among the approval's blocked approvers (YAML
    /// `blockedApprovers`: the run's requester, and whoever re-ran the stage).
    BlockedByPlatform,
    /// The platform does not let the operator decide this approval (YAML `permissions`
    /// without `update`: not one of its approvers).
    NotAnApprover,
}

impl Refusal {
    /// Only the test gate has a break-glass override.
    pub fn overridable(&self) -> bool {
        matches!(self, Refusal::TestGate { .. })
    }

    pub fn reason(&self) -> String {
        match self {
            Refusal::ReadOnly => "read-only mode: no changes are sent".into(),
            Refusal::SelfApproval { requested_by } => {
                format!(
                    "you requested this release ({requested_by}); four-eyes policy needs someone else"
                )
            }
            Refusal::AlreadyApproved => {
                "you already approved this stage; it needs a different approver".into()
            }
            Refusal::NotPending => "nothing is pending on this stage any more".into(),
            Refusal::BlockedByPlatform => {
                "Azure DevOps bars you from approving this (you are among its blocked approvers)"
                    .into()
            }
            Refusal::NotAnApprover => {
                "Azure DevOps does not let you decide this approval (you are not one of its approvers)"
                    .into()
            }
            Refusal::TestGate { failing } => {
                let names: Vec<String> = failing
                    .iter()
                    .take(5)
                    .map(|g| format!("{} ({})", g.circuit, g.status))
                    .collect();
                let more = failing.len().saturating_sub(5);
                format!(
                    "test validation has not passed for {} circuit{}: {}{} (override with a reason: break-glass)",
                    failing.len(),
                    if failing.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        }
    }
}

/// The verdict on an action: allowed, or the refusals in the order to fix them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyCheck {
    pub refusals: Vec<Refusal>,
}

impl PolicyCheck {
    /// Allowed as is.
    pub fn allowed(&self) -> bool {
        self.refusals.is_empty()
    }

    /// Allowed when the operator overrides the test gate with a reason.
    pub fn allowed_with_override(&self) -> bool {
        self.refusals.iter().all(Refusal::overridable)
    }

    pub fn needs_override(&self) -> bool {
        !self.allowed() && self.allowed_with_override()
    }

    pub fn reasons(&self) -> Vec<String> {
        self.refusals.iter().map(Refusal::reason).collect()
    }
}

impl ApprovalPolicy {
    /// Distinct approvers a stage needs: what DevOps says, and at least the policy for Prod.
    /// A rollback run is the exception: its own Approval check governs it. It restores a
    /// version Prod ran before, and DevOps runs it once its check is satisfied, so relcon's
    /// Prod minimum (written for deploying new models) could only be shown, never enforced.
    pub fn required_approvers(&self, item: &ApprovalItem) -> u32 {
        let devops = item.required.max(1);
        if item.stage == Stage::Prod && !item.rollback_run {
            devops.max(self.prod_min_approvers)
        } else {
            devops
        }
    }

    /// May `operator` approve this stage? `evidence` is the test validation of every circuit
    /// the release deploys (for Production's gate).
    pub fn check_approve(
        &self,
        item: &ApprovalItem,
        operator: &IdentityRef,
        evidence: &[GateEvidence],
    ) -> PolicyCheck {
        let mut refusals = Vec::new();
        if self.read_only {
            refusals.push(Refusal::ReadOnly);
        }
        if item.pending_ids.is_empty() {
            refusals.push(Refusal::NotPending);
        }
        // relcon's four-eyes setting, or the platform's own rule for this stage (from the port).
        let self_blocked = self.forbid_self_approval || item.requester_blocked;
        let own = self_blocked && item.requested_by.same_as(operator);
        if own {
            refusals.push(Refusal::SelfApproval {
                requested_by: item.requested_by.name().to_owned(),
            });
        }
        let approved = item.approved.iter().any(|d| d.by.same_as(operator));
        if approved {
            refusals.push(Refusal::AlreadyApproved);
        }
        // The platform's own word on the operator, when it gives one and nothing above
        // already says why (the requester is among the blocked approvers too).
        let blocked = item.blocked_approvers.iter().any(|b| b.same_as(operator));
        if !own && !approved && blocked {
            refusals.push(Refusal::BlockedByPlatform);
        } else if !own && !approved && item.caller_may_decide == Some(false) {
            refusals.push(Refusal::NotAnApprover);
        }
        // A rollback run restores what Prod ran before: there is no new model to test.
        if item.stage == Stage::Prod && self.require_passing_tests && !item.rollback_run {
            let failing: Vec<GateEvidence> = evidence
                .iter()
                .filter(|e| e.status != Status::Ok)
                .cloned()
                .collect();
            let covered = evidence.len();
            let expected = item.models.len();
            let mut failing = failing;
            // A circuit without any evidence has not passed.
            if covered < expected {
                for m in &item.models {
                    if !evidence.iter().any(|e| e.circuit == m.circuit) {
                        failing.push(GateEvidence {
                            circuit: m.circuit.clone(),
                            status: Status::Unknown,
                            detail: "no validation found".into(),
                        });
                    }
                }
            }
            if !failing.is_empty() {
                refusals.push(Refusal::TestGate { failing });
            }
        }
        PolicyCheck { refusals }
    }

    /// May `operator` reject this stage? Rejecting one's own release is allowed: it stops it.
    pub fn check_reject(&self, item: &ApprovalItem) -> PolicyCheck {
        let mut refusals = Vec::new();
        if self.read_only {
            refusals.push(Refusal::ReadOnly);
        }
        if item.pending_ids.is_empty() {
            refusals.push(Refusal::NotPending);
        }
        PolicyCheck { refusals }
    }

    /// May anything be changed at all (rollbacks)?
    pub fn check_mutation(&self) -> PolicyCheck {
        PolicyCheck {
            refusals: if self.read_only {
                vec![Refusal::ReadOnly]
            } else {
                Vec::new()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelVersion;
    use crate::fleet::{Decision, ReleaseModel};

    fn who(name: &str) -> IdentityRef {
        IdentityRef {
            id: format!("id-{name}").into(),
            display_name: name.to_owned().into(),
            unique_name: format!("{name}@contoso.com").into(),
        }
    }

    fn item(stage: Stage, requested_by: &str, approved: &[&str]) -> ApprovalItem {
        ApprovalItem {
            release_id: 7,
            release_name: "Release-7".into(),
            stage,
            environment_id: 21.into(),
            pending_ids: vec![101.into(), 102.into()],
            requested_by: who(requested_by),
            requested_at: None,
            approved: approved
                .iter()
                .map(|a| Decision {
                    by: who(a),
                    at: None,
                    comment: String::new(),
                })
                .collect(),
            required: 2,
            requester_blocked: false,
            description: String::new(),
            models: vec![ReleaseModel {
                circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
                version: ModelVersion(4),
            }],
            environment_only: None,
            previous_environment: None,
            rollback_run: false,
            blocked_approvers: Vec::new(),
            approvers: Vec::new(),
            caller_may_decide: None,
        }
    }

    fn policy() -> ApprovalPolicy {
        ApprovalPolicy {
            prod_min_approvers: 2,
            forbid_self_approval: true,
            require_passing_tests: true,
            read_only: false,
        }
    }

    fn pass() -> Vec<GateEvidence> {
        vec![GateEvidence {
            circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
            status: Status::Ok,
            detail: String::new(),
        }]
    }

    /// The platform's rule comes through the port (a YAML Approval check's
    /// `requesterCannotBeApprover`): it refuses self-approval even with relcon's setting off.
    #[test]
    fn the_platforms_requester_rule_applies_without_relcons_setting() {
        let lax = ApprovalPolicy {
            forbid_self_approval: false,
            ..policy()
        };
        let mut it = item(Stage::Prod, "carol", &[]);
        assert!(lax.check_approve(&it, &who("carol"), &pass()).allowed());
        it.requester_blocked = true;
        let check = lax.check_approve(&it, &who("carol"), &pass());
        assert!(matches!(
            check.refusals.as_slice(),
            [Refusal::SelfApproval { .. }]
        ));
        assert!(lax.check_approve(&it, &who("dave"), &pass()).allowed());
    }

    #[test]
    fn second_approver_with_passing_tests_may_approve() {
        let c = policy().check_approve(
            &item(Stage::Prod, "alice", &["bob"]),
            &who("carol"),
            &pass(),
        );
        assert!(c.allowed(), "{:?}", c.reasons());
    }

    #[test]
    fn requester_may_not_approve_but_may_reject() {
        let i = item(Stage::Registry, "alice", &[]);
        let c = policy().check_approve(&i, &who("alice"), &[]);
        assert!(!c.allowed() && !c.allowed_with_override());
        assert!(c.reasons()[0].contains("four-eyes"), "{:?}", c.reasons());
        assert!(policy().check_reject(&i).allowed());
        let lax = ApprovalPolicy {
            forbid_self_approval: false,
            ..policy()
        };
        assert!(lax.check_approve(&i, &who("alice"), &[]).allowed());
    }

    #[test]
    fn same_person_cannot_be_both_prod_approvers() {
        let c = policy().check_approve(&item(Stage::Prod, "alice", &["bob"]), &who("bob"), &pass());
        assert_eq!(c.refusals, vec![Refusal::AlreadyApproved]);
    }

    #[test]
    fn failing_or_missing_tests_need_an_override_for_prod_only() {
        let failing = vec![GateEvidence {
            circuit: "PLANT001/CIRCUIT01".parse().unwrap(),
            status: Status::Alert,
            detail: "mae too high".into(),
        }];
        let c = policy().check_approve(&item(Stage::Prod, "alice", &[]), &who("bob"), &failing);
        assert!(!c.allowed() && c.needs_override());
        assert!(
            c.reasons()[0].contains("PLANT001/CIRCUIT01 (alert)"),
            "{:?}",
            c.reasons()
        );
        let missing = policy().check_approve(&item(Stage::Prod, "alice", &[]), &who("bob"), &[]);
        assert!(missing.needs_override(), "no evidence is not a pass");
        let registry =
            policy().check_approve(&item(Stage::Registry, "alice", &[]), &who("bob"), &failing);
        assert!(registry.allowed(), "the gate is for Production");
        let off = ApprovalPolicy {
            require_passing_tests: false,
            ..policy()
        };
        assert!(
            off.check_approve(&item(Stage::Prod, "alice", &[]), &who("bob"), &failing)
                .allowed()
        );
    }

    #[test]
    fn read_only_refuses_everything_without_override() {
        let ro = ApprovalPolicy {
            read_only: true,
            ..policy()
        };
        let c = ro.check_approve(&item(Stage::Prod, "alice", &[]), &who("bob"), &pass());
        assert!(!c.allowed_with_override());
        assert!(!ro.check_reject(&item(Stage::Prod, "alice", &[])).allowed());
        assert!(!ro.check_mutation().allowed());
    }

    #[test]
    fn prod_needs_at_least_the_policy_count() {
        let mut i = item(Stage::Prod, "alice", &[]);
        i.required = 1;
        assert_eq!(policy().required_approvers(&i), 2);
        i.stage = Stage::Registry;
        assert_eq!(policy().required_approvers(&i), 1);
    }

    /// A rollback run's own check is its rule (one approval completes it in DevOps), and it
    /// has no new model for the test gate: no validation of what it restores is needed.
    #[test]
    fn a_rollback_run_is_governed_by_its_own_check_and_has_no_test_gate() {
        let mut i = item(Stage::Prod, "alice", &[]);
        i.required = 1;
        i.rollback_run = true;
        assert_eq!(policy().required_approvers(&i), 1);
        assert!(policy().check_approve(&i, &who("bob"), &[]).allowed());
        // Four eyes still holds.
        let own = policy().check_approve(&i, &who("alice"), &[]);
        assert!(matches!(own.refusals[..], [Refusal::SelfApproval { .. }]));
        i.rollback_run = false;
        assert!(matches!(
            policy().check_approve(&i, &who("bob"), &[]).refusals[..],
            [Refusal::TestGate { .. }]
        ));
    }

    /// What the platform says of the operator (YAML `blockedApprovers`, `permissions`) is a
    /// refusal before anything is sent, said once: the requester is refused as the requester.
    #[test]
    fn the_platforms_blocked_approvers_and_permissions_refuse_before_sending() {
        let mut i = item(Stage::Registry, "alice", &[]);
        i.blocked_approvers = vec![who("alice"), who("bob")];
        let bob = policy().check_approve(&i, &who("bob"), &[]);
        assert_eq!(bob.refusals, [Refusal::BlockedByPlatform]);
        assert!(!bob.allowed_with_override());
        let alice = policy().check_approve(&i, &who("alice"), &[]);
        assert!(matches!(alice.refusals[..], [Refusal::SelfApproval { .. }]));
        assert!(policy().check_approve(&i, &who("carol"), &[]).allowed());
        i.caller_may_decide = Some(false);
        assert_eq!(
            policy().check_approve(&i, &who("carol"), &[]).refusals,
            [Refusal::NotAnApprover]
        );
        i.caller_may_decide = Some(true);
        assert!(policy().check_approve(&i, &who("carol"), &[]).allowed());
    }
}
