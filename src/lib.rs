//! relcon: a terminal release console for a fleet of per-circuit forecasting models that run as
//! Azure Machine Learning batch deployments and ship through Azure DevOps releases.
//!
//! Layers (DESIGN.md section 4); arrows are the only allowed imports:
//! `cli`/`tui` -> `service` -> `domain`, and `service` -> `backend` <- `azure` / `sim`.
//! `domain` is pure: no IO, no tokio.
#![forbid(unsafe_code)]

pub mod audit;
pub mod azure;
pub mod cli;
pub mod domain;
pub mod service;
pub mod settings;
pub mod sim;
pub mod tui;
