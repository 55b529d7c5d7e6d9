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
use crate::settings::{AuthMethod, Settings};

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

fn fix_for(e: &BackendError, service: &str, settings: &Settings) -> String {
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
    let pending = ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        release_ids: Vec::new(),
    };
    let (identity, test, prod, registry, releases, approvals, coverage) =
        o.runtime.block_on(async {
            tokio::join!(
                b.identity(),
                b.endpoints(Stage::Test),
                b.endpoints(Stage::Prod),
                b.model_containers(AssetLocation::Registry),
                b.releases(),
                b.approvals(&pending),
                b.monitor(MonitorQuery::Coverage),
            )
        });
    let mut push = |name: &str, service: &str, r: Result<String, BackendError>| {
        checks.push(match r {
            Ok(detail) => Check {
                name: name.into(),
                ok: true,
                detail,
                fix: None,
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
        releases.map(|r| {
            format!(
                "definition {} ({} releases)",
                settings.devops.release_definition_id,
                r.len()
            )
        }),
    );
    push(
        "approvals",
        "DevOps releases",
        approvals.map(|a| format!("{} pending", a.len())),
    );
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
