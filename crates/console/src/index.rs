//! What the fleet views need per circuit, computed once per snapshot: health, where versions
//! are headed, pending work, what is deploying, and the filter's fields. Sorting works on
//! these rows and the snapshot, so a keystroke never walks the snapshot's nested structure.

use std::cmp::Ordering;
use std::collections::HashMap;

use nucleo_matcher::Utf32String;

use crate::domain::fleet::{CircuitSnapshot, FleetSnapshot};
use crate::domain::{CircuitRef, ModelVersion, Stage, Status};

/// A release working on a circuit right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    Deploying {
        release: String,
        stage: Stage,
    },
    /// A release redeploying an older version to Prod: a rollback.
    RollingBack {
        release: String,
        from: Option<ModelVersion>,
        to: ModelVersion,
    },
}

impl Activity {
    /// `deploying Release-123 to Prod`, `rollback to v6 (Release-118)`.
    pub fn describe(&self) -> String {
        match self {
            Activity::Deploying { release, stage } => format!("deploying {release} to {stage}"),
            Activity::RollingBack { release, to, .. } => {
                format!("rolling back to v{to} ({release})")
            }
        }
    }
}

/// One circuit, precomputed.
#[derive(Debug, Clone)]
pub struct CircuitRow {
    /// Position in the snapshot: `plants[plant].circuits[circuit]`.
    pub plant: u32,
    pub circuit: u32,
    pub health: Status,
    /// Bit per stage (Dev=0..Prod=3): something is headed there.
    pub toward: u8,
    pub pending: u32,
    pub activity: Option<Activity>,
    /// How far past its limit the worst drift is (sorting by drift).
    pub drift_key: f64,
    /// The worst active alert's severity rank (Sev0 = 5 ... Sev4 = 1; 0 without one), doubled,
    /// plus one when one of them is new: the incident order puts circuits with fired alerts
    /// first, the unacknowledged first among equals.
    pub alert_rank: u8,
    /// What the filter searches: the circuit id, the model name, the description.
    pub fields: [Field; 3],
}

/// One searchable text and the characters it holds (a bit each), so the filter can skip it
/// without running the matcher when a word's letters are not all there.
#[derive(Debug, Clone)]
pub struct Field {
    pub text: Utf32String,
    pub mask: u64,
}

impl Field {
    pub fn new(text: &str) -> Field {
        let mut mask = 0;
        for c in text.chars() {
            let lower = nucleo_matcher::chars::to_lower_case(c);
            // Both the character and its normalized form (`í` and `i`): the matcher may
            // compare either way, and a mask must never rule out a real match.
            mask |= char_bit(lower) | char_bit(nucleo_matcher::chars::normalize(lower));
        }
        Field {
            text: Utf32String::from(text),
            mask,
        }
    }
}

/// The bit of a (lower-case) character: one per ASCII letter and digit, the rest share 28.
pub fn char_bit(c: char) -> u64 {
    let bit = match c {
        'a'..='z' => c as u32 - 'a' as u32,
        '0'..='9' => 26 + c as u32 - '0' as u32,
        other => 36 + other as u32 % 28,
    };
    1 << bit
}

impl CircuitRow {
    pub fn headed_to(&self, s: Stage) -> bool {
        self.toward & (1 << stage_bit(s)) != 0
    }
}

fn stage_bit(s: Stage) -> u8 {
    match s {
        Stage::Dev => 0,
        Stage::Registry => 1,
        Stage::Test => 2,
        Stage::Prod => 3,
    }
}

/// A plant, rolled up.
#[derive(Debug, Clone)]
pub struct PlantRow {
    /// Its name, for the filter (circuits match their plant's name too).
    pub name: Field,
    pub health: Status,
    /// Circuits per status: ok, warn, alert, unknown.
    pub counts: [u32; 4],
    /// Its rows: `rows[first..first + len]`.
    pub first: u32,
    pub len: u32,
}

