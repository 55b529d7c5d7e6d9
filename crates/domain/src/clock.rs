//! Time as a port: everything that stamps, ages or counts down asks a [`Clock`], never the
//! machine. Real Azure runs on the system clock; the simulator and the test suite run on a
//! pinned one, so what a test sees does not depend on the day it runs.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock shared by a session, its journal, its audit log and its console.
pub type SharedClock = Arc<dyn Clock>;

/// A clock that never moves (pure code and unit tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The instant the test suite pins its simulators and clocks to: Thursday 26 November 2026,
/// 08:00 UTC. Any fixed instant would do; one for all keeps fixtures and simulators comparable.
pub fn pinned_start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_680_000, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_start_is_the_documented_instant() {
        assert_eq!(pinned_start().to_rfc3339(), "2026-11-26T08:00:00+00:00");
        let c = FixedClock(pinned_start());
        assert_eq!(c.now(), c.now());
    }
}
