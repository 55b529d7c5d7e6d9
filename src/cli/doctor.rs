//! `relcon doctor`: is the configuration valid, can each credential sign in, can each service be
//! reached, and if not, what to do about it.

mod monitoring;

use serde::Serialize;

use super::paint::Paint;
use super::session::open;
use super::{Exit, Global, load_settings, print_json};
use crate::domain::Stage;
use crate::domain::platform::{ApprovalStatus, AssetLocation};
use crate::service::backend::{ApprovalQuery, BackendError, ErrorKind, MonitorQuery};
use crate::settings::{AuthMethod, ReleaseFlavor, Settings};

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

fn fix_for(e: &BackendError, service: &str, settings: &Settings) -> String {
    if e.method == "sign-in" && matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) {
        return "the tenant, client and secret were never tried: the login endpoint did not \
                answer. Check the network path to it (firewall, proxy: HTTPS_PROXY) and, for a \
                sovereign cloud, [auth] authority_host"
            .into();
    }
    match e.kind {
        ErrorKind::Auth => match settings.auth.method {
            AuthMethod::AzureCli | AuthMethod::DeveloperTools => {
                "sign in with `az login` (and `az account set --subscription <id>`), then retry".into()
            }
            AuthMethod::ClientSecret => format!(
                "check auth.tenant_id, auth.client_id and the secret in ${}",
                settings.auth.client_secret_env
            ),
            AuthMethod::WorkloadIdentity => {
                "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE".into()
            }
            AuthMethod::ManagedIdentity => "check that this host has a managed identity (and auth.client_id for a user-assigned one)".into(),
            AuthMethod::AzurePipelines => "check auth.service_connection_id and that SYSTEM_ACCESSTOKEN is mapped into the job".into(),
            AuthMethod::Simulator => "the simulator refused the identity: check --as".into(),
        },
        ErrorKind::Forbidden => match service {
            "Azure ML" => "grant the identity AzureML Data Scientist (or Reader, read-only) on the Dev/Test/Prod workspaces and the registry".into(),
            "Azure Monitor alerts" => "grant the identity Monitoring Reader (or Reader) on the subscription: relcon lists its fired alerts".into(),
            "Azure ML data plane" => "grant the identity Reader (or AzureML Data Scientist) on the Test and Prod workspaces: the batch job lists are read with a token for https://ml.azure.com".into(),
            "Azure DevOps" | "DevOps releases" => format!(
                "grant the identity access to {}/{} with Release permissions (view releases; manage approvals / approver on the stages); a PAT needs the Release (read, write & execute) scope",
                settings.devops.organization, settings.devops.project
            ),
            _ => "grant the identity Log Analytics Reader on the workspace (Reader on the Application Insights resource for monitor.application_insights_app_id)".into(),
        },
        ErrorKind::NotFound => format!("{service}: a name in the configuration does not exist: check it against the portal ({})", e.url),
        ErrorKind::Network | ErrorKind::Timeout => format!(
            "cannot reach {}: check the endpoint in the configuration, your network and any proxy (HTTPS_PROXY)",
            e.url
        ),
        ErrorKind::Throttled => "throttled: wait a minute and retry".into(),
        ErrorKind::Config => "fix the configuration".into(),
        _ => "the service answered with an error; retry, and quote the request id if it persists".into(),
    }
}

