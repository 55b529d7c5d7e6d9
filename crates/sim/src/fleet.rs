//! The fleet the simulator serves: the embedded demo fleet, a fleet read from disk, or a
//! generated one (up to 20,000 circuits) with realistic plant, equipment and sensor names.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::domain::yaml::Mapping;
use crate::domain::{CircuitId, CircuitRef, PlantId};
use crate::service::configs::FleetFiles;

use super::configs;

/// The demo fleet's master list, compiled in so the binary runs anywhere.
pub const DEMO_FLEET: &str = include_str!("../../../configs/fleet/circuits.yaml");

/// The largest generated fleet.
pub const MAX_GENERATED_CIRCUITS: usize = 20_000;

/// Where the simulated fleet comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FleetSource {
    /// The embedded demo fleet (17 plants, 130 circuits).
    #[default]
    Demo,
    /// A master `circuits.yaml`, a per-circuit file, or a directory of them.
    Path(PathBuf),
    /// `plants` x `circuits_per_plant` generated circuits.
    Generated {
        plants: usize,
        circuits_per_plant: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Plant {
    pub id: PlantId,
    pub name: String,
    pub site: Option<String>,
}

/// One circuit: what the world needs of its config, and the file as the repository holds it.
#[derive(Debug, Clone)]
pub struct Circuit {
    pub r: CircuitRef,
    pub plant: usize,
    pub description: String,
    pub features: Vec<String>,
    pub env_version: String,
    /// The per-circuit config file at HEAD.
    pub head_text: String,
}

#[derive(Debug, Clone)]
pub struct Fleet {
    pub plants: Vec<Plant>,
    pub circuits: Vec<Circuit>,
    /// One line saying where the fleet came from.
    pub origin: String,
}

impl Fleet {
    /// Read or generate the fleet; `heads` are the parsed HEAD configs, in circuit order.
    pub fn load(source: &FleetSource, seed: u64) -> anyhow::Result<(Fleet, Vec<Mapping>)> {
        match source {
            FleetSource::Demo => {
                let files = FleetFiles::from_text(DEMO_FLEET, "demo fleet", MODEL_TEMPLATE);
                from_files(files, "embedded demo fleet".into())
            }
            FleetSource::Path(p) => {
                let files = FleetFiles::load(p, MODEL_TEMPLATE)
                    .map_err(|e| anyhow::anyhow!("cannot read the fleet: {e}"))?;
                from_files(files, p.display().to_string())
            }
            FleetSource::Generated {
                plants,
                circuits_per_plant,
            } => generate(*plants, *circuits_per_plant, seed),
        }
    }

    pub fn plant_of(&self, c: usize) -> &Plant {
        &self.plants[self.circuits[c].plant]
    }
}

const MODEL_TEMPLATE: &str = "{plant}-{circuit}";

fn from_files(files: FleetFiles, origin: String) -> anyhow::Result<(Fleet, Vec<Mapping>)> {
    if !files.problems.is_empty() {
        let shown: Vec<String> = files
            .problems
            .iter()
            .take(5)
            .map(|p| p.to_string())
            .collect();
        anyhow::bail!(
            "the fleet at {origin} has {} problem(s):\n  {}",
            files.problems.len(),
            shown.join("\n  ")
        );
    }
    if files.circuits.is_empty() {
        anyhow::bail!("the fleet at {origin} has no circuits");
    }
    let mut loaded: Vec<_> = files.circuits.into_iter().map(|c| c.config).collect();
    loaded.sort_by(|a, b| a.circuit.cmp(&b.circuit));
    let mut plants: Vec<Plant> = Vec::new();
    let mut circuits = Vec::with_capacity(loaded.len());
    let mut heads = Vec::with_capacity(loaded.len());
    for cfg in loaded {
        if plants.last().map(|p| &p.id) != Some(&cfg.circuit.plant) {
            let info = files
                .plants
                .iter()
                .find(|p| p.plant_id == cfg.circuit.plant);
            plants.push(Plant {
                id: cfg.circuit.plant.clone(),
                name: info
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| cfg.circuit.plant.to_string()),
                site: info.and_then(|p| p.site.clone()),
            });
        }
        circuits.push(Circuit {
            r: cfg.circuit.clone(),
            plant: plants.len() - 1,
            description: cfg.description.clone(),
            features: cfg.features.clone(),
            env_version: cfg.environment_version.to_string(),
            head_text: configs::file_text(cfg.root()),
        });
        heads.push(cfg.root().clone());
    }
    Ok((
        Fleet {
            plants,
            circuits,
            origin,
        },
        heads,
    ))
}