impl PlantRow {
    pub fn count(&self, s: Status) -> u32 {
        self.counts[status_slot(s)]
    }
}

fn status_slot(s: Status) -> usize {
    match s {
        Status::Ok => 0,
        Status::Warn => 1,
        Status::Alert => 2,
        Status::Unknown => 3,
    }
}

/// Every row of a snapshot, in snapshot order (plant by plant).
#[derive(Debug, Clone, Default)]
pub struct FleetIndex {
    pub rows: Vec<CircuitRow>,
    pub plants: Vec<PlantRow>,
    /// Fleet-wide counts per status (ok, warn, alert, unknown).
    pub counts: [u32; 4],
    by_ref: HashMap<CircuitRef, u32>,
}

impl FleetIndex {
    pub fn build(s: &FleetSnapshot) -> FleetIndex {
        // Stages each circuit waits on an approval for.
        let mut approval_stages: HashMap<&CircuitRef, u8> = HashMap::new();
        for item in &s.approvals {
            for c in item.circuits() {
                *approval_stages.entry(c).or_default() |= 1 << stage_bit(item.stage);
            }
        }
        let mut rows = Vec::with_capacity(s.circuit_count());
        let mut plants = Vec::with_capacity(s.plants.len());
        let mut counts = [0u32; 4];
        let mut by_ref = HashMap::with_capacity(s.circuit_count());
        for (pi, p) in s.plants.iter().enumerate() {
            let first = rows.len() as u32;
            let mut pc = [0u32; 4];
            for (ci, c) in p.circuits.iter().enumerate() {
                let health = c.health();
                pc[status_slot(health)] += 1;
                let mut toward = approval_stages.get(&c.circuit).copied().unwrap_or(0);
                let v = &c.versions;
                if v.dev.is_some() && v.dev != v.registry {
                    toward |= 1 << stage_bit(Stage::Dev);
                }
                for (from, to) in [
                    (Stage::Dev, Stage::Registry),
                    (Stage::Registry, Stage::Test),
                    (Stage::Test, Stage::Prod),
                ] {
                    if v.get(from).is_some() && v.get(from) != v.get(to) {
                        toward |= 1 << stage_bit(to);
                    }
                }
                let activity = c.active_release.as_ref().map(|a| {
                    let target = s
                        .release(a.release_id)
                        .and_then(|r| r.version_for(&c.circuit));
                    match target {
                        Some(to) if a.stage == Stage::Prod && v.prod.is_some_and(|p| to < p) => {
                            Activity::RollingBack {
                                release: a.release_name.clone(),
                                from: v.prod,
                                to,
                            }
                        }
                        _ => Activity::Deploying {
                            release: a.release_name.clone(),
                            stage: a.stage,
                        },
                    }
                });
                if let Some(a) = &c.active_release {
                    toward |= 1 << stage_bit(a.stage);
                }
                by_ref.insert(c.circuit.clone(), rows.len() as u32);
                rows.push(CircuitRow {
                    plant: pi as u32,
                    circuit: ci as u32,
                    health,
                    toward,
                    pending: c.pending_approvals,
                    activity,
                    drift_key: drift_key(c),
                    // Unacknowledged before acknowledged, at the same severity.
                    alert_rank: c.alerts.rank() * 2 + u8::from(c.alerts.new > 0),
                    fields: [
                        Field::new(&c.circuit.to_string()),
                        Field::new(&c.model_name),
                        Field::new(&c.description),
                    ],
                });
            }
            for (t, n) in counts.iter_mut().zip(pc) {
                *t += n;
            }
            plants.push(PlantRow {
                name: Field::new(&p.name),
                health: Status::worst_of(
                    rows[first as usize..].iter().map(|r: &CircuitRow| r.health),
                ),
                counts: pc,
                first,
                len: rows.len() as u32 - first,
            });
        }
        FleetIndex {
            rows,
            plants,
            counts,
            by_ref,
        }
    }

