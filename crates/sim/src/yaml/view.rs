//! The classic world read as YAML pipeline runs: which runs exist, where each stands, its
//! approvals (one per run, stage and attempt, with a step per assigned approver) and the
//! environment deployment records its jobs wrote.

use chrono::{DateTime, Duration, Utc};

use super::{
    EnvKind, Pipe, RELEASE_RUN_BASE, ROLLBACK_RECORD_BASE, ROLLBACK_RUN_BASE, ROLLBACK_STAGE,
    RollbackRun, deploy_stage,
};
use crate::domain::Stage;
use crate::world::{ALICE, ApprovalStatus, ERIN, Phase, World, guid};

/// A run of one of the seed's pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// A training build (index into the builds).
    Training(usize),
    /// The run of a classic release's stage (release index, stage 0..3).
    Release(usize, usize),
    /// A rollback run (index into the rollback runs).
    Rollback(usize),
}

/// Where a run (or a stage attempt) stands, in Azure Pipelines' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Waiting on its environment's checks.
    Checks,
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl Standing {
    pub fn completed(self) -> bool {
        matches!(
            self,
            Standing::Succeeded | Standing::Failed | Standing::Canceled
        )
    }
}

impl Run {
    pub fn id(self, w: &World) -> u32 {
        match self {
            Run::Training(b) => w.builds[b].id,
            Run::Release(r, e) => RELEASE_RUN_BASE + 4 * w.releases[r].id + e as u32,
            Run::Rollback(n) => ROLLBACK_RUN_BASE + n as u32,
        }
    }

    pub fn pipe(self) -> Pipe {
        match self {
            Run::Training(_) => Pipe::Training,
            Run::Release(_, e) => Pipe::of_stage(e),
            Run::Rollback(_) => Pipe::Rollback,
        }
    }

    /// The run's name (its build number).
    pub fn name(self, w: &World) -> String {
        match self {
            Run::Training(b) => w.builds[b].number.clone(),
            Run::Release(r, _) => {
                let rel = &w.releases[r];
                format!("{}.{}", rel.created_on.format("%Y%m%d"), rel.id)
            }
            Run::Rollback(n) => w.yaml.rollbacks[n].number.clone(),
        }
    }

    /// Who the run is requested for: the training build's requester; for a release's runs,
    /// whoever created the release (a run triggered by a pipeline resource is requested for
    /// the upstream run's requester); the rollback run's queuer.
    pub fn requested_for(self, w: &World) -> usize {
        match self {
            Run::Training(b) => w.builds[b].requested_by,
            Run::Release(r, _) => w.releases[r].created_by,
            Run::Rollback(n) => w.yaml.rollbacks[n].requested_by,
        }
    }

    pub fn created(self, w: &World) -> DateTime<Utc> {
        match self {
            Run::Training(b) => w.builds[b].at,
            Run::Release(r, e) => w.releases[r].envs[e]
                .attempts
                .first()
                .map_or(w.releases[r].created_on, |a| a.queued_on),
            Run::Rollback(n) => w.yaml.rollbacks[n].queued,
        }
    }

    /// Where the run stands at `now`, and when it finished.
    pub fn standing(self, w: &World, now: DateTime<Utc>) -> (Standing, Option<DateTime<Utc>>) {
        match self {
            Run::Training(b) => {
                let done = w.builds[b].at + Duration::minutes(50);
                if now >= done {
                    (Standing::Succeeded, Some(done))
                } else {
                    (Standing::Running, None)
                }
            }
            Run::Release(r, e) => match w.releases[r].envs[e].attempts.last() {
                Some(a) => (attempt_standing(a.phase, now), a.completed_on),
                None => (Standing::Queued, None),
            },
            Run::Rollback(n) => rollback_standing(w, &w.yaml.rollbacks[n], now),
        }
    }
}

/// Where a stage attempt of a classic stage stands. An attempt rejected at its checks fails
/// the stage (and the run), as a rejected Approval check does.
pub fn attempt_standing(phase: Phase, now: DateTime<Utc>) -> Standing {
    match phase {
        Phase::AwaitingApproval => Standing::Checks,
        Phase::Deploying { start_at, .. } if now < start_at => Standing::Queued,
        Phase::Deploying { .. } => Standing::Running,
        Phase::Succeeded => Standing::Succeeded,
        Phase::Rejected => Standing::Failed,
        Phase::Canceled => Standing::Canceled,
    }
}

