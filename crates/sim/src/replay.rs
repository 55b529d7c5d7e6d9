//! The scenario's history, played through the state machine: an empty world with endpoints,
//! then every planned release created, approved, rejected or abandoned at its time, so
//! deployments, registry contents and validation results follow from the same rules the
//! live simulator applies.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;

use super::fleet::Fleet;
use super::history::Change;
use super::scenario::{End, Plan, Tag};
use super::world::{
    Build, CAROL, CircuitState, DEPLOYMENT_ID_BASE, ENV_ID_BASE, Endpoint, Ids, ReleaseStatus,
    ScenarioSummary, Workspace, World, initial_people, sha40,
};
use crate::domain::Stage;

/// An empty world at the start of history: people, endpoints per plant, assets.
pub(super) fn empty_world(
    fleet: Fleet,
    circuits: Vec<CircuitState>,
    seed: u64,
    now: DateTime<Utc>,
    deploy_time: Duration,
    update_time: Duration,
    plans: &[Plan],
) -> World {
    let ids = Ids::new();
    let t0 = plans.iter().map(|p| p.at).min().unwrap_or(now) - Duration::days(14);
    let people = initial_people(ids.org);
    let mut serving = [Workspace::default(), Workspace::default()];
    for ws in &mut serving {
        for (p, plant) in fleet.plants.iter().enumerate() {
            let first = fleet
                .circuits
                .iter()
                .find(|c| c.plant == p)
                .map(|c| c.r.render("deployment-{circuit}"))
                .unwrap_or_default();
            let mut tags = BTreeMap::new();
            tags.insert("plant_id".to_owned(), plant.id.to_string());
            tags.insert("plant_name".to_owned(), plant.name.clone());
            if let Some(site) = &plant.site {
                tags.insert("site".to_owned(), site.clone());
            }
            let name = format!("batch-endpoint-{}", plant.id.lower());
            ws.by_name.insert(name.clone(), ws.endpoints.len());
            ws.endpoints.push(Endpoint {
                name,
                plant: Some(p),
                description: plant.name.clone(),
                tags,
                default_deployment: first,
                deployments: Vec::new(),
                provisioning: "Succeeded",
                created_at: t0,
                modified_at: t0,
                modified_by: "ml-platform-admins".into(),
            });
        }
    }
    let [test, prod] = serving;
    let env_versions = [
        ("1.3.0", 330),
        ("1.4.0", 240),
        ("1.4.1", 200),
        ("1.4.2", 170),
        ("1.5.0", 120),
        ("1.5.1", 5),
    ]
    .iter()
    .map(|(v, d)| ((*v).to_owned(), now - Duration::days(*d)))
    .collect();
    let data_versions = (0..8)
        .rev()
        .map(|m| {
            let at = now - Duration::days(30 * m + 9);
            (at.format("%Y-%m-%d").to_string(), at)
        })
        .collect();
    let n = circuits.len();
    let circuit_by_ref = fleet
        .circuits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.r.clone(), i))
        .collect();
    World {
        ids,
        circuit_by_ref,
        seed,
        deploy_time,
        redeploy_approvals: false,
        yaml: Default::default(),
        query_max_rows: crate::monitor::MAX_ROWS,
        release_creator_can_be_approver: true,
        update_time,
        fleet,
        circuits,
        people,
        builds: Vec::new(),
        commit_index: HashMap::new(),
        releases: Vec::new(),
        approvals: Vec::new(),
        workspaces: [Workspace::default(), test, prod],
        circuit_deployments: vec![[None, None]; n],
        ops: Vec::new(),
        active: Vec::new(),
        validation: Vec::new(),
        env_versions,
        data_versions,
        monitor: Default::default(),
        alerts: Vec::new(),
        jobs: Default::default(),
        scenario: ScenarioSummary::default(),
        next_env_id: ENV_ID_BASE,
        next_deployment_id: DEPLOYMENT_ID_BASE,
        clock: t0,
        revision: 0,
        release_json_cache: Default::default(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Create,
    Decide {
        env: usize,
        who: usize,
        approve: bool,
    },
    Abandon,
}

/// Release ids of the plans, by plan index, and what they ended as.
pub(super) struct Tagged {
    pub release_of_plan: Vec<Option<usize>>,
}

/// Create builds for every plan, then play all scripted actions in time order.
pub(super) fn replay(
    w: &mut World,
    plans: &[Plan],
    changes: &[Vec<String>],
    rng: &mut Rng,
    now: DateTime<Utc>,
) -> Tagged {
    let deploy = w.deploy_time;
    let mut per_day: HashMap<String, u32> = HashMap::new();
    let mut script: Vec<(DateTime<Utc>, usize, Action)> = Vec::new();
    let hours = |rng: &mut Rng, lo: f64, hi: f64| {
        Duration::seconds(((lo + rng.f64() * (hi - lo)) * 3600.0) as i64)
    };
    for (i, p) in plans.iter().enumerate() {
        let at = p.at - Duration::hours(2);
        let day = at.format("%Y%m%d").to_string();
        let seq = per_day.entry(day.clone()).or_insert(0);
        *seq += 1;
        let id = 4100 + i as u32 * 3 + rng.u32(0..3);
        let commit = sha40(&format!("commit:{}:{i}", w.seed));
        w.commit_index.insert(commit.clone(), w.builds.len());
        for &(c, v) in &p.models {
            if let Some(mv) = w.circuits[c].versions.get_mut(v as usize - 1) {
                mv.build = w.builds.len();
                mv.created = at + Duration::minutes(40 + rng.i64(0..50));
            }
        }
        w.builds.push(Build {
            id,
            number: format!("{day}.{seq}"),
            commit,
            pr: 300 + i as u32,
            at,
            requested_by: p.who,
            models: p.models.clone(),
        });

        let who = p.who;
        let other = |rng: &mut Rng, not: &[usize]| loop {
            let x = rng.usize(1..=5);
            if !not.contains(&x) {
                break x;
            }
        };
        let t0 = p.at;
        script.push((t0, i, Action::Create));
        let a1 = other(rng, &[who]);
        let decide = |env, who, approve| Action::Decide { env, who, approve };
        let t_reg = t0 + hours(rng, 1.0, 10.0);
        let t_prod = t_reg + deploy * 2 + hours(rng, 3.0, 30.0);
        let (p1, p2) = {
            let p1 = other(rng, &[who]);
            (p1, other(rng, &[who, p1]))
        };
        match p.end {
            End::Succeeded => {
                script.push((t_reg, i, decide(0, a1, true)));
                script.push((t_prod, i, decide(2, p1, true)));
                script.push((t_prod + hours(rng, 0.2, 5.0), i, decide(2, p2, true)));
            }
            End::ProdAt(t) => {
                let t_reg = t0 + Duration::hours(2);
                let first = (t - deploy - Duration::hours(3))
                    .max(t_reg + deploy * 2 + Duration::minutes(1));
                script.push((t_reg, i, decide(0, a1, true)));
                script.push((first, i, decide(2, p1, true)));
                script.push((
                    (t - deploy).max(first + Duration::minutes(1)),
                    i,
                    decide(2, p2, true),
                ));
            }
            End::RejectedRegistry => {
                script.push((t0 + hours(rng, 2.0, 20.0), i, decide(0, a1, false)))
            }
            End::RejectedProduction => {
                script.push((t_reg, i, decide(0, a1, true)));
                script.push((t_prod, i, decide(2, p1, false)));
            }
            End::Abandoned => script.push((t0 + hours(rng, 24.0, 72.0), i, Action::Abandon)),
            End::PendingRegistry => {}
            End::PendingProduction { half } => {
                let t_reg = t0 + hours(rng, 1.0, 4.0);
                script.push((t_reg, i, decide(0, a1, true)));
                let t_half = t_reg + deploy * 2 + Duration::hours(5);
                if half && t_half < now {
                    script.push((t_half, i, decide(2, CAROL.max(1), true)));
                }
            }
            End::TestInProgress => {
                let t_reg = (now - deploy - deploy / 2).max(t0 + Duration::minutes(1));
                script.push((t_reg, i, decide(0, a1, true)));
            }
        }
    }
    script.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut release_of_plan: Vec<Option<usize>> = vec![None; plans.len()];
    for (t, i, action) in script {
        if t > now {
            continue;
        }
        w.advance(t);
        match action {
            Action::Create => {
                let description = describe(w, &plans[i], changes, w.builds[i].pr);
                let env_only = plans[i]
                    .env_only
                    .then(|| ("1.5.1".to_owned(), "1.5.0".to_owned()));
                let r = w.create_release(
                    i,
                    plans[i].who,
                    t,
                    description,
                    env_only,
                    plans[i].failing.clone(),
                );
                release_of_plan[i] = Some(r);
            }
            Action::Decide { env, who, approve } => {
                if let Some(r) = release_of_plan[i] {
                    w.decide_next(r, env, who, approve, t);
                }
            }
            Action::Abandon => {
                if let Some(r) = release_of_plan[i] {
                    w.abandon(r, plans[i].who, t);
                }
            }
        }
    }
    // One recent validation of a superseded model could not compute MAPE (an all-zero
    // actuals window): the service stores NaN, and clients must read it back as such. Never
    // the rollback release's, nor anything that runs in Test or Prod now.
    let keep: Vec<u32> = plans
        .iter()
        .zip(&release_of_plan)
        .filter(|(p, _)| p.tag != Tag::None)
        .filter_map(|(_, r)| r.map(|r| w.releases[r].id))
        .collect();
    let superseded = w.validation.iter().rposition(|row| {
        let c = row.circuit;
        row.at > now - Duration::days(80)
            && !keep.contains(&row.release_id)
            && w.deployed_version(Stage::Prod, c)
                .is_some_and(|v| v > row.model_version)
            && w.deployed_version(Stage::Test, c)
                .is_some_and(|v| v > row.model_version)
    });
    if let Some(i) = superseded {
        w.validation[i].mape = f64::NAN;
    }
    Tagged { release_of_plan }
}

/// The release description: what changed, for which circuits.
fn describe(w: &World, p: &Plan, changes: &[Vec<String>], pr: u32) -> String {
    if p.env_only {
        return format!(
            "Environment-only release: {} 1.5.0 -> 1.5.1 (non-breaking) for all {} circuits",
            w.ids.environment_name,
            w.circuits.len()
        );
    }
    let names: Vec<String> = p
        .models
        .iter()
        .take(3)
        .map(|&(c, _)| w.fleet.circuits[c].r.to_string())
        .collect();
    let more = p.models.len().saturating_sub(3);
    let what = p
        .models
        .first()
        .and_then(|&(c, v)| changes[c].get(v as usize - 1))
        .cloned()
        .unwrap_or_default();
    let list = if more > 0 {
        format!("{} and {more} more", names.join(", "))
    } else {
        names.join(", ")
    };
    format!("PR !{pr}: retrain {list}: {what}")
}

/// The special circuits and the identical change, as chosen by the scenario.
pub(super) struct Picks<'a> {
    pub plans: &'a [Plan],
    pub incident: usize,
    pub lineage: usize,
    pub change: &'a Change,
    pub odd: &'a [usize],
    pub env_failing: &'a [usize],
}

