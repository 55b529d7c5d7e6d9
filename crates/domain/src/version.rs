//! Version kinds of the platform: integer model versions, semver environment versions and
//! date-named data versions (seed, "Versioning Strategy").

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A model version as Azure ML assigns it: 1, 2, 3...
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelVersion(pub u32);

impl fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ModelVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<u32>()
            .map(ModelVersion)
            .map_err(|_| format!("`{s}` is not a model version (a positive integer)"))
    }
}

/// An environment version: a semver string such as `1.5.0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvVersion(semver::Version);

impl EnvVersion {
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self(semver::Version::new(major, minor, patch))
    }

    pub fn major(&self) -> u64 {
        self.0.major
    }

    /// What moving from `self` to `to` means for the fleet: a major bump (either way) is a
    /// breaking change that needs a full retrain; anything else is an environment-only release.
    pub fn change_to(&self, to: &EnvVersion) -> EnvironmentChange {
        if self == to {
            EnvironmentChange::None
        } else if self.0.major != to.0.major {
            EnvironmentChange::Breaking
        } else {
            EnvironmentChange::NonBreaking
        }
    }
}

impl FromStr for EnvVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        semver::Version::parse(s.trim())
            .map(EnvVersion)
            .map_err(|e| format!("`{s}` is not a semantic version like 1.5.0: {e}"))
    }
}

impl fmt::Display for EnvVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for EnvVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EnvVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The kind of an environment version change between two configs or deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentChange {
    None,
    NonBreaking,
    Breaking,
}

impl EnvironmentChange {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentChange::None => "none",
            EnvironmentChange::NonBreaking => "non-breaking",
            EnvironmentChange::Breaking => "breaking",
        }
    }
}

impl fmt::Display for EnvironmentChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data asset (MLTable) version: a date string such as `2025-12-09`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataVersion(pub NaiveDate);

impl FromStr for DataVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(DataVersion)
            .map_err(|_| format!("`{s}` is not a data version (a date like 2025-12-09)"))
    }
}

impl fmt::Display for DataVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for DataVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DataVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(s: &str) -> EnvVersion {
        s.parse().unwrap()
    }

    #[test]
    fn environment_changes_classify_by_major() {
        assert_eq!(
            env("1.5.0").change_to(&env("1.5.0")),
            EnvironmentChange::None
        );
        assert_eq!(
            env("1.5.0").change_to(&env("1.5.1")),
            EnvironmentChange::NonBreaking
        );
        assert_eq!(
            env("1.5.0").change_to(&env("1.6.0")),
            EnvironmentChange::NonBreaking
        );
        assert_eq!(
            env("1.5.1").change_to(&env("1.5.0")),
            EnvironmentChange::NonBreaking
        );
        assert_eq!(
            env("1.5.0").change_to(&env("2.0.0")),
            EnvironmentChange::Breaking
        );
        assert_eq!(
            env("2.0.0").change_to(&env("1.9.9")),
            EnvironmentChange::Breaking
        );
        assert!("1.5".parse::<EnvVersion>().is_err());
    }

    #[test]
    fn model_and_data_versions_parse() {
        assert_eq!("7".parse::<ModelVersion>(), Ok(ModelVersion(7)));
        assert!("v7".parse::<ModelVersion>().is_err());
        assert_eq!(
            "2025-12-09".parse::<DataVersion>().unwrap().to_string(),
            "2025-12-09"
        );
        assert!("2025-13-09".parse::<DataVersion>().is_err());
    }
}