/// (description, tier, horizon days, features) of the equipment a generated circuit monitors.
const ARCHETYPES: [(&str, Tier, u8, &[&str]); 16] = [
    (
        "Cooling water pump P-{n}",
        Tier::Medium,
        7,
        &[
            "flow_rate",
            "discharge_pressure",
            "suction_pressure",
            "motor_current",
            "bearing_temperature",
        ],
    ),
    (
        "Boiler feedwater pump BFP-{n}",
        Tier::Medium,
        3,
        &[
            "flow_rate",
            "discharge_pressure",
            "drum_level",
            "motor_current",
            "vibration_rms",
        ],
    ),
    (
        "Instrument air compressor C-{n}",
        Tier::Medium,
        3,
        &[
            "discharge_pressure",
            "discharge_temperature",
            "motor_current",
            "vibration_rms",
            "power_kw",
        ],
    ),
    (
        "Cooling tower fan CT-{n}",
        Tier::Seasonal,
        14,
        &[
            "fan_rpm",
            "basin_temperature",
            "wet_bulb_temperature",
            "power_kw",
        ],
    ),
    (
        "Reactor R-{n} jacket temperature control",
        Tier::Fast,
        1,
        &[
            "reactor_temperature",
            "jacket_temperature",
            "reactor_pressure",
            "agitator_rpm",
            "coolant_flow_rate",
        ],
    ),
    (
        "Extruder line {n} barrel heating",
        Tier::Fast,
        1,
        &[
            "barrel_zone1_temperature",
            "barrel_zone2_temperature",
            "melt_pressure",
            "screw_rpm",
            "motor_current",
        ],
    ),
    (
        "Belt conveyor BC-{n} drive",
        Tier::Slow,
        7,
        &[
            "motor_current",
            "belt_speed",
            "vibration_rms",
            "bearing_temperature",
        ],
    ),
    (
        "Glycol chiller CH-{n}",
        Tier::Seasonal,
        7,
        &[
            "chilled_water_supply_temperature",
            "condenser_pressure",
            "compressor_current",
            "power_kw",
        ],
    ),
    (
        "Steam header {n} let-down station",
        Tier::Medium,
        3,
        &[
            "header_pressure",
            "steam_flow_rate",
            "steam_temperature",
            "condensate_temperature",
        ],
    ),
    (
        "Hydraulic power unit HPU-{n}",
        Tier::Medium,
        3,
        &[
            "hydraulic_pressure",
            "oil_temperature",
            "pump_motor_current",
            "cycle_time",
        ],
    ),
    (
        "Air handling unit AHU-{n}",
        Tier::Seasonal,
        3,
        &[
            "supply_temperature",
            "return_temperature",
            "humidity",
            "fan_rpm",
            "damper_position",
        ],
    ),
    (
        "Vacuum pump station VP-{n}",
        Tier::Slow,
        14,
        &[
            "vacuum_pressure",
            "motor_current",
            "seal_water_flow_rate",
            "vibration_rms",
        ],
    ),
    (
        "Induction furnace IF-{n}",
        Tier::Fast,
        1,
        &[
            "coil_current",
            "melt_temperature",
            "power_kw",
            "cooling_water_flow_rate",
        ],
    ),
    (
        "Wastewater aeration blower AB-{n}",
        Tier::Seasonal,
        7,
        &[
            "dissolved_oxygen",
            "air_flow_rate",
            "blower_discharge_pressure",
            "power_kw",
        ],
    ),
    (
        "Refrigeration compressor RC-{n}",
        Tier::Seasonal,
        7,
        &[
            "suction_pressure",
            "discharge_pressure",
            "evaporator_temperature",
            "compressor_current",
        ],
    ),
    (
        "Centrifuge CF-{n}",
        Tier::Medium,
        3,
        &[
            "basket_rpm",
            "vibration_rms",
            "motor_current",
            "wash_water_flow_rate",
        ],
    ),
];

#[derive(Debug, Clone, Copy)]
enum Tier {
    Fast,
    Medium,
    Slow,
    Seasonal,
}

