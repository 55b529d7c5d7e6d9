//! The release side over Azure Pipelines YAML (`[devops] flavor = "yaml"`): the same port as
//! classic releases, read from approvals, the environments' Approval checks and deployment
//! records, and the runs they name (docs/AZURE.md, "YAML pipelines").
//!
//! Per history read: Approvals - Query (pending), Check Configurations - List per stage
//! environment, the environments' deployment records (paged), and, once per run (cached),
//! Runs - Get (plus Builds - Get when the run does not say who requested it) and Builds - List
//! to turn the consumed training run's name into its id. Pipeline and environment ids are
//! resolved once. An approval is placed by its `pipeline` field, else by the timelines of the
//! runs in progress (`Checkpoint.Approval` records).

pub mod assemble;
mod change;
pub use change::rerun_stage_call;
mod flight;
pub(crate) mod kept;
mod urls;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use self::assemble::{PlacedApproval, RunInfo, StageAttempt, StageNames, StageRule};
use crate::AzureBackend;
use crate::domain::Stage;
use crate::domain::platform::{ApprovalRecord, DeploymentRef, ReleaseRecord};
use crate::http::Service;
use crate::map::{identity_ref, time};
use crate::service::backend::{
    ApprovalQuery, BackendError, BackendResult, ErrorKind, ReleaseQuery,
};
use crate::settings::{PipelineRef, YamlPipelines};
use crate::wire::DevOpsList;
use crate::wire::pipelines as pw;

/// Deployment records asked for per page.
const RECORDS_PAGE: u32 = 100;

/// The YAML flavour's configuration and what it learned once (ids, finished runs).
#[derive(Debug)]
pub struct YamlSide {
    config: YamlPipelines,
    pipelines: Mutex<Option<PipelineIds>>,
    environments: Mutex<HashMap<String, u32>>,
    /// Runs whose facts do not change (requester, consumed training run), by id.
    runs: Mutex<HashMap<u32, RunInfo>>,
    /// Training run names (`buildNumber`) to ids.
    training: Mutex<HashMap<String, u32>>,
    /// The training pipeline's runs listed once (one paged Builds - List), so that a run's
    /// consumed training run is not looked up run by run.
    training_listed: tokio::sync::OnceCell<()>,
    /// Runs - Get in flight: one request per run however many readers ask at once.
    run_reads: flight::Flights<u32, BackendResult<RunInfo>>,
    /// The history read in flight: the history, the approvals and the newest attempts of one
    /// refresh share it.
    history_reads: flight::Flights<(), BackendResult<Vec<ReleaseRecord>>>,
    /// Changes sent (decide, re-run, rollback run): a read begun before one is not shared.
    changes: flight::Epoch,
    /// The history `recent_attempts` read, for the `release_history_where` of the same
    /// refresh (which follows it, and is the only caller of either): taken once, and only
    /// when no change was sent since it was read. A refresh then reads the history once.
    for_where: Mutex<Option<(u64, Vec<ReleaseRecord>)>>,
}

/// The configured pipelines' ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PipelineIds {
    training: u32,
    promotion: u32,
    test: u32,
    prod: u32,
    rollback: u32,
}

impl PipelineIds {
    fn of(&self, stage: Stage) -> u32 {
        match stage {
            Stage::Registry => self.promotion,
            Stage::Test => self.test,
            _ => self.prod,
        }
    }

