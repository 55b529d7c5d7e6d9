//! Plant and circuit ids: validated newtypes in the seed's `PLANT001` / `CIRCUIT01` form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a plant or circuit id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not a plant id: expected PLANT followed by at least 3 digits, e.g. PLANT001")]
    Plant(String),
    #[error(
        "`{0}` is not a circuit id: expected CIRCUIT followed by at least 2 digits, e.g. CIRCUIT01"
    )]
    Circuit(String),
    #[error("`{0}` is not a circuit reference: expected PLANT001/CIRCUIT01")]
    Ref(String),
}

fn is_prefixed_number(s: &str, prefix: &str, min_digits: usize) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|d| d.len() >= min_digits && d.bytes().all(|b| b.is_ascii_digit()))
}

macro_rules! id_type {
    ($name:ident, $prefix:literal, $digits:literal, $err:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The id as written in configs (`PLANT001`, `CIRCUIT01`).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The lower-cased form used in Azure resource names (`plant001`).
            pub fn lower(&self) -> String {
                self.0.to_ascii_lowercase()
            }

            /// The numeric part (`PLANT017` -> 17), used for ordering and generated fleets.
            pub fn number(&self) -> u32 {
                self.0[$prefix.len()..].parse().unwrap_or(u32::MAX)
            }

            /// The id with this number, zero-padded to the canonical width.
            pub fn from_number(n: u32) -> Self {
                Self(format!("{}{:0width$}", $prefix, n, width = $digits))
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                if is_prefixed_number(s, $prefix, $digits) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError::$err(s.to_owned()))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(PlantId, "PLANT", 3, Plant, "A plant id such as `PLANT001`.");
id_type!(
    CircuitId,
    "CIRCUIT",
    2,
    Circuit,
    "A circuit id such as `CIRCUIT01` (unique within its plant)."
);

/// A circuit in the fleet: `PLANT001/CIRCUIT01`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CircuitRef {
    pub plant: PlantId,
    pub circuit: CircuitId,
}

impl CircuitRef {
    pub fn new(plant: PlantId, circuit: CircuitId) -> Self {
        Self { plant, circuit }
    }

    /// Fill a naming template (`{plant}-{circuit}`) with the lower-cased ids, as the seed does.
    pub fn render(&self, template: &str) -> String {
        template
            .replace("{plant}", &self.plant.lower())
            .replace("{circuit}", &self.circuit.lower())
    }

    /// The per-circuit config file name of the seed layout: `PLANT001_CIRCUIT01.yaml`.
    pub fn file_name(&self) -> String {
        format!("{}_{}.yaml", self.plant, self.circuit)
    }
}

impl FromStr for CircuitRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let (p, c) = s
            .split_once('/')
            .or_else(|| s.split_once('_'))
            .ok_or_else(|| IdError::Ref(s.to_owned()))?;
        Ok(Self {
            plant: p.parse()?,
            circuit: c.parse()?,
        })
    }
}

impl fmt::Display for CircuitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.plant, self.circuit)
    }
}

impl Serialize for CircuitRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CircuitRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_reject() {
        assert_eq!("PLANT001".parse::<PlantId>().unwrap().number(), 1);
        assert_eq!(
            "CIRCUIT10".parse::<CircuitId>().unwrap().lower(),
            "circuit10"
        );
        for bad in [
            "plant001",
            "PLANT01",
            "PLANT",
            "PLANT00x",
            "CIRCUIT01",
            " PLANT001",
        ] {
            assert!(bad.parse::<PlantId>().is_err(), "{bad}");
        }
        for bad in ["CIRCUIT1", "circuit01", "CIRC01", "PLANT001"] {
            assert!(bad.parse::<CircuitId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn circuit_ref_round_trips_and_renders_templates() {
        let r: CircuitRef = "PLANT003/CIRCUIT07".parse().unwrap();
        assert_eq!(r.to_string(), "PLANT003/CIRCUIT07");
        assert_eq!(r.render("{plant}-{circuit}"), "plant003-circuit07");
        assert_eq!(
            r.render("batch-endpoint-{plant}"),
            "batch-endpoint-plant003"
        );
        assert_eq!(r.file_name(), "PLANT003_CIRCUIT07.yaml");
        assert_eq!("PLANT003_CIRCUIT07".parse::<CircuitRef>().unwrap(), r);
        assert!("PLANT003".parse::<CircuitRef>().is_err());
        assert_eq!(PlantId::from_number(17).as_str(), "PLANT017");
        assert_eq!(CircuitId::from_number(3).as_str(), "CIRCUIT03");
    }
}
