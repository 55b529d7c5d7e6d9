//! The four stages a model passes through, in order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Dev workspace -> shared Registry -> Test workspace -> Prod workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Dev,
    Registry,
    Test,
    Prod,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Dev, Stage::Registry, Stage::Test, Stage::Prod];

    /// The stage a promotion from this one leads to.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Dev => Some(Stage::Registry),
            Stage::Registry => Some(Stage::Test),
            Stage::Test => Some(Stage::Prod),
            Stage::Prod => None,
        }
    }

    /// Whether the stage serves through batch deployments (Test and Prod).
    pub fn is_serving(self) -> bool {
        matches!(self, Stage::Test | Stage::Prod)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dev => "dev",
            Stage::Registry => "registry",
            Stage::Test => "test",
            Stage::Prod => "prod",
        }
    }

    /// The name of the Azure DevOps release environment that deploys to this stage.
    pub fn release_environment(self) -> Option<&'static str> {
        match self {
            Stage::Dev => None,
            Stage::Registry => Some("Registry"),
            Stage::Test => Some("Test"),
            Stage::Prod => Some("Production"),
        }
    }

    /// The stage a DevOps release environment deploys to (`Production` -> Prod), any casing.
    pub fn from_release_environment(name: &str) -> Option<Stage> {
        match name.to_ascii_lowercase().as_str() {
            "registry" => Some(Stage::Registry),
            "test" => Some(Stage::Test),
            "production" | "prod" => Some(Stage::Prod),
            _ => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Dev => "Dev",
            Stage::Registry => "Registry",
            Stage::Test => "Test",
            Stage::Prod => "Prod",
        })
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "dev" => Ok(Stage::Dev),
            "registry" => Ok(Stage::Registry),
            "test" => Ok(Stage::Test),
            "prod" | "production" => Ok(Stage::Prod),
            _ => Err(format!("unknown stage `{s}` (dev, registry, test, prod)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_ordered_and_chain() {
        assert!(Stage::Dev < Stage::Registry && Stage::Test < Stage::Prod);
        let mut s = Stage::Dev;
        let mut seen = vec![s];
        while let Some(n) = s.next() {
            seen.push(n);
            s = n;
        }
        assert_eq!(seen, Stage::ALL);
        assert_eq!(
            Stage::from_release_environment("PRODUCTION"),
            Some(Stage::Prod)
        );
        assert_eq!("Production".parse::<Stage>(), Ok(Stage::Prod));
        assert!(Stage::Test.is_serving() && !Stage::Registry.is_serving());
    }
}
