//! The fleet simulator: an Azure-shaped server on loopback (ARM for Azure ML, Azure DevOps
//! Release and Git, Log Analytics) over a deterministic world, with a fast clock and faults.
//! It is relcon's embedded default and the test bed of its Azure client.
//!
//! Routes (base `http://127.0.0.1:PORT`): `/arm/...` (ARM), `/devops/...` (dev.azure.com),
//! `/vsrm/...` (vsrm.dev.azure.com), `/la/v1/workspaces/{id}/query` (Log Analytics), and the
//! hooks `GET /_sim/stats`, `GET /_sim/clock`, `POST /_sim/clock/advance` `{"seconds": N}`,
//! `GET /_sim/scenario`, `POST /_sim/alerts/fire` `{"circuit": "PLANT007/CIRCUIT03",
//! "severity": "Sev2"}`. `docs/AZURE.md` is the contract the service routes follow.
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The layers the simulator stands on, under the names the code uses.
use relcon_core::{service, settings};
use relcon_domain as domain;

mod alert_plan;
mod alerts;
mod arm;
mod arm_json;
mod arm_ops;
mod arm_write;
pub mod clock;
pub mod configs;
mod devops;
mod devops_json;
mod effects;
pub mod faults;
pub mod fleet;
mod git;
mod history;
mod hooks;
mod http;
mod job_invoke;
mod jobs;
#[doc(hidden)]
pub mod kql;
mod la;
mod machine;
pub mod monitor;
pub mod paging;
mod replay;
mod reply;
pub(crate) mod scenario;
mod tables;
#[cfg(test)]
mod tests;
pub mod world;
mod yaml;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::Method;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

pub use fleet::FleetSource;
pub use http::Stats;
pub use world::ScenarioSummary;

use crate::settings::{
    AuthMethod, AuthSettings, AzureSettings, BaseUrl, ClientSettings, DevOpsSettings, Guid,
    MonitorSettings, ResourceRef, Settings, Workspaces,
};
use faults::{ConnHandle, FaultKnobs, Faults, SimListener};
use http::{Family, Req, Shared};
use reply::Reply;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Where to listen; loopback only (default `127.0.0.1:0`, a free port).
    pub addr: SocketAddr,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    pub fleet: FleetSource,
    /// Make every list page after this many items.
    pub page_size: Option<usize>,
    /// Delay every response by a uniform draw from this range.
    pub latency: Option<(Duration, Duration)>,
    /// Share of requests answered 500 or 503.
    pub fail_rate: f64,
    /// Share of requests whose connection is dropped.
    pub reset_rate: f64,
    /// Reads per second before 429 (a token bucket per service limit).
    pub throttle: Option<f64>,
    /// The size of each bucket (default: one second of reads).
    pub throttle_burst: Option<f64>,
    /// Simulated minutes a release environment takes to deploy.
    pub deploy_minutes: f64,
    /// Simulated minutes a deployment PUT takes.
    pub update_minutes: f64,
    /// Simulated "now" at start (default: the real time).
    pub start: Option<DateTime<Utc>>,
    /// A redeploy of a stage that deployed before waits for the stage's approvals again (as
    /// real DevOps does for every deployment of a stage); off: it deploys at once (the seed's
    /// rollback method 1 as its architecture describes it).
    pub redeploy_approvals: bool,
    /// DevOps' approval option `releaseCreatorCanBeApprover` on the manual stages. Off, the
    /// user who created a release or requested a deployment of a stage cannot approve it:
    /// DevOps answers the PATCH with `400 InvalidRequestException` and the approval stays
    /// pending (relcon's own policy only looks at the deployment's requester).
    pub release_creator_can_be_approver: bool,
    /// The most records one monitoring query result holds before it is cut with Log
    /// Analytics' `PartialError` (default its documented 500,000).
    pub query_max_rows: Option<usize>,
    /// Which Azure DevOps release flavour the simulator serves besides the classic Release
    /// API: with `Yaml`, the same world is also served as Azure Pipelines YAML runs
    /// (`_apis/pipelines`, `_apis/build`, `_apis/distributedtask/environments`).
    pub devops: DevOpsFlavor,
}

