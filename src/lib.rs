//! relcon: a terminal release console for a fleet of per-circuit forecasting models that run as
//! Azure Machine Learning batch deployments and ship through Azure DevOps releases.
//!
//! This crate is the binary's library: the command line (`cli`) and the names of the layers,
//! each a crate of the workspace (ARCHITECTURE.md). Arrows are the only imports the compiler
//! allows: `relcon` (cli) -> `relcon-console` -> `relcon-core` -> `relcon-domain`, and
//! `relcon-azure` / `relcon-sim` -> `relcon-core` (the `Backend` port they implement).
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub use relcon_azure as azure;
pub use relcon_console as tui;
pub use relcon_core::{audit, private_files, redact, service, settings};
pub use relcon_domain as domain;
pub use relcon_sim as sim;

pub mod cli;
