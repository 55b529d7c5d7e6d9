//! `relcon sim serve`: run the fleet simulator in the foreground until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::{Exit, Global, fail};
use crate::sim::{self, FleetSource, SimOptions};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulated Azure ML, Azure DevOps and Log Analytics APIs on loopback
    #[command(after_help = "\
The first line printed is `listening on http://127.0.0.1:PORT`; point relcon at it with the
configuration `--write-config` writes (or `relcon --config FILE`). Identities: alice, bob,
carol, dave, erin, or any name (relcon --as NAME). Hooks: GET /_sim/stats, GET /_sim/clock,
POST /_sim/clock/advance {\"seconds\": N}, GET /_sim/scenario.

Examples:
  relcon sim serve
  relcon sim serve --addr 127.0.0.1:4711 --write-config /tmp/relcon-sim.toml
  relcon sim serve --speed 60 --deploy-minutes 10        # a 10-minute deployment takes 10 s
  relcon sim serve --plants 200 --circuits-per-plant 100   # 20,000 circuits
  relcon sim serve --page-size 1 --latency 20-80 --fail-rate 0.05 --reset-rate 0.01
  relcon sim serve --throttle 25 --fleet ../forecast-config/config/circuits.yaml")]
    Serve(SimServeArgs),
}

#[derive(Debug, Args)]
pub struct SimServeArgs {
    /// Address to listen on; loopback only (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub addr: SocketAddr,
    /// Seed of the scenario and of fault decisions
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Simulated seconds per real second
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub speed: f64,
    /// Fleet to simulate: a master circuits.yaml, a per-circuit file or a directory (default:
    /// the embedded demo fleet)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["plants", "circuits_per_plant"])]
    pub fleet: Option<PathBuf>,
    /// Generate a fleet of N plants (with --circuits-per-plant; at most 20,000 circuits)
    #[arg(long, value_name = "N", requires = "circuits_per_plant")]
    pub plants: Option<usize>,
    /// Circuits per generated plant
    #[arg(long, value_name = "M", requires = "plants")]
    pub circuits_per_plant: Option<usize>,
    /// Page every list after N items (ARM nextLink, DevOps continuation token)
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
    /// Delay each response by MS milliseconds, or uniformly between MS-MS
    #[arg(long, value_name = "MS[-MS]", value_parser = parse_latency)]
    pub latency: Option<(Duration, Duration)>,
    /// Share of requests answered HTTP 500 or 503 (0 to 1)
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fail_rate: f64,
    /// Share of requests whose connection is dropped (0 to 1)
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub reset_rate: f64,
    /// Reads per second before answering 429 with Retry-After (a token bucket per service:
    /// ARM, Azure DevOps, Log Analytics)
    #[arg(long, value_name = "READS_PER_SEC")]
    pub throttle: Option<f64>,
    /// Size of each throttle bucket (default: one second of reads; ARM's holds 250)
    #[arg(long, value_name = "READS", requires = "throttle")]
    pub throttle_burst: Option<f64>,
    /// Simulated minutes a release stage takes to deploy
    #[arg(long, default_value_t = 10.0, value_name = "MIN")]
    pub deploy_minutes: f64,
    /// Simulated minutes a batch deployment update (PUT) takes
    #[arg(long, default_value_t = 4.0, value_name = "MIN")]
    pub update_minutes: f64,
    /// A redeploy of a stage that deployed before waits for its approvals again, as real
    /// DevOps does by default (without it, the seed's rollback redeploys at once)
    #[arg(long)]
    pub redeploy_approvals: bool,
    /// The manual stages refuse an approval by whoever created the release or requested the
    /// deployment (DevOps' approval option releaseCreatorCanBeApprover off, read literally: a
    /// redeploy's release creator may not approve it either)
    #[arg(long)]
    pub requester_cannot_approve: bool,
    /// Also serve the world as Azure Pipelines YAML runs (approvals and checks, timelines,
    /// environments and their deployment records, stage re-runs, the rollback pipeline)
    #[arg(long, value_enum, default_value_t = crate::sim::DevOpsFlavor::Classic, value_name = "FLAVOR")]
    pub devops: crate::sim::DevOpsFlavor,
    /// Simulated time at start, RFC 3339 (default: now; the test suite pins it with
    /// RELCON_CLOCK_START)
    #[arg(long, value_name = "TIME", value_parser = parse_time, env = "RELCON_CLOCK_START", hide_env = true)]
    pub start: Option<DateTime<Utc>>,
    /// Write a relcon.toml pointing at this simulator to FILE
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Which monitoring API the written configuration reads: the Log Analytics workspace
    /// (`AppMetrics`) or the Application Insights query API (`customMetrics`)
    #[arg(long, value_enum, default_value_t = crate::sim::MonitorRoute::Workspace, value_name = "ROUTE")]
    pub monitor: crate::sim::MonitorRoute,
}

