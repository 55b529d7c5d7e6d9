//! State transitions of the simulated platform, applied on the simulated clock: approvals start
//! deployments, deployments finish after `deploy_minutes` and change what Test and Prod serve,
//! deployment PUTs finish after `update_minutes`. Transitions are applied lazily and in time
//! order whenever a request (or the scenario's replay) moves the world to a later time.

use chrono::{DateTime, Duration, Utc};

use super::world::{
    APPROVAL_ID_BASE, Approval, ApprovalStatus, Attempt, Deployment, ENV_NAMES, Env, Ids, OpKind,
    Operation, Phase, Release, ReleaseStatus, SERVICE, ValidationRow, World,
};
use crate::domain::Stage;

/// The service principal the release pipeline deploys as (ARM `systemData`).
pub const PIPELINE_PRINCIPAL: &str = "forecast-release-pipeline";

/// Why an approval could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideError {
    NotPending(ApprovalStatus),
    ReleaseAbandoned,
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
                Some((t, Due::Env(r, e))) => self.complete(r, e, t),
                Some((t, Due::Op(o))) => self.finish_op(o, t),
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
        self.start_attempt(r, e, who, "manual", at, deployed_before);
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

    /// Point the stage's deployments at the release's models (or, for an environment-only
    /// release, every deployment at its environment); Test also writes validation results.
    fn deploy_release(&mut self, r: usize, stage: Stage, t: DateTime<Utc>) {
        let release_id = self.releases[r].id;
        let failing = self.releases[r].failing.clone();
        if let Some((new_env, _)) = self.releases[r].env_only.clone() {
            let env_id = self.environment_asset(&new_env);
            for c in 0..self.circuits.len() {
                let prod_version = self.deployed_version(Stage::Prod, c);
                if let Some(d) = self.circuit_deployment_mut(stage, c) {
                    d.environment_id = env_id.clone();
                    d.modified_at = t;
                    d.modified_by = PIPELINE_PRINCIPAL.into();
                }
                if stage == Stage::Test
                    && let Some(v) = prod_version
                {
                    let fail = failing.contains(&c);
                    self.write_validation(c, v, release_id, &new_env, fail, t);
                }
            }
            return;
        }
        let models = self.release_models(r).to_vec();
        for (c, v) in models {
            let env = self.environment_for(stage, c);
            self.set_deployment(stage, c, v, &env, t);
            if stage == Stage::Test {
                let fail = failing.contains(&c);
                self.write_validation(c, v, release_id, &env, fail, t);
            }
        }
    }

    /// The environment a model release deploys with: the circuit's configured version, or
    /// the deployment's current one when an environment-only release already moved it on.
    fn environment_for(&self, stage: Stage, c: usize) -> String {
        let configured = self.fleet.circuits[c].env_version.clone();
        match self.deployed_environment(stage, c) {
            Some(cur) if newer(&cur, &configured) => cur,
            _ => configured,
        }
    }

    fn write_validation(
        &mut self,
        c: usize,
        v: u32,
        release_id: u32,
        env: &str,
        fail: bool,
        t: DateTime<Utc>,
    ) {
        let (mae, rmse, mape) = super::monitor::validation_metrics(
            self.seed,
            self.circuits[c].quality,
            c,
            v,
            release_id,
            fail,
        );
        self.validation.push(ValidationRow {
            at: t,
            circuit: c,
            model_version: v,
            release_id,
            env_version: env.to_owned(),
            mae,
            rmse,
            mape,
        });
    }

    /// Point a circuit's deployment at a model version, creating it on first deployment.
    fn set_deployment(&mut self, stage: Stage, c: usize, v: u32, env: &str, t: DateTime<Utc>) {
        let asset = self.registry_asset(c, v);
        let env_id = self.environment_asset(env);
        if self.circuit_deployment(stage, c).is_none() {
            self.create_circuit_deployment(stage, c, t);
        }
        if let Some(d) = self.circuit_deployment_mut(stage, c) {
            d.model_asset = asset;
            d.environment_id = env_id;
            d.provisioning = "Succeeded";
            d.modified_at = t;
            d.modified_by = PIPELINE_PRINCIPAL.into();
        }
        if stage == Stage::Prod {
            self.serve(c, v, t);
        }
    }

    fn serve(&mut self, c: usize, v: u32, t: DateTime<Utc>) {
        let serving = &mut self.circuits[c].prod_serving;
        if serving.last().map(|(_, cur)| *cur) != Some(v) {
            serving.push((t, v));
        }
    }

    fn create_circuit_deployment(&mut self, stage: Stage, c: usize, t: DateTime<Utc>) {
        let ws = &mut self.workspaces[Ids::ws_index(stage)];
        let plant = self.fleet.circuits[c].plant;
        let Some(e) = ws.endpoints.iter().position(|e| e.plant == Some(plant)) else {
            return;
        };
        let circuit = &self.fleet.circuits[c];
        let mut tags = std::collections::BTreeMap::new();
        tags.insert("plant_id".to_owned(), circuit.r.plant.to_string());
        tags.insert("circuit_id".to_owned(), circuit.r.circuit.to_string());
        let dep = Deployment {
            name: circuit.r.render("deployment-{circuit}"),
            circuit: Some(c),
            model_asset: String::new(),
            environment_id: String::new(),
            description: circuit.description.clone(),
            tags,
            extra: serde_json::Map::new(),
            provisioning: "Succeeded",
            created_at: t,
            created_by: PIPELINE_PRINCIPAL.into(),
            modified_at: t,
            modified_by: PIPELINE_PRINCIPAL.into(),
        };
        ws.endpoints[e].deployments.push(dep);
        let d = ws.endpoints[e].deployments.len() - 1;
        self.circuit_deployments[c][usize::from(stage == Stage::Prod)] = Some((e, d));
    }

    pub fn circuit_deployment_mut(&mut self, stage: Stage, c: usize) -> Option<&mut Deployment> {
        let slot = usize::from(stage == Stage::Prod);
        let (e, d) = self.circuit_deployments.get(c)?[slot]?;
        self.workspaces[Ids::ws_index(stage)]
            .endpoints
            .get_mut(e)?
            .deployments
            .get_mut(d)
    }

    /// Start a long-running operation on a deployment (or an endpoint when `deployment` is
    /// `None`); the resource shows `Updating` until it is done.
    pub fn begin_op(
        &mut self,
        kind: OpKind,
        stage: Stage,
        endpoint: usize,
        deployment: Option<usize>,
        at: DateTime<Utc>,
    ) -> usize {
        let took = match kind {
            OpKind::Put => self.update_time,
            OpKind::Patch => self.update_time.min(Duration::seconds(30)),
        };
        let n = self.ops.len();
        let id = super::world::guid(&format!("op:{}:{n}", self.seed));
        self.ops.push(Operation {
            id,
            kind,
            stage,
            endpoint,
            deployment,
            started: at,
            done_at: at + took,
            done: false,
        });
        let ws = &mut self.workspaces[Ids::ws_index(stage)];
        if let Some(ep) = ws.endpoints.get_mut(endpoint) {
            match deployment.and_then(|d| ep.deployments.get_mut(d)) {
                Some(d) => d.provisioning = "Updating",
                None if deployment.is_none() => ep.provisioning = "Updating",
                None => {}
            }
        }
        n
    }

    fn finish_op(&mut self, o: usize, t: DateTime<Utc>) {
        let (stage, e, d) = {
            let op = &mut self.ops[o];
            op.done = true;
            (op.stage, op.endpoint, op.deployment)
        };
        let ws = &mut self.workspaces[Ids::ws_index(stage)];
        let Some(ep) = ws.endpoints.get_mut(e) else {
            return;
        };
        let Some(d) = d else {
            ep.provisioning = "Succeeded";
            return;
        };
        let Some(dep) = ep.deployments.get_mut(d) else {
            return;
        };
        dep.provisioning = "Succeeded";
        let (circuit, asset) = (dep.circuit, dep.model_asset.clone());
        if stage == Stage::Prod
            && let Some(c) = circuit
            && let Some(m) = crate::domain::platform::ModelAsset::parse(&asset)
            && m.name == self.model_name(c)
        {
            self.serve(c, m.version.0, t);
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

/// `a` is a later semver than `b` (unparseable versions are never newer).
fn newer(a: &str, b: &str) -> bool {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}
