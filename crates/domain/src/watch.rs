//! The watch after a rollback, as the emergency-rollback runbook has it ("monitor alerts for
//! one hour"): once a rollback is verified, its circuit is watched for a while: new alerts on
//! it, the next scoring job's result, its drift and accuracy. The watch ends "clean" when the
//! time is up with nothing new, or as soon as an alert fires on the circuit ("alert fired at
//! 08:42") or its next scoring job fails. Pure: the service feeds it what a refresh read, on
//! the session's clock, and records how it ended.
//!
//! Drift and accuracy are shown, not judged here: the accuracy series is daily and the drift
//! comes from the data, so neither moves within the hour of a watch; an alert rule on them is
//! what fires when they get worse, and that ends the watch.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::incidents::{AlertRecord, JobBrief, JobOutcome, Severity};
use super::{CircuitRef, Status};

/// The default length of a watch, in minutes (`[incidents] watch_minutes`).
pub const DEFAULT_WATCH_MINUTES: u32 = 60;

/// A verified rollback's watch of its circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    pub circuit: CircuitRef,
    /// When the restore was verified: what fires after this is new.
    pub started_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Alerts on the circuit fired since the restore, as first seen.
    #[serde(default)]
    pub new_alerts: Vec<WatchedAlert>,
    /// The circuit's newest Prod scoring job submitted since the restore, as last seen.
    #[serde(default)]
    pub next_job: Option<JobBrief>,
    /// The circuit's drift and accuracy as last seen.
    #[serde(default)]
    pub drift: Option<Status>,
    #[serde(default)]
    pub accuracy: Option<Status>,
    /// When the circuit was last looked at.
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
    /// How it ended; `None` while watching.
    #[serde(default)]
    pub ended: Option<WatchEnd>,
}

/// An alert seen during a watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedAlert {
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub fired_at: DateTime<Utc>,
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEnd {
    /// When relcon saw it end.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: WatchOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum WatchOutcome {
    /// The time is up: no alert fired on the circuit and no scoring job failed.
    Clean,
    /// An alert fired on the circuit during the watch (the first one).
    AlertFired {
        rule: String,
        severity: Severity,
        fired_at: DateTime<Utc>,
    },
    /// The circuit's next scoring job failed.
    JobFailed {
        job: String,
        at: Option<DateTime<Utc>>,
    },
}

impl WatchOutcome {
    pub fn is_clean(&self) -> bool {
        matches!(self, WatchOutcome::Clean)
    }
}

impl fmt::Display for WatchOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchOutcome::Clean => f.write_str("clean"),
            WatchOutcome::AlertFired {
                rule,
                severity,
                fired_at,
            } => write!(
                f,
                "alert fired at {} ({severity} {rule})",
                fired_at.format("%H:%M")
            ),
            WatchOutcome::JobFailed { job, at } => match at {
                Some(t) => write!(f, "scoring job {job} failed at {}", t.format("%H:%M")),
                None => write!(f, "scoring job {job} failed"),
            },
        }
    }
}

/// What a refresh shows of the watched circuit.
#[derive(Debug, Clone, Default)]
pub struct WatchReading<'a> {
    /// The circuit's alerts (any state: a new alert someone closed already still fired).
    pub alerts: Vec<&'a AlertRecord>,
    /// The alerts could be read: a watch never ends clean on a read that missed them.
    pub alerts_read: bool,
    /// The circuit's newest Prod scoring job, when its list was read.
    pub newest_job: Option<&'a JobBrief>,
    pub drift: Option<Status>,
    pub accuracy: Option<Status>,
}