fn parse_latency(s: &str) -> Result<(Duration, Duration), String> {
    let ms = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("`{s}` is not MS or MS-MS (milliseconds, e.g. 50 or 20-80)"))
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (ms(a)?, ms(b)?),
        None => (ms(s)?, ms(s)?),
    };
    if lo > hi {
        return Err(format!("`{s}`: the lower bound is above the upper bound"));
    }
    Ok((lo, hi))
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-11-26T08:00:00Z: {e}"))
}

pub fn run(g: &Global, cmd: SimCommand) -> Exit {
    match cmd {
        SimCommand::Serve(a) => serve(g, a),
    }
}

fn serve(g: &Global, a: SimServeArgs) -> Exit {
    let fleet = match (a.fleet, a.plants, a.circuits_per_plant) {
        (Some(p), _, _) => FleetSource::Path(p),
        (None, Some(plants), Some(circuits_per_plant)) => FleetSource::Generated {
            plants,
            circuits_per_plant,
        },
        _ => FleetSource::Demo,
    };
    let knobs = format!(
        "knobs: seed {}, speed {}x, deploy {} min, update {} min, page size {}, latency {}, fail rate {}, reset rate {}, throttle {}, devops {}",
        a.seed,
        a.speed,
        a.deploy_minutes,
        a.update_minutes,
        a.page_size.map_or("-".into(), |p| p.to_string()),
        a.latency.map_or("-".into(), |(lo, hi)| format!(
            "{}-{} ms",
            lo.as_millis(),
            hi.as_millis()
        )),
        a.fail_rate,
        a.reset_rate,
        match (a.throttle, a.throttle_burst) {
            (Some(t), Some(b)) => format!("{t} reads/s, burst {b}"),
            (Some(t), None) => format!("{t} reads/s"),
            _ => "-".into(),
        },
        format!("{:?}", a.devops).to_ascii_lowercase(),
    );
    let knobs_json = serde_json::json!({
        "seed": a.seed,
        "speed": a.speed,
        "deploy_minutes": a.deploy_minutes,
        "update_minutes": a.update_minutes,
        "page_size": a.page_size,
        "latency_ms": a.latency.map(|(lo, hi)| [lo.as_millis() as u64, hi.as_millis() as u64]),
        "fail_rate": a.fail_rate,
        "reset_rate": a.reset_rate,
        "throttle": a.throttle,
        "redeploy_approvals": a.redeploy_approvals,
        "requester_cannot_approve": a.requester_cannot_approve,
        "devops": format!("{:?}", a.devops).to_ascii_lowercase(),
    });
    let opts = SimOptions {
        addr: a.addr,
        seed: a.seed,
        speed: a.speed,
        fleet,
        page_size: a.page_size,
        latency: a.latency,
        fail_rate: a.fail_rate,
        reset_rate: a.reset_rate,
        throttle: a.throttle,
        throttle_burst: a.throttle_burst,
        deploy_minutes: a.deploy_minutes,
        update_minutes: a.update_minutes,
        start: a.start,
        redeploy_approvals: a.redeploy_approvals,
        release_creator_can_be_approver: !a.requester_cannot_approve,
        query_max_rows: None,
        devops: a.devops,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::Service, format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        // Listen for the stop signals before anything is announced: whoever reads the first
        // line may send SIGTERM at once, and a signal that arrives before its handler kills
        // the process instead of stopping it.
        let stop = stop_signal();
        let handle = match sim::start(opts).await {
            Ok(h) => h,
            Err(e) => return fail(Exit::Usage, format!("{e:#}")),
        };
        // The configuration exists before the first line announces the server, so whoever
        // waits for that line can use it at once.
        if let Some(path) = &a.write_config
            && let Err(e) = crate::private_files::write_atomic(
                path,
                handle.settings_toml_for(a.monitor).as_bytes(),
            )
        {
            return fail(Exit::Usage, format!("cannot write {}: {e}", path.display()));
        }
        // In JSON mode the first line is the JSON banner itself (it names the URL), so that
        // every line of stdout is a document.
        if !g.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", handle.base_url());
            let _ = out.flush();
        }
        describe(g, &handle, &a.write_config, (&knobs, &knobs_json));
        stop.await;
        handle.stopped().await;
        eprintln!("relcon: simulator stopped");
        Exit::Ok
    })
}

