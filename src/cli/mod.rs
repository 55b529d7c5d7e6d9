//! The command line: clap commands that call `service`. Every TUI action exists here too, with
//! human output by default, `--json` for scripts, and documented exit codes.

mod audit_cmd;
mod config_cmds;
mod paint;
mod sim_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
Exit codes: 0 done, 1 refused by policy (diff: configs differ; checks: problems found),
2 usage or input error, 3 conflict (someone else decided), 4 the service failed.

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
    /// Where the operation journal and the audit log live (default: $XDG_STATE_HOME/relcon)
    #[arg(long, global = true, value_name = "DIR", env = "RELCON_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
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
reads, bit-identical to the training pipeline.")]
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
    /// Read and check the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run the built-in fleet simulator (Azure ML, Azure DevOps and Log Analytics on loopback)
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
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
            return code.into();
        }
    };
    run(cli).into()
}

fn run(cli: Cli) -> Exit {
    let g = &cli.global;
    match cli.command {
        Some(Command::Hash(a)) => config_cmds::hash(g, &a),
        Some(Command::Diff(a)) => config_cmds::diff(g, &a),
        Some(Command::Configs(ConfigsCommand::Check { path })) => config_cmds::check(g, path),
        Some(Command::Audit(AuditCommand::Show { since })) => audit_cmd::show(g, since.as_deref()),
        Some(Command::Audit(AuditCommand::Verify)) => audit_cmd::verify(g),
        Some(Command::Sim(cmd)) => sim_cmd::run(g, cmd),
        None => {
            eprintln!("relcon: the console is not built yet; try `relcon --help`");
            Exit::Usage
        }
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

/// Print an error for the user: one line, no backtrace.
pub(crate) fn fail(exit: Exit, message: impl std::fmt::Display) -> Exit {
    eprintln!("relcon: {message}");
    exit
}

/// Print a value as pretty JSON on stdout.
pub(crate) fn print_json(v: &impl serde::Serialize) -> Exit {
    match serde_json::to_string_pretty(v) {
        Ok(s) => {
            println!("{s}");
            Exit::Ok
        }
        Err(e) => fail(Exit::Service, format!("cannot encode JSON: {e}")),
    }
}