    pub fn count(&self, s: Status) -> u32 {
        self.counts[status_slot(s)]
    }

    pub fn circuit<'a>(&self, snap: &'a FleetSnapshot, row: &CircuitRow) -> &'a CircuitSnapshot {
        &snap.plants[row.plant as usize].circuits[row.circuit as usize]
    }

    /// The row of a circuit.
    pub fn position(&self, c: &CircuitRef) -> Option<u32> {
        self.by_ref.get(c).copied()
    }
}

fn drift_key(c: &CircuitSnapshot) -> f64 {
    match &c.drift.worst {
        Some(w) => {
            f64::from(w.status.severity()) * 1000.0 + w.metric.exceedance(w.value, w.threshold)
        }
        None => -1.0,
    }
}

/// A sortable column of the fleet table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Circuit,
    Description,
    Health,
    Dev,
    Registry,
    Test,
    Prod,
    Environment,
    Lineage,
    Drift,
    Validation,
    Pending,
    Activity,
}

impl SortKey {
    pub const ALL: [SortKey; 13] = [
        SortKey::Circuit,
        SortKey::Description,
        SortKey::Health,
        SortKey::Dev,
        SortKey::Registry,
        SortKey::Test,
        SortKey::Prod,
        SortKey::Environment,
        SortKey::Lineage,
        SortKey::Drift,
        SortKey::Validation,
        SortKey::Pending,
        SortKey::Activity,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Circuit => "circuit",
            SortKey::Description => "description",
            SortKey::Health => "health",
            SortKey::Dev => "Dev version",
            SortKey::Registry => "Registry version",
            SortKey::Test => "Test version",
            SortKey::Prod => "Prod version",
            SortKey::Environment => "environment",
            SortKey::Lineage => "lineage",
            SortKey::Drift => "drift",
            SortKey::Validation => "validation",
            SortKey::Pending => "pending approvals",
            SortKey::Activity => "activity",
        }
    }

    pub fn step(self, forward: bool) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        let n = SortKey::ALL.len();
        SortKey::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }

    /// Whether the natural order of this column puts the worst or largest first.
    pub fn worst_first(self) -> bool {
        matches!(
            self,
            SortKey::Health
                | SortKey::Lineage
                | SortKey::Drift
                | SortKey::Validation
                | SortKey::Pending
                | SortKey::Activity
        )
    }
}

/// How the table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub key: SortKey,
    pub reversed: bool,
    /// Fired Azure Monitor alerts first (most severe first), then by health: alerts,
    /// warnings, unknowns, healthy; overrides `key`.
    pub incidents: bool,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            key: SortKey::Circuit,
            reversed: false,
            incidents: false,
        }
    }
}

fn by_version(a: Option<ModelVersion>, b: Option<ModelVersion>) -> Ordering {
    a.cmp(&b)
}

fn lineage_rank(c: &CircuitSnapshot) -> u8 {
    c.lineage.status().severity()
}

