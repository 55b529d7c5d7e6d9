//! The command line: clap commands that call `service`. Every TUI action exists here too, with
//! human output by default, `--json` for scripts, and documented exit codes.

mod action_cmds;
mod alert_cmds;
mod audit_cmd;
mod config_cmds;
mod console;
mod doctor;
pub mod fleet_doc;
mod incident_cmds;
mod job_cmds;
pub mod logging;
mod output;
mod paint;
mod read_cmds;
mod read_outcome;
mod session;
mod sim_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::domain::platform::ApprovalId;

/// Exit statuses, the same for every command (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; for `diff`, the configs are the same; for checks, all clean.
    Ok = 0,
    /// Refused by policy; for `diff`, the configs differ; for checks, problems were found.
    Refused = 1,
    /// Usage or input error (bad flags, unreadable or invalid files).
    Usage = 2,
    /// Conflict: someone else decided first.
    Conflict = 3,
    /// The service failed.
    Service = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

const AFTER_HELP: &str = "\
Exit codes: 0 done, 1 refused by policy or by Azure DevOps (diff: configs differ; checks:
problems found), 2 usage or input error, 3 conflict (someone else decided), 4 the service
failed or something the command reports could not be read (a partial report).

--json prints one document, versioned (schema_version) and described in docs/JSON.md and
docs/schemas/; a command that fails prints {schema_version, command, exit_code, errors}.

With no command, relcon opens the console on the configured backend, or on the built-in
simulator with the demo fleet when there is no configuration.";