/// The Azure DevOps release flavour the simulator serves (`relcon sim serve --devops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DevOpsFlavor {
    /// Classic releases (vsrm `_apis/release`) only.
    #[default]
    Classic,
    /// Also YAML pipelines: runs, approvals and checks, timelines, environments.
    Yaml,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            speed: 1.0,
            fleet: FleetSource::Demo,
            page_size: None,
            latency: None,
            fail_rate: 0.0,
            reset_rate: 0.0,
            throttle: None,
            throttle_burst: None,
            deploy_minutes: 10.0,
            update_minutes: 4.0,
            start: None,
            redeploy_approvals: false,
            release_creator_can_be_approver: true,
            query_max_rows: None,
            devops: DevOpsFlavor::Classic,
        }
    }
}

impl SimOptions {
    /// The simulator `relcon` starts in-process when there is no configuration: the demo
    /// fleet on real time (so every age and the SLA clock read true), with deployments that
    /// take one minute instead of ten, so that a demo rollback reaches a verified restore
    /// while the person trying it watches. `relcon sim serve` keeps the realistic defaults.
    pub fn embedded_demo() -> SimOptions {
        SimOptions {
            deploy_minutes: 1.0,
            update_minutes: 0.5,
            ..SimOptions::default()
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        if !self.addr.ip().is_loopback() {
            anyhow::bail!(
                "the simulator listens on loopback only (127.0.0.1 or ::1), not {}",
                self.addr.ip()
            );
        }
        let rate = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(anyhow::anyhow!("{name} must be between 0 and 1, not {v}"))
            }
        };
        rate("fail rate", self.fail_rate)?;
        rate("reset rate", self.reset_rate)?;
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(anyhow::anyhow!("{name} must be a positive number, not {v}"))
            }
        };
        positive("speed", self.speed)?;
        positive("deploy minutes", self.deploy_minutes)?;
        positive("update minutes", self.update_minutes)?;
        if let Some(t) = self.throttle {
            positive("throttle (reads per second)", t)?;
        }
        if let Some(b) = self.throttle_burst {
            positive("throttle burst", b)?;
        }
        if self.page_size == Some(0) {
            anyhow::bail!("page size must be at least 1");
        }
        Ok(())
    }
}

/// Requests a second (and burst) that mean "not paced" in the settings of a simulator that
/// does not throttle.
const UNPACED: f64 = 1_000_000.0;

/// A running simulator; dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The simulator's clock as a session sees it (it lives as long as any session holding it).
struct WorldClock(Arc<Shared>);

impl std::fmt::Debug for WorldClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WorldClock").field(&self.0.clock).finish()
    }
}

impl crate::domain::clock::Clock for WorldClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }
}