/// Sort row numbers by `order`; ties fall back to snapshot order (plant, circuit).
pub fn sort_rows(rows: &mut [u32], index: &FleetIndex, snap: &FleetSnapshot, order: Order) {
    let key = |i: u32| &index.rows[i as usize];
    let cs = |r: &CircuitRow| index.circuit(snap, r);
    rows.sort_by(|&a, &b| {
        let (ra, rb) = (key(a), key(b));
        let primary = if order.incidents {
            rb.alert_rank
                .cmp(&ra.alert_rank)
                .then(rb.health.severity().cmp(&ra.health.severity()))
                .then(rb.drift_key.total_cmp(&ra.drift_key))
                .then(rb.pending.cmp(&ra.pending))
        } else {
            let (ca, cb) = (cs(ra), cs(rb));
            let natural = match order.key {
                SortKey::Circuit => Ordering::Equal,
                SortKey::Description => ca.description.cmp(&cb.description),
                SortKey::Health => rb.health.severity().cmp(&ra.health.severity()),
                SortKey::Dev => by_version(cb.versions.dev, ca.versions.dev),
                SortKey::Registry => by_version(cb.versions.registry, ca.versions.registry),
                SortKey::Test => by_version(cb.versions.test, ca.versions.test),
                SortKey::Prod => by_version(cb.versions.prod, ca.versions.prod),
                SortKey::Environment => cb.environment.prod.cmp(&ca.environment.prod),
                SortKey::Lineage => lineage_rank(cb).cmp(&lineage_rank(ca)),
                SortKey::Drift => rb.drift_key.total_cmp(&ra.drift_key),
                SortKey::Validation => cb
                    .validation
                    .status
                    .severity()
                    .cmp(&ca.validation.status.severity()),
                SortKey::Pending => rb.pending.cmp(&ra.pending),
                SortKey::Activity => rb.activity.is_some().cmp(&ra.activity.is_some()),
            };
            if order.reversed {
                natural.reverse()
            } else {
                natural
            }
        };
        let fallback = a.cmp(&b);
        primary.then(
            if order.reversed && order.key == SortKey::Circuit && !order.incidents {
                fallback.reverse()
            } else {
                fallback
            },
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn rows_roll_up_per_plant_and_fleet() {
        let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
        let idx = FleetIndex::build(&snap);
        assert_eq!(idx.rows.len(), fixture::DEMO_CIRCUITS);
        let total: u32 = idx.counts.iter().sum();
        assert_eq!(total as usize, fixture::DEMO_CIRCUITS);
        let p2 = &idx.plants[1];
        assert_eq!(p2.health, Status::Alert, "the incident plant");
        assert!(p2.count(Status::Alert) >= 1);
        let incident: CircuitRef = "PLANT002/CIRCUIT02".parse().unwrap();
        let row = &idx.rows[idx.position(&incident).unwrap() as usize];
        let prod = snap.circuit(&incident).unwrap().versions.prod.unwrap();
        match &row.activity {
            Some(Activity::RollingBack { to, from, .. }) => {
                assert_eq!(*from, Some(prod));
                assert!(*to < prod, "a rollback goes back");
            }
            other => panic!("not a rollback: {other:?}"),
        }
        assert!(
            row.activity
                .as_ref()
                .unwrap()
                .describe()
                .contains("Release-118")
        );
    }

    #[test]
    fn incident_order_puts_alerts_first_and_sorts_are_stable() {
        let snap = fixture::fleet(fixture::DEMO_CIRCUITS);
        let idx = FleetIndex::build(&snap);
        let mut rows: Vec<u32> = (0..idx.rows.len() as u32).collect();
        sort_rows(
            &mut rows,
            &idx,
            &snap,
            Order {
                incidents: true,
                ..Order::default()
            },
        );
        let sev: Vec<u8> = rows
            .iter()
            .map(|r| idx.rows[*r as usize].health.severity())
            .collect();
        assert!(sev.windows(2).all(|w| w[0] >= w[1]), "{sev:?}");
        assert_eq!(idx.rows[rows[0] as usize].health, Status::Alert);
        let mut by_prod: Vec<u32> = (0..idx.rows.len() as u32).collect();
        let order = Order {
            key: SortKey::Prod,
            ..Order::default()
        };
        sort_rows(&mut by_prod, &idx, &snap, order);
        let versions: Vec<Option<ModelVersion>> = by_prod
            .iter()
            .map(|r| idx.circuit(&snap, &idx.rows[*r as usize]).versions.prod)
            .collect();
        assert!(versions.windows(2).all(|w| w[0] >= w[1]));
        sort_rows(
            &mut by_prod,
            &idx,
            &snap,
            Order {
                reversed: true,
                ..order
            },
        );
        let first = idx.circuit(&snap, &idx.rows[by_prod[0] as usize]);
        assert_eq!(first.versions.prod, None, "unknown Prod sorts lowest");
    }
}