    fn stage_of(&self, pipeline: u32) -> Option<Stage> {
        [Stage::Registry, Stage::Test, Stage::Prod]
            .into_iter()
            .find(|s| self.of(*s) == pipeline)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn config_error(message: String) -> BackendError {
    BackendError::new(ErrorKind::Config, "", "", message)
}

impl YamlSide {
    pub fn new(config: YamlPipelines) -> YamlSide {
        YamlSide {
            config,
            pipelines: Mutex::new(None),
            environments: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            training: Mutex::new(HashMap::new()),
            training_listed: tokio::sync::OnceCell::new(),
            run_reads: flight::Flights::new(),
            history_reads: flight::Flights::new(),
            changes: flight::Epoch::default(),
            for_where: Mutex::new(None),
        }
    }

    fn names(&self) -> StageNames {
        [
            (Stage::Registry, self.config.registry_stage.clone()),
            (Stage::Test, self.config.test_stage.clone()),
            (Stage::Prod, self.config.prod_stage.clone()),
        ]
    }

    fn environment_name(&self, stage: Stage) -> &str {
        match stage {
            Stage::Registry => &self.config.registry_environment,
            Stage::Test => &self.config.test_environment,
            _ => &self.config.prod_environment,
        }
    }
}

impl AzureBackend {
    fn yaml(&self) -> BackendResult<&YamlSide> {
        self.yaml
            .as_ref()
            .ok_or_else(|| config_error("the YAML release side is not configured".into()))
    }

    async fn pipeline_ids(&self) -> BackendResult<PipelineIds> {
        let side = self.yaml()?;
        if let Some(known) = *lock(&side.pipelines) {
            return Ok(known);
        }
        let c = &side.config;
        let wanted = [
            &c.training_pipeline,
            &c.promotion_pipeline,
            &c.test_pipeline,
            &c.prod_pipeline,
            &c.rollback_pipeline,
        ];
        let listed: Vec<pw::Pipeline> = if wanted.iter().all(|p| matches!(p, PipelineRef::Id(_))) {
            Vec::new()
        } else {
            let url = self.urls.yaml_pipelines()?;
            self.http
                .devops_list(Service::DevOps, url, "a pipeline list")
                .await?
        };
        let resolve = |p: &PipelineRef| -> BackendResult<u32> {
            if let PipelineRef::Id(id) = p {
                return Ok(*id);
            }
            listed
                .iter()
                .find_map(|l| {
                    let (id, name) = (l.id?, l.name.as_deref()?);
                    p.matches(id, name).then_some(id)
                })
                .ok_or_else(|| {
                    config_error(format!(
                        "no pipeline named {p} in the project ([devops.yaml] names it)"
                    ))
                })
        };
        let ids = PipelineIds {
            training: resolve(wanted[0])?,
            promotion: resolve(wanted[1])?,
            test: resolve(wanted[2])?,
            prod: resolve(wanted[3])?,
            rollback: resolve(wanted[4])?,
        };
        *lock(&side.pipelines) = Some(ids);
        Ok(ids)
    }

    async fn environment_id(&self, name: &str) -> BackendResult<u32> {
        let side = self.yaml()?;
        if let Some(id) = lock(&side.environments).get(name) {
            return Ok(*id);
        }
        let url = self.urls.yaml_environments(name)?;
        let list: Vec<pw::Environment> = self
            .http
            .devops_list(Service::DevOps, url.clone(), "an environment list")
            .await?;
        let id = list
            .iter()
            .find(|e| {
                e.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|e| e.id)
            .ok_or_else(|| {
                BackendError::new(
                    ErrorKind::NotFound,
                    "GET",
                    url.as_str(),
                    format!("no environment named {name} ([devops.yaml] names it)"),
                )
            })?;
        lock(&side.environments).insert(name.to_owned(), id);
        Ok(id)
    }

    /// The Approval check of a stage's environment (`None`: the environment has none).
    async fn stage_rule(&self, stage: Stage) -> BackendResult<Option<StageRule>> {
        let env = self
            .environment_id(self.yaml()?.environment_name(stage))
            .await?;
        let url = self.urls.yaml_checks(env)?;
        let list: DevOpsList<pw::CheckConfiguration> = self
            .http
            .get_json(Service::DevOps, url, "a check configuration list")
            .await?;
        Ok(StageRule::from_checks(&list.value))
    }

    /// Every deployment record of a stage's environment made by the stage's pipeline.
    async fn stage_attempts(
        &self,
        stage: Stage,
        ids: PipelineIds,
    ) -> BackendResult<Vec<StageAttempt>> {
        let env = self
            .environment_id(self.yaml()?.environment_name(stage))
            .await?;
        let url = self.urls.yaml_deployment_records(env, RECORDS_PAGE)?;
        let pipeline = ids.of(stage);
        self.http
            .devops_list_map(
                Service::DevOps,
                url,
                "an environment deployment record list",
                |r: pw::DeploymentRecord| {
                    // Another pipeline deploying to the same environment is not this stage.
                    let ours = r
                        .definition
                        .as_ref()
                        .and_then(|d| d.id)
                        .is_none_or(|d| d == pipeline);
                    ours.then(|| StageAttempt::from_wire(&r)).flatten()
                },
            )
            .await
    }

    /// What relcon needs of a run: a finished run's from memory (it never changes again),
    /// else one Runs - Get shared by every reader asking at the same time.
    async fn run_info(&self, pipeline: u32, run: u32, stage: Stage) -> BackendResult<RunInfo> {
        let side = self.yaml()?;
        if let Some(known) = lock(&side.runs).get(&run) {
            return Ok(known.clone());
        }
        side.run_reads
            .run(run, side.changes.now(), || {
                self.read_run_info(pipeline, run, stage)
            })
            .await
    }

    /// Runs - Get (and Builds - Get when the run does not say who requested it); a finished
    /// run is kept.
    async fn read_run_info(&self, pipeline: u32, run: u32, stage: Stage) -> BackendResult<RunInfo> {
        let side = self.yaml()?;
        if let Some(known) = lock(&side.runs).get(&run) {
            return Ok(known.clone());
        }
        let ids = self.pipeline_ids().await?;
        let url = self.urls.yaml_run(pipeline, run)?;
        let r: pw::Run = self.http.get_json(Service::DevOps, url, "a run").await?;
        let requested_for = match r.requested_for.clone() {
            Some(who) => identity_ref(Some(who)),
            None => {
                let url = self.urls.yaml_build(run)?;
                let b: pw::Build = self.http.get_json(Service::DevOps, url, "a build").await?;
                identity_ref(b.requested_for.or(b.requested_by))
            }
        };
        let version = r
            .resources
            .as_ref()
            .and_then(|res| {
                res.pipelines
                    .iter()
                    .find(|(alias, _)| alias.eq_ignore_ascii_case(&side.config.training_resource))
            })
            .and_then(|(_, p)| p.version.clone())
            .filter(|v| !v.is_empty());
        let training = match version {
            Some(v) => Some((self.training_run_id(ids.training, &v).await?, v)),
            None => None,
        };
        let info = RunInfo {
            id: run,
            name: r.name.unwrap_or_default(),
            stage,
            requested_for,
            created: time(r.created_date.as_deref()),
            state: r.state.unwrap_or_default(),
            result: r.result.filter(|s| !s.is_empty()),
            training,
            parameters: assemble::parameters(&r.template_parameters),
        };
        // Keep what cannot change; the state is re-read while the run is not completed.
        if info.state.eq_ignore_ascii_case("completed") {
            lock(&side.runs).insert(run, info.clone());
        }
        Ok(info)
    }

    /// The id of the training run named `number` (Builds - List by build number).
    async fn training_run_id(&self, training_pipeline: u32, number: &str) -> BackendResult<u32> {
        let side = self.yaml()?;
        if let Some(id) = lock(&side.training).get(number) {
            return Ok(*id);
        }
        // Once per backend: every training run in one paged list (concurrent callers wait for
        // it). A list that fails or misses the name falls back to the lookup by number.
        side.training_listed
            .get_or_init(|| async {
                let Ok(url) = self.urls.yaml_builds_of(training_pipeline) else {
                    return;
                };
                let listed: BackendResult<Vec<pw::Build>> = self
                    .http
                    .devops_list(Service::DevOps, url, "a build list")
                    .await;
                if let Ok(builds) = listed {
                    let mut known = lock(&side.training);
                    for b in builds {
                        if let (Some(id), Some(n)) = (b.id, b.build_number) {
                            known.entry(n).or_insert(id);
                        }
                    }
                }
            })
            .await;
        if let Some(id) = lock(&side.training).get(number) {
            return Ok(*id);
        }
        let url = self.urls.yaml_build_by_number(training_pipeline, number)?;
        let list: DevOpsList<pw::Build> = self
            .http
            .get_json(Service::DevOps, url.clone(), "a build list")
            .await?;
        let id = list
            .value
            .iter()
            .find(|b| b.build_number.as_deref() == Some(number))
            .or(list.value.first())
            .and_then(|b| b.id)
            .ok_or_else(|| {
                BackendError::new(
                    ErrorKind::NotFound,
                    "GET",
                    url.as_str(),
                    format!("no training run named {number}"),
                )
            })?;
        lock(&side.training).insert(number.to_owned(), id);
        Ok(id)
    }

    /// Pending approvals placed on their run and stage, and (second) the rollback pipeline's
    /// by run; approvals of other pipelines are left out.
    async fn placed_pending(
        &self,
        ids: PipelineIds,
    ) -> BackendResult<(Vec<PlacedApproval>, Vec<(u32, pw::Approval)>)> {
        let side = self.yaml()?;
        let url = self.urls.yaml_pending_approvals()?;
        let list: DevOpsList<pw::Approval> = self
            .http
            .get_json(Service::DevOps, url, "an approval list")
            .await?;
        let mut placed = Vec::new();
        let mut unplaced = Vec::new();
        let mut rollbacks = Vec::new();
        for a in list.value {
            let by_field = a.pipeline.as_ref().and_then(|p| {
                let pipeline: u32 = p.id.as_deref()?.parse().ok()?;
                Some((pipeline, p.owner.as_ref()?.id?))
            });
            match by_field {
                Some((pipeline, run)) if pipeline == ids.rollback => rollbacks.push((run, a)),
                Some((pipeline, run)) => {
                    if let Some(stage) = ids.stage_of(pipeline) {
                        let stage_name = stage_name(side, stage);
                        placed.push(PlacedApproval {
                            approval: a,
                            run,
                            stage,
                            stage_name,
                        });
                    }
                }
                None => unplaced.push(a),
            }
        }
        if !unplaced.is_empty() {
            placed.extend(self.place_by_timeline(ids, unplaced).await?);
        }
        Ok((placed, rollbacks))
    }

    /// The rollback runs waiting for their approval, each as a release of its own (id: the
    /// run's, a build id like a training run's, so the two never collide) with one
    /// Production stage: the approvals list shows them and `decide` finds them like any.
    async fn waiting_rollbacks(
        &self,
        ids: PipelineIds,
        waiting: Vec<(u32, pw::Approval)>,
    ) -> BackendResult<Vec<ReleaseRecord>> {
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let side = self.yaml()?;
        let env = self
            .environment_id(&side.config.rollback_environment)
            .await?;
        let url = self.urls.yaml_checks(env)?;
        let checks: DevOpsList<pw::CheckConfiguration> = self
            .http
            .get_json(Service::DevOps, url, "a check configuration list")
            .await?;
        let rule = StageRule::from_checks(&checks.value);
        let mut out = Vec::new();
        for (run, approval) in waiting {
            let info = self.run_info(ids.rollback, run, Stage::Prod).await?;
            out.push(assemble::rollback_release(&info, &approval, rule.as_ref()));
        }
        Ok(out)
    }

    /// Place approvals without a `pipeline` field: in the timelines of the stage pipelines'
    /// runs in progress, the `Checkpoint.Approval` record whose id is the approval's, under a
    /// `Checkpoint` under the `Stage` (whose `identifier` is the YAML name).
    async fn place_by_timeline(
        &self,
        ids: PipelineIds,
        approvals: Vec<pw::Approval>,
    ) -> BackendResult<Vec<PlacedApproval>> {
        let side = self.yaml()?;
        let mut wanted: HashMap<String, pw::Approval> = approvals
            .into_iter()
            .filter_map(|a| Some((a.id.clone()?.to_ascii_lowercase(), a)))
            .collect();
        let mut placed = Vec::new();
        for stage in [Stage::Registry, Stage::Test, Stage::Prod] {
            if wanted.is_empty() {
                break;
            }
            let pipeline = ids.of(stage);
            let url = self.urls.yaml_runs(pipeline)?;
            let runs: Vec<pw::Run> = self
                .http
                .devops_list(Service::DevOps, url, "a run list")
                .await?;
            for run in runs.iter().filter(|r| {
                r.state
                    .as_deref()
                    .is_some_and(|s| !s.eq_ignore_ascii_case("completed"))
            }) {
                let Some(run_id) = run.id else { continue };
                let url = self.urls.yaml_timeline(run_id)?;
                let timeline: pw::Timeline = self
                    .http
                    .get_json(Service::DevOps, url, "a timeline")
                    .await?;
                for (approval_id, stage_identifier) in checkpoint_approvals(&timeline) {
                    let Some(a) = wanted.remove(&approval_id) else {
                        continue;
                    };
                    let configured = stage_name(side, stage);
                    // The stage's own name when the timeline gives it; the configured one else.
                    let stage_name = stage_identifier.unwrap_or(configured);
                    placed.push(PlacedApproval {
                        approval: a,
                        run: run_id,
                        stage,
                        stage_name,
                    });
                }
            }
        }
        Ok(placed)
    }

    /// Stage attempts queued after their checks and not started yet: a re-run stage whose
    /// approvals are given waits for an agent, with no deployment record (one is written when
    /// its job starts) and no approval pending, so the records alone would show the attempt
    /// before it as the stage's last word. Only a run that is not completed, whose stage has
    /// nothing pending and every record finished, can hide one; its timeline says (one Timeline
    /// - Get each, and only while such a run lasts).
    async fn queued_attempts(
        &self,
        wanted: &[(u32, Stage)],
        runs: &HashMap<u32, RunInfo>,
        recorded: &[(Stage, StageAttempt)],
        pending: &[PlacedApproval],
    ) -> BackendResult<Vec<(Stage, StageAttempt)>> {
        let side = self.yaml()?;
        let mut out = Vec::new();
        for &(run, stage) in wanted {
            let Some(info) = runs.get(&run) else { continue };
            let still_running = !info.state.eq_ignore_ascii_case("completed");
            let waits = pending.iter().any(|p| p.run == run && p.stage == stage);
            let records: Vec<&StageAttempt> = recorded
                .iter()
                .filter(|(s, a)| *s == stage && a.run == run)
                .map(|(_, a)| a)
                .collect();
            if !still_running || waits || records.iter().any(|a| a.finished.is_none()) {
                continue;
            }
            let after = records.iter().map(|a| a.attempt).max().unwrap_or(0);
            let url = self.urls.yaml_timeline(run)?;
            let timeline: pw::Timeline = self
                .http
                .get_json(Service::DevOps, url, "a timeline")
                .await?;
            if let Some(a) = queued_attempt(&timeline, &stage_name(side, stage), run, after) {
                out.push((stage, a));
            }
        }
        Ok(out)
    }

    /// The whole history, one read shared by the callers that ask while it is in flight.
    pub(crate) async fn yaml_history(&self) -> BackendResult<Vec<ReleaseRecord>> {
        let side = self.yaml()?;
        side.history_reads
            .run((), side.changes.now(), || self.read_yaml_history())
            .await
    }

    /// Every stage environment's records and the approvals waiting, with the runs they name
    /// and the stages' rules.
    async fn read_yaml_history(&self) -> BackendResult<Vec<ReleaseRecord>> {
        let side = self.yaml()?;
        let ids = self.pipeline_ids().await?;
        let stages = [Stage::Registry, Stage::Test, Stage::Prod];
        let (attempts, pending, rules) = futures::join!(
            futures::future::join_all(stages.map(|s| self.stage_attempts(s, ids))),
            self.placed_pending(ids),
            futures::future::join_all(stages.map(|s| self.stage_rule(s))),
        );
        let mut all_attempts = Vec::new();
        for (stage, found) in stages.into_iter().zip(attempts) {
            all_attempts.extend(found?.into_iter().map(|a| (stage, a)));
        }
        let (pending, rollbacks) = pending?;
        let mut stage_rules = HashMap::new();
        for (stage, rule) in stages.into_iter().zip(rules) {
            if let Some(rule) = rule? {
                stage_rules.insert(stage, rule);
            }
        }
        let mut wanted: Vec<(u32, Stage)> = all_attempts
            .iter()
            .map(|(s, a)| (a.run, *s))
            .chain(pending.iter().map(|p| (p.run, p.stage)))
            .collect();
        let mut seen = HashSet::new();
        wanted.retain(|w| seen.insert(w.0));
        let infos = futures::future::join_all(
            wanted
                .iter()
                .map(|(run, stage)| self.run_info(ids.of(*stage), *run, *stage)),
        )
        .await;
        let mut runs = HashMap::new();
        for info in infos {
            let info = info?;
            runs.insert(info.id, info);
        }
        all_attempts.extend(
            self.queued_attempts(&wanted, &runs, &all_attempts, &pending)
                .await?,
        );
        let mut releases =
            assemble::releases(&side.names(), &runs, &all_attempts, &pending, &stage_rules);
        releases.extend(self.waiting_rollbacks(ids, rollbacks).await?);
        releases.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(releases)
    }

    pub(crate) async fn yaml_history_where(
        &self,
        query: &ReleaseQuery,
    ) -> BackendResult<Vec<ReleaseRecord>> {
        let side = self.yaml()?;
        let kept = lock(&side.for_where)
            .take()
            .filter(|(epoch, _)| *epoch == side.changes.now());
        let mut all = match kept {
            Some((_, history)) => history,
            None => self.yaml_history().await?,
        };
        all.retain(|r| {
            query.ids.contains(&r.id)
                || query
                    .since
                    .is_some_and(|since| r.created_on.is_some_and(|c| c >= since))
        });
        Ok(all)
    }

    pub(crate) async fn yaml_release(&self, id: u32) -> BackendResult<ReleaseRecord> {
        self.yaml_history()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                BackendError::new(
                    ErrorKind::NotFound,
                    "GET",
                    "",
                    format!("no stage run consumed training run {id}"),
                )
            })
    }

    /// The newest stage attempts (a retried stage adds one), newest first. There is no list
    /// of a project's stage attempts to page through, so they come from the whole history,
    /// which is kept for the `release_history_where` that follows in the same refresh.
    pub(crate) async fn yaml_recent_attempts(&self, top: u32) -> BackendResult<Vec<DeploymentRef>> {
        let side = self.yaml()?;
        lock(&side.for_where).take();
        let epoch = side.changes.now();
        let history = self.yaml_history().await?;
        let mut out: Vec<(Option<chrono::DateTime<chrono::Utc>>, DeploymentRef)> = Vec::new();
        for r in &history {
            for e in &r.environments {
                for d in &e.deploy_steps {
                    out.push((
                        d.queued_on,
                        DeploymentRef {
                            release_id: r.id,
                            environment_id: e.id.clone(),
                            attempt: d.attempt,
                        },
                    ));
                }
            }
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.0));
        *lock(&side.for_where) = Some((epoch, history));
        Ok(out.into_iter().take(top as usize).map(|(_, d)| d).collect())
    }

