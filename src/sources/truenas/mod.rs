//! TrueNAS SCALE/CORE: the client and the normaliser (reference/platforms.md §4, SPEC §7).
//!
//! Layers, each usable alone:
//! - [`settings`]: connection id, endpoint (plain HTTP refused), credentials, TLS mode;
//! - [`rpc`] and [`ws`]: JSON-RPC 2.0 over a WebSocket at `/api/current` (ids, response
//!   matching, notifications skipped, errors surfaced); [`rest`]: the legacy `/api/v2.0` API;
//! - [`negotiate`]: which transport an appliance gets (REST only for legacy releases);
//! - [`client`]: one connection — negotiation, login, the session kept open between polls,
//!   reconnects with backoff, [`test_connection`];
//! - [`types`], [`decode`], [`snapshots`]: tolerant wire shapes (snapshots folded per dataset);
//! - [`poll`]: every method of one poll, each failure its own;
//! - [`health`] and [`normalise`]: the §4.4 mapping and the poll → [`pulse_model::SourceSnapshot`].
//!
//! The collector actor owns a [`TruenasClient`] per connection and calls
//! [`TruenasClient::poll`] then [`normalise_truenas`] once per interval.

pub mod client;
pub mod decode;
pub mod error;
pub mod health;
pub mod negotiate;
pub mod normalise;
pub mod poll;
pub mod rest;
pub mod rpc;
pub mod settings;
pub mod snapshots;
pub mod types;
pub mod ws;

pub use client::{test_connection, ConnectionSummary, TransportStatus, TruenasClient};
pub use error::TruenasError;
pub use negotiate::TransportMode;
pub use normalise::{normalise_truenas, system_source_id};
pub use poll::{MethodFailure, TruenasPoll};
pub use settings::{TruenasAuth, TruenasEndpoint, TruenasSettings};