impl Watch {
    /// A watch of `minutes` from the verified restore at `started_at`.
    pub fn new(circuit: CircuitRef, started_at: DateTime<Utc>, minutes: u32) -> Watch {
        Watch {
            circuit,
            started_at,
            until: started_at + Duration::minutes(i64::from(minutes)),
            new_alerts: Vec::new(),
            next_job: None,
            drift: None,
            accuracy: None,
            checked_at: None,
            ended: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.ended.is_none()
    }

    /// Take in what was read at `now`; returns how the watch ended when it ends now. An alert
    /// fired during the watch counts even when it is seen only after the watch's time was up;
    /// one fired after that does not.
    pub fn observe(&mut self, now: DateTime<Utc>, r: &WatchReading<'_>) -> Option<&WatchEnd> {
        if self.ended.is_some() {
            return None;
        }
        for a in &r.alerts {
            let Some(fired) = a.fired_at else { continue };
            if fired < self.started_at || fired > self.until {
                continue;
            }
            if self.new_alerts.iter().any(|w| w.id == a.id) {
                continue;
            }
            self.new_alerts.push(WatchedAlert {
                id: a.id.clone(),
                rule: a.rule_name().to_owned(),
                severity: a.severity,
                fired_at: fired,
            });
        }
        self.new_alerts.sort_by_key(|a| a.fired_at);
        if let Some(j) = r.newest_job
            && j.at
                .is_some_and(|t| t >= self.started_at && t <= self.until)
        {
            self.next_job = Some(j.clone());
        }
        self.drift = r.drift.or(self.drift);
        self.accuracy = r.accuracy.or(self.accuracy);
        self.checked_at = Some(now);
        let outcome = if let Some(first) = self.new_alerts.first() {
            Some(WatchOutcome::AlertFired {
                rule: first.rule.clone(),
                severity: first.severity,
                fired_at: first.fired_at,
            })
        } else if let Some(j) = &self.next_job
            && j.status.outcome() == JobOutcome::Failed
        {
            Some(WatchOutcome::JobFailed {
                job: j.name.clone(),
                at: j.at,
            })
        } else if now >= self.until && r.alerts_read {
            Some(WatchOutcome::Clean)
        } else {
            None
        };
        self.ended = outcome.map(|outcome| WatchEnd { at: now, outcome });
        self.ended.as_ref()
    }

    /// Minutes left at `now` (rounded up; 0 once the time is up).
    pub fn minutes_left(&self, now: DateTime<Utc>) -> i64 {
        let s = (self.until - now).num_seconds().max(0);
        (s + 59) / 60
    }

    /// Where it stands in a word, for a state column: watching, watch clean, alert fired,
    /// job failed.
    pub fn state_word(&self) -> &'static str {
        match self.ended.as_ref().map(|e| &e.outcome) {
            None => "watching",
            Some(WatchOutcome::Clean) => "watch clean",
            Some(WatchOutcome::AlertFired { .. }) => "alert fired",
            Some(WatchOutcome::JobFailed { .. }) => "job failed",
        }
    }

    /// The rest of the line when the state column says [`Watch::state_word`]: "42 min left,
    /// 0 new alerts, no job since"; "60 min, no new alert"; "at 08:42 (Sev1 rule)".
    pub fn brief(&self, now: DateTime<Utc>) -> String {
        let label = self.label(now);
        match &self.ended {
            None => label
                .strip_prefix("watching, ")
                .unwrap_or(&label)
                .to_owned(),
            Some(_) => self.ended_detail(),
        }
    }

    fn ended_detail(&self) -> String {
        match self.ended.as_ref().map(|e| &e.outcome) {
            Some(WatchOutcome::AlertFired {
                rule,
                severity,
                fired_at,
            }) => format!("at {} ({severity} {rule})", fired_at.format("%H:%M")),
            Some(WatchOutcome::JobFailed { job, at }) => match at {
                Some(t) => format!("{job} at {}", t.format("%H:%M")),
                None => job.clone(),
            },
            _ => format!(
                "{} min, no new alert",
                (self.until - self.started_at).num_minutes()
            ),
        }
    }

