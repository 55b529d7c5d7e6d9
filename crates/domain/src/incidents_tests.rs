//! The incident rules: the newest finished run and recency judge a deployment's jobs; an
//! alert's severity and state judge its circuit.

use super::*;
use crate::clock::pinned_start;

fn job(name: &str, status: &str, hours_ago: i64) -> ScoringJob {
    let at = pinned_start() - Duration::hours(hours_ago);
    ScoringJob {
        name: name.into(),
        stage: Stage::Prod,
        endpoint: "batch-endpoint-plant001".into(),
        deployment: "deployment-circuit01".into(),
        status: JobStatus::parse(status),
        submitted_at: Some(at),
        started_at: None,
        ended_at: None,
        error: None,
        error_code: None,
        studio_url: None,
    }
}

fn assess(jobs: &[ScoringJob]) -> JobsSummary {
    JobsSummary::assess(jobs, pinned_start(), 26, pinned_start())
}

#[test]
fn the_newest_finished_run_and_recency_decide() {
    let ok = assess(&[job("b", "Completed", 6), job("a", "Failed", 30)]);
    assert_eq!((ok.status, ok.problem.as_deref()), (Some(Status::Ok), None));
    assert_eq!(ok.last.unwrap().name, "b");

    let failed = assess(&[job("b", "Failed", 6), job("a", "Completed", 30)]);
    assert_eq!(failed.status, Some(Status::Alert));
    assert_eq!(failed.problem.as_deref(), Some("last run failed"));
    assert_eq!(
        failed.last_success,
        Some(pinned_start() - Duration::hours(30))
    );

    let retrying = assess(&[job("c", "Running", 1), job("b", "Failed", 6)]);
    assert_eq!(retrying.status, Some(Status::Warn));

    let stale = assess(&[job("a", "Completed", 27)]);
    assert_eq!(stale.status, Some(Status::Alert));
    assert!(
        stale
            .problem
            .as_deref()
            .unwrap()
            .starts_with("no run in the last 26 h"),
        "{stale:?}"
    );
    // 26 hours exactly is still on time.
    assert_eq!(
        assess(&[job("a", "Completed", 26)]).status,
        Some(Status::Ok)
    );

    let none = assess(&[]);
    assert_eq!(none.status, Some(Status::Alert));
    assert_eq!(
        none.problem.as_deref(),
        Some("no run in the last 26 h (none listed)")
    );
    let canceled = assess(&[job("a", "cancelled", 2)]);
    assert_eq!(canceled.problem.as_deref(), Some("last run was canceled"));
}

#[test]
fn statuses_parse_case_insensitively_and_keep_unknown_words() {
    assert_eq!(JobStatus::parse("completed"), JobStatus::Completed);
    assert_eq!(
        JobStatus::parse("NotResponding").outcome(),
        JobOutcome::Failed
    );
    let odd = JobStatus::parse("Hibernating");
    assert_eq!(odd.as_str(), "Hibernating");
    assert_eq!(odd.outcome(), JobOutcome::Other);
    assert_eq!(Severity::parse("sev1"), Severity::Sev1);
    assert_eq!(Severity::parse("Sev9"), Severity::Unknown);
    assert_eq!(AlertState::parse("ACKNOWLEDGED"), AlertState::Acknowledged);
}

fn alert(sev: &str, state: &str, condition: &str, minutes_ago: i64) -> AlertRecord {
    AlertRecord {
        id: format!(
            "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{sev}{minutes_ago}"
        ),
        name: "rule".into(),
        rule: format!(
            "/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/scheduledqueryrules/rule-{sev}"
        ),
        severity: Severity::parse(sev),
        state: AlertState::parse(state),
        condition: MonitorCondition::parse(condition),
        monitor_service: "Log Alerts V2".into(),
        signal_type: "Log".into(),
        fired_at: Some(pinned_start() - Duration::minutes(minutes_ago)),
        modified_at: None,
        modified_by: None,
        target_resource: String::new(),
        target_resource_group: String::new(),
        description: String::new(),
        dimensions: vec![("PLANT_ID".into(), "PLANT001".into())],
    }
}

#[test]
fn a_circuit_is_summed_up_by_its_worst_active_alert() {
    let alerts = [
        alert("Sev3", "New", "Fired", 10),
        alert("Sev1", "Acknowledged", "Fired", 90),
        alert("Sev0", "Closed", "Fired", 5),
        alert("Sev0", "New", "Resolved", 5),
    ];
    let s = AlertSummary::of(&alerts);
    assert_eq!((s.active, s.new), (2, 1));
    assert_eq!(s.worst, Some(Severity::Sev1));
    assert_eq!(s.rule.as_deref(), Some("rule-Sev1"));
    assert_eq!(s.status(), Status::Alert);
    assert_eq!(AlertSummary::of(&alerts[..1]).status(), Status::Warn);
    assert_eq!(AlertSummary::of([]).status(), Status::Ok);
    assert_eq!(alerts[0].dimension("plant_id"), Some("PLANT001"));
    assert_eq!(alerts[0].guid(), "Sev310");
}

/// The jobs a refresh keeps of a list judge exactly as the whole list does, whatever the mix
/// of outcomes, times (none, ties) and order; and they are at most three.
#[test]
fn the_jobs_kept_of_a_list_judge_as_the_whole_list() {
    let statuses = ["Completed", "Failed", "Running", "Canceled", "Queued"];
    let mut lists = 0;
    for seed in 0u64..400 {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let len = 1 + next(12) as usize;
        let jobs: Vec<ScoringJob> = (0..len)
            .map(|i| {
                let mut j = job(
                    &format!("job-{}", next(6)),
                    statuses[next(5) as usize],
                    next(60) as i64,
                );
                if next(5) == 0 {
                    j.submitted_at = None;
                }
                if next(2) == 0 {
                    j.ended_at = j
                        .submitted_at
                        .map(|t| t + Duration::minutes(next(600) as i64));
                }
                j.name = format!("{}-{i}", j.name);
                j
            })
            .collect();
        let kept = jobs_assessed(jobs.clone());
        assert!(kept.len() <= 3, "{kept:?}");
        assert_eq!(assess(&kept), assess(&jobs), "{jobs:#?}");
        lists += usize::from(jobs.len() > 3);
    }
    assert!(lists > 200, "the lists must be longer than what is kept");
    // A list of three or fewer is kept whole.
    let short = vec![job("b", "Completed", 6), job("a", "Failed", 30)];
    assert_eq!(jobs_assessed(short.clone()), short);
    // The success that ended last is kept even when newer runs failed.
    let list = vec![
        job("d", "Failed", 1),
        job("c", "Failed", 2),
        job("b", "Completed", 3),
        job("a", "Completed", 4),
    ];
    let kept: Vec<String> = jobs_assessed(list).into_iter().map(|j| j.name).collect();
    assert_eq!(kept, ["d", "b"]);
}
