//! The clocks a session can run on: the system's (real Azure, the demo), or one pinned to a
//! start instant that then moves with real elapsed time (the test suite, through
//! `RELCON_CLOCK_START`), so that a run gives the same dates on any day and at any hour.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

pub use crate::domain::clock::{Clock, FixedClock, SharedClock, pinned_start};

/// The environment variable that pins every clock of a `relcon` process (and the start of its
/// built-in simulator) to an RFC 3339 instant. For tests: a machine clock moved far away
/// changes nothing a pinned run shows. Not for operators; it is deliberately not a flag.
pub const CLOCK_START_ENV: &str = "RELCON_CLOCK_START";

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Reads `start` when made, then moves with the monotonic clock: never with the calendar.
#[derive(Debug, Clone, Copy)]
pub struct PinnedClock {
    start: DateTime<Utc>,
    origin: Instant,
}

impl PinnedClock {
    pub fn new(start: DateTime<Utc>) -> PinnedClock {
        PinnedClock {
            start,
            origin: Instant::now(),
        }
    }
}

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        let run = chrono::Duration::from_std(self.origin.elapsed()).unwrap_or_default();
        self.start + run
    }
}

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// `RELCON_CLOCK_START` is set to something that is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{CLOCK_START_ENV}={value:?} is not an RFC 3339 instant: {source}")]
pub struct ClockStartError {
    /// The variable's value, as set.
    pub value: String,
    #[source]
    pub source: chrono::ParseError,
}

/// The start instant `RELCON_CLOCK_START` pins this process to, if it is set. A value that is
/// not RFC 3339 is an error naming the variable, not a silent fall back to the calendar.
pub fn pinned_from_env() -> Result<Option<DateTime<Utc>>, ClockStartError> {
    match std::env::var(CLOCK_START_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_start(&v).map(Some),
        _ => Ok(None),
    }
}

/// A `RELCON_CLOCK_START` value as an instant.
fn parse_start(value: &str) -> Result<DateTime<Utc>, ClockStartError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|source| ClockStartError {
            value: value.to_owned(),
            source,
        })
}

/// The clock of a process that opens no session: pinned by `RELCON_CLOCK_START`, else the
/// system's.
pub fn process() -> Result<SharedClock, ClockStartError> {
    Ok(match pinned_from_env()? {
        Some(t) => Arc::new(PinnedClock::new(t)),
        None => system(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_that_is_not_an_instant_names_the_variable_and_the_value() {
        assert_eq!(
            parse_start(" 2026-11-26T08:00:00Z "),
            Ok(pinned_start()),
            "surrounding blanks are not part of it"
        );
        let e = parse_start("yesterday").unwrap_err();
        assert_eq!(e.value, "yesterday");
        assert!(
            e.to_string()
                .starts_with("RELCON_CLOCK_START=\"yesterday\" is not an RFC 3339 instant: "),
            "{e}"
        );
    }

    #[test]
    fn a_pinned_clock_starts_at_its_instant_and_moves_forward() {
        let c = PinnedClock::new(pinned_start());
        let a = c.now();
        let b = c.now();
        assert!(a >= pinned_start() && b >= a, "{a} {b}");
        assert!(a - pinned_start() < chrono::Duration::seconds(5));
    }
}
