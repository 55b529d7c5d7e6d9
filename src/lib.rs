//! relcon: a terminal release console for a fleet of per-circuit forecasting models that run as
//! Azure Machine Learning batch deployments and ship through Azure DevOps releases.
//!
//! Layers (DESIGN.md section 4); arrows are the only allowed imports:
//! `cli`/`tui` -> `service` -> `domain`, and `service` -> `backend` <- `azure` / `sim`.
//! `domain` is pure: no IO, no tokio.
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod audit;
pub mod azure;
pub mod cli;
pub mod domain;
pub mod private_files;
pub mod redact;
pub mod service;
pub mod settings;
pub mod sim;
pub mod tui;
