//! The integration tests as one test binary. Each file here was its own binary once; linking
//! this dependency stack took a few seconds per binary, so a one-line change rebuilt 28
//! executables. Modules keep their names (insta snapshots are `suite__<module>__<name>`);
//! `tests/common` (a scripted fake of Azure) and `tests/support` (a `relcon sim serve`
//! process) are shared. A test that sets a process environment variable lives in a binary of
//! its own (`tests/azure_pat.rs`, `tests/logging.rs`): setting one races other threads.

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/mod.rs"]
mod support;

mod alert_examples;
mod azure_client;
mod azure_examples;
mod azure_faults;
mod cli_config;
mod contract;
mod contract_yaml_sim;
mod devops_refusal;
mod hash_properties;
mod incident_actions;
mod incidents;
mod job_retry;
mod json_contract;
mod monitoring;
mod pyjson_props;
mod read_deadline;
mod read_path;
mod record_first;
mod sign_in_timeouts;
mod sim_cli;
mod sim_http;
mod snapshot_cache;
mod training_hash_vectors;
mod tui_e2e;
mod tui_journey;
mod tui_write_journey;
mod write_path;
mod yaml11_cases;
mod yaml_client;
mod yaml_display;
mod yaml_errors;
mod yaml_served;
