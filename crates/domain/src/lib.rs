//! The pure core: ids, stages, versions, circuit configs read the way the pipeline reads them,
//! the training hash, config diffs, drift and validation rules. Nothing here does IO.
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod changes;
pub mod clock;
pub mod config;
pub mod diff;
pub mod drift;
pub mod fleet;
pub mod hash;
pub mod ids;
pub mod incidents;
pub mod job_retry;
pub mod model_tags;
pub mod naming;
pub mod platform;
pub mod policy;
pub mod pyjson;
pub mod release_ids;
pub mod rollback;
pub mod shared_name;
pub mod stage;
pub mod status;
pub mod thresholds;
pub mod validation;
pub mod version;
pub mod watch;
pub mod yaml;

pub use ids::{CircuitId, CircuitRef, IdError, PlantId};
pub use stage::Stage;
pub use status::Status;
pub use thresholds::Thresholds;
pub use version::{DataVersion, EnvVersion, EnvironmentChange, ModelVersion};
