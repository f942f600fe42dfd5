//! Pulse: a self-hosted, real-time infrastructure monitoring server.
//!
//! The crate is organised as ARCHITECTURE.md describes: pure cores (`pulse-model`, later `alerts`)
//! with I/O at the edges (`store`, `http`, `sources`), wired together by the actors in `monitor`.

pub mod allocator;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod history;
pub mod http;
pub mod monitor;
pub mod notify;
pub mod sim;
pub mod sources;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};
pub use pulse_model as model;

/// The server version reported by `/api/version` and the agent replies.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