#[derive(Debug, Parser)]
#[command(
    name = "relcon",
    version,
    about = "Release console for a fleet of per-circuit forecasting models on Azure ML and Azure DevOps",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Configuration file (default: $XDG_CONFIG_HOME/relcon/relcon.toml; with none, the
    /// built-in simulator runs the demo fleet)
    #[arg(long, global = true, value_name = "FILE", env = "RELCON_CONFIG")]
    pub config: Option<PathBuf>,
    /// Act as this identity on the simulator (default: the OS user name)
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub as_user: Option<String>,
    /// Print JSON for scripts instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Refuse every mutation
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Don't read or write the snapshot cache
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Console theme: dark, light, high-contrast, catppuccin-mocha, or a file in
    /// $XDG_CONFIG_HOME/relcon/themes/NAME.toml
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Where the operation journal and the audit log live (default: $XDG_STATE_HOME/relcon)
    #[arg(long, global = true, value_name = "DIR", env = "RELCON_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Log every request (method, URL, status, duration, request id) to relcon.log in the
    /// state directory; RUST_LOG overrides the level. Never to the terminal.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// The release flavour of the built-in simulator, when no configuration is given:
    /// classic releases or YAML pipelines (a configuration says its own, `[devops] flavor`).
    #[arg(long, global = true, value_enum, value_name = "FLAVOR")]
    pub flavor: Option<crate::sim::DevOpsFlavor>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the training hash of circuit configs
    #[command(after_help = "\
Examples:
  relcon hash configs/examples/PLANT001_CIRCUIT01.prod.yaml
  relcon hash configs/fleet/circuits.yaml          # every circuit of a master list
  relcon hash --json configs/fleet/circuits/*.yaml

The hash is md5(json.dumps({cutoff_date, delta_version, pipeline_component_version,
training_days, hyperparameters}, sort_keys=True))[:12] over the values PyYAML's safe_load
reads, bit-identical to the training pipeline. A field the config lacks is hashed as the
pipeline's dict.get default (null; \"1.0.0\" for pipeline_component_version; {} for
hyperparameters), with a warning naming it.")]
    Hash(HashArgs),
    /// Compare two circuit configs: what changed, whether it retrains, the text diff
    #[command(after_help = "\
Examples:
  relcon diff configs/examples/PLANT001_CIRCUIT01.prod.yaml configs/examples/PLANT001_CIRCUIT01.candidate.yaml
  relcon diff --side-by-side old.yaml new.yaml
  relcon diff configs/fleet/circuits.yaml#PLANT002/CIRCUIT03 candidate.yaml
  relcon diff --json old.yaml new.yaml | jq .retrain_required

Exit status as diff(1): 0 the same, 1 different, 2 error.")]
    Diff(DiffArgs),
    /// Work with circuit config files
    #[command(subcommand)]
    Configs(ConfigsCommand),
    /// The whole fleet: versions per stage, lineage, drift, validation, pending approvals
    #[command(after_help = "\
Examples:
  relcon fleet
  relcon fleet --json | jq '.plants[].circuits[] | select(.drift.status == \"alert\") | .circuit_id'
  relcon --config ~/relcon-prod.toml fleet")]
    Fleet,
    /// One circuit's full evidence: versions, lineage, config diff Prod vs candidate, drift,
    /// validation, release history
    #[command(after_help = "\
Examples:
  relcon circuit PLANT007/CIRCUIT03
  relcon circuit PLANT007/CIRCUIT03 --json | jq .config_diff.semantic")]
    Circuit {
        /// PLANT001/CIRCUIT01
        circuit: String,
    },
    /// Active Azure Monitor alerts on the fleet: severity, rule, when fired, which circuit
    #[command(after_help = "\
Examples:
  relcon alerts
  relcon alerts --json | jq -r '.alerts[] | select(.severity == \"Sev1\") | .circuit'

Alerts whose condition still holds and that nobody closed, fired in the last 30 days, on the
fleet's resources: those whose plant_id and circuit_id dimensions (or target batch deployment)
name a circuit, and those on the fleet's resource groups ([incidents] alert_resource_groups
adds more), listed with \"no circuit\". Exit 4 when the alerts or the fleet could not be read.")]
    Alerts,
    /// A circuit's batch scoring jobs in Prod and Test: status, start, duration, error
    #[command(after_help = "\
Examples:
  relcon jobs PLANT007/CIRCUIT03
  relcon jobs PLANT007/CIRCUIT03 --json | jq '.prod.jobs[0]'

  relcon jobs retry PLANT015/CIRCUIT06 batchjob-5d1c... --yes --reason \"INC-4412 input landed\"

Lists every job of the circuit's deployments (what `az ml batch-deployment list-jobs` shows)
with what run history says of the newest seven of each (start, end, the error), and judges
Prod: the last run failed, or no run submitted in the last [incidents] stale_job_hours (26).
Exit 4 when a list or a run could not be read; 2 when the circuit has no deployment.
`relcon jobs retry` starts a failed job again with its inputs (see its --help).")]
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Jobs {
        /// PLANT001/CIRCUIT01
        #[arg(required = true)]
        circuit: Option<String>,
        #[command(subcommand)]
        action: Option<JobsCommand>,
    },
    /// Acknowledge, close or reopen an Azure Monitor alert (ids from `relcon alerts`)
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Pending approvals with their evidence and what policy allows you
    Approvals,
    /// Approve pending approvals (ids from `relcon approvals`)
    #[command(after_help = "\
Examples:
  relcon approve 512 --comment \"notebook reviewed, drift ok\"
  relcon approve 512 513 514 --comment \"cutoff refresh wave\"
  relcon approve 530 --comment \"hotfix\" --override-gate --reason \"INC-4411: validation job broken\"

Policy (enforced whatever the front end): you may not approve a release you requested;
Production needs [policy] prod_min_approvers distinct approvers and passing test validation for
every circuit unless --override-gate --reason (recorded as break-glass); --read-only refuses.
Azure DevOps may still refuse (its approver list, or its rule that whoever requested a release
or deployment may not approve it): its message and request id are shown, the item stays
pending, and the refusal is on the audit log.
Exit: 0 all done, 1 some refused, 3 someone else decided first, 4 the service failed (the
highest applies; every id gets its own result line).")]
    Approve {
        /// Approval ids as `relcon approvals` lists them (a number, or a YAML pipeline
        /// approval's GUID)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<ApprovalId>,
        /// Why (recorded in DevOps and the audit log)
        #[arg(long, short = 'm')]
        comment: String,
        /// Approve Production despite failing or missing test validation (break-glass)
        #[arg(long, requires = "reason")]
        override_gate: bool,
        /// Why the test gate is overridden
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject pending approvals
    Reject {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<ApprovalId>,
        #[arg(long, short = 'm')]
        comment: String,
    },
    /// Roll a circuit (or the environment) back, verified, inside the rollback budget
    #[command(after_help = "\
Examples:
  relcon rollback PLANT007/CIRCUIT03 --plan
  relcon rollback PLANT007/CIRCUIT03 --yes --wait --reason \"INC-4411 MAE alert\"
  relcon rollback PLANT007/CIRCUIT03 --to 4 --method direct --yes
  relcon rollback --environment --plan

Without --yes, the plan is printed and nothing is sent (exit 2). --wait follows the operation
to a verified restore with the SLA countdown. An unfinished rollback of the same circuit in
the journal is resumed, never sent twice.")]
    Rollback {
        /// PLANT001/CIRCUIT01
        circuit: Option<String>,
        /// Move every Prod deployment back to the previous environment version
        #[arg(long, conflicts_with = "circuit")]
        environment: bool,
        /// previous | last-good | VERSION
        #[arg(long, default_value = "last-good")]
        to: String,
        /// redeploy (an earlier release's Production stage) or direct (this deployment only);
        /// default from [policy] default_rollback_method
        #[arg(long, value_enum)]
        method: Option<MethodArg>,
        /// Show the plan and send nothing
        #[arg(long)]
        plan: bool,
        /// Execute without asking (the headless confirmation)
        #[arg(long)]
        yes: bool,
        /// Follow it to a verified restore
        #[arg(long)]
        wait: bool,
        /// Why (recorded in the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
    /// In-flight and recent operations from the journal
    Ops {
        /// Resume tracking unfinished operations until they end
        #[arg(long)]
        wait: bool,
    },
    /// Check the configuration, each credential and each service, and say how to fix problems
    Doctor,
    /// Read and check the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run the built-in fleet simulator (Azure ML, Azure DevOps and Log Analytics on loopback)
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    Redeploy,
    Direct,
    /// The rollback pipeline (YAML pipelines only).
    Pipeline,
}

const ALERT_HELP: &str = "\
Examples:
  relcon alert ack 3f2a9c1e --comment \"INC-4411: on it\"
  relcon alert close /subscriptions/.../providers/Microsoft.AlertsManagement/alerts/3f2a9c1e-... -m \"rolled back\"

ID is the alert's id as `relcon alerts` shows it, its GUID, or the first characters of the GUID
(at least 4, naming one fired alert). The alert is re-read first: already in the state asked,
nothing is sent (exit 0); acknowledging a closed alert is a conflict (exit 3). The change is
journaled and on the audit log before it is sent, sent once, and re-read after; --read-only
refuses (exit 1). The comment goes to the alert's history in Azure Monitor and to the audit
log. Exit 4 when the alert cannot be read or the change failed.";

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Acknowledge: someone is on it (it stays fired until its condition clears)
    #[command(after_help = ALERT_HELP)]
    Ack(AlertArgs),
    /// Close: dealt with
    #[command(after_help = ALERT_HELP)]
    Close(AlertArgs),
    /// Reopen: back to New
    #[command(after_help = ALERT_HELP)]
    Reopen(AlertArgs),
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Start a failed scoring job again with its inputs, and follow the new job to its end
    #[command(after_help = "\
Examples:
  relcon jobs retry PLANT015/CIRCUIT06 batchjob-5d1c0b7e-... --yes
  relcon jobs retry PLANT015/CIRCUIT06 batchjob-5d1c0b7e-... --stage test

Only a failed, canceled or unresponsive job whose inputs Azure ML gives back is retried (a
completed or running one is a conflict, exit 3). The failed job is re-read, the retry is
journaled and on the audit log before the POST on the endpoint's scoring URI, with the new
job's name chosen beforehand, so a lost answer is settled by looking for that job, never by
sending twice. The new job is followed until it ends ([incidents] retry_follow_minutes).
Without --yes the retry is shown and nothing is sent (exit 2); in Test, at a terminal, relcon
asks instead. --read-only refuses. Exit 0 the new job completed, 1 refused, 2 no such job,
3 not a failed job, 4 failed (or the new job failed too).")]
    Retry {
        /// PLANT001/CIRCUIT01
        circuit: String,
        /// The failed job's name (`relcon jobs PLANT/CIRCUIT` lists them)
        job: String,
        /// The deployment's stage
        #[arg(long, value_enum, default_value = "prod")]
        stage: StageArg,
        /// Send without asking (the headless confirmation)
        #[arg(long)]
        yes: bool,
        /// Why (recorded in the audit log)
        #[arg(long, short = 'm')]
        reason: Option<String>,
    },
}

/// A stage with batch deployments.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StageArg {
    Prod,
    Test,
}

#[derive(Debug, Args)]
pub struct AlertArgs {
    /// The alert's id, GUID, or the start of its GUID
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (kept in the alert's history and the audit log)
    #[arg(long, short = 'm')]
    pub comment: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print audit entries, oldest first
    #[command(after_help = "\
Examples:
  relcon audit show
  relcon audit show --since 2h
  relcon audit show --since 2026-11-01 --json")]
    Show {
        /// Only entries since this time: an age (90m, 2h, 3d), a date or an RFC 3339 time
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
    },
    /// Check that no entry was edited, removed or reordered (exit 1 naming the first bad one)
    Verify,
}

#[derive(Debug, Args)]
pub struct HashArgs {
    /// Circuit config files, or master lists (every circuit in them is hashed)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old config (a file, or master.yaml#PLANT001/CIRCUIT01)
    pub old: String,
    /// The new config
    pub new: String,
    /// Show the text diff in two columns
    #[arg(long, short = 's')]
    pub side_by_side: bool,
    /// Lines of context around each change
    #[arg(long, short = 'U', default_value_t = 3, value_name = "N")]
    pub context: usize,
}

#[derive(Debug, Subcommand)]
pub enum ConfigsCommand {
    /// Validate a fleet of configs: ids, required fields, types, duplicates, naming templates
    #[command(after_help = "\
PATH is a master list, a per-circuit file, a directory of {PLANT}_{CIRCUIT}.yaml files, or a
directory with circuits.yaml (whose generated circuits/ files, if present, must match it).
Default: configs/fleet.

Examples:
  relcon configs check
  relcon configs check configs/fleet/circuits.yaml
  relcon configs check --json ../forecast-config/config/circuits

Exit status: 0 clean, 1 problems found, 2 PATH cannot be read.")]
    Check {
        /// Fleet to check (default: configs/fleet)
        path: Option<PathBuf>,
    },
}

/// Parse the command line, run, and map the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            // Scripts asked for JSON: the usage error is a document too.
            if code == Exit::Usage && std::env::args().any(|a| a == "--json") {
                // clap's first paragraph, on one line: "the following required arguments
                // were not provided: <CIRCUIT>".
                let rendered = e.render().to_string();
                let message = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ");
                let message = message.strip_prefix("error: ").unwrap_or(&message);
                output::print_error_document("", code, &[message.to_owned()]);
            }
            return code.into();
        }
    };
    logging::init(cli.global.state_dir.as_deref(), cli.global.verbose);
    output::begin(cli.global.json, command_name(cli.command.as_ref()));
    let exit = run(cli);
    output::finish(exit).into()
}

/// The `command` of a JSON document: the subcommand as typed (`audit show`, `sim serve`).
fn command_name(c: Option<&Command>) -> &'static str {
    match c {
        Some(Command::Hash(_)) => "hash",
        Some(Command::Diff(_)) => "diff",
        Some(Command::Configs(ConfigsCommand::Check { .. })) => "configs check",
        Some(Command::Fleet) => "fleet",
        Some(Command::Circuit { .. }) => "circuit",
        Some(Command::Approvals) => "approvals",
        Some(Command::Alert(AlertCommand::Ack(_))) => "alert ack",
        Some(Command::Alert(AlertCommand::Close(_))) => "alert close",
        Some(Command::Alert(AlertCommand::Reopen(_))) => "alert reopen",
        Some(Command::Alerts) => "alerts",
        Some(Command::Jobs {
            action: Some(JobsCommand::Retry { .. }),
            ..
        }) => "jobs retry",
        Some(Command::Jobs { .. }) => "jobs",
        Some(Command::Approve { .. }) => "approve",
        Some(Command::Reject { .. }) => "reject",
        Some(Command::Rollback { .. }) => "rollback",
        Some(Command::Ops { .. }) => "ops",
        Some(Command::Doctor) => "doctor",
        Some(Command::Audit(AuditCommand::Show { .. })) => "audit show",
        Some(Command::Audit(AuditCommand::Verify)) => "audit verify",
        Some(Command::Sim(_)) => "sim serve",
        None => "console",
    }
}

fn run(cli: Cli) -> Exit {
    let g = &cli.global;
    match cli.command {
        Some(Command::Hash(a)) => config_cmds::hash(g, &a),
        Some(Command::Diff(a)) => config_cmds::diff(g, &a),
        Some(Command::Configs(ConfigsCommand::Check { path })) => config_cmds::check(g, path),
        Some(Command::Fleet) => read_cmds::fleet(g),
        Some(Command::Circuit { circuit }) => read_cmds::circuit(g, &circuit),
        Some(Command::Approvals) => read_cmds::approvals(g),
        Some(Command::Alerts) => incident_cmds::alerts(g),
        Some(Command::Jobs {
            action:
                Some(JobsCommand::Retry {
                    circuit,
                    job,
                    stage,
                    yes,
                    reason,
                }),
            ..
        }) => job_cmds::retry_job(
            g,
            job_cmds::RetryArgs {
                circuit: &circuit,
                job: &job,
                stage: match stage {
                    StageArg::Prod => crate::domain::Stage::Prod,
                    StageArg::Test => crate::domain::Stage::Test,
                },
                yes,
                reason,
            },
        ),
        Some(Command::Jobs { circuit, .. }) => {
            incident_cmds::jobs(g, circuit.as_deref().unwrap_or_default())
        }
        Some(Command::Alert(cmd)) => {
            use crate::domain::incidents::AlertState;
            let (a, to) = match cmd {
                AlertCommand::Ack(a) => (a, AlertState::Acknowledged),
                AlertCommand::Close(a) => (a, AlertState::Closed),
                AlertCommand::Reopen(a) => (a, AlertState::New),
            };
            alert_cmds::change_state(g, &a.id, to, a.comment)
        }
        Some(Command::Approve {
            ids,
            comment,
            override_gate,
            reason,
        }) => action_cmds::decide_all(
            g,
            crate::service::decide::Verdict::Approve,
            &ids,
            &comment,
            if override_gate { reason } else { None },
        ),
        Some(Command::Reject { ids, comment }) => action_cmds::decide_all(
            g,
            crate::service::decide::Verdict::Reject,
            &ids,
            &comment,
            None,
        ),
        Some(Command::Rollback {
            circuit,
            environment,
            to,
            method,
            plan,
            yes,
            wait,
            reason,
        }) => action_cmds::rollback(
            g,
            action_cmds::RollbackArgs {
                circuit: circuit.as_deref(),
                environment,
                to: &to,
                method: method.map(|m| match m {
                    MethodArg::Redeploy => crate::domain::rollback::RollbackMethod::Redeploy,
                    MethodArg::Direct => crate::domain::rollback::RollbackMethod::Direct,
                    MethodArg::Pipeline => crate::domain::rollback::RollbackMethod::Pipeline,
                }),
                plan_only: plan,
                yes,
                wait,
                reason,
            },
        ),
        Some(Command::Ops { wait }) => action_cmds::ops(g, wait),
        Some(Command::Doctor) => doctor::doctor(g),
        Some(Command::Audit(AuditCommand::Show { since })) => audit_cmd::show(g, since.as_deref()),
        Some(Command::Audit(AuditCommand::Verify)) => audit_cmd::verify(g),
        Some(Command::Sim(cmd)) => sim_cmd::run(g, cmd),
        None => console::console(g),
    }
}

/// The configuration: `--config FILE` (which must exist), else the default file when there is
/// one, else none (the built-in simulator).
pub(crate) fn load_settings(
    g: &Global,
) -> Result<Option<crate::settings::Settings>, crate::settings::SettingsError> {
    use crate::settings::Settings;
    match &g.config {
        Some(path) => Settings::load(path).map(Some),
        None => match Settings::default_path().filter(|p| p.is_file()) {
            Some(path) => Settings::load(&path).map(Some),
            None => Ok(None),
        },
    }
}

/// Print an error for the user: one line, no backtrace (and, with `--json`, kept for the
/// error document).
pub(crate) fn fail(exit: Exit, message: impl std::fmt::Display) -> Exit {
    let message = crate::redact::redact(&message.to_string());
    eprintln!("relcon: {message}");
    output::record_error(&message);
    exit
}

/// Print a command's JSON document on stdout: the object `v`, with `schema_version` and
/// `command` (docs/JSON.md).
pub(crate) fn print_json(v: &impl serde::Serialize) -> Exit {
    let doc = match serde_json::to_value(v) {
        Ok(v) => output::document(v),
        Err(e) => return fail(Exit::Service, format!("cannot encode JSON: {e}")),
    };
    let Some(doc) = doc else {
        return fail(
            Exit::Service,
            "cannot encode JSON: a document must be an object",
        );
    };
    match serde_json::to_string_pretty(&doc) {
        Ok(s) => {
            println!("{s}");
            output::printed();
            Exit::Ok
        }
        Err(e) => fail(Exit::Service, format!("cannot encode JSON: {e}")),
    }
}

/// Print a document that names its own `schema_version` and `command` (keys in the order
/// `print_json` gives them), streamed to stdout as it is serialized: for documents that grow
/// with the fleet (`fleet --json`). `Err` with the exit when stdout cannot take it.
pub(crate) fn print_document(doc: &impl serde::Serialize) -> Result<(), Exit> {
    let stdout = std::io::stdout();
    match fleet_doc::write_pretty(stdout.lock(), doc) {
        Ok(()) => {
            output::printed();
            Ok(())
        }
        Err(e) => Err(fail(Exit::Service, format!("cannot write JSON: {e}"))),
    }
}
