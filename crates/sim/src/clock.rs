//! The simulator's clock: simulated time runs `speed` times faster than real time from a chosen
//! start, and tests jump it forward instead of sleeping.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// Simulated "now" = start + real elapsed x speed + every jump made so far.
#[derive(Debug)]
pub struct SimClock {
    start: DateTime<Utc>,
    real_start: Instant,
    speed: f64,
    /// Jumps made through [`SimClock::advance`], in milliseconds.
    jumped_ms: Mutex<i64>,
}

impl SimClock {
    /// A clock reading `start` now. A speed that is not a positive finite number is taken as 1.
    pub fn new(start: DateTime<Utc>, speed: f64) -> SimClock {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SimClock {
            start: truncate_ms(start),
            real_start: Instant::now(),
            speed,
            jumped_ms: Mutex::new(0),
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The current simulated time, to the millisecond (as the services print it).
    pub fn now(&self) -> DateTime<Utc> {
        self.at_real(self.real_start.elapsed().as_secs_f64())
    }

    /// Simulated time after `real_secs` real seconds (separate for tests).
    fn at_real(&self, real_secs: f64) -> DateTime<Utc> {
        let run_ms = (real_secs * self.speed * 1000.0).min(1e15) as i64;
        self.start + Duration::milliseconds(run_ms + self.jumped())
    }

    /// Jump forward; negative or non-finite amounts are refused (time never runs backwards).
    pub fn advance(&self, seconds: f64) -> Result<DateTime<Utc>, String> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(format!(
                "cannot advance the clock by {seconds} seconds: give a finite number >= 0"
            ));
        }
        if seconds > 10.0 * 365.0 * 86_400.0 {
            return Err("cannot advance the clock by more than ten years at once".into());
        }
        {
            let mut j = self.jumped_ms.lock().unwrap_or_else(|p| p.into_inner());
            let total = *j + (seconds * 1000.0).round() as i64;
            // A century of jumps is plenty, and keeps every date far from chrono's limits.
            if total > 100 * 365 * 86_400_000 {
                return Err(
                    "the clock has been advanced by a century already; restart the simulator"
                        .into(),
                );
            }
            *j = total;
        }
        Ok(self.now())
    }

    /// Total seconds jumped so far.
    pub fn jumped_seconds(&self) -> f64 {
        self.jumped() as f64 / 1000.0
    }

    fn jumped(&self) -> i64 {
        *self.jumped_ms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl crate::domain::clock::Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        SimClock::now(self)
    }
}

pub fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    let ms = t.timestamp_millis();
    DateTime::from_timestamp_millis(ms).unwrap_or(t)
}

/// ISO 8601 with milliseconds and `Z`, as ARM and DevOps write times.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn speed_scales_real_time() {
        let c = SimClock::new(t0(), 60.0);
        assert_eq!(c.at_real(0.0), t0());
        assert_eq!(c.at_real(10.0), t0() + Duration::minutes(10));
        let slow = SimClock::new(t0(), 0.5);
        assert_eq!(slow.at_real(4.0), t0() + Duration::seconds(2));
    }

    #[test]
    fn bad_speed_means_real_time() {
        for s in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(SimClock::new(t0(), s).speed(), 1.0, "{s}");
        }
    }

    #[test]
    fn advance_jumps_and_never_goes_back() {
        let c = SimClock::new(t0(), 1.0);
        let before = c.now();
        let after = c.advance(600.0).unwrap_or(before);
        assert!(after >= before + Duration::seconds(600), "{before} {after}");
        assert_eq!(c.jumped_seconds(), 600.0);
        assert!(c.advance(-1.0).is_err());
        assert!(c.advance(f64::NAN).is_err());
        assert!(c.advance(1e12).is_err());
        assert_eq!(c.jumped_seconds(), 600.0);
    }

    #[test]
    fn iso_has_milliseconds() {
        assert_eq!(iso(t0()), "2026-11-26T08:00:00.000Z");
    }
}