    /// One line: "watching, 42 min left, 0 new alerts, next job Completed"; "watch clean
    /// (60 min)"; "watch: alert fired at 08:42 (Sev1 mae-rule)".
    pub fn label(&self, now: DateTime<Utc>) -> String {
        match &self.ended {
            Some(WatchEnd {
                outcome: WatchOutcome::Clean,
                ..
            }) => format!(
                "watch clean ({} min, no new alert{})",
                (self.until - self.started_at).num_minutes(),
                match &self.next_job {
                    Some(j) => format!(", next job {}", j.status),
                    None => String::new(),
                }
            ),
            Some(e) => format!("watch: {}", e.outcome),
            None => {
                let n = self.new_alerts.len();
                let job = match &self.next_job {
                    Some(j) => format!("next job {}", j.status),
                    None => "no job since".to_owned(),
                };
                if now >= self.until {
                    format!("watch time up, {n} new alerts, {job} (ends at the next read)")
                } else {
                    format!(
                        "watching, {} min left, {n} new alert{}, {job}",
                        self.minutes_left(now),
                        if n == 1 { "" } else { "s" }
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::{AlertState, JobStatus, MonitorCondition};

    fn t0() -> DateTime<Utc> {
        crate::clock::pinned_start()
    }

    fn alert(id: &str, fired_min: i64) -> AlertRecord {
        AlertRecord {
            id: format!("/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{id}"),
            name: "mae".into(),
            rule: "/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/scheduledqueryrules/mae-high".into(),
            severity: Severity::Sev1,
            state: AlertState::New,
            condition: MonitorCondition::Fired,
            monitor_service: "Log Analytics".into(),
            signal_type: "Log".into(),
            fired_at: Some(t0() + Duration::minutes(fired_min)),
            modified_at: None,
            modified_by: None,
            target_resource: String::new(),
            target_resource_group: String::new(),
            description: String::new(),
            dimensions: Vec::new(),
        }
    }

    fn watch() -> Watch {
        Watch::new("PLANT007/CIRCUIT03".parse().unwrap(), t0(), 60)
    }

    #[test]
    fn a_quiet_hour_ends_clean_and_not_before() {
        let mut w = watch();
        let old = alert("old", -30);
        let r = WatchReading {
            alerts: vec![&old],
            alerts_read: true,
            ..WatchReading::default()
        };
        assert!(w.observe(t0() + Duration::minutes(18), &r).is_none());
        assert_eq!(
            w.label(t0() + Duration::minutes(18)),
            "watching, 42 min left, 0 new alerts, no job since"
        );
        assert_eq!(
            (w.state_word(), w.brief(t0() + Duration::minutes(18))),
            (
                "watching",
                "42 min left, 0 new alerts, no job since".to_owned()
            )
        );
        let unread = WatchReading::default();
        assert!(
            w.observe(t0() + Duration::minutes(61), &unread).is_none(),
            "alerts not read: not clean"
        );
        assert!(
            w.label(t0() + Duration::minutes(61))
                .starts_with("watch time up")
        );
        let end = w.observe(t0() + Duration::minutes(62), &r).cloned();
        assert_eq!(end.map(|e| e.outcome), Some(WatchOutcome::Clean));
        assert_eq!(
            w.label(t0() + Duration::minutes(90)),
            "watch clean (60 min, no new alert)"
        );
        assert_eq!(
            (w.state_word(), w.brief(t0())),
            ("watch clean", "60 min, no new alert".to_owned())
        );
        // Ended: nothing changes it any more.
        let late = alert("late", 20);
        let r = WatchReading {
            alerts: vec![&late],
            ..WatchReading::default()
        };
        assert!(w.observe(t0() + Duration::minutes(95), &r).is_none());
        assert!(w.new_alerts.is_empty());
    }

    #[test]
    fn an_alert_fired_during_the_watch_ends_it_even_when_seen_late() {
        let mut w = watch();
        let fired = alert("new", 42);
        let after = alert("after", 75);
        let r = WatchReading {
            alerts: vec![&after, &fired],
            ..WatchReading::default()
        };
        let end = w
            .observe(t0() + Duration::minutes(80), &r)
            .cloned()
            .unwrap();
        assert_eq!(
            end.outcome.to_string(),
            "alert fired at 08:42 (Sev1 mae-high)"
        );
        assert_eq!(
            (w.state_word(), w.brief(t0())),
            ("alert fired", "at 08:42 (Sev1 mae-high)".to_owned())
        );
        assert_eq!(
            w.new_alerts.len(),
            1,
            "the one after the watch does not count"
        );
        assert!(!end.outcome.is_clean());
    }

    #[test]
    fn the_next_job_is_followed_and_its_failure_ends_the_watch() {
        let mut w = watch();
        let before = JobBrief {
            name: "nightly-old".into(),
            status: JobStatus::Failed,
            at: Some(t0() - Duration::hours(2)),
        };
        let r = WatchReading {
            newest_job: Some(&before),
            drift: Some(Status::Warn),
            ..WatchReading::default()
        };
        assert!(
            w.observe(t0() + Duration::minutes(5), &r).is_none(),
            "the failure that paged is not the next job"
        );
        assert_eq!(w.drift, Some(Status::Warn));
        let running = JobBrief {
            name: "retry-1".into(),
            status: JobStatus::Running,
            at: Some(t0() + Duration::minutes(10)),
        };
        let r = WatchReading {
            newest_job: Some(&running),
            ..WatchReading::default()
        };
        assert!(w.observe(t0() + Duration::minutes(12), &r).is_none());
        assert_eq!(w.drift, Some(Status::Warn), "kept when not read again");
        assert!(
            w.label(t0() + Duration::minutes(12))
                .ends_with("0 new alerts, next job Running")
        );
        let failed = JobBrief {
            status: JobStatus::Failed,
            ..running
        };
        let r = WatchReading {
            newest_job: Some(&failed),
            ..WatchReading::default()
        };
        let end = w
            .observe(t0() + Duration::minutes(30), &r)
            .cloned()
            .unwrap();
        assert_eq!(
            end.outcome.to_string(),
            "scoring job retry-1 failed at 08:10"
        );
    }
}
