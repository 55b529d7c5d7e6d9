//! State transitions of the simulated platform, applied on the simulated clock: approvals start
//! deployments, deployments finish after `deploy_minutes` and change what Test and Prod serve,
//! deployment PUTs finish after `update_minutes`. Transitions are applied lazily and in time
//! order whenever a request (or the scenario's replay) moves the world to a later time.

use chrono::{DateTime, Duration, Utc};

use super::world::{
    APPROVAL_ID_BASE, Approval, ApprovalStatus, Attempt, ENV_NAMES, Env, Phase, Release,
    ReleaseStatus, SERVICE, World,
};
use crate::domain::Stage;

/// The service principal the release pipeline deploys as (ARM `systemData`).
pub const PIPELINE_PRINCIPAL: &str = "forecast-release-pipeline";

/// Why an approval could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideError {
    NotPending(ApprovalStatus),
    ReleaseAbandoned,
    /// The stage's `releaseCreatorCanBeApprover` is off and `who` created the release or
    /// requested this deployment of the stage.
    RequesterMayNotApprove {
        created_release: bool,
    },
}

/// Why a stage could not be (re)deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedeployError {
    Abandoned,
    AlreadyActive(&'static str),
    PreviousNotSucceeded(&'static str),
}

impl World {
    /// How long a deployment waits in the queue before an agent picks it up.
    fn queue_time(&self) -> Duration {
        (self.deploy_time / 4).min(Duration::seconds(30))
    }

    /// Apply every transition due up to `now`, earliest first; effects that start further
    /// work (Registry done -> Test starts) are timed from the event, not from `now`.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        loop {
            let mut next: Option<(DateTime<Utc>, Due)> = None;
            for &(ri, ei) in &self.active {
                if let Some(Attempt {
                    phase: Phase::Deploying { done_at, .. },
                    ..
                }) = self.releases[ri].envs[ei].attempts.last()
                    && *done_at <= now
                    && next.as_ref().is_none_or(|(t, _)| done_at < t)
                {
                    next = Some((*done_at, Due::Env(ri, ei)));
                }
            }
            for (oi, op) in self.ops.iter().enumerate() {
                if !op.done
                    && op.done_at <= now
                    && next.as_ref().is_none_or(|(t, _)| op.done_at < *t)
                {
                    next = Some((op.done_at, Due::Op(oi)));
                }
            }
            match next {
                Some((t, Due::Env(r, e))) => {
                    self.revision += 1;
                    self.complete(r, e, t)
                }
                Some((t, Due::Op(o))) => {
                    self.revision += 1;
                    self.finish_op(o, t)
                }
                None => break,
            }
        }
        if now > self.clock {
            self.clock = now;
        }
    }

    /// A new release of a build, waiting for its Registry approval.
    pub fn create_release(
        &mut self,
        build: usize,
        who: usize,
        at: DateTime<Utc>,
        description: String,
        env_only: Option<(String, String)>,
        failing: Vec<usize>,
    ) -> usize {
        let id = super::world::RELEASE_ID_BASE + self.releases.len() as u32;
        let env = |w: &mut World, i: usize| {
            let id = w.next_env_id;
            w.next_env_id += 1;
            Env {
                id,
                def_id: i as u32 + 1,
                name: ENV_NAMES[i],
                required: [1, 0, 2][i],
                approvals: Vec::new(),
                attempts: Vec::new(),
                created_on: at,
                modified_on: at,
                trigger_reason: [
                    "After release creation",
                    "After successful deployment of Registry",
                    "After successful deployment of Test",
                ][i],
            }
        };
        let envs = [env(self, 0), env(self, 1), env(self, 2)];
        self.releases.push(Release {
            id,
            name: format!("Release-{id}"),
            build,
            created_on: at,
            created_by: who,
            modified_on: at,
            modified_by: who,
            description,
            status: ReleaseStatus::Active,
            env_only,
            envs,
            failing,
        });
        let r = self.releases.len() - 1;
        self.start_attempt(r, 0, who, "automated", at, false);
        r
    }

    /// A new attempt of an environment: waiting for approval when the stage needs it (and
    /// `skip_approval` is false), else queued to deploy.
    fn start_attempt(
        &mut self,
        r: usize,
        e: usize,
        who: usize,
        reason: &'static str,
        at: DateTime<Utc>,
        skip_approval: bool,
    ) {
        let deployment_id = self.next_deployment_id;
        self.next_deployment_id += 1;
        let (queue, deploy) = (self.queue_time(), self.deploy_time);
        let env = &self.releases[r].envs[e];
        let attempt = env.attempts.last().map_or(1, |a| a.attempt + 1);
        let required = env.required;
        let manual = required > 0 && !skip_approval;
        let phase = if manual {
            Phase::AwaitingApproval
        } else {
            Phase::Deploying {
                start_at: at + queue,
                done_at: at + deploy,
            }
        };
        let n_records = if manual {
            required
        } else {
            u32::from(required == 0)
        };
        for _ in 0..n_records {
            let id = APPROVAL_ID_BASE + self.approvals.len() as u32;
            self.approvals.push(Approval {
                id,
                release: r,
                env: e,
                attempt,
                automated: !manual,
                status: if manual {
                    ApprovalStatus::Pending
                } else {
                    ApprovalStatus::Approved
                },
                approved_by: None,
                comments: String::new(),
                created_on: at,
                modified_on: at,
                revision: 1,
            });
            let idx = self.approvals.len() - 1;
            self.releases[r].envs[e].approvals.push(idx);
        }
        let env = &mut self.releases[r].envs[e];
        env.attempts.push(Attempt {
            deployment_id,
            attempt,
            reason,
            requested_by: who,
            queued_on: at,
            started_on: (!manual).then_some(at + queue),
            completed_on: None,
            phase,
            modified_on: at,
            modified_by: who,
        });
        env.modified_on = at;
        self.releases[r].modified_on = at;
        if !manual {
            self.active.push((r, e));
        }
    }

    /// Approve or reject one approval as `who`.
    pub fn decide(
        &mut self,
        a: usize,
        who: usize,
        approve: bool,
        comments: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DecideError> {
        let (r, e, attempt, status) = {
            let ap = &self.approvals[a];
            (ap.release, ap.env, ap.attempt, ap.status)
        };
        if status != ApprovalStatus::Pending {
            return Err(DecideError::NotPending(status));
        }
        if self.releases[r].status == ReleaseStatus::Abandoned {
            return Err(DecideError::ReleaseAbandoned);
        }
        if approve && !self.release_creator_can_be_approver {
            // DevOps' option read literally: neither the release's creator nor whoever
            // requested this deployment (a redeploy's trigger) may approve it.
            let created_release = self.releases[r].created_by == who;
            let requested = self.releases[r].envs[e]
                .attempts
                .iter()
                .any(|t| t.attempt == attempt && t.requested_by == who);
            if created_release || requested {
                return Err(DecideError::RequesterMayNotApprove { created_release });
            }
        }
        {
            let ap = &mut self.approvals[a];
            ap.status = if approve {
                ApprovalStatus::Approved
            } else {
                ApprovalStatus::Rejected
            };
            ap.approved_by = Some(who);
            ap.comments = comments.to_owned();
            ap.modified_on = at;
            ap.revision += 1;
        }
        let siblings: Vec<usize> = self.releases[r].envs[e]
            .approvals
            .iter()
            .copied()
            .filter(|&i| self.approvals[i].attempt == attempt)
            .collect();
        let (queue, deploy) = (self.queue_time(), self.deploy_time);
        if !approve {
            for &i in &siblings {
                if self.approvals[i].status == ApprovalStatus::Pending {
                    self.approvals[i].status = ApprovalStatus::Canceled;
                    self.approvals[i].modified_on = at;
                }
            }
            self.set_phase(r, e, Phase::Rejected, who, at);
            return Ok(());
        }
        let approved = siblings
            .iter()
            .filter(|&&i| self.approvals[i].status == ApprovalStatus::Approved)
            .count() as u32;
        if approved >= self.releases[r].envs[e].required {
            self.set_phase(
                r,
                e,
                Phase::Deploying {
                    start_at: at + queue,
                    done_at: at + deploy,
                },
                who,
                at,
            );
            if let Some(last) = self.releases[r].envs[e].attempts.last_mut() {
                last.queued_on = at;
                last.started_on = Some(at + queue);
            }
        } else {
            self.touch(r, e, who, at);
        }
        Ok(())
    }

    /// Decide the first pending approval of a stage (the scenario's scripted decisions).
    pub fn decide_next(
        &mut self,
        r: usize,
        e: usize,
        who: usize,
        approve: bool,
        at: DateTime<Utc>,
    ) {
        let pending = self.releases[r].envs[e]
            .approvals
            .iter()
            .copied()
            .find(|&i| self.approvals[i].status == ApprovalStatus::Pending);
        if let Some(a) = pending {
            let comment = if approve {
                [
                    "Looks good.",
                    "Evidence reviewed, approved.",
                    "OK to ship.",
                    "Approved.",
                ][a % 4]
            } else {
                "Validation regressed against the Prod baseline; rejecting."
            };
            let _ = self.decide(a, who, approve, comment, at);
        }
    }

    /// Redeploy a stage (`PATCH releases/{r}/environments/{e}` with `status: inProgress`). A
    /// stage that deployed before is redeployed at once, without new approvals (the seed's
    /// rollback method 1); one that never did goes through its approvals as usual.
    pub fn redeploy(
        &mut self,
        r: usize,
        e: usize,
        who: usize,
        at: DateTime<Utc>,
    ) -> Result<(), RedeployError> {
        self.redeploy_with(r, e, who, at, self.redeploy_approvals)
    }

    /// A new attempt of a stage that always waits for the stage's approvals again (a YAML
    /// stage re-run: the environment's checks run before every attempt).
    pub fn rerun_stage(
        &mut self,
        r: usize,
        e: usize,
        who: usize,
        at: DateTime<Utc>,
    ) -> Result<(), RedeployError> {
        self.redeploy_with(r, e, who, at, true)
    }

    fn redeploy_with(
        &mut self,
        r: usize,
        e: usize,
        who: usize,
        at: DateTime<Utc>,
        approvals_again: bool,
    ) -> Result<(), RedeployError> {
        let rel = &self.releases[r];
        if rel.status == ReleaseStatus::Abandoned {
            return Err(RedeployError::Abandoned);
        }
        let env = &rel.envs[e];
        if let Some(a) = env.attempts.last()
            && matches!(a.phase, Phase::Deploying { .. } | Phase::AwaitingApproval)
        {
            return Err(RedeployError::AlreadyActive(env.name));
        }
        let deployed_before = env.attempts.iter().any(|a| a.phase == Phase::Succeeded);
        if !deployed_before
            && e > 0
            && !rel.envs[e - 1]
                .attempts
                .iter()
                .any(|a| a.phase == Phase::Succeeded)
        {
            return Err(RedeployError::PreviousNotSucceeded(rel.envs[e - 1].name));
        }
        let skip_approval = deployed_before && !approvals_again;
        self.start_attempt(r, e, who, "manual", at, skip_approval);
        self.releases[r].envs[e].trigger_reason = "Manual";
        self.releases[r].modified_by = who;
        Ok(())
    }

    /// Abandon a release: pending approvals are canceled (scenario history).
    pub fn abandon(&mut self, r: usize, who: usize, at: DateTime<Utc>) {
        for e in 0..3 {
            let approvals = self.releases[r].envs[e].approvals.clone();
            for i in approvals {
                if self.approvals[i].status == ApprovalStatus::Pending {
                    self.approvals[i].status = ApprovalStatus::Canceled;
                    self.approvals[i].modified_on = at;
                }
            }
            if matches!(
                self.releases[r].envs[e].attempts.last().map(|a| a.phase),
                Some(Phase::AwaitingApproval)
            ) {
                self.set_phase(r, e, Phase::Canceled, who, at);
            }
        }
        let rel = &mut self.releases[r];
        rel.status = ReleaseStatus::Abandoned;
        rel.modified_on = at;
        rel.modified_by = who;
    }

    fn set_phase(&mut self, r: usize, e: usize, phase: Phase, who: usize, at: DateTime<Utc>) {
        self.active.retain(|&k| k != (r, e));
        if matches!(phase, Phase::Deploying { .. }) {
            self.active.push((r, e));
        }
        if let Some(a) = self.releases[r].envs[e].attempts.last_mut() {
            a.phase = phase;
            if matches!(phase, Phase::Rejected | Phase::Canceled | Phase::Succeeded) {
                a.completed_on = Some(at);
            }
        }
        self.touch(r, e, who, at);
    }

    fn touch(&mut self, r: usize, e: usize, who: usize, at: DateTime<Utc>) {
        let rel = &mut self.releases[r];
        if let Some(a) = rel.envs[e].attempts.last_mut() {
            a.modified_on = at;
            a.modified_by = who;
        }
        rel.envs[e].modified_on = at;
        rel.modified_on = at;
        rel.modified_by = who;
    }

    /// A stage finished deploying at `t`: apply what it does, then trigger the next stage.
    fn complete(&mut self, r: usize, e: usize, t: DateTime<Utc>) {
        self.set_phase(r, e, Phase::Succeeded, SERVICE, t);
        match e {
            0 => {
                let models = self.release_models(r).to_vec();
                for (c, v) in models {
                    if let Some(mv) = self.circuits[c].versions.get_mut(v as usize - 1) {
                        mv.registry_at.get_or_insert(t);
                    }
                }
            }
            1 => self.deploy_release(r, Stage::Test, t),
            _ => self.deploy_release(r, Stage::Prod, t),
        }
        // The first success of a stage triggers the next one; a redeploy does not.
        let first_success = self.releases[r].envs[e]
            .attempts
            .iter()
            .filter(|a| a.phase == Phase::Succeeded)
            .count()
            == 1;
        if first_success && e < 2 && self.releases[r].envs[e + 1].attempts.is_empty() {
            self.start_attempt(r, e + 1, SERVICE, "automated", t, false);
        }
    }

    /// Status of an environment as DevOps reports it at `now`.
    pub fn env_status(&self, r: usize, e: usize, now: DateTime<Utc>) -> &'static str {
        let rel = &self.releases[r];
        match rel.envs[e].attempts.last().map(|a| a.phase) {
            None => "notStarted",
            Some(Phase::AwaitingApproval) => "inProgress",
            Some(Phase::Deploying { start_at, .. }) if now < start_at => "queued",
            Some(Phase::Deploying { .. }) => "inProgress",
            Some(Phase::Succeeded) => "succeeded",
            Some(Phase::Rejected) => "rejected",
            Some(Phase::Canceled) => "canceled",
        }
    }

    pub fn pending_approvals(&self) -> impl Iterator<Item = &Approval> {
        self.approvals
            .iter()
            .filter(|a| a.status == ApprovalStatus::Pending)
    }
}

enum Due {
    Env(usize, usize),
    Op(usize),
}
