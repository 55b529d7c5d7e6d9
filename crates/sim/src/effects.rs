//! What a finished deployment changes: the Test or Prod batch deployments a release points at
//! its models (or, environment-only, at a new environment), the validation results Test
//! writes, which model Prod serves from when; and ARM's long-running deployment operations.

use chrono::{DateTime, Duration, Utc};

use super::machine::PIPELINE_PRINCIPAL;
use super::world::{Deployment, Ids, OpKind, Operation, ValidationRow, World};
use crate::domain::Stage;

impl World {
    /// Point the stage's deployments at the release's models (or, for an environment-only
    /// release, every deployment at its environment); Test also writes validation results.
    pub(super) fn deploy_release(&mut self, r: usize, stage: Stage, t: DateTime<Utc>) {
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

    pub(super) fn finish_op(&mut self, o: usize, t: DateTime<Utc>) {
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
}

/// `a` is a later semver than `b` (unparseable versions are never newer).
fn newer(a: &str, b: &str) -> bool {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}