const CITIES: [(&str, &str); 24] = [
    ("Antwerp", "Belgium"),
    ("Bilbao", "Spain"),
    ("Cleveland", "United States"),
    ("Curitiba", "Brazil"),
    ("Daejeon", "South Korea"),
    ("Gothenburg", "Sweden"),
    ("Hamburg", "Germany"),
    ("Kaohsiung", "Taiwan"),
    ("Katowice", "Poland"),
    ("Le Havre", "France"),
    ("Linz", "Austria"),
    ("Monterrey", "Mexico"),
    ("Nagoya", "Japan"),
    ("Ostrava", "Czechia"),
    ("Port Elizabeth", "South Africa"),
    ("Porto", "Portugal"),
    ("Pune", "India"),
    ("Rayong", "Thailand"),
    ("Sarnia", "Canada"),
    ("Tampere", "Finland"),
    ("Teesside", "United Kingdom"),
    ("Terneuzen", "Netherlands"),
    ("Turin", "Italy"),
    ("Wollongong", "Australia"),
];

const INDUSTRIES: [&str; 12] = [
    "Polymer Works",
    "Steel Rolling Mill",
    "Paper Mill",
    "Cement Works",
    "Brewery",
    "Glass Plant",
    "Chemical Complex",
    "Aluminium Smelter",
    "Tyre Plant",
    "Dairy Processing",
    "Battery Cell Plant",
    "Refinery",
];

/// The fleet-wide retraining timeline: equal cutoffs carry equal delta versions.
const CUTOFFS: [(&str, i64); 5] = [
    ("2025-09-01", 4),
    ("2025-12-01", 7),
    ("2026-03-01", 9),
    ("2026-06-01", 10),
    ("2026-09-01", 11),
];