/// Build the world and start serving it. Needs a tokio runtime.
pub async fn start(opts: SimOptions) -> anyhow::Result<SimHandle> {
    opts.check()?;
    let now = clock::truncate_ms(opts.start.unwrap_or_else(Utc::now));
    let build_opts = opts.clone();
    let world = tokio::task::spawn_blocking(move || -> anyhow::Result<world::World> {
        let (fleet, heads) = fleet::Fleet::load(&build_opts.fleet, build_opts.seed)?;
        let minutes = |m: f64| chrono::Duration::milliseconds((m * 60_000.0) as i64);
        Ok(scenario::build(
            fleet,
            heads,
            build_opts.seed,
            now,
            minutes(build_opts.deploy_minutes),
            minutes(build_opts.update_minutes),
        ))
    })
    .await
    .context("building the simulated world")??;
    let mut world = world;
    world.redeploy_approvals = opts.redeploy_approvals;
    world.release_creator_can_be_approver = opts.release_creator_can_be_approver;
    world.yaml.enabled = opts.devops == DevOpsFlavor::Yaml;
    if let Some(rows) = opts.query_max_rows {
        world.query_max_rows = rows;
    }
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("cannot listen on {}", opts.addr))?;
    let addr = listener.local_addr()?;
    // A batch endpoint's `scoringUri` is this simulator's data plane.
    world.jobs.scoring_base = format!("http://{addr}/mlapi");
    let faults = Faults::new(
        FaultKnobs {
            latency: opts.latency,
            fail_rate: opts.fail_rate,
            reset_rate: opts.reset_rate,
            throttle: opts.throttle,
            throttle_burst: opts.throttle_burst,
        },
        opts.seed,
    );
    let shared = Arc::new(Shared::new(
        world,
        clock::SimClock::new(now, opts.speed),
        format!("http://{addr}"),
        opts.page_size,
        faults,
    ));
    let app = Router::new()
        .route("/_sim/stats", get(hooks::stats))
        .route("/_sim/clock", get(hooks::clock))
        .route("/_sim/clock/advance", post(hooks::advance))
        .route("/_sim/scenario", get(hooks::scenario))
        .route("/_sim/alerts/fire", post(hooks::fire_alert))
        .route("/_sim/jobs/retries", post(hooks::retries))
        // Azure ML's workspace discovery document is public: no token.
        .route("/mlapi/discovery", get(hooks::discovery))
        .fallback(http::entry)
        .with_state(shared.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        SimListener(listener),
        app.into_make_service_with_connect_info::<ConnHandle>(),
    )
    .with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let task = tokio::spawn(async move {
        if let Err(e) = server.await {
            tracing::warn!("simulator stopped: {e}");
        }
    });
    Ok(SimHandle {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// Where the interesting things of the scenario are.
    pub fn scenario(&self) -> ScenarioSummary {
        self.shared.world().scenario.clone()
    }

    /// Request counts so far.
    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// The simulated clock, for a session on this simulator: ages, stamps and countdowns then
    /// read the same time the simulated services write.
    pub fn clock(&self) -> crate::domain::clock::SharedClock {
        Arc::new(WorldClock(self.shared.clone()))
    }

    /// Fire a drift alert on `circuit` now (as `POST /_sim/alerts/fire`); its id.
    pub fn fire_alert(&self, circuit: &str, severity: &str) -> Result<String, String> {
        hooks::fire(&self.shared, circuit, severity)
    }

    /// Whether batch jobs started from now on fail (as `POST /_sim/jobs/retries`).
    pub fn set_retries_fail(&self, fail: bool) {
        self.shared.world().jobs.retries_fail = fail;
    }

    /// Jump the simulated clock (as `POST /_sim/clock/advance`).
    pub fn advance(&self, seconds: f64) -> Result<DateTime<Utc>, String> {
        let now = self.shared.clock.advance(seconds)?;
        self.shared.world().advance(now);
        Ok(now)
    }

    /// Settings that point every service at this simulator, signed in as `simulator`.
    pub fn settings(&self) -> Settings {
        let w = self.shared.world();
        let ids = &w.ids;
        let base = &self.shared.base;
        let url = |p: &str| BaseUrl(format!("{base}/{p}"));
        let rr = |rg: &str, name: &str| ResourceRef {
            resource_group: rg.to_owned(),
            name: name.to_owned(),
        };
        Settings {
            azure: AzureSettings {
                subscription_id: Guid(ids.subscription.clone()),
                arm_endpoint: url("arm"),
                ml_api_version: "2025-06-01".into(),
            },
            workspaces: Workspaces {
                dev: rr(ids.rg[0], ids.workspace[0]),
                test: rr(ids.rg[1], ids.workspace[1]),
                prod: rr(ids.rg[2], ids.workspace[2]),
            },
            registry: rr(ids.registry_rg, ids.registry),
            devops: DevOpsSettings {
                organization: ids.org.into(),
                project: ids.project.into(),
                release_definition_id: ids.definition_id,
                config_repository: ids.repo.into(),
                config_path: "config/circuits/{plant}_{circuit}.yaml".into(),
                endpoint: url("devops"),
                release_endpoint: url("vsrm"),
                // The YAML face serves the seed's pipeline, stage and environment names,
                // which are the defaults of `[devops.yaml]`.
                flavor: if w.yaml.enabled {
                    crate::settings::ReleaseFlavor::Yaml
                } else {
                    crate::settings::ReleaseFlavor::Classic
                },
                yaml: Default::default(),
            },
            monitor: MonitorSettings {
                log_analytics_workspace_id: Some(Guid(ids.la_workspace.clone())),
                application_insights_app_id: None,
                endpoint: url("la"),
                application_insights_endpoint: url("ai"),
            },
            naming: Default::default(),
            auth: AuthSettings {
                method: AuthMethod::Simulator,
                ..AuthSettings::default()
            },
            policy: Default::default(),
            thresholds: Default::default(),
            ui: Default::default(),
            client: self.client_settings(),
            incidents: Default::default(),
        }
    }

    /// How relcon should talk to this simulator. Without `--throttle` it has no limits, so
    /// relcon's pacing (ARM's documented 25 reads a second) is lifted: it would only measure
    /// the pacing. With `--throttle`, relcon keeps its defaults and must live within the
    /// simulator's buckets from what the responses say, as it would with Azure.
    pub fn client_settings(&self) -> ClientSettings {
        let mut c = ClientSettings {
            poll_interval_ms: self.poll_interval_ms(),
            ..ClientSettings::default()
        };
        if self.shared.faults.knobs().throttle.is_none() {
            c.arm_reads_per_second = UNPACED;
            c.arm_read_burst = UNPACED as u32;
            c.devops_requests_per_second = UNPACED;
            c.devops_burst = UNPACED as u32;
            c.monitor_queries_per_second = UNPACED;
            c.monitor_burst = UNPACED as u32;
        }
        c
    }

    /// A poll interval that is to the simulated clock what 5 s is to Azure's, so relcon adds
    /// as little simulated time to a rollback as it would in real life.
    pub fn poll_interval_ms(&self) -> u64 {
        let speed = self.shared.clock.speed().max(1.0);
        ((5000.0 / speed) as u64).clamp(100, 5000)
    }

    /// [`SimHandle::settings`] reading monitoring through the Application Insights query API
    /// (`/ai/v1/apps/{app-id}/query`, the classic tables) instead of the workspace.
    pub fn settings_app_insights(&self) -> Settings {
        let mut s = self.settings();
        let app = self.shared.world().ids.app_insights_app.clone();
        s.monitor.log_analytics_workspace_id = None;
        s.monitor.application_insights_app_id = Some(Guid(app));
        s
    }

    /// [`SimHandle::settings`] as `relcon.toml` text (workspace monitoring).
    pub fn settings_toml(&self) -> String {
        self.settings_toml_for(MonitorRoute::Workspace)
    }

    /// The configuration as `relcon.toml` text, reading monitoring through `route`.
    pub fn settings_toml_for(&self, route: MonitorRoute) -> String {
        let s = match route {
            MonitorRoute::Workspace => self.settings(),
            MonitorRoute::AppInsights => self.settings_app_insights(),
        };
        let monitor = match s.monitor.source() {
            Some(crate::settings::MonitorSource::AppInsights { id, .. }) => format!(
                "# The Application Insights query API (classic tables: customMetrics).\n\
                 application_insights_app_id = \"{id}\"\n"
            ),
            Some(crate::settings::MonitorSource::Workspace { id, .. }) => format!(
                "# The Log Analytics workspace (workspace tables: AppMetrics).\n\
                 log_analytics_workspace_id = \"{id}\"\n"
            ),
            None => String::new(),
        };
        let monitor = format!(
            "{monitor}endpoint = \"{}\"\napplication_insights_endpoint = \"{}\"\n",
            s.monitor.endpoint, s.monitor.application_insights_endpoint
        );
        format!(
            "# relcon configuration for the built-in simulator at {base}.\n\
             # The simulator needs no credential: the identity is relcon's --as name, sent as a\n\
             # `relcon-sim.<name>` bearer token. Naming, policy and thresholds are the defaults.\n\
             \n\
             [azure]\n\
             subscription_id = \"{sub}\"\n\
             arm_endpoint = \"{arm}\"\n\
             ml_api_version = \"{api}\"\n\
             \n\
             [workspaces.dev]\nresource_group = \"{dev_rg}\"\nname = \"{dev}\"\n\
             [workspaces.test]\nresource_group = \"{test_rg}\"\nname = \"{test}\"\n\
             [workspaces.prod]\nresource_group = \"{prod_rg}\"\nname = \"{prod}\"\n\
             \n\
             [registry]\nresource_group = \"{reg_rg}\"\nname = \"{reg}\"\n\
             \n\
             [devops]\n\
             organization = \"{org}\"\n\
             project = \"{project}\"\n\
             {release_side}\n\
             config_repository = \"{repo}\"\n\
             config_path = \"{path}\"\n\
             endpoint = \"{devops}\"\n\
             release_endpoint = \"{vsrm}\"\n\
             \n\
             [monitor]\n\
             {monitor}\
             \n\
             [auth]\n\
             method = \"simulator\"\n\
             \n\
             [client]\n\
             poll_interval_ms = {poll}\n{pacing}",
            poll = s.client.poll_interval_ms,
            pacing = if s.client.arm_reads_per_second >= UNPACED {
                format!(
                    "# The simulator runs without --throttle: no limits to pace to.\n\
                     arm_reads_per_second = {r:.1}\narm_read_burst = {b}\n\
                     devops_requests_per_second = {r:.1}\ndevops_burst = {b}\n\
                     monitor_queries_per_second = {r:.1}\nmonitor_burst = {b}\n",
                    r = UNPACED,
                    b = UNPACED as u32
                )
            } else {
                String::new()
            },
            base = self.shared.base,
            sub = s.azure.subscription_id,
            arm = s.azure.arm_endpoint,
            api = s.azure.ml_api_version,
            dev_rg = s.workspaces.dev.resource_group,
            dev = s.workspaces.dev.name,
            test_rg = s.workspaces.test.resource_group,
            test = s.workspaces.test.name,
            prod_rg = s.workspaces.prod.resource_group,
            prod = s.workspaces.prod.name,
            reg_rg = s.registry.resource_group,
            reg = s.registry.name,
            org = s.devops.organization,
            project = s.devops.project,
            release_side = match s.devops.flavor {
                crate::settings::ReleaseFlavor::Yaml => {
                    "# YAML pipelines, with the seed's names ([devops.yaml] defaults).\nflavor = \"yaml\""
                        .to_owned()
                }
                crate::settings::ReleaseFlavor::Classic => {
                    format!("release_definition_id = {}", s.devops.release_definition_id)
                }
            },
            repo = s.devops.config_repository,
            path = s.devops.config_path,
            devops = s.devops.endpoint,
            vsrm = s.devops.release_endpoint,
        )
    }

    /// Stop accepting requests (in-flight ones finish).
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stop and wait until the server task has ended.
    pub async fn stopped(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Which monitoring query API a configuration for the simulator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MonitorRoute {
    /// Log Analytics workspace scope (`/la`): `AppMetrics`. The default, as on Azure today.
    #[default]
    Workspace,
    /// The Application Insights query API (`/ai`): `customMetrics`.
    AppInsights,
}

/// The handler of a service request.
fn dispatch(w: &mut world::World, req: &Req) -> Reply {
    match req.family {
        Family::Arm => arm::handle(w, req),
        Family::DevOps | Family::Vsrm => devops::handle(w, req),
        Family::La | Family::Ai => la::handle(w, req),
        Family::MlApi => jobs::handle(w, req),
    }
}

/// The route's short name for statistics.
fn route_name(family: Family, _method: &Method, segs: &[String]) -> &'static str {
    match family {
        Family::Arm => arm::route_name(segs),
        Family::DevOps | Family::Vsrm => devops::route_name(family, segs),
        Family::La | Family::Ai => la::route_name(segs),
        Family::MlApi => jobs::route_name(segs),
    }
}