pub fn doctor(g: &Global) -> Exit {
    let p = Paint::stdout();
    let mut checks = Vec::new();
    match load_settings(g) {
        Ok(Some(_)) => checks.push(Check {
            name: "configuration".into(),
            ok: true,
            detail: g
                .config
                .clone()
                .or_else(Settings::default_path)
                .map(|p| format!("{} is valid", p.display()))
                .unwrap_or_default(),
            fix: None,
        }),
        Ok(None) => checks.push(Check {
            name: "configuration".into(),
            ok: true,
            detail: "none: using the built-in simulator with the demo fleet".into(),
            fix: Some(format!(
                "for real Azure, copy configs/relcon.example.toml to {}",
                Settings::default_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/relcon/relcon.toml".into())
            )),
        }),
        Err(e) => {
            checks.push(Check {
                name: "configuration".into(),
                ok: false,
                detail: e.to_string(),
                fix: Some("fix the line named above".into()),
            });
            return report(g, p, &checks, Exit::Usage);
        }
    }
    let o = match open(g) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let b = o.session.backend();
    checks.push(Check {
        name: "backend".into(),
        ok: true,
        detail: b.describe(),
        fix: None,
    });
    let settings = &o.settings;
    // Sign in first, saying which check is still running while it waits: a login endpoint
    // that does not answer is named within the token timeout, not blamed on the secret.
    let running = Running::default();
    let sign_in = o.runtime.block_on(with_progress(
        &running,
        running.watch("sign-in".into(), b.sign_in()),
    ));
    let mut fixes_given = Vec::new();
    for (service, r) in sign_in {
        checks.push(match r {
            Ok(detail) => Check {
                name: "sign-in".into(),
                ok: true,
                detail: format!("{service}: {detail}"),
                fix: None,
            },
            Err(e) => {
                // Several services, one login endpoint: the same advice once.
                let fix = fix_for(&e, &service, settings);
                let fix = (!fixes_given.contains(&fix)).then(|| {
                    fixes_given.push(fix.clone());
                    fix
                });
                Check {
                    name: "sign-in".into(),
                    ok: false,
                    fix,
                    detail: format!("{service}: {e}"),
                }
            }
        });
    }
    let pending = ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        release_ids: Vec::new(),
    };
    let w = |name: &str| name.to_owned();
    let (identity, test, prod, registry, releases, approvals, coverage) =
        o.runtime.block_on(with_progress(&running, async {
            tokio::join!(
                running.watch(w("DevOps identity"), b.identity()),
                running.watch(w("Test workspace"), b.endpoints(Stage::Test)),
                running.watch(w("Prod workspace"), b.endpoints(Stage::Prod)),
                running.watch(w("registry"), b.model_containers(AssetLocation::Registry)),
                running.watch(w("releases"), b.release_history()),
                running.watch(w("approvals"), b.approvals(&pending)),
                running.watch(w("monitoring"), b.monitor(MonitorQuery::Coverage)),
            )
        }));
    let prod_read = prod.is_ok();
    let first_deployment = prod.as_ref().ok().and_then(|eps| {
        eps.iter()
            .find_map(|e| Some((e.name.clone(), e.default_deployment.clone()?)))
    });
    let mut push = |name: &str, service: &str, r: Result<String, BackendError>| {
        checks.push(match r {
            Ok(detail) => Check {
                name: name.into(),
                ok: true,
                detail,
                fix: None,
            },
            // The sign-in row above says why and what to do; no need to say it seven times.
            Err(e) if e.method == "sign-in" => Check {
                name: name.into(),
                ok: false,
                fix: None,
                detail: "not checked: the sign-in failed (see above)".into(),
            },
            Err(e) => Check {
                name: name.into(),
                ok: false,
                fix: Some(fix_for(&e, service, settings)),
                detail: e.to_string(),
            },
        });
    };
    push(
        "DevOps identity",
        "Azure DevOps",
        identity.map(|i| format!("signed in as {} <{}>", i.display_name, i.unique_name)),
    );
    push(
        "Test workspace",
        "Azure ML",
        test.map(|e| {
            format!(
                "{} ({} batch endpoints)",
                settings.workspaces.test.name,
                e.len()
            )
        }),
    );
    push(
        "Prod workspace",
        "Azure ML",
        prod.map(|e| {
            format!(
                "{} ({} batch endpoints)",
                settings.workspaces.prod.name,
                e.len()
            )
        }),
    );
    push(
        "registry",
        "Azure ML",
        registry.map(|m| format!("{} ({} models)", settings.registry.name, m.len())),
    );
    push(
        "releases",
        "DevOps releases",
        releases.map(|r| match settings.devops.flavor {
            ReleaseFlavor::Classic => format!(
                "definition {} ({} releases)",
                settings.devops.release_definition_id,
                r.len()
            ),
            ReleaseFlavor::Yaml => format!(
                "YAML pipelines, Prod {} on {} ({} releases)",
                settings.devops.yaml.prod_pipeline,
                settings.devops.yaml.prod_environment,
                r.len()
            ),
        }),
    );
    push(
        "approvals",
        "DevOps releases",
        approvals.map(|a| format!("{} pending", a.len())),
    );
    // Incidents: the fired alerts, and one Prod deployment's scoring jobs (through the
    // workspace's regional host, found by discovery unless configured).
    let since = o.session.now() - crate::service::incidents::JOB_WINDOW;
    let (alerts, jobs) = o.runtime.block_on(with_progress(&running, async {
        tokio::join!(
            running.watch(w("alerts"), b.fired_alerts()),
            running.watch(w("scoring jobs"), async {
                match &first_deployment {
                    Some((e, d)) => b
                        .scoring_jobs(Stage::Prod, e, d, since)
                        .await
                        .map(|j| Some((format!("{e}/{d}"), j.len()))),
                    None => Ok(None),
                }
            }),
        )
    }));
    push(
        "alerts",
        "Azure Monitor alerts",
        alerts.map(|a| {
            let active = a.iter().filter(|x| x.is_active()).count();
            format!("{active} fired and open in the subscription (last 30 days)")
        }),
    );
    if prod_read {
        push(
            "scoring jobs",
            "Azure ML data plane",
            jobs.map(|j| match j {
                Some((d, n)) => format!("{d}: {n} jobs listed"),
                None => "no Prod batch endpoint with a default deployment to list jobs of".into(),
            }),
        );
    } else {
        checks.push(Check {
            name: "scoring jobs".into(),
            ok: false,
            fix: None,
            detail: "not checked: the Prod workspace could not be read (see above)".into(),
        });
    }
    let monitor = monitoring::checks(settings, coverage, o.session.now(), |e, service| {
        fix_for(e, service, settings)
    });
    let others_failed = checks.iter().any(|c| !c.ok);
    checks.extend(monitor.checks);
    // A service that could not be read is exit 4; metrics that were read and found missing
    // or stale are problems found (exit 1).
    let exit = if others_failed || monitor.unreadable {
        Exit::Service
    } else if checks.iter().any(|c| !c.ok) {
        Exit::Refused
    } else {
        Exit::Ok
    };
    report(g, p, &checks, exit)
}