pub(super) fn summarize(w: &World, tagged: &Tagged, picks: Picks<'_>) -> ScenarioSummary {
    let name = |c: usize| w.fleet.circuits[c].r.to_string();
    let plan_release = |tag: Tag| -> Option<usize> {
        let i = picks.plans.iter().position(|p| p.tag == tag)?;
        tagged.release_of_plan.get(i).copied().flatten()
    };
    let id = |r: Option<usize>| r.map(|r| w.releases[r].id).unwrap_or(0);
    let mut s = ScenarioSummary {
        circuits: w.circuits.len(),
        plants: w.fleet.plants.len(),
        releases: w.releases.len(),
        incident_circuit: name(picks.incident),
        lineage_break_circuit: name(picks.lineage),
        incident_release_id: id(plan_release(Tag::Incident)),
        rollback_release_id: id(plan_release(Tag::RollbackTarget)),
        environment_release_id: id(plan_release(Tag::Env)),
        alice_release_id: id(plan_release(Tag::Alice)),
        half_approved_release_id: id(plan_release(Tag::Half)),
        identical_change_release_id: id(plan_release(Tag::Big)),
        in_progress_release_id: id(plan_release(Tag::InProgress)),
        odd_ones_out: picks.odd.iter().map(|&c| name(c)).collect(),
        environment_failing_circuits: picks.env_failing.iter().map(|&c| name(c)).collect(),
        identical_change: picks
            .change
            .iter()
            .map(|(f, old, new)| format!("{}: {old} -> {new}", f.name()))
            .collect::<Vec<_>>()
            .join(", "),
        ..ScenarioSummary::default()
    };
    let nv = w.circuits[picks.incident].versions.len() as u32;
    s.incident_version = nv;
    s.rollback_version = nv.saturating_sub(1);
    if let Some(r) = plan_release(Tag::RollbackTarget) {
        s.rollback_release_circuits = w.release_models(r).iter().map(|&(c, _)| name(c)).collect();
    }
    if let Some(r) = plan_release(Tag::Big) {
        s.identical_change_circuits = w.release_models(r).len();
    }
    for (r, rel) in w.releases.iter().enumerate() {
        let pending: Vec<usize> = (0..3)
            .filter(|&e| {
                rel.envs[e]
                    .approvals
                    .iter()
                    .any(|&a| w.approvals[a].status == super::world::ApprovalStatus::Pending)
            })
            .collect();
        for e in pending {
            let n = rel.envs[e]
                .approvals
                .iter()
                .filter(|&&a| w.approvals[a].status == super::world::ApprovalStatus::Pending)
                .count();
            if e == 0 {
                s.pending_registry_releases.push(rel.id);
                s.pending_registry_approvals += n;
            } else {
                s.pending_production_releases.push(rel.id);
                s.pending_production_approvals += n;
                if rel.env_only.is_some() {
                    // Evidence for its own release; not a model release's test gate.
                } else if rel.failing.is_empty() {
                    s.production_releases_passing.push(rel.id);
                } else {
                    s.production_releases_failing.push(rel.id);
                }
            }
        }
        if rel.status == ReleaseStatus::Abandoned {
            s.abandoned_release_ids.push(rel.id);
        } else if (0..3).any(|e| w.env_status(r, e, w.clock) == "rejected") {
            s.rejected_release_ids.push(rel.id);
        }
    }
    s.drift_alert_circuits = w.monitor.alert_circuits().map(name).collect();
    s
}