/// The banner after the first line. Written with errors ignored: whoever started the simulator
/// may stop reading its output (a closed pipe must not stop the server).
fn describe(
    g: &Global,
    h: &sim::SimHandle,
    config: &Option<PathBuf>,
    (knobs, knobs_json): (&str, &serde_json::Value),
) {
    let mut out = std::io::stdout().lock();
    let s = h.scenario();
    if g.json {
        // One line (JSON Lines), unlike the other commands' pretty documents: whoever started
        // the simulator reads it as the ready signal.
        let v = serde_json::json!({
            "base_url": h.base_url(),
            "now": crate::sim::clock::iso(h.now()),
            "config": config.as_ref().map(|p| p.display().to_string()),
            "scenario": s,
            "knobs": knobs_json,
        });
        if let Some(doc) = super::output::document(v) {
            let _ = writeln!(out, "{doc}");
            let _ = out.flush();
            super::output::printed();
        }
        return;
    }
    let _ = writeln!(
        out,
        "fleet: {} circuits in {} plants, {} releases; simulated now {}",
        s.circuits,
        s.plants,
        s.releases,
        crate::sim::clock::iso(h.now())
    );
    let _ = writeln!(
        out,
        "identities: alice, bob, carol, dave, erin (or any name: relcon --as NAME)"
    );
    let _ = writeln!(
        out,
        "pending: {} Registry approvals ({} releases), {} Production approvals ({} releases); environment release {} (1.5.0 -> 1.5.1)",
        s.pending_registry_approvals,
        s.pending_registry_releases.len(),
        s.pending_production_approvals,
        s.pending_production_releases.len(),
        s.environment_release_id
    );
    let _ = writeln!(
        out,
        "incident: {} (release {}, version {} -> roll back to {} from release {}); lineage break: {}",
        s.incident_circuit,
        s.incident_release_id,
        s.incident_version,
        s.rollback_version,
        s.rollback_release_id,
        s.lineage_break_circuit
    );
    let _ = writeln!(out, "{knobs}");
    match config {
        Some(p) => {
            let _ = writeln!(
                out,
                "config: {} (relcon --config {})",
                p.display(),
                p.display()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "config: pass --write-config FILE for a relcon.toml pointing here"
            );
        }
    }
    let _ = writeln!(
        out,
        "hooks: GET /_sim/stats, GET /_sim/clock, POST /_sim/clock/advance, GET /_sim/scenario; Ctrl-C stops"
    );
}

/// A future that completes on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    let _ = term.recv().await;
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_ranges_parse() {
        let ms = Duration::from_millis;
        assert_eq!(parse_latency("50"), Ok((ms(50), ms(50))));
        assert_eq!(parse_latency("20-80"), Ok((ms(20), ms(80))));
        assert!(parse_latency("80-20").is_err());
        assert!(parse_latency("fast").is_err());
        assert!(parse_latency("-5").is_err());
    }
}