/// The checks still running, for the "still waiting" lines.
#[derive(Default)]
struct Running(std::sync::Mutex<Vec<String>>);

impl Running {
    fn set(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `work`, counted as running under `name` until it ends.
    async fn watch<T>(&self, name: String, work: impl std::future::Future<Output = T>) -> T {
        self.set().push(name.clone());
        let out = work.await;
        self.set().retain(|n| *n != name);
        out
    }
}

/// How long a check may take before stderr says it is still waiting, and how often after.
const STILL_WAITING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Run `work`; every [`STILL_WAITING_EVERY`] tell stderr which checks are still running (so a
/// silent minute never happens; stdout, and `--json`, stay clean).
async fn with_progress<T>(running: &Running, work: impl std::future::Future<Output = T>) -> T {
    let start = tokio::time::Instant::now();
    let mut every = tokio::time::interval_at(start + STILL_WAITING_EVERY, STILL_WAITING_EVERY);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = every.tick() => {
                let names = running.set().clone();
                if !names.is_empty() {
                    eprintln!(
                        "relcon doctor: still waiting ({} s): {}",
                        start.elapsed().as_secs(),
                        names.join(", ")
                    );
                }
            }
        }
    }
}

fn report(g: &Global, p: Paint, checks: &[Check], exit: Exit) -> Exit {
    if g.json {
        print_json(&serde_json::json!({"ok": exit == Exit::Ok, "checks": checks}));
        return exit;
    }
    for c in checks {
        let mark = if c.ok { p.green("ok  ") } else { p.red("FAIL") };
        println!("{mark} {:<16} {}", c.name, c.detail);
        if let Some(f) = &c.fix {
            println!("     {:<16} {}", "", p.dim(&format!("-> {f}")));
        }
    }
    exit
}