/// A rollback run: checks, then the deployments' updates until every ARM operation is done.
pub fn rollback_standing(
    w: &World,
    run: &RollbackRun,
    now: DateTime<Utc>,
) -> (Standing, Option<DateTime<Utc>>) {
    if run.decisions.iter().any(|d| !d.approve) {
        let at = run.decisions.iter().map(|d| d.at).max();
        return (Standing::Failed, at);
    }
    let Some(started) = run.started else {
        return (Standing::Checks, None);
    };
    let ops: Vec<_> = run.ops.iter().filter_map(|&o| w.ops.get(o)).collect();
    let done_at = ops.iter().map(|o| o.done_at).max().unwrap_or(started);
    if now >= started && ops.iter().all(|o| o.done || o.done_at <= now) && now >= done_at {
        (Standing::Succeeded, Some(done_at))
    } else {
        (Standing::Running, None)
    }
}

/// Every run of a pipeline, oldest first.
pub fn runs_of(w: &World, pipe: Pipe) -> Vec<Run> {
    match pipe {
        Pipe::Training => (0..w.builds.len()).map(Run::Training).collect(),
        Pipe::Rollback => (0..w.yaml.rollbacks.len()).map(Run::Rollback).collect(),
        _ => {
            let e = pipe.stage().unwrap_or(0);
            (0..w.releases.len())
                .filter(|&r| !w.releases[r].envs[e].attempts.is_empty())
                .map(|r| Run::Release(r, e))
                .collect()
        }
    }
}

/// The run with this id (a build id, in Azure DevOps: runs are builds).
pub fn run_by_id(w: &World, id: u32) -> Option<Run> {
    if let Some(n) = id.checked_sub(ROLLBACK_RUN_BASE) {
        return ((n as usize) < w.yaml.rollbacks.len()).then_some(Run::Rollback(n as usize));
    }
    if let Some(k) = id.checked_sub(RELEASE_RUN_BASE) {
        let (rel_id, e) = (k / 4, (k % 4) as usize);
        let r = w.release_index(rel_id)?;
        return (e < 3 && !w.releases[r].envs[e].attempts.is_empty()).then_some(Run::Release(r, e));
    }
    w.builds.iter().position(|b| b.id == id).map(Run::Training)
}

/// The approvers of every Approval check: alice to erin one by one, and the classic world's
/// approver group ([`GROUP`]).
pub fn approvers() -> Vec<usize> {
    (ALICE..=ERIN).chain([GROUP]).collect()
}

/// The approver group (`[forecasting]\ML Release Approvers`) as an approver of a check: "a
/// group counts as one approver, any member may answer for it" (Microsoft's "Define approvals
/// and checks"). Everyone but the build service is a member here, as the classic world's
/// group approvals let anyone answer; someone with a step of their own answers on it.
pub const GROUP: usize = usize::MAX;

/// Whether `who` answers for the group: a member without a step of their own.
pub fn answers_for_group(who: usize) -> bool {
    who != crate::world::SERVICE && !(ALICE..=ERIN).contains(&who)
}

/// One step of an approval.
#[derive(Debug, Clone)]
pub struct Step {
    /// A person, or [`GROUP`].
    pub assigned: usize,
    /// Who answered it: the assigned person, or the member who answered for the group.
    pub actual: Option<usize>,
    pub status: &'static str,
    pub comment: String,
    pub at: Option<DateTime<Utc>>,
}

/// One approval: a run's stage attempt waiting on its environment's Approval check.
#[derive(Debug, Clone)]
pub struct YamlApproval {
    pub id: String,
    pub run: Run,
    pub attempt: u32,
    pub env: EnvKind,
    pub min_required: u32,
    pub blocked: Vec<usize>,
    pub status: &'static str,
    pub steps: Vec<Step>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// The classic approval records of this attempt (none for a rollback run).
    pub records: Vec<usize>,
}

