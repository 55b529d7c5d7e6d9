//! The health vocabulary shared by drift, accuracy, validation and the fleet roll-up.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ok / warn / alert, or unknown when the evidence could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Alert,
    Unknown,
}

impl Status {
    /// Severity for roll-ups and incident ordering: alert > warn > unknown > ok. Unknown ranks
    /// above ok because an on-call engineer must look at what relcon could not see.
    pub fn severity(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warn => 2,
            Status::Alert => 3,
        }
    }

    /// The more severe of two.
    pub fn worst(self, other: Status) -> Status {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The most severe of many; `Ok` for none.
    pub fn worst_of(all: impl IntoIterator<Item = Status>) -> Status {
        all.into_iter().fold(Status::Ok, Status::worst)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Alert => "alert",
            Status::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_ranks_alert_warn_unknown_ok() {
        assert_eq!(Status::worst_of([]), Status::Ok);
        assert_eq!(
            Status::worst_of([Status::Ok, Status::Unknown]),
            Status::Unknown
        );
        assert_eq!(
            Status::worst_of([Status::Unknown, Status::Warn]),
            Status::Warn
        );
        assert_eq!(
            Status::worst_of([Status::Alert, Status::Warn, Status::Ok]),
            Status::Alert
        );
    }
}