    pub(crate) async fn yaml_approvals(
        &self,
        query: &ApprovalQuery,
    ) -> BackendResult<Vec<ApprovalRecord>> {
        let history = self.yaml_history().await?;
        Ok(history
            .into_iter()
            .filter(|r| query.release_ids.is_empty() || query.release_ids.contains(&r.id))
            .flat_map(|r| r.environments.into_iter())
            .flat_map(|e| e.pre_deploy_approvals.into_iter())
            .filter(|a| query.status.as_ref().is_none_or(|s| &a.status == s))
            .collect())
    }
}

fn stage_name(side: &YamlSide, stage: Stage) -> String {
    side.names()
        .into_iter()
        .find(|(s, _)| *s == stage)
        .map(|(_, n)| n)
        .unwrap_or_default()
}

/// The attempt of the stage named `stage` (its YAML identifier, else its display name) that a
/// run's timeline shows as not completed and newer than attempt `after`: queued or running
/// without a deployment record yet.
pub fn queued_attempt(t: &pw::Timeline, stage: &str, run: u32, after: u32) -> Option<StageAttempt> {
    let record = t.records.iter().find(|r| {
        r.record_type
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("Stage"))
            && r.identifier
                .as_deref()
                .or(r.name.as_deref())
                .is_some_and(|n| n.eq_ignore_ascii_case(stage))
    })?;
    let attempt = record.attempt.unwrap_or(1);
    let open = !record
        .state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("completed"));
    (open && attempt > after).then(|| StageAttempt {
        run,
        attempt,
        queued: time(record.start_time.as_deref()).or(time(record.last_modified.as_deref())),
        finished: None,
        result: None,
    })
}

