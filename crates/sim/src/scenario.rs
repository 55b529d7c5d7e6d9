//! Building the world: who plays which part (incident, lineage break, pending approvals...),
//! each circuit's model history with the configs it was trained from, the builds and releases
//! that carried them, and a replay of every scripted decision through the state machine so
//! history and current state can never disagree. Deterministic from the fleet and the seed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;

use super::fleet::Fleet;
use super::history;
use super::monitor::MonitorPlan;
use super::replay;
use super::world::{ALICE, BOB, CAROL, CircuitState, DAVE, ERIN, Quality, World};
use crate::domain::yaml::Mapping;

/// What a circuit's newest model version is waiting for, or that it is settled in Prod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Settled,
    Incident,
    Companion,
    Big,
    Registry(usize),
    Production(usize),
    InProgress,
}

/// A planned release: its models (`(circuit, version)`), when, by whom and how it ends.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub at: DateTime<Utc>,
    pub models: Vec<(usize, u32)>,
    pub who: usize,
    pub end: End,
    pub failing: Vec<usize>,
    pub env_only: bool,
    pub tag: Tag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Succeeded,
    RejectedRegistry,
    RejectedProduction,
    Abandoned,
    PendingRegistry,
    PendingProduction {
        half: bool,
    },
    TestInProgress,
    /// Production deployed at exactly this time (the incident).
    ProdAt(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    None,
    Incident,
    RollbackTarget,
    Big,
    Env,
    Alice,
    Half,
    InProgress,
}

const DAY: i64 = 86_400;

fn days(d: f64) -> Duration {
    Duration::seconds((d * DAY as f64) as i64)
}