fn generate(n_plants: usize, per_plant: usize, seed: u64) -> anyhow::Result<(Fleet, Vec<Mapping>)> {
    let total = n_plants.saturating_mul(per_plant);
    if n_plants == 0 || per_plant == 0 {
        anyhow::bail!("a generated fleet needs at least one plant and one circuit per plant");
    }
    if total > MAX_GENERATED_CIRCUITS {
        anyhow::bail!(
            "{n_plants} plants x {per_plant} circuits = {total} circuits; the simulator generates at most {MAX_GENERATED_CIRCUITS}"
        );
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut plants = Vec::with_capacity(n_plants);
    let mut circuits = Vec::with_capacity(total);
    let mut heads = Vec::with_capacity(total);
    let combos = CITIES.len() * INDUSTRIES.len();
    for p in 0..n_plants {
        let id = PlantId::from_number(p as u32 + 1);
        let (city, country) = CITIES[p % CITIES.len()];
        let industry = INDUSTRIES[(p / CITIES.len() + p * 5) % INDUSTRIES.len()];
        let mut name = format!("{city} {industry}");
        if p >= combos {
            let _ = write!(name, " {}", p / combos + 1);
        }
        plants.push(Plant {
            id: id.clone(),
            name,
            site: Some(format!("{city}, {country}")),
        });
        // The plant's last fleet-wide retrain; most plants retrained recently.
        let plant_cutoff = match rng.u8(0..100) {
            0..=44 => 4,
            45..=69 => 3,
            70..=84 => 2,
            85..=94 => 1,
            _ => 0,
        };
        for c in 0..per_plant {
            let r = CircuitRef::new(id.clone(), CircuitId::from_number(c as u32 + 1));
            let (desc, tier, horizon, features) = ARCHETYPES[rng.usize(..ARCHETYPES.len())];
            let description = desc.replace("{n}", &format!("{}", 100 + rng.u16(1..900)));
            let cutoff = if rng.u8(0..10) == 0 {
                rng.usize(..CUTOFFS.len())
            } else {
                plant_cutoff
            };
            let env = if rng.u8(0..20) == 0 { "1.4.2" } else { "1.5.0" };
            let text = circuit_text(
                &r,
                &description,
                tier,
                horizon,
                features,
                cutoff,
                env,
                &mut rng,
            );
            let Some(root) = configs::parse(&text) else {
                anyhow::bail!("generated config for {r} does not parse:\n{text}");
            };
            let features = root
                .get("features")
                .and_then(|n| n.value.as_seq())
                .map(|s| {
                    s.iter()
                        .filter_map(|f| f.value.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            circuits.push(Circuit {
                r,
                plant: p,
                description,
                features,
                env_version: env.into(),
                head_text: text,
            });
            heads.push(root);
        }
    }
    Ok((
        Fleet {
            plants,
            circuits,
            origin: format!("generated fleet ({n_plants} plants x {per_plant} circuits)"),
        },
        heads,
    ))
}

#[allow(clippy::too_many_arguments)]
fn circuit_text(
    r: &CircuitRef,
    description: &str,
    tier: Tier,
    horizon: u8,
    features: &[&str],
    cutoff: usize,
    env: &str,
    rng: &mut fastrand::Rng,
) -> String {
    let (cutoff_date, delta) = CUTOFFS[cutoff];
    let pcv = match rng.u8(0..10) {
        0 => "1.1.0",
        1 | 2 => "1.3.0",
        _ => "1.2.0",
    };
    let (units, lr, epochs, batch, days) = match tier {
        Tier::Fast => (128, "0.001", 100, 64, 365),
        Tier::Medium => (64, "0.001", 80, 32, 365),
        Tier::Slow => (64, "0.002", 50, 32, 540),
        Tier::Seasonal => (96, "0.0005", 150, 128, 730),
    };
    let mut t = String::from(configs::FILE_HEADER);
    let _ = writeln!(t, "plant_id: {}", r.plant);
    let _ = writeln!(t, "circuit_id: {}", r.circuit);
    let _ = writeln!(t, "model_name: {}", r.render(MODEL_TEMPLATE));
    let _ = writeln!(t, "description: {description}");
    t.push_str("features:\n");
    let keep = features.len() - usize::from(rng.bool() && features.len() > 3);
    for f in &features[..keep] {
        let _ = writeln!(t, "- {f}");
    }
    let _ = writeln!(t, "cutoff_date: '{cutoff_date}'");
    let _ = writeln!(t, "delta_version: {delta}");
    let _ = writeln!(t, "pipeline_component_version: {pcv}");
    let _ = writeln!(t, "training_days: {days}");
    let _ = writeln!(t, "forecast_horizon: {horizon}");
    t.push_str("hyperparameters:\n");
    let _ = writeln!(t, "  lstm_units: {units}");
    let _ = writeln!(t, "  learning_rate: {lr}");
    let _ = writeln!(t, "  epochs: {epochs}");
    let _ = writeln!(t, "  batch_size: {batch}");
    if rng.bool() {
        let _ = writeln!(t, "  dropout: 0.2");
    }
    let _ = writeln!(t, "environment_version: {env}");
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::CircuitConfig;
    use crate::domain::yaml::{Node, Value};

    #[test]
    fn demo_fleet_loads_with_plant_names() {
        let (f, heads) = Fleet::load(&FleetSource::Demo, 1).unwrap();
        assert_eq!(f.circuits.len(), 130);
        assert_eq!(heads.len(), 130);
        assert_eq!(f.plants.len(), 17);
        assert_eq!(f.plants[0].name, "Rotterdam Polymer Works");
        let c = &f.circuits[0];
        assert_eq!(c.r.to_string(), "PLANT001/CIRCUIT01");
        assert_eq!(f.plant_of(0).id.as_str(), "PLANT001");
        assert!(c.head_text.starts_with(configs::FILE_HEADER));
    }

    #[test]
    fn generated_fleets_are_valid_and_bounded() {
        let (f, heads) = Fleet::load(
            &FleetSource::Generated {
                plants: 30,
                circuits_per_plant: 12,
            },
            7,
        )
        .unwrap();
        assert_eq!(f.circuits.len(), 360);
        assert_eq!(f.plants.len(), 30);
        assert_ne!(f.plants[0].name, f.plants[1].name);
        for (c, head) in f.circuits.iter().zip(&heads) {
            let node = Node::detached(Value::Map(head.clone()));
            let cfg = CircuitConfig::from_node(&node, MODEL_TEMPLATE);
            assert!(cfg.is_ok(), "{}: {:?}", c.r, cfg.err());
        }
        assert_eq!(f.circuits[359].r.to_string(), "PLANT030/CIRCUIT12");
        let too_big = FleetSource::Generated {
            plants: 201,
            circuits_per_plant: 100,
        };
        assert!(Fleet::load(&too_big, 1).is_err());
        assert!(
            Fleet::load(
                &FleetSource::Generated {
                    plants: 0,
                    circuits_per_plant: 3
                },
                1
            )
            .is_err()
        );
    }
}