/// `(approval id, lower-cased; the stage's YAML name)` of every `Checkpoint.Approval` record:
/// its parent is a `Checkpoint`, whose parent is the `Stage`.
pub fn checkpoint_approvals(t: &pw::Timeline) -> Vec<(String, Option<String>)> {
    let by_id: HashMap<String, &pw::TimelineRecord> = t
        .records
        .iter()
        .filter_map(|r| Some((r.id.clone()?.to_ascii_lowercase(), r)))
        .collect();
    let parent = |r: &pw::TimelineRecord| {
        r.parent_id
            .as_ref()
            .and_then(|p| by_id.get(&p.to_ascii_lowercase()).copied())
    };
    let is = |r: &pw::TimelineRecord, kind: &str| {
        r.record_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    };
    t.records
        .iter()
        .filter(|r| is(r, "Checkpoint.Approval"))
        .filter_map(|r| {
            let id = r.id.clone()?.to_ascii_lowercase();
            let stage = parent(r)
                .filter(|c| is(c, "Checkpoint"))
                .and_then(parent)
                .filter(|s| is(s, "Stage"))
                .and_then(|s| s.identifier.clone().or(s.name.clone()));
            Some((id, stage))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::StageRef;

    fn record(
        id: &str,
        parent: Option<&str>,
        kind: &str,
        identifier: Option<&str>,
    ) -> pw::TimelineRecord {
        pw::TimelineRecord {
            id: Some(id.into()),
            parent_id: parent.map(str::to_owned),
            record_type: Some(kind.into()),
            identifier: identifier.map(str::to_owned),
            ..Default::default()
        }
    }

    /// A re-run stage between its approvals and its job's start: the timeline's open attempt
    /// newer than every deployment record is the stage's last word; a finished or older one,
    /// or another stage's, is not.
    #[test]
    fn a_queued_attempt_is_the_open_stage_attempt_newer_than_the_records() {
        let stage = |name: &str, attempt: u32, state: &str| pw::TimelineRecord {
            attempt: Some(attempt),
            state: Some(state.into()),
            start_time: Some("2026-11-26T08:05:00Z".into()),
            ..record(name, None, "Stage", Some(name))
        };
        let t = |records| pw::Timeline { id: None, records };
        let queued = queued_attempt(
            &t(vec![
                stage("Validate", 1, "completed"),
                stage("DeployToProduction", 2, "inProgress"),
            ]),
            "deploytoproduction",
            7,
            1,
        )
        .expect("the re-run's attempt");
        assert_eq!((queued.run, queued.attempt), (7, 2));
        assert_eq!(queued.finished, None);
        assert!(queued.queued.is_some());
        let prod = |attempt, state| t(vec![stage("DeployToProduction", attempt, state)]);
        assert_eq!(
            queued_attempt(&prod(2, "completed"), "DeployToProduction", 7, 1),
            None
        );
        assert_eq!(
            queued_attempt(&prod(2, "pending"), "DeployToProduction", 7, 2),
            None
        );
        assert_eq!(queued_attempt(&prod(2, "pending"), "Validate", 7, 1), None);
        assert!(queued_attempt(&prod(2, "pending"), "DeployToProduction", 7, 1).is_some());
    }

    /// An approval is placed only through Checkpoint.Approval -> Checkpoint -> Stage; a record
    /// of that type elsewhere in the tree names no stage.
    #[test]
    fn checkpoint_approvals_name_their_stage_through_the_checkpoint() {
        let t = pw::Timeline {
            id: None,
            records: vec![
                record("S", None, "Stage", Some("DeployToProduction")),
                record("C", Some("S"), "Checkpoint", None),
                record("A1", Some("c"), "Checkpoint.Approval", None),
                record("J", Some("S"), "Job", None),
                record("A2", Some("J"), "Checkpoint.Approval", None),
            ],
        };
        assert_eq!(
            checkpoint_approvals(&t),
            [
                ("a1".to_owned(), Some("DeployToProduction".to_owned())),
                ("a2".to_owned(), None)
            ]
        );
    }

    /// `permissions` is a flags enum the spec names; either rendering is read, anything else
    /// is "not said".
    #[test]
    fn permissions_as_names_or_as_flags_say_whether_the_caller_may_update() {
        use serde_json::json;
        assert_eq!(
            assemble::may_update(&json!("view, update, reassign")),
            Some(true)
        );
        assert_eq!(assemble::may_update(&json!("view")), Some(false));
        assert_eq!(assemble::may_update(&json!(3)), Some(true));
        assert_eq!(assemble::may_update(&json!(1)), Some(false));
        assert_eq!(assemble::may_update(&json!(null)), None);
    }

    /// A waiting rollback run is a release of its circuits at the version it restores, and
    /// says so; with `previous` it names the circuits and no version.
    #[test]
    fn a_rollback_run_names_its_circuits_and_version_from_its_parameters() {
        use crate::domain::{ModelVersion, platform::IdentityRef};
        let run = |params: &[(&str, &str)]| RunInfo {
            id: 9001,
            name: "20261126.1".into(),
            stage: Stage::Prod,
            requested_for: IdentityRef::default(),
            created: None,
            state: "inProgress".into(),
            result: None,
            training: None,
            parameters: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let approval = pw::Approval::default();
        let specific = assemble::rollback_release(
            &run(&[
                ("circuitIds", "PLANT007_CIRCUIT03,PLANT001_CIRCUIT01"),
                ("environment", "Production"),
                ("rollbackType", "specific"),
                ("specificDeployment", "v7"),
            ]),
            &approval,
            None,
        );
        let (circuits, version) = specific.rollback_scope().expect("a rollback run");
        assert_eq!(
            circuits,
            [
                "PLANT007/CIRCUIT03".parse().unwrap(),
                "PLANT001/CIRCUIT01".parse().unwrap()
            ]
        );
        assert_eq!(version, Some(ModelVersion(7)));
        assert_eq!(
            specific.description,
            "rollback pipeline run: PLANT007/CIRCUIT03, PLANT001/CIRCUIT01 back to v7"
        );
        let previous = assemble::rollback_release(
            &run(&[
                ("circuitIds", "PLANT007_CIRCUIT03"),
                ("rollbackType", "previous"),
            ]),
            &approval,
            None,
        );
        assert_eq!(
            previous.rollback_scope().map(|(c, v)| (c.len(), v)),
            Some((1, None))
        );
        assert!(
            previous
                .description
                .ends_with("back to the previous version")
        );
    }

    #[test]
    fn yaml_stage_references_round_trip_and_classic_ones_do_not_parse() {
        let r = assemble::stage_ref(401, "DeployToProduction");
        assert_eq!(r.as_str(), "401:DeployToProduction");
        assert_eq!(
            assemble::parse_stage_ref(&r),
            Some((401, "DeployToProduction"))
        );
        assert_eq!(assemble::parse_stage_ref(&StageRef::from(1758)), None);
        assert_eq!(assemble::parse_stage_ref(&StageRef::new("x:Deploy")), None);
        assert_eq!(assemble::parse_stage_ref(&StageRef::new("4:")), None);
    }
}