/// Build the world at `now` from the fleet (with parsed HEAD configs) and the seed.
pub fn build(
    fleet: Fleet,
    heads: Vec<Mapping>,
    seed: u64,
    now: DateTime<Utc>,
    deploy_time: Duration,
    update_time: Duration,
) -> World {
    let mut rng = Rng::with_seed(seed);
    let n = fleet.circuits.len();
    let find = |want: &str, fallback: usize| {
        fleet
            .circuits
            .iter()
            .position(|c| c.r.to_string() == want)
            .unwrap_or(fallback.min(n - 1))
    };
    let incident = find("PLANT007/CIRCUIT03", n / 2);
    let mut lineage = find("PLANT012/CIRCUIT05", n * 3 / 4);
    let mut role = vec![Role::Settled; n];
    role[incident] = Role::Incident;
    let inc_plant = fleet.circuits[incident].plant;
    let mut same_plant: Vec<usize> = (0..n)
        .filter(|&c| c != incident && fleet.circuits[c].plant == inc_plant)
        .collect();
    rng.shuffle(&mut same_plant);
    let companions: Vec<usize> = same_plant.into_iter().take(2).collect();
    for &c in &companions {
        role[c] = Role::Companion;
    }
    if role[lineage] != Role::Settled || lineage == incident {
        lineage = (0..n)
            .rev()
            .find(|&c| role[c] == Role::Settled)
            .unwrap_or(lineage);
    }
    let mut pool: Vec<usize> = (0..n)
        .filter(|&c| role[c] == Role::Settled && c != lineage)
        .collect();
    rng.shuffle(&mut pool);

    // The big release: one identical change over many circuits, a few with an extra change.
    let big_target = if n >= 12 { (n / 4).clamp(3, 40) } else { 0 };
    let (big, change) = history::pick_identical_change(&heads, &mut pool, big_target);
    for &c in &big {
        role[c] = Role::Big;
    }
    // Spread over the release, so the odd ones are not simply the first plant's circuits.
    let odd: Vec<usize> = match big.len() {
        0..=3 => Vec::new(),
        4..=9 => vec![big[big.len() / 4], big[big.len() * 3 / 4]],
        l => vec![big[l / 6], big[l / 2], big[l * 5 / 6]],
    };

    // Small pending releases, each from one plant when possible.
    let sizes_registry = [rng.usize(1..=3), rng.usize(1..=2)];
    let sizes_production = [2, 3, 2, 1];
    let mut registry_groups = Vec::new();
    for (i, k) in sizes_registry.into_iter().enumerate() {
        let g = take_same_plant(&fleet, &mut pool, k);
        g.iter().for_each(|&c| role[c] = Role::Registry(i));
        registry_groups.push(g);
    }
    let mut production_groups = Vec::new();
    for (i, k) in sizes_production.into_iter().enumerate() {
        let g = take_same_plant(&fleet, &mut pool, k);
        g.iter().for_each(|&c| role[c] = Role::Production(i));
        production_groups.push(g);
    }
    let in_progress = take_same_plant(&fleet, &mut pool, 2);
    in_progress.iter().for_each(|&c| role[c] = Role::InProgress);

    // Model histories: versions, times and configs, newest = HEAD.
    let max_versions = if n > 2000 { 4 } else { 8 };
    let t_prev = now - days(35.0);
    let t_big = now - days(0.8);
    let mut circuits = Vec::with_capacity(n);
    let mut times: Vec<Vec<DateTime<Utc>>> = Vec::with_capacity(n);
    let mut changes: Vec<Vec<String>> = Vec::with_capacity(n);
    for c in 0..n {
        let min = match role[c] {
            Role::Incident | Role::Companion => 3,
            _ => 2,
        };
        let nv = rng.usize(min.max(2)..=max_versions.max(min));
        let t_final = match role[c] {
            Role::Settled => now - days(rng.f64() * 55.0 + 5.0),
            Role::Incident => now - days(4.0),
            Role::Companion => t_prev + days(10.0 + rng.f64() * 15.0),
            Role::Big => t_big,
            Role::Registry(_) => now - days(0.1 + rng.f64() * 1.1),
            Role::Production(_) => now - days(2.0 + rng.f64() * 2.5),
            Role::InProgress => now - Duration::hours(3),
        };
        let mut t = vec![t_final; nv];
        for k in (0..nv - 1).rev() {
            t[k] = if k == nv - 2 && matches!(role[c], Role::Incident | Role::Companion) {
                t_prev
            } else {
                t[k + 1] - days(10.0 + rng.f64() * 12.0)
            };
        }
        let (versions, ch) = history::history(
            &heads[c],
            nv,
            c,
            &big,
            &odd,
            &change,
            c == lineage,
            &mut rng,
        );
        let quality = Quality {
            mae: 0.055 + rng.f64() * 0.105,
            rmse_ratio: 1.25 + rng.f64() * 0.2,
            mape_ratio: 45.0 + rng.f64() * 25.0,
        };
        circuits.push(CircuitState {
            versions,
            prod_serving: Vec::new(),
            quality,
        });
        times.push(t);
        changes.push(ch);
    }
    drop(heads);

    // Releases: forced groups first, then the rest grouped per plant and time.
    let mut plans: Vec<Plan> = Vec::new();
    let plan = |at, models, who, end, tag| Plan {
        at,
        models,
        who,
        end,
        failing: Vec::new(),
        env_only: false,
        tag,
    };
    let newest = |c: usize| (c, circuits[c].versions.len() as u32);
    let mut forced: HashMap<(usize, u32), ()> = HashMap::new();
    let mut prev_models = vec![(incident, circuits[incident].versions.len() as u32 - 1)];
    prev_models.extend(
        companions
            .iter()
            .map(|&c| (c, circuits[c].versions.len() as u32 - 1)),
    );
    plans.push(plan(
        t_prev,
        prev_models,
        CAROL,
        End::Succeeded,
        Tag::RollbackTarget,
    ));
    plans.push(plan(
        now - days(4.0),
        vec![newest(incident)],
        BOB,
        End::ProdAt(now - days(2.0)),
        Tag::Incident,
    ));
    if !big.is_empty() {
        plans.push(plan(
            t_big,
            big.iter().map(|&c| newest(c)).collect(),
            DAVE,
            End::PendingRegistry,
            Tag::Big,
        ));
    }
    for (i, g) in registry_groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
    {
        let at = times[g[0]].last().copied().unwrap_or(now);
        plans.push(plan(
            at,
            g.iter().map(|&c| newest(c)).collect(),
            [ERIN, CAROL][i],
            End::PendingRegistry,
            Tag::None,
        ));
    }
    let who_production = [ALICE, BOB, DAVE, ERIN];
    for (i, g) in production_groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
    {
        let at = times[g[0]].last().copied().unwrap_or(now);
        let mut p = plan(
            at,
            g.iter().map(|&c| newest(c)).collect(),
            who_production[i],
            End::PendingProduction { half: i == 1 },
            [Tag::Alice, Tag::Half, Tag::None, Tag::None][i],
        );
        if i >= 2 {
            p.failing = vec![g[0]];
        }
        plans.push(p);
    }
    if !in_progress.is_empty() {
        plans.push(plan(
            now - Duration::hours(3),
            in_progress.iter().map(|&c| newest(c)).collect(),
            ERIN,
            End::TestInProgress,
            Tag::InProgress,
        ));
    }
    for p in &plans {
        for &m in &p.models {
            forced.insert(m, ());
        }
    }
    // Everything else: per plant, versions within six days of each other share a release.
    let mut eligible: Vec<usize> = Vec::new();
    let mut by_plant: BTreeMap<usize, Vec<(DateTime<Utc>, usize, u32)>> = BTreeMap::new();
    for (c, circuit_times) in times.iter().enumerate() {
        for (k, &t) in circuit_times.iter().enumerate() {
            let v = k as u32 + 1;
            if !forced.contains_key(&(c, v)) {
                by_plant
                    .entry(fleet.circuits[c].plant)
                    .or_default()
                    .push((t, c, v));
            }
        }
    }
    for items in by_plant.values_mut() {
        items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut i = 0;
        while i < items.len() {
            let (t0, c0, v0) = items[i];
            let cap = rng.usize(1..=4);
            let mut models = vec![(c0, v0)];
            let mut j = i + 1;
            while j < items.len() && models.len() < cap && items[j].0 - t0 <= days(6.0) {
                if models.iter().all(|m| m.0 != items[j].1) {
                    models.push((items[j].1, items[j].2));
                    items.remove(j);
                } else {
                    j += 1;
                }
            }
            i += 1;
            // Only versions that are neither the first nor among the two newest may fail.
            let may_fail = models
                .iter()
                .all(|&(c, v)| v >= 2 && v + 2 <= circuits[c].versions.len() as u32);
            let end = match (may_fail, rng.u8(0..100)) {
                (true, 0..=4) => End::RejectedProduction,
                (true, 5..=7) => End::RejectedRegistry,
                (true, 8..=11) => End::Abandoned,
                _ => End::Succeeded,
            };
            let mut p = plan(t0, models, rng.usize(1..=5), end, Tag::None);
            p.failing = match end {
                End::RejectedProduction => vec![p.models[0].0],
                _ => Vec::new(),
            };
            if may_fail {
                eligible.push(plans.len());
            }
            plans.push(p);
        }
    }
    // Every kind of ending shows up at least once when the history allows it.
    for (k, end) in [
        End::RejectedProduction,
        End::RejectedRegistry,
        End::Abandoned,
    ]
    .into_iter()
    .enumerate()
    {
        if !plans.iter().any(|p| p.end == end)
            && let Some(&i) = eligible
                .iter()
                .filter(|&&i| plans[i].end == End::Succeeded)
                .nth(k)
        {
            plans[i].end = end;
            if end == End::RejectedProduction {
                plans[i].failing = vec![plans[i].models[0].0];
            }
        }
    }
    // The environment-only release 1.5.0 -> 1.5.1, waiting for Production.
    let mut env_failing: Vec<usize> = (0..n).filter(|&c| c != incident).collect();
    rng.shuffle(&mut env_failing);
    env_failing.truncate((n / 30).clamp(1.min(n), 12));
    env_failing.sort_unstable();
    plans.push(Plan {
        at: now - days(3.0),
        models: Vec::new(),
        who: CAROL,
        end: End::PendingProduction { half: false },
        failing: env_failing.clone(),
        env_only: true,
        tag: Tag::Env,
    });
    plans.sort_by_key(|p| p.at);

    let mut world =
        replay::empty_world(fleet, circuits, seed, now, deploy_time, update_time, &plans);
    let tagged = replay::replay(&mut world, &plans, &changes, &mut rng, now);
    world.advance(now);
    world.monitor = MonitorPlan::new(&world, incident, &mut rng);
    world.jobs = super::jobs::JobPlan::new(&world, incident);
    let failing = world.jobs.failing.map(|(c, day)| {
        let j = super::jobs::job(&world, c, crate::domain::Stage::Prod, day, now);
        (c, j.ended.unwrap_or(now))
    });
    world.alerts = super::alerts::plan(&world, incident, failing);
    world.scenario = replay::summarize(
        &world,
        &tagged,
        replay::Picks {
            plans: &plans,
            incident,
            lineage,
            change: &change,
            odd: &odd,
            env_failing: &env_failing,
        },
    );
    let name = |c: usize| world.fleet.circuits[c].r.to_string();
    world.scenario.failing_job_circuit =
        world.jobs.failing.map(|(c, _)| name(c)).unwrap_or_default();
    world.scenario.stale_job_circuit = world.jobs.stale.map(|(c, _)| name(c)).unwrap_or_default();
    let mut alerted: Vec<String> = world
        .alerts
        .iter()
        .filter(|a| a.resolved_at.is_none() && a.state != "Closed")
        .filter_map(|a| a.circuit.map(name))
        .collect();
    alerted.sort();
    alerted.dedup();
    world.scenario.alerted_circuits = alerted;
    world
}