pub fn approval_id(run_id: u32, stage: &str, attempt: u32) -> String {
    guid(&format!("yaml-approval:{run_id}:{stage}:{attempt}"))
}

/// Every approval the world holds, oldest first.
pub fn approvals(w: &World) -> Vec<YamlApproval> {
    let mut out = Vec::new();
    for r in 0..w.releases.len() {
        for e in [0, 2] {
            let env = &w.releases[r].envs[e];
            for t in &env.attempts {
                let records: Vec<usize> = env
                    .approvals
                    .iter()
                    .copied()
                    .filter(|&a| w.approvals[a].attempt == t.attempt && !w.approvals[a].automated)
                    .collect();
                if !records.is_empty() {
                    out.push(release_approval(
                        w,
                        r,
                        e,
                        t.attempt,
                        t.requested_by,
                        records,
                    ));
                }
            }
        }
    }
    for n in 0..w.yaml.rollbacks.len() {
        if let Some(a) = rollback_approval(w, n) {
            out.push(a);
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    out
}

fn release_approval(
    w: &World,
    r: usize,
    e: usize,
    attempt: u32,
    attempt_requester: usize,
    records: Vec<usize>,
) -> YamlApproval {
    let run = Run::Release(r, e);
    let stage = deploy_stage(e);
    let (min_required, requester_barred) = stage.env.approval_check().unwrap_or((1, false));
    let recs: Vec<_> = records.iter().map(|&a| &w.approvals[a]).collect();
    let status = if recs.iter().any(|a| a.status == ApprovalStatus::Rejected) {
        "rejected"
    } else if recs.iter().any(|a| a.status == ApprovalStatus::Pending) {
        "pending"
    } else if recs.iter().any(|a| a.status == ApprovalStatus::Canceled) {
        "canceled"
    } else {
        "approved"
    };
    let decided: Vec<(usize, &'static str, String, DateTime<Utc>)> = recs
        .iter()
        .filter_map(|a| {
            let who = a.approved_by?;
            let s = match a.status {
                ApprovalStatus::Approved => "approved",
                ApprovalStatus::Rejected => "rejected",
                _ => return None,
            };
            Some((who, s, a.comments.clone(), a.modified_on))
        })
        .collect();
    let mut blocked = Vec::new();
    if requester_barred {
        blocked.push(run.requested_for(w));
        if attempt_requester != crate::world::SERVICE && !blocked.contains(&attempt_requester) {
            blocked.push(attempt_requester);
        }
    }
    let created = recs.iter().map(|a| a.created_on).min().unwrap_or_default();
    let modified = recs.iter().map(|a| a.modified_on).max().unwrap_or(created);
    YamlApproval {
        id: approval_id(run.id(w), stage.name, attempt),
        run,
        attempt,
        env: stage.env,
        min_required,
        blocked,
        status,
        steps: steps(status, &decided),
        created,
        modified,
        records,
    }
}

/// A step per assigned approver; the group's answered by the first member without a step of
/// their own who decided (anyone else who decided gets a step of their own). An undecided
/// step is `pending` while the approval is, then `skipped` (or `canceled` with it).
fn steps(
    status: &'static str,
    decided: &[(usize, &'static str, String, DateTime<Utc>)],
) -> Vec<Step> {
    let undecided = match status {
        "pending" => "pending",
        "canceled" => "canceled",
        _ => "skipped",
    };
    let answered =
        |assigned: usize, d: Option<&(usize, &'static str, String, DateTime<Utc>)>| match d {
            Some((who, s, comment, at)) => Step {
                assigned,
                actual: Some(*who),
                status: s,
                comment: comment.clone(),
                at: Some(*at),
            },
            None => Step {
                assigned,
                actual: None,
                status: undecided,
                comment: String::new(),
                at: None,
            },
        };
    let for_group = decided.iter().find(|(who, ..)| answers_for_group(*who));
    let mut out: Vec<Step> = approvers()
        .into_iter()
        .map(|p| match p {
            GROUP => answered(GROUP, for_group),
            p => answered(p, decided.iter().find(|(who, ..)| *who == p)),
        })
        .collect();
    for d in decided {
        let listed = out.iter().any(|s| s.actual == Some(d.0));
        if !listed {
            out.push(answered(d.0, Some(d)));
        }
    }
    out
}

fn rollback_approval(w: &World, n: usize) -> Option<YamlApproval> {
    let run = &w.yaml.rollbacks[n];
    let env = rollback_env(run.stage);
    let (min_required, barred) = env.approval_check()?;
    let decided: Vec<_> = run
        .decisions
        .iter()
        .map(|d| {
            let s = if d.approve { "approved" } else { "rejected" };
            (d.who, s, d.comment.clone(), d.at)
        })
        .collect();
    let approved = run.decisions.iter().filter(|d| d.approve).count() as u32;
    let status = if run.decisions.iter().any(|d| !d.approve) {
        "rejected"
    } else if approved >= min_required {
        "approved"
    } else {
        "pending"
    };
    let id = Run::Rollback(n).id(w);
    Some(YamlApproval {
        id: approval_id(id, ROLLBACK_STAGE, 1),
        run: Run::Rollback(n),
        attempt: 1,
        env,
        min_required,
        blocked: if barred {
            vec![run.requested_by]
        } else {
            Vec::new()
        },
        status,
        steps: steps(status, &decided),
        created: run.queued,
        modified: run
            .decisions
            .iter()
            .map(|d| d.at)
            .max()
            .unwrap_or(run.queued),
        records: Vec::new(),
    })
}

/// The environment a rollback run deploys on (`${environment}-Rollback-Approval`).
pub fn rollback_env(stage: Stage) -> EnvKind {
    if stage == Stage::Prod {
        EnvKind::ProdRollback
    } else {
        EnvKind::TestRollback
    }
}

/// One environment deployment record: a stage attempt's deployment job that started.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: u32,
    pub env: EnvKind,
    pub run: Run,
    pub stage: &'static str,
    pub job: &'static str,
    pub attempt: u32,
    pub queued: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub result: Option<&'static str>,
}

/// The deployment records of an environment at `now`, newest (highest id) first. A record is
/// written when the stage's job starts, after its checks: an attempt rejected at its checks
/// leaves none.
pub fn records(w: &World, env: EnvKind, now: DateTime<Utc>) -> Vec<Record> {
    let mut out = Vec::new();
    let classic = match env {
        EnvKind::Registry => Some(0),
        EnvKind::Test => Some(1),
        EnvKind::Prod => Some(2),
        _ => None,
    };
    if let Some(e) = classic {
        let stage = deploy_stage(e);
        for r in 0..w.releases.len() {
            for t in &w.releases[r].envs[e].attempts {
                let Some(started) = t.started_on.filter(|s| *s <= now) else {
                    continue;
                };
                let standing = attempt_standing(t.phase, now);
                out.push(Record {
                    id: t.deployment_id,
                    env,
                    run: Run::Release(r, e),
                    stage: stage.name,
                    job: stage.job,
                    attempt: t.attempt,
                    queued: t.queued_on,
                    started,
                    finished: t.completed_on.filter(|_| standing.completed()),
                    result: result_of(standing),
                });
            }
        }
    }
    for (n, run) in w.yaml.rollbacks.iter().enumerate() {
        if rollback_env(run.stage) != env {
            continue;
        }
        let Some(started) = run.started.filter(|s| *s <= now) else {
            continue;
        };
        let (standing, finished) = rollback_standing(w, run, now);
        out.push(Record {
            id: ROLLBACK_RECORD_BASE + n as u32,
            env,
            run: Run::Rollback(n),
            stage: ROLLBACK_STAGE,
            job: super::ROLLBACK_JOB,
            attempt: 1,
            queued: run.queued,
            started,
            finished,
            result: result_of(standing),
        });
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.id));
    out
}

/// A completed stage's result (`TaskResult`).
pub fn result_of(s: Standing) -> Option<&'static str> {
    match s {
        Standing::Succeeded => Some("succeeded"),
        Standing::Failed => Some("failed"),
        Standing::Canceled => Some("canceled"),
        _ => None,
    }
}
