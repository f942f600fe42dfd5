//! `pulse-agent`: a lean agent that collects Linux host metrics and Docker containers and
//! pushes them to a Pulse server in the upstream agent wire format.
//!
//! The library holds everything so integration tests can drive the pieces directly; the binary
//! in `main.rs` only parses arguments and maps outcomes to exit codes.
//!
//! - [`cli`] turns arguments and environment into a [`cli::Config`].
//! - [`host`] reads `/proc`, `/sys` and `statfs` under a configurable root.
//! - [`docker`] talks to the Docker Engine API over its unix socket.
//! - [`report`] holds the JSON wire types.
//! - [`send`] compresses and POSTs reports.
//! - [`run`] is the collect → send loop with jitter and backoff.
//! - [`signal`] turns SIGTERM/SIGINT into a flag the loop polls.
//! - [`time`] formats and parses RFC 3339 timestamps.

pub mod cli;
pub mod docker;
pub mod host;
pub mod report;
pub mod run;
pub mod send;
pub mod signal;
pub mod time;

/// Agent version, sent in reports and in the `User-Agent` header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