/// `k` circuits of one plant taken from the pool (several plants if none has enough).
fn take_same_plant(fleet: &Fleet, pool: &mut Vec<usize>, k: usize) -> Vec<usize> {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for &c in pool.iter() {
        *counts.entry(fleet.circuits[c].plant).or_default() += 1;
    }
    let plant = pool
        .iter()
        .map(|&c| fleet.circuits[c].plant)
        .find(|p| counts.get(p).copied().unwrap_or(0) >= k);
    let mut out = Vec::new();
    pool.retain(|&c| {
        let take = out.len() < k && plant.is_none_or(|p| fleet.circuits[c].plant == p);
        if take {
            out.push(c);
        }
        !take
    });
    out.sort_unstable();
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::fleet::FleetSource;

    pub fn demo_world() -> World {
        let (fleet, heads) = Fleet::load(&FleetSource::Demo, 42).unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        build(
            fleet,
            heads,
            42,
            now,
            Duration::minutes(10),
            Duration::minutes(4),
        )
    }

    fn generated(plants: usize, per_plant: usize) -> World {
        let (fleet, heads) = Fleet::load(
            &FleetSource::Generated {
                plants,
                circuits_per_plant: per_plant,
            },
            3,
        )
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        build(
            fleet,
            heads,
            3,
            now,
            Duration::minutes(10),
            Duration::minutes(4),
        )
    }

    #[test]
    fn every_circuit_of_a_fleet_past_plant_999_is_found_by_its_id() {
        // PLANT1000 sorts before PLANT999 as text: the lookup must not assume fleet order.
        let w = generated(1001, 1);
        for (i, c) in w.fleet.circuits.iter().enumerate() {
            assert_eq!(w.circuit_index(&c.r), Some(i), "{}", c.r);
        }
        assert!(
            w.circuit_index(&"PLANT1001/CIRCUIT02".parse().unwrap())
                .is_none()
        );
    }

    #[test]
    fn generated_fleets_get_a_scaled_scenario() {
        let w = generated(40, 10);
        let s = &w.scenario;
        assert_eq!(s.circuits, 400);
        assert_eq!(s.incident_circuit, "PLANT007/CIRCUIT03");
        assert_eq!(s.lineage_break_circuit, "PLANT012/CIRCUIT05");
        assert_eq!(s.identical_change_circuits, 40);
        assert!(
            s.identical_change.starts_with("cutoff_date: "),
            "{}",
            s.identical_change
        );
        assert!(
            s.identical_change.contains("delta_version: "),
            "{}",
            s.identical_change
        );
        assert_eq!(s.pending_production_approvals, 9);
        assert!(s.alice_release_id > 0 && s.environment_release_id > 0);
        // A tiny fleet still works: no big release, the rest as far as circuits allow.
        let tiny = generated(2, 3);
        assert_eq!(tiny.scenario.identical_change_circuits, 0);
        assert_eq!(tiny.scenario.circuits, 6);
        assert!(tiny.scenario.incident_release_id > 0);
        assert_eq!(
            tiny.scenario.incident_circuit, "PLANT002/CIRCUIT01",
            "the middle circuit"
        );
        assert_ne!(
            tiny.scenario.lineage_break_circuit,
            tiny.scenario.incident_circuit
        );
    }
}
