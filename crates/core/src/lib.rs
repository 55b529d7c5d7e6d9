//! relcon's use cases, between the pure domain and the adapters: the session (the one
//! composition root), the refresh, decisions, rollback and its tracking, the operation journal,
//! the audit log, the snapshot cache, the settings file, and the ports the adapters implement
//! (`service::backend::Backend`). Nothing here knows a terminal or HTTP exists.
#![forbid(unsafe_code)]
// Whatever a user, a file or a server controls is handled, never unwrapped: library code may
// not unwrap or expect at all (tests may; they are compiled with `cfg(test)`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

/// The pure domain, re-exported: `relcon_core::domain` is `relcon_domain`.
pub use relcon_domain as domain;

pub mod audit;
pub mod private_files;
pub mod redact;
pub mod release_flavor;
pub mod service;
pub mod settings;
